//! Synthetic designs for one or a few treated areas launching together: synthetic
//! difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens and Wager 2021),
//! synthetic control (Abadie, Diamond and Hainmueller 2010) and plain
//! difference-in-differences, on an area x period panel of means.
//!
//! A port of the R package `synthdid` 0.0.9 (`synthdid_estimate`, `sc_estimate`,
//! `did_estimate`, `synthdid_effect_curve`, `vcov(method = "placebo")`), following
//! `R/solver.R`, `R/synthdid.R`, `R/utils.R` and `R/vcov.R` line by line:
//!
//! - unit weights ω by Frank-Wolfe with exact line search on the collapsed panel
//!   (controls' pre-period outcomes against the treated mean), ridge penalty
//!   `ζ_ω = (N1·T1)^(1/4)·σ` where σ is the standard deviation of the controls' first
//!   differences before launch, with an intercept (SDID); `ζ_ω = 1e-6·σ` and no
//!   intercept (SC); uniform (DiD);
//! - time weights λ the same way over pre-periods, `ζ_λ = 1e-6·σ`, with an intercept
//!   (SDID); none (SC); uniform (DiD);
//! - each solve runs 100 iterations, sets weights at or below a quarter of the largest to
//!   zero and renormalises (`sparsify_function`), then runs again from there until the
//!   penalised loss falls by less than `(1e-5·σ)²` in an iteration or after 10,000;
//! - the estimate is `(−ω, 1/N1)ᵀ Y (−λ, 1/T1)`.
//!
//! The solver keeps `Aᵀ A x` and `A x` up to date at each step (they are convex
//! combinations of their previous values and one column) instead of recomputing them,
//! which gives the same iterates to rounding and cuts each iteration from `O(rows·k)` to
//! `O(rows + k)`. The placebo replications run on all available cores. Most of the time
//! goes on unit-weight solves that reach R's 10,000-iteration cap: 200 replications on a
//! 43 x 40 panel took about 0.6 s of CPU in release (0.4 s for Proposition 99).
//!
//! Standard errors are the placebo method (Algorithm 4 of the paper, R's
//! `placebo_se`): the treated areas are dropped, `N1` comparison areas are picked at random
//! as pseudo-treated, the estimator is re-run (weights re-estimated from the original ones
//! as starting values, penalties held at the original values), and
//! `se = sqrt((r−1)/r)·sd(placebo estimates)`. With one treated area the exact variant,
//! each comparison area in turn as if treated, is offered as [`Placebo::EachComparison`].
//! Intervals are normal: `estimate ± z·se`.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::panel::AreaPanel;

/// Why a synthetic design could not be estimated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntheticError {
    /// No treated area was named.
    #[error("synthetic designs: no treated area")]
    NoTreated,
    /// A treated area's index is not a row of the panel.
    #[error("synthetic designs: treated area {area} is not in the panel ({areas} areas)")]
    TreatedOutOfRange {
        /// The index given.
        area: usize,
        /// Areas in the panel.
        areas: usize,
    },
    /// A treated area was named twice.
    #[error("synthetic designs: treated area {area} named twice")]
    DuplicateTreated {
        /// The index given twice.
        area: usize,
    },
    /// Fewer than two comparison areas.
    #[error("synthetic designs: need at least two comparison areas, found {found}")]
    TooFewComparison {
        /// Comparison areas available.
        found: usize,
    },
    /// Fewer than two periods before launch (the noise level needs first differences).
    #[error("synthetic designs: need at least two periods before launch, found {found}")]
    TooFewPrePeriods {
        /// Pre-launch periods.
        found: usize,
    },
    /// No period on or after launch.
    #[error(
        "synthetic designs: no period on or after launch (launch index {launch}, {periods} periods)"
    )]
    NoPostPeriod {
        /// Index of the launch period.
        launch: usize,
        /// Periods in the panel.
        periods: usize,
    },
    /// The comparison areas' outcomes do not change before launch: the regularisation
    /// (scaled by their spread) is undefined.
    #[error("synthetic designs: the comparison areas' outcomes do not vary before launch")]
    NoVariation,
    /// The placebo method needs more comparison areas than treated ones.
    #[error(
        "placebo standard error: needs more comparison areas ({comparison}) than treated areas ({treated})"
    )]
    PlaceboTooFew {
        /// Comparison areas.
        comparison: usize,
        /// Treated areas.
        treated: usize,
    },
    /// "Each comparison area in turn" is defined for one treated area only.
    #[error(
        "placebo standard error: each comparison area in turn needs exactly one treated area, found {treated}"
    )]
    EachComparisonNeedsOne {
        /// Treated areas.
        treated: usize,
    },
    /// Fewer than two placebo replications.
    #[error("placebo standard error: needs at least two replications, got {replications}")]
    Replications {
        /// Replications asked for.
        replications: usize,
    },
    /// A placebo permutation is not a permutation of the comparison areas.
    #[error(
        "placebo standard error: permutation {index} is not a permutation of the {comparison} comparison areas"
    )]
    Permutation {
        /// Which permutation.
        index: usize,
        /// Comparison areas.
        comparison: usize,
    },
    /// Confidence level outside (0, 1).
    #[error("synthetic designs: confidence must be between 0 and 1, got {0}")]
    Confidence(f64),
    /// A result was not finite (outcomes too large to combine).
    #[error("synthetic designs: the {0} estimate is not a finite number")]
    NonFinite(&'static str),
}

