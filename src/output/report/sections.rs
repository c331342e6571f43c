//! The report's sections, each built from the disclosure-controlled JSON only: the typed
//! results never reach this module (see `disclosure::gate`).

use serde_json::{Value, json};

use super::ReportOptions;
use super::disclosure::SUPPRESSED;
use super::table::*;
use crate::charts::{self, Estimate};
use crate::error::Result;
use crate::format::level;

/// "How robust is this?": E-values, Rosenbaum bounds, the placebo outcome and the
/// comparison over the other period, each with its sentence; from the disclosure-controlled
/// JSON like every other section. `None` when no comparison group is configured.
// Over 80 lines: one section's content in reading order (E-values, Rosenbaum bounds, placebo,
// period checks).
pub(super) fn robustness(j: &Value) -> Option<Section> {
    let unadjusted = j.get("compare").filter(|c| c["kind"] == "comparison_group");
    let matched = j.get("match").filter(|m| !m.is_null());
    if unadjusted.is_none() && matched.is_none() {
        return None;
    }
    let mut s = Section::new("robustness", "How robust is this?");
    s.paragraphs.push(
        "Matching and comparison can only balance what the extract records. These checks ask how strong an \
         unrecorded difference between the groups would have to be to explain the result away (E-value, Rosenbaum \
         bounds), whether the groups already differed before the scheme (placebo outcome), and whether the result \
         holds with comparison people from the pilot's own period."
            .into(),
    );
    let text = |v: &Value| v.as_str().map(str::to_string);
    // E-values.
    let mut evalues = Vec::new();
    for (name, c) in [
        ("unadjusted comparison", unadjusted),
        ("matched comparison", matched.map(|m| &m["comparison"])),
    ] {
        let Some(c) = c else { continue };
        let e = &c["e_value"];
        if let Some(x) = e.get("summary").and_then(text) {
            s.findings.push(format!("{} ({name}): {x}", "E-value"));
        }
        evalues.push(json!({
            "comparison": name,
            "relative_risk": kinded(c.get("relative_risk"), Kind::Num(3)),
            "rr_ci_low": kinded(c.get("rr_ci_low"), Kind::Num(3)),
            "rr_ci_high": kinded(c.get("rr_ci_high"), Kind::Num(3)),
            "estimate": kinded(e.get("estimate").or(Some(e)), Kind::Num(2)),
            "interval_limit": kinded(e.get("interval_limit").or(Some(e)), Kind::Num(2)),
        }));
    }
    let mut t = described(
        "robustness_e_values",
        &Description::of(
            "E-values: the strength of an unrecorded factor needed to explain the difference away",
            1,
            &[
                ("comparison", "comparison", Kind::Count),
                ("relative risk", "relative_risk", Kind::Count),
                ("interval low", "rr_ci_low", Kind::Count),
                ("interval high", "rr_ci_high", Kind::Count),
                ("E-value, estimate", "estimate", Kind::Count),
                ("E-value, interval limit", "interval_limit", Kind::Count),
            ],
        ),
        &evalues,
    );
    t.notes.push("E-value (VanderWeele and Ding, 2017): the minimum risk ratio an unrecorded factor would need with both being diverted and reoffending to move the estimate (or the interval limit nearest 1) to no difference; 1 means no such factor is needed.".into());
    s.tables.push(t);
    // Rosenbaum bounds.
    if let Some(m) = matched {
        let r = &m["rosenbaum"];
        match r.get("summary").and_then(text) {
            Some(x) => s.findings.push(format!("Rosenbaum bounds: {x}")),
            None => s.paragraphs.extend(
                r.as_str()
                    .map(|_| {
                        "Rosenbaum bounds: not published (too few discordant pairs).".to_string()
                    })
                    .or_else(|| m.get("rosenbaum_note").and_then(text)),
            ),
        }
        if let Some(g) = r.get("gammas").and_then(Value::as_array) {
            let mut t = described(
                "robustness_rosenbaum",
                &crate::output::tables::matching::rosenbaum_description(),
                g,
            );
            t.notes.push(format!(
                "Discordant pairs {}: only the pilot person reoffended in {}, only the comparison person in {}. Gamma is how many times more likely one person of a matched pair could be to be diverted than the other for unrecorded reasons.",
                cell(r.get("discordant_pairs"), Kind::Count),
                cell(r.get("treated_only"), Kind::Count),
                cell(r.get("control_only"), Kind::Count),
            ));
            s.tables.push(t);
        }
    }
    // Placebo and period checks.
    let mut checks = Vec::new();
    let mut check = |name: &str, c: &Value, s: &mut Section| {
        if let Some(x) = c.get("summary").and_then(text) {
            // The placebo's sentence names itself; a period check says which comparison.
            if x.starts_with("Placebo") {
                s.findings.push(x);
            } else {
                s.findings
                    .push(format!("{} comparison: {x}", capitalise(name)));
            }
        }
        let c = c.get("comparison").unwrap_or(c);
        checks.push(json!({
            "check": match c.get("period").and_then(Value::as_str) {
                Some(period) if !name.starts_with("placebo") => format!("{name}, {period} period"),
                _ => name.to_string(),
            },
            "pilot": kinded(c.get("treatment_rate"), Kind::Pct),
            "comparison": kinded(c.get("control_rate"), Kind::Pct),
            "difference": kinded(c.get("risk_difference"), Kind::Pts),
            "low": kinded(c.get("rd_ci_low"), Kind::Pts),
            "high": kinded(c.get("rd_ci_high"), Kind::Pts),
            "significant": kinded(c.get("significant"), Kind::Count),
        }));
    };
    if let Some(p) = matched.map(|m| &m["placebo"]).filter(|p| !p.is_null()) {
        check(
            "placebo: offence in the year before the index date (matched)",
            p,
            &mut s,
        );
    }
    for (name, c) in [("unadjusted", unadjusted), ("matched", matched)] {
        if let Some(p) = c.map(|c| &c["period_check"]).filter(|p| p.is_object()) {
            check(name, p, &mut s);
        }
    }
    if !checks.is_empty() {
        s.tables.push(described(
            "robustness_checks",
            &Description::of(
                "Placebo outcome and comparison period",
                1,
                &[
                    ("check", "check", Kind::Count),
                    ("pilot", "pilot", Kind::Count),
                    ("comparison", "comparison", Kind::Count),
                    ("difference (points)", "difference", Kind::Count),
                    ("interval low", "low", Kind::Count),
                    ("interval high", "high", Kind::Count),
                    ("significant", "significant", Kind::Count),
                ],
            ),
            &checks,
        ));
    }
    Some(s)
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What every section builder reads: the gated JSON and the options, with the
/// comparisons picked out once.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) j: &'a Value,
    pub(super) options: &'a ReportOptions,
    pub(super) group_cmp: Option<&'a Value>,
    pub(super) bench_cmp: Option<&'a Value>,
    pub(super) matched: Option<&'a Value>,
}

