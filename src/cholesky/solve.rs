//! Solves, log-determinant, inverse and reconstruction with a factor.

use super::{Cholesky, mirror_lower_to_upper};
use crate::error::{Error, Result, expect_dim};
use crate::level2::{
    BLOCK, axpy, backward_block, block_partial_sums, block_rows, dot_slices, dot_with,
    finish_row_dot, whole_chunks,
};
use crate::op::{LinearOperator, LogDet, Solve};
use crate::real::Real;
use crate::real::madd;
use crate::simd::{FmaKernel, dispatch};
use crate::view::{AsMatMut, AsMatRef, MatMut, MatRef};

/// Forward substitution `L Y = B` in place (`B`: `n x k`), `n^2 k` flops.
/// A row-major `L` with contiguous columns or rows of `B` runs on slices
/// (dot products, or row updates); other layouts go entry by entry.
fn forward<T: Real>(l: MatRef<'_, T>, b: &mut MatMut<'_, T>) {
    substitute(l, b, true);
}

/// Backward substitution `L^T X = Y` in place, `n^2 k` flops.
fn backward<T: Real>(l: MatRef<'_, T>, b: &mut MatMut<'_, T>) {
    substitute(l, b, false);
}

/// Forward (`lower`) or backward substitution, choosing the loop order by
/// the layouts, inside the FMA dispatch.
fn substitute<T: Real>(l: MatRef<'_, T>, b: &mut MatMut<'_, T>, lower: bool) {
    let (n, k) = b.shape();
    if n == 0 || k == 0 {
        return;
    }
    dispatch(Substitute { l, b, lower });
}

/// A substitution as a dispatched computation.
struct Substitute<'l, 'm, 'b, T> {
    l: MatRef<'l, T>,
    b: &'m mut MatMut<'b, T>,
    lower: bool,
}

impl<T: Real> FmaKernel for Substitute<'_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let Substitute { l, b, lower } = self;
        let (n, k) = b.shape();
        let l_rows = l.col_stride() == 1;
        let (data, rs, cs) = b.raw_mut();
        if l_rows && rs == 1 {
            for c in 0..k {
                let col = &mut data[c * cs..c * cs + n];
                if lower {
                    forward_column::<T, FMA>(l, col);
                } else {
                    backward_column::<T, FMA>(l, col);
                }
            }
        } else if l_rows && cs == 1 {
            if lower {
                forward_rows::<T, FMA>(l, data, rs, k);
            } else {
                backward_rows::<T, FMA>(l, data, rs, k);
            }
        } else if lower {
            forward_strided::<T, FMA>(l, b);
        } else {
            backward_strided::<T, FMA>(l, b);
        }
    }
}

/// `x_i <- (x_i - L[i, ..i] . x[..i]) / l_ii` down a contiguous column.
#[inline(always)]
fn forward_column<T: Real, const FMA: bool>(l: MatRef<'_, T>, x: &mut [T]) {
    let n = x.len();
    let mut i = 0;
    while i < n {
        if i + BLOCK <= n
            && let Some(rows) = block_rows(l, i)
        {
            // the whole chunks below row i are solved: the four rows share
            // them, then finish in turn (each needs the ones above it)
            let from = whole_chunks(i);
            let acc = block_partial_sums::<T, FMA>(rows, x, from);
            for (r, (acc, row)) in acc.into_iter().zip(rows).enumerate() {
                let s = finish_row_dot::<T, FMA>(acc, from, row, x, i + r);
                x[i + r] = (x[i + r] - s) / row[i + r];
            }
            i += BLOCK;
            continue;
        }
        if let Some(row) = l.row_slice(i) {
            let s = dot_slices::<T, FMA>(&row[..i], &x[..i]);
            x[i] = (x[i] - s) / row[i];
        }
        i += 1;
    }
}

/// `x_i <- x_i / l_ii; x[..i] -= x_i L[i, ..i]` up a contiguous column.
#[inline(always)]
fn backward_column<T: Real, const FMA: bool>(l: MatRef<'_, T>, x: &mut [T]) {
    let mut end = x.len();
    while end > 0 {
        if end >= BLOCK
            && let Some(rows) = block_rows(l, end - BLOCK)
        {
            let i = end - BLOCK;
            backward_block::<T, FMA>(rows, i, x);
            end = i;
            continue;
        }
        let i = end - 1;
        if let Some(row) = l.row_slice(i) {
            let xi = x[i] / row[i];
            x[i] = xi;
            axpy::<T, FMA>(-xi, &row[..i], &mut x[..i]);
        }
        end = i;
    }
}

