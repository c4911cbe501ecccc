//! The scalar trait: `f32` and `f64`, with math routed to `std` or `libm`.
//!
//! [`Real`] is sealed: the crate's kernels are tuned and tested for exactly
//! these two types. Elementary functions come from [`num_traits::Float`],
//! which this crate configures to call `std` when the `std` feature is on and
//! `libm` otherwise, so firmware builds need no system math library.

use core::fmt::{Debug, Display, LowerExp};
use core::iter::Sum;
use core::ops::{AddAssign, DivAssign, MulAssign, SubAssign};
use num_traits::{Float, FloatConst};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A real floating-point scalar: `f32` or `f64`.
///
/// Everything in the crate is generic over this trait. Besides the
/// [`Float`] operations it provides lossless-enough conversions used by the
/// algorithms (tolerances, counts), without the `Option` of `NumCast`.
pub trait Real:
    Float
    + FloatConst
    + Default
    + Debug
    + Display
    + LowerExp
    + Send
    + Sync
    + 'static
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + sealed::Sealed
{
    /// Machine epsilon (`2^-52` for `f64`, `2^-23` for `f32`).
    const EPS: Self;
    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact for both types).
    fn as_f64(self) -> f64;
    /// Converts a count or index, rounding to nearest.
    fn from_usize(n: usize) -> Self;
}

impl Real for f64 {
    const EPS: Self = f64::EPSILON;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_usize(n: usize) -> Self {
        n as f64
    }
}

impl Real for f32 {
    const EPS: Self = f32::EPSILON;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_usize(n: usize) -> Self {
        n as f32
    }
}

/// `a * b + c`, fused when `FMA` says the hardware has it.
///
/// With `FMA == false` this is two roundings, never a call to the slow
/// software `fma` of `libm`.
#[inline(always)]
pub(crate) fn madd<T: Real, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA && cfg!(feature = "std") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}