/// The three estimators of `synthdid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticMethod {
    /// Synthetic difference-in-differences: unit and time weights, area fixed effect.
    Sdid,
    /// Synthetic control: unit weights (almost unpenalised, no intercept), no time weights.
    Sc,
    /// Difference-in-differences: uniform unit and time weights.
    Did,
}

impl SyntheticMethod {
    /// The name used in the JSON (`"sdid"`, `"sc"`, `"did"`).
    pub fn name(self) -> &'static str {
        match self {
            SyntheticMethod::Sdid => "sdid",
            SyntheticMethod::Sc => "sc",
            SyntheticMethod::Did => "did",
        }
    }
}

/// One estimator fitted on a panel in `synthdid`'s layout (comparison rows first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticFit {
    /// Which estimator.
    pub method: SyntheticMethod,
    /// Average effect on the treated areas over the post-launch periods.
    pub estimate: f64,
    /// Unit weights ω over the comparison rows (non-negative, summing to 1).
    pub omega: Vec<f64>,
    /// Time weights λ over the pre-launch periods (summing to 1; all zero for SC).
    pub lambda: Vec<f64>,
    /// Effect in each post-launch period (`synthdid_effect_curve`); their mean is `estimate`.
    pub effect_curve: Vec<f64>,
    /// σ: standard deviation of the comparison rows' pre-launch first differences.
    pub noise_level: f64,
    /// Ridge penalty of the unit weights.
    pub zeta_omega: f64,
    /// Ridge penalty of the time weights.
    pub zeta_lambda: f64,
    #[serde(skip)]
    opts: Opts,
}

/// How the placebo standard error picks its pseudo-treated areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Placebo {
    /// `replications` random permutations of the comparison areas (the last `N1` of each
    /// pseudo-treated), drawn with `ChaCha8Rng::seed_from_u64(seed)`: R's
    /// `vcov(method = "placebo")`. The default (200 replications).
    Random {
        /// Number of placebo estimates.
        replications: usize,
        /// Random seed.
        seed: u64,
    },
    /// With one treated area: each comparison area in turn as if treated (the others, in
    /// panel order, as its comparison): deterministic, `N0` replications.
    EachComparison,
}

/// Options of [`synthetic`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SyntheticOptions {
    /// Confidence level of the normal intervals (default 0.95).
    pub confidence: f64,
    /// Placebo scheme (default `Random { replications: 200, seed: 1 }`).
    pub placebo: Placebo,
}

impl Default for SyntheticOptions {
    fn default() -> Self {
        SyntheticOptions {
            confidence: 0.95,
            placebo: Placebo::Random {
                replications: 200,
                seed: 1,
            },
        }
    }
}

/// One estimator's effect with its placebo standard error and normal interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticEstimate {
    /// Which estimator.
    pub method: SyntheticMethod,
    /// Average effect on the treated areas after launch.
    pub estimate: f64,
    /// Placebo standard error.
    pub se: f64,
    /// Lower end of `estimate ± z·se`.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// A comparison area's weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitWeight {
    /// Row of the area in the panel.
    pub area: usize,
    /// Its weight.
    pub weight: f64,
}

