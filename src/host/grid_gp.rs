//! Gaussian-process regression on a grid, owned and ready to fit: see
//! [`GridGp`].

use super::kernels::{HyperParam, Kernel1d};
use super::matrix::Matrix;
use super::optim::{LbfgsOptions, LbfgsReport, minimize};
use crate::error::{Error, Result, expect_dim, require};
use crate::kron::Kronecker;
use crate::kron::{
    FactorDerivative, KroneckerEigen, MAX_FACTORS, NoisyKronecker, kronecker_eigen_storage_len,
    kronecker_eigen_workspace_len,
};
use crate::op::{LinearOperator, Solve};
use crate::view::{MatRef, check_finite_slice};
use core::fmt;
use std::format;
use std::string::String;
use std::vec::Vec;

/// What one log-parameter of a [`GridGp`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GridParam {
    /// `log s_f^2`, the signal variance of the product kernel.
    SignalVariance,
    /// `log s^2`, the noise variance.
    NoiseVariance,
    /// The log of hyperparameter `param` (lengthscale or period) of the
    /// kernel of axis `axis`.
    Axis {
        /// The axis.
        axis: usize,
        /// The hyperparameter.
        param: HyperParam,
    },
}

impl fmt::Display for GridParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GridParam::SignalVariance => write!(f, "signal_variance"),
            GridParam::NoiseVariance => write!(f, "noise_variance"),
            GridParam::Axis { axis, param } => write!(f, "{}[{axis}]", param.name()),
        }
    }
}

/// Posterior (or predictive) mean and variance of the latent function on
/// a grid, row-major with the first axis outermost.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPosterior {
    /// Points per axis.
    pub shape: Vec<usize>,
    /// The mean at every grid point.
    pub mean: Vec<f64>,
    /// The variance of the latent function at every grid point (add the
    /// noise variance for that of a new observation).
    pub variance: Vec<f64>,
}

/// The outcome of [`GridGp::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// The log marginal likelihood at the starting hyperparameters.
    pub initial_lml: f64,
    /// The log marginal likelihood at the final hyperparameters.
    pub lml: f64,
    /// The optimizer's report: its `x` holds the final log-parameters (in
    /// the order of [`GridGp::params`]), its `value` is `-lml / N`, its
    /// `status` says whether it converged.
    pub optimizer: LbfgsReport,
}

/// Gaussian-process regression on a grid, owned and ready to fit.
///
/// It holds grid axes, one [`Kernel1d`] per axis, a noise variance and
/// observations on every grid point, and runs the core's Kronecker
/// machinery ([`crate::kron`]) on buffers it owns and reuses between
/// evaluations: log marginal likelihood and its gradient, hyperparameter
/// fitting by [`minimize`] (L-BFGS) on log-parameters, posterior mean and
/// variance at the grid, prediction on a new grid. Memory is
/// `O(N + sum n_i^2)` for `N = prod n_i` points: never an `N x N` matrix.
/// [`decompose`](GridGp::decompose) runs the factor eigendecompositions
/// and returns a [`GridGpEigen`] whose methods run the later stages (solve,
/// log marginal likelihood, posterior mean and variance, prediction) one at
/// a time, e.g. to time them.
///
/// The covariance of points `p`, `q` is `s_f^2 prod_i k_i(p_i, q_i)` with
/// ONE signal variance `s_f^2` and unit-variance axis kernels `k_i` (only
/// the product of per-axis variances is identifiable, so it is one
/// parameter). The signal variance is carried by the first factor:
/// `K = (s_f^2 A_0) (x) A_1 (x) ... (x) A_{d-1}`.
///
/// Observations are row-major with the first axis outermost: the value at
/// `(i_0, ..., i_{d-1})` is `y[(..(i_0 n_1 + i_1) n_2 + ..) + i_{d-1}]`.
///
/// The host layer works in `f64` only.
///
/// ```
/// use gramkit::host::{GridGp, Kernel1d, LbfgsOptions};
/// let x: Vec<f64> = (0..12).map(|i| i as f64 / 3.0).collect();
/// let t: Vec<f64> = (0..10).map(|i| i as f64 / 3.0).collect();
/// let y: Vec<f64> = x
///     .iter()
///     .flat_map(|&a| t.iter().map(move |&b| a.sin() * b.cos()))
///     .collect();
/// let rbf = Kernel1d::rbf(1.0, 1.0)?;
/// let mut gp = GridGp::new(vec![x, t], vec![rbf, rbf], 0.01, y)?;
/// let before = gp.log_marginal_likelihood()?;
/// let fit = gp.fit(&LbfgsOptions::default())?;
/// assert!(fit.lml >= before);
/// let post = gp.posterior()?;             // mean and variance at the grid
/// assert_eq!(post.mean.len(), 120);
/// let pred = gp.predict(&[vec![0.5, 1.5], vec![2.0]])?; // a 2 x 1 grid
/// assert_eq!(pred.variance.len(), 2);
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GridGp {
    axes: Vec<Vec<f64>>,
    /// Unit-variance axis kernels.
    kernels: Vec<Kernel1d>,
    signal_variance: f64,
    noise_variance: f64,
    y: Vec<f64>,
    n: usize,
    factors: Vec<Matrix<f64>>,
    /// `(axis, dA_axis / d log theta)` for each axis parameter, in the
    /// order of [`GridGp::params`].
    derivatives: Vec<(usize, Matrix<f64>)>,
    eig_storage: Vec<f64>,
    eig_ws: Vec<f64>,
    ws: Vec<f64>,
}

