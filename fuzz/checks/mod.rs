//! Decode-and-check logic of the fuzz targets, shared by the cargo-fuzz
//! crate (`fuzz/`, as the library `gramkit_fuzz_checks`) and by the replay
//! test `tests/fuzz_corpus.rs` (through `#[path]`). Depends only on
//! `gramkit` and `std`.
//!
//! Each `check_<family>(data)` decodes shapes, values, lengths and
//! workspaces from the bytes (see [`reader::Bytes`]), calls the routines and
//! panics (an `assert!`) when a contract is broken:
//! - no routine panics;
//! - on `Ok` the outputs are finite and satisfy the routine's defining
//!   property within a rounding tolerance;
//! - on `Err` every input the routine promises to preserve is unchanged
//!   bit for bit, and the error is one the routine documents.
// As in the root crate: index loops mirror the formulas, and `!(x <= t)`
// is meant to fail for NaN; some checks take many decoded pieces.
#![allow(
    clippy::needless_range_loop,
    clippy::neg_cmp_op_on_partial_ord,
    clippy::too_many_arguments,
    clippy::type_complexity
)]

/// Panics unless the error `$e` matches one of the documented variants.
macro_rules! documented {
    ($e:expr, $what:expr, $($pat:pat_param)|+) => {{
        let e: gramkit::Error = $e;
        super::util::trace($what, &e);
        assert!(matches!(e, $($pat)|+), "{}: undocumented error {e:?}", $what);
    }};
}

pub mod reader;
pub mod util;

pub mod cholesky;
pub mod eigen;
pub mod fair;
pub mod kron;
pub mod nystrom;

pub use cholesky::check_cholesky;
pub use eigen::check_eigen;
pub use fair::check_fair;
pub use kron::check_kron;
pub use nystrom::check_nystrom;

/// Every check, by target name (the directory names under `fuzz/corpus/`).
pub const CHECKS: [(&str, fn(&[u8])); 5] = [
    ("cholesky", check_cholesky),
    ("eigen", check_eigen),
    ("kron", check_kron),
    ("nystrom", check_nystrom),
    ("fair", check_fair),
];
