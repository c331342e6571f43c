//! What a comparison compares: the pilot with another cohort or a published rate, over
//! which comparison people, at which confidence.

use serde::{Deserialize, Serialize};

use crate::data::People;
use crate::data::dates::Day;
use crate::error::{Error, OptionError, Result};
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

impl CompareOptions {
    /// The values no comparison can use: a confidence level that is not a fraction, the
    /// treatment cohort as its own control. The error names the field (`confidence`,
    /// `control`).
    ///
    /// ```
    /// use reoffending::compare::{Against, CompareOptions};
    /// let o = CompareOptions { against: Against::Group("divert".into()), ..Default::default() };
    /// assert_eq!(o.check().unwrap_err().key, "control");
    /// ```
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        fraction("confidence", self.confidence)?;
        if let Against::Group(control) = &self.against {
            distinct_cohorts(&self.treatment, control)?;
        }
        Ok(())
    }
}

/// `x` strictly between 0 and 1, else an error naming `key`.
fn fraction(key: &str, x: f64) -> std::result::Result<(), OptionError> {
    if x > 0.0 && x < 1.0 {
        Ok(())
    } else {
        Err(OptionError::new(
            key,
            format!("{x}: expected a fraction strictly between 0 and 1 (e.g. 0.2)"),
        ))
    }
}

/// The one check that a design's control cohort is not its treatment cohort (comparisons,
/// the evaluation file's `[compare]`, matching): the error names `control`.
pub fn distinct_cohorts(treatment: &str, control: &str) -> std::result::Result<(), OptionError> {
    if treatment == control {
        return Err(OptionError::new(
            "control",
            format!(
                "`{}` is the treatment cohort too: compare it with another cohort",
                crate::error::shown(control)
            ),
        ));
    }
    Ok(())
}

/// The comparisons an evaluation makes: the evaluation file's `[compare]` table, read
/// straight into this struct, and what the `compare` command lays its flags over. It names
/// the pilot cohort, the comparison cohort and a published benchmark (either or both: the
/// report makes each comparison named), the period and the level; the cohorts are also
/// matching's and the level also survival's and monitoring's. Every field has a documented
/// default, defined once in the [`Default`] impl; [`check`](Self::check) says which values
/// no comparison can use; [`against`](Self::against) and [`benchmark`](Self::benchmark) give
/// what a comparison compares with.
///
/// ```
/// use reoffending::compare::{Against, CompareSettings};
/// let s: CompareSettings = toml::from_str("control = \"comparison\"\nbaseline_rate = 0.2").unwrap();
/// assert_eq!(s.against(), Against::Group("comparison".into()));
/// assert!(matches!(s.benchmark(), Some(Against::Baseline { rate, .. }) if rate == 0.2));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompareSettings {
    /// The pilot cohort. Default [`DEFAULT_TREATMENT`] (`divert`).
    pub treatment: String,
    /// The comparison cohort. Default none named: the report then makes no comparison with a
    /// group, and the designs that need one (matching) use [`DEFAULT_CONTROL`]
    /// ([`control`](Self::control)).
    pub control: Option<String>,
    /// A fixed external rate (a fraction). Default none.
    pub baseline_rate: Option<f64>,
    /// Its name, e.g. "Thames Valley Police diversion scheme". Default none.
    pub baseline_name: Option<String>,
    /// Its source. Default none.
    pub baseline_source: Option<String>,
    /// Which comparison people are used: `full` (default) or `pilot` (indexed within the
    /// pilot cohort's first and last index dates).
    #[serde(deserialize_with = "period_from_name")]
    pub period: Period,
    /// Confidence level of the comparisons (and of survival and monitoring). Default none:
    /// the evaluation file's `[rates] confidence` (whose default is 0.95).
    pub confidence: Option<f64>,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            treatment: DEFAULT_TREATMENT.into(),
            control: None,
            baseline_rate: None,
            baseline_name: None,
            baseline_source: None,
            period: Period::Full,
            confidence: None,
        }
    }
}

impl CompareSettings {
    /// The values no comparison can use: a confidence level or baseline rate that is not a
    /// fraction, the treatment cohort as its own control. The error names the field.
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        if let Some(c) = self.confidence {
            fraction("confidence", c)?;
        }
        if let Some(b) = self.baseline_rate {
            fraction("baseline_rate", b)?;
        }
        if let Some(c) = &self.control {
            distinct_cohorts(&self.treatment, c)?;
        }
        Ok(())
    }

    /// The comparison cohort, [`DEFAULT_CONTROL`] when none is named.
    pub fn control(&self) -> String {
        self.control
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTROL.into())
    }

    /// What the one comparison of the `compare` command compares with: the comparison cohort
    /// when one is named, else the benchmark when there is one, else [`DEFAULT_CONTROL`].
    pub fn against(&self) -> Against {
        match (&self.control, self.benchmark()) {
            (None, Some(b)) => b,
            _ => Against::Group(self.control()),
        }
    }

    /// The published benchmark, when a baseline rate is given.
    pub fn benchmark(&self) -> Option<Against> {
        self.baseline_rate.map(|rate| Against::Baseline {
            rate,
            name: self.baseline_name.clone(),
            source: self.baseline_source.clone(),
        })
    }
}

/// A period by its name (`full` or `pilot`), as the evaluation file gives it.
fn period_from_name<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Period, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map_err(|e| match e {
        Error::Option { message, .. } => serde::de::Error::custom(message),
        other => serde::de::Error::custom(other),
    })
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
