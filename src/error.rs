//! The crate's single error type.

use core::fmt;

/// Everything that can go wrong in gramkit.
///
/// Every public routine returns `Result<_, Error>`; none panics. Unless a
/// routine's documentation says it overwrites an argument, the caller's
/// data is unchanged when an error is returned.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// A Cholesky pivot was not positive (or was NaN): the leading
    /// `(pivot + 1) x (pivot + 1)` block is not numerically positive
    /// definite. `pivot` is a 0-based row index of the input matrix.
    NotPositiveDefinite {
        /// 0-based index of the failing pivot.
        pivot: usize,
    },
    /// Factor `factor` of a Kronecker product is not numerically positive
    /// definite: its Cholesky pivot `pivot` is not positive, or below
    /// `n eps max(diag)` (rounding level), so its log-determinant would be
    /// meaningless.
    NotPositiveDefiniteFactor {
        /// 0-based index of the factor.
        factor: usize,
        /// 0-based index of the failing pivot within that factor.
        pivot: usize,
    },
    /// A rank-one downdate `L L^T - x x^T` would not be positive definite:
    /// its leading `(index + 1) x (index + 1)` block is the first that
    /// fails. The factor is left unchanged.
    DowndateFailed {
        /// 0-based index of the first leading block that fails.
        index: usize,
    },
    /// An iterative method reached its iteration cap.
    NoConvergence {
        /// Iterations performed before giving up.
        iterations: usize,
    },
    /// An input holds a NaN or an infinity.
    NonFinite {
        /// Which argument.
        argument: &'static str,
        /// Row of the first non-finite entry (index for a vector).
        row: usize,
        /// Column of the first non-finite entry (0 for a vector).
        col: usize,
    },
    /// Sizes do not agree.
    DimensionMismatch {
        /// What was being compared, e.g. `"rhs rows"`.
        what: &'static str,
        /// The size the routine needed.
        expected: usize,
        /// The size it was given.
        got: usize,
    },
    /// The caller's scratch slice is shorter than the routine needs; the
    /// routine's `*_workspace_len` function gives `needed` in advance.
    WorkspaceTooSmall {
        /// Elements needed.
        needed: usize,
        /// Elements given.
        got: usize,
    },
    /// A parameter is out of its domain (a negative jitter, a zero
    /// tolerance, a view whose strides overlap, ...).
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// A size computation (`rows * cols`, a workspace length) overflows
    /// `usize`.
    SizeOverflow,
    /// A result is too large to represent in the scalar type (e.g. an
    /// eigenvalue of a matrix whose entries are near the largest finite
    /// value). Returned instead of an infinity.
    Overflow {
        /// What overflowed.
        what: &'static str,
    },
    /// An iterative solver met a direction of non-positive curvature: the
    /// operator (or preconditioner) is not symmetric positive definite.
    NotPositiveDefiniteOperator {
        /// Iteration at which it was detected.
        iteration: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NotPositiveDefinite { pivot } => write!(
                f,
                "matrix is not positive definite: pivot {pivot} is not positive"
            ),
            Error::NotPositiveDefiniteFactor { factor, pivot } => write!(
                f,
                "Kronecker factor {factor} is not numerically positive definite (pivot {pivot})"
            ),
            Error::DowndateFailed { index } => write!(
                f,
                "rank-one downdate would lose positive definiteness at index {index}; factor unchanged"
            ),
            Error::NoConvergence { iterations } => {
                write!(f, "no convergence after {iterations} iterations")
            }
            Error::NonFinite { argument, row, col } => write!(
                f,
                "argument `{argument}` holds a non-finite value at ({row}, {col})"
            ),
            Error::DimensionMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "dimension mismatch in {what}: expected {expected}, got {got}"
            ),
            Error::WorkspaceTooSmall { needed, got } => write!(
                f,
                "workspace too small: {needed} elements needed, {got} given"
            ),
            Error::InvalidParameter { name, requirement } => {
                write!(f, "invalid parameter `{name}`: {requirement}")
            }
            Error::SizeOverflow => write!(f, "size computation overflows usize"),
            Error::Overflow { what } => write!(f, "{what} is too large to represent"),
            Error::NotPositiveDefiniteOperator { iteration } => write!(
                f,
                "operator is not symmetric positive definite (non-positive curvature at iteration {iteration})"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for `core::result::Result<T, gramkit::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

/// Fails with [`Error::DimensionMismatch`] unless `got == expected`.
#[inline]
pub(crate) fn expect_dim(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Fails with [`Error::InvalidParameter`] unless `ok`.
#[inline]
pub(crate) fn require(ok: bool, name: &'static str, requirement: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name, requirement })
    }
}
