//! Pivoted (partial) Cholesky (stub: being written).
use crate::real::Real;

/// Entries of a symmetric matrix (stub).
pub trait SymmetricSource<T: Real> {}
/// Closure source (stub).
pub struct FnSource<F>(pub F);
/// Options (stub).
pub struct PivotedOptions;
/// Result (stub).
pub struct PivotedCholesky;
/// Workspace length (stub).
pub const fn pivoted_cholesky_workspace_len(n: usize) -> usize {
    n
}
/// Stub.
pub fn pivoted_cholesky() {}