/// A pre-launch period's weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeWeight {
    /// Column of the period in the panel.
    pub period: usize,
    /// Its weight.
    pub weight: f64,
}

/// The effect in one post-launch period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeriodEffect {
    /// Column of the period in the panel.
    pub period: usize,
    /// SDID effect in that period.
    pub estimate: f64,
}

/// Synthetic DiD, synthetic control and DiD on one panel (CONTRACT `did.synthetic`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticDesigns {
    /// SDID, SC and DiD, in that order.
    pub estimates: Vec<SyntheticEstimate>,
    /// Always `"placebo"`.
    pub se_method: &'static str,
    /// The placebo scheme used.
    pub placebo: Placebo,
    /// Placebo estimates behind each standard error.
    pub replications: usize,
    /// Seed of the random placebo draws (none for [`Placebo::EachComparison`]).
    pub seed: Option<u64>,
    /// SDID unit weights over the comparison areas, in panel order (summing to 1).
    pub unit_weights: Vec<UnitWeight>,
    /// SDID time weights over the pre-launch periods (summing to 1).
    pub time_weights: Vec<TimeWeight>,
    /// SDID effect in each post-launch period.
    pub effect_by_period: Vec<PeriodEffect>,
    /// The three fits in `synthdid` layout (SC unit weights are in `fits[1].omega`, over
    /// the comparison areas in panel order).
    #[serde(skip)]
    pub fits: Vec<SyntheticFit>,
}

/// Settings of one `synthdid_estimate` call (R's `opts`), reused by the placebo.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Opts {
    zeta_omega: f64,
    zeta_lambda: f64,
    omega_intercept: bool,
    lambda_intercept: bool,
    update_omega: bool,
    update_lambda: bool,
    min_decrease: f64,
    max_iter: usize,
}

/// R's `max.iter`.
const MAX_ITER: usize = 10_000;
/// R's `max.iter.pre.sparsify`.
const MAX_ITER_PRE_SPARSIFY: usize = 100;

/// Row-major matrix view used inside this module.
struct Matrix<'a> {
    rows: usize,
    cols: usize,
    v: &'a [f64],
}

impl Matrix<'_> {
    fn at(&self, r: usize, c: usize) -> f64 {
        self.v[r * self.cols + c]
    }
}

