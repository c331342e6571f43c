//! Weighted means with robust (sandwich) variances: the comparison of a matched sample in
//! which comparison people carry weights (several controls per person, or controls reused).
//!
//! MatchIt's guidance for such samples is to estimate the effect as a difference in
//! weighted means with a robust standard error; for a weighted mean `m = Σwx / Σw` the
//! sandwich (HC0) variance is `Σ w²(x - m)² / (Σw)²`, which is what a weighted least-squares
//! regression of the outcome on group membership gives with `cov_type = "HC0"` (statsmodels).

use serde::Serialize;

use super::proportion::{check_confidence, z_upper};
use super::twobytwo::Test;
use crate::error::{Error, Result};

/// A weighted mean of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightedMean {
    /// `Σwx / Σw`.
    pub mean: f64,
    /// Robust (sandwich) variance of the mean: `Σ w²(x - m)² / (Σw)²`.
    pub variance: f64,
    /// Kish effective sample size `(Σw)² / Σw²`.
    pub effective_n: f64,
}

impl WeightedMean {
    /// The weighted mean of `values`; `None` when the weights sum to zero.
    pub fn of(values: &[f64], weights: &[f64]) -> Option<WeightedMean> {
        let sw: f64 = weights.iter().sum();
        if !(sw > 0.0) {
            return None;
        }
        let mean = values.iter().zip(weights).map(|(x, w)| x * w).sum::<f64>() / sw;
        let ss: f64 = values
            .iter()
            .zip(weights)
            .map(|(x, w)| (w * (x - mean)).powi(2))
            .sum();
        let sw2: f64 = weights.iter().map(|w| w * w).sum();
        Some(WeightedMean {
            mean,
            variance: ss / (sw * sw),
            effective_n: sw * sw / sw2,
        })
    }
}

/// The difference of two weighted means with a normal interval and z test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightedDifference {
    /// `a - b`.
    pub difference: f64,
    /// Robust standard error.
    pub se: f64,
    /// Lower limit of the confidence interval.
    pub ci_low: f64,
    /// Upper limit of the confidence interval.
    pub ci_high: f64,
    /// `difference / se`, with its two-sided normal p-value.
    pub z: Test,
}

/// `a - b` at `confidence`.
pub fn weighted_difference(
    a: &WeightedMean,
    b: &WeightedMean,
    confidence: f64,
) -> Result<WeightedDifference> {
    check_confidence(confidence)?;
    let difference = a.mean - b.mean;
    let se = (a.variance + b.variance).sqrt();
    let z = z_upper((1.0 - confidence) / 2.0);
    let test = if se > 0.0 {
        let stat = difference / se;
        Test {
            statistic: Some(stat),
            p_value: Some(2.0 * (1.0 - normal_cdf(stat.abs()))),
        }
    } else if difference == 0.0 {
        Test {
            statistic: None,
            p_value: Some(1.0),
        }
    } else {
        return Err(Error::method(
            "weighted comparison",
            "no variation within either group: a difference cannot be tested",
        ));
    };
    Ok(WeightedDifference {
        difference,
        se,
        ci_low: difference - z * se,
        ci_high: difference + z * se,
        z: test,
    })
}

fn normal_cdf(x: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    // Normal::new(0, 1) is valid.
    Normal::standard().cdf(x)
}

/// A ratio of two weighted means with a delta-method log interval: `(ratio, low, high)`;
/// `None` when either mean is not positive.
pub fn weighted_ratio(
    a: &WeightedMean,
    b: &WeightedMean,
    confidence: f64,
) -> Option<(f64, f64, f64)> {
    if !(a.mean > 0.0 && b.mean > 0.0) {
        return None;
    }
    let z = z_upper((1.0 - confidence) / 2.0);
    let se = (a.variance / (a.mean * a.mean) + b.variance / (b.mean * b.mean)).sqrt();
    let l = (a.mean / b.mean).ln();
    Some((a.mean / b.mean, (l - z * se).exp(), (l + z * se).exp()))
}

/// The odds ratio of two weighted rates with a delta-method log interval.
pub fn weighted_odds_ratio(
    a: &WeightedMean,
    b: &WeightedMean,
    confidence: f64,
) -> Option<(f64, f64, f64)> {
    let ok = |p: f64| p > 0.0 && p < 1.0;
    if !(ok(a.mean) && ok(b.mean)) {
        return None;
    }
    let z = z_upper((1.0 - confidence) / 2.0);
    let odds = |p: f64| p / (1.0 - p);
    let v = |m: &WeightedMean| m.variance / (m.mean * (1.0 - m.mean)).powi(2);
    let se = (v(a) + v(b)).sqrt();
    let l = (odds(a.mean) / odds(b.mean)).ln();
    Some((l.exp(), (l - z * se).exp(), (l + z * se).exp()))
}
