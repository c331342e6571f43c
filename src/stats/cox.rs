//! Cox proportional hazards, fitted by Newton-Raphson on the partial likelihood with
//! Efron's (default, as R) or Breslow's handling of tied event times.

// Index loops over rows and columns follow the matrix formulas they compute (X'WX,
// information matrices), where iterators would hide which index is which.
#![allow(clippy::needless_range_loop)]

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::FitError;
use super::errors::{ArgumentError, Result};
use super::linalg::{invert, solve};
use super::proportion::z_upper;

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ties {
    /// Efron's approximation (R's default, lifelines). Default.
    #[default]
    Efron,
    /// Breslow's approximation.
    Breslow,
}

impl std::str::FromStr for Ties {
    type Err = ArgumentError;
    fn from_str(s: &str) -> std::result::Result<Self, ArgumentError> {
        match s {
            "efron" => Ok(Ties::Efron),
            "breslow" => Ok(Ties::Breslow),
            _ => Err(ArgumentError::new(
                "ties",
                format!("`{s}`: expected efron or breslow"),
            )),
        }
    }
}

const MODEL: &str = "Cox model";
const SEPARATION: FitError = FitError::Separation {
    model: MODEL,
    advice: "estimates diverge (separation: a covariate level in which nobody, or everybody, \
             reoffends first); merge small categories or drop the covariate",
};

/// One term of a fitted model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoxTerm {
    /// `column` or `column=level`.
    pub name: String,
    /// Log hazard ratio.
    pub coef: f64,
    /// Standard error.
    pub se: f64,
    /// `exp(coef)`.
    pub hazard_ratio: f64,
    /// Interval for the hazard ratio.
    pub ci_low: f64,
    /// Interval for the hazard ratio.
    pub ci_high: f64,
    /// Wald z.
    pub z: f64,
    /// Wald p-value.
    pub p_value: f64,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoxFit {
    /// Tie handling.
    pub ties: Ties,
    /// Partial log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Partial log-likelihood with all coefficients zero.
    pub log_likelihood_null: f64,
    /// Harrell's concordance index (ties in the linear predictor count one half).
    pub concordance: f64,
    /// Newton iterations.
    pub iterations: u32,
    /// Whether the fit converged.
    pub converged: bool,
    /// People in the model (complete cases).
    pub n: u64,
    /// Events (first proven reoffences) in the model.
    pub events: u64,
    /// One row per model term, in design order.
    pub coefficients: Vec<CoxTerm>,
}

struct Eval {
    loglik: f64,
    grad: Vec<f64>,
    info: Vec<Vec<f64>>,
}

/// The rows in the order the partial likelihood visits them (time descending), each row's
/// centred covariates side by side: the passes below then read memory in order, where
/// reading `x[j][order[k]]` missed the cache at every term of every row at millions of
/// people.
struct Sorted {
    p: usize,
    /// `x[k * p + j]`: term `j` of the `k`-th row in time-descending order.
    x: Vec<f64>,
    time: Vec<f64>,
    event: Vec<bool>,
}

impl Sorted {
    /// `x` centred on `means` (`x[j][i] - means[j]`), in `order`.
    fn new(x: &[Vec<f64>], means: &[f64], time: &[f64], event: &[bool], order: &[usize]) -> Sorted {
        use rayon::prelude::*;
        let p = x.len();
        let mut xs = vec![0.0; order.len() * p];
        // Each row is copied on its own: in parallel, a block of rows at a time.
        if p > 0 {
            xs.par_chunks_mut(p * 4096)
                .zip(order.par_chunks(4096))
                .for_each(|(out, rows)| {
                    for (row, &i) in out.chunks_exact_mut(p).zip(rows) {
                        for j in 0..p {
                            row[j] = x[j][i] - means[j];
                        }
                    }
                });
        }
        Sorted {
            p,
            x: xs,
            time: order.iter().map(|&i| time[i]).collect(),
            event: order.iter().map(|&i| event[i]).collect(),
        }
    }

    fn row(&self, k: usize) -> &[f64] {
        &self.x[k * self.p..(k + 1) * self.p]
    }
}

