//! The report: deterministic, complete, and safe to publish.

use std::path::{Path, PathBuf};

use crate::common::files_under;
use assert_cmd::Command;
use serde_json::Value;

fn sample_config(dir: &Path, min_cell: u64) -> PathBuf {
    let text = crate::common::sample_evaluation_text()
        .replace("min_cell = 10", &format!("min_cell = {min_cell}"));
    let p = dir.join("evaluation.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn report(config: &Path, out: &Path) {
    Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(config)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn the_same_inputs_give_byte_identical_reports() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    report(&cfg, &a);
    report(&cfg, &b);
    let (fa, fb) = (files_under(&a), files_under(&b));
    assert_eq!(fa.len(), fb.len());
    assert!(fa.len() >= 15, "{fa:?}");
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{} differs",
            x.display()
        );
    }
}

#[test]
fn report_json_holds_every_analysis_and_every_chart_has_data() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let out = dir.path().join("r");
    report(&cfg, &out);
    let v: Value = crate::common::report_json(&out);
    for k in [
        "rates",
        "compare",
        "survival",
        "match",
        "costs",
        "power",
        "monitor",
        "data_quality",
        "provenance",
    ] {
        assert!(v.get(k).is_some_and(|x| !x.is_null()), "missing {k}");
    }
    assert_eq!(
        v["provenance"]["inputs"][0]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for chart in ["rates", "survival", "monitor", "balance", "tornado"] {
        assert!(
            out.join(format!("charts/{chart}.svg")).exists(),
            "{chart}.svg"
        );
        let csv = std::fs::read_to_string(out.join(format!("charts/{chart}.csv"))).unwrap();
        assert!(csv.lines().count() >= 2, "{chart}.csv has data");
        assert!(
            html.contains(&format!("charts/{chart}.csv")),
            "html links {chart} data"
        );
    }
    assert!(html.contains("<svg") && html.contains("<table>"));
    assert!(
        html.contains("not an estimate of the scheme"),
        "benchmark verdict is descriptive"
    );
    // Survival at the chosen days is published for groups large enough.
    let surv = std::fs::read_to_string(out.join("tables/survival.csv")).unwrap();
    for line in surv.lines().skip(1) {
        assert!(line.ends_with('%'), "{line}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## 12-month proven reoffending"));
    // The headline follows the design: the matched comparison first and the only finding
    // worded as an effect; the unadjusted comparison descriptive, naming where groups differ.
    let summary: Vec<&str> = md
        .split("## Summary")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("> "))
        .collect();
    // The sample's pilot is force-wide and its evaluation file has `[did]`: the
    // difference-in-differences leads, the matched comparison supports it.
    assert!(
        summary[0].starts_with("> Impact estimate (difference-in-differences against other areas)"),
        "{summary:?}"
    );
    assert!(
        summary[1].starts_with("> Supporting estimate (matched comparison of individuals"),
        "{summary:?}"
    );
    assert!(
        summary[2].starts_with("> Unadjusted, descriptive comparison"),
        "{summary:?}"
    );
    assert!(
        summary[2].contains("Before matching the groups differ in")
            && summary[2].contains("sex=M (SMD")
    );
    assert!(summary[3].starts_with("> Descriptive comparison with an external benchmark"));
    // Each comparison force's placebo estimate rests on its totals before and after the
    // launch (hundreds of people), so all 23 are published although the force x quarter
    // cells are withheld.
    let did = &v["did"];
    assert!(
        did["cells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["people"] == "[c]")
    );
    let placebos = did["placebo_in_space"]["estimates"].as_array().unwrap();
    assert_eq!(placebos.len(), 23);
    assert!(
        placebos.iter().all(|p| p["estimate"].is_f64()),
        "{placebos:?}"
    );
    for line in &summary[2..] {
        assert!(
            !line.contains("less likely") && !line.contains("more likely"),
            "{line}"
        );
    }
    // The survival chart is drawn only at steps carrying at least min_cell (10) events and
    // people at risk (checked in tests/it/disclosure.rs); its CSV holds those points, day and
    // survival only.
    let mut chart = csv::Reader::from_path(out.join("charts/survival.csv")).unwrap();
    assert_eq!(
        chart.headers().unwrap().iter().collect::<Vec<_>>(),
        ["group", "day", "survival"]
    );
    let mut points = 0;
    for r in chart.records() {
        let r = r.unwrap();
        // Day and survival only: the counts stay with the gate (issue 29).
        let s: f64 = r[2].parse().unwrap();
        assert!(
            (0.0..=1.0).contains(&s) && r[1].parse::<f64>().unwrap() > 0.0,
            "{r:?}"
        );
        points += 1;
    }
    assert!(points >= 20);
    // How robust is this: E-values, Rosenbaum bounds and the placebo, in JSON and HTML.
    assert!(v["compare"]["e_value"]["estimate"].is_number());
    assert!(v["match"]["comparison"]["e_value"]["interval_limit"].is_number());
    assert_eq!(
        v["match"]["rosenbaum"]["gammas"].as_array().unwrap().len(),
        21
    );
    assert!(v["match"]["placebo"]["risk_difference"].is_number());
    assert!(html.contains("How robust is this?"));
    assert!(md.contains("## How robust is this?"));
    let rosen = std::fs::read_to_string(out.join("tables/robustness_rosenbaum.csv")).unwrap();
    assert_eq!(rosen.lines().count(), 22, "a header and Gamma 1.0 to 3.0");
}

