//! Reading the offences table as a stream of batches. Each batch's rows get their exclusion
//! reason and their person (a probe of the link table), and only the usable linked rows are
//! kept, as 24-byte [`Compact`] rows gathered by bucket of person numbers: no text column
//! of the table is ever held whole, and the memory kept grows with the rows used.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::checks::{DatesSeen, check_text};
use super::dates::Day;
use super::dropped::{Dropped, DroppedPiece};
use super::group::{Buckets, Compact, Piece};
use super::link::{HugeMemory, LinkTable, NO_PERSON, id_hash};
use super::options::{NotProven, OFFENCES_REQUIRED, normalise};
use super::quality::{ColumnWarning, FIRST_ROWS_KEPT, Reason, TableKind};
use super::read::{self, DATE_MISSING, DATE_UNPARSEABLE};
use super::table::MISSING;
use crate::error::{Error, Result};

/// Rows read at a time (whole Parquet row groups: about this many).
pub(super) const BATCH_ROWS: usize = 1 << 20;
/// Rows one task handles within a batch.
const RANGE_ROWS: usize = 1 << 15;

/// The offences table as kept after reading and linking.
pub(super) struct OffenceRows {
    /// The exclusion reason of every row of the file (0: used).
    pub(super) reasons: Vec<u8>,
    /// The usable rows linked to a person (those an analysis reads, when only those are
    /// kept).
    pub(super) buckets: Buckets,
    /// The usable linked rows no analysis reads, when only the rows needed are kept.
    pub(super) dropped: Option<Dropped>,
    /// The offence types' labels as read (codes of [`Compact::offence_type`]), when the
    /// column exists.
    pub(super) offence_type: Option<Vec<String>>,
    /// The disposals' labels as read, when the column exists.
    pub(super) disposal_kind: Option<Vec<String>>,
    /// The latest disposal date of a usable linked row.
    pub(super) latest_disposal: Option<Day>,
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

/// One optional text column (`offence_type`, `disposal`) across batches: one code per
/// distinct label, the labels the user excluded, and the counted rows whose label looks like
/// an outcome that is not proven.
struct Labels {
    column: &'static str,
    option: &'static str,
    excluded: Vec<String>,
    codes: HashMap<String, u32, FixedState>,
    labels: Vec<String>,
    /// Each label's code among the distinct trimmed labels (`MISSING` for a blank one):
    /// equal codes are equal trimmed text, which is what makes rows exact duplicates.
    trimmed_of: Vec<u32>,
    trimmed: HashMap<String, u32, FixedState>,
    counted: BTreeMap<String, u64>,
    first_rows: Vec<u64>,
}

/// One batch of a [`Labels`] column: per row its code among all labels, and per code whether
/// it is excluded or looks not proven.
struct BatchLabels {
    codes: Vec<u32>,
    /// By code: its trimmed label's code ([`Labels::trimmed_of`]).
    trimmed: Vec<u32>,
    excluded: Vec<bool>,
    suspicious: Vec<bool>,
}

impl BatchLabels {
    fn code(&self, i: usize) -> u32 {
        self.codes[i]
    }

    /// Row `i`'s code among the distinct trimmed labels (`MISSING` for none).
    fn trimmed_code(&self, i: usize) -> u32 {
        match self.codes[i] {
            MISSING => MISSING,
            c => self.trimmed.get(c as usize).copied().unwrap_or(MISSING),
        }
    }

    fn excluded(&self, code: u32) -> bool {
        code != MISSING && self.excluded[code as usize]
    }

    fn suspicious(&self, code: u32) -> bool {
        code != MISSING && self.suspicious[code as usize]
    }
}

impl Labels {
    fn new(column: &'static str, option: &'static str, excluded: &[String]) -> Labels {
        Labels {
            column,
            option,
            excluded: excluded.iter().map(|s| normalise(s)).collect(),
            codes: HashMap::default(),
            labels: Vec::new(),
            trimmed_of: Vec::new(),
            trimmed: HashMap::default(),
            counted: BTreeMap::new(),
            first_rows: Vec::new(),
        }
    }

