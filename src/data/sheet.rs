//! Spreadsheets (`.xlsx`, `.xlsm`, `.ods`) as tables: the first row names the columns, each
//! column is typed from its cells (dates typed as dates are dates, numbers are numbers), and
//! the table becomes a polars frame for the same checks and rules as CSV and Parquet.

use std::path::Path;

use calamine::{Data, Reader};

use super::dates::{DateFormat, Day, days_from_civil, format_day, parse_iso};
use super::pl;
use super::pl::IntoSeries;
use crate::error::{Error, Result};

/// A sheet read whole: its header (the extract's own names, blank names kept as `""` so
/// positions match) and a frame of the named columns.
pub(super) struct Sheet {
    pub header: Vec<String>,
    pub df: pl::DataFrame,
}

/// Reads sheet `sheet` (the first when `None`) of the workbook at `file`; `shown` is how
/// messages name it (`file.xlsx#Sheet`). Text cells of a column that also holds dates typed
/// as dates get those dates written in `format`, so that the column reads as one.
pub(super) fn read_sheet(
    file: &Path,
    shown: &Path,
    sheet: Option<&str>,
    format: &DateFormat,
) -> Result<Sheet> {
    let mut book = calamine::open_workbook_auto(file)
        .map_err(|e| Error::input(shown, format!("cannot read the workbook: {e}")))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| {
                Error::input(
                    shown,
                    format!(
                        "the workbook has no sheet `{s}`; its sheets are: {}",
                        names.join(", ")
                    ),
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| Error::input(shown, "the workbook has no sheets"))?,
    };
    let t = crate::trace::Phase::start("  parse the sheet");
    let range = book
        .worksheet_range(&name)
        .map_err(|e| Error::input(shown, format!("cannot read the sheet `{name}`: {e}")))?;
    drop(t);
    let _t = crate::trace::Phase::start("  type its columns");
    let mut rows = range.rows();
    let Some(first) = rows.next() else {
        return Err(Error::input(
            shown,
            format!("the sheet `{name}` is empty: expected a header row naming the columns"),
        ));
    };
    let header: Vec<String> = first.iter().map(header_text).collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::input(
            shown,
            format!(
                "the header row of the sheet `{name}` is empty: expected a header row naming the columns"
            ),
        ));
    }
    let height = range.height().saturating_sub(1);
    let mut columns: Vec<pl::Column> = Vec::new();
    for (j, h) in header.iter().enumerate() {
        // Blank names are ignored, as in CSV (and a frame cannot hold two of them).
        if h.is_empty() || columns.iter().any(|c| c.name().as_str() == h) {
            continue;
        }
        let cells = (1..=height).map(|i| range.get((i, j)).unwrap_or(&Data::Empty));
        columns.push(typed_column(h, cells, height, format));
    }
    let df = pl::DataFrame::new(height, columns)
        .map_err(|e| Error::input(shown, format!("cannot read the sheet `{name}`: {e}")))?;
    Ok(Sheet { header, df })
}

/// The names of a workbook's sheets, in order.
pub(super) fn sheet_names(file: &Path) -> Result<Vec<String>> {
    let book = calamine::open_workbook_auto(file)
        .map_err(|e| Error::input(file, format!("cannot read the workbook: {e}")))?;
    Ok(book.sheet_names())
}

fn header_text(c: &Data) -> String {
    cell_text(c, &DateFormat::Iso)
        .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
        .unwrap_or_default()
}

/// The calendar day of a date cell (its time of day dropped); `None` for a duration or a
/// date out of range.
fn cell_day(c: &Data) -> Option<Day> {
    match c {
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, dd, ..) = d.to_ymd_hms_milli();
            // Excel's day 60 is 1900-02-29, which never was.
            chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(dd))?;
            Some(days_from_civil(i32::from(y), u32::from(m), u32::from(dd)))
        }
        Data::DateTimeIso(s) => parse_iso(s.get(..10).unwrap_or(s)),
        _ => None,
    }
}

/// A number cell's value.
fn cell_number(c: &Data) -> Option<f64> {
    match c {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        _ => None,
    }
}

/// A cell as text: whole numbers without a decimal point, dates in `format`, errors as
/// Excel shows them (`#N/A`), empty text as missing.
fn cell_text(c: &Data, format: &DateFormat) -> Option<String> {
    match c {
        Data::Empty => None,
        Data::String(s) => (!s.trim().is_empty()).then(|| s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(number_text(*f)),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(_) | Data::DateTimeIso(_) => match cell_day(c) {
            Some(d) => Some(match format {
                DateFormat::Iso => format_day(d),
                DateFormat::Strftime(p) => {
                    use std::fmt::Write as _;
                    let mut out = String::new();
                    // A pattern chrono cannot format leaves ISO (then unparseable, counted).
                    match write!(out, "{}", super::dates::to_naive(d).format(p)) {
                        Ok(()) => out,
                        Err(_) => format_day(d),
                    }
                }
            }),
            None => Some(match c {
                Data::DateTime(d) => number_text(d.as_f64()),
                other => other.to_string(),
            }),
        },
        Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(e.to_string()),
    }
}

/// A number as text: whole numbers without `.0` (an identifier stored as a number reads as
/// the identifier).
fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// One column from its cells: dates when every value is a date cell, whole numbers or
/// numbers when every value is a number, else text.
fn typed_column<'a>(
    name: &str,
    cells: impl Iterator<Item = &'a Data> + Clone,
    height: usize,
    format: &DateFormat,
) -> pl::Column {
    let present = cells.clone().filter(|c| !is_blank(c));
    let all_dates = present.clone().all(|c| {
        matches!(c, Data::DateTime(d) if d.is_datetime()) || matches!(c, Data::DateTimeIso(_))
    }) && present.clone().all(|c| cell_day(c).is_some());
    let all_numbers = present.clone().all(|c| cell_number(c).is_some());
    let any = present.clone().next().is_some();
    let name: pl::PlSmallStr = name.into();
    if any && all_dates {
        let days: pl::Int32Chunked = cells.clone().map(cell_day).collect();
        let series = days.with_name(name.clone()).into_series();
        if let Ok(dates) = series.cast(&pl::DataType::Date) {
            return pl::Column::from(dates);
        }
    }
    if any && all_numbers {
        let whole = present
            .clone()
            .filter_map(cell_number)
            .all(|f| f.fract() == 0.0 && f.abs() < 9.0e15);
        if whole {
            let ca: pl::Int64Chunked = cells.map(|c| cell_number(c).map(|f| f as i64)).collect();
            return pl::Column::from(ca.with_name(name).into_series());
        }
        let ca: pl::Float64Chunked = cells.map(cell_number).collect();
        return pl::Column::from(ca.with_name(name).into_series());
    }
    let ca: pl::StringChunked = cells.map(|c| cell_text(c, format)).collect();
    debug_assert_eq!(ca.len(), height);
    pl::Column::from(ca.with_name(name).into_series())
}

fn is_blank(c: &Data) -> bool {
    match c {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}
