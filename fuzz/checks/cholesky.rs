//! The Cholesky family: in-place and out-of-place factor, solves,
//! log-determinant, inverse, rank-one update and downdate, jitter, pivoted.

use super::reader::Bytes;
use super::util::*;
use gramkit::cholesky::*;
use gramkit::{Error, MatMut, MatRef};

/// Decodes one Cholesky-family case and checks it (see the module docs).
pub fn check_cholesky(data: &[u8]) {
    let mut r = Bytes::new(data);
    match r.choose(4) {
        0 => factor_and_use(&mut r),
        1 => update_downdate(&mut r),
        2 => jitter(&mut r),
        _ => pivoted(&mut r),
    }
}

/// An input matrix: `n x cols` row-major, symmetric when square (rarely
/// not square), `n` up to 64 to reach the blocked kernel.
fn input(r: &mut Bytes) -> (usize, usize, Vec<f64>) {
    let n = r.size(12, 64);
    let cols = r.len(n);
    let a = if cols == n {
        r.symmetric(n)
    } else {
        r.values(n * cols)
    };
    (n, cols, a)
}

/// `cholesky_in_place`: restore on error, backward error on `Ok`, then
/// `cholesky_into` (same bits), the solves, log-determinant and inverse.
fn factor_and_use(r: &mut Bytes) {
    let (n, cols, before) = input(r);
    let mut a = before.clone();
    let mut ws = r.workspace(cholesky_in_place_workspace_len(n));
    let view = MatMut::from_row_major(&mut a, n, cols).expect("view");
    match cholesky_in_place(view, &mut ws) {
        Ok(chol) => {
            let l = lower(chol.l());
            assert_finite(&l, "cholesky_in_place L");
            assert_factor_of(&l, &before, &vec![0.0; n * n], n, "cholesky_in_place");
            // the strictly upper triangle holds the input's lower one: for
            // a symmetric input, unchanged
            let stored = to_vec(chol.l());
            for i in 0..n {
                for j in i + 1..n {
                    assert_eq!(
                        stored[i * n + j].to_bits(),
                        before[i * n + j].to_bits(),
                        "upper ({i},{j})"
                    );
                }
            }
            into_matches(r, &before, &l, n);
            use_factor(r, &chol.as_ref(), &l, n);
        }
        Err(e) => {
            documented!(
                e,
                "cholesky_in_place",
                Error::DimensionMismatch { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::NonFinite { .. }
                    | Error::NotPositiveDefinite { .. }
            );
            assert_same_bits(&before, &a, "cholesky_in_place input after error");
        }
    }
}

/// `cholesky_into` runs the same kernel: its `L` has the same bits, its
/// strictly upper triangle is zero, and `a` is never written.
fn into_matches(r: &mut Bytes, a: &[f64], l: &[f64], n: usize) {
    let rows = r.len(n);
    let mut out = vec![f64::NAN; rows * n];
    let mut ws = r.workspace(cholesky_into_workspace_len(n));
    let a_view = MatRef::from_row_major(a, n, n).expect("view");
    let out_view = MatMut::from_row_major(&mut out, rows, n).expect("view");
    match cholesky_into(a_view, out_view, &mut ws) {
        Ok(_) => assert_same_bits(l, &out, "cholesky_into vs cholesky_in_place"),
        Err(e) => documented!(
            e,
            "cholesky_into",
            Error::DimensionMismatch { .. } | Error::WorkspaceTooSmall { .. }
        ),
    }
}

/// Log-determinant, then one of: a solve (full, forward, backward), the
/// inverse, `from_factor` of the factor's copy.
fn use_factor(r: &mut Bytes, chol: &CholeskyRef<'_, f64>, l: &[f64], n: usize) {
    let ld = chol.log_det();
    let want = 2.0 * (0..n).map(|i| l[i * n + i].ln()).sum::<f64>();
    let spread = 2.0 * (0..n).map(|i| l[i * n + i].ln().abs()).sum::<f64>();
    assert!(
        ld.is_finite() && close(ld, want, gamma(n) * spread),
        "log_det {ld:e} vs {want:e}"
    );
    match r.choose(3) {
        0 => solve(r, chol, l, n),
        1 => inverse(r, chol, n),
        _ => {
            let copy = Cholesky::from_factor(MatRef::from_row_major(l, n, n).expect("view"))
                .expect("from_factor of a factor");
            assert_eq!(
                copy.log_det().to_bits(),
                ld.to_bits(),
                "from_factor log_det"
            );
        }
    }
}

/// `L y` or `L^T y` (`abs`: with `|L|` and `|y|`) for the lower `l`.
fn tri(l: &[f64], n: usize, y: &[f64], k: usize, transpose: bool, abs: bool) -> Vec<f64> {
    let f = |x: f64| if abs { x.abs() } else { x };
    let mut out = vec![0.0; n * k];
    for i in 0..n {
        for p in 0..n {
            let lip = f(if transpose {
                l[p * n + i]
            } else {
                l[i * n + p]
            });
            for c in 0..k {
                out[i * k + c] += lip * f(y[p * k + c]);
            }
        }
    }
    out
}

/// A solve with `k` right-hand sides: on `Ok`, the residual of the
/// triangular system(s) is within `gamma(n) |L| |L^T| |x|` (backward
/// stability of substitution, no condition number); on a checked error
/// `B` is unchanged.
fn solve(r: &mut Bytes, chol: &CholeskyRef<'_, f64>, l: &[f64], n: usize) {
    let (rows, k, kind) = (r.len(n), r.size(3, 3), r.choose(3));
    let b = r.values(rows * k);
    let mut x = b.clone();
    let view = MatMut::from_row_major(&mut x, rows, k).expect("view");
    let res = match kind {
        0 => chol.solve_matrix_in_place(view),
        1 => chol.solve_lower_matrix_in_place(view),
        _ => chol.solve_upper_matrix_in_place(view),
    };
    match res {
        Ok(()) => {
            assert_finite(&x, "solve x");
            let (got, bound) = match kind {
                0 => {
                    let y = tri(l, n, &x, k, true, false);
                    (
                        tri(l, n, &y, k, false, false),
                        tri(l, n, &tri(l, n, &x, k, true, true), k, false, true),
                    )
                }
                1 => (
                    tri(l, n, &x, k, false, false),
                    tri(l, n, &x, k, false, true),
                ),
                _ => (tri(l, n, &x, k, true, false), tri(l, n, &x, k, true, true)),
            };
            // entries of x that underflow (to subnormal or zero) are off by
            // up to 2^-1074 each, which L L^T (or L) carries into the residual
            let ones = vec![(n as f64 + 1.0) * 4.0 * f64::from_bits(1); n * k];
            let under = match kind {
                0 => tri(l, n, &tri(l, n, &ones, k, true, true), k, false, true),
                1 => tri(l, n, &ones, k, false, true),
                _ => tri(l, n, &ones, k, true, true),
            };
            let tol: Vec<f64> = bound
                .iter()
                .zip(&under)
                .map(|(t, u)| 2.0 * gamma(n) * t + u + UNDERFLOW)
                .collect();
            assert_close_all(&got, &b, &tol, "solve residual");
        }
        Err(Error::Overflow { .. }) => {}
        Err(e) => {
            documented!(
                e,
                "cholesky solve",
                Error::DimensionMismatch { .. } | Error::NonFinite { .. }
            );
            assert_same_bits(&b, &x, "solve B after error");
        }
    }
}

/// `inverse_into`: finite, symmetric, and `|A X - I| <= c n^2 eps kappa`
/// with `kappa = |A|_inf |X|_inf`. Skipped (finiteness only) when
/// `n eps kappa > 1e-3`: too ill-conditioned for a meaningful bound.
fn inverse(r: &mut Bytes, chol: &CholeskyRef<'_, f64>, n: usize) {
    let rows = r.len(n);
    let mut x = vec![f64::NAN; rows * n];
    match chol.inverse_into(MatMut::from_row_major(&mut x, rows, n).expect("view")) {
        Ok(()) => {
            assert_finite(&x, "inverse");
            let l = lower(chol.l());
            let a = gram(&l, n, n, false);
            let kappa = norm_inf(&a, n, n) * norm_inf(&x, n, n);
            if !(n as f64 * EPS * kappa <= 1e-3) {
                return; // ill-conditioned: no meaningful residual bound
            }
            let ax = matmul(&a, false, &x, n, n, n, false);
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 1.0 } else { 0.0 };
                    let tol = gamma(n) * n as f64 * kappa;
                    assert!(
                        close(ax[i * n + j], want, tol),
                        "A X - I at ({i},{j}): {:e}",
                        ax[i * n + j] - want
                    );
                    assert!(
                        close(x[i * n + j], x[j * n + i], tol * max_abs(&x)),
                        "inverse not symmetric"
                    );
                }
            }
        }
        Err(e) => documented!(
            e,
            "inverse_into",
            Error::DimensionMismatch { .. } | Error::Overflow { .. }
        ),
    }
}

