//! The fair null-space projection with owned buffers: [`FairKernel`]
//! (configuration and fit) and [`FairKernelFit`] (the result), plus the
//! `fair_kernel` command-line tool ([`run_fair_kernel_tool`]).

mod tool;

pub use tool::{FAIR_KERNEL_USAGE, FairToolError, FairToolSummary, run_fair_kernel_tool};

use super::matrix::Matrix;
use crate::cholesky::{CholeskyRef, FnSource, SymmetricSource};
use crate::dense::{matmul, matmul_workspace_len};
use crate::error::{Error, Result, require};
use crate::fair::{
    FairOptions, FairReport, FairSteps, fair_index_workspace_len, fair_steps_len, fair_transform,
    fair_transform_with_nystrom, fair_with_nystrom_workspace_len, fair_workspace_len,
};
use crate::nystrom::{NystromInverse, nystrom_storage_len, nystrom_workspace_len};
use crate::real::Real;
use crate::view::MatRef;
use std::vec;
use std::vec::Vec;

/// How the transform sees the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FairMode {
    /// The exact kernel matrix (`O(n^3 + k p n^2)`).
    Exact,
    /// The Nystroem approximation on up to `m` landmarks chosen greedily
    /// by pivoted Cholesky.
    NystromGreedy {
        /// Landmarks, `1 <= m <= n`.
        m: usize,
    },
    /// The Nystroem approximation on these landmarks (distinct indices of
    /// training points).
    NystromGiven(Vec<usize>),
}

/// Configuration of a fair null-space projection (a builder): ridge
/// `lambda`, iterations `k`, exact or Nystroem mode, and whether the `n x n`
/// `K_k` is formed. [`fit`](Self::fit) runs it on a training kernel and the
/// protected attributes and returns a [`FairKernelFit`] that owns every
/// buffer: the transformed kernel `K_k`, the report, transformed rows of
/// new points and their new-new values, and optionally the explicit `Z_k`.
///
/// The transform is the core's ([`crate::fair`]): exact mode
/// `O(n^3 + k p n^2)`, Nystroem mode `O(n m^2 + k p n m)` (plus `O(n^2 m)`
/// when `K_k` is formed). For new points the fit keeps the removed
/// directions (`2 n` values each, at most `k p` of them) and, in Nystroem
/// mode, the Nystroem factor (`n m + m^2`).
///
/// ```
/// use gramkit::host::{FairKernel, Matrix, rbf_gram, rbf_kernel};
/// let x = Matrix::from_fn(40, 2, |i, j| ((i * (3 + j)) % 7) as f64 / 3.0);
/// let age = Matrix::from_fn(40, 1, |i, _| x.view().get(i, 0).unwrap_or(0.0) - 1.0);
/// let fit = FairKernel::new(1e-2, 4).fit(&rbf_gram(&x, 1.0)?, &age)?;
/// let kk = fit.kernel().expect("formed by default"); // K_4 (40 x 40)
/// assert_eq!(fit.report().applied, fit.applied());
/// let new = Matrix::from_fn(3, 2, |i, j| (i + j) as f64 / 2.0);
/// let rows = fit.transform_rows(&rbf_kernel(&new, &x, 1.0)?)?; // k_x Z_k^T (3 x 40)
/// assert_eq!((kk.nrows(), rows.nrows(), rows.ncols()), (40, 3, 40));
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FairKernel<T> {
    lambda: T,
    iterations: usize,
    mode: FairMode,
    form_kernel: bool,
}

impl<T: Real> FairKernel<T> {
    /// Exact mode with ridge `lambda` (`> 0`; smaller removes more) and
    /// `iterations` (`k`); `K_k` is formed. Parameters are checked by
    /// [`fit`](Self::fit).
    pub fn new(lambda: T, iterations: usize) -> Self {
        Self {
            lambda,
            iterations,
            mode: FairMode::Exact,
            form_kernel: true,
        }
    }

    /// Sets the ridge `lambda`.
    pub fn with_lambda(mut self, lambda: T) -> Self {
        self.lambda = lambda;
        self
    }

