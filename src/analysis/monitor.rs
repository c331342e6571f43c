//! Monitoring a pilot while it runs: cohorts by quarter of index date, with the 12-month
//! rate estimated by Kaplan-Meier from partial follow-up, rates at equal follow-up (3, 6, 9
//! and 12 months, each once everyone in the quarter has that much), and for quarters not
//! yet followed for a year a labelled projection that borrows the rest of the curve from a
//! reference group.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::People;
use crate::data::dates::quarter_label;
use crate::error::Result;
use crate::stats::{CiMethod, KaplanMeier, KmInterval, proportion_ci, z_upper};

/// Options of [`Monitor`]'s [`compute`](crate::Analysis::compute), and the evaluation
/// file's `[monitor]` table (read straight into this struct: `projection_reference`; the
/// confidence level is the comparisons', set by
/// [`Config::monitor_options`](crate::Config::monitor_options)). Every field has a documented
/// default, defined once in the [`Default`] impl.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorOptions {
    /// Confidence level. Default 0.95.
    #[serde(skip)]
    pub confidence: f64,
    /// The cohort whose Kaplan-Meier curve supplies the rest of a young quarter's curve in
    /// projections (e.g. `comparison`). Default none: earlier quarters of the same cohort.
    /// In the evaluation file, `[monitor] projection_reference`.
    #[serde(rename = "projection_reference")]
    pub reference: Option<String>,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions {
            confidence: 0.95,
            reference: None,
        }
    }
}

/// A rate at a day of follow-up that everyone in the group has reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateAt {
    /// Share with a first proven reoffence by that day.
    pub rate: f64,
    /// Wilson interval.
    pub ci_low: f64,
    /// Wilson interval.
    pub ci_high: f64,
}

/// One cohort and quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorGroup {
    /// Cohort label, as in the cohort table.
    pub cohort: String,
    /// Quarter of the index date, e.g. `2021-Q3`.
    pub period: String,
    /// People indexed in the quarter.
    pub people: u64,
    /// Of whom with the full follow-up and waiting period.
    pub full_follow_up: u64,
    /// First proven reoffences seen so far.
    pub events_so_far: u64,
    /// One minus Kaplan-Meier survival at the follow-up end (null if no one is observed
    /// that long).
    pub estimate_12m: Option<f64>,
    /// log(-log) interval.
    pub ci_low: Option<f64>,
    /// log(-log) interval.
    pub ci_high: Option<f64>,
    /// The 12-month rate, when everyone in the group is in the measure.
    pub observed_rate: Option<f64>,
    /// Rates at equal follow-up, keyed by day (91, 182, 273 and the follow-up end), each
    /// only once everyone in the group has been followed that long.
    pub rate_at: BTreeMap<u32, RateAt>,
    /// For a group not yet followed for the full period: the projected 12-month rate,
    /// `1 - S_q(t) x S_ref(365) / S_ref(t)`, where t is the latest of the days 91, 182 and
    /// 273 that everyone in the group has reached (so `S_q(t)` is one minus the group's
    /// `rate_at` that day); null when no one has reached 91 days, or no reference reaches
    /// the follow-up end.
    pub projected_12m: Option<f64>,
    /// Delta-method log(-log) interval of the projection.
    pub projected_low: Option<f64>,
    /// Delta-method log(-log) interval of the projection.
    pub projected_high: Option<f64>,
    /// What the projection rests on, and its assumption, in words.
    pub projection_basis: Option<String>,
    /// The day t the projection starts from (one of the `rate_at` days).
    pub projection_day: Option<u32>,
    /// The reference's share still not reoffended at the follow-up end among those not
    /// reoffended by day t, `S_ref(f) / S_ref(t)`.
    pub projection_share: Option<f64>,
    /// What that share rests on: the reference's first reoffences after day t and up to the
    /// follow-up end, and the people it followed past day t without one by then (counts the
    /// disclosure gate checks; not published).
    #[serde(skip)]
    pub projection_counts: Option<(u64, u64)>,
}

