//! The two ways of applying `(K_j + lambda I)^{-1}` while directions are
//! removed from the feature factor `F`.
//!
//! - [`CapacitanceResolvent`] (exact mode): `K + lambda I = L_0 L_0^T` is
//!   factored once and kept. The removed directions `V = F W` (unit `w`)
//!   enter through `Y = L_0^{-1} V` and the capacitance matrix
//!   `S = I - Y^T Y`: `K_j + lambda I = L_0 (I - Y Y^T) L_0^T`, so
//!   `(K_j + lambda I)^{-1} a = L_0^{-T} (z + Y S^{-1} Y^T z)` with
//!   `z = L_0^{-1} a` (constant across iterations for the protected
//!   attributes, so computed once). Removing a direction is one triangular
//!   solve (`O(n^2)`) and one new row of the Cholesky factor of `S`. This
//!   carries the same information as downdating the factor of
//!   `K_j + lambda I` (and has the same `O(n^3 + k p n^2)` cost), but touches
//!   the `n x n` factor once per direction instead of three times, with no
//!   rotation sweep over it: the iterations cost a few `n^2` memory passes.
//! - [`WoodburyResolvent`] (Nystroem mode, `F` of `n x m`): the Cholesky
//!   factor of `M = lambda I + F_j^T F_j` (`m x m`), so that
//!   `(F_j F_j^T + lambda I)^{-1} a = (a - F_j M^{-1} F_j^T a) / lambda` with
//!   `F_j = F P_j`; removing a unit direction `w` changes `M` by
//!   `-(w b^T + b w^T)` with `b = P H w - (w^T H w) w / 2`, `H = F^T F`,
//!   applied as the update `(w - b)/sqrt 2` followed by the downdate
//!   `(w + b)/sqrt 2`: `O(m^2)` each, no `n x n` matrix.
//!
//! `S` stays positive definite (its eigenvalues are at least
//! `lambda / (lambda + |K|)`); when rounding makes a new pivot of `S` (or a
//! downdate of `M`) fail, the resolvent is refactored from the current
//! factor (counted in the report) rather than giving up.

use super::{Directions, Factor};
use crate::cholesky::{Cholesky, cholesky_in_place};
use crate::dense::{matmul, max_abs};
use crate::error::{Error, Result};
use crate::level2::{Shape, gemv, gemv_transpose, solve_upper_mul_transpose};
use crate::op::LinearOperator;
use crate::real::Real;
use crate::view::{MatMut, MatRef};

