//! Every adjusted design side by side on the same propensity model (DOMAIN "Adjusted
//! designs"; CONTRACT §3 `effect`): `matched`, `matched_regression`, `ipw`, `overlap`,
//! `entropy_balancing` and `doubly_robust`, each the risk difference treated minus control
//! with a normal interval, its effective sample sizes and its balance, for the 12-month
//! measure and for reoffences per person.
//!
//! Standard errors hold the weights, the propensity model and the outcome model fixed:
//! - `matched`: difference of weighted means on the matched sample, Wald standard error
//!   with the matched counts, `sqrt(Σ_g v_g / n_g)`, `v_g` the group's weighted variance and
//!   `n_g = Σw` (1:1 pairs of a 0/1 outcome: `sqrt(p1(1-p1)/n1 + p0(1-p0)/n0)`);
//! - `matched_regression`: weighted least squares of the outcome on an intercept, treatment
//!   and the terms over the matched rows, clustered by subclass, CR1
//!   `G/(G-1)·(N-1)/(N-K)` (R `sandwich::vcovCL`, type HC1; statsmodels `cov_type='cluster'`);
//! - `ipw` (ATT odds weights: pilot 1, comparison `e/(1-e)`), `overlap` (pilot `1-e`,
//!   comparison `e`: the ATO), `entropy_balancing` (Hainmueller 2012): the HC1 robust
//!   standard error of weighted least squares of the outcome on an intercept and treatment
//!   (statsmodels `WLS(..., weights=w).fit(cov_type='HC1')`);
//! - `doubly_robust` (augmented IPW for the ATT): `mean_T(r) - Σ_C w r / Σ_C w` with
//!   `r = y - m0(x)`, `w = e/(1-e)`, m0 a logistic (0/1 outcome) or Poisson (counts)
//!   regression among comparison people; variance from the influence function
//!   `Σ_T (r-a)²/n1² + Σ_C w²(r-b)²/(Σ_C w)²`.
//!
//! The standardised mean difference of a term divides the difference in (weighted) means by
//! the square root of the mean of the two groups' sample variances (n - 1) *before*
//! weighting, as the `match` balance table does.
//!
//! Cost: all weighting designs together read the terms once for the group moments and the
//! propensity weightings, once per entropy balancing Newton iteration and once per outcome
//! model iteration (each O(n k²), comparison rows only), and once for the outcome models'
//! predictions; no copy of the terms is made (column-major terms are gathered 256 rows at a
//! time). Vectors of length n: the entropy balancing weights and two outcome predictions.

mod ebal;
mod error;
mod estimate;
mod glm;
mod matched;
mod terms;

use serde::Serialize;

pub use ebal::{EntropyBalance, EntropyOptions, entropy_balance};
pub use error::DesignError;
pub use glm::{Family, OutcomeModel};
pub use matched::MatchedRegressionFit;
pub use terms::{SparseTerms, Terms};

use estimate::{RowParts, ess, finish, hajek};
use terms::{FirstPass, first_pass};

use crate::stats::Result;
use crate::stats::{LogisticFit, check_confidence, logistic, z_upper};

/// One of the adjusted designs (CONTRACT's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DesignKind {
    /// Difference of weighted means on the matched sample.
    Matched,
    /// Regression after matching, clustered by subclass.
    MatchedRegression,
    /// Inverse probability weighting for the ATT (odds weights).
    Ipw,
    /// Overlap weights (the ATO).
    Overlap,
    /// Entropy balancing for the ATT.
    EntropyBalancing,
    /// Augmented inverse probability weighting for the ATT.
    DoublyRobust,
}

impl DesignKind {
    /// Every design, in the order of the output.
    pub const ALL: [DesignKind; 6] = [
        DesignKind::Matched,
        DesignKind::MatchedRegression,
        DesignKind::Ipw,
        DesignKind::Overlap,
        DesignKind::EntropyBalancing,
        DesignKind::DoublyRobust,
    ];

