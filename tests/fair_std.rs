//! The owned fair transform (`FairKernel`), kernel ridge regression and
//! the helpers around them: against the core, against a joint train+test
//! computation in an explicit feature space, against a dense solve, and on
//! the diabetes data.
mod fair_support;

use fair_support::{
    Rng, at, attributes, dense_solve, diabetes, jacobi, jacobi_eigenvalues, max_diff, points, rbf,
};
use gramkit::fair::{
    FairOptions, Landmarks, fair_index_workspace_len, fair_nystrom_workspace_len, fair_steps_len,
    fair_transform, fair_transform_nystrom, fair_workspace_len,
};
use gramkit::host::metrics::r_squared;
use gramkit::host::{
    FairKernel, FairMode, KernelRidge, Matrix, Standardizer, complement, k_fold,
    median_heuristic_lengthscale, rbf_gram, rbf_kernel, select, select_ridge_cv,
};
use gramkit::{Error, MatMut};

/// Train and test points, their kernels and attributes.
struct Problem {
    k: Matrix<f64>,
    cross: Matrix<f64>,
    test_diag: Vec<f64>,
    a: Matrix<f64>,
    joint: Matrix<f64>,
}

fn problem(n: usize, t: usize, p: usize, seed: u64) -> Problem {
    let pts = points(n + t, seed);
    let (train, test) = pts.split_at(n);
    let ls = 0.8;
    Problem {
        k: rbf(train, train, ls),
        cross: rbf(test, train, ls),
        test_diag: vec![1.0; t],
        a: attributes(train, p),
        joint: rbf(&pts, &pts, ls),
    }
}

/// The definition in an explicit feature space of train and test points
/// together: `joint = Phi Phi^T` by eigendecomposition, then per iteration
/// the ridge direction of the training features `G = Phi_train P`,
/// `W = (G^T G + lambda I)^{-1} G^T A` (the primal form of
/// `alpha = (K_{j-1} + lambda I)^{-1} A`), orthonormalized and removed.
/// Returns `Phi P Phi^T` for all points. (For `lambda` well below the
/// kernel's smallest eigenvalue the transform is so sensitive to the
/// rounding of the eigendecomposition that this reference is no longer one:
/// at `lambda = 1e-5`, `k = 12` it moves the training block by `5e-2`.)
fn joint_reference(
    joint: &Matrix<f64>,
    n: usize,
    a: &Matrix<f64>,
    lambda: f64,
    k: usize,
) -> Matrix<f64> {
    let total = joint.nrows();
    let (values, vectors) = jacobi(joint);
    let dim = values.len();
    let phi: Vec<Vec<f64>> = (0..total)
        .map(|i| {
            (0..dim)
                .map(|e| vectors[i][e] * values[e].max(0.0).sqrt())
                .collect()
        })
        .collect();
    let mut dirs: Vec<Vec<f64>> = Vec::new();
    let project = |dirs: &[Vec<f64>], v: &mut Vec<f64>| {
        for _ in 0..2 {
            for d in dirs {
                let c: f64 = d.iter().zip(v.iter()).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(d).for_each(|(x, y)| *x -= c * y);
            }
        }
    };
    for _ in 0..k {
        let g: Vec<Vec<f64>> = phi[..n]
            .iter()
            .map(|row| {
                let mut r = row.clone();
                project(&dirs, &mut r);
                r
            })
            .collect();
        let gtg = Matrix::from_fn(dim, dim, |i, j| {
            (0..n).map(|s| g[s][i] * g[s][j]).sum::<f64>() + if i == j { lambda } else { 0.0 }
        });
        let mut new = Vec::new();
        for c in 0..a.ncols() {
            let rhs: Vec<f64> = (0..dim)
                .map(|i| (0..n).map(|s| g[s][i] * at(a, s, c)).sum())
                .collect();
            new.push(dense_solve(&gtg, &rhs));
        }
        for mut w in new {
            project(&dirs, &mut w);
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-12 {
                dirs.push(w.iter().map(|x| x / norm).collect());
            }
        }
    }
    let projected: Vec<Vec<f64>> = phi
        .iter()
        .map(|row| {
            let mut r = row.clone();
            project(&dirs, &mut r);
            r
        })
        .collect();
    Matrix::from_fn(total, total, |i, j| {
        (0..dim).map(|e| projected[i][e] * projected[j][e]).sum()
    })
}

