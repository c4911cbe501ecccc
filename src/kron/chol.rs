//! Per-factor Cholesky of a Kronecker product: `chol K = (x)_i chol A_i`.

use super::modes::{kron_apply, product};
use super::{FACTOR_NAMES, Factors, Kronecker, MAX_FACTORS};
use crate::cholesky::{CholeskyRef, cholesky_into, cholesky_into_workspace_len};
use crate::error::{Error, Result, expect_dim};
use crate::op::{LinearOperator, LogDet, Solve};
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{add, mul};

/// Storage length of [`Kronecker::cholesky`] for square factors of orders
/// `orders`: `sum_i n_i^2` (one row-major factor each).
pub const fn kronecker_cholesky_storage_len(orders: &[usize]) -> usize {
    let mut len = 0usize;
    let mut k = 0;
    while k < orders.len() {
        len = add(len, mul(orders[k], orders[k]));
        k += 1;
    }
    len
}

/// Workspace length of [`Kronecker::cholesky`]: the largest factor's
/// Cholesky scratch.
pub const fn kronecker_cholesky_workspace_len(orders: &[usize]) -> usize {
    let mut len = 0usize;
    let mut k = 0;
    while k < orders.len() {
        let w = cholesky_into_workspace_len(orders[k]);
        if w > len {
            len = w;
        }
        k += 1;
    }
    len
}

/// The Cholesky factors `L_i` of the factors of a Kronecker product, so that
/// `K = (x)_i L_i L_i^T`. Built by [`Kronecker::cholesky`]; the factors live
/// in the caller's storage (row-major, strictly upper triangles zero).
#[derive(Clone)]
pub struct KroneckerCholesky<'s, T> {
    factors: Factors<'s, T>,
    n: usize,
}

impl<'a, T: Real> Kronecker<'a, T> {
    /// Factors every `A_i = L_i L_i^T`, `sum_i n_i^3 / 3` flops. Storage
    /// [`kronecker_cholesky_storage_len`], workspace
    /// [`kronecker_cholesky_workspace_len`] of the orders.
    ///
    /// A factor counts as numerically positive definite when every pivot
    /// `l_jj^2` exceeds `n_i eps max_j a_jj`; below that the pivot is
    /// rounding noise and `log|A_i|` would be meaningless.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if a factor is not square;
    /// [`Error::WorkspaceTooSmall`] for short storage or workspace;
    /// [`Error::NotPositiveDefiniteFactor`] naming the first factor and
    /// pivot that fail.
    pub fn cholesky<'s>(
        &self,
        storage: &'s mut [T],
        ws: &mut [T],
    ) -> Result<KroneckerCholesky<'s, T>> {
        self.check_square()?;
        let orders = self.orders();
        let orders = &orders[..self.factors.len()];
        let needed = kronecker_cholesky_storage_len(orders);
        if storage.len() < needed {
            return Err(Error::WorkspaceTooSmall {
                needed,
                got: storage.len(),
            });
        }
        let mut rest = storage;
        let mut factors = Factors::new();
        for (k, a) in self.factors.iter().enumerate() {
            let n = orders[k];
            let (chunk, tail) = rest.split_at_mut(n * n);
            rest = tail;
            let l = MatMut::from_row_major(chunk, n, n)?;
            cholesky_into(*a, l, ws).map_err(|e| as_factor_error(e, k))?;
            let l: MatRef<'s, T> = MatRef::from_row_major(chunk, n, n)?;
            check_pivots(*a, l, k)?;
            factors.push(l).map_err(|_| Error::SizeOverflow)?;
        }
        Ok(KroneckerCholesky {
            factors,
            n: self.nrows,
        })
    }

    /// Orders of the (square) factors.
    pub(crate) fn orders(&self) -> [usize; MAX_FACTORS] {
        self.dims().0
    }
}

/// Maps a factor's pivot failure to the Kronecker error naming the factor.
fn as_factor_error(e: Error, factor: usize) -> Error {
    match e {
        Error::NotPositiveDefinite { pivot } => Error::NotPositiveDefiniteFactor { factor, pivot },
        Error::NonFinite { row, col, .. } => Error::NonFinite {
            argument: FACTOR_NAMES[factor],
            row,
            col,
        },
        other => other,
    }
}

