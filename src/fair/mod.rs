//! Fair null-space projection of a kernel matrix: the iterated `Z_k`
//! transform.
//!
//! Given a PSD kernel matrix `K` (`n x n`), protected attributes `A`
//! (`n x p`) and a ridge `lambda > 0`, iteration `j` finds what predicts
//! `A` from the current kernel, `alpha_j = (K_{j-1} + lambda I)^{-1} A`, and
//! removes it: with `U_j = K_{j-1} alpha_j` and `C_j = alpha_j^T U_j`,
//!
//! ```text
//! K_j = K_{j-1} - U_j C_j^{-1} U_j^T = T_j K_{j-1} T_j^T,   T_j = I - U_j C_j^{-1} alpha_j^T
//! ```
//!
//! which in the empirical feature space (`K = F F^T`) is the projection of
//! the features onto the null space of `W_j = F_{j-1}^T alpha_j`. Any kernel
//! method trained on `K_k` is blind to what linearly predicted `A` in the
//! kernel's feature space, and new points are transformed consistently
//! ([`FairSteps::transform_new`]).
//!
//! Computed literally the recurrence loses positive semi-definiteness in
//! floating point and costs `O(k n^3)`. Here it runs in factor form
//! (`../shared/design/MATH.md` section 1):
//!
//! - `F` (`n x r`) from the Cholesky factor of `K` when `K` is numerically
//!   positive definite (`r = n`, blocked), from a rank-revealing pivoted
//!   Cholesky otherwise (exact mode), or the Nystroem factor `B` (`n x m`,
//!   [`fair_transform_nystrom`]);
//! - the removed directions are kept orthonormal in feature space
//!   (Gram-Schmidt, each projection applied twice), so every normaliser is
//!   a sum of squares, never negative;
//! - one resolvent of `K_j + lambda I` is carried through the iterations
//!   (in exact mode the Cholesky factor of `K + lambda I` and a small
//!   capacitance system for the removed directions; in Nystroem mode an
//!   `m x m` Woodbury factor, updated and downdated), refactored only if
//!   rounding defeats an update;
//! - the result is `K_k = G G^T` with `G = F - (F W) W^T`: a Gram matrix,
//!   symmetric and PSD to rounding for every `lambda > 0` and every `k`.
//!
//! Exact mode costs `O(n^3 + k p n^2)`; Nystroem mode `O(n m^2 + k p n m)`
//! time and `O(n m + k p n)` memory, with no `n x n` matrix unless the caller
//! asks for `K_k`. When nothing predictive is left (the new direction's
//! normaliser vanishes relative to `|K|`), the iterations stop early and the
//! report says how many were applied.
//!
//! The removed directions are returned as [`FairSteps`], in a form that
//! transforms kernel rows of new points without compounding rounding.

mod resolvent;
mod steps;

pub use steps::{FairSteps, fair_steps_len};

use crate::cholesky::{
    Cholesky, PivotedOptions, SymmetricSource, cholesky_downdate_workspace_len,
    cholesky_in_place_workspace_len, pivoted_cholesky_workspace_len, pivoted_factor,
};
use crate::dense::{matmul, matmul_workspace_len, max_abs, scaled_norm};
use crate::error::{Error, Result, expect_dim, require};
use crate::level2::Shape;
use crate::nystrom::{NystromInverse, check_landmarks, nystrom_storage_len, nystrom_workspace_len};
use crate::real::Real;
use crate::view::{MatMut, MatRef};
use crate::workspace::{Workspace, add, mul};
use resolvent::{CapacitanceResolvent, Resolvent, WoodburyResolvent, capacitance_len};
use steps::step_len;

/// Parameters of a fair transform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FairOptions<T> {
    /// Ridge of the projection, `> 0`: smaller removes more.
    pub lambda: T,
    /// Iterations `k` to apply (fewer when nothing predictive is left).
    pub iterations: usize,
}

/// What a fair transform did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FairReport<T> {
    /// Iterations applied (`<= iterations`).
    pub applied: usize,
    /// Rank `r` of the feature factor `F` (`K ~ F F^T`).
    pub rank: usize,
    /// Orthonormal directions removed in feature space (`<= applied p`).
    pub directions: usize,
    /// Times the resolvent of `K_j + lambda I` was refactored because its
    /// update met rounding (a tiny `lambda` relative to `K`).
    pub refactorizations: usize,
    /// The `lambda` used: the one asked for, or the rounding level
    /// `n eps max_i k_ii` of `K` if it was below that (smaller values
    /// cannot be told apart from zero in floating point).
    pub lambda: T,
}

/// Landmarks of the Nystroem mode.
#[derive(Debug, Clone, Copy)]
pub enum Landmarks<'l> {
    /// These indices.
    Given(&'l [usize]),
    /// Up to `m` chosen greedily by pivoted Cholesky.
    Greedy {
        /// How many.
        m: usize,
    },
}

/// Directions removed so far: orthonormal columns of `W` (`r` each).
pub(crate) struct Directions<'w, T> {
    buf: &'w mut [T],
    r: usize,
    count: usize,
}

impl<'w, T: Real> Directions<'w, T> {
    /// Room for `min(r, iterations p)` directions of length `r`: no more
    /// can be orthonormal in `R^r`, nor be found in `iterations`.
    fn with_capacity(buf: &'w mut [T], r: usize, p: usize, iterations: usize) -> Self {
        let len = (r * direction_capacity(r, p, iterations)).min(buf.len());
        Self {
            buf: &mut buf[..len],
            r: r.max(1),
            count: 0,
        }
    }

    /// `x <- (I - W W^T) x`, each projection applied twice so that `x` ends
    /// orthogonal to `W` to working accuracy even after cancellation.
    pub(crate) fn project(&self, x: &mut [T]) {
        self.project_since(0, x);
    }

