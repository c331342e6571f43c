//! Logistic regression by iteratively reweighted least squares (Newton's method), with
//! standard errors from the inverse information, as statsmodels `Logit`.

// Index loops over rows and columns follow the matrix formulas they compute (X'WX,
// information matrices), where iterators would hide which index is which.
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

use super::FitError;
use super::blocks;
use super::designs::SparseTerms;
use super::linalg::{invert, solve};
use crate::stats::Result;

/// One term of a fitted logistic model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticTerm {
    /// `const`, `column` or `column=level`.
    pub name: String,
    /// Coefficient (log odds).
    pub coef: f64,
    /// Standard error.
    pub se: f64,
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticFit {
    /// Terms, the intercept (`const`) first.
    pub coefficients: Vec<LogisticTerm>,
    /// Log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Newton iterations.
    pub iterations: u32,
    /// Whether it converged.
    pub converged: bool,
    /// Rows used.
    pub n: u64,
}

impl LogisticFit {
    /// The linear predictor (log odds) for row `i` of `x` (columns, without intercept).
    pub fn linear_predictor(&self, x: &[Vec<f64>], i: usize) -> f64 {
        self.coefficients[0].coef
            + self.coefficients[1..]
                .iter()
                .zip(x)
                .map(|(t, c)| t.coef * c[i])
                .sum::<f64>()
    }
}

/// Fits `P(y = 1) = 1 / (1 + exp(-(b0 + x b)))`. `x[j]` is column `j`; an intercept is
/// added. Errors for constant or collinear covariates and for (quasi-)separation.
// Over 80 lines: one Newton-Raphson fit with step halving and its checks, as in the references;
// splitting the iteration would scatter its state.
pub fn logistic(y: &[bool], x: &[Vec<f64>], names: &[String]) -> Result<LogisticFit> {
    check(y, x, names)?;
    let rows = SparseTerms::from_columns(x, y.len());
    fit(y, &rows, names)
}

/// [`logistic`] on terms already in sparse form (built once and shared with other
/// models): the same checks, the same fit, bit for bit.
pub(crate) fn logistic_sparse(
    y: &[bool],
    rows: &SparseTerms,
    names: &[String],
) -> Result<LogisticFit> {
    let n = y.len();
    if names.len() != rows.terms() || rows.rows() != n {
        return Err(FitError::Shape { model: MODEL }.into());
    }
    contrast(y)?;
    if let Some(j) = rows.constant().iter().position(|c| *c) {
        return Err(FitError::Constant {
            model: MODEL,
            covariate: names[j].clone(),
        }
        .into());
    }
    fit(y, rows, names)
}

/// Both groups present.
fn contrast(y: &[bool]) -> Result<()> {
    let ones = y.iter().filter(|v| **v).count();
    if ones == 0 || ones == y.len() {
        return Err(FitError::NoContrast {
            model: MODEL,
            what: "needs people in both groups",
        }
        .into());
    }
    Ok(())
}

