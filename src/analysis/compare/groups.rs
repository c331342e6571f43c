//! The people of one group in a comparison: their outcomes and weights.

use crate::data::People;
use crate::error::{Error, Result};
use crate::measure::{NO_REOFFENCE, Outcomes};
use crate::stats::{Summary, WeightedMean, weighted_summary};
use rayon::slice::ParallelSliceMut;

/// The eligible people of one cohort, optionally within a subgroup.
///
/// `n` and `reoffenders` count people; with weights (a matched comparison group) the
/// rates and means are weighted and the Kish effective size `(Σw)² / Σw²` is reported.
pub(crate) struct GroupData {
    pub(crate) n: u64,
    pub(crate) reoffenders: u64,
    /// Proven reoffences of each person.
    pub(crate) counts: Vec<f64>,
    /// Weight of each person.
    pub(crate) weights: Vec<f64>,
    /// Days to first reoffence of each reoffender, with their weights.
    pub(crate) days: Vec<(f64, f64)>,
}

impl GroupData {
    /// From per-person reoffence counts and weights, and the days to first reoffence of each
    /// reoffender with their weight, in the people's order.
    pub(crate) fn with_days(
        counts: Vec<f64>,
        days: Vec<(f64, f64)>,
        weights: Vec<f64>,
    ) -> GroupData {
        GroupData {
            n: counts.len() as u64,
            reoffenders: counts.iter().filter(|c| **c > 0.0).count() as u64,
            days,
            counts,
            weights,
        }
    }

    /// Every weight is 1 (a pilot group, or 1:1 matching without replacement).
    pub(crate) fn unit_weights(&self) -> bool {
        self.weights.iter().all(|w| *w == 1.0)
    }

    /// Kish effective size `(Σw)² / Σw²` (the count of people with unit weights).
    pub(crate) fn effective_n(&self) -> f64 {
        let sw: f64 = self.weights.iter().sum();
        let sw2: f64 = self.weights.iter().map(|w| w * w).sum();
        if sw2 > 0.0 { sw * sw / sw2 } else { 0.0 }
    }

    /// Whether each person reoffended (1) or not (0).
    pub(crate) fn binary(&self) -> Vec<f64> {
        self.counts.iter().map(|c| f64::from(*c > 0.0)).collect()
    }

    pub(crate) fn summary(&self) -> Summary {
        weighted_summary(
            self.counts
                .iter()
                .copied()
                .zip(self.weights.iter().copied()),
        )
    }

    pub(crate) fn day_summary(&self) -> Summary {
        weighted_summary(self.days.iter().copied())
    }
}

/// The code of cohort `label`, or an error naming the option that gave it and the cohorts
/// the data holds.
pub(crate) fn cohort_code(people: &People, option: &str, label: &str) -> Result<u32> {
    people.cohort.code_of(label).ok_or_else(|| {
        Error::option(
            option,
            format!(
                "no cohort `{}` in the data (cohorts: {})",
                crate::error::shown(label),
                crate::error::listed(&people.cohort.levels)
            ),
        )
    })
}

pub(crate) fn collect(
    people: &People,
    out: &Outcomes,
    option: &str,
    label: &str,
    keep: impl Fn(usize) -> bool,
) -> Result<GroupData> {
    let code = cohort_code(people, option, label)?;
    let mut g = GroupData {
        n: 0,
        reoffenders: 0,
        counts: Vec::new(),
        weights: Vec::new(),
        days: Vec::new(),
    };
    for i in 0..people.len() {
        if people.cohort.codes[i] != code || !out.eligible[i] || !keep(i) {
            continue;
        }
        g.n += 1;
        g.counts.push(out.reoffences[i] as f64);
        g.weights.push(1.0);
        if out.reoffences[i] > 0 {
            g.reoffenders += 1;
            if out.days_to_first[i] != NO_REOFFENCE {
                g.days.push((out.days_to_first[i] as f64, 1.0));
            }
        }
    }
    // The values in their own order, not the people's: the variance sums (the only sums
    // here that are not whole numbers) then do not depend on the order of the rows or the
    // pseudonyms. Every weight is 1, so the weights need no reordering.
    g.counts.par_sort_unstable_by(f64::total_cmp);
    g.days.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    Ok(g)
}

impl GroupData {
    /// The weighted rate (mean of reoffended 0/1) and the weighted mean of reoffences.
    pub(crate) fn weighted_means(&self) -> Result<(WeightedMean, WeightedMean)> {
        let empty = || Error::method("comparison", "a matched group has no weight");
        Ok((
            WeightedMean::of(&self.binary(), &self.weights).ok_or_else(empty)?,
            WeightedMean::of(&self.counts, &self.weights).ok_or_else(empty)?,
        ))
    }
}
