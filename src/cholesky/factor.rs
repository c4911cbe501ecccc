//! The factorization kernels: unblocked for small orders, and a two-level
//! blocked right-looking variant whose panel solves and trailing updates run
//! through the packed register tile of [`crate::kernel`].
//!
//! Both overwrite the lower triangle with `L` and, on failure, return
//! [`Error::NotPositiveDefinite`] with the 0-based index of the first pivot
//! that is not positive, leaving the matrix partially overwritten; restoring
//! the caller's data is the job of the public entry points in the parent
//! module.

use crate::error::{Error, Result};
use crate::kernel::{self, MR, NR, Part, tile};
use crate::real::{Real, madd};
use crate::simd::FmaKernel;
use crate::view::MatMut;
use crate::workspace::{Workspace, add};

/// Orders up to this are factored unblocked.
pub(crate) const UNBLOCKED_MAX: usize = 32;
/// Outer block size: the depth of the trailing updates.
const NB_OUTER: usize = 128;
/// Inner block size, used to factor the diagonal blocks of the outer level.
const NB_INNER: usize = 32;

/// Packing space the blocked kernel needs for order `n` (0 when `n` is
/// factored unblocked).
pub(crate) const fn blocked_workspace_len(n: usize) -> usize {
    if n <= UNBLOCKED_MAX {
        return 0;
    }
    let nb = if n < NB_OUTER { n } else { NB_OUTER };
    let panels = add(kernel::packed_len(n, nb, MR), kernel::packed_len(n, nb, NR));
    add(panels, add(kernel::packed_len(nb, nb, NR), nb))
}

/// Unblocked factorization of the lower triangle, `n^3 / 3` flops, no
/// workspace. Contiguous layouts run on slices (no index arithmetic in the
/// inner loops, which the compiler then vectorizes and, for fixed sizes,
/// unrolls): row-major by dot products of rows, column-major as the
/// upper-triangular factorization `U^T U` of the row-major transpose by row
/// updates. Other strides take the indexed path.
#[inline(always)]
pub(crate) fn factor_unblocked<T: Real>(a: &mut MatMut<'_, T>) -> Result<()> {
    let n = a.nrows();
    let (data, rs, cs) = a.raw_mut();
    if cs == 1 {
        factor_rows_lower(data, rs, n)
    } else if rs == 1 {
        factor_rows_upper(data, cs, n)
    } else {
        factor_strided(a)
    }
}

/// Row `i` of a row-major buffer with row stride `ld`, columns `c0..c1`.
#[inline(always)]
fn row<T>(data: &[T], ld: usize, i: usize, c0: usize, c1: usize) -> &[T] {
    &data[i * ld + c0..i * ld + c1]
}

/// Left-looking row-major lower factorization:
/// `l_ij = (a_ij - L[i, ..j] . L[j, ..j]) / l_jj`.
#[inline(always)]
fn factor_rows_lower<T: Real>(data: &mut [T], ld: usize, n: usize) -> Result<()> {
    for j in 0..n {
        let lj = row(data, ld, j, 0, j);
        let d = minus_dot(data[j * ld + j], lj, lj);
        if !(d > T::zero()) {
            return Err(Error::NotPositiveDefinite { pivot: j });
        }
        let ljj = d.sqrt();
        data[j * ld + j] = ljj;
        for i in j + 1..n {
            let s = minus_dot(
                data[i * ld + j],
                row(data, ld, i, 0, j),
                row(data, ld, j, 0, j),
            );
            data[i * ld + j] = s / ljj;
        }
    }
    Ok(())
}

/// Right-looking row-major upper factorization `A = U^T U`: scale row `j`
/// by `1 / u_jj`, then `A[i, i..] -= u_ji U[j, i..]` for `i > j`.
#[inline(always)]
fn factor_rows_upper<T: Real>(data: &mut [T], ld: usize, n: usize) -> Result<()> {
    for j in 0..n {
        let d = data[j * ld + j];
        if !(d > T::zero()) {
            return Err(Error::NotPositiveDefinite { pivot: j });
        }
        let ujj = d.sqrt();
        data[j * ld + j] = ujj;
        for u in &mut data[j * ld + j + 1..j * ld + n] {
            *u /= ujj;
        }
        let (head, tail) = data.split_at_mut(((j + 1) * ld).min(data.len()));
        let uj = &head[j * ld..j * ld + n];
        for i in j + 1..n {
            let uji = uj[i];
            let ri = &mut tail[(i - j - 1) * ld + i..(i - j - 1) * ld + n];
            for (x, &y) in ri.iter_mut().zip(&uj[i..]) {
                *x -= uji * y;
            }
        }
    }
    Ok(())
}

