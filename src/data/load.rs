//! Validation and linking: from two files to [`Dataset`], counting every row not used.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

use foldhash::fast::FixedState;
use polars::prelude as pl;
use rayon::prelude::*;
use serde::Serialize;

use super::dates::{DateFormat, Day, format_day};
use super::quality::{ColumnWarning, DataQuality, FIRST_ROWS_KEPT, Reason, TableKind, tally};
use super::read::{self, DATE_MISSING, DATE_UNPARSEABLE, NumCell};
use super::table::{Categorical, Column, MISSING, Offences, People, Values};
use crate::error::{Error, Result};

/// Required columns of the cohort table.
pub const COHORT_REQUIRED: [&str; 3] = ["person_id", "cohort", "index_date"];
/// Breakdowns derived from `age_at_index` and `index_date`; an input column may not take
/// one of these names.
pub const DERIVED_COLUMNS: [&str; 4] = ["age_band", "age_group", "index_quarter", "index_year"];
/// Required columns of the offences table.
pub const OFFENCES_REQUIRED: [&str; 3] = ["person_id", "offence_date", "disposal_date"];
/// Optional cohort columns that are always text.
const TEXT_COLUMNS: [&str; 4] = ["sex", "ethnicity", "area", "index_offence"];
/// Optional cohort columns that are always numbers.
const NUMBER_COLUMNS: [&str; 2] = ["age_at_index", "prior_offences"];

/// Which optional and extra columns of the cohort table to load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ColumnSelection {
    /// Every column in the file (the default).
    #[default]
    All,
    /// Only these (missing ones are an error naming the column).
    Only(Vec<String>),
}

/// How the two tables are read. Every field has a documented default.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// How date text is read. Default: ISO `YYYY-MM-DD`.
    pub date_format: DateFormat,
    /// The date the extract was taken. Default: the latest disposal date in the offences
    /// table (see [`ExtractDateSource`]).
    pub extract_date: Option<Day>,
    /// Optional cohort columns to load. Default: all.
    pub cohort_columns: ColumnSelection,
    /// Whether `offence_type` and `disposal` are kept as columns of [`Offences`].
    /// Default: kept. Exact duplicates are detected on them either way.
    pub offence_details: OffenceDetails,
    /// Offence rows that are not proven outcomes, excluded as `not_proven_outcome`.
    /// Default: none (every row of the offences table is taken to be proven).
    pub not_proven: NotProven,
    /// The time zone in which timestamps that carry a zone become calendar dates.
    /// Default: each column's own zone. Timestamps without a zone are taken as local
    /// dates (their calendar day as written).
    pub timezone: Option<chrono_tz::Tz>,
    /// Plausible years of every date, inclusive. Default 1900 to 2100: a date outside is
    /// `unparseable_value` (a typo such as 2201, or a sentinel such as 0001-01-01).
    pub years: (i32, i32),
    /// Plausible `age_at_index`, inclusive. Default 10 (the age of criminal
    /// responsibility in England and Wales) to 110: outside is `implausible_value`.
    pub ages: (f64, f64),
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            date_format: DateFormat::default(),
            extract_date: None,
            cohort_columns: ColumnSelection::default(),
            offence_details: OffenceDetails::default(),
            not_proven: NotProven::default(),
            timezone: None,
            years: (1900, 2100),
            ages: (10.0, 110.0),
        }
    }
}

impl LoadOptions {
    /// Checks the options can be applied.
    pub fn validate(&self) -> Result<()> {
        let (a, b) = self.years;
        if !(1..=9999).contains(&a) || !(1..=9999).contains(&b) || a > b {
            return Err(Error::option(
                "years",
                format!("{a} to {b} is not a range of years between 1 and 9999"),
            ));
        }
        let (lo, hi) = self.ages;
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi) {
            return Err(Error::option(
                "ages",
                format!("{lo} to {hi} is not a range of ages"),
            ));
        }
        Ok(())
    }

    fn date_spec(&self) -> read::DateSpec<'_> {
        read::DateSpec {
            format: &self.date_format,
            timezone: self.timezone,
            range: (
                super::dates::days_from_civil(self.years.0, 1, 1),
                super::dates::days_from_civil(self.years.1, 12, 31),
            ),
        }
    }
}

/// Values of `disposal` and `offence_type` that do not make a proven reoffence (MoJ rules:
/// community resolutions and cannabis warnings are not convictions or cautions; breaches
/// are not reoffences). Matching ignores case, surrounding spaces, and `_` versus space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotProven {
    /// Disposals to exclude, e.g. `community_resolution`, `cannabis_warning`.
    pub disposals: Vec<String>,
    /// Offence types to exclude, e.g. `breach`.
    pub offence_types: Vec<String>,
}

