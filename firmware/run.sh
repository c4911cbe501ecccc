#!/usr/bin/env bash
# Builds the firmware in release mode for each emulated Cortex-M machine,
# runs it under QEMU with a timeout, and prints the checks, the flash and
# static RAM sizes and the stack high-water mark. Exits non-zero if any
# build or run fails.
#
#   firmware/run.sh                  # both machines
#   firmware/run.sh lm3s6965evb      # one of: lm3s6965evb mps2-an386
#
# Installs what is missing: the two Rust targets and llvm-tools (rustup),
# qemu-system-arm (apt-get, as root or through sudo). Environment:
# CARGO_TARGET_DIR (default firmware/target), QEMU_TIMEOUT (seconds per
# run, default 120).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
timeout_s="${QEMU_TIMEOUT:-120}"
start=$SECONDS

# machine -> "target cpu"
declare -A spec=(
  [lm3s6965evb]="thumbv7m-none-eabi cortex-m3"
  [mps2-an386]="thumbv7em-none-eabihf cortex-m4"
)
machines=("$@")
[ ${#machines[@]} -gt 0 ] || machines=(lm3s6965evb mps2-an386)
for m in "${machines[@]}"; do
  [ -n "${spec[$m]:-}" ] || { echo "unknown machine $m (lm3s6965evb, mps2-an386)" >&2; exit 2; }
done

# ------------------------------------------------------------ installs

install_rust_parts() {
  local installed
  installed="$(rustup target list --installed)"
  for m in "${machines[@]}"; do
    local target="${spec[$m]%% *}"
    grep -qx "$target" <<<"$installed" || rustup target add "$target"
  done
  rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
}

install_qemu() {
  command -v qemu-system-arm >/dev/null && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq qemu-system-arm >/dev/null
}

install_rust_parts
install_qemu
host="$(rustc -vV | sed -n 's/^host: //p')"
llvm_size="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-size"

# --------------------------------------------------------- one machine

# Prints "name size" for the ELF's allocated sections.
sections() {
  "$llvm_size" -A "$1" | awk '$1 ~ /^\./ { print $1, $2 }'
}

# Prints flash and static RAM of the ELF.
print_sizes() {
  local elf="$1"
  local -A s=()
  while read -r name size; do s[$name]=$size; done < <(sections "$elf")
  local text=${s[.text]:-0} rodata=${s[.rodata]:-0} data=${s[.data]:-0}
  local bss=${s[.bss]:-0} vt=${s[.vector_table]:-0}
  echo "flash      .text + .rodata = $text + $rodata = $((text + rodata)) bytes" \
       "(whole image with .vector_table and .data: $((vt + text + rodata + data)))"
  echo "static RAM .data + .bss    = $data + $bss = $((data + bss)) bytes"
}

# Builds, runs and measures the firmware of machine $1; returns non-zero
# on any failure.
run_machine() {
  local m="$1" target cpu
  read -r target cpu <<<"${spec[$m]}"
  echo "=== $m ($cpu, $target)"
  # (set -e does not apply inside a function called with ||: check each step.)
  cargo build --release --locked --target "$target" || { echo "FAILED: $m build"; return 1; }
  local elf="$CARGO_TARGET_DIR/$target/release/gramkit-firmware"
  local log="$CARGO_TARGET_DIR/$target/release/qemu-$m.log"
  local status=0
  timeout "$timeout_s" qemu-system-arm -cpu "$cpu" -machine "$m" -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf" >"$log" 2>&1 || status=$?
  # QEMU's lm3s6965evb model prints this harmless note about an unused timer.
  grep -v '^Timer with period zero' "$log" || true
  print_sizes "$elf"
  if [ "$status" -eq 124 ]; then
    echo "FAILED: $m timed out after ${timeout_s}s"; return 1
  elif [ "$status" -ne 0 ]; then
    echo "FAILED: $m exited with status $status"; return 1
  elif ! grep -q '^[0-9]* passed, 0 failed$' "$log"; then
    echo "FAILED: $m exited 0 without a clean summary line"; return 1
  fi
  echo "=== $m: all checks passed"
}

failed=()
for m in "${machines[@]}"; do
  run_machine "$m" || failed+=("$m")
  echo
done
echo "run.sh took $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED on: ${failed[*]}"
  exit 1
fi
echo "all machines passed"
