//! Weighted means with robust (sandwich) variances: the comparison of a matched sample in
//! which comparison people carry weights (several controls per person, or controls reused).
//!
//! MatchIt's guidance for such samples is to estimate the effect as a difference in
//! weighted means with a robust standard error; for a weighted mean `m = Σwx / Σw` the
//! sandwich (HC0) variance is `Σ w²(x - m)² / (Σw)²`, which is what a weighted least-squares
//! regression of the outcome on group membership gives with `cov_type = "HC0"` (statsmodels).

use serde::Serialize;

use super::TwoByTwoError;
use super::proportion::{check_confidence, z_upper};
use super::twobytwo::Test;
use crate::stats::Result;

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
        return Err(TwoByTwoError::NoVariation.into());
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

/// Two weighted rates (means of 0/1 outcomes) compared in the shape of a 2x2 result: the
/// difference with a robust (sandwich) standard error and normal interval; relative risk
/// and odds ratio with delta-method log intervals; one test, the robust z (in `z_pooled`;
/// the count-based tests do not apply to weighted data and are empty).
pub fn weighted_rates(
    a: &WeightedMean,
    b: &WeightedMean,
    confidence: f64,
) -> Result<super::TwoByTwoResult> {
    let d = weighted_difference(a, b, confidence)?;
    let rr = weighted_ratio(a, b, confidence);
    let or = weighted_odds_ratio(a, b, confidence);
    let none = Test {
        statistic: None,
        p_value: None,
    };
    Ok(super::TwoByTwoResult {
        p1: a.mean,
        p2: b.mean,
        risk_difference: super::Effect::new(d.difference, d.ci_low, d.ci_high),
        rd_ci_method: super::DiffMethod::Wald,
        relative_risk: (b.mean > 0.0)
            .then(|| super::Effect::maybe(a.mean / b.mean, rr.map(|r| r.1), rr.map(|r| r.2))),
        odds_ratio: or.map(|r| super::Effect::new(r.0, r.1, r.2)),
        z_pooled: d.z,
        chi_square: none,
        chi_square_yates: none,
        fisher_exact: none,
    })
}

/// Two weighted means compared with robust standard errors, in the shape of Welch's test
/// (the statistic is z, with infinite degrees of freedom).
pub fn weighted_mean_difference(
    a: &WeightedMean,
    b: &WeightedMean,
    confidence: f64,
) -> Result<super::WelchTest> {
    let d = weighted_difference(a, b, confidence)?;
    Ok(super::WelchTest {
        difference: d.difference,
        ci_low: d.ci_low,
        ci_high: d.ci_high,
        statistic: d.z.statistic.unwrap_or(0.0),
        df: f64::INFINITY,
        p_value: d.z.p_value.unwrap_or(1.0),
    })
}

/// Weighted mean and variance of `(value, weight)` pairs with the Kish effective sample
/// size as `n` (unit weights give the ordinary sample mean and variance).
pub fn weighted_summary(values: impl Iterator<Item = (f64, f64)>) -> super::Summary {
    let v: Vec<(f64, f64)> = values.collect();
    let sw: f64 = v.iter().map(|x| x.1).sum();
    if sw <= 0.0 {
        return super::Summary {
            n: 0,
            mean: f64::NAN,
            variance: 0.0,
        };
    }
    let sw2: f64 = v.iter().map(|x| x.1 * x.1).sum();
    let ess = sw * sw / sw2;
    let mean = v.iter().map(|(x, w)| x * w).sum::<f64>() / sw;
    let var_pop = v.iter().map(|(x, w)| w * (x - mean).powi(2)).sum::<f64>() / sw;
    let variance = if ess > 1.0 {
        var_pop * ess / (ess - 1.0)
    } else {
        0.0
    };
    super::Summary {
        n: ess.round() as u64,
        mean,
        variance,
    }
}
