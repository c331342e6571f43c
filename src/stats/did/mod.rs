//! Difference-in-differences for an area-wide pilot, from area x period cells.
//!
//! When a whole area adopts a scheme, compare its change from before to after launch with
//! the change in other areas over the same periods (DOMAIN.md, "Area-wide pilots"):
//!
//! - [`twfe`]: two-way fixed effects OLS on people, `y_i = β D_i + α_area + γ_period
//!   (+ θ'x_i) + ε_i`, with standard errors clustered by area (CR1,
//!   `G/(G-1)·(N-1)/(N-K)`, as statsmodels `cov_type='cluster'` and Stata) and Student's t
//!   with `G - 1` degrees of freedom;
//! - [`event_study`]: one indicator per period relative to launch (the period before launch
//!   is the reference) and the joint Wald F test of the pre-launch indicators;
//! - [`wild_bootstrap`]: the wild cluster restricted bootstrap p-value of β (WCR-11);
//! - [`placebo_in_space`]: randomisation inference, each comparison area in turn treated
//!   as if it had launched;
//! - [`did`]: all of them at once (the main entry point).
//!
//! Everything is computed from per-cell sums (people, Σy, Σy² per area x period; optionally
//! Σx per cell with Σxx' and Σxy per area for covariates), never from a per-person design
//! matrix: the estimates are exactly those of the regression on people, at a cost that
//! depends on the number of cells, not of people. The outcome is the binary reoffending
//! indicator (Σy = reoffenders) or the number of reoffences per person (Σy = reoffences):
//! the same code serves both.
//!
//! Comparison areas are the never-treated areas (`launch = None`); at least one is
//! required, and every period must hold at least one of their cells. Staggered launches
//! are accepted by [`twfe`] and [`event_study`], but two-way fixed effects then compares
//! later adopters with earlier ones and can mislead when effects grow (Goodman-Bacon 2021):
//! prefer an estimator by launch cohort for those. A flat pre-trend does not prove parallel
//! trends. With fewer than five treated areas, lead with the placebo in space: CR1 t tests
//! over-reject with few treated clusters and even the wild bootstrap is unreliable with one
//! (MacKinnon and Webb 2017, 2018).

mod bootstrap;
mod engine;
mod placebo;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};

pub use bootstrap::{
    BootstrapWeights, WEBB_BELOW_CLUSTERS, WildBootstrap, WildBootstrapOptions, wild_bootstrap,
};
pub use placebo::{PlaceboEstimate, PlaceboInSpace, placebo_in_space};

use engine::Model;

/// The people of one area in one period, summarised by their outcome sums.
///
/// Cells with no people are ignored (a missing cell: unbalanced panels are allowed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The area: an index into the panel's `launches`.
    pub area: usize,
    /// The period: an ordered integer (e.g. quarters counted from some origin).
    pub period: i64,
    /// People in the cell (a sum of weights is allowed).
    pub people: f64,
    /// Σy: reoffenders (binary outcome) or reoffences (frequency outcome).
    pub sum_y: f64,
    /// Σy²: equal to Σy for a binary outcome. The estimates and their cluster-robust
    /// errors do not need it (the scores only involve Σy); it is checked for consistency
    /// (`Σy² >= (Σy)²/n`) and sets the outcome's scale below which a standard error counts
    /// as zero.
    pub sum_y2: f64,
    /// Σx over the cell's people, one sum per covariate; empty without covariates.
    pub sum_x: Vec<f64>,
}

impl Cell {
    /// A cell of a binary outcome: `reoffenders` of `people` (Σy² = Σy), no covariates.
    pub fn binary(area: usize, period: i64, people: f64, reoffenders: f64) -> Self {
        Cell {
            area,
            period,
            people,
            sum_y: reoffenders,
            sum_y2: reoffenders,
            sum_x: Vec::new(),
        }
    }

    /// A cell of any outcome from its sums Σy and Σy², no covariates.
    pub fn new(area: usize, period: i64, people: f64, sum_y: f64, sum_y2: f64) -> Self {
        Cell {
            area,
            period,
            people,
            sum_y,
            sum_y2,
            sum_x: Vec::new(),
        }
    }
}

