//! Rank-one update `L L^T + x x^T` and downdate `L L^T - x x^T` of a factor
//! in `O(n^2)` by plane rotations (Golub & Van Loan, *Matrix Computations*,
//! section 6.5; the mathematics of LINPACK's `dchud` and `dchdd`). Both
//! read and write only the lower triangle of the factor's storage.
// Pivot tests are written `!(x > 0)` on purpose: NaN must fail them.
use super::Cholesky;
use crate::dense::{max_abs, scaled_norm};
use crate::error::{Error, Result, expect_dim};
use crate::real::{Real, madd};
use crate::simd::{FmaKernel, dispatch};
use crate::view::{AsMatMut, MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, mul};

/// Workspace length of [`Cholesky::update`] for order `n`: `n` (the vector
/// being rotated into the factor).
pub const fn cholesky_update_workspace_len(n: usize) -> usize {
    n
}

/// Workspace length of [`Cholesky::downdate`] for order `n`: `2 n` (the
/// cosines and sines of the `n` rotations).
pub const fn cholesky_downdate_workspace_len(n: usize) -> usize {
    mul(2, n)
}

impl<T: Real, S: AsMatMut<Scalar = T>> Cholesky<S> {
    /// Rank-one update: overwrites the factor `L` of `A` with the factor of
    /// `A + x x^T`.
    ///
    /// Column `k` of `[L | w]` (with `w = x` initially) is rotated against
    /// `w` by the Givens rotation `(c, s) = (l_kk, w_k) / r`,
    /// `r = hypot(l_kk, w_k)`, which zeroes `w_k` and makes the new diagonal
    /// `r >= l_kk > 0`. Each row of `[L | x]` keeps its norm, so the update
    /// is backward stable. Cost about `2 n^2` multiply-adds; `x` is not
    /// modified. Workspace [`cholesky_update_workspace_len`]`(n)`. Any
    /// storage strides work; only the lower triangle is read and written.
    ///
    /// # Errors
    /// Checked before the factor is touched, which is then unchanged:
    /// - [`Error::DimensionMismatch`] if `x.len() != n`;
    /// - [`Error::WorkspaceTooSmall`];
    /// - [`Error::NonFinite`] for a non-finite `x`;
    /// - [`Error::Overflow`] when a row of the result is too large to
    ///   represent (its norm above half the largest finite value).
    ///
    /// ```
    /// use gramkit::{MatMut, cholesky::{cholesky_in_place, cholesky_update_workspace_len}};
    /// let mut a = [4.0f64, 2.0, 2.0, 3.0];
    /// let mut ws = [0.0; 4];
    /// let mut chol = cholesky_in_place(MatMut::from_row_major(&mut a, 2, 2)?, &mut ws)?;
    /// let mut ws = [0.0; cholesky_update_workspace_len(2)];
    /// chol.update(&[1.0, 1.0], &mut ws)?; // now factors [[5, 3], [3, 4]]
    /// let mut full = [0.0; 4];
    /// chol.reconstruct_into(MatMut::from_row_major(&mut full, 2, 2)?)?;
    /// assert!((full[0] - 5.0).abs() < 1e-14 && (full[1] - 3.0).abs() < 1e-14);
    /// assert!((full[3] - 4.0).abs() < 1e-14);
    /// # Ok::<(), gramkit::Error>(())
    /// ```
    pub fn update(&mut self, x: &[T], ws: &mut [T]) -> Result<()> {
        let n = self.dim();
        expect_dim("cholesky update: length of x", n, x.len())?;
        let mut ws = Workspace::new(ws, cholesky_update_workspace_len(n))?;
        check_finite_slice(x, "x")?;
        check_update_range(self.l(), x)?;
        let w = ws.take(n)?;
        w.copy_from_slice(x);
        apply_update(&mut self.view_mut(), w);
        Ok(())
    }

