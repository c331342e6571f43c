//! A matched comparison group, as the Justice Data Lab builds one: a propensity model,
//! nearest-neighbour matching on its logit, balance checks, and the comparison on the
//! matched sample.

pub(crate) mod balance;
mod nearest;

use serde::{Deserialize, Serialize};

pub use balance::{BalanceRow, balance};
pub use nearest::{
    MatchOrder, MatchSpec, Matcher, Matches, Member, nearest_neighbour, nearest_neighbour_in_order,
};

use crate::compare::{CompareOptions, Comparison, GroupData, Period, PeriodCheck, PeriodFilter};
use crate::data::People;
use crate::design::Design;
use crate::error::{Error, OptionError, Result};
use crate::measure::{NO_REOFFENCE, Outcomes};
use crate::stats::designs::{MatchedRows, SparseTerms, matched_difference_clustered};
use crate::stats::{LogisticFit, PairDirection, RosenbaumBounds, logistic_sparse, rosenbaum};

/// The Justice Data Lab's minimum pilot group.
pub const MIN_TREATED: usize = 60;

/// Options for [`MatchedComparison`]'s [`compute`](crate::Analysis::compute), and the
/// evaluation file's `[match]` table (read straight into this struct; the cohorts and the
/// comparison options come from `[compare]`). Every field has a documented default, defined
/// once in the [`Default`] impl; [`check`](Self::check) says which values no analysis can use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchOptions {
    /// The pilot cohort. Default `divert` (in the evaluation file: `[compare] treatment`).
    #[serde(skip)]
    pub treatment: String,
    /// The pool of comparison people. Default `comparison` (in the evaluation file:
    /// `[compare] control`).
    #[serde(skip)]
    pub control: String,
    /// Covariates of the propensity model (`column`; categorical ones become indicators).
    pub covariates: Vec<String>,
    /// Reference levels, `(column, level)` (in the evaluation file, `"column=level"`).
    #[serde(deserialize_with = "references_from_text")]
    pub references: Vec<(String, String)>,
    /// Caliper in pooled standard deviations of the logit of the propensity score.
    /// Default 0.2; `None` for no caliper (in the evaluation file, `0`: see [`caliper_sd`]).
    #[serde(deserialize_with = "caliper_from_number")]
    pub caliper: Option<f64>,
    /// Controls per pilot person. Default 1.
    pub ratio: usize,
    /// Whether a control may be matched to several pilot people. Default false.
    pub replace: bool,
    /// Columns matched exactly (e.g. `sex`). Default none.
    pub exact: Vec<String>,
    /// Comparison options on the matched sample (in the evaluation file: `[compare]`).
    #[serde(skip)]
    pub compare: CompareOptions,
    /// The most levels a categorical covariate may have. Default
    /// [`MAX_LEVELS`](crate::design::MAX_LEVELS) (200).
    pub max_levels: usize,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            treatment: crate::compare::DEFAULT_TREATMENT.into(),
            control: crate::compare::DEFAULT_CONTROL.into(),
            covariates: Vec::new(),
            references: Vec::new(),
            caliper: Some(0.2),
            ratio: 1,
            replace: false,
            exact: Vec::new(),
            compare: CompareOptions::default(),
            max_levels: crate::design::MAX_LEVELS,
        }
    }
}

impl MatchOptions {
    /// The values no matching can use, checked before any data is read: no covariates, the
    /// treatment cohort as its own control, a ratio of 0, a caliper that is not a finite
    /// number above 0, a `max_levels` of 0. The error names the field (`caliper`).
    ///
    /// ```
    /// use reoffending::matching::MatchOptions;
    /// let o = MatchOptions { covariates: vec!["sex".into()], caliper: Some(-1.0), ..Default::default() };
    /// assert_eq!(o.check().unwrap_err().key, "caliper");
    /// ```
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        if self.covariates.is_empty() {
            return Err(OptionError::new(
                "covariates",
                "none: name the covariates of the propensity model",
            ));
        }
        crate::compare::distinct_cohorts(&self.treatment, &self.control)?;
        if self.ratio == 0 {
            return Err(OptionError::new(
                "ratio",
                "0: expected at least 1 control per person",
            ));
        }
        if let Some(c) = self.caliper.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return Err(OptionError::new(
                "caliper",
                format!(
                    "{c}: expected a finite number of standard deviations above 0 (or no caliper)"
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

/// The caliper a number of standard deviations gives, as the evaluation file and the
/// command line write it: `0` for no caliper (`None`), else `Some(sd)`.
pub fn caliper_sd(sd: f64) -> Option<f64> {
    (sd != 0.0).then_some(sd)
}

fn caliper_from_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(caliper_sd(f64::deserialize(d)?))
}

fn references_from_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, String)>, D::Error> {
    let items = Vec::<String>::deserialize(d)?;
    crate::design::parse_references(&items).map_err(|e| match e {
        Error::Option { message, .. } => serde::de::Error::custom(message),
        other => serde::de::Error::custom(other),
    })
}

/// The propensity model as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropensityModel {
    /// Terms with coefficients and standard errors.
    #[serde(flatten)]
    pub fit: LogisticFit,
    /// Reference levels of categorical covariates.
    pub references: Vec<(String, String)>,
}

/// Sample sizes before and after matching (MatchIt's summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSizes {
    /// Pilot people in the 12-month measure with all covariates.
    pub treated: u64,
    /// Comparison people likewise.
    pub controls: u64,
    /// Pilot people matched.
    pub matched_treated: u64,
    /// Distinct comparison people matched.
    pub matched_controls: u64,
    /// Pilot people with no match within the caliper (discarded).
    pub unmatched_treated: u64,
    /// Comparison people never used.
    pub unmatched_controls: u64,
    /// Kish effective size of the weighted comparison group.
    pub effective_controls: f64,
    /// People left out for a missing covariate.
    pub excluded_missing: u64,
}

