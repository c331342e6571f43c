//! Entropy balancing (Hainmueller 2012, *Political Analysis* 20(1); R `ebal`, WeightIt
//! `method = "ebal"`) for the ATT: comparison weights `w_i ∝ exp(λ'x_i)`, the ones closest to
//! uniform in Kullback-Leibler divergence whose weighted means equal the pilot means of every
//! term.
//!
//! The dual is `L(λ) = log Σ_C exp(λ'(x_i - x̄_T))`, convex, with gradient the weighted
//! comparison mean minus the pilot mean (the imbalance) and Hessian the weighted covariance
//! of the terms. Newton's method with a backtracking (Armijo) line search; each iteration is
//! one pass over the comparison rows, O(n k²) (over their distinct rows, with counts, when
//! the terms are sparse). The log-sum-exp is accumulated with a running
//! maximum, so no weight overflows.

// Index loops over the terms follow the matrix formulas (gradient, Hessian).
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

use super::terms::{GroupMoments, SparseTerms, Terms, first_pass};
use super::{DesignError, check_inputs_basic};
use crate::stats::Result;
use crate::stats::linalg::solve;

const METHOD: &str = "entropy balancing";

/// Settings of the entropy balancing solver.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EntropyOptions {
    /// Converged when every term's |weighted comparison mean - pilot mean| is at most
    /// `tolerance x max(1, comparison SD of the term)` (default 1e-10).
    pub tolerance: f64,
    /// Newton iterations allowed (default 100).
    pub max_iterations: u32,
}

impl Default for EntropyOptions {
    fn default() -> Self {
        EntropyOptions {
            tolerance: 1e-10,
            max_iterations: 100,
        }
    }
}

/// The entropy balancing solution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntropyBalance {
    /// The dual coefficients λ, one per term, in the terms' units: a comparison person's
    /// weight is proportional to `exp(λ'x)`.
    pub lambda: Vec<f64>,
    /// Pilot means of the terms (the targets).
    pub treated_means: Vec<f64>,
    /// Weighted comparison means of the terms at the solution.
    pub control_means: Vec<f64>,
    /// Newton iterations used.
    pub iterations: u32,
    /// Whether the tolerance was reached (always true in a returned solution).
    pub converged: bool,
    /// The largest |weighted comparison mean - pilot mean| over the terms.
    pub max_imbalance: f64,
    /// One weight per person: 1 for pilot people; comparison weights averaging 1.
    #[serde(skip)]
    pub weights: Vec<f64>,
}

/// Entropy balancing weights for the ATT on the terms.
///
/// Errors: [`DesignError::Infeasible`] when a term's pilot mean is not strictly inside the
/// comparison group's range (e.g. a level no pilot person has, or one only pilot people
/// have), [`DesignError::NoOverlap`] when the pilot means cannot be reached jointly (outside
/// the comparison people's convex hull), [`DesignError::NotConverged`] when the iterations
/// run out (e.g. pilot means on the hull's boundary),
/// [`DesignError::Collinear`] when the Hessian stays singular, and the input checks of
/// [`adjusted_designs`](super::adjusted_designs).
pub fn entropy_balance(
    terms: Terms<'_>,
    names: &[String],
    treated: &[bool],
    options: &EntropyOptions,
) -> Result<EntropyBalance> {
    let n = treated.len();
    check_inputs_basic(&terms, names, treated)?;
    // Propensity scores are not needed here; a constant fills the first pass's slot.
    let half = vec![0.5; n];
    let fp = first_pass(&terms, names, treated, &half)?;
    Ok(solve_dual(
        &terms,
        names,
        treated,
        &fp.treated,
        &fp.control,
        options,
    )?)
}

/// Value, gradient and Hessian of the dual at `lambda` (one pass over the comparison rows).
struct Eval {
    /// `log Σ_C exp(λ'z_i)`.
    value: f64,
    /// Weighted mean of `z` (the imbalance).
    grad: Vec<f64>,
    /// Weighted covariance of `z`.
    hess: Vec<Vec<f64>>,
}

/// One block's sums of the dual: `exp(λ'z - shift)` and its products with `z`, the shift the
/// block's largest `λ'z` so far.
struct Block {
    shift: f64,
    s0: f64,
    s1: Vec<f64>,
    s2: Vec<f64>,
    row: Vec<f64>,
    z: Vec<f64>,
}

impl Block {
    /// Rescales the sums to the shift `to` (at least the block's own).
    fn rescale(&mut self, to: f64) {
        let r = (self.shift - to).exp();
        self.s0 *= r;
        self.s1.iter_mut().for_each(|v| *v *= r);
        self.s2.iter_mut().for_each(|v| *v *= r);
        self.shift = to;
    }

