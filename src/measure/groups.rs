//! Breakdowns: grouping people by cohort and by columns, including derived ones.

use std::collections::HashSet;

use foldhash::fast::FixedState;

use rayon::prelude::*;

use crate::data::dates::{quarter_label, to_naive};
use crate::data::{MISSING, People, Values};
use crate::error::{Error, Result};
use chrono::Datelike;

/// Breakdowns computed from other columns rather than read from the file.
pub const DERIVED: [&str; 4] = crate::data::DERIVED_COLUMNS;

/// The column a derived breakdown needs from the cohort file, if any.
pub fn source_column(name: &str) -> Option<&'static str> {
    match name {
        "age_band" | "age_group" => Some("age_at_index"),
        _ => None,
    }
}

/// The age band of an age: 10-17, 18-20, 21-24, 25-29, 30-39, 40-49, 50+ (under 10: `<10`).
pub fn age_band(age: f64) -> &'static str {
    match age.floor() as i64 {
        i64::MIN..=9 => "<10",
        10..=17 => "10-17",
        18..=20 => "18-20",
        21..=24 => "21-24",
        25..=29 => "25-29",
        30..=39 => "30-39",
        40..=49 => "40-49",
        _ => "50+",
    }
}

/// `juvenile` (10-17) or `adult` (18+); under 10: `<10`.
pub fn age_group(age: f64) -> &'static str {
    match age.floor() as i64 {
        i64::MIN..=9 => "<10",
        10..=17 => "juvenile",
        _ => "adult",
    }
}

const AGE_BAND_ORDER: [&str; 8] = [
    "<10", "10-17", "18-20", "21-24", "25-29", "30-39", "40-49", "50+",
];
const AGE_GROUP_ORDER: [&str; 3] = ["<10", "juvenile", "adult"];

/// One breakdown column as codes and their labels (in display order).
struct Keyed {
    labels: Vec<String>,
    codes: Vec<u32>,
}

/// Codes of a label derived from age, in the display order `order`.
fn keyed_from_age(order: &[&str], ages: &[Option<f64>], label: fn(f64) -> &'static str) -> Keyed {
    let codes = ages
        .par_iter()
        .with_min_len(4096)
        .map(|a| match a {
            None => MISSING,
            Some(a) => {
                let s = label(*a);
                order
                    .iter()
                    .position(|o| *o == s)
                    .map_or(MISSING, |p| p as u32)
            }
        })
        .collect();
    Keyed {
        labels: order.iter().map(|s| s.to_string()).collect(),
        codes,
    }
}