    /// [`project`](Self::project) against the directions from `first` on.
    fn project_since(&self, first: usize, x: &mut [T]) {
        let rows = &self.buf[first * self.r..self.count * self.r];
        if let Ok(w) = MatRef::from_row_major(rows, self.count - first, self.r) {
            for _ in 0..2 {
                crate::level2::project_out_rows(w, x);
            }
        }
    }

    /// Appends a unit direction.
    fn push(&mut self, w: &[T]) -> Result<()> {
        let start = self.count * self.r;
        let got = self.buf.len();
        let slot = self
            .buf
            .get_mut(start..start + self.r)
            .ok_or(Error::WorkspaceTooSmall {
                needed: start + self.r,
                got,
            })?;
        slot.copy_from_slice(w);
        self.count += 1;
        Ok(())
    }

    /// Whether another direction fits.
    fn has_room(&self) -> bool {
        (self.count + 1) * self.r <= self.buf.len()
    }

    /// The directions as the rows of a `t x r` matrix.
    fn rows(&self) -> Result<MatRef<'_, T>> {
        MatRef::from_row_major(&self.buf[..self.count * self.r], self.count, self.r)
    }

    /// `g <- F - (F W) W^T` (`n x r` row-major) by two products; `scratch`
    /// holds `F W` (`n x t`) and the products' packing.
    pub(crate) fn project_factor(
        &self,
        f: MatRef<'_, T>,
        g: &mut [T],
        scratch: &mut [T],
    ) -> Result<()> {
        let (n, t) = (f.nrows(), self.count);
        let (fw, rest) = scratch.split_at_mut(n * t);
        if t > 0 {
            let w = self.rows()?;
            let fw = MatMut::from_row_major(fw, n, t)?;
            matmul(fw, T::one(), f, w.transpose(), T::zero(), rest)?;
        }
        self.subtract_projection(f, MatRef::from_row_major(fw, n, t)?, g, rest)
    }

    /// `g <- F - V W^T` (`n x r` row-major) for `V = F W` (`n x t`), the
    /// products' packing in `scratch`.
    fn subtract_projection(
        &self,
        f: MatRef<'_, T>,
        fw: MatRef<'_, T>,
        g: &mut [T],
        scratch: &mut [T],
    ) -> Result<()> {
        let (n, r) = f.shape();
        let mut gv = MatMut::from_row_major(&mut g[..n * r], n, r)?;
        gv.copy_from(f)?;
        if self.count == 0 {
            return Ok(());
        }
        matmul(gv, -T::one(), fw, self.rows()?, T::one(), scratch)
    }

    /// `a <- P a P` for a symmetric `r x r` `a`: columns, then rows.
    pub(crate) fn project_both_sides(
        &self,
        a: &mut MatMut<'_, T>,
        scratch: &mut [T],
    ) -> Result<()> {
        let r = self.r.min(a.nrows());
        let col = &mut scratch[..r];
        for transposed in [false, true] {
            for j in 0..r {
                for (i, c) in col.iter_mut().enumerate() {
                    *c = if transposed { a.at(j, i) } else { a.at(i, j) };
                }
                self.project(col);
                for (i, &c) in col.iter().enumerate() {
                    *(if transposed {
                        a.at_mut(j, i)
                    } else {
                        a.at_mut(i, j)
                    }) = c;
                }
            }
        }
        Ok(())
    }
}

