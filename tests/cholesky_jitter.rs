//! Factor with jitter: RBF kernels, the shift schedule, exact restore on
//! failure, every invalid parameter.
mod common;

use common::{Dense, Rng, order_and_seed, random_spd, rbf_grid};
use gramkit::cholesky::{
    JitterOptions, cholesky_in_place, cholesky_in_place_workspace_len, cholesky_jitter_in_place,
    cholesky_jitter_in_place_workspace_len,
};
use gramkit::{Error, MatMut, Real};
use proptest::prelude::*;

fn bits<T: Real>(d: &[T]) -> Vec<u64> {
    d.iter().map(|v| v.as_f64().to_bits()).collect()
}

/// Runs the jitter factorization on a copy of `a`: the storage afterwards
/// and the result (jitter on success).
fn run<T: Real>(a: &Dense<T>, opts: JitterOptions<T>) -> (Dense<T>, Result<T, Error>) {
    let mut l = a.clone();
    let mut ws = vec![T::zero(); cholesky_jitter_in_place_workspace_len(a.n)];
    let r = cholesky_jitter_in_place(l.view_mut(), opts, &mut ws).map(|(_, s)| s);
    (l, r)
}

fn mean_diag<T: Real>(a: &Dense<T>) -> f64 {
    (0..a.n).map(|i| a.at(i, i).as_f64()).sum::<f64>() / a.n as f64
}

