//! The symmetric eigensolver: `symmetric_eigen` with and without vectors,
//! and `FixedSymmetricEigen` for `N = 3`.

use super::reader::Bytes;
use super::util::*;
use gramkit::eigen::{FixedSymmetricEigen, symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::{Error, MatMut, MatRef};

/// Decodes one eigenproblem and checks it: on `Ok`, eigenvalues ascending
/// and finite, `|A V - V diag(w)| <= c n eps |A|`, `|V^T V - I| <= c n
/// eps` (backward stability: no condition number), and the values-only
/// call agrees with the eigenvalues of the full call to `c n eps |A|`.
/// `a` is a shared reference, never written; on error only the documented
/// variants may occur.
pub fn check_eigen(data: &[u8]) {
    let mut r = Bytes::new(data);
    let n = r.size(12, 40);
    let cols = r.len(n);
    let a = if cols == n {
        r.symmetric(n)
    } else {
        r.values(n * cols)
    };
    let Some(values) = full(&mut r, &a, n, cols) else {
        return;
    };
    values_only(&mut r, &a, n, &values);
    if n == 3 {
        fixed(&a, &values);
    }
}

/// A power of two near `max |a_ij|`: dividing by it is exact (up to
/// subnormal bits) and brings the checks' arithmetic to unit scale.
fn unit_scale(a: &[f64]) -> f64 {
    let m = max_abs(a);
    if !(m > 0.0 && m.is_finite()) {
        return 1.0;
    }
    let e = (m.log2().ceil() as i64).clamp(-1022, 1023);
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// The call with vectors; returns the eigenvalues on `Ok`.
fn full(r: &mut Bytes, a: &[f64], n: usize, cols: usize) -> Option<Vec<f64>> {
    let (vlen, vrows) = (r.len(n), r.len(n));
    let mut w = vec![f64::NAN; vlen];
    let mut v = vec![f64::NAN; vrows * n];
    let mut ws = r.workspace(symmetric_eigen_workspace_len(n, true));
    let view = MatRef::from_row_major(a, n, cols).ok()?;
    let vv = MatMut::from_row_major(&mut v, vrows, n).ok()?;
    match symmetric_eigen(view, &mut w, Some(vv), &mut ws) {
        Ok(()) => {
            check_pairs(a, n, &w, &v);
            Some(w)
        }
        Err(e) => {
            documented!(
                e,
                "symmetric_eigen",
                Error::DimensionMismatch { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::NonFinite { .. }
                    | Error::NoConvergence { .. }
                    | Error::Overflow { .. }
            );
            None
        }
    }
}

/// The `Ok` properties of the full decomposition (lower triangle of `a`).
fn check_pairs(a: &[f64], n: usize, w: &[f64], v: &[f64]) {
    assert_finite(w, "eigenvalues");
    assert_finite(v, "eigenvectors");
    assert!(
        w.windows(2).all(|p| p[0] <= p[1]),
        "eigenvalues not ascending: {w:?}"
    );
    let s = unit_scale(a);
    let sym: Vec<f64> = (0..n * n)
        .map(|k| a[(k / n).max(k % n) * n + (k / n).min(k % n)] / s)
        .collect();
    let tol = gamma(n) * n as f64;
    let av = matmul(&sym, false, v, n, n, n, false);
    for i in 0..n {
        for j in 0..n {
            let got = av[i * n + j] - v[i * n + j] * (w[j] / s);
            assert!(close(got, 0.0, tol), "A V - V W at ({i},{j}): {got:e}");
        }
    }
    let vtv = matmul(v, true, v, n, n, n, false);
    for k in 0..n * n {
        let want = if k % (n + 1) == 0 { 1.0 } else { 0.0 };
        assert!(
            close(vtv[k], want, tol),
            "V^T V - I entry {k}: {:e}",
            vtv[k] - want
        );
    }
}

/// The values-only call (the `n x n` working copy path for `n > 8`).
fn values_only(r: &mut Bytes, a: &[f64], n: usize, with_vectors: &[f64]) {
    let mut w = vec![f64::NAN; n];
    let mut ws = r.workspace(symmetric_eigen_workspace_len(n, false));
    let view = MatRef::from_row_major(a, n, n).expect("view");
    match symmetric_eigen(view, &mut w, None, &mut ws) {
        Ok(()) => {
            assert_finite(&w, "values only");
            let tol = gamma(n) * n as f64 * unit_scale(a);
            assert_close_all(
                &w,
                with_vectors,
                &vec![tol; n],
                "values-only vs full eigenvalues",
            );
        }
        Err(e) => documented!(
            e,
            "symmetric_eigen (values)",
            Error::WorkspaceTooSmall { .. } | Error::NoConvergence { .. } | Error::Overflow { .. }
        ),
    }
}

/// `FixedSymmetricEigen::<f64, 3>` agrees with the view path.
fn fixed(a: &[f64], with_vectors: &[f64]) {
    let arr: [[f64; 3]; 3] = core::array::from_fn(|i| core::array::from_fn(|j| a[i * 3 + j]));
    match FixedSymmetricEigen::compute(&arr) {
        Ok(eig) => {
            let tol = gamma(3) * 3.0 * unit_scale(a);
            assert_close_all(
                &eig.values,
                with_vectors,
                &[tol; 3],
                "fixed vs view eigenvalues",
            );
            check_pairs(a, 3, &eig.values, eig.vectors.as_flattened());
        }
        Err(e) => documented!(
            e,
            "FixedSymmetricEigen",
            Error::NoConvergence { .. } | Error::Overflow { .. }
        ),
    }
}
