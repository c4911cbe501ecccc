//! The fair null-space projection `gramkit::fair::fair_transform` on
//! `n = 8` points, `p = 1` attribute, `k = 2` iterations, with buffers
//! sized by the crate's `const fn`s.

use crate::cases::FairCase;
use crate::report::{Report, convert_mat, label, max_err, precision};
use gramkit::fair::{
    FairOptions, fair_index_workspace_len, fair_steps_len, fair_transform, fair_workspace_len,
};
use gramkit::{MatMut, MatRef, Real};

/// Points.
pub const N: usize = 8;
/// Protected attributes.
pub const P: usize = 1;
/// Iterations of the recurrence.
pub const K: usize = 2;
/// Scratch of `fair_transform`.
pub const WS_LEN: usize = fair_workspace_len(N, P, K);
/// Storage of the steps (for transforming new points).
pub const STEPS_LEN: usize = fair_steps_len(N, P, K);
/// Index scratch (pivot order).
pub const IWS_LEN: usize = fair_index_workspace_len(N);

/// Runs `fair_transform` in precision `T` and compares `K_k` with the
/// literal recurrence computed on the host; checks that all `K`
/// iterations were applied.
#[inline(never)]
pub fn run<T: Real>(r: &mut Report, case: &FairCase<N, P>, tol: f64) {
    let name = |what: &str| {
        label(format_args!(
            "fair {} n={N} p={P} k={K} {what}",
            precision::<T>()
        ))
    };
    let k: [[T; N]; N] = convert_mat(&case.k);
    let a: [[T; P]; N] = convert_mat(&case.a);
    let mut kk = [[T::zero(); N]; N];
    let mut steps = [T::zero(); STEPS_LEN];
    let mut ws = [T::zero(); WS_LEN];
    let mut iws = [0usize; IWS_LEN];
    let opts = FairOptions {
        lambda: T::from_f64(case.lambda),
        iterations: case.iterations,
    };
    let result = fair_transform(
        &MatRef::from_array(&k),
        MatRef::from_array(&a),
        opts,
        Some(MatMut::from_array(&mut kk)),
        &mut steps,
        &mut ws,
        &mut iws,
    );
    match result {
        Ok((_, report)) => {
            r.expect(
                &name("iterations applied"),
                report.applied == case.iterations,
            );
            let got = kk.iter().flatten().copied();
            let want = case.kk.iter().flatten().copied();
            r.check(&name("K_k"), max_err(got, want), tol);
        }
        Err(e) => r.error(&name("K_k"), e),
    }
}
