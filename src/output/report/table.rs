//! The report's building blocks: sections, their tables (display text, CSV and typed cells
//! for the spreadsheet) and charts, all made from the disclosure-controlled JSON.

#![allow(clippy::too_many_arguments)]

use serde::Serialize;
use serde_json::Value;

use crate::charts;
use crate::error::Result;
pub(super) use crate::format::Kind;
use crate::output::describe::resolve;
pub(super) use crate::output::describe::{Description, kinded};

#[derive(Debug, Clone, Serialize)]
pub(super) struct Chart {
    pub(super) file: String,
    pub(super) svg: String,
    pub(super) alt: String,
    #[serde(skip)]
    pub(super) data: crate::present::Table,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct SectionTable {
    pub(super) file: String,
    pub(super) title: String,
    pub(super) columns: Vec<String>,
    /// `left` for text columns, `right` for numbers.
    pub(super) align: Vec<&'static str>,
    pub(super) rows: Vec<Vec<String>>,
    pub(super) notes: Vec<String>,
    #[serde(skip)]
    pub(super) csv: String,
    /// The same cells typed for the spreadsheet: numbers stay numbers.
    #[serde(skip)]
    pub(super) cells: Vec<Vec<Cell>>,
}

/// A published table cell for the spreadsheet: a number with its Excel number format, or
/// text (labels and the `[c]`/`[x]` markers).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Number(f64, &'static str),
    Text(String),
}

/// The spreadsheet cell of a value, by the kind its column shows (or its own).
pub(super) fn typed_cell(v: Option<&Value>, kind: Kind) -> Cell {
    let (v, kind) = resolve(v, kind);
    match v.and_then(Value::as_f64).filter(|x| x.is_finite()) {
        Some(x) => {
            let (value, format) = kind.spreadsheet(x);
            Cell::Number(value, format)
        }
        None => Cell::Text(cell(v, kind)),
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub(super) struct Section {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) findings: Vec<String>,
    pub(super) paragraphs: Vec<String>,
    pub(super) chart: Option<Chart>,
    pub(super) tables: Vec<SectionTable>,
}

impl Section {
    pub(super) fn new(id: &str, title: impl Into<String>) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            ..Default::default()
        }
    }
}

/// A cell for display: numbers formatted by `kind` (or their own, see [`kinded`]), suppressed
/// values as `[c]`, nulls as `[x]`.
pub(super) fn cell(v: Option<&Value>, kind: Kind) -> String {
    let (v, kind) = resolve(v, kind);
    match v {
        None | Some(Value::Null) => "[x]".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => {
            if *b {
                "yes".into()
            } else {
                "no".into()
            }
        }
        Some(Value::Number(n)) => kind.show(n.as_f64().unwrap_or(f64::NAN)),
        Some(other) => other.to_string(),
    }
}

/// A table from a list of JSON records, with (header, key, kind) columns.
fn table(file: &str, title: &str, records: &[Value], cols: &[(&str, &str, Kind)]) -> SectionTable {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            cols.iter()
                .map(|(_, k, kind)| cell(r.get(*k), *kind))
                .collect()
        })
        .collect();
    let mut t = crate::present::Table::new(title, &cols.iter().map(|c| c.0).collect::<Vec<_>>(), 1);
    for r in &rows {
        t.push(r.iter().map(|c| Some(c.clone())).collect());
    }
    let numeric = |c: &str| {
        let t: String = c.chars().filter(|ch| !"%£+,<".contains(*ch)).collect();
        t.parse::<f64>().is_ok() || c == "[c]" || c == "[x]"
    };
    let align = (0..cols.len())
        .map(|j| {
            if rows.iter().all(|r| numeric(&r[j])) && !rows.is_empty() {
                "right"
            } else {
                "left"
            }
        })
        .collect();
    SectionTable {
        file: file.into(),
        title: title.into(),
        columns: cols.iter().map(|c| c.0.to_string()).collect(),
        align,
        rows,
        notes: Vec::new(),
        csv: t.to_csv(),
        cells: records
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|(_, k, kind)| typed_cell(r.get(*k), *kind))
                    .collect()
            })
            .collect(),
    }
}

/// A table drawn from its one description (the terminal's too): the published columns,
/// an interval as its low and high columns.
pub(super) fn described(file: &str, d: &Description, records: &[Value]) -> SectionTable {
    let cols = d.published();
    let refs: Vec<(&str, &str, Kind)> = cols
        .iter()
        .map(|(h, k, kind)| (h.as_str(), k.as_str(), *kind))
        .collect();
    table(file, &d.title, records, &refs)
}

/// A table drawn from its one description with its rows (the terminal's too): the rows the
/// report publishes.
pub(super) fn drawn(file: &str, d: &crate::output::describe::Described) -> SectionTable {
    described(
        file,
        &d.description,
        &d.records(crate::output::describe::On::Report),
    )
}

/// A dumbbell chart (love plot or tornado) with its data table.
#[allow(clippy::too_many_arguments)]
pub(super) fn dumbbell_chart(
    file: &str,
    title: &str,
    x_desc: &str,
    rows: &[(String, f64, f64)],
    names: (&str, &str),
    guides: &[f64],
    headers: [&str; 3],
    kind: &str,
) -> Result<Chart> {
    let alt = format!("{kind}: {title}.");
    let svg = charts::dumbbell(title, &alt, x_desc, rows, names, guides)?;
    let mut data = crate::present::Table::new(title, &headers, 1);
    for r in rows {
        data.push(vec![
            Some(r.0.clone()),
            Some(r.1.to_string()),
            Some(r.2.to_string()),
        ]);
    }
    Ok(Chart {
        file: file.into(),
        svg,
        alt,
        data,
    })
}

pub(super) fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

/// A rate as a percentage ([`Kind::Pct`]), for sentences and titles.
pub(super) fn pct(x: f64) -> String {
    Kind::Pct.show(x)
}
