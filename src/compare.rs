//! Comparing the pilot with a comparison group or with a fixed external rate, with a
//! plain-English verdict in the Justice Data Lab's style.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::People;
use crate::data::dates::{Day, format_day};
use crate::error::{Error, Result};
use crate::measure::{Grouping, NO_REOFFENCE, Outcomes};
use crate::present::{Table, num, pct, pval};
use crate::stats::{
    Adjustment, CiMethod, DiffMethod, EValue, ExactAgainst, Summary, Test, TwoByTwo,
    TwoByTwoResult, WeightedMean, WelchTest, adjust, binomial_test, detectable_one, detectable_two,
    e_value, exact_against, proportion_ci, weighted_difference, weighted_odds_ratio,
    weighted_ratio, welch,
};

/// Which comparison people a comparison uses, by index date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Every comparison person. Default.
    #[default]
    Full,
    /// Only comparison people indexed between the pilot cohort's first and last index
    /// dates (inclusive), so that both groups share the same years (courts, lockdowns).
    Pilot,
}

impl Period {
    /// The other period: the robustness check beside a comparison.
    pub fn other(self) -> Period {
        match self {
            Period::Full => Period::Pilot,
            Period::Pilot => Period::Full,
        }
    }
}

impl std::str::FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Period> {
        match s.to_ascii_lowercase().as_str() {
            "full" | "all" => Ok(Period::Full),
            "pilot" => Ok(Period::Pilot),
            _ => Err(Error::option(
                "period",
                format!("`{s}` is not a period (use full or pilot)"),
            )),
        }
    }
}

/// The first and last index dates of cohort `treatment` (every person kept, eligible or not).
pub fn pilot_range(people: &People, treatment: &str) -> Option<(Day, Day)> {
    let code = people.cohort.code_of(treatment)?;
    let days = (0..people.len())
        .filter(|&i| people.cohort.codes[i] == code)
        .map(|i| people.index_day[i]);
    days.clone().min().zip(days.max())
}

/// Who of the comparison people a period keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeriodFilter {
    range: Option<(Day, Day)>,
}

impl PeriodFilter {
    pub(crate) fn new(people: &People, treatment: &str, period: Period) -> PeriodFilter {
        PeriodFilter {
            range: match period {
                Period::Full => None,
                Period::Pilot => pilot_range(people, treatment),
            },
        }
    }

    /// Whether comparison person `i` is in the period.
    pub(crate) fn keeps(&self, people: &People, i: usize) -> bool {
        self.range
            .is_none_or(|(a, b)| (a..=b).contains(&people.index_day[i]))
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
    fn new(treatment: &str, rr: Option<f64>, low: Option<f64>, high: Option<f64>) -> Option<Self> {
        let value = e_value(rr?, low?, high?)?;
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

/// What the pilot is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// Another cohort in the data (e.g. `comparison`).
    Group(String),
    /// A published rate, such as Thames Valley's 20% (an external benchmark).
    Baseline {
        /// The rate, as a fraction.
        rate: f64,
        /// Its name, e.g. "Thames Valley Police drug diversion".
        name: Option<String>,
        /// Where it comes from.
        source: Option<String>,
    },
}

/// Options for [`Comparison::compute`]. Every field has a documented default.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Confidence level of every interval. Default 0.95 (so tests use alpha = 0.05).
    pub confidence: f64,
    /// Interval for the risk difference. Default Newcombe.
    pub rd_method: DiffMethod,
    /// Subgroup breakdowns (e.g. `sex`, `age_group`). Default none.
    pub by: Vec<String>,
    /// Adjustment of subgroup p-values. Default Holm.
    pub adjust: Adjustment,
    /// Power used for the minimum detectable difference. Default 0.8.
    pub power: f64,
    /// Which comparison people to use, by index date. Default [`Period::Full`].
    pub period: Period,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            confidence: 0.95,
            rd_method: DiffMethod::Newcombe,
            by: Vec::new(),
            adjust: Adjustment::Holm,
            power: 0.8,
            period: Period::Full,
        }
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
pub struct Sensitivity {
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
    /// `comparison_group` or `external_benchmark`.
    pub kind: &'static str,
    /// People in the 12-month measure, pilot.
    pub treatment_n: u64,
    /// Reoffenders, pilot.
    pub treatment_reoffenders: u64,
    /// People in the 12-month measure, comparison (null against a baseline).
    pub control_n: Option<u64>,
    /// Reoffenders, comparison.
    pub control_reoffenders: Option<u64>,
    /// Pilot rate.
    pub treatment_rate: f64,
    /// Wilson interval of the pilot rate.
    pub treatment_ci_low: f64,
    /// Wilson interval of the pilot rate.
    pub treatment_ci_high: f64,
    /// Comparison rate (the baseline rate against a benchmark).
    pub control_rate: f64,
    /// Pilot minus comparison.
    pub risk_difference: f64,
    /// Lower limit of the risk difference's confidence interval.
    pub rd_ci_low: f64,
    /// Upper limit of the risk difference's confidence interval.
    pub rd_ci_high: f64,
    /// Interval method (`newcombe`, `wald`; against a benchmark `clopper_pearson`: the exact
    /// interval for the rate, shifted by the benchmark, on which the verdict rests).
    pub rd_ci_method: &'static str,
    /// Ratio of rates.
    pub relative_risk: Option<f64>,
    /// Lower limit of the relative risk's confidence interval (log method).
    pub rr_ci_low: Option<f64>,
    /// Upper limit of the relative risk's confidence interval (log method).
    pub rr_ci_high: Option<f64>,
    /// Odds ratio.
    pub odds_ratio: Option<f64>,
    /// Lower limit of the odds ratio's confidence interval (Woolf).
    pub or_ci_low: Option<f64>,
    /// Upper limit of the odds ratio's confidence interval (Woolf).
    pub or_ci_high: Option<f64>,
    /// Tests keyed by name, each `{statistic, p_value}`.
    pub tests: BTreeMap<&'static str, Test>,
    /// Reoffences per person (comparison group only).
    pub frequency: Option<Frequency>,
    /// Days to first reoffence among reoffenders (comparison group only).
    pub time_to_first: Option<TimeToFirst>,
    /// The minimum detectable difference for these numbers.
    pub sensitivity: Sensitivity,
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
    /// From per-person reoffence counts, days to first (`None` for no reoffence), weights.
    pub(crate) fn weighted(
        counts: Vec<f64>,
        days: Vec<Option<f64>>,
        weights: Vec<f64>,
    ) -> GroupData {
        GroupData {
            // People, not weights: the estimates use the weights themselves.
            n: counts.len() as u64,
            reoffenders: counts.iter().filter(|c| **c > 0.0).count() as u64,
            days: days
                .iter()
                .zip(&weights)
                .filter_map(|(d, w)| d.map(|d| (d, *w)))
                .collect(),
            counts,
            weights,
        }
    }

