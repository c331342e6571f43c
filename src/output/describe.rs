//! Each result table described once: its title, its columns (a header, the key or keys of
//! the result's JSON the cells show, the kind of cell) and which columns the report
//! publishes. The terminal and notebook tables ([`Tabular`](super::Tabular)) draw a
//! description from the result's JSON; the report draws the same description from the
//! disclosure-controlled JSON. Cells are written by [`Kind`] alone.

use serde_json::Value;

use crate::format::{Kind, level};
use crate::present::Table;

/// What a column's cells show.
#[derive(Clone)]
pub(crate) enum Cell {
    /// The value under a key, a number written by its kind (text as it is).
    Value(String, Kind),
    /// An interval from two keys: one cell `low to high` in the terminal, two columns
    /// (`header low`, `header high`) in the report.
    Interval(String, String, Kind),
    /// A cell the terminal composes from a row (a summary of nested figures); never
    /// published.
    Composed(fn(&Value) -> Option<String>),
}

/// A column: its header and cells.
pub(crate) struct Column {
    header: String,
    cell: Cell,
    /// Said after the header in the terminal (the report's methods paragraph says it).
    qualifier: Option<String>,
    /// Whether the report publishes it.
    published: bool,
    /// Whether the terminal shows it.
    terminal: bool,
}

impl Column {
    /// A column the terminal shows and the report publishes.
    pub(crate) fn new(header: impl Into<String>, cell: Cell) -> Column {
        Column {
            header: header.into(),
            published: !matches!(cell, Cell::Composed(_)),
            cell,
            qualifier: None,
            terminal: true,
        }
    }

    /// A value column.
    pub(crate) fn value(header: impl Into<String>, key: impl Into<String>, kind: Kind) -> Column {
        Column::new(header, Cell::Value(key.into(), kind))
    }

    /// A label column (text keys of a row).
    pub(crate) fn label(header: impl Into<String>, key: impl Into<String>) -> Column {
        Column::value(header, key, Kind::Count)
    }

    /// An interval at `confidence`, headed by its level (`95% CI`, then `95% CI low` and
    /// `95% CI high` in the report), after `prefix` when there is one.
    pub(crate) fn interval(
        prefix: &str,
        confidence: f64,
        keys: (&str, &str),
        kind: Kind,
    ) -> Column {
        let header = if prefix.is_empty() {
            format!("{} CI", level(confidence))
        } else {
            format!("{prefix} {} CI", level(confidence))
        };
        Column::new(
            header,
            Cell::Interval(keys.0.to_string(), keys.1.to_string(), kind),
        )
    }

    /// Shown in the terminal only.
    pub(crate) fn terminal_only(mut self) -> Column {
        self.published = false;
        self
    }

    /// Published in the report only (the terminal shows the same cells another way).
    pub(crate) fn report_only(mut self) -> Column {
        self.terminal = false;
        self
    }

    /// With `qualifier` after its header in the terminal.
    pub(crate) fn qualified(mut self, qualifier: impl Into<String>) -> Column {
        self.qualifier = Some(qualifier.into());
        self
    }
}

/// A table's description: title, columns, and how many leading columns are labels.
pub(crate) struct Description {
    /// What the table shows.
    pub(crate) title: String,
    /// The columns in order.
    pub(crate) columns: Vec<Column>,
    /// Leading label columns (left-aligned in the terminal).
    pub(crate) labels: usize,
}

/// A value as a terminal cell: text as it is, a number by `kind`, nothing as `None`.
fn terminal_cell(v: Option<&Value>, kind: Kind) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        Value::Number(n) => n.as_f64().map(|x| kind.show(x)),
        other => Some(other.to_string()),
    }
}

impl Description {
    /// The terminal and notebook table: every column the terminal shows, one row per record.
    pub(crate) fn table(&self, records: &[Value]) -> Table {
        let columns: Vec<&Column> = self.columns.iter().filter(|c| c.terminal).collect();
        let headers: Vec<String> = columns
            .iter()
            .map(|c| match &c.qualifier {
                Some(q) => format!("{} {q}", c.header),
                None => c.header.clone(),
            })
            .collect();
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = Table::new(&self.title, &refs, self.labels);
        for r in records {
            t.push(
                columns
                    .iter()
                    .map(|c| match &c.cell {
                        Cell::Value(k, kind) => terminal_cell(r.get(k), *kind),
                        Cell::Interval(lo, hi, kind) => crate::format::interval(
                            *kind,
                            r.get(lo).and_then(Value::as_f64),
                            r.get(hi).and_then(Value::as_f64),
                        ),
                        Cell::Composed(f) => f(r),
                    })
                    .collect(),
            );
        }
        t
    }

    /// The report's columns, `(header, key, kind)`: the published ones, an interval as two.
    pub(crate) fn published(&self) -> Vec<(String, String, Kind)> {
        let mut out = Vec::new();
        for c in self.columns.iter().filter(|c| c.published) {
            match &c.cell {
                Cell::Value(k, kind) => out.push((c.header.clone(), k.clone(), *kind)),
                Cell::Interval(lo, hi, kind) => {
                    out.push((format!("{} low", c.header), lo.clone(), *kind));
                    out.push((format!("{} high", c.header), hi.clone(), *kind));
                }
                Cell::Composed(_) => {}
            }
        }
        out
    }
}

/// The strings of a JSON array (`by` of rates).
pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
