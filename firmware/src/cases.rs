//! The test problems with their expected results, generated on the host by
//! `build/` (f64, independent dense reference) and included here.

/// A Cholesky problem: SPD `a`, right-hand side `b`, and the expected
/// factor `l` (lower), solution `x` of `a x = b` and `log det a`.
pub struct CholCase<const N: usize> {
    pub a: [[f64; N]; N],
    pub b: [f64; N],
    pub l: [[f64; N]; N],
    pub x: [f64; N],
    pub log_det: f64,
}

/// A GP on an `N0 x N1` grid: factors `a0`, `a1` (`K = a0 (x) a1`), noise
/// variance, observations `y` (`N = N0 N1`), and the expected
/// `(K + noise I)^{-1} y`, its log-determinant, the log marginal
/// likelihood and the posterior mean.
pub struct KronCase<const N0: usize, const N1: usize, const N: usize> {
    pub a0: [[f64; N0]; N0],
    pub a1: [[f64; N1]; N1],
    pub noise: f64,
    pub y: [f64; N],
    pub alpha: [f64; N],
    pub log_det: f64,
    pub lml: f64,
    pub mean: [f64; N],
}

/// A fair projection: kernel `k`, protected attributes `a` (`N x P`),
/// ridge, iterations, and the expected transformed kernel `kk`.
pub struct FairCase<const N: usize, const P: usize> {
    pub k: [[f64; N]; N],
    pub a: [[f64; P]; N],
    pub lambda: f64,
    pub iterations: usize,
    pub kk: [[f64; N]; N],
}

include!(concat!(env!("OUT_DIR"), "/expected.rs"));

/// Bytes of flash taken by the problems and expected values.
pub fn data_bytes() -> usize {
    use core::mem::size_of_val;
    let chol = size_of_val(&CHOL4_F64)
        + size_of_val(&CHOL8_F64)
        + size_of_val(&CHOL12_F64)
        + size_of_val(&CHOL36_F64);
    let rest = size_of_val(&KRON_F64) + size_of_val(&FAIR_F64);
    2 * (chol + rest)
}
