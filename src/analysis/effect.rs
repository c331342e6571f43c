//! Every adjusted design side by side on the same propensity model (DOMAIN "Adjusted
//! designs"; CONTRACT §3 `effect`): does the effect hang on one matching?
//!
//! One design, one propensity model, one set of terms, as `match` builds them
//! (`MatchingStage`): the greedy matching in its default order gives the matched sets
//! for `matched` and `matched_regression`; the fitted scores give `ipw`, `overlap` and
//! `doubly_robust`; `entropy_balancing` reweights on the terms themselves
//! ([`adjusted_designs`]). Beside them:
//!
//! - **order sensitivity**: the greedy matching re-run with the pilot tie-groups taken in
//!   `order_runs` seeded random orders ([`MatchOrder::Random`]), each run's matched
//!   estimate and largest |SMD|, and their range;
//! - **overlap diagnostics**: the share of pilot people whose score lies outside the
//!   comparison people's range (and the reverse), the two groups' scores in bins of 0.05 for
//!   a chart, and a warning for each design whose effective sample size is under a third of
//!   its group;
//! - **the headline**: the matched difference with its standard error clustered by matched
//!   set (what `match` reports), and one sentence: whether the designs agree and, where
//!   they do not, which to believe and why.

use rayon::prelude::*;
use serde::Serialize;

use crate::data::People;
use crate::error::{Error, Result};
use crate::matching::{MatchOptions, MatchOrder, Matcher, Matches, MatchingStage};
use crate::measure::Outcomes;
use crate::stats::LogisticFit;
use crate::stats::designs::{
    ClusteredDifference, DesignBalance, DesignInputs, DesignKind, DesignOptions, DesignRow,
    MatchedRegressionFit, MatchedRows, SE_NOTE, Terms, Unavailable, adjusted_designs,
    matched_difference_clustered,
};

/// Options of [`Effects`]. Every field has a documented default.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectOptions {
    /// The data, covariates and matching, as for the matched comparison (its confidence
    /// level is the designs').
    pub matching: MatchOptions,
    /// Seeded random orders of the greedy matching for the order sensitivity. Default 20;
    /// 0 leaves it out.
    pub order_runs: usize,
    /// The seed of the orders. Default 20240601.
    pub seed: u64,
}

impl Default for EffectOptions {
    fn default() -> Self {
        EffectOptions {
            matching: MatchOptions::default(),
            order_runs: 20,
            seed: 20_240_601,
        }
    }
}

/// How much the greedy matching's result depends on the order in which pilot people are
/// taken (CONTRACT §3 `order_sensitivity`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderSensitivity {
    /// Random orders run.
    pub runs: usize,
    /// Their seed.
    pub seed: u64,
    /// The smallest matched estimate (risk difference) over the runs (null without runs).
    pub estimate_min: Option<f64>,
    /// The largest.
    pub estimate_max: Option<f64>,
    /// The largest |SMD| after matching in the worst run.
    pub max_abs_smd_max: Option<f64>,
    /// The largest |SMD| after matching in the best run.
    pub max_abs_smd_min: Option<f64>,
    /// The matched estimate in the default order (highest score first), for reference.
    pub estimate_default_order: f64,
    /// Each run's matched estimate, in run order.
    pub estimates: Vec<f64>,
}

/// One bin of propensity scores with the people of each group in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreBin {
    /// Lower edge (included).
    pub low: f64,
    /// Upper edge (excluded, but for the last bin).
    pub high: f64,
    /// Pilot people with a score in the bin.
    pub treated: u64,
    /// Comparison people with a score in the bin.
    pub controls: u64,
}

/// A design whose effective sample size is under a third of its group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowEss {
    /// The design.
    pub design: DesignKind,
    /// `treated` or `control`.
    pub group: &'static str,
    /// The effective sample size.
    pub ess: f64,
    /// The group's people (for the matched designs, the distinct matched people).
    pub people: u64,
}

