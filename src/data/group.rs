//! Grouping linked offences by person and marking exact duplicates.

use rayon::prelude::*;

use super::dates::Day;
use super::quality::Reason;
use super::table::{Categorical, MISSING, Offences};

/// One usable offence row, linked to its person, as it is kept from the stream: 24 bytes,
/// the only per-offence state held beside the exclusion reasons.
#[derive(Clone, Copy, Default)]
pub(super) struct Compact {
    pub(super) person: u32,
    pub(super) offence: Day,
    pub(super) disposal: Day,
    /// Code of the offence type among the table's labels (`MISSING` for none).
    pub(super) offence_type: u32,
    /// Code of the disposal among the table's labels (`MISSING` for none).
    pub(super) disposal_kind: u32,
    /// Row in the file, from 0.
    pub(super) row: u32,
}

impl Compact {
    /// The order of a person's rows: person, offence date, disposal date, row, packed into
    /// one number (days shifted so that their order is that of unsigned numbers).
    fn order(&self) -> u128 {
        let day = |d: Day| u128::from((d as u32) ^ 0x8000_0000);
        (u128::from(self.person) << 96)
            | (day(self.offence) << 64)
            | (day(self.disposal) << 32)
            | u128::from(self.row)
    }
}

/// Linked rows gathered as they stream in, by bucket of consecutive person numbers (256
/// buckets), in file order within a bucket. Each bucket is small enough to be sorted in
/// cache, and in bucket order the people come out in order (an MSD radix sort whose first
/// pass is done while reading).
pub(super) struct Buckets {
    shift: u32,
    pub(super) rows: Vec<Vec<Compact>>,
}

const BUCKET_BITS: u32 = 8;

impl Buckets {
    /// Empty buckets for people numbered `0..n_people`.
    pub(super) fn new(n_people: usize) -> Buckets {
        Buckets {
            shift: (usize::BITS - n_people.max(1).leading_zeros()).saturating_sub(BUCKET_BITS),
            rows: vec![Vec::new(); 1 << BUCKET_BITS],
        }
    }

    /// The bucket of a person.
    pub(super) fn of(&self, person: u32) -> usize {
        (person as usize) >> self.shift
    }

    /// Appends the rows of each piece (a range of a batch, [`Buckets::scatter`]), pieces in
    /// file order. Buckets are filled in parallel.
    pub(super) fn extend(&mut self, pieces: &[Piece]) {
        self.rows.par_iter_mut().enumerate().for_each(|(b, rows)| {
            rows.reserve(pieces.iter().map(|p| p.bucket(b).len()).sum());
            for piece in pieces {
                rows.extend_from_slice(piece.bucket(b));
            }
        });
    }

    /// `rows` (in file order) as a [`Piece`]: ordered by bucket, in file order within a
    /// bucket.
    pub(super) fn scatter(&self, rows: &[Compact]) -> Piece {
        let (rows, starts) = counting_sort(rows, self.rows.len(), |r| self.of(r.person));
        Piece { rows, starts }
    }
}

