//! Dense reference linear algebra in f64, independent of gramkit: plain
//! textbook loops, no blocking, no clever tricks. Matrices are `Vec` of
//! rows.

/// A dense matrix, row by row.
pub type Mat = Vec<Vec<f64>>;

/// `n x n` matrix with entries `f(i, j)`.
pub fn from_fn(n: usize, m: usize, f: impl Fn(usize, usize) -> f64) -> Mat {
    (0..n).map(|i| (0..m).map(|j| f(i, j)).collect()).collect()
}

/// Lower Cholesky factor `L` of the SPD `a` (`a = L L^T`), by the
/// Cholesky-Banachiewicz recurrence. Panics if `a` is not positive definite
/// (a build-time bug in the chosen problem).
pub fn cholesky(a: &Mat) -> Mat {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                assert!(d > 0.0, "reference Cholesky: pivot {i} is {d}");
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    l
}

/// `x` with `L L^T x = b` (forward then backward substitution).
pub fn cholesky_solve(l: &Mat, b: &[f64]) -> Vec<f64> {
    let n = l.len();
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - s) / l[i][i];
    }
    x
}

/// `log det A = 2 sum_i log L_ii`.
pub fn cholesky_log_det(l: &Mat) -> f64 {
    2.0 * (0..l.len()).map(|i| l[i][i].ln()).sum::<f64>()
}

/// `A x`.
pub fn mat_vec(a: &Mat, x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|row| row.iter().zip(x).map(|(r, v)| r * v).sum())
        .collect()
}

/// `x . y`.
pub fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// `A + s I`.
pub fn add_identity(a: &Mat, s: f64) -> Mat {
    from_fn(a.len(), a.len(), |i, j| {
        a[i][j] + if i == j { s } else { 0.0 }
    })
}

/// The dense Kronecker product `A (x) B` (first factor outermost).
pub fn kron(a: &Mat, b: &Mat) -> Mat {
    let (na, nb) = (a.len(), b.len());
    from_fn(na * nb, na * nb, |i, j| {
        a[i / nb][j / nb] * b[i % nb][j % nb]
    })
}

/// Squared-exponential kernel `exp(-|p - q|^2 / (2 ell^2))`.
pub fn rbf(p: &[f64], q: &[f64], ell: f64) -> f64 {
    let d2: f64 = p.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
    (-0.5 * d2 / (ell * ell)).exp()
}

/// 2-norm condition number of the SPD `a`, `lambda_max / lambda_min`, by
/// power iteration on `a` and on `a^{-1}` (through its Cholesky factor).
/// An estimate for the comments of the generated file.
pub fn condition(a: &Mat) -> f64 {
    let l = cholesky(a);
    let largest = |apply: &dyn Fn(&[f64]) -> Vec<f64>| {
        let mut v = vec![1.0; a.len()];
        let mut lambda = 0.0;
        for _ in 0..200 {
            let w = apply(&v);
            lambda = dot(&v, &w) / dot(&v, &v);
            let norm = dot(&w, &w).sqrt();
            v = w.iter().map(|x| x / norm).collect();
        }
        lambda
    };
    largest(&|v| mat_vec(a, v)) * largest(&|v| cholesky_solve(&l, v))
}
