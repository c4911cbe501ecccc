//! Matrix-vector kernels (internal), run through the FMA dispatch.
//!
//! Each public function here runs a whole product inside
//! [`dispatch`](crate::simd::dispatch), so its loops are compiled for AVX2 +
//! FMA where the CPU has them. Dot products use eight interleaved partial
//! sums, the same association for contiguous and strided operands, so that
//! a result does not depend on the storage layout.

use crate::real::{Real, madd};
use crate::simd::{FmaKernel, dispatch};
use crate::view::MatRef;

/// Which part of a square matrix a product reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Every entry.
    Full,
    /// The lower triangle only (the rest is taken as zero).
    Lower,
}

/// Partial sums of [`dot_with`].
const LANES: usize = 8;

/// `sum_k a_k b_k` for `(a_k, b_k) = pair(k)`, `k < len`, with eight
/// interleaved partial sums then the tail.
#[inline(always)]
pub(crate) fn dot_with<T: Real, const FMA: bool>(len: usize, pair: impl Fn(usize) -> (T, T)) -> T {
    finish_dot::<T, FMA>([T::zero(); LANES], 0, len, pair)
}

/// Continues [`dot_with`] from partial sums `acc` that already hold the
/// whole chunks below `from` (a multiple of [`LANES`]): the remaining whole
/// chunks, the tail, then the reduction. Every row of a blocked product
/// goes through here, so it sums exactly as the unblocked one.
#[inline(always)]
fn finish_dot<T: Real, const FMA: bool>(
    mut acc: [T; LANES],
    from: usize,
    len: usize,
    pair: impl Fn(usize) -> (T, T),
) -> T {
    let whole = len / LANES * LANES;
    for k0 in (from..whole).step_by(LANES) {
        for (l, a) in acc.iter_mut().enumerate() {
            let (x, y) = pair(k0 + l);
            *a = madd::<T, FMA>(x, y, *a);
        }
    }
    let tail = (whole..len).fold(T::zero(), |s, k| {
        let (x, y) = pair(k);
        madd::<T, FMA>(x, y, s)
    });
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// Rows a blocked product reads together.
pub(crate) const BLOCK: usize = 4;

/// The partial sums of [`dot_with`] for `rows[r] . x` over the whole chunks
/// below `to` (a multiple of [`LANES`]), the rows sharing each load of `x`:
/// `4 x 8` independent accumulators instead of `8`, so the loop runs at
/// the FMA throughput rather than its latency.
#[inline(always)]
pub(crate) fn block_partial_sums<T: Real, const FMA: bool>(
    rows: [&[T]; BLOCK],
    x: &[T],
    to: usize,
) -> [[T; LANES]; BLOCK] {
    let mut acc = [[T::zero(); LANES]; BLOCK];
    let rows = rows.map(|row| &row[..to]);
    for (c, xs) in x[..to].chunks_exact(LANES).enumerate() {
        for (a, row) in acc.iter_mut().zip(&rows) {
            let rs = &row[c * LANES..(c + 1) * LANES];
            for l in 0..LANES {
                a[l] = madd::<T, FMA>(rs[l], xs[l], a[l]);
            }
        }
    }
    acc
}

/// `row . x` over `len` entries, continuing the partial sums `acc` of the
/// chunks below `from` (from [`block_partial_sums`]).
#[inline(always)]
pub(crate) fn finish_row_dot<T: Real, const FMA: bool>(
    acc: [T; LANES],
    from: usize,
    row: &[T],
    x: &[T],
    len: usize,
) -> T {
    let (row, x) = (&row[..len], &x[..len]);
    finish_dot::<T, FMA>(acc, from, len, |k| (row[k], x[k]))
}

/// `y_k <- y_k + sum_r coeffs[r] rows[r][k]`, the rows added in order to
/// each entry (the sums of [`BLOCK`] successive [`axpy`] calls, with `y`
/// read and written once).
#[inline(always)]
pub(crate) fn block_axpy<T: Real, const FMA: bool>(
    coeffs: [T; BLOCK],
    rows: [&[T]; BLOCK],
    y: &mut [T],
) {
    let len = y.len();
    let rows = rows.map(|row| &row[..len]);
    for (k, yk) in y.iter_mut().enumerate() {
        let mut v = *yk;
        for (&c, row) in coeffs.iter().zip(&rows) {
            v = madd::<T, FMA>(c, row[k], v);
        }
        *yk = v;
    }
}

/// `y[..len(r)] += coeffs[r] rows[r][..len(r)]` for the rows of a block in
/// order, `len` non-decreasing: one pass over their common columns, then
/// the longer rows' own.
#[inline(always)]
fn block_axpy_rows<T: Real, const FMA: bool>(
    coeffs: [T; BLOCK],
    rows: [&[T]; BLOCK],
    len: impl Fn(usize) -> usize,
    y: &mut [T],
) {
    let common = len(0);
    block_axpy::<T, FMA>(coeffs, rows, &mut y[..common]);
    for r in 1..BLOCK {
        let end = len(r);
        axpy::<T, FMA>(coeffs[r], &rows[r][common..end], &mut y[common..end]);
    }
}

/// The largest multiple of [`LANES`] not above `len`.
#[inline(always)]
pub(crate) const fn whole_chunks(len: usize) -> usize {
    len / LANES * LANES
}

/// `x . y` over the common length, as [`dot_with`].
#[inline(always)]
pub(crate) fn dot_slices<T: Real, const FMA: bool>(x: &[T], y: &[T]) -> T {
    let len = x.len().min(y.len());
    let (x, y) = (&x[..len], &y[..len]);
    dot_with::<T, FMA>(len, |k| (x[k], y[k]))
}

/// `y <- y + alpha x` over the common length.
#[inline(always)]
pub(crate) fn axpy<T: Real, const FMA: bool>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = madd::<T, FMA>(alpha, xi, *yi);
    }
}

