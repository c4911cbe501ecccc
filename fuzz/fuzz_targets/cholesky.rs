//! Cholesky factor on arbitrary bytes: never panics; on `Ok` the factor
//! reproduces the input; on `Err` the input is unchanged bit for bit.
#![no_main]

use gramkit::cholesky::{cholesky_in_place, cholesky_in_place_workspace_len};
use gramkit::{Error, MatMut};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&order, rest)) = data.split_first() else { return };
    let n = usize::from(order % 24);
    let values: Vec<f64> = rest
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    let mut a = vec![0.0; n * n];
    for (i, v) in a.iter_mut().enumerate() {
        *v = values.get(i).copied().unwrap_or(if i % (n + 1) == 0 { 1.0 } else { 0.0 });
    }
    // symmetric input: mirror the lower triangle
    for i in 0..n {
        for j in 0..i {
            a[j * n + i] = a[i * n + j];
        }
    }
    let before = a.clone();
    let ws_len = if rest.len() % 7 == 0 { 0 } else { cholesky_in_place_workspace_len(n) };
    let mut ws = vec![0.0; ws_len];
    let Ok(view) = MatMut::from_row_major(&mut a, n, n) else { return };
    match cholesky_in_place(view, &mut ws) {
        Ok(chol) => {
            let l = chol.l();
            let scale = before.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for i in 0..n {
                for j in 0..=i {
                    let s: f64 = (0..=j).map(|k| l.get(i, k).unwrap_or(0.0) * l.get(j, k).unwrap_or(0.0)).sum();
                    assert!((s - before[i * n + j]).abs() <= 1e-10 * (n as f64 + 1.0) * scale.max(f64::MIN_POSITIVE));
                }
            }
        }
        Err(Error::WorkspaceTooSmall { .. } | Error::NonFinite { .. } | Error::NotPositiveDefinite { .. }) => {
            assert!(a.iter().zip(&before).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        Err(e) => panic!("unexpected error {e}"),
    }
});
