//! The host layer's grid GP, L-BFGS minimizer and observation parser:
//! against dense plain-loop references, finite differences, known
//! minimizers, and every error path.
mod common;

use common::{Dense, Rng, dense_logdet_spd, dense_solve};
use gramkit::Error;
use gramkit::host::{
    GridGp, GridParam, HyperParam, Kernel1d, LbfgsOptions, LbfgsStatus, ParseProblem, minimize,
    parse_grid_values,
};
use std::f64::consts::PI;

// ------------------------------------------------------------ references

/// Every grid point (row-major, first axis outermost) as coordinates.
fn grid_points(axes: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut points = vec![vec![]];
    for axis in axes {
        points = points
            .iter()
            .flat_map(|p| {
                axis.iter().map(move |&v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    points
}

/// The covariance `s_f^2 prod_i k_i(p_i, q_i)` of two points, from the
/// kernels' scalar values (unit-variance kernels).
fn covariance(kernels: &[Kernel1d], signal: f64, p: &[f64], q: &[f64]) -> f64 {
    signal
        * kernels
            .iter()
            .zip(p.iter().zip(q))
            .map(|(k, (&a, &b))| k.value(a, b))
            .product::<f64>()
}

/// Dense `K(a, b)` between two point lists.
fn dense_cov(gp: &GridGp, a: &[Vec<f64>], b: &[Vec<f64>]) -> Dense<f64> {
    Dense::from_fn(a.len(), b.len(), |i, j| {
        covariance(gp.kernels(), gp.signal_variance(), &a[i], &b[j])
    })
}

/// Dense reference quantities for a GP.
struct DenseGp {
    lml: f64,
    mean: Vec<f64>,
    variance: Vec<f64>,
    alpha: Vec<f64>,
    noisy: Dense<f64>,
    k: Dense<f64>,
}

fn dense_reference(gp: &GridGp) -> DenseGp {
    let pts = grid_points(gp.axes());
    let n = pts.len();
    let k = dense_cov(gp, &pts, &pts);
    let s2 = gp.noise_variance();
    let noisy = Dense::from_fn(n, n, |i, j| k.at(i, j) + if i == j { s2 } else { 0.0 });
    let y = gp.observations();
    let alpha = dense_solve(&noisy, y);
    let fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let lml = -0.5 * fit - 0.5 * dense_logdet_spd(&noisy) - 0.5 * n as f64 * (2.0 * PI).ln();
    let mean = (0..n)
        .map(|i| (0..n).map(|j| k.at(i, j) * alpha[j]).sum())
        .collect();
    let variance = (0..n)
        .map(|i| {
            let col: Vec<f64> = (0..n).map(|j| k.at(j, i)).collect();
            let w = dense_solve(&noisy, &col);
            k.at(i, i) - col.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        })
        .collect();
    DenseGp {
        lml,
        mean,
        variance,
        alpha,
        noisy,
        k,
    }
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn uniform_axis(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// A 5 x 4 grid, irregular second axis, RBF x Matern 5/2.
fn small_2d() -> GridGp {
    let axes = vec![uniform_axis(5, 0.0, 3.0), vec![-0.4, 0.3, 0.5, 1.8]];
    let kernels = vec![
        Kernel1d::rbf(1.3, 0.9).unwrap(),
        Kernel1d::matern52(0.8, 0.7).unwrap(),
    ];
    let mut rng = Rng(11);
    let y = (0..20).map(|_| rng.uniform()).collect();
    GridGp::new(axes, kernels, 0.05, y).unwrap()
}

/// A 4 x 3 x 3 grid with periodic, Matern 3/2 and Matern 1/2 kernels.
fn small_3d() -> GridGp {
    let axes = vec![
        vec![0.0, 0.4, 1.1, 1.5],
        vec![-1.0, 0.0, 0.7],
        vec![2.0, 2.5, 3.5],
    ];
    let kernels = vec![
        Kernel1d::periodic(0.9, 0.8, 1.7).unwrap(),
        Kernel1d::matern32(1.5, 1.1).unwrap(),
        Kernel1d::matern12(1.0, 2.0).unwrap(),
    ];
    let mut rng = Rng(5);
    let y = (0..36).map(|_| rng.uniform()).collect();
    GridGp::new(axes, kernels, 0.1, y).unwrap()
}

// ------------------------------------------------------ GP against dense

#[test]
fn lml_posterior_and_solve_match_dense_2d_and_3d() {
    for mut gp in [small_2d(), small_3d()] {
        let reference = dense_reference(&gp);
        let lml = gp.log_marginal_likelihood().unwrap();
        assert!(
            (lml - reference.lml).abs() <= 1e-10 * reference.lml.abs().max(1.0),
            "lml {lml} vs dense {}",
            reference.lml
        );
        let post = gp.posterior().unwrap();
        assert_eq!(post.shape, gp.shape());
        assert!(max_diff(&post.mean, &reference.mean) < 1e-11);
        assert!(max_diff(&post.variance, &reference.variance) < 1e-11);
        assert!(post.variance.iter().all(|&v| v >= 0.0));

        let n = gp.num_points();
        let mut alpha = vec![0.0; n];
        let mut eig = gp.decompose().unwrap();
        eig.solve(&mut alpha).unwrap();
        assert!(max_diff(&alpha, &reference.alpha) < 1e-10);
        assert!(eig.residual(&alpha).unwrap() < 1e-12);
        // the residual is a real check: a perturbed alpha fails it
        let mut wrong = alpha.clone();
        wrong[3] += 1e-3;
        assert!(eig.residual(&wrong).unwrap() > 1e-5);
        let ld = eig.noisy().unwrap().log_det();
        assert!((ld - dense_logdet_spd(&reference.noisy)).abs() < 1e-10);
        // the Kronecker product of the factors is the dense K
        drop(eig);
        let k = gp.kronecker().unwrap();
        let mut dense = vec![0.0; n * n];
        k.to_dense(gramkit::MatMut::from_row_major(&mut dense, n, n).unwrap())
            .unwrap();
        assert!(max_diff(&dense, &reference.k.data) < 1e-14);
    }
}

#[test]
fn stage_methods_agree_with_the_conveniences() {
    let mut gp = small_3d();
    let lml = gp.log_marginal_likelihood().unwrap();
    let post = gp.posterior().unwrap();
    let n = gp.num_points();
    let (mut mean, mut var) = (vec![0.0; n], vec![0.0; n]);
    let mut eig = gp.decompose().unwrap();
    assert_eq!(eig.log_marginal_likelihood().unwrap(), lml);
    eig.posterior_mean(&mut mean).unwrap();
    eig.posterior_variance(&mut var).unwrap();
    assert_eq!(mean, post.mean);
    assert_eq!(var, post.variance);
    assert_eq!(eig.eigen().dim(), n);
    assert!(matches!(
        eig.solve(&mut [0.0; 3]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        eig.posterior_mean(&mut [0.0; 3]),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn prediction_matches_dense() {
    for mut gp in [small_2d(), small_3d()] {
        let reference = dense_reference(&gp);
        let new_axes: Vec<Vec<f64>> = gp
            .axes()
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let lo = a[0] - 0.3;
                let hi = a[a.len() - 1] + 0.5;
                uniform_axis(3 + k % 2, lo, hi)
            })
            .collect();
        let pred = gp.predict(&new_axes).unwrap();
        let new_pts = grid_points(&new_axes);
        let train = grid_points(gp.axes());
        let cross = dense_cov(&gp, &new_pts, &train);
        let m = new_pts.len();
        assert_eq!(pred.mean.len(), m);
        assert_eq!(
            pred.shape,
            new_axes.iter().map(Vec::len).collect::<Vec<_>>()
        );
        for i in 0..m {
            let row: Vec<f64> = (0..train.len()).map(|j| cross.at(i, j)).collect();
            let mean: f64 = row.iter().zip(&reference.alpha).map(|(a, b)| a * b).sum();
            let w = dense_solve(&reference.noisy, &row);
            let prior = covariance(gp.kernels(), gp.signal_variance(), &new_pts[i], &new_pts[i]);
            let var = prior - row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
            assert!((pred.mean[i] - mean).abs() < 1e-11, "mean at {i}");
            assert!(
                (pred.variance[i] - var.max(0.0)).abs() < 1e-11,
                "variance at {i}"
            );
        }
        // predicting at the training grid gives the posterior
        let axes = gp.axes().to_vec();
        let at_train = gp.predict(&axes).unwrap();
        assert!(max_diff(&at_train.mean, &reference.mean) < 1e-11);
        assert!(max_diff(&at_train.variance, &reference.variance) < 1e-11);
    }
}

// ---------------------------------------------------- gradient and params

#[test]
fn lml_gradient_matches_finite_differences_of_the_lml() {
    for mut gp in [small_2d(), small_3d()] {
        let theta = gp.log_params();
        let mut grad = vec![0.0; theta.len()];
        let lml = gp.lml_gradient(&mut grad).unwrap();
        assert!((lml - gp.log_marginal_likelihood().unwrap()).abs() < 1e-12 * lml.abs().max(1.0));
        let h = 1e-5;
        for p in 0..theta.len() {
            let mut t = theta.clone();
            t[p] = theta[p] + h;
            gp.set_log_params(&t).unwrap();
            let up = gp.log_marginal_likelihood().unwrap();
            t[p] = theta[p] - h;
            gp.set_log_params(&t).unwrap();
            let down = gp.log_marginal_likelihood().unwrap();
            gp.set_log_params(&theta).unwrap();
            let fd = (up - down) / (2.0 * h);
            assert!(
                (grad[p] - fd).abs() <= 1e-6 * fd.abs().max(1.0),
                "{}: analytic {}, fd {fd}",
                gp.param_names()[p],
                grad[p]
            );
        }
    }
}

#[test]
fn params_names_and_round_trip() {
    let mut gp = small_3d();
    assert_eq!(
        gp.params(),
        vec![
            GridParam::SignalVariance,
            GridParam::NoiseVariance,
            GridParam::Axis {
                axis: 0,
                param: HyperParam::Lengthscale
            },
            GridParam::Axis {
                axis: 0,
                param: HyperParam::Period
            },
            GridParam::Axis {
                axis: 1,
                param: HyperParam::Lengthscale
            },
            GridParam::Axis {
                axis: 2,
                param: HyperParam::Lengthscale
            },
        ]
    );
    assert_eq!(
        gp.param_names(),
        [
            "signal_variance",
            "noise_variance",
            "lengthscale[0]",
            "period[0]",
            "lengthscale[1]",
            "lengthscale[2]"
        ]
    );
    // the product of the kernels' variances is the one signal variance
    assert!((gp.signal_variance() - 0.9 * 1.5 * 1.0).abs() < 1e-15);
    assert!(gp.kernels().iter().all(|k| k.variance() == 1.0));
    let theta = gp.log_params();
    assert!((theta[0] - (0.9f64 * 1.5).ln()).abs() < 1e-15);
    assert!((theta[1] - 0.1f64.ln()).abs() < 1e-15);
    assert!((theta[3] - 1.7f64.ln()).abs() < 1e-15);
    let moved: Vec<f64> = theta.iter().map(|t| t + 0.25).collect();
    gp.set_log_params(&moved).unwrap();
    assert!((gp.noise_variance() - 0.1 * 0.25f64.exp()).abs() < 1e-15);
    assert!((gp.kernels()[0].period().unwrap() - 1.7 * 0.25f64.exp()).abs() < 1e-14);
    let back = gp.log_params();
    assert!(max_diff(&back, &moved) < 1e-14);
    assert_eq!(gp.dims(), 3);
    assert_eq!(gp.num_points(), 36);
}

#[test]
fn signal_variance_scales_the_kernel_not_the_axes() {
    // s_f^2 on a product of unit kernels equals the same variances spread
    // over the axes
    let axes = vec![uniform_axis(4, 0.0, 2.0), uniform_axis(3, 0.0, 1.0)];
    let y: Vec<f64> = (0..12).map(|i| (i as f64).sin()).collect();
    let spread = vec![
        Kernel1d::rbf(2.0, 0.8).unwrap(),
        Kernel1d::rbf(3.0, 0.6).unwrap(),
    ];
    let one = vec![
        Kernel1d::rbf(6.0, 0.8).unwrap(),
        Kernel1d::rbf(1.0, 0.6).unwrap(),
    ];
    let mut a = GridGp::new(axes.clone(), spread, 0.1, y.clone()).unwrap();
    let mut b = GridGp::new(axes, one, 0.1, y).unwrap();
    let (la, lb) = (
        a.log_marginal_likelihood().unwrap(),
        b.log_marginal_likelihood().unwrap(),
    );
    assert!((la - lb).abs() < 1e-12);
    assert_eq!(a.signal_variance(), 6.0);
}

// --------------------------------------------------------------- fitting

/// A sample of a GP on a grid (Kronecker-structured: `(L_0 (x) L_1) z`)
/// plus noise, with the factors' Cholesky computed in plain loops.
fn sample_gp(axes: &[Vec<f64>], kernels: &[Kernel1d], noise_sd: f64, seed: u64) -> Vec<f64> {
    let chol = |k: &Kernel1d, x: &[f64]| -> Vec<f64> {
        let n = x.len();
        let mut l = vec![0.0; n * n];
        for j in 0..n {
            let d = k.value(x[j], x[j]) + 1e-9
                - (0..j).map(|p| l[j * n + p] * l[j * n + p]).sum::<f64>();
            l[j * n + j] = d.sqrt();
            for i in j + 1..n {
                let s: f64 = (0..j).map(|p| l[i * n + p] * l[j * n + p]).sum();
                l[i * n + j] = (k.value(x[i], x[j]) - s) / l[j * n + j];
            }
        }
        l
    };
    let (n0, n1) = (axes[0].len(), axes[1].len());
    let l0 = chol(&kernels[0], &axes[0]);
    let l1 = chol(&kernels[1], &axes[1]);
    let mut rng = Rng(seed);
    let mut normal = move || {
        let u1 = (rng.uniform() + 1.0) / 2.0 + 1e-300;
        let u2 = (rng.uniform() + 1.0) / 2.0;
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    };
    let z: Vec<f64> = (0..n0 * n1).map(|_| normal()).collect();
    // F = L0 Z L1^T for row-major Z (n0 x n1)
    let mut f = vec![0.0; n0 * n1];
    for i in 0..n0 {
        for j in 0..n1 {
            let mut s = 0.0;
            for p in 0..=i {
                for q in 0..=j {
                    s += l0[i * n0 + p] * z[p * n1 + q] * l1[j * n1 + q];
                }
            }
            f[i * n1 + j] = s;
        }
    }
    f.iter().map(|v| v + noise_sd * normal()).collect()
}

#[test]
fn fitting_a_known_gp_increases_the_lml_and_finds_its_hyperparameters() {
    let axes = vec![uniform_axis(40, 0.0, 10.0), uniform_axis(36, 0.0, 8.0)];
    let truth = [
        Kernel1d::matern52(1.0, 1.5).unwrap(),
        Kernel1d::rbf(1.0, 0.8).unwrap(),
    ];
    let (signal, noise) = (2.0, 0.04f64);
    let scaled = [
        truth[0].with_param(HyperParam::Variance, signal).unwrap(),
        truth[1],
    ];
    let y = sample_gp(&axes, &scaled, noise.sqrt(), 3);
    let start = vec![
        Kernel1d::matern52(1.0, 0.5).unwrap(),
        Kernel1d::rbf(1.0, 2.5).unwrap(),
    ];
    let mut gp = GridGp::new(axes, start, 0.5, y).unwrap();
    let report = gp.fit(&LbfgsOptions::default()).unwrap();
    assert!(
        report.optimizer.converged(),
        "{:?}",
        report.optimizer.status
    );
    assert!(report.lml > report.initial_lml + 100.0);
    assert!((report.lml - gp.log_marginal_likelihood().unwrap()).abs() < 1e-8 * report.lml.abs());
    // at the optimum the gradient vanishes
    let mut grad = vec![0.0; 4];
    gp.lml_gradient(&mut grad).unwrap();
    let n = gp.num_points() as f64;
    assert!(grad.iter().all(|g| g.abs() / n < 1e-4), "{grad:?}");
    // near the generating values (one sample of 1440 points)
    let l0 = gp.kernels()[0].lengthscale();
    let l1 = gp.kernels()[1].lengthscale();
    assert!((l0 / 1.5 - 1.0).abs() < 0.25, "lengthscale[0] = {l0}");
    assert!((l1 / 0.8 - 1.0).abs() < 0.25, "lengthscale[1] = {l1}");
    assert!(
        (gp.noise_variance() / noise - 1.0).abs() < 0.15,
        "noise = {}",
        gp.noise_variance()
    );
    assert!(gp.signal_variance() > signal / 4.0 && gp.signal_variance() < signal * 4.0);
}

#[test]
fn fitting_the_seed_function_recovers_the_noise_level() {
    let x = uniform_axis(15, 0.0, 4.0);
    let mut rng = Rng(7);
    let mut y = Vec::new();
    for &a in &x {
        for &b in &x {
            let u1 = (rng.uniform() + 1.0) / 2.0 + 1e-300;
            let u2 = (rng.uniform() + 1.0) / 2.0;
            let e = (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos();
            y.push(a.sin() * (1.5 * b).cos() + 0.15 * e);
        }
    }
    let rbf = Kernel1d::rbf(1.0, 1.0).unwrap();
    let mut gp = GridGp::new(vec![x.clone(), x], vec![rbf, rbf], 0.0225, y).unwrap();
    let report = gp.fit(&LbfgsOptions::default()).unwrap();
    assert!(report.optimizer.converged());
    assert!(report.lml > report.initial_lml);
    let sd = gp.noise_variance().sqrt();
    assert!((sd - 0.15).abs() < 0.03, "noise sd {sd}");
    for k in gp.kernels() {
        assert!(k.lengthscale() > 0.5 && k.lengthscale() < 3.0);
    }
}

// ----------------------------------------------------------- error paths

fn rbf() -> Kernel1d {
    Kernel1d::rbf(1.0, 1.0).unwrap()
}

#[test]
fn construction_errors() {
    let axes = || vec![vec![0.0, 1.0, 2.0], vec![0.0, 1.0]];
    let y = || vec![0.0; 6];
    let k2 = || vec![rbf(), rbf()];
    assert!(GridGp::new(axes(), k2(), 0.1, y()).is_ok());
    assert!(matches!(
        GridGp::new(axes(), k2(), 0.1, vec![0.0; 5]),
        Err(Error::DimensionMismatch {
            expected: 6,
            got: 5,
            ..
        })
    ));
    assert!(matches!(
        GridGp::new(axes(), vec![rbf()], 0.1, y()),
        Err(Error::DimensionMismatch {
            expected: 2,
            got: 1,
            ..
        })
    ));
    assert!(matches!(
        GridGp::new(vec![], vec![], 0.1, vec![0.0]),
        Err(Error::InvalidParameter { name: "axes", .. })
    ));
    assert!(matches!(
        GridGp::new(vec![vec![0.0]; 9], vec![rbf(); 9], 0.1, vec![0.0]),
        Err(Error::InvalidParameter { name: "axes", .. })
    ));
    assert!(matches!(
        GridGp::new(vec![vec![0.0, 1.0], vec![]], k2(), 0.1, vec![]),
        Err(Error::InvalidParameter { name: "axes", .. })
    ));
    for bad in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            GridGp::new(axes(), k2(), bad, y()),
            Err(Error::InvalidParameter {
                name: "noise_variance",
                ..
            })
        ));
    }
    let mut y_bad = y();
    y_bad[4] = f64::NAN;
    assert!(matches!(
        GridGp::new(axes(), k2(), 0.1, y_bad),
        Err(Error::NonFinite {
            argument: "y",
            row: 4,
            ..
        })
    ));
    let mut axes_bad = axes();
    axes_bad[1][1] = f64::INFINITY;
    assert!(matches!(
        GridGp::new(axes_bad, k2(), 0.1, y()),
        Err(Error::NonFinite {
            argument: "axes",
            row: 1,
            col: 1
        })
    ));
    // variances whose product overflows
    let huge = Kernel1d::rbf(1e200, 1.0).unwrap();
    assert!(matches!(
        GridGp::new(axes(), vec![huge, huge], 0.1, y()),
        Err(Error::InvalidParameter {
            name: "signal_variance",
            ..
        })
    ));
    // a grid whose size overflows usize
    let big = vec![vec![0.0; 1 << 20]; 4];
    assert!(matches!(
        GridGp::new(big, vec![rbf(); 4], 0.1, vec![]),
        Err(Error::SizeOverflow)
    ));
}

#[test]
fn setter_and_evaluation_errors_leave_the_gp_unchanged() {
    let mut gp = small_2d();
    let theta = gp.log_params();
    let lml = gp.log_marginal_likelihood().unwrap();
    assert!(matches!(
        gp.set_log_params(&theta[..3]),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut overflow = theta.clone();
    overflow[3] = 1000.0; // exp overflows
    assert!(matches!(
        gp.set_log_params(&overflow),
        Err(Error::InvalidParameter { .. })
    ));
    let mut underflow = theta.clone();
    underflow[1] = -1000.0; // exp underflows to 0
    assert!(matches!(
        gp.set_log_params(&underflow),
        Err(Error::InvalidParameter {
            name: "noise_variance",
            ..
        })
    ));
    assert_eq!(gp.log_params(), theta);
    assert!(gp.set_noise_variance(0.0).is_err());
    assert!(gp.set_signal_variance(f64::NAN).is_err());
    assert!(gp.set_observations(vec![0.0; 19]).is_err());
    assert!(matches!(
        gp.set_observations(vec![f64::INFINITY; 20]),
        Err(Error::NonFinite { argument: "y", .. })
    ));
    assert!(matches!(
        gp.set_kernel(2, rbf()),
        Err(Error::DimensionMismatch { .. })
    ));
    assert_eq!(gp.log_marginal_likelihood().unwrap(), lml);
    assert!(matches!(
        gp.lml_gradient(&mut [0.0; 3]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        gp.predict(&[vec![0.0]]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        gp.predict(&[vec![0.0], vec![]]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        gp.predict(&[vec![0.0], vec![f64::NAN]]),
        Err(Error::NonFinite {
            argument: "new",
            ..
        })
    ));
    // setters that succeed take effect
    gp.set_kernel(1, Kernel1d::matern12(2.0, 0.5).unwrap())
        .unwrap();
    assert!((gp.signal_variance() - 1.3 * 0.8 * 2.0).abs() < 1e-15);
    assert_eq!(gp.kernels()[1].variance(), 1.0);
    assert!(gp.log_marginal_likelihood().unwrap() != lml);
}

#[test]
fn fit_with_invalid_options_is_refused() {
    let mut gp = small_2d();
    let options = LbfgsOptions {
        memory: 0,
        ..LbfgsOptions::default()
    };
    assert!(matches!(
        gp.fit(&options),
        Err(Error::InvalidParameter { name: "memory", .. })
    ));
}

#[test]
fn fit_reports_the_iteration_cap() {
    let mut gp = small_3d();
    let options = LbfgsOptions {
        max_iterations: 2,
        ..LbfgsOptions::default()
    };
    let report = gp.fit(&options).unwrap();
    assert_eq!(report.optimizer.status, LbfgsStatus::IterationCap);
    assert_eq!(report.optimizer.iterations, 2);
    assert!(report.lml > report.initial_lml);
    assert_eq!(gp.log_params(), report.optimizer.x);
}

// ----------------------------------------------------------------- L-BFGS

fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
    let mut f = 0.0;
    g.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..x.len() - 1 {
        let a = x[i + 1] - x[i] * x[i];
        let b = 1.0 - x[i];
        f += 100.0 * a * a + b * b;
        g[i] += -400.0 * x[i] * a - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
    f
}

#[test]
fn lbfgs_minimizes_rosenbrock() {
    let options = LbfgsOptions {
        gradient_tolerance: 1e-9,
        value_tolerance: 0.0,
        ..LbfgsOptions::default()
    };
    let report = minimize(rosenbrock, &[-1.2, 1.0], &options).unwrap();
    assert_eq!(report.status, LbfgsStatus::GradientConverged);
    assert!(
        report.x.iter().all(|v| (v - 1.0).abs() < 1e-7),
        "{:?}",
        report.x
    );
    assert!(report.iterations < 100);
    // extended Rosenbrock in 10 dimensions
    let x0: Vec<f64> = (0..10)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    let report = minimize(rosenbrock, &x0, &options).unwrap();
    assert!(report.converged());
    assert!(
        report.x.iter().all(|v| (v - 1.0).abs() < 1e-6),
        "{:?}",
        report.x
    );
}

#[test]
fn lbfgs_minimizes_an_ill_conditioned_quadratic() {
    // eigenvalues from 1 to 1e3; a textbook L-BFGS needs about 200 iterations
    let n = 20;
    let scale: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(3.0 * i as f64 / (n - 1) as f64))
        .collect();
    let center: Vec<f64> = (0..n).map(|i| (i as f64).cos()).collect();
    let f = |x: &[f64], g: &mut [f64]| {
        let mut v = 0.0;
        for i in 0..x.len() {
            let d = x[i] - center[i];
            g[i] = scale[i] * d;
            v += 0.5 * scale[i] * d * d;
        }
        v
    };
    let options = LbfgsOptions {
        gradient_tolerance: 1e-6,
        value_tolerance: 0.0,
        max_iterations: 1000,
        ..LbfgsOptions::default()
    };
    let report = minimize(f, &vec![0.0; n], &options).unwrap();
    assert_eq!(report.status, LbfgsStatus::GradientConverged);
    assert!(report.gradient.iter().all(|g| g.abs() <= 1e-6));
    assert!(max_diff(&report.x, &center) <= 1e-6);
    assert!(report.evaluations < 2 * report.iterations + 10);
    // a well-conditioned one takes a handful of steps
    let report = minimize(
        |x, g| {
            g[0] = 2.0 * (x[0] - 3.0);
            g[1] = 4.0 * (x[1] + 1.0);
            (x[0] - 3.0).powi(2) + 2.0 * (x[1] + 1.0).powi(2)
        },
        &[0.0, 0.0],
        &LbfgsOptions::default(),
    )
    .unwrap();
    assert!(report.converged());
    assert!(report.iterations <= 12);
    assert!((report.x[0] - 3.0).abs() < 1e-6 && (report.x[1] + 1.0).abs() < 1e-6);
}

#[test]
fn lbfgs_reports_its_caps() {
    let options = LbfgsOptions {
        max_iterations: 3,
        ..LbfgsOptions::default()
    };
    let report = minimize(rosenbrock, &[-1.2, 1.0], &options).unwrap();
    assert_eq!(report.status, LbfgsStatus::IterationCap);
    assert_eq!(report.iterations, 3);
    assert!(!report.converged());
    assert!(report.value < 24.2); // f(x0) = 24.2: it still made progress
    assert!(matches!(
        report.clone().into_converged(),
        Err(Error::NoConvergence { iterations: 3 })
    ));
    let options = LbfgsOptions {
        max_evaluations: 5,
        ..LbfgsOptions::default()
    };
    let report = minimize(rosenbrock, &[-1.2, 1.0], &options).unwrap();
    assert_eq!(report.status, LbfgsStatus::EvaluationCap);
    assert!(report.evaluations <= 5);
}

#[test]
fn lbfgs_backtracks_from_non_finite_values() {
    // f = -ln(3 - x) - 0.5 x: minimum at x = 1, infinite at 3, NaN beyond;
    // the steps from x = -30 lengthen until one lands beyond the wall
    let mut non_finite = 0;
    let f = |x: &[f64], g: &mut [f64]| {
        let v = -(3.0 - x[0]).ln() - 0.5 * x[0];
        g[0] = 1.0 / (3.0 - x[0]) - 0.5;
        if !v.is_finite() {
            non_finite += 1;
        }
        v
    };
    let report = minimize(f, &[-30.0], &LbfgsOptions::default()).unwrap();
    assert!(report.converged(), "{:?}", report.status);
    assert!((report.x[0] - 1.0).abs() < 1e-5, "{:?}", report.x);
    assert!(non_finite > 0, "the test never met a non-finite value");
}

#[test]
fn lbfgs_stops_when_no_step_is_finite() {
    let mut calls = 0;
    let f = |x: &[f64], g: &mut [f64]| {
        calls += 1;
        g[0] = 1.0;
        if x[0] == 0.0 { 0.0 } else { f64::NAN }
    };
    let report = minimize(f, &[0.0], &LbfgsOptions::default()).unwrap();
    assert_eq!(report.status, LbfgsStatus::LineSearchFailed);
    assert_eq!(report.x, vec![0.0]);
    assert!(calls <= 1 + LbfgsOptions::default().max_line_search_evaluations);
}

#[test]
fn lbfgs_input_errors() {
    let quad = |x: &[f64], g: &mut [f64]| {
        g[0] = 2.0 * x[0];
        x[0] * x[0]
    };
    assert!(matches!(
        minimize(quad, &[f64::NAN], &LbfgsOptions::default()),
        Err(Error::NonFinite { argument: "x0", .. })
    ));
    let nan_start = |_: &[f64], g: &mut [f64]| {
        g[0] = 0.0;
        f64::NAN
    };
    assert!(matches!(
        minimize(nan_start, &[1.0], &LbfgsOptions::default()),
        Err(Error::InvalidParameter { name: "x0", .. })
    ));
    for bad in [
        LbfgsOptions {
            memory: 0,
            ..LbfgsOptions::default()
        },
        LbfgsOptions {
            max_evaluations: 0,
            ..LbfgsOptions::default()
        },
        LbfgsOptions {
            max_line_search_evaluations: 0,
            ..LbfgsOptions::default()
        },
        LbfgsOptions {
            gradient_tolerance: -1.0,
            ..LbfgsOptions::default()
        },
        LbfgsOptions {
            value_tolerance: f64::NAN,
            ..LbfgsOptions::default()
        },
        LbfgsOptions {
            sufficient_decrease: 0.95,
            ..LbfgsOptions::default()
        },
        LbfgsOptions {
            curvature: 1.0,
            ..LbfgsOptions::default()
        },
    ] {
        assert!(matches!(
            minimize(quad, &[1.0], &bad),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

// ------------------------------------------------------ the targets parser

#[test]
fn parses_numbers_separated_by_commas_spaces_and_newlines() {
    let text = "# my observations\n1, 2.5,-3\n\n  4e-2 5\n6,\t7.0\r\n-0.5\n";
    assert_eq!(
        parse_grid_values(text).unwrap(),
        vec![1.0, 2.5, -3.0, 0.04, 5.0, 6.0, 7.0, -0.5]
    );
}

#[test]
fn parse_errors_name_the_line_and_the_problem() {
    let err = parse_grid_values("1,2\n3,,4\n").unwrap_err();
    assert_eq!((err.line, &err.problem), (2, &ParseProblem::EmptyField));
    let err = parse_grid_values("1,2,\n").unwrap_err();
    assert_eq!(err.problem, ParseProblem::EmptyField);
    let err = parse_grid_values("1\n2\n# x\n0.5, abc\n").unwrap_err();
    assert_eq!(err.line, 4);
    assert_eq!(err.problem, ParseProblem::NotANumber("abc".into()));
    assert_eq!(err.to_string(), "line 4: `abc` is not a number");
    let err = parse_grid_values("1\nNaN\n").unwrap_err();
    assert_eq!(
        (err.line, &err.problem),
        (2, &ParseProblem::NonFinite("NaN".into()))
    );
    let err = parse_grid_values("inf").unwrap_err();
    assert_eq!(err.problem, ParseProblem::NonFinite("inf".into()));
    let err = parse_grid_values("\n# only a comment\n").unwrap_err();
    assert_eq!(err.problem, ParseProblem::NoValues);
    assert!(parse_grid_values("x,y\n1,2").unwrap_err().line == 1);
}

#[test]
fn parsed_file_feeds_a_grid_gp() {
    let dir = std::env::temp_dir().join(format!("gramkit-grid-gp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("targets.csv");
    let values: Vec<String> = (0..12)
        .map(|i| format!("{:.3}", (i as f64).sin()))
        .collect();
    std::fs::write(
        &path,
        values
            .chunks(4)
            .map(|c| c.join(","))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let y = parse_grid_values(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(y.len(), 12);
    let axes = vec![uniform_axis(3, 0.0, 1.0), uniform_axis(4, 0.0, 1.0)];
    let mut gp = GridGp::new(axes, vec![rbf(), rbf()], 0.1, y).unwrap();
    assert!(gp.log_marginal_likelihood().unwrap().is_finite());
}