/// Per-area cross-products of the person-level covariates, for regressions with
/// covariates (`k` covariates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaCovariates {
    /// Σ x x' over the area's people (all periods), `k x k` row-major.
    pub xx: Vec<f64>,
    /// Σ x y over the area's people (all periods), `k` values.
    pub xy: Vec<f64>,
}

/// An area x period panel of cells with each area's launch period, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Non-empty cells, sorted by area then period.
    cells: Vec<Cell>,
    launches: Vec<Option<i64>>,
    /// Covariates (0 without).
    k: usize,
    /// Per area when `k > 0`; empty otherwise.
    area_covariates: Vec<AreaCovariates>,
}

impl Panel {
    /// A panel without covariates.
    ///
    /// `launches[a]` is area `a`'s launch period: `Some(p)` for a treated area (treated from
    /// period `p` on), `None` for a comparison (never-treated) area. The order of `cells`
    /// does not matter.
    pub fn new(cells: Vec<Cell>, launches: Vec<Option<i64>>) -> Result<Panel, DidError> {
        Panel::build(cells, launches, Vec::new())
    }

    /// A panel with `k` person-level covariates: every cell carries `k` sums in `sum_x`, and
    /// `area_covariates[a]` holds area `a`'s Σxx' and Σxy (one entry per area in
    /// `launches`). Two-way fixed effects with covariates is still exact from these sums.
    pub fn with_covariates(
        cells: Vec<Cell>,
        launches: Vec<Option<i64>>,
        area_covariates: Vec<AreaCovariates>,
    ) -> Result<Panel, DidError> {
        Panel::build(cells, launches, area_covariates)
    }

    fn build(
        mut cells: Vec<Cell>,
        launches: Vec<Option<i64>>,
        area_covariates: Vec<AreaCovariates>,
    ) -> Result<Panel, DidError> {
        let k = area_covariates.first().map_or(0, |c| c.xy.len());
        if !area_covariates.is_empty() {
            if area_covariates.len() != launches.len()
                || area_covariates
                    .iter()
                    .any(|c| c.xy.len() != k || c.xx.len() != k * k)
            {
                return Err(DidError::CovariateShape);
            }
            if area_covariates
                .iter()
                .any(|c| c.xx.iter().chain(&c.xy).any(|v| !v.is_finite()))
            {
                return Err(DidError::NonFinite {
                    what: "covariate cross-products",
                });
            }
        }
        for c in &cells {
            if c.area >= launches.len() {
                return Err(DidError::AreaOutOfRange {
                    area: c.area,
                    areas: launches.len(),
                });
            }
            if c.sum_x.len() != k {
                return Err(DidError::CovariateShape);
            }
            if !(c.people.is_finite() && c.sum_y.is_finite() && c.sum_y2.is_finite()) {
                return Err(DidError::NonFinite { what: "cell sums" });
            }
            if c.sum_x.iter().any(|v| !v.is_finite()) {
                return Err(DidError::NonFinite {
                    what: "covariate sums",
                });
            }
            let bad = c.people < 0.0
                || (c.people == 0.0 && (c.sum_y != 0.0 || c.sum_y2 != 0.0))
                || (c.people > 0.0
                    && c.sum_y2 < c.sum_y * c.sum_y / c.people - 1e-9 * (1.0 + c.sum_y2.abs()));
            if bad {
                return Err(DidError::Counts {
                    area: c.area,
                    period: c.period,
                });
            }
        }
        cells.retain(|c| c.people > 0.0);
        cells.sort_by_key(|c| (c.area, c.period));
        if let Some(w) = cells
            .windows(2)
            .find(|w| (w[0].area, w[0].period) == (w[1].area, w[1].period))
        {
            return Err(DidError::DuplicateCell {
                area: w[0].area,
                period: w[0].period,
            });
        }
        Ok(Panel {
            cells,
            launches,
            k,
            area_covariates,
        })
    }

    /// The non-empty cells, sorted by area then period.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Each area's launch period (`None`: comparison area).
    pub fn launches(&self) -> &[Option<i64>] {
        &self.launches
    }

