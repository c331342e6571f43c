//! The covariate terms, read row by row without copying them: column-major data are
//! gathered a block of rows at a time into a small row-major buffer, so every pass over the
//! terms is one sequential sweep whatever the layout.

use super::DesignError;

/// Rows gathered at a time from column-major terms (a 256 x k buffer stays in cache).
const BLOCK: usize = 256;

/// Covariate terms of `n` people: no intercept; categorical covariates already as 0/1
/// indicator terms (`column=level`), as the main tree's `Design` builds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Terms<'a> {
    /// Column-major: `columns[j][i]` is term `j` of person `i` (the layout of
    /// `Design::columns` and of [`logistic`](crate::stats::logistic)).
    Columns(&'a [Vec<f64>]),
    /// Row-major: person `i`'s terms are `values[i * terms..(i + 1) * terms]`.
    RowMajor {
        /// The values, one row after another.
        values: &'a [f64],
        /// Terms per row (k).
        terms: usize,
    },
    /// By row, only the values that are not zero ([`SparseTerms`]: the compact form the
    /// matching stage builds once and every model and design reads).
    Sparse(&'a SparseTerms),
}

/// Covariate terms of `n` people stored by row, only the values that are not zero (no
/// intercept): a categorical covariate of L levels is L - 1 indicator terms of which a row
/// has at most one not zero, so a row of a design with 20 terms typically holds 5 values.
/// Built once from a design's columns and shared by the propensity model, the outcome
/// models and every weighting design, instead of each gathering the columns again.
///
/// Sums over a row's values skip only exact zeros, whose products add nothing to a sum
/// (they could change only the sign of a zero). With a value that is not finite anywhere
/// every term of every row is kept (0 times infinity is not zero), as the dense sums would.
#[derive(Debug, Clone)]
pub struct SparseTerms {
    terms: usize,
    /// Row `i`'s values are `term[start[i]..start[i + 1]]` and likewise in `value`.
    start: Vec<usize>,
    /// Term index of each value, increasing within a row.
    term: Vec<u32>,
    value: Vec<f64>,
    dense: bool,
    /// The distinct rows, found on first use ([`SparseTerms::distinct`]) and shared by every
    /// model fitted on these terms.
    distinct: std::sync::OnceLock<std::sync::Arc<Distinct>>,
}

/// Two sets of terms are equal when their rows are (the cache of distinct rows is left out).
impl PartialEq for SparseTerms {
    fn eq(&self, other: &SparseTerms) -> bool {
        self.terms == other.terms
            && self.start == other.start
            && self.term == other.term
            && self.value == other.value
            && self.dense == other.dense
    }
}

/// The distinct rows of a [`SparseTerms`] (equal terms and values, bit for bit) and which of
/// them each row is. The covariates are few and discrete, so millions of people share far
/// fewer rows: a model whose sums are linear in each row's outcome (counts of people and
/// sums of outcomes a row) is fitted on these with the counts as frequency weights.
///
/// The distinct rows are in an order fixed by their values alone (term numbers, then the
/// values by `total_cmp`, row against row), not by where they first occur, so sums over them
/// do not depend on the order of the input rows.
#[derive(Debug)]
pub(crate) struct Distinct {
    /// The distinct rows, in the order above.
    pub(crate) rows: SparseTerms,
    /// `of[i]`: the distinct row that row `i` is.
    pub(crate) of: Vec<u32>,
}

impl Distinct {
    /// Per distinct row: how many rows `i` with `keep(i)` it stands for, and the sum of their
    /// `y(i)`. `None` when some kept `y(i)` is not a whole number below 2^53 in size: sums of
    /// those are exact in any order (so fixed by the data), other values' sums would depend
    /// on the rows' order, and the caller then sums row by row.
    pub(crate) fn totals(
        &self,
        keep: impl Fn(usize) -> bool,
        y: impl Fn(usize) -> f64,
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        let m = self.rows.rows();
        let (mut count, mut sum) = (vec![0.0; m], vec![0.0; m]);
        let mut total = 0.0f64;
        for (i, &d) in self.of.iter().enumerate() {
            if keep(i) {
                let v = y(i);
                if v.fract() != 0.0 || v.abs() >= EXACT {
                    return None;
                }
                total += v.abs();
                count[d as usize] += 1.0;
                sum[d as usize] += v;
            }
        }
        // Every partial sum below 2^53 in size: every addition above was exact.
        (total < EXACT).then_some((count, sum))
    }
}

impl SparseTerms {
    /// The values not zero of the first `n` rows of `columns` (term `j` of row `i` is
    /// `columns[j][i]`; every column holds at least `n` values). Only +0 is left out: a -0
    /// is kept, so that [`row_into`](Self::row_into) and [`column`](Self::column) give back
    /// every value bit for bit.
    pub fn from_columns(columns: &[Vec<f64>], n: usize) -> SparseTerms {
        use rayon::prelude::*;
        let dense = columns
            .par_iter()
            .any(|c| c[..n].iter().any(|v| !v.is_finite()));
        let kept = |v: f64| dense || v.to_bits() != 0;
        Self::from_rows(
            columns.len(),
            n,
            dense,
            |i| columns.iter().filter(|c| kept(c[i])).count(),
            |i, t, v| {
                let mut k = 0;
                for (j, c) in columns.iter().enumerate() {
                    if kept(c[i]) {
                        t[k] = j as u32;
                        v[k] = c[i];
                        k += 1;
                    }
                }
            },
        )
    }

    /// `n` rows of `terms` terms, row `i` holding `count(i)` values that `fill(i, t, v)`
    /// writes (terms increasing): what [`from_columns`](Self::from_columns) gives when
    /// `count` and `fill` keep the values it keeps (`dense`: every value, because some value
    /// is not finite; else every value but +0). Two passes, rows in parallel blocks: the
    /// values of each row are counted, then written straight into their places (no second
    /// copy of the values, and no dense column of the terms).
    pub(crate) fn from_rows(
        terms: usize,
        n: usize,
        dense: bool,
        count: impl Fn(usize) -> usize + Sync,
        fill: impl Fn(usize, &mut [u32], &mut [f64]) + Sync,
    ) -> SparseTerms {
        use rayon::prelude::*;
        let counts: Vec<u32> = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| count(i) as u32)
            .collect();
        let mut start = Vec::with_capacity(n + 1);
        let mut at = 0usize;
        for c in &counts {
            start.push(at);
            at += *c as usize;
        }
        start.push(at);
        drop(counts);
        let mut term = vec![0u32; at];
        let mut value = vec![0.0f64; at];
        fill_blocks(&start, &mut term, &mut value, fill);
        SparseTerms {
            terms,
            start,
            term,
            value,
            dense,
            distinct: std::sync::OnceLock::new(),
        }
    }

    /// The distinct rows and which of them each row is (found once, then shared).
    pub(crate) fn distinct(&self) -> &Distinct {
        self.distinct
            .get_or_init(|| std::sync::Arc::new(self.find_distinct()))
    }

    /// [`distinct`](Self::distinct), computed: a row equal to the row before it (the common
    /// case: designs come sorted by their values) is found without a look-up, others through
    /// a hash map; then the distinct rows are sorted by their values and numbered in that
    /// order.
    fn find_distinct(&self) -> Distinct {
        use std::collections::HashMap;
        use std::collections::hash_map::Entry;
        /// A row as a key: its terms and its values' bits.
        #[derive(PartialEq, Eq, Hash)]
        struct Key<'a>(&'a [u32], Vec<u64>);
        let n = self.rows();
        let key = |i: usize| {
            let (t, v) = self.row(i);
            Key(t, v.iter().map(|x| x.to_bits()).collect())
        };
        let same = |a: usize, b: usize| {
            let ((ta, va), (tb, vb)) = (self.row(a), self.row(b));
            ta == tb && va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        let mut of = vec![0u32; n];
        let mut firsts: Vec<usize> = Vec::new();
        let mut seen: HashMap<Key<'_>, u32> = HashMap::new();
        for i in 0..n {
            if i > 0 && same(i - 1, i) {
                of[i] = of[i - 1];
                continue;
            }
            of[i] = match seen.entry(key(i)) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    firsts.push(i);
                    *e.insert(firsts.len() as u32 - 1)
                }
            };
        }
        drop(seen);
        // The distinct rows by their values: term numbers and values (`total_cmp`) in turn,
        // then the shorter row first. Distinct rows differ, so the order is total.
        let cmp = |a: usize, b: usize| {
            let ((ta, va), (tb, vb)) = (self.row(a), self.row(b));
            ta.iter()
                .zip(va)
                .zip(tb.iter().zip(vb))
                .map(|((ja, xa), (jb, xb))| ja.cmp(jb).then(xa.total_cmp(xb)))
                .find(|o| o.is_ne())
                .unwrap_or(ta.len().cmp(&tb.len()))
        };
        let mut order: Vec<u32> = (0..firsts.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| cmp(firsts[a as usize], firsts[b as usize]));
        let mut rank = vec![0u32; firsts.len()];
        for (r, &d) in order.iter().enumerate() {
            rank[d as usize] = r as u32;
        }
        {
            use rayon::prelude::*;
            of.par_iter_mut()
                .with_min_len(4096)
                .for_each(|d| *d = rank[*d as usize]);
        }
        let rows_sorted: Vec<usize> = order.iter().map(|&d| firsts[d as usize]).collect();
        Distinct {
            rows: self.pick(&rows_sorted),
            of,
        }
    }

    /// The rows `rows` (row numbers, in that order).
    pub(crate) fn pick(&self, rows: &[usize]) -> SparseTerms {
        let mut start = Vec::with_capacity(rows.len() + 1);
        let mut at = 0usize;
        for &i in rows {
            start.push(at);
            at += self.start[i + 1] - self.start[i];
        }
        start.push(at);
        let mut term = vec![0u32; at];
        let mut value = vec![0.0f64; at];
        fill_blocks(&start, &mut term, &mut value, |k, t, v| {
            let (a, b) = self.row(rows[k]);
            t.copy_from_slice(a);
            v.copy_from_slice(b);
        });
        SparseTerms {
            terms: self.terms,
            start,
            term,
            value,
            dense: self.dense,
            distinct: std::sync::OnceLock::new(),
        }
    }

    /// The rows `i` for which `keep[i]` holds, in order.
    pub fn select(&self, keep: &[bool]) -> SparseTerms {
        let rows: Vec<usize> = (0..self.rows()).filter(|&i| keep[i]).collect();
        self.pick(&rows)
    }

    /// Term `j` of every row (`columns[j]` of the columns it was built from).
    pub fn column(&self, j: usize) -> Vec<f64> {
        use rayon::prelude::*;
        (0..self.rows())
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| {
                let (t, v) = self.row(i);
                t.iter()
                    .position(|&x| x as usize == j)
                    .map_or(0.0, |k| v[k])
            })
            .collect()
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.start.len() - 1
    }

    /// The number of terms (k).
    pub fn terms(&self) -> usize {
        self.terms
    }

    /// Whether every term of every row is kept (some value is not finite).
    pub fn is_dense(&self) -> bool {
        self.dense
    }

    /// Row `i`'s terms (increasing) and their values.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.start[i]..self.start[i + 1];
        (&self.term[r.clone()], &self.value[r])
    }

    /// Writes row `i` into `buf` (length k), zeros included.
    pub fn row_into(&self, i: usize, buf: &mut [f64]) {
        buf.iter_mut().for_each(|v| *v = 0.0);
        let (terms, values) = self.row(i);
        for (&j, &v) in terms.iter().zip(values) {
            buf[j as usize] = v;
        }
    }

    /// For each term, whether it has the same value (`==`) in every row, as
    /// `column.iter().all(|v| *v == column[0])` would say.
    pub fn constant(&self) -> Vec<bool> {
        let k = self.terms;
        let mut same = vec![true; k];
        if self.rows() == 0 {
            return same;
        }
        let mut first = vec![0.0; k];
        self.row_into(0, &mut first);
        let mut row = vec![0.0; k];
        for i in 1..self.rows() {
            if !same.iter().any(|s| *s) {
                break;
            }
            self.row_into(i, &mut row);
            for j in 0..k {
                if same[j] && row[j] != first[j] {
                    same[j] = false;
                }
            }
        }
        // A value unequal to itself (NaN) in the first row makes its term not constant.
        for j in 0..k {
            if first[j].is_nan() {
                same[j] = false;
            }
        }
        same
    }

    /// The terms as columns (`columns[j][i]`).
    pub fn to_columns(&self) -> Vec<Vec<f64>> {
        let mut columns = vec![vec![0.0; self.rows()]; self.terms];
        (0..self.rows()).for_each(|i| {
            let (terms, values) = self.row(i);
            for (&j, &v) in terms.iter().zip(values) {
                columns[j as usize][i] = v;
            }
        });
        columns
    }
}

