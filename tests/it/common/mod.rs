//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use reoffending::{Dataset, Evaluation, Inputs, LoadOptions, Rules};

/// A temporary folder holding a cohort and an offences CSV.
pub struct Files {
    pub dir: tempfile::TempDir,
    pub cohort: PathBuf,
    pub offences: PathBuf,
}

pub fn files(cohort: &str, offences: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("cohort.csv");
    let o = dir.path().join("offences.csv");
    std::fs::write(&c, cohort).unwrap();
    std::fs::write(&o, offences).unwrap();
    Files {
        dir,
        cohort: c,
        offences: o,
    }
}

pub fn day(s: &str) -> i32 {
    reoffending::parse_iso(s).unwrap()
}

pub fn options(extract: &str) -> LoadOptions {
    LoadOptions {
        extract_date: Some(day(extract)),
        ..Default::default()
    }
}

pub fn evaluate(f: &Files, extract: &str, rules: Rules) -> Evaluation {
    let inputs = Inputs {
        cohort: f.cohort.clone(),
        offences: f.offences.clone(),
        load: options(extract),
    };
    Evaluation::load(&inputs, rules).unwrap()
}

pub fn load(f: &Files, load: &LoadOptions) -> reoffending::Result<Dataset> {
    Dataset::load(&f.cohort, &f.offences, load)
}

pub fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Runs the binary with `args`, expects success, and parses its JSON output.
pub fn run_json<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("reoffending")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `command --format json --cohort .. --offences .. extra..` on `f`, expecting success.
pub fn command_json(f: &Files, command: &str, extra: &[&str]) -> serde_json::Value {
    let (c, o) = (path(&f.cohort), path(&f.offences));
    let mut args = vec![
        command,
        "--format",
        "json",
        "--cohort",
        &c,
        "--offences",
        &o,
    ];
    args.extend_from_slice(extra);
    run_json(&args)
}

/// Runs the binary with `args`, whatever the outcome: (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("reoffending")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Reads a committed reference or fixture file under `tests/`, asserting it is not empty.
pub fn read_reference(rel: &str) -> String {
    let path = format!("{}/tests/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!text.trim().is_empty(), "{path} is empty");
    text
}
