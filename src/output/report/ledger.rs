//! The whole-report audit wired into the gate (issue 29): every count of people the report
//! publishes is registered with [`crate::output::audit`] as a sum of the cells of one
//! finest partition, the linear-programming audit finds what an intruder can infer about
//! every small count from all of them together, and what it suppresses beyond the table
//! rules of [`super::disclosure`] is applied to the gated value before any renderer or
//! sentence reads it.
//!
//! # The partition
//!
//! Each cohort's people (the monitoring population: everyone with an index event) are
//! split, as the analyses split them, into a tree of parts, each part with a cell of
//! reoffenders (or events) and one of the others:
//!
//! - the 12-month measure's rows (`rates`, by cohort and breakdown), the people with
//!   partial follow-up (survival less the measure) and those not yet observable;
//! - the monitoring quarters, split into those followed for the full period and the rest;
//! - the pilot-period check's people inside and outside the period, the matched, unmatched
//!   and set-aside people, the placebo outcome of the matched people;
//! - the attrition: rows used, each exclusion reason.
//!
//! Two partitions of the same people are linked by identities every reader knows (their
//! totals, and their reoffenders' totals, are equal: [`Shown::Known`]). Partitions linked
//! only through such totals are independent beyond them (any two tables with the same
//! margins can be joined), so the linear programme over the tree is what an intruder can
//! infer from these figures, not a loose bound. An identity is registered only where the
//! true counts satisfy it; where they do not (an analysis counts a different population),
//! the figures get cells of their own, which makes the audit no weaker than the table rules.
//!
//! # Limits
//!
//! Reoffence counts (offences, not people), survival and monitoring points over time,
//! Rosenbaum's pairs, the balance table, the propensity bins, difference-in-differences
//! area cells and model statistics are gated by the table rules' thresholds on the counts
//! they rest on ([`RULE_GATED`]); a count the gate does not know is withheld (fail closed,
//! [`fail_closed`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::disclosure::{self, MONITOR_EVENTS, RATE_DERIVED, SUPPRESSED};
use crate::output::audit::{self, AuditOptions, CellId, FigureId, Registry, Shown};

/// What the audit did, published under `provenance.disclosure_audit`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditSummary {
    /// Cells of the finest partition.
    pub cells: usize,
    /// Counts registered (figures and identities).
    pub counts: usize,
    /// Small counts protected (counts and cells in `1..min_cell-1`, printed or not).
    pub protected: usize,
    /// Figures the audit withheld beyond the table rules.
    pub withheld_by_audit: usize,
    /// Linear programmes solved.
    pub linear_programmes: usize,
    /// Whether every protected count's feasible interval is wide after suppression.
    pub all_wide: bool,
    /// Integer fields the gate does not know, withheld (fail closed): a path per field.
    pub unregistered: Vec<String>,
}

/// What to withhold where a registered figure is suppressed.
#[derive(Debug, Clone)]
enum Then {
    /// These fields of the object (the figure's own and those it gives back).
    Fields(Vec<&'static str>),
    /// The comparison at this pointer, whole (its verdict says why); the matched
    /// comparison takes every adjusted design with it.
    Comparison(String),
    /// Every number of the object (power, costs).
    Whole,
}

#[derive(Debug, Clone)]
struct Place {
    /// JSON pointer to the object holding the field.
    at: String,
    /// The field holding the figure.
    field: &'static str,
    /// When the field is a rate: the field of the same object holding its denominator
    /// (the figure printed is their product).
    times: Option<&'static str>,
    then: Then,
}

/// A part of a cohort: its reoffenders' cells and its non-reoffenders' cells.
#[derive(Debug, Clone, Default)]
struct Pair {
    r: Vec<(CellId, i64)>,
    n: Vec<(CellId, i64)>,
    people: i64,
    reoffenders: i64,
}

impl Pair {
    fn all(&self) -> Vec<(CellId, i64)> {
        let mut t = self.r.clone();
        t.extend(self.n.iter().copied());
        t
    }
    fn plus(&self, other: &Pair) -> Pair {
        let mut p = self.clone();
        p.r.extend(other.r.iter().copied());
        p.n.extend(other.n.iter().copied());
        p.people += other.people;
        p.reoffenders += other.reoffenders;
        p
    }
}

/// Cells and coefficients of a count.
type Terms = Vec<(CellId, i64)>;

fn int(v: &Value) -> Option<i64> {
    v.as_f64().map(|x| x.round() as i64)
}

struct Ledger<'a> {
    reg: Registry,
    /// Figures by key, registered at the end (a figure shown in several places is one
    /// figure, printed where any place prints it).
    pending: BTreeMap<String, (Terms, Vec<Place>)>,
    places: BTreeMap<FigureId, Vec<Place>>,
    /// The gated value: what is printed now.
    shown: &'a Value,
    /// Registration failed somewhere (a caller's mistake): the audit is skipped and the
    /// report withholds what it cannot vouch for.
    broken: Option<String>,
}

impl<'a> Ledger<'a> {
    fn new(shown: &'a Value) -> Self {
        Ledger {
            reg: Registry::new(),
            pending: BTreeMap::new(),
            places: BTreeMap::new(),
            shown,
            broken: None,
        }
    }

    fn cell(&mut self, key: &str, value: i64, known_nonempty: bool) -> Option<CellId> {
        let v = u64::try_from(value).ok()?;
        match self.reg.cell(key, v, known_nonempty && v > 0) {
            Ok(c) => Some(c),
            Err(e) => {
                self.broken.get_or_insert_with(|| e.to_string());
                None
            }
        }
    }

    /// A new part with its own cells.
    fn own(&mut self, key: &str, people: i64, reoffenders: i64) -> Option<Pair> {
        let r = self.cell(&format!("{key}|reoffended"), reoffenders, false)?;
        let n = self.cell(&format!("{key}|not"), people - reoffenders, false)?;
        Some(Pair {
            r: vec![(r, 1)],
            n: vec![(n, 1)],
            people,
            reoffenders,
        })
    }

    /// An identity every reader knows: `Σ terms = 0`.
    fn identity(&mut self, key: &str, terms: Vec<(CellId, i64)>) {
        if let Err(e) = self.reg.count(key, &terms, Shown::Known(0)) {
            self.broken.get_or_insert_with(|| e.to_string());
        }
    }