/// The three Justice Data Lab headline measures, per 100 people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// "For every 100 people who took part, N reoffended within a year; for every 100
    /// similar people who did not, M did."
    pub rate_per_100: String,
    /// Proven reoffences per 100 people.
    pub frequency_per_100: String,
    /// Days to first reoffence among reoffenders.
    pub days_to_first: String,
}

/// The whole matched analysis (docs/output.md §2 `match`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedComparison {
    /// The propensity model.
    pub propensity_model: PropensityModel,
    /// Balance before and after matching, one row per term.
    pub balance: Vec<BalanceRow>,
    /// Sample sizes.
    pub sample: SampleSizes,
    /// The comparison on the matched sample.
    pub comparison: Comparison,
    /// Headline measures in the Justice Data Lab's words.
    pub headline: Headline,
    /// Caliper width on the logit scale (null without a caliper).
    pub caliper_logit: Option<f64>,
    /// Matching settings.
    pub ratio: usize,
    /// With replacement.
    pub replace: bool,
    /// Exact-matched columns.
    pub exact: Vec<String>,
    /// Terms with |SMD| above 0.1 after matching.
    pub imbalanced_terms: Vec<String>,
    /// Warnings (too few people, imbalance, a failed placebo check).
    pub warnings: Vec<String>,
    /// Rosenbaum bounds on the matched pairs (1:1 matching without replacement only; null
    /// otherwise, with the reason in `rosenbaum_note`).
    pub rosenbaum: Option<Rosenbaum>,
    /// Why there are no Rosenbaum bounds, when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rosenbaum_note: Option<String>,
    /// The placebo (negative-control) outcome: the same matched comparison on proven
    /// offences in the year before the index date, which the scheme cannot have caused.
    pub placebo: Comparison,
    /// The same matched comparison over the other period of comparison people, when the
    /// comparison pool's index dates reach outside the pilot's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_check: Option<PeriodCheck>,
    /// The matched sample: each person used, with their weight. Person-level, so never
    /// published (not serialised); for work inside the secure environment. Empty in the
    /// results of a whole evaluation (the report), which does not keep it: `compute` on the
    /// evaluation (as `match --matched-out` does) fills it.
    #[serde(skip)]
    pub matched: Vec<MatchedPerson>,
    /// The matched sets, one row per person and set (MatchIt's `match.data()`): what
    /// `match --matched-out` writes. Person-level, so never published (not serialised).
    /// Empty in the results of a whole evaluation, as `matched` is.
    #[serde(skip)]
    pub sets: Vec<MatchedMember>,
}

/// One person's share of one matched set (a pilot person, or a control of the block the
/// set drew).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchedMember {
    /// Index into [`People`].
    pub person: usize,
    /// In the pilot group.
    pub treated: bool,
    /// The matched set (MatchIt's `subclass`), numbered from 0.
    pub subclass: u32,
    /// The person's weight within this set (see [`Member::weight`]).
    pub weight: f64,
    /// The fitted propensity score.
    pub propensity_score: f64,
}

/// One person of the matched sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchedPerson {
    /// Index into [`People`].
    pub person: usize,
    /// In the pilot group.
    pub treated: bool,
    /// For pilot people 1 (or the share of their tie group that found controls); for
    /// comparison people the sum over their draws of `u / (m k)` (see
    /// [`Matches::weights`]).
    pub weight: f64,
}

/// Rosenbaum bounds with their plain sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rosenbaum {
    /// The bounds.
    #[serde(flatten)]
    pub bounds: RosenbaumBounds,
    /// What they mean, in one sentence.
    pub summary: String,
}

impl Rosenbaum {
    fn new(bounds: RosenbaumBounds, treatment: &str) -> Rosenbaum {
        // The bound is one-sided at half the headline's level: "significant" here means what
        // it means in the two-sided headline.
        let level = format!(
            "the headline's {}% level (two-sided; one-sided {}%)",
            percent(bounds.alpha * 2.0),
            percent(bounds.alpha)
        );
        let side = match bounds.direction {
            PairDirection::PilotLower => "only the comparison person".to_string(),
            PairDirection::PilotHigher => format!("only the person in {treatment}"),
        };
        let summary = match bounds.gamma_at_alpha {
            None => "No matched pair differs in outcome, so there is nothing to test.".to_string(),
            Some(g) if g <= 1.0 => format!(
                "Of {} pairs in which exactly one person reoffended, {} were pairs in which {side} did; the difference \
                 is not significant at {level} even assuming no hidden bias.",
                bounds.discordant_pairs,
                bounds.treated_only.max(bounds.control_only)
            ),
            Some(g) => format!(
                "Of {} pairs in which exactly one person reoffended, {} were pairs in which {side} did. The finding \
                 stays significant at {level} unless an unrecorded factor made one person of a pair up to {g:.2} times \
                 as likely as the other to be diverted (Gamma); hidden bias of that size could explain it away.",
                bounds.discordant_pairs,
                bounds.treated_only.max(bounds.control_only)
            ),
        };
        Rosenbaum { bounds, summary }
    }
}

