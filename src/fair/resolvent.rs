//! The two ways of applying `(K_j + lambda I)^{-1}` while directions are
//! removed from the feature factor `F`.
//!
//! - [`DenseResolvent`] (exact mode): one Cholesky factor of
//!   `F F^T + lambda I` (`n x n`), carried by rank-one downdates
//!   `K_j + lambda I = K_{j-1} + lambda I - (F w)(F w)^T` for each unit
//!   direction `w`, `O(n^2)` each.
//! - [`WoodburyResolvent`] (Nystroem mode, `F` of `n x m`): the Cholesky
//!   factor of `M = lambda I + F_j^T F_j` (`m x m`), so that
//!   `(F_j F_j^T + lambda I)^{-1} a = (a - F_j M^{-1} F_j^T a) / lambda` with
//!   `F_j = F P_j`; removing a unit direction `w` changes `M` by
//!   `-(w b^T + b w^T)` with `b = P H w - (w^T H w) w / 2`, `H = F^T F`,
//!   applied as the update `(w - b)/sqrt 2` followed by the downdate
//!   `(w + b)/sqrt 2`: `O(m^2)` each, no `n x n` matrix.
//!
//! A downdate can fail in floating point when `lambda` is tiny relative to
//! `K`; the resolvent is then refactored from the current factor (counted
//! in the report) rather than giving up.

use super::Directions;
use crate::cholesky::{Cholesky, cholesky_in_place};
use crate::dense::matmul;
use crate::error::{Error, Result};
use crate::op::LinearOperator;
use crate::real::Real;
use crate::view::{MatMut, MatRef};

/// Applies the current `(K_j + lambda I)^{-1}` and removes directions.
pub(crate) trait Resolvent<T: Real> {
    /// `a <- (K_j + lambda I)^{-1} a` for an `n x p` row-major block.
    fn solve(
        &mut self,
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        a: MatMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<()>;

    /// Removes the unit direction `w`, already appended to `dirs` (and
    /// orthogonal to the others), with `v = F w`. Returns `true` when it had
    /// to refactor.
    fn remove(
        &mut self,
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        w: &[T],
        v: &[T],
        scratch: &mut [T],
    ) -> Result<bool>;
}

/// `a <- G G^T + lambda I` for `G = F P` (the directions removed), then
/// factored in place; `scratch` holds `G` (`n x r`) and the products.
fn factor_projected_gram<T: Real>(
    f: MatRef<'_, T>,
    dirs: &Directions<'_, T>,
    lambda: T,
    mut a: MatMut<'_, T>,
    scratch: &mut [T],
) -> Result<()> {
    let (n, r) = f.shape();
    let (g, rest) = scratch.split_at_mut(n * r);
    dirs.project_factor(f, g, rest)?;
    let g = MatRef::from_row_major(g, n, r)?;
    matmul(a.rb_mut(), T::one(), g, g.transpose(), T::zero(), rest)?;
    add_to_diagonal(&mut a, lambda);
    cholesky_in_place(a, rest).map(|_| ())
}

/// `a_ii += s`.
fn add_to_diagonal<T: Real>(a: &mut MatMut<'_, T>, s: T) {
    for i in 0..a.nrows() {
        *a.at_mut(i, i) += s;
    }
}

/// Exact mode: the Cholesky factor of `F_j F_j^T + lambda I` in `l` (`n x n`).
pub(crate) struct DenseResolvent<'w, T> {
    l: MatMut<'w, T>,
    lambda: T,
}

impl<'w, T: Real> DenseResolvent<'w, T> {
    /// Factors `F F^T + lambda I` into `buf` (`n x n`).
    pub(crate) fn new(
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        lambda: T,
        buf: &'w mut [T],
        scratch: &mut [T],
    ) -> Result<Self> {
        let n = f.nrows();
        let mut l = MatMut::from_row_major(buf, n, n)?;
        factor_projected_gram(f, dirs, lambda, l.rb_mut(), scratch)?;
        Ok(Self { l, lambda })
    }
}