#[test]
fn disclosure_control_suppresses_small_counts_and_keeps_row_numbers_in() {
    let dir = tempfile::tempdir().unwrap();
    // A threshold above every group's size: every rate must be suppressed.
    let cfg = sample_config(dir.path(), 100_000);
    let out = dir.path().join("r");
    report(&cfg, &out);
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    for g in v["rates"]["groups"].as_array().unwrap() {
        if g["eligible"] == 0 {
            assert!(g["rate"].is_null(), "no one in the measure: not available");
        } else {
            assert_eq!(g["rate"], "[c]", "{g}");
            assert_eq!(g["reoffenders"], "[c]");
        }
    }
    for key in ["compare", "compare_benchmark"] {
        let c = &v[key];
        assert_eq!(c["risk_difference"], "[c]", "{key}");
        assert!(c["summary"].as_str().unwrap().starts_with("Not published"));
    }
    // Everything resting on suppressed counts goes with them: the matched headline
    // sentences, the Cox model, the cost-benefit figures.
    for k in ["rate_per_100", "frequency_per_100", "days_to_first"] {
        assert!(
            v["match"]["headline"][k]
                .as_str()
                .unwrap()
                .starts_with("Not published"),
            "{k}"
        );
    }
    assert_eq!(v["survival"]["cox"], "[c]");
    assert_eq!(v["costs"]["net_savings"], "[c]");
    assert!(
        v["costs"]["headline"]
            .as_str()
            .unwrap()
            .starts_with("Not published")
    );
    assert!(!out.join("charts/tornado.svg").exists());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        !md.contains("For every 100 people"),
        "no per-100 sentence from suppressed counts"
    );
    // The robustness checks are counts of people too.
    assert_eq!(v["compare"]["e_value"], "[c]");
    assert_eq!(v["match"]["rosenbaum"], "[c]");
    assert_eq!(v["match"]["placebo"]["risk_difference"], "[c]");
    assert!(!out.join("tables/robustness_rosenbaum.csv").exists());
    assert!(
        !text.contains("first_rows"),
        "row numbers stay in the secure environment"
    );
    for f in files_under(&out) {
        // The PNGs are drawn from the SVGs and the workbook from the CSV tables, both checked.
        if matches!(f.extension().and_then(|e| e.to_str()), Some("png" | "xlsx")) {
            continue;
        }
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(
            !t.contains("P000"),
            "a person identifier leaked into {}",
            f.display()
        );
    }
    let csv = std::fs::read_to_string(out.join("tables/rates.csv")).unwrap();
    assert!(csv.contains("[c]"));
}