    /// Every weight is 1 (a pilot group, or 1:1 matching without replacement).
    fn unit_weights(&self) -> bool {
        self.weights.iter().all(|w| *w == 1.0)
    }

    /// Kish effective size `(Σw)² / Σw²` (the count of people with unit weights).
    fn effective_n(&self) -> f64 {
        let sw: f64 = self.weights.iter().sum();
        let sw2: f64 = self.weights.iter().map(|w| w * w).sum();
        if sw2 > 0.0 { sw * sw / sw2 } else { 0.0 }
    }

    /// Whether each person reoffended (1) or not (0).
    fn binary(&self) -> Vec<f64> {
        self.counts.iter().map(|c| f64::from(*c > 0.0)).collect()
    }

    fn summary(&self) -> Summary {
        weighted_summary(
            self.counts
                .iter()
                .copied()
                .zip(self.weights.iter().copied()),
        )
    }

    fn day_summary(&self) -> Summary {
        weighted_summary(self.days.iter().copied())
    }
}

/// The comparison of weighted rates: difference in weighted means with a robust (sandwich)
/// standard error and normal interval; relative risk and odds ratio with delta-method log
/// intervals; one test, the robust z (in `z_pooled`; the count-based tests do not apply).
fn weighted_table(t: &GroupData, k: &GroupData, confidence: f64) -> Result<TwoByTwoResult> {
    let empty = || Error::method("comparison", "a matched group has no weight");
    let a = WeightedMean::of(&t.binary(), &t.weights).ok_or_else(empty)?;
    let b = WeightedMean::of(&k.binary(), &k.weights).ok_or_else(empty)?;
    let d = weighted_difference(&a, &b, confidence)?;
    let rr = weighted_ratio(&a, &b, confidence);
    let or = weighted_odds_ratio(&a, &b, confidence);
    let none = Test {
        statistic: None,
        p_value: None,
    };
    Ok(TwoByTwoResult {
        p1: a.mean,
        p2: b.mean,
        risk_difference: d.difference,
        rd_ci_low: d.ci_low,
        rd_ci_high: d.ci_high,
        rd_ci_method: DiffMethod::Wald,
        relative_risk: (b.mean > 0.0).then(|| a.mean / b.mean),
        rr_ci_low: rr.map(|r| r.1),
        rr_ci_high: rr.map(|r| r.2),
        odds_ratio: or.map(|r| r.0),
        or_ci_low: or.map(|r| r.1),
        or_ci_high: or.map(|r| r.2),
        z_pooled: d.z,
        chi_square: none,
        chi_square_yates: none,
        fisher_exact: none,
    })
}

/// Reoffences per person compared as weighted means with robust standard errors (in the
/// shape of Welch's test: the statistic is z, with infinite degrees of freedom).
fn weighted_welch(t: &GroupData, k: &GroupData, confidence: f64) -> Result<WelchTest> {
    let empty = || Error::method("comparison", "a matched group has no weight");
    let a = WeightedMean::of(&t.counts, &t.weights).ok_or_else(empty)?;
    let b = WeightedMean::of(&k.counts, &k.weights).ok_or_else(empty)?;
    let d = weighted_difference(&a, &b, confidence)?;
    Ok(WelchTest {
        difference: d.difference,
        ci_low: d.ci_low,
        ci_high: d.ci_high,
        statistic: d.z.statistic.unwrap_or(0.0),
        df: f64::INFINITY,
        p_value: d.z.p_value.unwrap_or(1.0),
    })
}

/// Weighted mean and variance with the effective sample size as `n` (unit weights give
/// the ordinary sample mean and variance).
fn weighted_summary(values: impl Iterator<Item = (f64, f64)>) -> Summary {
    let v: Vec<(f64, f64)> = values.collect();
    let sw: f64 = v.iter().map(|x| x.1).sum();
    if sw <= 0.0 {
        return Summary {
            n: 0,
            mean: f64::NAN,
            variance: 0.0,
        };
    }
    let sw2: f64 = v.iter().map(|x| x.1 * x.1).sum();
    let ess = sw * sw / sw2;
    let mean = v.iter().map(|(x, w)| x * w).sum::<f64>() / sw;
    let var_pop = v.iter().map(|(x, w)| w * (x - mean).powi(2)).sum::<f64>() / sw;
    let variance = if ess > 1.0 {
        var_pop * ess / (ess - 1.0)
    } else {
        0.0
    };
    Summary {
        n: ess.round() as u64,
        mean,
        variance,
    }
}

fn collect(
    people: &People,
    out: &Outcomes,
    label: &str,
    keep: impl Fn(usize) -> bool,
) -> Result<GroupData> {
    let code = people.cohort.code_of(label).ok_or_else(|| {
        Error::option(
            "control",
            format!(
                "no cohort `{label}` in the data (cohorts: {})",
                people.cohort.levels.join(", ")
            ),
        )
    })?;
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
    Ok(g)
}

/// The median (weighted: the value where the cumulative weight reaches half; with unit
/// weights and an even count, the mean of the two middle values).
fn median(v: &[(f64, f64)]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = s.iter().map(|x| x.1).sum();
    let half = total / 2.0;
    let mut acc = 0.0;
    for (k, (x, w)) in s.iter().enumerate() {
        acc += w;
        if (acc - half).abs() <= 1e-9 * total {
            return Some(s.get(k + 1).map_or(*x, |next| (x + next.0) / 2.0));
        }
        if acc > half {
            return Some(*x);
        }
    }
    s.last().map(|x| x.0)
}

fn pp(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

impl Comparison {
    /// Compares cohort `treatment` with `against`, on the 12-month measure.
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let (c, o) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    /// # reoffending::synth::generate(&reoffending::synth::GenerateOptions::new(3000, 1), &c, &o)?;
    /// use reoffending::compare::{Against, Comparison, CompareOptions};
    /// let eval = reoffending::Evaluation::load(
    ///     &reoffending::Inputs { cohort: c, offences: o, load: Default::default() },
    ///     reoffending::Rules::default(),
    /// )?;
    /// let tv = Against::Baseline { rate: 0.2, name: Some("Thames Valley".into()), source: None };
    /// let cmp = Comparison::compute(&eval.data.people, &eval.outcomes, "divert", &tv, &CompareOptions::default())?;
    /// assert!(cmp.summary.contains("not an estimate of")); // a benchmark is descriptive
    /// # Ok(()) }
    /// ```
    pub fn compute(
        people: &People,
        outcomes: &Outcomes,
        treatment: &str,
        against: &Against,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        crate::stats::check_confidence(options.confidence)?;
        if matches!(against, Against::Group(c) if c == treatment) {
            return Err(Error::option(
                "control",
                format!(
                    "`{treatment}` is the treatment cohort too: compare it with another cohort"
                ),
            ));
        }
        let t = collect(people, outcomes, treatment, |_| true)?;
        if t.n == 0 {
            return Err(Error::method(
                "comparison",
                format!("no one in `{treatment}` has the full follow-up and waiting period yet"),
            ));
        }
        let mut c = match against {
            Against::Group(control) => {
                let mut c = Self::against_group(people, outcomes, treatment, control, &t, options)?;
                c.period_check =
                    Self::period_check(people, outcomes, treatment, control, options, |o| {
                        Self::against_group(people, outcomes, treatment, control, &t, o)
                    })?;
                c
            }
            Against::Baseline { rate, name, source } => {
                Self::against_baseline(treatment, *rate, name.clone(), source.clone(), &t, options)?
            }
        };
        if !options.by.is_empty() {
            c.subgroups = subgroups(people, outcomes, treatment, against, options)?;
            c.subgroup_adjustment = Some(options.adjust);
        }
        Ok(c)
    }

    /// The comparison over the other period (`run` with the period switched), when some
    /// comparison people in the 12-month measure were indexed outside the pilot's period.
    pub(crate) fn period_check(
        people: &People,
        outcomes: &Outcomes,
        treatment: &str,
        control: &str,
        options: &CompareOptions,
        run: impl FnOnce(&CompareOptions) -> Result<Comparison>,
    ) -> Result<Option<PeriodCheck>> {
        let (Some((from, to)), Some(code)) = (
            pilot_range(people, treatment),
            people.cohort.code_of(control),
        ) else {
            return Ok(None);
        };
        let outside = (0..people.len())
            .filter(|&i| {
                people.cohort.codes[i] == code
                    && outcomes.eligible[i]
                    && !(from..=to).contains(&people.index_day[i])
            })
            .count() as u64;
        if outside == 0 {
            return Ok(None);
        }
        let other = CompareOptions {
            period: options.period.other(),
            by: Vec::new(),
            ..options.clone()
        };
        let c = match run(&other) {
            Ok(c) => c,
            // With no comparison people inside the pilot's period there is nothing to check.
            Err(Error::Method { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (from, to) = (format_day(from), format_day(to));
        let what = match other.period {
            Period::Pilot => format!(
                "Restricted to comparison people indexed within the pilot's period ({from} to {to})"
            ),
            Period::Full => format!(
                "With every comparison person, including {outside} indexed outside the pilot's period ({from} to {to})"
            ),
        };
        let summary = format!(
            "{what}, the difference is {} percentage points ({:.0}% interval {} to {}){}.",
            pp(c.risk_difference),
            c.confidence * 100.0,
            pp(c.rd_ci_low),
            pp(c.rd_ci_high),
            if c.significant {
                ", statistically significant"
            } else {
                ", not statistically significant"
            }
        );
        Ok(Some(PeriodCheck {
            period: other.period,
            pilot_from: from,
            pilot_to: to,
            comparison_outside: outside,
            comparison: Box::new(c),
            summary,
        }))
    }

    fn against_group(
        people: &People,
        outcomes: &Outcomes,
        treatment: &str,
        control: &str,
        t: &GroupData,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        let period = PeriodFilter::new(people, treatment, options.period);
        let k = collect(people, outcomes, control, |i| period.keeps(people, i))?;
        let caveat = format!(
            "Unless {control} was built by matching (reoffending match), the groups may differ in who was \
             diverted: a difference is not by itself the effect of the scheme."
        );
        let mut c = Self::from_groups(treatment, control, t, &k, options, caveat)?;
        c.summary = c.descriptive_summary();
        Ok(c)
    }

    /// The comparison of two groups' data (weighted for a matched comparison group).
    pub(crate) fn from_groups(
        treatment: &str,
        control: &str,
        t: &GroupData,
        k: &GroupData,
        options: &CompareOptions,
        caveat: String,
    ) -> Result<Comparison> {
        if k.n == 0 {
            return Err(Error::method(
                "comparison",
                format!("no one in `{control}` has the full follow-up and waiting period yet"),
            ));
        }
        // With weights (several controls per person, or controls reused), the comparison is
        // of weighted means with robust standard errors (MatchIt's guidance); with unit
        // weights the 2x2 table is exact and every test of it applies.
        let weighted = !(t.unit_weights() && k.unit_weights());
        let r = if weighted {
            weighted_table(t, k, options.confidence)?
        } else {
            TwoByTwo {
                x1: t.reoffenders,
                n1: t.n,
                x2: k.reoffenders,
                n2: k.n,
            }
            .compare(options.confidence, options.rd_method)?
        };
        let wilson = proportion_ci(t.reoffenders, t.n, options.confidence, CiMethod::Wilson)?
            .ok_or_else(|| Error::method("comparison", "empty group"))?;
        let alpha = 1.0 - options.confidence;
        let (st, sk) = (t.summary(), k.summary());
        let per_person = if weighted {
            weighted_welch(t, k, options.confidence)
        } else {
            welch(&st, &sk, options.confidence)
        };
        let weighted_rr = || {
            let a = WeightedMean::of(&t.counts, &t.weights)?;
            let b = WeightedMean::of(&k.counts, &k.weights)?;
            weighted_ratio(&a, &b, options.confidence)
        };
        let frequency = per_person.ok().map(|w| {
            let (rr, lo, hi) = if weighted {
                match weighted_rr() {
                    Some((r, lo, hi)) => (Some(r), Some(lo), Some(hi)),
                    None => ((sk.mean > 0.0).then(|| st.mean / sk.mean), None, None),
                }
            } else if sk.mean > 0.0 && st.mean > 0.0 {
                let z = crate::stats::z_upper(alpha / 2.0);
                let se = (st.variance / (st.n as f64 * st.mean * st.mean)
                    + sk.variance / (sk.n as f64 * sk.mean * sk.mean))
                    .sqrt();
                let l = (st.mean / sk.mean).ln();
                (
                    Some(st.mean / sk.mean),
                    Some((l - z * se).exp()),
                    Some((l + z * se).exp()),
                )
            } else {
                ((sk.mean > 0.0).then(|| st.mean / sk.mean), None, None)
            };
            Frequency {
                treatment_mean: st.mean,
                control_mean: sk.mean,
                treatment_per_100: st.mean * 100.0,
                control_per_100: sk.mean * 100.0,
                difference: w.difference,
                ci_low: w.ci_low,
                ci_high: w.ci_high,
                statistic: w.statistic,
                df: w.df,
                p_value: w.p_value,
                rate_ratio: rr,
                rate_ratio_ci_low: lo,
                rate_ratio_ci_high: hi,
            }
        });
        let (dt, dk) = (t.day_summary(), k.day_summary());
        let time_to_first = Some(TimeToFirst {
            treatment_reoffenders: t.reoffenders,
            control_reoffenders: k.reoffenders,
            treatment_mean_days: (dt.n > 0).then_some(dt.mean),
            control_mean_days: (dk.n > 0).then_some(dk.mean),
            treatment_median_days: median(&t.days),
            control_median_days: median(&k.days),
            welch_p_value: welch(&dt, &dk, options.confidence).ok().map(|w| w.p_value),
            note: "among people who reoffended only: see the survival analysis for everyone",
        });
        let det = detectable_two(
            t.n as f64,
            k.effective_n(),
            r.p2.clamp(1e-9, 1.0 - 1e-9),
            alpha,
            options.power,
        )?;
        let sensitivity = Sensitivity {
            power: options.power,
            alpha,
            min_detectable_difference_lower: det.min_detectable_rate_lower.map(|p| p - r.p2),
            min_detectable_difference_upper: det.min_detectable_rate_upper.map(|p| p - r.p2),
            method: crate::stats::TWO_SAMPLE_METHOD,
        };
        let significant = r.rd_ci_low > 0.0 || r.rd_ci_high < 0.0;
        let level = format!("{:.0}%", options.confidence * 100.0);
        let summary = if significant {
            let (word, lo, hi) = if r.risk_difference < 0.0 {
                ("less", -r.rd_ci_high, -r.rd_ci_low)
            } else {
                ("more", r.rd_ci_low, r.rd_ci_high)
            };
            format!(
                "People in {treatment} were {word} likely to reoffend within 12 months than people in {control}: \
                 {}% against {}%, a difference of between {} and {} percentage points ({level} interval).",
                pp(r.p1),
                pp(r.p2),
                pp(lo),
                pp(hi)
            )
        } else {
            let mdd = sensitivity
                .min_detectable_difference_lower
                .map(|d| format!(" With these numbers only a reduction of about {} percentage points or more could reliably be detected.", pp(-d)))
                .unwrap_or_default();
            format!(
                "The 12-month proven reoffending rate was {}% in {treatment} and {}% in {control}; the difference \
                 ({} percentage points, {level} interval {} to {}) is not statistically significant. More people would \
                 need to be analysed to determine the effect; this should not be taken to mean that the scheme has \
                 no effect.{mdd}",
                pp(r.p1),
                pp(r.p2),
                pp(r.risk_difference),
                pp(r.rd_ci_low),
                pp(r.rd_ci_high)
            )
        };
        let mut tests = BTreeMap::new();
        if weighted {
            tests.insert("z_robust", r.z_pooled);
        } else {
            tests.insert("z_pooled", r.z_pooled);
            tests.insert("chi_square", r.chi_square);
            tests.insert("chi_square_yates", r.chi_square_yates);
            tests.insert("fisher_exact", r.fisher_exact);
        }
        let mut caveats = vec![caveat];
        if t.n < 60 {
            caveats.push(format!(
                "Only {} people in {treatment}: the Justice Data Lab needs at least 60.",
                t.n
            ));
        }
        Ok(Comparison {
            treatment: treatment.to_string(),
            control: Some(control.to_string()),
            baseline_rate: None,
            baseline_name: None,
            baseline_source: None,
            kind: "comparison_group",
            treatment_n: t.n,
            treatment_reoffenders: t.reoffenders,
            control_n: Some(k.n),
            control_reoffenders: Some(k.reoffenders),
            treatment_rate: r.p1,
            treatment_ci_low: wilson.low,
            treatment_ci_high: wilson.high,
            control_rate: r.p2,
            risk_difference: r.risk_difference,
            rd_ci_low: r.rd_ci_low,
            rd_ci_high: r.rd_ci_high,
            rd_ci_method: match (weighted, options.rd_method) {
                (true, _) => "weighted_robust",
                (false, DiffMethod::Newcombe) => "newcombe",
                (false, DiffMethod::Wald) => "wald",
            },
            relative_risk: r.relative_risk,
            rr_ci_low: r.rr_ci_low,
            rr_ci_high: r.rr_ci_high,
            odds_ratio: r.odds_ratio,
            or_ci_low: r.or_ci_low,
            or_ci_high: r.or_ci_high,
            tests,
            frequency,
            time_to_first,
            sensitivity,
            confidence: options.confidence,
            significant,
            significance_basis: "the interval for the risk difference excludes zero",
            summary,
            caveats,
            subgroups: Vec::new(),
            subgroup_adjustment: None,
            e_value: EValueStatement::new(treatment, r.relative_risk, r.rr_ci_low, r.rr_ci_high),
            period: options.period,
            period_check: None,
        })
    }

    fn against_baseline(
        treatment: &str,
        p0: f64,
        name: Option<String>,
        source: Option<String>,
        t: &GroupData,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        let ci = proportion_ci(t.reoffenders, t.n, options.confidence, CiMethod::Wilson)?
            .ok_or_else(|| Error::method("comparison", "empty group"))?;
        // The verdict and the interval for the difference rest on one basis: the exact
        // (Clopper-Pearson) interval and the central exact test. The "minimum likelihood"
        // two-sided p of R and scipy is reported beside them, but can disagree with any
        // interval at the margin.
        let ExactAgainst {
            test,
            p_central,
            interval: exact,
            significant,
        } = exact_against(t.reoffenders, t.n, p0, options.confidence)?;
        let p = t.reoffenders as f64 / t.n as f64;
        let alpha = 1.0 - options.confidence;
        let odds = |x: f64| x / (1.0 - x);
        let det = detectable_one(t.n as f64, p0, alpha, options.power)?;
        let sensitivity = Sensitivity {
            power: options.power,
            alpha,
            min_detectable_difference_lower: det.min_detectable_rate_lower.map(|x| x - p0),
            min_detectable_difference_upper: det.min_detectable_rate_upper.map(|x| x - p0),
            method: crate::stats::ONE_SAMPLE_METHOD,
        };
        let label = name.clone().unwrap_or_else(|| "the benchmark".to_string());
        let level = format!("{:.0}%", options.confidence * 100.0);
        let relation = if !significant {
            "not statistically distinguishable from".to_string()
        } else if p < p0 {
            "lower than".to_string()
        } else {
            "higher than".to_string()
        };
        let summary = format!(
            "Descriptive comparison with an external benchmark, not an estimate of the scheme's impact: \
             {}% of people in {treatment} reoffended within 12 months ({level} exact interval {}% to {}%), {relation} \
             the {}% reported for {label} (exact binomial test, two-sided p = {}). The benchmark has no published \
             denominator, outcome definition or comparison group, so a difference may reflect how the figures \
             were counted, or who was diverted, rather than the schemes themselves.",
            pp(p),
            pp(exact.low),
            pp(exact.high),
            pp(p0),
            pval(Some(p_central)).unwrap_or_default()
        );
        let mut tests = BTreeMap::new();
        tests.insert(
            "binomial_exact",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(test.p_two_sided),
            },
        );
        tests.insert(
            "binomial_exact_central",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(p_central),
            },
        );
        tests.insert(
            "binomial_exact_less",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(test.p_less),
            },
        );
        tests.insert(
            "binomial_exact_greater",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(test.p_greater),
            },
        );
        let mut caveats = vec![
            "An external benchmark is descriptive: it cannot show what would have happened to these people without the scheme.".to_string(),
        ];
        if t.n < 60 {
            caveats.push(format!(
                "Only {} people in {treatment}: the Justice Data Lab needs at least 60.",
                t.n
            ));
        }
        Ok(Comparison {
            treatment: treatment.to_string(),
            control: None,
            baseline_rate: Some(p0),
            baseline_name: name,
            baseline_source: source,
            kind: "external_benchmark",
            treatment_n: t.n,
            treatment_reoffenders: t.reoffenders,
            control_n: None,
            control_reoffenders: None,
            treatment_rate: p,
            treatment_ci_low: ci.low,
            treatment_ci_high: ci.high,
            control_rate: p0,
            risk_difference: p - p0,
            rd_ci_low: exact.low - p0,
            rd_ci_high: exact.high - p0,
            rd_ci_method: "clopper_pearson",
            relative_risk: Some(p / p0),
            rr_ci_low: Some(exact.low / p0),
            rr_ci_high: Some(exact.high / p0),
            odds_ratio: (p < 1.0).then(|| odds(p) / odds(p0)),
            or_ci_low: (exact.low < 1.0).then(|| odds(exact.low) / odds(p0)),
            or_ci_high: (exact.high < 1.0).then(|| odds(exact.high) / odds(p0)),
            tests,
            frequency: None,
            time_to_first: None,
            sensitivity,
            confidence: options.confidence,
            significant,
            significance_basis: "the exact (Clopper-Pearson) interval for the rate excludes the fixed rate (the central two-sided exact test, binomial_exact_central, below alpha)",
            summary,
            caveats,
            subgroups: Vec::new(),
            subgroup_adjustment: None,
            e_value: None,
            period: Period::Full,
            period_check: None,
        })
    }

    /// The verdict of an unadjusted group comparison: descriptive, never worded as an
    /// effect of the scheme (only an adjusted design, such as matching, is).
    fn descriptive_summary(&self) -> String {
        let control = self.control.as_deref().unwrap_or("the comparison group");
        let level = format!("{:.0}%", self.confidence * 100.0);
        let (lo, hi) = (pp(self.rd_ci_low), pp(self.rd_ci_high));
        let head = format!(
            "Unadjusted, descriptive comparison: {}% of people in {} and {}% in {control} reoffended within 12 \
             months",
            pp(self.treatment_rate),
            self.treatment,
            pp(self.control_rate)
        );
        if self.significant {
            let (word, a, b) = if self.risk_difference < 0.0 {
                ("lower", pp(-self.rd_ci_high), pp(-self.rd_ci_low))
            } else {
                ("higher", lo, hi)
            };
            format!(
                "{head}: {word} in {} by between {a} and {b} percentage points ({level} interval). The groups \
                 may differ in who was diverted, so this is not by itself an estimate of the scheme's effect.",
                self.treatment
            )
        } else {
            format!(
                "{head}; the difference ({} percentage points, {level} interval {lo} to {hi}) is not statistically \
                 significant. More people would need to be analysed to tell the groups apart; this should not be \
                 taken to mean that the scheme has no effect.",
                pp(self.risk_difference)
            )
        }
    }

    /// The headline as a table.
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            "Comparison of 12-month proven reoffending",
            &["measure", "value"],
            1,
        );
        let ci =
            |lo: Option<f64>, hi: Option<f64>, f: &dyn Fn(Option<f64>) -> Option<String>| match (
                lo, hi,
            ) {
                (Some(_), Some(_)) => Some(format!(
                    "{} to {}",
                    f(lo).unwrap_or_default(),
                    f(hi).unwrap_or_default()
                )),
                _ => None,
            };
        let row = |t: &mut Table, k: &str, v: Option<String>| t.push(vec![Some(k.to_string()), v]);
        row(
            &mut t,
            &format!("{} (n = {})", self.treatment, self.treatment_n),
            pct(Some(self.treatment_rate)),
        );
        match (&self.control, self.control_n) {
            (Some(c), Some(n)) => row(
                &mut t,
                &format!("{c} (n = {n})"),
                pct(Some(self.control_rate)),
            ),
            _ => row(
                &mut t,
                &format!(
                    "benchmark: {}",
                    self.baseline_name.as_deref().unwrap_or("fixed rate")
                ),
                pct(Some(self.control_rate)),
            ),
        }
        let pts = |x: Option<f64>| x.map(|v| format!("{:+.1} pts", v * 100.0));
        row(&mut t, "difference", pts(Some(self.risk_difference)));
        row(
            &mut t,
            &format!(
                "{:.0}% interval ({})",
                self.confidence * 100.0,
                self.rd_ci_method
            ),
            ci(Some(self.rd_ci_low), Some(self.rd_ci_high), &pts),
        );
        row(&mut t, "relative risk", num(self.relative_risk, 3));
        row(
            &mut t,
            "  interval",
            ci(self.rr_ci_low, self.rr_ci_high, &|x| num(x, 3)),
        );
        row(&mut t, "odds ratio", num(self.odds_ratio, 3));
        row(
            &mut t,
            "  interval",
            ci(self.or_ci_low, self.or_ci_high, &|x| num(x, 3)),
        );
        for (name, test) in &self.tests {
            row(
                &mut t,
                &format!("test: {name}"),
                Some(format!(
                    "statistic {}, p = {}",
                    num(test.statistic, 3).unwrap_or_else(|| "-".into()),
                    pval(test.p_value).unwrap_or_else(|| "-".into())
                )),
            );
        }
        if let Some(f) = &self.frequency {
            row(
                &mut t,
                "reoffences per 100 people",
                Some(format!(
                    "{:.1} vs {:.1} (Welch p = {})",
                    f.treatment_per_100,
                    f.control_per_100,
                    pval(Some(f.p_value)).unwrap_or_default()
                )),
            );
        }
        if let Some(d) = &self.time_to_first {
            row(
                &mut t,
                "mean days to first reoffence (reoffenders)",
                Some(format!(
                    "{} vs {}",
                    num(d.treatment_mean_days, 1).unwrap_or_else(|| "-".into()),
                    num(d.control_mean_days, 1).unwrap_or_else(|| "-".into())
                )),
            );
        }
        row(
            &mut t,
            "smallest detectable reduction",
            self.sensitivity.min_detectable_difference_lower.map(|d| {
                format!(
                    "{:.1} pts (power {:.0}%)",
                    d * 100.0,
                    self.sensitivity.power * 100.0
                )
            }),
        );
        if let Some(e) = &self.e_value {
            row(
                &mut t,
                "E-value (estimate; interval limit)",
                Some(format!(
                    "{:.2}; {:.2}",
                    e.value.estimate, e.value.interval_limit
                )),
            );
        }
        if let Some(p) = &self.period_check {
            row(
                &mut t,
                &format!(
                    "difference, {} period",
                    match p.period {
                        Period::Pilot => "pilot",
                        Period::Full => "full",
                    }
                ),
                Some(format!(
                    "{:+.1} pts ({:+.1} to {:+.1})",
                    p.comparison.risk_difference * 100.0,
                    p.comparison.rd_ci_low * 100.0,
                    p.comparison.rd_ci_high * 100.0
                )),
            );
        }
        t.notes.push(String::new());
        t.notes.push(self.summary.clone());
        if let Some(e) = &self.e_value {
            t.notes.push(format!("Robustness: {}", e.summary));
        }
        if let Some(p) = &self.period_check {
            t.notes.push(format!("Period check: {}", p.summary));
        }
        for c in &self.caveats {
            t.notes.push(format!("Note: {c}"));
        }
        t
    }

    /// Subgroup results as a table.
    pub fn subgroup_table(&self) -> Option<Table> {
        if self.subgroups.is_empty() {
            return None;
        }
        let keys: Vec<String> = self.subgroups[0].key.keys().cloned().collect();
        let mut cols: Vec<&str> = keys.iter().map(String::as_str).collect();
        cols.extend([
            "n pilot",
            "rate pilot",
            "n comparison",
            "rate comparison",
            "difference (pts)",
            "interval",
            "p",
            "p adjusted",
        ]);
        let mut t = Table::new("Subgroups", &cols, keys.len());
        for s in &self.subgroups {
            let mut r: Vec<Option<String>> = s.key.values().cloned().collect();
            r.extend([
                Some(s.treatment_n.to_string()),
                pct(s.treatment_rate),
                Some(s.control_n.to_string()),
                pct(s.control_rate),
                s.risk_difference.map(|d| format!("{:+.1}", d * 100.0)),
                match (s.rd_ci_low, s.rd_ci_high) {
                    (Some(l), Some(h)) => Some(format!("{:+.1} to {:+.1}", l * 100.0, h * 100.0)),
                    _ => None,
                },
                pval(s.p_value),
                pval(s.p_adjusted),
            ]);
            t.push(r);
        }
        t.notes.push(format!(
            "p adjusted: {:?} adjustment over {} subgroups; a subgroup result is a lead to follow up, not a finding.",
            self.subgroup_adjustment.unwrap_or_default(),
            self.subgroups.len()
        ));
        Some(t)
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.table().fmt(f)?;
        if let Some(t) = self.subgroup_table() {
            writeln!(f)?;
            t.fmt(f)?;
        }
        Ok(())
    }
}