    /// Adds the next block's sums (blocks in order), both brought to the larger shift.
    fn merge(&mut self, mut next: Block) {
        if next.shift == f64::NEG_INFINITY {
            return;
        }
        if self.shift == f64::NEG_INFINITY {
            *self = next;
            return;
        }
        if next.shift > self.shift {
            self.rescale(next.shift);
        } else {
            next.rescale(self.shift);
        }
        self.s0 += next.s0;
        crate::stats::blocks::add_into(&mut self.s1, &next.s1);
        crate::stats::blocks::add_into(&mut self.s2, &next.s2);
    }
}

/// The comparison rows as distinct rows of sparse terms (in an order fixed by their values),
/// each with its number of comparison people: the dual's sums add `n_d exp(λ'z_d)` once for
/// the `n_d` equal rows.
struct Counted<'a> {
    rows: &'a SparseTerms,
    count: Vec<f64>,
}

/// The dual's sums over the comparison rows in fixed blocks of rows (`blocks`), each with
/// its own running maximum, merged in block order: the same on any number of threads. With
/// `counted`, over the distinct rows instead, each row's terms times its count.
fn evaluate(
    terms: &Terms<'_>,
    counted: Option<&Counted<'_>>,
    treated: &[bool],
    centre: &[f64],
    lambda: &[f64],
    with_hessian: bool,
) -> Eval {
    let k = centre.len();
    let (rows, count) = match counted {
        Some(c) => (c.rows.rows(), Some(&c.count)),
        None => (treated.len(), None),
    };
    let block = crate::stats::blocks::fold_rows(
        rows,
        || Block {
            shift: f64::NEG_INFINITY,
            s0: 0.0,
            s1: vec![0.0; k],
            s2: vec![0.0; if with_hessian { k * k } else { 0 }],
            row: vec![0.0; k],
            z: vec![0.0; k],
        },
        |b, i| {
            let c = match (count, counted) {
                (Some(count), Some(counted)) => {
                    if count[i] == 0.0 {
                        return;
                    }
                    counted.rows.row_into(i, &mut b.row);
                    count[i]
                }
                _ => {
                    if treated[i] {
                        return;
                    }
                    terms.row_into(i, &mut b.row);
                    1.0
                }
            };
            let mut a = 0.0;
            for j in 0..k {
                b.z[j] = b.row[j] - centre[j];
                a += lambda[j] * b.z[j];
            }
            if a > b.shift {
                // Rescale what has been summed to the new maximum (exp(-inf) = 0 at the start).
                b.rescale(a);
            }
            let p = c * (a - b.shift).exp();
            b.s0 += p;
            for j in 0..k {
                let pz = p * b.z[j];
                b.s1[j] += pz;
                if with_hessian {
                    // Lower triangle, row j (slices, so the loop has no bounds checks).
                    for (s, zl) in b.s2[j * k..=j * k + j].iter_mut().zip(&b.z[..=j]) {
                        *s += pz * zl;
                    }
                }
            }
        },
        Block::merge,
    );
    let Block {
        shift, s0, s1, s2, ..
    } = block;
    let grad: Vec<f64> = s1.iter().map(|v| v / s0).collect();
    let mut hess = vec![vec![0.0; k]; if with_hessian { k } else { 0 }];
    if with_hessian {
        for j in 0..k {
            for l in 0..=j {
                let h = s2[j * k + l] / s0 - grad[j] * grad[l];
                hess[j][l] = h;
                hess[l][j] = h;
            }
        }
    }
    Eval {
        value: shift + s0.ln(),
        grad,
        hess,
    }
}