/// Scratch of the iterations for `n` points, factor rank `<= r`, `p`
/// attributes and up to `cap` directions (shared by both modes).
const fn iteration_scratch_len(n: usize, r: usize, p: usize, cap: usize) -> usize {
    let blocks = add(mul(n, p), mul(r, p));
    let vectors = mul(2, r);
    let solve = add(mul(2, n), r);
    let removal = max(cholesky_downdate_workspace_len(n), mul(6, r));
    let projected = add(
        mul(n, cap),
        max(
            matmul_workspace_len(n, cap, r),
            matmul_workspace_len(n, r, cap),
        ),
    );
    let refactor = add(
        add(mul(n, r), projected),
        max(
            matmul_workspace_len(n, n, r),
            cholesky_in_place_workspace_len(n),
        ),
    );
    let inner = max(
        max(solve, removal),
        max(refactor, add(mul(r, r), cholesky_in_place_workspace_len(r))),
    );
    add(blocks, add(vectors, inner))
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Directions that can be kept: `min(r, iterations p)`.
const fn direction_capacity(r: usize, p: usize, iterations: usize) -> usize {
    let k = mul(iterations, p);
    if k < r { k } else { r }
}

/// Workspace length of [`fair_transform`] (and [`fair_transform_in_place`])
/// for `n` points, `p` attributes and `iterations`: about `3 n^2` plus
/// `O(n (p + min(n, iterations p)))`.
pub const fn fair_workspace_len(n: usize, p: usize, iterations: usize) -> usize {
    let factor = mul(n, n);
    let cap = direction_capacity(n, p, iterations);
    let resolvent = add(mul(n, n), capacitance_len(n, p, cap));
    let dirs = mul(n, cap);
    add(
        add(factor, resolvent),
        add(dirs, exact_scratch_len(n, p, iterations)),
    )
}

/// The exact mode's scratch: the pivoted Cholesky, then the iterations.
const fn exact_scratch_len(n: usize, p: usize, iterations: usize) -> usize {
    let cap = direction_capacity(n, p, iterations);
    max(
        pivoted_cholesky_workspace_len(n),
        iteration_scratch_len(n, n, p, cap),
    )
}

/// Workspace length of [`fair_transform_nystrom`] for `n` points, `m`
/// landmarks, `p` attributes and `iterations`: `O(n m + m^2)` (`K_k`, when
/// asked for, goes to the caller's output).
pub const fn fair_nystrom_workspace_len(n: usize, m: usize, p: usize, iterations: usize) -> usize {
    add(
        nystrom_storage_len(n, m),
        max(
            nystrom_workspace_len(n, m),
            fair_with_nystrom_workspace_len(n, m, p, iterations),
        ),
    )
}

/// Length of the index workspace (`&mut [usize]`) of the transforms: `n`
/// (the pivot order of the rank-revealing factorization).
pub const fn fair_index_workspace_len(n: usize) -> usize {
    n
}

/// Checks the arguments shared by every mode; returns `p`.
fn check_inputs<T: Real>(
    n: usize,
    protected: MatRef<'_, T>,
    opts: &FairOptions<T>,
    steps: &[T],
) -> Result<usize> {
    expect_dim(
        "fair transform: rows of the protected attributes",
        n,
        protected.nrows(),
    )?;
    let p = protected.ncols();
    require(
        p >= 1,
        "protected",
        "at least one protected attribute is needed",
    )?;
    require(
        opts.lambda > T::zero() && opts.lambda.is_finite(),
        "lambda",
        "must be positive and finite",
    )?;
    protected.check_finite("protected")?;
    let needed = fair_steps_len(n, p, opts.iterations);
    if steps.len() < needed {
        return Err(Error::WorkspaceTooSmall {
            needed,
            got: steps.len(),
        });
    }
    Ok(p)
}

/// `lambda` raised to the rounding level `n eps max_i k_ii` of `K` if it is
/// below it: smaller values cannot be told apart from zero, and
/// `K_j + lambda I` would not factor.
fn effective_lambda<T: Real, S: SymmetricSource<T> + ?Sized>(kernel: &S, n: usize, lambda: T) -> T {
    let max_diag = (0..n).map(|i| kernel.diagonal(i)).fold(T::zero(), T::max);
    lambda.max(T::from_usize(n) * T::EPS * max_diag)
}

/// Fails unless `out` is `n x n`.
fn check_out<T: Real>(out: &Option<MatMut<'_, T>>, n: usize) -> Result<()> {
    if let Some(o) = out {
        expect_dim("fair transform: rows of out", n, o.nrows())?;
        expect_dim("fair transform: columns of out", n, o.ncols())?;
    }
    Ok(())
}

/// Fails unless the index workspace holds `n` entries.
fn index_workspace(iws: &mut [usize], n: usize) -> Result<&mut [usize]> {
    let got = iws.len();
    iws.get_mut(..n)
        .ok_or(Error::WorkspaceTooSmall { needed: n, got })
}

/// The exact mode's pieces of the workspace.
struct ExactBuffers<'w, T> {
    f: &'w mut [T],
    l: &'w mut [T],
    capacitance: &'w mut [T],
    dirs: &'w mut [T],
    scratch: &'w mut [T],
}

/// Carves the exact mode's buffers.
fn exact_buffers<T>(
    ws: &mut [T],
    n: usize,
    p: usize,
    iterations: usize,
) -> Result<ExactBuffers<'_, T>> {
    let mut ws = Workspace::new(ws, fair_workspace_len(n, p, iterations))?;
    let cap = direction_capacity(n, p, iterations);
    Ok(ExactBuffers {
        f: ws.take(n * n)?,
        l: ws.take(n * n)?,
        capacitance: ws.take(capacitance_len(n, p, cap))?,
        dirs: ws.take(n * cap)?,
        scratch: ws.take(exact_scratch_len(n, p, iterations))?,
    })
}

/// Fair transform of a PSD kernel matrix in exact mode: writes
/// `K_k` into `out` (`n x n`, both triangles) when given, and the steps for
/// new points into `steps` (length [`fair_steps_len`]).
///
/// `kernel` is a full matrix ([`MatRef`], lower triangle read) or a closure
/// ([`FnSource`](crate::cholesky::FnSource)). Cost `O(n^3 + k p n^2)`: the
/// blocked Cholesky factors of `K` and of `K + lambda I` (or, when `K` is
/// numerically rank-deficient, a pivoted Cholesky revealing its rank `r`
/// and the factor of `F F^T + lambda I`), then per iteration two triangular
/// solves, two passes over `F` and up to `p` rank-one downdates. Workspace [`fair_workspace_len`], index
/// workspace [`fair_index_workspace_len`].
///
/// # Errors
/// - [`Error::InvalidParameter`] for `lambda <= 0` or non-finite, or no
///   protected attribute;
/// - [`Error::DimensionMismatch`] for mismatched sizes;
/// - [`Error::NonFinite`] for a non-finite kernel entry or attribute;
/// - [`Error::WorkspaceTooSmall`] for short `steps`, `ws` or `iws`;
/// - [`Error::NotPositiveDefinite`] if `K + lambda I` does not factor (`K`
///   is not positive semi-definite: an eigenvalue below `-lambda`). A `K`
///   that is not positive semi-definite but passes this test is factored
///   by the pivoted Cholesky, which clamps negative residual pivots to zero:
///   the transform is then of that factor's `F F^T`, a positive
///   semi-definite matrix that can be far from `K`;
/// - [`Error::Overflow`] if an intermediate (`(K_j + lambda I)^{-1} a`, a
///   dual vector) is not representable, for kernels or attributes of
///   extreme magnitude.
///
/// ```
/// use gramkit::{MatMut, MatRef};
/// use gramkit::cholesky::FnSource;
/// use gramkit::fair::{FairOptions, fair_index_workspace_len, fair_steps_len, fair_transform, fair_workspace_len};
/// let n = 30;
/// let x: Vec<f64> = (0..n).map(|i| i as f64 / 10.0).collect();
/// let k = FnSource::new(n, |i: usize, j: usize| (-0.5 * (x[i] - x[j]).powi(2)).exp());
/// let age: Vec<f64> = x.iter().map(|v| 20.0 + 10.0 * v).collect();
/// let a = MatRef::from_row_major(&age, n, 1)?;
/// let opts = FairOptions { lambda: 1e-2, iterations: 3 };
/// let mut kk = vec![0.0; n * n];
/// let mut steps = vec![0.0; fair_steps_len(n, 1, 3)];
/// let mut ws = vec![0.0; fair_workspace_len(n, 1, 3)];
/// let mut iws = vec![0; fair_index_workspace_len(n)];
/// let out = MatMut::from_row_major(&mut kk, n, n)?;
/// let (steps, report) = fair_transform(&k, a, opts, Some(out), &mut steps, &mut ws, &mut iws)?;
/// assert_eq!((report.applied, steps.applied()), (3, 3));
/// # Ok::<(), gramkit::Error>(())
/// ```
pub fn fair_transform<'s, T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    protected: MatRef<'_, T>,
    opts: FairOptions<T>,
    out: Option<MatMut<'_, T>>,
    steps: &'s mut [T],
    ws: &mut [T],
    iws: &mut [usize],
) -> Result<(FairSteps<'s, T>, FairReport<T>)> {
    let n = kernel.dim()?;
    let p = check_inputs(n, protected, &opts, steps)?;
    check_out(&out, n)?;
    let opts = FairOptions {
        lambda: effective_lambda(kernel, n, opts.lambda),
        ..opts
    };
    let b = exact_buffers(ws, n, p, opts.iterations)?;
    let perm = index_workspace(iws, n)?;
    let factored = factor_stage(
        kernel,
        opts.lambda,
        &mut *b.f,
        &mut *b.l,
        perm,
        &mut *b.scratch,
    )?;
    finish_exact(b, perm, factored, protected, opts, out, steps)
}

