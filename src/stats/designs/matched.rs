//! The two matched designs on a row-level matched sample (one row per member and pair, as
//! `--matched-out` writes): `matched`, the difference of weighted means with a Wald standard
//! error, and `matched_regression`, weighted least squares of the outcome on an intercept,
//! treatment and the terms, clustered by subclass (CR1).

// Index loops over the terms follow the matrix formulas (X'WX, the sandwich).
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

use super::estimate::{Difference, RowParts, finish};
use super::{BalanceTerm, DesignError, DesignKind, DesignRow, MatchedRows, Terms};
use crate::stats::linalg::{invert, solve};

/// The regression after matching: what was fitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedRegressionFit {
    /// Rows of the matched sample (N).
    pub rows: usize,
    /// Distinct subclasses (G).
    pub clusters: usize,
    /// Coefficients kept (K): intercept, treatment and the terms not dropped.
    pub parameters: usize,
    /// Terms dropped because they are constant or collinear in the matched sample (e.g. a
    /// term matched exactly), as R's `lm` drops aliased columns.
    pub dropped_terms: Vec<String>,
    /// The CR1 factor `G/(G-1)·(N-1)/(N-K)`.
    pub correction: f64,
}

/// Checks the matched rows against the `n` people.
pub(crate) fn check(m: &MatchedRows<'_>, treated: &[bool]) -> Result<(), DesignError> {
    let rows = m.person.len();
    if m.weight.len() != rows || m.subclass.len() != rows {
        return Err(DesignError::Shape {
            what: "the matched sample's person, weight and subclass columns differ in length"
                .into(),
        });
    }
    let mut groups = [false; 2];
    for r in 0..rows {
        let p = m.person[r];
        if p >= treated.len() {
            return Err(DesignError::MatchedRow {
                row: r,
                problem: format!("person {p} is not one of the {} people", treated.len()),
            });
        }
        let w = m.weight[r];
        if !(w.is_finite() && w > 0.0) {
            return Err(DesignError::MatchedRow {
                row: r,
                problem: format!("weight {w} is not a positive number; leave the row out"),
            });
        }
        groups[usize::from(treated[p])] = true;
    }
    if !groups[1] {
        return Err(DesignError::Groups {
            what: "the matched sample has no pilot people",
        });
    }
    if !groups[0] {
        return Err(DesignError::Groups {
            what: "the matched sample has no comparison people",
        });
    }
    Ok(())
}

/// The matched sample's balance (weighted means by group over the rows) and effective
/// sample sizes (Kish, over each person's summed weight: a person in several rows counts
/// once with the sum of their weights).
pub(crate) fn balance_and_ess(
    m: &MatchedRows<'_>,
    terms: &Terms<'_>,
    names: &[String],
    treated: &[bool],
    denominators: &[f64],
) -> (Vec<BalanceTerm>, f64, f64) {
    let k = terms.terms();
    let mut sums = [vec![0.0; k], vec![0.0; k]];
    let mut sw = [0.0f64; 2];
    let mut row = vec![0.0; k];
    for r in 0..m.person.len() {
        let p = m.person[r];
        let g = usize::from(treated[p]);
        terms.row_into(p, &mut row);
        let w = m.weight[r];
        sw[g] += w;
        for j in 0..k {
            sums[g][j] += w * row[j];
        }
    }
    let balance = super::balance_rows(
        names,
        |j| sums[1][j] / sw[1],
        |j| sums[0][j] / sw[0],
        denominators,
    );
    let mut by_person: Vec<(usize, f64)> = m
        .person
        .iter()
        .copied()
        .zip(m.weight.iter().copied())
        .collect();
    by_person.sort_unstable_by_key(|&(p, _)| p);
    let (mut s, mut s2) = ([0.0f64; 2], [0.0f64; 2]);
    let mut i = 0;
    while i < by_person.len() {
        let p = by_person[i].0;
        let mut w = 0.0;
        while i < by_person.len() && by_person[i].0 == p {
            w += by_person[i].1;
            i += 1;
        }
        let g = usize::from(treated[p]);
        s[g] += w;
        s2[g] += w * w;
    }
    (balance, s[1] * s[1] / s2[1], s[0] * s[0] / s2[0])
}

/// `matched`: weighted means by group; Wald variance `Σ_g v_g / n_g` with `v_g` the weighted
/// variance (denominator `Σw`) and `n_g = Σw` the group's matched count (for 1:1 pairs of a
/// 0/1 outcome, `p1(1-p1)/n1 + p0(1-p0)/n0`).
pub(crate) fn matched(
    m: &MatchedRows<'_>,
    treated: &[bool],
    y: impl Fn(usize) -> f64,
    z: f64,
    parts: &RowParts,
) -> Result<DesignRow, DesignError> {
    let (mut sw, mut swy) = ([0.0f64; 2], [0.0f64; 2]);
    for (p, w) in m.person.iter().zip(m.weight) {
        let g = usize::from(treated[*p]);
        sw[g] += w;
        swy[g] += w * y(*p);
    }
    let mean = [swy[0] / sw[0], swy[1] / sw[1]];
    let mut ss = [0.0f64; 2];
    for (p, w) in m.person.iter().zip(m.weight) {
        let g = usize::from(treated[*p]);
        ss[g] += w * (y(*p) - mean[g]).powi(2);
    }
    let variance = ss[1] / sw[1] / sw[1] + ss[0] / sw[0] / sw[0];
    finish(
        DesignKind::Matched,
        Difference {
            estimate: mean[1] - mean[0],
            variance,
        },
        z,
        parts,
    )
}

