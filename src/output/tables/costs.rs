//! CostBenefit as tables.

use serde_json::Value;

use super::{array_records, records_or_plain};
use crate::costs::CostBenefit;
use crate::costs::{net_ci, two_figures};
use crate::error::Result;
use crate::format::pounds;
use crate::output::Tabular;
use crate::output::describe::{Column, Description};
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

impl CostBenefit {
    /// Headline and tornado tables.
    // Over 80 lines: the cost tables in reading order (headline, by kind of money, items, tornado).
    fn all_tables(&self) -> Vec<Table> {
        let money = |x: f64| Some(Kind::Money.show(x));
        let mut t = Table::new(
            format!("Estimated value ({} prices)", self.price_year),
            &["measure", "value"],
            1,
        );
        let (lo, hi) = (
            net_ci(self.net_savings_ci_low, self.monte_carlo_se.ci_low),
            net_ci(self.net_savings_ci_high, self.monte_carlo_se.ci_high),
        );
        let discounted = if self.horizon_years == 1 {
            "undiscounted, one year"
        } else {
            "discounted"
        };
        let mut rows: Vec<(String, Option<String>)> = vec![
            (
                format!("people the value is counted for: {}", self.people_basis),
                Some(self.people.to_string()),
            ),
            (
                "people diverted in all".into(),
                Some(self.people_diverted_total.to_string()),
            ),
            (
                "avoided proven reoffences per person".into(),
                Some(Kind::Num(3).show(self.avoided_per_person)),
            ),
            (
                "avoided offences in all (actual, over the horizon)".into(),
                Some(Kind::Num(1).show(self.avoided_reoffences)),
            ),
            (
                "value of a proven reoffence".into(),
                money(self.value_per_reoffence),
            ),
            (
                format!("gross value ({discounted})"),
                money(self.gross_savings),
            ),
            (
                "programme cost (with optimism bias)".into(),
                money(self.programme_cost),
            ),
            ("net value".into(), money(self.net_savings)),
        ];
        for (kind, f) in self.by_category.all() {
            rows.push((
                format!("  of which {} (net)", kind.label()),
                money(f.net_savings),
            ));
        }
        rows.extend([
            (
                format!(
                    "{} interval of net value (Monte Carlo)",
                    level(crate::costs::MONTE_CARLO_LEVEL)
                ),
                Some(format!(
                    "{} to {} (Monte Carlo standard error about {} and {})",
                    pounds(lo),
                    pounds(hi),
                    pounds(two_figures(self.monte_carlo_se.ci_low)),
                    pounds(two_figures(self.monte_carlo_se.ci_high))
                )),
            ),
            (
                "share of simulations with net value > 0".into(),
                Some(format!(
                    "{:.0}% (Monte Carlo standard error {:.1} points)",
                    self.probability_net_positive * 100.0,
                    self.monte_carlo_se.probability_net_positive * 100.0
                )),
            ),
            ("benefit-cost ratio".into(), num(self.benefit_cost_ratio, 2)),
            (
                "break-even reduction in the rate, all value counted".into(),
                self.break_even_rate_reduction
                    .map(|b| format!("{:.1} percentage points", b * 100.0)),
            ),
            (
                "break-even reduction in the rate, cash alone".into(),
                Some(self.break_even_rate_reduction_cashable.map_or_else(
                    || "none: nothing saved is cash".to_string(),
                    |b| format!("{:.1} percentage points", b * 100.0),
                )),
            ),
            (
                "horizon".into(),
                Some(format!("{} year(s)", self.horizon_years)),
            ),
            ("discounting".into(), Some(self.discounting.clone())),
            (
                "optimism bias on costs".into(),
                Some(format!("{:.0}%", self.optimism_bias * 100.0)),
            ),
            (
                "persistence of the effect".into(),
                Some(format!("{:.0}% a year", self.persistence * 100.0)),
            ),
            (
                "actual offences per proven offence".into(),
                Some(format!("{}", self.proven_to_actual)),
            ),
        ]);
        for (k, v) in rows {
            t.push(vec![Some(k), v]);
        }
        t.notes.push(self.headline.clone());
        for c in &self.caveats {
            t.notes.push(format!("Note: {c}"));
        }
        let mut tor = Table::new(
            "One-way sensitivity of net value",
            &["input", "net (low)", "net (high)", "swing"],
            1,
        );
        for s in &self.tornado {
            tor.push(vec![
                Some(s.input.clone()),
                money(s.net_low),
                money(s.net_high),
                money(s.swing),
            ]);
        }
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut it = items_description().table(&array_records(&j, "items"));
        it.align[4] = crate::present::Align::Left;
        vec![t, tor, it]
    }
}

impl Tabular for CostBenefit {
    fn tables(&self) -> Vec<Table> {
        self.all_tables()
    }

    /// One row per cost or value item.
    fn records(&self) -> Result<Vec<Value>> {
        Ok(records_or_plain(&self.to_json()?, "items"))
    }
}