    /// Rank-one downdate: overwrites the factor `L` of `A` with the factor
    /// of `A - x x^T`, which must be positive definite.
    ///
    /// With `p = L^{-1} x`, `A - x x^T = L (I - p p^T) L^T` is positive
    /// definite iff `|p| < 1`. Rotations in the planes `(k, n)` for
    /// `k = n-1, ..., 0` carry `[p; alpha]`, `alpha = sqrt(1 - |p|^2)`, to
    /// `[0; 1]`; applied to `[L^T; 0]` they give `[L'^T; x^T]`, so
    /// `L' L'^T = A - x x^T`. The new diagonal is `l'_kk = c_k l_kk` with
    /// `c_k = sqrt(1 - sum_{i<=k} p_i^2) / sqrt(1 - sum_{i<k} p_i^2)`,
    /// known before anything is written. This is the stable (LINPACK
    /// `dchdd`) form: orthogonal rotations rather than hyperbolic ones, so
    /// a factor can be carried through many downdates. Cost about
    /// `2.5 n^2` multiply-adds (`n^2 / 2` in the triangular solve); `x` is not
    /// modified. Workspace [`cholesky_downdate_workspace_len`]`(n)`. Any
    /// storage strides work; only the lower triangle is read and written.
    ///
    /// # Errors
    /// Nothing is written unless the downdate succeeds:
    /// - [`Error::DimensionMismatch`] if `x.len() != n`;
    /// - [`Error::WorkspaceTooSmall`];
    /// - [`Error::NonFinite`] for a non-finite `x`;
    /// - [`Error::DowndateFailed`] with the 0-based `index` of the first
    ///   leading block of `A - x x^T` that is not positive definite, i.e.
    ///   the smallest `k` with `1 - sum_{i<=k} p_i^2` not positive (or a new
    ///   diagonal entry that would underflow to zero). The factor is then
    ///   unchanged, bit for bit;
    /// - [`Error::Overflow`] when an entry of the downdated factor would not
    ///   be representable (the factor unchanged, as above).
    ///
    /// ```
    /// use gramkit::{Error, MatMut, cholesky::{cholesky_in_place, cholesky_downdate_workspace_len}};
    /// let mut a = [5.0f64, 3.0, 3.0, 4.0];
    /// let mut ws = [0.0; 4];
    /// let mut chol = cholesky_in_place(MatMut::from_row_major(&mut a, 2, 2)?, &mut ws)?;
    /// let mut ws = [0.0; cholesky_downdate_workspace_len(2)];
    /// chol.downdate(&[1.0, 1.0], &mut ws)?; // now factors [[4, 2], [2, 3]]
    /// assert!((chol.log_det() - 8.0f64.ln()).abs() < 1e-14);
    /// // [[4, 2], [2, 3]] - [3, 0] [3, 0]^T has a negative leading entry.
    /// assert_eq!(chol.downdate(&[3.0, 0.0], &mut ws), Err(Error::DowndateFailed { index: 0 }));
    /// # Ok::<(), gramkit::Error>(())
    /// ```
    pub fn downdate(&mut self, x: &[T], ws: &mut [T]) -> Result<()> {
        let n = self.dim();
        expect_dim("cholesky downdate: length of x", n, x.len())?;
        let mut ws = Workspace::new(ws, cholesky_downdate_workspace_len(n))?;
        check_finite_slice(x, "x")?;
        let cos = ws.take(n)?;
        let sin = ws.take(n)?;
        sin.copy_from_slice(x);
        self.solve_lower_in_place(sin)?;
        downdate_rotations(cos, sin)?;
        check_downdate_diagonal(self.l(), cos)?;
        apply_downdate(&mut self.view_mut(), cos, sin);
        Ok(())
    }
}

/// Fails unless every row of `[L | x]` has a 2-norm of at most half the
/// largest finite value. Rotations preserve these row norms, so every
/// intermediate and final entry of the update then stays finite.
fn check_update_range<T: Real>(l: MatRef<'_, T>, x: &[T]) -> Result<()> {
    let limit = T::from_f64(0.5) * T::max_value();
    for (i, &xi) in x.iter().enumerate() {
        let row = (0..=i).map(|k| l.at(i, k)).chain(core::iter::once(xi));
        let m = max_abs(row.clone());
        // Cheap bound first: the norm is at most m sqrt(i + 2).
        let quick = m * T::from_usize(i + 2).sqrt() <= limit;
        if !(quick || scaled_norm(row) <= limit) {
            return Err(Error::Overflow {
                what: "a row of the updated factor",
            });
        }
    }
    Ok(())
}

/// Rotates `w` into `L` column by column (the `dchud` recurrence).
fn apply_update<T: Real>(l: &mut MatMut<'_, T>, w: &mut [T]) {
    let n = w.len();
    for k in 0..n {
        let lkk = l.at(k, k);
        let r = lkk.hypot(w[k]);
        let c = lkk / r;
        let s = w[k] / r;
        *l.at_mut(k, k) = r;
        for (i, wi) in w.iter_mut().enumerate().skip(k + 1) {
            let lik = l.at(i, k);
            *l.at_mut(i, k) = c * lik + s * *wi;
            *wi = c * *wi - s * lik;
        }
    }
}

