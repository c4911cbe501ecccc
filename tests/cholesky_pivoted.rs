//! Pivoted Cholesky: exact reproduction at full rank, rank detection of
//! rank-deficient PSD matrices, the reported residual trace, both stopping
//! rules, source agreement, output layout, every error.
mod common;

use common::{Dense, Rng, random_spd, rbf_grid};
use gramkit::cholesky::{
    FnSource, PivotedCholesky, PivotedOptions, SymmetricSource, pivoted_cholesky,
    pivoted_cholesky_workspace_len,
};
use gramkit::{Error, MatMut, MatRef, Real};
use proptest::prelude::*;
use std::cell::Cell;

struct Out<T> {
    res: PivotedCholesky<T>,
    perm: Vec<usize>,
    /// `n x max_rank`, row-major.
    g: Dense<T>,
}

/// Runs the routine on `src` with `G` prefilled with NaN (so every entry
/// must be written).
fn run<T: Real, S: SymmetricSource<T> + ?Sized>(
    src: &S,
    n: usize,
    max_rank: usize,
    tolerance: T,
) -> Result<Out<T>, Error> {
    let mut perm = vec![usize::MAX; n];
    let mut g = Dense::from_fn(n, max_rank, |_, _| T::nan());
    let mut ws = vec![T::zero(); pivoted_cholesky_workspace_len(n)];
    let opts = PivotedOptions {
        max_rank,
        tolerance,
    };
    let res = pivoted_cholesky(src, opts, &mut perm, g.view_mut(), &mut ws)?;
    Ok(Out { res, perm, g })
}

/// `A - G G^T` accumulated in f64.
fn residual<T: Real>(a: &Dense<T>, g: &Dense<T>) -> Dense<f64> {
    let ggt = g.matmul(&g.transpose());
    Dense::from_fn(a.n, a.n, |i, j| a.at(i, j).as_f64() - ggt.at(i, j).as_f64())
}

fn trace(a: &Dense<f64>) -> f64 {
    (0..a.n).map(|i| a.at(i, i)).sum()
}

/// Structural checks every successful run must pass: `perm` a permutation
/// whose first `rank` entries pick the largest residual diagonal, `G` lower
/// trapezoidal in pivot order with zero columns from `rank` on and a
/// positive pivot entry, and `residual_trace` the true trace of `A - G G^T`.
fn check_structure<T: Real>(a: &Dense<T>, out: &Out<T>) {
    let n = a.n;
    let rank = out.res.rank;
    let mut seen = out.perm.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>(), "perm is a permutation");
    assert!(rank <= out.g.m.min(n));
    for i in 0..n {
        for k in 0..out.g.m {
            let v = out.g.at(i, k);
            assert!(v.is_finite(), "G({i},{k}) = {v:?}");
            if k >= rank {
                assert_eq!(v, T::zero(), "column {k} >= rank {rank} must be zero");
            }
        }
    }
    for (pos, &p) in out.perm.iter().enumerate().take(rank) {
        assert!(out.g.at(p, pos) > T::zero(), "pivot entry positive");
        for k in pos + 1..rank {
            assert_eq!(
                out.g.at(p, k),
                T::zero(),
                "lower trapezoidal in pivot order"
            );
        }
    }
    // The first pivot is the largest diagonal entry.
    if rank > 0 {
        let dmax = (0..n).map(|i| a.at(i, i)).fold(T::neg_infinity(), T::max);
        assert_eq!(a.at(out.perm[0], out.perm[0]), dmax);
    }
    let r = residual(a, &out.g);
    let want = trace(&r);
    let tr = (0..n).map(|i| a.at(i, i).as_f64().abs()).sum::<f64>();
    let tol = 16.0 * (rank as f64 + 2.0) * T::EPS.as_f64() * tr;
    assert!(
        (out.res.residual_trace.as_f64() - want).abs() <= tol,
        "residual_trace {} vs true {want} (tol {tol})",
        out.res.residual_trace
    );
}

/// Full rank, zero tolerance: a well-conditioned SPD `A` is reproduced.
fn check_reproduces<T: Real>(n: usize, seed: u64) {
    let a = random_spd::<T>(n, 1.0, &mut Rng(seed));
    let out = run(&a.view(), n, n, T::zero()).unwrap();
    assert_eq!(out.res.rank, n);
    check_structure(&a, &out);
    let err = residual(&a, &out.g).max_abs();
    let tol = 32.0 * (n as f64 + 1.0) * T::EPS.as_f64() * a.max_abs();
    assert!(err <= tol, "|A - G G^T| = {err} > {tol}");
}

