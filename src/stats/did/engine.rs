//! The least-squares engine behind every estimate in this module: a two-way fixed effects
//! regression on people, assembled from per-cell and per-area sufficient statistics.
//!
//! Columns, in order: the `p` cell-level regressors of interest (D, or the event-study
//! indicators), one dummy per area (no intercept: the area dummies span it), one dummy per
//! period but the first, then the `k` person-level covariates. This spans the same space as
//! statsmodels' `y ~ D + C(area) + C(period)` (intercept + G-1 + T-1 dummies), so K agrees
//! and so does the CR1 factor `G/(G-1)·(N-1)/(N-K)`.
//!
//! Within a cell every column but the covariates is constant, so with `w_c` that part of the
//! row, `X'X = Σ_c n_c w_c w_c' + Σ_c (w_c Σx_c' + Σx_c w_c') + Σ_g Σxx'_g` and
//! `X'y = Σ_c w_c Σy_c + Σ_g Σxy_g` (covariate blocks in the obvious places). Each cluster's
//! score `Σ_{i in g} x_i (y_i - x_i'b) = X_g'y_g - X_g'X_g b` follows the same way. Nothing
//! is ever O(people).

// Index loops follow the matrix formulas they compute, where iterators would hide which
// index is which.
#![allow(clippy::needless_range_loop)]

use super::{Cell, DidError, Panel};

/// Relative threshold for a pivot of the Cholesky factorisation: a column whose squared
/// distance from the span of the previous ones is below this share of its own squared
/// length is taken as collinear.
const PIVOT_TOLERANCE: f64 = 1e-10;

/// One regression: which cells, how they are grouped, and the regressors of interest.
pub(crate) struct Model<'a> {
    panel: &'a Panel,
    /// Indices into `panel.cells` (sorted by area, then period).
    cells: Vec<usize>,
    /// Per model cell: its cluster (0..clusters).
    cluster: Vec<usize>,
    /// Per cluster: the original area index.
    pub(crate) areas: Vec<usize>,
    /// Per cluster: the range of model cells it holds (cells of an area are contiguous).
    ranges: Vec<std::ops::Range<usize>>,
    /// Per model cell: column of its period dummy (None for the first period).
    period_col: Vec<Option<usize>>,
    /// Per model cell: the `p` regressors of interest, row-major.
    z: Vec<f64>,
    /// Regressors of interest.
    pub(crate) p: usize,
    /// Covariates.
    k: usize,
    /// Columns before the covariates.
    kb: usize,
    /// People.
    pub(crate) people: f64,
}

/// A fitted regression: coefficients, the factor of X'X and the clusters' scores.
pub(crate) struct Fit {
    /// All K coefficients.
    pub(crate) b: Vec<f64>,
    /// Cholesky factor of X'X.
    pub(crate) chol: Vec<Vec<f64>>,
    /// `(N-1)/(N-K) · G/(G-1)`.
    pub(crate) ssc: f64,
    /// Cluster-robust covariance (CR1) of the first `p` coefficients.
    pub(crate) vcov: Vec<Vec<f64>>,
}