/// Turns `sin = p = L^{-1} x` into the rotations of the downdate, in place,
/// and fills `cos`: going `k = n-1, ..., 0`, the rotation `k` zeroes `p_k`
/// against `alpha`, which grows from `sqrt(1 - |p|^2)` to 1.
fn downdate_rotations<T: Real>(cos: &mut [T], sin: &mut [T]) -> Result<()> {
    let norm = scaled_norm(sin.iter().copied());
    if !(norm < T::one()) {
        return Err(Error::DowndateFailed {
            index: first_failing_block(sin),
        });
    }
    // 1 - |p|^2 as (1 - |p|)(1 + |p|): one rounding less when |p| ~ 1.
    let mut alpha = ((T::one() - norm) * (T::one() + norm)).sqrt();
    for (c, s) in cos.iter_mut().zip(sin.iter_mut()).rev() {
        let r = alpha.hypot(*s);
        *c = alpha / r;
        *s /= r;
        alpha = r;
    }
    Ok(())
}

/// Smallest `k` with `sum_{i<=k} p_i^2 >= 1` (or NaN); `n - 1` if rounding
/// leaves every prefix sum below 1 although `|p| >= 1` by the scaled norm.
fn first_failing_block<T: Real>(p: &[T]) -> usize {
    let mut sum = T::zero();
    for (k, &pk) in p.iter().enumerate() {
        sum += pk * pk;
        if !(sum < T::one()) {
            return k;
        }
    }
    p.len().saturating_sub(1)
}

/// Fails with the first `k` whose new diagonal `c_k l_kk` is not positive
/// and finite (possible only by underflow once `|p| < 1`).
fn check_downdate_diagonal<T: Real>(l: MatRef<'_, T>, cos: &[T]) -> Result<()> {
    match cos.iter().enumerate().find(|&(k, &c)| {
        let d = c * l.at(k, k);
        !(d > T::zero() && d.is_finite())
    }) {
        Some((index, _)) => Err(Error::DowndateFailed { index }),
        None => Ok(()),
    }
}

/// Applies the rotations to `[L^T; 0]`: row `j` of `L` meets the rotations
/// `j, j-1, ..., 0` (those above `j` act on zeros), with `t` the entry of
/// the appended row, which ends as `x_j`.
fn apply_downdate<T: Real>(l: &mut MatMut<'_, T>, cos: &[T], sin: &[T]) {
    dispatch(DowndateSweep { l, cos, sin });
}

/// The rotation sweep of a downdate as a dispatched computation: rows in
/// blocks of four, so that four independent chains of the carried entry
/// run at once.
struct DowndateSweep<'m, 'l, 'c, T> {
    l: &'m mut MatMut<'l, T>,
    cos: &'c [T],
    sin: &'c [T],
}

impl<T: Real> FmaKernel for DowndateSweep<'_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        const ROWS: usize = 4;
        let DowndateSweep { l, cos, sin } = self;
        let n = cos.len();
        let mut j0 = 0;
        while j0 < n {
            let rows = ROWS.min(n - j0);
            let mut t = [T::zero(); ROWS];
            // the triangle at the top of the block: row j0 + q starts at column j0 + q
            for i in (j0 + 1..j0 + rows).rev() {
                for q in i - j0..rows {
                    rotate_entry::<T, FMA>(l, j0 + q, i, cos[i], sin[i], &mut t[q]);
                }
            }
            // columns below the block's first row: four independent chains
            for i in (0..=j0).rev() {
                for (q, tq) in t.iter_mut().enumerate().take(rows) {
                    rotate_entry::<T, FMA>(l, j0 + q, i, cos[i], sin[i], tq);
                }
            }
            j0 += rows;
        }
    }
}

/// One rotation of entry `(j, i)` of `L` against the carried `t`.
#[inline(always)]
fn rotate_entry<T: Real, const FMA: bool>(
    l: &mut MatMut<'_, T>,
    j: usize,
    i: usize,
    c: T,
    s: T,
    t: &mut T,
) {
    let lji = l.at(j, i);
    *l.at_mut(j, i) = madd::<T, FMA>(c, lji, -s * *t);
    *t = madd::<T, FMA>(c, *t, s * lji);
}
