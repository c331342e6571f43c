//! Rates as tables.

use serde_json::Value;

use super::records_or_plain;
use crate::error::Result;
use crate::measure::Rates;
use crate::output::Tabular;
use crate::present::*;

impl Rates {
    /// The result as a table (one row per group).
    fn table(&self) -> Table {
        let mut cols: Vec<&str> = self.by.iter().map(String::as_str).collect();
        let keys = cols.len();
        let ci = format!("{} CI ({})", level(self.confidence), self.ci_method);
        cols.extend([
            "eligible",
            "reoffenders",
            "rate",
            ci.as_str(),
            "reoffences",
            "per offender",
            "per reoffender",
            "mean days to 1st",
            "median days to 1st",
        ]);
        if self.baseline_rate.is_some() {
            cols.extend(["p (two-sided)", "p (lower)", "p (higher)"]);
        }
        let mut t = Table::new("12-month proven reoffending", &cols, keys);
        for g in &self.groups {
            let mut row: Vec<Option<String>> = g.key.0.iter().map(|(_, v)| v.clone()).collect();
            row.extend([
                count(g.eligible),
                count(g.reoffenders),
                pct(g.rate),
                interval(Kind::Pct, g.ci_low, g.ci_high),
                count(g.reoffences),
                num(g.reoffences_per_offender, 2),
                num(g.reoffences_per_reoffender, 2),
                num(g.mean_days_to_first, 1),
                num(g.median_days_to_first, 1),
            ]);
            if self.baseline_rate.is_some() {
                row.extend([
                    pval(g.baseline_p_two_sided),
                    pval(g.baseline_p_less),
                    pval(g.baseline_p_greater),
                ]);
            }
            t.push(row);
        }
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
    fn records(&self) -> Result<Vec<Value>> {
        Ok(records_or_plain(&self.to_json()?, "groups"))
    }
}
