//! Statistical disclosure control: the one gate every published figure passes.
//!
//! [`gate`] turns the typed results into the only thing the renderers (HTML, Markdown,
//! JSON, CSV, spreadsheet, charts and their sentences) ever see: a JSON value in which
//! every figure resting on a small count is replaced by `[c]`. The typed results do not
//! reach the renderers, so none of them can publish an unredacted count.
//!
//! The method (`docs/disclosure.md`):
//! - primary: a cell is suppressed when its people, reoffenders or non-reoffenders number
//!   fewer than `min_cell`, with every figure derived from it (rates, intervals, tests,
//!   per-100 sentences, costs, survival and monitoring points);
//! - secondary, within every published breakdown (cohort by sex and age band, quarters of a
//!   cohort, subgroups): each breakdown is treated as if its total were published, so when
//!   cells are suppressed, further cells (smallest first) are suppressed until at least two
//!   are and the suppressed cells together hold at least `min_cell` people, reoffenders and
//!   non-reoffenders;
//! - points over time (Kaplan-Meier steps, survival at fixed days, monitoring rates at equal
//!   follow-up): published only where at least `min_cell` events have accumulated since the
//!   previous published point, so that no difference of two points is a small count;
//! - models and balance: a Cox model is withheld when a group has fewer than `min_cell`
//!   events or non-events; a balance row of a binary term is withheld when fewer than
//!   `min_cell` people in a group have (or lack) it;
//! - every adjusted design (`effect`): withheld whole with the matched comparison, or when a
//!   group's reoffenders or non-reoffenders (before or after matching) are fewer than
//!   `min_cell`; an effective sample size below `min_cell` is suppressed; the
//!   propensity-score bins are merged until each holds none or at least `min_cell` people of
//!   each group;
//! - sentences fail closed: in any object where a figure was suppressed, every sentence (a
//!   text field with a digit and four words or more: a summary, a projection's basis, a
//!   caveat) is withheld, unless its key is one of the few that hold labels
//!   ([`LABEL_KEYS`]) or the gate rewrote it, since a sentence written before the gate may
//!   quote the hidden figure or one it can be worked out from;
//! - figures that rest on a suppressed count go with it: the power calculation (on the
//!   pilot's n) with the comparison's pilot count, the people whose follow-up cannot be
//!   observed with the survival groups' rule.
//! - differences between linked tables (issue 29) are closed where they are known to pin a
//!   count: the attrition (rows read less used, insufficient follow-up less the survival
//!   groups), the pilot-period check less its comparison, chart steps against survival at
//!   fixed days, survival n less the 12-month measure (partial follow-up, by cohort and by
//!   breakdown level), a balance
//!   covariate's reference level, Rosenbaum's pairs against the matched reoffenders, and
//!   withheld rows known to hold someone (complementary suppression counts one each).

use serde_json::{Value, json};

use super::ReportOptions;
use crate::error::{Error, Result};
use crate::evaluation::Results;

/// The marker for a suppressed value.
pub const SUPPRESSED: &str = "[c]";

/// What `[c]` means, the whole rule, for every table's note.
pub fn suppressed_note(min_cell: u64) -> String {
    format!(
        "[c] withheld: it rests on fewer than {min_cell} people, reoffenders or \
         non-reoffenders (or events), or, published, it would let such a count be worked out \
         from other figures of this report."
    )
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

/// Field `k` of every group as a number (0 where it is missing or not a number).
fn column(groups: &[Value], k: &str) -> Vec<f64> {
    groups.iter().map(|g| num(g, k).unwrap_or(0.0)).collect()
}

fn suppress(v: &mut Value, keys: &[&str]) {
    if let Value::Object(m) = v {
        for k in keys {
            if m.contains_key(*k) {
                m.insert((*k).to_string(), json!(SUPPRESSED));
            }
        }
    }
}

/// A monitoring quarter's figures that go with its events (shared with the whole-report
/// audit).
pub(super) const MONITOR_EVENTS: [&str; 10] = [
    "events_so_far",
    "estimate_12m",
    "ci_low",
    "ci_high",
    "observed_rate",
    "rate_at",
    "projected_12m",
    "projected_low",
    "projected_high",
    "projection_share",
];

/// A monitoring quarter's projection: published only where the rate it starts from (the
/// quarter's `rate_at` on `projection_day`) is published, and the reference's share rests on
/// no small count (its reoffences after that day, when there are any, and the people it
/// followed past that day without one, each at least `k`). Its sentence quotes both.
fn projections(m: &mut Value, typed: &crate::monitor::Monitor, k: f64) {
    let Some(Value::Array(groups)) = m.get_mut("groups") else {
        return;
    };
    for (g, t) in groups.iter_mut().zip(&typed.groups) {
        if g["projected_12m"].is_null() {
            continue;
        }
        let start_shown = t
            .projection_day
            .is_some_and(|d| g["rate_at"][d.to_string()].is_object());
        let share_safe = t
            .projection_counts
            .is_some_and(|(events, none)| (events == 0 || events as f64 >= k) && none as f64 >= k);
        if !(start_shown && share_safe) {
            suppress(
                g,
                &[
                    "projected_12m",
                    "projected_low",
                    "projected_high",
                    "projection_share",
                ],
            );
            if let Value::Object(o) = g {
                if o.get("projection_basis").is_some_and(Value::is_string) {
                    o.insert("projection_basis".into(), json!(WITHHELD_SENTENCE));
                }
            }
        }
    }
}

/// A rates row's figures that go with its reoffenders (shared with the whole-report audit).
pub(super) const RATE_DERIVED: [&str; 12] = [
    "reoffenders",
    "reoffences",
    "rate",
    "ci_low",
    "ci_high",
    "reoffences_per_offender",
    "reoffences_per_reoffender",
    "mean_days_to_first",
    "median_days_to_first",
    "baseline_p_two_sided",
    "baseline_p_less",
    "baseline_p_greater",
];

/// Rates: primary suppression where the group, its reoffenders or its non-reoffenders
/// number fewer than `k`; complementary suppression within each cohort's breakdown.
pub fn rates(rates: &mut Value, k: f64) {
    let Some(groups) = rates.get_mut("groups").and_then(Value::as_array_mut) else {
        return;
    };
    let n = column(groups, "eligible");
    let x = column(groups, "reoffenders");
    let mut hide_n = vec![false; groups.len()];
    let mut hide_x = vec![false; groups.len()];
    for rows in breakdowns(groups, &n) {
        let people: Vec<f64> = rows.iter().map(|&i| n[i]).collect();
        let re: Vec<f64> = rows.iter().map(|&i| x[i]).collect();
        let non: Vec<f64> = rows.iter().map(|&i| n[i] - x[i]).collect();
        let mut hn: Vec<bool> = people.iter().map(|&v| v < k).collect();
        complement(std::slice::from_ref(&people), &mut hn, k, true);
        // A hidden size hides its rate too (the rate and reoffenders would give it back).
        let mut hx: Vec<bool> = (0..rows.len())
            .map(|r| hn[r] || re[r] < k || non[r] < k)
            .collect();
        complement(&[people.clone(), re, non], &mut hx, k, true);
        for (r, &i) in rows.iter().enumerate() {
            hide_n[i] = hn[r];
            hide_x[i] = hx[r];
        }
    }
    for (i, g) in groups.iter_mut().enumerate() {
        if hide_n[i] {
            suppress(g, &["eligible"]);
        }
        if hide_x[i] {
            suppress(g, &RATE_DERIVED);
        }
    }
}

/// A comparison: suppressed entirely (but its verdict explains why) when a group's
/// reoffenders or non-reoffenders number fewer than `k`.
pub fn comparison(c: &mut Value, k: f64) {
    let small = |n: Option<f64>, x: Option<f64>| match (n, x) {
        (Some(n), Some(x)) => x < k || n - x < k,
        _ => false,
    };
    // The counts as computed, for the period check's differences.
    let parent = c.clone();
    if small(num(c, "treatment_n"), num(c, "treatment_reoffenders"))
        || small(num(c, "control_n"), num(c, "control_reoffenders"))
    {
        withhold_comparison(
            c,
            &format!(
                "Not published: fewer than {k} people reoffended (or did not) in a group, so the figures could identify individuals."
            ),
        );
    }
    if let Some(p) = c.get_mut("period_check").filter(|p| p.is_object()) {
        period_check(p, k, &parent);
    }
    if let Some(Value::Array(subs)) = c.get_mut("subgroups") {
        subgroups(subs, k);
    }
}

/// Withholds every figure of a comparison, keeping its labels and caveats, with `why` as
/// its summary.
pub(crate) fn withhold_comparison(c: &mut Value, why: &str) {
    if let Value::Object(m) = c {
        let keep = [
            "treatment",
            "control",
            "baseline_rate",
            "baseline_name",
            "baseline_source",
            "kind",
            "confidence",
            "caveats",
        ];
        for (key, val) in m.iter_mut() {
            if !keep.contains(&key.as_str()) {
                *val = json!(SUPPRESSED);
            }
        }
        m.insert("summary".into(), json!(why));
        m.insert("significant".into(), Value::Null);
    }
}

/// Subgroup comparisons: a subgroup's rates are withheld when either side's people,
/// reoffenders or non-reoffenders number fewer than `k`, with complementary suppression
/// across the subgroups (they partition both groups).
fn subgroups(subs: &mut [Value], k: f64) {
    let side = |s: &Value, n: &str, r: &str| {
        let n = num(s, n).unwrap_or(0.0);
        let x = num(s, r).map_or(0.0, |r| (r * n).round());
        (n, x, n - x)
    };
    let t: Vec<(f64, f64, f64)> = subs
        .iter()
        .map(|s| side(s, "treatment_n", "treatment_rate"))
        .collect();
    let c: Vec<(f64, f64, f64)> = subs
        .iter()
        .map(|s| side(s, "control_n", "control_rate"))
        .collect();
    let small = |v: &(f64, f64, f64)| v.0 > 0.0 && (v.0 < k || v.1 < k || v.2 < k);
    let mut hidden: Vec<bool> = (0..subs.len())
        .map(|i| small(&t[i]) || small(&c[i]))
        .collect();
    let dims: Vec<Vec<f64>> = vec![
        t.iter().map(|v| v.0).collect(),
        t.iter().map(|v| v.1).collect(),
        t.iter().map(|v| v.2).collect(),
        c.iter().map(|v| v.0).collect(),
        c.iter().map(|v| v.1).collect(),
        c.iter().map(|v| v.2).collect(),
    ];
    complement(&dims, &mut hidden, k, false);
    for (i, s) in subs.iter_mut().enumerate() {
        if hidden[i] {
            suppress(
                s,
                &[
                    "treatment_rate",
                    "control_rate",
                    "risk_difference",
                    "rd_ci_low",
                    "rd_ci_high",
                    "p_value",
                    "p_adjusted",
                ],
            );
        }
        // Sizes too: the hidden rows' sizes together hold at least k (above), so one small
        // size is not the total minus the others.
        if hidden[i] {
            suppress(s, &["treatment_n", "control_n"]);
        }
    }
}

/// A comparison over the other period, and its count of people outside the pilot's period.
///
/// The check and the comparison it checks (`parent`) differ only by the people indexed
/// outside the pilot's period: each group's people, reoffenders and non-reoffenders in one
/// less those in the other are theirs (issue 29, route 2). When any such difference is
/// between 1 and `k - 1`, the check is withheld whole with its count of people outside.
fn period_check(p: &mut Value, k: f64, parent: &Value) {
    let small = |d: f64| d > 0.0 && d < k;
    let differs_by_few = p.get("comparison").is_some_and(|c| {
        [
            ("treatment_n", "treatment_reoffenders"),
            ("control_n", "control_reoffenders"),
        ]
        .iter()
        .any(|(n, x)| {
            let d = |key: &str| match (num(parent, key), num(c, key)) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            };
            match (d(n), d(x)) {
                (Some(dn), Some(dx)) => {
                    small(dn.abs()) || small(dx.abs()) || small((dn - dx).abs())
                }
                (Some(dn), None) => small(dn.abs()),
                _ => false,
            }
        })
    });
    if num(p, "comparison_outside").is_some_and(|n| n > 0.0 && n < k) || differs_by_few {
        suppress(p, &["comparison_outside"]);
    }
    if let Some(c) = p.get_mut("comparison") {
        comparison(c, k);
        if differs_by_few && !c["significant"].is_null() {
            withhold_comparison(
                c,
                &format!(
                    "Not published: the people indexed outside the pilot's period, or those of them who reoffended \
                     (or did not), number fewer than {k}, and this check less the main comparison would give them back."
                ),
            );
        }
        if c["significant"].is_null() {
            let why = c["summary"].clone();
            p["summary"] = why;
        }
    }
}