impl Terms<'_> {
    /// The number of terms (k).
    pub fn terms(&self) -> usize {
        match self {
            Terms::Columns(c) => c.len(),
            Terms::RowMajor { terms, .. } => *terms,
            Terms::Sparse(s) => s.terms(),
        }
    }

    /// Checks that the terms hold `n` rows.
    pub(crate) fn check_rows(&self, n: usize) -> Result<(), DesignError> {
        let ok = match self {
            Terms::Columns(c) => c.iter().all(|col| col.len() == n),
            Terms::RowMajor { values, terms } => values.len() == n * terms,
            Terms::Sparse(s) => s.rows() == n,
        };
        if ok {
            Ok(())
        } else {
            Err(DesignError::Shape {
                what: format!("the covariate terms do not have one row for each of the {n} people"),
            })
        }
    }

    /// Calls `f(i, row)` for every row `i` in `0..n` in order, `row` holding its k terms.
    /// The rows must have been checked with [`Terms::check_rows`].
    pub(crate) fn for_each_row(&self, n: usize, mut f: impl FnMut(usize, &[f64])) {
        match *self {
            Terms::RowMajor { values, terms } => {
                if terms == 0 {
                    (0..n).for_each(|i| f(i, &[]));
                } else {
                    values
                        .chunks_exact(terms)
                        .take(n)
                        .enumerate()
                        .for_each(|(i, r)| f(i, r));
                }
            }
            Terms::Columns(columns) => {
                let k = columns.len();
                if k == 0 {
                    (0..n).for_each(|i| f(i, &[]));
                    return;
                }
                let mut buf = vec![0.0; BLOCK * k];
                let mut start = 0;
                while start < n {
                    let len = BLOCK.min(n - start);
                    for (j, col) in columns.iter().enumerate() {
                        for (r, v) in col[start..start + len].iter().enumerate() {
                            buf[r * k + j] = *v;
                        }
                    }
                    for (r, row) in buf.chunks_exact(k).take(len).enumerate() {
                        f(start + r, row);
                    }
                    start += len;
                }
            }
            Terms::Sparse(s) => {
                let mut buf = vec![0.0; s.terms()];
                for i in 0..n {
                    s.row_into(i, &mut buf);
                    f(i, &buf);
                }
            }
        }
    }

    /// Copies row `i` into `buf` (length k). `i` must be below the checked row count.
    pub(crate) fn row_into(&self, i: usize, buf: &mut [f64]) {
        match *self {
            Terms::RowMajor { values, terms } => {
                buf.copy_from_slice(&values[i * terms..(i + 1) * terms]);
            }
            Terms::Columns(columns) => {
                for (b, col) in buf.iter_mut().zip(columns) {
                    *b = col[i];
                }
            }
            Terms::Sparse(s) => s.row_into(i, buf),
        }
    }
}

