//! Householder tridiagonalization `Q^T A Q = T` (Golub & Van Loan, alg.
//! 8.3.1) and the explicit formation of `Q`.
//!
//! Step `k` reflects rows and columns `k + 1..n` with `H_k = I - tau_k v_k
//! v_k^T`, `v_k = (1, v_{k+2}, .., v_{n-1})`, which zeroes `A[k+2.., k]`;
//! the trailing block becomes `A - v w^T - w v^T` with `p = tau A v` and
//! `w = p - (tau / 2)(p . v) v`. That rank-2 update is applied lazily: the
//! pass over the trailing columns that computes `A v` for step `k` first
//! applies the update of step `k - 1` to each column, so each step reads
//! and writes the trailing lower triangle once. The tail of `v_k` is left in
//! `M[k+2.., k]` for the back-transformation.

use super::columns::Columns;
use crate::real::{Real, madd};
use crate::simd::{FmaKernel, dispatch};

/// Columns of `Q` formed together, sharing each reflector's loads.
pub(crate) const GROUP: usize = 8;
/// Scratch vectors (each `n` long) of the reduction.
pub(crate) const REDUCTION_VECTORS: usize = 4;

/// Reduces the lower triangle of `M` to tridiagonal form: diagonal `d`,
/// subdiagonal `e[..n-1]`, reflector scalars `tau[..n-1]`. `scratch` holds
/// [`REDUCTION_VECTORS`]` * n` elements.
pub(crate) fn reduce<T: Real>(
    cols: &mut Columns<'_, '_, T>,
    d: &mut [T],
    e: &mut [T],
    tau: &mut [T],
    scratch: &mut [T],
) {
    let n = cols.order();
    if n == 0 {
        return;
    }
    let mut parts = scratch.chunks_exact_mut(n);
    let (Some(mut v), Some(mut q), Some(mut vp), Some(mut wp)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    // `(vp, wp)`: the pending update of the previous step
    vp.fill(T::zero());
    wp.fill(T::zero());
    for k in 0..n - 1 {
        let (dk, beta, t) = dispatch(Step {
            cols: &mut *cols,
            k,
            v: &mut *v,
            q: &mut *q,
            vp: &*vp,
            wp: &*wp,
        });
        d[k] = dk;
        e[k] = beta;
        tau[k] = t;
        core::mem::swap(&mut v, &mut vp);
        core::mem::swap(&mut q, &mut wp);
    }
    let last = n - 1;
    let col = &mut cols.col_mut(last)[last..];
    apply_pending::<T, false>(col, &vp[last..], &wp[last..], vp[last], wp[last]);
    d[last] = col[0];
    cols.commit(last);
}

/// Step `k` of the reduction: forms reflector `k` from column `k` (after
/// the pending update `(vp, wp)` of step `k - 1`), returning
/// `(d_k, e_k, tau_k)`; then, in one pass over the trailing columns,
/// applies the pending update and accumulates `A v_k`. Leaves `v = v_k`
/// and `q = w_k`, the next pending update.
struct Step<'c, 'a, 'w, 's, T> {
    cols: &'c mut Columns<'a, 'w, T>,
    k: usize,
    v: &'s mut [T],
    q: &'s mut [T],
    vp: &'s [T],
    wp: &'s [T],
}

impl<T: Real> FmaKernel for Step<'_, '_, '_, '_, T> {
    type Output = (T, T, T);
    #[inline(always)]
    fn run<const FMA: bool>(self) -> (T, T, T) {
        let Step {
            cols,
            k,
            v,
            q,
            vp,
            wp,
        } = self;
        let n = cols.order();
        let col = &mut cols.col_mut(k)[k..];
        apply_pending::<T, FMA>(col, &vp[k..], &wp[k..], vp[k], wp[k]);
        let dk = col[0];
        let (beta, t) = householder(&mut col[1..]);
        v[k + 1] = T::one();
        v[k + 2..].copy_from_slice(&col[2..]);
        cols.commit(k);

        // q = A v over the trailing block, column by column
        q[k + 1..].fill(T::zero());
        let two = T::one() + T::one();
        for j in k + 1..n {
            let col = &mut cols.col_mut(j)[j..];
            let ajj = madd::<T, FMA>(-two * vp[j], wp[j], col[0]);
            col[0] = ajj;
            let below = update_and_multiply::<T, FMA>(
                &mut col[1..],
                &vp[j + 1..],
                &wp[j + 1..],
                &v[j + 1..],
                &mut q[j + 1..],
                [vp[j], wp[j], v[j]],
            );
            q[j] = madd::<T, FMA>(ajj, v[j], q[j]) + below;
            cols.commit(j);
        }

        // w = t q - (t^2 / 2)(q . v) v, into q
        let half = t * t * T::from_f64(0.5) * dot::<T, FMA>(&q[k + 1..], &v[k + 1..]);
        for qi in q[k + 1..].iter_mut() {
            *qi *= t;
        }
        axpy::<T, FMA>(-half, &v[k + 1..], &mut q[k + 1..]);
        (dk, beta, t)
    }
}

/// `a <- a - vp * wj - wp * vj` for the rows of one column (`a[0]` is the
/// diagonal, where the update is `2 vj wj`).
#[inline(always)]
fn apply_pending<T: Real, const FMA: bool>(a: &mut [T], vp: &[T], wp: &[T], vj: T, wj: T) {
    axpy::<T, FMA>(-wj, vp, a);
    axpy::<T, FMA>(-vj, wp, a);
}

/// Householder reflector of `x = (alpha, x_1..)`: overwrites the tail with
/// `v_1..` (`v_0 = 1`) and returns `(beta, tau)` such that
/// `(I - tau v v^T) x = beta e_1`; `tau = 0` (identity) when the tail is 0.
///
/// `H` is orthogonal only if `tau = 2 / |v|^2` to working accuracy, which
/// needs an accurate `|x|` however small `x` is: when the squares of its
/// largest entry would leave the normal range, `x` is first scaled by a
/// power of two (as `v` and `tau` do not depend on the scale of `x`).
#[inline(always)]
fn householder<T: Real>(x: &mut [T]) -> (T, T) {
    let Some((&mut alpha, tail)) = x.split_first_mut() else {
        return (T::zero(), T::zero());
    };
    let tail_max = tail.iter().fold(T::zero(), |m, t| m.max(t.abs()));
    if tail_max == T::zero() {
        return (alpha, T::zero());
    }
    let amax = tail_max.max(alpha.abs());
    let s = if amax < T::min_positive_value().sqrt() / T::EPS
        || amax > T::max_value().sqrt() * T::EPS
    {
        reciprocal_power_of_two(amax)
    } else {
        T::one()
    };
    let alpha = alpha * s;
    if s != T::one() {
        for t in tail.iter_mut() {
            *t *= s;
        }
    }
    let sigma = dot::<T, false>(tail, tail);
    let norm = (alpha * alpha + sigma).sqrt();
    let beta = if alpha >= T::zero() { -norm } else { norm };
    let scale = (alpha - beta).recip();
    for t in tail.iter_mut() {
        *t *= scale;
    }
    (beta / s, (beta - alpha) / beta)
}

/// A power of two near `1 / x` (`x > 0` finite), kept inside the normal
/// range.
fn reciprocal_power_of_two<T: Real>(x: T) -> T {
    let max_exp = T::max_value().log2().floor() - T::one();
    let k = (-x.log2().round()).max(-max_exp).min(max_exp);
    (T::one() + T::one()).powi(k.to_i32().unwrap_or(0))
}

/// One trailing column `a` (rows below the diagonal): applies the pending
/// update `a -= vp wj + wp vj`, then adds the column's share of the
/// symmetric product `q = A v`: `q += a vj` and returns `a . v`.
/// `vp, wp, v` and `q` are the same rows as `a`; `[vpj, wpj, vj]` are the
/// entries at the diagonal row. (Slices are passed as separate arguments:
/// only those carry the no-alias facts the vectorizer needs.)
#[inline(always)]
fn update_and_multiply<T: Real, const FMA: bool>(
    a: &mut [T],
    vp: &[T],
    wp: &[T],
    v: &[T],
    q: &mut [T],
    [vpj, wpj, vj]: [T; 3],
) -> T {
    const L: usize = 8;
    let (nvpj, nwpj) = (-vpj, -wpj);
    let (a8, a1) = a.as_chunks_mut::<L>();
    let (vp8, vp1) = vp.as_chunks::<L>();
    let (wp8, wp1) = wp.as_chunks::<L>();
    let (v8, v1) = v.as_chunks::<L>();
    let (q8, q1) = q.as_chunks_mut::<L>();
    let mut acc = [T::zero(); L];
    // Each chunk is copied in, computed and copied out: with all loads
    // ahead of all stores the vectorizer needs no aliasing facts (which
    // the slices, reached through the dispatch struct, no longer carry).
    for ((((a, vp), wp), v), q) in a8.iter_mut().zip(vp8).zip(wp8).zip(v8).zip(q8) {
        let (av, vpv, wpv, vv, qv) = (*a, *vp, *wp, *v, *q);
        let mut x = [T::zero(); L];
        let mut qn = [T::zero(); L];
        for l in 0..L {
            x[l] = madd::<T, FMA>(vpv[l], nwpj, madd::<T, FMA>(wpv[l], nvpj, av[l]));
            acc[l] = madd::<T, FMA>(x[l], vv[l], acc[l]);
            qn[l] = madd::<T, FMA>(x[l], vj, qv[l]);
        }
        *a = x;
        *q = qn;
    }
    let mut tail = T::zero();
    for ((((a, &vp), &wp), &v), q) in a1.iter_mut().zip(vp1).zip(wp1).zip(v1).zip(q1) {
        let x = madd::<T, FMA>(vp, nwpj, madd::<T, FMA>(wp, nvpj, *a));
        *a = x;
        tail = madd::<T, FMA>(x, v, tail);
        *q = madd::<T, FMA>(x, vj, *q);
    }
    sum8(&acc) + tail
}

/// `x . y` with eight partial sums.
#[inline(always)]
pub(crate) fn dot<T: Real, const FMA: bool>(x: &[T], y: &[T]) -> T {
    const L: usize = 8;
    let (x8, x1) = x.as_chunks::<L>();
    let (y8, y1) = y.as_chunks::<L>();
    let mut acc = [T::zero(); L];
    for (a, b) in x8.iter().zip(y8) {
        for l in 0..L {
            acc[l] = madd::<T, FMA>(a[l], b[l], acc[l]);
        }
    }
    let tail = x1
        .iter()
        .zip(y1)
        .fold(T::zero(), |s, (&a, &b)| madd::<T, FMA>(a, b, s));
    sum8(&acc) + tail
}

/// `y <- y + alpha x` (chunks copied in and out, see [`update_and_multiply`]).
#[inline(always)]
pub(crate) fn axpy<T: Real, const FMA: bool>(alpha: T, x: &[T], y: &mut [T]) {
    const L: usize = 8;
    let (x8, x1) = x.as_chunks::<L>();
    let (y8, y1) = y.as_chunks_mut::<L>();
    for (xc, yc) in x8.iter().zip(y8) {
        let (xv, yv) = (*xc, *yc);
        let mut out = [T::zero(); L];
        for l in 0..L {
            out[l] = madd::<T, FMA>(alpha, xv[l], yv[l]);
        }
        *yc = out;
    }
    for (&xi, yi) in x1.iter().zip(y1) {
        *yi = madd::<T, FMA>(alpha, xi, *yi);
    }
}

#[inline(always)]
fn sum8<T: Real>(a: &[T; 8]) -> T {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

/// Overwrites `M` with `Q = H_0 H_1 .. H_{n-2}`, reading the reflectors
/// left in `M` by [`reduce`]. `group` holds [`GROUP`]` * n` elements.
///
/// Column `j >= 1` of `Q` is `H_0 .. H_{j-1} e_j` (the later reflectors fix
/// `e_j`), so columns are formed from the last to the first, each only
/// needing reflectors stored in columns to its left: column `j` may then
/// overwrite reflector `j`. [`GROUP`] columns at a time are formed in
/// `group`, stored row by row so that a reflector updates all of them with
/// the same vector operations while they stay in L1 and the reflectors
/// stream past. (Applying `H_k` with `k >= j` to `e_j` is exact and
/// harmless: its reflector vector is zero at rows `<= k`.)
pub(crate) struct FormQ<'c, 'a, 'w, 's, T> {
    pub(crate) cols: &'c mut Columns<'a, 'w, T>,
    pub(crate) tau: &'s [T],
    pub(crate) group: &'s mut [T],
}

impl<T: Real> FmaKernel for FormQ<'_, '_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        form_q::<T, FMA>(self.cols, self.tau, self.group);
    }
}