/// Rosenbaum bounds: the discordant pairs are counts of people; the p-values recover them
/// with the pair count, so a small count withholds the whole table. With the matched
/// comparison (`parent`), the pilot's reoffenders less the pairs in which only the pilot
/// person reoffended are the pairs in which both did, and the pilot's people less the
/// discordant pairs and those are the pairs in which neither did (issue 29, route 8): a
/// small count of either withholds the table too.
fn rosenbaum(r: &mut Value, k: f64, parent: &Value) {
    let small = |n: f64| n > 0.0 && n < k;
    let mut small_count = ["discordant_pairs", "treated_only", "control_only"]
        .iter()
        .any(|key| num(r, key).is_some_and(small));
    if let (Some(n), Some(x), Some(pairs), Some(only)) = (
        num(parent, "treatment_n"),
        num(parent, "treatment_reoffenders"),
        num(r, "discordant_pairs"),
        num(r, "treated_only"),
    ) {
        let both = x - only;
        let neither = n - pairs - both;
        small_count |= small(both) || small(neither);
    }
    if small_count {
        *r = json!(SUPPRESSED);
    }
}

/// Whether a comparison object was withheld by [`comparison`].
pub fn is_suppressed(c: &Value) -> bool {
    c.get("risk_difference").and_then(Value::as_str) == Some(SUPPRESSED)
}

/// Cost-benefit figures rest on the comparison's counts: withheld with it.
pub fn costs(c: &mut Value) {
    let keep = [
        "price_year",
        "discount_rate",
        "horizon_years",
        "effect_basis",
        "optimism_bias",
        "persistence",
        "proven_to_actual",
        "discounting",
        "draws",
        "seed",
        "people_basis",
        "caveats",
        "items",
    ];
    if let Value::Object(m) = c {
        for (key, v) in m.iter_mut() {
            if !keep.contains(&key.as_str()) {
                *v = json!(SUPPRESSED);
            }
        }
        m.insert(
            "headline".into(),
            json!(
                "Not published: the comparison the value rests on has counts too small to publish."
            ),
        );
        if let Some(Value::Array(items)) = m.get_mut("items") {
            for it in items {
                suppress(it, &["total"]);
            }
        }
    }
}

/// The comparison group's offence mix behind the costs: each type's share times the
/// published count of reoffences gives that type's count back, so a share resting on fewer
/// than `k` reoffences is withheld with its money total. The shares sum to one and the value
/// of a reoffence (published) is their mix of public unit costs: two equations, so at least
/// three shares are withheld together, holding at least `k` reoffences, smallest first.
fn offence_mix(c: &mut Value, counts: &[Option<u64>], k: f64) {
    let Some(Value::Array(items)) = c.get_mut("items") else {
        return;
    };
    let mix: Vec<(usize, f64)> = counts
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (i, n as f64)))
        .collect();
    let mut hidden: Vec<bool> = mix.iter().map(|(_, n)| *n > 0.0 && *n < k).collect();
    if hidden.iter().any(|h| *h) {
        let mut order: Vec<usize> = (0..mix.len()).collect();
        order.sort_by(|&a, &b| mix[a].1.total_cmp(&mix[b].1).then(a.cmp(&b)));
        for &j in &order {
            let count = hidden.iter().filter(|h| **h).count();
            let held: f64 = mix
                .iter()
                .zip(&hidden)
                .filter(|(_, h)| **h)
                .map(|((_, n), _)| n)
                .sum();
            if count >= 3 && held >= k {
                break;
            }
            hidden[j] = true;
        }
    }
    for ((i, _), h) in mix.iter().zip(&hidden) {
        if *h {
            if let Some(it) = items.get_mut(*i) {
                suppress(it, &["quantity", "total"]);
            }
        }
    }
}

