//! Power and sample size for proportions: the classic normal-approximation formulas.
//!
//! One group against a fixed rate `p0`, to detect a true rate `p1`:
//!
//! ```text
//! n = ( z_{1-α/2} √(p0(1-p0)) + z_{power} √(p1(1-p1)) )² / (p1 - p0)²
//! ```
//!
//! Two groups (Fleiss, without continuity correction), `n1` in the first group and
//! `n2 = ratio · n1` in the second, pooled `p̄ = (p1 + ratio·p2) / (1 + ratio)`:
//!
//! ```text
//! n1 = ( z_{1-α/2} √(p̄(1-p̄)(1 + 1/ratio)) + z_{power} √(p1(1-p1) + p2(1-p2)/ratio) )² / (p1 - p2)²
//! ```
//!
//! Both agree with statsmodels (`normal_sample_size_one_tail` with the standard deviations
//! of `samplesize_proportions_2indep_onetail`).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::errors::{ArgumentError, Result};

/// The method names printed with results.
pub const ONE_SAMPLE_METHOD: &str =
    "one-sample normal approximation for a proportion against a fixed rate (two-sided)";
/// The method names printed with results.
pub const TWO_SAMPLE_METHOD: &str =
    "Fleiss two-sample normal approximation without continuity correction (two-sided)";

fn check(name: &str, p: f64) -> Result<()> {
    if p > 0.0 && p < 1.0 {
        Ok(())
    } else {
        Err(ArgumentError::new(name, format!("{p} is not strictly between 0 and 1")).into())
    }
}

fn crits(alpha: f64, power: f64) -> Result<(f64, f64)> {
    check("alpha", alpha)?;
    check("power", power)?;
    let n = Normal::standard();
    // z_{1-α/2} and z_{power}.
    Ok((n.inverse_cdf(1.0 - alpha / 2.0), n.inverse_cdf(power)))
}

/// People needed in one group to tell a true rate `p1` from a fixed rate `p0`.
///
/// ```
/// // Against Thames Valley's 20%, detecting 15% (two-sided 5%, power 80%):
/// let n = reoffending::stats::sample_size_one(0.20, 0.15, 0.05, 0.8).unwrap();
/// assert_eq!(n.ceil(), 471.0);
/// ```
pub fn sample_size_one(p0: f64, p1: f64, alpha: f64, power: f64) -> Result<f64> {
    check("baseline_rate", p0)?;
    check("target_rate", p1)?;
    if p0 == p1 {
        return Err(ArgumentError::new("target_rate", "must differ from the baseline rate").into());
    }
    let (za, zb) = crits(alpha, power)?;
    let num = (za * (p0 * (1.0 - p0)).sqrt() + zb * (p1 * (1.0 - p1)).sqrt()).max(0.0);
    Ok((num / (p1 - p0)).powi(2))
}

/// People needed in the first group (`p1`) when the second (`p2`) has `ratio` times as
/// many, to tell the two rates apart.
///
/// ```
/// let n = reoffending::stats::sample_size_two(0.15, 0.20, 0.05, 0.8, 1.0).unwrap();
/// assert_eq!(n.ceil(), 906.0);
/// ```
pub fn sample_size_two(p1: f64, p2: f64, alpha: f64, power: f64, ratio: f64) -> Result<f64> {
    check("target_rate", p1)?;
    check("baseline_rate", p2)?;
    if p1 == p2 {
        return Err(ArgumentError::new("target_rate", "must differ from the baseline rate").into());
    }
    if !(ratio > 0.0 && ratio.is_finite()) {
        return Err(ArgumentError::new("ratio", format!("{ratio} must be positive")).into());
    }
    let (za, zb) = crits(alpha, power)?;
    let pooled = (p1 + p2 * ratio) / (1.0 + ratio);
    let sd_null = (pooled * (1.0 - pooled) * (1.0 + 1.0 / ratio)).sqrt();
    let sd_alt = (p1 * (1.0 - p1) + p2 * (1.0 - p2) / ratio).sqrt();
    let num = (za * sd_null + zb * sd_alt).max(0.0);
    Ok((num / (p1 - p2)).powi(2))
}

/// The rates a study of this size could reliably tell apart from `p0`: the nearest true
/// rates below and above `p0` whose required sample size is at most `n`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detectable {
    /// The highest detectable rate below the baseline (null if none in (0, p0)).
    pub min_detectable_rate_lower: Option<f64>,
    /// The lowest detectable rate above the baseline (null if none in (p0, 1)).
    pub min_detectable_rate_upper: Option<f64>,
}

fn solve(f: impl Fn(f64) -> Result<f64>, n: f64, near: f64, far: f64) -> Result<Option<f64>> {
    // Required n falls as the rate moves from `near` to `far`; find where it equals `n`.
    let eps = 1e-9;
    let far_point = if far < near { far + eps } else { far - eps };
    if (far < near && far_point >= near) || (far > near && far_point <= near) || f(far_point)? > n {
        return Ok(None);
    }
    let (mut a, mut b) = (near, far_point);
    for _ in 0..200 {
        let mid = 0.5 * (a + b);
        if mid == a || mid == b {
            break;
        }
        if f(mid)? > n {
            a = mid;
        } else {
            b = mid;
        }
    }
    Ok(Some(b))
}

/// Minimum detectable rates for `n` people against a fixed rate.
pub fn detectable_one(n: f64, p0: f64, alpha: f64, power: f64) -> Result<Detectable> {
    check("baseline_rate", p0)?;
    if !(n >= 1.0) {
        return Err(ArgumentError::new("n", "must be at least 1").into());
    }
    let f = |p1: f64| sample_size_one(p0, p1, alpha, power);
    Ok(Detectable {
        min_detectable_rate_lower: solve(f, n, p0, 0.0)?,
        min_detectable_rate_upper: solve(f, n, p0, 1.0)?,
    })
}

/// Minimum detectable rates in a group of `n1` against a group of `n2` with rate `p2`.
pub fn detectable_two(n1: f64, n2: f64, p2: f64, alpha: f64, power: f64) -> Result<Detectable> {
    check("baseline_rate", p2)?;
    if !(n1 >= 1.0 && n2 >= 1.0) {
        return Err(ArgumentError::new("n", "each group needs at least one person").into());
    }
    let ratio = n2 / n1;
    let f = |p1: f64| sample_size_two(p1, p2, alpha, power, ratio);
    Ok(Detectable {
        min_detectable_rate_lower: solve(f, n1, p2, 0.0)?,
        min_detectable_rate_upper: solve(f, n1, p2, 1.0)?,
    })
}