/// Columns of row `i` a product reads.
#[inline(always)]
fn row_len(shape: Shape, i: usize, ncols: usize) -> usize {
    match shape {
        Shape::Full => ncols,
        Shape::Lower => (i + 1).min(ncols),
    }
}

/// `y <- A x` as a dispatched computation.
struct Gemv<'a, 'x, 'y, T> {
    a: MatRef<'a, T>,
    shape: Shape,
    x: &'x [T],
    y: &'y mut [T],
}

impl<T: Real> FmaKernel for Gemv<'_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let Gemv { a, shape, x, y } = self;
        let m = a.nrows().min(y.len());
        let mut i = 0;
        while i < m {
            if i + BLOCK <= m
                && let Some(rows) = block_rows(a, i)
            {
                block_products::<T, FMA>(rows, |r| row_len(shape, i + r, a.ncols()), x, y, i);
                i += BLOCK;
                continue;
            }
            let len = row_len(shape, i, a.ncols());
            y[i] = match a.row_slice(i) {
                Some(row) => dot_slices::<T, FMA>(&row[..len], &x[..len]),
                None => dot_with::<T, FMA>(len, |k| (a.at(i, k), x[k])),
            };
            i += 1;
        }
    }
}

/// `y[i + r] <- rows[r][..len(r)] . x` for the rows of a block, `len`
/// non-decreasing, the rows sharing each load of `x` over the whole
/// chunks of the shortest.
#[inline(always)]
fn block_products<T: Real, const FMA: bool>(
    rows: [&[T]; BLOCK],
    len: impl Fn(usize) -> usize,
    x: &[T],
    y: &mut [T],
    i: usize,
) {
    let from = whole_chunks(len(0));
    let acc = block_partial_sums::<T, FMA>(rows, x, from);
    for (r, acc) in acc.into_iter().enumerate() {
        y[i + r] = finish_row_dot::<T, FMA>(acc, from, rows[r], x, len(r));
    }
}

/// One block of backward substitution with a row-major lower `L`: rows
/// `i..i + BLOCK` (`rows`) solve `x[i..i + BLOCK]` among themselves (last
/// row first), then update `x[..i]` in one pass, the rows in descending
/// order as the unblocked `x[..k] -= x_k L[k, ..k]` loop does.
#[inline(always)]
pub(crate) fn backward_block<T: Real, const FMA: bool>(rows: [&[T]; BLOCK], i: usize, x: &mut [T]) {
    for r in (0..BLOCK).rev() {
        let xr = x[i + r] / rows[r][i + r];
        x[i + r] = xr;
        axpy::<T, FMA>(-xr, &rows[r][i..i + r], &mut x[i..i + r]);
    }
    let coeffs = [-x[i + 3], -x[i + 2], -x[i + 1], -x[i]];
    let rows = [rows[3], rows[2], rows[1], rows[0]];
    block_axpy::<T, FMA>(coeffs, rows, &mut x[..i]);
}

/// `z <- L^{-T} z` for a lower-triangular `L` (`n x n`) and `w <- F^T z`
/// of the solution (`F`: `n x r`, or its lower triangle), as a dispatched
/// computation: rows of `L` and `F` read together, last first, each entry
/// of `z` added into `w` as soon as it is solved.
struct SolveUpperMulTranspose<'l, 'f, 'z, 'w, T> {
    l: MatRef<'l, T>,
    f: MatRef<'f, T>,
    shape: Shape,
    z: &'z mut [T],
    w: &'w mut [T],
}

