//! The whole-report audit: what an intruder can infer from every published figure at once,
//! and the suppression that stops it.
//!
//! # Method
//!
//! As tau-ARGUS's audit, with the non-negative integer counts relaxed to reals:
//!
//! 1. **Primary suppression.** A count printed in any form (exactly or as a range) whose
//!    true value is in `1..min_cell-1` is suppressed; so is a ratio whose numerator,
//!    denominator or (when the numerator's cells lie within the denominator's) complement
//!    `den - num` is in `1..min_cell-1`, and a model statistic resting on a count below its
//!    threshold.
//! 2. **What must be protected** (the *sensitive* items): every registered count, printed
//!    or not, and (with [`AuditOptions::protect_cells`]) every cell, whose true value is in
//!    `1..min_cell-1`.
//! 3. **Audit.** For each sensitive item, its smallest and largest value subject to every
//!    published constraint: printed counts (`expr = v`, or `lo <= expr <= hi` for a range),
//!    printed ratios (`(r - p/2)·den <= num <= (r + p/2)·den` and `den >= 1`), labels
//!    (`Σ cells >= 1`), and cells `>= 0` (`>= 1` when known non-empty). The bounds are
//!    rounded inward to integers (`ceil(lo)`, `floor(hi)`, after a 1e-6 tolerance).
//! 4. **The rule** ([`Interval::is_pinned`]): an item is *pinned* when its interval
//!    `[lo, hi]` is bounded, meets `1..min_cell-1`, holds fewer than `min_cell` integers
//!    (`hi - lo + 1 < min_cell`) and does not include both 0 and `min_cell`. A sensitive
//!    item's interval always contains its true value, so it always meets `1..min_cell-1`;
//!    for integer bounds the last clause follows from the third (an interval holding 0 and
//!    `min_cell` holds `min_cell + 1` integers) and is checked anyway, as the issue words it.
//! 5. **Secondary suppression.** While an item is pinned, more published figures are
//!    suppressed, one per pinned item not already freed by this round's choices: among the
//!    figures within two links of the item (sharing a cell with it, or with a figure that
//!    does), the smallest count (a ratio counts as its numerator), ties broken by key,
//!    preferring, among the first [`AuditOptions::verify_candidates`], the first that frees
//!    the item on its own, else the one that widens its interval most; then the audit is
//!    repeated. Suppressing a figure only
//!    removes constraints, so an item once safe stays safe and only pinned items are
//!    audited again.
//! 6. **Fail closed.** Where a printed number disagrees with the cells (the true values
//!    would not be feasible), or the solver fails, every published figure of that
//!    component is suppressed and the cause is listed in [`AuditReport::failures`].
//!
//! # Cost
//!
//! Components (cells linked by published figures) are independent; an item spanning
//! several has the sum of its parts' bounds. An item in components of at most
//! [`AuditOptions::exact_up_to`] cells is solved exactly (two LPs). In a larger component
//! the audit solves one feasibility model per component and round (objective 0, a variable
//! for each sensitive item) and *probes* it, warm-started: the item is safe when it can be
//! fixed at `value + min_cell - 1` or `value - min_cell + 1` and stay feasible (the feasible
//! set is convex and holds the true value); otherwise its integer bounds are found by
//! bisection, which is exact. Every feasible point a probe finds is kept as a witness, and
//! an item whose witnessed values already span `min_cell` integers needs no probe.
//! Reported intervals of large components are such certificates unless marked exact (the
//! exact interval contains them). Comparing secondary candidates uses a relaxation over the
//! item's neighbourhood (the cells of published figures of at most 64 cells within two
//! links): its interval contains the exact one. A figure's final interval in a large
//! component comes from a restriction of that neighbourhood (outside cells fixed at their
//! true values: inside the exact interval), or from probes.
//!
//! Every order (cells, figures, items, candidates, components) is by key, so the result does
//! not depend on registration order, hashing or threads.

use std::collections::{BTreeMap, BTreeSet};

use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable,
    microlp, variable,
};
use serde::Serialize;
use thiserror::Error;

use super::registry::{CellId, FigureId, Kind, Registry, RegistryError, Shown};

/// Settings of the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuditOptions {
    /// The smallest count that may be published (counts in `1..min_cell-1` are protected).
    pub min_cell: u64,
    /// Protect the cells of the finest partition as well as the registered counts (people
    /// set aside between two tables are a cell, not a figure).
    pub protect_cells: bool,
    /// How many secondary candidates are tried, each with up to two extra LPs, for one
    /// that widens the pinned item's interval on its own.
    pub verify_candidates: usize,
    /// Components of at most this many cells are solved exactly; larger ones first by the
    /// neighbourhood restriction and relaxation (module docs, "Cost").
    pub exact_up_to: usize,
}

impl AuditOptions {
    /// The defaults for `min_cell`: cells protected, up to 4 candidates verified,
    /// components of up to 100 cells solved exactly.
    pub fn new(min_cell: u64) -> Self {
        Self {
            min_cell,
            protect_cells: true,
            verify_candidates: 4,
            exact_up_to: 100,
        }
    }
}

/// A figure or a cell of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Item {
    /// A registered figure (a count).
    Figure(FigureId),
    /// A cell of the finest partition.
    Cell(CellId),
}

/// What a reader can infer about a count: `lo <= value <= hi`, rounded inward to
/// integers; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    /// The smallest value consistent with everything published (`None`: no lower bound).
    pub lo: Option<i64>,
    /// The largest value consistent with everything published (`None`: no upper bound).
    pub hi: Option<i64>,
}

impl Interval {
    /// Whether the interval pins a count to small values: it is bounded, meets
    /// `1..min_cell-1`, holds fewer than `min_cell` integers, and does not include both 0
    /// and `min_cell`. An empty interval (`lo > hi`, only from rounding error) is pinned.
    pub fn is_pinned(&self, min_cell: u64) -> bool {
        let (Some(lo), Some(hi)) = (self.lo, self.hi) else {
            return false;
        };
        if lo > hi {
            return true;
        }
        let m = i128::from(min_cell);
        let (lo, hi) = (i128::from(lo), i128::from(hi));
        let meets_small = lo < m && hi >= 1;
        let covers = hi - lo + 1 >= m;
        let zero_and_m = lo <= 0 && hi >= m;
        meets_small && !covers && !zero_and_m
    }

    /// Whether `other` lies within this interval.
    pub fn contains(&self, other: &Interval) -> bool {
        let lo_ok = match (self.lo, other.lo) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a <= b,
        };
        let hi_ok = match (self.hi, other.hi) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a >= b,
        };
        lo_ok && hi_ok
    }
}

/// Why a figure is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Reason {
    /// It is, or directly reveals, a count in `1..min_cell-1` (the key of that count; a
    /// ratio's complement is named `"den - num"`).
    Primary {
        /// The small count.
        count: String,
    },
    /// Published, it would pin the sensitive item with this key.
    Secondary {
        /// The protected item's key.
        protects: String,
    },
    /// A model statistic resting on a count below its threshold.
    Model {
        /// The count's key.
        count: String,
    },
    /// The audit could not vouch for its component (inconsistent printed numbers or a
    /// solver failure): suppressed rather than published.
    FailClosed {
        /// What went wrong.
        cause: String,
    },
}

