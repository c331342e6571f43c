//! The cost-benefit model against a hand computation: tests/reference/costs.py computes the
//! comparison (scipy, statsmodels), the offence mix and the model from its definition for a
//! three-year horizon with persistence 0.5, optimism bias 20% and 2 actual offences per
//! proven one, for both effect bases, and simulates the Monte Carlo interval independently
//! with numpy (costs.json; fixtures in tests/fixtures/costs/).

use crate::common::{self, Tolerance, assert_close};

use serde_json::Value;

fn here(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

// Relative to the larger figure, which is floored at 1e-12 (so the absolute floor is the
// relative tolerance times 1e-12).
/// Sums and figures passed through unchanged.
const EXACT: Tolerance = Tolerance::new(1e-12, 1e-12 * 1e-12);
/// The model's figures against the reference's.
const MODEL: Tolerance = Tolerance::new(1e-9, 1e-9 * 1e-12);

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn costs_agree_with_a_hand_computation_for_both_effect_bases() {
    let r = common::reference_json("costs.json");
    let bases = common::cases(&r, "bases");
    assert_eq!(bases.len(), 2);
    // The seeded Monte Carlo, pinned: the same inputs and seed give these exact figures.
    let pinned = [
        ("frequency", 10904.89599609914, 443342.99487941264, 0.9811),
        ("rate", 3637.7037906249193, 386782.0446403577, 0.9767),
    ];
    for (want, pin) in bases.iter().zip(pinned) {
        let basis = want["effect"].as_str().unwrap();
        assert_eq!(basis, pin.0);
        let cfg = here(&format!("tests/fixtures/costs/evaluation_{basis}.toml"));
        let got = common::run_json(&["costs", "--config", &cfg, "--format", "json"]);
        assert_eq!(got["people"], r["people"]);
        assert_eq!(got["horizon_years"], 3);
        assert_close(
            f(&got["value_per_reoffence"]),
            f(&r["value_per_reoffence"]),
            EXACT,
            "value per reoffence",
        );
        for key in [
            "avoided_per_person",
            "avoided_reoffences",
            "gross_savings",
            "programme_cost",
            "net_savings",
            "benefit_cost_ratio",
            "break_even_rate_reduction",
        ] {
            assert_close(
                f(&got[key]),
                f(&want[key]),
                MODEL,
                &format!("{basis} {key}"),
            );
        }
        assert_eq!(got["payback_year"], want["payback_year"], "{basis}");
        // Every money figure split by kind of money adds up to the totals; the fixture's
        // saving (officer time) is non-cashable by default, its cost cashable, crime economic.
        let by = &got["by_category"];
        for key in ["gross_savings", "programme_cost", "net_savings"] {
            let sum: f64 = [
                "cashable_fiscal",
                "non_cashable_fiscal",
                "economic_and_social",
            ]
            .iter()
            .map(|k| f(&by[*k][key]))
            .sum();
            assert_close(sum, f(&got[key]), EXACT, &format!("{basis} {key}"));
        }
        assert_close(
            f(&by["cashable_fiscal"]["programme_cost"]),
            f(&want["programme_cost"]),
            MODEL,
            &format!("{basis} cashable programme cost"),
        );
        assert_eq!(f(&by["cashable_fiscal"]["gross_savings"]), 0.0);
        assert_eq!(got["optimism_bias"], 0.2);
        assert_eq!(got["persistence"], 0.5);
        assert_eq!(got["proven_to_actual"], 2.0);
        assert!(
            got["discounting"]
                .as_str()
                .unwrap()
                .contains("years 1 to 2 are discounted at 3.5%")
        );
        let h = got["headline"].as_str().unwrap();
        assert!(
            h.starts_with("Estimated value")
                && h.contains("cashable fiscal")
                && !h.contains("savings"),
            "{h}"
        );
        assert!(f(&got["monte_carlo_se"]["ci_low"]) > 0.0);
        // Monte Carlo: within four standard deviations of an independent simulation of the
        // same number of draws (400 numpy replicates give the mean and spread).
        for (key, mc) in [
            ("net_savings_ci_low", "mc_ci_low"),
            ("net_savings_ci_high", "mc_ci_high"),
            ("probability_net_positive", "mc_probability_net_positive"),
        ] {
            let (mean, sd) = (f(&want[mc][0]), f(&want[mc][1]));
            let g = f(&got[key]);
            assert!(
                (g - mean).abs() <= 4.0 * sd,
                "{basis} {key}: {g} vs {mean} +/- {sd}"
            );
        }
        assert_eq!(
            f(&got["net_savings_ci_low"]),
            pin.1,
            "{basis}: seeded interval"
        );
        assert_eq!(
            f(&got["net_savings_ci_high"]),
            pin.2,
            "{basis}: seeded interval"
        );
        assert_eq!(f(&got["probability_net_positive"]), pin.3, "{basis}");
    }
}
