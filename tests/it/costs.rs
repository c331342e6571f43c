//! Cost-benefit: hand-computed cases, determinism, convergence, break-even, and errors.

use crate::common;

use common::*;
use reoffending::compare::{Against, CompareOptions, Comparison};
use reoffending::costs::{
    CostBenefit, CostConfig, Deflator, EffectBasis, Item, ItemKind, UnitCosts, discount_factor,
};
use reoffending::{Evaluation, Inputs, Rules};

/// Pilot: 100 people, 10 reoffend once (theft). Comparison: 100 people, 20 reoffend: 10 with
/// one theft, 10 with one robbery plus one theft.
fn setup(dir: &std::path::Path) -> (Evaluation, Comparison) {
    let mut c = String::from("person_id,cohort,index_date\n");
    let mut o = String::from("person_id,offence_date,disposal_date,offence_type\n");
    for i in 0..100 {
        c.push_str(&format!(
            "T{i},divert,2021-01-01\nC{i},comparison,2021-01-01\n"
        ));
        if i < 10 {
            o.push_str(&format!("T{i},2021-02-01,2021-03-01,theft\n"));
            o.push_str(&format!("C{i},2021-02-01,2021-03-01,theft\n"));
        } else if i < 20 {
            o.push_str(&format!(
                "C{i},2021-02-01,2021-03-01,robbery\nC{i},2021-04-01,2021-05-01,theft\n"
            ));
        }
    }
    std::fs::write(dir.join("c.csv"), c).unwrap();
    std::fs::write(dir.join("o.csv"), o).unwrap();
    let inputs = Inputs {
        cohort: dir.join("c.csv"),
        offences: dir.join("o.csv"),
        load: options("2023-01-01"),
    };
    let eval = Evaluation::load(&inputs, Rules::default()).unwrap();
    let cmp = Comparison::of(
        &eval.data.people,
        &eval.outcomes,
        &CompareOptions {
            treatment: "divert".to_string(),
            against: Against::Group("comparison".into()),
            ..CompareOptions::default()
        },
    )
    .unwrap();
    (eval, cmp)
}

fn unit_costs(dir: &std::path::Path, rows: &str) -> UnitCosts {
    let p = dir.join("unit.csv");
    std::fs::write(
        &p,
        format!("offence_type,value,unit,price_year,source,low,high,category\n{rows}"),
    )
    .unwrap();
    UnitCosts::from_csv(&p).unwrap()
}

fn config(draws: usize) -> CostConfig {
    CostConfig {
        price_year: 2023,
        unit_costs: "unit.csv".into(),
        deflator: "deflator.csv".into(),
        effect: EffectBasis::Frequency,
        proven_to_actual: 1.0,
        horizon_years: 1,
        persistence: 0.0,
        optimism_bias: 0.0,
        people: None,
        draws,
        seed: 7,
        items: vec![Item {
            name: "course".into(),
            kind: ItemKind::Cost,
            quantity: 1.0,
            unit_cost: 100.0,
            low: Some(80.0),
            high: Some(120.0),
            price_year: 2021,
            source: "test".into(),
            category: None, // a cost: cashable fiscal by default
            placeholder: false,
        }],
    }
}

fn deflator() -> Deflator {
    Deflator::from_pairs(&[(2015, 75.15), (2021, 85.64), (2023, 96.25)])
}

#[test]
fn discount_factors_follow_the_green_book() {
    assert_eq!(discount_factor(0), 1.0);
    assert!((discount_factor(1) - 1.0 / 1.035).abs() < 1e-15);
    assert!((discount_factor(30) - 1.035f64.powi(-30)).abs() < 1e-15);
    assert!((discount_factor(31) - 1.035f64.powi(-30) / 1.03).abs() < 1e-15);
}

/// The cost-benefit of `effect` on `eval` with the test deflator.
fn value(
    eval: &Evaluation,
    config: CostConfig,
    unit_costs: &UnitCosts,
    effect: &Comparison,
) -> reoffending::Result<CostBenefit> {
    CostBenefit::of(
        &eval.data,
        &eval.outcomes,
        &reoffending::costs::CostOptions {
            config,
            unit_costs: unit_costs.clone(),
            deflator: deflator(),
            effect: effect.clone(),
        },
    )
}