/// A suppressed figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppression {
    /// The figure.
    pub figure: FigureId,
    /// Its key.
    pub key: String,
    /// Why.
    pub reason: Reason,
    /// For a count: what everything published still tells about it (`None` for ratios and
    /// model statistics, or when the solver failed on it).
    pub interval: Option<Interval>,
    /// Whether `interval` is exact; otherwise it is the neighbourhood restriction's, and
    /// the exact interval contains it.
    pub exact: bool,
}

/// A sensitive item (a count or cell in `1..min_cell-1`) and what can be inferred about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Protected {
    /// The figure or cell.
    pub item: Item,
    /// Its key.
    pub key: String,
    /// Its true value.
    pub value: i64,
    /// Its feasible interval after suppression (`None` when the solver failed on it).
    pub interval: Option<Interval>,
    /// Whether `interval` is exact; otherwise it is the neighbourhood restriction's, and
    /// the exact interval contains it (so it is at least as wide by the rule).
    pub exact: bool,
}

/// Work done by the audit (deterministic: no timings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AuditStats {
    /// Audit rounds (one plus one per round of secondary suppression).
    pub rounds: usize,
    /// Linear programmes solved.
    pub lps: usize,
    /// Of which over a whole component (the others over a neighbourhood).
    pub component_lps: usize,
    /// Independent components before secondary suppression.
    pub components: usize,
    /// Cells of the largest of them.
    pub largest_component: usize,
}

/// The audit's outcome: what to suppress, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// The threshold applied.
    pub min_cell: u64,
    /// Every figure to print as `[c]`, by key.
    pub suppressed: Vec<Suppression>,
    /// Every sensitive item with its final interval (figures by key, then cells by key).
    pub protected: Vec<Protected>,
    /// Why components were suppressed whole (empty when the audit vouched for everything).
    pub failures: Vec<String>,
    /// Work done.
    pub stats: AuditStats,
}

impl AuditReport {
    /// Whether figure `id` is suppressed.
    pub fn is_suppressed(&self, id: FigureId) -> bool {
        self.suppressed.iter().any(|s| s.figure == id)
    }

    /// The suppression of the figure with key `key`.
    pub fn suppression(&self, key: &str) -> Option<&Suppression> {
        self.suppressed.iter().find(|s| s.key == key)
    }

    /// The sensitive item with key `key` (figures first, then cells).
    pub fn protection(&self, key: &str) -> Option<&Protected> {
        self.protected.iter().find(|p| p.key == key)
    }

    /// The suppressed figures' ids.
    pub fn suppressed_ids(&self) -> Vec<FigureId> {
        self.suppressed.iter().map(|s| s.figure).collect()
    }
}

/// Why the audit could not run at all.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AuditError {
    /// `min_cell` must be at least 1.
    #[error("min_cell must be at least 1")]
    InvalidMinCell,
    /// A figure or cell the registry did not issue, or a figure that is not a count.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The solver failed (only from [`feasible_interval`]; [`audit`] fails closed).
    #[error("solver: {0}")]
    Solver(String),
}

/// Audits the whole registry and decides what to suppress. Errors only on invalid options:
/// inconsistent figures and solver failures are suppressed (fail closed) and reported in
/// [`AuditReport::failures`].
pub fn audit(registry: &Registry, options: &AuditOptions) -> Result<AuditReport, AuditError> {
    if options.min_cell == 0 {
        return Err(AuditError::InvalidMinCell);
    }
    let mut w = Work::new(registry, options);
    w.primary();
    let items = w.sensitive(options.protect_cells);
    w.targets = items.iter().map(|s| s.lin.clone()).collect();
    w.fail_inconsistent();
    let comps = w.components();
    w.stats.components = comps.sizes.len();
    w.stats.largest_component = comps.sizes.iter().copied().max().unwrap_or(0);
    let mut pending: BTreeSet<usize> = (0..items.len()).collect();
    let protected = loop {
        w.secondary(&items, &mut pending);
        let before = w.reasons.len();
        let (protected, again) = w.finish(&items);
        // Pinned at the end (a component failed closed, or rounding): audit those again,
        // as long as something published is left around them to suppress.
        if again.is_empty() || (w.reasons.len() == before && !w.any_published_near(&items, &again))
        {
            if !again.is_empty() {
                w.failures.push(format!(
                    "{} item(s) stay pinned with nothing published around them",
                    again.len()
                ));
            }
            break protected;
        }
        pending.extend(again);
    };
    w.final_pass = true;
    let comps = w.components();
    let mut cache = RoundCache::default();
    let mut suppressed = Vec::new();
    for f in w.fig_order.clone() {
        let Some(reason) = w.reasons.get(&f).cloned() else {
            continue;
        };
        let (interval, exact) = match w.count_lin(f) {
            Some(lin) => match w.assess(&comps, &mut cache, &lin, w.value(f), &[], How::Interval) {
                Ok(a) => (Some(a.interval), a.exact),
                Err(_) => (None, false),
            },
            None => (None, false),
        };
        suppressed.push(Suppression {
            figure: f,
            key: registry.figures()[f.0].key.clone(),
            reason,
            interval,
            exact,
        });
    }
    Ok(AuditReport {
        min_cell: options.min_cell,
        suppressed,
        protected,
        failures: w.failures,
        stats: w.stats,
    })
}

/// What a reader can infer about `item` from every figure of the registry that is printed
/// (not withheld) and not in `suppressed`, with labels and known non-empty cells: one
/// linear programme over the whole registry, without the audit's decomposition or
/// neighbourhoods (an independent check, and a way to show an intruder's route).
pub fn feasible_interval(
    registry: &Registry,
    suppressed: &[FigureId],
    item: Item,
) -> Result<Interval, AuditError> {
    let mut w = Work::new(registry, &AuditOptions::new(1));
    for &f in suppressed {
        registry
            .figure(f)
            .ok_or(RegistryError::UnknownFigure(f.0))?;
        w.published[f.0] = false;
    }
    let lin = match item {
        Item::Figure(f) => {
            registry.count_terms(f)?;
            w.count_lin(f).ok_or(RegistryError::UnknownFigure(f.0))?
        }
        Item::Cell(c) => {
            registry
                .cell_info(c)
                .ok_or(RegistryError::UnknownCell(c.0))?;
            vec![(w.rank[c.0], 1.0)]
        }
    };
    let all: Vec<usize> = (0..w.n).collect();
    let lp = w.assemble(&all, Mode::Relax, &[]);
    let lo = w.solve(&lp, &lin, false).map_err(AuditError::Solver)?;
    let hi = w.solve(&lp, &lin, true).map_err(AuditError::Solver)?;
    Ok(round_inward(lo, hi))
}

// ---------------------------------------------------------------------------------------

/// A linear expression over cells (canonical ranks, sorted) with its coefficients.
type Lin = Vec<(usize, f64)>;

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Eq,
    Ge,
    Le,
}

/// One constraint a figure places on the cells (over canonical ranks).
#[derive(Debug, Clone)]
struct Row {
    terms: Lin,
    cmp: Cmp,
    rhs: f64,
}

/// A linear programme over some cells: their lower bounds and the rows over them (terms
/// indexed by position in `cells`).
struct Lp {
    cells: Vec<usize>,
    lb: Vec<f64>,
    rows: Vec<Row>,
}

/// How [`Work::assemble`] treats constraints reaching outside its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Dropped: a relaxation (exact when the cells are whole components).
    Relax,
    /// Kept, with the outside cells fixed at their true values: a restriction.
    Restrict,
}

/// Components: `of[rank]` is the component of a cell, `sizes[c]` its number of cells.
struct Comps {
    of: Vec<usize>,
    sizes: Vec<usize>,
}