impl<'a> Ctx<'a> {
    /// The gated JSON with its comparisons picked out: against a group in the data, against a
    /// published benchmark, and the matched comparison.
    pub(super) fn new(j: &'a Value, options: &'a ReportOptions) -> Ctx<'a> {
        let kind = |k: &str| {
            ["compare", "compare_benchmark"]
                .iter()
                .map(|key| &j[*key])
                .find(|c| c["kind"] == k)
        };
        Ctx {
            j,
            options,
            group_cmp: kind("comparison_group"),
            bench_cmp: kind("external_benchmark"),
            matched: j.get("match").filter(|m| !m.is_null()),
        }
    }
}

/// Column headers of an interval at `confidence`: ("95% CI low", "95% CI high").
pub(super) fn ci_headers(confidence: f64) -> (String, String) {
    let l = level(confidence);
    (format!("{l} CI low"), format!("{l} CI high"))
}

/// The array under `k`, or none.
pub(super) fn arr(v: &Value, k: &str) -> Vec<Value> {
    v.get(k)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Every section of the report, in order, from the disclosure-controlled JSON.
pub(super) fn sections(j: &Value, options: &ReportOptions) -> Result<Vec<Section>> {
    let c = Ctx::new(j, options);
    type Builder = fn(&Ctx) -> Result<Vec<Section>>;
    let builders: [Builder; 13] = [
        |c| Ok(super::bottom_line::section(c).into_iter().collect()),
        summary,
        |c| super::did::sections(c.j),
        rates,
        comparisons,
        matched,
        designs,
        robustness_section,
        survival,
        monitoring,
        costs,
        not_available,
        quality_and_methods,
    ];
    let mut out = Vec::new();
    for build in builders {
        out.extend(build(&c)?);
    }
    Ok(out)
}

/// The Summary: the design decides the headline.
fn summary(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx {
        j,
        group_cmp,
        bench_cmp,
        matched,
        ..
    } = *c;
    let mut out = Vec::new();
    // Summary: the design decides the headline. A matched comparison is the impact
    // estimate and comes first, the only finding worded as an effect; the unadjusted
    // comparison is descriptive (with the covariates on which the groups differ), and so is
    // the benchmark.
    let mut summary = Section::new("summary", "Summary");
    // An inferred extract date decides who is in the measure: say so before any figure.
    let pv = &j["parameters"];
    if pv["extract_date_source"]
        .as_str()
        .is_some_and(|s| s != "given")
    {
        summary.findings.push(format!(
            "Caution: the extract date was not given, so these figures take {} (the {}) as the \
             day the data were extracted. A different true extract date changes who has had the \
             full 12 months of follow-up, and so every figure below.",
            pv["extract_date"].as_str().unwrap_or("[x]"),
            pv["extract_date_source"]
                .as_str()
                .unwrap_or_default()
                .replace('_', " ")
        ));
    }
    // An area-wide pilot's impact estimate is the difference-in-differences against other
    // areas; a matched comparison of individuals then supports it.
    let area = j.get("did").and_then(|d| d["summary"].as_str());
    if let Some(s) = area {
        summary.findings.push(format!(
            "Impact estimate (difference-in-differences against other areas): {s}"
        ));
    }
    if let Some(s) = matched.and_then(|m| m["comparison"]["summary"].as_str()) {
        summary.findings.push(if area.is_some() {
            format!(
                "Supporting estimate (matched comparison of individuals, which cannot separate the scheme from \
                 differences between areas): {s}"
            )
        } else {
            format!("Impact estimate (matched comparison group): {s}")
        });
    }
    if let Some(s) = group_cmp.and_then(|c| c["summary"].as_str()) {
        let differ: Vec<String> = matched
            .map(|m| arr(m, "balance"))
            .unwrap_or_default()
            .iter()
            .filter_map(|b| {
                let smd = f(b, "smd_before")?;
                (smd.abs() > 0.1)
                    .then(|| format!("{} (SMD {smd:+.2})", b["covariate"].as_str().unwrap_or("")))
            })
            .collect();
        let why = if differ.is_empty() {
            String::new()
        } else {
            format!(
                " Before matching the groups differ in {}.",
                differ.join(", ")
            )
        };
        summary.findings.push(format!("{s}{why}"));
    }
    if let Some(s) = bench_cmp.and_then(|c| c["summary"].as_str()) {
        summary.findings.push(s.to_string());
    }
    if let Some(h) = j.get("costs").and_then(|c| c["headline"].as_str()) {
        summary.findings.push(format!("Cost-benefit: {h}"));
    }
    let p = &j["power"];
    if let (Some(n), Some(b), Some(lo)) = (
        f(p, "n"),
        f(p, "baseline_rate"),
        f(p, "min_detectable_rate_lower"),
    ) {
        summary.paragraphs.push(format!(
            "With {n:.0} people in the 12-month measure, only a true rate below {} could reliably be told apart from the benchmark's {} (power 80%, two-sided 5%).",
            pct(lo),
            pct(b)
        ));
    }
    out.push(summary);
    Ok(out)
}

/// Rates by cohort and breakdown, with the chart.
// Over 80 lines: one section's content in reading order (sentence, chart, table).
fn rates(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx {
        j,
        options,
        group_cmp,
        bench_cmp,
        ..
    } = *c;
    let mut out = Vec::new();
    // Rates.
    let rates = &j["rates"];
    let confidence = rates["confidence"].as_f64().unwrap_or(0.95);
    let groups = arr(rates, "groups");
    let mut rs = Section::new("rates", "12-month proven reoffending (descriptive)");
    // Chart: cohort-level rates (from the comparison's cohort totals), with the benchmark.
    let cohort_rates: Vec<Estimate> = group_cmp
        .map(|c| {
            let mut v = Vec::new();
            if let (Some(r), Some(lo), Some(hi)) = (
                f(c, "treatment_rate"),
                f(c, "treatment_ci_low"),
                f(c, "treatment_ci_high"),
            ) {
                v.push(Estimate {
                    label: c["treatment"].as_str().unwrap_or_default().to_string(),
                    value: r,
                    low: lo,
                    high: hi,
                });
            }
            if let (Some(r), Some(low), Some(high)) = (
                f(c, "control_rate"),
                f(c, "control_ci_low"),
                f(c, "control_ci_high"),
            ) {
                v.push(Estimate {
                    label: c["control"].as_str().unwrap_or_default().to_string(),
                    value: r,
                    low,
                    high,
                });
            }
            v
        })
        .unwrap_or_default();
    let publishable = group_cmp.is_some_and(|c| c["treatment_rate"].is_number());
    if !cohort_rates.is_empty() && publishable {
        let title = format!(
            "Descriptive: {} reoffended within 12 months: {} against {} in {}",
            cohort_rates[0].label,
            pct(cohort_rates[0].value),
            pct(cohort_rates.get(1).map_or(0.0, |e| e.value)),
            cohort_rates.get(1).map_or("", |e| e.label.as_str())
        );
        let bench = bench_cmp.and_then(|c| {
            Some((
                c["baseline_name"]
                    .as_str()
                    .unwrap_or("benchmark")
                    .to_string(),
                f(c, "control_rate")?,
            ))
        });
        let alt = format!("Bar chart: {title}, with {} intervals.", level(confidence));
        let svg = charts::rates(
            &title,
            &alt,
            confidence,
            &cohort_rates,
            bench.as_ref().map(|(n, r)| (n.as_str(), *r)),
        )?;
        let mut data =
            crate::present::Table::new(&title, &["cohort", "rate", "ci_low", "ci_high"], 1);
        for e in &cohort_rates {
            data.push(vec![
                Some(e.label.clone()),
                Some(format!("{}", e.value)),
                Some(format!("{}", e.low)),
                Some(format!("{}", e.high)),
            ]);
        }
        rs.chart = Some(Chart {
            file: "rates".into(),
            svg,
            alt,
            data,
        });
    }
    let mut t = described(
        "rates",
        &crate::output::tables::rates::description(rates),
        &groups,
    );
    t.notes.push(format!(
        "{} [x] not available.",
        super::disclosure::suppressed_note(options.min_cell)
    ));
    rs.tables.push(t);
    out.push(rs);
    Ok(out)
}

/// The unadjusted comparison and the external benchmark.
fn comparisons(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx {
        group_cmp,
        bench_cmp,
        ..
    } = *c;
    let mut out = Vec::new();
    // Comparisons.
    for (id, c) in [("comparison", group_cmp), ("benchmark", bench_cmp)] {
        let Some(c) = c else { continue };
        let title = crate::output::tables::compare::against(c);
        let mut s = Section::new(id, title);
        if let Some(x) = c["summary"].as_str() {
            s.findings.push(x.into());
        }
        s.paragraphs.extend(
            c["caveats"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
        s.tables
            .push(drawn(id, &crate::output::tables::compare::headline(c)));
        let tests = crate::output::tables::compare::test_records(c);
        if !tests.is_empty() {
            s.tables.push(described(
                &format!("{id}_tests"),
                &crate::output::tables::compare::tests_description(c),
                &tests,
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// The matched comparison: balance, sample sizes, the impact estimate (and robustness).
// Over 80 lines: one section's content in reading order (sentence, balance chart, tables).
fn matched(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let mut out = Vec::new();
    // Matched comparison.
    if let Some(m) = j.get("match").filter(|m| !m.is_null()) {
        let mut s = Section::new("matched", "Matched comparison (propensity score matching)");
        if let Some(x) = m["comparison"]["summary"].as_str() {
            s.findings.push(x.into());
        }
        for k in ["rate_per_100", "frequency_per_100", "days_to_first"] {
            if let Some(x) = m["headline"][k].as_str() {
                s.paragraphs.push(x.into());
            }
        }
        s.paragraphs.extend(
            m["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
        // Rows withheld by disclosure control are left out of the chart.
        let rows: Vec<(String, f64, f64)> = arr(m, "balance")
            .iter()
            .filter_map(|b| {
                Some((
                    b["covariate"].as_str()?.to_string(),
                    f(b, "smd_before")?,
                    f(b, "smd_after")?,
                ))
            })
            .collect();
        let title = charts::balance_title(&rows);
        s.chart = Some(dumbbell_chart(
            "balance",
            &title,
            "standardised mean difference",
            &rows,
            ("before matching", "after matching"),
            &[-0.1, 0.0, 0.1],
            ["term", "smd_before", "smd_after"],
            "Dot plot",
        )?);
        s.tables.push(described(
            "balance",
            &crate::output::tables::matching::balance_description(),
            &arr(m, "balance"),
        ));
        s.tables.push(drawn(
            "matched_sample",
            &crate::output::tables::matching::sample(m),
        ));
        out.push(s);
    }
    Ok(out)
}

/// "How robust is this?", after the impact estimate and every design.
fn robustness_section(c: &Ctx) -> Result<Vec<Section>> {
    Ok(robustness(c.j).into_iter().collect())
}

/// Every design on the same propensity model: the dot-and-whisker chart (the matched
/// headline marked), the table, the sentence on whether they agree, order sensitivity and
/// overlap; from the disclosure-controlled JSON.
// Over 80 lines: one section's content in reading order (sentence, chart, tables).
fn designs(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let Some(e) = j.get("effect").filter(|e| e.is_object()) else {
        return Ok(Vec::new());
    };
    let mut s = Section::new(
        "designs",
        "Every design: does the effect hang on one matching?",
    );
    if let Some(x) = e["summary"].as_str() {
        s.findings.push(x.to_string());
    }
    s.paragraphs.push(
        "The same propensity model and covariate terms under six designs: the matched comparison (difference of \
         weighted means), regression after matching (clustered by matched set), inverse probability weighting and \
         entropy balancing (the effect on pilot people, ATT), overlap weights (the effect among people who could have \
         been in either group, ATO) and the doubly robust estimate. The headline is the matched comparison with its \
         standard error clustered by matched set."
            .into(),
    );
    if let Some(x) = e["se_note"].as_str() {
        s.paragraphs.push(x.to_string());
    }
    let confidence = f(e, "confidence").unwrap_or(0.95);
    let mut rows: Vec<charts::IntervalRow> = Vec::new();
    let h = &e["headline"];
    if let (Some(v), Some(lo), Some(hi)) = (f(h, "estimate"), f(h, "ci_low"), f(h, "ci_high")) {
        rows.push(charts::IntervalRow {
            label: "headline: matched, clustered by set".into(),
            value: v,
            low: lo,
            high: hi,
            marked: true,
        });
    }
    let designs = arr(e, "designs");
    for d in &designs {
        if let (Some(name), Some(v), Some(lo), Some(hi)) = (
            d["design"].as_str(),
            f(d, "estimate"),
            f(d, "ci_low"),
            f(d, "ci_high"),
        ) {
            let estimand = d["estimand"].as_str().unwrap_or("");
            rows.push(charts::IntervalRow {
                label: format!("{} ({estimand})", name.replace('_', " ")),
                value: v,
                low: lo,
                high: hi,
                marked: false,
            });
        }
    }
    if !rows.is_empty() {
        let lo = rows.iter().map(|r| r.value).fold(f64::INFINITY, f64::min);
        let hi = rows
            .iter()
            .map(|r| r.value)
            .fold(f64::NEG_INFINITY, f64::max);
        let title = format!(
            "Every design puts the change in 12-month reoffending between {:+.1} and {:+.1} percentage points",
            lo * 100.0,
            hi * 100.0
        );
        let alt = format!(
            "Dot-and-whisker chart: each design's estimate of the difference in 12-month proven reoffending, pilot \
             minus comparison, in percentage points with its {} interval; the headline matched comparison in orange. {}",
            level(confidence),
            e["summary"].as_str().unwrap_or("")
        );
        let svg = charts::intervals(
            &title,
            &alt,
            "pilot minus comparison (percentage points)",
            &rows,
            (
                &format!("estimate with {} interval", level(confidence)),
                "headline (matched comparison)",
            ),
        )?;
        let mut data = crate::present::Table::new(
            &title,
            &["design", "estimate", "ci_low", "ci_high", "headline"],
            1,
        );
        for r in &rows {
            data.push(vec![
                Some(r.label.clone()),
                Some(r.value.to_string()),
                Some(r.low.to_string()),
                Some(r.high.to_string()),
                Some(if r.marked { "yes" } else { "no" }.into()),
            ]);
        }
        s.chart = Some(Chart {
            file: "designs".into(),
            svg,
            alt,
            data,
        });
    }
    let mut t = drawn("designs", &crate::output::tables::effect::designs(e, false));
    t.notes.push(
        "Effective people: Kish's (Σw)²/Σw² within a group. ATT: the effect on pilot people; ATO: the effect among \
         people who could have been in either group. [c] suppressed."
            .into(),
    );
    s.tables.push(t);
    let o = &e["order_sensitivity"];
    if let (Some(runs), Some(lo), Some(hi)) = (
        f(o, "runs").filter(|r| *r > 0.0),
        f(o, "estimate_min"),
        f(o, "estimate_max"),
    ) {
        s.paragraphs.push(format!(
            "Order sensitivity: taking the pilot people in {runs:.0} random orders (seed {}) moves the matched estimate \
             between {:+.1} and {:+.1} percentage points{}.",
            o["seed"],
            lo * 100.0,
            hi * 100.0,
            f(o, "max_abs_smd_max")
                .map(|m| format!(", and the largest |SMD| after matching in any order is {m:.3}"))
                .unwrap_or_default()
        ));
    }
    let od = &e["overlap_diagnostics"];
    if let Some(share) = f(od, "treated_outside_control_range") {
        s.paragraphs.push(format!(
            "Overlap: {} of pilot people have a propensity score outside the comparison people's range.",
            pct(share)
        ));
    }
    s.paragraphs.extend(
        arr(e, "warnings")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string)),
    );
    // The gate merges the bins, which the title says.
    s.tables.push(described(
        "propensity_scores",
        &crate::output::tables::effect::overlap_description(
            "Propensity scores of the two groups (bins merged until each holds none or enough people to publish)",
        ),
        &arr(od, "bins"),
    ));
    Ok(vec![s])
}

/// Time to first proven reoffence: Kaplan-Meier, log-rank, Cox.
// Over 80 lines: one section's content in reading order (sentence, chart, Kaplan-Meier steps,
// survival at days, log-rank, Cox).
fn survival(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let mut out = Vec::new();
    // Survival.
    if let Some(sv) = j.get("survival").filter(|v| !v.is_null()) {
        let mut s = Section::new("survival", "Time to first proven reoffence (descriptive)");
        let label_of = crate::output::tables::survival::group_label;
        // Groups whose counts are published, with the steps the gate let through.
        let published: Vec<Value> = arr(sv, "groups")
            .into_iter()
            .filter(|g| g["events"].is_number())
            .collect();
        let horizon = f(sv, "follow_up_days").unwrap_or(365.0);
        if !published.is_empty() {
            let steps: Vec<(String, Vec<Value>)> = published
                .iter()
                .map(|g| (label_of(g), arr(g, "steps")))
                .collect();
            // The published share still free of reoffence at the end of follow-up, per group.
            let at_end: Vec<Option<f64>> = published
                .iter()
                .map(|g| {
                    arr(g, "survival_at")
                        .iter()
                        .find(|a| f(a, "time") == Some(horizon))
                        .and_then(|a| f(a, "survival"))
                })
                .collect();
            let mut curves: Vec<(String, Vec<(f64, f64)>)> = steps
                .iter()
                .map(|(l, st)| {
                    (
                        l.clone(),
                        st.iter()
                            .filter_map(|p| Some((f(p, "day")?, 1.0 - f(p, "survival")?)))
                            .collect(),
                    )
                })
                .collect();
            // The share by the end of follow-up where published, else by the last step drawn.
            let ends: Vec<String> = at_end
                .iter()
                .zip(&curves)
                .map(|(end, c)| match (end, c.1.last()) {
                    (Some(sv), _) => format!("{} {}", c.0, pct(1.0 - sv)),
                    (None, Some(&(day, y))) => format!("{} {} by day {day:.0}", c.0, pct(y)),
                    (None, None) => format!("{} [c]", c.0),
                })
                .collect();
            // A line runs on to the end of follow-up only where the published figure there is
            // its last level (no step after it); otherwise it stops at its last published
            // step, and a sentence says where and why, so nobody reads the blank after it as
            // nobody reoffending.
            let mut stops = Vec::new();
            for ((label, pts), end) in curves.iter_mut().zip(&at_end) {
                let Some(&(day, y)) = pts.last() else {
                    continue;
                };
                if day >= horizon {
                    continue;
                }
                match end {
                    Some(sv) if ((1.0 - sv) - y).abs() < 1e-9 => pts.push((horizon, y)),
                    _ => stops.push(format!(
                        "The {label} line stops at day {day:.0}: a later step would rest on fewer \
                         than {} reoffences or people still followed, so it is not drawn (the \
                         chart's title gives the published figure at day {horizon:.0} where there \
                         is one).",
                        c.options.min_cell
                    )),
                }
            }
            let title = format!(
                "Descriptive: reoffended within {horizon:.0} days (Kaplan-Meier): {}",
                ends.join(", ")
            );
            let alt = format!("Step chart: {title}.");
            let svg = charts::cumulative(&title, &alt, &curves, horizon)?;
            s.paragraphs.extend(stops);
            // The chart's data: exactly the points drawn.
            let mut data = crate::present::Table::new(&title, &["group", "day", "survival"], 1);
            for (label, pts) in &steps {
                for p in pts {
                    let v = |k: &str| Some(p[k].to_string());
                    data.push(vec![Some(label.clone()), v("day"), v("survival")]);
                }
            }
            s.chart = Some(Chart {
                file: "survival".into(),
                svg,
                alt,
                data,
            });
        }
        let mut t = drawn("survival", &crate::output::tables::survival::km_summary(sv));
        if let Some(lr) = sv.get("logrank").filter(|v| !v.is_null()) {
            t.notes.push(format!(
                "Log-rank test between cohorts (descriptive: no adjustment for who was diverted): chi-square {} on {} df, {}.",
                cell(lr.get("statistic"), Kind::Num(3)),
                lr["df"],
                crate::format::p_clause(&cell(lr.get("p_value"), Kind::P))
            ));
        }
        t.notes.push("Day-level tables are not published (they show individual events); they stay with the analysts in the secure environment.".into());
        s.tables.push(t);
        if sv["cox"] == SUPPRESSED {
            s.paragraphs.push("Cox model: not published (a group has fewer events, or people without one, than the smallest count published).".into());
        }
        if let Some(cox) = sv.get("cox").filter(|v| v.is_object()) {
            s.tables.push(described(
                "cox",
                &crate::output::tables::survival::cox_description(sv),
                &arr(cox, "coefficients"),
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// Monitoring: each cohort by quarter.
// Over 80 lines: one section's content in reading order (sentence, chart, tables).
fn monitoring(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let mut out = Vec::new();
    // Monitoring.
    if !j["monitor"].is_null() {
        let mg = arr(&j["monitor"], "groups");
        let mut s = Section::new("monitor", "Monitoring: cohorts by quarter");
        let mut periods: Vec<String> = mg
            .iter()
            .filter_map(|g| g["period"].as_str().map(str::to_string))
            .collect();
        periods.sort();
        periods.dedup();
        let mut cohorts: Vec<String> = mg
            .iter()
            .filter_map(|g| g["cohort"].as_str().map(str::to_string))
            .collect();
        cohorts.sort();
        cohorts.dedup();
        // Each cohort's points by period from the keys (value, low, high) of a group.
        let points = |keys: [&str; 3]| -> Vec<(String, Vec<Option<Estimate>>)> {
            cohorts
                .iter()
                .map(|c| {
                    let pts = periods
                        .iter()
                        .map(|p| {
                            mg.iter()
                                .find(|g| {
                                    g["cohort"].as_str() == Some(c)
                                        && g["period"].as_str() == Some(p)
                                })
                                .and_then(|g| {
                                    Some(Estimate {
                                        label: p.clone(),
                                        value: f(g, keys[0])?,
                                        low: f(g, keys[1])?,
                                        high: f(g, keys[2])?,
                                    })
                                })
                        })
                        .collect();
                    (c.clone(), pts)
                })
                .collect()
        };
        let series = points(["estimate_12m", "ci_low", "ci_high"]);
        // Projections for quarters not yet followed a year: drawn hollow, labelled.
        let projected = points(["projected_12m", "projected_low", "projected_high"]);
        if series
            .iter()
            .chain(&projected)
            .any(|s| s.1.iter().any(Option::is_some))
        {
            // The latest quarter with an estimate for every cohort states the finding.
            let latest = periods
                .iter()
                .enumerate()
                .rev()
                .find(|(i, _)| series.iter().all(|s| s.1[*i].is_some()));
            let title = match latest {
                Some((i, p)) => format!(
                    "Estimated 12-month reoffending by quarter; latest complete quarter {p}: {}",
                    series
                        .iter()
                        .filter_map(|(c, pts)| pts[i]
                            .as_ref()
                            .map(|e| format!("{c} {}", pct(e.value))))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "Estimated 12-month reoffending by quarter of index date".to_string(),
            };
            let confidence = j["monitor"]["confidence"].as_f64().unwrap_or(0.95);
            let alt = format!(
                "Dot chart of each quarter's estimated 12-month rate with {} intervals; quarters without anyone followed for a full year have no estimate yet.",
                level(confidence)
            );
            let svg = charts::by_period_with_projections(
                &title, &alt, confidence, &periods, &series, &projected,
            )?;
            if projected.iter().any(|s| s.1.iter().any(Option::is_some)) {
                s.paragraphs.push(
                    "Hollow markers are projections, not observed rates: a quarter not yet followed for a year, \
                     completed with its group's earlier quarters (the assumption is stated in the table below). \
                     A quarter with no marker has not yet been followed for 91 days by everyone in it, or rests \
                     on too few people to publish."
                        .into(),
                );
            }
            let mut data = crate::present::Table::new(
                &title,
                &[
                    "cohort",
                    "period",
                    "estimate_12m",
                    "ci_low",
                    "ci_high",
                    "projected_12m",
                    "projected_low",
                    "projected_high",
                ],
                2,
            );
            for ((c, pts), (_, proj)) in series.iter().zip(&projected) {
                for ((p, e), q) in periods.iter().zip(pts).zip(proj) {
                    data.push(vec![
                        Some(c.clone()),
                        Some(p.clone()),
                        e.as_ref().map(|e| e.value.to_string()),
                        e.as_ref().map(|e| e.low.to_string()),
                        e.as_ref().map(|e| e.high.to_string()),
                        q.as_ref().map(|e| e.value.to_string()),
                        q.as_ref().map(|e| e.low.to_string()),
                        q.as_ref().map(|e| e.high.to_string()),
                    ]);
                }
            }
            s.chart = Some(Chart {
                file: "monitor".into(),
                svg,
                alt,
                data,
            });
        }
        s.tables.push(described(
            "monitor",
            &crate::output::tables::monitor::description(&j["monitor"]),
            &mg,
        ));
        // The latest projection whose sentence was not withheld by the disclosure gate.
        if let Some(basis) = mg.iter().rev().find_map(|g| {
            g["projection_basis"]
                .as_str()
                .filter(|b| *b != super::disclosure::WITHHELD_SENTENCE)
        }) {
            s.paragraphs.push(format!(
                "Projections (latest shown): {basis} Rates at equal follow-up (days 91, 182 and 273) are in the machine-readable results, report.json."
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// Costs and value.
// Over 80 lines: one section's content in reading order (headline, tables, tornado, inputs).
fn costs(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let mut out = Vec::new();
    // Costs.
    if let Some(c) = j.get("costs").filter(|c| !c.is_null()) {
        let mut s = Section::new(
            "costs",
            format!("Costs and value ({} prices)", c["price_year"]),
        );
        s.paragraphs.extend(
            arr(c, "caveats")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
        if let (Some(net), Some(p)) = (f(c, "net_savings"), f(c, "probability_net_positive")) {
            let tornado = arr(c, "tornado");
            let rows: Vec<(String, f64, f64)> = tornado
                .iter()
                .filter_map(|t| {
                    Some((
                        t["input"].as_str()?.to_string(),
                        f(t, "net_low")?,
                        f(t, "net_high")?,
                    ))
                })
                .collect();
            let title = format!(
                "Net value about {} ({:.0}% of simulations above zero); most uncertain input: {}",
                crate::format::pounds(crate::costs::about(net)),
                p * 100.0,
                rows.first().map_or("none", |t| t.0.as_str())
            );
            s.chart = Some(dumbbell_chart(
                "tornado",
                &title,
                "net value (GBP)",
                &rows,
                ("input low", "input high"),
                &[0.0],
                ["input", "net_low", "net_high"],
                "Tornado chart",
            )?);
        }
        if let Some(h) = c["headline"].as_str() {
            s.findings.push(h.to_string());
        }
        s.tables
            .push(drawn("costs", &crate::output::tables::costs::headline(c)));
        s.tables.push(described(
            "cost_items",
            &crate::output::tables::costs::items_description(),
            &arr(c, "items"),
        ));
        out.push(s);
    }
    Ok(out)
}

/// Analyses that could not be carried out, said in place of their results.
fn not_available(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let mut out = Vec::new();
    // Analyses that could not be carried out: said in place of their results.
    for na in &arr(j, "not_available") {
        let text = |k: &str| na[k].as_str().unwrap_or_default().to_string();
        let mut s = Section::new(&format!("{}-not-available", text("section")), text("title"));
        s.paragraphs
            .push(format!("Not available: {}", text("reason")));
        out.push(s);
    }
    Ok(out)
}

/// Data quality, then methods and provenance.
fn quality_and_methods(c: &Ctx) -> Result<Vec<Section>> {
    let Ctx { j, .. } = *c;
    let mut out = Vec::new();
    // Data quality and provenance.
    let q = &j["data_quality"];
    let mut s = Section::new("data-quality", "Data quality");
    s.paragraphs.push(format!(
        "Cohort rows read {}, used in the 12-month measure {}; offence rows read {}, used {}. Every other row is counted below with its reason.",
        q["rows_read"]["cohort"], q["rows_used"]["cohort"], q["rows_read"]["offences"], q["rows_used"]["offences"]
    ));
    s.tables.push(drawn(
        "exclusions",
        &crate::output::tables::quality::quality(q),
    ));
    out.push(s);
    let pv = &j["parameters"];
    let mut s = Section::new("methods", "Methods and provenance");
    s.paragraphs.push(format!(
        "Proven reoffending follows the Ministry of Justice measure: an offence committed within {} days of the index date and proven within a further {} days; offences on the index date {} counted. Extract date {} ({}).",
        pv["follow_up_days"], pv["waiting_days"],
        if pv["count_index_day"] == true { "are" } else { "are not" },
        pv["extract_date"].as_str().unwrap_or("[x]"),
        pv["extract_date_source"].as_str().unwrap_or("")
    ));
    s.paragraphs.push("Intervals: Wilson for rates, Newcombe for differences in rates, log(-log) for Kaplan-Meier. A comparison with an external benchmark is descriptive, not an estimate of impact.".into());
    let files: Vec<Value> = j["provenance"]["inputs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    s.tables.push(described(
        "provenance",
        &Description::of(
            "Inputs",
            1,
            &[
                ("file", "path", Kind::Count),
                ("bytes", "bytes", Kind::Count),
                ("sha256", "sha256", Kind::Count),
            ],
        ),
        &files,
    ));
    out.push(s);
    Ok(out)
}
