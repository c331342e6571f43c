//! Why an adjusted design could not be computed.

use super::DesignKind;

/// Why the adjusted designs, or one of them, could not be computed. Problems with the
/// inputs as a whole (lengths, non-finite values, an empty group, a propensity score of 0
/// or 1) stop [`adjusted_designs`](super::adjusted_designs); a design that cannot be
/// computed on these data (entropy balancing infeasible, an outcome model that separates,
/// too few matched pairs) is listed in
/// [`AdjustedDesigns::unavailable`](super::AdjustedDesigns::unavailable) with this error,
/// and returned as such by the single-design functions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DesignError {
    /// Inputs that should have one value per person (or per matched row) do not.
    #[error("adjusted designs: {what}")]
    Shape {
        /// What does not match.
        what: String,
    },
    /// A value that is not a finite number.
    #[error("adjusted designs: {what} is not a finite number (row {row}, counting from 0)")]
    NonFinite {
        /// The term or input (`term \`age\``, `reoffences`, `matching weight`).
        what: String,
        /// The row, counting from 0.
        row: usize,
    },
    /// A group is empty, or there are too few people for a standard error.
    #[error("adjusted designs: {what}")]
    Groups {
        /// What is missing.
        what: &'static str,
    },
    /// A propensity score of 0 or 1 (or outside): the odds weights are infinite or zero.
    #[error(
        "adjusted designs: propensity score {value} (row {row}, counting from 0) is not strictly \
         between 0 and 1: some covariate pattern is found in one group only; drop or merge the \
         term, or restrict the comparison to the region of overlap"
    )]
    Propensity {
        /// The row, counting from 0.
        row: usize,
        /// The score.
        value: f64,
    },
    /// A negative number of reoffences.
    #[error("adjusted designs: reoffences {value} (row {row}, counting from 0) is negative")]
    Count {
        /// The row, counting from 0.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A matched row that cannot be used (person out of range, weight not positive).
    #[error("matched sample: row {row} (counting from 0): {problem}")]
    MatchedRow {
        /// The matched row, counting from 0.
        row: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// Entropy balancing cannot reach a term's pilot mean: it is not strictly inside the
    /// comparison group's range, so some weights would have to be zero.
    #[error(
        "entropy balancing: infeasible: the pilot mean of `{term}` ({treated_mean}) is not strictly \
         inside the comparison group's range [{control_min}, {control_max}], so no positive \
         weights can match it; drop or merge the term, or restrict to the region of overlap"
    )]
    Infeasible {
        /// The term.
        term: String,
        /// Its mean among pilot people.
        treated_mean: f64,
        /// Its smallest value among comparison people.
        control_min: f64,
        /// Its largest value among comparison people.
        control_max: f64,
    },
    /// Entropy balancing cannot reach the pilot means of all terms together, although each
    /// is inside its term's range: they lie outside the convex hull of the comparison people
    /// (detected when the dual falls below zero, which no feasible problem allows: its minimum
    /// is the entropy of the balancing weights).
    #[error(
        "entropy balancing: infeasible: the pilot means of the terms taken together lie outside \
         what any positive weighting of the comparison people can reach (found after {iterations} \
         iterations, imbalance still {max_imbalance:e}); drop or merge terms, or restrict to the \
         region of overlap"
    )]
    NoOverlap {
        /// Iterations run.
        iterations: u32,
        /// The largest |weighted comparison mean - pilot mean| when it stopped.
        max_imbalance: f64,
    },
    /// An iterative fit stopped before it converged (for entropy balancing: usually pilot
    /// means that no positive reweighting of the comparison group can reach jointly).
    #[error(
        "{method}: did not converge in {iterations} iterations (largest remaining imbalance or \
         step {max_imbalance:e}){advice}"
    )]
    NotConverged {
        /// `entropy balancing`, `outcome model (logistic)`, ...
        method: &'static str,
        /// Iterations run.
        iterations: u32,
        /// For entropy balancing the largest |weighted comparison mean - pilot mean| left;
        /// for an outcome model the largest last step.
        max_imbalance: f64,
        /// What to do about it (may be empty).
        advice: &'static str,
    },
    /// The terms are collinear, so the model's matrix cannot be inverted.
    #[error("{method}: the terms are collinear{detail}: drop one of them")]
    Collinear {
        /// `entropy balancing`, `regression after matching`, `outcome model (logistic)`, ...
        method: &'static str,
        /// More detail, or empty.
        detail: &'static str,
    },
    /// The doubly robust design's outcome model cannot be fitted.
    #[error("doubly robust: outcome model ({family}): {problem}")]
    OutcomeModel {
        /// `logistic` or `poisson`.
        family: &'static str,
        /// Why.
        problem: &'static str,
    },
    /// Neither group's outcome varies, yet the groups differ: no standard error.
    #[error(
        "{design}: the outcome does not vary within either group, so the difference has no standard error"
    )]
    NoVariation {
        /// The design.
        design: DesignKind,
    },
    /// Clustered standard errors need at least two subclasses (matched pairs).
    #[error(
        "regression after matching: {clusters} subclass(es): clustered standard errors need at least two matched pairs"
    )]
    TooFewClusters {
        /// Distinct subclasses.
        clusters: usize,
    },
}