    /// Number of covariates.
    pub fn covariates(&self) -> usize {
        self.k
    }
}

/// Why a difference-in-differences estimate could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    /// The confidence level is not strictly between 0 and 1.
    #[error("difference-in-differences: the confidence level must be strictly between 0 and 1")]
    Confidence,
    /// A cell names an area beyond the launches list.
    #[error(
        "difference-in-differences: a cell names area {area}, but only {areas} areas have a launch entry"
    )]
    AreaOutOfRange {
        /// The area index.
        area: usize,
        /// Entries in `launches`.
        areas: usize,
    },
    /// An input is infinite or not a number.
    #[error("difference-in-differences: {what} must be finite numbers")]
    NonFinite {
        /// Which input.
        what: &'static str,
    },
    /// Negative people, an empty cell with outcomes, or Σy² below (Σy)²/n.
    #[error(
        "difference-in-differences: the cell of area {area}, period {period} has inconsistent sums (negative people, outcomes without people, or Σy² < (Σy)²/n)"
    )]
    Counts {
        /// The area.
        area: usize,
        /// The period.
        period: i64,
    },
    /// Two cells for the same area and period.
    #[error(
        "difference-in-differences: two cells for area {area}, period {period}: aggregate them first"
    )]
    DuplicateCell {
        /// The area.
        area: usize,
        /// The period.
        period: i64,
    },
    /// Covariate sums of the wrong length.
    #[error(
        "difference-in-differences: every cell needs one covariate sum per covariate, and every area its k x k and k cross-products"
    )]
    CovariateShape,
    /// Fewer than two areas with people.
    #[error("difference-in-differences: needs at least two areas with people (found {clusters})")]
    TooFewClusters {
        /// Areas with people.
        clusters: usize,
    },
    /// No treated area has people.
    #[error("difference-in-differences: no treated area has people in the panel")]
    NoTreated,
    /// No never-treated area has people.
    #[error("difference-in-differences: needs at least one comparison area that never launches")]
    NoComparison,
    /// A treated area has no cell before its launch.
    #[error(
        "difference-in-differences: treated area {area} has no people before its launch: its change cannot be measured"
    )]
    NoPreLaunch {
        /// The area.
        area: usize,
    },
    /// A treated area has no cell from its launch on.
    #[error("difference-in-differences: treated area {area} has no people from its launch on")]
    NoPostLaunch {
        /// The area.
        area: usize,
    },
    /// A period in which no comparison area has people.
    #[error(
        "difference-in-differences: period {period} has no people in any comparison area, so its effect cannot be separated from the pilot's"
    )]
    PeriodWithoutComparison {
        /// The period.
        period: i64,
    },
    /// Fewer people than parameters.
    #[error("difference-in-differences: {people} people for {parameters} parameters")]
    TooFewPeople {
        /// People.
        people: f64,
        /// Parameters K.
        parameters: usize,
    },
    /// The regressors are collinear (e.g. a covariate constant within areas).
    #[error(
        "difference-in-differences: the regressors are collinear (a covariate constant within areas, or treatment indistinguishable from area or period effects)"
    )]
    Collinear,
    /// The cluster-robust standard error is zero.
    #[error(
        "difference-in-differences: the cluster-robust standard error is zero (the model fits every area exactly)"
    )]
    NoVariation,
    /// The bootstrap was asked for no replications.
    #[error("wild cluster bootstrap: needs at least one replication")]
    Replications,
    /// No comparison area could serve as a placebo.
    #[error(
        "placebo in space: no comparison area could be treated as a placebo (each needs people before and after the launch, and at least one other comparison area in every period)"
    )]
    NoPlacebo,
    /// A distribution could not be built (an internal error).
    #[error("difference-in-differences: {0}")]
    Distribution(String),
}

