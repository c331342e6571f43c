//! Two means: Welch's t test (unequal variances), from summary statistics.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{DistributionError, WelchError};
use crate::stats::Result;

/// Count, mean and sample variance (n - 1 denominator) of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub n: u64,
    /// The (weighted) mean.
    pub mean: f64,
    /// Sample variance (n - 1 denominator; 0 for n = 1).
    pub variance: f64,
}

impl Summary {
    /// Summarises values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Summary {
        // Welford's algorithm: one pass, numerically stable.
        let (mut n, mut mean, mut m2) = (0u64, 0.0f64, 0.0f64);
        for x in values {
            n += 1;
            let d = x - mean;
            mean += d / n as f64;
            m2 += d * (x - mean);
        }
        Summary {
            n,
            mean: if n == 0 { f64::NAN } else { mean },
            variance: if n > 1 { m2 / (n - 1) as f64 } else { 0.0 },
        }
    }
}

/// Welch's t test of the difference in means, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WelchTest {
    /// `mean1 - mean2`.
    pub difference: f64,
    /// Interval for the difference.
    pub ci_low: f64,
    /// Interval for the difference.
    pub ci_high: f64,
    /// t statistic.
    pub statistic: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Welch's test (as scipy `ttest_ind(equal_var=False)`).
///
/// Needs at least two values in each group and some variation.
pub fn welch(a: &Summary, b: &Summary, confidence: f64) -> Result<WelchTest> {
    super::proportion::check_confidence(confidence)?;
    if a.n < 2 || b.n < 2 {
        return Err(WelchError::TooFew.into());
    }
    let (va, vb) = (a.variance / a.n as f64, b.variance / b.n as f64);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return Err(WelchError::NoVariation.into());
    }
    let se = se2.sqrt();
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let t = (a.mean - b.mean) / se;
    let dist =
        StudentsT::new(0.0, 1.0, df).map_err(|e| DistributionError::new("Welch t test", e))?;
    let p = 2.0 * dist.sf(t.abs());
    let q = dist.inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let d = a.mean - b.mean;
    Ok(WelchTest {
        difference: d,
        ci_low: d - q * se,
        ci_high: d + q * se,
        statistic: t,
        df,
        p_value: p.min(1.0),
    })
}
