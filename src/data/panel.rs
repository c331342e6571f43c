//! An area-level panel read from a file: one row per area and period (for example the
//! Ministry of Justice's published proven reoffending rates by police force area).

use std::path::Path;

use super::read::{self, NumCell};
use crate::error::{Error, Result};

/// The columns of a panel file.
pub const PANEL_REQUIRED: [&str; 3] = ["area", "period", "outcome"];

/// One row of a panel file, as read (the period still a label).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRow {
    /// The area's label.
    pub area: String,
    /// The period's label (`2021`, `2021-Q1`, `2021-03` or a date).
    pub period: String,
    /// The outcome in the cell (a rate, or reoffences per person).
    pub outcome: f64,
    /// The cell's weight (people in it; 1 when the file has no `weight` column).
    pub weight: f64,
    /// The 1-based data row in the file.
    pub row: u64,
}

/// Reads a panel file (CSV or Parquet): columns `area`, `period`, `outcome` and optionally
/// `weight`. Every problem is an error naming the file, the column and the row: a missing
/// column or value, an outcome or weight that is not a finite number, a negative or zero
/// weight. Balance and duplicate cells are checked by the analysis, which knows the periods.
pub fn read_panel(path: &Path) -> Result<Vec<PanelRow>> {
    let header = read::header(path)?;
    for c in PANEL_REQUIRED {
        if !header.iter().any(|h| h == c) {
            return Err(Error::in_column(
                path,
                c,
                format!(
                    "no column `{c}`: a panel has one row per area and period with columns area, period, outcome \
                     (and optionally weight, the people in the cell)"
                ),
            ));
        }
    }
    let has_weight = header.iter().any(|h| h == "weight");
    let mut cols: Vec<String> = PANEL_REQUIRED.iter().map(|s| s.to_string()).collect();
    if has_weight {
        cols.push("weight".into());
    }
    let frame = read::read(path, &cols, &[])?;
    let area = frame.text("area")?;
    let period = frame.text("period")?;
    let outcome = frame.numbers("outcome")?;
    let weight = if has_weight {
        Some(frame.numbers("weight")?)
    } else {
        None
    };
    let mut rows = Vec::with_capacity(outcome.len());
    for (k, y) in outcome.iter().enumerate() {
        let row = k as u64 + 1;
        let text = |ca: &super::pl::StringChunked, name: &str| {
            ca.get(k)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::in_column(path, name, format!("row {row}: `{name}` is empty"))
                        .at_row(row)
                })
        };
        let number = |c: NumCell, name: &str| match c {
            NumCell::Value(v) => Ok(v),
            NumCell::Missing => {
                Err(
                    Error::in_column(path, name, format!("row {row}: `{name}` is empty"))
                        .at_row(row),
                )
            }
            NumCell::Unparseable => Err(Error::in_column(
                path,
                name,
                format!("row {row}: `{name}` is not a finite number"),
            )
            .at_row(row)),
        };
        let w = match &weight {
            Some(w) => {
                let v = number(w[k], "weight")?;
                if !(v > 0.0) {
                    return Err(Error::in_column(
                        path,
                        "weight",
                        format!("row {row}: a weight must be positive (people in the cell)"),
                    )
                    .at_row(row));
                }
                v
            }
            None => 1.0,
        };
        rows.push(PanelRow {
            area: text(&area, "area")?,
            period: text(&period, "period")?,
            outcome: number(*y, "outcome")?,
            weight: w,
            row,
        });
    }
    Ok(rows)
}
