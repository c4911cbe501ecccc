//! One-dimensional kernels of the host layer: closed forms, symmetry and
//! positive semi-definiteness of Gram matrices, derivatives against central
//! finite differences, and every error path.

use gramkit::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::host::{HyperParam, Kernel1d, KernelKind, Matrix};
use gramkit::{Error, MatMut};
use std::f64::consts::PI;

/// One kernel of each family with non-trivial hyperparameters.
fn all_kernels() -> Vec<Kernel1d> {
    vec![
        Kernel1d::rbf(1.7, 0.6).unwrap(),
        Kernel1d::matern12(0.8, 1.3).unwrap(),
        Kernel1d::matern32(2.2, 0.45).unwrap(),
        Kernel1d::matern52(0.5, 0.9).unwrap(),
        Kernel1d::periodic(1.4, 0.7, 1.9).unwrap(),
    ]
}

/// Points with a repeat (r = 0 off the diagonal) and irregular spacing.
fn points() -> Vec<f64> {
    vec![-1.3, 0.0, 0.2, 0.2, 0.75, 1.9, 3.4, 3.45]
}

/// A closed form `k(r)` to compare a kernel with.
type ClosedForm = Box<dyn Fn(f64) -> f64>;

#[test]
fn values_match_closed_forms() {
    let (s2, l, p) = (1.7, 0.6, 1.9);
    let cases: Vec<(Kernel1d, ClosedForm)> = vec![
        (
            Kernel1d::rbf(s2, l).unwrap(),
            Box::new(move |r: f64| s2 * (-r * r / (2.0 * l * l)).exp()),
        ),
        (
            Kernel1d::matern12(s2, l).unwrap(),
            Box::new(move |r: f64| s2 * (-r / l).exp()),
        ),
        (
            Kernel1d::matern32(s2, l).unwrap(),
            Box::new(move |r: f64| {
                let u = 3f64.sqrt() * r / l;
                s2 * (1.0 + u) * (-u).exp()
            }),
        ),
        (
            Kernel1d::matern52(s2, l).unwrap(),
            Box::new(move |r: f64| {
                let u = 5f64.sqrt() * r / l;
                s2 * (1.0 + u + u * u / 3.0) * (-u).exp()
            }),
        ),
        (
            Kernel1d::periodic(s2, l, p).unwrap(),
            Box::new(move |r: f64| s2 * (-2.0 * (PI * r / p).sin().powi(2) / (l * l)).exp()),
        ),
    ];
    for (k, f) in &cases {
        for &(a, b) in &[(0.0f64, 0.0f64), (0.3, 1.0), (2.0, -1.5), (5.0, 0.1)] {
            let expected = f((a - b).abs());
            assert!(
                (k.value(a, b) - expected).abs() <= 1e-13 * expected.abs().max(1e-300),
                "{:?} at ({a}, {b})",
                k.kind()
            );
            assert_eq!(k.value(a, b), k.value(b, a));
        }
        assert_eq!(k.value(1.0, 1.0), s2);
    }
    // landmarks that do not repeat the formulas
    let m12 = Kernel1d::matern12(2.0, 0.5).unwrap();
    assert!((m12.value(0.0, 0.5) - 2.0 / std::f64::consts::E).abs() < 1e-15);
    let per = Kernel1d::periodic(3.0, 0.8, 1.25).unwrap();
    assert!((per.value(0.0, 1.25) - 3.0).abs() < 1e-14); // one full period
    assert!((per.value(0.0, 2.5) - 3.0).abs() < 1e-14);
    assert!((per.value(0.0, 0.625) - 3.0 * (-2.0 / 0.64f64).exp()).abs() < 1e-15);
    let rbf = Kernel1d::rbf(1.0, 2.0).unwrap();
    assert!((rbf.value(0.0, 2.0) - (-0.5f64).exp()).abs() < 1e-16);
}

