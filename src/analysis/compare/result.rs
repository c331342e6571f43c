//! The comparison's result and its parts (CONTRACT §3 `compare`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Period;
use crate::stats::{Adjustment, EValue, Effect, Interval, Test, e_value};

/// The flat JSON keys of each effect (CONTRACT §3).
mod keys {
    use crate::stats::Effect;
    crate::stats::effect::flat_keys! {
        treatment_rate: Effect => ["treatment_rate", "treatment_ci_low", "treatment_ci_high"];
        risk_difference: Effect => ["risk_difference", "rd_ci_low", "rd_ci_high"];
        relative_risk: Option<Effect> => ["relative_risk", "rr_ci_low", "rr_ci_high"];
        odds_ratio: Option<Effect> => ["odds_ratio", "or_ci_low", "or_ci_high"];
    }

    /// The comparison group's rate interval under `control_ci_low` and `control_ci_high`, or
    /// no keys at all where there is none (against a benchmark, or a weighted group).
    pub(super) fn control_rate_ci<S: serde::Serializer>(
        ci: &Option<crate::stats::Interval>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(ci) = ci {
            m.serialize_entry("control_ci_low", &ci.low)?;
            m.serialize_entry("control_ci_high", &ci.high)?;
        }
        m.end()
    }
}

/// What a comparison is against (CONTRACT §3 `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonKind {
    /// Another cohort in the data: the difference is tested.
    ComparisonGroup,
    /// A published rate: descriptive only.
    ExternalBenchmark,
}

/// How a comparison's interval for the risk difference was computed (CONTRACT §3
/// `rd_ci_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceInterval {
    /// Newcombe's hybrid score interval (two groups, unit weights).
    Newcombe,
    /// Wald interval (two groups, unit weights).
    Wald,
    /// Normal interval with a robust (sandwich) standard error (weighted, matched groups).
    WeightedRobust,
    /// The exact interval for the rate, shifted by the benchmark (against a published rate:
    /// the interval on which the verdict rests).
    ClopperPearson,
    /// Normal interval with the standard error clustered by matched set (CR1,
    /// `G/(G-1)·(N-1)/(N-K)`): a matched comparison, accounting for the pairing.
    #[serde(rename = "cluster_robust_cr1")]
    ClusterRobust,
}

impl std::fmt::Display for DifferenceInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DifferenceInterval::Newcombe => "newcombe",
            DifferenceInterval::Wald => "wald",
            DifferenceInterval::WeightedRobust => "weighted_robust",
            DifferenceInterval::ClopperPearson => "clopper_pearson",
            DifferenceInterval::ClusterRobust => "cluster_robust_cr1",
        })
    }
}

/// The same comparison over the other period of comparison people (a robustness check).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodCheck {
    /// The period of `comparison`.
    pub period: Period,
    /// The pilot cohort's first index date.
    pub pilot_from: String,
    /// The pilot cohort's last index date.
    pub pilot_to: String,
    /// Comparison people in the 12-month measure indexed outside the pilot's period.
    pub comparison_outside: u64,
    /// The comparison over `period`.
    pub comparison: Box<Comparison>,
    /// One plain sentence.
    pub summary: String,
}

/// The E-value of a comparison's relative risk, with its plain sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EValueStatement {
    /// The E-values.
    #[serde(flatten)]
    pub value: EValue,
    /// What they mean, in one sentence.
    pub summary: String,
}

impl EValueStatement {
    pub(crate) fn new(treatment: &str, rr: Option<Effect>) -> Option<Self> {
        let rr = rr?;
        let value = e_value(rr.estimate, rr.low()?, rr.high()?)?;
        let summary = if value.interval_limit <= 1.0 {
            format!(
                "The interval for the relative risk includes 1, so no unrecorded factor is needed to explain the \
                 difference away; to move the estimate itself to no difference, an unrecorded factor would need to \
                 be associated with both being in {treatment} and reoffending by a risk ratio of at least {:.2} each.",
                value.estimate
            )
        } else {
            format!(
                "An unrecorded factor would need to be associated with both being in {treatment} and reoffending by \
                 a risk ratio of at least {:.2} each to explain away the difference, and of at least {:.2} each to \
                 make its interval include no difference.",
                value.estimate, value.interval_limit
            )
        };
        Some(EValueStatement { value, summary })
    }
}

/// Reoffences per person in each group, compared with Welch's t test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequency {
    /// Mean proven reoffences per person, pilot.
    pub treatment_mean: f64,
    /// Mean proven reoffences per person, comparison.
    pub control_mean: f64,
    /// Per 100 people, pilot.
    pub treatment_per_100: f64,
    /// Per 100 people, comparison.
    pub control_per_100: f64,
    /// Difference in means with Welch's interval and test.
    pub difference: f64,
    /// Lower limit of the confidence interval.
    pub ci_low: f64,
    /// Upper limit of the confidence interval.
    pub ci_high: f64,
    /// Welch t statistic.
    pub statistic: f64,
    /// Welch degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Ratio of the means (null when the comparison mean is 0).
    pub rate_ratio: Option<f64>,
    /// Delta-method log interval for the ratio (robust to over-dispersion).
    pub rate_ratio_ci_low: Option<f64>,
    /// Delta-method log interval for the ratio.
    pub rate_ratio_ci_high: Option<f64>,
}

