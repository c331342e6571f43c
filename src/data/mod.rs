//! Data loading and validation: the only layer that knows polars.
//!
//! Files come in (CSV, CSV.gz, CSV.zst, Parquet, spreadsheets; several per table, in the
//! extract's own column names and codes: src/data/extract.rs); validated plain columns and a count of every
//! row not used come out ([`Dataset`]). See docs/rules.md for the tables and rules.

/// polars' core and readers, without the facade (and the crates it adds).
mod pl {
    pub use polars_core::prelude::*;
    pub use polars_io::prelude::*;
}

mod checks;
mod cohort;
pub mod dates;
mod dropped;
mod extract;
mod group;
mod ids;
mod inspect;
mod link;
mod load;
mod offences;
mod options;
mod panel;
mod quality;
mod read;
mod recode;
mod sheet;
mod sniff;
mod table;
mod write;

pub use extract::{ColumnName, Extract, expand_paths, sheet_file};
pub use ids::person_ids;
pub use inspect::{ColumnProfile, FileProfile, Inspection, Suggested, TopValue, inspect};
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
pub use recode::{Recode, Unmapped};
pub use table::{Categorical, Column, MISSING, Offences, People, Values};
pub use write::{TableWriter, WriteColumn};
