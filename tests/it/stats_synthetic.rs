//! Synthetic DiD, synthetic control and DiD against R `synthdid` 0.0.9: the published
//! Proposition 99 values and a line-by-line numpy port of the package
//! (`tests/reference/synthetic.py`, output `synthetic.json`).

use reoffending::stats::AreaPanel;
use reoffending::stats::synthetic::{
    Placebo, SyntheticError, SyntheticMethod, SyntheticOptions, fit, placebo_estimates, placebo_se,
    synthetic,
};
use serde_json::Value;

use crate::common::{Tolerance, assert_close, read_reference};

// Against the reference port (synthetic.py). Weights and curves were asserted within
// tol * (1 + |want|); here within tol relative or tol absolute.
/// Weights and effect curves: 1e-9 relative or absolute.
const PORT: Tolerance = Tolerance::new(1e-9, 1e-9);
/// Placebo estimates: 1e-8 relative or absolute.
const PLACEBO: Tolerance = Tolerance::new(1e-8, 1e-8);
/// Estimates: 1e-9 absolute.
const ESTIMATE: Tolerance = Tolerance::new(0.0, 1e-9);
/// The placebo standard error: 1e-8 absolute.
const PLACEBO_SE: Tolerance = Tolerance::new(0.0, 1e-8);
/// Regularisation (noise level, zeta): 1e-12 absolute.
const REGULARISATION: Tolerance = Tolerance::new(0.0, 1e-12);
/// The published Proposition 99 estimates, to their 5 decimals.
const PUBLISHED: Tolerance = Tolerance::new(0.0, 5e-6);

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// `assert_close` element by element, the lengths equal.
fn assert_all_close(what: &str, got: &[f64], want: &[f64], tol: Tolerance) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, tol, &format!("{what}[{k}]"));
    }
}

/// The Proposition 99 panel from the fixture: (panel, area names, periods, treated rows, launch column).
fn prop99() -> (AreaPanel, Vec<String>, Vec<i64>, Vec<usize>, usize) {
    let text = read_reference("fixtures/prop99.csv");
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(lines.next(), Some("area,period,outcome,treated"));
    let (mut areas, mut periods, mut outcomes, mut treated) = (vec![], vec![], vec![], vec![]);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        areas.push(f[0].to_string());
        periods.push(f[1].parse::<i64>().unwrap());
        outcomes.push(f[2].parse::<f64>().unwrap());
        treated.push(f[3] == "1");
    }
    let (panel, names, years) = AreaPanel::from_cells(&areas, &periods, &outcomes).unwrap();
    let mut treated_rows: Vec<usize> = areas
        .iter()
        .zip(&treated)
        .filter(|(_, t)| **t)
        .map(|(a, _)| names.iter().position(|n| n == a).unwrap())
        .collect();
    treated_rows.dedup();
    let first = periods
        .iter()
        .zip(&treated)
        .filter(|(_, t)| **t)
        .map(|(p, _)| *p)
        .min()
        .unwrap();
    let launch = years.iter().position(|&y| y == first).unwrap();
    (panel, names, years, treated_rows, launch)
}