/// [`fair_transform`] overwriting its input: `k` (`n x n`, lower triangle
/// read) holds `K_k` (both triangles) on success. On error `k` is
/// unchanged. Same cost, workspace and errors.
pub fn fair_transform_in_place<'s, T: Real>(
    k: MatMut<'_, T>,
    protected: MatRef<'_, T>,
    opts: FairOptions<T>,
    steps: &'s mut [T],
    ws: &mut [T],
    iws: &mut [usize],
) -> Result<(FairSteps<'s, T>, FairReport<T>)> {
    let n = k.rb().square_order("fair transform: columns of K")?;
    let p = check_inputs(n, protected, &opts, steps)?;
    let opts = FairOptions {
        lambda: effective_lambda(&k.rb(), n, opts.lambda),
        ..opts
    };
    let b = exact_buffers(ws, n, p, opts.iterations)?;
    let perm = index_workspace(iws, n)?;
    let factored = factor_stage(
        &k.rb(),
        opts.lambda,
        &mut *b.f,
        &mut *b.l,
        perm,
        &mut *b.scratch,
    )?;
    finish_exact(b, perm, factored, protected, opts, Some(k), steps)
}

/// What the factor stage produced.
struct Factored<T> {
    /// Rank `r` of `F`.
    rank: usize,
    /// `|F|_F`, the scale of `F`'s rounding (see [`iterate`]).
    f_norm: T,
    /// Whether the resolvent factor of `K + lambda I` is already in `l`.
    resolvent_ready: bool,
}

/// `K ~ F F^T` into `f_buf` (`n x n` row-major, the first `r` columns
/// used). When `K` is numerically positive definite (every Cholesky pivot
/// above `n eps max_i k_ii`), `F` is its blocked Cholesky factor (`r = n`)
/// and `l_buf` receives the blocked Cholesky factor of `K + lambda I`
/// directly; otherwise a pivoted Cholesky reveals the rank at rounding
/// level, and the resolvent is built from `F` later.
fn factor_stage<T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    lambda: T,
    f_buf: &mut [T],
    l_buf: &mut [T],
    perm: &mut [usize],
    scratch: &mut [T],
) -> Result<Factored<T>> {
    let n = perm.len();
    load_lower(kernel, f_buf, n)?;
    let mut f = MatMut::from_row_major(&mut *f_buf, n, n)?;
    let max_diag = (0..n).map(|i| kernel.diagonal(i)).fold(T::zero(), T::max);
    let floor = T::from_usize(n) * T::EPS * max_diag;
    let full_rank = crate::cholesky::factor_lower(&mut f, scratch).is_ok()
        && (0..n).all(|i| f.at(i, i) * f.at(i, i) > floor);
    if full_rank {
        load_lower(kernel, l_buf, n)?;
        let mut l = MatMut::from_row_major(l_buf, n, n)?;
        for i in 0..n {
            *l.at_mut(i, i) += lambda;
        }
        crate::cholesky::factor_lower(&mut l, scratch)?;
        return Ok(Factored {
            rank: n,
            f_norm: root_trace(kernel, n),
            resolvent_ready: true,
        });
    }
    let opts = PivotedOptions {
        max_rank: n,
        tolerance: T::zero(),
    };
    let g = MatMut::from_row_major(&mut *f_buf, n, n)?;
    let rank = pivoted_factor(kernel, opts, perm, g, scratch)?.rank;
    Ok(Factored {
        rank,
        f_norm: frobenius(MatRef::from_strided(f_buf, n, rank, n, 1)?),
        resolvent_ready: false,
    })
}

/// `buf <- ` the lower triangle of `K` (row-major `n x n`, strictly upper
/// part zero).
fn load_lower<T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    buf: &mut [T],
    n: usize,
) -> Result<()> {
    for (i, row) in buf[..n * n].chunks_exact_mut(n.max(1)).enumerate().take(n) {
        for (j, v) in row.iter_mut().enumerate() {
            *v = if j <= i {
                kernel.entry(i, j)
            } else {
                T::zero()
            };
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    argument: "kernel",
                    row: i,
                    col: j,
                });
            }
        }
    }
    Ok(())
}