/// Fits one estimator on `y` laid out as `synthdid` expects: rows `0..n0` are the
/// comparison areas, the rest treated; columns `0..t0` are before launch, the rest after.
///
/// ```
/// use reoffending::stats::AreaPanel;
/// use reoffending::stats::synthetic::{fit, SyntheticMethod};
/// // Three comparison areas and one treated area, four periods, launch at period 2.
/// let y = AreaPanel::from_rows(&[
///     vec![1.0, 2.0, 3.0, 4.0],
///     vec![2.0, 2.5, 3.5, 4.0],
///     vec![0.0, 1.5, 2.0, 3.5],
///     vec![1.5, 2.0, 1.0, 2.0],
/// ]).unwrap();
/// let f = fit(&y, 3, 2, SyntheticMethod::Did).unwrap();
/// // DiD: treated change (1.5 - 1.75) minus comparison change (3.33 - 1.5).
/// assert!((f.estimate - (-0.25 - (10.0 / 3.0 - 1.5))).abs() < 1e-12);
/// let s = fit(&y, 3, 2, SyntheticMethod::Sdid).unwrap();
/// assert!((s.omega.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn fit(
    y: &AreaPanel,
    n0: usize,
    t0: usize,
    method: SyntheticMethod,
) -> Result<SyntheticFit, SyntheticError> {
    let (n, t) = (y.areas(), y.periods());
    check_shape(n, t, n0, t0)?;
    let values: Vec<f64> = (0..n).flat_map(|i| y.row(i).iter().copied()).collect();
    let noise = noise_level(&values, t, n0, t0);
    if !(noise > 0.0 && noise.is_finite()) {
        return Err(SyntheticError::NoVariation);
    }
    let (n1, t1) = ((n - n0) as f64, (t - t0) as f64);
    let base = Opts {
        zeta_omega: (n1 * t1).powf(0.25) * noise,
        zeta_lambda: 1e-6 * noise,
        omega_intercept: true,
        lambda_intercept: true,
        update_omega: true,
        update_lambda: true,
        min_decrease: 1e-5 * noise,
        max_iter: MAX_ITER,
    };
    let uniform_omega = vec![1.0 / n0 as f64; n0];
    let uniform_lambda = vec![1.0 / t0 as f64; t0];
    let (opts, omega0, lambda0) = match method {
        SyntheticMethod::Sdid => (base, uniform_omega, uniform_lambda),
        SyntheticMethod::Sc => (
            Opts {
                zeta_omega: 1e-6 * noise,
                omega_intercept: false,
                update_lambda: false,
                ..base
            },
            uniform_omega,
            vec![0.0; t0],
        ),
        SyntheticMethod::Did => (
            Opts {
                update_omega: false,
                update_lambda: false,
                ..base
            },
            uniform_omega,
            uniform_lambda,
        ),
    };
    let (estimate, omega, lambda) = estimate_with(&values, n, t, n0, t0, &opts, omega0, lambda0);
    if !estimate.is_finite() {
        return Err(SyntheticError::NonFinite(method.name()));
    }
    let effect_curve = effect_curve(&values, n, t, n0, t0, &omega, &lambda);
    Ok(SyntheticFit {
        method,
        estimate,
        omega,
        lambda,
        effect_curve,
        noise_level: noise,
        zeta_omega: opts.zeta_omega,
        zeta_lambda: opts.zeta_lambda,
        opts,
    })
}

/// Placebo estimates of `fit` (made on `y`, `n0`, `t0` as for [`fit`]), one per
/// permutation of the comparison rows `0..n0`: the rows are put in that order, the last
/// `N1` become pseudo-treated, the treated rows are dropped, and the estimator is re-run
/// as R's `placebo_se` does (starting from the fitted weights, penalties unchanged).
///
/// Passing explicit permutations lets a caller reproduce another program's draws.
pub fn placebo_estimates(
    y: &AreaPanel,
    n0: usize,
    t0: usize,
    fit: &SyntheticFit,
    permutations: &[Vec<usize>],
) -> Result<Vec<f64>, SyntheticError> {
    let (n, t) = (y.areas(), y.periods());
    check_shape(n, t, n0, t0)?;
    let n1 = n - n0;
    if n0 <= n1 {
        return Err(SyntheticError::PlaceboTooFew {
            comparison: n0,
            treated: n1,
        });
    }
    let mut seen = vec![false; n0];
    for (index, perm) in permutations.iter().enumerate() {
        seen.iter_mut().for_each(|s| *s = false);
        let valid = perm.len() == n0
            && perm
                .iter()
                .all(|&i| i < n0 && !std::mem::replace(&mut seen[i], true));
        if !valid {
            return Err(SyntheticError::Permutation {
                index,
                comparison: n0,
            });
        }
    }
    let p0 = n0 - n1;
    let one = |perm: &Vec<usize>| -> f64 {
        let mut values = Vec::with_capacity(n0 * t);
        for &i in perm {
            values.extend_from_slice(y.row(i));
        }
        let omega0 = sum_normalize(perm[..p0].iter().map(|&i| fit.omega[i]).collect());
        estimate_with(
            &values,
            n0,
            t,
            p0,
            t0,
            &fit.opts,
            omega0,
            fit.lambda.clone(),
        )
        .0
    };
    // The replications are independent: split them over the available cores, each chunk
    // in order, so the result does not depend on the number of threads.
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 16);
    let chunk = permutations.len().div_ceil(threads).max(1);
    let out: Vec<f64> = if threads == 1 || permutations.len() < 8 {
        permutations.iter().map(one).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = permutations
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<f64>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    if out.iter().any(|e| !e.is_finite()) {
        return Err(SyntheticError::NonFinite(fit.method.name()));
    }
    Ok(out)
}

