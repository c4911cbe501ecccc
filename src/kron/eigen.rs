//! Per-factor eigendecompositions and the noisy operator `K + s^2 I`.
//!
//! With `A_i = Q_i diag(l_i) Q_i^T`, `K = Q diag(l) Q^T` for `Q = (x)_i Q_i`
//! and `l = (x)_i l_i`, so `K + s^2 I = Q diag(l + s^2) Q^T`: products,
//! solves and the log-determinant need only the per-factor decompositions,
//! transforms by `Q` and `Q^T` (mode products) and `O(N)` work on the
//! spectrum.

use super::modes::kron_apply;
use super::{
    FACTOR_NAMES, Factors, Kronecker, MAX_FACTORS, for_each_product, kron_apply_workspace_len,
};
use crate::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
use crate::error::{Error, Result, expect_dim, require};
use crate::op::{LinearOperator, LogDet, Solve};
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, add, mul};

/// Storage length of [`Kronecker::eigen`] for factors of orders `orders`:
/// `sum_i (n_i^2 + n_i)` (each `Q_i` row-major, then its eigenvalues).
pub const fn kronecker_eigen_storage_len(orders: &[usize]) -> usize {
    let mut len = 0usize;
    let mut k = 0;
    while k < orders.len() {
        len = add(len, add(mul(orders[k], orders[k]), orders[k]));
        k += 1;
    }
    len
}

/// Workspace length of [`Kronecker::eigen`]: the largest factor's
/// eigensolver scratch.
pub const fn kronecker_eigen_workspace_len(orders: &[usize]) -> usize {
    let mut len = 0usize;
    let mut k = 0;
    while k < orders.len() {
        let w = symmetric_eigen_workspace_len(orders[k], true);
        if w > len {
            len = w;
        }
        k += 1;
    }
    len
}

/// What [`Kronecker::eigen`] did to eigenvalues that came out negative.
///
/// The factors are Gram matrices, positive semi-definite, but an
/// eigensolver returns eigenvalues below rounding level with either sign.
/// Those below zero are set to zero (the floor); this reports how many and
/// the most negative one, so that a caller can tell rounding noise
/// (`most_negative ~ -n eps |A|`) from a factor that is not a Gram matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EigenFloor<T> {
    /// Eigenvalues raised to zero, over all factors.
    pub clamped: usize,
    /// The most negative eigenvalue met (zero if none).
    pub most_negative: T,
}

/// Per-factor eigendecompositions `A_i = Q_i diag(l_i) Q_i^T` of a
/// Kronecker product of symmetric positive semi-definite factors, built by
/// [`Kronecker::eigen`] into the caller's storage.
#[derive(Clone)]
pub struct KroneckerEigen<'s, T> {
    vectors: Factors<'s, T>,
    pub(crate) values: heapless::Vec<&'s [T], MAX_FACTORS>,
    pub(crate) n: usize,
    floor: EigenFloor<T>,
}

impl<'a, T: Real> Kronecker<'a, T> {
    /// Eigendecomposes every factor (lower triangles read), `about 9 sum_i
    /// n_i^3` flops; eigenvalues below zero are floored at zero and reported
    /// by [`KroneckerEigen::floor`]. Storage
    /// [`kronecker_eigen_storage_len`], workspace
    /// [`kronecker_eigen_workspace_len`] of the orders.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if a factor is not square;
    /// [`Error::WorkspaceTooSmall`] for short storage or workspace; the
    /// eigensolver's [`Error::NoConvergence`] or [`Error::Overflow`].
    pub fn eigen<'s>(&self, storage: &'s mut [T], ws: &mut [T]) -> Result<KroneckerEigen<'s, T>> {
        self.check_square()?;
        let orders = self.orders();
        let needed = kronecker_eigen_storage_len(&orders[..self.factors.len()]);
        if storage.len() < needed {
            return Err(Error::WorkspaceTooSmall {
                needed,
                got: storage.len(),
            });
        }
        let mut out = KroneckerEigen {
            vectors: Factors::new(),
            values: heapless::Vec::new(),
            n: self.nrows,
            floor: EigenFloor {
                clamped: 0,
                most_negative: T::zero(),
            },
        };
        let mut rest = storage;
        for (k, a) in self.factors.iter().enumerate() {
            let n = orders[k];
            let (q, tail) = rest.split_at_mut(n * n);
            let (l, tail) = tail.split_at_mut(n);
            rest = tail;
            symmetric_eigen(*a, l, Some(MatMut::from_row_major(q, n, n)?), ws)
                .map_err(|e| name_factor(e, k))?;
            out.floor_values(l);
            let q: MatRef<'s, T> = MatRef::from_row_major(q, n, n)?;
            out.vectors.push(q).map_err(|_| Error::SizeOverflow)?;
            out.values.push(l).map_err(|_| Error::SizeOverflow)?;
        }
        Ok(out)
    }
}