/// `sqrt(trace K)` without overflow: the norm of `(sqrt(k_ii))_i` (negative
/// diagonal entries count as zero). Equals `|F|_F` for the Cholesky factor
/// of a positive definite `K`; `O(n)`.
fn root_trace<T: Real, S: SymmetricSource<T> + ?Sized>(kernel: &S, n: usize) -> T {
    scaled_norm((0..n).map(|i| kernel.diagonal(i).max(T::zero()).sqrt()))
}

/// `|F|_F` without overflow, `O(n r)`: the scale of a pivoted or Nystroem
/// factor, whose rows are bounded by `sqrt(k_ii)` only for a positive
/// semi-definite `K`.
fn frobenius<T: Real>(f: MatRef<'_, T>) -> T {
    let (n, r) = f.shape();
    scaled_norm((0..n).flat_map(|i| (0..r).map(move |j| f.at(i, j))))
}

/// The iterations and the output of the exact mode, once `F` is known
/// (`perm`: the pivot order when `F` came from the pivoted Cholesky).
#[allow(clippy::too_many_arguments)]
fn finish_exact<'s, T: Real>(
    b: ExactBuffers<'_, T>,
    perm: &[usize],
    factored: Factored<T>,
    protected: MatRef<'_, T>,
    opts: FairOptions<T>,
    out: Option<MatMut<'_, T>>,
    steps: &'s mut [T],
) -> Result<(FairSteps<'s, T>, FairReport<T>)> {
    let Factored {
        rank: r,
        f_norm,
        resolvent_ready,
    } = factored;
    let n = perm.len();
    let f = MatRef::from_strided(&*b.f, n, r, n, 1)?;
    let mut dirs = Directions::with_capacity(b.dirs, r, protected.ncols(), opts.iterations);
    let (report, steps) = {
        let cap = direction_capacity(r, protected.ncols(), opts.iterations);
        let mut res = CapacitanceResolvent::new(
            f,
            &dirs,
            resolvent_ready,
            protected,
            opts.lambda,
            &mut *b.l,
            b.capacitance,
            cap,
            &mut *b.scratch,
        )?;
        // the Cholesky factor of a full-rank K is lower triangular (its
        // products read half the matrix); a pivoted one is triangular on
        // its pivot rows
        let pivots = &perm[..r];
        let factor = Factor {
            f,
            lower: resolvent_ready,
            dual: Dual {
                tri: f,
                lookup: (!resolvent_ready).then_some(pivots),
                scatter: (!resolvent_ready).then_some(pivots),
            },
        };
        iterate(
            factor,
            protected,
            &opts,
            f_norm,
            &mut res,
            &mut dirs,
            steps,
            &mut *b.scratch,
        )?
    };
    if let Some(out) = out {
        write_kernel(f, &dirs, &steps, out, b.l, b.scratch)?;
    }
    Ok((steps, report))
}

/// Fair transform in Nystroem mode: `K ~ B B^T` with `B` (`n x m`) from the
/// landmarks, so nothing of size `n x n` is formed unless `out` is given
/// (then `K_k = G G^T` of the transformed factor). Kernel entries are read
/// only for the `m` landmark columns and the diagonal. Cost
/// `O(n m^2 + k p n m)`, workspace [`fair_nystrom_workspace_len`], index
/// workspace [`fair_index_workspace_len`] (the greedy pivot order; unused
/// for given landmarks).
///
/// With `m = n` landmarks this is the exact transform of `K`. To keep the
/// Nystroem factor (for new points' Nystroem rows), build the
/// [`NystromInverse`] yourself and call [`fair_transform_with_nystrom`].
///
/// # Errors
/// As [`fair_transform`], plus the landmark errors of
/// [`NystromInverse::from_landmarks`].
#[allow(clippy::too_many_arguments)]
pub fn fair_transform_nystrom<'s, T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    protected: MatRef<'_, T>,
    opts: FairOptions<T>,
    landmarks: Landmarks<'_>,
    out: Option<MatMut<'_, T>>,
    steps: &'s mut [T],
    ws: &mut [T],
    iws: &mut [usize],
) -> Result<(FairSteps<'s, T>, FairReport<T>)> {
    let n = kernel.dim()?;
    let p = check_inputs(n, protected, &opts, steps)?;
    let m = match landmarks {
        Landmarks::Given(s) => s.len(),
        Landmarks::Greedy { m } => m,
    };
    let mut ws = Workspace::new(ws, fair_nystrom_workspace_len(n, m, p, opts.iterations))?;
    let storage = ws.take(nystrom_storage_len(n, m))?;
    let rest = ws.take(max(
        nystrom_workspace_len(n, m),
        fair_with_nystrom_workspace_len(n, m, p, opts.iterations),
    ))?;
    let (inv, rows) = match landmarks {
        Landmarks::Given(s) => (
            NystromInverse::from_landmarks(kernel, s, opts.lambda, storage, &mut *rest)?,
            s,
        ),
        Landmarks::Greedy { m } => {
            let perm = index_workspace(iws, n)?;
            let inv = NystromInverse::greedy(
                kernel,
                m,
                T::zero(),
                opts.lambda,
                &mut *perm,
                storage,
                &mut *rest,
            )?;
            let perm: &[usize] = perm;
            (inv, &perm[..inv.rank()])
        }
    };
    fair_transform_with_nystrom(kernel, &inv, rows, protected, opts, out, steps, rest)
}

/// Workspace length of [`fair_transform_with_nystrom`] for `n` points, `m`
/// landmarks, `p` attributes and `iterations`: `O(n m + m^2)`.
pub const fn fair_with_nystrom_workspace_len(
    n: usize,
    m: usize,
    p: usize,
    iterations: usize,
) -> usize {
    let cap = direction_capacity(m, p, iterations);
    let buffers = add(add(mul(2, mul(m, m)), mul(m, cap)), mul(n, m));
    add(buffers, with_nystrom_scratch_len(n, m, p, cap))
}