impl<T: Real> FmaKernel for SolveUpperMulTranspose<'_, '_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let SolveUpperMulTranspose { l, f, shape, z, w } = self;
        let r = f.ncols();
        w.fill(T::zero());
        let mut end = z.len();
        while end > 0 {
            if end >= BLOCK
                && let (Some(l_rows), Some(f_rows)) =
                    (block_rows(l, end - BLOCK), block_rows(f, end - BLOCK))
            {
                let i = end - BLOCK;
                backward_block::<T, FMA>(l_rows, i, z);
                let coeffs = [z[i], z[i + 1], z[i + 2], z[i + 3]];
                block_axpy_rows::<T, FMA>(coeffs, f_rows, |q| row_len(shape, i + q, r), w);
                end = i;
                continue;
            }
            let i = end - 1;
            let zi = backward_row::<T, FMA>(l, i, z);
            for (k, wk) in w[..row_len(shape, i, r)].iter_mut().enumerate() {
                *wk = madd::<T, FMA>(zi, f.at(i, k), *wk);
            }
            end = i;
        }
    }
}

/// `z <- L^{-T} z` for the lower triangle `L` of the square `l`, and
/// `w <- F^T z` of the solution, reading the rows of both once. Lengths are
/// the caller's to check (`z`: `n`, `w`: `r`, `F`: `n x r`).
pub(crate) fn solve_upper_mul_transpose<T: Real>(
    l: MatRef<'_, T>,
    f: MatRef<'_, T>,
    shape: Shape,
    z: &mut [T],
    w: &mut [T],
) {
    dispatch(SolveUpperMulTranspose { l, f, shape, z, w });
}

/// `x <- (I - R^T R) x` for the rows of `R` (`t x len`, contiguous rows)
/// taken [`BLOCK`] at a time: each block's coefficients from the current
/// `x` (classical Gram-Schmidt within a block, modified across blocks), as
/// a dispatched computation.
struct ProjectOutRows<'r, 'x, T> {
    rows: MatRef<'r, T>,
    x: &'x mut [T],
}

impl<T: Real> FmaKernel for ProjectOutRows<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let ProjectOutRows { rows, x } = self;
        let (t, len) = rows.shape();
        let mut i = 0;
        while i < t {
            if i + BLOCK <= t
                && let Some(block) = block_rows(rows, i)
            {
                let mut c = [T::zero(); BLOCK];
                block_products::<T, FMA>(block, |_| len, x, &mut c, 0);
                block_axpy::<T, FMA>(c.map(|v| -v), block, &mut x[..len]);
                i += BLOCK;
                continue;
            }
            let c = dot_with::<T, FMA>(len, |k| (rows.at(i, k), x[k]));
            for (k, xk) in x[..len].iter_mut().enumerate() {
                *xk = madd::<T, FMA>(-c, rows.at(i, k), *xk);
            }
            i += 1;
        }
    }
}

/// `x <- (I - R^T R) x` for orthonormal rows `R` (`t x len`), blocked as
/// [`ProjectOutRows`] describes: `4 t len` flops. Lengths are the caller's
/// to check.
pub(crate) fn project_out_rows<T: Real>(rows: MatRef<'_, T>, x: &mut [T]) {
    dispatch(ProjectOutRows { rows, x });
}

/// One unblocked step of backward substitution through indexed access:
/// `z_i <- z_i / l_ii`, `z[..i] -= z_i L[i, ..i]`; returns `z_i`.
#[inline(always)]
fn backward_row<T: Real, const FMA: bool>(l: MatRef<'_, T>, i: usize, z: &mut [T]) -> T {
    let zi = z[i] / l.at(i, i);
    z[i] = zi;
    for (k, zk) in z[..i].iter_mut().enumerate() {
        *zk = madd::<T, FMA>(-zi, l.at(i, k), *zk);
    }
    zi
}

/// `y <- L x` and `z <- L^{-T} x` for a lower-triangular `L` with
/// contiguous rows, as a dispatched computation: one pass over `L`.
struct MulAndSolveUpper<'a, 'x, 'y, 'z, T> {
    l: MatRef<'a, T>,
    x: &'x [T],
    y: &'y mut [T],
    z: &'z mut [T],
}

