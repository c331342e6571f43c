//! Person identifiers read back for output that stays in the secure environment.

use std::path::Path;

use super::read;
use crate::error::{Error, Result};

/// The `person_id` text of the given cohort rows (1-based data row numbers, as
/// [`People::source_row`](super::People::source_row)), trimmed as the loader trims it.
///
/// For files that never leave the secure environment (a matched sample written for checking
/// elsewhere); reports never publish identifiers.
pub fn person_ids(cohort: &Path, rows: &[u64]) -> Result<Vec<String>> {
    let frame = read::read(cohort, &["person_id".to_string()], &[])?;
    let ids = frame.text("person_id")?;
    rows.iter()
        .map(|&r| {
            r.checked_sub(1)
                .and_then(|r| usize::try_from(r).ok())
                .and_then(|r| ids.get(r))
                .map(|s| s.trim().to_string())
                .ok_or_else(|| Error::Input {
                    path: cohort.to_path_buf(),
                    column: Some("person_id".into()),
                    row: Some(r),
                    message: format!(
                        "row {r} is not in the file any more: was it changed while the analysis ran?"
                    ),
                })
        })
        .collect()
}