/// Partial log-likelihood, gradient and information at `beta`, on the rows sorted by time
/// descending with covariates centred. Each row's linear predictor and its exponential are
/// computed first, in parallel (each the same sum in the same order as alone); the running
/// sums over the risk sets then run in the rows' order on one thread, so the result does not
/// depend on the number of threads.
fn evaluate(beta: &[f64], d: &Sorted, ties: Ties) -> Eval {
    use rayon::prelude::*;
    let p = beta.len();
    let n = d.time.len();
    let etas: Vec<(f64, f64)> = (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .map(|k| {
            let x = d.row(k);
            let eta: f64 = (0..p).map(|j| beta[j] * x[j]).sum();
            (eta, eta.exp())
        })
        .collect();
    let (mut s0, mut s1, mut s2) = (0.0f64, vec![0.0f64; p], vec![vec![0.0f64; p]; p]);
    let mut loglik = 0.0;
    let mut grad = vec![0.0; p];
    let mut info = vec![vec![0.0; p]; p];
    let (mut d1, mut d2) = (vec![0.0f64; p], vec![vec![0.0f64; p]; p]);
    let mut mean = vec![0.0f64; p];
    let mut k = 0;
    while k < n {
        let t = d.time[k];
        let mut d0 = 0.0f64;
        d1.iter_mut().for_each(|v| *v = 0.0);
        d2.iter_mut()
            .for_each(|r| r.iter_mut().for_each(|v| *v = 0.0));
        let mut m = 0usize;
        while k < n && d.time[k] == t {
            let x = d.row(k);
            let (eta, w) = etas[k];
            s0 += w;
            for a in 0..p {
                s1[a] += w * x[a];
                for b in 0..=a {
                    s2[a][b] += w * x[a] * x[b];
                }
            }
            if d.event[k] {
                m += 1;
                loglik += eta;
                d0 += w;
                for a in 0..p {
                    grad[a] += x[a];
                    d1[a] += w * x[a];
                    for b in 0..=a {
                        d2[a][b] += w * x[a] * x[b];
                    }
                }
            }
            k += 1;
        }
        for l in 0..m {
            let f = match ties {
                Ties::Efron => l as f64 / m as f64,
                Ties::Breslow => 0.0,
            };
            let denom = s0 - f * d0;
            loglik -= denom.ln();
            for a in 0..p {
                mean[a] = (s1[a] - f * d1[a]) / denom;
            }
            for a in 0..p {
                grad[a] -= mean[a];
                for b in 0..=a {
                    info[a][b] += (s2[a][b] - f * d2[a][b]) / denom - mean[a] * mean[b];
                }
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            info[b][a] = info[a][b];
        }
    }
    Eval { loglik, grad, info }
}

/// The rows in order of time descending, rows of equal time in their own order: the order
/// of a stable sort by `total_cmp` (the time's key and then the row number make every key
/// distinct, so any sort of the keys gives it; sorted in parallel).
fn by_time_descending(time: &[f64]) -> Vec<usize> {
    use rayon::prelude::*;
    // `total_cmp`'s order as unsigned integers, then reversed.
    let key = |t: f64| {
        let b = t.to_bits();
        !(if b >> 63 == 1 { !b } else { b | (1 << 63) })
    };
    let mut keys: Vec<(u64, usize)> = time
        .par_iter()
        .enumerate()
        .map(|(i, &t)| (key(t), i))
        .collect();
    keys.par_sort_unstable();
    keys.into_par_iter().map(|(_, i)| i).collect()
}

/// Harrell's C: among comparable pairs (the earlier time is an event; a censoring at the
/// same time counts as later), the share where the earlier one has the higher risk score,
/// ties in risk counting one half. O(n log n) with a Fenwick tree.
fn concordance(time: &[f64], event: &[bool], risk: &[f64]) -> f64 {
    let n = time.len();
    use rayon::prelude::*;
    let mut ranks: Vec<f64> = risk.to_vec();
    // Values equal under total_cmp are the same bits: any sort gives the same ranks.
    ranks.par_sort_unstable_by(f64::total_cmp);
    ranks.dedup();
    let rank = |r: f64| ranks.partition_point(|&v| v < r);
    let mut tree = vec![0u64; ranks.len() + 1];
    let add = |tree: &mut Vec<u64>, i: usize| {
        let mut i = i + 1;
        while i < tree.len() {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    };
    let prefix = |tree: &Vec<u64>, i: usize| {
        // count of ranks < i
        let mut s = 0;
        let mut i = i;
        while i > 0 {
            s += tree[i];
            i -= i & i.wrapping_neg();
        }
        s
    };
    let order = by_time_descending(time);
    let (mut concordant, mut tied, mut comparable) = (0f64, 0f64, 0f64);
    let mut total = 0u64;
    let mut k = 0;
    while k < n {
        let t = time[order[k]];
        let mut end = k;
        while end < n && time[order[end]] == t {
            end += 1;
        }
        // Censored at t count as later than events at t.
        for &i in &order[k..end] {
            if !event[i] {
                add(&mut tree, rank(risk[i]));
                total += 1;
            }
        }
        for &i in &order[k..end] {
            if event[i] {
                let r = rank(risk[i]);
                let lower = prefix(&tree, r);
                let upto = prefix(&tree, r + 1);
                concordant += lower as f64;
                tied += (upto - lower) as f64;
                comparable += total as f64;
            }
        }
        for &i in &order[k..end] {
            if event[i] {
                add(&mut tree, rank(risk[i]));
                total += 1;
            }
        }
        k = end;
    }
    if comparable == 0.0 {
        0.5
    } else {
        (concordant + 0.5 * tied) / comparable
    }
}

/// Fits a Cox model. `x[j]` is column `j` (one value a person), named `names[j]`.
///
/// Errors clearly when there are no events, a covariate is constant or collinear, or the
/// estimates diverge (separation: a term perfectly predicts who reoffends first).
// Over 80 lines: one Newton-Raphson fit of the partial likelihood with step halving and its checks,
// as in lifelines; splitting the iteration would scatter its state.
pub fn cox(
    time: &[f64],
    event: &[bool],
    x: &[Vec<f64>],
    names: &[String],
    ties: Ties,
    confidence: f64,
) -> Result<CoxFit> {
    super::proportion::check_confidence(confidence)?;
    let n = time.len();
    let p = x.len();
    if p == 0 || names.len() != p || x.iter().any(|c| c.len() != n) || event.len() != n {
        return Err(FitError::Shape { model: MODEL }.into());
    }
    let events = event.iter().filter(|e| **e).count() as u64;
    if events == 0 {
        return Err(FitError::NoContrast {
            model: MODEL,
            what: "no events: nobody reoffended in the data used",
        }
        .into());
    }
    for (j, c) in x.iter().enumerate() {
        let first = c[0];
        if c.iter().all(|v| *v == first) {
            return Err(FitError::Constant {
                model: MODEL,
                covariate: names[j].clone(),
            }
            .into());
        }
    }
    // Centre the covariates: the coefficients do not change, exp() stays in range.
    use rayon::prelude::*;
    let means: Vec<f64> = x
        .par_iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect();
    let order = by_time_descending(time);
    let sorted = Sorted::new(x, &means, time, event, &order);
    drop(order);
    let mut beta = vec![0.0; p];
    let mut cur = evaluate(&beta, &sorted, ties);
    let null_ll = cur.loglik;
    let (mut iterations, mut converged) = (0u32, false);
    for _ in 0..60 {
        iterations += 1;
        let step = solve(&cur.info, &cur.grad).ok_or(if iterations == 1 {
            FitError::Collinear {
                model: MODEL,
                detail: " (or one is constant among those at risk)",
            }
        } else {
            SEPARATION
        })?;
        let mut scale = 1.0;
        let mut next;
        loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
            next = evaluate(&trial, &sorted, ties);
            if next.loglik.is_finite() && next.loglik >= cur.loglik - 1e-12 * cur.loglik.abs() {
                beta = trial;
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
        let change = (next.loglik - cur.loglik).abs();
        cur = next;
        if change <= 1e-10 * (1.0 + cur.loglik.abs())
            && step.iter().all(|s| (scale * s).abs() < 1e-6)
        {
            converged = true;
            break;
        }
    }
    if beta.iter().any(|b| b.abs() > 25.0) {
        return Err(SEPARATION.into());
    }
    if !converged {
        return Err(FitError::NotConverged {
            model: MODEL,
            how: format!("in {iterations} iterations"),
        }
        .into());
    }
    let cov = invert(&cur.info).ok_or(FitError::Collinear {
        model: MODEL,
        detail: " (the information matrix is singular)",
    })?;
    let z = z_upper((1.0 - confidence) / 2.0);
    let normal = Normal::standard();
    let coefficients = (0..p)
        .map(|j| {
            let se = cov[j][j].max(0.0).sqrt();
            let zs = beta[j] / se;
            CoxTerm {
                name: names[j].clone(),
                coef: beta[j],
                se,
                hazard_ratio: beta[j].exp(),
                ci_low: (beta[j] - z * se).exp(),
                ci_high: (beta[j] + z * se).exp(),
                z: zs,
                p_value: 2.0 * normal.sf(zs.abs()),
            }
        })
        .collect();
    // Harrell's C counts pairs (whole numbers, exact in any order), so it is computed on the
    // rows in time order as well.
    let risk: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .map(|k| {
            let x = sorted.row(k);
            (0..p).map(|j| beta[j] * x[j]).sum()
        })
        .collect();
    Ok(CoxFit {
        ties,
        log_likelihood: cur.loglik,
        log_likelihood_null: null_ll,
        concordance: concordance(&sorted.time, &sorted.event, &risk),
        iterations,
        converged,
        n: n as u64,
        events,
        coefficients,
    })
}
