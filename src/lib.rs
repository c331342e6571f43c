//! # reoffending
//!
//! Evaluate a diversion scheme by the Ministry of Justice's **proven reoffending**
//! measure: load anonymised police extracts, count proven reoffences under the MoJ
//! rules, and compare cohorts with honest intervals.
//!
//! ## Module map
//!
//! Layers, lowest first, each using only those below it (the README's "How the code is
//! built" says the same, and `tests/it/layers.rs` fails when a module uses a higher one):
//!
//! ```text
//! trace      timing of phases (REOFFENDING_TRACE=1)
//! stats/     plain numbers in, results out: proportions, 2x2, Effect, power, survival, Cox,
//!            logistic, weighted statistics, designs, robustness, quantiles and medians;
//!            its own error enums
//! error.rs   the crate's error, and the conversions from the statistics errors
//! format.rs  a level, a p-value, money, each kind of table cell (`Kind`), terminal-safe
//!            text, the HTML escaper: for sentences and tables alike
//! data/      reading, validation, linking: the only module that knows polars
//! synth.rs   synthetic extracts (the `generate` command, tests, benchmarks)
//! measure/   the Ministry of Justice rules, per-person outcomes, rates
//! loaded.rs  `Evaluation` (loaded data with outcomes, what every analysis takes), `Inputs`
//! analysis/  the analyses, each `Analysis::compute(&Evaluation, &Options)`:
//!            compare/, matching/, effect, survival, monitor, did/, costs/, design
//! config/    the evaluation file (`Config`), read into each analysis's own options; the
//!            options of `[data]` (`DataOptions`) and `[report]` (`ReportOptions`) live here
//! evaluation.rs  the pipeline: one evaluation file to every result (`Results::from_config`)
//! output/    what a person reads: `Tabular` (tables, CSV, JSON, HTML, Display, evcxr),
//!            tables/ (one file per result, with the descriptions of the tables the report
//!            draws too: describe), present (Table), charts/ (the only module that
//!            knows plotters), report/ (the disclosure gate, then HTML, Markdown, JSON,
//!            CSV, xlsx), notebook (evcxr display, `Chart`)
//! cli/       the binary only: args, resolve (flags laid over the file's options), commands,
//!            power, report, output
//! ```
//!
//! The analyses and outputs keep short paths: `reoffending::compare::Comparison`,
//! `reoffending::report::write`.
//!
//! For notebooks and scripts, [`prelude`] is the one import.
//!
//! ## Quick start
//!
//! ```
//! use reoffending::{Analysis, Evaluation, Inputs, RateOptions, Rates, Rules};
//! # fn main() -> reoffending::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let cohort = dir.path().join("cohort.csv");
//! # let offences = dir.path().join("offences.csv");
//! std::fs::write(&cohort, "person_id,cohort,index_date,sex\n\
//!     A,divert,2021-01-10,F\nB,divert,2021-02-01,M\nC,comparison,2021-01-05,M\n").unwrap();
//! std::fs::write(&offences, "person_id,offence_date,disposal_date\n\
//!     A,2021-03-01,2021-05-01\nC,2021-12-01,2022-06-01\nC,2023-01-01,2023-02-01\n").unwrap();
//!
//! let inputs = Inputs::new(cohort, offences);
//! let eval = Evaluation::load(&inputs, Rules::default())?;
//! let rates = Rates::compute(&eval, &RateOptions::default())?;
//! let divert = rates.cohort("divert").next().unwrap();
//! assert_eq!((divert.eligible, divert.reoffenders), (2, 1));
//! println!("{rates}"); // a readable table
//! # Ok(()) }
//! ```
//!
//! ## Rules (docs/rules.md §2)
//!
//! A proven reoffence is an offence committed in `(index_date, index_date + 365]` and
//! proven by `index_date + 365 + 182`; people are in the 12-month measure once
//! `index_date + 547 <= extract_date`. See [`Rules`] for the options.

#![deny(missing_docs)]
// `!(x > 0.0)` is how this crate rejects a value that is not positive or is NaN in one test;
// `partial_cmp` would say the same less plainly.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod analysis;
pub mod config;
pub mod data;
mod error;
pub mod evaluation;
pub mod format;
mod loaded;
pub mod measure;
pub mod output;
pub mod stats;
pub mod synth;
mod trace;

// The analyses and outputs keep their short paths (`reoffending::compare::Comparison`).
pub use analysis::{compare, costs, design, did, effect, matching, monitor, survival};
pub use output::{charts, notebook, present, report};

pub use analysis::Analysis;
pub use analysis::compare::{Against, CompareOptions, Comparison};
pub use analysis::costs::{CostBenefit, CostOptions};
pub use analysis::matching::{MatchOptions, MatchedComparison};
pub use analysis::monitor::{Monitor, MonitorOptions};
pub use analysis::survival::{SurvivalAnalysis, SurvivalOptions};
pub use config::Config;
pub use data::dates::{DateFormat, Day, format_day, parse_iso};
pub use data::{
    Categorical, ColumnSelection, DataQuality, Dataset, Exclusion, KeepOffences, LoadOptions,
    Offences, People, Reason, TableKind,
};
pub use error::{Error, OptionError, Result, printable, shown, unsafe_char, without_unsafe};
pub use loaded::{Evaluation, InputSummary, Inputs, Parameters};
pub use measure::{GroupRate, Outcomes, RateOptions, Rates, Rules};
pub use output::Tabular;
pub use output::notebook::Chart;
pub use stats::{CiMethod, Effect};

/// The README's examples, compiled and run as tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// One import for notebooks and scripts: `use reoffending::prelude::*;`.
pub mod prelude {
    pub use crate::analysis::Analysis;
    pub use crate::compare::{Against, CompareOptions, Comparison};
    pub use crate::config::Config;
    pub use crate::costs::{CostBenefit, CostOptions};
    pub use crate::effect::{EffectOptions, Effects};
    pub use crate::evaluation::{Evaluation, Inputs, Results};
    pub use crate::matching::{MatchOptions, MatchedComparison};
    pub use crate::measure::{RateOptions, Rates, Rules};
    pub use crate::monitor::{Monitor, MonitorOptions};
    pub use crate::notebook::Chart;
    pub use crate::output::Tabular;
    pub use crate::survival::{SurvivalAnalysis, SurvivalOptions};
    pub use crate::{Error, LoadOptions, Result};
}
