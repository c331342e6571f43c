//! The command line on bad input: clear errors naming file and column, exit code 2,
//! counted exclusions, and never a panic.

use crate::common;

use common::*;
use serde_json::Value;

fn rates_json(f: &Files, extra: &[&str]) -> Value {
    command_json(f, "rates", extra)
}

fn fails_with(f: &Files, extra: &[&str], needles: &[&str]) {
    let out = cmd()
        .args(["rates", "--cohort"])
        .arg(&f.cohort)
        .arg("--offences")
        .arg(&f.offences)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

const C: &str = "person_id,cohort,index_date\nA,divert,2021-01-01\n";
const O: &str = "person_id,offence_date,disposal_date\nA,2021-03-01,2021-04-01\n";

#[test]
fn missing_file_names_the_file() {
    let f = files(C, O);
    std::fs::remove_file(&f.offences).unwrap();
    fails_with(&f, &[], &["offences.csv"]);
}

#[test]
fn empty_file_is_an_error_naming_the_file() {
    let f = files("", O);
    fails_with(&f, &[], &["cohort.csv", "empty", "header"]);
}

#[test]
fn missing_required_column_names_the_column() {
    let f = files("person_id,group,index_date\nA,divert,2021-01-01\n", O);
    fails_with(&f, &[], &["cohort.csv", "`cohort`"]);
    let f = files(C, "person_id,offence_date\nA,2021-03-01\n");
    fails_with(&f, &[], &["offences.csv", "`disposal_date`"]);
}

#[test]
fn unreadable_date_column_suggests_date_format() {
    let f = files("person_id,cohort,index_date\nA,divert,01/03/2021\n", O);
    fails_with(&f, &[], &["cohort.csv", "`index_date`", "date format"]);
    // ... and with the right format it reads.
    let f = files(
        "person_id,cohort,index_date\nA,divert,01/01/2021\n",
        "person_id,offence_date,disposal_date\nA,01/03/2021,01/04/2021\n",
    );
    let v = rates_json(
        &f,
        &["--date-format", "%d/%m/%Y", "--extract-date", "2023-01-01"],
    );
    assert_eq!(v["groups"][0]["reoffenders"], 1);
}

#[test]
fn a_required_column_with_no_values_is_an_error() {
    let f = files(
        "person_id,cohort,index_date\nA,,2021-01-01\nB,,2021-01-01\n",
        O,
    );
    fails_with(&f, &[], &["cohort.csv", "`cohort`", "every value is empty"]);
    let f = files(
        C,
        "person_id,offence_date,disposal_date\n,2021-03-01,2021-04-01\n",
    );
    fails_with(&f, &[], &["offences.csv", "`person_id`"]);
}

#[test]
fn bad_options_are_usage_errors() {
    let f = files(C, O);
    fails_with(&f, &["--ci", "bogus"], &["--ci"]);
    fails_with(&f, &["--extract-date", "yesterday"], &["--extract-date"]);
    fails_with(&f, &["--baseline-rate", "20"], &["--baseline-rate"]);
    fails_with(&f, &["--by", "shoe_size"], &["shoe_size"]);
    fails_with(&f, &["--follow-up-days", "0"], &["--follow-up-days"]);
}

#[test]
fn header_only_files_give_an_empty_valid_result() {
    let f = files(
        "person_id,cohort,index_date\n",
        "person_id,offence_date,disposal_date\n",
    );
    let v = rates_json(&f, &[]);
    assert_eq!(v["groups"].as_array().unwrap().len(), 0);
    assert_eq!(v["input"]["rows_read"]["cohort"], 0);
}

#[test]
fn json_has_the_contract_fields() {
    let f = files(
        "person_id,cohort,index_date,sex,age_at_index\nA,divert,2021-01-01,F,17\nB,divert,2021-01-01,M,30\nC,comparison,2021-01-01,M,40\nC,comparison,2021-02-01,M,40\n",
        "person_id,offence_date,disposal_date\nA,2021-03-01,2021-04-01\nA,2021-05-01,2021-06-01\nZ,2021-03-01,2021-04-01\n",
    );
    let v = rates_json(
        &f,
        &[
            "--by",
            "sex,age_band",
            "--baseline-rate",
            "0.2",
            "--extract-date",
            "2023-01-01",
        ],
    );
    let p = &v["parameters"];
    assert_eq!(p["follow_up_days"], 365);
    assert_eq!(p["waiting_days"], 182);
    assert_eq!(p["extract_date"], "2023-01-01");
    let g = &v["groups"][1];
    for k in [
        "cohort",
        "sex",
        "age_band",
        "eligible",
        "reoffenders",
        "reoffences",
        "rate",
        "ci_low",
        "ci_high",
        "ci_method",
        "reoffences_per_offender",
        "reoffences_per_reoffender",
        "mean_days_to_first",
        "median_days_to_first",
        "baseline_p_two_sided",
        "baseline_p_less",
        "baseline_p_greater",
    ] {
        assert!(g.get(k).is_some(), "missing {k} in {g}");
    }
    let a = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["sex"] == "F")
        .unwrap();
    assert_eq!(a["age_band"], "10-17");
    assert_eq!(a["reoffences"], 2);
    assert_eq!(a["median_days_to_first"], 59.0);
    let ex = v["input"]["exclusions"].as_array().unwrap();
    let find = |t: &str, r: &str| {
        ex.iter()
            .find(|e| e["table"] == t && e["reason"] == r)
            .cloned()
    };
    assert_eq!(
        find("cohort", "repeat_index_event").unwrap()["first_rows"],
        serde_json::json!([4])
    );
    assert_eq!(find("offences", "person_not_in_cohort").unwrap()["rows"], 1);
}

#[test]
fn csv_gz_and_parquet_inputs_read_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    for fmt in ["csv", "csv.gz", "parquet"] {
        let out = dir.path().join(fmt);
        cmd()
            .args([
                "generate",
                "--persons",
                "300",
                "--seed",
                "7",
                "--format",
                fmt,
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
    }
    let run = |fmt: &str| {
        let o = cmd()
            .args(["rates", "--format", "json", "--by", "sex", "--cohort"])
            .arg(dir.path().join(fmt).join(format!("cohort.{fmt}")))
            .arg("--offences")
            .arg(dir.path().join(fmt).join(format!("offences.{fmt}")))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{fmt}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        (
            v["groups"].clone(),
            v["input"]["exclusions"].clone(),
            v["parameters"]["extract_date"].clone(),
        )
    };
    let csv = run("csv");
    assert!(csv.0.as_array().unwrap().len() >= 4);
    assert_eq!(run("csv.gz"), csv);
    assert_eq!(run("parquet"), csv);
}

#[test]
fn excel_style_csv_reads_byte_order_mark_and_crlf() {
    let f = files(
        "\u{feff}person_id,cohort,index_date\r\nA,divert,2021-01-01\r\n",
        "\u{feff}person_id,offence_date,disposal_date\r\nA,2021-02-01,2021-03-01\r\n",
    );
    let v = rates_json(&f, &["--extract-date", "2023-01-01"]);
    assert_eq!(v["groups"][0]["reoffenders"], 1);
    assert_eq!(v["groups"][0]["eligible"], 1);
}