/// Whether the two groups' propensity scores overlap (CONTRACT §3 `overlap_diagnostics`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapDiagnostics {
    /// Share of pilot people whose score is below the lowest or above the highest
    /// comparison score.
    pub treated_outside_control_range: f64,
    /// Those pilot people.
    pub treated_outside: u64,
    /// Share of comparison people whose score lies outside the pilot people's range.
    pub controls_outside_treated_range: f64,
    /// Those comparison people.
    pub controls_outside: u64,
    /// The scores of both groups in 20 bins of width 0.05 (empty bins included).
    pub bins: Vec<ScoreBin>,
    /// Designs whose effective sample size is under a third of the group's people.
    pub low_ess: Vec<LowEss>,
}

/// The people the designs rest on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectSample {
    /// Pilot people (full follow-up, all covariates).
    pub treated: u64,
    /// Comparison people.
    pub controls: u64,
    /// Pilot people who reoffended.
    pub treated_reoffenders: u64,
    /// Comparison people who reoffended.
    pub control_reoffenders: u64,
    /// Pilot people matched.
    pub matched_treated: u64,
    /// Distinct comparison people matched.
    pub matched_controls: u64,
    /// Matched pilot people who reoffended.
    pub matched_treated_reoffenders: u64,
    /// Distinct matched comparison people who reoffended.
    pub matched_control_reoffenders: u64,
    /// Matched sets (subclasses).
    pub matched_sets: u64,
    /// People left out for a missing covariate.
    pub excluded_missing: u64,
}

/// The matched comparison's headline: the matched difference with its standard error
/// clustered by matched set, as `match` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// Always `matched`.
    pub design: DesignKind,
    /// How the interval was computed: `cluster_robust_cr1`.
    pub rd_ci_method: &'static str,
    /// The difference and its clustered interval.
    #[serde(flatten)]
    pub difference: ClusteredDifference,
}

/// Every adjusted design side by side (CONTRACT §3 `effect`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effects {
    /// The pilot cohort.
    pub treatment: String,
    /// The comparison pool.
    pub control: String,
    /// One row per design for the 12-month measure (risk differences).
    pub designs: Vec<DesignRow>,
    /// The same for reoffences per person.
    pub frequency_designs: Vec<DesignRow>,
    /// The matched comparison's headline (clustered by matched set); null when it cannot be
    /// computed (fewer than two matched sets).
    pub headline: Option<Headline>,
    /// The greedy matching in random orders.
    pub order_sensitivity: OrderSensitivity,
    /// Overlap of the propensity scores and effective sample sizes.
    pub overlap_diagnostics: OverlapDiagnostics,
    /// Whether the designs agree, in one plain sentence.
    pub summary: String,
    /// Warnings (poor overlap, designs unavailable, too few pilot people).
    pub warnings: Vec<String>,
    /// The people the designs rest on.
    pub sample: EffectSample,
    /// The propensity model every design shares.
    pub propensity_model: LogisticFit,
    /// Each design's balance table.
    pub balance: Vec<DesignBalance>,
    /// The regression after matching (12-month measure).
    pub matched_regression: Option<MatchedRegressionFit>,
    /// Designs that could not be computed, with the reason.
    pub unavailable: Vec<Unavailable>,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// What the standard errors hold fixed.
    pub se_note: &'static str,
}

/// A design row reduced to what the agreement sentence reads.
#[derive(Debug, Clone, PartialEq)]
pub struct RowView {
    /// The design's name.
    pub design: String,
    /// The estimate.
    pub estimate: f64,
    /// Lower limit.
    pub ci_low: f64,
    /// Upper limit.
    pub ci_high: f64,
    /// Whether its effective sample size is under a third of a group's.
    pub low_ess: bool,
}

/// Where an interval lies relative to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Below,
    Straddles,
    Above,
}

fn side(r: &RowView) -> Side {
    if r.ci_high < 0.0 {
        Side::Below
    } else if r.ci_low > 0.0 {
        Side::Above
    } else {
        Side::Straddles
    }
}

