//! MatchedComparison as tables.

use serde_json::{Value, json};

use super::array_records;
use crate::error::Result;
use crate::matching::MatchedComparison;
use crate::output::Tabular;
use crate::output::describe::{Cell, Column, Described, Description, Row, kinded, measure};
use crate::present::*;

/// A term, marked `*` when its |SMD| after matching is above 0.1 (the strict threshold).
fn marked_term(b: &Value) -> Option<String> {
    let flag = b["smd_after"].as_f64().is_some_and(|s| s.abs() > 0.1);
    Some(format!(
        "{}{}",
        b["covariate"].as_str().unwrap_or_default(),
        if flag { " *" } else { "" }
    ))
}

/// The balance table, described once for the terminal, the notebook and the report (the
/// terminal marks a term still out of balance in its label), from the rows of a matched
/// comparison's `balance`.
pub(crate) fn balance_description() -> Description {
    Description {
        title: "Balance before and after matching".into(),
        columns: vec![
            Column::new("term", Cell::Composed(marked_term)),
            Column::label("term", "covariate").report_only(),
            Column::value("mean pilot", "mean_treated_before", Kind::Num(3)),
            Column::value("mean comparison", "mean_control_before", Kind::Num(3)),
            Column::value("SMD before", "smd_before", Kind::Num(3)),
            Column::value("mean pilot (matched)", "mean_treated_after", Kind::Num(3))
                .terminal_only(),
            Column::value(
                "mean comparison (matched)",
                "mean_control_after",
                Kind::Num(3),
            ),
            Column::value("SMD after", "smd_after", Kind::Num(3)),
            Column::value("variance ratio", "variance_ratio_after", Kind::Num(2)),
        ],
        labels: 1,
    }
}

/// Rosenbaum bounds, described once for the terminal, the notebook and the report, from the
/// rows of a matched comparison's `rosenbaum.gammas`.
pub(crate) fn rosenbaum_description() -> Description {
    Description {
        title: "Rosenbaum bounds: the largest one-sided p-value under hidden bias Gamma".into(),
        columns: vec![
            Column::value("Gamma", "gamma", Kind::Num(1)),
            Column::value("p-value at most", "p_upper", Kind::P),
        ],
        labels: 1,
    }
}

/// The sample sizes of matching, described once for the terminal, the notebook and the
/// report, from a matched comparison's JSON: one row per quantity of its `sample` (the
/// effective number of controls to one decimal place, the rest counts).
pub(crate) fn sample(m: &Value) -> Described {
    let rows = m["sample"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let kind = if k == "effective_controls" {
                        Kind::Num(1)
                    } else {
                        Kind::Count
                    };
                    json!({"quantity": k.replace('_', " "), "value": kinded(Some(v), kind)})
                })
                .collect()
        })
        .unwrap_or_default();
    Described {
        description: Description {
            title: "Sample sizes".into(),
            columns: vec![
                Column::label("quantity", "quantity"),
                Column::value("value", "value", Kind::Num(1)),
            ],
            labels: 1,
        },
        rows: Row::all(rows),
    }
}

impl MatchedComparison {
    /// Tables: model, balance, sample sizes, and the comparison.
    // Over 80 lines: the matching tables in reading order (model, balance, sizes, headline,
    // comparison, robustness).
    fn all_tables(&self) -> Vec<Table> {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // tables drawn from it would have no rows.
        let j = self.to_json().unwrap_or_default();
        let mut model = Description::of(
            "Propensity model (logistic regression of pilot membership)",
            1,
            &[
                ("term", "name", Kind::Count),
                ("coef", "coef", Kind::Num(4)),
                ("se", "se", Kind::Num(4)),
            ],
        )
        .with(array_records(&j["propensity_model"], "coefficients"))
        .table();
        model.notes.push(format!(
            "log-likelihood {:.3}, {} iterations, n = {}",
            self.propensity_model.fit.log_likelihood,
            self.propensity_model.fit.iterations,
            self.propensity_model.fit.n
        ));
        let mut bal = balance_description().table(&array_records(&j, "balance"));
        bal.notes
            .push("* |SMD| above 0.1 after matching (the strict threshold).".into());
        let mut sizes = sample(&j).table();
        for w in &self.warnings {
            sizes.notes.push(format!("Warning: {w}"));
        }
        let h = &j["headline"];
        let head = Description::of(
            "Headline measures (Justice Data Lab form)",
            1,
            &[
                ("measure", "measure", Kind::Count),
                ("finding", "value", Kind::Count),
            ],
        )
        .with(vec![
            measure("one-year proven reoffending", h["rate_per_100"].clone()),
            measure("frequency", h["frequency_per_100"].clone()),
            measure("time to first reoffence", h["days_to_first"].clone()),
        ])
        .table();
        let mut robust = rosenbaum_description().table(&array_records(&j["rosenbaum"], "gammas"));
        match &self.rosenbaum {
            Some(r) => robust.notes.push(r.summary.clone()),
            None => robust
                .notes
                .push(self.rosenbaum_note.clone().unwrap_or_default()),
        }
        if let Some(e) = &self.comparison.e_value {
            robust.notes.push(format!("E-value: {}", e.summary));
        }
        robust.notes.push(self.placebo.summary.clone());
        if let Some(p) = &self.period_check {
            robust.notes.push(format!("Period check: {}", p.summary));
        }
        vec![
            model,
            bal,
            sizes,
            head,
            self.comparison.headline_table(),
            robust,
        ]
    }
}

impl Tabular for MatchedComparison {
    fn tables(&self) -> Vec<Table> {
        self.all_tables()
    }

    /// One row per covariate term of the balance table.
    fn to_csv(&self) -> Result<String> {
        let j = self.to_json()?;
        Ok(balance_description()
            .with(array_records(&j, "balance"))
            .csv())
    }
}
