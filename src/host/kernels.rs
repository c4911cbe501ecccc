//! One-dimensional stationary kernels: see [`Kernel1d`].

use crate::error::{Error, Result, expect_dim};
use crate::host::Matrix;
use crate::view::{MatMut, check_finite_slice};
use core::f64::consts::PI;

/// The family of a [`Kernel1d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// Squared exponential `exp(-r^2 / (2 l^2))`.
    Rbf,
    /// Matern with smoothness 1/2 (exponential kernel).
    Matern12,
    /// Matern with smoothness 3/2.
    Matern32,
    /// Matern with smoothness 5/2.
    Matern52,
    /// Exp-sine-squared `exp(-2 sin^2(pi r / p) / l^2)`.
    Periodic,
}

impl KernelKind {
    /// The hyperparameters of this family, in the order of
    /// [`Kernel1d::params`].
    pub fn hyperparams(self) -> &'static [HyperParam] {
        match self {
            KernelKind::Periodic => &[
                HyperParam::Variance,
                HyperParam::Lengthscale,
                HyperParam::Period,
            ],
            _ => &[HyperParam::Variance, HyperParam::Lengthscale],
        }
    }

    /// A short lowercase name (`"rbf"`, `"matern12"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Rbf => "rbf",
            KernelKind::Matern12 => "matern12",
            KernelKind::Matern32 => "matern32",
            KernelKind::Matern52 => "matern52",
            KernelKind::Periodic => "periodic",
        }
    }
}

/// A hyperparameter of a [`Kernel1d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HyperParam {
    /// The variance `s^2` (the kernel's value at `r = 0`).
    Variance,
    /// The lengthscale `l`.
    Lengthscale,
    /// The period `p` (periodic kernel only).
    Period,
}

impl HyperParam {
    /// The parameter's name, as used in errors: `"variance"`,
    /// `"lengthscale"`, `"period"`.
    pub fn name(self) -> &'static str {
        match self {
            HyperParam::Variance => "variance",
            HyperParam::Lengthscale => "lengthscale",
            HyperParam::Period => "period",
        }
    }

    /// Position in the parameter array of a kernel.
    fn index(self) -> usize {
        match self {
            HyperParam::Variance => 0,
            HyperParam::Lengthscale => 1,
            HyperParam::Period => 2,
        }
    }
}

/// A one-dimensional stationary kernel: it builds the factors of a
/// Kronecker Gram matrix on a grid, their cross-covariances and their
/// hyperparameter derivatives.
///
/// Every kernel is a function of the distance `r = |a - b|` with a variance
/// `s^2 > 0` and a lengthscale `l > 0`:
///
/// | kernel | `k(r)` |
/// |---|---|
/// | RBF | `s^2 exp(-r^2 / (2 l^2))` |
/// | Matern 1/2 | `s^2 exp(-r / l)` |
/// | Matern 3/2 | `s^2 (1 + u) exp(-u)`, `u = sqrt(3) r / l` |
/// | Matern 5/2 | `s^2 (1 + u + u^2 / 3) exp(-u)`, `u = sqrt(5) r / l` |
/// | periodic | `s^2 exp(-2 sin^2(pi r / p) / l^2)`, period `p > 0` |
///
/// Derivatives are taken with respect to the logarithm of each
/// hyperparameter, `dk / d log theta = theta dk / d theta`, the form an
/// optimizer on log-parameters needs. They are written without division by
/// `r`, so they are exact at `r = 0` (where every lengthscale and period
/// derivative is zero).
///
/// The host layer works in `f64` only.
///
/// ```
/// use gramkit::host::{HyperParam, Kernel1d};
/// let k = Kernel1d::matern32(2.0, 0.5)?;
/// let x = [0.0, 0.25, 1.0];
/// let gram = k.gram(&x)?;                 // 3 x 3, diagonal = variance
/// assert_eq!(gram.get(1, 1), Some(2.0));
/// let d = k.derivative(HyperParam::Lengthscale, &x)?;
/// assert_eq!(d.get(0, 0), Some(0.0));     // zero at r = 0
/// # Ok::<(), gramkit::Error>(())
/// ```
///
/// Hyperparameters are validated: every constructor checks that they are
/// finite and positive, so a `Kernel1d` always evaluates to finite values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kernel1d {
    kind: KernelKind,
    /// `[variance, lengthscale, period]`; the period is 1 for non-periodic kinds.
    params: [f64; 3],
}