/// Scratch of [`fair_transform_with_nystrom`]: `H = F^T F`, the iterations,
/// the output product.
const fn with_nystrom_scratch_len(n: usize, m: usize, p: usize, cap: usize) -> usize {
    max(
        max(
            matmul_workspace_len(m, m, n),
            iteration_scratch_len(n, m, p, cap),
        ),
        matmul_workspace_len(n, n, m),
    )
}

/// The Nystroem mode on a Nystroem approximation the caller built (and
/// keeps): `nystrom` of the kernel `kernel` on `landmarks` (those given to
/// [`NystromInverse::from_landmarks`], or for
/// [`NystromInverse::greedy`] the first [`rank`](NystromInverse::rank)
/// pivots). `kernel` is read only on its diagonal. Its own `lambda` is not
/// used: the transform's is `opts.lambda`. Workspace
/// [`fair_with_nystrom_workspace_len`]; otherwise as
/// [`fair_transform_nystrom`].
///
/// # Errors
/// As [`fair_transform`], and [`Error::DimensionMismatch`] unless
/// `nystrom` has `n` rows and `landmarks.len()` equals its rank;
/// [`Error::InvalidParameter`] for duplicate landmarks.
#[allow(clippy::too_many_arguments)]
pub fn fair_transform_with_nystrom<'s, T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    nystrom: &NystromInverse<'_, T>,
    landmarks: &[usize],
    protected: MatRef<'_, T>,
    opts: FairOptions<T>,
    out: Option<MatMut<'_, T>>,
    steps: &'s mut [T],
    ws: &mut [T],
) -> Result<(FairSteps<'s, T>, FairReport<T>)> {
    let n = kernel.dim()?;
    let p = check_inputs(n, protected, &opts, steps)?;
    check_out(&out, n)?;
    let f = nystrom.factor();
    expect_dim("fair transform: rows of the Nystroem factor", n, f.nrows())?;
    expect_dim(
        "fair transform: landmarks of the Nystroem factor",
        f.ncols(),
        landmarks.len(),
    )?;
    if !landmarks.is_empty() {
        check_landmarks(landmarks, n)?;
    }
    let opts = FairOptions {
        lambda: effective_lambda(kernel, n, opts.lambda),
        ..opts
    };
    let m = f.ncols();
    let mut ws = Workspace::new(
        ws,
        fair_with_nystrom_workspace_len(n, m, p, opts.iterations),
    )?;
    let h = ws.take(m * m)?;
    let mbuf = ws.take(m * m)?;
    let dirs_buf = ws.take(m * direction_capacity(m, p, opts.iterations))?;
    let g_buf = ws.take(n * m)?;
    let cap = direction_capacity(m, p, opts.iterations);
    let scratch = ws.take(with_nystrom_scratch_len(n, m, p, cap))?;
    let mut dirs = Directions::with_capacity(dirs_buf, m, p, opts.iterations);
    let (report, steps) = {
        let mut res =
            WoodburyResolvent::new(f, &dirs, protected, opts.lambda, h, mbuf, &mut *scratch)?;
        let factor = Factor {
            f,
            lower: false,
            dual: Dual {
                tri: nystrom.landmark_factor(),
                lookup: None,
                scatter: Some(landmarks),
            },
        };
        iterate(
            factor,
            protected,
            &opts,
            frobenius(f),
            &mut res,
            &mut dirs,
            steps,
            &mut *scratch,
        )?
    };
    if let Some(out) = out {
        write_kernel(f, &dirs, &steps, out, g_buf, scratch)?;
    }
    Ok((steps, report))
}

/// The pieces of the iteration scratch.
struct IterationBuffers<'w, T> {
    wt: &'w mut [T],
    v: &'w mut [T],
    col: &'w mut [T],
    inner: &'w mut [T],
}

/// Carves the iteration scratch for `n` points, rank `r`, `p` attributes:
/// `alpha` (`n x p`) and the rest.
fn iteration_buffers<T>(
    scratch: &mut [T],
    n: usize,
    r: usize,
    p: usize,
    cap: usize,
) -> Result<(&mut [T], IterationBuffers<'_, T>)> {
    let total = iteration_scratch_len(n, r, p, cap);
    let mut ws = Workspace::new(scratch, total)?;
    let fixed = n * p + r * p + 2 * r;
    let alpha = ws.take(n * p)?;
    Ok((
        alpha,
        IterationBuffers {
            wt: ws.take(r * p)?,
            v: ws.take(r)?,
            col: ws.take(r)?,
            inner: ws.take(total - fixed)?,
        },
    ))
}

/// The iterations shared by both modes (see the module documentation).
#[allow(clippy::too_many_arguments)]
fn iterate<'s, T: Real, R: Resolvent<T>>(
    factor: Factor<'_, T>,
    protected: MatRef<'_, T>,
    opts: &FairOptions<T>,
    f_norm: T,
    res: &mut R,
    dirs: &mut Directions<'_, T>,
    steps: &'s mut [T],
    scratch: &mut [T],
) -> Result<(FairReport<T>, FairSteps<'s, T>)> {
    let f = factor.f;
    let (n, r) = f.shape();
    let p = protected.ncols();
    let cap = direction_capacity(r, p, opts.iterations);
    let (alpha_buf, mut b) = iteration_buffers(scratch, n, r, p, cap)?;
    let mut report = FairReport {
        applied: 0,
        rank: r,
        directions: 0,
        refactorizations: 0,
        lambda: opts.lambda,
    };
    // w = P F^T alpha carries rounding noise of about eps |F| |alpha|: a
    // direction below n eps |F|_F |alpha| in norm is that noise, and
    // nothing predictive is left in it. (After a projection `alpha` has
    // large components along the removed directions, which the projection
    // cancels in `w`; the floor scales with them, as the noise does.)
    // Norms, not squares: |alpha|^2 underflows for a K near the overflow
    // threshold, |F|_F^2 overflows.
    let floor = T::from_usize(n.max(1)) * T::EPS * f_norm;
    for j in 0..opts.iterations {
        let alpha = MatMut::from_row_major(&mut *alpha_buf, n, p)?;
        res.alpha(factor, dirs, alpha, &mut *b.wt, &mut *b.inner)?;
        unit_columns(factor, alpha_buf, p, &mut b);
        let alpha = MatRef::from_row_major(&*alpha_buf, n, p)?;
        if r == 0 || !feature_directions(factor, alpha, dirs, floor, &mut b)? {
            break;
        }
        let slot = &mut steps[j * step_len(n, p)..(j + 1) * step_len(n, p)];
        let added = add_directions(factor, alpha, floor, dirs, res, slot, &mut b)?;
        report.directions += added.0;
        report.refactorizations += added.1;
        report.applied = j + 1;
    }
    let len = report.applied * step_len(n, p);
    Ok((
        report,
        FairSteps {
            data: &steps[..len],
            n,
            p,
            applied: report.applied,
        },
    ))
}