/// Survival: day-level tables are not published (they are counts of one or two people);
/// groups with fewer than `k` people or events keep only their labels.
pub fn survival(s: &mut Value, k: f64) {
    // People whose follow-up cannot be observed: a count like any other.
    if num(s, "not_observable").is_some_and(|x| x > 0.0 && x < k) {
        suppress(s, &["not_observable"]);
    }
    // A model fitted on groups with few events (or few without one) is withheld whole.
    let small_group = s["groups"].as_array().is_some_and(|gs| {
        gs.iter().any(|g| {
            let (n, e) = (num(g, "n").unwrap_or(0.0), num(g, "events").unwrap_or(0.0));
            n > 0.0 && (e < k || n - e < k)
        })
    });
    if small_group && s.get("cox").is_some_and(|c| !c.is_null()) {
        s["cox"] = json!(SUPPRESSED);
    }
    if let Some(Value::Array(groups)) = s.get_mut("groups") {
        for g in groups {
            if let Value::Object(m) = g {
                m.remove("table");
            }
            let (n, e) = (num(g, "n").unwrap_or(0.0), num(g, "events").unwrap_or(0.0));
            if n < k || e < k || n - e < k {
                suppress(
                    g,
                    &[
                        "events",
                        "median",
                        "median_ci_low",
                        "median_ci_high",
                        "rmst",
                        "survival_at",
                    ],
                );
                if n < k {
                    suppress(g, &["n"]);
                }
            }
        }
    }
}