/// The core's exact transform with its own buffers: `K_k` and the steps.
fn core_exact(
    k: &Matrix<f64>,
    a: &Matrix<f64>,
    lambda: f64,
    iterations: usize,
) -> (Matrix<f64>, Vec<f64>, usize) {
    let (n, p) = (k.nrows(), a.ncols());
    let mut kk = vec![0.0; n * n];
    let mut steps = vec![0.0; fair_steps_len(n, p, iterations)];
    let mut ws = vec![0.0; fair_workspace_len(n, p, iterations)];
    let mut iws = vec![0; fair_index_workspace_len(n)];
    let out = MatMut::from_row_major(&mut kk, n, n).unwrap();
    let opts = FairOptions { lambda, iterations };
    let (_, report) = fair_transform(
        &k.view(),
        a.view(),
        opts,
        Some(out),
        &mut steps,
        &mut ws,
        &mut iws,
    )
    .unwrap();
    steps.truncate(fair_steps_len(n, p, report.applied));
    (
        Matrix::from_row_major(n, n, kk).unwrap(),
        steps,
        report.applied,
    )
}

#[test]
fn builder_matches_the_core_exactly() {
    for p in [1, 2] {
        let pr = problem(40, 5, p, 7 + p as u64);
        let fit = FairKernel::new(1e-2, 5).fit(&pr.k, &pr.a).unwrap();
        let (kk, steps, applied) = core_exact(&pr.k, &pr.a, 1e-2, 5);
        assert_eq!(
            fit.kernel().unwrap(),
            &kk,
            "p = {p}: K_k is the core's, bit for bit"
        );
        assert_eq!(fit.applied(), applied);
        assert_eq!(fit.report().applied, applied);
        assert_eq!((fit.n(), fit.p(), fit.requested_iterations()), (40, p, 5));
        assert!(fit.landmarks().is_none());
        let s = fit.steps();
        for j in 0..applied {
            let (a, u) = s.get(j).unwrap();
            let len = 2 * 40 * p;
            // the core stores each direction's dual vector, then its values
            let mine: Vec<f64> = [a, u]
                .iter()
                .flat_map(|m| (0..p).flat_map(move |c| (0..40).map(move |i| m.get(i, c).unwrap())))
                .collect();
            assert_eq!(mine, steps[j * len..(j + 1) * len].to_vec());
        }
    }
}

#[test]
fn nystrom_builder_matches_the_core() {
    let pr = problem(50, 4, 1, 3);
    let (n, m, lambda, k) = (50, 12, 1e-2, 4);
    for greedy in [true, false] {
        let given: Vec<usize> = (0..m).map(|i| (i * 37) % n).collect();
        let builder = FairKernel::new(lambda, k);
        let builder = if greedy {
            builder.nystrom(m)
        } else {
            builder.nystrom_landmarks(given.clone())
        };
        let fit = builder.fit(&pr.k, &pr.a).unwrap();
        let mut kk = vec![0.0; n * n];
        let mut steps = vec![0.0; fair_steps_len(n, 1, k)];
        let mut ws = vec![0.0; fair_nystrom_workspace_len(n, m, 1, k)];
        let mut iws = vec![0; fair_index_workspace_len(n)];
        let landmarks = if greedy {
            Landmarks::Greedy { m }
        } else {
            Landmarks::Given(&given)
        };
        let opts = FairOptions {
            lambda,
            iterations: k,
        };
        let out = MatMut::from_row_major(&mut kk, n, n).unwrap();
        let (_, report) = fair_transform_nystrom(
            &pr.k.view(),
            pr.a.view(),
            opts,
            landmarks,
            Some(out),
            &mut steps,
            &mut ws,
            &mut iws,
        )
        .unwrap();
        assert_eq!(fit.kernel().unwrap().as_slice(), &kk[..]);
        assert_eq!(fit.report(), report);
        let chosen = fit.landmarks().unwrap();
        assert_eq!(chosen.len(), report.rank);
        if greedy {
            assert_eq!(chosen, &iws[..report.rank]);
        } else {
            assert_eq!(chosen, &given[..]);
        }
    }
}

