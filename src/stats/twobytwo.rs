//! Two proportions: risk difference, relative risk, odds ratio and their tests.
//!
//! Formulas follow statsmodels (`confint_proportions_2indep`, `proportions_ztest`) and
//! scipy (`chi2_contingency`, `fisher_exact`), which the tests check against.

use serde::Serialize;

use super::Effect;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::errors::{ArgumentError, Result};
use super::proportion::{CiMethod, binary_search, proportion_ci, z_upper};
use super::{DistributionError, TwoByTwoError};

/// Interval methods for a difference of two proportions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DiffMethod {
    /// Newcombe's hybrid score interval from two Wilson intervals (method 10, 1998). Default.
    #[default]
    Newcombe,
    /// Wald (normal approximation with unpooled variance).
    Wald,
}

impl std::str::FromStr for DiffMethod {
    type Err = ArgumentError;
    fn from_str(s: &str) -> std::result::Result<Self, ArgumentError> {
        match s {
            "newcombe" => Ok(DiffMethod::Newcombe),
            "wald" => Ok(DiffMethod::Wald),
            _ => Err(ArgumentError::new(
                "rd_ci",
                format!("`{s}`: expected newcombe or wald"),
            )),
        }
    }
}

/// A test statistic with its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Test {
    /// The statistic (z, chi-square, or for Fisher's test the sample odds ratio).
    pub statistic: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
}

/// Two groups' counts: `x1` of `n1` (treatment) and `x2` of `n2` (control).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TwoByTwo {
    /// Events in group 1.
    pub x1: u64,
    /// Size of group 1.
    pub n1: u64,
    /// Events in group 2.
    pub x2: u64,
    /// Size of group 2.
    pub n2: u64,
}

/// Everything about a 2x2 comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwoByTwoResult {
    /// Rate in group 1.
    pub p1: f64,
    /// Rate in group 2.
    pub p2: f64,
    /// `p1 - p2`, with its interval.
    pub risk_difference: Effect,
    /// Method of that interval.
    pub rd_ci_method: DiffMethod,
    /// `p1 / p2` with its log interval (null when `p2 = 0`; no interval when a group has
    /// no events).
    pub relative_risk: Option<Effect>,
    /// Odds ratio with its Woolf (logit) interval (null when a cell is zero).
    pub odds_ratio: Option<Effect>,
    /// Pooled two-proportion z test.
    pub z_pooled: Test,
    /// Pearson chi-square without continuity correction (= z²).
    pub chi_square: Test,
    /// Chi-square with Yates' continuity correction.
    pub chi_square_yates: Test,
    /// Fisher's exact test (two-sided, minimum-likelihood convention as R and scipy).
    pub fisher_exact: Test,
}

impl TwoByTwo {
    fn check(&self) -> Result<()> {
        if self.n1 == 0 || self.n2 == 0 || self.x1 > self.n1 || self.x2 > self.n2 {
            return Err(TwoByTwoError::Counts {
                x1: self.x1,
                n1: self.n1,
                x2: self.x2,
                n2: self.n2,
            }
            .into());
        }
        Ok(())
    }

