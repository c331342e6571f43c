//! How the two tables are read: required columns, the options and their defaults.

use super::dates::{DateFormat, Day};
use super::read::{self};
use crate::error::{Error, Result};

/// Required columns of the cohort table.
pub const COHORT_REQUIRED: [&str; 3] = ["person_id", "cohort", "index_date"];
/// Breakdowns derived from `age_at_index` and `index_date`; an input column may not take
/// one of these names.
pub const DERIVED_COLUMNS: [&str; 4] = ["age_band", "age_group", "index_quarter", "index_year"];
/// Required columns of the offences table.
pub const OFFENCES_REQUIRED: [&str; 3] = ["person_id", "offence_date", "disposal_date"];
/// Optional cohort columns that are always text.
pub(super) const TEXT_COLUMNS: [&str; 4] = ["sex", "ethnicity", "area", "index_offence"];
/// Optional cohort columns that are always numbers.
pub(super) const NUMBER_COLUMNS: [&str; 2] = ["age_at_index", "prior_offences"];

/// Which optional and extra columns of the cohort table to load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ColumnSelection {
    /// Every column in the file (the default).
    #[default]
    All,
    /// Only these (missing ones are an error naming the column).
    Only(Vec<String>),
}

/// How the two tables are read. Every field has a documented default.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// How date text is read. Default: ISO `YYYY-MM-DD`.
    pub date_format: DateFormat,
    /// The date the extract was taken. Default: the latest disposal date in the offences
    /// table (see [`ExtractDateSource`](crate::data::load::ExtractDateSource)).
    pub extract_date: Option<Day>,
    /// Optional cohort columns to load. Default: all.
    pub cohort_columns: ColumnSelection,
    /// Whether `offence_type` and `disposal` are kept as columns of [`Offences`](crate::data::table::Offences).
    /// Default: kept. Exact duplicates are detected on them either way.
    pub offence_details: OffenceDetails,
    /// Offence rows that are not proven outcomes, excluded as `not_proven_outcome`.
    /// Default: none (every row of the offences table is taken to be proven).
    pub not_proven: NotProven,
    /// Which usable offence rows are kept once read. Default: all of them (evaluation files
    /// and the command line default to the rows their analyses need).
    pub keep_offences: KeepOffences,
    /// The time zone in which timestamps that carry a zone become calendar dates.
    /// Default: each column's own zone. Timestamps without a zone are taken as local
    /// dates (their calendar day as written).
    pub timezone: Option<chrono_tz::Tz>,
    /// Plausible years of every date, inclusive. Default 1900 to 2100: a date outside is
    /// `unparseable_value` (a typo such as 2201, or a sentinel such as 0001-01-01).
    pub years: (i32, i32),
    /// Plausible `age_at_index`, inclusive. Default 10 (the age of criminal
    /// responsibility in England and Wales) to 110: outside is `implausible_value`.
    pub ages: (f64, f64),
    /// The cohort extract's further files, own column names and recodings. Default: one
    /// file in the contract's names.
    pub cohort_extract: super::extract::Extract,
    /// The offences extract's further files, own column names and recodings.
    pub offences_extract: super::extract::Extract,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            date_format: DateFormat::default(),
            extract_date: None,
            cohort_columns: ColumnSelection::default(),
            offence_details: OffenceDetails::default(),
            not_proven: NotProven::default(),
            keep_offences: KeepOffences::default(),
            timezone: None,
            years: (1900, 2100),
            ages: (10.0, 110.0),
            cohort_extract: Default::default(),
            offences_extract: Default::default(),
        }
    }
}

impl LoadOptions {
    /// Checks the options can be applied.
    pub fn validate(&self) -> Result<()> {
        let (a, b) = self.years;
        if !(1..=9999).contains(&a) || !(1..=9999).contains(&b) || a > b {
            return Err(Error::option(
                "years",
                format!("{a} to {b} is not a range of years between 1 and 9999"),
            ));
        }
        let (lo, hi) = self.ages;
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi) {
            return Err(Error::option(
                "ages",
                format!("{lo} to {hi} is not a range of ages"),
            ));
        }
        Ok(())
    }

    pub(super) fn date_spec(&self) -> read::DateSpec<'_> {
        read::DateSpec {
            format: &self.date_format,
            timezone: self.timezone,
            range: (
                super::dates::days_from_civil(self.years.0, 1, 1),
                super::dates::days_from_civil(self.years.1, 12, 31),
            ),
        }
    }
}

/// Values of `disposal` and `offence_type` that do not make a proven reoffence (MoJ rules:
/// community resolutions and cannabis warnings are not convictions or cautions; breaches
/// are not reoffences). Matching ignores case, surrounding spaces, and `_` versus space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotProven {
    /// Disposals to exclude, e.g. `community_resolution`, `cannabis_warning`.
    pub disposals: Vec<String>,
    /// Offence types to exclude, e.g. `breach`.
    pub offence_types: Vec<String>,
}

pub(super) fn normalise(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Which usable offence rows (valid, proven and linked to a person) the loader keeps.
///
/// At national scale most of an extract's rows can be history no analysis reads; keeping
/// only the rows needed makes memory grow with the people and their follow-up windows, not
/// with the length of their histories. Either way the attrition is the same: a row dropped
/// here is valid and linked, so it counts as used (docs/rules.md §3), it still sets the
/// default extract date, and its exact duplicates are still found and excluded.
///
/// The loader alone cannot know which analyses follow, so [`LoadOptions::default`] keeps
/// every row; an evaluation file and the command line keep only the rows needed unless
/// asked to keep them all ([`KeepOffences::for_follow_up`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepOffences {
    /// Every usable row (the loader's default): the [`Offences`](super::Offences) table is
    /// the whole linked extract.
    #[default]
    All,
    /// Only rows an analysis with a follow-up of at most `follow_up_days` can read:
    /// offences committed at most that many days after their person's index date
    /// (reoffences, survival, monitoring, costs, difference-in-differences, the period
    /// check) or before it (the prior-year placebo outcome). The other rows are counted as
    /// used and dropped as they are read: only a 12-byte key of each is held until its
    /// duplicates are found and, when `prior_offences` is counted from the offences table
    /// (the cohort table has no such column and the run asks for it), it is counted (a row
    /// whose dates or labels do not fit the key is kept whole instead).
    Needed {
        /// The longest follow-up of any analysis of the run.
        follow_up_days: u32,
    },
}

impl KeepOffences {
    /// How an evaluation file's or a command line's choice becomes this option:
    /// [`KeepOffences::All`] when `keep_all`, else [`KeepOffences::Needed`] for a longest
    /// follow-up of `follow_up_days`.
    ///
    /// ```
    /// use reoffending::KeepOffences;
    /// assert_eq!(KeepOffences::for_follow_up(true, 365), KeepOffences::All);
    /// assert_eq!(
    ///     KeepOffences::for_follow_up(false, 365),
    ///     KeepOffences::Needed { follow_up_days: 365 }
    /// );
    /// ```
    pub fn for_follow_up(keep_all: bool, follow_up_days: u32) -> KeepOffences {
        if keep_all {
            KeepOffences::All
        } else {
            KeepOffences::Needed { follow_up_days }
        }
    }
}

/// Whether the offence table's `offence_type` and `disposal` are kept after validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OffenceDetails {
    /// Kept, dictionary encoded (needed for costs and breakdowns by offence type).
    #[default]
    Keep,
    /// Used only to detect exact duplicates, then dropped: faster at national scale when
    /// only rates are wanted.
    Skip,
}