/// Right-looking factorization through indexed access, for any strides.
#[inline(always)]
fn factor_strided<T: Real>(a: &mut MatMut<'_, T>) -> Result<()> {
    let n = a.nrows();
    for j in 0..n {
        let d = a.at(j, j);
        if !(d > T::zero()) {
            return Err(Error::NotPositiveDefinite { pivot: j });
        }
        let ljj = d.sqrt();
        *a.at_mut(j, j) = ljj;
        for i in j + 1..n {
            *a.at_mut(i, j) = a.at(i, j) / ljj;
        }
        for i in j + 1..n {
            let lij = a.at(i, j);
            for k in j + 1..=i {
                let lkj = a.at(k, j);
                *a.at_mut(i, k) -= lij * lkj;
            }
        }
    }
    Ok(())
}

/// `a - x . y`: products subtracted one by one for short rows (fixed sizes
/// unroll this completely, with no extra add of a zero start), four
/// interleaved partial sums for long ones so that the compiler can
/// vectorize.
#[inline(always)]
fn minus_dot<T: Real>(a: T, x: &[T], y: &[T]) -> T {
    if x.len() < 16 {
        return x.iter().zip(y).fold(a, |s, (&u, &v)| s - u * v);
    }
    let (xc, xr) = x.as_chunks::<4>();
    let (yc, yr) = y.as_chunks::<4>();
    let mut acc = [T::zero(); 4];
    for (u, v) in xc.iter().zip(yc) {
        for l in 0..4 {
            acc[l] += u[l] * v[l];
        }
    }
    let tail = xr.iter().zip(yr).fold(a, |s, (&u, &v)| s - u * v);
    tail - ((acc[0] + acc[1]) + (acc[2] + acc[3]))
}

/// The blocked factorization as a [`FmaKernel`] for runtime dispatch.
pub(crate) struct Blocked<'m, 'a, 'w, T> {
    pub(crate) a: &'m mut MatMut<'a, T>,
    pub(crate) ws: &'w mut [T],
}

impl<T: Real> FmaKernel for Blocked<'_, '_, '_, T> {
    type Output = Result<()>;
    #[inline(always)]
    fn run<const FMA: bool>(self) -> Result<()> {
        let n = self.a.nrows();
        let nb = NB_OUTER.min(n);
        let mut ws = Workspace::new(self.ws, blocked_workspace_len(n))?;
        let mut packs = Packs {
            ap: ws.take(kernel::packed_len(n, nb, MR))?,
            bp: ws.take(kernel::packed_len(n, nb, NR))?,
            lp: ws.take(kernel::packed_len(nb, nb, NR))?,
            inv_d: ws.take(nb)?,
        };
        blocked_level::<T, FMA, true>(self.a, nb, &mut packs)
    }
}

/// Scratch of the blocked kernel, shared by both levels (the inner level
/// finishes before the outer one packs its panel).
struct Packs<'w, T> {
    ap: &'w mut [T],
    bp: &'w mut [T],
    lp: &'w mut [T],
    inv_d: &'w mut [T],
}

