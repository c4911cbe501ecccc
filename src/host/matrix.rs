//! An owned, row-major dense matrix and conveniences that allocate.

use crate::cholesky::{
    Cholesky, JitterOptions, cholesky_in_place, cholesky_in_place_workspace_len,
    cholesky_jitter_in_place, cholesky_jitter_in_place_workspace_len,
};
use crate::dense::{matmul, matmul_workspace_len};
use crate::error::{Error, Result, expect_dim};
use crate::real::Real;
use crate::view::{AsMatMut, AsMatRef, MatMut, MatRef};
use std::vec;
use std::vec::Vec;

/// An owned `nrows x ncols` matrix stored row-major in a `Vec`.
///
/// It implements [`AsMatRef`] and [`AsMatMut`], so every core routine and
/// structured type accepts it (e.g. [`Cholesky<Matrix<T>>`] is an owned
/// factor).
///
/// ```
/// use gramkit::host::Matrix;
/// let k = Matrix::from_fn(3, 3, |i, j| (-((i as f64 - j as f64).powi(2))).exp() + if i == j { 0.1 } else { 0.0 });
/// let chol = k.cholesky()?;
/// let x = chol.solve(&[1.0, 2.0, 3.0])?;
/// let kx = k.matvec(&x)?;
/// assert!((kx[2] - 3.0).abs() < 1e-12);
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T> {
    nrows: usize,
    ncols: usize,
    data: Vec<T>,
}

impl<T: Real> Matrix<T> {
    /// An `nrows x ncols` matrix of zeros.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if `nrows * ncols` overflows.
    pub fn zeros(nrows: usize, ncols: usize) -> Result<Self> {
        let len = nrows.checked_mul(ncols).ok_or(Error::SizeOverflow)?;
        Ok(Self {
            nrows,
            ncols,
            data: vec![T::zero(); len],
        })
    }

    /// The `n x n` identity.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if `n * n` overflows.
    pub fn identity(n: usize) -> Result<Self> {
        let mut m = Self::zeros(n, n)?;
        for i in 0..n {
            m.data[i * n + i] = T::one();
        }
        Ok(m)
    }

    /// The matrix with entries `f(i, j)`.
    pub fn from_fn(nrows: usize, ncols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let data = (0..nrows)
            .flat_map(|i| (0..ncols).map(move |j| (i, j)))
            .map(|(i, j)| f(i, j))
            .collect();
        Self { nrows, ncols, data }
    }

    /// Takes ownership of row-major data.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `data.len() == nrows * ncols`.
    pub fn from_row_major(nrows: usize, ncols: usize, data: Vec<T>) -> Result<Self> {
        let len = nrows.checked_mul(ncols).ok_or(Error::SizeOverflow)?;
        expect_dim("row-major data length", len, data.len())?;
        Ok(Self { nrows, ncols, data })
    }