    /// All measures and tests at `confidence`.
    ///
    /// ```
    /// use reoffending::stats::{TwoByTwo, DiffMethod};
    /// let r = TwoByTwo { x1: 30, n1: 150, x2: 60, n2: 200 }.compare(0.95, DiffMethod::Newcombe).unwrap();
    /// assert!((r.risk_difference.estimate - (-0.1)).abs() < 1e-12);
    /// assert!(!r.risk_difference.excludes(-0.1));
    /// ```
    // Over 80 lines: every statistic of one 2x2 table, computed from the same cells in one place,
    // as scipy and statsmodels report them.
    pub fn compare(&self, confidence: f64, method: DiffMethod) -> Result<TwoByTwoResult> {
        self.check()?;
        super::proportion::check_confidence(confidence)?;
        let z = z_upper((1.0 - confidence) / 2.0);
        let (x1, n1, x2, n2) = (
            self.x1 as f64,
            self.n1 as f64,
            self.x2 as f64,
            self.n2 as f64,
        );
        let (p1, p2) = (x1 / n1, x2 / n2);
        let d = p1 - p2;
        let (lo, hi) = match method {
            DiffMethod::Wald => {
                let se = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
                (d - z * se, d + z * se)
            }
            DiffMethod::Newcombe => {
                // Both intervals exist: n1, n2 > 0 was checked.
                let empty = TwoByTwoError::Counts {
                    x1: self.x1,
                    n1: self.n1,
                    x2: self.x2,
                    n2: self.n2,
                };
                let w1 = proportion_ci(self.x1, self.n1, confidence, CiMethod::Wilson)?
                    .ok_or(empty.clone())?;
                let w2 =
                    proportion_ci(self.x2, self.n2, confidence, CiMethod::Wilson)?.ok_or(empty)?;
                (
                    d - ((p1 - w1.low).powi(2) + (w2.high - p2).powi(2)).sqrt(),
                    d + ((w1.high - p1).powi(2) + (p2 - w2.low).powi(2)).sqrt(),
                )
            }
        };
        let rr = (x2 > 0.0).then(|| p1 / p2);
        let (rr_lo, rr_hi) = if x1 > 0.0 && x2 > 0.0 {
            let se = (1.0 / x1 - 1.0 / n1 + 1.0 / x2 - 1.0 / n2).sqrt();
            let l = (p1 / p2).ln();
            (Some((l - z * se).exp()), Some((l + z * se).exp()))
        } else {
            (None, None)
        };
        let (a, b, c, dd) = (x1, n1 - x1, x2, n2 - x2);
        let cells_positive = a > 0.0 && b > 0.0 && c > 0.0 && dd > 0.0;
        let or = (b > 0.0 && c > 0.0).then(|| (a * dd) / (b * c));
        let (or_lo, or_hi) = if cells_positive {
            let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / dd).sqrt();
            let l = ((a * dd) / (b * c)).ln();
            (Some((l - z * se).exp()), Some((l + z * se).exp()))
        } else {
            (None, None)
        };
        let pooled = (x1 + x2) / (n1 + n2);
        let se0 = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        let normal = Normal::standard();
        let chi1 = ChiSquared::new(1.0).map_err(|e| DistributionError::new("chi-square", e))?;
        let (z_test, chi) = if se0 > 0.0 {
            let zs = d / se0;
            let p = 2.0 * normal.sf(zs.abs());
            (
                Test {
                    statistic: Some(zs),
                    p_value: Some(p),
                },
                Test {
                    statistic: Some(zs * zs),
                    p_value: Some(chi1.sf(zs * zs)),
                },
            )
        } else {
            let none = Test {
                statistic: None,
                p_value: None,
            };
            (none, none)
        };
        let yates = yates(a, b, c, dd, &chi1);
        let fisher = Test {
            statistic: or,
            p_value: Some(fisher_two_sided(
                self.x1,
                self.n1 - self.x1,
                self.x2,
                self.n2 - self.x2,
            )),
        };
        Ok(TwoByTwoResult {
            p1,
            p2,
            risk_difference: Effect::new(d, lo, hi),
            rd_ci_method: method,
            relative_risk: rr.map(|rr| Effect::maybe(rr, rr_lo, rr_hi)),
            odds_ratio: or.map(|or| Effect::maybe(or, or_lo, or_hi)),
            z_pooled: z_test,
            chi_square: chi,
            chi_square_yates: yates,
            fisher_exact: fisher,
        })
    }
}

/// Pearson chi-square with Yates' correction as scipy `chi2_contingency(correction=True)`:
/// each |observed - expected| is reduced by min(0.5, |observed - expected|).
fn yates(a: f64, b: f64, c: f64, d: f64, chi1: &ChiSquared) -> Test {
    let n = a + b + c + d;
    let (r1, r2, c1, c2) = (a + b, c + d, a + c, b + d);
    if r1 == 0.0 || r2 == 0.0 || c1 == 0.0 || c2 == 0.0 {
        return Test {
            statistic: None,
            p_value: None,
        };
    }
    let obs = [a, b, c, d];
    let exp = [r1 * c1 / n, r1 * c2 / n, r2 * c1 / n, r2 * c2 / n];
    let stat: f64 = obs
        .iter()
        .zip(&exp)
        .map(|(o, e)| {
            let diff = (o - e).abs();
            let adj = diff - diff.min(0.5);
            adj * adj / e
        })
        .sum();
    Test {
        statistic: Some(stat),
        p_value: Some(chi1.sf(stat)),
    }
}

