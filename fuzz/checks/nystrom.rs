//! The Nystroem-Woodbury inverse: from given landmarks or greedy, its
//! solve, product and log-determinant.

use super::reader::Bytes;
use super::util::*;
use gramkit::nystrom::{NystromInverse, nystrom_storage_len, nystrom_workspace_len};
use gramkit::op::{LinearOperator, LogDet, Solve};
use gramkit::{Error, MatRef};

/// Decodes a kernel matrix, `lambda` and landmarks (given: possibly
/// duplicate or out of range; or greedy with a tolerance), builds the
/// inverse and checks it (see [`check_built`]); on error only documented
/// variants may occur (the kernel is a shared reference).
pub fn check_nystrom(data: &[u8]) {
    let mut r = Bytes::new(data);
    let n = r.size(10, 40);
    let k = r.symmetric(n);
    let lambda = if r.rare(3) { r.value() } else { r.positive() };
    let view = MatRef::from_row_major(&k, n, n).expect("view");
    let greedy = r.u8() & 1 == 1;
    let m = r.size(n, n + 1);
    let mut storage = r.workspace(nystrom_storage_len(n, m));
    let mut ws = r.workspace(nystrom_workspace_len(n, m));
    let mut pivots = vec![usize::MAX; r.len(n)];
    let landmarks: Vec<usize> = (0..m).map(|_| r.size(n, n)).collect();
    let built = if greedy {
        let tolerance = if r.rare(3) {
            r.value()
        } else {
            r.positive() / 64.0
        };
        NystromInverse::greedy(
            &view,
            m,
            tolerance,
            lambda,
            &mut pivots,
            &mut storage,
            &mut ws,
        )
    } else {
        NystromInverse::from_landmarks(&view, &landmarks, lambda, &mut storage, &mut ws)
    };
    match built {
        Ok(inv) => {
            let pivots = if greedy {
                &pivots[..inv.rank()]
            } else {
                &landmarks[..]
            };
            check_built(&mut r, &inv, &k, n, pivots, greedy);
        }
        Err(Error::Overflow { .. }) => {
            // documented since gramkit 5d498f9 (was finding 2/5)
        }
        Err(e) => documented!(
            e,
            "NystromInverse",
            Error::InvalidParameter { .. }
                | Error::DimensionMismatch { .. }
                | Error::NonFinite { .. }
                | Error::WorkspaceTooSmall { .. }
                | Error::NotPositiveDefinite { .. }
        ),
    }
}

/// On `Ok`: `B` and `L_W` finite; greedy: `B B^T` reproduces the pivot
/// columns of `K`; given: `L_W L_W^T = K[S, S] + jitter I` (Cholesky
/// backward error). Then the product, the solve and the log-determinant
/// of `B B^T + lambda I`.
fn check_built(
    r: &mut Bytes,
    inv: &NystromInverse<'_, f64>,
    k: &[f64],
    n: usize,
    landmarks: &[usize],
    greedy: bool,
) {
    let m = inv.rank();
    let b = to_vec(inv.factor());
    let lw = to_vec(inv.landmark_factor());
    assert_finite(&b, "Nystroem B");
    assert_finite(&lw, "Nystroem L_W");
    assert!(
        inv.jitter() >= 0.0 && inv.jitter().is_finite(),
        "jitter {}",
        inv.jitter()
    );
    if greedy {
        assert_pivot_columns(k, n, &b, m, landmarks);
    } else {
        let w: Vec<f64> = (0..m * m)
            .map(|c| k[landmarks[c / m] * n + landmarks[c % m]])
            .collect();
        let jit: Vec<f64> = (0..m * m)
            .map(|c| if c % (m + 1) == 0 { inv.jitter() } else { 0.0 })
            .collect();
        let want: Vec<f64> = w.iter().zip(&jit).map(|(a, j)| a + j).collect();
        assert_factor_of(
            &lower(inv.landmark_factor()),
            &want,
            &jit,
            m,
            "Nystroem L_W",
        );
    }
    let bbt = gram(&b, n, m, false);
    let shifted: Vec<f64> = (0..n * n)
        .map(|c| bbt[c] + if c % (n + 1) == 0 { inv.lambda() } else { 0.0 })
        .collect();
    apply(r, inv, &b, &shifted, n, m);
    solve(r, inv, &shifted, n, m);
    log_det(inv, &shifted, n, m);
}

