//! Gaussian-process regression on a grid with `K + s^2 I` in eigen form.
//!
//! With `z = Q^T y` and the spectrum `l = (x)_i l_i`:
//!
//! - log marginal likelihood
//!   `-1/2 sum_j z_j^2 / (l_j + s^2) - 1/2 sum_j log(l_j + s^2) - N/2 log 2 pi`;
//! - posterior mean at the grid points `Q diag(l / (l + s^2)) Q^T y`;
//! - posterior variance at the grid points `(Q o Q) (l s^2 / (l + s^2))`,
//!   with `Q o Q = (x)_i (Q_i o Q_i)` (element-wise squares);
//! - at new grid points with cross-covariance `K_* = (x)_i A_i*`: mean
//!   `K_* alpha`, variance `(x)_i diag(A_i**) - ((x)_i C_i o C_i) (1 / (l +
//!   s^2))` with `C_i = A_i* Q_i`;
//! - gradient of the log marginal likelihood, `1/2 alpha^T dK alpha - 1/2
//!   tr((K + s^2 I)^{-1} dK)`: for the noise variance `1/2 |alpha|^2 - 1/2
//!   sum_j 1 / (l_j + s^2)`; for `dK = A_0 (x) .. dA_k .. (x) A_{d-1}`, with
//!   `a = Q^T alpha` and `M = Q_k^T dA_k Q_k`, both terms need only `M` and
//!   the other factors' eigenvalues.

use super::eigen::NoisyKronecker;
use super::modes::{kron_apply, mode_apply, mode_apply_workspace_len};
use super::{Factors, Kronecker, MAX_FACTORS, for_each_product, kron_apply_workspace_len};
use crate::dense::{matmul, matmul_workspace_len};
use crate::error::{Error, Result, expect_dim};
use crate::op::Solve;
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, add, mul};

/// The derivative `dA_k / d theta` of factor `k` with respect to one
/// hyperparameter (an `n_k x n_k` matrix).
#[derive(Clone, Copy)]
pub struct FactorDerivative<'a, T> {
    /// Which factor.
    pub factor: usize,
    /// `dA_k / d theta`.
    pub matrix: MatRef<'a, T>,
}

impl<T: Real> NoisyKronecker<'_, '_, T> {
    /// Workspace of [`log_marginal_likelihood`](Self::log_marginal_likelihood)
    /// and [`posterior_mean`](Self::posterior_mean): `N` plus the transforms'
    /// (about `3 N`).
    pub fn gp_workspace_len(&self) -> usize {
        add(mul(2, self.eig.n), self.eig.transform_workspace_len())
    }

    /// The log marginal likelihood of observations `y` (length `N`):
    /// `-1/2 y^T (K + s^2 I)^{-1} y - 1/2 log|K + s^2 I| - N/2 log(2 pi)`.
    /// One transform, `2 N sum_i n_i` flops. Workspace
    /// [`gp_workspace_len`](Self::gp_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`] for `y`,
    /// [`Error::WorkspaceTooSmall`]; [`Error::Overflow`] if the value is not
    /// representable (`y^T (K + s^2 I)^{-1} y` or the log-determinant
    /// overflows).
    pub fn log_marginal_likelihood(&self, y: &[T], ws: &mut [T]) -> Result<T> {
        let n = self.eig.n;
        expect_dim("log_marginal_likelihood: length of y", n, y.len())?;
        check_finite_slice(y, "y")?;
        let mut ws = Workspace::new(ws, self.gp_workspace_len())?;
        let z = ws.take(n)?;
        self.eig
            .transform(true, y, z, ws.take(self.eig.transform_workspace_len())?)?;
        let mut fit = T::zero();
        let mut zs = z.iter();
        for_each_product(&self.eig.values, |l| {
            if let Some(&v) = zs.next() {
                fit += v * v / (l + self.s2);
            }
        });
        let lml = self.assemble_lml(fit);
        crate::view::finite_or_overflow(&[lml], "the log marginal likelihood")?;
        Ok(lml)
    }

