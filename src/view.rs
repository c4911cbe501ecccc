//! Matrix views over caller buffers.
//!
//! A view is a shape (`nrows x ncols`) and two strides over a slice: entry
//! `(i, j)` lives at `data[i * row_stride + j * col_stride]`. Row-major
//! storage has `col_stride == 1`, column-major has `row_stride == 1`, and any
//! other non-negative strides (a block of a larger matrix, a transpose) work
//! the same way. Views never copy and never allocate.
//!
//! [`MatRef`] reads; [`MatMut`] also writes and, because writes through two
//! positions that share memory would corrupt results, requires strides under
//! which distinct positions never overlap.

use crate::error::{Error, Result, expect_dim};
use crate::real::Real;
use core::fmt;
use core::ops::Range;

/// Shape and strides of a view: entry `(i, j)` is at `i * rs + j * cs`.
/// Both view types hold one and delegate every shape question to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    nrows: usize,
    ncols: usize,
    rs: usize,
    cs: usize,
}

impl Layout {
    /// Dense row-major (`row_major`) or column-major storage of exactly
    /// `len` elements.
    fn dense(len: usize, nrows: usize, ncols: usize, row_major: bool) -> Result<Self> {
        let what = if row_major {
            "row-major data length"
        } else {
            "column-major data length"
        };
        expect_dim(
            what,
            nrows.checked_mul(ncols).ok_or(Error::SizeOverflow)?,
            len,
        )?;
        Ok(if row_major {
            Self {
                nrows,
                ncols,
                rs: ncols,
                cs: 1,
            }
        } else {
            Self {
                nrows,
                ncols,
                rs: 1,
                cs: nrows,
            }
        })
    }

    /// Explicit strides; the last entry must lie inside `len` elements.
    fn strided(len: usize, nrows: usize, ncols: usize, rs: usize, cs: usize) -> Result<Self> {
        let layout = Self {
            nrows,
            ncols,
            rs,
            cs,
        };
        if nrows > 0 && ncols > 0 {
            let a = (nrows - 1).checked_mul(rs).ok_or(Error::SizeOverflow)?;
            let b = (ncols - 1).checked_mul(cs).ok_or(Error::SizeOverflow)?;
            let needed = a
                .checked_add(b)
                .and_then(|x| x.checked_add(1))
                .ok_or(Error::SizeOverflow)?;
            if needed > len {
                return Err(Error::DimensionMismatch {
                    what: "view data length",
                    expected: needed,
                    got: len,
                });
            }
        }
        Ok(layout)
    }

    /// A fixed `R x C` array, row-major.
    const fn array(nrows: usize, ncols: usize) -> Self {
        Self {
            nrows,
            ncols,
            rs: ncols,
            cs: 1,
        }
    }

    /// An `n x 1` column over a slice.
    const fn column(n: usize) -> Self {
        Self {
            nrows: n,
            ncols: 1,
            rs: 1,
            cs: 1,
        }
    }

    /// Fails unless distinct positions map to distinct elements: along the
    /// dimension with the smaller stride the entries must be apart, and the
    /// larger stride must step over that dimension's extent.
    fn check_no_overlap(self) -> Result<Self> {
        let ((n_in, s_in), (n_out, s_out)) = if self.rs <= self.cs {
            ((self.nrows, self.rs), (self.ncols, self.cs))
        } else {
            ((self.ncols, self.cs), (self.nrows, self.rs))
        };
        let inner_ok = n_in <= 1 || s_in >= 1;
        let extent = (n_in.max(1) - 1).saturating_mul(s_in);
        if inner_ok && (n_out <= 1 || s_out > extent) {
            Ok(self)
        } else {
            Err(Error::InvalidParameter {
                name: "strides",
                requirement: "a mutable view's strides must not map two positions to one element",
            })
        }
    }

    #[inline(always)]
    fn offset(&self, i: usize, j: usize) -> usize {
        i * self.rs + j * self.cs
    }

    #[inline(always)]
    fn contains(&self, i: usize, j: usize) -> bool {
        i < self.nrows && j < self.ncols
    }

