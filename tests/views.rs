//! Views: constructors, strides, sub-views, and their error paths.
mod common;

use common::{Dense, Rng};
use gramkit::dense::{matmul, matmul_workspace_len};
use gramkit::{Error, MatMut, MatRef};
use proptest::prelude::*;

#[test]
fn layouts_address_the_same_entries() {
    let rm = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let a = MatRef::from_row_major(&rm, 2, 3).unwrap();
    let cm = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
    let b = MatRef::from_col_major(&cm, 2, 3).unwrap();
    let arr = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let c = MatRef::from_array(&arr);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.shape(), (2, 3));
    assert_eq!((a.row_stride(), a.col_stride()), (3, 1));
    assert_eq!((b.row_stride(), b.col_stride()), (1, 2));
    assert_eq!(a.get(1, 2), Some(6.0));
    assert_eq!(a.get(2, 0), None);
    assert_eq!(a.get(0, 3), None);
    let t = a.transpose();
    assert_eq!(t.shape(), (3, 2));
    assert_eq!(t.get(2, 1), Some(6.0));
    assert_eq!(a.row_slice(1), Some(&[4.0, 5.0, 6.0][..]));
    assert_eq!(a.col_slice(0), None);
    assert_eq!(b.col_slice(2), Some(&[3.0, 6.0][..]));
}

#[test]
fn sub_views_do_not_copy_and_check_ranges() {
    let data: Vec<f64> = (0..20).map(f64::from).collect();
    let a = MatRef::from_row_major(&data, 4, 5).unwrap();
    let blk = a.submatrix(1, 2, 2, 3).unwrap();
    assert_eq!(blk.get(0, 0), Some(7.0));
    assert_eq!(blk.get(1, 2), Some(14.0));
    assert_eq!(a.row(3).unwrap().get(0, 4), Some(19.0));
    assert_eq!(a.col(4).unwrap().get(3, 0), Some(19.0));
    assert!(matches!(
        a.submatrix(3, 0, 2, 1),
        Err(Error::DimensionMismatch {
            what: "block row range end",
            expected: 4,
            got: 5
        })
    ));
    assert!(matches!(
        a.submatrix(0, 4, 1, 2),
        Err(Error::DimensionMismatch {
            what: "block column range end",
            ..
        })
    ));
    assert!(matches!(
        a.submatrix(usize::MAX, 0, 2, 1),
        Err(Error::SizeOverflow)
    ));
    assert!(a.row(4).is_err() && a.col(5).is_err());
    // empty blocks are fine anywhere inside the shape
    assert_eq!(a.submatrix(4, 5, 0, 0).unwrap().shape(), (0, 0));

    let mut data = vec![0.0; 12];
    let mut m = MatMut::from_row_major(&mut data, 3, 4).unwrap();
    let mut blk = m.submatrix_mut(1, 1, 2, 2).unwrap();
    blk.fill(1.0);
    *blk.get_mut(1, 1).unwrap() = 2.0;
    assert!(blk.get_mut(2, 0).is_none());
    assert_eq!(data, vec![0., 0., 0., 0., 0., 1., 1., 0., 0., 1., 2., 0.]);
}

