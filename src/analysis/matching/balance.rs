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

/// Weighted mean and variance (reliability weights; unit weights give n - 1).
fn moments(x: &[f64], w: &[f64]) -> (f64, f64) {
    let sw: f64 = w.iter().sum();
    if sw <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw;
    let sw2: f64 = w.iter().map(|w| w * w).sum();
    let ss = x
        .iter()
        .zip(w)
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>();
    let denom = sw - sw2 / sw;
    (mean, if denom > 0.0 { ss / denom } else { 0.0 })
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
    let pick = |col: &[f64], sel: bool, w: Option<&[f64]>| -> (Vec<f64>, Vec<f64>) {
        let mut xs = Vec::new();
        let mut ws = Vec::new();
        for k in 0..col.len() {
            if treated[k] == sel {
                let wk = w.map_or(1.0, |w| w[k]);
                if wk > 0.0 {
                    xs.push(col[k]);
                    ws.push(wk);
                }
            }
        }
        (xs, ws)
    };
    use rayon::prelude::*;
    // Each term's row is a function of its column alone: the terms in parallel.
    names
        .par_iter()
        .enumerate()
        .map(|(j, name)| {
            let col = column(j);
            let col: &[f64] = &col;
            let (xt, wt) = pick(col, true, None);
            let (xc, wc) = pick(col, false, None);
            let (mt, vt) = moments(&xt, &wt);
            let (mc, vc) = moments(&xc, &wc);
            let (xta, wta) = pick(col, true, Some(weights));
            let (xca, wca) = pick(col, false, Some(weights));
            let (mta, vta) = moments(&xta, &wta);
            let (mca, vca) = moments(&xca, &wca);
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
