//! Which date layout a column of text is written in: for `inspect`, and for the error when
//! no value of a date column can be read in the layout given.

use std::path::Path;

use super::dates::{DateFormat, Day};
use super::extract::Table;
use crate::error::Error;

/// Date layouts tried, in order of preference (ISO first; day-first before month-first,
/// as in the UK).
pub(super) const LAYOUTS: [&str; 10] = [
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y", "%d-%b-%Y",
    "%d %b %Y", "%d%m%Y",
];

/// What a column's text says about its dates.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct DateGuess {
    /// The first layout every value is read in (at least 99% of them, and one).
    pub format: Option<&'static str>,
    /// Both day-first and month-first read every value: `(value, 1-based row)` of one.
    pub ambiguous: Option<(String, u64)>,
    /// A value that only the chosen layout reads as it does (e.g. a day above 12), with
    /// its row.
    pub example: Option<(String, u64)>,
    /// Earliest and latest date in that layout.
    pub range: Option<(Day, Day)>,
}

fn parse(layout: &str, s: &str) -> Option<Day> {
    let s = s.trim();
    if layout == "%Y-%m-%d" {
        return DateFormat::Iso.parse(s);
    }
    // Two-digit years and 8-digit runs only when they are exactly that long.
    if (layout == "%d/%m/%y" && s.len() != 8) || (layout == "%d%m%Y" && s.len() != 8) {
        return None;
    }
    DateFormat::Strftime(layout.to_string()).parse(s)
}

/// Guesses the layout of `values` (`(1-based row, text)`, blanks left out).
pub(super) fn guess<'a>(values: impl Iterator<Item = (u64, &'a str)> + Clone) -> DateGuess {
    let n = values.clone().count();
    if n == 0 {
        return DateGuess::default();
    }
    let fits = |layout: &str| {
        let ok = values
            .clone()
            .filter(|(_, v)| parse(layout, v).is_some())
            .count();
        ok > 0 && ok * 100 >= n * 99
    };
    let Some(format) = LAYOUTS.iter().copied().find(|l| fits(l)) else {
        return DateGuess::default();
    };
    let days: Vec<Day> = values
        .clone()
        .filter_map(|(_, v)| parse(format, v))
        .collect();
    let range = days.iter().min().copied().zip(days.iter().max().copied());
    let (twin, day_first) = match format {
        "%d/%m/%Y" => (Some("%m/%d/%Y"), true),
        "%m/%d/%Y" => (Some("%d/%m/%Y"), false),
        _ => (None, false),
    };
    let mut g = DateGuess {
        format: Some(format),
        range,
        ..Default::default()
    };
    if let Some(twin) = twin {
        if day_first && fits(twin) {
            g.ambiguous = values
                .clone()
                .find(|(_, v)| parse(format, v) != parse(twin, v))
                .map(|(r, v)| (v.trim().to_string(), r));
        } else {
            g.example = values
                .clone()
                .find(|(_, v)| parse(twin, v).is_none())
                .map(|(r, v)| (v.trim().to_string(), r));
        }
    }
    g
}

/// The loader's error that no value of a date column can be read, with what the values
/// look like: the layout they are in, or that they read both day first and month first.
pub(super) fn explain_dates(e: Error, tables: &[&Table], format: &DateFormat) -> Error {
    let Error::Input {
        path,
        column: Some(column),
        row: None,
        message,
    } = e
    else {
        return e;
    };
    let unchanged = |path, column, message| Error::Input {
        path,
        column: Some(column),
        row: None,
        message,
    };
    if !message.contains("none of its values can be read as") {
        return unchanged(path, column, message);
    }
    let Some(values) = column_text(tables, &path, &column, format) else {
        return unchanged(path, column, message);
    };
    let g = guess(
        values
            .iter()
            .filter_map(|(r, v)| v.as_deref().map(|v| (*r, v))),
    );
    let hint = message
        .rfind(" (")
        .map_or(message.as_str(), |i| &message[..i]);
    match (g.format, g.ambiguous, g.example) {
        (Some(f), Some((value, row)), _) => Error::Input {
            message: format!(
                "{hint}: they read both day first ({f}) and month first (%m/%d/%Y), e.g. `{value}` in row \
                 {row}: give the date format"
            ),
            path,
            column: Some(column),
            row: Some(row),
        },
        (Some(f), None, example) => {
            let (eg, row) = match example {
                Some((v, r)) => (format!(" (e.g. `{v}` in row {r})"), Some(r)),
                None => (String::new(), None),
            };
            Error::Input {
                message: format!(
                    "{hint}: they are dates in the format {f}{eg}: give that date format"
                ),
                path,
                column: Some(column),
                row,
            }
        }
        _ => unchanged(path, column, message),
    }
}

/// The text of column `column` (the extract's name) of the file `path` of one of `tables`,
/// with 1-based rows.
fn column_text(
    tables: &[&Table],
    path: &Path,
    column: &str,
    format: &DateFormat,
) -> Option<Vec<(u64, Option<String>)>> {
    let part = tables
        .iter()
        .flat_map(|t| t.parts.iter())
        .find(|p| p.shown == path)?;
    let frame = part.read_again(column, format).ok()?;
    let text = frame
        .map_text(column, |s| {
            s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
        })
        .ok()?;
    Some(
        text.into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64 + 1, v))
            .collect(),
    )
}
