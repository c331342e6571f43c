//! The report's options: what the evaluation file's `[report]` table deserialises into and
//! what the `report` command overlays its flags onto. They sit here, below `output`, so that
//! the evaluation file can read them; `output::report` re-exports them.

use serde::Deserialize;

use crate::error::OptionError;

/// Counts below this are suppressed when no option says otherwise (the `report` command's
/// `[report] min_cell` and `inspect --min-cell`). Written once.
pub const DEFAULT_MIN_CELL: u64 = 10;

/// The smallest `min_cell` that protects anyone: 1 and 2 would publish counts of one.
pub const MIN_CELL_FLOOR: u64 = 3;

/// Options of the report, and the evaluation file's `[report]` table (read straight into
/// this struct: `title`, `min_cell`, `producer`, `contact`, `date`, and the disclosure
/// switch as `disclosure = "on" | "off"` or the older `disclosure_control_off = true`).
/// Every field has a documented default, defined once in the [`Default`] impl;
/// [`check`](Self::check) says which values no report can use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ReportTable")]
pub struct ReportOptions {
    /// Title. Default: "Proven reoffending evaluation".
    pub title: String,
    /// Counts below this are suppressed. Default [`DEFAULT_MIN_CELL`] (10).
    pub min_cell: u64,
    /// Disclosure control. Default on; turn off only for work inside the secure environment.
    pub disclosure_control: bool,
    /// Who produced the report (a team or organisation), shown in the bottom line. Default:
    /// not stated.
    pub producer: Option<String>,
    /// How to reach the producer, shown in the bottom line. Default: not stated.
    pub contact: Option<String>,
    /// The date of publication as it should read (given, so that the same inputs give the
    /// same report). Default: not stated.
    pub date: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            title: "Proven reoffending evaluation".into(),
            min_cell: DEFAULT_MIN_CELL,
            disclosure_control: true,
            producer: None,
            contact: None,
            date: None,
        }
    }
}

impl ReportOptions {
    /// Checks the options as the report will use them (after the command line's overlay: its
    /// `--disclosure-control off` allows a `min_cell` below 3): with disclosure control on,
    /// `min_cell` is at least [`MIN_CELL_FLOOR`]. The error names the field (`min_cell`).
    ///
    /// ```
    /// use reoffending::report::ReportOptions;
    /// let o = ReportOptions { min_cell: 2, ..Default::default() };
    /// assert_eq!(o.check().unwrap_err().key, "min_cell");
    /// assert!(ReportOptions { disclosure_control: false, ..o }.check().is_ok());
    /// ```
    pub fn check(&self) -> Result<(), OptionError> {
        if self.disclosure_control && self.min_cell < MIN_CELL_FLOOR {
            return Err(OptionError::new(
                "min_cell",
                format!(
                    "{} is below {MIN_CELL_FLOOR}: suppression would still publish counts of one or two people; \
                     use 3 or more (10 is usual), or turn disclosure control off for work that stays in the \
                     secure environment",
                    self.min_cell
                ),
            ));
        }
        Ok(())
    }
}

/// The disclosure switch as a word, `on` or `off` (the evaluation file's `[report]
/// disclosure` and the command line's `--disclosure-control`); the error names no key.
pub fn disclosure_from_word(word: &str) -> Result<bool, String> {
    match word {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("\"{other}\": use \"on\" or \"off\"")),
    }
}

/// How `[report]` is written in the file: the fields of [`ReportOptions`] by their names,
/// except the disclosure switch, which has two spellings (only the deserialiser sees this).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportTable {
    title: Option<String>,
    min_cell: Option<u64>,
    #[serde(default)]
    disclosure_control_off: bool,
    disclosure: Option<String>,
    producer: Option<String>,
    contact: Option<String>,
    date: Option<String>,
}

impl TryFrom<ReportTable> for ReportOptions {
    type Error = String;

    fn try_from(t: ReportTable) -> Result<Self, String> {
        let d = ReportOptions::default();
        // One switch: a file that sets both keys is refused rather than read one way or the other.
        let disclosure_control = match (&t.disclosure, t.disclosure_control_off) {
            (Some(_), true) => {
                return Err(
                    "[report] sets both disclosure and disclosure_control_off: keep one \
                            (disclosure = \"on\" or \"off\")"
                        .into(),
                );
            }
            (Some(w), false) => {
                disclosure_from_word(w).map_err(|m| format!("[report] disclosure = {m}"))?
            }
            (None, off) => !off,
        };
        Ok(ReportOptions {
            title: t.title.unwrap_or(d.title),
            min_cell: t.min_cell.unwrap_or(d.min_cell),
            disclosure_control,
            producer: t.producer,
            contact: t.contact,
            date: t.date,
        })
    }
}
