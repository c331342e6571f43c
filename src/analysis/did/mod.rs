//! Difference-in-differences for an area-wide pilot: the pilot area's change from before to
//! after launch against the change in other areas over the same periods (DOMAIN "Area-wide
//! pilots"), from person data reduced to area x period cells or from a published panel.
//!
//! What it computes (statistics in [`crate::stats::did`], [`crate::stats::synthetic`] and
//! [`crate::stats::staggered`]):
//! - two-way fixed effects with standard errors clustered by area (CR1) and Student's t with
//!   `clusters - 1` degrees of freedom, for the 12-month rate and for reoffences per person;
//! - the event study and the joint test of the pre-launch coefficients;
//! - the wild cluster restricted bootstrap and the placebo in space, the inference that holds
//!   with few treated areas (the report leads with the placebo in space below five);
//! - synthetic control and synthetic difference-in-differences on the area x period rates
//!   when one or a few areas launch at once and every cell has people;
//! - Callaway and Sant'Anna when areas launch at different times.

mod cells;
mod period;
mod result;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use cells::{Mislabelled, PersonCell};
pub use period::PeriodLength;
pub use result::{
    AreaDid, CellRow, DidEstimate, EventRow, PlaceboRow, PlaceboSummary, StaggeredRow,
    StaggeredSummary, SyntheticSummary, TimeWeightRow, TrendPoint, UnitWeightRow,
    WildBootstrapSummary,
};

use crate::data::dates::{Day, parse_iso};
use crate::data::{PanelRow, People};
use crate::error::{Error, Result};
use crate::measure::Outcomes;

/// Options of the difference-in-differences (the evaluation file's `[did]` table; the
/// `did` command's flags overlay it). Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DidOptions {
    /// The areas that launched the scheme (labels of the area column). Required.
    pub treated_areas: Vec<String>,
    /// The cohort column holding each person's area. Default `area`.
    pub area_column: String,
    /// The launch date (`YYYY-MM-DD`; with a panel, a period label such as `2020-Q4`), for
    /// every treated area without its own entry in `starts`.
    pub start: Option<String>,
    /// Launch dates by area, for launches at different times (staggered adoption).
    pub starts: BTreeMap<String, String>,
    /// Length of a period: month, quarter (the default) or year.
    pub period: PeriodLength,
    /// The comparison areas. Default: every area that never launches.
    pub comparison_areas: Vec<String>,
    /// Wild cluster bootstrap replications (0 to skip it). Default 9,999.
    pub bootstrap: usize,
    /// Seed of the wild bootstrap and of random placebo draws. Default 1.
    pub seed: u64,
    /// Confidence level of every interval. Default 0.95.
    pub confidence: f64,
    /// The pilot cohort's label, to count people whose label contradicts the area-and-date
    /// definition. Default `divert`.
    pub treatment: String,
    /// Person-level covariates of the two-way fixed effects regressions (cohort columns;
    /// categorical ones become indicator terms, a missing category its own level, and
    /// people missing a numeric one are left out and counted). Person data only; the
    /// synthetic and staggered designs work on area means and do not use them. Default
    /// none.
    pub covariates: Vec<String>,
}

impl Default for DidOptions {
    fn default() -> Self {
        DidOptions {
            treated_areas: Vec::new(),
            area_column: "area".into(),
            start: None,
            starts: BTreeMap::new(),
            period: PeriodLength::Quarter,
            comparison_areas: Vec::new(),
            bootstrap: 9999,
            seed: 1,
            confidence: 0.95,
            treatment: crate::compare::DEFAULT_TREATMENT.into(),
            covariates: Vec::new(),
        }
    }
}

