//! Runs gramkit's no_std core on an emulated Cortex-M (QEMU `lm3s6965evb`
//! for `thumbv7m-none-eabi`, `mps2-an386` for `thumbv7em-none-eabihf`) and
//! compares every result with values computed on the host at build time.
//!
//! Everything lives in fixed-size buffers: there is no allocator. Output
//! goes through semihosting; the exit status is success only if every
//! check passed.
#![no_std]
#![no_main]

mod cases;
mod chol;
mod fair;
mod kron_gp;
mod report;
mod stack;

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use gramkit::cholesky::cholesky_in_place_workspace_len;
use report::Report;

// Tolerances, on `max|got - want| / max(1, max|want|)` (see
// `report::max_err`). The condition numbers `c` of the matrices solved
// with are in the generated `expected.rs`: at most 41 for the Cholesky
// problems, 147 for the GP's `K + s^2 I`, 18 for the fair projection's
// `K + lambda I`. Each tolerance sits about 10x to 100x above the errors
// observed and near `c * eps` of its precision (f64 2.2e-16, f32 1.2e-7).

/// Cholesky, f64: the factor is better conditioned than solves with it.
const CHOL_F64: chol::Tolerance = chol::Tolerance {
    factor: 1e-13,
    solve: 1e-12,
    log_det: 1e-12,
};
/// Cholesky, f32 (`c eps` up to 5e-6).
const CHOL_F32: chol::Tolerance = chol::Tolerance {
    factor: 2e-6,
    solve: 2e-5,
    log_det: 2e-5,
};
/// Kronecker GP, f64: eigen form vs. a dense Cholesky of the materialized
/// `K + s^2 I`.
const KRON_F64: kron_gp::Tolerance = kron_gp::Tolerance {
    solve: 1e-12,
    log_det: 1e-12,
    lml: 1e-12,
    mean: 1e-12,
};
/// Kronecker GP, f32 (`c eps` = 1.7e-5).
const KRON_F32: kron_gp::Tolerance = kron_gp::Tolerance {
    solve: 2e-5,
    log_det: 2e-5,
    lml: 2e-5,
    mean: 2e-5,
};
/// Fair projection's `K_k`, f64: factor form vs. the literal recurrence.
const FAIR_F64: f64 = 1e-12;
/// Fair projection's `K_k`, f32 (`c eps` = 2.2e-6).
const FAIR_F32: f64 = 1e-5;

