//! Cox proportional hazards, fitted by Newton-Raphson on the partial likelihood with
//! Efron's (default, as R) or Breslow's handling of tied event times.

// Index loops over rows and columns follow the matrix formulas they compute (X'WX,
// information matrices), where iterators would hide which index is which.
#![allow(clippy::needless_range_loop)]

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::FitError;
use super::blocks;
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

/// Covariate values by term and row, as the Cox model reads them: columns (`x[j][i]`), or
/// terms computed from something more compact (a design's levels and numbers).
pub(crate) trait Covariates: Sync {
    /// The number of terms (p).
    fn terms(&self) -> usize;
    /// Whether every term has `n` rows.
    fn has_rows(&self, n: usize) -> bool;
    /// Term `j` of row `i`.
    fn value(&self, j: usize, i: usize) -> f64;
}

impl Covariates for [Vec<f64>] {
    fn terms(&self) -> usize {
        self.len()
    }

    fn has_rows(&self, n: usize) -> bool {
        self.iter().all(|c| c.len() == n)
    }

    fn value(&self, j: usize, i: usize) -> f64 {
        self[j][i]
    }
}

struct Eval {
    loglik: f64,
    grad: Vec<f64>,
    info: Vec<Vec<f64>>,
}

/// The distinct rows in the order the partial likelihood visits them, each row's centred
/// covariates side by side: the passes below then read memory in order, where reading
/// `x[j][order[k]]` missed the cache at every term of every row at millions of people.
///
/// The order depends on the data alone, not on the rows' order in the input: time
/// descending, and rows of equal time by event (events first) and then their covariate
/// values ([`canonical_order`]). Rows equal in all of these are interchangeable, and they are
/// adjacent in that order: each run of them is kept once with its number of rows
/// ([`Sorted::count`]), and every sum below adds a row's terms times its count. The
/// covariates are few and discrete (sex, age, prior offences, cohort), so millions of people
/// fall into far fewer distinct rows. Any permutation of the input rows gives the same
/// distinct rows and counts, so the same sums, bit for bit.
struct Sorted {
    p: usize,
    /// `x[k * p + j]`: term `j` of the `k`-th distinct row in that order.
    x: Vec<f64>,
    time: Vec<f64>,
    event: Vec<bool>,
    /// How many input rows the `k`-th distinct row stands for (at least 1).
    count: Vec<f64>,
    /// The number of input rows (the sum of `count`).
    people: usize,
    /// The first row of each block of the sums in [`evaluate`]: a block starts at a new time
    /// (the first at least [`blocks::ROWS`] rows after the block before), so no set of tied
    /// times is split.
    starts: Vec<usize>,
}

impl Sorted {
    /// The distinct rows of `x` (columns), `time` and `event`, each with its count, `x`
    /// centred on the means of its columns, in the order above.
    fn new<X: Covariates + ?Sized>(x: &X, time: &[f64], event: &[bool]) -> Sorted {
        use rayon::prelude::*;
        // Rows equal in time, event and every value (the same bits) are adjacent in `order`;
        // `runs` holds where each run of them starts.
        let (order, runs) = canonical_order(time, event, x);
        let people = order.len();
        let p = x.terms();
        let rows = runs.len();
        let run_end = |r: usize| runs.get(r + 1).copied().unwrap_or(people);
        let mut xs = vec![0.0; rows * p];
        // Each distinct row is copied on its own: in parallel, a block of rows at a time.
        if p > 0 {
            xs.par_chunks_mut(p * 4096)
                .zip(runs.par_chunks(4096))
                .for_each(|(out, firsts)| {
                    for (row, &k) in out.chunks_exact_mut(p).zip(firsts) {
                        let i = order[k];
                        for j in 0..p {
                            row[j] = x.value(j, i);
                        }
                    }
                });
        }
        let mut d = Sorted {
            p,
            x: xs,
            time: runs.iter().map(|&k| time[order[k]]).collect(),
            event: runs.iter().map(|&k| event[order[k]]).collect(),
            count: (0..rows).map(|r| (run_end(r) - runs[r]) as f64).collect(),
            people,
            starts: Vec::new(),
        };
        drop((order, runs));
        d.starts = tie_aligned_blocks(&d.time);
        // Centre the covariates: the coefficients do not change, exp() stays in range. The
        // means are sums in the order above (in blocks), so they too do not depend on the
        // input's order.
        let sums = blocks::fold_ranges(
            &blocks::block_starts(rows),
            rows,
            || vec![0.0; p],
            |s, k| {
                let c = d.count[k];
                for (s, v) in s.iter_mut().zip(d.row(k)) {
                    *s += c * v;
                }
            },
            |a, b| blocks::add_into(a, &b),
        );
        let means: Vec<f64> = sums.iter().map(|s| s / people as f64).collect();
        if p > 0 {
            d.x.par_chunks_mut(p * 4096).for_each(|rows| {
                for row in rows.chunks_exact_mut(p) {
                    for j in 0..p {
                        row[j] -= means[j];
                    }
                }
            });
        }
        d
    }

