//! Matching that does not depend on the pseudonyms: the committed sample, with every person
//! renamed (and rows reordered), gives the same matched comparison, balance, Rosenbaum
//! bounds and matched sets, figure for figure.

use crate::common;

use common::*;
use reoffending::Analysis;
use reoffending::matching::{MatchOptions, MatchedComparison};

const SAMPLE_COHORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples/cohort.csv");
const SAMPLE_OFFENCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples/offences.csv");

/// A new pseudonym for `id` under renaming number `k`: a bijection (the old id is kept
/// inside, so two people never share a new one) that scrambles the sort order.
fn rename(id: &str, k: u64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}-{id}")
}

/// The sample with every identifier renamed and the data rows of both tables reversed or
/// rotated.
fn renamed(k: u64) -> Files {
    let rewrite = |path: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap().to_string();
        let mut rows: Vec<String> = lines
            .map(|l| {
                let (id, rest) = l.split_once(',').unwrap();
                format!("{},{rest}", rename(id, k))
            })
            .collect();
        if k % 2 == 0 {
            rows.reverse();
        } else {
            let n = rows.len();
            rows.rotate_left((k as usize * 7919) % n);
        }
        format!("{header}\n{}\n", rows.join("\n"))
    };
    files(&rewrite(SAMPLE_COHORT), &rewrite(SAMPLE_OFFENCES))
}

fn matched(f: &Files) -> MatchedComparison {
    let eval = evaluate(f, "2023-03-31", reoffending::Rules::default());
    let options = MatchOptions {
        covariates: [
            "sex",
            "age_at_index",
            "prior_offences",
            "ethnicity",
            "index_offence",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..Default::default()
    };
    MatchedComparison::compute(&eval, &options).unwrap()
}

#[test]
fn renaming_every_identifier_changes_no_matched_figure() {
    let original = {
        let f = files(
            &std::fs::read_to_string(SAMPLE_COHORT).unwrap(),
            &std::fs::read_to_string(SAMPLE_OFFENCES).unwrap(),
        );
        matched(&f)
    };
    let want = serde_json::to_string(&original).unwrap();
    // The sample has many tied propensity scores: the test would be empty without them.
    assert!(original.sample.matched_controls > original.sample.matched_treated);
    for k in 1..=4 {
        let m = matched(&renamed(k));
        assert_eq!(serde_json::to_string(&m).unwrap(), want, "renaming {k}");
        // The matched sets are the same sets of people (by their row of data, which the
        // renaming keeps apart from its order), with the same weights.
        let mut a: Vec<(u32, bool, u64)> = original
            .sets
            .iter()
            .map(|x| (x.subclass, x.treated, (x.weight * 1e12).round() as u64))
            .collect();
        let mut b: Vec<(u32, bool, u64)> = m
            .sets
            .iter()
            .map(|x| (x.subclass, x.treated, (x.weight * 1e12).round() as u64))
            .collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "renaming {k}: matched sets");
    }
}
