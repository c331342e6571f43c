//! Disclosure control on a small cohort (30 people, subgroups of one to four): no published
//! count lies between 1 and `min_cell - 1`, and no suppressed cell can be recovered from
//! the published figures, by differencing within a breakdown or between points over time.
//!
//! The true figures come from the same report with disclosure control off (not for
//! publication): the intruder is assumed to know every total.

use std::path::Path;

use crate::common::run_report;
use serde_json::Value;

/// 30 people in two cohorts over four quarters of 2021; about a third reoffend.
fn small_cohort(dir: &Path) {
    let mut cohort = String::from("person_id,cohort,index_date,sex,age_at_index,prior_offences\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    let mut seed: u64 = 20_261_128;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as u32
    };
    for i in 0..30 {
        let cohort_label = if i % 5 < 2 { "divert" } else { "comparison" };
        let month = 1 + next() % 12;
        let sex = if next() % 3 == 0 { "F" } else { "M" };
        let age = 18 + next() % 40;
        let prior = next() % 4;
        cohort.push_str(&format!(
            "P{i:03},{cohort_label},2021-{month:02}-10,{sex},{age},{prior}\n"
        ));
        if next() % 3 == 0 {
            // A proven reoffence some weeks to months after the index date.
            let days = 10 + next() % 300;
            let d = chrono_like(2021, month, 10, days);
            let disposal = chrono_like(2021, month, 10, days + 30);
            offences.push_str(&format!("P{i:03},{d},{disposal}\n"));
        }
    }
    std::fs::write(dir.join("cohort.csv"), cohort).unwrap();
    std::fs::write(dir.join("offences.csv"), offences).unwrap();
}

/// `y-m-d` plus `days`, as an ISO date (civil calendar arithmetic, no dependency).
fn chrono_like(y: i32, m: u32, d: u32, days: u32) -> String {
    let base = reoffending::parse_iso(&format!("{y}-{m:02}-{d:02}")).unwrap();
    reoffending::format_day(base + days as i32)
}

fn config(dir: &Path, min_cell: u64, on: bool) -> std::path::PathBuf {
    let p = dir.join(format!("e{min_cell}{on}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"[data]
cohort = "cohort.csv"
offences = "offences.csv"
extract_date = "2023-06-30"

[rates]
by = ["sex"]

[compare]
treatment = "divert"
control = "comparison"
baseline_rate = 0.2

[survival]
times = [91, 182, 273, 365]

[report]
min_cell = {}
disclosure = "{}"
"#,
            if on { min_cell } else { 0 },
            if on { "on" } else { "off" }
        ),
    )
    .unwrap();
    p
}

/// Keys holding counts of people or events.
const COUNT_KEYS: [&str; 21] = [
    "rows",
    "eligible",
    "reoffenders",
    "reoffences",
    "n",
    "events",
    "people",
    "events_so_far",
    "full_follow_up",
    "treatment_n",
    "treatment_reoffenders",
    "control_n",
    "control_reoffenders",
    "at_risk",
    "treated",
    "controls",
    "matched_treated",
    "matched_controls",
    "discordant_pairs",
    "treated_only",
    "control_only",
];

