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
        let columns = &self.columns;
        let (rank, _) = ranks(
            self.rows.len(),
            |i| {
                columns
                    .iter()
                    .fold(0u64, |h, c| mix(h.rotate_left(17) ^ c[i].to_bits()))
            },
            |a, b| {
                columns
                    .iter()
                    .map(|c| c[a].total_cmp(&c[b]))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            },
        );
        drop(t);
        let (order, _) = self.canonical_order(rank, extra);
        let _t = crate::trace::Phase::start("    design: rows and columns in order");
        self.columns.par_iter_mut().for_each(|c| {
            *c = order.iter().map(|&k| c[k]).collect();
        });
    }

    /// [`sort_canonically`](Self::sort_canonically) of a design without columns, its terms
    /// read from `terms` (this design's, from [`Design::terms_of`]): the same order, without
    /// a column of every term in memory. Returns the rows' terms as ranks ([`Ranked`], rows
    /// in the new order).
    pub(crate) fn sort_canonically_by<K: Ord + Send>(
        &mut self,
        terms: &DesignTerms<'_>,
        extra: impl Fn(usize) -> K + Sync,
    ) -> Ranked {
        let t = crate::trace::Phase::start("    design: term ranks");
        let Ranked { rank, first } = terms.ranked(&self.rows);
        drop(t);
        let (_, rank) = self.canonical_order(rank, extra);
        Ranked { rank, first }
    }

    /// Puts `rows` in the order of (`rank`, `extra`, current place) and returns that order
    /// (each new row's former place) and the ranks in it.
    fn canonical_order<K: Ord + Send>(
        &mut self,
        rank: Vec<usize>,
        extra: impl Fn(usize) -> K + Sync,
    ) -> (Vec<usize>, Vec<usize>) {
        use rayon::prelude::*;
        let _t = crate::trace::Phase::start("    design: sort rows");
        let rows = &self.rows;
        let mut keys: Vec<(usize, K, usize)> = rank
            .into_par_iter()
            .enumerate()
            .map(|(k, r)| (r, extra(rows[k]), k))
            .collect();
        keys.par_sort_unstable();
        let (rank, order): (Vec<usize>, Vec<usize>) =
            keys.into_par_iter().map(|(r, _, k)| (r, k)).unzip();
        self.rows = order.par_iter().map(|&k| self.rows[k]).collect();
        (order, rank)
    }
}

/// The terms of a design's rows as ranks: row `k`'s terms are those of the person
/// `first[rank[k]]`, and rows compare by their ranks as by their terms' values (the first
/// term first, `total_cmp`). Designs hold few distinct rows (a few levels, whole numbers),
/// so this is the compact form of the terms: one number a row.
pub(crate) struct Ranked {
    /// Each row's rank.
    pub rank: Vec<usize>,
    /// A person of each rank, in rank order.
    pub first: Vec<usize>,
}

