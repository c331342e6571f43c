//! Every integration test in one binary: one link instead of one per file, which keeps
//! `cargo test --release` after `cargo run --release` short (run one file's tests with
//! `cargo test --release --test it <file>::`, e.g. `--test it no_panic::`).

mod common;

mod as_delivered;
mod charts;
mod cli_compare;
mod cli_input;
mod cli_options;
mod cli_survival;
mod costs;
mod costs_reference;
mod did;
mod disclosure;
mod disclosure_audit;
mod disclosure_files;
mod disclosure_outputs;
mod disclosure_routes;
mod effect;
mod extracts;
mod hostile_inputs;
mod hostile_inputs2;
mod house;
mod invariance;
mod keep_offences;
mod layers;
mod levels;
mod matched_reference;
mod matching;
mod matching_ties;
mod measure_oracle;
mod measure_rules;
mod monitor;
mod no_panic;
mod notebook;
mod options;
mod parquet_writers;
mod report;
mod robustness;
mod snapshots;
mod stats_compare;
mod stats_designs;
mod stats_did;
mod stats_proportion;
mod stats_staggered;
mod stats_survival;
mod stats_synthetic;