/// People with partial follow-up (issue 29, routes 4 and 6): a survival group holds those
/// of its cohort (and breakdown level) in the 12-month measure and those with partial
/// follow-up, so its n less the measure's people there (the rates' rows of the same
/// cohort and levels, `rates`), and its events less their reoffenders, are the people with
/// partial follow-up and (about) their events. The check is made for each group against the
/// rates' rows of its levels (when the rates break down by them) and for each cohort's
/// groups together; when a difference, or the difference of the two, is between 1 and
/// `k - 1`, the groups keep only their labels (no steps), and the Cox model's n and events
/// (all groups' sums) are withheld. Returns the people with partial follow-up withheld here
/// who number fewer than `k` (the data-quality attrition counts them inside insufficient
/// follow-up).
fn partial_follow_up(s: &mut Value, before: &Value, rates: &Value, k: f64) -> f64 {
    let small = |d: f64| d > 0.0 && d < k;
    let groups_before: Vec<Value> = before["groups"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Value> = rates["groups"].as_array().cloned().unwrap_or_default();
    // A group's key: its text fields (cohort and breakdown levels).
    let key = |g: &Value| -> Vec<(String, String)> {
        g.as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(c, v)| v.as_str().map(|l| (c.clone(), l.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    // People and reoffenders of the rates' rows matching `key` on every column, when every
    // row has those columns.
    let measured = |key: &[(String, String)]| -> Option<(f64, f64)> {
        if rows.is_empty()
            || !rows
                .iter()
                .all(|r| key.iter().all(|(c, _)| r.get(c).is_some()))
        {
            return None;
        }
        let matching = rows.iter().filter(|r| {
            key.iter()
                .all(|(c, l)| r[c.as_str()].as_str() == Some(l.as_str()))
        });
        Some(matching.fold((0.0, 0.0), |(n, x), r| {
            (
                n + num(r, "eligible").unwrap_or(0.0),
                x + num(r, "reoffenders").unwrap_or(0.0),
            )
        }))
    };
    let flagged = |n: f64, e: f64, (m, x): (f64, f64)| {
        let (dn, dx) = (n - m, e - x);
        (small(dn) || small(dx) || small(dn - dx), dn)
    };
    let mut withheld = vec![false; groups_before.len()];
    let mut hidden_people = 0.0;
    // Each group against the rates' rows of its levels.
    for (i, g) in groups_before.iter().enumerate() {
        let (n, e) = (num(g, "n").unwrap_or(0.0), num(g, "events").unwrap_or(0.0));
        if let Some(m) = measured(&key(g)) {
            let (bad, dn) = flagged(n, e, m);
            if bad {
                withheld[i] = true;
                if small(dn) {
                    hidden_people += dn;
                }
            }
        }
    }
    // Each cohort's groups together against the cohort's rows.
    let mut cohorts: Vec<&str> = groups_before
        .iter()
        .filter_map(|g| g["cohort"].as_str())
        .collect();
    cohorts.sort_unstable();
    cohorts.dedup();
    for cohort in cohorts {
        let members: Vec<usize> = (0..groups_before.len())
            .filter(|&i| groups_before[i]["cohort"].as_str() == Some(cohort))
            .collect();
        let (n, e) = members.iter().fold((0.0, 0.0), |(n, e), &i| {
            let g = &groups_before[i];
            (
                n + num(g, "n").unwrap_or(0.0),
                e + num(g, "events").unwrap_or(0.0),
            )
        });
        let Some(m) = measured(&[("cohort".to_string(), cohort.to_string())]) else {
            continue;
        };
        let (bad, dn) = flagged(n, e, m);
        if bad {
            if small(dn) && !members.iter().any(|&i| withheld[i]) {
                hidden_people += dn;
            }
            for i in members {
                withheld[i] = true;
            }
        }
    }
    if !withheld.iter().any(|w| *w) {
        return 0.0;
    }
    if let Some(Value::Array(groups)) = s.get_mut("groups") {
        for (g, _) in groups.iter_mut().zip(&withheld).filter(|(_, w)| **w) {
            suppress(
                g,
                &[
                    "n",
                    "events",
                    "median",
                    "median_ci_low",
                    "median_ci_high",
                    "rmst",
                    "survival_at",
                ],
            );
            if let Value::Object(m) = g {
                m.insert("steps".into(), json!([]));
            }
        }
    }
    if let Some(c) = s.get_mut("cox").filter(|c| c.is_object()) {
        suppress(c, &["n", "events"]);
    }
    hidden_people
}

/// Monitoring rows (cohort by quarter): primary suppression as for rates, complementary
/// suppression within each cohort's quarters, and rates at equal follow-up published only
/// at days that add at least `k` events to the previous published day.
pub fn monitor(m: &mut Value, k: f64) {
    let Some(Value::Array(groups)) = m.get_mut("groups") else {
        return;
    };
    let n = column(groups, "people");
    let e = column(groups, "events_so_far");
    let full = column(groups, "full_follow_up");
    // Events among those followed for the full period, from their observed rate.
    let e_full: Vec<Option<f64>> = groups
        .iter()
        .zip(&full)
        .map(|(g, f)| num(g, "observed_rate").map(|r| (r * f).round()))
        .collect();
    let mut hide_n = vec![false; groups.len()];
    let mut hide_full = vec![false; groups.len()];
    let mut hide_x = vec![false; groups.len()];
    for rows in breakdowns(groups, &n) {
        let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let (people, ev, ff) = (pick(&n), pick(&e), pick(&full));
        let non: Vec<f64> = people.iter().zip(&ev).map(|(a, b)| a - b).collect();
        let mut hn: Vec<bool> = people.iter().map(|&v| v < k).collect();
        complement(std::slice::from_ref(&people), &mut hn, k, true);
        // Full follow-up withheld where it, or the people still being followed (the
        // quarter's people less it, a count of people too), is small (issue 29).
        let mut hf: Vec<bool> = (0..rows.len())
            .map(|r| {
                let partial = people[r] - ff[r];
                hn[r] || (ff[r] > 0.0 && ff[r] < k) || (partial > 0.0 && partial < k)
            })
            .collect();
        complement(std::slice::from_ref(&ff), &mut hf, k, false);
        let mut hx: Vec<bool> = (0..rows.len())
            .map(|r| {
                let small_full = e_full[rows[r]].is_some_and(|ef| ef < k || ff[r] - ef < k);
                hn[r] || ev[r] < k || non[r] < k || small_full
            })
            .collect();
        complement(&[people.clone(), ev, non], &mut hx, k, true);
        for (r, &i) in rows.iter().enumerate() {
            hide_n[i] = hn[r];
            hide_full[i] = hf[r];
            hide_x[i] = hx[r];
        }
    }
    for (i, g) in groups.iter_mut().enumerate() {
        if hide_n[i] {
            suppress(g, &["people"]);
        }
        if hide_full[i] {
            suppress(g, &["full_follow_up"]);
        }
        if hide_x[i] {
            suppress(g, &MONITOR_EVENTS);
        } else {
            rate_points(g, n[i], e[i], k);
        }
    }
}

/// Rates at equal follow-up (everyone in the row followed that long, so `rate * people` is
/// a count): kept from the last day back, a day only where at least `k` events separate it
/// from the next kept day (or the row's events so far) and from the start.
fn rate_points(g: &mut Value, people: f64, events: f64, k: f64) {
    let Some(Value::Object(points)) = g.get_mut("rate_at") else {
        return;
    };
    let mut days: Vec<(f64, String, f64)> = points
        .iter()
        .filter_map(|(d, p)| {
            Some((
                d.parse::<f64>().ok()?,
                d.clone(),
                (num(p, "rate")? * people).round(),
            ))
        })
        .collect();
    days.sort_by(|a, b| a.0.total_cmp(&b.0));
    keep_from_end(&days, events, people, k, |d| {
        if let Some(p) = points.get_mut(d) {
            *p = json!(SUPPRESSED);
        }
    });
}

/// Walks cumulative counts `(day, id, count)` from the last back, starting from the `total`
/// published elsewhere: a point is kept when it is at least `k` below the next kept one (or
/// equal to it), at least `k` above zero and at least `k` below `people`; `drop` is called
/// with the id of every other point.
fn keep_from_end<F: FnMut(&str)>(
    points: &[(f64, String, f64)],
    total: f64,
    people: f64,
    k: f64,
    mut drop: F,
) {
    let mut next = total;
    for (_, id, x) in points.iter().rev() {
        let gap = next - x;
        if (gap >= k || gap == 0.0) && *x >= k && people - x >= k {
            next = *x;
        } else {
            drop(id);
        }
    }
}

/// The matched comparison: small sample counts, and the comparison itself.
pub fn matched(m: &mut Value, k: f64) {
    // Group sizes are suppressed below k. The counts set aside by the matching itself
    // (`unmatched_*`, `excluded_missing`) are process counts, published as counted: each is
    // the difference of two sizes the report must publish (`docs/disclosure.md`).
    if let Some(s) = m.get_mut("sample") {
        let small = |s: &Value, key: &str| num(s, key).is_some_and(|v| v > 0.0 && v < k);
        for (size, rest) in [
            ("matched_treated", "unmatched_treated"),
            ("matched_controls", "unmatched_controls"),
        ] {
            if small(s, size) {
                suppress(s, &[size, rest]);
            }
        }
        for key in ["treated", "controls"] {
            if small(s, key) {
                suppress(s, &[key]);
            }
        }
    }
    balance(m, k);
    // The matched comparison's counts as computed, for its period check's differences.
    let parent = m["comparison"].clone();
    if let Some(c) = m.get_mut("comparison") {
        comparison(c, k);
    }
    // The headline sentences restate the comparison's rates: not published with it.
    if is_suppressed(&m["comparison"]) {
        if let Some(Value::Object(h)) = m.get_mut("headline") {
            for v in h.values_mut() {
                *v = json!(
                    "Not published: the matched comparison rests on counts too small to publish."
                );
            }
        }
    }
    if let Some(c) = m.get_mut("placebo").filter(|c| c.is_object()) {
        comparison(c, k);
    }
    if let Some(r) = m.get_mut("rosenbaum").filter(|r| r.is_object()) {
        rosenbaum(r, k, &parent);
    }
    if let Some(p) = m.get_mut("period_check").filter(|p| p.is_object()) {
        period_check(p, k, &parent);
    }
}

/// The numbers of a design row that rest on the outcome counts.
const DESIGN_FIGURES: [&str; 8] = [
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "ess_treated",
    "ess_control",
    "max_abs_smd",
];

/// Every adjusted design (`effect`): model statistics resting on the matched and unmatched
/// counts, so they are withheld whole (rows, headline, order sensitivity, sentence) when the
/// matched comparison is, or when a group's reoffenders or non-reoffenders, before or after
/// matching, number fewer than `k`. Otherwise an effective sample size below `k` is
/// suppressed, counts below `k` are suppressed, and the propensity-score bins are merged
/// with their neighbours until every published bin holds no one or at least `k` people of
/// each group. The balance tables (means of indicator terms are counts) are not published.
pub fn effect(e: &mut Value, k: f64, matched_withheld: bool) {
    let s = e["sample"].clone();
    let n = |key: &str| num(&s, key).unwrap_or(0.0);
    let small = |x: f64| x > 0.0 && x < k;
    let pairs = [
        ("treated", "treated_reoffenders"),
        ("controls", "control_reoffenders"),
        ("matched_treated", "matched_treated_reoffenders"),
        ("matched_controls", "matched_control_reoffenders"),
    ];
    let withhold = matched_withheld
        || pairs.iter().any(|(size, re)| {
            let (people, x) = (n(size), n(re));
            people > 0.0 && (x < k || people - x < k)
        });
    if let Value::Object(m) = e {
        m.remove("balance");
    }
    if let Some(sample) = e.get_mut("sample") {
        let keys: Vec<String> = sample
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for key in keys {
            if num(sample, &key).is_some_and(small) {
                suppress(sample, &[key.as_str()]);
            }
        }
        if withhold {
            // A group's reoffenders are its size less its non-reoffenders.
            for (_, re) in pairs {
                suppress(sample, &[re]);
            }
        }
    }
    if let Some(r) = e.get_mut("matched_regression").filter(|r| r.is_object()) {
        for key in ["rows", "clusters"] {
            if num(r, key).is_some_and(small) {
                suppress(r, &[key]);
            }
        }
    }
    for key in ["designs", "frequency_designs"] {
        if let Some(Value::Array(rows)) = e.get_mut(key) {
            for r in rows {
                if withhold {
                    suppress(r, &DESIGN_FIGURES);
                } else {
                    for ess in ["ess_treated", "ess_control"] {
                        if num(r, ess).is_some_and(|v| v < k) {
                            suppress(r, &[ess]);
                        }
                    }
                }
            }
        }
    }
    if let Some(o) = e.get_mut("overlap_diagnostics") {
        for (count, share) in [
            ("treated_outside", "treated_outside_control_range"),
            ("controls_outside", "controls_outside_treated_range"),
        ] {
            if num(o, count).is_some_and(small) {
                suppress(o, &[count, share]);
            }
        }
        if let Some(Value::Array(low)) = o.get_mut("low_ess") {
            for l in low {
                if num(l, "ess").is_some_and(|v| v < k) {
                    suppress(l, &["ess"]);
                }
                if num(l, "people").is_some_and(small) {
                    suppress(l, &["people"]);
                }
            }
        }
        if let Some(Value::Array(bins)) = o.get_mut("bins") {
            *bins = merge_bins(bins, k);
        }
    }
    if withhold {
        if let Some(h) = e.get_mut("headline").filter(|h| h.is_object()) {
            *h = json!(SUPPRESSED);
        }
        if let Some(o) = e.get_mut("order_sensitivity") {
            suppress(
                o,
                &[
                    "estimate_min",
                    "estimate_max",
                    "max_abs_smd_max",
                    "max_abs_smd_min",
                    "estimate_default_order",
                    "estimates",
                ],
            );
        }
        e["summary"] = json!(
            "Not published: the designs rest on counts of reoffenders (or of people who did not reoffend) too \
             small to publish."
        );
    }
}

/// Propensity-score bins merged with their neighbours (left to right, a short last bin
/// into the one before) until every bin holds no one or at least `k` people of each group;
/// all withheld when even one bin over everything falls short.
fn merge_bins(bins: &[Value], k: f64) -> Vec<Value> {
    let ok = |t: f64, c: f64| (t == 0.0 || t >= k) && (c == 0.0 || c >= k);
    let mut out: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut open: Option<(f64, f64, f64, f64)> = None;
    for b in bins {
        let (lo, hi) = (num(b, "low").unwrap_or(0.0), num(b, "high").unwrap_or(0.0));
        let (t, c) = (
            num(b, "treated").unwrap_or(0.0),
            num(b, "controls").unwrap_or(0.0),
        );
        let cur = match open.take() {
            Some((l, _, t0, c0)) => (l, hi, t0 + t, c0 + c),
            None => (lo, hi, t, c),
        };
        if ok(cur.2, cur.3) {
            out.push(cur);
        } else {
            open = Some(cur);
        }
    }
    // A short remainder joins the bins before it until the merged bin is publishable.
    if let Some(mut rest) = open {
        while !ok(rest.2, rest.3) {
            match out.pop() {
                Some(last) => rest = (last.0, rest.1, last.2 + rest.2, last.3 + rest.3),
                None => break,
            }
        }
        out.push(rest);
    }
    out.into_iter()
        .map(|(low, high, t, c)| {
            if ok(t, c) {
                // Sums of whole counts: exact in f64.
                json!({"low": low, "high": high, "treated": t as u64, "controls": c as u64})
            } else {
                json!({"low": low, "high": high, "treated": SUPPRESSED, "controls": SUPPRESSED})
            }
        })
        .collect()
}

/// Balance rows of binary terms (`sex=M`): a mean times its group's size is a count of
/// people with the attribute, so the row is withheld when that count, or the count without
/// it, is below `k` in any group before or after matching.
///
/// The reference level of a categorical covariate has no row, but its count is the group's
/// size less the other levels' (issue 29, route 5): it is a withheld cell of the
/// covariate's breakdown, so when it (or any level) is below `k`, further levels (smallest
/// first) are withheld until the withheld cells, the reference among them, number at least
/// two and hold at least `k` people in every group.
fn balance(m: &mut Value, k: f64) {
    let size = |key: &str| num(&m["sample"], key);
    let sizes = [
        ("mean_treated_before", size("treated")),
        ("mean_control_before", size("controls")),
        ("mean_treated_after", size("matched_treated")),
        ("mean_control_after", size("effective_controls")),
    ];
    let Some(Value::Array(rows)) = m.get_mut("balance") else {
        return;
    };
    let mut hide: Vec<bool> = rows
        .iter()
        .map(|r| {
            r["covariate"].as_str().is_some_and(|c| c.contains('='))
                && sizes.iter().any(|(key, n)| match (num(r, key), n) {
                    (Some(mean), Some(n)) => {
                        let c = (mean * n).round();
                        (c > 0.0 && c < k) || (n - c > 0.0 && n - c < k)
                    }
                    // A size withheld: its means are withheld too.
                    (Some(_), None) => true,
                    _ => false,
                })
        })
        .collect();
    // Each categorical covariate's levels with a row, and its reference level.
    let mut covariates: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["covariate"].as_str()?.split_once('=').map(|(c, _)| c))
        .collect();
    covariates.sort_unstable();
    covariates.dedup();
    let mut more = Vec::new();
    for cov in covariates {
        let level: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                rows[i]["covariate"]
                    .as_str()
                    .and_then(|c| c.split_once('='))
                    .is_some_and(|(c, _)| c == cov)
            })
            .collect();
        // Cell 0 is the reference level, then the levels with rows; one dimension per
        // group with a size.
        let mut dims: Vec<Vec<f64>> = Vec::new();
        for (key, n) in &sizes {
            let Some(n) = n else { continue };
            let counts: Vec<f64> = level
                .iter()
                .map(|&i| num(&rows[i], key).map_or(0.0, |mean| (mean * n).round()))
                .collect();
            if level.iter().any(|&i| num(&rows[i], key).is_none()) {
                continue;
            }
            let reference = (n - counts.iter().sum::<f64>()).max(0.0);
            dims.push(std::iter::once(reference).chain(counts).collect());
        }
        if dims.is_empty() {
            continue;
        }
        let small_ref = dims.iter().any(|d| d[0] > 0.0 && d[0] < k);
        let any_hidden = level.iter().any(|&i| hide[i]);
        if !small_ref && !any_hidden {
            continue;
        }
        let mut hidden: Vec<bool> = std::iter::once(true)
            .chain(level.iter().map(|&i| hide[i]))
            .collect();
        // Complementary suppression needs the withheld cells to be more than the reference
        // alone only when the reference is small; a large reference already covers them.
        if small_ref || any_hidden {
            complement(&dims, &mut hidden, k, false);
        }
        for (j, &i) in level.iter().enumerate() {
            if hidden[j + 1] && !hide[i] {
                more.push(i);
            }
        }
    }
    for i in more {
        hide[i] = true;
    }
    for (r, h) in rows.iter_mut().zip(hide) {
        if h {
            suppress(
                r,
                &[
                    "mean_treated_before",
                    "mean_control_before",
                    "mean_treated_after",
                    "mean_control_after",
                    "smd_before",
                    "smd_after",
                    "variance_ratio_after",
                ],
            );
        }
    }
}

/// Data quality: row numbers stay in the secure environment. Each table's exclusions are a
/// breakdown of its rows read minus rows used (both published), so they get complementary
/// suppression like any breakdown; a warning about fewer than `k` rows keeps only its
/// column and issue.
///
/// The attrition arithmetic is closed too (issue 29, route 1):
/// - the cohort's insufficient follow-up is the people with partial follow-up (the survival
///   groups' sizes less those in the 12-month measure, both published) plus those not yet
///   observable: when `not_observable` (their count) is withheld, the row is withheld as a
///   cell holding only them, with complementary suppression as for any cell;
/// - when every exclusion of a table ends withheld and together (less what is published
///   elsewhere) they hold fewer than `k`, rows read minus rows used would give them back:
///   the table's rows read (and its files' rows) are withheld.
pub fn data_quality(q: &mut Value, k: f64, not_observable_hidden: Option<f64>) {
    // `not_observable_hidden`: the part of insufficient follow-up no other figure gives (the
    // people not yet observable and those with partial follow-up, when withheld).
    for key in ["exclusions", "warnings"] {
        if let Some(Value::Array(list)) = q.get_mut(key) {
            for e in list {
                if let Value::Object(m) = e {
                    m.remove("first_rows");
                }
            }
        }
    }
    let mut hide_read = Vec::new();
    if let Some(Value::Array(list)) = q.get_mut("exclusions") {
        for table in ["cohort", "offences"] {
            let rows: Vec<usize> = (0..list.len())
                .filter(|&i| list[i]["table"] == table && num(&list[i], "rows") > Some(0.0))
                .collect();
            // What a reader cannot work out from elsewhere: for insufficient follow-up with
            // the not observable withheld, only those not observable.
            let hidden_part = |i: usize| {
                let partial_known = table == "cohort"
                    && list[i]["reason"] == "insufficient_follow_up"
                    && not_observable_hidden.is_some();
                not_observable_hidden.filter(|_| partial_known)
            };
            let counts: Vec<f64> = rows
                .iter()
                .map(|&i| hidden_part(i).unwrap_or_else(|| num(&list[i], "rows").unwrap_or(0.0)))
                .collect();
            let mut hidden: Vec<bool> = rows
                .iter()
                .zip(&counts)
                .map(|(&i, &c)| c < k || hidden_part(i).is_some())
                .collect();
            complement(std::slice::from_ref(&counts), &mut hidden, k, true);
            for (r, &i) in rows.iter().enumerate() {
                if hidden[r] {
                    suppress(&mut list[i], &["rows"]);
                }
            }
            let held: f64 = counts.iter().sum();
            if !rows.is_empty() && hidden.iter().all(|h| *h) && held < k {
                hide_read.push(table);
            }
        }
    }
    for table in hide_read {
        if let Some(r) = q.get_mut("rows_read") {
            suppress(r, &[table]);
        }
        if let Some(Value::Array(files)) = q.get_mut("files") {
            for f in files.iter_mut().filter(|f| f["table"] == table) {
                suppress(f, &["rows"]);
            }
        }
    }
    if let Some(Value::Array(list)) = q.get_mut("warnings") {
        for w in list {
            if num(w, "rows").is_some_and(|r| r > 0.0 && r < k) {
                let what = format!(
                    "{} {}: {} (fewer than {k} rows; details withheld)",
                    w["table"].as_str().unwrap_or_default(),
                    w["column"].as_str().unwrap_or_default(),
                    w["issue"].as_str().unwrap_or_default()
                );
                suppress(w, &["rows"]);
                w["message"] = json!(what);
            }
        }
    }
}

/// Keys of text fields that hold labels (names, periods, units, sources), not sentences:
/// they may hold digits (`2022-Q3`, `18-24`) and stay published beside a suppressed figure.
/// Any other text field with a digit beside a suppressed figure is withheld.
pub const LABEL_KEYS: [&str; 27] = [
    "area",
    "category",
    "cohort",
    "column",
    "control",
    "covariate",
    "design",
    "file",
    "group",
    "input",
    "interval",
    "issue",
    "kind",
    "label",
    "level",
    "method",
    "name",
    "path",
    "period",
    "rd_ci_method",
    "reason",
    "source",
    "table",
    "term",
    "treatment",
    "unit",
    "weights",
];

/// What a withheld sentence reads.
pub const WITHHELD_SENTENCE: &str =
    "Withheld: this sentence would give back a figure suppressed for disclosure control.";

/// Whether a text reads as a sentence that may quote a figure: a digit and at least four
/// words. Labels (`2022-Q3`, `18-24`, a breakdown level) are shorter; known label keys
/// ([`LABEL_KEYS`]) are never taken for sentences.
fn quotes_figures(t: &str) -> bool {
    t.contains(|c: char| c.is_ascii_digit()) && t.split_whitespace().count() >= 4
}

/// Withholds, in every object holding a suppressed figure, each sentence (a text field with
/// a digit and four words or more) that is not under a label key and that the gate did not
/// write itself (it is as it was before the gate, `before`): fail closed, since a sentence
/// composed before the gate may quote the hidden figure, or a survival or share it can be
/// worked out from.
fn sentences(v: &mut Value, before: &Value) {
    match v {
        Value::Object(m) => {
            let has_hidden = m.values().any(|x| x == SUPPRESSED);
            for (key, x) in m.iter_mut() {
                let was = &before[key.as_str()];
                if has_hidden && !LABEL_KEYS.contains(&key.as_str()) {
                    match x {
                        Value::String(t) if quotes_figures(t) && x == was => {
                            *x = json!(WITHHELD_SENTENCE);
                            continue;
                        }
                        Value::Array(list) if list.iter().all(Value::is_string) => {
                            for (i, t) in list.iter_mut().enumerate() {
                                if t.as_str().is_some_and(quotes_figures) && *t == was[i] {
                                    *t = json!(WITHHELD_SENTENCE);
                                }
                            }
                            continue;
                        }
                        _ => {}
                    }
                }
                sentences(x, was);
            }
        }
        Value::Array(list) => {
            for (i, x) in list.iter_mut().enumerate() {
                sentences(x, &before[i]);
            }
        }
        _ => {}
    }
}

/// The power calculation is made for the pilot's people in the measure: with that count
/// hidden, every figure of it (the minimum detectable rates give n back) is hidden too.
fn power(p: &mut Value, pilot_n_hidden: bool) {
    if !pilot_n_hidden {
        return;
    }
    if let Value::Object(m) = p {
        for (key, x) in m.iter_mut() {
            if x.is_number() {
                *x = json!(SUPPRESSED);
            } else if key != "method" {
                if let Value::String(_) = x {
                    *x = json!(WITHHELD_SENTENCE);
                }
            }
        }
    }
}

/// The one disclosure gate: the results as they may be published. With disclosure control
/// off the figures pass unchanged, but day-level survival tables are still replaced by the
/// steps the chart draws.
pub fn gate(results: &Results, options: &ReportOptions) -> Result<Value> {
    options.check()?;
    let on = options.disclosure_control;
    let k = if on { options.min_cell as f64 } else { 0.0 };
    let mut j = serde_json::to_value(results).map_err(|e| Error::Output(e.to_string()))?;
    // Kaplan-Meier steps from the typed tables (typed data is read only here and for the
    // monitoring projections, whose counts are not published).
    if let (Some(sr), Some(Value::Array(groups))) = (
        &results.survival,
        j.get_mut("survival").and_then(|s| s.get_mut("groups")),
    ) {
        for (g, typed) in groups.iter_mut().zip(&sr.groups) {
            let steps = safe_steps(&typed.table, k as u64);
            if let Value::Object(m) = g {
                m.remove("table");
                // Published steps are (day, survival) only: a step's at-risk and events, with
                // the next step's at-risk, would give back the few people whose follow-up
                // ended between two steps without a reoffence (issue 29); with both, a single
                // day's step also gives its at-risk from the survival ratio. The chart needs
                // neither.
                let shown: Vec<Value> = steps
                    .iter()
                    .map(|s| {
                        if on {
                            json!({ "day": s.day, "survival": s.survival })
                        } else {
                            json!(s)
                        }
                    })
                    .collect();
                m.insert("steps".into(), Value::Array(shown));
            }
            if on {
                survival_points(g, &typed.table, &steps, k);
            }
        }
    }
    if !on {
        return Ok(j);
    }
    // The sentences as the analyses wrote them, to tell them from the gate's own.
    let before = j.clone();
    if let Some(v) = j.get_mut("rates") {
        rates(v, k);
    }
    for key in ["compare", "compare_benchmark"] {
        if let Some(c) = j.get_mut(key).filter(|c| !c.is_null()) {
            comparison(c, k);
        }
    }
    if let Some(v) = j.get_mut("survival").filter(|v| !v.is_null()) {
        survival(v, k);
    }
    let partial_hidden = match j.get_mut("survival").filter(|v| !v.is_null()) {
        Some(v) => partial_follow_up(v, &before["survival"], &before["rates"], k),
        None => 0.0,
    };
    if let Some(v) = j.get_mut("monitor").filter(|v| !v.is_null()) {
        monitor(v, k);
        if let Some(typed) = &results.monitor {
            projections(v, typed, k);
        }
    }
    if let Some(v) = j.get_mut("match").filter(|v| !v.is_null()) {
        matched(v, k);
    }
    let matched_withheld = j
        .get("match")
        .filter(|m| !m.is_null())
        .is_some_and(|m| is_suppressed(&m["comparison"]));
    if let Some(v) = j.get_mut("effect").filter(|v| !v.is_null()) {
        effect(v, k, matched_withheld);
    }
    // People not yet observable, when withheld (the survival rule above).
    // and people with partial follow-up withheld with their survival groups: the parts of
    // insufficient follow-up nothing else publishes.
    let not_observable_hidden = (j["survival"]["not_observable"] == SUPPRESSED)
        .then(|| num(&before["survival"], "not_observable"))
        .flatten();
    let attrition_hidden = match (not_observable_hidden, partial_hidden > 0.0) {
        (Some(o), _) => Some(o + partial_hidden),
        (None, true) => Some(partial_hidden),
        (None, false) => None,
    };
    if let Some(v) = j.get_mut("data_quality") {
        data_quality(v, k, attrition_hidden);
    }
    if let Some(v) = j.get_mut("did").filter(|v| !v.is_null()) {
        did(v, k);
    }
    let pilot_n_hidden = ["compare", "compare_benchmark"]
        .iter()
        .any(|key| j[*key]["treatment_n"] == SUPPRESSED);
    if let Some(p) = j.get_mut("power").filter(|p| !p.is_null()) {
        power(p, pilot_n_hidden);
    }
    // Costs rest on the matched comparison when there is one, else on the group one.
    let basis = match j.get("match").filter(|m| !m.is_null()) {
        Some(m) => m["comparison"].clone(),
        None => j["compare"].clone(),
    };
    if is_suppressed(&basis) {
        if let Some(c) = j.get_mut("costs").filter(|c| !c.is_null()) {
            costs(c);
        }
    }
    if let (Some(typed), Some(c)) = (&results.costs, j.get_mut("costs").filter(|c| !c.is_null())) {
        let counts: Vec<Option<u64>> = typed.items.iter().map(|i| i.mix_count).collect();
        offence_mix(c, &counts, k);
    }
    // The whole-report audit over every linked count, then unknown counts withheld.
    let summary = crate::trace::timed("report: disclosure audit", || {
        super::ledger::apply(&mut j, &before, options.min_cell)
    });
    sentences(&mut j, &before);
    j["disclosure_audit"] =
        serde_json::to_value(summary).map_err(|e| Error::Output(e.to_string()))?;
    Ok(j)
}

/// Difference-in-differences. Area x period cells are small, and the estimates are linear in
/// the cells' sums, so the gate works on what each figure rests on:
/// - the cells table: a cell fails when its people, reoffenders or non-reoffenders (a panel:
///   its weight) number fewer than `k`; when any fails, every cell's counts and rate are
///   withheld (a total and the other cells, or the estimates, would give a lone hidden cell
///   back), keeping only which cells exist;
/// - figures that rest on one area's cells are published only when all its cells pass: the
///   event-study coefficients, the pilot's points of the trend and synthetic paths and the
///   synthetic effect by period (the treated areas' cells), the staggered group-time and
///   by-time effects (the treated areas' cells);
/// - each placebo estimate is one area's change from before to after the launch against the
///   others': a model statistic resting on that area's totals before and after the launch,
///   published when each has at least `k` people, reoffenders and non-reoffenders (one
///   number cannot pin down the dozens of hidden cells behind it);
/// - estimates resting on every area (the main estimate, its tests, the placebo rank and p,
///   the synthetic estimates and weights) are published;
/// - people labelled against the definition: their count when it is 0 or at least `k`,
///   never their rows.
pub fn did(d: &mut Value, k: f64) {
    let cells = d["cells"].as_array().cloned().unwrap_or_default();
    let fails = |c: &Value| {
        let n = num(c, "people").unwrap_or(0.0);
        match num(c, "reoffenders") {
            Some(x) => n < k || x < k || n - x < k,
            None => n < k,
        }
    };
    let failing_areas: std::collections::BTreeSet<String> = cells
        .iter()
        .filter(|c| fails(c))
        .filter_map(|c| c["area"].as_str().map(str::to_string))
        .collect();
    if !failing_areas.is_empty() {
        if let Some(Value::Array(list)) = d.get_mut("cells") {
            for c in list {
                suppress(c, &["people", "reoffenders", "rate"]);
            }
        }
    }
    // Each area's totals before and after the (first) launch, for the placebo estimates.
    let launch = d["launches"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l[1].as_str())
        .min()
        .map(str::to_string);
    let mut sides: std::collections::BTreeMap<(String, bool), (f64, Option<f64>)> =
        std::collections::BTreeMap::new();
    for c in &cells {
        let (Some(area), Some(period)) = (c["area"].as_str(), c["period"].as_str()) else {
            continue;
        };
        // Period labels (`2021`, `2021-Q3`, `2021-07`) sort as time does.
        let after = launch.as_deref().is_some_and(|l| period >= l);
        let e = sides
            .entry((area.to_string(), after))
            .or_insert((0.0, Some(0.0)));
        e.0 += num(c, "people").unwrap_or(0.0);
        e.1 = e.1.zip(num(c, "reoffenders")).map(|(a, b)| a + b);
    }
    let thin_areas: std::collections::BTreeSet<String> = sides
        .iter()
        .filter(|(_, (n, x))| *n < k || x.is_some_and(|x| x < k || n - x < k))
        .map(|((area, _), _)| area.clone())
        .collect();
    let treated: Vec<String> = d["launches"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x[0].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let pilot_fails = treated.iter().any(|a| failing_areas.contains(a));
    if pilot_fails {
        if let Some(Value::Array(rows)) = d.get_mut("event_study") {
            for r in rows {
                suppress(r, &["estimate", "se", "ci_low", "ci_high"]);
            }
        }
        if let Some(syn) = d.get_mut("synthetic").filter(|v| !v.is_null()) {
            for key in ["path", "effect_by_period"] {
                if let Some(Value::Array(rows)) = syn.get_mut(key) {
                    for r in rows {
                        suppress(r, &["pilot", "estimate"]);
                    }
                }
            }
        }
        if let Some(st) = d.get_mut("staggered").filter(|v| !v.is_null()) {
            for key in ["group_time", "by_time"] {
                if let Some(Value::Array(rows)) = st.get_mut(key) {
                    for r in rows {
                        suppress(r, &["estimate", "se", "ci_low", "ci_high"]);
                    }
                }
            }
        }
    }
    // Trends: each side's point rests on that period's cells of its areas, pooled.
    // The total of people is published, so a side with one hidden point would give it
    // back: a side is shown whole or not at all.
    if let Some(Value::Array(rows)) = d.get_mut("trends") {
        let small = |r: &Value, side: &str| {
            let n = num(r, &format!("{side}_people")).unwrap_or(0.0);
            let x = num(r, &format!("{side}_reoffenders"));
            n < k || x.is_some_and(|x| x < k || n - x < k)
        };
        let hide_side = |side: &str| rows.iter().any(|r| small(r, side));
        let hide = [hide_side("pilot") || pilot_fails, hide_side("comparison")];
        for r in rows.iter_mut() {
            for (side, h) in ["pilot", "comparison"].into_iter().zip(hide) {
                if h {
                    suppress(
                        r,
                        &[
                            &format!("{side}_people"),
                            &format!("{side}_reoffenders"),
                            &format!("{side}_rate"),
                        ],
                    );
                }
            }
        }
    }
    if let Some(Value::Array(rows)) = d
        .get_mut("placebo_in_space")
        .and_then(|p| p.get_mut("estimates"))
    {
        for r in rows {
            let area = r["area"].as_str();
            // An area with only one side (no cells before or after the launch) is thin too.
            let one_sided = area.is_some_and(|a| {
                !sides.contains_key(&(a.to_string(), false))
                    || !sides.contains_key(&(a.to_string(), true))
            });
            if one_sided || area.is_none_or(|a| thin_areas.contains(a)) {
                suppress(r, &["estimate"]);
            }
        }
    }
    if num(d, "excluded_missing_covariates").is_some_and(|r| r > 0.0 && r < k) {
        suppress(d, &["excluded_missing_covariates"]);
    }
    if let Some(m) = d.get_mut("mislabelled").filter(|v| v.is_object()) {
        if num(m, "rows").is_some_and(|r| r > 0.0 && r < k) {
            suppress(m, &["rows"]);
        }
        if let Value::Object(o) = m {
            o.remove("first_rows");
        }
    }
    // The summary names the mislabelled count; rewrite it without when that is hidden.
    if d["mislabelled"]["rows"] == SUPPRESSED {
        if let Some(Value::String(s)) = d.get_mut("summary") {
            if let Some(i) = s.find(" people's cohort label disagrees") {
                let start = s[..i].rfind(". ").map_or(0, |j| j + 2);
                let end = s[i..].find(". ").map_or(s.len(), |j| i + j + 1);
                let hidden = format!(
                    "{}A few people's cohort label disagrees with the area-and-date definition of treatment (fewer \
                     than {k}); they are analysed by the definition.{}",
                    &s[..start],
                    &s[end..]
                );
                *s = hidden;
            }
        }
    }
}

/// A published point of a Kaplan-Meier curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SafeStep {
    /// Day of the step.
    pub day: f64,
    /// People at risk where the step's events began.
    pub at_risk: u64,
    /// Events since the previous published step.
    pub events: u64,
    /// Kaplan-Meier survival after the step.
    pub survival: f64,
}

/// The steps of a curve safe to publish: a point only once at least `k` events have
/// accumulated since the previous one, and only while at least `k` people are at risk
/// before it and after it (its at-risk less its events: `k = 0`: every event day).
pub fn safe_steps(table: &[crate::stats::KmRow], k: u64) -> Vec<SafeStep> {
    let mut out = Vec::new();
    let (mut events, mut at_risk) = (0u64, None);
    for r in table.iter().filter(|r| r.events > 0) {
        let start = *at_risk.get_or_insert(r.at_risk);
        if start < k {
            break;
        }
        events += r.events;
        // Those still at risk after the step are its at-risk less its events: published
        // only while they are at least `k` (issue 29, route 3).
        if start.saturating_sub(events) < k {
            break;
        }
        if events >= k.max(1) {
            out.push(SafeStep {
                day: r.time,
                at_risk: start,
                events,
                survival: r.survival,
            });
            events = 0;
            at_risk = None;
        }
    }
    // Events after the last step are the group's total minus the steps' events: a small
    // remainder is merged into the last step's (it is dropped, its events join the tail).
    let total: u64 = table.iter().map(|r| r.events).sum();
    let published: u64 = out.iter().map(|s| s.events).sum();
    if total - published > 0 && total - published < k {
        out.pop();
    }
    out
}

/// Survival at fixed days, as cumulative event counts: kept by [`keep_from_end`] from the
/// group's total events, so no difference of two published points is a small count; and a
/// day is kept only where its events differ by 0 or at least `k` from those up to every
/// drawn step of the chart (`steps`), else the step before a day and the day would give back
/// the few events between them (issue 29, route 3).
fn survival_points(g: &mut Value, table: &[crate::stats::KmRow], steps: &[SafeStep], k: f64) {
    let mut cumulative = 0u64;
    let at_steps: Vec<f64> = steps
        .iter()
        .map(|s| {
            cumulative += s.events;
            cumulative as f64
        })
        .collect();
    let people = num(g, "n").unwrap_or(0.0);
    let total: f64 = table.iter().map(|r| r.events as f64).sum();
    let Some(Value::Array(points)) = g.get_mut("survival_at") else {
        return;
    };
    let counts: Vec<(f64, String, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let t = num(p, "time")?;
            let events: f64 = table
                .iter()
                .filter(|r| r.time <= t)
                .map(|r| r.events as f64)
                .sum();
            Some((t, i.to_string(), events))
        })
        .collect();
    let mut dropped = Vec::new();
    keep_from_end(&counts, total, people, k, |id| dropped.push(id.to_string()));
    for (_, id, x) in &counts {
        let near_a_step = at_steps.iter().any(|s| {
            let d = (s - x).abs();
            d > 0.0 && d < k
        });
        if near_a_step && !dropped.contains(id) {
            dropped.push(id.clone());
        }
    }
    for id in dropped {
        if let Some(p) = id.parse::<usize>().ok().and_then(|i| points.get_mut(i)) {
            suppress(p, &["survival", "ci_low", "ci_high"]);
        }
    }
}

