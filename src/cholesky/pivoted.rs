//! Pivoted (partial) Cholesky: a greedy low-rank factor `A ~ G G^T` of a
//! symmetric positive-semidefinite matrix whose entries are read on demand.
// Pivot tests are written `!(x > 0)` on purpose: NaN must fail them.
use crate::error::{Error, Result, expect_dim, require};
use crate::real::Real;
use crate::view::{MatMut, MatRef};
use crate::workspace::Workspace;

/// The entries of a symmetric `n x n` matrix, read on demand.
///
/// [`pivoted_cholesky`] reads the diagonal once and then only the columns
/// of the pivots it picks, so `A` never has to be stored: a kernel matrix
/// can be given as a closure ([`FnSource`]). Implemented for [`MatRef`]
/// (reading its lower triangle) and [`FnSource`].
pub trait SymmetricSource<T: Real> {
    /// The order `n`.
    ///
    /// # Errors
    /// Whatever makes the source unusable, e.g.
    /// [`Error::DimensionMismatch`] for a view that is not square.
    fn dim(&self) -> Result<usize>;

    /// Entry `(i, j)` for `i, j < n`; must equal `entry(j, i)`.
    fn entry(&self, i: usize, j: usize) -> T;

    /// Diagonal entry `(i, i)`; by default `entry(i, i)`.
    fn diagonal(&self, i: usize) -> T {
        self.entry(i, i)
    }
}

/// A square view as a symmetric source: only its lower triangle is read
/// (`entry(i, j)` with `j > i` reads `(j, i)`); positions outside the view
/// read as NaN instead of panicking.
///
/// ```
/// use gramkit::{MatRef, cholesky::SymmetricSource};
/// let data = [2.0, 99.0, 1.0, 3.0]; // the upper entry is never read
/// let a = MatRef::from_row_major(&data, 2, 2)?;
/// assert_eq!(SymmetricSource::dim(&a)?, 2);
/// assert_eq!(a.entry(0, 1), 1.0);
/// # Ok::<(), gramkit::Error>(())
/// ```
impl<T: Real> SymmetricSource<T> for MatRef<'_, T> {
    fn dim(&self) -> Result<usize> {
        self.square_order("symmetric source: columns")
    }

    fn entry(&self, i: usize, j: usize) -> T {
        let (r, c) = if j > i { (j, i) } else { (i, j) };
        self.get(r, c).unwrap_or(T::nan())
    }
}

/// A symmetric source given by a closure `f(i, j) = a_ij`, e.g. a kernel
/// `k(x_i, x_j)` evaluated on demand. The closure is called only with
/// `i, j < n` and must be symmetric.
///
/// ```
/// use gramkit::cholesky::{FnSource, SymmetricSource};
/// let x = [0.0f64, 0.5, 2.0];
/// let k = FnSource::new(3, |i: usize, j: usize| (-(x[i] - x[j]).powi(2)).exp());
/// assert_eq!(k.dim()?, 3);
/// assert_eq!(k.entry(1, 1), 1.0);
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FnSource<F> {
    n: usize,
    f: F,
}

impl<F> FnSource<F> {
    /// An `n x n` source with entries `f(i, j)`.
    pub fn new(n: usize, f: F) -> Self {
        Self { n, f }
    }
}

impl<T: Real, F: Fn(usize, usize) -> T> SymmetricSource<T> for FnSource<F> {
    fn dim(&self) -> Result<usize> {
        Ok(self.n)
    }

    fn entry(&self, i: usize, j: usize) -> T {
        (self.f)(i, j)
    }
}

/// When [`pivoted_cholesky`] stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PivotedOptions<T> {
    /// Largest rank computed; the number of columns of `G`.
    pub max_rank: usize,
    /// Stop once `trace(A - G G^T) <= tolerance * trace(A)`; finite and
    /// `>= 0` (0: stop only at `max_rank` or when the residual is
    /// numerically zero).
    pub tolerance: T,
}

/// What [`pivoted_cholesky`] computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PivotedCholesky<T> {
    /// Number of pivots taken: the columns of `G` that are set.
    pub rank: usize,
    /// `trace(A - G G^T)`, the sum of the residual diagonal (each entry
    /// clamped at zero).
    pub residual_trace: T,
}

/// Workspace length of [`pivoted_cholesky`] for order `n`: `n` (the
/// residual diagonal).
pub const fn pivoted_cholesky_workspace_len(n: usize) -> usize {
    n
}