/// The main difference-in-differences estimate: β of the two-way fixed effects regression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwfeFit {
    /// β: the change in the treated areas after launch beyond that in comparison areas.
    pub estimate: f64,
    /// Cluster-robust (CR1, by area) standard error.
    pub se: f64,
    /// `estimate / se`.
    pub t: f64,
    /// Lower limit of the interval, Student's t with `df`.
    pub ci_low: f64,
    /// Upper limit of the interval.
    pub ci_high: f64,
    /// Two-sided p-value, Student's t with `df`.
    pub p_value: f64,
    /// Degrees of freedom: clusters - 1.
    pub df: f64,
    /// Clusters: areas with people.
    pub clusters: usize,
    /// Treated areas with people.
    pub treated_clusters: usize,
    /// People N (Σ people over cells).
    pub people: f64,
    /// Parameters K (β, area and period effects, covariates).
    pub parameters: usize,
    /// The confidence level of the interval.
    pub confidence: f64,
}

/// One event-study coefficient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventCoefficient {
    /// Periods from the one holding the launch (0); -1 is the reference and never listed.
    pub relative_period: i64,
    /// The calendar period, when every treated area launched in the same period.
    pub period: Option<i64>,
    /// The coefficient.
    pub estimate: f64,
    /// Cluster-robust (CR1) standard error.
    pub se: f64,
    /// Lower limit, Student's t with clusters - 1 df.
    pub ci_low: f64,
    /// Upper limit.
    pub ci_high: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Joint Wald test that every pre-launch event-study coefficient is zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreTrend {
    /// `F = b' V⁻¹ b / q` with V the CR1 covariance of the q pre-launch coefficients.
    pub statistic: f64,
    /// q: pre-launch coefficients tested.
    pub df_num: f64,
    /// Clusters - 1.
    pub df_den: f64,
    /// `P(F(q, G-1) > statistic)`.
    pub p_value: f64,
}

/// Event study: effects by period relative to launch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventStudy {
    /// Coefficients by relative period, in order (the reference -1 left out).
    pub coefficients: Vec<EventCoefficient>,
    /// The pre-trend test; `None` when no pre-launch period but the reference exists, or
    /// when the coefficients' covariance is singular (more pre-launch periods than
    /// clusters - 1).
    pub pre_trend: Option<PreTrend>,
    /// Clusters.
    pub clusters: usize,
    /// The confidence level of the intervals.
    pub confidence: f64,
}

/// Options of [`did`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DidOptions {
    /// Confidence level of every interval. Default 0.95.
    pub confidence: f64,
    /// The wild cluster bootstrap; `None` to skip it. Default: 9999 replications, seed 1,
    /// weights chosen by the number of clusters.
    pub bootstrap: Option<WildBootstrapOptions>,
    /// Whether to fit the event study. Default true.
    pub event_study: bool,
    /// Whether to run the placebo in space. Default true.
    pub placebo: bool,
}

impl Default for DidOptions {
    fn default() -> Self {
        DidOptions {
            confidence: 0.95,
            bootstrap: Some(WildBootstrapOptions::default()),
            event_study: true,
            placebo: true,
        }
    }
}

/// A part of [`Did`] that could not be computed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unavailable {
    /// `"event_study"`, `"wild_bootstrap"` or `"placebo_in_space"`.
    pub part: &'static str,
    /// The reason, in words.
    pub reason: String,
}

/// Everything [`did`] computes for one outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Did {
    /// The two-way fixed effects estimate.
    pub twfe: TwfeFit,
    /// The event study (when asked for and identified).
    pub event_study: Option<EventStudy>,
    /// The wild cluster restricted bootstrap p-value of β.
    pub wild_bootstrap: Option<WildBootstrap>,
    /// Randomisation inference over the comparison areas.
    pub placebo_in_space: Option<PlaceboInSpace>,
    /// Parts asked for that could not be computed.
    pub unavailable: Vec<Unavailable>,
}