/// Which columns of the symmetric positive semi-definite `a` to keep: a Cholesky
/// factorisation in column order that drops a column whose pivot is below `1e-9` of its
/// diagonal (collinear with the columns before it), as R's `lm` pivots aliased columns out.
fn kept_columns(a: &[Vec<f64>]) -> Vec<usize> {
    let p = a.len();
    let mut kept: Vec<usize> = Vec::with_capacity(p);
    // l[r][c]: the Cholesky factor's row r (original index), column c (position in kept).
    let mut l = vec![vec![0.0; p]; p];
    for j in 0..p {
        let d = a[j][j] - (0..kept.len()).map(|c| l[j][c] * l[j][c]).sum::<f64>();
        if !(a[j][j] > 0.0 && d > 1e-9 * a[j][j]) {
            continue;
        }
        let c = kept.len();
        let djj = d.sqrt();
        l[j][c] = djj;
        for r in j + 1..p {
            let s = a[r][j] - (0..c).map(|q| l[r][q] * l[j][q]).sum::<f64>();
            l[r][c] = s / djj;
        }
        kept.push(j);
    }
    kept
}

/// `matched_regression`: WLS of `y` on intercept, treatment and the terms over the matched
/// rows with their weights; the treatment coefficient with its CR1 cluster-robust standard
/// error by subclass, `G/(G-1)·(N-1)/(N-K)` (R `sandwich::vcovCL(type = "HC1")`, statsmodels
/// `WLS(...).fit(cov_type='cluster')`).
pub(crate) fn regression(
    m: &MatchedRows<'_>,
    terms: &Terms<'_>,
    names: &[String],
    treated: &[bool],
    y: impl Fn(usize) -> f64,
    z: f64,
    parts: &RowParts,
) -> Result<(DesignRow, MatchedRegressionFit), DesignError> {
    let k = terms.terms();
    let p = k + 2;
    let rows = m.person.len();
    let mut xt = vec![0.0; p];
    let fill = |r: usize, xt: &mut [f64]| {
        let person = m.person[r];
        xt[0] = 1.0;
        xt[1] = f64::from(u8::from(treated[person]));
        terms.row_into(person, &mut xt[2..]);
    };
    // Sparse terms with every value finite: a row's terms not zero are read from the sparse
    // row itself (the intercept, treatment when 1, then its values not zero, in column
    // order), with no pass over every column.
    let sparse = match terms {
        Terms::Sparse(s) if !s.is_dense() => Some(*s),
        _ => None,
    };
    // Row `r`'s columns not zero and their values, in column order, into `at` and `vals`.
    let nonzero = |s: &super::SparseTerms, r: usize, at: &mut Vec<usize>, vals: &mut Vec<f64>| {
        let person = m.person[r];
        at.clear();
        vals.clear();
        at.push(0);
        vals.push(1.0);
        if treated[person] {
            at.push(1);
            vals.push(1.0);
        }
        let (t, v) = s.row(person);
        for (&j, &x) in t.iter().zip(v) {
            // A -0 is kept by the sparse rows; as a zero it is left out here.
            if x != 0.0 {
                at.push(j as usize + 2);
                vals.push(x);
            }
        }
    };
    let mut vals: Vec<f64> = Vec::with_capacity(p);
    let mut xwx = vec![vec![0.0; p]; p];
    let mut xwy = vec![0.0; p];
    // A row's terms not zero: with a finite weight, outcome and terms, a zero term's products
    // are zeros, and adding a zero to these sums (which start at +0, so are never -0) changes
    // nothing, so only the terms not zero are added (a categorical covariate's levels are
    // mostly zeros): the sums are bit for bit those over every pair of terms.
    let mut at: Vec<usize> = Vec::with_capacity(p);
    for r in 0..rows {
        let w = m.weight[r];
        let yr = y(m.person[r]);
        if let (Some(s), true) = (sparse, w.is_finite() && yr.is_finite()) {
            nonzero(s, r, &mut at, &mut vals);
            add_nonzero(&mut xwx, &mut xwy, &at, &vals, w, yr);
            continue;
        }
        fill(r, &mut xt);
        if w.is_finite() && yr.is_finite() && xt.iter().all(|v| v.is_finite()) {
            at.clear();
            at.extend((0..p).filter(|&a| xt[a] != 0.0));
            vals.clear();
            vals.extend(at.iter().map(|&a| xt[a]));
            add_nonzero(&mut xwx, &mut xwy, &at, &vals, w, yr);
            continue;
        }
        for a in 0..p {
            let wa = w * xt[a];
            xwy[a] += wa * yr;
            for b in 0..=a {
                xwx[a][b] += wa * xt[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            xwx[b][a] = xwx[a][b];
        }
    }
    let kept = kept_columns(&xwx);
    if kept.len() < 2 || kept[1] != 1 {
        return Err(DesignError::Collinear {
            method: "regression after matching",
            detail: " with treatment (or treatment does not vary in the matched sample)",
        });
    }
    let q = kept.len();
    let sub: Vec<Vec<f64>> = kept
        .iter()
        .map(|&a| kept.iter().map(|&b| xwx[a][b]).collect())
        .collect();
    let collinear = DesignError::Collinear {
        method: "regression after matching",
        detail: "",
    };
    let rhs: Vec<f64> = kept.iter().map(|&a| xwy[a]).collect();
    let beta = solve(&sub, &rhs).ok_or(collinear.clone())?;
    let bread = invert(&sub).ok_or(collinear)?;
    // Scores w_i e_i x_i summed within each subclass; rows visited in subclass order.
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by_key(|&r| m.subclass[r]);
    let mut meat = vec![vec![0.0; q]; q];
    let mut u = vec![0.0; q];
    // Each column's place among the kept ones (sparse rows).
    let mut place = vec![usize::MAX; p];
    for (c, &a) in kept.iter().enumerate() {
        place[a] = c;
    }
    let mut clusters = 0usize;
    let mut i = 0;
    while i < rows {
        let s = m.subclass[order[i]];
        u.iter_mut().for_each(|v| *v = 0.0);
        while i < rows && m.subclass[order[i]] == s {
            let r = order[i];
            let finite = m.weight[r].is_finite() && y(m.person[r]).is_finite();
            if let (Some(sp), true) = (sparse, finite) {
                // The columns not zero alone: the zero products left out add only zeros (to
                // the fitted value, which the intercept's term makes nonzero or leaves a
                // zero whose sign no difference with the outcome reads; and to `u`).
                nonzero(sp, r, &mut at, &mut vals);
                let mut fitted: f64 = std::iter::empty::<f64>().sum();
                for (&a, &x) in at.iter().zip(&vals) {
                    if place[a] != usize::MAX {
                        fitted += x * beta[place[a]];
                    }
                }
                let score = m.weight[r] * (y(m.person[r]) - fitted);
                for (&a, &x) in at.iter().zip(&vals) {
                    if place[a] != usize::MAX {
                        u[place[a]] += score * x;
                    }
                }
                i += 1;
                continue;
            }
            fill(r, &mut xt);
            let fitted: f64 = kept.iter().zip(&beta).map(|(&a, b)| xt[a] * b).sum();
            let score = m.weight[r] * (y(m.person[r]) - fitted);
            for (c, &a) in kept.iter().enumerate() {
                u[c] += score * xt[a];
            }
            i += 1;
        }
        clusters += 1;
        // As above: with every score finite, a zero score's products add nothing.
        if u.iter().all(|v| v.is_finite()) {
            at.clear();
            at.extend((0..q).filter(|&a| u[a] != 0.0));
            for &a in &at {
                for &b in &at {
                    meat[a][b] += u[a] * u[b];
                }
            }
        } else {
            for a in 0..q {
                for b in 0..q {
                    meat[a][b] += u[a] * u[b];
                }
            }
        }
    }
    if clusters < 2 {
        return Err(DesignError::TooFewClusters { clusters });
    }
    let (g, nf, kf) = (clusters as f64, rows as f64, q as f64);
    if nf <= kf {
        return Err(DesignError::Groups {
            what: "regression after matching: fewer matched rows than coefficients",
        });
    }
    let correction = g / (g - 1.0) * (nf - 1.0) / (nf - kf);
    // Variance of the treatment coefficient (position 1): bread[1,·] meat bread[·,1].
    let mut variance = 0.0;
    for a in 0..q {
        for b in 0..q {
            variance += bread[1][a] * meat[a][b] * bread[b][1];
        }
    }
    variance *= correction;
    let dropped_terms = (2..p)
        .filter(|j| !kept.contains(j))
        .map(|j| names[j - 2].clone())
        .collect();
    let row = finish(
        DesignKind::MatchedRegression,
        Difference {
            estimate: beta[1],
            variance,
        },
        z,
        parts,
    )?;
    Ok((
        row,
        MatchedRegressionFit {
            rows,
            clusters,
            parameters: q,
            dropped_terms,
            correction,
        },
    ))
}

/// Adds a row to `X'WX` (lower triangle) and `X'Wy` from its columns not zero (`at`, in
/// column order) and their values (`vals`), with weight `w` and outcome `y`: the zero terms'
/// products, all zeros, left out.
fn add_nonzero(xwx: &mut [Vec<f64>], xwy: &mut [f64], at: &[usize], vals: &[f64], w: f64, y: f64) {
    for (ka, (&a, &xa)) in at.iter().zip(vals).enumerate() {
        let wa = w * xa;
        xwy[a] += wa * y;
        for (&b, &xb) in at[..=ka].iter().zip(vals) {
            xwx[a][b] += wa * xb;
        }
    }
}
