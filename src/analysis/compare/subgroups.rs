//! Subgroup comparisons, with p-values adjusted for their number.

use super::groups::collect;
use super::{Against, CompareOptions, PeriodFilter, Subgroup};
use crate::data::People;
use crate::error::Result;
use crate::measure::{Grouping, Outcomes};
use crate::stats::{CiMethod, TwoByTwo, adjust, binomial_test, proportion_ci};

// Over 80 lines: one loop over subgroups with the same two branches (group, benchmark) as the
// headline comparison.
pub(super) fn subgroups(
    people: &People,
    outcomes: &Outcomes,
    treatment: &str,
    against: &Against,
    options: &CompareOptions,
) -> Result<Vec<Subgroup>> {
    let grouping = Grouping::new(people, &options.by)?;
    // Subgroup = breakdown values without the cohort (first key).
    let mut keys: Vec<Vec<Option<String>>> =
        grouping.keys.iter().map(|k| k[1..].to_vec()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let member = |i: usize| grouping.keys[grouping.group_of[i] as usize][1..] == key[..];
        let t = collect(people, outcomes, "treatment", treatment, member)?;
        let (control_n, control_rate, rd, lo, hi, p) = match against {
            Against::Group(control) => {
                let period = PeriodFilter::new(people, treatment, options.period);
                let k = collect(people, outcomes, "control", control, |i| {
                    member(i) && period.keeps(people, i)
                })?;
                if t.n == 0 || k.n == 0 {
                    (
                        k.n,
                        (k.n > 0).then(|| k.reoffenders as f64 / k.n as f64),
                        None,
                        None,
                        None,
                        None,
                    )
                } else {
                    let r = TwoByTwo {
                        x1: t.reoffenders,
                        n1: t.n,
                        x2: k.reoffenders,
                        n2: k.n,
                    }
                    .compare(options.confidence, options.rd_method)?;
                    (
                        k.n,
                        Some(r.p2),
                        Some(r.risk_difference.estimate),
                        r.risk_difference.low(),
                        r.risk_difference.high(),
                        r.fisher_exact.p_value,
                    )
                }
            }
            Against::Baseline { rate, .. } => {
                if t.n == 0 {
                    (0, Some(*rate), None, None, None, None)
                } else {
                    let ci =
                        proportion_ci(t.reoffenders, t.n, options.confidence, CiMethod::Wilson)?;
                    let p = t.reoffenders as f64 / t.n as f64;
                    (
                        0,
                        Some(*rate),
                        Some(p - rate),
                        ci.map(|c| c.low - rate),
                        ci.map(|c| c.high - rate),
                        Some(binomial_test(t.reoffenders, t.n, *rate)?.p_two_sided),
                    )
                }
            }
        };
        out.push(Subgroup {
            key: grouping.names[1..]
                .iter()
                .cloned()
                .zip(key.iter().cloned())
                .collect(),
            treatment_n: t.n,
            treatment_rate: (t.n > 0).then(|| t.reoffenders as f64 / t.n as f64),
            control_n,
            control_rate,
            risk_difference: rd,
            rd_ci_low: lo,
            rd_ci_high: hi,
            p_value: p,
            p_adjusted: None,
            significant: false,
        });
    }
    let idx: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].p_value.is_some())
        .collect();
    let raw: Vec<f64> = idx.iter().filter_map(|&i| out[i].p_value).collect();
    let adj = adjust(&raw, options.adjust);
    let alpha = 1.0 - options.confidence;
    for (k, &i) in idx.iter().enumerate() {
        out[i].p_adjusted = Some(adj[k]);
        out[i].significant = adj[k] < alpha;
    }
    Ok(out)
}