impl<'a> Model<'a> {
    /// A model on `cells` (indices into the panel's sorted cells) with regressors of
    /// interest `z(cell) -> [f64; p]` written into the given buffer.
    pub(crate) fn new(
        panel: &'a Panel,
        cells: Vec<usize>,
        p: usize,
        mut z_of: impl FnMut(&Cell, &mut [f64]),
    ) -> Self {
        let mut periods: Vec<i64> = cells.iter().map(|&c| panel.cells[c].period).collect();
        periods.sort_unstable();
        periods.dedup();
        let mut areas: Vec<usize> = Vec::new();
        let mut ranges = Vec::new();
        let mut cluster = Vec::with_capacity(cells.len());
        for (m, &c) in cells.iter().enumerate() {
            let a = panel.cells[c].area;
            if areas.last() != Some(&a) {
                if let Some(r) = ranges.last_mut() {
                    let r: &mut std::ops::Range<usize> = r;
                    r.end = m;
                }
                areas.push(a);
                ranges.push(m..m);
            }
            cluster.push(areas.len() - 1);
        }
        if let Some(r) = ranges.last_mut() {
            r.end = cells.len();
        }
        let g = areas.len();
        let kb = p + g + periods.len().saturating_sub(1);
        let period_col = cells
            .iter()
            .map(|&c| {
                // Every cell's period is in `periods` by construction; position 0 (the first
                // period) has no dummy.
                match periods.binary_search(&panel.cells[c].period) {
                    Ok(0) | Err(_) => None,
                    Ok(i) => Some(p + g + i - 1),
                }
            })
            .collect();
        let mut z = vec![0.0; cells.len() * p];
        for (m, &c) in cells.iter().enumerate() {
            z_of(&panel.cells[c], &mut z[m * p..(m + 1) * p]);
        }
        let people = cells.iter().map(|&c| panel.cells[c].people).sum();
        Model {
            panel,
            cells,
            cluster,
            areas,
            ranges,
            period_col,
            z,
            p,
            k: panel.k,
            kb,
            people,
        }
    }

    /// Number of clusters (areas with people).
    pub(crate) fn clusters(&self) -> usize {
        self.areas.len()
    }

    /// Σy² over the model's cells.
    pub(crate) fn sum_y2(&self) -> f64 {
        self.cells.iter().map(|&c| self.panel.cells[c].sum_y2).sum()
    }

    /// Number of columns K.
    pub(crate) fn columns(&self) -> usize {
        self.kb + self.k
    }

    /// The constant part of model cell `m`'s row, as (column, value) pairs.
    fn row(&self, m: usize, out: &mut Vec<(usize, f64)>) {
        out.clear();
        for j in 0..self.p {
            let v = self.z[m * self.p + j];
            if v != 0.0 {
                out.push((j, v));
            }
        }
        out.push((self.p + self.cluster[m], 1.0));
        if let Some(t) = self.period_col[m] {
            out.push((t, 1.0));
        }
    }

    fn cell(&self, m: usize) -> &Cell {
        &self.panel.cells[self.cells[m]]
    }

    /// `X'X`, dense.
    fn xtx(&self) -> Vec<Vec<f64>> {
        let kk = self.columns();
        let mut a = vec![vec![0.0; kk]; kk];
        let mut row = Vec::new();
        for m in 0..self.cells.len() {
            self.row(m, &mut row);
            let cell = self.cell(m);
            for &(i, vi) in &row {
                for &(j, vj) in &row {
                    a[i][j] += cell.people * vi * vj;
                }
                for (l, &x) in cell.sum_x.iter().enumerate() {
                    a[i][self.kb + l] += vi * x;
                    a[self.kb + l][i] += vi * x;
                }
            }
        }
        for &area in &self.areas {
            if let Some(cov) = self.panel.area_covariates.get(area) {
                for i in 0..self.k {
                    for j in 0..self.k {
                        a[self.kb + i][self.kb + j] += cov.xx[i * self.k + j];
                    }
                }
            }
        }
        a
    }