/// Greedy pivoted Cholesky: `A ~ G G^T` with `G` of rank at most
/// `max_rank`, for a symmetric positive-semidefinite `A` read on demand.
///
/// Step `k` takes as pivot `q` the remaining index with the largest
/// residual diagonal `d_q = a_qq - sum_{j<k} g_qj^2`, sets
/// `g_qk = sqrt(d_q)` and, for every remaining `i`,
/// `g_ik = (a_iq - sum_{j<k} g_ij g_qj) / g_qk` and `d_i -= g_ik^2`
/// (clamped at zero against rounding). It stops before a step when
/// - `max_rank` (or `n`) pivots were taken, or
/// - `trace(A - G G^T) <= tolerance * trace(A)`, or
/// - the largest residual diagonal is not above the rounding floor
///   `8 (k + 1) eps max_i a_ii` (`eps` the machine epsilon of `T`).
///
/// The rounding floor makes the rank trustworthy. After `k` steps each
/// residual diagonal entry carries a rounding error of order
/// `(k + 1) eps a_ii` (its `k` subtractions, and the rounding of `A`
/// itself); for `A = B B^T` with `B` of rank `r`, rounded to `T`,
/// experiments put the residual left after `r` steps below
/// `2 (r + 1) eps max_i a_ii`. Pivoting on such entries would only add
/// noise columns of size `sqrt(eps)`, and a smaller true pivot cannot be
/// told apart from noise. With `max_rank = n` and `tolerance = 0` a
/// positive-definite `A` is reproduced: every entry of `A - G G^T` is,
/// up to rounding, below the floor in magnitude (a positive-semidefinite
/// residual has its largest entries on the diagonal).
///
/// Outputs, in the *original* row order: `G` (`n x max_rank`, any
/// strides), its columns `>= rank` zero, so `A ~ G G^T`; in pivot order
/// `G` is lower trapezoidal. `perm[..rank]` are the pivots in the order
/// taken, `perm[rank..]` the other indices. Cost `n rank^2` flops, `n`
/// diagonal and about `n rank` off-diagonal entry evaluations. Workspace
/// [`pivoted_cholesky_workspace_len`]`(n)`.
///
/// # Errors
/// - whatever `a.dim()` returns;
/// - [`Error::DimensionMismatch`] if `perm.len() != n` or `G` is not
///   `n x max_rank`;
/// - [`Error::InvalidParameter`] for a tolerance that is negative, NaN or
///   infinite;
/// - [`Error::WorkspaceTooSmall`];
/// - [`Error::NonFinite`] (argument `"A"`) for a non-finite diagonal entry
///   (checked before anything is written) or off-diagonal entry met;
/// - [`Error::NotPositiveDefinite`] with `pivot = i` if an entry of row `i`
///   of `G` overflows, which happens only for an `A` far from positive
///   semidefinite;
/// - [`Error::Overflow`] (`"residual trace"`) if `trace(A - G G^T)` is
///   above the largest finite value (diagonal entries near it); `G` and
///   `perm` are then complete, only the trace cannot be reported.
///
/// On any other error the contents of `perm` and `G` are unspecified.
///
/// ```
/// use gramkit::{MatMut, MatRef, cholesky::{PivotedOptions, pivoted_cholesky}};
/// // Rank two: [1, 1, 0], [1, 1, 0], [0, 0, 2].
/// let a = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 2.0];
/// let a = MatRef::from_row_major(&a, 3, 3)?;
/// let mut perm = [0; 3];
/// let mut g = [0.0; 9];
/// let opts = PivotedOptions { max_rank: 3, tolerance: 0.0 };
/// let g_view = MatMut::from_row_major(&mut g, 3, 3)?;
/// let out = pivoted_cholesky(&a, opts, &mut perm, g_view, &mut [0.0; 3])?;
/// assert_eq!(out.rank, 2);
/// assert_eq!(perm[0], 2); // the largest diagonal first
/// assert_eq!(out.residual_trace, 0.0);
/// # Ok::<(), gramkit::Error>(())
/// ```
pub fn pivoted_cholesky<T: Real, S: SymmetricSource<T> + ?Sized>(
    a: &S,
    opts: PivotedOptions<T>,
    perm: &mut [usize],
    g: MatMut<'_, T>,
    ws: &mut [T],
) -> Result<PivotedCholesky<T>> {
    let out = pivoted_factor(a, opts, perm, g, ws)?;
    if !out.residual_trace.is_finite() {
        return Err(Error::Overflow {
            what: "residual trace",
        });
    }
    Ok(out)
}