    /// The batch's codes in this column's code space (labels first seen get new codes).
    fn batch(&mut self, frame: &read::Frame) -> Result<BatchLabels> {
        let (local, labels) = match frame.codes(self.column)? {
            Some(coded) => coded,
            // Text (Parquet pages not dictionary coded) is coded at once, in parallel
            // chunks: every later step (exclusions, duplicates, grouping) then compares
            // numbers.
            None => {
                let (codes, labels) = read::dictionary_codes(&frame.text(self.column)?);
                (Cow::Owned(codes), Cow::Owned(labels))
            }
        };
        // Only labels the column uses: a CSV column's categories are shared with the other
        // categorical columns read.
        let mut used = vec![false; labels.len()];
        for &c in local.iter() {
            if let Some(u) = used.get_mut(c as usize) {
                *u = true;
            }
        }
        let remap: Vec<u32> = labels
            .iter()
            .zip(used)
            .map(|(label, used)| match self.codes.get(label) {
                _ if !used => MISSING,
                Some(&code) => code,
                None => {
                    let code = self.labels.len() as u32;
                    self.labels.push(label.clone());
                    self.codes.insert(label.clone(), code);
                    let t = label.trim();
                    let next = self.trimmed.len() as u32;
                    self.trimmed_of.push(if t.is_empty() {
                        MISSING
                    } else {
                        *self.trimmed.entry(t.to_string()).or_insert(next)
                    });
                    code
                }
            })
            .collect();
        let codes = local
            .par_iter()
            .with_min_len(4096)
            .map(|&c| remap.get(c as usize).copied().unwrap_or(MISSING))
            .collect();
        let trimmed = || self.labels.iter().map(|l| l.trim());
        Ok(BatchLabels {
            codes,
            trimmed: self.trimmed_of.clone(),
            excluded: trimmed()
                .map(|t| !t.is_empty() && self.excluded.contains(&normalise(t)))
                .collect(),
            suspicious: trimmed().map(looks_not_proven).collect(),
        })
    }

    /// Counts a counted row (1-based `row`) holding a suspicious `code`.
    fn count(&mut self, row: u64, code: u32) {
        *self
            .counted
            .entry(self.labels[code as usize].trim().to_string())
            .or_default() += 1;
        if self.first_rows.len() < FIRST_ROWS_KEPT {
            self.first_rows.push(row);
        }
    }

