//! A balanced area x period panel of outcomes (one number per cell, e.g. the reoffending
//! rate of the people indexed in that area and period), the input of the synthetic designs
//! ([`super::synthetic`]) and of Callaway and Sant'Anna's estimator ([`super::staggered`]).

use std::collections::BTreeMap;

/// Why a panel could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PanelError {
    /// No areas or no periods.
    #[error("area panel: needs at least one area and one period")]
    Empty,
    /// A row has a different number of periods from the first.
    #[error(
        "area panel: area {area} has {found} periods, expected {expected} (the panel must be balanced)"
    )]
    Ragged {
        /// Row (area) index.
        area: usize,
        /// Periods in that row.
        found: usize,
        /// Periods in the first row.
        expected: usize,
    },
    /// An area has no value for a period.
    #[error(
        "area panel: area {area} has no value for period {period} (the panel must be balanced)"
    )]
    Missing {
        /// Area index (in sorted label order).
        area: usize,
        /// Period index (in sorted label order).
        period: usize,
    },
    /// The same area and period appear twice.
    #[error("area panel: area {area}, period {period} appears more than once")]
    Duplicate {
        /// Area index (in sorted label order).
        area: usize,
        /// Period index (in sorted label order).
        period: usize,
    },
    /// Cell slices of different lengths.
    #[error("area panel: {areas} area labels, {periods} period labels and {outcomes} outcomes")]
    Lengths {
        /// Area labels given.
        areas: usize,
        /// Period labels given.
        periods: usize,
        /// Outcomes given.
        outcomes: usize,
    },
    /// A value is NaN or infinite.
    #[error("area panel: the outcome of area {area}, period {period} is not a finite number")]
    NonFinite {
        /// Area index.
        area: usize,
        /// Period index.
        period: usize,
    },
}

/// A balanced panel: `areas()` rows by `periods()` columns of finite outcomes, periods in
/// time order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaPanel {
    areas: usize,
    periods: usize,
    /// Row-major: area `i`, period `t` at `i * periods + t`.
    values: Vec<f64>,
}

impl AreaPanel {
    /// A panel from one row of outcomes per area (every row the same length, in period
    /// order).
    ///
    /// ```
    /// use reoffending::stats::AreaPanel;
    /// let p = AreaPanel::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    /// assert_eq!((p.areas(), p.periods(), p.get(1, 0)), (2, 2, 3.0));
    /// assert!(AreaPanel::from_rows(&[vec![1.0, 2.0], vec![3.0]]).is_err());
    /// ```
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, PanelError> {
        let periods = rows.first().map_or(0, Vec::len);
        if rows.is_empty() || periods == 0 {
            return Err(PanelError::Empty);
        }
        let mut values = Vec::with_capacity(rows.len() * periods);
        for (area, row) in rows.iter().enumerate() {
            if row.len() != periods {
                return Err(PanelError::Ragged {
                    area,
                    found: row.len(),
                    expected: periods,
                });
            }
            for (period, &v) in row.iter().enumerate() {
                if !v.is_finite() {
                    return Err(PanelError::NonFinite { area, period });
                }
                values.push(v);
            }
        }
        Ok(AreaPanel {
            areas: rows.len(),
            periods,
            values,
        })
    }

    /// A panel from long-format cells (`areas[k]`, `periods[k]`, `outcomes[k]`): areas and
    /// periods sorted by their labels, which are returned beside the panel. Every area must
    /// have exactly one value for every period.
    ///
    /// ```
    /// use reoffending::stats::AreaPanel;
    /// let (p, areas, periods) = AreaPanel::from_cells(
    ///     &["b", "a", "a", "b"], &[2020, 2020, 2021, 2021], &[1.0, 2.0, 3.0, 4.0]).unwrap();
    /// assert_eq!(areas, vec!["a", "b"]);
    /// assert_eq!(periods, vec![2020, 2021]);
    /// assert_eq!(p.row(0), &[2.0, 3.0]);
    /// ```
    pub fn from_cells<A: Ord + Clone, P: Ord + Clone>(
        areas: &[A],
        periods: &[P],
        outcomes: &[f64],
    ) -> Result<(Self, Vec<A>, Vec<P>), PanelError> {
        if areas.len() != periods.len() || areas.len() != outcomes.len() {
            return Err(PanelError::Lengths {
                areas: areas.len(),
                periods: periods.len(),
                outcomes: outcomes.len(),
            });
        }
        let area_index: BTreeMap<&A, usize> = areas.iter().map(|a| (a, 0)).collect();
        let period_index: BTreeMap<&P, usize> = periods.iter().map(|p| (p, 0)).collect();
        let area_index: BTreeMap<&A, usize> = area_index
            .into_keys()
            .enumerate()
            .map(|(i, a)| (a, i))
            .collect();
        let period_index: BTreeMap<&P, usize> = period_index
            .into_keys()
            .enumerate()
            .map(|(i, p)| (p, i))
            .collect();
        let (n, t) = (area_index.len(), period_index.len());
        if n == 0 || t == 0 {
            return Err(PanelError::Empty);
        }
        let mut values: Vec<Option<f64>> = vec![None; n * t];
        for ((a, p), &y) in areas.iter().zip(periods).zip(outcomes) {
            // Every label was inserted into the maps above.
            let (i, j) = (area_index[a], period_index[p]);
            if !y.is_finite() {
                return Err(PanelError::NonFinite { area: i, period: j });
            }
            if values[i * t + j].replace(y).is_some() {
                return Err(PanelError::Duplicate { area: i, period: j });
            }
        }
        let values = values
            .iter()
            .enumerate()
            .map(|(k, v)| {
                v.ok_or(PanelError::Missing {
                    area: k / t,
                    period: k % t,
                })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        Ok((
            AreaPanel {
                areas: n,
                periods: t,
                values,
            },
            area_index.into_keys().cloned().collect(),
            period_index.into_keys().cloned().collect(),
        ))
    }

    /// Number of areas (rows).
    pub fn areas(&self) -> usize {
        self.areas
    }

    /// Number of periods (columns).
    pub fn periods(&self) -> usize {
        self.periods
    }

    /// The outcome of area `area` in period `period`.
    ///
    /// # Panics
    /// If either index is out of range.
    pub fn get(&self, area: usize, period: usize) -> f64 {
        assert!(
            area < self.areas && period < self.periods,
            "panel index out of range"
        );
        self.values[area * self.periods + period]
    }

    /// One area's outcomes, in period order.
    ///
    /// # Panics
    /// If `area` is out of range.
    pub fn row(&self, area: usize) -> &[f64] {
        &self.values[area * self.periods..(area + 1) * self.periods]
    }

    /// A panel of the given areas (rows), in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, areas: &[usize]) -> AreaPanel {
        let mut values = Vec::with_capacity(areas.len() * self.periods);
        for &i in areas {
            values.extend_from_slice(self.row(i));
        }
        AreaPanel {
            areas: areas.len(),
            periods: self.periods,
            values,
        }
    }
}
