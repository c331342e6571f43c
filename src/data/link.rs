//! Linking: one number per person kept, and the person of each offence row.

use std::collections::HashMap;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use polars::prelude as pl;
use rayon::prelude::*;

use super::cohort::CohortRows;
use super::dates::Day;
use super::quality::Reason;
use super::read::{self};

pub(super) const NO_PERSON: u32 = u32::MAX;

/// What is known about one person identifier across the cohort rows.
#[derive(Clone, Copy)]
pub(super) struct Agg {
    pub(super) cohort: u32,
    pub(super) conflict: bool,
    pub(super) best_row: u32,
    pub(super) best_day: Day,
    pub(super) person: u32,
}

/// The people are split into shards by the top bits of their identifier's 128-bit hash;
/// work on each shard (grouping the cohort's rows, then probing the offences' rows) touches
/// one small map, so it stays in cache (a radix-partitioned hash join).
pub(super) const SHARD_BITS: u32 = 10;
pub(super) const NO_SHARD: u16 = u16::MAX;

pub(super) fn shard_of(id: u128) -> u16 {
    (id >> (128 - SHARD_BITS)) as u16
}

/// Row numbers grouped by shard (a counting sort, keeping row order within a shard).
pub(super) fn partition(shards: &[u16]) -> Vec<Vec<u32>> {
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

/// Identifier hash -> person, as a sharded hash map. Each identifier is hashed once, when
/// its table is read ([`id_hash`]); the maps are keyed by that hash, never by the text.
pub(super) struct PersonIndex {
    pub(super) shards: Vec<HashMap<u128, Agg, FixedState>>,
    pub(super) kept_rows: Vec<usize>,
}

impl PersonIndex {
    /// Groups the usable cohort rows by person, marks repeat index events, people in two
    /// cohorts and index dates after the extract date, and numbers the people kept.
    // Over 80 lines: groups the cohort's rows per shard and gives each row its reason in the same
    // pass over the shard.
    pub(super) fn build(
        c: &CohortRows,
        row_reasons: &[u8],
        extract: Option<Day>,
    ) -> (PersonIndex, Vec<u8>) {
        let shard_keys: Vec<u16> = row_reasons
            .par_iter()
            .zip(c.id.par_iter())
            .map(|(&r, &id)| if r == 0 { shard_of(id) } else { NO_SHARD })
            .collect();
        let by_shard = partition(&shard_keys);
        drop(shard_keys);
        let (ids, cohort, index) = (&c.id, &c.cohort, &c.index);
        // Per shard: aggregate its people, then give each of its rows a reason.
        let built: Vec<(HashMap<u128, Agg, FixedState>, Vec<u8>)> = by_shard
            .par_iter()
            .map(|rows| {
                let mut map: HashMap<u128, Agg, FixedState> =
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
                        let agg = map[&ids[r]];
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
        let shards: Vec<HashMap<u128, Agg, FixedState>> = built
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
    /// partitioned by the hash's top bits (the cohort's shards), and each partition is probed
    /// against its own shard of people, which stays in cache. Two different identifiers
    /// collide in all 128 bits with probability about 2^-128 per pair.
    pub(super) fn link(&self, ids: &pl::StringChunked) -> Vec<u32> {
        let parts = 1usize << SHARD_BITS;
        // 0 marks a missing identifier (`id_hash` never returns 0).
        let hashes: Vec<u128> = read::par_map_str(ids, |s| match s.map(str::trim) {
            Some(s) if !s.is_empty() => id_hash(s),
            _ => 0,
        });
        let part_of = |h: u128| shard_of(h) as usize;
        let mut start = vec![0usize; parts + 1];
        for &h in &hashes {
            if h != 0 {
                start[part_of(h) + 1] += 1;
            }
        }
        for p in 0..parts {
            start[p + 1] += start[p];
        }
        let mut fill = start.clone();
        let mut order = vec![0u32; start[parts]];
        for (i, &h) in hashes.iter().enumerate() {
            if h != 0 {
                let p = part_of(h);
                order[fill[p]] = i as u32;
                fill[p] += 1;
            }
        }
        let found: Vec<Vec<u32>> = (0..parts)
            .into_par_iter()
            .map(|p| {
                order[start[p]..start[p + 1]]
                    .iter()
                    .map(|&i| {
                        self.shards[p]
                            .get(&hashes[i as usize])
                            .map_or(NO_PERSON, |a| a.person)
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
pub(super) fn id_hash(s: &str) -> u128 {
    let a = FixedState::with_seed(0x9e37_79b9_7f4a_7c15).hash_one(s);
    let b = FixedState::with_seed(0xc2b2_ae3d_27d4_eb4f).hash_one(s);
    ((u128::from(a) << 64) | u128::from(b)).max(1)
}
