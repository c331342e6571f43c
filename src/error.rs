//! The crate's error type.
//!
//! Every error names where it happened (file, column, option) and, where there is one,
//! the likely fix. Errors split into two families, which the command line maps to exit
//! codes: problems with the user's input or options (exit 2) and everything else (exit 1).

use std::path::PathBuf;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `reoffending`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}", printable(&format!("{}: {action}: {source}", path.display())))]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done ("cannot read", "cannot write").
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A structural problem with an input table: the run cannot go on.
    #[error("{}", printable(&format!("{}: {message}", path.display())))]
    Input {
        /// The file.
        path: PathBuf,
        /// The column, when the problem is in one (also named in `message`).
        column: Option<String>,
        /// The 1-based data row, when the problem is in one (also named in `message`).
        row: Option<u64>,
        /// What is wrong, naming the column and what was expected.
        message: String,
    },
    /// A command-line or configuration option has a value that cannot be used.
    #[error("{}", printable(&format!("invalid {option}: {message}")))]
    Option {
        /// The option as the API names it (e.g. `follow_up_days`; the command line shows it as
        /// `--follow-up-days`), or a key of the evaluation file (e.g. `[match] caliper`).
        option: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A configuration file could not be understood.
    #[error("{}", printable(&format!("{}: {message}", path.display())))]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A statistical method cannot be applied to these data (e.g. no events, separation).
    #[error("{}", printable(&format!("{method}: {message}")))]
    Method {
        /// The method, e.g. `Cox model`.
        method: &'static str,
        /// Why it cannot be applied, and what to do about it.
        message: String,
    },
    /// A statistical algorithm could not be applied to these numbers (typed by algorithm:
    /// match on [`StatsError`](crate::stats::StatsError) to tell, e.g., separation from no
    /// events). A [`StatsError::Argument`](crate::stats::StatsError::Argument) becomes
    /// [`Error::Option`] instead.
    #[error(transparent)]
    Stats(crate::stats::StatsError),
    /// Output could not be produced (serialisation, chart rendering).
    #[error("output: {}", printable(.0))]
    Output(String),
}

impl Error {
    /// True for problems with the user's input or options (files, columns, option values),
    /// which the command line reports with exit code 2.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::Input { .. } | Error::Option { .. } | Error::Config { .. }
        )
    }

    pub(crate) fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            column: None,
            row: None,
            message: message.into(),
        }
    }

    /// A problem with one column of an input table.
    pub(crate) fn in_column(
        path: impl Into<PathBuf>,
        column: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Input {
            path: path.into(),
            column: Some(column.into()),
            row: None,
            message: message.into(),
        }
    }

    /// The same error, at 1-based data row `at` of its column.
    pub(crate) fn at_row(self, at: u64) -> Self {
        match self {
            Error::Input {
                path,
                column,
                message,
                ..
            } => Error::Input {
                path,
                column,
                row: Some(at),
                message,
            },
            other => other,
        }
    }

    /// The file, column and row of an input error (`None` for other errors).
    pub fn location(&self) -> Option<(&std::path::Path, Option<&str>, Option<u64>)> {
        match self {
            Error::Input {
                path, column, row, ..
            } => Some((path, column.as_deref(), *row)),
            _ => None,
        }
    }

    pub(crate) fn option(option: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Option {
            option: option.into(),
            message: message.into(),
        }
    }

    pub(crate) fn method(method: &'static str, message: impl Into<String>) -> Self {
        Error::Method {
            method,
            message: message.into(),
        }
    }
}

/// An option value no analysis can use, found by an options struct's `check()`: the key as
/// the struct (and the evaluation file's table) names it, e.g. `caliper`, and what is wrong,
/// starting with the value. The evaluation file shows it as `[match] caliper = ...`; the
/// command line as `--caliper`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} = {message}")]
pub struct OptionError {
    /// The option's key, as the options struct and its table in the evaluation file name it.
    pub key: String,
    /// The value and what is accepted.
    pub message: String,
}

