//! What the command-line examples share: the `main` skeleton (flags, help,
//! exit status). Not an example itself (cargo builds only the files
//! directly under `examples/`).

use std::process::ExitCode;

/// Parses the arguments with `parse` (`Ok(None)` for `--help`), then calls
/// `run`. Exit status: 0 on success or help, 2 for bad flags (with the
/// usage text), 1 when `run` fails.
pub fn cli_main<A, E: std::fmt::Display>(
    usage: &str,
    parse: impl FnOnce(std::env::Args) -> Result<Option<A>, String>,
    run: impl FnOnce(&A) -> Result<(), E>,
) -> ExitCode {
    let mut argv = std::env::args();
    argv.next();
    let args = match parse(argv) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{usage}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