    /// `whole` split into `parts` of known people and reoffenders and a remainder, each with
    /// its own cells, linked by the identities on people and reoffenders; `None` (nothing
    /// registered) where the parts do not fit in `whole`.
    fn split(&mut self, key: &str, whole: &Pair, parts: &[(&str, i64, i64)]) -> Option<Vec<Pair>> {
        let (sn, sx) = parts.iter().fold((0, 0), |(n, x), p| (n + p.1, x + p.2));
        let (rn, rx) = (whole.people - sn, whole.reoffenders - sx);
        if rn < 0 || rx < 0 || rn < rx || parts.iter().any(|p| p.2 < 0 || p.1 < p.2) {
            return None;
        }
        let mut out = Vec::new();
        for (name, n, x) in parts.iter().chain([&("rest", rn, rx)]) {
            out.push(self.own(&format!("{key}/{name}"), *n, *x)?);
        }
        let mut ir: Vec<(CellId, i64)> = out.iter().flat_map(|p| p.r.clone()).collect();
        ir.extend(whole.r.iter().map(|&(c, k)| (c, -k)));
        let mut inn: Vec<(CellId, i64)> = out.iter().flat_map(|p| p.n.clone()).collect();
        inn.extend(whole.n.iter().map(|&(c, k)| (c, -k)));
        self.identity(&format!("{key}=reoffenders"), ir);
        self.identity(&format!("{key}=others"), inn);
        Some(out)
    }

    /// The printed value at `place`, if a number.
    fn printed(&self, p: &Place) -> Option<i64> {
        let o = self.shown.pointer(&p.at)?;
        match p.times {
            None => int(&o[p.field]),
            Some(d) => Some((o[p.field].as_f64()? * o[d].as_f64()?).round() as i64),
        }
    }

    /// A count over `terms` shown at `places`; the same key again adds places (its terms
    /// must be the same: else the registration is broken and the audit fails closed).
    fn figure(&mut self, key: &str, terms: Vec<(CellId, i64)>, places: Vec<Place>) {
        if terms.is_empty() {
            return;
        }
        let mut sorted = terms;
        sorted.sort_unstable();
        match self.pending.get_mut(key) {
            Some((t, p)) => {
                if *t != sorted {
                    self.broken
                        .get_or_insert_with(|| format!("{key} registered with two definitions"));
                }
                p.extend(places);
            }
            None => {
                self.pending.insert(key.to_string(), (sorted, places));
            }
        }
    }

