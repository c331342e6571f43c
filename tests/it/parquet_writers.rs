//! Parquet as pyarrow and pandas write it (date32, timestamp[ns], int64 identifiers,
//! dictionary-encoded strings) reads exactly like the same data in CSV.
//! Fixtures: tests/fixtures/make_pyarrow.py.

use crate::common;

use common::*;

#[test]
fn pyarrow_and_pandas_parquet_read_like_csv() {
    let run = |cohort: &str, offences: &str| {
        let v = run_json(&[
            "rates",
            "--format",
            "json",
            "--by",
            "sex,age_group",
            "--extract-date",
            "2023-06-30",
            "--cohort",
            &fixture(cohort),
            "--offences",
            &fixture(offences),
        ]);
        (v["groups"].clone(), v["input"]["exclusions"].clone())
    };
    let parquet = run("cohort_pyarrow.parquet", "offences_pandas.parquet");
    let csv = run("cohort_pyarrow.csv", "offences_pandas.csv");
    assert_eq!(parquet, csv);
    // 101 reoffended once (a duplicate removed), 102 on day 384 (outside), 104 twice.
    let groups = parquet.0.as_array().unwrap();
    let total: u64 = groups
        .iter()
        .map(|g| g["reoffenders"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
    let ex = parquet.1.to_string();
    assert!(
        ex.contains("duplicate_offence") && ex.contains("person_not_in_cohort"),
        "{ex}"
    );
}

/// Label columns read the same however the writer stored them: dictionary-coded pages in
/// many row groups, plain pages, dictionary pages that fall back to plain part-way, and
/// pandas categoricals, all as the CSV twin (whose label columns are read as categorical).
/// Labels are trimmed and a blank label is missing in every form, so two rows are
/// duplicates in each.
/// Fixtures: tests/fixtures/make_labels.py.
#[test]
fn label_columns_read_alike_however_stored() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = dir.path().join("cohort.csv");
    std::fs::write(
        &cohort,
        "person_id,cohort,index_date\n101,divert,2021-01-05\n102,divert,2021-02-10\n\
         103,divert,2021-03-15\n104,comparison,2021-01-20\n105,comparison,2021-02-01\n\
         106,comparison,2022-12-01\n",
    )
    .unwrap();
    let options = reoffending::LoadOptions {
        extract_date: reoffending::parse_iso("2023-06-30"),
        not_proven: reoffending::data::NotProven {
            disposals: vec!["community resolution".into()],
            offence_types: Vec::new(),
        },
        ..Default::default()
    };
    let load = |name: &str| {
        let d = reoffending::Dataset::load(&cohort, fixture(name).as_ref(), &options).unwrap();
        let labels = |c: &Option<reoffending::Categorical>| {
            let c = c.as_ref().unwrap();
            (0..c.codes.len())
                .map(|i| c.get(i).map(str::to_string))
                .collect::<Vec<_>>()
        };
        (
            d.offences.start.clone(),
            d.offences.offence_day.clone(),
            labels(&d.offences.offence_type),
            labels(&d.offences.disposal),
            format!("{:?}", d.quality),
        )
    };
    let csv = load("labels.csv");
    let count = |reason: &str| {
        let q = &csv.4;
        let at = q.find(reason).unwrap_or_else(|| panic!("{reason} in {q}"));
        q[at..]
            .split("rows: ")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(count("DuplicateOffence"), "2");
    assert_eq!(count("NotProvenOutcome"), "2");
    let types: std::collections::BTreeSet<_> = csv.2.iter().flatten().cloned().collect();
    assert!(types.contains("theft") && !types.contains(" theft ") && !types.contains(""));
    assert!(csv.3.contains(&None) && csv.2.contains(&None));
    for name in [
        "labels_dictionary.parquet",
        "labels_plain.parquet",
        "labels_fallback.parquet",
        "labels_categorical.parquet",
    ] {
        assert_eq!(load(name), csv, "{name}");
    }
}