/// The shape, contrast and constant-covariate checks of [`logistic`].
fn check(y: &[bool], x: &[Vec<f64>], names: &[String]) -> Result<()> {
    let n = y.len();
    if names.len() != x.len() || x.iter().any(|c| c.len() != n) {
        return Err(FitError::Shape { model: MODEL }.into());
    }
    contrast(y)?;
    for (j, c) in x.iter().enumerate() {
        if c.iter().all(|v| *v == c[0]) {
            return Err(FitError::Constant {
                model: MODEL,
                covariate: names[j].clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// The Newton-Raphson fit of [`logistic`], its checks passed.
// Over 80 lines: see `logistic`.
fn fit(y: &[bool], sparse: &SparseTerms, names: &[String]) -> Result<LogisticFit> {
    let n = y.len();
    let p = sparse.terms() + 1;
    let ones = y.iter().filter(|v| **v).count();
    // Row `i` in full (the intercept's 1 first), for a row whose weight is not finite.
    let dense_row = |i: usize, out: &mut Vec<f64>| {
        out.clear();
        out.push(1.0);
        out.resize(p, 0.0);
        sparse.row_into(i, &mut out[1..]);
    };
    let rows = Entries(sparse);
    let loglik = |beta: &[f64]| -> f64 {
        // A trial step that is not finite: the sum over every term would be NaN or infinite
        // (0 times infinity, or an infinite log odds in both groups), so the step is refused.
        if beta.iter().any(|b| !b.is_finite()) {
            return f64::NAN;
        }
        // The sum's first value is the standard library's own (`Iterator::sum`), then each
        // row's term in row order, in fixed blocks of rows (`blocks`): the same sum on any
        // number of threads.
        blocks::fold_rows(
            n,
            || std::iter::empty::<f64>().sum::<f64>(),
            |total, i| {
                let eta = rows.eta(beta, i);
                let l1p = log1p_exp(eta);
                *total += if y[i] { eta - l1p } else { -l1p };
            },
            |a, b| *a += b,
        )
    };
    let mut beta = vec![0.0; p];
    beta[0] = (ones as f64 / (n - ones) as f64).ln();
    let mut ll = loglik(&beta);
    let (mut iterations, mut converged) = (0u32, false);
    let mut info = vec![vec![0.0; p]; p];
    for _ in 0..100 {
        iterations += 1;
        // Gradient and the lower triangle of the information (flat), summed in fixed blocks
        // of rows (`blocks`), each row's terms added as one pass in row order adds them.
        let (grad, packed, ..) = blocks::fold_rows(
            n,
            || {
                let entries: RowEntries = (Vec::with_capacity(p), Vec::with_capacity(p));
                (
                    vec![0.0; p],
                    vec![0.0; p * p],
                    entries,
                    Vec::with_capacity(p),
                )
            },
            |(grad, info, entries, full), i| {
                let eta = rows.eta(&beta, i);
                let mu = 1.0 / (1.0 + (-eta).exp());
                let (w, r) = (mu * (1.0 - mu), f64::from(y[i]) - mu);
                if w.is_finite() && r.is_finite() {
                    rows.row(i, entries);
                    let (terms, values): (&[usize], &[f64]) = (&entries.0, &entries.1);
                    for (k, (&a, &xa)) in terms.iter().zip(values).enumerate() {
                        grad[a] += xa * r;
                        for (&b, &xb) in terms[..=k].iter().zip(values) {
                            info[a * p + b] += w * xa * xb;
                        }
                    }
                } else {
                    dense_row(i, full);
                    for a in 0..p {
                        let xa = full[a];
                        grad[a] += xa * r;
                        for b in 0..=a {
                            info[a * p + b] += w * xa * full[b];
                        }
                    }
                }
            },
            |a, b| {
                blocks::add_into(&mut a.0, &b.0);
                blocks::add_into(&mut a.1, &b.1);
            },
        );
        for a in 0..p {
            for b in 0..=a {
                info[a][b] = packed[a * p + b];
            }
        }
        for a in 0..p {
            for b in 0..a {
                info[b][a] = info[a][b];
            }
        }
        let step = solve(&info, &grad).ok_or(if iterations == 1 {
            FitError::Collinear {
                model: MODEL,
                detail: "",
            }
        } else {
            SEPARATION
        })?;
        let mut scale = 1.0;
        loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
            let l = loglik(&trial);
            if l.is_finite() && l >= ll - 1e-12 * ll.abs() {
                beta = trial;
                let change = (l - ll).abs();
                ll = l;
                if change <= 1e-12 * (1.0 + ll.abs())
                    && step.iter().all(|s| (scale * s).abs() < 1e-8)
                {
                    converged = true;
                }
                break;
            }
            scale /= 2.0;
            if scale < 1e-10 {
                return Err(FitError::NotConverged {
                    model: MODEL,
                    how: "step halving failed".into(),
                }
                .into());
            }
        }
        if converged {
            break;
        }
        if beta.iter().any(|b| b.abs() > 30.0) {
            return Err(SEPARATION.into());
        }
    }
    if !converged {
        return Err(FitError::NotConverged {
            model: MODEL,
            how: format!("in {iterations} iterations"),
        }
        .into());
    }
    // Information at the estimate, in fixed blocks of rows as above.
    let (packed, ..) = blocks::fold_rows(
        n,
        || {
            let entries: RowEntries = (Vec::with_capacity(p), Vec::with_capacity(p));
            (vec![0.0; p * p], entries, Vec::with_capacity(p))
        },
        |(info, entries, full), i| {
            let eta = rows.eta(&beta, i);
            let mu = 1.0 / (1.0 + (-eta).exp());
            let w = mu * (1.0 - mu);
            if w.is_finite() {
                rows.row(i, entries);
                let (terms, values): (&[usize], &[f64]) = (&entries.0, &entries.1);
                for (&a, &xa) in terms.iter().zip(values) {
                    for (&b, &xb) in terms.iter().zip(values) {
                        info[a * p + b] += w * xa * xb;
                    }
                }
            } else {
                dense_row(i, full);
                for a in 0..p {
                    for b in 0..p {
                        info[a * p + b] += w * full[a] * full[b];
                    }
                }
            }
        },
        |a, b| blocks::add_into(&mut a.0, &b.0),
    );
    let info: Vec<Vec<f64>> = packed.chunks_exact(p).map(<[f64]>::to_vec).collect();
    let cov = invert(&info).ok_or(SEPARATION)?;
    let mut coefficients = vec![LogisticTerm {
        name: "const".into(),
        coef: beta[0],
        se: cov[0][0].sqrt(),
    }];
    for j in 1..p {
        coefficients.push(LogisticTerm {
            name: names[j - 1].clone(),
            coef: beta[j],
            se: cov[j][j].sqrt(),
        });
    }
    Ok(LogisticFit {
        coefficients,
        log_likelihood: ll,
        iterations,
        converged,
        n: n as u64,
    })
}

/// The terms of each row that are not zero (the intercept's 1 first, then the columns in
/// order), read from the shared [`SparseTerms`]. A categorical covariate of L levels is L - 1
/// indicator columns of which a row has at most one not zero, so the information matrix's
/// sums over these (n k^2 for k terms not zero in a row) replace sums over every pair of
/// terms (n p^2: 200 levels, 20,000 people took seconds an iteration). Every figure is bit
/// for bit the dense sums': a product with a zero factor is a zero, and adding a zero to a
/// sum that started at +0 changes nothing but, at most, the sign of a zero log odds, which no
/// result reads. With a value that is not finite anywhere every term is kept (0 times
/// infinity is not zero).
struct Entries<'a>(&'a SparseTerms);

/// A row's entries, the intercept first: term numbers (0 the intercept) and values.
type RowEntries = (Vec<usize>, Vec<f64>);

impl Entries<'_> {
    /// Row `i`'s terms and their values, into `out`.
    fn row(&self, i: usize, out: &mut RowEntries) {
        let (terms, values) = self.0.row(i);
        out.0.clear();
        out.1.clear();
        out.0.push(0);
        out.1.push(1.0);
        out.0.extend(terms.iter().map(|&j| j as usize + 1));
        out.1.extend_from_slice(values);
    }

    /// Row `i`'s log odds under `beta`: the sum of `beta[j] * x_j` over the intercept and
    /// the values not zero, in order (the intercept's `beta[0] * 1` is `beta[0]` exactly, as
    /// is the standard library's empty sum plus it).
    fn eta(&self, beta: &[f64], i: usize) -> f64 {
        let (terms, values) = self.0.row(i);
        let mut eta: f64 = std::iter::once(beta[0] * 1.0).sum();
        for (&j, &v) in terms.iter().zip(values) {
            eta += beta[j as usize + 1] * v;
        }
        eta
    }
}

const MODEL: &str = "logistic regression";
const SEPARATION: FitError = FitError::Separation {
    model: MODEL,
    advice: "perfect or quasi-complete separation: some combination of covariates predicts pilot \
             membership exactly (e.g. a level found only in one group); drop or merge it, or match \
             exactly on it",
};

/// `log(1 + e^eta)`, computed stably (no overflow for a large `eta`): the logistic
/// log-likelihood's normaliser.
pub(crate) fn log1p_exp(eta: f64) -> f64 {
    if eta > 0.0 {
        eta + (-eta).exp().ln_1p()
    } else {
        eta.exp().ln_1p()
    }
}
