//! The comparison as tables.

use serde_json::{Value, json};

use crate::compare::Comparison;
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{
    Cell, Column, Described, Description, Row, kinded, measure, measures,
};
use crate::output::tabular::array_records;
use crate::present::{Kind, Table, level, num, pval};

/// What a comparison is against, as its tables and the report's section title it.
pub(crate) fn against(j: &Value) -> &'static str {
    if j["kind"] == "external_benchmark" {
        "Compared with the external benchmark"
    } else {
        "Compared with the comparison group"
    }
}

/// The tests of a comparison's difference, described once for the terminal, the notebook and
/// the report, from a comparison's JSON (as computed, or as the disclosure gate let it
/// through); its rows are [`test_records`].
pub(crate) fn tests_description(j: &Value) -> Description {
    Description {
        title: format!("Tests of the difference: {}", against(j).to_lowercase()),
        columns: vec![
            Column::label("test", "test"),
            Column::value("statistic", "statistic", Kind::Num(3)),
            Column::value("p-value", "p_value", Kind::P),
        ],
        labels: 1,
    }
}

/// One row per test of a comparison's JSON (none when its tests are withheld).
pub(crate) fn test_records(j: &Value) -> Vec<Value> {
    j["tests"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| json!({"test": k, "statistic": v["statistic"], "p_value": v["p_value"]}))
                .collect()
        })
        .unwrap_or_default()
}

/// The headline of a comparison, described once for the terminal, the notebook and the
/// report, from a comparison's JSON (as computed, or as the disclosure gate let it through):
/// the terminal reads each figure with its working (group sizes, an interval in one cell,
/// the ratios, frequency, time to first, power, E-value, period check); the report publishes
/// the two rates, the difference and each of its limits on rows of their own.
// Over 80 lines: the rows in the order a reader meets them.
pub(crate) fn headline(j: &Value) -> Described {
    let x = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    let text = |s: String| Value::String(s);
    let label = |k: &str| j[k].as_str().unwrap_or_default().to_string();
    let pts = |v: Option<f64>| v.map(|v| format!("{} pts", Kind::Pts.show(v)));
    let or_null = |s: Option<String>| s.map_or(Value::Null, Value::String);
    let between = |lo: Option<f64>, hi: Option<f64>, show: &dyn Fn(f64) -> String| {
        or_null(
            lo.zip(hi)
                .map(|(lo, hi)| format!("{} to {}", show(lo), show(hi))),
        )
    };
    let benchmark = j["kind"] == "external_benchmark";
    let control = match (j["control"].as_str(), j["control_n"].as_u64()) {
        (Some(c), Some(n)) => format!("{c} (n = {n})"),
        _ => format!(
            "benchmark: {}",
            j["baseline_name"].as_str().unwrap_or("fixed rate")
        ),
    };
    let mut rows = vec![
        Row::terminal(measure(
            format!("{} (n = {})", label("treatment"), j["treatment_n"]),
            kinded(j.get("treatment_rate"), Kind::Pct),
        )),
        Row::report(measure(
            "pilot rate",
            kinded(j.get("treatment_rate"), Kind::Pct),
        )),
        Row::terminal(measure(control, kinded(j.get("control_rate"), Kind::Pct))),
        Row::report(measure(
            if benchmark {
                "benchmark rate"
            } else {
                "comparison rate"
            },
            kinded(j.get("control_rate"), Kind::Pct),
        )),
        Row::terminal(measure("difference", or_null(pts(x(j, "risk_difference"))))),
        Row::report(measure(
            "difference (percentage points)",
            kinded(j.get("risk_difference"), Kind::Pts),
        )),
        Row::terminal(measure(
            format!(
                "{} interval ({})",
                level(x(j, "confidence").unwrap_or(0.95)),
                label("rd_ci_method")
            ),
            between(x(j, "rd_ci_low"), x(j, "rd_ci_high"), &|v| {
                format!("{} pts", Kind::Pts.show(v))
            }),
        )),
        Row::report(measure(
            "interval low",
            kinded(j.get("rd_ci_low"), Kind::Pts),
        )),
        Row::report(measure(
            "interval high",
            kinded(j.get("rd_ci_high"), Kind::Pts),
        )),
    ];
    for (name, k) in [("relative risk", "rr"), ("odds ratio", "or")] {
        let estimate = if k == "rr" {
            "relative_risk"
        } else {
            "odds_ratio"
        };
        rows.push(Row::terminal(measure(
            name,
            kinded(j.get(estimate), Kind::Num(3)),
        )));
        rows.push(Row::terminal(measure(
            "  interval",
            between(
                x(j, &format!("{k}_ci_low")),
                x(j, &format!("{k}_ci_high")),
                &|v| Kind::Num(3).show(v),
            ),
        )));
    }
    let fr = &j["frequency"];
    if let (Some(t), Some(c)) = (x(fr, "treatment_per_100"), x(fr, "control_per_100")) {
        rows.push(Row::terminal(measure(
            "reoffences per 100 people",
            text(format!(
                "{} vs {} (Welch {})",
                Kind::Num(1).show(t),
                Kind::Num(1).show(c),
                crate::format::p_clause(&pval(x(fr, "p_value")).unwrap_or_default())
            )),
        )));
    }
    let d = &j["time_to_first"];
    if d.is_object() {
        rows.push(Row::terminal(measure(
            "mean days to first reoffence (reoffenders)",
            text(format!(
                "{} vs {}",
                num(x(d, "treatment_mean_days"), 1).unwrap_or_else(|| "-".into()),
                num(x(d, "control_mean_days"), 1).unwrap_or_else(|| "-".into())
            )),
        )));
    }
    let power = x(&j["sensitivity"], "power").unwrap_or_default();
    rows.push(Row::terminal(measure(
        "smallest detectable reduction",
        or_null(
            x(&j["sensitivity"], "min_detectable_difference_lower")
                .map(|d| format!("{:.1} pts (power {:.0}%)", d * 100.0, power * 100.0)),
        ),
    )));
    let e = &j["e_value"];
    if let (Some(v), Some(limit)) = (x(e, "estimate"), x(e, "interval_limit")) {
        rows.push(Row::terminal(measure(
            "E-value (estimate; interval limit)",
            text(format!(
                "{}; {}",
                Kind::Num(2).show(v),
                Kind::Num(2).show(limit)
            )),
        )));
    }
    let p = &j["period_check"];
    let pc = &p["comparison"];
    if let (Some(period), Some(rd), Some(lo), Some(hi)) = (
        p["period"].as_str(),
        x(pc, "risk_difference"),
        x(pc, "rd_ci_low"),
        x(pc, "rd_ci_high"),
    ) {
        rows.push(Row::terminal(measure(
            format!("difference, {period} period"),
            text(format!(
                "{} pts ({})",
                Kind::Pts.show(rd),
                Kind::Pts.interval(lo, hi)
            )),
        )));
    }
    Described {
        description: measures(against(j)),
        rows,
    }
}