    /// The name in the output (`matched`, `matched_regression`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DesignKind::Matched => "matched",
            DesignKind::MatchedRegression => "matched_regression",
            DesignKind::Ipw => "ipw",
            DesignKind::Overlap => "overlap",
            DesignKind::EntropyBalancing => "entropy_balancing",
            DesignKind::DoublyRobust => "doubly_robust",
        }
    }

    /// The population the design's estimate refers to.
    pub fn estimand(self) -> Estimand {
        match self {
            DesignKind::Overlap => Estimand::Ato,
            _ => Estimand::Att,
        }
    }
}

impl std::fmt::Display for DesignKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The population an estimate refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Estimand {
    /// The average effect on the treated (pilot people).
    #[serde(rename = "ATT")]
    Att,
    /// The average effect in the overlap population (people who could have been in either
    /// group, weighted by `e(1-e)`).
    #[serde(rename = "ATO")]
    Ato,
}

/// Which outcome a row or model refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The binary 12-month measure.
    Reoffended,
    /// Reoffences per person (the frequency measure).
    Reoffences,
}

/// One design's estimate: a row of CONTRACT's `effect.designs` (names exact).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignRow {
    /// The design.
    pub design: DesignKind,
    /// `ATT` or `ATO`.
    pub estimand: Estimand,
    /// Treated minus control: the risk difference (or reoffences per person).
    pub estimate: f64,
    /// Standard error (weights and nuisance models held fixed).
    pub se: f64,
    /// Lower limit, `estimate - z·se`.
    pub ci_low: f64,
    /// Upper limit, `estimate + z·se`.
    pub ci_high: f64,
    /// Two-sided normal p-value of `estimate / se`.
    pub p_value: f64,
    /// Kish effective sample size `(Σw)²/Σw²` of the pilot group.
    pub ess_treated: f64,
    /// Kish effective sample size of the comparison group.
    pub ess_control: f64,
    /// The largest |SMD| over the terms after weighting (`null` when no term has one).
    pub max_abs_smd: Option<f64>,
}

/// One term's balance under a design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceTerm {
    /// The term.
    pub term: String,
    /// Mean among pilot people (weighted under `overlap` and the matched designs).
    pub mean_treated: f64,
    /// Weighted mean among comparison people.
    pub mean_control: f64,
    /// Standardised mean difference, the denominator from the unweighted groups (`None`
    /// when the term is constant within both groups).
    pub smd: Option<f64>,
}

/// A design's balance table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignBalance {
    /// The design (`doubly_robust` shares `ipw`'s weights).
    pub design: DesignKind,
    /// One row per term.
    pub terms: Vec<BalanceTerm>,
}

/// A design that could not be computed on these data, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unavailable {
    /// The design.
    pub design: DesignKind,
    /// The outcome.
    pub outcome: OutcomeKind,
    /// The reason, for people.
    pub reason: String,
    /// The reason, for programs.
    #[serde(skip)]
    pub error: DesignError,
}

/// The matched sample, one row per member and pair (MatchIt's `match.data()`, or what
/// `--matched-out` writes): a pilot person matched to a block of m tied comparison people
/// is m + 1 rows of one subclass, the pilot person with weight 1 and each comparison person
/// with weight 1/m. A person may appear in several rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchedRows<'a> {
    /// The person of each row (an index into the inputs' people).
    pub person: &'a [usize],
    /// The matching weight of each row (positive).
    pub weight: &'a [f64],
    /// The subclass (matched pair) of each row.
    pub subclass: &'a [u64],
}

/// The data of [`adjusted_designs`]: one value per person unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesignInputs<'a> {
    /// Term names, one per term.
    pub names: &'a [String],
    /// The covariate terms (no intercept).
    pub terms: Terms<'a>,
    /// Pilot (true) or comparison (false).
    pub treated: &'a [bool],
    /// The 12-month measure: reoffended or not.
    pub reoffended: &'a [bool],
    /// Reoffences per person (counts, not negative), for `frequency_designs`.
    pub reoffences: Option<&'a [f64]>,
    /// The propensity score `e(x)`, strictly between 0 and 1 (see [`fit_propensity`]).
    pub propensity: &'a [f64],
    /// The matched sample, for `matched` and `matched_regression`.
    pub matched: Option<MatchedRows<'a>>,
}

