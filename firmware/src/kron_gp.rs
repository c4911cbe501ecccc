//! A Gaussian process on a 4 x 5 grid through `gramkit::kron`: per-factor
//! eigendecompositions, the noisy solve `(K + s^2 I)^{-1} y`, its
//! log-determinant, the log marginal likelihood and the posterior mean.

use crate::cases::KronCase;
use crate::report::{Report, convert, convert_mat, label, max_err, precision, scalar_err};
use gramkit::kron::{
    Kronecker, NoisyKronecker, kron_apply_workspace_len, kronecker_eigen_storage_len,
    kronecker_eigen_workspace_len,
};
use gramkit::op::Solve;
use gramkit::{MatRef, Real};

/// Orders of the grid's factors.
pub const ORDERS: [usize; 2] = [4, 5];
/// Grid points `N = 4 * 5`.
pub const N: usize = ORDERS[0] * ORDERS[1];
/// Storage of the eigendecomposition (`Q_i` and eigenvalues).
pub const STORAGE_LEN: usize = kronecker_eigen_storage_len(&ORDERS);
/// Scratch of the eigendecomposition.
pub const EIGEN_WS_LEN: usize = kronecker_eigen_workspace_len(&ORDERS);
/// Scratch of the solve, log marginal likelihood and posterior mean:
/// `2 N` plus one Kronecker transform's (the crate's `gp_workspace_len`
/// and `solve_workspace_len`, here as a compile-time constant).
pub const GP_WS_LEN: usize = 2 * N + kron_apply_workspace_len(&ORDERS, &ORDERS);

/// Tolerances of one precision.
#[derive(Clone, Copy)]
pub struct Tolerance {
    pub solve: f64,
    pub log_det: f64,
    pub lml: f64,
    pub mean: f64,
}

/// Runs the GP checks of `case` in precision `T`.
#[inline(never)]
pub fn run<T: Real>(r: &mut Report, case: &KronCase<4, 5, N>, tol: Tolerance) {
    let name = |what: &str| label(format_args!("kron gp {} 4x5 {what}", precision::<T>()));
    let a0: [[T; 4]; 4] = convert_mat(&case.a0);
    let a1: [[T; 5]; 5] = convert_mat(&case.a1);
    let mut storage = [T::zero(); STORAGE_LEN];
    let mut eig_ws = [T::zero(); EIGEN_WS_LEN];
    let factors = [MatRef::from_array(&a0), MatRef::from_array(&a1)];
    let eig = Kronecker::new(&factors).and_then(|k| k.eigen(&mut storage, &mut eig_ws));
    let eig = match eig {
        Ok(e) => e,
        Err(e) => return r.error(&name("eigen"), e),
    };
    match eig.with_noise(T::from_f64(case.noise)) {
        Ok(noisy) => checks(r, &noisy, case, tol, name),
        Err(e) => r.error(&name("with_noise"), e),
    }
}

/// The four checks on the noisy operator.
fn checks<T: Real>(
    r: &mut Report,
    noisy: &NoisyKronecker<'_, '_, T>,
    case: &KronCase<4, 5, N>,
    tol: Tolerance,
    name: impl Fn(&str) -> crate::report::Label,
) {
    let y: [T; N] = convert(&case.y);
    let mut ws = [T::zero(); GP_WS_LEN];
    r.run(&name("solve"), tol.solve, || {
        let mut alpha = y;
        noisy.solve_in_place(&mut alpha, &mut ws)?;
        Ok(max_err(alpha, case.alpha))
    });
    let log_det = scalar_err(noisy.log_det(), case.log_det);
    r.check(&name("log_det"), log_det, tol.log_det);
    r.run(&name("lml"), tol.lml, || {
        let lml = noisy.log_marginal_likelihood(&y, &mut ws)?;
        Ok(scalar_err(lml, case.lml))
    });
    r.run(&name("posterior_mean"), tol.mean, || {
        let mut mean = [T::zero(); N];
        noisy.posterior_mean(&y, &mut mean, &mut ws)?;
        Ok(max_err(mean, case.mean))
    });
}
