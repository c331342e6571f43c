//! Offence rows that no analysis of the run reads (outside every window,
//! [`KeepOffences::Needed`](super::KeepOffences::Needed)). They are valid and linked, so they
//! count as used; what is held of each until the end of reading is a 12-byte key: enough
//! to find its exact duplicates (which are excluded as when every row is kept) and the
//! disposal dates the extract-date warnings read, not the row itself.

use rayon::prelude::*;

use super::dates::Day;
use super::group::Buckets;
use super::link::NO_PERSON;
use super::quality::Reason;
use super::table::MISSING;

/// The dropped rows by bucket of person numbers (the buckets of [`Buckets`]): per bucket a
/// packed key (the person within the bucket, the offence day, the days to disposal and the
/// codes of the trimmed offence type and disposal: equal keys are exact duplicates) and
/// the file row (from 0) of each.
pub(super) struct Dropped {
    /// Bits of a person number below its bucket.
    shift: u32,
    /// Buckets that people fall in.
    used: usize,
    /// The first plausible day: offence days are stored from it.
    first_day: Day,
    day_bits: u32,
    type_bits: u32,
    kind_bits: u32,
    keys: Vec<Vec<u64>>,
    rows: Vec<Vec<u32>>,
    /// The people's numbers once those indexed after the extract date are dropped (by the
    /// number of reading), when some were.
    renumber: Option<Vec<u32>>,
}

/// Rows of one range of a batch to drop, ordered by bucket (as [`super::group::Piece`]).
pub(super) struct DroppedPiece {
    keys: Vec<u64>,
    rows: Vec<u32>,
    starts: Vec<u32>,
}

/// Bits needed for the numbers `0..=n`.
fn bits(n: u64) -> u32 {
    u64::BITS - n.leading_zeros()
}

impl Dropped {
    /// An empty store for the people of `buckets`, whose dates all lie in `days` (the
    /// plausible range: a date outside it excludes its row before any is dropped).
    pub(super) fn new(buckets: &Buckets, days: (Day, Day)) -> Dropped {
        let shift = buckets.shift();
        let span = u64::try_from(i64::from(days.1) - i64::from(days.0)).unwrap_or(0);
        let day_bits = bits(span);
        // The key has room for the labels' codes only after the person and the two days;
        // with none left (a range of years too wide), no row packs and every row is kept.
        let rest = 64u32.saturating_sub(shift + 2 * day_bits);
        let (type_bits, kind_bits) = if shift + 2 * day_bits > 64 {
            (0, 0)
        } else {
            (rest - rest / 2, rest / 2)
        };
        let n = buckets.blocks.len();
        Dropped {
            shift,
            used: buckets.used(),
            first_day: days.0,
            day_bits: if shift + 2 * day_bits > 64 {
                0
            } else {
                day_bits
            },
            type_bits,
            kind_bits,
            keys: vec![Vec::new(); n],
            rows: vec![Vec::new(); n],
            renumber: None,
        }
    }

    /// The key of a row of `person` (codes of the trimmed labels, `MISSING` for none), or
    /// `None` when it does not fit (the row is then kept whole).
    #[inline]
    pub(super) fn pack(
        &self,
        person: u32,
        offence: Day,
        disposal: Day,
        offence_type: u32,
        disposal_kind: u32,
    ) -> Option<u64> {
        if self.day_bits == 0 {
            return None;
        }
        let fits = |v: u64, b: u32| (v >> b == 0).then_some(v);
        let label = |c: u32, b: u32| match c {
            MISSING => Some(0),
            c => fits(u64::from(c) + 1, b),
        };
        let day = fits(
            u64::try_from(i64::from(offence) - i64::from(self.first_day)).ok()?,
            self.day_bits,
        )?;
        let to_disposal = fits(
            u64::try_from(i64::from(disposal) - i64::from(offence)).ok()?,
            self.day_bits,
        )?;
        let t = label(offence_type, self.type_bits)?;
        let k = label(disposal_kind, self.kind_bits)?;
        let within = u64::from(person) & ((1u64 << self.shift) - 1);
        let (kb, tb, db) = (self.kind_bits, self.type_bits, self.day_bits);
        Some(
            // `within` has `shift` bits and shift + 2 * day_bits + tb + kb = 64 (see `new`).
            within.checked_shl(2 * db + tb + kb).unwrap_or(0)
                | day << (db + tb + kb)
                | to_disposal << (tb + kb)
                | t << kb
                | k,
        )
    }

    /// The person (in the numbering of reading) and the disposal day of a key of bucket `b`.
    fn unpack(&self, b: usize, key: u64) -> (u32, Day) {
        let (kb, tb, db) = (self.kind_bits, self.type_bits, self.day_bits);
        let mask = (1u64 << db) - 1;
        let within = key.checked_shr(2 * db + tb + kb).unwrap_or(0);
        let offence = self.first_day + ((key >> (db + tb + kb)) & mask) as Day;
        let disposal = offence + ((key >> (tb + kb)) & mask) as Day;
        (((b as u64) << self.shift | within) as u32, disposal)
    }

