//! Staggered launches on an area x period panel: Callaway and Sant'Anna (2021), with the
//! static two-way fixed effects estimate beside it.
//!
//! Areas launch in different periods (cohort `g` = the panel column of the launch) or
//! never. For each cohort `g` and period `t` (every column but the first),
//! `ATT(g,t)` compares the change in the cohort's mean outcome with the change in the
//! never-treated areas' mean between a base period and `t`: the period before launch
//! (`g − 1`) for `t ≥ g`, and the period before `t` for `t < g` (R `did`'s default
//! `base_period = "varying"`, control group `"nevertreated"`). Without covariates this is
//! what R `did`/Python `csdid` compute by outcome regression, inverse probability weighting
//! or doubly robust estimation alike.
//!
//! Standard errors come from the analytic influence function with one observation per
//! area (R `did` with `bstrap = FALSE`): for a cell, area `i` of cohort `g` contributes
//! `N (ΔY_i − mean_g ΔY) / N_g`, a never-treated area `−N (ΔY_i − mean_∞ ΔY) / N_∞`,
//! others 0, and `se = sqrt(Σ ψ_i²) / N`. The aggregates follow `aggte`:
//!
//! - `simple`: post-launch cells (`t ≥ g`) averaged with weights proportional to cohort
//!   size, with the influence function of the estimated weights added (`wif`);
//! - `dynamic` (event study): for each `e = t − g`, cells with that relative period
//!   averaged the same way; the overall dynamic effect is the plain mean over `e ≥ 0`.
//!
//! Intervals are pointwise normal (`estimate ± z·se`); R's default simultaneous band
//! (bootstrap) is not computed. Relative periods count panel columns: label periods
//! consecutively (every month or quarter present).
//!
//! The two-way fixed effects estimate is OLS of the outcome on area and period dummies and
//! the launched indicator, its standard error clustered by area (CR1,
//! `G/(G−1)·(n−1)/(n−K)`), interval from Student's t with `G − 1` degrees of freedom. With
//! effects that grow after launch it is biased (Goodman-Bacon 2021): it is shown beside
//! Callaway and Sant'Anna's estimate, not instead of it.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::panel::AreaPanel;

/// Why Callaway and Sant'Anna's estimator could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StaggeredError {
    /// One launch entry per area is needed.
    #[error("staggered launches: {launches} launch entries for {areas} areas")]
    Lengths {
        /// Areas in the panel.
        areas: usize,
        /// Launch entries given.
        launches: usize,
    },
    /// A launch column outside the panel.
    #[error(
        "staggered launches: area {area} launches at column {launch}, but the panel has {periods} periods"
    )]
    LaunchOutOfRange {
        /// Area (row).
        area: usize,
        /// Launch column given.
        launch: usize,
        /// Periods in the panel.
        periods: usize,
    },
    /// An area launching in the first period has no pre-launch period.
    #[error(
        "staggered launches: area {area} launches in the first period, so it has no period before launch"
    )]
    LaunchInFirstPeriod {
        /// Area (row).
        area: usize,
    },
    /// No never-treated area to compare with.
    #[error("staggered launches: no never-treated area to compare with")]
    NoNeverTreated,
    /// No area launches.
    #[error("staggered launches: no area launches")]
    NoTreated,
    /// Confidence level outside (0, 1).
    #[error("staggered launches: confidence must be between 0 and 1, got {0}")]
    Confidence(f64),
}

/// One `ATT(g,t)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTimeEffect {
    /// Launch column of the cohort.
    pub group: usize,
    /// Column of the period.
    pub period: usize,
    /// `period − group`.
    pub relative_period: i64,
    /// The base period (column) the change is measured from.
    pub base_period: usize,
    /// Whether `period ≥ group`.
    pub post: bool,
    /// The effect.
    pub estimate: f64,
    /// Analytic standard error (none when it is zero: no variation).
    pub se: Option<f64>,
    /// Lower end of the pointwise normal interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
}

/// The event-study effect at one relative period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTimeEffect {
    /// Periods since launch (negative before).
    pub relative_period: i64,
    /// Cohort-size-weighted mean of the `ATT(g,t)` with `t − g` equal to it.
    pub estimate: f64,
    /// Analytic standard error (including the weights' estimation).
    pub se: Option<f64>,
    /// Lower end of the pointwise normal interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
}

