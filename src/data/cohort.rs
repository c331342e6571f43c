//! Reading the cohort table: identifiers, cohorts, index dates and the requested columns.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::Path;

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::checks::{check_dates, check_text};
use super::dates::Day;
use super::link::{canonical_id, id_hash};
use super::options::{COHORT_REQUIRED, NUMBER_COLUMNS, TEXT_COLUMNS};
use super::quality::{ColumnWarning, FIRST_ROWS_KEPT, Reason, TableKind};
use super::read::{self, DATE_MISSING, DATE_UNPARSEABLE, NumCell};
use super::table::{Categorical, Column, MISSING, Values};
use crate::error::{Error, Result};

pub(super) struct CohortRows {
    pub(super) cohort: Vec<u32>,
    pub(super) cohort_levels: Vec<String>,
    pub(super) index: Vec<Day>,
    pub(super) key: Vec<u64>,
    /// The identifier's 128-bit hash ([`id_hash`]; 0 when missing), by which people are
    /// grouped and offences linked.
    pub(super) id: Vec<u128>,
    pub(super) reasons: Vec<u8>,
    pub(super) columns: Vec<Column>,
    pub(super) warnings: Vec<ColumnWarning>,
}

pub(super) fn hasher() -> FixedState {
    FixedState::with_seed(0x5eed_0ffe_7ce5_2020)
}

