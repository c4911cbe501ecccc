//! Rank-one update and downdate of a factor (stub: being written).

/// Workspace length of [`Cholesky::update`](super::Cholesky) for order `n`.
pub const fn cholesky_update_workspace_len(n: usize) -> usize {
    n
}

/// Workspace length of [`Cholesky::downdate`](super::Cholesky) for order `n`.
pub const fn cholesky_downdate_workspace_len(n: usize) -> usize {
    n
}
