//! The rules against a plain hand loop on random adversarial data: duplicates, people in
//! two cohorts, repeat index events, offences around every window edge, strangers.

use crate::common;

use std::collections::{BTreeMap, HashSet};

use common::*;
use proptest::prelude::*;
use reoffending::{Reason, Rules, TableKind};

#[derive(Debug, Clone)]
struct Case {
    cohort: Vec<(u8, u8, i32)>, // (person, cohort label, index day offset)
    offences: Vec<(u8, i32, i32, u8)>, // (person, offence offset, disposal lag, type)
    extract: i32,
    rules: Rules,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u8..8, 0u8..2, 0i32..400), 0..10),
        prop::collection::vec((0u8..10, -30i32..500, -3i32..300, 0u8..2), 0..40),
        400i32..1000,
        (1u32..400, 0u32..200, any::<bool>()),
    )
        .prop_map(|(cohort, offences, extract, (f, w, c))| Case {
            cohort,
            offences,
            extract,
            rules: Rules {
                follow_up_days: f,
                waiting_days: w,
                count_index_day: c,
            },
        })
}

const BASE: i32 = 18_628; // 2021-01-01

fn date(d: i32) -> String {
    reoffending::format_day(BASE + d)
}

#[derive(Debug, PartialEq)]
struct PersonResult {
    eligible: bool,
    reoffences: u32,
    first: i32,
    observed: i32,
    prior_year: u32,
}

/// The rules as docs/rules.md §2 states them, applied row by row.
fn oracle(
    c: &Case,
) -> (
    BTreeMap<u8, PersonResult>,
    BTreeMap<(TableKind, Reason), u64>,
) {
    let mut excl: BTreeMap<(TableKind, Reason), u64> = BTreeMap::new();
    let mut kept: BTreeMap<u8, (i32, usize)> = BTreeMap::new();
    let mut labels: BTreeMap<u8, HashSet<u8>> = BTreeMap::new();
    for &(p, l, _) in &c.cohort {
        labels.entry(p).or_default().insert(l);
    }
    for (row, &(p, _, idx)) in c.cohort.iter().enumerate() {
        if labels[&p].len() > 1 {
            *excl
                .entry((TableKind::Cohort, Reason::InTwoCohorts))
                .or_default() += 1;
            continue;
        }
        match kept.get(&p) {
            Some(&(best, _)) if best <= idx => {
                *excl
                    .entry((TableKind::Cohort, Reason::RepeatIndexEvent))
                    .or_default() += 1;
            }
            Some(_) => {
                *excl
                    .entry((TableKind::Cohort, Reason::RepeatIndexEvent))
                    .or_default() += 1;
                kept.insert(p, (idx, row));
            }
            None => {
                kept.insert(p, (idx, row));
            }
        }
    }
    kept.retain(|_, (idx, _)| {
        let after = *idx > c.extract;
        if after {
            *excl
                .entry((TableKind::Cohort, Reason::IndexAfterExtract))
                .or_default() += 1;
        }
        !after
    });
    let (f, w) = (c.rules.follow_up_days as i32, c.rules.waiting_days as i32);
    let mut seen = HashSet::new();
    let mut used: Vec<(u8, i32, i32)> = Vec::new();
    for &(p, o, lag, t) in &c.offences {
        let d = o + lag;
        if d < o {
            *excl
                .entry((TableKind::Offences, Reason::DisposalBeforeOffence))
                .or_default() += 1;
        } else if !kept.contains_key(&p) {
            *excl
                .entry((TableKind::Offences, Reason::PersonNotInCohort))
                .or_default() += 1;
        } else if !seen.insert((p, o, d, t)) {
            *excl
                .entry((TableKind::Offences, Reason::DuplicateOffence))
                .or_default() += 1;
        } else {
            used.push((p, o, d));
        }
    }
    // The rules in their own words, written without the implementation's window:
    // - a person is in the 12-month measure once follow-up and waiting period have passed
    //   by the extract date;
    // - day k after the index date (k >= 1; k >= 0 with count_index_day) is observed when
    //   it is within follow-up and its whole waiting period has passed by the extract date;
    // - an offence counts when committed on an observed day and proven within the waiting
    //   period after follow-up and by the extract date;
    // - the placebo outcome (prior_year) counts the proven offences of the year before the
    //   index date, the year being the follow-up length (docs/rules.md, "Offences no analysis
    //   reads": the placebo reads the follow-up back): committed 1 to f days before the index
    //   date and disposed of before it (by the day before), so that the index offence (disposed
    //   of on the index date) is never one, whatever the extract date.
    let mut out = BTreeMap::new();
    for (&p, &(idx, _)) in &kept {
        let eligible = idx + f + w <= c.extract;
        let first_k = if c.rules.count_index_day { 0 } else { 1 };
        let observed_day = |k: i32| k >= first_k && k <= f && idx + k + w <= c.extract;
        let observed = (1..=f).filter(|&k| observed_day(k)).count() as i32;
        let mut n = 0;
        let mut first = i32::MAX;
        for &(q, o, d) in &used {
            if q == p && observed_day(o - idx) && d <= idx + f + w && d <= c.extract {
                n += 1;
                first = first.min(o - idx);
            }
        }
        let prior_year = used
            .iter()
            .filter(|&&(q, o, d)| q == p && (1..=f).contains(&(idx - o)) && d < idx)
            .count() as u32;
        if !eligible {
            *excl
                .entry((TableKind::Cohort, Reason::InsufficientFollowUp))
                .or_default() += 1;
        }
        out.insert(
            p,
            PersonResult {
                eligible,
                reoffences: n,
                first: if n > 0 { first } else { -1 },
                observed,
                prior_year,
            },
        );
    }
    (out, excl)
}

