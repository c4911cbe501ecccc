//! Cholesky factorization with a growing diagonal shift ("jitter"), the
//! usual remedy for kernel matrices that are positive semidefinite in exact
//! arithmetic but fail to factor in floating point.
// Pivot tests are written `!(x > 0)` on purpose: NaN must fail them.
use super::{Cholesky, CholeskyMut, cholesky_in_place, cholesky_in_place_workspace_len};
use crate::error::{Error, Result, require};
use crate::real::Real;
use crate::view::MatMut;
use crate::workspace::{Workspace, add};

/// At most this many shifted attempts are allowed by a schedule.
const MAX_SHIFTS: usize = 64;

/// The jitter schedule of [`cholesky_jitter_in_place`]: shifts
/// `s = initial * m, initial * growth * m, ...` while `s <= max * m`, where
/// `m` is the mean diagonal of `A`.
///
/// [`Default`] gives `initial = 10 eps`, `growth = 10`, `max = 1e-2`
/// (`eps` the machine epsilon of `T`):
/// - `initial`: a shift below a few ulps of the diagonal is lost when added
///   to it, and the rounding noise of a factorization is of order
///   `eps ||A||` per entry, so `10 eps` is the smallest shift that
///   reliably matters; the size dependence of the noise (a factor up to
///   `n`) is covered by growing the shift, so a well-conditioned matrix is
///   never perturbed more than it needs.
/// - `growth = 10`: one decade per attempt keeps the number of failed
///   factorizations small (13 for `f64`, 4 for `f32`) while overshooting
///   the needed shift by at most a factor of 10.
/// - `max = 1e-2`: a shift of 1% of the mean diagonal already changes the
///   model (e.g. the noise variance of a Gaussian process) noticeably;
///   beyond that the caller should regularize explicitly rather than have
///   it done silently.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterOptions<T> {
    /// First shift, relative to the mean diagonal; `> 0`.
    pub initial: T,
    /// Factor between successive shifts; `> 1`.
    pub growth: T,
    /// Largest shift tried, relative to the mean diagonal; `>= initial`.
    pub max: T,
}

impl<T: Real> Default for JitterOptions<T> {
    fn default() -> Self {
        Self {
            initial: T::from_f64(10.0) * T::EPS,
            growth: T::from_f64(10.0),
            max: T::from_f64(1e-2),
        }
    }
}

impl<T: Real> JitterOptions<T> {
    /// Checks the schedule: finite, `initial > 0`, `growth > 1`,
    /// `max >= initial`, and at most 64 shifted attempts.
    fn validate(&self) -> Result<()> {
        let finite = self.initial.is_finite() && self.growth.is_finite() && self.max.is_finite();
        require(finite, "jitter options", "must be finite")?;
        require(self.initial > T::zero(), "initial", "must be > 0")?;
        require(self.growth > T::one(), "growth", "must be > 1")?;
        require(self.max >= self.initial, "max", "must be >= initial")?;
        // Shifts tried: 1 + floor(log(max / initial) / log(growth)).
        let steps = (self.max.ln() - self.initial.ln()) / self.growth.ln();
        require(
            steps < T::from_usize(MAX_SHIFTS),
            "growth",
            "must reach max from initial in at most 64 shifts",
        )
    }
}

/// Workspace length of [`cholesky_jitter_in_place`] for order `n`: `n` to
/// keep the original diagonal plus
/// [`cholesky_in_place_workspace_len`]`(n)`.
pub const fn cholesky_jitter_in_place_workspace_len(n: usize) -> usize {
    add(n, cholesky_in_place_workspace_len(n))
}