#[inline(always)]
fn form_q<T: Real, const FMA: bool>(cols: &mut Columns<'_, '_, T>, tau: &[T], group: &mut [T]) {
    let n = cols.order();
    if n == 0 {
        return;
    }
    let Some(g) = group.get_mut(..GROUP * n) else {
        return;
    };
    let (rows, _) = g.as_chunks_mut::<GROUP>();
    let mut j1 = n;
    while j1 > 1 {
        let j0 = j1.saturating_sub(GROUP).max(1);
        for (r, row) in rows.iter_mut().enumerate() {
            *row = [T::zero(); GROUP];
            if (j0..j1).contains(&r) {
                row[r - j0] = T::one();
            }
        }
        for k in (0..j1 - 1).rev() {
            if tau[k] != T::zero() {
                let v = &cols.col(k)[k + 2..];
                reflect_rows::<T, FMA>(&mut rows[k + 1..], v, tau[k]);
            }
        }
        for j in j0..j1 {
            let col = cols.col_mut(j);
            for (x, row) in col.iter_mut().zip(rows.iter()) {
                *x = row[j - j0];
            }
            cols.commit(j);
        }
        j1 = j0;
    }
    let c0 = cols.col_mut(0);
    c0.fill(T::zero());
    c0[0] = T::one();
    cols.commit(0);
}