impl OptionError {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        OptionError {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl From<OptionError> for Error {
    fn from(e: OptionError) -> Self {
        Error::Option {
            option: e.key,
            message: e.message,
        }
    }
}

// The statistics layer has its own errors and no dependency on this module: they convert here.
impl From<crate::stats::StatsError> for Error {
    fn from(e: crate::stats::StatsError) -> Self {
        match e {
            crate::stats::StatsError::Argument(a) => a.into(),
            other => Error::Stats(other),
        }
    }
}

impl From<crate::stats::ArgumentError> for Error {
    fn from(e: crate::stats::ArgumentError) -> Self {
        Error::Option {
            option: e.name,
            message: e.message,
        }
    }
}

macro_rules! from_stats_error {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::Stats(crate::stats::StatsError::from(e))
            }
        }
    )*};
}
from_stats_error!(
    crate::stats::ProportionError,
    crate::stats::TwoByTwoError,
    crate::stats::WelchError,
    crate::stats::SurvivalError,
    crate::stats::FitError,
    crate::stats::DistributionError,
    crate::stats::RosenbaumError,
    crate::stats::did::DidError,
    crate::stats::designs::DesignError,
    crate::stats::PanelError,
    crate::stats::synthetic::SyntheticError,
    crate::stats::staggered::StaggeredError
);

/// The longest piece of the user's data (a value, a label, a line) that a message quotes, in
/// characters; longer ones are cut with `…` and their length named.
pub const SHOWN_MAX_CHARS: usize = 120;

/// A piece of the user's data as a message or an output may quote it: control characters
/// (ESC, BEL, CR, ...) and bidirectional overrides are written as `\u{..}` escapes, so
/// nothing reaches a terminal or a report raw, and the text is cut to
/// `SHOWN_MAX_CHARS` characters.
pub fn shown(s: &str) -> String {
    shown_max(s, SHOWN_MAX_CHARS)
}

/// [`shown`], cut at `max` characters.
pub fn shown_max(s: &str, max: usize) -> String {
    let mut out = String::new();
    let total = s.chars().count();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push_str(&format!("… ({total} characters)"));
            break;
        }
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that must never reach a terminal or a report raw: C0 and C1 controls, DEL, and
/// the bidirectional embeddings, overrides and isolates (Trojan Source), and the line and
/// paragraph separators.
pub fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}')
}

/// `s` with every [`unsafe_char`] other than `keep` removed (labels in reports and tables).
pub fn without_unsafe(s: &str, keep: &[char]) -> String {
    s.chars()
        .filter(|c| keep.contains(c) || !unsafe_char(*c))
        .collect()
}

/// A message as it is shown: every [`unsafe_char`] but the line break written as a `\u{..}`
/// escape (labels and file names in messages come from the user's data).
pub fn printable(s: &str) -> String {
    if !s.chars().any(|c| c != '\n' && unsafe_char(c)) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c != '\n' && unsafe_char(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The first values of a list of the user's labels, each [`shown`], joined by `, `; past 20
/// the count of the rest (a column of 100,000 levels makes no message).
pub(crate) fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let mut out: Vec<String> = items.iter().take(20).map(|s| shown(s.as_ref())).collect();
    if items.len() > 20 {
        out.push(format!("and {} more", items.len() - 20));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_escape_controls_and_bidi_and_quotes_are_cut() {
        let e = Error::in_column(
            "x\u{1b}.parquet",
            "t",
            "the time zone `Bad\u{1b}[2J\u{7}` is not known; \u{202e}",
        );
        let text = e.to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'));
        assert!(
            text.contains("\\u{1b}[2J\\u{7}") && text.contains("\\u{202e}"),
            "{text}"
        );
        assert_eq!(printable("two\nlines"), "two\nlines");
        let long = "a".repeat(1000);
        assert!(shown(&long).len() < 200);
        assert_eq!(
            listed(&(0..25).map(|i| i.to_string()).collect::<Vec<_>>())
                .matches(", ")
                .count(),
            20
        );
    }
}