/// A sensitive item.
struct Sensitive {
    item: Item,
    key: String,
    value: i64,
    lin: Lin,
}

/// A component's solved feasibility model and the variables to probe.
struct Base {
    /// The model (taken while a probe runs; `None` after a failed one).
    sol: Option<microlp::Solution>,
    /// The model as first solved, to start again from after an infeasible probe.
    spare: microlp::Solution,
    /// Each target's variable (cells and sums), and its position by [`lin_key`].
    targets: Vec<microlp::Variable>,
    index: BTreeMap<Vec<(usize, i64)>, usize>,
    /// The smallest and largest value each target has taken at a feasible point found.
    seen: Vec<(f64, f64)>,
}

impl Base {
    /// Records the current solution as a witness.
    fn witness(&mut self) {
        if let Some(sol) = &self.sol {
            for (j, &var) in self.targets.iter().enumerate() {
                let x = sol.var_value(var);
                let s = &mut self.seen[j];
                s.0 = s.0.min(x);
                s.1 = s.1.max(x);
            }
        }
    }
}

/// The LPs and models built in one round (constraints do not change within a round).
#[derive(Default)]
struct RoundCache {
    lps: BTreeMap<usize, Lp>,
    bases: BTreeMap<usize, Base>,
}

fn lin_key(lin: &Lin) -> Vec<(usize, i64)> {
    lin.iter().map(|&(x, k)| (x, k.round() as i64)).collect()
}

/// What an assessment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Whether a sensitive item is pinned (the interval may stop at what proves it safe).
    Verdict,
    /// The interval to report (both bounds).
    Interval,
    /// A cheap estimate to compare candidates: in a large component, the relaxation only.
    Estimate,
}

/// What one assessment of an item found.
#[derive(Debug, Clone, Copy)]
struct Assessment {
    /// Whether the item is pinned (proven either way).
    pinned: bool,
    /// The exact interval, or: the restriction's (inside the exact one) when not pinned,
    /// the relaxation's (containing it) when pinned.
    interval: Interval,
    exact: bool,
}

/// Links from the item to the edge of the relaxation used to compare candidates.
const ESTIMATE_HOPS: usize = 2;

/// The most cells of a restriction (unless the item alone has more).
const INNER_CELLS: usize = 32;

/// The largest figure (in cells) whose cells join an item's neighbourhood.
const NEIGHBOURHOOD_FIGURE_CELLS: usize = 64;

/// Slack on a printed ratio's bounds, relative to the ratio, for floating-point rounding of
/// `r ± p/2` (a relaxation: it widens what the reader is assumed to know by about 1e-9 of
/// the denominator).
const RATIO_SLACK: f64 = 1e-9;

fn tol(x: f64) -> f64 {
    1e-6 + 1e-9 * x.abs()
}

fn round_inward(lo: f64, hi: f64) -> Interval {
    let lo = lo.is_finite().then(|| (lo - tol(lo)).ceil() as i64);
    let hi = hi.is_finite().then(|| (hi + tol(hi)).floor() as i64);
    Interval { lo, hi }
}

struct Work<'a> {
    reg: &'a Registry,
    m: i64,
    verify: usize,
    exact_up_to: usize,
    n: usize,
    /// Canonical rank of each cell (by key).
    rank: Vec<usize>,
    /// True value of each cell, by rank.
    truth: Vec<f64>,
    /// Lower bound of each cell, by rank.
    lb: Vec<f64>,
    /// Figure ids in key order, and each figure's position in it.
    fig_order: Vec<FigureId>,
    fig_pos: Vec<usize>,
    /// Whether each figure is published now: printed counts and ratios (constraints) and
    /// model statistics (not constraints).
    published: Vec<bool>,
    /// Labels whose rows hold (an inconsistent one is dropped after failing its component).
    label_ok: Vec<bool>,
    /// Cells (ranks) each figure touches, sorted.
    fig_cells: Vec<Vec<usize>>,
    /// The rows each figure places when published (labels: always).
    fig_rows: Vec<Vec<Row>>,
    /// Figures with rows touching each cell, in key order.
    touch: Vec<Vec<FigureId>>,
    reasons: BTreeMap<FigureId, Reason>,
    /// The sensitive items' expressions (probe targets).
    targets: Vec<Lin>,
    /// After the rounds: suppressed counts are probe targets too (for their intervals).
    final_pass: bool,
    /// Sensitive items found safe: interval, exactness, and `reasons.len()` then.
    assessed: BTreeMap<usize, (Interval, bool, usize)>,
    failures: Vec<String>,
    stats: AuditStats,
}

impl<'a> Work<'a> {
    fn new(reg: &'a Registry, options: &AuditOptions) -> Self {
        let cells = reg.cells();
        let n = cells.len();
        let mut by_key: Vec<usize> = (0..n).collect();
        by_key.sort_by(|&a, &b| cells[a].key.cmp(&cells[b].key));
        let mut rank = vec![0; n];
        for (r, &c) in by_key.iter().enumerate() {
            rank[c] = r;
        }
        let mut truth = vec![0.0; n];
        let mut lb = vec![0.0; n];
        for (c, cell) in cells.iter().enumerate() {
            truth[rank[c]] = cell.value as f64;
            if cell.known_nonempty {
                lb[rank[c]] = 1.0;
            }
        }
        let figs = reg.figures();
        let mut fig_order: Vec<FigureId> = (0..figs.len()).map(FigureId).collect();
        fig_order.sort_by(|a, b| figs[a.0].key.cmp(&figs[b.0].key));
        let mut fig_pos = vec![0; figs.len()];
        for (p, f) in fig_order.iter().enumerate() {
            fig_pos[f.0] = p;
        }
        let mut w = Work {
            reg,
            m: i64::try_from(options.min_cell).unwrap_or(i64::MAX),
            verify: options.verify_candidates,
            exact_up_to: options.exact_up_to,
            n,
            rank,
            truth,
            lb,
            fig_order,
            fig_pos,
            published: vec![false; figs.len()],
            label_ok: vec![true; figs.len()],
            fig_cells: vec![Vec::new(); figs.len()],
            fig_rows: vec![Vec::new(); figs.len()],
            touch: vec![Vec::new(); n],
            reasons: BTreeMap::new(),
            targets: Vec::new(),
            final_pass: false,
            assessed: BTreeMap::new(),
            failures: Vec::new(),
            stats: AuditStats::default(),
        };
        for f in w.fig_order.clone() {
            let rows = w.rows_of(f);
            let mut cs: Vec<usize> = match &figs[f.0].kind {
                Kind::Count { terms, shown, .. } => {
                    w.published[f.0] = !matches!(shown, Shown::Withheld);
                    terms.iter().map(|(c, _)| w.rank[c.0]).collect()
                }
                Kind::Ratio { num, den, .. } => {
                    w.published[f.0] = true;
                    let mut v = w.lin_cells(*num);
                    v.extend(w.lin_cells(*den));
                    v
                }
                Kind::Label { cells } => cells.iter().map(|c| w.rank[c.0]).collect(),
                Kind::Model { .. } => {
                    // Never a constraint (no cells, no rows), but suppressible.
                    w.published[f.0] = true;
                    Vec::new()
                }
            };
            cs.sort_unstable();
            cs.dedup();
            if !rows.is_empty() {
                for &c in &cs {
                    w.touch[c].push(f);
                }
            }
            w.fig_cells[f.0] = cs;
            w.fig_rows[f.0] = rows;
        }
        w
    }

