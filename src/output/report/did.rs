//! The report's area-wide impact sections (difference-in-differences, event study,
//! synthetic comparison), from the disclosure-controlled JSON only.

use serde_json::Value;

use super::disclosure::SUPPRESSED;
use super::sections::arr;
use super::table::*;
use crate::charts::{self, Estimate, PeriodChart};
use crate::error::Result;
use crate::format::level;

fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

fn points(x: f64) -> String {
    format!("{:+.1}", x * 100.0)
}

/// The sections, when the evaluation has a difference-in-differences.
pub(super) fn sections(j: &Value) -> Result<Vec<Section>> {
    let Some(d) = j.get("did").filter(|d| d.is_object()) else {
        return Ok(Vec::new());
    };
    let confidence = f(d, "confidence").unwrap_or(0.95);
    let mut out = vec![main(d)?];
    out.extend(event_study(d, confidence)?);
    out.extend(synthetic(d, confidence)?);
    Ok(out)
}

fn main(d: &Value) -> Result<Section> {
    let mut s = Section::new(
        "did",
        "Area-wide impact: difference-in-differences against other areas",
    );
    if let Some(x) = d["summary"].as_str() {
        s.findings.push(x.to_string());
    }
    s.paragraphs.push(
        "When a whole area adopts a scheme, nobody in it is left untreated after launch, so the comparison is \
         with other areas: the change in the pilot area from before to after launch, set against the change in the \
         comparison areas over the same periods (two-way fixed effects on people in the 12-month measure, by the \
         quarter of their index date). Differences between areas that do not change over time (charging practice, \
         recording, local drug markets) cancel out; what the design assumes is that, without the scheme, the \
         pilot's rate would have moved in parallel with the others'. With one treated area, the test that leads is \
         the placebo in space, which asks how unusual the pilot's change is among the comparison areas."
            .into(),
    );
    if let Some(st) = d.get("staggered").filter(|v| v.is_object()) {
        if let Some(x) = st["summary"].as_str() {
            s.paragraphs.push(x.to_string());
        }
    }
    // Trends chart: the pilot's rate and the comparison areas' by period.
    let trends = arr(d, "trends");
    let periods: Vec<String> = trends
        .iter()
        .filter_map(|t| t["period"].as_str().map(str::to_string))
        .collect();
    let launch_label = d["launches"][0][1].as_str().unwrap_or("").to_string();
    let launch = periods.iter().position(|p| *p >= launch_label);
    let side = |k: &str| -> Vec<Option<Estimate>> {
        trends
            .iter()
            .map(|t| {
                f(t, k).map(|v| Estimate {
                    label: String::new(),
                    value: v,
                    low: v,
                    high: v,
                })
            })
            .collect()
    };
    let pilot_name = d["launches"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x[0].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    // The comparison first and the pilot second, so that each takes the colour it has in
    // every chart of the report (comparison dark blue, pilot orange).
    let series = vec![
        ("comparison areas".to_string(), side("comparison_rate")),
        (format!("pilot ({pilot_name})"), side("pilot_rate")),
    ];
    let published = |k: usize| series[k].1.iter().any(Option::is_some);
    if !periods.is_empty() && (published(0) || published(1)) {
        let title = match f(d, "estimate") {
            Some(e) => format!(
                "After launch, reoffending in {pilot_name} changed by {} points relative to the comparison areas",
                points(e)
            ),
            None => "Reoffending by period: pilot and comparison areas".to_string(),
        };
        let mut note = String::new();
        if !published(1) {
            note = " The pilot's points are not published (a period has too few people).".into();
        }
        let alt = format!(
            "Line chart of the 12-month proven reoffending rate by period of the index date, for {pilot_name} and \
             for the comparison areas pooled, with the launch marked.{note}"
        );
        let svg = charts::over_periods(&PeriodChart {
            title: &title,
            alt: &alt,
            periods: &periods,
            series: &series,
            lines: true,
            intervals: None,
            launch,
            y_desc: "12-month proven reoffending rate",
            y_points: false,
        })?;
        let mut data = crate::present::Table::new(&title, &["period", "pilot", "comparison"], 1);
        for (k, p) in periods.iter().enumerate() {
            let v = |i: usize| series[i].1[k].as_ref().map(|e| format!("{:.4}", e.value));
            data.push(vec![Some(p.clone()), v(1), v(0)]);
        }
        s.chart = Some(Chart {
            file: "did_trends".into(),
            svg,
            alt,
            data,
        });
    }
    // The estimates.
    let mut t = drawn("did_estimates", &crate::output::tables::did::estimates(d));
    if let Some(p) = d.get("placebo_in_space").filter(|v| v.is_object()) {
        t.notes.push(format!(
            "Placebo in space: the estimate ranks {} of {} comparison and pilot areas by size; {} (the smallest \
             this test can give is {}).",
            cell(p.get("rank"), Kind::Count),
            f(p, "areas").map_or(String::new(), |a| format!("{}", a as i64 + 1)),
            crate::format::p_clause(&cell(p.get("p_value"), Kind::Num(3))),
            cell(p.get("min_p_value"), Kind::Num(3)),
        ));
    }
    if let Some(w) = d.get("wild_bootstrap").filter(|v| v.is_object()) {
        t.notes.push(format!(
            "Wild cluster restricted bootstrap ({} weights, {} replications, seed {}): {}.",
            w["weights"].as_str().unwrap_or(""),
            cell(w.get("replications"), Kind::Count),
            cell(w.get("seed"), Kind::Count),
            crate::format::p_clause(&cell(w.get("p_value"), Kind::Num(3))),
        ));
    }
    if let Some(pt) = d.get("pre_trend").filter(|v| v.is_object()) {
        t.notes.push(format!(
            "Pre-launch trends: F({}, {}) = {}, {}. With one treated area this test, too, rests on \
             cluster-robust errors and rejects too often.",
            cell(pt.get("df_num"), Kind::Count),
            cell(pt.get("df_den"), Kind::Count),
            cell(pt.get("statistic"), Kind::Num(2)),
            crate::format::p_clause(&cell(pt.get("p_value"), Kind::Num(3))),
        ));
    }
    s.tables.push(t);
    // Placebo estimates, one per comparison area.
    if let Some(p) = d.get("placebo_in_space").filter(|v| v.is_object()) {
        s.tables.push(described(
            "did_placebos",
            &Description::of(
                "Placebo in space: each comparison area treated as if it had launched",
                1,
                &[
                    ("area", "area", Kind::Count),
                    ("placebo estimate (points)", "estimate", Kind::Pts),
                ],
            ),
            &arr(p, "estimates"),
        ));
    }
    // Cells.
    let cells = arr(d, "cells");
    let withheld = cells.iter().any(|c| c["rate"] == SUPPRESSED);
    if withheld {
        s.paragraphs.push(
            "The area x period cells are not published: some hold too few people, reoffenders or people who did \
             not reoffend, and with the estimates beside them a hidden cell could be worked out."
                .into(),
        );
    } else if !cells.is_empty() {
        s.tables.push(described(
            "did_cells",
            &Description::of(
                "People in the 12-month measure by area and period",
                1,
                &[
                    ("area", "area", Kind::Count),
                    ("period", "period", Kind::Count),
                    ("people", "people", Kind::Count),
                    ("reoffenders", "reoffenders", Kind::Count),
                    ("rate", "rate", Kind::Pct),
                ],
            ),
            &cells,
        ));
    }
    Ok(s)
}

fn event_study(d: &Value, confidence: f64) -> Result<Option<Section>> {
    let rows = arr(d, "event_study");
    if rows.is_empty() {
        return Ok(None);
    }
    let mut s = Section::new(
        "did_event_study",
        "Event study: the change period by period",
    );
    s.paragraphs.push(format!(
        "Each point is the change in the pilot area relative to the period before launch, beyond the change in the \
         comparison areas, with its {} interval. Points before launch near zero support the assumption of parallel \
         trends but cannot prove it.",
        level(confidence)
    ));
    let mut labels: Vec<String> = Vec::new();
    let mut pts: Vec<Option<Estimate>> = Vec::new();
    let mut launch = None;
    let mut prev: Option<i64> = None;
    for r in &rows {
        let rel = r["relative_period"].as_i64().unwrap_or(0);
        if prev.is_some_and(|p| p < -1 && rel >= 0) || (prev.is_none() && rel >= 0) {
            // The reference period (-1) is zero by definition.
            labels.push("-1".into());
            pts.push(Some(Estimate {
                label: String::new(),
                value: 0.0,
                low: 0.0,
                high: 0.0,
            }));
        }
        if rel == 0 {
            launch = Some(labels.len());
        }
        labels.push(format!("{rel:+}"));
        pts.push(match (f(r, "estimate"), f(r, "ci_low"), f(r, "ci_high")) {
            (Some(v), Some(lo), Some(hi)) => Some(Estimate {
                label: String::new(),
                value: v,
                low: lo,
                high: hi,
            }),
            _ => None,
        });
        prev = Some(rel);
    }
    let published = pts.iter().skip(1).any(Option::is_some);
    if published {
        let after: Vec<f64> = rows
            .iter()
            .filter(|r| r["relative_period"].as_i64().is_some_and(|p| p >= 0))
            .filter_map(|r| f(r, "estimate"))
            .collect();
        let title = if after.is_empty() {
            "Event study: change relative to the period before launch".to_string()
        } else {
            format!(
                "Event study: after launch the change ranged from {} to {} points",
                points(after.iter().copied().fold(f64::INFINITY, f64::min)),
                points(after.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            )
        };
        let alt = format!(
            "Dot chart of the event-study coefficients by periods from launch with {} intervals; the period before \
             launch is the reference (zero), and the launch is marked.",
            level(confidence)
        );
        let series = vec![(
            "change relative to the period before launch".to_string(),
            pts.clone(),
        )];
        let svg = charts::over_periods(&PeriodChart {
            title: &title,
            alt: &alt,
            periods: &labels,
            series: &series,
            lines: false,
            intervals: Some(confidence),
            launch,
            y_desc: "change (percentage points)",
            y_points: true,
        })?;
        let mut data = crate::present::Table::new(
            &title,
            &["periods from launch", "estimate", "ci_low", "ci_high"],
            1,
        );
        for (l, e) in labels.iter().zip(&pts) {
            data.push(vec![
                Some(l.clone()),
                e.as_ref().map(|e| format!("{:.4}", e.value)),
                e.as_ref().map(|e| format!("{:.4}", e.low)),
                e.as_ref().map(|e| format!("{:.4}", e.high)),
            ]);
        }
        s.chart = Some(Chart {
            file: "did_event_study".into(),
            svg,
            alt,
            data,
        });
    } else {
        s.paragraphs.push(
            "The coefficients are not published: the pilot area has periods with too few people."
                .into(),
        );
    }
    s.tables.push(drawn(
        "did_event_study",
        &crate::output::tables::did::event_study(d),
    ));
    Ok(Some(s))
}

fn synthetic(d: &Value, confidence: f64) -> Result<Option<Section>> {
    let Some(sy) = d.get("synthetic").filter(|v| v.is_object()) else {
        return Ok(None);
    };
    let mut s = Section::new(
        "did_synthetic",
        "Synthetic comparison: the pilot against a weighted mix of areas",
    );
    let est = arr(sy, "estimates");
    let get = |m: &str| est.iter().find(|e| e["method"] == m);
    let all: Vec<(String, f64, f64, f64)> = est
        .iter()
        .filter_map(|e| {
            Some((
                e["method"].as_str()?.to_string(),
                f(e, "estimate")?,
                f(e, "ci_low")?,
                f(e, "ci_high")?,
            ))
        })
        .collect();
    if !all.is_empty() {
        let same_side = all.iter().all(|x| x.2 > 0.0) || all.iter().all(|x| x.3 < 0.0);
        let spans_zero = all.iter().all(|x| x.2 <= 0.0 && x.3 >= 0.0);
        let (lo, hi) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x.1), b.max(x.1))
            });
        let verdict = if same_side {
            "every interval is on the same side of zero: the designs agree"
        } else if spans_zero {
            "every interval includes zero: none of the designs can tell an effect from no effect"
        } else {
            "the intervals disagree about zero: read the synthetic difference-in-differences, which weights the \
             comparison areas to match the pilot before launch"
        };
        s.findings.push(format!(
            "Synthetic difference-in-differences, synthetic control and plain difference-in-differences on the area \
             rates give estimates from {} to {} points; {verdict}.",
            points(lo),
            points(hi)
        ));
    }
    s.paragraphs.push(format!(
        "Synthetic control weights the comparison areas so that together they track the pilot's rate before launch; \
         synthetic difference-in-differences also weights the periods before launch and allows a constant gap, and \
         is the current recommendation with one treated area. Standard errors come from placebo runs ({} \
         replications), with {} normal intervals.",
        cell(sy.get("replications"), Kind::Count),
        level(confidence)
    ));
    let path = arr(sy, "path");
    let periods: Vec<String> = path
        .iter()
        .filter_map(|p| p["period"].as_str().map(str::to_string))
        .collect();
    let launch_label = d["launches"][0][1].as_str().unwrap_or("").to_string();
    // The synthetic comparison first, the pilot second: the colours of every chart.
    let series = vec![
        (
            "synthetic pilot (synthetic control weights)".to_string(),
            path.iter()
                .map(|p| {
                    f(p, "synthetic").map(|v| Estimate {
                        label: String::new(),
                        value: v,
                        low: v,
                        high: v,
                    })
                })
                .collect(),
        ),
        (
            "pilot".to_string(),
            path.iter()
                .map(|p| {
                    f(p, "pilot").map(|v| Estimate {
                        label: String::new(),
                        value: v,
                        low: v,
                        high: v,
                    })
                })
                .collect::<Vec<_>>(),
        ),
    ];
    if series[1].1.iter().any(Option::is_some) {
        // The path drawn is synthetic control's, so the title quotes synthetic control's estimate.
        let title = match get("sc").and_then(|e| f(e, "estimate")) {
            Some(e) => format!(
                "Against its synthetic control, the pilot's rate changed by {} points",
                points(e)
            ),
            None => "The pilot and its synthetic comparison".to_string(),
        };
        let alt = "Line chart of the pilot's 12-month reoffending rate by period beside its synthetic control (a \
                   weighted mix of comparison areas that tracks it before launch), with the launch marked."
            .to_string();
        let svg = charts::over_periods(&PeriodChart {
            title: &title,
            alt: &alt,
            periods: &periods,
            series: &series,
            lines: true,
            intervals: None,
            launch: periods.iter().position(|p| *p >= launch_label),
            y_desc: "12-month proven reoffending rate",
            y_points: false,
        })?;
        let mut data = crate::present::Table::new(&title, &["period", "pilot", "synthetic"], 1);
        for (k, p) in periods.iter().enumerate() {
            let v = |i: usize| series[i].1[k].as_ref().map(|e| format!("{:.4}", e.value));
            data.push(vec![Some(p.clone()), v(1), v(0)]);
        }
        s.chart = Some(Chart {
            file: "did_synthetic".into(),
            svg,
            alt,
            data,
        });
    } else {
        s.paragraphs.push(
            "The pilot's path is not published: a period of the pilot area has too few people."
                .into(),
        );
    }
    s.tables.push(drawn(
        "did_synthetic_estimates",
        &crate::output::tables::did::synthetic_estimates(d),
    ));
    s.tables.push(drawn(
        "did_synthetic_weights",
        &crate::output::tables::did::synthetic_weights(d),
    ));
    Ok(Some(s))
}
