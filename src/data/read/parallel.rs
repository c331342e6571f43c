//! Parallel walks over polars' string and numeric columns, keeping row order, and
//! dictionary-encoding a text column in parallel.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::pl;
use crate::data::table::{Categorical, MISSING};

/// Maps each value of a string column in parallel, keeping order.
pub(crate) fn par_map_str<T, F>(ca: &pl::StringChunked, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Option<&str>) -> T + Sync + Send,
{
    let mut out: Vec<T> = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let mut part: Vec<T> = Vec::with_capacity(arr.len());
        (0..arr.len())
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| f(arr.get(i)))
            .collect_into_vec(&mut part);
        out.append(&mut part);
    }
    out
}

/// Maps each value of a numeric column in parallel, keeping order.
pub(crate) fn par_map_prim<N, T, F>(ca: &pl::ChunkedArray<N>, f: F) -> Vec<T>
where
    N: pl::PolarsNumericType,
    T: Send,
    F: Fn(Option<N::Native>) -> T + Sync + Send,
{
    let mut out: Vec<T> = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let values = arr.values().as_slice();
        let mut part: Vec<T> = Vec::with_capacity(arr.len());
        match arr.validity() {
            None => values
                .par_iter()
                .with_min_len(4096)
                .map(|&v| f(Some(v)))
                .collect_into_vec(&mut part),
            Some(valid) => (0..arr.len())
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| f(valid.get_bit(i).then_some(values[i])))
                .collect_into_vec(&mut part),
        }
        out.append(&mut part);
    }
    out
}

/// Runs `f(first, values)` on consecutive ranges of at most `chunk` values of a string
/// column, in parallel, where `first` is the position of the range's first value in the
/// column; results come back in order.
pub(crate) fn par_str_ranges<'a, T, F>(ca: &'a pl::StringChunked, chunk: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &mut dyn Iterator<Item = Option<&'a str>>) -> T + Sync + Send,
{
    let jobs = str_ranges(ca, chunk);
    jobs.into_par_iter()
        .map(|(arr, first, start, end)| f(first, &mut (start..end).map(|i| arr.get(i))))
        .collect()
}

/// Maps each value of a string column in parallel to a pair, written straight into two
/// vectors (no per-range parts to join: at 10 million identifiers those would be another
/// 240 MB written and copied).
pub(crate) fn par_unzip_str<A, B, F>(ca: &pl::StringChunked, f: F) -> (Vec<A>, Vec<B>)
where
    A: Send + Copy + Default,
    B: Send + Copy + Default,
    F: Fn(Option<&str>) -> (A, B) + Sync + Send,
{
    let mut a = vec![A::default(); ca.len()];
    let mut b = vec![B::default(); ca.len()];
    // Each range of the column gets its own parts of both vectors, in order.
    let mut jobs = Vec::new();
    let (mut rest_a, mut rest_b) = (a.as_mut_slice(), b.as_mut_slice());
    for (arr, _, start, end) in str_ranges(ca, 1 << 16) {
        let (part_a, tail_a) = std::mem::take(&mut rest_a).split_at_mut(end - start);
        let (part_b, tail_b) = std::mem::take(&mut rest_b).split_at_mut(end - start);
        (rest_a, rest_b) = (tail_a, tail_b);
        jobs.push((arr, start, part_a, part_b));
    }
    jobs.into_par_iter()
        .for_each(|(arr, start, part_a, part_b)| {
            for (k, (x, y)) in part_a.iter_mut().zip(part_b.iter_mut()).enumerate() {
                (*x, *y) = f(arr.get(start + k));
            }
        });
    (a, b)
}

/// The array type of a string column's chunks.
type StrArray = <pl::StringType as pl::PolarsDataType>::Array;

/// Consecutive ranges of at most `chunk` values of a string column: each range's array,
/// the position of its first value in the column, and its start and end in the array.
fn str_ranges(ca: &pl::StringChunked, chunk: usize) -> Vec<(&StrArray, usize, usize, usize)> {
    let mut ranges = Vec::new();
    let mut offset = 0;
    for arr in ca.downcast_iter() {
        let mut start = 0;
        while start < arr.len() {
            let end = (start + chunk).min(arr.len());
            ranges.push((arr, offset + start, start, end));
            start = end;
        }
        offset += arr.len();
    }
    ranges
}

/// Dictionary-encodes a text column in parallel: the code of each value (`MISSING` for a
/// missing or blank one) and the label of each code (trimmed), in order of first appearance.
///
/// Each range of values gets its own dictionary, merged at the end. Parquet's dictionary
/// pages decode into identical 16-byte views (the value itself when short, or the same
/// place in a shared buffer), so a small cache keyed by the view codes most values without
/// reading or hashing their text.
pub(crate) fn dictionary_codes(ca: &pl::StringChunked) -> (Vec<u32>, Vec<String>) {
    const RANGE: usize = 1 << 16;
    const VIEWS_CACHED: usize = 1 << 12;
    let parts: Vec<(Vec<&str>, Vec<u32>)> = str_ranges(ca, RANGE)
        .into_par_iter()
        .map(|(arr, _, start, end)| {
            let views = arr.views();
            let mut by_view: HashMap<u128, u32, FixedState> = HashMap::default();
            let mut by_text: HashMap<&str, u32, FixedState> = HashMap::default();
            let mut levels: Vec<&str> = Vec::new();
            let codes = (start..end)
                .map(|i| {
                    let Some(text) = arr.get(i) else {
                        return MISSING;
                    };
                    let view = views[i].as_u128();
                    if let Some(&code) = by_view.get(&view) {
                        return code;
                    }
                    let text = text.trim();
                    let code = if text.is_empty() {
                        MISSING
                    } else {
                        *by_text.entry(text).or_insert_with(|| {
                            levels.push(text);
                            (levels.len() - 1) as u32
                        })
                    };
                    if by_view.len() < VIEWS_CACHED {
                        by_view.insert(view, code);
                    }
                    code
                })
                .collect();
            (levels, codes)
        })
        .collect();
    let mut global: HashMap<&str, u32, FixedState> = HashMap::default();
    let mut levels: Vec<String> = Vec::new();
    let remaps: Vec<Vec<u32>> = parts
        .iter()
        .map(|(local_levels, _)| {
            local_levels
                .iter()
                .map(|s| {
                    *global.entry(s).or_insert_with(|| {
                        levels.push(s.to_string());
                        (levels.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
    for ((_, local), remap) in parts.iter().zip(&remaps) {
        let mut part: Vec<u32> = Vec::with_capacity(local.len());
        local
            .par_iter()
            .with_min_len(4096)
            .map(|&c| {
                if c == MISSING {
                    MISSING
                } else {
                    remap[c as usize]
                }
            })
            .collect_into_vec(&mut part);
        codes.append(&mut part);
    }
    (codes, levels)
}

/// [`dictionary_codes`] as a [`Categorical`] with sorted levels.
pub(crate) fn encode_categorical(ca: &pl::StringChunked) -> Categorical {
    let (codes, levels) = dictionary_codes(ca);
    Categorical::sorted(levels, codes)
}
