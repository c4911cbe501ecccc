#!/usr/bin/env bash
# Runs every fuzz target for N seconds (default 30) on nightly, starting
# from its committed corpus; exits non-zero on the first crash.
# Usage: fuzz/smoke.sh [seconds]   (from anywhere)
# Builds go to $CARGO_TARGET_DIR (default /tmp/tgt-fuzz); new corpus
# entries go to a scratch directory, so the committed corpus is not touched.
set -euo pipefail
secs="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/tgt-fuzz}"
targets=(cholesky eigen kron nystrom fair)

cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz
cd "$root"
cargo +nightly fuzz build --fuzz-dir fuzz
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    echo "== $t: ${secs}s"
    log="$scratch/$t.log"
    if ! cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "smoke: target $t crashed; reproducer under fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$log"
done
echo "smoke: all ${#targets[@]} targets ran ${secs}s each without a crash"
