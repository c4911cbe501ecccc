//! The Nystroem approximation of a kernel matrix and the Woodbury form of
//! `(K~ + lambda I)^{-1}`.
//!
//! With landmarks `S` (`m` indices), `C = K[:, S]` and `W = K[S, S] = L_W
//! L_W^T`, the Nystroem approximation is `K~ = C W^{-1} C^T = B B^T` with
//! `B = C L_W^{-T}` (`n x m`). By the matrix inversion lemma
//!
//! ```text
//! (B B^T + lambda I)^{-1} = (I - B (lambda I + B^T B)^{-1} B^T) / lambda
//! ```
//!
//! which needs one `m x m` Cholesky of `lambda I + B^T B` (`>= lambda I`,
//! positive definite): setup `O(n m^2)`, each application `O(n m)`, no
//! `n x n` matrix. Accuracy: with `kappa = (|K~|_2 + lambda) / lambda`,
//! the subtraction costs about `log10(kappa)` digits of the solution, as
//! any solver of a system of that condition does; for `kappa` beyond
//! `1 / eps` (`lambda` below the rounding level of `K~`) the result has no
//! correct digit. With `m = n` landmarks `K~ = K` and the inverse is exact. A
//! pivoted (partial) Cholesky of `K` stopped at rank `m` chooses the
//! landmarks greedily and gives `B` directly ([`NystromInverse::greedy`]).

use crate::cholesky::{
    CholeskyRef, JitterOptions, PivotedOptions, SymmetricSource, cholesky_in_place,
    cholesky_in_place_workspace_len, cholesky_jitter_in_place,
    cholesky_jitter_in_place_workspace_len, pivoted_cholesky_workspace_len, pivoted_factor,
};
use crate::dense::{matmul, matmul_workspace_len};
use crate::error::{Error, Result, expect_dim, require};
use crate::op::{LinearOperator, LogDet, Solve};
use crate::real::Real;
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, add, mul};

/// `B[S] <- L_W`: the landmark rows of `B = C L_W^{-T}` are exactly
/// `W L_W^{-T} = L_W` when no jitter was added, where the triangular solve
/// would give them with an error amplified by the condition of `L_W`.
fn set_landmark_rows<T: Real>(b: &mut [T], m: usize, landmarks: &[usize], l_w: MatRef<'_, T>) {
    for (a, &s) in landmarks.iter().enumerate() {
        for (c, v) in b[s * m..(s + 1) * m].iter_mut().enumerate() {
            *v = if c <= a { l_w.at(a, c) } else { T::zero() };
        }
    }
}

/// Storage length of a [`NystromInverse`] with `n` points and up to `m`
/// landmarks: `n m` for `B`, `m^2` for the Cholesky factor of
/// `lambda I + B^T B`, `m^2` for the Cholesky factor `L_W` of `W`.
pub const fn nystrom_storage_len(n: usize, m: usize) -> usize {
    add(mul(n, m), mul(2, mul(m, m)))
}

/// Workspace length of [`NystromInverse::from_landmarks`] and
/// [`NystromInverse::greedy`] for `n` points and `m` landmarks: the largest
/// scratch of the steps that follow one another (the factorization of `W`,
/// the pivoted Cholesky, the product `B^T B`).
pub const fn nystrom_workspace_len(n: usize, m: usize) -> usize {
    step_scratch_len(n, m)
}

/// The scratch reused by the setup steps.
const fn step_scratch_len(n: usize, m: usize) -> usize {
    let a = cholesky_jitter_in_place_workspace_len(m);
    let b = pivoted_cholesky_workspace_len(n);
    let c = matmul_workspace_len(m, m, n);
    let d = cholesky_in_place_workspace_len(m);
    let ab = if a > b { a } else { b };
    let cd = if c > d { c } else { d };
    if ab > cd { ab } else { cd }
}

