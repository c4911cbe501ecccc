//! Allocation-free operator traits and a generic conjugate-gradient solver.
//!
//! Every structured type of the crate (dense views, Cholesky factors, and
//! the Kronecker, Nystroem and fair-projection types) implements these
//! traits, so generic code such as [`conjugate_gradient`] runs on any of
//! them. Scratch space is passed in, as everywhere in the crate, with the
//! length each method needs given by a `*_workspace_len` method.

use crate::dense::{self, matmul, matmul_workspace_len};
use crate::error::{Error, Result, expect_dim, require};
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, add, mul};

/// A linear map `y = Op x` from `ncols` to `nrows` dimensions.
pub trait LinearOperator<T: Real> {
    /// Output dimension.
    fn nrows(&self) -> usize;
    /// Input dimension.
    fn ncols(&self) -> usize;

    /// Scratch length [`apply`](Self::apply) and
    /// [`apply_transpose`](Self::apply_transpose) need.
    fn apply_workspace_len(&self) -> usize {
        0
    }

    /// `y <- Op x`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] on wrong lengths,
    /// [`Error::NonFinite`] for a non-finite `x` (or operator entry),
    /// [`Error::WorkspaceTooSmall`], [`Error::Overflow`] if an entry of the
    /// result is not representable (`y` overwritten), or the operator's own
    /// errors.
    fn apply(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()>;

    /// `y <- Op^T x`.
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()>;

    /// Scratch length [`apply_block`](Self::apply_block) needs for a block
    /// of `ncols` columns.
    fn apply_block_workspace_len(&self, _ncols: usize) -> usize {
        add(self.apply_workspace_len(), add(self.nrows(), self.ncols()))
    }

    /// `Y <- Op X` for a block of columns (`X`: `ncols x k`, `Y`: `nrows x
    /// k`). The default applies the operator column by column through
    /// contiguous copies.
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    fn apply_block(&self, x: MatRef<'_, T>, mut y: MatMut<'_, T>, ws: &mut [T]) -> Result<()> {
        expect_dim("apply_block: rows of X", self.ncols(), x.nrows())?;
        expect_dim("apply_block: rows of Y", self.nrows(), y.nrows())?;
        expect_dim("apply_block: columns of Y", x.ncols(), y.ncols())?;
        let mut ws = Workspace::new(ws, self.apply_block_workspace_len(x.ncols()))?;
        let xc = ws.take(self.ncols())?;
        let yc = ws.take(self.nrows())?;
        let rest = ws.take(self.apply_workspace_len())?;
        for j in 0..x.ncols() {
            x.copy_col_to(j, xc);
            self.apply(xc, yc, rest)?;
            y.set_col_from(j, yc);
        }
        Ok(())
    }
}

/// An invertible square operator that can solve `Op x = b`.
pub trait Solve<T: Real>: LinearOperator<T> {
    /// Scratch length [`solve_in_place`](Self::solve_in_place) needs.
    fn solve_workspace_len(&self) -> usize {
        0
    }

    /// `b <- Op^{-1} b`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`] for a non-finite
    /// right-hand side, [`Error::WorkspaceTooSmall`], [`Error::Overflow`] if
    /// an entry of the solution is not representable (`b` overwritten).
    fn solve_in_place(&self, b: &mut [T], ws: &mut [T]) -> Result<()>;

    /// Scratch length [`solve_block_in_place`](Self::solve_block_in_place)
    /// needs for `ncols` right-hand sides.
    fn solve_block_workspace_len(&self, _ncols: usize) -> usize {
        add(self.solve_workspace_len(), self.nrows())
    }

    /// `B <- Op^{-1} B` for a block of right-hand sides. The default solves
    /// column by column through a contiguous copy.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    fn solve_block_in_place(&self, mut b: MatMut<'_, T>, ws: &mut [T]) -> Result<()> {
        expect_dim("solve_block: rows of B", self.nrows(), b.nrows())?;
        b.rb().check_finite("B")?;
        let mut ws = Workspace::new(ws, self.solve_block_workspace_len(b.ncols()))?;
        let col = ws.take(self.nrows())?;
        let rest = ws.take(self.solve_workspace_len())?;
        for j in 0..b.ncols() {
            b.rb().copy_col_to(j, col);
            self.solve_in_place(col, rest)?;
            b.set_col_from(j, col);
        }
        Ok(())
    }
}

