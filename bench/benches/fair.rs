//! Fair null-space projection of a kernel matrix (the iterated `Z_k`
//! transform): gramkit against the direct definition written with faer, and
//! gramkit's Nystroem mode on a large sample.
//!
//! Data: `n` pseudo-random points uniform in `[-1, 1)^10`
//! (`gramkit_bench::uniform_points`), the RBF kernel with `l^2 = 2 d / 3`
//! (the mean squared distance of two such points: a median-heuristic-like
//! lengthscale; the matrices are numerically full rank), one protected
//! attribute `a = x_0 + 0.3 x_1` (`p = 1`), ridge `lambda = 1e-3`.
//!
//! Groups:
//! - `fair_exact`: n = 500, 1000, 2000 with k = 1, 10, 50 iterations (case
//!   ids `n1000_k50`), writing `K_k` into a preallocated `n x n` output.
//!   The kernel is materialized (row-major) before the timing.
//!   - `gramkit`: `fair::fair_transform` with the kernel as a `MatRef`,
//!     `out = Some(..)`: the blocked Cholesky factors of `K` and `K + lambda
//!     I`, `k` iterations of `O(n^2)` work, then `K_k = G G^T`
//!     (`O(n^3 + k n^2)`).
//!   - `direct_faer`: the definition, refactoring every step (`O(k n^3)`):
//!     copy `K_0` into the working matrix, then for each `j`: copy `K_{j-1}`
//!     into the factor buffer and add `lambda` to its diagonal, faer's
//!     `cholesky_in_place`, `alpha = (K_{j-1} + lambda I)^{-1} a` by faer's
//!     two triangular solves, `u = K_{j-1} alpha` (`matmul`, a gemv),
//!     `c = alpha . u`, `K_j = K_{j-1} - u u^T / c` (`matmul` with
//!     `Accum::Add`, a rank-one update of the full matrix).
//!
//!   The `k = 50 / k = 1` time ratio of `gramkit` at each `n` (the
//!   `O(n^3 + k n^2)` claim) comes from the medians of `nN_k50` and `nN_k1`.
//! - `fair_nystrom`: n = 20,000, m = 500 landmarks, k = 1 and 10, the
//!   kernel given as a closure (`FnSource`: no `n x n` matrix exists),
//!   `Landmarks::Given` (every 40th point; cases `given_kK`) and
//!   `Landmarks::Greedy { m: 500 }` (cases `greedy_kK`), `out = None`: the
//!   steps only (`O(n m^2 + k n m)`). gramkit only; 10 samples of one
//!   call. (k = 50 is left out: about 100 s more for a quick run.)
//!
//! Fairness: single thread (`Par::Seq` everywhere; gramkit is sequential);
//! every buffer, workspace and scratch is allocated before the timing (faer's
//! `matmul` may keep its own packing buffers); `black_box` on inputs and
//! outputs. Before timing, every case checks that gramkit's report applied
//! all `k` iterations, and the n = 500 cases print (and bound) the relative
//! difference between gramkit's `K_k` and the direct one.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main,
};
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::cholesky::llt::factor::{
    LltRegularization, cholesky_in_place, cholesky_in_place_scratch,
};
use faer::linalg::cholesky::llt::solve::{
    solve_in_place as llt_solve_in_place, solve_in_place_scratch as llt_solve_scratch,
};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use gramkit::cholesky::FnSource;
use gramkit::fair::{
    FairOptions, FairReport, Landmarks, fair_index_workspace_len, fair_nystrom_workspace_len,
    fair_steps_len, fair_transform, fair_transform_nystrom, fair_workspace_len,
};
use gramkit::{MatMut, MatRef};
use gramkit_bench::{rbf, rbf_points_kernel, rel_diff, uniform_points};

const SEED: u64 = 0x6772_616d_6b69_7404;
/// Dimension of the points.
const D: usize = 10;
/// `l^2 = 2 d / 3`: the mean squared distance of two points uniform in
/// `[-1, 1)^d`.
const LENGTHSCALE2: f64 = 2.0 * D as f64 / 3.0;
/// Ridge of the projection.
const LAMBDA: f64 = 1e-3;
/// Protected attributes.
const P: usize = 1;
/// Sizes of the exact mode.
const SIZES: [usize; 3] = [500, 1000, 2000];
/// Iteration counts.
const ITERATIONS: [usize; 3] = [1, 10, 50];
/// The size whose cases compare `K_k` with the direct implementation.
const CHECK_N: usize = 500;
/// Relative difference expected between gramkit's `K_k` and the direct
/// one; a larger one is printed as a warning, not a failure (the direct
/// recurrence loses accuracy with every refactorization).
const EXPECTED: f64 = 1e-6;
/// Relative difference beyond which the two are taken to compute different
/// things (a bug, not rounding): the bench stops.
const TOL: f64 = 1e-3;
/// Nystroem mode: points, landmarks.
const NYSTROM_N: usize = 20_000;
const NYSTROM_M: usize = 500;
/// Iteration counts of the Nystroem mode (each call takes seconds).
const NYSTROM_ITERATIONS: [usize; 2] = [1, 10];