/// Factors `A + s I = L L^T` in place with the smallest shift `s` of a
/// schedule that works, and returns the factor and `s`.
///
/// First tries `A` itself (`s = 0`). On [`Error::NotPositiveDefinite`] it
/// retries with `s = initial * m`, then `s *= growth`, as long as
/// `s <= max * m`, where `m = mean(diag A)`. Each attempt is a
/// [`cholesky_in_place`]: cost `n^3 / 3` flops per attempt, at most
/// `2 + log(max / initial) / log(growth)` attempts (a failing attempt often
/// stops early). Reads the lower triangle of `a`; on success the lower
/// triangle holds `L` and the strictly upper triangle the transpose of the
/// input's strictly lower triangle, as in [`cholesky_in_place`]. Workspace
/// [`cholesky_jitter_in_place_workspace_len`]`(n)`.
///
/// # Errors
/// - [`Error::DimensionMismatch`] if `a` is not square;
/// - [`Error::WorkspaceTooSmall`];
/// - [`Error::NonFinite`] for a non-finite lower triangle (nothing written);
/// - [`Error::InvalidParameter`] for non-finite options, `initial <= 0`,
///   `growth <= 1`, `max < initial`, a schedule of more than 64 shifts, or
///   (for `n > 0`) a mean diagonal that is not positive (nothing written);
/// - [`Error::NotPositiveDefinite`] from the last attempt when even the
///   largest shift fails; the lower triangle, diagonal included, is then
///   restored bit for bit (the upper triangle as in [`cholesky_in_place`]).
///
/// ```
/// use gramkit::{MatMut, cholesky::{JitterOptions, cholesky_jitter_in_place, cholesky_jitter_in_place_workspace_len}};
/// // Singular (rank one): plain Cholesky fails, a tiny shift fixes it.
/// let mut a = [1.0, 1.0, 1.0, 1.0];
/// let mut ws = [0.0; cholesky_jitter_in_place_workspace_len(2)];
/// let a = MatMut::from_row_major(&mut a, 2, 2)?;
/// let (chol, jitter) = cholesky_jitter_in_place(a, JitterOptions::default(), &mut ws)?;
/// assert!(jitter > 0.0 && jitter < 1e-10);
/// assert!(chol.l().get(1, 1).is_some_and(|l11| l11 > 0.0));
/// # Ok::<(), gramkit::Error>(())
/// ```
pub fn cholesky_jitter_in_place<'a, T: Real>(
    mut a: MatMut<'a, T>,
    opts: JitterOptions<T>,
    ws: &mut [T],
) -> Result<(CholeskyMut<'a, T>, T)> {
    let n = a.rb().square_order("cholesky jitter: columns of A")?;
    let mut ws = Workspace::new(ws, cholesky_jitter_in_place_workspace_len(n))?;
    a.rb().check_finite_lower("A")?;
    opts.validate()?;
    let diag = ws.take(n)?;
    let chol_ws = ws.take(cholesky_in_place_workspace_len(n))?;
    for (i, d) in diag.iter_mut().enumerate() {
        *d = a.at(i, i);
    }
    let mean = mean_diagonal(diag)?;
    let mut last = match cholesky_in_place(a.rb_mut(), chol_ws) {
        Ok(_) => return Ok((Cholesky { l: a }, T::zero())),
        Err(e @ Error::NotPositiveDefinite { .. }) => e,
        Err(e) => return Err(e),
    };
    let cap = opts.max * mean;
    let mut s = opts.initial * mean;
    while s <= cap {
        set_shifted_diagonal(&mut a, diag, s);
        match cholesky_in_place(a.rb_mut(), chol_ws) {
            Ok(_) => return Ok((Cholesky { l: a }, s)),
            Err(e @ Error::NotPositiveDefinite { .. }) => last = e,
            // Only a diagonal entry overflowing by the shift gets here.
            Err(_) => break,
        }
        let next = s * opts.growth;
        if !(next > s) {
            break; // no progress (subnormal shift)
        }
        s = next;
    }
    set_shifted_diagonal(&mut a, diag, T::zero());
    Err(last)
}

/// `mean(diag A)` as `sum d_i / n` (no overflow); 0 for `n = 0`.
fn mean_diagonal<T: Real>(diag: &[T]) -> Result<T> {
    if diag.is_empty() {
        return Ok(T::zero());
    }
    let n = T::from_usize(diag.len());
    let mean: T = diag.iter().map(|&d| d / n).sum();
    require(
        mean > T::zero(),
        "A",
        "mean diagonal must be positive for a relative jitter",
    )?;
    Ok(mean)
}

/// `a_ii <- d_i + s` (exactly `d_i` for `s = 0`).
fn set_shifted_diagonal<T: Real>(a: &mut MatMut<'_, T>, diag: &[T], s: T) {
    for (i, &d) in diag.iter().enumerate() {
        *a.at_mut(i, i) = if s == T::zero() { d } else { d + s };
    }
}
