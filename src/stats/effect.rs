//! An estimate with its confidence interval: the shape every comparison's difference,
//! ratio and rate shares (`TwoByTwoResult`, `Comparison`).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Interval;

/// An estimate and its confidence interval (`None` when it cannot be computed, e.g. a log
/// interval with an empty cell).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Effect {
    /// The point estimate.
    pub estimate: f64,
    /// The interval, at the result's confidence level.
    pub interval: Option<Interval>,
}

impl Effect {
    /// An estimate with the interval `[low, high]`.
    pub fn new(estimate: f64, low: f64, high: f64) -> Effect {
        Effect {
            estimate,
            interval: Some(Interval { low, high }),
        }
    }

    /// An estimate with an interval when both limits are known.
    pub fn maybe(estimate: f64, low: Option<f64>, high: Option<f64>) -> Effect {
        Effect {
            estimate,
            interval: low.zip(high).map(|(low, high)| Interval { low, high }),
        }
    }

    /// The lower limit, if any.
    pub fn low(&self) -> Option<f64> {
        self.interval.map(|i| i.low)
    }

    /// The upper limit, if any.
    pub fn high(&self) -> Option<f64> {
        self.interval.map(|i| i.high)
    }

    /// The interval's limits; `NaN` when there is none (for display only: a risk
    /// difference always has one).
    pub fn limits(&self) -> (f64, f64) {
        self.interval
            .map_or((f64::NAN, f64::NAN), |i| (i.low, i.high))
    }

    /// Whether the interval lies wholly above or below `value`.
    pub fn excludes(&self, value: f64) -> bool {
        self.interval
            .is_some_and(|i| i.low > value || i.high < value)
    }
}

/// Serialises an effect flat, under three keys (estimate, lower, upper), as the JSON of
/// CONTRACT §3 has them (`risk_difference`, `rd_ci_low`, `rd_ci_high`).
pub(crate) fn flat<S: Serializer>(
    e: Option<&Effect>,
    s: S,
    keys: [&'static str; 3],
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(3))?;
    m.serialize_entry(keys[0], &e.map(|e| e.estimate))?;
    m.serialize_entry(keys[1], &e.and_then(Effect::low))?;
    m.serialize_entry(keys[2], &e.and_then(Effect::high))?;
    m.end()
}

/// `#[serde(flatten, serialize_with = ...)]` functions for an `Effect` (or `Option<Effect>`)
/// field under three keys.
macro_rules! flat_keys {
    ($($name:ident: $ty:ty => [$a:literal, $b:literal, $c:literal];)*) => {$(
        pub(crate) fn $name<S: serde::Serializer>(e: &$ty, s: S) -> Result<S::Ok, S::Error> {
            $crate::stats::effect::flat(Option::<&$crate::stats::Effect>::from(e), s, [$a, $b, $c])
        }
    )*};
}
pub(crate) use flat_keys;