/// Settings of [`adjusted_designs`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DesignOptions {
    /// Confidence level of the intervals (default 0.95).
    pub confidence: f64,
    /// Entropy balancing's solver.
    pub entropy: EntropyOptions,
}

impl Default for DesignOptions {
    fn default() -> Self {
        DesignOptions {
            confidence: 0.95,
            entropy: EntropyOptions::default(),
        }
    }
}

/// What the standard errors hold fixed (for the output, as DOMAIN asks).
pub const SE_NOTE: &str = "Standard errors treat the weights, the propensity model and the \
     outcome model as fixed (they do not carry the uncertainty of estimating them).";

/// Every adjusted design side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustedDesigns {
    /// Rows for the 12-month measure (risk differences), in [`DesignKind::ALL`] order,
    /// leaving out the designs that are unavailable or not asked for (no matched sample).
    pub designs: Vec<DesignRow>,
    /// The same rows for reoffences per person (empty without counts).
    pub frequency_designs: Vec<DesignRow>,
    /// Balance before weighting (unweighted means; SMD with the same denominator).
    pub balance_before: Vec<BalanceTerm>,
    /// Each design's balance table (`doubly_robust` has `ipw`'s).
    pub balance: Vec<DesignBalance>,
    /// Entropy balancing's solution (`None` when it is unavailable).
    pub entropy: Option<EntropyBalance>,
    /// The doubly robust design's outcome models.
    pub outcome_models: Vec<OutcomeModel>,
    /// The regression after matching (the 12-month measure's fit).
    pub matched_regression: Option<MatchedRegressionFit>,
    /// Designs that could not be computed, with the reason.
    pub unavailable: Vec<Unavailable>,
    /// Pilot people.
    pub treated: usize,
    /// Comparison people.
    pub controls: usize,
    /// The confidence level.
    pub confidence: f64,
    /// What the standard errors hold fixed ([`SE_NOTE`]).
    pub se_note: &'static str,
}

/// A fitted propensity model and each person's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Propensity {
    /// The logistic regression of pilot membership on the terms.
    pub fit: LogisticFit,
    /// `e_i`, one per person.
    #[serde(skip)]
    pub scores: Vec<f64>,
}

/// Fits the propensity score by the crate's logistic regression
/// ([`logistic`], as `match` does) and returns each person's score.
/// Row-major terms are copied into columns for the fit.
pub fn fit_propensity(terms: Terms<'_>, names: &[String], treated: &[bool]) -> Result<Propensity> {
    check_inputs_basic(&terms, names, treated)?;
    let owned;
    let columns: &[Vec<f64>] = match terms {
        Terms::Columns(c) => c,
        Terms::RowMajor { values, terms: k } => {
            owned = (0..k)
                .map(|j| values.iter().skip(j).step_by(k).copied().collect())
                .collect::<Vec<Vec<f64>>>();
            &owned
        }
        Terms::Sparse(s) => {
            owned = s.to_columns();
            &owned
        }
    };
    let fit = logistic(treated, columns, names)?;
    let scores = (0..treated.len())
        .map(|i| 1.0 / (1.0 + (-fit.linear_predictor(columns, i)).exp()))
        .collect();
    Ok(Propensity { fit, scores })
}

/// Shape and group checks shared by the entry points.
pub(crate) fn check_inputs_basic(
    terms: &Terms<'_>,
    names: &[String],
    treated: &[bool],
) -> Result<(), DesignError> {
    if names.len() != terms.terms() {
        return Err(DesignError::Shape {
            what: format!("{} term names for {} terms", names.len(), terms.terms()),
        });
    }
    terms.check_rows(treated.len())?;
    if !treated.iter().any(|t| *t) {
        return Err(DesignError::Groups {
            what: "no pilot people",
        });
    }
    if treated.iter().all(|t| *t) {
        return Err(DesignError::Groups {
            what: "no comparison people",
        });
    }
    Ok(())
}

/// Balance rows from the two groups' (weighted) means of each term.
pub(crate) fn balance_rows(
    names: &[String],
    treated_mean: impl Fn(usize) -> f64,
    control_mean: impl Fn(usize) -> f64,
    denominators: &[f64],
) -> Vec<BalanceTerm> {
    names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let (a, b) = (treated_mean(j), control_mean(j));
            BalanceTerm {
                term: name.clone(),
                mean_treated: a,
                mean_control: b,
                smd: (denominators[j] > 0.0).then(|| (a - b) / denominators[j]),
            }
        })
        .collect()
}

