//! Helpers shared by the tests of the fair std layer (fair_std.rs,
//! fair_metrics.rs, fair_tool.rs): problems, plain reference computations
//! (independent of the crate's kernels) and temporary files.
#![allow(dead_code)]

use gramkit::host::{CsvTable, Header, Matrix};
use std::path::PathBuf;

/// SplitMix64, for deterministic samples.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// `n` random points in `[0, 3]^2`, RBF kernel values between two point
/// sets (lengthscale `ls`, plain loops).
pub fn points(n: usize, seed: u64) -> Vec<[f64; 2]> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| [3.0 * rng.uniform(), 3.0 * rng.uniform()])
        .collect()
}

pub fn rbf(x: &[[f64; 2]], y: &[[f64; 2]], ls: f64) -> Matrix<f64> {
    Matrix::from_fn(x.len(), y.len(), |i, j| {
        let d2 = (x[i][0] - y[j][0]).powi(2) + (x[i][1] - y[j][1]).powi(2);
        (-0.5 * d2 / (ls * ls)).exp()
    })
}

/// Attributes that depend on the points: `20 + 10 x_0` (an "age") and,
/// for `p = 2`, `x_1 - 0.5 x_0`; centred.
pub fn attributes(pts: &[[f64; 2]], p: usize) -> Matrix<f64> {
    let raw = Matrix::from_fn(pts.len(), p, |i, c| {
        if c == 0 {
            20.0 + 10.0 * pts[i][0]
        } else {
            pts[i][1] - 0.5 * pts[i][0]
        }
    });
    let n = pts.len() as f64;
    let means: Vec<f64> = (0..p)
        .map(|c| (0..pts.len()).map(|i| at(&raw, i, c)).sum::<f64>() / n)
        .collect();
    Matrix::from_fn(pts.len(), p, |i, c| at(&raw, i, c) - means[c])
}

pub fn at(m: &Matrix<f64>, i: usize, j: usize) -> f64 {
    m.get(i, j).expect("inside the matrix")
}

pub fn max_diff(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Gaussian elimination with partial pivoting (plain loops).
pub fn dense_solve(a: &Matrix<f64>, b: &[f64]) -> Vec<f64> {
    let n = a.nrows();
    let mut m: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| at(a, i, j)).collect())
        .collect();
    let mut x = b.to_vec();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| m[i][k].abs().total_cmp(&m[j][k].abs()))
            .expect("non-empty");
        m.swap(k, p);
        x.swap(k, p);
        for i in k + 1..n {
            let f = m[i][k] / m[k][k];
            for j in k..n {
                m[i][j] -= f * m[k][j];
            }
            x[i] -= f * x[k];
        }
    }
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| m[k][j] * x[j]).sum();
        x[k] = (x[k] - s) / m[k][k];
    }
    x
}

/// Eigenvalues of a symmetric matrix by cyclic Jacobi (plain loops, for
/// small test matrices).
pub fn jacobi_eigenvalues(a: &Matrix<f64>) -> Vec<f64> {
    let (values, _) = jacobi(a);
    values
}

/// Eigenvalues and eigenvectors (columns) by cyclic Jacobi.
pub fn jacobi(a: &Matrix<f64>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.nrows();
    let mut m: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| at(a, i, j)).collect())
        .collect();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k][p], m[k][q]);
                    m[k][p] = c * mkp - s * mkq;
                    m[k][q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p][k], m[q][k]);
                    m[p][k] = c * mpk - s * mqk;
                    m[q][k] = s * mpk + c * mqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i][i]).collect(), v)
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gramkit-fair-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// The shipped diabetes data: standardized inputs (all ten columns but the
/// target), target, age.
pub fn diabetes() -> (Matrix<f64>, Vec<f64>, Vec<f64>) {
    let t = CsvTable::<f64>::parse(
        include_str!("../../examples/data/diabetes.csv"),
        "diabetes.csv",
        Header::Present,
    )
    .expect("shipped data parse");
    let y = t.column("progression").expect("target");
    let age = t.column("age").expect("age");
    let target = t.column_index("progression").expect("target");
    let cols: Vec<usize> = (0..t.ncols()).filter(|&j| j != target).collect();
    let rows: Vec<usize> = (0..t.nrows()).collect();
    let x = gramkit::host::select(t.values(), &rows, &cols).expect("select");
    (x, y, age)
}
