//! Cholesky checks: factor, solve and log-determinant, by value
//! (`FixedCholesky`) and in place on a column-major view with a
//! caller-sized workspace.

use crate::cases::CholCase;
use crate::report::{Report, convert, convert_mat, label, max_err, precision, scalar_err};
use gramkit::cholesky::{CholeskyRef, FixedCholesky, cholesky_in_place};
use gramkit::{MatMut, Real};

/// Tolerances of one precision, on [`max_err`](crate::report::max_err).
#[derive(Clone, Copy)]
pub struct Tolerance {
    pub factor: f64,
    pub solve: f64,
    pub log_det: f64,
}

/// `FixedCholesky<T, N>`: factor by value, solve, log-determinant.
#[inline(never)]
pub fn fixed<T: Real, const N: usize>(r: &mut Report, case: &CholCase<N>, tol: Tolerance) {
    let name = |what: &str| label(format_args!("chol fixed {} n={N} {what}", precision::<T>()));
    let a: [[T; N]; N] = convert_mat(&case.a);
    let chol = match FixedCholesky::factor(&a) {
        Ok(c) => c,
        Err(e) => return r.error(&name("factor"), e),
    };
    compare(r, chol.as_ref(), case, tol, name);
    r.run(&name("solve"), tol.solve, || {
        let x = chol.solve(&convert(&case.b))?;
        Ok(max_err(x, case.x))
    });
}

/// `cholesky_in_place` on a column-major view of `buf` (`N * N`) with the
/// workspace `ws` (sized by the caller with
/// `cholesky_in_place_workspace_len(N)`), then `solve_in_place`.
#[inline(never)]
pub fn in_place<T: Real, const N: usize>(
    r: &mut Report,
    case: &CholCase<N>,
    buf: &mut [T],
    ws: &mut [T],
    tol: Tolerance,
) {
    let name = |what: &str| {
        label(format_args!(
            "chol in_place {} n={N} {what}",
            precision::<T>()
        ))
    };
    for (k, v) in buf.iter_mut().enumerate() {
        *v = T::from_f64(case.a[k % N][k / N]); // column-major
    }
    let chol = match MatMut::from_col_major(buf, N, N).and_then(|v| cholesky_in_place(v, ws)) {
        Ok(c) => c,
        Err(e) => return r.error(&name("factor"), e),
    };
    compare(r, chol.as_ref(), case, tol, name);
    r.run(&name("solve"), tol.solve, || {
        let mut x: [T; N] = convert(&case.b);
        chol.solve_in_place(&mut x)?;
        Ok(max_err(x, case.x))
    });
}

/// Checks the lower triangle of the factor and the log-determinant.
fn compare<T: Real, const N: usize>(
    r: &mut Report,
    chol: CholeskyRef<'_, T>,
    case: &CholCase<N>,
    tol: Tolerance,
    name: impl Fn(&str) -> crate::report::Label,
) {
    let l = chol.l();
    let lower = |i: usize| (0..=i).map(move |j| (i, j));
    let entry = |(i, j)| l.get(i, j).map_or(f64::NAN, T::as_f64);
    let got = (0..N).flat_map(lower).map(entry);
    let want = (0..N).flat_map(lower).map(|(i, j)| case.l[i][j]);
    r.check(&name("factor"), max_err(got, want), tol.factor);
    r.check(
        &name("log_det"),
        scalar_err(chol.log_det(), case.log_det),
        tol.log_det,
    );
}
