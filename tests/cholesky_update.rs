//! Rank-one update and downdate: agreement with a fresh factorization, every
//! storage layout, exact failure index, factor unchanged bit for bit on every
//! error, and accuracy over long chains of downdates.
mod common;

use common::{Dense, Rng, random_spd};
use gramkit::cholesky::{
    Cholesky, CholeskyMut, FixedCholesky, cholesky_downdate_workspace_len, cholesky_in_place,
    cholesky_in_place_workspace_len, cholesky_update_workspace_len,
};
use gramkit::{Error, MatMut, Real};
use proptest::prelude::*;

/// Fresh factor of `a` (row-major copy, lower triangle, upper zeroed).
fn fresh_factor<T: Real>(a: &Dense<T>) -> Result<Dense<T>, Error> {
    let mut l = a.clone();
    let mut ws = vec![T::zero(); cholesky_in_place_workspace_len(a.n)];
    cholesky_in_place(l.view_mut(), &mut ws)?;
    Ok(l.lower())
}

/// `a + sign * x x^T`, accumulated in f64.
fn rank_one<T: Real>(a: &Dense<T>, x: &[f64], sign: f64) -> Dense<T> {
    Dense::from_fn(a.n, a.n, |i, j| {
        T::from_f64(a.at(i, j).as_f64() + sign * x[i] * x[j])
    })
}

fn random_vec(n: usize, scale: f64, rng: &mut Rng) -> Vec<f64> {
    (0..n).map(|_| scale * rng.uniform()).collect()
}

fn to_t<T: Real>(x: &[f64]) -> Vec<T> {
    x.iter().map(|&v| T::from_f64(v)).collect()
}

fn bits<T: Real>(d: &[T]) -> Vec<u64> {
    d.iter().map(|v| v.as_f64().to_bits()).collect()
}

/// Checks `l` (lower triangle) against a fresh factor `want` of `target`:
/// backward error `|L L^T - target|` and forward error `|L - want|`.
fn check_factor<T: Real>(l: &Dense<T>, target: &Dense<T>, want: &Dense<T>, cond: f64) {
    let n = target.n as f64;
    let eps = T::EPS.as_f64();
    let llt = l.lower().matmul(&l.lower().transpose());
    let back = llt.max_diff(target);
    let back_tol = 16.0 * (n + 2.0) * eps * target.max_abs().max(1.0);
    assert!(back <= back_tol, "|LL^T - A| = {back} > {back_tol}");
    let fwd = l.lower().max_diff(want);
    let fwd_tol = 16.0 * (n + 2.0) * eps * cond * want.max_abs().max(1.0);
    assert!(fwd <= fwd_tol, "|L - L_fresh| = {fwd} > {fwd_tol}");
}

/// Factor `A`, update with `x`, compare with the factor of `A + x x^T`.
fn check_update<T: Real>(n: usize, seed: u64) {
    let mut rng = Rng(seed);
    let a = random_spd::<T>(n, n as f64 + 1.0, &mut rng);
    let x = random_vec(n, 2.0, &mut rng);
    let mut l = a.clone();
    let mut ws = vec![T::zero(); cholesky_in_place_workspace_len(n)];
    let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
    let xt = to_t::<T>(&x);
    let x_before = xt.clone();
    let mut ws = vec![T::zero(); cholesky_update_workspace_len(n)];
    chol.update(&xt, &mut ws).unwrap();
    assert_eq!(xt, x_before, "x must not be modified");
    let target = rank_one(&a, &xt.iter().map(|v| v.as_f64()).collect::<Vec<_>>(), 1.0);
    check_factor(&l, &target, &fresh_factor(&target).unwrap(), 10.0);
}