/// The reference curve's first reoffences in `(t, f]` and the people at risk after `t` who
/// had none by `f`.
fn reference_counts(reference: &KaplanMeier, t: f64, f: f64) -> (u64, u64) {
    let after: Vec<&crate::stats::KmRow> = reference.table.iter().filter(|r| r.time > t).collect();
    let at_risk = after.first().map_or(0, |r| r.at_risk);
    let events: u64 = after.iter().filter(|r| r.time <= f).map(|r| r.events).sum();
    (events, at_risk.saturating_sub(events))
}

/// The projected rate `1 - S_q(t) S_ref(f) / S_ref(t)` with a delta-method log(-log)
/// interval (the Greenwood variances of log S_q(t) and of the reference's log conditional
/// survival from t to f, added as independent): `(rate, low, high, S_q(t), conditional)`.
fn project(
    km: &KaplanMeier,
    reference: &KaplanMeier,
    t: f64,
    f: f64,
    confidence: f64,
) -> Option<(f64, f64, f64, f64, f64)> {
    let sq = km.survival_at(t).survival;
    let (rt, rf) = (
        reference.survival_at(t).survival,
        reference.survival_at(f).survival,
    );
    if !(rt > 0.0) {
        return None;
    }
    let cond = rf / rt;
    let s = sq * cond;
    if !(s > 0.0 && s < 1.0) {
        return Some((1.0 - s, 1.0 - s, 1.0 - s, sq, cond));
    }
    let v = greenwood(km, t) + (greenwood(reference, f) - greenwood(reference, t));
    let se = v.sqrt() / s.ln().abs();
    let theta = (-s.ln()).ln();
    let z = z_upper((1.0 - confidence) / 2.0);
    let (s_low, s_high) = (
        (-(theta + z * se).exp()).exp(),
        (-(theta - z * se).exp()).exp(),
    );
    Some((1.0 - s, 1.0 - s_high, 1.0 - s_low, sq, cond))
}

/// Greenwood's sum `Σ d / (n (n - d))` over event times up to `t` (the variance of log S).
fn greenwood(km: &KaplanMeier, t: f64) -> f64 {
    km.table
        .iter()
        .take_while(|r| r.time <= t)
        .filter(|r| r.events > 0 && r.at_risk > r.events)
        .map(|r| r.events as f64 / (r.at_risk as f64 * (r.at_risk - r.events) as f64))
        .sum()
}

/// Times and events of people for Kaplan-Meier (partial follow-up; not yet observable
/// people left out).
fn survival_data(members: &[usize], outcomes: &crate::measure::Outcomes) -> (Vec<f64>, Vec<bool>) {
    let (mut t, mut e) = (Vec::new(), Vec::new());
    for &i in members {
        if outcomes.event[i] {
            t.push(outcomes.days_to_first[i] as f64);
            e.push(true);
        } else if outcomes.observed_days[i] > 0 {
            t.push(outcomes.observed_days[i] as f64);
            e.push(false);
        }
    }
    (t, e)
}

/// The interim view: one row per cohort and quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monitor {
    /// Follow-up days.
    pub follow_up_days: u32,
    /// Confidence level of every interval.
    pub confidence: f64,
    /// Rows, by cohort then period.
    pub groups: Vec<MonitorGroup>,
}

/// Each person's cohort and quarter as ranks of their labels among all labels present: two
/// people compare by ranks exactly as by labels (the cohort's own, "" for none; `2021-Q1`).
struct Ranks {
    cohort: Vec<u32>,
    quarter: Vec<u32>,
    cohort_labels: Vec<String>,
    quarter_labels: Vec<String>,
}