    fn lin_cells(&self, f: FigureId) -> Vec<usize> {
        self.count_lin(f)
            .map(|l| l.into_iter().map(|(c, _)| c).collect())
            .unwrap_or_default()
    }

    /// A count figure as a linear expression over canonical ranks (sorted).
    fn count_lin(&self, f: FigureId) -> Option<Lin> {
        match &self.reg.figure(f)?.kind {
            Kind::Count { terms, .. } => {
                let mut lin: Lin = terms
                    .iter()
                    .map(|(c, k)| (self.rank[c.0], *k as f64))
                    .collect();
                lin.sort_by_key(|t| t.0);
                Some(lin)
            }
            _ => None,
        }
    }

    /// The bounds `[a, b]` a printed ratio places on `num / den`, slightly relaxed.
    fn ratio_bounds(value: f64, precision: f64) -> (f64, f64) {
        let slack = RATIO_SLACK * value.abs().max(1.0);
        (
            value - precision / 2.0 - slack,
            value + precision / 2.0 + slack,
        )
    }

    /// The rows figure `f` places on the cells when published (labels: always).
    fn rows_of(&self, f: FigureId) -> Vec<Row> {
        let row = |terms: Lin, cmp, rhs| Row { terms, cmp, rhs };
        match &self.reg.figures()[f.0].kind {
            Kind::Count { shown, .. } => {
                let Some(lin) = self.count_lin(f) else {
                    return Vec::new();
                };
                match *shown {
                    Shown::Exact(v) | Shown::Known(v) => vec![row(lin, Cmp::Eq, v as f64)],
                    Shown::Range { lo, hi } => {
                        vec![row(lin.clone(), Cmp::Ge, lo), row(lin, Cmp::Le, hi)]
                    }
                    Shown::Withheld => Vec::new(),
                }
            }
            Kind::Ratio {
                num,
                den,
                value,
                precision,
            } => {
                let (Some(nl), Some(dl)) = (self.count_lin(*num), self.count_lin(*den)) else {
                    return Vec::new();
                };
                let (a, b) = Self::ratio_bounds(*value, *precision);
                // num - a·den >= 0, num - b·den <= 0, and den >= 1 (a ratio is printed).
                let mut rows = Vec::new();
                for (s, cmp) in [(a, Cmp::Ge), (b, Cmp::Le)] {
                    let mut t: BTreeMap<usize, f64> = BTreeMap::new();
                    for &(x, k) in &nl {
                        *t.entry(x).or_insert(0.0) += k;
                    }
                    for &(x, k) in &dl {
                        *t.entry(x).or_insert(0.0) -= s * k;
                    }
                    rows.push(row(t.into_iter().collect(), cmp, 0.0));
                }
                rows.push(row(dl, Cmp::Ge, 1.0));
                rows
            }
            Kind::Label { cells } => {
                let mut lin: Lin = cells.iter().map(|c| (self.rank[c.0], 1.0)).collect();
                lin.sort_by_key(|t| t.0);
                vec![row(lin, Cmp::Ge, 1.0)]
            }
            Kind::Model { .. } => Vec::new(),
        }
    }

    fn value(&self, f: FigureId) -> i64 {
        self.reg.count_value(f).unwrap_or(0)
    }

    fn key(&self, f: FigureId) -> &str {
        &self.reg.figures()[f.0].key
    }

    fn small(&self, v: i64) -> bool {
        v >= 1 && v < self.m
    }

    fn is_label(&self, f: FigureId) -> bool {
        matches!(self.reg.figures()[f.0].kind, Kind::Label { .. })
    }

    /// Whether figure `f`'s rows are constraints now (labels: unless inconsistent or
    /// implied by a published count).
    fn active(&self, f: FigureId, exclude: &[FigureId]) -> bool {
        if self.is_label(f) {
            self.label_ok[f.0] && !self.label_implied(f)
        } else {
            self.published[f.0] && !self.fig_rows[f.0].is_empty() && !exclude.contains(&f)
        }
    }

    /// Whether label `f`'s row (`Σ cells >= 1`) is implied by a published count over the
    /// same cells (all coefficients 1) known to be at least 1: left out of the LP without
    /// changing its feasible set.
    fn label_implied(&self, f: FigureId) -> bool {
        let cells = &self.fig_cells[f.0];
        let Some(&first) = cells.first() else {
            return false;
        };
        self.touch[first].iter().any(|&g| {
            if !self.published[g.0] || self.fig_cells[g.0] != *cells {
                return false;
            }
            match &self.reg.figures()[g.0].kind {
                Kind::Count { terms, shown, .. } => {
                    let at_least_1 = match *shown {
                        Shown::Exact(v) | Shown::Known(v) => v >= 1,
                        Shown::Range { lo, .. } => lo >= 1.0,
                        Shown::Withheld => false,
                    };
                    at_least_1 && terms.iter().all(|&(_, k)| k == 1)
                }
                _ => false,
            }
        })
    }

    /// Whether figure `f` is an identity every reader knows ([`Shown::Known`]).
    fn is_known(&self, f: FigureId) -> bool {
        matches!(
            self.reg.figures()[f.0].kind,
            Kind::Count {
                shown: Shown::Known(_),
                ..
            }
        )
    }

    fn suppress(&mut self, f: FigureId, reason: Reason) {
        if self.published[f.0] && !self.is_known(f) {
            self.published[f.0] = false;
            self.reasons.insert(f, reason);
        }
    }

    /// Primary suppression (step 1 of the method).
    fn primary(&mut self) {
        for f in self.fig_order.clone() {
            let reason = match &self.reg.figures()[f.0].kind {
                Kind::Count { value, shown, .. } => (self.small(*value)
                    && !matches!(shown, Shown::Withheld | Shown::Known(_)))
                .then(|| Reason::Primary {
                    count: self.key(f).to_string(),
                }),
                Kind::Ratio { num, den, .. } => self.ratio_primary(*num, *den),
                Kind::Model {
                    rests_on,
                    threshold,
                } => rests_on
                    .iter()
                    .find(|&&c| self.value(c).unsigned_abs() < *threshold)
                    .map(|&c| Reason::Model {
                        count: self.key(c).to_string(),
                    }),
                Kind::Label { .. } => None,
            };
            if let Some(r) = reason {
                self.suppress(f, r);
            }
        }
    }

    fn ratio_primary(&self, num: FigureId, den: FigureId) -> Option<Reason> {
        for c in [num, den] {
            if self.small(self.value(c)) {
                return Some(Reason::Primary {
                    count: self.key(c).to_string(),
                });
            }
        }
        // The complement, when every numerator cell is within the denominator.
        let (nl, dl) = (self.count_lin(num)?, self.count_lin(den)?);
        let d: BTreeMap<usize, f64> = dl.into_iter().collect();
        let within = nl
            .iter()
            .all(|(c, k)| *k > 0.0 && d.get(c).is_some_and(|dk| dk >= k));
        let complement = self.value(den) - self.value(num);
        (within && self.small(complement)).then(|| Reason::Primary {
            count: format!("{} - {}", self.key(den), self.key(num)),
        })
    }