/// Fills `term` and `value` row by row, in parallel blocks of rows: `fill(i, t, v)` writes
/// row `i`'s `start[i + 1] - start[i]` values.
fn fill_blocks(
    start: &[usize],
    term: &mut [u32],
    value: &mut [f64],
    fill: impl Fn(usize, &mut [u32], &mut [f64]) + Sync,
) {
    use rayon::prelude::*;
    const ROWS: usize = 1 << 14;
    let n = start.len() - 1;
    let mut blocks = Vec::with_capacity(n.div_ceil(ROWS));
    let (mut t, mut v) = (term, value);
    for b in 0..n.div_ceil(ROWS) {
        let (lo, hi) = (b * ROWS, ((b + 1) * ROWS).min(n));
        let len = start[hi] - start[lo];
        let (tb, tr) = t.split_at_mut(len);
        let (vb, vr) = v.split_at_mut(len);
        blocks.push((lo, hi, tb, vb));
        (t, v) = (tr, vr);
    }
    blocks.into_par_iter().for_each(|(lo, hi, tb, vb)| {
        let base = start[lo];
        for i in lo..hi {
            let (a, b) = (start[i] - base, start[i + 1] - base);
            fill(i, &mut tb[a..b], &mut vb[a..b]);
        }
    });
}

/// Per-group summaries of the terms from one pass (Welford's updates), with the checks that
/// every value is finite.
#[derive(Debug, Clone)]
pub(crate) struct GroupMoments {
    /// People in the group.
    pub n: usize,
    /// Means of the terms.
    pub mean: Vec<f64>,
    /// Sums of squared deviations from the mean.
    pub m2: Vec<f64>,
    /// Smallest value of each term.
    pub min: Vec<f64>,
    /// Largest value of each term.
    pub max: Vec<f64>,
}

