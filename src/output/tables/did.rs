//! Difference-in-differences as tables.

use serde_json::Value;

use super::records_or_plain;
use crate::did::AreaDid;
use crate::error::Result;
use crate::output::Tabular;
use crate::present::*;

/// Percentage points, unsigned (the estimate's column says what it is a change in).
fn points(x: f64) -> Option<String> {
    Some(Kind::Num(1).show(x * 100.0))
}

/// An interval in percentage points, unsigned.
fn points_interval(lo: f64, hi: f64) -> Option<String> {
    Some(Kind::Num(1).interval(lo * 100.0, hi * 100.0))
}

impl AreaDid {
    fn estimate_table(&self) -> Table {
        let ci = format!("{} CI (points)", level(self.confidence));
        let mut t = Table::new(
            "Difference-in-differences (two-way fixed effects, standard errors clustered by area)",
            &[
                "outcome",
                "estimate (points)",
                &ci,
                "p (cluster-robust)",
                "areas",
                "treated areas",
            ],
            1,
        );
        t.push(vec![
            Some("12-month proven reoffending rate".into()),
            points(self.estimate),
            points_interval(self.ci_low, self.ci_high),
            pval(Some(self.p_value)),
            Some(self.clusters.to_string()),
            Some(self.treated_clusters.to_string()),
        ]);
        if let Some(f) = &self.frequency {
            t.push(vec![
                Some("reoffences per 100 people".into()),
                points(f.estimate),
                points_interval(f.ci_low, f.ci_high),
                pval(Some(f.p_value)),
                Some(self.clusters.to_string()),
                Some(self.treated_clusters.to_string()),
            ]);
        }
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

    fn event_table(&self) -> Table {
        let ci = format!("{} CI (points)", level(self.confidence));
        let mut t = Table::new(
            "Event study: change relative to the period before launch",
            &["periods from launch", "period", "estimate (points)", &ci],
            1,
        );
        for e in &self.event_study {
            t.push(vec![
                Some(e.relative_period.to_string()),
                e.period.clone(),
                points(e.estimate),
                points_interval(e.ci_low, e.ci_high),
            ]);
        }
        t
    }

    fn synthetic_tables(&self) -> Vec<Table> {
        let Some(s) = &self.synthetic else {
            return Vec::new();
        };
        let ci = format!("{} CI (points)", level(self.confidence));
        let mut t = Table::new(
            "Synthetic designs on the area x period rates (placebo standard errors)",
            &["design", "estimate (points)", "se (points)", &ci],
            1,
        );
        for e in &s.estimates {
            t.push(vec![
                Some(format!("{:?}", e.method).to_lowercase()),
                points(e.estimate),
                points(e.se),
                points_interval(e.ci_low, e.ci_high),
            ]);
        }
        let mut w = Table::new(
            "The synthetic pilot: comparison areas and their weights (synthetic DiD)",
            &["area", "weight"],
            1,
        );
        let mut weights = s.unit_weights.clone();
        weights.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        for u in weights.iter().filter(|u| u.weight > 0.0) {
            w.push(vec![Some(u.area.clone()), num(Some(u.weight), 3)]);
        }
        vec![t, w]
    }

    fn staggered_table(&self) -> Option<Table> {
        let s = self.staggered.as_ref()?;
        let mut t = Table::new(
            "Launches at different times: Callaway and Sant'Anna, with two-way fixed effects beside",
            &["estimator", "estimate (points)", "interval (points)"],
            1,
        );
        t.push(vec![
            Some(s.method.clone()),
            points(s.att),
            s.ci_low
                .zip(s.ci_high)
                .and_then(|(a, b)| points_interval(a, b)),
        ]);
        t.push(vec![
            Some("two-way fixed effects".into()),
            points(s.twfe.estimate),
            s.twfe
                .ci_low
                .zip(s.twfe.ci_high)
                .and_then(|(a, b)| points_interval(a, b)),
        ]);
        t.notes.push(s.summary.clone());
        Some(t)
    }
}

impl Tabular for AreaDid {
    fn tables(&self) -> Vec<Table> {
        let mut out = vec![self.estimate_table()];
        if !self.event_study.is_empty() {
            out.push(self.event_table());
        }
        out.extend(self.synthetic_tables());
        out.extend(self.staggered_table());
        if let Some(first) = out.first_mut() {
            first.notes.push(self.summary.clone());
        }
        out
    }

    /// One row per area x period cell.
    fn records(&self) -> Result<Vec<Value>> {
        Ok(records_or_plain(&self.to_json()?, "cells"))
    }
}
