//! Structural checks of an input table: required columns present, and not empty.

use std::path::Path;

use rayon::prelude::*;

use super::dates::{DateFormat, Day, format_day};
use super::read::{self, DATE_MISSING, DATE_UNPARSEABLE};
use crate::error::{Error, Result};

pub(super) fn require(
    path: &Path,
    header: &[String],
    required: &[&str],
    table: &str,
) -> Result<()> {
    for col in required {
        if !header.iter().any(|h| h == col) {
            return Err(Error::in_column(
                path,
                *col,
                format!(
                    "the {table} table has no column `{col}`: expected columns {} (found: {})",
                    required.join(", "),
                    header.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A required text column that is empty in every row is a structural error.
pub(super) fn check_text(
    path: &Path,
    column: &str,
    missing: impl Iterator<Item = bool>,
) -> Result<()> {
    let mut rows = 0usize;
    let mut all_missing = true;
    for m in missing {
        rows += 1;
        all_missing &= m;
    }
    if rows > 0 && all_missing {
        return Err(Error::in_column(
            path,
            column,
            format!("column `{column}`: every value is empty (expected text in every row)"),
        ));
    }
    Ok(())
}

/// A required date column in which no non-empty value is a date is a structural error.
pub(super) fn check_dates(
    path: &Path,
    column: &str,
    days: &[Day],
    spec: &read::DateSpec,
) -> Result<()> {
    let mut seen = DatesSeen::default();
    seen.add(days);
    seen.check(path, column, spec)
}

/// What a date column held so far, batch by batch, for [`check_dates`]' rule.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct DatesSeen {
    rows: bool,
    any_value: bool,
    any_date: bool,
}

impl DatesSeen {
    /// Takes in a batch of the column.
    pub(super) fn add(&mut self, days: &[Day]) {
        self.rows |= !days.is_empty();
        if !self.any_date {
            self.any_value |= days.par_iter().any(|&d| d != DATE_MISSING);
            self.any_date |= days
                .par_iter()
                .any(|&d| d != DATE_MISSING && d != DATE_UNPARSEABLE);
        }
    }

    /// True when some row held a value (a date or not).
    pub(super) fn any_value(&self) -> bool {
        self.any_value
    }

    /// An error when the column had rows and none of them held a date.
    pub(super) fn check(&self, path: &Path, column: &str, spec: &read::DateSpec) -> Result<()> {
        if !self.rows || self.any_date {
            return Ok(());
        }
        let what = if self.any_value {
            "none of its values can be read"
        } else {
            "every value is empty"
        };
        let hint = match spec.format {
            DateFormat::Iso => " (give the date format for other layouts, e.g. %d/%m/%Y)",
            DateFormat::Strftime(_) => " (check the date format)",
        };
        Err(Error::in_column(
            path,
            column,
            format!(
                "column `{column}`: {what} as {} from {} to {}{hint}",
                spec.format.describe(),
                format_day(spec.range.0),
                format_day(spec.range.1)
            ),
        ))
    }
}
