//! "The bottom line": the box at the top of the report that a reader who goes no further
//! still reads right. One plain sentence from the design that leads; the rates, each
//! estimate with its design and test, the benchmark, the value; what the figures cover and
//! who produced them; and one paragraph that reconciles the descriptive figures with the
//! impact estimate. Built from the disclosure-controlled JSON only, like every section.

use serde_json::{Value, json};

use super::disclosure::SUPPRESSED;
use super::sections::{Ctx, arr};
use super::table::*;
use crate::format::level;

/// The leading design's test: its name and p-value (`None` when withheld).
fn did_lead(d: &Value) -> Option<(String, f64)> {
    match d["inference_lead"].as_str() {
        Some("placebo_in_space") => Some((
            "placebo in space".into(),
            f(&d["placebo_in_space"], "p_value")?,
        )),
        Some("wild_bootstrap") => Some((
            "wild cluster bootstrap".into(),
            f(&d["wild_bootstrap"], "p_value")?,
        )),
        _ => Some(("cluster-robust t test".into(), f(d, "p_value")?)),
    }
}

/// The treated areas of a difference-in-differences, joined for a sentence.
fn areas(d: &Value) -> String {
    let names: Vec<String> = arr(d, "launches")
        .iter()
        .filter_map(|l| l.get(0).and_then(Value::as_str))
        .filter(|s| *s != SUPPRESSED)
        .map(str::to_string)
        .collect();
    match names.len() {
        0 => "the pilot areas".into(),
        1 => names[0].clone(),
        _ => format!(
            "{} and {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        ),
    }
}

/// The one plain sentence: what the design that leads says, with its uncertainty, in words
/// a reader outside the analysis team reads right.
fn plain_sentence(c: &Ctx) -> Option<String> {
    let j = c.j;
    let alpha = |c: &Value| 1.0 - f(c, "confidence").unwrap_or(0.95);
    if let Some(d) = j.get("did").filter(|d| d["estimate"].is_number()) {
        let est = f(d, "estimate")?;
        let (test, p) = did_lead(d)?;
        let comparison = f(&d["placebo_in_space"], "areas")
            .map(|n| format!("{n:.0} comparison areas"))
            .unwrap_or_else(|| "the comparison areas".into());
        let moved = format!(
            "After launch, the 12-month proven reoffending rate in {} moved {:.1} percentage points {} \
             than in {comparison} over the same periods",
            areas(d),
            est.abs() * 100.0,
            if est < 0.0 { "lower" } else { "higher" },
        );
        return Some(if p < alpha(d) {
            format!(
                "{moved}, a change larger than areas without the scheme show ({test}, {}): evidence that \
                 the scheme changed proven reoffending.",
                crate::format::p_clause_at(p, 3)
            )
        } else {
            format!(
                "{moved}, but a change this size is within what areas without the scheme show ({test}, {}): \
                 not yet evidence that the scheme changed proven reoffending, nor that it did not.",
                crate::format::p_clause_at(p, 3)
            )
        });
    }
    let m = c
        .matched
        .map(|m| &m["comparison"])
        .filter(|c| c["risk_difference"].is_number());
    if let Some(c) = m {
        let rd = f(c, "risk_difference")?;
        let sig = c["significant"].as_bool()?;
        return Some(format!(
            "People diverted were {} to reoffend within 12 months than similar people who were not, by {:.1} \
             percentage points{}",
            if rd < 0.0 {
                "less likely"
            } else {
                "more likely"
            },
            rd.abs() * 100.0,
            if sig {
                ": the interval excludes zero, though matching balances only what the extract records."
            } else {
                ", but the interval includes no difference: not evidence of an effect, nor of none."
            }
        ));
    }
    c.group_cmp?["summary"].as_str().map(str::to_string)
}

/// The bottom-line section (`None` when nothing is published to put in it).
// Over 80 lines: the box's parts in reading order (sentence, rates, estimates, what the
// figures cover, reconciliation).
pub(super) fn section(ctx: &Ctx) -> Option<Section> {
    let (j, group, bench) = (ctx.j, ctx.group_cmp, ctx.bench_cmp);
    let mut s = Section::new("bottom_line", "The bottom line");
    if let Some(x) = plain_sentence(ctx) {
        s.findings.push(x);
    }
    // The rates: people, reoffenders and the rate per group, from the comparison (at its
    // level).
    if let Some(c) = group.or(bench) {
        let confidence = f(c, "confidence").unwrap_or(0.95);
        let mut rows = vec![json!({
            "group": c["treatment"],
            "people": c["treatment_n"],
            "reoffenders": c["treatment_reoffenders"],
            "rate": c["treatment_rate"],
            "low": c["treatment_ci_low"],
            "high": c["treatment_ci_high"],
        })];
        if c["kind"] == "comparison_group" {
            rows.push(json!({
                "group": c["control"],
                "people": c["control_n"],
                "reoffenders": c["control_reoffenders"],
                "rate": c["control_rate"],
                "low": c["control_ci_low"],
                "high": c["control_ci_high"],
            }));
        }
        let (lo, hi) = super::sections::ci_headers(confidence);
        let mut t = described(
            "bottom_line_rates",
            &Description::of(
                "The 12-month proven reoffending rate, by group (descriptive)",
                1,
                &[
                    ("group", "group", Kind::Count),
                    ("people in the measure", "people", Kind::Count),
                    ("reoffended", "reoffenders", Kind::Count),
                    ("rate", "rate", Kind::Pct),
                    (&lo, "low", Kind::Pct),
                    (&hi, "high", Kind::Pct),
                ],
            ),
            &rows,
        );
        t.notes.push(format!(
            "Intervals: {}. A rate describes who reoffended; it is not by itself the scheme's effect.",
            if c["kind"] == "comparison_group" {
                "Wilson score intervals for a proportion, as in the rates chart"
            } else {
                "the exact (Clopper-Pearson) interval, as in the comparison with the benchmark"
            }
        ));
        s.tables.push(t);
    }
    // Each estimate with its design and test.
    let mut est = Vec::new();
    if let Some(d) = j.get("did") {
        let lead = did_lead(d);
        est.push(json!({
            "estimate": "Impact estimate: difference-in-differences against other areas",
            "difference": d["estimate"],
            "low": d["ci_low"],
            "high": d["ci_high"],
            "p": lead.as_ref().map(|l| l.1),
            "test": lead.map(|l| l.0).unwrap_or_else(|| "[c]".into()),
            "confidence": d["confidence"],
        }));
    }
    let area_led = !est.is_empty();
    if let Some(c) = j
        .get("match")
        .map(|m| &m["comparison"])
        .filter(|c| c.is_object())
    {
        est.push(json!({
            "estimate": if area_led {
                "Supporting: matched comparison of individuals"
            } else {
                "Impact estimate: matched comparison of individuals"
            },
            "difference": c["risk_difference"],
            "low": c["rd_ci_low"],
            "high": c["rd_ci_high"],
            "p": Value::Null,
            "test": "interval clustered by matched set",
            "confidence": c["confidence"],
        }));
    }
    if let Some(c) = group {
        est.push(json!({
            "estimate": "Descriptive: unadjusted difference between the groups",
            "difference": c["risk_difference"],
            "low": c["rd_ci_low"],
            "high": c["rd_ci_high"],
            "p": Value::Null,
            "test": "Newcombe interval",
            "confidence": c["confidence"],
        }));
    }
    if let Some(b) = bench {
        est.push(json!({
            "estimate": format!(
                "Descriptive: against the benchmark, {}",
                b["baseline_name"].as_str().unwrap_or("a published rate")
            ),
            "difference": b["risk_difference"],
            "low": b["rd_ci_low"],
            "high": b["rd_ci_high"],
            "p": b["tests"]["binomial_exact_central"]["p_value"].clone(),
            "test": "exact binomial, central two-sided",
            "confidence": b["confidence"],
        }));
    }
    if !est.is_empty() {
        // The headers name the level the rows share; rows at different levels (the
        // difference-in-differences has its own `[did] confidence`) name each its own.
        let levels: Vec<f64> = est.iter().filter_map(|r| f(r, "confidence")).collect();
        let shared = levels
            .first()
            .copied()
            .filter(|l| levels.iter().all(|m| (m - l).abs() < 1e-12));
        let (lo, hi) = match shared {
            Some(l) => super::sections::ci_headers(l),
            None => {
                for r in &mut est {
                    if let (Some(l), Some(t)) = (f(r, "confidence"), r["test"].as_str()) {
                        r["test"] = json!(format!("{t} ({} interval)", level(l)));
                    }
                }
                ("CI low".to_string(), "CI high".to_string())
            }
        };
        let mut t = described(
            "bottom_line_estimates",
            &Description::of(
                "Each estimate, its design and its test (percentage points, pilot minus comparison)",
                1,
                &[
                    ("estimate", "estimate", Kind::Count),
                    ("difference (points)", "difference", Kind::Pts),
                    (&lo, "low", Kind::Pts),
                    (&hi, "high", Kind::Pts),
                    ("p-value", "p", Kind::P),
                    ("test or interval", "test", Kind::Count),
                ],
            ),
            &est,
        );
        t.notes.push(
            "Only the first row is an estimate of the scheme's effect; the others describe the groups or support it. \
             [x]: no single p-value for this row (the interval is the test)."
                .into(),
        );
        s.tables.push(t);
    }
    // What the figures cover, and who produced them.
    let about = facts(ctx);
    let rows: Vec<Value> = about
        .iter()
        .map(|f| json!({ "item": f.item, "value": f.detail }))
        .collect();
    s.tables.push(described(
        "bottom_line_about",
        &Description::of(
            "What the figures cover and who produced them",
            1,
            &[
                ("item", "item", Kind::Count),
                ("detail", "value", Kind::Count),
            ],
        ),
        &rows,
    ));
    s.paragraphs.extend(reconcile(ctx));
    (!s.findings.is_empty() || !s.tables.is_empty()).then_some(s)
}

/// A line of "what the figures cover and who produced them": the bottom line's table, and
/// (all but the value, a figure with its caveats on its own sheet) the workbook's cover.
pub(super) struct Fact {
    pub(super) item: &'static str,
    pub(super) detail: String,
    pub(super) on_cover: bool,
}

/// What the figures cover (the 12-month measure's window, the extract date and whether it was
/// given, the benchmark framed both ways, the value and what it rests on) and who produced
/// them (from the evaluation file's `[report]`).
pub(super) fn facts(ctx: &Ctx) -> Vec<Fact> {
    let (j, options, params) = (ctx.j, ctx.options, &ctx.j["parameters"]);
    let mut about = Vec::new();
    let mut fact = |item: &'static str, detail: String| {
        about.push(Fact {
            item,
            detail,
            on_cover: item != "Value",
        })
    };
    if let (Some(extract), Some(fu), Some(wait)) = (
        params["extract_date"].as_str(),
        f(params, "follow_up_days"),
        f(params, "waiting_days"),
    ) {
        let cutoff = chrono::NaiveDate::parse_from_str(extract, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.checked_sub_days(chrono::Days::new((fu + wait) as u64)))
            .map(|d| d.format("%-d %B %Y").to_string());
        if let Some(cutoff) = cutoff {
            fact(
                "The 12-month measure",
                format!(
                    "People whose index date is on or before {cutoff}: each has {fu:.0} days of follow-up for a \
                     reoffence and a further {wait:.0} days for it to be proven (convicted or cautioned) before \
                     the extract date."
                ),
            );
        }
        fact(
            "Extract date",
            match params["extract_date_source"].as_str() {
                Some("given") => format!("{extract} (given in the evaluation file)"),
                Some(src) => format!(
                    "{extract} (not given: taken from the {}; see the caution above)",
                    src.replace('_', " ")
                ),
                None => extract.to_string(),
            },
        );
    }
    if let Some(b) = ctx.bench_cmp {
        let rate = f(b, "control_rate");
        fact(
            "Benchmark",
            format!(
                "{}: {}{}",
                b["baseline_name"].as_str().unwrap_or("a published rate"),
                rate.map(|r| format!(
                    "{} reoffended within 12 months (that is, {} did not reoffend)",
                    pct(r),
                    pct(1.0 - r)
                ))
                .unwrap_or_default(),
                b["baseline_source"]
                    .as_str()
                    .map(|x| format!(". Source: {x}"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(h) = j.get("costs").and_then(|c| c["headline"].as_str()) {
        // The value rests on the individual-level effect; say so where the area design leads.
        let basis = if j.get("did").is_some_and(|d| d.is_object()) {
            " The value rests on the matched comparison of individuals (the supporting estimate), not on the \
             difference-in-differences that leads: read it as what the scheme would be worth if the supporting \
             estimate were its effect."
        } else {
            ""
        };
        fact("Value", format!("{h}{basis}"));
    }
    for (name, v) in [
        ("Produced by", &options.producer),
        ("Contact", &options.contact),
        ("Date of publication", &options.date),
    ] {
        // The evaluation file's own text: no control characters or direction overrides.
        fact(
            name,
            v.as_deref()
                .map_or_else(|| "not stated".into(), |t| crate::without_unsafe(t, &[])),
        );
    }
    about
}

/// One paragraph that reconciles the descriptive figures (rates, Kaplan-Meier, log-rank,
/// Cox) with the impact estimate, and one sentence on the 12-month measure against the
/// Kaplan-Meier figure at the same day.
fn reconcile(ctx: &Ctx) -> Vec<String> {
    let j = ctx.j;
    let mut out = Vec::new();
    let sig = |c: &Value| c["significant"].as_bool();
    let did = j.get("did").filter(|d| d["estimate"].is_number());
    let matched = ctx
        .matched
        .map(|m| &m["comparison"])
        .filter(|c| c.is_object());
    let group = ctx.group_cmp;
    let sv = j.get("survival").filter(|s| s.is_object());
    let cox_covs: Vec<String> = sv
        .map(|s| arr(&s["cox"], "coefficients"))
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .filter(|n| !n.starts_with("cohort"))
        .map(|n| n.split('=').next().unwrap_or(n).replace('_', " "))
        .fold(Vec::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
    let mut parts = vec![
        "Why the figures differ. The rates by group, the Kaplan-Meier curves and the log-rank test compare everyone \
         diverted with everyone in the comparison group: they are descriptive, showing who reoffended, not what the \
         scheme did, because the people diverted may differ from the others."
            .to_string(),
    ];
    if !cox_covs.is_empty() {
        let list = match cox_covs.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        parts.push(format!("The Cox model adjusts for {list} only."));
    }
    if matched.is_some() {
        parts.push(
            "The matched comparison also balances what the extract records about each person, but neither it nor \
             the Cox model can separate the scheme from differences between areas (charging practice, recording, \
             local drug markets, court backlogs)."
                .into(),
        );
    }
    if did.is_some() {
        parts.push(
            "The impact estimate compares the pilot area's change after launch with other areas' change over the same \
             periods, which removes fixed differences between areas and changes common to all; its test asks whether a \
             change that size is unusual among areas without the scheme. So a difference that is significant in the \
             descriptive or individual-level figures but not in the area design may come from who was diverted, or \
             where, rather than from the scheme."
                .into(),
        );
    } else if let (Some(g), Some(m)) = (group, matched) {
        if sig(g) == Some(true) && sig(m) == Some(false) {
            parts.push(
                "The unadjusted difference is significant and the matched one is not: much of the raw difference comes \
                 from who was diverted."
                    .into(),
            );
        }
    }
    out.push(parts.join(" "));
    if sv.is_some() {
        out.push(
            "The 12-month measure and the Kaplan-Meier figure at day 365 differ slightly: the measure counts only \
             people whose whole follow-up and proving period had ended by the extract date, while Kaplan-Meier also \
             uses people followed for less than a year and counts a reoffence by its offence date."
                .into(),
        );
    }
    out
}
