//! Statistics on plain numbers: proportions, comparisons, power, survival, regression.
//!
//! Nothing here knows about files or data frames: counts and slices in, result structs out.

mod proportion;

pub(crate) use proportion::check_confidence;
pub use proportion::{BinomialTest, CiMethod, Interval, binomial_test, proportion_ci};