    fn row(&self, k: usize) -> &[f64] {
        &self.x[k * self.p..(k + 1) * self.p]
    }
}

/// The rows in the order of [`Sorted`]: time descending (`total_cmp`), then events first,
/// then by the covariate values. Each row's sort key is its time and event and a hash of its
/// values' bits, sorted with the row number last (no covariate read in the sort); then each
/// run of equal keys is checked: rows equal in every value may stay in any order (they give
/// the same sorted data), and a run holding distinct rows (a hash collision) is sorted by
/// the values (`total_cmp`, term by term), so distinct rows are always ordered by their data.
///
/// Also returns where each run of identical rows (time, event and every value, bit for bit)
/// starts in that order: at each new key, and within a run of equal keys holding distinct
/// rows at each change of the values.
fn canonical_order<X: Covariates + ?Sized>(
    time: &[f64],
    event: &[bool],
    x: &X,
) -> (Vec<usize>, Vec<usize>) {
    use rayon::prelude::*;
    // `total_cmp`'s order as unsigned integers, then reversed.
    let time_key = |t: f64| {
        let b = t.to_bits();
        !(if b >> 63 == 1 { !b } else { b | (1 << 63) })
    };
    let row_key = |i: usize| {
        // A multiplicative hash of the values' bits (any fixed function of them would do).
        let mut h = 0x9e37_79b9_7f4a_7c15u64;
        for j in 0..x.terms() {
            h = (h ^ x.value(j, i).to_bits()).wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^= h >> 29;
        }
        (u64::from(!event[i]) << 63) | (h >> 1)
    };
    let mut keys: Vec<(u64, u64, usize)> = (0..time.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| (time_key(time[i]), row_key(i), i))
        .collect();
    keys.par_sort_unstable();
    let values = |a: usize, b: usize| {
        (0..x.terms())
            .map(|j| x.value(j, a).total_cmp(&x.value(j, b)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    // Runs of equal keys, checked (and, holding distinct rows, sorted) in parallel blocks.
    // Each run with where it starts.
    type Run<'a> = (usize, &'a mut [(u64, u64, usize)]);
    let mut runs: Vec<Run<'_>> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut rest = &mut keys[..];
    let mut at = 0;
    while !rest.is_empty() {
        let len = rest
            .iter()
            .position(|k| (k.0, k.1) != (rest[0].0, rest[0].1))
            .unwrap_or(rest.len());
        let (run, tail) = std::mem::take(&mut rest).split_at_mut(len);
        starts.push(at);
        if len > 1 {
            runs.push((at, run));
        }
        at += len;
        rest = tail;
    }
    // Within a run of equal keys holding distinct rows (sorted by their values): where the
    // values change. In order of the runs.
    let changes: Vec<usize> = runs
        .into_par_iter()
        .flat_map_iter(|(at, run)| {
            let first = run[0].2;
            let mut changes = Vec::new();
            if run[1..].iter().any(|k| values(k.2, first).is_ne()) {
                run.sort_by(|a, b| values(a.2, b.2));
                for t in 1..run.len() {
                    if values(run[t - 1].2, run[t].2).is_ne() {
                        changes.push(at + t);
                    }
                }
            }
            changes
        })
        .collect();
    if !changes.is_empty() {
        starts.extend(changes);
        starts.sort_unstable();
    }
    (keys.into_par_iter().map(|(.., i)| i).collect(), starts)
}

/// Blocks of at least [`blocks::ROWS`] rows (the last may be shorter) that each start at a new
/// time: the start of each block in `time` (sorted, equal times together).
fn tie_aligned_blocks(time: &[f64]) -> Vec<usize> {
    let n = time.len();
    let mut starts = Vec::new();
    let mut k = 0;
    while k < n {
        starts.push(k);
        k += blocks::ROWS;
        while k < n && time[k] == time[k - 1] {
            k += 1;
        }
    }
    starts
}

/// Partial log-likelihood, gradient and information at `beta`, on the sorted distinct rows
/// with covariates centred, each row's terms times its count (a row of count `c` adds
/// `c exp(xβ)` to the risk sets and, an event, `c` tied events). The sums over each risk set run in the rows' order; they are cut into
/// blocks of rows ([`Sorted::starts`], fixed by the data, not by the number of threads): the
/// blocks' totals of the risk-set sums are found in parallel and added in block order, each
/// block then runs its risk-set sums on from the total of the blocks before it (in parallel)
/// and its terms of the log-likelihood, gradient and information are added in block order.
/// With one block (fewer than [`blocks::ROWS`] rows) that is one pass in the rows' order.
fn evaluate(beta: &[f64], d: &Sorted, ties: Ties) -> Eval {
    use rayon::prelude::*;
    let p = beta.len();
    let n = d.time.len();
    let end = |b: usize| d.starts.get(b + 1).copied().unwrap_or(n);
    let weight = |k: usize| {
        let x = d.row(k);
        let eta: f64 = (0..p).map(|j| beta[j] * x[j]).sum();
        (eta, eta.exp())
    };
    // The risk-set sums (s0, s1, lower triangle of s2) at the start of each block.
    let mut before = vec![Risk::new(p)];
    if d.starts.len() > 1 {
        let totals: Vec<Risk> = (0..d.starts.len() - 1)
            .into_par_iter()
            .map(|b| {
                let mut r = Risk::new(p);
                for k in d.starts[b]..end(b) {
                    r.add(d.row(k), d.count[k] * weight(k).1);
                }
                r
            })
            .collect();
        for t in totals {
            let mut next = before[before.len() - 1].clone();
            next.merge(&t);
            before.push(next);
        }
    }
    let block = |b: usize| {
        let mut risk = before[b].clone();
        let mut loglik = 0.0;
        let mut grad = vec![0.0; p];
        let mut info = vec![0.0f64; p * p];
        let mut tied = Risk::new(p);
        let mut mean = vec![0.0f64; p];
        let mut k = d.starts[b];
        let stop = end(b);
        while k < stop {
            let t = d.time[k];
            tied.clear();
            let mut m = 0usize;
            while k < stop && d.time[k] == t {
                let x = d.row(k);
                let (eta, w) = weight(k);
                let c = d.count[k];
                risk.add(x, c * w);
                if d.event[k] {
                    // A count is a whole number of rows (exact as f64).
                    m += c as usize;
                    loglik += c * eta;
                    for a in 0..p {
                        grad[a] += c * x[a];
                    }
                    tied.add(x, c * w);
                }
                k += 1;
            }
            for l in 0..m {
                let f = match ties {
                    Ties::Efron => l as f64 / m as f64,
                    Ties::Breslow => 0.0,
                };
                let denom = risk.s0 - f * tied.s0;
                loglik -= denom.ln();
                for a in 0..p {
                    mean[a] = (risk.s1[a] - f * tied.s1[a]) / denom;
                }
                for a in 0..p {
                    grad[a] -= mean[a];
                    for b in 0..=a {
                        info[a * p + b] += (risk.s2[a * p + b] - f * tied.s2[a * p + b]) / denom
                            - mean[a] * mean[b];
                    }
                }
            }
        }
        (loglik, grad, info)
    };
    let (loglik, grad, packed) = if d.starts.len() > 1 {
        let parts: Vec<_> = (0..d.starts.len()).into_par_iter().map(block).collect();
        let mut parts = parts.into_iter();
        let mut total = parts.next().unwrap_or_else(|| block(0));
        for (l, g, i) in parts {
            total.0 += l;
            blocks::add_into(&mut total.1, &g);
            blocks::add_into(&mut total.2, &i);
        }
        total
    } else if n > 0 {
        block(0)
    } else {
        (0.0, vec![0.0; p], vec![0.0; p * p])
    };
    let mut info = vec![vec![0.0; p]; p];
    for a in 0..p {
        for b in 0..=a {
            info[a][b] = packed[a * p + b];
            info[b][a] = packed[a * p + b];
        }
    }
    Eval { loglik, grad, info }
}

/// Sums over a set of rows: of the weights `exp(xβ)` (`s0`), of `w x` (`s1`) and of
/// `w x x'` (`s2`, lower triangle, row-major `p x p`).
#[derive(Clone)]
struct Risk {
    s0: f64,
    s1: Vec<f64>,
    s2: Vec<f64>,
}

impl Risk {
    fn new(p: usize) -> Risk {
        Risk {
            s0: 0.0,
            s1: vec![0.0; p],
            s2: vec![0.0; p * p],
        }
    }

    fn clear(&mut self) {
        self.s0 = 0.0;
        self.s1.iter_mut().for_each(|v| *v = 0.0);
        self.s2.iter_mut().for_each(|v| *v = 0.0);
    }

    fn add(&mut self, x: &[f64], w: f64) {
        let p = x.len();
        self.s0 += w;
        for a in 0..p {
            self.s1[a] += w * x[a];
            for b in 0..=a {
                self.s2[a * p + b] += w * x[a] * x[b];
            }
        }
    }

    fn merge(&mut self, other: &Risk) {
        self.s0 += other.s0;
        blocks::add_into(&mut self.s1, &other.s1);
        blocks::add_into(&mut self.s2, &other.s2);
    }
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
/// ties in risk counting one half. Row `i` stands for `count[i]` people with its time, event
/// and risk (a whole number); two of them are never a comparable pair (tied times), so the
/// counts of pairs are those of the rows written out one by one. O(n log n) with a Fenwick
/// tree of counts.
fn concordance(time: &[f64], event: &[bool], risk: &[f64], count: &[f64]) -> f64 {
    let n = time.len();
    use rayon::prelude::*;
    let mut ranks: Vec<f64> = risk.to_vec();
    // Values equal under total_cmp are the same bits: any sort gives the same ranks.
    ranks.par_sort_unstable_by(f64::total_cmp);
    ranks.dedup();
    // Each row's rank, found in parallel (a binary search a row).
    let rank_of: Vec<usize> = risk
        .par_iter()
        .with_min_len(4096)
        .map(|&r| ranks.partition_point(|&v| v < r))
        .collect();
    let rank = |i: usize| rank_of[i];
    let mut tree = vec![0u64; ranks.len() + 1];
    let add = |tree: &mut Vec<u64>, i: usize, c: u64| {
        let mut i = i + 1;
        while i < tree.len() {
            tree[i] += c;
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
    // Rows already in time-descending order (as `cox` passes them) are taken as they are.
    let order: Vec<usize> = if time.windows(2).all(|w| w[0].total_cmp(&w[1]).is_ge()) {
        (0..n).collect()
    } else {
        by_time_descending(time)
    };
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
                add(&mut tree, rank(i), count[i] as u64);
                total += count[i] as u64;
            }
        }
        for &i in &order[k..end] {
            if event[i] {
                let r = rank(i);
                let lower = prefix(&tree, r);
                let upto = prefix(&tree, r + 1);
                // Whole numbers below 2^53 (pairs of at most 10^8 people): exact.
                let c = count[i];
                concordant += c * lower as f64;
                tied += c * (upto - lower) as f64;
                comparable += c * total as f64;
            }
        }
        for &i in &order[k..end] {
            if event[i] {
                add(&mut tree, rank(i), count[i] as u64);
                total += count[i] as u64;
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

/// The checks of [`cox`]; the number of events.
fn check<X: Covariates + ?Sized>(
    time: &[f64],
    event: &[bool],
    x: &X,
    names: &[String],
    confidence: f64,
) -> Result<u64> {
    super::proportion::check_confidence(confidence)?;
    let n = time.len();
    let p = x.terms();
    if p == 0 || names.len() != p || !x.has_rows(n) || event.len() != n {
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
    for j in 0..p {
        let first = x.value(j, 0);
        if (0..n).all(|i| x.value(j, i) == first) {
            return Err(FitError::Constant {
                model: MODEL,
                covariate: names[j].clone(),
            }
            .into());
        }
    }
    Ok(events)
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
    let events = check(time, event, x, names, confidence)?;
    fit_sorted(Sorted::new(x, time, event), events, names, ties, confidence)
}

/// [`cox`] on covariates read through [`Covariates`] (a design's terms computed from its
/// levels and numbers, with no column of every term), on times and events it may drop: once
/// the rows are in their sorted copy the inputs are released, so the Newton iterations do
/// not hold both. The same checks and the same fit, bit for bit, as [`cox`] on the columns
/// those covariates hold.
pub(crate) fn cox_of<X: Covariates + ?Sized>(
    time: Vec<f64>,
    event: Vec<bool>,
    x: &X,
    names: &[String],
    ties: Ties,
    confidence: f64,
) -> Result<CoxFit> {
    let events = check(&time, &event, x, names, confidence)?;
    let sorted = crate::trace::timed("    Cox: sorted distinct rows", || {
        Sorted::new(x, &time, &event)
    });
    drop((time, event));
    crate::trace::timed("    Cox: fit", || {
        fit_sorted(sorted, events, names, ties, confidence)
    })
}

/// The Newton-Raphson fit of [`cox`] on the distinct rows sorted, its checks passed.
// Over 80 lines: see `cox`.
fn fit_sorted(
    sorted: Sorted,
    events: u64,
    names: &[String],
    ties: Ties,
    confidence: f64,
) -> Result<CoxFit> {
    let n = sorted.time.len();
    let p = sorted.p;
    crate::trace::note(format_args!(
        "    Cox: {} people in {n} distinct rows (time, event, covariates)",
        sorted.people
    ));
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
    // distinct rows in time order as well, each with its count.
    use rayon::prelude::*;
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
        concordance: concordance(&sorted.time, &sorted.event, &risk, &sorted.count),
        iterations,
        converged,
        n: sorted.people as u64,
        events,
        coefficients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Cox problem with many tied times (whole days up to 40), a 0/1 and two numeric
    /// covariates, from a fixed linear congruential sequence.
    fn problem(n: usize) -> (Vec<f64>, Vec<bool>, Vec<Vec<f64>>) {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut time, mut event, mut x) = (vec![], vec![], vec![vec![]; 3]);
        for _ in 0..n {
            let group = f64::from(next() < 0.4);
            let age = (18.0 + 50.0 * next()).floor();
            let score = next() * 3.0 - 1.0;
            let hazard = (0.5 * group - 0.02 * age + 0.3 * score).exp();
            time.push((1.0 + 40.0 * next() / hazard).floor().min(40.0));
            event.push(next() < 0.7);
            x[0].push(group);
            x[1].push(age);
            x[2].push(score);
        }
        (time, event, x)
    }

    fn permuted<T: Clone>(v: &[T], perm: &[usize]) -> Vec<T> {
        perm.iter().map(|&i| v[i].clone()).collect()
    }

    fn fit(time: &[f64], event: &[bool], x: &[Vec<f64>]) -> Vec<u64> {
        let names: Vec<String> = ["group", "age", "score"].map(String::from).to_vec();
        let f = cox(time, event, x, &names, Ties::Efron, 0.95).expect("the problem fits");
        let mut bits: Vec<u64> = f
            .coefficients
            .iter()
            .flat_map(|t| [t.coef.to_bits(), t.se.to_bits()])
            .collect();
        bits.push(f.log_likelihood.to_bits());
        bits.push(f.concordance.to_bits());
        bits
    }

    /// Any order of the input rows gives the same fit, bit for bit: rows of equal time are
    /// visited by their data, not their place in the input (one block and several).
    #[test]
    fn row_order_does_not_move_a_bit() {
        for n in [2_000, 2 * blocks::ROWS + 1_000] {
            let (time, event, x) = problem(n);
            let base = fit(&time, &event, &x);
            let reversed: Vec<usize> = (0..n).rev().collect();
            let strided: Vec<usize> = (0..n).map(|i| (i * 7_919) % n).collect();
            for perm in [reversed, strided] {
                let xs: Vec<Vec<f64>> = x.iter().map(|c| permuted(c, &perm)).collect();
                let got = fit(&permuted(&time, &perm), &permuted(&event, &perm), &xs);
                assert_eq!(got, base, "{n} rows");
            }
        }
    }

    /// More than one block of rows: the same fit on one thread and on four.
    #[test]
    fn thread_count_does_not_move_a_bit() {
        let (time, event, x) = problem(2 * blocks::ROWS + 1_000);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map(|pool| pool.install(|| fit(&time, &event, &x)))
                .ok()
        };
        assert_eq!(on(1), on(4));
        assert_eq!(on(1), Some(fit(&time, &event, &x)));
    }
}
