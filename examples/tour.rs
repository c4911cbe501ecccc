//! A tour of gramkit's core on a Gaussian-process regression problem.
//!
//! `cargo run --release --example tour [-- --n 400]`
//!
//! 1. GP regression with the Cholesky factor of `K + s^2 I`: solve, log
//!    determinant, log marginal likelihood, posterior mean.
//! 2. The noise-free kernel is not numerically positive definite: the typed
//!    error, the input restored, and the factor with jitter.
//! 3. Its numerical rank by pivoted Cholesky.
//! 4. Its spectrum by the symmetric eigensolver, checked against the factor.
//! 5. Conjugate gradients on `K + s^2 I`, plain and preconditioned.
//! 6. A fixed-size factor on the stack, as firmware would use it.

use gramkit::cholesky::{
    FixedCholesky, JitterOptions, PivotedOptions, cholesky_in_place,
    cholesky_in_place_workspace_len, cholesky_jitter_in_place,
    cholesky_jitter_in_place_workspace_len, pivoted_cholesky, pivoted_cholesky_workspace_len,
};
use gramkit::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::op::{CgOptions, Solve, conjugate_gradient, conjugate_gradient_workspace_len};
use gramkit::{Error, Matrix};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = parse_n()?;
    let noise_var = 0.01;
    let (x, y) = data(n);
    let rbf = |a: f64, b: f64| (-0.5 * (a - b) * (a - b)).exp();
    let kernel = Matrix::from_fn(n, n, |i, j| rbf(x[i], x[j]));
    let noisy = Matrix::from_fn(n, n, |i, j| {
        kernel.view().get(i, j).unwrap_or(0.0) + if i == j { noise_var } else { 0.0 }
    });

    println!(
        "gramkit tour: {n} noisy samples of sin(x) on [0, 10], RBF kernel (lengthscale 1), noise variance {noise_var}\n"
    );
    gp_regression(&noisy, &kernel, &x, &y)?;
    noise_free(&kernel)?;
    numerical_rank(&kernel)?;
    spectrum(&noisy)?;
    conjugate_gradients(&noisy, &kernel, &y, noise_var)?;
    fixed_size()?;
    Ok(())
}

/// `--n N` (default 400).
fn parse_n() -> Result<usize, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(400),
        [flag, v] if flag == "--n" => Ok(v.parse()?),
        _ => Err("usage: tour [--n N]".into()),
    }
}

/// Inputs on [0, 10] and `sin(x)` plus deterministic pseudo-random noise of
/// standard deviation 0.1.
fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..n)
        .map(|i| 10.0 * i as f64 / (n.max(2) - 1) as f64)
        .collect();
    let y = x
        .iter()
        .map(|&t| {
            // Box-Muller
            let (u1, u2) = (uniform().max(1e-300), uniform());
            t.sin() + 0.1 * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        })
        .collect();
    (x, y)
}

