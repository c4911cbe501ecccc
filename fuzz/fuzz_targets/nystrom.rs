//! Fuzz target `nystrom`: see `fuzz/checks/nystrom.rs` for what is decoded and asserted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gramkit_fuzz_checks::check_nystrom(data));
