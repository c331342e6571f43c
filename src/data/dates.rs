//! Dates as whole days since 1970-01-01 (the Arrow `Date32` representation).
//!
//! Keeping dates as `i32` days makes every window rule an integer comparison and
//! lets Parquet date columns be used without conversion.

use chrono::{Datelike, NaiveDate};

/// A calendar date as days since 1970-01-01.
pub type Day = i32;

/// How date strings are read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// ISO 8601 `YYYY-MM-DD` (a time part after `T` or a space is ignored). The default.
    #[default]
    Iso,
    /// A `strftime` pattern such as `%d/%m/%Y`, read with chrono.
    Strftime(String),
}

impl DateFormat {
    /// Builds a format from a `--date-format` value; `None` or `%Y-%m-%d` mean ISO.
    pub fn from_option(pattern: Option<&str>) -> Self {
        match pattern {
            None | Some("%Y-%m-%d") | Some("iso") => DateFormat::Iso,
            Some(p) => DateFormat::Strftime(p.to_string()),
        }
    }

    /// Parses one value; `None` if it is not a valid date in this format.
    #[inline]
    pub fn parse(&self, s: &str) -> Option<Day> {
        match self {
            DateFormat::Iso => parse_iso(s.trim()),
            DateFormat::Strftime(p) => NaiveDate::parse_from_str(s.trim(), p).ok().map(from_naive),
        }
    }

