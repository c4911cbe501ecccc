//! The per-iteration steps of a fair transform and their use on new points.
//!
//! Step `j` keeps `alpha_j` (`n x p`), `U_j = K_{j-1} alpha_j` (`n x p`)
//! and `C_j^+` (`p x p`, the pseudo-inverse of `C_j = alpha_j^T U_j`), so
//! that `T_j = I - U_j C_j^+ alpha_j^T` and `Z_k = T_k ... T_1`. A kernel
//! row `k_x` of a new point against the `n` training points becomes
//! `k_x Z_k^T` by `v <- v - (v alpha_j) C_j^+ U_j^T`, and the new-new value
//! `k(x, x')` becomes `k(x, x') - sum_j (v_{j-1}(x) alpha_j) C_j^+ (v_{j-1}(x')
//! alpha_j)^T`: the projected inner products in the kernel's own feature
//! space, so train and test points together keep a positive semi-definite
//! kernel.

use crate::error::{Result, expect_dim};
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, add, mul};

/// Storage length of the steps of a transform with `n` points, `p`
/// protected attributes and up to `iterations` iterations:
/// `iterations (2 n p + p^2)`.
pub const fn fair_steps_len(n: usize, p: usize, iterations: usize) -> usize {
    mul(iterations, add(mul(2, mul(n, p)), mul(p, p)))
}

/// The steps `(alpha_j, U_j, C_j^+)` of an applied fair transform, kept in
/// the caller's storage; they transform kernel rows of new points.
#[derive(Clone, Copy, Debug)]
pub struct FairSteps<'s, T> {
    pub(crate) data: &'s [T],
    pub(crate) n: usize,
    pub(crate) p: usize,
    pub(crate) applied: usize,
}

/// One step's blocks.
pub(crate) struct Step<'s, T> {
    pub(crate) alpha: MatRef<'s, T>,
    pub(crate) u: MatRef<'s, T>,
    pub(crate) c_pinv: MatRef<'s, T>,
}

/// Offsets of step `j`'s blocks in the storage.
pub(crate) const fn step_len(n: usize, p: usize) -> usize {
    2 * n * p + p * p
}

impl<'s, T: Real> FairSteps<'s, T> {
    /// Number of training points `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of protected attributes `p`.
    pub fn p(&self) -> usize {
        self.p
    }

    /// Iterations applied.
    pub fn applied(&self) -> usize {
        self.applied
    }

    /// Step `j` (0-based).
    pub(crate) fn step(&self, j: usize) -> Result<Step<'s, T>> {
        let (n, p) = (self.n, self.p);
        let base = &self.data[j * step_len(n, p)..(j + 1) * step_len(n, p)];
        let (alpha, rest) = base.split_at(n * p);
        let (u, c) = rest.split_at(n * p);
        Ok(Step {
            alpha: MatRef::from_row_major(alpha, n, p)?,
            u: MatRef::from_row_major(u, n, p)?,
            c_pinv: MatRef::from_row_major(c, p, p)?,
        })
    }

    /// `(alpha_j, U_j, C_j^+)` of step `j < applied` as views (`n x p`,
    /// `n x p`, `p x p`), or `None`.
    pub fn get(&self, j: usize) -> Option<(MatRef<'s, T>, MatRef<'s, T>, MatRef<'s, T>)> {
        if j >= self.applied {
            return None;
        }
        self.step(j).ok().map(|s| (s.alpha, s.u, s.c_pinv))
    }

    /// Workspace of [`transform_new`](Self::transform_new): `2 p`.
    pub const fn transform_workspace_len(&self) -> usize {
        mul(2, self.p)
    }

    /// Transforms new points in place: each row of `rows` (`t x n`, kernel
    /// values of a new point against the training points) becomes
    /// `k_x Z_k^T`, and, when given, `diag` (the new points' `k(x, x)`,
    /// length `t`) becomes the transformed new-new values. `O(t k p n)`
    /// flops; workspace [`transform_workspace_len`](Self::transform_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
    /// [`Error::NonFinite`](crate::Error::NonFinite) (inputs unchanged),
    /// [`Error::WorkspaceTooSmall`](crate::Error::WorkspaceTooSmall).
    pub fn transform_new(
        &self,
        mut rows: MatMut<'_, T>,
        mut diag: Option<&mut [T]>,
        ws: &mut [T],
    ) -> Result<()> {
        expect_dim("transform_new: columns of rows", self.n, rows.ncols())?;
        rows.rb().check_finite("rows")?;
        if let Some(d) = diag.as_deref() {
            expect_dim("transform_new: length of diag", rows.nrows(), d.len())?;
            check_finite_slice(d, "diag")?;
        }
        let mut ws = Workspace::new(ws, self.transform_workspace_len())?;
        let s = ws.take(self.p)?;
        let cs = ws.take(self.p)?;
        for i in 0..rows.nrows() {
            let mut row = rows.submatrix_mut(i, 0, 1, self.n)?;
            let mut d = diag.as_deref_mut().and_then(|d| d.get_mut(i));
            for j in 0..self.applied {
                self.apply_step(j, &mut row, d.as_deref_mut(), s, cs)?;
            }
        }
        Ok(())
    }

    /// One step on one row: `s = v alpha_j`, `cs = C_j^+ s`,
    /// `v <- v - cs U_j^T`, `d <- d - s . cs`.
    fn apply_step(
        &self,
        j: usize,
        row: &mut MatMut<'_, T>,
        d: Option<&mut T>,
        s: &mut [T],
        cs: &mut [T],
    ) -> Result<()> {
        let step = self.step(j)?;
        let (n, p) = (self.n, self.p);
        for (a, sa) in s.iter_mut().enumerate() {
            *sa = (0..n).fold(T::zero(), |acc, i| acc + row.at(0, i) * step.alpha.at(i, a));
        }
        for (a, ca) in cs.iter_mut().enumerate() {
            *ca = (0..p).fold(T::zero(), |acc, b| acc + step.c_pinv.at(a, b) * s[b]);
        }
        for i in 0..n {
            let delta = (0..p).fold(T::zero(), |acc, a| acc + cs[a] * step.u.at(i, a));
            *row.at_mut(0, i) -= delta;
        }
        if let Some(d) = d {
            *d -= (0..p).fold(T::zero(), |acc, a| acc + s[a] * cs[a]);
        }
        Ok(())
    }

    /// `out <- Z_k` (`n x n`) explicitly, for callers who want it:
    /// `O(k p n^2)` flops. Workspace
    /// [`transform_workspace_len`](Self::transform_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `out` is not `n x n`;
    /// [`Error::WorkspaceTooSmall`](crate::Error::WorkspaceTooSmall).
    pub fn explicit_z(&self, mut out: MatMut<'_, T>, ws: &mut [T]) -> Result<()> {
        expect_dim("explicit_z: rows of out", self.n, out.nrows())?;
        expect_dim("explicit_z: columns of out", self.n, out.ncols())?;
        // Row i of the transformed identity is e_i Z^T, i.e. column i of Z:
        // transform the identity in the transposed view.
        for i in 0..self.n {
            for j in 0..self.n {
                *out.at_mut(i, j) = if i == j { T::one() } else { T::zero() };
            }
        }
        self.transform_new(out.transpose(), None, ws)
    }
}
