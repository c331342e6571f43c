//! A confidence level of 0.9 is named "90%" in every header, sentence and chart: the
//! report's text, tables and SVG, the command line's tables, and the notebook's tables and
//! charts. Only the cost model's Monte Carlo interval keeps its own fixed 95%.

use std::path::Path;

use crate::common::stdout;
use assert_cmd::Command;
use reoffending::prelude::*;

/// The sample's evaluation file, its paths made absolute, at `level` for `[rates]`,
/// `[compare]` and `[did]`.
fn config_at(dir: &Path, level: &str) -> std::path::PathBuf {
    let text = crate::common::sample_evaluation_text()
        .replace("[rates]", &format!("[rates]\nconfidence = {level}"))
        .replace("[compare]", &format!("[compare]\nconfidence = {level}"))
        .replace("[did]", &format!("[did]\nconfidence = {level}"));
    let path = dir.join("evaluation.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every line of `text` that names 95% is about the cost model's Monte Carlo interval.
fn only_monte_carlo_at_95(what: &str, text: &str) {
    for line in text.lines().filter(|l| l.contains("95%")) {
        assert!(
            line.contains("Monte Carlo") || line.contains("simulations above zero"),
            "{what}: a 95% label in a 0.9 run: {line}"
        );
    }
}

#[test]
fn a_report_at_0_9_says_90_percent_in_its_text_tables_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_at(dir.path(), "0.9");
    let out = dir.path().join("r");
    Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    let md = read("report.md");
    only_monte_carlo_at_95("report.md", &md);
    only_monte_carlo_at_95("report.html", &read("report.html"));
    assert!(
        md.contains("| 90% CI low | 90% CI high |"),
        "no 90% header in report.md"
    );
    // The text: the comparisons' sentences, the difference-in-differences and the monitoring.
    assert!(
        md.contains("(90% interval"),
        "no 90% interval in a sentence"
    );
    assert!(
        md.contains("with 90% intervals"),
        "no 90% chart description"
    );
    // The tables as published (CSV): the header names the level each interval was computed at.
    for table in [
        "rates",
        "monitor",
        "cox",
        "designs",
        "bottom_line_rates",
        "bottom_line_estimates",
        "did_estimates",
        "did_event_study",
        "did_synthetic_estimates",
    ] {
        let csv = read(&format!("tables/{table}.csv"));
        let header = csv.lines().next().unwrap_or_default();
        assert!(header.contains("90%"), "tables/{table}.csv: {header}");
        assert!(!header.contains("95%"), "tables/{table}.csv: {header}");
    }
    // Each row of the bottom line's estimates is at the one level its header names.
    let v: serde_json::Value = serde_json::from_str(&read("report.json")).unwrap();
    for key in ["compare", "monitor", "survival", "did", "effect"] {
        assert_eq!(v[key]["confidence"], 0.9, "{key}");
    }
    // The charts' text (titles, legends, descriptions).
    let mut named = 0;
    for entry in std::fs::read_dir(out.join("charts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(!svg.contains("95%"), "{} names 95%", path.display());
            named += usize::from(svg.contains("90%"));
        }
    }
    for chart in ["rates", "monitor", "designs", "did_event_study"] {
        let svg = read(&format!("charts/{chart}.svg"));
        assert!(
            svg.contains("90% confidence interval") || svg.contains("90% interval"),
            "{chart}.svg"
        );
    }
    assert!(named >= 4, "{named} charts name 90%");
}

#[test]
fn the_commands_print_the_level_they_used() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_at(dir.path(), "0.9");
    let cfg = cfg.to_str().unwrap();
    // The flag.
    let monitor = stdout(&["monitor", "--config", cfg, "--confidence", "0.8"]);
    assert!(monitor.contains("80% CI"), "{monitor}");
    assert!(!monitor.contains("90% CI") && !monitor.contains("95% CI"));
    // The evaluation file's level, as the report uses it.
    let monitor = stdout(&["monitor", "--config", cfg]);
    assert!(
        monitor.contains("90% CI") && !monitor.contains("95%"),
        "{monitor}"
    );
    let survival = stdout(&["survival", "--config", cfg]);
    assert!(
        survival.contains("90% CI") && !survival.contains("95%"),
        "{survival}"
    );
    let rates = stdout(&["rates", "--config", cfg]);
    assert!(rates.contains("90% CI (wilson)"), "{rates}");
    let compare = stdout(&["compare", "--config", cfg]);
    assert!(
        compare.contains("90% interval (newcombe)") && !compare.contains("95%"),
        "{compare}"
    );
    // A level that prints with a decimal.
    let rates = stdout(&["rates", "--config", cfg, "--confidence", "0.975"]);
    assert!(rates.contains("97.5% CI (wilson)"), "{rates}");
}

