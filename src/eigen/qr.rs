//! Implicit symmetric tridiagonal QR with Wilkinson shifts (Golub & Van
//! Loan, alg. 8.3.2 and 8.3.3).
//!
//! The unreduced block `l..=m` at the bottom of the active part is swept
//! with rotations `G_k` in the planes `(k, k + 1)`, `k = l..m`:
//! `T <- G_k^T T G_k`, the first chosen from the shifted column
//! `(d_l - mu, e_l)`, the others chasing the bulge down. An off-diagonal
//! entry is set to zero once `|e_i| <= eps |T|`; a `2 x 2` block is
//! diagonalized directly. The rotations are handed to a
//! [`RotationSink`], which applies them to the eigenvectors (or drops them).

use crate::error::{Error, Result};
use crate::real::Real;

/// Receives the rotations of each sweep. A sweep over the block `l..=m`
/// is `m - l` rotations; rotation `i` acts on columns `k = l + i` and
/// `k + 1` of the eigenvector matrix `Z` as
/// `(z_k, z_{k+1}) <- (c z_k + s z_{k+1}, -s z_k + c z_{k+1})`.
pub(crate) trait RotationSink<T> {
    /// Slots for the cosines and sines of a sweep over `l..=m`, or `None`
    /// when the rotations are not kept.
    fn sweep(&mut self, l: usize, m: usize) -> Option<(&mut [T], &mut [T])>;
}

/// Drops the rotations (eigenvalues only).
pub(crate) struct Discard;

impl<T> RotationSink<T> for Discard {
    fn sweep(&mut self, _l: usize, _m: usize) -> Option<(&mut [T], &mut [T])> {
        None
    }
}

/// Diagonalizes the symmetric tridiagonal matrix with diagonal `d` (length
/// `n`) and subdiagonal `e[..n-1]`: on success `d` holds the eigenvalues
/// (unsorted) and `e` zeros. At most `max_sweeps` sweeps.
///
/// # Errors
/// [`Error::NoConvergence`] after `max_sweeps` sweeps.
pub(crate) fn tridiagonal_qr<T: Real, S: RotationSink<T>>(
    d: &mut [T],
    e: &mut [T],
    max_sweeps: usize,
    sink: &mut S,
) -> Result<()> {
    let n = d.len();
    if n < 2 || e.len() < n - 1 {
        return Ok(());
    }
    let threshold = T::EPS * infinity_norm(d, &e[..n - 1]);
    let negligible = |x: T| x.abs() <= threshold;
    let mut sweeps = 0;
    let mut m = n - 1;
    while m > 0 {
        if negligible(e[m - 1]) {
            e[m - 1] = T::zero();
            m -= 1;
            continue;
        }
        let mut l = m - 1;
        while l > 0 && !negligible(e[l - 1]) {
            l -= 1;
        }
        if l > 0 {
            e[l - 1] = T::zero();
        }
        if sweeps >= max_sweeps {
            return Err(Error::NoConvergence { iterations: sweeps });
        }
        sweeps += 1;
        if m - l == 1 {
            diagonalize_2x2(d, e, l, sink.sweep(l, m));
        } else {
            let mu = wilkinson_shift(d[m - 1], e[m - 1], d[m]);
            sweep(d, e, l, m, mu, sink.sweep(l, m));
        }
    }
    Ok(())
}

/// `max_i |e_{i-1}| + |d_i| + |e_i|`.
fn infinity_norm<T: Real>(d: &[T], e: &[T]) -> T {
    let mut norm = T::zero();
    let mut left = T::zero();
    for (i, &di) in d.iter().enumerate() {
        let right = e.get(i).map_or(T::zero(), |x| x.abs());
        norm = norm.max(left + di.abs() + right);
        left = right;
    }
    norm
}

