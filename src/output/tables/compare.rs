//! The comparison as tables.

use serde_json::{Value, json};

use super::records_or_plain;
use crate::compare::{Comparison, Period};
use crate::error::Result;
use crate::output::Tabular;
use crate::output::describe::{Column, Description};
use crate::present::{Kind, Table, count, interval, num, pct, pval};

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

impl Comparison {
    /// The tests of the difference as a table (none without tests).
    fn tests_table(&self) -> Option<Table> {
        // Serialising a result cannot fail (plain fields, string keys); were it to, there
        // would be no table.
        let j = self.to_json().unwrap_or_default();
        let rows = test_records(&j);
        (!rows.is_empty()).then(|| tests_description(&j).table(&rows))
    }

    /// The headline as a table.
    // Over 80 lines: a table's rows in the order a reader meets them.
    pub(crate) fn headline_table(&self) -> Table {
        let mut t = Table::new(
            "Comparison of 12-month proven reoffending",
            &["measure", "value"],
            1,
        );
        let ci =
            |lo: Option<f64>, hi: Option<f64>, f: &dyn Fn(Option<f64>) -> Option<String>| match (
                lo, hi,
            ) {
                (Some(_), Some(_)) => Some(format!(
                    "{} to {}",
                    f(lo).unwrap_or_default(),
                    f(hi).unwrap_or_default()
                )),
                _ => None,
            };
        let row = |t: &mut Table, k: &str, v: Option<String>| t.push(vec![Some(k.to_string()), v]);
        row(
            &mut t,
            &format!("{} (n = {})", self.treatment, self.treatment_n),
            pct(Some(self.treatment_rate.estimate)),
        );
        match (&self.control, self.control_n) {
            (Some(c), Some(n)) => row(
                &mut t,
                &format!("{c} (n = {n})"),
                pct(Some(self.control_rate)),
            ),
            _ => row(
                &mut t,
                &format!(
                    "benchmark: {}",
                    self.baseline_name.as_deref().unwrap_or("fixed rate")
                ),
                pct(Some(self.control_rate)),
            ),
        }
        let pts = |x: Option<f64>| x.map(|v| format!("{} pts", Kind::Pts.show(v)));
        let rd = &self.risk_difference;
        row(&mut t, "difference", pts(Some(rd.estimate)));
        row(
            &mut t,
            &format!(
                "{:.0}% interval ({})",
                self.confidence * 100.0,
                self.rd_ci_method
            ),
            ci(rd.low(), rd.high(), &pts),
        );
        for (name, ratio) in [
            ("relative risk", &self.relative_risk),
            ("odds ratio", &self.odds_ratio),
        ] {
            row(&mut t, name, num(ratio.map(|r| r.estimate), 3));
            row(
                &mut t,
                "  interval",
                ci(
                    ratio.and_then(|r| r.low()),
                    ratio.and_then(|r| r.high()),
                    &|x| num(x, 3),
                ),
            );
        }
        if let Some(f) = &self.frequency {
            row(
                &mut t,
                "reoffences per 100 people",
                Some(format!(
                    "{} vs {} (Welch {})",
                    Kind::Num(1).show(f.treatment_per_100),
                    Kind::Num(1).show(f.control_per_100),
                    crate::format::p_clause(&pval(Some(f.p_value)).unwrap_or_default())
                )),
            );
        }
        if let Some(d) = &self.time_to_first {
            row(
                &mut t,
                "mean days to first reoffence (reoffenders)",
                Some(format!(
                    "{} vs {}",
                    num(d.treatment_mean_days, 1).unwrap_or_else(|| "-".into()),
                    num(d.control_mean_days, 1).unwrap_or_else(|| "-".into())
                )),
            );
        }
        row(
            &mut t,
            "smallest detectable reduction",
            self.sensitivity.min_detectable_difference_lower.map(|d| {
                format!(
                    "{:.1} pts (power {:.0}%)",
                    d * 100.0,
                    self.sensitivity.power * 100.0
                )
            }),
        );
        if let Some(e) = &self.e_value {
            row(
                &mut t,
                "E-value (estimate; interval limit)",
                Some(format!(
                    "{}; {}",
                    Kind::Num(2).show(e.value.estimate),
                    Kind::Num(2).show(e.value.interval_limit)
                )),
            );
        }
        if let Some(p) = &self.period_check {
            row(
                &mut t,
                &format!(
                    "difference, {} period",
                    match p.period {
                        Period::Pilot => "pilot",
                        Period::Full => "full",
                    }
                ),
                Some(format!(
                    "{} pts ({})",
                    Kind::Pts.show(p.comparison.risk_difference.estimate),
                    Kind::Pts.interval(
                        p.comparison.risk_difference.limits().0,
                        p.comparison.risk_difference.limits().1
                    )
                )),
            );
        }
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
        let mut cols: Vec<&str> = keys.iter().map(String::as_str).collect();
        cols.extend([
            "n pilot",
            "rate pilot",
            "n comparison",
            "rate comparison",
            "difference (pts)",
            "interval",
            "p",
            "p adjusted",
        ]);
        let mut t = Table::new("Subgroups", &cols, keys.len());
        for s in &self.subgroups {
            let mut r: Vec<Option<String>> = s.key.values().cloned().collect();
            r.extend([
                count(s.treatment_n),
                pct(s.treatment_rate),
                count(s.control_n),
                pct(s.control_rate),
                s.risk_difference.map(|d| Kind::Pts.show(d)),
                interval(Kind::Pts, s.rd_ci_low, s.rd_ci_high),
                pval(s.p_value),
                pval(s.p_adjusted),
            ]);
            t.push(r);
        }
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

    /// One row per subgroup; without subgroups, the headline figures as one row.
    fn records(&self) -> Result<Vec<Value>> {
        Ok(records_or_plain(&self.to_json()?, "subgroups"))
    }
}