    /// Registers the figures collected by [`Ledger::figure`]: printed where any place
    /// prints a number.
    fn finish(&mut self) {
        for (key, (terms, places)) in std::mem::take(&mut self.pending) {
            let shown = places
                .iter()
                .find_map(|p| self.printed(p))
                .map_or(Shown::Withheld, Shown::Exact);
            match self.reg.count(&key, &terms, shown) {
                Ok(id) => {
                    self.places.entry(id).or_default().extend(places);
                }
                Err(e) => {
                    self.broken.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }

    /// A row shown only when its cells hold someone.
    fn label(&mut self, key: &str, cells: Vec<CellId>) {
        if let Err(e) = self.reg.label(key, &cells) {
            self.broken.get_or_insert_with(|| e.to_string());
        }
    }
}

fn place(at: &str, field: &'static str, then: Then) -> Place {
    Place {
        at: at.to_string(),
        field,
        times: None,
        then,
    }
}

/// A rates row's figures that go with its size: its reoffenders' and the size itself.
fn rate_fields_with_size() -> Vec<&'static str> {
    let mut v = RATE_DERIVED.to_vec();
    v.push("eligible");
    v
}

/// A monitoring quarter's people and what gives them back (its rates at equal follow-up).
fn people_fields() -> Vec<&'static str> {
    let mut v = vec!["people"];
    v.extend(MONITOR_EVENTS);
    v
}

/// Text fields of a row: its labels.
fn labels(g: &Value) -> Vec<(String, String)> {
    g.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != "ci_method")
                .filter_map(|(c, v)| v.as_str().map(|l| (c.clone(), l.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn row_key(g: &Value) -> String {
    labels(g)
        .iter()
        .map(|(c, l)| format!("{c}={l}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Registers every linked count of the report (the true values from `before`, what is
/// printed from `j`).
fn register(l: &mut Ledger, before: &Value) {
    // The measure: a part per rates row; cohorts are the sums of their rows.
    let mut cohorts: BTreeMap<String, Pair> = BTreeMap::new();
    let rows = before["rates"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by_cohort = !rows.is_empty() && rows.iter().all(|g| g["cohort"].is_string());
    for (i, g) in rows.iter().enumerate() {
        let (Some(n), Some(x)) = (int(&g["eligible"]), int(&g["reoffenders"])) else {
            continue;
        };
        let key = format!("measure/{}", row_key(g));
        let Some(p) = l.own(&key, n, x) else { continue };
        let at = format!("/rates/groups/{i}");
        l.label(&format!("{key}/row"), vec![p.r[0].0, p.n[0].0]);
        l.figure(
            &format!("{key}/eligible"),
            p.all(),
            vec![place(
                &at,
                "eligible",
                Then::Fields(rate_fields_with_size()),
            )],
        );
        l.figure(
            &format!("{key}/reoffenders"),
            p.r.clone(),
            vec![place(
                &at,
                "reoffenders",
                Then::Fields(RATE_DERIVED.to_vec()),
            )],
        );
        if by_cohort {
            let c = g["cohort"].as_str().unwrap_or_default().to_string();
            let e = cohorts.entry(c).or_default();
            *e = e.plus(&p);
        }
    }
    // A comparison's group: the cohort's measure when its counts are the cohort's, else a
    // part of its own.
    let group = |l: &mut Ledger, key: &str, name: &str, n: i64, x: i64| -> Option<Pair> {
        match cohorts.get(name) {
            Some(p) if p.people == n && p.reoffenders == x => Some(p.clone()),
            _ => l.own(&format!("{key}/{name}"), n, x),
        }
    };
    let mut measured: BTreeMap<String, Pair> = BTreeMap::new();
    for key in ["compare", "compare_benchmark"] {
        let c = &before[key];
        if !c.is_object() {
            continue;
        }
        let at = format!("/{key}");
        for side in ["treatment", "control"] {
            let (Some(name), Some(n), Some(x)) = (
                c[side].as_str(),
                int(&c[format!("{side}_n")]),
                int(&c[format!("{side}_reoffenders")]),
            ) else {
                continue;
            };
            let Some(p) = measured
                .get(name)
                .filter(|p| p.people == n && p.reoffenders == x)
                .cloned()
                .or_else(|| group(l, key, name, n, x))
            else {
                continue;
            };
            comparison_side(l, &at, side, &p, &format!("measure/{name}"));
            measured.insert(name.to_string(), p);
        }
        let matched_check = before["match"]["period_check"]
            .is_object()
            .then_some(&before["match"]["period_check"]);
        period_check(
            l,
            c,
            &at,
            &measured,
            (key == "compare").then_some(matched_check.unwrap_or(&Value::Null)),
        );
    }
    if let Some(p) = before["compare"]["treatment"]
        .as_str()
        .and_then(|t| measured.get(t))
    {
        if before["power"].is_object() && int(&before["power"]["n"]) == Some(p.people) {
            let key = format!(
                "measure/{}",
                before["compare"]["treatment"].as_str().unwrap_or("")
            );
            l.figure(
                &format!("{key}/people"),
                p.all(),
                vec![place("/power", "n", Then::Whole)],
            );
        }
    }
    let populations = survival_and_monitor(l, before, &measured);
    let matched_groups = matched(l, before, &measured);
    period_check(l, &before["match"], "/match", &matched_groups, None);
    attrition(l, before, &measured, &populations);
    costs(l, before, &populations);
    l.finish();
}

/// A comparison's counts for one side, withheld with the whole comparison.
fn comparison_side(l: &mut Ledger, at: &str, side: &str, p: &Pair, key: &str) {
    let (n, x): (&'static str, &'static str) = match side {
        "treatment" => ("treatment_n", "treatment_reoffenders"),
        _ => ("control_n", "control_reoffenders"),
    };
    let whole = || Then::Comparison(at.to_string());
    l.figure(
        &format!("{key}/people"),
        p.all(),
        vec![place(at, n, whole())],
    );
    l.figure(
        &format!("{key}/reoffenders"),
        p.r.clone(),
        vec![
            place(at, x, whole()),
            place(&format!("{at}/time_to_first"), x, whole()),
        ],
    );
}

/// The pilot-period check: each group split into the people inside the period and the
/// rest; the comparison group's people outside the period are published.
/// `outside`: the matched period check (which repeats the comparison group's people outside
/// the period) for the group comparison's check; `None` for the matched check itself.
fn period_check(
    l: &mut Ledger,
    c: &Value,
    at: &str,
    measured: &BTreeMap<String, Pair>,
    outside: Option<&Value>,
) {
    let pc = &c["period_check"];
    let inner = &pc["comparison"];
    if !inner.is_object() {
        return;
    }
    let inner_at = format!("{at}/period_check/comparison");
    for side in ["treatment", "control"] {
        let (Some(name), Some(n), Some(x)) = (
            inner[side].as_str(),
            int(&inner[format!("{side}_n")]),
            int(&inner[format!("{side}_reoffenders")]),
        ) else {
            continue;
        };
        let key = format!("{}/period", at.trim_start_matches('/'));
        let parts = measured
            .get(name)
            .and_then(|whole| l.split(&format!("{key}/{name}"), whole, &[("in", n, x)]));
        let inside = match parts {
            Some(parts) => {
                if side == "control" && outside.is_some() {
                    let mut places = vec![place(
                        &format!("{at}/period_check"),
                        "comparison_outside",
                        Then::Comparison(inner_at.clone()),
                    )];
                    // The matched period check publishes the same count.
                    if outside
                        .is_some_and(|m| int(&m["comparison_outside"]) == Some(parts[1].people))
                    {
                        places.push(place(
                            "/match/period_check",
                            "comparison_outside",
                            Then::Comparison("/match/period_check/comparison".into()),
                        ));
                    }
                    l.figure(&format!("{key}/{name}/outside"), parts[1].all(), places);
                }
                parts[0].clone()
            }
            None => match l.own(&format!("{key}/{name}/in"), n, x) {
                Some(p) => p,
                None => continue,
            },
        };
        comparison_side(l, &inner_at, side, &inside, &format!("{key}/{name}/in"));
    }
}

/// The survival groups and the monitoring quarters of each cohort; returns each cohort's
/// people with an index event (the monitoring population) where it could be linked.
fn survival_and_monitor(
    l: &mut Ledger,
    before: &Value,
    measured: &BTreeMap<String, Pair>,
) -> BTreeMap<String, Pair> {
    let mut out: BTreeMap<String, Pair> = BTreeMap::new();
    let mut followed: BTreeMap<String, Pair> = BTreeMap::new();
    let groups = before["survival"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, g) in groups.iter().enumerate() {
        // Cohort-level groups only (breakdowns of survival are gated by the table rules).
        let labs = labels(g);
        let (Some(name), true) = (g["cohort"].as_str(), labs.len() == 1) else {
            continue;
        };
        let (Some(n), Some(e)) = (int(&g["n"]), int(&g["events"])) else {
            continue;
        };
        let key = format!("survival/{name}");
        let whole = match measured.get(name) {
            // Survival holds the measure's people and those with partial follow-up; a
            // measured reoffender is an event within the year (as an intruder assumes).
            Some(m) => match l.own(&format!("{key}/partial"), n - m.people, e - m.reoffenders) {
                Some(partial) if n - m.people >= e - m.reoffenders => m.plus(&partial),
                _ => match l.own(&key, n, e) {
                    Some(p) => p,
                    None => continue,
                },
            },
            None => match l.own(&key, n, e) {
                Some(p) => p,
                None => continue,
            },
        };
        let at = format!("/survival/groups/{i}");
        // The Cox model's n and events are the groups' sums: withheld with any group's
        // (so that a sum never gives back a withheld group).
        let cox =
            |field: &'static str| place("/survival/cox", field, Then::Fields(vec!["n", "events"]));
        l.figure(
            &format!("{key}/n"),
            whole.all(),
            vec![place(&at, "n", Then::Fields(vec!["n"])), cox("n")],
        );
        l.figure(
            &format!("{key}/events"),
            whole.r.clone(),
            vec![
                place(&at, "events", Then::Fields(vec!["events"])),
                cox("events"),
            ],
        );
        followed.insert(name.to_string(), whole);
    }
    // Monitoring: each quarter split into those followed for the full period and the rest.
    let quarters = before["monitor"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut by_cohort: BTreeMap<String, Vec<(usize, Pair)>> = BTreeMap::new();
    for (i, g) in quarters.iter().enumerate() {
        let (Some(name), Some(period)) = (g["cohort"].as_str(), g["period"].as_str()) else {
            continue;
        };
        let (Some(n), Some(e), Some(full)) = (
            int(&g["people"]),
            int(&g["events_so_far"]),
            int(&g["full_follow_up"]),
        ) else {
            continue;
        };
        let e_full = g["observed_rate"]
            .as_f64()
            .map(|r| (r * full as f64).round() as i64)
            .unwrap_or(0);
        let key = format!("monitor/{name}/{period}");
        let (Some(f), Some(rest)) = (
            l.own(&format!("{key}/full"), full, e_full),
            l.own(&format!("{key}/partial"), n - full, e - e_full),
        ) else {
            continue;
        };
        let all = f.plus(&rest);
        let at = format!("/monitor/groups/{i}");
        l.label(
            &format!("{key}/row"),
            all.all().iter().map(|t| t.0).collect(),
        );
        l.figure(
            &format!("{key}/people"),
            all.all(),
            vec![place(&at, "people", Then::Fields(people_fields()))],
        );
        l.figure(
            &format!("{key}/full_follow_up"),
            f.all(),
            vec![place(
                &at,
                "full_follow_up",
                Then::Fields(vec!["full_follow_up"]),
            )],
        );
        l.figure(
            &format!("{key}/events_so_far"),
            all.r.clone(),
            vec![place(
                &at,
                "events_so_far",
                Then::Fields(MONITOR_EVENTS.to_vec()),
            )],
        );
        // The observed rate of the full follow-up: its events, printed when the rate and
        // the full follow-up are.
        l.figure(
            &format!("{key}/full_events"),
            f.r.clone(),
            vec![Place {
                times: Some("full_follow_up"),
                ..place(&at, "observed_rate", Then::Fields(MONITOR_EVENTS.to_vec()))
            }],
        );
        by_cohort
            .entry(name.to_string())
            .or_default()
            .push((i, all));
    }
    for (name, qs) in by_cohort {
        let total = qs.iter().fold(Pair::default(), |a, (_, p)| a.plus(p));
        // Those not yet observable are in the monitoring population but not in survival.
        if let Some(s) = followed.get(&name) {
            let (o_n, o_x) = (total.people - s.people, total.reoffenders - s.reoffenders);
            if o_n >= 0 && o_x == 0 {
                if let Some(o) = l.own(&format!("unobservable/{name}"), o_n, 0) {
                    let mut ir = total.r.clone();
                    ir.extend(s.r.iter().map(|&(c, k)| (c, -k)));
                    ir.extend(o.r.iter().map(|&(c, k)| (c, -k)));
                    let mut inn = total.n.clone();
                    inn.extend(s.n.iter().map(|&(c, k)| (c, -k)));
                    inn.extend(o.n.iter().map(|&(c, k)| (c, -k)));
                    l.identity(&format!("monitor/{name}=reoffenders"), ir);
                    l.identity(&format!("monitor/{name}=others"), inn);
                    out.insert(format!("unobservable/{name}"), o);
                }
            }
        }
        out.insert(name, total);
    }
    // People not yet observable, all cohorts.
    let unobs: Vec<&Pair> = out
        .iter()
        .filter(|(k, _)| k.starts_with("unobservable/"))
        .map(|(_, p)| p)
        .collect();
    if !unobs.is_empty()
        && int(&before["survival"]["not_observable"])
            == Some(unobs.iter().map(|p| p.people).sum::<i64>())
    {
        let terms: Vec<(CellId, i64)> = unobs.iter().flat_map(|p| p.all()).collect();
        l.figure(
            "unobservable/all",
            terms,
            vec![place(
                "/survival",
                "not_observable",
                Then::Fields(vec!["not_observable"]),
            )],
        );
    }
    for (name, p) in followed {
        out.insert(format!("followed/{name}"), p);
    }
    out
}

/// Matching: each group split into the matched people and the rest (unmatched and set
/// aside for a missing covariate); the placebo outcome of the matched people.
fn matched(
    l: &mut Ledger,
    before: &Value,
    measured: &BTreeMap<String, Pair>,
) -> BTreeMap<String, Pair> {
    let mut out = BTreeMap::new();
    let m = &before["match"];
    let c = &m["comparison"];
    if !c.is_object() {
        return out;
    }
    let s = &m["sample"];
    let mut rest_people: Vec<Pair> = Vec::new();
    for (side, unmatched) in [
        ("treatment", "unmatched_treated"),
        ("control", "unmatched_controls"),
    ] {
        // The matched comparison's groups are the group comparison's cohorts (its control
        // is labelled "matched comparison").
        let cohort = before["compare"][side].as_str().or(c[side].as_str());
        let (Some(name), Some(n), Some(x)) = (
            cohort,
            int(&c[format!("{side}_n")]),
            int(&c[format!("{side}_reoffenders")]),
        ) else {
            continue;
        };
        let key = format!("match/{name}");
        let parts = measured
            .get(name)
            .and_then(|whole| l.split(&key, whole, &[("matched", n, x)]));
        let matched = match &parts {
            Some(p) => p[0].clone(),
            None => match l.own(&format!("{key}/matched"), n, x) {
                Some(p) => p,
                None => continue,
            },
        };
        comparison_side(
            l,
            "/match/comparison",
            side,
            &matched,
            &format!("{key}/matched"),
        );
        out.insert(name.to_string(), matched.clone());
        if side == "treatment" {
            let mut places = Vec::new();
            if int(&before["costs"]["people"]) == Some(matched.people) {
                places.push(place("/costs", "people", Then::Whole));
            }
            if int(&m["placebo"]["treatment_n"]) == Some(matched.people) {
                places.push(place("/match/placebo", "treatment_n", Then::Whole));
            }
            l.figure(&format!("{key}/matched/people"), matched.all(), places);
        } else if int(&m["placebo"]["control_n"]) == Some(matched.people) {
            l.figure(
                &format!("{key}/matched/people"),
                matched.all(),
                vec![place("/match/placebo", "control_n", Then::Whole)],
            );
        }
        let (mn, mx): (&'static str, &'static str) = match side {
            "treatment" => ("matched_treated", "matched_treated_reoffenders"),
            _ => ("matched_controls", "matched_control_reoffenders"),
        };
        l.figure(
            &format!("{key}/matched/people"),
            matched.all(),
            vec![
                place(
                    "/match/sample",
                    mn,
                    Then::Comparison("/match/comparison".into()),
                ),
                place("/effect/sample", mn, Then::Fields(vec![mn])),
            ],
        );
        l.figure(
            &format!("{key}/matched/reoffenders"),
            matched.r.clone(),
            vec![place("/effect/sample", mx, Then::Fields(vec![mx]))],
        );
        // The rest: unmatched people and those set aside, people only.
        if let (Some(parts), Some(u)) = (&parts, int(&s[unmatched])) {
            let rest = &parts[1];
            if (0..=rest.people).contains(&u) {
                if let (Some(uc), Some(mc)) = (
                    l.cell(&format!("{key}/unmatched"), u, false),
                    l.cell(&format!("{key}/set_aside"), rest.people - u, false),
                ) {
                    let mut t = rest.all();
                    for x in &mut t {
                        x.1 = -x.1;
                    }
                    t.push((uc, 1));
                    t.push((mc, 1));
                    l.identity(&format!("{key}/rest=people"), t);
                    l.figure(
                        &format!("{key}/unmatched/people"),
                        vec![(uc, 1)],
                        vec![place(
                            "/match/sample",
                            unmatched,
                            Then::Fields(vec![unmatched]),
                        )],
                    );
                    let (total, in_effect): (&'static str, &'static str) = match side {
                        "treatment" => ("treated", "treated"),
                        _ => ("controls", "controls"),
                    };
                    let mut t = matched.all();
                    t.push((uc, 1));
                    l.figure(
                        &format!("{key}/with_covariates"),
                        t,
                        vec![
                            place("/match/sample", total, Then::Fields(vec![total])),
                            place("/effect/sample", in_effect, Then::Fields(vec![in_effect])),
                        ],
                    );
                    rest_people.push(Pair {
                        r: vec![],
                        n: vec![(mc, 1)],
                        people: rest.people - u,
                        reoffenders: 0,
                    });
                }
            }
        }
        // The effect's unadjusted counts are the measure's.
        if let Some(whole) = measured.get(name) {
            let x_key: &'static str = match side {
                "treatment" => "treated_reoffenders",
                _ => "control_reoffenders",
            };
            l.figure(
                &format!("measure/{name}/reoffenders"),
                whole.r.clone(),
                vec![place("/effect/sample", x_key, Then::Fields(vec![x_key]))],
            );
        }
    }
    if rest_people.len() == 2 {
        let t: Vec<(CellId, i64)> = rest_people.iter().flat_map(|p| p.all()).collect();
        l.figure(
            "match/set_aside",
            t,
            vec![
                place(
                    "/match/sample",
                    "excluded_missing",
                    Then::Fields(vec!["excluded_missing"]),
                ),
                place(
                    "/effect/sample",
                    "excluded_missing",
                    Then::Fields(vec!["excluded_missing"]),
                ),
            ],
        );
    }
    out
}

/// The attrition of the cohort table: rows used (the measure's people), insufficient
/// follow-up (partial and not yet observable), the other reasons; rows read their sum.
fn attrition(
    l: &mut Ledger,
    before: &Value,
    measured: &BTreeMap<String, Pair>,
    populations: &BTreeMap<String, Pair>,
) {
    let q = &before["data_quality"];
    let Some(exclusions) = q["exclusions"].as_array() else {
        return;
    };
    for table in ["cohort", "offences"] {
        let (Some(read), Some(used)) = (int(&q["rows_read"][table]), int(&q["rows_used"][table]))
        else {
            continue;
        };
        let mut all: Vec<(CellId, i64)> = Vec::new();
        // Rows used of the cohort table: the measure's people of every cohort.
        let measure_total = measured.values().fold(Pair::default(), |a, p| a.plus(p));
        let used_terms =
            if table == "cohort" && !measured.is_empty() && measure_total.people == used {
                measure_total.all()
            } else {
                match l.cell(&format!("rows/{table}/used"), used, false) {
                    Some(c) => vec![(c, 1)],
                    None => continue,
                }
            };
        all.extend(used_terms.iter().copied());
        l.figure(
            &format!("rows/{table}/used"),
            used_terms,
            vec![place(
                "/data_quality/rows_used",
                table_field(table),
                Then::Fields(vec![table_field(table)]),
            )],
        );
        let mut listed = used;
        for (i, e) in exclusions.iter().enumerate() {
            if e["table"].as_str() != Some(table) {
                continue;
            }
            let (Some(reason), Some(rows)) = (e["reason"].as_str(), int(&e["rows"])) else {
                continue;
            };
            listed += rows;
            // Insufficient follow-up: those with partial follow-up and those not yet
            // observable, when they add up.
            let linked: Option<Vec<(CellId, i64)>> = (table == "cohort"
                && reason == "insufficient_follow_up")
                .then(|| {
                    let mut t = Vec::new();
                    let mut total = 0;
                    for (name, m) in measured {
                        let f = populations.get(&format!("followed/{name}"))?;
                        // Followed less the measure: the partial follow-up cells (the
                        // followed pair's cells not in the measure's).
                        let mine: Vec<(CellId, i64)> = f
                            .all()
                            .into_iter()
                            .filter(|c| !m.all().contains(c))
                            .collect();
                        total += f.people - m.people;
                        t.extend(mine);
                        if let Some(o) = populations.get(&format!("unobservable/{name}")) {
                            total += o.people;
                            t.extend(o.all());
                        }
                    }
                    (total == rows).then_some(t)
                })
                .flatten();
            let terms = match linked {
                Some(t) => t,
                None => match l.cell(&format!("rows/{table}/{reason}"), rows, true) {
                    Some(c) => vec![(c, 1)],
                    None => continue,
                },
            };
            all.extend(terms.iter().copied());
            l.figure(
                &format!("rows/{table}/{reason}"),
                terms,
                vec![place(
                    &format!("/data_quality/exclusions/{i}"),
                    "rows",
                    Then::Fields(vec!["rows"]),
                )],
            );
        }
        if listed == read {
            l.figure(
                &format!("rows/{table}/read"),
                all,
                vec![place(
                    "/data_quality/rows_read",
                    table_field(table),
                    Then::Fields(vec![table_field(table)]),
                )],
            );
        }
    }
}

fn table_field(table: &str) -> &'static str {
    if table == "cohort" {
        "cohort"
    } else {
        "offences"
    }
}

/// The costs' counts of people: the matched pilot people and everyone diverted.
fn costs(l: &mut Ledger, before: &Value, populations: &BTreeMap<String, Pair>) {
    let c = &before["costs"];
    let Some(pilot) = before["compare"]["treatment"].as_str() else {
        return;
    };
    if !c.is_object() {
        return;
    }
    if let (Some(total), Some(p)) = (int(&c["people_diverted_total"]), populations.get(pilot)) {
        if p.people == total {
            l.figure(
                &format!("monitor/{pilot}/people"),
                p.all(),
                vec![place("/costs", "people_diverted_total", Then::Whole)],
            );
        }
    }
}

/// Why a comparison the audit withholds is not published.
const AUDIT_WITHHELD: &str = "Not published: with the other figures of this report, its counts would let a small count be worked out.";

/// Applies the table rules' verdicts the audit extends: withholds `at`'s figures as `then`
/// says.
fn withhold(j: &mut Value, p: &Place, k: f64) {
    let Some(o) = j.pointer_mut(&p.at) else {
        return;
    };
    match &p.then {
        Then::Fields(fields) => {
            if let Value::Object(m) = o {
                for f in fields {
                    if m.contains_key(*f) {
                        m.insert((*f).to_string(), json!(SUPPRESSED));
                    }
                }
            }
        }
        Then::Comparison(at) => {
            if let Value::Object(m) = o {
                if let Some(f) = m.get_mut(p.field) {
                    *f = json!(SUPPRESSED);
                }
            }
            if let Some(c) = j.pointer_mut(at) {
                disclosure::withhold_comparison(c, AUDIT_WITHHELD);
            }
            if at == "/match/comparison" {
                if let Some(e) = j.get_mut("effect").filter(|e| !e.is_null()) {
                    disclosure::effect(e, k, true);
                }
                if let Some(c) = j.get_mut("costs").filter(|c| !c.is_null()) {
                    disclosure::costs(c);
                }
            }
        }
        Then::Whole => {
            if p.at == "/costs" {
                disclosure::costs(o);
            } else if let Value::Object(m) = o {
                for v in m.values_mut() {
                    if v.is_number() || v.is_array() || v.is_object() {
                        *v = json!(SUPPRESSED);
                    }
                }
            }
        }
    }
}

/// Integer fields that are not counts of people (settings, identifiers of periods, model
/// bookkeeping): published as they are. Paths with `*` for array positions.
pub const NOT_COUNTS: [&str; 31] = [
    "/parameters/*",
    "/parameters/*/*",
    "/provenance/*",
    "/provenance/*/*",
    "/provenance/*/*/*",
    "/survival/follow_up_days",
    "/survival/logrank/df",
    "/survival/cox/iterations",
    "/monitor/follow_up_days",
    "/monitor/groups/*/projection_day",
    "/match/propensity_model/iterations",
    "/effect/propensity_model/iterations",
    "/match/ratio",
    "/effect/order_sensitivity/runs",
    "/effect/order_sensitivity/seed",
    "/effect/matched_regression/parameters",
    "/costs/price_year",
    "/costs/horizon_years",
    "/costs/payback_year",
    "/costs/draws",
    "/costs/seed",
    "/costs/items/*/price_year",
    "/did/wild_bootstrap/replications",
    "/did/wild_bootstrap/seed",
    "/did/synthetic/replications",
    "/did/event_study/*/relative_period",
    "/did/clusters",
    "/did/treated_clusters",
    "/did/placebo_in_space/rank",
    "/did/placebo_in_space/areas",
    "/compare/tests/*/df",
];

/// Counts gated by the table rules' thresholds on what they rest on (`docs/disclosure.md`, "Disclosure
/// control"), not by the linear audit: reoffence counts (offences, not people), survival
/// groups of a breakdown (the cohort-level groups are registered), chart steps'
/// at-risk and events (removed when control is on), pairs, propensity bins, model sizes,
/// the placebo outcome, the attrition's files and first rows, subgroups and the area
/// designs (their cells are areas' people, gated by the area rule). Paths with `*` for one
/// segment and `**` for any suffix.
pub const RULE_GATED: [&str; 31] = [
    "/rates/groups/*/reoffences",
    "/survival/groups/*/n",
    "/survival/groups/*/events",
    "/survival/cox_excluded_missing",
    "/survival/groups/*/steps/*/at_risk",
    "/survival/groups/*/steps/*/events",
    "/match/propensity_model/n",
    "/effect/propensity_model/n",
    "/match/rosenbaum/control_only",
    "/match/rosenbaum/discordant_pairs",
    "/match/rosenbaum/treated_only",
    "/match/placebo/treatment_n",
    "/match/placebo/control_n",
    "/match/placebo/treatment_reoffenders",
    "/match/placebo/control_reoffenders",
    "/match/placebo/time_to_first/*",
    "/effect/sample/matched_sets",
    "/effect/headline/clusters",
    "/effect/headline/rows",
    "/effect/matched_regression/clusters",
    "/effect/matched_regression/rows",
    "/effect/overlap_diagnostics/bins/*/controls",
    "/effect/overlap_diagnostics/bins/*/treated",
    "/effect/overlap_diagnostics/controls_outside",
    "/effect/overlap_diagnostics/treated_outside",
    "/data_quality/exclusions/*/first_rows/*",
    "/data_quality/files/*/rows",
    "/compare/subgroups/**",
    "/match/comparison/subgroups/**",
    "/did/**",
    "/staggered/**",
];

fn matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    for (i, seg) in pat.iter().enumerate() {
        if *seg == "**" {
            return p.len() >= i;
        }
        match p.get(i) {
            Some(s) if *seg == "*" || seg == s => {}
            _ => return false,
        }
    }
    pat.len() == p.len()
}

/// The figures that are not counts (rates, intervals, tests, model statistics, money), by
/// section of `report.json` and key: each is withheld by a rule of the gate
/// (`disclosure.rs`) together with the counts it rests on. A number that is not a whole
/// number under any other key is withheld (fail closed): a result that gains a field gains
/// it here, with the rule that gates it.
pub const GATED_FIGURES: [(&str, &[&str]); 12] = [
    (
        "rates",
        &[
            "baseline_p_greater",
            "baseline_p_less",
            "baseline_p_two_sided",
            "baseline_rate",
            "ci_high",
            "ci_low",
            "confidence",
            "mean_days_to_first",
            "median_days_to_first",
            "rate",
            "reoffences_per_offender",
            "reoffences_per_reoffender",
        ],
    ),
    ("compare", &COMPARISON_FIGURES),
    ("compare_benchmark", &COMPARISON_FIGURES),
    // The matched comparison is a comparison: its figures are COMPARISON_FIGURES (below).
    ("match", &COMPARISON_FIGURES),
    (
        "match",
        &[
            "caliper_logit",
            "coef",
            "effective_controls",
            "gamma_at_alpha",
            "log_likelihood",
            "mean_control_after",
            "mean_control_before",
            "mean_treated_after",
            "mean_treated_before",
            "p_upper",
            "se",
            "smd_after",
            "smd_before",
            "variance_ratio_after",
        ],
    ),
    (
        "effect",
        &[
            "ci_high",
            "ci_low",
            "coef",
            "confidence",
            "controls_outside_treated_range",
            "correction",
            "ess",
            "ess_control",
            "ess_treated",
            "estimate",
            "estimate_default_order",
            "estimate_max",
            "estimate_min",
            "estimates",
            "high",
            "log_likelihood",
            "low",
            "max_abs_smd",
            "max_abs_smd_max",
            "max_abs_smd_min",
            "p_value",
            "se",
            "statistic",
            "treated_outside_control_range",
        ],
    ),
    (
        "survival",
        &[
            "ci_high",
            "ci_low",
            "coef",
            "concordance",
            "confidence",
            "day",
            "hazard_ratio",
            "log_likelihood",
            "log_likelihood_null",
            "median",
            "median_ci_high",
            "median_ci_low",
            "p_value",
            "rmst",
            "se",
            "statistic",
            "survival",
            "time",
            "times",
            "z",
        ],
    ),
    (
        "monitor",
        &[
            "ci_high",
            "ci_low",
            "confidence",
            "estimate_12m",
            "observed_rate",
            "projected_12m",
            "projected_high",
            "projected_low",
            "projection_share",
            "rate",
        ],
    ),
    (
        "power",
        &[
            "baseline_rate",
            "min_detectable_difference_vs_comparison",
            "min_detectable_rate_lower",
            "min_detectable_rate_upper",
        ],
    ),
    (
        "costs",
        &[
            "avoided_per_person",
            "avoided_reoffences",
            "benefit_cost_ratio",
            "break_even_rate_reduction",
            "break_even_rate_reduction_cashable",
            "ci_high",
            "ci_low",
            "discount_rate",
            "gross_savings",
            "high",
            "low",
            "net_high",
            "net_low",
            "net_savings",
            "net_savings_ci_high",
            "net_savings_ci_low",
            "optimism_bias",
            "persistence",
            "probability_net_positive",
            "programme_cost",
            "proven_to_actual",
            "quantity",
            "swing",
            "total",
            "unit_cost",
            "uprated_value",
            "value",
            "value_per_reoffence",
        ],
    ),
    (
        "did",
        &[
            "att",
            "ci_high",
            "ci_low",
            // A panel's cells are weights (numbers of people, weighted), gated with the cells.
            "comparison_people",
            "comparison_rate",
            "comparison_reoffenders",
            "confidence",
            "df",
            "df_den",
            "df_num",
            "estimate",
            "min_p_value",
            "p_value",
            "people",
            "pilot",
            "pilot_people",
            "pilot_rate",
            "pilot_reoffenders",
            "rate",
            "reoffenders",
            "se",
            "statistic",
            "synthetic",
            "weight",
        ],
    ),
    (
        "parameters",
        &["baseline_rate", "confidence", "plausible_ages"],
    ),
];

/// A comparison's figures that are not counts (the group comparison and the benchmark's).
const COMPARISON_FIGURES: [&str; 44] = [
    "alpha",
    "baseline_rate",
    "ci_high",
    "ci_low",
    "confidence",
    "control_ci_high",
    "control_ci_low",
    "control_mean",
    "control_mean_days",
    "control_median_days",
    "control_per_100",
    "control_rate",
    "df",
    "difference",
    "estimate",
    "interval_limit",
    "min_detectable_difference_lower",
    "min_detectable_difference_upper",
    "odds_ratio",
    "or_ci_high",
    "or_ci_low",
    "p_adjusted",
    "p_value",
    "power",
    "rate_ratio",
    "rate_ratio_ci_high",
    "rate_ratio_ci_low",
    "rd_ci_high",
    "rd_ci_low",
    "relative_risk",
    "risk_difference",
    "rr_ci_high",
    "rr_ci_low",
    "statistic",
    "treatment_ci_high",
    "treatment_ci_low",
    "treatment_mean",
    "treatment_mean_days",
    "treatment_median_days",
    "treatment_per_100",
    "treatment_rate",
    "welch_p_value",
    "e_value",
    "gamma",
];

/// Whether a number that is not a whole number at `path` is a figure the gate knows
/// ([`GATED_FIGURES`]): the section is the path's first key, the figure's key its last key
/// that is not an index or a day (`rate_at/182/rate` is `rate`).
fn known_figure(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(section) = segs.first() else {
        return false;
    };
    let key = segs.iter().rev().find(|s| s.parse::<f64>().is_err());
    GATED_FIGURES
        .iter()
        .any(|(s, keys)| s == section && key.is_some_and(|k| keys.contains(k)))
}

/// Withholds every integer field of `j` that is neither a registered figure's place nor in
/// [`NOT_COUNTS`] or [`RULE_GATED`], and every other number that is not a figure the gate
/// knows ([`GATED_FIGURES`]): a count or a figure under a key the gate does not know is not
/// published (fail closed). Returns the paths withheld.
pub fn fail_closed(j: &mut Value, registered: &[String]) -> Vec<String> {
    fn walk(v: &mut Value, path: &str, registered: &[String], out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    walk(x, &format!("{path}/{k}"), registered, out);
                }
            }
            Value::Array(list) => {
                for (i, x) in list.iter_mut().enumerate() {
                    walk(x, &format!("{path}/{i}"), registered, out);
                }
            }
            Value::Number(n) if n.is_f64() => {
                let known = known_figure(path) || NOT_COUNTS.iter().any(|p| matches(p, path));
                if !known {
                    *v = json!(SUPPRESSED);
                    out.push(path.to_string());
                }
            }
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                let known = registered.iter().any(|r| r == path)
                    || NOT_COUNTS.iter().any(|p| matches(p, path))
                    || RULE_GATED.iter().any(|p| matches(p, path));
                if !known {
                    *v = json!(SUPPRESSED);
                    out.push(path.to_string());
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(j, "", registered, &mut out);
    out
}

/// Registers the report's linked counts, audits them, and withholds in `j` what the audit
/// suppresses beyond the table rules; then withholds unknown counts (fail closed).
pub fn apply(j: &mut Value, before: &Value, min_cell: u64) -> AuditSummary {
    let snapshot = j.clone();
    let mut l = Ledger::new(&snapshot);
    register(&mut l, before);
    let mut summary = AuditSummary {
        cells: l.reg.cells().len(),
        counts: l.reg.figures().len(),
        ..AuditSummary::default()
    };
    let registered: Vec<String> = l
        .places
        .values()
        .flatten()
        .map(|p| format!("{}/{}", p.at, p.field))
        .collect();
    let options = AuditOptions {
        verify_candidates: 1_000,
        exact_up_to: 2_000,
        ..AuditOptions::new(min_cell)
    };
    let report = match (&l.broken, audit::audit(&l.reg, &options)) {
        (None, Ok(r)) => Some(r),
        _ => None,
    };
    match report {
        Some(r) => {
            summary.protected = r.protected.len();
            summary.linear_programmes = r.stats.lps;
            summary.all_wide = r.failures.is_empty()
                && r.protected
                    .iter()
                    .all(|p| p.interval.is_some_and(|iv| !iv.is_pinned(min_cell)));
            for s in &r.suppressed {
                for p in l.places.get(&s.figure).into_iter().flatten() {
                    if l.printed(p).is_some() {
                        summary.withheld_by_audit += 1;
                    }
                    withhold(j, p, min_cell as f64);
                }
            }
        }
        None => {
            // The audit could not run: every registered figure is withheld (fail closed).
            for p in l.places.values().flatten() {
                if l.printed(p).is_some() {
                    summary.withheld_by_audit += 1;
                }
                withhold(j, p, min_cell as f64);
            }
        }
    }
    summary.unregistered = fail_closed(j, &registered);
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_under_a_key_the_gate_does_not_know_is_withheld_and_named() {
        let mut j = json!({
            "rates": {"groups": [{"cohort": "a", "eligible": 40, "new_count": 3}]},
            "parameters": {"follow_up_days": 365},
            "survival": {"follow_up_days": 365, "not_yet_a_field": 12},
        });
        let registered = vec!["/rates/groups/0/eligible".to_string()];
        let out = fail_closed(&mut j, &registered);
        assert_eq!(
            out,
            vec!["/rates/groups/0/new_count", "/survival/not_yet_a_field"]
        );
        assert_eq!(j["rates"]["groups"][0]["new_count"], SUPPRESSED);
        assert_eq!(j["rates"]["groups"][0]["eligible"], 40);
        assert_eq!(j["parameters"]["follow_up_days"], 365);
    }

    #[test]
    fn a_figure_under_a_key_the_gate_does_not_know_is_withheld_and_named() {
        let mut j = json!({
            "rates": {"groups": [{"cohort": "a", "rate": 0.25, "new_share": 0.075}]},
            "monitor": {"groups": [{"rate_at": {"182": {"rate": 0.5, "ci_low": 0.3}}}]},
            "costs": {"rate": 0.1},
            "parameters": {"confidence": 0.95},
        });
        let out = fail_closed(&mut j, &[]);
        // A known key in another section is not known here: `rate` is a cost's figure nowhere.
        assert_eq!(out, vec!["/rates/groups/0/new_share", "/costs/rate"]);
        assert_eq!(j["rates"]["groups"][0]["new_share"], SUPPRESSED);
        assert_eq!(j["rates"]["groups"][0]["rate"], 0.25);
        assert_eq!(j["monitor"]["groups"][0]["rate_at"]["182"]["rate"], 0.5);
        assert_eq!(j["parameters"]["confidence"], 0.95);
    }

    #[test]
    fn patterns_match_whole_segments() {
        assert!(matches("/did/**", "/did/cells/0/people"));
        assert!(matches(
            "/rates/groups/*/reoffences",
            "/rates/groups/12/reoffences"
        ));
        assert!(!matches(
            "/rates/groups/*/reoffences",
            "/rates/groups/12/reoffenders"
        ));
        assert!(!matches("/rates/groups/*", "/rates/groups/1/eligible"));
        assert!(!matches("/did/**", "/didx/cells"));
    }

    /// Two cohorts whose monitoring counts one more person than survival (index on the
    /// extract date): the difference is a count of 1, and the audit withholds enough that it
    /// cannot be worked out, though the table rules publish every count involved.
    #[test]
    fn the_audit_closes_monitoring_less_survival() {
        let before = json!({
            "rates": {"groups": [
                {"cohort": "a", "eligible": 300, "reoffenders": 90},
                {"cohort": "b", "eligible": 200, "reoffenders": 40},
            ]},
            "compare": {"treatment": "b", "control": "a", "treatment_n": 200,
                        "treatment_reoffenders": 40, "control_n": 300, "control_reoffenders": 90},
            "survival": {"groups": [
                {"cohort": "a", "n": 400, "events": 120},
                {"cohort": "b", "n": 260, "events": 55},
            ], "not_observable": 2},
            "monitor": {"groups": [
                {"cohort": "a", "period": "Q1", "people": 250, "full_follow_up": 250,
                 "events_so_far": 70, "observed_rate": 0.28},
                {"cohort": "a", "period": "Q2", "people": 151, "full_follow_up": 100,
                 "events_so_far": 50, "observed_rate": 0.4},
                {"cohort": "b", "period": "Q1", "people": 150, "full_follow_up": 150,
                 "events_so_far": 30, "observed_rate": 0.2},
                {"cohort": "b", "period": "Q2", "people": 111, "full_follow_up": 50,
                 "events_so_far": 25, "observed_rate": 0.2},
            ]},
        });
        let mut j = before.clone();
        j["survival"]["not_observable"] = json!(SUPPRESSED);
        let s = apply(&mut j, &before, 10);
        assert!(s.all_wide, "{s:?}");
        assert!(s.withheld_by_audit >= 2, "{s:?}");
        for (c, i) in [("a", 0), ("b", 1)] {
            let monitor: Vec<&Value> = j["monitor"]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| g["cohort"] == c)
                .map(|g| &g["people"])
                .collect();
            let all_monitor = monitor.iter().all(|v| v.is_number());
            let survival = j["survival"]["groups"][i]["n"].is_number();
            assert!(!(all_monitor && survival), "cohort {c}: {j:#}");
        }
        assert!(s.unregistered.is_empty(), "{:?}", s.unregistered);
    }
}
