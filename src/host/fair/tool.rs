//! The `fair_kernel` command-line tool as a library function, so that the
//! example binary stays a thin wrapper and tests can run it end to end.

use super::FairKernel;
use crate::error::Error;
use crate::fair::FairReport;
use crate::host::csv::{CsvError, CsvProblem, CsvTable, Header, io_message, write_csv};
use crate::host::matrix::Matrix;
use core::fmt;
use std::borrow::ToOwned;
use std::format;
use std::io::Write;
use std::string::String;
use std::vec::Vec;

/// The `--help` text of [`run_fair_kernel_tool`].
pub const FAIR_KERNEL_USAGE: &str = "\
usage: fair_kernel --kernel FILE --protected FILE --lambda L --iterations K --out FILE
                   [--nystrom M] [--test-kernel FILE --out-test FILE]
                   [--test-diag FILE --out-test-diag FILE]

Fair null-space projection of a kernel matrix (gramkit): removes from the
kernel K what predicts the protected attributes A, K_k = Z_k K Z_k^T, and
transforms new points consistently. Any kernel method trained on K_k (kernel
ridge regression, SVR, GPs) becomes fairer with respect to A.

Files are CSV: comma-separated numbers, no header, one row per line (blank
lines and lines starting with # are skipped).

required:
  --kernel FILE          K, n x n, symmetric positive semi-definite
  --protected FILE       A, n x p: one row per training point, p >= 1 attributes
  --lambda L             ridge of the projection, > 0 (smaller removes more;
                         relative to the kernel's scale, e.g. 1e-2 for an RBF kernel)
  --iterations K         iterations k >= 0 (fewer are applied when nothing
                         predictive of A is left)
  --out FILE             writes K_k (n x n) with full precision

optional:
  --nystrom M            Nystroem mode with M landmarks (1 <= M <= n) chosen
                         greedily: O(n M^2 + k p n M) instead of O(n^3 + k p n^2);
                         K_k is then the transform of the Nystroem approximation
  --test-kernel FILE     kernel rows of t new points against the n training
                         points (t x n); needs --out-test
  --out-test FILE        writes the transformed rows k_x Z_k^T (t x n); in
                         Nystroem mode the rows are first mapped to the
                         Nystroem approximation, consistent with K_k
  --test-diag FILE       k(x, x) of the t new points (t values, one per line);
                         needs --test-kernel and --out-test-diag
  --out-test-diag FILE   writes the transformed k(x, x) (t values, one per line)
  -h, --help             prints this text

Prints `iterations = <applied>` on its own line. Exit status 0 on success,
1 for a bad input file or a failed computation, 2 for bad arguments.
";

/// Why [`run_fair_kernel_tool`] failed; `Display` is the message to print.
#[derive(Debug)]
pub enum FairToolError {
    /// Bad command-line arguments (exit status 2).
    Usage(String),
    /// A bad input file, or an output file that cannot be written (exit
    /// status 1).
    File(CsvError),
    /// The transform itself failed (exit status 1).
    Compute(Error),
}

impl FairToolError {
    /// The process exit status for this error: 2 for usage, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            FairToolError::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for FairToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FairToolError::Usage(msg) => write!(f, "{msg} (run with --help for usage)"),
            FairToolError::File(e) => write!(f, "{e}"),
            FairToolError::Compute(e) => write!(f, "the fair transform failed: {e}"),
        }
    }
}

impl std::error::Error for FairToolError {}

impl From<CsvError> for FairToolError {
    fn from(e: CsvError) -> Self {
        FairToolError::File(e)
    }
}

impl From<Error> for FairToolError {
    fn from(e: Error) -> Self {
        FairToolError::Compute(e)
    }
}

/// What a successful run did.
#[derive(Clone, Debug, PartialEq)]
pub struct FairToolSummary {
    /// Training points `n`.
    pub n: usize,
    /// Protected attributes `p`.
    pub p: usize,
    /// New points transformed (`t`), if any.
    pub new_points: Option<usize>,
    /// Iterations asked for.
    pub requested: usize,
    /// The transform's report (`applied` iterations, rank, ...).
    pub report: FairReport<f64>,
}

/// The parsed command line.
#[derive(Default)]
struct Args {
    kernel: Option<String>,
    protected: Option<String>,
    lambda: Option<f64>,
    iterations: Option<usize>,
    nystrom: Option<usize>,
    out: Option<String>,
    test_kernel: Option<String>,
    out_test: Option<String>,
    test_diag: Option<String>,
    out_test_diag: Option<String>,
}

