//! Symmetric eigensolver: `A = V diag(w) V^T` with `V` orthogonal and the
//! eigenvalues `w` ascending.
//!
//! - [`symmetric_eigen`]: any strided view, caller workspace
//!   ([`symmetric_eigen_workspace_len`]).
//! - [`FixedSymmetricEigen`]: `[[T; N]; N]` by value, scratch on the stack.
//!
//! Both read only the lower triangle of `A` and share one implementation:
//!
//! - order `n <= 8`: cyclic Jacobi on stack arrays (`V <- V J` for each
//!   rotation), accurate to a few ulps of `|A|`;
//! - larger orders: Householder tridiagonalization `Q^T A Q = T`
//!   (`4/3 n^3` flops), then, with vectors, the explicit `Q` (`4/3 n^3`);
//!   then implicit QR sweeps with Wilkinson shifts on `T` (`O(n^2)`), whose
//!   rotations (typically `0.9 n^2` of them) are applied to `Q` in blocks
//!   of rows (`6 n` flops each, about `5 n^3` in all);
//!   then the eigenvalues are sorted, moving the columns of `V` along.
//!
//! With `std`, the hot loops take an AVX2 + FMA path chosen at run time
//! when the CPU has it. Inputs outside a safe range of magnitudes are scaled
//! by a power of two first, so nothing overflows or underflows inside.
//!
//! ```
//! use gramkit::eigen::FixedSymmetricEigen;
//! let a = [[2.0f64, 1.0], [1.0, 2.0]];
//! let eig = FixedSymmetricEigen::compute(&a)?;
//! assert!((eig.values[0] - 1.0).abs() < 1e-15 && (eig.values[1] - 3.0).abs() < 1e-15);
//! # Ok::<(), gramkit::Error>(())
//! ```

mod columns;
mod jacobi;
mod qr;
mod rotations;
mod tridiag;

#[cfg(test)]
mod tests;

use crate::error::{Error, Result, expect_dim};
use crate::real::Real;
use crate::simd::dispatch;
use crate::view::{MatMut, MatRef};
use crate::workspace::{Workspace, add, mul};
use columns::Columns;
use jacobi::JACOBI_MAX;
use rotations::{ROW_BLOCK, RotationLog};
use tridiag::{FormQ, GROUP, REDUCTION_VECTORS};

/// Cap on tridiagonal QR sweeps, per eigenvalue (as LAPACK's `dsteqr`).
const SWEEPS_PER_EIGENVALUE: usize = 30;
/// Cap on Jacobi sweeps (convergence is quadratic; 6 to 10 are typical).
const JACOBI_SWEEPS: usize = 50;
/// Scratch vectors kept through the tridiagonal path: `e`, `tau` and the
/// gather column of [`Columns`].
const KEPT_VECTORS: usize = 3;
/// QR sweeps whose rotations are logged between two passes over `V`.
const LOGGED_SWEEPS: usize = 16;
/// The same for the fixed-size path, whose scratch is on the stack.
const FIXED_LOGGED_SWEEPS: usize = 2;

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Scratch of the tridiagonal path with vectors, in multiples of `n`.
const fn vector_scratch_rows(logged_sweeps: usize) -> usize {
    let phase = max(max(REDUCTION_VECTORS, GROUP), ROW_BLOCK + 2 * logged_sweeps);
    KEPT_VECTORS + phase
}

/// Scratch of the tridiagonal path without vectors, in multiples of `n`
/// (the `n x n` working matrix comes on top).
const VALUE_SCRATCH_ROWS: usize = KEPT_VECTORS + REDUCTION_VECTORS;
const FIXED_VECTOR_ROWS: usize = vector_scratch_rows(FIXED_LOGGED_SWEEPS);

/// Workspace length of [`symmetric_eigen`] for order `n`.
///
/// Zero for `n <= 8` (Jacobi on stack arrays). Otherwise `51 n` with
/// vectors (they are computed inside the `vectors` buffer), and
/// `n^2 + 7 n` without (an `n x n` working copy of `A`). Saturates at
/// `usize::MAX` when the size overflows.
pub const fn symmetric_eigen_workspace_len(n: usize, with_vectors: bool) -> usize {
    if n <= JACOBI_MAX {
        0
    } else if with_vectors {
        mul(n, vector_scratch_rows(LOGGED_SWEEPS))
    } else {
        add(mul(n, n), mul(n, VALUE_SCRATCH_ROWS))
    }
}

