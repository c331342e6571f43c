//! Every counting rule at its edges, and the attrition identity.

use crate::common;

use common::*;
use reoffending::{Reason, Rules, TableKind};

const COHORT: &str = "person_id,cohort,index_date\n";
const OFFENCES: &str = "person_id,offence_date,disposal_date,offence_type\n";

/// One person indexed on `index`, with offences `(offence, disposal)`; returns
/// (eligible, reoffences, days to first).
fn one(index: &str, offences: &[(&str, &str)], extract: &str, rules: Rules) -> (bool, u32, i32) {
    let mut o = OFFENCES.to_string();
    for (a, b) in offences {
        o.push_str(&format!("A,{a},{b},theft\n"));
    }
    let f = files(&format!("{COHORT}A,divert,{index}\n"), &o);
    let e = evaluate(&f, extract, rules);
    (
        e.outcomes.eligible[0],
        e.outcomes.reoffences[0],
        e.outcomes.days_to_first[0],
    )
}

#[test]
fn offence_on_the_index_date_counts_only_when_asked() {
    let r = one(
        "2021-01-01",
        &[("2021-01-01", "2021-02-01")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 0, -1));
    let rules = Rules {
        count_index_day: true,
        ..Rules::default()
    };
    let r = one(
        "2021-01-01",
        &[("2021-01-01", "2021-02-01")],
        "2023-01-01",
        rules,
    );
    assert_eq!(r, (true, 1, 0));
}

#[test]
fn day_365_counts_and_day_366_does_not() {
    // 2021-01-01 + 365 days = 2022-01-01.
    let r = one(
        "2021-01-01",
        &[("2022-01-01", "2022-02-01")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 1, 365));
    let r = one(
        "2021-01-01",
        &[("2022-01-02", "2022-02-01")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 0, -1));
    let r = one(
        "2021-01-01",
        &[("2021-01-02", "2021-02-01")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 1, 1));
}

#[test]
fn disposal_on_the_last_day_of_the_waiting_period_counts() {
    // 2021-01-01 + 365 + 182 = 2022-07-02.
    let r = one(
        "2021-01-01",
        &[("2021-06-01", "2022-07-02")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 1, 151));
    let r = one(
        "2021-01-01",
        &[("2021-06-01", "2022-07-03")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 0, -1));
}

#[test]
fn eligibility_exactly_at_the_extract_date() {
    let r = one("2021-01-01", &[], "2022-07-02", Rules::default());
    assert!(r.0, "index + 547 == extract is eligible");
    let r = one("2021-01-01", &[], "2022-07-01", Rules::default());
    assert!(!r.0, "one day short is not");
}

