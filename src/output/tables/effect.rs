//! Effects (every adjusted design) as tables.

use serde_json::{Value, json};

use super::array_records;
use crate::effect::Effects;
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Described, Description, Row, kinded, measure, measures};
use crate::present::*;

/// Every design side by side, described once for the terminal, the notebook and the report,
/// from an effects result's JSON (as computed, or as the disclosure gate let it through):
/// the designs of the binary 12-month measure in percentage points (the report's first row
/// the headline, the matched comparison clustered by set), or with `frequency` those of
/// reoffences per person (the terminal's second table).
pub(crate) fn designs(e: &Value, frequency: bool) -> Described {
    let confidence = e["confidence"].as_f64().unwrap_or(0.95);
    let (title, estimate, kind, key) = if frequency {
        (
            "Every design: proven reoffences per person, pilot minus comparison",
            "estimate",
            Kind::Num(3),
            "frequency_designs",
        )
    } else {
        (
            "Every design: 12-month proven reoffending, pilot minus comparison (percentage points)",
            "estimate (points)",
            Kind::Pts,
            "designs",
        )
    };
    let mut rows = Vec::new();
    let h = &e["headline"];
    if !frequency && h.is_object() {
        let mut r = h.clone();
        r["design"] = json!("headline: matched, clustered by set");
        r["estimand"] = json!("ATT");
        rows.push(Row::report(r));
    }
    rows.extend(Row::all(array_records(e, key)));
    Described {
        description: Description {
            title: title.into(),
            columns: vec![
                Column::label("design", "design"),
                Column::label("estimand", "estimand"),
                Column::value(estimate, "estimate", kind),
                Column::value("se", "se", kind).terminal_only(),
                Column::interval("", confidence, ("ci_low", "ci_high"), kind),
                Column::value("p-value", "p_value", Kind::P),
                Column::value("effective pilot people", "ess_treated", Kind::Num(1)),
                Column::value("effective comparison people", "ess_control", Kind::Num(1)),
                Column::value("largest |SMD|", "max_abs_smd", Kind::Num(3)),
            ],
            labels: 2,
        },
        rows,
    }
}

/// The propensity scores of the two groups by bin, described once for the terminal, the
/// notebook and the report (whose gate merges small bins, which its `title` says), from the
/// rows of an effects result's `overlap_diagnostics.bins`.
pub(crate) fn overlap_description(title: &str) -> Description {
    Description {
        title: title.into(),
        columns: vec![
            Column::value("score from", "low", Kind::Num(2)),
            Column::value("score to", "high", Kind::Num(2)),
            Column::value("pilot people", "treated", Kind::Count),
            Column::value("comparison people", "controls", Kind::Count),
        ],
        labels: 0,
    }
}

impl Effects {
    fn all_tables(&self) -> Vec<Table> {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // tables would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut main = designs(&j, false).table();
        if let Some(h) = &self.headline {
            main.notes.push(format!(
                "Headline (the matched comparison of `match`): {:+.1} points, interval {:+.1} to {:+.1}, {}, \
                 standard error clustered by matched set (CR1, {} sets).",
                h.difference.estimate * 100.0,
                h.difference.ci_low * 100.0,
                h.difference.ci_high * 100.0,
                crate::format::p_clause(&pval(Some(h.difference.p_value)).unwrap_or_default()),
                h.difference.clusters
            ));
        }
        main.notes.push(self.summary.clone());
        main.notes.push(self.se_note.to_string());
        for w in &self.warnings {
            main.notes.push(format!("Warning: {w}"));
        }
        let freq = designs(&j, true).table();
        let o = &j["order_sensitivity"];
        let order = measures(
            "Order sensitivity: the greedy matching with the pilot people taken in random orders",
        )
        .with(vec![
            measure(
                "runs (seed)",
                json!(format!("{} ({})", o["runs"], o["seed"])),
            ),
            measure(
                "matched estimate, default order (points)",
                kinded(o.get("estimate_default_order"), Kind::Pts),
            ),
            measure(
                "matched estimate, lowest (points)",
                kinded(o.get("estimate_min"), Kind::Pts),
            ),
            measure(
                "matched estimate, highest (points)",
                kinded(o.get("estimate_max"), Kind::Pts),
            ),
            measure(
                "largest |SMD| after matching, worst run",
                kinded(o.get("max_abs_smd_max"), Kind::Num(3)),
            ),
        ])
        .table();
        let d = &self.overlap_diagnostics;
        let mut overlap = overlap_description("Overlap: propensity scores of the two groups")
            .table(&array_records(&j["overlap_diagnostics"], "bins"));
        overlap.notes.push(format!(
            "Pilot people outside the comparison people's range of scores: {:.1}%; comparison people outside the \
             pilot's range: {:.1}%.",
            d.treated_outside_control_range * 100.0,
            d.controls_outside_treated_range * 100.0
        ));
        vec![main, freq, order, overlap]
    }
}

impl Tabular for Effects {
    fn tables(&self) -> Vec<Table> {
        self.all_tables()
    }

    /// One row per design of the 12-month measure, after the headline.
    fn to_csv(&self) -> Result<String> {
        Ok(designs(&self.to_json()?, false).csv())
    }
}