/// Runs the binary with a given number of threads; returns its standard output.
fn with_threads(threads: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::cargo_bin("reoffending")
        .unwrap()
        .env("RAYON_NUM_THREADS", threads)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn report_generate_and_costs_are_byte_identical_at_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    for (threads, out) in [("1", &a), ("2", &b)] {
        with_threads(
            threads,
            &[
                "report".as_ref(),
                cfg.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
        );
    }
    let (fa, fb) = (files_under(&a), files_under(&b));
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{} differs",
            x.display()
        );
    }
    // The Monte Carlo of the cost-benefit, as JSON.
    let costs: Vec<Vec<u8>> = ["1", "2"]
        .iter()
        .map(|t| {
            with_threads(
                t,
                &[
                    "costs".as_ref(),
                    "--config".as_ref(),
                    cfg.as_os_str(),
                    "--format".as_ref(),
                    "json".as_ref(),
                ],
            )
        })
        .collect();
    assert_eq!(costs[0], costs[1]);
    assert!(String::from_utf8_lossy(&costs[0]).contains("net_savings_ci_low"));
    // Synthetic data, both formats.
    for format in ["csv", "parquet"] {
        let outs: Vec<PathBuf> = ["1", "2"]
            .iter()
            .map(|t| {
                let o = dir.path().join(format!("g{t}{format}"));
                with_threads(
                    t,
                    &[
                        "generate".as_ref(),
                        "--persons".as_ref(),
                        "5000".as_ref(),
                        "--seed".as_ref(),
                        "7".as_ref(),
                        "--format".as_ref(),
                        format.as_ref(),
                        "--out".as_ref(),
                        o.as_os_str(),
                    ],
                );
                o
            })
            .collect();
        let (ga, gb) = (files_under(&outs[0]), files_under(&outs[1]));
        assert_eq!(ga.len(), 2);
        for (x, y) in ga.iter().zip(&gb) {
            assert_eq!(
                std::fs::read(x).unwrap(),
                std::fs::read(y).unwrap(),
                "{} differs",
                x.display()
            );
        }
    }
}

#[test]
fn each_command_with_config_agrees_with_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    // Disclosure control off, so the report holds the analyses exactly as computed.
    // A configured confidence level reaches every comparison, from the report and the commands.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[report]", "[report]\ndisclosure_control_off = true")
        .replace("[compare]", "[compare]\nconfidence = 0.9");
    std::fs::write(&cfg, text).unwrap();
    let out = dir.path().join("r");
    report(&cfg, &out);
    let v: Value = crate::common::report_json(&out);
    let strip = |mut x: Value| {
        if let Value::Object(m) = &mut x {
            m.remove("parameters");
            m.remove("input");
            // Day-level Kaplan-Meier tables: the command prints them, the report publishes
            // the chart's steps instead.
            if let Some(Value::Array(groups)) = m.get_mut("groups") {
                for g in groups {
                    if let Value::Object(g) = g {
                        g.remove("table");
                        g.remove("steps");
                    }
                }
            }
        }
        x
    };
    for (command, key) in [
        ("compare", "compare"),
        ("match", "match"),
        ("survival", "survival"),
    ] {
        let got = Command::cargo_bin("reoffending")
            .unwrap()
            .args([command, "--config"])
            .arg(&cfg)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            got.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        let got: Value = serde_json::from_slice(&got.stdout).unwrap();
        assert_eq!(
            strip(got),
            strip(v[key].clone()),
            "{command} --config differs from the report's {key}"
        );
    }
    assert_eq!(v["compare"]["confidence"], 0.9);
    assert_eq!(v["match"]["comparison"]["confidence"], 0.9);
    // The file's [survival] covariates give a Cox model, and [match] needs no flags.
    assert!(
        v["survival"]["cox"]["coefficients"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );
    assert!(v["match"]["balance"].as_array().unwrap().len() >= 5);
}

/// Labels as hostile as an extract can hold them.
const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "=HYPERLINK(\"http://x\",\"y\")",
    "+cmd|' /C calc'!A0",
    "a|b & \"c\" 😀",
    "@SUM(1+1)\u{1b}[31m",
];

