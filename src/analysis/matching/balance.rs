//! Covariate balance: means, standardised mean differences and variance ratios.

use serde::Serialize;

use crate::design::Design;

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
    balance_of(
        &design.names,
        &|j| std::borrow::Cow::Borrowed(design.columns[j].as_slice()),
        treated,
        weights,
    )
}

/// [`balance`] of the terms `names`, term `j`'s values given by `column(j)`.
pub(crate) fn balance_of<'a>(
    names: &[String],
    column: &(dyn Fn(usize) -> std::borrow::Cow<'a, [f64]> + Sync),
    treated: &[bool],
    weights: &[f64],
) -> Vec<BalanceRow> {
    use rayon::prelude::*;
    // Each term's row is a function of its column alone: the terms in parallel.
    names
        .par_iter()
        .enumerate()
        .map(|(j, name)| {
            let col = column(j);
            let col: &[f64] = &col;
            let (mt, vt) = moments(|| group(col, treated, true, None));
            let (mc, vc) = moments(|| group(col, treated, false, None));
            let (mta, vta) = moments(|| group(col, treated, true, Some(weights)));
            let (mca, vca) = moments(|| group(col, treated, false, Some(weights)));
            let sd = ((vt + vc) / 2.0).sqrt();
            BalanceRow {
                covariate: name.clone(),
                mean_treated_before: mt,
                mean_control_before: mc,
                mean_treated_after: mta,
                mean_control_after: mca,
                smd_before: (sd > 0.0).then(|| (mt - mc) / sd),
                smd_after: (sd > 0.0 && mta.is_finite() && mca.is_finite())
                    .then(|| (mta - mca) / sd),
                variance_ratio_after: (vca > 0.0).then(|| vta / vca),
            }
        })
        .collect()
}