    /// `rows` of a range (bucket, key, file row), in file order, as a [`DroppedPiece`].
    pub(super) fn scatter(&self, rows: &[(u32, u64, u32)]) -> DroppedPiece {
        let n = self.keys.len();
        let mut starts = vec![0u32; n + 1];
        for r in rows {
            starts[r.0 as usize + 1] += 1;
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut next = starts.clone();
        let (mut keys, mut out) = (vec![0u64; rows.len()], vec![0u32; rows.len()]);
        for &(b, key, row) in rows {
            let at = &mut next[b as usize];
            keys[*at as usize] = key;
            out[*at as usize] = row;
            *at += 1;
        }
        DroppedPiece {
            keys,
            rows: out,
            starts,
        }
    }

    /// Appends the pieces of a batch (in file order); `done` is the share of the file read
    /// with it. A bucket that must grow reserves what it is expected still to receive, as
    /// [`Buckets::extend`] estimates it, so that it is copied a few times at most.
    pub(super) fn extend(&mut self, pieces: &[DroppedPiece], done: f64) {
        const SPARE: f64 = 1.125;
        let so_far: usize = self.keys.iter().map(Vec::len).sum::<usize>()
            + pieces.iter().map(|p| p.keys.len()).sum::<usize>();
        let (later_per_row, per_bucket) = if done > 0.0 && done < 1.0 {
            (
                (1.0 - done) / done * SPARE,
                so_far as f64 / done / self.used as f64 * SPARE,
            )
        } else {
            (0.0, 0.0)
        };
        self.keys
            .par_iter_mut()
            .zip(self.rows.par_iter_mut())
            .enumerate()
            .for_each(|(b, (keys, rows))| {
                let part = |p: &DroppedPiece| p.starts[b] as usize..p.starts[b + 1] as usize;
                let now: usize = pieces.iter().map(|p| part(p).len()).sum();
                if now == 0 {
                    return;
                }
                let had = keys.len();
                if keys.capacity() - had < now {
                    let scaled = ((had + now) as f64 * later_per_row) as usize;
                    let shared = (per_bucket as usize).saturating_sub(had + now);
                    let extra = now + scaled.min(shared);
                    keys.reserve_exact(extra);
                    rows.reserve_exact(extra);
                }
                for p in pieces {
                    keys.extend_from_slice(&p.keys[part(p)]);
                    rows.extend_from_slice(&p.rows[part(p)]);
                }
            });
    }

    /// Rows dropped and not (yet) found to be duplicates.
    pub(super) fn len(&self) -> u64 {
        self.keys.iter().map(|k| k.len() as u64).sum()
    }

    /// Removes the rows of people no longer kept (`renumber[person]` is [`NO_PERSON`]),
    /// marking them `person_not_in_cohort` in `reasons`; the others are numbered anew by
    /// `renumber` from now on.
    pub(super) fn retain_people(&mut self, renumber: Vec<u32>, reasons: &mut [u8]) {
        self.remove_people(&renumber, reasons);
        self.renumber = Some(renumber);
    }

    fn remove_people(&mut self, renumber: &[u32], reasons: &mut [u8]) {
        for b in 0..self.keys.len() {
            let (keys, rows) = (&self.keys[b], &self.rows[b]);
            let gone = |k: &u64| renumber[self.unpack(b, *k).0 as usize] == NO_PERSON;
            if !keys.iter().any(gone) {
                continue;
            }
            let (mut kept_keys, mut kept_rows) = (Vec::new(), Vec::new());
            for (k, &r) in keys.iter().zip(rows) {
                if gone(k) {
                    reasons[r as usize] = Reason::PersonNotInCohort as u8;
                } else {
                    kept_keys.push(*k);
                    kept_rows.push(r);
                }
            }
            self.keys[b] = kept_keys;
            self.rows[b] = kept_rows;
        }
    }

    /// Finds the exact duplicates among the dropped rows (equal keys; the lowest row of each
    /// set is kept, as for the rows kept whole), marks them `duplicate_offence` in
    /// `reasons` and removes them. Buckets in parallel; within a bucket a counting sort by
    /// person (stable: each person's rows stay in file order), then each person's few rows
    /// sorted only when the file's order is not already theirs.
    pub(super) fn remove_duplicates(&mut self, reasons: &mut [u8]) {
        let (shift, low) = (self.shift, 64 - self.shift);
        let dups: Vec<Vec<u32>> = self
            .keys
            .par_iter_mut()
            .zip(self.rows.par_iter_mut())
            .map(|(keys, rows)| {
                if keys.len() < 2 {
                    return Vec::new();
                }
                let person = |k: u64| k.checked_shr(low).unwrap_or(0) as usize;
                let mut starts = vec![0u32; (1usize << shift) + 1];
                for &k in keys.iter() {
                    starts[person(k) + 1] += 1;
                }
                for p in 1..starts.len() {
                    starts[p] += starts[p - 1];
                }
                let mut next = starts.clone();
                let mut pairs = vec![(0u64, 0u32); keys.len()];
                for (&k, &r) in keys.iter().zip(rows.iter()) {
                    let at = &mut next[person(k)];
                    pairs[*at as usize] = (k, r);
                    *at += 1;
                }
                let mut dups = Vec::new();
                for w in starts.windows(2) {
                    let one = &mut pairs[w[0] as usize..w[1] as usize];
                    if one.len() < 2 {
                        continue;
                    }
                    if !one.is_sorted() {
                        one.sort_unstable();
                    }
                    for run in one.chunk_by(|a, b| a.0 == b.0) {
                        // Sorted by key then row: the first of a run is its lowest row.
                        dups.extend(run[1..].iter().map(|p| p.1));
                    }
                }
                if !dups.is_empty() {
                    pairs.dedup_by_key(|p| p.0);
                    *keys = pairs.iter().map(|p| p.0).collect();
                    *rows = pairs.iter().map(|p| p.1).collect();
                }
                dups
            })
            .collect();
        for r in dups.into_iter().flatten() {
            reasons[r as usize] = Reason::DuplicateOffence as u8;
        }
    }

    /// Per person (numbered as the people kept, `index_day` their index days), the rows
    /// disposed of before the index date: the part of `prior_offences` that the rows
    /// dropped hold (call after [`Dropped::remove_duplicates`]).
    pub(super) fn prior_counts(&self, index_day: &[Day]) -> Vec<u32> {
        let mut counts = vec![0u32; index_day.len()];
        for (b, keys) in self.keys.iter().enumerate() {
            for &k in keys {
                let (person, disposal) = self.unpack(b, k);
                let p = match &self.renumber {
                    Some(r) => r[person as usize],
                    None => person,
                };
                if let Some(c) = counts.get_mut(p as usize) {
                    if disposal < index_day[p as usize] {
                        *c += 1;
                    }
                }
            }
        }
        counts
    }

    /// The disposal day and file row (from 0) of each row of bucket `b`.
    pub(super) fn disposals(&self, b: usize) -> impl Iterator<Item = (Day, u32)> + '_ {
        let keys = self.keys.get(b).map_or(&[][..], Vec::as_slice);
        let rows = self.rows.get(b).map_or(&[][..], Vec::as_slice);
        keys.iter()
            .zip(rows)
            .map(move |(&k, &r)| (self.unpack(b, k).1, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_person_days_and_labels_apart_and_equal_rows_equal() {
        let buckets = Buckets::new(3_000_000);
        let d = Dropped::new(&buckets, (-25567, 47847));
        let key = |p, o, s, t, k| d.pack(p, o, s, t, k).unwrap();
        let base = key(2_999_999, 18000, 18100, 5, MISSING);
        assert_eq!(base, key(2_999_999, 18000, 18100, 5, MISSING));
        for other in [
            key(2_999_998, 18000, 18100, 5, MISSING),
            key(2_999_999, 18001, 18100, 5, MISSING),
            key(2_999_999, 18000, 18101, 5, MISSING),
            key(2_999_999, 18000, 18100, 4, MISSING),
            key(2_999_999, 18000, 18100, MISSING, MISSING),
            key(2_999_999, 18000, 18100, 5, 0),
        ] {
            assert_ne!(base, other);
        }
        let b = buckets.of(2_999_999);
        assert_eq!(d.unpack(b, base), (2_999_999, 18100));
        // The extremes of the plausible range.
        let far = key(0, -25567, 47847, MISSING, MISSING);
        assert_eq!(d.unpack(0, far), (0, 47847));
        // A code too large for its bits is not packed (the row is then kept whole).
        assert!(d.pack(1, 18000, 18000, u32::MAX - 1, MISSING).is_none());
    }

    #[test]
    fn a_range_of_years_too_wide_for_a_key_packs_nothing() {
        let buckets = Buckets::new(1 << 30);
        let d = Dropped::new(&buckets, (-719_162, 2_932_896));
        assert!(d.pack(5, 0, 0, MISSING, MISSING).is_none());
    }

    #[test]
    fn duplicates_are_the_later_rows_of_equal_keys() {
        let buckets = Buckets::new(100);
        let mut d = Dropped::new(&buckets, (0, 40000));
        let k = |p, o| d.pack(p, o, o + 3, 1, 2).unwrap();
        // With 100 people each is a bucket of their own.
        let rows = vec![
            (1, k(1, 10), 7),
            (1, k(1, 10), 3),
            (2, k(2, 10), 5),
            (1, k(1, 10), 9),
        ];
        let piece = d.scatter(&rows);
        d.extend(&[piece], 1.0);
        assert_eq!(d.len(), 4);
        let mut reasons = vec![0u8; 10];
        d.remove_duplicates(&mut reasons);
        assert_eq!(d.len(), 2);
        let dup = Reason::DuplicateOffence as u8;
        assert_eq!(
            (reasons[7], reasons[9], reasons[3], reasons[5]),
            (dup, dup, 0, 0)
        );
        let mut left: Vec<(Day, u32)> = (0..buckets.blocks.len())
            .flat_map(|b| d.disposals(b))
            .collect();
        left.sort_unstable();
        assert_eq!(left, vec![(13, 3), (13, 5)]);
    }
}