impl GridGp {
    /// A GP on the grid `axes[0] x ... x axes[d-1]` (`1 <= d <= 8`), with
    /// kernel `kernels[i]` on axis `i`, noise variance `noise_variance` and
    /// observations `y` (length `N = prod n_i`, row-major, first axis
    /// outermost). The product of the kernels' variances becomes the signal
    /// variance `s_f^2`; the axis kernels are kept with unit variance.
    /// Cost `O(N)` to check `y`; nothing is factored yet.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no axis or more than 8, an empty
    /// axis, a noise variance that is not finite and positive, or a
    /// product of kernel variances that is not finite and positive;
    /// [`Error::DimensionMismatch`] if `kernels.len() != axes.len()` or
    /// `y.len() != N`; [`Error::NonFinite`] (argument `"axes"` with row =
    /// axis, col = index, or `"y"`); [`Error::SizeOverflow`] if `N`
    /// overflows.
    pub fn new(
        axes: Vec<Vec<f64>>,
        kernels: Vec<Kernel1d>,
        noise_variance: f64,
        y: Vec<f64>,
    ) -> Result<Self> {
        require(
            !axes.is_empty() && axes.len() <= MAX_FACTORS,
            "axes",
            "a grid has 1 to 8 axes",
        )?;
        expect_dim(
            "number of kernels (one per axis)",
            axes.len(),
            kernels.len(),
        )?;
        check_axes(&axes)?;
        let n = grid_len(&axes)?;
        expect_dim("length of y (the number of grid points)", n, y.len())?;
        check_finite_slice(&y, "y")?;
        check_positive(noise_variance, "noise_variance")?;
        let signal_variance = kernels.iter().map(|k| k.variance()).product::<f64>();
        check_positive(signal_variance, "signal_variance")?;
        let kernels = kernels
            .iter()
            .map(|k| k.with_param(HyperParam::Variance, 1.0))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            axes,
            kernels,
            signal_variance,
            noise_variance,
            y,
            n,
            factors: Vec::new(),
            derivatives: Vec::new(),
            eig_storage: Vec::new(),
            eig_ws: Vec::new(),
            ws: Vec::new(),
        })
    }

    /// Number of axes `d`.
    pub fn dims(&self) -> usize {
        self.axes.len()
    }

    /// Number of grid points `N = prod n_i`.
    pub fn num_points(&self) -> usize {
        self.n
    }

    /// Points per axis `[n_0, ..., n_{d-1}]`.
    pub fn shape(&self) -> Vec<usize> {
        self.axes.iter().map(Vec::len).collect()
    }

    /// The grid axes.
    pub fn axes(&self) -> &[Vec<f64>] {
        &self.axes
    }

    /// The axis kernels, with unit variance.
    pub fn kernels(&self) -> &[Kernel1d] {
        &self.kernels
    }

    /// The signal variance `s_f^2`.
    pub fn signal_variance(&self) -> f64 {
        self.signal_variance
    }

    /// The noise variance `s^2`.
    pub fn noise_variance(&self) -> f64 {
        self.noise_variance
    }

    /// The observations.
    pub fn observations(&self) -> &[f64] {
        &self.y
    }

    /// Replaces the observations.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `y.len() == N`;
    /// [`Error::NonFinite`]. `self` is unchanged on error.
    pub fn set_observations(&mut self, y: Vec<f64>) -> Result<()> {
        expect_dim("length of y (the number of grid points)", self.n, y.len())?;
        check_finite_slice(&y, "y")?;
        self.y = y;
        Ok(())
    }

    /// Sets the signal variance.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless finite and positive.
    pub fn set_signal_variance(&mut self, value: f64) -> Result<()> {
        check_positive(value, "signal_variance")?;
        self.signal_variance = value;
        Ok(())
    }

    /// Sets the noise variance.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless finite and positive.
    pub fn set_noise_variance(&mut self, value: f64) -> Result<()> {
        check_positive(value, "noise_variance")?;
        self.noise_variance = value;
        Ok(())
    }

    /// Replaces the kernel of axis `axis` (its variance multiplies the
    /// signal variance; the kernel is kept with unit variance).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for an axis out of range;
    /// [`Error::InvalidParameter`] if the new signal variance is not finite.
    pub fn set_kernel(&mut self, axis: usize, kernel: Kernel1d) -> Result<()> {
        if axis >= self.dims() {
            return Err(Error::DimensionMismatch {
                what: "set_kernel: axis (expected below the number of axes)",
                expected: self.dims(),
                got: axis,
            });
        }
        let signal = self.signal_variance * kernel.variance();
        check_positive(signal, "signal_variance")?;
        self.kernels[axis] = kernel.with_param(HyperParam::Variance, 1.0)?;
        self.signal_variance = signal;
        Ok(())
    }

    /// The log-parameters, in order: signal variance, noise variance, then
    /// for each axis its lengthscale (and period for a periodic kernel).
    pub fn params(&self) -> Vec<GridParam> {
        let mut out = Vec::with_capacity(2 + 2 * self.dims());
        out.push(GridParam::SignalVariance);
        out.push(GridParam::NoiseVariance);
        for (axis, k) in self.kernels.iter().enumerate() {
            for &param in &k.kind().hyperparams()[1..] {
                out.push(GridParam::Axis { axis, param });
            }
        }
        out
    }

    /// The names of [`params`](Self::params): `"signal_variance"`,
    /// `"noise_variance"`, `"lengthscale[0]"`, `"period[1]"`, ...
    pub fn param_names(&self) -> Vec<String> {
        self.params().iter().map(|p| format!("{p}")).collect()
    }

    /// The current log-parameters (natural logarithms, in the order of
    /// [`params`](Self::params)).
    pub fn log_params(&self) -> Vec<f64> {
        self.params()
            .iter()
            .map(|p| self.param_value(*p).ln())
            .collect()
    }

    /// The value (not its log) of one parameter.
    fn param_value(&self, p: GridParam) -> f64 {
        match p {
            GridParam::SignalVariance => self.signal_variance,
            GridParam::NoiseVariance => self.noise_variance,
            GridParam::Axis { axis, param } => self
                .kernels
                .get(axis)
                .and_then(|k| k.param(param).ok())
                .unwrap_or(f64::NAN),
        }
    }

    /// Sets every parameter from its logarithm (in the order of
    /// [`params`](Self::params)).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for the wrong length;
    /// [`Error::InvalidParameter`] if an exponential is not finite and
    /// positive (e.g. `log` above 709). `self` is unchanged on error.
    pub fn set_log_params(&mut self, theta: &[f64]) -> Result<()> {
        let params = self.params();
        expect_dim("number of log-parameters", params.len(), theta.len())?;
        let mut next = self.clone_params();
        for (p, &t) in params.iter().zip(theta) {
            let v = t.exp();
            match *p {
                GridParam::SignalVariance => {
                    check_positive(v, "signal_variance")?;
                    next.0 = v;
                }
                GridParam::NoiseVariance => {
                    check_positive(v, "noise_variance")?;
                    next.1 = v;
                }
                GridParam::Axis { axis, param } => {
                    next.2[axis] = next.2[axis].with_param(param, v)?;
                }
            }
        }
        (self.signal_variance, self.noise_variance, self.kernels) = next;
        Ok(())
    }

    /// A copy of the hyperparameters.
    fn clone_params(&self) -> (f64, f64, Vec<Kernel1d>) {
        (
            self.signal_variance,
            self.noise_variance,
            self.kernels.clone(),
        )
    }

    /// The kernel of axis `k` as it enters the factor: unit variance, or
    /// the signal variance for the first axis.
    fn factor_kernel(&self, k: usize) -> Result<Kernel1d> {
        let variance = if k == 0 { self.signal_variance } else { 1.0 };
        self.kernels[k].with_param(HyperParam::Variance, variance)
    }

    /// Rebuilds the factor matrices `A_k` in place, `O(sum n_i^2)`.
    fn build_factors(&mut self) -> Result<()> {
        self.factors.truncate(self.dims());
        for k in 0..self.dims() {
            let n = self.axes[k].len();
            if self.factors.len() <= k {
                self.factors.push(Matrix::zeros(n, n)?);
            }
            let kernel = self.factor_kernel(k)?;
            kernel.gram_into(&self.axes[k], self.factors[k].view_mut())?;
        }
        Ok(())
    }

    /// Rebuilds the derivative matrices `dA_k / d log theta`, one per
    /// axis parameter (lengthscales, periods), `O(sum n_i^2)`.
    fn build_derivatives(&mut self) -> Result<()> {
        let params = self.params();
        let axis_params: Vec<(usize, HyperParam)> = params
            .iter()
            .filter_map(|p| match *p {
                GridParam::Axis { axis, param } => Some((axis, param)),
                _ => None,
            })
            .collect();
        self.derivatives.truncate(axis_params.len());
        for (m, &(axis, param)) in axis_params.iter().enumerate() {
            let n = self.axes[axis].len();
            if self.derivatives.len() <= m {
                self.derivatives.push((axis, Matrix::zeros(n, n)?));
            }
            if self.derivatives[m].1.nrows() != n {
                self.derivatives[m].1 = Matrix::zeros(n, n)?;
            }
            let kernel = self.factor_kernel(axis)?;
            let slot = &mut self.derivatives[m];
            slot.0 = axis;
            kernel.derivative_into(param, &self.axes[axis], slot.1.view_mut())?;
        }
        Ok(())
    }

    /// The prior covariance `K = (s_f^2 A_0) (x) A_1 (x) ...` as a
    /// Kronecker product of the freshly built factors (`O(sum n_i^2)`), for
    /// products, trace, Cholesky log-determinant or materialization.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] only.
    pub fn kronecker(&mut self) -> Result<Kronecker<'_, f64>> {
        self.build_factors()?;
        let views: Vec<MatRef<'_, f64>> = self.factors.iter().map(|f| f.view()).collect();
        Kronecker::new(&views)
    }

    /// Stage 1: builds the factors and eigendecomposes each, about
    /// `9 sum n_i^3` flops into owned storage, and sizes the scratch of the
    /// later stages (`O(N)`, allocated once and reused). The returned
    /// [`GridGpEigen`] runs the other stages (solve, log marginal
    /// likelihood, posterior, prediction) on buffers owned by `self`.
    ///
    /// # Errors
    /// The eigensolver's [`Error::NoConvergence`] or [`Error::Overflow`];
    /// [`Error::SizeOverflow`].
    pub fn decompose(&mut self) -> Result<GridGpEigen<'_>> {
        self.build_factors()?;
        let orders = self.shape();
        resize(&mut self.eig_storage, kronecker_eigen_storage_len(&orders))?;
        resize(&mut self.eig_ws, kronecker_eigen_workspace_len(&orders))?;
        let views: Vec<MatRef<'_, f64>> = self.factors.iter().map(|f| f.view()).collect();
        let eig = Kronecker::new(&views)?.eigen(&mut self.eig_storage, &mut self.eig_ws)?;
        // size the scratch for the later stages now, so that they allocate nothing
        if let Ok(noisy) = eig.with_noise(self.noise_variance) {
            let needed = noisy
                .gp_workspace_len()
                .max(noisy.solve_workspace_len())
                .max(noisy.posterior_variance_workspace_len());
            grow(&mut self.ws, needed)?;
        }
        Ok(GridGpEigen {
            eig,
            factors: &self.factors,
            derivatives: &self.derivatives,
            axes: &self.axes,
            kernels: &self.kernels,
            signal_variance: self.signal_variance,
            noise_variance: self.noise_variance,
            y: &self.y,
            ws: &mut self.ws,
        })
    }

    /// The log marginal likelihood
    /// `-1/2 y^T (K + s^2 I)^{-1} y - 1/2 log|K + s^2 I| - N/2 log 2 pi`:
    /// the eigendecompositions plus `2 N sum n_i` flops.
    ///
    /// # Errors
    /// As [`decompose`](Self::decompose); [`Error::InvalidParameter`] if
    /// `K + s^2 I` is numerically singular.
    pub fn log_marginal_likelihood(&mut self) -> Result<f64> {
        self.decompose()?.log_marginal_likelihood()
    }

    /// The log marginal likelihood, and in `grad` its gradient with
    /// respect to the log-parameters (order of [`params`](Self::params)).
    /// Cost: the eigendecompositions, then `2 N sum n_i` flops plus
    /// `4 n_k^3 + 2 N n_k` per parameter of factor `k`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for the wrong length of `grad`; as
    /// [`log_marginal_likelihood`](Self::log_marginal_likelihood).
    pub fn lml_gradient(&mut self, grad: &mut [f64]) -> Result<f64> {
        expect_dim(
            "lml_gradient: length of grad (number of parameters)",
            self.params().len(),
            grad.len(),
        )?;
        self.build_derivatives()?;
        self.decompose()?.lml_gradient(grad)
    }

    /// Fits the hyperparameters by maximizing the log marginal likelihood
    /// with [`minimize`] on the log-parameters (objective `-lml / N`, the
    /// analytic gradient); each evaluation costs one
    /// [`lml_gradient`](Self::lml_gradient). On return `self` holds the
    /// best hyperparameters found, converged or not (see
    /// [`FitReport::optimizer`]).
    ///
    /// # Errors
    /// As [`lml_gradient`](Self::lml_gradient) at the starting point; the
    /// optimizer's [`Error::InvalidParameter`] for invalid options.
    pub fn fit(&mut self, options: &LbfgsOptions) -> Result<FitReport> {
        let start = self.log_params();
        let mut grad = std::vec![0.0; start.len()];
        let initial_lml = self.lml_gradient(&mut grad)?;
        let scale = 1.0 / self.n as f64;
        let report = minimize(
            |theta, g| match self.evaluate(theta, g) {
                Ok(lml) => {
                    g.iter_mut().for_each(|v| *v *= -scale);
                    -lml * scale
                }
                Err(_) => f64::NAN,
            },
            &start,
            options,
        )?;
        self.set_log_params(&report.x)?;
        Ok(FitReport {
            initial_lml,
            lml: -report.value / scale,
            optimizer: report,
        })
    }

    /// Sets the log-parameters and evaluates the LML and its gradient.
    fn evaluate(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64> {
        self.set_log_params(theta)?;
        self.lml_gradient(grad)
    }

    /// The posterior mean and variance of the latent function at the grid
    /// points: the eigendecompositions plus `6 N sum n_i` flops.
    ///
    /// # Errors
    /// As [`log_marginal_likelihood`](Self::log_marginal_likelihood).
    pub fn posterior(&mut self) -> Result<GridPosterior> {
        let shape = self.shape();
        let mut mean = zeros(self.n)?;
        let mut variance = zeros(self.n)?;
        let mut eig = self.decompose()?;
        eig.posterior_mean(&mut mean)?;
        eig.posterior_variance(&mut variance)?;
        Ok(GridPosterior {
            shape,
            mean,
            variance,
        })
    }

    /// The predictive mean and variance of the latent function on the new
    /// grid `new_axes[0] x ... x new_axes[d-1]` (row-major, first axis
    /// outermost), through the cross-covariance `K_* = (x)_i A_i(new,
    /// train)`. Cost: the eigendecompositions, `O(sum m_i n_i (n_i + 1))`
    /// for the cross factors, and `O(N sum n_i + M sum m_i)` for `M = prod
    /// m_i` new points.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless there is one new axis per axis;
    /// [`Error::NonFinite`] for a non-finite new point (argument `"new"`);
    /// [`Error::InvalidParameter`] for an empty new axis; as
    /// [`log_marginal_likelihood`](Self::log_marginal_likelihood).
    pub fn predict<A: AsRef<[f64]>>(&mut self, new_axes: &[A]) -> Result<GridPosterior> {
        expect_dim("number of new axes", self.dims(), new_axes.len())?;
        let new_axes: Vec<&[f64]> = new_axes.iter().map(|a| a.as_ref()).collect();
        require(
            new_axes.iter().all(|a| !a.is_empty()),
            "new_axes",
            "every axis needs at least one point",
        )?;
        let m = new_axes
            .iter()
            .try_fold(1usize, |p, a| p.checked_mul(a.len()))
            .ok_or(Error::SizeOverflow)?;
        let mut mean = zeros(m)?;
        let mut variance = zeros(m)?;
        self.decompose()?
            .predict_into(&new_axes, &mut mean, &mut variance)?;
        Ok(GridPosterior {
            shape: new_axes.iter().map(|a| a.len()).collect(),
            mean,
            variance,
        })
    }
}