/// The eigenvalue of `[[a, b], [b, c]]` closer to `c`:
/// `mu = c - b^2 / (delta + sign(delta) sqrt(delta^2 + b^2))`,
/// `delta = (a - c) / 2`.
fn wilkinson_shift<T: Real>(a: T, b: T, c: T) -> T {
    let delta = (a - c) * T::from_f64(0.5);
    let h = hypot(delta, b);
    let denom = if delta >= T::zero() {
        delta + h
    } else {
        delta - h
    };
    if denom == T::zero() {
        c
    } else {
        c - b * (b / denom)
    }
}

/// `sqrt(x^2 + y^2)`, falling back to the scaled `hypot` when the squares
/// leave the normal range.
#[inline(always)]
fn hypot<T: Real>(x: T, y: T) -> T {
    let r2 = x * x + y * y;
    if r2 >= T::min_positive_value() && r2 < T::max_value() {
        r2.sqrt()
    } else {
        x.hypot(y)
    }
}

/// `(c, s, r)` with `c x + s z = r`, `-s x + c z = 0`, `c^2 + s^2 = 1`.
#[inline(always)]
fn givens<T: Real>(x: T, z: T) -> (T, T, T) {
    if z == T::zero() {
        return (T::one(), T::zero(), x);
    }
    let r = hypot(x, z);
    let inv = r.recip();
    (x * inv, z * inv, r)
}

/// One implicit QR sweep with shift `mu` over the block `l..=m`.
fn sweep<T: Real>(
    d: &mut [T],
    e: &mut [T],
    l: usize,
    m: usize,
    mu: T,
    mut slots: Option<(&mut [T], &mut [T])>,
) {
    let two = T::one() + T::one();
    let mut x = d[l] - mu;
    let mut z = e[l];
    for k in l..m {
        let (c, s, r) = givens(x, z);
        if k > l {
            e[k - 1] = r;
        }
        // the 2 x 2 block [[a, b], [b, g]] becomes R B R^T, R = [[c, s], [-s, c]]:
        // with u = s (g - a) + 2 c b: a + s u, g - s u, off-diagonal c u - b
        let (a, b, g) = (d[k], e[k], d[k + 1]);
        let u = s * (g - a) + two * c * b;
        let p = s * u;
        d[k] = a + p;
        d[k + 1] = g - p;
        e[k] = c * u - b;
        if k + 1 < m {
            // the bulge at (k + 2, k)
            let f = e[k + 1];
            z = s * f;
            e[k + 1] = c * f;
            x = e[k];
        }
        if let Some((cs, ss)) = slots.as_mut() {
            cs[k - l] = c;
            ss[k - l] = s;
        }
    }
}

/// Diagonalizes the block `l..=l+1` with one Jacobi rotation
/// (Golub & Van Loan, alg. 8.5.1).
fn diagonalize_2x2<T: Real>(
    d: &mut [T],
    e: &mut [T],
    l: usize,
    slots: Option<(&mut [T], &mut [T])>,
) {
    let (a, b, g) = (d[l], e[l], d[l + 1]);
    let (c, s, t) = jacobi_rotation(a, b, g);
    d[l] = a - t * b;
    d[l + 1] = g + t * b;
    e[l] = T::zero();
    if let Some((cs, ss)) = slots {
        // J = [[c, s], [-s, c]] in the convention of `RotationSink`
        cs[0] = c;
        ss[0] = -s;
    }
}

/// `(c, s, t)` of the rotation `J = [[c, s], [-s, c]]` for which
/// `J^T [[a, b], [b, g]] J = diag(a - t b, g + t b)`.
pub(crate) fn jacobi_rotation<T: Real>(a: T, b: T, g: T) -> (T, T, T) {
    if b == T::zero() {
        return (T::one(), T::zero(), T::zero());
    }
    let tau = (g - a) / (b + b);
    let t = if tau.abs() > T::EPS.recip() {
        // 1 + tau^2 would round to tau^2
        (tau + tau).recip()
    } else {
        let t = (tau.abs() + (T::one() + tau * tau).sqrt()).recip();
        if tau >= T::zero() { t } else { -t }
    };
    let c = (T::one() + t * t).sqrt().recip();
    (c, t * c, t)
}
