//! Host-side layer (feature `std`): owned matrices and conveniences that
//! allocate, built on the allocation-free core. Nothing in the core depends
//! on this module.

mod csv;
mod fair;
mod grid_gp;
mod kernels;
mod krr;
mod matrix;
pub mod metrics;
mod optim;

pub use csv::{CsvError, CsvProblem, CsvTable, Header, format_csv, write_csv};
pub use fair::{
    FAIR_KERNEL_USAGE, FairKernel, FairKernelFit, FairMode, FairToolError, FairToolSummary,
    run_fair_kernel_tool,
};
pub use grid_gp::{
    FitReport, GridGp, GridGpEigen, GridParam, GridPosterior, ParseProblem, ParseValuesError,
    parse_grid_values,
};
pub use kernels::{HyperParam, Kernel1d, KernelKind};
pub use krr::{
    KernelRidge, MEDIAN_HEURISTIC_MAX_ROWS, RidgeSelection, Standardizer, complement, k_fold,
    median_heuristic_lengthscale, rbf_gram, rbf_kernel, select, select_ridge_cv,
};
pub use matrix::Matrix;
pub use optim::{LbfgsOptions, LbfgsReport, LbfgsStatus, minimize};
