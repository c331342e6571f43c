//! The data-quality table: rows read, used and excluded.

use serde_json::Value;

use super::array_records;
use crate::error::Result;
use crate::output::Tabular;
use crate::present::Table;

impl crate::data::DataQuality {
    /// Rows read, used and excluded (with the reason and first row numbers) per table, then
    /// the warnings: the data-quality table of `validate` and the notebook.
    fn table(&self) -> Table {
        let q = self;
        let mut t = Table::new(
            "Data quality: rows read = rows used + rows excluded",
            &["table", "reason", "rows", "first rows"],
            2,
        );
        for (table, read, used) in [
            ("cohort", q.rows_read.cohort, q.rows_used.cohort),
            ("offences", q.rows_read.offences, q.rows_used.offences),
        ] {
            t.push(vec![
                Some(table.into()),
                Some("rows read".into()),
                Some(read.to_string()),
                None,
            ]);
            t.push(vec![
                Some(table.into()),
                Some("rows used".into()),
                Some(used.to_string()),
                None,
            ]);
            for e in q.exclusions.iter().filter(|e| e.table.to_string() == table) {
                t.push(vec![
                    Some(table.into()),
                    Some(format!("excluded: {}", e.reason.code())),
                    Some(e.rows.to_string()),
                    Some(rows_text(&e.first_rows, &e.first_files)),
                ]);
            }
        }
        for w in &q.warnings {
            t.notes.push(format!(
                "warning: {} (first rows {})",
                w.message,
                rows_text(&w.first_rows, &w.first_files)
            ));
        }
        t.notes.push(
            "People excluded only for insufficient_follow_up still enter survival analysis and monitoring."
                .into(),
        );
        t
    }
}

/// Row numbers as `3 12`, or, per file when a table has several, `a.csv: 3 12; b.csv: 1`.
fn rows_text(rows: &[u64], files: &[std::path::PathBuf]) -> String {
    if files.len() != rows.len() {
        return rows
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ");
    }
    let mut out = String::new();
    for (i, (row, file)) in rows.iter().zip(files).enumerate() {
        if i == 0 || files[i - 1] != *file {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(&format!("{}: {row}", file.display()));
        } else {
            out.push_str(&format!(" {row}"));
        }
    }
    out
}

impl Tabular for crate::data::DataQuality {
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }

    /// One row per exclusion (table, reason, rows, first rows).
    fn records(&self) -> Result<Vec<Value>> {
        Ok(array_records(&self.to_json()?, "exclusions"))
    }
}
