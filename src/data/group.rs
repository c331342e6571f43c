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

/// Linked rows gathered as they stream in, by bucket of consecutive person numbers (1,024
/// buckets), in file order within a bucket. Each bucket is small enough to be sorted in
/// cache, and in bucket order the people come out in order (an MSD radix sort whose first
/// pass is done while reading).
///
/// A bucket is a list of blocks of at most [`BLOCK_ROWS`] rows, filled in turn: a bucket
/// grows without reallocating (so without copying its rows again), a full block is large
/// enough to be memory of its own, which is handed back as each bucket is sorted, and the
/// sort reads the blocks where they are. How large a new block is: [`Buckets::extend`].
pub(super) struct Buckets {
    shift: u32,
    /// Buckets that people fall in (the rest stay empty).
    used: usize,
    pub(super) blocks: Vec<Vec<Vec<Compact>>>,
}

const BUCKET_BITS: u32 = 10;

/// Rows in a full block of a bucket: 1 MiB.
const BLOCK_ROWS: usize = (1 << 20) / std::mem::size_of::<Compact>();

impl Buckets {
    /// Empty buckets for people numbered `0..n_people`.
    pub(super) fn new(n_people: usize) -> Buckets {
        let shift = (usize::BITS - n_people.max(1).leading_zeros()).saturating_sub(BUCKET_BITS);
        Buckets {
            shift,
            used: n_people.max(1).div_ceil(1 << shift),
            blocks: vec![Vec::new(); 1 << BUCKET_BITS],
        }
    }

    /// Bits of a person number below its bucket.
    pub(super) fn shift(&self) -> u32 {
        self.shift
    }

    /// Buckets that people fall in (the rest stay empty).
    pub(super) fn used(&self) -> usize {
        self.used
    }

    /// The bucket of a person.
    pub(super) fn of(&self, person: u32) -> usize {
        (person as usize) >> self.shift
    }

    /// Appends the rows of each piece (a range of a batch, [`Buckets::scatter`]), pieces in
    /// file order; `done` is the share of the file read with this batch. Buckets are filled
    /// in parallel.
    ///
    /// A new block is as large as the rows a bucket is expected still to receive, at most
    /// [`BLOCK_ROWS`]: the smaller of two estimates, each with an eighth to spare, of its
    /// rows at the end (its rows so far scaled up by the share of the file not yet read; the
    /// rows of the whole file so estimated, shared equally among the buckets, which hold
    /// equally many people), less the rows it has. In an extract in date order the first
    /// estimate closes in on a bucket's rows as the file is read; in one grouped by person,
    /// where a bucket gets all its rows at once, the second does. Either way the last blocks
    /// come out about full, and the memory for rows that never arrive is neither reserved
    /// nor touched. A bucket that receives more opens another block.
    pub(super) fn extend(&mut self, pieces: &[Piece], done: f64) {
        const SPARE: f64 = 1.125;
        let (later_per_row, per_bucket) = if done > 0.0 && done < 1.0 {
            // Rows so far, this batch's included.
            let rows = self.blocks.iter().flatten().map(Vec::len).sum::<usize>()
                + pieces.iter().map(|p| p.rows.len()).sum::<usize>();
            let whole = rows as f64 / done;
            (
                (1.0 - done) / done * SPARE,
                whole / self.used as f64 * SPARE,
            )
        } else {
            (0.0, 0.0)
        };
        self.blocks
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, blocks)| {
                let mut now: usize = pieces.iter().map(|p| p.bucket(b).len()).sum();
                let had: usize = blocks.iter().map(Vec::len).sum();
                let scaled = ((had + now) as f64 * later_per_row) as usize;
                let shared = (per_bucket as usize).saturating_sub(had + now);
                let later = scaled.min(shared);
                for piece in pieces {
                    let mut part = piece.bucket(b);
                    while !part.is_empty() {
                        match blocks.last_mut() {
                            Some(last) if last.len() < last.capacity() => {
                                let room = last.capacity() - last.len();
                                let (fits, rest) = part.split_at(room.min(part.len()));
                                // Within capacity: never reallocates.
                                last.extend_from_slice(fits);
                                now -= fits.len();
                                part = rest;
                            }
                            // `now` counts the rows of this batch not yet placed: at least one.
                            _ => blocks.push(Vec::with_capacity(
                                now.saturating_add(later).min(BLOCK_ROWS),
                            )),
                        }
                    }
                }
            });
    }

    /// `rows` (in file order) as a [`Piece`]: ordered by bucket, in file order within a
    /// bucket.
    pub(super) fn scatter(&self, rows: &[Compact]) -> Piece {
        let (rows, starts) = counting_sort(
            || rows.iter(),
            self.blocks.len(),
            |r| self.of(r.person),
            |r| *r,
        );
        Piece { rows, starts }
    }

    /// Every block of rows, bucket by bucket, in file order within a bucket.
    pub(super) fn blocks_mut(&mut self) -> impl Iterator<Item = &mut Vec<Compact>> {
        self.blocks.iter_mut().flatten()
    }
}

