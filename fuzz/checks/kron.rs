//! Kronecker products, `K + s^2 I` in eigen form (apply, solve,
//! log-determinant) and the grid GP log marginal likelihood.

use super::reader::Bytes;
use super::util::*;
use gramkit::kron::{
    Kronecker, KroneckerEigen, NoisyKronecker, kronecker_eigen_storage_len,
    kronecker_eigen_workspace_len,
};
use gramkit::op::{LinearOperator, LogDet, Solve};
use gramkit::{Error, MatMut, MatRef};

/// Dense references are formed only up to this many entries of `K`.
const DENSE_MAX: usize = 64 * 64;

/// Decodes `d` factors (0 to 9, orders up to 4, rarely rectangular) and
/// checks: `Kronecker::new` errors; products, transposed products, trace
/// and diagonal against the dense `K`; then for square factors the eigen
/// form, `K + s^2 I` products, solve, log-determinant and GP log marginal
/// likelihood.
pub fn check_kron(data: &[u8]) {
    let mut r = Bytes::new(data);
    let d = r.size(3, 9);
    let mut shapes = Vec::new();
    let mut buffers = Vec::new();
    for _ in 0..d {
        let n = r.size(4, 4);
        let c = r.len(n);
        buffers.push(if c == n {
            r.symmetric(n)
        } else {
            r.values(n * c)
        });
        shapes.push((n, c));
    }
    let views: Vec<MatRef<'_, f64>> = buffers
        .iter()
        .zip(&shapes)
        .map(|(b, &(n, c))| MatRef::from_row_major(b, n, c).expect("view"))
        .collect();
    let k = match Kronecker::new(&views) {
        Ok(k) => k,
        Err(e) => {
            return documented!(
                e,
                "Kronecker::new",
                Error::InvalidParameter { .. } | Error::NonFinite { .. } | Error::SizeOverflow
            );
        }
    };
    if k.nrows().saturating_mul(k.ncols()) > DENSE_MAX {
        return;
    }
    let mut dense = vec![0.0; k.nrows() * k.ncols()];
    k.to_dense(MatMut::from_row_major(&mut dense, k.nrows(), k.ncols()).expect("view"))
        .expect("to_dense");
    let orders_sum: usize = shapes.iter().map(|s| s.0.max(s.1)).sum();
    products(&mut r, &k, &k, &dense, orders_sum, None);
    if shapes.iter().all(|s| s.0 == s.1) {
        square(&mut r, &k, &dense, orders_sum);
    }
}

/// `y <- op x` (and the transpose) against `(dense + s2 I) x`:
/// componentwise within `gamma(sum n_i) (|dense| + s2) |x|` (mode products
/// round like one product per mode, no condition number), plus for the
/// eigen form (`noise` given) a normwise `gamma n (|K| + s2) |x|`. On error `x` is
/// a shared reference; only documented variants may occur.
fn products<O: LinearOperator<f64>>(
    r: &mut Bytes,
    op: &O,
    k: &Kronecker<'_, f64>,
    dense: &[f64],
    orders_sum: usize,
    noise: Option<f64>,
) {
    let (m, n) = (k.nrows(), k.ncols());
    let s2 = noise.unwrap_or(0.0);
    for transpose in [false, true] {
        let (rows, cols) = if transpose { (n, m) } else { (m, n) };
        let x = r.vector(cols);
        let mut y = vec![f64::NAN; r.len(rows)];
        let mut ws = r.workspace(op.apply_workspace_len());
        let res = if transpose {
            op.apply_transpose(&x, &mut y, &mut ws)
        } else {
            op.apply(&x, &mut y, &mut ws)
        };
        match res {
            Ok(()) => {
                let want = matmul(dense, transpose, &x, rows, cols, 1, false);
                let bound = matmul(dense, transpose, &x, rows, cols, 1, true);
                let xs: Vec<f64> = x.iter().map(|v| v * s2).collect();
                assert_finite(&y, "Kronecker product");
                let want: Vec<f64> = want.iter().zip(&xs).map(|(w, v)| w + v).collect();
                // the dense reference's entries are products that may round
                // in the subnormal range: 2^-1074 each, scaled by the others
                // (and so may the routine's intermediates, whatever |x|)
                let under = dense_underflow(k) * x.iter().map(|v| v.abs()).sum::<f64>().max(1.0);
                // the eigen form mixes components through Q Q^T = I + O(eps):
                // normwise, gamma (|K| + s2) |x| in every entry
                // (and Q^T x may underflow: 2^-1074 per entry, scaled by l + s2)
                let spread = m as f64 * (norm_inf(dense, m, n) + s2);
                let mixed = if noise.is_some() {
                    spread * max_abs(&x)
                } else {
                    0.0
                };
                let under = under
                    + if noise.is_some() {
                        4.0 * spread * f64::from_bits(1)
                    } else {
                        0.0
                    };
                let tol: Vec<f64> = bound
                    .iter()
                    .zip(&xs)
                    .map(|(b, v)| gamma(orders_sum) * (b + v.abs() + mixed) + under + UNDERFLOW)
                    .collect();
                assert_close_all(&y, &want, &tol, "Kronecker product vs dense");
            }
            Err(e) => {
                assert_genuine_overflow(&e, worst(op, k, &x, s2), "Kronecker apply");
                documented!(
                    e,
                    "Kronecker apply",
                    Error::DimensionMismatch { .. }
                        | Error::WorkspaceTooSmall { .. }
                        | Error::NonFinite { .. }
                        | Error::Overflow { .. }
                )
            }
        }
    }
}

