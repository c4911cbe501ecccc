//! The test problems and their expected results, computed on the host in
//! f64 with the independent reference in `linalg.rs`, written out as Rust
//! statics of the firmware's case types (`src/cases.rs`).
//!
//! Each problem exists twice: for the f64 checks, and for the f32 checks
//! with every input rounded to f32 first (the expected values are computed
//! in f64 from the rounded inputs, so the only difference left is the f32
//! arithmetic on the device).

use crate::linalg::{self, Mat};
use std::fmt::Write;

/// Precision of a problem's inputs.
#[derive(Clone, Copy)]
pub enum Precision {
    F64,
    F32,
}

impl Precision {
    /// `x` as the device will see it.
    fn round(self, x: f64) -> f64 {
        match self {
            Precision::F64 => x,
            Precision::F32 => x as f32 as f64,
        }
    }

    fn round_vec(self, v: Vec<f64>) -> Vec<f64> {
        v.into_iter().map(|x| self.round(x)).collect()
    }

    fn round_mat(self, m: Mat) -> Mat {
        m.into_iter().map(|r| self.round_vec(r)).collect()
    }
}

/// Deterministic uniform numbers in `[0, 1)` (xorshift64*), so the
/// problems are the same on every build.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` points in `[0, scale)^dim`.
    pub fn points(&mut self, n: usize, dim: usize, scale: f64) -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| (0..dim).map(|_| scale * self.uniform()).collect())
            .collect()
    }
}

/// Gram matrix of `points` under an RBF kernel of length scale `ell`.
fn gram(points: &[Vec<f64>], ell: f64) -> Mat {
    let n = points.len();
    linalg::from_fn(n, n, |i, j| linalg::rbf(&points[i], &points[j], ell))
}

// ---------------------------------------------------------------- output

