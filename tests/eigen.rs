//! Symmetric eigensolver: residual and orthogonality bounds on random and
//! structured matrices (repeated and rounding-level eigenvalues), agreement
//! between the Jacobi and tridiagonal paths, between the view and
//! fixed-size paths and across storage layouts, every error path, and the
//! input left untouched.
mod common;

use common::{Dense, Rng, order_and_seed, random_spd, random_symmetric, rbf_grid};
use gramkit::eigen::{FixedSymmetricEigen, symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::{Error, MatMut, MatRef, Real};
use proptest::prelude::*;

/// Eigenvalues and row-major eigenvectors (`None` for values only).
struct Eig<T> {
    values: Vec<T>,
    vectors: Option<Dense<T>>,
}

/// Calls `symmetric_eigen` on a row-major view of `a`, with row-major
/// vectors when `with_vectors`.
fn eig<T: Real>(a: &Dense<T>, with_vectors: bool) -> Result<Eig<T>, Error> {
    eig_view(a.view(), with_vectors)
}

fn eig_view<T: Real>(a: MatRef<'_, T>, with_vectors: bool) -> Result<Eig<T>, Error> {
    let n = a.nrows();
    let mut values = vec![T::zero(); n];
    let mut ws = vec![T::zero(); symmetric_eigen_workspace_len(n, with_vectors)];
    if !with_vectors {
        symmetric_eigen(a, &mut values, None, &mut ws)?;
        return Ok(Eig {
            values,
            vectors: None,
        });
    }
    let mut v = Dense::zeros(n, n);
    symmetric_eigen(a, &mut values, Some(v.view_mut()), &mut ws)?;
    Ok(Eig {
        values,
        vectors: Some(v),
    })
}

/// Frobenius norm, in f64.
fn frobenius<T: Real>(a: &Dense<T>) -> f64 {
    a.data
        .iter()
        .map(|x| x.as_f64() * x.as_f64())
        .sum::<f64>()
        .sqrt()
}

/// `max |A V - V diag(w)|`, accumulated in f64.
fn residual<T: Real>(a: &Dense<T>, w: &[T], v: &Dense<T>) -> f64 {
    let n = a.n;
    let mut worst = 0.0f64;
    for (j, wj) in w.iter().enumerate() {
        for i in 0..n {
            let av: f64 = (0..n)
                .map(|k| a.at(i, k).as_f64() * v.at(k, j).as_f64())
                .sum();
            worst = worst.max((av - wj.as_f64() * v.at(i, j).as_f64()).abs());
        }
    }
    worst
}

/// `max |V^T V - I|`, accumulated in f64.
fn orthogonality<T: Real>(v: &Dense<T>) -> f64 {
    let n = v.n;
    let mut worst = 0.0f64;
    for j in 0..n {
        for k in 0..n {
            let d: f64 = (0..n)
                .map(|i| v.at(i, j).as_f64() * v.at(i, k).as_f64())
                .sum();
            worst = worst.max((d - if j == k { 1.0 } else { 0.0 }).abs());
        }
    }
    worst
}

/// Checks every property of a full decomposition of the symmetric `a`:
/// residual, orthogonality, ascending order, trace, and that the
/// values-only call returns the same eigenvalues.
fn check_decomposition<T: Real>(a: &Dense<T>) {
    let n = a.n;
    let eps = T::EPS.as_f64();
    let scale = frobenius(a);
    let full = eig(a, true).expect("finite symmetric input must decompose");
    let v = full.vectors.as_ref().unwrap();
    let w = &full.values;

    // observed worst cases: about 0.6 n eps |A|_F and 2.4 n eps
    let res = residual(a, w, v);
    let tol = 4.0 * (n as f64) * eps * scale;
    assert!(res <= tol, "n={n}: residual {res:e} > {tol:e}");

    let orth = orthogonality(v);
    let tol = 8.0 * (n.max(1) as f64) * eps;
    assert!(orth <= tol, "n={n}: |V^T V - I| {orth:e} > {tol:e}");

    assert!(
        w.windows(2).all(|p| p[0] <= p[1]),
        "n={n}: not ascending: {w:?}"
    );

    let trace: f64 = (0..n).map(|i| a.at(i, i).as_f64()).sum();
    let sum: f64 = w.iter().map(|x| x.as_f64()).sum();
    let tol = 2.0 * (n as f64) * eps * scale;
    assert!((trace - sum).abs() <= tol, "n={n}: trace {trace} vs {sum}");

    let only = eig(a, false).unwrap().values;
    let diff = max_diff(&only, w);
    let tol = 2.0 * (n as f64) * eps * scale;
    assert!(diff <= tol, "n={n}: values-only differ by {diff:e}");
}

fn max_diff<T: Real>(x: &[T], y: &[T]) -> f64 {
    assert_eq!(x.len(), y.len());
    x.iter()
        .zip(y)
        .map(|(a, b)| (a.as_f64() - b.as_f64()).abs())
        .fold(0.0, f64::max)
}

/// A random orthogonal matrix: a product of three Householder reflectors.
fn random_orthogonal(n: usize, rng: &mut Rng) -> Dense<f64> {
    let mut q = Dense::<f64>::identity(n);
    for _ in 0..3 {
        let u: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let uu: f64 = u.iter().map(|x| x * x).sum();
        if uu == 0.0 {
            continue;
        }
        let h = Dense::from_fn(n, n, |i, j| {
            (if i == j { 1.0 } else { 0.0 }) - 2.0 * u[i] * u[j] / uu
        });
        q = q.matmul(&h);
    }
    q
}

/// `Q diag(spectrum) Q^T` for a random orthogonal `Q`, symmetrized exactly.
fn with_spectrum<T: Real>(spectrum: &[f64], rng: &mut Rng) -> Dense<T> {
    let n = spectrum.len();
    let q = random_orthogonal(n, rng);
    let a = Dense::from_fn(n, n, |i, j| {
        (0..n)
            .map(|k| q.at(i, k) * spectrum[k] * q.at(j, k))
            .sum::<f64>()
    });
    Dense::from_fn(n, n, |i, j| T::from_f64(a.at(i.max(j), i.min(j))))
}

/// A test matrix of one of several kinds, from `seed`.
fn matrix_of_kind<T: Real>(n: usize, kind: u8, seed: u64) -> Dense<T> {
    let mut rng = Rng(seed);
    match kind % 5 {
        0 => random_symmetric(n, &mut rng),
        1 => random_spd(n, 0.0, &mut rng),
        // few distinct eigenvalues, each repeated
        2 => {
            let s: Vec<f64> = (0..n).map(|i| [-1.0, 0.5, 2.0][i % 3]).collect();
            with_spectrum(&s, &mut rng)
        }
        // rank 2
        3 => {
            let s: Vec<f64> = (0..n)
                .map(|i| match i {
                    0 => 3.0,
                    1 => -1.5,
                    _ => 0.0,
                })
                .collect();
            with_spectrum(&s, &mut rng)
        }
        // graded: D S D with D = diag(4^-i)
        _ => {
            let s = random_symmetric::<f64>(n, &mut rng);
            Dense::from_fn(n, n, |i, j| {
                T::from_f64(s.at(i, j) * 0.25f64.powi((i + j) as i32))
            })
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn decomposition_properties_f64((n, seed) in order_and_seed(40), kind in 0u8..5) {
        check_decomposition(&matrix_of_kind::<f64>(n, kind, seed));
    }

    #[test]
    fn decomposition_properties_f32((n, seed) in order_and_seed(40), kind in 0u8..5) {
        check_decomposition(&matrix_of_kind::<f32>(n, kind, seed));
    }

    /// Jacobi (n <= 8) against the tridiagonal path on `diag(A, A, A)`,
    /// whose spectrum is that of `A` three times.
    #[test]
    fn jacobi_and_tridiagonal_paths_agree((n, seed) in (1usize..=8, any::<u64>())) {
        let a = random_symmetric::<f64>(n, &mut Rng(seed));
        let big = Dense::from_fn(3 * n, 3 * n, |i, j| {
            if i / n == j / n { a.at(i % n, j % n) } else { 0.0 }
        });
        let small = eig(&a, true).unwrap().values;
        let large = eig(&big, true).unwrap().values;
        let tripled: Vec<f64> = small.iter().flat_map(|&w| [w, w, w]).collect();
        let tol = 8.0 * (3 * n) as f64 * f64::EPSILON * frobenius(&big);
        prop_assert!(max_diff(&tripled, &large) <= tol, "{:?} vs {:?}", tripled, large);
        check_decomposition(&big);
    }
}

/// Graded matrices have tiny trailing columns whose squares underflow in
/// f32; the reflectors must stay orthogonal anyway (a case proptest found).
#[test]
fn graded_f32_keeps_orthogonality() {
    check_decomposition(&matrix_of_kind::<f32>(20, 4, 1141300456201959719));
    check_decomposition(&matrix_of_kind::<f32>(40, 4, 7));
    check_decomposition(&matrix_of_kind::<f64>(40, 4, 7));
}

#[test]
fn larger_orders() {
    for (n, seed) in [(100, 1), (300, 2)] {
        check_decomposition(&random_symmetric::<f64>(n, &mut Rng(seed)));
    }
    check_decomposition(&random_spd::<f32>(100, 1.0, &mut Rng(3)));
}

#[test]
fn sizes_zero_and_one() {
    let empty = Dense::<f64>::zeros(0, 0);
    let e = eig(&empty, true).unwrap();
    assert!(e.values.is_empty());
    assert_eq!(symmetric_eigen_workspace_len(0, true), 0);

    let one = Dense::from_fn(1, 1, |_, _| -2.5f32);
    let e = eig(&one, true).unwrap();
    assert_eq!(e.values, vec![-2.5]);
    assert_eq!(e.vectors.unwrap().data, vec![1.0]);
    assert_eq!(eig(&one, false).unwrap().values, vec![-2.5]);

    let v = FixedSymmetricEigen::<f64, 0>::compute(&[]).unwrap();
    assert_eq!(v.values.len(), 0);
    assert_eq!(
        FixedSymmetricEigen::compute(&[[7.0]]).unwrap().values,
        [7.0]
    );
}

#[test]
fn identity_and_repeated_diagonal() {
    for n in [1, 5, 8, 9, 40] {
        let id = Dense::<f64>::identity(n);
        let e = eig(&id, true).unwrap();
        assert!(e.values.iter().all(|&w| w == 1.0), "n={n}: {:?}", e.values);
        check_decomposition(&id);

        let d: Vec<f64> = (0..n).map(|i| [3.0, -1.0, 3.0, 0.0][i % 4]).collect();
        let a = Dense::from_fn(n, n, |i, j| if i == j { d[i] } else { 0.0 });
        let e = eig(&a, true).unwrap();
        let mut sorted = d.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(e.values, sorted, "diagonal input is already diagonal");
        check_decomposition(&a);
    }
}

#[test]
fn rank_one() {
    for n in [6, 30] {
        let mut rng = Rng(n as u64);
        let x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let a = Dense::from_fn(n, n, |i, j| x[i] * x[j]);
        check_decomposition(&a);
        let e = eig(&a, false).unwrap().values;
        let xx: f64 = x.iter().map(|v| v * v).sum();
        let tol = 4.0 * n as f64 * f64::EPSILON * xx;
        assert!(
            (e[n - 1] - xx).abs() <= tol,
            "top eigenvalue {} vs {xx}",
            e[n - 1]
        );
        assert!(e[..n - 1].iter().all(|w| w.abs() <= tol), "{e:?}");
    }
}

/// Eigenvalues of a smooth kernel decay geometrically down to rounding
/// level: the computed ones are never below `-O(eps |A|)` and the vectors
/// stay orthonormal.
#[test]
fn rbf_kernel_with_rounding_level_eigenvalues() {
    let a = rbf_grid::<f64>(15, 0.0, 4.0, 1.0, 1.0);
    check_decomposition(&a);
    let e = eig(&a, true).unwrap().values;
    let tol = 30.0 * f64::EPSILON * frobenius(&a);
    assert!(e.iter().all(|&w| w >= -tol), "{e:?}");
    assert!(
        e.windows(2).all(|p| p[1] > 1.5 * p[0]),
        "not decaying: {e:?}"
    );
    assert!(e[14] > 1.0, "{e:?}");
    check_decomposition(&rbf_grid::<f32>(15, 0.0, 4.0, 1.0, 1.0));

    // 60 points: about half the spectrum is at rounding level
    let a = rbf_grid::<f64>(60, 0.0, 4.0, 1.0, 1.0);
    check_decomposition(&a);
    let e = eig(&a, true).unwrap().values;
    let tol = 60.0 * f64::EPSILON * frobenius(&a);
    assert!(e.iter().all(|&w| w >= -tol), "{e:?}");
    assert!(e.iter().filter(|w| w.abs() <= tol).count() >= 20, "{e:?}");
}

#[test]
fn fixed_size_path_matches_view_path() {
    fn check<const N: usize>(seed: u64) {
        let a = random_symmetric::<f64>(N, &mut Rng(seed));
        let mut arr = [[0.0; N]; N];
        for (i, row) in arr.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = a.at(i, j);
            }
        }
        let fixed = FixedSymmetricEigen::compute(&arr).unwrap();
        let view = eig(&a, true).unwrap();
        // the same algorithm on the same row-major layout: identical results
        assert_eq!(fixed.values.to_vec(), view.values, "N={N}");
        assert_eq!(
            fixed.vectors.as_flattened(),
            &view.vectors.unwrap().data[..],
            "N={N}"
        );
        let values = FixedSymmetricEigen::values(&arr).unwrap();
        assert_eq!(values.to_vec(), eig(&a, false).unwrap().values, "N={N}");
    }
    check::<2>(1);
    check::<7>(2);
    check::<8>(3);
    check::<9>(4);
    check::<24>(5);
    check::<50>(6);
}

/// Every storage layout of `a` and of `vectors` gives the same result.
#[test]
fn strided_layouts() {
    for n in [6, 23] {
        let a = random_symmetric::<f64>(n, &mut Rng(n as u64 + 10));
        let reference = eig(&a, true).unwrap();
        let v_ref = reference.vectors.unwrap();
        let w_ref = reference.values;

        // input: column-major, a block of a larger buffer, a transpose
        let col_major = a.transpose().data;
        let big_n = n + 3;
        let mut big = vec![f64::NAN; big_n * big_n];
        for i in 0..n {
            for j in 0..n {
                big[(i + 2) * big_n + (j + 1)] = a.at(i, j);
            }
        }
        let inputs = [
            MatRef::from_col_major(&col_major, n, n).unwrap(),
            MatRef::from_row_major(&big, big_n, big_n)
                .unwrap()
                .submatrix(2, 1, n, n)
                .unwrap(),
            MatRef::from_row_major(&col_major, n, n)
                .unwrap()
                .transpose(),
        ];
        for input in inputs {
            let e = eig_view(input, true).unwrap();
            assert_eq!(e.values, w_ref, "n={n}");
            assert_eq!(e.vectors.unwrap().data, v_ref.data, "n={n}");
        }

        // vectors: column-major, a block of a larger buffer, general strides
        let mut ws = vec![0.0; symmetric_eigen_workspace_len(n, true)];
        let mut values = vec![0.0; n];
        let mut buf = vec![0.0; n * n];
        symmetric_eigen(
            a.view(),
            &mut values,
            Some(MatMut::from_col_major(&mut buf, n, n).unwrap()),
            &mut ws,
        )
        .unwrap();
        assert_eq!(values, w_ref);
        assert_eq!(buf, v_ref.transpose().data, "n={n}: column-major vectors");

        let mut big = vec![-7.0; big_n * big_n];
        let block = MatMut::from_row_major(&mut big, big_n, big_n)
            .unwrap()
            .into_submatrix(1, 2, n, n)
            .unwrap();
        symmetric_eigen(a.view(), &mut values, Some(block), &mut ws).unwrap();
        for i in 0..big_n {
            for j in 0..big_n {
                let inside = (1..=n).contains(&i) && (2..n + 2).contains(&j);
                let expected = if inside { v_ref.at(i - 1, j - 2) } else { -7.0 };
                assert_eq!(big[i * big_n + j], expected, "n={n} ({i}, {j})");
            }
        }

        // rows two apart, columns 2n apart: neither stride is 1
        let mut sparse = vec![-7.0; 2 * n * n];
        let strided = MatMut::from_strided(&mut sparse, n, n, 2, 2 * n).unwrap();
        symmetric_eigen(a.view(), &mut values, Some(strided), &mut ws).unwrap();
        for i in 0..n {
            for j in 0..n {
                assert_eq!(sparse[2 * i + 2 * n * j], v_ref.at(i, j), "n={n}");
                assert_eq!(sparse[2 * i + 1 + 2 * n * j], -7.0, "gap written");
            }
        }
    }
}

/// Only the lower triangle is read, and `a` is never written.
#[test]
fn reads_only_the_lower_triangle_and_leaves_it() {
    for n in [5, 20] {
        let a = random_symmetric::<f64>(n, &mut Rng(99 + n as u64));
        let reference = eig(&a, true).unwrap();
        let mut garbage = a.clone();
        for i in 0..n {
            for j in i + 1..n {
                garbage.data[i * n + j] = if (i + j) % 2 == 0 { f64::NAN } else { 1e300 };
            }
        }
        let before = garbage.data.clone();
        for with_vectors in [true, false] {
            let e = eig(&garbage, with_vectors).unwrap();
            assert_eq!(e.values.len(), n);
            if with_vectors {
                assert_eq!(e.values, reference.values);
                assert_eq!(
                    e.vectors.unwrap().data,
                    reference.vectors.as_ref().unwrap().data
                );
            }
            let same = garbage
                .data
                .iter()
                .zip(&before)
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "input modified");
        }
    }
}