#[test]
fn constructor_errors() {
    let d = [0.0; 6];
    assert_eq!(
        MatRef::from_row_major(&d, 2, 2).unwrap_err(),
        Error::DimensionMismatch {
            what: "row-major data length",
            expected: 4,
            got: 6
        }
    );
    assert!(matches!(
        MatRef::from_col_major(&d, 4, 2),
        Err(Error::DimensionMismatch {
            expected: 8,
            got: 6,
            ..
        })
    ));
    assert_eq!(
        MatRef::from_row_major(&d, usize::MAX, 2).unwrap_err(),
        Error::SizeOverflow
    );
    assert_eq!(
        MatRef::from_strided(&d, usize::MAX, 2, usize::MAX, 1).unwrap_err(),
        Error::SizeOverflow
    );
    // the last entry (1*4 + 2*1 = 6) lies outside 6 elements
    assert!(matches!(
        MatRef::from_strided(&d, 2, 3, 4, 1),
        Err(Error::DimensionMismatch {
            expected: 7,
            got: 6,
            ..
        })
    ));
    // a read-only view may repeat entries (zero stride: a broadcast row)
    let bc = MatRef::from_strided(&d[..3], 4, 3, 0, 1).unwrap();
    assert_eq!(bc.shape(), (4, 3));
    // a mutable one may not
    let mut m = [0.0; 6];
    assert!(matches!(
        MatMut::from_strided(&mut m, 4, 3, 0, 1),
        Err(Error::InvalidParameter {
            name: "strides",
            ..
        })
    ));
    assert!(matches!(
        MatMut::from_strided(&mut m, 2, 3, 2, 1),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(MatMut::from_strided(&mut m, 2, 3, 3, 1).is_ok());
    assert!(MatMut::from_strided(&mut m, 3, 2, 1, 3).is_ok());
    assert!(MatMut::from_strided(&mut m, 1, 6, 7, 1).is_ok());
    // empty views need no data
    let empty: [f64; 0] = [];
    assert_eq!(
        MatRef::from_row_major(&empty, 0, 7).unwrap().shape(),
        (0, 7)
    );
    assert_eq!(
        MatRef::from_strided(&empty, 5, 0, 3, 3).unwrap().shape(),
        (5, 0)
    );
}

#[test]
fn copy_from_checks_shape() {
    let src = [[1.0, 2.0], [3.0, 4.0]];
    let mut dst = [0.0; 4];
    let mut m = MatMut::from_col_major(&mut dst, 2, 2).unwrap();
    m.copy_from(MatRef::from_array(&src)).unwrap();
    assert_eq!(dst, [1.0, 3.0, 2.0, 4.0]);
    let mut dst = [0.0; 6];
    let mut m = MatMut::from_col_major(&mut dst, 3, 2).unwrap();
    assert!(matches!(
        m.copy_from(MatRef::from_array(&src)),
        Err(Error::DimensionMismatch {
            what: "copy rows",
            ..
        })
    ));
}

proptest! {
    #[test]
    fn matmul_matches_reference((m, n, k, seed) in (0usize..40, 0usize..40, 0usize..300, any::<u64>())) {
        let mut rng = Rng(seed);
        let a = Dense::<f64>::from_fn(m, k, |_, _| rng.uniform());
        let b = Dense::<f64>::from_fn(k, n, |_, _| rng.uniform());
        let c0 = Dense::<f64>::from_fn(m, n, |_, _| rng.uniform());
        let mut c = c0.clone();
        let mut ws = vec![0.0; matmul_workspace_len(m, n, k)];
        // C <- 2 A B - 0.5 C, with B given transposed-and-back through strides
        let bt = b.transpose();
        matmul(c.view_mut(), 2.0, a.view(), bt.view().transpose(), -0.5, &mut ws).unwrap();
        let ab = a.matmul(&b);
        let expected = Dense::from_fn(m, n, |i, j| 2.0 * ab.at(i, j) - 0.5 * c0.at(i, j));
        prop_assert!(c.max_diff(&expected) <= 1e-13 * (k as f64 + 1.0));
        // the same into a column-major C and into a strided block of a buffer
        let mut cm = c0.transpose().data;
        let cmv = MatMut::from_col_major(&mut cm, m, n).unwrap();
        matmul(cmv, 2.0, a.view(), b.view(), -0.5, &mut ws).unwrap();
        let cm = Dense::from_fn(m, n, |i, j| cm[j * m + i]);
        prop_assert!(cm.max_diff(&expected) <= 1e-13 * (k as f64 + 1.0));
        let ld = 2 * n + 3;
        let mut big = vec![f64::NAN; ld * (m + 1)];
        let view = MatMut::from_strided(&mut big, m, n, ld, 2).unwrap();
        matmul(view, 2.0, a.view(), b.view(), 0.0, &mut ws).unwrap();
        let st = Dense::from_fn(m, n, |i, j| big[i * ld + 2 * j]);
        prop_assert!(st.max_diff(&Dense::from_fn(m, n, |i, j| 2.0 * ab.at(i, j))) <= 1e-13 * (k as f64 + 1.0));
        prop_assert!(big.iter().enumerate().all(|(p, v)| v.is_nan() != (p % ld % 2 == 0 && p % ld < 2 * n && p / ld < m)));
    }
}

#[test]
fn matmul_errors_leave_output_alone() {
    let a = Dense::<f64>::from_fn(3, 2, |i, j| (i + j) as f64);
    let b = Dense::<f64>::from_fn(2, 4, |i, j| (i * j) as f64);
    let mut c = Dense::<f64>::from_fn(3, 4, |_, _| 7.0);
    let mut ws = vec![0.0; matmul_workspace_len(3, 4, 2)];
    assert!(matches!(
        matmul(c.view_mut(), 1.0, a.view(), a.view(), 0.0, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        matmul(c.view_mut(), 1.0, a.view(), b.view(), 0.0, &mut ws[..1]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut bad = b.clone();
    bad.data[4] = f64::NAN;
    assert!(matches!(
        matmul(c.view_mut(), 1.0, a.view(), bad.view(), 0.0, &mut ws),
        Err(Error::NonFinite {
            argument: "B",
            row: 1,
            col: 0
        })
    ));
    assert!(c.data.iter().all(|&v| v == 7.0));
    // beta = 0 ignores a NaN-filled C
    let mut c = Dense::<f64>::from_fn(3, 4, |_, _| f64::NAN);
    matmul(c.view_mut(), 1.0, a.view(), b.view(), 0.0, &mut ws).unwrap();
    assert!(c.max_diff(&a.matmul(&b)) == 0.0);
}