/// Applies the current `(K_j + lambda I)^{-1}` and removes directions.
pub(crate) trait Resolvent<T: Real> {
    /// `alpha <- (K_j + lambda I)^{-1} A` for the protected attributes `A`
    /// (`n x p`), each column up to a positive scale of the implementation's
    /// choosing (only directions matter), into the row-major `alpha`, and
    /// `F^T alpha_c` into the row `c` of `wt` (`p x r`, row-major).
    fn alpha(
        &mut self,
        factor: Factor<'_, T>,
        dirs: &Directions<'_, T>,
        alpha: MatMut<'_, T>,
        wt: &mut [T],
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

/// `max_i |x_i|`, or one for a zero vector. The directions removed depend
/// on each protected attribute only up to scale: divided by this, its
/// `alpha` neither overflows nor underflows for attributes of extreme
/// magnitude.
fn unit_max_divisor<T: Real>(x: impl Iterator<Item = T>) -> T {
    let largest = max_abs(x);
    if largest > T::zero() {
        largest
    } else {
        T::one()
    }
}

/// `a_ii += s`.
fn add_to_diagonal<T: Real>(a: &mut MatMut<'_, T>, s: T) {
    for i in 0..a.nrows() {
        *a.at_mut(i, i) += s;
    }
}

/// Storage of the capacitance resolvent beyond `L_0`: `z` (`n p`), `Y`
/// (`n cap`), the factor of `S` (`cap^2`).
pub(crate) const fn capacitance_len(n: usize, p: usize, cap: usize) -> usize {
    crate::workspace::add(
        crate::workspace::mul(n, p),
        crate::workspace::mul(cap, crate::workspace::add(n, cap)),
    )
}

/// Exact mode: `L_0` (`n x n`, row-major lower) with `L_0 L_0^T = K_c +
/// lambda I` for the kernel `K_c` at the last (re)factorization, `z = L_0^{-1}
/// A`, and the directions removed since then as `Y` and the Cholesky factor
/// of `S = I - Y^T Y`.
pub(crate) struct CapacitanceResolvent<'w, 'p, T> {
    l0: MatMut<'w, T>,
    z: MatMut<'w, T>,
    y: &'w mut [T],
    s: MatMut<'w, T>,
    t: usize,
    protected: MatRef<'p, T>,
    lambda: T,
}

impl<'w, 'p, T: Real> CapacitanceResolvent<'w, 'p, T> {
    /// Takes `l0_buf` holding the factor of `K + lambda I` (when `factored`)
    /// or factors `F F^T + lambda I` into it; `buf` holds
    /// [`capacitance_len`]`(n, p, cap)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        factored: bool,
        protected: MatRef<'p, T>,
        lambda: T,
        l0_buf: &'w mut [T],
        buf: &'w mut [T],
        cap: usize,
        scratch: &mut [T],
    ) -> Result<Self> {
        let (n, p) = protected.shape();
        let mut l0 = MatMut::from_row_major(l0_buf, n, n)?;
        if !factored {
            factor_projected_gram(f, dirs, lambda, l0.rb_mut(), scratch)?;
        }
        let (z, rest) = buf.split_at_mut(n * p);
        let (y, s) = rest.split_at_mut(n * cap);
        let mut out = Self {
            l0,
            z: MatMut::from_row_major(z, n, p)?,
            y,
            s: MatMut::from_row_major(&mut s[..cap * cap], cap, cap)?,
            t: 0,
            protected,
            lambda,
        };
        out.restart()?;
        Ok(out)
    }

    /// `z <- L_0^{-1} A` and no direction pending in `Y`. Each column of
    /// `A` is first scaled to a largest entry of `d = max_i (L_0)_ii`
    /// (about `sqrt(|K| + lambda)`), so that `z` is of order one and
    /// `alpha` of order `1 / d`: inside the exponent range even for
    /// `lambda` near the largest finite value, where `A / lambda` would be
    /// subnormal (only each column's direction matters).
    fn restart(&mut self) -> Result<()> {
        self.z.copy_from(self.protected)?;
        let n = self.z.nrows();
        let d = (0..n).fold(T::zero(), |m, i| m.max(self.l0.at(i, i)));
        for c in 0..self.z.ncols() {
            let u = unit_max_divisor((0..n).map(|i| self.z.at(i, c)));
            for i in 0..n {
                *self.z.at_mut(i, c) = self.z.at(i, c) / u * d;
            }
        }
        Cholesky::from_factor_unchecked(self.l0.rb())
            .solve_lower_matrix_in_place(self.z.rb_mut())?;
        self.t = 0;
        Ok(())
    }

    /// `Y^T` over the pending directions (`t x n`, row-major).
    fn yt(&self) -> Result<MatRef<'_, T>> {
        let n = self.l0.nrows();
        MatRef::from_row_major(&self.y[..self.t * n], self.t, n)
    }

    /// `g <- S^{-1} Y^T x` over the pending directions (`t` of them).
    fn capacitance_solve(&self, x: &[T], g: &mut [T]) -> Result<()> {
        let t = self.t;
        gemv(self.yt()?, Shape::Full, x, &mut g[..t]);
        let s = Cholesky::from_factor_unchecked(self.s.rb().submatrix(0, 0, t, t)?);
        s.solve_in_place(&mut g[..t])
    }
}

impl<T: Real> Resolvent<T> for CapacitanceResolvent<'_, '_, T> {
    fn alpha(
        &mut self,
        factor: Factor<'_, T>,
        _dirs: &Directions<'_, T>,
        mut alpha: MatMut<'_, T>,
        wt: &mut [T],
        scratch: &mut [T],
    ) -> Result<()> {
        let (n, p) = self.protected.shape();
        let r = factor.f.ncols();
        let (zc, rest) = scratch.split_at_mut(n);
        let (yg, g) = rest.split_at_mut(n);
        for c in 0..p {
            self.z.rb().copy_col_to(c, zc);
            if self.t > 0 {
                self.capacitance_solve(zc, g)?;
                gemv_transpose(self.yt()?, Shape::Full, &g[..self.t], yg);
                zc.iter_mut().zip(&*yg).for_each(|(z, &y)| *z += y);
            }
            let w = &mut wt[c * r..(c + 1) * r];
            solve_upper_mul_transpose(self.l0.rb(), factor.f, factor.shape(), zc, w);
            if !zc.iter().all(|x| x.is_finite()) {
                return Err(Error::Overflow {
                    what: "(K_j + lambda I)^{-1} a",
                });
            }
            alpha.set_col_from(c, zc);
        }
        Ok(())
    }

