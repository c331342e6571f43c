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
}

impl Terms<'_> {
    /// The number of terms (k).
    pub fn terms(&self) -> usize {
        match self {
            Terms::Columns(c) => c.len(),
            Terms::RowMajor { terms, .. } => *terms,
        }
    }

    /// Checks that the terms hold `n` rows.
    pub(crate) fn check_rows(&self, n: usize) -> Result<(), DesignError> {
        let ok = match self {
            Terms::Columns(c) => c.iter().all(|col| col.len() == n),
            Terms::RowMajor { values, terms } => values.len() == n * terms,
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