    /// `X_g'y_g` for cluster `g`, with outcome sums `sum_y` (the cells' own, or others).
    fn xty_g(&self, g: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.columns()];
        let mut row = Vec::new();
        for m in self.ranges[g].clone() {
            self.row(m, &mut row);
            let y = self.cell(m).sum_y;
            for &(i, v) in &row {
                out[i] += v * y;
            }
        }
        if let Some(cov) = self.panel.area_covariates.get(self.areas[g]) {
            for l in 0..self.k {
                out[self.kb + l] += cov.xy[l];
            }
        }
        out
    }

    /// `X_g'X_g u` for cluster `g`, without forming `X_g'X_g`.
    fn xtx_g_mul(&self, g: usize, u: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.columns()];
        let mut row = Vec::new();
        let ux = &u[self.kb..];
        for m in self.ranges[g].clone() {
            self.row(m, &mut row);
            let cell = self.cell(m);
            let wu: f64 = row.iter().map(|&(i, v)| v * u[i]).sum();
            let xu: f64 = cell.sum_x.iter().zip(ux).map(|(x, u)| x * u).sum();
            for &(i, v) in &row {
                out[i] += v * (cell.people * wu + xu);
            }
            for (l, &x) in cell.sum_x.iter().enumerate() {
                out[self.kb + l] += x * wu;
            }
        }
        if let Some(cov) = self.panel.area_covariates.get(self.areas[g]) {
            for i in 0..self.k {
                out[self.kb + i] += (0..self.k)
                    .map(|j| cov.xx[i * self.k + j] * ux[j])
                    .sum::<f64>();
            }
        }
        out
    }

    /// The clusters' scores `X_g'y_g - X_g'X_g b`.
    pub(crate) fn scores(&self, b: &[f64]) -> Vec<Vec<f64>> {
        (0..self.clusters())
            .map(|g| {
                let mut s = self.xty_g(g);
                for (si, hi) in s.iter_mut().zip(self.xtx_g_mul(g, b)) {
                    *si -= hi;
                }
                s
            })
            .collect()
    }

    /// `X_g'X_g u` for every cluster.
    pub(crate) fn xtx_each_mul(&self, u: &[f64]) -> Vec<Vec<f64>> {
        (0..self.clusters()).map(|g| self.xtx_g_mul(g, u)).collect()
    }

    /// Coefficients only (no covariance): for placebo estimates.
    pub(crate) fn coefficients(&self) -> Result<(Vec<f64>, Vec<Vec<f64>>), DidError> {
        let chol = cholesky(&self.xtx()).ok_or(DidError::Collinear)?;
        let mut xty = vec![0.0; self.columns()];
        for g in 0..self.clusters() {
            for (t, v) in xty.iter_mut().zip(self.xty_g(g)) {
                *t += v;
            }
        }
        let b = chol_solve(&chol, &xty);
        Ok((b, chol))
    }

    /// Fits the model with the CR1 covariance of the first `p` coefficients.
    pub(crate) fn fit(&self) -> Result<Fit, DidError> {
        let g = self.clusters();
        let kk = self.columns();
        let n = self.people;
        if n - kk as f64 <= 0.0 {
            return Err(DidError::TooFewPeople {
                people: n,
                parameters: kk,
            });
        }
        let (b, chol) = self.coefficients()?;
        let ssc = (g as f64 / (g as f64 - 1.0)) * ((n - 1.0) / (n - kk as f64));
        // Rows of (X'X)^{-1} for the coefficients of interest.
        let q: Vec<Vec<f64>> = (0..self.p)
            .map(|j| chol_solve(&chol, &unit(kk, j)))
            .collect();
        let mut vcov = vec![vec![0.0; self.p]; self.p];
        for s in self.scores(&b) {
            let c: Vec<f64> = q.iter().map(|qj| dot(qj, &s)).collect();
            for i in 0..self.p {
                for j in 0..self.p {
                    vcov[i][j] += ssc * c[i] * c[j];
                }
            }
        }
        Ok(Fit { b, chol, ssc, vcov })
    }
}

/// The `j`th unit vector of length `n`.
pub(crate) fn unit(n: usize, j: usize) -> Vec<f64> {
    let mut e = vec![0.0; n];
    e[j] = 1.0;
    e
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Lower Cholesky factor of a symmetric positive-definite matrix; `None` when a pivot falls
/// below [`PIVOT_TOLERANCE`] of its diagonal entry (collinear columns) or the input is not
/// finite.
pub(crate) fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if !(d.is_finite() && d > PIVOT_TOLERANCE * a[j][j].abs() && d > 0.0) {
            return None;
        }
        let djj = d.sqrt();
        l[j][j] = djj;
        for i in j + 1..n {
            let s = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            l[i][j] = s / djj;
        }
    }
    Some(l)
}

/// Solves `L L' x = b`.
pub(crate) fn chol_solve(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut y = b.to_vec();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (y[i] - s) / l[i][i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k][i] * y[k]).sum();
        y[i] = (y[i] - s) / l[i][i];
    }
    y
}
