//! The fair null-space projection: `fair_transform` (exact mode),
//! `fair_transform_in_place`, `fair_transform_nystrom` (given or greedy
//! landmarks) and `FairSteps::transform_new`.

use super::reader::Bytes;
use super::util::*;
use gramkit::fair::*;
use gramkit::nystrom::{NystromInverse, nystrom_storage_len, nystrom_workspace_len};
use gramkit::{Error, MatMut, MatRef};

/// The decoded problem.
struct Case {
    n: usize,
    p: usize,
    k: Vec<f64>,
    protected: Vec<f64>,
    opts: FairOptions<f64>,
}

/// Which entry point.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Exact,
    InPlace,
    Given,
    Greedy,
}

/// Decodes a kernel (`n <= 24`), `p` protected attributes (0 to 3, rows
/// possibly mismatched), `lambda`, iterations and a mode, runs the
/// transform and checks it (see [`check_ok`]); on error only documented
/// variants occur and `fair_transform_in_place` leaves `K` unchanged bit
/// for bit.
pub fn check_fair(data: &[u8]) {
    let mut r = Bytes::new(data);
    let n = r.size(8, 24);
    let p = r.size(2, 3);
    let prot_rows = r.len(n);
    let c = Case {
        n,
        p,
        k: r.symmetric(n),
        protected: r.values(prot_rows * p),
        opts: FairOptions {
            lambda: if r.rare(3) { r.value() } else { r.positive() },
            iterations: r.size(3, 3),
        },
    };
    let mode = [Mode::Exact, Mode::InPlace, Mode::Given, Mode::Greedy][r.choose(4)];
    let m = r.size(n, n + 1);
    let landmarks: Vec<usize> = (0..m).map(|_| r.size(n, n)).collect();
    let mut steps = r.workspace(fair_steps_len(n, p, c.opts.iterations));
    let ws_len = match mode {
        Mode::Exact | Mode::InPlace => fair_workspace_len(n, p, c.opts.iterations),
        _ => fair_nystrom_workspace_len(n, m, p, c.opts.iterations),
    };
    let mut ws = r.workspace(ws_len);
    let mut iws = vec![usize::MAX; r.len(n)];
    let out_rows = if mode == Mode::InPlace { n } else { r.len(n) };
    let mut out = if mode == Mode::InPlace {
        c.k.clone()
    } else {
        vec![f64::NAN; out_rows * n]
    };
    let with_out = mode == Mode::InPlace || !r.rare(3);
    let prot = MatRef::from_row_major(&c.protected, prot_rows, p).expect("view");
    let out_view = with_out.then(|| MatMut::from_row_major(&mut out, out_rows, n).expect("view"));
    let kv = MatRef::from_row_major(&c.k, n, n).expect("view");
    let res = match mode {
        Mode::Exact => fair_transform(&kv, prot, c.opts, out_view, &mut steps, &mut ws, &mut iws),
        Mode::InPlace => fair_transform_in_place(
            out_view.expect("in place"),
            prot,
            c.opts,
            &mut steps,
            &mut ws,
            &mut iws,
        ),
        Mode::Given => fair_transform_nystrom(
            &kv,
            prot,
            c.opts,
            Landmarks::Given(&landmarks),
            out_view,
            &mut steps,
            &mut ws,
            &mut iws,
        ),
        Mode::Greedy => fair_transform_nystrom(
            &kv,
            prot,
            c.opts,
            Landmarks::Greedy { m },
            out_view,
            &mut steps,
            &mut ws,
            &mut iws,
        ),
    };
    match res {
        Ok((steps, report)) => {
            let Some((kref, jitter)) = reference_kernel(&c, mode, &landmarks, m) else {
                return;
            };
            let out = with_out.then_some(&out[..]);
            check_ok(&mut r, &c, &kref, mode, jitter, out, &steps, report);
        }
        Err(e) => {
            if mode == Mode::InPlace {
                assert_same_bits(&c.k, &out, "fair_transform_in_place K after error");
            }
            match mode {
                Mode::Exact | Mode::InPlace
                    if matches!(
                        e,
                        Error::Overflow { .. } | Error::NotPositiveDefinite { .. }
                    ) =>
                {
                    // documented since gramkit 5d498f9 (was finding 2/5)
                }
                _ if matches!(e, Error::Overflow { .. }) => {} // documented since gramkit 5d498f9 (was finding 5)
                Mode::Exact | Mode::InPlace => documented!(
                    e,
                    "fair_transform",
                    Error::InvalidParameter { .. }
                        | Error::DimensionMismatch { .. }
                        | Error::NonFinite { .. }
                        | Error::WorkspaceTooSmall { .. }
                ),
                _ => documented!(
                    e,
                    "fair_transform_nystrom",
                    Error::InvalidParameter { .. }
                        | Error::DimensionMismatch { .. }
                        | Error::NonFinite { .. }
                        | Error::WorkspaceTooSmall { .. }
                        | Error::NotPositiveDefinite { .. }
                ),
            }
        }
    }
}

