//! Kronecker algebra on grids (`K = A_0 (x) ... (x) A_{d-1}`, noise `s^2`):
//! gramkit against the same structured algorithm written with faer, and
//! against faer's dense Cholesky of the materialized `K + s^2 I` for the
//! smallest case.
//!
//! Cases: 64, 128, 256 points per side in d = 2 (N = 4096, 16384, 65536)
//! and 64 per side in d = 3 (N = 262144). Every factor is the RBF Gram
//! matrix of 64..256 equally spaced points of `[0, 1]`, lengthscale 0.3,
//! unit variance (`gramkit_bench::rbf_grid_factor`); noise variance 0.01;
//! the input vector (`kron_mv`) and the observations (solve, LML) are
//! pseudo-random, uniform in `[-1, 1)`.
//!
//! Groups (one per operation; `*_pipeline` includes the factor
//! eigendecompositions, which a user pays once per hyperparameter setting):
//! - `kron_mv`: `y = K x`;
//! - `kron_noisy_solve`: `(K + s^2 I)^{-1} y` given the eigendecompositions
//!   (the dense peer: given its Cholesky factor);
//! - `kron_noisy_solve_pipeline`: eigendecompositions, then the solve (the
//!   dense peer: `O(N^3)` Cholesky of `K + s^2 I`, then the solve);
//! - `kron_lml`: the log marginal likelihood given the eigendecompositions
//!   (the dense peer: given its Cholesky factor);
//! - `kron_lml_pipeline`: eigendecompositions, then the log marginal
//!   likelihood (the dense peer: Cholesky, solve, log-determinant).
//!
//! Libraries:
//! - `gramkit`: `Kronecker::apply`; `Kronecker::eigen`,
//!   `KroneckerEigen::with_noise`, `Solve::solve_in_place` and
//!   `NoisyKronecker::log_marginal_likelihood`;
//! - `faer`: what a careful faer 0.24 user writes: `self_adjoint_evd` per
//!   factor (the allocation-free routine behind `Mat::self_adjoint_eigen`),
//!   mode products by faer `matmul` on column-major reshapes of the vector
//!   (d = 2: two products; d = 3: one product for each outer axis and a
//!   loop of `n` products for the middle one), a loop over the spectrum;
//! - `faer_dense` (N = 4096 only): `K` materialized as an `N x N` `Mat`
//!   (128 MiB): `matmul` (gemv) for `kron_mv`; `cholesky_in_place` of a
//!   copy of `K` with `s^2` added to its diagonal (`O(N^3)`), `llt` solve and
//!   `2 sum log L_ii` for the others.
//!
//! Fairness: single thread (`Par::Seq` everywhere; gramkit is sequential);
//! every buffer, workspace and scratch is allocated before the timing, so
//! no timed region allocates; `black_box` on inputs and outputs. Before
//! timing, every case asserts that gramkit's result agrees with faer's
//! (and the dense peer's) to a relative difference below `1e-9`.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    LltRegularization, cholesky_in_place, cholesky_in_place_scratch,
};
use faer::linalg::cholesky::llt::solve::solve_in_place as llt_solve_in_place;
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use gramkit::MatRef;
use gramkit::kron::{Kronecker, kronecker_eigen_storage_len, kronecker_eigen_workspace_len};
use gramkit::op::{LinearOperator, Solve};
use gramkit_bench::{rbf_grid_factor, rel_diff, signed_vector};

const SEED: u64 = 0x6772_616d_6b69_7403;
/// Lengthscale of the RBF factors on `[0, 1]`.
const LENGTHSCALE: f64 = 0.3;
/// Noise variance `s^2`.
const NOISE: f64 = 0.01;
/// Largest relative difference allowed between gramkit and a peer.
const TOL: f64 = 1e-9;
/// `(points per side, dimension)`.
const CASES: [(usize, usize); 4] = [(64, 2), (128, 2), (256, 2), (64, 3)];
/// The dense peer runs up to this `N` only (`N^2` memory, `N^3` time).
const DENSE_MAX: usize = 4096;

