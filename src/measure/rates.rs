//! The 12-month proven reoffending rate per cohort and breakdown.

use serde::{Serialize, Serializer};

use super::groups::Grouping;
use super::outcome::{NO_REOFFENCE, Outcomes};
use crate::data::People;
use crate::error::Result;
use crate::stats::{BinomialTest, CiMethod, binomial_test, proportion_ci};

/// Options for [`Rates`]' [`compute`](crate::Analysis::compute), and the evaluation file's
/// `[rates]` table (read straight into this struct; `ci` by its name, e.g. `"wilson"`). Every
/// field has a documented default, defined once in the [`Default`] impl;
/// [`check`](Self::check) says which values no analysis can use.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateOptions {
    /// Breakdown columns beyond `cohort` (e.g. `sex`, `age_band`). Default: none.
    pub by: Vec<String>,
    /// Interval method. Default: Wilson.
    #[serde(deserialize_with = "ci_from_name")]
    pub ci: CiMethod,
    /// Confidence level. Default: 0.95.
    pub confidence: f64,
    /// A fixed rate (e.g. Thames Valley's 0.20) to test each group against. Default: none.
    pub baseline_rate: Option<f64>,
}

impl Default for RateOptions {
    fn default() -> Self {
        RateOptions {
            by: Vec::new(),
            ci: CiMethod::Wilson,
            confidence: 0.95,
            baseline_rate: None,
        }
    }
}

impl RateOptions {
    /// The values no rates can use: a confidence level or a baseline rate not strictly
    /// between 0 and 1. The error names the field (`confidence`).
    ///
    /// ```
    /// use reoffending::RateOptions;
    /// let o = RateOptions { confidence: 95.0, ..Default::default() };
    /// assert_eq!(o.check().unwrap_err().key, "confidence");
    /// ```
    pub fn check(&self) -> std::result::Result<(), crate::error::OptionError> {
        let fraction = |key: &str, x: f64| {
            if x > 0.0 && x < 1.0 {
                Ok(())
            } else {
                Err(crate::error::OptionError::new(
                    key,
                    format!("{x}: expected a fraction strictly between 0 and 1 (e.g. 0.2)"),
                ))
            }
        };
        fraction("confidence", self.confidence)?;
        if let Some(b) = self.baseline_rate {
            fraction("baseline_rate", b)?;
        }
        Ok(())
    }
}

/// The interval method by its name (`wilson`, `exact`, ...), as the evaluation file gives it.
fn ci_from_name<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<CiMethod, D::Error> {
    let name = <String as serde::Deserialize>::deserialize(d)?;
    name.parse()
        .map_err(|e: crate::stats::ArgumentError| serde::de::Error::custom(e.message))
}

/// The breakdown key of a group: `(column, value)` pairs, `cohort` first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKey(pub Vec<(String, Option<String>)>);

impl GroupKey {
    /// The value of breakdown `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

impl Serialize for GroupKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The 12-month measure for one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRate {
    /// `cohort` and each breakdown value.
    #[serde(flatten)]
    pub key: GroupKey,
    /// People in the 12-month measure.
    pub eligible: u64,
    /// Of whom reoffended (at least one proven reoffence).
    pub reoffenders: u64,
    /// Proven reoffences in all.
    pub reoffences: u64,
    /// `reoffenders / eligible` (null with no one eligible).
    pub rate: Option<f64>,
    /// Interval for the rate.
    pub ci_low: Option<f64>,
    /// Interval for the rate.
    pub ci_high: Option<f64>,
    /// The interval method.
    pub ci_method: CiMethod,
    /// Proven reoffences per person in the measure.
    pub reoffences_per_offender: Option<f64>,
    /// Proven reoffences per reoffender.
    pub reoffences_per_reoffender: Option<f64>,
    /// Mean days from the index date to the first proven reoffence, among reoffenders.
    pub mean_days_to_first: Option<f64>,
    /// Median of the same (mean of the two middle values for an even count).
    pub median_days_to_first: Option<f64>,
    /// The exact binomial test against the baseline rate, two-sided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_p_two_sided: Option<f64>,
    /// One-sided: the group's rate is lower than the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_p_less: Option<f64>,
    /// One-sided: the group's rate is higher than the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_p_greater: Option<f64>,
}

/// Proven reoffending rates per group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// Breakdown names, `cohort` first.
    pub by: Vec<String>,
    /// The interval method.
    pub ci_method: CiMethod,
    /// The confidence level.
    pub confidence: f64,
    /// The baseline rate tested against, if any.
    pub baseline_rate: Option<f64>,
    /// One row per group, ordered by key.
    pub groups: Vec<GroupRate>,
}

