//! Dense products over views.

use crate::error::{Result, expect_dim};
use crate::kernel::{self, KC, MR, NR, Part};
use crate::real::{Real, madd};
use crate::simd::{FmaKernel, dispatch};
use crate::view::{MatMut, MatRef, check_finite_slice};
use crate::workspace::{Workspace, add};

/// Workspace length of [`matmul`] for `C` of `m x n` and inner dimension
/// `k`: the two packed operand blocks, about `(m + n) * min(k, 256)`
/// elements (each side rounded up to whole micro-panels).
pub const fn matmul_workspace_len(m: usize, n: usize, k: usize) -> usize {
    let kc = if k < KC { k } else { KC };
    add(panel_len(m, kc), panel_len(n, kc))
}

/// Packed length of `rows x kc` as either kind of micro-panel.
const fn panel_len(rows: usize, kc: usize) -> usize {
    let a = kernel::packed_len(rows, kc, MR);
    let b = kernel::packed_len(rows, kc, NR);
    if a > b { a } else { b }
}

/// `C <- alpha * A * B + beta * C`.
///
/// `A` is `m x k`, `B` is `k x n`, `C` is `m x n`; any strides (pass
/// `a.transpose()` for `A^T`). When `beta == 0`, `C` is not read (so it may
/// hold NaN). Cost `2 m n k` flops through a packed, register-blocked
/// kernel; workspace [`matmul_workspace_len`]`(m, n, k)`.
///
/// # Errors
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) on
/// incompatible shapes, [`Error::NonFinite`](crate::Error::NonFinite) if
/// `A`, `B` (or `C` when `beta != 0`) hold NaN or infinity,
/// [`Error::WorkspaceTooSmall`](crate::Error::WorkspaceTooSmall). On error
/// `C` is unchanged.
///
/// ```
/// use gramkit::{MatMut, MatRef, dense::{matmul, matmul_workspace_len}};
/// let a = [[1.0, 2.0], [3.0, 4.0]];
/// let mut c = [[0.0; 2]; 2];
/// let mut ws = vec![0.0; matmul_workspace_len(2, 2, 2)];
/// let a = MatRef::from_array(&a);
/// matmul(MatMut::from_array(&mut c), 1.0, a, a.transpose(), 0.0, &mut ws)?;
/// assert_eq!(c, [[5.0, 11.0], [11.0, 25.0]]);
/// # Ok::<(), gramkit::Error>(())
/// ```
pub fn matmul<T: Real>(
    c: MatMut<'_, T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    ws: &mut [T],
) -> Result<()> {
    let (m, n) = c.shape();
    let k = a.ncols();
    expect_dim("matmul: rows of A vs rows of C", m, a.nrows())?;
    expect_dim("matmul: rows of B vs columns of A", k, b.nrows())?;
    expect_dim("matmul: columns of B vs columns of C", n, b.ncols())?;
    check_finite_slice(&[alpha, beta], "matmul: alpha, beta")?;
    a.check_finite("A")?;
    b.check_finite("B")?;
    if beta != T::zero() {
        c.rb().check_finite("C")?;
    }
    matmul_unchecked(c, alpha, a, b, beta, ws)
}

/// [`matmul`] without the finiteness checks, for callers whose operands
/// are already known to be finite (the shapes must agree). With
/// `beta == 0` and `k > 0`, `C` is written directly, not zeroed first.
pub(crate) fn matmul_unchecked<T: Real>(
    c: MatMut<'_, T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    ws: &mut [T],
) -> Result<()> {
    matmul_part(c, alpha, a, b, beta, Part::Full, ws)
}

/// `C <- alpha A A^T + beta C` on the lower triangle of `C` only (its
/// strictly upper part is left as it was): half the flops of [`matmul`].
/// The operands must be finite; workspace
/// [`matmul_workspace_len`]`(n, n, k)`.
pub(crate) fn gram_lower<T: Real>(
    c: MatMut<'_, T>,
    alpha: T,
    a: MatRef<'_, T>,
    beta: T,
    ws: &mut [T],
) -> Result<()> {
    expect_dim("gram: rows of A vs order of C", c.nrows(), a.nrows())?;
    expect_dim("gram: order of C", c.nrows(), c.ncols())?;
    matmul_part(c, alpha, a, a.transpose(), beta, Part::Lower, ws)
}

