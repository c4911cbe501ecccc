//! The `n x n` working matrix of the tridiagonal path, kept in a caller's
//! buffer (the `vectors` output, or workspace when only values are wanted).
//!
//! The kernels work column by column on contiguous slices. Whichever of the
//! view and its transpose has contiguous columns is used as the internal
//! matrix `M` (the caller transposes back at the end when it was the
//! transpose); when neither has, a column is gathered into a scratch slice
//! and scattered back by [`Columns::commit`].

use crate::real::Real;
use crate::view::MatMut;

/// Column access to the internal matrix `M`: entry `(i, j)` lives at
/// `data[i * ri + j * rj]`.
pub(crate) struct Columns<'a, 'w, T> {
    data: &'a mut [T],
    n: usize,
    ri: usize,
    rj: usize,
    /// Columns are the slices `data[j * rj..j * rj + n]`.
    direct: bool,
    /// Gather buffer (`n` long) for the strided case.
    tmp: &'w mut [T],
}

impl<'a, 'w, T: Real> Columns<'a, 'w, T> {
    /// Wraps the square view `m`; returns whether `M = m^T` (else `M = m`).
    /// `tmp` must hold `n` elements.
    pub(crate) fn new(m: &'a mut MatMut<'_, T>, tmp: &'w mut [T]) -> (Self, bool) {
        let n = m.nrows();
        let (data, rs, cs) = m.raw_mut();
        let (ri, rj, transposed) = if rs == 1 || n <= 1 {
            (rs, cs, false)
        } else if cs == 1 {
            (cs, rs, true)
        } else {
            (rs, cs, false)
        };
        let columns = Self {
            data,
            n,
            ri,
            rj,
            direct: ri == 1 || n <= 1,
            tmp,
        };
        (columns, transposed)
    }

    /// The order `n`.
    #[inline(always)]
    pub(crate) fn order(&self) -> usize {
        self.n
    }

    /// Column `j` (length `n`) for reading and writing; with strided storage
    /// the writes reach `M` only through [`Columns::commit`]`(j)`.
    #[inline(always)]
    pub(crate) fn col_mut(&mut self, j: usize) -> &mut [T] {
        let n = self.n;
        if self.direct {
            let start = j * self.rj;
            return self.data.get_mut(start..start + n).unwrap_or_default();
        }
        for (i, t) in self.tmp.iter_mut().enumerate().take(n) {
            *t = self.data[i * self.ri + j * self.rj];
        }
        self.tmp.get_mut(..n).unwrap_or_default()
    }

    /// Column `j` for reading.
    #[inline(always)]
    pub(crate) fn col(&mut self, j: usize) -> &[T] {
        self.col_mut(j)
    }

    /// Writes back column `j` after [`Columns::col_mut`] (strided storage only).
    #[inline(always)]
    pub(crate) fn commit(&mut self, j: usize) {
        if self.direct {
            return;
        }
        for (i, &t) in self.tmp.iter().enumerate().take(self.n) {
            self.data[i * self.ri + j * self.rj] = t;
        }
    }

    /// `out <- M[r0..r0 + out.len(), j]`.
    #[inline(always)]
    pub(crate) fn read_rows(&self, j: usize, r0: usize, out: &mut [T]) {
        let base = j * self.rj + r0 * self.ri;
        if self.direct {
            if let Some(src) = self.data.get(base..base + out.len()) {
                out.copy_from_slice(src);
            }
            return;
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.data[base + i * self.ri];
        }
    }

    /// `M[r0..r0 + src.len(), j] <- src`.
    #[inline(always)]
    pub(crate) fn write_rows(&mut self, j: usize, r0: usize, src: &[T]) {
        let base = j * self.rj + r0 * self.ri;
        if self.direct {
            if let Some(dst) = self.data.get_mut(base..base + src.len()) {
                dst.copy_from_slice(src);
            }
            return;
        }
        for (i, &s) in src.iter().enumerate() {
            self.data[base + i * self.ri] = s;
        }
    }

    /// Swaps columns `j` and `k` of `M`.
    pub(crate) fn swap_cols(&mut self, j: usize, k: usize) {
        for i in 0..self.n {
            self.data
                .swap(i * self.ri + j * self.rj, i * self.ri + k * self.rj);
        }
    }

    /// `M <- M^T`.
    pub(crate) fn transpose_in_place(&mut self) {
        for j in 0..self.n {
            for i in j + 1..self.n {
                self.data
                    .swap(i * self.ri + j * self.rj, j * self.ri + i * self.rj);
            }
        }
    }
}