#[test]
fn training_rows_reproduce_the_transformed_kernel() {
    let pr = problem(45, 0, 1, 11);
    for (builder, what) in [
        (FairKernel::new(1e-3, 8), "exact"),
        (FairKernel::new(1e-3, 8).nystrom(15), "greedy"),
        (
            FairKernel::new(1e-1, 4).nystrom_landmarks((0..45).step_by(4).collect()),
            "given",
        ),
        (FairKernel::new(1e-6, 20), "exact, tiny lambda"),
    ] {
        let fit = builder.fit(&pr.k, &pr.a).unwrap();
        let kk = fit.kernel().unwrap();
        let (rows, diag) = fit.transform_rows_with_diag(&pr.k, &vec![1.0; 45]).unwrap();
        assert!(
            max_diff(&rows, kk) < 1e-10,
            "{what}: {:e}",
            max_diff(&rows, kk)
        );
        if what.starts_with("exact") {
            for (i, d) in diag.iter().enumerate() {
                assert!((d - at(kk, i, i)).abs() < 1e-10, "{what}: diag {i}");
            }
        }
        assert_eq!(fit.removed().ncols(), fit.report().directions);
    }
}

#[test]
fn new_points_equal_a_joint_feature_space_computation() {
    let (n, t) = (30, 6);
    for (p, lambda, k, tol) in [(1, 1e-2, 4, 1e-9), (2, 1e-1, 3, 1e-9), (1, 1e-3, 12, 1e-9)] {
        let pr = problem(n, t, p, 21 + k as u64);
        let fit = FairKernel::new(lambda, k).fit(&pr.k, &pr.a).unwrap();
        let reference = joint_reference(&pr.joint, n, &pr.a, lambda, k);
        let (rows, diag) = fit
            .transform_rows_with_diag(&pr.cross, &pr.test_diag)
            .unwrap();
        let expected_rows = Matrix::from_fn(t, n, |i, j| at(&reference, n + i, j));
        let err = max_diff(&rows, &expected_rows);
        assert!(
            err < tol,
            "p {p} lambda {lambda} k {k}: rows off by {err:e}"
        );
        for i in 0..t {
            let e = (diag[i] - at(&reference, n + i, n + i)).abs();
            assert!(e < tol, "p {p} lambda {lambda}: diag {i} off by {e:e}");
        }
        // the training block too
        let kk = Matrix::from_fn(n, n, |i, j| at(&reference, i, j));
        assert!(max_diff(fit.kernel().unwrap(), &kk) < tol);
        // one row at a time agrees with the block
        let row: Vec<f64> = (0..n).map(|j| at(&pr.cross, 2, j)).collect();
        let (one, d) = fit.transform_row(&row, 1.0).unwrap();
        assert!((d - diag[2]).abs() < 1e-12);
        assert!(
            one.iter()
                .enumerate()
                .all(|(j, v)| (v - at(&rows, 2, j)).abs() < 1e-12)
        );
    }
}

#[test]
fn transformed_rows_agree_with_the_core_steps_where_those_are_stable() {
    let pr = problem(35, 5, 1, 5);
    let fit = FairKernel::new(1e-1, 3).fit(&pr.k, &pr.a).unwrap();
    let mut by_steps = pr.cross.clone();
    let mut d = pr.test_diag.clone();
    let steps = fit.steps();
    let mut ws = vec![0.0; steps.transform_workspace_len()];
    steps
        .transform_new(by_steps.view_mut(), Some(&mut d), &mut ws)
        .unwrap();
    let (rows, diag) = fit
        .transform_rows_with_diag(&pr.cross, &pr.test_diag)
        .unwrap();
    assert!(max_diff(&rows, &by_steps) < 1e-10);
    assert!(diag.iter().zip(&d).all(|(a, b)| (a - b).abs() < 1e-10));
}