/// `(K~ + lambda I)^{-1}` for the Nystroem approximation `K~ = B B^T` of a
/// kernel matrix, applied in `O(n m)` (see the [module documentation](self)).
///
/// As an operator it is `K~ + lambda I` ([`LinearOperator`]), its solve is
/// the Woodbury inverse ([`Solve`]) and [`LogDet`] gives
/// `log|K~ + lambda I| = log|lambda I + B^T B| + (n - m) log lambda`. So it
/// serves as a preconditioner for [`conjugate_gradient`](crate::op::conjugate_gradient)
/// on the exact `K + lambda I`.
///
/// ```
/// use gramkit::cholesky::FnSource;
/// use gramkit::nystrom::{NystromInverse, nystrom_storage_len, nystrom_workspace_len};
/// use gramkit::op::Solve;
/// let x: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
/// let k = FnSource::new(50, |i: usize, j: usize| (-0.5 * (x[i] - x[j]).powi(2)).exp());
/// let mut storage = vec![0.0; nystrom_storage_len(50, 10)];
/// let mut ws = vec![0.0; nystrom_workspace_len(50, 10)];
/// // landmarks as a slice; here a fixed-capacity heapless::Vec
/// let landmarks: heapless::Vec<usize, 16> = (0..50).step_by(5).collect();
/// let inv = NystromInverse::from_landmarks(&k, &landmarks, 0.1, &mut storage, &mut ws)?;
/// let mut b = vec![1.0; 50];
/// inv.solve_in_place(&mut b, &mut vec![0.0; inv.solve_workspace_len()])?;
/// assert!(b.iter().all(|v| v.is_finite()));
/// # Ok::<(), gramkit::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct NystromInverse<'s, T> {
    b: MatRef<'s, T>,
    l_m: MatRef<'s, T>,
    l_w: MatRef<'s, T>,
    lambda: T,
    jitter: T,
}

impl<'s, T: Real> NystromInverse<'s, T> {
    /// Builds the Nystroem approximation on the given landmarks: `n m`
    /// kernel evaluations, `O(n m^2)` flops. `W` is factored with jitter when
    /// it is numerically singular ([`jitter`](Self::jitter) reports the
    /// shift). Without jitter the landmark rows of `B` are set to `L_W`
    /// (what `W L_W^{-T}` equals), so `K~` reproduces `K[S, S]` to rounding
    /// however ill-conditioned `W` is. Storage [`nystrom_storage_len`]`(n, m)`, workspace
    /// [`nystrom_workspace_len`]`(n, m)`.
    ///
    /// # Errors
    /// - [`Error::InvalidParameter`] for `lambda <= 0` or non-finite,
    ///   duplicate landmarks, or no landmark;
    /// - [`Error::DimensionMismatch`] for a landmark index `>= n`;
    /// - [`Error::NonFinite`] for a non-finite kernel entry;
    /// - [`Error::WorkspaceTooSmall`] for short storage or workspace;
    /// - [`Error::NotPositiveDefinite`] when `W` does not factor even with
    ///   the largest jitter (the kernel is not positive semi-definite);
    /// - [`Error::Overflow`] if an entry of `B = K_nm L_W^{-T}` or of
    ///   `lambda I + B^T B` is not representable.
    pub fn from_landmarks<S: SymmetricSource<T> + ?Sized>(
        kernel: &S,
        landmarks: &[usize],
        lambda: T,
        storage: &'s mut [T],
        ws: &mut [T],
    ) -> Result<Self> {
        let n = kernel.dim()?;
        let m = landmarks.len();
        check_lambda(lambda)?;
        check_landmarks(landmarks, n)?;
        let (b_buf, lm_buf, w) = split_storage(storage, n, m)?;
        let mut ws = Workspace::new(ws, nystrom_workspace_len(n, m))?;
        read_columns(kernel, landmarks, b_buf, n)?;
        let scratch = ws.take(step_scratch_len(n, m))?;
        for (a, &sa) in landmarks.iter().enumerate() {
            w[a * m..(a + 1) * m].copy_from_slice(&b_buf[sa * m..(sa + 1) * m]);
        }
        let (l_w, jitter) = cholesky_jitter_in_place(
            MatMut::from_row_major(w, m, m)?,
            JitterOptions::default(),
            scratch,
        )?;
        // B^T = L_W^{-1} C^T, column by column of the row-major C
        l_w.solve_lower_matrix_in_place(MatMut::from_strided(b_buf, m, n, 1, m)?)?;
        if jitter == T::zero() {
            set_landmark_rows(b_buf, m, landmarks, l_w.l());
        }
        let b = MatRef::from_row_major(b_buf, n, m)?;
        let l_m = woodbury_factor(b, lambda, lm_buf, scratch)?;
        Ok(Self {
            b,
            l_m,
            l_w: l_w.into_storage().into_ref(),
            lambda,
            jitter,
        })
    }