/// Rows `r` (mutable) and `k < r` (read) of a row-major buffer.
#[inline(always)]
fn two_rows<T>(data: &mut [T], ld: usize, width: usize, r: usize, k: usize) -> (&mut [T], &[T]) {
    let (head, tail) = data.split_at_mut(r * ld);
    (&mut tail[..width], &head[k * ld..k * ld + width])
}

/// Forward substitution on contiguous rows of `B`:
/// `B[i] <- (B[i] - sum_{k<i} l_ik B[k]) / l_ii`.
#[inline(always)]
fn forward_rows<T: Real, const FMA: bool>(
    l: MatRef<'_, T>,
    data: &mut [T],
    ld: usize,
    width: usize,
) {
    for i in 0..l.nrows() {
        for k in 0..i {
            let lik = l.at(i, k);
            let (bi, bk) = two_rows(data, ld, width, i, k);
            axpy::<T, FMA>(-lik, bk, bi);
        }
        let d = l.at(i, i);
        data[i * ld..i * ld + width]
            .iter_mut()
            .for_each(|x| *x /= d);
    }
}

/// Backward substitution on contiguous rows of `B`:
/// `B[i] <- B[i] / l_ii; B[k] -= l_ik B[i]` for `k < i`.
#[inline(always)]
fn backward_rows<T: Real, const FMA: bool>(
    l: MatRef<'_, T>,
    data: &mut [T],
    ld: usize,
    width: usize,
) {
    for i in (0..l.nrows()).rev() {
        let d = l.at(i, i);
        data[i * ld..i * ld + width]
            .iter_mut()
            .for_each(|x| *x /= d);
        for k in 0..i {
            let lik = l.at(i, k);
            let (head, tail) = data.split_at_mut(i * ld);
            axpy::<T, FMA>(-lik, &tail[..width], &mut head[k * ld..k * ld + width]);
        }
    }
}

/// Forward substitution through indexed access, for any strides, summing
/// as [`forward_column`] does (same bits whatever the layout).
#[inline(always)]
fn forward_strided<T: Real, const FMA: bool>(l: MatRef<'_, T>, b: &mut MatMut<'_, T>) {
    let n = l.nrows();
    for c in 0..b.ncols() {
        for i in 0..n {
            let s = dot_with::<T, FMA>(i, |k| (l.at(i, k), b.at(k, c)));
            *b.at_mut(i, c) = (b.at(i, c) - s) / l.at(i, i);
        }
    }
}

/// Backward substitution through indexed access, for any strides, in the
/// order of [`backward_column`].
#[inline(always)]
fn backward_strided<T: Real, const FMA: bool>(l: MatRef<'_, T>, b: &mut MatMut<'_, T>) {
    let n = l.nrows();
    for c in 0..b.ncols() {
        for i in (0..n).rev() {
            let x = b.at(i, c) / l.at(i, i);
            *b.at_mut(i, c) = x;
            for k in 0..i {
                let v = b.at(k, c);
                *b.at_mut(k, c) = madd::<T, FMA>(-x, l.at(i, k), v);
            }
        }
    }
}

/// `L <- L^{-1}` in place on the lower triangle, `n^3 / 3` flops: column `j`
/// of the inverse is `-L^{-1}[j+1.., j+1..] L[j+1.., j] / l_jj`, and the
/// trailing block is already inverted when columns go right to left.
fn invert_triangle<T: Real>(l: &mut MatMut<'_, T>) {
    let n = l.nrows();
    for j in (0..n).rev() {
        let inv = l.at(j, j).recip();
        *l.at_mut(j, j) = inv;
        for i in (j + 1..n).rev() {
            let mut s = T::zero();
            for k in j + 1..=i {
                s += l.at(i, k) * l.at(k, j);
            }
            *l.at_mut(i, j) = -s * inv;
        }
    }
}

