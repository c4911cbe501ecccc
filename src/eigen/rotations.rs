//! Deferred, blocked application of the QR rotations to the eigenvectors.
//!
//! Rotations act on columns of `Z`, so each row of `Z` transforms on its
//! own. The sweeps are logged, and when the log is full they are applied
//! [`ROW_BLOCK`] rows at a time: the rows are copied into a small packed
//! block (one `[T; ROW_BLOCK]` per column) that stays in L1 while every
//! logged sweep passes over it, the column carried from one rotation to the
//! next staying in registers. Each entry of `Z` is then read and written
//! once per flush instead of once per sweep.

use super::columns::Columns;
use super::qr::RotationSink;
use crate::real::{Real, madd};
use crate::simd::{FmaKernel, dispatch};

/// Rows of `Z` transformed together.
pub(crate) const ROW_BLOCK: usize = 16;
/// Most sweeps logged between two flushes.
const MAX_LOGGED: usize = 64;

/// A logged sweep: rotations `offset..offset + (m - l)` act on columns
/// `l..=m`.
#[derive(Clone, Copy)]
struct Logged {
    l: usize,
    m: usize,
    offset: usize,
}

/// Logs sweeps and applies them to the columns of `M` when full and on
/// [`RotationLog::flush`].
pub(crate) struct RotationLog<'c, 'a, 'w, 's, T> {
    cols: &'c mut Columns<'a, 'w, T>,
    pack: &'s mut [T],
    c: &'s mut [T],
    s: &'s mut [T],
    sweeps: [Logged; MAX_LOGGED],
    count: usize,
    used: usize,
}

impl<'c, 'a, 'w, 's, T: Real> RotationLog<'c, 'a, 'w, 's, T> {
    /// Uses `scratch` for the packed block ([`ROW_BLOCK`]` * n`) and, in the
    /// rest, as many rotations as fit (at least one sweep, `n - 1`, needed).
    pub(crate) fn new(cols: &'c mut Columns<'a, 'w, T>, scratch: &'s mut [T]) -> Self {
        let n = cols.order();
        let (pack, rest) = scratch.split_at_mut((ROW_BLOCK * n).min(scratch.len()));
        let (c, s) = rest.split_at_mut(rest.len() / 2);
        Self {
            cols,
            pack,
            c,
            s,
            sweeps: [Logged {
                l: 0,
                m: 0,
                offset: 0,
            }; MAX_LOGGED],
            count: 0,
            used: 0,
        }
    }

    /// Applies the logged sweeps, in order, to `M` and empties the log.
    pub(crate) fn flush(&mut self) {
        if self.count > 0 {
            dispatch(Apply {
                cols: self.cols,
                pack: self.pack,
                c: self.c,
                s: self.s,
                sweeps: &self.sweeps[..self.count],
            });
        }
        self.count = 0;
        self.used = 0;
    }
}

impl<T: Real> RotationSink<T> for RotationLog<'_, '_, '_, '_, T> {
    fn sweep(&mut self, l: usize, m: usize) -> Option<(&mut [T], &mut [T])> {
        let len = m - l;
        if self.count == MAX_LOGGED || self.used + len > self.c.len() {
            self.flush();
        }
        let offset = self.used;
        let slots = (
            self.c.get_mut(offset..offset + len)?,
            self.s.get_mut(offset..offset + len)?,
        );
        self.sweeps[self.count] = Logged { l, m, offset };
        self.count += 1;
        self.used += len;
        Some(slots)
    }
}

struct Apply<'r, 'a, 'w, T> {
    cols: &'r mut Columns<'a, 'w, T>,
    pack: &'r mut [T],
    c: &'r [T],
    s: &'r [T],
    sweeps: &'r [Logged],
}

impl<T: Real> FmaKernel for Apply<'_, '_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let Apply {
            cols,
            pack,
            c,
            s,
            sweeps,
        } = self;
        let n = cols.order();
        let lo = sweeps.iter().map(|w| w.l).min().unwrap_or(0);
        let hi = sweeps.iter().map(|w| w.m).max().unwrap_or(0);
        let Some(pack) = pack.get_mut(..(hi + 1 - lo) * ROW_BLOCK) else {
            return;
        };
        let (blocks, _) = pack.as_chunks_mut::<ROW_BLOCK>();
        for r0 in (0..n).step_by(ROW_BLOCK) {
            let h = ROW_BLOCK.min(n - r0);
            for (j, block) in (lo..).zip(blocks.iter_mut()) {
                let (rows, pad) = block.split_at_mut(h);
                cols.read_rows(j, r0, rows);
                pad.fill(T::zero());
            }
            for w in sweeps {
                let len = w.m - w.l;
                apply_sweep::<T, FMA>(
                    &mut blocks[w.l - lo..=w.m - lo],
                    &c[w.offset..w.offset + len],
                    &s[w.offset..w.offset + len],
                );
            }
            for (j, block) in (lo..).zip(blocks.iter()) {
                cols.write_rows(j, r0, &block[..h]);
            }
        }
    }
}

/// One sweep on a packed row block holding columns `l..=m`: rotation `i`
/// maps `(z_i, z_{i+1})` to `(c z_i + s z_{i+1}, -s z_i + c z_{i+1})`.
/// Column `i + 1` is final after rotation `i + 1`, so the column passed on
/// (`carry`) never leaves registers.
#[inline(always)]
fn apply_sweep<T: Real, const FMA: bool>(blocks: &mut [[T; ROW_BLOCK]], c: &[T], s: &[T]) {
    let Some((first, rest)) = blocks.split_first_mut() else {
        return;
    };
    let mut carry = *first;
    let mut done = first;
    for ((next, &ck), &sk) in rest.iter_mut().zip(c).zip(s) {
        let x = *next;
        let mut out = [T::zero(); ROW_BLOCK];
        for r in 0..ROW_BLOCK {
            out[r] = madd::<T, FMA>(ck, carry[r], sk * x[r]);
            carry[r] = madd::<T, FMA>(-sk, carry[r], ck * x[r]);
        }
        *done = out;
        done = next;
    }
    *done = carry;
}
