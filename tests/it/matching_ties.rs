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

#[test]
fn matched_out_writes_matchits_columns_one_row_per_person_and_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("matched.csv");
    let j = run_json(&[
        "match",
        "--cohort",
        SAMPLE_COHORT,
        "--offences",
        SAMPLE_OFFENCES,
        "--covariates",
        "sex,age_at_index,prior_offences,ethnicity,index_offence",
        "--matched-out",
        &path(&out),
        "--format",
        "json",
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("person_id,cohort,subclass,weight,propensity_score")
    );
    // Per set: the pilot people's weights and the controls' weights sum to the same mass.
    let mut sets: std::collections::BTreeMap<u32, (f64, f64)> = Default::default();
    let mut ids = std::collections::BTreeSet::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 5, "{l}");
        assert!(f[0].starts_with('P'), "{l}");
        let (set, w, ps): (u32, f64, f64) = (
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
            f[4].parse().unwrap(),
        );
        assert!(w > 0.0 && (0.0..1.0).contains(&ps), "{l}");
        let e = sets.entry(set).or_default();
        if f[1] == "divert" {
            e.0 += w;
            ids.insert(f[0].to_string());
        } else {
            e.1 += w;
        }
    }
    for (set, (t, c)) in &sets {
        assert!((t - c).abs() < 1e-9, "set {set}: pilot {t}, controls {c}");
    }
    assert_eq!(
        ids.len() as u64,
        j["sample"]["matched_treated"].as_u64().unwrap()
    );
}
