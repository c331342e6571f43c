//! The doubly robust design's outcome model m0(x): a regression of the outcome on an
//! intercept and the terms among comparison people only, fitted by Newton's method (IRLS)
//! with step halving, one pass over the comparison rows per iteration and no copy of them.
//!
//! - the 12-month measure (0/1): logistic regression (as statsmodels `Logit`);
//! - reoffences per person (counts): Poisson regression with a log link (as statsmodels
//!   `GLM(family=Poisson())`). The log link keeps m0 non-negative; its estimating
//!   equations are those of the quasi-Poisson model, so m0 is consistent for the mean even
//!   when counts are overdispersed (only the mean enters the doubly robust estimate). A
//!   linear model was the alternative: it can predict negative counts.

// Index loops over the terms follow the matrix formulas (X'WX).
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

use super::DesignError;
use super::terms::{SparseTerms, Terms};
use crate::stats::linalg::solve;

/// The outcome model's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Logistic regression (the 12-month measure).
    Logistic,
    /// Poisson regression with a log link (reoffences per person).
    Poisson,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Logistic => "logistic",
            Family::Poisson => "poisson",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Family::Logistic => "doubly robust: outcome model (logistic)",
            Family::Poisson => "doubly robust: outcome model (poisson)",
        }
    }

    /// The mean at linear predictor `eta`.
    pub(crate) fn mean(self, eta: f64) -> f64 {
        match self {
            Family::Logistic => 1.0 / (1.0 + (-eta).exp()),
            Family::Poisson => eta.exp(),
        }
    }

    /// Log-likelihood contribution (up to terms free of the coefficients).
    fn loglik(self, y: f64, eta: f64) -> f64 {
        match self {
            Family::Logistic => {
                // y eta - log(1 + e^eta), stably.
                let l1p = if eta > 0.0 {
                    eta + (-eta).exp().ln_1p()
                } else {
                    eta.exp().ln_1p()
                };
                y * eta - l1p
            }
            Family::Poisson => y * eta - eta.exp(),
        }
    }

    /// IRLS weight (the variance function at the mean).
    fn weight(self, mu: f64) -> f64 {
        match self {
            Family::Logistic => mu * (1.0 - mu),
            Family::Poisson => mu,
        }
    }
}

/// A fitted outcome model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeModel {
    /// Which outcome it models: `reoffended` or `reoffences`.
    pub outcome: super::OutcomeKind,
    /// `logistic` or `poisson`.
    pub family: Family,
    /// Coefficients: the intercept, then one per term.
    pub coefficients: Vec<f64>,
    /// Newton iterations used.
    pub iterations: u32,
}

/// Rows whose weights are computed in parallel before they are added in order.
const PARALLEL_BLOCK: usize = 1 << 16;

struct Eval {
    loglik: f64,
    grad: Vec<f64>,
    info: Vec<Vec<f64>>,
}

fn evaluate(
    terms: &Terms<'_>,
    treated: &[bool],
    y: &(dyn Fn(usize) -> f64 + Sync),
    family: Family,
    beta: &[f64],
) -> Eval {
    match terms {
        Terms::Sparse(s) if beta.iter().all(|b| b.is_finite()) => {
            evaluate_sparse(s, terms, treated, y, family, beta)
        }
        _ => evaluate_dense(terms, treated, y, family, beta),
    }
}

/// [`evaluate`] on the values not zero of each row: every sum bit for bit the dense one's.
/// A product with a zero factor (finite coefficients, weight and residual) is a zero, and
/// adding a zero to these sums, which start at +0 and so are never -0, changes nothing; the
/// log odds' sum may differ in the sign of a zero, which no mean, weight or log-likelihood
/// reads. A row whose weight or residual is not finite is added term by term as the dense
/// sums do.
fn evaluate_sparse(
    s: &SparseTerms,
    terms: &Terms<'_>,
    treated: &[bool],
    y: &(dyn Fn(usize) -> f64 + Sync),
    family: Family,
    beta: &[f64],
) -> Eval {
    use rayon::prelude::*;
    let p = beta.len();
    let n = treated.len();
    let mut loglik = 0.0;
    let mut grad = vec![0.0; p];
    let mut packed = vec![0.0; p * p];
    let mut xt = vec![1.0; p];
    let (mut at, mut vals): (Vec<usize>, Vec<f64>) = (Vec::with_capacity(p), Vec::with_capacity(p));
    let mut values: Vec<(f64, f64, f64)> = Vec::with_capacity(PARALLEL_BLOCK.min(n));
    let mut start = 0;
    while start < n {
        let end = (start + PARALLEL_BLOCK).min(n);
        (start..end)
            .into_par_iter()
            .with_min_len(4096)
            .map(|j| {
                if treated[j] {
                    return (0.0, 0.0, 0.0);
                }
                let (t, v) = s.row(j);
                let mut eta: f64 = std::iter::once(1.0 * beta[0]).sum();
                for (&a, &x) in t.iter().zip(v) {
                    eta += x * beta[a as usize + 1];
                }
                let mu = family.mean(eta);
                let yi = y(j);
                (family.weight(mu), yi - mu, family.loglik(yi, eta))
            })
            .collect_into_vec(&mut values);
        for (i, &(w, r, ll)) in (start..end).zip(&values) {
            if treated[i] {
                continue;
            }
            loglik += ll;
            if w.is_finite() && r.is_finite() {
                let (t, v) = s.row(i);
                at.clear();
                vals.clear();
                at.push(0);
                vals.push(1.0);
                at.extend(t.iter().map(|&a| a as usize + 1));
                vals.extend_from_slice(v);
                for (k, (&a, &xa)) in at.iter().zip(&vals).enumerate() {
                    grad[a] += xa * r;
                    let wa = w * xa;
                    let row = &mut packed[a * p..a * p + p];
                    for (&b, &xb) in at[..=k].iter().zip(&vals) {
                        row[b] += wa * xb;
                    }
                }
            } else {
                terms.row_into(i, &mut xt[1..]);
                for a in 0..p {
                    grad[a] += xt[a] * r;
                    let wa = w * xt[a];
                    for (s, xb) in packed[a * p..=a * p + a].iter_mut().zip(&xt[..=a]) {
                        *s += wa * xb;
                    }
                }
            }
        }
        start = end;
    }
    unpack(loglik, grad, &packed, p)
}