/// A [`GridGp`] with its factors eigendecomposed (stage 1, see
/// [`GridGp::decompose`]): the later stages, each on the GP's own buffers.
pub struct GridGpEigen<'a> {
    eig: KroneckerEigen<'a, f64>,
    factors: &'a [Matrix<f64>],
    derivatives: &'a [(usize, Matrix<f64>)],
    axes: &'a [Vec<f64>],
    kernels: &'a [Kernel1d],
    signal_variance: f64,
    noise_variance: f64,
    y: &'a [f64],
    ws: &'a mut Vec<f64>,
}

impl<'a> GridGpEigen<'a> {
    /// The per-factor eigendecompositions (with the report of eigenvalues
    /// floored at zero, [`KroneckerEigen::floor`]).
    pub fn eigen(&self) -> &KroneckerEigen<'a, f64> {
        &self.eig
    }

    /// `K + s^2 I` in eigen form.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if it is numerically singular.
    pub fn noisy(&self) -> Result<NoisyKronecker<'_, 'a, f64>> {
        self.eig.with_noise(self.noise_variance)
    }

    /// `alpha <- (K + s^2 I)^{-1} y`, `4 N sum n_i` flops.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `alpha.len() == N`; as
    /// [`noisy`](Self::noisy).
    pub fn solve(&mut self, alpha: &mut [f64]) -> Result<()> {
        expect_dim("solve: length of alpha", self.y.len(), alpha.len())?;
        let noisy = self.eig.with_noise(self.noise_variance)?;
        alpha.copy_from_slice(self.y);
        let ws = grow(self.ws, noisy.solve_workspace_len())?;
        noisy.solve_in_place(alpha, ws)
    }

    /// `max_j |((K + s^2 I) alpha - y)_j|`, with `K alpha` computed from the
    /// factors themselves (by mode products, not through the
    /// eigendecomposition), `2 N sum n_i` flops: an independent check of a
    /// solve.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`] for `alpha`.
    pub fn residual(&mut self, alpha: &[f64]) -> Result<f64> {
        let n = self.y.len();
        let views: Vec<MatRef<'_, f64>> = self.factors.iter().map(|f| f.view()).collect();
        let k = Kronecker::new(&views)?;
        let ws = grow(self.ws, n.saturating_add(k.apply_workspace_len()))?;
        let (ka, rest) = ws.split_at_mut(n);
        k.apply(alpha, ka, rest)?;
        let s2 = self.noise_variance;
        Ok(ka
            .iter()
            .zip(alpha)
            .zip(self.y)
            .map(|((kv, a), y)| (kv + s2 * a - y).abs())
            .fold(0.0, f64::max))
    }

    /// The log marginal likelihood, `2 N sum n_i` flops.
    ///
    /// # Errors
    /// As [`noisy`](Self::noisy).
    pub fn log_marginal_likelihood(&mut self) -> Result<f64> {
        let noisy = self.eig.with_noise(self.noise_variance)?;
        let ws = grow(self.ws, noisy.gp_workspace_len())?;
        noisy.log_marginal_likelihood(self.y, ws)
    }

    /// `out <- K (K + s^2 I)^{-1} y`, the posterior mean at the grid,
    /// `4 N sum n_i` flops.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `out.len() == N`; as
    /// [`noisy`](Self::noisy).
    pub fn posterior_mean(&mut self, out: &mut [f64]) -> Result<()> {
        let noisy = self.eig.with_noise(self.noise_variance)?;
        let ws = grow(self.ws, noisy.gp_workspace_len())?;
        noisy.posterior_mean(self.y, out, ws)
    }

    /// `out <- diag(K - K (K + s^2 I)^{-1} K)`, the posterior variance of
    /// the latent function at the grid, `2 N sum n_i` flops.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `out.len() == N`; as
    /// [`noisy`](Self::noisy).
    pub fn posterior_variance(&mut self, out: &mut [f64]) -> Result<()> {
        let noisy = self.eig.with_noise(self.noise_variance)?;
        let ws = grow(self.ws, noisy.posterior_variance_workspace_len())?;
        noisy.posterior_variance(out, ws)
    }

    /// LML and its gradient in log-parameters (see
    /// [`GridGp::lml_gradient`]); the derivative matrices must be current.
    fn lml_gradient(&mut self, grad: &mut [f64]) -> Result<f64> {
        let noisy = self.eig.with_noise(self.noise_variance)?;
        let mut derivatives = Vec::with_capacity(1 + self.derivatives.len());
        // d K / d log s_f^2 = K: the first factor, which carries s_f^2
        derivatives.push(FactorDerivative {
            factor: 0,
            matrix: self.factors[0].view(),
        });
        for (axis, d) in self.derivatives {
            derivatives.push(FactorDerivative {
                factor: *axis,
                matrix: d.view(),
            });
        }
        expect_dim(
            "lml_gradient: length of grad (number of parameters)",
            derivatives.len() + 1,
            grad.len(),
        )?;
        let mut core_grad = std::vec![0.0; derivatives.len() + 1];
        let ws = grow(self.ws, noisy.lml_gradient_workspace_len())?;
        let lml = noisy.lml_gradient(self.y, &derivatives, &mut core_grad, ws)?;
        // core order: [d/ds^2, d/dlog s_f^2, axis params...];
        // ours: [log s_f^2, log s^2, axis params...]
        grad[0] = core_grad[1];
        grad[1] = self.noise_variance * core_grad[0];
        grad[2..].copy_from_slice(&core_grad[2..]);
        Ok(lml)
    }

    /// `mean <- K_* (K + s^2 I)^{-1} y` and `variance <- diag(K_** - K_* (K
    /// + s^2 I)^{-1} K_*^T)` on the new grid `new_axes` (first axis
    /// outermost; `mean` and `variance` of length `prod m_i`).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for the wrong number of axes or output
    /// lengths; [`Error::NonFinite`] for a non-finite new point; as
    /// [`noisy`](Self::noisy).
    pub fn predict_into(
        &mut self,
        new_axes: &[&[f64]],
        mean: &mut [f64],
        variance: &mut [f64],
    ) -> Result<()> {
        expect_dim("number of new axes", self.axes.len(), new_axes.len())?;
        let mut cross = Vec::with_capacity(new_axes.len());
        let mut prior = Vec::with_capacity(new_axes.len());
        for (k, new) in new_axes.iter().enumerate() {
            let variance = if k == 0 { self.signal_variance } else { 1.0 };
            let kernel = self.kernels[k].with_param(HyperParam::Variance, variance)?;
            cross.push(kernel.cross(new, &self.axes[k])?);
            prior.push(std::vec![variance; new.len()]);
        }
        let views: Vec<MatRef<'_, f64>> = cross.iter().map(|c| c.view()).collect();
        let cross = Kronecker::new(&views)?;
        let prior: Vec<&[f64]> = prior.iter().map(|p| p.as_slice()).collect();
        let noisy = self.eig.with_noise(self.noise_variance)?;
        let ws = grow(self.ws, noisy.predict_workspace_len(&cross))?;
        noisy.predict_mean(&cross, self.y, mean, ws)?;
        noisy.predict_variance(&cross, &prior, variance, ws)
    }
}

