//! Kronecker algebra and Gaussian processes on grids, against the
//! materialized dense matrix and plain-loop references.
mod common;

use common::{Dense, Rng, dense_kron, dense_logdet_spd, dense_solve, random_spd, rbf_grid};
use gramkit::kron::{
    FactorDerivative, Kronecker, kron_apply_workspace_len, kronecker_cholesky_storage_len,
    kronecker_cholesky_workspace_len, kronecker_eigen_storage_len, kronecker_eigen_workspace_len,
};
use gramkit::op::{
    CgOptions, LinearOperator, LogDet, Solve, conjugate_gradient, conjugate_gradient_workspace_len,
};
use gramkit::{Error, MatRef, Real};
use proptest::prelude::*;

/// Random SPD factors of the given orders, in `T`, with their f64 originals.
fn spd_factors<T: Real>(orders: &[usize], rng: &mut Rng) -> (Vec<Dense<T>>, Vec<Dense<f64>>) {
    let f64s: Vec<Dense<f64>> = orders
        .iter()
        .map(|&n| random_spd::<f64>(n, 0.5, rng))
        .collect();
    let ts = f64s
        .iter()
        .map(|f| Dense::from_fn(f.n, f.m, |i, j| T::from_f64(f.at(i, j))))
        .collect();
    (ts, f64s)
}

fn views<T: Real>(fs: &[Dense<T>]) -> Vec<MatRef<'_, T>> {
    fs.iter().map(|f| f.view()).collect()
}

fn vector<T: Real>(n: usize, rng: &mut Rng) -> Vec<T> {
    (0..n).map(|_| T::from_f64(rng.uniform())).collect()
}

fn max_rel_diff<T: Real>(x: &[T], reference: &[f64]) -> f64 {
    let scale = reference.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
    x.iter()
        .zip(reference)
        .map(|(a, b)| (a.as_f64() - b).abs())
        .fold(0.0, f64::max)
        / scale
}

fn matvec(a: &Dense<f64>, x: &[f64]) -> Vec<f64> {
    (0..a.n)
        .map(|i| (0..a.m).map(|j| a.at(i, j) * x[j]).sum())
        .collect()
}

fn orders_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        proptest::collection::vec(1usize..6, 2),
        proptest::collection::vec(1usize..5, 3),
        proptest::collection::vec(1usize..4, 4),
    ]
}

/// Products, transposed products (rectangular factors), trace, diagonal and
/// materialization against the definition.
fn check_products<T: Real>(orders: &[usize], seed: u64, tol: f64) {
    let mut rng = Rng(seed);
    let rect: Vec<Dense<f64>> = orders
        .iter()
        .map(|&n| Dense::from_fn(n + 1, n, |_, _| rng.uniform()))
        .collect();
    let rect_t: Vec<Dense<T>> = rect
        .iter()
        .map(|f| Dense::from_fn(f.n, f.m, |i, j| T::from_f64(f.at(i, j))))
        .collect();
    let k = Kronecker::new(&views(&rect_t)).unwrap();
    let dense = dense_kron(&rect);
    assert_eq!((k.nrows(), k.ncols()), (dense.n, dense.m));
    let x: Vec<T> = vector(k.ncols(), &mut rng);
    let mut y = vec![T::zero(); k.nrows()];
    let mut ws = vec![T::zero(); k.apply_workspace_len()];
    k.apply(&x, &mut y, &mut ws).unwrap();
    let xf: Vec<f64> = x.iter().map(|v| v.as_f64()).collect();
    assert!(max_rel_diff(&y, &matvec(&dense, &xf)) < tol);
    let z: Vec<T> = vector(k.nrows(), &mut rng);
    let mut w = vec![T::zero(); k.ncols()];
    k.apply_transpose(&z, &mut w, &mut ws).unwrap();
    let zf: Vec<f64> = z.iter().map(|v| v.as_f64()).collect();
    assert!(max_rel_diff(&w, &matvec(&dense.transpose(), &zf)) < tol);
    let mut mat = Dense::<T>::zeros(k.nrows(), k.ncols());
    k.to_dense(mat.view_mut()).unwrap();
    assert!(max_rel_diff(&mat.data, &dense.data) < tol);

    let (sq, sq64) = spd_factors::<T>(orders, &mut rng);
    let k = Kronecker::new(&views(&sq)).unwrap();
    let dense = dense_kron(&sq64);
    let tr: f64 = (0..dense.n).map(|i| dense.at(i, i)).sum();
    assert!((k.trace().unwrap().as_f64() - tr).abs() <= tol * tr.abs());
    let mut diag = vec![T::zero(); dense.n];
    k.diagonal(&mut diag).unwrap();
    assert!(
        max_rel_diff(
            &diag,
            &(0..dense.n).map(|i| dense.at(i, i)).collect::<Vec<_>>()
        ) < tol
    );
}

