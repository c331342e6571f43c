//! Every option of the command line at least once, with its effect checked; exit code 1
//! for methods that cannot be applied; evaluation-file errors that name the TOML key.

use crate::common;

use common::*;
use reoffending::stats::{DiffMethod, TwoByTwo};
use serde_json::Value;

fn sample(name: &str) -> String {
    format!("{}/data-samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json(args: &[&str]) -> Value {
    let cfg = sample("evaluation.toml");
    let mut all = args.to_vec();
    all.extend(["--config", cfg.as_str(), "--format", "json"]);
    run_json(&all)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn confidence_and_rd_ci_change_the_interval_as_statsmodels_would() {
    let base = json(&["compare", "--control", "comparison"]);
    let table = TwoByTwo {
        x1: base["treatment_reoffenders"].as_u64().unwrap(),
        n1: base["treatment_n"].as_u64().unwrap(),
        x2: base["control_reoffenders"].as_u64().unwrap(),
        n2: base["control_n"].as_u64().unwrap(),
    };
    for (conf, method, flag) in [
        (0.90, DiffMethod::Newcombe, "newcombe"),
        (0.99, DiffMethod::Wald, "wald"),
    ] {
        let c = conf.to_string();
        let v = json(&[
            "compare",
            "--control",
            "comparison",
            "--confidence",
            &c,
            "--rd-ci",
            flag,
        ]);
        let want = table.compare(conf, method).unwrap();
        assert_eq!(v["confidence"], conf);
        assert_eq!(v["rd_ci_method"], flag);
        assert!((f(&v["rd_ci_low"]) - want.risk_difference.limits().0).abs() < 1e-12);
        assert!((f(&v["rd_ci_high"]) - want.risk_difference.limits().1).abs() < 1e-12);
        // A 90% interval is inside the 95% one; a 99% Wald interval is wider.
        let width = f(&v["rd_ci_high"]) - f(&v["rd_ci_low"]);
        let base_width = f(&base["rd_ci_high"]) - f(&base["rd_ci_low"]);
        assert_eq!(width < base_width, conf < 0.95, "{conf}");
    }
    // Wald by hand: p1 - p2 -/+ z sqrt(p1 q1 / n1 + p2 q2 / n2), z(0.995) = 2.5758293035489.
    let v = json(&[
        "compare",
        "--control",
        "comparison",
        "--confidence",
        "0.99",
        "--rd-ci",
        "wald",
    ]);
    let (p1, p2) = (f(&v["treatment_rate"]), f(&v["control_rate"]));
    let (n1, n2) = (table.n1 as f64, table.n2 as f64);
    let se = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
    assert!((f(&v["rd_ci_low"]) - (p1 - p2 - 2.5758293035489 * se)).abs() < 1e-9);
}

#[test]
fn adjust_changes_subgroup_p_values_as_holm_and_bh_do() {
    let holm = json(&[
        "compare",
        "--control",
        "comparison",
        "--by",
        "sex,age_group",
    ]);
    let bh = json(&[
        "compare",
        "--control",
        "comparison",
        "--by",
        "sex,age_group",
        "--adjust",
        "bh",
    ]);
    assert_eq!(holm["subgroup_adjustment"], "holm");
    assert_eq!(bh["subgroup_adjustment"], "benjamini_hochberg");
    let (hs, bs) = (
        holm["subgroups"].as_array().unwrap(),
        bh["subgroups"].as_array().unwrap(),
    );
    assert!(hs.len() >= 3);
    assert_eq!(hs.len(), bs.len());
    // Recompute both adjustments from the raw p-values by their definitions.
    let raw: Vec<f64> = hs.iter().map(|s| f(&s["p_value"])).collect();
    let m = raw.len() as f64;
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| raw[a].total_cmp(&raw[b]));
    let mut holm_want = vec![0.0; raw.len()];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k as f64) * raw[i]).min(1.0));
        holm_want[i] = running;
    }
    let mut bh_want = vec![0.0; raw.len()];
    let mut running: f64 = 1.0;
    for (k, &i) in order.iter().enumerate().rev() {
        running = running.min((raw[i] * m / (k as f64 + 1.0)).min(1.0));
        bh_want[i] = running;
    }
    for i in 0..raw.len() {
        assert!(
            (f(&hs[i]["p_adjusted"]) - holm_want[i]).abs() < 1e-12,
            "holm {i}"
        );
        assert!(
            (f(&bs[i]["p_adjusted"]) - bh_want[i]).abs() < 1e-12,
            "bh {i}"
        );
    }
}