    #[inline(always)]
    fn transpose(self) -> Self {
        Self {
            nrows: self.ncols,
            ncols: self.nrows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The layout of the `nrows x ncols` block at `(row, col)` and its
    /// offset in the parent's data.
    fn block(self, row: usize, col: usize, nrows: usize, ncols: usize) -> Result<(usize, Self)> {
        let row_end = row.checked_add(nrows).ok_or(Error::SizeOverflow)?;
        let col_end = col.checked_add(ncols).ok_or(Error::SizeOverflow)?;
        expect_fits("block row range end", self.nrows, row_end)?;
        expect_fits("block column range end", self.ncols, col_end)?;
        let offset = if nrows == 0 || ncols == 0 {
            0
        } else {
            self.offset(row, col)
        };
        Ok((
            offset,
            Self {
                nrows,
                ncols,
                ..self
            },
        ))
    }

    /// Where row `i` lies in the data when rows are contiguous.
    fn row_range(&self, i: usize) -> Option<Range<usize>> {
        if i < self.nrows && (self.cs == 1 || self.ncols <= 1) {
            let start = i * self.rs;
            Some(start..start + self.ncols)
        } else {
            None
        }
    }
}

/// Fails with [`Error::DimensionMismatch`] if `end` exceeds `bound`.
fn expect_fits(what: &'static str, bound: usize, end: usize) -> Result<()> {
    if end > bound {
        return Err(Error::DimensionMismatch {
            what,
            expected: bound,
            got: end,
        });
    }
    Ok(())
}

/// The accessors both view types share, read off their [`Layout`].
macro_rules! shape_accessors {
    () => {
        /// Number of rows.
        #[inline]
        pub fn nrows(&self) -> usize {
            self.layout.nrows
        }
        /// Number of columns.
        #[inline]
        pub fn ncols(&self) -> usize {
            self.layout.ncols
        }
        /// `(nrows, ncols)`.
        #[inline]
        pub fn shape(&self) -> (usize, usize) {
            (self.layout.nrows, self.layout.ncols)
        }
        /// Distance between vertically adjacent entries.
        #[inline]
        pub fn row_stride(&self) -> usize {
            self.layout.rs
        }
        /// Distance between horizontally adjacent entries.
        #[inline]
        pub fn col_stride(&self) -> usize {
            self.layout.cs
        }
        /// Entry `(i, j)`; the caller guarantees it is inside the shape.
        #[inline(always)]
        pub(crate) fn at(&self, i: usize, j: usize) -> T {
            self.data[self.layout.offset(i, j)]
        }
    };
}

/// A read-only strided matrix view.
///
/// ```
/// use gramkit::MatRef;
/// let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let a = MatRef::from_row_major(&data, 2, 3)?;
/// assert_eq!(a.get(1, 0), Some(4.0));
/// assert_eq!(a.transpose().get(0, 1), Some(4.0));
/// let block = a.submatrix(0, 1, 2, 2)?;
/// assert_eq!(block.get(1, 1), Some(6.0));
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    layout: Layout,
}

/// A mutable strided matrix view whose positions never share memory.
///
/// ```
/// use gramkit::MatMut;
/// let mut data = [0.0f32; 6];
/// let mut a = MatMut::from_col_major(&mut data, 2, 3)?;
/// *a.get_mut(1, 2).unwrap() = 7.0;
/// assert_eq!(data[5], 7.0);
/// # Ok::<(), gramkit::Error>(())
/// ```
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    layout: Layout,
}

impl<'a, T: Copy> MatRef<'a, T> {
    /// Views `data` as a row-major `nrows x ncols` matrix.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `data.len() == nrows * ncols`;
    /// [`Error::SizeOverflow`] if that product overflows.
    pub fn from_row_major(data: &'a [T], nrows: usize, ncols: usize) -> Result<Self> {
        Ok(Self {
            layout: Layout::dense(data.len(), nrows, ncols, true)?,
            data,
        })
    }