/// The kernel the transform works on: `K` in exact mode, `B B^T` of the
/// same Nystroem approximation (rebuilt with the same inputs) otherwise;
/// and the jitter that approximation added to `K[S, S]`.
fn reference_kernel(
    c: &Case,
    mode: Mode,
    landmarks: &[usize],
    m: usize,
) -> Option<(Vec<f64>, f64)> {
    let n = c.n;
    if matches!(mode, Mode::Exact | Mode::InPlace) {
        return Some((c.k.clone(), 0.0));
    }
    let kv = MatRef::from_row_major(&c.k, n, n).ok()?;
    let mut storage = vec![0.0; nystrom_storage_len(n, m)];
    let mut ws = vec![0.0; nystrom_workspace_len(n, m)];
    let mut piv = vec![0; n];
    let inv = match mode {
        Mode::Given => {
            NystromInverse::from_landmarks(&kv, landmarks, c.opts.lambda, &mut storage, &mut ws)
        }
        _ => NystromInverse::greedy(&kv, m, 0.0, c.opts.lambda, &mut piv, &mut storage, &mut ws),
    }
    .expect("the transform built the same Nystroem approximation");
    Some((
        gram(&to_vec(inv.factor()), n, inv.rank(), false),
        inv.jitter(),
    ))
}

/// The removed directions `(a_l, u_l)` of the steps, all finite.
fn directions(steps: &FairSteps<'_, f64>) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut dirs = Vec::new();
    for j in 0..steps.applied() {
        let (a, u) = steps.get(j).expect("applied step");
        let (a, u) = (to_vec(a), to_vec(u));
        for c in 0..steps.p() {
            let col = |v: &[f64]| {
                (0..steps.n())
                    .map(|i| v[i * steps.p() + c])
                    .collect::<Vec<f64>>()
            };
            dirs.push((col(&a), col(&u)));
        }
    }
    dirs.iter().for_each(|(a, u)| {
        assert_finite(a, "fair dual vector");
        assert_finite(u, "fair direction values");
    });
    dirs
}

/// On `Ok`: report consistent; values `u_l = K a_l`; directions
/// biorthonormal (unless the Nystroem approximation needed a jitter); `K_k`
/// (when written) symmetric, positive semidefinite to rounding and equal to
/// `K_ref - sum_l u_l u_l^T`; fairness `K_k alpha = 0` for
/// `alpha = (K_ref + lambda I)^{-1} A`; then `transform_new`.
#[allow(clippy::too_many_arguments)]
fn check_ok(
    r: &mut Bytes,
    c: &Case,
    kref: &[f64],
    mode: Mode,
    jitter: f64,
    out: Option<&[f64]>,
    steps: &FairSteps<'_, f64>,
    rep: FairReport<f64>,
) {
    let n = c.n;
    assert!(
        rep.applied <= c.opts.iterations && rep.applied == steps.applied(),
        "applied {}",
        rep.applied
    );
    assert!(
        rep.directions <= rep.applied * c.p && rep.rank <= n,
        "report {rep:?}"
    );
    assert!(
        rep.lambda.is_finite() && rep.lambda >= c.opts.lambda,
        "lambda {:e}",
        rep.lambda
    );
    assert_eq!((steps.n(), steps.p()), (n, c.p), "steps shape");
    let dirs = directions(steps);
    let maxdiag = (0..n).map(|i| kref[i * n + i]).fold(0.0, f64::max);
    // exact mode on a kernel that is not PSD: outside the routine's domain,
    // the transform is of a PSD approximation F F^T whose rows are not
    // bounded by sqrt(k_ii); structural checks only (K_ref = B B^T of the
    // Nystroem modes is PSD)
    let psd = ref_cholesky(
        &shift(kref, n, gamma(n) * n as f64 * maxdiag + UNDERFLOW),
        n,
    )
    .is_some();
    if psd || !matches!(mode, Mode::Exact | Mode::InPlace) {
        values_are_k_times_duals(&c.k, &dirs, n, maxdiag + jitter);
        // with a jitter d on K[S, S] = L_W L_W^T - d I, a_l . u_m =
        // delta_lm - d w_l^T (L_W^T L_W)^{-1} w_m (documented): not rounding
        if let (0.0, Err(msg)) = (jitter, biorthonormal(&dirs, n, maxdiag)) {
            panic!("fair directions not orthonormal: {msg}");
        }
    }
    if let Some(kk) = out {
        assert_finite(kk, "K_k");
        check_kernel(kk, kref, &dirs, n, maxdiag, psd);
        if psd && rep.applied >= 1 {
            fairness(c, kref, kk, rep.lambda, maxdiag);
        }
    }
    transform_new(
        r,
        steps,
        &dirs,
        kref,
        out.filter(|_| psd && mode != Mode::Given && mode != Mode::Greedy),
        maxdiag,
    );
}

