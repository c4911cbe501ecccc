//! The Nystroem-Woodbury inverse against dense computations of its
//! definition, as a preconditioner, and its error paths.
mod common;

use common::{Dense, Rng, dense_logdet_spd, dense_solve};
use gramkit::cholesky::FnSource;
use gramkit::nystrom::{NystromInverse, nystrom_storage_len, nystrom_workspace_len};
use gramkit::op::{
    CgOptions, LinearOperator, LogDet, Solve, conjugate_gradient, conjugate_gradient_workspace_len,
};
use gramkit::{Error, Real};

fn points(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng(seed);
    (0..n).map(|_| 5.0 * rng.uniform()).collect()
}

fn rbf(x: &[f64]) -> Dense<f64> {
    Dense::from_fn(x.len(), x.len(), |i, j| {
        (-0.5 * (x[i] - x[j]).powi(2)).exp()
    })
}

/// `K~ = C W^{-1} C^T` by its definition (dense f64).
fn nystrom_dense(k: &Dense<f64>, s: &[usize]) -> Dense<f64> {
    let c = Dense::from_fn(k.n, s.len(), |i, j| k.at(i, s[j]));
    let w = Dense::from_fn(s.len(), s.len(), |a, b| k.at(s[a], s[b]));
    let cols: Vec<Vec<f64>> = (0..k.n)
        .map(|i| dense_solve(&w, &(0..s.len()).map(|j| c.at(i, j)).collect::<Vec<_>>()))
        .collect();
    Dense::from_fn(k.n, k.n, |i, j| {
        (0..s.len()).map(|a| c.at(j, a) * cols[i][a]).sum()
    })
}

fn build<'s>(
    k: &Dense<f64>,
    s: &[usize],
    lambda: f64,
    storage: &'s mut [f64],
) -> NystromInverse<'s, f64> {
    let mut ws = vec![0.0; nystrom_workspace_len(k.n, s.len())];
    NystromInverse::from_landmarks(&k.view(), s, lambda, storage, &mut ws).unwrap()
}

#[test]
fn all_landmarks_give_the_exact_inverse() {
    let x = points(40, 1);
    let k = rbf(&x);
    let all: Vec<usize> = (0..40).collect();
    let lambda = 0.1;
    let mut storage = vec![0.0; nystrom_storage_len(40, 40)];
    let inv = build(&k, &all, lambda, &mut storage);
    let b: Vec<f64> = points(40, 2);
    let mut y = b.clone();
    inv.solve_in_place(&mut y, &mut vec![0.0; inv.solve_workspace_len()])
        .unwrap();
    let kl = Dense::from_fn(40, 40, |i, j| {
        k.at(i, j) + if i == j { lambda } else { 0.0 }
    });
    let reference = dense_solve(&kl, &b);
    let err = y
        .iter()
        .zip(&reference)
        .map(|(a, r)| (a - r).abs())
        .fold(0.0, f64::max);
    // the 40-point RBF is numerically singular: W is factored with jitter
    assert!(
        err < 1e-6 * reference.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        "{err}, jitter {}",
        inv.jitter()
    );
}

#[test]
fn woodbury_inverse_matches_the_definition() {
    let x = points(60, 3);
    let k = rbf(&x);
    let s = [0, 7, 13, 22, 31, 40, 52, 59];
    let lambda = 0.05;
    let mut storage = vec![0.0; nystrom_storage_len(60, 8)];
    let inv = build(&k, &s, lambda, &mut storage);
    assert_eq!(inv.jitter(), 0.0);
    let kt = nystrom_dense(&k, &s);
    let ktl = Dense::from_fn(60, 60, |i, j| {
        kt.at(i, j) + if i == j { lambda } else { 0.0 }
    });
    let b: Vec<f64> = points(60, 4);
    // solve
    let mut y = b.clone();
    inv.solve_in_place(&mut y, &mut vec![0.0; inv.solve_workspace_len()])
        .unwrap();
    let reference = dense_solve(&ktl, &b);
    assert!(
        y.iter()
            .zip(&reference)
            .all(|(a, r)| (a - r).abs() < 1e-9 * (1.0 + r.abs()))
    );
    // product with K~ + lambda I
    let mut p = vec![0.0; 60];
    inv.apply(&b, &mut p, &mut vec![0.0; inv.apply_workspace_len()])
        .unwrap();
    let pr: Vec<f64> = (0..60)
        .map(|i| (0..60).map(|j| ktl.at(i, j) * b[j]).sum())
        .collect();
    assert!(
        p.iter()
            .zip(&pr)
            .all(|(a, r)| (a - r).abs() < 1e-10 * (1.0 + r.abs()))
    );
    // log det
    let ld = inv.log_det().unwrap();
    let reference = dense_logdet_spd(&ktl);
    assert!((ld - reference).abs() < 1e-9 * reference.abs());
    // block solve equals column solves
    let bb = Dense::from_fn(60, 3, |i, c| b[(i + 7 * c) % 60]);
    let mut block = bb.clone();
    inv.solve_block_in_place(
        block.view_mut(),
        &mut vec![0.0; inv.solve_block_workspace_len(3)],
    )
    .unwrap();
    for c in 0..3 {
        let mut col: Vec<f64> = (0..60).map(|i| bb.at(i, c)).collect();
        inv.solve_in_place(&mut col, &mut vec![0.0; inv.solve_workspace_len()])
            .unwrap();
        assert!((0..60).all(|i| (block.at(i, c) - col[i]).abs() < 1e-12 * (1.0 + col[i].abs())));
    }
}