fn normalise(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Whether the offence table's `offence_type` and `disposal` are kept after validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OffenceDetails {
    /// Kept, dictionary encoded (needed for costs and breakdowns by offence type).
    #[default]
    Keep,
    /// Used only to detect exact duplicates, then dropped: faster at national scale when
    /// only rates are wanted.
    Skip,
}

/// Where the extract date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractDateSource {
    /// Given as an option.
    Given,
    /// The latest disposal date among usable offence rows.
    LatestDisposalDate,
    /// No usable offence rows and no option: the latest index date was used.
    LatestIndexDate,
    /// No usable rows at all.
    None,
}

/// An input file as read.
#[derive(Debug, Clone, Serialize)]
pub struct SourceFile {
    /// Which table.
    pub table: TableKind,
    /// The path given.
    pub path: PathBuf,
    /// Data rows read.
    pub rows: u64,
    /// Columns in the file.
    pub columns: Vec<String>,
}

/// Both tables, validated and linked.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The people kept, one row each.
    pub people: People,
    /// Their proven offences, grouped by person.
    pub offences: Offences,
    /// Rows read, used and excluded (before the follow-up rules: the measure adds
    /// `insufficient_follow_up`).
    pub quality: DataQuality,
    /// The extract date used.
    pub extract_date: Option<Day>,
    /// Where it came from.
    pub extract_date_source: ExtractDateSource,
    /// The two files.
    pub sources: Vec<SourceFile>,
}

