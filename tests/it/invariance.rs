//! Results never depend on identifiers or row order: the sample report, with every
//! pseudonym renamed and the rows of both files shuffled, gives the same figures to the
//! last bit (only the input files' sizes and digests in the provenance differ).

use crate::common::{files_under, run_report, sample_dir, sample_evaluation_text};
use std::path::Path;

/// A salted FNV-1a hash of a pseudonym, as a new pseudonym: a renaming that keeps no trace
/// of the old identifiers' order.
fn renamed(id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"salt:".iter().chain(id.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("Q{h:016x}")
}

/// Fisher-Yates with a fixed linear congruential generator (reproducible, no crate).
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed;
    for i in (1..v.len()).rev() {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        v.swap(i, ((s >> 33) % (i as u64 + 1)) as usize);
    }
}

/// `file` of the sample with its first column (the pseudonym) renamed and its rows shuffled.
fn scrambled(file: &str, seed: u64) -> String {
    let text = std::fs::read_to_string(sample_dir().join(file)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("person_id,"), "{file}: {header}");
    let mut rows: Vec<String> = lines
        .map(|l| {
            let (id, rest) = l.split_once(',').unwrap();
            format!("{},{rest}", renamed(id))
        })
        .collect();
    assert!(rows.len() > 10_000, "{file} has {} rows", rows.len());
    shuffle(&mut rows, seed);
    format!("{header}\n{}\n", rows.join("\n"))
}

/// `report.json` without its provenance (which names the input files' digests) and the
/// input files' paths.
fn figures(out: &Path) -> serde_json::Value {
    let mut v = crate::common::report_json(out);
    v.as_object_mut().unwrap().remove("provenance");
    for f in v["data_quality"]["files"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("path");
    }
    v
}

/// The paths (`a.b[3].c`) at which two JSON values differ, with both values.
fn differences(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(v, w, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: only before")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}.{k}: only after"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} against {b}")),
        _ => {}
    }
}

#[test]
fn renaming_pseudonyms_and_shuffling_rows_changes_no_figure() {
    let dir = tempfile::tempdir().unwrap();
    let text = sample_evaluation_text();
    let original = dir.path().join("original.toml");
    std::fs::write(&original, &text).unwrap();
    for (file, seed) in [("cohort.csv", 11), ("offences.csv", 23)] {
        std::fs::write(dir.path().join(file), scrambled(file, seed)).unwrap();
    }
    let scrambled_cfg = dir.path().join("scrambled.toml");
    let mut text2 = text.clone();
    for file in ["cohort.csv", "offences.csv"] {
        text2 = text2.replace(
            &format!("{:?}", sample_dir().join(file)),
            &format!("{:?}", dir.path().join(file)),
        );
    }
    assert_ne!(text, text2);
    std::fs::write(&scrambled_cfg, text2).unwrap();

    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_report(&original, &a);
    run_report(&scrambled_cfg, &b);
    let mut moved = Vec::new();
    differences(&figures(&a), &figures(&b), "", &mut moved);
    assert!(
        moved.is_empty(),
        "report.json moved with the pseudonyms or the row order at {} places:\n{}",
        moved.len(),
        moved.join("\n")
    );
    // Every chart's data and every table the report writes as CSV, byte for byte.
    let csvs = |d: &Path| -> Vec<(String, Vec<u8>)> {
        files_under(d)
            .into_iter()
            // The input files' sizes and digests (the provenance) differ by design.
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .filter(|p| !p.ends_with("tables/provenance.csv"))
            .map(|p| {
                let rel = p.strip_prefix(d).unwrap().display().to_string();
                (rel, std::fs::read(&p).unwrap())
            })
            .collect()
    };
    let (ca, cb) = (csvs(&a), csvs(&b));
    assert!(ca.len() > 10, "{} CSV files", ca.len());
    assert_eq!(ca.len(), cb.len());
    for ((name, x), (_, y)) in ca.iter().zip(&cb) {
        assert!(x == y, "{name} differs after renaming and shuffling");
    }
}
