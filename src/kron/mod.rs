//! Kronecker algebra for data on grids.
//!
//! A Gram matrix of points on a Cartesian grid with a separable kernel is a
//! Kronecker product `K = A_0 (x) A_1 (x) ... (x) A_{d-1}` of the per-axis
//! Gram matrices. Vectors over the grid are stored row-major, the first
//! axis outermost: entry `(i_0, ..., i_{d-1})` at
//! `(..(i_0 n_1 + i_1) n_2 + ..) + i_{d-1}`.
//!
//! - [`Kronecker`]: the product of `d <= 8` factors (views, rectangular
//!   allowed): products with `K` and `K^T` by mode products in
//!   `O(N sum n_i)`, trace, diagonal, dense materialization.
//! - [`KroneckerCholesky`]: per-factor Cholesky; solve, product with the
//!   inverse, log-determinant `sum_i (N / n_i) log|A_i|`, refused when a
//!   factor is not numerically positive definite.
//! - [`KroneckerEigen`] and [`NoisyKronecker`]: per-factor
//!   eigendecompositions `A_i = Q_i L_i Q_i^T`, and with them `K + s^2 I`
//!   (solve, log-determinant, products) and Gaussian-process regression on
//!   the grid (log marginal likelihood and its gradient, posterior mean and
//!   variance, prediction at new grid points), in `O(sum n_i^3 + N sum n_i)`
//!   time and `O(N + sum n_i^2)` memory: never an `N x N` matrix.
//!
//! Everything is allocation-free: factor storage and scratch come from the
//! caller, with `*_storage_len` and `*_workspace_len` functions giving the
//! sizes.
//!
//! ```
//! use gramkit::MatRef;
//! use gramkit::kron::{Kronecker, kronecker_eigen_storage_len, kronecker_eigen_workspace_len};
//! let a = [[2.0f64, 1.0], [1.0, 2.0]];
//! let b = [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]];
//! let k = Kronecker::new(&[MatRef::from_array(&a), MatRef::from_array(&b)])?;
//! assert_eq!((k.nrows(), k.ncols()), (6, 6));
//! let mut storage = vec![0.0; kronecker_eigen_storage_len(&[2, 3])];
//! let mut ws = vec![0.0; kronecker_eigen_workspace_len(&[2, 3])];
//! let eig = k.eigen(&mut storage, &mut ws)?;
//! let noisy = eig.with_noise(0.1)?;
//! let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let mut ws = vec![0.0; noisy.gp_workspace_len()];
//! let lml = noisy.log_marginal_likelihood(&y, &mut ws)?;
//! assert!(lml.is_finite());
//! # Ok::<(), gramkit::Error>(())
//! ```

mod chol;
mod eigen;
mod gp;
mod modes;

pub use chol::{
    KroneckerCholesky, kronecker_cholesky_storage_len, kronecker_cholesky_workspace_len,
};
pub use eigen::{
    EigenFloor, KroneckerEigen, NoisyKronecker, kronecker_eigen_storage_len,
    kronecker_eigen_workspace_len,
};
pub use gp::FactorDerivative;
pub use modes::{MAX_FACTORS, kron_apply_workspace_len};

use crate::error::{Error, Result, expect_dim};
use crate::op::LinearOperator;
use crate::real::Real;
use crate::view::{MatMut, MatRef};
use modes::{kron_apply, product};

/// Names for errors about factor `k` (an error's argument is a `&'static str`).
const FACTOR_NAMES: [&str; MAX_FACTORS] = [
    "Kronecker factor 0",
    "Kronecker factor 1",
    "Kronecker factor 2",
    "Kronecker factor 3",
    "Kronecker factor 4",
    "Kronecker factor 5",
    "Kronecker factor 6",
    "Kronecker factor 7",
];

/// The factors of a Kronecker product, at most [`MAX_FACTORS`].
pub(crate) type Factors<'a, T> = heapless::Vec<MatRef<'a, T>, MAX_FACTORS>;

/// The Kronecker product `A_0 (x) ... (x) A_{d-1}` of `1 <= d <= 8` factors
/// held as views (any strides; rectangular factors allowed, as for a
/// cross-covariance between new and training grid points).
#[derive(Clone)]
pub struct Kronecker<'a, T> {
    factors: Factors<'a, T>,
    nrows: usize,
    ncols: usize,
}