/// One grid: its factors (row-major, also column-major: symmetric) and a
/// vector over it (the `x` of `kron_mv`, the observations `y` otherwise).
struct Case {
    name: String,
    dims: Vec<usize>,
    n: usize,
    factors: Vec<Vec<f64>>,
    y: Vec<f64>,
}

impl Case {
    fn new(side: usize, d: usize) -> Self {
        let dims = vec![side; d];
        let n = dims.iter().product();
        Self {
            name: format!("d{d}_n{side}"),
            factors: dims
                .iter()
                .map(|&m| rbf_grid_factor(m, LENGTHSCALE))
                .collect(),
            y: signed_vector(n, SEED),
            dims,
            n,
        }
    }

    /// gramkit views of the factors.
    fn views(&self) -> Vec<MatRef<'_, f64>> {
        self.factors
            .iter()
            .zip(&self.dims)
            .map(|(a, &m)| MatRef::from_row_major(a, m, m).unwrap())
            .collect()
    }
}

fn cases() -> impl Iterator<Item = Case> {
    CASES.into_iter().map(|(side, d)| Case::new(side, d))
}

/// Criterion's 100 samples for the smallest structured case; 10 for the
/// others (milliseconds per call) and for the dense peer (about half a
/// second per factorization).
fn samples(group: &mut BenchmarkGroup<'_, WallTime>, n: usize, dense: bool) {
    group.sample_size(if dense || n > DENSE_MAX { 10 } else { 100 });
}

/// Asserts that `ours` agrees with a peer's result.
fn check(group: &str, case: &Case, peer: &str, ours: &[f64], theirs: &[f64]) {
    let e = rel_diff(ours, theirs);
    eprintln!(
        "{group}/{}: |gramkit - {peer}| / |{peer}| = {e:.1e}",
        case.name
    );
    assert!(
        e < TOL,
        "{group}/{}: gramkit and {peer} differ by {e:e} (relative)",
        case.name
    );
}

/// `-1/2 fit - 1/2 log det - N/2 log(2 pi)`.
fn assemble_lml(fit: f64, log_det: f64, n: usize) -> f64 {
    -0.5 * fit - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

// ---------------------------------------------------------------------------
// The faer peer: the structured algorithm written with faer.
// ---------------------------------------------------------------------------

/// `dst <- ` the mode product of `f` with the tensor `src` of extents
/// `left x n x right` (last axis fastest, i.e. column-major from the
/// right): for the last axis (`right == 1`) the tensor is an `n x left`
/// column-major matrix `X` and `dst = F X`; otherwise each of the `left`
/// contiguous blocks is a `right x n` column-major matrix `X` and
/// `dst = X F^T`.
fn mode_product(f: faer::MatRef<'_, f64>, left: usize, right: usize, src: &[f64], dst: &mut [f64]) {
    let n = f.nrows();
    if right == 1 {
        matmul(
            faer::MatMut::from_column_major_slice_mut(dst, n, left),
            Accum::Replace,
            f,
            faer::MatRef::from_column_major_slice(src, n, left),
            1.0,
            Par::Seq,
        );
    } else {
        for (s, d) in src
            .chunks_exact(n * right)
            .zip(dst.chunks_exact_mut(n * right))
        {
            matmul(
                faer::MatMut::from_column_major_slice_mut(d, right, n),
                Accum::Replace,
                faer::MatRef::from_column_major_slice(s, right, n),
                f.transpose(),
                1.0,
                Par::Seq,
            );
        }
    }
}

/// `y <- (F_0 (x) ... (x) F_{d-1}) x`, one mode product per axis,
/// alternating between `y` and `t` so that the last one lands in `y`.
fn mode_products<'a>(
    dims: &[usize],
    factor: impl Fn(usize) -> faer::MatRef<'a, f64>,
    x: &[f64],
    y: &mut [f64],
    t: &mut [f64],
) {
    let d = dims.len();
    for k in 0..d {
        let left = dims[..k].iter().product();
        let right = dims[k + 1..].iter().product();
        let into_y = (d - 1 - k).is_multiple_of(2);
        let (src, dst): (&[f64], &mut [f64]) = match (k == 0, into_y) {
            (true, true) => (x, &mut *y),
            (true, false) => (x, &mut *t),
            (false, true) => (&*t, &mut *y),
            (false, false) => (&*y, &mut *t),
        };
        mode_product(factor(k), left, right, src, dst);
    }
}