/// The rows that `rows()` yields ordered by `key` (below `keys`), keeping their order among
/// equal keys (a counting sort: one pass to count, one to place), each passed through `map`
/// on its way, and where each key's rows start (one more start than keys: the end).
fn counting_sort<'a, I: Iterator<Item = &'a Compact>>(
    rows: impl Fn() -> I,
    keys: usize,
    key: impl Fn(&Compact) -> usize,
    map: impl Fn(&Compact) -> Compact,
) -> (Vec<Compact>, Vec<u32>) {
    let mut starts = vec![0u32; keys + 1];
    for r in rows() {
        starts[key(r) + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![Compact::default(); starts[keys] as usize];
    for r in rows() {
        let k = key(r);
        out[next[k] as usize] = map(r);
        next[k] += 1;
    }
    (out, starts)
}

/// Rows of one range of a batch, ordered by bucket: bucket `b`'s rows are
/// `rows[starts[b]..starts[b + 1]]`. Gathered in one vector rather than a vector per bucket,
/// so a range of 32,768 rows makes one allocation instead of one per bucket.
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
        .blocks
        .into_par_iter()
        .map(|blocks| {
            let mut rows = sort_bucket(blocks, |r| Compact {
                offence_type: level(&type_levels, r.offence_type),
                disposal_kind: level(&kind_levels, r.disposal_kind),
                ..*r
            });
            // Positions in `rows`, ascending.
            let dups = duplicates(&rows);
            let rows_of_dups: Vec<u32> = dups.iter().map(|&k| rows[k].row).collect();
            if !dups.is_empty() {
                let mut next_dup = dups.iter().peekable();
                let mut k = 0;
                rows.retain(|_| {
                    let dup = next_dup.next_if_eq(&&k).is_some();
                    k += 1;
                    !dup
                });
            }
            (rows, rows_of_dups)
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

/// A bucket's rows (its blocks, freed once sorted) by person, then offence date, disposal
/// date and row, each row passed through `map` on its way: a counting sort by person
/// (stable, so each person's rows stay in file order), then each person's few rows sorted
/// only when the file's order is not already theirs (extracts in date order mostly are).
fn sort_bucket(blocks: Vec<Vec<Compact>>, map: impl Fn(&Compact) -> Compact) -> Vec<Compact> {
    let rows = || blocks.iter().flatten();
    let (Some(lo), Some(hi)) = (
        rows().map(|r| r.person).min(),
        rows().map(|r| r.person).max(),
    ) else {
        return Vec::new();
    };
    let keys = (hi - lo) as usize + 1;
    let (mut out, _) = counting_sort(rows, keys, |r| (r.person - lo) as usize, map);
    drop(blocks);
    for person in out.chunk_by_mut(|a, b| a.person == b.person) {
        if !person.is_sorted_by_key(Compact::order) {
            person.sort_unstable_by_key(Compact::order);
        }
    }
    out
}

/// The positions in `rows` of the rows that repeat an earlier row of the same person with
/// the same dates, offence type and disposal, ascending. `rows` is sorted by person, dates
/// and row, so the row kept of each set of identical rows is the lowest in the file.
fn duplicates(rows: &[Compact]) -> Vec<usize> {
    let mut dups = Vec::new();
    let mut offset = 0;
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
                    dups.push(offset + j);
                }
            }
            run = i;
        }
        offset += chunk.len();
    }
    dups
}

impl Sorted {
    /// The rows kept, bucket by bucket (people in order).
    pub(super) fn rows(&self) -> impl Iterator<Item = &Compact> {
        self.buckets.iter().flatten()
    }

