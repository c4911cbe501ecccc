//! Kernel ridge regression on a (possibly fair-transformed) kernel matrix,
//! RBF kernels on standardized features, and the k-fold splits and ridge
//! selection that go with them.
//!
//! Kernel ridge regression with ridge `mu > 0` fits
//! `beta = (K + mu I)^{-1} (y - b)` (one Cholesky factor, gramkit's own) and
//! predicts `f(x) = k_x . beta + b` from the kernel row `k_x` of a new point
//! against the training points; the intercept `b` is 0 or the mean of `y`.
//! Any PSD kernel matrix works, in particular a fair-transformed `K_k` with
//! rows of new points transformed by the same fit
//! ([`FairKernelFit::transform_rows`](super::FairKernelFit::transform_rows)).

use super::matrix::Matrix;
use super::metrics::mean_absolute_error;
use crate::error::{Error, Result, expect_dim, require};
use crate::real::Real;
use crate::view::check_finite_slice;
use std::vec;
use std::vec::Vec;

/// A fitted kernel ridge regression: `f(x) = k_x . beta + intercept`.
///
/// With ridge `mu > 0` it fits `beta = (K + mu I)^{-1} (y - b)` (one
/// Cholesky factor) and predicts from the kernel rows `k_x` of new points
/// against the training points; the intercept `b` is 0
/// ([`fit`](Self::fit)) or the mean of `y` ([`fit_centered`](Self::fit_centered)).
/// Any PSD kernel matrix works, in particular a fair-transformed `K_k`
/// ([`FairKernelFit::kernel`](super::FairKernelFit::kernel)) with the rows
/// of new points transformed by the same fit
/// ([`FairKernelFit::transform_rows`](super::FairKernelFit::transform_rows)).
#[derive(Clone, Debug, PartialEq)]
pub struct KernelRidge<T> {
    beta: Vec<T>,
    intercept: T,
    mu: T,
}

impl<T: Real> KernelRidge<T> {
    /// Fits `beta = (K + mu I)^{-1} y` without intercept: one Cholesky
    /// factor of `K + mu I` (`n^3 / 3` flops, `n^2` memory). `kernel` is
    /// `n x n` symmetric (lower triangle read).
    ///
    /// # Errors
    /// - [`Error::InvalidParameter`] for `mu <= 0` or non-finite;
    /// - [`Error::DimensionMismatch`] if `kernel` is not square or `y` is
    ///   not of length `n`;
    /// - [`Error::NonFinite`] for a non-finite entry;
    /// - [`Error::NotPositiveDefinite`] if `K + mu I` is not numerically
    ///   positive definite (`K` far from PSD, or `mu` below rounding).
    pub fn fit(kernel: &Matrix<T>, y: &[T], mu: T) -> Result<Self> {
        Self::fit_with_intercept(kernel, y, mu, T::zero())
    }

    /// Fits with the mean of `y` as intercept: `beta = (K + mu I)^{-1}
    /// (y - mean(y))`, so that far from the data the prediction is the mean
    /// rather than 0. Cost and errors as [`fit`](Self::fit).
    ///
    /// ```
    /// use gramkit::host::{KernelRidge, Matrix, rbf_gram};
    /// let x = Matrix::from_fn(20, 1, |i, _| i as f64 / 4.0);
    /// let y: Vec<f64> = (0..20).map(|i| 100.0 + (i as f64 / 4.0).sin()).collect();
    /// let model = KernelRidge::fit_centered(&rbf_gram(&x, 1.0)?, &y, 1e-3)?;
    /// assert!((model.intercept() - 100.0).abs() < 1.0);
    /// # Ok::<(), gramkit::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`fit`](Self::fit); [`Error::InvalidParameter`] for empty `y`.
    pub fn fit_centered(kernel: &Matrix<T>, y: &[T], mu: T) -> Result<Self> {
        require(!y.is_empty(), "y", "at least one target is needed")?;
        check_finite_slice(y, "y")?;
        let mean = y.iter().copied().sum::<T>() / T::from_usize(y.len());
        Self::fit_with_intercept(kernel, y, mu, mean)
    }