/// Every published count below `k` (but above zero), with its path.
fn small_counts(v: &Value, k: f64, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (key, x) in m {
                if COUNT_KEYS.contains(&key.as_str()) {
                    if let Some(n) = x.as_f64() {
                        if n > 0.0 && n < k {
                            out.push(format!("{path}.{key} = {n}"));
                        }
                    }
                }
                small_counts(x, k, &format!("{path}.{key}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                small_counts(x, k, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// A breakdown's cells (true counts, and whether each is published) in one dimension.
struct Partition {
    name: String,
    cells: Vec<(f64, bool)>,
}

/// For a partition whose total is known: a hidden cell is recovered when it is the only
/// hidden one, or bounded below `k` when the hidden cells hold fewer than `k` together.
fn recoverable(p: &Partition, k: f64) -> Option<String> {
    let hidden: Vec<f64> = p.cells.iter().filter(|c| !c.1).map(|c| c.0).collect();
    // Every cell hidden: the total is then published only if it passed the gate itself
    // (checked by the small-count scan), and no cell follows from it.
    if hidden.len() == p.cells.len() {
        return None;
    }
    let sum: f64 = hidden.iter().sum();
    if hidden.len() == 1 && hidden[0] > 0.0 {
        return Some(format!(
            "{}: one hidden cell ({}) = total minus the others",
            p.name, hidden[0]
        ));
    }
    if hidden.len() > 1 && sum > 0.0 && sum < k {
        return Some(format!("{}: hidden cells hold only {sum}", p.name));
    }
    None
}

fn rate_partitions(truth: &Value, published: &Value) -> Vec<Partition> {
    let t = truth["rates"]["groups"].as_array().unwrap();
    let p = published["rates"]["groups"].as_array().unwrap();
    let mut out = Vec::new();
    for cohort in ["divert", "comparison"] {
        let rows: Vec<usize> = (0..t.len())
            .filter(|&i| t[i]["cohort"] == cohort && t[i]["eligible"].as_f64() > Some(0.0))
            .collect();
        let count = |i: usize, k: &str| t[i][k].as_f64().unwrap();
        out.push(Partition {
            name: format!("rates {cohort}: people"),
            cells: rows
                .iter()
                .map(|&i| (count(i, "eligible"), p[i]["eligible"].is_number()))
                .collect(),
        });
        out.push(Partition {
            name: format!("rates {cohort}: reoffenders"),
            cells: rows
                .iter()
                .map(|&i| (count(i, "reoffenders"), p[i]["rate"].is_number()))
                .collect(),
        });
        out.push(Partition {
            name: format!("rates {cohort}: non-reoffenders"),
            cells: rows
                .iter()
                .map(|&i| {
                    (
                        count(i, "eligible") - count(i, "reoffenders"),
                        p[i]["rate"].is_number(),
                    )
                })
                .collect(),
        });
    }
    out
}

fn monitor_partitions(truth: &Value, published: &Value) -> Vec<Partition> {
    let t = truth["monitor"]["groups"].as_array().unwrap();
    let p = published["monitor"]["groups"].as_array().unwrap();
    let mut out = Vec::new();
    for cohort in ["divert", "comparison"] {
        let rows: Vec<usize> = (0..t.len())
            .filter(|&i| t[i]["cohort"] == cohort && t[i]["people"].as_f64() > Some(0.0))
            .collect();
        let c = |i: usize, k: &str| t[i][k].as_f64().unwrap_or(0.0);
        for (dim, f) in [
            (
                "people",
                Box::new(|i: usize| c(i, "people")) as Box<dyn Fn(usize) -> f64>,
            ),
            ("events so far", Box::new(|i: usize| c(i, "events_so_far"))),
            (
                "without an event",
                Box::new(|i: usize| c(i, "people") - c(i, "events_so_far")),
            ),
        ] {
            let key = if dim == "people" {
                "people"
            } else {
                "events_so_far"
            };
            out.push(Partition {
                name: format!("monitor {cohort}: {dim}"),
                cells: rows
                    .iter()
                    .map(|&i| (f(i), p[i][key].is_number()))
                    .collect(),
            });
        }
    }
    out
}

/// Published cumulative counts over time must step by 0 or at least `k`, from zero and up
/// to the published total.
fn time_steps(name: &str, points: &[f64], total: f64, k: f64, bad: &mut Vec<String>) {
    let mut prev = 0.0;
    for &x in points.iter().chain(std::iter::once(&total)) {
        let d = x - prev;
        if d > 0.0 && d < k {
            bad.push(format!("{name}: a step of {d} between published points"));
        }
        prev = x;
    }
}

fn check(k: u64) {
    let dir = tempfile::tempdir().unwrap();
    small_cohort(dir.path());
    let truth = run_report(&config(dir.path(), k, false), &dir.path().join("truth"));
    let published = run_report(&config(dir.path(), k, true), &dir.path().join("out"));
    let kf = k as f64;
    assert!(truth.get("not_for_publication").is_some());
    assert!(published.get("not_for_publication").is_none());

    // 1. No published count between 1 and k - 1.
    let mut small = Vec::new();
    small_counts(&published, kf, "", &mut small);
    // Rates give counts back with their sizes: those must not be small either.
    for g in published["rates"]["groups"].as_array().unwrap() {
        if let (Some(n), Some(r)) = (g["eligible"].as_f64(), g["rate"].as_f64()) {
            let x = (n * r).round();
            if (x > 0.0 && x < kf) || (n - x > 0.0 && n - x < kf) {
                small.push(format!("rates: {x} of {n} from a published rate"));
            }
        }
    }
    assert!(small.is_empty(), "k = {k}: {small:#?}");

    // 2. No hidden cell recoverable within a breakdown whose total is known (rows read minus
    // rows used, for the exclusions).
    let exclusions = |v: &Value, table: &str| -> Vec<Value> {
        v["data_quality"]["exclusions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["table"] == table && e["rows"] != 0)
            .cloned()
            .collect()
    };
    let mut quality = Vec::new();
    for table in ["cohort", "offences"] {
        let (t, p) = (exclusions(&truth, table), exclusions(&published, table));
        quality.push(Partition {
            name: format!("{table} exclusions"),
            cells: t
                .iter()
                .zip(&p)
                .map(|(t, p)| (t["rows"].as_f64().unwrap(), p["rows"].is_number()))
                .collect(),
        });
    }
    let mut bad: Vec<String> = rate_partitions(&truth, &published)
        .iter()
        .chain(quality.iter())
        .chain(monitor_partitions(&truth, &published).iter())
        .filter_map(|p| recoverable(p, kf))
        .collect();

    // 3. Points over time: survival at fixed days and the Kaplan-Meier steps.
    let tg = truth["survival"]["groups"].as_array().unwrap();
    for (i, g) in published["survival"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let Some(total) = g["events"].as_f64() else {
            continue;
        };
        let n = tg[i]["n"].as_f64().unwrap();
        // Cumulative events at published fixed days, from the true Kaplan-Meier steps.
        let all_steps = tg[i]["steps"].as_array().unwrap();
        let events_by = |t: f64| -> f64 {
            all_steps
                .iter()
                .filter(|s| s["day"].as_f64().unwrap() <= t)
                .map(|s| s["events"].as_f64().unwrap())
                .sum()
        };
        let at: Vec<f64> = g["survival_at"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["survival"].is_number())
            .map(|a| events_by(a["time"].as_f64().unwrap()))
            .collect();
        time_steps(
            &format!("survival group {i} fixed days"),
            &at,
            total,
            kf,
            &mut bad,
        );
        // A drawn step is (day, survival) only; the events it rests on, from the truth, are
        // at least k.
        let (mut cum, mut prev) = (0.0, 0.0);
        let steps: Vec<f64> = g["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert!(
                    s.get("events").is_none() && s.get("at_risk").is_none(),
                    "{s}"
                );
                let day = s["day"].as_f64().unwrap();
                let e: f64 = all_steps
                    .iter()
                    .filter(|t| {
                        let d = t["day"].as_f64().unwrap();
                        d > prev && d <= day
                    })
                    .map(|t| t["events"].as_f64().unwrap())
                    .sum();
                prev = day;
                assert!(e >= kf, "a drawn step of {e} events");
                cum += e;
                cum
            })
            .collect();
        time_steps(
            &format!("survival group {i} chart"),
            &steps,
            total,
            kf,
            &mut bad,
        );
        assert!(
            n - total >= kf || total == 0.0,
            "survival group {i}: n and events published with few non-events"
        );
    }
    // Monitoring rates at equal follow-up.
    for g in published["monitor"]["groups"].as_array().unwrap() {
        let (Some(n), Some(e), Some(at)) = (
            g["people"].as_f64(),
            g["events_so_far"].as_f64(),
            g["rate_at"].as_object(),
        ) else {
            continue;
        };
        let mut days: Vec<(f64, f64)> = at
            .iter()
            .filter_map(|(d, p)| Some((d.parse::<f64>().ok()?, (p["rate"].as_f64()? * n).round())))
            .collect();
        days.sort_by(|a, b| a.0.total_cmp(&b.0));
        let xs: Vec<f64> = days.iter().map(|d| d.1).collect();
        time_steps(
            &format!("monitor {} {}", g["cohort"], g["period"]),
            &xs,
            e,
            kf,
            &mut bad,
        );
    }
    assert!(bad.is_empty(), "k = {k}: {bad:#?}");

    // 4. The chart's CSV holds exactly the drawn steps: day and survival, no counts.
    let csv = std::fs::read_to_string(dir.path().join("out/charts/survival.csv"));
    if let Ok(csv) = csv {
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("group,day,survival"));
        let drawn: usize = published["survival"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["events"].is_number())
            .map(|g| g["steps"].as_array().unwrap().len())
            .sum();
        assert_eq!(lines.count(), drawn);
    }
    // 5. Something is published and something suppressed (else the test is vacuous).
    let groups = published["rates"]["groups"].as_array().unwrap();
    assert!(
        groups.iter().any(|g| g["eligible"].as_f64() > Some(0.0)),
        "nothing published"
    );
    assert!(
        serde_json::to_string(&published).unwrap().contains("[c]"),
        "nothing suppressed"
    );
}

#[test]
fn a_thirty_person_cohort_publishes_no_small_count_at_min_cell_3() {
    check(3);
}

#[test]
fn a_thirty_person_cohort_publishes_no_small_count_at_min_cell_5() {
    check(5);
}

/// Every string leaf of `v` with its JSON path.
fn strings(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| strings(x, &format!("{path}/{i}"), out)),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| strings(x, &format!("{path}/{k}"), out)),
        _ => {}
    }
}