impl Comparison {
    /// The tests of the difference as a table (none without tests).
    fn tests_table(&self) -> Option<Table> {
        // Serialising a result cannot fail (plain fields, string keys); were it to, there
        // would be no table.
        let j = self.to_json().unwrap_or_default();
        let rows = test_records(&j);
        (!rows.is_empty()).then(|| tests_description(&j).table(&rows))
    }

    /// The headline as a table, with the verdict and caveats under it.
    pub(crate) fn headline_table(&self) -> Table {
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no figures.
        let mut t = headline(&self.to_json().unwrap_or_default()).table();
        t.notes.push(String::new());
        t.notes.push(self.summary.clone());
        if let Some(e) = &self.e_value {
            t.notes.push(format!("Robustness: {}", e.summary));
        }
        if let Some(p) = &self.period_check {
            t.notes.push(format!("Period check: {}", p.summary));
        }
        for c in &self.caveats {
            t.notes.push(format!("Note: {c}"));
        }
        t
    }

    /// Subgroup results as a table.
    pub(crate) fn subgroup_table(&self) -> Option<Table> {
        if self.subgroups.is_empty() {
            return None;
        }
        let keys: Vec<String> = self.subgroups[0].key.keys().cloned().collect();
        let mut columns: Vec<Column> = keys.iter().map(|k| Column::label(k, k)).collect();
        columns.extend([
            Column::value("n pilot", "treatment_n", Kind::Count),
            Column::value("rate pilot", "treatment_rate", Kind::Pct),
            Column::value("n comparison", "control_n", Kind::Count),
            Column::value("rate comparison", "control_rate", Kind::Pct),
            Column::value("difference (pts)", "risk_difference", Kind::Pts),
            Column::new(
                "interval",
                Cell::Interval("rd_ci_low".into(), "rd_ci_high".into(), Kind::Pts),
            ),
            Column::value("p", "p_value", Kind::P),
            Column::value("p adjusted", "p_adjusted", Kind::P),
        ]);
        // Serialising a result cannot fail (plain fields, string keys); were it to, the
        // table would have no rows. Each row with its keys beside its figures.
        let j = self.to_json().unwrap_or_default();
        let rows = array_records(&j, "subgroups")
            .into_iter()
            .map(|mut s| {
                if let (Some(k), Value::Object(m)) = (s["key"].as_object().cloned(), &mut s) {
                    m.extend(k);
                }
                s
            })
            .collect();
        let mut t = Description {
            title: "Subgroups".into(),
            columns,
            labels: keys.len(),
        }
        .with(rows)
        .table();
        t.notes.push(format!(
            "p adjusted: {:?} adjustment over {} subgroups; a subgroup result is a lead to follow up, not a finding.",
            self.subgroup_adjustment.unwrap_or_default(),
            self.subgroups.len()
        ));
        Some(t)
    }
}

impl Tabular for Comparison {
    fn tables(&self) -> Vec<Table> {
        let mut v = vec![self.headline_table()];
        v.extend(self.tests_table());
        v.extend(self.subgroup_table());
        v
    }

    /// The headline: the rates, the difference and its interval.
    fn to_csv(&self) -> Result<String> {
        Ok(headline(&self.to_json()?).csv())
    }
}
