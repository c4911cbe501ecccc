//! Cholesky factorization: gramkit against faer and nalgebra.
//!
//! Fairness (see also the README):
//! - single thread: faer's global parallelism is `Par::Seq` and every faer
//!   call gets `Par::Seq` explicitly; gramkit and nalgebra are sequential;
//! - `cholesky_f64`: the timed closure of *every* library first copies the
//!   input into a buffer allocated before the timing (an `O(n^2)` memcpy),
//!   then factors that buffer in place (`gramkit_into` is gramkit's
//!   `cholesky_into`, which does that copy itself: it reads the input and
//!   writes the factor into a separate buffer); no library allocates inside the
//!   timed region (gramkit's workspace and faer's scratch are allocated
//!   once outside; nalgebra's matrix is moved into `Cholesky` and taken back
//!   with `unpack_dirty`, which neither copies nor allocates);
//! - `cholesky_fixed`: gramkit's `FixedCholesky::factor(&a)` and nalgebra's
//!   `SMatrix::cholesky()` both work by value on the stack; faer (dynamic
//!   sizes only) is shown for reference with the same copy + in-place
//!   scheme as above.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    LltRegularization, cholesky_in_place as faer_cholesky_in_place,
    cholesky_in_place_scratch as faer_cholesky_scratch,
};
use faer::{Mat, Par};
use gramkit::cholesky::{
    FixedCholesky, cholesky_in_place, cholesky_in_place_workspace_len, cholesky_into,
    cholesky_into_workspace_len,
};
use gramkit::{MatMut, MatRef};
use gramkit_bench::{Scalar, max_lower_diff, spd_fixed, spd_row_major};
use nalgebra::{DMatrix, SMatrix};

const SEED: u64 = 0x6772_616d_6b69_7401;
const SIZES: [usize; 4] = [64, 256, 1024, 2048];
/// nalgebra's unblocked factorization takes seconds at 2048: skipped there.
const NALGEBRA_MAX: usize = 1024;

/// faer's allocation-free in-place factorization of `buf`, sequential, with
/// its scratch in `mem`; `true` when it succeeded.
fn faer_factor<T: faer::traits::ComplexField>(buf: &mut Mat<T>, mem: &mut MemBuffer) -> bool {
    faer_cholesky_in_place(
        buf.as_mut(),
        LltRegularization::default(),
        Par::Seq,
        MemStack::new(mem),
        Default::default(),
    )
    .is_ok()
}

fn cholesky_f64(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let mut group = c.benchmark_group("cholesky_f64");
    for n in SIZES {
        if n >= 1024 {
            group.sample_size(10);
            group.warm_up_time(Duration::from_secs(1));
        }
        let a = spd_row_major(n, SEED);

        // gramkit: row-major buffer, workspace allocated once.
        let mut buf = a.clone();
        let mut ws = vec![0.0f64; cholesky_in_place_workspace_len(n)];
        // gramkit_into: reads `a`, writes a separate output (its own copy).
        let mut lbuf = vec![0.0f64; n * n];
        let mut ws_into = vec![0.0f64; cholesky_into_workspace_len(n)];

        // faer: column-major `Mat` (same numbers: `a` is symmetric), scratch once.
        let fa = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
        let mut fbuf = fa.clone();
        let mut fmem = MemBuffer::new(faer_cholesky_scratch::<f64>(
            n,
            Par::Seq,
            Default::default(),
        ));

        // nalgebra: column-major `DMatrix`.
        let na = DMatrix::<f64>::from_row_slice(n, n, &a);
        let mut nbuf = Some(na.clone());

        // Sanity check outside the timing: gramkit's L equals faer's L.
        {
            let chol = cholesky_in_place(MatMut::from_row_major(&mut buf, n, n).unwrap(), &mut ws)
                .expect("gramkit: SPD input");
            assert!(faer_factor(&mut fbuf, &mut fmem), "faer: SPD input");
            let l = chol.l();
            let diff = max_lower_diff(n, |i, j| l.get(i, j).unwrap(), |i, j| fbuf[(i, j)]);
            assert!(
                diff < 1e-10,
                "gramkit and faer factors differ by {diff:e} at n = {n}"
            );
        }

        group.bench_function(BenchmarkId::new("gramkit", n), |b| {
            b.iter(|| {
                buf.copy_from_slice(black_box(&a));
                let view = MatMut::from_row_major(&mut buf, n, n).unwrap();
                let chol = cholesky_in_place(view, &mut ws);
                black_box(chol.is_ok());
                black_box(&mut buf);
            })
        });

        group.bench_function(BenchmarkId::new("gramkit_into", n), |b| {
            b.iter(|| {
                let chol = cholesky_into(
                    MatRef::from_row_major(black_box(&a), n, n).unwrap(),
                    MatMut::from_row_major(&mut lbuf, n, n).unwrap(),
                    &mut ws_into,
                );
                black_box(chol.is_ok());
                black_box(&mut lbuf);
            })
        });

        group.bench_function(BenchmarkId::new("faer", n), |b| {
            b.iter(|| {
                fbuf.copy_from(black_box(&fa));
                black_box(faer_factor(&mut fbuf, &mut fmem));
                black_box(&mut fbuf);
            })
        });

        if n <= NALGEBRA_MAX {
            group.bench_function(BenchmarkId::new("nalgebra", n), |b| {
                b.iter(|| {
                    let mut m = nbuf.take().unwrap();
                    m.copy_from(black_box(&na));
                    let chol = m.cholesky().expect("nalgebra: SPD input");
                    nbuf = Some(black_box(chol.unpack_dirty()));
                })
            });
        }
    }
    group.finish();
}

