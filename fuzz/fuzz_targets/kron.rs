//! Fuzz target `kron`: see `fuzz/checks/kron.rs` for what is decoded and asserted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gramkit_fuzz_checks::check_kron(data));