/// Solves `H d = -g`, adding a small ridge when `H` is singular (a term constant among the
/// comparison people at its pilot mean, or collinear terms: the constraints are redundant
/// and the ridge leaves the solution's balance unchanged).
fn newton_step(hess: &[Vec<f64>], grad: &[f64]) -> Option<Vec<f64>> {
    let neg: Vec<f64> = grad.iter().map(|g| -g).collect();
    if let Some(d) = solve(hess, &neg) {
        return Some(d);
    }
    let k = grad.len();
    let scale = (0..k)
        .map(|j| hess[j][j].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    for ridge in [1e-10, 1e-8, 1e-6] {
        let mut h = hess.to_vec();
        for j in 0..k {
            h[j][j] += ridge * scale;
        }
        if let Some(d) = solve(&h, &neg) {
            return Some(d);
        }
    }
    None
}

/// Newton's method on the dual, from precomputed group moments.
pub(crate) fn solve_dual(
    terms: &Terms<'_>,
    names: &[String],
    treated: &[bool],
    pilot: &GroupMoments,
    control: &GroupMoments,
    options: &EntropyOptions,
) -> Result<EntropyBalance, DesignError> {
    let k = terms.terms();
    let centre = pilot.mean.clone();
    for j in 0..k {
        let (lo, hi, t) = (control.min[j], control.max[j], centre[j]);
        let inside = lo < t && t < hi;
        let redundant = lo == hi && (t - lo).abs() <= 1e-12 * (1.0 + lo.abs());
        if !(inside || redundant) {
            return Err(DesignError::Infeasible {
                term: names[j].clone(),
                treated_mean: t,
                control_min: lo,
                control_max: hi,
            });
        }
    }
    let scale: Vec<f64> = control
        .variance()
        .iter()
        .map(|v| v.sqrt().max(1.0))
        .collect();
    let imbalance = |g: &[f64]| g.iter().map(|v| v.abs()).fold(0.0, f64::max);
    let done = |g: &[f64]| {
        g.iter()
            .zip(&scale)
            .all(|(g, s)| g.abs() <= options.tolerance * s)
    };
    // Sparse terms: the comparison rows counted by distinct row, once.
    let counted = match terms {
        Terms::Sparse(s) if s.rows() == treated.len() => {
            let distinct = s.distinct();
            distinct
                .totals(|i| !treated[i], |_| 0.0)
                .map(|(count, _)| Counted {
                    rows: &distinct.rows,
                    count,
                })
        }
        _ => None,
    };
    let mut lambda = vec![0.0; k];
    let mut ev = evaluate(terms, counted.as_ref(), treated, &centre, &lambda, true);
    let mut iterations = 0;
    while !done(&ev.grad) {
        if iterations >= options.max_iterations {
            return Err(not_converged(iterations, imbalance(&ev.grad)));
        }
        iterations += 1;
        let step = newton_step(&ev.hess, &ev.grad).ok_or(DesignError::Collinear {
            method: METHOD,
            detail: "",
        })?;
        let slope: f64 = step.iter().zip(&ev.grad).map(|(d, g)| d * g).sum();
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = lambda.iter().zip(&step).map(|(l, d)| l + t * d).collect();
            let next = evaluate(terms, counted.as_ref(), treated, &centre, &trial, true);
            let armijo = next.value <= ev.value + 1e-4 * t * slope;
            // Near the solution the dual's changes fall below rounding: then accept a step
            // that reduces the imbalance.
            let flat = (next.value - ev.value).abs() <= 1e-13 * (1.0 + ev.value.abs())
                && imbalance(&next.grad) < imbalance(&ev.grad);
            if next.value.is_finite() && (armijo || flat) {
                lambda = trial;
                ev = next;
                break;
            }
            t /= 2.0;
            if t < 1e-12 {
                return Err(not_converged(iterations, imbalance(&ev.grad)));
            }
        }
        // A certificate of infeasibility: a feasible problem's dual never falls below the
        // entropy of its solution, which is not negative.
        if ev.value < -1e-6 {
            return Err(DesignError::NoOverlap {
                iterations,
                max_imbalance: imbalance(&ev.grad),
            });
        }
    }
    let max_imbalance = imbalance(&ev.grad);
    let control_means: Vec<f64> = centre.iter().zip(&ev.grad).map(|(c, g)| c + g).collect();
    let weights = final_weights(terms, treated, &centre, &lambda, control.n);
    Ok(EntropyBalance {
        lambda,
        treated_means: centre,
        control_means,
        iterations,
        converged: true,
        max_imbalance,
        weights,
    })
}

fn not_converged(iterations: u32, max_imbalance: f64) -> DesignError {
    DesignError::NotConverged {
        method: METHOD,
        iterations,
        max_imbalance,
        advice: ": the pilot means are probably outside what reweighting the comparison group can \
                 reach (no overlap on some combination of terms); drop or merge terms, or \
                 restrict to the region of overlap",
    }
}

/// The weights at the solution: 1 for pilot people, comparison weights averaging 1.
fn final_weights(
    terms: &Terms<'_>,
    treated: &[bool],
    centre: &[f64],
    lambda: &[f64],
    controls: usize,
) -> Vec<f64> {
    let n = treated.len();
    let mut w = vec![1.0; n];
    let mut shift = f64::NEG_INFINITY;
    terms.for_each_row(n, |i, row| {
        if !treated[i] {
            let a: f64 = row
                .iter()
                .zip(centre)
                .zip(lambda)
                .map(|((x, c), l)| l * (x - c))
                .sum();
            w[i] = a;
            shift = shift.max(a);
        }
    });
    let mut sum = 0.0;
    for (wi, t) in w.iter_mut().zip(treated) {
        if !t {
            *wi = (*wi - shift).exp();
            sum += *wi;
        }
    }
    let f = controls as f64 / sum;
    for (wi, t) in w.iter_mut().zip(treated) {
        if !t {
            *wi *= f;
        }
    }
    w
}