#[test]
fn prop99_matches_published_values() {
    let (panel, names, years, treated, launch) = prop99();
    assert_eq!((panel.areas(), panel.periods()), (39, 31));
    assert_eq!(names[treated[0]], "California");
    assert_eq!(years[launch], 1989);
    // 200 replications (the default) are slow in a debug build: 40 here.
    assert_eq!(
        SyntheticOptions::default().placebo,
        Placebo::Random {
            replications: 200,
            seed: 1
        }
    );
    let options = SyntheticOptions {
        placebo: Placebo::Random {
            replications: 40,
            seed: 1,
        },
        ..SyntheticOptions::default()
    };
    let r = synthetic(&panel, &treated, launch, &options).unwrap();
    println!("{:?}", r.estimates);
    let published = [
        (SyntheticMethod::Sdid, -15.60383),
        (SyntheticMethod::Sc, -19.61966),
        (SyntheticMethod::Did, -27.34911),
    ];
    for (e, (m, v)) in r.estimates.iter().zip(published) {
        assert_eq!(e.method, m);
        // Published to 5 decimals.
        assert_close(e.estimate, v, PUBLISHED, &format!("{m:?}"));
        assert!(e.se > 0.0 && e.ci_low < e.estimate && e.estimate < e.ci_high);
    }
    let w: f64 = r.unit_weights.iter().map(|u| u.weight).sum();
    let l: f64 = r.time_weights.iter().map(|u| u.weight).sum();
    assert!((w - 1.0).abs() < 1e-12 && (l - 1.0).abs() < 1e-12);
    assert!(
        r.unit_weights
            .iter()
            .all(|u| u.weight >= 0.0 && u.area != treated[0])
    );
    assert_eq!(r.time_weights.len(), 19);
    assert_eq!(r.effect_by_period.len(), 12);
    let mean: f64 = r.effect_by_period.iter().map(|p| p.estimate).sum::<f64>() / 12.0;
    assert!((mean - r.estimates[0].estimate).abs() < 1e-10);
    assert_eq!(r.replications, 40);
    assert_eq!(r.seed, Some(1));
    // Deterministic for a seed (fewer replications: this is slow in a debug build).
    let few = SyntheticOptions {
        placebo: Placebo::Random {
            replications: 10,
            seed: 7,
        },
        ..SyntheticOptions::default()
    };
    let a = synthetic(&panel, &treated, launch, &few).unwrap();
    let b = synthetic(&panel, &treated, launch, &few).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.estimates[0].estimate, r.estimates[0].estimate);
    // The synthdid paper's Table/README: placebo SE of SDID on this panel is about 9-10.
    assert!(
        r.estimates[0].se > 5.0 && r.estimates[0].se < 15.0,
        "{}",
        r.estimates[0].se
    );
}

#[test]
fn prop99_weights_match_reference() {
    let (panel, names, _, treated, launch) = prop99();
    let reference: Value =
        serde_json::from_str(&read_reference("reference/synthetic.json")).unwrap();
    let case = &reference["cases"][0];
    assert_eq!(case["name"], "prop99");
    let ref_areas: Vec<&str> = case["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let r = synthetic(&panel, &treated, launch, &SyntheticOptions::default()).unwrap();
    let order: Vec<&str> = r
        .unit_weights
        .iter()
        .map(|u| names[u.area].as_str())
        .collect();
    assert_eq!(order, ref_areas[..38]);
    for (k, m) in ["sdid", "sc", "did"].iter().enumerate() {
        let f = &r.fits[k];
        assert_close(
            f.estimate,
            case[m]["estimate"].as_f64().unwrap(),
            ESTIMATE,
            m,
        );
        assert_all_close(
            &format!("{m} omega"),
            &f.omega,
            &floats(&case[m]["omega"]),
            PORT,
        );
        assert_all_close(
            &format!("{m} lambda"),
            &f.lambda,
            &floats(&case[m]["lambda"]),
            PORT,
        );
    }
}

#[test]
fn generated_and_prop99_match_reference_port() {
    let reference: Value =
        serde_json::from_str(&read_reference("reference/synthetic.json")).unwrap();
    let cases = crate::common::cases(&reference, "cases");
    assert!(cases.len() >= 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let rows: Vec<Vec<f64>> = case["y"].as_array().unwrap().iter().map(floats).collect();
        let y = AreaPanel::from_rows(&rows).unwrap();
        let n0 = case["n0"].as_u64().unwrap() as usize;
        let t0 = case["t0"].as_u64().unwrap() as usize;
        let perms: Vec<Vec<usize>> = case["placebo_permutations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap() as usize)
                    .collect()
            })
            .collect();
        for (m, method) in [
            ("sdid", SyntheticMethod::Sdid),
            ("sc", SyntheticMethod::Sc),
            ("did", SyntheticMethod::Did),
        ] {
            let want = &case[m];
            let f = fit(&y, n0, t0, method).unwrap();
            let what = format!("{name} {m}");
            assert_close(
                f.estimate,
                want["estimate"].as_f64().unwrap(),
                ESTIMATE,
                &what,
            );
            let noise = case["noise_level"].as_f64().unwrap();
            assert_close(
                f.noise_level,
                noise,
                REGULARISATION,
                &format!("{what} noise"),
            );
            let zeta = want["zeta_omega"].as_f64().unwrap();
            assert_close(f.zeta_omega, zeta, REGULARISATION, &format!("{what} zeta"));
            assert_all_close(
                &format!("{what} omega"),
                &f.omega,
                &floats(&want["omega"]),
                PORT,
            );
            assert_all_close(
                &format!("{what} lambda"),
                &f.lambda,
                &floats(&want["lambda"]),
                PORT,
            );
            assert_all_close(
                &format!("{what} effect curve"),
                &f.effect_curve,
                &floats(&want["effect_curve"]),
                PORT,
            );
            let placebo = placebo_estimates(&y, n0, t0, &f, &perms).unwrap();
            assert_all_close(
                &format!("{what} placebo"),
                &placebo,
                &floats(&want["placebo_estimates"]),
                PLACEBO,
            );
            let se = placebo_se(&placebo).unwrap();
            let want_se = want["placebo_se"].as_f64().unwrap();
            assert_close(se, want_se, PLACEBO_SE, &format!("{what} se"));
        }
    }
}

