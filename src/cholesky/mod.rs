//! The Cholesky family: `A = L L^T` for symmetric positive-definite `A`.
//!
//! - [`cholesky_in_place`] / [`cholesky_into`]: factor (blocked for large
//!   orders, `n^3 / 3` flops); on failure the input is restored bit for bit.
//! - [`Cholesky`]: the factor, generic over its storage (a view, a fixed
//!   array `[[T; N]; N]`, an owned matrix), with solves, log-determinant,
//!   inverse, reconstruction, rank-one update and downdate.
//! - [`cholesky_jitter_in_place`]: retries with a growing diagonal shift.
//! - [`pivoted_cholesky`]: greedy low-rank factor `K ~ G G^T`.
//!
//! ```
//! use gramkit::{MatMut, cholesky::{cholesky_in_place, cholesky_in_place_workspace_len}};
//! let mut a = [4.0f64, 2.0, 2.0, 3.0];
//! let mut ws = [0.0; cholesky_in_place_workspace_len(2)];
//! let chol = cholesky_in_place(MatMut::from_row_major(&mut a, 2, 2)?, &mut ws)?;
//! let mut b = [2.0, 1.0];
//! chol.solve_in_place(&mut b)?;
//! assert!((b[0] - 0.5).abs() < 1e-15 && b[1].abs() < 1e-15);
//! assert!((chol.log_det() - 8.0f64.ln()).abs() < 1e-15);
//! # Ok::<(), gramkit::Error>(())
//! ```

mod factor;
mod jitter;
mod pivoted;
mod solve;
mod update;

pub use jitter::{JitterOptions, cholesky_jitter_in_place, cholesky_jitter_in_place_workspace_len};
pub(crate) use pivoted::pivoted_factor;
pub use pivoted::{
    FnSource, PivotedCholesky, PivotedOptions, SymmetricSource, pivoted_cholesky,
    pivoted_cholesky_workspace_len,
};
pub use update::{cholesky_downdate_workspace_len, cholesky_update_workspace_len};

use crate::error::{Error, Result};
use crate::real::Real;
use crate::simd::dispatch;
use crate::view::{AsMatMut, AsMatRef, MatMut, MatRef};
use crate::workspace::{Workspace, add};
use factor::{Blocked, UNBLOCKED_MAX, blocked_workspace_len, factor_unblocked};

/// A Cholesky factor `A = L L^T`, stored in the lower triangle of `S`.
///
/// `S` is any [`AsMatRef`] storage: a [`MatRef`] ([`CholeskyRef`]), a
/// [`MatMut`] ([`CholeskyMut`], which adds update, downdate and in-place
/// inverse), a fixed array ([`FixedCholesky`]) or an owned matrix. Every
/// storage shares the same implementation. The invariant, checked on
/// construction: `L` is square with a finite lower triangle and a positive
/// diagonal. Only the lower triangle is read; the strictly upper triangle may
/// hold anything.
#[derive(Clone, Copy)]
pub struct Cholesky<S> {
    l: S,
}

/// A factor over a read-only view.
pub type CholeskyRef<'a, T> = Cholesky<MatRef<'a, T>>;
/// A factor over a mutable view (as returned by [`cholesky_in_place`]).
pub type CholeskyMut<'a, T> = Cholesky<MatMut<'a, T>>;
/// A factor held by value in a fixed-size array, e.g. entirely on the stack
/// of a microcontroller.
///
/// ```
/// use gramkit::cholesky::FixedCholesky;
/// let a = [[4.0f32, 2.0], [2.0, 3.0]];
/// let chol = FixedCholesky::factor(&a)?;
/// let x = chol.solve(&[2.0, 1.0])?;
/// assert!((x[0] - 0.5).abs() < 1e-6 && x[1].abs() < 1e-6);
/// # Ok::<(), gramkit::Error>(())
/// ```
pub type FixedCholesky<T, const N: usize> = Cholesky<[[T; N]; N]>;

/// Workspace length of [`cholesky_in_place`] for order `n`: `n` for the
/// diagonal backup, plus packing space for the blocked kernel when `n > 32`
/// (about `14 * min(n, 128)` per row).
pub const fn cholesky_in_place_workspace_len(n: usize) -> usize {
    add(n, blocked_workspace_len(n))
}

