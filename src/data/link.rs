//! Linking: one number per person kept, and the person of each offence row.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::cohort::CohortRows;
use super::dates::Day;
use super::quality::Reason;

pub(super) const NO_PERSON: u32 = u32::MAX;

/// The link table is split into up to 2^10 regions by the top bits of the identifier's
/// 128-bit hash; each region is filled, and its people grouped, by one task, in cache.
pub(super) const SHARD_BITS: u32 = 10;

/// The region of a hash among `2^bits` regions.
fn region_of(id: u128, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (id >> (128 - bits)) as usize
    }
}

/// The people kept, and the table that finds each one's number from an identifier's hash.
/// Each identifier is hashed once, when its table is read ([`id_hash`]); grouping and
/// linking compare those hashes, never the text.
pub(super) struct PersonIndex {
    pub(super) table: LinkTable,
    /// The cohort row of each person kept, in row order (person numbers follow it).
    pub(super) kept_rows: Vec<usize>,
}

/// Cohort rows read at a time by one task when they are split by region.
const ROWS_PER_TASK: usize = 1 << 20;

impl PersonIndex {
    /// Groups the usable cohort rows by person, marks repeat index events, people in two
    /// cohorts and index dates after the extract date, and numbers the people kept.
    ///
    /// The rows are grouped in the link table itself: each region's rows go into its slots
    /// (one slot per identifier, holding the row of the person's index event so far: the
    /// earliest index date, the first in the file among equal dates), noting an identifier
    /// seen under two cohorts. The result depends only on each row's identifier, cohort,
    /// index date and place in the file, never on the order the rows are grouped in. Once
    /// the people kept are numbered (in row order), each slot gets its person's number, or
    /// none when no row of the identifier is kept (the slot stays, so that later slots of its
    /// probe sequence are still found).
    pub(super) fn build(
        c: &CohortRows,
        row_reasons: &[u8],
        extract: Option<Day>,
    ) -> (PersonIndex, Vec<u8>) {
        let t = crate::trace::Phase::start("  group by person");
        let (ids, cohort, index) = (&c.id, &c.cohort, &c.index);
        let usable = row_reasons.par_iter().filter(|&&r| r == 0).count();
        // About 64 people a region at least, so small cohorts get a small table.
        let region_bits = SHARD_BITS.min((usable / 64).max(1).ilog2());
        let regions = 1usize << region_bits;
        // The usable rows of each region, from consecutive ranges of rows in parallel.
        // Each row's identifier hash is carried along (read here in file order), so that a
        // region's task reads its rows in one stream instead of gathering them.
        let by_task: Vec<Vec<Vec<(u64, u64, u32)>>> = row_reasons
            .par_chunks(ROWS_PER_TASK)
            .enumerate()
            .map(|(task, reasons)| {
                let first = task * ROWS_PER_TASK;
                let mut out = vec![Vec::new(); regions];
                for (k, &r) in reasons.iter().enumerate() {
                    if r == 0 {
                        let row = first + k;
                        let id = ids[row];
                        out[region_of(id, region_bits)].push((
                            (id >> 64) as u64,
                            id as u64,
                            row as u32,
                        ));
                    }
                }
                out
            })
            .collect();
        let fullest = (0..regions)
            .map(|g| by_task.iter().map(|t| t[g].len()).sum::<usize>())
            .max()
            .unwrap_or(0);
        let mut table = LinkTable::empty(region_bits, fullest);
        let size = table.mask + 1;
        // Per region: its rows into its slots, then each row's reason (only those excluded
        // here are listed: the others keep their reason, 0).
        let excluded: Vec<Vec<(u32, u8)>> = table
            .slots
            .slots_mut()
            .par_chunks_mut(size)
            .enumerate()
            .map(|(g, region)| {
                let rows = || {
                    by_task.iter().flat_map(|t| {
                        t[g].iter().map(|&(hi, lo, row)| {
                            ((u128::from(hi) << 64) | u128::from(lo), row as usize)
                        })
                    })
                };
                let mut two_cohorts: Vec<bool> = vec![false; size];
                // The slot of each row, in the order of `rows`.
                let mut slot_of: Vec<u32> = Vec::new();
                for (id, row) in rows() {
                    let (hi, lo) = Slot::key(id);
                    let mut s = start_slot(id) & (size - 1);
                    // The region is at most 3/4 full, so the identifier or an empty slot is
                    // always found.
                    while !region[s].is_empty() && (region[s].hi, region[s].lo) != (hi, lo) {
                        s = (s + 1) & (size - 1);
                    }
                    slot_of.push(s as u32);
                    if region[s].is_empty() {
                        region[s] = Slot {
                            hi,
                            lo,
                            person: row as u32,
                        };
                        continue;
                    }
                    let best = region[s].person as usize;
                    if cohort[row] != cohort[best] {
                        two_cohorts[s] = true;
                    }
                    if (index[row], row) < (index[best], best) {
                        region[s].person = row as u32;
                    }
                }
                let mut excluded = Vec::new();
                for ((_, row), &s) in rows().zip(&slot_of) {
                    let s = s as usize;
                    let reason = if two_cohorts[s] {
                        Reason::InTwoCohorts as u8
                    } else if region[s].person as usize != row {
                        Reason::RepeatIndexEvent as u8
                    } else if extract.is_some_and(|e| index[row] > e) {
                        Reason::IndexAfterExtract as u8
                    } else {
                        continue;
                    };
                    excluded.push((row as u32, reason));
                }
                excluded
            })
            .collect();
        drop(by_task);
        drop(t);
        let t = crate::trace::Phase::start("  number people");
        let mut reasons = row_reasons.to_vec();
        for rows in &excluded {
            for &(row, r) in rows {
                reasons[row as usize] = r;
            }
        }
        drop(excluded);
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
        drop(t);
        let _t = crate::trace::Phase::start("  link table");
        // Each slot's row becomes its person's number (`NO_PERSON` when the row is not kept).
        table
            .slots
            .slots_mut()
            .par_chunks_mut(size)
            .for_each(|region| {
                for slot in region.iter_mut().filter(|s| !s.is_empty()) {
                    slot.person = rank[slot.person as usize];
                }
            });
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
/// The table is split into equal regions by the top bits of the hash, and probing wraps
/// within a region, so the regions are filled (and the people grouped,
/// [`PersonIndex::build`]) in parallel, each from its own rows.
pub(super) struct LinkTable {
    slots: HugeMemory<Slot>,
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

/// Plain values: `repr(C)` integers without padding, so that any bytes (zero included) are a
/// valid value.
///
/// # Safety
///
/// Only for types of which every bit pattern of their size is a valid value, with an
/// alignment of at most a page (4 KiB).
pub(super) unsafe trait Plain: Copy + Default {}

// SAFETY: `Slot` is `repr(C)`: a u64 and two u32, no padding.
unsafe impl Plain for Slot {}
// SAFETY: any four bytes are an i32.
unsafe impl Plain for i32 {}

/// Memory for values read at random places (the link table's slots, the people's index days
/// while offences are linked), all zero at first: an anonymous memory map, which Linux backs
/// with 2 MiB pages when asked, or (should the map fail) a vector. On 4 KiB pages each random
/// read of a large table also misses the processor's page-translation cache.
pub(super) enum HugeMemory<T: Plain> {
    Mapped(memmap2::MmapMut, usize, std::marker::PhantomData<T>),
    Heap(Vec<T>),
}

impl<T: Plain> HugeMemory<T> {
    pub(super) fn zeroed(len: usize) -> HugeMemory<T> {
        let bytes = len.max(1) * std::mem::size_of::<T>();
        match memmap2::MmapOptions::new().len(bytes).map_anon() {
            Ok(map) => {
                // A hint: without it the table works the same, on smaller pages.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                HugeMemory::Mapped(map, len, std::marker::PhantomData)
            }
            Err(_) => HugeMemory::Heap(vec![T::default(); len]),
        }
    }

    pub(super) fn slots(&self) -> &[T] {
        match self {
            // SAFETY: the map holds `len` values' bytes (see `zeroed`), is page-aligned (at
            // least `T`'s alignment, see `Plain`), and is owned by `self` for the borrow's
            // life; any bytes (zero at first) are a valid `T` (`Plain`).
            HugeMemory::Mapped(map, len, _) => unsafe {
                std::slice::from_raw_parts(map.as_ptr().cast::<T>(), *len)
            },
            HugeMemory::Heap(v) => v,
        }
    }

    pub(super) fn slots_mut(&mut self) -> &mut [T] {
        match self {
            // SAFETY: as in `slots`, and the borrow of `self` is exclusive.
            HugeMemory::Mapped(map, len, _) => unsafe {
                std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<T>(), *len)
            },
            HugeMemory::Heap(v) => v,
        }
    }
}

/// Where, within its region, the search for a hash starts (before masking): bits above the
/// lowest, which [`id_hash`] always sets (starting from it, only odd slots would be starts).
fn start_slot(h: u128) -> usize {
    (h >> 1) as u64 as usize
}

impl LinkTable {
    /// An empty table of `2^region_bits` regions, each with room for `fullest` identifiers
    /// while at most 3/4 full.
    fn empty(region_bits: u32, fullest: usize) -> LinkTable {
        let size = (fullest + fullest / 3 + 1).next_power_of_two().max(4);
        LinkTable {
            slots: HugeMemory::zeroed((1usize << region_bits) * size),
            region_bits,
            mask: size - 1,
        }
    }

    /// The region's first slot and the slot in it where the search for `h` starts.
    fn home(&self, h: u128) -> (usize, usize) {
        let region = region_of(h, self.region_bits);
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
    /// region, or many), numbered in the order of their kept rows; a repeat index event
    /// keeps the earliest row (the first among equal dates), a person under two cohorts is
    /// found as no one; identifiers of no one, and missing ones, find no one.
    #[test]
    fn probe_finds_each_person_and_no_one_else() {
        for people in [0u32, 1, 3, 200, 100_000] {
            let mut ids: Vec<u128> = (0..people).map(|p| id_hash(&format!("P{p}"))).collect();
            let mut cohort = vec![0u32; ids.len()];
            let mut index: Vec<Day> = vec![100; ids.len()];
            let mut expected: Vec<u32> = (0..people).collect();
            if people >= 3 {
                // Person 0 again, indexed earlier: that row is kept, the first is a repeat
                // and person 0 is numbered last. Person 1 again, on the same day: the first
                // row is kept. Person 2 under another cohort: no one.
                ids.extend([ids[0], ids[1], ids[2]]);
                cohort.extend([0, 0, 1]);
                index.extend([50, 100, 100]);
                expected = (0..people)
                    .map(|p| match p {
                        0 => people - 2,
                        2 => NO_PERSON,
                        p => p - 1 - u32::from(p > 2),
                    })
                    .collect();
            }
            let rows = ids.len();
            let c = CohortRows {
                cohort,
                cohort_levels: vec!["a".into(), "b".into()],
                index,
                key: vec![0; rows],
                id: ids.clone(),
                reasons: vec![0; rows],
                columns: Vec::new(),
                warnings: Vec::new(),
            };
            let (index, reasons) = PersonIndex::build(&c, &vec![0; rows], None);
            let mut found = Vec::new();
            index.table.probe(&ids[..people as usize], &mut found);
            assert_eq!(found, expected, "{people} people");
            let kept = reasons.iter().filter(|&&r| r == 0).count();
            assert_eq!(index.kept_rows.len(), kept, "{people} people");
            let strangers: Vec<u128> = (0..1000)
                .map(|p| id_hash(&format!("Q{p}")))
                .chain([0])
                .collect();
            index.table.probe(&strangers, &mut found);
            assert!(found.iter().all(|&p| p == NO_PERSON), "{people} people");
        }
    }
}