    /// Chooses up to `m` landmarks greedily by pivoted Cholesky (largest
    /// remaining diagonal first), stopping early when the trace of `K - K~`
    /// falls below `tolerance * trace(K)`; `B` is the pivoted factor itself.
    /// Writes the pivot order into `pivots` (length `n`; the first
    /// [`rank`](Self::rank) entries are the landmarks). `n m` kernel
    /// evaluations, `O(n m^2)` flops; storage and workspace as
    /// [`from_landmarks`](Self::from_landmarks).
    ///
    /// # Errors
    /// As [`from_landmarks`](Self::from_landmarks), plus
    /// [`Error::DimensionMismatch`] if `pivots.len() != n`.
    pub fn greedy<S: SymmetricSource<T> + ?Sized>(
        kernel: &S,
        m: usize,
        tolerance: T,
        lambda: T,
        pivots: &mut [usize],
        storage: &'s mut [T],
        ws: &mut [T],
    ) -> Result<Self> {
        let n = kernel.dim()?;
        check_lambda(lambda)?;
        require(m >= 1 && m <= n.max(1), "m", "must be between 1 and n")?;
        let (b_buf, lm_buf, lw_buf) = split_storage(storage, n, m)?;
        let mut ws = Workspace::new(ws, nystrom_workspace_len(n, m))?;
        let scratch = ws.take(step_scratch_len(n, m))?;
        let g = MatMut::from_row_major(b_buf, n, m)?;
        let opts = PivotedOptions {
            max_rank: m,
            tolerance,
        };
        let rank = pivoted_factor(kernel, opts, pivots, g, scratch)?.rank;
        let b = MatRef::from_strided(b_buf, n, rank, m, 1)?;
        let l_m = woodbury_factor(b, lambda, &mut lm_buf[..rank * rank], scratch)?;
        // the pivot rows of B are the Cholesky factor of K[S, S]
        let mut l_w = MatMut::from_row_major(&mut lw_buf[..rank * rank], rank, rank)?;
        for (a, &s) in pivots[..rank].iter().enumerate() {
            for c in 0..rank {
                *l_w.at_mut(a, c) = b.at(s, c);
            }
        }
        Ok(Self {
            b,
            l_m,
            l_w: l_w.into_ref(),
            lambda,
            jitter: T::zero(),
        })
    }

    /// `B` (`n x m`), with `K~ = B B^T`.
    pub fn factor(&self) -> MatRef<'s, T> {
        self.b
    }

    /// `L_W` (`m x m`, lower triangular): the Cholesky factor of
    /// `W + jitter I` with `W = K[S, S]`. A point `x` has the Nystroem
    /// features `L_W^{-1} k_{x,S}` (its kernel values against the
    /// landmarks, in landmark order; for [`greedy`](Self::greedy), the
    /// pivot order), which are the rows of `B` for the training points.
    pub fn landmark_factor(&self) -> MatRef<'s, T> {
        self.l_w
    }

    /// Number of landmarks actually used (`m`, or less when
    /// [`greedy`](Self::greedy) stopped at its tolerance).
    pub fn rank(&self) -> usize {
        self.b.ncols()
    }

    /// The regularization `lambda`.
    pub fn lambda(&self) -> T {
        self.lambda
    }

    /// The diagonal shift that was added to `W` to factor it (0 if none).
    pub fn jitter(&self) -> T {
        self.jitter
    }

    /// `x <- (K~ + lambda I)^{-1} x = (x - B M^{-1} B^T x) / lambda`, using
    /// `t` (length `m`): `4 n m + 2 m^2` flops.
    fn inverse_in_place(&self, x: &mut [T], t: &mut [T]) -> Result<()> {
        self.b.transpose().apply(x, t, &mut [])?;
        CholeskyRef::from_factor(self.l_m)?.solve_in_place(t)?;
        let inv = self.lambda.recip();
        for (i, xi) in x.iter_mut().enumerate() {
            let bt = (0..t.len()).fold(T::zero(), |s, k| s + self.b.at(i, k) * t[k]);
            *xi = (*xi - bt) * inv;
        }
        crate::view::finite_or_overflow(x, "the Nystroem-Woodbury solution")
    }
}

/// `M = lambda I + B^T B` into `buf` (`m x m`) and its Cholesky factor in
/// place.
fn woodbury_factor<'s, T: Real>(
    b: MatRef<'_, T>,
    lambda: T,
    buf: &'s mut [T],
    scratch: &mut [T],
) -> Result<MatRef<'s, T>> {
    let m = b.ncols();
    let mut mm = MatMut::from_row_major(buf, m, m)?;
    matmul(mm.rb_mut(), T::one(), b.transpose(), b, T::zero(), scratch)?;
    for i in 0..m {
        if let Some(d) = mm.get_mut(i, i) {
            *d += lambda;
        }
    }
    Ok(cholesky_in_place(mm, scratch)?.into_storage().into_ref())
}