/// `A = B + x x^T`; factor `A`, downdate `x`, compare with the factor of `B`.
fn check_downdate<T: Real>(n: usize, seed: u64) {
    let mut rng = Rng(seed);
    let b = random_spd::<T>(n, n as f64 + 1.0, &mut rng);
    let xt = to_t::<T>(&random_vec(n, 2.0, &mut rng));
    let x: Vec<f64> = xt.iter().map(|v| v.as_f64()).collect();
    let a = rank_one(&b, &x, 1.0);
    let mut l = a.clone();
    let mut ws = vec![T::zero(); cholesky_in_place_workspace_len(n)];
    let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
    let mut ws = vec![T::zero(); cholesky_downdate_workspace_len(n)];
    let x_before = xt.clone();
    chol.downdate(&xt, &mut ws).unwrap();
    assert_eq!(xt, x_before, "x must not be modified");
    let target = rank_one(&a, &x, -1.0);
    check_factor(&l, &target, &fresh_factor(&target).unwrap(), 10.0);
    assert!(
        l.max_diff(&a) > 0.0 || n == 0,
        "downdate must change the factor"
    );
}

/// Factor of `A` with `p` given: `x = L p`, so `p = L^{-1} x` is known and
/// the failure index is where `sum_{i<=k} p_i^2` first reaches 1.
fn check_failure_index<T: Real>(n: usize, k: usize, seed: u64) {
    let mut rng = Rng(seed);
    let a = random_spd::<T>(n, n as f64 + 1.0, &mut rng);
    let mut l = a.clone();
    let mut ws = vec![T::zero(); cholesky_in_place_workspace_len(n)];
    let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
    // sum_{i<k} p_i^2 <= 0.25, p_k^2 >= 1.44: far from the boundary.
    let p: Vec<f64> = (0..n)
        .map(|i| match i.cmp(&k) {
            core::cmp::Ordering::Less => 0.5 * rng.uniform() / (k as f64).sqrt(),
            core::cmp::Ordering::Equal => 1.2 + rng.uniform().abs(),
            core::cmp::Ordering::Greater => rng.uniform(),
        })
        .collect();
    let lt = chol.l();
    let x: Vec<T> = (0..n)
        .map(|i| T::from_f64((0..=i).map(|j| lt.get(i, j).unwrap().as_f64() * p[j]).sum()))
        .collect();
    let before = bits(&l_snapshot(&chol));
    let mut ws = vec![T::zero(); cholesky_downdate_workspace_len(n)];
    assert_eq!(
        chol.downdate(&x, &mut ws),
        Err(Error::DowndateFailed { index: k })
    );
    assert_eq!(
        bits(&l_snapshot(&chol)),
        before,
        "factor changed on failure"
    );
    // Cross-check the meaning of `index`: plain Cholesky of A - x x^T fails
    // at the same pivot.
    let xf: Vec<f64> = x.iter().map(|v| v.as_f64()).collect();
    let target = rank_one(&a, &xf, -1.0);
    assert_eq!(
        fresh_factor(&target).err(),
        Some(Error::NotPositiveDefinite { pivot: k })
    );
}

