//! Mode products: `y = (F_0 (x) F_1 (x) ... (x) F_{d-1}) x` for vectors
//! stored as row-major tensors (the first axis outermost), one factor at a
//! time, each step a dense product through the packed kernel.

use crate::dense::{matmul_unchecked, matmul_workspace_len};
use crate::error::{Error, Result};
use crate::real::Real;
use crate::view::{MatMut, MatRef};
use crate::workspace::{Workspace, add, mul};

/// Largest factor count of a Kronecker product.
pub const MAX_FACTORS: usize = 8;

/// `prod(dims)`, or [`Error::SizeOverflow`].
pub(crate) fn product(mut dims: impl Iterator<Item = usize>) -> Result<usize> {
    dims.try_fold(1usize, |p, n| p.checked_mul(n))
        .ok_or(Error::SizeOverflow)
}

/// `prod dims[a..b]` (saturating).
const fn prod(dims: &[usize], a: usize, b: usize) -> usize {
    let mut p = 1usize;
    let mut j = a;
    while j < b {
        p = mul(p, dims[j]);
        j += 1;
    }
    p
}

/// Length of the tensor after the first `k` modes have been applied:
/// `prod_{j<k} rows_j * prod_{j>=k} cols_j` (saturating).
const fn intermediate_len(rows: &[usize], cols: &[usize], k: usize) -> usize {
    mul(prod(rows, 0, k), prod(cols, k, cols.len()))
}

/// Scratch of the mode-`k` product: one dense product, `L x m x n` when the
/// trailing extent `R` is 1, `m x R x n` per block otherwise.
const fn mode_workspace_len(rows: &[usize], cols: &[usize], k: usize) -> usize {
    let right = prod(cols, k + 1, cols.len());
    if right == 1 {
        matmul_workspace_len(prod(rows, 0, k), rows[k], cols[k])
    } else {
        matmul_workspace_len(rows[k], right, cols[k])
    }
}

/// Workspace length of a Kronecker product with factors of `rows[k] x
/// cols[k]`: two buffers of the largest intermediate tensor, plus the
/// largest dense-product scratch.
pub const fn kron_apply_workspace_len(rows: &[usize], cols: &[usize]) -> usize {
    let mut biggest = 0usize;
    let mut product_ws = 0usize;
    let mut k = 0;
    while k <= rows.len() {
        let len = intermediate_len(rows, cols, k);
        if len > biggest {
            biggest = len;
        }
        if k < rows.len() {
            let w = mode_workspace_len(rows, cols, k);
            if w > product_ws {
                product_ws = w;
            }
        }
        k += 1;
    }
    add(mul(2, biggest), product_ws)
}

/// `dst (L x m x R) <- mode-k product of f (m x n) with src (L x n x R)`.
fn mode_product<T: Real>(
    f: MatRef<'_, T>,
    left: usize,
    right: usize,
    src: &[T],
    dst: &mut [T],
    ws: &mut [T],
) -> Result<()> {
    let (m, n) = f.shape();
    if right == 1 {
        // dst (L x m) = src (L x n) F^T: one product.
        let out = MatMut::from_row_major(&mut dst[..left * m], left, m)?;
        let input = MatRef::from_row_major(&src[..left * n], left, n)?;
        return matmul_unchecked(out, T::one(), input, f.transpose(), T::zero(), ws);
    }
    for (dst_block, src_block) in dst[..left * m * right]
        .chunks_exact_mut(m * right)
        .zip(src[..left * n * right].chunks_exact(n * right))
    {
        let out = MatMut::from_row_major(dst_block, m, right)?;
        let input = MatRef::from_row_major(src_block, n, right)?;
        matmul_unchecked(out, T::one(), f, input, T::zero(), ws)?;
    }
    Ok(())
}

/// `y <- (F_0 (x) ... (x) F_{d-1}) x`, with `x` of length `prod cols_k` and
/// `y` of length `prod rows_k`; `2 N sum_k n_k` flops for square factors of
/// orders `n_k`, `N = prod n_k`. Workspace [`kron_apply_workspace_len`].
/// Lengths are the caller's to check.
pub(crate) fn kron_apply<T: Real>(
    factors: &[MatRef<'_, T>],
    x: &[T],
    y: &mut [T],
    ws: &mut [T],
) -> Result<()> {
    let d = factors.len();
    let mut rows = [0usize; MAX_FACTORS];
    let mut cols = [0usize; MAX_FACTORS];
    for (k, f) in factors.iter().enumerate().take(MAX_FACTORS) {
        (rows[k], cols[k]) = f.shape();
    }
    let (rows, cols) = (&rows[..d], &cols[..d]);
    let needed = kron_apply_workspace_len(rows, cols);
    let mut ws = Workspace::new(ws, needed)?;
    if x.is_empty() || y.is_empty() {
        y.fill(T::zero());
        return Ok(());
    }
    let biggest = (0..=d)
        .map(|k| intermediate_len(rows, cols, k))
        .fold(0, usize::max);
    let mut bufs = [ws.take(biggest)?, ws.take(biggest)?];
    let scratch = ws.take(needed - 2 * biggest)?;
    bufs[0][..x.len()].copy_from_slice(x);
    for (k, f) in factors.iter().enumerate() {
        let [a, b] = &mut bufs;
        let (src, dst) = if k % 2 == 0 {
            (&**a, &mut **b)
        } else {
            (&**b, &mut **a)
        };
        mode_product(
            *f,
            prod(rows, 0, k),
            prod(cols, k + 1, d),
            src,
            dst,
            scratch,
        )?;
    }
    y.copy_from_slice(&bufs[d % 2][..y.len()]);
    Ok(())
}

/// Workspace of [`mode_apply`] for a square `n_k x n_k` factor on a tensor
/// with axis extents `dims`.
pub(crate) const fn mode_apply_workspace_len(dims: &[usize], k: usize) -> usize {
    mode_workspace_len(dims, dims, k)
}

/// `dst <- ` the mode-`k` product of the square `f` with the row-major
/// tensor `src` of axis extents `dims`: `2 N n_k` flops.
pub(crate) fn mode_apply<T: Real>(
    f: MatRef<'_, T>,
    dims: &[usize],
    k: usize,
    src: &[T],
    dst: &mut [T],
    ws: &mut [T],
) -> Result<()> {
    if src.is_empty() {
        return Ok(());
    }
    mode_product(
        f,
        prod(dims, 0, k),
        prod(dims, k + 1, dims.len()),
        src,
        dst,
        ws,
    )
}