#[test]
fn hostile_labels_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let long = "L".repeat(1000);
    let mut cohort = String::from("person_id,cohort,index_date,area,sex\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    let csv_field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for i in 0..600 {
        let area = if i % 7 == 0 {
            long.as_str()
        } else {
            HOSTILE[i % HOSTILE.len()]
        };
        let label = if i % 3 == 0 { "divert" } else { "comparison" };
        cohort.push_str(&format!(
            "P{i:04},{label},2021-0{}-1{},{},{}\n",
            1 + i % 9,
            i % 10,
            csv_field(area),
            csv_field(HOSTILE[(i + 1) % HOSTILE.len()])
        ));
        if i % 4 == 0 {
            offences.push_str(&format!("P{i:04},2021-11-01,2021-12-01\n"));
        }
    }
    std::fs::write(dir.path().join("cohort.csv"), cohort).unwrap();
    std::fs::write(dir.path().join("offences.csv"), offences).unwrap();
    let cfg = dir.path().join("e.toml");
    std::fs::write(
        &cfg,
        r#"[data]
cohort = "cohort.csv"
offences = "offences.csv"
extract_date = "2023-06-30"

[rates]
by = ["area", "sex"]

[compare]
treatment = "divert"
control = "comparison"
baseline_rate = 0.2
baseline_name = "<script>alert('b')</script> =1+1"

[report]
title = "<img src=x onerror=alert(3)> | =cmd"
min_cell = 3
"#,
    )
    .unwrap();
    let out = dir.path().join("r");
    report(&cfg, &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for raw in ["<script>", "<img", "onerror=alert(3)>"] {
        assert!(!html.contains(raw), "raw markup {raw} in report.html");
    }
    assert!(
        html.contains("&lt;script&gt;") || html.contains("&lt;img"),
        "labels shown, escaped"
    );
    // Every CSV cell: no live formula (a cell starting =, +, -, @ that is not a number).
    for f in files_under(&out) {
        if f.extension().and_then(|e| e.to_str()) != Some("csv") {
            continue;
        }
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&f)
            .unwrap();
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                let live = cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
                    && cell.parse::<f64>().is_err();
                assert!(!live, "{}: live formula {cell:?}", f.display());
            }
        }
    }
    // Markdown: every table row has as many unescaped pipes as its header.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("<script>") && !md.contains("<img"));
    let pipes = |l: &str| l.replace("\\|", "").matches('|').count();
    let mut header = None;
    for l in md.lines() {
        if l.starts_with('|') {
            let n = pipes(l);
            let h = *header.get_or_insert(n);
            assert_eq!(n, h, "broken Markdown row: {l}");
        } else {
            header = None;
        }
    }
    // The terminal shows no escape sequence.
    let (c, o) = (
        dir.path().join("cohort.csv"),
        dir.path().join("offences.csv"),
    );
    let got = Command::cargo_bin("reoffending")
        .unwrap()
        .args([
            "rates",
            "--by",
            "sex",
            "--extract-date",
            "2023-06-30",
            "--cohort",
        ])
        .arg(&c)
        .arg("--offences")
        .arg(&o)
        .output()
        .unwrap();
    assert!(got.status.success());
    assert!(
        !got.stdout.contains(&0x1b),
        "escape sequence reached the terminal"
    );
    let csv_out = Command::cargo_bin("reoffending")
        .unwrap()
        .args([
            "rates",
            "--by",
            "sex",
            "--format",
            "csv",
            "--extract-date",
            "2023-06-30",
            "--cohort",
        ])
        .arg(&c)
        .arg("--offences")
        .arg(&o)
        .output()
        .unwrap();
    let text = String::from_utf8(csv_out.stdout).unwrap();
    assert!(
        text.contains("'=HYPERLINK") && !text.contains(",=HYPERLINK"),
        "{text}"
    );
}

#[test]
fn min_cell_below_three_is_refused_unless_disclosure_control_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 1);
    let out = dir.path().join("r");
    let got = Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(got.status.code(), Some(2));
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(
        err.contains("[report] min_cell = 1") && err.contains("below 3"),
        "{err}"
    );
    // Off: written, and every file says so on its first line (JSON: its first key).
    Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .args(["--disclosure-control", "off", "--out"])
        .arg(&out)
        .assert()
        .success();
    for f in files_under(&out) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".xlsx") {
            continue;
        }
        if name.ends_with(".png") {
            // A PNG has no first line: its SVG carries the stamp visibly (checked below).
            let svg = std::fs::read_to_string(f.with_extension("svg")).unwrap();
            assert!(
                svg.contains(">NOT FOR PUBLICATION: disclosure control off</text>"),
                "{name}"
            );
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap_or("");
        if name.ends_with(".json") {
            assert!(
                text.lines().nth(1).unwrap().contains("NOT FOR PUBLICATION"),
                "{name}"
            );
        } else {
            assert!(
                first.contains("NOT FOR PUBLICATION: disclosure control off"),
                "{name}: {first}"
            );
        }
    }
}