fn fixed_case<T, const N: usize>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ty: &str,
) where
    T: Scalar + gramkit::Real + nalgebra::RealField + faer::traits::RealField,
{
    let case = format!("{ty}_n{N}");
    let a: [[T; N]; N] = spd_fixed(SEED);
    let sa = SMatrix::<T, N, N>::from_fn(|i, j| a[i][j]);
    let fa = Mat::<T>::from_fn(N, N, |i, j| a[i][j]);

    // Sanity check outside the timing: both factor the same matrix.
    let g = FixedCholesky::<T, N>::factor(&a).expect("gramkit: SPD input");
    let s = sa.cholesky().expect("nalgebra: SPD input");
    let (gl, sl) = (g.l(), s.l());
    let diff = max_lower_diff(
        N,
        |i, j| Scalar::to_f64(gl.get(i, j).unwrap()),
        |i, j| Scalar::to_f64(sl[(i, j)]),
    );
    assert!(
        diff < 1e-4,
        "gramkit and nalgebra factors differ by {diff:e} ({case})"
    );

    group.bench_function(BenchmarkId::new("gramkit", &case), |b| {
        b.iter(|| black_box(FixedCholesky::<T, N>::factor(black_box(&a))))
    });
    group.bench_function(BenchmarkId::new("nalgebra", &case), |b| {
        b.iter(|| black_box(black_box(sa).cholesky()))
    });

    let mut fbuf = fa.clone();
    let mut fmem = MemBuffer::new(faer_cholesky_scratch::<T>(N, Par::Seq, Default::default()));
    group.bench_function(BenchmarkId::new("faer", &case), |b| {
        b.iter(|| {
            fbuf.copy_from(black_box(&fa));
            black_box(faer_factor(&mut fbuf, &mut fmem));
            black_box(&mut fbuf);
        })
    });
}

fn cholesky_fixed(c: &mut Criterion) {
    faer::set_global_parallelism(Par::Seq);
    let mut group = c.benchmark_group("cholesky_fixed");
    fixed_case::<f32, 4>(&mut group, "f32");
    fixed_case::<f32, 8>(&mut group, "f32");
    fixed_case::<f32, 16>(&mut group, "f32");
    fixed_case::<f64, 4>(&mut group, "f64");
    fixed_case::<f64, 8>(&mut group, "f64");
    fixed_case::<f64, 16>(&mut group, "f64");
    group.finish();
}

criterion_group!(benches, cholesky_f64, cholesky_fixed);
criterion_main!(benches);