/// `M <- M^T M` on the lower triangle, for lower-triangular `M`, in place:
/// entry `(i, j)` needs rows `k >= i` only, so rows go top to bottom and
/// the diagonal of each row is written last. `n^3 / 3` flops.
fn lower_gram_in_place<T: Real>(m: &mut MatMut<'_, T>) {
    let n = m.nrows();
    for i in 0..n {
        for j in 0..=i {
            let mut s = T::zero();
            for k in i..n {
                s += m.at(k, i) * m.at(k, j);
            }
            *m.at_mut(i, j) = s;
        }
    }
}

/// `A^{-1} = L^{-T} L^{-1}` in place from `L`, written to both triangles;
/// [`Error::Overflow`] if an entry is not representable.
pub(super) fn invert_lower_in_place<T: Real>(l: &mut MatMut<'_, T>) -> Result<()> {
    invert_triangle(l);
    lower_gram_in_place(l);
    mirror_lower_to_upper(l);
    check_result(l.rb(), "an entry of the inverse")
}

/// Fails with [`Error::Overflow`] if a result holds a non-finite entry.
fn check_result<T: Real>(m: MatRef<'_, T>, what: &'static str) -> Result<()> {
    m.check_finite(what).map_err(|_| Error::Overflow { what })
}

impl<T: Real, S: AsMatRef<Scalar = T>> Cholesky<S> {
    /// The solves: checks `B`, substitutes forward (`L`) and/or backward
    /// (`L^T`) in place, then checks that the result is representable.
    fn substitute(&self, mut b: MatMut<'_, T>, lower: bool, upper: bool) -> Result<()> {
        expect_dim("cholesky solve: rows of B", self.dim(), b.nrows())?;
        b.rb().check_finite("B")?;
        if lower {
            forward(self.l(), &mut b);
        }
        if upper {
            backward(self.l(), &mut b);
        }
        check_result(b.rb(), "a solution entry")
    }

    /// `B <- A^{-1} B` for `n x k` right-hand sides (any strides),
    /// `2 n^2 k` flops.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] and
    /// [`Error::NonFinite`], with `B` unchanged;
    /// [`Error::Overflow`] if the solution exceeds the
    /// largest finite value (possible only for a nearly singular `A`), with
    /// `B` overwritten.
    pub fn solve_matrix_in_place(&self, b: MatMut<'_, T>) -> Result<()> {
        self.substitute(b, true, true)
    }

    /// `B <- L^{-1} B` (forward substitution), `n^2 k` flops.
    ///
    /// # Errors
    /// As [`solve_matrix_in_place`](Self::solve_matrix_in_place).
    pub fn solve_lower_matrix_in_place(&self, b: MatMut<'_, T>) -> Result<()> {
        self.substitute(b, true, false)
    }

    /// `B <- L^{-T} B` (backward substitution), `n^2 k` flops.
    ///
    /// # Errors
    /// As [`solve_matrix_in_place`](Self::solve_matrix_in_place).
    pub fn solve_upper_matrix_in_place(&self, b: MatMut<'_, T>) -> Result<()> {
        self.substitute(b, false, true)
    }

    /// `b <- A^{-1} b`, `2 n^2` flops.
    ///
    /// # Errors
    /// As [`solve_matrix_in_place`](Self::solve_matrix_in_place).
    pub fn solve_in_place(&self, b: &mut [T]) -> Result<()> {
        self.solve_matrix_in_place(MatMut::from_column(b))
    }

    /// `b <- L^{-1} b`, `n^2` flops.
    ///
    /// # Errors
    /// As [`solve_matrix_in_place`](Self::solve_matrix_in_place).
    pub fn solve_lower_in_place(&self, b: &mut [T]) -> Result<()> {
        self.solve_lower_matrix_in_place(MatMut::from_column(b))
    }

    /// `b <- L^{-T} b`, `n^2` flops.
    ///
    /// # Errors
    /// As [`solve_matrix_in_place`](Self::solve_matrix_in_place).
    pub fn solve_upper_in_place(&self, b: &mut [T]) -> Result<()> {
        self.solve_upper_matrix_in_place(MatMut::from_column(b))
    }

    /// `log det A = 2 sum_i log l_ii`, `n` logarithms. Summing logarithms
    /// cannot overflow where the determinant itself would.
    pub fn log_det(&self) -> T {
        let l = self.l();
        let two = T::one() + T::one();
        two * (0..self.dim()).map(|i| l.at(i, i).ln()).sum::<T>()
    }

