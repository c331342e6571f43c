//! Recoding a column's values to labels (an extract's outcome codes to the disposals the
//! rules and `exclude_disposals` name), before any rule reads the column.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::read::Frame;
use crate::error::{Error, Result};

/// What happens to a value the recoding has no label for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmapped {
    /// A structural error listing the values without a label and their counts (the default).
    #[default]
    Error,
    /// Kept as it is, and listed in a warning.
    Keep,
}

/// Labels for the values of one column, applied after the columns are mapped to the
/// contract's names and before any rule reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recode {
    /// The column, by its contract name (e.g. `disposal`).
    pub column: String,
    /// `(value, label)` pairs. Values match after trimming spaces; a whole number written
    /// as a number (`3.0`) matches `3`.
    pub labels: Vec<(String, String)>,
    /// The lookup file the labels came from, if any (for provenance).
    pub source: Option<PathBuf>,
    /// What happens to a value with no label.
    pub unmapped: Unmapped,
}

impl Recode {
    /// Reads a lookup CSV with a header and the columns `value,label` (other columns are
    /// ignored). A value given twice with two labels is an error.
    pub fn from_csv(column: &str, path: &Path, unmapped: Unmapped) -> Result<Recode> {
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "cannot open",
            source,
        })?;
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| Error::input(path, format!("cannot read the header row: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
            .collect();
        let at = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                Error::in_column(
                    path,
                    name,
                    format!(
                        "a recoding table needs the columns value,label; this one has: {}",
                        header.join(", ")
                    ),
                )
            })
        };
        let (v, l) = (at("value")?, at("label")?);
        let mut labels = Vec::new();
        for (i, record) in csv.records().enumerate() {
            let record = record.map_err(|e| {
                Error::input(path, format!("row {}: cannot read: {e}", i + 1)).at_row(i as u64 + 1)
            })?;
            let value = record.get(v).unwrap_or("").trim().to_string();
            let label = record.get(l).unwrap_or("").trim().to_string();
            if !value.is_empty() {
                labels.push((value, label));
            }
        }
        let r = Recode {
            column: column.to_string(),
            labels,
            source: Some(path.to_path_buf()),
            unmapped,
        };
        r.check().map_err(|m| Error::input(path, m))?;
        Ok(r)
    }

    /// A value given two different labels cannot be applied.
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (v, l) in &self.labels {
            if let Some(prev) = seen.insert(key(v), l) {
                if prev != l {
                    return Err(format!(
                        "the recoding of `{}` gives the value `{v}` two labels, `{prev}` and `{l}`",
                        self.column
                    ));
                }
            }
        }
        Ok(())
    }

    fn table(&self) -> HashMap<String, &str> {
        self.labels
            .iter()
            .map(|(v, l)| (key(v), l.as_str()))
            .collect()
    }
}

/// How a value is looked up: trimmed, and a whole number written with a decimal point as
/// the whole number.
fn key(v: &str) -> String {
    let t = v.trim();
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 && t.contains('.') => {
            format!("{}", x as i64)
        }
        _ => t.to_string(),
    }
}

/// Values without a label seen so far: count, and where the first was (file, 1-based row).
#[derive(Debug, Default)]
pub(super) struct UnmappedSeen {
    pub values: BTreeMap<String, (u64, PathBuf, u64)>,
}

/// Recodes column `column` of `frame` in place. `row0` is the frame's first row in its
/// file (0-based), `shown` the file as messages name it.
pub(super) fn apply(
    recode: &Recode,
    frame: &mut Frame,
    row0: u64,
    shown: &Path,
    seen: &mut UnmappedSeen,
) -> Result<()> {
    let table = recode.table();
    let labels: Vec<&str> = {
        let mut l: Vec<&str> = table.values().copied().collect();
        l.sort_unstable();
        l.dedup();
        l
    };
    let index: HashMap<&str, u32> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (*l, i as u32))
        .collect();
    // Per row: missing, the label's index, or no label.
    const NONE: u32 = u32::MAX;
    const NO_LABEL: u32 = u32::MAX - 1;
    let coded: Vec<u32> = frame.map_text(&recode.column, |s| {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => NONE,
            Some(v) => table.get(key(v).as_str()).map_or(NO_LABEL, |l| index[l]),
        }
    })?;
    let mut kept: HashMap<usize, String> = HashMap::new();
    if coded.contains(&NO_LABEL) {
        let text: Vec<Option<String>> =
            frame.map_text(&recode.column, |s| s.map(|s| s.trim().to_string()))?;
        for (i, c) in coded.iter().enumerate() {
            if *c == NO_LABEL {
                let v = text[i].clone().unwrap_or_default();
                let e = seen.values.entry(v.clone()).or_insert((
                    0,
                    shown.to_path_buf(),
                    row0 + i as u64 + 1,
                ));
                e.0 += 1;
                kept.insert(i, v);
            }
        }
    }
    let values = coded.iter().enumerate().map(|(i, &c)| match c {
        NONE => None,
        NO_LABEL => kept.get(&i).map(String::as_str),
        l => Some(labels[l as usize]),
    });
    frame.set_text(&recode.column, values)
}

/// The values without a label, commonest first, as `value (n rows, first: file row r)`.
pub(super) fn describe(seen: &UnmappedSeen, limit: usize) -> String {
    let mut v: Vec<(&String, &(u64, PathBuf, u64))> = seen.values.iter().collect();
    v.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = v
        .iter()
        .take(limit)
        .map(|(value, (n, file, row))| {
            let name = file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("`{value}` ({n} rows, first in {name} row {row})")
        })
        .collect();
    if v.len() > limit {
        parts.push(format!("and {} more values", v.len() - limit));
    }
    parts.join(", ")
}
