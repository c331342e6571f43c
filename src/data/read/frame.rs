//! A table read into memory ([`Frame`]) and its columns turned into plain vectors: text,
//! identifiers, dictionary codes, dates (with their time zones and plausible range) and
//! numbers; and what the extract layer needs of a frame.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::parallel::{par_map_prim, par_map_str};
use super::pl;
use super::polars_err;
use crate::data::dates::{DateFormat, Day};
use crate::data::table::MISSING;
use crate::error::{Error, Result};

/// A table read into memory: only the requested columns.
pub(crate) struct Frame {
    pub path: PathBuf,
    pub(super) df: pl::DataFrame,
    /// Columns read straight to dictionary codes and their labels (see [`Frame::codes`]).
    pub(super) coded: Vec<(String, Coded)>,
}

/// A column as codes (`MISSING` for none) and the labels they stand for.
pub(super) type Coded = (Vec<u32>, Vec<String>);

/// [`Coded`], borrowed from a frame that holds it or made for the caller.
pub(crate) type CodedRef<'a> = (Cow<'a, [u32]>, Cow<'a, [String]>);

/// How a date column becomes days: the text format, the time zone for zoned timestamps,
/// and the plausible range (a date outside it is unparseable).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateSpec<'a> {
    pub format: &'a DateFormat,
    pub timezone: Option<chrono_tz::Tz>,
    /// First and last plausible day, inclusive.
    pub range: (Day, Day),
}

impl DateSpec<'_> {
    #[inline]
    fn check(&self, day: i64) -> Day {
        if day < i64::from(self.range.0) || day > i64::from(self.range.1) {
            DATE_UNPARSEABLE
        } else {
            day as Day
        }
    }
}

/// The offset from UTC of a time zone, in seconds, at a given UTC second.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(i64),
}