/// Each of `n` rows' place among the rows' distinct values, in the order of `compare`
/// (rows compare by their ranks exactly as by `compare`), `hash` a hash of what `compare`
/// reads; and a row of each rank, in rank order. The distinct rows are found by their
/// hashes (every row then checked against the first of its hash; on a collision every row
/// is ranked), so only they are sorted: 200 indicator terms made comparing rows of the same
/// level walk every term, half a second per sort at 20,000 people.
fn ranks(
    n: usize,
    hash: impl Fn(usize) -> u64 + Sync,
    compare: impl Fn(usize, usize) -> std::cmp::Ordering + Sync,
) -> (Vec<usize>, Vec<usize>) {
    use rayon::prelude::*;
    // Each row's hash: rows in parallel.
    let hash: Vec<u64> = (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .map(&hash)
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
    let _t = crate::trace::Phase::start("      term ranks: check and rank");
    if (0..n)
        .into_par_iter()
        .any(|i| rep[i] != i && compare(i, rep[i]).is_ne())
    {
        rep = (0..n).collect();
    }
    let mut distinct: Vec<usize> = (0..n).into_par_iter().filter(|&i| rep[i] == i).collect();
    distinct.sort_by(|&a, &b| compare(a, b));
    let mut rank_of = vec![0usize; n];
    let mut firsts = Vec::new();
    for (k, &i) in distinct.iter().enumerate() {
        if k == 0 || compare(distinct[k - 1], i).is_ne() {
            firsts.push(i);
        }
        rank_of[i] = firsts.len() - 1;
    }
    (rep.par_iter().map(|&r| rank_of[r]).collect(), firsts)
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

/// One covariate of a design, read from the cohort table person by person.
struct Covariate<'a> {
    raw: Raw<'a>,
    /// Categorical: each code's level (its place among the levels present, sorted), or
    /// [`MISSING`] for a code no row has.
    level_of: Vec<u32>,
    /// Categorical: the reference level (no term).
    reference: u32,
    /// Categorical: the number of levels.
    levels: u32,
}

impl Covariate<'_> {
    /// Numeric: person `i`'s value, as a column of the design holds it.
    fn number(&self, i: usize) -> f64 {
        match &self.raw {
            Raw::Numeric(v) => v[i].unwrap_or(f64::NAN),
            Raw::Categorical(_) => f64::NAN,
        }
    }

    /// Categorical: person `i`'s level ([`MISSING`] for none: no row of a design).
    fn level(&self, i: usize) -> u32 {
        match &self.raw {
            Raw::Categorical(v) => v
                .get(i)
                .and_then(|c| self.level_of.get(c as usize).copied())
                .unwrap_or(MISSING),
            Raw::Numeric(_) => MISSING,
        }
    }

    /// Person `i`'s place in the order in which the covariate's terms compare a row's
    /// values, the first term first, by `total_cmp`: a number's order as unsigned bits; for
    /// a level, its indicator terms (the levels but the reference, in order) put the
    /// reference first and then the levels from the last to the first (the earlier level
    /// has its 1 in an earlier term). Equal keys are equal terms, bit for bit.
    fn key(&self, i: usize) -> u64 {
        match &self.raw {
            Raw::Numeric(_) => {
                let b = self.number(i).to_bits();
                if b >> 63 == 1 { !b } else { b | (1 << 63) }
            }
            Raw::Categorical(_) => {
                let l = self.level(i);
                if l == self.reference {
                    0
                } else {
                    // Every row of a design has a level below `levels`.
                    u64::from(self.levels).saturating_sub(u64::from(l))
                }
            }
        }
    }
}

/// The terms of a design ([`Design::terms_of`]) as a function of the person: the values its
/// columns would hold, read from the cohort table (a level's code, a number) when needed, so
/// that no column of every term and row is made.
pub(crate) struct DesignTerms<'a> {
    covariates: Vec<Covariate<'a>>,
    /// Each term's covariate and, for a level's indicator, its level.
    terms: Vec<(usize, u32)>,
}

