//! The fair null-space projection (iterated Z_k transform) against direct
//! implementations of its definition, its guarantees, new points, and every
//! error path.
mod common;

use common::{Dense, Rng, dense_solve};
use gramkit::cholesky::{FnSource, SymmetricSource};
use gramkit::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::fair::{
    FairOptions, FairReport, FairSteps, Landmarks, fair_index_workspace_len,
    fair_nystrom_workspace_len, fair_steps_len, fair_transform, fair_transform_in_place,
    fair_transform_nystrom, fair_transform_with_nystrom, fair_with_nystrom_workspace_len,
    fair_workspace_len,
};
use gramkit::{Error, MatRef, Real};
use proptest::prelude::*;

/// Random points in `[0, 3]^2` and an RBF kernel on them (lengthscale `ls`),
/// plus attributes that depend on the first coordinate (and the second).
fn problem(n: usize, ls: f64, seed: u64) -> (Vec<[f64; 2]>, Dense<f64>, Dense<f64>) {
    let mut rng = Rng(seed);
    let pts: Vec<[f64; 2]> = (0..n)
        .map(|_| [1.5 + 1.5 * rng.uniform(), 1.5 + 1.5 * rng.uniform()])
        .collect();
    let k = rbf(&pts, &pts, ls);
    let a = Dense::from_fn(n, 2, |i, c| {
        if c == 0 {
            20.0 + 10.0 * pts[i][0]
        } else {
            pts[i][1] - 0.5 * pts[i][0]
        }
    });
    (pts, k, a)
}

fn rbf(x: &[[f64; 2]], y: &[[f64; 2]], ls: f64) -> Dense<f64> {
    Dense::from_fn(x.len(), y.len(), |i, j| {
        let d2 = (x[i][0] - y[j][0]).powi(2) + (x[i][1] - y[j][1]).powi(2);
        (-0.5 * d2 / (ls * ls)).exp()
    })
}

fn first_columns(a: &Dense<f64>, p: usize) -> Dense<f64> {
    Dense::from_fn(a.n, p, |i, c| a.at(i, c))
}

/// Runs the exact transform; returns `K_k`, the report and the steps data.
fn exact(
    k: &Dense<f64>,
    a: &Dense<f64>,
    lambda: f64,
    iterations: usize,
) -> (Dense<f64>, FairReport<f64>, Vec<f64>) {
    let (kk, report, steps, ()) = exact_then(k, a, lambda, iterations, |_| ());
    (kk, report, steps)
}