impl Zone {
    /// An IANA name (`Europe/London`) or a fixed offset (`+01:00`, `-0530`, `UTC`).
    fn parse(name: &str) -> Option<Zone> {
        if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        let b = name.trim();
        let (sign, rest) = match b.as_bytes().first()? {
            b'+' => (1, &b[1..]),
            b'-' => (-1, &b[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (h, m): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
        (h < 24 && m < 60).then_some(Zone::Fixed(sign * (h * 3600 + m * 60)))
    }

    /// The local time of UTC second `secs`, as seconds; `None` out of chrono's range.
    fn local(self, secs: i64) -> Option<i64> {
        use chrono::{Offset, TimeZone};
        match self {
            Zone::Fixed(off) => secs.checked_add(off),
            Zone::Named(tz) => {
                let utc = chrono::DateTime::from_timestamp(secs, 0)?.naive_utc();
                let off = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
                secs.checked_add(i64::from(off))
            }
        }
    }
}

/// A date cell: a day, or one of two sentinels.
pub(crate) const DATE_MISSING: Day = i32::MIN;
/// A date cell whose text could not be read.
pub(crate) const DATE_UNPARSEABLE: Day = i32::MIN + 1;

/// A numeric cell read from text: value, missing, or unreadable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumCell {
    Value(f64),
    Missing,
    Unparseable,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Numbers of any width, integers or decimals (read as `f64`).
fn is_number(dtype: &pl::DataType) -> bool {
    dtype.is_primitive_numeric() || matches!(dtype, pl::DataType::Decimal(..))
}

impl Frame {
    fn column(&self, name: &str) -> Result<&pl::Column> {
        self.df
            .column(name)
            .map_err(|_| Error::in_column(&self.path, name, format!("missing column `{name}`")))
    }

    /// True when the column holds numbers in the file itself (Parquet), or when every
    /// non-empty text value reads as a number (CSV).
    pub fn looks_numeric(&self, name: &str) -> Result<bool> {
        let col = self.column(name)?;
        if is_number(col.dtype()) {
            return Ok(true);
        }
        if !matches!(col.dtype(), pl::DataType::String) {
            return Ok(false);
        }
        let cells = self.map_text(name, |s| match non_empty(s) {
            None => 0u8,
            Some(t) => {
                if t.parse::<f64>().is_ok() {
                    1
                } else {
                    2
                }
            }
        })?;
        Ok(cells.contains(&1) && !cells.contains(&2))
    }

    /// Applies `f` to each value as text (numbers and dates are formatted), in parallel,
    /// keeping row order. Missing values arrive as `None`.
    pub fn map_text<T, F>(&self, name: &str, f: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(Option<&str>) -> T + Sync + Send,
    {
        let col = self.column(name)?;
        let owned;
        let temporal;
        let ca: &pl::StringChunked = match col.dtype() {
            pl::DataType::String => col.str().map_err(|e| polars_err(&self.path, e))?,
            pl::DataType::Date | pl::DataType::Datetime(..) => {
                temporal = self.temporal_text(col)?;
                &temporal
            }
            _ => {
                owned = col
                    .cast(&pl::DataType::String)
                    .map_err(|_| self.not_text(name, col.dtype()))?;
                owned.str().map_err(|e| polars_err(&self.path, e))?
            }
        };
        Ok(par_map_str(ca, f))
    }

    /// Dictionary codes and labels of a column read as categorical or decoded from
    /// dictionary pages (`None` otherwise). Missing values get [`MISSING`]; `labels[code]`
    /// is the text.
    pub fn codes(&self, name: &str) -> Result<Option<CodedRef<'_>>> {
        if let Some((_, (codes, labels))) = self.coded.iter().find(|(n, _)| n == name) {
            return Ok(Some((Cow::Borrowed(codes), Cow::Borrowed(labels))));
        }
        let col = self.column(name)?;
        if !matches!(col.dtype(), pl::DataType::Categorical(_, _)) {
            return Ok(None);
        }
        let ca = col.cat32().map_err(|e| polars_err(&self.path, e))?;
        let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
        for arr in ca.physical().downcast_iter() {
            let values = arr.values().as_slice();
            let valid = arr.validity();
            let mut part = Vec::with_capacity(arr.len());
            (0..arr.len())
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| match valid {
                    Some(v) if !v.get_bit(i) => MISSING,
                    _ => values[i],
                })
                .collect_into_vec(&mut part);
            codes.append(&mut part);
        }
        let max = codes.par_iter().filter(|&&c| c != MISSING).max().copied();
        let mapping = ca.get_mapping();
        let labels = match max {
            None => Vec::new(),
            Some(m) => (0..=m)
                .map(|c| mapping.cat_to_str(c).unwrap_or("").to_string())
                .collect(),
        };
        Ok(Some((Cow::Owned(codes), Cow::Owned(labels))))
    }

    /// The column as text, for borrowing values (person identifiers).
    pub fn text(&self, name: &str) -> Result<pl::StringChunked> {
        let col = self.column(name)?;
        if matches!(col.dtype(), pl::DataType::Date | pl::DataType::Datetime(..)) {
            return self.temporal_text(col);
        }
        let s = match col.dtype() {
            pl::DataType::String => col.clone(),
            _ => col
                .cast(&pl::DataType::String)
                .map_err(|_| self.not_text(name, col.dtype()))?,
        };
        Ok(s.str().map_err(|e| polars_err(&self.path, e))?.clone())
    }

    /// The column as identifiers: text as it is, and a float column's whole numbers as
    /// integers (`123`, never `123.0` or `1.23e2`), so the same person links whatever the two
    /// tables' column types. A float that is not a whole number (or beyond 2^53, where floats
    /// skip integers) is an error naming its row (`first_row` data rows precede this frame).
    pub fn ids(&self, name: &str, first_row: usize) -> Result<pl::StringChunked> {
        let col = self.column(name)?;
        if !matches!(col.dtype(), pl::DataType::Float32 | pl::DataType::Float64) {
            return self.text(name);
        }
        let s = col
            .cast(&pl::DataType::Float64)
            .map_err(|e| polars_err(&self.path, e))?;
        let ca = s.f64().map_err(|e| polars_err(&self.path, e))?;
        let mut out: Vec<Option<String>> = Vec::with_capacity(ca.len());
        for (i, v) in ca.iter().enumerate() {
            match v {
                None => out.push(None),
                Some(x)
                    if x.is_finite() && x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 =>
                {
                    // Whole and within ±2^53: the cast is exact.
                    out.push(Some((x as i64).to_string()))
                }
                Some(x) => {
                    let row = (first_row + i) as u64 + 1;
                    return Err(Error::in_column(
                        &self.path,
                        name,
                        format!(
                            "row {row}, column `{name}`: the identifier {x} is a number that is not a whole \
                             number below 2^53, so it cannot be matched with the other table's identifiers; \
                             write identifiers as text or whole numbers"
                        ),
                    )
                    .at_row(row));
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Dates and timestamps as ISO text, formatted here: polars' own cast panics on values
    /// outside chrono's range (a date32 of 2^31 - 1 days), which an extract can hold.
    fn temporal_text(&self, col: &pl::Column) -> Result<pl::StringChunked> {
        let text: Vec<Option<String>> = match col.dtype() {
            pl::DataType::Date => {
                let ca = col.date().map_err(|e| polars_err(&self.path, e))?;
                par_map_prim(ca.physical(), |v| {
                    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?
                        .checked_add_signed(chrono::TimeDelta::try_days(i64::from(v?))?)?;
                    Some(d.format("%Y-%m-%d").to_string())
                })
            }
            pl::DataType::Datetime(unit, _) => {
                let per_second: i64 = match unit {
                    pl::TimeUnit::Milliseconds => 1_000,
                    pl::TimeUnit::Microseconds => 1_000_000,
                    pl::TimeUnit::Nanoseconds => 1_000_000_000,
                };
                let ca = col.datetime().map_err(|e| polars_err(&self.path, e))?;
                par_map_prim(ca.physical(), |v| {
                    let v = v?;
                    let nanos = v.rem_euclid(per_second) * (1_000_000_000 / per_second);
                    let t =
                        chrono::DateTime::from_timestamp(v.div_euclid(per_second), nanos as u32)?;
                    Some(t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                })
            }
            other => return Err(self.not_text(col.name(), other)),
        };
        Ok(text.into_iter().collect())
    }

    fn not_text(&self, name: &str, dtype: &pl::DataType) -> Error {
        Error::in_column(
            &self.path,
            name,
            format!("column `{name}` holds {dtype}, which cannot be used as text or numbers"),
        )
    }

    /// The column as dates, with [`DATE_MISSING`] and [`DATE_UNPARSEABLE`] sentinels.
    ///
    /// A timestamp with a time zone is the calendar date in that zone (or in
    /// `spec.timezone` when given); a timestamp without one is taken as a local date.
    /// A date outside `spec.range` is unparseable, so no day arithmetic can overflow.
    pub fn dates(&self, name: &str, spec: &DateSpec) -> Result<Vec<Day>> {
        let col = self.column(name)?;
        match col.dtype() {
            pl::DataType::Date => {
                let ca = col.date().map_err(|e| polars_err(&self.path, e))?;
                Ok(par_map_prim(ca.physical(), |v| {
                    v.map_or(DATE_MISSING, |d| spec.check(i64::from(d)))
                }))
            }
            pl::DataType::Datetime(unit, tz) => {
                let per_second: i64 = match unit {
                    pl::TimeUnit::Milliseconds => 1_000,
                    pl::TimeUnit::Microseconds => 1_000_000,
                    pl::TimeUnit::Nanoseconds => 1_000_000_000,
                };
                let zone = match (tz, spec.timezone) {
                    (None, _) => None,
                    (Some(_), Some(given)) => Some(Zone::Named(given)),
                    (Some(tz), None) => Some(Zone::parse(tz.as_str()).ok_or_else(|| {
                        Error::in_column(
                            &self.path,
                            name,
                            format!(
                                "column `{name}`: the time zone `{}` is not one this tool knows; give the zone \
                                 its dates are in (an IANA name such as Europe/London)",
                                tz.as_str()
                            ),
                        )
                    })?),
                };
                let ca = col.datetime().map_err(|e| polars_err(&self.path, e))?;
                Ok(par_map_prim(ca.physical(), |v| match v {
                    None => DATE_MISSING,
                    Some(t) => {
                        let secs = t.div_euclid(per_second);
                        match zone.map_or(Some(secs), |z| z.local(secs)) {
                            Some(local) => spec.check(local.div_euclid(86_400)),
                            None => DATE_UNPARSEABLE,
                        }
                    }
                }))
            }
            // Text: an ISO timestamp with a zone is the date in that zone, or in
            // `spec.timezone` when given (as for typed timestamps above).
            pl::DataType::String => self.map_text(name, |s| match non_empty(s) {
                None => DATE_MISSING,
                Some(t) => match spec.format {
                    DateFormat::Iso => match crate::data::dates::parse_iso_timestamp(t) {
                        None => DATE_UNPARSEABLE,
                        Some(ts) => match (ts.utc_seconds(), spec.timezone) {
                            (Some(utc), Some(tz)) => Zone::Named(tz)
                                .local(utc)
                                .map_or(DATE_UNPARSEABLE, |l| spec.check(l.div_euclid(86_400))),
                            _ => spec.check(i64::from(ts.day)),
                        },
                    },
                    DateFormat::Strftime(_) => spec
                        .format
                        .parse(t)
                        .map_or(DATE_UNPARSEABLE, |d| spec.check(i64::from(d))),
                },
            }),
            other => Err(Error::in_column(
                &self.path,
                name,
                format!("column `{name}` holds {other}, expected dates"),
            )),
        }
    }

    /// The column as numbers.
    pub fn numbers(&self, name: &str) -> Result<Vec<NumCell>> {
        let col = self.column(name)?;
        if !(is_number(col.dtype()) || matches!(col.dtype(), pl::DataType::String)) {
            return Err(Error::in_column(
                &self.path,
                name,
                format!("column `{name}` holds {}, expected numbers", col.dtype()),
            ));
        }
        if is_number(col.dtype()) {
            let s = col
                .cast(&pl::DataType::Float64)
                .map_err(|e| polars_err(&self.path, e))?;
            let ca = s.f64().map_err(|e| polars_err(&self.path, e))?;
            return Ok(ca
                .iter()
                .map(|v| match v {
                    Some(x) if x.is_finite() => NumCell::Value(x),
                    Some(_) => NumCell::Unparseable,
                    None => NumCell::Missing,
                })
                .collect());
        }
        self.map_text(name, |s| match non_empty(s) {
            None => NumCell::Missing,
            Some(t) => match t.parse::<f64>() {
                Ok(x) if x.is_finite() => NumCell::Value(x),
                _ => NumCell::Unparseable,
            },
        })
    }
}

/// What the extract layer (src/data/extract.rs) needs of a frame: frames made from tables it
/// read itself (spreadsheets, zstd-compressed CSV), columns renamed to the contract's names,
/// columns replaced by their recoded text, and slices.
impl Frame {
    /// A frame of `df`, read from `path`.
    pub(in crate::data) fn from_df(path: &Path, df: pl::DataFrame) -> Frame {
        Frame {
            path: path.to_path_buf(),
            df,
            coded: Vec::new(),
        }
    }

    /// True when column `name` holds dates or timestamps (not text).
    pub(in crate::data) fn is_date(&self, name: &str) -> bool {
        self.df
            .column(name)
            .is_ok_and(|c| matches!(c.dtype(), pl::DataType::Date | pl::DataType::Datetime(..)))
    }

    /// Data rows.
    pub(in crate::data) fn height(&self) -> usize {
        self.df.height()
    }

    /// The frame as polars holds it (only for frames read whole, without decoded columns).
    pub(in crate::data) fn into_df(self) -> pl::DataFrame {
        self.df
    }

    /// Rows `first..first + len`.
    pub(in crate::data) fn slice(&self, first: usize, len: usize) -> Frame {
        Frame {
            path: self.path.clone(),
            df: self.df.slice(first as i64, len),
            coded: Vec::new(),
        }
    }

    /// A copy with columns renamed (`(from, to)` pairs; the columns' values are shared).
    pub(in crate::data) fn renamed(&self, pairs: &[(String, String)]) -> Result<Frame> {
        let mut df = self.df.clone();
        let mut coded = self.coded.clone();
        // Through temporary names, so that swapping two names cannot collide.
        for (k, (from, _)) in pairs.iter().enumerate() {
            if df.get_column_index(from).is_some() {
                df.rename(from, format!("\u{1}{k}").into())
                    .map_err(|e| polars_err(&self.path, e))?;
            }
        }
        for (k, (_, to)) in pairs.iter().enumerate() {
            let tmp = format!("\u{1}{k}");
            if df.get_column_index(&tmp).is_some() {
                df.rename(&tmp, to.as_str().into())
                    .map_err(|e| polars_err(&self.path, e))?;
            }
        }
        for (name, _) in coded.iter_mut() {
            if let Some((_, to)) = pairs.iter().find(|(from, _)| from == name) {
                name.clone_from(to);
            }
        }
        Ok(Frame {
            path: self.path.clone(),
            df,
            coded,
        })
    }

    /// Replaces column `name` by text (`None` for a missing value).
    pub(in crate::data) fn set_text<'a>(
        &mut self,
        name: &str,
        values: impl Iterator<Item = Option<&'a str>>,
    ) -> Result<()> {
        self.coded.retain(|(n, _)| n != name);
        let ca: pl::StringChunked = values.collect();
        let column = pl::Column::from(pl::IntoSeries::into_series(ca.with_name(name.into())));
        self.df
            .with_column(column)
            .map_err(|e| polars_err(&self.path, e))?;
        Ok(())
    }
}