impl MatchedComparison {
    /// Fits the propensity model, matches, checks balance and compares, from people and
    /// outcomes at hand ([`Analysis::compute`](crate::Analysis::compute) runs it on an
    /// [`Evaluation`](crate::Evaluation)).
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// use reoffending::prelude::*;
    /// let inputs = Inputs::new("data-samples/cohort.csv", "data-samples/offences.csv");
    /// let eval = Evaluation::load(&inputs, Rules::default())?;
    /// let options = MatchOptions {
    ///     covariates: vec!["sex".into(), "age_at_index".into(), "prior_offences".into()],
    ///     ..Default::default()
    /// };
    /// let m = MatchedComparison::compute(&eval, &options)?;
    /// let prior = m.balance.iter().find(|b| b.covariate == "prior_offences").unwrap();
    /// assert!(prior.smd_after.unwrap().abs() < prior.smd_before.unwrap().abs());
    /// println!("{}", m.headline.rate_per_100);
    /// # Ok(()) }
    /// ```
    pub fn of(
        people: &People,
        outcomes: &Outcomes,
        options: &MatchOptions,
    ) -> Result<MatchedComparison> {
        let stage = MatchingStage::prepare(people, outcomes, options)?;
        Self::with_period_check(people, outcomes, options, &stage, true)
    }

    /// [`of`](Self::of) on a stage already prepared with these options (the design and the
    /// propensity model, shared with the adjusted designs of `effect`), as the report runs
    /// it: without the person-level matched sample and sets (`matched` and `sets` are
    /// empty), which nothing in a report reads and which would hold 0.3 GB at 10 million
    /// people through every analysis after it. Every published figure is the same.
    pub(crate) fn of_stage(
        people: &People,
        outcomes: &Outcomes,
        options: &MatchOptions,
        stage: &MatchingStage,
    ) -> Result<MatchedComparison> {
        Self::with_period_check(people, outcomes, options, stage, false)
    }

    /// The matched analysis on a prepared stage with its period check; `keep_sample`: with
    /// the matched sample and sets.
    fn with_period_check(
        people: &People,
        outcomes: &Outcomes,
        options: &MatchOptions,
        stage: &MatchingStage,
        keep_sample: bool,
    ) -> Result<MatchedComparison> {
        let mut m = Self::from_stage(outcomes, options, stage, keep_sample)?;
        let _t = crate::trace::Phase::start("  match: period check");
        m.period_check = Comparison::period_check(
            people,
            outcomes,
            &options.treatment,
            &options.control,
            &options.compare,
            |other| {
                let o = MatchOptions {
                    compare: other.clone(),
                    ..options.clone()
                };
                // The pilot's period within every comparison person: the same design at
                // fewer rows, when its terms are the same (see `MatchingStage::within`).
                // Only the comparison is reported: no balance, placebo or Rosenbaum bounds.
                match stage.within(people, outcomes, &options.compare, &o)? {
                    Some(inner) => Self::comparison_only(outcomes, &o, &inner),
                    None => {
                        let inner = MatchingStage::prepare(people, outcomes, &o)?;
                        Self::comparison_only(outcomes, &o, &inner)
                    }
                }
            },
        )?;
        Ok(m)
    }

    /// The comparison on the matched sample of a prepared stage, and nothing else (what the
    /// period check reports): the same nearest neighbours and the same comparison, with its
    /// interval clustered by matched set, as [`from_stage`](Self::from_stage) gives.
    fn comparison_only(
        outcomes: &Outcomes,
        options: &MatchOptions,
        stage: &MatchingStage,
    ) -> Result<Comparison> {
        let t = crate::trace::Phase::start("  match: nearest neighbours");
        let m = nearest_neighbour(&stage.logit, &stage.treated, &stage.exact_key, &stage.spec);
        drop(t);
        let _t = crate::trace::Phase::start("  match: comparisons");
        // The warnings of the clustered interval are the full analysis's; here only the
        // comparison is kept.
        let mut warnings = Vec::new();
        // The outcomes of the design rows, in their order: the passes over the matched sample
        // then read memory in order, not every person's at random.
        let rows = RowOutcomes::of(outcomes, &stage.design.rows);
        let sets = SetRows::of(&m);
        drop(m.members);
        matched_outcome_comparison(
            &rows,
            options,
            &stage.treated,
            &m.weights,
            &sets,
            &mut warnings,
        )
        .map(|(comparison, _)| comparison)
    }