/// Difference-in-differences for one outcome: two-way fixed effects, event study, wild
/// cluster restricted bootstrap and placebo in space.
///
/// Fails only when the main estimate cannot be computed; a part that cannot (an event
/// study that is not identified, no usable placebo) is listed in `unavailable`.
///
/// ```
/// use reoffending::stats::did::{Cell, DidOptions, Panel, did};
/// // Six areas, six quarters; area 0 launches in quarter 3 and its rate falls by 5 points
/// // more than the others' after launch.
/// let mut cells = Vec::new();
/// for area in 0..6usize {
///     for quarter in 0..6i64 {
///         let base = 0.30 + 0.01 * area as f64 + 0.005 * quarter as f64;
///         let effect = if area == 0 && quarter >= 3 { -0.05 } else { 0.0 };
///         let wobble = 0.001 * ((area as i64 * 31 + quarter * 17 + area as i64 * quarter * 7) % 13) as f64;
///         cells.push(Cell::binary(area, quarter, 1000.0, 1000.0 * (base + effect + wobble)));
///     }
/// }
/// let panel = Panel::new(cells, vec![Some(3), None, None, None, None, None]).unwrap();
/// let result = did(&panel, &DidOptions::default()).unwrap();
/// assert!((result.twfe.estimate - -0.05).abs() < 0.02);
/// assert_eq!((result.twfe.clusters, result.twfe.treated_clusters), (6, 1));
/// assert_eq!(result.twfe.df, 5.0);
/// // With one treated area, lead with the placebo in space, and state its floor.
/// let placebo = result.placebo_in_space.unwrap();
/// assert_eq!(placebo.min_p_value, 1.0 / 6.0); // 1 / (1 + 5 comparison areas)
/// assert!(result.unavailable.is_empty());
/// ```
pub fn did(panel: &Panel, options: &DidOptions) -> Result<Did, DidError> {
    let twfe = twfe(panel, options.confidence)?;
    let mut unavailable = Vec::new();
    fn keep<T>(
        unavailable: &mut Vec<Unavailable>,
        part: &'static str,
        r: Result<T, DidError>,
    ) -> Option<T> {
        r.map_err(|e| {
            unavailable.push(Unavailable {
                part,
                reason: e.to_string(),
            })
        })
        .ok()
    }
    let event_study = if options.event_study {
        keep(
            &mut unavailable,
            "event_study",
            event_study(panel, options.confidence),
        )
    } else {
        None
    };
    let wild_bootstrap = match &options.bootstrap {
        Some(o) => keep(&mut unavailable, "wild_bootstrap", wild_bootstrap(panel, o)),
        None => None,
    };
    let placebo_in_space = if options.placebo {
        keep(
            &mut unavailable,
            "placebo_in_space",
            placebo_in_space(panel),
        )
    } else {
        None
    };
    Ok(Did {
        twfe,
        event_study,
        wild_bootstrap,
        placebo_in_space,
        unavailable,
    })
}

/// Checks that a regression of `cells` with `launch(area)` is identified in the ways this
/// module can name (the factorisation catches the rest as [`DidError::Collinear`]).
fn check_design(
    panel: &Panel,
    cells: &[usize],
    launch: impl Fn(usize) -> Option<i64>,
) -> Result<(), DidError> {
    let mut areas: Vec<(usize, i64, i64)> = Vec::new(); // area, first, last period
    for &c in cells {
        let cell = &panel.cells[c];
        match areas.last_mut() {
            Some(last) if last.0 == cell.area => {
                last.1 = last.1.min(cell.period);
                last.2 = last.2.max(cell.period);
            }
            _ => areas.push((cell.area, cell.period, cell.period)),
        }
    }
    if areas.len() < 2 {
        return Err(DidError::TooFewClusters {
            clusters: areas.len(),
        });
    }
    if !areas.iter().any(|a| launch(a.0).is_some()) {
        return Err(DidError::NoTreated);
    }
    if !areas.iter().any(|a| launch(a.0).is_none()) {
        return Err(DidError::NoComparison);
    }
    for &(area, first, last) in &areas {
        if let Some(l) = launch(area) {
            if first >= l {
                return Err(DidError::NoPreLaunch { area });
            }
            if last < l {
                return Err(DidError::NoPostLaunch { area });
            }
        }
    }
    let mut periods: Vec<(i64, bool)> = cells
        .iter()
        .map(|&c| {
            let cell = &panel.cells[c];
            (cell.period, launch(cell.area).is_none())
        })
        .collect();
    periods.sort_unstable();
    let mut i = 0;
    while i < periods.len() {
        let p = periods[i].0;
        let mut has_comparison = false;
        while i < periods.len() && periods[i].0 == p {
            has_comparison |= periods[i].1;
            i += 1;
        }
        if !has_comparison {
            return Err(DidError::PeriodWithoutComparison { period: p });
        }
    }
    Ok(())
}

