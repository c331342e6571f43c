//! Sums over rows that are parallel and yet the same on any number of threads: the rows are
//! cut into blocks of a fixed size ([`ROWS`], whatever the thread count), each block is
//! summed in row order on one thread, and the blocks' sums are added in block order. The
//! result depends on the rows and their order only, never on how many threads ran.
//!
//! With at most one block (every data set under [`ROWS`] rows, such as the bundled sample)
//! the result is the first block's own sums, exactly what one pass in row order gives.

use rayon::prelude::*;

/// Rows in a block. A constant: block boundaries, and so every sum, do not depend on the
/// number of threads.
pub(crate) const ROWS: usize = 1 << 16;

/// Folds the rows `0..n` in blocks of [`ROWS`]: each block starts from `init()` and calls
/// `fold(&mut acc, i)` for its rows in order (blocks run in parallel); the blocks' results
/// are then merged in block order into the first one by `merge(&mut first, next)`. With
/// `n <= ROWS` that is `init()` folded over every row in order, with no merge.
pub(crate) fn fold_rows<A: Send>(
    n: usize,
    init: impl Fn() -> A + Sync,
    fold: impl Fn(&mut A, usize) + Sync,
    merge: impl Fn(&mut A, A),
) -> A {
    fold_ranges(&block_starts(n), n, init, fold, merge)
}

/// The first row of each block of [`ROWS`] rows in `0..n` (none when `n` is 0).
pub(crate) fn block_starts(n: usize) -> Vec<usize> {
    (0..n.div_ceil(ROWS)).map(|b| b * ROWS).collect()
}

/// [`fold_rows`] on given blocks: block `b` is the rows `starts[b]..starts[b + 1]` (the last
/// ends at `n`). `starts` must increase and begin at 0 (or be empty for no rows).
pub(crate) fn fold_ranges<A: Send>(
    starts: &[usize],
    n: usize,
    init: impl Fn() -> A + Sync,
    fold: impl Fn(&mut A, usize) + Sync,
    merge: impl Fn(&mut A, A),
) -> A {
    let end = |b: usize| starts.get(b + 1).copied().unwrap_or(n);
    let block = |b: usize| {
        let mut acc = init();
        for i in starts[b]..end(b) {
            fold(&mut acc, i);
        }
        acc
    };
    match starts.len() {
        0 => init(),
        1 => block(0),
        _ => {
            let sums: Vec<A> = (0..starts.len()).into_par_iter().map(block).collect();
            let mut sums = sums.into_iter();
            // At least two blocks (this arm), so a first one exists.
            let mut total = sums.next().unwrap_or_else(&init);
            for s in sums {
                merge(&mut total, s);
            }
            total
        }
    }
}

/// Adds `b` to `a` element by element (the merge of blocks whose sums are vectors).
pub(crate) fn add_into(a: &mut [f64], b: &[f64]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(n: usize) -> f64 {
        fold_rows(
            n,
            || 0.0f64,
            |s, i| *s += 1.0 / (1.0 + i as f64),
            |a, b| *a += b,
        )
    }

    #[test]
    fn one_block_is_the_plain_sum() {
        let n = ROWS - 3;
        let plain: f64 = (0..n).fold(0.0, |s, i| s + 1.0 / (1.0 + i as f64));
        assert_eq!(sum(n).to_bits(), plain.to_bits());
        assert_eq!(sum(0), 0.0);
    }

    #[test]
    fn blocks_are_added_in_order_whatever_the_threads() {
        let n = 3 * ROWS + 17;
        let expected = {
            let blocks: Vec<f64> = block_starts(n)
                .iter()
                .map(|&s| (s..(s + ROWS).min(n)).fold(0.0, |a, i| a + 1.0 / (1.0 + i as f64)))
                .collect();
            blocks[1..].iter().fold(blocks[0], |a, b| a + b)
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map(|p| p.install(|| sum(n)));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .map(|p| p.install(|| sum(n)));
        assert_eq!(sum(n).to_bits(), expected.to_bits());
        assert_eq!(one.map(f64::to_bits).ok(), Some(expected.to_bits()));
        assert_eq!(four.map(f64::to_bits).ok(), Some(expected.to_bits()));
    }
}