fn max_abs_smd(rows: &[BalanceTerm]) -> Option<f64> {
    rows.iter()
        .filter_map(|r| r.smd.map(f64::abs))
        .reduce(f64::max)
}

/// The difference of weighted means on a matched sample, treated minus control, with its
/// standard error clustered by matched set: `matched_regression` without covariates
/// (weighted least squares of the outcome on an intercept and treatment over the matched
/// rows, CR1 `G/(G-1)·(N-1)/(N-K)` by subclass; statsmodels
/// `WLS(y, [1, treated], weights=w).fit(cov_type='cluster')`, R `sandwich::vcovCL`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClusteredDifference {
    /// Treated minus control (weighted means).
    pub estimate: f64,
    /// The cluster-robust standard error.
    pub se: f64,
    /// Lower limit, `estimate - z·se`.
    pub ci_low: f64,
    /// Upper limit, `estimate + z·se`.
    pub ci_high: f64,
    /// `estimate / se` (0 when both are 0).
    pub statistic: f64,
    /// Two-sided normal p-value.
    pub p_value: f64,
    /// Matched sets (G).
    pub clusters: usize,
    /// Matched rows (N).
    pub rows: usize,
    /// The CR1 factor.
    pub correction: f64,
}

/// [`ClusteredDifference`] of `y` (one value per person) on the matched rows `m`.
///
/// Errors when a matched row is unusable, a group is missing from the matched sample, there
/// are fewer than two matched sets, or neither group's outcome varies while they differ.
///
/// ```
/// use reoffending::stats::designs::{MatchedRows, matched_difference_clustered};
/// // Two pilot people, each matched to one comparison person: sets 0 and 1.
/// let treated = [true, true, false, false];
/// let y = [1.0, 0.0, 0.0, 0.0];
/// let m = MatchedRows {
///     person: &[0, 2, 1, 3],
///     weight: &[1.0; 4],
///     subclass: &[0, 0, 1, 1],
/// };
/// let d = matched_difference_clustered(&m, &treated, |i| y[i], 0.95).unwrap();
/// assert!((d.estimate - 0.5).abs() < 1e-12);
/// assert_eq!(d.clusters, 2);
/// ```
pub fn matched_difference_clustered(
    m: &MatchedRows<'_>,
    treated: &[bool],
    y: impl Fn(usize) -> f64,
    confidence: f64,
) -> Result<ClusteredDifference, DesignError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(DesignError::Shape {
            what: format!("confidence level {confidence} is not strictly between 0 and 1"),
        });
    }
    matched::check(m, treated)?;
    let z = z_upper((1.0 - confidence) / 2.0);
    let parts = RowParts {
        ess_treated: 0.0,
        ess_control: 0.0,
        max_abs_smd: None,
    };
    let (row, fit) = matched::regression(m, &Terms::Columns(&[]), &[], treated, y, z, &parts)?;
    Ok(ClusteredDifference {
        estimate: row.estimate,
        se: row.se,
        ci_low: row.ci_low,
        ci_high: row.ci_high,
        statistic: if row.se > 0.0 {
            row.estimate / row.se
        } else {
            0.0
        },
        p_value: row.p_value,
        clusters: fit.clusters,
        rows: fit.rows,
        correction: fit.correction,
    })
}

