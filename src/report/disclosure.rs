//! Statistical disclosure control on the published results: small counts are suppressed
//! (`[c]`), with secondary suppression so they cannot be recovered from totals.

use serde_json::{Value, json};

/// The marker for a suppressed value.
pub const SUPPRESSED: &str = "[c]";

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
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

const RATE_DERIVED: [&str; 12] = [
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
/// number fewer than `k`; secondary suppression within each cohort so that a suppressed
/// row cannot be recovered from the cohort total.
pub fn rates(rates: &mut Value, k: f64) {
    let Some(groups) = rates.get_mut("groups").and_then(Value::as_array_mut) else {
        return;
    };
    let mut primary = vec![false; groups.len()];
    let mut small_n = vec![false; groups.len()];
    for (i, g) in groups.iter_mut().enumerate() {
        let (n, x) = (
            num(g, "eligible").unwrap_or(0.0),
            num(g, "reoffenders").unwrap_or(0.0),
        );
        if n > 0.0 && n < k {
            suppress(g, &["eligible"]);
            small_n[i] = true;
        }
        if n > 0.0 && (x < k || n - x < k) {
            suppress(g, &RATE_DERIVED);
            primary[i] = true;
        }
    }
    // Secondary: per cohort, never leave exactly one suppressed row among several.
    let mut cohorts: Vec<String> = groups
        .iter()
        .filter_map(|g| g["cohort"].as_str().map(str::to_string))
        .collect();
    cohorts.sort();
    cohorts.dedup();
    for c in cohorts {
        let rows: Vec<usize> = (0..groups.len())
            .filter(|&i| groups[i]["cohort"].as_str() == Some(&c))
            .collect();
        // Group sizes too: one suppressed size could be recovered from the cohort's total.
        if rows.len() > 1 && rows.iter().filter(|&&i| small_n[i]).count() == 1 {
            let next = rows
                .iter()
                .copied()
                .filter(|&i| !small_n[i] && num(&groups[i], "eligible").is_some_and(|n| n > 0.0))
                .min_by(|&a, &b| {
                    let (na, nb) = (
                        num(&groups[a], "eligible").unwrap_or(0.0),
                        num(&groups[b], "eligible").unwrap_or(0.0),
                    );
                    na.total_cmp(&nb).then(a.cmp(&b))
                });
            if let Some(j) = next {
                suppress(&mut groups[j], &["eligible"]);
            }
        }
        let suppressed = rows.iter().filter(|&&i| primary[i]).count();
        if rows.len() > 1 && suppressed == 1 {
            let next = rows
                .iter()
                .copied()
                .filter(|&i| !primary[i])
                .min_by(|&a, &b| {
                    let (na, nb) = (
                        num(&groups[a], "eligible").unwrap_or(0.0),
                        num(&groups[b], "eligible").unwrap_or(0.0),
                    );
                    na.total_cmp(&nb).then(a.cmp(&b))
                });
            if let Some(j) = next {
                suppress(&mut groups[j], &RATE_DERIVED);
            }
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
    if small(num(c, "treatment_n"), num(c, "treatment_reoffenders"))
        || small(num(c, "control_n"), num(c, "control_reoffenders"))
    {
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
            m.insert(
                "summary".into(),
                json!(format!("Not published: fewer than {k} people reoffended (or did not) in a group, so the figures could identify individuals.")),
            );
            m.insert("significant".into(), Value::Null);
        }
    }
    if let Some(p) = c.get_mut("period_check").filter(|p| p.is_object()) {
        period_check(p, k);
    }
    if let Some(Value::Array(subs)) = c.get_mut("subgroups") {
        for s in subs {
            let (n1, n2) = (
                num(s, "treatment_n").unwrap_or(0.0),
                num(s, "control_n").unwrap_or(k),
            );
            if n1 < k || (n2 > 0.0 && n2 < k) {
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
        }
    }
}

/// A comparison over the other period, and its count of people outside the pilot's period.
fn period_check(p: &mut Value, k: f64) {
    if num(p, "comparison_outside").is_some_and(|n| n > 0.0 && n < k) {
        suppress(p, &["comparison_outside"]);
    }
    if let Some(c) = p.get_mut("comparison") {
        comparison(c, k);
        if c["significant"].is_null() {
            let why = c["summary"].clone();
            p["summary"] = why;
        }
    }
}

/// Rosenbaum bounds: the discordant pairs are counts of people; the p-values recover them
/// with the pair count, so a small count withholds the whole table.
fn rosenbaum(r: &mut Value, k: f64) {
    let small = ["discordant_pairs", "treated_only", "control_only"]
        .iter()
        .any(|key| num(r, key).is_some_and(|n| n > 0.0 && n < k));
    if small {
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

/// Survival: day-level tables are not published (they are counts of one or two people);
/// groups with fewer than `k` people or events keep only their labels.
pub fn survival(s: &mut Value, k: f64) {
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

/// Monitoring rows.
pub fn monitor(m: &mut Value, k: f64) {
    if let Some(Value::Array(groups)) = m.get_mut("groups") {
        for g in groups {
            let (n, e) = (
                num(g, "people").unwrap_or(0.0),
                num(g, "events_so_far").unwrap_or(0.0),
            );
            if n < k {
                suppress(g, &["people", "full_follow_up"]);
            }
            if n < k || e < k || n - e < k {
                suppress(
                    g,
                    &[
                        "events_so_far",
                        "estimate_12m",
                        "ci_low",
                        "ci_high",
                        "observed_rate",
                        "rate_at",
                        "projected_12m",
                        "projected_low",
                        "projected_high",
                    ],
                );
            }
        }
    }
}

/// The matched comparison: small sample counts, and the comparison itself.
pub fn matched(m: &mut Value, k: f64) {
    if let Some(s) = m.get_mut("sample") {
        let keys: Vec<String> = s
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for key in keys {
            if key != "effective_controls" && num(s, &key).is_some_and(|v| v > 0.0 && v < k) {
                suppress(s, &[key.as_str()]);
            }
        }
    }
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
        rosenbaum(r, k);
    }
    if let Some(p) = m.get_mut("period_check").filter(|p| p.is_object()) {
        period_check(p, k);
    }
}

/// Data quality: row numbers stay in the secure environment; counts are published.
pub fn data_quality(q: &mut Value) {
    for key in ["exclusions", "warnings"] {
        if let Some(Value::Array(list)) = q.get_mut(key) {
            for e in list {
                if let Value::Object(m) = e {
                    m.remove("first_rows");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