impl DidOptions {
    /// Checks the options, naming the option that is wrong.
    pub fn check(&self) -> Result<()> {
        crate::stats::check_confidence(self.confidence)
            .map_err(|_| Error::option("confidence", "must be strictly between 0 and 1"))?;
        if self.treated_areas.is_empty() && self.starts.is_empty() {
            return Err(Error::option(
                "treated_areas",
                "name the area or areas that launched the scheme",
            ));
        }
        for a in &self.treated_areas {
            if self.start.is_none() && !self.starts.contains_key(a) {
                return Err(Error::option(
                    "start",
                    format!(
                        "no launch date for the treated area `{a}`: give a start (or one in starts)"
                    ),
                ));
            }
            if self.comparison_areas.contains(a) {
                return Err(Error::option(
                    "comparison_areas",
                    format!("`{a}` is a treated area too"),
                ));
            }
        }
        Ok(())
    }

    /// Every treated area with its launch text, sorted by area.
    fn launch_texts(&self) -> Vec<(String, String)> {
        let mut all: BTreeMap<String, String> = self.starts.clone();
        if let Some(s) = &self.start {
            for a in &self.treated_areas {
                all.entry(a.clone()).or_insert_with(|| s.clone());
            }
        }
        all.into_iter().collect()
    }
}

/// Launch dates of the treated areas (person data).
pub(crate) struct Launches {
    days: BTreeMap<String, Day>,
}

impl Launches {
    fn from_options(options: &DidOptions) -> Result<Launches> {
        let mut days = BTreeMap::new();
        for (area, text) in options.launch_texts() {
            let day = parse_iso(text.trim()).ok_or_else(|| {
                Error::option(
                    "start",
                    format!("`{text}` (launch of `{area}`) is not a date (YYYY-MM-DD)"),
                )
            })?;
            days.insert(area, day);
        }
        Ok(Launches { days })
    }

    /// The launch day of `area`, if it is treated.
    pub(crate) fn of(&self, area: &str) -> Option<Day> {
        self.days.get(area).copied()
    }
}