    /// `-1/2 fit - 1/2 log|K + s^2 I| - N/2 log 2 pi`.
    fn assemble_lml(&self, fit: T) -> T {
        let half = T::from_f64(0.5);
        let two_pi = T::from_f64(2.0 * core::f64::consts::PI);
        -half * fit - half * self.log_det() - half * T::from_usize(self.eig.n) * two_pi.ln()
    }

    /// `out <- K (K + s^2 I)^{-1} y = Q diag(l / (l + s^2)) Q^T y`, the
    /// posterior mean at the grid points. `4 N sum_i n_i` flops; workspace
    /// [`gp_workspace_len`](Self::gp_workspace_len).
    ///
    /// # Errors
    /// As [`log_marginal_likelihood`](Self::log_marginal_likelihood).
    pub fn posterior_mean(&self, y: &[T], out: &mut [T], ws: &mut [T]) -> Result<()> {
        let s2 = self.s2;
        self.spectral(y, out, ws, |l| l / (l + s2))
    }

    /// Workspace of [`posterior_variance`](Self::posterior_variance):
    /// `sum_i n_i^2 + N` plus the mode products'.
    pub fn posterior_variance_workspace_len(&self) -> usize {
        let orders = self.eig.orders();
        let squares = orders.iter().fold(0usize, |s, &n| add(s, mul(n, n)));
        add(
            add(squares, self.eig.n),
            kron_apply_workspace_len(&orders, &orders),
        )
    }

    /// `out <- diag(K - K (K + s^2 I)^{-1} K) = (Q o Q) (l s^2 / (l + s^2))`,
    /// the posterior variance at the grid points (of the latent function;
    /// add `s^2` for a new observation). A sum of non-negative terms, so
    /// never negative. `2 N sum_i n_i` flops; workspace
    /// [`posterior_variance_workspace_len`](Self::posterior_variance_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::WorkspaceTooSmall`].
    pub fn posterior_variance(&self, out: &mut [T], ws: &mut [T]) -> Result<()> {
        let n = self.eig.n;
        expect_dim("posterior_variance: length of out", n, out.len())?;
        let mut ws = Workspace::new(ws, self.posterior_variance_workspace_len())?;
        let squared = squared_factors(self.eig.vectors(), &mut ws)?;
        let v = ws.take(n)?;
        fill_from_spectrum(&self.eig.values, v, |l| l * self.s2 / (l + self.s2));
        let rest = ws.take(self.posterior_variance_workspace_len() - self.squares_len() - n)?;
        kron_apply(&squared, v, out, rest)
    }

    /// `sum_i n_i^2`.
    fn squares_len(&self) -> usize {
        self.eig.orders().iter().map(|&n| n * n).sum()
    }

    /// Workspace of [`lml_gradient`](Self::lml_gradient): `3 N + 2 n^2 + n`
    /// for the largest order `n`, plus the products'.
    pub fn lml_gradient_workspace_len(&self) -> usize {
        let orders = self.eig.orders();
        let n_max = orders.iter().copied().max().unwrap_or(0);
        let mode_ws = (0..orders.len())
            .map(|k| mode_apply_workspace_len(&orders, k))
            .max()
            .unwrap_or(0);
        let inner = mode_ws
            .max(self.eig.transform_workspace_len())
            .max(matmul_workspace_len(n_max, n_max, n_max));
        add(
            add(mul(3, self.eig.n), add(mul(2, mul(n_max, n_max)), n_max)),
            inner,
        )
    }