/// A named group of checks.
type Group = (&'static str, fn(&mut Report));

/// The checks, in groups whose peak stack use is reported separately,
/// after a baseline: formatting one error the way every check line does.
const GROUPS: [Group; 7] = [
    ("baseline: formatting a check line", format_baseline),
    ("FixedCholesky n=4,8 f64+f32", fixed_checks),
    ("cholesky_in_place n=12 f64+f32", in_place_12),
    ("cholesky_in_place n=36 f64", in_place_36_f64),
    ("cholesky_in_place n=36 f32", in_place_36_f32),
    ("kron GP 4x5 f64+f32", kron_checks),
    ("fair n=8 f64+f32", fair_checks),
];

#[entry]
fn main() -> ! {
    hprintln!(
        "gramkit firmware on QEMU {} ({})",
        env!("GRAMKIT_FW_MACHINE"),
        env!("GRAMKIT_FW_TARGET")
    );
    // Everything since reset, before any repaint.
    let mut peak = stack::high_water_mark();
    let mut r = Report::default();
    let mut peaks = [0usize; GROUPS.len()];
    for ((_, group), p) in GROUPS.iter().zip(&mut peaks) {
        *p = stack::peak_during(|| group(&mut r));
        peak = peak.max(*p);
    }
    // A check that cannot pass, to see that a failure fails the run.
    #[cfg(feature = "inject-failure")]
    r.check("injected failure", 1.0, 0.0);
    for ((name, _), p) in GROUPS.iter().zip(peaks) {
        hprintln!("stack peak {:<34} {:>6} bytes", name, p);
    }
    finish(&r, peak)
}

/// Formats an f64 as the check lines do (`{:9.2e}`), into nothing: the
/// stack that core's float formatting takes, part of every group's peak.
#[inline(never)]
fn format_baseline(_: &mut Report) {
    /// A `fmt::Write` that drops its input.
    struct Discard;
    impl core::fmt::Write for Discard {
        fn write_str(&mut self, _: &str) -> core::fmt::Result {
            Ok(())
        }
    }
    let x = core::hint::black_box(1.2345e-7f64);
    let _ = core::fmt::write(&mut Discard, format_args!("{x:9.2e}"));
}

/// Fixed-size factors of order 4 and 8, both precisions.
#[inline(never)]
fn fixed_checks(r: &mut Report) {
    chol::fixed::<f64, 4>(r, &cases::CHOL4_F64, CHOL_F64);
    chol::fixed::<f64, 8>(r, &cases::CHOL8_F64, CHOL_F64);
    chol::fixed::<f32, 4>(r, &cases::CHOL4_F32, CHOL_F32);
    chol::fixed::<f32, 8>(r, &cases::CHOL8_F32, CHOL_F32);
}

/// The GP on the 4 x 5 grid, both precisions.
#[inline(never)]
fn kron_checks(r: &mut Report) {
    kron_gp::run::<f64>(r, &cases::KRON_F64, KRON_F64);
    kron_gp::run::<f32>(r, &cases::KRON_F32, KRON_F32);
}

/// The fair projection, both precisions.
#[inline(never)]
fn fair_checks(r: &mut Report) {
    fair::run::<f64>(r, &cases::FAIR_F64, FAIR_F64);
    fair::run::<f32>(r, &cases::FAIR_F32, FAIR_F32);
}

/// In-place factor of order 12 (unblocked), both precisions: matrix and
/// workspace on the stack.
#[inline(never)]
fn in_place_12(r: &mut Report) {
    const WS: usize = cholesky_in_place_workspace_len(12);
    chol::in_place::<f64, 12>(
        r,
        &cases::CHOL12_F64,
        &mut [0.0; 144],
        &mut [0.0; WS],
        CHOL_F64,
    );
    chol::in_place::<f32, 12>(
        r,
        &cases::CHOL12_F32,
        &mut [0.0; 144],
        &mut [0.0; WS],
        CHOL_F32,
    );
}

/// In-place factor of order 36 (blocked: above the crate's 32) in f64: 10 KiB of matrix and 32 KiB of packing workspace on
/// the stack, the largest frame of the run.
#[inline(never)]
fn in_place_36_f64(r: &mut Report) {
    const WS: usize = cholesky_in_place_workspace_len(36);
    chol::in_place::<f64, 36>(
        r,
        &cases::CHOL36_F64,
        &mut [0.0; 1296],
        &mut [0.0; WS],
        CHOL_F64,
    );
}

/// In-place factor of order 36 in f32.
#[inline(never)]
fn in_place_36_f32(r: &mut Report) {
    const WS: usize = cholesky_in_place_workspace_len(36);
    chol::in_place::<f32, 36>(
        r,
        &cases::CHOL36_F32,
        &mut [0.0; 1296],
        &mut [0.0; WS],
        CHOL_F32,
    );
}

/// Prints the summary and the overall stack high-water mark (`peak` so
/// far, or what the stack reached since), and exits with the result.
fn finish(r: &Report, peak: usize) -> ! {
    let peak = peak.max(stack::high_water_mark());
    hprintln!("test data in flash: {} bytes", cases::data_bytes());
    hprintln!(
        "stack high-water mark: {} bytes (of a {}-byte stack region)",
        peak,
        stack::region_len()
    );
    hprintln!("{} passed, {} failed", r.passed, r.failed);
    let status = if r.failed == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    };
    exit(status)
}

/// Ends the QEMU run through semihosting.
fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Any panic fails the run, with its message.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("PANIC: {}", info);
    exit(debug::EXIT_FAILURE)
}

/// A hard fault (bad access, undefined instruction) fails the run at once
/// instead of hanging until the runner's timeout. cortex-m-rt requires the
/// handler to be declared `unsafe fn`; it performs no unsafe operation.
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HARD FAULT: {:?}", frame);
    exit(debug::EXIT_FAILURE)
}