impl<T: Real> FmaKernel for MulAndSolveUpper<'_, '_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let MulAndSolveUpper { l, x, y, z } = self;
        z.copy_from_slice(x);
        let mut end = x.len();
        while end > 0 {
            if end >= BLOCK
                && let Some(rows) = block_rows(l, end - BLOCK)
            {
                let i = end - BLOCK;
                block_products::<T, FMA>(rows, |r| i + r + 1, x, y, i);
                backward_block::<T, FMA>(rows, i, z);
                end = i;
                continue;
            }
            let i = end - 1;
            y[i] = dot_with::<T, FMA>(i + 1, |k| (l.at(i, k), x[k]));
            backward_row::<T, FMA>(l, i, z);
            end = i;
        }
    }
}

/// `y <- L x` and `z <- L^{-T} x` for the lower triangle `L` of the square
/// `l` (`n` each), reading `L` once: the same numbers as [`gemv`] with
/// [`Shape::Lower`] and a backward substitution. Lengths are the caller's
/// to check.
pub(crate) fn mul_and_solve_upper<T: Real>(l: MatRef<'_, T>, x: &[T], y: &mut [T], z: &mut [T]) {
    dispatch(MulAndSolveUpper { l, x, y, z });
}

/// Rows `i..i + BLOCK` of `a` as slices, when its rows are contiguous.
#[inline(always)]
pub(crate) fn block_rows<'a, T: Copy>(a: MatRef<'a, T>, i: usize) -> Option<[&'a [T]; BLOCK]> {
    Some([
        a.row_slice(i)?,
        a.row_slice(i + 1)?,
        a.row_slice(i + 2)?,
        a.row_slice(i + 3)?,
    ])
}

/// `y <- A^T x` as a dispatched computation.
struct GemvTranspose<'a, 'x, 'y, T> {
    a: MatRef<'a, T>,
    shape: Shape,
    x: &'x [T],
    y: &'y mut [T],
}

impl<T: Real> FmaKernel for GemvTranspose<'_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let GemvTranspose { a, shape, x, y } = self;
        y.fill(T::zero());
        let m = a.nrows().min(x.len());
        let mut i = 0;
        while i < m {
            if i + BLOCK <= m
                && let Some(rows) = block_rows(a, i)
            {
                // the rows in order over their common columns, then the
                // longer rows' own columns: the sums of the unblocked loop
                let coeffs = [x[i], x[i + 1], x[i + 2], x[i + 3]];
                block_axpy_rows::<T, FMA>(coeffs, rows, |r| row_len(shape, i + r, a.ncols()), y);
                i += BLOCK;
                continue;
            }
            let len = row_len(shape, i, a.ncols());
            match a.row_slice(i) {
                Some(row) => axpy::<T, FMA>(x[i], &row[..len], &mut y[..len]),
                None => {
                    for (k, yk) in y[..len].iter_mut().enumerate() {
                        *yk = madd::<T, FMA>(x[i], a.at(i, k), *yk);
                    }
                }
            }
            i += 1;
        }
    }
}

/// `y <- A x` (`A`: `m x n`, or its lower triangle), `2 m n` flops (half for
/// the triangle). Lengths are the caller's to check.
pub(crate) fn gemv<T: Real>(a: MatRef<'_, T>, shape: Shape, x: &[T], y: &mut [T]) {
    dispatch(Gemv { a, shape, x, y });
}

