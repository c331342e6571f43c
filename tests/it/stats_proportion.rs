//! One-proportion intervals and the exact binomial test against statsmodels and scipy.
//!
//! Reference values: tests/reference/proportions.json, made by
//! tests/reference/proportions.py (statsmodels `proportion_confint`, scipy `binomtest`).

use reoffending::stats::{CiMethod, binomial_test, proportion_ci};
use serde_json::Value;

use crate::common::{Tolerance, assert_close};

fn reference() -> Value {
    crate::common::reference_json("proportions.json")
}

/// Closed-form intervals: 1e-9 relative, 1e-15 absolute.
const CLOSED_FORM: Tolerance = Tolerance::new(1e-9, 1e-15);
/// Beta quantiles (iterative): 1e-6 relative, 1e-15 absolute.
const BETA_QUANTILE: Tolerance = Tolerance::new(1e-6, 1e-15);
/// Binomial test p-values: 1e-8 relative, 1e-14 absolute.
const BINOMIAL_P: Tolerance = Tolerance::new(1e-8, 1e-14);

#[test]
fn intervals_match_statsmodels() {
    let r = reference();
    let cases = crate::common::cases(&r, "intervals");
    assert!(cases.len() >= 100);
    for c in cases {
        let (x, n) = (c["x"].as_u64().unwrap(), c["n"].as_u64().unwrap());
        let conf = c["confidence"].as_f64().unwrap();
        let method: CiMethod = c["method"].as_str().unwrap().parse().unwrap();
        // Closed forms to 1e-9; beta quantiles (iterative) to 1e-6.
        let tol = match method {
            CiMethod::Exact | CiMethod::Jeffreys => BETA_QUANTILE,
            _ => CLOSED_FORM,
        };
        let iv = proportion_ci(x, n, conf, method).unwrap().unwrap();
        let (lo, hi) = (c["low"].as_f64().unwrap(), c["high"].as_f64().unwrap());
        assert_close(iv.low, lo, tol, &format!("{method} {x}/{n} {conf}: low"));
        assert_close(iv.high, hi, tol, &format!("{method} {x}/{n} {conf}: high"));
    }
}

#[test]
fn binomial_test_matches_scipy() {
    let r = reference();
    for c in crate::common::cases(&r, "binomial_tests") {
        let (x, n) = (c["x"].as_u64().unwrap(), c["n"].as_u64().unwrap());
        let p0 = c["p0"].as_f64().unwrap();
        let t = binomial_test(x, n, p0).unwrap();
        for (got, key) in [
            (t.p_two_sided, "two_sided"),
            (t.p_less, "less"),
            (t.p_greater, "greater"),
        ] {
            let want = c[key].as_f64().unwrap();
            assert_close(got, want, BINOMIAL_P, &format!("{x}/{n} vs {p0} {key}"));
        }
    }
}

#[test]
fn empty_group_has_no_interval_and_bad_input_is_an_error() {
    assert!(
        proportion_ci(0, 0, 0.95, CiMethod::Wilson)
            .unwrap()
            .is_none()
    );
    assert!(proportion_ci(3, 2, 0.95, CiMethod::Wilson).is_err());
    assert!(proportion_ci(1, 2, 1.0, CiMethod::Wilson).is_err());
    assert!(binomial_test(1, 10, 0.0).is_err());
    assert!(binomial_test(1, 10, 1.5).is_err());
    assert!(binomial_test(0, 0, 0.2).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn intervals_contain_the_estimate_and_stay_in_unit_interval(
            n in 1u64..5000, frac in 0.0f64..=1.0, conf in 0.5f64..0.999, m in 0usize..5
        ) {
            let x = ((n as f64) * frac).round() as u64;
            let method = CiMethod::ALL[m];
            let iv = proportion_ci(x, n, conf, method).unwrap().unwrap();
            let p = x as f64 / n as f64;
            prop_assert!(iv.low >= -1e-12 && iv.high <= 1.0 + 1e-12);
            prop_assert!(iv.low <= iv.high);
            // Jeffreys is equal-tailed on a beta posterior: at x = 0 or n its bound may sit
            // just inside; every other method contains the estimate.
            if method != CiMethod::Jeffreys || (x > 0 && x < n) {
                prop_assert!(iv.low <= p + 1e-12 && p <= iv.high + 1e-12, "{method} {x}/{n}: {iv:?}");
            }
        }

        #[test]
        fn p_values_are_probabilities(n in 1u64..3000, frac in 0.0f64..=1.0, p0 in 0.01f64..0.99) {
            let x = ((n as f64) * frac).round() as u64;
            let t = binomial_test(x, n, p0).unwrap();
            for p in [t.p_two_sided, t.p_less, t.p_greater] {
                prop_assert!((0.0..=1.0).contains(&p));
            }
            prop_assert!(t.p_less + t.p_greater >= 1.0 - 1e-9);
        }
    }
}

#[test]
fn benchmark_verdict_and_interval_never_disagree() {
    // Every n from 20 to 500 and every count, against Thames Valley's 20% and two other
    // rates: the interval excludes the benchmark exactly when the central exact p < 5%.
    for p0 in [0.2, 0.07, 0.5] {
        for n in 20..=500u64 {
            for x in 0..=n {
                let e = reoffending::stats::exact_against(x, n, p0, 0.95).unwrap();
                assert_eq!(
                    e.significant,
                    e.p_central < 0.05,
                    "{x} of {n} against {p0}: interval {:?}, p {}",
                    e.interval,
                    e.p_central
                );
                assert!(
                    e.interval.low <= x as f64 / n as f64 && x as f64 / n as f64 <= e.interval.high
                );
            }
        }
    }
}
