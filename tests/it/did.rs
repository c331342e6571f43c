//! The `did` command and `AreaDid`: the published Proposition 99 estimates through
//! `--panel`, person data reduced to cells exactly, people whose label contradicts the
//! definition counted, and a panel's errors naming file and row.

use crate::common;

use common::*;
use reoffending::did::{AreaDid, DidOptions};
use reoffending::stats::did::{Cell, Panel, twfe};

/// The Proposition 99 panel without its comment line, as a user's file would be.
fn prop99(dir: &std::path::Path) -> std::path::PathBuf {
    let text = read_reference("fixtures/prop99.csv");
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let p = dir.join("prop99.csv");
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn proposition_99_gives_the_published_estimates_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let p = prop99(dir.path());
    let j = run_json(&[
        "did",
        "--panel",
        &path(&p),
        "--treated-areas",
        "California",
        "--start",
        "1989",
        "--period",
        "year",
        "--bootstrap",
        "999",
        "--format",
        "json",
    ]);
    // R synthdid 0.0.9's published values.
    let est = |m: &str| {
        j["synthetic"]["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["method"] == m)
            .unwrap()["estimate"]
            .as_f64()
            .unwrap()
    };
    assert!((est("sdid") - -15.60383).abs() < 1e-5);
    assert!((est("sc") - -19.61966).abs() < 1e-5);
    assert!((est("did") - -27.34911).abs() < 1e-5);
    // Two-way fixed effects on a balanced panel equals plain DiD.
    assert!((j["estimate"].as_f64().unwrap() - -27.34911).abs() < 1e-5);
    let sum = |k: &str| {
        j["synthetic"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["weight"].as_f64().unwrap())
            .sum::<f64>()
    };
    assert!((sum("unit_weights") - 1.0).abs() < 1e-9);
    assert!((sum("time_weights") - 1.0).abs() < 1e-9);
    assert!(j["synthetic"]["estimates"][0]["se"].as_f64().unwrap() > 0.0);
    // Every key of the contract's `did` object.
    for k in [
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "df",
        "clusters",
        "treated_clusters",
        "people",
        "frequency",
        "event_study",
        "pre_trend",
        "wild_bootstrap",
        "placebo_in_space",
        "cells",
        "mislabelled",
        "staggered",
        "inference_lead",
        "summary",
        "synthetic",
    ] {
        assert!(j.get(k).is_some(), "missing `{k}`");
    }
    assert_eq!(j["clusters"], 39);
    assert_eq!(j["df"], 38.0);
    assert_eq!(j["inference_lead"], "placebo_in_space");
    let placebo = &j["placebo_in_space"];
    assert_eq!(placebo["areas"], 38);
    assert!((placebo["min_p_value"].as_f64().unwrap() - 1.0 / 39.0).abs() < 1e-12);
    assert_eq!(placebo["estimates"].as_array().unwrap().len(), 38);
    assert!(j["summary"].as_str().unwrap().contains("placebo in space"));
}

fn forces(persons: u64, seed: u64) -> (tempfile::TempDir, reoffending::Evaluation) {
    let dir = tempfile::tempdir().unwrap();
    let (c, o) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    let mut opts = reoffending::synth::GenerateOptions::new(persons, seed);
    opts.pilot_share = 0.15;
    opts.forces = Some(reoffending::synth::ForcePanel {
        forces: 10,
        ..Default::default()
    });
    reoffending::synth::generate(&opts, &c, &o).unwrap();
    let eval = reoffending::Evaluation::load(
        &reoffending::Inputs::new(&c, &o),
        reoffending::Rules::default(),
    )
    .unwrap();
    (dir, eval)
}

fn options() -> DidOptions {
    DidOptions {
        treated_areas: vec!["West Midlands".into()],
        area_column: "force".into(),
        start: Some("2020-10-01".into()),
        bootstrap: 0,
        ..Default::default()
    }
}

#[test]
fn person_data_reduce_to_the_cells_the_regression_uses() {
    let (_dir, eval) = forces(6000, 5);
    let did = AreaDid::of(&eval.data.people, &eval.outcomes, &options()).unwrap();
    // Every person in the measure is in exactly one cell.
    let eligible = eval.outcomes.eligible.iter().filter(|e| **e).count() as f64;
    let in_cells: f64 = did.cells.iter().map(|c| c.people.unwrap()).sum();
    assert_eq!(in_cells, eligible);
    assert_eq!(did.people, eligible);
    // Refitting from the published cells gives the same estimate and standard error.
    let mut areas: Vec<&str> = did.cells.iter().map(|c| c.area.as_str()).collect();
    areas.dedup();
    let q = |label: &str| {
        reoffending::did::PeriodLength::Quarter
            .parse(label)
            .unwrap() as i64
    };
    let cells: Vec<Cell> = did
        .cells
        .iter()
        .map(|c| {
            Cell::binary(
                areas.iter().position(|a| *a == c.area).unwrap(),
                q(&c.period),
                c.people.unwrap(),
                c.reoffenders.unwrap() as f64,
            )
        })
        .collect();
    let launches: Vec<Option<i64>> = areas
        .iter()
        .map(|a| (*a == "West Midlands").then(|| q("2020-Q4")))
        .collect();
    let fit = twfe(&Panel::new(cells, launches).unwrap(), 0.95).unwrap();
    assert_eq!(fit.estimate, did.estimate);
    assert_eq!(fit.se, did.se);
    assert_eq!((did.clusters, did.treated_clusters), (10, 1));
    // Every pilot person is labelled `divert` by the generator: nobody is mislabelled.
    assert_eq!(did.mislabelled.rows, 0);
    // One placebo per comparison area; the rank is among all ten.
    let p = did.placebo_in_space.as_ref().unwrap();
    assert_eq!(p.areas, 9);
    assert!((1..=10).contains(&p.rank));
}

#[test]
fn people_labelled_against_the_definition_are_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let (c, o) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    let mut opts = reoffending::synth::GenerateOptions::new(3000, 9);
    opts.pilot_share = 0.2;
    opts.forces = Some(reoffending::synth::ForcePanel {
        forces: 6,
        ..Default::default()
    });
    reoffending::synth::generate(&opts, &c, &o).unwrap();
    // Relabel the first eligible-looking pilot-force person before launch as `divert`.
    let text = std::fs::read_to_string(&c).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let row = lines
        .iter()
        .position(|l| l.contains(",comparison,2019-") && l.ends_with(",West Midlands"))
        .unwrap();
    lines[row] = lines[row].replace(",comparison,", ",divert,");
    std::fs::write(&c, lines.join("\n") + "\n").unwrap();
    let eval = reoffending::Evaluation::load(
        &reoffending::Inputs::new(&c, &o),
        reoffending::Rules::default(),
    )
    .unwrap();
    let did = AreaDid::of(&eval.data.people, &eval.outcomes, &options()).unwrap();
    assert_eq!(did.mislabelled.rows, 1);
    assert_eq!(did.mislabelled.first_rows, vec![row as u64]);
    assert!(
        did.summary
            .contains("disagrees with the area-and-date definition")
    );
}