impl<'a, T: Real> Kronecker<'a, T> {
    /// The product of `factors`, first axis first.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no factor or more than
    /// [`MAX_FACTORS`]; [`Error::NonFinite`] (argument `"Kronecker factor
    /// k"`) for a non-finite entry; [`Error::SizeOverflow`] if the product
    /// of the dimensions overflows.
    pub fn new(factors: &[MatRef<'a, T>]) -> Result<Self> {
        if factors.is_empty() || factors.len() > MAX_FACTORS {
            return Err(Error::InvalidParameter {
                name: "factors",
                requirement: "a Kronecker product takes 1 to 8 factors",
            });
        }
        for (k, f) in factors.iter().enumerate() {
            f.check_finite(FACTOR_NAMES[k])?;
        }
        Ok(Self {
            nrows: product(factors.iter().map(|f| f.nrows()))?,
            ncols: product(factors.iter().map(|f| f.ncols()))?,
            factors: factors.iter().copied().collect(),
        })
    }

    /// The factors.
    pub fn factors(&self) -> &[MatRef<'a, T>] {
        &self.factors
    }

    /// `prod_i rows(A_i)`.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// `prod_i cols(A_i)`.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Fails unless every factor is square.
    fn check_square(&self) -> Result<()> {
        for f in &self.factors {
            f.square_order("Kronecker factor columns")?;
        }
        Ok(())
    }

    /// `tr K = prod_i tr A_i`, `sum n_i` additions.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if a factor is not square;
    /// [`Error::Overflow`] if the trace is not representable.
    pub fn trace(&self) -> Result<T> {
        self.check_square()?;
        let trace = self
            .factors
            .iter()
            .map(|f| (0..f.nrows()).map(|i| f.at(i, i)).sum::<T>())
            .fold(T::one(), |p, t| p * t);
        crate::view::finite_or_overflow(&[trace], "the trace")?;
        Ok(trace)
    }

    /// `out <- diag K = (x)_i diag A_i` (length `N`), `O(N)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if a factor is not square or
    /// `out.len() != N`.
    pub fn diagonal(&self, out: &mut [T]) -> Result<()> {
        self.check_square()?;
        expect_dim("diagonal: length of out", self.nrows, out.len())?;
        let mut slot = out.iter_mut();
        for_each_tuple(&self.factors, |idx| {
            if let Some(o) = slot.next() {
                *o = product_of_entries(&self.factors, idx, idx);
            }
        });
        Ok(())
    }

    /// `out <- K` as a dense `nrows x ncols` matrix (`O(N^2)` memory: for
    /// tests and small cases).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `out` has the wrong shape.
    pub fn to_dense(&self, mut out: MatMut<'_, T>) -> Result<()> {
        expect_dim("to_dense: rows of out", self.nrows, out.nrows())?;
        expect_dim("to_dense: columns of out", self.ncols, out.ncols())?;
        let mut rows = [0usize; MAX_FACTORS];
        let mut i = 0;
        for_each_index(self.factors.iter().map(|f| f.nrows()), &mut rows, |ri| {
            let mut j = 0;
            let mut cols = [0usize; MAX_FACTORS];
            for_each_index(self.factors.iter().map(|f| f.ncols()), &mut cols, |ci| {
                *out.at_mut(i, j) = product_of_entries(&self.factors, ri, ci);
                j += 1;
            });
            i += 1;
        });
        Ok(())
    }

    /// Row and column dimensions of the factors.
    fn dims(&self) -> ([usize; MAX_FACTORS], [usize; MAX_FACTORS]) {
        let mut rows = [0usize; MAX_FACTORS];
        let mut cols = [0usize; MAX_FACTORS];
        for (k, f) in self.factors.iter().enumerate() {
            (rows[k], cols[k]) = f.shape();
        }
        (rows, cols)
    }

    /// The factors transposed.
    fn transposed(&self) -> Factors<'a, T> {
        self.factors.iter().map(|f| f.transpose()).collect()
    }
}