/// `X <- (I - t u u^T) X` for the rows `X` of the group, `u = (1, v)`:
/// `m = -t (x_0 + v^T X_1..)` per column, then `X += u m`.
#[inline(always)]
fn reflect_rows<T: Real, const FMA: bool>(x: &mut [[T; GROUP]], v: &[T], t: T) {
    const R: usize = 4;
    let Some((first, rest)) = x.split_first_mut() else {
        return;
    };
    let (rest4, rest1) = rest.as_chunks_mut::<R>();
    let (v4, v1) = v.as_chunks::<R>();
    // R independent partial sums hide the latency of the accumulation
    let mut acc = [[T::zero(); GROUP]; R];
    for (rows, vs) in rest4.iter().zip(v4) {
        for i in 0..R {
            let row = rows[i];
            for c in 0..GROUP {
                acc[i][c] = madd::<T, FMA>(vs[i], row[c], acc[i][c]);
            }
        }
    }
    let mut m = *first;
    for row in rest1.iter().zip(v1).map(|(row, &vr)| row.map(|x| x * vr)) {
        for c in 0..GROUP {
            m[c] += row[c];
        }
    }
    for c in 0..GROUP {
        m[c] = -t * (m[c] + ((acc[0][c] + acc[2][c]) + (acc[1][c] + acc[3][c])));
        first[c] += m[c];
    }
    for (rows, vs) in rest4.iter_mut().zip(v4) {
        let mut out = *rows;
        for i in 0..R {
            for c in 0..GROUP {
                out[i][c] = madd::<T, FMA>(m[c], vs[i], out[i][c]);
            }
        }
        *rows = out;
    }
    for (row, &vr) in rest1.iter_mut().zip(v1) {
        let mut out = *row;
        for c in 0..GROUP {
            out[c] = madd::<T, FMA>(m[c], vr, out[c]);
        }
        *row = out;
    }
}
