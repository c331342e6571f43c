//! Monitoring mid-pilot: rates at equal follow-up, and a labelled projection for every
//! quarter followed for at least 91 days, recomputed here from the per-person outcomes on the
//! sample, and every figure of a fourteen-person case worked out by hand from the rules.

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

/// A monitor worked out by hand from the rules (docs/rules.md §2, docs/methods.md §3) on
/// fourteen people, every figure written out below and asserted to 1e-15.
///
/// Default rules (follow-up 365 days, waiting 182), extract date 2023-06-30. A person is in
/// the measure when indexed on or before 2023-06-30 - 547 days = 2021-12-30, and otherwise
/// observed for w = 2022-12-30 (the extract less the waiting period) - index date days (365
/// at most); a first reoffence counts when committed on day 1..w after the index date and
/// disposed of by the index date + 547 days and by the extract date.
///
/// divert 2021-Q3, all in the measure (w = 365):
///   D1 2021-07-01: offence 2021-08-10 (day 40), disposed 2021-10-01: event on day 40.
///   D2 2021-08-01: offence 2022-03-01 (day 212), disposed 2022-05-01: event on day 212.
///   D3 2021-09-01: offence 2022-06-28 (day 300), disposed 2023-01-01 (by 2023-03-02): day 300.
///   D4 2021-09-30: the index offence (day 0, never counted) and an offence on 2022-08-01
///      (day 305) disposed 2023-05-01, after the index + 547 days (2023-03-31): censored, 365.
///   people 4, full follow-up 4, events 3, observed rate 3/4; no one censored before day
///   365, so Kaplan-Meier at 365 is the plain share: 12-month estimate 3/4. Rates at equal
///   follow-up: day 91: 1/4 (D1), 182: 1/4, 273: 2/4 (D1, D2), 365: 3/4. No projection.
/// divert 2021-Q4:
///   D5 2021-10-15: offence 2022-01-23 (day 100), disposed 2022-02-15: event on day 100.
///   D6 2021-11-20: no offence: censored at 365.
///   D7 2021-12-10: offence 2022-10-06 (day 300), disposed 2022-12-01 (by 2023-06-10): day 300.
///   D8 2021-12-31: not in the measure (2021-12-31 > 2021-12-30); w = 364; an offence on
///      2022-12-31 is day 365, after w: censored at 364.
///   people 4, full follow-up 3, events 2, no observed rate (not everyone in the measure).
///   Kaplan-Meier: day 100, 4 at risk, 1 event: 3/4; day 300, 3 at risk (D6, D7, D8), 1
///   event: 3/4 x 2/3 = 1/2; D8 censored at 364, D6 at 365: 12-month estimate 1/2.
///   Everyone has 364 days: rates at day 91: 0/4, 182: 1/4, 273: 1/4; none at 365.
///   Projection from day 273 (the latest of 91, 182, 273 everyone has) with the earlier
///   quarters of divert (2021-Q3) as the reference: S_ref(273) = 2/4, S_ref(365) = 1/4, share
///   1/2; S_q(273) = 3/4; projected 1 - 3/4 x 1/2 = 5/8.
/// divert 2022-Q3 (no one in the measure):
///   D9  2022-07-01: w = 182; offence 2022-08-20 (day 50), disposed 2022-09-30: day 50.
///   D10 2022-08-15: w = 137; offence 2022-12-13 (day 120), disposed 2023-02-01: day 120.
///   D11 2022-09-20: w = 101; offence 2023-01-03 is day 105, after w: censored at 101.
///   people 3, full follow-up 0, events 2; no one observed for 365 days: no 12-month
///   estimate. Everyone has 101 days: rate at day 91: 1/3 (D9). Projection from day 91 with
///   the earlier quarters of divert (2021-Q3 and 2021-Q4, eight people; not the comparison
///   group) as the reference: events on days 40, 100, 212, 300, 300; censored 364, 365, 365.
///   S_ref(91) = 7/8; S_ref(365) = 7/8 x 6/7 x 5/6 x 3/5 = 3/8; share 3/7. S_q(91) = 2/3 (day
///   50, 3 at risk, 1 event); projected 1 - 2/3 x 3/7 = 5/7.
/// divert 2023-Q1:
///   D12 2023-02-01: w = 2022-12-30 - 2023-02-01 < 0, not yet observable; its offence on
///   2023-03-01 does not count. people 1, full follow-up 0, events 0, nothing else.
/// comparison 2021-Q3:
///   C1 2021-07-15: offence 2021-07-25 (day 10), disposed 2021-08-01: day 10.
///   C2 2021-08-20: no offence: censored at 365.
///   people 2, full follow-up 2, events 1, observed rate 1/2, 12-month estimate 1/2, rates
///   at days 91, 182, 273 and 365: 1/2. No projection.
#[test]
fn a_small_monitor_worked_out_by_hand() {
    use crate::common::{Tolerance, assert_close, evaluate, files};
    let cohort = "person_id,cohort,index_date
D1,divert,2021-07-01
D2,divert,2021-08-01
D3,divert,2021-09-01
D4,divert,2021-09-30
D5,divert,2021-10-15
D6,divert,2021-11-20
D7,divert,2021-12-10
D8,divert,2021-12-31
D9,divert,2022-07-01
D10,divert,2022-08-15
D11,divert,2022-09-20
D12,divert,2023-02-01
C1,comparison,2021-07-15
C2,comparison,2021-08-20
";
    let offences = "person_id,offence_date,disposal_date
D1,2021-08-10,2021-10-01
D2,2022-03-01,2022-05-01
D3,2022-06-28,2023-01-01
D4,2021-09-30,2021-09-30
D4,2022-08-01,2023-05-01
D5,2022-01-23,2022-02-15
D7,2022-10-06,2022-12-01
D8,2022-12-31,2023-01-15
D9,2022-08-20,2022-09-30
D10,2022-12-13,2023-02-01
D11,2023-01-03,2023-02-01
D12,2023-03-01,2023-04-01
C1,2021-07-25,2021-08-01
";
    let f = files(cohort, offences);
    let e = evaluate(&f, "2023-06-30", Rules::default());
    let m = Monitor::of(&e.data.people, &e.outcomes, &MonitorOptions::default()).unwrap();
    const EXACT: Tolerance = Tolerance::new(1e-15, 1e-15);
    let near = |got: Option<f64>, want: Option<f64>, what: &str| match (got, want) {
        (Some(g), Some(w)) => assert_close(g, w, EXACT, what),
        _ => assert_eq!(got, want, "{what}"),
    };
    struct Want {
        cohort: &'static str,
        period: &'static str,
        people: u64,
        full: u64,
        events: u64,
        estimate: Option<f64>,
        observed: Option<f64>,
        rate_at: &'static [(u32, f64)],
        projected: Option<(u32, f64, f64)>, // (day, reference share, projected rate)
    }
    let want = [
        Want {
            cohort: "comparison",
            period: "2021-Q3",
            people: 2,
            full: 2,
            events: 1,
            estimate: Some(0.5),
            observed: Some(0.5),
            rate_at: &[(91, 0.5), (182, 0.5), (273, 0.5), (365, 0.5)],
            projected: None,
        },
        Want {
            cohort: "divert",
            period: "2021-Q3",
            people: 4,
            full: 4,
            events: 3,
            estimate: Some(0.75),
            observed: Some(0.75),
            rate_at: &[(91, 0.25), (182, 0.25), (273, 0.5), (365, 0.75)],
            projected: None,
        },
        Want {
            cohort: "divert",
            period: "2021-Q4",
            people: 4,
            full: 3,
            events: 2,
            estimate: Some(0.5),
            observed: None,
            rate_at: &[(91, 0.0), (182, 0.25), (273, 0.25)],
            projected: Some((273, 0.5, 5.0 / 8.0)),
        },
        Want {
            cohort: "divert",
            period: "2022-Q3",
            people: 3,
            full: 0,
            events: 2,
            estimate: None,
            observed: None,
            rate_at: &[(91, 1.0 / 3.0)],
            projected: Some((91, 3.0 / 7.0, 5.0 / 7.0)),
        },
        Want {
            cohort: "divert",
            period: "2023-Q1",
            people: 1,
            full: 0,
            events: 0,
            estimate: None,
            observed: None,
            rate_at: &[],
            projected: None,
        },
    ];
    assert_eq!(m.follow_up_days, 365);
    let got: Vec<(&str, &str)> = m
        .groups
        .iter()
        .map(|g| (g.cohort.as_str(), g.period.as_str()))
        .collect();
    let labels: Vec<(&str, &str)> = want.iter().map(|w| (w.cohort, w.period)).collect();
    assert_eq!(got, labels, "one row per cohort and quarter, in order");
    for (g, w) in m.groups.iter().zip(&want) {
        let what = format!("{} {}", w.cohort, w.period);
        assert_eq!(
            (g.people, g.full_follow_up, g.events_so_far),
            (w.people, w.full, w.events),
            "{what}: people, full follow-up, events"
        );
        near(
            g.estimate_12m,
            w.estimate,
            &format!("{what} 12-month estimate"),
        );
        if let (Some(est), Some(lo), Some(hi)) = (g.estimate_12m, g.ci_low, g.ci_high) {
            assert!(lo <= est && est <= hi, "{what}: {lo} {est} {hi}");
        }
        near(
            g.observed_rate,
            w.observed,
            &format!("{what} observed rate"),
        );
        let days: Vec<u32> = g.rate_at.keys().copied().collect();
        let want_days: Vec<u32> = w.rate_at.iter().map(|&(d, _)| d).collect();
        assert_eq!(days, want_days, "{what}: days of equal follow-up");
        for &(d, rate) in w.rate_at {
            let r = g.rate_at[&d];
            assert_close(r.rate, rate, EXACT, &format!("{what} rate at day {d}"));
            assert!(r.ci_low <= r.rate && r.rate <= r.ci_high, "{what} day {d}");
        }
        match w.projected {
            None => {
                assert_eq!(g.projected_12m, None, "{what}");
                assert_eq!(g.projection_day, None, "{what}");
                assert_eq!(g.projection_share, None, "{what}");
            }
            Some((day, share, rate)) => {
                assert_eq!(g.projection_day, Some(day), "{what}");
                near(g.projection_share, Some(share), &format!("{what} share"));
                near(g.projected_12m, Some(rate), &format!("{what} projection"));
                let (lo, hi) = (g.projected_low.unwrap(), g.projected_high.unwrap());
                assert!(lo < rate && rate < hi, "{what}: {lo} {rate} {hi}");
                let basis = g.projection_basis.as_deref().unwrap();
                assert!(basis.contains("earlier quarters of divert"), "{basis}");
            }
        }
    }
}