/// `sqrt((r−1)/r)·sd(estimates)` (R's `placebo_se`); `None` with fewer than two.
///
/// ```
/// use reoffending::stats::synthetic::placebo_se;
/// assert!((placebo_se(&[1.0, 3.0]).unwrap() - 1.0).abs() < 1e-12);
/// ```
pub fn placebo_se(estimates: &[f64]) -> Option<f64> {
    let r = estimates.len();
    if r < 2 {
        return None;
    }
    let rf = r as f64;
    let mean = estimates.iter().sum::<f64>() / rf;
    let ss: f64 = estimates.iter().map(|e| (e - mean) * (e - mean)).sum();
    Some(((rf - 1.0) / rf).sqrt() * (ss / (rf - 1.0)).sqrt())
}

/// Synthetic DiD, synthetic control and DiD for the areas `treated` (rows of `panel`,
/// all launching at column `launch`), against every other area, with placebo standard
/// errors and normal intervals.
///
/// ```
/// use reoffending::stats::AreaPanel;
/// use reoffending::stats::synthetic::{synthetic, SyntheticOptions, SyntheticMethod};
/// // Five areas, six periods; area 2 launches at period 4 and drops by 3.
/// let rows: Vec<Vec<f64>> = (0..5)
///     .map(|i| (0..6).map(|t| {
///         let base = i as f64 + 0.5 * t as f64 + ((i * 7 + t * 3) % 5) as f64 * 0.1;
///         if i == 2 && t >= 4 { base - 3.0 } else { base }
///     }).collect())
///     .collect();
/// let panel = AreaPanel::from_rows(&rows).unwrap();
/// let r = synthetic(&panel, &[2], 4, &SyntheticOptions::default()).unwrap();
/// assert_eq!(r.estimates[0].method, SyntheticMethod::Sdid);
/// assert!((r.estimates[0].estimate + 3.0).abs() < 0.5);
/// let total: f64 = r.unit_weights.iter().map(|w| w.weight).sum();
/// assert!((total - 1.0).abs() < 1e-12);
/// ```
pub fn synthetic(
    panel: &AreaPanel,
    treated: &[usize],
    launch: usize,
    options: &SyntheticOptions,
) -> Result<SyntheticDesigns, SyntheticError> {
    let confidence = options.confidence;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(SyntheticError::Confidence(confidence));
    }
    let n = panel.areas();
    if treated.is_empty() {
        return Err(SyntheticError::NoTreated);
    }
    let mut is_treated = vec![false; n];
    for &a in treated {
        if a >= n {
            return Err(SyntheticError::TreatedOutOfRange { area: a, areas: n });
        }
        if std::mem::replace(&mut is_treated[a], true) {
            return Err(SyntheticError::DuplicateTreated { area: a });
        }
    }
    let controls: Vec<usize> = (0..n).filter(|&i| !is_treated[i]).collect();
    let (n0, n1) = (controls.len(), treated.len());
    let order: Vec<usize> = controls.iter().chain(treated).copied().collect();
    // Every index in `order` was checked to be a row of `panel`.
    let y = panel.select(&order);
    check_shape(n, panel.periods(), n0, launch)?;
    if n0 <= n1 {
        return Err(SyntheticError::PlaceboTooFew {
            comparison: n0,
            treated: n1,
        });
    }
    let (permutations, seed) = match options.placebo {
        Placebo::Random { replications, seed } => {
            if replications < 2 {
                return Err(SyntheticError::Replications { replications });
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let perms = (0..replications)
                .map(|_| {
                    let mut p: Vec<usize> = (0..n0).collect();
                    p.shuffle(&mut rng);
                    p
                })
                .collect::<Vec<_>>();
            (perms, Some(seed))
        }
        Placebo::EachComparison => {
            if n1 != 1 {
                return Err(SyntheticError::EachComparisonNeedsOne { treated: n1 });
            }
            let perms = (0..n0)
                .map(|j| (0..n0).filter(|&i| i != j).chain([j]).collect())
                .collect::<Vec<Vec<usize>>>();
            (perms, None)
        }
    };
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let mut fits = Vec::with_capacity(3);
    let mut estimates = Vec::with_capacity(3);
    for method in [
        SyntheticMethod::Sdid,
        SyntheticMethod::Sc,
        SyntheticMethod::Did,
    ] {
        let f = fit(&y, n0, launch, method)?;
        let placebo = placebo_estimates(&y, n0, launch, &f, &permutations)?;
        // At least two permutations: checked above (replications >= 2, or n0 > n1 = 1).
        let se = placebo_se(&placebo).ok_or(SyntheticError::Replications {
            replications: placebo.len(),
        })?;
        estimates.push(SyntheticEstimate {
            method,
            estimate: f.estimate,
            se,
            ci_low: f.estimate - z * se,
            ci_high: f.estimate + z * se,
        });
        fits.push(f);
    }
    let sdid = &fits[0];
    Ok(SyntheticDesigns {
        estimates,
        se_method: "placebo",
        placebo: options.placebo,
        replications: permutations.len(),
        seed,
        unit_weights: controls
            .iter()
            .zip(&sdid.omega)
            .map(|(&area, &weight)| UnitWeight { area, weight })
            .collect(),
        time_weights: sdid
            .lambda
            .iter()
            .enumerate()
            .map(|(period, &weight)| TimeWeight { period, weight })
            .collect(),
        effect_by_period: sdid
            .effect_curve
            .iter()
            .enumerate()
            .map(|(k, &estimate)| PeriodEffect {
                period: launch + k,
                estimate,
            })
            .collect(),
        fits,
    })
}

