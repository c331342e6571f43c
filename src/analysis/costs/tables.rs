//! Unit-cost and deflator tables, read from CSV (data, not constants).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// One offence type's cost.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UnitCost {
    /// Offence type, as in the offences table.
    pub offence_type: String,
    /// Cost per offence.
    pub value: f64,
    /// Unit, e.g. `GBP per offence`.
    pub unit: String,
    /// Price year of `value`: a calendar year, or with `financial_year` the financial year
    /// that starts in April of it (`2015/16` in the file is 2015).
    pub price_year: i32,
    /// Whether `price_year` is a financial year (written `2015/16` or `2015-16` in the file).
    #[serde(skip)]
    pub financial_year: bool,
    /// Where the figure comes from (publication, table), as given in the unit-cost file.
    pub source: String,
    /// Low end of the range.
    pub low: Option<f64>,
    /// High end of the range.
    pub high: Option<f64>,
    /// Category (e.g. `economic and social`).
    #[serde(default)]
    pub category: String,
}

/// The unit-cost table.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitCosts {
    /// The file.
    pub path: PathBuf,
    rows: BTreeMap<String, UnitCost>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (k, row) in r.deserialize().enumerate() {
        out.push(row.map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("row {}: {e}", k + 1),
        })?);
    }
    Ok(out)
}

/// A unit-cost row as written: the price year as text (`2015` or `2015/16`).
#[derive(Debug, Clone, Deserialize)]
struct UnitCostRow {
    offence_type: String,
    value: f64,
    unit: String,
    price_year: String,
    source: String,
    low: Option<f64>,
    high: Option<f64>,
    #[serde(default)]
    category: String,
}

/// A price year as written: `2015` (calendar) or `2015/16`, `2015-16` (the financial year
/// from April 2015): `(2015, financial)`; `None` for anything else.
pub fn parse_price_year(text: &str) -> Option<(i32, bool)> {
    let t = text.trim();
    if let Ok(y) = t.parse::<i32>() {
        return Some((y, false));
    }
    let (a, b) = t.split_once(['/', '-'])?;
    let a = a.trim();
    if a.len() != 4 {
        return None;
    }
    let y: i32 = a.parse().ok()?;
    let next = b.trim();
    let ok = match next.len() {
        2 => next.parse::<i32>().ok()? == (y + 1).rem_euclid(100),
        4 => next.parse::<i32>().ok()? == y + 1,
        _ => false,
    };
    ok.then_some((y, true))
}

impl UnitCosts {
    /// Reads `offence_type,value,unit,price_year,source,low,high[,category]`; `price_year` is
    /// a calendar year (`2015`) or a financial year (`2015/16`).
    pub fn from_csv(path: &Path) -> Result<UnitCosts> {
        let mut rows = BTreeMap::new();
        for (k, r) in read_csv::<UnitCostRow>(path)?.into_iter().enumerate() {
            let (price_year, financial_year) =
                parse_price_year(&r.price_year).ok_or_else(|| Error::Config {
                    path: path.to_path_buf(),
                    message: format!(
                        "row {}, column `price_year`: `{}`; expected a year such as 2015, or a financial \
                         year such as 2015/16",
                        k + 1,
                        crate::error::shown(&r.price_year)
                    ),
                })?;
            let u = UnitCost {
                offence_type: r.offence_type,
                value: r.value,
                unit: r.unit,
                price_year,
                financial_year,
                source: r.source,
                low: r.low,
                high: r.high,
                category: r.category,
            };
            for (col, v) in [("value", Some(u.value)), ("low", u.low), ("high", u.high)] {
                if let Some(x) = v.filter(|x| !(x.is_finite() && *x >= 0.0)) {
                    return Err(Error::Config {
                        path: path.to_path_buf(),
                        message: format!(
                            "row {}, column `{col}` (`{}`): {x}; expected a finite amount, at least 0",
                            k + 1,
                            crate::error::shown(&u.offence_type)
                        ),
                    });
                }
            }
            if u.low.is_some_and(|l| l > u.value) || u.high.is_some_and(|h| h < u.value) {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!(
                        "`{}`: low must not exceed value, nor high fall below it",
                        u.offence_type
                    ),
                });
            }
            if rows.insert(u.offence_type.clone(), u.clone()).is_some() {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("offence type `{}` appears twice", u.offence_type),
                });
            }
        }
        Ok(UnitCosts {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// The row for an offence type.
    pub fn get(&self, offence_type: &str) -> Option<&UnitCost> {
        self.rows.get(offence_type)
    }
}

#[derive(Debug, Clone, Deserialize)]
struct DeflatorRow {
    year: String,
    index: f64,
    #[allow(dead_code)]
    source: String,
}

/// The GDP deflator: an index per calendar year, or per financial year (HM Treasury
/// publishes both; a table holds one kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Deflator {
    /// The file.
    pub path: PathBuf,
    index: BTreeMap<i32, f64>,
    /// Whether the years are financial years (`2015/16`, keyed by 2015).
    pub financial_years: bool,
}