/// Fails with [`Error::NotPositiveDefiniteFactor`] at the first pivot at
/// rounding level: `l_jj^2 <= n eps max_j a_jj`.
fn check_pivots<T: Real>(a: MatRef<'_, T>, l: MatRef<'_, T>, factor: usize) -> Result<()> {
    let n = a.nrows();
    let max_diag = (0..n).map(|j| a.at(j, j)).fold(T::zero(), T::max);
    let floor = T::from_usize(n) * T::EPS * max_diag;
    match (0..n).find(|&j| !(l.at(j, j) * l.at(j, j) > floor)) {
        Some(pivot) => Err(Error::NotPositiveDefiniteFactor { factor, pivot }),
        None => Ok(()),
    }
}

impl<'s, T: Real> KroneckerCholesky<'s, T> {
    /// The factors `L_i` (lower triangular, row-major).
    pub fn factors(&self) -> &[MatRef<'s, T>] {
        &self.factors
    }

    /// `log|K| = sum_i (N / n_i) log|A_i|`, `sum_i n_i` logarithms.
    pub fn log_det(&self) -> T {
        self.factors
            .iter()
            .map(|l| {
                let per_factor = CholeskyRef::from_factor(*l).map_or(T::nan(), |c| c.log_det());
                T::from_usize(self.n / l.nrows().max(1)) * per_factor
            })
            .sum()
    }

    /// `b <- K^{-1} b` by mode solves with each `A_i = L_i L_i^T` in place:
    /// `2 N sum_i n_i` flops, no workspace.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`] (`b` unchanged),
    /// [`Error::Overflow`] (`b` overwritten).
    pub fn solve_in_place(&self, b: &mut [T]) -> Result<()> {
        expect_dim("Kronecker solve: length of b", self.n, b.len())?;
        check_finite_slice(b, "b")?;
        for (k, l) in self.factors.iter().enumerate() {
            let chol = CholeskyRef::from_factor(*l)?;
            for_each_fiber_block(&self.factors, k, b, |block| {
                chol.solve_matrix_in_place(block)
            })?;
        }
        Ok(())
    }
}

/// Calls `f` on every block of mode-`k` fibers of the row-major tensor `x`
/// whose axes have the factors' orders: `n_k x R` row-major blocks, or, when
/// `k` is the last axis, the whole tensor seen as `n_k x L` with unit row
/// stride.
pub(crate) fn for_each_fiber_block<T: Real>(
    factors: &[MatRef<'_, T>],
    k: usize,
    x: &mut [T],
    mut f: impl FnMut(MatMut<'_, T>) -> Result<()>,
) -> Result<()> {
    let n = factors[k].nrows();
    let right = product(factors[k + 1..].iter().map(|a| a.nrows()))?;
    if n == 0 || x.is_empty() {
        return Ok(());
    }
    if right == 1 {
        let left = x.len() / n;
        return f(MatMut::from_strided(x, n, left, 1, n)?);
    }
    for block in x.chunks_exact_mut(n * right) {
        f(MatMut::from_row_major(block, n, right)?)?;
    }
    Ok(())
}

impl<T: Real> LinearOperator<T> for KroneckerCholesky<'_, T> {
    fn nrows(&self) -> usize {
        self.n
    }
    fn ncols(&self) -> usize {
        self.n
    }
    /// `N` for the intermediate `(x)_i L_i^T x`, plus the mode products'.
    fn apply_workspace_len(&self) -> usize {
        let orders: heapless::Vec<usize, MAX_FACTORS> =
            self.factors.iter().map(|l| l.nrows()).collect();
        add(self.n, super::kron_apply_workspace_len(&orders, &orders))
    }
    /// `y <- K x = ((x)_i L_i) ((x)_i L_i^T) x`, `4 N sum_i n_i` flops.
    fn apply(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        expect_dim("apply: length of x", self.n, x.len())?;
        expect_dim("apply: length of y", self.n, y.len())?;
        check_finite_slice(x, "x")?;
        let mut ws = crate::workspace::Workspace::new(ws, self.apply_workspace_len())?;
        let z = ws.take(self.n)?;
        let rest = ws.take(self.apply_workspace_len() - self.n)?;
        let upper: Factors<'_, T> = self.factors.iter().map(|l| l.transpose()).collect();
        kron_apply(&upper, x, z, rest)?;
        kron_apply(&self.factors, z, y, rest)
    }
    /// `K` is symmetric.
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        self.apply(x, y, ws)
    }
}

impl<T: Real> Solve<T> for KroneckerCholesky<'_, T> {
    fn solve_in_place(&self, b: &mut [T], _ws: &mut [T]) -> Result<()> {
        KroneckerCholesky::solve_in_place(self, b)
    }
}

impl<T: Real> LogDet<T> for KroneckerCholesky<'_, T> {
    /// Never fails: the factors were checked when built.
    fn log_det(&self) -> Result<T> {
        Ok(KroneckerCholesky::log_det(self))
    }
}