/// `a + s I`.
fn shift(a: &[f64], n: usize, s: f64) -> Vec<f64> {
    (0..n * n)
        .map(|k| a[k] + if k % (n + 1) == 0 { s } else { 0.0 })
        .collect()
}

/// `u_l = K a_l` (the exact `K`; `a_l` lives on the landmarks in Nystroem
/// mode, where `K[:, S] L_W^{-T} = B`), within `gamma(n) n (|K| |a_l| +
/// m |a_l|_1)` for `m` bounding `|F_i| |F_s|` (the backward errors of `F`
/// and of the dual solve), plus `2^-1074 |a_l|_1` per term for a kernel in
/// the subnormal range.
fn values_are_k_times_duals(k: &[f64], dirs: &[(Vec<f64>, Vec<f64>)], n: usize, bound: f64) {
    let m = (0..n).map(|i| k[i * n + i]).fold(bound, f64::max);
    for (l, (a, u)) in dirs.iter().enumerate() {
        let ka = matmul(k, false, a, n, n, 1, false);
        let abs = matmul(k, false, a, n, n, 1, true);
        let a1: f64 = a.iter().map(|v| v.abs()).sum();
        // (F F^T = K holds to 2^-1074 per entry where K is subnormal)
        let tol: Vec<f64> = abs
            .iter()
            .map(|t| 4.0 * gamma(n) * n as f64 * (t + m * a1) + underflow(a1, n))
            .collect();
        assert_close_all(u, &ka, &tol, &format!("u_{l} vs K a_{l}"));
    }
}

/// `a_l . u_m = 1` for `l = m` removed, 0 otherwise (dropped directions are
/// zeros), within `gamma(n) |a_l| (|u_m| + sqrt(max k_ii))`: the dual
/// solve's backward error against `|F| |w| <= sqrt(k_ii)` (condition-free).
fn biorthonormal(dirs: &[(Vec<f64>, Vec<f64>)], n: usize, maxdiag: f64) -> Result<(), String> {
    for (l, (a, _)) in dirs.iter().enumerate() {
        let removed = a.iter().any(|&v| v != 0.0);
        for (m, (_, u)) in dirs.iter().enumerate() {
            let dot: f64 = a.iter().zip(u).map(|(x, y)| x * y).sum();
            let bound: f64 = a
                .iter()
                .zip(u)
                .map(|(x, y)| x.abs() * (y.abs() + maxdiag.sqrt()))
                .sum();
            let want = if l == m && removed { 1.0 } else { 0.0 };
            let tol = 4.0 * gamma(n) * n as f64 * bound + 1e-12;
            if !close(dot, want, tol) {
                return Err(format!(
                    "a_{l} . u_{m} = {dot:e}, want {want} (tol {tol:e})"
                ));
            }
        }
    }
    Ok(())
}