/// Error of an entry of the dense `K` (a product of `d` factor entries)
/// that rounds in the subnormal range: `2^-1074` per product, scaled by
/// the factors met after it.
fn dense_underflow(k: &Kronecker<'_, f64>) -> f64 {
    let d = k.factors().len() as f64;
    let big: f64 = k
        .factors()
        .iter()
        .map(|f| max_abs(&to_vec(*f)).max(1.0))
        .product();
    2.0 * d * f64::from_bits(1) * big
}

/// A bound on every intermediate magnitude of a product with `x`: each
/// mode product grows the largest entry by at most the factor's largest
/// absolute row or column sum (at least 1, whatever the order of modes);
/// the eigen form adds orthogonal transforms (`sqrt n_k` each) and the
/// spectrum shift `s2`.
fn worst<O: LinearOperator<f64>>(op: &O, k: &Kronecker<'_, f64>, x: &[f64], s2: f64) -> f64 {
    let growth: f64 = k
        .factors()
        .iter()
        .map(|f| {
            let v = to_vec(*f);
            let (r, c) = f.shape();
            norm_inf(&v, r, c)
                .max(norm_inf(&to_vec(f.transpose()), c, r))
                .max(1.0)
        })
        .product();
    let spectral = op.nrows().max(1) as f64; // loose for plain products
    (growth + s2) * spectral * max_abs(x)
}

/// Trace and diagonal, then the eigen form and `K + s^2 I`.
fn square(r: &mut Bytes, k: &Kronecker<'_, f64>, dense: &[f64], orders_sum: usize) {
    let n = k.nrows();
    let diag: Vec<f64> = (0..n).map(|i| dense[i * n + i]).collect();
    let mut got = vec![0.0; n];
    k.diagonal(&mut got).expect("diagonal");
    let under = dense_underflow(k);
    let tol: Vec<f64> = diag
        .iter()
        .map(|v| gamma(orders_sum) * v.abs() + under + UNDERFLOW)
        .collect();
    assert_close_all(&got, &diag, &tol, "diagonal");
    let traces: f64 = k
        .factors()
        .iter()
        .map(|f| {
            (0..f.nrows())
                .map(|i| f.get(i, i).unwrap_or(0.0).abs())
                .sum::<f64>()
                .max(1.0)
        })
        .product();
    let trace = match k.trace() {
        Ok(t) => t,
        Err(e) => {
            assert_genuine_overflow(&e, traces, "Kronecker trace");
            return documented!(e, "Kronecker trace", Error::Overflow { .. });
        }
    };
    let abs_trace: f64 = diag.iter().map(|v| v.abs()).sum();
    let sum: f64 = diag.iter().sum();
    assert_finite(&[trace], "Kronecker trace (was finding 3)");
    assert!(
        close(
            trace,
            sum,
            gamma(n + orders_sum) * abs_trace + n as f64 * under + UNDERFLOW
        ),
        "trace {trace:e} vs sum of the diagonal {sum:e}; factors {:?}",
        k.factors().iter().map(|f| to_vec(*f)).collect::<Vec<_>>()
    );
    let orders: Vec<usize> = k.factors().iter().map(|f| f.nrows()).collect();
    let mut storage = r.workspace(kronecker_eigen_storage_len(&orders));
    let mut ws = r.workspace(kronecker_eigen_workspace_len(&orders));
    let eig = match k.eigen(&mut storage, &mut ws) {
        Ok(e) => e,
        Err(e) => {
            return documented!(
                e,
                "Kronecker::eigen",
                Error::WorkspaceTooSmall { .. }
                    | Error::NoConvergence { .. }
                    | Error::Overflow { .. }
            );
        }
    };
    for v in eig.values() {
        assert!(
            v.iter().all(|x| x.is_finite() && *x >= 0.0),
            "eigenvalues {v:?}"
        );
    }
    let s2 = if r.rare(3) { r.value() } else { r.positive() };
    match eig.with_noise(s2) {
        Ok(noisy) => noisy_checks(
            r,
            &noisy,
            k,
            dense,
            orders_sum,
            reference_ok(&eig, k, orders_sum),
        ),
        Err(e) => documented!(e, "with_noise", Error::InvalidParameter { .. }),
    }
}