#[test]
fn ties_and_km_ci_change_the_survival_analysis() {
    let cov = ["--covariates", "sex,age_at_index"];
    let efron = json(&["survival", cov[0], cov[1]]);
    let breslow = json(&["survival", cov[0], cov[1], "--ties", "breslow"]);
    assert_eq!(efron["cox"]["ties"], "efron");
    assert_eq!(breslow["cox"]["ties"], "breslow");
    let (a, b) = (
        f(&efron["cox"]["coefficients"][0]["coef"]),
        f(&breslow["cox"]["coefficients"][0]["coef"]),
    );
    assert!(
        (a - b).abs() > 1e-6,
        "heavy ties: Breslow differs from Efron"
    );
    assert!((a - b).abs() < 0.05 * a.abs().max(0.01));
    let plain = json(&["survival", "--km-ci", "plain", "--confidence", "0.9"]);
    let loglog = json(&["survival", "--confidence", "0.9"]);
    let (p, l) = (&plain["groups"][0]["table"], &loglog["groups"][0]["table"]);
    let k = p.as_array().unwrap().len() / 2;
    // Same curve, different interval: plain is S -/+ z se, symmetric around S.
    assert_eq!(p[k]["survival"], l[k]["survival"]);
    let s = f(&p[k]["survival"]);
    assert!(((s - f(&p[k]["ci_low"])) - (f(&p[k]["ci_high"]) - s)).abs() < 1e-12);
    assert!((f(&l[k]["ci_low"]) - f(&p[k]["ci_low"])).abs() > 1e-9);
}

#[test]
fn validate_costs_csv_and_output_file() {
    let cfg = sample("evaluation.toml");
    let (code, out, err) = run(&["validate", "--config", &cfg]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("rows read") && out.contains("excluded: person_not_in_cohort"),
        "{out}"
    );
    let v = json(&["validate"]);
    let q = &v["input"];
    let excluded: u64 = q["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["table"] == "offences")
        .map(|e| e["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(
        q["rows_read"]["offences"].as_u64().unwrap(),
        q["rows_used"]["offences"].as_u64().unwrap() + excluded
    );
    // Costs: net = gross - cost, and the interval brackets the point estimate.
    let c = json(&["costs"]);
    assert!(
        (f(&c["net_savings"]) - (f(&c["gross_savings"]) - f(&c["programme_cost"]))).abs() < 1e-6
    );
    assert!(f(&c["net_savings_ci_low"]) < f(&c["net_savings"]));
    assert!(f(&c["net_savings"]) < f(&c["net_savings_ci_high"]));
    // CSV: the rates table (its headers), one row per group, the same numbers as the JSON.
    let (code, csv, _) = run(&["rates", "--config", &cfg, "--format", "csv"]);
    assert_eq!(code, 0);
    let rates = json(&["rates"]);
    let groups = rates["groups"].as_array().unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), groups.len());
    for (r, g) in records.iter().zip(groups) {
        assert_eq!(r[col("people in measure")], g["eligible"].to_string());
        assert_eq!(r[col("reoffenders")], g["reoffenders"].to_string());
    }
    // --output writes the file and nothing to standard output.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rates.json");
    let (code, out, _) = run(&[
        "rates",
        "--config",
        &cfg,
        "--format",
        "json",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.is_empty());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["groups"], rates["groups"]);
}

