//! Linking: one number per person kept, and the person of each offence row.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::cohort::CohortRows;
use super::dates::Day;
use super::quality::Reason;

pub(super) const NO_PERSON: u32 = u32::MAX;

/// The cohort's rows are split into shards by the top bits of their identifier's 128-bit
/// hash; each shard's rows are grouped by person in cache, and fill their own region of the
/// link table.
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

/// The people kept, and the table that finds each one's number from an identifier's hash.
/// Each identifier is hashed once, when its table is read ([`id_hash`]); grouping and
/// linking compare those hashes, never the text.
pub(super) struct PersonIndex {
    pub(super) table: LinkTable,
    /// The cohort row of each person kept, in row order (person numbers follow it).
    pub(super) kept_rows: Vec<usize>,
}

/// One usable cohort row as grouping sorts it.
#[derive(Clone, Copy)]
struct CohortRow {
    id: u128,
    day: Day,
    row: u32,
    cohort: u32,
}

impl PersonIndex {
    /// Groups the usable cohort rows by person, marks repeat index events, people in two
    /// cohorts and index dates after the extract date, and numbers the people kept.
    ///
    /// Each shard's rows are sorted by identifier, index date and row: a person's rows are
    /// then one run, whose first row is the index event kept (the earliest, the first in
    /// the file among equal dates), unless the run holds two cohorts.
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
        let t = crate::trace::Phase::start("  group by person");
        let by_shard = partition(&shard_keys);
        drop(shard_keys);
        let (ids, cohort, index) = (&c.id, &c.cohort, &c.index);
        // Per shard: each row's reason, and the identifier and row of each person's index
        // event when it is kept.
        type Grouped = (Vec<(u32, u8)>, Vec<(u128, u32)>);
        let grouped: Vec<Grouped> = by_shard
            .into_par_iter()
            .map(|rows| {
                let mut sorted: Vec<CohortRow> = rows
                    .iter()
                    .map(|&row| {
                        let r = row as usize;
                        CohortRow {
                            id: ids[r],
                            day: index[r],
                            row,
                            cohort: cohort[r],
                        }
                    })
                    .collect();
                drop(rows);
                sorted.sort_unstable_by_key(|r| (r.id, r.day, r.row));
                let mut reasons = Vec::with_capacity(sorted.len());
                let mut firsts = Vec::new();
                for person in sorted.chunk_by(|a, b| a.id == b.id) {
                    let first = person[0];
                    let conflict = person.iter().any(|r| r.cohort != first.cohort);
                    for r in person {
                        let reason = if conflict {
                            Reason::InTwoCohorts as u8
                        } else if r.row != first.row {
                            Reason::RepeatIndexEvent as u8
                        } else if extract.is_some_and(|e| r.day > e) {
                            Reason::IndexAfterExtract as u8
                        } else {
                            firsts.push((first.id, first.row));
                            continue;
                        };
                        // Only the rows excluded here: the others keep their reason (0).
                        reasons.push((r.row, reason));
                    }
                }
                (reasons, firsts)
            })
            .collect();
        drop(t);
        let t = crate::trace::Phase::start("  number people");
        let mut reasons = row_reasons.to_vec();
        for (rows, _) in &grouped {
            for &(row, r) in rows {
                reasons[row as usize] = r;
            }
        }
        // Person number of a kept row: how many kept rows come before it; counted in parallel
        // ranges of rows, each starting from the kept rows of the ranges before it.
        const RANGE: usize = 1 << 16;
        let before: Vec<u32> = reasons
            .par_chunks(RANGE)
            .map(|part| part.iter().filter(|&&r| r == 0).count() as u32)
            .collect::<Vec<u32>>()
            .into_iter()
            .scan(0u32, |kept, n| {
                let first = *kept;
                *kept += n;
                Some(first)
            })
            .collect();
        let mut rank = vec![NO_PERSON; reasons.len()];
        rank.par_chunks_mut(RANGE)
            .zip(reasons.par_chunks(RANGE))
            .zip(before)
            .for_each(|((rank, part), mut next)| {
                for (k, &r) in rank.iter_mut().zip(part) {
                    if r == 0 {
                        *k = next;
                        next += 1;
                    }
                }
            });
        let kept_rows: Vec<usize> = reasons
            .par_iter()
            .enumerate()
            .filter(|(_, r)| **r == 0)
            .map(|(i, _)| i)
            .collect();
        let firsts: Vec<Vec<(u128, u32)>> = grouped
            .into_par_iter()
            .map(|(_, firsts)| {
                firsts
                    .into_iter()
                    .map(|(id, row)| (id, rank[row as usize]))
                    .collect()
            })
            .collect();
        drop(t);
        let _t = crate::trace::Phase::start("  link table");
        let table = LinkTable::new(&firsts);
        (PersonIndex { table, kept_rows }, reasons)
    }
}

