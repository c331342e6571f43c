//! One proportion: confidence intervals and the exact binomial test.
//!
//! Formulas follow statsmodels `proportion_confint` and scipy `binomtest`, which the tests
//! check against (see `tests/reference/`).

use serde::Serialize;
use statrs::distribution::{Beta, Binomial, ContinuousCDF, Discrete, DiscreteCDF, Normal};

use super::errors::{ArgumentError, Result};
use super::{DistributionError, ProportionError};

/// Interval methods for a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub enum CiMethod {
    /// Wilson score interval (the default: good coverage, never outside [0, 1]).
    #[default]
    #[serde(rename = "wilson")]
    Wilson,
    /// Clopper-Pearson "exact" interval from beta quantiles (conservative).
    #[serde(rename = "exact")]
    Exact,
    /// Wald (normal approximation), clipped to [0, 1]; poor for small n or rates near 0/1.
    #[serde(rename = "wald")]
    Wald,
    /// Jeffreys interval: equal-tailed Beta(x + 1/2, n - x + 1/2) quantiles.
    #[serde(rename = "jeffreys")]
    Jeffreys,
    /// Agresti-Coull ("add z²/2 successes and failures"), clipped to [0, 1].
    #[serde(rename = "agresti-coull")]
    AgrestiCoull,
}

impl CiMethod {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CiMethod::Wilson => "wilson",
            CiMethod::Exact => "exact",
            CiMethod::Wald => "wald",
            CiMethod::Jeffreys => "jeffreys",
            CiMethod::AgrestiCoull => "agresti-coull",
        }
    }

    /// All methods.
    pub const ALL: [CiMethod; 5] = [
        CiMethod::Wilson,
        CiMethod::Exact,
        CiMethod::Wald,
        CiMethod::Jeffreys,
        CiMethod::AgrestiCoull,
    ];
}

impl std::str::FromStr for CiMethod {
    type Err = ArgumentError;
    fn from_str(s: &str) -> std::result::Result<Self, ArgumentError> {
        CiMethod::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s || (s == "clopper-pearson" && *m == CiMethod::Exact))
            .ok_or_else(|| {
                ArgumentError::new(
                    "ci",
                    format!("`{s}`: expected wilson, exact, wald, jeffreys or agresti-coull"),
                )
            })
    }
}

impl std::fmt::Display for CiMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The standard normal quantile `z` with `P(Z > z) = tail`.
pub(crate) fn z_upper(tail: f64) -> f64 {
    // Normal::standard() cannot fail; inverse_cdf is defined on (0, 1).
    Normal::standard().inverse_cdf(1.0 - tail)
}

pub(crate) fn check_confidence(confidence: f64) -> Result<()> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(ArgumentError::new(
            "confidence",
            format!("{confidence} is not strictly between 0 and 1"),
        )
        .into())
    }
}

fn beta_quantile(a: f64, b: f64, p: f64) -> Result<f64> {
    let d = Beta::new(a, b).map_err(|e| DistributionError::new("beta quantile", e))?;
    d.try_inverse_cdf(p)
        .map_err(|e| DistributionError::new("beta quantile", e).into())
}

/// A confidence interval for `x` successes out of `n`, at `confidence` (e.g. 0.95).
///
/// Returns `Ok(None)` when `n == 0`.
///
/// ```
/// use reoffending::stats::{proportion_ci, CiMethod};
/// let ci = proportion_ci(20, 100, 0.95, CiMethod::Wilson).unwrap().unwrap();
/// // statsmodels: proportion_confint(20, 100, method="wilson") = (0.133367, 0.288829)
/// assert!((ci.low - 0.133367).abs() < 1e-6 && (ci.high - 0.288829).abs() < 1e-6);
/// ```
pub fn proportion_ci(
    x: u64,
    n: u64,
    confidence: f64,
    method: CiMethod,
) -> Result<Option<Interval>> {
    check_confidence(confidence)?;
    if x > n {
        return Err(ProportionError::Counts {
            method: "proportion interval",
            x,
            n,
        }
        .into());
    }
    if n == 0 {
        return Ok(None);
    }
    let alpha = 1.0 - confidence;
    let (xf, nf) = (x as f64, n as f64);
    let q = xf / nf;
    let z = z_upper(alpha / 2.0);
    let clip = |v: f64| v.clamp(0.0, 1.0);
    let iv = match method {
        CiMethod::Wilson => {
            let z2 = z * z;
            let denom = 1.0 + z2 / nf;
            let center = (q + z2 / (2.0 * nf)) / denom;
            let dist = z * (q * (1.0 - q) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
            Interval {
                low: center - dist,
                high: center + dist,
            }
        }
        CiMethod::Wald => {
            let dist = z * (q * (1.0 - q) / nf).sqrt();
            Interval {
                low: clip(q - dist),
                high: clip(q + dist),
            }
        }
        CiMethod::AgrestiCoull => {
            let nc = nf + z * z;
            let qc = (xf + z * z / 2.0) / nc;
            let dist = z * (qc * (1.0 - qc) / nc).sqrt();
            Interval {
                low: clip(qc - dist),
                high: clip(qc + dist),
            }
        }
        CiMethod::Exact => Interval {
            low: if x == 0 {
                0.0
            } else {
                beta_quantile(xf, nf - xf + 1.0, alpha / 2.0)?
            },
            high: if x == n {
                1.0
            } else {
                beta_quantile(xf + 1.0, nf - xf, 1.0 - alpha / 2.0)?
            },
        },
        CiMethod::Jeffreys => Interval {
            low: beta_quantile(xf + 0.5, nf - xf + 0.5, alpha / 2.0)?,
            high: beta_quantile(xf + 0.5, nf - xf + 0.5, 1.0 - alpha / 2.0)?,
        },
    };
    Ok(Some(iv))
}

/// The exact binomial test of `x` out of `n` against a fixed rate `p0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BinomialTest {
    /// Number of successes (e.g. people who reoffended).
    pub x: u64,
    /// Number of trials (e.g. people in the measure).
    pub n: u64,
    /// The rate under the null hypothesis.
    pub p0: f64,
    /// Two-sided p-value: the probability of outcomes no more likely than the one observed
    /// (relative tolerance 1e-7), as R `binom.test` and scipy `binomtest`.
    pub p_two_sided: f64,
    /// One-sided p-value for "the true rate is less than `p0`": `P(X <= x)`.
    pub p_less: f64,
    /// One-sided p-value for "the true rate is greater than `p0`": `P(X >= x)`.
    pub p_greater: f64,
}