#[test]
fn hand_computed_two_offence_type_valuation() {
    let dir = tempfile::tempdir().unwrap();
    let (eval, cmp) = setup(dir.path());
    let u = unit_costs(
        dir.path(),
        "theft,1000,GBP,2015,HO,1000,1000,es\nrobbery,11320,GBP,2015,HO,11320,11320,es\n",
    );
    let cb = value(&eval, config(1000), &u, &cmp).unwrap();
    // Comparison mix: 20 thefts, 10 robberies -> value = (2/3 * 1000 + 1/3 * 11320) * 96.25/75.15.
    let up = 96.25 / 75.15;
    let value = (2.0 / 3.0 * 1000.0 + 1.0 / 3.0 * 11320.0) * up;
    assert!(
        (cb.value_per_reoffence - value).abs() < 1e-9,
        "{} vs {value}",
        cb.value_per_reoffence
    );
    // Reoffences per person: pilot 0.10, comparison 0.30 -> 0.2 avoided per person.
    assert!((cb.avoided_per_person - 0.2).abs() < 1e-12);
    assert!((cb.avoided_reoffences - 20.0).abs() < 1e-9);
    let gross = 100.0 * 0.2 * value;
    let cost = 100.0 * 100.0 * 96.25 / 85.64;
    assert!((cb.gross_savings - gross).abs() < 1e-6);
    assert!((cb.programme_cost - cost).abs() < 1e-6);
    assert!((cb.net_savings - (gross - cost)).abs() < 1e-6);
    assert!((cb.benefit_cost_ratio.unwrap() - gross / cost).abs() < 1e-9);
    // Every money figure is traced to a row with its price year and source.
    let robbery = cb
        .items
        .iter()
        .find(|i| i.name.contains("robbery"))
        .unwrap();
    assert_eq!((robbery.price_year, robbery.source.as_str()), (2015, "HO"));
    assert!((robbery.uprated_value - 11320.0 * up).abs() < 1e-9);
}

#[test]
fn break_even_makes_net_savings_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (eval, cmp) = setup(dir.path());
    let u = unit_costs(
        dir.path(),
        "theft,1000,GBP,2015,HO,800,1200,es\nrobbery,11320,GBP,2015,HO,9000,14000,es\n",
    );
    let cb = value(&eval, config(1000), &u, &cmp).unwrap();
    let be = cb.break_even_rate_reduction.unwrap();
    // At the break-even rate reduction, avoided reoffences per person = be * reoffences per
    // reoffender (comparison: 30 reoffences / 20 reoffenders) and net savings are zero.
    let avoided = be * 1.5;
    let net = 100.0 * avoided * cb.value_per_reoffence - cb.programme_cost;
    assert!(net.abs() < 1e-6, "{net}");
}

#[test]
fn monte_carlo_is_deterministic_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let (eval, cmp) = setup(dir.path());
    let u = unit_costs(
        dir.path(),
        "theft,1000,GBP,2015,HO,800,1200,es\nrobbery,11320,GBP,2015,HO,9000,13640,es\n",
    );
    let run = |draws: usize, seed: u64| {
        let mut c = config(draws);
        c.seed = seed;
        value(&eval, c.clone(), &u, &cmp).unwrap()
    };
    let a = run(2000, 1);
    let b = run(2000, 1);
    assert_eq!(a, b, "same seed, same result");
    assert_ne!(a.net_savings_ci_low, run(2000, 2).net_savings_ci_low);
    // The interval's midpoint settles as draws grow (symmetric ranges: towards the point estimate).
    let err = |r: &CostBenefit| {
        ((r.net_savings_ci_low + r.net_savings_ci_high) / 2.0 - r.net_savings).abs()
    };
    let small: f64 = (1..=5).map(|s| err(&run(200, s))).sum::<f64>() / 5.0;
    let large: f64 = (1..=5).map(|s| err(&run(20000, s))).sum::<f64>() / 5.0;
    assert!(large < small, "{large} should be below {small}");
    assert!(a.probability_net_positive > 0.0 && a.probability_net_positive <= 1.0);
}

#[test]
fn missing_price_year_and_unknown_offence_type_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (eval, cmp) = setup(dir.path());
    let u = unit_costs(dir.path(), "theft,1000,GBP,2015,HO,,,es\n");
    let e = value(&eval, config(1000), &u, &cmp).unwrap_err();
    assert!(e.to_string().contains("`robbery`"), "{e}");
    let u = unit_costs(
        dir.path(),
        "theft,1000,GBP,2012,HO,,,es\nrobbery,1,GBP,2015,HO,,,es\n",
    );
    let e = value(&eval, config(1000), &u, &cmp).unwrap_err();
    assert!(
        e.to_string().contains("2012") && e.to_string().contains("theft"),
        "{e}"
    );
}

#[test]
fn the_headline_is_rounded_names_its_placeholders_and_breaks_even_on_cash_apart() {
    let root = crate::common::sample_dir();
    let v = crate::common::run_json(&[
        "costs",
        "--config",
        &root.join("evaluation.toml").display().to_string(),
        "--format",
        "json",
    ]);
    let h = v["headline"].as_str().unwrap();
    // Two significant figures, never to the pound; a share of simulations, not a probability.
    let net = v["net_savings"].as_f64().unwrap();
    let about = reoffending::format::pounds(reoffending::costs::about(net));
    assert!(h.contains(&format!("about {about} net")), "{h}");
    assert!(
        h.contains("% of simulations above zero") && !h.contains("probability"),
        "{h}"
    );
    assert!(
        h.contains(
            "placeholder figures: Police officer time saved per diversion; Diversion course"
        ),
        "{h}"
    );
    // The sample saves no cash (officer time is not cash, harm avoided is not a budget): no
    // reduction pays back the course on cash alone, while all value counted breaks even.
    assert!(v["break_even_rate_reduction_cashable"].is_null());
    assert!(v["break_even_rate_reduction"].as_f64().unwrap() > 0.0);
}