#[test]
fn joint_kernel_of_train_and_new_points_is_psd() {
    let (n, t) = (30, 8);
    let pr = problem(n, t, 1, 99);
    let fit = FairKernel::new(1e-4, 10).fit(&pr.k, &pr.a).unwrap();
    let (rows, diag) = fit
        .transform_rows_with_diag(&pr.cross, &pr.test_diag)
        .unwrap();
    let kk = fit.kernel().unwrap();
    // each new point with the training points: [K_k, r^T; r, d] is PSD
    for i in 0..t {
        let block = Matrix::from_fn(n + 1, n + 1, |a, b| match (a < n, b < n) {
            (true, true) => at(kk, a, b),
            (true, false) => at(&rows, i, a),
            (false, true) => at(&rows, i, b),
            (false, false) => diag[i],
        });
        let min = jacobi_eigenvalues(&block)
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        assert!(min > -1e-10, "point {i}: minimum eigenvalue {min:e}");
    }
}

#[test]
fn nystrom_with_every_point_as_landmark_is_exact() {
    let pr = problem(30, 4, 1, 17);
    let exact = FairKernel::new(1e-2, 3).fit(&pr.k, &pr.a).unwrap();
    let all = FairKernel::new(1e-2, 3)
        .nystrom(30)
        .fit(&pr.k, &pr.a)
        .unwrap();
    assert!(max_diff(exact.kernel().unwrap(), all.kernel().unwrap()) < 1e-9);
    let (r1, r2) = (
        exact.transform_rows(&pr.cross).unwrap(),
        all.transform_rows(&pr.cross).unwrap(),
    );
    assert!(max_diff(&r1, &r2) < 1e-9);
}

#[test]
fn nystrom_rows_are_those_of_the_approximation() {
    // New points far outside: their exact rows are tiny, the Nystroem rows
    // (on 5 landmarks) are what the approximation says; both transforms of
    // the same rows differ from the exact-mode ones.
    let pr = problem(40, 3, 1, 23);
    let fit = FairKernel::new(1e-2, 0)
        .nystrom(5)
        .fit(&pr.k, &pr.a)
        .unwrap();
    let rows = fit.transform_rows(&pr.cross).unwrap();
    let landmarks = fit.landmarks().unwrap().to_vec();
    // k = 0: the rows are k_{x,S} W^{-1} K[S, :]
    let w = select(&pr.k, &landmarks, &landmarks).unwrap();
    for i in 0..3 {
        let kxs: Vec<f64> = landmarks.iter().map(|&s| at(&pr.cross, i, s)).collect();
        let coef = dense_solve(&w, &kxs);
        for j in 0..40 {
            let expected: f64 = landmarks
                .iter()
                .zip(&coef)
                .map(|(&s, c)| c * at(&pr.k, s, j))
                .sum();
            assert!((at(&rows, i, j) - expected).abs() < 1e-8);
        }
    }
}

#[test]
fn closure_and_matrix_give_the_same_fit() {
    let pr = problem(25, 0, 1, 31);
    let a = FairKernel::new(1e-2, 3).fit(&pr.k, &pr.a).unwrap();
    let kref = &pr.k;
    let b = FairKernel::new(1e-2, 3)
        .fit_fn(25, |i, j| at(kref, i, j), &pr.a)
        .unwrap();
    assert_eq!(a, b);
    // without K_k: the same rows, no kernel
    let c = FairKernel::new(1e-2, 3)
        .nystrom(10)
        .with_kernel(false)
        .fit(&pr.k, &pr.a)
        .unwrap();
    assert!(c.kernel().is_none());
    let d = FairKernel::new(1e-2, 3)
        .nystrom(10)
        .fit(&pr.k, &pr.a)
        .unwrap();
    assert!(max_diff(&c.transform_rows(&pr.k).unwrap(), d.kernel().unwrap()) < 1e-10);
}

#[test]
fn explicit_z_transforms_the_kernel() {
    let pr = problem(20, 0, 1, 41);
    let fit = FairKernel::new(1e-1, 3).fit(&pr.k, &pr.a).unwrap();
    let z = fit.explicit_z().unwrap();
    let zkz = z.matmul(&pr.k).unwrap().matmul(&z.transpose()).unwrap();
    assert!(max_diff(&zkz, fit.kernel().unwrap()) < 1e-10);
    // and k_x Z^T is the transformed row
    let zt = z.transpose();
    assert!(max_diff(&pr.k.matmul(&zt).unwrap(), fit.kernel().unwrap()) < 1e-10);
}