/// Every adjusted design side by side (see the module documentation for each design's
/// estimate and standard error).
///
/// Errors (the whole call fails) for inputs of different lengths, a value that is not a
/// finite number, an empty group or fewer than three people, a propensity score not
/// strictly between 0 and 1, a negative count, a matched row with an unknown person or a
/// weight that is not positive, and a confidence level outside (0, 1). A design that cannot
/// be computed on these data (entropy balancing infeasible, an outcome model that cannot be
/// fitted, fewer than two matched pairs, no variation) is left out of the rows and listed in
/// [`AdjustedDesigns::unavailable`]; no row carries a NaN.
///
/// ```
/// use reoffending::stats::designs::{
///     DesignInputs, DesignKind, DesignOptions, Terms, adjusted_designs, fit_propensity,
/// };
/// # fn main() -> reoffending::Result<()> {
/// // Ten people: age and prior offences; the first four are in the pilot.
/// let age = vec![19.0, 24.0, 31.0, 40.0, 18.0, 22.0, 27.0, 33.0, 45.0, 52.0];
/// let prior = vec![1.0, 3.0, 0.0, 2.0, 1.0, 4.0, 0.0, 2.0, 5.0, 1.0];
/// let columns = vec![age, prior];
/// let names = vec!["age_at_index".to_string(), "prior_offences".to_string()];
/// let treated = [true, true, true, true, false, false, false, false, false, false];
/// let reoffended = [false, true, false, false, true, true, false, true, false, false];
/// let terms = Terms::Columns(&columns);
///
/// let e = fit_propensity(terms, &names, &treated)?;
/// let inputs = DesignInputs {
///     names: &names,
///     terms,
///     treated: &treated,
///     reoffended: &reoffended,
///     reoffences: None,
///     propensity: &e.scores,
///     matched: None,
/// };
/// let out = adjusted_designs(&inputs, &DesignOptions::default())?;
/// let ebal = out.designs.iter().find(|r| r.design == DesignKind::EntropyBalancing).unwrap();
/// // Entropy balancing matches the pilot means of every term exactly.
/// assert!(ebal.max_abs_smd.unwrap() < 1e-8);
/// assert!(ebal.ci_low < ebal.estimate && ebal.estimate < ebal.ci_high);
/// // Overlap weights balance the propensity model's terms exactly.
/// let overlap = out.designs.iter().find(|r| r.design == DesignKind::Overlap).unwrap();
/// assert!(overlap.max_abs_smd.unwrap() < 1e-6);
/// # Ok(()) }
/// ```
pub fn adjusted_designs(
    inputs: &DesignInputs<'_>,
    options: &DesignOptions,
) -> Result<AdjustedDesigns> {
    check_confidence(options.confidence)?;
    let z = z_upper((1.0 - options.confidence) / 2.0);
    let DesignInputs {
        names,
        terms,
        treated,
        reoffended,
        reoffences,
        propensity,
        matched,
    } = *inputs;
    let n = treated.len();
    check_inputs_basic(&terms, names, treated)?;
    check_lengths(inputs)?;
    if n < 3 {
        return Err(DesignError::Groups {
            what: "fewer than three people: no standard errors",
        }
        .into());
    }
    if let Some(m) = &matched {
        matched::check(m, treated)?;
    }
    let fp = crate::trace::timed("    designs: first pass", || {
        first_pass(&terms, names, treated, propensity)
    })?;
    let (pilot, control) = (&fp.treated, &fp.control);
    let (v1, v0) = (pilot.variance(), control.variance());
    let den: Vec<f64> = v1
        .iter()
        .zip(&v0)
        .map(|(a, b)| ((a + b) / 2.0).sqrt())
        .collect();
    let mut outcomes = vec![(OutcomeKind::Reoffended, Outcome::Binary(reoffended))];
    if let Some(c) = reoffences {
        outcomes.push((OutcomeKind::Reoffences, Outcome::Count(c)));
    }
    let mut out = AdjustedDesigns {
        designs: Vec::new(),
        frequency_designs: Vec::new(),
        balance_before: balance_rows(names, |j| pilot.mean[j], |j| control.mean[j], &den),
        balance: Vec::new(),
        entropy: None,
        outcome_models: Vec::new(),
        matched_regression: None,
        unavailable: Vec::new(),
        treated: pilot.n,
        controls: control.n,
        confidence: options.confidence,
        se_note: SE_NOTE,
    };
    let ctx = Context {
        terms,
        names,
        treated,
        propensity,
        den,
        z,
        outcomes,
    };
    use crate::trace::timed;
    if let Some(m) = &matched {
        timed("    designs: matched", || add_matched(&mut out, &ctx, m));
    }
    let ipw = timed("    designs: propensity weighted", || {
        add_propensity_weighted(&mut out, &ctx, &fp)
    });
    timed("    designs: entropy balancing", || {
        add_entropy_balancing(&mut out, &ctx, &fp, &options.entropy)
    });
    timed("    designs: doubly robust", || {
        add_doubly_robust(&mut out, &ctx, ipw)
    });
    Ok(out)
}