/// Entries near the overflow and underflow thresholds are scaled internally.
#[test]
fn extreme_magnitudes() {
    let base = random_symmetric::<f64>(12, &mut Rng(5));
    for s in [1e300, 1e-300, 1e-310] {
        let a = Dense::from_fn(12, 12, |i, j| base.at(i, j) * s);
        let e = eig(&a, true).unwrap();
        assert!(e.values.iter().all(|w| w.is_finite()));
        let expected = eig(&base, false).unwrap().values;
        for (w, x) in e.values.iter().zip(&expected) {
            assert!((w / s - x).abs() <= 1e-12 * 12.0, "scale {s}: {w} vs {x}");
        }
        let orth = orthogonality(e.vectors.as_ref().unwrap());
        assert!(orth < 1e-13, "scale {s}: {orth}");
    }
    // largest eigenvalue 1.5 * f32::MAX: an error, not an infinity
    let big = Dense::from_fn(3, 3, |i, j| if i == j { f32::MAX } else { f32::MAX / 4.0 });
    assert!(matches!(eig(&big, true), Err(Error::Overflow { .. })));
    let big = Dense::from_fn(3, 3, |i, j| {
        if i == j {
            f32::MAX / 2.0
        } else {
            f32::MAX / 8.0
        }
    });
    let e = eig(&big, true).unwrap();
    assert!(e.values.iter().all(|w| w.is_finite() && *w > 0.0));
}