    /// A warning when rows still counted (not excluded) hold values that look like outcomes
    /// that are not proven reoffences, naming the values and their row counts.
    fn warning(&self) -> Option<ColumnWarning> {
        let rows: u64 = self.counted.values().sum();
        let (column, option) = (self.column, self.option);
        (rows > 0).then(|| ColumnWarning {
            table: TableKind::Offences,
            column: column.to_string(),
            issue: "not_proven_outcome_counted".into(),
            rows,
            first_rows: self.first_rows.clone(),
            first_files: Vec::new(),
            message: format!(
                "offences {column}: {rows} rows counted as proven reoffences hold values that are usually not \
                 proven outcomes ({}); if they are not convictions or cautions, exclude them with the {option} \
                 option",
                self.counted
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// The rows kept of each person when only the offences needed are kept: committed within
/// `after` days after the person's index day and `before` days before it.
pub(super) struct Needed {
    /// Index day by person number, read at random as rows arrive (on 2 MiB pages when the
    /// system gives them: at 10 million people, 40 MB on 4 KiB pages would cost a miss of the
    /// page-translation cache on almost every row).
    index_day: HugeMemory<Day>,
    before: i32,
    after: i32,
}

impl Needed {
    /// The rows kept of people indexed on `index_day` (by person number): committed within
    /// `before` days before and `after` days after it.
    pub(super) fn new(index_day: &[Day], before: i32, after: i32) -> Needed {
        let mut days = HugeMemory::zeroed(index_day.len());
        days.slots_mut()
            .par_chunks_mut(1 << 16)
            .zip(index_day.par_chunks(1 << 16))
            .for_each(|(to, from)| to.copy_from_slice(from));
        Needed {
            index_day: days,
            before,
            after,
        }
    }

    /// Asks the processor for a person's index day ahead of [`Needed::keeps`]: rows in date
    /// order belong to people all over the table, so each read would otherwise miss the cache.
    #[inline(always)]
    fn prefetch(&self, person: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(d) = self.index_day.slots().get(person as usize) {
            let p = std::ptr::from_ref(d).cast::<i8>();
            // SAFETY: a prefetch is a hint and never faults; `p` points into `index_day`.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = person;
    }

    #[inline]
    fn keeps(&self, person: u32, offence: Day) -> bool {
        let t0 = self.index_day.slots()[person as usize];
        offence <= t0.saturating_add(self.after) && offence >= t0.saturating_sub(self.before)
    }
}

/// What one range of a batch leaves behind.
struct RangeRows {
    reasons: Vec<u8>,
    /// The rows kept, by bucket.
    kept: Piece,
    latest: Option<Day>,
    any_id: bool,
    /// The rows dropped (outside every window), by bucket.
    dropped: Option<DroppedPiece>,
    /// Counted rows (1-based) with a suspicious label: (row, code) per column.
    suspicious: [Vec<(u64, u32)>; 2],
}

/// The streaming reader's state between batches.
struct Stream<'a> {
    path: &'a Path,
    dates: &'a read::DateSpec<'a>,
    table: &'a LinkTable,
    needed: Option<&'a Needed>,
    /// Where the rows outside every window go (with `needed`).
    dropped: Option<Dropped>,
    /// `disposal`, then `offence_type`, when in the file.
    details: [Option<Labels>; 2],
    reasons: Vec<u8>,
    buckets: Buckets,
    latest: Option<Day>,
    any_id: bool,
    offence_seen: DatesSeen,
    disposal_seen: DatesSeen,
    /// With REOFFENDING_TRACE: the time of each step of [`Stream::batch`], over all batches.
    steps: [crate::trace::Total; 3],
}

impl Stream<'_> {
    // Over 80 lines: one pass over a batch's rows, checks, exclusions and linking fused so that
    // each row is touched once; the per-row rules are the order the exclusion reasons are counted.
    fn batch(&mut self, frame: &read::Frame, batch_first: usize, done: f64) -> Result<()> {
        let start = std::time::Instant::now();
        let person_id = frame.ids("person_id", batch_first)?;
        let offence = frame.dates("offence_date", self.dates)?;
        let disposal = frame.dates("disposal_date", self.dates)?;
        if person_id.len() != offence.len() || disposal.len() != offence.len() {
            return Err(super::cohort::columns_disagree(self.path));
        }
        self.offence_seen.add(&offence);
        self.disposal_seen.add(&disposal);
        if batch_first + offence.len() > u32::MAX as usize {
            return Err(Error::input(
                self.path,
                format!("more than {} rows: split the extract", u32::MAX),
            ));
        }
        let mut details: [Option<BatchLabels>; 2] = [None, None];
        for (d, labels) in details.iter_mut().zip(self.details.iter_mut()) {
            if let Some(labels) = labels {
                *d = Some(labels.batch(frame)?);
            }
        }
        self.steps[0].add_since(start);
        let start = std::time::Instant::now();
        let [kind, otype] = &details;
        let (kind, otype) = (kind.as_ref(), otype.as_ref());
        let (table, template, needed) = (self.table, &self.buckets, self.needed);
        let drop_to = self.dropped.as_ref();
        let ranges: Vec<RangeRows> = read::par_str_ranges(&person_id, RANGE_ROWS, |first, ids| {
            let mut reasons = Vec::with_capacity(RANGE_ROWS);
            let mut hashes = Vec::with_capacity(RANGE_ROWS);
            let mut suspicious: [Vec<(u64, u32)>; 2] = [Vec::new(), Vec::new()];
            let mut any_id = false;
            for (k, id) in ids.enumerate() {
                let i = first + k;
                let id = id.map(str::trim).filter(|s| !s.is_empty());
                any_id |= id.is_some();
                let (o, d) = (offence[i], disposal[i]);
                let mut reason = if id.is_none() || o == DATE_MISSING || d == DATE_MISSING {
                    Reason::MissingValue as u8
                } else if o == DATE_UNPARSEABLE || d == DATE_UNPARSEABLE {
                    Reason::UnparseableValue as u8
                } else if d < o {
                    Reason::DisposalBeforeOffence as u8
                } else {
                    0
                };
                if reason == 0 {
                    let coded = [kind.map(|l| (l, l.code(i))), otype.map(|l| (l, l.code(i)))];
                    if coded.iter().flatten().any(|(l, c)| l.excluded(*c)) {
                        reason = Reason::NotProvenOutcome as u8;
                    } else {
                        for (hits, coded) in suspicious.iter_mut().zip(coded) {
                            if let Some((_, c)) = coded.filter(|(l, c)| l.suspicious(*c)) {
                                hits.push(((batch_first + i) as u64 + 1, c));
                            }
                        }
                    }
                }
                hashes.push(match (reason, id) {
                    (0, Some(id)) => id_hash(id),
                    _ => 0,
                });
                reasons.push(reason);
            }
            let mut persons = Vec::new();
            table.probe(&hashes, &mut persons);
            drop(hashes);
            let mut kept = Vec::with_capacity(persons.len());
            let mut drops: Vec<(u32, u64, u32)> = Vec::with_capacity(match needed {
                Some(_) => persons.len(),
                None => 0,
            });
            let mut latest: Option<Day> = None;
            for (k, (reason, &person)) in reasons.iter_mut().zip(&persons).enumerate() {
                if let (Some(w), Some(&ahead)) = (needed, persons.get(k + 16)) {
                    w.prefetch(ahead);
                }
                if *reason != 0 {
                    continue;
                }
                if person == NO_PERSON {
                    *reason = Reason::PersonNotInCohort as u8;
                    continue;
                }
                let i = first + k;
                // A valid linked row sets the extract date even when no analysis reads it.
                latest = latest.max(Some(disposal[i]));
                // A row no analysis reads is used but not kept: only its key, for its
                // duplicates (kept whole if it does not fit one).
                if let (Some(w), Some(to)) = (needed, drop_to) {
                    if !w.keeps(person, offence[i]) {
                        let label =
                            |l: Option<&BatchLabels>| l.map_or(MISSING, |l| l.trimmed_code(i));
                        if let Some(key) =
                            to.pack(person, offence[i], disposal[i], label(otype), label(kind))
                        {
                            let bucket = template.of(person) as u32;
                            drops.push((bucket, key, (batch_first + i) as u32));
                            continue;
                        }
                    }
                }
                kept.push(Compact {
                    person,
                    offence: offence[i],
                    disposal: disposal[i],
                    offence_type: otype.map_or(MISSING, |l| l.code(i)),
                    disposal_kind: kind.map_or(MISSING, |l| l.code(i)),
                    row: (batch_first + i) as u32,
                });
            }
            RangeRows {
                reasons,
                kept: template.scatter(&kept),
                dropped: drop_to.map(|to| to.scatter(&drops)),
                latest,
                any_id,
                suspicious,
            }
        });
        self.steps[1].add_since(start);
        let start = std::time::Instant::now();
        let mut pieces = Vec::with_capacity(ranges.len());
        let mut dropped = Vec::new();
        for range in ranges {
            pieces.push(range.kept);
            dropped.extend(range.dropped);
            self.reasons.extend_from_slice(&range.reasons);
            self.latest = self.latest.max(range.latest);
            self.any_id |= range.any_id;
            for (labels, hits) in self.details.iter_mut().zip(range.suspicious) {
                if let Some(labels) = labels {
                    for (row, code) in hits {
                        labels.count(row, code);
                    }
                }
            }
        }
        // Each bucket gathers its rows from every range in order, buckets in parallel.
        self.buckets.extend(&pieces, done);
        if let Some(to) = &mut self.dropped {
            to.extend(&dropped, done);
        }
        self.steps[2].add_since(start);
        Ok(())
    }
}

/// Reads the offences table batch by batch, linking each row to its person in `table` (people
/// numbered `0..n_people`) and keeping only the rows `needed` when given; see
/// [`OffenceRows`].
// Over 7 arguments: the file, how to read it, and where its rows go, each a separate input
// of the loader.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_offence_rows(
    source: &super::extract::Table,
    header: &[String],
    dates: &read::DateSpec,
    not_proven: &NotProven,
    table: &LinkTable,
    n_people: usize,
    needed: Option<&Needed>,
    batch_rows: usize,
) -> Result<OffenceRows> {
    let path = source.path();
    let has = |name: &str| header.iter().any(|h| h == name);
    for (list, column, option) in [
        (&not_proven.disposals, "disposal", "exclude_disposals"),
        (
            &not_proven.offence_types,
            "offence_type",
            "exclude_offence_types",
        ),
    ] {
        if !list.is_empty() && !has(column) {
            return Err(Error::in_column(
                path,
                column,
                format!("{option} needs a `{column}` column in the offences table"),
            ));
        }
    }
    let mut cols: Vec<String> = OFFENCES_REQUIRED.iter().map(|s| s.to_string()).collect();
    for opt in ["offence_type", "disposal"] {
        if has(opt) {
            cols.push(opt.to_string());
        }
    }
    let buckets = Buckets::new(n_people);
    let mut stream = Stream {
        path,
        dates,
        table,
        needed,
        dropped: needed.map(|_| Dropped::new(&buckets, dates.range)),
        details: [
            has("disposal")
                .then(|| Labels::new("disposal", "exclude_disposals", &not_proven.disposals)),
            has("offence_type").then(|| {
                Labels::new(
                    "offence_type",
                    "exclude_offence_types",
                    &not_proven.offence_types,
                )
            }),
        ],
        reasons: Vec::new(),
        buckets,
        latest: None,
        any_id: false,
        offence_seen: DatesSeen::default(),
        disposal_seen: DatesSeen::default(),
        steps: [
            "      columns: identifiers, dates, labels",
            "      checks, hashes, links",
            "      rows into buckets",
        ]
        .map(crate::trace::Total::new),
    };
    source.read_batches(
        &cols,
        &["offence_type", "disposal"],
        batch_rows,
        |frame, first, done| stream.batch(frame, first, done),
    )?;
    // Rows that are blank in every required column (blank lines after the header) are
    // missing_value rows of an otherwise empty table, not an empty column.
    let blank =
        !stream.any_id && !stream.offence_seen.any_value() && !stream.disposal_seen.any_value();
    if !blank {
        stream.offence_seen.check(path, "offence_date", dates)?;
        stream.disposal_seen.check(path, "disposal_date", dates)?;
    }
    if !stream.reasons.is_empty() && !blank {
        // Every row read, and not one identifier among them.
        check_text(path, "person_id", std::iter::once(!stream.any_id))?;
    }
    let [kind, otype] = stream.details;
    let warnings = [&kind, &otype]
        .into_iter()
        .flatten()
        .filter_map(Labels::warning)
        .collect();
    Ok(OffenceRows {
        reasons: stream.reasons,
        buckets: stream.buckets,
        dropped: stream.dropped,
        offence_type: otype.map(|l| l.labels),
        disposal_kind: kind.map(|l| l.labels),
        latest_disposal: stream.latest,
        warnings,
    })
}