fn names(rows: &[&RowView]) -> String {
    let n: Vec<&str> = rows.iter().map(|r| r.design.as_str()).collect();
    match n.len() {
        0 => String::new(),
        1 => n[0].to_string(),
        _ => format!("{} and {}", n[..n.len() - 1].join(", "), n[n.len() - 1]),
    }
}

/// The sentence on whether the designs agree: every interval on the same side of zero, the
/// spread of the estimates in percentage points, and, where they disagree, which to believe
/// and why (designs resting on an effective sample under a third of their group have poor
/// overlap). Used for the result and, from the published figures, for the report.
///
/// ```
/// use reoffending::effect::{RowView, agreement_sentence};
/// let row = |d: &str, e: f64, low_ess: bool| RowView {
///     design: d.into(), estimate: e, ci_low: e - 0.03, ci_high: e + 0.03, low_ess,
/// };
/// let s = agreement_sentence(&[row("matched", -0.06, false), row("ipw", -0.05, false)]);
/// assert!(s.starts_with("The designs agree"));
/// let s = agreement_sentence(&[row("matched", -0.06, false), row("ipw", 0.01, true)]);
/// assert!(s.starts_with("The designs disagree") && s.contains("poor overlap"));
/// ```
pub fn agreement_sentence(rows: &[RowView]) -> String {
    if rows.is_empty() {
        return "No design could be computed on these data.".into();
    }
    let pp = |x: f64| format!("{:+.1}", x * 100.0);
    let lo = rows
        .iter()
        .map(|r| r.estimate)
        .fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.estimate)
        .fold(f64::NEG_INFINITY, f64::max);
    let range = format!(
        "estimates run from {} to {} percentage points (a spread of {:.1} points)",
        pp(lo),
        pp(hi),
        (hi - lo) * 100.0
    );
    let sides: Vec<Side> = rows.iter().map(side).collect();
    if sides.iter().all(|s| *s == sides[0]) {
        let what = match sides[0] {
            Side::Below => "every interval lies below zero (less reoffending in the pilot)",
            Side::Above => "every interval lies above zero (more reoffending in the pilot)",
            Side::Straddles => {
                "every interval includes zero (no design finds a statistically significant difference)"
            }
        };
        return format!(
            "The designs agree: {what}, and {range}, so the finding does not hang on one matching."
        );
    }
    let by = |s: Side| -> Vec<&RowView> {
        rows.iter()
            .zip(&sides)
            .filter(|(_, x)| **x == s)
            .map(|(r, _)| r)
            .collect()
    };
    let mut parts = Vec::new();
    for (s, text) in [
        (Side::Below, "below zero"),
        (Side::Straddles, "including zero"),
        (Side::Above, "above zero"),
    ] {
        let g = by(s);
        if !g.is_empty() {
            parts.push(format!("{} with intervals {text}", names(&g)));
        }
    }
    let poor: Vec<&RowView> = rows.iter().filter(|r| r.low_ess).collect();
    let good: Vec<&RowView> = rows.iter().filter(|r| !r.low_ess).collect();
    let good_agree = !good.is_empty()
        && good.len() < rows.len()
        && good.iter().all(|r| side(r) == side(good[0]));
    let which = if good_agree {
        format!(
            " Believe {}: {} rest{} on an effective sample under a third of {} group (poor overlap: a few heavily \
             weighted people decide {}).",
            names(&good),
            names(&poor),
            if poor.len() == 1 { "s" } else { "" },
            if poor.len() == 1 { "its" } else { "their" },
            if poor.len() == 1 { "it" } else { "them" },
        )
    } else if !poor.is_empty() {
        format!(
            " {} rest{} on an effective sample under a third of {} group (poor overlap), and the others do not \
             settle it: treat the effect as uncertain and restrict the comparison to people who could have been in \
             either group.",
            names(&poor),
            if poor.len() == 1 { "s" } else { "" },
            if poor.len() == 1 { "its" } else { "their" },
        )
    } else if (hi - lo) <= 0.02 && (hi < 0.0 || lo > 0.0) {
        let unsure: Vec<&RowView> = rows.iter().filter(|r| side(r) == Side::Straddles).collect();
        format!(
            " The estimates agree within {:.1} points and differ only in precision: {} ha{} wider intervals \
             (matching sets most comparison people aside, weighting uses them all), so the effect lies between {} \
             and {} points and its statistical significance is borderline.",
            (hi - lo) * 100.0,
            names(&unsure),
            if unsure.len() == 1 { "s" } else { "ve" },
            pp(lo),
            pp(hi),
        )
    } else {
        " No design rests on a small effective sample, so the disagreement is about adjustment: prefer \
         matched_regression and doubly_robust, which also adjust for the terms within the comparison (doubly \
         robust is right if either of its models is), and treat the effect as uncertain."
            .to_string()
    };
    format!(
        "The designs disagree: {}; {range}.{which}",
        parts.join(", ")
    )
}