fn check_shape(n: usize, t: usize, n0: usize, t0: usize) -> Result<(), SyntheticError> {
    if n0 >= n {
        return Err(SyntheticError::NoTreated);
    }
    if n0 < 2 {
        return Err(SyntheticError::TooFewComparison { found: n0 });
    }
    if t0 >= t {
        return Err(SyntheticError::NoPostPeriod {
            launch: t0,
            periods: t,
        });
    }
    if t0 < 2 {
        return Err(SyntheticError::TooFewPrePeriods { found: t0 });
    }
    Ok(())
}

/// R's default `noise.level`: `sd(apply(Y[1:N0, 1:T0], 1, diff))`.
fn noise_level(values: &[f64], t: usize, n0: usize, t0: usize) -> f64 {
    let diffs: Vec<f64> = (0..n0)
        .flat_map(|i| (1..t0).map(move |s| values[i * t + s] - values[i * t + s - 1]))
        .collect();
    let m = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / m;
    (diffs.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / (m - 1.0)).sqrt()
}

/// R's `collapsed.form`: `(n0+1) x (t0+1)`, the treated rows and post columns averaged.
fn collapsed_form(values: &[f64], n: usize, t: usize, n0: usize, t0: usize) -> Vec<f64> {
    let (n1, t1) = ((n - n0) as f64, (t - t0) as f64);
    let c = t0 + 1;
    let mut out = vec![0.0; (n0 + 1) * c];
    for i in 0..n0 {
        let row = &values[i * t..(i + 1) * t];
        out[i * c..i * c + t0].copy_from_slice(&row[..t0]);
        out[i * c + t0] = row[t0..].iter().sum::<f64>() / t1;
    }
    for s in 0..t0 {
        out[n0 * c + s] = (n0..n).map(|i| values[i * t + s]).sum::<f64>() / n1;
    }
    out[n0 * c + t0] = (n0..n)
        .flat_map(|i| values[i * t + t0..(i + 1) * t].iter())
        .sum::<f64>()
        / (n1 * t1);
    out
}

/// R's `sparsify_function`: weights at or below a quarter of the largest set to zero,
/// the rest renormalised. The input sums to one, so its largest element is positive.
fn sparsify(mut v: Vec<f64>) -> Vec<f64> {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    v.iter_mut().for_each(|x| {
        if *x <= max / 4.0 {
            *x = 0.0;
        }
    });
    let s: f64 = v.iter().sum();
    v.iter_mut().for_each(|x| *x /= s);
    v
}

/// R's `sum_normalize`: divide by the sum, or uniform when the sum is zero.
fn sum_normalize(mut v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s != 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    } else {
        let u = 1.0 / v.len() as f64;
        v.iter_mut().for_each(|x| *x = u);
    }
    v
}