/// Cholesky solve and log-determinant; eigen-form noisy solve, product,
/// log-determinant; GP quantities; prediction at new points.
fn check_structured<T: Real>(orders: &[usize], seed: u64, tol: f64) {
    let mut rng = Rng(seed);
    let (fs, fs64) = spd_factors::<T>(orders, &mut rng);
    let k = Kronecker::new(&views(&fs)).unwrap();
    let kd = dense_kron(&fs64);
    let n = kd.n;
    let y: Vec<T> = vector(n, &mut rng);
    let yf: Vec<f64> = y.iter().map(|v| v.as_f64()).collect();

    // Cholesky
    let mut storage = vec![T::zero(); kronecker_cholesky_storage_len(orders)];
    let mut ws = vec![T::zero(); kronecker_cholesky_workspace_len(orders)];
    let chol = k.cholesky(&mut storage, &mut ws).unwrap();
    let mut x = y.clone();
    chol.solve_in_place(&mut x).unwrap();
    assert!(
        max_rel_diff(&x, &dense_solve(&kd, &yf)) < tol,
        "Kronecker Cholesky solve"
    );
    let ld = dense_logdet_spd(&kd);
    assert!(
        (chol.log_det().as_f64() - ld).abs() <= tol * (1.0 + ld.abs()),
        "Kronecker log det"
    );
    let mut ax = vec![T::zero(); n];
    chol.apply(
        &x,
        &mut ax,
        &mut vec![T::zero(); chol.apply_workspace_len()],
    )
    .unwrap();
    assert!(max_rel_diff(&ax, &yf) < tol);

    // eigen form with noise
    let s2 = 0.3;
    let mut es = vec![T::zero(); kronecker_eigen_storage_len(orders)];
    let mut ews = vec![T::zero(); kronecker_eigen_workspace_len(orders)];
    let eig = k.eigen(&mut es, &mut ews).unwrap();
    assert_eq!(eig.floor().clamped, 0);
    let noisy = eig.with_noise(T::from_f64(s2)).unwrap();
    let kn = Dense::from_fn(n, n, |i, j| kd.at(i, j) + if i == j { s2 } else { 0.0 });
    let mut b = y.clone();
    let mut sws = vec![T::zero(); noisy.solve_workspace_len()];
    noisy.solve_in_place(&mut b, &mut sws).unwrap();
    let alpha = dense_solve(&kn, &yf);
    assert!(max_rel_diff(&b, &alpha) < tol, "noisy solve");
    let mut p = vec![T::zero(); n];
    noisy
        .apply(
            &y,
            &mut p,
            &mut vec![T::zero(); noisy.apply_workspace_len()],
        )
        .unwrap();
    assert!(max_rel_diff(&p, &matvec(&kn, &yf)) < tol, "noisy product");
    let ldn = dense_logdet_spd(&kn);
    assert!(
        (noisy.log_det().as_f64() - ldn).abs() <= tol * (1.0 + ldn.abs()),
        "noisy log det"
    );
    assert_eq!(LogDet::log_det(&noisy).unwrap(), noisy.log_det());

    // GP: LML, posterior mean and variance
    let mut gws = vec![T::zero(); noisy.gp_workspace_len()];
    let lml = noisy
        .log_marginal_likelihood(&y, &mut gws)
        .unwrap()
        .as_f64();
    let fit: f64 = yf.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let lml_ref = -0.5 * fit - 0.5 * ldn - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    assert!(
        (lml - lml_ref).abs() <= tol * (1.0 + lml_ref.abs()),
        "lml {lml} vs {lml_ref}"
    );
    let mut mean = vec![T::zero(); n];
    noisy.posterior_mean(&y, &mut mean, &mut gws).unwrap();
    assert!(
        max_rel_diff(&mean, &matvec(&kd, &alpha)) < tol,
        "posterior mean"
    );
    let mut var = vec![T::zero(); n];
    noisy
        .posterior_variance(
            &mut var,
            &mut vec![T::zero(); noisy.posterior_variance_workspace_len()],
        )
        .unwrap();
    let var_ref: Vec<f64> = (0..n)
        .map(|i| {
            let col: Vec<f64> = (0..n).map(|j| kd.at(j, i)).collect();
            kd.at(i, i)
                - col
                    .iter()
                    .zip(dense_solve(&kn, &col))
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
        })
        .collect();
    let scale = kd.max_abs();
    assert!(
        var.iter()
            .zip(&var_ref)
            .all(|(a, b)| (a.as_f64() - b).abs() <= tol * scale),
        "posterior variance"
    );
    assert!(var.iter().all(|v| v.as_f64() >= 0.0));

    // prediction at new points: cross-covariances of random new rows
    let cross64: Vec<Dense<f64>> = fs64
        .iter()
        .map(|f| Dense::from_fn(2, f.n, |i, j| f.at((i + j) % f.n, j) * 0.5))
        .collect();
    let cross_t: Vec<Dense<T>> = cross64
        .iter()
        .map(|f| Dense::from_fn(f.n, f.m, |i, j| T::from_f64(f.at(i, j))))
        .collect();
    let cross = Kronecker::new(&views(&cross_t)).unwrap();
    let kx = dense_kron(&cross64);
    let mut pred = vec![T::zero(); cross.nrows()];
    let mut pws = vec![T::zero(); noisy.predict_workspace_len(&cross)];
    noisy.predict_mean(&cross, &y, &mut pred, &mut pws).unwrap();
    assert!(
        max_rel_diff(&pred, &matvec(&kx, &alpha)) < tol,
        "predict mean"
    );
    let diag64: Vec<Vec<f64>> = cross64
        .iter()
        .map(|f| (0..f.n).map(|i| 2.0 + i as f64).collect())
        .collect();
    let diag_t: Vec<Vec<T>> = diag64
        .iter()
        .map(|d| d.iter().map(|&v| T::from_f64(v)).collect())
        .collect();
    let diag_refs: Vec<&[T]> = diag_t.iter().map(|d| d.as_slice()).collect();
    let mut pv = vec![T::zero(); cross.nrows()];
    noisy
        .predict_variance(&cross, &diag_refs, &mut pv, &mut pws)
        .unwrap();
    let prior = dense_kron(
        &diag64
            .iter()
            .map(|d| Dense::from_fn(d.len(), 1, |i, _| d[i]))
            .collect::<Vec<_>>(),
    );
    for (i, v) in pv.iter().enumerate() {
        let row: Vec<f64> = (0..n).map(|j| kx.at(i, j)).collect();
        let explained: f64 = row
            .iter()
            .zip(dense_solve(&kn, &row))
            .map(|(a, b)| a * b)
            .sum();
        let expected = (prior.at(i, 0) - explained).max(0.0);
        assert!(
            (v.as_f64() - expected).abs() <= tol * (1.0 + expected.abs()),
            "predict variance {i}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn products_f64(orders in orders_strategy(), seed in any::<u64>()) {
        check_products::<f64>(&orders, seed, 1e-12);
    }

    #[test]
    fn products_f32(orders in orders_strategy(), seed in any::<u64>()) {
        check_products::<f32>(&orders, seed, 1e-5);
    }

    #[test]
    fn structured_f64(orders in orders_strategy(), seed in any::<u64>()) {
        check_structured::<f64>(&orders, seed, 1e-9);
    }

    #[test]
    fn structured_f32(orders in orders_strategy(), seed in any::<u64>()) {
        check_structured::<f32>(&orders, seed, 2e-3);
    }
}

/// RBF factor on `n` points of [0, 4] with `lengthscale`, and its derivative
/// with respect to the lengthscale.
fn rbf_with_derivative(n: usize, lengthscale: f64) -> (Dense<f64>, Dense<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 4.0 * i as f64 / (n - 1) as f64).collect();
    let k = Dense::from_fn(n, n, |i, j| {
        (-0.5 * (x[i] - x[j]).powi(2) / lengthscale.powi(2)).exp()
    });
    let dk = Dense::from_fn(n, n, |i, j| {
        k.at(i, j) * (x[i] - x[j]).powi(2) / lengthscale.powi(3)
    });
    (k, dk)
}

