//! Monitoring mid-pilot: rates at equal follow-up, and a labelled projection for every
//! quarter followed for at least 91 days, recomputed here from the per-person outcomes.

use reoffending::data::dates::quarter_label;
use reoffending::monitor::{Monitor, MonitorOptions};
use reoffending::stats::{KaplanMeier, KmInterval};
use reoffending::{Evaluation, Inputs, Rules};

#[test]
fn every_quarter_followed_91_days_gets_a_labelled_projection_that_follows_its_formula() {
    let inputs = Inputs {
        cohort: "data-samples/cohort.csv".into(),
        offences: "data-samples/offences.csv".into(),
        load: Default::default(),
    };
    let eval = Evaluation::load(&inputs, Rules::default()).unwrap();
    let (people, out) = (&eval.data.people, &eval.outcomes);
    let m = Monitor::of(
        people,
        out,
        &MonitorOptions {
            confidence: 0.95,
            reference: Some("comparison".into()),
        },
    )
    .unwrap();
    // The reference: the comparison group's Kaplan-Meier with partial follow-up.
    let km_of = |members: &[usize]| {
        let (mut t, mut e) = (Vec::new(), Vec::new());
        for &i in members {
            if out.event[i] {
                t.push(out.days_to_first[i] as f64);
                e.push(true);
            } else if out.observed_days[i] > 0 {
                t.push(out.observed_days[i] as f64);
                e.push(false);
            }
        }
        KaplanMeier::fit(&t, &e, 0.95, KmInterval::LogLog).unwrap()
    };
    let code = people.cohort.code_of("comparison").unwrap();
    let comparison: Vec<usize> = (0..people.len())
        .filter(|&i| people.cohort.codes[i] == code)
        .collect();
    let reference = km_of(&comparison);
    let mut projected = 0;
    for g in &m.groups {
        let members: Vec<usize> = (0..people.len())
            .filter(|&i| {
                people.cohort.get(i) == Some(g.cohort.as_str())
                    && quarter_label(people.index_day[i]) == g.period
            })
            .collect();
        assert_eq!(members.len() as u64, g.people);
        let least = members.iter().map(|&i| out.observed_days[i]).min().unwrap();
        // Rates at equal follow-up: present exactly when everyone has that much.
        for d in [91u32, 182, 273, 365] {
            match g.rate_at.get(&d) {
                Some(r) => {
                    assert!(least >= d as i32, "{} {} day {d}", g.cohort, g.period);
                    let x = members
                        .iter()
                        .filter(|&&i| out.event[i] && out.days_to_first[i] <= d as i32)
                        .count();
                    assert!((r.rate - x as f64 / members.len() as f64).abs() < 1e-12);
                    assert!(r.ci_low <= r.rate && r.rate <= r.ci_high);
                }
                None => assert!(
                    least < d as i32,
                    "{} {} day {d} missing",
                    g.cohort,
                    g.period
                ),
            }
        }
        let followed_fully = g.full_follow_up == g.people;
        if followed_fully || least < 91 {
            assert!(g.projected_12m.is_none(), "{} {}", g.cohort, g.period);
            continue;
        }
        projected += 1;
        let p = g
            .projected_12m
            .unwrap_or_else(|| panic!("{} {}: no projection", g.cohort, g.period));
        // The latest of the equal-follow-up days everyone has reached (never the exact day,
        // which is the quarter's latest index date).
        let day = [91u32, 182, 273]
            .into_iter()
            .filter(|&d| d as i32 <= least)
            .max()
            .unwrap();
        assert_eq!(g.projection_day, Some(day), "{} {}", g.cohort, g.period);
        let t = f64::from(day);
        assert!(
            (g.projection_share.unwrap()
                - reference.survival_at(365.0).survival / reference.survival_at(t).survival)
                .abs()
                < 1e-12
        );
        // No one is censored before t: the quarter's survival to t is a plain share.
        let s_q = members
            .iter()
            .filter(|&&i| !(out.event[i] && out.days_to_first[i] as f64 <= t))
            .count() as f64
            / members.len() as f64;
        let want =
            1.0 - s_q * reference.survival_at(365.0).survival / reference.survival_at(t).survival;
        assert!(
            (p - want).abs() < 1e-12,
            "{} {}: {p} vs {want}",
            g.cohort,
            g.period
        );
        let (lo, hi) = (g.projected_low.unwrap(), g.projected_high.unwrap());
        assert!(lo < p && p < hi && lo > 0.0 && hi < 1.0);
        let basis = g.projection_basis.as_deref().unwrap();
        assert!(
            basis.starts_with("Projection, not an observed rate") && basis.contains("assumes"),
            "{basis}"
        );
    }
    assert!(
        projected >= 6,
        "the sample has young quarters in both cohorts: {projected}"
    );
}

/// A quarter's projection borrows its own group's earlier quarters unless told otherwise: the
/// pilot's projection does not take the comparison group's later reoffending by default, the
/// comparison group's curve is an option (`[monitor] projection_reference`,
/// `--projection-reference`), and a reference that is no group is an error, not a silent
/// fallback.
#[test]
fn projections_borrow_the_same_groups_earlier_quarters_by_default() {
    let run = |extra: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("reoffending")
            .unwrap()
            .args([
                "monitor",
                "--config",
                "data-samples/evaluation.toml",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let bases = |stdout: &[u8]| -> Vec<(String, String)> {
        let j: serde_json::Value = serde_json::from_slice(stdout).unwrap();
        j["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|g| {
                Some((
                    g["cohort"].as_str()?.to_string(),
                    g["projection_basis"].as_str()?.to_string(),
                ))
            })
            .collect()
    };
    let (ok, stdout, _) = run(&[]);
    assert!(ok);
    let default = bases(&stdout);
    assert!(default.iter().any(|(c, _)| c == "divert"));
    for (cohort, basis) in &default {
        assert!(
            basis.contains(&format!("earlier quarters of {cohort}")),
            "{basis}"
        );
    }
    let (ok, stdout, _) = run(&["--projection-reference", "comparison"]);
    assert!(ok);
    let borrowed = bases(&stdout);
    assert!(!borrowed.is_empty());
    for (_, basis) in &borrowed {
        assert!(basis.contains("the comparison group"), "{basis}");
    }
    let (ok, _, stderr) = run(&["--projection-reference", "nobody"]);
    assert!(!ok);
    assert!(
        stderr.contains("`nobody` is not a cohort label"),
        "{stderr}"
    );
}