impl GroupMoments {
    fn new(k: usize) -> GroupMoments {
        GroupMoments {
            n: 0,
            mean: vec![0.0; k],
            m2: vec![0.0; k],
            min: vec![f64::INFINITY; k],
            max: vec![f64::NEG_INFINITY; k],
        }
    }

    fn push(&mut self, row: &[f64]) {
        self.n += 1;
        let n = self.n as f64;
        for (j, &x) in row.iter().enumerate() {
            let d = x - self.mean[j];
            self.mean[j] += d / n;
            self.m2[j] += d * (x - self.mean[j]);
            self.min[j] = self.min[j].min(x);
            self.max[j] = self.max[j].max(x);
        }
    }

    /// Sample variances (n - 1 denominators; 0 for fewer than two people).
    pub fn variance(&self) -> Vec<f64> {
        self.m2
            .iter()
            .map(|m| {
                if self.n > 1 {
                    m / (self.n - 1) as f64
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// What the first pass over the terms gives: each group's moments and the weighted sums of
/// the terms under the two weightings fixed by the propensity score (ATT odds and overlap).
#[derive(Debug, Clone)]
pub(crate) struct FirstPass {
    /// Comparison people.
    pub control: GroupMoments,
    /// Pilot people.
    pub treated: GroupMoments,
    /// `Σ_C w x` with `w = e/(1-e)`.
    pub ipw_control: Vec<f64>,
    /// `Σ_T (1-e) x`.
    pub overlap_treated: Vec<f64>,
    /// `Σ_C e x`.
    pub overlap_control: Vec<f64>,
}

/// One pass over the terms: moments by group, the weighted sums, and the finiteness check.
pub(crate) fn first_pass(
    terms: &Terms<'_>,
    names: &[String],
    treated: &[bool],
    propensity: &[f64],
) -> Result<FirstPass, DesignError> {
    let k = terms.terms();
    let mut out = FirstPass {
        control: GroupMoments::new(k),
        treated: GroupMoments::new(k),
        ipw_control: vec![0.0; k],
        overlap_treated: vec![0.0; k],
        overlap_control: vec![0.0; k],
    };
    let mut bad: Option<(usize, usize)> = None;
    terms.for_each_row(treated.len(), |i, row| {
        if bad.is_some() {
            return;
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            bad = Some((i, j));
            return;
        }
        let e = propensity[i];
        if treated[i] {
            out.treated.push(row);
            for (s, x) in out.overlap_treated.iter_mut().zip(row) {
                *s += (1.0 - e) * x;
            }
        } else {
            out.control.push(row);
            let odds = e / (1.0 - e);
            for ((a, b), x) in out
                .ipw_control
                .iter_mut()
                .zip(out.overlap_control.iter_mut())
                .zip(row)
            {
                *a += odds * x;
                *b += e * x;
            }
        }
    });
    if let Some((row, j)) = bad {
        return Err(DesignError::NonFinite {
            what: format!("term `{}`", names[j]),
            row,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three columns (a 0/1, a level indicator and a small count), rows in the order `perm`.
    fn columns(perm: &[usize]) -> Vec<Vec<f64>> {
        let value = |i: usize, j: usize| match j {
            0 => (i % 2) as f64,
            1 => f64::from(i % 3 == 0),
            _ => ((i * 7) % 5) as f64,
        };
        (0..3)
            .map(|j| perm.iter().map(|&i| value(i, j)).collect())
            .collect()
    }

    /// The distinct rows do not depend on the rows' order, and each row maps to its own.
    #[test]
    fn distinct_rows_are_fixed_by_the_values() {
        let n = 200;
        let identity: Vec<usize> = (0..n).collect();
        let shuffled: Vec<usize> = (0..n).map(|i| (i * 77) % n).collect();
        let (a, b) = (
            SparseTerms::from_columns(&columns(&identity), n),
            SparseTerms::from_columns(&columns(&shuffled), n),
        );
        let (da, db) = (a.distinct(), b.distinct());
        assert_eq!(da.rows, db.rows);
        assert_eq!(da.rows.rows(), 2 * 2 * 5);
        for (t, d) in [(&a, da), (&b, db)] {
            for i in 0..n {
                assert_eq!(t.row(i), d.rows.row(d.of[i] as usize));
            }
        }
        let (count, sum) = da
            .totals(|i| i % 4 != 0, |i| (i % 3) as f64)
            .unwrap_or_default();
        assert_eq!(count.iter().sum::<f64>(), 150.0);
        assert_eq!(
            sum.iter().sum::<f64>(),
            (0..n)
                .filter(|i| i % 4 != 0)
                .map(|i| (i % 3) as f64)
                .sum::<f64>()
        );
        assert!(da.totals(|_| true, |_| 0.5).is_none());
    }
}
