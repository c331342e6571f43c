//! Design matrices: covariates of the cohort table as numeric columns for regression.
//!
//! Categorical covariates become indicator terms named `column=level`; the first level in
//! sorted order is the reference unless a `column=level` reference is given. A missing
//! categorical value is a level of its own, [`NOT_RECORDED`], as the Justice Data Lab
//! treats it: nobody is set aside for an unrecorded ethnicity (a group set aside could be
//! worked out as the unadjusted counts minus the adjusted ones). Rows with a missing
//! numeric value are left out and counted.

use crate::data::{MISSING, People, Values};
use crate::error::{Error, Result};
use crate::measure::{age_band, age_group};

/// The level a missing categorical covariate value takes.
pub const NOT_RECORDED: &str = "not recorded";

/// Numeric columns for a set of people.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Term names (`age_at_index`, `sex=M`, ...).
    pub names: Vec<String>,
    /// `columns[j][k]`: term `j` for the `k`-th row in `rows`.
    pub columns: Vec<Vec<f64>>,
    /// The people used (indices into [`People`]), in order.
    pub rows: Vec<usize>,
    /// People left out for a missing covariate value.
    pub excluded_missing: u64,
    /// For each covariate, its reference level (categorical ones only).
    pub references: Vec<(String, String)>,
}

impl Design {
    /// Puts the rows in an order that depends only on the data: by the terms' values, then
    /// by `extra` (whatever else the caller computes from a person: group, outcomes). Rows
    /// equal on all of it are interchangeable in every computation that reads only these, so
    /// sums come out bit for bit the same however the people were ordered or named.
    ///
    /// Each row's key is computed once, and the keys are sorted with the row's current place
    /// as the last tie-break: the order of a stable sort by rank and `extra`, whatever the
    /// number of threads sorting it.
    pub fn sort_canonically<K: Ord + Send>(&mut self, extra: impl Fn(usize) -> K + Sync) {
        use rayon::prelude::*;
        let t = crate::trace::Phase::start("    design: term ranks");
        let rank = self.term_ranks();
        drop(t);
        let t = crate::trace::Phase::start("    design: sort rows");
        let rows = &self.rows;
        let mut keys: Vec<(usize, K, usize)> = (0..rows.len())
            .into_par_iter()
            .map(|k| (rank[k], extra(rows[k]), k))
            .collect();
        keys.par_sort_unstable();
        let order: Vec<usize> = keys.into_iter().map(|(_, _, k)| k).collect();
        drop(t);
        let _t = crate::trace::Phase::start("    design: rows and columns in order");
        self.rows = order.iter().map(|&k| self.rows[k]).collect();
        self.columns.par_iter_mut().for_each(|c| {
            *c = order.iter().map(|&k| c[k]).collect();
        });
    }
}

impl Design {
    /// Rows `a` and `b` compared by their terms' values, the first term first.
    fn compare_terms(&self, a: usize, b: usize) -> std::cmp::Ordering {
        self.columns
            .iter()
            .map(|c| c[a].total_cmp(&c[b]))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }

