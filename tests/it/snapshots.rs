//! Printed tables and error messages, pinned (cobalt-style snapshot tests). Review a change
//! with `cargo insta review` (or INSTA_UPDATE=always) and commit the .snap files.

use crate::common::stdout;
use assert_cmd::Command;

fn sample() -> (String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    (
        format!("{root}/data-samples/cohort.csv"),
        format!("{root}/data-samples/offences.csv"),
    )
}

fn stderr(args: &[&str]) -> String {
    let out = Command::cargo_bin("reoffending")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    // Paths differ between machines: keep the file name only.
    let root = env!("CARGO_MANIFEST_DIR");
    String::from_utf8(out.stderr)
        .unwrap()
        .replace(root, "<root>")
}

#[test]
fn rates_table() {
    let (c, o) = sample();
    insta::assert_snapshot!(
        stdout(&[
            "rates",
            "--cohort",
            &c,
            "--offences",
            &o,
            "--by",
            "age_group",
            "--baseline-rate",
            "0.2"
        ])
        .replace(&c, "cohort.csv")
        .replace(&o, "offences.csv")
    );
}

#[test]
fn compare_table() {
    let (c, o) = sample();
    insta::assert_snapshot!(stdout(&[
        "compare",
        "--cohort",
        &c,
        "--offences",
        &o,
        "--control",
        "comparison",
        "--by",
        "sex"
    ]));
}

#[test]
fn power_table() {
    insta::assert_snapshot!(stdout(&[
        "power",
        "--baseline-rate",
        "0.2",
        "--target-rate",
        "0.15"
    ]));
}

#[test]
fn error_messages() {
    let (c, o) = sample();
    let messages = [
        stderr(&["rates", "--cohort", "missing.csv", "--offences", &o]),
        stderr(&["rates", "--cohort", &c, "--offences", &o, "--ci", "bogus"]),
        stderr(&[
            "rates",
            "--cohort",
            &c,
            "--offences",
            &o,
            "--by",
            "shoe_size",
        ]),
        stderr(&[
            "compare",
            "--cohort",
            &c,
            "--offences",
            &o,
            "--control",
            "nobody",
        ]),
        stderr(&[
            "rates",
            "--cohort",
            &c,
            "--offences",
            &o,
            "--date-format",
            "%d/%m/%Y",
        ]),
    ];
    insta::assert_snapshot!(messages.join("---\n"));
}
