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
#[derive(Debug, Clone, PartialEq)]
pub struct SparseTerms {
    terms: usize,
    /// Row `i`'s values are `term[start[i]..start[i + 1]]` and likewise in `value`.
    start: Vec<usize>,
    /// Term index of each value, increasing within a row.
    term: Vec<u32>,
    value: Vec<f64>,
    dense: bool,
}

impl SparseTerms {
    /// The values not zero of the first `n` rows of `columns` (term `j` of row `i` is
    /// `columns[j][i]`; every column holds at least `n` values).
    pub fn from_columns(columns: &[Vec<f64>], n: usize) -> SparseTerms {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 16;
        let dense = columns
            .par_iter()
            .any(|c| c[..n].iter().any(|v| !v.is_finite()));
        // Chunks of rows in parallel, joined in order: the same layout on any number of
        // threads.
        let parts: Vec<(Vec<u32>, Vec<u32>, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = c * CHUNK..((c + 1) * CHUNK).min(n);
                let mut len = Vec::with_capacity(rows.len());
                let mut term = Vec::new();
                let mut value = Vec::new();
                for i in rows {
                    let before = term.len();
                    for (j, col) in columns.iter().enumerate() {
                        if dense || col[i] != 0.0 {
                            term.push(j as u32);
                            value.push(col[i]);
                        }
                    }
                    len.push((term.len() - before) as u32);
                }
                (len, term, value)
            })
            .collect();
        let total: usize = parts.iter().map(|p| p.1.len()).sum();
        let mut out = SparseTerms {
            terms: columns.len(),
            start: Vec::with_capacity(n + 1),
            term: Vec::with_capacity(total),
            value: Vec::with_capacity(total),
            dense,
        };
        let mut at = 0usize;
        for (len, term, value) in parts {
            for l in len {
                out.start.push(at);
                at += l as usize;
            }
            out.term.extend_from_slice(&term);
            out.value.extend_from_slice(&value);
        }
        out.start.push(at);
        out
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

    /// The terms as columns (`columns[j][i]`).
    pub fn to_columns(&self) -> Vec<Vec<f64>> {
        let mut columns = vec![vec![0.0; self.rows()]; self.terms];
        for i in 0..self.rows() {
            let (terms, values) = self.row(i);
            for (&j, &v) in terms.iter().zip(values) {
                columns[j as usize][i] = v;
            }
        }
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