#[test]
fn leap_years_count_days_not_calendar_months() {
    // 2020-02-29 + 365 days = 2021-02-28.
    let r = one(
        "2020-02-29",
        &[("2021-02-28", "2021-03-10")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 1, 365));
    let r = one(
        "2020-02-29",
        &[("2021-03-01", "2021-03-10")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r.1, 0);
    // 2019-03-01 + 365 days = 2020-02-29 (a leap day).
    let r = one(
        "2019-03-01",
        &[("2020-02-29", "2020-03-10")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 1, 365));
}

#[test]
fn offences_before_the_index_never_count_even_if_proven_later() {
    let r = one(
        "2021-01-01",
        &[("2020-12-31", "2021-03-01")],
        "2023-01-01",
        Rules::default(),
    );
    assert_eq!(r, (true, 0, -1));
}

#[test]
fn custom_follow_up_and_waiting() {
    let rules = Rules {
        follow_up_days: 180,
        waiting_days: 90,
        count_index_day: false,
    };
    let r = one(
        "2021-01-01",
        &[("2021-06-30", "2021-09-28")],
        "2022-01-01",
        rules,
    );
    assert_eq!(r, (true, 1, 180));
    let r = one(
        "2021-01-01",
        &[("2021-06-30", "2021-09-29")],
        "2022-01-01",
        rules,
    );
    assert_eq!(r, (true, 0, -1));
}

#[test]
fn exact_duplicates_count_once_and_near_duplicates_twice() {
    let f = files(
        &format!("{COHORT}A,divert,2021-01-01\nB,divert,2021-01-01\n"),
        &format!(
            "{OFFENCES}A,2021-03-01,2021-04-01,theft\nA,2021-03-01,2021-04-01,theft\n\
             B,2021-03-01,2021-04-01,theft\nB,2021-03-01,2021-04-01,burglary\nB,2021-03-01,2021-04-02,theft\n"
        ),
    );
    let e = evaluate(&f, "2023-01-01", Rules::default());
    assert_eq!(e.outcomes.reoffences, vec![1, 3]);
    assert_eq!(
        e.quality
            .excluded(TableKind::Offences, Reason::DuplicateOffence),
        1
    );
    let dup = e
        .quality
        .exclusions
        .iter()
        .find(|x| x.reason == Reason::DuplicateOffence)
        .unwrap();
    assert_eq!(
        dup.first_rows,
        vec![2],
        "the later copy is the one excluded"
    );
}

#[test]
fn people_with_no_offences_and_offences_of_strangers() {
    let f = files(
        &format!("{COHORT}A,divert,2021-01-01\nB,comparison,2021-01-01\n"),
        &format!("{OFFENCES}Z,2021-03-01,2021-04-01,theft\nA,2021-03-01,2021-04-01,theft\n"),
    );
    let e = evaluate(&f, "2023-01-01", Rules::default());
    assert_eq!(e.outcomes.reoffences, vec![1, 0]);
    assert_eq!(
        e.quality
            .excluded(TableKind::Offences, Reason::PersonNotInCohort),
        1
    );
    assert_eq!(e.quality.rows_used.offences, 1);
}

#[test]
fn repeat_index_events_use_the_earliest_and_two_cohorts_exclude_the_person() {
    let f = files(
        &format!(
            "{COHORT}A,divert,2021-05-01\nA,divert,2021-01-01\nB,divert,2021-01-01\nB,comparison,2021-02-01\nC,divert,2024-01-01\n"
        ),
        &format!("{OFFENCES}A,2021-03-01,2021-04-01,theft\nB,2021-03-01,2021-04-01,theft\n"),
    );
    let e = evaluate(&f, "2023-01-01", Rules::default());
    assert_eq!(e.data.people.len(), 1);
    assert_eq!(e.data.people.index_day[0], day("2021-01-01"));
    assert_eq!(
        e.outcomes.reoffences,
        vec![1],
        "the offence falls after the earliest index"
    );
    let q = &e.quality;
    assert_eq!(q.excluded(TableKind::Cohort, Reason::RepeatIndexEvent), 1);
    assert_eq!(q.excluded(TableKind::Cohort, Reason::InTwoCohorts), 2);
    assert_eq!(q.excluded(TableKind::Cohort, Reason::IndexAfterExtract), 1);
    assert_eq!(
        q.excluded(TableKind::Offences, Reason::PersonNotInCohort),
        1
    );
    let repeat = q
        .exclusions
        .iter()
        .find(|x| x.reason == Reason::RepeatIndexEvent)
        .unwrap();
    assert_eq!(repeat.first_rows, vec![1]);
}

#[test]
fn row_problems_are_counted_with_their_rows() {
    let f = files(
        &format!(
            "{COHORT}A,divert,2021-01-01\n,divert,2021-01-01\nC,,2021-01-01\nD,divert,2021-02-30\nE,divert,\n"
        ),
        &format!(
            "{OFFENCES}A,2021-03-01,2021-04-01,theft\nA,,2021-04-01,theft\nA,2021-03-01,yesterday,theft\nA,2021-05-01,2021-04-01,theft\n,2021-03-01,2021-04-01,theft\n"
        ),
    );
    let e = evaluate(&f, "2023-01-01", Rules::default());
    let q = &e.quality;
    assert_eq!(q.excluded(TableKind::Cohort, Reason::MissingValue), 3);
    assert_eq!(q.excluded(TableKind::Cohort, Reason::UnparseableValue), 1);
    assert_eq!(q.excluded(TableKind::Offences, Reason::MissingValue), 2);
    assert_eq!(q.excluded(TableKind::Offences, Reason::UnparseableValue), 1);
    assert_eq!(
        q.excluded(TableKind::Offences, Reason::DisposalBeforeOffence),
        1
    );
    let miss = q
        .exclusions
        .iter()
        .find(|x| x.table == TableKind::Cohort && x.reason == Reason::MissingValue)
        .unwrap();
    assert_eq!(miss.first_rows, vec![2, 3, 5]);
    assert_eq!(e.outcomes.reoffences, vec![1]);
}

#[test]
fn attrition_adds_up_and_partial_follow_up_is_kept_for_survival() {
    let f = files(
        &format!(
            "{COHORT}A,divert,2021-01-01\nB,divert,2022-06-01\nB,divert,2022-07-01\nC,divert,2022-12-31\n"
        ),
        &format!(
            "{OFFENCES}B,2022-07-01,2022-08-01,theft\nB,2022-07-01,2022-08-01,theft\nQ,2021-01-01,2021-01-02,x\n"
        ),
    );
    let e = evaluate(&f, "2023-01-01", Rules::default());
    let q = &e.quality;
    for (t, read, used) in [
        (TableKind::Cohort, q.rows_read.cohort, q.rows_used.cohort),
        (
            TableKind::Offences,
            q.rows_read.offences,
            q.rows_used.offences,
        ),
    ] {
        assert_eq!(read, used + q.excluded_total(t), "{t}");
    }
    assert_eq!(
        q.excluded(TableKind::Cohort, Reason::InsufficientFollowUp),
        2
    );
    // B: indexed 2022-06-01, extract 2023-01-01: observed min(365, 214 - 182) = 32 days;
    // the offence on day 30 is an event in the partial window.
    let b = 1;
    assert!(!e.outcomes.eligible[b]);
    assert_eq!(e.outcomes.observed_days[b], 32);
    assert!(e.outcomes.event[b]);
    assert_eq!(e.outcomes.days_to_first[b], 30);
    // C: indexed the day before the extract: not yet observable.
    assert!(e.outcomes.observed_days[2] <= 0);
}

#[test]
fn shuffled_rows_give_the_same_result() {
    let cohort_rows = [
        "A,divert,2021-01-01",
        "B,comparison,2021-02-01",
        "C,divert,2021-03-01",
        "A,divert,2021-04-01",
        "D,comparison,2021-01-15",
    ];
    let offence_rows = [
        "A,2021-03-01,2021-04-01,theft",
        "A,2021-03-01,2021-04-01,theft",
        "B,2021-12-01,2022-01-01,arson",
        "C,2022-01-01,2022-02-01,theft",
        "D,2021-01-16,2021-01-20,fraud",
        "D,2021-01-16,2021-01-20,theft",
        "Z,2021-01-16,2021-01-20,theft",
    ];
    let run = |c: Vec<&str>, o: Vec<&str>| {
        let f = files(
            &format!("{COHORT}{}\n", c.join("\n")),
            &format!("{OFFENCES}{}\n", o.join("\n")),
        );
        let e = evaluate(&f, "2023-01-01", Rules::default());
        let mut per: Vec<(i32, u32, i32)> = (0..e.data.people.len())
            .map(|i| {
                (
                    e.data.people.index_day[i],
                    e.outcomes.reoffences[i],
                    e.outcomes.days_to_first[i],
                )
            })
            .collect();
        per.sort();
        let counts: Vec<(TableKind, Reason, u64)> = e
            .quality
            .exclusions
            .iter()
            .map(|x| (x.table, x.reason, x.rows))
            .collect();
        (per, counts)
    };
    let base = run(cohort_rows.to_vec(), offence_rows.to_vec());
    let mut c = cohort_rows.to_vec();
    let mut o = offence_rows.to_vec();
    c.reverse();
    o.reverse();
    o.swap(0, 3);
    assert_eq!(run(c, o), base);
}

#[test]
fn listed_non_proven_outcomes_are_excluded_and_counted() {
    let f = files(
        &format!("{COHORT}A,divert,2021-01-01\n"),
        "person_id,offence_date,disposal_date,offence_type,disposal\n\
         A,2021-02-01,2021-03-01,theft,conviction\n\
         A,2021-02-02,2021-03-01,theft,Community Resolution\n\
         A,2021-02-03,2021-03-01,breach,conviction\n",
    );
    let mut load = options("2023-01-01");
    let e = reoffending::Evaluation::load(
        &reoffending::Inputs {
            cohort: f.cohort.clone(),
            offences: f.offences.clone(),
            load: load.clone(),
        },
        Rules::default(),
    )
    .unwrap();
    assert_eq!(
        e.outcomes.reoffences,
        vec![3],
        "by default every row is taken as proven"
    );
    load.not_proven = reoffending::data::NotProven {
        disposals: vec!["community_resolution".into()],
        offence_types: vec!["breach".into()],
    };
    let e = reoffending::Evaluation::load(
        &reoffending::Inputs {
            cohort: f.cohort.clone(),
            offences: f.offences.clone(),
            load,
        },
        Rules::default(),
    )
    .unwrap();
    assert_eq!(e.outcomes.reoffences, vec![1]);
    assert_eq!(
        e.quality
            .excluded(TableKind::Offences, Reason::NotProvenOutcome),
        2
    );
    assert_eq!(
        e.quality.rows_read.offences,
        e.quality.rows_used.offences + 2
    );
}

#[test]
fn prior_offences_are_those_proven_before_the_index_date() {
    // Both people have the same history; only the comparison person's index offence (a
    // caution on the index date) is in the table, as for formal disposals; diversion is not
    // a proven disposal. An offence committed before the index date but proven after it was
    // not proven at the index event: not a prior either.
    let f = files(
        "person_id,cohort,index_date\nD,divert,2021-06-01\nC,comparison,2021-06-01\n",
        "person_id,offence_date,disposal_date\n\
         D,2021-01-10,2021-03-01\nC,2021-01-10,2021-03-01\n\
         C,2021-05-20,2021-06-01\n\
         D,2021-05-01,2021-07-01\n",
    );
    let e = evaluate(&f, "2023-06-30", Rules::default());
    let prior = match &e.data.people.column("prior_offences").unwrap().values {
        reoffending::data::Values::Numeric(v) => v.clone(),
        _ => panic!("numeric"),
    };
    assert_eq!(
        prior,
        vec![Some(1.0), Some(1.0)],
        "balanced: the index offence is not a prior"
    );
}