/// Scales each column of `alpha` (`n x p`, row-major) to a largest entry
/// of one, only its direction mattering, and its `w_c = F^T alpha_c` (row
/// `c` of `b.wt`) with it: divided by the same factor, or recomputed from
/// the scaled column when it was near the underflow threshold (a kernel
/// far below `lambda` puts `F^T alpha` there, where its digits are lost).
fn unit_columns<T: Real>(
    factor: Factor<'_, T>,
    alpha: &mut [T],
    p: usize,
    b: &mut IterationBuffers<'_, T>,
) {
    let r = factor.f.ncols();
    let n = alpha.len() / p.max(1);
    let near_underflow = T::min_positive_value() / T::EPS;
    for (c, w) in b.wt.chunks_exact_mut(r.max(1)).take(p).enumerate() {
        let m = max_abs((0..n).map(|i| alpha[i * p + c]));
        if !(m > T::zero()) {
            continue;
        }
        let col = &mut b.inner[..n];
        for (i, x) in col.iter_mut().enumerate() {
            alpha[i * p + c] /= m;
            *x = alpha[i * p + c];
        }
        if max_abs(w.iter().copied()) >= near_underflow {
            w.iter_mut().for_each(|v| *v /= m);
        } else {
            factor.mul_transpose(col, w);
        }
    }
}

/// Rows of `W^T`: `w_c = P F^T alpha_c` for each attribute, in place on
/// `b.wt` (holding `F^T alpha_c`);
/// `false` when every one is at rounding level (nothing predictive left).
fn feature_directions<T: Real>(
    factor: Factor<'_, T>,
    alpha: MatRef<'_, T>,
    dirs: &Directions<'_, T>,
    floor: T,
    b: &mut IterationBuffers<'_, T>,
) -> Result<bool> {
    let r = factor.f.ncols();
    let mut predictive = false;
    for (c, w) in b.wt.chunks_exact_mut(r).enumerate() {
        dirs.project(w);
        predictive |= scaled_norm(w.iter().copied()) > threshold(alpha, c, floor);
    }
    Ok(predictive)
}

/// `n eps |F|_F |alpha_c|` (as `floor |alpha_c|`): a direction below
/// it in norm is rounding.
fn threshold<T: Real>(alpha: MatRef<'_, T>, c: usize, floor: T) -> T {
    floor * scaled_norm((0..alpha.nrows()).map(|i| alpha.at(i, c)))
}

/// Orthonormalizes the rows of `W^T` (already orthogonal to the earlier
/// directions) among themselves and removes each direction `w` left above
/// its threshold, storing its dual vector and `F w` in `slot` (zeros for a
/// dropped one). Returns the directions added and the refactorizations.
/// When projecting against this iteration's directions more than halves a
/// row, what is left can hold the earlier projection's rounding, magnified:
/// it is then projected against every direction again.
fn add_directions<T: Real, R: Resolvent<T>>(
    factor: Factor<'_, T>,
    alpha: MatRef<'_, T>,
    floor: T,
    dirs: &mut Directions<'_, T>,
    res: &mut R,
    slot: &mut [T],
    b: &mut IterationBuffers<'_, T>,
) -> Result<(usize, usize)> {
    let f = factor.f;
    let (n, r) = f.shape();
    let (duals, values) = slot.split_at_mut(slot.len() / 2);
    let first = dirs.count;
    let (mut added, mut refactored) = (0, 0);
    for c in 0..alpha.ncols() {
        let dual = &mut duals[c * n..(c + 1) * n];
        let value = &mut values[c * n..(c + 1) * n];
        b.v.copy_from_slice(&b.wt[c * r..(c + 1) * r]);
        let before = scaled_norm(b.v.iter().copied());
        dirs.project_since(first, b.v);
        let mut norm = scaled_norm(b.v.iter().copied());
        if norm < before / T::from_f64(2.0) {
            // cancellation: the earlier projection's rounding is now large
            // relative to what is left
            dirs.project(b.v);
            norm = scaled_norm(b.v.iter().copied());
        }
        if !(norm > threshold(alpha, c, floor)) || !dirs.has_room() {
            dual.fill(T::zero());
            value.fill(T::zero());
            continue;
        }
        b.v.iter_mut().for_each(|x| *x /= norm);
        dirs.push(b.v)?;
        factor.values_and_dual(b.v, value, b.col, dual)?;
        refactored += usize::from(res.remove(f, dirs, b.v, value, &mut *b.inner)?);
        added += 1;
    }
    Ok((added, refactored))
}