    fn fit_with_intercept(kernel: &Matrix<T>, y: &[T], mu: T, intercept: T) -> Result<Self> {
        require(
            mu > T::zero() && mu.is_finite(),
            "mu",
            "must be positive and finite",
        )?;
        let n = kernel.view().square_order("kernel ridge: columns of K")?;
        expect_dim("kernel ridge: length of y", n, y.len())?;
        check_finite_slice(y, "y")?;
        let mut shifted = kernel.clone();
        for i in 0..n {
            let d = kernel.view().at(i, i) + mu;
            shifted.set(i, i, d)?;
        }
        let chol = shifted.cholesky()?;
        let centered: Vec<T> = y.iter().map(|&v| v - intercept).collect();
        let beta = chol.solve(&centered)?;
        Ok(Self {
            beta,
            intercept,
            mu,
        })
    }

    /// Predictions `cross beta + intercept` for the rows of `cross`
    /// (`t x n`: kernel values of `t` new points against the `n` training
    /// points, transformed the same way as the training kernel). `O(t n)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `cross` has `n` columns.
    pub fn predict(&self, cross: &Matrix<T>) -> Result<Vec<T>> {
        let mut out = cross.matvec(&self.beta)?;
        out.iter_mut().for_each(|v| *v += self.intercept);
        Ok(out)
    }

    /// The prediction for one kernel row (`n` values). `O(n)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `row.len() == n`.
    pub fn predict_row(&self, row: &[T]) -> Result<T> {
        expect_dim("kernel ridge: length of row", self.beta.len(), row.len())?;
        Ok(row.iter().zip(&self.beta).map(|(&a, &b)| a * b).sum::<T>() + self.intercept)
    }

    /// The dual coefficients `beta` (`n`).
    pub fn coefficients(&self) -> &[T] {
        &self.beta
    }
    /// The intercept (0 for [`fit`](Self::fit)).
    pub fn intercept(&self) -> T {
        self.intercept
    }
    /// The ridge `mu`.
    pub fn mu(&self) -> T {
        self.mu
    }
}

/// Per-column standardization `(x - mean) / sd` with the statistics of the
/// data it was fitted on (`sd` the sample standard deviation; a constant
/// column gets `sd = 1`, so it maps to zeros).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<T> {
    mean: Vec<T>,
    sd: Vec<T>,
}

impl<T: Real> Standardizer<T> {
    /// Column means and standard deviations of `x` (`n x d`, `n >= 2`).
    /// `O(n d)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for fewer than two rows;
    /// [`Error::NonFinite`] for a non-finite entry.
    pub fn fit(x: &Matrix<T>) -> Result<Self> {
        let (n, d) = (x.nrows(), x.ncols());
        require(n >= 2, "x", "at least two rows are needed")?;
        x.view().check_finite("x")?;
        let v = x.view();
        let nt = T::from_usize(n);
        let mean: Vec<T> = (0..d)
            .map(|j| (0..n).map(|i| v.at(i, j)).sum::<T>() / nt)
            .collect();
        let sd = (0..d)
            .map(|j| {
                let ss = (0..n).map(|i| (v.at(i, j) - mean[j]).powi(2)).sum::<T>();
                let s = (ss / T::from_usize(n - 1)).sqrt();
                if s > T::zero() { s } else { T::one() }
            })
            .collect();
        Ok(Self { mean, sd })
    }

    /// `(x - mean) / sd`, column by column. `O(n d)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `x` has the fitted number of
    /// columns.
    pub fn apply(&self, x: &Matrix<T>) -> Result<Matrix<T>> {
        expect_dim("standardize: columns", self.mean.len(), x.ncols())?;
        let v = x.view();
        Ok(Matrix::from_fn(x.nrows(), x.ncols(), |i, j| {
            (v.at(i, j) - self.mean[j]) / self.sd[j]
        }))
    }

    /// The column means.
    pub fn mean(&self) -> &[T] {
        &self.mean
    }
    /// The column standard deviations (1 for constant columns).
    pub fn sd(&self) -> &[T] {
        &self.sd
    }
}

/// Rows used by [`median_heuristic_lengthscale`] at most.
pub const MEDIAN_HEURISTIC_MAX_ROWS: usize = 1000;

