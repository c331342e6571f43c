//! Monitoring a pilot while it runs: cohorts by quarter of index date, with the 12-month
//! rate estimated by Kaplan-Meier from partial follow-up.

use serde::Serialize;

use crate::data::People;
use crate::data::dates::quarter_label;
use crate::error::Result;
use crate::present::{Table, pct};
use crate::stats::{KaplanMeier, KmInterval};

/// One cohort and quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorGroup {
    /// Cohort.
    pub cohort: String,
    /// Quarter of the index date, e.g. `2021-Q3`.
    pub period: String,
    /// People indexed in the quarter.
    pub people: u64,
    /// Of whom with the full follow-up and waiting period.
    pub full_follow_up: u64,
    /// First proven reoffences seen so far.
    pub events_so_far: u64,
    /// One minus Kaplan-Meier survival at the follow-up end (null if no one is observed
    /// that long).
    pub estimate_12m: Option<f64>,
    /// log(-log) interval.
    pub ci_low: Option<f64>,
    /// log(-log) interval.
    pub ci_high: Option<f64>,
    /// The 12-month rate, when everyone in the group is in the measure.
    pub observed_rate: Option<f64>,
}

/// The interim view: one row per cohort and quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monitor {
    /// Follow-up days.
    pub follow_up_days: u32,
    /// Rows, by cohort then period.
    pub groups: Vec<MonitorGroup>,
}

impl Monitor {
    /// Builds the interim view.
    pub fn compute(
        people: &People,
        outcomes: &crate::measure::Outcomes,
        confidence: f64,
    ) -> Result<Monitor> {
        let f = outcomes.rules.follow_up_days as f64;
        let mut keys: Vec<(String, String, usize)> = (0..people.len())
            .map(|i| {
                (
                    people.cohort.get(i).unwrap_or("").to_string(),
                    quarter_label(people.index_day[i]),
                    i,
                )
            })
            .collect();
        keys.sort();
        let mut groups = Vec::new();
        let mut k = 0;
        while k < keys.len() {
            let (c, q) = (keys[k].0.clone(), keys[k].1.clone());
            let mut members = Vec::new();
            while k < keys.len() && keys[k].0 == c && keys[k].1 == q {
                members.push(keys[k].2);
                k += 1;
            }
            let full = members.iter().filter(|&&i| outcomes.eligible[i]).count() as u64;
            let (mut t, mut e) = (Vec::new(), Vec::new());
            for &i in &members {
                if outcomes.event[i] {
                    t.push(outcomes.days_to_first[i] as f64);
                    e.push(true);
                } else if outcomes.observed_days[i] > 0 {
                    t.push(outcomes.observed_days[i] as f64);
                    e.push(false);
                }
            }
            let events = e.iter().filter(|x| **x).count() as u64;
            let reaches = t.iter().any(|&x| x >= f);
            let (est, lo, hi) = if reaches {
                let km = KaplanMeier::fit(&t, &e, confidence, KmInterval::LogLog)?;
                let s = km.survival_at(f);
                (
                    Some(1.0 - s.survival),
                    Some(1.0 - s.ci_high),
                    Some(1.0 - s.ci_low),
                )
            } else {
                (None, None, None)
            };
            let observed = (full == members.len() as u64 && full > 0).then(|| {
                members
                    .iter()
                    .filter(|&&i| outcomes.reoffences[i] > 0)
                    .count() as f64
                    / full as f64
            });
            groups.push(MonitorGroup {
                cohort: c,
                period: q,
                people: members.len() as u64,
                full_follow_up: full,
                events_so_far: events,
                estimate_12m: est,
                ci_low: lo,
                ci_high: hi,
                observed_rate: observed,
            });
        }
        Ok(Monitor {
            follow_up_days: outcomes.rules.follow_up_days,
            groups,
        })
    }

    /// As a table.
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            "Interim monitoring: 12-month reoffending by quarter of index date",
            &[
                "cohort",
                "period",
                "people",
                "full follow-up",
                "reoffended so far",
                "estimated 12-month rate",
                "95% CI",
                "observed rate",
            ],
            2,
        );
        for g in &self.groups {
            t.push(vec![
                Some(g.cohort.clone()),
                Some(g.period.clone()),
                Some(g.people.to_string()),
                Some(g.full_follow_up.to_string()),
                Some(g.events_so_far.to_string()),
                pct(g.estimate_12m),
                match (g.ci_low, g.ci_high) {
                    (Some(l), Some(h)) => Some(format!("{:.1}% to {:.1}%", l * 100.0, h * 100.0)),
                    _ => None,
                },
                pct(g.observed_rate),
            ]);
        }
        t.notes.push(
            "Estimates for recent quarters rest on partial follow-up (Kaplan-Meier); they firm up as data arrive."
                .into(),
        );
        t
    }
}