impl Kernel1d {
    /// A kernel of family `kind` with the given variance and lengthscale
    /// (and period 1 for [`KernelKind::Periodic`]; use
    /// [`periodic`](Self::periodic) to choose it).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless both are finite and positive.
    pub fn new(kind: KernelKind, variance: f64, lengthscale: f64) -> Result<Self> {
        let k = Self {
            kind,
            params: [variance, lengthscale, 1.0],
        };
        k.validate()?;
        Ok(k)
    }

    /// `s^2 exp(-r^2 / (2 l^2))`. Errors as [`new`](Self::new).
    pub fn rbf(variance: f64, lengthscale: f64) -> Result<Self> {
        Self::new(KernelKind::Rbf, variance, lengthscale)
    }

    /// `s^2 exp(-r / l)`. Errors as [`new`](Self::new).
    pub fn matern12(variance: f64, lengthscale: f64) -> Result<Self> {
        Self::new(KernelKind::Matern12, variance, lengthscale)
    }

    /// `s^2 (1 + u) exp(-u)`, `u = sqrt(3) r / l`. Errors as [`new`](Self::new).
    pub fn matern32(variance: f64, lengthscale: f64) -> Result<Self> {
        Self::new(KernelKind::Matern32, variance, lengthscale)
    }

    /// `s^2 (1 + u + u^2 / 3) exp(-u)`, `u = sqrt(5) r / l`. Errors as
    /// [`new`](Self::new).
    pub fn matern52(variance: f64, lengthscale: f64) -> Result<Self> {
        Self::new(KernelKind::Matern52, variance, lengthscale)
    }

    /// `s^2 exp(-2 sin^2(pi r / p) / l^2)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless all three are finite and positive.
    pub fn periodic(variance: f64, lengthscale: f64, period: f64) -> Result<Self> {
        let k = Self {
            kind: KernelKind::Periodic,
            params: [variance, lengthscale, period],
        };
        k.validate()?;
        Ok(k)
    }

