//! The attrition of the measure: rows read, rows used, and every exclusion with its reason.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Which input table a count refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// The cohort table (one row a person).
    Cohort,
    /// The offences table (one row a proven offence).
    Offences,
}

impl std::fmt::Display for TableKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TableKind::Cohort => "cohort",
            TableKind::Offences => "offences",
        })
    }
}

/// Why a row was not used in the 12-month measure (docs/rules.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Reason {
    /// A required value is empty.
    MissingValue = 1,
    /// A required value cannot be read as its type (e.g. a date).
    UnparseableValue,
    /// A later index event of someone already in the cohort (the earliest is used).
    RepeatIndexEvent,
    /// The person appears under two cohort labels; all their rows are excluded.
    InTwoCohorts,
    /// The index date is after the extract date.
    IndexAfterExtract,
    /// Fewer than follow-up plus waiting days before the extract date: kept for survival
    /// analysis and monitoring, outside the 12-month measure.
    InsufficientFollowUp,
    /// The disposal date is before the offence date.
    DisposalBeforeOffence,
    /// An exact duplicate of another offence row (same person, dates, type and disposal).
    DuplicateOffence,
    /// The offence belongs to no one kept in the cohort.
    PersonNotInCohort,
    /// The disposal or offence type is one the user listed as not a proven outcome (e.g. a
    /// community resolution, cannabis warning or breach); only with the options that ask.
    NotProvenOutcome,
    /// A cohort value that cannot be true (an `age_at_index` outside the plausible ages,
    /// 10 to 110 by default; a negative count such as `prior_offences`).
    ImplausibleValue,
}

impl Reason {
    /// All reasons, in reporting order.
    pub const ALL: [Reason; 11] = [
        Reason::MissingValue,
        Reason::UnparseableValue,
        Reason::ImplausibleValue,
        Reason::RepeatIndexEvent,
        Reason::InTwoCohorts,
        Reason::IndexAfterExtract,
        Reason::InsufficientFollowUp,
        Reason::DisposalBeforeOffence,
        Reason::DuplicateOffence,
        Reason::PersonNotInCohort,
        Reason::NotProvenOutcome,
    ];

    /// The snake_case code of the contract.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MissingValue => "missing_value",
            Reason::UnparseableValue => "unparseable_value",
            Reason::RepeatIndexEvent => "repeat_index_event",
            Reason::InTwoCohorts => "in_two_cohorts",
            Reason::IndexAfterExtract => "index_after_extract",
            Reason::InsufficientFollowUp => "insufficient_follow_up",
            Reason::DisposalBeforeOffence => "disposal_before_offence",
            Reason::DuplicateOffence => "duplicate_offence",
            Reason::PersonNotInCohort => "person_not_in_cohort",
            Reason::NotProvenOutcome => "not_proven_outcome",
            Reason::ImplausibleValue => "implausible_value",
        }
    }

    pub(crate) fn from_u8(v: u8) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| *r as u8 == v)
    }
}

/// How many row numbers are kept for each exclusion.
pub const FIRST_ROWS_KEPT: usize = 10;

/// Rows of one table excluded for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// The table.
    pub table: TableKind,
    /// The reason.
    pub reason: Reason,
    /// How many rows.
    pub rows: u64,
    /// The first (lowest) 1-based data row numbers, at most ten: of the table, or, when the
    /// table was read from several files, of the file named beside each in `first_files`.
    pub first_rows: Vec<u64>,
    /// When the table was read from several files: the file of each of `first_rows`, as
    /// given (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_files: Vec<PathBuf>,
}

/// Something about a column worth a reader's attention that excludes no row: values of an
/// optional column that could not be read and were treated as missing (the row is kept;
/// the count makes the loss visible), or dates that look like typos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnWarning {
    /// The table.
    pub table: TableKind,
    /// The column.
    pub column: String,
    /// What happened, e.g. `unparseable_value_set_missing`, `extract_date_after_today`,
    /// `extract_date_far_after_disposals`.
    pub issue: String,
    /// How many values.
    pub rows: u64,
    /// The first 1-based data row numbers, at most ten (per file, as in [`Exclusion`]).
    pub first_rows: Vec<u64>,
    /// When the table was read from several files: the file of each of `first_rows`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_files: Vec<PathBuf>,
    /// The warning in words.
    pub message: String,
}

/// Rows read, used and excluded, per table: the attrition of the 12-month measure.
///
/// For each table, `rows_read = rows_used + sum of its exclusions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DataQuality {
    /// Rows read per table.
    pub rows_read: TableCounts,
    /// Rows used per table: for the cohort, people in the 12-month measure; for offences,
    /// offence rows linked to a person kept for analysis (including people with partial
    /// follow-up, who enter survival analysis).
    pub rows_used: TableCounts,
    /// Exclusions, ordered by table then reason; reasons with no rows are left out.
    pub exclusions: Vec<Exclusion>,
    /// Optional values that could not be read.
    pub warnings: Vec<ColumnWarning>,
    /// The files of each table read from several, in order, with their rows: row numbers
    /// are then numbered per file.
    #[serde(skip)]
    files: Vec<(TableKind, PathBuf, u64)>,
}

/// A count per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    /// The cohort table.
    pub cohort: u64,
    /// The offences table.
    pub offences: u64,
}

impl DataQuality {
    /// Rows of `table` excluded for `reason`.
    pub fn excluded(&self, table: TableKind, reason: Reason) -> u64 {
        self.exclusions
            .iter()
            .filter(|e| e.table == table && e.reason == reason)
            .map(|e| e.rows)
            .sum()
    }

