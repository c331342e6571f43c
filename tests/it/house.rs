//! The house rules CI checks through the one test command (`.ci/run` is exactly the
//! README's `cargo test --release`): the code is formatted as `cargo fmt` writes it, has no
//! lint (`cargo clippy --all-targets -- -D warnings`) and documents without a warning
//! (`RUSTDOCFLAGS="-D warnings" cargo doc --no-deps`); public items without documentation
//! fail the build itself (`#![deny(missing_docs)]`).
//!
//! Clippy and rustdoc run in their own target folder (`target/house`), so they neither wait
//! for the test build's lock nor disturb its artefacts; the two share the dependencies'
//! metadata there, built once (a few minutes on a clean checkout, seconds after that).

use std::process::Command;

#[test]
fn the_code_is_formatted_as_cargo_fmt_writes_it() {
    let root = env!("CARGO_MANIFEST_DIR");
    if !has("fmt") {
        // A toolchain without rustfmt (rustup's minimal profile) cannot check this; say so
        // rather than pass silently.
        eprintln!(
            "cargo fmt is not installed: formatting not checked (rustup component add rustfmt)"
        );
        return;
    }
    let out = Command::new("cargo")
        .args(["fmt", "--all", "--check"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo fmt --check found unformatted code (run cargo fmt):\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Whether `cargo SUBCOMMAND --version` runs (a toolchain installed with rustup's minimal
/// profile has neither clippy nor rustfmt).
fn has(subcommand: &str) -> bool {
    Command::new("cargo")
        .args([subcommand, "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn clippy_finds_nothing_and_the_documentation_builds_without_warnings() {
    let root = env!("CARGO_MANIFEST_DIR");
    let target = format!("{root}/target/house");
    if has("clippy") {
        let out = Command::new("cargo")
            .args([
                "clippy",
                "--all-targets",
                "--target-dir",
                &target,
                "--quiet",
            ])
            .args(["--", "-D", "warnings"])
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo clippy --all-targets -- -D warnings failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("cargo clippy is not installed: lints not checked (rustup component add clippy)");
    }
    let out = Command::new("cargo")
        .args(["doc", "--no-deps", "--target-dir", &target, "--quiet"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "RUSTDOCFLAGS=\"-D warnings\" cargo doc --no-deps failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
