//! Symmetric eigendecomposition (values and vectors): gramkit against faer
//! and nalgebra.
//!
//! Fairness (see also the README):
//! - single thread: faer's global parallelism is `Par::Seq` and its call
//!   gets `Par::Seq` explicitly; gramkit and nalgebra are sequential;
//! - gramkit and faer read the input through a view and write eigenvalues
//!   and eigenvectors into outputs allocated once before the timing, with
//!   their workspace / scratch also allocated once outside: nothing is
//!   copied or allocated inside the timed region. faer is called through
//!   `faer::linalg::evd::self_adjoint_evd`, the allocation-free routine
//!   behind `Mat::self_adjoint_eigen`, whose signature matches gramkit's;
//! - nalgebra's `SymmetricEigen::new` consumes its matrix and allocates
//!   its results: its timed region holds a clone of the input (`O(n^2)`,
//!   negligible against the `O(n^3)` decomposition) and those allocations.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::{Mat, Par};
use gramkit::eigen::{symmetric_eigen, symmetric_eigen_workspace_len};
use gramkit::{MatMut, MatRef};
use gramkit_bench::spd_row_major;
use nalgebra::{DMatrix, SymmetricEigen};

const SEED: u64 = 0x6772_616d_6b69_7402;
const SIZES: [usize; 4] = [16, 64, 256, 1024];

fn eigen_f64(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let mut group = c.benchmark_group("eigen_f64");
    for n in SIZES {
        if n >= 256 {
            group.sample_size(10);
            group.warm_up_time(Duration::from_secs(1));
        }
        let a = spd_row_major(n, SEED);

        // gramkit: outputs and workspace allocated once.
        let mut values = vec![0.0f64; n];
        let mut vectors = vec![0.0f64; n * n];
        let mut ws = vec![0.0f64; symmetric_eigen_workspace_len(n, true)];

        // faer: column-major input (same numbers: `a` is symmetric).
        let fa = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
        let mut fs = Diag::<f64>::zeros(n);
        let mut fu = Mat::<f64>::zeros(n, n);
        let mut fmem = MemBuffer::new(self_adjoint_evd_scratch::<f64>(
            n,
            ComputeEigenvectors::Yes,
            Par::Seq,
            Default::default(),
        ));

        let na = DMatrix::<f64>::from_row_slice(n, n, &a);

        // Sanity check outside the timing: same spectrum as faer.
        {
            let r = symmetric_eigen(
                MatRef::from_row_major(&a, n, n).unwrap(),
                &mut values,
                Some(MatMut::from_row_major(&mut vectors, n, n).unwrap()),
                &mut ws,
            );
            assert!(r.is_ok(), "gramkit eigen failed at n = {n}");
            self_adjoint_evd(
                fa.as_ref(),
                fs.as_mut(),
                Some(fu.as_mut()),
                Par::Seq,
                MemStack::new(&mut fmem),
                Default::default(),
            )
            .expect("faer eigen");
            let mut g = values.clone();
            g.sort_by(f64::total_cmp);
            let f = fs.column_vector();
            let diff = (0..n).map(|i| (g[i] - f[i]).abs()).fold(0.0, f64::max);
            assert!(
                diff < 1e-10,
                "gramkit and faer eigenvalues differ by {diff:e} at n = {n}"
            );
        }

        group.bench_function(BenchmarkId::new("gramkit", n), |b| {
            b.iter(|| {
                let r = symmetric_eigen(
                    MatRef::from_row_major(black_box(&a), n, n).unwrap(),
                    &mut values,
                    Some(MatMut::from_row_major(&mut vectors, n, n).unwrap()),
                    &mut ws,
                );
                black_box(r.is_ok());
                black_box((&mut values, &mut vectors));
            })
        });

        group.bench_function(BenchmarkId::new("faer", n), |b| {
            b.iter(|| {
                let r = self_adjoint_evd(
                    black_box(&fa).as_ref(),
                    fs.as_mut(),
                    Some(fu.as_mut()),
                    Par::Seq,
                    MemStack::new(&mut fmem),
                    Default::default(),
                );
                black_box(r.is_ok());
                black_box((&mut fs, &mut fu));
            })
        });

        group.bench_function(BenchmarkId::new("nalgebra", n), |b| {
            b.iter(|| black_box(SymmetricEigen::new(black_box(&na).clone())))
        });
    }
    group.finish();
}

criterion_group!(benches, eigen_f64);
criterion_main!(benches);