#[test]
fn a_rerun_replaces_its_own_files_and_refuses_a_folder_of_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let out = dir.path().join("r");
    report(&cfg, &out);
    // A stale chart from an earlier run (listed in the manifest) is removed on the rerun.
    std::fs::write(out.join("charts/old.svg"), "<svg/>").unwrap();
    let manifest = out.join(".reoffending-files");
    let mut m = std::fs::read_to_string(&manifest).unwrap();
    m.push_str("charts/old.svg\n");
    std::fs::write(&manifest, m).unwrap();
    std::fs::write(out.join("README.md"), "kept").unwrap();
    report(&cfg, &out);
    assert!(!out.join("charts/old.svg").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "kept"
    );
    // A file the tool did not write: refused, nothing removed.
    std::fs::write(out.join("tables/mine.xlsx"), "x").unwrap();
    let got = Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(got.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&got.stderr).contains("tables/mine.xlsx"));
    assert!(out.join("report.html").exists());
    // Provenance names inputs relative to the evaluation file, never absolute paths.
    let v: Value = crate::common::report_json(&out);
    for f in v["provenance"]["inputs"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        assert!(!p.starts_with('/') && !p.contains(":\\"), "{p}");
    }
}

#[test]
fn a_failing_analysis_leaves_the_rest_of_the_report_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = crate::common::sample_dir();
    // A constant covariate: the propensity model cannot be fitted.
    let cohort: String = std::fs::read_to_string(root.join("cohort.csv"))
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l},constant,income\n"),
            // One extreme value: a data problem only the matching meets.
            i if i % 500 == 7 => format!("{l},1,1e30\n"),
            _ => format!("{l},1,{}\n", 20000 + i * 7),
        })
        .collect();
    std::fs::write(dir.path().join("cohort.csv"), cohort).unwrap();
    for f in ["offences.csv", "unit_costs.csv", "gdp_deflator.csv"] {
        std::fs::copy(root.join(f), dir.path().join(f)).unwrap();
    }
    let text = std::fs::read_to_string(root.join("evaluation.toml")).unwrap().replace(
        r#"covariates = ["sex", "age_at_index", "prior_offences", "ethnicity", "index_offence"]"#,
        r#"covariates = ["sex", "constant"]"#,
    );
    let cfg = dir.path().join("evaluation.toml");
    std::fs::write(&cfg, text).unwrap();
    let out = dir.path().join("r");
    let run = |strict: bool| {
        let mut c = Command::cargo_bin("reoffending").unwrap();
        c.arg("report").arg(&cfg).arg("--out").arg(&out);
        if strict {
            c.arg("--strict");
        }
        c.output().unwrap()
    };
    let got = run(false);
    assert_eq!(got.status.code(), Some(0));
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(
        err.contains("warning: Matched comparison") && err.contains("`constant`"),
        "{err}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Not available: logistic regression: `constant` is the same for everyone"));
    for section in [
        "## Summary",
        "## Time to first proven reoffence",
        "## Monitoring",
        "## Costs and value",
    ] {
        assert!(md.contains(section), "{section} still written");
    }
    let v: Value = crate::common::report_json(&out);
    assert_eq!(v["not_available"][0]["section"], "match");
    assert!(v["match"].is_null());
    assert_eq!(run(true).status.code(), Some(3), "--strict");
    // An extreme covariate value: named with its row, and the rest of the report written.
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        r#"covariates = ["sex", "constant"]"#,
        r#"covariates = ["sex", "income"]"#,
    );
    std::fs::write(&cfg, text).unwrap();
    let got = run(false);
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(
            "Not available: cohort table: covariate `income` has the value 1000000000000000000000000000000 (cohort row"
        ),
        "{md}"
    );
    assert!(md.contains("## Time to first proven reoffence"));
}