    /// Each row's place among the rows' distinct values of the terms, in the order of
    /// [`compare_terms`](Self::compare_terms): rows compare by their ranks exactly as by their
    /// values. The distinct rows are found by a hash of their values (every row then checked
    /// value by value against the first of its hash; on a collision every row is ranked), so
    /// only they are sorted by values: 200 indicator terms made comparing rows of the same
    /// level walk every term, half a second per sort at 20,000 people.
    fn term_ranks(&self) -> Vec<usize> {
        use rayon::prelude::*;
        let n = self.rows.len();
        // Each row's hash folds its own values, the first term first: rows in parallel.
        let columns = &self.columns;
        let hash: Vec<u64> = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| {
                columns
                    .iter()
                    .fold(0u64, |h, c| mix(h.rotate_left(17) ^ c[i].to_bits()))
            })
            .collect();
        type FirstOf = std::collections::HashMap<u64, usize, foldhash::fast::FixedState>;
        let t = crate::trace::Phase::start("      term ranks: distinct rows");
        // Each hash's first row: the first within each block of rows (blocks in parallel),
        // then the blocks' maps merged in block order, an earlier block's row kept.
        const BLOCK: usize = 1 << 16;
        let first: FirstOf = hash
            .par_chunks(BLOCK)
            .enumerate()
            .map(|(b, block)| {
                let mut m = FirstOf::default();
                for (k, h) in block.iter().enumerate() {
                    m.entry(*h).or_insert(b * BLOCK + k);
                }
                m
            })
            .collect::<Vec<FirstOf>>()
            .into_iter()
            .fold(FirstOf::default(), |mut all, block| {
                for (h, i) in block {
                    all.entry(h).or_insert(i);
                }
                all
            });
        // Every hash is a key of `first` (it was inserted above).
        let mut rep: Vec<usize> = hash.par_iter().map(|h| first[h]).collect();
        drop(hash);
        drop(t);
        let t = crate::trace::Phase::start("      term ranks: check and rank");
        if (0..n)
            .into_par_iter()
            .any(|i| rep[i] != i && self.compare_terms(i, rep[i]).is_ne())
        {
            rep = (0..n).collect();
        }
        let mut distinct: Vec<usize> = (0..n).into_par_iter().filter(|&i| rep[i] == i).collect();
        distinct.sort_by(|&a, &b| self.compare_terms(a, b));
        let mut rank_of = vec![0usize; n];
        let mut rank = 0;
        for (k, &i) in distinct.iter().enumerate() {
            if k > 0 && self.compare_terms(distinct[k - 1], i).is_ne() {
                rank += 1;
            }
            rank_of[i] = rank;
        }
        let ranks = rep.par_iter().map(|&r| rank_of[r]).collect();
        drop(t);
        ranks
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The most levels a categorical covariate may have by default: each level is a column of
/// the design (as many numbers as people), so 100,000 levels would need some 24 GB at
/// 30,000 people, and matching on 2,000 took minutes. More is refused, naming the column.
pub const MAX_LEVELS: usize = 200;

/// Parses `column=level` reference choices.
pub fn parse_references(items: &[String]) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| Error::option("reference", format!("`{s}`: expected column=level")))
        })
        .collect()
}

/// A covariate's values for every person, borrowed from the cohort table where it can be.
enum Raw<'a> {
    Numeric(&'a [Option<f64>]),
    Categorical(Codes<'a>),
}

/// A categorical covariate as codes into `labels` (one a person, [`MISSING`] where it has
/// none, which reads as the code `missing_as`): no text is made per person.
struct Codes<'a> {
    codes: std::borrow::Cow<'a, [u32]>,
    labels: Vec<String>,
    missing_as: Option<u32>,
}

impl Codes<'_> {
    /// Person `i`'s code, or `None` for a missing value.
    fn get(&self, i: usize) -> Option<u32> {
        match self.codes[i] {
            MISSING => self.missing_as,
            c => Some(c),
        }
    }
}

/// Codes of the labels `label` gives each value (`None` for a missing one), in order of
/// first appearance.
fn coded<'a>(values: &[Option<f64>], label: fn(f64) -> &'static str) -> Codes<'a> {
    let mut labels: Vec<&'static str> = Vec::new();
    let codes = values
        .iter()
        .map(|v| match v {
            None => MISSING,
            Some(a) => {
                let l = label(*a);
                match labels.iter().position(|x| *x == l) {
                    Some(k) => k as u32,
                    None => {
                        labels.push(l);
                        (labels.len() - 1) as u32
                    }
                }
            }
        })
        .collect();
    Codes {
        codes: std::borrow::Cow::Owned(codes),
        labels: labels.into_iter().map(str::to_string).collect(),
        missing_as: None,
    }
}

fn raw<'a>(people: &'a People, name: &str) -> Result<Raw<'a>> {
    let age = || match people.column("age_at_index").map(|c| &c.values) {
        Some(Values::Numeric(v)) => Ok(v),
        _ => Err(Error::option(
            "covariates",
            format!("`{name}` needs `age_at_index` in the cohort table"),
        )),
    };
    Ok(match name {
        "cohort" => Raw::Categorical(Codes {
            codes: std::borrow::Cow::Borrowed(&people.cohort.codes),
            labels: people.cohort.levels.clone(),
            missing_as: None,
        }),
        "age_band" => Raw::Categorical(coded(age()?, age_band)),
        "age_group" => Raw::Categorical(coded(age()?, age_group)),
        _ => match people.column(name).map(|c| &c.values) {
            Some(Values::Numeric(v)) => Raw::Numeric(v),
            Some(Values::Text(c)) => {
                // A missing value is the level NOT_RECORDED, after the column's own levels.
                let mut labels = c.levels.clone();
                labels.push(NOT_RECORDED.to_string());
                Raw::Categorical(Codes {
                    codes: std::borrow::Cow::Borrowed(&c.codes),
                    missing_as: Some(c.levels.len() as u32),
                    labels,
                })
            }
            None => {
                return Err(Error::option(
                    "covariates",
                    format!("no column `{name}` in the cohort table"),
                ));
            }
        },
    })
}