#[test]
fn each_comparison_placebo_and_random_agree_roughly() {
    let (panel, _, _, treated, launch) = prop99();
    let exact = SyntheticOptions {
        placebo: Placebo::EachComparison,
        ..SyntheticOptions::default()
    };
    let a = synthetic(&panel, &treated, launch, &exact).unwrap();
    let random = SyntheticOptions {
        placebo: Placebo::Random {
            replications: 60,
            seed: 11,
        },
        ..SyntheticOptions::default()
    };
    let b = synthetic(&panel, &treated, launch, &random).unwrap();
    assert_eq!(a.replications, 38);
    assert_eq!(a.seed, None);
    for (x, y) in a.estimates.iter().zip(&b.estimates) {
        assert_eq!(x.estimate, y.estimate);
        assert!(
            (x.se / y.se - 1.0).abs() < 0.3,
            "{:?}: {} vs {}",
            x.method,
            x.se,
            y.se
        );
    }
}

#[test]
fn degenerate_inputs_are_errors() {
    let rows: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..5)
                .map(|t| (i * 3 + t * t) as f64 * 0.7 + ((i + t) % 3) as f64)
                .collect()
        })
        .collect();
    let p = AreaPanel::from_rows(&rows).unwrap();
    let o = SyntheticOptions::default();
    assert_eq!(synthetic(&p, &[], 3, &o), Err(SyntheticError::NoTreated));
    assert!(matches!(
        synthetic(&p, &[9], 3, &o),
        Err(SyntheticError::TreatedOutOfRange { .. })
    ));
    assert!(matches!(
        synthetic(&p, &[1, 1], 3, &o),
        Err(SyntheticError::DuplicateTreated { .. })
    ));
    // No pre-period / one pre-period / no post period.
    assert!(matches!(
        synthetic(&p, &[3], 0, &o),
        Err(SyntheticError::TooFewPrePeriods { .. })
    ));
    assert!(matches!(
        synthetic(&p, &[3], 1, &o),
        Err(SyntheticError::TooFewPrePeriods { .. })
    ));
    assert!(matches!(
        synthetic(&p, &[3], 5, &o),
        Err(SyntheticError::NoPostPeriod { .. })
    ));
    // One comparison area.
    assert!(matches!(
        synthetic(&p, &[1, 2, 3], 3, &o),
        Err(SyntheticError::TooFewComparison { found: 1 })
    ));
    // Placebo needs more comparison than treated areas.
    assert!(matches!(
        synthetic(&p, &[2, 3], 3, &o),
        Err(SyntheticError::PlaceboTooFew { .. })
    ));
    let each = SyntheticOptions {
        placebo: Placebo::EachComparison,
        ..o
    };
    let q = AreaPanel::from_rows(&[rows.clone(), rows.clone()].concat()).unwrap();
    assert!(matches!(
        synthetic(&q, &[6, 7], 3, &each),
        Err(SyntheticError::EachComparisonNeedsOne { .. })
    ));
    let one = SyntheticOptions {
        placebo: Placebo::Random {
            replications: 1,
            seed: 3,
        },
        ..o
    };
    assert!(matches!(
        synthetic(&p, &[3], 3, &one),
        Err(SyntheticError::Replications { .. })
    ));
    let bad = SyntheticOptions {
        confidence: 1.0,
        ..o
    };
    assert!(matches!(
        synthetic(&p, &[3], 3, &bad),
        Err(SyntheticError::Confidence(_))
    ));
    // Comparison areas that never change before launch.
    let flat = AreaPanel::from_rows(&[
        vec![1.0; 5],
        vec![2.0; 5],
        vec![3.0; 5],
        vec![1.0, 2.0, 3.0, 4.0, 5.0],
    ])
    .unwrap();
    assert_eq!(
        synthetic(&flat, &[3], 3, &o),
        Err(SyntheticError::NoVariation)
    );
    // Unbalanced and non-finite panels are refused when the panel is built.
    assert!(AreaPanel::from_rows(&[vec![1.0, 2.0], vec![1.0]]).is_err());
    assert!(AreaPanel::from_rows(&[vec![1.0, f64::NAN]]).is_err());
    assert!(AreaPanel::from_cells(&["a", "a", "b"], &[1, 2, 1], &[1.0, 2.0, 3.0]).is_err());
    assert!(AreaPanel::from_cells(&["a", "a"], &[1, 1], &[1.0, 2.0]).is_err());
    // Bad permutations.
    let f = fit(&p, 3, 3, SyntheticMethod::Sdid).unwrap();
    assert!(matches!(
        placebo_estimates(&p, 3, 3, &f, &[vec![0, 0, 1]]),
        Err(SyntheticError::Permutation { .. })
    ));
    // Every result is finite on a valid small panel.
    let r = synthetic(&p, &[3], 3, &o).unwrap();
    assert!(
        r.estimates
            .iter()
            .all(|e| e.estimate.is_finite() && e.se.is_finite())
    );
}