/// Names the factor in a non-finite-input error.
fn name_factor(e: Error, factor: usize) -> Error {
    match e {
        Error::NonFinite { row, col, .. } => Error::NonFinite {
            argument: FACTOR_NAMES[factor],
            row,
            col,
        },
        other => other,
    }
}

impl<'s, T: Real> KroneckerEigen<'s, T> {
    /// Sets negative eigenvalues to zero, recording them.
    fn floor_values(&mut self, values: &mut [T]) {
        for v in values.iter_mut().filter(|v| **v < T::zero()) {
            self.floor.clamped += 1;
            self.floor.most_negative = self.floor.most_negative.min(*v);
            *v = T::zero();
        }
    }

    /// The eigenvector matrices `Q_i` (columns are eigenvectors).
    pub fn vectors(&self) -> &[MatRef<'s, T>] {
        &self.vectors
    }

    /// The eigenvalues `l_i` of each factor, ascending, floored at zero.
    pub fn values(&self) -> &[&'s [T]] {
        &self.values
    }

    /// Order `N = prod n_i` of `K`.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// The eigenvalues that were raised to zero.
    pub fn floor(&self) -> EigenFloor<T> {
        self.floor
    }

    /// The noisy operator `K + s^2 I` for `s^2 = noise_variance`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite noise
    /// variance, or when `K + s^2 I` is numerically singular: its smallest
    /// eigenvalue `min l + s^2` does not exceed the rounding level of the
    /// spectrum, `(sum_i n_i) eps max l` (as for `s^2 = 0` with a singular
    /// `K`).
    pub fn with_noise(&self, noise_variance: T) -> Result<NoisyKronecker<'_, 's, T>> {
        require(
            noise_variance >= T::zero() && noise_variance.is_finite(),
            "noise_variance",
            "must be finite and non-negative",
        )?;
        // eigenvalues are ascending and floored at zero, so the extreme
        // products are the products of the extremes
        let first = |l: &&[T]| l.first().copied().unwrap_or(T::one());
        let last = |l: &&[T]| l.last().copied().unwrap_or(T::one());
        let smallest = self.values.iter().map(first).fold(T::one(), |p, l| p * l);
        let largest = self.values.iter().map(last).fold(T::one(), |p, l| p * l);
        let orders_sum = self.vectors.iter().map(|q| q.nrows()).sum::<usize>();
        let rounding = T::from_usize(orders_sum) * T::EPS * largest;
        require(
            self.n == 0 || smallest + noise_variance > rounding,
            "noise_variance",
            "K + s^2 I is numerically singular: s^2 must exceed the rounding level of K's spectrum",
        )?;
        Ok(NoisyKronecker {
            eig: self,
            s2: noise_variance,
        })
    }

    /// Orders of the factors.
    pub(crate) fn orders(&self) -> heapless::Vec<usize, MAX_FACTORS> {
        self.vectors.iter().map(|q| q.nrows()).collect()
    }

    /// `z <- Q^T x` (`forward`) or `z <- Q x`, `2 N sum_i n_i` flops.
    pub(crate) fn transform(
        &self,
        forward: bool,
        x: &[T],
        z: &mut [T],
        ws: &mut [T],
    ) -> Result<()> {
        if forward {
            let qt: Factors<'_, T> = self.vectors.iter().map(|q| q.transpose()).collect();
            kron_apply(&qt, x, z, ws)
        } else {
            kron_apply(&self.vectors, x, z, ws)
        }
    }

    /// Scratch of [`transform`](Self::transform).
    pub(crate) fn transform_workspace_len(&self) -> usize {
        let orders = self.orders();
        kron_apply_workspace_len(&orders, &orders)
    }

    /// `z_j <- f(l_j) z_j` over the spectrum `l = (x)_i l_i`, `O(N)`.
    pub(crate) fn scale_by_spectrum(&self, z: &mut [T], f: impl Fn(T) -> T) {
        let mut zs = z.iter_mut();
        for_each_product(&self.values, |l| {
            if let Some(v) = zs.next() {
                *v *= f(l);
            }
        });
    }
}

