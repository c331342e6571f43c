//! Time to first proven reoffence for everyone observed, including people whose
//! follow-up the extract date cuts short (censored, not dropped).

use serde::Serialize;

use crate::data::People;
use crate::design::Design;
use crate::error::{Error, Result};
use crate::measure::{Grouping, Outcomes};
use crate::stats::{CoxFit, KaplanMeier, KmInterval, KmRow, LogRank, SurvivalAt, Ties, logrank};

/// Options for [`SurvivalAnalysis`]'s [`compute`](crate::Analysis::compute), and the
/// evaluation file's `[survival]` table (read straight into this struct: `by`, `times`,
/// `covariates`, `max_levels`; the confidence level is the comparisons', set by
/// [`Config::survival_options`](crate::Config::survival_options)). Every field has a
/// documented default, defined once in the [`Default`] impl; [`check`](Self::check) says
/// which values no analysis can use.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurvivalOptions {
    /// Breakdowns beyond cohort. Default none.
    pub by: Vec<String>,
    /// Days at which to report survival. Default 91, 182, 273, 365 (an empty list in the
    /// evaluation file keeps the default).
    #[serde(deserialize_with = "times_or_default")]
    pub times: Vec<f64>,
    /// Covariates of the Cox model (cohort is always included); empty: no Cox model.
    pub covariates: Vec<String>,
    /// Reference levels, `(column, level)`. Default: the first level in sorted order.
    #[serde(skip)]
    pub references: Vec<(String, String)>,
    /// Tie handling in the Cox model. Default Efron.
    #[serde(skip)]
    pub ties: Ties,
    /// Kaplan-Meier interval. Default log(-log).
    #[serde(skip)]
    pub interval: KmInterval,
    /// Confidence level. Default 0.95.
    #[serde(skip)]
    pub confidence: f64,
    /// Stratify the log-rank test by this breakdown. Default none.
    #[serde(skip)]
    pub strata: Option<String>,
    /// The most levels a categorical covariate of the Cox model may have. Default
    /// [`MAX_LEVELS`](crate::design::MAX_LEVELS) (200).
    pub max_levels: usize,
}

impl Default for SurvivalOptions {
    fn default() -> Self {
        SurvivalOptions {
            by: Vec::new(),
            times: vec![91.0, 182.0, 273.0, 365.0],
            covariates: Vec::new(),
            references: Vec::new(),
            ties: Ties::Efron,
            interval: KmInterval::LogLog,
            confidence: 0.95,
            strata: None,
            max_levels: crate::design::MAX_LEVELS,
        }
    }
}

impl SurvivalOptions {
    /// The values no survival analysis can use, checked before any data is read: a day that
    /// is not finite or below 0, a confidence level not strictly between 0 and 1, a
    /// `max_levels` of 0. The error names the field (`times`).
    ///
    /// ```
    /// use reoffending::survival::SurvivalOptions;
    /// let o = SurvivalOptions { times: vec![91.0, -3.0], ..Default::default() };
    /// assert_eq!(o.check().unwrap_err().key, "times");
    /// ```
    pub fn check(&self) -> std::result::Result<(), crate::error::OptionError> {
        use crate::error::OptionError;
        if let Some(t) = self.times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
            return Err(OptionError::new(
                "times",
                format!("{t}: expected days, finite and at least 0"),
            ));
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(OptionError::new(
                "confidence",
                format!(
                    "{}: expected a fraction strictly between 0 and 1 (e.g. 0.95)",
                    self.confidence
                ),
            ));
        }
        if self.max_levels == 0 {
            return Err(OptionError::new(
                "max_levels",
                "0: expected at least 1 level",
            ));
        }
        Ok(())
    }
}

/// `times` as the evaluation file gives it: an empty list keeps the default days.
fn times_or_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let times = <Vec<f64> as serde::Deserialize>::deserialize(d)?;
    Ok(if times.is_empty() {
        SurvivalOptions::default().times
    } else {
        times
    })
}