impl Deflator {
    /// Reads `year,index,source`.
    pub fn from_csv(path: &Path) -> Result<Deflator> {
        let rows = read_csv::<DeflatorRow>(path)?;
        if let Some((k, r)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| !(r.index.is_finite() && r.index > 0.0))
        {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "row {}, column `index` (year {}): {}; expected a finite index above 0",
                    k + 1,
                    r.year,
                    r.index
                ),
            });
        }
        let mut index = BTreeMap::new();
        let mut basis = None;
        for (k, r) in rows.iter().enumerate() {
            let (y, financial) = parse_price_year(&r.year).ok_or_else(|| Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "row {}, column `year`: `{}`; expected a year such as 2015, or a financial year \
                     such as 2015/16",
                    k + 1,
                    crate::error::shown(&r.year)
                ),
            })?;
            if *basis.get_or_insert(financial) != financial {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!(
                        "row {}, column `year`: `{}` mixes calendar and financial years in one table; \
                         use one kind",
                        k + 1,
                        crate::error::shown(&r.year)
                    ),
                });
            }
            index.insert(y, r.index);
        }
        Ok(Deflator {
            path: path.to_path_buf(),
            index,
            financial_years: basis.unwrap_or(false),
        })
    }

    /// Builds a deflator from `(year, index)` pairs.
    pub fn from_pairs(pairs: &[(i32, f64)]) -> Deflator {
        Deflator {
            path: PathBuf::from("(given)"),
            index: pairs.iter().copied().collect(),
            financial_years: false,
        }
    }

    /// The factor that turns `from`-year prices into `to`-year prices; an error naming
    /// `what` and the year when a year is missing.
    pub fn factor(&self, from: i32, to: i32, what: &str) -> Result<f64> {
        let get = |y: i32| {
            self.index.get(&y).copied().ok_or_else(|| Error::Config {
                path: self.path.clone(),
                message: format!(
                    "no deflator for {y} (needed for {what}); add the year to the table"
                ),
            })
        };
        Ok(get(to)? / get(from)?)
    }

    /// As [`factor`](Self::factor) for a price year of either kind (`from_financial`: the
    /// financial year from April of `from`); `to` is in the table's own kind. Where the kinds
    /// differ, the index of the other kind is taken by quarters: a financial year is three
    /// quarters of its first calendar year and one of its second, a calendar year one
    /// quarter of the financial year ending in its March and three of the one starting in
    /// its April. Also returns whether that conversion was made.
    pub fn factor_for(
        &self,
        from: i32,
        from_financial: bool,
        to: i32,
        what: &str,
    ) -> Result<(f64, bool)> {
        if from_financial == self.financial_years {
            return Ok((self.factor(from, to, what)?, false));
        }
        let (a, b) = if from_financial {
            (
                self.factor(from, to, what)?,
                self.factor(from + 1, to, what)?,
            )
        } else {
            (
                self.factor(from - 1, to, what)?,
                self.factor(from, to, what)?,
            )
        };
        // The factors are to/from; the index of `from` is the weighted mean of the indices.
        let (wa, wb) = if from_financial {
            (0.75, 0.25)
        } else {
            (0.25, 0.75)
        };
        Ok((1.0 / (wa / a + wb / b), true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_years_are_calendar_or_financial_and_nothing_else() {
        assert_eq!(parse_price_year("2015"), Some((2015, false)));
        assert_eq!(parse_price_year("2015/16"), Some((2015, true)));
        assert_eq!(parse_price_year(" 2015-16 "), Some((2015, true)));
        assert_eq!(parse_price_year("2015/2016"), Some((2015, true)));
        assert_eq!(parse_price_year("1999/00"), Some((1999, true)));
        for bad in ["2015/17", "2015/", "15/16", "2015-2017", "twenty", ""] {
            assert_eq!(parse_price_year(bad), None, "{bad}");
        }
    }

    /// A financial year's index is three quarters of its first calendar year and one of its
    /// second; a calendar year's one quarter of the financial year ending in its March and
    /// three of the one starting in its April; the same kind needs no conversion.
    #[test]
    fn a_price_year_of_the_other_kind_is_indexed_by_quarters() {
        let calendar = Deflator::from_pairs(&[(2015, 80.0), (2016, 100.0), (2023, 120.0)]);
        let (f, converted) = calendar.factor_for(2015, true, 2023, "x").unwrap();
        assert!(converted);
        assert!((f - 120.0 / 85.0).abs() < 1e-12, "{f}");
        let (f, converted) = calendar.factor_for(2015, false, 2023, "x").unwrap();
        assert!(!converted);
        assert!((f - 1.5).abs() < 1e-12, "{f}");
        let mut financial = Deflator::from_pairs(&[(2014, 80.0), (2015, 100.0), (2023, 120.0)]);
        financial.financial_years = true;
        let (f, converted) = financial.factor_for(2015, false, 2023, "x").unwrap();
        assert!(converted);
        assert!((f - 120.0 / 95.0).abs() < 1e-12, "{f}");
        // A year the conversion needs and the table lacks is an error naming it.
        let e = calendar.factor_for(2016, true, 2023, "unit cost of `arson`");
        assert!(e.unwrap_err().to_string().contains("no deflator for 2017"));
    }

    #[test]
    fn a_deflator_mixing_calendar_and_financial_years_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deflator.csv");
        std::fs::write(&p, "year,index,source\n2015,80,HMT\n2016/17,90,HMT\n").unwrap();
        let e = Deflator::from_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains("row 2, column `year`") && e.contains("mixes"),
            "{e}"
        );
        std::fs::write(&p, "year,index,source\n2015/16,80,HMT\n2016/17,90,HMT\n").unwrap();
        assert!(Deflator::from_csv(&p).unwrap().financial_years);
    }
}