/// Factors a decoded matrix with the right workspace; `None` unless it is
/// positive definite and finite.
fn factored(r: &mut Bytes) -> Option<(usize, Vec<f64>)> {
    let n = r.size(12, 64);
    let mut a = r.symmetric(n);
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
    cholesky_in_place(MatMut::from_row_major(&mut a, n, n).ok()?, &mut ws).ok()?;
    Some((n, a))
}

/// Up to three rank-one updates or downdates of a factor: on `Ok` the new
/// factor reproduces `L L^T +- x x^T`; on error the storage is unchanged
/// bit for bit (`DowndateFailed` included).
fn update_downdate(r: &mut Bytes) {
    let Some((n, mut storage)) = factored(r) else {
        return;
    };
    for _ in 0..3 {
        let down = r.u8() & 1 == 1;
        let x = r.vector(n);
        let needed = if down {
            cholesky_downdate_workspace_len(n)
        } else {
            cholesky_update_workspace_len(n)
        };
        let mut ws = r.workspace(needed);
        let before = storage.clone();
        let mut chol =
            Cholesky::from_factor(MatMut::from_row_major(&mut storage, n, n).expect("view"))
                .expect("valid factor");
        let res = if down {
            chol.downdate(&x, &mut ws)
        } else {
            chol.update(&x, &mut ws)
        };
        match res {
            Ok(()) => check_rank_one(
                &lower(chol.l()),
                &lower(MatRef::from_row_major(&before, n, n).expect("view")),
                &x,
                n,
                down,
            ),
            Err(e) => {
                if let (true, Error::Overflow { .. }) = (down, e) {
                    // documented since gramkit 5d498f9 (was finding 2/5)
                } else if down {
                    documented!(
                        e,
                        "downdate",
                        Error::DimensionMismatch { .. }
                            | Error::WorkspaceTooSmall { .. }
                            | Error::NonFinite { .. }
                            | Error::DowndateFailed { .. }
                    );
                } else {
                    documented!(
                        e,
                        "update",
                        Error::DimensionMismatch { .. }
                            | Error::WorkspaceTooSmall { .. }
                            | Error::NonFinite { .. }
                            | Error::Overflow { .. }
                    );
                }
                assert_same_bits(&before, &storage, "factor after failed update/downdate");
            }
        }
    }
}