/// All eigenvalues of the symmetric `A`, ascending, and optionally its
/// eigenvectors: `A V = V diag(values)` with `V^T V = I`.
///
/// `a` is `n x n` with any strides; only its lower triangle is read and it
/// is never written. `values` has length `n`. `vectors`, when given, is
/// `n x n` with any strides and receives the orthonormal eigenvectors as
/// columns, column `j` belonging to `values[j]`. Computed eigenpairs
/// satisfy `|A V - V diag(values)| = O(n eps |A|)` and
/// `|V^T V - I| = O(n eps)`.
///
/// Cost: about `8 n^3` flops with vectors and `4/3 n^3` without (see the
/// [module documentation](self) for the algorithm); `n <= 8` takes cyclic
/// Jacobi. Workspace [`symmetric_eigen_workspace_len`]`(n, vectors.is_some())`.
///
/// # Errors
/// - [`Error::DimensionMismatch`] if `a` is
///   not square, `values.len() != n` or `vectors` is not `n x n`;
/// - [`Error::WorkspaceTooSmall`];
/// - [`Error::NonFinite`] if the lower triangle of
///   `a` holds NaN or infinity (checked before any work);
/// - [`Error::NoConvergence`] if the iteration
///   cap is reached (30 QR sweeps per eigenvalue, 50 Jacobi sweeps), which
///   does not happen for finite input in practice;
/// - [`Error::Overflow`] if an eigenvalue exceeds the
///   largest finite value (possible only for entries near it).
///
/// On error `values` and `vectors` hold unspecified contents (nothing is
/// written for the first three).
///
/// ```
/// use gramkit::{MatMut, MatRef};
/// use gramkit::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
/// // only the lower triangle is read
/// let a = [4.0, 0.0, 0.0,
///          1.0, 4.0, 0.0,
///          0.0, 1.0, 4.0];
/// let mut values = [0.0; 3];
/// let mut vectors = [0.0; 9];
/// let mut ws = vec![0.0; symmetric_eigen_workspace_len(3, true)];
/// symmetric_eigen(
///     MatRef::from_row_major(&a, 3, 3)?,
///     &mut values,
///     Some(MatMut::from_row_major(&mut vectors, 3, 3)?),
///     &mut ws,
/// )?;
/// let s = 2.0f64.sqrt();
/// for (w, expected) in values.iter().zip([4.0 - s, 4.0, 4.0 + s]) {
///     assert!((w - expected).abs() < 1e-14);
/// }
/// // A v = w v for the first eigenpair (column 0 of the row-major `vectors`)
/// let v = [vectors[0], vectors[3], vectors[6]];
/// let av = [4.0 * v[0] + v[1], v[0] + 4.0 * v[1] + v[2], v[1] + 4.0 * v[2]];
/// for i in 0..3 {
///     assert!((av[i] - values[0] * v[i]).abs() < 1e-14);
/// }
/// # Ok::<(), gramkit::Error>(())
/// ```
pub fn symmetric_eigen<T: Real>(
    a: MatRef<'_, T>,
    values: &mut [T],
    vectors: Option<MatMut<'_, T>>,
    ws: &mut [T],
) -> Result<()> {
    let n = a.square_order("symmetric_eigen: columns of A")?;
    expect_dim("symmetric_eigen: length of values", n, values.len())?;
    if let Some(v) = &vectors {
        expect_dim("symmetric_eigen: rows of vectors", n, v.nrows())?;
        expect_dim("symmetric_eigen: columns of vectors", n, v.ncols())?;
    }
    let needed = symmetric_eigen_workspace_len(n, vectors.is_some());
    let mut ws = Workspace::new(ws, needed)?;
    a.check_finite_lower("A")?;
    if vectors.is_some() || n <= JACOBI_MAX {
        let scratch = ws.take(needed)?;
        compute(a, values, vectors, &mut [], scratch)
    } else {
        let matrix = ws.take(mul(n, n))?;
        let scratch = ws.take(mul(n, VALUE_SCRATCH_ROWS))?;
        compute(a, values, None, matrix, scratch)
    }
}

