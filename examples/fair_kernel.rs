//! `fair_kernel`: the fair null-space projection of a kernel matrix as a
//! command-line tool, for users of other languages. Reads the kernel `K`
//! and the protected attributes `A` from CSV files, writes the transformed
//! kernel `K_k` (and transformed rows and `k(x, x)` values of new points)
//! as CSV with full precision, and prints `iterations = <applied>`.
//!
//! ```text
//! cargo run --release --example fair_kernel -- --help
//! cargo run --release --example fair_kernel -- --kernel K.csv --protected A.csv \
//!     --lambda 1e-2 --iterations 4 --out Kk.csv \
//!     [--nystrom 100] [--test-kernel Kt.csv --out-test Kt_k.csv] \
//!     [--test-diag kxx.csv --out-test-diag kxx_k.csv]
//! ```
//!
//! The logic lives in `gramkit::host::run_fair_kernel_tool` (tested there);
//! this binary prints its errors and sets the exit status: 0 on success, 1
//! for a bad input file or a failed computation, 2 for bad arguments.

use gramkit::host::run_fair_kernel_tool;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut stdout = std::io::stdout().lock();
    match run_fair_kernel_tool(&args, &mut stdout) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fair_kernel: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