/// Whether the floored spectrum still describes `K`: negative eigenvalues
/// raised to zero must be at rounding level of their factor. Otherwise the
/// eigen form is of a different matrix (the factors are not Gram
/// matrices) and only finiteness is checked.
fn reference_ok(eig: &KroneckerEigen<'_, f64>, k: &Kronecker<'_, f64>, orders_sum: usize) -> bool {
    // the floor of factor i errs by |most_negative| times the others'
    // spectra: rounding level only if below gamma |A_i| for every i
    let smallest = k
        .factors()
        .iter()
        .map(|f| (max_abs(&to_vec(*f)) * f.nrows() as f64).min(f64::MAX))
        .fold(f64::MAX, f64::min);
    eig.floor().most_negative >= -gamma(orders_sum) * smallest
}

/// `K + s^2 I`: products, solve residual, log-determinant and GP log
/// marginal likelihood against a dense reference Cholesky.
fn noisy_checks(
    r: &mut Bytes,
    noisy: &NoisyKronecker<'_, '_, f64>,
    k: &Kronecker<'_, f64>,
    dense: &[f64],
    orders_sum: usize,
    faithful: bool,
) {
    let n = k.nrows();
    let s2 = noisy.noise_variance();
    let ld = noisy.log_det();
    // l + s2 that overflows: documented as +inf here, Overflow from LogDet
    let top = noisy
        .eigen()
        .values()
        .iter()
        .map(|v| v.last().copied().unwrap_or(1.0))
        .product::<f64>()
        + s2;
    if !ld.is_finite() {
        // documented: +inf when an l_j + s^2 overflows
        assert!(
            ld == f64::INFINITY && !(top <= f64::MAX / 4.0),
            "noisy log_det {ld}"
        );
        let logdet = LogDet::log_det(noisy);
        assert!(
            matches!(logdet, Err(Error::Overflow { .. })),
            "LogDet of an overflowing spectrum: {logdet:?}"
        );
        return;
    }
    if !faithful {
        return; // floored spectrum: not the factors' K (see reference_ok)
    }
    products(r, noisy, k, dense, orders_sum, Some(s2));
    let shifted: Vec<f64> = (0..n * n)
        .map(|i| dense[i] + if i % (n + 1) == 0 { s2 } else { 0.0 })
        .collect();
    let spectrum = |pick: fn(&[f64]) -> f64| {
        noisy
            .eigen()
            .values()
            .iter()
            .map(|v| pick(v))
            .product::<f64>()
    };
    let big = spectrum(|v| v.last().copied().unwrap_or(1.0)) + s2;
    let kappa = big / (spectrum(|v| v.first().copied().unwrap_or(1.0)) + s2);
    let inv_small = (spectrum(|v| v.first().copied().unwrap_or(1.0)) + s2).recip();
    solve(
        r,
        noisy,
        &shifted,
        n,
        orders_sum,
        big,
        inv_small,
        dense_underflow(k),
    );
    // near-subnormal spectra round absolutely, not relatively: no reference
    // (nor when the dense K's entries round in the subnormal range)
    let well_conditioned = (n as f64) * gamma(orders_sum) * kappa <= 1e-6
        && inv_small < EPS / f64::MIN_POSITIVE
        && dense_underflow(k) * n as f64 * inv_small <= 1e-12;
    match ref_cholesky(&shifted, n) {
        Some(l) if well_conditioned => {
            let want = ref_log_det(&l, n);
            let tol = n as f64 * gamma(orders_sum) * kappa * (1.0 + want.abs());
            assert!(
                close(ld, want, tol),
                "noisy log_det {ld:e} vs dense {want:e}"
            );
            lml(r, noisy, &l, n, want, tol * 4.0, inv_small);
        }
        _ => {} // too ill-conditioned for a meaningful reference
    }
}