#[derive(Default, Clone)]
struct Acc {
    eligible: u64,
    reoffenders: u64,
    reoffences: u64,
    days: Vec<i32>,
}

impl Rates {
    /// Computes the rate per cohort and breakdown from per-person outcomes.
    pub fn of(people: &People, outcomes: &Outcomes, options: &RateOptions) -> Result<Rates> {
        crate::stats::check_confidence(options.confidence)?;
        let _t = crate::trace::Phase::start("rates");
        let grouping = Grouping::new(people, &options.by)?;
        let mut acc = vec![Acc::default(); grouping.len()];
        for (i, &g) in grouping.group_of.iter().enumerate() {
            if !outcomes.eligible[i] {
                continue;
            }
            let a = &mut acc[g as usize];
            a.eligible += 1;
            let r = outcomes.reoffences[i] as u64;
            a.reoffences += r;
            if r > 0 {
                a.reoffenders += 1;
                debug_assert_ne!(outcomes.days_to_first[i], NO_REOFFENCE);
                a.days.push(outcomes.days_to_first[i]);
            }
        }
        let mut groups = Vec::new();
        for (g, a) in acc.into_iter().enumerate() {
            let key = GroupKey(
                grouping
                    .names
                    .iter()
                    .cloned()
                    .zip(grouping.keys[g].iter().cloned())
                    .collect(),
            );
            groups.push(GroupRate::from_counts(key, a, options)?);
        }
        Ok(Rates {
            by: grouping.names,
            ci_method: options.ci,
            confidence: options.confidence,
            baseline_rate: options.baseline_rate,
            groups,
        })
    }

    /// The rows of one cohort.
    pub fn cohort(&self, label: &str) -> impl Iterator<Item = &GroupRate> {
        let label = label.to_string();
        self.groups
            .iter()
            .filter(move |g| g.key.get("cohort") == Some(label.as_str()))
    }
}

impl GroupRate {
    fn from_counts(key: GroupKey, a: Acc, options: &RateOptions) -> Result<GroupRate> {
        let ci = proportion_ci(a.reoffenders, a.eligible, options.confidence, options.ci)?;
        let ratio = |x: u64, n: u64| (n > 0).then(|| x as f64 / n as f64);
        let mean = (!a.days.is_empty())
            .then(|| a.days.iter().map(|&d| d as f64).sum::<f64>() / a.days.len() as f64);
        let test: Option<BinomialTest> = match options.baseline_rate {
            Some(p0) if a.eligible > 0 => Some(binomial_test(a.reoffenders, a.eligible, p0)?),
            Some(p0) => {
                // Validate the rate even with no one to test.
                binomial_test(0, 1, p0)?;
                None
            }
            None => None,
        };
        Ok(GroupRate {
            key,
            eligible: a.eligible,
            reoffenders: a.reoffenders,
            reoffences: a.reoffences,
            rate: ratio(a.reoffenders, a.eligible),
            ci_low: ci.map(|c| c.low),
            ci_high: ci.map(|c| c.high),
            ci_method: options.ci,
            reoffences_per_offender: ratio(a.reoffences, a.eligible),
            reoffences_per_reoffender: ratio(a.reoffences, a.reoffenders),
            mean_days_to_first: mean,
            median_days_to_first: crate::stats::median(a.days.iter().map(|&d| f64::from(d))),
            baseline_p_two_sided: test.map(|t| t.p_two_sided),
            baseline_p_less: test.map(|t| t.p_less),
            baseline_p_greater: test.map(|t| t.p_greater),
        })
    }
}
