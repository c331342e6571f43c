//! How strong hidden bias would have to be to explain a finding away: the E-value
//! (VanderWeele and Ding, Annals of Internal Medicine 2017) and Rosenbaum bounds for 1:1
//! matched pairs with a binary outcome (Rosenbaum, *Observational Studies*, 2002, §4.3;
//! R's `rbounds::binarysens`).

use serde::Serialize;
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::stats::Result;

/// The E-value of a relative risk and of the interval limit closest to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EValue {
    /// For the point estimate: the risk ratio an unmeasured factor would need with both the
    /// treatment and the outcome to move the estimate to 1 (1 when the estimate is 1).
    pub estimate: f64,
    /// For the interval limit closest to 1: the strength needed to move the interval to
    /// include 1; exactly 1 when it already does.
    pub interval_limit: f64,
}

/// `E = RR + sqrt(RR (RR - 1))` for `RR >= 1`, applied to `1 / RR` below 1.
fn e_of(rr: f64) -> f64 {
    let r = if rr < 1.0 { 1.0 / rr } else { rr };
    r + (r * (r - 1.0)).sqrt()
}

/// The E-value of relative risk `rr` with interval `[low, high]`.
///
/// `None` when the estimate is not a positive finite number (a relative risk of 0 has no
/// finite E-value: no reoffender in the pilot group).
///
/// ```
/// use reoffending::stats::e_value;
/// // VanderWeele and Ding's example: RR 3.9 (1.8 to 8.7) gives 7.26 and 3.0.
/// let e = e_value(3.9, 1.8, 8.7).unwrap();
/// assert!((e.estimate - 7.2630).abs() < 1e-4 && (e.interval_limit - 3.0).abs() < 1e-12);
/// // An interval that includes 1 needs no confounding at all to include 1.
/// assert_eq!(e_value(0.8, 0.6, 1.1).unwrap().interval_limit, 1.0);
/// ```
pub fn e_value(rr: f64, low: f64, high: f64) -> Option<EValue> {
    if !(rr.is_finite() && rr > 0.0) {
        return None;
    }
    let interval_limit = if low <= 1.0 && high >= 1.0 {
        1.0
    } else if rr > 1.0 {
        e_of(low)
    } else if high > 0.0 {
        e_of(high)
    } else {
        return None;
    };
    Some(EValue {
        estimate: e_of(rr),
        interval_limit,
    })
}

/// The one-sided p-value's upper bound at one level of hidden bias.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaBound {
    /// Gamma: how many times more likely one member of a pair could be to be treated than
    /// the other, for reasons the data do not record (1 = no hidden bias).
    pub gamma: f64,
    /// Upper bound on the one-sided p-value at this Gamma.
    pub p_upper: f64,
}

/// Which way the matched pairs point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairDirection {
    /// More pairs in which only the comparison person reoffended: the pilot looks better.
    PilotLower,
    /// More pairs in which only the pilot person reoffended.
    PilotHigher,
}

/// Rosenbaum bounds for 1:1 matched pairs with a binary outcome (McNemar / sign-test form).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosenbaumBounds {
    /// Pairs in which exactly one person reoffended.
    pub discordant_pairs: u64,
    /// Discordant pairs in which only the pilot person reoffended.
    pub treated_only: u64,
    /// Discordant pairs in which only the comparison person reoffended.
    pub control_only: u64,
    /// The direction tested: the one the pairs point in.
    pub direction: PairDirection,
    /// The bound for Gamma = 1, 1.1, ..., 3.
    pub gammas: Vec<GammaBound>,
    /// The significance level used for `gamma_at_alpha`.
    pub alpha: f64,
    /// The smallest Gamma at which the bound reaches `alpha` (to 1e-6): hidden bias of this
    /// size could explain the finding away. 1 when the result is not significant even
    /// without hidden bias; null when there are no discordant pairs.
    pub gamma_at_alpha: Option<f64>,
}

/// Why Rosenbaum bounds cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosenbaumError {
    /// The significance level is not strictly between 0 and 1.
    #[error("the significance level must be strictly between 0 and 1")]
    Alpha,
}