impl DesignTerms<'_> {
    /// The number of terms.
    pub(crate) fn len(&self) -> usize {
        self.terms.len()
    }

    /// Term `j` of person `i`: what `Design::columns[j]` holds at that person's row.
    pub(crate) fn value(&self, j: usize, i: usize) -> f64 {
        let (c, level) = self.terms[j];
        let c = &self.covariates[c];
        match c.raw {
            Raw::Numeric(_) => c.number(i),
            Raw::Categorical(_) => f64::from(c.level(i) == level),
        }
    }

    /// A hash of person `i`'s terms.
    fn hash(&self, i: usize) -> u64 {
        self.covariates
            .iter()
            .fold(0u64, |h, c| mix(h.rotate_left(17) ^ c.key(i)))
    }

    /// Persons `a` and `b` compared by their terms' values (`total_cmp`), the first term
    /// first, as the columns would compare them.
    fn compare(&self, a: usize, b: usize) -> std::cmp::Ordering {
        self.covariates
            .iter()
            .map(|c| c.key(a).cmp(&c.key(b)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }

    /// The terms of the people `rows` (in that order) as ranks (see [`ranks`]).
    pub(crate) fn ranked(&self, rows: &[usize]) -> Ranked {
        let (rank, first) = ranks(
            rows.len(),
            |k| self.hash(rows[k]),
            |a, b| self.compare(rows[a], rows[b]),
        );
        Ranked {
            rank,
            first: first.into_iter().map(|k| rows[k]).collect(),
        }
    }

    /// The terms of the rows of `ranked` in sparse form: the same as
    /// `SparseTerms::from_columns` on the design's columns. Each rank's terms are built once
    /// and copied to its rows, which read no person's data.
    pub(crate) fn sparse_ranked(&self, ranked: &Ranked) -> crate::stats::designs::SparseTerms {
        self.sparse(&ranked.first).pick(&ranked.rank)
    }

    /// The terms of the rows of `ranked` as the Cox model reads them: each rank's values
    /// once, each row its rank.
    pub(crate) fn values_ranked(self, ranked: Ranked) -> RankedValues {
        let p = self.len();
        let values = ranked
            .first
            .iter()
            .flat_map(|&i| (0..p).map(move |j| (j, i)))
            .map(|(j, i)| self.value(j, i))
            .collect();
        RankedValues {
            p,
            values,
            rank: ranked.rank,
        }
    }

    /// The terms of the people `rows`, in that order, in sparse form: the same as
    /// `SparseTerms::from_columns` on the design's columns, without the columns.
    pub(crate) fn sparse(&self, rows: &[usize]) -> crate::stats::designs::SparseTerms {
        use rayon::prelude::*;
        let numbers = || {
            self.covariates
                .iter()
                .filter(|c| matches!(c.raw, Raw::Numeric(_)))
        };
        // Indicators are 0 or 1: only a number can be not finite.
        let dense = numbers().any(|c| rows.par_iter().any(|&i| !c.number(i).is_finite()));
        let kept = |v: f64| dense || v.to_bits() != 0;
        // Each covariate's first term and number of terms.
        let spans: Vec<(usize, usize)> = (0..self.covariates.len())
            .map(|c| {
                let first = self.terms.iter().position(|t| t.0 == c).unwrap_or(0);
                (first, self.terms.iter().filter(|t| t.0 == c).count())
            })
            .collect();
        let count = |k: usize| {
            let i = rows[k];
            self.covariates
                .iter()
                .zip(&spans)
                .map(|(c, &(_, n))| match c.raw {
                    Raw::Numeric(_) => usize::from(kept(c.number(i))),
                    Raw::Categorical(_) if dense => n,
                    Raw::Categorical(_) => usize::from(n > 0 && c.level(i) != c.reference),
                })
                .sum()
        };
        let fill = |k: usize, t: &mut [u32], v: &mut [f64]| {
            let i = rows[k];
            let mut at = 0;
            for (c, &(first, n)) in self.covariates.iter().zip(&spans) {
                let mut put = |j: usize, x: f64| {
                    t[at] = j as u32;
                    v[at] = x;
                    at += 1;
                };
                match c.raw {
                    Raw::Numeric(_) => {
                        let x = c.number(i);
                        if kept(x) {
                            put(first, x);
                        }
                    }
                    Raw::Categorical(_) if dense => {
                        let l = c.level(i);
                        (first..first + n).for_each(|j| put(j, f64::from(self.terms[j].1 == l)));
                    }
                    Raw::Categorical(_) => {
                        let l = c.level(i);
                        if n > 0 && l != c.reference {
                            // The levels before the reference are the terms in order, the
                            // ones after it one term earlier.
                            put(first + (l - u32::from(l > c.reference)) as usize, 1.0);
                        }
                    }
                }
            }
        };
        crate::stats::designs::SparseTerms::from_rows(self.len(), rows.len(), dense, count, fill)
    }
}

/// A design's terms as ranks with each rank's values (term `j` of row `k` is
/// `values[rank[k] * p + j]`), as the Cox model reads them.
pub(crate) struct RankedValues {
    p: usize,
    values: Vec<f64>,
    rank: Vec<usize>,
}

impl crate::stats::Covariates for RankedValues {
    fn terms(&self) -> usize {
        self.p
    }

    fn has_rows(&self, n: usize) -> bool {
        self.rank.len() == n
    }

    fn value(&self, j: usize, k: usize) -> f64 {
        self.values[self.rank[k] * self.p + j]
    }
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
        use rayon::prelude::*;
        let (mut design, terms) =
            Self::terms_of(people, covariates, references, candidates, max_levels)?;
        let rows = &design.rows;
        design.columns = (0..terms.len())
            .map(|j| rows.par_iter().map(|&i| terms.value(j, i)).collect())
            .collect();
        Ok(design)
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
        Self::terms_of(people, covariates, references, candidates, max_levels).map(|(d, _)| d)
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

    /// [`plan`](Self::plan) and the design's terms as a function of the person
    /// ([`DesignTerms`]): every value of [`build`](Self::build)'s columns, read from the
    /// cohort table when needed, with no column of every term and row in memory.
    // Over 80 lines: checks each covariate in turn with its coding (numeric, levels,
    // references), each error where the covariate is met.
    pub(crate) fn terms_of<'a>(
        people: &'a People,
        covariates: &[String],
        references: &[(String, String)],
        candidates: &[usize],
        max_levels: usize,
    ) -> Result<(Design, DesignTerms<'a>)> {
        let raws: Vec<(String, Raw<'a>)> = covariates
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
        let mut refs = Vec::new();
        let mut terms = DesignTerms {
            covariates: Vec::new(),
            terms: Vec::new(),
        };
        drop(t);
        let _t = crate::trace::Phase::start("    design: terms");
        for (name, r) in raws {
            let c = terms.covariates.len();
            match &r {
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
                    terms.terms.push((c, 0));
                    terms.covariates.push(Covariate {
                        raw: r,
                        level_of: Vec::new(),
                        reference: 0,
                        levels: 0,
                    });
                }
                Raw::Categorical(v) => {
                    // Every row is complete: each has a code. The levels are the distinct
                    // labels of the codes present, sorted; codes of the same label (a level
                    // named "not recorded" and a missing value) are one level.
                    let mut present = vec![false; v.labels.len()];
                    for &i in &rows {
                        if let Some(p) = present.get_mut(v.get(i).unwrap_or(MISSING) as usize) {
                            *p = true;
                        }
                    }
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
                                crate::error::shown(&name),
                                levels.len()
                            ),
                        ));
                    }
                    let reference = match references.iter().find(|(c, _)| *c == name) {
                        Some((_, l)) => {
                            if !levels.contains(&l.as_str()) {
                                return Err(Error::option(
                                    "reference",
                                    format!(
                                        "`{}` has no level `{}` (levels: {})",
                                        crate::error::shown(&name),
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
                    let mut reference_level = 0;
                    for (k, l) in levels.iter().enumerate() {
                        if *l == reference {
                            reference_level = k as u32;
                            continue;
                        }
                        names.push(format!("{name}={l}"));
                        terms.terms.push((c, k as u32));
                    }
                    let n_levels = levels.len() as u32;
                    refs.push((name.clone(), reference));
                    terms.covariates.push(Covariate {
                        raw: r,
                        level_of,
                        reference: reference_level,
                        levels: n_levels,
                    });
                }
            }
        }
        Ok((
            Design {
                names,
                columns: Vec::new(),
                rows,
                excluded_missing,
                references: refs,
            },
            terms,
        ))
    }
}