/// Fails unless every axis is non-empty and finite.
fn check_axes(axes: &[Vec<f64>]) -> Result<()> {
    for (i, axis) in axes.iter().enumerate() {
        require(
            !axis.is_empty(),
            "axes",
            "every axis needs at least one point",
        )?;
        if let Some(j) = axis.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                argument: "axes",
                row: i,
                col: j,
            });
        }
    }
    Ok(())
}

/// `prod n_i`, or [`Error::SizeOverflow`].
fn grid_len(axes: &[Vec<f64>]) -> Result<usize> {
    axes.iter()
        .try_fold(1usize, |p, a| p.checked_mul(a.len()))
        .ok_or(Error::SizeOverflow)
}

/// Fails with [`Error::InvalidParameter`] unless `v` is finite and positive.
fn check_positive(v: f64, name: &'static str) -> Result<()> {
    require(
        v > 0.0 && v.is_finite(),
        name,
        "must be finite and positive",
    )
}

/// A vector of `len` zeros, [`Error::SizeOverflow`] if it cannot be
/// allocated.
fn zeros(len: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    resize(&mut v, len)?;
    Ok(v)
}

/// Resizes `v` to exactly `len` (zeros when growing) without aborting on a
/// length that cannot be allocated.
fn resize(v: &mut Vec<f64>, len: usize) -> Result<()> {
    if len > v.len() {
        v.try_reserve_exact(len - v.len())
            .map_err(|_| Error::SizeOverflow)?;
    }
    v.resize(len, 0.0);
    Ok(())
}