/// `y <- A^T x` (`A`: `m x n`, or its lower triangle), `2 m n` flops (half for
/// the triangle). Lengths are the caller's to check.
pub(crate) fn gemv_transpose<T: Real>(a: MatRef<'_, T>, shape: Shape, x: &[T], y: &mut [T]) {
    dispatch(GemvTranspose { a, shape, x, y });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in `[-1, 1)`.
    fn values(len: usize, seed: u64) -> [f64; 64 * 64] {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = [0.0; 64 * 64];
        for v in out.iter_mut().take(len) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *v = (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
        }
        out
    }

    /// A lower-triangular matrix with a dominant diagonal, row-major `n x n`.
    fn lower(n: usize, seed: u64) -> [f64; 64 * 64] {
        let mut l = values(n * n, seed);
        for i in 0..n {
            l[i * n + i] = 2.0 + l[i * n + i].abs();
        }
        l
    }

    /// The same matrix column-major: no contiguous rows, so every kernel
    /// takes its unblocked, indexed path.
    fn col_major(a: &[f64], m: usize, n: usize) -> [f64; 64 * 64] {
        let mut out = [0.0; 64 * 64];
        for i in 0..m {
            for j in 0..n {
                out[j * m + i] = a[i * n + j];
            }
        }
        out
    }

    const SIZES: [usize; 8] = [0, 1, 3, 4, 5, 8, 13, 37];

    #[test]
    fn blocked_products_sum_as_the_unblocked_ones() {
        for n in SIZES {
            for shape in [Shape::Full, Shape::Lower] {
                let a = values(n * n, n as u64);
                let at = col_major(&a, n, n);
                let rows = MatRef::from_row_major(&a[..n * n], n, n).unwrap();
                let cols = MatRef::from_col_major(&at[..n * n], n, n).unwrap();
                let x = values(n, 99);
                let (mut y1, mut y2) = ([0.0; 64], [0.0; 64]);
                gemv(rows, shape, &x[..n], &mut y1[..n]);
                gemv(cols, shape, &x[..n], &mut y2[..n]);
                assert_eq!(y1, y2, "gemv n = {n}");
                gemv_transpose(rows, shape, &x[..n], &mut y1[..n]);
                gemv_transpose(cols, shape, &x[..n], &mut y2[..n]);
                assert_eq!(y1, y2, "gemv_transpose n = {n}");
                // and they compute the product
                for (j, &yj) in y1.iter().enumerate().take(n) {
                    let len = |i| row_len(shape, i, n);
                    let want: f64 = (0..n)
                        .filter(|&i| j < len(i))
                        .map(|i| a[i * n + j] * x[i])
                        .sum();
                    assert!((yj - want).abs() < 1e-13 * n as f64, "n = {n}, {j}");
                }
            }
        }
    }

    /// `x <- L^{-T} x` by the unblocked indexed loop.
    fn backward_reference(l: MatRef<'_, f64>, x: &mut [f64]) {
        for i in (0..x.len()).rev() {
            x[i] /= l.at(i, i);
            for k in 0..i {
                x[k] = madd::<f64, false>(-x[i], l.at(i, k), x[k]);
            }
        }
    }

    #[test]
    fn fused_passes_give_the_separate_results() {
        for n in SIZES {
            let l_data = lower(n, 7 + n as u64);
            let l = MatRef::from_row_major(&l_data[..n * n], n, n).unwrap();
            let x = values(n, 5);
            // y = L x and z = L^{-T} x in one pass: the same bits as apart
            let (mut y, mut z) = ([0.0; 64], [0.0; 64]);
            dispatch(MulAndSolveUpper {
                l,
                x: &x[..n],
                y: &mut y[..n],
                z: &mut z[..n],
            });
            let mut y_apart = [0.0; 64];
            gemv(l, Shape::Lower, &x[..n], &mut y_apart[..n]);
            assert_eq!(y, y_apart, "n = {n}");
            let mut z_ref = x;
            backward_reference(l, &mut z_ref[..n]);
            for k in 0..n {
                assert!((z[k] - z_ref[k]).abs() <= 1e-14 * (1.0 + z_ref[k].abs()));
            }
            // z = L^{-T} x and w = F^T z in one pass
            let f_data = values(n * 3, 11);
            for (f, shape) in [
                (
                    MatRef::from_row_major(&f_data[..n * 3], n, 3).unwrap(),
                    Shape::Full,
                ),
                (l, Shape::Lower),
            ] {
                let (mut z2, mut w) = (x, [0.0; 64]);
                solve_upper_mul_transpose(l, f, shape, &mut z2[..n], &mut w[..f.ncols()]);
                assert_eq!(z2[..n], z[..n], "n = {n}");
                let mut w_apart = [0.0; 64];
                gemv_transpose(f, shape, &z[..n], &mut w_apart[..f.ncols()]);
                for k in 0..f.ncols() {
                    assert!((w[k] - w_apart[k]).abs() <= 1e-13 * (1.0 + w_apart[k].abs()));
                }
            }
        }
    }

    #[test]
    fn projecting_out_orthonormal_rows_leaves_the_orthogonal_part() {
        // rows e_{2i+1} of R^len: the projection zeroes the odd entries only
        for t in [0, 1, 3, 4, 5, 9] {
            let len = 2 * t + 3;
            let mut r = [0.0; 64 * 64];
            for i in 0..t {
                r[i * len + 2 * i + 1] = 1.0;
            }
            let rows = MatRef::from_row_major(&r[..t * len], t, len).unwrap();
            let x0 = values(len, 3);
            let mut x = x0;
            project_out_rows(rows, &mut x[..len]);
            for k in 0..len {
                let want = if k % 2 == 1 && k < 2 * t { 0.0 } else { x0[k] };
                assert_eq!(x[k], want, "t = {t}, k = {k}");
            }
        }
    }
}
