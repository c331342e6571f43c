//! Monitor as tables.

use serde_json::Value;

use super::records_or_plain;
use crate::error::Result;
use crate::monitor::Monitor;
use crate::output::Tabular;
use crate::present::*;

impl Monitor {
    /// As a table.
    fn table_with_projections(&self) -> Table {
        let ci = format!("{} CI", level(self.confidence));
        let projection_ci = format!("projection {ci}");
        let mut t = Table::new(
            "Interim monitoring: 12-month reoffending by quarter of index date",
            &[
                "cohort",
                "period",
                "people",
                "full follow-up",
                "reoffended so far",
                "estimated 12-month rate",
                &ci,
                "observed rate",
                "rate by day 91 / 182 / 273",
                "projected 12-month rate",
                &projection_ci,
            ],
            2,
        );
        for g in &self.groups {
            let at = |d: u32| {
                g.rate_at
                    .get(&d)
                    .map_or("-".to_string(), |r| Kind::Pct.show(r.rate))
            };
            t.push(vec![
                Some(g.cohort.clone()),
                Some(g.period.clone()),
                Some(g.people.to_string()),
                Some(g.full_follow_up.to_string()),
                Some(g.events_so_far.to_string()),
                pct(g.estimate_12m),
                interval(Kind::Pct, g.ci_low, g.ci_high),
                pct(g.observed_rate),
                Some(format!("{} / {} / {}", at(91), at(182), at(273))),
                pct(g.projected_12m),
                interval(Kind::Pct, g.projected_low, g.projected_high),
            ]);
        }
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
    fn records(&self) -> Result<Vec<Value>> {
        Ok(records_or_plain(&self.to_json()?, "groups"))
    }
}