/// Calls `f(z_j, l_j)` for every entry of `z` with its eigenvalue
/// `l_j = prod_k l_k[i_k]` (row-major multi-index, last axis fastest).
fn for_each_eigenvalue(
    l: &[Vec<f64>],
    scale: f64,
    z: &mut [f64],
    f: &mut impl FnMut(&mut f64, f64),
) {
    match l {
        [] => {}
        [last] => {
            for (v, &x) in z.iter_mut().zip(last) {
                f(v, scale * x);
            }
        }
        [first, rest @ ..] => {
            let stride = z.len() / first.len();
            for (chunk, &x) in z.chunks_exact_mut(stride).zip(first) {
                for_each_eigenvalue(rest, scale * x, chunk, f);
            }
        }
    }
}

/// The faer peer's factors, eigendecompositions and buffers, all allocated
/// in [`FaerKron::new`].
struct FaerKron {
    dims: Vec<usize>,
    a: Vec<Mat<f64>>,
    q: Vec<Mat<f64>>,
    s: Vec<Diag<f64>>,
    l: Vec<Vec<f64>>,
    mem: MemBuffer,
    t: Vec<f64>,
    z: Vec<f64>,
}

impl FaerKron {
    /// Allocates everything and eigendecomposes the factors once.
    fn new(case: &Case) -> Self {
        let n_max = case.dims.iter().copied().max().unwrap_or(0);
        let mut peer = Self {
            dims: case.dims.clone(),
            a: case
                .factors
                .iter()
                .zip(&case.dims)
                .map(|(a, &m)| Mat::from_fn(m, m, |i, j| a[i * m + j]))
                .collect(),
            q: case.dims.iter().map(|&m| Mat::zeros(m, m)).collect(),
            s: case.dims.iter().map(|&m| Diag::zeros(m)).collect(),
            l: case.dims.iter().map(|&m| vec![0.0; m]).collect(),
            mem: MemBuffer::new(self_adjoint_evd_scratch::<f64>(
                n_max,
                ComputeEigenvectors::Yes,
                Par::Seq,
                Default::default(),
            )),
            t: vec![0.0; case.n],
            z: vec![0.0; case.n],
        };
        peer.eigen();
        peer
    }

    /// `A_k = Q_k diag(l_k) Q_k^T` for every factor, eigenvalues floored at
    /// zero (as gramkit does: the factors are positive semi-definite).
    fn eigen(&mut self) {
        for k in 0..self.dims.len() {
            self_adjoint_evd(
                self.a[k].as_ref(),
                self.s[k].as_mut(),
                Some(self.q[k].as_mut()),
                Par::Seq,
                MemStack::new(&mut self.mem),
                Default::default(),
            )
            .expect("faer eigen");
            let s = self.s[k].column_vector();
            for (i, l) in self.l[k].iter_mut().enumerate() {
                *l = s[i].max(0.0);
            }
        }
    }

    /// `y <- K x`.
    fn mv(&mut self, x: &[f64], y: &mut [f64]) {
        let Self { dims, a, t, .. } = self;
        mode_products(dims, |k| a[k].as_ref(), x, y, t);
    }

    /// `x <- (K + s^2 I)^{-1} b = Q diag(1 / (l + s^2)) Q^T b`.
    fn solve(&mut self, b: &[f64], x: &mut [f64]) {
        let Self {
            dims, q, l, t, z, ..
        } = self;
        mode_products(dims, |k| q[k].as_ref().transpose(), b, z, t);
        for_each_eigenvalue(l, 1.0, z, &mut |v, lj| *v /= lj + NOISE);
        mode_products(dims, |k| q[k].as_ref(), z, x, t);
    }