/// The first `len` entries of `v`, growing it if needed (never shrinking,
/// so the buffer is reused between calls).
fn grow(v: &mut Vec<f64>, len: usize) -> Result<&mut [f64]> {
    if v.len() < len {
        resize(v, len)?;
    }
    Ok(&mut v[..len])
}

/// Where a number list failed to parse: see [`parse_grid_values`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseValuesError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub problem: ParseProblem,
}

/// What [`parse_grid_values`] found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseProblem {
    /// A field that is not a number (the field's text).
    NotANumber(String),
    /// A number that is NaN or infinite (the field's text).
    NonFinite(String),
    /// Two commas with nothing between them (or a comma at the start or
    /// end of a line).
    EmptyField,
    /// The text holds no number at all (reported at line 1).
    NoValues,
}

impl fmt::Display for ParseValuesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.problem {
            ParseProblem::NotANumber(s) => write!(f, "`{s}` is not a number"),
            ParseProblem::NonFinite(s) => write!(f, "`{s}` is not a finite number"),
            ParseProblem::EmptyField => write!(f, "empty field between separators"),
            ParseProblem::NoValues => write!(f, "no numbers found"),
        }
    }
}

impl std::error::Error for ParseValuesError {}

/// Parses observations on a grid from text: numbers separated by commas,
/// whitespace or newlines, in row-major order with the first axis
/// outermost; blank lines and lines starting with `#` are skipped. `O(len)`.
///
/// ```
/// use gramkit::host::parse_grid_values;
/// assert_eq!(parse_grid_values("1, 2.5\n-3e-1\n")?, vec![1.0, 2.5, -0.3]);
/// assert!(parse_grid_values("1,,2").is_err());
/// # Ok::<(), gramkit::host::ParseValuesError>(())
/// ```
///
/// # Errors
/// [`ParseValuesError`] naming the first bad line: a field that is not a
/// number, a non-finite number, an empty field between commas, or no
/// number at all.
pub fn parse_grid_values(text: &str) -> core::result::Result<Vec<f64>, ParseValuesError> {
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        parse_line(trimmed, &mut values).map_err(|problem| ParseValuesError {
            line: i + 1,
            problem,
        })?;
    }
    if values.is_empty() {
        return Err(ParseValuesError {
            line: 1,
            problem: ParseProblem::NoValues,
        });
    }
    Ok(values)
}

/// Appends the numbers of one non-empty line to `values`.
fn parse_line(line: &str, values: &mut Vec<f64>) -> core::result::Result<(), ParseProblem> {
    for field in line.split(',') {
        let field = field.trim();
        if field.is_empty() {
            return Err(ParseProblem::EmptyField);
        }
        for token in field.split_whitespace() {
            let v: f64 = token
                .parse()
                .map_err(|_| ParseProblem::NotANumber(String::from(token)))?;
            if !v.is_finite() {
                return Err(ParseProblem::NonFinite(String::from(token)));
            }
            values.push(v);
        }
    }
    Ok(())
}