/// Timing on a 43 x 40 panel (3 treated areas, 200 placebo replications):
/// `cargo test --release -- --ignored timing --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn timing_43_by_40() {
    let rows: Vec<Vec<f64>> = (0..43)
        .map(|i| {
            (0..40)
                .map(|t| {
                    let (fi, ft) = (i as f64, t as f64);
                    10.0 + fi * 0.3
                        + ft * 0.1
                        + (fi * 1.7 + ft * 0.9).sin() * (1.0 + fi / 20.0)
                        + ((i * 31 + t * 17) % 11) as f64 * 0.05
                        - if i >= 40 && t >= 30 { 2.0 } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let p = AreaPanel::from_rows(&rows).unwrap();
    let start = std::time::Instant::now();
    let r = synthetic(&p, &[40, 41, 42], 30, &SyntheticOptions::default()).unwrap();
    println!(
        "43 x 40, 200 placebo replications: {:?}, {:?}",
        start.elapsed(),
        r.estimates
    );
    let (panel, _, _, treated, launch) = prop99();
    let start = std::time::Instant::now();
    let _ = synthetic(&panel, &treated, launch, &SyntheticOptions::default()).unwrap();
    println!(
        "prop99 39 x 31, 200 placebo replications: {:?}",
        start.elapsed()
    );
}