#[test]
fn iterations_stop_when_nothing_predictive_is_left_and_big_requests_are_capped() {
    let pr = problem(12, 0, 1, 5);
    let fit = FairKernel::new(1e-3, 1_000_000_000)
        .fit(&pr.k, &pr.a)
        .unwrap();
    assert!(fit.applied() <= 12);
    assert_eq!(fit.requested_iterations(), 1_000_000_000);
    // every direction removed: the protected attribute is no longer
    // predictable, K_k is PSD
    let min = jacobi_eigenvalues(fit.kernel().unwrap())
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    assert!(min > -1e-12);
}

#[test]
fn f32_fit_agrees_with_f64() {
    let pr = problem(30, 3, 1, 53);
    let to32 = |m: &Matrix<f64>| Matrix::from_fn(m.nrows(), m.ncols(), |i, j| at(m, i, j) as f32);
    let fit64 = FairKernel::new(1e-1, 3).fit(&pr.k, &pr.a).unwrap();
    let fit32 = FairKernel::new(1e-1f32, 3)
        .fit(&to32(&pr.k), &to32(&pr.a))
        .unwrap();
    let k64 = fit64.kernel().unwrap();
    let k32 = fit32.kernel().unwrap();
    let err = (0..30)
        .flat_map(|i| (0..30).map(move |j| (i, j)))
        .map(|(i, j)| (at(k64, i, j) - k32.get(i, j).unwrap() as f64).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-3, "{err:e}");
    let rows32 = fit32.transform_rows(&to32(&pr.cross)).unwrap();
    let rows64 = fit64.transform_rows(&pr.cross).unwrap();
    assert!((0..3).all(|i| {
        (0..30).all(|j| (rows32.get(i, j).unwrap() as f64 - at(&rows64, i, j)).abs() < 1e-3)
    }));
}

