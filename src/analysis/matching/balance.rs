//! Covariate balance: means, standardised mean differences and variance ratios.

use serde::Serialize;

use crate::design::Design;
use crate::stats::designs::SparseTerms;

/// Balance of one term (docs/output.md §2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceRow {
    /// The term.
    pub covariate: String,
    /// Mean among pilot people before matching.
    pub mean_treated_before: f64,
    /// Mean among comparison people before matching.
    pub mean_control_before: f64,
    /// Mean among matched pilot people.
    pub mean_treated_after: f64,
    /// Weighted mean among matched comparison people.
    pub mean_control_after: f64,
    /// Standardised mean difference before (null when both groups are constant).
    pub smd_before: Option<f64>,
    /// After, with the same denominator as before.
    pub smd_after: Option<f64>,
    /// Weighted variance ratio (pilot / comparison) after matching.
    pub variance_ratio_after: Option<f64>,
}

/// Weighted mean and variance (reliability weights; unit weights give n - 1) of the values
/// `x` with weights `w` that `rows` yields (each sum in the rows' order; no copy of them).
fn moments<I: Iterator<Item = (f64, f64)>>(rows: impl Fn() -> I) -> (f64, f64) {
    // The sums of w, x w and w² in one pass, each from the standard library's empty sum
    // and in row order: the same numbers as three sums one after another.
    let zero: f64 = std::iter::empty::<f64>().sum();
    let (sw, sxw, sw2) = rows().fold((zero, zero, zero), |(a, b, c), (x, w)| {
        (a + w, b + x * w, c + w * w)
    });
    if sw <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = sxw / sw;
    let ss = rows().map(|(x, w)| w * (x - mean).powi(2)).sum::<f64>();
    let denom = sw - sw2 / sw;
    (mean, if denom > 0.0 { ss / denom } else { 0.0 })
}

/// The values and weights of one group (`treated == sel`; unit weights without `w`),
/// weights above zero only, in row order.
fn group<'a>(
    col: &'a [f64],
    treated: &'a [bool],
    sel: bool,
    w: Option<&'a [f64]>,
) -> impl Iterator<Item = (f64, f64)> + 'a {
    col.iter()
        .zip(treated)
        .enumerate()
        .filter(move |(_, (_, t))| **t == sel)
        .map(move |(k, (x, _))| (*x, w.map_or(1.0, |w| w[k])))
        .filter(|(_, wk)| *wk > 0.0)
}

/// Balance of every design term. The SMD is the difference in (weighted) means over the
/// square root of the mean of the two groups' sample variances (n - 1) *before* matching.
pub fn balance(design: &Design, treated: &[bool], weights: &[f64]) -> Vec<BalanceRow> {
    use rayon::prelude::*;
    // Each term's row is a function of its column alone: the terms in parallel.
    design
        .names
        .par_iter()
        .zip(&design.columns)
        .map(|(name, col)| {
            let values = |sel, w| group(col, treated, sel, w);
            let before = (
                moments(|| values(true, None)),
                moments(|| values(false, None)),
            );
            row(name, values, weights, before)
        })
        .collect()
}

/// [`balance`] of the terms of `sparse` (named `names`), whose rows come in runs of
/// identical terms (`patterns`, as `pattern_runs` gives):
/// the same values in the same order as the terms' columns give, without a copy of any
/// column (each run's value of a term is read once).
/// The moments before matching are given (`before`, as [`before_moments`] gives them).
pub(crate) fn balance_of_sparse(
    names: &[String],
    sparse: &SparseTerms,
    patterns: &[usize],
    treated: &[bool],
    weights: &[f64],
    before: &[Moments],
) -> Vec<BalanceRow> {
    use rayon::prelude::*;
    names
        .par_iter()
        .zip(before)
        .enumerate()
        .map(|(j, (name, before))| {
            row(
                name,
                |sel, w| sparse_group(sparse, patterns, j, treated, sel, w),
                weights,
                *before,
            )
        })
        .collect()
}

/// A term's (mean, variance) among pilot people, then among comparison people, unweighted
/// (the moments before matching; NaN for a group with no one, variance 0 with one person).
pub(crate) type Moments = ((f64, f64), (f64, f64));

/// [`Moments`] of every term of `sparse` (rows in runs of identical terms, `patterns`),
/// the terms in parallel: what balance and the SMD denominators read before matching.
pub(crate) fn before_moments(
    sparse: &SparseTerms,
    patterns: &[usize],
    treated: &[bool],
) -> Vec<Moments> {
    use rayon::prelude::*;
    (0..sparse.terms())
        .into_par_iter()
        .map(|j| {
            let values = |sel| sparse_group(sparse, patterns, j, treated, sel, None);
            (moments(|| values(true)), moments(|| values(false)))
        })
        .collect()
}

/// Term `j`'s value in row `k` of `sparse` (0 where the row has no value for it).
pub(crate) fn term_value(sparse: &SparseTerms, k: usize, j: usize) -> f64 {
    let (t, v) = sparse.row(k);
    t.iter()
        .position(|&x| x as usize == j)
        .map_or(0.0, |p| v[p])
}

/// [`group`] of term `j` of `sparse`, read run by run.
pub(crate) fn sparse_group<'a>(
    sparse: &'a SparseTerms,
    patterns: &'a [usize],
    j: usize,
    treated: &'a [bool],
    sel: bool,
    w: Option<&'a [f64]>,
) -> impl Iterator<Item = (f64, f64)> + 'a {
    patterns.windows(2).flat_map(move |run| {
        let x = term_value(sparse, run[0], j);
        (run[0]..run[1])
            .filter(move |&k| treated[k] == sel)
            .map(move |k| (x, w.map_or(1.0, |w| w[k])))
            .filter(|(_, wk)| *wk > 0.0)
    })
}

/// One term's balance row from its values by group (`values(pilot, weights)`) and its
/// moments before matching.
fn row<'a, I: Iterator<Item = (f64, f64)>>(
    name: &str,
    values: impl Fn(bool, Option<&'a [f64]>) -> I,
    weights: &'a [f64],
    before: Moments,
) -> BalanceRow {
    let ((mt, vt), (mc, vc)) = before;
    let (mta, vta) = moments(|| values(true, Some(weights)));
    let (mca, vca) = moments(|| values(false, Some(weights)));
    let sd = ((vt + vc) / 2.0).sqrt();
    BalanceRow {
        covariate: name.to_string(),
        mean_treated_before: mt,
        mean_control_before: mc,
        mean_treated_after: mta,
        mean_control_after: mca,
        smd_before: (sd > 0.0).then(|| (mt - mc) / sd),
        smd_after: (sd > 0.0 && mta.is_finite() && mca.is_finite()).then(|| (mta - mca) / sd),
        variance_ratio_after: (vca > 0.0).then(|| vta / vca),
    }
}