/// [`exact`], then `then` on the steps: `(K_k, report, steps storage,
/// then's result)`.
fn exact_then<R>(
    k: &Dense<f64>,
    a: &Dense<f64>,
    lambda: f64,
    iterations: usize,
    then: impl FnOnce(FairSteps<'_, f64>) -> R,
) -> (Dense<f64>, FairReport<f64>, Vec<f64>, R) {
    let (n, p) = (k.n, a.m);
    let mut kk = Dense::zeros(n, n);
    let mut steps = vec![0.0; fair_steps_len(n, p, iterations)];
    let mut ws = vec![0.0; fair_workspace_len(n, p, iterations)];
    let mut iws = vec![0; fair_index_workspace_len(n)];
    let opts = FairOptions { lambda, iterations };
    let (s, report) = fair_transform(
        &k.view(),
        a.view(),
        opts,
        Some(kk.view_mut()),
        &mut steps,
        &mut ws,
        &mut iws,
    )
    .unwrap();
    assert_eq!(s.applied(), report.applied);
    let out = then(s);
    (kk, report, steps, out)
}

/// The definition, refactoring every step: `alpha = (K + lambda I)^{-1} A`,
/// `U = K alpha`, `C = alpha^T U`, `K <- K - U C^{-1} U^T` (plain f64 loops).
fn direct(k: &Dense<f64>, a: &Dense<f64>, lambda: f64, iterations: usize) -> Dense<f64> {
    let (n, p) = (k.n, a.m);
    let mut kj = k.clone();
    for _ in 0..iterations {
        let kl = Dense::from_fn(n, n, |i, j| kj.at(i, j) + if i == j { lambda } else { 0.0 });
        let cols: Vec<Vec<f64>> = (0..p)
            .map(|c| dense_solve(&kl, &(0..n).map(|i| a.at(i, c)).collect::<Vec<_>>()))
            .collect();
        let alpha = Dense::from_fn(n, p, |i, c| cols[c][i]);
        let u = kj.matmul(&alpha);
        let c = alpha.transpose().matmul(&u);
        let cinv = invert_small(&c);
        let correction = u.matmul(&cinv).matmul(&u.transpose());
        kj = Dense::from_fn(n, n, |i, j| kj.at(i, j) - correction.at(i, j));
    }
    kj
}

fn invert_small(c: &Dense<f64>) -> Dense<f64> {
    let p = c.n;
    let cols: Vec<Vec<f64>> = (0..p)
        .map(|j| {
            dense_solve(
                c,
                &(0..p)
                    .map(|i| if i == j { 1.0 } else { 0.0 })
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    Dense::from_fn(p, p, |i, j| cols[j][i])
}

fn min_eigenvalue(k: &Dense<f64>) -> f64 {
    let mut values = vec![0.0; k.n];
    let mut ws = vec![0.0; symmetric_eigen_workspace_len(k.n, false)];
    symmetric_eigen(k.view(), &mut values, None, &mut ws).unwrap();
    values.first().copied().unwrap_or(0.0)
}

/// `R^2` of ridge regression of `y` on the kernel `k` (ridge `mu`).
fn ridge_r2(k: &Dense<f64>, y: &[f64], mu: f64) -> f64 {
    let n = k.n;
    let kl = Dense::from_fn(n, n, |i, j| k.at(i, j) + if i == j { mu } else { 0.0 });
    let beta = dense_solve(&kl, y);
    let fitted: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| k.at(i, j) * beta[j]).sum())
        .collect();
    let mean = y.iter().sum::<f64>() / n as f64;
    let ss_res: f64 = y.iter().zip(&fitted).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    1.0 - ss_res / ss_tot
}

#[test]
fn matches_the_direct_definition() {
    for (p, iterations) in [(1, 1), (1, 4), (2, 3)] {
        let (_, k, a) = problem(30, 0.8, 7 + p as u64);
        let a = first_columns(&a, p);
        let (kk, report, _) = exact(&k, &a, 0.1, iterations);
        assert_eq!(report.applied, iterations);
        let reference = direct(&k, &a, 0.1, iterations);
        let err = kk.max_diff(&reference);
        assert!(err < 1e-9 * k.max_abs(), "p={p} k={iterations}: {err}");
    }
}

#[test]
fn well_conditioned_kernels_take_the_full_rank_path() {
    // K = B B^T / n + I: numerically positive definite, so F is its Cholesky
    // factor. Against the feature-space route: the naive recurrence of
    // `direct` already drifts here (1e-8) as its normalisers shrink.
    for n in [20usize, 35, 64] {
        let mut rng = Rng(12);
        let b = Dense::<f64>::from_fn(n, n, |_, _| rng.uniform());
        let bb = b.matmul(&b.transpose());
        let k = Dense::from_fn(n, n, |i, j| {
            bb.at(i, j) / n as f64 + if i == j { 1.0 } else { 0.0 }
        });
        let a = Dense::from_fn(n, 1, |i, _| b.at(i, 0));
        let (kk, report, _) = exact(&k, &a, 0.05, 3);
        assert_eq!(report.rank, n);
        let err = kk.max_diff(&feature_space(&k, &a, 0.05, 3));
        assert!(err < 1e-11 * k.max_abs(), "n = {n}: {err}");
    }
}

/// The definition in the empirical feature space: `K = F F^T` with
/// `F = V diag(sqrt(w))`, then explicit projections `F <- F (I - w w^T / |w|^2)`
/// of the rows of `F` (`p = 1`).
fn feature_space(k: &Dense<f64>, a: &Dense<f64>, lambda: f64, iterations: usize) -> Dense<f64> {
    let n = k.n;
    let mut w = vec![0.0; n];
    let mut v = Dense::<f64>::zeros(n, n);
    let mut ws = vec![0.0; symmetric_eigen_workspace_len(n, true)];
    symmetric_eigen(k.view(), &mut w, Some(v.view_mut()), &mut ws).unwrap();
    let mut f = Dense::from_fn(n, n, |i, j| v.at(i, j) * w[j].max(0.0).sqrt());
    for _ in 0..iterations {
        let kj = f.matmul(&f.transpose());
        let kl = Dense::from_fn(n, n, |i, j| kj.at(i, j) + if i == j { lambda } else { 0.0 });
        let alpha = dense_solve(&kl, &a.data);
        let wv: Vec<f64> = (0..n)
            .map(|c| (0..n).map(|i| f.at(i, c) * alpha[i]).sum())
            .collect();
        let ww: f64 = wv.iter().map(|x| x * x).sum();
        let p = Dense::from_fn(
            n,
            n,
            |i, j| if i == j { 1.0 } else { 0.0 } - wv[i] * wv[j] / ww,
        );
        f = f.matmul(&p);
    }
    f.matmul(&f.transpose())
}

#[test]
fn feature_space_route_equals_kernel_route() {
    let (_, k, a) = problem(25, 1.0, 3);
    let a = first_columns(&a, 1);
    let (kk, _, _) = exact(&k, &a, 0.05, 3);
    let reference = feature_space(&k, &a, 0.05, 3);
    assert!(
        kk.max_diff(&reference) < 1e-9,
        "{}",
        kk.max_diff(&reference)
    );
}

#[test]
fn result_equals_z_k_z_transposed_and_new_points_match_a_joint_computation() {
    let (pts, k, a) = problem(24, 0.9, 11);
    let a = first_columns(&a, 2);
    let (n, p, iterations, lambda) = (24, 2, 3, 0.05);
    let mut rng = Rng(99);
    let test: Vec<[f64; 2]> = (0..5)
        .map(|_| [1.5 + 1.5 * rng.uniform(), 1.5 + 1.5 * rng.uniform()])
        .collect();
    let (kk, _, _, (z, rows, diag)) = exact_then(&k, &a, lambda, iterations, |s| {
        let mut z = Dense::zeros(n, n);
        let mut zws = vec![0.0; s.explicit_z_workspace_len()];
        s.explicit_z(z.view_mut(), &mut zws).unwrap();
        // new points, to compare with the joint feature space below
        let mut tws = vec![0.0; s.transform_workspace_len()];
        let mut rows = rbf(&test, &pts, 0.9);
        let mut diag = vec![1.0; test.len()];
        s.transform_new(rows.view_mut(), Some(&mut diag), &mut tws)
            .unwrap();
        (z, rows, diag)
    });
    // K_k = Z K Z^T
    let zkz = z.matmul(&k).matmul(&z.transpose());
    assert!(zkz.max_diff(&kk) < 1e-10, "{}", zkz.max_diff(&kk));
    // new points: joint feature space of train + test
    let all: Vec<[f64; 2]> = pts.iter().chain(&test).copied().collect();
    let joint = rbf(&all, &all, 0.9);
    let m = all.len();
    let mut w = vec![0.0; m];
    let mut v = Dense::<f64>::zeros(m, m);
    let mut ews = vec![0.0; symmetric_eigen_workspace_len(m, true)];
    symmetric_eigen(joint.view(), &mut w, Some(v.view_mut()), &mut ews).unwrap();
    let phi = Dense::from_fn(m, m, |i, j| v.at(i, j) * w[j].max(0.0).sqrt());
    // directions from the training rows only, block form for p = 2
    let mut proj = Dense::<f64>::identity(m);
    for _ in 0..iterations {
        let ft = Dense::from_fn(n, m, |i, j| phi.matmul(&proj).at(i, j));
        let kj = ft.matmul(&ft.transpose());
        let kl = Dense::from_fn(n, n, |i, j| kj.at(i, j) + if i == j { lambda } else { 0.0 });
        let cols: Vec<Vec<f64>> = (0..p)
            .map(|c| dense_solve(&kl, &(0..n).map(|i| a.at(i, c)).collect::<Vec<_>>()))
            .collect();
        let alpha = Dense::from_fn(n, p, |i, c| cols[c][i]);
        let wm = ft.transpose().matmul(&alpha);
        let pj = Dense::<f64>::identity(m);
        let step = wm
            .matmul(&invert_small(&wm.transpose().matmul(&wm)))
            .matmul(&wm.transpose());
        let pj = Dense::from_fn(m, m, |i, j| pj.at(i, j) - step.at(i, j));
        proj = proj.matmul(&pj);
    }
    let transformed = phi.matmul(&proj).matmul(&phi.matmul(&proj).transpose());
    for (t, d) in diag.iter().enumerate() {
        assert!((d - transformed.at(n + t, n + t)).abs() < 1e-8, "diag {t}");
        for j in 0..n {
            assert!(
                (rows.at(t, j) - transformed.at(n + t, j)).abs() < 1e-8,
                "row {t} col {j}"
            );
        }
    }
}

#[test]
fn psd_and_finite_for_tiny_lambda_and_many_iterations() {
    let (_, k, a) = problem(40, 0.7, 5);
    for p in [1, 2] {
        let a = first_columns(&a, p);
        let (kk, report, _) = exact(&k, &a, 1e-8, 40);
        assert!(kk.data.iter().all(|v| v.is_finite()));
        let min = min_eigenvalue(&kk);
        assert!(
            min >= -40.0 * f64::EPSILON * k.max_abs() * 40.0,
            "p={p}: min eigenvalue {min}, {report:?}"
        );
        assert!(report.applied <= 40);
        // symmetric exactly
        assert!((0..40).all(|i| (0..40).all(|j| kk.at(i, j) == kk.at(j, i))));
    }
}

#[test]
fn lambda_below_rounding_is_raised_and_reported() {
    // singular K (duplicated points) and a lambda far below eps |K|
    let (pts, _, a) = problem(30, 0.7, 44);
    let doubled: Vec<[f64; 2]> = pts.iter().chain(&pts[..10]).copied().collect();
    let k = rbf(&doubled, &doubled, 0.7);
    let a = Dense::from_fn(40, 1, |i, _| a.at(i % 30, 0));
    for lambda in [1e-18, 1e-30] {
        let (kk, report, _) = exact(&k, &a, lambda, 40);
        let floor = 40.0 * f64::EPSILON * k.max_abs();
        assert_eq!(report.lambda, floor, "{report:?}");
        assert!(kk.data.iter().all(|v| v.is_finite()));
        assert!(min_eigenvalue(&kk) >= -1e-13, "{}", min_eigenvalue(&kk));
    }
    // a lambda above it is used as given
    let (_, report, _) = exact(&k, &a, 1e-6, 2);
    assert_eq!(report.lambda, 1e-6);
}

#[test]
fn ridge_regression_of_the_protected_attribute_explains_much_less() {
    let (_, k, a) = problem(60, 0.8, 21);
    let age: Vec<f64> = (0..60).map(|i| a.at(i, 0)).collect();
    let a1 = first_columns(&a, 1);
    let before = ridge_r2(&k, &age, 1e-2);
    let (kk, _, _) = exact(&k, &a1, 1e-3, 4);
    let after = ridge_r2(&kk, &age, 1e-2);
    assert!(before > 0.9, "before {before}");
    assert!(
        after < 0.5 * before && after < 0.3,
        "before {before} after {after}"
    );
}

#[test]
fn stops_early_when_nothing_predictive_is_left() {
    // a rank-2 linear kernel: at most two directions exist
    let mut rng = Rng(4);
    let x = Dense::<f64>::from_fn(20, 2, |_, _| rng.uniform());
    let k = x.matmul(&x.transpose());
    let a = Dense::from_fn(20, 1, |i, _| x.at(i, 0) + 0.1 * rng.uniform());
    let (kk, report, _) = exact(&k, &a, 1e-3, 10);
    assert_eq!(report.rank, 2);
    assert!(report.applied <= 2 && report.applied >= 1, "{report:?}");
    assert!(kk.data.iter().all(|v| v.is_finite()));
}

#[test]
fn in_place_equals_into_buffer() {
    let (_, k, a) = problem(30, 0.8, 2);
    let a = first_columns(&a, 1);
    let (kk, _, _) = exact(&k, &a, 0.01, 3);
    let mut inplace = k.clone();
    let mut steps = vec![0.0; fair_steps_len(30, 1, 3)];
    let mut ws = vec![0.0; fair_workspace_len(30, 1, 3)];
    let opts = FairOptions {
        lambda: 0.01,
        iterations: 3,
    };
    fair_transform_in_place(
        inplace.view_mut(),
        a.view(),
        opts,
        &mut steps,
        &mut ws,
        &mut vec![0; 30],
    )
    .unwrap();
    assert_eq!(inplace.data, kk.data);
}

#[test]
fn nystrom_with_all_landmarks_equals_exact() {
    let (_, k, a) = problem(30, 0.8, 8);
    for p in [1, 2] {
        let a = first_columns(&a, p);
        let (kk, _, _) = exact(&k, &a, 0.02, 3);
        let all: Vec<usize> = (0..30).collect();
        for landmarks in [Landmarks::Given(&all), Landmarks::Greedy { m: 30 }] {
            let opts = FairOptions {
                lambda: 0.02,
                iterations: 3,
            };
            let (out, report) = nystrom(&k.view(), &a, landmarks, 30, opts);
            assert_eq!(report.applied, 3);
            assert!(
                out.max_diff(&kk) < 1e-8,
                "{landmarks:?}: {}",
                out.max_diff(&kk)
            );
        }
    }
}

#[test]
fn nystrom_mode_with_few_landmarks_is_psd_and_removes_the_attribute() {
    let (pts, _, a) = problem(200, 0.8, 31);
    let kernel = FnSource::new(200, |i: usize, j: usize| {
        let d2 = (pts[i][0] - pts[j][0]).powi(2) + (pts[i][1] - pts[j][1]).powi(2);
        (-0.5 * d2 / 0.64f64).exp()
    });
    let a1 = first_columns(&a, 1);
    let opts = FairOptions {
        lambda: 1e-3,
        iterations: 5,
    };
    let (out, report) = nystrom(&kernel, &a1, Landmarks::Greedy { m: 40 }, 40, opts);
    assert!(report.rank <= 40 && report.applied >= 1);
    assert!(min_eigenvalue(&out) > -1e-12);
    let age: Vec<f64> = (0..200).map(|i| a.at(i, 0)).collect();
    assert!(ridge_r2(&out, &age, 1e-2) < 0.3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_problems_stay_psd_and_match_the_definition(n in 5usize..30, seed in any::<u64>(), iterations in 1usize..5) {
        let (_, k, a) = problem(n, 0.9, seed);
        let a = first_columns(&a, 1);
        let (kk, report, _) = exact(&k, &a, 0.1, iterations);
        prop_assert!(min_eigenvalue(&kk) >= -1e-12);
        // against the projections done explicitly in feature space (the
        // literal recurrence is not a usable reference here: once few
        // directions are left its normalisers are tiny and its rounding
        // grows by orders of magnitude per iteration)
        if report.applied == iterations {
            let reference = feature_space(&k, &a, 0.1, iterations);
            prop_assert!(kk.max_diff(&reference) < 1e-10, "{:e}", kk.max_diff(&reference));
        }
    }
}

#[test]
fn f32_transform() {
    let (_, k, a) = problem(25, 0.9, 17);
    let k32 = Dense::<f32>::from_fn(25, 25, |i, j| k.at(i, j) as f32);
    let a32 = Dense::<f32>::from_fn(25, 1, |i, _| a.at(i, 0) as f32);
    let mut out = Dense::<f32>::zeros(25, 25);
    let mut steps = vec![0.0f32; fair_steps_len(25, 1, 2)];
    let mut ws = vec![0.0f32; fair_workspace_len(25, 1, 2)];
    let opts = FairOptions {
        lambda: 0.1f32,
        iterations: 2,
    };
    fair_transform(
        &k32.view(),
        a32.view(),
        opts,
        Some(out.view_mut()),
        &mut steps,
        &mut ws,
        &mut [0; 25],
    )
    .unwrap();
    let reference = direct(&k, &first_columns(&a, 1), 0.1, 2);
    let err = out
        .data
        .iter()
        .zip(&reference.data)
        .map(|(x, y)| (x.as_f64() - y).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-3, "{err}");
}

#[test]
fn error_paths() {
    let (_, k, a) = problem(10, 0.8, 1);
    let a1 = first_columns(&a, 1);
    let mut steps = vec![0.0; fair_steps_len(10, 1, 2)];
    let mut ws = vec![0.0; fair_workspace_len(10, 1, 2)];
    let mut iws = vec![0; 10];
    let good = FairOptions {
        lambda: 0.1,
        iterations: 2,
    };
    let run = |opts: FairOptions<f64>,
               a: MatRef<'_, f64>,
               steps: &mut [f64],
               ws: &mut [f64],
               iws: &mut [usize]| {
        fair_transform(&k.view(), a, opts, None, steps, ws, iws).map(|(_, r)| r)
    };
    for lambda in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            run(
                FairOptions { lambda, ..good },
                a1.view(),
                &mut steps,
                &mut ws,
                &mut iws
            ),
            Err(Error::InvalidParameter { name: "lambda", .. })
        ));
    }
    let empty: [f64; 0] = [];
    let none = MatRef::from_row_major(&empty, 10, 0).unwrap();
    assert!(matches!(
        run(good, none, &mut steps, &mut ws, &mut iws),
        Err(Error::InvalidParameter {
            name: "protected",
            ..
        })
    ));
    let short = first_columns(&Dense::from_fn(9, 1, |i, _| i as f64), 1);
    assert!(matches!(
        run(good, short.view(), &mut steps, &mut ws, &mut iws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        run(good, a1.view(), &mut steps[..3], &mut ws, &mut iws),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    assert!(matches!(
        run(good, a1.view(), &mut steps, &mut ws[..5], &mut iws),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    assert!(matches!(
        run(good, a1.view(), &mut steps, &mut ws, &mut iws[..3]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut bad_a = a1.clone();
    bad_a.data[4] = f64::NAN;
    assert!(matches!(
        run(good, bad_a.view(), &mut steps, &mut ws, &mut iws),
        Err(Error::NonFinite {
            argument: "protected",
            row: 4,
            ..
        })
    ));
    let mut bad_k = k.clone();
    bad_k.data[3 * 10 + 3] = f64::INFINITY;
    let r = fair_transform(
        &bad_k.view(),
        a1.view(),
        good,
        None,
        &mut steps,
        &mut ws,
        &mut iws,
    );
    assert!(
        matches!(r, Err(Error::NonFinite { .. })),
        "{:?}",
        r.map(|x| x.1)
    );
    let mut wrong_out = Dense::<f64>::zeros(9, 10);
    let r = fair_transform(
        &k.view(),
        a1.view(),
        good,
        Some(wrong_out.view_mut()),
        &mut steps,
        &mut ws,
        &mut iws,
    );
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })));
    // Nystroem landmarks
    let mut nws = vec![0.0; fair_nystrom_workspace_len(10, 3, 1, 2)];
    for (landmarks, expect_dup) in [(&[1usize, 4, 4][..], true), (&[1, 4, 10][..], false)] {
        let r = fair_transform_nystrom(
            &k.view(),
            a1.view(),
            good,
            Landmarks::Given(landmarks),
            None,
            &mut steps,
            &mut nws,
            &mut iws,
        );
        if expect_dup {
            assert!(matches!(
                r,
                Err(Error::InvalidParameter {
                    name: "landmarks",
                    ..
                })
            ));
        } else {
            assert!(matches!(
                r,
                Err(Error::DimensionMismatch {
                    expected: 10,
                    got: 10,
                    ..
                })
            ));
        }
    }
    // transform_new argument errors
    let (s, _) = fair_transform(
        &k.view(),
        a1.view(),
        good,
        None,
        &mut steps,
        &mut ws,
        &mut iws,
    )
    .unwrap();
    let mut rows = Dense::<f64>::zeros(2, 9);
    assert!(matches!(
        s.transform_new(rows.view_mut(), None, &mut [0.0; 2]),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut rows = Dense::<f64>::zeros(2, 10);
    let short = s.transform_workspace_len() - 1;
    assert!(matches!(
        s.transform_new(rows.view_mut(), None, &mut vec![0.0; short]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut z = Dense::<f64>::zeros(10, 10);
    let short = s.explicit_z_workspace_len() - 1;
    assert!(matches!(
        s.explicit_z(z.view_mut(), &mut vec![0.0; short]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut rows = Dense::<f64>::zeros(2, 10);
    rows.data[3] = f64::NAN;
    assert!(matches!(
        s.transform_new(rows.view_mut(), None, &mut [0.0; 2]),
        Err(Error::NonFinite {
            argument: "rows",
            ..
        })
    ));
    let mut z = Dense::<f64>::zeros(9, 9);
    assert!(matches!(
        s.explicit_z(z.view_mut(), &mut [0.0; 2]),
        Err(Error::DimensionMismatch { .. })
    ));
    transform_new_refuses_overflow_and_keeps_its_inputs(s);
}

/// A second row whose coefficients overflow, then a diagonal near `-MAX`:
/// `Overflow`, with the first (harmless) row and `diag` left as they were.
fn transform_new_refuses_overflow_and_keeps_its_inputs(s: FairSteps<'_, f64>) {
    let n = s.n();
    let mut tws = vec![0.0; s.transform_workspace_len()];
    let mut rows = Dense::from_fn(2, n, |i, j| if i == 0 { 0.1 * j as f64 } else { 1e308 });
    let mut diag = vec![1.0, 1.0];
    let (before, diag_before) = (rows.clone(), diag.clone());
    let r = s.transform_new(rows.view_mut(), Some(&mut diag), &mut tws);
    assert!(matches!(r, Err(Error::Overflow { .. })), "{r:?}");
    assert_eq!((&rows.data, &diag), (&before.data, &diag_before));
    // coefficients near 1e150: their squares move -MAX past the threshold
    let mut rows = Dense::from_fn(1, n, |_, j| 1e150 * (j as f64 + 1.0));
    let mut diag = vec![-f64::MAX];
    let r = s.transform_new(rows.view_mut(), Some(&mut diag), &mut tws);
    assert!(matches!(r, Err(Error::Overflow { .. })), "{r:?}");
    assert_eq!(diag, [-f64::MAX]);
    // the same row without the extreme diagonal goes through
    let mut diag = vec![1.0];
    s.transform_new(rows.view_mut(), Some(&mut diag), &mut tws)
        .unwrap();
    assert!(diag[0] < 1.0);
}

/// Exact mode, then the training rows through `transform_new`: returns
/// `K_k`, the transformed rows of `K` and the transformed diagonal.
fn exact_and_training_rows(
    k: &Dense<f64>,
    a: &Dense<f64>,
    lambda: f64,
    iterations: usize,
) -> (Dense<f64>, Dense<f64>, Vec<f64>) {
    let (kk, _, _, (rows, diag)) = exact_then(k, a, lambda, iterations, |s| {
        let mut rows = k.clone();
        let mut diag: Vec<f64> = (0..k.n).map(|i| k.at(i, i)).collect();
        let mut tws = vec![0.0; s.transform_workspace_len()];
        s.transform_new(rows.view_mut(), Some(&mut diag), &mut tws)
            .unwrap();
        (rows, diag)
    });
    (kk, rows, diag)
}

#[test]
fn training_rows_through_the_steps_reproduce_k_k_for_tiny_lambda_and_many_iterations() {
    // full rank (the blocked Cholesky path) and singular (duplicated
    // points: the pivoted path); the paper's T_j applied one after another
    // drift from K_k by many orders of magnitude here
    let (pts, k, a) = problem(40, 0.7, 5);
    let doubled: Vec<[f64; 2]> = pts.iter().chain(&pts[..10]).copied().collect();
    let singular = rbf(&doubled, &doubled, 0.7);
    let a_singular = Dense::from_fn(50, 2, |i, c| a.at(i % 40, c));
    for (k, a, what) in [(&k, &a, "full rank"), (&singular, &a_singular, "singular")] {
        for (p, lambda, iterations) in [(1, 1e-5, 32), (2, 1e-8, 20), (1, 1e-3, 8)] {
            let a = first_columns(a, p);
            let (kk, rows, diag) = exact_and_training_rows(k, &a, lambda, iterations);
            let err = rows.max_diff(&kk);
            assert!(
                err < 1e-9,
                "{what} p {p} lambda {lambda}: rows off by {err:e}"
            );
            let derr = (0..k.n)
                .map(|i| (diag[i] - kk.at(i, i)).abs())
                .fold(0.0, f64::max);
            assert!(
                derr < 1e-9,
                "{what} p {p} lambda {lambda}: diag off by {derr:e}"
            );
        }
    }
}

#[test]
fn nystrom_steps_remove_the_directions_from_exact_rows() {
    // transform_new(K) - K = K_k - K~ (both minus the removed parts), for
    // given and greedy landmarks, through the caller-built approximation
    use gramkit::nystrom::{NystromInverse, nystrom_storage_len, nystrom_workspace_len};
    let (_, k, a) = problem(60, 0.6, 17);
    let (n, m) = (60, 18);
    let a1 = first_columns(&a, 1);
    for greedy in [false, true] {
        for (lambda, iterations) in [(1e-5, 16), (1e-2, 4)] {
            let mut storage = vec![0.0; nystrom_storage_len(n, m)];
            let mut nws = vec![0.0; nystrom_workspace_len(n, m)];
            let mut perm = vec![0; n];
            let given: Vec<usize> = (0..m).map(|i| (i * 7) % n).collect();
            let inv = if greedy {
                NystromInverse::greedy(&k.view(), m, 0.0, 1.0, &mut perm, &mut storage, &mut nws)
            } else {
                NystromInverse::from_landmarks(&k.view(), &given, 1.0, &mut storage, &mut nws)
            }
            .unwrap();
            let landmarks = if greedy {
                &perm[..inv.rank()]
            } else {
                &given[..]
            };
            let b = inv.factor();
            let approx = Dense::from_fn(n, n, |i, j| {
                (0..b.ncols())
                    .map(|c| b.get(i, c).unwrap() * b.get(j, c).unwrap())
                    .sum::<f64>()
            });
            let mut kk = Dense::zeros(n, n);
            let mut steps = vec![0.0; fair_steps_len(n, 1, iterations)];
            let mut ws = vec![0.0; fair_with_nystrom_workspace_len(n, m, 1, iterations)];
            let opts = FairOptions { lambda, iterations };
            let (s, report) = fair_transform_with_nystrom(
                &k.view(),
                &inv,
                landmarks,
                a1.view(),
                opts,
                Some(kk.view_mut()),
                &mut steps,
                &mut ws,
            )
            .unwrap();
            assert!(report.applied >= 1);
            let mut rows = k.clone();
            let mut tws = vec![0.0; s.transform_workspace_len()];
            s.transform_new(rows.view_mut(), None, &mut tws).unwrap();
            let removed_rows = Dense::from_fn(n, n, |i, j| rows.at(i, j) - k.at(i, j));
            let removed_kernel = Dense::from_fn(n, n, |i, j| kk.at(i, j) - approx.at(i, j));
            let err = removed_rows.max_diff(&removed_kernel);
            assert!(
                err < 1e-9,
                "greedy {greedy} lambda {lambda}: off by {err:e}"
            );
        }
    }
}

#[test]
fn greedy_nystrom_below_the_requested_rank() {
    // a rank-one kernel: the greedy choice stops after one landmark
    let k = Dense::from_fn(4, 4, |_, _| 1.0);
    let a = Dense::from_fn(4, 1, |i, _| i as f64);
    let opts = FairOptions {
        lambda: 1e-2,
        iterations: 2,
    };
    let (out, report) = greedy_nystrom(&k, &a, 2, opts);
    assert_eq!(report.rank, 1);
    // the constant feature does not predict i beyond its mean: what is
    // left is rank one and PSD
    assert!(min_eigenvalue(&out) > -1e-12);
    assert!(out.data.iter().all(|v| v.is_finite()));
}

/// The removed directions depend on each attribute only up to scale, so
/// attributes of extreme magnitude (whose `alpha` would overflow or
/// underflow) give the transform of the unit-scale attribute.
#[test]
fn attributes_of_extreme_magnitude_give_the_unit_scale_transform() {
    let (_, k, a) = problem(25, 0.8, 31);
    let a = first_columns(&a, 1);
    let (reference, _, _) = exact(&k, &a, 0.1, 3);
    for scale in [1e300, 1e-300, 1e-310] {
        let scaled = Dense::from_fn(a.n, 1, |i, _| a.at(i, 0) * scale);
        let (kk, report, _) = exact(&k, &scaled, 0.1, 3);
        assert_eq!(report.applied, 3, "scale {scale:e}");
        let err = kk.max_diff(&reference);
        assert!(err < 1e-9 * k.max_abs(), "scale {scale:e}: {err}");
    }
}

/// `fair_transform_nystrom` of the `n x n` kernel `k` with up to `m`
/// landmarks: `(K_k, report)`.
fn nystrom<S: SymmetricSource<f64>>(
    k: &S,
    a: &Dense<f64>,
    landmarks: Landmarks<'_>,
    m: usize,
    opts: FairOptions<f64>,
) -> (Dense<f64>, FairReport<f64>) {
    let (n, p) = (a.n, a.m);
    let mut kk = Dense::zeros(n, n);
    let mut steps = vec![0.0; fair_steps_len(n, p, opts.iterations)];
    let mut ws = vec![0.0; fair_nystrom_workspace_len(n, m, p, opts.iterations)];
    let (_, report) = fair_transform_nystrom(
        k,
        a.view(),
        opts,
        landmarks,
        Some(kk.view_mut()),
        &mut steps,
        &mut ws,
        &mut vec![0; n],
    )
    .unwrap();
    (kk, report)
}

/// [`nystrom`] with `m` greedy landmarks.
fn greedy_nystrom(
    k: &Dense<f64>,
    a: &Dense<f64>,
    m: usize,
    opts: FairOptions<f64>,
) -> (Dense<f64>, FairReport<f64>) {
    nystrom(&k.view(), a, Landmarks::Greedy { m }, m, opts)
}

#[test]
fn scaling_k_and_lambda_by_c_scales_k_k_by_c_down_to_subnormal_squares() {
    // K near 2^+-900: |alpha|^2, |w|^2 and tr K leave the exponent range,
    // which once made the rounding floor 0 or inf (noise kept as directions,
    // or nothing removed); both modes, and a rank-2 kernel that stops early
    let (_, k, a) = problem(30, 0.7, 3);
    let mut rng = Rng(4);
    let x = Dense::<f64>::from_fn(20, 2, |_, _| rng.uniform());
    let low_rank = x.matmul(&x.transpose());
    let a_low = Dense::from_fn(20, 1, |i, _| x.at(i, 0) + 0.1 * rng.uniform());
    let cases = [
        (&k, first_columns(&a, 2), 1e-3, 30),
        (&low_rank, a_low, 1e-3, 8),
    ];
    for (k, a, lambda, m) in &cases {
        let opts = |c: f64| FairOptions {
            lambda: lambda * c,
            iterations: 6,
        };
        let (ref_exact, rep_exact, _) = exact(k, a, *lambda, 6);
        let (ref_nys, rep_nys) = greedy_nystrom(k, a, *m, opts(1.0));
        for c in [pow2(900), pow2(-900)] {
            let kc = Dense::from_fn(k.n, k.n, |i, j| k.at(i, j) * c);
            let (kk, rep, _) = exact(&kc, a, lambda * c, 6);
            let (kk_nys, rep_n) = greedy_nystrom(&kc, a, *m, opts(c));
            for (got, rep, want, rep_want) in [
                (kk, rep, &ref_exact, rep_exact),
                (kk_nys, rep_n, &ref_nys, rep_nys),
            ] {
                assert_eq!(
                    (rep.applied, rep.directions, rep.rank),
                    (rep_want.applied, rep_want.directions, rep_want.rank),
                    "c = {c:e}"
                );
                let back = Dense::from_fn(k.n, k.n, |i, j| got.at(i, j) / c);
                let err = back.max_diff(want);
                assert!(err < 1e-9 * k.max_abs(), "c = {c:e}: {err:e}");
            }
        }
    }
}

#[test]
fn lambda_far_above_k_gives_one_transform_up_to_the_largest_finite_lambda() {
    // for lambda >> |K|, (K + lambda I)^{-1} A = A / lambda to rounding, and
    // even powers of two scale every step exactly: the transform must not
    // change up to lambda = 2^1022, where A / lambda is subnormal (two
    // nearly parallel attributes: the second direction is what is left
    // after cancelling the first, which subnormal rounding would swamp)
    let (_, k, a) = problem(25, 0.7, 9);
    let a = Dense::from_fn(25, 2, |i, c| {
        a.at(i, 0) + if c == 1 { 1e-6 * a.at(i, 1) } else { 0.0 }
    });
    let opts = |lambda: f64| FairOptions {
        lambda,
        iterations: 3,
    };
    let (want, rep_want, _) = exact(&k, &a, pow2(600), 3);
    let (want_nys, rep_want_nys) = greedy_nystrom(&k, &a, 12, opts(pow2(600)));
    for e in [700, 1000, 1022] {
        let lambda = pow2(e);
        let (got, rep, _) = exact(&k, &a, lambda, 3);
        let (got_nys, rep_nys) = greedy_nystrom(&k, &a, 12, opts(lambda));
        assert_eq!(rep.directions, rep_want.directions, "2^{e}");
        assert_eq!(rep_nys.directions, rep_want_nys.directions, "2^{e}");
        assert!(
            got.max_diff(&want) < 1e-12,
            "2^{e}: {:e}",
            got.max_diff(&want)
        );
        let err = got_nys.max_diff(&want_nys);
        assert!(err < 1e-12, "Nystroem 2^{e}: {err:e}");
    }
}

/// `2^e` exactly (normal range).
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}
