//! Statistics on plain numbers: proportions, comparisons, power, survival, regression.
//!
//! Nothing here knows about files or data frames: counts and slices in, result structs out.

mod blocks;
mod cox;
pub mod designs;
pub mod did;
pub(crate) mod effect;
mod errors;
mod linalg;
mod logistic;
mod means;
mod multiplicity;
pub mod panel;
mod power;
mod proportion;
mod quantile;
mod robustness;
pub mod staggered;
mod survival;
pub mod synthetic;
mod twobytwo;
mod weighted;

pub(crate) use cox::{Covariates, cox_of};
pub use cox::{CoxFit, CoxTerm, Ties, cox};
pub use effect::Effect;
pub(crate) use errors::Result;
pub use errors::{
    ArgumentError, DistributionError, FitError, ProportionError, StatsError, SurvivalError,
    TwoByTwoError, WelchError,
};
pub(crate) use logistic::logistic_sparse;
pub use logistic::{LogisticFit, LogisticTerm, logistic};
pub use means::{Summary, WelchTest, welch};
pub use multiplicity::{Adjustment, adjust};
pub use panel::{AreaPanel, PanelError};
pub use power::{
    Detectable, ONE_SAMPLE_METHOD, TWO_SAMPLE_METHOD, detectable_one, detectable_two,
    sample_size_one, sample_size_two,
};
pub use proportion::{
    BinomialTest, CiMethod, ExactAgainst, Interval, binomial_test, exact_against, proportion_ci,
};
pub(crate) use proportion::{check_confidence, z_upper};
pub use quantile::{median, quantile_sorted, weighted_median};
pub use robustness::{
    EValue, GammaBound, PairDirection, RosenbaumBounds, RosenbaumError, e_value, rosenbaum,
};
pub use survival::{KaplanMeier, KmInterval, KmRow, LogRank, SurvivalAt, logrank};
pub use twobytwo::{DiffMethod, Test, TwoByTwo, TwoByTwoResult, fisher_two_sided};
pub use weighted::{
    WeightedDifference, WeightedMean, weighted_difference, weighted_mean_difference,
    weighted_odds_ratio, weighted_rates, weighted_ratio, weighted_summary,
};
