//! Reading the offences table: dates, exclusion reasons, and the offence type and
//! disposal as dictionary codes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use foldhash::fast::FixedState;
use polars::prelude as pl;
use rayon::prelude::*;

use super::checks::{check_dates, check_text};
use super::dates::Day;
use super::options::{NotProven, OFFENCES_REQUIRED, normalise};
use super::quality::{ColumnWarning, FIRST_ROWS_KEPT, Reason, TableKind};
use super::read::{self, DATE_MISSING, DATE_UNPARSEABLE};
use super::table::{Categorical, MISSING};
use crate::error::{Error, Result};

pub(super) struct OffenceRows {
    pub(super) person_id: pl::StringChunked,
    pub(super) offence: Vec<Day>,
    pub(super) disposal: Vec<Day>,
    pub(super) offence_type: Option<Detail>,
    pub(super) disposal_kind: Option<Detail>,
    pub(super) reasons: Vec<u8>,
    pub(super) owner: Vec<u32>,
    pub(super) warnings: Vec<ColumnWarning>,
}

/// Values of `disposal` or `offence_type` that are usually not proven reoffences under the
/// Ministry of Justice rules (breaches; community resolutions, cannabis and khat warnings and
/// penalty notices are not convictions or cautions).
pub(super) fn looks_not_proven(value: &str) -> bool {
    let v = normalise(value);
    [
        "breach",
        "community_resolution",
        "cannabis_warning",
        "khat_warning",
        "penalty_notice",
    ]
    .iter()
    .any(|p| v.contains(p))
        || v == "pnd"
}

