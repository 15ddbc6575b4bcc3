//! Helpers shared by the end-to-end tests: run the real `seqae` binary and check its exit
//! code and messages.
#![allow(dead_code)] // each test file uses some of them
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a shipped dataset folder.
pub fn dataset(name: &str) -> String {
    root().join("datasets").join(name).display().to_string()
}

/// Runs `seqae` with `args` in the repository root.
pub fn seqae(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqae"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the seqae binary runs")
}

/// Runs a command that must succeed; its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = seqae(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "seqae {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail on bad input: exit code 2, one `seqae: error:` line
/// containing `needle`, and no panic.
pub fn bad(args: &[&str], needle: &str) {
    let out = seqae(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "seqae {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(needle),
        "seqae {args:?}: expected '{needle}' in: {stderr}"
    );
}

/// A path as text (the tests use UTF-8 paths).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A tiny model trained on Chinatown20 (42 sequences, length 24) in `dir/model`.
pub fn tiny_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    ok(&[
        "train",
        &dataset("Chinatown20"),
        "--out",
        s(&model),
        "--epochs",
        "3",
        "--hidden",
        "8",
        "--latent",
        "4",
        "--quiet",
    ]);
    model
}