/// The eigen-decomposition of a fixed-size symmetric matrix, by value:
/// `A vectors = vectors diag(values)`, eigenvalues ascending.
///
/// `vectors[i][j]` is component `i` of eigenvector `j`, i.e. `vectors` is
/// the row-major `V`. Same algorithm and accuracy as [`symmetric_eigen`],
/// every buffer on the stack: `23 N` scalars of scratch for
/// [`compute`](Self::compute) beyond the result, `(N + 7) N` for
/// [`values`](Self::values) (unused for `N <= 8`, which runs Jacobi on
/// `8 x 8` arrays).
///
/// ```
/// use gramkit::eigen::FixedSymmetricEigen;
/// let a = [[2.0f32, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]];
/// let eig = FixedSymmetricEigen::compute(&a)?;
/// assert_eq!(eig.values, [1.0, 2.0, 3.0]);
/// assert_eq!(eig.vectors[2][0].abs(), 1.0); // e_2 belongs to 1.0
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedSymmetricEigen<T, const N: usize> {
    /// The eigenvalues, ascending.
    pub values: [T; N],
    /// The orthonormal eigenvectors as columns: `vectors[i][j]` is
    /// component `i` of the eigenvector of `values[j]`.
    pub vectors: [[T; N]; N],
}

impl<T: Real, const N: usize> FixedSymmetricEigen<T, N> {
    /// Eigenvalues and eigenvectors of the symmetric matrix whose lower
    /// triangle is read from `a` (never modified). Cost as
    /// [`symmetric_eigen`].
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a non-finite lower
    /// triangle, [`Error::NoConvergence`] as in
    /// [`symmetric_eigen`].
    pub fn compute(a: &[[T; N]; N]) -> Result<Self> {
        let a = MatRef::from_array(a);
        a.check_finite_lower("A")?;
        let mut out = Self {
            values: [T::zero(); N],
            vectors: [[T::zero(); N]; N],
        };
        let mut scratch = [[T::zero(); N]; FIXED_VECTOR_ROWS];
        compute(
            a,
            &mut out.values,
            Some(MatMut::from_array(&mut out.vectors)),
            &mut [],
            scratch.as_flattened_mut(),
        )?;
        Ok(out)
    }

    /// The eigenvalues only, ascending (`4/3 N^3` flops for `N > 8`).
    ///
    /// # Errors
    /// As [`compute`](Self::compute).
    pub fn values(a: &[[T; N]; N]) -> Result<[T; N]> {
        let a = MatRef::from_array(a);
        a.check_finite_lower("A")?;
        let mut values = [T::zero(); N];
        let mut matrix = [[T::zero(); N]; N];
        let mut scratch = [[T::zero(); N]; VALUE_SCRATCH_ROWS];
        compute(
            a,
            &mut values,
            None,
            matrix.as_flattened_mut(),
            scratch.as_flattened_mut(),
        )?;
        Ok(values)
    }
}

/// The shared driver. `a` is square with a finite lower triangle,
/// `values.len() == n`, `vectors` is `n x n`; without vectors, `matrix`
/// holds `n^2` elements for the working copy (unused for `n <= 8`);
/// `scratch` holds the tridiagonal path's vectors.
fn compute<T: Real>(
    a: MatRef<'_, T>,
    values: &mut [T],
    vectors: Option<MatMut<'_, T>>,
    matrix: &mut [T],
    scratch: &mut [T],
) -> Result<()> {
    let n = a.nrows();
    let sigma = scale_factor(max_abs_lower(a));
    if n <= JACOBI_MAX {
        jacobi::solve(a, sigma, values, vectors, JACOBI_SWEEPS)?;
    } else {
        let cap = SWEEPS_PER_EIGENVALUE.saturating_mul(n);
        match vectors {
            Some(mut v) => tridiagonal_path(a, sigma, values, &mut v, true, scratch, cap)?,
            None => {
                let len = mul(n, n);
                let matrix = Workspace::new(matrix, len)?.take(len)?;
                let mut work = MatMut::from_col_major(matrix, n, n)?;
                tridiagonal_path(a, sigma, values, &mut work, false, scratch, cap)?;
            }
        }
    }
    for w in values.iter_mut() {
        *w /= sigma;
    }
    if values.iter().any(|w| !w.is_finite()) {
        return Err(Error::Overflow {
            what: "an eigenvalue",
        });
    }
    Ok(())
}

