//! Callaway and Sant'Anna against the Python `csdid` package (port of R `did`), and two-way
//! fixed effects against statsmodels (`tests/reference/staggered.py`, `staggered.json`).

use reoffending::stats::AreaPanel;
use reoffending::stats::staggered::{StaggeredError, callaway_santanna};
use serde_json::Value;

use crate::common::{Tolerance, assert_close, read_reference};

/// Against csdid and statsmodels: 1e-9 absolute.
const CSDID: Tolerance = Tolerance::new(0.0, 1e-9);

/// (panel, launch columns, reference case) for each committed case.
fn cases() -> Vec<(AreaPanel, Vec<Option<usize>>, Value)> {
    let reference: Value =
        serde_json::from_str(&read_reference("reference/staggered.json")).unwrap();
    assert!(reference["versions"]["csdid"].is_string());
    crate::common::cases(&reference, "cases")
        .iter()
        .map(|case| {
            let rows: Vec<Vec<f64>> = case["y"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect()
                })
                .collect();
            let periods: Vec<i64> = case["periods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_i64().unwrap())
                .collect();
            // Launch periods are labels (1..T); columns are their positions.
            let launch = case["launch"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    g.as_i64()
                        .map(|g| periods.iter().position(|&p| p == g).unwrap())
                })
                .collect();
            (AreaPanel::from_rows(&rows).unwrap(), launch, case.clone())
        })
        .collect()
}