/// `A = B B^T` with `B` `n x r` of full column rank (a dominant diagonal
/// block keeps `sigma_min(B) >= 1`), scaled by `scale`.
fn low_rank<T: Real>(n: usize, r: usize, scale: f64, rng: &mut Rng) -> Dense<T> {
    let b = Dense::<f64>::from_fn(n, r, |i, j| {
        rng.uniform() + if i == j { r as f64 + 1.0 } else { 0.0 }
    });
    let g = b.matmul(&b.transpose());
    Dense::from_fn(n, n, |i, j| T::from_f64(scale * g.at(i, j)))
}

/// The rank of `B B^T` is found to be `r`, and `G G^T` reproduces it.
fn check_rank<T: Real>(n: usize, r: usize, seed: u64) {
    let mut rng = Rng(seed);
    let scale = 10f64.powf(3.0 * rng.uniform());
    let a = low_rank::<T>(n, r, scale, &mut rng);
    let out = run(&a.view(), n, n, T::zero()).unwrap();
    assert_eq!(out.res.rank, r, "n={n} scale={scale}");
    check_structure(&a, &out);
    let err = residual(&a, &out.g).max_abs();
    let tol = 64.0 * (r as f64 + 1.0) * T::EPS.as_f64() * a.max_abs();
    assert!(err <= tol, "|A - G G^T| = {err} > {tol}");
}

