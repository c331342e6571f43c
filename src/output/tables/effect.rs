//! Effects (every adjusted design) as tables.

use serde_json::{Value, json};

use super::array_records;
use crate::effect::Effects;
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Description};
use crate::present::*;
use crate::stats::designs::DesignRow;

/// A table of design rows; estimates in percentage points when `points`.
fn design_table(title: &str, rows: &[DesignRow], confidence: f64, points: bool) -> Table {
    let l = level(confidence);
    let (lo, hi) = (format!("{l} CI low"), format!("{l} CI high"));
    let mut t = Table::new(
        title,
        &[
            "design",
            "estimand",
            "estimate",
            "se",
            &lo,
            &hi,
            "p-value",
            "ESS pilot",
            "ESS comparison",
            "max |SMD|",
        ],
        2,
    );
    let scale = if points { 100.0 } else { 1.0 };
    let digits = if points { 1 } else { 3 };
    for r in rows {
        t.push(vec![
            Some(r.design.name().to_string()),
            Some(
                match r.estimand {
                    crate::stats::designs::Estimand::Att => "ATT",
                    crate::stats::designs::Estimand::Ato => "ATO",
                }
                .to_string(),
            ),
            num(Some(r.estimate * scale), digits),
            num(Some(r.se * scale), digits + 1),
            num(Some(r.ci_low * scale), digits),
            num(Some(r.ci_high * scale), digits),
            pval(Some(r.p_value)),
            num(Some(r.ess_treated), 1),
            num(Some(r.ess_control), 1),
            num(r.max_abs_smd, 3),
        ]);
    }
    t
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
        let mut designs = design_table(
            "Every design on the same propensity model: 12-month proven reoffending, pilot minus comparison \
             (percentage points)",
            &self.designs,
            self.confidence,
            true,
        );
        if let Some(h) = &self.headline {
            designs.notes.push(format!(
                "Headline (the matched comparison of `match`): {:+.1} points, interval {:+.1} to {:+.1}, {}, \
                 standard error clustered by matched set (CR1, {} sets).",
                h.difference.estimate * 100.0,
                h.difference.ci_low * 100.0,
                h.difference.ci_high * 100.0,
                crate::format::p_clause(&pval(Some(h.difference.p_value)).unwrap_or_default()),
                h.difference.clusters
            ));
        }
        designs.notes.push(self.summary.clone());
        designs.notes.push(self.se_note.to_string());
        for w in &self.warnings {
            designs.notes.push(format!("Warning: {w}"));
        }
        let freq = design_table(
            "Every design: proven reoffences per person, pilot minus comparison",
            &self.frequency_designs,
            self.confidence,
            false,
        );
        let o = &self.order_sensitivity;
        let mut order = Table::new(
            "Order sensitivity: the greedy matching with the pilot people taken in random orders",
            &["measure", "value"],
            1,
        );
        let pts = |x: Option<f64>| num(x.map(|v| v * 100.0), 1);
        order.push(vec![
            Some("runs (seed)".into()),
            Some(format!("{} ({})", o.runs, o.seed)),
        ]);
        order.push(vec![
            Some("matched estimate, default order (points)".into()),
            pts(Some(o.estimate_default_order)),
        ]);
        order.push(vec![
            Some("matched estimate, lowest (points)".into()),
            pts(o.estimate_min),
        ]);
        order.push(vec![
            Some("matched estimate, highest (points)".into()),
            pts(o.estimate_max),
        ]);
        order.push(vec![
            Some("largest |SMD| after matching, worst run".into()),
            num(o.max_abs_smd_max, 3),
        ]);
        let d = &self.overlap_diagnostics;
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut overlap = overlap_description("Overlap: propensity scores of the two groups")
            .table(&array_records(&j["overlap_diagnostics"], "bins"));
        overlap.notes.push(format!(
            "Pilot people outside the comparison people's range of scores: {:.1}%; comparison people outside the \
             pilot's range: {:.1}%.",
            d.treated_outside_control_range * 100.0,
            d.controls_outside_treated_range * 100.0
        ));
        vec![designs, freq, order, overlap]
    }
}

impl Tabular for Effects {
    fn tables(&self) -> Vec<Table> {
        self.all_tables()
    }

    /// One row per design and outcome.
    fn records(&self) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for (outcome, rows) in [
            ("reoffended", &self.designs),
            ("reoffences", &self.frequency_designs),
        ] {
            for r in rows {
                let mut v = json!({ "outcome": outcome });
                if let (Value::Object(m), Ok(Value::Object(row))) =
                    (&mut v, serde_json::to_value(r))
                {
                    m.extend(row);
                }
                out.push(v);
            }
        }
        Ok(out)
    }
}