fn check_confidence(confidence: f64) -> Result<(), DidError> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(DidError::Confidence)
    }
}

/// Student's t with `df` degrees of freedom.
fn students_t(df: f64) -> Result<StudentsT, DidError> {
    StudentsT::new(0.0, 1.0, df).map_err(|e| DidError::Distribution(e.to_string()))
}

/// Interval and two-sided p-value of `estimate` with standard error `se`.
fn t_inference(t_dist: &StudentsT, confidence: f64, estimate: f64, se: f64) -> (f64, f64, f64) {
    let q = t_dist.inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let t = estimate / se;
    let p = (2.0 * t_dist.sf(t.abs())).clamp(0.0, 1.0);
    (estimate - q * se, estimate + q * se, p)
}

/// The standard two-way fixed effects regression of a panel: D = 1 in a treated area from
/// its launch on.
pub(crate) fn twfe_model(panel: &Panel) -> Result<Model<'_>, DidError> {
    let cells: Vec<usize> = (0..panel.cells.len()).collect();
    check_design(panel, &cells, |a| panel.launches[a])?;
    Ok(Model::new(panel, cells, 1, |cell, z| {
        z[0] = match panel.launches[cell.area] {
            Some(l) if cell.period >= l => 1.0,
            _ => 0.0,
        };
    }))
}

/// The standard error from a variance, refused when it is zero up to rounding: below
/// `1e-10` of the outcome's root mean square (a model that fits every area's cells exactly,
/// such as a literal 2 x 2, leaves only rounding noise in the clusters' scores).
pub(crate) fn checked_se(model: &Model<'_>, variance: f64) -> Result<f64, DidError> {
    let se = variance.max(0.0).sqrt();
    let scale = (model.sum_y2() / model.people)
        .sqrt()
        .max(f64::MIN_POSITIVE);
    if se.is_finite() && se > 1e-10 * scale {
        Ok(se)
    } else {
        Err(DidError::NoVariation)
    }
}

/// Treated areas with people in the panel.
fn treated_clusters(panel: &Panel, model: &Model<'_>) -> usize {
    model
        .areas
        .iter()
        .filter(|&&a| panel.launches[a].is_some())
        .count()
}

/// Two-way fixed effects estimate of β with its CR1 cluster-robust standard error.
///
/// The regression on people `y_i = β D_i + α_area + γ_period (+ θ'x_i) + ε_i`, D = 1 in a
/// treated area from its launch period on, computed exactly from the cells. Matches
/// statsmodels `OLS(...).fit(cov_type='cluster', cov_kwds={'groups': area})` with
/// `use_t=True` (tests/reference/did.py).
///
/// ```
/// use reoffending::stats::did::{Cell, Panel, twfe};
/// // Two periods; the comparison areas have the same people in both, so β is the
/// // difference of four means: the pilot's change minus the pooled comparison change.
/// let cells = vec![
///     Cell::binary(0, 0, 120.0, 54.0), Cell::binary(0, 1, 90.0, 27.0), // pilot: 45% to 30%
///     Cell::binary(1, 0, 200.0, 70.0), Cell::binary(1, 1, 200.0, 66.0),
///     Cell::binary(2, 0, 300.0, 90.0), Cell::binary(2, 1, 300.0, 93.0), // 32% to 31.8%
/// ];
/// let fit = twfe(&Panel::new(cells, vec![Some(1), None, None]).unwrap(), 0.95).unwrap();
/// assert!((fit.estimate - (-0.15 - -0.002)).abs() < 1e-12);
/// assert!(fit.ci_low < fit.estimate && fit.estimate < fit.ci_high);
/// ```
pub fn twfe(panel: &Panel, confidence: f64) -> Result<TwfeFit, DidError> {
    check_confidence(confidence)?;
    let model = twfe_model(panel)?;
    let fit = model.fit()?;
    let g = model.clusters();
    let se = checked_se(&model, fit.vcov[0][0])?;
    let df = g as f64 - 1.0;
    let t_dist = students_t(df)?;
    let estimate = fit.b[0];
    let (ci_low, ci_high, p_value) = t_inference(&t_dist, confidence, estimate, se);
    Ok(TwfeFit {
        estimate,
        se,
        t: estimate / se,
        ci_low,
        ci_high,
        p_value,
        df,
        clusters: g,
        treated_clusters: treated_clusters(panel, &model),
        people: model.people,
        parameters: model.columns(),
        confidence,
    })
}

