//! The cost of a categorical covariate's levels (issue 36.5): `cargo bench --bench levels`.
//!
//! Each level is a term of the propensity and Cox models, so the levels bound the cost of
//! matching and of the Cox model. A covariate of more than `max_levels` (200 by default)
//! levels is refused before any design column is made: the 10,000-level line times that
//! refusal (it took 24 GB and was killed before the limit); the 200-level line times a whole
//! match at the limit. `LEVELS_PEOPLE` sets the cohort size (default 20,000).

use std::time::Instant;

use reoffending::{Analysis, Evaluation, Inputs, MatchOptions, MatchedComparison, Rules};

fn files(dir: &std::path::Path, n: usize, levels: usize) -> Inputs {
    let mut cohort = String::from("person_id,cohort,index_date,sex,code\n");
    let mut offences = String::from("person_id,offence_date,disposal_date\n");
    for i in 0..n {
        // Each level holds both sexes and both cohorts (levels not a multiple of 3).
        let label = if i % 3 == 0 { "divert" } else { "comparison" };
        let sex = if i % 2 == 0 { "F" } else { "M" };
        cohort.push_str(&format!(
            "P{i},{label},2021-0{}-1{},{sex},L{}\n",
            1 + i % 9,
            i % 10,
            (i / 2) % levels
        ));
        if i % 4 == 0 {
            offences.push_str(&format!("P{i},2021-11-01,2021-12-01\n"));
        }
    }
    let (c, o) = (dir.join("cohort.csv"), dir.join("offences.csv"));
    std::fs::write(&c, cohort).unwrap();
    std::fs::write(&o, offences).unwrap();
    let mut inputs = Inputs::new(c, o);
    inputs.load.extract_date = reoffending::parse_iso("2023-06-30");
    inputs
}

fn main() {
    let n: usize = std::env::var("LEVELS_PEOPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    for levels in [10_000, 200] {
        let dir = tempfile::tempdir().unwrap();
        let eval = Evaluation::load(&files(dir.path(), n, levels), Rules::default()).unwrap();
        let options = MatchOptions {
            covariates: vec!["sex".into(), "code".into()],
            caliper: None,
            ..Default::default()
        };
        let t = Instant::now();
        let outcome = match MatchedComparison::compute(&eval, &options) {
            Ok(m) => format!("matched {} pilot people", m.sample.matched_treated),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "match, {levels:>6} levels, n={n}: {:>8.3} s ({})",
            t.elapsed().as_secs_f64(),
            &outcome[..outcome.len().min(90)]
        );
    }
}