    /// The sensitive items, in order (figures by key, then cells by key).
    fn sensitive(&self, protect_cells: bool) -> Vec<Sensitive> {
        let mut out = Vec::new();
        for &f in &self.fig_order {
            if let Some(lin) = self.count_lin(f) {
                let value = self.value(f);
                if self.small(value) && !self.is_known(f) {
                    out.push(Sensitive {
                        item: Item::Figure(f),
                        key: self.key(f).to_string(),
                        value,
                        lin,
                    });
                }
            }
        }
        if protect_cells {
            let cells = self.reg.cells();
            let mut by_rank: Vec<usize> = (0..self.n).collect();
            by_rank.sort_by_key(|&c| self.rank[c]);
            for c in by_rank {
                let value = i64::try_from(cells[c].value).unwrap_or(i64::MAX);
                if self.small(value) {
                    out.push(Sensitive {
                        item: Item::Cell(CellId(c)),
                        key: cells[c].key.clone(),
                        value,
                        lin: vec![(self.rank[c], 1.0)],
                    });
                }
            }
        }
        out
    }

    /// Finds printed numbers the cells contradict, and fails their components closed.
    fn fail_inconsistent(&mut self) {
        let mut bad: Vec<(Vec<usize>, String)> = Vec::new();
        for (c, cell) in self.reg.cells().iter().enumerate() {
            if cell.known_nonempty && cell.value == 0 {
                self.lb[self.rank[c]] = 0.0;
                bad.push((
                    vec![self.rank[c]],
                    format!("cell {} is marked non-empty but holds 0", cell.key),
                ));
            }
        }
        for f in self.fig_order.clone() {
            let key = self.key(f).to_string();
            let cause = match &self.reg.figures()[f.0].kind {
                Kind::Count {
                    shown: Shown::Exact(v) | Shown::Known(v),
                    value,
                    ..
                } if v != value => Some(format!(
                    "{key} is printed as {v} but its cells hold {value}"
                )),
                Kind::Count {
                    shown: Shown::Range { lo, hi },
                    value,
                    ..
                } if (*value as f64) < lo - tol(*lo) || (*value as f64) > hi + tol(*hi) => Some(
                    format!("{key} is printed as {lo}..{hi} but its cells hold {value}"),
                ),
                Kind::Ratio {
                    num,
                    den,
                    value,
                    precision,
                } => {
                    let (a, b) = Self::ratio_bounds(*value, *precision);
                    let (x, y) = (self.value(*num) as f64, self.value(*den) as f64);
                    (y < 1.0 || x < a * y - tol(x) || x > b * y + tol(x))
                        .then(|| format!("{key} is printed as {value} but its counts give {x}/{y}"))
                }
                Kind::Label { cells } => {
                    let total: u64 = cells.iter().map(|c| self.reg.cells()[c.0].value).sum();
                    (total == 0).then(|| {
                        self.label_ok[f.0] = false;
                        format!("label {key} is shown but its cells are empty")
                    })
                }
                _ => None,
            };
            if let Some(cause) = cause {
                bad.push((self.fig_cells[f.0].clone(), cause));
            }
        }
        if bad.is_empty() {
            return;
        }
        let comps = self.components_with(&bad);
        for (cells, cause) in bad {
            match cells.first() {
                Some(&c) => self.fail_comp(&comps, comps.of[c], &cause),
                None => self.failures.push(cause),
            }
        }
    }

    /// Suppresses every published figure of component `c`.
    fn fail_comp(&mut self, comps: &Comps, c: usize, cause: &str) {
        self.failures.push(format!(
            "{cause}: every published figure linked to it is suppressed"
        ));
        for f in self.fig_order.clone() {
            let in_comp = self.fig_cells[f.0]
                .first()
                .is_some_and(|&x| comps.of[x] == c);
            if in_comp && !self.is_label(f) {
                self.suppress(
                    f,
                    Reason::FailClosed {
                        cause: cause.to_string(),
                    },
                );
            }
        }
    }

    fn components(&self) -> Comps {
        self.components_with(&[])
    }

