//! Keeping only the offences needed (`KeepOffences::Needed`): every outcome of the run is
//! exactly what the whole extract gives, the rows dropped are counted under
//! `outside_every_window`, and the extract date does not move.

use super::common::{path, run_json};
use reoffending::Analysis;
use reoffending::synth::{GenerateOptions, OffenceOrder, generate};
use reoffending::{
    ColumnSelection, Evaluation, Inputs, KeepOffences, RateOptions, Rates, Reason, Rules, TableKind,
};

/// A generated extract with long histories (most rows far before the index dates).
fn extract(dir: &std::path::Path, order: OffenceOrder) -> Inputs {
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

fn outside(e: &Evaluation) -> u64 {
    excluded(e, Reason::OutsideEveryWindow)
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
}

#[test]
fn needed_offences_give_the_same_outcomes_with_the_history_counted_as_dropped() {
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
            let dropped = outside(&kept);
            assert_eq!(outside(&all), 0);
            // Most of a long history is dropped, and the attrition still adds up.
            assert!(
                dropped * 2 > all.quality.rows_used.offences,
                "{dropped} of {}",
                all.quality.rows_used.offences
            );
            // A row outside every window is counted so before duplicates and before its
            // person's index date is found to be after the extract date: those two counts
            // can only fall, by what the new one takes.
            let (dup, later) = (Reason::DuplicateOffence, Reason::PersonNotInCohort);
            assert!(excluded(&kept, dup) <= excluded(&all, dup));
            assert!(excluded(&kept, later) <= excluded(&all, later));
            assert_eq!(
                kept.quality.rows_used.offences
                    + dropped
                    + excluded(&kept, dup)
                    + excluded(&kept, later),
                all.quality.rows_used.offences + excluded(&all, dup) + excluded(&all, later)
            );
            for reason in [
                Reason::MissingValue,
                Reason::UnparseableValue,
                Reason::DisposalBeforeOffence,
            ] {
                assert_eq!(excluded(&kept, reason), excluded(&all, reason));
            }
            assert_eq!(kept.quality.rows_read, all.quality.rows_read);
            let excluded = |e: &Evaluation| -> u64 {
                e.quality
                    .exclusions
                    .iter()
                    .filter(|x| x.table == TableKind::Offences)
                    .map(|x| x.rows)
                    .sum()
            };
            assert_eq!(
                kept.quality.rows_used.offences + excluded(&kept),
                kept.quality.rows_read.offences
            );

            // Every column (so `prior_offences`, counted from the offences): the whole
            // history before the index date is kept and the count is the same.
            let all = load(&inputs, KeepOffences::All, ColumnSelection::All, rules);
            let kept = load(&inputs, needed, ColumnSelection::All, rules);
            same_outcomes(&all, &kept);
            let prior = |e: &Evaluation| e.data.people.column("prior_offences").cloned();
            assert!(prior(&all).is_some());
            assert_eq!(prior(&all), prior(&kept));
            assert!(outside(&kept) > 0);
            assert!(outside(&kept) < dropped);
        }
    }
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
fn the_command_line_drops_and_counts_what_no_analysis_reads() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = extract(dir.path(), OffenceOrder::OffenceDate);
    let (c, o) = (path(&inputs.cohort), path(&inputs.offences));
    let run = |extra: &[&str]| {
        let mut args = vec!["rates", "--by", "cohort,sex", "--format", "json"];
        args.extend(["--cohort", c.as_str(), "--offences", o.as_str()]);
        args.extend(extra);
        run_json(&args)
    };
    let all = run(&[]);
    let kept = run(&["--only-needed-offences"]);
    assert_eq!(all["groups"], kept["groups"]);
    let text = kept["input"]["exclusions"].to_string();
    assert!(text.contains("outside_every_window"), "{text}");
    assert!(
        !all["input"]["exclusions"]
            .to_string()
            .contains("outside_every_window")
    );
}

#[test]
fn the_evaluation_file_asks_for_the_window_of_its_own_follow_up() {
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
    assert_eq!(write(""), KeepOffences::All);
    assert_eq!(
        write("only_needed_offences = true"),
        KeepOffences::Needed {
            follow_up_days: 200
        }
    );
}
