//! Person identifiers read back for output that stays in the secure environment.

use std::path::Path;

use super::extract::Table;
use super::options::LoadOptions;
use super::quality::TableKind;
use crate::error::{Error, Result};

/// The `person_id` text of the given cohort rows (1-based data row numbers across the
/// table's files, as [`People::source_row`](super::People::source_row)), trimmed as the
/// loader trims it. The cohort is read as the loader reads it (`options.cohort_extract`: its
/// further files, the extract's own name for `person_id`, spreadsheets, compressed CSV).
///
/// For files that never leave the secure environment (a matched sample written for checking
/// elsewhere); reports never publish identifiers.
pub fn person_ids(cohort: &Path, options: &LoadOptions, rows: &[u64]) -> Result<Vec<String>> {
    // Only the identifiers are read, so only their recoding applies.
    let mut extract = options.cohort_extract.clone();
    extract.recode.retain(|r| r.column == "person_id");
    let table = Table::open(TableKind::Cohort, cohort, &extract, &options.date_format)?;
    let frame = table
        .read(&["person_id".to_string()], &[])
        .map_err(|e| table.translate(e))?;
    let ids = frame.ids("person_id", 0).map_err(|e| table.translate(e))?;
    rows.iter()
        .map(|&r| {
            r.checked_sub(1)
                .and_then(|r| usize::try_from(r).ok())
                .and_then(|r| ids.get(r))
                .map(|s| s.trim().to_string())
                .ok_or_else(|| Error::Input {
                    path: table.path().to_path_buf(),
                    column: Some("person_id".into()),
                    row: Some(r),
                    message: format!(
                        "row {r} is not in the table any more: was a file changed while the analysis ran?"
                    ),
                })
                .map_err(|e| table.translate(e))
        })
        .collect()
}