#[test]
fn matches_csdid_to_1e_9() {
    let all = cases();
    assert_eq!(all.len(), 2);
    for (panel, launch, case) in all {
        let name = case["name"].as_str().unwrap();
        let periods: Vec<i64> = case["periods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_i64().unwrap())
            .collect();
        let r = callaway_santanna(&panel, &launch, 0.95).unwrap();
        let cells = crate::common::cases(&case, "group_time");
        assert_eq!(r.group_time.len(), cells.len(), "{name}");
        for (c, want) in r.group_time.iter().zip(cells) {
            assert_eq!(periods[c.group], want["group"].as_i64().unwrap());
            assert_eq!(periods[c.period], want["period"].as_i64().unwrap());
            let what = format!("{name} ATT({}, {})", c.group, c.period);
            assert_close(c.estimate, want["att"].as_f64().unwrap(), CSDID, &what);
            assert_close(
                c.se.unwrap(),
                want["se"].as_f64().unwrap(),
                CSDID,
                &format!("{what} se"),
            );
        }
        assert_close(
            r.att,
            case["simple"]["att"].as_f64().unwrap(),
            CSDID,
            &format!("{name} simple"),
        );
        assert_close(
            r.se.unwrap(),
            case["simple"]["se"].as_f64().unwrap(),
            CSDID,
            &format!("{name} simple se"),
        );
        let d = &case["dynamic"];
        assert_close(
            r.dynamic.estimate,
            d["att"].as_f64().unwrap(),
            CSDID,
            &format!("{name} dynamic"),
        );
        assert_close(
            r.dynamic.se.unwrap(),
            d["se"].as_f64().unwrap(),
            CSDID,
            &format!("{name} dynamic se"),
        );
        let es: Vec<i64> = d["event_times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_i64().unwrap())
            .collect();
        assert_eq!(
            r.by_time
                .iter()
                .map(|b| b.relative_period)
                .collect::<Vec<_>>(),
            es
        );
        for (k, b) in r.by_time.iter().enumerate() {
            assert_close(
                b.estimate,
                d["att_e"][k].as_f64().unwrap(),
                CSDID,
                &format!("{name} e={}", b.relative_period),
            );
            assert_close(
                b.se.unwrap(),
                d["se_e"][k].as_f64().unwrap(),
                CSDID,
                &format!("{name} e={} se", b.relative_period),
            );
        }
        assert_close(
            r.twfe.estimate,
            case["twfe"]["estimate"].as_f64().unwrap(),
            CSDID,
            &format!("{name} twfe"),
        );
        assert_close(
            r.twfe.se.unwrap(),
            case["twfe"]["se"].as_f64().unwrap(),
            CSDID,
            &format!("{name} twfe se"),
        );
        assert_eq!(
            r.twfe.clusters as u64,
            case["twfe"]["clusters"].as_u64().unwrap()
        );
    }
}

#[test]
fn growing_effects_twfe_is_biased_and_cs_recovers_truth() {
    let (panel, launch, case) = cases()
        .into_iter()
        .find(|c| c.2["name"] == "growing")
        .unwrap();
    let truth = case["true_simple"].as_f64().unwrap();
    let r = callaway_santanna(&panel, &launch, 0.95).unwrap();
    assert_eq!(panel.areas(), 30);
    assert_eq!(r.cohorts.len(), 3);
    assert_eq!(r.never_treated, 8);
    let se = r.se.unwrap();
    // Callaway and Sant'Anna is within 3 standard errors (and 10%) of the truth; TWFE is
    // off by more than half of it and its interval excludes the truth.
    assert!(
        (r.att - truth).abs() < 3.0 * se,
        "{} ± {se} vs {truth}",
        r.att
    );
    assert!((r.att - truth).abs() < 0.1 * truth.abs());
    assert!(
        (r.twfe.estimate - truth).abs() > 0.5 * truth.abs(),
        "twfe {}",
        r.twfe.estimate
    );
    assert!(r.twfe.ci_low.unwrap() > truth);
    // Event study: effects grow by 1 per period after launch (truth -(1 + e)), flat
    // before; each within 0.6 of the truth (cell noise sd 0.4, 7-8 areas a cohort).
    let by = |e: i64| r.by_time.iter().find(|b| b.relative_period == e).unwrap();
    for e in -5..=6 {
        let want = if e >= 0 { -(1.0 + e as f64) } else { 0.0 };
        assert!(
            (by(e).estimate - want).abs() < 0.6,
            "e={e}: {}",
            by(e).estimate
        );
    }
    assert!((by(6).estimate - by(0).estimate + 6.0).abs() < 0.6);
}

#[test]
fn degenerate_inputs_are_errors() {
    let rows: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..5)
                .map(|t| (i * t) as f64 + 0.5 * ((i + 2 * t) % 3) as f64)
                .collect()
        })
        .collect();
    let p = AreaPanel::from_rows(&rows).unwrap();
    assert!(matches!(
        callaway_santanna(&p, &[None, Some(2)], 0.95),
        Err(StaggeredError::Lengths { .. })
    ));
    assert_eq!(
        callaway_santanna(&p, &[Some(1), Some(2), Some(2), Some(3)], 0.95),
        Err(StaggeredError::NoNeverTreated)
    );
    assert_eq!(
        callaway_santanna(&p, &[None; 4], 0.95),
        Err(StaggeredError::NoTreated)
    );
    assert!(matches!(
        callaway_santanna(&p, &[None, Some(0), None, None], 0.95),
        Err(StaggeredError::LaunchInFirstPeriod { area: 1 })
    ));
    assert!(matches!(
        callaway_santanna(&p, &[None, Some(5), None, None], 0.95),
        Err(StaggeredError::LaunchOutOfRange { .. })
    ));
    assert!(matches!(
        callaway_santanna(&p, &[None, Some(2), None, None], 0.0),
        Err(StaggeredError::Confidence(_))
    ));
    // A single treated area and a single never-treated area: finite, no NaN.
    let r = callaway_santanna(&p, &[None, Some(2), Some(3), Some(3)], 0.95).unwrap();
    assert!(r.att.is_finite() && r.group_time.iter().all(|c| c.estimate.is_finite()));
    assert!(
        r.group_time
            .iter()
            .all(|c| c.se.is_none_or(|s| s.is_finite()))
    );
    // Constant outcomes: zero effects, no standard errors rather than NaN.
    let flat = AreaPanel::from_rows(&[vec![1.0; 4], vec![1.0; 4], vec![2.0; 4]]).unwrap();
    let r = callaway_santanna(&flat, &[None, None, Some(2)], 0.95).unwrap();
    assert_eq!(r.att, 0.0);
    assert_eq!(r.se, None);
    assert_eq!(r.twfe.se, None);
}
