//! Caller-supplied scratch space.
//!
//! Every routine that needs scratch memory takes `ws: &mut [T]` and has a
//! `const fn <routine>_workspace_len(..) -> usize` that says how long it must
//! be. A short slice gives [`Error::WorkspaceTooSmall`], never a panic.
//! Workspace lengths are computed with saturating arithmetic: a size that
//! would overflow `usize` reports `usize::MAX`, which no slice can meet.

use crate::error::{Error, Result};

/// Carves a caller's workspace into the pieces a routine needs.
pub(crate) struct Workspace<'a, T> {
    rest: &'a mut [T],
}

impl<'a, T> Workspace<'a, T> {
    /// Checks that `ws` holds at least `needed` elements.
    #[inline]
    pub(crate) fn new(ws: &'a mut [T], needed: usize) -> Result<Self> {
        if ws.len() < needed {
            return Err(Error::WorkspaceTooSmall {
                needed,
                got: ws.len(),
            });
        }
        Ok(Self { rest: ws })
    }

    /// The next `len` elements. The constructor's check covers every piece
    /// a routine takes, so running short is a bug in the routine's
    /// `*_workspace_len`; it is reported, not panicked on.
    #[inline]
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a mut [T]> {
        let rest = core::mem::take(&mut self.rest);
        if len > rest.len() {
            return Err(Error::WorkspaceTooSmall {
                needed: len,
                got: rest.len(),
            });
        }
        let (head, tail) = rest.split_at_mut(len);
        self.rest = tail;
        Ok(head)
    }
}

/// `a * b`, saturating at `usize::MAX`.
#[inline]
pub(crate) const fn mul(a: usize, b: usize) -> usize {
    a.saturating_mul(b)
}

/// `a + b`, saturating at `usize::MAX`.
#[inline]
pub(crate) const fn add(a: usize, b: usize) -> usize {
    a.saturating_add(b)
}
