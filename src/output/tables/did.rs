//! Difference-in-differences as tables.

use serde_json::{Value, json};

use super::array_records;
use crate::did::AreaDid;
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Described, Description, Row};
use crate::present::*;

/// The confidence level of a difference-in-differences JSON.
fn confidence(d: &Value) -> f64 {
    d["confidence"].as_f64().unwrap_or(0.95)
}

/// A described table whose rows both surfaces show.
fn of(title: &str, columns: Vec<Column>, rows: Vec<Value>) -> Described {
    Described {
        description: Description {
            title: title.into(),
            columns,
            labels: 1,
        },
        rows: Row::all(rows),
    }
}

/// The estimates (the rate, and reoffences per 100 people when there is one), described once
/// for the terminal, the notebook and the report, from a difference-in-differences JSON (as
/// computed, or as the disclosure gate let it through); the terminal adds the areas.
pub(crate) fn estimates(d: &Value) -> Described {
    let row = |outcome: &str, e: &Value| {
        json!({
            "outcome": outcome, "estimate": e["estimate"], "ci_low": e["ci_low"],
            "ci_high": e["ci_high"], "p_value": e["p_value"], "clusters": d["clusters"],
            "treated_clusters": d["treated_clusters"],
        })
    };
    let mut rows = vec![row("12-month proven reoffending rate (points)", d)];
    if let Some(fr) = d.get("frequency").filter(|v| v.is_object()) {
        rows.push(row("reoffences per 100 people", fr));
    }
    of(
        "Difference-in-differences estimates (two-way fixed effects, standard errors clustered by area)",
        vec![
            Column::label("outcome", "outcome"),
            Column::value("estimate", "estimate", Kind::Pts),
            Column::interval("", confidence(d), ("ci_low", "ci_high"), Kind::Pts),
            Column::value("p (cluster-robust)", "p_value", Kind::P),
            Column::value("areas", "clusters", Kind::Count).terminal_only(),
            Column::value("treated areas", "treated_clusters", Kind::Count).terminal_only(),
        ],
        rows,
    )
}

/// The event study's coefficients, described once, from a difference-in-differences JSON.
pub(crate) fn event_study(d: &Value) -> Described {
    of(
        "Event study coefficients",
        vec![
            Column::label("periods from launch", "relative_period"),
            Column::label("period", "period"),
            Column::value("estimate (points)", "estimate", Kind::Pts),
            Column::interval("", confidence(d), ("ci_low", "ci_high"), Kind::Pts),
        ],
        array_records(d, "event_study"),
    )
}

/// The synthetic designs' estimates, described once, from a difference-in-differences JSON.
pub(crate) fn synthetic_estimates(d: &Value) -> Described {
    of(
        "Synthetic designs on the area x period rates",
        vec![
            Column::label("design", "method"),
            Column::value("estimate (points)", "estimate", Kind::Pts),
            Column::value("standard error (points)", "se", Kind::Pts),
            Column::interval("", confidence(d), ("ci_low", "ci_high"), Kind::Pts),
        ],
        array_records(&d["synthetic"], "estimates"),
    )
}

/// The areas that make up the synthetic pilot, heaviest first (weights that round to zero
/// left out), described once, from a difference-in-differences JSON.
pub(crate) fn synthetic_weights(d: &Value) -> Described {
    let weight = |r: &Value| r["weight"].as_f64().unwrap_or(0.0);
    let mut weights: Vec<Value> = array_records(&d["synthetic"], "unit_weights")
        .into_iter()
        .filter(|w| weight(w) > 0.0005)
        .collect();
    weights.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
    of(
        "Which areas make up the synthetic pilot (synthetic difference-in-differences unit weights)",
        vec![
            Column::label("area", "area"),
            Column::value("weight", "weight", Kind::Num(3)),
        ],
        weights,
    )
}

/// Launches at different times: Callaway and Sant'Anna's overall effect with two-way fixed
/// effects beside, described once, from a difference-in-differences JSON (`None` without a
/// staggered summary).
pub(crate) fn staggered(d: &Value) -> Option<Described> {
    let s = d.get("staggered").filter(|v| v.is_object())?;
    let row = |estimator: &Value, e: &Value, est: &str| {
        json!({
            "estimator": estimator, "estimate": e[est], "ci_low": e["ci_low"],
            "ci_high": e["ci_high"],
        })
    };
    Some(of(
        "Launches at different times: Callaway and Sant'Anna, with two-way fixed effects beside",
        vec![
            Column::label("estimator", "estimator"),
            Column::value("estimate (points)", "estimate", Kind::Pts),
            Column::interval("", confidence(d), ("ci_low", "ci_high"), Kind::Pts),
        ],
        vec![
            row(&s["method"], s, "att"),
            row(&json!("two-way fixed effects"), &s["twfe"], "estimate"),
        ],
    ))
}

impl AreaDid {
    fn estimate_table(&self, j: &Value) -> Table {
        let mut t = estimates(j).table();
        if let Some(p) = &self.placebo_in_space {
            t.notes.push(format!(
                "Placebo in space: rank {} of {}, {} (smallest possible {:.3}).",
                p.rank,
                p.areas + 1,
                crate::format::p_clause_at(p.p_value, 3),
                p.min_p_value
            ));
        }
        if let Some(w) = &self.wild_bootstrap {
            t.notes.push(format!(
                "Wild cluster restricted bootstrap ({} weights, {} replications{}): {}.",
                w.weights,
                w.replications,
                if w.full_enumeration {
                    ", every sign pattern"
                } else {
                    ""
                },
                crate::format::p_clause_at(w.p_value, 3)
            ));
        }
        if let Some(pt) = &self.pre_trend {
            t.notes.push(format!(
                "Pre-trend: F({}, {}) = {:.2}, {}.",
                pt.df_num,
                pt.df_den,
                pt.statistic,
                crate::format::p_clause_at(pt.p_value, 3)
            ));
        }
        t.notes.push(format!(
            "Leading p-value: {}.",
            self.inference_lead.replace('_', " ")
        ));
        for u in &self.unavailable {
            t.notes.push(format!("Not available: {u}"));
        }
        t
    }
}

impl Tabular for AreaDid {
    fn tables(&self) -> Vec<Table> {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // tables would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut out = vec![self.estimate_table(&j)];
        if !self.event_study.is_empty() {
            out.push(event_study(&j).table());
        }
        if self.synthetic.is_some() {
            out.push(synthetic_estimates(&j).table());
            out.push(synthetic_weights(&j).table());
        }
        if let Some(mut t) = staggered(&j).map(|d| d.table()) {
            t.notes
                .extend(self.staggered.as_ref().map(|s| s.summary.clone()));
            out.push(t);
        }
        if let Some(first) = out.first_mut() {
            first.notes.push(self.summary.clone());
        }
        out
    }

    /// The estimates.
    fn to_csv(&self) -> Result<String> {
        Ok(estimates(&self.to_json()?).csv())
    }
}