    /// The matched analysis on a prepared stage, without the period check.
    // Over 80 lines: the matching pipeline (nearest neighbours, balance, matched comparison,
    // placebo, Rosenbaum bounds) in the order MatchIt documents it; each step is a call and the
    // function is mostly the wiring of their results into one result.
    fn from_stage(
        outcomes: &Outcomes,
        options: &MatchOptions,
        stage: &MatchingStage,
        keep_sample: bool,
    ) -> Result<MatchedComparison> {
        let MatchingStage {
            design,
            sparse: _,
            patterns: _,
            before: _,
            treated,
            fit,
            logit,
            caliper_logit,
            exact_key,
            spec,
            n_t,
            n_c,
            warnings,
        } = stage;
        let (fit, caliper_logit, spec, n_t, n_c) = (fit.clone(), *caliper_logit, *spec, *n_t, *n_c);
        let mut warnings = warnings.clone();
        let t = crate::trace::Phase::start("  match: nearest neighbours");
        let m = nearest_neighbour(logit, treated, exact_key, &spec);
        drop(t);
        let t = crate::trace::Phase::start("  match: balance");
        let balance = balance::balance_of_sparse(
            &design.names,
            &stage.sparse,
            &stage.patterns,
            treated,
            &m.weights,
            stage.before(),
        );
        drop(t);
        let t_comparisons = crate::trace::Phase::start("  match: comparisons");
        // The outcomes of the design rows, in their order (see `comparison_only`).
        let rows = &RowOutcomes::of(outcomes, &design.rows);
        let imbalanced_terms: Vec<String> = balance
            .iter()
            .filter(|b| b.smd_after.is_some_and(|s| s.abs() > 0.1))
            .map(|b| b.covariate.clone())
            .collect();
        if !imbalanced_terms.is_empty() {
            warnings.push(format!(
                "After matching, |SMD| is above 0.1 for: {} (0.25 is the lenient threshold).",
                imbalanced_terms.join(", ")
            ));
        }
        // The matched sets as rows; the members themselves are read again only for the
        // person-level sample.
        let mut m = m;
        let sets = SetRows::of(&m);
        if !keep_sample {
            m.members = Vec::new();
        }
        let (comparison, c) =
            matched_outcome_comparison(rows, options, treated, &m.weights, &sets, &mut warnings)?;
        let matched_treated = comparison.treatment_n;
        let effective_controls = {
            let sw: f64 = c.weights.iter().sum();
            let sw2: f64 = c.weights.iter().map(|w| w * w).sum();
            sw * sw / sw2
        };
        let matched_controls = c.counts.len();
        // The comparison group's outcomes are read no further.
        drop(c);
        let headline = headline(&comparison, &options.treatment);
        let t = crate::trace::Phase::start("    comparisons: placebo");
        let mut placebo = placebo(rows, treated, &m.weights, options)?;
        let before = |k: usize| f64::from(u8::from(rows.prior_year[k] > 0));
        cluster_by_set(&mut placebo, &sets, treated, before, &mut warnings);
        placebo.summary = placebo_summary(&placebo, options);
        if placebo.significant {
            warnings.push(format!("Placebo check failed: {}", placebo.summary));
        }
        drop(t);
        drop(t_comparisons);
        let (rosenbaum, rosenbaum_note) =
            crate::trace::timed("  match: robustness (Rosenbaum)", || {
                rosenbaum_bounds(rows, treated, &sets, options)
            })?;
        drop(sets);
        let sample = SampleSizes {
            treated: n_t as u64,
            controls: n_c as u64,
            matched_treated,
            matched_controls: matched_controls as u64,
            unmatched_treated: n_t as u64 - matched_treated.min(n_t as u64),
            unmatched_controls: (n_c - matched_controls) as u64,
            effective_controls,
            excluded_missing: design.excluded_missing,
        };
        let t = crate::trace::Phase::start("    comparisons: matched sample and sets");
        let (matched, sets) = if keep_sample {
            matched_sample(design, treated, logit, m)
        } else {
            (Vec::new(), Vec::new())
        };
        drop(t);
        Ok(MatchedComparison {
            propensity_model: PropensityModel {
                fit,
                references: design.references.clone(),
            },
            balance,
            sample,
            comparison,
            headline,
            caliper_logit,
            ratio: options.ratio,
            replace: options.replace,
            exact: options.exact.clone(),
            imbalanced_terms,
            warnings,
            rosenbaum,
            rosenbaum_note,
            placebo,
            period_check: None,
            matched,
            sets,
        })
    }
}

/// The matched sample (each person used, with their weight) and the matched sets, one row
/// per person and set.
fn matched_sample(
    design: &Design,
    treated: &[bool],
    logit: &[f64],
    m: Matches,
) -> (Vec<MatchedPerson>, Vec<MatchedMember>) {
    let matched = design
        .rows
        .iter()
        .zip(&m.weights)
        .zip(treated)
        .filter(|((_, w), _)| **w > 0.0)
        .map(|((&person, &weight), &treated)| MatchedPerson {
            person,
            treated,
            weight,
        })
        .collect();
    let sets = m
        .members
        .iter()
        .map(|x| MatchedMember {
            person: design.rows[x.row],
            treated: treated[x.row],
            subclass: x.subclass,
            weight: x.weight,
            propensity_score: 1.0 / (1.0 + (-logit[x.row]).exp()),
        })
        .collect();
    (matched, sets)
}

