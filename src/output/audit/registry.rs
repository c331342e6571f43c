//! What a published figure is.
//!
//! A report's figures all rest on the cells of one *finest partition* (cohort x breakdown
//! levels x period, never people): each cell is a non-negative count with its true value.
//! Every number the report prints is registered here as what it is, so that
//! [`audit`](super::audit::audit) can reason about all of them together, as an intruder
//! would:
//!
//! - a [count](Registry::count): a linear combination of cells (usually a sum; coefficients
//!   such as -1 allowed, e.g. non-reoffenders = people - reoffenders), printed exactly, as a
//!   range (a rounded figure), or withheld (not printed, but still protected);
//! - a [ratio](Registry::ratio) of two registered counts printed to a precision (a rate to
//!   1 d.p., a share, reoffences per offender): the intruder learns
//!   `(r - p/2)·den <= num <= (r + p/2)·den`, linear in the cells;
//! - a [model statistic](Registry::model) with the counts it rests on: gated by a threshold
//!   on those counts, outside the linear programme;
//! - a [label](Registry::label): no number, but a row that exists only when its cells hold
//!   someone tells the intruder their sum is at least 1.
//!
//! The registry records what the report *claims*: printed numbers are given by the caller
//! and checked against the cells by the audit, which fails closed (suppresses) where they
//! disagree.

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

/// A cell of the finest partition (its position in registration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CellId(pub(crate) usize);

/// A registered figure (its position in registration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FigureId(pub(crate) usize);

impl CellId {
    /// Its position in registration order (the index into [`Registry::cells`]).
    pub fn index(self) -> usize {
        self.0
    }
}

impl FigureId {
    /// Its position in registration order (the index into [`Registry::figures`]).
    pub fn index(self) -> usize {
        self.0
    }
}

/// A cell of the finest partition: a count of people (or of events) that the report never
/// prints directly but every figure is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// Stable, unique key (e.g. `"divert/2021-Q3/F/18-24"`); every tie in the audit is
    /// broken by keys, never by registration order.
    pub key: String,
    /// The true count.
    pub value: u64,
    /// Whether a reader knows the cell holds at least one person (a row for it is shown
    /// only when it is non-empty).
    pub known_nonempty: bool,
}

/// How a count is shown in the report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Shown {
    /// Printed as this exact number (checked against the cells by the audit).
    Exact(i64),
    /// Printed so that a reader knows only `lo <= value <= hi` (a rounded figure: 285 to
    /// the nearest 5 is `lo = 282.5, hi = 287.5`).
    Range {
        /// Smallest value consistent with the printed figure.
        lo: f64,
        /// Largest value consistent with the printed figure.
        hi: f64,
    },
    /// Not printed (the numerator behind a printed rate, a group the report never
    /// tabulates): no constraint on the intruder, but protected like a suppressed count.
    Withheld,
    /// Known to every reader without the report (an identity such as "the two partitions
    /// of a cohort hold the same people", written as their difference being 0): a
    /// constraint the audit can never remove, so never suppressed nor offered as a
    /// secondary candidate.
    Known(i64),
}

/// What a registered figure is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Kind {
    /// A count: `Σ coefficient · cell`, with its true value.
    Count {
        /// Cells and coefficients, each cell once, no zero coefficient.
        terms: Vec<(CellId, i64)>,
        /// How it is shown.
        shown: Shown,
        /// The true value, from the cells.
        value: i64,
    },
    /// A ratio `num / den` of two registered counts, printed as `value` to `precision`
    /// (both in the ratio's units: a rate of 22.0% to 1 d.p. is `value = 0.220,
    /// precision = 0.001`).
    Ratio {
        /// The numerator (a count).
        num: FigureId,
        /// The denominator (a count).
        den: FigureId,
        /// The printed value.
        value: f64,
        /// The printed precision: the true ratio is within `precision / 2` of `value`.
        precision: f64,
    },
    /// A model statistic (a Cox coefficient, a p-value): withheld when any count it rests
    /// on is below `threshold`; not part of the linear programme.
    Model {
        /// The counts the statistic rests on.
        rests_on: Vec<FigureId>,
        /// The smallest count the statistic may rest on.
        threshold: u64,
    },
    /// A label (a row heading): no number, but the row exists only when its cells hold
    /// someone, so the reader knows their sum is at least 1.
    Label {
        /// The cells the labelled row covers.
        cells: Vec<CellId>,
    },
}

