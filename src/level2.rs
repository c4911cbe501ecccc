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
    let mut acc = [T::zero(); LANES];
    let whole = len / LANES * LANES;
    for k0 in (0..whole).step_by(LANES) {
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
        for (i, yi) in y.iter_mut().enumerate().take(a.nrows()) {
            let len = row_len(shape, i, a.ncols());
            *yi = match a.row_slice(i) {
                Some(row) => dot_slices::<T, FMA>(&row[..len], &x[..len]),
                None => dot_with::<T, FMA>(len, |k| (a.at(i, k), x[k])),
            };
        }
    }
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
        for (i, &xi) in x.iter().enumerate().take(a.nrows()) {
            let len = row_len(shape, i, a.ncols());
            match a.row_slice(i) {
                Some(row) => axpy::<T, FMA>(xi, &row[..len], &mut y[..len]),
                None => {
                    for (k, yk) in y[..len].iter_mut().enumerate() {
                        *yk = madd::<T, FMA>(xi, a.at(i, k), *yk);
                    }
                }
            }
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