    /// Fails unless every hyperparameter of the family is finite and positive.
    fn validate(&self) -> Result<()> {
        for &p in self.kind.hyperparams() {
            let v = self.params[p.index()];
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::InvalidParameter {
                    name: p.name(),
                    requirement: "kernel hyperparameters must be finite and positive",
                });
            }
        }
        Ok(())
    }

    /// The family.
    pub fn kind(&self) -> KernelKind {
        self.kind
    }

    /// The variance `s^2`.
    pub fn variance(&self) -> f64 {
        self.params[0]
    }

    /// The lengthscale `l`.
    pub fn lengthscale(&self) -> f64 {
        self.params[1]
    }

    /// The period `p`, for the periodic kernel.
    pub fn period(&self) -> Option<f64> {
        (self.kind == KernelKind::Periodic).then_some(self.params[2])
    }

    /// The hyperparameters in the order of [`KernelKind::hyperparams`]:
    /// `[variance, lengthscale]` or `[variance, lengthscale, period]`.
    pub fn params(&self) -> &[f64] {
        &self.params[..self.kind.hyperparams().len()]
    }

    /// The value of hyperparameter `p`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for [`HyperParam::Period`] of a
    /// non-periodic kernel.
    pub fn param(&self, p: HyperParam) -> Result<f64> {
        self.check_has(p)?;
        Ok(self.params[p.index()])
    }

    /// A copy with hyperparameter `p` set to `value`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the kernel has no such parameter or
    /// `value` is not finite and positive.
    pub fn with_param(&self, p: HyperParam, value: f64) -> Result<Self> {
        self.check_has(p)?;
        let mut k = *self;
        k.params[p.index()] = value;
        k.validate()?;
        Ok(k)
    }

    /// Fails unless this family has hyperparameter `p`.
    fn check_has(&self, p: HyperParam) -> Result<()> {
        if self.kind.hyperparams().contains(&p) {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: p.name(),
                requirement: "only the periodic kernel has a period",
            })
        }
    }

    /// `k(a, b)`, `O(1)`.
    pub fn value(&self, a: f64, b: f64) -> f64 {
        self.variance() * self.shape((a - b).abs())
    }

    /// `dk(a, b) / d log theta` for hyperparameter `theta = p`, `O(1)`.
    ///
    /// # Errors
    /// As [`param`](Self::param).
    pub fn log_derivative(&self, p: HyperParam, a: f64, b: f64) -> Result<f64> {
        self.check_has(p)?;
        Ok(self.log_derivative_unchecked(p, (a - b).abs()))
    }

    /// `k(r) / s^2`, the correlation at distance `r >= 0`.
    fn shape(&self, r: f64) -> f64 {
        let l = self.lengthscale();
        match self.kind {
            KernelKind::Rbf => (-0.5 * (r / l) * (r / l)).exp(),
            KernelKind::Matern12 => (-r / l).exp(),
            KernelKind::Matern32 => {
                let u = 3f64.sqrt() * r / l;
                (1.0 + u) * (-u).exp()
            }
            KernelKind::Matern52 => {
                let u = 5f64.sqrt() * r / l;
                (1.0 + u + u * u / 3.0) * (-u).exp()
            }
            KernelKind::Periodic => {
                let s = (PI * r / self.params[2]).sin();
                (-2.0 * s * s / (l * l)).exp()
            }
        }
    }

    /// `dk / d log theta` at distance `r >= 0` for a parameter the family has.
    fn log_derivative_unchecked(&self, p: HyperParam, r: f64) -> f64 {
        let s2 = self.variance();
        match p {
            HyperParam::Variance => s2 * self.shape(r),
            HyperParam::Lengthscale => s2 * self.lengthscale_factor(r),
            HyperParam::Period => s2 * self.period_factor(r),
        }
    }

    /// `(dk / d log l) / s^2` at distance `r`.
    ///
    /// With `u` the scaled distance, `du / d log l = -u`, so
    /// `dk / d log l = -u dk/du`: RBF `u^2 e^{-u^2/2}` (`u = r / l`),
    /// Matern 1/2 `u e^{-u}`, 3/2 `u^2 e^{-u}`, 5/2 `u^2 (1 + u) e^{-u} / 3`,
    /// periodic `4 sin^2(pi r / p) / l^2` times the kernel.
    fn lengthscale_factor(&self, r: f64) -> f64 {
        let l = self.lengthscale();
        match self.kind {
            KernelKind::Rbf => {
                let u = r / l;
                u * u * (-0.5 * u * u).exp()
            }
            KernelKind::Matern12 => {
                let u = r / l;
                u * (-u).exp()
            }
            KernelKind::Matern32 => {
                let u = 3f64.sqrt() * r / l;
                u * u * (-u).exp()
            }
            KernelKind::Matern52 => {
                let u = 5f64.sqrt() * r / l;
                u * u * (1.0 + u) / 3.0 * (-u).exp()
            }
            KernelKind::Periodic => {
                let s = (PI * r / self.params[2]).sin();
                4.0 * s * s / (l * l) * self.shape(r)
            }
        }
    }

    /// `(dk / d log p) / s^2` for the periodic kernel:
    /// `d(-2 sin^2(pi r/p) / l^2) / d log p = 2 pi r sin(2 pi r / p) / (p l^2)`.
    fn period_factor(&self, r: f64) -> f64 {
        if self.kind != KernelKind::Periodic {
            return 0.0;
        }
        let (l, p) = (self.lengthscale(), self.params[2]);
        2.0 * PI * r * (2.0 * PI * r / p).sin() / (p * l * l) * self.shape(r)
    }

    /// The Gram matrix `K[i][j] = k(x_i, x_j)` (`n x n`, symmetric),
    /// `O(n^2)` kernel evaluations.
    ///
    /// # Errors
    /// [`Error::NonFinite`] (argument `"x"`) for a non-finite point;
    /// [`Error::SizeOverflow`].
    pub fn gram(&self, x: &[f64]) -> Result<Matrix<f64>> {
        let mut out = Matrix::zeros(x.len(), x.len())?;
        self.gram_into(x, out.view_mut())?;
        Ok(out)
    }

    /// The cross-covariance `C[i][j] = k(new_i, x_j)` (`m x n`), `O(m n)`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] (argument `"x"` or `"new"`);
    /// [`Error::SizeOverflow`].
    pub fn cross(&self, new: &[f64], x: &[f64]) -> Result<Matrix<f64>> {
        let mut out = Matrix::zeros(new.len(), x.len())?;
        self.cross_into(new, x, out.view_mut())?;
        Ok(out)
    }

    /// `out <- K` on points `x` into a caller's `n x n` view, `O(n^2)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for the wrong shape; [`Error::NonFinite`]
    /// (argument `"x"`).
    pub fn gram_into(&self, x: &[f64], out: MatMut<'_, f64>) -> Result<()> {
        fill_pairwise((x, "x"), (x, "x"), out, |r| self.variance() * self.shape(r))
    }

    /// `out[i][j] <- k(new_i, x_j)` into a caller's `m x n` view, `O(m n)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for the wrong shape; [`Error::NonFinite`]
    /// (argument `"new"` or `"x"`).
    pub fn cross_into(&self, new: &[f64], x: &[f64], out: MatMut<'_, f64>) -> Result<()> {
        fill_pairwise((new, "new"), (x, "x"), out, |r| {
            self.variance() * self.shape(r)
        })
    }

    /// The derivative matrix `dK / d log theta` on points `x` for
    /// hyperparameter `p` (`n x n`, symmetric), `O(n^2)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a period of a non-periodic kernel;
    /// [`Error::NonFinite`]; [`Error::SizeOverflow`].
    pub fn derivative(&self, p: HyperParam, x: &[f64]) -> Result<Matrix<f64>> {
        let mut out = Matrix::zeros(x.len(), x.len())?;
        self.derivative_into(p, x, out.view_mut())?;
        Ok(out)
    }

    /// `out <- dK / d log theta` on points `x` into a caller's `n x n` view.
    ///
    /// # Errors
    /// As [`derivative`](Self::derivative), and [`Error::DimensionMismatch`]
    /// for the wrong shape.
    pub fn derivative_into(&self, p: HyperParam, x: &[f64], out: MatMut<'_, f64>) -> Result<()> {
        self.check_has(p)?;
        fill_pairwise((x, "x"), (x, "x"), out, |r| {
            self.log_derivative_unchecked(p, r)
        })
    }
}

/// `out[i][j] <- f(|a_i - b_j|)` after checking shapes and finiteness (each
/// point set comes with its argument name for errors).
fn fill_pairwise(
    (a, a_name): (&[f64], &'static str),
    (b, b_name): (&[f64], &'static str),
    mut out: MatMut<'_, f64>,
    f: impl Fn(f64) -> f64,
) -> Result<()> {
    expect_dim("kernel matrix: rows of out", a.len(), out.nrows())?;
    expect_dim("kernel matrix: columns of out", b.len(), out.ncols())?;
    check_finite_slice(a, a_name)?;
    check_finite_slice(b, b_name)?;
    for (i, &ai) in a.iter().enumerate() {
        for (j, &bj) in b.iter().enumerate() {
            *out.at_mut(i, j) = f((ai - bj).abs());
        }
    }
    Ok(())
}
