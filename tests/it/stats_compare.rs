//! Two-group comparisons, Welch's test, power and p-value adjustment against statsmodels
//! and scipy. Reference values: tests/reference/compare.json, made by
//! tests/reference/compare.py.

use reoffending::stats::{
    Adjustment, DiffMethod, Summary, TwoByTwo, adjust, detectable_one, detectable_two,
    sample_size_one, sample_size_two, welch,
};
use serde_json::Value;

use crate::common::{Tolerance, assert_close};

fn reference() -> Value {
    crate::common::reference_json("compare.json")
}

// Relative, with an absolute floor of 1e-14 for figures at zero.
/// Closed forms and distribution functions.
const STATS: Tolerance = Tolerance::new(1e-9, 1e-14);
/// Welch's p-value (the t distribution's tail).
const P: Tolerance = Tolerance::new(1e-8, 1e-14);
/// Welch's intervals (the t distribution's quantile).
const CI: Tolerance = Tolerance::new(1e-7, 1e-14);
/// Adjusted p-values: arithmetic on the p-values given.
const EXACT: Tolerance = Tolerance::new(1e-12, 1e-14);

fn check(got: Option<f64>, want: &Value, tol: Tolerance, what: &str) {
    match (got, want.as_f64()) {
        (Some(g), Some(w)) => assert_close(g, w, tol, what),
        (None, None) => {}
        (g, _) => panic!("{what}: {g:?} vs {want}"),
    }
}

#[test]
fn two_by_two_matches_statsmodels_and_scipy() {
    let r = reference();
    for t in crate::common::cases(&r, "tables") {
        let g = |k: &str| t[k].as_u64().unwrap();
        let table = TwoByTwo {
            x1: g("x1"),
            n1: g("n1"),
            x2: g("x2"),
            n2: g("n2"),
        };
        let what = format!("{table:?}");
        let nc = table.compare(0.95, DiffMethod::Newcombe).unwrap();
        let wd = table.compare(0.95, DiffMethod::Wald).unwrap();
        check(
            Some(nc.risk_difference.limits().0),
            &t["rd_newcombe"][0],
            STATS,
            &format!("{what} newcombe low"),
        );
        check(
            Some(nc.risk_difference.limits().1),
            &t["rd_newcombe"][1],
            STATS,
            &format!("{what} newcombe high"),
        );
        check(
            Some(wd.risk_difference.limits().0),
            &t["rd_wald"][0],
            STATS,
            &format!("{what} wald low"),
        );
        check(
            Some(wd.risk_difference.limits().1),
            &t["rd_wald"][1],
            STATS,
            &format!("{what} wald high"),
        );
        let pair = |k: &str, i: usize| {
            if t[k].is_null() {
                Value::Null
            } else {
                t[k][i].clone()
            }
        };
        check(
            nc.relative_risk.and_then(|e| e.low()),
            &pair("rr_log", 0),
            STATS,
            &format!("{what} rr low"),
        );
        check(
            nc.relative_risk.and_then(|e| e.high()),
            &pair("rr_log", 1),
            STATS,
            &format!("{what} rr high"),
        );
        check(
            nc.odds_ratio.and_then(|e| e.low()),
            &pair("or_woolf", 0),
            STATS,
            &format!("{what} or low"),
        );
        check(
            nc.odds_ratio.and_then(|e| e.high()),
            &pair("or_woolf", 1),
            STATS,
            &format!("{what} or high"),
        );
        check(
            nc.z_pooled.statistic,
            &pair("z_pooled", 0),
            STATS,
            &format!("{what} z"),
        );
        check(
            nc.z_pooled.p_value,
            &pair("z_pooled", 1),
            STATS,
            &format!("{what} z p"),
        );
        check(
            nc.chi_square.statistic,
            &pair("chi_square", 0),
            STATS,
            &format!("{what} chi2"),
        );
        check(
            nc.chi_square.p_value,
            &pair("chi_square", 1),
            STATS,
            &format!("{what} chi2 p"),
        );
        check(
            nc.chi_square_yates.statistic,
            &pair("chi_square_yates", 0),
            STATS,
            &format!("{what} yates"),
        );
        check(
            nc.chi_square_yates.p_value,
            &pair("chi_square_yates", 1),
            STATS,
            &format!("{what} yates p"),
        );
        check(
            nc.fisher_exact.p_value,
            &t["fisher_p"],
            STATS,
            &format!("{what} fisher"),
        );
    }
}