/// The hypergeometric probabilities of the first cell over its support, for a 2x2 table
/// with row sums `r1`, `r2` and first column sum `c1`; returns (lowest k, probabilities).
fn hypergeometric_pmf(r1: u64, r2: u64, c1: u64) -> (u64, Vec<f64>) {
    let lo = c1.saturating_sub(r2);
    let hi = r1.min(c1);
    let len = (hi - lo + 1) as usize;
    // Ratio of successive terms: P(k+1)/P(k) = (r1-k)(c1-k) / ((k+1)(r2-c1+k+1)).
    let ratio = |k: u64| -> f64 {
        let (k, r1, r2, c1) = (k as f64, r1 as f64, r2 as f64, c1 as f64);
        (r1 - k) * (c1 - k) / ((k + 1.0) * (r2 - c1 + k + 1.0))
    };
    // Start from the mode (largest term) and walk outwards in log space, then normalise.
    let n = (r1 + r2) as f64;
    let mode =
        ((((c1 as f64) + 1.0) * ((r1 as f64) + 1.0) / (n + 2.0)).floor() as u64).clamp(lo, hi);
    let mut logp = vec![0.0f64; len];
    let m = (mode - lo) as usize;
    for i in m + 1..len {
        let k = lo + i as u64 - 1;
        logp[i] = logp[i - 1] + ratio(k).ln();
    }
    for i in (0..m).rev() {
        let k = lo + i as u64;
        logp[i] = logp[i + 1] - ratio(k).ln();
    }
    let mut p: Vec<f64> = logp.iter().map(|l| l.exp()).collect();
    let total: f64 = p.iter().sum();
    for v in p.iter_mut() {
        *v /= total;
    }
    (lo, p)
}

/// Two-sided Fisher exact test of the table `[[a, b], [c, d]]`, scipy's algorithm.
pub fn fisher_two_sided(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (r1, r2, c1) = (a + b, c + d, a + c);
    if r1 == 0 || r2 == 0 || c1 == 0 || b + d == 0 {
        return 1.0;
    }
    let (lo, p) = hypergeometric_pmf(r1, r2, c1);
    let (lo, hi) = (lo as i64, lo as i64 + p.len() as i64 - 1);
    // Defined on all integers, zero outside the support, as scipy's hypergeom.
    let pmf = |k: i64| {
        if k < lo || k > hi {
            0.0
        } else {
            p[(k - lo) as usize]
        }
    };
    let cdf = |k: i64| {
        if k < lo {
            0.0
        } else {
            p[..=((k.min(hi) - lo) as usize)].iter().sum::<f64>()
        }
    };
    let sf = |k: i64| {
        if k >= hi {
            0.0
        } else {
            p[((k + 1).max(lo) - lo) as usize..].iter().sum::<f64>()
        }
    };
    let n = (r1 + r2) as f64;
    let mode = (((c1 as f64) + 1.0) * ((r1 as f64) + 1.0) / (n + 2.0)) as i64;
    let a = a as i64;
    let pexact = pmf(a);
    let pmode = pmf(mode);
    let gamma = 1.0 + 1e-14;
    if (pexact - pmode).abs() / pexact.max(pmode) <= 1e-14 {
        return 1.0;
    }
    let value = if a < mode {
        let plower = cdf(a);
        if pmf(c1 as i64) > pexact * gamma {
            return plower.min(1.0);
        }
        let guess = binary_search(|x| -pmf(x), -pexact * gamma, mode, c1 as i64);
        plower + sf(guess)
    } else {
        let pupper = sf(a - 1);
        if pmf(0) > pexact * gamma {
            return pupper.min(1.0);
        }
        let guess = binary_search(pmf, pexact * gamma, 0, mode);
        pupper + cdf(guess)
    };
    value.min(1.0)
}
