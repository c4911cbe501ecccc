//! Cholesky factor, solves, log-determinant, inverse, reconstruction: properties
//! against plain-loop references, every error path, exact restore on failure.
mod common;

use common::{Dense, Rng, order_and_seed, random_spd, rbf_grid};
use gramkit::cholesky::{
    Cholesky, CholeskyRef, FixedCholesky, cholesky_in_place, cholesky_in_place_workspace_len,
    cholesky_into, cholesky_into_workspace_len,
};
use gramkit::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::op::{LinearOperator, LogDet, Solve};
use gramkit::{Error, MatMut, MatRef, Real};
use proptest::prelude::*;

/// Factors a copy of `a` in place and returns the full storage after the call.
fn factor_copy<T: Real>(a: &Dense<T>) -> Result<Dense<T>, Error> {
    let mut l = a.clone();
    let mut ws = vec![T::zero(); cholesky_in_place_workspace_len(a.n)];
    cholesky_in_place(l.view_mut(), &mut ws)?;
    Ok(l)
}

/// `|L L^T - A|_max <= c n eps |A|_max`.
fn check_reconstruction<T: Real>(a: &Dense<T>) {
    let l = factor_copy(a).expect("SPD input must factor").lower();
    let llt = l.matmul(&l.transpose());
    let tol = 4.0 * (a.n as f64 + 1.0) * T::EPS.as_f64() * a.max_abs();
    assert!(
        llt.max_diff(a) <= tol,
        "n={} err={} tol={}",
        a.n,
        llt.max_diff(a),
        tol
    );
}

