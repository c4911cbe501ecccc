//! Helpers shared by the integration tests: reference computations in plain
//! loops (independent of the crate's kernels) and proptest strategies.
#![allow(dead_code)]

use gramkit::Real;
use proptest::prelude::*;

/// Row-major `n x n` dense matrix in plain `Vec` form.
#[derive(Clone, Debug)]
pub struct Dense<T> {
    pub n: usize,
    pub m: usize,
    pub data: Vec<T>,
}

impl<T: Real> Dense<T> {
    pub fn zeros(n: usize, m: usize) -> Self {
        Self {
            n,
            m,
            data: vec![T::zero(); n * m],
        }
    }
    pub fn identity(n: usize) -> Self {
        let mut d = Self::zeros(n, n);
        for i in 0..n {
            d.data[i * n + i] = T::one();
        }
        d
    }
    pub fn from_fn(n: usize, m: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut d = Self::zeros(n, m);
        for i in 0..n {
            for j in 0..m {
                d.data[i * m + j] = f(i, j);
            }
        }
        d
    }
    pub fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.m + j]
    }
    pub fn view(&self) -> gramkit::MatRef<'_, T> {
        gramkit::MatRef::from_row_major(&self.data, self.n, self.m).unwrap()
    }
    pub fn view_mut(&mut self) -> gramkit::MatMut<'_, T> {
        gramkit::MatMut::from_row_major(&mut self.data, self.n, self.m).unwrap()
    }
    /// Plain triple loop product, accumulated in f64.
    pub fn matmul(&self, other: &Self) -> Self {
        assert_eq!(self.m, other.n);
        Self::from_fn(self.n, other.m, |i, j| {
            T::from_f64(
                (0..self.m)
                    .map(|k| self.at(i, k).as_f64() * other.at(k, j).as_f64())
                    .sum(),
            )
        })
    }
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.m, self.n, |i, j| self.at(j, i))
    }
    /// Max absolute entry.
    pub fn max_abs(&self) -> f64 {
        self.data
            .iter()
            .map(|v| v.as_f64().abs())
            .fold(0.0, f64::max)
    }
    /// Max absolute entrywise difference.
    pub fn max_diff(&self, other: &Self) -> f64 {
        assert_eq!((self.n, self.m), (other.n, other.m));
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a.as_f64() - b.as_f64()).abs())
            .fold(0.0, f64::max)
    }
    /// Lower triangle only (upper set to zero).
    pub fn lower(&self) -> Self {
        Self::from_fn(self.n, self.m, |i, j| {
            if j <= i { self.at(i, j) } else { T::zero() }
        })
    }
}

/// Small deterministic generator (SplitMix64) for tests that do not use
/// proptest's.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// A random symmetric positive-definite matrix `B B^T + shift I` with
/// entries of `B` uniform in [-1, 1).
pub fn random_spd<T: Real>(n: usize, shift: f64, rng: &mut Rng) -> Dense<T> {
    let b = Dense::<f64>::from_fn(n, n, |_, _| rng.uniform());
    let g = b.matmul(&b.transpose());
    Dense::from_fn(n, n, |i, j| {
        T::from_f64(g.at(i, j) + if i == j { shift } else { 0.0 })
    })
}

/// A random symmetric matrix with entries uniform in [-1, 1).
pub fn random_symmetric<T: Real>(n: usize, rng: &mut Rng) -> Dense<T> {
    let b = Dense::<f64>::from_fn(n, n, |_, _| rng.uniform());
    Dense::from_fn(n, n, |i, j| {
        T::from_f64(if j <= i { b.at(i, j) } else { b.at(j, i) })
    })
}

/// RBF kernel `variance * exp(-(x_i - x_j)^2 / (2 l^2))` on `n` equally
/// spaced points of `[lo, hi]`.
pub fn rbf_grid<T: Real>(n: usize, lo: f64, hi: f64, lengthscale: f64, variance: f64) -> Dense<T> {
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if n == 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (n - 1) as f64
            }
        })
        .collect();
    Dense::from_fn(n, n, |i, j| {
        let d = x[i] - x[j];
        T::from_f64(variance * (-0.5 * d * d / (lengthscale * lengthscale)).exp())
    })
}

/// Strategy: an order in `0..=max_n` and a seed.
pub fn order_and_seed(max_n: usize) -> impl Strategy<Value = (usize, u64)> {
    (0..=max_n, any::<u64>())
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting, in f64
/// (a reference independent of the crate).
pub fn dense_solve(a: &Dense<f64>, b: &[f64]) -> Vec<f64> {
    let n = a.n;
    let mut m = a.data.clone();
    let mut x = b.to_vec();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| m[i * n + k].abs().total_cmp(&m[j * n + k].abs()))
            .unwrap();
        if p != k {
            for j in 0..n {
                m.swap(k * n + j, p * n + j);
            }
            x.swap(k, p);
        }
        for i in k + 1..n {
            let f = m[i * n + k] / m[k * n + k];
            for j in k..n {
                m[i * n + j] -= f * m[k * n + j];
            }
            x[i] -= f * x[k];
        }
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|j| m[i * n + j] * x[j]).sum();
        x[i] = (x[i] - s) / m[i * n + i];
    }
    x
}

/// `log det a` of a symmetric positive-definite `a` by a plain Cholesky in
/// f64 (a reference independent of the crate).
pub fn dense_logdet_spd(a: &Dense<f64>) -> f64 {
    let n = a.n;
    let mut l = vec![0.0; n * n];
    let mut ld = 0.0;
    for j in 0..n {
        let d = a.at(j, j) - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        assert!(d > 0.0, "reference Cholesky: pivot {j} = {d}");
        l[j * n + j] = d.sqrt();
        ld += d.ln();
        for i in j + 1..n {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            l[i * n + j] = (a.at(i, j) - s) / l[j * n + j];
        }
    }
    ld
}

/// The Kronecker product of dense matrices by its definition.
pub fn dense_kron(factors: &[Dense<f64>]) -> Dense<f64> {
    factors.iter().skip(1).fold(factors[0].clone(), |acc, f| {
        Dense::from_fn(acc.n * f.n, acc.m * f.m, |i, j| {
            acc.at(i / f.n, j / f.m) * f.at(i % f.n, j % f.m)
        })
    })
}
