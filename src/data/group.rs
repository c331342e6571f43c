//! Grouping linked offences by person and marking exact duplicates.

use rayon::prelude::*;

use super::dates::Day;
use super::offences::{Detail, OffenceRows};
use super::quality::Reason;
use super::table::{Categorical, MISSING, Offences};

/// One usable offence row as grouping moves it: 24 bytes, so a person's rows are gathered
/// with one scattered write each instead of a random read per column.
#[derive(Clone, Copy, Default)]
pub(super) struct Compact {
    pub(super) person: u32,
    pub(super) offence: Day,
    pub(super) disposal: Day,
    pub(super) offence_type: u32,
    pub(super) disposal_kind: u32,
    pub(super) row: u32,
}

/// Groups linked offences by person, sorts each person's offences by offence date,
/// disposal date and row, and marks exact duplicates (same person, dates, offence type and
/// disposal; the lowest row of each set of identical rows is kept).
// Over 80 lines: one radix sort and duplicate pass over the linked rows; splitting it would copy
// the row buffers between functions.
pub(super) fn group_offences(
    off: &mut OffenceRows,
    n_people: usize,
    keep_details: bool,
) -> Offences {
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