#[test]
fn accessors_and_params() {
    let k = Kernel1d::periodic(1.4, 0.7, 1.9).unwrap();
    assert_eq!(k.kind(), KernelKind::Periodic);
    assert_eq!(k.params(), &[1.4, 0.7, 1.9]);
    assert_eq!(k.period(), Some(1.9));
    assert_eq!(k.param(HyperParam::Lengthscale).unwrap(), 0.7);
    let r = Kernel1d::matern32(2.0, 0.3).unwrap();
    assert_eq!(r.params(), &[2.0, 0.3]);
    assert_eq!(r.period(), None);
    assert_eq!(r.variance(), 2.0);
    assert_eq!(r.lengthscale(), 0.3);
    let r2 = r.with_param(HyperParam::Lengthscale, 0.9).unwrap();
    assert_eq!(r2.lengthscale(), 0.9);
    assert_eq!(r.lengthscale(), 0.3);
    assert_eq!(
        KernelKind::Matern52.hyperparams(),
        &[HyperParam::Variance, HyperParam::Lengthscale]
    );
    assert_eq!(KernelKind::Periodic.hyperparams().len(), 3);
    let new = Kernel1d::new(KernelKind::Matern12, 1.0, 2.0).unwrap();
    assert_eq!(new, Kernel1d::matern12(1.0, 2.0).unwrap());
}

/// Smallest eigenvalue of a symmetric matrix.
fn smallest_eigenvalue(m: &Matrix<f64>) -> f64 {
    let n = m.nrows();
    let mut values = vec![0.0; n];
    let mut ws = vec![0.0; symmetric_eigen_workspace_len(n, false)];
    symmetric_eigen(m.view(), &mut values, None, &mut ws).unwrap();
    values[0]
}

#[test]
fn gram_is_symmetric_psd_with_variance_on_the_diagonal() {
    // many points, closely spaced: nearly singular, still PSD to rounding
    let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
    for k in all_kernels() {
        let g = k.gram(&x).unwrap();
        let n = x.len();
        let mut frobenius2 = 0.0f64;
        for i in 0..n {
            assert_eq!(g.get(i, i), Some(k.variance()));
            for j in 0..n {
                let v = g.get(i, j).unwrap();
                assert_eq!(v, g.get(j, i).unwrap());
                assert_eq!(v, k.value(x[i], x[j]));
                frobenius2 += v * v;
            }
        }
        let lambda = smallest_eigenvalue(&g);
        let bound = -(n as f64) * f64::EPSILON * frobenius2.sqrt();
        assert!(
            lambda >= bound,
            "{:?}: smallest eigenvalue {lambda}",
            k.kind()
        );
    }
}

#[test]
fn cross_covariance_entries_and_gram_agreement() {
    let x = points();
    let new = [-2.0, 0.2, 1.0, 10.0];
    for k in all_kernels() {
        let c = k.cross(&new, &x).unwrap();
        assert_eq!((c.nrows(), c.ncols()), (new.len(), x.len()));
        for (i, &a) in new.iter().enumerate() {
            for (j, &b) in x.iter().enumerate() {
                assert_eq!(c.get(i, j), Some(k.value(a, b)));
            }
        }
        assert_eq!(k.cross(&x, &x).unwrap(), k.gram(&x).unwrap());
        // into a caller's (column-major) view
        let mut buf = vec![0.0; new.len() * x.len()];
        k.cross_into(
            &new,
            &x,
            MatMut::from_col_major(&mut buf, new.len(), x.len()).unwrap(),
        )
        .unwrap();
        // column-major: entry (2, 1) at 1 * rows + 2
        assert_eq!(buf[new.len() + 2], k.value(new[2], x[1]));
    }
}

/// `dk/d log theta` by central differences in `log theta`.
fn finite_difference(k: &Kernel1d, p: HyperParam, a: f64, b: f64) -> f64 {
    let h = 1e-5f64;
    let theta = k.param(p).unwrap();
    let up = k.with_param(p, theta * h.exp()).unwrap().value(a, b);
    let down = k.with_param(p, theta * (-h).exp()).unwrap().value(a, b);
    (up - down) / (2.0 * h)
}

#[test]
fn derivatives_match_central_differences_including_r_zero() {
    let x = points();
    for k in all_kernels() {
        for &p in k.kind().hyperparams() {
            let d = k.derivative(p, &x).unwrap();
            for (i, &a) in x.iter().enumerate() {
                for (j, &b) in x.iter().enumerate() {
                    let analytic = d.get(i, j).unwrap();
                    assert_eq!(analytic, k.log_derivative(p, a, b).unwrap());
                    assert_eq!(analytic, d.get(j, i).unwrap());
                    let fd = finite_difference(&k, p, a, b);
                    let tol = 1e-7 * k.variance() * fd.abs().max(1.0);
                    assert!(
                        (analytic - fd).abs() <= tol,
                        "{:?} d/dlog {:?} at r = {}: analytic {analytic}, fd {fd}",
                        k.kind(),
                        p,
                        (a - b).abs()
                    );
                }
            }
        }
    }
}

