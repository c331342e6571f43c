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
        let t = f64::from(least.min(365));
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
