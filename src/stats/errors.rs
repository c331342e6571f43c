//! Why a statistical method could not be applied: one small enum per algorithm, so a caller
//! can tell "no events" from "separation" without reading text, and [`ArgumentError`] for an
//! argument no method accepts. The statistics layer knows nothing of the crate's error type:
//! `error.rs` converts each of these into [`Error`](crate::Error) (an [`ArgumentError`] into
//! `Error::Option`, the rest into `Error::Stats`); the messages say what to do about it.

/// The statistics layer's `Result`: its error is a [`StatsError`].
pub type Result<T, E = StatsError> = std::result::Result<T, E>;

/// An argument a statistics function cannot use: a level or rate outside (0, 1), a method
/// name it does not know. Named as the function's parameter (`confidence`, `baseline_rate`,
/// `ties`); the crate's error names it as an option (`invalid confidence: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {name}: {message}")]
pub struct ArgumentError {
    /// The parameter, as the function (and the option that sets it) names it.
    pub name: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ArgumentError {
    pub(crate) fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        ArgumentError {
            name: name.into(),
            message: message.into(),
        }
    }
}

/// Why a proportion's interval or exact test could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProportionError {
    /// Fewer than one trial, or more successes than trials.
    #[error("{method}: needs at least one person and no more reoffenders than people ({x} of {n})")]
    Counts {
        /// The interval or test.
        method: &'static str,
        /// Successes (reoffenders).
        x: u64,
        /// Trials (people).
        n: u64,
    },
}

/// Why two groups' rates could not be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TwoByTwoError {
    /// A group is empty, or has more events than people.
    #[error(
        "two-group comparison: needs people in both groups and no more events than people ({x1} of {n1}, {x2} of {n2})"
    )]
    Counts {
        /// Events, first group.
        x1: u64,
        /// People, first group.
        n1: u64,
        /// Events, second group.
        x2: u64,
        /// People, second group.
        n2: u64,
    },
    /// No variation within either weighted group: the difference has no standard error.
    #[error("weighted comparison: no variation within either group: a difference cannot be tested")]
    NoVariation,
}

/// Why Welch's t test could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WelchError {
    /// A group has fewer than two people.
    #[error("Welch t test: needs at least two people in each group")]
    TooFew,
    /// Both groups have zero variance.
    #[error("Welch t test: no variation in either group")]
    NoVariation,
}

/// Why a Kaplan-Meier estimate or log-rank test could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SurvivalError {
    /// `time` and `event` have different lengths.
    #[error("Kaplan-Meier: times and events differ in length")]
    Lengths,
    /// A time is negative, infinite or not a number.
    #[error("Kaplan-Meier: times must be finite and not negative")]
    Times,
    /// The log-rank test needs two groups or more.
    #[error("log-rank test: needs at least two groups")]
    OneGroup,
    /// No events, or a group with no one at risk: nothing to compare.
    #[error("log-rank test: no events to compare, or a group with no one at risk")]
    NoEvents,
}

/// Why a regression (Cox or logistic) could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// The covariate matrix does not match the outcomes or the names.
    #[error("{model}: covariates and names do not match the data")]
    Shape {
        /// `Cox model` or `logistic regression`.
        model: &'static str,
    },
    /// Nothing to fit: no events (Cox) or only one group (logistic).
    #[error("{model}: {what}")]
    NoContrast {
        /// `Cox model` or `logistic regression`.
        model: &'static str,
        /// What is missing.
        what: &'static str,
    },
    /// A covariate takes one value for everyone.
    #[error("{model}: `{covariate}` is the same for everyone: drop it")]
    Constant {
        /// `Cox model` or `logistic regression`.
        model: &'static str,
        /// The covariate term.
        covariate: String,
    },
    /// The covariates are collinear (the information matrix cannot be inverted).
    #[error("{model}: the covariates are collinear{detail}: drop one of them")]
    Collinear {
        /// `Cox model` or `logistic regression`.
        model: &'static str,
        /// More detail, e.g. " (or one is constant among those at risk)", or empty.
        detail: &'static str,
    },
    /// Estimates diverge: some covariates predict the outcome exactly (a level in which
    /// nobody, or everybody, has it).
    #[error("{model}: {advice}")]
    Separation {
        /// `Cox model` or `logistic regression`.
        model: &'static str,
        /// What separation means for this model, and what to do.
        advice: &'static str,
    },
    /// Newton-Raphson did not converge (after step halving, or in the iterations allowed).
    #[error("{model}: did not converge ({how})")]
    NotConverged {
        /// `Cox model` or `logistic regression`.
        model: &'static str,
        /// `step halving failed` or `in N iterations`.
        how: String,
    },
}

/// A probability distribution could not be set up or inverted (statrs' message): a
/// parameter out of its range, which the checks before it should have caught.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{method}: {message}")]
pub struct DistributionError {
    /// The method that needed the distribution.
    pub method: &'static str,
    /// statrs' message.
    pub message: String,
}

impl DistributionError {
    pub(crate) fn new(method: &'static str, e: impl std::fmt::Display) -> Self {
        DistributionError {
            method,
            message: e.to_string(),
        }
    }
}

/// An error of the statistics layer, by algorithm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// An argument the function cannot use (the crate's error turns it into
    /// `Error::Option`).
    #[error(transparent)]
    Argument(#[from] ArgumentError),
    /// A proportion's interval or exact test.
    #[error(transparent)]
    Proportion(#[from] ProportionError),
    /// A comparison of two groups' rates.
    #[error(transparent)]
    TwoByTwo(#[from] TwoByTwoError),
    /// Welch's t test.
    #[error(transparent)]
    Welch(#[from] WelchError),
    /// Kaplan-Meier and log-rank.
    #[error(transparent)]
    Survival(#[from] SurvivalError),
    /// Cox and logistic regression.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// A distribution's parameters.
    #[error(transparent)]
    Distribution(#[from] DistributionError),
    /// Rosenbaum bounds.
    #[error("Rosenbaum bounds: {0}")]
    Rosenbaum(#[from] super::RosenbaumError),
    /// An adjusted design (weighting, entropy balancing, doubly robust, regression after
    /// matching).
    #[error(transparent)]
    Design(#[from] super::designs::DesignError),
    /// An area x period panel.
    #[error(transparent)]
    Panel(#[from] super::panel::PanelError),
    /// Synthetic control and synthetic difference-in-differences.
    #[error(transparent)]
    Synthetic(#[from] super::synthetic::SyntheticError),
    /// Staggered adoption (Callaway and Sant'Anna).
    #[error(transparent)]
    Staggered(#[from] super::staggered::StaggeredError),
    /// Difference-in-differences (its messages name the method).
    #[error(transparent)]
    Did(#[from] super::did::DidError),
}