/// The median heuristic for an RBF lengthscale: the median Euclidean
/// distance between distinct rows of `x` (`n x d`), over all pairs
/// `i < j` of at most [`MEDIAN_HEURISTIC_MAX_ROWS`] evenly spaced rows.
/// When that median is 0 (many duplicate rows) the mean of the positive
/// distances is used, and 1 when all rows coincide. `O(n^2 d)` for
/// `n <= 1000`.
///
/// # Errors
/// [`Error::InvalidParameter`] for fewer than two rows;
/// [`Error::NonFinite`] for a non-finite entry.
pub fn median_heuristic_lengthscale<T: Real>(x: &Matrix<T>) -> Result<T> {
    let n = x.nrows();
    require(n >= 2, "x", "at least two rows are needed")?;
    x.view().check_finite("x")?;
    let rows: Vec<usize> = if n <= MEDIAN_HEURISTIC_MAX_ROWS {
        (0..n).collect()
    } else {
        let m = MEDIAN_HEURISTIC_MAX_ROWS;
        (0..m).map(|i| i * (n - 1) / (m - 1)).collect()
    };
    let mut d = Vec::with_capacity(rows.len() * (rows.len() - 1) / 2);
    for (a, &i) in rows.iter().enumerate() {
        for &j in &rows[a + 1..] {
            d.push(squared_distance(x, i, x, j).sqrt());
        }
    }
    let median = median_in_place(&mut d);
    if median > T::zero() {
        return Ok(median);
    }
    let positive: Vec<T> = d.into_iter().filter(|&v| v > T::zero()).collect();
    if positive.is_empty() {
        return Ok(T::one());
    }
    Ok(positive.iter().copied().sum::<T>() / T::from_usize(positive.len()))
}

/// The median of `v` (mean of the two middle values for even length), by
/// selection; `v` is reordered. `v` must be non-empty and finite.
pub(crate) fn median_in_place<T: Real>(v: &mut [T]) -> T {
    let n = v.len();
    if n == 0 {
        return T::zero();
    }
    let cmp = |a: &T, b: &T| a.partial_cmp(b).unwrap_or(core::cmp::Ordering::Equal);
    let (lower, &mut upper, _) = v.select_nth_unstable_by(n / 2, cmp);
    if n % 2 == 1 {
        return upper;
    }
    let below = lower.iter().copied().fold(T::neg_infinity(), T::max);
    (below + upper) / T::from_f64(2.0)
}

/// `|a_i - b_j|^2` over the columns.
fn squared_distance<T: Real>(a: &Matrix<T>, i: usize, b: &Matrix<T>, j: usize) -> T {
    let (av, bv) = (a.view(), b.view());
    (0..a.ncols())
        .map(|c| (av.at(i, c) - bv.at(j, c)).powi(2))
        .sum()
}

/// The RBF (Gaussian) kernel between the rows of `a` (`s x d`) and `b`
/// (`t x d`): `exp(-|a_i - b_j|^2 / (2 l^2))` (`s x t`). `O(s t d)`.
///
/// # Errors
/// - [`Error::InvalidParameter`] for `lengthscale <= 0` or non-finite;
/// - [`Error::DimensionMismatch`] if the column counts differ;
/// - [`Error::NonFinite`] for a non-finite entry.
pub fn rbf_kernel<T: Real>(a: &Matrix<T>, b: &Matrix<T>, lengthscale: T) -> Result<Matrix<T>> {
    require(
        lengthscale > T::zero() && lengthscale.is_finite(),
        "lengthscale",
        "must be positive and finite",
    )?;
    expect_dim("rbf kernel: columns of b", a.ncols(), b.ncols())?;
    a.view().check_finite("a")?;
    b.view().check_finite("b")?;
    let scale = -(T::from_f64(2.0) * lengthscale * lengthscale).recip();
    Ok(Matrix::from_fn(a.nrows(), b.nrows(), |i, j| {
        (scale * squared_distance(a, i, b, j)).exp()
    }))
}

/// The RBF Gram matrix of the rows of `x`: [`rbf_kernel`]`(x, x, l)`
/// (symmetric, unit diagonal). `O(n^2 d)`.
///
/// # Errors
/// As [`rbf_kernel`].
pub fn rbf_gram<T: Real>(x: &Matrix<T>, lengthscale: T) -> Result<Matrix<T>> {
    rbf_kernel(x, x, lengthscale)
}

/// The block `m[rows, cols]` (any indices, in the order given), copied.
/// `O(|rows| |cols|)`.
///
/// # Errors
/// [`Error::DimensionMismatch`] for an index outside `m`.
pub fn select<T: Real>(m: &Matrix<T>, rows: &[usize], cols: &[usize]) -> Result<Matrix<T>> {
    check_indices("select: row index", rows, m.nrows())?;
    check_indices("select: column index", cols, m.ncols())?;
    let v = m.view();
    Ok(Matrix::from_fn(rows.len(), cols.len(), |a, b| {
        v.at(rows[a], cols[b])
    }))
}