fn subgroups(
    people: &People,
    outcomes: &Outcomes,
    treatment: &str,
    against: &Against,
    options: &CompareOptions,
) -> Result<Vec<Subgroup>> {
    let grouping = Grouping::new(people, &options.by)?;
    // Subgroup = breakdown values without the cohort (first key).
    let mut keys: Vec<Vec<Option<String>>> =
        grouping.keys.iter().map(|k| k[1..].to_vec()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let member = |i: usize| grouping.keys[grouping.group_of[i] as usize][1..] == key[..];
        let t = collect(people, outcomes, treatment, member)?;
        let (control_n, control_rate, rd, lo, hi, p) = match against {
            Against::Group(control) => {
                let period = PeriodFilter::new(people, treatment, options.period);
                let k = collect(people, outcomes, control, |i| {
                    member(i) && period.keeps(people, i)
                })?;
                if t.n == 0 || k.n == 0 {
                    (
                        k.n,
                        (k.n > 0).then(|| k.reoffenders as f64 / k.n as f64),
                        None,
                        None,
                        None,
                        None,
                    )
                } else {
                    let r = TwoByTwo {
                        x1: t.reoffenders,
                        n1: t.n,
                        x2: k.reoffenders,
                        n2: k.n,
                    }
                    .compare(options.confidence, options.rd_method)?;
                    (
                        k.n,
                        Some(r.p2),
                        Some(r.risk_difference),
                        Some(r.rd_ci_low),
                        Some(r.rd_ci_high),
                        r.fisher_exact.p_value,
                    )
                }
            }
            Against::Baseline { rate, .. } => {
                if t.n == 0 {
                    (0, Some(*rate), None, None, None, None)
                } else {
                    let ci =
                        proportion_ci(t.reoffenders, t.n, options.confidence, CiMethod::Wilson)?;
                    let p = t.reoffenders as f64 / t.n as f64;
                    (
                        0,
                        Some(*rate),
                        Some(p - rate),
                        ci.map(|c| c.low - rate),
                        ci.map(|c| c.high - rate),
                        Some(binomial_test(t.reoffenders, t.n, *rate)?.p_two_sided),
                    )
                }
            }
        };
        out.push(Subgroup {
            key: grouping.names[1..]
                .iter()
                .cloned()
                .zip(key.iter().cloned())
                .collect(),
            treatment_n: t.n,
            treatment_rate: (t.n > 0).then(|| t.reoffenders as f64 / t.n as f64),
            control_n,
            control_rate,
            risk_difference: rd,
            rd_ci_low: lo,
            rd_ci_high: hi,
            p_value: p,
            p_adjusted: None,
            significant: false,
        });
    }
    let idx: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].p_value.is_some())
        .collect();
    let raw: Vec<f64> = idx.iter().filter_map(|&i| out[i].p_value).collect();
    let adj = adjust(&raw, options.adjust);
    let alpha = 1.0 - options.confidence;
    for (k, &i) in idx.iter().enumerate() {
        out[i].p_adjusted = Some(adj[k]);
        out[i].significant = adj[k] < alpha;
    }
    Ok(out)
}
