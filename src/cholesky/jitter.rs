//! Factor with a growing diagonal shift (stub: being written).
use super::CholeskyMut;
use crate::error::Result;
use crate::real::Real;
use crate::view::MatMut;

/// Jitter schedule (stub).
#[derive(Debug, Clone, Copy)]
pub struct JitterOptions<T> {
    /// First shift relative to the mean diagonal.
    pub initial: T,
}

/// Workspace length (stub).
pub const fn cholesky_jitter_in_place_workspace_len(n: usize) -> usize {
    super::cholesky_in_place_workspace_len(n)
}

/// Stub.
pub fn cholesky_jitter_in_place<'a, T: Real>(
    a: MatMut<'a, T>,
    _opts: JitterOptions<T>,
    ws: &mut [T],
) -> Result<(CholeskyMut<'a, T>, T)> {
    super::cholesky_in_place(a, ws).map(|c| (c, T::zero()))
}