/// `K_k` symmetric, PSD to rounding, and (for a PSD input) `K_ref - sum
/// u_l u_l^T` within `gamma(n) (n max k_ii + sum_l |u_l| |u_l|^T)`.
fn check_kernel(
    kk: &[f64],
    kref: &[f64],
    dirs: &[(Vec<f64>, Vec<f64>)],
    n: usize,
    maxdiag: f64,
    psd: bool,
) {
    let scale = max_abs(kk).max(maxdiag);
    for i in 0..n {
        for j in 0..i {
            assert!(
                close(kk[i * n + j], kk[j * n + i], gamma(n) * scale),
                "K_k not symmetric at ({i},{j})"
            );
        }
    }
    let delta = 4.0 * gamma(n) * n as f64 * scale + UNDERFLOW;
    assert!(
        ref_cholesky(&shift(kk, n, delta), n).is_some(),
        "K_k not PSD to rounding"
    );
    if !psd {
        return;
    }
    for i in 0..n {
        for j in 0..n {
            let (mut want, mut bound) = (kref[i * n + j], n as f64 * maxdiag);
            for (_, u) in dirs {
                want -= u[i] * u[j];
                bound += (u[i] * u[j]).abs();
            }
            assert!(
                close(kk[i * n + j], want, gamma(n) * bound + UNDERFLOW),
                "K_k[{i}][{j}] = {:e}, K - sum u u^T = {want:e}",
                kk[i * n + j]
            );
        }
    }
}

/// `K_k alpha = 0` for `alpha = (K_ref + lambda I)^{-1} A`: what predicted
/// `A` is gone. The error grows with `kappa = (|K|_inf + lambda) / lambda`;
/// skipped when `n eps kappa > 1e-6`, too ill-conditioned for a meaningful
/// bound.
fn fairness(c: &Case, kref: &[f64], kk: &[f64], lambda: f64, maxdiag: f64) {
    let (n, p) = (c.n, c.p);
    let norm = norm_inf(kref, n, n);
    let kappa = (norm + lambda) / lambda;
    if !(gamma(n) * n as f64 * kappa <= 1e-6) {
        return;
    }
    let Some(l) = ref_cholesky(&shift(kref, n, lambda), n) else {
        return;
    };
    let mut alpha = c.protected.clone();
    ref_solve(&l, n, &mut alpha, p);
    let ka = matmul(kk, false, &alpha, n, n, p, false);
    // |K| |alpha| first: with a subnormal K, eps |K| alone underflows; and
    // entries of K_k in the subnormal range are off by 2^-1074 each,
    // which alpha multiplies
    let tol = gamma(n) * (n * n) as f64 * kappa * (maxdiag * max_abs(&alpha))
        + underflow(n as f64 * max_abs(&alpha), n);
    if let Some(i) = ka.iter().position(|v| !close(*v, 0.0, tol)) {
        panic!("fairness: (K_k alpha)[{i}] = {:e}, tol {tol:e}", ka[i]);
    }
}