    /// Components of the cells linked by active figures (and the `extra` cell sets),
    /// numbered by their smallest rank.
    fn components_with(&self, extra: &[(Vec<usize>, String)]) -> Comps {
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut parent: Vec<usize> = (0..self.n).collect();
        let mut link = |cells: &[usize]| {
            if let Some((&first, rest)) = cells.split_first() {
                for &c in rest {
                    let (a, b) = (find(&mut parent, first), find(&mut parent, c));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
            }
        };
        for &f in &self.fig_order {
            if self.active(f, &[]) {
                link(&self.fig_cells[f.0]);
            }
        }
        for (cells, _) in extra {
            link(cells);
        }
        let mut of = vec![0; self.n];
        let mut id_of_root = vec![usize::MAX; self.n];
        let mut sizes = Vec::new();
        for x in 0..self.n {
            let r = find(&mut parent, x);
            if id_of_root[r] == usize::MAX {
                id_of_root[r] = sizes.len();
                sizes.push(0);
            }
            of[x] = id_of_root[r];
            sizes[of[x]] += 1;
        }
        Comps { of, sizes }
    }

    /// The LP over `cells` (sorted ranks): every active row touching them, relaxed
    /// (rows reaching outside dropped) or restricted (outside cells fixed at their true
    /// values), in figure key order.
    fn assemble(&self, cells: &[usize], mode: Mode, exclude: &[FigureId]) -> Lp {
        let local: BTreeMap<usize, usize> =
            cells.iter().enumerate().map(|(i, &x)| (x, i)).collect();
        let mut figs: Vec<FigureId> = cells
            .iter()
            .flat_map(|&x| self.touch[x].iter().copied())
            .collect();
        figs.sort_by_key(|f| self.fig_pos[f.0]);
        figs.dedup();
        let mut rows = Vec::new();
        for f in figs {
            if !self.active(f, exclude) {
                continue;
            }
            for row in &self.fig_rows[f.0] {
                let mut terms = Vec::with_capacity(row.terms.len());
                let mut rhs = row.rhs;
                let mut outside = false;
                for &(x, k) in &row.terms {
                    match local.get(&x) {
                        Some(&i) => terms.push((i, k)),
                        None => {
                            outside = true;
                            rhs -= k * self.truth[x];
                        }
                    }
                }
                if outside && mode == Mode::Relax {
                    continue;
                }
                rows.push(Row {
                    terms,
                    cmp: row.cmp,
                    rhs,
                });
            }
        }
        Lp {
            cells: cells.to_vec(),
            lb: cells.iter().map(|&x| self.lb[x]).collect(),
            rows,
        }
    }

    /// Optimum of `obj` (over `lp`'s positions); ±inf when unbounded; `Err` on any other
    /// solver outcome.
    fn solve(&mut self, lp: &Lp, obj: &Lin, maximise: bool) -> Result<f64, String> {
        if lp.rows.is_empty() {
            // No constraint: each cell from its lower bound to infinity.
            return Ok(obj
                .iter()
                .map(|&(i, k)| {
                    if (k > 0.0) != maximise {
                        k * lp.lb[i]
                    } else if maximise {
                        f64::INFINITY
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .sum());
        }
        self.stats.lps += 1;
        let mut vars = ProblemVariables::new();
        let xs: Vec<Variable> = lp.lb.iter().map(|&l| vars.add(variable().min(l))).collect();
        let expr = |lin: &Lin| -> Expression {
            let mut e = Expression::with_capacity(lin.len());
            for &(i, k) in lin {
                e.add_mul(k, xs[i]);
            }
            e
        };
        let objective = expr(obj);
        let problem = if maximise {
            vars.maximise(objective)
        } else {
            vars.minimise(objective)
        };
        let mut model = problem.using(microlp);
        for row in &lp.rows {
            let e = expr(&row.terms);
            model.add_constraint(match row.cmp {
                Cmp::Eq => e.eq(row.rhs),
                Cmp::Ge => e.geq(row.rhs),
                Cmp::Le => e.leq(row.rhs),
            });
        }
        match model.solve() {
            Ok(sol) => match sol.status() {
                SolutionStatus::Optimal => Ok(obj.iter().map(|&(i, k)| k * sol.value(xs[i])).sum()),
                other => Err(format!("solver stopped early ({other:?})")),
            },
            Err(ResolutionError::Unbounded) => Ok(if maximise {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            }),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The smallest and largest values of `lin` over `lp` (its cells a superset of
    /// `lin`'s), not rounded.
    fn solve_bounds(&mut self, lp: &Lp, lin: &Lin) -> Result<(f64, f64), String> {
        let local: BTreeMap<usize, usize> =
            lp.cells.iter().enumerate().map(|(i, &x)| (x, i)).collect();
        let mut obj: Lin = Vec::with_capacity(lin.len());
        for &(x, k) in lin {
            let i = local.get(&x).ok_or("item outside its LP")?;
            obj.push((*i, k));
        }
        let lo = self.solve(lp, &obj, false)?;
        let hi = self.solve(lp, &obj, true)?;
        Ok((lo, hi))
    }

    /// [`Self::solve_bounds`], rounded inward.
    fn solve_interval(&mut self, lp: &Lp, lin: &Lin) -> Result<Interval, String> {
        self.solve_bounds(lp, lin)
            .map(|(lo, hi)| round_inward(lo, hi))
    }

    /// The exact interval of `lin`: the sum over the components it touches. Component LPs
    /// without exclusions are cached for the round in `cache`.
    fn exact(
        &mut self,
        comps: &Comps,
        cache: &mut RoundCache,
        lin: &Lin,
        exclude: &[FigureId],
    ) -> Result<Interval, (usize, String)> {
        let mut parts: BTreeMap<usize, Lin> = BTreeMap::new();
        for &(x, k) in lin {
            parts.entry(comps.of[x]).or_default().push((x, k));
        }
        let (mut lo, mut hi) = (0.0, 0.0);
        for (c, part) in parts {
            let build = |w: &Self| {
                let cells: Vec<usize> = (0..w.n).filter(|&x| comps.of[x] == c).collect();
                w.assemble(&cells, Mode::Relax, exclude)
            };
            let before = self.stats.lps;
            let iv = if exclude.is_empty() {
                let lp = match cache.lps.remove(&c) {
                    Some(lp) => lp,
                    None => build(self),
                };
                let r = self.solve_bounds(&lp, &part);
                cache.lps.insert(c, lp);
                r
            } else {
                let lp = build(self);
                self.solve_bounds(&lp, &part)
            };
            self.stats.component_lps += self.stats.lps - before;
            let (a, b) = iv.map_err(|e| (c, e))?;
            lo += a;
            hi += b;
        }
        Ok(round_inward(lo, hi))
    }

    /// The component's feasibility model (objective 0), solved once per round, with a
    /// variable for every target (sensitive items and suppressed counts) of the component.
    fn base(&mut self, comps: &Comps, c: usize) -> Result<Base, String> {
        let cells: Vec<usize> = (0..self.n).filter(|&x| comps.of[x] == c).collect();
        let lp = self.assemble(&cells, Mode::Relax, &[]);
        let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
        let vars: Vec<microlp::Variable> = lp
            .lb
            .iter()
            .map(|&l| problem.add_var(0.0, (l, f64::INFINITY)))
            .collect();
        let expr = |lin: &Lin| {
            let mut e = microlp::LinearExpr::empty();
            for &(i, k) in lin {
                e.add(vars[i], k);
            }
            e
        };
        for row in &lp.rows {
            let op = match row.cmp {
                Cmp::Eq => microlp::ComparisonOp::Eq,
                Cmp::Ge => microlp::ComparisonOp::Ge,
                Cmp::Le => microlp::ComparisonOp::Le,
            };
            problem.add_constraint(expr(&row.terms), op, row.rhs);
        }
        let local: BTreeMap<usize, usize> =
            cells.iter().enumerate().map(|(i, &x)| (x, i)).collect();
        let mut targets: Vec<Lin> = self.targets.clone();
        if self.final_pass {
            for &f in self.reasons.keys() {
                targets.extend(self.count_lin(f));
            }
        }
        let mut target_var = BTreeMap::new();
        for lin in targets {
            if lin.len() < 2 || !lin.iter().all(|t| local.contains_key(&t.0)) {
                continue;
            }
            let key = lin_key(&lin);
            if target_var.contains_key(&key) {
                continue;
            }
            // y = Σ terms, free: its fixed values probe the target.
            let y = problem.add_var(0.0, (f64::NEG_INFINITY, f64::INFINITY));
            // Every cell of `lin` is in `local` (checked above).
            let mut e = expr(&lin.iter().map(|&(x, k)| (local[&x], k)).collect());
            e.add(y, -1.0);
            problem.add_constraint(e, microlp::ComparisonOp::Eq, 0.0);
            target_var.insert(key, y);
        }
        for (&x, &i) in &local {
            target_var.insert(vec![(x, 1)], vars[i]);
        }
        self.stats.lps += 1;
        self.stats.component_lps += 1;
        let sol = problem
            .solve()
            .map_err(|e| e.to_string())?
            .into_solution()
            .map_err(|_| "solver interrupted".to_string())?;
        let targets: Vec<microlp::Variable> = target_var.values().copied().collect();
        let index = target_var.keys().cloned().zip(0..).collect();
        let mut base = Base {
            spare: sol.clone(),
            sol: Some(sol),
            seen: vec![(f64::INFINITY, f64::NEG_INFINITY); targets.len()],
            targets,
            index,
        };
        base.witness();
        Ok(base)
    }

    /// Whether the component's model stays feasible with `var` fixed at `t` (every
    /// feasible point found is recorded as a witness).
    fn probe(&mut self, base: &mut Base, var: microlp::Variable, t: f64) -> Result<bool, String> {
        self.stats.lps += 1;
        let sol = match base.sol.take() {
            Some(s) => s,
            None => base.spare.clone(),
        };
        match sol.fix_var(var, t) {
            Ok(outcome) => {
                let fixed = outcome
                    .into_solution()
                    .map_err(|_| "solver interrupted".to_string())?;
                base.sol = Some(fixed);
                base.witness();
                let fixed = base.sol.take().ok_or("lost the model")?;
                let (outcome, _) = fixed.unfix_var(var).map_err(|e| e.to_string())?;
                base.sol = outcome.into_solution().ok();
                Ok(true)
            }
            Err(microlp::Error::Infeasible) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A verdict by probing the component's model: safe when the item can move
    /// `min_cell - 1` up or down from its true value; otherwise its integer bounds by
    /// bisection (exact, as integer points of the relaxation).
    fn probe_verdict(
        &mut self,
        comps: &Comps,
        cache: &mut RoundCache,
        c: usize,
        lin: &Lin,
        value: i64,
    ) -> Result<Assessment, (usize, String)> {
        let base = match cache.bases.remove(&c) {
            Some(b) => b,
            None => self.base(comps, c).map_err(|e| (c, e))?,
        };
        let mut base = base;
        let r = self.probe_with(&mut base, lin, value);
        cache.bases.insert(c, base);
        r.map_err(|e| (c, e))
    }

    fn probe_with(&mut self, base: &mut Base, lin: &Lin, v: i64) -> Result<Assessment, String> {
        let m = self.m;
        let j = *base
            .index
            .get(&lin_key(lin))
            .ok_or("no probe variable for the item")?;
        let var = base.targets[j];
        let safe = |lo, hi| Assessment {
            pinned: false,
            interval: Interval {
                lo: Some(lo),
                hi: Some(hi),
            },
            exact: false,
        };
        // Feasible points already found: the interval holds them and the true value.
        let (a, b) = base.seen[j];
        let witnessed = round_inward(a.min(v as f64), b.max(v as f64));
        if !witnessed.is_pinned(m as u64) {
            return Ok(safe(witnessed.lo.unwrap_or(v), witnessed.hi.unwrap_or(v)));
        }
        if self.probe(base, var, (v + m - 1) as f64)? {
            return Ok(safe(v, v + m - 1));
        }
        if self.probe(base, var, (v - m + 1) as f64)? {
            return Ok(safe(v - m + 1, v));
        }
        // Feasible at v, not at v + m - 1: the largest feasible integer in between.
        let (mut a, mut b) = (v, v + m - 1);
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            if self.probe(base, var, mid as f64)? {
                a = mid;
            } else {
                b = mid;
            }
        }
        let hi = a;
        let (mut a, mut b) = (v - m + 1, v);
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            if self.probe(base, var, mid as f64)? {
                b = mid;
            } else {
                a = mid;
            }
        }
        let iv = Interval {
            lo: Some(b),
            hi: Some(hi),
        };
        Ok(Assessment {
            pinned: iv.is_pinned(m as u64),
            interval: iv,
            exact: true,
        })
    }

    /// The cells within two links of `lin`'s through active figures of at most
    /// [`NEIGHBOURHOOD_FIGURE_CELLS`] cells.
    fn neighbourhood(&self, lin: &Lin, exclude: &[FigureId]) -> Vec<usize> {
        let mut set: BTreeSet<usize> = lin.iter().map(|t| t.0).collect();
        for _ in 0..ESTIMATE_HOPS {
            let mut grown = set.clone();
            for &x in &set {
                for &f in &self.touch[x] {
                    let cells = &self.fig_cells[f.0];
                    if cells.len() <= NEIGHBOURHOOD_FIGURE_CELLS && self.active(f, exclude) {
                        grown.extend(cells.iter().copied());
                    }
                }
            }
            set = grown;
        }
        set.into_iter().collect()
    }

    /// Whether `lin` (true value `value`) is pinned, with the interval that proves it
    /// (module docs, "Cost"). `Err` carries the component the solver failed on.
    fn assess(
        &mut self,
        comps: &Comps,
        cache: &mut RoundCache,
        lin: &Lin,
        value: i64,
        exclude: &[FigureId],
        how: How,
    ) -> Result<Assessment, (usize, String)> {
        let m = self.m as u64;
        let touched: BTreeSet<usize> = lin.iter().map(|t| comps.of[t.0]).collect();
        let size: usize = touched.iter().map(|&c| comps.sizes[c]).sum();
        if size > self.exact_up_to
            && touched.len() == 1
            && (exclude.is_empty() || how == How::Estimate)
        {
            match how {
                How::Estimate => {
                    let cells = self.neighbourhood(lin, exclude);
                    let outer = self.assemble(&cells, Mode::Relax, exclude);
                    if let Ok(iv) = self.solve_interval(&outer, lin) {
                        return Ok(Assessment {
                            pinned: iv.is_pinned(m),
                            interval: iv,
                            exact: false,
                        });
                    }
                }
                How::Interval => {
                    let cells = self.inner_cells(lin, exclude);
                    let inner = self.assemble(&cells, Mode::Restrict, exclude);
                    if let Some(a) = self.inner_verdict(&inner, lin, value, how) {
                        return Ok(a);
                    }
                    let c = comps.of[lin[0].0];
                    return self.probe_verdict(comps, cache, c, lin, value);
                }
                How::Verdict => {
                    let c = comps.of[lin[0].0];
                    return self.probe_verdict(comps, cache, c, lin, value);
                }
            }
        }
        let iv = self.exact(comps, cache, lin, exclude)?;
        Ok(Assessment {
            pinned: iv.is_pinned(m),
            interval: iv,
            exact: true,
        })
    }

    /// The restriction's verdict when it proves the item safe: for a verdict, its maximum
    /// first (when at least `value + min_cell - 1`, the interval `[value, max]`, inside
    /// the exact one since the true value is feasible, already holds `min_cell` integers).
    fn inner_verdict(&mut self, lp: &Lp, lin: &Lin, value: i64, how: How) -> Option<Assessment> {
        let m = self.m as u64;
        let local: BTreeMap<usize, usize> =
            lp.cells.iter().enumerate().map(|(i, &x)| (x, i)).collect();
        let obj: Lin = lin
            .iter()
            .map(|&(x, k)| local.get(&x).map(|&i| (i, k)))
            .collect::<Option<_>>()?;
        let hi = self.solve(lp, &obj, true).ok()?;
        let hi_i = round_inward(0.0, hi).hi;
        if how == How::Verdict && hi_i.is_none_or(|h| h >= value.saturating_add(self.m - 1)) {
            return Some(Assessment {
                pinned: false,
                interval: Interval {
                    lo: Some(value),
                    hi: hi_i,
                },
                exact: false,
            });
        }
        let lo = self.solve(lp, &obj, false).ok()?;
        let iv = round_inward(lo, hi);
        (!iv.is_pinned(m)).then_some(Assessment {
            pinned: false,
            interval: iv,
            exact: false,
        })
    }

    /// The cells of the restriction: the item's, then those of the smallest active figures
    /// touching it, while they number at most [`INNER_CELLS`].
    fn inner_cells(&self, lin: &Lin, exclude: &[FigureId]) -> Vec<usize> {
        let mut set: BTreeSet<usize> = lin.iter().map(|t| t.0).collect();
        let mut figs: Vec<FigureId> = lin
            .iter()
            .flat_map(|t| self.touch[t.0].iter().copied())
            .filter(|&f| self.active(f, exclude))
            .collect();
        figs.sort_by_key(|f| (self.fig_cells[f.0].len(), self.fig_pos[f.0]));
        figs.dedup();
        for f in figs {
            let cells = &self.fig_cells[f.0];
            let new = cells.iter().filter(|x| !set.contains(x)).count();
            if set.len() + new <= INNER_CELLS.max(lin.len()) {
                set.extend(cells.iter().copied());
            }
        }
        set.into_iter().collect()
    }

    /// Audit rounds with secondary suppression until no pending item is pinned.
    fn secondary(&mut self, items: &[Sensitive], pending: &mut BTreeSet<usize>) {
        loop {
            self.stats.rounds += 1;
            let comps = self.components();
            let mut cache = RoundCache::default();
            let mut failed: BTreeSet<usize> = BTreeSet::new();
            // Pinned items by component, in item order.
            let mut pinned: BTreeMap<usize, Vec<(usize, Interval)>> = BTreeMap::new();
            let in_failed = |failed: &BTreeSet<usize>, s: &Sensitive| {
                s.lin.iter().any(|t| failed.contains(&comps.of[t.0]))
            };
            for &i in pending.iter() {
                let s = &items[i];
                if in_failed(&failed, s) {
                    continue;
                }
                match self.assess(&comps, &mut cache, &s.lin, s.value, &[], How::Verdict) {
                    Ok(a) if a.pinned => {
                        let c = comps.of[s.lin[0].0];
                        pinned.entry(c).or_default().push((i, a.interval));
                    }
                    Ok(a) => {
                        let when = self.reasons.len();
                        self.assessed.insert(i, (a.interval, a.exact, when));
                    }
                    Err((c, cause)) => {
                        failed.insert(c);
                        let cause = format!("solver failed auditing {}: {cause}", s.key);
                        self.fail_comp(&comps, c, &cause);
                    }
                }
            }
            // Safe items stay safe: suppression only removes constraints.
            let still: BTreeSet<usize> = pinned.values().flatten().map(|(j, _)| *j).collect();
            pending.retain(|i| still.contains(i) || in_failed(&failed, &items[*i]));
            if pinned.is_empty() && failed.is_empty() {
                return;
            }
            let mut progress = !failed.is_empty();
            for (c, list) in pinned {
                if failed.contains(&c) {
                    continue;
                }
                let mut picked: Vec<FigureId> = Vec::new();
                for (i, iv) in list {
                    let s = &items[i];
                    // Already freed by this round's picks? (Checked again next round.)
                    let mut iv = iv;
                    if !picked.is_empty() {
                        match self.assess(
                            &comps,
                            &mut cache,
                            &s.lin,
                            s.value,
                            &picked,
                            How::Estimate,
                        ) {
                            Ok(a) if !a.pinned => continue,
                            Ok(a) => iv = a.interval,
                            Err(_) => continue,
                        }
                    }
                    match self.choose(&comps, &mut cache, s, iv, &picked) {
                        Some(f) => {
                            self.suppress(
                                f,
                                Reason::Secondary {
                                    protects: s.key.clone(),
                                },
                            );
                            picked.push(f);
                            progress = true;
                        }
                        None => {
                            let cause =
                                format!("{} stays pinned with nothing left to suppress", s.key);
                            self.fail_comp(&comps, c, &cause);
                            progress = true;
                            break;
                        }
                    }
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// The published figure to suppress next for the pinned item `s` (method, step 5).
    fn choose(
        &mut self,
        comps: &Comps,
        cache: &mut RoundCache,
        s: &Sensitive,
        iv: Interval,
        picked: &[FigureId],
    ) -> Option<FigureId> {
        // Identities every reader knows are links, never candidates.
        let linkable = |w: &Self, f: FigureId| {
            w.published[f.0] && !w.fig_rows[f.0].is_empty() && !picked.contains(&f)
        };
        let usable = |w: &Self, f: FigureId| linkable(w, f) && !w.is_known(f);
        // Within two links of the item's cells (an identity adds a link for free).
        let mut near: BTreeSet<FigureId> = BTreeSet::new();
        let mut cells: BTreeSet<usize> = s.lin.iter().map(|t| t.0).collect();
        for hop in 0..3 {
            for &x in &cells {
                near.extend(self.touch[x].iter().filter(|&&f| linkable(self, f)));
            }
            if hop == 2 {
                break;
            }
            for &f in &near {
                if hop == 0 || self.is_known(f) {
                    cells.extend(self.fig_cells[f.0].iter().copied());
                }
            }
        }
        near.retain(|&f| !self.is_known(f));
        if near.is_empty() {
            let c = comps.of[s.lin[0].0];
            near = self
                .fig_order
                .iter()
                .copied()
                .filter(|&f| {
                    usable(self, f)
                        && self.fig_cells[f.0]
                            .first()
                            .is_some_and(|&x| comps.of[x] == c)
                })
                .collect();
        }
        let size = |w: &Self, f: FigureId| -> u64 {
            match &w.reg.figures()[f.0].kind {
                Kind::Ratio { num, .. } => w.value(*num).unsigned_abs(),
                _ => w.value(f).unsigned_abs(),
            }
        };
        let mut cands: Vec<FigureId> = near.into_iter().collect();
        cands.sort_by_key(|&f| (size(self, f), self.fig_pos[f.0]));
        let first = *cands.first()?;
        // Compare like with like: the baseline by the same kind of assessment.
        let iv = match self.assess(comps, cache, &s.lin, s.value, picked, How::Estimate) {
            Ok(a) if a.pinned => a.interval,
            // The estimate does not see the route: no candidate can be told apart.
            Ok(_) => return Some(first),
            Err(_) => iv,
        };

        // The first (smallest) candidate that frees the item on its own; failing that, the
        // one that widens it most (the first of equals).
        let width = |iv: &Interval| match (iv.lo, iv.hi) {
            (Some(lo), Some(hi)) => hi.saturating_sub(lo),
            _ => i64::MAX,
        };
        let mut best: Option<(i64, FigureId)> = None;
        for &f in cands.iter().take(self.verify) {
            let mut exclude = picked.to_vec();
            exclude.push(f);
            match self.assess(comps, cache, &s.lin, s.value, &exclude, How::Estimate) {
                Ok(a) if !a.pinned => return Some(f),
                Ok(a) if a.interval != iv && a.interval.contains(&iv) => {
                    let w = width(&a.interval);
                    if best.is_none_or(|(bw, _)| w > bw) {
                        best = Some((w, f));
                    }
                }
                Ok(_) => {}
                Err(_) => return Some(f),
            }
        }
        Some(best.map_or(first, |(_, f)| f))
    }

    /// Final intervals of the sensitive items, and the items to audit again: still pinned
    /// (rounding), or on a component where the solver failed (then suppressed).
    fn finish(&mut self, items: &[Sensitive]) -> (Vec<Protected>, Vec<usize>) {
        let comps = self.components();
        let mut cache = RoundCache::default();
        let mut again = Vec::new();
        let mut out = Vec::new();
        for (i, s) in items.iter().enumerate() {
            let size: usize = s
                .lin
                .iter()
                .map(|t| comps.of[t.0])
                .collect::<BTreeSet<usize>>()
                .iter()
                .map(|&c| comps.sizes[c])
                .sum();
            let stored = self.assessed.get(&i).copied();
            if let (Some((iv, exact, when)), true) = (stored, size > self.exact_up_to) {
                // Safe when assessed, so safe now (suppression only widens intervals); the
                // interval is still inside the exact one, exact only if nothing changed.
                out.push(Protected {
                    item: s.item,
                    key: s.key.clone(),
                    value: s.value,
                    interval: Some(iv),
                    exact: exact && when == self.reasons.len(),
                });
                continue;
            }
            let assessed = self.assess(&comps, &mut cache, &s.lin, s.value, &[], How::Interval);
            let (interval, exact) = match assessed {
                Ok(a) => {
                    if a.pinned {
                        again.push(i);
                    }
                    (Some(a.interval), a.exact)
                }
                Err((c, cause)) => {
                    let cause = format!("solver failed auditing {}: {cause}", s.key);
                    self.fail_comp(&comps, c, &cause);
                    again.push(i);
                    (None, false)
                }
            };
            out.push(Protected {
                item: s.item,
                key: s.key.clone(),
                value: s.value,
                interval,
                exact,
            });
        }
        (out, again)
    }

    /// Whether any published figure touches the cells of the items `idx` (so that another
    /// round of secondary suppression can still change something).
    fn any_published_near(&self, items: &[Sensitive], idx: &[usize]) -> bool {
        idx.iter().any(|&i| {
            items[i].lin.iter().any(|(x, _)| {
                self.touch[*x]
                    .iter()
                    .any(|f| !self.is_label(*f) && !self.is_known(*f) && self.published[f.0])
            })
        })
    }
}