/// The position of a value so far from the rest that a model fitted on it is numerically
/// meaningless: further than a million interquartile ranges (or, with no spread, a million
/// times the median's size, at least 1) from the median.
fn extreme(v: &[f64]) -> Option<usize> {
    if v.len() < 4 {
        return None;
    }
    // The quartiles from the order statistics they interpolate, each found by selection
    // (linear time) instead of a sort of every value: values equal under `total_cmp` are the
    // same bits, so the k-th value of any selection is the k-th of the sorted values.
    let last = v.len() - 1;
    let mut positions: Vec<usize> = [0.25, 0.5, 0.75]
        .iter()
        .flat_map(|p: &f64| {
            let pos = p * last as f64;
            [pos.floor() as usize, pos.ceil() as usize]
        })
        .collect();
    positions.sort_unstable();
    positions.dedup();
    let mut s = v.to_vec();
    let mut found: Vec<(usize, f64)> = Vec::with_capacity(positions.len());
    let mut from = 0;
    for &k in &positions {
        // Every position is at least `from` (increasing, distinct) and below the length.
        let rest = &mut s[from..];
        let (_, kth, _) = rest.select_nth_unstable_by(k - from, f64::total_cmp);
        found.push((k, *kth));
        from = k + 1;
    }
    drop(s);
    let at = |k: usize| found.iter().find(|f| f.0 == k).map_or(f64::NAN, |f| f.1);
    // `quantile_sorted`'s interpolation between the two order statistics around `p`.
    let q = |p: f64| {
        let pos = p * last as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        let (a, b) = (at(lo), at(hi));
        a + (b - a) * (pos - lo as f64)
    };
    let (m, iqr) = (q(0.5), q(0.75) - q(0.25));
    let scale = if iqr > 0.0 { iqr } else { m.abs().max(1.0) };
    v.iter()
        .enumerate()
        .filter(|(_, x)| (*x - m).abs() > 1e6 * scale)
        .max_by(|a, b| (a.1 - m).abs().total_cmp(&(b.1 - m).abs()))
        .map(|(k, _)| k)
}

impl Design {
    /// Builds the design for `covariates` over the people in `candidates`; a categorical
    /// covariate with more than `max_levels` levels among them is an error naming it and its
    /// count, before any of its columns is made.
    // Over 80 lines: builds the design matrix column by column with each column's coding (numeric,
    // levels, references).
    pub fn build(
        people: &People,
        covariates: &[String],
        references: &[(String, String)],
        candidates: &[usize],
        max_levels: usize,
    ) -> Result<Design> {
        Self::build_inner(people, covariates, references, candidates, max_levels, true)
    }

    /// What [`build`](Self::build) would give without its columns (every check made, the
    /// same errors; `columns` left empty): the rows, the terms' names and the references.
    /// A design whose names and references are another's, over rows that are some of its
    /// rows, has that design's columns at those rows.
    pub(crate) fn plan(
        people: &People,
        covariates: &[String],
        references: &[(String, String)],
        candidates: &[usize],
        max_levels: usize,
    ) -> Result<Design> {
        Self::build_inner(
            people, covariates, references, candidates, max_levels, false,
        )
    }