/// Every stored entry of the factor's storage, row by row.
fn l_snapshot<T: Real, S: gramkit::AsMatMut<Scalar = T>>(c: &Cholesky<S>) -> Vec<T> {
    let v = c.l();
    let n = v.nrows();
    (0..n * n).map(|k| v.get(k / n, k % n).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn update_matches_fresh_factor_f64(n in 0usize..=24, seed in any::<u64>()) {
        check_update::<f64>(n, seed);
    }

    #[test]
    fn update_matches_fresh_factor_f32(n in 0usize..=24, seed in any::<u64>()) {
        check_update::<f32>(n, seed);
    }

    #[test]
    fn downdate_matches_fresh_factor_f64(n in 0usize..=24, seed in any::<u64>()) {
        check_downdate::<f64>(n, seed);
    }

    #[test]
    fn downdate_matches_fresh_factor_f32(n in 0usize..=24, seed in any::<u64>()) {
        check_downdate::<f32>(n, seed);
    }

    #[test]
    fn downdate_failure_index_f64((n, k) in (1usize..=20).prop_flat_map(|n| (Just(n), 0..n)), seed in any::<u64>()) {
        check_failure_index::<f64>(n, k, seed);
    }

    #[test]
    fn downdate_failure_index_f32((n, k) in (1usize..=20).prop_flat_map(|n| (Just(n), 0..n)), seed in any::<u64>()) {
        check_failure_index::<f32>(n, k, seed);
    }

    #[test]
    fn update_then_downdate_round_trips(n in 1usize..=20, seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let a = random_spd::<f64>(n, 1.0, &mut rng);
        let x = random_vec(n, 3.0, &mut rng);
        let mut l = a.clone();
        let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
        let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
        let original = l_snapshot(&chol);
        let mut ws = vec![0.0; cholesky_downdate_workspace_len(n)];
        chol.update(&x, &mut ws).unwrap();
        chol.downdate(&x, &mut ws).unwrap();
        let back = l_snapshot(&chol);
        let err = (0..n * n)
            .filter(|k| k % n <= k / n)
            .map(|k| (back[k] - original[k]).abs())
            .fold(0.0, f64::max);
        prop_assert!(err <= 1e-9, "round trip error {}", err);
    }
}

/// The fair-projection pattern: one factor of `K + lambda I + sum x_k x_k^T`
/// carried through many successive downdates ends as the factor of
/// `K + lambda I`.
#[test]
fn long_downdate_chain_stays_accurate() {
    let n = 40;
    let m = 30;
    let mut rng = Rng(7);
    let base = random_spd::<f64>(n, 0.5, &mut rng);
    let xs: Vec<Vec<f64>> = (0..m).map(|_| random_vec(n, 1.5, &mut rng)).collect();
    let mut a = base.clone();
    for x in &xs {
        a = rank_one(&a, x, 1.0);
    }
    let mut l = a.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
    let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
    let mut ws = vec![0.0; cholesky_downdate_workspace_len(n)];
    for x in &xs {
        chol.downdate(x, &mut ws).unwrap();
    }
    let want = fresh_factor(&base).unwrap();
    let err = l.lower().max_diff(&want) / want.max_abs();
    assert!(err < 1e-12, "relative error after {m} downdates: {err}");
    let llt = l.lower().matmul(&l.lower().transpose());
    assert!(llt.max_diff(&base) / base.max_abs() < 1e-11);
}

/// Column-major storage and a strided block of a larger buffer give the same
/// results, bit for bit, as row-major storage, starting from the same factor.
#[test]
fn storage_layouts_agree() {
    for &n in &[1usize, 2, 7, 13] {
        let mut rng = Rng(n as u64);
        let b = random_spd::<f64>(n, 1.0, &mut rng);
        let x = random_vec(n, 1.0, &mut rng);
        let a = rank_one(&b, &x, 1.0);
        let l0 = fresh_factor(&a).unwrap();
        let mut ws = vec![0.0; cholesky_downdate_workspace_len(n)];
        let mut run = |c: &mut CholeskyMut<'_, f64>| {
            c.downdate(&x, &mut ws).unwrap();
            c.update(&x, &mut ws).unwrap();
            c.downdate(&x, &mut ws).unwrap();
            lower_of(&l_snapshot(c), n)
        };

        let mut row = l0.clone();
        let want = run(&mut Cholesky::from_factor(row.view_mut()).unwrap());
        check_factor(
            &Dense::from_fn(n, n, |i, j| {
                if j <= i {
                    want[i * (i + 1) / 2 + j]
                } else {
                    0.0
                }
            }),
            &b,
            &fresh_factor(&b).unwrap(),
            10.0,
        );

        let mut col = l0.transpose().data.clone();
        let got = run(
            &mut Cholesky::from_factor(MatMut::from_col_major(&mut col, n, n).unwrap()).unwrap(),
        );
        assert_eq!(bits(&got), bits(&want));

        // An n x n block at (1, 2) of a (n + 3) x (n + 4) row-major buffer.
        let w = n + 4;
        let mut big = vec![f64::NAN; (n + 3) * w];
        for i in 0..n {
            for j in 0..n {
                big[(i + 1) * w + j + 2] = l0.at(i, j);
            }
        }
        let view = MatMut::from_row_major(&mut big, n + 3, w)
            .unwrap()
            .into_submatrix(1, 2, n, n)
            .unwrap();
        let got = run(&mut Cholesky::from_factor(view).unwrap());
        assert_eq!(bits(&got), bits(&want));
        // Entries outside the block are untouched.
        assert!(big[..w].iter().all(|v| v.is_nan()));
        assert!((1..n + 3).all(|i| big[i * w].is_nan() && big[i * w + 1].is_nan()));
    }
}