#[test]
fn welch_matches_scipy() {
    let r = reference();
    for w in crate::common::cases(&r, "welch") {
        let vals = |k: &str| {
            w[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b) = (Summary::of(vals("a")), Summary::of(vals("b")));
        let t = welch(&a, &b, 0.95).unwrap();
        check(Some(t.statistic), &w["statistic"], STATS, "t");
        check(Some(t.df), &w["df"], STATS, "df");
        check(Some(t.p_value), &w["p_value"], P, "p");
        check(Some(t.ci_low), &w["ci_low"], CI, "ci low");
        check(Some(t.ci_high), &w["ci_high"], CI, "ci high");
    }
}

#[test]
fn other_confidence_levels_match_statsmodels_and_scipy() {
    // compare.py: confint_proportions_2indep(alpha = 0.10, 0.01); ttest_ind(...).confidence_interval.
    let r = reference();
    let levels = r["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 8);
    for t in levels {
        let g = |k: &str| t[k].as_u64().unwrap();
        let table = TwoByTwo {
            x1: g("x1"),
            n1: g("n1"),
            x2: g("x2"),
            n2: g("n2"),
        };
        let conf = t["confidence"].as_f64().unwrap();
        let what = format!("{table:?} at {conf}");
        let nc = table.compare(conf, DiffMethod::Newcombe).unwrap();
        let wd = table.compare(conf, DiffMethod::Wald).unwrap();
        check(
            Some(nc.risk_difference.limits().0),
            &t["rd_newcombe"][0],
            STATS,
            &format!("{what} newcombe"),
        );
        check(
            Some(nc.risk_difference.limits().1),
            &t["rd_newcombe"][1],
            STATS,
            &format!("{what} newcombe"),
        );
        check(
            Some(wd.risk_difference.limits().0),
            &t["rd_wald"][0],
            STATS,
            &format!("{what} wald"),
        );
        check(
            Some(wd.risk_difference.limits().1),
            &t["rd_wald"][1],
            STATS,
            &format!("{what} wald"),
        );
        check(
            nc.relative_risk.and_then(|e| e.low()),
            &t["rr_log"][0],
            STATS,
            &format!("{what} rr"),
        );
        check(
            nc.relative_risk.and_then(|e| e.high()),
            &t["rr_log"][1],
            STATS,
            &format!("{what} rr"),
        );
        check(
            nc.odds_ratio.and_then(|e| e.low()),
            &t["or_woolf"][0],
            STATS,
            &format!("{what} or"),
        );
        check(
            nc.odds_ratio.and_then(|e| e.high()),
            &t["or_woolf"][1],
            STATS,
            &format!("{what} or"),
        );
    }
    for w in crate::common::cases(&r, "welch") {
        let vals = |k: &str| {
            w[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b) = (Summary::of(vals("a")), Summary::of(vals("b")));
        for (conf, key) in [(0.90, "ci_90"), (0.99, "ci_99")] {
            let t = welch(&a, &b, conf).unwrap();
            check(Some(t.ci_low), &w[key][0], CI, key);
            check(Some(t.ci_high), &w[key][1], CI, key);
        }
    }
}

#[test]
fn sample_sizes_match_statsmodels() {
    let r = reference();
    for c in crate::common::cases(&r, "power_one") {
        let f = |k: &str| c[k].as_f64().unwrap();
        let n = sample_size_one(f("p0"), f("p1"), f("alpha"), f("power")).unwrap();
        check(Some(n), &c["n"], STATS, "one-sample n");
        // The minimum detectable rate for that n is the target rate.
        let d = detectable_one(n, f("p0"), f("alpha"), f("power")).unwrap();
        let mdr = if f("p1") < f("p0") {
            d.min_detectable_rate_lower
        } else {
            d.min_detectable_rate_upper
        };
        assert!(
            (mdr.unwrap() - f("p1")).abs() < 1e-6,
            "{mdr:?} vs {}",
            f("p1")
        );
    }
    for c in crate::common::cases(&r, "power_two") {
        let f = |k: &str| c[k].as_f64().unwrap();
        let n = sample_size_two(f("p1"), f("p2"), f("alpha"), f("power"), f("ratio")).unwrap();
        check(Some(n), &c["n1"], STATS, "two-sample n1");
        let d = detectable_two(n, n * f("ratio"), f("p2"), f("alpha"), f("power")).unwrap();
        let mdr = if f("p1") < f("p2") {
            d.min_detectable_rate_lower
        } else {
            d.min_detectable_rate_upper
        };
        assert!((mdr.unwrap() - f("p1")).abs() < 1e-6);
    }
    // docs/methods.md §1: about 471 people against a fixed 20% to detect 15%, 906 per group.
    assert_eq!(sample_size_one(0.2, 0.15, 0.05, 0.8).unwrap().ceil(), 471.0);
    assert_eq!(
        sample_size_two(0.15, 0.2, 0.05, 0.8, 1.0).unwrap().ceil(),
        906.0
    );
}

#[test]
fn adjustments_match_statsmodels() {
    let r = reference();
    for c in crate::common::cases(&r, "adjust") {
        let p: Vec<f64> = c["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (m, k) in [
            (Adjustment::Holm, "holm"),
            (Adjustment::BenjaminiHochberg, "bh"),
        ] {
            let got = adjust(&p, m);
            let want = c[k].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{k}: one adjusted p per p");
            for (g, w) in got.iter().zip(want) {
                check(Some(*g), w, EXACT, k);
            }
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn swapping_groups_mirrors_the_difference(
            n1 in 1u64..400, n2 in 1u64..400, f1 in 0.0f64..=1.0, f2 in 0.0f64..=1.0
        ) {
            let x1 = ((n1 as f64) * f1).round() as u64;
            let x2 = ((n2 as f64) * f2).round() as u64;
            for m in [DiffMethod::Newcombe, DiffMethod::Wald] {
                let a = TwoByTwo { x1, n1, x2, n2 }.compare(0.95, m).unwrap();
                let b = TwoByTwo { x1: x2, n1: n2, x2: x1, n2: n1 }.compare(0.95, m).unwrap();
                prop_assert!((a.risk_difference.estimate + b.risk_difference.estimate).abs() < 1e-12);
                prop_assert!((a.risk_difference.limits().0 + b.risk_difference.limits().1).abs() < 1e-12);
                prop_assert!((a.risk_difference.limits().1 + b.risk_difference.limits().0).abs() < 1e-12);
                prop_assert!(a.risk_difference.limits().0 <= a.risk_difference.estimate + 1e-12 && a.risk_difference.estimate <= a.risk_difference.limits().1 + 1e-12);
                for t in [a.z_pooled, a.chi_square, a.chi_square_yates, a.fisher_exact] {
                    if let Some(p) = t.p_value {
                        prop_assert!((0.0..=1.0).contains(&p));
                    }
                }
                let (pa, pb) = (a.fisher_exact.p_value.unwrap(), b.fisher_exact.p_value.unwrap());
                prop_assert!(STATS.close(pa, pb), "fisher {pa} vs {pb}");
            }
        }
    }
}
