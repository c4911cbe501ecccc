//! Packed register-tile kernels (internal).
//!
//! The level-3 work of the crate (`C += alpha * A * B^T` for dense products,
//! the trailing updates and panel solves of the blocked Cholesky) runs
//! through one micro-kernel: an `MR x NR` tile of `C` accumulated in
//! registers from two packed operands. Packing copies an operand into
//! micro-panels of `W` rows stored k-major (`panel[k * W + r]`), padded with
//! zeros, so the kernel reads contiguous memory whatever the caller's
//! strides. All functions here are `#[inline(always)]` so that they are
//! compiled inside the FMA-enabled wrapper of [`crate::simd`].

use crate::real::{Real, madd};
use crate::view::{MatMut, MatRef};

/// Rows of a register tile (two 256-bit vectors of `f64`).
pub(crate) const MR: usize = 8;
/// Columns of a register tile.
pub(crate) const NR: usize = 6;
/// Rows of `A` kept hot in L2 while the columns of `C` are swept.
pub(crate) const MC: usize = 128;
/// Depth of one packed block.
pub(crate) const KC: usize = 256;

/// Length of `rows x k` packed into micro-panels of width `w` (saturating).
#[inline(always)]
pub(crate) const fn packed_len(rows: usize, k: usize, w: usize) -> usize {
    rows.div_ceil(w).saturating_mul(w).saturating_mul(k)
}

/// Packs `src` (`rows x k`) into micro-panels of `W` rows, k-major,
/// zero-padded: `out[p * W * k + kk * W + r] = src[p * W + r, kk]`.
#[inline(always)]
pub(crate) fn pack<T: Real, const W: usize>(src: MatRef<'_, T>, out: &mut [T]) {
    let (rows, k) = src.shape();
    if k == 0 {
        return;
    }
    for (p, panel) in out
        .chunks_exact_mut(W * k)
        .take(rows.div_ceil(W))
        .enumerate()
    {
        let r0 = p * W;
        let h = W.min(rows - r0);
        for (kk, slot) in panel.chunks_exact_mut(W).enumerate() {
            for (r, v) in slot.iter_mut().enumerate() {
                *v = if r < h { src.at(r0 + r, kk) } else { T::zero() };
            }
        }
    }
}

/// `sum_k a[k] (x) b[k]` over `kc` steps: the `MR x NR` register tile,
/// returned as `acc[s][r]` (column `s`, row `r`).
#[inline(always)]
pub(crate) fn tile<T: Real, const FMA: bool>(kc: usize, a: &[T], b: &[T]) -> [[T; MR]; NR] {
    let mut acc = [[T::zero(); MR]; NR];
    let a = &a[..kc * MR];
    let b = &b[..kc * NR];
    for (ak, bk) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for s in 0..NR {
            let bs = bk[s];
            for r in 0..MR {
                acc[s][r] = madd::<T, FMA>(ak[r], bs, acc[s][r]);
            }
        }
    }
    acc
}

/// Which entries of `C` a product may write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// All of them.
    Full,
    /// Only `i >= j` (the result is symmetric; its upper part is not stored).
    Lower,
    /// Only `i <= j` (the same, transposed).
    Upper,
}

/// Rows `r` of a tile at `(i0, j)` that `part` lets a product write.
#[inline(always)]
fn permitted_rows(part: Part, i0: usize, j: usize, h: usize) -> core::ops::Range<usize> {
    match part {
        Part::Full => 0..h,
        Part::Lower => j.saturating_sub(i0).min(h)..h,
        Part::Upper => 0..(j + 1).saturating_sub(i0).min(h),
    }
}

/// `C[i0.., j0..] += alpha * acc` restricted to the valid and permitted
/// entries of the tile. A whole tile over contiguous columns is added with
/// vector loads and stores; edges and diagonal tiles go entry by entry.
#[inline(always)]
fn store_tile<T: Real, const FMA: bool>(
    c: &mut MatMut<'_, T>,
    i0: usize,
    j0: usize,
    alpha: T,
    acc: &[[T; MR]; NR],
    part: Part,
    accumulate: bool,
) {
    let update = |d: T, v: T| {
        if accumulate {
            madd::<T, FMA>(alpha, v, d)
        } else {
            alpha * v
        }
    };
    let h = MR.min(c.nrows() - i0);
    let w = NR.min(c.ncols() - j0);
    let whole = h == MR
        && w == NR
        && match part {
            Part::Full => true,
            Part::Lower => i0 >= j0 + NR - 1,
            Part::Upper => i0 + MR - 1 <= j0,
        };
    let (data, rs, cs) = c.raw_mut();
    if whole && rs == 1 {
        for (s, col) in acc.iter().enumerate() {
            let start = (j0 + s) * cs + i0;
            if let Some(dst) = data.get_mut(start..start + MR) {
                for (d, &v) in dst.iter_mut().zip(col) {
                    *d = update(*d, v);
                }
            }
        }
        return;
    }
    for (s, col) in acc.iter().enumerate().take(w) {
        let j = j0 + s;
        for r in permitted_rows(part, i0, j, h) {
            let cij = &mut data[(i0 + r) * rs + j * cs];
            *cij = update(*cij, col[r]);
        }
    }
}

/// `C += alpha * A * B^T` (or `C = alpha A B^T` without `accumulate`) for
/// packed operands: `ap` holds `A` (`m x kc`) in `MR`-row micro-panels and
/// `bp` holds `B` (`n x kc`) in `NR`-row micro-panels, with `(m, n)` the
/// shape of `C`. Column-major `C` gets
/// vector stores; callers with row-major `C` should pass its transpose.
#[inline(always)]
pub(crate) fn gemm_packed<T: Real, const FMA: bool>(
    c: &mut MatMut<'_, T>,
    alpha: T,
    ap: &[T],
    bp: &[T],
    kc: usize,
    part: Part,
    accumulate: bool,
) {
    let (m, n) = c.shape();
    if kc == 0 {
        return;
    }
    for ic in (0..m).step_by(MC) {
        let i_end = (ic + MC).min(m);
        for j0 in (0..n).step_by(NR) {
            let (lo, hi) = match part {
                Part::Full => (ic, i_end),
                Part::Lower => (ic.max(j0 / MR * MR), i_end),
                Part::Upper => (ic, i_end.min(j0 + NR)),
            };
            if lo >= hi {
                continue;
            }
            let b_panel = &bp[(j0 / NR) * NR * kc..][..NR * kc];
            for i0 in (lo..hi).step_by(MR) {
                let a_panel = &ap[(i0 / MR) * MR * kc..][..MR * kc];
                let acc = tile::<T, FMA>(kc, a_panel, b_panel);
                store_tile::<T, FMA>(c, i0, j0, alpha, &acc, part, accumulate);
            }
        }
    }
}
