//! The difference-in-differences result (CONTRACT §3 `did`) and how it is computed from
//! cells.

use serde::Serialize;

use super::{DidOptions, Mislabelled, PeriodLength};
use crate::error::Result;
use crate::stats::did::{self as sd, Cell};
use crate::stats::{staggered, synthetic};

/// An estimate with its interval and test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidEstimate {
    /// The estimate (for the rate, a difference in proportions: -0.05 is 5 points lower).
    pub estimate: f64,
    /// Its cluster-robust standard error.
    pub se: f64,
    /// Lower limit of the interval (Student's t, clusters - 1 df).
    pub ci_low: f64,
    /// Upper limit.
    pub ci_high: f64,
    /// Two-sided p-value from the same t.
    pub p_value: f64,
}

/// One event-study coefficient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    /// Periods from the one holding the launch (0); -1 is the reference and not listed.
    pub relative_period: i64,
    /// The calendar period, when every treated area launched in the same one.
    pub period: Option<String>,
    /// The coefficient.
    pub estimate: f64,
    /// Its cluster-robust standard error.
    pub se: f64,
    /// Lower limit of its interval.
    pub ci_low: f64,
    /// Upper limit.
    pub ci_high: f64,
}

/// The wild cluster restricted bootstrap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WildBootstrapSummary {
    /// Two-sided p-value of the estimate (null imposed).
    pub p_value: f64,
    /// Replications (all 2^G sign patterns when that is fewer than asked for).
    pub replications: usize,
    /// `rademacher` or `webb` (below 12 clusters).
    pub weights: String,
    /// The seed.
    pub seed: u64,
    /// Whether every sign pattern was enumerated (then the seed plays no part).
    pub full_enumeration: bool,
}

/// One placebo estimate: a comparison area treated as if it had launched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceboRow {
    /// The area.
    pub area: String,
    /// Its placebo estimate.
    pub estimate: f64,
}

/// Placebo in space (randomisation inference).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceboSummary {
    /// `(1 + #{|placebo| >= |actual|}) / (1 + placebos)`.
    pub p_value: f64,
    /// The actual estimate's rank by absolute size among itself and the placebos (1 = largest).
    pub rank: usize,
    /// Placebo areas.
    pub areas: usize,
    /// The smallest p-value this test can give: `1 / (1 + areas)`.
    pub min_p_value: f64,
    /// Every placebo estimate.
    pub estimates: Vec<PlaceboRow>,
}

/// One area x period cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRow {
    /// The area.
    pub area: String,
    /// The period's label.
    pub period: String,
    /// People in the measure (a panel's weight).
    pub people: Option<f64>,
    /// Reoffenders (person data only).
    pub reoffenders: Option<u64>,
    /// The rate (a panel's outcome).
    pub rate: f64,
    /// Whether the cell is treated.
    pub treated: bool,
}

/// The pilot areas' rate and the comparison areas' in one period (the trends chart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The period.
    pub period: String,
    /// People in the pilot areas (a panel's weight).
    pub pilot_people: f64,
    /// Reoffenders among them (person data only).
    pub pilot_reoffenders: Option<f64>,
    /// The pilot areas' rate.
    pub pilot_rate: f64,
    /// People in the comparison areas.
    pub comparison_people: f64,
    /// Reoffenders among them (person data only).
    pub comparison_reoffenders: Option<f64>,
    /// The comparison areas' rate (pooled).
    pub comparison_rate: f64,
}

/// One unit weight of the synthetic pilot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitWeightRow {
    /// The comparison area.
    pub area: String,
    /// Its weight (the weights sum to 1).
    pub weight: f64,
}

/// One time weight of synthetic difference-in-differences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeWeightRow {
    /// The pre-launch period.
    pub period: String,
    /// Its weight (the weights sum to 1).
    pub weight: f64,
}

