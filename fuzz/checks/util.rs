//! Reference dense linear algebra (row-major `Vec<f64>`, naive loops) and
//! the assertion helpers of the checks.

use gramkit::MatRef;

/// Unit roundoff of `f64` (machine epsilon).
pub const EPS: f64 = f64::EPSILON;

/// Absolute slack for underflow: products of tiny entries lose their low
/// bits in the subnormal range, about `2^-1074` each.
pub const UNDERFLOW: f64 = 1e-318;

/// Relative rounding tolerance for an algorithm whose error bound is
/// `gamma_k = k eps / (1 - k eps)`: `16 (k + 1) eps`, a generous constant
/// for blocked and FMA variants.
pub fn gamma(k: usize) -> f64 {
    16.0 * (k as f64 + 1.0) * EPS
}

/// `|got - want| <= tol`, or `true` when a side overflowed in the check's
/// own arithmetic (a residual `got` formed by the check, a reference
/// `want`, a bound `tol`): then no bound can be checked. Every routine
/// output is asserted finite before it is compared, so a non-finite
/// `got` here is always the check's own overflow.
pub fn close(got: f64, want: f64, tol: f64) -> bool {
    !(got.is_finite() && want.is_finite() && tol.is_finite()) || (got - want).abs() <= tol
}

/// Panics unless `got` and `want` are bit for bit equal.
pub fn assert_same_bits(want: &[f64], got: &[f64], what: &str) {
    assert_eq!(want.len(), got.len(), "{what}: length changed");
    for (i, (a, b)) in want.iter().zip(got).enumerate() {
        assert_eq!(
            a.to_bits(),
            b.to_bits(),
            "{what}: entry {i} changed from {a:e} to {b:e}"
        );
    }
}

/// Panics unless every entry is finite.
pub fn assert_finite(v: &[f64], what: &str) {
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        panic!("{what}: entry {i} is {} on Ok", v[i]);
    }
}

/// With `GRAMKIT_FUZZ_TRACE` set, prints the error a routine returned (to
/// see which variants a corpus reaches).
pub fn trace(what: &str, e: &gramkit::Error) {
    if std::env::var_os("GRAMKIT_FUZZ_TRACE").is_some() {
        eprintln!("trace: {what}: {e:?}");
    }
}

/// An `Overflow` error is genuine only if some intermediate can exceed
/// `f64::MAX`: panics if `e` is `Overflow` while `worst`, the check's bound
/// on every intermediate magnitude, is at most `f64::MAX / 4`.
pub fn assert_genuine_overflow(e: &gramkit::Error, worst: f64, what: &str) {
    if let gramkit::Error::Overflow { .. } = e {
        assert!(
            !(worst <= f64::MAX / 4.0),
            "{what}: Overflow with every intermediate below {worst:e}"
        );
    }
}

/// Every entry of a view, row-major (`nrows x ncols`).
pub fn to_vec(m: MatRef<'_, f64>) -> Vec<f64> {
    let (r, c) = m.shape();
    (0..r * c)
        .map(|k| m.get(k / c, k % c).unwrap_or(f64::NAN))
        .collect()
}

/// The lower triangle of a square view (strictly upper part zero).
pub fn lower(m: MatRef<'_, f64>) -> Vec<f64> {
    let n = m.nrows();
    let mut l = to_vec(m);
    for i in 0..n {
        for j in i + 1..n {
            l[i * n + j] = 0.0;
        }
    }
    l
}

/// `C = op(A) B` for row-major `A` (`m x k`, or `k x m` when `ta`) and `B`
/// (`k x n`); with `abs`, of the absolute values (for error bounds).
pub fn matmul(a: &[f64], ta: bool, b: &[f64], m: usize, k: usize, n: usize, abs: bool) -> Vec<f64> {
    let f = |x: f64| if abs { x.abs() } else { x };
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let aip = f(if ta { a[p * m + i] } else { a[i * k + p] });
            for j in 0..n {
                c[i * n + j] += aip * f(b[p * n + j]);
            }
        }
    }
    c
}

/// `A A^T` (`abs`: `|A| |A|^T`) for row-major `A` (`m x k`).
pub fn gram(a: &[f64], m: usize, k: usize, abs: bool) -> Vec<f64> {
    let f = |x: f64| if abs { x.abs() } else { x };
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            c[i * m + j] = (0..k).map(|p| f(a[i * k + p]) * f(a[j * k + p])).sum();
        }
    }
    c
}

/// Largest absolute entry (0 for none, NaN-blind).
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, x| m.max(x.abs()))
}

