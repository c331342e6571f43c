//! CostBenefit as tables.

use serde_json::{Value, json};

use super::array_records;
use crate::costs::CostBenefit;
use crate::costs::{MONTE_CARLO_LEVEL, round_to_se, two_figures};
use crate::error::Result;
use crate::format::pounds;
use crate::output::Tabular;
use crate::output::describe::{Column, Described, Description, Row, kinded, measure, measures};
use crate::present::*;

/// Every cost and value figure, described once for the terminal, the notebook and the
/// report, from the rows of a cost-benefit's `items`.
pub(crate) fn items_description() -> Description {
    Description {
        title: "Every figure with its price year and source".into(),
        columns: vec![
            Column::label("item", "name"),
            Column::value("value", "value", Kind::Num(2)),
            Column::value("price year", "price_year", Kind::Count),
            Column::value("uprated", "uprated_value", Kind::Num(2)),
            Column::label("source", "source"),
        ],
        labels: 1,
    }
}

/// The estimated value with the settings used, described once for the terminal, the notebook
/// and the report, from a cost-benefit's JSON (as computed, or as the disclosure gate let it
/// through). The interval of the net value is rounded to its Monte Carlo error; the terminal
/// reads it in one row with that error (and the share above zero with its error, and the
/// avoided reoffences per person), the report publishes each limit on its own row.
// Over 80 lines: the rows in the order a reader meets them.
pub(crate) fn headline(c: &Value) -> Described {
    let x = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    let se = &c["monte_carlo_se"];
    let rounded = |key: &str, se_key: &str| match (x(c, key), x(se, se_key)) {
        (Some(v), Some(e)) => json!(round_to_se(v, e)),
        _ => c.get(key).cloned().unwrap_or(Value::Null),
    };
    let row = |label: &str, key: &str, kind: Kind| measure(label, kinded(c.get(key), kind));
    let mc = level(MONTE_CARLO_LEVEL);
    let mut rows = vec![
        Row::both(row(
            &format!(
                "people the value is counted for ({})",
                c["people_basis"].as_str().unwrap_or("")
            ),
            "people",
            Kind::Count,
        )),
        Row::both(row(
            "people diverted in all",
            "people_diverted_total",
            Kind::Count,
        )),
        Row::terminal(row(
            "avoided proven reoffences per person",
            "avoided_per_person",
            Kind::Num(3),
        )),
        Row::both(row(
            "avoided offences in all (actual, over the horizon)",
            "avoided_reoffences",
            Kind::Num(1),
        )),
        Row::both(row(
            "value of a proven reoffence",
            "value_per_reoffence",
            Kind::Money,
        )),
        Row::both(row(
            if c["horizon_years"] == 1 {
                "gross value (one year, undiscounted)"
            } else {
                "gross value (discounted)"
            },
            "gross_savings",
            Kind::Money,
        )),
        Row::both(row(
            "programme cost (with optimism bias)",
            "programme_cost",
            Kind::Money,
        )),
        Row::both(row("net value", "net_savings", Kind::Money)),
    ];
    for (key, label) in [
        (
            "cashable_fiscal",
            "of which cashable fiscal (budgets released: the only savings)",
        ),
        (
            "non_cashable_fiscal",
            "of which non-cashable fiscal (e.g. officer time, not cash)",
        ),
        (
            "economic_and_social",
            "of which economic and social (harm avoided)",
        ),
    ] {
        rows.push(Row::both(measure(
            label,
            kinded(c["by_category"][key].get("net_savings"), Kind::Money),
        )));
    }
    let (lo, hi) = (
        rounded("net_savings_ci_low", "ci_low"),
        rounded("net_savings_ci_high", "ci_high"),
    );
    let money = |v: Option<f64>| v.map_or("[x]".to_string(), pounds);
    rows.extend([
        Row::terminal(measure(
            format!("{mc} interval of net value (Monte Carlo)"),
            json!(format!(
                "{} to {} (Monte Carlo standard error about {} and {})",
                money(lo.as_f64()),
                money(hi.as_f64()),
                money(x(se, "ci_low").map(two_figures)),
                money(x(se, "ci_high").map(two_figures))
            )),
        )),
        Row::report(measure(
            format!("net value, {mc} low (Monte Carlo, rounded to its error)"),
            kinded(Some(&lo), Kind::Money),
        )),
        Row::report(measure(
            format!("net value, {mc} high (Monte Carlo, rounded to its error)"),
            kinded(Some(&hi), Kind::Money),
        )),
        Row::terminal(measure(
            "share of simulations with net value > 0",
            json!(format!(
                "{} (Monte Carlo standard error {:.1} points)",
                x(c, "probability_net_positive").map_or("[x]".to_string(), |p| Kind::Pct.show(p)),
                x(se, "probability_net_positive").unwrap_or(f64::NAN) * 100.0
            )),
        )),
        Row::report(row(
            "share of simulations with net value > 0",
            "probability_net_positive",
            Kind::Pct,
        )),
        Row::both(row(
            "benefit-cost ratio",
            "benefit_cost_ratio",
            Kind::Num(2),
        )),
        Row::both(row(
            "break-even reduction in the rate, all value counted (points)",
            "break_even_rate_reduction",
            Kind::Pts,
        )),
        Row::both(row(
            "break-even reduction in the rate, cash alone (points; blank: nothing saved is cash)",
            "break_even_rate_reduction_cashable",
            Kind::Pts,
        )),
        Row::both(row("horizon (years)", "horizon_years", Kind::Count)),
        Row::both(row("discounting", "discounting", Kind::Count)),
        Row::both(row("optimism bias on costs", "optimism_bias", Kind::Pct)),
        Row::both(row(
            "persistence of the effect (a year)",
            "persistence",
            Kind::Pct,
        )),
        Row::both(row(
            "actual offences per proven offence",
            "proven_to_actual",
            Kind::Num(2),
        )),
    ]);
    Described {
        description: measures("Estimated value by kind of money, and the settings used"),
        rows,
    }
}

impl CostBenefit {
    /// Headline and tornado tables.
    fn all_tables(&self) -> Vec<Table> {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // tables would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut t = headline(&j).table();
        t.notes.push(self.headline.clone());
        for c in &self.caveats {
            t.notes.push(format!("Note: {c}"));
        }
        let tor = Description::of(
            "One-way sensitivity of net value",
            1,
            &[
                ("input", "input", Kind::Count),
                ("net (low)", "net_low", Kind::Money),
                ("net (high)", "net_high", Kind::Money),
                ("swing", "swing", Kind::Money),
            ],
        )
        .with(array_records(&j, "tornado"))
        .table();
        let mut it = items_description().table(&array_records(&j, "items"));
        it.align[4] = crate::present::Align::Left;
        vec![t, tor, it]
    }
}

impl Tabular for CostBenefit {
    fn tables(&self) -> Vec<Table> {
        self.all_tables()
    }

    /// The estimated value and the settings used.
    fn to_csv(&self) -> Result<String> {
        Ok(headline(&self.to_json()?).csv())
    }
}