impl Dataset {
    /// Reads, validates and links a cohort and an offences table.
    ///
    /// Structural problems (missing file, no header, missing required column, a required
    /// column none of whose values can be read) are errors naming the file and column.
    /// Row problems are counted exclusions (see [`DataQuality`]).
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let cohort = dir.path().join("cohort.csv");
    /// let offences = dir.path().join("offences.csv");
    /// std::fs::write(&cohort, "person_id,cohort,index_date\nA,divert,2021-01-10\nB,divert,2021-02-01\n").unwrap();
    /// std::fs::write(&offences, "person_id,offence_date,disposal_date\nA,2021-03-01,2021-05-01\nZ,2021-01-01,2023-01-01\n").unwrap();
    /// let data = reoffending::Dataset::load(&cohort, &offences, &Default::default())?;
    /// assert_eq!(data.people.len(), 2);
    /// assert_eq!(data.offences.len(), 1); // Z is not in the cohort: counted, not used
    /// // ... and Z's row does not move the extract date: the latest disposal of a cohort person.
    /// assert_eq!(data.extract_date.map(reoffending::format_day).as_deref(), Some("2021-05-01"));
    /// # Ok(()) }
    /// ```
    pub fn load(cohort: &Path, offences: &Path, options: &LoadOptions) -> Result<Dataset> {
        options.validate()?;
        let dates = options.date_spec();
        // Check both headers first, so a bad second file fails fast.
        let cohort_header = read::header(cohort)?;
        require(cohort, &cohort_header, &COHORT_REQUIRED, "cohort")?;
        for derived in DERIVED_COLUMNS {
            if cohort_header.iter().any(|h| h == derived) {
                return Err(Error::input(
                    cohort,
                    format!(
                        "the column `{derived}` has the name of a breakdown this tool derives (from \
                         age_at_index or index_date): rename it, e.g. to `{derived}_source`, to use it as it is"
                    ),
                ));
            }
        }
        let offences_header = read::header(offences)?;
        require(offences, &offences_header, &OFFENCES_REQUIRED, "offences")?;

        let off = {
            let _t = crate::trace::Phase::start("read offences");
            read_offence_rows(offences, &offences_header, &dates, &options.not_proven)?
        };
        let keep_details = options.offence_details == OffenceDetails::Keep;

        let extra: Vec<String> = match &options.cohort_columns {
            ColumnSelection::All => cohort_header
                .iter()
                .filter(|c| !COHORT_REQUIRED.contains(&c.as_str()) && !c.is_empty())
                .cloned()
                .collect(),
            ColumnSelection::Only(cols) => {
                for c in cols {
                    // `prior_offences` is counted from the offences table when absent.
                    if !cohort_header.contains(c) && c != "prior_offences" {
                        return Err(Error::input(
                            cohort,
                            format!(
                                "no column `{c}` (asked for as a covariate or breakdown); the file has: {}",
                                cohort_header.join(", ")
                            ),
                        ));
                    }
                }
                let mut v: Vec<String> = cols
                    .iter()
                    .filter(|c| !COHORT_REQUIRED.contains(&c.as_str()) && cohort_header.contains(c))
                    .cloned()
                    .collect();
                v.dedup();
                v
            }
        };

        let mut c = {
            let _t = crate::trace::Phase::start("read cohort");
            read_cohort_rows(cohort, &extra, &dates, options.ages)?
        };
        let row_reasons = std::mem::take(&mut c.reasons);
        // Index dates after a given extract date are excluded while indexing; without one,
        // the extract date is the latest disposal among offence rows linked to a person,
        // known only after linking, and people indexed after it are dropped then.
        let (index, mut cohort_reasons) = {
            let _t = crate::trace::Phase::start("index people");
            PersonIndex::build(&c, &row_reasons, options.extract_date)
        };
        drop(row_reasons);

        // Link offences to people.
        let mut off = off;
        {
            let _t = crate::trace::Phase::start("link offences");
            off.owner = index.link(&off.person_id);
            // Identifiers are not needed any more: free them before grouping.
            off.person_id = Default::default();
        }
        let PersonIndex {
            shards,
            mut kept_rows,
        } = index;
        drop(shards);
        let latest_disposal = off
            .reasons
            .par_iter()
            .zip(off.disposal.par_iter())
            .zip(off.owner.par_iter())
            .filter(|((r, _), o)| **r == 0 && **o != NO_PERSON)
            .map(|((_, d), _)| *d)
            .max();
        let (extract_date, extract_date_source) = match (options.extract_date, latest_disposal) {
            (Some(d), _) => (Some(d), ExtractDateSource::Given),
            (None, Some(d)) => (Some(d), ExtractDateSource::LatestDisposalDate),
            (None, None) => match kept_rows.iter().map(|&r| c.index[r]).max() {
                Some(d) => (Some(d), ExtractDateSource::LatestIndexDate),
                None => (None, ExtractDateSource::None),
            },
        };
        if options.extract_date.is_none() {
            if let Some(e) = extract_date {
                drop_indexed_after(
                    &mut kept_rows,
                    &mut cohort_reasons,
                    &mut off.owner,
                    &c.index,
                    e,
                );
            }
        }
        off.reasons
            .par_iter_mut()
            .zip(off.owner.par_iter())
            .for_each(|(r, &o)| {
                if *r == 0 && o == NO_PERSON {
                    *r = Reason::PersonNotInCohort as u8;
                }
            });
        c.person_id = Default::default();
        let n_people = kept_rows.len();
        let offences_table = {
            let _t = crate::trace::Phase::start("group offences");
            group_offences(&mut off, n_people, keep_details)
        };
        let _t = crate::trace::Phase::start("people columns");

        // People.
        let kept = &kept_rows;
        let people_cohort = Categorical::sorted(
            c.cohort_levels.clone(),
            kept.iter().map(|&r| c.cohort[r]).collect(),
        );
        let mut people = People {
            cohort: people_cohort,
            index_day: kept.iter().map(|&r| c.index[r]).collect(),
            key: kept.iter().map(|&r| c.key[r]).collect(),
            source_row: kept.iter().map(|&r| r as u64 + 1).collect(),
            columns: c.columns.iter().map(|col| col.take(kept)).collect(),
        };
        drop(_t);
        let _t = crate::trace::Phase::start("prior offences");
        if people.column("prior_offences").is_none() {
            let prior: Vec<Option<f64>> = (0..n_people)
                .into_par_iter()
                .map(|i| {
                    let t0 = people.index_day[i];
                    let r = offences_table.range(i);
                    Some(
                        // Proven before the index event: a row disposed of on the index
                        // date is the index offence itself, not a prior.
                        offences_table.disposal_day[r]
                            .iter()
                            .filter(|&&d| d < t0)
                            .count() as f64,
                    )
                })
                .collect();
            people.columns.push(Column {
                name: "prior_offences".into(),
                values: Values::Numeric(prior),
            });
        }

        drop(_t);
        let _t = crate::trace::Phase::start("tally");
        let mut quality = DataQuality::default();
        quality.rows_read.cohort = cohort_reasons.len() as u64;
        quality.rows_read.offences = off.reasons.len() as u64;
        for e in tally(TableKind::Cohort, &cohort_reasons) {
            quality.add(e);
        }
        for e in tally(TableKind::Offences, &off.reasons) {
            quality.add(e);
        }
        quality.rows_used.cohort = people.len() as u64;
        quality.rows_used.offences = offences_table.len() as u64;
        quality.warnings = c.warnings.clone();
        quality.warnings.extend(off.warnings.iter().cloned());
        quality.warnings.extend(extract_date_warnings(
            &off,
            extract_date,
            extract_date_source,
        ));

        Ok(Dataset {
            people,
            offences: offences_table,
            quality,
            extract_date,
            extract_date_source,
            sources: vec![
                SourceFile {
                    table: TableKind::Cohort,
                    path: cohort.to_path_buf(),
                    rows: cohort_reasons.len() as u64,
                    columns: cohort_header,
                },
                SourceFile {
                    table: TableKind::Offences,
                    path: offences.to_path_buf(),
                    rows: off.reasons.len() as u64,
                    columns: offences_header,
                },
            ],
        })
    }