/// A warning when rows still counted (not excluded) hold values that look like outcomes
/// that are not proven reoffences, naming the values and their row counts.
pub(super) fn not_proven_counted(
    detail: &Detail,
    reasons: &[u8],
    column: &str,
    option: &str,
) -> Option<ColumnWarning> {
    let Detail { codes, labels } = detail;
    let suspicious: Vec<&str> = labels
        .iter()
        .map(|l| l.trim())
        .filter(|l| looks_not_proven(l))
        .collect();
    if suspicious.is_empty() {
        return None;
    }
    // One comparison per row, no allocation: by dictionary code.
    let of_code: Vec<Option<usize>> = labels
        .iter()
        .map(|l| suspicious.iter().position(|x| *x == l.trim()))
        .collect();
    let hit: Vec<Option<usize>> = codes
        .par_iter()
        .map(|&c| of_code.get(c as usize).copied().flatten())
        .collect();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut first_rows = Vec::new();
    for (r, h) in hit.iter().enumerate() {
        let Some(k) = h else { continue };
        if reasons[r] != 0 {
            continue;
        }
        *counts.entry(suspicious[*k]).or_default() += 1;
        if first_rows.len() < FIRST_ROWS_KEPT {
            first_rows.push(r as u64 + 1);
        }
    }
    let rows: u64 = counts.values().sum();
    (rows > 0).then(|| ColumnWarning {
        table: TableKind::Offences,
        column: column.to_string(),
        issue: "not_proven_outcome_counted".into(),
        rows,
        first_rows,
        message: format!(
            "offences {column}: {rows} rows counted as proven reoffences hold values that are usually not \
             proven outcomes ({}); if they are not convictions or cautions, exclude them with the {option} \
             option",
            counts
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

// Over 80 lines: reads the offences table column by column with each column's checks in place, in
// the order the exclusion reasons are counted.
pub(super) fn read_offence_rows(
    path: &Path,
    header: &[String],
    dates: &read::DateSpec,
    not_proven: &NotProven,
) -> Result<OffenceRows> {
    let mut cols: Vec<String> = OFFENCES_REQUIRED.iter().map(|s| s.to_string()).collect();
    for opt in ["offence_type", "disposal"] {
        if header.iter().any(|h| h == opt) {
            cols.push(opt.to_string());
        }
    }
    let frame = {
        let _t = crate::trace::Phase::start("  polars read offences");
        read::read(path, &cols, &["offence_type", "disposal"])?
    };
    let _t = crate::trace::Phase::start("  convert offences");
    let person_id = frame.text("person_id")?;
    let offence = frame.dates("offence_date", dates)?;
    let disposal = frame.dates("disposal_date", dates)?;
    check_dates(path, "offence_date", &offence, dates)?;
    check_dates(path, "disposal_date", &disposal, dates)?;
    let optional_text = |name: &str| -> Result<Option<Detail>> {
        if !header.iter().any(|h| h == name) {
            return Ok(None);
        }
        Ok(Some(match frame.codes(name)? {
            Some((codes, labels)) => Detail { codes, labels },
            // Text (Parquet) is dictionary coded at once, in parallel chunks: every later
            // step (not-proven checks, duplicates, grouping) then compares numbers.
            None => {
                let c = encode_categorical(&frame.text(name)?);
                Detail {
                    codes: c.codes,
                    labels: c.levels,
                }
            }
        }))
    };
    let offence_type = optional_text("offence_type")?;
    let disposal_kind = optional_text("disposal")?;
    drop(_t);
    let _t = crate::trace::Phase::start("  drop + reasons");
    drop(frame);
    let missing_pid: Vec<bool> =
        read::par_map_str(&person_id, |s| s.map(str::trim).is_none_or(str::is_empty));
    check_text(path, "person_id", missing_pid.iter().copied())?;
    let reasons: Vec<u8> = (0..offence.len())
        .into_par_iter()
        .map(|i| {
            let (o, d) = (offence[i], disposal[i]);
            if missing_pid[i] || o == DATE_MISSING || d == DATE_MISSING {
                Reason::MissingValue as u8
            } else if o == DATE_UNPARSEABLE || d == DATE_UNPARSEABLE {
                Reason::UnparseableValue as u8
            } else if d < o {
                Reason::DisposalBeforeOffence as u8
            } else {
                0
            }
        })
        .collect();
    let mut reasons = reasons;
    for (list, column, detail, flag) in [
        (
            &not_proven.disposals,
            "disposal",
            &disposal_kind,
            "exclude_disposals",
        ),
        (
            &not_proven.offence_types,
            "offence_type",
            &offence_type,
            "exclude_offence_types",
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        let Some(detail) = detail else {
            return Err(Error::in_column(
                path,
                column,
                format!("{flag} needs a `{column}` column in the offences table"),
            ));
        };
        let wanted: Vec<String> = list.iter().map(|s| normalise(s)).collect();
        let hit: Vec<bool> = (0..reasons.len())
            .into_par_iter()
            .with_min_len(4096)
            .map(|r| {
                reasons[r] == 0
                    && detail
                        .text(r)
                        .is_some_and(|t| wanted.contains(&normalise(t)))
            })
            .collect();
        for (r, h) in reasons.iter_mut().zip(hit) {
            if h {
                *r = Reason::NotProvenOutcome as u8;
            }
        }
    }
    let mut warnings = Vec::new();
    for (column, detail, option) in [
        ("disposal", &disposal_kind, "exclude_disposals"),
        ("offence_type", &offence_type, "exclude_offence_types"),
    ] {
        if let Some(w) = detail
            .as_ref()
            .and_then(|d| not_proven_counted(d, &reasons, column, option))
        {
            warnings.push(w);
        }
    }
    Ok(OffenceRows {
        person_id,
        offence,
        disposal,
        offence_type,
        disposal_kind,
        reasons,
        owner: Vec::new(),
        warnings,
    })
}

/// Dictionary-encodes a text column in parallel (range-local dictionaries, merged).
pub(super) fn encode_categorical(ca: &pl::StringChunked) -> Categorical {
    let parts: Vec<(Vec<&str>, Vec<u32>)> = read::par_str_ranges(ca, 1 << 20, |values| {
        let mut map: HashMap<&str, u32, FixedState> = HashMap::default();
        let mut levels = Vec::new();
        let codes = values
            .map(|v| match v.map(str::trim).filter(|s| !s.is_empty()) {
                None => MISSING,
                Some(s) => *map.entry(s).or_insert_with(|| {
                    levels.push(s);
                    (levels.len() - 1) as u32
                }),
            })
            .collect();
        (levels, codes)
    });
    let mut global: HashMap<&str, u32, FixedState> = HashMap::default();
    let mut levels: Vec<String> = Vec::new();
    let remaps: Vec<Vec<u32>> = parts
        .iter()
        .map(|(local_levels, _)| {
            local_levels
                .iter()
                .map(|s| {
                    *global.entry(s).or_insert_with(|| {
                        levels.push(s.to_string());
                        (levels.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
    for ((_, local), remap) in parts.iter().zip(&remaps) {
        let mut part: Vec<u32> = Vec::with_capacity(local.len());
        local
            .par_iter()
            .with_min_len(4096)
            .map(|&c| {
                if c == MISSING {
                    MISSING
                } else {
                    remap[c as usize]
                }
            })
            .collect_into_vec(&mut part);
        codes.append(&mut part);
    }
    Categorical::sorted(levels, codes)
}

/// An optional text column of the offences table as dictionary codes (CSV columns are
/// read as categorical; Parquet text is coded as it is read). Labels may hold surrounding
/// spaces, and two labels the same once trimmed.
pub(super) struct Detail {
    /// Code of each row (`MISSING` for none).
    pub(super) codes: Vec<u32>,
    /// Label of each code, as read.
    pub(super) labels: Vec<String>,
}

impl Detail {
    /// The trimmed text of row `r`, `None` if missing or empty.
    pub(super) fn text(&self, r: usize) -> Option<&str> {
        self.labels
            .get(self.codes[r] as usize)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// Sorted distinct trimmed labels, and for each code its level (`MISSING` for none):
    /// equal levels are equal trimmed text.
    pub(super) fn levels(&self) -> (Vec<String>, Vec<u32>) {
        let trimmed: Vec<Option<&str>> = self
            .labels
            .iter()
            .map(|l| Some(l.trim()).filter(|s| !s.is_empty()))
            .collect();
        let mut levels: Vec<&str> = trimmed.iter().flatten().copied().collect();
        levels.sort_unstable();
        levels.dedup();
        let remap = trimmed
            .iter()
            .map(|t| {
                t.and_then(|t| levels.binary_search(&t).ok())
                    .map_or(MISSING, |p| p as u32)
            })
            .collect();
        (levels.into_iter().map(str::to_string).collect(), remap)
    }

    /// The level of row `r` under `remap` (from [`Detail::levels`]).
    pub(super) fn level(&self, remap: &[u32], r: usize) -> u32 {
        remap
            .get(self.codes[r] as usize)
            .copied()
            .unwrap_or(MISSING)
    }
}