/// The product on the entries `part` of `C`.
fn matmul_part<T: Real>(
    mut c: MatMut<'_, T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    part: Part,
    ws: &mut [T],
) -> Result<()> {
    let (m, n) = c.shape();
    let k = a.ncols();
    let mut ws = Workspace::new(ws, matmul_workspace_len(m, n, k))?;
    let kc = k.min(KC);
    let ap = ws.take(panel_len(m, kc))?;
    let bp = ws.take(panel_len(n, kc))?;
    let overwrite = beta == T::zero() && k > 0;
    if !overwrite {
        scale(&mut c, beta, part);
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    // The kernel stores whole tiles fastest into contiguous columns: for a
    // row-major `C`, compute `C^T = B^T A^T` instead.
    if c.col_stride() == 1 && c.row_stride() != 1 {
        let (a, b) = (b.transpose(), a.transpose());
        let part = match part {
            Part::Lower => Part::Upper,
            Part::Upper => Part::Lower,
            Part::Full => Part::Full,
        };
        dispatch(Product {
            c: c.transpose(),
            alpha,
            a,
            b,
            ap: bp,
            bp: ap,
            part,
            overwrite,
        });
    } else {
        dispatch(Product {
            c,
            alpha,
            a,
            b,
            ap,
            bp,
            part,
            overwrite,
        });
    }
    Ok(())
}

/// `C <- beta * C` on the entries `part`, writing zeros (not `0 * C`)
/// when `beta == 0`.
fn scale<T: Real>(c: &mut MatMut<'_, T>, beta: T, part: Part) {
    if beta == T::one() {
        return;
    }
    for i in 0..c.nrows() {
        let columns = match part {
            Part::Full => 0..c.ncols(),
            Part::Lower => 0..(i + 1).min(c.ncols()),
            Part::Upper => i.min(c.ncols())..c.ncols(),
        };
        for j in columns {
            let cij = c.at_mut(i, j);
            *cij = if beta == T::zero() {
                T::zero()
            } else {
                *cij * beta
            };
        }
    }
}

struct Product<'a, 'b, T> {
    c: MatMut<'a, T>,
    alpha: T,
    a: MatRef<'a, T>,
    b: MatRef<'a, T>,
    ap: &'b mut [T],
    bp: &'b mut [T],
    /// Which entries of `C` to compute.
    part: Part,
    /// Write the first depth block instead of adding it.
    overwrite: bool,
}

impl<T: Real> FmaKernel for Product<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let Product {
            mut c,
            alpha,
            a,
            b,
            ap,
            bp,
            part,
            overwrite,
        } = self;
        let k = a.ncols();
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            // The shapes were checked by `matmul`, so these blocks exist.
            let (Ok(ab), Ok(bb)) = (
                a.submatrix(0, k0, a.nrows(), kc),
                b.submatrix(k0, 0, kc, b.ncols()),
            ) else {
                return;
            };
            kernel::pack::<T, MR>(ab, ap);
            kernel::pack::<T, NR>(bb.transpose(), bp);
            let accumulate = !(overwrite && k0 == 0);
            kernel::gemm_packed::<T, FMA>(&mut c, alpha, ap, bp, kc, part, accumulate);
        }
    }
}

/// `x . y` with four partial sums (better accuracy and speed than one).
#[inline]
pub(crate) fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    let len = x.len().min(y.len());
    dot_by(len, |k| (x[k], y[k]))
}

/// `sum_k a_k b_k` for `(a_k, b_k) = pair(k)`, `k < len`, associated as
/// [`dot`] does (four interleaved partial sums, then the tail), so that a
/// strided operand gives the same bits as a contiguous one.
#[inline(always)]
pub(crate) fn dot_by<T: Real>(len: usize, pair: impl Fn(usize) -> (T, T)) -> T {
    let mut acc = [T::zero(); 4];
    let whole = len / 4 * 4;
    for k0 in (0..whole).step_by(4) {
        for (l, a) in acc.iter_mut().enumerate() {
            let (x, y) = pair(k0 + l);
            *a = madd::<T, false>(x, y, *a);
        }
    }
    let tail = (whole..len).fold(T::zero(), |s, k| {
        let (x, y) = pair(k);
        madd::<T, false>(x, y, s)
    });
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `max_i |v_i|` (zero for no entries).
pub(crate) fn max_abs<T: Real>(v: impl Iterator<Item = T>) -> T {
    v.fold(T::zero(), |m, x| m.max(x.abs()))
}

/// Euclidean norm without overflow or underflow, `m sqrt(sum (v/m)^2)` with `m` the
/// largest magnitude; NaN if any value is not finite.
pub(crate) fn scaled_norm<T: Real>(v: impl Iterator<Item = T> + Clone) -> T {
    let mut m = T::zero();
    for x in v.clone() {
        if !x.is_finite() {
            return T::nan();
        }
        m = m.max(x.abs());
    }
    if m == T::zero() {
        return m;
    }
    let s: T = v.map(|x| (x / m) * (x / m)).sum();
    m * s.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_lower_matches_the_full_product_on_the_lower_triangle() {
        let (n, k) = (19, 11);
        let a: [f64; 19 * 11] = core::array::from_fn(|i| ((i * 37 % 23) as f64 - 11.0) / 7.0);
        let a = MatRef::from_row_major(&a, n, k).unwrap();
        for column_major in [false, true] {
            let mut full = [0.5; 19 * 19];
            let mut part = [0.5; 19 * 19];
            let mut ws = [0.0; matmul_workspace_len(19, 19, 11)];
            fn view(d: &mut [f64], column_major: bool) -> MatMut<'_, f64> {
                match column_major {
                    true => MatMut::from_strided(d, 19, 19, 1, 19),
                    false => MatMut::from_row_major(d, 19, 19),
                }
                .unwrap()
            }
            let c = view(&mut full, column_major);
            matmul(c, 2.0, a, a.transpose(), 0.5, &mut ws).unwrap();
            gram_lower(view(&mut part, column_major), 2.0, a, 0.5, &mut ws).unwrap();
            let (full, part) = (view(&mut full, column_major), view(&mut part, column_major));
            for i in 0..n {
                for j in 0..n {
                    let expected = if j <= i { full.at(i, j) } else { 0.5 };
                    assert!((part.at(i, j) - expected).abs() < 1e-12, "{i} {j}");
                }
            }
        }
    }
}