/// `|A x - b| <= c n eps |A| |x|` for solve, and the two triangular halves.
fn check_solves<T: Real>(a: &Dense<T>, rng: &mut Rng) {
    let n = a.n;
    let l = factor_copy(a).unwrap();
    let chol = CholeskyRef::from_factor(l.view()).unwrap();
    let b: Vec<T> = (0..n).map(|_| T::from_f64(rng.uniform())).collect();
    let mut x = b.clone();
    chol.solve_in_place(&mut x).unwrap();
    let xd = Dense::from_fn(n, 1, |i, _| x[i]);
    let ax = a.matmul(&xd);
    let resid = (0..n)
        .map(|i| (ax.at(i, 0).as_f64() - b[i].as_f64()).abs())
        .fold(0.0, f64::max);
    let xnorm = x.iter().map(|v| v.as_f64().abs()).fold(0.0, f64::max);
    let tol =
        8.0 * (n as f64 + 1.0) * T::EPS.as_f64() * a.max_abs() * xnorm.max(1.0) * n.max(1) as f64;
    assert!(resid <= tol, "solve residual {resid} > {tol}");

    // forward then backward equals the full solve
    let mut y = b.clone();
    chol.solve_lower_in_place(&mut y).unwrap();
    chol.solve_upper_in_place(&mut y).unwrap();
    assert_eq!(x, y);
    // forward: L y = b
    let mut f = b.clone();
    chol.solve_lower_in_place(&mut f).unwrap();
    let lf = l.lower().matmul(&Dense::from_fn(n, 1, |i, _| f[i]));
    for i in 0..n {
        let scale = 16.0 * (n as f64 + 1.0) * T::EPS.as_f64() * (1.0 + b[i].as_f64().abs());
        assert!((lf.at(i, 0).as_f64() - b[i].as_f64()).abs() <= scale * 10.0 * xnorm.max(1.0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn reconstruction_f64((n, seed) in order_and_seed(40)) {
        check_reconstruction(&random_spd::<f64>(n, 1.0, &mut Rng(seed)));
    }

    #[test]
    fn reconstruction_f32((n, seed) in order_and_seed(40)) {
        check_reconstruction(&random_spd::<f32>(n, n as f64, &mut Rng(seed)));
    }

    #[test]
    fn solves_f64((n, seed) in order_and_seed(40)) {
        let mut rng = Rng(seed);
        let a = random_spd::<f64>(n, 1.0, &mut rng);
        check_solves(&a, &mut rng);
    }

    #[test]
    fn solves_f32((n, seed) in order_and_seed(30)) {
        let mut rng = Rng(seed);
        let a = random_spd::<f32>(n, n as f64, &mut rng);
        check_solves(&a, &mut rng);
    }

    #[test]
    fn inverse_times_matrix_is_identity((n, seed) in order_and_seed(30)) {
        let a = random_spd::<f64>(n, 1.0, &mut Rng(seed));
        let l = factor_copy(&a).unwrap();
        let chol = CholeskyRef::from_factor(l.view()).unwrap();
        let mut inv = Dense::<f64>::zeros(n, n);
        chol.inverse_into(inv.view_mut()).unwrap();
        let prod = a.matmul(&inv);
        let cond_bound = inv.max_abs() * a.max_abs();
        prop_assert!(prod.max_diff(&Dense::identity(n)) <= 1e-13 * (n as f64 + 1.0) * cond_bound.max(1.0));
        // the in-place variant gives the same matrix
        let mut l2 = l.clone();
        let c2 = Cholesky::from_factor(l2.view_mut()).unwrap();
        c2.invert_in_place().unwrap();
        prop_assert_eq!(l2.data, inv.data);
    }

    #[test]
    fn logdet_matches_product_of_pivots((n, seed) in order_and_seed(30)) {
        // log det A = sum of logs of the LDL^T pivots of a plain f64 elimination.
        let a = random_spd::<f64>(n, 1.0, &mut Rng(seed));
        let mut m = a.clone();
        let mut reference = 0.0;
        for k in 0..n {
            let p = m.data[k * n + k];
            reference += p.ln();
            for i in k + 1..n {
                let f = m.data[i * n + k] / p;
                for j in k..n {
                    m.data[i * n + j] -= f * m.data[k * n + j];
                }
            }
        }
        let l = factor_copy(&a).unwrap();
        let ld = CholeskyRef::from_factor(l.view()).unwrap().log_det();
        prop_assert!((ld - reference).abs() <= 1e-10 * (1.0 + reference.abs()));
    }

    #[test]
    fn logdet_equals_sum_of_log_eigenvalues((n, seed) in order_and_seed(40)) {
        let a = random_spd::<f64>(n, 0.5, &mut Rng(seed));
        let mut values = vec![0.0; n];
        let mut ws = vec![0.0; symmetric_eigen_workspace_len(n, false)];
        symmetric_eigen(a.view(), &mut values, None, &mut ws).unwrap();
        let from_eigen: f64 = values.iter().map(|w| w.ln()).sum();
        let ld = CholeskyRef::from_factor(factor_copy(&a).unwrap().view()).unwrap().log_det();
        prop_assert!((ld - from_eigen).abs() <= 1e-11 * (n as f64 + 1.0) * (1.0 + from_eigen.abs()), "{ld} vs {from_eigen}");
        // and in f32, against the same f64 eigenvalues
        let a32 = Dense::<f32>::from_fn(n, n, |i, j| a.at(i, j) as f32);
        let ld32 = CholeskyRef::from_factor(factor_copy(&a32).unwrap().view()).unwrap().log_det();
        prop_assert!((f64::from(ld32) - from_eigen).abs() <= 1e-3 * (n as f64 + 1.0) * (1.0 + from_eigen.abs()));
    }

    #[test]
    fn into_and_in_place_agree((n, seed) in order_and_seed(70)) {
        let a = random_spd::<f64>(n, 1.0, &mut Rng(seed));
        let in_place = factor_copy(&a).unwrap().lower();
        let mut out = Dense::from_fn(n, n, |_, _| f64::NAN);
        let mut ws = vec![0.0; cholesky_into_workspace_len(n)];
        cholesky_into(a.view(), out.view_mut(), &mut ws).unwrap();
        prop_assert_eq!(&out.data, &in_place.data);
    }

    #[test]
    fn not_positive_definite_restores_input_exactly((n, seed, k) in (1usize..80, any::<u64>(), any::<usize>())) {
        // Make pivot k fail: A = B B^T + I with a_kk replaced by something too small.
        let mut rng = Rng(seed);
        let mut a = random_spd::<f64>(n, 1.0, &mut rng);
        let k = k % n;
        a.data[k * n + k] = -1.0;
        let before = a.data.clone();
        let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
        let err = cholesky_in_place(a.view_mut(), &mut ws).map(|_| ()).unwrap_err();
        prop_assert!(matches!(err, Error::NotPositiveDefinite { pivot } if pivot <= k), "{err:?}");
        // a full symmetric input is restored bit for bit, both triangles
        prop_assert_eq!(a.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        before.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }
}

#[test]
fn blocked_sizes_with_ragged_edges_match_reference() {
    // Orders around the unblocked/blocked switch and block boundaries.
    let mut rng = Rng(7);
    for &n in &[47usize, 48, 49, 50, 63, 97, 127, 128, 129, 130, 257, 300] {
        check_reconstruction(&random_spd::<f64>(n, 1.0, &mut rng));
        check_reconstruction(&random_spd::<f32>(n, n as f64, &mut rng));
    }
}

#[test]
fn strided_layouts_agree() {
    let n = 150;
    let a = random_spd::<f64>(n, 1.0, &mut Rng(3));
    let reference = factor_copy(&a).unwrap().lower();
    // column-major
    let mut cm = a.transpose().data; // symmetric, so the same numbers
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
    cholesky_in_place(MatMut::from_col_major(&mut cm, n, n).unwrap(), &mut ws).unwrap();
    let cm_view = MatRef::from_col_major(&cm, n, n).unwrap();
    // a block inside a larger buffer with padding
    let ld = n + 5;
    let mut big = vec![f64::NAN; ld * (n + 3)];
    for i in 0..n {
        for j in 0..n {
            big[(i + 2) * ld + j + 1] = a.at(i, j);
        }
    }
    let view = MatMut::from_strided(&mut big, n + 3, ld, ld, 1).unwrap();
    let block = view.into_submatrix(2, 1, n, n).unwrap();
    cholesky_in_place(block, &mut ws).unwrap();
    for i in 0..n {
        for j in 0..=i {
            let r = reference.at(i, j);
            assert!((cm_view.get(i, j).unwrap() - r).abs() <= 1e-12 * (1.0 + r.abs()));
            assert!((big[(i + 2) * ld + j + 1] - r).abs() <= 1e-12 * (1.0 + r.abs()));
        }
    }
    // the padding was not touched
    assert!(big[0].is_nan() && big[ld * (n + 3) - 1].is_nan());
}

/// The substitutions read a row-major factor four rows at a time and a
/// column-major one entry by entry; both sum in the same order, so the
/// solutions have the same bits.
#[test]
fn substitutions_give_the_same_bits_for_any_factor_layout() {
    for n in [1usize, 3, 4, 7, 8, 33, 130] {
        let l = factor_copy(&random_spd::<f64>(n, 1.0, &mut Rng(n as u64))).unwrap();
        let lt = l.transpose();
        let by_rows = Cholesky::from_factor(l.view()).unwrap();
        let by_cols =
            Cholesky::from_factor(MatRef::from_col_major(&lt.data, n, n).unwrap()).unwrap();
        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for lower in [true, false] {
            let (mut x1, mut x2) = (b.clone(), b.clone());
            if lower {
                by_rows.solve_lower_in_place(&mut x1).unwrap();
                by_cols.solve_lower_in_place(&mut x2).unwrap();
            } else {
                by_rows.solve_upper_in_place(&mut x1).unwrap();
                by_cols.solve_upper_in_place(&mut x2).unwrap();
            }
            assert_eq!(bits(&x1), bits(&x2), "n = {n}, lower = {lower}");
        }
    }
}

#[test]
fn upper_triangle_receives_mirror_and_lower_holds_l() {
    let n = 60;
    let mut a = random_spd::<f64>(n, 1.0, &mut Rng(11));
    let original = a.clone();
    // garbage in the strictly upper triangle is never read
    for i in 0..n {
        for j in i + 1..n {
            a.data[i * n + j] = f64::NAN;
        }
    }
    let l = factor_copy(&a).unwrap();
    for i in 0..n {
        for j in i + 1..n {
            assert_eq!(l.at(i, j), original.at(j, i));
        }
    }
}

#[test]
fn fixed_path_matches_view_path() {
    fn check<const N: usize>(seed: u64) {
        let a = random_spd::<f64>(N, 1.0, &mut Rng(seed));
        let arr: [[f64; N]; N] = core::array::from_fn(|i| core::array::from_fn(|j| a.at(i, j)));
        let fixed = FixedCholesky::factor(&arr).unwrap();
        let l = factor_copy(&a).unwrap().lower();
        let fl = fixed.into_storage();
        for i in 0..N {
            for j in 0..N {
                assert!((fl[i][j] - l.at(i, j)).abs() <= 1e-14 * (1.0 + l.at(i, j).abs()));
            }
        }
        let chol = FixedCholesky::factor(&arr).unwrap();
        let b: [f64; N] = core::array::from_fn(|i| i as f64 - 1.5);
        let x = chol.solve(&b).unwrap();
        let mut y = b;
        CholeskyRef::from_factor(
            MatRef::from_row_major(&factor_copy(&a).unwrap().data, N, N).unwrap(),
        )
        .unwrap()
        .solve_in_place(&mut y)
        .unwrap();
        for i in 0..N {
            assert!((x[i] - y[i]).abs() <= 1e-12 * (1.0 + y[i].abs()));
        }
        let inv = chol.inverse().unwrap();
        let prod = a.matmul(&Dense::from_fn(N, N, |i, j| inv[i][j]));
        assert!(prod.max_diff(&Dense::identity(N)) < 1e-10);
    }
    check::<1>(1);
    check::<4>(2);
    check::<6>(3);
    check::<16>(4);
    check::<64>(5);
}

#[test]
fn fixed_f32_on_the_stack() {
    let a = [
        [4.0f32, 1.0, 0.5, 0.0, 0.0, 0.0],
        [1.0, 4.0, 1.0, 0.5, 0.0, 0.0],
        [0.5, 1.0, 4.0, 1.0, 0.5, 0.0],
        [0.0, 0.5, 1.0, 4.0, 1.0, 0.5],
        [0.0, 0.0, 0.5, 1.0, 4.0, 1.0],
        [0.0, 0.0, 0.0, 0.5, 1.0, 4.0],
    ];
    let chol = FixedCholesky::factor(&a).unwrap();
    let x = chol.solve(&[1.0; 6]).unwrap();
    for i in 0..6 {
        let ax: f32 = (0..6).map(|j| a[i][j] * x[j]).sum();
        assert!((ax - 1.0).abs() < 1e-5);
    }
    assert!(matches!(
        FixedCholesky::factor(&[[1.0f32, 2.0], [2.0, 1.0]]),
        Err(Error::NotPositiveDefinite { pivot: 1 })
    ));
}

#[test]
fn results_past_the_largest_finite_value_are_errors() {
    // A = diag(1e-400, 1) is representable through its factor only.
    let l = [[1e-200f64, 0.0], [0.5, 1.0]];
    let chol = Cholesky::from_factor(l).unwrap();
    let mut b = [1.0, 1.0];
    assert_eq!(
        chol.solve_in_place(&mut b),
        Err(Error::Overflow {
            what: "a solution entry"
        })
    );
    let mut b = [1.0, 1.0];
    assert!(matches!(chol.solve_lower_in_place(&mut b), Ok(())));
    assert!(matches!(
        chol.solve_upper_in_place(&mut b),
        Err(Error::Overflow { .. })
    ));
    assert_eq!(
        chol.inverse().map(|_| ()),
        Err(Error::Overflow {
            what: "an entry of the inverse"
        })
    );
    let mut out = [[0.0; 2]; 2];
    assert!(matches!(
        chol.inverse_into(MatMut::from_array(&mut out)),
        Err(Error::Overflow { .. })
    ));
    assert!(matches!(
        Cholesky::from_factor(l).unwrap().invert_in_place(),
        Err(Error::Overflow { .. })
    ));
}

#[test]
fn fixed_path_reports_non_finite_input() {
    let base = [[4.0f64, 1.0, 0.5], [1.0, 4.0, 1.0], [0.5, 1.0, 4.0]];
    for (i, j) in [(1, 0), (2, 1), (2, 0), (0, 0), (1, 1), (2, 2)] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut a = base;
            a[i][j] = bad;
            let err = FixedCholesky::factor(&a).map(|_| ()).unwrap_err();
            assert_eq!(
                err,
                Error::NonFinite {
                    argument: "A",
                    row: i,
                    col: j
                },
                "{bad} at ({i}, {j})"
            );
        }
    }
    // the strictly upper triangle is not read
    let mut a = base;
    a[0][2] = f64::NAN;
    assert!(FixedCholesky::factor(&a).is_ok());
}

#[test]
fn seed_grid_kernel_factors_in_f64() {
    // RBF (variance 1, lengthscale 1) on 15 points of [0, 4]: condition ~ 8e12.
    check_reconstruction(&rbf_grid::<f64>(15, 0.0, 4.0, 1.0, 1.0));
}

#[test]
fn matrix_solves_match_vector_solves() {
    let n = 33;
    let k = 5;
    let mut rng = Rng(5);
    let a = random_spd::<f64>(n, 1.0, &mut rng);
    let l = factor_copy(&a).unwrap();
    let chol = CholeskyRef::from_factor(l.view()).unwrap();
    let b = Dense::from_fn(n, k, |_, _| rng.uniform());
    // column-major copy of B, solved as a block
    let mut cm = b.transpose().data;
    chol.solve_matrix_in_place(MatMut::from_col_major(&mut cm, n, k).unwrap())
        .unwrap();
    let mut lower = b.transpose().data;
    chol.solve_lower_matrix_in_place(MatMut::from_col_major(&mut lower, n, k).unwrap())
        .unwrap();
    chol.solve_upper_matrix_in_place(MatMut::from_col_major(&mut lower, n, k).unwrap())
        .unwrap();
    assert_eq!(cm, lower);
    for c in 0..k {
        let mut col: Vec<f64> = (0..n).map(|i| b.at(i, c)).collect();
        chol.solve_in_place(&mut col).unwrap();
        assert_eq!(&cm[c * n..(c + 1) * n], &col[..]);
    }
    // row-major B through the Solve trait (row-update loops: another
    // summation order, so agreement to rounding, not bits)
    let mut tr = b.clone();
    let ws_len = chol.solve_block_workspace_len(k);
    chol.solve_block_in_place(tr.view_mut(), &mut vec![0.0; ws_len])
        .unwrap();
    let scale = cm.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = tr
        .transpose()
        .data
        .iter()
        .zip(&cm)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(diff <= 1e-12 * scale, "{diff}");
    // and a strided B (neither stride 1) takes the indexed loops
    let ld = 2 * k + 1;
    let mut big = vec![0.0; ld * n];
    for i in 0..n {
        for c in 0..k {
            big[i * ld + 2 * c] = b.at(i, c);
        }
    }
    chol.solve_matrix_in_place(MatMut::from_strided(&mut big, n, k, ld, 2).unwrap())
        .unwrap();
    let diff = (0..n)
        .flat_map(|i| (0..k).map(move |c| (i, c)))
        .map(|(i, c)| (big[i * ld + 2 * c] - cm[c * n + i]).abs())
        .fold(0.0, f64::max);
    assert!(diff <= 1e-12 * scale, "{diff}");
}

#[test]
fn reconstruct_and_operator_traits() {
    let n = 20;
    let mut rng = Rng(9);
    let a = random_spd::<f64>(n, 1.0, &mut rng);
    let l = factor_copy(&a).unwrap();
    let chol = CholeskyRef::from_factor(l.view()).unwrap();
    let mut rec = Dense::<f64>::zeros(n, n);
    chol.reconstruct_into(rec.view_mut()).unwrap();
    assert!(rec.max_diff(&a) < 1e-12 * a.max_abs());
    let x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let mut y = vec![0.0; n];
    chol.apply(&x, &mut y, &mut []).unwrap();
    let ax = a.matmul(&Dense::from_fn(n, 1, |i, _| x[i]));
    for i in 0..n {
        assert!((y[i] - ax.at(i, 0)).abs() < 1e-12 * a.max_abs() * n as f64);
    }
    let mut z = y.clone();
    Solve::solve_in_place(&chol, &mut z, &mut []).unwrap();
    for i in 0..n {
        assert!((z[i] - x[i]).abs() < 1e-9);
    }
    assert_eq!(LogDet::log_det(&chol).unwrap(), chol.log_det());
}

#[test]
fn empty_and_single() {
    let mut empty: [f64; 0] = [];
    let chol =
        cholesky_in_place(MatMut::from_row_major(&mut empty, 0, 0).unwrap(), &mut []).unwrap();
    assert_eq!(chol.log_det(), 0.0);
    let mut b: [f64; 0] = [];
    chol.solve_in_place(&mut b).unwrap();

    let mut one = [9.0f32];
    let mut ws = [0.0f32; 1];
    let chol = cholesky_in_place(MatMut::from_row_major(&mut one, 1, 1).unwrap(), &mut ws).unwrap();
    let mut b = [3.0f32];
    chol.solve_in_place(&mut b).unwrap();
    assert_eq!(b, [1.0 / 3.0]);
    assert_eq!(chol.into_storage().get(0, 0), Some(3.0));
}

#[test]
fn error_variants() {
    let n = 4;
    let a = random_spd::<f64>(n, 1.0, &mut Rng(1));
    // workspace too small, nothing written
    let mut m = a.clone();
    let err = cholesky_in_place(m.view_mut(), &mut [0.0; 3])
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err,
        Error::WorkspaceTooSmall {
            needed: cholesky_in_place_workspace_len(n),
            got: 3
        }
    );
    assert_eq!(m.data, a.data);
    // non-square
    let mut rect = vec![1.0; 6];
    let err = cholesky_in_place(
        MatMut::from_row_major(&mut rect, 2, 3).unwrap(),
        &mut [0.0; 8],
    )
    .map(|_| ());
    assert!(matches!(
        err,
        Err(Error::DimensionMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    // non-finite in the lower triangle: nothing written
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut m = a.clone();
        m.data[2 * n + 1] = bad;
        let before = m.data.clone();
        let err = cholesky_in_place(m.view_mut(), &mut [0.0; 8])
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err,
            Error::NonFinite {
                argument: "A",
                row: 2,
                col: 1
            }
        );
        assert_eq!(
            m.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            before.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
    // NaN on the diagonal is non-finite too
    let mut m = a.clone();
    m.data[0] = f64::NAN;
    assert!(matches!(
        cholesky_in_place(m.view_mut(), &mut [0.0; 8]),
        Err(Error::NonFinite { row: 0, col: 0, .. })
    ));
    // semi-definite: zero pivot
    let mut z = vec![1.0, 1.0, 1.0, 1.0];
    let err = cholesky_in_place(MatMut::from_row_major(&mut z, 2, 2).unwrap(), &mut [0.0; 2])
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err, Error::NotPositiveDefinite { pivot: 1 });
    assert_eq!(z, vec![1.0, 1.0, 1.0, 1.0]);
    // solve: wrong length, non-finite rhs (rhs unchanged)
    let l = factor_copy(&a).unwrap();
    let chol = CholeskyRef::from_factor(l.view()).unwrap();
    assert!(matches!(
        chol.solve_in_place(&mut [1.0; 3]),
        Err(Error::DimensionMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
    let mut b = [1.0, f64::NAN, 2.0, 3.0];
    assert!(matches!(
        chol.solve_in_place(&mut b),
        Err(Error::NonFinite { row: 1, .. })
    ));
    assert_eq!(b[0], 1.0);
    // from_factor rejects bad factors
    let bad = [[1.0, 0.0], [0.5, -1.0]];
    assert_eq!(
        Cholesky::from_factor(bad).map(|_| ()).unwrap_err(),
        Error::NotPositiveDefinite { pivot: 1 }
    );
    let bad = [[1.0, 0.0], [f64::NAN, 1.0]];
    assert!(matches!(
        Cholesky::from_factor(bad),
        Err(Error::NonFinite { row: 1, col: 0, .. })
    ));
    // inverse/reconstruct into a wrongly sized output
    let mut small = Dense::<f64>::zeros(3, 3);
    assert!(matches!(
        chol.inverse_into(small.view_mut()),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        chol.reconstruct_into(small.view_mut()),
        Err(Error::DimensionMismatch { .. })
    ));
    // cholesky_into with a wrongly sized output
    let mut out = Dense::<f64>::zeros(3, 4);
    assert!(matches!(
        cholesky_into(a.view(), out.view_mut(), &mut []),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn large_blocked_failure_restores_input() {
    // A failure deep inside the blocked path, after several trailing updates:
    // the leading 300 x 300 block is SPD, pivot 300 is not.
    let n = 400;
    let mut a = random_spd::<f64>(n, 1.0, &mut Rng(21));
    a.data[300 * n + 300] = -1.0;
    let before = a.data.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
    let err = cholesky_in_place(a.view_mut(), &mut ws)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err, Error::NotPositiveDefinite { pivot: 300 });
    assert!(
        a.data
            .iter()
            .zip(&before)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
}

#[test]
fn dense_rbf_on_400_points_fails_cleanly() {
    let mut a = rbf_grid::<f64>(400, 0.0, 4.0, 1.0, 1.0);
    let before = a.data.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(400)];
    assert!(matches!(
        cholesky_in_place(a.view_mut(), &mut ws),
        Err(Error::NotPositiveDefinite { .. })
    ));
    assert!(
        a.data
            .iter()
            .zip(&before)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
}