/// On success: `L L^T = A + s I` to rounding and the upper triangle holds
/// the input's lower triangle; on failure: the lower triangle (diagonal
/// included) restored bit for bit and the upper triangle its mirror.
fn check_outcome<T: Real>(a: &Dense<T>, l: &Dense<T>, r: Result<T, Error>) {
    let n = a.n;
    for i in 0..n {
        for j in i + 1..n {
            assert_eq!(l.at(i, j).as_f64().to_bits(), a.at(j, i).as_f64().to_bits());
        }
    }
    match r {
        Ok(s) => {
            let shifted = Dense::from_fn(
                n,
                n,
                |i, j| {
                    if i == j { a.at(i, i) + s } else { a.at(i, j) }
                },
            );
            let llt = l.lower().matmul(&l.lower().transpose());
            let tol = 8.0 * (n as f64 + 1.0) * T::EPS.as_f64() * shifted.max_abs();
            assert!(
                llt.max_diff(&shifted) <= tol,
                "{} > {tol}",
                llt.max_diff(&shifted)
            );
        }
        Err(Error::NotPositiveDefinite { .. }) => {
            assert_eq!(bits(&l.lower().data), bits(&a.lower().data), "not restored");
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

#[test]
fn rbf_15_factors_without_jitter_in_f64() {
    let a = rbf_grid::<f64>(15, 0.0, 4.0, 1.0, 1.0);
    let (l, r) = run(&a, JitterOptions::default());
    assert_eq!(r, Ok(0.0), "the 15-point RBF grid needs no jitter in f64");
    check_outcome(&a, &l, r);
}

#[test]
fn rbf_15_in_f32_needs_the_first_shift() {
    let a = rbf_grid::<f32>(15, 0.0, 4.0, 1.0, 1.0);
    let (l, r) = run(&a, JitterOptions::default());
    let s = r.expect("factors with a small jitter");
    assert!(s > 0.0 && s <= 1e-4, "jitter {s}");
    check_outcome(&a, &l, r);
}

#[test]
fn rbf_60_factors_with_a_reported_jitter_or_fails_cleanly() {
    let a = rbf_grid::<f64>(60, 0.0, 4.0, 1.0, 1.0);
    // Plain Cholesky fails on this grid.
    let mut plain = a.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(60)];
    assert!(cholesky_in_place(plain.view_mut(), &mut ws).is_err());
    let (l, r) = run(&a, JitterOptions::default());
    match r {
        Ok(s) => {
            assert!(s > 0.0 && s <= 1e-2 * mean_diag(&a), "jitter {s}");
            println!("rbf_grid(60) factors with jitter {s:e}");
        }
        Err(ref e) => println!("rbf_grid(60) fails: {e:?}"),
    }
    check_outcome(&a, &l, r);
    // With a cap below the needed shift it fails, restored.
    let opts = JitterOptions {
        initial: 1e-17,
        growth: 2.0,
        max: 1e-16,
    };
    let (l, r) = run(&a, opts);
    assert!(matches!(r, Err(Error::NotPositiveDefinite { .. })), "{r:?}");
    check_outcome(&a, &l, r);
}

#[test]
fn spd_needs_no_jitter_and_matches_plain_cholesky() {
    let a = random_spd::<f64>(20, 1.0, &mut Rng(1));
    let (l, r) = run(&a, JitterOptions::default());
    assert_eq!(r, Ok(0.0));
    let mut plain = a.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(20)];
    cholesky_in_place(plain.view_mut(), &mut ws).unwrap();
    assert_eq!(bits(&l.data), bits(&plain.data));
}

/// A diagonal matrix with one entry `-delta`: the shift returned is the
/// first of the schedule that makes it positive.
#[test]
fn returns_first_sufficient_shift_of_schedule() {
    for &delta in &[1e-13f64, 1e-9, 1e-6, 3e-4] {
        let n = 3;
        let a = Dense::from_fn(n, n, |i, j| match (i, j) {
            (2, 2) => -delta,
            (i, j) if i == j => 1.0,
            _ => 0.0,
        });
        let opts = JitterOptions::<f64>::default();
        let mean = a
            .data
            .iter()
            .step_by(n + 1)
            .map(|d| d / n as f64)
            .sum::<f64>();
        let mut want = opts.initial * mean;
        while -delta + want <= 0.0 {
            want *= opts.growth;
        }
        let (l, r) = run(&a, opts);
        assert_eq!(r, Ok(want), "delta {delta}");
        check_outcome(&a, &l, r);
    }
}

#[test]
fn singular_matrix_gets_the_initial_shift() {
    let a = Dense::from_fn(2, 2, |_, _| 1.0f64);
    let opts = JitterOptions::default();
    let (l, r) = run(&a, opts);
    assert_eq!(r, Ok(opts.initial));
    check_outcome(&a, &l, r);
}

#[test]
fn indefinite_fails_with_input_restored() {
    // Eigenvalues 3 and -1: no shift up to 1% of the mean diagonal helps.
    let a = Dense::from_fn(2, 2, |i, j| if i == j { 1.0f64 } else { 2.0 });
    let (l, r) = run(&a, JitterOptions::default());
    assert_eq!(r, Err(Error::NotPositiveDefinite { pivot: 1 }));
    check_outcome(&a, &l, r);
    // Negative diagonal entry in f32 with a large mean: fails at pivot 0.
    let b = Dense::from_fn(3, 3, |i, j| match (i, j) {
        (0, 0) => -0.5f32,
        (i, j) if i == j => 10.0,
        _ => 0.25,
    });
    let mut l = b.clone();
    // Garbage in the upper triangle is replaced by the mirror.
    *l.data.get_mut(2).unwrap() = f32::NAN;
    let mut ws = vec![0.0; cholesky_jitter_in_place_workspace_len(3)];
    let r =
        cholesky_jitter_in_place(l.view_mut(), JitterOptions::default(), &mut ws).map(|(_, s)| s);
    assert_eq!(r, Err(Error::NotPositiveDefinite { pivot: 0 }));
    check_outcome(&b, &l, r);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random symmetric matrices (often indefinite) shifted so that some
    /// need jitter: success means `L L^T = A + s I`, failure a restored
    /// input.
    #[test]
    fn random_outcomes_are_consistent_f64((n, seed) in order_and_seed(16), lift in -3.0f64..1.0) {
        let mut rng = Rng(seed);
        let b = random_spd::<f64>(n, 0.0, &mut rng);
        let a = Dense::from_fn(n, n, |i, j| b.at(i, j) + if i == j { lift * 1e-3 } else { 0.0 });
        let (l, r) = run(&a, JitterOptions::default());
        if n > 0 && mean_diag(&a) <= 0.0 {
            prop_assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{:?}", r);
        } else {
            check_outcome(&a, &l, r);
        }
    }

    #[test]
    fn rank_deficient_gram_f32((n, seed) in order_and_seed(16)) {
        // B B^T with B n x (n / 2): singular, needs jitter for n >= 2.
        let mut rng = Rng(seed);
        let k = n / 2;
        let bm = Dense::<f64>::from_fn(n, k, |_, _| rng.uniform());
        let g = bm.matmul(&bm.transpose());
        let a = Dense::from_fn(n, n, |i, j| g.at(i, j) as f32);
        let (l, r) = run(&a, JitterOptions::default());
        if n > 0 && mean_diag(&a) <= 0.0 {
            prop_assert!(matches!(r, Err(Error::InvalidParameter { name: "A", .. })), "{:?}", r);
        } else {
            check_outcome(&a, &l, r);
        }
    }
}

#[test]
fn invalid_parameters() {
    let a = random_spd::<f64>(3, 1.0, &mut Rng(2));
    let d = JitterOptions::<f64>::default();
    let cases = [
        (JitterOptions { initial: 0.0, ..d }, "initial"),
        (
            JitterOptions {
                initial: -1e-10,
                ..d
            },
            "initial",
        ),
        (
            JitterOptions {
                initial: f64::NAN,
                ..d
            },
            "jitter options",
        ),
        (
            JitterOptions {
                initial: f64::INFINITY,
                ..d
            },
            "jitter options",
        ),
        (JitterOptions { growth: 1.0, ..d }, "growth"),
        (JitterOptions { growth: 0.5, ..d }, "growth"),
        (
            JitterOptions {
                growth: f64::NAN,
                ..d
            },
            "jitter options",
        ),
        (
            JitterOptions {
                growth: f64::INFINITY,
                ..d
            },
            "jitter options",
        ),
        (JitterOptions { max: 1e-20, ..d }, "max"),
        (JitterOptions { max: f64::NAN, ..d }, "jitter options"),
        (
            JitterOptions {
                max: f64::INFINITY,
                ..d
            },
            "jitter options",
        ),
        // More than 64 shifts from initial to max.
        (JitterOptions { growth: 1.01, ..d }, "growth"),
    ];
    for (opts, name) in cases {
        let (l, r) = run(&a, opts);
        assert!(
            matches!(r, Err(Error::InvalidParameter { name: got, .. }) if got == name),
            "{opts:?}: {r:?}"
        );
        assert_eq!(bits(&l.data), bits(&a.data), "nothing written");
    }
    // initial == max is a schedule of one shift.
    let one = JitterOptions {
        initial: 1e-3,
        growth: 2.0,
        max: 1e-3,
    };
    let (_, r) = run(&Dense::from_fn(2, 2, |_, _| 1.0f64), one);
    assert_eq!(r, Ok(1e-3));
    // Mean diagonal not positive.
    for diag in [0.0, -1.0] {
        let z = Dense::from_fn(2, 2, |i, j| if i == j { diag } else { 0.0f64 });
        let (l, r) = run(&z, d);
        assert!(
            matches!(r, Err(Error::InvalidParameter { name: "A", .. })),
            "{r:?}"
        );
        assert_eq!(bits(&l.data), bits(&z.data));
    }
}

#[test]
fn other_errors() {
    let d = JitterOptions::<f64>::default();
    // not square
    let mut data = [1.0; 6];
    let mut ws = vec![0.0; 100];
    let r = cholesky_jitter_in_place(MatMut::from_row_major(&mut data, 2, 3).unwrap(), d, &mut ws);
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })));
    // workspace
    let a = random_spd::<f64>(4, 1.0, &mut Rng(3));
    let mut l = a.clone();
    let need = cholesky_jitter_in_place_workspace_len(4);
    let mut ws = vec![0.0; need - 1];
    let r = cholesky_jitter_in_place(l.view_mut(), d, &mut ws);
    assert_eq!(
        r.err(),
        Some(Error::WorkspaceTooSmall {
            needed: need,
            got: need - 1
        })
    );
    // non-finite, reported before the options are looked at
    let mut l = a.clone();
    *l.data.get_mut(2 * 4 + 1).unwrap() = f64::NAN;
    let mut ws = vec![0.0; need];
    let bad = JitterOptions { initial: -1.0, ..d };
    let r = cholesky_jitter_in_place(l.view_mut(), bad, &mut ws);
    assert_eq!(
        r.err(),
        Some(Error::NonFinite {
            argument: "A",
            row: 2,
            col: 1
        })
    );
    // empty
    let mut e: [f64; 0] = [];
    let (chol, s) =
        cholesky_jitter_in_place(MatMut::from_row_major(&mut e, 0, 0).unwrap(), d, &mut [])
            .unwrap();
    assert_eq!((chol.dim(), s), (0, 0.0));
}

#[test]
fn defaults() {
    let d = JitterOptions::<f64>::default();
    assert_eq!(
        (d.initial, d.growth, d.max),
        (10.0 * f64::EPSILON, 10.0, 1e-2)
    );
    let f = JitterOptions::<f32>::default();
    assert_eq!(
        (f.initial, f.growth, f.max),
        (10.0 * f32::EPSILON, 10.0, 1e-2)
    );
    assert_eq!(
        cholesky_jitter_in_place_workspace_len(10),
        10 + cholesky_in_place_workspace_len(10)
    );
}
