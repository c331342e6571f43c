//! Validation and linking: from two files to [`Dataset`], counting every row not used.
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::dates::{Day, format_day};
use super::extract::{ColumnName, Table};
use super::quality::{ColumnWarning, DataQuality, FIRST_ROWS_KEPT, Reason, TableKind, tally};
use super::table::{Categorical, Column, Offences, People, Values};
use crate::error::{Error, Result};

use super::checks::require;
use super::cohort::{CohortRows, read_cohort_rows};
use super::dropped::Dropped;
use super::group::{Buckets, Sorted, sort_offences};
use super::link::{NO_PERSON, PersonIndex};
use super::offences::{BATCH_ROWS, Needed, OffenceRows, read_offence_rows};
use super::options::{
    COHORT_REQUIRED, ColumnSelection, DERIVED_COLUMNS, KeepOffences, LoadOptions,
    OFFENCES_REQUIRED, OffenceDetails,
};

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
    /// Columns in the file, by its own names.
    pub columns: Vec<String>,
    /// The file's columns mapped to the contract's names (none when it uses them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mapped: Vec<ColumnName>,
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
    /// The files read, cohort first, one entry per file.
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
        Self::load_in_batches(cohort, offences, options, BATCH_ROWS)
    }

    /// [`Dataset::load`], reading the offences about `batch_rows` rows at a time.
    // Over 80 lines: the loading pipeline in the order the rules need it (headers, cohort, index,
    // offences read and linked, extract date, group, people, quality), each step a call to its own file;
    // what is left is passing their results on.
    fn load_in_batches(
        cohort: &Path,
        offences: &Path,
        options: &LoadOptions,
        batch_rows: usize,
    ) -> Result<Dataset> {
        options.validate()?;
        let (c, o) = (&options.cohort_extract, &options.offences_extract);
        let format = &options.date_format;
        // Check both headers first, so a bad second file fails fast.
        let t = crate::trace::Phase::start("open cohort files");
        let ct = Table::open(TableKind::Cohort, cohort, c, format)?;
        drop(t);
        let cohort_header = ct.header();
        require(ct.path(), &cohort_header, &COHORT_REQUIRED, "cohort")
            .map_err(|e| ct.translate(e))?;
        let t = crate::trace::Phase::start("open offences files");
        let ot = Table::open(TableKind::Offences, offences, o, format)?;
        drop(t);
        let mut data = Self::load_tables(&ct, &ot, options, batch_rows).map_err(|e| {
            let e = if ot.has_file(e.location().map_or(Path::new(""), |l| l.0)) {
                ot.translate(e)
            } else {
                ct.translate(e)
            };
            super::sniff::explain_dates(e, &[&ct, &ot], format)
        })?;
        data.quality.warnings = std::mem::take(&mut data.quality.warnings)
            .into_iter()
            .map(|w| ot.translate_warning(ct.translate_warning(w)))
            .chain(ct.warnings())
            .chain(ot.warnings())
            .collect();
        data.sources = [&ct, &ot].into_iter().flat_map(sources).collect();
        // Row numbers from here on are per file, for a table of several.
        data.quality.set_files(&data.sources);
        Ok(data)
    }

    /// [`Dataset::load_in_batches`] once both tables are open.
    fn load_tables(
        ct: &Table,
        ot: &Table,
        options: &LoadOptions,
        batch_rows: usize,
    ) -> Result<Dataset> {
        let dates = options.date_spec();
        let cohort = ct.path();
        let (cohort_header, offences_header) = headers(ct, ot)?;
        let keep_details = options.offence_details == OffenceDetails::Keep;

        let extra = cohort_columns(cohort, &cohort_header, &options.cohort_columns)?;
        let mut c = {
            let _t = crate::trace::Phase::start("read cohort");
            read_cohort_rows(ct, &extra, &dates, options.ages)?
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
        // The identifiers' hashes served grouping; the link table holds those it needs.
        c.id = Vec::new();
        let PersonIndex { table, kept_rows } = index;
        // The people's columns are gathered now and the cohort rows freed, before the
        // offences are read (people indexed after an extract date found from the offences
        // are dropped from them then).
        let cohort_warnings = std::mem::take(&mut c.warnings);
        let mut people = {
            let _t = crate::trace::Phase::start("people columns");
            gather_people(c, &kept_rows)
        };
        drop(kept_rows);

        // `prior_offences` is counted from the offences when the run wants it and the cohort
        // table has none: then every earlier offence is needed.
        let count_prior = !extra.iter().any(|c| c == "prior_offences")
            && match &options.cohort_columns {
                ColumnSelection::All => true,
                ColumnSelection::Only(cols) => cols.iter().any(|c| c == "prior_offences"),
            };
        let needed = match options.keep_offences {
            KeepOffences::All => None,
            KeepOffences::Needed { follow_up_days } => {
                let days = i32::try_from(follow_up_days).unwrap_or(i32::MAX);
                // Rows before the placebo year are dropped even when `prior_offences` is
                // counted: the rows dropped are counted for it (after their duplicates).
                Some(Needed::new(&people.index_day, days, days))
            }
        };
        // Read the offences, linking each batch's rows to people as it arrives.
        let mut off = {
            let _t = crate::trace::Phase::start("read and link offences");
            read_offence_rows(
                ot,
                &offences_header,
                &dates,
                &options.not_proven,
                &table,
                people.len(),
                needed.as_ref(),
                batch_rows,
            )?
        };
        drop(table);
        drop(needed);
        if crate::trace::enabled() {
            let kept: usize = off.buckets.blocks.iter().flatten().map(Vec::len).sum();
            let dropped = off.dropped.as_ref().map_or(0, Dropped::len);
            crate::trace::note(format_args!(
                "  offence rows kept {kept}, used and dropped (outside every window) {dropped}"
            ));
        }
        let (extract_date, extract_date_source) = match (options.extract_date, off.latest_disposal)
        {
            (Some(d), _) => (Some(d), ExtractDateSource::Given),
            (None, Some(d)) => (Some(d), ExtractDateSource::LatestDisposalDate),
            (None, None) => match people.index_day.iter().copied().max() {
                Some(d) => (Some(d), ExtractDateSource::LatestIndexDate),
                None => (None, ExtractDateSource::None),
            },
        };
        if options.extract_date.is_none() {
            if let Some(e) = extract_date {
                drop_indexed_after(&mut people, &mut cohort_reasons, &mut off, e);
            }
        }
        let n_people = people.len();
        let (dropped_used, dropped_prior);
        let (offences_table, date_warnings) = {
            let _t = crate::trace::Phase::start("group offences");
            let t = crate::trace::Phase::start("  sort per person");
            if let Some(d) = &mut off.dropped {
                d.remove_duplicates(&mut off.reasons);
            }
            let sorted = sort_offences(
                std::mem::replace(&mut off.buckets, Buckets::new(0)),
                off.offence_type.as_deref(),
                off.disposal_kind.as_deref(),
                &mut off.reasons,
            );
            drop(t);
            let warnings = extract_date_warnings(
                &sorted,
                off.dropped.as_ref(),
                extract_date,
                extract_date_source,
                ot,
            );
            // What is left of the rows dropped is their count, and their part of
            // `prior_offences`.
            let dropped = off.dropped.take();
            dropped_used = dropped.as_ref().map_or(0, Dropped::len);
            dropped_prior = dropped
                .filter(|_| count_prior)
                .map(|d| d.prior_counts(&people.index_day));
            let _t = crate::trace::Phase::start("  offence columns");
            (sorted.into_offences(n_people, keep_details), warnings)
        };
        let _t = crate::trace::Phase::start("prior offences");
        if count_prior {
            let prior = prior_offences(&people, &offences_table, dropped_prior.as_deref());
            people.columns.push(prior);
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
        // Rows outside every window are used (valid and linked) though no analysis reads them.
        quality.rows_used.offences = offences_table.len() as u64 + dropped_used;
        quality.warnings = cohort_warnings;
        quality.warnings.extend(off.warnings.iter().cloned());
        quality.warnings.extend(date_warnings);

        Ok(Dataset {
            people,
            offences: offences_table,
            quality,
            extract_date,
            extract_date_source,
            // Filled in by the caller, file by file.
            sources: Vec::new(),
        })
    }

    /// The extract date as `YYYY-MM-DD`, if any.
    pub fn extract_date_text(&self) -> Option<String> {
        self.extract_date.map(format_day)
    }
}

/// Warnings that the extract date looks wrong: later than today, or more than 90 days after
/// the 99.9th percentile of the used disposal dates (one far-future row is likely a typo).
// Over 80 lines: two warnings about the extract date with the evidence each cites.
fn extract_date_warnings(
    sorted: &Sorted,
    dropped: Option<&Dropped>,
    extract: Option<Day>,
    source: ExtractDateSource,
    offences: &Table,
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
            first_files: Vec::new(),
            message: format!(
                "the extract date {} ({how}) is later than today: check it, or give the extract date",
                format_day(extract)
            ),
        });
    }
    // The 99.9th percentile of used disposal days by counting (days are range-checked, so the
    // histogram is at most a few hundred thousand cells), bucket by bucket in parallel. The
    // used rows are those kept whole and those dropped as outside every window.
    let used = |b: usize| {
        sorted.buckets[b]
            .iter()
            .map(|r| (r.disposal, r.row))
            .chain(dropped.into_iter().flat_map(move |d| d.disposals(b)))
    };
    let buckets = 0..sorted.buckets.len();
    let (Some(lo), Some(hi)) = (
        buckets
            .clone()
            .into_par_iter()
            .filter_map(|b| used(b).map(|r| r.0).min())
            .min(),
        buckets
            .clone()
            .into_par_iter()
            .filter_map(|b| used(b).map(|r| r.0).max())
            .max(),
    ) else {
        return out;
    };
    let cells = (hi - lo) as usize + 1;
    let hist = buckets
        .clone()
        .into_par_iter()
        .fold(
            || vec![0u64; cells],
            |mut hist, b| {
                for (d, _) in used(b) {
                    hist[(d - lo) as usize] += 1;
                }
                hist
            },
        )
        .reduce(
            || vec![0u64; cells],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let n: u64 = hist.iter().sum();
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
        let mut rows: Vec<u64> = buckets
            .flat_map(used)
            .filter(|r| r.0 > limit)
            .map(|r| u64::from(r.1) + 1)
            .collect();
        rows.sort_unstable();
        let why = match rows.first() {
            Some(first) if source != ExtractDateSource::Given => format!(
                "one row may be a typo: offences {}{}",
                named_row(offences, *first),
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
            first_files: Vec::new(),
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

/// Row `row` of a table (1-based, counted across its files) as messages name it: `row 12`,
/// or `row 12 of pnc_2022-03.csv` when the table has several files.
fn named_row(t: &Table, row: u64) -> String {
    if t.parts.len() > 1 {
        let mut before = 0;
        for (p, rows) in t.parts.iter().zip(t.rows_per_file()) {
            if row <= before + rows {
                return format!("row {} of {}", row - before, p.shown.display());
            }
            before += rows;
        }
    }
    format!("row {row}")
}

/// The people of the cohort rows `kept` (in that order), each column gathered in parallel;
/// each column of the cohort rows is freed once gathered.
fn gather_people(c: CohortRows, kept: &[usize]) -> People {
    let CohortRows {
        cohort,
        cohort_levels,
        index,
        key,
        columns,
        ..
    } = c;
    let people_cohort = kept.par_iter().map(|&r| cohort[r]).collect();
    drop(cohort);
    let index_day = kept.par_iter().map(|&r| index[r]).collect();
    drop(index);
    let people_key = kept.par_iter().map(|&r| key[r]).collect();
    drop(key);
    let source_row = kept.par_iter().map(|&r| r as u64 + 1).collect();
    // Each column is freed once gathered.
    let columns = columns.into_iter().map(|col| col.take(kept)).collect();
    People {
        cohort: Categorical::sorted(cohort_levels, people_cohort),
        index_day,
        key: people_key,
        source_row,
        columns,
    }
}

/// Excludes people indexed after the extract date (`index_after_extract`) once it is known,
/// renumbering the people kept; their offence rows become `person_not_in_cohort`.
fn drop_indexed_after(
    people: &mut People,
    cohort_reasons: &mut [u8],
    off: &mut OffenceRows,
    extract: Day,
) {
    if people.index_day.iter().all(|&d| d <= extract) {
        return;
    }
    let mut renumber = vec![NO_PERSON; people.len()];
    let mut kept = Vec::with_capacity(people.len());
    for (p, (&d, &row)) in people.index_day.iter().zip(&people.source_row).enumerate() {
        if d > extract {
            cohort_reasons[row as usize - 1] = Reason::IndexAfterExtract as u8;
        } else {
            renumber[p] = kept.len() as u32;
            kept.push(p);
        }
    }
    *people = take_people(people, &kept);
    if let Some(d) = &mut off.dropped {
        d.retain_people(renumber.clone(), &mut off.reasons);
    }
    // The renumbering keeps the people's order, so each bucket still holds consecutive people.
    let reasons = &mut off.reasons;
    for rows in off.buckets.blocks_mut() {
        rows.retain_mut(|r| {
            r.person = renumber[r.person as usize];
            if r.person == NO_PERSON {
                reasons[r.row as usize] = Reason::PersonNotInCohort as u8;
            }
            r.person != NO_PERSON
        });
    }
}

/// The people numbered `kept`, in that order.
fn take_people(people: &People, kept: &[usize]) -> People {
    People {
        cohort: people.cohort.take(kept),
        index_day: kept.par_iter().map(|&p| people.index_day[p]).collect(),
        key: kept.par_iter().map(|&p| people.key[p]).collect(),
        source_row: kept.par_iter().map(|&p| people.source_row[p]).collect(),
        columns: people.columns.iter().map(|col| col.take(kept)).collect(),
    }
}

/// Each file of a table as read: rows, its own columns and the mapping.
fn sources(t: &Table) -> Vec<SourceFile> {
    t.parts
        .iter()
        .zip(t.rows_per_file())
        .map(|(p, rows)| SourceFile {
            table: t.kind,
            path: p.shown.clone(),
            rows,
            columns: p.own.clone(),
            mapped: t.mapped(),
        })
        .collect()
}

/// The header of each table, after checking the required columns (and that no cohort
/// column takes the name of a derived breakdown).
fn headers(ct: &Table, ot: &Table) -> Result<(Vec<String>, Vec<String>)> {
    let (cohort, offences) = (ct.path(), ot.path());
    let cohort_header = ct.header();
    require(cohort, &cohort_header, &COHORT_REQUIRED, "cohort")?;
    for derived in DERIVED_COLUMNS {
        if cohort_header.iter().any(|h| h == derived) {
            return Err(Error::in_column(
                cohort,
                derived,
                format!(
                    "the column `{derived}` has the name of a breakdown this tool derives (from \
                     age_at_index or index_date): rename it, e.g. to `{derived}_source`, to use it as it is"
                ),
            ));
        }
    }
    let offences_header = ot.header();
    require(offences, &offences_header, &OFFENCES_REQUIRED, "offences")?;
    Ok((cohort_header, offences_header))
}

/// The cohort columns to read besides the required ones: all of them, or those asked for
/// (each must exist, except `prior_offences`, which is counted from the offences when absent).
fn cohort_columns(
    cohort: &Path,
    cohort_header: &[String],
    selection: &ColumnSelection,
) -> Result<Vec<String>> {
    Ok(match selection {
        ColumnSelection::All => cohort_header
            .iter()
            .filter(|c| !COHORT_REQUIRED.contains(&c.as_str()) && !c.is_empty())
            .cloned()
            .collect(),
        ColumnSelection::Only(cols) => {
            for c in cols {
                // `prior_offences` is counted from the offences table when absent.
                if !cohort_header.contains(c) && c != "prior_offences" {
                    return Err(Error::in_column(
                        cohort,
                        c.as_str(),
                        format!(
                            "no column `{c}` (asked for as a covariate or breakdown); the file has: {}",
                            cohort_header.join(", ")
                        ),
                    ));
                }
            }
            // The columns with plausibility rules (`age_at_index`, `prior_offences`) are
            // always read when the file has them, so the same rows are `implausible_value`
            // whatever a command reads.
            let mut v: Vec<String> = Vec::new();
            for c in cols
                .iter()
                .map(String::as_str)
                .chain(super::options::NUMBER_COLUMNS)
            {
                let c = &c.to_string();
                if !COHORT_REQUIRED.contains(&c.as_str())
                    && cohort_header.contains(c)
                    && !v.contains(c)
                {
                    v.push(c.clone());
                }
            }
            v
        }
    })
}

/// Each person's proven offences before the index date (disposed of before it: a row
/// disposed of on the index date is the index offence itself, not a prior).
fn prior_offences(people: &People, offences: &Offences, dropped: Option<&[u32]>) -> Column {
    let prior: Vec<Option<f64>> = (0..people.len())
        .into_par_iter()
        .map(|i| {
            let t0 = people.index_day[i];
            let r = offences.range(i);
            let held = offences.disposal_day[r].iter().filter(|&&d| d < t0).count();
            let dropped = dropped.and_then(|d| d.get(i)).map_or(0, |&n| n as usize);
            // Proven before the index event: a row disposed of on the index
            // date is the index offence itself, not a prior.
            Some((held + dropped) as f64)
        })
        .collect();
    Column {
        name: "prior_offences".into(),
        values: Values::Numeric(prior),
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use crate::data::pl;
    use crate::data::pl::SerReader;

    use super::*;
    use crate::data::options::NotProven;

    /// Everything a load produces that later steps read.
    fn fingerprint(d: &Dataset) -> String {
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            d.people, d.offences, d.quality, d.extract_date, d.extract_date_source
        )
    }

    /// Offences spread over many batches (and Parquet row groups) give exactly what one batch
    /// gives: reasons, first rows of warnings, duplicates across batch boundaries, the extract
    /// date, labels first seen in a later batch.
    #[test]
    fn batches_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cohort = dir.path().join("cohort.csv");
        let offences = dir.path().join("offences.csv");
        let mut c = String::from("person_id,cohort,index_date\n");
        for p in 0..300 {
            let cohort = if p % 3 == 0 { "divert" } else { "comparison" };
            writeln!(c, "P{p},{cohort},2021-{:02}-{:02}", 1 + p % 12, 1 + p % 28).unwrap();
        }
        // A repeat index event and a person in two cohorts.
        c.push_str("P5,comparison,2021-09-01\nP7,divert,2021-03-03\n");
        std::fs::write(&cohort, c).unwrap();
        let mut o = String::from("person_id,offence_date,disposal_date,offence_type,disposal\n");
        let kinds = ["theft", " theft", "breach of order", "assault", ""];
        let disposals = ["caution", "conviction", "community_resolution"];
        for r in 0..5000u32 {
            let p = (r * 7919) % 340; // some people not in the cohort
            let (m, d) = (1 + r % 12, 1 + r % 27);
            let line = match r % 97 {
                0 => format!(
                    " ,2022-{m:02}-{d:02},2022-{m:02}-{:02},theft,caution",
                    d + 1
                ),
                1 => format!("P{p},2022-13-40,2022-01-01,theft,caution"),
                2 => format!(
                    "P{p},2022-{m:02}-{:02},2022-{m:02}-{d:02},theft,caution",
                    d + 1
                ),
                // Quoted fields with line breaks and doubled quotes: CSV pieces must not
                // be cut inside them.
                3..=5 => format!(
                    "P{p},2022-{m:02}-{d:02},2022-{m:02}-{d:02},\"theft\nof a \"\"bike\"\"\n\",\"caution\""
                ),
                _ => format!(
                    "P{p},2022-{m:02}-{d:02},2022-{m:02}-{:02},{},{}",
                    d + (r % 2),
                    kinds[(r % 5) as usize],
                    disposals[(r % 3) as usize]
                ),
            };
            o.push_str(&line);
            o.push('\n');
            // Exact duplicates, some far from their twin (another batch).
            if r % 11 == 0 {
                o.push_str(&line);
                o.push('\n');
            }
        }
        o.push_str("P3,2022-05-05,2022-05-06,late_label_xyz,caution\n");
        std::fs::write(&offences, &o).unwrap();
        let parquet = dir.path().join("offences.parquet");
        let mut df = pl::CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(offences.clone()))
            .unwrap()
            .finish()
            .unwrap();
        pl::ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
            .with_row_group_size(Some(333))
            .finish(&mut df)
            .unwrap();
        for extract_date in [
            None,
            Some(super::super::dates::parse_iso("2022-10-01").unwrap()),
        ] {
            let options = LoadOptions {
                extract_date,
                not_proven: NotProven {
                    disposals: vec!["Community Resolution".into()],
                    offence_types: Vec::new(),
                },
                ..Default::default()
            };
            let whole = Dataset::load(&cohort, &offences, &options).unwrap();
            assert!(whole.quality.rows_used.offences > 1000);
            let dups = whole
                .quality
                .exclusions
                .iter()
                .find(|e| e.reason == Reason::DuplicateOffence)
                .map_or(0, |e| e.rows);
            assert!(dups > 100, "{dups} duplicates");
            let types = whole.offences.offence_type.as_ref().unwrap();
            assert!(types.levels.iter().any(|l| l == "theft\nof a \"bike\""));
            for (path, batch) in [
                (&offences, 1000),
                (&offences, 7),
                (&offences, 1),
                (&parquet, 1),
                (&parquet, 2000),
            ] {
                let batched = Dataset::load_in_batches(&cohort, path, &options, batch).unwrap();
                // Compared whole, reported briefly: the dumps are long.
                let same = fingerprint(&whole) == fingerprint(&batched);
                assert!(same, "{path:?} in batches of {batch} rows differs");
            }
        }
    }
}
