//! Time to event: Kaplan-Meier with Greenwood variance, and the log-rank test.
//!
//! Defaults match Python lifelines and R `survfit(conf.type = "log-log")`: the
//! log(-log) interval, the median as the first time the curve reaches 0.5 or below.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::errors::{ArgumentError, Result};
use super::proportion::z_upper;
use super::{DistributionError, SurvivalError};

/// How Kaplan-Meier intervals are formed from the Greenwood variance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KmInterval {
    /// log(-log) transform (lifelines; R `conf.type = "log-log"`). Default.
    #[default]
    LogLog,
    /// Log transform (R's default `conf.type = "log"`), capped at 1.
    Log,
    /// Plain (linear) interval, clipped to [0, 1].
    Plain,
}

impl std::str::FromStr for KmInterval {
    type Err = ArgumentError;
    fn from_str(s: &str) -> std::result::Result<Self, ArgumentError> {
        match s {
            "log-log" | "loglog" => Ok(KmInterval::LogLog),
            "log" => Ok(KmInterval::Log),
            "plain" => Ok(KmInterval::Plain),
            _ => Err(ArgumentError::new(
                "km_ci",
                format!("`{s}`: expected log-log, log or plain"),
            )),
        }
    }
}

/// One row of the Kaplan-Meier table: a time at which someone had the event or was censored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KmRow {
    /// Days since the index date.
    pub time: f64,
    /// People still followed just before `time`.
    pub at_risk: u64,
    /// Events at `time`.
    pub events: u64,
    /// Censored at `time`.
    pub censored: u64,
    /// Survival (no reoffence yet) just after `time`.
    pub survival: f64,
    /// Lower limit of the confidence interval.
    pub ci_low: f64,
    /// Upper limit of the confidence interval.
    pub ci_high: f64,
}

/// A fitted Kaplan-Meier curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeier {
    /// People followed.
    pub n: u64,
    /// Events (first proven reoffences) observed.
    pub events: u64,
    /// The step function.
    pub table: Vec<KmRow>,
    /// Interval method.
    pub interval: KmInterval,
    /// Confidence level.
    pub confidence: f64,
}

/// Survival at a chosen time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurvivalAt {
    /// Days since the index date.
    pub time: f64,
    /// Kaplan-Meier survival: the share not yet reoffended.
    pub survival: f64,
    /// Lower limit of the confidence interval.
    pub ci_low: f64,
    /// Upper limit of the confidence interval.
    pub ci_high: f64,
}

