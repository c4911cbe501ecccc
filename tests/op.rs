//! Operator traits and conjugate gradients.
mod common;

use common::{Dense, Rng, random_spd, rbf_grid};
use gramkit::cholesky::{CholeskyRef, cholesky_in_place, cholesky_in_place_workspace_len};
use gramkit::op::{
    CgOptions, LinearOperator, Solve, conjugate_gradient, conjugate_gradient_workspace_len,
};
use gramkit::{Error, MatRef};

fn residual(a: &Dense<f64>, x: &[f64], b: &[f64]) -> f64 {
    let ax = a.matmul(&Dense::from_fn(a.n, 1, |i, _| x[i]));
    (0..a.n)
        .map(|i| (ax.at(i, 0) - b[i]).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn cg_solves_spd_systems() {
    let n = 80;
    let mut rng = Rng(2);
    let a = random_spd::<f64>(n, 5.0, &mut rng);
    let b: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let mut x = vec![0.0; n];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(n, 0, 0)];
    let opts = CgOptions {
        max_iterations: 500,
        tolerance: 1e-12,
    };
    let report = conjugate_gradient(&a.view(), None, &b, &mut x, opts, &mut ws).unwrap();
    let bn = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(residual(&a, &x, &b) <= 1e-10 * bn, "report {report:?}");
    assert!(report.relative_residual <= 1e-12);
    assert!(report.iterations > 0 && report.iterations <= 500);
}

#[test]
fn preconditioning_with_an_exact_factor_converges_in_one_step() {
    let n = 50;
    let mut rng = Rng(4);
    let a = random_spd::<f64>(n, 1.0, &mut rng);
    let mut l = a.clone();
    let mut cws = vec![0.0; cholesky_in_place_workspace_len(n)];
    cholesky_in_place(l.view_mut(), &mut cws).unwrap();
    let chol = CholeskyRef::from_factor(l.view()).unwrap();
    let b: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let mut x = vec![0.0; n];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(n, 0, chol.solve_workspace_len())];
    let opts = CgOptions {
        max_iterations: 10,
        tolerance: 1e-10,
    };
    let report = conjugate_gradient(&a.view(), Some(&chol), &b, &mut x, opts, &mut ws).unwrap();
    assert!(report.iterations <= 2, "{report:?}");
    let mut x2 = vec![0.0; n];
    let plain = conjugate_gradient(
        &a.view(),
        None,
        &b,
        &mut x2,
        CgOptions {
            max_iterations: 1000,
            tolerance: 1e-10,
        },
        &mut ws,
    )
    .unwrap();
    assert!(plain.iterations > report.iterations);
}

#[test]
fn cg_reports_its_cap_and_keeps_the_iterate() {
    // Ill-conditioned RBF kernel plus a small ridge: needs many iterations.
    let mut a = rbf_grid::<f64>(100, 0.0, 4.0, 1.0, 1.0);
    for i in 0..100 {
        a.data[i * 100 + i] += 1e-8;
    }
    let b = vec![1.0; 100];
    let mut x = vec![0.0; 100];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(100, 0, 0)];
    let err = conjugate_gradient(
        &a.view(),
        None,
        &b,
        &mut x,
        CgOptions {
            max_iterations: 3,
            tolerance: 1e-14,
        },
        &mut ws,
    )
    .unwrap_err();
    assert_eq!(err, Error::NoConvergence { iterations: 3 });
    assert!(x.iter().any(|&v| v != 0.0));
}

#[test]
fn cg_detects_an_indefinite_operator() {
    let a = [[1.0, 0.0], [0.0, -1.0]];
    let b = [0.0, 1.0];
    let mut x = [0.0; 2];
    let mut ws = [0.0; conjugate_gradient_workspace_len(2, 0, 0)];
    let err = conjugate_gradient(
        &MatRef::from_array(&a),
        None,
        &b,
        &mut x,
        CgOptions::default(),
        &mut ws,
    )
    .unwrap_err();
    assert_eq!(err, Error::NotPositiveDefiniteOperator { iteration: 1 });
}

#[test]
fn cg_argument_errors() {
    let a = [[2.0, 0.0], [0.0, 2.0]];
    let a = MatRef::from_array(&a);
    let mut x = [0.0; 2];
    let mut ws = [0.0; 8];
    let opts = CgOptions::default();
    assert!(matches!(
        conjugate_gradient(&a, None, &[1.0], &mut x, opts, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        conjugate_gradient(&a, None, &[1.0, f64::NAN], &mut x, opts, &mut ws),
        Err(Error::NonFinite {
            argument: "b",
            row: 1,
            ..
        })
    ));
    assert!(matches!(
        conjugate_gradient(&a, None, &[1.0, 1.0], &mut x, opts, &mut ws[..7]),
        Err(Error::WorkspaceTooSmall { needed: 8, got: 7 })
    ));
    assert!(matches!(
        conjugate_gradient(
            &a,
            None,
            &[1.0, 1.0],
            &mut x,
            CgOptions {
                tolerance: 0.0,
                ..opts
            },
            &mut ws
        ),
        Err(Error::InvalidParameter {
            name: "tolerance",
            ..
        })
    ));
    let rect = [[1.0, 2.0, 3.0]];
    assert!(matches!(
        conjugate_gradient(
            &MatRef::from_array(&rect),
            None,
            &[1.0],
            &mut [0.0],
            opts,
            &mut ws
        ),
        Err(Error::DimensionMismatch { .. })
    ));
    // zero right-hand side: zero solution without iterating
    let mut x = [5.0, 5.0];
    let r = conjugate_gradient(&a, None, &[0.0, 0.0], &mut x, opts, &mut ws).unwrap();
    assert_eq!((r.iterations, x), (0, [0.0, 0.0]));
}

#[test]
fn dense_operator_products() {
    let mut rng = Rng(8);
    let a = Dense::<f64>::from_fn(7, 5, |_, _| rng.uniform());
    let x: Vec<f64> = (0..5).map(|_| rng.uniform()).collect();
    let mut y = vec![0.0; 7];
    a.view().apply(&x, &mut y, &mut []).unwrap();
    let r = a.matmul(&Dense::from_fn(5, 1, |i, _| x[i]));
    assert!((0..7).all(|i| (y[i] - r.at(i, 0)).abs() < 1e-14));
    let mut z = vec![0.0; 5];
    a.view().apply_transpose(&y, &mut z, &mut []).unwrap();
    let r = a.transpose().matmul(&Dense::from_fn(7, 1, |i, _| y[i]));
    assert!((0..5).all(|i| (z[i] - r.at(i, 0)).abs() < 1e-13));
    assert!(matches!(
        a.view().apply(&y, &mut z, &mut []),
        Err(Error::DimensionMismatch { .. })
    ));
    // block application through the product kernel and through the default
    let xb = Dense::<f64>::from_fn(5, 3, |_, _| rng.uniform());
    let mut yb = Dense::<f64>::zeros(7, 3);
    let mut ws = vec![0.0; a.view().apply_block_workspace_len(3)];
    a.view()
        .apply_block(xb.view(), yb.view_mut(), &mut ws)
        .unwrap();
    assert!(yb.max_diff(&a.matmul(&xb)) < 1e-14);
}