/// The breakdowns of a table of groups: per cohort, the rows with people in them (empty
/// rows publish nothing to protect). `n[i]` is row `i`'s number of people.
fn breakdowns(groups: &[Value], n: &[f64]) -> Vec<Vec<usize>> {
    let mut cohorts: Vec<&str> = groups.iter().filter_map(|g| g["cohort"].as_str()).collect();
    cohorts.sort_unstable();
    cohorts.dedup();
    cohorts
        .iter()
        .map(|c| {
            (0..groups.len())
                .filter(|&i| groups[i]["cohort"].as_str() == Some(c) && n[i] > 0.0)
                .collect()
        })
        .collect()
}

/// Complementary suppression within one breakdown. `counts[d][i]` is cell `i`'s count in
/// dimension `d` (people, reoffenders, non-reoffenders); `hidden[i]` whether it is
/// suppressed. Further cells, smallest first, are hidden until none is, or at least two are
/// and in every dimension the hidden cells hold at least `k` in all. Returns the cells
/// newly hidden.
///
/// With `nonempty`, a reader knows every cell of the first dimension holds at least one (its
/// row is shown only then): `h` hidden cells holding `s` leave each between 1 and
/// `s - h + 1`, so there they must hold at least `k + h - 1` (issue 29, route 7: 3 people
/// over 3 hidden cells are 1 each).
fn complement(counts: &[Vec<f64>], hidden: &mut [bool], k: f64, nonempty: bool) -> Vec<usize> {
    let mut added = Vec::new();
    loop {
        let n_hidden = hidden.iter().filter(|h| **h).count();
        if n_hidden == 0 || n_hidden == hidden.len() {
            return added;
        }
        let short = counts.iter().enumerate().any(|(d, dim)| {
            let sum: f64 = dim
                .iter()
                .zip(hidden.iter())
                .filter(|(_, h)| **h)
                .map(|(c, _)| c)
                .sum();
            let known = if nonempty && d == 0 {
                n_hidden as f64 - 1.0
            } else {
                0.0
            };
            sum < k + known
        });
        if n_hidden >= 2 && !short {
            return added;
        }
        // The smallest visible cell by people (the first dimension), then by position.
        let next = (0..hidden.len())
            .filter(|&i| !hidden[i])
            .min_by(|&a, &b| counts[0][a].total_cmp(&counts[0][b]).then(a.cmp(&b)));
        match next {
            Some(i) => {
                hidden[i] = true;
                added.push(i);
            }
            None => return added,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarters_people_less_its_full_follow_up_is_never_a_small_count() {
        // 2022-Q1: 40 people, 37 followed for the full year: the 3 still being followed
        // would be published as the difference; their full follow-up is withheld, with a
        // second quarter's for the cohort's total.
        let mut m = json!({"groups": [
            {"cohort": "divert", "period": "2021-Q3", "people": 50.0, "full_follow_up": 50.0, "events_so_far": 20.0},
            {"cohort": "divert", "period": "2021-Q4", "people": 60.0, "full_follow_up": 60.0, "events_so_far": 20.0},
            {"cohort": "divert", "period": "2022-Q1", "people": 40.0, "full_follow_up": 37.0, "events_so_far": 15.0},
            {"cohort": "divert", "period": "2022-Q2", "people": 45.0, "full_follow_up": 0.0, "events_so_far": 12.0},
        ]});
        monitor(&mut m, 10.0);
        let g = m["groups"].as_array().unwrap();
        assert_eq!(g[2]["full_follow_up"], SUPPRESSED);
        assert_eq!(g[2]["people"], 40.0);
        let hidden = g
            .iter()
            .filter(|r| r["full_follow_up"] == SUPPRESSED)
            .count();
        assert!(hidden >= 2, "{m}");
        // A quarter whose people are all followed a year is not withheld for this reason.
        let mut m = json!({"groups": [
            {"cohort": "divert", "period": "2021-Q3", "people": 50.0, "full_follow_up": 50.0, "events_so_far": 20.0},
            {"cohort": "divert", "period": "2021-Q4", "people": 60.0, "full_follow_up": 60.0, "events_so_far": 20.0},
        ]});
        monitor(&mut m, 10.0);
        assert_eq!(m["groups"][0]["full_follow_up"], 50.0);
    }

    #[test]
    fn offence_mix_shares_on_small_counts_are_withheld_three_at_least() {
        // 3 arson and 2 other sexual reoffences among 355: their shares times the published
        // total would give them back; with the value per reoffence published, a third share
        // goes with them (the smallest other, 50), and the programme items are untouched.
        let mut c = json!({"items": [
            {"name": "arson", "quantity": 3.0 / 355.0, "total": 10.0},
            {"name": "other sexual", "quantity": 2.0 / 355.0, "total": 10.0},
            {"name": "burglary", "quantity": 50.0 / 355.0, "total": 10.0},
            {"name": "theft", "quantity": 100.0 / 355.0, "total": 10.0},
            {"name": "violence", "quantity": 200.0 / 355.0, "total": 10.0},
            {"name": "officer time", "quantity": 4.0, "total": 10.0},
        ]});
        let counts = [Some(3), Some(2), Some(50), Some(100), Some(200), None];
        offence_mix(&mut c, &counts, 10.0);
        let shown: Vec<bool> = c["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["quantity"] != SUPPRESSED)
            .collect();
        assert_eq!(shown, [false, false, false, true, true, true]);
        assert_eq!(c["items"][0]["total"], SUPPRESSED);
        // Nothing small: nothing withheld.
        let mut c = json!({"items": [{"quantity": 0.5}, {"quantity": 0.5}]});
        offence_mix(&mut c, &[Some(20), Some(20)], 10.0);
        assert_eq!(c["items"][0]["quantity"], 0.5);
    }

    #[test]
    fn a_placebo_estimate_rests_on_its_areas_totals_before_and_after_launch() {
        // Cells of 12 people each: every cell fails min_cell 10 on reoffenders, so the cells
        // are withheld; the placebo estimates stand on each area's totals before (36 people)
        // and after (24) the launch, published when each side holds at least 10 reoffenders
        // and 10 who did not reoffend.
        let cell = |area: &str, period: &str, x: u64| json!({"area": area, "period": period, "people": 12, "reoffenders": x, "rate": 0.5});
        let mut cells = Vec::new();
        for (area, post) in [("A", 6), ("B", 4), ("Pilot", 6)] {
            for p in ["2020-Q1", "2020-Q2", "2020-Q3"] {
                cells.push(cell(area, p, 6));
            }
            for p in ["2020-Q4", "2021-Q1"] {
                cells.push(cell(area, p, post));
            }
        }
        // C has no cells after the launch: a one-sided area is never published.
        cells.push(cell("C", "2020-Q1", 6));
        let mut d = json!({
            "launches": [["Pilot", "2020-Q4"]],
            "cells": cells,
            "placebo_in_space": {"estimates": [
                {"area": "A", "estimate": -0.01},
                {"area": "B", "estimate": 0.02},
                {"area": "C", "estimate": 0.03},
            ]},
        });
        did(&mut d, 10.0);
        assert_eq!(d["cells"][0]["people"], SUPPRESSED);
        let e = &d["placebo_in_space"]["estimates"];
        assert_eq!(
            e[0]["estimate"], -0.01,
            "A: 18 of 36 before, 12 of 24 after"
        );
        assert_eq!(
            e[1]["estimate"], SUPPRESSED,
            "B: 8 reoffenders after launch"
        );
        assert_eq!(e[2]["estimate"], SUPPRESSED, "C: nobody after launch");
    }

    #[test]
    fn primary_and_secondary_suppression() {
        let mut r = json!({"groups": [
            {"cohort": "divert", "sex": "F", "eligible": 40, "reoffenders": 4, "rate": 0.1},
            {"cohort": "divert", "sex": "M", "eligible": 300, "reoffenders": 60, "rate": 0.2},
            {"cohort": "divert", "sex": "X", "eligible": 200, "reoffenders": 50, "rate": 0.25},
            {"cohort": "comparison", "sex": "F", "eligible": 500, "reoffenders": 100, "rate": 0.2},
        ]});
        rates(&mut r, 10.0);
        let g = &r["groups"];
        assert_eq!(g[0]["rate"], SUPPRESSED, "primary: 4 reoffenders");
        assert_eq!(
            g[2]["rate"], SUPPRESSED,
            "secondary: smallest other row in the cohort"
        );
        assert_eq!(g[1]["rate"], 0.2);
        assert_eq!(g[3]["rate"], 0.2, "other cohorts untouched");
        assert_eq!(g[0]["eligible"], 40);
        let mut r = json!({"groups": [
            {"cohort": "divert", "sex": "F", "eligible": 4, "reoffenders": 1},
            {"cohort": "divert", "sex": "M", "eligible": 300, "reoffenders": 60},
            {"cohort": "divert", "sex": "X", "eligible": 200, "reoffenders": 50},
        ]});
        rates(&mut r, 10.0);
        assert_eq!(r["groups"][0]["eligible"], SUPPRESSED);
        assert_eq!(
            r["groups"][2]["eligible"], SUPPRESSED,
            "secondary: the smallest other size"
        );
        assert_eq!(r["groups"][1]["eligible"], 300);
    }
}