/// Everything matching needs before the nearest neighbours are drawn: the design in its
/// canonical order, the groups, the propensity model on the logit scale, the caliper and the
/// exact-matching keys. Shared by the matched comparison and the adjusted designs (`effect`),
/// so that every design rests on the same terms and the same propensity model.
pub(crate) struct MatchingStage {
    /// The terms' names and rows, rows in an order fixed by the data; its `columns` are
    /// empty (the terms are in `sparse`).
    pub design: Design,
    /// The design's terms by row, only the values not zero: built once, read by the
    /// propensity model and every adjusted design.
    pub sparse: SparseTerms,
    /// Where each run of rows with identical terms starts, then the number of rows (see
    /// [`pattern_runs`]).
    pub patterns: Vec<usize>,
    /// Pilot (true) or comparison, per design row.
    pub treated: Vec<bool>,
    /// Each term's moments by group before matching, computed when first read (see
    /// [`before`](Self::before)).
    pub before: std::sync::OnceLock<Vec<balance::Moments>>,
    /// The propensity model.
    pub fit: LogisticFit,
    /// The linear predictor (logit of the propensity score), per design row.
    pub logit: Vec<f64>,
    /// The caliper on the logit scale.
    pub caliper_logit: Option<f64>,
    /// Exact-matching key per design row (empty without exact matching: every key 0).
    pub exact_key: Vec<u64>,
    /// How to match.
    pub spec: MatchSpec,
    /// Pilot people in the design.
    pub n_t: usize,
    /// Comparison people in the design.
    pub n_c: usize,
    /// Warnings so far (too few pilot people).
    pub warnings: Vec<String>,
}

/// Where each run of rows with identical terms starts, and the number of rows last: rows
/// `patterns[i]..patterns[i + 1]` have the same terms (the design's canonical order puts
/// identical rows side by side, so the runs are few).
pub(crate) fn pattern_runs(sparse: &SparseTerms) -> Vec<usize> {
    let n = sparse.rows();
    // The same terms and the same values bit for bit (so +0 and -0 differ, as they may in
    // the sums).
    let same = |a: usize, b: usize| {
        let ((ta, va), (tb, vb)) = (sparse.row(a), sparse.row(b));
        ta == tb && va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits())
    };
    let mut starts: Vec<usize> = (0..n).filter(|&k| k == 0 || !same(k, k - 1)).collect();
    starts.push(n);
    starts
}

/// The outcomes of each design row (the person `design.rows[k]`'s), gathered once.
pub(crate) struct RowOutcomes {
    /// Proven reoffences in the follow-up.
    pub reoffences: Vec<u32>,
    /// Days to the first proven reoffence ([`NO_REOFFENCE`] for none).
    pub days_to_first: Vec<i32>,
    /// Proven offences in the year before the index date (the placebo outcome).
    pub prior_year: Vec<u32>,
}

impl RowOutcomes {
    /// The outcomes of the people `rows`, in that order (rows in parallel).
    fn of(outcomes: &Outcomes, rows: &[usize]) -> RowOutcomes {
        use rayon::prelude::*;
        let pick = |v: &[u32]| -> Vec<u32> { rows.par_iter().map(|&i| v[i]).collect() };
        RowOutcomes {
            reoffences: pick(&outcomes.reoffences),
            days_to_first: rows
                .par_iter()
                .map(|&i| outcomes.days_to_first[i])
                .collect(),
            prior_year: pick(&outcomes.prior_year),
        }
    }
}

impl MatchingStage {
    /// Each term's (mean, variance) among pilot people, then comparison people, before
    /// matching: computed once (the terms in parallel), read by balance and the designs'
    /// SMD denominators.
    pub(crate) fn before(&self) -> &[balance::Moments] {
        self.before
            .get_or_init(|| balance::before_moments(&self.sparse, &self.patterns, &self.treated))
    }

    /// Checks the options, builds the design and fits the propensity model.
    pub(crate) fn prepare(
        people: &People,
        outcomes: &Outcomes,
        options: &MatchOptions,
    ) -> Result<MatchingStage> {
        options.check()?;
        let (tc, candidates) = candidates(people, outcomes, options)?;
        let t = crate::trace::Phase::start("  match: design");
        let (mut design, terms) = Design::terms_of(
            people,
            &options.covariates,
            &options.references,
            &candidates,
            options.max_levels,
        )?;
        drop(candidates);
        // Every sum below (the model's, the weighted means') then runs in an order fixed by
        // the data: renaming or reordering people changes no figure, not even in the last bit.
        let exact_cells = exact_cell_of(people, &options.exact)?;
        let ranked = design.sort_canonically_by(&terms, |i| {
            (
                people.cohort.codes[i],
                exact_cells.as_ref().map_or(0, |c| c[i]),
                outcomes.reoffences[i],
                outcomes.days_to_first[i],
                outcomes.prior_year[i],
                people.index_day[i],
            )
        });
        drop(exact_cells);
        drop(t);
        let exact_key = exact_keys(people, &options.exact, &design.rows)?;
        // The terms are kept in sparse form only, built from each distinct row's levels and
        // numbers: no dense column (8 bytes a term and row) is made.
        let sparse = crate::trace::timed("  match: sparse terms", || terms.sparse_ranked(&ranked));
        drop((terms, ranked));
        Self::of_design(people, options, design, sparse, tc, exact_key)
    }