    /// Views `data` as a column-major `nrows x ncols` matrix.
    ///
    /// # Errors
    /// As [`MatRef::from_row_major`].
    pub fn from_col_major(data: &'a [T], nrows: usize, ncols: usize) -> Result<Self> {
        Ok(Self {
            layout: Layout::dense(data.len(), nrows, ncols, false)?,
            data,
        })
    }

    /// Views `data` with explicit strides: entry `(i, j)` is
    /// `data[i * row_stride + j * col_stride]`. Strides may repeat entries
    /// (a zero stride broadcasts a row or a column).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the last entry lies beyond `data`;
    /// [`Error::SizeOverflow`] if its offset overflows.
    pub fn from_strided(
        data: &'a [T],
        nrows: usize,
        ncols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self> {
        Ok(Self {
            layout: Layout::strided(data.len(), nrows, ncols, row_stride, col_stride)?,
            data,
        })
    }

    /// Views a fixed-size array `[[T; C]; R]` (row-major) as an `R x C`
    /// matrix. Infallible.
    pub fn from_array<const R: usize, const C: usize>(a: &'a [[T; C]; R]) -> Self {
        Self {
            data: a.as_flattened(),
            layout: Layout::array(R, C),
        }
    }

    /// Views a slice as an `n x 1` column vector.
    pub fn from_column(data: &'a [T]) -> Self {
        Self {
            layout: Layout::column(data.len()),
            data,
        }
    }

    shape_accessors!();

    /// Entry `(i, j)`, or `None` outside the shape.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        self.layout.contains(i, j).then(|| self.at(i, j))
    }

    /// The transpose, by swapping strides.
    #[inline]
    pub fn transpose(self) -> Self {
        Self {
            layout: self.layout.transpose(),
            ..self
        }
    }

    /// The `nrows x ncols` block whose top-left entry is `(row, col)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the block does not fit.
    pub fn submatrix(self, row: usize, col: usize, nrows: usize, ncols: usize) -> Result<Self> {
        let (offset, layout) = self.layout.block(row, col, nrows, ncols)?;
        Ok(Self {
            data: &self.data[offset..],
            layout,
        })
    }

    /// Row `i` as a `1 x ncols` view.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `i >= nrows`.
    pub fn row(self, i: usize) -> Result<Self> {
        self.submatrix(i, 0, 1, self.ncols())
    }

    /// Column `j` as an `nrows x 1` view.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `j >= ncols`.
    pub fn col(self, j: usize) -> Result<Self> {
        self.submatrix(0, j, self.nrows(), 1)
    }

    /// Row `i` as a slice when rows are contiguous (`col_stride == 1`).
    pub fn row_slice(&self, i: usize) -> Option<&'a [T]> {
        self.layout.row_range(i).and_then(|r| self.data.get(r))
    }

    /// Column `j` as a slice when columns are contiguous (`row_stride == 1`).
    pub fn col_slice(&self, j: usize) -> Option<&'a [T]> {
        self.transpose().row_slice(j)
    }

    /// Copies column `j` into `out` (length `nrows`).
    pub(crate) fn copy_col_to(&self, j: usize, out: &mut [T]) {
        for (i, o) in out.iter_mut().enumerate().take(self.nrows()) {
            *o = self.at(i, j);
        }
    }
}

impl<T: Real> MatRef<'_, T> {
    /// First non-finite entry, as `Err(NonFinite)` naming `argument`.
    #[inline]
    pub(crate) fn check_finite(&self, argument: &'static str) -> Result<()> {
        self.check_finite_rows(argument, |_| self.ncols())
    }

    /// Like [`MatRef::check_finite`], over the lower triangle only.
    #[inline]
    pub(crate) fn check_finite_lower(&self, argument: &'static str) -> Result<()> {
        self.check_finite_rows(argument, |i| (i + 1).min(self.ncols()))
    }

    /// Scans columns `0..width(i)` of each row `i`, on the row's slice when
    /// rows are contiguous.
    #[inline]
    fn check_finite_rows(
        &self,
        argument: &'static str,
        width: impl Fn(usize) -> usize,
    ) -> Result<()> {
        for i in 0..self.nrows() {
            let w = width(i);
            let bad = match self.row_slice(i) {
                Some(row) => first_non_finite(&row[..w]),
                None => (0..w).find(|&j| !self.at(i, j).is_finite()),
            };
            if let Some(col) = bad {
                return Err(Error::NonFinite {
                    argument,
                    row: i,
                    col,
                });
            }
        }
        Ok(())
    }

    /// Fails unless the view is square; returns its order.
    pub(crate) fn square_order(&self, what: &'static str) -> Result<usize> {
        expect_dim(what, self.nrows(), self.ncols())?;
        Ok(self.nrows())
    }
}

