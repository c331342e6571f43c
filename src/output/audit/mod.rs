//! Statistical disclosure control across a whole report.
//!
//! [`registry`] records every published figure as what it is (a count over the cells of
//! the finest partition, a ratio printed to a precision, a model statistic, a label);
//! [`audit`](mod@audit) finds, by linear programming, what an intruder can infer about every
//! small count from all of them together, and suppresses until no small count can be
//! pinned. See `DESIGN.md` for the method and its limits.

// The audit itself lives beside the registry under the same name as the folder: the
// folder's surface re-exports both, so `output::audit::audit` is the function users call.
#[allow(clippy::module_inception)]
pub mod audit;
pub mod registry;

pub use audit::{
    AuditError, AuditOptions, AuditReport, AuditStats, Interval, Item, Protected, Reason,
    Suppression, audit, feasible_interval,
};
pub use registry::{Cell, CellId, Figure, FigureId, Kind, Registry, RegistryError, Shown};