    /// The log marginal likelihood and its gradient: `grad[0]` with respect
    /// to the noise variance `s^2`, `grad[1 + m]` with respect to the
    /// hyperparameter whose factor derivative is `derivatives[m]`. Cost one
    /// transform (`2 N sum_i n_i`), then per derivative `4 n_k^3 + 2 N n_k`
    /// flops; no `N x N` matrix. Workspace
    /// [`lml_gradient_workspace_len`](Self::lml_gradient_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] (length of `y` or `grad`, a derivative's
    /// factor index or shape), [`Error::NonFinite`] for `y` or a derivative,
    /// [`Error::WorkspaceTooSmall`].
    pub fn lml_gradient(
        &self,
        y: &[T],
        derivatives: &[FactorDerivative<'_, T>],
        grad: &mut [T],
        ws: &mut [T],
    ) -> Result<T> {
        let n = self.eig.n;
        let orders = self.eig.orders();
        expect_dim("lml_gradient: length of y", n, y.len())?;
        expect_dim(
            "lml_gradient: length of grad",
            derivatives.len() + 1,
            grad.len(),
        )?;
        check_finite_slice(y, "y")?;
        for d in derivatives {
            check_derivative(d, &orders)?;
        }
        let mut ws = Workspace::new(ws, self.lml_gradient_workspace_len())?;
        let a = ws.take(n)?;
        let r = ws.take(n)?;
        let u = ws.take(n)?;
        let n_max = orders.iter().copied().max().unwrap_or(0);
        let m = ws.take(n_max * n_max)?;
        let tmp = ws.take(n_max * n_max)?;
        let slot = ws.take(n_max)?;
        let inner =
            ws.take(self.lml_gradient_workspace_len() - 3 * n - 2 * n_max * n_max - n_max)?;
        // a = Q^T alpha = diag(1 / (l + s^2)) Q^T y; r = 1 / (l + s^2)
        self.eig.transform(true, y, a, inner)?;
        fill_from_spectrum(&self.eig.values, r, |l| (l + self.s2).recip());
        let fit = a
            .iter()
            .zip(r.iter())
            .fold(T::zero(), |s, (&z, &w)| s + z * z * w);
        for (av, &w) in a.iter_mut().zip(r.iter()) {
            *av *= w;
        }
        let half = T::from_f64(0.5);
        grad[0] = half * dot(a, a) - half * r.iter().copied().sum::<T>();
        for (g, d) in grad[1..].iter_mut().zip(derivatives) {
            let k = d.factor;
            let nk = orders[k];
            let m = &mut m[..nk * nk];
            self.rotate_derivative(d, m, &mut tmp[..nk * nk], inner)?;
            mode_apply(MatRef::from_row_major(m, nk, nk)?, &orders, k, a, u, inner)?;
            slot[..nk].fill(T::one());
            let quad = self.weighted_sum(k, &slot[..nk], |j, w| a[j] * u[j] * w);
            for (j, s) in slot[..nk].iter_mut().enumerate() {
                *s = m[j * nk + j];
            }
            let trace = self.weighted_sum(k, &slot[..nk], |j, w| r[j] * w);
            *g = half * quad - half * trace;
        }
        Ok(self.assemble_lml(fit))
    }

    /// `m <- Q_k^T dA_k Q_k` (row-major), `4 n_k^3` flops.
    fn rotate_derivative(
        &self,
        d: &FactorDerivative<'_, T>,
        m: &mut [T],
        tmp: &mut [T],
        ws: &mut [T],
    ) -> Result<()> {
        let q = self.eig.vectors()[d.factor];
        let nk = q.nrows();
        matmul(
            MatMut::from_row_major(tmp, nk, nk)?,
            T::one(),
            d.matrix,
            q,
            T::zero(),
            ws,
        )?;
        let tmp = MatRef::from_row_major(tmp, nk, nk)?;
        matmul(
            MatMut::from_row_major(m, nk, nk)?,
            T::one(),
            q.transpose(),
            tmp,
            T::zero(),
            ws,
        )
    }

    /// `sum_j term(j, w_j)` with `w = (x)_i v_i`, where `v_i = l_i` for
    /// `i != k` and `v_k = slot`, in row-major order.
    fn weighted_sum(&self, k: usize, slot: &[T], term: impl Fn(usize, T) -> T) -> T {
        let mut values: heapless::Vec<&[T], MAX_FACTORS> =
            self.eig.values.iter().copied().collect();
        values[k] = slot;
        let mut j = 0;
        let mut sum = T::zero();
        for_each_product(&values, |w| {
            sum += term(j, w);
            j += 1;
        });
        sum
    }

    /// Checks a cross-covariance against the training grid: factor `k` of
    /// `cross` must have `n_k` columns.
    fn check_cross(&self, cross: &Kronecker<'_, T>) -> Result<()> {
        let orders = self.eig.orders();
        expect_dim(
            "cross-covariance: number of factors",
            orders.len(),
            cross.factors().len(),
        )?;
        for (f, &n) in cross.factors().iter().zip(orders.iter()) {
            expect_dim("cross-covariance factor: columns", n, f.ncols())?;
        }
        Ok(())
    }

    /// Workspace of [`predict_mean`](Self::predict_mean) and
    /// [`predict_variance`](Self::predict_variance) at the new grid whose
    /// cross-covariance with the training grid is `cross`.
    pub fn predict_workspace_len(&self, cross: &Kronecker<'_, T>) -> usize {
        let n = self.eig.n;
        let rows: heapless::Vec<usize, MAX_FACTORS> =
            cross.factors().iter().map(|f| f.nrows()).collect();
        let orders = self.eig.orders();
        let cols: heapless::Vec<usize, MAX_FACTORS> =
            orders.iter().copied().take(rows.len()).collect();
        let products = cross
            .factors()
            .iter()
            .fold(0usize, |s, f| add(s, mul(f.nrows(), f.ncols())));
        let n_max = orders.iter().copied().max().unwrap_or(0);
        let m_max = rows.iter().copied().max().unwrap_or(0);
        let inner = kron_apply_workspace_len(&rows, &cols)
            .max(self.solve_workspace_len())
            .max(matmul_workspace_len(m_max, n_max, n_max));
        add(add(n, products), inner)
    }

    /// `out <- K_* (K + s^2 I)^{-1} y`: the posterior mean at new grid points
    /// whose cross-covariance with the training grid is the Kronecker product
    /// `cross` (factor `k`: `m_k x n_k`, new points by training points).
    /// `4 N sum_i n_i + 2 sum_k (prod_{j<=k} m_j)(prod_{j>=k} n_j)` flops;
    /// workspace [`predict_workspace_len`](Self::predict_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`] for `y`,
    /// [`Error::WorkspaceTooSmall`].
    pub fn predict_mean(
        &self,
        cross: &Kronecker<'_, T>,
        y: &[T],
        out: &mut [T],
        ws: &mut [T],
    ) -> Result<()> {
        let n = self.eig.n;
        self.check_cross(cross)?;
        expect_dim("predict_mean: length of y", n, y.len())?;
        expect_dim("predict_mean: length of out", cross.nrows(), out.len())?;
        let mut ws = Workspace::new(ws, self.predict_workspace_len(cross))?;
        let alpha = ws.take(n)?;
        alpha.copy_from_slice(y);
        let rest = ws.take(self.predict_workspace_len(cross) - n)?;
        self.solve_in_place(alpha, rest)?;
        kron_apply(cross.factors(), alpha, out, rest)
    }

    /// `out <- diag(K_** - K_* (K + s^2 I)^{-1} K_*^T)` at new grid points:
    /// `cross_diag[k]` holds the prior variances `diag(A_k**)` of the new
    /// points of axis `k` (length `m_k`). Computed as `(x)_k diag(A_k**) -
    /// ((x)_k C_k o C_k) (1 / (l + s^2))`, `C_k = A_k* Q_k`; rounding below
    /// zero is clamped at zero. Workspace
    /// [`predict_workspace_len`](Self::predict_workspace_len).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`] for `cross_diag`,
    /// [`Error::WorkspaceTooSmall`].
    pub fn predict_variance(
        &self,
        cross: &Kronecker<'_, T>,
        cross_diag: &[&[T]],
        out: &mut [T],
        ws: &mut [T],
    ) -> Result<()> {
        let n = self.eig.n;
        self.check_cross(cross)?;
        expect_dim(
            "predict_variance: number of diagonals",
            cross.factors().len(),
            cross_diag.len(),
        )?;
        for (f, d) in cross.factors().iter().zip(cross_diag) {
            expect_dim("predict_variance: length of a diagonal", f.nrows(), d.len())?;
            check_finite_slice(d, "cross_diag")?;
        }
        expect_dim("predict_variance: length of out", cross.nrows(), out.len())?;
        let mut ws = Workspace::new(ws, self.predict_workspace_len(cross))?;
        let w = ws.take(n)?;
        fill_from_spectrum(&self.eig.values, w, |l| (l + self.s2).recip());
        let mut squared: Factors<'_, T> = Factors::new();
        let products = cross
            .factors()
            .iter()
            .map(|f| f.nrows() * f.ncols())
            .sum::<usize>();
        let mut storage = ws.take(products)?;
        let rest = ws.take(self.predict_workspace_len(cross) - n - products)?;
        for (f, q) in cross.factors().iter().zip(self.eig.vectors()) {
            let (m, nk) = f.shape();
            let (c, tail) = storage.split_at_mut(m * nk);
            storage = tail;
            matmul(
                MatMut::from_row_major(c, m, nk)?,
                T::one(),
                *f,
                *q,
                T::zero(),
                rest,
            )?;
            c.iter_mut().for_each(|v| *v = *v * *v);
            squared
                .push(MatRef::from_row_major(c, m, nk)?)
                .map_err(|_| Error::SizeOverflow)?;
        }
        kron_apply(&squared, w, out, rest)?;
        let mut slots = out.iter_mut();
        for_each_product(cross_diag, |prior| {
            if let Some(v) = slots.next() {
                *v = (prior - *v).max(T::zero());
            }
        });
        Ok(())
    }
}

/// Checks one factor derivative against the factor orders.
fn check_derivative<T: Real>(d: &FactorDerivative<'_, T>, orders: &[usize]) -> Result<()> {
    if d.factor >= orders.len() {
        return Err(Error::DimensionMismatch {
            what: "derivative: factor index (expected below the number of factors)",
            expected: orders.len(),
            got: d.factor,
        });
    }
    expect_dim("derivative: rows", orders[d.factor], d.matrix.nrows())?;
    expect_dim("derivative: columns", orders[d.factor], d.matrix.ncols())?;
    d.matrix.check_finite("derivative")
}

/// `out_j <- f(l_j)` over the spectrum `l = (x)_i l_i`.
fn fill_from_spectrum<T: Real>(values: &[&[T]], out: &mut [T], f: impl Fn(T) -> T) {
    let mut slots = out.iter_mut();
    for_each_product(values, |l| {
        if let Some(o) = slots.next() {
            *o = f(l);
        }
    });
}

/// Element-wise squares `Q_i o Q_i` of each factor, carved from `ws`.
fn squared_factors<'w, T: Real>(
    vectors: &[MatRef<'_, T>],
    ws: &mut Workspace<'w, T>,
) -> Result<Factors<'w, T>> {
    let mut out = Factors::new();
    for &q in vectors {
        let (r, c) = q.shape();
        let buf = ws.take(r * c)?;
        for i in 0..r {
            for j in 0..c {
                let v = q.at(i, j);
                buf[i * c + j] = v * v;
            }
        }
        out.push(MatRef::from_row_major(buf, r, c)?)
            .map_err(|_| Error::SizeOverflow)?;
    }
    Ok(out)
}

/// `x . y`.
fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    crate::dense::dot(x, y)
}
