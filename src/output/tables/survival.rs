//! SurvivalAnalysis as tables.

use serde_json::Value;

use super::{array_records, km_records};
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Description};
use crate::present::*;
use crate::survival::SurvivalAnalysis;

/// The Cox model's table, described once for the terminal, the notebook and the report,
/// from a survival result's JSON (as computed, or as the disclosure gate let it through).
pub(crate) fn cox_description(j: &Value) -> Description {
    let confidence = j["confidence"].as_f64().unwrap_or(0.95);
    let ties = j["cox"]["ties"].as_str().unwrap_or("efron");
    let mut ties_name = ties.chars();
    let ties_name: String = ties_name
        .next()
        .map(|f| f.to_uppercase().chain(ties_name).collect())
        .unwrap_or_default();
    Description {
        title: format!(
            "Cox proportional hazards model ({ties_name} ties), adjusted only for the terms shown"
        ),
        columns: vec![
            Column::label("term", "name"),
            Column::value("coef", "coef", Kind::Num(4)).terminal_only(),
            Column::value("se", "se", Kind::Num(4)).terminal_only(),
            Column::value("hazard ratio", "hazard_ratio", Kind::Num(3)),
            Column::interval("", confidence, ("ci_low", "ci_high"), Kind::Num(3)),
            Column::value("p-value", "p_value", Kind::P),
        ],
        labels: 1,
    }
}

impl SurvivalAnalysis {
    /// Summary tables: curves at the chosen days, and the Cox model.
    // Over 80 lines: the survival tables in reading order.
    fn all_tables(&self) -> Vec<Table> {
        let mut out = Vec::new();
        if let Some(first) = self.groups.first() {
            let keys: Vec<String> = first.key.0.iter().map(|(k, _)| k.clone()).collect();
            let mut cols: Vec<String> = keys.clone();
            cols.extend([
                "people".into(),
                "reoffended".into(),
                "median days".into(),
                format!("RMST to {}", self.follow_up_days),
            ]);
            for s in &first.survival_at {
                cols.push(format!("reoffended by day {}", s.time));
            }
            let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
            let mut t = Table::new(
                "Time to first proven reoffence (Kaplan-Meier)",
                &col_refs,
                keys.len(),
            );
            for g in &self.groups {
                let mut r: Vec<Option<String>> = g.key.0.iter().map(|(_, v)| v.clone()).collect();
                r.extend([
                    count(g.n),
                    count(g.events),
                    num(g.median, 0),
                    num(Some(g.rmst), 1),
                ]);
                for s in &g.survival_at {
                    r.push(Some(format!(
                        "{} ({})",
                        Kind::Pct.show(1.0 - s.survival),
                        Kind::Pct.interval(1.0 - s.ci_high, 1.0 - s.ci_low)
                    )));
                }
                t.push(r);
            }
            if let Some(lr) = &self.logrank {
                t.notes.push(format!(
                    "log-rank test between cohorts{}: chi-square {:.3} on {} df, {}",
                    self.logrank_strata
                        .as_ref()
                        .map(|s| format!(" (stratified by {s})"))
                        .unwrap_or_default(),
                    lr.statistic,
                    lr.df,
                    crate::format::p_clause(&pval(Some(lr.p_value)).unwrap_or_default())
                ));
            }
            t.notes.push(format!(
                "Includes people with partial follow-up (censored at the extract date); {} not yet observable.",
                self.not_observable
            ));
            out.push(t);
        }
        if let Some(c) = &self.cox {
            // Serialising a result cannot fail (plain fields, string keys); were it to, the
            // table would have no rows.
            let j = self.to_json().unwrap_or_default();
            let mut t = cox_description(&j).table(&array_records(&j["cox"], "coefficients"));
            t.notes.push(format!(
                "n = {}, events = {}, partial log-likelihood {:.3}, concordance {:.3}, {} iterations{}",
                c.n,
                c.events,
                c.log_likelihood,
                c.concordance,
                c.iterations,
                self.cox_excluded_missing.map(|m| format!(", {m} left out for missing covariates")).unwrap_or_default()
            ));
            out.push(t);
        }
        out
    }
}

impl Tabular for SurvivalAnalysis {
    fn tables(&self) -> Vec<Table> {
        self.all_tables()
    }

    /// One row per Kaplan-Meier step of each group, with the group's keys.
    fn records(&self) -> Result<Vec<Value>> {
        Ok(km_records(&self.to_json()?))
    }
}
