//! Extracts as delivered: own column names, several files, spreadsheets, compressed CSV and
//! recoding, and every error they can raise (exit 2, naming the extract's own file, column
//! and row); `inspect` on both samples.

use std::path::{Path, PathBuf};

use crate::common::cmd;
use serde_json::Value;

const COHORT: &str = "URN,Scheme,ReferralDate,Gender\nA1,divert,2021-01-10,M\nA2,comparison,2021-02-01,F\nA3,divert,2021-03-01,M\n";
const OFFENCES: &str =
    "URN,Committed,Outcome,Code\nA1,2021-03-01,2021-05-01,1\nA2,2021-04-01,2021-06-01,3\n";
const OFFENCES_2: &str =
    "URN,Committed,Outcome,Code\nA3,2021-04-01,2021-06-01,3\nA1,2021-07-01,2021-08-01,9\n";

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    /// Runs `rates --format json` with the evaluation file `toml` (its `[data]` table).
    fn run(&self, toml: &str) -> std::process::Output {
        let config = self.write("evaluation.toml", toml);
        cmd()
            .args(["rates", "--format", "json", "--config"])
            .arg(config)
            .output()
            .unwrap()
    }
}

const MAPPING: &str = r#"
[data.cohort_columns]
person_id = "URN"
cohort = "Scheme"
index_date = "ReferralDate"
sex = "Gender"
[data.offences_columns]
person_id = "URN"
offence_date = "Committed"
disposal_date = "Outcome"
disposal = "Code"
[data.recode.disposal]
"1" = "conviction"
"3" = "caution"
"#;

/// Exit 2, no panic, and every needle in stderr.
fn fails(out: &std::process::Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
    err
}