/// An aggregate effect with its interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    /// The effect.
    pub estimate: f64,
    /// Standard error.
    pub se: Option<f64>,
    /// Lower end of the interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
}

/// Static two-way fixed effects, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwoWayFixedEffects {
    /// Coefficient of the launched indicator.
    pub estimate: f64,
    /// Standard error clustered by area (CR1).
    pub se: Option<f64>,
    /// Lower end of the t interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
    /// Degrees of freedom of the t interval (`clusters − 1`).
    pub df: usize,
    /// Areas (clusters).
    pub clusters: usize,
}

/// A launch cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cohort {
    /// Launch column.
    pub launch: usize,
    /// Areas in the cohort.
    pub areas: usize,
}

/// Callaway and Sant'Anna's estimates (CONTRACT `did.staggered`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staggered {
    /// `"callaway_santanna"`.
    pub method: &'static str,
    /// `"never_treated"`.
    pub control_group: &'static str,
    /// `"varying"`.
    pub base_period: &'static str,
    /// Overall effect: `simple` aggregation (post-launch cells weighted by cohort size).
    pub att: f64,
    /// Its standard error.
    pub se: Option<f64>,
    /// Lower end of its normal interval.
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
    /// Mean of the event-study effects over relative periods `≥ 0`.
    pub dynamic: Aggregate,
    /// Event study, by relative period (including before launch).
    pub by_time: Vec<EventTimeEffect>,
    /// Every `ATT(g,t)`, by cohort then period.
    pub group_time: Vec<GroupTimeEffect>,
    /// Static two-way fixed effects on the same panel.
    pub twfe: TwoWayFixedEffects,
    /// Launch cohorts.
    pub cohorts: Vec<Cohort>,
    /// Never-treated areas.
    pub never_treated: usize,
    /// Confidence level of the intervals.
    pub confidence: f64,
}

