//! Benchmarks of the hot path on generated data (`cargo bench --features bench --bench measure`).
//!
//! For national-scale runs (1 and 10 million people) against DuckDB, see
//! `benches/scale.sh` and the README.

use std::path::PathBuf;
use std::sync::OnceLock;

use reoffending::synth::{GenerateOptions, generate};
use reoffending::{Dataset, LoadOptions, Outcomes, RateOptions, Rates, Rules};

fn main() {
    divan::main();
}

const PERSONS: u64 = 200_000;

fn files(ext: &'static str) -> &'static (PathBuf, PathBuf) {
    static CSV: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static PARQUET: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let cell = if ext == "csv" { &CSV } else { &PARQUET };
    cell.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("reoffending-bench-{PERSONS}"));
        std::fs::create_dir_all(&dir).unwrap();
        let c = dir.join(format!("cohort.{ext}"));
        let o = dir.join(format!("offences.{ext}"));
        if !c.exists() || !o.exists() {
            generate(&GenerateOptions::new(PERSONS, 1), &c, &o).unwrap();
        }
        (c, o)
    })
}

fn dataset() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| {
        let (c, o) = files("parquet");
        Dataset::load(c, o, &LoadOptions::default()).unwrap()
    })
}

#[divan::bench(args = ["csv", "parquet"], sample_count = 5)]
fn load(ext: &str) -> Dataset {
    let ext: &'static str = if ext == "csv" { "csv" } else { "parquet" };
    let (c, o) = files(ext);
    Dataset::load(c, o, &LoadOptions::default()).unwrap()
}

#[divan::bench(sample_count = 20)]
fn outcomes() -> Outcomes {
    Outcomes::compute(dataset(), &Rules::default()).unwrap()
}

#[divan::bench(sample_count = 20)]
fn rates_by_cohort_sex_age_band(b: divan::Bencher) {
    let d = dataset();
    let out = Outcomes::compute(d, &Rules::default()).unwrap();
    let opts = RateOptions {
        by: vec!["sex".into(), "age_band".into()],
        ..Default::default()
    };
    b.bench(|| Rates::of(&d.people, &out, &opts).unwrap());
}
