//! The "as delivered" sample (data-samples/as-delivered/): the plain sample as a delivery
//! partner and a force would send it, generated from the plain sample by [`write_sample`]
//! so the two cannot drift (`as_delivered_sample_is_current` fails when they do;
//! `REGENERATE_SAMPLES=1 cargo test --release --test it as_delivered::` rewrites it).
//!
//! - `referrals.xlsx`, sheet `Referrals` (after a notes sheet): `PersonURN`, `Scheme`
//!   (`Drug Diversion` / `Comparison`), `DiversionDate` as date cells, `Gender`,
//!   `AgeAtReferral` as numbers, `Ethnicity`, `PoliceArea`, `IndexOffence`, `Force`;
//! - `offences/`: the history to 2019 as one `.csv.gz`, 2020 and 2021 as `.csv.zst`, then a
//!   CSV per month of disposal, with `PersonURN`, `CommittedDate` and `OutcomeDate` in UK
//!   dates (`dd/mm/yyyy`), `OffenceCategory`, and `OutcomeCode` numeric codes
//!   (`outcome_codes.csv`: 1 conviction, 2 custody, 3 caution, 8 community resolution).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::run_json;

fn root() -> PathBuf {
    crate::common::sample_dir()
}

fn sample() -> PathBuf {
    root().join("as-delivered")
}

const CODES: [(&str, &str); 4] = [
    ("1", "conviction"),
    ("2", "custody"),
    ("3", "caution"),
    ("8", "community_resolution"),
];

fn uk(iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.len() == 10 => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}

fn rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn csv_text(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.into_inner().unwrap()
}

/// Writes the as-delivered variant of the plain sample into `dir`.
fn write_sample(dir: &Path) {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    std::fs::create_dir_all(dir.join("offences")).unwrap();
    // Referrals: a workbook whose second sheet holds them.
    let (h, cohort) = rows(&root().join("cohort.csv"));
    let at = |name: &str| h.iter().position(|x| x == name).unwrap();
    let mut book = Workbook::new();
    let fixed = ExcelDateTime::from_ymd(2026, 1, 1).unwrap();
    book.set_properties(&DocProperties::new().set_creation_datetime(&fixed));
    let notes = book.add_worksheet().set_name("About").unwrap();
    notes
        .write_string(
            0,
            0,
            "Referrals to the drug diversion scheme and the comparison group (synthetic).",
        )
        .unwrap();
    let sheet = book.add_worksheet().set_name("Referrals").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let names = [
        "PersonURN",
        "Scheme",
        "DiversionDate",
        "Gender",
        "AgeAtReferral",
        "Ethnicity",
        "PoliceArea",
        "IndexOffence",
        "Force",
    ];
    for (j, n) in names.iter().enumerate() {
        sheet.write_string(0, j as u16, *n).unwrap();
    }
    for (i, r) in cohort.iter().enumerate() {
        let row = i as u32 + 1;
        let text = |k: &str| r[at(k)].clone();
        sheet.write_string(row, 0, text("person_id")).unwrap();
        let scheme = match text("cohort").as_str() {
            "divert" => "Drug Diversion".to_string(),
            "comparison" => "Comparison".to_string(),
            other => other.to_string(),
        };
        sheet.write_string(row, 1, scheme).unwrap();
        let d = text("index_date");
        match (d.get(0..4), d.get(5..7), d.get(8..10)) {
            (Some(y), Some(m), Some(dd)) if d.len() == 10 => {
                let dt = ExcelDateTime::from_ymd(
                    y.parse().unwrap(),
                    m.parse().unwrap(),
                    dd.parse().unwrap(),
                )
                .unwrap();
                sheet
                    .write_datetime_with_format(row, 2, &dt, &date)
                    .unwrap();
            }
            _ if d.is_empty() => {}
            _ => {
                sheet.write_string(row, 2, d).unwrap();
            }
        }
        for (j, k) in [
            (3, "sex"),
            (5, "ethnicity"),
            (6, "area"),
            (7, "index_offence"),
            (8, "force"),
        ] {
            let v = text(k);
            if !v.is_empty() {
                sheet.write_string(row, j, v).unwrap();
            }
        }
        match text("age_at_index").parse::<f64>() {
            Ok(a) => {
                sheet.write_number(row, 4, a).unwrap();
            }
            Err(_) => {
                let v = text("age_at_index");
                if !v.is_empty() {
                    sheet.write_string(row, 4, v).unwrap();
                }
            }
        }
    }
    book.save(dir.join("referrals.xlsx")).unwrap();

    // Offences: by the month the outcome was recorded.
    let (h, offences) = rows(&root().join("offences.csv"));
    let at = |name: &str| h.iter().position(|x| x == name).unwrap();
    let code: BTreeMap<&str, &str> = CODES.iter().map(|(c, l)| (*l, *c)).collect();
    let mut files: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for r in &offences {
        let disposal = r[at("disposal_date")].clone();
        let file = match disposal.get(0..4).and_then(|y| y.parse::<u32>().ok()) {
            Some(y) if y >= 2022 && disposal.len() == 10 => format!("pnc_{}.csv", &disposal[..7]),
            Some(y @ (2020 | 2021)) => format!("pnc_{y}.csv.zst"),
            _ => "pnc_2012-2019.csv.gz".to_string(),
        };
        let kind = r[at("disposal")].clone();
        files.entry(file).or_default().push(vec![
            r[at("person_id")].clone(),
            uk(&r[at("offence_date")]),
            uk(&disposal),
            r[at("offence_type")].clone(),
            code.get(kind.as_str())
                .map_or(kind.clone(), |c| c.to_string()),
        ]);
    }
    let header = [
        "PersonURN",
        "CommittedDate",
        "OutcomeDate",
        "OffenceCategory",
        "OutcomeCode",
    ];
    for (name, rows) in &files {
        let text = csv_text(&header, rows);
        let path = dir.join("offences").join(name);
        let bytes = if name.ends_with(".gz") {
            // A fixed header (no file name or time): the same bytes every time.
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::default());
            gz.write_all(&text).unwrap();
            gz.finish().unwrap()
        } else if name.ends_with(".zst") {
            zstd::encode_all(text.as_slice(), 3).unwrap()
        } else {
            text
        };
        std::fs::write(path, bytes).unwrap();
    }
    let lookup: Vec<Vec<String>> = CODES
        .iter()
        .map(|(c, l)| vec![c.to_string(), l.to_string()])
        .collect();
    std::fs::write(
        dir.join("outcome_codes.csv"),
        csv_text(&["value", "label"], &lookup),
    )
    .unwrap();
}