impl Effects {
    /// Every design on the same propensity model and terms, from people and outcomes at hand
    /// ([`Analysis::compute`](crate::Analysis::compute) runs it on an
    /// [`Evaluation`](crate::Evaluation)).
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// use reoffending::prelude::*;
    /// use reoffending::effect::{EffectOptions, Effects};
    /// let inputs = Inputs::new("data-samples/cohort.csv", "data-samples/offences.csv");
    /// let eval = Evaluation::load(&inputs, Rules::default())?;
    /// let options = EffectOptions {
    ///     matching: MatchOptions {
    ///         covariates: vec!["sex".into(), "age_at_index".into(), "prior_offences".into()],
    ///         ..Default::default()
    ///     },
    ///     order_runs: 5,
    ///     ..Default::default()
    /// };
    /// let e = Effects::compute(&eval, &options)?;
    /// assert_eq!(e.designs.len(), 6);
    /// assert_eq!(e.order_sensitivity.estimates.len(), 5);
    /// println!("{}", e.summary);
    /// # Ok(()) }
    /// ```
    pub fn of(people: &People, outcomes: &Outcomes, options: &EffectOptions) -> Result<Effects> {
        let stage = {
            let _t = crate::trace::Phase::start("  effect: design and propensity model");
            MatchingStage::prepare(people, outcomes, &options.matching)?
        };
        Self::of_stage(outcomes, options, &stage)
    }