#[test]
fn notebook_tables_and_charts_at_0_9_say_90_percent() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(&config_at(dir.path(), "0.9"))?;
    let eval = Evaluation::load(&config.inputs()?, config.rules())?;
    let rates = Rates::compute(&eval, &config.rate_options()?)?;
    let cmp = Comparison::compute(&eval, &config.compare_options()?)?;
    let monitor = Monitor::compute(
        &eval,
        &MonitorOptions {
            confidence: config.confidence(),
            reference: None,
        },
    )?;
    let survival = SurvivalAnalysis::compute(&eval, &config.survival_options())?;
    assert_eq!(
        (monitor.confidence, survival.confidence, cmp.confidence),
        (0.9, 0.9, 0.9)
    );
    // A header (`<th>90% CI ...`), or the comparison's row label, names the level.
    for (what, html, text, label) in [
        (
            "rates",
            rates.to_html(),
            rates.to_string(),
            "<th>90% CI (wilson)",
        ),
        (
            "compare",
            cmp.to_html(),
            cmp.to_string(),
            "<td>90% interval (newcombe)",
        ),
        (
            "monitor",
            monitor.to_html(),
            monitor.to_string(),
            "<th>90% CI",
        ),
        (
            "survival",
            survival.to_html(),
            survival.to_string(),
            "<th>90% CI",
        ),
    ] {
        assert!(html.contains(label), "{what}: {html}");
        assert!(text.contains(&label[4..]), "{what}: {text}");
        assert!(!html.contains("95%") && !text.contains("95%"), "{what}");
    }
    for (what, chart) in [
        ("rates", rates.chart()),
        ("compare", cmp.chart()),
        ("monitor", monitor.chart()),
    ] {
        let svg = chart.svg()?;
        assert!(svg.contains("90% confidence interval"), "{what}");
        assert!(!svg.contains("95%"), "{what}");
    }
    Ok(())
}

#[test]
fn a_bottom_line_with_rows_at_two_levels_names_each_rows_level() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_at(dir.path(), "0.9");
    // The difference-in-differences at its own level, the comparisons at 0.9, the rates
    // table at 0.8.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[did]\nconfidence = 0.9", "[did]\nconfidence = 0.95")
        .replace("[rates]\nconfidence = 0.9", "[rates]\nconfidence = 0.8");
    std::fs::write(&cfg, text).unwrap();
    let out = dir.path().join("r");
    Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("tables/bottom_line_estimates.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("estimate,difference (points),CI low,CI high,p-value,test or interval")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows[0].contains("difference-in-differences") && rows[0].contains("(95% interval)"));
    assert!(
        rows[1..].iter().all(|r| r.contains("(90% interval)")),
        "{csv}"
    );
    // The rates table beside it: the comparison's intervals, at the comparison's level (not
    // the rates table's).
    let rates = std::fs::read_to_string(out.join("tables/bottom_line_rates.csv")).unwrap();
    assert!(
        rates.starts_with("group,people in the measure,reoffended,rate,90% CI low,90% CI high")
    );
}
