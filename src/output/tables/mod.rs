//! Every result as the tables a person reads: one file per result, each implementing
//! [`Tabular`](super::Tabular) (whose `Display` and `evcxr_display` come from one macro).

pub(crate) mod compare;
pub(crate) mod costs;
pub(crate) mod did;
pub(crate) mod effect;
pub(crate) mod matching;
pub(crate) mod monitor;
pub(crate) mod quality;
pub(crate) mod rates;
pub(crate) mod survival;

pub(crate) use super::tabular::array_records;
use super::tabular::tabular_display;

tabular_display!(
    crate::measure::Rates,
    crate::compare::Comparison,
    crate::matching::MatchedComparison,
    crate::effect::Effects,
    crate::survival::SurvivalAnalysis,
    crate::monitor::Monitor,
    crate::costs::CostBenefit,
    crate::did::AreaDid,
    crate::data::DataQuality,
);