/// `L' L'^T = L L^T +- x x^T` within the rounding of the rotations,
/// `gamma(n) |row_i| |row_j|` for the rows of `[L | x]`. An update is
/// backward stable. A downdate's error grows like `1 / alpha^2`,
/// `alpha^2 = 1 - |L^{-1} x|^2` (the documented definiteness margin):
/// skipped (finiteness only) when `alpha^2 < 1e-6`, too close to losing
/// definiteness for a meaningful bound.
fn check_rank_one(new: &[f64], old: &[f64], x: &[f64], n: usize, down: bool) {
    assert_finite(new, "updated factor");
    let sign = if down { -1.0 } else { 1.0 };
    let (llt, abs_old) = (gram(old, n, n, false), gram(old, n, n, true));
    let (xxt, abs_xxt) = (gram(x, n, 1, false), gram(x, n, 1, true));
    let want: Vec<f64> = (0..n * n).map(|k| llt[k] + sign * xxt[k]).collect();
    let mut amplify = 1.0;
    if down {
        let mut p = x.to_vec();
        for i in 0..n {
            let s: f64 = (0..i).map(|k| old[i * n + k] * p[k]).sum();
            p[i] = (p[i] - s) / old[i * n + i];
        }
        let alpha2 = 1.0 - p.iter().map(|v| v * v).sum::<f64>();
        if !(alpha2 >= 1e-6) {
            return; // too close to indefinite: no meaningful bound
        }
        amplify = 1.0 / alpha2;
    }
    // rotations keep the norms of the rows of [L | x]: the error of entry
    // (i, j) is bounded through the norms of rows i and j
    let rows: Vec<f64> = (0..n)
        .map(|i| abs_old[i * n + i] + abs_xxt[i * n + i])
        .collect();
    let slack: Vec<f64> = (0..n * n)
        .map(|k| amplify * (rows[k / n] * rows[k % n]).sqrt())
        .collect();
    assert_factor_of(
        new,
        &want,
        &slack,
        n,
        if down { "downdate" } else { "update" },
    );
}

/// Jitter options: mostly the default, sometimes hostile.
fn jitter_options(r: &mut Bytes) -> JitterOptions<f64> {
    if r.rare(2) {
        JitterOptions {
            initial: r.value(),
            growth: r.value(),
            max: r.value(),
        }
    } else {
        JitterOptions::default()
    }
}

