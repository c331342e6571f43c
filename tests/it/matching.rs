//! Propensity model against statsmodels `Logit`, balance against hand computation,
//! determinism under shuffled input, and the error cases.

use crate::common;

use common::*;
use reoffending::stats::logistic;
use serde_json::Value;

fn reference() -> Value {
    crate::common::reference_json("matching.json")
}

fn col(r: &Value, k: &str) -> Vec<f64> {
    crate::common::cases(r, k)
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn logistic_matches_statsmodels() {
    let r = reference();
    let y: Vec<bool> = col(&r, "y").iter().map(|v| *v == 1.0).collect();
    let x = vec![
        col(&r, "age"),
        col(&r, "prior"),
        col(&r, "male"),
        col(&r, "e1"),
        col(&r, "e2"),
    ];
    let names: Vec<String> = ["age", "prior", "male", "e1", "e2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let fit = logistic(&y, &x, &names).unwrap();
    for (j, t) in fit.coefficients.iter().enumerate() {
        let (c, s) = (r["coef"][j].as_f64().unwrap(), r["se"][j].as_f64().unwrap());
        assert!(
            (t.coef - c).abs() <= 1e-6 * c.abs().max(1e-3),
            "{} coef {} vs {c}",
            t.name,
            t.coef
        );
        assert!(
            (t.se - s).abs() <= 1e-6 * s,
            "{} se {} vs {s}",
            t.name,
            t.se
        );
    }
    let ll = r["log_likelihood"].as_f64().unwrap();
    assert!((fit.log_likelihood - ll).abs() < 1e-9 * ll.abs());
}

#[test]
fn logistic_errors_are_clear() {
    let y = vec![true, false, true, false, true, false];
    let e = logistic(&y, &[vec![1.0; 6]], &["k".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("same for everyone"), "{e}");
    let a = vec![1.0, 2.0, 3.0, 1.0, 5.0, 2.0];
    let b: Vec<f64> = a.iter().map(|v| v * 3.0).collect();
    let e = logistic(&y, &[a, b], &["a".into(), "b".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("collinear"), "{e}");
    let sep = vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let e = logistic(&y, &[sep], &["sep".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("separation"), "{e}");
}

fn match_json(cohort: &str, offences: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--extract-date", "2023-01-01"];
    args.extend_from_slice(extra);
    command_json(&files(cohort, offences), "match", &args)
}

/// 8 pilot and 12 comparison people with ages; the pilot's first four reoffend.
fn small() -> (Vec<String>, String) {
    let mut rows = Vec::new();
    let ages_t = [20, 22, 25, 30, 31, 35, 40, 45];
    let ages_c = [19, 21, 23, 26, 29, 33, 36, 41, 50, 55, 60, 24];
    for (i, a) in ages_t.iter().enumerate() {
        rows.push(format!(
            "T{i},divert,2021-01-01,{},{a}",
            if i % 2 == 0 { "F" } else { "M" }
        ));
    }
    for (i, a) in ages_c.iter().enumerate() {
        rows.push(format!(
            "C{i},comparison,2021-01-01,{},{a}",
            if i % 3 == 0 { "F" } else { "M" }
        ));
    }
    let mut off = String::from("person_id,offence_date,disposal_date\n");
    for i in 0..4 {
        off.push_str(&format!("T{i},2021-03-01,2021-04-01\n"));
    }
    for i in 0..6 {
        off.push_str(&format!("C{i},2021-03-01,2021-04-01\n"));
    }
    (rows, off)
}

#[test]
fn balance_matches_hand_computation() {
    let (rows, off) = small();
    let cohort = format!(
        "person_id,cohort,index_date,sex,age_at_index\n{}\n",
        rows.join("\n")
    );
    let v = match_json(
        &cohort,
        &off,
        &["--covariates", "age_at_index", "--caliper", "0"],
    );
    let b = &v["balance"][0];
    assert_eq!(b["covariate"], "age_at_index");
    let t = [20.0, 22.0, 25.0, 30.0, 31.0, 35.0, 40.0, 45.0];
    let c = [
        19.0, 21.0, 23.0, 26.0, 29.0, 33.0, 36.0, 41.0, 50.0, 55.0, 60.0, 24.0,
    ];
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    let sd = ((var(&t) + var(&c)) / 2.0).sqrt();
    assert!((b["mean_treated_before"].as_f64().unwrap() - mean(&t)).abs() < 1e-12);
    assert!((b["mean_control_before"].as_f64().unwrap() - mean(&c)).abs() < 1e-12);
    assert!((b["smd_before"].as_f64().unwrap() - (mean(&t) - mean(&c)) / sd).abs() < 1e-12);
    // After: the matched controls' mean, same denominator.
    let after_c = b["mean_control_after"].as_f64().unwrap();
    assert!((b["smd_after"].as_f64().unwrap() - (mean(&t) - after_c) / sd).abs() < 1e-12);
    let s = &v["sample"];
    assert_eq!(s["treated"], 8);
    assert_eq!(s["matched_treated"], 8);
    assert_eq!(s["matched_controls"], 8);
    assert_eq!(s["unmatched_treated"], 0);
    for k in ["propensity_model", "balance", "sample", "comparison"] {
        assert!(v.get(k).is_some());
    }
    assert!(v["propensity_model"]["coefficients"][0].get("se").is_some());
    assert!(v["warnings"].to_string().contains("at least 60"));
}

#[test]
fn matching_does_not_depend_on_row_order() {
    let (rows, off) = small();
    let header = "person_id,cohort,index_date,sex,age_at_index\n";
    let a = match_json(
        &format!("{header}{}\n", rows.join("\n")),
        &off,
        &[
            "--covariates",
            "age_at_index,sex",
            "--ratio",
            "2",
            "--replace",
        ],
    );
    let mut rev = rows.clone();
    rev.reverse();
    rev.swap(1, 7);
    let b = match_json(
        &format!("{header}{}\n", rev.join("\n")),
        &off,
        &[
            "--covariates",
            "age_at_index,sex",
            "--ratio",
            "2",
            "--replace",
        ],
    );
    assert_eq!(a["balance"], b["balance"]);
    assert_eq!(a["sample"], b["sample"]);
    assert_eq!(
        a["comparison"]["control_rate"],
        b["comparison"]["control_rate"]
    );
}

#[test]
fn exact_matching_keeps_pairs_within_levels() {
    let (rows, off) = small();
    let cohort = format!(
        "person_id,cohort,index_date,sex,age_at_index\n{}\n",
        rows.join("\n")
    );
    let v = match_json(
        &cohort,
        &off,
        &[
            "--covariates",
            "age_at_index,sex",
            "--exact",
            "sex",
            "--caliper",
            "0",
        ],
    );
    let sex = v["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["covariate"] == "sex=M")
        .unwrap();
    assert!(
        (sex["mean_treated_after"].as_f64().unwrap() - sex["mean_control_after"].as_f64().unwrap())
            .abs()
            < 1e-12
    );
}