/// An operator with a log-determinant `log |det Op|` (for the symmetric
/// positive-definite operators of this crate, `log det Op`).
pub trait LogDet<T: Real> {
    /// The natural logarithm of the determinant.
    ///
    /// # Errors
    /// When the determinant is not numerically meaningful (e.g. a factor that
    /// is not numerically positive definite); see each implementation.
    fn log_det(&self) -> Result<T>;
}

impl<T: Real> LinearOperator<T> for MatRef<'_, T> {
    fn nrows(&self) -> usize {
        MatRef::nrows(self)
    }
    fn ncols(&self) -> usize {
        MatRef::ncols(self)
    }
    /// `y <- A x`, `2 m n` flops.
    fn apply(&self, x: &[T], y: &mut [T], _ws: &mut [T]) -> Result<()> {
        expect_dim("apply: length of x", MatRef::ncols(self), x.len())?;
        expect_dim("apply: length of y", MatRef::nrows(self), y.len())?;
        crate::view::check_finite_slice(x, "x")?;
        crate::level2::gemv(*self, crate::level2::Shape::Full, x, y);
        if crate::view::first_non_finite(y).is_some() {
            // a non-finite entry of A, reported as such, or an overflow
            self.check_finite("A")?;
            return Err(Error::Overflow { what: "A x" });
        }
        Ok(())
    }
    /// `y <- A^T x`, `2 m n` flops.
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        self.transpose().apply(x, y, ws)
    }
    fn apply_block_workspace_len(&self, ncols: usize) -> usize {
        matmul_workspace_len(MatRef::nrows(self), ncols, MatRef::ncols(self))
    }
    /// `Y <- A X` through the packed product kernel.
    fn apply_block(&self, x: MatRef<'_, T>, y: MatMut<'_, T>, ws: &mut [T]) -> Result<()> {
        matmul(y, T::one(), *self, x, T::zero(), ws)
    }
}

/// Stopping rule of [`conjugate_gradient`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgOptions<T> {
    /// Iteration cap; reaching it gives [`Error::NoConvergence`].
    pub max_iterations: usize,
    /// Stop when `|b - A x| <= tolerance * |b|` (2-norms). Must be positive.
    pub tolerance: T,
}

impl<T: Real> Default for CgOptions<T> {
    /// 1000 iterations, tolerance `sqrt(eps)` (`1.5e-8` for `f64`).
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            tolerance: T::EPS.sqrt(),
        }
    }
}

/// What [`conjugate_gradient`] achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CgReport<T> {
    /// Iterations performed (operator applications after the first).
    pub iterations: usize,
    /// Final `|r| / |b|` of the recurrence residual.
    pub relative_residual: T,
}

/// Workspace length of [`conjugate_gradient`] for order `n`, an operator
/// whose `apply_workspace_len()` is `op_ws` and a preconditioner whose
/// `solve_workspace_len()` is `precond_ws` (0 without one): `4 n +
/// max(op_ws, precond_ws)`.
pub const fn conjugate_gradient_workspace_len(n: usize, op_ws: usize, precond_ws: usize) -> usize {
    let inner = if op_ws > precond_ws {
        op_ws
    } else {
        precond_ws
    };
    add(mul(4, n), inner)
}

