//! The notebook's cells (`notebooks/divert_evaluation.ipynb`) as a test: the same calls, so
//! the API the notebook relies on is checked by `cargo test` (the notebook itself runs in
//! the evcxr kernel, `scripts/check-notebook.sh`, outside CI).

use reoffending::prelude::*;

#[test]
fn the_notebook_walk_through_runs_and_every_result_has_a_chart() -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::from_file(&root.join("data-samples/evaluation.toml"))?;
    let inputs = config.inputs()?;
    let eval = Evaluation::load(&inputs, config.rules())?;
    assert_eq!(
        eval.quality.rows_read.cohort,
        eval.quality.rows_used.cohort
            + eval
                .quality
                .exclusions
                .iter()
                .filter(|e| e.table == reoffending::TableKind::Cohort)
                .map(|e| e.rows)
                .sum::<u64>()
    );
    // The same data as delivered: the same exclusions, one source entry per file.
    let delivered = Config::from_file(&root.join("data-samples/as-delivered/evaluation.toml"))?;
    let as_delivered = Evaluation::load(&delivered.inputs()?, delivered.rules())?;
    // (The same counts; the first rows differ, the offences being in other files' order.)
    let counts = |e: &Evaluation| {
        e.quality
            .exclusions
            .iter()
            .map(|x| (x.table, x.reason, x.rows))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&as_delivered), counts(&eval));
    assert!(as_delivered.data.sources.len() > 10);
    let rates = Rates::compute(&eval, &config.rate_options()?)?;
    let benchmark = Against::Baseline {
        rate: 0.20,
        name: Some("Thames Valley Police drug diversion".into()),
        source: None,
    };
    let tv = Comparison::compute(
        &eval,
        &CompareOptions {
            against: benchmark,
            ..config.compare_options()?
        },
    )?;
    let matched = MatchedComparison::compute(
        &eval,
        &config.match_options()?.expect("[match] in the sample file"),
    )?;
    let survival = SurvivalAnalysis::compute(&eval, &config.survival_options())?;
    let monitor = Monitor::compute(
        &eval,
        &MonitorOptions {
            confidence: 0.95,
            reference: Some(config.control()),
        },
    )?;
    let results = Results::from_config(&config, &inputs, config.rules())?;
    let costs = results.costs.clone().expect("[costs] in the sample file");
    // The same figures as the report's path.
    assert_eq!(results.rates, rates);
    let report_tv = results
        .compare_benchmark
        .as_ref()
        .expect("benchmark in the sample file");
    assert_eq!(
        (
            report_tv.treatment_n,
            report_tv.risk_difference.limits().0,
            report_tv.risk_difference.limits().1
        ),
        (
            tv.treatment_n,
            tv.risk_difference.limits().0,
            tv.risk_difference.limits().1
        )
    );
    // One shape: every result prints, exports and shows in a notebook the same way.
    fn shown<T: Tabular + std::fmt::Display>(r: &T, first_column: &str) {
        let text = r.to_string();
        assert_eq!(text, r.to_text());
        for t in r.tables() {
            assert!(text.contains(&t.title), "{} not printed", t.title);
        }
        let csv = r.to_csv().unwrap();
        assert!(
            csv.starts_with(first_column),
            "{}",
            &csv[..80.min(csv.len())]
        );
        assert!(csv.lines().count() >= 2);
        assert!(r.to_json().unwrap().is_object());
        assert!(r.to_html().starts_with("<table>"));
    }
    shown(&rates, "cohort,");
    shown(&tv, "measure,value\n"); // the headline, a figure a row
    shown(&matched, "term,"); // one row per balance term
    shown(&survival, "group,"); // one row per group (the Kaplan-Meier summary)
    shown(&monitor, "cohort,");
    shown(&costs, "measure,value\n");
    shown(&eval.quality, "table,");
    // The notebook's chart cells: `chart()` is a `Chart`, drawn (no problem to show).
    let charts: [Chart; 6] = [
        rates.chart(),
        tv.chart(),
        matched.chart(),
        survival.chart(),
        monitor.chart(),
        costs.chart(),
    ];
    for c in &charts {
        assert_eq!(c.problem(), None);
        let svg = c.svg()?;
        assert!(svg.contains("role=\"img\"><title>"), "{}", &svg[..200]);
        let (w, h, boxes) = reoffending::charts::text_boxes(svg)?;
        assert!(boxes.iter().all(|b| b[0] >= 0.0
            && b[1] >= 0.0
            && b[0] + b[2] <= w + 0.5
            && b[1] + b[3] <= h + 0.5));
    }
    let dir = tempfile::tempdir().unwrap();
    // The notebook's last cell.
    rates.chart().save(dir.path().join("rates.png"))?;
    charts[0].save(dir.path().join("rates.svg"))?;
    assert_eq!(
        &std::fs::read(dir.path().join("rates.png")).unwrap()[1..4],
        b"PNG"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("rates.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    Ok(())
}

#[test]
fn the_committed_notebook_has_its_outputs_cleared_and_uses_the_prelude() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("notebooks/divert_evaluation.ipynb")).unwrap();
    let nb: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(nb["metadata"]["kernelspec"]["name"], "rust");
    let cells = nb["cells"].as_array().unwrap();
    for c in cells.iter().filter(|c| c["cell_type"] == "code") {
        assert_eq!(c["outputs"], serde_json::json!([]), "outputs are cleared");
        assert!(c["execution_count"].is_null());
    }
    let code: String = cells
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| c["source"].as_str().unwrap_or_default().to_string())
        .collect();
    // The library alone: the command line's crates (the `cli` feature) are left out.
    assert!(code.contains(":dep reoffending = { path = \"..\", default-features = false }"));
    assert!(code.contains("use reoffending::prelude::*;"));
    for call in [
        "rates.chart()",
        "tv.chart()",
        "matched.chart()",
        "survival.chart()",
        "monitor.chart()",
        "costs.chart()",
    ] {
        assert!(code.contains(call), "{call}");
    }
    // `chart()` is not a `Result`: `chart()?` would not compile in the kernel.
    assert!(!code.contains(".chart()?"));
}