/// One group's curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalGroup {
    /// `cohort` and breakdown values.
    #[serde(flatten)]
    pub key: crate::measure::GroupKey,
    /// People observed.
    pub n: u64,
    /// First proven reoffences observed.
    pub events: u64,
    /// Median days to first reoffence (null if fewer than half reoffend in follow-up).
    pub median: Option<f64>,
    /// Interval for the median.
    pub median_ci_low: Option<f64>,
    /// Interval for the median.
    pub median_ci_high: Option<f64>,
    /// Restricted mean days without a proven reoffence, up to the follow-up end.
    pub rmst: f64,
    /// Survival at the chosen days.
    pub survival_at: Vec<SurvivalAt>,
    /// The full Kaplan-Meier table.
    pub table: Vec<KmRow>,
}

/// Kaplan-Meier per group, log-rank between cohorts, and optionally a Cox model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalAnalysis {
    /// Follow-up length in days (the RMST horizon).
    pub follow_up_days: u32,
    /// Interval method of the curves.
    pub interval: KmInterval,
    /// Confidence level of the curves' and the Cox model's intervals.
    pub confidence: f64,
    /// One Kaplan-Meier curve per group.
    pub groups: Vec<SurvivalGroup>,
    /// Log-rank test between cohorts (null with one cohort).
    pub logrank: Option<LogRank>,
    /// The breakdown the log-rank test was stratified by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logrank_strata: Option<String>,
    /// The Cox model, if covariates were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cox: Option<CoxFit>,
    /// People left out of the Cox model for a missing covariate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cox_excluded_missing: Option<u64>,
    /// People not yet observable (indexed less than the waiting period before the extract).
    pub not_observable: u64,
}

/// Follow-up time and event of each observable person (indices into People).
pub fn observations(outcomes: &Outcomes) -> (Vec<usize>, Vec<f64>, Vec<bool>) {
    let mut idx = Vec::new();
    let mut t = Vec::new();
    let mut e = Vec::new();
    for i in 0..outcomes.len() {
        if outcomes.observed_days[i] <= 0 && !outcomes.event[i] {
            continue;
        }
        idx.push(i);
        if outcomes.event[i] {
            t.push(outcomes.days_to_first[i] as f64);
            e.push(true);
        } else {
            t.push(outcomes.observed_days[i] as f64);
            e.push(false);
        }
    }
    (idx, t, e)
}