/// Callaway and Sant'Anna (2021) for areas launching in different periods: `launch[i]` is
/// the panel column in which area `i` launches, or `None` if it never does.
///
/// ```
/// use reoffending::stats::AreaPanel;
/// use reoffending::stats::staggered::callaway_santanna;
/// // Two never-treated areas and two cohorts (launching at columns 2 and 3), four periods;
/// // every area shares a trend, launched areas drop by 1.
/// let trend = [0.0, 1.0, 2.5, 3.0];
/// let launch = [None, None, Some(2), Some(3)];
/// let level = [0.0, 2.0, 1.0, 5.0];
/// let rows: Vec<Vec<f64>> = (0..4).map(|i| (0..4).map(|t| {
///     let on = launch[i].is_some_and(|g| t >= g);
///     level[i] + trend[t] + if on { -1.0 } else { 0.0 } + 0.01 * ((i * t) % 3) as f64
/// }).collect()).collect();
/// let panel = AreaPanel::from_rows(&rows).unwrap();
/// let cs = callaway_santanna(&panel, &launch, 0.95).unwrap();
/// assert!((cs.att + 1.0).abs() < 0.05);
/// assert_eq!(cs.group_time.len(), 6);
/// ```
pub fn callaway_santanna(
    panel: &AreaPanel,
    launch: &[Option<usize>],
    confidence: f64,
) -> Result<Staggered, StaggeredError> {
    let (n, t) = (panel.areas(), panel.periods());
    if launch.len() != n {
        return Err(StaggeredError::Lengths {
            areas: n,
            launches: launch.len(),
        });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(StaggeredError::Confidence(confidence));
    }
    for (area, g) in launch.iter().enumerate() {
        match *g {
            Some(g) if g >= t => {
                return Err(StaggeredError::LaunchOutOfRange {
                    area,
                    launch: g,
                    periods: t,
                });
            }
            Some(0) => return Err(StaggeredError::LaunchInFirstPeriod { area }),
            _ => {}
        }
    }
    let never: Vec<usize> = (0..n).filter(|&i| launch[i].is_none()).collect();
    if never.is_empty() {
        return Err(StaggeredError::NoNeverTreated);
    }
    let mut groups: Vec<usize> = launch.iter().flatten().copied().collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.is_empty() {
        return Err(StaggeredError::NoTreated);
    }
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let nf = n as f64;
    let se_of = |psi: &[f64]| -> Option<f64> {
        let se = psi.iter().map(|v| v * v).sum::<f64>().sqrt() / nf;
        (se > 0.0 && se.is_finite()).then_some(se)
    };
    let interval = |est: f64, se: Option<f64>| (se.map(|s| est - z * s), se.map(|s| est + z * s));

    // ATT(g,t) and influence functions (one value per area).
    let members: Vec<Vec<usize>> = groups
        .iter()
        .map(|&g| (0..n).filter(|&i| launch[i] == Some(g)).collect())
        .collect();
    let mut cells = Vec::new();
    let mut psis: Vec<Vec<f64>> = Vec::new();
    let change = |i: usize, base: usize, s: usize| panel.get(i, s) - panel.get(i, base);
    for (gi, &g) in groups.iter().enumerate() {
        let treated = &members[gi];
        for s in 1..t {
            let base = if s >= g { g - 1 } else { s - 1 };
            let mean = |units: &[usize]| {
                units.iter().map(|&i| change(i, base, s)).sum::<f64>() / units.len() as f64
            };
            let (m1, m0) = (mean(treated), mean(&never));
            let estimate = m1 - m0;
            let mut psi = vec![0.0; n];
            let (n1, n0) = (treated.len() as f64, never.len() as f64);
            for &i in treated {
                psi[i] = nf * (change(i, base, s) - m1) / n1;
            }
            for &i in &never {
                psi[i] = -nf * (change(i, base, s) - m0) / n0;
            }
            let se = se_of(&psi);
            let (ci_low, ci_high) = interval(estimate, se);
            cells.push(GroupTimeEffect {
                group: g,
                period: s,
                relative_period: s as i64 - g as i64,
                base_period: base,
                post: s >= g,
                estimate,
                se,
                ci_low,
                ci_high,
            });
            psis.push(psi);
        }
    }

    // Cohort shares P(G = g) and each area's cohort.
    let share: Vec<f64> = members.iter().map(|m| m.len() as f64 / nf).collect();
    let cohort_of = |g: usize| groups.iter().position(|&x| x == g);
    let area_cohort: Vec<Option<usize>> = launch.iter().map(|g| g.and_then(cohort_of)).collect();
    let cell_cohort: Vec<usize> = cells
        .iter()
        .map(|c| cohort_of(c.group).unwrap_or(0))
        .collect();

    // aggte: a weighted mean of the cells `keep` (weights ∝ cohort share) and its
    // influence function, including the weights' (R's `wif`).
    let aggregate = |keep: &[usize]| -> (f64, Vec<f64>) {
        let total: f64 = keep.iter().map(|&k| share[cell_cohort[k]]).sum();
        let estimate: f64 = keep
            .iter()
            .map(|&k| cells[k].estimate * share[cell_cohort[k]])
            .sum::<f64>()
            / total;
        let mut psi = vec![0.0; n];
        for (i, p) in psi.iter_mut().enumerate() {
            // wif: ((1{G_i = g_k} − p_k)/Σp) − (Σ_j (1{G_i = g_j} − p_j))·p_k/(Σp)²
            let dev = |k: usize| {
                let c = cell_cohort[k];
                f64::from(u8::from(area_cohort[i] == Some(c))) - share[c]
            };
            let row_sum: f64 = keep.iter().map(|&k| dev(k)).sum();
            for &k in keep {
                let pk = share[cell_cohort[k]];
                let w = pk / total;
                let wif = dev(k) / total - row_sum * pk / (total * total);
                *p += psis[k][i] * w + wif * cells[k].estimate;
            }
        }
        (estimate, psi)
    };

    let post: Vec<usize> = (0..cells.len()).filter(|&k| cells[k].post).collect();
    let (att, att_psi) = aggregate(&post);
    let se = se_of(&att_psi);
    let (ci_low, ci_high) = interval(att, se);

    let mut relative: Vec<i64> = cells.iter().map(|c| c.relative_period).collect();
    relative.sort_unstable();
    relative.dedup();
    let mut by_time = Vec::with_capacity(relative.len());
    let mut dyn_sum = 0.0;
    let mut dyn_psi = vec![0.0; n];
    let mut dyn_count = 0usize;
    for &e in &relative {
        let keep: Vec<usize> = (0..cells.len())
            .filter(|&k| cells[k].relative_period == e)
            .collect();
        let (estimate, psi) = aggregate(&keep);
        let se = se_of(&psi);
        let (ci_low, ci_high) = interval(estimate, se);
        if e >= 0 {
            dyn_sum += estimate;
            dyn_count += 1;
            dyn_psi.iter_mut().zip(&psi).for_each(|(d, p)| *d += p);
        }
        by_time.push(EventTimeEffect {
            relative_period: e,
            estimate,
            se,
            ci_low,
            ci_high,
        });
    }
    // Every cohort has a post-launch cell (its launch column is in the panel), so
    // `dyn_count >= 1`.
    let m = dyn_count.max(1) as f64;
    let dyn_est = dyn_sum / m;
    dyn_psi.iter_mut().for_each(|d| *d /= m);
    let dyn_se = se_of(&dyn_psi);
    let (dyn_lo, dyn_hi) = interval(dyn_est, dyn_se);

    Ok(Staggered {
        method: "callaway_santanna",
        control_group: "never_treated",
        base_period: "varying",
        att,
        se,
        ci_low,
        ci_high,
        dynamic: Aggregate {
            estimate: dyn_est,
            se: dyn_se,
            ci_low: dyn_lo,
            ci_high: dyn_hi,
        },
        by_time,
        group_time: cells,
        twfe: two_way_fixed_effects(panel, launch, confidence),
        cohorts: groups
            .iter()
            .zip(&members)
            .map(|(&launch, m)| Cohort {
                launch,
                areas: m.len(),
            })
            .collect(),
        never_treated: never.len(),
        confidence,
    })
}

