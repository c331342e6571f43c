//! `survival` and `monitor`: docs/output.md §2 fields, and agreement with the 12-month measure.

use crate::common;

use assert_cmd::Command;
use common::*;

fn sample() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    Command::cargo_bin("reoffending")
        .unwrap()
        .args(["generate", "--persons", "2000", "--seed", "3", "--out", &d])
        .assert()
        .success();
    (dir, format!("{d}/cohort.csv"), format!("{d}/offences.csv"))
}

#[test]
fn survival_json_has_contract_fields() {
    let (_d, c, o) = sample();
    let v = run_json(&[
        "survival",
        "--format",
        "json",
        "--cohort",
        &c,
        "--offences",
        &o,
        "--covariates",
        "sex,age_at_index",
    ]);
    let g = &v["groups"][0];
    for k in [
        "cohort",
        "n",
        "events",
        "median",
        "rmst",
        "survival_at",
        "table",
    ] {
        assert!(g.get(k).is_some(), "missing {k}");
    }
    for k in [
        "time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high",
    ] {
        assert!(g["table"][0].get(k).is_some(), "table missing {k}");
    }
    assert_eq!(g["survival_at"].as_array().unwrap().len(), 4);
    for k in ["statistic", "df", "p_value"] {
        assert!(v["logrank"].get(k).is_some());
    }
    let cox = &v["cox"];
    assert_eq!(cox["ties"], "efron");
    let names: Vec<&str> = cox["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cohort=divert", "sex=M", "age_at_index"]);
    for k in [
        "name",
        "coef",
        "se",
        "hazard_ratio",
        "ci_low",
        "ci_high",
        "p_value",
    ] {
        assert!(cox["coefficients"][0].get(k).is_some());
    }
}

#[test]
fn kaplan_meier_on_full_follow_up_equals_the_12_month_rate() {
    let (_d, c, o) = sample();
    let rates = run_json(&[
        "rates",
        "--format",
        "json",
        "--cohort",
        &c,
        "--offences",
        &o,
        "--by",
        "index_quarter",
    ]);
    let monitor = run_json(&[
        "monitor",
        "--format",
        "json",
        "--cohort",
        &c,
        "--offences",
        &o,
    ]);
    let mut checked = 0;
    for m in monitor["groups"].as_array().unwrap() {
        if m["people"] == m["full_follow_up"] {
            // Everyone eligible: the KM estimate is exactly the observed 12-month rate.
            let est = m["estimate_12m"].as_f64().unwrap();
            let obs = m["observed_rate"].as_f64().unwrap();
            assert!((est - obs).abs() < 1e-12, "{m}");
            let r = rates["groups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["cohort"] == m["cohort"] && g["index_quarter"] == m["period"])
                .unwrap();
            assert!((r["rate"].as_f64().unwrap() - obs).abs() < 1e-12);
            checked += 1;
        } else {
            assert!(m["observed_rate"].is_null());
        }
    }
    assert!(checked >= 4);
}