fn ok(out: &std::process::Output) -> Value {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {err}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn mapped_files_read_as_the_contract_and_several_files_as_one() {
    let d = Dir::new();
    d.write("cohort.csv", COHORT);
    d.write("pnc_2021-01.csv", OFFENCES);
    d.write("pnc_2021-02.csv", &OFFENCES_2.replace(",9\n", ",1\n"));
    let j = ok(&d.run(&format!(
        "[data]\ncohort = \"cohort.csv\"\noffences = \"pnc_*.csv\"\n{MAPPING}"
    )));
    assert_eq!(j["input"]["rows_read"]["offences"], 4);
    let files = j["input"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(files[2]["rows"], 2);
    assert!(
        files[1]["mapped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["extract"] == "Outcome")
    );
    // The same through the flags, the files listed one by one.
    let out = cmd()
        .args(["rates", "--format", "json", "--cohort"])
        .arg(d.path().join("cohort.csv"))
        .arg("--offences")
        .arg(d.path().join("pnc_2021-01.csv"))
        .arg("--offences")
        .arg(d.path().join("pnc_2021-02.csv"))
        .args([
            "--cohort-columns",
            "person_id=URN,cohort=Scheme,index_date=ReferralDate,sex=Gender",
            "--offences-columns",
            "person_id=URN,offence_date=Committed,disposal_date=Outcome,disposal=Code",
        ])
        .output()
        .unwrap();
    let flags = ok(&out);
    assert_eq!(flags["groups"], j["groups"]);
}

/// The exclusion of `reason` in `table`: (first rows, the file name of each).
fn examples(j: &Value, table: &str, reason: &str) -> (Vec<u64>, Vec<String>) {
    let e = j["input"]["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["table"] == table && e["reason"] == reason)
        .unwrap_or_else(|| panic!("no {table} {reason} in {}", j["input"]));
    let rows = e["first_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    let files = e
        .get("first_files")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|f| {
            let f = Path::new(f.as_str().unwrap());
            f.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    (rows, files)
}

#[test]
fn exclusions_in_several_files_name_the_file_and_its_own_row() {
    let d = Dir::new();
    d.write("c1.csv", COHORT);
    d.write(
        "c2.csv",
        "URN,Scheme,ReferralDate,Gender\nA4,divert,,M\nA5,divert,2021-05-01,F\nA6,divert,not a date,M\n",
    );
    d.write("pnc_2021-01.csv", OFFENCES);
    d.write(
        "pnc_2021-02.csv",
        "URN,Committed,Outcome,Code\nA9,2021-04-01,2021-06-01,3\nA1,,2021-06-01,1\nA3,2021-07-01,2021-08-01,1\n",
    );
    let toml =
        format!("[data]\ncohort = [\"c1.csv\", \"c2.csv\"]\noffences = \"pnc_*.csv\"\n{MAPPING}");
    let j = ok(&d.run(&toml));
    assert_eq!(
        examples(&j, "cohort", "missing_value"),
        (vec![1], vec!["c2.csv".to_string()])
    );
    assert_eq!(
        examples(&j, "cohort", "unparseable_value"),
        (vec![3], vec!["c2.csv".to_string()])
    );
    assert_eq!(
        examples(&j, "offences", "person_not_in_cohort"),
        (vec![1], vec!["pnc_2021-02.csv".to_string()])
    );
    assert_eq!(
        examples(&j, "offences", "missing_value"),
        (vec![2], vec!["pnc_2021-02.csv".to_string()])
    );
    // Added after loading (nobody is followed up long enough by the extract date): the
    // same numbering, across both files in order.
    let (rows, files) = examples(&j, "cohort", "insufficient_follow_up");
    assert_eq!(rows, vec![1, 2, 3, 2]);
    assert_eq!(files, ["c1.csv", "c1.csv", "c1.csv", "c2.csv"]);
    // The data-quality table says the same.
    let out = cmd()
        .args(["validate", "--config"])
        .arg(d.path().join("evaluation.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("c1.csv: 1 2 3; "), "{text}");
    assert!(text.contains("pnc_2021-02.csv: 2"), "{text}");
    // One file per table: row numbers of the table, no files named.
    let one = ok(&d.run(&format!(
        "[data]\ncohort = \"c2.csv\"\noffences = \"pnc_2021-02.csv\"\n{MAPPING}"
    )));
    assert_eq!(
        examples(&one, "cohort", "unparseable_value"),
        (vec![3], vec![])
    );
    assert!(!one["input"].to_string().contains("first_files"));
}

#[test]
fn an_error_in_a_later_file_names_that_file_and_its_own_row() {
    use rust_xlsxwriter::Workbook;
    let d = Dir::new();
    d.write("cohort.csv", COHORT);
    d.write("o1.csv", OFFENCES);
    // Identifiers as numbers, one not a whole number: it cannot link (an error).
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (j, h) in ["URN", "Committed", "Outcome", "Code"].iter().enumerate() {
        s.write_string(0, j as u16, *h).unwrap();
    }
    for (i, id) in [3.0, 2.5].iter().enumerate() {
        let i = i as u32 + 1;
        s.write_number(i, 0, *id).unwrap();
        s.write_string(i, 1, "2021-04-01").unwrap();
        s.write_string(i, 2, "2021-06-01").unwrap();
        s.write_string(i, 3, "1").unwrap();
    }
    book.save(d.path().join("o2.xlsx")).unwrap();
    let toml =
        format!("[data]\ncohort = \"cohort.csv\"\noffences = [\"o1.csv\", \"o2.xlsx\"]\n{MAPPING}");
    let err = fails(&d.run(&toml), &["o2.xlsx", "row 2", "2.5"]);
    assert!(!err.contains("row 4"), "{err}");
}

#[test]
fn a_mapped_column_missing_from_the_file_is_named() {
    let d = Dir::new();
    d.write("cohort.csv", COHORT);
    d.write("offences.csv", OFFENCES);
    let toml = format!("[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n{MAPPING}")
        .replace("\"ReferralDate\"", "\"DiversionDate\"");
    fails(
        &d.run(&toml),
        &[
            "cohort.csv",
            "no column `DiversionDate` (mapped to index_date)",
            "ReferralDate",
        ],
    );
}

#[test]
fn two_names_on_one_column_is_an_error() {
    let d = Dir::new();
    d.write("cohort.csv", COHORT);
    d.write("offences.csv", OFFENCES);
    let toml = format!("[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n{MAPPING}")
        .replace("sex = \"Gender\"", "sex = \"Scheme\"");
    fails(
        &d.run(&toml),
        &["cohort.csv", "the column `Scheme` is mapped to two names"],
    );
}

#[test]
fn files_that_disagree_name_the_file_that_differs() {
    let d = Dir::new();
    d.write("cohort.csv", COHORT);
    d.write("pnc_2021-01.csv", OFFENCES);
    d.write(
        "pnc_2021-02.csv",
        "URN,Committed,Outcome\nA3,2021-04-01,2021-06-01\n",
    );
    let toml = format!("[data]\ncohort = \"cohort.csv\"\noffences = [\"pnc_2021-01.csv\", \"pnc_2021-02.csv\"]\n{MAPPING}")
        .replace("disposal = \"Code\"\n", "");
    fails(
        &d.run(&toml),
        &[
            "pnc_2021-02.csv",
            "the files of one table must have the same columns",
            "lacks `Code`, which",
            "pnc_2021-01.csv has",
        ],
    );
}

#[test]
fn an_unmapped_code_is_an_error_with_its_file_and_row_or_kept_with_a_warning() {
    let d = Dir::new();
    d.write("cohort.csv", COHORT);
    d.write("pnc_2021-01.csv", OFFENCES);
    d.write("pnc_2021-02.csv", OFFENCES_2);
    let toml = format!("[data]\ncohort = \"cohort.csv\"\noffences = \"pnc_*.csv\"\n{MAPPING}");
    let err = fails(
        &d.run(&toml),
        &[
            "pnc_2021-02.csv",
            "column `Code` (disposal)",
            "`9` (1 rows, first in pnc_2021-02.csv row 2)",
        ],
    );
    assert!(!err.contains("`1`"), "{err}");
    let keep = format!("{toml}\n[data.recode_unmapped]\ndisposal = \"keep\"\n");
    let j = ok(&d.run(&keep));
    let w = j["input"]["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|w| w["issue"] == "value_without_label_kept" && w["column"] == "Code"),
        "{w:?}"
    );
    // A lookup CSV does the same as the table.
    d.write(
        "codes.csv",
        "value,label\n1,conviction\n3,caution\n9,custody\n",
    );
    let lookup = toml.replace(
        "[data.recode.disposal]\n\"1\" = \"conviction\"\n\"3\" = \"caution\"\n",
        "[data.recode]\ndisposal = \"codes.csv\"\n",
    );
    let j = ok(&d.run(&lookup));
    assert_eq!(j["input"]["rows_read"]["offences"], 4);
}

fn workbook(path: &Path, sheet: &str, rows: &[[&str; 4]]) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let s = book.add_worksheet().set_name(sheet).unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            let (i, j) = (i as u32, j as u16);
            match (i, j) {
                (1.., 2) => {
                    let (y, m, dd) = (&v[0..4], &v[5..7], &v[8..10]);
                    let dt = ExcelDateTime::from_ymd(
                        y.parse().unwrap(),
                        m.parse().unwrap(),
                        dd.parse().unwrap(),
                    )
                    .unwrap();
                    s.write_datetime_with_format(i, j, &dt, &date).unwrap();
                }
                _ => {
                    s.write_string(i, j, *v).unwrap();
                }
            }
        }
    }
    book.save(path).unwrap();
}

#[test]
fn spreadsheets_and_zstd_read_as_csv_and_an_unreadable_sheet_is_named() {
    let d = Dir::new();
    workbook(
        &d.path().join("referrals.xlsx"),
        "Referrals",
        &[
            ["URN", "Scheme", "ReferralDate", "Gender"],
            ["A1", "divert", "2021-01-10", "M"],
            ["A2", "comparison", "2021-02-01", "F"],
            ["A3", "divert", "2021-03-01", "M"],
        ],
    );
    std::fs::write(
        d.path().join("offences.csv.zst"),
        zstd::encode_all(OFFENCES.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    d.write("cohort.csv", COHORT);
    d.write("offences.csv", OFFENCES);
    let plain = ok(&d.run(&format!(
        "[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n{MAPPING}"
    )));
    let delivered = ok(&d.run(&format!(
        "[data]\ncohort = \"referrals.xlsx#Referrals\"\noffences = \"offences.csv.zst\"\n{MAPPING}"
    )));
    assert_eq!(plain["groups"], delivered["groups"]);
    fails(
        &d.run(&format!(
            "[data]\ncohort = \"referrals.xlsx#Nope\"\noffences = \"offences.csv\"\n{MAPPING}"
        )),
        &["referrals.xlsx#Nope", "no sheet `Nope`", "Referrals"],
    );
    d.write("broken.xlsx", "not a workbook");
    fails(
        &d.run(&format!(
            "[data]\ncohort = \"broken.xlsx\"\noffences = \"offences.csv\"\n{MAPPING}"
        )),
        &["broken.xlsx", "cannot read the workbook"],
    );
}

#[test]
fn dates_that_read_both_day_and_month_first_are_an_error_naming_a_row() {
    let d = Dir::new();
    d.write(
        "cohort.csv",
        "URN,Scheme,ReferralDate,Gender\nA1,divert,03/04/2021,M\nA2,comparison,05/06/2021,F\n",
    );
    d.write("offences.csv", OFFENCES);
    let toml = format!("[data]\ncohort = \"cohort.csv\"\noffences = \"offences.csv\"\n{MAPPING}");
    fails(
        &d.run(&toml),
        &[
            "cohort.csv",
            "`ReferralDate` (index_date)",
            "read both day first (%d/%m/%Y) and month first (%m/%d/%Y)",
            "`03/04/2021` in row 1",
        ],
    );
    // Day first only: the layout is named.
    d.write(
        "cohort.csv",
        "URN,Scheme,ReferralDate,Gender\nA1,divert,03/04/2021,M\nA2,comparison,25/06/2021,F\n",
    );
    fails(
        &d.run(&toml),
        &[
            "they are dates in the format %d/%m/%Y",
            "`25/06/2021` in row 2",
        ],
    );
}

fn inspect(args: &[&str], dir: &Path) -> Value {
    let out = cmd()
        .current_dir(dir)
        .args(["inspect", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    ok(&out)
}

#[test]
fn inspect_suggests_the_mapping_of_both_samples() {
    let root = crate::common::sample_dir();
    let plain = inspect(&["cohort.csv", "offences.csv"], &root);
    assert_eq!(plain["files"][0]["table"], "cohort");
    assert_eq!(plain["files"][1]["table"], "offences");
    assert_eq!(plain["suggested"]["cohort_columns"], serde_json::json!({}));
    assert_eq!(
        plain["suggested"]["offences_columns"],
        serde_json::json!({})
    );
    let delivered = root.join("as-delivered");
    let j = inspect(&["referrals.xlsx", "offences/pnc_*.csv*"], &delivered);
    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(delivered.join("evaluation.toml")).unwrap())
            .unwrap();
    let as_json = |v: &toml::Value| serde_json::to_value(v).unwrap();
    assert_eq!(
        j["suggested"]["cohort_columns"],
        as_json(&config["data"]["cohort_columns"])
    );
    assert_eq!(
        j["suggested"]["offences_columns"],
        as_json(&config["data"]["offences_columns"])
    );
    assert_eq!(j["suggested"]["date_format"], "%d/%m/%Y");
    let columns = j["files"][2]["columns"].as_array().unwrap();
    let committed = columns
        .iter()
        .find(|c| c["name"] == "CommittedDate")
        .unwrap();
    assert_eq!(committed["type"], "date");
    assert_eq!(committed["date_format"], "%d/%m/%Y");
    // Identifiers are never listed, nor any value seen fewer than min_cell times.
    for f in j["files"].as_array().unwrap() {
        for c in f["columns"].as_array().unwrap() {
            for t in c["top"].as_array().unwrap() {
                assert!(t["count"].as_u64().unwrap() >= 10, "{t}");
            }
            if c["name"] == "PersonURN" {
                assert!(c["top"].as_array().unwrap().is_empty() && c["min"].is_null());
            }
        }
    }
}

#[test]
fn inspect_warns_when_day_and_month_first_both_read() {
    let d = Dir::new();
    d.write("dates.csv", "id,when\n1,03/04/2021\n2,05/06/2021\n");
    let j = inspect(&["dates.csv"], d.path());
    let c = &j["files"][0]["columns"][1];
    assert_eq!(c["date_format"], "%d/%m/%Y");
    assert!(
        c["warning"].as_str().unwrap().contains("month first"),
        "{c}"
    );
}
