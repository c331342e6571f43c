//! `compare` and `power` from the command line: docs/output.md §2 fields and honest verdicts.

use crate::common;

use assert_cmd::Command;
use common::*;
use serde_json::Value;

/// `n` people per cohort; `r_t` and `r_c` of them reoffend once (day 30).
fn cohorts(n_t: usize, r_t: usize, n_c: usize, r_c: usize) -> Files {
    let mut c = String::from("person_id,cohort,index_date,sex\n");
    let mut o = String::from("person_id,offence_date,disposal_date\n");
    for (label, n, r) in [("divert", n_t, r_t), ("comparison", n_c, r_c)] {
        for i in 0..n {
            c.push_str(&format!(
                "{label}{i},{label},2021-01-01,{}\n",
                if i % 2 == 0 { "F" } else { "M" }
            ));
            if i < r {
                o.push_str(&format!("{label}{i},2021-01-31,2021-03-01\n"));
            }
        }
    }
    files(&c, &o)
}

fn compare(f: &Files, extra: &[&str]) -> Value {
    let mut args = vec!["--extract-date", "2023-01-01"];
    args.extend_from_slice(extra);
    command_json(f, "compare", &args)
}

#[test]
fn significant_difference_is_stated_with_its_interval() {
    let f = cohorts(400, 60, 400, 120);
    let v = compare(&f, &["--treatment", "divert", "--control", "comparison"]);
    for k in [
        "treatment",
        "control",
        "treatment_rate",
        "control_rate",
        "risk_difference",
        "rd_ci_low",
        "rd_ci_high",
        "rd_ci_method",
        "relative_risk",
        "rr_ci_low",
        "rr_ci_high",
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
        "tests",
        "frequency",
        "significant",
        "summary",
        "parameters",
        "input",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for t in ["z_pooled", "chi_square", "chi_square_yates", "fisher_exact"] {
        assert!(v["tests"][t]["p_value"].as_f64().unwrap() < 0.001, "{t}");
    }
    assert_eq!(v["treatment_rate"], 0.15);
    assert_eq!(v["control_rate"], 0.3);
    // The comparison group's interval is the analysis's (Wilson, as the pilot's), published
    // beside its rate; the report reads it and computes none of its own (issue 30).
    let wilson = reoffending::stats::proportion_ci(120, 400, 0.95, reoffending::CiMethod::Wilson)
        .unwrap()
        .unwrap();
    assert_eq!(v["control_ci_low"].as_f64(), Some(wilson.low));
    assert_eq!(v["control_ci_high"].as_f64(), Some(wilson.high));
    assert_eq!(v["significant"], true);
    let s = v["summary"].as_str().unwrap();
    // An unadjusted comparison is descriptive: never worded as the scheme's effect.
    assert!(
        s.starts_with("Unadjusted, descriptive comparison")
            && s.contains("lower in divert by between")
            && s.contains("not by itself an estimate of the scheme's effect")
            && !s.contains("less likely"),
        "{s}"
    );
}

#[test]
fn non_significant_difference_never_claims_no_effect() {
    let f = cohorts(40, 8, 40, 10);
    let v = compare(
        &f,
        &[
            "--treatment",
            "divert",
            "--control",
            "comparison",
            "--by",
            "sex",
        ],
    );
    assert_eq!(v["significant"], false);
    let s = v["summary"].as_str().unwrap();
    assert!(s.contains("More people would need to be analysed"), "{s}");
    assert!(
        s.contains("should not be taken to mean that the scheme has no effect"),
        "{s}"
    );
    assert!(
        v["sensitivity"]["min_detectable_difference_lower"]
            .as_f64()
            .unwrap()
            < -0.2
    );
    let caveats = v["caveats"].to_string();
    assert!(caveats.contains("at least 60"), "{caveats}");
    let subs = v["subgroups"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    for s in subs {
        assert!(s["p_adjusted"].as_f64().unwrap() >= s["p_value"].as_f64().unwrap());
    }
}

#[test]
fn benchmark_comparison_is_descriptive() {
    let f = cohorts(500, 60, 10, 1);
    let v = compare(
        &f,
        &[
            "--treatment",
            "divert",
            "--baseline-rate",
            "0.2",
            "--baseline-name",
            "Thames Valley Police",
        ],
    );
    assert_eq!(v["baseline_rate"], 0.2);
    assert!(v.get("control").is_none());
    assert!(v["tests"]["binomial_exact"]["p_value"].as_f64().unwrap() < 0.001);
    let s = v["summary"].as_str().unwrap();
    assert!(s.contains("not an estimate of the scheme's impact"), "{s}");
    assert!(
        s.contains("lower than") && s.contains("Thames Valley Police"),
        "{s}"
    );
}

#[test]
fn degenerate_groups_do_not_panic() {
    // Nobody reoffends anywhere; everyone reoffends in the pilot.
    for (rt, rc) in [(0, 0), (30, 0), (30, 30)] {
        let f = cohorts(30, rt, 30, rc);
        let v = compare(&f, &["--treatment", "divert", "--control", "comparison"]);
        assert!(v["summary"].as_str().unwrap().len() > 20);
        let p = v["tests"]["fisher_exact"]["p_value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
    let f = cohorts(30, 3, 0, 0);
    let (c, o) = (path(&f.cohort), path(&f.offences));
    let out = Command::cargo_bin("reoffending")
        .unwrap()
        .args([
            "compare",
            "--cohort",
            &c,
            "--offences",
            &o,
            "--extract-date",
            "2023-01-01",
        ])
        .args(["--treatment", "divert", "--control", "comparison"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cohort `comparison`"));
}

#[test]
fn power_matches_the_domain_figures() {
    let v = run_json(&[
        "power",
        "--baseline-rate",
        "0.2",
        "--target-rate",
        "0.15",
        "--groups",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(v["n"], 471);
    let v = run_json(&[
        "power",
        "--baseline-rate",
        "0.2",
        "--target-rate",
        "0.15",
        "--format",
        "json",
    ]);
    assert_eq!(v["n_per_group"], 906);
    assert_eq!(v["n"], 1812);
    assert!(v["method"].as_str().unwrap().contains("Fleiss"));
    let v = run_json(&[
        "power",
        "--baseline-rate",
        "0.2",
        "--n",
        "471",
        "--groups",
        "1",
        "--format",
        "json",
    ]);
    let lo = v["min_detectable_rate_lower"].as_f64().unwrap();
    assert!((lo - 0.15).abs() < 0.001, "{lo}");
}

#[test]
fn a_benchmark_is_framed_both_ways_and_a_rate_above_half_is_questioned() {
    let f = cohorts(500, 60, 10, 1);
    let args = |rate: &'static str| {
        vec![
            "--treatment",
            "divert",
            "--baseline-rate",
            rate,
            "--baseline-name",
            "Thames Valley Police",
        ]
    };
    let v = compare(&f, &args("0.2"));
    let caveats = v["caveats"].to_string();
    assert!(
        caveats.contains("a 12-month reoffending rate of 20.0%, that is 80.0% did not reoffend"),
        "{caveats}"
    );
    assert!(!caveats.contains("Check the benchmark"));
    // The pilot's rate carries one interval: the exact one its test and sentence use.
    let ci = (
        v["treatment_ci_low"].as_f64().unwrap(),
        v["rd_ci_low"].as_f64().unwrap() + 0.2,
    );
    assert!((ci.0 - ci.1).abs() < 1e-12, "{ci:?}");
    // A fixed rate has no interval.
    assert!(v.get("control_ci_low").is_none() && v.get("control_ci_high").is_none());
    // "80% did not reoffend" entered as 0.8 is questioned.
    let v = compare(&f, &args("0.8"));
    assert!(
        v["caveats"]
            .to_string()
            .contains("is a reoffending rate of 0.2, not 0.8"),
        "{}",
        v["caveats"]
    );
}
