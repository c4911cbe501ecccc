//! Host-side layer (feature `std`): owned matrices and convenience APIs on
//! top of the allocation-free core.