/// A registered figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// Stable, unique key (e.g. `"rates/divert/sex=F/reoffenders"`).
    pub key: String,
    /// What it is.
    pub kind: Kind,
}

/// A registration the registry refuses (a caller's mistake, not a disclosure risk).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RegistryError {
    /// A cell or figure key registered twice.
    #[error("key registered twice: {0}")]
    DuplicateKey(String),
    /// A cell id this registry did not issue.
    #[error("unknown cell id {0}")]
    UnknownCell(usize),
    /// A figure id this registry did not issue.
    #[error("unknown figure id {0}")]
    UnknownFigure(usize),
    /// A ratio or model referring to a figure that is not a count.
    #[error("figure {0} is not a count")]
    NotACount(String),
    /// A ratio's value or precision, or a range's bounds, not finite or out of order.
    #[error("invalid number in {key}: {what}")]
    InvalidNumber {
        /// The figure's key.
        key: String,
        /// What is wrong.
        what: String,
    },
    /// A label over no cells.
    #[error("label {0} covers no cells")]
    EmptyLabel(String),
    /// A count whose value does not fit in an `i64`.
    #[error("count {0} overflows")]
    Overflow(String),
}

/// Every cell and figure of one report.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    cells: Vec<Cell>,
    figures: Vec<Figure>,
    cell_keys: BTreeMap<String, CellId>,
    figure_keys: BTreeMap<String, FigureId>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a cell of the finest partition.
    pub fn cell(
        &mut self,
        key: impl Into<String>,
        value: u64,
        known_nonempty: bool,
    ) -> Result<CellId, RegistryError> {
        let key = key.into();
        if self.cell_keys.contains_key(&key) {
            return Err(RegistryError::DuplicateKey(key));
        }
        let id = CellId(self.cells.len());
        self.cell_keys.insert(key.clone(), id);
        self.cells.push(Cell {
            key,
            value,
            known_nonempty,
        });
        Ok(id)
    }

    /// Registers a count `Σ coefficient · cell` (a cell listed twice has its coefficients
    /// added; zero coefficients are dropped).
    pub fn count(
        &mut self,
        key: impl Into<String>,
        terms: &[(CellId, i64)],
        shown: Shown,
    ) -> Result<FigureId, RegistryError> {
        let key = key.into();
        let mut merged: BTreeMap<CellId, i64> = BTreeMap::new();
        for &(c, k) in terms {
            self.check_cell(c)?;
            *merged.entry(c).or_insert(0) += k;
        }
        merged.retain(|_, k| *k != 0);
        let mut value: i64 = 0;
        for (c, k) in &merged {
            let v = i64::try_from(self.cells[c.0].value)
                .ok()
                .and_then(|v| v.checked_mul(*k))
                .and_then(|v| v.checked_add(value));
            value = v.ok_or_else(|| RegistryError::Overflow(key.clone()))?;
        }
        if let Shown::Range { lo, hi } = shown {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(RegistryError::InvalidNumber {
                    key,
                    what: format!("range {lo}..{hi}"),
                });
            }
        }
        let terms = merged.into_iter().collect();
        self.push(
            key,
            Kind::Count {
                terms,
                shown,
                value,
            },
        )
    }

    /// Registers a count that is the sum of `cells`.
    pub fn sum(
        &mut self,
        key: impl Into<String>,
        cells: &[CellId],
        shown: Shown,
    ) -> Result<FigureId, RegistryError> {
        let terms: Vec<(CellId, i64)> = cells.iter().map(|&c| (c, 1)).collect();
        self.count(key, &terms, shown)
    }

    /// The cell terms of `Σ coefficient · figure` over registered counts, to register a
    /// count defined from others (non-reoffenders = people - reoffenders).
    pub fn combine(&self, parts: &[(FigureId, i64)]) -> Result<Vec<(CellId, i64)>, RegistryError> {
        let mut out = Vec::new();
        for &(f, k) in parts {
            for &(c, ck) in self.count_terms(f)? {
                let key = || RegistryError::Overflow(format!("{} x {k}", self.figures[f.0].key));
                out.push((c, ck.checked_mul(k).ok_or_else(key)?));
            }
        }
        Ok(out)
    }

    /// Registers the ratio `num / den` of two registered counts, printed as `value` to
    /// `precision` (e.g. a rate of 22.0% to 1 d.p.: `value = 0.22, precision = 0.001`).
    pub fn ratio(
        &mut self,
        key: impl Into<String>,
        num: FigureId,
        den: FigureId,
        value: f64,
        precision: f64,
    ) -> Result<FigureId, RegistryError> {
        let key = key.into();
        self.count_terms(num)?;
        self.count_terms(den)?;
        if !(value.is_finite() && precision.is_finite() && precision > 0.0) {
            return Err(RegistryError::InvalidNumber {
                key,
                what: format!("ratio {value} to precision {precision}"),
            });
        }
        self.push(
            key,
            Kind::Ratio {
                num,
                den,
                value,
                precision,
            },
        )
    }

    /// Registers a model statistic resting on `rests_on` (counts), withheld when any of
    /// them is below `threshold`.
    pub fn model(
        &mut self,
        key: impl Into<String>,
        rests_on: &[FigureId],
        threshold: u64,
    ) -> Result<FigureId, RegistryError> {
        for &f in rests_on {
            self.count_terms(f)?;
        }
        self.push(
            key.into(),
            Kind::Model {
                rests_on: rests_on.to_vec(),
                threshold,
            },
        )
    }

    /// Registers a label: a row shown only when `cells` hold someone (the reader learns
    /// their sum is at least 1).
    pub fn label(
        &mut self,
        key: impl Into<String>,
        cells: &[CellId],
    ) -> Result<FigureId, RegistryError> {
        let key = key.into();
        for &c in cells {
            self.check_cell(c)?;
        }
        let mut cells = cells.to_vec();
        cells.sort_unstable();
        cells.dedup();
        if cells.is_empty() {
            return Err(RegistryError::EmptyLabel(key));
        }
        self.push(key, Kind::Label { cells })
    }

    /// Every cell, in registration order (`CellId` indexes it).
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Every figure, in registration order (`FigureId` indexes it).
    pub fn figures(&self) -> &[Figure] {
        &self.figures
    }

    /// The figure `id`, if this registry issued it.
    pub fn figure(&self, id: FigureId) -> Option<&Figure> {
        self.figures.get(id.0)
    }

    /// The cell `id`, if this registry issued it.
    pub fn cell_info(&self, id: CellId) -> Option<&Cell> {
        self.cells.get(id.0)
    }

    /// The figure registered under `key`.
    pub fn figure_id(&self, key: &str) -> Option<FigureId> {
        self.figure_keys.get(key).copied()
    }

    /// The cell registered under `key`.
    pub fn cell_id(&self, key: &str) -> Option<CellId> {
        self.cell_keys.get(key).copied()
    }

    /// The true value of a count figure (`None` for other kinds).
    pub fn count_value(&self, id: FigureId) -> Option<i64> {
        match self.figure(id).map(|f| &f.kind) {
            Some(Kind::Count { value, .. }) => Some(*value),
            _ => None,
        }
    }

    pub(crate) fn count_terms(&self, id: FigureId) -> Result<&[(CellId, i64)], RegistryError> {
        match self.figures.get(id.0) {
            None => Err(RegistryError::UnknownFigure(id.0)),
            Some(Figure {
                kind: Kind::Count { terms, .. },
                ..
            }) => Ok(terms),
            Some(f) => Err(RegistryError::NotACount(f.key.clone())),
        }
    }

    fn check_cell(&self, c: CellId) -> Result<(), RegistryError> {
        if c.0 < self.cells.len() {
            Ok(())
        } else {
            Err(RegistryError::UnknownCell(c.0))
        }
    }

    fn push(&mut self, key: String, kind: Kind) -> Result<FigureId, RegistryError> {
        if self.figure_keys.contains_key(&key) {
            return Err(RegistryError::DuplicateKey(key));
        }
        let id = FigureId(self.figures.len());
        self.figure_keys.insert(key.clone(), id);
        self.figures.push(Figure { key, kind });
        Ok(id)
    }
}