    /// The rows `k` of this design for which `keep(k)` holds, in order.
    pub(crate) fn select(&self, keep: &[bool]) -> Design {
        use rayon::prelude::*;
        let pick = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| *x)
                .collect()
        };
        Design {
            names: self.names.clone(),
            columns: self.columns.par_iter().map(|c| pick(c)).collect(),
            rows: self
                .rows
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(r, _)| *r)
                .collect(),
            excluded_missing: self.excluded_missing,
            references: self.references.clone(),
        }
    }

    fn build_inner(
        people: &People,
        covariates: &[String],
        references: &[(String, String)],
        candidates: &[usize],
        max_levels: usize,
        with_columns: bool,
    ) -> Result<Design> {
        let raws: Vec<(String, Raw)> = covariates
            .iter()
            .map(|c| Ok((c.clone(), raw(people, c)?)))
            .collect::<Result<_>>()?;
        let complete = |i: usize| {
            raws.iter().all(|(_, r)| match r {
                Raw::Numeric(v) => v[i].is_some(),
                Raw::Categorical(v) => v.get(i).is_some(),
            })
        };
        use rayon::prelude::*;
        let t = crate::trace::Phase::start("    design: complete rows");
        let rows: Vec<usize> = candidates
            .par_iter()
            .copied()
            .filter(|&i| complete(i))
            .collect();
        let excluded_missing = (candidates.len() - rows.len()) as u64;
        let mut names = Vec::new();
        let mut columns = Vec::new();
        let mut refs = Vec::new();
        drop(t);
        let _t = crate::trace::Phase::start("    design: terms");
        for (name, r) in &raws {
            match r {
                Raw::Numeric(v) => {
                    let col: Vec<f64> =
                        rows.par_iter().map(|&i| v[i].unwrap_or(f64::NAN)).collect();
                    if let Some(k) = extreme(&col) {
                        return Err(Error::input(
                            "cohort table",
                            format!(
                                "covariate `{name}` has the value {} (cohort row {}), so far from the others \
                                 (median {}) that no model can use it: correct or remove it, or leave `{name}` \
                                 out of the covariates",
                                col[k],
                                people.source_row[rows[k]],
                                crate::stats::median(col.iter().copied()).unwrap_or(f64::NAN)
                            ),
                        ));
                    }
                    names.push(name.clone());
                    if with_columns {
                        columns.push(col);
                    }
                }
                Raw::Categorical(v) => {
                    // Every row is complete: each has a code. The levels are the distinct
                    // labels of the codes present, sorted; codes of the same label (a level
                    // named "not recorded" and a missing value) are one level.
                    let mut present = vec![false; v.labels.len()];
                    let row_codes: Vec<u32> = rows
                        .iter()
                        .map(|&i| {
                            let c = v.get(i).unwrap_or(MISSING);
                            if let Some(p) = present.get_mut(c as usize) {
                                *p = true;
                            }
                            c
                        })
                        .collect();
                    let mut levels: Vec<&str> = (0..v.labels.len())
                        .filter(|&c| present[c])
                        .map(|c| v.labels[c].as_str())
                        .collect();
                    levels.sort_unstable();
                    levels.dedup();
                    if levels.len() > max_levels {
                        return Err(Error::option(
                            "covariates",
                            format!(
                                "`{}` has {} levels, more than the {max_levels} a covariate may have (each level is \
                                 a term of the model): group its rare levels, leave it out, or raise the max_levels \
                                 option",
                                crate::error::shown(name),
                                levels.len()
                            ),
                        ));
                    }
                    let reference = match references.iter().find(|(c, _)| c == name) {
                        Some((_, l)) => {
                            if !levels.contains(&l.as_str()) {
                                return Err(Error::option(
                                    "reference",
                                    format!(
                                        "`{}` has no level `{}` (levels: {})",
                                        crate::error::shown(name),
                                        crate::error::shown(l),
                                        crate::error::listed(&levels)
                                    ),
                                ));
                            }
                            l.clone()
                        }
                        None => levels.first().map(|s| s.to_string()).unwrap_or_default(),
                    };
                    // Each code's level (its place in `levels`); MISSING, which no complete
                    // row has, is no level.
                    let level_of: Vec<u32> = v
                        .labels
                        .iter()
                        .map(|l| {
                            levels
                                .binary_search(&l.as_str())
                                .map_or(MISSING, |k| k as u32)
                        })
                        .collect();
                    let row_levels: Vec<u32> = row_codes
                        .iter()
                        .map(|&c| level_of.get(c as usize).copied().unwrap_or(MISSING))
                        .collect();
                    for (k, l) in levels.iter().enumerate() {
                        if *l == reference {
                            continue;
                        }
                        names.push(format!("{name}={l}"));
                        if !with_columns {
                            continue;
                        }
                        columns.push(
                            row_levels
                                .par_iter()
                                .map(|&x| f64::from(x == k as u32))
                                .collect(),
                        );
                    }
                    refs.push((name.clone(), reference));
                }
            }
        }
        Ok(Design {
            names,
            columns,
            rows,
            excluded_missing,
            references: refs,
        })
    }
}