impl<T: Real> LinearOperator<T> for Kronecker<'_, T> {
    fn nrows(&self) -> usize {
        self.nrows
    }
    fn ncols(&self) -> usize {
        self.ncols
    }
    /// [`kron_apply_workspace_len`] of the factor dimensions (for either
    /// direction).
    fn apply_workspace_len(&self) -> usize {
        let (rows, cols) = self.dims();
        let d = self.factors.len();
        let forward = kron_apply_workspace_len(&rows[..d], &cols[..d]);
        let backward = kron_apply_workspace_len(&cols[..d], &rows[..d]);
        forward.max(backward)
    }
    /// `y <- K x` by mode products, `2 N sum_i n_i` flops for square factors.
    fn apply(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        expect_dim("Kronecker apply: length of x", self.ncols, x.len())?;
        expect_dim("Kronecker apply: length of y", self.nrows, y.len())?;
        crate::view::check_finite_slice(x, "x")?;
        kron_apply(&self.factors, x, y, ws)?;
        crate::view::finite_or_overflow(y, "the Kronecker product")
    }
    /// `y <- K^T x = (x)_i A_i^T x`.
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        expect_dim(
            "Kronecker apply_transpose: length of x",
            self.nrows,
            x.len(),
        )?;
        expect_dim(
            "Kronecker apply_transpose: length of y",
            self.ncols,
            y.len(),
        )?;
        crate::view::check_finite_slice(x, "x")?;
        kron_apply(&self.transposed(), x, y, ws)?;
        crate::view::finite_or_overflow(y, "the Kronecker product")
    }
}

/// `prod_k F_k[row_k, col_k]`.
fn product_of_entries<T: Real>(factors: &[MatRef<'_, T>], rows: &[usize], cols: &[usize]) -> T {
    factors
        .iter()
        .enumerate()
        .fold(T::one(), |p, (k, f)| p * f.at(rows[k], cols[k]))
}

/// Calls `f` with every multi-index of the square factors' orders, in
/// row-major order (last index fastest).
fn for_each_tuple<T: Real>(factors: &[MatRef<'_, T>], mut f: impl FnMut(&[usize])) {
    let mut idx = [0usize; MAX_FACTORS];
    for_each_index(factors.iter().map(|a| a.nrows()), &mut idx, |i| f(i));
}

/// Odometer over `0..dims[0] x 0..dims[1] x ...` in row-major order, calling
/// `f` with the current multi-index (a prefix of `idx`).
fn for_each_index(
    dims: impl Iterator<Item = usize> + Clone,
    idx: &mut [usize; MAX_FACTORS],
    mut f: impl FnMut(&[usize]),
) {
    let mut extent = [0usize; MAX_FACTORS];
    let mut d = 0;
    for (k, n) in dims.take(MAX_FACTORS).enumerate() {
        extent[k] = n;
        d = k + 1;
    }
    if extent[..d].contains(&0) {
        return;
    }
    idx[..d].fill(0);
    loop {
        f(&idx[..d]);
        let mut k = d;
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < extent[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// Calls `f` with `prod_k values[k][i_k]` for every multi-index in row-major
/// order, keeping the running prefix products so that each call costs
/// `O(1)` amortized: `O(N)` in all, no workspace.
pub(crate) fn for_each_product<T: Real>(values: &[&[T]], mut f: impl FnMut(T)) {
    let d = values.len();
    if d == 0 || values.iter().any(|v| v.is_empty()) {
        return;
    }
    let mut idx = [0usize; MAX_FACTORS];
    // prefix[k] = prod_{j<k} values[j][idx[j]]
    let mut prefix = [T::one(); MAX_FACTORS + 1];
    for k in 0..d {
        prefix[k + 1] = prefix[k] * values[k][0];
    }
    let last = &values[d - 1];
    loop {
        let head = prefix[d - 1];
        for &v in last.iter() {
            f(head * v);
        }
        // advance the odometer over the leading d - 1 axes
        let mut k = d - 1;
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < values[k].len() {
                break;
            }
            idx[k] = 0;
        }
        for j in k..d - 1 {
            prefix[j + 1] = prefix[j] * values[j][idx[j]];
        }
    }
}