/// An outcome, one value per person.
#[derive(Clone, Copy)]
enum Outcome<'a> {
    Binary(&'a [bool]),
    Count(&'a [f64]),
}

impl Outcome<'_> {
    fn at(&self, i: usize) -> f64 {
        match self {
            Outcome::Binary(y) => f64::from(u8::from(y[i])),
            Outcome::Count(y) => y[i],
        }
    }
}

/// What every design needs, computed once.
struct Context<'a> {
    terms: Terms<'a>,
    names: &'a [String],
    treated: &'a [bool],
    propensity: &'a [f64],
    /// SMD denominators from the unweighted groups.
    den: Vec<f64>,
    /// The normal quantile of the interval.
    z: f64,
    outcomes: Vec<(OutcomeKind, Outcome<'a>)>,
}

impl Context<'_> {
    fn n(&self) -> usize {
        self.treated.len()
    }

    /// ATT odds weights: pilot 1, comparison `e/(1-e)`.
    fn odds(&self, i: usize) -> f64 {
        if self.treated[i] {
            1.0
        } else {
            self.propensity[i] / (1.0 - self.propensity[i])
        }
    }

    /// Overlap weights: pilot `1-e`, comparison `e`.
    fn overlap(&self, i: usize) -> f64 {
        if self.treated[i] {
            1.0 - self.propensity[i]
        } else {
            self.propensity[i]
        }
    }

    /// `Σ w` over one group.
    fn group_sum(&self, w: impl Fn(usize) -> f64, group: bool) -> f64 {
        (0..self.n())
            .filter(|&i| self.treated[i] == group)
            .map(w)
            .sum()
    }
}

impl AdjustedDesigns {
    /// Files a design's row under its outcome, or lists it as unavailable.
    fn record(
        &mut self,
        outcome: OutcomeKind,
        design: DesignKind,
        row: Result<DesignRow, DesignError>,
    ) {
        match row {
            Ok(row) => match outcome {
                OutcomeKind::Reoffended => self.designs.push(row),
                OutcomeKind::Reoffences => self.frequency_designs.push(row),
            },
            Err(error) => self.unavailable.push(Unavailable {
                design,
                outcome,
                reason: error.to_string(),
                error,
            }),
        }
    }

    fn push_balance(&mut self, design: DesignKind, terms: Vec<BalanceTerm>) {
        self.balance.push(DesignBalance { design, terms });
    }
}

/// `matched` and `matched_regression`.
fn add_matched(out: &mut AdjustedDesigns, ctx: &Context<'_>, m: &MatchedRows<'_>) {
    let (bal, ess1, ess0) =
        matched::balance_and_ess(m, &ctx.terms, ctx.names, ctx.treated, &ctx.den);
    let parts = RowParts {
        ess_treated: ess1,
        ess_control: ess0,
        max_abs_smd: max_abs_smd(&bal),
    };
    // The regressions of the outcomes are independent fits: in parallel, each as alone.
    use rayon::prelude::*;
    let regressions: Vec<_> = ctx
        .outcomes
        .par_iter()
        .map(|(_, y)| {
            matched::regression(
                m,
                &ctx.terms,
                ctx.names,
                ctx.treated,
                |i| y.at(i),
                ctx.z,
                &parts,
            )
        })
        .collect();
    for ((kind, y), reg) in ctx.outcomes.iter().zip(regressions) {
        let row = matched::matched(m, ctx.treated, |i| y.at(i), ctx.z, &parts);
        out.record(*kind, DesignKind::Matched, row);
        let reg = reg.map(|(row, fit)| {
            if *kind == OutcomeKind::Reoffended {
                out.matched_regression = Some(fit);
            }
            row
        });
        out.record(*kind, DesignKind::MatchedRegression, reg);
    }
    out.push_balance(DesignKind::Matched, bal.clone());
    out.push_balance(DesignKind::MatchedRegression, bal);
}

