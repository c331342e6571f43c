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
    if !has("fmt") {
        // A toolchain without rustfmt (rustup's minimal profile) cannot check this; say so
        // rather than pass silently.
        eprintln!(
            "cargo fmt is not installed: formatting not checked (rustup component add rustfmt)"
        );
        return;
    }
    assert_cargo_passes(
        &["fmt", "--all", "--check"],
        &[],
        "cargo fmt --check (run cargo fmt)",
    );
}

/// Runs `cargo ARGS` at the crate's root with `env` set, and fails with `what` and the
/// command's output unless it succeeds.
fn assert_cargo_passes(args: &[&str], env: &[(&str, &str)], what: &str) {
    let out = Command::new("cargo")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
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
        assert_cargo_passes(
            &[
                "clippy",
                "--all-targets",
                "--target-dir",
                &target,
                "--quiet",
                "--",
                "-D",
                "warnings",
            ],
            &[],
            "cargo clippy --all-targets -- -D warnings",
        );
    } else {
        eprintln!("cargo clippy is not installed: lints not checked (rustup component add clippy)");
    }
    assert_cargo_passes(
        &["doc", "--no-deps", "--target-dir", &target, "--quiet"],
        &[("RUSTDOCFLAGS", "-D warnings")],
        "RUSTDOCFLAGS=\"-D warnings\" cargo doc --no-deps",
    );
}
