//! Stack high-water marks.
//!
//! cortex-m-rt's `paint-stack` feature makes the reset handler fill the
//! whole stack region, from `_stack_end` (the end of `.bss`/`.uninit`) up
//! to `_stack_start` (the top of RAM, where the stack begins and grows
//! down), with `0xCCCC_CCCC` before any Rust code runs. The stack only
//! ever overwrites that paint from the top down, so the words still holding
//! it, counted from `_stack_end` upward, are the part of the region the
//! program never reached. [`peak_during`] repaints the free part of the
//! region below the current stack pointer to measure one stretch of code.
//!
//! The firmware enables no interrupts, so nothing else uses the stack
//! below the running code.

/// cortex-m-rt's paint value (`cortex_m_rt::STACK_PAINT_VALUE`).
const PAINT: u32 = 0xCCCC_CCCC;

/// Bytes left unpainted below the repainting function's own locals: more
/// than its frame and the volatile-write loop need.
const MARGIN: usize = 256;

unsafe extern "C" {
    /// Top of the stack (end of RAM), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
    /// Lowest address the stack may use (end of static RAM).
    static _stack_end: u32;
}

/// Bounds `(bottom, top)` of the stack region.
fn region() -> (usize, usize) {
    (
        (&raw const _stack_end) as usize,
        (&raw const _stack_start) as usize,
    )
}

/// Size of the stack region, bytes.
pub fn region_len() -> usize {
    let (bottom, top) = region();
    top - bottom
}

/// Deepest extent of the stack since the region was last painted, bytes
/// from the top of RAM: `top - ` the first overwritten word.
#[inline(never)]
pub fn high_water_mark() -> usize {
    let (bottom, top) = region();
    let mut addr = bottom;
    // SAFETY: `[_stack_end, _stack_start)` is RAM reserved for the stack by
    // the linker script, 4-byte aligned at both ends (asserted there). The
    // words read lie below the deepest stack pointer since the paint (the
    // scan stops at the first overwritten word), so no live object is
    // read; volatile reads keep the compiler from assuming anything about
    // memory it did not see written.
    while addr < top && unsafe { core::ptr::read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    top - addr
}

/// Paints the stack region from `_stack_end` up to `MARGIN` bytes below
/// this function's locals.
#[inline(never)]
fn repaint() {
    let marker = 0u32;
    let here = core::hint::black_box(&raw const marker) as usize;
    let (bottom, _) = region();
    let end = (here - MARGIN) & !3;
    for addr in (bottom..end).step_by(4) {
        // SAFETY: `addr` is 4-byte aligned, in the stack region and more
        // than `MARGIN` bytes below this function's locals, so below the
        // stack pointer: no live object is there (no interrupts run), and
        // the memory is the stack's own, free to overwrite.
        unsafe { core::ptr::write_volatile(addr as *mut u32, PAINT) };
    }
}

/// Runs `f` and returns the deepest extent of the stack while it ran,
/// bytes from the top of RAM (so including the callers' frames).
pub fn peak_during(f: impl FnOnce()) -> usize {
    repaint();
    f();
    high_water_mark()
}