fn lower_of<T: Copy>(full: &[T], n: usize) -> Vec<T> {
    (0..n * n)
        .filter(|k| k % n <= k / n)
        .map(|k| full[k])
        .collect()
}

/// Fixed-array storage: update and downdate in place on the stack.
#[test]
fn fixed_array_storage() {
    const N: usize = 5;
    let mut rng = Rng(11);
    let b = random_spd::<f32>(N, 5.0, &mut rng);
    let x: Vec<f32> = (0..N).map(|_| rng.uniform() as f32).collect();
    let xf: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let a = rank_one(&b, &xf, 1.0);
    let mut arr = [[0.0f32; N]; N];
    for (i, row) in arr.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = a.at(i, j);
        }
    }
    let mut chol = FixedCholesky::factor(&arr).unwrap();
    let mut ws = [0.0f32; cholesky_downdate_workspace_len(N)];
    chol.downdate(&x, &mut ws).unwrap();
    let got = Dense::from_fn(N, N, |i, j| chol.l().get(i, j).unwrap());
    check_factor(&got, &b, &fresh_factor(&b).unwrap(), 10.0);
    chol.update(&x, &mut ws).unwrap();
    let got = Dense::from_fn(N, N, |i, j| chol.l().get(i, j).unwrap());
    check_factor(&got, &a, &fresh_factor(&a).unwrap(), 10.0);
    // A failing downdate leaves the array as it was.
    let before = chol.l().get(3, 1).unwrap().to_bits();
    let big = [0.0, 0.0, 100.0, 0.0, 0.0];
    assert_eq!(
        chol.downdate(&big, &mut ws),
        Err(Error::DowndateFailed { index: 2 })
    );
    assert_eq!(chol.l().get(3, 1).unwrap().to_bits(), before);
}

/// `x = 2 * (column k of L)` gives `p = 2 e_k`: index `k`.
#[test]
fn twice_a_column_fails_at_its_index() {
    let n = 9;
    let a = random_spd::<f64>(n, 1.0, &mut Rng(3));
    for k in 0..n {
        let mut l = a.clone();
        let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
        let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
        let x: Vec<f64> = (0..n)
            .map(|i| 2.0 * chol.l().get(i, k).filter(|_| i >= k).unwrap_or(0.0))
            .collect();
        let before = bits(&l_snapshot(&chol));
        let mut ws = vec![0.0; cholesky_downdate_workspace_len(n)];
        assert_eq!(
            chol.downdate(&x, &mut ws),
            Err(Error::DowndateFailed { index: k })
        );
        assert_eq!(bits(&l_snapshot(&chol)), before);
        // Half the column (|p| = 1/2) succeeds.
        let half: Vec<f64> = x.iter().map(|v| v / 4.0).collect();
        chol.downdate(&half, &mut ws).unwrap();
    }
}

/// Exactly `|p| = 1` (singular result) fails too.
#[test]
fn singular_result_fails() {
    let mut a = [4.0, 2.0, 2.0, 3.0];
    let mut ws = [0.0; 4];
    let mut chol =
        cholesky_in_place(MatMut::from_row_major(&mut a, 2, 2).unwrap(), &mut ws).unwrap();
    // x = column 0 of L: A - x x^T = [[0, 0], [0, 2]].
    assert_eq!(
        chol.downdate(&[2.0, 1.0], &mut ws),
        Err(Error::DowndateFailed { index: 0 })
    );
    // x = (0, sqrt(2)) * ... : A - x x^T = [[4, 2], [2, 1]] is singular at 1.
    assert_eq!(
        chol.downdate(&[0.0, 2.0f64.sqrt()], &mut ws),
        Err(Error::DowndateFailed { index: 1 })
    );
}