#[test]
fn the_page_reads_on_a_phone_lists_its_contents_and_speaks_no_developer_words() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let out = dir.path().join("r");
    let run = Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    // The command ends with the finding and where to open it.
    let stdout = String::from_utf8(run.stdout).unwrap();
    let tail: Vec<&str> = stdout.trim_end().lines().rev().take(3).collect();
    assert_eq!(
        tail[0],
        format!("Open {}", out.join("report.html").display())
    );
    assert!(
        tail[2].starts_with(
            "After launch, the 12-month proven reoffending rate in West Midlands moved"
        ),
        "{tail:?}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(html.contains("figure svg { max-width: 100%; height: auto; }"));
    assert!(html.contains(r#"<a href="report.xlsx">"#));
    for png in ["did_trends", "rates", "survival", "monitor"] {
        assert!(
            html.contains(&format!(r#"<a href="charts/{png}.png">"#)),
            "{png}"
        );
        assert!(out.join(format!("charts/{png}.png")).exists());
    }
    // No sign parted from its amount at a line end.
    assert!(!html.contains("-£") && !html.contains("+£"));
    // No command names, options, source paths or the project's own documents in the text a
    // reader sees.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for text in [&md, &html] {
        for word in [
            "`reoffending",
            "reoffending survival",
            "reoffending match",
            " --",
            "docs/",
            "src/",
            "under rate_at",
            ".toml",
        ] {
            assert!(
                !text.contains(word),
                "developer words in the report: {word}"
            );
        }
    }
}

#[test]
fn an_inferred_extract_date_is_said_first_on_the_page_and_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("extract_date = \"2023-03-31\"", "")).unwrap();
    let out = dir.path().join("r");
    let run = Command::cargo_bin("reoffending")
        .unwrap()
        .arg("report")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(
        err.contains(
            "warning: no extract date given: the report takes 2023-03-31 (latest disposal date)"
        ),
        "{err}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let summary = md.split("## Summary").nth(1).unwrap();
    let first = summary.lines().find(|l| l.starts_with("> ")).unwrap();
    assert!(
        first.starts_with(
            "> Caution: the extract date was not given, so these figures take 2023-03-31"
        ),
        "{first}"
    );
}

/// The survival chart never contradicts its title: a line runs on to the end of follow-up
/// only where the published figure there is its last level; where later steps are withheld it
/// stops at its last published step and a sentence says where and why.
#[test]
fn a_survival_line_stops_where_its_published_steps_stop_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut said = Vec::new();
    for k in [10u64, 30] {
        let cfg = sample_config(dir.path(), k);
        let out = dir.path().join(format!("out{k}"));
        report(&cfg, &out);
        let j: Value = crate::common::report_json(&out);
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        for g in j["survival"]["groups"].as_array().unwrap() {
            let label = g["cohort"].as_str().unwrap();
            let steps = g["steps"].as_array().unwrap();
            let Some(last) = steps.last() else { continue };
            let at_end = g["survival_at"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["time"].as_f64() == Some(365.0))
                .and_then(|a| a["survival"].as_f64());
            let runs_on =
                at_end.is_some_and(|s| (s - last["survival"].as_f64().unwrap()).abs() < 1e-9);
            let sentence = format!(
                "The {label} line stops at day {:.0}",
                last["day"].as_f64().unwrap()
            );
            assert_eq!(
                html.contains(&sentence),
                !runs_on && last["day"].as_f64().unwrap() < 365.0,
                "k={k} {label}: {sentence}"
            );
            said.push(html.contains(&sentence));
        }
    }
    // Both cases occur: at min_cell 10 the lines run on, at 30 at least one stops.
    assert!(said.iter().any(|s| *s) && said.iter().any(|s| !*s));
}

/// The bottom line comes first: one plain sentence from the design that leads, the rates with
/// one named interval method, every estimate labelled by what it is, what the figures cover
/// (the 12-month measure's window, the extract date and whether it was given, the benchmark
/// framed both ways with its source, the value with its basis, producer, contact, date), and
/// one paragraph that reconciles the descriptive figures with the impact estimate; the
/// descriptive sections say so in their titles.
#[test]
fn the_bottom_line_comes_first_and_reconciles_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let out = dir.path().join("out");
    report(&cfg, &out);
    for file in ["report.html", "report.md"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{file}: {s}"));
        // First section, before the summary.
        let summary = if file.ends_with("html") {
            "<h2>Summary</h2>"
        } else {
            "## Summary"
        };
        assert!(at("The bottom line") < at(summary));
        for s in [
            "After launch, the 12-month proven reoffending rate in West Midlands moved 9.7 percentage points lower",
            "not yet evidence that the scheme changed proven reoffending, nor that it did not",
            "Impact estimate: difference-in-differences against other areas",
            "Supporting: matched comparison of individuals",
            "Descriptive: unadjusted difference between the groups",
            "Wilson score intervals",
            "on or before 30 September 2021",
            "2023-03-31 (given in the evaluation file)",
            "80.0% did not reoffend",
            "Source: West Midlands PCC DIVERT announcement",
            "The value rests on the matched comparison of individuals",
            "evaluation@example.org",
            "7 December 2026",
            "Why the figures differ.",
            "The Cox model adjusts for sex, age at index and prior offences only.",
            "Kaplan-Meier figure at day 365 differ slightly",
            "12-month proven reoffending (descriptive)",
            "Time to first proven reoffence (descriptive)",
            "Log-rank test between cohorts (descriptive",
        ] {
            at(s);
        }
        // The box comes before any other section's finding.
        assert!(at("Why the figures differ.") < at(summary));
    }
    // Its tables reach the spreadsheet's list of tables and the CSV folder.
    for t in [
        "bottom_line_rates",
        "bottom_line_estimates",
        "bottom_line_about",
    ] {
        assert!(out.join(format!("tables/{t}.csv")).exists(), "{t}");
    }
    // Every chart says where its data come from.
    let mut charts = 0;
    for e in std::fs::read_dir(out.join("charts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            let svg = std::fs::read_to_string(&p).unwrap();
            assert!(
                svg.contains("Source: police records extracted 2023-03-31"),
                "{p:?}"
            );
            charts += 1;
        }
    }
    assert!(charts >= 8, "{charts}");
    // The monitoring chart draws the projections it publishes, hollow and named, and says why
    // a quarter has no marker.
    let monitor = std::fs::read_to_string(out.join("charts/monitor.csv")).unwrap();
    assert!(monitor.lines().next().unwrap().contains("projected_12m"));
    let svg = std::fs::read_to_string(out.join("charts/monitor.svg")).unwrap();
    // (The sample's young divert quarters' projections are withheld by the gate: each
    // starts from a rate at equal follow-up resting on too few reoffences.)
    assert!(svg.contains("comparison, projected"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Hollow markers are projections, not observed rates"));
}

/// The workbook per the Analysis Function's guidance, read back with calamine: every number a
/// number (no cell of text that reads as one), unique table titles, tables named for what they
/// hold, frozen header rows, and a cover with the period, extract date, producer, contact and
/// date of publication.
#[test]
fn the_workbook_stores_numbers_as_numbers_and_its_cover_says_what_it_covers() {
    use calamine::{Data, Reader};
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let out = dir.path().join("out");
    report(&cfg, &out);
    let path = out.join("report.xlsx");
    let mut book = calamine::open_workbook_auto(&path).unwrap();
    let cover: Vec<String> = book
        .worksheet_range("Cover")
        .unwrap()
        .rows()
        .filter_map(|r| r.first().map(|c| c.to_string()))
        .collect();
    for s in [
        "The 12-month measure: People whose index date is on or before 30 September 2021",
        "Extract date: 2023-03-31 (given in the evaluation file)",
        "Produced by: Evaluation team",
        "Contact: evaluation@example.org",
        "Date of publication: 7 December 2026",
        "Source and provenance:",
    ] {
        assert!(cover.iter().any(|c| c.starts_with(s)), "cover: {s}");
    }
    let contents = book.worksheet_range("Contents").unwrap();
    let titles: Vec<String> = contents.rows().skip(3).map(|r| r[1].to_string()).collect();
    let mut unique = titles.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), titles.len(), "{titles:?}");
    let looks_numeric = |s: &str| {
        // "+1.5", "£1,200", "15.6%", "<0.0001" are numbers; an age band such as "50+" is not.
        let t: String = s
            .trim_start_matches(['+', '<'])
            .chars()
            .filter(|c| !"%£,".contains(*c))
            .collect();
        !t.is_empty() && t.parse::<f64>().is_ok()
    };
    let sheets = book.sheet_names();
    let mut numbers = 0;
    for name in sheets.iter().skip(3) {
        let range = book.worksheet_range(name).unwrap();
        for (i, row) in range.rows().enumerate().skip(3) {
            for c in row {
                match c {
                    Data::String(s) => {
                        assert!(!looks_numeric(s), "{name} row {i}: {s:?} stored as text")
                    }
                    Data::Float(_) | Data::Int(_) => numbers += 1,
                    _ => {}
                }
            }
        }
    }
    assert!(numbers > 500, "{numbers}");
    // Table names say what the table holds; the header rows are frozen (pane in sheet XML).
    let file = std::fs::File::open(&path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut names = Vec::new();
    let mut frozen = 0;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut f, &mut xml).unwrap();
        if f.name().starts_with("xl/tables/") {
            let name = xml
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            names.push(name.to_string());
        }
        if f.name().starts_with("xl/worksheets/sheet") && xml.contains("state=\"frozen\"") {
            frozen += 1;
        }
    }
    assert!(names.contains(&"rates_table".to_string()), "{names:?}");
    assert!(names.iter().all(|n| n.ends_with("_table")), "{names:?}");
    assert_eq!(frozen, names.len());
}