// Over 80 lines: reads the cohort table column by column with each column's checks in place, in the
// order the exclusion reasons are counted.
pub(super) fn read_cohort_rows(
    table: &super::extract::Table,
    extra: &[String],
    dates: &read::DateSpec,
    ages: (f64, f64),
) -> Result<CohortRows> {
    let mut cols: Vec<String> = COHORT_REQUIRED.iter().map(|s| s.to_string()).collect();
    cols.extend(extra.iter().cloned());
    let t = crate::trace::Phase::start("  read file");
    let path = table.path();
    // The text columns of few values come as dictionary codes where the file has them
    // (Parquet dictionary pages, CSV categoricals): no text value per row.
    let categorical: Vec<&str> = cols
        .iter()
        .map(String::as_str)
        .filter(|c| *c == "cohort" || TEXT_COLUMNS.contains(c))
        .collect();
    let frame = table.read(&cols, &categorical)?;
    drop(t);
    let t = crate::trace::Phase::start("  required columns");
    let person_id = frame.ids("person_id", 0)?;
    let index = frame.dates("index_date", dates)?;
    let cohort_cat = categorical_column(&frame, "cohort")?;
    let h = hasher();
    // Both hashes in one pass over the text: the 64-bit key (matching's tie-breaks) and the
    // 128-bit identifier hash (grouping and linking).
    let (key, id): (Vec<u64>, Vec<u128>) =
        read::par_unzip_str(&person_id, |s| match s.map(str::trim) {
            Some(s) if !s.is_empty() => (h.hash_one(canonical_id(s)), id_hash(s)),
            _ => (0, 0),
        });
    if person_id.len() != index.len() || cohort_cat.codes.len() != index.len() {
        return Err(columns_disagree(path));
    }
    let missing_pid: Vec<bool> = id.par_iter().map(|&h| h == 0).collect();
    // Rows blank in every required column (blank lines after the header) are missing_value
    // rows of an otherwise empty table, not an empty column.
    let blank = (0..index.len())
        .all(|i| missing_pid[i] && cohort_cat.codes[i] == MISSING && index[i] == DATE_MISSING);
    if !blank {
        check_dates(path, "index_date", &index, dates)?;
        check_text(path, "person_id", missing_pid.iter().copied())?;
        check_text(
            path,
            "cohort",
            cohort_cat.codes.iter().map(|&c| c == MISSING),
        )?;
    }
    let reasons: Vec<u8> = (0..index.len())
        .map(|i| {
            if missing_pid[i] || cohort_cat.codes[i] == MISSING || index[i] == DATE_MISSING {
                Reason::MissingValue as u8
            } else if index[i] == DATE_UNPARSEABLE {
                Reason::UnparseableValue as u8
            } else {
                0
            }
        })
        .collect();

    drop(t);
    let _t = crate::trace::Phase::start("  other columns");
    let mut columns = Vec::new();
    let mut warnings = Vec::new();
    for name in extra {
        let numeric = if NUMBER_COLUMNS.contains(&name.as_str()) {
            true
        } else if TEXT_COLUMNS.contains(&name.as_str()) {
            false
        } else {
            frame.looks_numeric(name)?
        };
        let values = if numeric {
            let cells = frame.numbers(name)?;
            let bad: Vec<u64> = cells
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c, NumCell::Unparseable))
                .map(|(i, _)| i as u64 + 1)
                .collect();
            if !bad.is_empty() {
                warnings.push(ColumnWarning {
                    table: TableKind::Cohort,
                    column: name.clone(),
                    issue: "unparseable_value_set_missing".into(),
                    rows: bad.len() as u64,
                    first_rows: bad.iter().copied().take(FIRST_ROWS_KEPT).collect(),
                    first_files: Vec::new(),
                    message: format!(
                        "cohort {name}: {} values could not be read and were treated as missing",
                        bad.len()
                    ),
                });
            }
            Values::Numeric(
                cells
                    .into_iter()
                    .map(|c| match c {
                        NumCell::Value(v) => Some(v),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            Values::Text(categorical_column(&frame, name)?)
        };
        columns.push(Column {
            name: name.clone(),
            values,
        });
    }
    let mut reasons = reasons;
    for col in &columns {
        let (name, Values::Numeric(v)) = (col.name.as_str(), &col.values) else {
            continue;
        };
        let implausible = |x: f64| match name {
            "age_at_index" => x < ages.0 || x > ages.1,
            "prior_offences" => x < 0.0,
            _ => false,
        };
        for (r, x) in reasons.iter_mut().zip(v) {
            if *r == 0 && x.is_some_and(implausible) {
                *r = Reason::ImplausibleValue as u8;
            }
        }
    }
    Ok(CohortRows {
        cohort: cohort_cat.codes,
        cohort_levels: cohort_cat.levels,
        index,
        key,
        id,
        reasons,
        columns,
        warnings,
    })
}

/// A text column as a [`Categorical`] of its trimmed values (blank ones missing), from its
/// dictionary codes when the frame has them, else from its text
/// ([`read::encode_categorical`]): the same levels and codes either way.
fn categorical_column(frame: &read::Frame, name: &str) -> Result<Categorical> {
    let Some((codes, labels)) = frame.codes(name)? else {
        return Ok(read::encode_categorical(&frame.text(name)?));
    };
    // Only the labels rows use, trimmed, equal trimmed labels one level.
    let mut used = vec![false; labels.len()];
    for &c in codes.iter() {
        if let Some(u) = used.get_mut(c as usize) {
            *u = true;
        }
    }
    let mut levels: Vec<String> = Vec::new();
    let mut level_of: HashMap<&str, u32, FixedState> = HashMap::default();
    let remap: Vec<u32> = labels
        .iter()
        .zip(used)
        .map(|(label, used)| match label.trim() {
            t if !used || t.is_empty() => MISSING,
            t => *level_of.entry(t).or_insert_with(|| {
                levels.push(t.to_string());
                (levels.len() - 1) as u32
            }),
        })
        .collect();
    let codes = codes
        .par_iter()
        .with_min_len(4096)
        .map(|&c| remap.get(c as usize).copied().unwrap_or(MISSING))
        .collect();
    Ok(Categorical::sorted(levels, codes))
}

/// A file whose columns hold different numbers of rows (a damaged Parquet file can).
pub(super) fn columns_disagree(path: &Path) -> Error {
    Error::input(
        path,
        "the file is damaged: its columns hold different numbers of rows; write or copy it again",
    )
}