/// Factors the symmetric positive-definite `A` in place: `A = L L^T`.
///
/// Reads the lower triangle of `a` (`n x n`, any strides) and overwrites it
/// with `L`. The strictly upper triangle receives the transpose of the
/// strictly lower triangle of the input (so a full symmetric matrix keeps
/// it unchanged): that copy, with the diagonal saved in the workspace, is
/// what restores the input exactly when the factorization fails. Cost
/// `n^3 / 3` flops; orders above 32 run a two-level blocked algorithm
/// whose updates use an FMA register tile (AVX2 picked at run time with
/// `std`). Workspace [`cholesky_in_place_workspace_len`]`(n)`.
///
/// # Errors
/// - [`Error::DimensionMismatch`] if `a` is not square;
/// - [`Error::WorkspaceTooSmall`];
/// - [`Error::NonFinite`] if the lower triangle holds NaN or infinity
///   (nothing is written);
/// - [`Error::NotPositiveDefinite`] with the 0-based index of the first
///   pivot that is not positive (or is NaN); the lower triangle and the
///   diagonal are then restored bit for bit.
pub fn cholesky_in_place<'a, T: Real>(
    mut a: MatMut<'a, T>,
    ws: &mut [T],
) -> Result<CholeskyMut<'a, T>> {
    let n = a.rb().square_order("cholesky: columns of A")?;
    let mut ws = Workspace::new(ws, cholesky_in_place_workspace_len(n))?;
    a.rb().check_finite_lower("A")?;
    let diag = ws.take(n)?;
    let pack = ws.take(blocked_workspace_len(n))?;
    for (i, d) in diag.iter_mut().enumerate() {
        *d = a.at(i, i);
    }
    mirror_lower_to_upper(&mut a);
    match factor_lower(&mut a, pack) {
        Ok(()) => Ok(Cholesky { l: a }),
        Err(e) => {
            restore_lower_from_upper(&mut a, diag);
            Err(e)
        }
    }
}

/// Workspace length of [`cholesky_into`] for order `n` (packing space only;
/// 0 for `n <= 48`).
pub const fn cholesky_into_workspace_len(n: usize) -> usize {
    blocked_workspace_len(n)
}

/// Factors `A` into a separate output: `l <- L` with `A = L L^T`, its strictly
/// upper triangle set to zero. Only the lower triangle of `a` is read and
/// `a` is never written. Cost and algorithm as [`cholesky_in_place`];
/// workspace [`cholesky_into_workspace_len`]`(n)`.
///
/// # Errors
/// As [`cholesky_in_place`], plus [`Error::DimensionMismatch`] if `l` is not
/// `n x n`. On error the contents of `l` are unspecified.
pub fn cholesky_into<'a, T: Real>(
    a: MatRef<'_, T>,
    mut l: MatMut<'a, T>,
    ws: &mut [T],
) -> Result<CholeskyMut<'a, T>> {
    let n = a.square_order("cholesky: columns of A")?;
    crate::error::expect_dim("cholesky: rows of L", n, l.nrows())?;
    crate::error::expect_dim("cholesky: columns of L", n, l.ncols())?;
    let mut ws = Workspace::new(ws, cholesky_into_workspace_len(n))?;
    a.check_finite_lower("A")?;
    for i in 0..n {
        for j in 0..n {
            *l.at_mut(i, j) = if j <= i { a.at(i, j) } else { T::zero() };
        }
    }
    factor_lower(&mut l, ws.take(blocked_workspace_len(n))?)?;
    Ok(Cholesky { l })
}

/// Factors the lower triangle in place: unblocked for small orders,
/// blocked (with `pack` of [`blocked_workspace_len`]) otherwise.
pub(crate) fn factor_lower<T: Real>(a: &mut MatMut<'_, T>, pack: &mut [T]) -> Result<()> {
    if a.nrows() <= UNBLOCKED_MAX {
        factor_unblocked(a)
    } else {
        dispatch(Blocked { a, ws: pack })
    }
}

/// Side of the tiles of [`copy_triangle`]: two `16 x 16` tiles of `f64`
/// fit in L1 whatever the strides.
const TILE: usize = 16;

/// Copies the strictly lower triangle onto the strictly upper one
/// (`UPWARD`) or back, tile by tile so that both the reads and the
/// transposed writes stay in cache for large orders.
fn copy_triangle<T: Real, const UPWARD: bool>(a: &mut MatMut<'_, T>) {
    let n = a.nrows();
    let (data, rs, cs) = a.raw_mut();
    for i0 in (0..n).step_by(TILE) {
        for j0 in (0..=i0).step_by(TILE) {
            for i in i0..(i0 + TILE).min(n) {
                for j in j0..(j0 + TILE).min(i) {
                    let (lower, upper) = (i * rs + j * cs, j * rs + i * cs);
                    if UPWARD {
                        data[upper] = data[lower];
                    } else {
                        data[lower] = data[upper];
                    }
                }
            }
        }
    }
}