    /// Sets the number of iterations `k`.
    pub fn with_iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations;
        self
    }

    /// Exact mode (the default).
    pub fn exact(mut self) -> Self {
        self.mode = FairMode::Exact;
        self
    }

    /// Nystroem mode with up to `m` landmarks chosen greedily (pivoted
    /// Cholesky of the kernel).
    pub fn nystrom(mut self, m: usize) -> Self {
        self.mode = FairMode::NystromGreedy { m };
        self
    }

    /// Nystroem mode on the given landmarks.
    pub fn nystrom_landmarks(mut self, landmarks: Vec<usize>) -> Self {
        self.mode = FairMode::NystromGiven(landmarks);
        self
    }

    /// Whether [`fit`](Self::fit) forms the `n x n` `K_k` (default `true`).
    /// Without it a Nystroem fit needs only `O(n m + k p n)` memory; new
    /// points are transformed either way.
    pub fn with_kernel(mut self, form: bool) -> Self {
        self.form_kernel = form;
        self
    }

    /// The ridge `lambda`.
    pub fn lambda(&self) -> T {
        self.lambda
    }
    /// The iterations asked for.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// The mode.
    pub fn mode(&self) -> &FairMode {
        &self.mode
    }

    /// Fits on a kernel matrix `kernel` (`n x n`, symmetric PSD, lower
    /// triangle read) and protected attributes `protected` (`n x p`,
    /// `p >= 1`). Cost: the core's transform (exact `O(n^3 + k p n^2)`,
    /// Nystroem `O(n m^2 + k p n m)`, plus `O(n^2 m)` for `K_k`); memory
    /// about `4 n^2` in exact mode while fitting.
    ///
    /// # Errors
    /// - [`Error::InvalidParameter`] for `lambda <= 0` or non-finite, no
    ///   protected attribute, a bad landmark count, duplicate landmarks;
    /// - [`Error::DimensionMismatch`] for mismatched sizes or a landmark
    ///   index `>= n`;
    /// - [`Error::NonFinite`] for a non-finite kernel entry or attribute;
    /// - [`Error::SizeOverflow`] when the buffers cannot be sized or
    ///   allocated;
    /// - [`Error::NotPositiveDefinite`] when the landmark block of a
    ///   Nystroem fit does not factor even with jitter (the kernel is far
    ///   from PSD).
    pub fn fit(&self, kernel: &Matrix<T>, protected: &Matrix<T>) -> Result<FairKernelFit<T>> {
        self.fit_source(&kernel.view(), protected.view())
    }

    /// Fits on a kernel given by a closure `f(i, j) = k(x_i, x_j)` for
    /// `i, j < n` (symmetric); in Nystroem mode without
    /// [`with_kernel`](Self::with_kernel) no `n x n` matrix is ever formed.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn fit_fn<F: Fn(usize, usize) -> T>(
        &self,
        n: usize,
        f: F,
        protected: &Matrix<T>,
    ) -> Result<FairKernelFit<T>> {
        self.fit_source(&FnSource::new(n, f), protected.view())
    }

    /// Fits on any [`SymmetricSource`] (a view, a closure) and a view of
    /// the protected attributes.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn fit_source<S: SymmetricSource<T> + ?Sized>(
        &self,
        kernel: &S,
        protected: MatRef<'_, T>,
    ) -> Result<FairKernelFit<T>> {
        let n = kernel.dim()?;
        let p = protected.ncols();
        require(
            p >= 1,
            "protected",
            "at least one protected attribute is needed",
        )?;
        // Every applied iteration removes at least one of the `<= n`
        // feature-space directions, so more than `n` can never apply.
        let k = self.iterations.min(n);
        let opts = FairOptions {
            lambda: self.lambda,
            iterations: k,
        };
        let mut steps = zeroed::<T>(fair_steps_len(n, p, k))?;
        let mut out = match self.form_kernel {
            true => Some(Matrix::from_row_major(n, n, zeroed(n.saturating_mul(n))?)?),
            false => None,
        };
        let out_view = out.as_mut().map(Matrix::view_mut);
        let (report, nystrom) = match &self.mode {
            FairMode::Exact => {
                let mut ws = zeroed::<T>(fair_workspace_len(n, p, k))?;
                let mut iws = vec![0usize; fair_index_workspace_len(n)];
                let (_, report) = fair_transform(
                    kernel, protected, opts, out_view, &mut steps, &mut ws, &mut iws,
                )?;
                (report, None)
            }
            FairMode::NystromGreedy { m } => {
                require(*m >= 1 && *m <= n, "m", "must be between 1 and n")?;
                let (report, rows) =
                    fit_nystrom(kernel, protected, opts, None, *m, out_view, &mut steps)?;
                (report, Some(rows))
            }
            FairMode::NystromGiven(s) => {
                let (report, rows) = fit_nystrom(
                    kernel,
                    protected,
                    opts,
                    Some(s),
                    s.len(),
                    out_view,
                    &mut steps,
                )?;
                (report, Some(rows))
            }
        };
        steps.truncate(fair_steps_len(n, p, report.applied));
        Ok(FairKernelFit {
            steps,
            n,
            p,
            report,
            requested: self.iterations,
            lambda: self.lambda,
            kernel: out,
            nystrom,
        })
    }
}