/// R's `sc.weight.fw`: Frank-Wolfe with exact line search for
/// `min ζ²·|x|² + |A x − b|²/rows` over the simplex, where `[A | b]` is `m` (`rows` x
/// `cols`, last column `b`), columns centred first when `intercept`.
fn sc_weight_fw(
    m: &Matrix<'_>,
    zeta: f64,
    intercept: bool,
    init: Vec<f64>,
    min_decrease: f64,
    max_iter: usize,
) -> Vec<f64> {
    let (rows, k) = (m.rows, m.cols - 1);
    // Column-major copy of A and b, centred.
    let mut a = vec![0.0; rows * k];
    let mut b = vec![0.0; rows];
    for j in 0..=k {
        let mean = if intercept {
            (0..rows).map(|r| m.at(r, j)).sum::<f64>() / rows as f64
        } else {
            0.0
        };
        for r in 0..rows {
            let v = m.at(r, j) - mean;
            if j < k {
                a[j * rows + r] = v;
            } else {
                b[r] = v;
            }
        }
    }
    let col = |j: usize| &a[j * rows..(j + 1) * rows];
    // Gram matrix AᵀA and Aᵀb.
    let mut gram = vec![0.0; k * k];
    for j in 0..k {
        for l in 0..=j {
            let g = dot(col(j), col(l));
            gram[j * k + l] = g;
            gram[l * k + j] = g;
        }
    }
    let atb: Vec<f64> = (0..k).map(|j| dot(col(j), &b)).collect();
    let zeta2 = zeta * zeta;
    let eta = rows as f64 * zeta2;
    let mut x = init;
    let mut ax = vec![0.0; rows];
    for (j, &xj) in x.iter().enumerate() {
        for (v, &aij) in ax.iter_mut().zip(col(j)) {
            *v += aij * xj;
        }
    }
    let mut gx: Vec<f64> = (0..k).map(|j| dot(&gram[j * k..(j + 1) * k], &x)).collect();
    let mut xx = dot(&x, &x);
    let mut half_grad = vec![0.0; k];
    let (mut prev, mut last) = (f64::NAN, f64::NAN);
    let mut t = 0;
    let tol = min_decrease * min_decrease;
    while t < max_iter && (t < 2 || prev - last > tol) {
        t += 1;
        // fw.step. The half gradient is `AᵀA x − Aᵀb + η x`; the direction is
        // `d = e_i − x`, so `gradᵀd = grad_i − gradᵀx` and `|d|² = |x|² − x_i² + (1 − x_i)²`.
        for (((g, &gxj), &bj), &xj) in half_grad.iter_mut().zip(&gx).zip(&atb).zip(&x) {
            *g = gxj - bj + eta * xj;
        }
        let (mut i, mut best) = (0, half_grad[0]);
        for (j, &g) in half_grad.iter().enumerate().skip(1) {
            if g < best {
                best = g;
                i = j;
            }
        }
        let grad_x = dot(&half_grad, &x);
        // R: `if (all(d.x == 0)) return(x)`, i.e. x is already the vertex e_i.
        let at_vertex = x[i] == 1.0 && x.iter().enumerate().all(|(j, &v)| j == i || v == 0.0);
        if !at_vertex {
            let ai = col(i);
            let d_err2 = sq_dist(ai, &ax);
            let xi = x[i];
            let num = -(best - grad_x);
            let den = d_err2 + eta * (xx - xi * xi + (1.0 - xi) * (1.0 - xi));
            let step = if den > 0.0 {
                num / den
            } else if num > 0.0 {
                1.0
            } else {
                0.0
            };
            let s = step.clamp(0.0, 1.0);
            // x + s·d, and AᵀA x, A x as the same convex combinations.
            let gi = &gram[i * k..(i + 1) * k];
            for (xj, (gxj, &gij)) in x.iter_mut().zip(gx.iter_mut().zip(gi)) {
                *xj -= s * *xj;
                *gxj += s * (gij - *gxj);
            }
            x[i] = xi + s * (1.0 - xi);
            xx = dot(&x, &x);
            for (v, &aij) in ax.iter_mut().zip(ai) {
                *v += s * (aij - *v);
            }
        }
        prev = last;
        last = zeta2 * xx + sq_dist(&ax, &b) / rows as f64;
    }
    x
}