    /// The offences table, one column per field, buckets copied in parallel; each bucket is
    /// freed as it is copied, so the rows and the columns are not held whole at the same
    /// time. Offence types and disposals are kept only when `keep_details`.
    pub(super) fn into_offences(self, n_people: usize, keep_details: bool) -> Offences {
        let lens: Vec<usize> = self.buckets.iter().map(Vec::len).collect();
        let n: usize = lens.iter().sum();
        let mut start = vec![0usize; n_people + 1];
        for r in self.rows() {
            start[r.person as usize + 1] += 1;
        }
        for p in 0..n_people {
            start[p + 1] += start[p];
        }
        let mut offence_day = vec![0; n];
        let mut disposal_day = vec![0; n];
        let details = |levels: &Option<Vec<String>>| {
            (keep_details && levels.is_some()).then(|| vec![MISSING; n])
        };
        let mut types: Option<Vec<u32>> = details(&self.offence_type);
        let mut kinds: Option<Vec<u32>> = details(&self.disposal_kind);
        let offence_parts = split_by(&mut offence_day, &lens);
        let disposal_parts = split_by(&mut disposal_day, &lens);
        let type_parts = types.as_deref_mut().map(|t| split_by(t, &lens));
        let kind_parts = kinds.as_deref_mut().map(|k| split_by(k, &lens));
        let (mut type_parts, mut kind_parts) = (
            type_parts.into_iter().flatten(),
            kind_parts.into_iter().flatten(),
        );
        let jobs: Vec<_> = self
            .buckets
            .into_iter()
            .zip(offence_parts.into_iter().zip(disposal_parts))
            .map(|(rows, days)| (rows, days, type_parts.next(), kind_parts.next()))
            .collect();
        jobs.into_par_iter()
            .for_each(|(rows, (offence, disposal), types, kinds)| {
                for (k, r) in rows.iter().enumerate() {
                    offence[k] = r.offence;
                    disposal[k] = r.disposal;
                }
                if let Some(t) = types {
                    t.iter_mut()
                        .zip(&rows)
                        .for_each(|(t, r)| *t = r.offence_type);
                }
                if let Some(d) = kinds {
                    d.iter_mut()
                        .zip(&rows)
                        .for_each(|(d, r)| *d = r.disposal_kind);
                }
            });
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

/// `values` cut into consecutive pieces of the given lengths (which sum to its length).
fn split_by<'a, T>(mut values: &'a mut [T], lens: &[usize]) -> Vec<&'a mut [T]> {
    lens.iter()
        .map(|&len| {
            let (head, tail) = std::mem::take(&mut values).split_at_mut(len);
            values = tail;
            head
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of 3 people spread over many pieces, more than fit one block: every row lands in
    /// its bucket once, in file order, no block outgrows [`BLOCK_ROWS`] (so none was
    /// reallocated), and sorting reads across the blocks into each person's date order with
    /// exact duplicates marked.
    #[test]
    fn buckets_fill_blocks_in_order_and_sort_across_them() {
        let n = 6 * BLOCK_ROWS + 777;
        let rows: Vec<Compact> = (0..n as u32)
            .map(|i| Compact {
                person: i % 3,
                // Dates fall as rows rise for person 1: their order is not the file's.
                offence: if i % 3 == 1 {
                    -(i as i32 / 6)
                } else {
                    (i / 6) as i32
                },
                disposal: 40_000,
                offence_type: 0,
                disposal_kind: MISSING,
                row: i,
            })
            .collect();
        let mut buckets = Buckets::new(3);
        for (k, part) in rows.chunks(10_007).enumerate() {
            let pieces: Vec<Piece> = part.chunks(1_000).map(|r| buckets.scatter(r)).collect();
            buckets.extend(&pieces, ((k + 1) * 10_007) as f64 / n as f64);
        }
        assert!(
            buckets
                .blocks
                .iter()
                .flatten()
                .all(|b| b.len() <= BLOCK_ROWS),
            "a block grew past its size"
        );
        assert!(
            buckets.blocks.iter().take(3).all(|b| b.len() >= 3),
            "not several blocks"
        );
        for (p, blocks) in buckets.blocks.iter().enumerate().take(3) {
            let got: Vec<u32> = blocks.iter().flatten().map(|r| r.row).collect();
            let want: Vec<u32> = (0..n as u32).filter(|i| i % 3 == p as u32).collect();
            assert_eq!(got, want, "person {p}");
        }
        let mut reasons = vec![0u8; n];
        let sorted = sort_offences(buckets, Some(&["theft".to_string()]), None, &mut reasons);
        let out: Vec<&Compact> = sorted.rows().collect();
        // Each person has two identical rows per offence day (rows 6k+p and 6k+3+p): the
        // later one is a duplicate.
        let dups = reasons.iter().filter(|&&r| r != 0).count();
        assert_eq!(out.len() + dups, n);
        assert_eq!(dups, (0..n).filter(|i| i % 6 >= 3).count());
        assert!(
            reasons
                .iter()
                .enumerate()
                .all(|(i, &r)| (r != 0) == (i % 6 >= 3))
        );
        for w in out.windows(2) {
            assert!(w[0].order() < w[1].order(), "not in order");
        }
        assert!(
            out.iter()
                .all(|r| r.offence_type == 0 && r.disposal_kind == MISSING)
        );
    }

    /// An extract grouped by person fills each bucket at once, early or late in the file:
    /// its blocks are still sized to about its share of the rows, not to a whole block.
    #[test]
    fn blocks_fit_extracts_grouped_by_person() {
        let people = 100_000u32;
        let rows: Vec<Compact> = (0..people * 5)
            .map(|i| Compact {
                person: i / 5,
                row: i,
                ..Compact::default()
            })
            .collect();
        let mut buckets = Buckets::new(people as usize);
        let n = rows.len();
        for (k, part) in rows.chunks(50_000).enumerate() {
            let pieces: Vec<Piece> = part.chunks(10_000).map(|r| buckets.scatter(r)).collect();
            buckets.extend(&pieces, ((k + 1) * 50_000).min(n) as f64 / n as f64);
        }
        let blocks = buckets.blocks.iter().flatten();
        let (kept, spare) = blocks.fold((0, 0), |(k, s), b| {
            (k + b.len(), s + b.capacity() - b.len())
        });
        assert_eq!(kept, n);
        assert!(spare < n / 5, "{spare} rows reserved and unused for {n}");
    }
}
