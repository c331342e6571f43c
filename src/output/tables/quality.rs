//! The data-quality table: rows read, used and excluded.

use serde_json::{Value, json};

use super::array_records;
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Described, Description, Row};
use crate::present::{Kind, Table};

/// The data-quality table, described once for the terminal, the notebook and the report,
/// from a data-quality JSON (as read, or as the disclosure gate let it through): the report
/// publishes each exclusion (table, reason, rows); the terminal shows, per table, the rows
/// read and used, then each exclusion with its first row numbers, so that rows read = rows
/// used + rows excluded can be checked.
pub(crate) fn quality(q: &Value) -> Described {
    let exclusions = array_records(q, "exclusions");
    let mut rows = Vec::new();
    for table in ["cohort", "offences"] {
        rows.push(Row::terminal(
            json!({"table": table, "reason": "rows read", "rows": q["rows_read"][table]}),
        ));
        rows.push(Row::terminal(
            json!({"table": table, "reason": "rows used", "rows": q["rows_used"][table]}),
        ));
        for e in exclusions.iter().filter(|e| e["table"] == table) {
            rows.push(Row::terminal(json!({
                "table": table,
                "reason": format!("excluded: {}", e["reason"].as_str().unwrap_or_default()),
                "rows": e["rows"],
                "first_rows": rows_text(&e["first_rows"], &e["first_files"]),
            })));
        }
    }
    // The report publishes no row numbers (its gate leaves them out); the CSV has them.
    rows.extend(exclusions.into_iter().map(|mut e| {
        e["first_rows"] = json!(rows_text(&e["first_rows"], &e["first_files"]));
        Row::report(e)
    }));
    Described {
        description: Description {
            title: "Rows excluded, by reason".into(),
            columns: vec![
                Column::label("table", "table"),
                Column::label("reason", "reason"),
                Column::value("rows", "rows", Kind::Count),
                Column::label("first rows", "first_rows").terminal_only(),
            ],
            labels: 2,
        },
        rows,
    }
}

impl crate::data::DataQuality {
    /// Rows read, used and excluded (with the reason and first row numbers) per table, then
    /// the warnings: the data-quality table of `validate` and the notebook.
    fn table(&self) -> Table {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no rows.
        let mut t = quality(&self.to_json().unwrap_or_default()).table();
        t.notes
            .push("Rows read = rows used + rows excluded.".into());
        for w in &self.warnings {
            t.notes.push(format!(
                "warning: {} (first rows {})",
                w.message,
                rows_text(&json!(w.first_rows), &json!(w.first_files))
            ));
        }
        t.notes.push(
            "People excluded only for insufficient_follow_up still enter survival analysis and monitoring."
                .into(),
        );
        t
    }
}

/// Row numbers (a JSON array) as `3 12`, or, per file when a table has several (`files`, an
/// array of paths beside them), `a.csv: 3 12; b.csv: 1`.
fn rows_text(rows: &Value, files: &Value) -> String {
    let items = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let rows: Vec<String> = items(rows).iter().map(Value::to_string).collect();
    let files: Vec<String> = items(files)
        .iter()
        .map(|f| f.as_str().unwrap_or_default().to_string())
        .collect();
    if files.len() != rows.len() {
        return rows.join(" ");
    }
    let mut out = String::new();
    for (i, (row, file)) in rows.iter().zip(&files).enumerate() {
        if i == 0 || files[i - 1] != *file {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(&format!("{file}: {row}"));
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
    fn to_csv(&self) -> Result<String> {
        Ok(quality(&self.to_json()?).csv())
    }
}