impl SurvivalAnalysis {
    /// Kaplan-Meier per group, log-rank and Cox, from people and outcomes at hand
    /// ([`Analysis::compute`](crate::Analysis::compute) runs it on an
    /// [`Evaluation`](crate::Evaluation)).
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// use reoffending::prelude::*;
    /// let inputs = Inputs::new("data-samples/cohort.csv", "data-samples/offences.csv");
    /// let eval = Evaluation::load(&inputs, Rules::default())?;
    /// let options = SurvivalOptions { covariates: vec!["sex".into()], ..Default::default() };
    /// let s = SurvivalAnalysis::compute(&eval, &options)?;
    /// assert_eq!(s.groups.len(), 2); // comparison and divert
    /// assert_eq!(s.cox.unwrap().coefficients[0].name, "cohort=divert");
    /// # Ok(()) }
    /// ```
    // Over 80 lines: Kaplan-Meier per group, log-rank and Cox in turn, each a call; the rest
    // assembles the result.
    pub fn of(
        people: &People,
        outcomes: &Outcomes,
        options: &SurvivalOptions,
    ) -> Result<SurvivalAnalysis> {
        options.check()?;
        let (idx, time, event) = observations(outcomes);
        let grouping = Grouping::new(people, &options.by)?;
        let mut groups = Vec::new();
        let t_km = crate::trace::Phase::start("  survival: Kaplan-Meier");
        for g in 0..grouping.len() {
            // The group's times and events, in the people's order (no list of its members).
            let (t, e): (Vec<f64>, Vec<bool>) = (0..idx.len())
                .filter(|&k| grouping.group_of[idx[k]] as usize == g)
                .map(|k| (time[k], event[k]))
                .unzip();
            if t.is_empty() {
                continue;
            }
            let km = KaplanMeier::fit(&t, &e, options.confidence, options.interval)?;
            let (lo, hi) = km.median_ci();
            groups.push(SurvivalGroup {
                key: crate::measure::GroupKey(
                    grouping
                        .names
                        .iter()
                        .cloned()
                        .zip(grouping.keys[g].iter().cloned())
                        .collect(),
                ),
                n: km.n,
                events: km.events,
                median: km.median(),
                median_ci_low: lo,
                median_ci_high: hi,
                rmst: km.rmst(outcomes.rules.follow_up_days as f64),
                survival_at: options.times.iter().map(|&d| km.survival_at(d)).collect(),
                table: km.table,
            });
        }
        drop(t_km);
        let t_lr = crate::trace::Phase::start("  survival: log-rank");
        // Each person's cohort among the cohorts present, numbered 0..k in the cohorts' order
        // (one number a person; the cohorts present found in parallel).
        use rayon::prelude::*;
        let codes = &people.cohort.codes;
        let present: Vec<u32> = idx
            .par_iter()
            .fold(std::collections::BTreeSet::new, |mut s, &i| {
                s.insert(codes[i]);
                s
            })
            .reduce(std::collections::BTreeSet::new, |mut a, b| {
                a.extend(b);
                a
            })
            .into_iter()
            .collect();
        let strata: Option<Vec<usize>> = match &options.strata {
            None => None,
            Some(s) => {
                let sg = Grouping::new(people, std::slice::from_ref(s))?;
                Some(idx.iter().map(|&i| sg.group_of[i] as usize).collect())
            }
        };
        let logrank = if present.len() >= 2 {
            let g: Vec<usize> = idx
                .par_iter()
                .map(|&i| present.binary_search(&codes[i]).unwrap_or(0))
                .collect();
            logrank(&time, &event, &g, strata.as_deref()).ok()
        } else {
            None
        };
        drop(t_lr);
        let t_cox = crate::trace::Phase::start("  survival: Cox");
        let (cox_fit, excluded) = if options.covariates.is_empty() {
            (None, None)
        } else {
            let mut covs = vec!["cohort".to_string()];
            covs.extend(
                options
                    .covariates
                    .iter()
                    .filter(|c| *c != "cohort")
                    .cloned(),
            );
            // The terms are read from the cohort table as the fit needs them: no column of
            // every term and person is made.
            let (design, terms) =
                Design::terms_of(people, &covs, &options.references, &idx, options.max_levels)?;
            if design.rows.is_empty() {
                return Err(Error::method("Cox model", "no one has all the covariates"));
            }
            // Each design row's place in `idx` (both in the people's order; every design
            // row is one of `idx`), found by a binary search: no index over every person.
            let place: Vec<usize> = design
                .rows
                .par_iter()
                .map(|i| idx.binary_search(i).unwrap_or_default())
                .collect();
            let t: Vec<f64> = place.par_iter().map(|&k| time[k]).collect();
            let e: Vec<bool> = place.par_iter().map(|&k| event[k]).collect();
            drop(place);
            // The terms as ranks: each distinct row's values once, one number a person.
            let ranked = terms.ranked(&design.rows);
            let x = terms.values_ranked(ranked);
            let fit =
                crate::stats::cox_of(t, e, &x, &design.names, options.ties, options.confidence)?;
            (Some(fit), Some(design.excluded_missing))
        };
        drop(t_cox);
        Ok(SurvivalAnalysis {
            follow_up_days: outcomes.rules.follow_up_days,
            interval: options.interval,
            confidence: options.confidence,
            groups,
            logrank,
            logrank_strata: options.strata.clone(),
            cox: cox_fit,
            cox_excluded_missing: excluded,
            not_observable: (outcomes.len() - idx.len()) as u64,
        })
    }
}
