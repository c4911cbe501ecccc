//! Cyclic Jacobi for small orders (Golub & Van Loan, alg. 8.5.3), on stack
//! arrays of order [`JACOBI_MAX`].
//!
//! Each rotation `J` in the plane `(p, q)` zeroes `a_pq` of `J^T A J` and
//! accumulates `V <- V J`. A rotation is skipped when
//! `|a_pq| <= eps sqrt(|a_pp| |a_qq|)` (or below a tiny absolute floor), and
//! the iteration stops after a sweep that skips them all.

use super::qr::jacobi_rotation;
use crate::error::{Error, Result};
use crate::real::Real;
use crate::view::{MatMut, MatRef};

/// Largest order handled by Jacobi.
pub(crate) const JACOBI_MAX: usize = 8;

type Square<T> = [[T; JACOBI_MAX]; JACOBI_MAX];

/// Eigen-decomposition of `sigma * A` (lower triangle of `a`, order at most
/// [`JACOBI_MAX`]): eigenvalues ascending into `values`, eigenvectors into
/// the columns of `vectors`.
///
/// # Errors
/// [`Error::NoConvergence`] after `max_sweeps` sweeps.
pub(crate) fn solve<T: Real>(
    a: MatRef<'_, T>,
    sigma: T,
    values: &mut [T],
    vectors: Option<MatMut<'_, T>>,
    max_sweeps: usize,
) -> Result<()> {
    let n = a.nrows().min(JACOBI_MAX);
    let mut m = [[T::zero(); JACOBI_MAX]; JACOBI_MAX];
    let mut v = [[T::zero(); JACOBI_MAX]; JACOBI_MAX];
    for i in 0..n {
        for j in 0..=i {
            let x = a.at(i, j) * sigma;
            m[i][j] = x;
            m[j][i] = x;
        }
        v[i][i] = T::one();
    }
    diagonalize(&mut m, &mut v, n, max_sweeps)?;
    let order = ascending_order(&m, n);
    for (w, &i) in values.iter_mut().zip(&order[..n]) {
        *w = m[i][i];
    }
    if let Some(mut out) = vectors {
        for (k, &i) in order[..n].iter().enumerate() {
            for (r, row) in v[..n].iter().enumerate() {
                *out.at_mut(r, k) = row[i];
            }
        }
    }
    Ok(())
}

/// Indices of the diagonal of `m` (first `n`) in ascending order.
fn ascending_order<T: Real>(m: &Square<T>, n: usize) -> [usize; JACOBI_MAX] {
    let mut order = [0; JACOBI_MAX];
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    let keys = &mut order[..n];
    keys.sort_unstable_by(|&i, &j| {
        m[i][i]
            .partial_cmp(&m[j][j])
            .unwrap_or(core::cmp::Ordering::Equal)
    });
    order
}

/// Cyclic-by-row Jacobi on the leading `n x n` of the symmetric `m`,
/// accumulating the rotations into `v`.
///
/// # Errors
/// [`Error::NoConvergence`] when the `max_sweeps`-th sweep still rotated.
pub(crate) fn diagonalize<T: Real>(
    m: &mut Square<T>,
    v: &mut Square<T>,
    n: usize,
    max_sweeps: usize,
) -> Result<()> {
    let floor = T::min_positive_value() / T::EPS;
    for _ in 0..max_sweeps {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p][q];
                let scale = m[p][p].abs().sqrt() * m[q][q].abs().sqrt();
                if apq.abs() <= T::EPS * scale || apq.abs() <= floor {
                    m[p][q] = T::zero();
                    m[q][p] = T::zero();
                    continue;
                }
                rotate(m, v, n, p, q);
                rotated = true;
            }
        }
        if !rotated {
            return Ok(());
        }
    }
    Err(Error::NoConvergence {
        iterations: max_sweeps,
    })
}

/// `m <- J^T m J`, `v <- v J` with the rotation that zeroes `m[p][q]`.
fn rotate<T: Real>(m: &mut Square<T>, v: &mut Square<T>, n: usize, p: usize, q: usize) {
    let (app, apq, aqq) = (m[p][p], m[p][q], m[q][q]);
    let (c, s, t) = jacobi_rotation(app, apq, aqq);
    for r in 0..n {
        let (x, y) = (m[r][p], m[r][q]);
        m[r][p] = c * x - s * y;
        m[r][q] = s * x + c * y;
    }
    for r in 0..n {
        m[p][r] = m[r][p];
        m[q][r] = m[r][q];
    }
    m[p][p] = app - t * apq;
    m[q][q] = aqq + t * apq;
    m[p][q] = T::zero();
    m[q][p] = T::zero();
    for row in v[..n].iter_mut() {
        let (x, y) = (row[p], row[q]);
        row[p] = c * x - s * y;
        row[q] = s * x + c * y;
    }
}