/// The code cells of a committed notebook.
fn code_cells(name: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("notebooks").join(name)).unwrap();
    let nb: serde_json::Value = serde_json::from_str(&text).unwrap();
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| c["source"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `notebooks/chart_display_check.ipynb` (run by `scripts/check-notebook.sh`): an analyst's
/// cells that `.unwrap()` first and whose first `?` is in a chart cell. Its cells are the
/// code below, word for word, so that what the kernel runs compiles and draws here.
#[test]
fn the_chart_display_check_notebook_is_these_calls_and_they_draw() -> Result<()> {
    const CELLS: [&str; 6] = [
        ":dep reoffending = { path = \"..\", default-features = false }",
        "use reoffending::prelude::*;",
        "let config = Config::from_file(\"../data-samples/evaluation.toml\".as_ref()).unwrap();\n\
         let eval = Evaluation::load(&config.inputs().unwrap(), config.rules()).unwrap();\n\
         let rates = Rates::compute(&eval, &config.rate_options().unwrap()).unwrap();",
        "Rates::compute(&eval, &config.rate_options()?)?.chart()",
        "rates.chart()",
        "let chart = rates.chart();\nchart",
    ];
    assert_eq!(code_cells("chart_display_check.ipynb"), CELLS);
    // The same calls (paths from the crate's root instead of the notebook's folder).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::from_file(&root.join("data-samples/evaluation.toml")).unwrap();
    let eval = Evaluation::load(&config.inputs().unwrap(), config.rules()).unwrap();
    let rates = Rates::compute(&eval, &config.rate_options().unwrap()).unwrap();
    let first: Chart = Rates::compute(&eval, &config.rate_options()?)?.chart();
    let chart = rates.chart();
    assert_eq!(first, chart);
    assert!(chart.svg()?.starts_with("<svg") && chart.problem().is_none());
    Ok(())
}