/// `P(Binomial(d, gamma / (1 + gamma)) >= t)`.
fn tail(d: u64, t: u64, gamma: f64) -> f64 {
    if t == 0 {
        return 1.0;
    }
    if t > d {
        return 0.0;
    }
    let p = gamma / (1.0 + gamma);
    // p is in [0.5, 1) for gamma >= 1 and d >= 1, which Binomial::new accepts; a gamma so
    // large that p rounds to 1 makes every pair point one way, so the tail is 1.
    match Binomial::new(p, d) {
        Ok(b) => b.sf(t - 1).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// Rosenbaum bounds from the discordant pairs of a 1:1 matched comparison.
///
/// Among `D = treated_only + control_only` discordant pairs, `T` is the count on the side
/// the pairs point to (`control_only` when the pilot looks better, as in Rosenbaum's
/// statement of the test); under hidden bias Gamma the one-sided p-value is at most
/// `P(Binomial(D, Gamma / (1 + Gamma)) >= T)`.
///
/// ```
/// use reoffending::stats::rosenbaum;
/// let r = rosenbaum(10, 25, 0.05).unwrap();
/// // Gamma = 1 is McNemar's exact one-sided test: scipy binom.sf(24, 35, 0.5) = 0.0083369.
/// assert!((r.gammas[0].p_upper - 0.0083369).abs() < 1e-6);
/// assert!(r.gamma_at_alpha.unwrap() > 1.0);
/// ```
pub fn rosenbaum(
    treated_only: u64,
    control_only: u64,
    alpha: f64,
) -> Result<RosenbaumBounds, RosenbaumError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(RosenbaumError::Alpha);
    }
    let d = treated_only + control_only;
    let (direction, t) = if control_only >= treated_only {
        (PairDirection::PilotLower, control_only)
    } else {
        (PairDirection::PilotHigher, treated_only)
    };
    let gammas = (0..=20)
        .map(|k| {
            let gamma = 1.0 + f64::from(k) / 10.0;
            GammaBound {
                gamma,
                p_upper: tail(d, t, gamma),
            }
        })
        .collect();
    let gamma_at_alpha = if d == 0 {
        None
    } else if tail(d, t, 1.0) >= alpha {
        Some(1.0)
    } else {
        // The bound rises with Gamma towards 1 (t >= 1 here): bisect on log Gamma.
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while tail(d, t, hi.exp()) < alpha && hi < 60.0 {
            lo = hi;
            hi *= 2.0;
        }
        while hi.exp() - lo.exp() > 1e-7 {
            let mid = (lo + hi) / 2.0;
            if tail(d, t, mid.exp()) < alpha {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi.exp())
    };
    Ok(RosenbaumBounds {
        discordant_pairs: d,
        treated_only,
        control_only,
        direction,
        gammas,
        alpha,
        gamma_at_alpha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_value_by_hand() {
        // RR 2: 2 + sqrt(2) = 3.41421356...
        let e = e_value(2.0, 1.5, 2.7).unwrap();
        assert!((e.estimate - (2.0 + 2f64.sqrt())).abs() < 1e-12);
        // Lower limit 1.5: 1.5 + sqrt(0.75).
        assert!((e.interval_limit - (1.5 + 0.75f64.sqrt())).abs() < 1e-12);
        // RR 0.5 is RR 2 inverted; the limit closest to 1 is the upper one (0.8 -> 1.25).
        let e = e_value(0.5, 0.3, 0.8).unwrap();
        assert!((e.estimate - (2.0 + 2f64.sqrt())).abs() < 1e-12);
        assert!((e.interval_limit - (1.25 + (1.25f64 * 0.25).sqrt())).abs() < 1e-12);
        assert_eq!(e_value(1.0, 0.9, 1.1).unwrap().estimate, 1.0);
        assert!(e_value(0.0, 0.0, 0.5).is_none());
        assert!(e_value(f64::NAN, 0.0, 0.5).is_none());
    }

    #[test]
    fn rosenbaum_edges() {
        let r = rosenbaum(0, 0, 0.05).unwrap();
        assert_eq!(r.gamma_at_alpha, None);
        assert!(r.gammas.iter().all(|g| g.p_upper == 1.0));
        assert_eq!(r.gammas.len(), 21);
        assert!((r.gammas[20].gamma - 3.0).abs() < 1e-12);
        // Not significant without hidden bias: Gamma at alpha is 1.
        assert_eq!(rosenbaum(10, 12, 0.05).unwrap().gamma_at_alpha, Some(1.0));
        // The direction follows the pairs; swapping mirrors.
        let (a, b) = (
            rosenbaum(5, 30, 0.05).unwrap(),
            rosenbaum(30, 5, 0.05).unwrap(),
        );
        assert_eq!(a.direction, PairDirection::PilotLower);
        assert_eq!(b.direction, PairDirection::PilotHigher);
        assert_eq!(a.gammas, b.gammas);
        // At gamma_at_alpha the bound is alpha (continuity in Gamma).
        let g = a.gamma_at_alpha.unwrap();
        assert!((tail(35, 30, g) - 0.05).abs() < 1e-6, "{}", tail(35, 30, g));
        assert!(rosenbaum(1, 1, 0.0).is_err());
    }
}