/// Householder reduction of `sigma * A` inside `work`, QR on the
/// tridiagonal, sort. With `with_vectors`, `work` ends holding the
/// eigenvectors; `values` receives the (scaled) eigenvalues.
fn tridiagonal_path<T: Real>(
    a: MatRef<'_, T>,
    sigma: T,
    values: &mut [T],
    work: &mut MatMut<'_, T>,
    with_vectors: bool,
    scratch: &mut [T],
    max_sweeps: usize,
) -> Result<()> {
    let n = a.nrows();
    // one logged sweep at least
    let rows = if with_vectors {
        vector_scratch_rows(1)
    } else {
        VALUE_SCRATCH_ROWS
    };
    let total = scratch.len();
    let mut ws = Workspace::new(scratch, mul(n, rows))?;
    let e = ws.take(n)?;
    let tau = ws.take(n)?;
    let tmp = ws.take(n)?;
    let phase = ws.take(total - mul(n, KEPT_VECTORS))?;
    let (mut cols, transposed) = Columns::new(work, tmp);
    load_lower(&mut cols, a, sigma);
    tridiag::reduce(&mut cols, values, e, tau, phase);
    if !with_vectors {
        qr::tridiagonal_qr(values, e, max_sweeps, &mut qr::Discard)?;
        values.sort_unstable_by(|x, y| x.partial_cmp(y).unwrap_or(core::cmp::Ordering::Equal));
        return Ok(());
    }
    dispatch(FormQ {
        cols: &mut cols,
        tau,
        group: &mut *phase,
    });
    let mut log = RotationLog::new(&mut cols, phase);
    qr::tridiagonal_qr(values, e, max_sweeps, &mut log)?;
    log.flush();
    sort_with_columns(values, &mut cols);
    if transposed {
        cols.transpose_in_place();
    }
    Ok(())
}

/// `M[j.., j] <- sigma A[j.., j]` for every column `j`.
fn load_lower<T: Real>(cols: &mut Columns<'_, '_, T>, a: MatRef<'_, T>, sigma: T) {
    for j in 0..cols.order() {
        let col = cols.col_mut(j);
        for (i, x) in col.iter_mut().enumerate().skip(j) {
            *x = a.at(i, j) * sigma;
        }
        cols.commit(j);
    }
}

/// Sorts `values` ascending (selection sort: at most `n - 1` column swaps).
fn sort_with_columns<T: Real>(values: &mut [T], cols: &mut Columns<'_, '_, T>) {
    for i in 0..values.len() {
        let mut best = i;
        for j in i + 1..values.len() {
            if values[j] < values[best] {
                best = j;
            }
        }
        if best != i {
            values.swap(i, best);
            cols.swap_cols(i, best);
        }
    }
}

/// `max |a_ij|` over the lower triangle.
fn max_abs_lower<T: Real>(a: MatRef<'_, T>) -> T {
    let mut m = T::zero();
    for i in 0..a.nrows() {
        for j in 0..=i {
            m = m.max(a.at(i, j).abs());
        }
    }
    m
}

/// A power of two `sigma` that brings `sigma * anorm` into
/// `[sqrt(min_positive) / eps, sqrt(max) * eps]` (1 when it is already
/// there, or zero): squares of entries, and of norms of columns of up to
/// `1/eps` entries, neither overflow nor underflow below `eps |A|`.
fn scale_factor<T: Real>(anorm: T) -> T {
    let rmin = T::min_positive_value().sqrt() / T::EPS;
    let rmax = T::max_value().sqrt() * T::EPS;
    let target = if anorm > T::zero() && anorm < rmin {
        rmin
    } else if anorm > rmax {
        rmax
    } else {
        return T::one();
    };
    let k = (target / anorm).log2().round().to_i32().unwrap_or(0);
    power_of_two(k)
}

/// `2^k` by repeated doubling or halving, exact in binary floating point
/// (no `powi`, whose result a platform may round).
fn power_of_two<T: Real>(k: i32) -> T {
    let step = if k >= 0 {
        T::one() + T::one()
    } else {
        T::from_f64(0.5)
    };
    (0..k.unsigned_abs()).fold(T::one(), |s, _| s * step)
}