/// Days to the first proven reoffence among those who reoffended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeToFirst {
    /// Reoffenders in the pilot group.
    pub treatment_reoffenders: u64,
    /// Reoffenders in the comparison group.
    pub control_reoffenders: u64,
    /// Mean days, pilot.
    pub treatment_mean_days: Option<f64>,
    /// Mean days, comparison.
    pub control_mean_days: Option<f64>,
    /// Median days, pilot.
    pub treatment_median_days: Option<f64>,
    /// Median days, comparison.
    pub control_median_days: Option<f64>,
    /// Welch test of the mean days (null with fewer than two reoffenders in a group).
    pub welch_p_value: Option<f64>,
    /// A reminder that this is conditional on reoffending.
    pub note: &'static str,
}

/// What a study of this size could detect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectableDifference {
    /// The power assumed.
    pub power: f64,
    /// The significance level assumed (two-sided).
    pub alpha: f64,
    /// The smallest reduction in the rate (percentage points as a fraction, negative)
    /// that could reliably be detected; null if none.
    pub min_detectable_difference_lower: Option<f64>,
    /// The smallest increase that could reliably be detected; null if none.
    pub min_detectable_difference_upper: Option<f64>,
    /// The method.
    pub method: &'static str,
}

/// One subgroup's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subgroup {
    /// Breakdown values.
    pub key: BTreeMap<String, Option<String>>,
    /// People in the pilot group.
    pub treatment_n: u64,
    /// Rate in the pilot group.
    pub treatment_rate: Option<f64>,
    /// People in the comparison group (0 against a baseline).
    pub control_n: u64,
    /// Rate in the comparison group, or the baseline.
    pub control_rate: Option<f64>,
    /// Risk difference (treatment minus control), as a fraction.
    pub risk_difference: Option<f64>,
    /// Lower limit of the risk difference's confidence interval.
    pub rd_ci_low: Option<f64>,
    /// Upper limit of the risk difference's confidence interval.
    pub rd_ci_high: Option<f64>,
    /// The test's p-value (Fisher exact against a group, exact binomial against a rate).
    pub p_value: Option<f64>,
    /// Adjusted for the number of subgroups.
    pub p_adjusted: Option<f64>,
    /// Adjusted p-value below alpha.
    pub significant: bool,
}

/// A comparison of the pilot with a group or a benchmark (docs/output.md §2 `compare`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The pilot cohort.
    pub treatment: String,
    /// The comparison cohort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// The fixed rate compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_rate: Option<f64>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_name: Option<String>,
    /// Its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_source: Option<String>,
    /// Against a group in the data or a published rate.
    pub kind: ComparisonKind,
    /// People in the 12-month measure, pilot.
    pub treatment_n: u64,
    /// Reoffenders, pilot.
    pub treatment_reoffenders: u64,
    /// People in the 12-month measure, comparison (null against a baseline).
    pub control_n: Option<u64>,
    /// Reoffenders, comparison.
    pub control_reoffenders: Option<u64>,
    /// Pilot rate with its Wilson interval (JSON: `treatment_rate`, `treatment_ci_low`,
    /// `treatment_ci_high`).
    #[serde(flatten, serialize_with = "keys::treatment_rate")]
    pub treatment_rate: Effect,
    /// Comparison rate (the baseline rate against a benchmark).
    pub control_rate: f64,
    /// The comparison group's Wilson interval (the method of the pilot's), from its people
    /// and reoffenders (JSON: `control_ci_low`, `control_ci_high`). `None`, and no keys,
    /// against a benchmark (a fixed rate) and for a weighted comparison group, whose rate is
    /// a weighted mean the people's counts do not give.
    #[serde(flatten, serialize_with = "keys::control_rate_ci")]
    pub control_rate_ci: Option<Interval>,
    /// Pilot minus comparison, with its interval (JSON: `risk_difference`, `rd_ci_low`,
    /// `rd_ci_high`).
    #[serde(flatten, serialize_with = "keys::risk_difference")]
    pub risk_difference: Effect,
    /// How the risk difference's interval was computed.
    pub rd_ci_method: DifferenceInterval,
    /// Ratio of rates with its log interval (JSON: `relative_risk`, `rr_ci_low`,
    /// `rr_ci_high`).
    #[serde(flatten, serialize_with = "keys::relative_risk")]
    pub relative_risk: Option<Effect>,
    /// Odds ratio with its Woolf interval (JSON: `odds_ratio`, `or_ci_low`, `or_ci_high`).
    #[serde(flatten, serialize_with = "keys::odds_ratio")]
    pub odds_ratio: Option<Effect>,
    /// Tests keyed by name, each `{statistic, p_value}`.
    pub tests: BTreeMap<&'static str, Test>,
    /// Reoffences per person (comparison group only).
    pub frequency: Option<Frequency>,
    /// Days to first reoffence among reoffenders (comparison group only).
    pub time_to_first: Option<TimeToFirst>,
    /// The minimum detectable difference for these numbers.
    pub sensitivity: DetectableDifference,
    /// Confidence level.
    pub confidence: f64,
    /// Whether the headline difference is statistically significant.
    pub significant: bool,
    /// What `significant` is based on.
    pub significance_basis: &'static str,
    /// The plain-English verdict.
    pub summary: String,
    /// What the reader must keep in mind.
    pub caveats: Vec<String>,
    /// Subgroup comparisons, if asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subgroups: Vec<Subgroup>,
    /// The p-value adjustment used for subgroups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup_adjustment: Option<Adjustment>,
    /// The E-value of the relative risk (VanderWeele and Ding): how strong an unrecorded
    /// difference between the groups would have to be to explain the result away. Null
    /// against an external benchmark, where the comparison is descriptive anyway.
    pub e_value: Option<EValueStatement>,
    /// Which comparison people were used.
    pub period: Period,
    /// The same comparison over the other period, when the comparison group's index dates
    /// reach outside the pilot's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_check: Option<PeriodCheck>,
}
