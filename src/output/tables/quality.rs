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
                    Some(
                        e.first_rows
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                ]);
            }
        }
        for w in &q.warnings {
            t.notes.push(format!(
                "warning: {} (first rows {})",
                w.message,
                w.first_rows
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        t.notes.push(
            "People excluded only for insufficient_follow_up still enter survival analysis and monitoring."
                .into(),
        );
        t
    }
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
