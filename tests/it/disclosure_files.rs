//! Every number in every CSV the report writes (its tables, which the workbook's sheets and
//! the Markdown and HTML tables are drawn from, and the charts' data) is a figure of the gated
//! `report.json` as printed: the same value, in per cent, negated or as its complement
//! (1 - survival), at the cell's precision (money at its significant figures). A renderer
//! that computed a figure of its own, or read one the gate never saw, would publish a number
//! this test cannot trace (issue 29: every published figure passes the one gate; issue 30: no
//! statistic computed in rendering).

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| numbers(x, out)),
        Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
        Value::Number(n) => out.extend(n.as_f64()),
        _ => {}
    }
}

/// The cell as a number and the half-width its printing leaves (`None`: not a number).
fn parse(cell: &str) -> Option<(f64, f64)> {
    let t = cell.trim();
    let s: String = t
        .chars()
        .filter(|c| !matches!(c, ',' | '£' | '%'))
        .collect();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E'))
        || !s.chars().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    if s.contains(['e', 'E']) {
        let v: f64 = s.parse().ok()?;
        return Some((v, v.abs() * 1e-12));
    }
    let t = crate::disclosure_outputs::token(t)?;
    Some((t.value, t.half))
}

#[test]
fn every_number_in_the_reports_csv_files_is_a_figure_of_the_gated_json() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    Command::cargo_bin("reoffending")
        .unwrap()
        .current_dir(root)
        .args(["report", "data-samples/evaluation.toml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let j: Value = crate::common::report_json(&out);
    let mut base = Vec::new();
    numbers(&j, &mut base);
    let figures = crate::disclosure_outputs::Figures::from_values(&base);
    let traced = |v: f64, half: f64| figures.traced_value(v, half);
    let mut files = Vec::new();
    for sub in ["tables", "charts"] {
        for e in std::fs::read_dir(out.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "csv") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 30, "{} CSV files", files.len());
    let mut cells = 0;
    let mut untraced = Vec::new();
    for f in &files {
        let mut r = csv::Reader::from_path(f).unwrap();
        for (row, rec) in r.records().enumerate() {
            for cell in rec.unwrap().iter() {
                let Some((v, half)) = parse(cell) else {
                    continue;
                };
                cells += 1;
                if !traced(v, half) {
                    let name = f.strip_prefix(&out).unwrap().to_string_lossy().to_string();
                    untraced.push(format!("{name} row {}: {cell}", row + 1));
                }
            }
        }
    }
    assert!(cells > 1000, "{cells} numeric cells");
    assert!(
        untraced.is_empty(),
        "numbers no published figure gives: {untraced:#?}"
    );
}
