//! MatchedComparison as tables.

use serde_json::Value;

use super::records_or_plain;
use crate::error::Result;
use crate::matching::MatchedComparison;
use crate::output::Tabular;
use crate::present::*;

impl MatchedComparison {
    /// Tables: model, balance, sample sizes, and the comparison.
    // Over 80 lines: the matching tables in reading order (model, balance, sizes, headline,
    // comparison, robustness).
    fn all_tables(&self) -> Vec<Table> {
        let mut model = Table::new(
            "Propensity model (logistic regression of pilot membership)",
            &["term", "coef", "se"],
            1,
        );
        for t in &self.propensity_model.fit.coefficients {
            model.push(vec![
                Some(t.name.clone()),
                num(Some(t.coef), 4),
                num(Some(t.se), 4),
            ]);
        }
        model.notes.push(format!(
            "log-likelihood {:.3}, {} iterations, n = {}",
            self.propensity_model.fit.log_likelihood,
            self.propensity_model.fit.iterations,
            self.propensity_model.fit.n
        ));
        let mut bal = Table::new(
            "Balance: standardised mean differences before and after matching",
            &[
                "term",
                "mean pilot",
                "mean comparison",
                "SMD before",
                "mean pilot (matched)",
                "mean comparison (matched)",
                "SMD after",
                "variance ratio",
            ],
            1,
        );
        for b in &self.balance {
            bal.push(vec![
                Some(format!(
                    "{}{}",
                    b.covariate,
                    if b.smd_after.is_some_and(|s| s.abs() > 0.1) {
                        " *"
                    } else {
                        ""
                    }
                )),
                num(Some(b.mean_treated_before), 3),
                num(Some(b.mean_control_before), 3),
                num(b.smd_before, 3),
                num(Some(b.mean_treated_after), 3),
                num(Some(b.mean_control_after), 3),
                num(b.smd_after, 3),
                num(b.variance_ratio_after, 2),
            ]);
        }
        bal.notes
            .push("* |SMD| above 0.1 after matching (the strict threshold).".into());
        let s = &self.sample;
        let mut sizes = Table::new("Sample sizes", &["", "pilot", "comparison"], 1);
        sizes.push(vec![
            Some("all (full follow-up, all covariates)".into()),
            Some(s.treated.to_string()),
            Some(s.controls.to_string()),
        ]);
        sizes.push(vec![
            Some("matched".into()),
            Some(s.matched_treated.to_string()),
            Some(format!(
                "{} (effective {:.1})",
                s.matched_controls, s.effective_controls
            )),
        ]);
        sizes.push(vec![
            Some("unmatched / discarded".into()),
            Some(s.unmatched_treated.to_string()),
            Some(s.unmatched_controls.to_string()),
        ]);
        for w in &self.warnings {
            sizes.notes.push(format!("Warning: {w}"));
        }
        let mut head = Table::new(
            "Headline measures (Justice Data Lab form)",
            &["measure", "finding"],
            1,
        );
        head.push(vec![
            Some("one-year proven reoffending".into()),
            Some(self.headline.rate_per_100.clone()),
        ]);
        head.push(vec![
            Some("frequency".into()),
            Some(self.headline.frequency_per_100.clone()),
        ]);
        head.push(vec![
            Some("time to first reoffence".into()),
            Some(self.headline.days_to_first.clone()),
        ]);
        let mut robust = Table::new(
            "How robust is this? Rosenbaum bounds on the matched pairs",
            &["Gamma", "p-value at most"],
            1,
        );
        match &self.rosenbaum {
            Some(r) => {
                for g in &r.bounds.gammas {
                    robust.push(vec![
                        Some(format!("{:.1}", g.gamma)),
                        crate::format::pval(Some(g.p_upper)),
                    ]);
                }
                robust.notes.push(r.summary.clone());
            }
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
    fn records(&self) -> Result<Vec<Value>> {
        Ok(records_or_plain(&self.to_json()?, "balance"))
    }
}