/// LML of a 2-D or 3-D RBF grid with the given lengthscales and noise.
fn grid_lml(lengthscales: &[f64], orders: &[usize], s2: f64, y: &[f64]) -> f64 {
    let fs: Vec<Dense<f64>> = lengthscales
        .iter()
        .zip(orders)
        .map(|(&l, &n)| rbf_with_derivative(n, l).0)
        .collect();
    let k = Kronecker::new(&views(&fs)).unwrap();
    let mut es = vec![0.0; kronecker_eigen_storage_len(orders)];
    let eig = k
        .eigen(
            &mut es,
            &mut vec![0.0; kronecker_eigen_workspace_len(orders)],
        )
        .unwrap();
    let noisy = eig.with_noise(s2).unwrap();
    noisy
        .log_marginal_likelihood(y, &mut vec![0.0; noisy.gp_workspace_len()])
        .unwrap()
}

#[test]
fn lml_gradient_matches_central_differences() {
    for (orders, lengthscales) in [
        (vec![7usize, 5], vec![0.8, 1.3]),
        (vec![4, 5, 3], vec![1.1, 0.7, 1.6]),
    ] {
        let mut rng = Rng(5);
        let n: usize = orders.iter().product();
        let y: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let s2 = 0.05;
        let pairs: Vec<(Dense<f64>, Dense<f64>)> = lengthscales
            .iter()
            .zip(&orders)
            .map(|(&l, &n)| rbf_with_derivative(n, l))
            .collect();
        let fs: Vec<Dense<f64>> = pairs.iter().map(|p| p.0.clone()).collect();
        let k = Kronecker::new(&views(&fs)).unwrap();
        let mut es = vec![0.0; kronecker_eigen_storage_len(&orders)];
        let eig = k
            .eigen(
                &mut es,
                &mut vec![0.0; kronecker_eigen_workspace_len(&orders)],
            )
            .unwrap();
        let noisy = eig.with_noise(s2).unwrap();
        let derivs: Vec<FactorDerivative<'_, f64>> = pairs
            .iter()
            .enumerate()
            .map(|(factor, p)| FactorDerivative {
                factor,
                matrix: p.1.view(),
            })
            .collect();
        let mut grad = vec![0.0; derivs.len() + 1];
        let mut ws = vec![0.0; noisy.lml_gradient_workspace_len()];
        let lml = noisy.lml_gradient(&y, &derivs, &mut grad, &mut ws).unwrap();
        assert!((lml - grid_lml(&lengthscales, &orders, s2, &y)).abs() < 1e-10 * lml.abs());
        let h = 1e-5;
        let fd_noise = (grid_lml(&lengthscales, &orders, s2 + h, &y)
            - grid_lml(&lengthscales, &orders, s2 - h, &y))
            / (2.0 * h);
        assert!(
            (grad[0] - fd_noise).abs() <= 1e-6 * (1.0 + fd_noise.abs()),
            "noise: {} vs {fd_noise}",
            grad[0]
        );
        for i in 0..lengthscales.len() {
            let mut up = lengthscales.clone();
            let mut down = lengthscales.clone();
            up[i] += h;
            down[i] -= h;
            let fd =
                (grid_lml(&up, &orders, s2, &y) - grid_lml(&down, &orders, s2, &y)) / (2.0 * h);
            assert!(
                (grad[i + 1] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                "lengthscale {i}: {} vs {fd}",
                grad[i + 1]
            );
        }
    }
}

#[test]
fn seed_grid_log_determinants() {
    // RBF (lengthscale 1, variance 1) on 15 points of linspace(0, 4) per axis.
    let kx = rbf_grid::<f64>(15, 0.0, 4.0, 1.0, 1.0);
    let k = Kronecker::new(&[kx.view(), kx.view()]).unwrap();
    let mut storage = vec![0.0; kronecker_cholesky_storage_len(&[15, 15])];
    let chol = k
        .cholesky(
            &mut storage,
            &mut vec![0.0; kronecker_cholesky_workspace_len(&[15, 15])],
        )
        .unwrap();
    // 2 * 15 * log|Kx| in 80-digit arithmetic (mpmath): -4064.3486431356314525
    let exact = -4_064.348_643_135_631_4;
    assert!(
        ((chol.log_det() - exact) / exact).abs() < 1e-6,
        "{}",
        chol.log_det()
    );
    // with noise variance 0.0225: against a dense f64 Cholesky of the 225 x 225 matrix
    let mut es = vec![0.0; kronecker_eigen_storage_len(&[15, 15])];
    let eig = k
        .eigen(
            &mut es,
            &mut vec![0.0; kronecker_eigen_workspace_len(&[15, 15])],
        )
        .unwrap();
    let noisy = eig.with_noise(0.0225).unwrap();
    let kd = dense_kron(&[kx.clone(), kx.clone()]);
    let kn = Dense::from_fn(225, 225, |i, j| {
        kd.at(i, j) + if i == j { 0.0225 } else { 0.0 }
    });
    let dense = dense_logdet_spd(&kn);
    assert!(
        ((noisy.log_det() - dense) / dense).abs() < 1e-10,
        "{} vs {dense}",
        noisy.log_det()
    );
    // the floor report: eigenvalues of the noise-free factor at rounding level
    let floor = eig.floor();
    assert!(floor.most_negative <= 0.0 && floor.most_negative > -1e-14);
}

#[test]
fn noisy_operator_serves_conjugate_gradients() {
    let mut rng = Rng(3);
    let (fs, _) = spd_factors::<f64>(&[6, 7], &mut rng);
    let k = Kronecker::new(&views(&fs)).unwrap();
    let mut es = vec![0.0; kronecker_eigen_storage_len(&[6, 7])];
    let eig = k
        .eigen(
            &mut es,
            &mut vec![0.0; kronecker_eigen_workspace_len(&[6, 7])],
        )
        .unwrap();
    let noisy = eig.with_noise(0.1).unwrap();
    let y = vector::<f64>(42, &mut rng);
    let mut x = vec![0.0; 42];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(42, noisy.apply_workspace_len(), 0)];
    conjugate_gradient(
        &noisy,
        None,
        &y,
        &mut x,
        CgOptions {
            max_iterations: 200,
            tolerance: 1e-12,
        },
        &mut ws,
    )
    .unwrap();
    let mut direct = y.clone();
    noisy
        .solve_in_place(&mut direct, &mut vec![0.0; noisy.solve_workspace_len()])
        .unwrap();
    assert!(x.iter().zip(&direct).all(|(a, b)| (a - b).abs() < 1e-8));
}