#[test]
fn errors_leave_factor_unchanged() {
    let n = 4;
    let a = random_spd::<f64>(n, 1.0, &mut Rng(5));
    let mut l = a.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
    let mut chol = cholesky_in_place(l.view_mut(), &mut ws).unwrap();
    let before = bits(&l_snapshot(&chol));
    let x = [0.1, 0.2, 0.3, 0.4];
    let mut ws = vec![0.0; cholesky_downdate_workspace_len(n)];

    // length
    for op in [Op::Update, Op::Downdate] {
        let r = op.run(&mut chol, &x[..3], &mut ws);
        assert!(
            matches!(
                r,
                Err(Error::DimensionMismatch {
                    expected: 4,
                    got: 3,
                    ..
                })
            ),
            "{r:?}"
        );
        let long = [0.0; 5];
        let r = op.run(&mut chol, &long, &mut ws);
        assert!(
            matches!(
                r,
                Err(Error::DimensionMismatch {
                    expected: 4,
                    got: 5,
                    ..
                })
            ),
            "{r:?}"
        );
    }
    // workspace
    let mut short = vec![0.0; cholesky_update_workspace_len(n) - 1];
    assert_eq!(
        chol.update(&x, &mut short),
        Err(Error::WorkspaceTooSmall { needed: 4, got: 3 })
    );
    let mut short = vec![0.0; cholesky_downdate_workspace_len(n) - 1];
    assert_eq!(
        chol.downdate(&x, &mut short),
        Err(Error::WorkspaceTooSmall { needed: 8, got: 7 })
    );
    // non-finite
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut y = x;
        y[2] = bad;
        for op in [Op::Update, Op::Downdate] {
            assert_eq!(
                op.run(&mut chol, &y, &mut ws),
                Err(Error::NonFinite {
                    argument: "x",
                    row: 2,
                    col: 0
                })
            );
        }
    }
    // an update whose result overflows
    let huge = [0.0, f64::MAX * 0.75, 0.0, 0.0];
    assert!(matches!(
        chol.update(&huge, &mut ws),
        Err(Error::Overflow { .. })
    ));
    // a downdate of a huge vector
    assert_eq!(
        chol.downdate(&huge, &mut ws),
        Err(Error::DowndateFailed { index: 1 })
    );
    assert_eq!(bits(&l_snapshot(&chol)), before);
    // the factor still works
    chol.update(&x, &mut ws).unwrap();
}

#[test]
fn empty_and_one_by_one() {
    let mut a: [f64; 0] = [];
    let mut chol =
        cholesky_in_place(MatMut::from_row_major(&mut a, 0, 0).unwrap(), &mut []).unwrap();
    chol.update(&[], &mut []).unwrap();
    chol.downdate(&[], &mut []).unwrap();

    let mut a = [9.0f32];
    let mut ws = [0.0f32; 2];
    let mut chol =
        cholesky_in_place(MatMut::from_row_major(&mut a, 1, 1).unwrap(), &mut ws).unwrap();
    chol.update(&[4.0], &mut ws).unwrap(); // 9 + 16 = 25
    // a few ulps: the library's square root (and Miri's, which perturbs it)
    let ulps = 32.0 * f32::EPSILON;
    assert!((chol.l().get(0, 0).unwrap() - 5.0).abs() <= 5.0 * ulps);
    chol.downdate(&[3.0], &mut ws).unwrap(); // 25 - 9 = 16
    assert!((chol.l().get(0, 0).unwrap() - 4.0).abs() <= 4.0 * ulps);
    assert_eq!(
        chol.downdate(&[4.0], &mut ws),
        Err(Error::DowndateFailed { index: 0 })
    );
    assert_eq!(
        chol.downdate(&[-5.0], &mut ws),
        Err(Error::DowndateFailed { index: 0 })
    );
}

#[test]
fn workspace_lengths() {
    assert_eq!(cholesky_update_workspace_len(7), 7);
    assert_eq!(cholesky_downdate_workspace_len(7), 14);
    assert_eq!(cholesky_downdate_workspace_len(usize::MAX), usize::MAX);
}

#[derive(Clone, Copy)]
enum Op {
    Update,
    Downdate,
}

impl Op {
    fn run(self, c: &mut CholeskyMut<'_, f64>, x: &[f64], ws: &mut [f64]) -> Result<(), Error> {
        match self {
            Op::Update => c.update(x, ws),
            Op::Downdate => c.downdate(x, ws),
        }
    }
}
