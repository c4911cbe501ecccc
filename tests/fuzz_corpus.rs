//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/*`) through
//! the fuzz targets' own checks, on the stable toolchain: a regression
//! found by fuzzing stays fixed under plain `cargo test`.
#[path = "../fuzz/checks/mod.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

/// Runs `check` on every file of `fuzz/corpus/<name>`, failing if the
/// directory is missing or empty and naming the input that fails.
fn replay(name: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("read corpus file");
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "fuzz check `{name}` failed on {failed:#?}"
    );
    files.len()
}

#[test]
fn every_corpus_replays_clean() {
    for (name, check) in checks::CHECKS {
        let count = replay(name, check);
        println!("{name}: {count} inputs");
    }
}
