//! The proven reoffending measure: rules, per-person outcomes and rates.

mod groups;
mod outcome;
mod rates;
mod rules;

pub use groups::{DERIVED, Grouping, age_band, age_group, source_column};
pub use outcome::{NO_REOFFENCE, Outcomes, Window};
pub use rates::{GroupKey, GroupRate, RateOptions, Rates};
pub use rules::Rules;
