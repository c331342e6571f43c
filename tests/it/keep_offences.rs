//! Keeping only the offences needed (`KeepOffences::Needed`, the default of evaluation files
//! and the command line): every outcome and every line of the attrition is exactly what the
//! whole extract gives (rows no analysis reads are used: valid and linked), their duplicates
//! are still found, and the extract date and its warnings do not move.

use std::path::Path;

use super::common::{files_under, path, run, run_json};
use reoffending::Analysis;
use reoffending::synth::{ForcePanel, GenerateOptions, OffenceOrder, generate};
use reoffending::{
    ColumnSelection, Evaluation, Inputs, KeepOffences, RateOptions, Rates, Reason, Rules, TableKind,
};

/// A generated extract with long histories (most rows far before the index dates).
fn extract(dir: &Path, order: OffenceOrder) -> Inputs {
    let mut opts = GenerateOptions::new(3_000, 11);
    opts.history = 3.0;
    opts.order = order;
    let (cohort, offences) = (dir.join("cohort.csv"), dir.join("offences.csv"));
    generate(&opts, &cohort, &offences).unwrap();
    Inputs::new(cohort, offences)
}

fn load(inputs: &Inputs, keep: KeepOffences, columns: ColumnSelection, rules: Rules) -> Evaluation {
    let mut inputs = inputs.clone();
    inputs.load.keep_offences = keep;
    inputs.load.cohort_columns = columns;
    Evaluation::load(&inputs, rules).unwrap()
}

fn excluded(e: &Evaluation, reason: Reason) -> u64 {
    e.quality
        .exclusions
        .iter()
        .filter(|x| x.table == TableKind::Offences && x.reason == reason)
        .map(|x| x.rows)
        .sum()
}

fn same_outcomes(all: &Evaluation, needed: &Evaluation) {
    let (a, n) = (&all.outcomes, &needed.outcomes);
    assert_eq!(all.data.extract_date, needed.data.extract_date);
    assert_eq!(all.data.people.key, needed.data.people.key);
    assert_eq!(a.eligible, n.eligible);
    assert_eq!(a.reoffences, n.reoffences);
    assert_eq!(a.days_to_first, n.days_to_first);
    assert_eq!(a.observed_days, n.observed_days);
    assert_eq!(a.event, n.event);
    assert_eq!(a.prior_year, n.prior_year);
    let rates = |e: &Evaluation| {
        let options = RateOptions {
            by: vec!["cohort".into(), "sex".into(), "age_band".into()],
            ..RateOptions::default()
        };
        serde_json::to_string(&Rates::compute(e, &options).unwrap()).unwrap()
    };
    assert_eq!(rates(all), rates(needed));
    // The attrition, line by line with its first rows, and the warnings: the same.
    assert_eq!(all.quality, needed.quality);
}

#[test]
fn needed_offences_give_the_same_outcomes_and_the_same_attrition() {
    let dir = tempfile::tempdir().unwrap();
    for order in [OffenceOrder::OffenceDate, OffenceOrder::Person] {
        let inputs = extract(dir.path(), order);
        for rules in [
            Rules::default(),
            Rules {
                follow_up_days: 180,
                waiting_days: 90,
                count_index_day: true,
            },
        ] {
            let needed = KeepOffences::Needed {
                follow_up_days: rules.follow_up_days,
            };
            // Only the breakdowns' columns: `prior_offences` is not counted, so history
            // before the placebo year is not needed.
            let only = ColumnSelection::Only(vec!["sex".into(), "age_at_index".into()]);
            let all = load(&inputs, KeepOffences::All, only.clone(), rules);
            let kept = load(&inputs, needed, only, rules);
            same_outcomes(&all, &kept);
            // Most of a long history is dropped, yet counted as used; duplicates are
            // among the rows dropped too.
            let (held, whole) = (kept.data.offences.len(), all.data.offences.len());
            assert!(held * 2 < whole, "{held} of {whole} rows held");
            assert_eq!(all.quality.rows_used.offences, whole as u64);
            assert!(excluded(&all, Reason::DuplicateOffence) > 0);

            // Every column (so `prior_offences`, counted from the offences): the history
            // before the placebo year is counted from the keys of the rows dropped, not
            // held, and the count is the same.
            let all_columns = load(&inputs, KeepOffences::All, ColumnSelection::All, rules);
            let kept_columns = load(&inputs, needed, ColumnSelection::All, rules);
            same_outcomes(&all_columns, &kept_columns);
            let prior = |e: &Evaluation| e.data.people.column("prior_offences").cloned();
            assert!(prior(&all_columns).is_some());
            assert_eq!(prior(&all_columns), prior(&kept_columns));
            let held_columns = kept_columns.data.offences.len();
            assert!(held_columns < all_columns.data.offences.len());
            assert_eq!(held_columns, held);
        }
    }
}