#[test]
fn error_cases() {
    let a = [[2.0, 1.0], [1.0, 2.0]];
    let b = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let k = Kronecker::new(&[MatRef::from_array(&a), MatRef::from_array(&b)]).unwrap();
    // no factors, too many
    assert!(matches!(
        Kronecker::<f64>::new(&[]),
        Err(Error::InvalidParameter {
            name: "factors",
            ..
        })
    ));
    let nine = [MatRef::from_array(&a); 9];
    assert!(matches!(
        Kronecker::new(&nine),
        Err(Error::InvalidParameter { .. })
    ));
    // non-finite entries name the factor
    let bad = [[1.0, f64::NAN], [0.0, 1.0]];
    assert_eq!(
        Kronecker::new(&[MatRef::from_array(&a), MatRef::from_array(&bad)]).map(|_| ()),
        Err(Error::NonFinite {
            argument: "Kronecker factor 1",
            row: 0,
            col: 1
        })
    );
    // wrong lengths, short workspace
    let mut ws = vec![0.0; k.apply_workspace_len()];
    assert!(matches!(
        k.apply(&[1.0; 5], &mut [0.0; 6], &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        k.apply(&[1.0; 6], &mut [0.0; 6], &mut ws[..3]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut storage = vec![0.0; kronecker_cholesky_storage_len(&[2, 3]) - 1];
    assert!(matches!(
        k.cholesky(&mut storage, &mut []),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    // non-square factors refuse the square-only operations
    let r = [[1.0, 2.0, 3.0]];
    let kr = Kronecker::new(&[MatRef::from_array(&r), MatRef::from_array(&a)]).unwrap();
    assert!(matches!(kr.trace(), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(
        kr.cholesky(&mut [0.0; 64], &mut []),
        Err(Error::DimensionMismatch { .. })
    ));
    // a numerically singular factor: duplicated points make a rank-deficient RBF
    let x = [0.0f64, 1.0, 1.0, 2.0];
    let s = Dense::from_fn(4, 4, |i, j| (-0.5 * (x[i] - x[j]).powi(2)).exp());
    let ks = Kronecker::new(&[MatRef::from_array(&a), s.view()]).unwrap();
    let mut storage = vec![0.0; kronecker_cholesky_storage_len(&[2, 4])];
    let err = ks
        .cholesky(
            &mut storage,
            &mut vec![0.0; kronecker_cholesky_workspace_len(&[2, 4])],
        )
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err,
        Error::NotPositiveDefiniteFactor {
            factor: 1,
            pivot: 2
        }
    );
    // an indefinite factor
    let ind = [[1.0, 2.0], [2.0, 1.0]];
    let ki = Kronecker::new(&[MatRef::from_array(&ind), MatRef::from_array(&b)]).unwrap();
    let mut storage = vec![0.0; 13];
    assert_eq!(
        ki.cholesky(&mut storage, &mut []).map(|_| ()),
        Err(Error::NotPositiveDefiniteFactor {
            factor: 0,
            pivot: 1
        })
    );
    // noise: negative, NaN; zero with a singular K
    let mut es = vec![0.0; kronecker_eigen_storage_len(&[2, 4])];
    let eig = ks
        .eigen(
            &mut es,
            &mut vec![0.0; kronecker_eigen_workspace_len(&[2, 4])],
        )
        .unwrap();
    assert!(matches!(
        eig.with_noise(-1.0),
        Err(Error::InvalidParameter {
            name: "noise_variance",
            ..
        })
    ));
    assert!(matches!(
        eig.with_noise(f64::NAN),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        eig.with_noise(0.0),
        Err(Error::InvalidParameter {
            name: "noise_variance",
            ..
        })
    ));
    assert!(eig.with_noise(1e-6).is_ok());
    let noisy = eig.with_noise(0.1).unwrap();
    // GP argument errors
    let mut gws = vec![0.0; noisy.gp_workspace_len()];
    assert!(matches!(
        noisy.log_marginal_likelihood(&[1.0; 7], &mut gws),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut y = [1.0; 8];
    y[3] = f64::INFINITY;
    assert!(matches!(
        noisy.log_marginal_likelihood(&y, &mut gws),
        Err(Error::NonFinite {
            argument: "y",
            row: 3,
            ..
        })
    ));
    assert!(matches!(
        noisy.log_marginal_likelihood(&[1.0; 8], &mut gws[..1]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let wrong = [[1.0; 3]; 3];
    let derivs = [FactorDerivative {
        factor: 1,
        matrix: MatRef::from_array(&wrong),
    }];
    let mut grad = [0.0; 2];
    let mut gradient_ws = vec![0.0; noisy.lml_gradient_workspace_len()];
    assert!(matches!(
        noisy.lml_gradient(&[1.0; 8], &derivs, &mut grad, &mut gradient_ws),
        Err(Error::DimensionMismatch { .. })
    ));
    let derivs = [FactorDerivative {
        factor: 5,
        matrix: MatRef::from_array(&a),
    }];
    assert!(matches!(
        noisy.lml_gradient(&[1.0; 8], &derivs, &mut grad, &mut gradient_ws),
        Err(Error::DimensionMismatch { .. })
    ));
    // cross-covariance whose columns do not match the training grid
    let cross = Kronecker::new(&[MatRef::from_array(&r), MatRef::from_array(&a)]).unwrap();
    let mut out = vec![0.0; cross.nrows()];
    let mut pws = vec![0.0; noisy.predict_workspace_len(&cross)];
    assert!(matches!(
        noisy.predict_mean(&cross, &[1.0; 8], &mut out, &mut pws),
        Err(Error::DimensionMismatch { .. })
    ));
    let _ = kron_apply_workspace_len(&[2, 3], &[2, 3]);
}

/// Results too large for the scalar type are `Overflow` errors, never an
/// infinity or a NaN returned as a value.
#[test]
fn overflowing_results_are_errors() {
    let big = [[1e200, 0.0], [0.0, 1e200]];
    let k = Kronecker::new(&[MatRef::from_array(&big), MatRef::from_array(&big)]).unwrap();
    assert!(matches!(k.trace(), Err(Error::Overflow { .. })));
    let mut y = [0.0; 4];
    let mut ws = vec![0.0; k.apply_workspace_len()];
    assert!(matches!(
        k.apply(&[1.0; 4], &mut y, &mut ws),
        Err(Error::Overflow { .. })
    ));
    // a tiny noise on a tiny spectrum: (K + s^2 I)^{-1} b overflows
    let tiny = [[1e-300, 0.0], [0.0, 1e-300]];
    let kt = Kronecker::new(&[MatRef::from_array(&tiny), MatRef::from_array(&tiny)]).unwrap();
    let orders = [2, 2];
    let mut storage = vec![0.0; kronecker_eigen_storage_len(&orders)];
    let mut ews = vec![0.0; kronecker_eigen_workspace_len(&orders)];
    let eig = kt.eigen(&mut storage, &mut ews).unwrap();
    let noisy = eig.with_noise(1e-300).unwrap();
    let mut b = [1e300; 4];
    let mut sws = vec![0.0; noisy.solve_workspace_len()];
    assert!(matches!(
        noisy.solve_in_place(&mut b, &mut sws),
        Err(Error::Overflow { .. })
    ));
    let mut gws = vec![0.0; noisy.gp_workspace_len()];
    assert!(matches!(
        noisy.log_marginal_likelihood(&[1e300; 4], &mut gws),
        Err(Error::Overflow { .. })
    ));
}