/// `(B B^T + lambda I) x` componentwise within
/// `gamma(m) (|B| |B|^T + lambda) |x|`.
fn apply(
    r: &mut Bytes,
    inv: &NystromInverse<'_, f64>,
    b: &[f64],
    shifted: &[f64],
    n: usize,
    m: usize,
) {
    let x = r.vector(n);
    let mut y = vec![f64::NAN; r.len(n)];
    let mut ws = r.workspace(inv.apply_workspace_len());
    match inv.apply(&x, &mut y, &mut ws) {
        Ok(()) => {
            let want = matmul(shifted, false, &x, n, n, 1, false);
            let abs = gram(b, n, m, true);
            let bound = matmul(&abs, false, &x, n, n, 1, true);
            assert_finite(&y, "Nystroem apply");
            // B^T x (and the reference B B^T) may round in the subnormal
            // range: 2^-1074 per entry, scaled by |B| (or |x|)
            let lost = underflow(
                max_abs(b) * m as f64 + x.iter().map(|v| v.abs()).sum::<f64>(),
                n + m,
            );
            let tol: Vec<f64> = bound
                .iter()
                .zip(&x)
                .map(|(t, v)| gamma(m + 1) * (t + inv.lambda() * v.abs()) + lost)
                .collect();
            assert_close_all(&y, &want, &tol, "Nystroem apply");
        }
        Err(e) => {
            if let (Error::Overflow { .. }, true) = (&e, x.len() == n) {
                // |B| |B^T| |x| and |B^T| |x| bound every intermediate
                let abs = gram(b, n, m, true);
                let bound = matmul(&abs, false, &x, n, n, 1, true);
                let inner = matmul(b, true, &x, m, n, 1, true);
                let worst = max_abs(&bound).max(max_abs(&inner)) + inv.lambda() * max_abs(&x);
                assert_genuine_overflow(&e, worst, "Nystroem apply");
            }
            documented!(
                e,
                "Nystroem apply",
                Error::DimensionMismatch { .. }
                    | Error::NonFinite { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::Overflow { .. }
            )
        }
    }
}

/// `kappa = (|B B^T|_inf + lambda) / lambda`, the condition bound of the
/// Woodbury form.
fn kappa(inv: &NystromInverse<'_, f64>, shifted: &[f64], n: usize) -> f64 {
    norm_inf(shifted, n, n) / inv.lambda()
}

/// The Woodbury solve: residual `|(B B^T + lambda I) x - b|_inf <=
/// gamma(n + m) n (kappa |b| + |B B^T + lambda I| |x|)` (the cancellation
/// in `(b - B M^{-1} B^T b) / lambda` costs up to `kappa eps |b|`), checked
/// while `n eps kappa <= 1e-6` (beyond, the errors of `M^{-1}`, whose
/// condition is up to `kappa`, enter squared: no meaningful bound; seen at
/// `kappa ~ 1e49`, a 4x excess); on a checked error `b` is unchanged.
fn solve(r: &mut Bytes, inv: &NystromInverse<'_, f64>, shifted: &[f64], n: usize, m: usize) {
    let b = r.vector(n);
    let mut x = b.clone();
    let mut ws = r.workspace(inv.solve_workspace_len());
    match inv.solve_in_place(&mut x, &mut ws) {
        Ok(()) => {
            // an overflowing solution is `Overflow` (was finding 4)
            assert_finite(&x, "Nystroem solve (was finding 4)");
            if !(gamma(n) * n as f64 * kappa(inv, shifted, n) <= 1e-6) {
                return;
            }
            let got = matmul(shifted, false, &x, n, n, 1, false);
            let scale =
                kappa(inv, shifted, n) * max_abs(&b) + norm_inf(shifted, n, n) * max_abs(&x);
            // `M^{-1} B^T b` may underflow: off by 2^-1074 per entry, which
            // `B / lambda` and then `B B^T + lambda I` amplify
            // (the solves with the factor of M >= lambda I amplify it by up to
            // 1 / lambda more)
            let lost =
                (1.0 + max_abs(&to_vec(inv.factor())) * m as f64) * (1.0 + 1.0 / inv.lambda());
            let tol = gamma(n + m) * n as f64 * scale
                + underflow(norm_inf(shifted, n, n) * lost * lost, n);
            assert_close_all(&got, &b, &vec![tol; n], "Nystroem solve residual");
        }
        Err(e @ Error::Overflow { .. }) => {
            // the solution's entries are bounded by kappa |b| / lambda-ish
            let worst =
                (1.0 + norm_inf(shifted, n, n)) * n as f64 * max_abs(&b) * inv.lambda().recip();
            assert_genuine_overflow(&e, worst.max(inv.lambda().recip()), "Nystroem solve");
        }
        Err(e) => {
            documented!(
                e,
                "Nystroem solve",
                Error::DimensionMismatch { .. }
                    | Error::NonFinite { .. }
                    | Error::WorkspaceTooSmall { .. }
            );
            assert_same_bits(&b, &x, "Nystroem solve b after error");
        }
    }
}

/// `log det (B B^T + lambda I)` against a dense reference Cholesky;
/// skipped (finiteness only) when `n eps kappa > 1e-6`, too
/// ill-conditioned for a meaningful reference.
fn log_det(inv: &NystromInverse<'_, f64>, shifted: &[f64], n: usize, m: usize) {
    let ld = LogDet::log_det(inv).expect("Nystroem log_det of a built inverse");
    assert!(ld.is_finite(), "Nystroem log_det {ld}");
    let kappa = kappa(inv, shifted, n);
    // subnormal lambda or entries: rounding is no longer relative
    if n as f64 * gamma(m) * kappa > 1e-6 || inv.lambda() < f64::MIN_POSITIVE / EPS {
        return;
    }
    if let Some(l) = ref_cholesky(shifted, n) {
        let want = ref_log_det(&l, n);
        let tol = n as f64 * gamma(n + m) * kappa * (1.0 + want.abs());
        assert!(
            close(ld, want, tol),
            "Nystroem log_det {ld:e} vs dense {want:e}"
        );
    }
}