/// Rows outside every window that are duplicates (also of a label differing only in
/// spaces, also with no labels), belong to a person indexed after the extract date, or
/// set the extract date as a typo: each is counted as when every row is kept.
#[test]
fn duplicates_late_people_and_typos_outside_every_window_count_as_when_every_row_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (c, o) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    std::fs::write(
        &c,
        "person_id,cohort,index_date,sex,age_at_index\nA,divert,2021-01-10,F,30\n\
         B,comparison,2021-02-01,M,40\nC,divert,2024-03-01,M,25\n",
    )
    .unwrap();
    let rows = [
        "A,2015-03-01,2015-04-01,theft,caution",
        "A,2015-03-01,2015-04-01, theft ,caution", // duplicate: the same trimmed label
        "A,2015-03-01,2015-04-02,theft,caution",   // another disposal date: not one
        "A,2023-01-01,2023-02-01,burglary,conviction",
        "A,2023-01-01,2023-02-01,burglary,conviction", // duplicate, after the window
        "A,2021-03-01,2021-04-01,theft,caution",
        "A,2021-03-01,2021-04-01,theft,caution", // duplicate, in the window
        "B,2016-01-01,2016-02-01,,",
        "B,2016-01-01,2016-02-01,,", // duplicate without labels
        "C,2010-01-01,2010-02-01,theft,caution",
        "C,2010-01-01,2010-02-01,theft,caution", // C is indexed after the extract date
        "A,2023-01-02,2023-12-31,theft,caution", // sets the extract date: a typo?
        "D,2021-03-01,2021-04-01,theft,caution",
    ];
    std::fs::write(
        &o,
        format!(
            "person_id,offence_date,disposal_date,offence_type,disposal\n{}\n",
            rows.join("\n")
        ),
    )
    .unwrap();
    let inputs = Inputs::new(c, o);
    let only = ColumnSelection::Only(vec!["sex".into(), "age_at_index".into()]);
    let needed = KeepOffences::Needed {
        follow_up_days: 365,
    };
    let all = load(&inputs, KeepOffences::All, only.clone(), Rules::default());
    let kept = load(&inputs, needed, only, Rules::default());
    same_outcomes(&all, &kept);
    assert_eq!(kept.data.offences.len(), 1, "only A's reoffence is held");
    assert_eq!(all.data.offences.len(), 6);
    assert_eq!(kept.quality.rows_used.offences, 6);
    let first_rows = |e: &Evaluation, reason: Reason| -> Vec<u64> {
        e.quality
            .exclusions
            .iter()
            .find(|x| x.table == TableKind::Offences && x.reason == reason)
            .map(|x| x.first_rows.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        first_rows(&kept, Reason::DuplicateOffence),
        vec![2, 5, 7, 9]
    );
    assert_eq!(
        first_rows(&kept, Reason::PersonNotInCohort),
        vec![10, 11, 13]
    );
    let warning = kept
        .quality
        .warnings
        .iter()
        .find(|w| w.issue == "extract_date_far_after_disposals")
        .expect("the late disposal is named");
    assert_eq!(warning.first_rows, vec![12]);
    assert_eq!(kept.data.extract_date_text().as_deref(), Some("2023-12-31"));
}

#[test]
fn a_window_shorter_than_the_follow_up_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = extract(dir.path(), OffenceOrder::OffenceDate);
    inputs.load.keep_offences = KeepOffences::Needed {
        follow_up_days: 364,
    };
    let e = Evaluation::load(&inputs, Rules::default()).unwrap_err();
    assert!(e.to_string().contains("keep_offences"), "{e}");
}

#[test]
fn the_command_line_keeps_every_offence_only_when_asked_and_the_old_flag_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = extract(dir.path(), OffenceOrder::OffenceDate);
    let (c, o) = (path(&inputs.cohort), path(&inputs.offences));
    let args = |extra: &[&str]| {
        let mut args = vec!["rates", "--by", "cohort,sex", "--format", "json"];
        args.extend(["--cohort", c.as_str(), "--offences", o.as_str()]);
        args.extend(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let default = run_json(&args(&[]));
    let all = run_json(&args(&["--keep-all-offences"]));
    assert_eq!(default, all);
    assert!(default["groups"].as_array().is_some_and(|g| !g.is_empty()));
    let old = args(&["--only-needed-offences"]);
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let (code, out, err) = run(&old);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no longer needed"), "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        default
    );
}

