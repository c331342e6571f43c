//! Data loading and validation: the only layer that knows polars.
//!
//! Files come in (CSV, CSV.gz, Parquet); validated plain columns and a count of every
//! row not used come out ([`Dataset`]). See docs/rules.md for the tables and rules.

/// polars' core and readers, without the facade (and the crates it adds).
mod pl {
    pub use polars_core::prelude::*;
    pub use polars_io::prelude::*;
}

mod checks;
mod cohort;
pub mod dates;
mod group;
mod ids;
mod link;
mod load;
mod offences;
mod options;
mod panel;
mod quality;
mod read;
mod table;
mod write;

pub use ids::person_ids;
pub use load::{Dataset, ExtractDateSource, SourceFile};
pub use options::{
    COHORT_REQUIRED, ColumnSelection, DERIVED_COLUMNS, KeepOffences, LoadOptions, NotProven,
    OFFENCES_REQUIRED, OffenceDetails,
};
pub use panel::{PANEL_REQUIRED, PanelRow, read_panel};
pub use quality::{
    ColumnWarning, DataQuality, Exclusion, FIRST_ROWS_KEPT, Reason, TableCounts, TableKind,
};
pub use read::FileFormat;
pub use table::{Categorical, Column, MISSING, Offences, People, Values};
pub use write::{TableWriter, WriteColumn};