    /// The stage of `options` (the period check's: comparison people within the pilot's
    /// period) from this stage of every comparison person (`main`, its comparison options),
    /// without building and sorting its design again: when the two differ only in that
    /// period and the design of the fewer people has the same terms (every level present,
    /// the same references), it is this design at the rows of those people, in the same
    /// order (the canonical order compares rows by their values, then by what the sort
    /// adds, then by their place among the candidates, which is the people's order in both).
    /// Every check of building it is still made (the same errors). `None` when it cannot be
    /// so derived: the caller prepares the stage in full.
    pub(crate) fn within(
        &self,
        people: &People,
        outcomes: &Outcomes,
        main: &CompareOptions,
        options: &MatchOptions,
    ) -> Result<Option<MatchingStage>> {
        if !(main.period == Period::Full && options.compare.period == Period::Pilot) {
            return Ok(None);
        }
        options.check()?;
        let (tc, candidates) = candidates(people, outcomes, options)?;
        let t = crate::trace::Phase::start("  match: design");
        let plan = Design::plan(
            people,
            &options.covariates,
            &options.references,
            &candidates,
            options.max_levels,
        )?;
        if plan.names != self.design.names || plan.references != self.design.references {
            return Ok(None);
        }
        let period = PeriodFilter::new(people, &options.treatment, options.compare.period);
        let keep: Vec<bool> = self
            .design
            .rows
            .iter()
            .zip(&self.treated)
            .map(|(&i, &t)| t || period.keeps(people, i))
            .collect();
        let mut design = self.design.select(&keep);
        if design.rows.len() != plan.rows.len() {
            return Ok(None);
        }
        let sparse = self.sparse.select(&keep);
        design.excluded_missing = plan.excluded_missing;
        let exact_key: Vec<u64> = self
            .exact_key
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(e, _)| *e)
            .collect();
        drop(t);
        Self::of_design(people, options, design, sparse, tc, exact_key).map(Some)
    }

    /// The stage from its design in canonical order (its terms in `sparse`, its columns
    /// empty): the groups, the propensity model, the caliper.
    fn of_design(
        people: &People,
        options: &MatchOptions,
        design: Design,
        sparse: SparseTerms,
        tc: u32,
        exact_key: Vec<u64>,
    ) -> Result<MatchingStage> {
        use rayon::prelude::*;
        let treated: Vec<bool> = design
            .rows
            .iter()
            .map(|&i| people.cohort.codes[i] == tc)
            .collect();
        let n_t = treated.iter().filter(|t| **t).count();
        let n_c = treated.len() - n_t;
        if n_t == 0 || n_c == 0 {
            return Err(Error::method(
                "matching",
                "needs people with full follow-up and all covariates in both the pilot and the comparison pool",
            ));
        }
        let mut warnings = Vec::new();
        if n_t < MIN_TREATED {
            warnings.push(format!(
                "Only {n_t} pilot people can be matched: the Justice Data Lab needs at least {MIN_TREATED}."
            ));
        }
        let t = crate::trace::Phase::start("  match: propensity model");
        let fit = logistic_sparse(&treated, &sparse, &design.names)?;
        // Each row's log odds is a function of its row alone: in parallel, each the sum
        // `LogisticFit::linear_predictor` adds, over the row's terms in full.
        let (b0, b) = (fit.coefficients[0].coef, &fit.coefficients[1..]);
        let logit: Vec<f64> = (0..design.rows.len())
            .into_par_iter()
            .with_min_len(4096)
            .map_init(
                || vec![0.0; sparse.terms()],
                |row, k| {
                    sparse.row_into(k, row);
                    b0 + b
                        .iter()
                        .zip(row.iter())
                        .map(|(t, x)| t.coef * x)
                        .sum::<f64>()
                },
            )
            .collect();
        drop(t);
        let caliper_logit = options.caliper.map(|c| c * pooled_sd(&logit, &treated));
        let spec = MatchSpec {
            ratio: options.ratio,
            replace: options.replace,
            caliper: caliper_logit,
        };
        let patterns = pattern_runs(&sparse);
        Ok(MatchingStage {
            design,
            before: std::sync::OnceLock::new(),
            patterns,
            sparse,
            treated,
            fit,
            logit,
            caliper_logit,
            exact_key,
            spec,
            n_t,
            n_c,
            warnings,
        })
    }
}

/// The pilot cohort's code and the people a matching with `options` may use: in the
/// 12-month measure, pilot or (within the period) comparison, in the people's order.
fn candidates(
    people: &People,
    outcomes: &Outcomes,
    options: &MatchOptions,
) -> Result<(u32, Vec<usize>)> {
    let code = |option: &str, label: &str| {
        crate::analysis::compare::groups::cohort_code(people, option, label)
    };
    let (tc, cc) = (
        code("treatment", &options.treatment)?,
        code("control", &options.control)?,
    );
    let period = PeriodFilter::new(people, &options.treatment, options.compare.period);
    use rayon::prelude::*;
    let candidates: Vec<usize> = (0..people.len())
        .into_par_iter()
        .filter(|&i| {
            outcomes.eligible[i]
                && (people.cohort.codes[i] == tc
                    || (people.cohort.codes[i] == cc && period.keeps(people, i)))
        })
        .collect();
    Ok((tc, candidates))
}