/// `rows` ordered by `key` (below `keys`), keeping their order among equal keys (a counting
/// sort), and where each key's rows start (one more start than keys: the end).
fn counting_sort(
    rows: &[Compact],
    keys: usize,
    key: impl Fn(&Compact) -> usize,
) -> (Vec<Compact>, Vec<u32>) {
    let mut starts = vec![0u32; keys + 1];
    for r in rows {
        starts[key(r) + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![Compact::default(); rows.len()];
    for r in rows {
        let k = key(r);
        out[next[k] as usize] = *r;
        next[k] += 1;
    }
    (out, starts)
}

/// Rows of one range of a batch, ordered by bucket: bucket `b`'s rows are
/// `rows[starts[b]..starts[b + 1]]`. Gathered in one vector rather than a vector per bucket,
/// so a range of 32,768 rows makes one allocation instead of up to 256 growing ones.
pub(super) struct Piece {
    rows: Vec<Compact>,
    starts: Vec<u32>,
}

impl Piece {
    fn bucket(&self, b: usize) -> &[Compact] {
        &self.rows[self.starts[b] as usize..self.starts[b + 1] as usize]
    }
}

/// Sorted distinct trimmed labels, and for each label code its level (`MISSING` for none):
/// equal levels are equal trimmed text.
pub(super) fn levels(labels: &[String]) -> (Vec<String>, Vec<u32>) {
    let trimmed: Vec<Option<&str>> = labels
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

/// Linked rows sorted per person, duplicates removed, labels as levels.
pub(super) struct Sorted {
    pub(super) buckets: Vec<Vec<Compact>>,
    offence_type: Option<Vec<String>>,
    disposal_kind: Option<Vec<String>>,
}

/// Sorts each person's offences by offence date, disposal date and row, and marks exact
/// duplicates (same person, dates, offence type and disposal; the lowest row of each set of
/// identical rows is kept) in `reasons`, removing them. Codes become levels of the trimmed
/// labels.
pub(super) fn sort_offences(
    buckets: Buckets,
    offence_type: Option<&[String]>,
    disposal_kind: Option<&[String]>,
    reasons: &mut [u8],
) -> Sorted {
    let type_levels = offence_type.map(levels);
    let kind_levels = disposal_kind.map(levels);
    let level = |levels: &Option<(Vec<String>, Vec<u32>)>, code: u32| match levels {
        Some((_, remap)) => remap.get(code as usize).copied().unwrap_or(MISSING),
        None => MISSING,
    };
    let sorted: Vec<(Vec<Compact>, Vec<u32>)> = buckets
        .rows
        .into_par_iter()
        .map(|mut rows| {
            for r in &mut rows {
                r.offence_type = level(&type_levels, r.offence_type);
                r.disposal_kind = level(&kind_levels, r.disposal_kind);
            }
            let mut rows = sort_bucket(rows);
            let dups = duplicates(&rows);
            if !dups.is_empty() {
                // `dups` is sorted (found in row order within each person, people in order,
                // and rows of one person are sorted by row within equal dates).
                let mut is_dup = vec![false; rows.len()];
                for (k, r) in rows.iter().enumerate() {
                    is_dup[k] = dups.binary_search(&r.row).is_ok();
                }
                let mut k = 0;
                rows.retain(|_| {
                    k += 1;
                    !is_dup[k - 1]
                });
            }
            (rows, dups)
        })
        .collect();
    let mut out = Vec::with_capacity(sorted.len());
    for (rows, dups) in sorted {
        for r in dups {
            reasons[r as usize] = Reason::DuplicateOffence as u8;
        }
        out.push(rows);
    }
    Sorted {
        buckets: out,
        offence_type: type_levels.map(|(l, _)| l),
        disposal_kind: kind_levels.map(|(l, _)| l),
    }
}

/// A bucket's rows by person, then offence date, disposal date and row: a counting sort by
/// person (stable, so each person's rows stay in file order), then each person's few rows
/// sorted only when the file's order is not already theirs (extracts in date order mostly
/// are).
fn sort_bucket(rows: Vec<Compact>) -> Vec<Compact> {
    let (Some(lo), Some(hi)) = (
        rows.iter().map(|r| r.person).min(),
        rows.iter().map(|r| r.person).max(),
    ) else {
        return rows;
    };
    let (mut out, _) = counting_sort(&rows, (hi - lo) as usize + 1, |r| (r.person - lo) as usize);
    for person in out.chunk_by_mut(|a, b| a.person == b.person) {
        if !person.is_sorted_by_key(Compact::order) {
            person.sort_unstable_by_key(Compact::order);
        }
    }
    out
}

/// The rows (file rows) of `rows` that repeat an earlier row of the same person with the
/// same dates, offence type and disposal, sorted. `rows` is sorted by person, dates and row.
fn duplicates(rows: &[Compact]) -> Vec<u32> {
    let mut dups = Vec::new();
    for chunk in rows.chunk_by(|a, b| a.person == b.person) {
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
    }
    dups.sort_unstable();
    dups
}

impl Sorted {
    /// The rows kept, bucket by bucket (people in order).
    pub(super) fn rows(&self) -> impl Iterator<Item = &Compact> {
        self.buckets.iter().flatten()
    }

    /// The offences table, one column per field; each bucket is freed as it is copied, so
    /// the rows and the columns are not held whole at the same time. Offence types and
    /// disposals are kept only when `keep_details`.
    pub(super) fn into_offences(self, n_people: usize, keep_details: bool) -> Offences {
        let n: usize = self.buckets.iter().map(Vec::len).sum();
        let mut start = vec![0usize; n_people + 1];
        let mut offence_day = Vec::with_capacity(n);
        let mut disposal_day = Vec::with_capacity(n);
        let details = |levels: &Option<Vec<String>>| {
            (keep_details && levels.is_some()).then(|| Vec::with_capacity(n))
        };
        let mut types: Option<Vec<u32>> = details(&self.offence_type);
        let mut kinds: Option<Vec<u32>> = details(&self.disposal_kind);
        for rows in self.buckets {
            for r in &rows {
                start[r.person as usize + 1] += 1;
            }
            offence_day.extend(rows.iter().map(|r| r.offence));
            disposal_day.extend(rows.iter().map(|r| r.disposal));
            if let Some(t) = types.as_mut() {
                t.extend(rows.iter().map(|r| r.offence_type));
            }
            if let Some(k) = kinds.as_mut() {
                k.extend(rows.iter().map(|r| r.disposal_kind));
            }
        }
        for p in 0..n_people {
            start[p + 1] += start[p];
        }
        let column = |codes: Option<Vec<u32>>, levels: Option<Vec<String>>| {
            codes
                .zip(levels)
                .map(|(codes, levels)| Categorical { codes, levels })
        };
        Offences {
            offence_day,
            disposal_day,
            offence_type: column(types, self.offence_type),
            disposal: column(kinds, self.disposal_kind),
            start,
        }
    }
}