/// Runs the library on `c` and compares every person and every exclusion with the oracle.
fn check(c: &Case) -> Result<(), TestCaseError> {
    let mut cohort = String::from("person_id,cohort,index_date\n");
    for (p, l, idx) in &c.cohort {
        cohort.push_str(&format!(
            "P{p},{},{}\n",
            ["divert", "comparison"][*l as usize],
            date(*idx)
        ));
    }
    let mut offences = String::from("person_id,offence_date,disposal_date,offence_type\n");
    for (p, o, lag, t) in &c.offences {
        offences.push_str(&format!("P{p},{},{},t{t}\n", date(*o), date(o + lag)));
    }
    let f = files(&cohort, &offences);
    let extract = reoffending::format_day(BASE + c.extract);
    let e = evaluate(&f, &extract, c.rules);
    let (want, want_excl) = oracle(c);
    // People come out in cohort-file order of their kept row; match them by index date
    // and row: compare as a map keyed by the person's source row.
    let mut got = BTreeMap::new();
    for i in 0..e.data.people.len() {
        let row = e.data.people.source_row[i] as usize - 1;
        let p = c.cohort[row].0;
        got.insert(
            p,
            PersonResult {
                eligible: e.outcomes.eligible[i],
                reoffences: e.outcomes.reoffences[i],
                first: e.outcomes.days_to_first[i],
                // Not yet observable is any number <= 0 in the outcomes; the oracle counts days.
                observed: e.outcomes.observed_days[i].max(0),
                prior_year: e.outcomes.prior_year[i],
            },
        );
    }
    prop_assert_eq!(got, want);
    let got_excl: BTreeMap<(TableKind, Reason), u64> = e
        .quality
        .exclusions
        .iter()
        .map(|x| ((x.table, x.reason), x.rows))
        .collect();
    prop_assert_eq!(got_excl, want_excl);
    prop_assert_eq!(e.quality.rows_read.cohort, c.cohort.len() as u64);
    prop_assert_eq!(e.quality.rows_read.offences, c.offences.len() as u64);
    Ok(())
}

/// One person, and offences on the edges of the placebo window (the follow-up before the
/// index date): committed f + 1, f, f - 1, 1 or 0 days before the index date (or the day
/// after), disposed of the day before, on or the day after the index date.
fn prior_year_edges() -> impl Strategy<Value = Case> {
    (
        0i32..400,
        prop::collection::vec((0usize..6, -1i32..=1, 0u8..2), 1..8),
        400i32..1000,
        (1u32..400, 0u32..200, any::<bool>()),
    )
        .prop_map(|(idx, edges, extract, (f, w, c))| {
            let fi = f as i32;
            let offences = edges
                .into_iter()
                .map(|(k, dd, t)| {
                    let o = idx - [fi + 1, fi, fi - 1, 1, 0, -1][k];
                    (0, o, idx + dd - o, t)
                })
                .collect();
            Case {
                cohort: vec![(0, 0, idx)],
                offences,
                extract,
                rules: Rules {
                    follow_up_days: f,
                    waiting_days: w,
                    count_index_day: c,
                },
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn rules_agree_with_a_hand_loop(c in case()) {
        check(&c)?;
    }

    #[test]
    fn the_placebo_window_agrees_with_a_hand_loop_on_its_edges(c in prior_year_edges()) {
        check(&c)?;
    }
}