/// `K + s^2 I` for a Kronecker product `K` in eigen form (see
/// [`KroneckerEigen::with_noise`]): products, solves, log-determinant and the
/// Gaussian-process quantities of the `gp` methods.
#[derive(Clone, Copy)]
pub struct NoisyKronecker<'e, 's, T> {
    pub(crate) eig: &'e KroneckerEigen<'s, T>,
    pub(crate) s2: T,
}

impl<T: Real> NoisyKronecker<'_, '_, T> {
    /// The noise variance `s^2`.
    pub fn noise_variance(&self) -> T {
        self.s2
    }

    /// The eigen form of `K`.
    pub fn eigen(&self) -> &KroneckerEigen<'_, T> {
        self.eig
    }

    /// Workspace of [`apply`](LinearOperator::apply) and
    /// [`solve_in_place`](Solve::solve_in_place): `N` plus the transforms'.
    fn spectral_workspace_len(&self) -> usize {
        add(self.eig.n, self.eig.transform_workspace_len())
    }

    /// `y <- Q diag(f(l)) Q^T x`: the two transforms around a scaling.
    pub(crate) fn spectral(
        &self,
        x: &[T],
        y: &mut [T],
        ws: &mut [T],
        f: impl Fn(T) -> T,
    ) -> Result<()> {
        let n = self.eig.n;
        expect_dim("length of x", n, x.len())?;
        expect_dim("length of y", n, y.len())?;
        check_finite_slice(x, "x")?;
        let mut ws = Workspace::new(ws, self.spectral_workspace_len())?;
        let z = ws.take(n)?;
        let rest = ws.take(self.eig.transform_workspace_len())?;
        self.eig.transform(true, x, z, rest)?;
        self.eig.scale_by_spectrum(z, f);
        self.eig.transform(false, z, y, rest)?;
        crate::view::finite_or_overflow(y, "a spectral product of K + s^2 I")
    }

    /// `log|K + s^2 I| = sum_j log(l_j + s^2)` over all `N` eigenvalues,
    /// `O(N)` logarithms, no workspace. `+inf` if an `l_j + s^2` overflows
    /// (the [`LogDet`] implementation reports that as [`Error::Overflow`]).
    pub fn log_det(&self) -> T {
        let mut sum = T::zero();
        for_each_product(&self.eig.values, |l| sum += (l + self.s2).ln());
        sum
    }
}

impl<T: Real> LinearOperator<T> for NoisyKronecker<'_, '_, T> {
    fn nrows(&self) -> usize {
        self.eig.n
    }
    fn ncols(&self) -> usize {
        self.eig.n
    }
    fn apply_workspace_len(&self) -> usize {
        self.spectral_workspace_len()
    }
    /// `y <- (K + s^2 I) x = Q diag(l + s^2) Q^T x`, `4 N sum_i n_i` flops.
    fn apply(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        let s2 = self.s2;
        self.spectral(x, y, ws, |l| l + s2)
    }
    /// Symmetric: as [`apply`](LinearOperator::apply).
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        self.apply(x, y, ws)
    }
}

impl<T: Real> Solve<T> for NoisyKronecker<'_, '_, T> {
    fn solve_workspace_len(&self) -> usize {
        add(self.eig.n, self.spectral_workspace_len())
    }
    /// `b <- (K + s^2 I)^{-1} b = Q diag(1 / (l + s^2)) Q^T b`,
    /// `4 N sum_i n_i` flops.
    fn solve_in_place(&self, b: &mut [T], ws: &mut [T]) -> Result<()> {
        let n = self.eig.n;
        expect_dim("solve: length of b", n, b.len())?;
        let mut ws = Workspace::new(ws, self.solve_workspace_len())?;
        let x = ws.take(n)?;
        x.copy_from_slice(b);
        let s2 = self.s2;
        self.spectral(x, b, ws.take(self.spectral_workspace_len())?, |l| {
            (l + s2).recip()
        })
    }
}

impl<T: Real> LogDet<T> for NoisyKronecker<'_, '_, T> {
    fn log_det(&self) -> Result<T> {
        let log_det = NoisyKronecker::log_det(self);
        crate::view::finite_or_overflow(&[log_det], "log|K + s^2 I|")?;
        Ok(log_det)
    }
}
