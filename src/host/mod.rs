//! Host-side layer (feature `std`): owned matrices and conveniences that
//! allocate, built on the allocation-free core. Nothing in the core depends
//! on this module.

mod matrix;

pub use matrix::Matrix;