/// Synthetic control, synthetic difference-in-differences and plain DiD on the area x
/// period rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticSummary {
    /// `sdid`, `sc` and `did`, each with its placebo standard error and normal interval.
    pub estimates: Vec<synthetic::SyntheticEstimate>,
    /// Always `placebo`.
    pub se_method: &'static str,
    /// Placebo estimates behind each standard error.
    pub replications: usize,
    /// Seed of random placebo draws (none when each comparison area is taken in turn).
    pub seed: Option<u64>,
    /// SDID unit weights.
    pub unit_weights: Vec<UnitWeightRow>,
    /// SDID time weights.
    pub time_weights: Vec<TimeWeightRow>,
    /// SDID effect in each period from launch.
    pub effect_by_period: Vec<EventLabelled>,
    /// The synthetic pilot's path (SDID weights, with its intercept) beside the pilot's, per
    /// period, for the chart.
    pub path: Vec<PathPoint>,
}

/// An estimate for a labelled period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventLabelled {
    /// The period.
    pub period: String,
    /// The estimate.
    pub estimate: f64,
}

/// The pilot's rate and its synthetic comparison's in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathPoint {
    /// The period.
    pub period: String,
    /// The pilot area(s)' mean rate.
    pub pilot: f64,
    /// The synthetic control's rate (SC unit weights).
    pub synthetic: f64,
}

/// One group-time effect of Callaway and Sant'Anna.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaggeredRow {
    /// The launch period of the cohort of areas.
    pub launch: String,
    /// The period.
    pub period: String,
    /// Periods since launch.
    pub relative_period: i64,
    /// ATT(g,t).
    pub estimate: f64,
    /// Its standard error (influence function).
    pub se: Option<f64>,
}

/// Callaway and Sant'Anna for launches at different times, with two-way fixed effects
/// beside.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaggeredSummary {
    /// The method, with its comparison group and base period.
    pub method: String,
    /// The overall ATT (weighted by cohort size).
    pub att: f64,
    /// Its standard error.
    pub se: Option<f64>,
    /// Lower limit (normal).
    pub ci_low: Option<f64>,
    /// Upper limit.
    pub ci_high: Option<f64>,
    /// By time since launch.
    pub by_time: Vec<staggered::EventTimeEffect>,
    /// Every ATT(g,t).
    pub group_time: Vec<StaggeredRow>,
    /// Two-way fixed effects on the same panel of rates.
    pub twfe: staggered::TwoWayFixedEffects,
    /// Whether the two disagree, in a sentence.
    pub summary: String,
}

/// The difference-in-differences of an area-wide pilot (CONTRACT §3 `did`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaDid {
    /// Two-way fixed effects estimate of the change in the 12-month rate.
    pub estimate: f64,
    /// Its cluster-robust (CR1, by area) standard error.
    pub se: f64,
    /// Lower limit (Student's t, `df`).
    pub ci_low: f64,
    /// Upper limit.
    pub ci_high: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Degrees of freedom: clusters - 1.
    pub df: f64,
    /// Areas (clusters).
    pub clusters: usize,
    /// Treated areas.
    pub treated_clusters: usize,
    /// People (a panel's total weight).
    pub people: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// The length of a period.
    pub period_length: PeriodLength,
    /// Each treated area's launch period.
    pub launches: Vec<(String, String)>,
    /// The same for reoffences per person (person data only).
    pub frequency: Option<DidEstimate>,
    /// Event study (the period before launch is the reference).
    pub event_study: Vec<EventRow>,
    /// Joint test that every pre-launch coefficient is zero.
    pub pre_trend: Option<sd::PreTrend>,
    /// Wild cluster restricted bootstrap.
    pub wild_bootstrap: Option<WildBootstrapSummary>,
    /// Placebo in space.
    pub placebo_in_space: Option<PlaceboSummary>,
    /// Area x period cells.
    pub cells: Vec<CellRow>,
    /// The pilot areas' rate and the comparison areas' by period.
    pub trends: Vec<TrendPoint>,
    /// People whose cohort label contradicts the area-and-date definition.
    pub mislabelled: Mislabelled,
    /// Callaway and Sant'Anna (launches at different times only).
    pub staggered: Option<StaggeredSummary>,
    /// Synthetic designs (one launch period, every cell with people).
    pub synthetic: Option<SyntheticSummary>,
    /// Which p-value leads: `placebo_in_space` (fewer than five treated areas),
    /// `wild_bootstrap`, or `cluster_robust`.
    pub inference_lead: String,
    /// Parts that could not be computed, and why.
    pub unavailable: Vec<String>,
    /// The covariate terms of the two-way fixed effects regressions (empty without).
    pub covariate_terms: Vec<String>,
    /// People in the measure left out for a missing numeric covariate.
    pub excluded_missing_covariates: u64,
    /// The finding in plain English.
    pub summary: String,
}

