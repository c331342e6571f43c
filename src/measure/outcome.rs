//! Per-person outcomes: the parallel kernel every analysis starts from.

use rayon::prelude::*;

use super::rules::Rules;
use crate::data::dates::Day;
use crate::data::{DataQuality, Dataset, Exclusion, Offences, Reason, TableKind};
use crate::error::Result;

/// The counting window of one person under the rules (docs/rules.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// In the 12-month measure.
    pub eligible: bool,
    /// Days observed for survival analysis (`<= 0`: not yet observable).
    pub observed: i32,
    /// First offence day that counts.
    pub first_day: Day,
    /// Last offence day that counts.
    pub last_day: Day,
    /// Last disposal day that counts.
    pub last_disposal: Day,
}

impl Window {
    /// The window of a person indexed on `t0`.
    #[inline]
    pub fn new(rules: &Rules, extract: Option<Day>, t0: Day) -> Window {
        let (f, w8) = (rules.follow_up_days as i32, rules.waiting_days as i32);
        let (eligible, observed) = match extract {
            Some(e) => (t0 + f + w8 <= e, f.min(e - w8 - t0)),
            None => (false, 0),
        };
        Window {
            eligible,
            observed,
            first_day: if rules.count_index_day { t0 } else { t0 + 1 },
            last_day: t0 + if eligible { f } else { observed },
            last_disposal: if eligible {
                t0 + f + w8
            } else {
                extract.unwrap_or(Day::MIN).min(t0 + f + w8)
            },
        }
    }

    /// Rows of `offences` (of person `i`) that are proven reoffences in this window.
    #[inline]
    pub fn reoffences<'a>(
        &self,
        offences: &'a Offences,
        i: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        let r = offences.range(i);
        let od = &offences.offence_day[r.clone()];
        // Offences are sorted by offence date: skip those before the window.
        let from = r.start + od.partition_point(|&o| o < self.first_day);
        let w = *self;
        (from..r.end)
            .take_while(move |&k| offences.offence_day[k] <= w.last_day)
            .filter(move |&k| offences.disposal_day[k] <= w.last_disposal)
    }
}

/// Offences of person `i` committed in `[t0 - days, t0)` and disposed of before `t0`.
fn prior_year(off: &Offences, i: usize, t0: Day, days: i32) -> u32 {
    let r = off.range(i);
    let od = &off.offence_day[r.clone()];
    // Offences are sorted by offence date within a person.
    let from = r.start + od.partition_point(|&o| o < t0.saturating_sub(days));
    let to = r.start + od.partition_point(|&o| o < t0);
    (from..to).filter(|&k| off.disposal_day[k] < t0).count() as u32
}

/// No proven reoffence.
pub const NO_REOFFENCE: i32 = -1;

/// What the measure says of each person kept (same order as [`crate::People`]).
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    /// The rules applied.
    pub rules: Rules,
    /// The extract date used.
    pub extract_date: Option<Day>,
    /// In the 12-month measure (full follow-up and waiting period before the extract).
    pub eligible: Vec<bool>,
    /// Proven reoffences: under the 12-month rules for eligible people; for others, those
    /// committed in the observed window (see `observed_days`).
    pub reoffences: Vec<u32>,
    /// Days from the index date to the first proven reoffence, or [`NO_REOFFENCE`].
    pub days_to_first: Vec<i32>,
    /// Days observed for survival analysis: `min(follow_up, extract - waiting - index)`;
    /// a person with `observed_days <= 0` cannot yet be observed.
    pub observed_days: Vec<i32>,
    /// Whether a first proven reoffence was seen within `observed_days`.
    pub event: Vec<bool>,
    /// Proven offences in the follow-up length before the index date: offence date in
    /// `[index - follow_up, index)` and disposed of before the index date, so the index
    /// offence itself (disposed of on the index date) is not one. The placebo outcome: the
    /// scheme cannot have caused it.
    pub prior_year: Vec<u32>,
}

impl Outcomes {
    /// Applies the rules to every person, in parallel.
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let cohort = dir.path().join("c.csv");
    /// # let offences = dir.path().join("o.csv");
    /// std::fs::write(&cohort, "person_id,cohort,index_date\nA,divert,2021-01-10\n").unwrap();
    /// std::fs::write(&offences, "person_id,offence_date,disposal_date\nA,2021-03-01,2021-05-01\nA,2021-01-10,2021-02-01\n").unwrap();
    /// let options = reoffending::LoadOptions { extract_date: reoffending::parse_iso("2023-01-01"), ..Default::default() };
    /// let data = reoffending::Dataset::load(&cohort, &offences, &options)?;
    /// let out = reoffending::Outcomes::compute(&data, &reoffending::Rules::default())?;
    /// assert!(out.eligible[0]);
    /// assert_eq!(out.reoffences[0], 1); // the offence on the index date does not count
    /// assert_eq!(out.days_to_first[0], 50);
    /// # Ok(()) }
    /// ```
    pub fn compute(data: &Dataset, rules: &Rules) -> Result<Outcomes> {
        rules.validate()?;
        let _t = crate::trace::Phase::start("outcomes");
        let n = data.people.len();
        let extract = data.extract_date;
        let off = &data.offences;
        let per: Vec<(bool, u32, i32, i32, bool, u32)> = (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .map(|i| {
                let t0 = data.people.index_day[i];
                let w = Window::new(rules, extract, t0);
                let mut count = 0u32;
                let mut first = NO_REOFFENCE;
                for k in w.reoffences(off, i) {
                    count += 1;
                    if first == NO_REOFFENCE {
                        first = off.offence_day[k] - t0;
                    }
                }
                let (eligible, observed) = (w.eligible, w.observed);
                let prior = prior_year(off, i, t0, rules.follow_up_days as i32);
                (
                    eligible,
                    count,
                    first,
                    observed,
                    first != NO_REOFFENCE,
                    prior,
                )
            })
            .collect();
        let mut out = Outcomes {
            rules: *rules,
            extract_date: extract,
            eligible: Vec::with_capacity(n),
            reoffences: Vec::with_capacity(n),
            days_to_first: Vec::with_capacity(n),
            observed_days: Vec::with_capacity(n),
            event: Vec::with_capacity(n),
            prior_year: Vec::with_capacity(n),
        };
        for (e, c, d, o, ev, p) in per {
            out.eligible.push(e);
            out.reoffences.push(c);
            out.days_to_first.push(d);
            out.observed_days.push(o);
            out.event.push(ev);
            out.prior_year.push(p);
        }
        Ok(out)
    }

    /// Number of people.
    pub fn len(&self) -> usize {
        self.eligible.len()
    }

    /// True when there is no one.
    pub fn is_empty(&self) -> bool {
        self.eligible.is_empty()
    }

    /// The attrition of the 12-month measure: the data layer's exclusions plus
    /// `insufficient_follow_up` for people kept only for survival analysis.
    pub fn attrition(&self, data: &Dataset) -> DataQuality {
        let mut q = data.quality.clone();
        let mut rows: Vec<u64> = Vec::new();
        let mut count = 0u64;
        for (i, &e) in self.eligible.iter().enumerate() {
            if !e {
                count += 1;
                rows.push(data.people.source_row[i]);
            }
        }
        rows.sort_unstable();
        rows.truncate(crate::data::FIRST_ROWS_KEPT);
        q.add(Exclusion {
            table: TableKind::Cohort,
            reason: Reason::InsufficientFollowUp,
            rows: count,
            first_rows: rows,
            first_files: Vec::new(),
        });
        q.rows_used.cohort -= count;
        q
    }
}