#[test]
fn dimension_errors() {
    let a = random_symmetric::<f64>(10, &mut Rng(1));
    let mut ws = vec![0.0; symmetric_eigen_workspace_len(10, true)];
    let mut values = vec![0.0; 10];

    let rect = vec![0.0; 12];
    let r = symmetric_eigen(
        MatRef::from_row_major(&rect, 3, 4).unwrap(),
        &mut values[..3],
        None,
        &mut ws,
    );
    assert!(
        matches!(
            r,
            Err(Error::DimensionMismatch {
                expected: 3,
                got: 4,
                ..
            })
        ),
        "{r:?}"
    );

    let mut short = vec![0.0; 9];
    let r = symmetric_eigen(a.view(), &mut short, None, &mut ws);
    assert!(
        matches!(
            r,
            Err(Error::DimensionMismatch {
                expected: 10,
                got: 9,
                ..
            })
        ),
        "{r:?}"
    );

    let mut v = vec![0.0; 110];
    for (rows, cols) in [(11, 10), (10, 11)] {
        let r = symmetric_eigen(
            a.view(),
            &mut values,
            Some(MatMut::from_row_major(&mut v, rows, cols).unwrap()),
            &mut ws,
        );
        assert!(
            matches!(
                r,
                Err(Error::DimensionMismatch {
                    expected: 10,
                    got: 11,
                    ..
                })
            ),
            "{r:?}"
        );
    }
    assert!(values.iter().all(|&x| x == 0.0), "written on error");
}