/// The body of R's `synthdid_estimate` without covariates: weights (estimated from the
/// starting values `omega`, `lambda` when `opts` says so, else used as given) and the
/// estimate.
// Eight arguments: the panel and its shape, the options, and the two starting weights.
#[allow(clippy::too_many_arguments)]
fn estimate_with(
    values: &[f64],
    n: usize,
    t: usize,
    n0: usize,
    t0: usize,
    opts: &Opts,
    mut omega: Vec<f64>,
    mut lambda: Vec<f64>,
) -> (f64, Vec<f64>, Vec<f64>) {
    let yc = collapsed_form(values, n, t, n0, t0);
    if opts.update_lambda {
        let m = Matrix {
            rows: n0,
            cols: t0 + 1,
            v: &yc[..n0 * (t0 + 1)],
        };
        let run = |init, iters| {
            sc_weight_fw(
                &m,
                opts.zeta_lambda,
                opts.lambda_intercept,
                init,
                opts.min_decrease,
                iters,
            )
        };
        let first = run(lambda, MAX_ITER_PRE_SPARSIFY);
        lambda = run(sparsify(first), opts.max_iter);
    }
    if opts.update_omega {
        // t(Yc[, 1:T0]): t0 rows (periods) by n0 + 1 columns (areas, treated mean last).
        let c = t0 + 1;
        let tr: Vec<f64> = (0..t0)
            .flat_map(|s| (0..=n0).map(move |i| (i, s)))
            .map(|(i, s)| yc[i * c + s])
            .collect();
        let m = Matrix {
            rows: t0,
            cols: n0 + 1,
            v: &tr,
        };
        let run = |init, iters| {
            sc_weight_fw(
                &m,
                opts.zeta_omega,
                opts.omega_intercept,
                init,
                opts.min_decrease,
                iters,
            )
        };
        let first = run(omega, MAX_ITER_PRE_SPARSIFY);
        omega = run(sparsify(first), opts.max_iter);
    }
    let (n1, t1) = ((n - n0) as f64, (t - t0) as f64);
    let mut estimate = 0.0;
    for i in 0..n {
        let wi = if i < n0 { -omega[i] } else { 1.0 / n1 };
        let row = &values[i * t..(i + 1) * t];
        let inner: f64 = row[..t0]
            .iter()
            .zip(&lambda)
            .map(|(y, l)| -y * l)
            .sum::<f64>()
            + row[t0..].iter().sum::<f64>() / t1;
        estimate += wi * inner;
    }
    (estimate, omega, lambda)
}

/// R's `synthdid_effect_curve`.
fn effect_curve(
    values: &[f64],
    n: usize,
    t: usize,
    n0: usize,
    t0: usize,
    omega: &[f64],
    lambda: &[f64],
) -> Vec<f64> {
    let n1 = (n - n0) as f64;
    let tau_sc: Vec<f64> = (0..t)
        .map(|s| {
            (0..n)
                .map(|i| {
                    let w = if i < n0 { -omega[i] } else { 1.0 / n1 };
                    w * values[i * t + s]
                })
                .sum()
        })
        .collect();
    let pre: f64 = tau_sc[..t0].iter().zip(lambda).map(|(a, b)| a * b).sum();
    tau_sc[t0..].iter().map(|v| v - pre).collect()
}

/// `uᵀv` with four running sums (the solver's inner loop is bound by addition latency).
fn dot(u: &[f64], v: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (uc, vc) = (u.chunks_exact(4), v.chunks_exact(4));
    let tail: f64 = uc
        .remainder()
        .iter()
        .zip(vc.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (p, q) in uc.zip(vc) {
        for l in 0..4 {
            acc[l] += p[l] * q[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `|u − v|²` with four running sums.
fn sq_dist(u: &[f64], v: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (uc, vc) = (u.chunks_exact(4), v.chunks_exact(4));
    let tail: f64 = uc
        .remainder()
        .iter()
        .zip(vc.remainder())
        .map(|(p, q)| (p - q) * (p - q))
        .sum();
    for (p, q) in uc.zip(vc) {
        for l in 0..4 {
            let d = p[l] - q[l];
            acc[l] += d * d;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