/// Position of the first NaN or infinity in `x`. Chunks are tested
/// without early exit (which vectorizes), and only a failing chunk is
/// searched.
#[inline]
pub(crate) fn first_non_finite<T: Real>(x: &[T]) -> Option<usize> {
    const CHUNK: usize = 32;
    x.chunks(CHUNK).enumerate().find_map(|(c, chunk)| {
        let all_finite = chunk.iter().fold(true, |ok, v| ok & v.is_finite());
        if all_finite {
            None
        } else {
            chunk
                .iter()
                .position(|v| !v.is_finite())
                .map(|p| c * CHUNK + p)
        }
    })
}

/// Fails with [`Error::Overflow`] (`what` names the result) if a computed
/// result holds an infinity or a NaN: the product or solution overflowed.
pub(crate) fn finite_or_overflow<T: Real>(x: &[T], what: &'static str) -> Result<()> {
    match first_non_finite(x) {
        Some(_) => Err(Error::Overflow { what }),
        None => Ok(()),
    }
}

/// First non-finite entry of a vector, as `Err(NonFinite)` naming `argument`.
pub(crate) fn check_finite_slice<T: Real>(x: &[T], argument: &'static str) -> Result<()> {
    match first_non_finite(x) {
        Some(row) => Err(Error::NonFinite {
            argument,
            row,
            col: 0,
        }),
        None => Ok(()),
    }
}

impl<'a, T: Copy> MatMut<'a, T> {
    /// Views `data` as a row-major `nrows x ncols` matrix.
    ///
    /// # Errors
    /// As [`MatRef::from_row_major`].
    pub fn from_row_major(data: &'a mut [T], nrows: usize, ncols: usize) -> Result<Self> {
        Ok(Self {
            layout: Layout::dense(data.len(), nrows, ncols, true)?,
            data,
        })
    }

    /// Views `data` as a column-major `nrows x ncols` matrix.
    ///
    /// # Errors
    /// As [`MatRef::from_row_major`].
    pub fn from_col_major(data: &'a mut [T], nrows: usize, ncols: usize) -> Result<Self> {
        Ok(Self {
            layout: Layout::dense(data.len(), nrows, ncols, false)?,
            data,
        })
    }

    /// Views `data` with explicit strides.
    ///
    /// # Errors
    /// As [`MatRef::from_strided`], and [`Error::InvalidParameter`] if two
    /// positions would share an element.
    pub fn from_strided(
        data: &'a mut [T],
        nrows: usize,
        ncols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self> {
        let layout = Layout::strided(data.len(), nrows, ncols, row_stride, col_stride)?;
        Ok(Self {
            layout: layout.check_no_overlap()?,
            data,
        })
    }

    /// Views a fixed-size array `[[T; C]; R]` (row-major) as an `R x C`
    /// matrix. Infallible.
    pub fn from_array<const R: usize, const C: usize>(a: &'a mut [[T; C]; R]) -> Self {
        Self {
            data: a.as_flattened_mut(),
            layout: Layout::array(R, C),
        }
    }

    /// Views a slice as an `n x 1` column vector.
    pub fn from_column(data: &'a mut [T]) -> Self {
        Self {
            layout: Layout::column(data.len()),
            data,
        }
    }

    shape_accessors!();

    /// A read-only view of the same entries.
    #[inline]
    pub fn rb(&self) -> MatRef<'_, T> {
        MatRef {
            data: self.data,
            layout: self.layout,
        }
    }