    /// `-1/2 y^T (K + s^2 I)^{-1} y - 1/2 log|K + s^2 I| - N/2 log(2 pi)`
    /// with `z = Q^T y`: `sum z_j^2 / (l_j + s^2)` and `sum log(l_j + s^2)`.
    fn lml(&mut self, y: &[f64]) -> f64 {
        let Self {
            dims, q, l, t, z, ..
        } = self;
        mode_products(dims, |k| q[k].as_ref().transpose(), y, z, t);
        // One pass (about 20% faster than a pass for each sum).
        let (mut fit, mut log_det) = (0.0, 0.0);
        for_each_eigenvalue(l, 1.0, z, &mut |v, lj| {
            let w = lj + NOISE;
            fit += *v * *v / w;
            log_det += w.ln();
        });
        assemble_lml(fit, log_det, y.len())
    }
}

// ---------------------------------------------------------------------------
// The dense peer (N = 4096 only).
// ---------------------------------------------------------------------------

/// `K` materialized, a buffer for the Cholesky factor of `K + s^2 I`, its
/// scratch and a solution vector, all allocated in [`Dense::new`].
struct Dense {
    k: Mat<f64>,
    l: Mat<f64>,
    mem: MemBuffer,
    x: Vec<f64>,
}

impl Dense {
    /// Materializes `K` (entry `(i, j)` is `prod_k A_k[i_k, j_k]`); the
    /// factor buffer is left empty until [`Dense::factor`].
    fn new(case: &Case) -> Self {
        let n = case.n;
        let entry = |i: usize, j: usize| {
            let (mut i, mut j, mut p) = (i, j, 1.0);
            for (a, &m) in case.factors.iter().zip(&case.dims).rev() {
                p *= a[(i % m) * m + j % m];
                i /= m;
                j /= m;
            }
            p
        };
        Self {
            k: Mat::from_fn(n, n, entry),
            l: Mat::zeros(n, n),
            mem: MemBuffer::new(cholesky_in_place_scratch::<f64>(
                n,
                Par::Seq,
                Default::default(),
            )),
            x: vec![0.0; n],
        }
    }

    /// `y <- K x` (gemv).
    fn mv(&self, x: &[f64], y: &mut [f64]) {
        let n = x.len();
        matmul(
            faer::MatMut::from_column_major_slice_mut(y, n, 1),
            Accum::Replace,
            self.k.as_ref(),
            faer::MatRef::from_column_major_slice(x, n, 1),
            1.0,
            Par::Seq,
        );
    }

    /// `L L^T = K + s^2 I`: copy `K`, add the noise, factor in place.
    fn factor(&mut self) {
        self.l.copy_from(&self.k);
        for i in 0..self.l.nrows() {
            self.l[(i, i)] += NOISE;
        }
        cholesky_in_place(
            self.l.as_mut(),
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut self.mem),
            Default::default(),
        )
        .expect("faer dense Cholesky");
    }

    /// `x <- (K + s^2 I)^{-1} b` with the factor.
    fn solve(&mut self, b: &[f64], x: &mut [f64]) {
        dense_solve(&self.l, &mut self.mem, b, x);
    }

    /// The log marginal likelihood with the factor: `y^T alpha` and
    /// `2 sum log L_ii`.
    fn lml(&mut self, y: &[f64]) -> f64 {
        let Self { l, mem, x, .. } = self;
        dense_solve(l, mem, y, x);
        let fit: f64 = y.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
        let log_det = 2.0 * (0..y.len()).map(|i| l[(i, i)].ln()).sum::<f64>();
        assemble_lml(fit, log_det, y.len())
    }
}