impl<T: Real> Resolvent<T> for DenseResolvent<'_, T> {
    fn solve(
        &mut self,
        _f: MatRef<'_, T>,
        _dirs: &Directions<'_, T>,
        a: MatMut<'_, T>,
        _scratch: &mut [T],
    ) -> Result<()> {
        Cholesky::from_factor_unchecked(self.l.rb()).solve_matrix_in_place(a)
    }

    fn remove(
        &mut self,
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        _w: &[T],
        v: &[T],
        scratch: &mut [T],
    ) -> Result<bool> {
        match Cholesky::from_factor_unchecked(self.l.rb_mut()).downdate(v, scratch) {
            Ok(()) => Ok(false),
            Err(Error::DowndateFailed { .. }) => {
                factor_projected_gram(f, dirs, self.lambda, self.l.rb_mut(), scratch)?;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }
}

/// Nystroem mode: `H = F^T F` and the Cholesky factor of
/// `lambda I + P H P` (`m x m`) in `l`.
pub(crate) struct WoodburyResolvent<'w, T> {
    h: MatRef<'w, T>,
    l: MatMut<'w, T>,
    lambda: T,
}

impl<'w, T: Real> WoodburyResolvent<'w, T> {
    /// `H = F^T F` into `h_buf` and the factor of `lambda I + H` into
    /// `m_buf`.
    pub(crate) fn new(
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        lambda: T,
        h_buf: &'w mut [T],
        m_buf: &'w mut [T],
        scratch: &mut [T],
    ) -> Result<Self> {
        let r = f.ncols();
        let mut h = MatMut::from_row_major(h_buf, r, r)?;
        matmul(h.rb_mut(), T::one(), f.transpose(), f, T::zero(), scratch)?;
        let h = h.into_ref();
        let mut l = MatMut::from_row_major(m_buf, r, r)?;
        factor_woodbury(h, dirs, lambda, l.rb_mut(), scratch)?;
        Ok(Self { h, l, lambda })
    }
}

/// `a <- lambda I + P H P` (`P` removing the directions), factored in
/// place.
fn factor_woodbury<T: Real>(
    h: MatRef<'_, T>,
    dirs: &Directions<'_, T>,
    lambda: T,
    mut a: MatMut<'_, T>,
    scratch: &mut [T],
) -> Result<()> {
    a.copy_from(h)?;
    dirs.project_both_sides(&mut a, scratch)?;
    add_to_diagonal(&mut a, lambda);
    cholesky_in_place(a, scratch).map(|_| ())
}

impl<T: Real> Resolvent<T> for WoodburyResolvent<'_, T> {
    /// `a <- (a - F P z) / lambda` with `z = M^{-1} P F^T a`, column by column.
    fn solve(
        &mut self,
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        mut a: MatMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<()> {
        let (n, m) = f.shape();
        let (col, rest) = scratch.split_at_mut(n);
        let (z, rest) = rest.split_at_mut(m);
        let fz = &mut rest[..n];
        let inv = self.lambda.recip();
        let chol = Cholesky::from_factor_unchecked(self.l.rb());
        for c in 0..a.ncols() {
            a.rb().copy_col_to(c, col);
            crate::dense::gemv_transpose(f, col, z);
            dirs.project(z);
            chol.solve_in_place(z)?;
            dirs.project(z);
            crate::dense::gemv(f, z, fz);
            for (i, (&ai, &fzi)) in col.iter().zip(fz.iter()).enumerate() {
                *a.at_mut(i, c) = (ai - fzi) * inv;
            }
        }
        Ok(())
    }

    fn remove(
        &mut self,
        _f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        w: &[T],
        _v: &[T],
        scratch: &mut [T],
    ) -> Result<bool> {
        let m = w.len();
        let (g, rest) = scratch.split_at_mut(m);
        let (x, rest) = rest.split_at_mut(m);
        let (y, rest) = rest.split_at_mut(m);
        // With P' removing every direction including w: g' = P' H w and
        // c = w^T H w, so b = P H w - (c / 2) w = g' + (c / 2) w.
        self.h.apply(w, g, &mut [])?;
        let c = crate::dense::dot(w, g);
        dirs.project(g);
        let half = T::from_f64(0.5);
        let root_half = half.sqrt();
        for k in 0..m {
            let b = g[k] + half * c * w[k];
            x[k] = (w[k] - b) * root_half;
            y[k] = (w[k] + b) * root_half;
        }
        let mut chol = Cholesky::from_factor_unchecked(self.l.rb_mut());
        chol.update(x, rest)?;
        match chol.downdate(y, rest) {
            Ok(()) => Ok(false),
            Err(Error::DowndateFailed { .. }) => {
                factor_woodbury(self.h, dirs, self.lambda, self.l.rb_mut(), rest)?;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }
}
