//! The portable kernels (what firmware and CPUs without AVX2 + FMA run) agree
//! with the runtime-selected ones. Its own test binary: the switch is global
//! to the process.
mod common;

use common::{Dense, Rng, random_spd};
use gramkit::cholesky::{cholesky_in_place, cholesky_in_place_workspace_len};
use gramkit::dense::{matmul, matmul_workspace_len};

fn factor(a: &Dense<f64>) -> Dense<f64> {
    let mut l = a.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(a.n)];
    cholesky_in_place(l.view_mut(), &mut ws).unwrap();
    l.lower()
}

#[test]
fn both_code_paths_agree() {
    let mut rng = Rng(17);
    for &n in &[49usize, 130, 333] {
        let a = random_spd::<f64>(n, 1.0, &mut rng);
        gramkit::force_portable_kernels(true);
        let portable = factor(&a);
        gramkit::force_portable_kernels(false);
        let fast = factor(&a);
        let llt = portable.matmul(&portable.transpose());
        assert!(llt.max_diff(&a) <= 1e-13 * n as f64 * a.max_abs());
        assert!(portable.max_diff(&fast) <= 1e-12 * n as f64 * portable.max_abs());
        if fma_available() {
            // The switch really selects another path: FMA rounds differently.
            assert_ne!(portable.data, fast.data);
        }

        let b = Dense::<f64>::from_fn(n, 37, |_, _| rng.uniform());
        let mut ws = vec![0.0; matmul_workspace_len(n, 37, n)];
        let mut c1 = Dense::<f64>::zeros(n, 37);
        let mut c2 = Dense::<f64>::zeros(n, 37);
        gramkit::force_portable_kernels(true);
        matmul(c1.view_mut(), 1.0, a.view(), b.view(), 0.0, &mut ws).unwrap();
        gramkit::force_portable_kernels(false);
        matmul(c2.view_mut(), 1.0, a.view(), b.view(), 0.0, &mut ws).unwrap();
        let reference = a.matmul(&b);
        assert!(c1.max_diff(&reference) <= 1e-13 * n as f64 * a.max_abs());
        assert!(c2.max_diff(&reference) <= 1e-13 * n as f64 * a.max_abs());
    }
}

fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