/// `x <- (L L^T)^{-1} b`: copy, then faer's two triangular solves.
fn dense_solve(l: &Mat<f64>, mem: &mut MemBuffer, b: &[f64], x: &mut [f64]) {
    let n = b.len();
    x.copy_from_slice(b);
    llt_solve_in_place(
        l.as_ref(),
        faer::MatMut::from_column_major_slice_mut(x, n, 1),
        Par::Seq,
        MemStack::new(mem),
    );
}

// ---------------------------------------------------------------------------
// The groups.
// ---------------------------------------------------------------------------

fn kron_mv(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let name = "kron_mv";
    let mut group = c.benchmark_group(name);
    for case in cases() {
        let views = case.views();
        let k = Kronecker::new(&views).unwrap();
        let mut ws = vec![0.0; k.apply_workspace_len()];
        let mut y = vec![0.0; case.n];
        let mut peer = FaerKron::new(&case);
        let mut fy = vec![0.0; case.n];
        let mut dense = (case.n <= DENSE_MAX).then(|| Dense::new(&case));

        k.apply(&case.y, &mut y, &mut ws).unwrap();
        peer.mv(&case.y, &mut fy);
        check(name, &case, "faer", &y, &fy);
        if let Some(dense) = &dense {
            dense.mv(&case.y, &mut fy);
            check(name, &case, "faer_dense", &y, &fy);
        }

        samples(&mut group, case.n, false);
        group.bench_function(BenchmarkId::new("gramkit", &case.name), |b| {
            b.iter(|| {
                black_box(k.apply(black_box(&case.y), &mut y, &mut ws).is_ok());
                black_box(&mut y);
            })
        });
        group.bench_function(BenchmarkId::new("faer", &case.name), |b| {
            b.iter(|| {
                peer.mv(black_box(&case.y), &mut fy);
                black_box(&mut fy);
            })
        });
        if let Some(dense) = &mut dense {
            samples(&mut group, case.n, true);
            group.bench_function(BenchmarkId::new("faer_dense", &case.name), |b| {
                b.iter(|| {
                    dense.mv(black_box(&case.y), &mut fy);
                    black_box(&mut fy);
                })
            });
        }
    }
    group.finish();
}

fn kron_noisy_solve(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let name = "kron_noisy_solve";
    let mut group = c.benchmark_group(name);
    for case in cases() {
        let views = case.views();
        let k = Kronecker::new(&views).unwrap();
        let mut storage = vec![0.0; kronecker_eigen_storage_len(&case.dims)];
        let mut eig_ws = vec![0.0; kronecker_eigen_workspace_len(&case.dims)];
        let eig = k.eigen(&mut storage, &mut eig_ws).unwrap();
        let noisy = eig.with_noise(NOISE).unwrap();
        let mut ws = vec![0.0; noisy.solve_workspace_len()];
        let mut x = vec![0.0; case.n];
        let mut peer = FaerKron::new(&case);
        let mut fx = vec![0.0; case.n];
        let mut dense = (case.n <= DENSE_MAX).then(|| {
            let mut dense = Dense::new(&case);
            dense.factor();
            dense
        });

        x.copy_from_slice(&case.y);
        noisy.solve_in_place(&mut x, &mut ws).unwrap();
        peer.solve(&case.y, &mut fx);
        check(name, &case, "faer", &x, &fx);
        if let Some(dense) = &mut dense {
            dense.solve(&case.y, &mut fx);
            check(name, &case, "faer_dense", &x, &fx);
        }

        samples(&mut group, case.n, false);
        group.bench_function(BenchmarkId::new("gramkit", &case.name), |b| {
            b.iter(|| {
                x.copy_from_slice(black_box(&case.y));
                black_box(noisy.solve_in_place(&mut x, &mut ws).is_ok());
                black_box(&mut x);
            })
        });
        group.bench_function(BenchmarkId::new("faer", &case.name), |b| {
            b.iter(|| {
                peer.solve(black_box(&case.y), &mut fx);
                black_box(&mut fx);
            })
        });
        if let Some(dense) = &mut dense {
            samples(&mut group, case.n, true);
            group.bench_function(BenchmarkId::new("faer_dense", &case.name), |b| {
                b.iter(|| {
                    dense.solve(black_box(&case.y), &mut fx);
                    black_box(&mut fx);
                })
            });
        }
    }
    group.finish();
}