/// The text a reader sees: the JSON's strings, the Markdown and the HTML.
fn published_text(out: &Path) -> String {
    let mut text = std::fs::read_to_string(out.join("report.md")).unwrap();
    text.push_str(&std::fs::read_to_string(out.join("report.html")).unwrap());
    text.push_str(&std::fs::read_to_string(out.join("report.json")).unwrap());
    text
}

/// Differencing sentences: every sentence of the uncontrolled report that the gate changed
/// (it quoted or rested on a suppressed figure) appears nowhere in the controlled report;
/// the power calculation goes with the pilot's count; people whose follow-up cannot be
/// observed are a count like any other. Returns how many sentences the gate withheld.
fn sentences_hold(on_cfg: &Path, off_cfg: &Path, dir: &Path, k: f64) -> usize {
    let (on_out, off_out) = (dir.join(format!("on{k}")), dir.join(format!("off{k}")));
    let (on, off) = (run_report(on_cfg, &on_out), run_report(off_cfg, &off_out));
    let text = published_text(&on_out);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    strings(&on, "", &mut a);
    strings(&off, "", &mut b);
    let published: std::collections::BTreeMap<_, _> = a.into_iter().collect();
    let mut withheld = 0;
    for (path, truth) in b {
        let is_sentence =
            truth.split_whitespace().count() >= 4 && truth.contains(|c: char| c.is_ascii_digit());
        if !is_sentence || published.get(&path) == Some(&truth) {
            continue;
        }
        assert!(
            !text.contains(&truth),
            "{path}: a sentence resting on a suppressed figure is published: {truth}"
        );
        withheld += 1;
    }
    for key in ["compare", "compare_benchmark"] {
        if on[key]["treatment_n"] == "[c]" {
            for (field, v) in on["power"].as_object().unwrap() {
                assert!(
                    !v.is_number(),
                    "power.{field} published beside a hidden pilot count"
                );
            }
            assert!(!text.contains("people in the 12-month measure, only a true rate"));
        }
    }
    let hidden = off["survival"]["not_observable"]
        .as_f64()
        .is_some_and(|x| x > 0.0 && x < k);
    if hidden {
        assert_eq!(on["survival"]["not_observable"], "[c]");
    }
    withheld
}

#[test]
fn sentences_never_give_back_a_suppressed_figure() {
    // The small cohort: at min_cell 15 the pilot's 12 people are hidden, with the power
    // calculation made for them.
    let dir = tempfile::tempdir().unwrap();
    small_cohort(dir.path());
    for k in [5, 10, 15] {
        let (on, off) = (config(dir.path(), k, true), config(dir.path(), k, false));
        sentences_hold(&on, &off, dir.path(), k as f64);
    }
    // The sample: the monitoring projection of divert 2022-Q2 (113 people, 8 events so far,
    // hidden) said "92.9% not yet reoffended" by day 92, which gives the 8 back.
    let text = crate::common::sample_evaluation_text();
    let on = dir.path().join("sample_on.toml");
    let off = dir.path().join("sample_off.toml");
    std::fs::write(&on, &text).unwrap();
    std::fs::write(
        &off,
        text.replace("min_cell = 10", "min_cell = 0\ndisclosure = \"off\""),
    )
    .unwrap();
    let withheld = sentences_hold(&on, &off, dir.path(), 10.0);
    assert!(withheld >= 1, "the projection sentence of divert 2022-Q2");
}