/// The Nystroem mode: builds the Nystroem factor on the given landmarks
/// (or `m` greedy ones), runs the core's transform on it and keeps the
/// factor for new points.
fn fit_nystrom<T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    protected: MatRef<'_, T>,
    opts: FairOptions<T>,
    given: Option<&[usize]>,
    m: usize,
    out: Option<crate::view::MatMut<'_, T>>,
    steps: &mut [T],
) -> Result<(FairReport<T>, NystromRows<T>)> {
    let n = kernel.dim()?;
    let (p, k) = (protected.ncols(), opts.iterations);
    let mut storage = zeroed::<T>(nystrom_storage_len(n, m))?;
    let ws_len = nystrom_workspace_len(n, m).max(fair_with_nystrom_workspace_len(n, m, p, k));
    let mut ws = zeroed::<T>(ws_len)?;
    let mut perm = vec![0usize; n];
    let (inv, landmarks) = match given {
        Some(s) => (
            NystromInverse::from_landmarks(kernel, s, opts.lambda, &mut storage, &mut ws)?,
            s,
        ),
        None => {
            let inv = NystromInverse::greedy(
                kernel,
                m,
                T::zero(),
                opts.lambda,
                &mut perm,
                &mut storage,
                &mut ws,
            )?;
            let r = inv.rank();
            (inv, &perm[..r])
        }
    };
    let (_, report) = fair_transform_with_nystrom(
        kernel, &inv, landmarks, protected, opts, out, steps, &mut ws,
    )?;
    let copy = |a: MatRef<'_, T>| Matrix::from_fn(a.nrows(), a.ncols(), |i, j| a.at(i, j));
    let rows = NystromRows {
        landmarks: landmarks.to_vec(),
        l_w: copy(inv.landmark_factor()),
        b: copy(inv.factor()),
    };
    Ok((report, rows))
}

/// A zero-filled buffer of `len` elements, or [`Error::SizeOverflow`] when
/// `len` saturated or cannot be reserved.
fn zeroed<T: Real>(len: usize) -> Result<Vec<T>> {
    if len == usize::MAX {
        return Err(Error::SizeOverflow);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::SizeOverflow)?;
    v.resize(len, T::zero());
    Ok(v)
}

/// The Nystroem factor of a Nystroem-mode fit, for new points' Nystroem
/// rows: the landmarks `S`, the Cholesky factor `L_W` of `K[S, S]` (with
/// its jitter) and `B = K[:, S] L_W^{-T}` (`n x m`, `K~ = B B^T`).
#[derive(Clone, Debug, PartialEq)]
struct NystromRows<T> {
    landmarks: Vec<usize>,
    l_w: Matrix<T>,
    b: Matrix<T>,
}