/// Runs the `fair_kernel` tool on `args` (without the program name),
/// writing its report lines to `out`: reads the files, runs
/// [`FairKernel`], writes the outputs. Returns `Ok(None)` after printing
/// the usage for `--help`. Cost: that of the transform plus reading and
/// writing `O(n^2 + t n)` numbers.
///
/// # Errors
/// [`FairToolError::Usage`] for unknown, missing, repeated or
/// inconsistent options; [`FairToolError::File`] naming the file, the line
/// and the problem for a bad input (not a number, ragged rows, wrong
/// count, non-finite value, asymmetric kernel) or an unwritable output;
/// [`FairToolError::Compute`] if the transform fails.
pub fn run_fair_kernel_tool(
    args: &[String],
    out: &mut dyn Write,
) -> Result<Option<FairToolSummary>, FairToolError> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        say(out, FAIR_KERNEL_USAGE.trim_end())?;
        return Ok(None);
    }
    let args = parse_args(args)?;
    let kernel_file = required(&args.kernel, "--kernel")?;
    let protected_file = required(&args.protected, "--protected")?;
    let lambda = args
        .lambda
        .ok_or_else(|| usage("missing required option --lambda"))?;
    let requested = args
        .iterations
        .ok_or_else(|| usage("missing required option --iterations"))?;
    let out_file = required(&args.out, "--out")?;
    check_test_options(&args)?;

    let kernel = read_kernel(kernel_file)?;
    let n = kernel.nrows();
    let protected = read_protected(protected_file, n)?;
    let mut builder = FairKernel::new(lambda, requested);
    if let Some(m) = args.nystrom {
        if m > n {
            let msg = format!("--nystrom {m} exceeds the number of training points n = {n}");
            return Err(usage(&msg));
        }
        builder = builder.nystrom(m);
    }
    let test = match &args.test_kernel {
        Some(file) => Some(read_test_kernel(file, n)?),
        None => None,
    };
    let diag = match (&args.test_diag, &test) {
        (Some(file), Some(t)) => Some(read_test_diag(file, t.nrows())?),
        _ => None,
    };

    let fit = builder.fit(&kernel, &protected)?;
    let report = fit.report();
    say(out, &format!("iterations = {}", report.applied))?;
    if report.applied < requested {
        let note = format!(
            "note: stopped after {} of {requested} iterations: nothing predictive of the protected attributes is left",
            report.applied
        );
        say(out, &note)?;
    }
    if let Some(kk) = fit.kernel() {
        write_csv(out_file, kk.view())?;
        say(out, &format!("wrote K_k ({n} x {n}) to {out_file}"))?;
    }
    let new_points = test.as_ref().map(Matrix::nrows);
    if let Some(cross) = &test {
        write_test_outputs(&fit, cross, diag.as_deref(), &args, out)?;
    }
    Ok(Some(FairToolSummary {
        n,
        p: protected.ncols(),
        new_points,
        requested,
        report,
    }))
}

/// Transforms the new points and writes `--out-test` (and
/// `--out-test-diag`).
fn write_test_outputs(
    fit: &super::FairKernelFit<f64>,
    cross: &Matrix<f64>,
    diag: Option<&[f64]>,
    args: &Args,
    out: &mut dyn Write,
) -> Result<(), FairToolError> {
    let t = cross.nrows();
    let out_test = required(&args.out_test, "--out-test")?;
    let (rows, new_diag) = match diag {
        Some(d) => {
            let (rows, d) = fit.transform_rows_with_diag(cross, d)?;
            (rows, Some(d))
        }
        None => (fit.transform_rows(cross)?, None),
    };
    write_csv(out_test, rows.view())?;
    say(
        out,
        &format!("wrote {t} transformed test rows to {out_test}"),
    )?;
    if let Some(d) = new_diag {
        let file = required(&args.out_test_diag, "--out-test-diag")?;
        write_csv(file, Matrix::from_row_major(t, 1, d)?.view())?;
        say(
            out,
            &format!("wrote {t} transformed k(x, x) values to {file}"),
        )?;
    }
    Ok(())
}

/// Writes one line to the report stream.
fn say(out: &mut dyn Write, line: &str) -> Result<(), FairToolError> {
    writeln!(out, "{line}").map_err(|e| {
        let problem = CsvProblem::Io(format!("cannot write: {}", io_message(&e)));
        FairToolError::File(CsvError::new("standard output", None, problem))
    })
}

fn usage(msg: &str) -> FairToolError {
    FairToolError::Usage(msg.to_owned())
}

fn required<'a>(v: &'a Option<String>, flag: &str) -> Result<&'a str, FairToolError> {
    v.as_deref()
        .ok_or_else(|| usage(&format!("missing required option {flag}")))
}

/// Splits `--flag value` and `--flag=value` pairs into [`Args`].
fn parse_args(args: &[String]) -> Result<Args, FairToolError> {
    let mut parsed = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        if !flag.starts_with("--") {
            return Err(usage(&format!("unexpected argument `{arg}`")));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| usage(&format!("option {flag} needs a value")))?,
        };
        set_option(&mut parsed, flag, value)?;
    }
    Ok(parsed)
}