/// Every file under `dir`, relative, with its bytes (a workbook by its sheets' cells, as
/// the zip container may differ between writers' runs).
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if rel.ends_with(".toml") || rel.ends_with(".md") {
                continue;
            }
            let bytes = if rel.ends_with(".xlsx") {
                use calamine::Reader;
                let mut book = calamine::open_workbook_auto(&p).unwrap();
                let mut text = String::new();
                for name in book.sheet_names() {
                    let range = book.worksheet_range(&name).unwrap();
                    for row in range.rows() {
                        for c in row {
                            text.push_str(&format!("{c:?}\t"));
                        }
                        text.push('\n');
                    }
                }
                text.into_bytes()
            } else {
                std::fs::read(&p).unwrap()
            };
            out.insert(rel, bytes);
        }
    }
    out
}

#[test]
fn as_delivered_sample_is_current() {
    if std::env::var_os("REGENERATE_SAMPLES").is_some() {
        write_sample(&sample());
    }
    let dir = tempfile::tempdir().unwrap();
    write_sample(dir.path());
    let (fresh, committed) = (contents(dir.path()), contents(&sample()));
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "the as-delivered sample's files differ from the plain sample's: regenerate it"
    );
    for (k, v) in &fresh {
        assert!(
            committed[k] == *v,
            "{k} differs from the plain sample's: regenerate it"
        );
    }
}

fn json(args: &[&str]) -> Value {
    run_json(args)
}

/// A report's JSON without what names the files (provenance, files, the columns warnings
/// name): the figures.
fn figures(mut j: Value) -> Value {
    if let Value::Object(m) = &mut j {
        m.remove("provenance");
        m.remove("input");
    }
    // The layout of the extract's text dates, not a figure.
    if let Some(p) = j.get_mut("parameters").and_then(Value::as_object_mut) {
        p.remove("date_format");
    }
    if let Some(q) = j.get_mut("data_quality").and_then(Value::as_object_mut) {
        q.remove("files");
        // The file of each example row (a table of several files); the rows themselves are
        // not published.
        for e in q
            .get_mut("exclusions")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(e) = e.as_object_mut() {
                e.remove("first_files");
            }
        }
        for w in q
            .get_mut("warnings")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(w) = w.as_object_mut() {
                w.remove("message");
                w.remove("column");
                w.remove("first_files");
            }
        }
    }
    j
}