/// Event study: one indicator per period relative to launch, with the pre-trend test.
///
/// D is replaced by indicators of `period - launch = r` in treated areas, for every `r`
/// present but -1 (the reference); the same CR1 errors and t with clusters - 1 df. The
/// pre-trend test is the Wald test that all coefficients with `r < -1` are zero, as
/// statsmodels' `f_test` with `cov_type='cluster'`: `F = b' V⁻¹ b / q` with the CR1
/// covariance V (its small-sample factor included) and denominator df
/// `df_resid_inference = G - 1`.
pub fn event_study(panel: &Panel, confidence: f64) -> Result<EventStudy, DidError> {
    check_confidence(confidence)?;
    let cells: Vec<usize> = (0..panel.cells.len()).collect();
    check_design(panel, &cells, |a| panel.launches[a])?;
    let relative = |cell: &Cell| panel.launches[cell.area].map(|l| cell.period - l);
    let mut rel: Vec<i64> = panel
        .cells
        .iter()
        .filter_map(relative)
        .filter(|&r| r != -1)
        .collect();
    rel.sort_unstable();
    rel.dedup();
    let model = Model::new(panel, cells, rel.len(), |cell, z| {
        z.fill(0.0);
        // No let-chains: the crate's rust-version is 1.85.
        if let Some(Ok(j)) = relative(cell).map(|r| rel.binary_search(&r)) {
            z[j] = 1.0;
        }
    });
    let fit = model.fit()?;
    let g = model.clusters();
    let df = g as f64 - 1.0;
    let t_dist = students_t(df)?;
    let mut launches: Vec<i64> = panel.launches.iter().flatten().copied().collect();
    launches.sort_unstable();
    launches.dedup();
    let common = if launches.len() == 1 {
        launches.first().copied()
    } else {
        None
    };
    let mut coefficients = Vec::with_capacity(rel.len());
    for (j, &r) in rel.iter().enumerate() {
        let se = checked_se(&model, fit.vcov[j][j])?;
        let (ci_low, ci_high, p_value) = t_inference(&t_dist, confidence, fit.b[j], se);
        coefficients.push(EventCoefficient {
            relative_period: r,
            period: common.map(|l| l + r),
            estimate: fit.b[j],
            se,
            ci_low,
            ci_high,
            p_value,
        });
    }
    let pre: Vec<usize> = (0..rel.len()).filter(|&j| rel[j] < -1).collect();
    let pre_trend = if pre.is_empty() {
        None
    } else {
        let v: Vec<Vec<f64>> = pre
            .iter()
            .map(|&i| pre.iter().map(|&j| fit.vcov[i][j]).collect())
            .collect();
        let b: Vec<f64> = pre.iter().map(|&j| fit.b[j]).collect();
        match engine::cholesky(&v) {
            None => None,
            Some(l) => {
                let q = pre.len() as f64;
                let statistic = engine::dot(&b, &engine::chol_solve(&l, &b)) / q;
                let f = FisherSnedecor::new(q, df)
                    .map_err(|e| DidError::Distribution(e.to_string()))?;
                Some(PreTrend {
                    statistic,
                    df_num: q,
                    df_den: df,
                    p_value: f.sf(statistic).clamp(0.0, 1.0),
                })
            }
        }
    };
    Ok(EventStudy {
        coefficients,
        pre_trend,
        clusters: g,
        confidence,
    })
}
