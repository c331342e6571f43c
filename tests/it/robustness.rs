//! How robust is the finding: E-values, Rosenbaum bounds, the placebo outcome and the
//! pilot-period comparison, against independent computations.

use crate::common;

use common::{Files, files};
use reoffending::Analysis;
use reoffending::compare::{Against, CompareOptions, Comparison, Period};
use reoffending::matching::{MatchOptions, MatchedComparison};
use reoffending::stats::{e_value, rosenbaum};
use reoffending::{Evaluation, Inputs, Rules};
use serde_json::Value;

fn reference() -> Value {
    crate::common::reference_json("robustness.json")
}

#[test]
fn rosenbaum_bounds_agree_with_scipy_binomial_tail() {
    // tests/reference/robustness.py: scipy.stats.binom.sf and brentq.
    let r = reference();
    let alpha = r["alpha"].as_f64().unwrap();
    let cases = r["rosenbaum"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for c in cases {
        let (a, b) = (
            c["treated_only"].as_u64().unwrap(),
            c["control_only"].as_u64().unwrap(),
        );
        let got = rosenbaum(a, b, alpha).unwrap();
        assert_eq!((got.treated_only, got.control_only), (a, b));
        assert_eq!(got.discordant_pairs, a + b);
        let gammas = c["gammas"].as_array().unwrap();
        let ps = c["p_upper"].as_array().unwrap();
        assert_eq!(got.gammas.len(), gammas.len(), "case ({a}, {b})");
        assert_eq!(ps.len(), gammas.len());
        for ((g, want_g), want_p) in got.gammas.iter().zip(gammas).zip(ps) {
            assert!((g.gamma - want_g.as_f64().unwrap()).abs() < 1e-12);
            let want = want_p.as_f64().unwrap();
            assert!(
                (g.p_upper - want).abs() <= 1e-10 + 1e-8 * want,
                "({a}, {b}) gamma {}: {} vs scipy {want}",
                g.gamma,
                g.p_upper
            );
        }
        match c["gamma_at_alpha"].as_f64() {
            None => assert_eq!(got.gamma_at_alpha, None, "({a}, {b})"),
            Some(want) => {
                let g = got.gamma_at_alpha.unwrap();
                assert!((g - want).abs() < 1e-5, "({a}, {b}): {g} vs brentq {want}");
            }
        }
    }
}

#[test]
fn e_values_agree_with_the_formula_written_independently() {
    let r = reference();
    let cases = r["e_values"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for c in cases {
        let f = |k: &str| c[k].as_f64().unwrap();
        let e = e_value(f("rr"), f("low"), f("high")).unwrap();
        assert!((e.estimate - f("estimate")).abs() < 1e-12, "{c}");
        assert!(
            (e.interval_limit - f("interval_limit")).abs() < 1e-12,
            "{c}"
        );
    }
}

/// splitmix64: a small deterministic generator, so the fixture needs no crate.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn date(day: i32) -> String {
    reoffending::format_day(day)
}

/// People whose diversion depends only on a recorded covariate (`risk`), and whose
/// offences before the index date depend only on `risk` too. Comparison people have their
/// index offence in the table (disposed of on the index date); diverted people do not.
/// `comparison_from` is the first index date of comparison people (pilot: 2020-06-01 on).
fn recorded_only(n: usize, comparison_from: &str) -> Files {
    let mut rng = Mix(2026);
    let pilot_start = reoffending::parse_iso("2020-06-01").unwrap();
    let comp_start = reoffending::parse_iso(comparison_from).unwrap();
    let end = reoffending::parse_iso("2020-12-31").unwrap();
    let mut cohort = String::from("person_id,cohort,index_date,risk\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    for i in 0..n {
        let high = rng.next() < 0.5;
        let divert = rng.next() < if high { 0.3 } else { 0.5 };
        let start = if divert { pilot_start } else { comp_start };
        let t0 = start + (rng.next() * f64::from(end - start)) as i32;
        cohort.push_str(&format!(
            "P{i},{},{},{}\n",
            if divert { "divert" } else { "comparison" },
            date(t0),
            if high { "high" } else { "low" }
        ));
        if rng.next() < if high { 0.7 } else { 0.2 } {
            let o = t0 - 30 - (rng.next() * 300.0) as i32;
            offences.push_str(&format!("P{i},{},{}\n", date(o), date(o + 10)));
        }
        if !divert {
            offences.push_str(&format!("P{i},{},{}\n", date(t0 - 20), date(t0)));
        }
        if rng.next() < if high { 0.4 } else { 0.2 } {
            let o = t0 + 1 + (rng.next() * 300.0) as i32;
            offences.push_str(&format!("P{i},{},{}\n", date(o), date(o + 30)));
        }
    }
    files(&cohort, &offences)
}

fn load(f: &Files) -> Evaluation {
    let inputs = Inputs {
        cohort: f.cohort.clone(),
        offences: f.offences.clone(),
        load: common::options("2023-06-30"),
    };
    Evaluation::load(&inputs, Rules::default()).unwrap()
}

#[test]
fn placebo_shows_no_difference_when_groups_differ_only_in_recorded_covariates() {
    let f = recorded_only(3000, "2020-06-01");
    let eval = load(&f);
    let (people, out) = (&eval.data.people, &eval.outcomes);
    // The index offence is not a prior-year offence: no comparison person has more than the
    // one offence generated before the index date.
    assert!(out.prior_year.iter().all(|&p| p <= 1));
    // Before matching the groups differ in the placebo outcome (more low-risk people are
    // diverted): computed here from the per-person outcome.
    let share = |label: &str| {
        let code = people.cohort.code_of(label).unwrap();
        let idx: Vec<usize> = (0..people.len())
            .filter(|&i| people.cohort.codes[i] == code)
            .collect();
        idx.iter().filter(|&&i| out.prior_year[i] > 0).count() as f64 / idx.len() as f64
    };
    let before = share("divert") - share("comparison");
    assert!(before < -0.05, "unadjusted placebo difference {before}");
    let m = MatchedComparison::of(
        people,
        out,
        &MatchOptions {
            covariates: vec!["risk".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let p = &m.placebo;
    assert!(!p.significant, "{}", p.summary);
    assert!(p.risk_difference.estimate.abs() < 0.03, "{}", p.summary);
    assert!(p.risk_difference.limits().0 < 0.0 && p.risk_difference.limits().1 > 0.0);
    assert!(p.summary.contains("Placebo outcome"), "{}", p.summary);
    assert!(!m.warnings.iter().any(|w| w.contains("Placebo")));
    // 1:1 without replacement: Rosenbaum bounds on the pairs, checked by recounting them
    // from the matched sample's rates (each pilot person has exactly one control).
    let r = m.rosenbaum.as_ref().unwrap();
    assert_eq!(
        r.bounds.discordant_pairs,
        r.bounds.treated_only + r.bounds.control_only
    );
    let n = m.sample.matched_treated as f64;
    let t_rate = m.comparison.treatment_rate.estimate;
    let c_rate = m.comparison.control_rate;
    // treated reoffenders - control reoffenders = treated_only - control_only
    let diff = ((t_rate - c_rate) * n).round() as i64;
    assert_eq!(
        diff,
        r.bounds.treated_only as i64 - r.bounds.control_only as i64
    );
    assert_eq!(r.bounds.gammas.len(), 21);
    // E-value on the matched comparison's relative risk.
    let e = m.comparison.e_value.as_ref().unwrap();
    let rr = m.comparison.relative_risk.unwrap().estimate;
    let want = e_value(
        rr,
        m.comparison.relative_risk.and_then(|e| e.low()).unwrap(),
        m.comparison.relative_risk.and_then(|e| e.high()).unwrap(),
    )
    .unwrap();
    assert_eq!(e.value, want);
}

#[test]
fn placebo_warns_when_matching_misses_a_difference() {
    // Matching on nothing useful (a constant-ish covariate is refused, so match on a
    // covariate unrelated to risk): the placebo difference stays and is flagged.
    let f = recorded_only(3000, "2020-06-01");
    let text = std::fs::read_to_string(&f.cohort).unwrap();
    let mut rows = text.lines();
    let mut out = format!("{},parity\n", rows.next().unwrap());
    for (i, l) in rows.enumerate() {
        out.push_str(&format!(
            "{l},{}\n",
            if i % 2 == 0 { "even" } else { "odd" }
        ));
    }
    std::fs::write(&f.cohort, out).unwrap();
    let eval = load(&f);
    let m = MatchedComparison::compute(
        &eval,
        &MatchOptions {
            covariates: vec!["parity".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(m.placebo.significant, "{}", m.placebo.summary);
    assert!(
        m.warnings
            .iter()
            .any(|w| w.starts_with("Placebo check failed"))
    );
    assert!(m.placebo.summary.contains("may be biased"));
}

#[test]
fn pilot_period_restricts_comparison_people_to_the_pilots_index_dates() {
    let f = recorded_only(3000, "2019-01-01");
    let eval = load(&f);
    let (people, out) = (&eval.data.people, &eval.outcomes);
    let code = people.cohort.code_of("comparison").unwrap();
    let from = reoffending::parse_iso("2020-06-01").unwrap();
    let (first, last) = reoffending::compare::pilot_range(people, "divert").unwrap();
    assert!(first >= from && last <= reoffending::parse_iso("2020-12-31").unwrap());
    let eligible_in = |inside: bool| {
        (0..people.len())
            .filter(|&i| {
                people.cohort.codes[i] == code
                    && out.eligible[i]
                    && (first..=last).contains(&people.index_day[i]) == inside
            })
            .count() as u64
    };
    let (inside, outside) = (eligible_in(true), eligible_in(false));
    assert!(outside > 500 && inside > 500, "{inside} {outside}");

    let full = Comparison::of(
        people,
        out,
        &CompareOptions {
            treatment: "divert".to_string(),
            against: Against::Group("comparison".into()),
            ..CompareOptions::default()
        },
    )
    .unwrap();
    assert_eq!(full.period, Period::Full);
    assert_eq!(full.control_n, Some(inside + outside));
    let check = full.period_check.as_ref().unwrap();
    assert_eq!(check.period, Period::Pilot);
    assert_eq!(check.comparison_outside, outside);
    assert_eq!(check.comparison.control_n, Some(inside));
    assert_eq!(check.pilot_from, reoffending::format_day(first));
    assert!(check.summary.contains("within the pilot's period"));

    // Asked for directly, the pilot period is the main comparison and the full one the check.
    let pilot = Comparison::of(
        people,
        out,
        &CompareOptions {
            treatment: "divert".to_string(),
            against: Against::Group("comparison".into()),
            ..CompareOptions {
                period: Period::Pilot,
                ..Default::default()
            }
        },
    )
    .unwrap();
    assert_eq!(pilot.control_n, Some(inside));
    assert_eq!(
        pilot.risk_difference.estimate,
        check.comparison.risk_difference.estimate
    );
    let back = pilot.period_check.as_ref().unwrap();
    assert_eq!(back.period, Period::Full);
    assert_eq!(back.comparison.control_n, Some(inside + outside));

    // The matched comparison carries the same check; pilot-period controls only.
    let m = MatchedComparison::of(
        people,
        out,
        &MatchOptions {
            covariates: vec!["risk".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let mc = m.period_check.as_ref().unwrap();
    assert_eq!(mc.period, Period::Pilot);
    assert_eq!(mc.comparison_outside, outside);

    // No check when every comparison person is inside the pilot's period.
    let f = recorded_only(400, "2020-06-01");
    let eval = load(&f);
    let same = Comparison::of(
        &eval.data.people,
        &eval.outcomes,
        &CompareOptions {
            treatment: "divert".to_string(),
            against: Against::Group("comparison".into()),
            ..CompareOptions::default()
        },
    )
    .unwrap();
    // Comparison people may start a few days before the first diverted person by chance.
    let (a, _) = reoffending::compare::pilot_range(&eval.data.people, "divert").unwrap();
    let earlier = (0..eval.data.people.len())
        .filter(|&i| eval.outcomes.eligible[i] && eval.data.people.index_day[i] < a)
        .count();
    assert_eq!(same.period_check.is_none(), earlier == 0);
}

#[test]
fn benchmark_comparisons_carry_no_e_value() {
    let f = recorded_only(400, "2020-06-01");
    let eval = load(&f);
    let b = Comparison::of(
        &eval.data.people,
        &eval.outcomes,
        &CompareOptions {
            treatment: "divert".to_string(),
            against: Against::Baseline {
                rate: 0.2,
                name: None,
                source: None,
            },
            ..CompareOptions::default()
        },
    )
    .unwrap();
    assert!(b.e_value.is_none() && b.period_check.is_none());
}

#[test]
fn command_line_carries_the_robustness_checks() {
    let f = recorded_only(1500, "2019-01-01");
    let m = common::command_json(
        &f,
        "match",
        &["--covariates", "risk", "--extract-date", "2023-06-30"],
    );
    let r = &m["rosenbaum"];
    for k in [
        "discordant_pairs",
        "treated_only",
        "control_only",
        "gammas",
        "gamma_at_alpha",
    ] {
        assert!(!r[k].is_null(), "rosenbaum.{k} missing: {r}");
    }
    assert_eq!(r["gammas"].as_array().unwrap().len(), 21);
    assert!(m["placebo"]["risk_difference"].is_number());
    assert!(m["comparison"]["e_value"]["estimate"].is_number());
    assert_eq!(m["period_check"]["period"], "pilot");
    let pilot = common::command_json(
        &f,
        "match",
        &[
            "--covariates",
            "risk",
            "--extract-date",
            "2023-06-30",
            "--period",
            "pilot",
        ],
    );
    assert_eq!(pilot["parameters"]["period"], "pilot");
    assert_eq!(
        pilot["comparison"]["risk_difference"],
        m["period_check"]["comparison"]["risk_difference"]
    );
    // With 2 controls per person there are no pairs: the reason is given instead.
    let ratio = common::command_json(
        &f,
        "match",
        &[
            "--covariates",
            "risk",
            "--extract-date",
            "2023-06-30",
            "--ratio",
            "2",
        ],
    );
    assert!(ratio["rosenbaum"].is_null());
    assert!(
        ratio["rosenbaum_note"]
            .as_str()
            .unwrap()
            .contains("1:1 matching")
    );
    let c = common::command_json(
        &f,
        "compare",
        &["--control", "comparison", "--extract-date", "2023-06-30"],
    );
    let e = &c["e_value"];
    assert!(e["estimate"].as_f64().unwrap() >= 1.0);
    assert!(e["interval_limit"].as_f64().unwrap() >= 1.0);
    assert!(
        e["summary"]
            .as_str()
            .unwrap()
            .contains("risk ratio of at least")
    );
    // A period that does not exist is a usage error naming the option.
    let out = assert_cmd::Command::cargo_bin("reoffending")
        .unwrap()
        .args(["compare", "--control", "comparison", "--period", "lockdown"])
        .arg("--cohort")
        .arg(&f.cohort)
        .arg("--offences")
        .arg(&f.offences)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--period"));
}