/// [`pivoted_cholesky`] without the check on `residual_trace`, which may be
/// `+inf` here: for callers that need only `G`, `perm` and the rank.
pub(crate) fn pivoted_factor<T: Real, S: SymmetricSource<T> + ?Sized>(
    a: &S,
    opts: PivotedOptions<T>,
    perm: &mut [usize],
    mut g: MatMut<'_, T>,
    ws: &mut [T],
) -> Result<PivotedCholesky<T>> {
    let n = a.dim()?;
    expect_dim("pivoted cholesky: length of perm", n, perm.len())?;
    expect_dim("pivoted cholesky: rows of G", n, g.nrows())?;
    expect_dim("pivoted cholesky: columns of G", opts.max_rank, g.ncols())?;
    let tol = opts.tolerance;
    require(
        tol.is_finite() && tol >= T::zero(),
        "tolerance",
        "must be finite and >= 0",
    )?;
    let mut ws = Workspace::new(ws, pivoted_cholesky_workspace_len(n))?;
    let d = ws.take(n)?;
    read_diagonal(a, d)?;
    for (i, p) in perm.iter_mut().enumerate() {
        *p = i;
    }
    g.fill(T::zero());
    let max_diag = d.iter().fold(T::zero(), |m, &v| m.max(v));
    let (trace, trace_scaled) = remaining_trace(d, perm, 0, max_diag);
    let target = tol * trace_scaled;
    let mut residual = (trace, trace_scaled);
    let mut rank = 0;
    while rank < opts.max_rank.min(n) && residual.1 > target {
        let (pos, dmax) = largest_remaining(d, perm, rank);
        if !(dmax > rounding_floor(rank, max_diag)) {
            break;
        }
        perm.swap(rank, pos);
        eliminate(a, perm, &mut g, d, rank)?;
        rank += 1;
        residual = remaining_trace(d, perm, rank, max_diag);
    }
    Ok(PivotedCholesky {
        rank,
        residual_trace: residual.0,
    })
}

/// `sum d_i` over `perm[k..]`, and the same sum of `d_i / scale`, which
/// cannot overflow (`scale` is the largest diagonal entry), for the
/// stopping test.
fn remaining_trace<T: Real>(d: &[T], perm: &[usize], k: usize, scale: T) -> (T, T) {
    let rest = || perm.iter().skip(k).map(|&i| d[i]);
    let sum = rest().sum();
    if scale > T::zero() {
        (sum, rest().map(|v| v / scale).sum())
    } else {
        (sum, T::zero())
    }
}

/// `d_i <- max(a_ii, 0)`, failing on a non-finite diagonal entry.
fn read_diagonal<T: Real, S: SymmetricSource<T> + ?Sized>(a: &S, d: &mut [T]) -> Result<()> {
    for (i, di) in d.iter_mut().enumerate() {
        let v = a.diagonal(i);
        if !v.is_finite() {
            return Err(Error::NonFinite {
                argument: "A",
                row: i,
                col: i,
            });
        }
        *di = v.max(T::zero());
    }
    Ok(())
}

/// Residual diagonal entries at or below this are rounding noise after
/// `k` steps: `8 (k + 1) eps max_diag` (see [`pivoted_cholesky`]).
fn rounding_floor<T: Real>(k: usize, max_diag: T) -> T {
    T::from_f64(8.0) * T::from_usize(k + 1) * T::EPS * max_diag
}

/// Position in `perm[k..]` (as an index into `perm`) of the largest
/// residual diagonal, and its value; ties go to the first.
fn largest_remaining<T: Real>(d: &[T], perm: &[usize], k: usize) -> (usize, T) {
    let mut best = (k, T::zero());
    for (pos, &i) in perm.iter().enumerate().skip(k) {
        if d[i] > best.1 || pos == k {
            best = (pos, d[i]);
        }
    }
    best
}

/// Step `k` with pivot `q = perm[k]`: fills column `k` of `G` and
/// downdates the residual diagonal of the remaining indices.
fn eliminate<T: Real, S: SymmetricSource<T> + ?Sized>(
    a: &S,
    perm: &[usize],
    g: &mut MatMut<'_, T>,
    d: &mut [T],
    k: usize,
) -> Result<()> {
    let q = perm[k];
    let gqq = d[q].sqrt();
    *g.at_mut(q, k) = gqq;
    d[q] = T::zero();
    for &i in perm.iter().skip(k + 1) {
        let aiq = a.entry(i, q);
        if !aiq.is_finite() {
            return Err(Error::NonFinite {
                argument: "A",
                row: i,
                col: q,
            });
        }
        let gik = (aiq - dot_rows(g.rb(), i, q, k)) / gqq;
        if !gik.is_finite() {
            return Err(Error::NotPositiveDefinite { pivot: i });
        }
        *g.at_mut(i, k) = gik;
        let r = d[i] - gik * gik;
        d[i] = if r > T::zero() { r } else { T::zero() };
    }
    Ok(())
}

/// `G[i, ..k] . G[q, ..k]`, on row slices when rows are contiguous; the
/// same association either way, so every layout of `G` gives the same bits.
fn dot_rows<T: Real>(g: MatRef<'_, T>, i: usize, q: usize, k: usize) -> T {
    match (g.row_slice(i), g.row_slice(q)) {
        (Some(a), Some(b)) => crate::dense::dot(&a[..k], &b[..k]),
        _ => crate::dense::dot_by(k, |j| (g.at(i, j), g.at(q, j))),
    }
}
