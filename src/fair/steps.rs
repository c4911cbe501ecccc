//! The removed directions of a fair transform and their use on new points.

use crate::dense::{matmul, matmul_workspace_len, max_abs};
use crate::error::{Result, expect_dim};
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice, finite_or_overflow};
use crate::workspace::{Workspace, add, mul};

/// Storage length of the steps of a transform with `n` points, `p`
/// protected attributes and up to `iterations` iterations:
/// `2 iterations p n` (a dual vector and the training values of up to `p`
/// directions per iteration).
pub const fn fair_steps_len(n: usize, p: usize, iterations: usize) -> usize {
    mul(iterations, step_len(n, p))
}

/// Storage of one iteration: `p` dual vectors, then `p` value vectors.
pub(crate) const fn step_len(n: usize, p: usize) -> usize {
    mul(2, mul(n, p))
}

/// The directions removed by an applied fair transform, kept in the
/// caller's storage: they transform kernel rows of new points and give
/// `Z_k`.
///
/// Each removed direction is a unit vector `w_l` of the kernel's feature
/// space. It is kept through two `n`-vectors:
///
/// - its values at the training points, `u_l = F w_l` (`u_l(i) = <phi(x_i), w_l>`);
/// - a dual vector `a_l` with `F^T a_l = w_l`, non-zero only on the `r`
///   rows `S` where `F` is triangular (`a_l[S] = F_S^{-T} w_l`), so that
///   `<phi(x), w_l> = a_l . k_x` for any point `x` whose feature lies in
///   the span of the training points' (Nystroem mode: of the landmarks').
///
/// The directions are orthonormal (`a_l . u_m = delta_lm`; in Nystroem
/// mode when `K[S, S]` needed a jitter `d`, `L_W L_W^T = K[S, S] + d I`,
/// `a_l . u_m = delta_lm - d w_l^T (L_W^T L_W)^{-1} w_m`, while `u_l = K a_l`
/// and everything below still hold with `K~ = B B^T`), hence
///
/// ```text
/// K_k = K - sum_l u_l u_l^T,   Z_k = T_k ... T_1 = I - sum_l u_l a_l^T,
/// k_x  ->  k_x - sum_l (a_l . k_x) u_l,   k(x, x)  ->  k(x, x) - sum_l (a_l . k_x)^2
/// ```
///
/// (in Nystroem mode `K~ = B B^T` in place of `K` in the first), the last
/// two being the inner products of the projected features: train
/// and new points together keep a positive semi-definite kernel. Every
/// coefficient `a_l . k_x` is taken from the original row and each `a_l`
/// is solved from its unit `w_l` on its own, so rounding does not compound
/// from one iteration to the next (applied literally, the paper's
/// `T_j = I - U_j C_j^{-1} alpha_j^T` multiply rounding errors by up to
/// about `1 / lambda` per step).
///
/// Iteration `j` removes up to `p` directions, one per protected
/// attribute; a direction that was at rounding level (nothing predictive
/// left along it) is stored as zeros and removes nothing.
#[derive(Clone, Copy, Debug)]
pub struct FairSteps<'s, T> {
    pub(crate) data: &'s [T],
    pub(crate) n: usize,
    pub(crate) p: usize,
    pub(crate) applied: usize,
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

    /// Iteration `j`'s dual vectors `A_j` and training values `U_j` as
    /// `n x p` views (column `c`: the direction found for attribute `c`),
    /// or `None` for `j >= applied`. `U_j = K A_j` and `A_j^T U_j` is
    /// diagonal with ones for the removed directions, zeros for the
    /// dropped ones (but for a jittered Nystroem approximation, see the
    /// type's documentation).
    pub fn get(&self, j: usize) -> Option<(MatRef<'s, T>, MatRef<'s, T>)> {
        if j >= self.applied {
            return None;
        }
        let (a, u) = self.direction_block(j);
        let view = |d| MatRef::from_strided(d, self.n, self.p, 1, self.n).ok();
        Some((view(a)?, view(u)?))
    }

    /// Iteration `j`'s duals and values (`p` contiguous vectors each).
    fn direction_block(&self, j: usize) -> (&'s [T], &'s [T]) {
        let len = step_len(self.n, self.p);
        self.data[j * len..(j + 1) * len].split_at(len / 2)
    }

    /// Every direction as `(a_l, u_l)`, in order.
    fn directions(&self) -> impl Iterator<Item = (&'s [T], &'s [T])> + '_ {
        let n = self.n.max(1);
        (0..self.applied).flat_map(move |j| {
            let (a, u) = self.direction_block(j);
            a.chunks_exact(n).zip(u.chunks_exact(n))
        })
    }

    /// Workspace of [`transform_new`](Self::transform_new):
    /// `n + applied p`.
    pub const fn transform_workspace_len(&self) -> usize {
        add(self.n, mul(self.applied, self.p))
    }

    /// Transforms new points in place: each row of `rows` (`t x n`, kernel
    /// values `k_x` of a new point against the training points) becomes
    /// `k_x Z_k^T = k_x - sum_l (a_l . k_x) u_l`, and, when given, `diag`
    /// (the new points' `k(x, x)`, length `t`) becomes
    /// `k(x, x) - sum_l (a_l . k_x)^2`. A training point's own row comes
    /// back as its row of `K_k` (exact mode; in Nystroem mode, its exact
    /// kernel row with the directions removed, of which `K_k` is the
    /// Nystroem approximation). `4 t d n + 2 d n` flops for `d` directions
    /// (twice the first term when values near the overflow threshold force
    /// a checking pass); workspace
    /// [`transform_workspace_len`](Self::transform_workspace_len).
    ///
    /// # Errors
    /// Inputs unchanged on every error:
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
    /// [`Error::NonFinite`](crate::Error::NonFinite),
    /// [`Error::WorkspaceTooSmall`](crate::Error::WorkspaceTooSmall),
    /// [`Error::Overflow`](crate::Error::Overflow) if a transformed value
    /// (or a coefficient `a_l . k_x`, or its square) is above the largest
    /// finite value.
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
        let x = ws.take(self.n)?;
        let coef = ws.take(self.applied * self.p)?;
        if !self.cannot_overflow(rows.rb(), diag.as_deref()) {
            for i in 0..rows.nrows() {
                self.transform_row(rows.rb(), i, diag.as_deref(), x, coef)?;
            }
        }
        for i in 0..rows.nrows() {
            let d = self.transform_row(rows.rb(), i, diag.as_deref(), x, coef)?;
            rows.rb_mut().transpose().set_col_from(i, x);
            if let Some(di) = diag.as_deref_mut().and_then(|dg| dg.get_mut(i)) {
                *di = d;
            }
        }
        Ok(())
    }

    /// Row `i` of `rows` transformed into `x`; returns its new diagonal
    /// entry (zero without `diag`), or `Err(Overflow)` if anything is not
    /// finite.
    fn transform_row(
        &self,
        rows: MatRef<'_, T>,
        i: usize,
        diag: Option<&[T]>,
        x: &mut [T],
        coef: &mut [T],
    ) -> Result<T> {
        rows.transpose().copy_col_to(i, x);
        let removed = self.remove_directions(x, coef);
        let d = diag
            .and_then(|dg| dg.get(i))
            .map_or(T::zero(), |&v| v - removed);
        finite_or_overflow(x, "transformed rows")?;
        finite_or_overflow(&[d], "transformed diag")?;
        Ok(d)
    }

    /// Whether no intermediate of [`transform_new`](Self::transform_new)
    /// can overflow, from `m = max |k_x|` and `s_l = |a_l|_1`:
    /// `m (1 + sum_l s_l max |u_l|)` and `max |d| + sum_l (m s_l)^2` finite
    /// bound every coefficient, partial row and diagonal update.
    fn cannot_overflow(&self, rows: MatRef<'_, T>, diag: Option<&[T]>) -> bool {
        let m =
            max_abs((0..rows.nrows()).flat_map(|i| (0..rows.ncols()).map(move |j| rows.at(i, j))));
        let (mut row_bound, mut diag_bound) = (m, max_abs(diag.unwrap_or(&[]).iter().copied()));
        for (a, u) in self.directions() {
            let s = a.iter().fold(T::zero(), |acc, v| acc + v.abs());
            row_bound += m * s * max_abs(u.iter().copied());
            diag_bound += (m * s) * (m * s);
        }
        row_bound.is_finite() && diag_bound.is_finite()
    }

    /// `coef_l = a_l . x` for every direction, then `x <- x - sum_l coef_l
    /// u_l`; returns `sum_l coef_l^2`.
    fn remove_directions(&self, x: &mut [T], coef: &mut [T]) -> T {
        for (c, (a, _)) in coef.iter_mut().zip(self.directions()) {
            *c = crate::dense::dot(a, x);
        }
        for (&c, (_, u)) in coef.iter().zip(self.directions()) {
            for (xi, &ui) in x.iter_mut().zip(u) {
                *xi -= c * ui;
            }
        }
        coef.iter().map(|&c| c * c).sum()
    }

    /// Workspace of [`explicit_z`](Self::explicit_z).
    pub const fn explicit_z_workspace_len(&self) -> usize {
        matmul_workspace_len(self.n, self.n, self.p)
    }

    /// `out <- Z_k = I - sum_l u_l a_l^T` (`n x n`) explicitly, for callers
    /// who want it (`K_k = Z_k K Z_k^T`, new rows `k_x Z_k^T`):
    /// `2 k p n^2` flops. Workspace
    /// [`explicit_z_workspace_len`](Self::explicit_z_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) if
    /// `out` is not `n x n`;
    /// [`Error::WorkspaceTooSmall`](crate::Error::WorkspaceTooSmall).
    pub fn explicit_z(&self, mut out: MatMut<'_, T>, ws: &mut [T]) -> Result<()> {
        let n = self.n;
        expect_dim("explicit_z: rows of out", n, out.nrows())?;
        expect_dim("explicit_z: columns of out", n, out.ncols())?;
        Workspace::new(ws, self.explicit_z_workspace_len())?;
        out.fill(T::zero());
        for i in 0..n {
            *out.at_mut(i, i) = T::one();
        }
        for j in 0..self.applied {
            let (a, u) = self.direction_block(j);
            let a = MatRef::from_row_major(a, self.p, n)?;
            let u = MatRef::from_row_major(u, self.p, n)?;
            matmul(out.rb_mut(), -T::one(), u.transpose(), a, T::one(), ws)?;
        }
        Ok(())
    }
}