impl Ranks {
    fn new(people: &People) -> Ranks {
        use rayon::prelude::*;
        // Distinct labels sorted; `rank_of[k]` is the rank of the `k`-th raw label.
        fn ranked(raw: Vec<String>) -> (Vec<u32>, Vec<String>) {
            let mut labels = raw.clone();
            labels.sort();
            labels.dedup();
            let rank_of = raw
                .iter()
                .map(|l| labels.binary_search(l).map_or(0, |r| r as u32))
                .collect();
            (rank_of, labels)
        }
        let cohort = &people.cohort;
        // The cohort's codes, MISSING as one more code.
        let none = cohort.levels.len();
        let mut raw: Vec<String> = cohort.levels.clone();
        raw.push(String::new());
        let (cohort_rank, cohort_labels) = ranked(raw);
        let cohort_ranks = cohort
            .codes
            .iter()
            .map(|&c| {
                let k = if c == crate::data::MISSING {
                    none
                } else {
                    c as usize
                };
                cohort_rank.get(k).copied().unwrap_or(0)
            })
            .collect();
        // Quarters counted from year 0, their labels written once each.
        let quarter_no = |day: i32| {
            use chrono::Datelike;
            let d = crate::data::dates::to_naive(day);
            i64::from(d.year()) * 4 + i64::from(d.month0() / 3)
        };
        let numbers: Vec<i64> = people
            .index_day
            .par_iter()
            .map(|&d| quarter_no(d))
            .collect();
        // Each quarter with the index day of its last person (in the people's order): the
        // blocks' maps in parallel, merged in block order, later days replacing earlier.
        let mut distinct: Vec<(i64, i32)> = numbers
            .par_chunks(1 << 16)
            .zip(people.index_day.par_chunks(1 << 16))
            .map(|(qs, ds)| {
                qs.iter()
                    .zip(ds)
                    .map(|(&q, &d)| (q, d))
                    .collect::<std::collections::BTreeMap<i64, i32>>()
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(std::collections::BTreeMap::new(), |mut all, block| {
                all.extend(block);
                all
            })
            .into_iter()
            .collect();
        distinct.sort_unstable();
        let (quarter_rank, quarter_labels) =
            ranked(distinct.iter().map(|&(_, d)| quarter_label(d)).collect());
        let quarter_ranks = numbers
            .par_iter()
            .map(|q| {
                distinct
                    .binary_search_by_key(q, |&(x, _)| x)
                    .map_or(0, |k| quarter_rank[k])
            })
            .collect();
        Ranks {
            cohort: cohort_ranks,
            quarter: quarter_ranks,
            cohort_labels,
            quarter_labels,
        }
    }
}

impl Monitor {
    /// Builds the interim view.
    // Over 80 lines: one pass over the cohorts' quarters with their rates at equal follow-up and
    // projections; the intermediate tallies are shared by every output field.
    pub fn of(
        people: &People,
        outcomes: &crate::measure::Outcomes,
        options: &MonitorOptions,
    ) -> Result<Monitor> {
        let confidence = options.confidence;
        crate::stats::check_confidence(confidence)?;
        let f = outcomes.rules.follow_up_days as f64;
        let reference_cohort = match options.reference.as_deref() {
            None => None,
            Some(r) => Some(
                people
                    .cohort
                    .code_of(r)
                    .map(|c| (r.to_string(), c))
                    .ok_or_else(|| {
                        crate::error::Error::option(
                            "projection reference",
                            format!("`{r}` is not a cohort label in the cohort table"),
                        )
                    })?,
            ),
        };
        let reference_curve = match &reference_cohort {
            Some((_, code)) => {
                let members: Vec<usize> = (0..people.len())
                    .filter(|&i| people.cohort.codes[i] == *code)
                    .collect();
                let (t, e) = survival_data(&members, outcomes);
                KaplanMeier::fit(&t, &e, confidence, KmInterval::LogLog).ok()
            }
            None => None,
        };
        // People by cohort, then quarter, in the order of their labels (then in their own
        // order), each label ranked once rather than written out for every person.
        let t = crate::trace::Phase::start("  monitor: cohort and quarter of each person");
        let ranks = Ranks::new(people);
        drop(t);
        let t = crate::trace::Phase::start("  monitor: people by cohort and quarter");
        // A counting sort: people counted by cohort and quarter, then placed in their
        // group's range in their own order (the keys sorted, without comparing them).
        let quarters = ranks.quarter_labels.len();
        let bucket = |i: usize| ranks.cohort[i] as usize * quarters + ranks.quarter[i] as usize;
        let mut next = vec![0usize; ranks.cohort_labels.len() * quarters + 1];
        for i in 0..people.len() {
            next[bucket(i) + 1] += 1;
        }
        for b in 1..next.len() {
            next[b] += next[b - 1];
        }
        let mut keys: Vec<(u32, u32, usize)> = vec![(0, 0, 0); people.len()];
        for i in 0..people.len() {
            let at = &mut next[bucket(i)];
            keys[*at] = (ranks.cohort[i], ranks.quarter[i], i);
            *at += 1;
        }
        // Where each cohort's people start among the keys: the earlier quarters of a group's
        // cohort are the keys from there to the group's own.
        let mut cohort_start = vec![0usize; ranks.cohort_labels.len()];
        let mut spans = Vec::new();
        let mut k = 0;
        while k < keys.len() {
            let start = k;
            while k < keys.len() && keys[k].0 == keys[start].0 && keys[k].1 == keys[start].1 {
                k += 1;
            }
            if start == 0 || keys[start - 1].0 != keys[start].0 {
                cohort_start[keys[start].0 as usize] = start;
            }
            spans.push(start..k);
        }
        // Each cohort and quarter on its own (in parallel), collected in their order.
        drop(t);
        let _t = crate::trace::Phase::start("  monitor: cohort-quarters");
        use rayon::prelude::*;
        let groups = spans
            .into_par_iter()
            .map(|span| -> Result<MonitorGroup> {
            let (cr, qr) = (keys[span.start].0, keys[span.start].1);
            let (c, q) = (
                ranks.cohort_labels[cr as usize].clone(),
                ranks.quarter_labels[qr as usize].clone(),
            );
            let earlier_keys = &keys[cohort_start[cr as usize]..span.start];
            let members: Vec<usize> = keys[span].iter().map(|x| x.2).collect();
            let full = members.iter().filter(|&&i| outcomes.eligible[i]).count() as u64;
            let (t, e) = survival_data(&members, outcomes);
            let events = e.iter().filter(|x| **x).count() as u64;
            let reaches = t.iter().any(|&x| x >= f);
            let (est, lo, hi) = if reaches {
                let km = KaplanMeier::fit(&t, &e, confidence, KmInterval::LogLog)?;
                let s = km.survival_at(f);
                (
                    Some(1.0 - s.survival),
                    Some(1.0 - s.ci_high),
                    Some(1.0 - s.ci_low),
                )
            } else {
                (None, None, None)
            };
            let observed = (full == members.len() as u64 && full > 0).then(|| {
                members
                    .iter()
                    .filter(|&&i| outcomes.reoffences[i] > 0)
                    .count() as f64
                    / full as f64
            });
            // Rates at equal follow-up: everyone followed at least `d` days.
            let least = members
                .iter()
                .map(|&i| outcomes.observed_days[i])
                .min()
                .unwrap_or(0);
            let mut rate_at = BTreeMap::new();
            let f_days = outcomes.rules.follow_up_days;
            let mut days: Vec<u32> = [91, 182, 273].into_iter().filter(|d| *d < f_days).collect();
            days.push(f_days);
            for d in days {
                if least < d as i32 || members.is_empty() {
                    continue;
                }
                let x = members
                    .iter()
                    .filter(|&&i| outcomes.event[i] && outcomes.days_to_first[i] <= d as i32)
                    .count() as u64;
                let n = members.len() as u64;
                if let Some(ci) = proportion_ci(x, n, confidence, CiMethod::Wilson)? {
                    rate_at.insert(
                        d,
                        RateAt {
                            rate: x as f64 / n as f64,
                            ci_low: ci.low,
                            ci_high: ci.high,
                        },
                    );
                }
            }
            // A projection for a group not yet followed for the full period, from the latest
            // of the equal-follow-up days (91, 182, 273) everyone in it has reached: no one is
            // censored before it, so the quarter's own part of the curve is a plain share (the
            // published rate at that day), not a thinly populated tail. The exact day everyone
            // has reached is the latest index date of the quarter, an individual's date: it is
            // never published.
            let reach = rate_at
                .keys()
                .copied()
                .filter(|&d| d < f_days && d as i32 <= least)
                .max()
                .map_or(0.0, f64::from);
            // The reference curve is read only for a projection: the earlier quarters' curve
            // (a pass over every person and a fit) is built only for a group that needs one.
            let needs_projection = full < members.len() as u64 && reach >= 91.0;
            let earlier;
            let reference = match (&reference_cohort, &reference_curve) {
                (Some((name, _)), Some(curve)) => Some((format!("the {name} group"), curve)),
                _ if !needs_projection => None,
                _ => {
                    // The people of the cohort labelled `c` in earlier quarters: among the keys of
                    // this cohort's label before this quarter's (a curve counted by day, so the
                    // order it reads them in does not matter).
                    let code = people.cohort.code_of(&c);
                    let members: Vec<usize> = earlier_keys
                        .iter()
                        .map(|x| x.2)
                        .filter(|&i| Some(people.cohort.codes[i]) == code)
                        .collect();
                    let (rt, re) = survival_data(&members, outcomes);
                    earlier = KaplanMeier::fit(&rt, &re, confidence, KmInterval::LogLog).ok();
                    earlier
                        .as_ref()
                        .map(|k| (format!("earlier quarters of {c}"), k))
                }
            };
            let projection = if needs_projection {
                reference
                    .filter(|(_, r)| r.table.iter().any(|row| row.time >= f))
                    .and_then(|(name, r)| {
                        let km = KaplanMeier::fit(&t, &e, confidence, KmInterval::LogLog).ok()?;
                        project(&km, r, reach, f, confidence)
                            .map(|p| (p, name, reference_counts(r, reach, f)))
                    })
            } else {
                None
            };
            let (projected_12m, projected_low, projected_high, projection_basis) = match &projection
            {
                Some(((est, lo, hi, sq, cond), name, _)) => (
                    Some(*est),
                    Some(*lo),
                    Some(*hi),
                    Some(format!(
                        "Projection, not an observed rate: this quarter's Kaplan-Meier survival to day {reach:.0} ({:.1}% \
                         not yet reoffended) times the share of {name} still not reoffended at day {f:.0} among those \
                         not reoffended by day {reach:.0} ({:.1}%). It assumes that, after day {reach:.0}, people in this \
                         quarter reoffend at the rate the reference did.",
                        sq * 100.0,
                        cond * 100.0
                    )),
                ),
                None => (None, None, None, None),
            };
            let projection_share = projection.as_ref().map(|((.., cond), ..)| *cond);
            let projection_counts = projection.as_ref().map(|(.., counts)| *counts);
            let projection_day = projection.as_ref().map(|_| reach as u32);
            Ok(MonitorGroup {
                cohort: c,
                period: q,
                people: members.len() as u64,
                full_follow_up: full,
                events_so_far: events,
                estimate_12m: est,
                ci_low: lo,
                ci_high: hi,
                observed_rate: observed,
                rate_at,
                projected_12m,
                projected_low,
                projected_high,
                projection_basis,
                projection_day,
                projection_share,
                projection_counts,
            })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Monitor {
            follow_up_days: outcomes.rules.follow_up_days,
            confidence,
            groups,
        })
    }
}
