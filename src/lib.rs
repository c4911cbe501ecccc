//! # gramkit
//!
//! Allocation-free numerical kernels for Gram (kernel) matrices, for
//! firmware with fixed buffers and for hosts alike.
//!
//! The core is `#![no_std]` and never allocates: every routine writes into
//! caller-supplied outputs and scratch slices, and each routine that needs
//! scratch has a `const fn <routine>_workspace_len(..)`. Everything is
//! generic over [`Real`] (`f32`, `f64`) and works on strided views
//! ([`MatRef`], [`MatMut`]) over slices or on fixed arrays `[[T; N]; N]`.
//!
//! | module | what |
//! |---|---|
//! | [`view`] | matrix views over caller buffers |
//! | [`error`] | the one error type |
//! | [`op`] | operator, solve and log-determinant traits; conjugate gradients |
//! | [`dense`] | dense products |
//! | [`cholesky`] | factor, solve, log-determinant, inverse, update/downdate, jitter, pivoted |
//! | [`eigen`] | symmetric eigensolver |
//! | [`fair`] | fair null-space projection of a kernel matrix (the iterated `Z_k` transform) |
//! | [`nystrom`] | Nystroem approximation and the Woodbury inverse `(K~ + lambda I)^{-1}` |
//! | [`kron`] | Kronecker products, `K + s^2 I` in eigen form, Gaussian processes on grids |
//!
//! With the `std` feature (on by default) the [`host`] module adds owned
//! matrices and convenience APIs on top of the same core.
//!
//! ## Errors
//! Every fallible routine returns [`Result`]; no routine panics on any input
//! (wrong lengths, NaN or infinity, empty matrices, sizes whose product
//! overflows). Unless a routine says it overwrites an argument, the caller's
//! data is unchanged when an error is returned.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod cholesky;
pub mod dense;
pub mod eigen;
pub mod error;
pub mod fair;
pub mod kron;
pub mod nystrom;
pub mod op;
pub mod real;
pub mod view;

pub(crate) mod kernel;
pub(crate) mod level2;
pub(crate) mod simd;

#[doc(hidden)]
pub use simd::force_portable_kernels;
pub(crate) mod workspace;

#[cfg(feature = "std")]
pub mod host;

#[cfg(feature = "std")]
pub use host::Matrix;

pub use error::{Error, Result};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
pub use real::Real;
pub use view::{AsMatMut, AsMatRef, MatMut, MatRef};