#[test]
fn greedy_landmarks_from_a_closure() {
    let x = points(300, 5);
    let kernel = FnSource::new(300, |i: usize, j: usize| {
        (-0.5 * (x[i] - x[j]).powi(2)).exp()
    });
    let mut storage = vec![0.0; nystrom_storage_len(300, 30)];
    let mut ws = vec![0.0; nystrom_workspace_len(300, 30)];
    let mut pivots = vec![0; 300];
    let inv = NystromInverse::greedy(&kernel, 30, 1e-10, 0.01, &mut pivots, &mut storage, &mut ws)
        .unwrap();
    // the 300 points on [-5, 5] with lengthscale 1: numerical rank well below 30 at 1e-10
    assert!(inv.rank() <= 30 && inv.rank() >= 10, "rank {}", inv.rank());
    let landmarks = &pivots[..inv.rank()];
    let mut sorted = landmarks.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), inv.rank());
    // K~ = B B^T agrees with the definition on the chosen landmarks
    let k = rbf(&x);
    let kt = nystrom_dense(&k, landmarks);
    let b = inv.factor();
    for (i, j) in [(0, 0), (5, 200), (299, 17)] {
        let bbt: f64 = (0..inv.rank())
            .map(|a| b.get(i, a).unwrap() * b.get(j, a).unwrap())
            .sum();
        assert!((bbt - kt.at(i, j)).abs() < 1e-8);
    }
}

#[test]
fn preconditions_conjugate_gradients_on_the_exact_system() {
    let n = 400;
    let x = points(n, 9);
    let k = rbf(&x);
    let lambda = 1e-3;
    let kl = Dense::from_fn(n, n, |i, j| k.at(i, j) + if i == j { lambda } else { 0.0 });
    let b: Vec<f64> = points(n, 10);
    let opts = CgOptions {
        max_iterations: 5000,
        tolerance: 1e-8,
    };
    let mut xp = vec![0.0; n];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(n, 0, 0)];
    let plain = conjugate_gradient(&kl.view(), None, &b, &mut xp, opts, &mut ws).unwrap();
    let mut storage = vec![0.0; nystrom_storage_len(n, 40)];
    let mut nws = vec![0.0; nystrom_workspace_len(n, 40)];
    let mut pivots = vec![0; n];
    let pre = NystromInverse::greedy(
        &k.view(),
        40,
        0.0,
        lambda,
        &mut pivots,
        &mut storage,
        &mut nws,
    )
    .unwrap();
    let mut xq = vec![0.0; n];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(n, 0, pre.solve_workspace_len())];
    let with = conjugate_gradient(&kl.view(), Some(&pre), &b, &mut xq, opts, &mut ws).unwrap();
    eprintln!(
        "CG to 1e-8 on K + lambda I (n = {n}): {} iterations plain, {} with the Nystroem \
         preconditioner (m = 40)",
        plain.iterations, with.iterations
    );
    assert!(
        with.iterations * 5 < plain.iterations,
        "with {} without {}",
        with.iterations,
        plain.iterations
    );
    let err = xp
        .iter()
        .zip(&xq)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-4 * xp.iter().fold(0.0f64, |m, v| m.max(v.abs())));
}

#[test]
fn f32_inverse() {
    let x = points(50, 11);
    let k = Dense::<f32>::from_fn(50, 50, |i, j| (-0.5 * (x[i] - x[j]).powi(2)).exp() as f32);
    let s = [1, 9, 18, 27, 36, 45];
    let mut storage = vec![0.0f32; nystrom_storage_len(50, 6)];
    let mut ws = vec![0.0f32; nystrom_workspace_len(50, 6)];
    let inv = NystromInverse::from_landmarks(&k.view(), &s, 0.1f32, &mut storage, &mut ws).unwrap();
    let kd = Dense::from_fn(50, 50, |i, j| k.at(i, j).as_f64());
    let kt = nystrom_dense(&kd, &s);
    let ktl = Dense::from_fn(50, 50, |i, j| kt.at(i, j) + if i == j { 0.1 } else { 0.0 });
    let b: Vec<f32> = (0..50).map(|i| (i as f32 * 0.3).sin()).collect();
    let mut y = b.clone();
    inv.solve_in_place(&mut y, &mut [0.0; 6]).unwrap();
    let reference = dense_solve(&ktl, &b.iter().map(|v| v.as_f64()).collect::<Vec<_>>());
    assert!(
        y.iter()
            .zip(&reference)
            .all(|(a, r)| (a.as_f64() - r).abs() < 1e-3 * (1.0 + r.abs()))
    );
}