/// `out <- G G^T` with `G = F P` (both triangles, exactly symmetric), using
/// `g_buf` (`n r`) and `scratch`. `F W` is read from the values the steps
/// kept (`u_l = F w_l`, in the order the directions were removed).
fn write_kernel<T: Real>(
    f: MatRef<'_, T>,
    dirs: &Directions<'_, T>,
    steps: &FairSteps<'_, T>,
    mut out: MatMut<'_, T>,
    g_buf: &mut [T],
    scratch: &mut [T],
) -> Result<()> {
    let (n, r) = f.shape();
    let g_buf = &mut g_buf[..n * r];
    let (fw, rest) = scratch.split_at_mut(n * dirs.count);
    if gather_removed_values(steps, fw) == dirs.count {
        let fw = MatRef::from_row_major(fw, n, dirs.count)?;
        dirs.subtract_projection(f, fw, g_buf, rest)?;
    } else {
        dirs.project_factor(f, g_buf, scratch)?;
    }
    let g = MatRef::from_row_major(g_buf, n, r)?;
    crate::dense::gram_lower(out.rb_mut(), T::one(), g, T::zero(), &mut *scratch)?;
    for i in 0..n {
        for j in 0..i {
            *out.at_mut(j, i) = out.at(i, j);
        }
    }
    Ok(())
}

/// Copies the value vectors of the removed directions (the non-zero ones:
/// a dropped direction keeps zeros) as the columns of the row-major `n x t`
/// `fw`, as far as they fit; returns how many there were.
fn gather_removed_values<T: Real>(steps: &FairSteps<'_, T>, fw: &mut [T]) -> usize {
    let n = steps.n();
    let t = fw.len() / n.max(1);
    let mut count = 0;
    for j in 0..steps.applied() {
        let Some((_, values)) = steps.get(j) else {
            break;
        };
        for c in 0..values.ncols() {
            if (0..n).all(|i| values.at(i, c) == T::zero()) {
                continue;
            }
            if count < t {
                for i in 0..n {
                    fw[i * t + count] = values.at(i, c);
                }
            }
            count += 1;
        }
    }
    count
}

/// The feature factor `F` (`n x r`), whether it is lower triangular (the
/// Cholesky factor of a full-rank `K`, so that its products read only what
/// can be non-zero), and how directions become dual vectors.
#[derive(Clone, Copy)]
struct Factor<'a, T> {
    f: MatRef<'a, T>,
    lower: bool,
    dual: Dual<'a, T>,
}

/// The rows `S` of `F` where it is triangular, `F_S` (`r x r`, lower
/// triangular with a positive diagonal): a direction `w` has the dual
/// vector `a` with `a[S] = F_S^{-T} w` and zeros elsewhere, so that
/// `F^T a = w` (and `a . k_x = <phi(x), w>` for points in the span of
/// `S`).
#[derive(Clone, Copy)]
struct Dual<'a, T> {
    /// `F_S`, or the matrix whose rows `lookup` are `F_S`.
    tri: MatRef<'a, T>,
    lookup: Option<&'a [usize]>,
    /// `S` (`None`: `0..r`).
    scatter: Option<&'a [usize]>,
}

impl<T: Real> Dual<'_, T> {
    /// `out <- a` (length `n`) for the direction `w` (length `r`), using
    /// `y` (length `>= r`): `r^2` flops.
    fn solve(&self, w: &[T], y: &mut [T], out: &mut [T]) -> Result<()> {
        let y = &mut y[..w.len()];
        y.copy_from_slice(w);
        match self.lookup {
            None => Cholesky::from_factor_unchecked(self.tri)
                .solve_upper_in_place(y)
                .map_err(|_| dual_overflow())?,
            Some(rows) => back_substitute_rows(self.tri, rows, y)?,
        }
        out.fill(T::zero());
        match self.scatter {
            None => out[..y.len()].copy_from_slice(y),
            Some(rows) => rows.iter().zip(y.iter()).for_each(|(&i, &v)| out[i] = v),
        }
        Ok(())
    }
}

/// A dual vector that is not representable.
fn dual_overflow() -> Error {
    Error::Overflow {
        what: "the dual vector of a removed direction",
    }
}

/// `y <- L^{-T} y` for the lower triangular `L[i, j] = tri[rows[i], j]`.
///
/// # Errors
/// [`Error::Overflow`] if the solution is not representable.
fn back_substitute_rows<T: Real>(tri: MatRef<'_, T>, rows: &[usize], y: &mut [T]) -> Result<()> {
    for i in (0..y.len()).rev() {
        let s = (i + 1..y.len()).fold(y[i], |s, j| s - tri.at(rows[j], i) * y[j]);
        y[i] = s / tri.at(rows[i], i);
        if !y[i].is_finite() {
            return Err(dual_overflow());
        }
    }
    Ok(())
}

impl<T: Real> Factor<'_, T> {
    /// Which part of `F` its products read.
    fn shape(&self) -> Shape {
        if self.lower {
            Shape::Lower
        } else {
            Shape::Full
        }
    }

    /// `values <- F w` and `dual <-` the dual vector of `w` (see [`Dual`]),
    /// `y` (length `>= r`) as scratch. A square lower-triangular `F` (the
    /// Cholesky factor of a full-rank `K`) is read once for both.
    fn values_and_dual(
        &self,
        w: &[T],
        values: &mut [T],
        y: &mut [T],
        dual: &mut [T],
    ) -> Result<()> {
        let (n, r) = self.f.shape();
        if self.lower && n == r && self.dual.lookup.is_none() && self.dual.scatter.is_none() {
            crate::level2::mul_and_solve_upper(self.f, w, values, dual);
            return match dual.iter().all(|x| x.is_finite()) {
                true => Ok(()),
                false => Err(dual_overflow()),
            };
        }
        self.mul(w, values);
        self.dual.solve(w, y, dual)
    }

    /// `y <- F x`.
    fn mul(&self, x: &[T], y: &mut [T]) {
        crate::level2::gemv(self.f, self.shape(), x, y);
    }

    /// `y <- F^T x`.
    fn mul_transpose(&self, x: &[T], y: &mut [T]) {
        crate::level2::gemv_transpose(self.f, self.shape(), x, y);
    }
}