/// The information matrix from its packed lower triangle.
fn unpack(loglik: f64, grad: Vec<f64>, packed: &[f64], p: usize) -> Eval {
    let mut info = vec![vec![0.0; p]; p];
    for a in 0..p {
        for b in 0..=a {
            info[a][b] = packed[a * p + b];
            info[b][a] = packed[a * p + b];
        }
    }
    Eval { loglik, grad, info }
}

fn evaluate_dense(
    terms: &Terms<'_>,
    treated: &[bool],
    y: &(dyn Fn(usize) -> f64 + Sync),
    family: Family,
    beta: &[f64],
) -> Eval {
    let p = beta.len();
    let mut loglik = 0.0;
    let mut grad = vec![0.0; p];
    // Lower triangle of X'WX, row after row (flat, so the inner loop has no bounds checks).
    let mut packed = vec![0.0; p * p];
    let mut xt = vec![1.0; p];
    // Each row's weight, residual and log-likelihood term (a function of the row alone) are
    // computed in parallel a block of rows at a time; the sums below add them in row order
    // on this thread, so the fit is the same bit for bit on any number of threads.
    let n = treated.len();
    let mut values: Vec<(f64, f64, f64)> = Vec::with_capacity(PARALLEL_BLOCK.min(n));
    let (mut block_start, mut block_end) = (0, 0);
    terms.for_each_row(n, |i, row| {
        if treated[i] {
            return;
        }
        if i >= block_end {
            use rayon::prelude::*;
            (block_start, block_end) = (i, (i + PARALLEL_BLOCK).min(n));
            (block_start..block_end)
                .into_par_iter()
                .with_min_len(4096)
                .map_init(
                    || vec![1.0; p],
                    |xt, j| {
                        if treated[j] {
                            return (0.0, 0.0, 0.0);
                        }
                        terms.row_into(j, &mut xt[1..]);
                        let eta: f64 = xt.iter().zip(beta).map(|(x, b)| x * b).sum();
                        let mu = family.mean(eta);
                        let yi = y(j);
                        (family.weight(mu), yi - mu, family.loglik(yi, eta))
                    },
                )
                .collect_into_vec(&mut values);
        }
        let (w, r, ll) = values[i - block_start];
        xt[1..].copy_from_slice(row);
        loglik += ll;
        for a in 0..p {
            grad[a] += xt[a] * r;
            let wa = w * xt[a];
            for (s, xb) in packed[a * p..=a * p + a].iter_mut().zip(&xt[..=a]) {
                *s += wa * xb;
            }
        }
    });
    unpack(loglik, grad, &packed, p)
}

/// Fits the outcome model among comparison people (`treated[i] == false`).
pub(crate) fn fit_controls(
    terms: &Terms<'_>,
    treated: &[bool],
    y: &(dyn Fn(usize) -> f64 + Sync),
    family: Family,
    outcome: super::OutcomeKind,
) -> Result<OutcomeModel, DesignError> {
    let p = terms.terms() + 1;
    let (mut sum, mut count) = (0.0, 0usize);
    for (i, t) in treated.iter().enumerate() {
        if !t {
            sum += y(i);
            count += 1;
        }
    }
    let mean = sum / count as f64;
    let fail = |problem: &'static str| DesignError::OutcomeModel {
        family: family.name(),
        problem,
    };
    let mut beta = vec![0.0; p];
    beta[0] = match family {
        Family::Logistic if mean > 0.0 && mean < 1.0 => (mean / (1.0 - mean)).ln(),
        Family::Logistic => {
            return Err(fail(
                "every comparison person has the same outcome, so the model cannot be fitted",
            ));
        }
        Family::Poisson if mean > 0.0 => mean.ln(),
        Family::Poisson => {
            return Err(fail(
                "no comparison person reoffended, so the model cannot be fitted",
            ));
        }
    };
    let separation = fail(
        "the estimates diverge: some term predicts the outcome exactly among comparison people \
         (a level in which nobody, or everybody, reoffends); drop or merge it",
    );
    let mut ev = evaluate(terms, treated, y, family, &beta);
    let mut iterations = 0;
    let mut last_step = f64::INFINITY;
    while iterations < 100 {
        iterations += 1;
        let step = solve(&ev.info, &ev.grad).ok_or(if iterations == 1 {
            DesignError::Collinear {
                method: family.method(),
                detail: " among comparison people",
            }
        } else {
            separation.clone()
        })?;
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let next = evaluate(terms, treated, y, family, &trial);
            if next.loglik.is_finite() && next.loglik >= ev.loglik - 1e-12 * ev.loglik.abs() {
                beta = trial;
                ev = next;
                break;
            }
            t /= 2.0;
            if t < 1e-10 {
                return Err(separation);
            }
        }
        last_step = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
        if last_step < 1e-10 {
            return Ok(OutcomeModel {
                outcome,
                family,
                coefficients: beta,
                iterations,
            });
        }
    }
    Err(DesignError::NotConverged {
        method: family.method(),
        iterations,
        max_imbalance: last_step,
        advice: "",
    })
}
