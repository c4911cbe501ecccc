//! Comparing results with the expected values and printing one line per
//! check.

use cortex_m_semihosting::hprintln;
use gramkit::Real;

/// A check's name, formatted without an allocator.
pub type Label = heapless::String<48>;

/// Formats a check's name (truncated if it does not fit).
pub fn label(args: core::fmt::Arguments<'_>) -> Label {
    let mut s = Label::new();
    let _ = core::fmt::write(&mut s, args);
    s
}

/// `"f32"` or `"f64"`.
pub fn precision<T>() -> &'static str {
    core::any::type_name::<T>()
}

/// Tally of the checks run so far.
#[derive(Default)]
pub struct Report {
    pub passed: u32,
    pub failed: u32,
}

impl Report {
    /// Records `err` against `tol` and prints the check's line. A NaN error
    /// fails.
    pub fn check(&mut self, name: &str, err: f64, tol: f64) {
        let ok = err <= tol;
        let verdict = if ok { "ok" } else { "FAIL" };
        hprintln!(
            "check {:<36} max_err {:9.2e}  tol {:.0e}  {}",
            name,
            err,
            tol,
            verdict
        );
        self.count(ok);
    }

    /// Records a check that could not produce a result.
    pub fn error(&mut self, name: &str, e: gramkit::Error) {
        hprintln!("check {:<36} ERROR {}", name, e);
        self.count(false);
    }

    /// Records a check on a count or flag.
    pub fn expect(&mut self, name: &str, ok: bool) {
        hprintln!("check {:<36} {}", name, if ok { "ok" } else { "FAIL" });
        self.count(ok);
    }

    /// Runs a check that returns its error or a gramkit error.
    pub fn run(&mut self, name: &str, tol: f64, f: impl FnOnce() -> gramkit::Result<f64>) {
        match f() {
            Ok(err) => self.check(name, err, tol),
            Err(e) => self.error(name, e),
        }
    }

    fn count(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

/// `max_i |got_i - want_i| / max(1, max_i |want_i|)`: absolute error for
/// values of order one or less, relative to the largest expected value
/// otherwise. NaN if any `got_i` is NaN.
pub fn max_err<T: Real>(
    got: impl IntoIterator<Item = T>,
    want: impl IntoIterator<Item = f64> + Clone,
) -> f64 {
    let scale = want.clone().into_iter().fold(1.0f64, |m, w| m.max(w.abs()));
    let mut err = 0.0f64;
    for (g, w) in got.into_iter().zip(want) {
        let e = (g.as_f64() - w).abs();
        if e.is_nan() {
            return f64::NAN;
        }
        err = err.max(e);
    }
    err / scale
}

/// [`max_err`] of a single value.
pub fn scalar_err<T: Real>(got: T, want: f64) -> f64 {
    max_err([got], [want])
}

/// `T` copies of an f64 array.
pub fn convert<T: Real, const N: usize>(v: &[f64; N]) -> [T; N] {
    core::array::from_fn(|i| T::from_f64(v[i]))
}

/// `T` copies of an f64 matrix.
pub fn convert_mat<T: Real, const R: usize, const C: usize>(m: &[[f64; C]; R]) -> [[T; C]; R] {
    core::array::from_fn(|i| convert(&m[i]))
}
