//! Printing results as a table, JSON or CSV, to standard output or a file.

use std::io::Write;

use serde_json::Value;

use super::args::{OutputArgs, OutputFormat};
use reoffending::present::{Table, csv_cell};
use reoffending::{Error, Result};

/// A result in all its forms.
pub struct Rendered {
    /// The JSON document (docs/output.md §2).
    pub json: Value,
    /// The key of the list of records that the CSV form holds.
    pub records_key: &'static str,
    /// The tables of the terminal form.
    pub tables: Vec<Table>,
    /// A line printed above the tables.
    pub header: Option<String>,
}

/// Flattens a list of JSON objects into CSV (columns in the order of the first record,
/// then any new keys; nested values as JSON text).
pub fn records_to_csv(records: &[Value]) -> String {
    let mut cols: Vec<String> = Vec::new();
    for r in records {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(cols.iter().map(|c| csv_cell(c).into_owned()));
    for r in records {
        let row: Vec<String> = cols
            .iter()
            .map(|c| match r.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            })
            .collect();
        let _ = w.write_record(row.iter().map(|c| csv_cell(c).into_owned()));
    }
    let _ = w.flush();
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

pub fn emit(out: &OutputArgs, r: &Rendered) -> Result<()> {
    let text = match out.format {
        OutputFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(&r.json).map_err(|e| Error::Output(e.to_string()))?;
            s.push('\n');
            s
        }
        OutputFormat::Csv => {
            let records = match r.json.get(r.records_key) {
                Some(Value::Array(a)) if !a.is_empty() => a.clone(),
                // Survival: one CSV row per Kaplan-Meier table row, with the group's keys.
                _ if r.records_key == "groups_flat" => flatten_tables(&r.json),
                _ if r.records_key == "exclusions_flat" => r
                    .json
                    .get("input")
                    .and_then(|i| i.get("exclusions"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                // Otherwise the result itself as one row of its plain fields.
                _ => vec![Value::Object(
                    r.json
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .filter(|(_, v)| !v.is_object() && !v.is_array())
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                )],
            };
            records_to_csv(&records)
        }
        OutputFormat::Table => {
            let mut s = String::new();
            if let Some(h) = &r.header {
                s.push_str(h);
                s.push_str("\n\n");
            }
            for t in &r.tables {
                s.push_str(&t.to_string());
                s.push('\n');
            }
            s
        }
    };
    match &out.output {
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = stdout.write_all(text.as_bytes());
            Ok(())
        }
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    path: dir.to_path_buf(),
                    action: "cannot create folder",
                    source,
                })?;
            }
            std::fs::write(p, text).map_err(|source| Error::Io {
                path: p.clone(),
                action: "cannot write",
                source,
            })
        }
    }
}

/// Survival groups as one record per Kaplan-Meier row.
fn flatten_tables(json: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for g in json
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Value::Object(m) = g else { continue };
        let keys: serde_json::Map<String, Value> = m
            .iter()
            .filter(|(_, v)| v.is_string() || v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for row in m
            .get("table")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut r = keys.clone();
            if let Value::Object(cells) = row {
                r.extend(cells.clone());
            }
            out.push(Value::Object(r));
        }
    }
    out
}
