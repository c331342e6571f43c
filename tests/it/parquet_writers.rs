//! Parquet as pyarrow and pandas write it (date32, timestamp[ns], int64 identifiers,
//! dictionary-encoded strings) reads exactly like the same data in CSV.
//! Fixtures: tests/fixtures/make_pyarrow.py.

use crate::common;

use common::*;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

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
