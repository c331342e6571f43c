//! One shape for every result: it gives its tables, and through them prints (`Display`),
//! exports (CSV, JSON) and shows in a notebook (`evcxr_display`), the same way for every
//! analysis, from Rust, the command line and Jupyter.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::present::{Table, csv_cell};

/// A result a person reads: tables, CSV, JSON and HTML.
///
/// ```
/// use reoffending::prelude::*;
/// # fn main() -> reoffending::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let cohort = dir.path().join("cohort.csv");
/// # let offences = dir.path().join("offences.csv");
/// # std::fs::write(&cohort, "person_id,cohort,index_date\nA,divert,2021-01-10\nB,comparison,2021-01-05\n").unwrap();
/// # std::fs::write(&offences, "person_id,offence_date,disposal_date\nA,2021-03-01,2021-05-01\n").unwrap();
/// let eval = Evaluation::load(&Inputs::new(&cohort, &offences), Rules::default())?;
/// let rates = Rates::compute(&eval, &RateOptions::default())?;
/// let csv = rates.to_csv()?; // one row per group, the columns of the rates table
/// assert!(csv.starts_with("cohort,"));
/// assert_eq!(rates.to_json()?["groups"][0]["cohort"], "comparison");
/// assert!(rates.to_string().contains("divert")); // Display: the tables as text
/// # Ok(()) }
/// ```
pub trait Tabular: Serialize {
    /// The tables a person reads, in order.
    fn tables(&self) -> Vec<Table>;

    /// The result as JSON (the keys of CONTRACT §3).
    fn to_json(&self) -> Result<Value> {
        serde_json::to_value(self).map_err(|e| Error::Output(e.to_string()))
    }

    /// The CSV form: the result's main table as its one description gives it (the report's
    /// table of the same name has the same headers and cells): a header row, then each
    /// number written by its column's kind, an interval as its low and high columns, a
    /// missing value empty; cells that a spreadsheet would run as formulas are quoted.
    fn to_csv(&self) -> Result<String>;

    /// The tables as plain text (what `Display` prints).
    fn to_text(&self) -> String {
        self.tables()
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The tables as HTML (what a notebook shows).
    fn to_html(&self) -> String {
        self.tables()
            .iter()
            .map(crate::notebook::table_html)
            .collect()
    }
}

/// The plain (not nested) fields of a JSON object as one record (the default CSV row).
pub fn plain_fields(v: &Value) -> Value {
    Value::Object(
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| !v.is_object() && !v.is_array())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// The array under `key` of a result's JSON, as records (none when it is missing).
pub(crate) fn array_records(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Flattens JSON objects into CSV (columns in the order of the first record, then any new
/// keys; nested values as JSON text): the CSV form of what the command line prints without
/// a described table (`power`, `inspect`, the files `report` wrote).
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
    // Writing to a Vec cannot fail.
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

/// `Display` (the tables as text) and `evcxr_display` (the tables as HTML in a notebook)
/// for a [`Tabular`] result.
macro_rules! tabular_display {
    ($($ty:ty),* $(,)?) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::output::Tabular::to_text(self))
            }
        }
        impl $ty {
            /// Shows the result's tables as HTML in a Jupyter notebook (evcxr kernel).
            pub fn evcxr_display(&self) {
                $crate::notebook::display_html(&$crate::output::Tabular::to_html(self));
            }
        }
    )*};
}
pub(crate) use tabular_display;