/// The points, the protected attribute and (exact mode) the kernel matrix.
struct Data {
    n: usize,
    x: Vec<f64>,
    a: Vec<f64>,
}

impl Data {
    fn new(n: usize) -> Self {
        let x = uniform_points(n, D, SEED);
        let a = x.chunks_exact(D).map(|p| p[0] + 0.3 * p[1]).collect();
        Self { n, x, a }
    }

    /// `a` as an `n x 1` view.
    fn protected(&self) -> MatRef<'_, f64> {
        MatRef::from_row_major(&self.a, self.n, P).unwrap()
    }

    /// `k(x_i, x_j)`.
    fn entry(&self, i: usize, j: usize) -> f64 {
        rbf(
            &self.x[i * D..(i + 1) * D],
            &self.x[j * D..(j + 1) * D],
            LENGTHSCALE2,
        )
    }
}

fn case_name(n: usize, k: usize) -> String {
    format!("n{n}_k{k}")
}

/// Panics unless the report applied all `k` iterations; prints it once.
fn check_report(group: &str, case: &str, k: usize, report: &FairReport<f64>) {
    eprintln!(
        "{group}/{case}: applied {}, rank {}, directions {}, refactorizations {}, lambda {:e}",
        report.applied, report.rank, report.directions, report.refactorizations, report.lambda
    );
    assert_eq!(
        report.applied, k,
        "{group}/{case}: gramkit stopped after {} of {k} iterations",
        report.applied
    );
}

/// 10 samples, one call each, for the cases that take tens of
/// milliseconds or more per call; criterion's 100 otherwise.
fn samples(group: &mut BenchmarkGroup<'_, WallTime>, slow: bool) {
    if slow {
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
    } else {
        group.sample_size(100);
        group.sampling_mode(SamplingMode::Auto);
    }
}

// ---------------------------------------------------------------------------
// gramkit, exact mode.
// ---------------------------------------------------------------------------

/// gramkit's buffers for one exact case, all allocated in [`Ours::new`].
struct Ours {
    n: usize,
    opts: FairOptions<f64>,
    out: Vec<f64>,
    steps: Vec<f64>,
    ws: Vec<f64>,
    iws: Vec<usize>,
}

impl Ours {
    fn new(n: usize, k: usize) -> Self {
        Self {
            n,
            opts: FairOptions {
                lambda: LAMBDA,
                iterations: k,
            },
            out: vec![0.0; n * n],
            steps: vec![0.0; fair_steps_len(n, P, k)],
            ws: vec![0.0; fair_workspace_len(n, P, k)],
            iws: vec![0; fair_index_workspace_len(n)],
        }
    }