/// `lambda` must be positive and finite.
fn check_lambda<T: Real>(lambda: T) -> Result<()> {
    require(
        lambda > T::zero() && lambda.is_finite(),
        "lambda",
        "must be positive and finite",
    )
}

/// Landmarks must be non-empty, below `n` and distinct.
pub(crate) fn check_landmarks(landmarks: &[usize], n: usize) -> Result<()> {
    require(
        !landmarks.is_empty(),
        "landmarks",
        "at least one landmark is needed",
    )?;
    if let Some(&bad) = landmarks.iter().find(|&&s| s >= n) {
        return Err(Error::DimensionMismatch {
            what: "landmark index (must be below the number of points)",
            expected: n,
            got: bad,
        });
    }
    let duplicate = landmarks
        .iter()
        .enumerate()
        .any(|(a, s)| landmarks[..a].contains(s));
    require(!duplicate, "landmarks", "indices must be distinct")
}

/// The caller's storage as `B` (`n m`) and the two `m x m` factors.
type Storage<'a, T> = (&'a mut [T], &'a mut [T], &'a mut [T]);

/// Splits the caller's storage into `B` (`n m`) and the two `m x m`
/// factors.
fn split_storage<T>(storage: &mut [T], n: usize, m: usize) -> Result<Storage<'_, T>> {
    let mut ws = Workspace::new(storage, nystrom_storage_len(n, m))?;
    Ok((ws.take(n * m)?, ws.take(m * m)?, ws.take(m * m)?))
}

/// `C = K[:, S]` row-major into `out` (`n x m`), checking finiteness.
fn read_columns<T: Real, S: SymmetricSource<T> + ?Sized>(
    kernel: &S,
    landmarks: &[usize],
    out: &mut [T],
    n: usize,
) -> Result<()> {
    let m = landmarks.len();
    for i in 0..n {
        for (j, &s) in landmarks.iter().enumerate() {
            let v = kernel.entry(i, s);
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    argument: "kernel",
                    row: i,
                    col: s,
                });
            }
            out[i * m + j] = v;
        }
    }
    Ok(())
}

impl<T: Real> LinearOperator<T> for NystromInverse<'_, T> {
    fn nrows(&self) -> usize {
        self.b.nrows()
    }
    fn ncols(&self) -> usize {
        self.b.nrows()
    }
    /// `m` for `B^T x`.
    fn apply_workspace_len(&self) -> usize {
        self.rank()
    }
    /// `y <- (K~ + lambda I) x = B (B^T x) + lambda x`, `4 n m` flops.
    fn apply(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        let n = self.b.nrows();
        expect_dim("Nystroem apply: length of x", n, x.len())?;
        expect_dim("Nystroem apply: length of y", n, y.len())?;
        check_finite_slice(x, "x")?;
        let mut ws = Workspace::new(ws, self.rank())?;
        let t = ws.take(self.rank())?;
        self.b.transpose().apply(x, t, &mut [])?;
        self.b.apply(t, y, &mut [])?;
        for (yi, &xi) in y.iter_mut().zip(x) {
            *yi += self.lambda * xi;
        }
        crate::view::finite_or_overflow(y, "the Nystroem product")
    }
    /// Symmetric.
    fn apply_transpose(&self, x: &[T], y: &mut [T], ws: &mut [T]) -> Result<()> {
        self.apply(x, y, ws)
    }
}

impl<T: Real> Solve<T> for NystromInverse<'_, T> {
    /// `m`.
    fn solve_workspace_len(&self) -> usize {
        self.rank()
    }
    /// `b <- (K~ + lambda I)^{-1} b` by the Woodbury form, `4 n m + 2 m^2`
    /// flops.
    fn solve_in_place(&self, b: &mut [T], ws: &mut [T]) -> Result<()> {
        expect_dim("Nystroem solve: length of b", self.b.nrows(), b.len())?;
        check_finite_slice(b, "b")?;
        let mut ws = Workspace::new(ws, self.rank())?;
        self.inverse_in_place(b, ws.take(self.rank())?)
    }
}

impl<T: Real> LogDet<T> for NystromInverse<'_, T> {
    /// `log|lambda I_m + B^T B| + (n - m) log lambda` (matrix determinant
    /// lemma).
    fn log_det(&self) -> Result<T> {
        let n = self.b.nrows();
        let m = self.rank();
        let chol = CholeskyRef::from_factor(self.l_m)?;
        Ok(chol.log_det() + T::from_usize(n - m) * self.lambda.ln())
    }
}
