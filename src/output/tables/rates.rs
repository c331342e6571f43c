//! Rates as tables.

use serde_json::Value;

use super::array_records;
use crate::error::Result;
use crate::measure::Rates;
use crate::output::Tabular;
use crate::output::describe::{Column, Description, strings};
use crate::present::*;

/// The rates table, described once for the terminal, the notebook and the report, from a
/// rates result's JSON (as computed, or as the disclosure gate let it through).
pub(crate) fn description(j: &Value) -> Description {
    let by = strings(&j["by"]);
    let confidence = j["confidence"].as_f64().unwrap_or(0.95);
    let mut columns: Vec<Column> = by.iter().map(|b| Column::label(b, b)).collect();
    let mut ci = Column::interval("", confidence, ("ci_low", "ci_high"), Kind::Pct);
    if let Some(m) = j["ci_method"].as_str() {
        ci = ci.qualified(format!("({m})"));
    }
    columns.extend([
        Column::value("people in measure", "eligible", Kind::Count),
        Column::value("reoffenders", "reoffenders", Kind::Count),
        Column::value("rate", "rate", Kind::Pct),
        ci,
        Column::value("reoffences", "reoffences", Kind::Count).terminal_only(),
        Column::value(
            "reoffences per offender",
            "reoffences_per_offender",
            Kind::Num(2),
        ),
        Column::value("per reoffender", "reoffences_per_reoffender", Kind::Num(2)),
        Column::value("mean days to first", "mean_days_to_first", Kind::Num(0)),
        Column::value("median days to first", "median_days_to_first", Kind::Num(1)).terminal_only(),
    ]);
    if j["baseline_rate"].is_number() {
        columns.extend([
            Column::value("p (two-sided)", "baseline_p_two_sided", Kind::P).terminal_only(),
            Column::value("p (lower)", "baseline_p_less", Kind::P).terminal_only(),
            Column::value("p (higher)", "baseline_p_greater", Kind::P).terminal_only(),
        ]);
    }
    Description {
        title: "Proven reoffending within 12 months, by group".into(),
        columns,
        labels: by.len(),
    }
}

impl Rates {
    /// The result as a table (one row per group).
    fn table(&self) -> Table {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut t = description(&j).table(&array_records(&j, "groups"));
        if let Some(b) = self.baseline_rate {
            t.notes.push(format!(
                "p-values: exact binomial test of each group's rate against a fixed {}. A comparison with an external benchmark is descriptive, not an estimate of impact.",
                Kind::Pct.show(b)
            ));
        }
        t
    }
}

impl Tabular for Rates {
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }

    /// One row per group.
    fn to_csv(&self) -> Result<String> {
        let j = self.to_json()?;
        Ok(description(&j).with(array_records(&j, "groups")).csv())
    }
}