#[test]
fn derivatives_at_r_zero_are_exact() {
    for k in all_kernels() {
        assert_eq!(
            k.log_derivative(HyperParam::Variance, 0.4, 0.4).unwrap(),
            k.variance()
        );
        assert_eq!(
            k.log_derivative(HyperParam::Lengthscale, 0.4, 0.4).unwrap(),
            0.0
        );
    }
    let per = Kernel1d::periodic(1.0, 1.0, 2.0).unwrap();
    assert_eq!(
        per.log_derivative(HyperParam::Period, 3.0, 3.0).unwrap(),
        0.0
    );
    // tiny r: the Matern derivatives go to zero continuously (no 0/0)
    for k in all_kernels() {
        let d = k
            .log_derivative(HyperParam::Lengthscale, 0.0, 1e-12)
            .unwrap();
        assert!(d.is_finite() && d.abs() < 1e-10, "{:?}: {d}", k.kind());
    }
}

#[test]
fn variance_derivative_is_the_kernel() {
    let x = points();
    for k in all_kernels() {
        assert_eq!(
            k.derivative(HyperParam::Variance, &x).unwrap(),
            k.gram(&x).unwrap()
        );
    }
}

#[test]
fn invalid_hyperparameters_are_refused() {
    let bad = [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for &v in &bad {
        for kind in [
            KernelKind::Rbf,
            KernelKind::Matern12,
            KernelKind::Matern32,
            KernelKind::Matern52,
            KernelKind::Periodic,
        ] {
            assert!(matches!(
                Kernel1d::new(kind, v, 1.0),
                Err(Error::InvalidParameter {
                    name: "variance",
                    ..
                })
            ));
            assert!(matches!(
                Kernel1d::new(kind, 1.0, v),
                Err(Error::InvalidParameter {
                    name: "lengthscale",
                    ..
                })
            ));
        }
        assert!(matches!(
            Kernel1d::periodic(1.0, 1.0, v),
            Err(Error::InvalidParameter { name: "period", .. })
        ));
        let k = Kernel1d::rbf(1.0, 1.0).unwrap();
        assert!(k.with_param(HyperParam::Lengthscale, v).is_err());
    }
}

#[test]
fn period_of_a_non_periodic_kernel_is_refused() {
    let k = Kernel1d::matern52(1.0, 1.0).unwrap();
    let period_error =
        |r: Result<_, Error>| matches!(r, Err(Error::InvalidParameter { name: "period", .. }));
    assert!(period_error(k.param(HyperParam::Period).map(|_| ())));
    assert!(period_error(
        k.with_param(HyperParam::Period, 2.0).map(|_| ())
    ));
    assert!(period_error(
        k.derivative(HyperParam::Period, &[0.0, 1.0]).map(|_| ())
    ));
    assert!(period_error(
        k.log_derivative(HyperParam::Period, 0.0, 1.0).map(|_| ())
    ));
}

#[test]
fn non_finite_points_and_wrong_shapes_are_refused() {
    let k = Kernel1d::rbf(1.0, 1.0).unwrap();
    assert!(matches!(
        k.gram(&[0.0, f64::NAN]),
        Err(Error::NonFinite {
            argument: "x",
            row: 1,
            ..
        })
    ));
    assert!(matches!(
        k.cross(&[f64::INFINITY], &[0.0]),
        Err(Error::NonFinite {
            argument: "new",
            ..
        })
    ));
    assert!(matches!(
        k.cross(&[0.0], &[0.0, f64::NAN]),
        Err(Error::NonFinite { argument: "x", .. })
    ));
    assert!(matches!(
        k.derivative(HyperParam::Lengthscale, &[f64::NAN]),
        Err(Error::NonFinite { argument: "x", .. })
    ));
    let mut buf = vec![0.0; 6];
    let out = MatMut::from_row_major(&mut buf, 2, 3).unwrap();
    assert!(matches!(
        k.gram_into(&[0.0, 1.0], out),
        Err(Error::DimensionMismatch { .. })
    ));
    let out = MatMut::from_row_major(&mut buf, 3, 2).unwrap();
    assert!(matches!(
        k.derivative_into(HyperParam::Variance, &[0.0, 1.0], out),
        Err(Error::DimensionMismatch { .. })
    ));
    // empty point sets are fine
    assert_eq!(k.gram(&[]).unwrap().nrows(), 0);
}
