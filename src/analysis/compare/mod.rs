//! Comparing the pilot with a comparison group or with a fixed external rate, with a
//! plain-English verdict in the Justice Data Lab's style.
//!
//! [`Comparison`]'s [`compute`](crate::Analysis::compute) runs one; the files hold one idea each: `options` (what is
//! compared with what), `result` (the result and its parts), `groups` (the people of a
//! group), `build` (the comparison and its verdict), `subgroups`.

mod build;
pub(crate) mod groups;
mod options;
mod result;
mod subgroups;

pub(crate) use groups::GroupData;
pub(crate) use options::PeriodFilter;
pub use options::{
    Against, CompareOptions, CompareSettings, DEFAULT_CONTROL, DEFAULT_TREATMENT, Period,
    distinct_cohorts, pilot_range,
};
pub use result::{
    Comparison, ComparisonKind, DetectableDifference, DifferenceInterval, EValueStatement,
    Frequency, PeriodCheck, Subgroup, TimeToFirst,
};
