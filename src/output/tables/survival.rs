//! SurvivalAnalysis as tables.

use serde_json::{Value, json};

use super::array_records;
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Described, Description, Row};
use crate::output::report::disclosure::SUPPRESSED;
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

/// A survival group's label: its string keys (a cohort, a stratum) but those withheld.
pub(crate) fn group_label(g: &Value) -> String {
    g.as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.is_string() && *v != SUPPRESSED)
                .map(|(_, v)| v.as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The Kaplan-Meier summary, described once for the terminal, the notebook and the report,
/// from a survival result's JSON (as computed, or as the disclosure gate let it through): one
/// row per group with the share reoffended by each of the set days (the days of the first
/// group that has them; a share withheld or missing as `[c]`), the terminal adding each
/// share's interval.
pub(crate) fn km_summary(sv: &Value) -> Described {
    let confidence = sv["confidence"].as_f64().unwrap_or(0.95);
    let groups = array_records(sv, "groups");
    let x = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    let times: Vec<f64> = groups
        .iter()
        .find_map(|g| g["survival_at"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| x(a, "time"))
        .collect();
    let mut columns = vec![
        Column::label("group", "group"),
        Column::value("people", "n", Kind::Count),
        Column::value("reoffended", "events", Kind::Count),
        Column::value("median days", "median", Kind::Num(0)),
        Column::value("RMST (days)", "rmst", Kind::Num(1)),
    ];
    for t in &times {
        let by = format!("by day {t}");
        columns.push(Column::value(&by, &by, Kind::Pct));
        columns.push(
            Column::interval(
                &by,
                confidence,
                (&format!("{by} low"), &format!("{by} high")),
                Kind::Pct,
            )
            .terminal_only(),
        );
    }
    let rows = groups
        .iter()
        .map(|g| {
            let mut r = json!({"group": group_label(g), "n": g["n"], "events": g["events"], "median": g["median"], "rmst": g["rmst"]});
            let at = array_records(g, "survival_at");
            for t in &times {
                let by = format!("by day {t}");
                let point = at.iter().find(|a| x(a, "time") == Some(*t));
                r[&by] = match point.and_then(|a| x(a, "survival")) {
                    Some(s) => json!(1.0 - s),
                    None => json!(SUPPRESSED),
                };
                // The share reoffended is one minus survival: its limits swap.
                if let Some(p) = point {
                    r[format!("{by} low")] = json!(x(p, "ci_high").map(|h| 1.0 - h));
                    r[format!("{by} high")] = json!(x(p, "ci_low").map(|l| 1.0 - l));
                }
            }
            r
        })
        .collect();
    Described {
        description: Description {
            title: "Share reoffended by day (Kaplan-Meier, including partial follow-up)".into(),
            columns,
            labels: 1,
        },
        rows: Row::all(rows),
    }
}

impl SurvivalAnalysis {
    /// Summary tables: curves at the chosen days, and the Cox model.
    // Over 80 lines: the survival tables in reading order.
    fn all_tables(&self) -> Vec<Table> {
        let mut out = Vec::new();
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // tables would have no rows.
        let j = self.to_json().unwrap_or_default();
        if !self.groups.is_empty() {
            let mut t = km_summary(&j).table();
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

    /// The Kaplan-Meier summary: one row per group.
    fn to_csv(&self) -> Result<String> {
        Ok(km_summary(&self.to_json()?).csv())
    }
}
