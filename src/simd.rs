//! Runtime selection of the AVX2 + FMA code path on x86-64.
//!
//! Hot loops are written once, as plain generic Rust with a `const FMA:
//! bool` switch (see [`crate::real::madd`]), and compiled twice: for the
//! build's baseline target, and, under the `std` feature on x86-64, inside a
//! function compiled with `avx2,fma` that is picked at run time when the CPU
//! has them. Without `std` (firmware) only the compile-time target features
//! count. Results may differ in the last bits between the two paths, as with
//! any BLAS.

use core::sync::atomic::{AtomicBool, Ordering};

/// Set by [`force_portable_kernels`]: skip the runtime-selected path.
static PORTABLE_ONLY: AtomicBool = AtomicBool::new(false);

/// Forces (or stops forcing) the portable kernels even where the CPU has
/// AVX2 and FMA, so tests can check both code paths on one machine. Affects
/// the whole process; not for production use.
#[doc(hidden)]
pub fn force_portable_kernels(on: bool) {
    PORTABLE_ONLY.store(on, Ordering::Relaxed);
}

/// A computation whose hot loops take the `FMA` switch.
///
/// Implementations must mark `run` `#[inline(always)]`, and keep every hot
/// function it calls `#[inline(always)]`, so the whole loop nest is compiled
/// inside the feature-enabled wrapper.
pub(crate) trait FmaKernel {
    type Output;
    fn run<const FMA: bool>(self) -> Self::Output;
}

/// True when the build's own target features already include fused
/// multiply-add that `mul_add` lowers to (and `std` routes `mul_add` to it).
const COMPILED_FMA: bool =
    cfg!(feature = "std") && (cfg!(target_feature = "fma") || cfg!(target_arch = "aarch64"));

/// Runs `kernel` on the fastest code path this CPU supports.
#[inline]
pub(crate) fn dispatch<K: FmaKernel>(kernel: K) -> K::Output {
    #[cfg(all(
        feature = "std",
        target_arch = "x86_64",
        any(miri, not(target_feature = "fma"))
    ))]
    {
        if !PORTABLE_ONLY.load(Ordering::Relaxed) && avx2_fma_available() {
            // SAFETY: `run_avx2_fma` only requires the CPU to support AVX2 and
            // FMA, which was checked just above.
            #[allow(unsafe_code)]
            return unsafe { run_avx2_fma(kernel) };
        }
    }
    kernel.run::<COMPILED_FMA>()
}

/// Whether this CPU has AVX2 and FMA. Miri has no CPUID: there the build's
/// target features stand for the CPU's, so that a Miri run with
/// `-C target-feature=+avx2,+fma` executes (and checks) the call above.
#[cfg(all(
    feature = "std",
    target_arch = "x86_64",
    any(miri, not(target_feature = "fma"))
))]
fn avx2_fma_available() -> bool {
    if cfg!(miri) {
        cfg!(all(target_feature = "avx2", target_feature = "fma"))
    } else {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
}

#[cfg(all(
    feature = "std",
    target_arch = "x86_64",
    any(miri, not(target_feature = "fma"))
))]
#[target_feature(enable = "avx2,fma")]
fn run_avx2_fma<K: FmaKernel>(kernel: K) -> K::Output {
    kernel.run::<true>()
}