/// `REOFFENDING_TRACE=1` names every phase of `report` with its time, from loading to the
/// last file written, so that a user can see where a long run goes; without it nothing is
/// traced.
#[test]
fn report_trace_names_every_phase() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let run = |trace: &str| {
        let out = Command::cargo_bin("reoffending")
            .unwrap()
            .env("REOFFENDING_TRACE", trace)
            .arg("report")
            .arg(&cfg)
            .arg("--out")
            .arg(dir.path().join(format!("out{trace}")))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let stderr = run("1");
    let phases: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("[trace] "))
        .collect();
    for phase in [
        "read cohort",
        "read and link offences",
        "group offences",
        "outcomes",
        "rates",
        "compare: comparison group",
        "compare: benchmark",
        "match: design",
        "match: propensity model",
        "match: nearest neighbours",
        "match: balance",
        "match: comparisons",
        "match: robustness (Rosenbaum)",
        "match: period check",
        "match",
        "match and effect: design and propensity model",
        "effect: adjusted designs",
        "effect",
        "survival: Kaplan-Meier",
        "survival: log-rank",
        "survival: Cox",
        "survival",
        "monitor",
        "costs: offence mix",
        "costs: Monte Carlo",
        "costs",
        "did: people to area x period cells",
        "did",
        "report: disclosure gate",
        "chart (SVG): rates",
        "chart (SVG): cumulative",
        "report: sections and charts (SVG)",
        "report: JSON",
        "report: charts PNG (9)",
        "report: HTML",
        "report: xlsx",
        "report: Markdown",
    ] {
        // Each line: the phase's name, then its time in seconds.
        let found = phases.iter().any(|l| {
            l.trim_start()
                .strip_prefix(phase)
                .and_then(|rest| rest.trim().strip_suffix(" s"))
                .is_some_and(|secs| secs.trim().parse::<f64>().is_ok())
        });
        assert!(found, "no trace of `{phase}` in:\n{stderr}");
    }
    assert!(!run("0").contains("[trace]"));
}