    /// All rows of `table` excluded for any reason.
    pub fn excluded_total(&self, table: TableKind) -> u64 {
        self.exclusions
            .iter()
            .filter(|e| e.table == table)
            .map(|e| e.rows)
            .sum()
    }

    /// Adds (or merges) an exclusion, keeping the list ordered. Its `first_rows` count rows
    /// across the table's files (as [`People::source_row`](super::People::source_row)), or
    /// are per file with `first_files`.
    pub(crate) fn add(&mut self, e: Exclusion) {
        if e.rows == 0 {
            return;
        }
        let mut e = e;
        self.name_files(e.table, &mut e.first_rows, &mut e.first_files);
        if let Some(k) = self
            .exclusions
            .iter()
            .position(|x| x.table == e.table && x.reason == e.reason)
        {
            let x = &self.exclusions[k];
            let mut rows: Vec<(usize, u64, Option<&PathBuf>)> = Vec::new();
            for (r, f) in [
                (&x.first_rows, &x.first_files),
                (&e.first_rows, &e.first_files),
            ] {
                for (i, &row) in r.iter().enumerate() {
                    let file = f.get(i);
                    rows.push((self.file_position(e.table, file), row, file));
                }
            }
            rows.sort_unstable();
            rows.dedup();
            rows.truncate(FIRST_ROWS_KEPT);
            let first_rows = rows.iter().map(|r| r.1).collect();
            let first_files = rows.iter().filter_map(|r| r.2.cloned()).collect();
            let x = &mut self.exclusions[k];
            x.rows += e.rows;
            x.first_rows = first_rows;
            x.first_files = first_files;
        } else {
            self.exclusions.push(e);
        }
        self.exclusions.sort_by_key(|x| (x.table, x.reason));
    }

    /// Records the files read (cohort first, each table's in order); for a table of several
    /// files, the row numbers of its exclusions and warnings so far become numbers within the
    /// file each is in, the file named beside it, as those of exclusions added later will.
    pub(crate) fn set_files(&mut self, sources: &[super::SourceFile]) {
        let several = |t: TableKind| sources.iter().filter(|s| s.table == t).count() > 1;
        self.files = sources
            .iter()
            .filter(|s| several(s.table))
            .map(|s| (s.table, s.path.clone(), s.rows))
            .collect();
        let mut exclusions = std::mem::take(&mut self.exclusions);
        for e in &mut exclusions {
            self.name_files(e.table, &mut e.first_rows, &mut e.first_files);
        }
        self.exclusions = exclusions;
        let mut warnings = std::mem::take(&mut self.warnings);
        for w in &mut warnings {
            self.name_files(w.table, &mut w.first_rows, &mut w.first_files);
        }
        self.warnings = warnings;
    }

    /// Row `row` (1-based, counted across the table's files) as its file and its row within
    /// that file, when the table was read from several files.
    pub(crate) fn locate(&self, table: TableKind, row: u64) -> Option<(&Path, u64)> {
        let files: Vec<&(TableKind, PathBuf, u64)> =
            self.files.iter().filter(|f| f.0 == table).collect();
        let mut before = 0;
        for (k, (_, path, rows)) in files.iter().enumerate() {
            // Past the last file (not expected): numbered from the last file's start.
            if row <= before + rows || k + 1 == files.len() {
                return Some((path, row.saturating_sub(before)));
            }
            before += rows;
        }
        None
    }

    /// Rows counted across the table's files as rows of their files, when it has several and
    /// they are not named yet.
    fn name_files(&self, table: TableKind, rows: &mut [u64], files: &mut Vec<PathBuf>) {
        if !files.is_empty() || rows.is_empty() {
            return;
        }
        let located: Option<Vec<(PathBuf, u64)>> = rows
            .iter()
            .map(|&r| self.locate(table, r).map(|(p, x)| (p.to_path_buf(), x)))
            .collect();
        let Some(located) = located else {
            return;
        };
        for (r, (path, row)) in rows.iter_mut().zip(located) {
            *r = row;
            files.push(path);
        }
    }

    /// The order of `file` among the table's files (0 when it has one).
    fn file_position(&self, table: TableKind, file: Option<&PathBuf>) -> usize {
        file.and_then(|f| {
            self.files
                .iter()
                .filter(|x| x.0 == table)
                .position(|x| &x.1 == f)
        })
        .unwrap_or(0)
    }
}

/// Counts row reasons (0 = used) into exclusions; position `i` is data row `i + 1`.
pub(crate) fn tally(table: TableKind, reasons: &[u8]) -> Vec<Exclusion> {
    const N: usize = 16;
    let mut counts = [0u64; N];
    let mut firsts: Vec<Vec<u64>> = vec![Vec::new(); N];
    for (i, &r) in reasons.iter().enumerate() {
        if r != 0 {
            let k = r as usize % N;
            counts[k] += 1;
            if firsts[k].len() < FIRST_ROWS_KEPT {
                firsts[k].push(i as u64 + 1);
            }
        }
    }
    let mut out = Vec::new();
    for (k, rows) in firsts.into_iter().enumerate() {
        if let Some(reason) = Reason::from_u8(k as u8).filter(|_| counts[k] > 0) {
            out.push(Exclusion {
                table,
                reason,
                rows: counts[k],
                first_rows: rows,
                first_files: Vec::new(),
            });
        }
    }
    out
}
