//! What a comparison compares: the pilot with another cohort or a published rate, over
//! which comparison people, at which confidence.

use serde::Serialize;

use crate::data::People;
use crate::data::dates::Day;
use crate::error::{Error, Result};
use crate::stats::{Adjustment, DiffMethod};

/// Which comparison people a comparison uses, by index date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Every comparison person. Default.
    #[default]
    Full,
    /// Only comparison people indexed between the pilot cohort's first and last index
    /// dates (inclusive), so that both groups share the same years (courts, lockdowns).
    Pilot,
}

impl Period {
    /// The other period: the robustness check beside a comparison.
    pub fn other(self) -> Period {
        match self {
            Period::Full => Period::Pilot,
            Period::Pilot => Period::Full,
        }
    }
}

impl std::str::FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Period> {
        match s.to_ascii_lowercase().as_str() {
            "full" | "all" => Ok(Period::Full),
            "pilot" => Ok(Period::Pilot),
            _ => Err(Error::option(
                "period",
                format!("`{s}` is not a period (use full or pilot)"),
            )),
        }
    }
}

/// The first and last index dates of cohort `treatment` (every person kept, eligible or not).
pub fn pilot_range(people: &People, treatment: &str) -> Option<(Day, Day)> {
    let code = people.cohort.code_of(treatment)?;
    let days = (0..people.len())
        .filter(|&i| people.cohort.codes[i] == code)
        .map(|i| people.index_day[i]);
    days.clone().min().zip(days.max())
}

/// Who of the comparison people a period keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeriodFilter {
    range: Option<(Day, Day)>,
}

impl PeriodFilter {
    pub(crate) fn new(people: &People, treatment: &str, period: Period) -> PeriodFilter {
        PeriodFilter {
            range: match period {
                Period::Full => None,
                Period::Pilot => pilot_range(people, treatment),
            },
        }
    }

    /// Whether comparison person `i` is in the period.
    pub(crate) fn keeps(&self, people: &People, i: usize) -> bool {
        self.range
            .is_none_or(|(a, b)| (a..=b).contains(&people.index_day[i]))
    }
}

/// What the pilot is compared with.
///
/// ```
/// use reoffending::compare::{Against, CompareOptions};
/// let thames_valley = CompareOptions {
///     against: Against::Baseline { rate: 0.2, name: Some("Thames Valley".into()), source: None },
///     ..Default::default()
/// };
/// assert_eq!(thames_valley.treatment, "divert");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// Another cohort in the data (e.g. `comparison`).
    Group(String),
    /// A published rate, such as Thames Valley's 20% (an external benchmark).
    Baseline {
        /// The rate, as a fraction.
        rate: f64,
        /// Its name, e.g. "Thames Valley Police drug diversion".
        name: Option<String>,
        /// Where it comes from.
        source: Option<String>,
    },
}

/// The pilot cohort's label when no option names it (every design's default, written once).
pub const DEFAULT_TREATMENT: &str = "divert";
/// The comparison cohort's label when no option names it (written once).
pub const DEFAULT_CONTROL: &str = "comparison";

/// Options for [`Comparison`](crate::Comparison). Every field has a documented default.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// The pilot cohort. Default `divert`.
    pub treatment: String,
    /// What it is compared with. Default the cohort `comparison`.
    pub against: Against,
    /// Confidence level of every interval. Default 0.95 (so tests use alpha = 0.05).
    pub confidence: f64,
    /// Interval for the risk difference. Default Newcombe.
    pub rd_method: DiffMethod,
    /// Subgroup breakdowns (e.g. `sex`, `age_group`). Default none.
    pub by: Vec<String>,
    /// Adjustment of subgroup p-values. Default Holm.
    pub adjust: Adjustment,
    /// Power used for the minimum detectable difference. Default 0.8.
    pub power: f64,
    /// Which comparison people to use, by index date. Default [`Period::Full`].
    pub period: Period,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            treatment: DEFAULT_TREATMENT.into(),
            against: Against::Group(DEFAULT_CONTROL.into()),
            confidence: 0.95,
            rd_method: DiffMethod::Newcombe,
            by: Vec::new(),
            adjust: Adjustment::Holm,
            power: 0.8,
            period: Period::Full,
        }
    }
}
