//! The doubly robust design's outcome model m0(x): a regression of the outcome on an
//! intercept and the terms among comparison people only, fitted by Newton's method (IRLS)
//! with step halving, one pass over the comparison rows per iteration and no copy of them.
//! Sparse terms are first summarised by their distinct rows (people a row and the sum of
//! their outcomes; [`SparseTerms::distinct`]), and each iteration passes over those.
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
use crate::stats::blocks;
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
            // y eta - log(1 + e^eta), stably.
            Family::Logistic => y * eta - crate::stats::logistic::log1p_exp(eta),
            Family::Poisson => y * eta - eta.exp(),
        }
    }

    /// [`loglik`](Self::loglik) summed over `n` rows of the same linear predictor `eta`
    /// whose outcomes sum to `y` (each contribution is linear in the outcome).
    fn loglik_rows(self, y: f64, n: f64, eta: f64) -> f64 {
        // No outcome: no `0 * eta` (an infinite eta would make it NaN).
        let y_eta = if y != 0.0 { y * eta } else { 0.0 };
        match self {
            Family::Logistic => y_eta - n * crate::stats::logistic::log1p_exp(eta),
            Family::Poisson => y_eta - n * eta.exp(),
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

struct Eval {
    loglik: f64,
    grad: Vec<f64>,
    info: Vec<Vec<f64>>,
}

/// The comparison rows summarised by distinct rows of terms: the distinct rows (in an order
/// fixed by their values), and for each the number of comparison people and the sum of their
/// outcomes.
struct Totals<'a> {
    rows: &'a SparseTerms,
    count: Vec<f64>,
    sum_y: Vec<f64>,
}

fn evaluate(
    terms: &Terms<'_>,
    totals: Option<&Totals<'_>>,
    treated: &[bool],
    y: &(dyn Fn(usize) -> f64 + Sync),
    family: Family,
    beta: &[f64],
) -> Eval {
    let finite = beta.iter().all(|b| b.is_finite());
    match (terms, totals) {
        (Terms::Sparse(_), Some(t)) if finite => evaluate_distinct(t, family, beta),
        (Terms::Sparse(s), _) if finite => evaluate_sparse(s, terms, treated, y, family, beta),
        _ => evaluate_dense(terms, treated, y, family, beta),
    }
}

/// [`evaluate_sparse`] on the distinct rows, each row's sums times its number of comparison
/// people `n_d` with outcomes summing to `y_d`: log-likelihood from
/// [`Family::loglik_rows`], score `x (y_d - n_d mu)`, information `n_d w x x'` (the rows'
/// own sums, up to the order of the additions). Distinct rows with no comparison person add
/// nothing and are skipped.
fn evaluate_distinct(t: &Totals<'_>, family: Family, beta: &[f64]) -> Eval {
    let p = beta.len();
    let (loglik, grad, packed, ..) = blocks::fold_rows(
        t.rows.rows(),
        || Sums::new(p),
        |(loglik, grad, packed, xt, at, vals), i| {
            let n = t.count[i];
            if n == 0.0 {
                return;
            }
            let (terms, v) = t.rows.row(i);
            let mut eta: f64 = std::iter::once(1.0 * beta[0]).sum();
            for (&a, &x) in terms.iter().zip(v) {
                eta += x * beta[a as usize + 1];
            }
            let mu = family.mean(eta);
            let sy = t.sum_y[i];
            let (w, r) = (n * family.weight(mu), sy - n * mu);
            *loglik += family.loglik_rows(sy, n, eta);
            if w.is_finite() && r.is_finite() {
                add_sparse_row(grad, packed, (at, vals), (terms, v), w, r);
            } else {
                t.rows.row_into(i, &mut xt[1..]);
                add_row(grad, packed, xt, w, r);
            }
        },
        merge,
    );
    unpack(loglik, grad, &packed, p)
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
    let p = beta.len();
    let (loglik, grad, packed, ..) = blocks::fold_rows(
        treated.len(),
        || Sums::new(p),
        |(loglik, grad, packed, xt, at, vals), i| {
            if treated[i] {
                return;
            }
            let (t, v) = s.row(i);
            let mut eta: f64 = std::iter::once(1.0 * beta[0]).sum();
            for (&a, &x) in t.iter().zip(v) {
                eta += x * beta[a as usize + 1];
            }
            let mu = family.mean(eta);
            let yi = y(i);
            let (w, r) = (family.weight(mu), yi - mu);
            *loglik += family.loglik(yi, eta);
            if w.is_finite() && r.is_finite() {
                add_sparse_row(grad, packed, (at, vals), (t, v), w, r);
            } else {
                terms.row_into(i, &mut xt[1..]);
                add_row(grad, packed, xt, w, r);
            }
        },
        merge,
    );
    unpack(loglik, grad, &packed, p)
}

/// One block's sums (log-likelihood, gradient, packed lower triangle of X'WX) and its
/// buffers: a full row (the intercept's 1 first), and a row's terms and values not zero.
type Sums = (f64, Vec<f64>, Vec<f64>, Vec<f64>, Vec<usize>, Vec<f64>);

trait NewSums {
    fn new(p: usize) -> Self;
}

impl NewSums for Sums {
    fn new(p: usize) -> Sums {
        (
            0.0,
            vec![0.0; p],
            vec![0.0; p * p],
            vec![1.0; p],
            Vec::with_capacity(p),
            Vec::with_capacity(p),
        )
    }
}

/// Adds block `b`'s sums to `a`'s (blocks in order).
fn merge(a: &mut Sums, b: Sums) {
    a.0 += b.0;
    blocks::add_into(&mut a.1, &b.1);
    blocks::add_into(&mut a.2, &b.2);
}

/// Adds one row to the gradient and the packed lower triangle of X'WX from its values not
/// zero (`terms`, `v`, the intercept's 1 put first), with weight `w` and residual `r` (both
/// finite); `at` and `vals` are the caller's buffers for the row's columns and values.
fn add_sparse_row(
    grad: &mut [f64],
    packed: &mut [f64],
    (at, vals): (&mut Vec<usize>, &mut Vec<f64>),
    (terms, v): (&[u32], &[f64]),
    w: f64,
    r: f64,
) {
    let p = grad.len();
    at.clear();
    vals.clear();
    at.push(0);
    vals.push(1.0);
    at.extend(terms.iter().map(|&a| a as usize + 1));
    vals.extend_from_slice(v);
    for (k, (&a, &xa)) in at.iter().zip(vals.iter()).enumerate() {
        grad[a] += xa * r;
        let wa = w * xa;
        let row = &mut packed[a * p..a * p + p];
        for (&b, &xb) in at[..=k].iter().zip(vals.iter()) {
            row[b] += wa * xb;
        }
    }
}

/// Adds a full row `xt` (the intercept first) with weight `w` and residual `r`.
fn add_row(grad: &mut [f64], packed: &mut [f64], xt: &[f64], w: f64, r: f64) {
    let p = xt.len();
    for a in 0..p {
        grad[a] += xt[a] * r;
        let wa = w * xt[a];
        for (s, xb) in packed[a * p..=a * p + a].iter_mut().zip(&xt[..=a]) {
            *s += wa * xb;
        }
    }
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

/// [`evaluate`] on every term of every row: each row's weight, residual and log-likelihood
/// term, then its sums, in fixed blocks of rows (`blocks`), so the fit is the same bit for
/// bit on any number of threads.
fn evaluate_dense(
    terms: &Terms<'_>,
    treated: &[bool],
    y: &(dyn Fn(usize) -> f64 + Sync),
    family: Family,
    beta: &[f64],
) -> Eval {
    let p = beta.len();
    let (loglik, grad, packed, ..) = blocks::fold_rows(
        treated.len(),
        || Sums::new(p),
        |(loglik, grad, packed, xt, ..), i| {
            if treated[i] {
                return;
            }
            terms.row_into(i, &mut xt[1..]);
            let eta: f64 = xt.iter().zip(beta).map(|(x, b)| x * b).sum();
            let mu = family.mean(eta);
            let yi = y(i);
            *loglik += family.loglik(yi, eta);
            add_row(grad, packed, xt, family.weight(mu), yi - mu);
        },
        merge,
    );
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
    // Sparse terms are summarised by distinct rows once (when the outcomes' sums are exact
    // in any order; otherwise the rows are summed one by one).
    let totals = match terms {
        Terms::Sparse(s) if s.rows() == treated.len() => {
            let distinct = s.distinct();
            distinct
                .totals(|i| !treated[i], y)
                .map(|(count, sum_y)| Totals {
                    rows: &distinct.rows,
                    count,
                    sum_y,
                })
        }
        _ => None,
    };
    if let (Some(t), true) = (&totals, crate::trace::enabled()) {
        let used = t.count.iter().filter(|c| **c > 0.0).count();
        crate::trace::note(format_args!(
            "    outcome model: {count} comparison rows in {used} distinct rows"
        ));
    }
    let mut ev = evaluate(terms, totals.as_ref(), treated, y, family, &beta);
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
            let next = evaluate(terms, totals.as_ref(), treated, y, family, &trial);
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