    /// `out <- A^{-1}`, both triangles, `2 n^3 / 3` flops.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `out`
    /// is not `n x n`; [`Error::Overflow`] if an entry
    /// of the inverse exceeds the largest finite value.
    pub fn inverse_into(&self, mut out: MatMut<'_, T>) -> Result<()> {
        self.copy_factor_into(&mut out)?;
        invert_lower_in_place(&mut out)
    }

    /// `out <- L L^T` (the factored matrix, both triangles), `n^3 / 3` flops.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `out`
    /// is not `n x n`.
    pub fn reconstruct_into(&self, mut out: MatMut<'_, T>) -> Result<()> {
        let l = self.l();
        self.write_lower(&mut out, |i, j| {
            (0..=j).fold(T::zero(), |s, k| s + l.at(i, k) * l.at(j, k))
        })?;
        mirror_lower_to_upper(&mut out);
        Ok(())
    }

    /// Copies `L` (lower triangle) into `out`.
    fn copy_factor_into(&self, out: &mut MatMut<'_, T>) -> Result<()> {
        let l = self.l();
        self.write_lower(out, |i, j| l.at(i, j))
    }

    /// Checks that `out` is `n x n` and writes `entry(i, j)` into its lower
    /// triangle.
    fn write_lower(
        &self,
        out: &mut MatMut<'_, T>,
        entry: impl Fn(usize, usize) -> T,
    ) -> Result<()> {
        let n = self.dim();
        expect_dim("rows of out", n, out.nrows())?;
        expect_dim("columns of out", n, out.ncols())?;
        for i in 0..n {
            for j in 0..=i {
                *out.at_mut(i, j) = entry(i, j);
            }
        }
        Ok(())
    }

    /// `y <- A x = L (L^T x)` in place on `y` (holding `x` on entry).
    fn apply_in_place(&self, y: &mut [T]) {
        let l = self.l();
        let n = self.dim();
        for i in 0..n {
            let mut s = T::zero();
            for k in i..n {
                s += l.at(k, i) * y[k];
            }
            y[i] = s;
        }
        for i in (0..n).rev() {
            let mut s = T::zero();
            for k in 0..=i {
                s += l.at(i, k) * y[k];
            }
            y[i] = s;
        }
    }
}

impl<T: Real, S: AsMatMut<Scalar = T>> Cholesky<S> {
    /// Overwrites the factor with `A^{-1}` (both triangles) and gives the
    /// storage back; `2 n^3 / 3` flops, no workspace.
    ///
    /// # Errors
    /// [`Error::Overflow`] if an entry of the inverse
    /// exceeds the largest finite value (the storage then holds no usable
    /// values and is dropped).
    pub fn invert_in_place(mut self) -> Result<S> {
        invert_lower_in_place(&mut self.view_mut())?;
        Ok(self.into_storage())
    }
}

impl<T: Real, S: AsMatRef<Scalar = T>> LinearOperator<T> for Cholesky<S> {
    fn nrows(&self) -> usize {
        self.dim()
    }
    fn ncols(&self) -> usize {
        self.dim()
    }
    /// `y <- L (L^T x)`, `2 n^2` flops.
    fn apply(&self, x: &[T], y: &mut [T], _ws: &mut [T]) -> Result<()> {
        expect_dim("apply: length of x", self.dim(), x.len())?;
        expect_dim("apply: length of y", self.dim(), y.len())?;
        y.copy_from_slice(x);
        self.apply_in_place(y);
        Ok(())
    }
    /// `A` is symmetric: same as [`apply`](LinearOperator::apply).
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        self.apply(x, y, ws)
    }
}

impl<T: Real, S: AsMatRef<Scalar = T>> Solve<T> for Cholesky<S> {
    /// `b <- A^{-1} b`, no workspace.
    fn solve_in_place(&self, b: &mut [T], _ws: &mut [T]) -> Result<()> {
        Cholesky::solve_in_place(self, b)
    }
    fn solve_block_workspace_len(&self, _ncols: usize) -> usize {
        0
    }
    fn solve_block_in_place(&self, b: MatMut<'_, T>, _ws: &mut [T]) -> Result<()> {
        self.solve_matrix_in_place(b)
    }
}

impl<T: Real, S: AsMatRef<Scalar = T>> LogDet<T> for Cholesky<S> {
    /// `2 sum log l_ii`; never fails for a valid factor.
    fn log_det(&self) -> Result<T> {
        Ok(Cholesky::log_det(self))
    }
}