/// The evaluation file's producer, contact and date are the user's text: markup, formulas,
/// pipes, control characters and direction overrides never reach a page, a chart or the
/// workbook as anything but inert text.
#[test]
fn a_hostile_producer_contact_and_date_stay_inert_text() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = sample_config(dir.path(), 10);
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "producer = \"Evaluation team, Office of the Police and Crime Commissioner (synthetic example)\"",
        "producer = \"<script>alert(1)</script> | =HYPERLINK(\\\"x\\\") \\u202E\\u0007team\"",
    );
    assert!(text.contains("<script>"));
    std::fs::write(&cfg, text).unwrap();
    let out = dir.path().join("out");
    report(&cfg, &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let svg = std::fs::read_to_string(out.join("charts/rates.svg")).unwrap();
    for (name, s) in [("html", &html), ("md", &md), ("svg", &svg)] {
        assert!(!s.contains("<script>"), "{name}");
        assert!(!s.contains('\u{202e}') && !s.contains('\u{7}'), "{name}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(svg.contains("&lt;script&gt;"));
    // The markdown table row keeps its columns: the pipe is escaped.
    let row = md.lines().find(|l| l.starts_with("| Produced by")).unwrap();
    assert_eq!(row.matches(" | ").count(), 1, "{row}");
}
