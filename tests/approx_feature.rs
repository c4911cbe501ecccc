//! The `approx` feature: `AbsDiffEq` / `RelativeEq` for views and owned
//! matrices (run with `cargo test --features approx`).
#![cfg(feature = "approx")]

use approx::{assert_abs_diff_eq, assert_relative_eq, assert_relative_ne};
use gramkit::{MatRef, Matrix};

#[test]
fn views_and_matrices_compare_approximately() {
    let a = [1.0, 2.0, 3.0, 4.0];
    let b = [1.0 + 1e-12, 2.0, 3.0, 4.0 - 1e-12];
    let va = MatRef::from_row_major(&a, 2, 2).unwrap();
    let vb = MatRef::from_row_major(&b, 2, 2).unwrap();
    assert_abs_diff_eq!(va, vb, epsilon = 1e-11);
    assert_relative_eq!(va, vb, max_relative = 1e-11);
    assert_relative_ne!(va, vb, max_relative = 1e-14);
    // a different layout of the same numbers is equal; another shape is not
    let cm = [1.0, 3.0, 2.0, 4.0];
    assert_abs_diff_eq!(
        va,
        MatRef::from_col_major(&cm, 2, 2).unwrap(),
        epsilon = 0.0
    );
    assert!(!approx::abs_diff_eq!(
        va,
        MatRef::from_row_major(&a, 1, 4).unwrap(),
        epsilon = 1.0
    ));
    let ma = Matrix::from_view(va);
    let mb = Matrix::from_view(vb);
    assert_relative_eq!(ma, mb, max_relative = 1e-11);
    assert!(!approx::relative_eq!(ma, mb, max_relative = 1e-14));
}
