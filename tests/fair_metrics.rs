//! The accuracy and fairness measures: hand-computed values on tiny
//! inputs and the properties they are for.
mod fair_support;

use fair_support::Rng;
use gramkit::Error;
use gramkit::host::metrics::{
    gdp_kde, hgr_kde, hsic_rbf, hsic_rbf_with_bandwidths, mean_absolute_error,
    median_heuristic_bandwidth, normalized_hsic_rbf, pearson, r_squared,
};

/// `tr(K H L H) / (n - 1)^2` with explicit matrices (plain loops).
fn hsic_by_matrices(x: &[f64], y: &[f64], sx: f64, sy: f64) -> f64 {
    let n = x.len();
    let kern = |v: &[f64], s: f64| -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| (-(v[i] - v[j]).powi(2) / (2.0 * s * s)).exp())
                    .collect()
            })
            .collect()
    };
    let (k, l) = (kern(x, sx), kern(y, sy));
    let h: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(i == j) - 1.0 / n as f64).collect())
        .collect();
    let mul = |a: &Vec<Vec<f64>>, b: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| (0..n).map(|m| a[i][m] * b[m][j]).sum())
                    .collect()
            })
            .collect()
    };
    let khlh = mul(&mul(&k, &h), &mul(&l, &h));
    (0..n).map(|i| khlh[i][i]).sum::<f64>() / ((n - 1) * (n - 1)) as f64
}

fn samples(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng(seed);
    let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let y: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    (x, y)
}

#[test]
fn mae_and_r2_by_hand() {
    let truth = [1.0f64, 2.0, 3.0, 4.0];
    let pred = [1.5, 2.0, 2.0, 5.0];
    assert_eq!(
        mean_absolute_error(&pred, &truth).unwrap(),
        (0.5 + 0.0 + 1.0 + 1.0) / 4.0
    );
    // SS_res = 0.25 + 0 + 1 + 1, SS_tot = 2.25 + 0.25 + 0.25 + 2.25
    assert!((r_squared(&pred, &truth).unwrap() - (1.0 - 2.25 / 5.0)).abs() < 1e-15);
    assert_eq!(r_squared(&truth, &truth).unwrap(), 1.0);
    assert_eq!(
        r_squared(&[2.5; 4], &truth).unwrap(),
        0.0,
        "the mean explains nothing"
    );
    assert!(matches!(
        r_squared(&pred, &[1.0; 4]),
        Err(Error::InvalidParameter { .. })
    ));
    assert_eq!(mean_absolute_error(&[3.0f32], &[1.0]).unwrap(), 2.0);
}