/// Stores one option's value, refusing repeats.
fn set_option(a: &mut Args, flag: &str, value: String) -> Result<(), FairToolError> {
    fn once<V>(slot: &mut Option<V>, flag: &str, v: V) -> Result<(), FairToolError> {
        if slot.is_some() {
            return Err(usage(&format!("option {flag} given twice")));
        }
        *slot = Some(v);
        Ok(())
    }
    match flag {
        "--kernel" => once(&mut a.kernel, flag, value),
        "--protected" => once(&mut a.protected, flag, value),
        "--lambda" => once(&mut a.lambda, flag, parse_lambda(&value)?),
        "--iterations" => once(&mut a.iterations, flag, parse_count(flag, &value, 0)?),
        "--nystrom" => once(&mut a.nystrom, flag, parse_count(flag, &value, 1)?),
        "--out" => once(&mut a.out, flag, value),
        "--test-kernel" => once(&mut a.test_kernel, flag, value),
        "--out-test" => once(&mut a.out_test, flag, value),
        "--test-diag" => once(&mut a.test_diag, flag, value),
        "--out-test-diag" => once(&mut a.out_test_diag, flag, value),
        _ => Err(usage(&format!("unknown option {flag}"))),
    }
}

fn parse_lambda(value: &str) -> Result<f64, FairToolError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        Ok(_) => Err(usage(&format!(
            "--lambda must be positive and finite, got `{value}`"
        ))),
        Err(_) => Err(usage(&format!("--lambda: `{value}` is not a number"))),
    }
}

fn parse_count(flag: &str, value: &str, min: usize) -> Result<usize, FairToolError> {
    match value.trim().parse::<usize>() {
        Ok(v) if v >= min => Ok(v),
        _ => Err(usage(&format!(
            "{flag} needs a whole number >= {min}, got `{value}`"
        ))),
    }
}

/// The test options must come in consistent groups.
fn check_test_options(a: &Args) -> Result<(), FairToolError> {
    let pairs = [
        (&a.test_kernel, "--test-kernel", &a.out_test, "--out-test"),
        (&a.out_test, "--out-test", &a.test_kernel, "--test-kernel"),
        (
            &a.test_diag,
            "--test-diag",
            &a.out_test_diag,
            "--out-test-diag",
        ),
        (
            &a.out_test_diag,
            "--out-test-diag",
            &a.test_diag,
            "--test-diag",
        ),
        (&a.test_diag, "--test-diag", &a.test_kernel, "--test-kernel"),
    ];
    for (given, flag, needed, other) in pairs {
        if given.is_some() && needed.is_none() {
            return Err(usage(&format!("{flag} needs {other}")));
        }
    }
    Ok(())
}

/// `K`: square and symmetric.
fn read_kernel(file: &str) -> Result<Matrix<f64>, FairToolError> {
    let table = CsvTable::<f64>::read(file, Header::Absent)?;
    let (rows, cols) = (table.nrows(), table.ncols());
    if rows != cols {
        let msg =
            format!("the kernel must be square (n x n), but it has {rows} rows of {cols} fields");
        return Err(table.error(None, CsvProblem::Shape(msg)).into());
    }
    check_symmetric(&table)?;
    Ok(table.into_values())
}

/// Fails at the first pair `(i, j)`, `i > j`, with `|K_ij - K_ji|` above
/// `1e-9 max |K|` (rounding of a symmetric computation stays far below).
fn check_symmetric(table: &CsvTable<f64>) -> Result<(), CsvError> {
    let k = table.values().view();
    let n = table.nrows();
    let scale = table
        .values()
        .as_slice()
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (k.at(i, j), k.at(j, i));
            if (a - b).abs() > 1e-9 * scale {
                let msg = format!(
                    "the kernel is not symmetric: field {} is {a:?}, but line {}, field {} is {b:?}",
                    j + 1,
                    table.line_of(j).unwrap_or(0),
                    i + 1,
                );
                return Err(table.error(table.line_of(i), CsvProblem::Shape(msg)));
            }
        }
    }
    Ok(())
}

/// `A`: `n` rows.
fn read_protected(file: &str, n: usize) -> Result<Matrix<f64>, FairToolError> {
    let table = CsvTable::<f64>::read(file, Header::Absent)?;
    table.expect_rows(n, "(one per training point, as the kernel has n rows)")?;
    Ok(table.into_values())
}

/// The new points' kernel rows: `n` fields each.
fn read_test_kernel(file: &str, n: usize) -> Result<Matrix<f64>, FairToolError> {
    let table = CsvTable::<f64>::read(file, Header::Absent)?;
    table.expect_cols(n, "(one per training point, as the kernel has n columns)")?;
    Ok(table.into_values())
}

/// `t` values `k(x, x)`: one per line, or all on one line.
fn read_test_diag(file: &str, t: usize) -> Result<Vec<f64>, FairToolError> {
    let table = CsvTable::<f64>::read(file, Header::Absent)?;
    let (rows, cols) = (table.nrows(), table.ncols());
    if (rows == t && cols == 1) || (rows == 1 && cols == t) {
        return Ok(table.into_values().into_vec());
    }
    let msg = format!(
        "expected {t} values k(x, x) (one per test point, one per line), found {rows} rows of {cols} fields"
    );
    let line = if rows > t { table.line_of(t) } else { None };
    Err(table.error(line, CsvProblem::Shape(msg)).into())
}