    /// [`of`](Self::of) on a stage already prepared with `options.matching` (shared with the
    /// matched comparison).
    // Over 80 lines: see `of`.
    pub(crate) fn of_stage(
        outcomes: &Outcomes,
        options: &EffectOptions,
        stage: &MatchingStage,
    ) -> Result<Effects> {
        let mo = &options.matching;
        let treated = &stage.treated;
        // Each design row's outcome (rows in parallel, collected in their order).
        let reoffences: Vec<f64> = stage
            .design
            .rows
            .par_iter()
            .map(|&i| f64::from(outcomes.reoffences[i]))
            .collect();
        let reoffended: Vec<bool> = reoffences.iter().map(|&r| r > 0.0).collect();
        let propensity: Vec<f64> = stage
            .logit
            .iter()
            .map(|l| 1.0 / (1.0 + (-l).exp()))
            .collect();
        // Sorted once, matched in the default order and in every random order.
        let matcher = Matcher::new(&stage.logit, treated, &stage.exact_key);
        let m = {
            let _t = crate::trace::Phase::start("  effect: matching");
            matcher.run(&stage.spec, MatchOrder::Largest)
        };
        if m.members.is_empty() {
            return Err(Error::method(
                "matching",
                "no pilot person has a match within the caliper: widen the caliper or use fewer covariates",
            ));
        }
        let rows = SetRows::of(&m);
        let inputs = DesignInputs {
            names: &stage.design.names,
            terms: Terms::Sparse(&stage.sparse),
            treated,
            reoffended: &reoffended,
            reoffences: Some(&reoffences),
            propensity: &propensity,
            matched: Some(rows.view()),
        };
        let design_options = DesignOptions {
            confidence: mo.compare.confidence,
            ..Default::default()
        };
        let sample = sample(stage, &m, &reoffended);
        // The runs in random orders read only each row's weight in the default order.
        let m = Matches {
            members: Vec::new(),
            ..m
        };
        // The adjusted designs and the runs in random orders read nothing of each other's:
        // on two threads they run at the same time, each computed as when run alone.
        let (adjusted, order_sensitivity) = rayon::join(
            || {
                let _t = crate::trace::Phase::start("  effect: adjusted designs");
                adjusted_designs(&inputs, &design_options)
            },
            || {
                crate::trace::grouped(|| {
                    let _t = crate::trace::Phase::start("  effect: order sensitivity");
                    order_sensitivity(stage, &matcher, &reoffended, options, &m)
                })
            },
        );
        let adjusted = adjusted?;
        let headline = matched_difference_clustered(
            &rows.view(),
            treated,
            |k| f64::from(u8::from(reoffended[k])),
            mo.compare.confidence,
        )
        .ok()
        .map(|difference| Headline {
            design: DesignKind::Matched,
            rd_ci_method: "cluster_robust_cr1",
            difference,
        });
        drop((rows, reoffences));
        let mut warnings = stage.warnings.clone();
        let overlap_diagnostics = overlap(
            treated,
            &propensity,
            &adjusted.designs,
            &sample,
            &mut warnings,
        );
        for u in &adjusted.unavailable {
            warnings.push(format!(
                "{} ({}) is not available: {}",
                u.design,
                match u.outcome {
                    crate::stats::designs::OutcomeKind::Reoffended => "12-month measure",
                    crate::stats::designs::OutcomeKind::Reoffences => "reoffences per person",
                },
                u.reason
            ));
        }
        let views: Vec<RowView> = adjusted
            .designs
            .iter()
            .map(|r| RowView {
                design: r.design.name().to_string(),
                estimate: r.estimate,
                ci_low: r.ci_low,
                ci_high: r.ci_high,
                low_ess: overlap_diagnostics
                    .low_ess
                    .iter()
                    .any(|l| l.design == r.design),
            })
            .collect();
        let summary = agreement_sentence(&views);
        Ok(Effects {
            treatment: mo.treatment.clone(),
            control: mo.control.clone(),
            designs: adjusted.designs,
            frequency_designs: adjusted.frequency_designs,
            headline,
            order_sensitivity,
            overlap_diagnostics,
            summary,
            warnings,
            sample,
            propensity_model: stage.fit.clone(),
            balance: adjusted.balance,
            matched_regression: adjusted.matched_regression,
            unavailable: adjusted.unavailable,
            confidence: mo.compare.confidence,
            se_note: SE_NOTE,
        })
    }
}

/// The matched sets as rows (design row, weight, subclass).
struct SetRows {
    person: Vec<usize>,
    weight: Vec<f64>,
    subclass: Vec<u64>,
}

impl SetRows {
    fn of(m: &Matches) -> SetRows {
        SetRows {
            person: m.members.iter().map(|x| x.row).collect(),
            weight: m.members.iter().map(|x| x.weight).collect(),
            subclass: m.members.iter().map(|x| u64::from(x.subclass)).collect(),
        }
    }

    fn view(&self) -> MatchedRows<'_> {
        MatchedRows {
            person: &self.person,
            weight: &self.weight,
            subclass: &self.subclass,
        }
    }
}