/// gramkit's whole pipeline for one hyperparameter setting: the operator,
/// the factor eigendecompositions, the noise, then `b <- (K + s^2 I)^{-1} y`.
fn gramkit_solve_pipeline(
    views: &[MatRef<'_, f64>],
    y: &[f64],
    b: &mut [f64],
    storage: &mut [f64],
    eig_ws: &mut [f64],
    ws: &mut [f64],
) -> gramkit::Result<()> {
    let k = Kronecker::new(views)?;
    let eig = k.eigen(storage, eig_ws)?;
    let noisy = eig.with_noise(NOISE)?;
    b.copy_from_slice(y);
    noisy.solve_in_place(b, ws)
}

/// As [`gramkit_solve_pipeline`], ending with the log marginal likelihood.
fn gramkit_lml_pipeline(
    views: &[MatRef<'_, f64>],
    y: &[f64],
    storage: &mut [f64],
    eig_ws: &mut [f64],
    ws: &mut [f64],
) -> gramkit::Result<f64> {
    let k = Kronecker::new(views)?;
    let eig = k.eigen(storage, eig_ws)?;
    let noisy = eig.with_noise(NOISE)?;
    noisy.log_marginal_likelihood(y, ws)
}

/// Buffers of gramkit's pipeline: eigen storage, eigen workspace, and a
/// workspace for the solve and the log marginal likelihood.
fn gramkit_pipeline_buffers(case: &Case) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut storage = vec![0.0; kronecker_eigen_storage_len(&case.dims)];
    let mut eig_ws = vec![0.0; kronecker_eigen_workspace_len(&case.dims)];
    let len = {
        let views = case.views();
        let k = Kronecker::new(&views).unwrap();
        let eig = k.eigen(&mut storage, &mut eig_ws).unwrap();
        let noisy = eig.with_noise(NOISE).unwrap();
        noisy.solve_workspace_len().max(noisy.gp_workspace_len())
    };
    (storage, eig_ws, vec![0.0; len])
}

fn kron_noisy_solve_pipeline(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let name = "kron_noisy_solve_pipeline";
    let mut group = c.benchmark_group(name);
    for case in cases() {
        let views = case.views();
        let (mut storage, mut eig_ws, mut ws) = gramkit_pipeline_buffers(&case);
        let mut x = vec![0.0; case.n];
        let mut peer = FaerKron::new(&case);
        let mut fx = vec![0.0; case.n];
        let mut dense = (case.n <= DENSE_MAX).then(|| Dense::new(&case));

        gramkit_solve_pipeline(&views, &case.y, &mut x, &mut storage, &mut eig_ws, &mut ws)
            .unwrap();
        peer.eigen();
        peer.solve(&case.y, &mut fx);
        check(name, &case, "faer", &x, &fx);
        if let Some(dense) = &mut dense {
            dense.factor();
            dense.solve(&case.y, &mut fx);
            check(name, &case, "faer_dense", &x, &fx);
        }

        samples(&mut group, case.n, false);
        group.bench_function(BenchmarkId::new("gramkit", &case.name), |b| {
            b.iter(|| {
                let r = gramkit_solve_pipeline(
                    black_box(&views),
                    black_box(&case.y),
                    &mut x,
                    &mut storage,
                    &mut eig_ws,
                    &mut ws,
                );
                black_box(r.is_ok());
                black_box(&mut x);
            })
        });
        group.bench_function(BenchmarkId::new("faer", &case.name), |b| {
            b.iter(|| {
                peer.eigen();
                peer.solve(black_box(&case.y), &mut fx);
                black_box(&mut fx);
            })
        });
        if let Some(dense) = &mut dense {
            samples(&mut group, case.n, true);
            group.bench_function(BenchmarkId::new("faer_dense", &case.name), |b| {
                b.iter(|| {
                    dense.factor();
                    dense.solve(black_box(&case.y), &mut fx);
                    black_box(&mut fx);
                })
            });
        }
    }
    group.finish();
}

fn kron_lml(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let name = "kron_lml";
    let mut group = c.benchmark_group(name);
    for case in cases() {
        let views = case.views();
        let k = Kronecker::new(&views).unwrap();
        let mut storage = vec![0.0; kronecker_eigen_storage_len(&case.dims)];
        let mut eig_ws = vec![0.0; kronecker_eigen_workspace_len(&case.dims)];
        let eig = k.eigen(&mut storage, &mut eig_ws).unwrap();
        let noisy = eig.with_noise(NOISE).unwrap();
        let mut ws = vec![0.0; noisy.gp_workspace_len()];
        let mut peer = FaerKron::new(&case);
        let mut dense = (case.n <= DENSE_MAX).then(|| {
            let mut dense = Dense::new(&case);
            dense.factor();
            dense
        });

        let ours = noisy.log_marginal_likelihood(&case.y, &mut ws).unwrap();
        check(name, &case, "faer", &[ours], &[peer.lml(&case.y)]);
        if let Some(dense) = &mut dense {
            check(name, &case, "faer_dense", &[ours], &[dense.lml(&case.y)]);
        }

        samples(&mut group, case.n, false);
        group.bench_function(BenchmarkId::new("gramkit", &case.name), |b| {
            b.iter(|| black_box(noisy.log_marginal_likelihood(black_box(&case.y), &mut ws)))
        });
        group.bench_function(BenchmarkId::new("faer", &case.name), |b| {
            b.iter(|| black_box(peer.lml(black_box(&case.y))))
        });
        if let Some(dense) = &mut dense {
            samples(&mut group, case.n, true);
            group.bench_function(BenchmarkId::new("faer_dense", &case.name), |b| {
                b.iter(|| black_box(dense.lml(black_box(&case.y))))
            });
        }
    }
    group.finish();
}

fn kron_lml_pipeline(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let name = "kron_lml_pipeline";
    let mut group = c.benchmark_group(name);
    for case in cases() {
        let views = case.views();
        let (mut storage, mut eig_ws, mut ws) = gramkit_pipeline_buffers(&case);
        let mut peer = FaerKron::new(&case);
        let mut dense = (case.n <= DENSE_MAX).then(|| Dense::new(&case));

        let ours =
            gramkit_lml_pipeline(&views, &case.y, &mut storage, &mut eig_ws, &mut ws).unwrap();
        peer.eigen();
        check(name, &case, "faer", &[ours], &[peer.lml(&case.y)]);
        if let Some(dense) = &mut dense {
            dense.factor();
            check(name, &case, "faer_dense", &[ours], &[dense.lml(&case.y)]);
        }

        samples(&mut group, case.n, false);
        group.bench_function(BenchmarkId::new("gramkit", &case.name), |b| {
            b.iter(|| {
                black_box(gramkit_lml_pipeline(
                    black_box(&views),
                    black_box(&case.y),
                    &mut storage,
                    &mut eig_ws,
                    &mut ws,
                ))
            })
        });
        group.bench_function(BenchmarkId::new("faer", &case.name), |b| {
            b.iter(|| {
                peer.eigen();
                black_box(peer.lml(black_box(&case.y)))
            })
        });
        if let Some(dense) = &mut dense {
            samples(&mut group, case.n, true);
            group.bench_function(BenchmarkId::new("faer_dense", &case.name), |b| {
                b.iter(|| {
                    dense.factor();
                    black_box(dense.lml(black_box(&case.y)))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    kron_mv,
    kron_noisy_solve,
    kron_noisy_solve_pipeline,
    kron_lml,
    kron_lml_pipeline
);
criterion_main!(benches);