/// Infinity norm of a row-major `m x n` matrix.
pub fn norm_inf(a: &[f64], m: usize, n: usize) -> f64 {
    (0..m)
        .map(|i| a[i * n..(i + 1) * n].iter().map(|x| x.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Reference Cholesky of the lower triangle of `a` (`n x n`), or `None`
/// if a pivot is not positive.
pub fn ref_cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let d = a[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if !(d > 0.0) {
            return None;
        }
        l[j * n + j] = d.sqrt();
        for i in j + 1..n {
            let s = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = s / l[j * n + j];
        }
    }
    Some(l)
}

/// `b <- (L L^T)^{-1} b` with the reference factor (`b`: `n x k`).
pub fn ref_solve(l: &[f64], n: usize, b: &mut [f64], k: usize) {
    for c in 0..k {
        for i in 0..n {
            let s: f64 = (0..i).map(|p| l[i * n + p] * b[p * k + c]).sum();
            b[i * k + c] = (b[i * k + c] - s) / l[i * n + i];
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|p| l[p * n + i] * b[p * k + c]).sum();
            b[i * k + c] = (b[i * k + c] - s) / l[i * n + i];
        }
    }
}

/// `2 sum log l_ii` of a reference factor.
pub fn ref_log_det(l: &[f64], n: usize) -> f64 {
    2.0 * (0..n).map(|i| l[i * n + i].ln()).sum::<f64>()
}

/// Absolute sums of the rows of a row-major `m x n` matrix.
pub fn row_sums(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    (0..m)
        .map(|i| a[i * n..(i + 1) * n].iter().map(|x| x.abs()).sum())
        .collect()
}

/// Slack for entries of a factor that underflowed (to subnormal or zero):
/// each is off by up to `2^-1074`, multiplied by the entries it meets in
/// a product (`rows`: their absolute sum), for `n` terms.
pub fn underflow(rows: f64, n: usize) -> f64 {
    4.0 * (n as f64 + 1.0) * f64::from_bits(1) * rows + UNDERFLOW * (n as f64 + 1.0)
}

/// Panics unless `L L^T` reproduces `want` (lower triangles, `n x n`):
/// `|L L^T - want|_ij <= gamma(n) (|L| |L|^T + slack)_ij`, the classic
/// componentwise backward-error bound of Cholesky (no condition number),
/// `slack` covering the rounding of how `want` came about.
pub fn assert_factor_of(l: &[f64], want: &[f64], slack: &[f64], n: usize, what: &str) {
    let llt = gram(l, n, n, false);
    let abs = gram(l, n, n, true);
    let rows = row_sums(l, n, n);
    for i in 0..n {
        for j in 0..=i {
            let k = i * n + j;
            let tol = gamma(n) * (abs[k] + slack[k]) + underflow(rows[i] + rows[j], n);
            assert!(
                close(llt[k], want[k], tol),
                "{what}: (L L^T)[{i}][{j}] = {:e}, want {:e} (tol {tol:e})",
                llt[k],
                want[k]
            );
        }
    }
}

/// Panics unless `got` is within `tol` of `want` entrywise.
pub fn assert_close_all(got: &[f64], want: &[f64], tol: &[f64], what: &str) {
    for (i, ((g, w), t)) in got.iter().zip(want).zip(tol).enumerate() {
        assert!(
            close(*g, *w, *t),
            "{what}: entry {i} = {g:e}, want {w:e} (tol {t:e})"
        );
    }
}

/// Panics unless `G G^T` (`G`: `n x m` row-major) reproduces the columns
/// `pivots` of the symmetric `a` (`n x n`, lower triangle read): a
/// pivoted Cholesky leaves a residual that vanishes on its pivot columns,
/// to `gamma(k) (|a_iq| + (|G| |G|^T)_iq)` for `k` pivots (condition-free).
pub fn assert_pivot_columns(a: &[f64], n: usize, g: &[f64], m: usize, pivots: &[usize]) {
    let (ggt, abs) = (gram(g, n, m, false), gram(g, n, m, true));
    let rows = row_sums(g, n, m);
    for &q in pivots {
        for i in 0..n {
            let aiq = a[i.max(q) * n + i.min(q)];
            let tol = gamma(pivots.len()) * (aiq.abs() + abs[i * n + q])
                + underflow(rows[i] + rows[q], n);
            assert!(
                close(ggt[i * n + q], aiq, tol),
                "G G^T at pivot column {q}, row {i}: {:e} vs {aiq:e}",
                ggt[i * n + q]
            );
        }
    }
}