impl AreaDid {
    /// The difference-in-differences on people in the 12-month measure, reduced to area x
    /// period cells of the area column ([`DidOptions::area_column`]).
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// use reoffending::did::{AreaDid, DidOptions};
    /// use reoffending::prelude::*;
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let (cohort, offences) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    /// let mut opts = reoffending::synth::GenerateOptions::new(6000, 3);
    /// opts.forces = Some(reoffending::synth::ForcePanel { forces: 8, ..Default::default() });
    /// reoffending::synth::generate(&opts, &cohort, &offences)?;
    /// let eval = Evaluation::load(&Inputs::new(&cohort, &offences), Rules::default())?;
    /// let options = DidOptions {
    ///     treated_areas: vec!["West Midlands".into()],
    ///     area_column: "force".into(),
    ///     start: Some("2020-10-01".into()),
    ///     bootstrap: 999,
    ///     ..Default::default()
    /// };
    /// let did = AreaDid::of(&eval.data.people, &eval.outcomes, &options)?;
    /// assert_eq!((did.clusters, did.treated_clusters), (8, 1));
    /// assert_eq!(did.inference_lead, "placebo_in_space");
    /// println!("{}", did.summary);
    /// # Ok(()) }
    /// ```
    pub fn of(people: &People, outcomes: &Outcomes, options: &DidOptions) -> Result<AreaDid> {
        options.check()?;
        let launches = Launches::from_options(options)?;
        let t = crate::trace::Phase::start("  did: people to area x period cells");
        let mut reduced = cells::reduce(people, outcomes, options, &launches, None)?;
        // With covariates, the people the regression can use (a numeric covariate missing
        // leaves a person out), and the cells of exactly those people.
        let design = if options.covariates.is_empty() {
            None
        } else {
            let candidates: Vec<usize> = reduced.members.iter().map(|m| m.0).collect();
            let design = crate::analysis::design::Design::build(
                people,
                &options.covariates,
                &[],
                &candidates,
                crate::analysis::design::MAX_LEVELS,
            )?;
            if design.excluded_missing > 0 {
                let mut keep = vec![false; people.len()];
                for &r in &design.rows {
                    keep[r] = true;
                }
                reduced = cells::reduce(people, outcomes, options, &launches, Some(&keep))?;
            }
            Some(design)
        };
        drop(t);
        let _t = crate::trace::Phase::start("  did: estimates, inference and synthetic designs");
        for a in launches.days.keys() {
            if !reduced.areas.contains(a) {
                return Err(Error::option(
                    "treated_areas",
                    format!(
                        "no one in the 12-month measure is in area `{a}` (areas: {})",
                        reduced.areas.join(", ")
                    ),
                ));
            }
        }
        let launch_period: Vec<Option<i64>> = reduced
            .areas
            .iter()
            .map(|a| launches.of(a).map(|d| i64::from(options.period.of(d))))
            .collect();
        let area_index = |a: &str| reduced.areas.iter().position(|x| x == a).unwrap_or(0);
        let mut binary: Vec<crate::stats::did::Cell> = reduced
            .cells
            .iter()
            .map(|c| {
                crate::stats::did::Cell::binary(
                    area_index(&c.area),
                    i64::from(c.period_index),
                    c.people as f64,
                    c.reoffenders as f64,
                )
            })
            .collect();
        let mut frequency: Vec<crate::stats::did::Cell> = reduced
            .cells
            .iter()
            .map(|c| {
                crate::stats::did::Cell::new(
                    area_index(&c.area),
                    i64::from(c.period_index),
                    c.people as f64,
                    c.reoffences as f64,
                    c.reoffences_squared as f64,
                )
            })
            .collect();
        let covariate_sums = design.as_ref().map(|d| {
            cells::covariate_sums(
                d,
                &reduced,
                outcomes,
                reduced.areas.len(),
                &mut binary,
                &mut frequency,
            )
        });
        let rates: Vec<(String, i32, f64)> = reduced
            .cells
            .iter()
            .map(|c| {
                (
                    c.area.clone(),
                    c.period_index,
                    c.reoffenders as f64 / c.people as f64,
                )
            })
            .collect();
        let mut out = result::build(
            &reduced.areas,
            &launch_period,
            binary,
            Some(frequency),
            covariate_sums,
            &rates,
            options,
        )?;
        if let Some(d) = &design {
            out.covariate_terms = d.names.clone();
            out.excluded_missing_covariates = d.excluded_missing;
        }
        out.cells = reduced
            .cells
            .iter()
            .map(|c| CellRow {
                area: c.area.clone(),
                period: c.period.clone(),
                people: Some(c.people as f64),
                reoffenders: Some(c.reoffenders),
                rate: c.reoffenders as f64 / c.people as f64,
                treated: c.treated,
            })
            .collect();
        out.mislabelled = reduced.mislabelled;
        let order: Vec<(String, i32)> = reduced
            .cells
            .iter()
            .map(|c| (c.area.clone(), c.period_index))
            .collect();
        out.fill_trends(&order);
        out.finish_summary(options);
        Ok(out)
    }