/// `[a, b, ...]` with every float printed so that it reads back exactly.
fn vec_lit(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// `[[..], [..]]`.
fn mat_lit(m: &Mat) -> String {
    let rows: Vec<String> = m.iter().map(|r| vec_lit(r)).collect();
    format!("[\n        {}]", rows.join(",\n        "))
}

// ------------------------------------------------------------- Cholesky

/// A Cholesky problem of order `n`: `A = RBF(points) + shift I`, a
/// right-hand side `b`, and the expected factor, solution and
/// log-determinant.
pub fn cholesky_case(out: &mut String, name: &str, n: usize, prec: Precision, seed: u64) {
    let mut rng = Rng::new(seed);
    let points = rng.points(n, 2, 3.0);
    let a = prec.round_mat(linalg::add_identity(&gram(&points, 0.8), 0.3));
    let b = prec.round_vec((0..n).map(|_| 2.0 * rng.uniform() - 1.0).collect());
    let l = linalg::cholesky(&a);
    let x = linalg::cholesky_solve(&l, &b);
    let log_det = linalg::cholesky_log_det(&l);
    writeln!(
        out,
        "// {name}: condition number {:.1}",
        linalg::condition(&a)
    )
    .unwrap();
    writeln!(
        out,
        "pub static {name}: CholCase<{n}> = CholCase {{\n    a: {},\n    b: {},\n    l: {},\n    x: {},\n    log_det: {log_det:?},\n}};",
        mat_lit(&a),
        vec_lit(&b),
        mat_lit(&l),
        vec_lit(&x)
    )
    .unwrap();
}

// ------------------------------------------------------- Kronecker GP

/// A GP on an `n0 x n1` grid with the separable RBF kernel
/// `sf2 k_0 (x) k_1` and noise `s2`: expected `(K + s2 I)^{-1} y`, its
/// log-determinant, the log marginal likelihood and the posterior mean
/// `K (K + s2 I)^{-1} y`, all from the materialized `N x N` matrix.
pub fn kron_case(out: &mut String, name: &str, n0: usize, n1: usize, prec: Precision) {
    let axis = |n: usize, step: f64| (0..n).map(|i| vec![i as f64 * step]).collect::<Vec<_>>();
    let sf2 = 1.5;
    let a0 = prec.round_mat(linalg::from_fn(n0, n0, |i, j| {
        sf2 * linalg::rbf(&axis(n0, 0.5)[i], &axis(n0, 0.5)[j], 0.7)
    }));
    let a1 = prec.round_mat(gram(&axis(n1, 0.4), 0.9));
    let noise = prec.round(0.1);
    let n = n0 * n1;
    let mut rng = Rng::new(7);
    let y = prec.round_vec(
        (0..n)
            .map(|i| (i as f64 * 0.3).sin() + 0.2 * (rng.uniform() - 0.5))
            .collect(),
    );
    let k = linalg::kron(&a0, &a1);
    let noisy = linalg::add_identity(&k, noise);
    writeln!(
        out,
        "// {name}: condition number of K + s2 I {:.1}",
        linalg::condition(&noisy)
    )
    .unwrap();
    let l = linalg::cholesky(&noisy);
    let alpha = linalg::cholesky_solve(&l, &y);
    let log_det = linalg::cholesky_log_det(&l);
    let lml = -0.5 * linalg::dot(&y, &alpha)
        - 0.5 * log_det
        - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    let mean = linalg::mat_vec(&k, &alpha);
    writeln!(
        out,
        "pub static {name}: KronCase<{n0}, {n1}, {n}> = KronCase {{\n    a0: {},\n    a1: {},\n    noise: {noise:?},\n    y: {},\n    alpha: {},\n    log_det: {log_det:?},\n    lml: {lml:?},\n    mean: {},\n}};",
        mat_lit(&a0),
        mat_lit(&a1),
        vec_lit(&y),
        vec_lit(&alpha),
        vec_lit(&mean)
    )
    .unwrap();
}

// ------------------------------------------------------ fair projection

/// One step of the fair recurrence, computed literally:
/// `alpha = (K + lambda I)^{-1} A`, `U = K alpha`, `C = alpha^T U`,
/// returns `K - U C^{-1} U^T`.
fn fair_step(k: &Mat, a: &Mat, lambda: f64) -> Mat {
    let (n, p) = (k.len(), a[0].len());
    let lk = linalg::cholesky(&linalg::add_identity(k, lambda));
    let column = |c: usize| a.iter().map(|row| row[c]).collect::<Vec<_>>();
    let alpha: Vec<Vec<f64>> = (0..p)
        .map(|c| linalg::cholesky_solve(&lk, &column(c)))
        .collect();
    let u: Vec<Vec<f64>> = alpha.iter().map(|al| linalg::mat_vec(k, al)).collect();
    let c = linalg::from_fn(p, p, |r, s| linalg::dot(&alpha[r], &u[s]));
    // U C^{-1} U^T = V V^T with the rows v_i of V solving L_C v_i = u_i.
    let lc = linalg::cholesky(&c);
    let v: Vec<Vec<f64>> = (0..n)
        .map(|i| forward(&lc, &(0..p).map(|s| u[s][i]).collect::<Vec<_>>()))
        .collect();
    linalg::from_fn(n, n, |i, j| k[i][j] - linalg::dot(&v[i], &v[j]))
}

/// `y` with `L y = b` for lower-triangular `L`.
fn forward(l: &Mat, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; b.len()];
    for i in 0..b.len() {
        let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i][i];
    }
    y
}

/// A fair projection of an RBF Gram matrix of `n` points against `p`
/// attributes correlated with the points, `iterations` steps of the
/// recurrence.
pub fn fair_case(
    out: &mut String,
    name: &str,
    n: usize,
    p: usize,
    iterations: usize,
    prec: Precision,
) {
    let mut rng = Rng::new(11);
    let points = rng.points(n, 2, 2.0);
    let k = prec.round_mat(linalg::add_identity(&gram(&points, 0.8), 0.05));
    let a = prec.round_mat(linalg::from_fn(n, p, |i, c| {
        points[i][c % 2] + 0.3 * (c as f64 + 1.0) * ((i * 7 + c) as f64).sin()
    }));
    let lambda = prec.round(0.1);
    let cond = linalg::condition(&linalg::add_identity(&k, lambda));
    writeln!(out, "// {name}: condition number of K + lambda I {cond:.1}").unwrap();
    let kk = (0..iterations).fold(k.clone(), |kj, _| fair_step(&kj, &a, lambda));
    writeln!(
        out,
        "pub static {name}: FairCase<{n}, {p}> = FairCase {{\n    k: {},\n    a: {},\n    lambda: {lambda:?},\n    iterations: {iterations},\n    kk: {},\n}};",
        mat_lit(&k),
        mat_lit(&a),
        mat_lit(&kk)
    )
    .unwrap();
}