/// `a[j][i] <- a[i][j]` for `i > j`.
fn mirror_lower_to_upper<T: Real>(a: &mut MatMut<'_, T>) {
    copy_triangle::<T, true>(a);
}

/// Undoes a failed in-place factorization: the strictly lower triangle from
/// its mirror, the diagonal from the backup.
fn restore_lower_from_upper<T: Real>(a: &mut MatMut<'_, T>, diag: &[T]) {
    copy_triangle::<T, false>(a);
    for (i, &d) in diag.iter().enumerate() {
        *a.at_mut(i, i) = d;
    }
}

/// `a[i][j] <- 0` for `j > i`.
#[inline(always)]
fn zero_upper<T: Real>(a: &mut MatMut<'_, T>) {
    for i in 0..a.nrows() {
        for j in i + 1..a.ncols() {
            *a.at_mut(i, j) = T::zero();
        }
    }
}

impl<T: Real, S: AsMatRef<Scalar = T>> Cholesky<S> {
    /// Wraps storage that already holds a Cholesky factor in its lower
    /// triangle (e.g. one computed earlier and kept).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if not square, [`Error::NonFinite`] for a
    /// non-finite lower triangle, [`Error::NotPositiveDefinite`] for a
    /// diagonal entry that is not positive.
    pub fn from_factor(l: S) -> Result<Self> {
        let v = l.as_mat_ref();
        let n = v.square_order("cholesky factor: columns")?;
        v.check_finite_lower("L")?;
        if let Some(pivot) = (0..n).find(|&i| !(v.at(i, i) > T::zero())) {
            return Err(Error::NotPositiveDefinite { pivot });
        }
        Ok(Self { l })
    }

    /// Wraps storage known to hold a valid factor (crate-internal: the
    /// caller has just computed it), skipping the `O(n^2)` checks.
    pub(crate) fn from_factor_unchecked(l: S) -> Self {
        Self { l }
    }

    /// Order `n` of the factored matrix.
    pub fn dim(&self) -> usize {
        self.l.as_mat_ref().nrows()
    }

    /// The storage as a view; its lower triangle is `L`.
    pub fn l(&self) -> MatRef<'_, T> {
        self.l.as_mat_ref()
    }

    /// A read-only handle on the same factor.
    pub fn as_ref(&self) -> CholeskyRef<'_, T> {
        Cholesky {
            l: self.l.as_mat_ref(),
        }
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.l
    }
}

impl<T: Real, S: AsMatMut<Scalar = T>> Cholesky<S> {
    /// A mutable view of the factor's storage, for the update routines.
    pub(crate) fn view_mut(&mut self) -> MatMut<'_, T> {
        self.l.as_mat_mut()
    }
}

impl<T: Real, const N: usize> Cholesky<[[T; N]; N]> {
    /// Factors a fixed-size matrix by value (reading its lower triangle);
    /// the factor's strictly upper triangle is zero. No workspace, no
    /// allocation: for small `N` everything stays in registers and on the
    /// stack. Cost `N^3 / 3` flops (unblocked).
    ///
    /// # Errors
    /// [`Error::NonFinite`], [`Error::NotPositiveDefinite`]; `a` is never
    /// modified.
    #[inline]
    pub fn factor(a: &[[T; N]; N]) -> Result<Self> {
        let mut l = *a;
        let mut v = MatMut::from_array(&mut l);
        // Inlined here so that the loops see the constant order `N`. A NaN or
        // infinity in the lower triangle makes a pivot fail (NaN or -inf)
        // unless it is a +inf on the diagonal, which leaves an infinite
        // `l_ii`: the input is scanned only in those two cases.
        let factored = factor_unblocked(&mut v);
        let input = MatRef::from_array(a);
        match factored {
            Ok(()) if (0..N).all(|i| l[i][i].is_finite()) => {}
            Ok(()) => return input.check_finite_lower("A").map(|()| Self { l }),
            Err(e) => return Err(input.check_finite_lower("A").err().unwrap_or(e)),
        }
        zero_upper(&mut MatMut::from_array(&mut l));
        Ok(Self { l })
    }

    /// `A^{-1} b` by value.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a non-finite `b`.
    pub fn solve(&self, b: &[T; N]) -> Result<[T; N]> {
        let mut x = *b;
        self.solve_in_place(&mut x)?;
        Ok(x)
    }

    /// `A^{-1}` by value (full symmetric).
    ///
    /// # Errors
    /// [`Error::Overflow`] if an entry exceeds the largest finite value.
    pub fn inverse(&self) -> Result<[[T; N]; N]> {
        let mut out = self.l;
        solve::invert_lower_in_place(&mut MatMut::from_array(&mut out))?;
        Ok(out)
    }
}