/// An identifier as it is compared: trimmed, and a whole number written with a zero
/// fraction (`123.0`, `123.00`, as pandas writes integer identifiers with a missing value,
/// or a Parquet float or decimal column read as text) as that whole number (`123`), so
/// the same person links whatever the two tables' column types.
pub(super) fn canonical_id(s: &str) -> &str {
    let s = s.trim();
    if let Some(dot) = s.find('.') {
        let (int, frac) = (&s[..dot], &s[dot + 1..]);
        let digits = int.strip_prefix('-').unwrap_or(int);
        if !digits.is_empty()
            && digits.bytes().all(|c| c.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|c| c == b'0')
        {
            return int;
        }
    }
    s
}

/// A 128-bit hash of an identifier from two independently seeded hashers (127 bits of them:
/// the lowest bit is always 1, so a hash is never 0 and neither is its low half).
pub(super) fn id_hash(s: &str) -> u128 {
    let s = canonical_id(s);
    let a = FixedState::with_seed(0x9e37_79b9_7f4a_7c15).hash_one(s);
    let b = FixedState::with_seed(0xc2b2_ae3d_27d4_eb4f).hash_one(s);
    (u128::from(a) << 64) | u128::from(b | 1)
}

/// Identifier hash -> person number of the people kept, as one open-addressing table
/// (linear probing, at most 3/4 full) for probing offence rows as they stream in.
///
/// Offence extracts arrive in date order, so consecutive rows belong to unrelated people
/// and each lookup lands somewhere random in a table of millions of slots. [`LinkTable::probe`]
/// therefore asks the processor for the slot of the row a few places ahead while it looks up
/// the current one (software prefetching), so the memory latencies overlap instead of adding
/// up; no partitioning pass over the rows is needed. Slots are 16 bytes (four to a cache
/// line), and on Linux the table asks for 2 MiB pages, so that a lookup does not also miss
/// the processor's page-translation cache (with 4 KiB pages, a table of 10 million people
/// spans some 65,000 pages).
///
/// The table is split into equal regions by the top bits of the hash (the index's shards,
/// or groups of them), and probing wraps within a region, so the regions are filled in
/// parallel, each from its own shards.
pub(super) struct LinkTable {
    slots: SlotMemory,
    /// log2 of the number of regions.
    region_bits: u32,
    /// Slots per region minus one (a power of two minus one).
    mask: usize,
}

/// One slot: 96 bits of the identifier's hash (the top 64 and the low 32; a low half of 0
/// marks an empty slot, as [`id_hash`] always sets its lowest bit) and the person's number.
/// That a row's identifier agrees with another person's in those 95 random bits is about a
/// 1-in-10^20 chance at 50 million offence rows.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    hi: u64,
    lo: u32,
    person: u32,
}

impl Slot {
    fn key(h: u128) -> (u64, u32) {
        ((h >> 64) as u64, h as u32)
    }

    fn is_empty(&self) -> bool {
        self.lo == 0
    }
}

/// The slots' memory, all zero (empty) at first: an anonymous memory map, which Linux backs
/// with 2 MiB pages when asked, or (should the map fail) a vector.
enum SlotMemory {
    Mapped(memmap2::MmapMut, usize),
    Heap(Vec<Slot>),
}

impl SlotMemory {
    fn zeroed(len: usize) -> SlotMemory {
        let bytes = len.max(1) * std::mem::size_of::<Slot>();
        match memmap2::MmapOptions::new().len(bytes).map_anon() {
            Ok(map) => {
                // A hint: without it the table works the same, on smaller pages.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                SlotMemory::Mapped(map, len)
            }
            Err(_) => SlotMemory::Heap(vec![Slot::default(); len]),
        }
    }

    fn slots(&self) -> &[Slot] {
        match self {
            // SAFETY: the map holds `len` slots' bytes (see `zeroed`), is page-aligned (more
            // than `Slot`'s alignment of 8), and is owned by `self` for the borrow's life;
            // `Slot` is `repr(C)` integers without padding, so any bytes (zero at first) are
            // a valid slot.
            SlotMemory::Mapped(map, len) => unsafe {
                std::slice::from_raw_parts(map.as_ptr().cast::<Slot>(), *len)
            },
            SlotMemory::Heap(v) => v,
        }
    }

