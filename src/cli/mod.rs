//! The `reoffending` command line: parses options, calls the library, prints.
//!
//! `args` (the flags), `resolve` (flags over the evaluation file over the library's
//! defaults), `commands` (one function per analysis command), `power`, `report`, `output`
//! (JSON, CSV or tables, to standard output or a file).

mod args;
mod commands;
mod inspect;
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

thread_local! {
    /// The library's options whose value came from the evaluation file, with the file's key
    /// (`control` from `[compare] control`), recorded as the file is read.
    static FILE_KEYS: std::cell::RefCell<Vec<(&'static str, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Records that the evaluation file's `key` set the library's option `option` (an error
/// about it then names the key, unless the command line gave the flag too).
pub(crate) fn set_by_file(option: &'static str, key: impl Into<String>) {
    FILE_KEYS.with(|k| k.borrow_mut().push((option, key.into())));
}

/// True when the command line holds `flag` (`--control` or `--control=...`).
fn flag_given(flag: &str) -> bool {
    std::env::args().any(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
}

/// The library names options as its API does (`caliper`, `baseline_rate`); on the command
/// line they are flags (`--caliper`, `--baseline-rate`), and in the evaluation file keys
/// (`[compare] control`): an option the file set, and the command line did not, is named by
/// its key. Keys of the evaluation file (`[match] caliper`, `costs.draws`) are left as they are.
fn as_flag(e: Error) -> Error {
    match e {
        Error::Option { option, message }
            if !option.starts_with('-')
                && option
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            let flag = format!("--{}", option.replace('_', "-"));
            let key = FILE_KEYS.with(|k| {
                k.borrow()
                    .iter()
                    .find(|(o, _)| *o == option)
                    .map(|(_, key)| key.clone())
            });
            match key {
                Some(key) if !flag_given(&flag) => Error::Option {
                    option: key,
                    message,
                },
                _ => Error::Option {
                    option: flag,
                    message,
                },
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
        Command::Did(a) => commands::did(a),
        Command::Generate(a) => commands::generate_files(a),
        Command::Inspect(a) => inspect::inspect(a),
    }
}
