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
    /// Price year of `value`.
    pub price_year: i32,
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

impl UnitCosts {
    /// Reads `offence_type,value,unit,price_year,source,low,high[,category]`.
    pub fn from_csv(path: &Path) -> Result<UnitCosts> {
        let mut rows = BTreeMap::new();
        for (k, u) in read_csv::<UnitCost>(path)?.into_iter().enumerate() {
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
    year: i32,
    index: f64,
    #[allow(dead_code)]
    source: String,
}

/// The GDP deflator: an index per calendar year.
#[derive(Debug, Clone, PartialEq)]
pub struct Deflator {
    /// The file.
    pub path: PathBuf,
    index: BTreeMap<i32, f64>,
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
        let index = rows.into_iter().map(|r| (r.year, r.index)).collect();
        Ok(Deflator {
            path: path.to_path_buf(),
            index,
        })
    }

    /// Builds a deflator from `(year, index)` pairs.
    pub fn from_pairs(pairs: &[(i32, f64)]) -> Deflator {
        Deflator {
            path: PathBuf::from("(given)"),
            index: pairs.iter().copied().collect(),
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
}