    fn remove(
        &mut self,
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        _w: &[T],
        v: &[T],
        scratch: &mut [T],
    ) -> Result<bool> {
        let n = self.l0.nrows();
        let t = self.t;
        let cap = self.s.nrows();
        if t < cap {
            let (col, row) = scratch.split_at_mut(n);
            col.copy_from_slice(v);
            Cholesky::from_factor_unchecked(self.l0.rb()).solve_lower_in_place(col)?;
            // the new row of the factor of S: L_S l = -Y^T y, d = 1 - y.y - l.l
            gemv(self.yt()?, Shape::Full, col, &mut row[..t]);
            row[..t].iter_mut().for_each(|r| *r = -*r);
            Cholesky::from_factor_unchecked(self.s.rb().submatrix(0, 0, t, t)?)
                .solve_lower_in_place(&mut row[..t])?;
            let d =
                T::one() - crate::dense::dot(col, col) - crate::dense::dot(&row[..t], &row[..t]);
            if d > T::from_usize(n.max(1)) * T::EPS {
                self.y[t * n..(t + 1) * n].copy_from_slice(col);
                for (i, &r) in row.iter().enumerate().take(t) {
                    *self.s.at_mut(t, i) = r;
                }
                *self.s.at_mut(t, t) = d.sqrt();
                self.t += 1;
                return Ok(false);
            }
        }
        // S is numerically singular (or full): refactor K_j + lambda I.
        factor_projected_gram(f, dirs, self.lambda, self.l0.rb_mut(), scratch)?;
        self.restart()?;
        Ok(true)
    }
}

/// Nystroem mode: `H = F^T F` and the Cholesky factor of
/// `lambda I + P H P` (`m x m`) in `l`.
pub(crate) struct WoodburyResolvent<'w, 'p, T> {
    h: MatRef<'w, T>,
    l: MatMut<'w, T>,
    protected: MatRef<'p, T>,
    lambda: T,
}