#[test]
fn a_panel_that_cannot_be_used_is_an_error_naming_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        path(&p)
    };
    let cases = [
        (
            "duplicate.csv",
            "area,period,outcome\nA,2019,1\nA,2020,2\nB,2019,1\nB,2020,1\nA,2020,3\n",
            "rows 2 and 5",
        ),
        (
            "unbalanced.csv",
            "area,period,outcome\nA,2019,1\nA,2020,2\nB,2019,1\n",
            "unbalanced",
        ),
        (
            "label.csv",
            "area,period,outcome\nA,2019,1\nA,20x0,2\nB,2019,1\nB,2020,1\n",
            "row 2",
        ),
        (
            "outcome.csv",
            "area,period,outcome\nA,2019,1\nA,2020,abc\nB,2019,1\nB,2020,1\n",
            "row 2",
        ),
        ("nocolumn.csv", "area,year,outcome\nA,2019,1\n", "period"),
    ];
    for (name, text, want) in cases {
        let p = write(name, text);
        let (code, _, err) = run(&[
            "did",
            "--panel",
            &p,
            "--treated-areas",
            "A",
            "--start",
            "2020",
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
    }
}

#[test]
fn staggered_launches_through_the_command_give_callaway_santanna_beside_twfe() {
    // 24 areas over 12 years: three cohorts of four areas launch in 2014, 2016 and 2018, the
    // rest never; the effect grows by one point a year since launch, so two-way fixed effects
    // is pulled towards zero and Callaway-Sant'Anna is not.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("area,period,outcome\n");
    let launch = |a: usize| match a {
        0..=3 => Some(2014),
        4..=7 => Some(2016),
        8..=11 => Some(2018),
        _ => None,
    };
    for a in 0..24usize {
        for y in 2010..2022 {
            let base = 0.30 + 0.004 * a as f64 + 0.003 * f64::from(y - 2010);
            let wobble = 0.002 * (((a * 7 + y as usize * 3) % 5) as f64 - 2.0);
            let effect = launch(a)
                .filter(|l| y >= *l)
                .map_or(0.0, |l| -0.01 * f64::from(1 + y - l));
            csv.push_str(&format!("A{a:02},{y},{}\n", base + wobble + effect));
        }
    }
    let panel = dir.path().join("panel.csv");
    std::fs::write(&panel, csv).unwrap();
    let mut toml = String::from("[did]\nperiod = \"year\"\nbootstrap = 0\n[did.starts]\n");
    for a in 0..12 {
        toml.push_str(&format!("A{a:02} = \"{}\"\n", launch(a).unwrap()));
    }
    let config = dir.path().join("evaluation.toml");
    std::fs::write(&config, toml).unwrap();
    let j = run_json(&[
        "did",
        "--config",
        &path(&config),
        "--panel",
        &path(&panel),
        "--format",
        "json",
    ]);
    let st = &j["staggered"];
    assert!(st.is_object(), "{j}");
    assert!(j["synthetic"].is_null());
    // The true average effect on the treated over their treated years.
    let mut truth = Vec::new();
    for a in 0..12 {
        let l = launch(a).unwrap();
        for y in l..2022 {
            truth.push(-0.01 * f64::from(1 + y - l));
        }
    }
    let truth = truth.iter().sum::<f64>() / truth.len() as f64;
    let att = st["att"].as_f64().unwrap();
    let twfe = st["twfe"]["estimate"].as_f64().unwrap();
    assert!((att - truth).abs() < 0.01, "CS {att} against {truth}");
    assert!(
        (twfe - truth).abs() > (att - truth).abs(),
        "TWFE {twfe}, CS {att}"
    );
    assert!(!st["group_time"].as_array().unwrap().is_empty());
    assert!(!st["by_time"].as_array().unwrap().is_empty());
    assert!(
        st["summary"]
            .as_str()
            .unwrap()
            .contains("Callaway and Sant'Anna")
    );
    // The terminal's table of the two estimators, headed by the interval's level, each row
    // the JSON's figure in points.
    let text = stdout(&["did", "--config", &path(&config), "--panel", &path(&panel)]);
    let table = text
        .split("Launches at different times")
        .nth(1)
        .unwrap_or_else(|| panic!("no staggered table in:\n{text}"));
    assert!(table.contains("95% CI"), "{table}");
    let method = st["method"].as_str().unwrap();
    for (name, value) in [(method, att), ("two-way fixed effects", twfe)] {
        let line = table
            .lines()
            .skip(1)
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no row {name} in:\n{table}"));
        let shown = format!("{:.1}", value * 100.0);
        assert!(
            line.contains(shown.trim_start_matches('-')),
            "{name}: {shown} not in {line}"
        );
    }
}

#[test]
fn the_report_leads_with_the_area_design_and_publishes_no_small_cell() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = reoffending::synth::GenerateOptions::new(8000, 21);
    opts.pilot_share = 0.15;
    opts.forces = Some(reoffending::synth::ForcePanel {
        forces: 12,
        ..Default::default()
    });
    reoffending::synth::generate(
        &opts,
        &dir.path().join("cohort.csv"),
        &dir.path().join("offences.csv"),
    )
    .unwrap();
    let config = dir.path().join("evaluation.toml");
    std::fs::write(
        &config,
        "[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n\
         [compare]\ntreatment = \"divert\"\ncontrol = \"comparison\"\n\
         [did]\ntreated_areas = [\"West Midlands\"]\narea_column = \"force\"\nstart = \"2020-10-01\"\nbootstrap = 999\n\
         [report]\nmin_cell = 10\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = run(&["report", &path(&config), "--out", &path(&out)]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = crate::common::report_json(&out);
    let d = &j["did"];
    assert!(d.is_object());
    for chart in ["did_trends", "did_event_study"] {
        assert!(
            out.join("charts").join(format!("{chart}.png")).exists(),
            "{chart}"
        );
    }
    // The synthetic designs need people in every cell; when one is empty they are listed as
    // not available rather than drawn.
    if d["synthetic"].is_object() {
        // Drawn, or the pilot's path withheld because a pilot cell is small.
        let withheld = d["synthetic"]["path"][0]["pilot"] == "[c]";
        assert!(withheld || out.join("charts").join("did_synthetic.png").exists());
        assert_eq!(withheld, d["event_study"][0]["estimate"] == "[c]");
    } else {
        assert!(
            d["unavailable"].to_string().contains("synthetic"),
            "{}",
            d["unavailable"]
        );
    }
    // No published count of people or reoffenders in a cell below min_cell.
    for c in d["cells"].as_array().unwrap() {
        for k in ["people", "reoffenders"] {
            if let Some(v) = c[k].as_f64() {
                assert!(v >= 10.0, "{c}");
            }
        }
        if let (Some(n), Some(x)) = (c["people"].as_f64(), c["reoffenders"].as_f64()) {
            assert!(n - x >= 10.0, "{c}");
        }
    }
    assert!(
        d.get("mislabelled")
            .and_then(|m| m.get("first_rows"))
            .is_none()
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let first = md
        .find("Impact estimate (difference-in-differences")
        .unwrap();
    assert!(md.find("Supporting estimate").is_none_or(|s| s > first));
    assert!(md.contains("Area-wide impact"));
}

#[test]
fn person_level_covariates_agree_with_statsmodels_fitted_person_by_person() {
    // tests/reference/did_covariates.py: OLS of the outcome on treatment, area and quarter
    // effects and sex, age, prior offences and ethnicity (a missing ethnicity its own level,
    // a missing age leaving the person out), CR1 clustered by area, over 1,238 people.
    let reference: serde_json::Value =
        serde_json::from_str(&read_reference("reference/did_covariates.json")).unwrap();
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/did_covariates");
    let args = [
        "did",
        "--cohort",
        &path(&dir.join("cohort.csv")),
        "--offences",
        &path(&dir.join("offences.csv")),
        "--extract-date",
        "2023-12-31",
        "--treated-areas",
        "A0",
        "--start",
        "2020-07-01",
        "--covariates",
        "sex,age_at_index,prior_offences,ethnicity",
        "--bootstrap",
        "0",
        "--format",
        "json",
    ];
    let j = run_json(&args);
    assert_eq!(j["people"].as_f64(), reference["people"].as_f64());
    assert_eq!(
        j["excluded_missing_covariates"],
        reference["left_out_missing_age"]
    );
    assert_eq!(j["mislabelled"]["rows"], 0);
    for (ours, theirs) in [
        (&j, &reference["binary"]),
        (&j["frequency"], &reference["frequency"]),
    ] {
        for (key, tol) in [
            ("estimate", 1e-8),
            ("se", 1e-6),
            ("ci_low", 1e-6),
            ("ci_high", 1e-6),
            ("p_value", 1e-6),
        ] {
            let (a, b) = (ours[key].as_f64().unwrap(), theirs[key].as_f64().unwrap());
            assert!((a - b).abs() < tol, "{key}: {a} against statsmodels {b}");
        }
    }
    assert!(
        j["summary"]
            .as_str()
            .unwrap()
            .contains("adjust for sex, age_at_index, prior_offences, ethnicity")
    );
    // A panel has no person-level covariates: refused, naming the option.
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "did",
        "--panel",
        &path(&prop99(out.path())),
        "--treated-areas",
        "California",
        "--start",
        "1989",
        "--covariates",
        "sex",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("covariates"), "{err}");
}
