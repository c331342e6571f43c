//! Each result table described once: its title, its columns (a header, the key or keys of
//! the result's JSON the cells show, the kind of cell) and which columns the report
//! publishes; with its rows ([`Described`]), each marked with where it appears (the terminal,
//! the report, or both), when the two surfaces read the same columns on different rows. A
//! result's function in `output/tables/` builds it from the result's JSON: the terminal and
//! notebook tables ([`Tabular`](super::Tabular)) and the CSV (`Tabular::to_csv`, the command
//! line's `--format csv`) from the JSON as computed, the report from the
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

/// A value as a terminal cell: text as it is, a number by `kind` (or its own, see
/// [`kinded`]), nothing as `None`.
fn terminal_cell(v: Option<&Value>, kind: Kind) -> Option<String> {
    let (v, kind) = resolve(v, kind);
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
                            resolve(r.get(lo), *kind).0.and_then(Value::as_f64),
                            resolve(r.get(hi), *kind).0.and_then(Value::as_f64),
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
        self.split(|c| c.published)
    }

    /// The columns `keep` keeps, `(header, key, kind)`, an interval as its low and high
    /// columns.
    fn split(&self, keep: impl Fn(&Column) -> bool) -> Vec<(String, String, Kind)> {
        let mut out = Vec::new();
        for c in self.columns.iter().filter(|c| keep(c)) {
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

impl Description {
    /// A description of value columns `(header, key, kind)` (a text cell shown as it is),
    /// the first `labels` of them labels.
    pub(crate) fn of(title: &str, labels: usize, columns: &[(&str, &str, Kind)]) -> Description {
        Description {
            title: title.into(),
            columns: columns
                .iter()
                .map(|(h, k, kind)| Column::value(*h, *k, *kind))
                .collect(),
            labels,
        }
    }

    /// The description with `records` as its rows, each shown on both surfaces.
    pub(crate) fn with(self, records: Vec<Value>) -> Described {
        Described {
            description: self,
            rows: Row::all(records),
        }
    }
}

/// Where a row of a described table appears. The terminal (and notebook) and the report
/// show the same columns; their rows may differ: the terminal reads a figure with its
/// working (`4.1 vs 3.2 (Welch p = 0.01)`), the report publishes each figure on its own row
/// so that its gate can withhold it alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum On {
    /// Both surfaces.
    Both,
    /// The terminal and notebook only.
    Terminal,
    /// The report only.
    Report,
}

/// A row of a described table: the record its columns read, and where it appears.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    record: Value,
    on: On,
}

impl Row {
    /// A row shown on both surfaces.
    pub(crate) fn both(record: Value) -> Row {
        Row {
            record,
            on: On::Both,
        }
    }

    /// A row the terminal and notebook show.
    pub(crate) fn terminal(record: Value) -> Row {
        Row {
            record,
            on: On::Terminal,
        }
    }

    /// A row the report publishes.
    pub(crate) fn report(record: Value) -> Row {
        Row {
            record,
            on: On::Report,
        }
    }

    /// Every record of `records` as a row shown on both surfaces.
    pub(crate) fn all(records: Vec<Value>) -> Vec<Row> {
        records.into_iter().map(Row::both).collect()
    }
}

/// A table described once with its rows: what the terminal, the notebook, the CSV and the
/// report draw.
pub(crate) struct Described {
    /// Title and columns.
    pub(crate) description: Description,
    /// The rows, each marked with where it appears.
    pub(crate) rows: Vec<Row>,
}

impl Described {
    /// The records that appear on `surface` ([`On::Terminal`] or [`On::Report`]).
    pub(crate) fn records(&self, surface: On) -> Vec<Value> {
        self.rows
            .iter()
            .filter(|r| r.on == On::Both || r.on == surface)
            .map(|r| r.record.clone())
            .collect()
    }

    /// The terminal and notebook table.
    pub(crate) fn table(&self) -> Table {
        self.description.table(&self.records(On::Terminal))
    }

    /// The CSV form (the library's `to_csv`, the command line's `--format csv`): every
    /// column that reads a key (an interval as its low and high columns) under its header,
    /// the rows the report publishes (each figure on its own row), each number written by
    /// its kind, a missing value empty.
    pub(crate) fn csv(&self) -> String {
        let cols = self
            .description
            .split(|c| !matches!(c.cell, Cell::Composed(_)));
        let mut t = Table::new(
            &self.description.title,
            &cols.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            0,
        );
        for r in self.records(On::Report) {
            t.push(
                cols.iter()
                    .map(|(_, k, kind)| terminal_cell(r.get(k), *kind))
                    .collect(),
            );
        }
        t.to_csv()
    }
}

/// A measure and its value: the row of a two-column table whose rows mix kinds.
pub(crate) fn measure(label: impl Into<String>, value: Value) -> Value {
    serde_json::json!({"measure": label.into(), "value": value})
}

/// The columns of a table of [`measure`] rows (each value carrying its own kind).
pub(crate) fn measures(title: impl Into<String>) -> Description {
    Description {
        title: title.into(),
        columns: vec![
            Column::label("measure", "measure"),
            Column::label("value", "value"),
        ],
        labels: 1,
    }
}

/// The key under which [`kinded`] wraps a number that carries its own kind.
const KINDED: &str = "\u{0}kinded";

/// A number that carries its own kind, for a table whose rows mix kinds in one column (a
/// measure and its value: a percentage, money, a count): shown as text in the terminal and
/// the page and as a formatted number in the spreadsheet. Anything but a number (a `[c]`,
/// text, null) is kept as it is.
pub(crate) fn kinded(v: Option<&Value>, kind: Kind) -> Value {
    match v {
        Some(n @ Value::Number(_)) => serde_json::json!({ KINDED: [n, kind] }),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// A value and the kind it is shown as: its own where [`kinded`] gave it one.
pub(crate) fn resolve(v: Option<&Value>, kind: Kind) -> (Option<&Value>, Kind) {
    match v.and_then(|v| v.get(KINDED)) {
        Some(pair) => (
            pair.get(0),
            pair.get(1)
                .and_then(|k| serde_json::from_value::<Kind>(k.clone()).ok())
                .unwrap_or(kind),
        ),
        None => (v, kind),
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