    /// The extract date as `YYYY-MM-DD`, if any.
    pub fn extract_date_text(&self) -> Option<String> {
        self.extract_date.map(format_day)
    }
}

/// Warnings that the extract date looks wrong: later than today, or more than 90 days after
/// the 99.9th percentile of the used disposal dates (one far-future row is likely a typo).
fn extract_date_warnings(
    off: &OffenceRows,
    extract: Option<Day>,
    source: ExtractDateSource,
) -> Vec<ColumnWarning> {
    let Some(extract) = extract else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let how = match source {
        ExtractDateSource::Given => "given",
        _ => "taken from the latest disposal date",
    };
    let today = super::dates::from_naive(chrono::Utc::now().date_naive());
    if extract > today {
        out.push(ColumnWarning {
            table: TableKind::Offences,
            column: "disposal_date".into(),
            issue: "extract_date_after_today".into(),
            rows: 0,
            first_rows: Vec::new(),
            message: format!(
                "the extract date {} ({how}) is later than today: check it, or give the extract date",
                format_day(extract)
            ),
        });
    }
    // The 99.9th percentile of used disposal days by counting (days are range-checked, so the
    // histogram is at most a few hundred thousand cells), without copying the column.
    let used = || {
        off.reasons
            .iter()
            .zip(&off.disposal)
            .filter(|(r, _)| **r == 0)
            .map(|(_, d)| *d)
    };
    let (Some(lo), Some(hi)) = (used().min(), used().max()) else {
        return out;
    };
    let mut hist = vec![0u64; (hi - lo) as usize + 1];
    let mut n = 0u64;
    for d in used() {
        hist[(d - lo) as usize] += 1;
        n += 1;
    }
    let k = ((n - 1) as f64 * 0.999).floor() as u64;
    let (mut seen, mut p999) = (0u64, hi);
    for (i, c) in hist.iter().enumerate() {
        seen += c;
        if seen > k {
            p999 = lo + i as Day;
            break;
        }
    }
    let limit = p999 + 90;
    if extract > limit {
        let rows: Vec<u64> = off
            .reasons
            .iter()
            .zip(&off.disposal)
            .enumerate()
            .filter(|(_, (r, d))| **r == 0 && **d > limit)
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let why = match rows.first() {
            Some(first) if source != ExtractDateSource::Given => format!(
                "one row may be a typo: offences row {first}{}",
                if rows.len() > 1 {
                    format!(" and {} more", rows.len() - 1)
                } else {
                    String::new()
                }
            ),
            _ => "people indexed in the last months may count as followed up although their \
                  offences are not in the extract yet"
                .to_string(),
        };
        out.push(ColumnWarning {
            table: TableKind::Offences,
            column: "disposal_date".into(),
            issue: "extract_date_far_after_disposals".into(),
            rows: rows.len() as u64,
            first_rows: rows.iter().copied().take(FIRST_ROWS_KEPT).collect(),
            message: format!(
                "the extract date {} ({how}) is more than 90 days after 99.9% of disposal dates (the 99.9th \
                 percentile is {}): {why}",
                format_day(extract),
                format_day(p999),
            ),
        });
    }
    out
}

/// Excludes people indexed after the extract date (`index_after_extract`) once it is known,
/// renumbering the people kept and the offence rows linked to them.
fn drop_indexed_after(
    kept_rows: &mut Vec<usize>,
    cohort_reasons: &mut [u8],
    owner: &mut [u32],
    index: &[Day],
    extract: Day,
) {
    if kept_rows.iter().all(|&r| index[r] <= extract) {
        return;
    }
    let mut renumber = vec![NO_PERSON; kept_rows.len()];
    let mut next = 0u32;
    for (p, &r) in kept_rows.iter().enumerate() {
        if index[r] > extract {
            cohort_reasons[r] = Reason::IndexAfterExtract as u8;
        } else {
            renumber[p] = next;
            next += 1;
        }
    }
    kept_rows.retain(|&r| index[r] <= extract);
    owner.par_iter_mut().for_each(|o| {
        if *o != NO_PERSON {
            *o = renumber[*o as usize];
        }
    });
}

