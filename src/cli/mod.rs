//! The `reoffending` command line: parses options, calls the library, prints.
//!
//! `args` (the flags), `resolve` (flags over the evaluation file over the library's
//! defaults), `commands` (one function per analysis command), `power`, `report`, `output`
//! (JSON, CSV or tables, to standard output or a file).

mod args;
mod commands;
mod output;
mod power;
mod report;
mod resolve;

use clap::Parser;

use args::{Cli, Command};
use reoffending::{Error, Result};

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match try_main(cli) {
        Ok(()) => 0,
        Err(e) => {
            let e = as_flag(e);
            eprintln!("error: {e}");
            if e.is_input_error() { 2 } else { 1 }
        }
    }
}

/// The library names options as its API does (`caliper`, `baseline_rate`); on the command
/// line they are flags (`--caliper`, `--baseline-rate`). Keys of the evaluation file
/// (`[match] caliper`, `costs.draws`) are left as they are.
fn as_flag(e: Error) -> Error {
    match e {
        Error::Option { option, message }
            if !option.starts_with('-')
                && option
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Error::Option {
                option: format!("--{}", option.replace('_', "-")),
                message,
            }
        }
        other => other,
    }
}

fn try_main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate(a) => commands::validate(a),
        Command::Rates(a) => commands::rates(a),
        Command::Compare(a) => commands::compare(a),
        Command::Survival(a) => commands::survival(a),
        Command::Match(a) => commands::matching(a),
        Command::Effect(a) => commands::effect(a),
        Command::Costs(a) => commands::costs(a),
        Command::Report(a) => report::report(a),
        Command::Monitor(a) => commands::monitor(a),
        Command::Power(a) => power::power(a),
        Command::Generate(a) => commands::generate_files(a),
    }
}