impl<'w, 'p, T: Real> WoodburyResolvent<'w, 'p, T> {
    /// `H = F^T F` into `h_buf` and the factor of `lambda I + H` into
    /// `m_buf`.
    pub(crate) fn new(
        f: MatRef<'_, T>,
        dirs: &Directions<'_, T>,
        protected: MatRef<'p, T>,
        lambda: T,
        h_buf: &'w mut [T],
        m_buf: &'w mut [T],
        scratch: &mut [T],
    ) -> Result<Self> {
        let r = f.ncols();
        let mut h = MatMut::from_row_major(&mut h_buf[..r * r], r, r)?;
        matmul(h.rb_mut(), T::one(), f.transpose(), f, T::zero(), scratch)?;
        let h = h.into_ref();
        let mut l = MatMut::from_row_major(&mut m_buf[..r * r], r, r)?;
        factor_woodbury(h, dirs, lambda, l.rb_mut(), scratch)?;
        Ok(Self {
            h,
            l,
            protected,
            lambda,
        })
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

impl<T: Real> Resolvent<T> for WoodburyResolvent<'_, '_, T> {
    /// `alpha <- (a - F P z) / sqrt(lambda)` with `z = M^{-1} P F^T a`,
    /// column by column of the protected attributes `a` (each scaled to a
    /// largest entry of one): `sqrt(lambda)` times the resolvent's
    /// `alpha`, which keeps it inside the exponent range for any `lambda`
    /// (`a / lambda` is subnormal for `lambda` near the largest finite
    /// value; only each column's direction matters).
    fn alpha(
        &mut self,
        factor: Factor<'_, T>,
        dirs: &Directions<'_, T>,
        mut a: MatMut<'_, T>,
        wt: &mut [T],
        scratch: &mut [T],
    ) -> Result<()> {
        let f = factor.f;
        let (n, m) = f.shape();
        let (col, rest) = scratch.split_at_mut(n);
        let (z, rest) = rest.split_at_mut(m);
        let fz = &mut rest[..n];
        let inv = self.lambda.sqrt().recip();
        let chol = Cholesky::from_factor_unchecked(self.l.rb());
        for c in 0..a.ncols() {
            self.protected.copy_col_to(c, col);
            let d = unit_max_divisor(col.iter().copied());
            col.iter_mut().for_each(|v| *v /= d);
            crate::level2::gemv_transpose(f, crate::level2::Shape::Full, col, z);
            dirs.project(z);
            chol.solve_in_place(z)?;
            dirs.project(z);
            crate::level2::gemv(f, crate::level2::Shape::Full, z, fz);
            col.iter_mut()
                .zip(&*fz)
                .for_each(|(ai, &fzi)| *ai = (*ai - fzi) * inv);
            a.set_col_from(c, col);
            factor.mul_transpose(col, &mut wt[c * m..(c + 1) * m]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A removal that leaves `S` without a positive pivot makes the
    /// capacitance resolvent refactor `K_j + lambda I` from the projected
    /// factor and restart, which a consistent removal never needs.
    #[test]
    fn a_singular_capacitance_refactors_from_the_projected_factor() {
        let n = 3;
        let f_data = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let f = MatRef::from_row_major(&f_data, n, n).unwrap();
        let a_data = [1.0, 2.0, 3.0];
        let a = MatRef::from_row_major(&a_data, n, 1).unwrap();
        let lambda: f64 = 0.1;
        let mut dir_buf = [0.0; 9];
        let mut dirs = Directions::with_capacity(&mut dir_buf, n, 1, 3);
        let mut l0 = [0.0; 9];
        let mut cap = [0.0; 64];
        let mut scratch = [0.0; 256];
        let mut res = CapacitanceResolvent::new(
            f,
            &dirs,
            false,
            a,
            lambda,
            &mut l0,
            &mut cap,
            3,
            &mut scratch,
        )
        .unwrap();
        let w = [1.0, 0.0, 0.0];
        dirs.push(&w).unwrap();
        // consistent: v = F w; S keeps a positive pivot 1 - 1/1.1
        assert!(!res.remove(f, &dirs, &w, &w, &mut scratch).unwrap());
        // inconsistent on purpose: |L0^{-1} v|^2 > 1, so S has no positive pivot
        let w2 = [0.0, 1.0, 0.0];
        dirs.push(&w2).unwrap();
        assert!(
            res.remove(f, &dirs, &w2, &[0.0, 2.0, 0.0], &mut scratch)
                .unwrap()
        );
        // L0 now factors G G^T + lambda I with G = F (I - e0 e0^T - e1 e1^T)
        let expected = [lambda.sqrt(), lambda.sqrt(), (1.0 + lambda).sqrt()];
        for (i, e) in expected.iter().enumerate() {
            assert!(
                (res.l0.at(i, i) - e).abs() < 1e-14,
                "{i}: {}",
                res.l0.at(i, i)
            );
        }
        assert_eq!(res.t, 0);
        // and alpha is (G G^T + lambda I)^{-1} a, for a scaled to unit max
        let mut alpha = [0.0; 3];
        let mut wt = [0.0; 3];
        let dual = super::super::Dual {
            tri: f,
            lookup: None,
            scatter: None,
        };
        let factor = Factor {
            f,
            lower: true,
            dual,
        };
        res.alpha(
            factor,
            &dirs,
            MatMut::from_row_major(&mut alpha, 3, 1).unwrap(),
            &mut wt,
            &mut scratch,
        )
        .unwrap();
        // F = I: F^T alpha is alpha (the lower triangle of I is I)
        assert_eq!(wt, alpha);
        // of the attribute scaled to a largest entry of d = max (L0)_ii:
        // a d / 3
        let d = (1.0 + lambda).sqrt();
        let want = [1.0 / lambda, 2.0 / lambda, 3.0 / (1.0 + lambda)].map(|v| v * d / 3.0);
        assert!(
            alpha
                .iter()
                .zip(&want)
                .all(|(x, y)| (x - y).abs() < 1e-12 * y.abs())
        );
    }
}