/// One level of right-looking blocked Cholesky with block size `nb`. The
/// diagonal blocks are factored by the inner level (`OUTER`) or unblocked.
#[inline(always)]
fn blocked_level<T: Real, const FMA: bool, const OUTER: bool>(
    a: &mut MatMut<'_, T>,
    nb: usize,
    packs: &mut Packs<'_, T>,
) -> Result<()> {
    let n = a.nrows();
    for j0 in (0..n).step_by(nb) {
        let b = nb.min(n - j0);
        let j1 = j0 + b;
        let mut diag = a.submatrix_mut(j0, j0, b, b)?;
        let diag_result = if OUTER && b > NB_INNER {
            blocked_level::<T, FMA, false>(&mut diag, NB_INNER, packs)
        } else {
            factor_unblocked(&mut diag)
        };
        diag_result.map_err(|e| offset_pivot(e, j0))?;
        if j1 == n {
            break;
        }
        let m = n - j1;
        panel_solve::<T, FMA>(a, j0, b, packs)?;
        let x = a.submatrix_mut(j1, j0, m, b)?;
        kernel::pack::<T, NR>(x.rb(), packs.bp);
        // `C -= X X^T` on the lower triangle of `C`, or on the upper triangle
        // of its transpose when that is the view with contiguous columns.
        let trailing = a.submatrix_mut(j1, j1, m, m)?;
        let (mut c, part) = if trailing.col_stride() == 1 && trailing.row_stride() != 1 {
            (trailing.transpose(), Part::Upper)
        } else {
            (trailing, Part::Lower)
        };
        kernel::gemm_packed::<T, FMA>(&mut c, -T::one(), packs.ap, packs.bp, b, part, true);
    }
    Ok(())
}

/// Shifts the pivot of a failure inside a diagonal block starting at `j0`
/// to the index of the whole matrix.
fn offset_pivot(e: Error, j0: usize) -> Error {
    match e {
        Error::NotPositiveDefinite { pivot } => Error::NotPositiveDefinite { pivot: pivot + j0 },
        other => other,
    }
}

/// Panel solve `X = P L11^{-T}` for `P = A[j0+b.., j0..j0+b]`, done on the
/// packed panel (`MR` rows at a time, k-major) so that the work is in the
/// register tile; the result is written back into `A` and left packed in
/// `packs.ap` for the trailing update.
#[inline(always)]
fn panel_solve<T: Real, const FMA: bool>(
    a: &mut MatMut<'_, T>,
    j0: usize,
    b: usize,
    packs: &mut Packs<'_, T>,
) -> Result<()> {
    let n = a.nrows();
    let j1 = j0 + b;
    let m = n - j1;
    let l11 = a.submatrix_mut(j0, j0, b, b)?;
    kernel::pack::<T, NR>(l11.rb(), packs.lp);
    for (k, d) in packs.inv_d.iter_mut().enumerate().take(b) {
        *d = l11.at(k, k).recip();
    }
    let mut panel = a.submatrix_mut(j1, j0, m, b)?;
    kernel::pack::<T, MR>(panel.rb(), packs.ap);
    for (p, xp) in packs
        .ap
        .chunks_exact_mut(MR * b)
        .take(m.div_ceil(MR))
        .enumerate()
    {
        solve_packed_rows::<T, FMA>(xp, packs.lp, &packs.inv_d[..b], b);
        let r0 = p * MR;
        for (kk, slot) in xp.chunks_exact(MR).enumerate() {
            for (r, &v) in slot.iter().enumerate().take(MR.min(m - r0)) {
                *panel.at_mut(r0 + r, kk) = v;
            }
        }
    }
    Ok(())
}

/// Solves `X L11^T = P` in place for one packed micro-panel `xp` (`MR` rows,
/// `b` columns, k-major), `NR` columns at a time: the contribution of the
/// columns already solved comes from one register tile, the `NR x NR`
/// triangle is substituted directly.
#[inline(always)]
fn solve_packed_rows<T: Real, const FMA: bool>(xp: &mut [T], lp: &[T], inv_d: &[T], b: usize) {
    for q in 0..b.div_ceil(NR) {
        let k0 = q * NR;
        let w = NR.min(b - k0);
        let l_panel = &lp[q * NR * b..][..NR * b];
        let acc = tile::<T, FMA>(k0, &xp[..k0 * MR], l_panel);
        for s in 0..w {
            let k = k0 + s;
            let mut v = [T::zero(); MR];
            for r in 0..MR {
                v[r] = xp[k * MR + r] - acc[s][r];
            }
            for s2 in 0..s {
                let l = l_panel[(k0 + s2) * NR + s];
                let done = &xp[(k0 + s2) * MR..][..MR];
                for r in 0..MR {
                    v[r] = madd::<T, FMA>(-l, done[r], v[r]);
                }
            }
            let scale = inv_d[k];
            for (r, x) in xp[k * MR..][..MR].iter_mut().enumerate() {
                *x = v[r] * scale;
            }
        }
    }
}