impl<T: Real> NystromRows<T> {
    /// `rows <- rows + f_x B^T - cross` with the Nystroem features
    /// `f_x = L_W^{-1} k_{x,S}` of the rows of `cross`: replaces the exact
    /// kernel values in the transformed `rows` by the Nystroem ones.
    fn swap_in_nystrom_rows(&self, cross: &Matrix<T>, rows: &mut Matrix<T>) -> Result<()> {
        let c = cross.view();
        let mut fx = Matrix::from_fn(cross.nrows(), self.landmarks.len(), |i, a| {
            c.at(i, self.landmarks[a])
        });
        CholeskyRef::from_factor(self.l_w.view())?
            .solve_lower_matrix_in_place(fx.view_mut().transpose())?;
        for (r, &x) in rows.as_mut_slice().iter_mut().zip(cross.as_slice()) {
            *r -= x;
        }
        let (t, n, m) = (rows.nrows(), rows.ncols(), fx.ncols());
        let mut ws = vec![T::zero(); matmul_workspace_len(t, n, m)];
        let b = self.b.view();
        matmul(
            rows.view_mut(),
            T::one(),
            fx.view(),
            b.transpose(),
            T::one(),
            &mut ws,
        )
    }
}

/// A fitted fair transform: `K_k` (when formed), the report, and what is
/// needed to transform new points (it owns every buffer).
#[derive(Clone, Debug, PartialEq)]
pub struct FairKernelFit<T> {
    steps: Vec<T>,
    n: usize,
    p: usize,
    report: FairReport<T>,
    requested: usize,
    lambda: T,
    kernel: Option<Matrix<T>>,
    nystrom: Option<NystromRows<T>>,
}

impl<T: Real> FairKernelFit<T> {
    /// The transformed training kernel `K_k` (`n x n`, symmetric, PSD to
    /// rounding), or `None` when the builder was told not to form it. In
    /// Nystroem mode it is the transform of the Nystroem approximation.
    pub fn kernel(&self) -> Option<&Matrix<T>> {
        self.kernel.as_ref()
    }

    /// Gives `K_k` back (see [`kernel`](Self::kernel)).
    pub fn into_kernel(self) -> Option<Matrix<T>> {
        self.kernel
    }

    /// What the transform did: iterations applied, rank of the feature
    /// factor, directions removed, refactorizations.
    pub fn report(&self) -> FairReport<T> {
        self.report
    }

    /// Iterations applied (fewer than asked when nothing predictive of the
    /// protected attributes was left).
    pub fn applied(&self) -> usize {
        self.report.applied
    }

    /// Iterations asked for.
    pub fn requested_iterations(&self) -> usize {
        self.requested
    }

    /// The ridge `lambda` asked for (the core raises a `lambda` below the
    /// kernel's rounding level to that level: `report().lambda` is the one
    /// used).
    pub fn lambda(&self) -> T {
        self.lambda
    }

    /// Number of training points `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of protected attributes `p`.
    pub fn p(&self) -> usize {
        self.p
    }

    /// The Nystroem landmarks used (the greedy choice in pivot order, or
    /// those given), or `None` in exact mode.
    pub fn landmarks(&self) -> Option<&[usize]> {
        self.nystrom.as_ref().map(|r| r.landmarks.as_slice())
    }