/// Solves `A x = b` for a symmetric positive-definite operator by
/// (preconditioned) conjugate gradients.
///
/// `x` holds the initial guess on entry and the solution on return. The
/// optional preconditioner `M ~ A` is any [`Solve`] implementation (a
/// Cholesky factor, a Nystroem-Woodbury inverse, ...): each iteration applies
/// `M^{-1}` once. Cost per iteration: one operator application, one
/// preconditioner solve and `10 n` flops. Workspace
/// [`conjugate_gradient_workspace_len`].
///
/// # Errors
/// - [`Error::DimensionMismatch`] when `A` is not square or lengths differ;
/// - [`Error::NonFinite`] for a non-finite `b` or initial `x`;
/// - [`Error::InvalidParameter`] for a tolerance that is not positive;
/// - [`Error::NotPositiveDefiniteOperator`] when `p^T A p <= 0` or `r^T M^{-1} r <= 0`;
/// - [`Error::NoConvergence`] at the iteration cap; `x` then holds the last
///   iterate.
///
/// ```
/// use gramkit::{MatRef, op::{conjugate_gradient, conjugate_gradient_workspace_len, CgOptions}};
/// let a = [[4.0f64, 1.0], [1.0, 3.0]];
/// let a = MatRef::from_array(&a);
/// let b = [1.0, 2.0];
/// let mut x = [0.0; 2];
/// let mut ws = [0.0; conjugate_gradient_workspace_len(2, 0, 0)];
/// let report = conjugate_gradient(&a, None, &b, &mut x, CgOptions::default(), &mut ws)?;
/// assert!(report.iterations <= 2);
/// assert!((x[0] - 1.0 / 11.0).abs() < 1e-12 && (x[1] - 7.0 / 11.0).abs() < 1e-12);
/// # Ok::<(), gramkit::Error>(())
/// ```
pub fn conjugate_gradient<T: Real, A: LinearOperator<T> + ?Sized>(
    a: &A,
    precond: Option<&dyn Solve<T>>,
    b: &[T],
    x: &mut [T],
    opts: CgOptions<T>,
    ws: &mut [T],
) -> Result<CgReport<T>> {
    let n = a.nrows();
    expect_dim("conjugate_gradient: operator columns", n, a.ncols())?;
    expect_dim("conjugate_gradient: length of b", n, b.len())?;
    expect_dim("conjugate_gradient: length of x", n, x.len())?;
    if let Some(m) = precond {
        expect_dim("conjugate_gradient: preconditioner order", n, m.nrows())?;
    }
    require(opts.tolerance > T::zero(), "tolerance", "must be positive")?;
    check_finite_slice(b, "b")?;
    check_finite_slice(x, "x")?;
    let precond_ws = precond.map_or(0, |m| m.solve_workspace_len());
    let needed = conjugate_gradient_workspace_len(n, a.apply_workspace_len(), precond_ws);
    let mut ws = Workspace::new(ws, needed)?;
    let r = ws.take(n)?;
    let z = ws.take(n)?;
    let p = ws.take(n)?;
    let q = ws.take(n)?;
    let inner = ws.take(needed - 4 * n)?;

    let b_norm = dense::dot(b, b).sqrt();
    if b_norm == T::zero() {
        x.fill(T::zero());
        return Ok(CgReport {
            iterations: 0,
            relative_residual: T::zero(),
        });
    }
    a.apply(x, q, inner)?;
    for i in 0..n {
        r[i] = b[i] - q[i];
    }
    let target = opts.tolerance * b_norm;
    let mut r_norm = dense::dot(r, r).sqrt();
    let precondition = |r: &[T], z: &mut [T], inner: &mut [T]| -> Result<()> {
        z.copy_from_slice(r);
        match precond {
            Some(m) => m.solve_in_place(z, inner),
            None => Ok(()),
        }
    };
    precondition(r, z, inner)?;
    p.copy_from_slice(z);
    let mut rz = dense::dot(r, z);
    for iteration in 1..=opts.max_iterations {
        if r_norm <= target {
            return Ok(CgReport {
                iterations: iteration - 1,
                relative_residual: r_norm / b_norm,
            });
        }
        if !(rz > T::zero()) {
            return Err(Error::NotPositiveDefiniteOperator { iteration });
        }
        a.apply(p, q, inner)?;
        let curvature = dense::dot(p, q);
        if !(curvature > T::zero()) {
            return Err(Error::NotPositiveDefiniteOperator { iteration });
        }
        let alpha = rz / curvature;
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * q[i];
        }
        r_norm = dense::dot(r, r).sqrt();
        precondition(r, z, inner)?;
        let rz_next = dense::dot(r, z);
        let beta = rz_next / rz;
        rz = rz_next;
        for i in 0..n {
            p[i] = z[i] + beta * p[i];
        }
    }
    if r_norm <= target {
        return Ok(CgReport {
            iterations: opts.max_iterations,
            relative_residual: r_norm / b_norm,
        });
    }
    Err(Error::NoConvergence {
        iterations: opts.max_iterations,
    })
}