/// `ipw` and `overlap`; returns what `doubly_robust` shares with `ipw` (its effective sample
/// sizes and balance).
fn add_propensity_weighted(
    out: &mut AdjustedDesigns,
    ctx: &Context<'_>,
    fp: &FirstPass,
) -> (RowParts, Vec<BalanceTerm>) {
    let (n, treated, names, z) = (ctx.n(), ctx.treated, ctx.names, ctx.z);
    let odds = |i: usize| ctx.odds(i);
    let ato = |i: usize| ctx.overlap(i);
    let s0 = ctx.group_sum(odds, false);
    let ipw_bal = balance_rows(
        names,
        |j| fp.treated.mean[j],
        |j| fp.ipw_control[j] / s0,
        &ctx.den,
    );
    let ipw_parts = RowParts {
        ess_treated: fp.treated.n as f64,
        ess_control: ess(n, |i| !treated[i], odds),
        max_abs_smd: max_abs_smd(&ipw_bal),
    };
    for (kind, y) in &ctx.outcomes {
        let d = hajek(treated, |i| y.at(i), odds, true);
        out.record(
            *kind,
            DesignKind::Ipw,
            finish(DesignKind::Ipw, d, z, &ipw_parts),
        );
    }
    let (s1, s0) = (ctx.group_sum(ato, true), ctx.group_sum(ato, false));
    let ato_bal = balance_rows(
        names,
        |j| fp.overlap_treated[j] / s1,
        |j| fp.overlap_control[j] / s0,
        &ctx.den,
    );
    let ato_parts = RowParts {
        ess_treated: ess(n, |i| treated[i], ato),
        ess_control: ess(n, |i| !treated[i], ato),
        max_abs_smd: max_abs_smd(&ato_bal),
    };
    for (kind, y) in &ctx.outcomes {
        let d = hajek(treated, |i| y.at(i), ato, true);
        out.record(
            *kind,
            DesignKind::Overlap,
            finish(DesignKind::Overlap, d, z, &ato_parts),
        );
    }
    out.push_balance(DesignKind::Ipw, ipw_bal.clone());
    out.push_balance(DesignKind::Overlap, ato_bal);
    (ipw_parts, ipw_bal)
}

/// `entropy_balancing`.
fn add_entropy_balancing(
    out: &mut AdjustedDesigns,
    ctx: &Context<'_>,
    fp: &FirstPass,
    options: &EntropyOptions,
) {
    let treated = ctx.treated;
    let eb = match ebal::solve_dual(
        &ctx.terms,
        ctx.names,
        treated,
        &fp.treated,
        &fp.control,
        options,
    ) {
        Ok(eb) => eb,
        Err(e) => {
            for (kind, _) in &ctx.outcomes {
                out.record(*kind, DesignKind::EntropyBalancing, Err(e.clone()));
            }
            return;
        }
    };
    let bal = balance_rows(
        ctx.names,
        |j| eb.treated_means[j],
        |j| eb.control_means[j],
        &ctx.den,
    );
    let parts = RowParts {
        ess_treated: fp.treated.n as f64,
        ess_control: ess(ctx.n(), |i| !treated[i], |i| eb.weights[i]),
        max_abs_smd: max_abs_smd(&bal),
    };
    for (kind, y) in &ctx.outcomes {
        let d = hajek(treated, |i| y.at(i), |i| eb.weights[i], true);
        let row = finish(DesignKind::EntropyBalancing, d, ctx.z, &parts);
        out.record(*kind, DesignKind::EntropyBalancing, row);
    }
    out.push_balance(DesignKind::EntropyBalancing, bal);
    out.entropy = Some(eb);
}