#[test]
fn the_evaluation_file_keeps_only_the_window_of_its_own_follow_up_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evaluation.toml");
    let write = |extra: &str| {
        std::fs::write(
            &file,
            format!(
                "[data]\ncohort = \"c.csv\"\noffences = \"o.csv\"\n{extra}\n[rules]\nfollow_up_days = 200\n"
            ),
        )
        .unwrap();
        reoffending::Config::from_file(&file)
            .unwrap()
            .inputs()
            .unwrap()
            .load
            .keep_offences
    };
    let needed = KeepOffences::Needed {
        follow_up_days: 200,
    };
    assert_eq!(write(""), needed);
    assert_eq!(write("keep_all_offences = true"), KeepOffences::All);
    assert_eq!(write("keep_all_offences = false"), needed);
    // The old key is accepted and changes nothing.
    assert_eq!(write("only_needed_offences = true"), needed);
    assert_eq!(write("only_needed_offences = false"), needed);
}

/// The whole report (every analysis of the sample's evaluation file) on people with long
/// histories, most of whose offences no analysis reads: every file is the same, byte for
/// byte, with `keep_all_offences = true`.
#[test]
fn every_figure_of_a_report_is_the_same_with_every_offence_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = GenerateOptions::new(6_000, 5);
    opts.history = 4.0;
    opts.pilot_share = 0.3;
    opts.forces = Some(ForcePanel::default());
    let (cohort, offences) = (
        dir.path().join("cohort.csv"),
        dir.path().join("offences.csv"),
    );
    generate(&opts, &cohort, &offences).unwrap();

    // The cohort gains its own `prior_offences` (as counted from the offences), so the
    // report reads no history before the placebo year: most rows are outside every window.
    let inputs = Inputs::new(&cohort, &offences);
    let rules = Rules::default();
    let counted = load(&inputs, KeepOffences::All, ColumnSelection::All, rules);
    let mut prior = std::collections::HashMap::new();
    let Some(reoffending::data::Values::Numeric(values)) = counted
        .data
        .people
        .column("prior_offences")
        .map(|c| &c.values)
    else {
        panic!("prior_offences is counted from the offences");
    };
    for (row, v) in counted.data.people.source_row.iter().zip(values) {
        prior.insert(*row as usize, v.unwrap_or(0.0));
    }
    let text = std::fs::read_to_string(&cohort).unwrap();
    let mut lines = text.lines();
    let mut with_prior = format!("{},prior_offences\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let p = prior.get(&(i + 1)).copied().unwrap_or(0.0);
        with_prior.push_str(&format!("{line},{p}\n"));
    }
    std::fs::write(&cohort, with_prior).unwrap();
    let needed = KeepOffences::Needed {
        follow_up_days: 365,
    };
    let all = load(&inputs, KeepOffences::All, ColumnSelection::All, rules);
    let kept = load(&inputs, needed, ColumnSelection::All, rules);
    same_outcomes(&all, &kept);
    let (held, whole) = (kept.data.offences.len(), all.data.offences.len());
    assert!(held * 2 < whole, "{held} of {whole} rows held");

    let root = crate::common::sample_dir();
    let text = std::fs::read_to_string(root.join("evaluation.toml"))
        .unwrap()
        .replace("\"cohort.csv\"", &format!("{cohort:?}"))
        .replace("\"offences.csv\"", &format!("{offences:?}"))
        .replace(
            "\"unit_costs.csv\"",
            &format!("{:?}", root.join("unit_costs.csv")),
        )
        .replace(
            "\"gdp_deflator.csv\"",
            &format!("{:?}", root.join("gdp_deflator.csv")),
        );
    assert!(text.contains("[did]") && !text.contains("keep_all_offences"));
    let mut outs = Vec::new();
    for (name, extra) in [("needed", ""), ("all", "keep_all_offences = true\n")] {
        let cfg = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &cfg,
            text.replacen("[data]\n", &format!("[data]\n{extra}"), 1),
        )
        .unwrap();
        let out = dir.path().join(name);
        let (code, _, err) = run(&["report", &path(&cfg), "--out", &path(&out)]);
        assert_eq!(code, 0, "{err}");
        outs.push(out);
    }
    let (a, b) = (files_under(&outs[0]), files_under(&outs[1]));
    assert!(a.len() > 10, "{a:?}");
    assert_eq!(a.len(), b.len());
    let json = |p: &Path| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        // The one thing that differs: which evaluation file, named with its hash.
        assert!(v["provenance"]["config"]["sha256"].is_string());
        v["provenance"]["config"] = serde_json::Value::Null;
        v
    };
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.file_name(), y.file_name());
        if x.file_name().is_some_and(|n| n == "report.json") {
            assert_eq!(json(x), json(y));
        } else {
            assert!(
                std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
                "{} differs",
                x.display()
            );
        }
    }
    let json = json(&outs[0].join("report.json"));
    for key in ["rates", "match", "survival", "monitor", "costs", "did"] {
        assert!(!json[key].is_null(), "{key} missing from the report");
    }
}