#[test]
fn builder_errors() {
    let pr = problem(10, 2, 1, 3);
    let bad_lambda = FairKernel::new(0.0, 2).fit(&pr.k, &pr.a);
    assert!(matches!(
        bad_lambda,
        Err(Error::InvalidParameter { name: "lambda", .. })
    ));
    let nan_lambda = FairKernel::new(f64::NAN, 2).fit(&pr.k, &pr.a);
    assert!(matches!(nan_lambda, Err(Error::InvalidParameter { .. })));
    let short = Matrix::from_fn(9, 1, |i, _| i as f64);
    assert!(matches!(
        FairKernel::new(1e-2, 2).fit(&pr.k, &short),
        Err(Error::DimensionMismatch { .. })
    ));
    let none = Matrix::<f64>::zeros(10, 0).unwrap();
    assert!(matches!(
        FairKernel::new(1e-2, 2).fit(&pr.k, &none),
        Err(Error::InvalidParameter { .. })
    ));
    let mut nan = pr.a.clone();
    nan.set(3, 0, f64::NAN).unwrap();
    assert!(matches!(
        FairKernel::new(1e-2, 2).fit(&pr.k, &nan),
        Err(Error::NonFinite { .. })
    ));
    let not_square = Matrix::<f64>::zeros(10, 9).unwrap();
    assert!(FairKernel::new(1e-2, 2).fit(&not_square, &pr.a).is_err());
    let dup = FairKernel::new(1e-2, 2)
        .nystrom_landmarks(vec![1, 2, 1])
        .fit(&pr.k, &pr.a);
    assert!(matches!(dup, Err(Error::InvalidParameter { .. })));
    let out_of_range = FairKernel::new(1e-2, 2)
        .nystrom_landmarks(vec![1, 10])
        .fit(&pr.k, &pr.a);
    assert!(matches!(out_of_range, Err(Error::DimensionMismatch { .. })));
    assert!(
        FairKernel::new(1e-2, 2)
            .nystrom(0)
            .fit(&pr.k, &pr.a)
            .is_err()
    );
    assert!(
        FairKernel::new(1e-2, 2)
            .nystrom(11)
            .fit(&pr.k, &pr.a)
            .is_err()
    );
    let fit = FairKernel::new(1e-2, 2).fit(&pr.k, &pr.a).unwrap();
    let wrong = Matrix::<f64>::zeros(2, 9).unwrap();
    assert!(matches!(
        fit.transform_rows(&wrong),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        fit.transform_rows_with_diag(&pr.cross, &[1.0]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        fit.transform_rows_with_diag(&pr.cross, &[1.0, f64::INFINITY]),
        Err(Error::NonFinite { .. })
    ));
    let mut bad_cross = pr.cross.clone();
    bad_cross.set(0, 0, f64::NAN).unwrap();
    assert!(fit.transform_rows(&bad_cross).is_err());
    // the builder's settings
    let b = FairKernel::new(1.0, 1)
        .with_lambda(0.5)
        .with_iterations(4)
        .nystrom(3);
    assert_eq!(
        (b.lambda(), b.iterations(), b.mode()),
        (0.5, 4, &FairMode::NystromGreedy { m: 3 })
    );
    assert_eq!(b.exact().mode(), &FairMode::Exact);
}

#[test]
fn kernel_ridge_matches_a_dense_solve() {
    let pts = points(25, 61);
    let k = rbf(&pts, &pts, 0.7);
    let mut rng = Rng(3);
    let y: Vec<f64> = (0..25)
        .map(|i| pts[i][0].sin() + 0.1 * rng.normal() + 5.0)
        .collect();
    let mu = 0.05;
    let shifted = Matrix::from_fn(25, 25, |i, j| at(&k, i, j) + if i == j { mu } else { 0.0 });
    let plain = KernelRidge::fit(&k, &y, mu).unwrap();
    let beta = dense_solve(&shifted, &y);
    assert!(
        plain
            .coefficients()
            .iter()
            .zip(&beta)
            .all(|(a, b)| (a - b).abs() < 1e-9)
    );
    assert_eq!((plain.intercept(), plain.mu()), (0.0, mu));
    let mean = y.iter().sum::<f64>() / 25.0;
    let centered = KernelRidge::fit_centered(&k, &y, mu).unwrap();
    let yc: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let beta_c = dense_solve(&shifted, &yc);
    assert!((centered.intercept() - mean).abs() < 1e-12);
    assert!(
        centered
            .coefficients()
            .iter()
            .zip(&beta_c)
            .all(|(a, b)| (a - b).abs() < 1e-9)
    );
    // predictions from cross rows
    let new = points(4, 62);
    let cross = rbf(&new, &pts, 0.7);
    let pred = centered.predict(&cross).unwrap();
    for i in 0..4 {
        let expected: f64 = (0..25).map(|j| at(&cross, i, j) * beta_c[j]).sum::<f64>() + mean;
        assert!((pred[i] - expected).abs() < 1e-9);
        let row: Vec<f64> = (0..25).map(|j| at(&cross, i, j)).collect();
        assert!((centered.predict_row(&row).unwrap() - pred[i]).abs() < 1e-12);
    }
    // the fit reproduces the training targets up to the ridge: K beta + mu beta = y - b
    let fitted = centered.predict(&k).unwrap();
    for i in 0..25 {
        assert!((fitted[i] + mu * centered.coefficients()[i] - y[i]).abs() < 1e-9);
    }
}

#[test]
fn kernel_ridge_errors() {
    let k = Matrix::from_fn(3, 3, |i, j| if i == j { 1.0 } else { 0.5 });
    assert!(matches!(
        KernelRidge::fit(&k, &[1.0, 2.0, 3.0], 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        KernelRidge::fit(&k, &[1.0, 2.0], 0.1),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        KernelRidge::fit(&k, &[1.0, f64::NAN, 3.0], 0.1),
        Err(Error::NonFinite { .. })
    ));
    assert!(KernelRidge::fit_centered(&Matrix::<f64>::zeros(0, 0).unwrap(), &[], 0.1).is_err());
    let indefinite = Matrix::from_fn(2, 2, |i, j| if i == j { 0.0 } else { 5.0 });
    assert!(matches!(
        KernelRidge::fit(&indefinite, &[1.0, 1.0], 0.1),
        Err(Error::NotPositiveDefinite { .. })
    ));
    let model = KernelRidge::fit(&k, &[1.0, 2.0, 3.0], 0.1).unwrap();
    assert!(model.predict(&Matrix::<f64>::zeros(1, 2).unwrap()).is_err());
    assert!(model.predict_row(&[1.0]).is_err());
}

#[test]
fn folds_partition_the_points_deterministically() {
    let folds = k_fold(23, 5, 9).unwrap();
    assert_eq!(
        folds.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![5, 5, 5, 4, 4]
    );
    let mut all: Vec<usize> = folds.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..23).collect::<Vec<_>>());
    assert_eq!(folds, k_fold(23, 5, 9).unwrap());
    assert_ne!(folds, k_fold(23, 5, 10).unwrap());
    assert!(folds.iter().all(|f| f.windows(2).all(|w| w[0] < w[1])));
    let train = complement(23, &folds[0]);
    assert_eq!(train.len(), 18);
    assert!(train.iter().all(|i| !folds[0].contains(i)));
    assert!(k_fold(3, 4, 0).is_err());
    assert!(k_fold(10, 1, 0).is_err());
}