fn sample(stage: &MatchingStage, m: &Matches, reoffended: &[bool]) -> EffectSample {
    let count =
        |f: &dyn Fn(usize) -> bool| (0..stage.treated.len()).filter(|&k| f(k)).count() as u64;
    let t = &stage.treated;
    let w = &m.weights;
    EffectSample {
        treated: stage.n_t as u64,
        controls: stage.n_c as u64,
        treated_reoffenders: count(&|k| t[k] && reoffended[k]),
        control_reoffenders: count(&|k| !t[k] && reoffended[k]),
        matched_treated: count(&|k| t[k] && w[k] > 0.0),
        matched_controls: count(&|k| !t[k] && w[k] > 0.0),
        matched_treated_reoffenders: count(&|k| t[k] && w[k] > 0.0 && reoffended[k]),
        matched_control_reoffenders: count(&|k| !t[k] && w[k] > 0.0 && reoffended[k]),
        matched_sets: u64::from(m.subclasses),
        excluded_missing: stage.design.excluded_missing,
    }
}

/// The matched estimate (difference of weighted means) and the largest |SMD| after
/// matching (denominators from the unweighted groups) of one matching's weights.
fn matched_summary(
    stage: &MatchingStage,
    reoffended: &[bool],
    weights: &[f64],
    den: &[f64],
) -> (f64, Option<f64>) {
    let t = &stage.treated;
    // One pass over the matched rows (weight above 0), in order: the outcome's and each
    // term's weighted sums by group. A term's sums read the row's values not zero: the
    // terms left out are +0, whose products (w > 0) add nothing to a sum that starts at +0,
    // so every sum is the one over the whole column. The rows of one run of identical terms
    // (`patterns`) read the terms once; the additions are the same, in the same order.
    let (mut sw, mut sy) = ([0.0f64; 2], [0.0f64; 2]);
    let mut s = vec![[0.0f64; 2]; den.len()];
    for run in stage.patterns.windows(2) {
        let (terms, values) = stage.sparse.row(run[0]);
        for (k, &w) in weights[run[0]..run[1]]
            .iter()
            .enumerate()
            .map(|(k, w)| (run[0] + k, w))
            .filter(|(_, w)| **w > 0.0)
        {
            let g = usize::from(t[k]);
            sw[g] += w;
            sy[g] += w * f64::from(u8::from(reoffended[k]));
            for (&j, &x) in terms.iter().zip(values) {
                s[j as usize][g] += w * x;
            }
        }
    }
    let estimate = sy[1] / sw[1] - sy[0] / sw[0];
    let smd = s
        .iter()
        .zip(den)
        .filter(|(_, d)| **d > 0.0)
        .map(|(s, d)| ((s[1] / sw[1] - s[0] / sw[0]) / d).abs())
        .reduce(f64::max);
    (estimate, smd)
}

/// SMD denominators: the square root of the mean of the two groups' sample variances (0
/// for a group of fewer than two people), from the stage's moments before matching.
fn smd_denominators(stage: &MatchingStage) -> Vec<f64> {
    let var = |n: usize, v: f64| if n < 2 { 0.0 } else { v };
    stage
        .before()
        .iter()
        .map(|((_, vt), (_, vc))| ((var(stage.n_t, *vt) + var(stage.n_c, *vc)) / 2.0).sqrt())
        .collect()
}

