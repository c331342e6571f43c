//! Monitor as tables.

use serde_json::Value;

use super::array_records;
use crate::error::Result;
use crate::monitor::Monitor;
use crate::output::Tabular;
use crate::output::describe::{Cell, Column, Description};
use crate::present::*;

/// A quarter's rates by day 91, 182 and 273 in one cell (`-` for a day not yet reached by
/// everyone in it).
fn rates_by_day(g: &Value) -> Option<String> {
    let at = |d: &str| {
        g["rate_at"][d]["rate"]
            .as_f64()
            .map_or("-".to_string(), |r| Kind::Pct.show(r))
    };
    Some(format!("{} / {} / {}", at("91"), at("182"), at("273")))
}

/// The monitoring table, described once for the terminal, the notebook and the report, from
/// a monitoring result's JSON (as computed, or as the disclosure gate let it through).
pub(crate) fn description(j: &Value) -> Description {
    let confidence = j["confidence"].as_f64().unwrap_or(0.95);
    Description {
        title: "Interim monitoring".into(),
        columns: vec![
            Column::label("cohort", "cohort"),
            Column::label("quarter", "period"),
            Column::value("people", "people", Kind::Count),
            Column::value("full follow-up", "full_follow_up", Kind::Count),
            Column::value("reoffended so far", "events_so_far", Kind::Count),
            Column::value("estimated 12-month rate", "estimate_12m", Kind::Pct),
            Column::interval("", confidence, ("ci_low", "ci_high"), Kind::Pct),
            Column::value("observed rate", "observed_rate", Kind::Pct),
            Column::new("rate by day 91 / 182 / 273", Cell::Composed(rates_by_day)),
            Column::value("projected 12-month rate", "projected_12m", Kind::Pct),
            Column::interval(
                "projection",
                confidence,
                ("projected_low", "projected_high"),
                Kind::Pct,
            ),
        ],
        labels: 2,
    }
}

impl Monitor {
    /// As a table.
    fn table_with_projections(&self) -> Table {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut t = description(&j).table(&array_records(&j, "groups"));
        t.notes.push(
            "Estimates for recent quarters rest on partial follow-up (Kaplan-Meier). Rates by day 91, 182 and 273 \
             are shown once everyone in the quarter has been followed that long, so quarters can be compared at equal \
             follow-up. A projection borrows the rest of the curve from a reference group and assumes its risk applies \
             (see projection_basis); it is not an observed rate."
                .into(),
        );
        t
    }
}

impl Tabular for Monitor {
    fn tables(&self) -> Vec<Table> {
        vec![self.table_with_projections()]
    }

    /// One row per cohort and quarter.
    /// One row per cohort and quarter.
    fn to_csv(&self) -> Result<String> {
        let j = self.to_json()?;
        Ok(description(&j).with(array_records(&j, "groups")).csv())
    }
}