fn gp_regression(
    noisy: &Matrix<f64>,
    kernel: &Matrix<f64>,
    x: &[f64],
    y: &[f64],
) -> Result<(), Error> {
    let n = y.len();
    println!("1. GP regression");
    let mut l = noisy.clone();
    let mut ws = vec![0.0; cholesky_in_place_workspace_len(n)];
    let t = Instant::now();
    let chol = cholesky_in_place(l.view_mut(), &mut ws)?;
    let elapsed = t.elapsed();
    let mut alpha = y.to_vec();
    chol.solve_in_place(&mut alpha)?;
    let ka = noisy.matvec(&alpha)?;
    let residual = ka
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let log_det = chol.log_det();
    let fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let lml = -0.5 * fit - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    println!(
        "   Cholesky of K + s^2 I ({n} x {n}): {:.2} ms",
        elapsed.as_secs_f64() * 1e3
    );
    println!("   solve residual max |(K + s^2 I) alpha - y| = {residual:.2e}");
    println!("   log det (K + s^2 I) = {log_det:.6}");
    println!("   log marginal likelihood = {lml:.6}");
    let mean = kernel.matvec(&alpha)?;
    let rmse = (x
        .iter()
        .zip(&mean)
        .map(|(t, m)| (t.sin() - m).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    println!("   posterior mean vs sin(x): RMSE {rmse:.4} (noise standard deviation 0.1)\n");
    Ok(())
}

fn noise_free(kernel: &Matrix<f64>) -> Result<(), Error> {
    let n = kernel.nrows();
    println!("2. The noise-free kernel");
    let mut a = kernel.clone();
    let mut ws = vec![0.0; cholesky_jitter_in_place_workspace_len(n)];
    match cholesky_in_place(a.view_mut(), &mut ws) {
        Ok(_) => println!("   factored without jitter"),
        Err(e) => {
            println!("   cholesky_in_place: {e}");
            println!("   input restored bit for bit: {}", a == *kernel);
        }
    }
    let (_, jitter) = cholesky_jitter_in_place(a.view_mut(), JitterOptions::default(), &mut ws)?;
    println!(
        "   cholesky_jitter_in_place: factored K + {jitter:.3e} I (the first shift of the default schedule that works)\n"
    );
    Ok(())
}

fn numerical_rank(kernel: &Matrix<f64>) -> Result<(), Error> {
    let n = kernel.nrows();
    println!("3. Numerical rank by pivoted Cholesky");
    for tolerance in [1e-4, 1e-8, 1e-12] {
        let mut g = Matrix::zeros(n, n)?;
        let mut perm = vec![0; n];
        let mut ws = vec![0.0; pivoted_cholesky_workspace_len(n)];
        let opts = PivotedOptions {
            max_rank: n,
            tolerance,
        };
        let t = Instant::now();
        let p = pivoted_cholesky(&kernel.view(), opts, &mut perm, g.view_mut(), &mut ws)?;
        println!(
            "   tolerance {tolerance:.0e}: rank {:>3} of {n}, trace(K - G G^T) = {:.2e} ({:.2} ms)",
            p.rank,
            p.residual_trace,
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    println!();
    Ok(())
}

fn spectrum(noisy: &Matrix<f64>) -> Result<(), Error> {
    let n = noisy.nrows();
    println!("4. Spectrum of K + s^2 I");
    let mut values = vec![0.0; n];
    let mut vectors = Matrix::zeros(n, n)?;
    let mut ws = vec![0.0; symmetric_eigen_workspace_len(n, true)];
    let t = Instant::now();
    symmetric_eigen(noisy.view(), &mut values, Some(vectors.view_mut()), &mut ws)?;
    let elapsed = t.elapsed();
    let top: Vec<String> = values
        .iter()
        .rev()
        .take(4)
        .map(|v| format!("{v:.4}"))
        .collect();
    println!(
        "   eigenvalues and vectors in {:.2} ms; largest {}; smallest {:.6}",
        elapsed.as_secs_f64() * 1e3,
        top.join(", "),
        values[0]
    );
    let from_eigen: f64 = values.iter().map(|v| v.ln()).sum();
    println!(
        "   sum of log eigenvalues {from_eigen:.9} = Cholesky log det {:.9}\n",
        noisy.cholesky()?.log_det()
    );
    Ok(())
}

fn conjugate_gradients(
    noisy: &Matrix<f64>,
    kernel: &Matrix<f64>,
    y: &[f64],
    noise_var: f64,
) -> Result<(), Error> {
    let n = y.len();
    println!("5. Conjugate gradients on (K + s^2 I) alpha = y, relative tolerance 1e-10");
    let opts = CgOptions {
        max_iterations: 10 * n,
        tolerance: 1e-10,
    };
    let mut x = vec![0.0; n];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(n, 0, 0)];
    let plain = conjugate_gradient(&noisy.view(), None, y, &mut x, opts, &mut ws)?;
    // Preconditioner: the factor of K + 10 s^2 I, a nearby, better conditioned matrix.
    let near = Matrix::from_fn(n, n, |i, j| {
        kernel.view().get(i, j).unwrap_or(0.0) + if i == j { 10.0 * noise_var } else { 0.0 }
    });
    let m = near.cholesky()?;
    let mut x2 = vec![0.0; n];
    let mut ws = vec![0.0; conjugate_gradient_workspace_len(n, 0, m.solve_workspace_len())];
    let pre = conjugate_gradient(&noisy.view(), Some(&m), y, &mut x2, opts, &mut ws)?;
    println!(
        "   plain: {} iterations; preconditioned by chol(K + 10 s^2 I): {} iterations\n",
        plain.iterations, pre.iterations
    );
    Ok(())
}

fn fixed_size() -> Result<(), Error> {
    println!("6. Fixed size, on the stack (as on a microcontroller)");
    let points = [0.0f32, 0.7, 1.5, 2.1, 3.0, 3.8];
    let k: [[f32; 6]; 6] = core::array::from_fn(|i| {
        core::array::from_fn(|j| {
            (-0.5 * (points[i] - points[j]).powi(2)).exp() + if i == j { 0.05 } else { 0.0 }
        })
    });
    let chol = FixedCholesky::factor(&k)?;
    let alpha = chol.solve(&points.map(f32::sin))?;
    println!(
        "   FixedCholesky<f32, 6>: log det {:.5}, alpha[0..3] = {:.4?}",
        chol.log_det(),
        &alpha[..3]
    );
    Ok(())
}