/// `(K + s^2 I) x = b`: on `Ok`, `|(K + s^2 I) x - b|_inf <= gamma(sum
/// n_i) n |K + s^2 I|_2 |x|_inf` (spectral solve: orthogonal transforms,
/// no condition number); on a checked error `b` is unchanged.
fn solve(
    r: &mut Bytes,
    noisy: &NoisyKronecker<'_, '_, f64>,
    shifted: &[f64],
    n: usize,
    orders_sum: usize,
    norm: f64,
    inv_small: f64,
    dense_err: f64,
) {
    let b = r.vector(n);
    let mut x = b.clone();
    let mut ws = r.workspace(noisy.solve_workspace_len());
    match noisy.solve_in_place(&mut x, &mut ws) {
        Ok(()) => {
            // an overflowing solution is `Overflow` (was finding 1)
            assert_finite(&x, "noisy solve");
            let got = matmul(shifted, false, &x, n, n, 1, false);
            // entries of x (or Q^T b) that underflow are off by 2^-1074
            // (and the dense reference's entries carry dense_err each)
            let tol = (gamma(orders_sum) * norm + dense_err) * n as f64 * max_abs(&x)
                + underflow(norm * n as f64 * (1.0 + norm * inv_small), n);
            assert_close_all(&got, &b, &vec![tol; n], "noisy solve residual");
        }
        Err(e) => {
            documented!(
                e,
                "noisy solve",
                Error::DimensionMismatch { .. }
                    | Error::NonFinite { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::Overflow { .. }
            );
            let worst = (n as f64 * max_abs(&b)).max(1.0) * inv_small;
            assert_genuine_overflow(&e, worst, "noisy solve");
            // an overflowing solution may be written; checked errors may not
            if !matches!(e, Error::Overflow { .. }) {
                assert_same_bits(&b, &x, "noisy solve b after error");
            }
        }
    }
}

/// The log marginal likelihood against the dense
/// `-1/2 y^T (K + s^2 I)^{-1} y - 1/2 log det - n/2 log 2 pi`.
fn lml(
    r: &mut Bytes,
    noisy: &NoisyKronecker<'_, '_, f64>,
    l: &[f64],
    n: usize,
    log_det: f64,
    tol: f64,
    inv_small: f64,
) {
    let y = r.vector(n);
    let mut ws = r.workspace(noisy.gp_workspace_len());
    match noisy.log_marginal_likelihood(&y, &mut ws) {
        Ok(v) => {
            // an overflowing fit term is `Overflow` (was finding 1)
            assert_finite(&[v], "log_marginal_likelihood");
            let mut alpha = y.clone();
            ref_solve(l, n, &mut alpha, 1);
            let fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
            let want =
                -0.5 * fit - 0.5 * log_det - 0.5 * n as f64 * (2.0 * core::f64::consts::PI).ln();
            assert!(
                close(v, want, tol * (1.0 + fit.abs() + n as f64)),
                "lml {v:e} vs dense {want:e}"
            );
        }
        Err(e) => {
            let worst = n as f64 * max_abs(&y).powi(2) * inv_small;
            assert_genuine_overflow(&e, worst, "log_marginal_likelihood");
            documented!(
                e,
                "log_marginal_likelihood",
                Error::DimensionMismatch { .. }
                    | Error::NonFinite { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::Overflow { .. }
            )
        }
    }
}
