//! Shared helpers for the benchmarks: deterministic, well-conditioned
//! symmetric positive-definite inputs.
//!
//! Every input is a Gram matrix `A = B B^T / n + I` with `B` an `n x n`
//! matrix of pseudo-random entries, uniform in `[-1, 1)`, from a fixed seed.
//! Its spectrum follows the Marchenko-Pastur law shifted by one (roughly
//! `[1, 2.4]`): condition number about 2.4 at every order, no eigenvalue
//! clusters, so neither the factorizations nor the eigensolvers get an easy
//! or a degenerate case.

/// A scalar the helpers can produce: `f32` or `f64`.
pub trait Scalar: Copy + Default {
    /// Rounds an `f64` to `Self`.
    fn from_f64(x: f64) -> Self;
    /// Widens `self` to `f64`.
    fn to_f64(self) -> f64;
}

impl Scalar for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// SplitMix64: a tiny deterministic generator (no `rand` dependency).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`.
    fn next_signed(&mut self) -> f64 {
        // 53 random bits -> [0, 1), then affine map to [-1, 1).
        let u = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        2.0 * u - 1.0
    }
}

/// Dot product with eight independent accumulators (so the optimizer can
/// vectorize it; the setup of the `n = 2048` case stays around a second).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut xc = x.chunks_exact(8);
    let mut yc = y.chunks_exact(8);
    for (a, b) in (&mut xc).zip(&mut yc) {
        for ((s, &p), &q) in acc.iter_mut().zip(a).zip(b) {
            *s += p * q;
        }
    }
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// The `n x n` SPD matrix `B B^T / n + I`, row-major (it is symmetric, so
/// it is also its own column-major layout), deterministic in `(n, seed)`.
pub fn spd_row_major(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64(seed ^ (n as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let b: Vec<f64> = (0..n * n).map(|_| rng.next_signed()).collect();
    let mut a = vec![0.0; n * n];
    let scale = 1.0 / n as f64;
    for i in 0..n {
        let bi = &b[i * n..(i + 1) * n];
        for j in 0..=i {
            let v = dot(bi, &b[j * n..(j + 1) * n]) * scale;
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
        a[i * n + i] += 1.0;
    }
    a
}

/// The same matrix as [`spd_row_major`] as a fixed array, rounded to `T`.
pub fn spd_fixed<T: Scalar, const N: usize>(seed: u64) -> [[T; N]; N] {
    let a = spd_row_major(N, seed);
    core::array::from_fn(|i| core::array::from_fn(|j| T::from_f64(a[i * N + j])))
}

/// Largest absolute entry-wise difference between the lower triangles of two
/// `n x n` matrices given by accessors (used for the sanity checks that run
/// before the timings, never inside them).
pub fn max_lower_diff(
    n: usize,
    x: impl Fn(usize, usize) -> f64,
    y: impl Fn(usize, usize) -> f64,
) -> f64 {
    let mut m = 0.0f64;
    for i in 0..n {
        for j in 0..=i {
            m = m.max((x(i, j) - y(i, j)).abs());
        }
    }
    m
}

/// The `n x n` Gram matrix of the squared-exponential (RBF) kernel
/// `exp(-(x_i - x_j)^2 / (2 lengthscale^2))` (unit variance) on the `n`
/// equally spaced points `x_i = i / (n - 1)` of `[0, 1]`, row-major (and,
/// being symmetric, column-major). Positive semi-definite, with a spectrum
/// that decays fast: most eigenvalues sit at rounding level, as for a real
/// Gaussian process on a dense grid, and only a noise term makes the
/// problem well posed.
pub fn rbf_grid_factor(n: usize, lengthscale: f64) -> Vec<f64> {
    let step = if n > 1 { 1.0 / (n - 1) as f64 } else { 0.0 };
    let c = -0.5 / (lengthscale * lengthscale);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let d = (i as f64 - j as f64) * step;
            a[i * n + j] = (c * d * d).exp();
        }
    }
    a
}

/// `n` pseudo-random entries uniform in `[-1, 1)`, deterministic in
/// `(n, seed)`.
pub fn signed_vector(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64(seed ^ (n as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25));
    (0..n).map(|_| rng.next_signed()).collect()
}

/// `|x - y|_2 / |y|_2` (`|x - y|_2` when `y` is zero): the relative
/// difference of a result `x` from a reference `y`, for the sanity checks
/// that run before the timings.
pub fn rel_diff(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "rel_diff: lengths differ");
    let diff = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let norm = y.iter().map(|b| b * b).sum::<f64>().sqrt();
    if norm > 0.0 { diff / norm } else { diff }
}

/// `n` pseudo-random points in `d` dimensions, uniform in `[-1, 1)^d`,
/// row-major `n x d` (point `i` is `x[i d..(i + 1) d]`), deterministic in
/// `(n, d, seed)`.
pub fn uniform_points(n: usize, d: usize, seed: u64) -> Vec<f64> {
    signed_vector(n * d, seed ^ (d as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// The squared-exponential (RBF) kernel `exp(-|x - y|^2 / (2 l^2))` (unit
/// variance) of two points, given `lengthscale2 = l^2`.
pub fn rbf(x: &[f64], y: &[f64], lengthscale2: f64) -> f64 {
    let d2: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    (-0.5 * d2 / lengthscale2).exp()
}

/// The `n x n` RBF Gram matrix ([`rbf`]) of the `n` points `x` (row-major
/// `n x d`, as from [`uniform_points`]), row-major (and, being symmetric,
/// column-major).
pub fn rbf_points_kernel(x: &[f64], d: usize, lengthscale2: f64) -> Vec<f64> {
    let n = x.len() / d.max(1);
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        for j in 0..=i {
            let v = rbf(xi, &x[j * d..(j + 1) * d], lengthscale2);
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
    }
    k
}