    /// A human description, for error messages.
    pub fn describe(&self) -> String {
        match self {
            DateFormat::Iso => "a date in YYYY-MM-DD form".to_string(),
            DateFormat::Strftime(p) => format!("a date in the format {p}"),
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
#[inline]
pub fn days_from_civil(y: i32, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

#[inline]
fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

#[inline]
fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Fast strict parser for `YYYY-MM-DD`, optionally followed by a time (`T` or a space, then
/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`) and a zone (`Z`, `+01:00`, `+0100`, `+01`, ` UTC`);
/// the date as written. Anything else after the date (`2021-05-13 junk`) is not a date.
#[inline]
pub fn parse_iso(s: &str) -> Option<Day> {
    parse_iso_timestamp(s).map(|t| t.day)
}

/// A text timestamp: the date and time as written, and the zone's offset from UTC when one
/// is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextTimestamp {
    /// The date as written.
    pub day: Day,
    /// Seconds since midnight, as written (0 for a bare date).
    pub seconds: i64,
    /// The written zone's offset from UTC in seconds, `None` when no zone is written.
    pub offset: Option<i64>,
}

impl TextTimestamp {
    /// Seconds since 1970-01-01 00:00 UTC, for a timestamp with a zone.
    pub fn utc_seconds(&self) -> Option<i64> {
        self.offset
            .map(|off| i64::from(self.day) * 86_400 + self.seconds - off)
    }
}

/// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.f+]]][zone]` (see [`parse_iso`]).
pub(crate) fn parse_iso_timestamp(s: &str) -> Option<TextTimestamp> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digit = |i: usize| -> Option<u32> {
        let c = *b.get(i)?;
        c.is_ascii_digit().then(|| (c - b'0') as u32)
    };
    let y = (digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?) as i32;
    let m = digit(5)? * 10 + digit(6)?;
    let d = digit(8)? * 10 + digit(9)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let day = days_from_civil(y, m, d);
    if b.len() == 10 {
        return Some(TextTimestamp {
            day,
            seconds: 0,
            offset: None,
        });
    }
    if b[10] != b'T' && b[10] != b' ' {
        return None;
    }
    // HH:MM
    let two = |i: usize| -> Option<i64> { Some(i64::from(digit(i)? * 10 + digit(i + 1)?)) };
    let (h, mi) = (two(11)?, two(14)?);
    if b.get(13) != Some(&b':') || h > 24 || mi > 59 {
        return None;
    }
    let mut i = 16;
    let mut sec = 0;
    if b.get(i) == Some(&b':') {
        sec = two(i + 1)?;
        if sec > 60 {
            return None;
        }
        i += 3;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    let seconds = h * 3600 + mi * 60 + sec;
    let rest = &s[i..];
    let offset = match rest.strip_prefix(' ').unwrap_or(rest) {
        "" if rest.is_empty() => None,
        "Z" | "z" | "UTC" | "GMT" => Some(0),
        zone => {
            let zb = zone.as_bytes();
            let sign = match zb.first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits = &zone[1..];
            let (hh, mm) = match digits.len() {
                2 => (digits, "00"),
                4 => (&digits[..2], &digits[2..]),
                5 if &digits[2..3] == ":" => (&digits[..2], &digits[3..]),
                _ => return None,
            };
            if !(hh.bytes().chain(mm.bytes()).all(|c| c.is_ascii_digit())) {
                return None;
            }
            let (oh, om): (i64, i64) = (hh.parse().ok()?, mm.parse().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            Some(sign * (oh * 3600 + om * 60))
        }
    };
    Some(TextTimestamp {
        day,
        seconds,
        offset,
    })
}

/// Converts a chrono date to days.
pub fn from_naive(d: NaiveDate) -> Day {
    days_from_civil(d.year(), d.month(), d.day())
}

/// Converts days to a chrono date.
pub fn to_naive(day: Day) -> NaiveDate {
    // 1970-01-01 is a valid date; adding any i32 number of days stays within chrono's range
    // (about ±262,000 years), so the fallback is never taken in practice.
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(day as i64)))
        .unwrap_or(NaiveDate::MIN)
}

/// Formats days as `YYYY-MM-DD`.
pub fn format_day(day: Day) -> String {
    to_naive(day).format("%Y-%m-%d").to_string()
}

/// The calendar quarter of a day, as `"2021-Q3"`.
pub fn quarter_label(day: Day) -> String {
    let d = to_naive(day);
    format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_matches_chrono_over_many_years() {
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        let end = NaiveDate::from_ymd_opt(2101, 3, 2).unwrap();
        while d < end {
            let s = d.format("%Y-%m-%d").to_string();
            assert_eq!(parse_iso(&s), Some(from_naive(d)), "{s}");
            assert_eq!(to_naive(from_naive(d)), d);
            d = d.succ_opt().unwrap();
        }
        assert_eq!(parse_iso("1970-01-01"), Some(0));
    }

    #[test]
    fn iso_rejects_invalid_dates() {
        for s in [
            "2021-02-29",
            "2020-02-30",
            "2021-13-01",
            "2021-00-10",
            "2021-04-31",
            "21-01-01",
            "2021/01/01",
            "2021-1-01",
            "",
            "2021-01-0a",
            "2021-01-01x",
            "2021-05-13 junk",
            "2021-05-13T",
            "2021-05-13 10:00 junk",
            "2021-05-13T10:00:00+25:00",
            "2021-05-13T99:00",
        ] {
            assert_eq!(parse_iso(s), None, "{s}");
        }
        assert!(parse_iso("2020-02-29").is_some());
        assert!(parse_iso("2000-02-29").is_some());
        assert!(parse_iso("1900-02-29").is_none());
        assert_eq!(parse_iso("2021-03-04T10:00:00"), parse_iso("2021-03-04"));
        assert_eq!(parse_iso("2021-03-04 00:00:00"), parse_iso("2021-03-04"));
        for zoned in [
            "2021-03-04T23:00:00Z",
            "2021-03-04 23:00:00.123+01:00",
            "2021-03-04T23:00-0530",
            "2021-03-04T23:00:00 UTC",
            "2021-03-04T23:00:00+01",
        ] {
            assert_eq!(parse_iso(zoned), parse_iso("2021-03-04"), "{zoned}");
        }
        let t = parse_iso_timestamp("2021-06-30T23:00:00Z").unwrap();
        assert_eq!(t.utc_seconds(), Some(i64::from(t.day) * 86_400 + 23 * 3600));
        let t = parse_iso_timestamp("2021-06-30T23:00:00+01:00").unwrap();
        assert_eq!(t.utc_seconds(), Some(i64::from(t.day) * 86_400 + 22 * 3600));
    }

    #[test]
    fn strftime_formats() {
        let f = DateFormat::from_option(Some("%d/%m/%Y"));
        assert_eq!(f.parse("04/03/2021"), parse_iso("2021-03-04"));
        assert_eq!(f.parse("2021-03-04"), None);
        assert_eq!(DateFormat::from_option(Some("%Y-%m-%d")), DateFormat::Iso);
    }

    #[test]
    fn quarters() {
        assert_eq!(quarter_label(parse_iso("2021-07-01").unwrap()), "2021-Q3");
        assert_eq!(quarter_label(parse_iso("2021-12-31").unwrap()), "2021-Q4");
        assert_eq!(format_day(parse_iso("2024-02-29").unwrap()), "2024-02-29");
    }
}
