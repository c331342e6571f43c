//! The matched comparison against an independent computation: tests/reference/matched.py
//! replicates the matching from its specification (statsmodels Logit, caliper, greedy
//! nearest neighbour) on tests/fixtures/matched_*.csv and scores the matched sets with
//! statsmodels and scipy (matched.json).

use std::collections::BTreeMap;

use reoffending::Analysis;
use reoffending::matching::{MatchOptions, MatchedComparison};
use reoffending::{Evaluation, Inputs, Rules};
use serde_json::Value;

use crate::common::{Tolerance, assert_close};

fn path(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn reference() -> Value {
    crate::common::reference_json("matched.json")
}

// Relative to the larger figure, which is floored at 1 (so the absolute floor equals the
// relative tolerance).
/// Sums, means, weights and rates computed exactly on both sides.
const EXACT: Tolerance = Tolerance::new(1e-12, 1e-12);
/// Tests and intervals (distribution functions).
const TESTS: Tolerance = Tolerance::new(1e-9, 1e-9);
/// The propensity model (an iterative fit) and its caliper.
const MODEL: Tolerance = Tolerance::new(1e-6, 1e-6);

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn matched_comparisons_agree_with_an_independent_replication() {
    let r = reference();
    let inputs = Inputs {
        cohort: path("tests/fixtures/matched_cohort.csv"),
        offences: path("tests/fixtures/matched_offences.csv"),
        load: reoffending::LoadOptions {
            extract_date: reoffending::parse_iso("2023-06-30"),
            ..Default::default()
        },
    };
    let eval = Evaluation::load(&inputs, Rules::default()).unwrap();
    // Person identifiers by cohort row: the matched sets come back as people.
    let ids: Vec<String> = std::fs::read_to_string(&inputs.cohort)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let designs = r["designs"].as_array().unwrap();
    assert_eq!(designs.len(), 3);
    for d in designs {
        let name = d["name"].as_str().unwrap();
        let options = MatchOptions {
            covariates: vec!["age_at_index".into(), "score".into()],
            ratio: d["ratio"].as_u64().unwrap() as usize,
            replace: d["replace"].as_bool().unwrap(),
            ..Default::default()
        };
        let m = MatchedComparison::compute(&eval, &options).unwrap();
        // The propensity model and caliper.
        let coef = r["coef"].as_array().unwrap();
        assert_eq!(m.propensity_model.fit.coefficients.len(), coef.len());
        for (t, w) in m.propensity_model.fit.coefficients.iter().zip(coef) {
            assert_close(t.coef, f(w), MODEL, &format!("{name} {}", t.name));
        }
        assert_close(
            m.caliper_logit.unwrap(),
            f(&r["caliper_logit"]),
            MODEL,
            &format!("{name} caliper"),
        );
        // The matched sets, person by person.
        let id = |p: usize| ids[eval.data.people.source_row[p] as usize - 1].clone();
        let mut treated: Vec<String> = m
            .matched
            .iter()
            .filter(|p| p.treated)
            .map(|p| id(p.person))
            .collect();
        treated.sort();
        let mut want_t: Vec<String> = d["treated_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        want_t.sort();
        assert_eq!(treated, want_t, "{name}: matched pilot people");
        let controls: BTreeMap<String, f64> = m
            .matched
            .iter()
            .filter(|p| !p.treated)
            .map(|p| (id(p.person), p.weight))
            .collect();
        let want_c = d["control_weights"].as_object().unwrap();
        assert_eq!(controls.len(), want_c.len(), "{name}: matched controls");
        for (k, w) in want_c {
            assert_close(controls[k], f(w), EXACT, &format!("{name}: weight of {k}"));
        }
        let s = &m.sample;
        assert_eq!(
            s.matched_treated,
            d["matched_treated"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            s.matched_controls,
            d["matched_controls"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            s.unmatched_treated,
            d["unmatched_treated"].as_u64().unwrap(),
            "{name}"
        );
        assert_close(
            s.effective_controls,
            f(&d["effective_controls"]),
            EXACT,
            name,
        );
        // Balance after matching, with weights and the pre-matching denominator.
        let bal = d["balance"].as_array().unwrap();
        assert_eq!(m.balance.len(), bal.len());
        for (b, w) in m.balance.iter().zip(bal) {
            assert_eq!(b.covariate, w["covariate"].as_str().unwrap());
            assert_close(
                b.mean_treated_after,
                f(&w["mean_treated_after"]),
                EXACT,
                name,
            );
            assert_close(
                b.mean_control_after,
                f(&w["mean_control_after"]),
                EXACT,
                name,
            );
            assert_close(b.smd_before.unwrap(), f(&w["smd_before"]), EXACT, name);
            assert_close(
                b.smd_after.unwrap(),
                f(&w["smd_after"]),
                EXACT,
                &format!("{name} {}", b.covariate),
            );
        }
        // Rates.
        let c = &m.comparison;
        assert_close(
            c.treatment_rate.estimate,
            f(&d["treatment_rate"]),
            EXACT,
            name,
        );
        let freq = c.frequency.as_ref().unwrap();
        assert_close(
            freq.treatment_mean,
            f(&d["treatment_per_person"]),
            EXACT,
            name,
        );
        assert_close(
            freq.control_mean,
            f(&d["control_per_person_weighted"]),
            EXACT,
            name,
        );
        let exact = f(&d["control_rate_weighted"]);
        if name == "one_to_one" {
            // Every weight is 1: the 2x2 table is the matched sample itself.
            assert_close(
                c.control_rate,
                exact,
                EXACT,
                &format!("{name} control rate"),
            );
            assert_eq!(c.treatment_reoffenders, d["x1"].as_u64().unwrap());
            assert_eq!(c.control_reoffenders, d["x2"].as_u64());
            assert_close(
                c.risk_difference.estimate,
                f(&d["risk_difference"]),
                EXACT,
                &format!("{name} risk difference"),
            );
            // The 2x2 table's tests stay beside the headline (Newcombe's interval is the
            // reference's `rd_ci`, no longer the headline's: see below).
            let t = |k: &str| c.tests[k];
            assert_close(
                t("z_pooled").statistic.unwrap(),
                f(&d["z_pooled"][0]),
                TESTS,
                &format!("{name} pooled z"),
            );
            assert_close(
                t("z_pooled").p_value.unwrap(),
                f(&d["z_pooled"][1]),
                TESTS,
                &format!("{name} pooled z p"),
            );
            assert_close(
                t("chi_square").statistic.unwrap(),
                f(&d["chi_square"][0]),
                TESTS,
                &format!("{name} chi-square"),
            );
            assert_close(
                t("fisher_exact").p_value.unwrap(),
                f(&d["fisher_p"]),
                TESTS,
                &format!("{name} Fisher p"),
            );
            let rb = &m.rosenbaum.as_ref().unwrap().bounds;
            assert_eq!(rb.treated_only, d["treated_only"].as_u64().unwrap());
            assert_eq!(rb.control_only, d["control_only"].as_u64().unwrap());
        } else {
            // Weighted: exact weighted rates, and the difference in weighted means with a
            // robust standard error (statsmodels WLS, HC0), for the rate and per person.
            assert_close(
                c.control_rate,
                exact,
                EXACT,
                &format!("{name} control rate"),
            );
            assert_close(
                c.risk_difference.estimate,
                f(&d["rate_difference"]),
                EXACT,
                name,
            );
            // The robust test of the weighted means (HC0) stays beside the headline.
            assert_close(
                c.tests["z_robust"].p_value.unwrap(),
                f(&d["rate_p"]),
                TESTS,
                name,
            );
            assert!(
                !c.tests.contains_key("fisher_exact"),
                "count-based tests do not apply"
            );
            assert_close(freq.difference, f(&d["per_person_difference"]), EXACT, name);
            assert_close(freq.ci_low, f(&d["per_person_ci"][0]), TESTS, name);
            assert_close(freq.ci_high, f(&d["per_person_ci"][1]), TESTS, name);
            assert_close(freq.p_value, f(&d["per_person_p"]), TESTS, name);
            // Counts are people: distinct matched controls, and those who reoffended.
            assert_eq!(c.control_n, Some(s.matched_controls));
        }
        // The headline interval and test account for the pairing: the difference of weighted
        // means with its standard error clustered by matched set (CR1), as statsmodels'
        // WLS(y, [1, treated], weights).fit(cov_type='cluster') on the match.data() rows.
        assert_eq!(
            c.rd_ci_method,
            reoffending::compare::DifferenceInterval::ClusterRobust,
            "{name}"
        );
        assert!(
            (c.risk_difference.estimate - f(&d["cluster_difference"])).abs() < 1e-12,
            "{name}"
        );
        assert_close(
            c.risk_difference.limits().0,
            f(&d["cluster_ci"][0]),
            TESTS,
            &format!("{name} cluster ci low"),
        );
        assert_close(
            c.risk_difference.limits().1,
            f(&d["cluster_ci"][1]),
            TESTS,
            name,
        );
        assert_close(
            c.tests["z_cluster"].p_value.unwrap(),
            f(&d["cluster_p"]),
            TESTS,
            name,
        );
        assert_eq!(c.significant, f(&d["cluster_p"]) < 0.05, "{name}");
    }
}
