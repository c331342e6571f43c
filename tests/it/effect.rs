//! `effect`: every adjusted design on the match's propensity model (CONTRACT §3 `effect`),
//! its order sensitivity, the report's section and its disclosure control.

use std::collections::HashMap;

use reoffending::Analysis;
use reoffending::design::Design;
use reoffending::effect::{EffectOptions, Effects};
use reoffending::matching::{MatchOptions, MatchedComparison};
use reoffending::stats::designs::{
    DesignInputs, DesignOptions, MatchedRows, Terms, adjusted_designs,
};
use reoffending::{Evaluation, Inputs, Rules};
use serde_json::{Value, json};

use crate::common::run_json;

fn sample() -> Evaluation {
    let root = crate::common::sample_dir();
    let inputs = Inputs::new(root.join("cohort.csv"), root.join("offences.csv"));
    Evaluation::load(&inputs, Rules::default()).unwrap()
}

fn options(runs: usize, seed: u64) -> EffectOptions {
    EffectOptions {
        matching: MatchOptions {
            covariates: vec![
                "sex".into(),
                "age_at_index".into(),
                "prior_offences".into(),
                "ethnicity".into(),
            ],
            ..Default::default()
        },
        order_runs: runs,
        seed,
    }
}

#[test]
fn effect_json_has_every_contract_key() {
    let root = crate::common::sample_dir();
    let config = root.join("evaluation.toml");
    let v = run_json(&[
        "effect",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "--order-runs",
        "20",
        "--seed",
        "7",
    ]);
    for k in [
        "designs",
        "frequency_designs",
        "order_sensitivity",
        "overlap_diagnostics",
        "summary",
        "parameters",
        "input",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    let names: Vec<&str> = v["designs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["design"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "matched",
            "matched_regression",
            "ipw",
            "overlap",
            "entropy_balancing",
            "doubly_robust"
        ]
    );
    for rows in ["designs", "frequency_designs"] {
        for d in v[rows].as_array().unwrap() {
            for k in [
                "design",
                "estimand",
                "estimate",
                "se",
                "ci_low",
                "ci_high",
                "p_value",
                "ess_treated",
                "ess_control",
                "max_abs_smd",
            ] {
                assert!(d.get(k).is_some(), "{rows}: {k}");
            }
        }
    }
    assert_eq!(v["designs"][3]["estimand"], "ATO");
    let o = &v["order_sensitivity"];
    for k in [
        "runs",
        "seed",
        "estimate_min",
        "estimate_max",
        "max_abs_smd_max",
    ] {
        assert!(o.get(k).is_some(), "order_sensitivity.{k}");
    }
    assert_eq!(o["runs"], 20);
    assert_eq!(o["seed"], 7);
    assert!(o["estimate_min"].as_f64().unwrap() <= o["estimate_max"].as_f64().unwrap());
    let od = &v["overlap_diagnostics"];
    assert!(od["treated_outside_control_range"].is_number());
    let bins = od["bins"].as_array().unwrap();
    let in_bins: u64 = bins.iter().map(|b| b["treated"].as_u64().unwrap()).sum();
    assert_eq!(in_bins, v["sample"]["treated"].as_u64().unwrap());
    assert_eq!(v["parameters"]["order_runs"], 20);
    assert!(v["summary"].as_str().unwrap().starts_with("The designs"));
    // The same matching options as `match`, resolved the same way.
    let m = run_json(&[
        "match",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    for k in [
        "treatment",
        "control",
        "covariates",
        "caliper",
        "ratio",
        "replace",
    ] {
        assert_eq!(v["parameters"][k], m["parameters"][k], "{k}");
    }
    // The headline is match's estimate and interval (regression and weighted means: equal
    // but for rounding).
    let same = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-12;
    assert!(same(
        &v["headline"]["estimate"],
        &m["comparison"]["risk_difference"]
    ));
    assert!(same(
        &v["headline"]["ci_low"],
        &m["comparison"]["rd_ci_low"]
    ));
    assert!(same(
        &v["headline"]["ci_high"],
        &m["comparison"]["rd_ci_high"]
    ));
    assert_eq!(m["comparison"]["rd_ci_method"], "cluster_robust_cr1");
}

#[test]
fn design_rows_equal_the_designs_module_called_directly() {
    let eval = sample();
    let opts = options(0, 1);
    let e = Effects::compute(&eval, &opts).unwrap();
    // The matched comparison gives the matched sets and the propensity model; the design
    // is rebuilt here in the data's own row order.
    let m = MatchedComparison::compute(&eval, &opts.matching).unwrap();
    let people = &eval.data.people;
    let (tc, cc) = (
        people.cohort.code_of("divert").unwrap(),
        people.cohort.code_of("comparison").unwrap(),
    );
    let candidates: Vec<usize> = (0..people.len())
        .filter(|&i| {
            eval.outcomes.eligible[i]
                && (people.cohort.codes[i] == tc || people.cohort.codes[i] == cc)
        })
        .collect();
    let design = Design::build(
        people,
        &opts.matching.covariates,
        &[],
        &candidates,
        reoffending::design::MAX_LEVELS,
    )
    .unwrap();
    let row_of: HashMap<usize, usize> = design
        .rows
        .iter()
        .enumerate()
        .map(|(k, &i)| (i, k))
        .collect();
    let treated: Vec<bool> = design
        .rows
        .iter()
        .map(|&i| people.cohort.codes[i] == tc)
        .collect();
    let reoffended: Vec<bool> = design
        .rows
        .iter()
        .map(|&i| eval.outcomes.reoffences[i] > 0)
        .collect();
    let counts: Vec<f64> = design
        .rows
        .iter()
        .map(|&i| f64::from(eval.outcomes.reoffences[i]))
        .collect();
    let fit = &m.propensity_model.fit;
    let e_x: Vec<f64> = (0..design.rows.len())
        .map(|k| 1.0 / (1.0 + (-fit.linear_predictor(&design.columns, k)).exp()))
        .collect();
    let person: Vec<usize> = m.sets.iter().map(|x| row_of[&x.person]).collect();
    let weight: Vec<f64> = m.sets.iter().map(|x| x.weight).collect();
    let subclass: Vec<u64> = m.sets.iter().map(|x| u64::from(x.subclass)).collect();
    let direct = adjusted_designs(
        &DesignInputs {
            names: &design.names,
            terms: Terms::Columns(&design.columns),
            treated: &treated,
            reoffended: &reoffended,
            reoffences: Some(&counts),
            propensity: &e_x,
            matched: Some(MatchedRows {
                person: &person,
                weight: &weight,
                subclass: &subclass,
            }),
        },
        &DesignOptions::default(),
    )
    .unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    for (mine, theirs) in [
        (&e.designs, &direct.designs),
        (&e.frequency_designs, &direct.frequency_designs),
    ] {
        assert_eq!(mine.len(), 6);
        assert_eq!(mine.len(), theirs.len());
        for (a, b) in mine.iter().zip(theirs.iter()) {
            assert_eq!(a.design, b.design);
            assert_eq!(a.estimand, b.estimand);
            for (x, y, what) in [
                (a.estimate, b.estimate, "estimate"),
                (a.se, b.se, "se"),
                (a.ci_low, b.ci_low, "ci_low"),
                (a.ci_high, b.ci_high, "ci_high"),
                (a.p_value, b.p_value, "p_value"),
                (a.ess_treated, b.ess_treated, "ess_treated"),
                (a.ess_control, b.ess_control, "ess_control"),
                (
                    a.max_abs_smd.unwrap(),
                    b.max_abs_smd.unwrap(),
                    "max_abs_smd",
                ),
            ] {
                assert!(close(x, y), "{} {what}: {x} vs {y}", a.design);
            }
        }
    }
}

#[test]
fn order_sensitivity_is_fixed_by_its_seed_whatever_the_threads() {
    // The classic generated sample (a pilot against five neighbouring forces): its
    // matching depends on the order, so other seeds give other estimates.
    let dir = tempfile::tempdir().unwrap();
    let (cohort, offences) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    reoffending::synth::generate(
        &reoffending::synth::GenerateOptions::new(3000, 2026),
        &cohort,
        &offences,
    )
    .unwrap();
    let eval = Evaluation::load(&Inputs::new(cohort, offences), Rules::default()).unwrap();
    let a = Effects::compute(&eval, &options(20, 11)).unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = one_thread.install(|| Effects::compute(&eval, &options(20, 11)).unwrap());
    assert_eq!(a.order_sensitivity, b.order_sensitivity);
    assert_eq!(a.designs, b.designs);
    let o = &a.order_sensitivity;
    assert_eq!(o.estimates.len(), 20);
    let (lo, hi) = (o.estimate_min.unwrap(), o.estimate_max.unwrap());
    assert!(o.estimates.iter().all(|x| (lo..=hi).contains(x)));
    // The default order is the matched design's own matching.
    assert!((o.estimate_default_order - a.designs[0].estimate).abs() < 1e-12);
    // Another seed draws other orders.
    let c = Effects::compute(&eval, &options(20, 12)).unwrap();
    assert_ne!(c.order_sensitivity.estimates, o.estimates);
    // No runs: nothing to report.
    let d = Effects::compute(&eval, &options(0, 11)).unwrap();
    assert_eq!(d.order_sensitivity.estimate_min, None);
}

#[test]
fn report_has_the_designs_table_chart_and_sentence() {
    let root = crate::common::sample_dir();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let (code, _, err) = crate::common::run(&[
        "report",
        root.join("evaluation.toml").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for f in [
        "charts/designs.svg",
        "charts/designs.png",
        "tables/designs.csv",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let csv = std::fs::read_to_string(dir.join("tables/designs.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 7,
        "header, headline and six designs"
    );
    assert!(csv.contains("headline: matched, clustered by set"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let section = md
        .split("## Every design: does the effect hang on one matching?")
        .nth(1)
        .unwrap();
    assert!(section.contains("> The designs "), "the sentence");
    assert!(section.contains("percentage points (a spread of"));
    let j: Value = crate::common::report_json(&dir);
    assert!(j["effect"]["designs"].is_array());
    assert!(
        j["effect"].get("balance").is_none(),
        "balance is not published"
    );
    // Every published bin holds none or at least min_cell people of each group.
    for b in j["effect"]["overlap_diagnostics"]["bins"]
        .as_array()
        .unwrap()
    {
        for g in ["treated", "controls"] {
            let n = b[g].as_u64().unwrap();
            assert!(n == 0 || n >= 10, "{b}");
        }
    }
    let svg = std::fs::read_to_string(dir.join("charts/designs.svg")).unwrap();
    assert!(svg.contains("<title>Every design puts"));
}

#[test]
fn effect_is_withheld_on_small_counts_and_small_ess_suppressed() {
    let row = |ess_c: f64| {
        json!({"design": "ipw", "estimand": "ATT", "estimate": -0.05, "se": 0.02, "ci_low": -0.09,
               "ci_high": -0.01, "p_value": 0.01, "ess_treated": 300.0, "ess_control": ess_c,
               "max_abs_smd": 0.01})
    };
    let effect = |treated_reoffenders: u64| {
        json!({
            "designs": [row(4.0), row(250.0)],
            "frequency_designs": [row(250.0)],
            "headline": {"estimate": -0.05, "ci_low": -0.1, "ci_high": 0.0},
            "order_sensitivity": {"runs": 20, "seed": 1, "estimate_min": -0.06, "estimate_max": -0.04,
                                  "max_abs_smd_max": 0.05},
            "overlap_diagnostics": {"treated_outside_control_range": 0.01, "treated_outside": 3,
                "bins": [
                    {"low": 0.0, "high": 0.05, "treated": 2, "controls": 40},
                    {"low": 0.05, "high": 0.1, "treated": 30, "controls": 400},
                    {"low": 0.1, "high": 0.15, "treated": 0, "controls": 0},
                    {"low": 0.15, "high": 0.2, "treated": 5, "controls": 12}],
                "low_ess": []},
            "summary": "The designs agree.",
            "balance": [],
            "sample": {"treated": 300, "controls": 3000, "treated_reoffenders": treated_reoffenders,
                       "control_reoffenders": 900, "matched_treated": 300, "matched_controls": 300,
                       "matched_treated_reoffenders": 60, "matched_control_reoffenders": 80}
        })
    };
    use reoffending::report::disclosure::{SUPPRESSED, effect as gate};
    let mut ok = effect(60);
    gate(&mut ok, 10.0, false);
    assert_eq!(
        ok["designs"][0]["ess_control"], SUPPRESSED,
        "ESS below min_cell"
    );
    assert_eq!(ok["designs"][1]["ess_control"], 250.0);
    assert_eq!(ok["designs"][0]["estimate"], -0.05);
    assert_eq!(ok["overlap_diagnostics"]["treated_outside"], SUPPRESSED);
    assert_eq!(
        ok["overlap_diagnostics"]["treated_outside_control_range"],
        SUPPRESSED
    );
    assert!(ok.get("balance").is_none());
    let bins = ok["overlap_diagnostics"]["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 1, "{bins:?}");
    assert_eq!(bins[0]["treated"], 37);
    let mut small = effect(6);
    gate(&mut small, 10.0, false);
    for rows in ["designs", "frequency_designs"] {
        for r in small[rows].as_array().unwrap() {
            assert_eq!(r["estimate"], SUPPRESSED);
            assert_eq!(r["ci_low"], SUPPRESSED);
        }
    }
    assert_eq!(small["headline"], SUPPRESSED);
    assert_eq!(small["order_sensitivity"]["estimate_min"], SUPPRESSED);
    assert_eq!(small["sample"]["treated_reoffenders"], SUPPRESSED);
    assert!(
        small["summary"]
            .as_str()
            .unwrap()
            .starts_with("Not published")
    );
    // Withheld with the matched comparison.
    let mut with_match = effect(60);
    gate(&mut with_match, 10.0, true);
    assert_eq!(with_match["designs"][1]["estimate"], SUPPRESSED);
}