#[test]
fn as_delivered_gives_the_plain_figures() {
    let plain = root().join("evaluation.toml");
    let delivered = sample().join("evaluation.toml");
    for cmd in [
        vec!["rates", "--format", "json", "--config"],
        vec!["compare", "--format", "json", "--config"],
    ] {
        let run = |c: &Path| {
            let mut a = cmd.clone();
            let c = c.display().to_string();
            a.push(&c);
            figures(json(&a))
        };
        same(&run(&plain), &run(&delivered), cmd[0]);
    }
    let out = tempfile::tempdir().unwrap();
    let report = |c: &Path, sub: &str| {
        let dir = out.path().join(sub);
        let status = assert_cmd::Command::cargo_bin("reoffending")
            .unwrap()
            .args(["report"])
            .arg(c)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let j: Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        j
    };
    let (p, d) = (report(&plain, "plain"), report(&delivered, "delivered"));
    // Provenance lists every file of the as-delivered extract and its recoding.
    let inputs = d["provenance"]["inputs"].as_array().unwrap();
    assert!(inputs.len() > 10, "{inputs:?}");
    assert!(
        inputs
            .iter()
            .all(|f| f["sha256"].as_str().is_some_and(|s| s.len() == 64))
    );
    assert!(
        d["provenance"]["recode"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    );
    same(&figures(p), &figures(d), "report.json");
}

/// `match --matched-out` reads the identifiers from the extract's own column (`PersonURN`
/// in the workbook) and writes them as `person_id`: the same file as the plain sample's.
#[test]
fn matched_out_of_the_as_delivered_sample_is_the_plain_one() {
    let out = tempfile::tempdir().unwrap();
    let matched = |c: &Path, name: &str| {
        let file = out.path().join(name);
        let run = assert_cmd::Command::cargo_bin("reoffending")
            .unwrap()
            .args(["match", "--format", "json", "--config"])
            .arg(c)
            .arg("--matched-out")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read_to_string(file).unwrap()
    };
    let plain = matched(&root().join("evaluation.toml"), "plain.csv");
    let delivered = matched(&sample().join("evaluation.toml"), "delivered.csv");
    assert!(
        plain.starts_with("person_id,cohort,subclass,weight,propensity_score\n"),
        "{}",
        &plain[..plain.len().min(200)]
    );
    assert!(plain.lines().count() > 100, "{plain}");
    if let Some((i, (a, b))) = plain
        .lines()
        .zip(delivered.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!("line {}: plain {a:?}, as delivered {b:?}", i + 1);
    }
    assert_eq!(plain, delivered);
}

/// The two outputs are the same text; else the first line that differs.
fn same(a: &Value, b: &Value, what: &str) {
    let (a, b) = (
        serde_json::to_string_pretty(a).unwrap(),
        serde_json::to_string_pretty(b).unwrap(),
    );
    if let Some((i, (x, y))) = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!(
            "{what}: line {} differs: plain {x:?}, as delivered {y:?}",
            i + 1
        );
    }
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
}

/// For the reading-cost benchmark in docs/extracts.md (`benches/extract_formats.sh`, or `BENCH_DIR=DIR cargo test
/// --release --test it as_delivered::bench_files -- --ignored`): from `DIR/cohort.csv` and
/// `DIR/offences.csv` (`reoffending generate`), writes `cohort.xlsx` (dates as date cells,
/// numbers as numbers, text as shared strings, as Excel writes them) and both tables as
/// `.csv.gz` (gzip's default level) and `.csv.zst` (level 3).
#[test]
#[ignore]
fn bench_files() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let Some(dir) = std::env::var_os("BENCH_DIR").map(PathBuf::from) else {
        return;
    };
    let (h, cohort) = rows(&dir.join("cohort.csv"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (j, n) in h.iter().enumerate() {
        sheet.write_string(0, j as u16, n).unwrap();
    }
    for (i, r) in cohort.iter().enumerate() {
        let row = i as u32 + 1;
        for (j, v) in r.iter().enumerate() {
            let j = j as u16;
            if v.is_empty() {
                continue;
            }
            let ymd = (v.len() == 10 && v.as_bytes()[4] == b'-')
                .then(|| {
                    Some((
                        v[0..4].parse().ok()?,
                        v[5..7].parse().ok()?,
                        v[8..10].parse().ok()?,
                    ))
                })
                .flatten()
                .and_then(|(y, m, d)| ExcelDateTime::from_ymd(y, m, d).ok());
            if let Some(dt) = ymd {
                sheet
                    .write_datetime_with_format(row, j, &dt, &date)
                    .unwrap();
            } else if let Ok(x) = v.parse::<f64>() {
                sheet.write_number(row, j, x).unwrap();
            } else {
                sheet.write_string(row, j, v).unwrap();
            }
        }
    }
    book.save(dir.join("cohort.xlsx")).unwrap();
    for table in ["cohort", "offences"] {
        let text = std::fs::read(dir.join(format!("{table}.csv"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        std::fs::write(dir.join(format!("{table}.csv.gz")), gz.finish().unwrap()).unwrap();
        std::fs::write(
            dir.join(format!("{table}.csv.zst")),
            zstd::encode_all(text.as_slice(), 3).unwrap(),
        )
        .unwrap();
    }
}
