//! Periods of an area panel: months, quarters or years, numbered so that consecutive
//! periods differ by one.

use serde::{Deserialize, Serialize};

use crate::data::dates::{Day, to_naive};

/// The length of a period of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodLength {
    /// Calendar months, labelled `2021-03`.
    Month,
    /// Calendar quarters, labelled `2021-Q1` (the default).
    #[default]
    Quarter,
    /// Calendar years, labelled `2021`.
    Year,
}

impl PeriodLength {
    /// The period holding `day`, as a number (consecutive periods differ by one).
    ///
    /// ```
    /// use reoffending::did::PeriodLength;
    /// let day = reoffending::parse_iso("2020-10-01").unwrap();
    /// assert_eq!(PeriodLength::Quarter.label(PeriodLength::Quarter.of(day)), "2020-Q4");
    /// assert_eq!(PeriodLength::Month.label(PeriodLength::Month.of(day)), "2020-10");
    /// assert_eq!(PeriodLength::Year.label(PeriodLength::Year.of(day)), "2020");
    /// ```
    pub fn of(self, day: Day) -> i32 {
        use chrono::Datelike;
        let d = to_naive(day);
        let (y, m) = (d.year(), d.month0() as i32);
        match self {
            PeriodLength::Month => y * 12 + m,
            PeriodLength::Quarter => y * 4 + m / 3,
            PeriodLength::Year => y,
        }
    }

    /// The label of period number `p`.
    pub fn label(self, p: i32) -> String {
        match self {
            PeriodLength::Month => format!("{}-{:02}", p.div_euclid(12), p.rem_euclid(12) + 1),
            PeriodLength::Quarter => format!("{}-Q{}", p.div_euclid(4), p.rem_euclid(4) + 1),
            PeriodLength::Year => p.to_string(),
        }
    }

    /// Reads a period label of a published panel: an integer year (`2021`), a quarter
    /// (`2021-Q1`), a month (`2021-03`) or a date (`2021-03-15`, read as its period of
    /// `self`). `None` when the label is none of these, or is of a finer length than
    /// `self` allows (a quarter when periods are years is refused rather than guessed).
    ///
    /// ```
    /// use reoffending::did::PeriodLength;
    /// assert_eq!(PeriodLength::parse_kind("2021-Q3"), Some(PeriodLength::Quarter));
    /// let q = PeriodLength::Quarter;
    /// assert_eq!(q.parse("2021-Q3").map(|p| q.label(p)), Some("2021-Q3".into()));
    /// assert_eq!(q.parse("2021-08-15").map(|p| q.label(p)), Some("2021-Q3".into()));
    /// assert_eq!(q.parse("2021"), None);
    /// ```
    pub fn parse(self, label: &str) -> Option<i32> {
        let s = label.trim();
        if let Some(day) = crate::data::dates::parse_iso(s).filter(|_| s.len() == 10) {
            return Some(self.of(day));
        }
        let kind = Self::parse_kind(s)?;
        let year: i32 = s.get(..4)?.parse().ok()?;
        match (kind, self) {
            (PeriodLength::Year, PeriodLength::Year) => Some(year),
            (PeriodLength::Quarter, PeriodLength::Quarter) => {
                let q: i32 = s.get(6..)?.parse().ok()?;
                (1..=4).contains(&q).then_some(year * 4 + q - 1)
            }
            (PeriodLength::Month, PeriodLength::Month) => {
                let m: i32 = s.get(5..)?.parse().ok()?;
                (1..=12).contains(&m).then_some(year * 12 + m - 1)
            }
            _ => None,
        }
    }

    /// The length a label is written in: `2021` a year, `2021-Q1` a quarter, `2021-03` a
    /// month; `None` for anything else (dates included: they fit every length).
    pub fn parse_kind(label: &str) -> Option<PeriodLength> {
        let b = label.trim().as_bytes();
        let digits =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
        match b.len() {
            4 if digits(0..4) => Some(PeriodLength::Year),
            7 if digits(0..4) && b[4] == b'-' && (b[5] == b'Q' || b[5] == b'q') && digits(6..7) => {
                Some(PeriodLength::Quarter)
            }
            7 if digits(0..4) && b[4] == b'-' && digits(5..7) => Some(PeriodLength::Month),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_periods_differ_by_one_across_years() {
        let q = PeriodLength::Quarter;
        let a = q.of(crate::data::dates::parse_iso("2020-12-31").unwrap());
        let b = q.of(crate::data::dates::parse_iso("2021-01-01").unwrap());
        assert_eq!(b - a, 1);
        let m = PeriodLength::Month;
        assert_eq!(m.parse("2021-01").unwrap() - m.parse("2020-12").unwrap(), 1);
        assert_eq!(m.parse("2021-13"), None);
        assert_eq!(PeriodLength::Year.parse("2021-Q1"), None);
        assert_eq!(q.parse("junk"), None);
    }
}