/// `transform_new` on decoded rows (or, sometimes, the training rows of
/// `K`): on `Ok`, each row is `x - sum_l (a_l . x) u_l` and `diag` is
/// `d - sum_l (a_l . x)^2`; a training row of a PSD `K` in exact mode
/// comes back as its row of `K_k`. On error `rows` and `diag` are
/// unchanged bit for bit.
fn transform_new(
    r: &mut Bytes,
    steps: &FairSteps<'_, f64>,
    dirs: &[(Vec<f64>, Vec<f64>)],
    kref: &[f64],
    kk: Option<&[f64]>,
    maxdiag: f64,
) {
    let n = steps.n();
    let t = r.size(3, 3);
    let cols = r.len(n);
    let training: Vec<usize> = (0..t).map(|_| r.size(n.saturating_sub(1), 0)).collect();
    let use_training = kk.is_some() && cols == n && n > 0 && r.u8() & 1 == 0;
    let rows: Vec<f64> = if use_training {
        training
            .iter()
            .flat_map(|&i| kref[i * n..(i + 1) * n].to_vec())
            .collect()
    } else {
        r.values(t * cols)
    };
    let diag: Vec<f64> = r.vector(t);
    let with_diag = !r.rare(2);
    let (mut got, mut got_diag) = (rows.clone(), diag.clone());
    let mut ws = r.workspace(steps.transform_workspace_len());
    let view = MatMut::from_row_major(&mut got, t, cols).expect("view");
    // a bound on every intermediate, for an `Overflow` to be genuine
    let worst = (0..t)
        .map(|i| magnitude(dirs, &rows[i * cols..(i + 1) * cols]))
        .fold(0.0, f64::max)
        + if with_diag { max_abs(&diag) } else { 0.0 };
    match steps.transform_new(view, with_diag.then_some(&mut got_diag[..]), &mut ws) {
        Ok(()) => {
            assert_finite(&got, "transform_new rows");
            if with_diag {
                assert_finite(&got_diag, "transform_new diag");
            }
            for i in 0..t {
                let x = &rows[i * n..(i + 1) * n];
                let (want, want_d, tol, tol_d) =
                    formula(dirs, x, diag.get(i).copied().unwrap_or(0.0));
                assert_close_all(&got[i * n..(i + 1) * n], &want, &tol, "transform_new row");
                if with_diag {
                    assert!(
                        close(got_diag[i], want_d, tol_d),
                        "transform_new diag {:e} vs {want_d:e}",
                        got_diag[i]
                    );
                }
                if let (true, Some(kk)) = (use_training, kk) {
                    let tol: Vec<f64> = (0..n)
                        .map(|j| {
                            gamma(n)
                                * n as f64
                                * (maxdiag
                                    + dirs
                                        .iter()
                                        .map(|(a, u)| {
                                            a.iter().map(|v| v.abs()).sum::<f64>()
                                                * maxdiag
                                                * u[j].abs()
                                        })
                                        .sum::<f64>())
                                + UNDERFLOW
                        })
                        .collect();
                    let row = training[i];
                    let (g, want) = (&got[i * n..(i + 1) * n], &kk[row * n..(row + 1) * n]);
                    if let Some(j) = (0..n).find(|&j| !close(g[j], want[j], tol[j])) {
                        panic!(
                            "transform_new of training row {row}: {:e} vs K_k {:e} at {j}",
                            g[j], want[j]
                        );
                    }
                }
            }
        }
        Err(e) => {
            documented!(
                e,
                "transform_new",
                Error::DimensionMismatch { .. }
                    | Error::NonFinite { .. }
                    | Error::WorkspaceTooSmall { .. }
                    | Error::Overflow { .. }
            );
            assert_genuine_overflow(&e, worst, "transform_new");
            assert_same_bits(&rows, &got, "transform_new rows after error");
            assert_same_bits(&diag, &got_diag, "transform_new diag after error");
        }
    }
}

/// A bound on every intermediate of `transform_new` for the row `x`:
/// `|x| + sum_l c_l (|u_l| + c_l)` with `c_l = |a_l| . |x|`.
fn magnitude(dirs: &[(Vec<f64>, Vec<f64>)], x: &[f64]) -> f64 {
    let c = |a: &[f64]| a.iter().zip(x).map(|(p, q)| (p * q).abs()).sum::<f64>();
    max_abs(x)
        + dirs
            .iter()
            .map(|(a, u)| c(a) * (max_abs(u) + c(a)))
            .sum::<f64>()
}

/// The documented result for one row `x` and its `d = k(x, x)`, with
/// rounding tolerances: `(row, diag, row tolerances, diag tolerance)`.
fn formula(dirs: &[(Vec<f64>, Vec<f64>)], x: &[f64], d: f64) -> (Vec<f64>, f64, Vec<f64>, f64) {
    let n = x.len();
    let mut want = x.to_vec();
    let mut tol: Vec<f64> = x.iter().map(|v| v.abs()).collect();
    let (mut want_d, mut tol_d) = (d, d.abs());
    for (a, u) in dirs {
        let coef: f64 = a.iter().zip(x).map(|(p, q)| p * q).sum();
        let bound: f64 = a.iter().zip(x).map(|(p, q)| (p * q).abs()).sum();
        for j in 0..n {
            want[j] -= coef * u[j];
            tol[j] += bound * u[j].abs();
        }
        want_d -= coef * coef;
        tol_d += 2.0 * bound * bound;
    }
    let g = gamma(n + dirs.len());
    (
        want,
        want_d,
        tol.iter().map(|t| g * t + UNDERFLOW).collect(),
        g * tol_d + UNDERFLOW,
    )
}