#[test]
fn methods_that_cannot_be_applied_exit_with_1() {
    // Matching on a covariate that separates the groups perfectly.
    let mut cohort = String::from("person_id,cohort,index_date,flag\n");
    for i in 0..80 {
        let (label, flag) = if i % 2 == 0 {
            ("divert", "yes")
        } else {
            ("comparison", "no")
        };
        cohort.push_str(&format!("P{i},{label},2021-01-{:02},{flag}\n", 1 + i % 28));
    }
    let fl = files(&cohort, "person_id,offence_date,disposal_date\n");
    let (c, o) = (path(&fl.cohort), path(&fl.offences));
    let (code, _, err) = run(&[
        "match",
        "--covariates",
        "flag",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &c,
        "--offences",
        &o,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("separat"), "{err}");
    // A Cox model with no events.
    let (code, _, err) = run(&[
        "survival",
        "--covariates",
        "flag",
        "--extract-date",
        "2023-06-30",
        "--cohort",
        &c,
        "--offences",
        &o,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.to_lowercase().contains("event"), "{err}");
}

#[test]
fn evaluation_file_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        (
            "[match]\ncovariates = [\"sex\"]\ncalliper = 0.2\n",
            "calliper",
        ),
        ("[rules]\nfollow_up_days = \"a year\"\n", "follow_up_days"),
        ("[rates]\nconfidence = 95\n", "[rates] confidence"),
        (
            "[match]\ncovariates = [\"sex\"]\nratio = 0\n",
            "[match] ratio",
        ),
        ("[data]\nyears = [2100, 1900]\n", "[data] years"),
    ] {
        let p = dir.path().join("e.toml");
        std::fs::write(&p, text).unwrap();
        let (code, _, err) = run(&["rates", "--config", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(
            err.contains(needle) && err.contains("e.toml"),
            "{text}: {err}"
        );
    }
}

/// Each table is described once: the command line's CSV of a result is the report's table of
/// that name (its headers in order, the command line adding only the columns the terminal
/// shows beside them), and every cell the report publishes is the command line's cell of the
/// same row (a withheld `[c]` or missing `[x]` aside).
#[test]
fn the_command_lines_csv_is_the_reports_table_of_that_name() {
    let cfg = sample("evaluation.toml");
    let dir = tempfile::tempdir().unwrap();
    run_report(std::path::Path::new(&cfg), dir.path());
    let read = |text: &str| {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    };
    // (command, the report's table, how many leading label columns name a row)
    for (command, file, keys) in [
        ("rates", "rates", 3),
        ("compare", "comparison", 1),
        ("match", "balance", 1),
        ("effect", "designs", 1),
        ("survival", "survival", 1),
        ("monitor", "monitor", 2),
        ("costs", "costs", 1),
        ("did", "did_estimates", 1),
        ("validate", "exclusions", 2),
    ] {
        let (code, cli, err) = run(&[command, "--config", &cfg, "--format", "csv"]);
        assert_eq!(code, 0, "{command}: {err}");
        let (cli_header, cli_rows) = read(&cli);
        let report =
            std::fs::read_to_string(dir.path().join(format!("tables/{file}.csv"))).unwrap();
        let (header, rows) = read(&report);
        // The report's headers in the command line's, in order.
        let mut at = Vec::new();
        let mut from = 0;
        for h in &header {
            let i = from
                + cli_header[from..]
                    .iter()
                    .position(|c| c == h)
                    .unwrap_or_else(|| panic!("{command}: `{h}` not in {cli_header:?}"));
            at.push(i);
            from = i + 1;
        }
        assert!(!rows.is_empty(), "{command}: no rows in {file}.csv");
        for row in &rows {
            let cli_row = cli_rows
                .iter()
                .find(|r| (0..keys).all(|k| r[at[k]] == row[k]))
                .unwrap_or_else(|| panic!("{command}: no row {:?} in the CSV", &row[..keys]));
            for (j, cell) in row.iter().enumerate() {
                if cell != "[c]" && cell != "[x]" {
                    assert_eq!(
                        &cli_row[at[j]],
                        cell,
                        "{command}: `{}` of {:?}",
                        header[j],
                        &row[..keys]
                    );
                }
            }
        }
    }
}