/// Fails unless every index is below `bound`.
fn check_indices(what: &'static str, idx: &[usize], bound: usize) -> Result<()> {
    match idx.iter().find(|&&i| i >= bound) {
        Some(&bad) => Err(Error::DimensionMismatch {
            what,
            expected: bound,
            got: bad,
        }),
        None => Ok(()),
    }
}

/// Splits `0..n` into `folds` disjoint test folds after a shuffle seeded
/// by `seed` (deterministic across platforms: a SplitMix64 generator and a
/// Fisher-Yates shuffle). Fold sizes differ by at most one; each fold is
/// sorted. `O(n)`.
///
/// ```
/// use gramkit::host::k_fold;
/// let folds = k_fold(10, 3, 7)?;
/// assert_eq!(folds.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 3, 3]);
/// # Ok::<(), gramkit::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] unless `2 <= folds <= n`.
pub fn k_fold(n: usize, folds: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    require(
        folds >= 2 && folds <= n,
        "folds",
        "must be at least 2 and at most the number of points",
    )?;
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64(seed);
    for i in (1..n).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut out = Vec::with_capacity(folds);
    let mut start = 0;
    for f in 0..folds {
        let len = n / folds + usize::from(f < n % folds);
        let mut fold = order[start..start + len].to_vec();
        fold.sort_unstable();
        out.push(fold);
        start += len;
    }
    Ok(out)
}

/// The indices of `0..n` not in `fold` (sorted), i.e. the training part of
/// a split from [`k_fold`]. `O(n)`.
pub fn complement(n: usize, fold: &[usize]) -> Vec<usize> {
    let mut held = vec![false; n];
    for &i in fold.iter().filter(|&&i| i < n) {
        held[i] = true;
    }
    (0..n).filter(|&i| !held[i]).collect()
}

/// The SplitMix64 generator (Steele, Lea, Flood 2014): tiny, seedable,
/// identical on every platform.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The ridge chosen by [`select_ridge_cv`] and the score of every
/// candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct RidgeSelection<T> {
    /// The candidate with the smallest cross-validated MAE (the first one
    /// on ties).
    pub mu: T,
    /// `(candidate, mean absolute error over the held-out folds)`, in the
    /// order given.
    pub scores: Vec<(T, T)>,
}

/// Chooses the kernel-ridge `mu` among `candidates` by `folds`-fold cross
/// validation on the kernel matrix `kernel` (`n x n`) and targets `y`:
/// each candidate is fitted with [`KernelRidge::fit_centered`] on every
/// training part and scored by the mean absolute error on the held-out
/// fold (averaged over the folds, each fold weighted by its size). Splits
/// from [`k_fold`] with `seed`. `O(|candidates| folds n^3 / 3)`.
///
/// # Errors
/// [`Error::InvalidParameter`] for no candidate, a non-positive candidate
/// or a bad fold count; otherwise as [`KernelRidge::fit_centered`].
pub fn select_ridge_cv<T: Real>(
    kernel: &Matrix<T>,
    y: &[T],
    candidates: &[T],
    folds: usize,
    seed: u64,
) -> Result<RidgeSelection<T>> {
    require(
        !candidates.is_empty(),
        "candidates",
        "at least one is needed",
    )?;
    let n = kernel
        .view()
        .square_order("ridge selection: columns of K")?;
    expect_dim("ridge selection: length of y", n, y.len())?;
    let splits = k_fold(n, folds, seed)?;
    let mut scores = Vec::with_capacity(candidates.len());
    for &mu in candidates {
        let mut total = T::zero();
        for test in &splits {
            let train = complement(n, test);
            let model = KernelRidge::fit_centered(
                &select(kernel, &train, &train)?,
                &gather(y, &train),
                mu,
            )?;
            let pred = model.predict(&select(kernel, test, &train)?)?;
            let mae = mean_absolute_error(&pred, &gather(y, test))?;
            total += mae * T::from_usize(test.len());
        }
        scores.push((mu, total / T::from_usize(n)));
    }
    let best = scores
        .iter()
        .copied()
        .fold(None, |best: Option<(T, T)>, s| match best {
            Some(b) if b.1 <= s.1 => Some(b),
            _ => Some(s),
        })
        .map_or(candidates[0], |b| b.0);
    Ok(RidgeSelection { mu: best, scores })
}

/// `v[idx]`, copied (indices must be in range).
fn gather<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().filter_map(|&i| v.get(i).copied()).collect()
}
