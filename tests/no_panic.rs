//! Every entry point on random shapes, workspace lengths and hostile values
//! (NaN, infinities, subnormals, huge and tiny magnitudes): a result or a
//! typed error, never a panic; `Ok` outputs are finite.
mod common;

use gramkit::cholesky::{
    Cholesky, FixedCholesky, JitterOptions, PivotedOptions, cholesky_downdate_workspace_len,
    cholesky_in_place, cholesky_into, cholesky_jitter_in_place, cholesky_update_workspace_len,
    pivoted_cholesky,
};
use gramkit::dense::matmul;
use gramkit::eigen::{FixedSymmetricEigen, symmetric_eigen};
use gramkit::op::{CgOptions, conjugate_gradient};
use gramkit::{MatMut, MatRef};
use proptest::prelude::*;

fn hostile() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -4.0f64..4.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MAX),
        1 => Just(-f64::MAX / 3.0),
        1 => Just(f64::MIN_POSITIVE / 8.0),
        1 => Just(1e-300),
        1 => Just(0.0),
    ]
}

/// A mostly square input (`rows x cols` values, often made diagonally
/// dominant so that the factorizations get deep), a workspace length and an
/// extra vector.
fn case() -> impl Strategy<Value = (usize, usize, Vec<f64>, usize, Vec<f64>)> {
    (
        0usize..40,
        prop_oneof![3 => Just(None), 1 => (0usize..40).prop_map(Some)],
        any::<bool>(),
        any::<bool>(),
        0usize..3000,
    )
        .prop_flat_map(|(r, c, dominant, clean, ws)| {
            let c = c.unwrap_or(r);
            let entry = if clean {
                (-4.0f64..4.0).boxed()
            } else {
                hostile().boxed()
            };
            let values = proptest::collection::vec(entry, r * c).prop_map(move |mut v| {
                if dominant && r == c {
                    for i in 0..r {
                        v[i * c + i] = v[i * c + i].abs() + 4.0 * r as f64;
                    }
                }
                v
            });
            (
                Just(r),
                Just(c),
                values,
                Just(ws),
                proptest::collection::vec(hostile(), 0..42),
            )
        })
}

fn finite(x: &[f64]) -> bool {
    x.iter().all(|v| v.is_finite())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn cholesky_entry_points_never_panic((r, c, data, ws_len, x) in case()) {
        let mut ws = vec![0.0; ws_len];
        let mut a = data.clone();
        if let Ok(view) = MatMut::from_row_major(&mut a, r, c)
            && let Ok(mut chol) = cholesky_in_place(view, &mut ws)
        {
            prop_assert!((0..r).all(|i| (0..=i).all(|j| chol.l().get(i, j).is_some_and(f64::is_finite))));
            let mut b = x.clone();
            if chol.solve_in_place(&mut b).is_ok() {
                prop_assert!(finite(&b) || !finite(&x));
            }
            let mut ws2 = vec![0.0; cholesky_update_workspace_len(r).max(cholesky_downdate_workspace_len(r))];
            let _ = chol.update(&x, &mut ws2);
            let _ = chol.downdate(&x, &mut ws2);
            let short = ws_len.min(ws2.len());
            let _ = chol.downdate(&x, &mut ws2[..short]);
            prop_assert!(chol.log_det().is_finite());
        }
        let src = MatRef::from_row_major(&data, r, c);
        if let Ok(src) = src {
            let mut l = vec![0.0; r * r];
            if let Ok(lv) = MatMut::from_row_major(&mut l, r, r) {
                let _ = cholesky_into(src, lv, &mut ws);
            }
            let mut a = data.clone();
            if let Ok(view) = MatMut::from_row_major(&mut a, r, c) {
                let opts = JitterOptions { initial: x.first().copied().unwrap_or(1e-12), ..JitterOptions::default() };
                let _ = cholesky_jitter_in_place(view, opts, &mut ws);
            }
            let m = x.len().min(r);
            let mut perm = vec![0usize; r];
            let mut g = vec![0.0; r * m];
            if let Ok(gv) = MatMut::from_row_major(&mut g, r, m) {
                let opts = PivotedOptions { max_rank: m, tolerance: x.last().copied().unwrap_or(0.0) };
                if let Ok(p) = pivoted_cholesky(&src, opts, &mut perm, gv, &mut ws) {
                    prop_assert!(p.rank <= m && finite(&g));
                }
            }
            let _ = Cholesky::from_factor(src);
        }
    }

    #[test]
    fn eigen_and_products_never_panic((r, c, data, ws_len, x) in case()) {
        let mut ws = vec![0.0; ws_len];
        if let Ok(a) = MatRef::from_row_major(&data, r, c) {
            // mostly the right lengths, sometimes not
            let odd = x.len() % 5 == 0;
            let mut values = vec![0.0; if odd { x.len() } else { r }];
            let mut v = vec![0.0; r * r];
            let vectors = MatMut::from_row_major(&mut v, r, r).ok();
            if symmetric_eigen(a, &mut values, vectors, &mut ws).is_ok() {
                prop_assert!(finite(&values) && finite(&v));
            }
            let _ = symmetric_eigen(a, &mut values, None, &mut ws);
            let mut out = vec![0.0; r * r];
            if let Ok(o) = MatMut::from_row_major(&mut out, r, r) {
                let _ = matmul(o, 1.0, a, a.transpose(), 0.0, &mut ws);
            }
            let b: Vec<f64> = if odd { x.clone() } else { (0..r).map(|i| x.get(i).copied().unwrap_or(1.0)).collect() };
            let mut sol = vec![0.0; b.len()];
            let _ = conjugate_gradient(&a, None, &b, &mut sol, CgOptions { max_iterations: 20, tolerance: 1e-8 }, &mut ws);
        }
    }

    #[test]
    fn fixed_paths_never_panic(data in proptest::collection::vec(hostile(), 16)) {
        let a: [[f64; 4]; 4] = core::array::from_fn(|i| core::array::from_fn(|j| data[i * 4 + j]));
        if let Ok(chol) = FixedCholesky::factor(&a) {
            prop_assert!(chol.l().get(3, 3).is_some_and(|d| d.is_finite() && d > 0.0));
            let _ = chol.solve(&[1.0, f64::NAN, 0.0, 2.0]);
            let _ = chol.inverse();
        }
        if let Ok(e) = FixedSymmetricEigen::compute(&a) {
            prop_assert!(finite(&e.values));
        }
        let _ = FixedSymmetricEigen::values(&a);
        let a9: [[f64; 9]; 9] = core::array::from_fn(|i| core::array::from_fn(|j| data[(i * 9 + j) % 16]));
        let _ = FixedSymmetricEigen::compute(&a9);
        let _ = FixedCholesky::factor(&a9);
    }
}