    /// The core's view of the removed directions (their dual vectors and
    /// training values, [`FairSteps`]), borrowing this fit's storage.
    pub fn steps(&self) -> FairSteps<'_, T> {
        FairSteps {
            data: &self.steps,
            n: self.n,
            p: self.p,
            applied: self.report.applied,
        }
    }

    /// The removed directions' values at the training points: `U`
    /// (`n x d`, `d = report().directions`), `U_il = <phi(x_i), w_l>` for
    /// the orthonormal feature-space directions `w_l` the iterations
    /// removed, so that `K_k = K - U U^T` (Nystroem mode: `K~ - U U^T`).
    pub fn removed(&self) -> Matrix<T> {
        let steps = self.steps();
        let cols: Vec<MatRef<'_, T>> = (0..steps.applied())
            .filter_map(|j| steps.get(j))
            .flat_map(|(_, u)| (0..u.ncols()).filter_map(move |c| u.col(c).ok()))
            .filter(|u| (0..u.nrows()).any(|i| u.at(i, 0) != T::zero()))
            .collect();
        Matrix::from_fn(self.n, cols.len(), |i, c| cols[c].at(i, 0))
    }

    /// Transformed kernel rows of new points: `cross` (`t x n`, the exact
    /// kernel values of `t` new points against the `n` training points)
    /// becomes `k_x Z_k^T = k_x - sum_l (a_l . k_x) u_l`, the inner
    /// products of the projected features `<P phi(x), P phi(x_i)>`
    /// ([`FairSteps::transform_new`]: each component `a_l . k_x` comes from
    /// the original row, so rounding does not compound over iterations).
    /// The training points' own rows come back as the rows of
    /// [`kernel`](Self::kernel), so training and new points together have a
    /// PSD kernel. `O(t n d)` for `d` directions.
    ///
    /// In Nystroem mode `k_x` is then replaced by its Nystroem row
    /// `(L_W^{-1} k_{x,S}) B^T` (`O(t m n)` more), so the rows are those of
    /// the transformed Nystroem approximation, consistent with `K_k`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `cross` has `n` columns;
    /// [`Error::NonFinite`] for a non-finite entry.
    pub fn transform_rows(&self, cross: &Matrix<T>) -> Result<Matrix<T>> {
        self.transform(cross, None)
    }

    /// [`transform_rows`](Self::transform_rows) and the transformed
    /// new-new values: `diag` (`t` values `k(x, x)`) minus what the
    /// iterations removed, `k(x, x) - sum_l (a_l . k_x)^2`. In Nystroem
    /// mode `k(x, x)` stays exact and only the removed part comes from the
    /// landmarks, so a new point keeps its residual outside the landmarks'
    /// span (the joint kernel stays PSD).
    ///
    /// # Errors
    /// As [`transform_rows`](Self::transform_rows), and
    /// [`Error::DimensionMismatch`] unless `diag.len() == t`,
    /// [`Error::NonFinite`] for a non-finite `diag`.
    pub fn transform_rows_with_diag(
        &self,
        cross: &Matrix<T>,
        diag: &[T],
    ) -> Result<(Matrix<T>, Vec<T>)> {
        let mut d = diag.to_vec();
        let rows = self.transform(cross, Some(&mut d))?;
        Ok((rows, d))
    }

    /// The core's transform of `cross` (and `diag`), then the Nystroem rows.
    fn transform(&self, cross: &Matrix<T>, diag: Option<&mut [T]>) -> Result<Matrix<T>> {
        let steps = self.steps();
        let mut rows = cross.clone();
        let mut ws = vec![T::zero(); steps.transform_workspace_len()];
        steps.transform_new(rows.view_mut(), diag, &mut ws)?;
        if let Some(nys) = &self.nystrom {
            nys.swap_in_nystrom_rows(cross, &mut rows)?;
        }
        Ok(rows)
    }

    /// One new point: its kernel row `row` (`n` values) and `k(x, x)`
    /// transformed as in [`transform_rows_with_diag`](Self::transform_rows_with_diag).
    ///
    /// # Errors
    /// As [`transform_rows_with_diag`](Self::transform_rows_with_diag).
    pub fn transform_row(&self, row: &[T], kxx: T) -> Result<(Vec<T>, T)> {
        let cross = Matrix::from_row_major(1, row.len(), row.to_vec())?;
        let (rows, d) = self.transform_rows_with_diag(&cross, &[kxx])?;
        Ok((rows.into_vec(), d.first().copied().unwrap_or(kxx)))
    }

    /// The explicit `Z_k = T_k ... T_1 = I - sum_l u_l a_l^T` (`n x n`)
    /// from the core's steps, so that `K_k = Z_k K Z_k^T` (Nystroem:
    /// `Z_k K~ Z_k^T`) and new rows are `k_x Z_k^T`. `O(k p n^2)` flops,
    /// `n^2` memory.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if `n^2` cannot be allocated.
    pub fn explicit_z(&self) -> Result<Matrix<T>> {
        let n = self.n;
        let mut z = Matrix::from_row_major(n, n, zeroed(n.saturating_mul(n))?)?;
        let steps = self.steps();
        let mut ws = vec![T::zero(); steps.explicit_z_workspace_len()];
        steps.explicit_z(z.view_mut(), &mut ws)?;
        Ok(z)
    }
}
