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

/// The binary, ready for its arguments.
pub fn cmd() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("reoffending").unwrap()
}

/// Runs the binary with `args`, expects success, and returns its standard output.
pub fn stdout(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The path of a committed fixture, `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A committed reference result, `tests/reference/NAME` (JSON), asserted non-empty.
pub fn reference_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&read_reference(&format!("reference/{name}"))).unwrap()
}

/// The `report.json` a report wrote into `out`.
pub fn report_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// Runs `report CFG --out OUT`, expects success, and returns its `report.json`.
pub fn run_report(cfg: &Path, out: &Path) -> serde_json::Value {
    cmd()
        .arg("report")
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    report_json(out)
}

/// Every file below `dir` (in its folders too), sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p))
        } else {
            out.push(p)
        }
    }
    out.sort();
    out
}

/// The sample extract's folder, `data-samples/`.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples")
}

/// The sample's evaluation file with the paths of its four files made absolute, so that it
/// can be written anywhere.
pub fn sample_evaluation_text() -> String {
    let root = sample_dir();
    let mut text = std::fs::read_to_string(root.join("evaluation.toml")).unwrap();
    for file in [
        "cohort.csv",
        "offences.csv",
        "unit_costs.csv",
        "gdp_deflator.csv",
    ] {
        text = text.replace(&format!("\"{file}\""), &format!("{:?}", root.join(file)));
    }
    text
}

/// Reads a committed reference or fixture file under `tests/`, asserting it is not empty.
pub fn read_reference(rel: &str) -> String {
    let path = format!("{}/tests/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(!text.trim().is_empty(), "{path} is empty");
    text
}

/// How close a computed figure must be to its reference: within `rel` of the larger of the
/// two in size, or within `abs` outright (the floor for figures at or near zero):
/// `|got - want| <= rel * max(|got|, |want|)` or `|got - want| <= abs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub rel: f64,
    pub abs: f64,
}

impl Tolerance {
    pub const fn new(rel: f64, abs: f64) -> Self {
        Self { rel, abs }
    }

    /// Whether `got` is within the tolerance of `want` (never for a NaN).
    pub fn close(&self, got: f64, want: f64) -> bool {
        let d = (got - want).abs();
        d <= self.rel * got.abs().max(want.abs()) || d <= self.abs
    }
}

/// Asserts `got` is within `tol` of `want`, saying what, both figures, their difference and
/// the tolerance otherwise.
#[track_caller]
pub fn assert_close(got: f64, want: f64, tol: Tolerance, what: &str) {
    assert!(
        tol.close(got, want),
        "{what}: got {got:e}, want {want:e}, difference {:e} beyond rel {:e} (of {:e}) / abs {:e}",
        (got - want).abs(),
        tol.rel,
        got.abs().max(want.abs()),
        tol.abs
    );
}

/// `v[key]` of a reference file as its array of cases, asserted present and non-empty, so that
/// an empty or mis-keyed reference fails instead of passing vacuously.
#[track_caller]
pub fn cases<'a>(v: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
    let a = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("reference: {key:?} is not an array"));
    assert!(!a.is_empty(), "reference: {key:?} holds no cases");
    a
}

#[test]
fn tolerance_is_relative_to_the_larger_figure_or_an_absolute_floor() {
    let t = Tolerance::new(1e-3, 1e-9);
    assert!(t.close(1000.0, 1001.0) && t.close(1001.0, 1000.0));
    assert!(!t.close(1000.0, 1002.0));
    assert!(t.close(0.0, 1e-9) && !t.close(0.0, 2e-9));
    assert!(!t.close(f64::NAN, 0.0) && !t.close(1.0, f64::NAN));
    let message = std::panic::catch_unwind(|| assert_close(1.0, 2.0, t, "x"))
        .unwrap_err()
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with("x: got 1e0, want 2e0, difference 1e0"),
        "{message}"
    );
}