/// The comparison of the 12-month measure on the matched sample (its interval and test
/// clustered by matched set), the matched sets as rows, and the matched comparison group's
/// data. Errors when no pilot person found a match.
fn matched_outcome_comparison(
    rows: &RowOutcomes,
    options: &MatchOptions,
    treated: &[bool],
    weights: &[f64],
    sets: &SetRows,
    warnings: &mut Vec<String>,
) -> Result<(Comparison, GroupData)> {
    let t = crate::trace::Phase::start("    comparisons: matched groups");
    let (t_group, c) = matched_groups(rows, treated, weights);
    drop(t);
    if t_group.n == 0 {
        return Err(Error::method(
            "matching",
            "no pilot person has a match within the caliper: widen the caliper or use fewer covariates",
        ));
    }
    let t = crate::trace::Phase::start("    comparisons: outcome comparison");
    let mut comparison = Comparison::from_groups(
        &options.treatment,
        &format!("matched {}", options.control),
        &t_group,
        &c,
        &options.compare,
        "The comparison group is matched on the covariates listed only: people may still differ in \
         ways the data do not record."
            .to_string(),
    )?;
    drop(t);
    // The interval and test account for the pairing: standard errors clustered by
    // matched set (the regression after matching without covariates).
    let t = crate::trace::Phase::start("    comparisons: clustered interval");
    let reoffended = |k: usize| f64::from(u8::from(rows.reoffences[k] > 0));
    cluster_by_set(&mut comparison, sets, treated, reoffended, warnings);
    drop(t);
    Ok((comparison, c))
}

/// The matched comparison on the placebo outcome: a proven offence in the year before the
/// index date (the index offence excluded), with the matching weights.
fn placebo(
    rows: &RowOutcomes,
    treated: &[bool],
    weights: &[f64],
    options: &MatchOptions,
) -> Result<Comparison> {
    let (mut tc, mut tw, mut cc, mut cw) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, &prior) in rows.prior_year.iter().enumerate() {
        if weights[k] <= 0.0 {
            continue;
        }
        let x = f64::from(prior);
        if treated[k] {
            tc.push(x);
            tw.push(weights[k]);
        } else {
            cc.push(x);
            cw.push(weights[k]);
        }
    }
    let t = GroupData::with_days(tc, Vec::new(), tw);
    let c = GroupData::with_days(cc, Vec::new(), cw);
    let control = format!("matched {}", options.control);
    let mut p = Comparison::from_groups(
        &options.treatment,
        &control,
        &t,
        &c,
        &options.compare,
        "A placebo outcome: offences before the index date cannot have been caused by the scheme, so after \
         matching the groups should not differ in it."
            .to_string(),
    )?;
    p.summary = placebo_summary(&p, options);
    p.e_value = None;
    p.frequency = None;
    p.time_to_first = None;
    Ok(p)
}

/// The placebo's sentence, from its interval and verdict.
fn placebo_summary(p: &Comparison, options: &MatchOptions) -> String {
    let control = format!("matched {}", options.control);
    let level = format!("{:.0}%", p.confidence * 100.0);
    let pp = |x: f64| format!("{:.1}", x * 100.0);
    format!(
        "Placebo outcome (a proven offence in the year before the index date, the index offence excluded): {}% of \
         people in {} and {}% of the {control} group; the difference ({} percentage points, {level} interval {} to {}) {}",
        pp(p.treatment_rate.estimate),
        options.treatment,
        pp(p.control_rate),
        pp(p.risk_difference.estimate),
        pp(p.risk_difference.limits().0),
        pp(p.risk_difference.limits().1),
        if p.significant {
            "is statistically significant: the groups differ in ways matching did not remove, so the matched result may be biased."
        } else {
            "is not statistically significant, as expected of groups alike before the scheme."
        }
    )
}

/// The matched sets as rows (design row, weight, subclass), as the designs read them.
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

/// Gives a matched comparison the interval and test clustered by matched set; when that
/// cannot be computed (fewer than two sets, no variation), the comparison keeps its interval
/// and a warning says so.
fn cluster_by_set(
    c: &mut Comparison,
    sets: &SetRows,
    treated: &[bool],
    y: impl Fn(usize) -> f64,
    warnings: &mut Vec<String>,
) {
    match matched_difference_clustered(&sets.view(), treated, y, c.confidence) {
        Ok(d) => c.use_clustered_interval(&d),
        Err(e) => warnings.push(format!(
            "The interval does not account for the matched sets ({e}); it treats the matched people as independent."
        )),
    }
}