/// `cholesky_jitter_in_place`: on `Ok` `(L, s)`, `L L^T = A + s I` with `s`
/// zero or within the schedule; on error the (symmetric) input is
/// unchanged bit for bit.
fn jitter(r: &mut Bytes) {
    let (n, cols, before) = input(r);
    let opts = jitter_options(r);
    let mut a = before.clone();
    let mut ws = r.workspace(cholesky_jitter_in_place_workspace_len(n));
    let view = MatMut::from_row_major(&mut a, n, cols).expect("view");
    match cholesky_jitter_in_place(view, opts, &mut ws) {
        Ok((chol, s)) => {
            let mean = (0..n).map(|i| before[i * n + i]).sum::<f64>() / n as f64;
            assert!(
                s == 0.0 || (s > 0.0 && s <= opts.max * mean * (1.0 + 1e-12)),
                "jitter {s:e} outside the schedule"
            );
            let want: Vec<f64> = (0..n * n)
                .map(|k| before[k] + if k % (n + 1) == 0 { s } else { 0.0 })
                .collect();
            let l = lower(chol.l());
            assert_finite(&l, "jitter L");
            let slack: Vec<f64> = (0..n * n)
                .map(|k| if k % (n + 1) == 0 { s } else { 0.0 })
                .collect();
            assert_factor_of(&l, &want, &slack, n, "cholesky_jitter_in_place");
        }
        Err(e) => {
            documented!(
                e,
                "cholesky_jitter_in_place",
                Error::DimensionMismatch { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::NonFinite { .. }
                    | Error::InvalidParameter { .. }
                    | Error::NotPositiveDefinite { .. }
            );
            assert_same_bits(&before, &a, "jitter input after error");
        }
    }
}

/// `pivoted_cholesky` on a view or a closure: on `Ok`, `perm` is a
/// permutation, `G`'s columns past the rank are zero, and `G G^T`
/// reproduces every pivot column of `A` (the residual vanishes there) to
/// `gamma(rank) (|a_iq| + (|G| |G|^T)_iq)`, condition-free.
fn pivoted(r: &mut Bytes) {
    let (n, cols, a) = input(r);
    let max_rank = r.size(n + 1, n + 1);
    let tolerance = if r.rare(2) {
        r.value()
    } else {
        r.positive() / 64.0
    };
    let opts = PivotedOptions {
        max_rank,
        tolerance,
    };
    let (plen, grows) = (r.len(n), r.len(n));
    let mut perm = vec![usize::MAX; plen];
    let mut g = vec![f64::NAN; grows * max_rank];
    let mut ws = r.workspace(pivoted_cholesky_workspace_len(n));
    let g_view = MatMut::from_row_major(&mut g, grows, max_rank).expect("view");
    let view = MatRef::from_row_major(&a, n, cols).expect("view");
    let res = if cols != n || r.u8() & 1 == 0 {
        pivoted_cholesky(&view, opts, &mut perm, g_view, &mut ws)
    } else {
        let f = FnSource::new(n, |i: usize, j: usize| a[i.max(j) * cols + i.min(j)]);
        pivoted_cholesky(&f, opts, &mut perm, g_view, &mut ws)
    };
    match res {
        Ok(out) => check_pivoted(&a, n, &g, max_rank, &perm, out),
        Err(Error::Overflow { .. }) => {
            // only a residual trace above MAX, bounded by sum max(a_ii, 0)
            let trace: f64 = (0..n).map(|i| a[i * n + i].max(0.0)).sum();
            assert!(
                !(trace < f64::MAX / 2.0),
                "pivoted_cholesky: Overflow for a trace of {trace:e}"
            );
        }
        Err(e) => documented!(
            e,
            "pivoted_cholesky",
            Error::DimensionMismatch { .. }
                | Error::WorkspaceTooSmall { .. }
                | Error::NonFinite { .. }
                | Error::InvalidParameter { .. }
                | Error::NotPositiveDefinite { .. }
        ),
    }
}

/// The `Ok` properties of [`pivoted`].
fn check_pivoted(
    a: &[f64],
    n: usize,
    g: &[f64],
    m: usize,
    perm: &[usize],
    out: PivotedCholesky<f64>,
) {
    assert!(out.rank <= m.min(n), "rank {} above {m}", out.rank);
    assert!(
        out.residual_trace.is_finite() && out.residual_trace >= 0.0,
        "residual trace {:e}",
        out.residual_trace
    );
    assert_finite(g, "pivoted G");
    let mut seen = vec![false; n];
    perm.iter().for_each(|&p| seen[p] = true);
    assert!(
        seen.iter().all(|&s| s),
        "perm is not a permutation: {perm:?}"
    );
    for i in 0..n {
        assert!(
            g[i * m + out.rank..(i + 1) * m].iter().all(|&v| v == 0.0),
            "G column past rank not zero"
        );
    }
    assert_pivot_columns(a, n, g, m, &perm[..out.rank]);
}