/// Static two-way fixed effects on a balanced panel by the within transformation (equal
/// to OLS with area and period dummies), clustered by area. `launch` has been checked.
fn two_way_fixed_effects(
    panel: &AreaPanel,
    launch: &[Option<usize>],
    confidence: f64,
) -> TwoWayFixedEffects {
    let (n, t) = (panel.areas(), panel.periods());
    let d = |i: usize, s: usize| f64::from(u8::from(launch[i].is_some_and(|g| s >= g)));
    let demean = |f: &dyn Fn(usize, usize) -> f64| -> Vec<f64> {
        let row: Vec<f64> = (0..n)
            .map(|i| (0..t).map(|s| f(i, s)).sum::<f64>() / t as f64)
            .collect();
        let col: Vec<f64> = (0..t)
            .map(|s| (0..n).map(|i| f(i, s)).sum::<f64>() / n as f64)
            .collect();
        let all = row.iter().sum::<f64>() / n as f64;
        (0..n * t)
            .map(|k| {
                let (i, s) = (k / t, k % t);
                f(i, s) - row[i] - col[s] + all
            })
            .collect()
    };
    let dt = demean(&d);
    let yt = demean(&|i, s| panel.get(i, s));
    let sdd: f64 = dt.iter().map(|v| v * v).sum();
    let estimate = dt.iter().zip(&yt).map(|(a, b)| a * b).sum::<f64>() / sdd;
    // Cluster-robust (CR1) variance: Σ_areas (Σ_t d̃ e)² / (Σ d̃²)², times
    // G/(G−1)·(nT−1)/(nT−K) with K = n + (t − 1) + 1 parameters.
    let meat: f64 = (0..n)
        .map(|i| {
            let s: f64 = (0..t)
                .map(|s| {
                    let k = i * t + s;
                    dt[k] * (yt[k] - estimate * dt[k])
                })
                .sum();
            s * s
        })
        .sum();
    let (g, obs, k) = (n as f64, (n * t) as f64, (n + t) as f64);
    let se = if n > 1 && obs > k && sdd > 0.0 {
        let v = meat / (sdd * sdd) * g / (g - 1.0) * (obs - 1.0) / (obs - k);
        Some(v.sqrt()).filter(|s| *s > 0.0 && s.is_finite())
    } else {
        None
    };
    let df = n.saturating_sub(1);
    let q = StudentsT::new(0.0, 1.0, df as f64)
        .ok()
        .map(|dist| dist.inverse_cdf(1.0 - (1.0 - confidence) / 2.0));
    let (ci_low, ci_high) = match (se, q) {
        (Some(se), Some(q)) => (Some(estimate - q * se), Some(estimate + q * se)),
        _ => (None, None),
    };
    TwoWayFixedEffects {
        estimate,
        se,
        ci_low,
        ci_high,
        df,
        clusters: n,
    }
}
