//! Symmetric eigensolver (stub: being written).