#[test]
fn ridge_selection_picks_the_smallest_cv_error() {
    let pts = points(40, 71);
    let k = rbf(&pts, &pts, 0.6);
    let mut rng = Rng(8);
    let y: Vec<f64> = pts
        .iter()
        .map(|p| (2.0 * p[0]).sin() + 0.3 * rng.normal())
        .collect();
    let grid = [1e-4, 1e-2, 1.0, 100.0];
    let sel = select_ridge_cv(&k, &y, &grid, 4, 1).unwrap();
    assert_eq!(sel.scores.len(), 4);
    let best = sel
        .scores
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert_eq!(sel.mu, best.0);
    // a huge ridge predicts the mean: worse than the best
    assert!(sel.scores[3].1 > best.1);
    assert!(select_ridge_cv(&k, &y, &[], 4, 1).is_err());
    assert!(select_ridge_cv(&k, &y, &[-1.0], 4, 1).is_err());
}

#[test]
fn standardizer_rbf_and_median_heuristic() {
    let x = Matrix::from_fn(4, 2, |i, j| if j == 0 { i as f64 } else { 7.0 });
    let s = Standardizer::fit(&x).unwrap();
    assert_eq!(s.mean(), &[1.5, 7.0]);
    assert!((s.sd()[0] - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
    assert_eq!(s.sd()[1], 1.0, "a constant column keeps sd 1");
    let z = s.apply(&x).unwrap();
    assert!((at(&z, 0, 0) + 1.5 / (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
    assert_eq!(at(&z, 2, 1), 0.0);
    // distances between 0, 1, 2, 3 on a line: 1,1,1,2,2,3 -> median 1.5
    let line = Matrix::from_fn(4, 1, |i, _| i as f64);
    assert_eq!(median_heuristic_lengthscale(&line).unwrap(), 1.5);
    let same = Matrix::from_fn(3, 2, |_, _| 1.0);
    assert_eq!(median_heuristic_lengthscale(&same).unwrap(), 1.0);
    let k = rbf_kernel(&line, &Matrix::from_fn(1, 1, |_, _| 1.0), 2.0).unwrap();
    assert!((at(&k, 3, 0) - (-4.0f64 / 8.0).exp()).abs() < 1e-15);
    let g = rbf_gram(&line, 1.0).unwrap();
    assert!((0..4).all(|i| at(&g, i, i) == 1.0 && (0..4).all(|j| at(&g, i, j) == at(&g, j, i))));
    assert!(rbf_gram(&line, 0.0).is_err());
    assert!(rbf_kernel(&line, &x, 1.0).is_err());
    assert!(Standardizer::fit(&Matrix::from_fn(1, 2, |_, _| 1.0)).is_err());
    assert!(s.apply(&line).is_err());
    assert!(select(&x, &[4], &[0]).is_err());
    assert_eq!(select(&x, &[3, 0], &[0]).unwrap().as_slice(), &[3.0, 0.0]);
}

/// The property the method is for: after the transform, kernel ridge
/// regression of the protected attribute explains much less of it. On the
/// diabetes data (age is one of the inputs, so the plain kernel predicts it
/// almost perfectly), 3-fold cross-validated R^2 of age.
#[test]
fn ridge_regression_of_age_explains_much_less_after_the_transform() {
    let (x, _y, age) = diabetes();
    let x = Standardizer::fit(&x).unwrap().apply(&x).unwrap();
    let ls = median_heuristic_lengthscale(&x).unwrap();
    let k = rbf_gram(&x, ls).unwrap();
    let n = age.len();
    let mean = age.iter().sum::<f64>() / n as f64;
    let a: Vec<f64> = age.iter().map(|v| v - mean).collect();
    let folds = k_fold(n, 3, 1).unwrap();
    let cv_r2 = |iterations: usize| {
        let mut pred = vec![0.0; n];
        for test in &folds {
            let train = complement(n, test);
            let protected = Matrix::from_fn(train.len(), 1, |i, _| a[train[i]]);
            let fit = FairKernel::new(1e-1, iterations)
                .fit(&select(&k, &train, &train).unwrap(), &protected)
                .unwrap();
            let rows = fit
                .transform_rows(&select(&k, test, &train).unwrap())
                .unwrap();
            let targets: Vec<f64> = train.iter().map(|&i| a[i]).collect();
            let model = KernelRidge::fit_centered(fit.kernel().unwrap(), &targets, 0.1).unwrap();
            for (p, &i) in model.predict(&rows).unwrap().iter().zip(test) {
                pred[i] = *p;
            }
        }
        r_squared(&pred, &a).unwrap()
    };
    let (plain, fair) = (cv_r2(0), cv_r2(8));
    assert!(plain > 0.9, "the plain kernel predicts age: R^2 {plain}");
    assert!(fair < 0.3, "after 8 iterations: R^2 {fair}");
}

#[test]
fn degenerate_inputs_do_not_panic() {
    // a zero kernel: nothing to remove
    let zero = Matrix::<f64>::zeros(5, 5).unwrap();
    let a = Matrix::from_fn(5, 1, |i, _| i as f64);
    let fit = FairKernel::new(1e-2, 3).fit(&zero, &a).unwrap();
    assert_eq!(fit.applied(), 0);
    let rows = fit
        .transform_rows(&Matrix::<f64>::zeros(2, 5).unwrap())
        .unwrap();
    assert_eq!((rows.nrows(), rows.ncols()), (2, 5));
    // a constant attribute on a kernel that holds the constant function
    let ones = Matrix::from_fn(4, 4, |_, _| 1.0);
    let c = Matrix::from_fn(4, 1, |_, _| 2.0);
    for builder in [
        FairKernel::new(1e-2, 5),
        FairKernel::new(1e-2, 5).nystrom(2),
    ] {
        let fit = builder.fit(&ones, &c).unwrap();
        assert!(fit.applied() <= 1);
        assert!(
            fit.kernel()
                .unwrap()
                .as_slice()
                .iter()
                .all(|v: &f64| v.is_finite())
        );
    }
    // one point, no new points, zero iterations
    let one = Matrix::from_fn(1, 1, |_, _| 1.0);
    let fit = FairKernel::new(1.0, 0)
        .fit(&one, &Matrix::from_fn(1, 1, |_, _| 1.0))
        .unwrap();
    assert_eq!(fit.kernel().unwrap(), &one);
    let none = fit
        .transform_rows(&Matrix::<f64>::zeros(0, 1).unwrap())
        .unwrap();
    assert_eq!(none.nrows(), 0);
    // an empty kernel
    let empty = Matrix::<f64>::zeros(0, 0).unwrap();
    let _ = FairKernel::new(1.0, 2).fit(&empty, &Matrix::<f64>::zeros(0, 1).unwrap());
}

#[test]
fn greedy_nystrom_on_a_low_rank_kernel_uses_the_rank_found() {
    // a linear kernel of 3 features: rank 3 < m = 10 landmarks
    let pts = points(20, 77);
    let feats: Vec<[f64; 3]> = pts.iter().map(|p| [p[0], p[1], p[0] * p[1]]).collect();
    let k = Matrix::from_fn(20, 20, |i, j| {
        (0..3).map(|c| feats[i][c] * feats[j][c]).sum()
    });
    let a = attributes(&pts, 1);
    let nys = FairKernel::new(1e-2, 2).nystrom(10).fit(&k, &a).unwrap();
    assert_eq!(nys.landmarks().unwrap().len(), 3);
    assert_eq!(nys.report().rank, 3);
    let exact = FairKernel::new(1e-2, 2).fit(&k, &a).unwrap();
    assert!(max_diff(nys.kernel().unwrap(), exact.kernel().unwrap()) < 1e-9);
    assert!(max_diff(&nys.transform_rows(&k).unwrap(), nys.kernel().unwrap()) < 1e-10);
}