/// `doubly_robust`: the outcome models among comparison people (logistic for the 12-month
/// measure, Poisson for reoffences), one pass for their predictions, then the estimate.
fn add_doubly_robust(
    out: &mut AdjustedDesigns,
    ctx: &Context<'_>,
    (parts, balance): (RowParts, Vec<BalanceTerm>),
) {
    use rayon::prelude::*;
    let n = ctx.n();
    // The outcome models are independent fits: in parallel, each exactly as alone.
    let models: Vec<Result<OutcomeModel, DesignError>> = ctx
        .outcomes
        .par_iter()
        .map(|(kind, y)| {
            let family = match y {
                Outcome::Binary(_) => Family::Logistic,
                Outcome::Count(_) => Family::Poisson,
            };
            glm::fit_controls(&ctx.terms, ctx.treated, &|i| y.at(i), family, *kind)
        })
        .collect();
    // Each row's prediction is a function of its row alone: computed in parallel. With
    // sparse terms the sum skips the zero products, which could change only the sign of a
    // zero sum, and `b0 + ±0` is the same number unless b0 is itself zero, where the mean of
    // either zero is the same.
    let k = ctx.terms.terms();
    let predictions: Vec<Vec<f64>> = models
        .iter()
        .map(|m| match m {
            Ok(model) => {
                let b = &model.coefficients;
                (0..n)
                    .into_par_iter()
                    .with_min_len(4096)
                    .map_init(
                        || vec![0.0; k],
                        |row, i| {
                            let sum = match ctx.terms {
                                Terms::Sparse(s) => {
                                    let (t, v) = s.row(i);
                                    t.iter()
                                        .zip(v)
                                        .map(|(&j, x)| x * b[j as usize + 1])
                                        .sum::<f64>()
                                }
                                _ => {
                                    ctx.terms.row_into(i, row);
                                    row.iter().zip(&b[1..]).map(|(x, b)| x * b).sum::<f64>()
                                }
                            };
                            model.family.mean(b[0] + sum)
                        },
                    )
                    .collect()
            }
            Err(_) => Vec::new(),
        })
        .collect();
    for (((kind, y), model), pred) in ctx.outcomes.iter().zip(&models).zip(&predictions) {
        let row = match model {
            Ok(_) => {
                let d = doubly_robust(ctx.treated, |i| y.at(i) - pred[i], |i| ctx.odds(i));
                finish(DesignKind::DoublyRobust, d, ctx.z, &parts)
            }
            Err(e) => Err(e.clone()),
        };
        out.record(*kind, DesignKind::DoublyRobust, row);
    }
    out.outcome_models = models.into_iter().filter_map(Result::ok).collect();
    out.push_balance(DesignKind::DoublyRobust, balance);
}

/// The augmented IPW estimate for the ATT with its influence-function variance, both
/// models held fixed: `a = mean_T(r)`, `b = Σ_C w r / Σ_C w`,
/// `var = Σ_T (r-a)²/n1² + Σ_C w²(r-b)²/(Σ_C w)²`.
fn doubly_robust(
    treated: &[bool],
    r: impl Fn(usize) -> f64,
    w: impl Fn(usize) -> f64,
) -> estimate::Difference {
    // The pilot group's weights are 1: `hajek` without the HC1 factor is exactly this.
    hajek(treated, r, w, false)
}

/// Lengths of the per-person inputs and their values (finite outcomes, counts not
/// negative, scores strictly inside (0, 1)).
fn check_lengths(inputs: &DesignInputs<'_>) -> Result<(), DesignError> {
    let n = inputs.treated.len();
    let shape = |what: &str| DesignError::Shape {
        what: format!("{what} has not one value for each of the {n} people"),
    };
    if inputs.reoffended.len() != n {
        return Err(shape("reoffended"));
    }
    if inputs.propensity.len() != n {
        return Err(shape("the propensity score"));
    }
    for (row, &e) in inputs.propensity.iter().enumerate() {
        if !e.is_finite() {
            return Err(DesignError::NonFinite {
                what: "the propensity score".into(),
                row,
            });
        }
        if !(e > 0.0 && e < 1.0) {
            return Err(DesignError::Propensity { row, value: e });
        }
    }
    if let Some(c) = inputs.reoffences {
        if c.len() != n {
            return Err(shape("reoffences"));
        }
        for (row, &v) in c.iter().enumerate() {
            if !v.is_finite() {
                return Err(DesignError::NonFinite {
                    what: "reoffences".into(),
                    row,
                });
            }
            if v < 0.0 {
                return Err(DesignError::Count { row, value: v });
            }
        }
    }
    Ok(())
}