fn rounded(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

/// Computes everything from the cells (`binary` holds the rate's sums; `frequency` the
/// reoffences' when person data are at hand) and the area x period rates (for the synthetic
/// and staggered designs, which need a balanced panel of means).
pub(super) fn build(
    areas: &[String],
    launch_period: &[Option<i64>],
    binary: Vec<Cell>,
    frequency: Option<Vec<Cell>>,
    covariates: Option<(Vec<sd::AreaCovariates>, Vec<sd::AreaCovariates>)>,
    rates: &[(String, i32, f64)],
    options: &DidOptions,
) -> Result<AreaDid> {
    let len = options.period;
    let label = |p: i64| len.label(p as i32);
    let (bin_cov, freq_cov) = covariates.unzip();
    let panel = match bin_cov {
        Some(c) => sd::Panel::with_covariates(binary, launch_period.to_vec(), c)?,
        None => sd::Panel::new(binary, launch_period.to_vec())?,
    };
    let opts = sd::DidOptions {
        confidence: options.confidence,
        bootstrap: (options.bootstrap > 0)
            .then(|| sd::WildBootstrapOptions::new(options.bootstrap, options.seed)),
        ..Default::default()
    };
    let fit = sd::did(&panel, &opts)?;
    let mut unavailable: Vec<String> = fit
        .unavailable
        .iter()
        .map(|u| format!("{}: {}", u.part, u.reason))
        .collect();
    let frequency = match frequency {
        Some(cells) => {
            let p = match freq_cov {
                Some(c) => sd::Panel::with_covariates(cells, launch_period.to_vec(), c)?,
                None => sd::Panel::new(cells, launch_period.to_vec())?,
            };
            match sd::twfe(&p, options.confidence) {
                Ok(f) => Some(DidEstimate {
                    estimate: f.estimate,
                    se: f.se,
                    ci_low: f.ci_low,
                    ci_high: f.ci_high,
                    p_value: f.p_value,
                }),
                Err(e) => {
                    unavailable.push(format!("frequency: {e}"));
                    None
                }
            }
        }
        None => None,
    };
    let t = &fit.twfe;
    let distinct_launches: std::collections::BTreeSet<i64> =
        launch_period.iter().flatten().copied().collect();
    let (synthetic, staggered) = area_designs(
        areas,
        launch_period,
        &distinct_launches,
        rates,
        options,
        &mut unavailable,
    );
    let inference_lead = if t.treated_clusters < 5 && fit.placebo_in_space.is_some() {
        "placebo_in_space"
    } else if fit.wild_bootstrap.is_some() {
        "wild_bootstrap"
    } else {
        "cluster_robust"
    };
    Ok(AreaDid {
        estimate: t.estimate,
        se: t.se,
        ci_low: t.ci_low,
        ci_high: t.ci_high,
        p_value: t.p_value,
        df: t.df,
        clusters: t.clusters,
        treated_clusters: t.treated_clusters,
        people: t.people,
        confidence: options.confidence,
        period_length: len,
        launches: areas
            .iter()
            .zip(launch_period)
            .filter_map(|(a, l)| l.map(|l| (a.clone(), label(l))))
            .collect(),
        frequency,
        event_study: fit
            .event_study
            .as_ref()
            .map(|es| {
                es.coefficients
                    .iter()
                    .map(|c| EventRow {
                        relative_period: c.relative_period,
                        period: c.period.map(label),
                        estimate: c.estimate,
                        se: c.se,
                        ci_low: c.ci_low,
                        ci_high: c.ci_high,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        pre_trend: fit.event_study.as_ref().and_then(|es| es.pre_trend.clone()),
        wild_bootstrap: fit.wild_bootstrap.as_ref().map(|w| WildBootstrapSummary {
            p_value: w.p_value,
            replications: w.replications,
            weights: format!("{:?}", w.weights).to_lowercase(),
            seed: w.seed,
            full_enumeration: w.full_enumeration,
        }),
        placebo_in_space: fit.placebo_in_space.as_ref().map(|p| PlaceboSummary {
            p_value: p.p_value,
            rank: p.rank,
            areas: p.areas,
            min_p_value: p.min_p_value,
            estimates: p
                .estimates
                .iter()
                .map(|e| PlaceboRow {
                    area: areas.get(e.area).cloned().unwrap_or_default(),
                    estimate: e.estimate,
                })
                .collect(),
        }),
        cells: Vec::new(),
        trends: Vec::new(),
        mislabelled: Mislabelled::default(),
        staggered,
        synthetic,
        inference_lead: inference_lead.into(),
        unavailable,
        covariate_terms: Vec::new(),
        excluded_missing_covariates: 0,
        summary: String::new(),
    })
}

/// The synthetic designs (one launch period) or Callaway and Sant'Anna (several), on the
/// balanced panel of rates; a reason in `unavailable` when the panel does not allow them.
fn area_designs(
    areas: &[String],
    launch_period: &[Option<i64>],
    launches: &std::collections::BTreeSet<i64>,
    rates: &[(String, i32, f64)],
    options: &DidOptions,
    unavailable: &mut Vec<String>,
) -> (Option<SyntheticSummary>, Option<StaggeredSummary>) {
    let len = options.period;
    let a: Vec<&str> = rates.iter().map(|r| r.0.as_str()).collect();
    let p: Vec<i32> = rates.iter().map(|r| r.1).collect();
    let y: Vec<f64> = rates.iter().map(|r| r.2).collect();
    let (panel, panel_areas, periods) = match crate::stats::AreaPanel::from_cells(&a, &p, &y) {
        Ok(x) => x,
        Err(e) => {
            // Name the cell by its labels: the panel's indices follow sorted labels.
            let why = match e {
                crate::stats::PanelError::Missing { area, period } => {
                    let areas: std::collections::BTreeSet<&str> = a.iter().copied().collect();
                    let periods: std::collections::BTreeSet<i32> = p.iter().copied().collect();
                    match (areas.iter().nth(area), periods.iter().nth(period)) {
                        (Some(x), Some(&q)) => {
                            format!("{x} has nobody in the measure in {}", len.label(q))
                        }
                        _ => e.to_string(),
                    }
                }
                e => e.to_string(),
            };
            unavailable.push(format!(
                "synthetic and staggered designs: they need every area to have people in every period ({why})"
            ));
            return (None, None);
        }
    };
    // Panel rows follow sorted area labels, as `areas` does.
    let launch_col = |l: i64| periods.iter().position(|&q| i64::from(q) >= l);
    if launches.len() > 1 {
        let cols: Vec<Option<usize>> = panel_areas
            .iter()
            .map(|pa| {
                areas
                    .iter()
                    .position(|x| x == pa)
                    .and_then(|k| launch_period[k])
                    .and_then(launch_col)
            })
            .collect();
        return match staggered::callaway_santanna(&panel, &cols, options.confidence) {
            Ok(s) => (None, Some(staggered_summary(s, &periods, len))),
            Err(e) => {
                unavailable.push(format!("staggered: {e}"));
                (None, None)
            }
        };
    }
    let Some(&launch) = launches.iter().next() else {
        return (None, None);
    };
    let Some(t0) = launch_col(launch) else {
        unavailable.push("synthetic: no period after launch".into());
        return (None, None);
    };
    let treated: Vec<usize> = panel_areas
        .iter()
        .enumerate()
        .filter(|(_, pa)| {
            areas
                .iter()
                .position(|x| x == *pa)
                .is_some_and(|k| launch_period[k].is_some())
        })
        .map(|(k, _)| k)
        .collect();
    let sopts = synthetic::SyntheticOptions {
        confidence: options.confidence,
        placebo: if treated.len() == 1 {
            synthetic::Placebo::EachComparison
        } else {
            synthetic::Placebo::Random {
                replications: 200,
                seed: options.seed,
            }
        },
    };
    match synthetic::synthetic(&panel, &treated, t0, &sopts) {
        Ok(s) => (
            Some(synthetic_summary(
                &s,
                &panel,
                &panel_areas,
                &treated,
                &periods,
                len,
            )),
            None,
        ),
        Err(e) => {
            unavailable.push(format!("synthetic: {e}"));
            (None, None)
        }
    }
}

fn synthetic_summary(
    s: &synthetic::SyntheticDesigns,
    panel: &crate::stats::AreaPanel,
    areas: &[&str],
    treated: &[usize],
    periods: &[i32],
    len: PeriodLength,
) -> SyntheticSummary {
    let controls: Vec<usize> = (0..areas.len()).filter(|k| !treated.contains(k)).collect();
    // SC weights over the controls, in panel order of the controls (fits[1]).
    let sc_omega: Vec<f64> = s.fits.get(1).map(|f| f.omega.clone()).unwrap_or_default();
    let path = periods
        .iter()
        .enumerate()
        .map(|(t, &p)| {
            let pilot =
                treated.iter().map(|&k| panel.get(k, t)).sum::<f64>() / treated.len() as f64;
            let synth = controls
                .iter()
                .zip(&sc_omega)
                .map(|(&k, w)| w * panel.get(k, t))
                .sum::<f64>();
            PathPoint {
                period: len.label(p),
                pilot,
                synthetic: synth,
            }
        })
        .collect();
    SyntheticSummary {
        estimates: s.estimates.clone(),
        se_method: s.se_method,
        replications: s.replications,
        seed: s.seed,
        unit_weights: s
            .unit_weights
            .iter()
            .map(|w| UnitWeightRow {
                area: areas
                    .get(w.area)
                    .map_or_else(String::new, |a| a.to_string()),
                weight: w.weight,
            })
            .collect(),
        time_weights: s
            .time_weights
            .iter()
            .map(|w| TimeWeightRow {
                period: periods
                    .get(w.period)
                    .map_or_else(String::new, |&p| len.label(p)),
                weight: w.weight,
            })
            .collect(),
        effect_by_period: s
            .effect_by_period
            .iter()
            .map(|e| EventLabelled {
                period: periods
                    .get(e.period)
                    .map_or_else(String::new, |&p| len.label(p)),
                estimate: e.estimate,
            })
            .collect(),
        path,
    }
}

fn staggered_summary(
    s: staggered::Staggered,
    periods: &[i32],
    len: PeriodLength,
) -> StaggeredSummary {
    let lab = |k: usize| periods.get(k).map_or_else(String::new, |&p| len.label(p));
    let disagree = s.ci_low.zip(s.ci_high).is_some_and(|(lo, hi)| {
        !(lo..=hi).contains(&s.twfe.estimate) || (s.att < 0.0) != (s.twfe.estimate < 0.0)
    });
    let summary = if disagree {
        format!(
            "Two-way fixed effects ({} points) and Callaway and Sant'Anna ({} points) disagree: with launches at \
             different times, two-way fixed effects compares later adopters with areas already treated and is \
             biased when effects change over time; Callaway and Sant'Anna compares each launch cohort with areas \
             never treated and is the one to read.",
            rounded(s.twfe.estimate),
            rounded(s.att)
        )
    } else {
        format!(
            "Two-way fixed effects ({} points) lies within the interval of Callaway and Sant'Anna ({} points), \
             which compares each launch cohort only with areas never treated.",
            rounded(s.twfe.estimate),
            rounded(s.att)
        )
    };
    StaggeredSummary {
        method: format!(
            "{} ({} control group, {} base period)",
            s.method, s.control_group, s.base_period
        ),
        att: s.att,
        se: s.se,
        ci_low: s.ci_low,
        ci_high: s.ci_high,
        by_time: s.by_time.clone(),
        group_time: s
            .group_time
            .iter()
            .map(|g| StaggeredRow {
                launch: lab(g.group),
                period: lab(g.period),
                relative_period: g.relative_period,
                estimate: g.estimate,
                se: g.se,
            })
            .collect(),
        twfe: s.twfe.clone(),
        summary,
    }
}

impl AreaDid {
    /// The trends from the cells (pooled within pilot and comparison areas per period).
    pub(super) fn fill_trends(&mut self, order: &[(String, i32)]) {
        let mut by: std::collections::BTreeMap<i32, [f64; 4]> = Default::default();
        let mut counted = true;
        for (c, (_, p)) in self.cells.iter().zip(order) {
            let e = by.entry(*p).or_default();
            let n = c.people.unwrap_or(0.0);
            let x = match c.reoffenders {
                Some(x) => x as f64,
                None => {
                    counted = false;
                    c.rate * n
                }
            };
            let pilot = self.launches.iter().any(|(a, _)| *a == c.area);
            let k = if pilot { 0 } else { 2 };
            e[k] += n;
            e[k + 1] += x;
        }
        self.trends = by
            .into_iter()
            .map(|(p, [pn, px, cn, cx])| TrendPoint {
                period: self.period_length.label(p),
                pilot_people: pn,
                pilot_reoffenders: counted.then_some(px),
                pilot_rate: if pn > 0.0 { px / pn } else { f64::NAN },
                comparison_people: cn,
                comparison_reoffenders: counted.then_some(cx),
                comparison_rate: if cn > 0.0 { cx / cn } else { f64::NAN },
            })
            .filter(|t| t.pilot_rate.is_finite() && t.comparison_rate.is_finite())
            .collect();
    }

    /// Writes the plain-English summary once every part is in.
    pub(super) fn finish_summary(&mut self, options: &DidOptions) {
        let level = crate::format::level(self.confidence);
        let treated: Vec<&str> = self.launches.iter().map(|(a, _)| a.as_str()).collect();
        let comparison = self.clusters - self.treated_clusters;
        let mut s = format!(
            "Difference-in-differences against {comparison} comparison areas: after launch, the 12-month proven \
             reoffending rate in {} changed by {} percentage points relative to the change in the comparison areas \
             ({level} interval {} to {}, standard errors clustered by area).",
            treated.join(", "),
            rounded(self.estimate),
            rounded(self.ci_low),
            rounded(self.ci_high),
        );
        if !options.covariates.is_empty() {
            s.push_str(&format!(
                " The regressions adjust for {} (person by person; the synthetic designs do not).",
                options.covariates.join(", ")
            ));
        }
        match self.inference_lead.as_str() {
            "placebo_in_space" => {
                if let Some(p) = &self.placebo_in_space {
                    s.push_str(&format!(
                        " With {} treated area{}, cluster-robust tests are unreliable, so the test that leads is the \
                         placebo in space: pretending each comparison area had launched instead, the actual estimate \
                         ranks {} of {} by size, {} (the smallest p this test can give with {} comparison \
                         areas is {:.3}).",
                        self.treated_clusters,
                        if self.treated_clusters == 1 { "" } else { "s" },
                        p.rank,
                        p.areas + 1,
                        crate::format::p_clause_at(p.p_value, 3),
                        p.areas,
                        p.min_p_value
                    ));
                    s.push_str(if p.p_value < 1.0 - self.confidence {
                        " The change is larger than in almost every comparison area: evidence of an effect."
                    } else {
                        " The change is within what comparison areas show without the scheme: not evidence of an \
                         effect, which should not be taken to mean that the scheme has none."
                    });
                }
            }
            "wild_bootstrap" => {
                if let Some(w) = &self.wild_bootstrap {
                    s.push_str(&format!(
                        " The wild cluster bootstrap gives {}.",
                        crate::format::p_clause_at(w.p_value, 3)
                    ));
                }
            }
            _ => s.push_str(&format!(
                " {}.",
                crate::format::p_clause_at(self.p_value, 3)
            )),
        }
        if let Some(pt) = &self.pre_trend {
            s.push_str(&format!(
                " Before launch, the areas' trends {} (joint test of the pre-launch periods, {}); a flat \
                 pre-trend supports, but does not prove, the assumption that trends would have stayed parallel.",
                if pt.p_value < 1.0 - self.confidence {
                    "already differed"
                } else {
                    "did not differ detectably"
                },
                crate::format::p_clause_at(pt.p_value, 3)
            ));
        }
        if self.mislabelled.rows > 0 {
            s.push_str(&format!(
                " {} people's cohort label disagrees with the area-and-date definition of treatment (labelled `{}` \
                 or not); they are analysed by the definition.",
                self.mislabelled.rows, options.treatment
            ));
        }
        self.summary = s;
    }
}