/// Exact binomial test (scipy `binomtest` algorithm).
///
/// ```
/// let t = reoffending::stats::binomial_test(12, 100, 0.2).unwrap();
/// // scipy: binomtest(12, 100, 0.2).pvalue = 0.0453490
/// assert!((t.p_two_sided - 0.0453490).abs() < 1e-7);
/// ```
pub fn binomial_test(x: u64, n: u64, p0: f64) -> Result<BinomialTest> {
    if !(p0 > 0.0 && p0 < 1.0) {
        return Err(ArgumentError::new(
            "baseline_rate",
            format!("{p0} is not strictly between 0 and 1 (give a fraction, e.g. 0.2)"),
        )
        .into());
    }
    if x > n || n == 0 {
        return Err(ProportionError::Counts {
            method: "binomial test",
            x,
            n,
        }
        .into());
    }
    let b = Binomial::new(p0, n).map_err(|e| DistributionError::new("binomial test", e))?;
    let cdf = |k: i64| if k < 0 { 0.0 } else { b.cdf(k as u64) };
    let sf = |k: i64| if k < 0 { 1.0 } else { b.sf(k as u64) };
    let pmf = |k: i64| b.pmf(k as u64);
    let p_less = cdf(x as i64).min(1.0);
    let p_greater = sf(x as i64 - 1).min(1.0);
    let k = x as i64;
    let nf = n as f64;
    let d = pmf(k);
    let rerr = 1.0 + 1e-7;
    let p_two = if (k as f64) == p0 * nf {
        1.0
    } else if (k as f64) < p0 * nf {
        let ix = binary_search(|x1| -pmf(x1), -d * rerr, (p0 * nf).ceil() as i64, n as i64);
        let y = n as i64 - ix + i64::from(d * rerr == pmf(ix));
        cdf(k) + sf(n as i64 - y)
    } else {
        let ix = binary_search(pmf, d * rerr, 0, (p0 * nf).floor() as i64);
        let y = ix + 1;
        cdf(y - 1) + sf(k - 1)
    };
    Ok(BinomialTest {
        x,
        n,
        p0,
        p_two_sided: p_two.min(1.0),
        p_less,
        p_greater,
    })
}

/// scipy's `_binary_search_for_binom_tst`: the last index in `[lo, hi]` where the monotone
/// function `a` is at most `d`.
pub(crate) fn binary_search(a: impl Fn(i64) -> f64, d: f64, mut lo: i64, mut hi: i64) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let v = a(mid);
        if v < d {
            lo = mid + 1;
        } else if v > d {
            hi = mid - 1;
        } else {
            return mid;
        }
    }
    if a(lo) <= d { lo } else { lo - 1 }
}

/// A rate compared with a fixed rate on one exact basis: the Clopper-Pearson interval and
/// the central two-sided exact test, which agree by construction (the interval excludes
/// `p0` exactly when the test's p-value is below `1 - confidence`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExactAgainst {
    /// The binomial tests (the two-sided one as R and scipy compute it).
    pub test: BinomialTest,
    /// Central two-sided exact p-value: twice the smaller one-sided p, at most 1.
    pub p_central: f64,
    /// The Clopper-Pearson interval for the rate.
    pub interval: Interval,
    /// The interval excludes `p0`.
    pub significant: bool,
}

/// Compares `x` of `n` with the fixed rate `p0` at `confidence`, so that verdict and
/// interval never disagree.
///
/// ```
/// // 28 of 100 against 20%: the exact interval (19.5% to 37.9%, statsmodels "beta") includes
/// // 20%, and so the verdict is "not distinguishable"; the central exact p is 0.0683
/// // (scipy: 2 min(binom.cdf(28), binom.sf(27))), R's and scipy's two-sided p 0.0595.
/// let e = reoffending::stats::exact_against(28, 100, 0.2, 0.95).unwrap();
/// assert!(!e.significant && e.interval.low < 0.2 && e.p_central > 0.05);
/// assert!((e.interval.low - 0.1947936).abs() < 1e-6);
/// assert!((e.p_central - 0.0683033).abs() < 1e-6 && (e.test.p_two_sided - 0.0594804).abs() < 1e-6);
/// ```
pub fn exact_against(x: u64, n: u64, p0: f64, confidence: f64) -> Result<ExactAgainst> {
    let test = binomial_test(x, n, p0)?;
    let interval =
        proportion_ci(x, n, confidence, CiMethod::Exact)?.ok_or(ProportionError::Counts {
            method: "exact comparison",
            x,
            n,
        })?;
    Ok(ExactAgainst {
        test,
        p_central: (2.0 * test.p_less.min(test.p_greater)).min(1.0),
        interval,
        significant: interval.low > p0 || interval.high < p0,
    })
}