/// Events and censorings by day when every time is a whole number of days from +0 up to
/// [`MAX_DAY`] (each time's bits those of `day as f64`): `counts[day] = (events,
/// censorings)`. `None` otherwise (the times are then sorted).
fn whole_day_counts(time: &[f64], event: &[bool]) -> Option<Vec<(u64, u64)>> {
    let day = |t: f64| {
        let d = t as usize;
        (d <= MAX_DAY && (d as f64).to_bits() == t.to_bits()).then_some(d)
    };
    let mut top = 0;
    for &t in time {
        top = top.max(day(t)?);
    }
    let mut counts = vec![(0u64, 0u64); if time.is_empty() { 0 } else { top + 1 }];
    for (&t, &e) in time.iter().zip(event) {
        // Every time passed the check above.
        let c = &mut counts[day(t).unwrap_or_default()];
        if e {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    Some(counts)
}

/// The longest follow-up, in days, counted by day in [`KaplanMeier::fit`] (a century).
const MAX_DAY: usize = 36_600;

impl KaplanMeier {
    /// Fits the curve to follow-up times and event flags (`true` = event, else censored).
    ///
    /// ```
    /// use reoffending::stats::{KaplanMeier, KmInterval};
    /// let km = KaplanMeier::fit(&[1.0, 2.0, 2.0, 3.0], &[true, true, false, true], 0.95, KmInterval::LogLog).unwrap();
    /// assert_eq!(km.survival_at(2.0).survival, 0.5);
    /// ```
    pub fn fit(
        time: &[f64],
        event: &[bool],
        confidence: f64,
        interval: KmInterval,
    ) -> Result<KaplanMeier> {
        super::proportion::check_confidence(confidence)?;
        if time.len() != event.len() {
            return Err(SurvivalError::Lengths.into());
        }
        if time.iter().any(|t| !t.is_finite() || *t < 0.0) {
            return Err(SurvivalError::Times.into());
        }
        let z = z_upper((1.0 - confidence) / 2.0);
        let mut at_risk = time.len() as u64;
        let (mut s, mut var_sum) = (1.0f64, 0.0f64);
        let mut table = Vec::new();
        // One step of the curve: `d` events and `c` censorings at time `t`.
        let mut step = |t: f64, d: u64, c: u64| {
            if d > 0 {
                s *= (at_risk - d) as f64 / at_risk as f64;
                if at_risk > d {
                    var_sum += d as f64 / (at_risk as f64 * (at_risk - d) as f64);
                }
            }
            let (lo, hi) = bounds(s, var_sum, z, interval);
            table.push(KmRow {
                time: t,
                at_risk,
                events: d,
                censored: c,
                survival: s,
                ci_low: lo,
                ci_high: hi,
            });
            at_risk -= d + c;
        };
        if let Some(counts) = whole_day_counts(time, event) {
            // Whole days (the usual case): events and censorings counted by day, the days
            // in order; the same steps as the sort below gives.
            for (day, &(d, c)) in counts.iter().enumerate() {
                if d + c > 0 {
                    step(day as f64, d, c);
                }
            }
        } else {
            // Each observation's time and event, sorted by time: a step counts the events
            // and censorings at its time, in whatever order they come, so the pairs are
            // sorted themselves (in parallel, not through an index read at random).
            let mut sorted: Vec<(f64, bool)> =
                time.iter().copied().zip(event.iter().copied()).collect();
            {
                use rayon::slice::ParallelSliceMut;
                sorted.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            }
            let mut i = 0;
            while i < sorted.len() {
                let t = sorted[i].0;
                let (mut d, mut c) = (0u64, 0u64);
                while i < sorted.len() && sorted[i].0 == t {
                    if sorted[i].1 {
                        d += 1;
                    } else {
                        c += 1;
                    }
                    i += 1;
                }
                step(t, d, c);
            }
        }
        Ok(KaplanMeier {
            n: time.len() as u64,
            events: event.iter().filter(|e| **e).count() as u64,
            table,
            interval,
            confidence,
        })
    }

    /// Survival at `t` (the step function is right-continuous).
    pub fn survival_at(&self, t: f64) -> SurvivalAt {
        let k = self.table.partition_point(|r| r.time <= t);
        match k {
            0 => SurvivalAt {
                time: t,
                survival: 1.0,
                ci_low: 1.0,
                ci_high: 1.0,
            },
            _ => {
                let r = &self.table[k - 1];
                SurvivalAt {
                    time: t,
                    survival: r.survival,
                    ci_low: r.ci_low,
                    ci_high: r.ci_high,
                }
            }
        }
    }

    fn first_at_or_below(&self, q: f64, pick: impl Fn(&KmRow) -> f64) -> Option<f64> {
        self.table.iter().find(|r| pick(r) <= q).map(|r| r.time)
    }

    /// The median time to event (first time survival is 0.5 or below), if reached.
    pub fn median(&self) -> Option<f64> {
        self.first_at_or_below(0.5, |r| r.survival)
    }

    /// The median's interval, from where the interval curves cross 0.5 (lifelines).
    pub fn median_ci(&self) -> (Option<f64>, Option<f64>) {
        (
            self.first_at_or_below(0.5, |r| r.ci_low),
            self.first_at_or_below(0.5, |r| r.ci_high),
        )
    }

    /// Restricted mean survival time: the area under the curve from 0 to `tau`.
    pub fn rmst(&self, tau: f64) -> f64 {
        let (mut area, mut last_t, mut last_s) = (0.0, 0.0, 1.0);
        for r in &self.table {
            if r.time >= tau {
                break;
            }
            area += last_s * (r.time - last_t);
            last_t = r.time;
            last_s = r.survival;
        }
        area + last_s * (tau - last_t).max(0.0)
    }
}

fn bounds(s: f64, var_sum: f64, z: f64, interval: KmInterval) -> (f64, f64) {
    match interval {
        KmInterval::LogLog => {
            if s >= 1.0 || s <= 0.0 {
                // lifelines fills undefined bounds with 1 (before any event) and gives 0
                // once the curve reaches 0.
                return if s >= 1.0 { (1.0, 1.0) } else { (0.0, 0.0) };
            }
            let v = s.ln();
            let w = z * var_sum.sqrt() / v;
            (
                (-((-v).ln() - w).exp()).exp(),
                (-((-v).ln() + w).exp()).exp(),
            )
        }
        KmInterval::Log => {
            if s <= 0.0 {
                return (0.0, 0.0);
            }
            let w = z * var_sum.sqrt();
            ((s.ln() - w).exp(), (s.ln() + w).exp().min(1.0))
        }
        KmInterval::Plain => {
            let se = s * var_sum.sqrt();
            ((s - z * se).max(0.0), (s + z * se).min(1.0))
        }
    }
}

/// The log-rank test of equal survival across groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogRank {
    /// Chi-square statistic.
    pub statistic: f64,
    /// Degrees of freedom (groups - 1).
    pub df: u64,
    /// p-value.
    pub p_value: f64,
}

/// The rows `i` with `keep(i)` by time: each time (increasing, `total_cmp`; times equal
/// under `==`, +0 and -0, are one) with its events by group (`counts[g]`) and the rows
/// leaving the risk set by group (`counts[k + g]`). Whole-number counts: the same in any
/// order of the rows, so they are gathered in parallel blocks.
fn time_table(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    k: usize,
    keep: impl Fn(usize) -> bool + Sync,
) -> Vec<(f64, Vec<u64>)> {
    use rayon::prelude::*;
    type Cells = std::collections::HashMap<u64, Vec<u64>, foldhash::fast::FixedState>;
    let cells: Cells = (0..time.len())
        .into_par_iter()
        .with_min_len(1 << 16)
        .fold(Cells::default, |mut m, i| {
            if keep(i) {
                let c = m.entry(time[i].to_bits()).or_insert_with(|| vec![0; 2 * k]);
                c[group[i]] += u64::from(event[i]);
                c[k + group[i]] += 1;
            }
            m
        })
        .reduce(Cells::default, |mut a, b| {
            for (t, c) in b {
                let into = a.entry(t).or_insert_with(|| vec![0; 2 * k]);
                into.iter_mut().zip(&c).for_each(|(x, y)| *x += y);
            }
            a
        });
    let mut times: Vec<(f64, Vec<u64>)> = cells
        .into_iter()
        .map(|(t, c)| (f64::from_bits(t), c))
        .collect();
    times.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Times equal under `==` but not in their bits (+0 and -0) are one time.
    let mut merged: Vec<(f64, Vec<u64>)> = Vec::with_capacity(times.len());
    for (t, c) in times {
        match merged.last_mut() {
            Some((u, into)) if *u == t => into.iter_mut().zip(&c).for_each(|(x, y)| *x += y),
            _ => merged.push((t, c)),
        }
    }
    merged
}

/// The log-rank test for `k` groups (`group[i]` in `0..k`), optionally stratified
/// (`strata[i]`): observed minus expected events and their covariance are summed over
/// strata.
pub fn logrank(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    strata: Option<&[usize]>,
) -> Result<LogRank> {
    let k = group.iter().copied().max().map_or(0, |m| m + 1);
    if k < 2 {
        return Err(SurvivalError::OneGroup.into());
    }
    let n_strata = strata.map_or(1, |s| s.iter().copied().max().map_or(1, |m| m + 1));
    let mut o_minus_e = vec![0.0f64; k];
    let mut cov = vec![vec![0.0f64; k]; k];
    for st in 0..n_strata {
        // The stratum's events and leavers per time and group, the times in increasing
        // order: counts (exact in any order) gathered in parallel, then the times sorted.
        let times = time_table(time, event, group, k, |i| strata.is_none_or(|s| s[i] == st));
        let mut at_risk = vec![0u64; k];
        for (_, c) in &times {
            for g in 0..k {
                at_risk[g] += c[k + g];
            }
        }
        for (_, c) in &times {
            let (d, leaving) = c.split_at(k);
            let dt: u64 = d.iter().sum();
            let nt: u64 = at_risk.iter().sum();
            if dt > 0 && nt > 0 {
                let (dtf, ntf) = (dt as f64, nt as f64);
                let factor = if nt > 1 {
                    dtf * (ntf - dtf) / (ntf * ntf * (ntf - 1.0))
                } else {
                    0.0
                };
                for g in 0..k {
                    let ng = at_risk[g] as f64;
                    o_minus_e[g] += d[g] as f64 - dtf * ng / ntf;
                    for h in 0..k {
                        let nh = at_risk[h] as f64;
                        let delta = if g == h { ntf * ng } else { 0.0 };
                        cov[g][h] += factor * (delta - ng * nh);
                    }
                }
            }
            for g in 0..k {
                at_risk[g] -= leaving[g];
            }
        }
    }
    // Statistic: (O-E)' V^- (O-E) on the first k-1 groups.
    let m = k - 1;
    let a: Vec<Vec<f64>> = (0..m).map(|g| cov[g][..m].to_vec()).collect();
    let b: Vec<f64> = o_minus_e[..m].to_vec();
    let x = super::linalg::solve(&a, &b).ok_or(SurvivalError::NoEvents)?;
    let stat: f64 = b.iter().zip(&x).map(|(u, v)| u * v).sum();
    let chi = ChiSquared::new(m as f64).map_err(|e| DistributionError::new("log-rank test", e))?;
    Ok(LogRank {
        statistic: stat,
        df: m as u64,
        p_value: chi.sf(stat),
    })
}