fn numeric_keyed(v: &[Option<f64>]) -> Keyed {
    let mut distinct: Vec<f64> = v.iter().flatten().copied().collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let codes = v
        .iter()
        .map(|x| match x {
            None => MISSING,
            Some(x) => distinct
                .binary_search_by(|d| d.total_cmp(x))
                .map_or(MISSING, |p| p as u32),
        })
        .collect();
    Keyed {
        labels: distinct.iter().map(|d| format_number(*d)).collect(),
        codes,
    }
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn keyed(people: &People, name: &str) -> Result<Keyed> {
    if name == "cohort" {
        return Ok(Keyed {
            labels: people.cohort.levels.clone(),
            codes: people.cohort.codes.clone(),
        });
    }
    let age = || -> Result<&Vec<Option<f64>>> {
        match people.column("age_at_index").map(|c| &c.values) {
            Some(Values::Numeric(v)) => Ok(v),
            _ => Err(Error::option(
                "by",
                format!(
                    "`{name}` is derived from `age_at_index`, which the cohort table does not have"
                ),
            )),
        }
    };
    match name {
        "age_band" => {
            let v = age()?;
            return Ok(keyed_from_age(&AGE_BAND_ORDER, v, age_band));
        }
        "age_group" => {
            let v = age()?;
            return Ok(keyed_from_age(&AGE_GROUP_ORDER, v, age_group));
        }
        "index_quarter" | "index_year" => {
            let labels: Vec<String> = people
                .index_day
                .iter()
                .map(|&d| {
                    if name == "index_quarter" {
                        quarter_label(d)
                    } else {
                        to_naive(d).year().to_string()
                    }
                })
                .collect();
            let mut distinct = labels.clone();
            distinct.sort();
            distinct.dedup();
            let codes = labels
                .iter()
                .map(|l| distinct.binary_search(l).map_or(MISSING, |p| p as u32))
                .collect();
            return Ok(Keyed {
                labels: distinct,
                codes,
            });
        }
        _ => {}
    }
    match people.column(name).map(|c| &c.values) {
        Some(Values::Text(c)) => Ok(Keyed {
            labels: c.levels.clone(),
            codes: c.codes.clone(),
        }),
        Some(Values::Numeric(v)) => Ok(numeric_keyed(v)),
        None => Err(Error::option(
            "by",
            format!(
                "no column `{name}` in the cohort table (derived breakdowns: {})",
                DERIVED.join(", ")
            ),
        )),
    }
}

/// People grouped by cohort and breakdown columns.
#[derive(Debug, Clone)]
pub struct Grouping {
    /// The breakdown names, `cohort` first.
    pub names: Vec<String>,
    /// The key values of each group (`None` = missing), in the order of `names`.
    pub keys: Vec<Vec<Option<String>>>,
    /// The group of each person.
    pub group_of: Vec<u32>,
}

impl Grouping {
    /// Groups people by `cohort` and then by each of `by` (duplicates and `cohort` itself
    /// are ignored). Groups are ordered by their keys, missing values last.
    pub fn new(people: &People, by: &[String]) -> Result<Grouping> {
        let mut names = vec!["cohort".to_string()];
        for b in by {
            if !names.contains(b) {
                names.push(b.clone());
            }
        }
        let cols: Vec<Keyed> = names
            .iter()
            .map(|n| keyed(people, n))
            .collect::<Result<_>>()?;
        let n = people.len();
        // Combined key: each column's code (missing -> its number of labels) in mixed radix.
        let radix: Vec<u64> = cols.iter().map(|c| c.labels.len() as u64 + 1).collect();
        let combined: Vec<u64> = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| {
                let mut k = 0u64;
                for (c, r) in cols.iter().zip(&radix) {
                    let code = if c.codes[i] == MISSING {
                        r - 1
                    } else {
                        c.codes[i] as u64
                    };
                    k = k.wrapping_mul(*r).wrapping_add(code);
                }
                k
            })
            .collect();
        // Distinct keys (sorted, so groups come out in key order): few in practice, so a
        // hash set per chunk beats sorting every person's key.
        let mut distinct: Vec<u64> = combined
            .par_chunks(1 << 16)
            .map(|c| c.iter().copied().collect::<HashSet<u64, FixedState>>())
            .reduce(HashSet::default, |mut a, b| {
                a.extend(b);
                a
            })
            .into_iter()
            .collect();
        distinct.sort_unstable();
        // Every key is in `distinct` (sorted), so the first position not below it is its own.
        let group_of = combined
            .par_iter()
            .with_min_len(4096)
            .map(|k| distinct.partition_point(|d| d < k) as u32)
            .collect();
        let keys = distinct
            .iter()
            .map(|&k| {
                let mut rest = k;
                let mut parts = vec![None; cols.len()];
                for (j, (c, r)) in cols.iter().zip(&radix).enumerate().rev() {
                    let code = rest % r;
                    rest /= r;
                    parts[j] = c.labels.get(code as usize).cloned();
                }
                parts
            })
            .collect();
        Ok(Grouping {
            names,
            keys,
            group_of,
        })
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no groups.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        assert_eq!(age_band(17.0), "10-17");
        assert_eq!(age_band(18.0), "18-20");
        assert_eq!(age_band(24.9), "21-24");
        assert_eq!(age_band(50.0), "50+");
        assert_eq!(age_band(9.0), "<10");
        assert_eq!(age_group(17.0), "juvenile");
        assert_eq!(age_group(18.0), "adult");
    }
}
