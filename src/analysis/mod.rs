//! The analyses: each takes a loaded [`Evaluation`] and its options and
//! returns a result that serialises to the JSON of CONTRACT §3 and presents itself through
//! [`Tabular`](crate::output::Tabular).
//!
//! | analysis | options | result |
//! |---|---|---|
//! | rates ([`crate::measure`]) | [`RateOptions`] | [`Rates`] |
//! | [`compare`] | [`CompareOptions`](compare::CompareOptions) | [`Comparison`](compare::Comparison) |
//! | [`matching`] | [`MatchOptions`](matching::MatchOptions) | [`MatchedComparison`](matching::MatchedComparison) |
//! | [`effect`] | [`EffectOptions`](effect::EffectOptions) | [`Effects`](effect::Effects) |
//! | [`survival`] | [`SurvivalOptions`](survival::SurvivalOptions) | [`SurvivalAnalysis`](survival::SurvivalAnalysis) |
//! | [`monitor`] | [`MonitorOptions`](monitor::MonitorOptions) | [`Monitor`](monitor::Monitor) |
//! | [`did`] | [`DidOptions`](did::DidOptions) | [`AreaDid`](did::AreaDid) |
//! | [`costs`] | [`CostOptions`](costs::CostOptions) | [`CostBenefit`](costs::CostBenefit) |
//!
//! All are run the same way, through [`Analysis::compute`].

pub mod compare;
pub mod costs;
pub mod design;
pub mod did;
pub mod effect;
pub mod matching;
pub mod monitor;
pub mod survival;

use crate::Evaluation;
use crate::error::Result;
use crate::measure::{RateOptions, Rates};

/// One analysis of an evaluation: options in, result out.
///
/// ```
/// use reoffending::prelude::*;
/// # fn main() -> reoffending::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let cohort = dir.path().join("cohort.csv");
/// # let offences = dir.path().join("offences.csv");
/// # std::fs::write(&cohort, "person_id,cohort,index_date\nA,divert,2021-01-10\n\
/// #     B,divert,2021-02-01\nC,comparison,2021-01-05\nD,comparison,2021-01-09\n").unwrap();
/// # std::fs::write(&offences, "person_id,offence_date,disposal_date\n\
/// #     A,2021-03-01,2021-05-01\nC,2021-12-01,2022-06-01\nD,2023-01-01,2023-02-01\n").unwrap();
/// let eval = Evaluation::load(&Inputs::new(&cohort, &offences), Rules::default())?;
/// let rates = Rates::compute(&eval, &RateOptions::default())?;
/// let vs_group = Comparison::compute(&eval, &CompareOptions::default())?; // divert vs comparison
/// assert_eq!(vs_group.treatment_n, 2);
/// println!("{rates}\n{vs_group}"); // every result prints as tables, and shows in a notebook
/// # Ok(()) }
/// ```
pub trait Analysis: Sized {
    /// What the analysis needs besides the data (every field has a documented default
    /// where one exists).
    type Options;

    /// Runs the analysis on a loaded evaluation.
    fn compute(eval: &Evaluation, options: &Self::Options) -> Result<Self>;
}

/// Each analysis's options, and the function that runs it on data at hand.
macro_rules! analyses {
    ($($ty:ty => $opts:ty),* $(,)?) => {$(
        impl Analysis for $ty {
            type Options = $opts;
            fn compute(eval: &Evaluation, options: &$opts) -> Result<Self> {
                <$ty>::of(&eval.data.people, &eval.outcomes, options)
            }
        }
    )*};
}

analyses!(
    Rates => RateOptions,
    compare::Comparison => compare::CompareOptions,
    matching::MatchedComparison => matching::MatchOptions,
    survival::SurvivalAnalysis => survival::SurvivalOptions,
    monitor::Monitor => monitor::MonitorOptions,
    did::AreaDid => did::DidOptions,
    effect::Effects => effect::EffectOptions,
);

impl Analysis for costs::CostBenefit {
    type Options = costs::CostOptions;
    fn compute(eval: &Evaluation, options: &costs::CostOptions) -> Result<Self> {
        costs::CostBenefit::of(&eval.data, &eval.outcomes, options)
    }
}