    fn slots_mut(&mut self) -> &mut [Slot] {
        match self {
            // SAFETY: as in `slots`, and the borrow of `self` is exclusive.
            SlotMemory::Mapped(map, len) => unsafe {
                std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<Slot>(), *len)
            },
            SlotMemory::Heap(v) => v,
        }
    }
}

/// Where, within its region, the search for a hash starts (before masking): bits above the
/// lowest, which [`id_hash`] always sets (starting from it, only odd slots would be starts).
fn start_slot(h: u128) -> usize {
    (h >> 1) as u64 as usize
}

impl LinkTable {
    /// The table of the people in `shards` (each shard: identifier hash and person number,
    /// shards in order of the hash's top bits).
    fn new(shards: &[Vec<(u128, u32)>]) -> LinkTable {
        // About 64 people a region at least, so small cohorts get a small table.
        let people: usize = shards.iter().map(Vec::len).sum();
        let region_bits = SHARD_BITS.min((people / 64).max(1).ilog2());
        let regions = 1usize << region_bits;
        let per_shard = shards.len().div_ceil(regions).max(1);
        let fullest = shards
            .chunks(per_shard)
            .map(|group| group.iter().map(Vec::len).sum::<usize>())
            .max()
            .unwrap_or(0);
        let size = (fullest + fullest / 3 + 1).next_power_of_two().max(4);
        let mut slots = SlotMemory::zeroed(regions * size);
        slots
            .slots_mut()
            .par_chunks_mut(size)
            .zip(shards.par_chunks(per_shard))
            .for_each(|(region, shards)| {
                for &(id, person) in shards.iter().flatten() {
                    let (hi, lo) = Slot::key(id);
                    let mut s = start_slot(id) & (size - 1);
                    // The region is at most 3/4 full, so an empty slot is always found.
                    while !region[s].is_empty() {
                        s = (s + 1) & (size - 1);
                    }
                    region[s] = Slot { hi, lo, person };
                }
            });
        LinkTable {
            slots,
            region_bits,
            mask: size - 1,
        }
    }

    /// The region's first slot and the slot in it where the search for `h` starts.
    fn home(&self, h: u128) -> (usize, usize) {
        let region = if self.region_bits == 0 {
            0
        } else {
            (h >> (128 - self.region_bits)) as usize
        };
        (region * (self.mask + 1), start_slot(h) & self.mask)
    }

    /// The person of each hash (`NO_PERSON` for 0, a missing identifier, and for
    /// identifiers of no kept person), written to `out`.
    pub(super) fn probe(&self, hashes: &[u128], out: &mut Vec<u32>) {
        const AHEAD: usize = 12;
        out.clear();
        out.reserve(hashes.len());
        for (i, &h) in hashes.iter().enumerate() {
            if let Some(&next) = hashes.get(i + AHEAD) {
                let (region, s) = self.home(next);
                self.prefetch(region + s);
            }
            out.push(self.get(h));
        }
    }

    fn get(&self, h: u128) -> u32 {
        if h == 0 {
            return NO_PERSON;
        }
        let slots = self.slots.slots();
        let (hi, lo) = Slot::key(h);
        let (region, mut s) = self.home(h);
        loop {
            let slot = slots[region + s];
            if slot.hi == hi && slot.lo == lo {
                return slot.person;
            }
            if slot.is_empty() {
                return NO_PERSON;
            }
            s = (s + 1) & self.mask;
        }
    }

    #[inline(always)]
    fn prefetch(&self, s: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots.slots()[s..].as_ptr().cast::<i8>();
            // SAFETY: a prefetch is a hint and never faults; `p` points into `slots`.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every person kept is found under their identifier, whatever the table's size (one
    /// region, or many); identifiers of no one, and missing ones, find no one.
    #[test]
    fn probe_finds_each_person_and_no_one_else() {
        for people in [0u32, 1, 3, 200, 100_000] {
            let ids: Vec<u128> = (0..people).map(|p| id_hash(&format!("P{p}"))).collect();
            let mut shards = vec![Vec::new(); 1 << SHARD_BITS];
            for (person, &id) in ids.iter().enumerate() {
                shards[shard_of(id) as usize].push((id, person as u32));
            }
            let table = LinkTable::new(&shards);
            let mut found = Vec::new();
            table.probe(&ids, &mut found);
            assert_eq!(found, (0..people).collect::<Vec<_>>(), "{people} people");
            let strangers: Vec<u128> = (0..1000)
                .map(|p| id_hash(&format!("Q{p}")))
                .chain([0])
                .collect();
            table.probe(&strangers, &mut found);
            assert!(found.iter().all(|&p| p == NO_PERSON), "{people} people");
        }
    }
}
