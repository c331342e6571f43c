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
    let any_value = days.par_iter().any(|&d| d != DATE_MISSING);
    let any_date = days
        .par_iter()
        .any(|&d| d != DATE_MISSING && d != DATE_UNPARSEABLE);
    if !days.is_empty() && !any_date {
        let what = if any_value {
            "none of its values can be read"
        } else {
            "every value is empty"
        };
        let hint = match spec.format {
            DateFormat::Iso => " (give the date format for other layouts, e.g. %d/%m/%Y)",
            DateFormat::Strftime(_) => " (check the date format)",
        };
        return Err(Error::in_column(
            path,
            column,
            format!(
                "column `{column}`: {what} as {} from {} to {}{hint}",
                spec.format.describe(),
                format_day(spec.range.0),
                format_day(spec.range.1)
            ),
        ));
    }
    Ok(())
}
