//! Unit tests of the internal pieces: iteration caps (not reachable through
//! the public API with finite input), and the tridiagonal path on orders
//! that the public API sends to Jacobi.

use super::jacobi::{self, JACOBI_MAX};
use super::qr::{self, Discard};
use super::*;
use crate::error::Error;

#[test]
fn tridiagonal_qr_reports_the_sweep_cap() {
    let mut d = [1.0, 2.0, 3.0];
    let mut e = [0.5, 0.5, 0.0];
    let r = qr::tridiagonal_qr(&mut d, &mut e, 0, &mut Discard);
    assert_eq!(r, Err(Error::NoConvergence { iterations: 0 }));
    let r = qr::tridiagonal_qr(&mut d, &mut e, 1, &mut Discard);
    assert_eq!(r, Err(Error::NoConvergence { iterations: 1 }));
    // the cap actually used is enough
    let r = qr::tridiagonal_qr(&mut d, &mut e, 90, &mut Discard);
    assert_eq!(r, Ok(()));
}

#[test]
fn jacobi_reports_the_sweep_cap() {
    let mut m = [[0.0f64; JACOBI_MAX]; JACOBI_MAX];
    let mut v = m;
    for i in 0..4 {
        for j in 0..4 {
            m[i][j] = 1.0 / (1.0 + (i + j) as f64);
        }
        v[i][i] = 1.0;
    }
    let r = jacobi::diagonalize(&mut m, &mut v, 4, 1);
    assert_eq!(r, Err(Error::NoConvergence { iterations: 1 }));
    assert_eq!(
        jacobi::diagonalize(&mut m, &mut v, 4, JACOBI_SWEEPS),
        Ok(())
    );
}

/// Hilbert-like test matrix `1 / (1 + i + j) + [i == j]`, row-major.
fn test_matrix<const N: usize>() -> [[f64; N]; N] {
    let mut a = [[0.0; N]; N];
    for (i, row) in a.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = 1.0 / (1.0 + (i + j) as f64) + if i == j { (i as f64) * 0.25 } else { 0.0 };
        }
    }
    a
}

/// The tridiagonal path agrees with Jacobi on every order Jacobi handles.
#[test]
fn tridiagonal_path_matches_jacobi_on_small_orders() {
    fn check<const N: usize>() {
        let a = test_matrix::<N>();
        let av = MatRef::from_array(&a);
        let mut jac = [0.0; N];
        jacobi::solve(av, 1.0, &mut jac, None, JACOBI_SWEEPS).unwrap();
        let mut tri = [0.0; N];
        let mut vectors = [[0.0; N]; N];
        let mut scratch = [[0.0; N]; FIXED_VECTOR_ROWS];
        tridiagonal_path(
            av,
            1.0,
            &mut tri,
            &mut MatMut::from_array(&mut vectors),
            true,
            scratch.as_flattened_mut(),
            30 * N,
        )
        .unwrap();
        for (x, y) in jac.iter().zip(&tri) {
            assert!(
                (x - y).abs() < 1e-14 * N as f64,
                "N={N}: {jac:?} vs {tri:?}"
            );
        }
        // A v = w v
        for (k, &w) in tri.iter().enumerate() {
            for i in 0..N {
                let av: f64 = (0..N).map(|j| a[i.max(j)][i.min(j)] * vectors[j][k]).sum();
                assert!((av - w * vectors[i][k]).abs() < 1e-13, "N={N} k={k}");
            }
        }
    }
    check::<1>();
    check::<2>();
    check::<3>();
    check::<5>();
    check::<8>();
}

#[test]
fn scale_factor_is_a_power_of_two_into_the_safe_range() {
    assert_eq!(scale_factor(1.0f64), 1.0);
    assert_eq!(scale_factor(0.0f64), 1.0);
    // a power of two: a normal number with an all-zero mantissa
    for anorm in [1e-300f64, 5e-320, 1e300, f64::MAX] {
        let s = scale_factor(anorm);
        assert!(
            s.is_normal() && s.to_bits() & ((1u64 << 52) - 1) == 0,
            "{s}"
        );
        let scaled = anorm * s;
        assert!(scaled > 1e-160 && scaled < 1e150, "{anorm} -> {scaled}");
    }
    for anorm in [1e-40f32, 1e-44, 1e30, f32::MAX] {
        let s = scale_factor(anorm);
        assert!(
            s.is_normal() && s.to_bits() & ((1u32 << 23) - 1) == 0,
            "{s}"
        );
        assert!((anorm * s).is_normal());
    }
}