#[test]
fn workspace_errors() {
    for (n, with_vectors) in [(9, true), (9, false), (40, true), (40, false)] {
        let a = random_symmetric::<f32>(n, &mut Rng(2));
        let needed = symmetric_eigen_workspace_len(n, with_vectors);
        assert!(needed > 0);
        let mut ws = vec![0.0f32; needed - 1];
        let mut values = vec![0.0f32; n];
        let mut v = Dense::<f32>::zeros(n, n);
        let vectors = with_vectors.then(|| v.view_mut());
        let r = symmetric_eigen(a.view(), &mut values, vectors, &mut ws);
        assert_eq!(
            r,
            Err(Error::WorkspaceTooSmall {
                needed,
                got: needed - 1
            })
        );
        assert!(values.iter().all(|&x| x == 0.0), "written on error");
    }
    // orders up to 8 need none; huge orders saturate instead of overflowing
    assert_eq!(symmetric_eigen_workspace_len(8, true), 0);
    assert_eq!(symmetric_eigen_workspace_len(8, false), 0);
    assert_eq!(symmetric_eigen_workspace_len(usize::MAX, false), usize::MAX);
    assert_eq!(
        symmetric_eigen_workspace_len(usize::MAX / 2, true),
        usize::MAX
    );
}

#[test]
fn non_finite_errors() {
    for n in [4, 12] {
        for (i, j, bad) in [
            (n - 1, 0, f64::NAN),
            (n / 2, n / 2, f64::INFINITY),
            (2, 1, f64::NEG_INFINITY),
        ] {
            let mut a = random_symmetric::<f64>(n, &mut Rng(3));
            a.data[i * n + j] = bad;
            let mut values = vec![0.0; n];
            let mut v = Dense::<f64>::zeros(n, n);
            let mut ws = vec![0.0; symmetric_eigen_workspace_len(n, true)];
            let r = symmetric_eigen(a.view(), &mut values, Some(v.view_mut()), &mut ws);
            assert_eq!(
                r,
                Err(Error::NonFinite {
                    argument: "A",
                    row: i,
                    col: j
                })
            );
            assert!(
                values.iter().chain(&v.data).all(|&x| x == 0.0),
                "written on error"
            );

            let mut arr = [[0.0; 4]; 4];
            if n == 4 {
                for (r, row) in arr.iter_mut().enumerate() {
                    for (c, x) in row.iter_mut().enumerate() {
                        *x = a.at(r, c);
                    }
                }
                let err = Err(Error::NonFinite {
                    argument: "A",
                    row: i,
                    col: j,
                });
                assert_eq!(FixedSymmetricEigen::compute(&arr).map(|e| e.values), err);
                assert_eq!(FixedSymmetricEigen::values(&arr), err);
            }
        }
    }
}

/// Arbitrary finite bit patterns (huge, tiny, subnormal, mixed signs) never
/// panic and give finite, orthonormal results.
#[test]
fn arbitrary_finite_inputs_do_not_panic() {
    let mut rng = Rng(1234);
    for trial in 0..40 {
        let n = [3, 9, 17][trial % 3];
        let a = Dense::from_fn(n, n, |_, _| {
            loop {
                let x = f64::from_bits(rng.next_u64());
                if x.is_finite() {
                    break x;
                }
            }
        });
        let e = match eig(&a, true) {
            Ok(e) => e,
            // eigenvalues of entries near f64::MAX may exceed it
            Err(Error::Overflow { .. }) if a.max_abs() > 1e300 => continue,
            Err(err) => panic!("trial {trial}: {err} on finite input"),
        };
        assert!(e.values.iter().all(|w| w.is_finite()), "trial {trial}");
        let v = e.vectors.unwrap();
        assert!(v.data.iter().all(|x| x.is_finite()), "trial {trial}");
        assert!(orthogonality(&v) < 1e-12, "trial {trial}");
    }
}
