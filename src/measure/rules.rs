//! The counting rules of the proven reoffending measure, each an option.

use serde::Serialize;

use crate::error::{Error, Result};

/// The rules of the Ministry of Justice proven reoffending measure, as options.
///
/// A **proven reoffence** is an offence committed in `(index_date, index_date +
/// follow_up]` (or `[index_date, ...]` with [`Rules::count_index_day`]) and proven by
/// `index_date + follow_up + waiting`. A person is **eligible** for the 12-month measure
/// when `index_date + follow_up + waiting <= extract_date`.
///
/// ```
/// let rules = reoffending::Rules::default();
/// assert_eq!((rules.follow_up_days, rules.waiting_days, rules.count_index_day), (365, 182, false));
/// ```
///
/// The evaluation file's `[rules]` table reads straight into this struct (keys as the fields
/// are named; each missing key keeps the default of the [`Default`] impl, the one place the
/// defaults are written); [`validate`](Self::validate) checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Days of follow-up from the index date. Default 365.
    pub follow_up_days: u32,
    /// Further days in which an offence committed during follow-up may be proven.
    /// Default 182 (six months).
    pub waiting_days: u32,
    /// Whether an offence on the index date itself counts. Default `false` (unconfirmed in
    /// the MoJ rules, so a documented choice).
    pub count_index_day: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            follow_up_days: 365,
            waiting_days: 182,
            count_index_day: false,
        }
    }
}

impl Rules {
    /// Checks the rules can be applied: follow-up of at least one day, at most 10 years.
    pub fn validate(&self) -> Result<()> {
        if self.follow_up_days == 0 || self.follow_up_days > 3653 {
            return Err(Error::option(
                "follow_up_days",
                format!("{} is outside 1..=3653", self.follow_up_days),
            ));
        }
        if self.waiting_days > 3653 {
            return Err(Error::option(
                "waiting_days",
                format!("{} is outside 0..=3653", self.waiting_days),
            ));
        }
        Ok(())
    }
}