    /// A shorter-lived mutable view of the same entries.
    #[inline]
    pub fn rb_mut(&mut self) -> MatMut<'_, T> {
        MatMut {
            data: self.data,
            layout: self.layout,
        }
    }

    /// Gives up mutability, keeping the lifetime.
    #[inline]
    pub fn into_ref(self) -> MatRef<'a, T> {
        MatRef {
            data: self.data,
            layout: self.layout,
        }
    }

    /// Entry `(i, j)`, or `None` outside the shape.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        self.rb().get(i, j)
    }

    /// Mutable reference to entry `(i, j)`, or `None` outside the shape.
    #[inline]
    pub fn get_mut(&mut self, i: usize, j: usize) -> Option<&mut T> {
        if self.layout.contains(i, j) {
            Some(self.at_mut(i, j))
        } else {
            None
        }
    }

    /// The underlying slice and strides `(data, row_stride, col_stride)`.
    #[inline(always)]
    pub(crate) fn raw_mut(&mut self) -> (&mut [T], usize, usize) {
        (self.data, self.layout.rs, self.layout.cs)
    }

    /// Mutable entry `(i, j)`; the caller guarantees it is inside the shape.
    #[inline(always)]
    pub(crate) fn at_mut(&mut self, i: usize, j: usize) -> &mut T {
        &mut self.data[self.layout.offset(i, j)]
    }

    /// The transpose, by swapping strides.
    #[inline]
    pub fn transpose(self) -> Self {
        Self {
            layout: self.layout.transpose(),
            data: self.data,
        }
    }

    /// The mutable `nrows x ncols` block at `(row, col)`, consuming `self`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the block does not fit.
    pub fn into_submatrix(
        self,
        row: usize,
        col: usize,
        nrows: usize,
        ncols: usize,
    ) -> Result<Self> {
        let (offset, layout) = self.layout.block(row, col, nrows, ncols)?;
        Ok(Self {
            data: &mut self.data[offset..],
            layout,
        })
    }

    /// The mutable `nrows x ncols` block at `(row, col)`, borrowing `self`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the block does not fit.
    pub fn submatrix_mut(
        &mut self,
        row: usize,
        col: usize,
        nrows: usize,
        ncols: usize,
    ) -> Result<MatMut<'_, T>> {
        self.rb_mut().into_submatrix(row, col, nrows, ncols)
    }

    /// Row `i` as a mutable slice when rows are contiguous (`col_stride == 1`).
    pub fn row_slice_mut(&mut self, i: usize) -> Option<&mut [T]> {
        self.layout.row_range(i).and_then(|r| self.data.get_mut(r))
    }

    /// Sets every entry to `value`.
    pub fn fill(&mut self, value: T) {
        for i in 0..self.nrows() {
            for j in 0..self.ncols() {
                *self.at_mut(i, j) = value;
            }
        }
    }

    /// Copies `src` into `self`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the shapes differ.
    pub fn copy_from(&mut self, src: MatRef<'_, T>) -> Result<()> {
        expect_dim("copy rows", self.nrows(), src.nrows())?;
        expect_dim("copy columns", self.ncols(), src.ncols())?;
        for i in 0..self.nrows() {
            for j in 0..self.ncols() {
                *self.at_mut(i, j) = src.at(i, j);
            }
        }
        Ok(())
    }

    /// Writes `x` into column `j`; the caller guarantees the lengths.
    pub(crate) fn set_col_from(&mut self, j: usize, x: &[T]) {
        for (i, &v) in x.iter().enumerate().take(self.nrows()) {
            *self.at_mut(i, j) = v;
        }
    }
}

impl<'a, T: Copy> From<MatMut<'a, T>> for MatRef<'a, T> {
    fn from(m: MatMut<'a, T>) -> Self {
        m.into_ref()
    }
}