/// A level as a percentage with at most two decimals and no trailing zeros: 0.025 -> "2.5".
fn percent(x: f64) -> String {
    let s = format!("{:.2}", x * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn pooled_sd(x: &[f64], treated: &[bool]) -> f64 {
    let var = |sel: bool| {
        let v: Vec<f64> = x
            .iter()
            .zip(treated)
            .filter(|(_, t)| **t == sel)
            .map(|(x, _)| *x)
            .collect();
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        if n > 1.0 {
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        }
    };
    ((var(true) + var(false)) / 2.0).sqrt()
}

/// Each person's cell of the exact-matching columns (their group's number), when there are
/// any.
fn exact_cell_of(people: &People, exact: &[String]) -> Result<Option<Vec<u32>>> {
    if exact.is_empty() {
        return Ok(None);
    }
    let g = crate::measure::Grouping::new(people, exact)?;
    Ok(Some(g.group_of.clone()))
}

fn exact_keys(people: &People, exact: &[String], rows: &[usize]) -> Result<Vec<u64>> {
    if exact.is_empty() {
        // Every row's key is 0 (see `Matcher::new`): no key a row is kept.
        return Ok(Vec::new());
    }
    let g = crate::measure::Grouping::new(people, exact)?;
    // Group keys include the cohort first: drop it so pilot and comparison share keys.
    let mut labels: Vec<Vec<Option<String>>> = g.keys.iter().map(|k| k[1..].to_vec()).collect();
    labels.sort();
    labels.dedup();
    Ok(rows
        .iter()
        .map(|&i| {
            let k = &g.keys[g.group_of[i] as usize][1..];
            labels
                .binary_search_by(|l| l.as_slice().cmp(k))
                .map_or(u64::MAX, |p| p as u64)
        })
        .collect())
}

fn headline(c: &Comparison, treatment: &str) -> Headline {
    let rate = format!(
        "For every 100 people in {treatment}, {:.0} reoffended within a year; for every 100 similar people who did not take part, {:.0} did.",
        c.treatment_rate.estimate * 100.0,
        c.control_rate * 100.0
    );
    let freq = match &c.frequency {
        Some(f) => format!(
            "For every 100 people in {treatment}, {:.0} proven reoffences were committed within a year; for every 100 similar people, {:.0}{}.",
            f.treatment_per_100,
            f.control_per_100,
            if f.p_value < 1.0 - c.confidence {
                ""
            } else {
                " (the difference is not statistically significant)"
            }
        ),
        None => "Not available.".into(),
    };
    let days = match &c.time_to_first {
        Some(d) => match (d.treatment_mean_days, d.control_mean_days) {
            (Some(a), Some(b)) => format!(
                "Among those who reoffended, the first proven reoffence came after {a:.0} days on average in {treatment}, and {b:.0} days among similar people ({}).",
                d.note
            ),
            _ => "Too few reoffenders to compare.".into(),
        },
        None => "Not available.".into(),
    };
    Headline {
        rate_per_100: rate,
        frequency_per_100: freq,
        days_to_first: days,
    }
}

/// The matched sample's outcomes (reoffences, days to first, weights) per group: pilot,
/// then comparison; people with weight 0 (unmatched) are left out.
fn matched_groups(rows: &RowOutcomes, treated: &[bool], weights: &[f64]) -> (GroupData, GroupData) {
    let (mut tc_, mut td, mut tw) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cc_, mut cd, mut cw) = (Vec::new(), Vec::new(), Vec::new());
    for (k, &w) in weights.iter().enumerate() {
        if w <= 0.0 {
            continue;
        }
        let (reoffences, days) = (rows.reoffences[k], rows.days_to_first[k]);
        let count = reoffences as f64;
        // Days to first of reoffenders only, with their weights.
        let day = (reoffences > 0 && days != NO_REOFFENCE).then_some((days as f64, w));
        if treated[k] {
            tc_.push(count);
            td.extend(day);
            tw.push(w);
        } else {
            cc_.push(count);
            cd.extend(day);
            cw.push(w);
        }
    }
    (
        GroupData::with_days(tc_, td, tw),
        GroupData::with_days(cc_, cd, cw),
    )
}

/// Rosenbaum bounds on the discordant pairs (1:1 without replacement), or the reason they
/// are not available.
///
/// With ties, a matched set holds tied pilot people and the blocks of tied controls they
/// drew; which pilot person is paired with which control is a tie-break, so the discordant
/// pairs are their expected numbers over every way of breaking the ties (within a set: a
/// pilot person reoffended and the control did not, or the reverse), rounded to whole
/// pairs. Without ties they are the pairs themselves. The test is one-sided at half the
/// headline's significance level, so that "stays significant" means what the two-sided
/// headline means.
fn rosenbaum_bounds(
    rows: &RowOutcomes,
    treated: &[bool],
    sets: &SetRows,
    options: &MatchOptions,
) -> Result<(Option<Rosenbaum>, Option<String>)> {
    if options.ratio == 1 && !options.replace {
        let reoffended = |k: usize| f64::from(rows.reoffences[k] > 0);
        let (mut treated_only, mut control_only) = (0.0f64, 0.0f64);
        // Each member as (row, subclass, weight), in the sets' order.
        let mut set = sets
            .person
            .iter()
            .zip(&sets.subclass)
            .zip(&sets.weight)
            .map(|((&row, &subclass), &weight)| (row, subclass, weight))
            .peekable();
        while let Some(first) = set.peek().copied() {
            // (pilot mass, pilot reoffending mass, control mass, control reoffending mass)
            let (mut wt, mut yt, mut wc, mut yc) = (0.0, 0.0, 0.0, 0.0);
            while let Some((row, _, weight)) = set.next_if(|x| x.1 == first.1) {
                let y = reoffended(row);
                if treated[row] {
                    wt += weight;
                    yt += weight * y;
                } else {
                    wc += weight;
                    yc += weight * y;
                }
            }
            if wc > 0.0 {
                let pc = yc / wc;
                treated_only += yt * (1.0 - pc);
                control_only += (wt - yt) * pc;
            }
        }
        let alpha = (1.0 - options.compare.confidence) / 2.0;
        Ok((
            Some(Rosenbaum::new(
                rosenbaum(
                    treated_only.round() as u64,
                    control_only.round() as u64,
                    alpha,
                )?,
                &options.treatment,
            )),
            None,
        ))
    } else {
        Ok((
            None,
            Some(
                "Rosenbaum bounds are computed for 1:1 matching without replacement (McNemar's form on \
                 discordant pairs); with several controls per person or reused controls they are not available."
                    .to_string(),
            ),
        ))
    }
}