    /// The difference-in-differences on a published area panel: one row per area and
    /// period, the outcome a rate (or any mean) and the weight the people in the cell.
    /// The launch ([`DidOptions::start`] or `starts`) is a period label or a date; the
    /// period length is [`DidOptions::period`] unless every label says another (`2021` is a
    /// year, `2021-Q1` a quarter, `2021-03` a month).
    pub fn from_panel(rows: &[PanelRow], options: &DidOptions) -> Result<AreaDid> {
        options.check()?;
        if !options.covariates.is_empty() {
            return Err(Error::option(
                "covariates",
                "a panel of area means has no person-level covariates: leave them out, or give \
                 person data",
            ));
        }
        let length = rows
            .first()
            .and_then(|r| PeriodLength::parse_kind(&r.period))
            .unwrap_or(options.period);
        let options = DidOptions {
            period: length,
            ..options.clone()
        };
        let mut seen: BTreeMap<(String, i32), u64> = BTreeMap::new();
        let mut cells = Vec::with_capacity(rows.len());
        for r in rows {
            let p = length.parse(&r.period).ok_or_else(|| {
                Error::option(
                    "panel",
                    format!(
                        "row {}: period `{}` is not a {} label like the first row's (`{}`)",
                        r.row,
                        crate::format::terminal_text(&r.period),
                        match length {
                            PeriodLength::Year => "year",
                            PeriodLength::Quarter => "quarter",
                            PeriodLength::Month => "month",
                        },
                        crate::format::terminal_text(&rows[0].period)
                    ),
                )
            })?;
            if let Some(first) = seen.insert((r.area.clone(), p), r.row) {
                return Err(Error::option(
                    "panel",
                    format!(
                        "rows {first} and {}: area `{}` has two rows for period {}",
                        r.row,
                        crate::format::terminal_text(&r.area),
                        length.label(p)
                    ),
                ));
            }
            cells.push((r.area.clone(), p, r.outcome, r.weight));
        }
        let mut areas: Vec<String> = cells.iter().map(|c| c.0.clone()).collect();
        areas.sort();
        areas.dedup();
        let periods: std::collections::BTreeSet<i32> = cells.iter().map(|c| c.1).collect();
        if cells.len() != areas.len() * periods.len() {
            let missing = areas
                .iter()
                .flat_map(|a| periods.iter().map(move |p| (a, *p)))
                .find(|(a, p)| !seen.contains_key(&((*a).clone(), *p)));
            return Err(Error::option(
                "panel",
                format!(
                    "the panel is unbalanced: {} areas x {} periods need {} rows, found {}{}",
                    areas.len(),
                    periods.len(),
                    areas.len() * periods.len(),
                    cells.len(),
                    missing.map_or(String::new(), |(a, p)| format!(
                        " (no row for `{}` in {})",
                        crate::format::terminal_text(a),
                        length.label(p)
                    ))
                ),
            ));
        }
        let mut launch_period: Vec<Option<i64>> = vec![None; areas.len()];
        for (area, text) in options.launch_texts() {
            let p = length.parse(&text).ok_or_else(|| {
                Error::option(
                    "start",
                    format!("`{text}` (launch of `{area}`) is not a period label or date"),
                )
            })?;
            let k = areas.iter().position(|a| *a == area).ok_or_else(|| {
                Error::option(
                    "treated_areas",
                    format!(
                        "no area `{area}` in the panel (areas: {})",
                        areas.join(", ")
                    ),
                )
            })?;
            launch_period[k] = Some(i64::from(p));
        }
        let kept: Vec<usize> = (0..areas.len())
            .filter(|&k| {
                launch_period[k].is_some()
                    || options.comparison_areas.is_empty()
                    || options.comparison_areas.contains(&areas[k])
            })
            .collect();
        let areas: Vec<String> = kept.iter().map(|&k| areas[k].clone()).collect();
        let launch_period: Vec<Option<i64>> = kept.iter().map(|&k| launch_period[k]).collect();
        let index = |a: &str| areas.iter().position(|x| x == a);
        let mut stat_cells = Vec::new();
        let mut rates = Vec::new();
        let mut rows_out = Vec::new();
        let mut order = Vec::new();
        for (a, p, y, w) in &cells {
            let Some(k) = index(a) else { continue };
            stat_cells.push(crate::stats::did::Cell::new(
                k,
                i64::from(*p),
                *w,
                w * y,
                w * y * y,
            ));
            rates.push((a.clone(), *p, *y));
            order.push((a.clone(), *p));
            rows_out.push(CellRow {
                area: a.clone(),
                period: length.label(*p),
                people: Some(*w),
                reoffenders: None,
                rate: *y,
                treated: launch_period[k].is_some_and(|l| i64::from(*p) >= l),
            });
        }
        let mut out = result::build(
            &areas,
            &launch_period,
            stat_cells,
            None,
            None,
            &rates,
            &options,
        )?;
        out.cells = rows_out;
        out.fill_trends(&order);
        out.finish_summary(&options);
        Ok(out)
    }
}