    /// `out <- K_k` (row-major, both triangles).
    fn run(
        &mut self,
        kernel: MatRef<'_, f64>,
        a: MatRef<'_, f64>,
    ) -> gramkit::Result<FairReport<f64>> {
        let out = MatMut::from_row_major(&mut self.out, self.n, self.n)?;
        let (_, report) = fair_transform(
            &kernel,
            a,
            self.opts,
            Some(out),
            &mut self.steps,
            &mut self.ws,
            &mut self.iws,
        )?;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------
// The direct peer: the definition, refactoring every step, with faer.
// ---------------------------------------------------------------------------

/// `K_0`, the working matrix `K_j`, the factor buffer, `a`, `alpha`, `u` and
/// faer's scratch, all allocated in [`Direct::new`].
struct Direct {
    k0: Mat<f64>,
    k: Mat<f64>,
    l: Mat<f64>,
    a: Mat<f64>,
    alpha: Mat<f64>,
    u: Mat<f64>,
    mem: MemBuffer,
}

impl Direct {
    fn new(kernel: &[f64], data: &Data) -> Self {
        let n = data.n;
        Self {
            // symmetric: row-major is column-major
            k0: Mat::from_fn(n, n, |i, j| kernel[i * n + j]),
            k: Mat::zeros(n, n),
            l: Mat::zeros(n, n),
            a: Mat::from_fn(n, 1, |i, _| data.a[i]),
            alpha: Mat::zeros(n, 1),
            u: Mat::zeros(n, 1),
            mem: MemBuffer::new(StackReq::any_of(&[
                cholesky_in_place_scratch::<f64>(n, Par::Seq, Default::default()),
                llt_solve_scratch::<f64>(n, 1, Par::Seq),
            ])),
        }
    }

    /// `k <- K_k`: `k` refactored steps from `K_0`.
    fn run(&mut self, iterations: usize) {
        let n = self.k.nrows();
        self.k.copy_from(&self.k0);
        for _ in 0..iterations {
            // alpha = (K_{j-1} + lambda I)^{-1} a
            self.l.copy_from(&self.k);
            for i in 0..n {
                self.l[(i, i)] += LAMBDA;
            }
            cholesky_in_place(
                self.l.as_mut(),
                LltRegularization::default(),
                Par::Seq,
                MemStack::new(&mut self.mem),
                Default::default(),
            )
            .expect("direct: K_{j-1} + lambda I is not positive definite");
            self.alpha.copy_from(&self.a);
            llt_solve_in_place(
                self.l.as_ref(),
                self.alpha.as_mut(),
                Par::Seq,
                MemStack::new(&mut self.mem),
            );
            // u = K_{j-1} alpha, c = alpha . u
            matmul(
                self.u.as_mut(),
                Accum::Replace,
                self.k.as_ref(),
                self.alpha.as_ref(),
                1.0,
                Par::Seq,
            );
            let c: f64 = self
                .alpha
                .col_as_slice(0)
                .iter()
                .zip(self.u.col_as_slice(0))
                .map(|(x, y)| x * y)
                .sum();
            // K_j = K_{j-1} - u u^T / c
            matmul(
                self.k.as_mut(),
                Accum::Add,
                self.u.as_ref(),
                self.u.as_ref().transpose(),
                -1.0 / c,
                Par::Seq,
            );
        }
    }

    /// `K_k` row-major (for the comparison).
    fn result(&self) -> Vec<f64> {
        let n = self.k.nrows();
        (0..n * n).map(|t| self.k[(t / n, t % n)]).collect()
    }
}

// ---------------------------------------------------------------------------
// The groups.
// ---------------------------------------------------------------------------

fn fair_exact(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let name = "fair_exact";
    let mut group = c.benchmark_group(name);
    for n in SIZES {
        let data = Data::new(n);
        let kernel = rbf_points_kernel(&data.x, D, LENGTHSCALE2);
        let kview = MatRef::from_row_major(&kernel, n, n).unwrap();
        let a = data.protected();
        let mut peer = Direct::new(&kernel, &data);
        for k in ITERATIONS {
            let case = case_name(n, k);
            let mut ours = Ours::new(n, k);
            let report = ours.run(kview, a).unwrap();
            check_report(name, &case, k, &report);
            if n == CHECK_N {
                peer.run(k);
                let e = rel_diff(&ours.out, &peer.result());
                let note = if e <= EXPECTED {
                    ""
                } else {
                    " (above the expected 1e-6: rounding of the direct recurrence)"
                };
                eprintln!(
                    "{name}/{case}: |K_k gramkit - K_k direct| / |K_k direct| = {e:.1e}{note}"
                );
                assert!(
                    e < TOL,
                    "{name}/{case}: gramkit and direct_faer differ by {e:e} (relative)"
                );
            }

            samples(&mut group, n > CHECK_N || k > 1);
            group.bench_function(BenchmarkId::new("gramkit", &case), |b| {
                b.iter(|| {
                    black_box(ours.run(black_box(kview), black_box(a)).is_ok());
                    black_box(&mut ours.out);
                })
            });
            group.bench_function(BenchmarkId::new("direct_faer", &case), |b| {
                b.iter(|| {
                    peer.run(black_box(k));
                    black_box(&mut peer.k);
                })
            });
        }
    }
    group.finish();
}

fn fair_nystrom(c: &mut Criterion) {
    let name = "fair_nystrom";
    let mut group = c.benchmark_group(name);
    samples(&mut group, true);
    let (n, m) = (NYSTROM_N, NYSTROM_M);
    let data = Data::new(n);
    let kernel = FnSource::new(n, |i: usize, j: usize| data.entry(i, j));
    let a = data.protected();
    let given: Vec<usize> = (0..n).step_by(n / m).collect();
    assert_eq!(given.len(), m);
    for (label, landmarks) in [
        ("given", Landmarks::Given(&given)),
        ("greedy", Landmarks::Greedy { m }),
    ] {
        for k in NYSTROM_ITERATIONS {
            let case = format!("{label}_k{k}");
            let opts = FairOptions {
                lambda: LAMBDA,
                iterations: k,
            };
            let mut steps = vec![0.0; fair_steps_len(n, P, k)];
            let mut ws = vec![0.0; fair_nystrom_workspace_len(n, m, P, k)];
            let mut iws = vec![0; fair_index_workspace_len(n)];
            let mut run = || {
                let r = fair_transform_nystrom(
                    black_box(&kernel),
                    black_box(a),
                    opts,
                    landmarks,
                    None,
                    &mut steps,
                    &mut ws,
                    &mut iws,
                );
                r.map(|(steps, report)| (black_box(steps.applied()), report))
            };
            let (_, report) = run().unwrap();
            check_report(name, &case, k, &report);
            group.bench_function(BenchmarkId::new("gramkit", &case), |b| {
                b.iter(|| black_box(run().is_ok()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, fair_exact, fair_nystrom);
criterion_main!(benches);