    /// Copies any view.
    pub fn from_view(v: MatRef<'_, T>) -> Self {
        Self::from_fn(v.nrows(), v.ncols(), |i, j| v.at(i, j))
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// The row-major data.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
    /// The row-major data, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// Gives the row-major data back.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }
    /// Entry `(i, j)`, or `None` outside the shape.
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        self.view().get(i, j)
    }
    /// Sets entry `(i, j)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] outside the shape.
    pub fn set(&mut self, i: usize, j: usize, value: T) -> Result<()> {
        expect_dim_below("set: row index", self.nrows, i)?;
        expect_dim_below("set: column index", self.ncols, j)?;
        self.data[i * self.ncols + j] = value;
        Ok(())
    }
    /// Row `i` as a slice, or `None` outside the shape.
    pub fn row(&self, i: usize) -> Option<&[T]> {
        self.view().row_slice(i)
    }
    /// A read-only view.
    pub fn view(&self) -> MatRef<'_, T> {
        self.as_mat_ref()
    }
    /// A mutable view.
    pub fn view_mut(&mut self) -> MatMut<'_, T> {
        self.as_mat_mut()
    }
    /// The transpose, copied.
    pub fn transpose(&self) -> Self {
        Self::from_view(self.view().transpose())
    }

    /// `self * other` through the packed product kernel.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`].
    pub fn matmul(&self, other: &Self) -> Result<Self> {
        let mut out = Self::zeros(self.nrows, other.ncols)?;
        let mut ws = vec![T::zero(); matmul_workspace_len(self.nrows, other.ncols, self.ncols)];
        matmul(
            out.view_mut(),
            T::one(),
            self.view(),
            other.view(),
            T::zero(),
            &mut ws,
        )?;
        Ok(out)
    }

    /// `self * x`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`].
    pub fn matvec(&self, x: &[T]) -> Result<Vec<T>> {
        expect_dim("matvec: length of x", self.ncols, x.len())?;
        let mut y = vec![T::zero(); self.nrows];
        crate::level2::gemv(self.view(), crate::level2::Shape::Full, x, &mut y);
        Ok(y)
    }

    /// The Cholesky factor of this symmetric positive-definite matrix
    /// (lower triangle read), as an owned factor; `self` is not modified.
    ///
    /// # Errors
    /// As [`cholesky_in_place`].
    pub fn cholesky(&self) -> Result<Cholesky<Self>> {
        let mut l = self.clone();
        let mut ws = vec![T::zero(); cholesky_in_place_workspace_len(self.nrows)];
        cholesky_in_place(l.view_mut(), &mut ws)?;
        Cholesky::from_factor(l)
    }

    /// The Cholesky factor of `self + s I` with the smallest jitter `s` of
    /// the schedule that succeeds, and `s`.
    ///
    /// # Errors
    /// As [`cholesky_jitter_in_place`].
    pub fn cholesky_with_jitter(&self, opts: JitterOptions<T>) -> Result<(Cholesky<Self>, T)> {
        let mut l = self.clone();
        let mut ws = vec![T::zero(); cholesky_jitter_in_place_workspace_len(self.nrows)];
        let (_, jitter) = cholesky_jitter_in_place(l.view_mut(), opts, &mut ws)?;
        Ok((Cholesky::from_factor(l)?, jitter))
    }
}

impl<T: Real> AsMatRef for Matrix<T> {
    type Scalar = T;
    fn as_mat_ref(&self) -> MatRef<'_, T> {
        MatRef::from_strided(&self.data, self.nrows, self.ncols, self.ncols, 1)
            .unwrap_or_else(|_| empty_view())
    }
}

impl<T: Real> AsMatMut for Matrix<T> {
    fn as_mat_mut(&mut self) -> MatMut<'_, T> {
        let (nrows, ncols) = (self.nrows, self.ncols);
        match MatMut::from_row_major(&mut self.data, nrows, ncols) {
            Ok(v) => v,
            Err(_) => MatMut::from_column(&mut []),
        }
    }
}

/// Fails with [`Error::DimensionMismatch`] unless `index < bound`.
fn expect_dim_below(what: &'static str, bound: usize, index: usize) -> Result<()> {
    if index < bound {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            what,
            expected: bound,
            got: index,
        })
    }
}

/// The constructors keep `data.len() == nrows * ncols`, so the views above
/// always succeed; this fallback only keeps the code free of panics.
fn empty_view<'a, T: Real>() -> MatRef<'a, T> {
    MatRef::from_column(&[])
}

impl<T: Real> Cholesky<Matrix<T>> {
    /// `A^{-1} b` into a new vector.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`].
    pub fn solve(&self, b: &[T]) -> Result<Vec<T>> {
        let mut x = b.to_vec();
        self.solve_in_place(&mut x)?;
        Ok(x)
    }

    /// `A^{-1}` as a new matrix (both triangles).
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] only.
    pub fn inverse(&self) -> Result<Matrix<T>> {
        let mut out = Matrix::zeros(self.dim(), self.dim())?;
        self.inverse_into(out.view_mut())?;
        Ok(out)
    }
}

#[cfg(feature = "approx")]
mod approx_impls {
    use super::Matrix;
    use crate::real::Real;
    use approx::{AbsDiffEq, RelativeEq};

    impl<T: Real + AbsDiffEq<Epsilon = T>> AbsDiffEq for Matrix<T> {
        type Epsilon = T;
        fn default_epsilon() -> T {
            T::default_epsilon()
        }
        fn abs_diff_eq(&self, other: &Self, epsilon: T) -> bool {
            self.view().abs_diff_eq(&other.view(), epsilon)
        }
    }

    impl<T: Real + RelativeEq<Epsilon = T>> RelativeEq for Matrix<T> {
        fn default_max_relative() -> T {
            T::default_max_relative()
        }
        fn relative_eq(&self, other: &Self, epsilon: T, max_relative: T) -> bool {
            self.view()
                .relative_eq(&other.view(), epsilon, max_relative)
        }
    }
}