fn require(path: &Path, header: &[String], required: &[&str], table: &str) -> Result<()> {
    for col in required {
        if !header.iter().any(|h| h == col) {
            return Err(Error::input(
                path,
                format!(
                    "the {table} table has no column `{col}`: expected columns {} (found: {})",
                    required.join(", "),
                    header.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A required text column that is empty in every row is a structural error.
fn check_text(path: &Path, column: &str, missing: impl Iterator<Item = bool>) -> Result<()> {
    let mut rows = 0usize;
    let mut all_missing = true;
    for m in missing {
        rows += 1;
        all_missing &= m;
    }
    if rows > 0 && all_missing {
        return Err(Error::input(
            path,
            format!("column `{column}`: every value is empty (expected text in every row)"),
        ));
    }
    Ok(())
}

/// A required date column in which no non-empty value is a date is a structural error.
fn check_dates(path: &Path, column: &str, days: &[Day], spec: &read::DateSpec) -> Result<()> {
    let any_value = days.par_iter().any(|&d| d != DATE_MISSING);
    let any_date = days
        .par_iter()
        .any(|&d| d != DATE_MISSING && d != DATE_UNPARSEABLE);
    if !days.is_empty() && !any_date {
        let what = if any_value {
            "none of its values can be read"
        } else {
            "every value is empty"
        };
        let hint = match spec.format {
            DateFormat::Iso => " (give the date format for other layouts, e.g. %d/%m/%Y)",
            DateFormat::Strftime(_) => " (check the date format)",
        };
        return Err(Error::input(
            path,
            format!(
                "column `{column}`: {what} as {} from {} to {}{hint}",
                spec.format.describe(),
                format_day(spec.range.0),
                format_day(spec.range.1)
            ),
        ));
    }
    Ok(())
}

const NO_PERSON: u32 = u32::MAX;

struct OffenceRows {
    person_id: pl::StringChunked,
    offence: Vec<Day>,
    disposal: Vec<Day>,
    offence_type: Option<Detail>,
    disposal_kind: Option<Detail>,
    reasons: Vec<u8>,
    owner: Vec<u32>,
    warnings: Vec<ColumnWarning>,
}

/// Values of `disposal` or `offence_type` that are usually not proven reoffences under the
/// Ministry of Justice rules (breaches; community resolutions, cannabis and khat warnings and
/// penalty notices are not convictions or cautions).
fn looks_not_proven(value: &str) -> bool {
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
fn not_proven_counted(
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

fn read_offence_rows(
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
            return Err(Error::input(
                path,
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
fn encode_categorical(ca: &pl::StringChunked) -> Categorical {
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

struct CohortRows {
    person_id: pl::StringChunked,
    cohort: Vec<u32>,
    cohort_levels: Vec<String>,
    index: Vec<Day>,
    key: Vec<u64>,
    reasons: Vec<u8>,
    columns: Vec<Column>,
    warnings: Vec<ColumnWarning>,
}

fn hasher() -> FixedState {
    FixedState::with_seed(0x5eed_0ffe_7ce5_2020)
}

fn read_cohort_rows(
    path: &Path,
    extra: &[String],
    dates: &read::DateSpec,
    ages: (f64, f64),
) -> Result<CohortRows> {
    let mut cols: Vec<String> = COHORT_REQUIRED.iter().map(|s| s.to_string()).collect();
    cols.extend(extra.iter().cloned());
    let frame = read::read(path, &cols, &[])?;
    let person_id = frame.text("person_id")?;
    let index = frame.dates("index_date", dates)?;
    check_dates(path, "index_date", &index, dates)?;
    let cohort_cat = encode_categorical(&frame.text("cohort")?);
    let h = hasher();
    let key: Vec<u64> = read::par_map_str(&person_id, |s| match s.map(str::trim) {
        Some(s) if !s.is_empty() => h.hash_one(s),
        _ => 0,
    });
    let missing_pid: Vec<bool> =
        read::par_map_str(&person_id, |s| s.map(str::trim).is_none_or(str::is_empty));
    check_text(path, "person_id", missing_pid.iter().copied())?;
    check_text(
        path,
        "cohort",
        cohort_cat.codes.iter().map(|&c| c == MISSING),
    )?;
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
            Values::Text(encode_categorical(&frame.text(name)?))
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
        person_id,
        cohort: cohort_cat.codes,
        cohort_levels: cohort_cat.levels,
        index,
        key,
        reasons,
        columns,
        warnings,
    })
}

/// What is known about one person identifier across the cohort rows.
#[derive(Clone, Copy)]
struct Agg {
    cohort: u32,
    conflict: bool,
    best_row: u32,
    best_day: Day,
    person: u32,
}

/// The hash map is split into shards by the top bits of the identifier's hash; work on
/// each shard touches one small map, so it stays in cache (a partitioned hash join).
const SHARD_BITS: u32 = 10;
const NO_SHARD: u16 = u16::MAX;

fn shard_of(key: u64) -> u16 {
    (key >> (64 - SHARD_BITS)) as u16
}

/// Row numbers grouped by shard (a counting sort, keeping row order within a shard).
fn partition(shards: &[u16]) -> Vec<Vec<u32>> {
    let n_shards = 1usize << SHARD_BITS;
    let mut counts = vec![0usize; n_shards];
    for &s in shards {
        if s != NO_SHARD {
            counts[s as usize] += 1;
        }
    }
    let mut out: Vec<Vec<u32>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    for (i, &s) in shards.iter().enumerate() {
        if s != NO_SHARD {
            out[s as usize].push(i as u32);
        }
    }
    out
}

/// person_id -> person, as a sharded hash map.
struct PersonIndex<'a> {
    shards: Vec<HashMap<&'a str, Agg, FixedState>>,
    kept_rows: Vec<usize>,
}

impl<'a> PersonIndex<'a> {
    /// Groups the usable cohort rows by person, marks repeat index events, people in two
    /// cohorts and index dates after the extract date, and numbers the people kept.
    fn build(
        c: &'a CohortRows,
        row_reasons: &[u8],
        extract: Option<Day>,
    ) -> (PersonIndex<'a>, Vec<u8>) {
        let shard_keys: Vec<u16> = row_reasons
            .par_iter()
            .zip(c.key.par_iter())
            .map(|(&r, &k)| if r == 0 { shard_of(k) } else { NO_SHARD })
            .collect();
        let by_shard = partition(&shard_keys);
        drop(shard_keys);
        let ids: Vec<&str> = read::str_values(&c.person_id)
            .map(|s| s.map(str::trim).unwrap_or(""))
            .collect();
        let (cohort, index) = (&c.cohort, &c.index);
        // Per shard: aggregate its people, then give each of its rows a reason.
        let built: Vec<(HashMap<&str, Agg, FixedState>, Vec<u8>)> = by_shard
            .par_iter()
            .map(|rows| {
                let mut map: HashMap<&str, Agg, FixedState> =
                    HashMap::with_capacity_and_hasher(rows.len(), FixedState::default());
                for &row in rows {
                    let r = row as usize;
                    let entry = map.entry(ids[r]).or_insert(Agg {
                        cohort: cohort[r],
                        conflict: false,
                        best_row: row,
                        best_day: index[r],
                        person: NO_PERSON,
                    });
                    if entry.cohort != cohort[r] {
                        entry.conflict = true;
                    }
                    if (index[r], row) < (entry.best_day, entry.best_row) {
                        entry.best_day = index[r];
                        entry.best_row = row;
                    }
                }
                let reasons = rows
                    .iter()
                    .map(|&row| {
                        let r = row as usize;
                        // Every row of this shard was inserted into `map` just above.
                        let agg = map[ids[r]];
                        if agg.conflict {
                            Reason::InTwoCohorts as u8
                        } else if agg.best_row != row {
                            Reason::RepeatIndexEvent as u8
                        } else if extract.is_some_and(|e| index[r] > e) {
                            Reason::IndexAfterExtract as u8
                        } else {
                            0
                        }
                    })
                    .collect();
                (map, reasons)
            })
            .collect();
        let mut reasons = row_reasons.to_vec();
        for (rows, (_, rs)) in by_shard.iter().zip(&built) {
            for (&row, &r) in rows.iter().zip(rs) {
                reasons[row as usize] = r;
            }
        }
        // Person number of a kept row: how many kept rows come before it.
        let mut rank = vec![NO_PERSON; reasons.len()];
        let mut kept_rows = Vec::new();
        for (i, &r) in reasons.iter().enumerate() {
            if r == 0 {
                rank[i] = kept_rows.len() as u32;
                kept_rows.push(i);
            }
        }
        let shards: Vec<HashMap<&str, Agg, FixedState>> = built
            .into_par_iter()
            .map(|(mut map, _)| {
                for agg in map.values_mut() {
                    agg.person = rank[agg.best_row as usize];
                }
                map
            })
            .collect();
        (PersonIndex { shards, kept_rows }, reasons)
    }

    /// The person of each offence row (`NO_PERSON` for strangers and missing identifiers).
    ///
    /// Offence extracts arrive in date order, so consecutive rows belong to unrelated people
    /// and direct lookups in a table of millions miss the cache on every row. Instead each
    /// identifier is hashed once (128 bits: two independently seeded 64-bit hashes), rows are
    /// partitioned by the hash's top bits, and each partition is probed against its own small
    /// table of people (which stays in cache); no identifier text is read twice. Two different
    /// identifiers collide in all 128 bits with probability about 2^-128 per pair.
    fn link(&self, ids: &pl::StringChunked) -> Vec<u32> {
        const BITS: u32 = 8;
        let part_of = |h: u128| (h >> (128 - BITS)) as usize;
        // The people's table, split the same way.
        let mut people: Vec<Vec<(u128, u32)>> = vec![Vec::new(); 1 << BITS];
        for shard in &self.shards {
            for (id, agg) in shard {
                let h = id_hash(id);
                people[part_of(h)].push((h, agg.person));
            }
        }
        let tables: Vec<HashMap<u128, u32, FixedState>> = people
            .into_par_iter()
            .map(|v| {
                let mut m = HashMap::with_capacity_and_hasher(v.len(), FixedState::with_seed(7));
                m.extend(v);
                m
            })
            .collect();
        // 0 marks a missing identifier (`id_hash` never returns 0).
        let hashes: Vec<u128> = read::par_map_str(ids, |s| match s.map(str::trim) {
            Some(s) if !s.is_empty() => id_hash(s),
            _ => 0,
        });
        let mut start = vec![0usize; (1 << BITS) + 1];
        for &h in &hashes {
            if h != 0 {
                start[part_of(h) + 1] += 1;
            }
        }
        for p in 0..1 << BITS {
            start[p + 1] += start[p];
        }
        let mut fill = start.clone();
        let mut order = vec![0u32; start[1 << BITS]];
        for (i, &h) in hashes.iter().enumerate() {
            if h != 0 {
                let p = part_of(h);
                order[fill[p]] = i as u32;
                fill[p] += 1;
            }
        }
        let found: Vec<Vec<u32>> = (0..1usize << BITS)
            .into_par_iter()
            .map(|p| {
                order[start[p]..start[p + 1]]
                    .iter()
                    .map(|&i| {
                        tables[p]
                            .get(&hashes[i as usize])
                            .copied()
                            .unwrap_or(NO_PERSON)
                    })
                    .collect()
            })
            .collect();
        let mut owner = vec![NO_PERSON; hashes.len()];
        for (p, persons) in found.iter().enumerate() {
            for (&i, &person) in order[start[p]..start[p + 1]].iter().zip(persons) {
                owner[i as usize] = person;
            }
        }
        owner
    }
}

/// A 128-bit hash of an identifier from two independently seeded hashers; never 0.
fn id_hash(s: &str) -> u128 {
    let a = FixedState::with_seed(0x9e37_79b9_7f4a_7c15).hash_one(s);
    let b = FixedState::with_seed(0xc2b2_ae3d_27d4_eb4f).hash_one(s);
    ((u128::from(a) << 64) | u128::from(b)).max(1)
}

/// An optional text column of the offences table as dictionary codes (CSV columns are
/// read as categorical; Parquet text is coded as it is read). Labels may hold surrounding
/// spaces, and two labels the same once trimmed.
struct Detail {
    /// Code of each row (`MISSING` for none).
    codes: Vec<u32>,
    /// Label of each code, as read.
    labels: Vec<String>,
}

impl Detail {
    /// The trimmed text of row `r`, `None` if missing or empty.
    fn text(&self, r: usize) -> Option<&str> {
        self.labels
            .get(self.codes[r] as usize)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// Sorted distinct trimmed labels, and for each code its level (`MISSING` for none):
    /// equal levels are equal trimmed text.
    fn levels(&self) -> (Vec<String>, Vec<u32>) {
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
    fn level(&self, remap: &[u32], r: usize) -> u32 {
        remap
            .get(self.codes[r] as usize)
            .copied()
            .unwrap_or(MISSING)
    }
}

/// One usable offence row as grouping moves it: 24 bytes, so a person's rows are gathered
/// with one scattered write each instead of a random read per column.
#[derive(Clone, Copy, Default)]
struct Compact {
    person: u32,
    offence: Day,
    disposal: Day,
    offence_type: u32,
    disposal_kind: u32,
    row: u32,
}

/// Groups linked offences by person, sorts each person's offences by offence date,
/// disposal date and row, and marks exact duplicates (same person, dates, offence type and
/// disposal; the lowest row of each set of identical rows is kept).
fn group_offences(off: &mut OffenceRows, n_people: usize, keep_details: bool) -> Offences {
    let n = off.reasons.len();
    let (types, kinds) = (off.offence_type.as_ref(), off.disposal_kind.as_ref());
    let type_levels = types.map(Detail::levels);
    let kind_levels = kinds.map(Detail::levels);
    // Rows to their person in two cache-friendly passes (an MSD radix sort): first into
    // 256 buckets of consecutive people (256 write streams), then each bucket, small enough
    // to stay in cache, sorted by person, dates and row.
    let shift = (usize::BITS - n_people.max(1).leading_zeros()).saturating_sub(8);
    let bucket = |p: u32| (p as usize) >> shift;
    let mut bstart = vec![0usize; 257];
    for i in 0..n {
        if off.reasons[i] == 0 {
            bstart[bucket(off.owner[i]) + 1] += 1;
        }
    }
    for b in 0..256 {
        bstart[b + 1] += bstart[b];
    }
    let mut fill = bstart.clone();
    let mut rows = vec![Compact::default(); bstart[256]];
    for i in 0..n {
        if off.reasons[i] != 0 {
            continue;
        }
        let p = off.owner[i];
        let b = bucket(p);
        rows[fill[b]] = Compact {
            person: p,
            offence: off.offence[i],
            disposal: off.disposal[i],
            offence_type: match (types, &type_levels) {
                (Some(t), Some((_, remap))) => t.level(remap, i),
                _ => MISSING,
            },
            disposal_kind: match (kinds, &kind_levels) {
                (Some(k), Some((_, remap))) => k.level(remap, i),
                _ => MISSING,
            },
            row: i as u32,
        };
        fill[b] += 1;
    }
    drop(fill);
    rows.par_chunk_by_mut(|a, b| bucket(a.person) == bucket(b.person))
        .for_each(|chunk| chunk.sort_unstable_by_key(|r| (r.person, r.offence, r.disposal, r.row)));
    let mut start = vec![0usize; n_people + 1];
    for r in &rows {
        start[r.person as usize + 1] += 1;
    }
    for p in 0..n_people {
        start[p + 1] += start[p];
    }
    // Each person's rows by offence date, disposal date and row; a row is a duplicate when
    // an earlier row has the same dates, offence type and disposal (equal levels are equal
    // trimmed text).
    let duplicates: Vec<u32> = rows
        .par_chunk_by_mut(|a, b| a.person == b.person)
        .flat_map_iter(|chunk| {
            let mut dups = Vec::new();
            let mut run = 0;
            for i in 1..=chunk.len() {
                let a = chunk[run];
                if chunk
                    .get(i)
                    .is_some_and(|b| a.offence == b.offence && a.disposal == b.disposal)
                {
                    continue;
                }
                for j in run + 1..i {
                    let rj = chunk[j];
                    if (run..j).any(|k| {
                        chunk[k].offence_type == rj.offence_type
                            && chunk[k].disposal_kind == rj.disposal_kind
                    }) {
                        dups.push(rj.row);
                    }
                }
                run = i;
            }
            dups
        })
        .collect();
    for &r in &duplicates {
        off.reasons[r as usize] = Reason::DuplicateOffence as u8;
    }
    if !duplicates.is_empty() {
        rows.retain(|r| off.reasons[r.row as usize] == 0);
        start.iter_mut().for_each(|s| *s = 0);
        for r in &rows {
            start[r.person as usize + 1] += 1;
        }
        for p in 0..n_people {
            start[p + 1] += start[p];
        }
    }
    let column = |levels: Option<(Vec<String>, Vec<u32>)>, code: fn(&Compact) -> u32| {
        levels
            .filter(|_| keep_details)
            .map(|(levels, _)| Categorical {
                codes: rows.par_iter().map(code).collect(),
                levels,
            })
    };
    Offences {
        offence_day: rows.par_iter().map(|r| r.offence).collect(),
        disposal_day: rows.par_iter().map(|r| r.disposal).collect(),
        offence_type: column(type_levels, |r| r.offence_type),
        disposal: column(kind_levels, |r| r.disposal_kind),
        start,
    }
}