#[test]
fn error_paths() {
    let x = points(20, 12);
    let k = rbf(&x);
    let mut storage = vec![0.0; nystrom_storage_len(20, 3)];
    let mut ws = vec![0.0; nystrom_workspace_len(20, 3)];
    let view = k.view();
    let run = |s: &[usize], lambda: f64, storage: &mut [f64], ws: &mut [f64]| {
        NystromInverse::from_landmarks(&view, s, lambda, storage, ws).map(|i| i.rank())
    };
    assert!(matches!(
        run(&[1, 2, 2], 0.1, &mut storage, &mut ws),
        Err(Error::InvalidParameter {
            name: "landmarks",
            ..
        })
    ));
    assert!(matches!(
        run(&[1, 2, 20], 0.1, &mut storage, &mut ws),
        Err(Error::DimensionMismatch {
            expected: 20,
            got: 20,
            ..
        })
    ));
    assert!(matches!(
        run(&[], 0.1, &mut storage, &mut ws),
        Err(Error::InvalidParameter {
            name: "landmarks",
            ..
        })
    ));
    for lambda in [0.0, -1.0, f64::NAN] {
        assert!(matches!(
            run(&[1, 2, 3], lambda, &mut storage, &mut ws),
            Err(Error::InvalidParameter { name: "lambda", .. })
        ));
    }
    assert!(matches!(
        run(&[1, 2, 3], 0.1, &mut storage[..10], &mut ws),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    assert!(matches!(
        run(&[1, 2, 3], 0.1, &mut storage, &mut ws[..2]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut bad = k.clone();
    bad.data[5 * 20 + 2] = f64::NAN;
    bad.data[2 * 20 + 5] = f64::NAN;
    let r = NystromInverse::from_landmarks(&bad.view(), &[2, 9], 0.1, &mut storage, &mut ws)
        .map(|_| ());
    assert!(
        matches!(
            r,
            Err(Error::NonFinite {
                argument: "kernel",
                ..
            })
        ),
        "{r:?}"
    );
    let inv =
        NystromInverse::from_landmarks(&k.view(), &[2, 9], 0.1, &mut storage, &mut ws).unwrap();
    assert!(matches!(
        inv.solve_in_place(&mut [1.0; 19], &mut [0.0; 2]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        inv.solve_in_place(&mut [1.0; 20], &mut [0.0; 1]),
        Err(Error::WorkspaceTooSmall { .. })
    ));
    let mut b = [1.0; 20];
    b[3] = f64::INFINITY;
    assert!(matches!(
        inv.solve_in_place(&mut b, &mut [0.0; 2]),
        Err(Error::NonFinite { row: 3, .. })
    ));
}

#[test]
fn landmark_rows_of_b_are_the_landmark_factor_so_k_tilde_interpolates() {
    // two landmarks 1e-4 apart make L_W ill-conditioned (cond ~ 1e8): the
    // triangular solve alone would give B[S] with errors of order
    // eps cond(L_W); B[S] = L_W holds by definition, so K~[S, S] = W
    let mut x = points(30, 5);
    x[7] = x[3] + 1e-4;
    let k = rbf(&x);
    let s = [3, 7, 12, 20];
    let mut storage = vec![0.0; nystrom_storage_len(30, 4)];
    let inv = build(&k, &s, 1e-3, &mut storage);
    assert_eq!(inv.jitter(), 0.0);
    let (b, l) = (inv.factor(), inv.landmark_factor());
    for (a, &sa) in s.iter().enumerate() {
        for c in 0..4 {
            let want = if c <= a { l.get(a, c).unwrap() } else { 0.0 };
            assert_eq!(b.get(sa, c).unwrap(), want, "B[{sa}][{c}]");
        }
    }
    for (a, &sa) in s.iter().enumerate() {
        for (c, &sc) in s.iter().enumerate() {
            let bbt: f64 = (0..4)
                .map(|j| b.get(sa, j).unwrap() * b.get(sc, j).unwrap())
                .sum();
            assert!((bbt - k.at(sa, sc)).abs() < 1e-15, "K~[{a}][{c}]");
        }
    }
}