fn fmt_view<T: fmt::Debug + Copy>(
    m: MatRef<'_, T>,
    name: &str,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    writeln!(f, "{name} {}x{} [", m.nrows(), m.ncols())?;
    for i in 0..m.nrows() {
        f.write_str("  ")?;
        f.debug_list()
            .entries((0..m.ncols()).map(|j| m.at(i, j)))
            .finish()?;
        f.write_str("\n")?;
    }
    f.write_str("]")
}

impl<T: fmt::Debug + Copy> fmt::Debug for MatRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_view(*self, "MatRef", f)
    }
}

impl<T: fmt::Debug + Copy> fmt::Debug for MatMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_view(self.rb(), "MatMut", f)
    }
}

impl<T: Copy> MatRef<'_, T> {
    /// Same shape and `pred` holds for every pair of entries.
    fn all_pairs(&self, other: &Self, pred: impl Fn(T, T) -> bool) -> bool {
        self.shape() == other.shape()
            && (0..self.nrows())
                .all(|i| (0..self.ncols()).all(|j| pred(self.at(i, j), other.at(i, j))))
    }
}

impl<T: PartialEq + Copy> PartialEq for MatRef<'_, T> {
    /// Same shape and equal entries (strides may differ).
    fn eq(&self, other: &Self) -> bool {
        self.all_pairs(other, |a, b| a == b)
    }
}

#[cfg(feature = "approx")]
mod approx_impls {
    use super::MatRef;
    use crate::real::Real;
    use approx::{AbsDiffEq, RelativeEq};

    impl<T: Real + AbsDiffEq<Epsilon = T>> AbsDiffEq for MatRef<'_, T> {
        type Epsilon = T;
        fn default_epsilon() -> T {
            T::default_epsilon()
        }
        /// Same shape and every pair of entries within `epsilon`.
        fn abs_diff_eq(&self, other: &Self, epsilon: T) -> bool {
            self.all_pairs(other, |a, b| a.abs_diff_eq(&b, epsilon))
        }
    }

    impl<T: Real + RelativeEq<Epsilon = T>> RelativeEq for MatRef<'_, T> {
        fn default_max_relative() -> T {
            T::default_max_relative()
        }
        /// Same shape and every pair of entries relatively equal.
        fn relative_eq(&self, other: &Self, epsilon: T, max_relative: T) -> bool {
            self.all_pairs(other, |a, b| a.relative_eq(&b, epsilon, max_relative))
        }
    }
}

/// Storage that can be viewed as a matrix: views, fixed arrays
/// `[[T; C]; R]` and (with `std`) owned matrices. Structured types such as
/// [`Cholesky`](crate::cholesky::Cholesky) are generic over it, so the
/// fixed-size and view paths share one implementation.
pub trait AsMatRef {
    /// The scalar type.
    type Scalar: Real;
    /// A read-only view of the storage.
    fn as_mat_ref(&self) -> MatRef<'_, Self::Scalar>;
}

/// Storage that can be viewed mutably.
pub trait AsMatMut: AsMatRef {
    /// A mutable view of the storage.
    fn as_mat_mut(&mut self) -> MatMut<'_, Self::Scalar>;
}

impl<T: Real> AsMatRef for MatRef<'_, T> {
    type Scalar = T;
    fn as_mat_ref(&self) -> MatRef<'_, T> {
        *self
    }
}

impl<T: Real> AsMatRef for MatMut<'_, T> {
    type Scalar = T;
    fn as_mat_ref(&self) -> MatRef<'_, T> {
        self.rb()
    }
}

impl<T: Real> AsMatMut for MatMut<'_, T> {
    fn as_mat_mut(&mut self) -> MatMut<'_, T> {
        self.rb_mut()
    }
}

impl<T: Real, const R: usize, const C: usize> AsMatRef for [[T; C]; R] {
    type Scalar = T;
    fn as_mat_ref(&self) -> MatRef<'_, T> {
        MatRef::from_array(self)
    }
}

impl<T: Real, const R: usize, const C: usize> AsMatMut for [[T; C]; R] {
    fn as_mat_mut(&mut self) -> MatMut<'_, T> {
        MatMut::from_array(self)
    }
}
