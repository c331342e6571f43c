//! What real extracts hold: zoned timestamps, odd Arrow types, duplicated columns, dates
//! at the extremes, implausible values, non-UTF-8 text, options that make no sense. Each
//! gives the right answer or an exit-2 error naming the file, column and (where known) row.
//! Parquet fixtures: tests/fixtures/make_hostile.py.

use crate::common;

use common::*;
use serde_json::Value;

/// Runs `rates` on `f`, expecting a usage error (exit 2); returns its message.
fn rates_fails(f: &Files) -> String {
    let (code, _, err) = run(&[
        "rates",
        "--cohort",
        &path(&f.cohort),
        "--offences",
        &path(&f.offences),
    ]);
    assert_eq!(code, 2, "{err}");
    err
}

fn reoffenders(v: &Value) -> Vec<(String, u64, u64)> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["cohort"].as_str().unwrap().to_string(),
                g["eligible"].as_u64().unwrap(),
                g["reoffenders"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rates(cohort: &str, offences: &str, extra: &[&str]) -> Value {
    let (c, o) = (fixture(cohort), fixture(offences));
    let mut args = vec![
        "rates",
        "--format",
        "json",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &c,
        "--offences",
        &o,
    ];
    args.extend_from_slice(extra);
    run_json(&args)
}

#[test]
fn zoned_timestamps_give_the_same_counts_as_plain_dates() {
    let want = vec![
        ("comparison".to_string(), 2, 2),
        ("divert".to_string(), 2, 0),
    ];
    let plain = rates("zoned_cohort.csv", "zoned_offences.csv", &[]);
    assert_eq!(reoffenders(&plain), want);
    for (c, o) in [
        ("zoned_cohort.parquet", "zoned_offences.csv"),
        ("zoned_cohort.csv", "zoned_offences.parquet"),
        ("zoned_cohort.parquet", "zoned_offences.parquet"),
    ] {
        let v = rates(c, o, &[]);
        assert_eq!(reoffenders(&v), want, "{c} + {o}");
        assert_eq!(v["groups"], plain["groups"], "{c} + {o}");
    }
    // Local midnights stored in UTC: their UTC date is a day early in summer, which
    // moves B's disposal from day 548 to day 547. Read in the force's zone, they are right.
    let utc = rates("zoned_cohort.csv", "zoned_utc_offences.parquet", &[]);
    assert_eq!(
        reoffenders(&utc)[1],
        ("divert".to_string(), 2, 1),
        "read in UTC, as labelled"
    );
    let london = rates(
        "zoned_cohort.csv",
        "zoned_utc_offences.parquet",
        &["--timezone", "Europe/London"],
    );
    assert_eq!(reoffenders(&london), want);
    let (code, _, err) = run(&[
        "rates",
        "--timezone",
        "Mars/Olympus",
        "--cohort",
        &fixture("zoned_cohort.csv"),
        "--offences",
        &fixture("zoned_offences.csv"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--timezone"), "{err}");
}

#[test]
fn every_arrow_integer_and_decimal_width_reads() {
    let v = run_json(&[
        "validate",
        "--format",
        "json",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &fixture("widths_cohort.parquet"),
        "--offences",
        &fixture("zoned_offences.csv"),
    ]);
    assert_eq!(v["input"]["rows_read"]["cohort"], 4);
    assert_eq!(v["input"]["rows_used"]["cohort"], 4);
    // The int8 ages band as they should, the uint16 priors are used as given.
    let by = run_json(&[
        "rates",
        "--format",
        "json",
        "--by",
        "age_group,score16,flag8,count32,dec0",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &fixture("widths_cohort.parquet"),
        "--offences",
        &fixture("zoned_offences.csv"),
    ]);
    let groups = by["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    let a = groups
        .iter()
        .find(|g| g["age_group"] == "juvenile")
        .expect("the 17-year-old");
    assert_eq!(a["count32"], "10");
    assert_eq!(a["dec0"], "5");
    assert_eq!(a["score16"], "-3");
}

#[test]
fn duplicated_column_names_are_errors_naming_file_and_column() {
    for (header, col) in [
        ("person_id,cohort,index_date,index_date", "index_date"),
        ("person_id,cohort,index_date,sex,sex", "sex"),
    ] {
        let f = files(
            &format!("{header}\nA,divert,2021-01-01,2022-01-01,x\n"),
            "person_id,offence_date,disposal_date\n",
        );
        let err = rates_fails(&f);
        assert!(
            err.contains("cohort.csv") && err.contains(&format!("`{col}` appears more than once")),
            "{err}"
        );
    }
    let (code, _, err) = run(&[
        "rates",
        "--cohort",
        &fixture("duplicate_cohort.parquet"),
        "--offences",
        &fixture("zoned_offences.csv"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("duplicate_cohort.parquet") && err.contains("`sex`"),
        "{err}"
    );
}

#[test]
fn dates_outside_the_plausible_years_are_excluded_and_never_overflow() {
    let v = run_json(&[
        "validate",
        "--format",
        "json",
        "--cohort",
        &fixture("zoned_cohort.csv"),
        "--offences",
        &fixture("extreme_offences.parquet"),
    ]);
    let ex = v["input"]["exclusions"].as_array().unwrap();
    let unparseable = ex
        .iter()
        .find(|e| e["table"] == "offences" && e["reason"] == "unparseable_value")
        .unwrap();
    assert_eq!(unparseable["rows"], 2);
    assert_eq!(unparseable["first_rows"], serde_json::json!([1, 2]));
    // The extract date comes from D's row (2021-09-01 + ...), not from day 2^31 - 1.
    assert_eq!(v["parameters"]["extract_date"], "2021-09-01");
    // A cohort index date in year 1 is unparseable too; the wider range is an option.
    let f = files(
        "person_id,cohort,index_date\nA,divert,0001-01-01\nB,divert,1899-12-31\nC,divert,2021-01-01\n",
        "person_id,offence_date,disposal_date\nC,2021-02-01,2021-03-01\n",
    );
    let v = command_json(&f, "validate", &[]);
    let ex = v["input"]["exclusions"].to_string();
    assert!(
        ex.contains(r#""reason":"unparseable_value","rows":2"#),
        "{ex}"
    );
    let v = command_json(&f, "validate", &["--years", "1800-2100"]);
    let ex = v["input"]["exclusions"].to_string();
    assert!(
        ex.contains(r#""reason":"unparseable_value","rows":1"#),
        "{ex}"
    );
}

#[test]
fn an_excluded_far_future_row_does_not_move_the_extract_date() {
    let cohort = "person_id,cohort,index_date\nA,divert,2020-01-10\nB,divert,2020-02-01\n";
    let offences = "person_id,offence_date,disposal_date\nA,2020-03-01,2020-05-01\n\
                    B,2021-06-01,2021-09-30\nZ,2098-01-01,2099-01-01\n";
    let f = files(cohort, offences);
    let v = command_json(&f, "rates", &[]);
    assert_eq!(v["parameters"]["extract_date"], "2021-09-30");
    assert_eq!(
        v["parameters"]["extract_date_source"],
        "latest_disposal_date"
    );
    // A far-future row of a cohort person does move it, and is warned about by row.
    let offences = "person_id,offence_date,disposal_date\nA,2020-03-01,2020-05-01\n\
                    B,2021-06-01,2021-09-30\nB,2098-01-01,2099-01-01\n";
    let f = files(cohort, offences);
    let (code, out, err) = run(&[
        "validate",
        "--cohort",
        &path(&f.cohort),
        "--offences",
        &path(&f.offences),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("later than today") && err.contains("offences row 3"),
        "{err}"
    );
    assert!(out.contains("offences row 3"), "{out}");
    let v = command_json(&f, "validate", &[]);
    let issues: Vec<&str> = v["input"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["issue"].as_str().unwrap())
        .collect();
    assert!(
        issues.contains(&"extract_date_far_after_disposals"),
        "{issues:?}"
    );
    assert!(issues.contains(&"extract_date_after_today"), "{issues:?}");
}

#[test]
fn implausible_ages_and_negative_counts_are_excluded_and_counted() {
    let f = files(
        "person_id,cohort,index_date,age_at_index,prior_offences\n\
         A,divert,2021-01-01,-5,0\nB,divert,2021-01-01,1e30,0\nC,divert,2021-01-01,30,-1\n\
         D,divert,2021-01-01,9,0\nE,divert,2021-01-01,10,0\nF,divert,2021-01-01,110,2\n",
        "person_id,offence_date,disposal_date\nE,2021-02-01,2021-03-01\n",
    );
    let v = command_json(&f, "validate", &["--extract-date", "2023-01-01"]);
    let ex = &v["input"]["exclusions"];
    let implausible = ex
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "implausible_value")
        .unwrap_or_else(|| panic!("{ex}"));
    assert_eq!(implausible["table"], "cohort");
    assert_eq!(implausible["rows"], 4);
    assert_eq!(implausible["first_rows"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(v["input"]["rows_used"]["cohort"], 2);
    // The range is an option.
    let v = command_json(
        &f,
        "validate",
        &["--extract-date", "2023-01-01", "--ages", "5-110"],
    );
    assert_eq!(v["input"]["rows_used"]["cohort"], 3);
}

#[test]
fn an_extreme_covariate_is_named_with_its_value_and_row() {
    let mut cohort = String::from("person_id,cohort,index_date,income\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    for i in 0..200 {
        let label = if i % 3 == 0 { "divert" } else { "comparison" };
        let income = if i == 17 {
            "1e30".to_string()
        } else {
            (20000 + i * 37).to_string()
        };
        cohort.push_str(&format!(
            "P{i},{label},2021-01-{:02},{income}\n",
            1 + i % 28
        ));
        if i % 4 == 0 {
            offences.push_str(&format!("P{i},2021-06-01,2021-08-01\n"));
        }
    }
    let f = files(&cohort, &offences);
    let (code, _, err) = run(&[
        "match",
        "--covariates",
        "income",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &path(&f.cohort),
        "--offences",
        &path(&f.offences),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`income`")
            && err.contains("1000000000000000000000000000000")
            && err.contains("row 18"),
        "{err}"
    );
}

#[test]
fn non_utf8_text_names_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("cohort.csv");
    let o = dir.path().join("offences.csv");
    let mut bytes = b"person_id,cohort,index_date\nA,divert,2021-01-01\nB,div".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"ert,2021-01-02\n");
    std::fs::write(&c, bytes).unwrap();
    std::fs::write(&o, "person_id,offence_date,disposal_date\n").unwrap();
    let (code, _, err) = run(&["rates", "--cohort", &path(&c), "--offences", &path(&o)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cohort.csv")
            && err.contains("row 2")
            && err.contains("`cohort`")
            && err.contains("UTF-8"),
        "{err}"
    );
    // Through the library, the file, column and row are fields of the error, not only text.
    let e = reoffending::Dataset::load(&c, &o, &Default::default()).unwrap_err();
    assert_eq!(
        e.location(),
        Some((c.as_path(), Some("cohort"), Some(2))),
        "{e}"
    );
    let e = reoffending::Dataset::load(&o, &c, &Default::default()).unwrap_err();
    assert_eq!(
        e.location()
            .map(|(p, col, row)| (p.to_path_buf(), col.map(str::to_string), row)),
        Some((o.clone(), Some("cohort".to_string()), None)),
        "{e}"
    );
}

#[test]
fn an_input_column_named_like_a_derived_one_is_an_error() {
    let f = files(
        "person_id,cohort,index_date,age_band\nA,divert,2021-01-01,18-20\n",
        "person_id,offence_date,disposal_date\n",
    );
    let err = rates_fails(&f);
    assert!(
        err.contains("`age_band`") && err.contains("rename"),
        "{err}"
    );
}

#[test]
fn options_that_make_no_sense_are_usage_errors_naming_the_option() {
    let f = files(
        "person_id,cohort,index_date,sex\nA,divert,2021-01-01,F\nB,comparison,2021-01-01,M\n",
        "person_id,offence_date,disposal_date\n",
    );
    let (c, o) = (path(&f.cohort), path(&f.offences));
    let data = ["--cohort", c.as_str(), "--offences", o.as_str()];
    for (args, option) in [
        (vec!["survival", "--times", "NaN"], "--times"),
        (vec!["survival", "--times", "91,-1"], "--times"),
        (vec!["survival", "--times", "inf"], "--times"),
        (
            vec!["match", "--covariates", "sex", "--caliper=-1"],
            "--caliper",
        ),
        (
            vec!["match", "--covariates", "sex", "--caliper", "NaN"],
            "--caliper",
        ),
        (vec!["rates", "--baseline-rate", "1.5"], "--baseline-rate"),
        (vec!["compare", "--baseline-rate", "0"], "--baseline-rate"),
        (vec!["compare", "--confidence", "95"], "--confidence"),
        (
            vec!["compare", "--treatment", "divert", "--control", "divert"],
            "--control",
        ),
        (
            vec![
                "match",
                "--covariates",
                "sex",
                "--treatment",
                "divert",
                "--control",
                "divert",
            ],
            "--control",
        ),
        (vec!["rates", "--years", "2100-1900"], "--years"),
    ] {
        let mut all = args.clone();
        all.extend_from_slice(&data);
        let (code, _, err) = run(&all);
        assert_eq!(code, 2, "{all:?}: {err}");
        assert!(err.contains(option), "{all:?}: {err}");
    }
    // From the evaluation file, the error names the TOML key.
    for (toml, key) in [
        (
            "[match]\ncovariates = [\"sex\"]\ncaliper = -0.5\n",
            "[match] caliper",
        ),
        (
            "[compare]\nbaseline_rate = 1.2\n",
            "[compare] baseline_rate",
        ),
        (
            "[compare]\ntreatment = \"divert\"\ncontrol = \"divert\"\n",
            "[compare] control",
        ),
        ("[survival]\ntimes = [91, -3]\n", "[survival] times"),
        ("[data]\ntimezone = \"Atlantis\"\n", "[data] timezone"),
    ] {
        let cfg = f.dir.path().join("bad.toml");
        std::fs::write(&cfg, toml).unwrap();
        let mut all = vec!["rates", "--config", cfg.to_str().unwrap()];
        all.extend_from_slice(&data);
        let (code, _, err) = run(&all);
        assert_eq!(code, 2, "{toml}: {err}");
        assert!(err.contains(key), "{toml}: {err}");
    }
}