fn n_and_r() -> impl Strategy<Value = (usize, usize)> {
    (1usize..=30).prop_flat_map(|n| (Just(n), 0..=n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn full_rank_reproduces_a_f64(n in 0usize..=24, seed in any::<u64>()) {
        check_reproduces::<f64>(n, seed);
    }

    #[test]
    fn full_rank_reproduces_a_f32(n in 0usize..=24, seed in any::<u64>()) {
        check_reproduces::<f32>(n, seed);
    }

    #[test]
    fn finds_rank_of_low_rank_f64((n, r) in n_and_r(), seed in any::<u64>()) {
        check_rank::<f64>(n, r, seed);
    }

    #[test]
    fn finds_rank_of_low_rank_f32((n, r) in n_and_r(), seed in any::<u64>()) {
        check_rank::<f32>(n, r, seed);
    }

    /// Partial factor: `residual_trace` is the trace of `A - G G^T`, and it
    /// does not increase with `max_rank`.
    #[test]
    fn residual_trace_is_true_trace((n, m) in (0usize..=20).prop_flat_map(|n| (Just(n), 0..=n)), seed in any::<u64>()) {
        let a = random_spd::<f64>(n, 0.0, &mut Rng(seed));
        let out = run(&a.view(), n, m, 0.0).unwrap();
        prop_assert_eq!(out.res.rank, m);
        check_structure(&a, &out);
        if m < n {
            let more = run(&a.view(), n, m + 1, 0.0).unwrap();
            prop_assert!(more.res.residual_trace <= out.res.residual_trace);
            // Same pivots as far as the shorter run went.
            prop_assert_eq!(&more.perm[..m], &out.perm[..m]);
        }
    }

    /// FnSource and the MatRef source give identical results.
    #[test]
    fn fn_source_matches_view((n, m) in (0usize..=20).prop_flat_map(|n| (Just(n), 0..=n)), seed in any::<u64>(), tol in 0.0f64..0.2) {
        let a = random_spd::<f64>(n, 0.0, &mut Rng(seed));
        let f = FnSource::new(n, |i: usize, j: usize| a.at(i, j));
        let x = run(&f, n, m, tol).unwrap();
        let y = run(&a.view(), n, m, tol).unwrap();
        prop_assert_eq!(x.res, y.res);
        prop_assert_eq!(x.perm, y.perm);
        prop_assert_eq!(x.g.data, y.g.data);
    }
}

/// Exactly rank-deficient kernels: `(1 + x_i x_j)^d` has rank `d + 1`.
#[test]
fn polynomial_kernel_rank() {
    let n = 40;
    let x: Vec<f64> = (0..n)
        .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
        .collect();
    for d in 1..=4 {
        let k = |i: usize, j: usize| (1.0 + x[i] * x[j]).powi(d as i32);
        let out = run(&FnSource::new(n, k), n, n, 0.0).unwrap();
        assert_eq!(out.res.rank, d + 1, "f64 degree {d}");
        let a = Dense::from_fn(n, n, k);
        check_structure(&a, &out);
    }
    for d in 1..=3 {
        let k = |i: usize, j: usize| (1.0 + x[i] as f32 * x[j] as f32).powi(d as i32);
        let out = run(&FnSource::new(n, k), n, n, 0.0f32).unwrap();
        assert_eq!(out.res.rank, d + 1, "f32 degree {d}");
    }
}

/// Stopping by tolerance on an RBF kernel: the residual trace is below
/// `tolerance * trace(A)` and one pivot fewer would not be.
#[test]
fn stops_by_tolerance() {
    let n = 60;
    let a = rbf_grid::<f64>(n, 0.0, 4.0, 1.0, 1.0);
    let tr = n as f64;
    for tol in [1e-1, 1e-3, 1e-6, 1e-10] {
        let out = run(&a.view(), n, n, tol).unwrap();
        let rank = out.res.rank;
        assert!(rank > 0 && rank < n, "tol {tol}: rank {rank}");
        assert!(out.res.residual_trace <= tol * tr);
        check_structure(&a, &out);
        let fewer = run(&a.view(), n, rank - 1, 0.0).unwrap();
        assert!(
            fewer.res.residual_trace > tol * tr,
            "rank {rank} is not minimal"
        );
    }
    // tolerance 1 stops before the first pivot
    let out = run(&a.view(), n, n, 1.0).unwrap();
    assert_eq!(
        out.res,
        PivotedCholesky {
            rank: 0,
            residual_trace: tr
        }
    );
    assert!(out.g.data.iter().all(|&v| v == 0.0));
}

/// Stopping by `max_rank` before the numerical rank is reached.
#[test]
fn stops_by_max_rank() {
    let n = 25;
    let a = random_spd::<f32>(n, 1.0, &mut Rng(9));
    for m in [0, 1, 5, 24, 25] {
        let out = run(&a.view(), n, m, 0.0).unwrap();
        assert_eq!(out.res.rank, m);
        check_structure(&a, &out);
    }
    // An RBF kernel with a numerical rank well below n.
    let k = rbf_grid::<f64>(80, 0.0, 4.0, 1.0, 1.0);
    let full = run(&k.view(), 80, 80, 0.0).unwrap();
    assert!(full.res.rank < 40, "numerical rank {}", full.res.rank);
    let part = run(&k.view(), 80, 10, 0.0).unwrap();
    assert_eq!(part.res.rank, 10);
    assert_eq!(&part.perm[..10], &full.perm[..10]);
}

/// The numerical rank of an RBF kernel is trustworthy: the pivots taken
/// reproduce `A` to near machine precision and are not followed by noise.
#[test]
fn rbf_numerical_rank() {
    for (n, ls) in [(50usize, 1.0f64), (100, 0.5), (200, 2.0)] {
        let a = rbf_grid::<f64>(n, 0.0, 4.0, ls, 1.0);
        let out = run(&a.view(), n, n, 0.0).unwrap();
        let rank = out.res.rank;
        assert!(rank < n, "n {n}: rank {rank}");
        let err = residual(&a, &out.g).max_abs();
        assert!(
            err <= 16.0 * (rank as f64 + 1.0) * f64::EPSILON,
            "n {n}: err {err}"
        );
        check_structure(&a, &out);
        // Every column of G is above the noise level sqrt(eps).
        for (k, &p) in out.perm.iter().enumerate().take(rank) {
            assert!(out.g.at(p, k) > 1e-8, "pivot {k}: {}", out.g.at(p, k));
        }
    }
}

/// `G` in column-major storage holds the same values.
#[test]
fn column_major_g() {
    let n = 12;
    let a = random_spd::<f64>(n, 0.5, &mut Rng(4));
    let want = run(&a.view(), n, 6, 0.0).unwrap();
    let mut g = vec![f64::NAN; n * 6];
    let mut perm = vec![0; n];
    let mut ws = vec![0.0; n];
    let opts = PivotedOptions {
        max_rank: 6,
        tolerance: 0.0,
    };
    let res = pivoted_cholesky(
        &a.view(),
        opts,
        &mut perm,
        MatMut::from_col_major(&mut g, n, 6).unwrap(),
        &mut ws,
    )
    .unwrap();
    assert_eq!(res, want.res);
    assert_eq!(perm, want.perm);
    for i in 0..n {
        for k in 0..6 {
            assert_eq!(g[k * n + i], want.g.at(i, k));
        }
    }
}

/// Only the lower triangle of a view is read; a closure is called about
/// `n + n rank` times and only inside the matrix.
#[test]
fn entry_access() {
    let n = 10;
    let a = random_spd::<f64>(n, 1.0, &mut Rng(6));
    let mut junk = a.clone();
    for i in 0..n {
        for j in i + 1..n {
            *junk.data.get_mut(i * n + j).unwrap() = f64::NAN;
        }
    }
    let x = run(&junk.view(), n, 4, 0.0).unwrap();
    let y = run(&a.view(), n, 4, 0.0).unwrap();
    assert_eq!(x.g.data, y.g.data);

    let calls = Cell::new(0usize);
    let f = FnSource::new(n, |i: usize, j: usize| {
        assert!(i < n && j < n);
        calls.set(calls.get() + 1);
        a.at(i, j)
    });
    let z = run(&f, n, 4, 0.0).unwrap();
    assert_eq!(z.g.data, y.g.data);
    assert!(
        calls.get() <= n + 4 * n,
        "{} entry evaluations",
        calls.get()
    );

    // MatRef::entry outside the view reads NaN instead of panicking.
    assert!(a.view().entry(n, 0).is_nan());
    assert_eq!(a.view().entry(0, 3), a.at(3, 0));
}

#[test]
fn small_and_degenerate() {
    // n = 0
    let out = run(&FnSource::new(0, |_: usize, _: usize| 1.0f64), 0, 0, 0.0).unwrap();
    assert_eq!(
        out.res,
        PivotedCholesky {
            rank: 0,
            residual_trace: 0.0
        }
    );
    // n = 1
    let a = Dense::from_fn(1, 1, |_, _| 4.0f32);
    let out = run(&a.view(), 1, 1, 0.0).unwrap();
    assert_eq!(
        out.res,
        PivotedCholesky {
            rank: 1,
            residual_trace: 0.0
        }
    );
    assert_eq!(out.g.data, vec![2.0]);
    // zero matrix: rank 0
    let z = Dense::<f64>::zeros(5, 5);
    let out = run(&z.view(), 5, 5, 0.0).unwrap();
    assert_eq!(
        out.res,
        PivotedCholesky {
            rank: 0,
            residual_trace: 0.0
        }
    );
    assert_eq!(out.perm, vec![0, 1, 2, 3, 4]);
    // max_rank larger than n
    let a = random_spd::<f64>(3, 1.0, &mut Rng(1));
    let out = run(&a.view(), 3, 5, 0.0).unwrap();
    assert_eq!(out.res.rank, 3);
    check_structure(&a, &out);
    // a negative diagonal entry counts as zero residual
    let d = Dense::from_fn(2, 2, |i, j| {
        if i != j {
            0.0
        } else if i == 0 {
            -1.0
        } else {
            2.0f64
        }
    });
    let out = run(&d.view(), 2, 2, 0.0).unwrap();
    assert_eq!(
        out.res,
        PivotedCholesky {
            rank: 1,
            residual_trace: 0.0
        }
    );
    assert_eq!(out.perm, vec![1, 0]);
}

#[test]
fn errors() {
    let n = 4;
    let a = random_spd::<f64>(n, 1.0, &mut Rng(2));
    let v = a.view();
    let opts = PivotedOptions {
        max_rank: 2,
        tolerance: 0.0,
    };
    let mut perm = vec![0; n];
    let mut g = vec![0.0; n * 2];
    let mut ws = vec![0.0; n];

    // not square
    let rect = MatRef::from_row_major(&a.data[..12], 3, 4).unwrap();
    let r = pivoted_cholesky(&rect, opts, &mut perm[..3], gv(&mut g[..6], 3, 2), &mut ws);
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
    // perm length
    let r = pivoted_cholesky(&v, opts, &mut perm[..3], gv(&mut g, 4, 2), &mut ws);
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
    // G rows, G columns
    let r = pivoted_cholesky(&v, opts, &mut perm, gv(&mut g, 2, 4), &mut ws);
    assert!(
        matches!(
            r,
            Err(Error::DimensionMismatch {
                expected: 4,
                got: 2,
                ..
            })
        ),
        "{r:?}"
    );
    let r = pivoted_cholesky(&v, opts, &mut perm, gv(&mut g, 8, 1), &mut ws);
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
    let mut g3 = vec![0.0; n * 3];
    let r = pivoted_cholesky(&v, opts, &mut perm, gv(&mut g3, 4, 3), &mut ws);
    assert!(
        matches!(
            r,
            Err(Error::DimensionMismatch {
                expected: 2,
                got: 3,
                ..
            })
        ),
        "{r:?}"
    );
    // tolerance
    for t in [-1e-3, f64::NAN, f64::INFINITY] {
        let bad = PivotedOptions {
            tolerance: t,
            ..opts
        };
        let r = pivoted_cholesky(&v, bad, &mut perm, gv(&mut g, 4, 2), &mut ws);
        assert!(
            matches!(
                r,
                Err(Error::InvalidParameter {
                    name: "tolerance",
                    ..
                })
            ),
            "{r:?}"
        );
    }
    // workspace
    let r = pivoted_cholesky(&v, opts, &mut perm, gv(&mut g, 4, 2), &mut ws[..3]);
    assert_eq!(r, Err(Error::WorkspaceTooSmall { needed: 4, got: 3 }));
    // non-finite diagonal, checked before anything is written
    let mut bad = a.clone();
    *bad.data.get_mut(2 * n + 2).unwrap() = f64::INFINITY;
    let mut g_before = vec![7.0; n * 2];
    let r = pivoted_cholesky(
        &bad.view(),
        opts,
        &mut perm,
        gv(&mut g_before, 4, 2),
        &mut ws,
    );
    assert_eq!(
        r,
        Err(Error::NonFinite {
            argument: "A",
            row: 2,
            col: 2
        })
    );
    assert!(g_before.iter().all(|&x| x == 7.0));
    // non-finite off-diagonal entry met during the factorization
    let mut bad = a.clone();
    let p0 = (0..n)
        .max_by(|&i, &j| a.at(i, i).total_cmp(&a.at(j, j)))
        .unwrap();
    let other = if p0 == 0 { 1 } else { 0 };
    *bad.data.get_mut(p0.max(other) * n + p0.min(other)).unwrap() = f64::NAN;
    let r = pivoted_cholesky(&bad.view(), opts, &mut perm, gv(&mut g, 4, 2), &mut ws);
    assert_eq!(
        r,
        Err(Error::NonFinite {
            argument: "A",
            row: other,
            col: p0
        })
    );
    let f = FnSource::new(
        n,
        |i: usize, j: usize| if i + j == 5 { f64::NAN } else { a.at(i, j) },
    );
    let r = run(&f, n, n, 0.0);
    assert!(matches!(r, Err(Error::NonFinite { argument: "A", .. })));
    // far from PSD: an entry of G overflows
    let wild = FnSource::new(2, |i: usize, j: usize| if i == j { 1e-200 } else { 1e300 });
    assert_eq!(
        run(&wild, 2, 2, 0.0).err(),
        Some(Error::NotPositiveDefinite { pivot: 1 })
    );
    // a residual trace above MAX: Overflow, not an infinity; at a rank that
    // leaves a small residual the same matrix is fine
    let huge = FnSource::new(
        3,
        |i: usize, j: usize| if i == j { 0.9 * f64::MAX } else { 0.0 },
    );
    assert_eq!(
        run(&huge, 3, 1, 0.0).err(),
        Some(Error::Overflow {
            what: "residual trace"
        })
    );
    let out = run(&huge, 3, 2, 0.0).unwrap();
    assert_eq!(out.res.residual_trace, 0.9 * f64::MAX);
}

fn gv(g: &mut [f64], r: usize, c: usize) -> MatMut<'_, f64> {
    MatMut::from_row_major(g, r, c).unwrap()
}

#[test]
fn workspace_length() {
    assert_eq!(pivoted_cholesky_workspace_len(17), 17);
}