#[test]
fn pearson_of_linear_functions_is_plus_or_minus_one() {
    let x: Vec<f64> = (0..50).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
    let up: Vec<f64> = x.iter().map(|v| 3.0 * v + 7.0).collect();
    let down: Vec<f64> = x.iter().map(|v| -0.5 * v + 1.0).collect();
    assert!((pearson(&x, &up).unwrap() - 1.0).abs() < 1e-14);
    assert!((pearson(&x, &down).unwrap() + 1.0).abs() < 1e-14);
    // by hand: x = 1, 2, 3; y = 1, 3, 2 -> cov 1/2, var 1, 1 -> 0.5
    assert!((pearson(&[1.0f64, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap() - 0.5).abs() < 1e-15);
    assert_eq!(
        pearson(&x, &[4.0; 50]).unwrap(),
        0.0,
        "a constant is uncorrelated"
    );
    // a symmetric non-linear dependence has no linear correlation
    let t: Vec<f64> = (-20..=20).map(f64::from).collect();
    let sq: Vec<f64> = t.iter().map(|v| v * v).collect();
    assert!(pearson(&t, &sq).unwrap().abs() < 1e-14);
}

#[test]
fn hsic_by_hand_and_against_the_matrix_formula() {
    // two points one unit apart: (1 - e^{-1/2})^2
    let two = hsic_rbf_with_bandwidths(&[0.0, 1.0], &[0.0, 1.0], 1.0, 1.0).unwrap();
    assert!((two - (1.0 - (-0.5f64).exp()).powi(2)).abs() < 1e-15);
    let x = [0.3, -1.2, 2.0, 0.7, 0.1];
    let y = [1.0, 0.2, -0.4, 2.2, 0.9];
    let fast = hsic_rbf_with_bandwidths(&x, &y, 0.8, 1.3).unwrap();
    assert!((fast - hsic_by_matrices(&x, &y, 0.8, 1.3)).abs() < 1e-15);
    // the median heuristic: distances of 0, 1, 3 are 1, 2, 3 -> 2
    assert_eq!(median_heuristic_bandwidth(&[0.0, 1.0, 3.0]).unwrap(), 2.0);
    let sx = median_heuristic_bandwidth(&x).unwrap();
    let sy = median_heuristic_bandwidth(&y).unwrap();
    assert_eq!(
        hsic_rbf(&x, &y).unwrap(),
        hsic_rbf_with_bandwidths(&x, &y, sx, sy).unwrap()
    );
    assert!(hsic_rbf_with_bandwidths(&x, &y, 0.0, 1.0).is_err());
}

#[test]
fn hsic_separates_dependent_from_independent_samples() {
    let (x, noise) = samples(300, 1);
    let (_, other) = samples(300, 2);
    let dependent: Vec<f64> = x.iter().zip(&noise).map(|(a, e)| a * a + 0.1 * e).collect();
    let independent = hsic_rbf(&x, &other).unwrap();
    let dep = hsic_rbf(&x, &dependent).unwrap();
    assert!(independent >= 0.0);
    assert!(
        dep > 10.0 * independent,
        "dependent {dep:e}, independent {independent:e}"
    );
    let n_dep = normalized_hsic_rbf(&x, &dependent).unwrap();
    let n_ind = normalized_hsic_rbf(&x, &other).unwrap();
    assert!(n_dep > 0.3 && n_ind < 0.05, "{n_dep} {n_ind}");
    assert!((normalized_hsic_rbf(&x, &x).unwrap() - 1.0).abs() < 1e-12);
    // scale-free: scaling y does not change it
    let scaled: Vec<f64> = dependent.iter().map(|v| 1000.0 * v).collect();
    assert!((normalized_hsic_rbf(&x, &scaled).unwrap() - n_dep).abs() < 1e-12);
    assert_eq!(normalized_hsic_rbf(&x, &[1.0; 300]).unwrap(), 0.0);
    assert!(hsic_rbf(&x, &[1.0; 300]).unwrap().abs() < 1e-12);
}

#[test]
fn hgr_sees_nonlinear_dependence() {
    let (x, noise) = samples(400, 3);
    let (_, other) = samples(400, 4);
    let square: Vec<f64> = x
        .iter()
        .zip(&noise)
        .map(|(a, e)| a * a + 0.05 * e)
        .collect();
    let linear: Vec<f64> = x.iter().map(|a| 2.0 * a - 1.0).collect();
    let h_sq = hgr_kde(&x, &square).unwrap();
    let h_lin = hgr_kde(&x, &linear).unwrap();
    let h_ind = hgr_kde(&x, &other).unwrap();
    assert!(
        pearson(&x, &square).unwrap().abs() < 0.2,
        "hardly any linear correlation"
    );
    assert!(h_sq > 0.7, "HGR of y = x^2: {h_sq}");
    assert!(
        h_lin > 0.8,
        "HGR of a linear function (1, smoothed down): {h_lin}"
    );
    assert!(h_ind < 0.3, "HGR of independent samples: {h_ind}");
    assert!((0.0..=1.0).contains(&h_sq));
    assert_eq!(hgr_kde(&x, &[2.0; 400]).unwrap(), 0.0);
    // symmetric in its arguments, invariant to monotone rescaling of either
    let back = hgr_kde(&square, &x).unwrap();
    assert!((back - h_sq).abs() < 1e-9);
    let shifted: Vec<f64> = other.iter().map(|v| 5.0 * v + 3.0).collect();
    assert!((hgr_kde(&x, &shifted).unwrap() - h_ind).abs() < 1e-9);
}

#[test]
fn gdp_measures_how_local_averages_move_with_the_attribute() {
    let s: Vec<f64> = (0..200).map(|i| i as f64 / 10.0).collect();
    assert!(gdp_kde(&[3.0; 200], &s).unwrap().abs() < 1e-12);
    // predictions = attribute: local averages follow it closely, so GDP is
    // about the mean absolute deviation of s (5 for a uniform grid on [0, 20))
    let g = gdp_kde(&s, &s).unwrap();
    assert!((g - 5.0).abs() < 0.5, "{g}");
    // twice the predictions, twice the GDP
    let twice: Vec<f64> = s.iter().map(|v| 2.0 * v).collect();
    assert!((gdp_kde(&twice, &s).unwrap() - 2.0 * g).abs() < 1e-9);
    // predictions independent of the attribute: small
    let (p, _) = samples(200, 9);
    let ind = gdp_kde(&p, &s).unwrap();
    assert!(ind < 0.3, "{ind}");
    assert_eq!(gdp_kde(&p, &[1.0; 200]).unwrap(), 0.0);
}

#[test]
fn measure_errors() {
    let x = [1.0, 2.0, 3.0];
    for result in [
        mean_absolute_error(&x, &[1.0]),
        r_squared(&x, &[1.0]),
        pearson(&x, &[1.0]),
        hsic_rbf(&x, &[1.0]),
        normalized_hsic_rbf(&x, &[1.0]),
        hgr_kde(&x, &[1.0]),
        gdp_kde(&x, &[1.0]),
    ] {
        assert!(matches!(result, Err(Error::DimensionMismatch { .. })));
    }
    let nan = [1.0, f64::NAN, 3.0];
    for result in [
        mean_absolute_error(&x, &nan),
        pearson(&nan, &x),
        hsic_rbf(&x, &nan),
        hgr_kde(&x, &nan),
        gdp_kde(&nan, &x),
    ] {
        assert!(matches!(result, Err(Error::NonFinite { .. })));
    }
    for result in [
        pearson(&[1.0], &[1.0]),
        hsic_rbf(&[1.0], &[2.0]),
        hgr_kde(&[1.0], &[2.0]),
    ] {
        assert!(matches!(result, Err(Error::InvalidParameter { .. })));
    }
    assert!(mean_absolute_error::<f64>(&[], &[]).is_err());
}