/// The seed of run `r`: the runs' orders are independent draws from one seed.
fn run_seed(seed: u64, r: usize) -> u64 {
    seed.wrapping_add((r as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn order_sensitivity(
    stage: &MatchingStage,
    matcher: &Matcher<'_>,
    reoffended: &[bool],
    options: &EffectOptions,
    default: &Matches,
) -> OrderSensitivity {
    let den = smd_denominators(stage);
    let (estimate_default_order, _) = matched_summary(stage, reoffended, &default.weights, &den);
    // Each run is a function of its seed alone, collected in run order: the result does not
    // depend on the number of threads. A thread's runs reuse one weights buffer.
    let runs: Vec<(f64, Option<f64>)> = (0..options.order_runs)
        .into_par_iter()
        .map_init(Vec::new, |buffer: &mut Vec<f64>, r| {
            let order = MatchOrder::Random {
                seed: run_seed(options.seed, r),
            };
            let weights = matcher.weights_in(&stage.spec, order, std::mem::take(buffer));
            let summary = matched_summary(stage, reoffended, &weights, &den);
            *buffer = weights;
            summary
        })
        .collect();
    let estimates: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let finite = |v: &[f64], pick: fn(f64, f64) -> f64| {
        v.iter().copied().filter(|x| x.is_finite()).reduce(pick)
    };
    let smds: Vec<f64> = runs.iter().filter_map(|r| r.1).collect();
    OrderSensitivity {
        runs: options.order_runs,
        seed: options.seed,
        estimate_min: finite(&estimates, f64::min),
        estimate_max: finite(&estimates, f64::max),
        max_abs_smd_max: finite(&smds, f64::max),
        max_abs_smd_min: finite(&smds, f64::min),
        estimate_default_order,
        estimates,
    }
}

/// Bins of width 0.05 over [0, 1].
const BINS: usize = 20;

fn overlap(
    treated: &[bool],
    e: &[f64],
    designs: &[DesignRow],
    sample: &EffectSample,
    warnings: &mut Vec<String>,
) -> OverlapDiagnostics {
    let range = |g: bool| {
        e.iter()
            .zip(treated)
            .filter(|(_, t)| **t == g)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (x, _)| {
                (lo.min(*x), hi.max(*x))
            })
    };
    let ((t_lo, t_hi), (c_lo, c_hi)) = (range(true), range(false));
    let outside = |g: bool, lo: f64, hi: f64| {
        e.iter()
            .zip(treated)
            .filter(|(x, t)| **t == g && (**x < lo || **x > hi))
            .count() as u64
    };
    let treated_outside = outside(true, c_lo, c_hi);
    let controls_outside = outside(false, t_lo, t_hi);
    let share = |k: u64, n: u64| if n > 0 { k as f64 / n as f64 } else { 0.0 };
    let mut bins: Vec<ScoreBin> = (0..BINS)
        .map(|b| ScoreBin {
            low: b as f64 / BINS as f64,
            high: (b + 1) as f64 / BINS as f64,
            treated: 0,
            controls: 0,
        })
        .collect();
    for (x, t) in e.iter().zip(treated) {
        // Scores lie strictly inside (0, 1): the bin index is below BINS.
        let b = ((x * BINS as f64).floor() as usize).min(BINS - 1);
        if *t {
            bins[b].treated += 1;
        } else {
            bins[b].controls += 1;
        }
    }
    if treated_outside > 0 {
        warnings.push(
            "Some pilot people have a propensity score outside the comparison people's range \
             (overlap_diagnostics): no comparison person resembles them, and every design extrapolates for them."
                .to_string(),
        );
    }
    let mut low_ess = Vec::new();
    for r in designs {
        let matched = matches!(
            r.design,
            DesignKind::Matched | DesignKind::MatchedRegression
        );
        let (nt, nc) = if matched {
            (sample.matched_treated, sample.matched_controls)
        } else {
            (sample.treated, sample.controls)
        };
        for (group, ess, people) in [
            ("treated", r.ess_treated, nt),
            ("control", r.ess_control, nc),
        ] {
            if people > 0 && ess < people as f64 / 3.0 {
                low_ess.push(LowEss {
                    design: r.design,
                    group,
                    ess,
                    people,
                });
                warnings.push(format!(
                    "{}: the {} group's effective sample size is under a third of its {}people: the estimate rests \
                     on a few heavily weighted people (poor overlap).",
                    r.design,
                    if group == "treated" { "pilot" } else { "comparison" },
                    if matched { "matched " } else { "" }
                ));
            }
        }
    }
    OverlapDiagnostics {
        treated_outside_control_range: share(treated_outside, sample.treated),
        treated_outside,
        controls_outside_treated_range: share(controls_outside, sample.controls),
        controls_outside,
        bins,
        low_ess,
    }
}
