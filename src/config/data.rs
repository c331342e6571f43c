//! The input tables and how to read them: what the evaluation file's `[data]` table
//! deserialises into and what the command line lays its data flags over. [`DataOptions::inputs`]
//! turns them into the library's [`Inputs`](crate::Inputs), the one place either becomes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, OptionError, Result};

/// The input tables and how they are read: the evaluation file's `[data]` table, read
/// straight into this struct (paths relative to the evaluation file are made relative to the
/// working folder as it is read, [`DataOptions::resolve_paths`]), and what the command line
/// lays its data flags over. Every field has a documented default, defined once in the
/// [`Default`] impl (the reading defaults are [`LoadOptions`](crate::LoadOptions)'s);
/// [`check`](Self::check) says which values no reading can use.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataOptions {
    /// The cohort table: one file, a list, or patterns (`referrals_*.xlsx`), read as one table.
    /// Default none: required before reading.
    pub cohort: Option<Paths>,
    /// The offences table: one file, a list, or patterns, read as one table. Default none.
    pub offences: Option<Paths>,
    /// `[data.cohort_columns]`: contract name = the extract's own column name. Default none.
    pub cohort_columns: BTreeMap<String, String>,
    /// `[data.offences_columns]`: contract name = the extract's own column name.
    pub offences_columns: BTreeMap<String, String>,
    /// `[data.recode.COLUMN]`: a table `value = "label"`, or the path of a CSV with the
    /// columns `value,label`; the column by its contract name. Default none.
    pub recode: BTreeMap<String, RecodeSource>,
    /// `[data.recode_unmapped]`: per recoded column, `"error"` (default) or `"keep"`.
    pub recode_unmapped: BTreeMap<String, String>,
    /// strftime pattern for dates. Default ISO `YYYY-MM-DD`.
    pub date_format: Option<String>,
    /// The extract date, `YYYY-MM-DD`. Default: the latest disposal date.
    pub extract_date: Option<String>,
    /// Disposals that are not proven outcomes (excluded and counted). Default none.
    pub exclude_disposals: Vec<String>,
    /// Offence types that are not proven reoffences (excluded and counted). Default none.
    pub exclude_offence_types: Vec<String>,
    /// Time zone in which zoned timestamps become dates. Default: each column's own.
    pub timezone: Option<String>,
    /// Plausible years of every date, `[from, to]`. Default [`LoadOptions`](crate::LoadOptions)'s
    /// (1900 to 2100).
    pub years: (i32, i32),
    /// Plausible `age_at_index`, `[from, to]`. Default [`LoadOptions`](crate::LoadOptions)'s
    /// (10 to 110).
    pub ages: (f64, f64),
    /// Keep every usable offence row, also those no analysis of the run reads. Default
    /// false: those are counted as used and dropped as they are read, see
    /// [`crate::KeepOffences`].
    pub keep_all_offences: bool,
    /// Deprecated and without effect: only the offence rows needed are kept by default
    /// (`keep_all_offences` keeps them all). Accepted so that older evaluation files still
    /// read; `Some` when given, so that front ends can say it is no longer needed.
    pub only_needed_offences: Option<bool>,
}

impl Default for DataOptions {
    fn default() -> Self {
        let load = crate::LoadOptions::default();
        DataOptions {
            cohort: None,
            offences: None,
            cohort_columns: BTreeMap::new(),
            offences_columns: BTreeMap::new(),
            recode: BTreeMap::new(),
            recode_unmapped: BTreeMap::new(),
            date_format: None,
            extract_date: None,
            exclude_disposals: Vec::new(),
            exclude_offence_types: Vec::new(),
            timezone: None,
            years: load.years,
            ages: load.ages,
            keep_all_offences: false,
            only_needed_offences: None,
        }
    }
}

impl DataOptions {
    /// The values no reading can use, checked before any file is read: plausible years or
    /// ages the wrong way round, a time zone or extract date that does not parse, a
    /// `recode_unmapped` for a column without a recoding or that is neither `error` nor
    /// `keep`, a recoding table that gives a value two labels. The error names the field
    /// (`timezone`).
    ///
    /// ```
    /// use reoffending::config::DataOptions;
    /// let o = DataOptions { timezone: Some("Mars/Olympus".into()), ..Default::default() };
    /// assert_eq!(o.check().unwrap_err().key, "timezone");
    /// ```
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        let (a, b) = self.years;
        if a > b {
            return Err(OptionError::new(
                "years",
                format!("[{a}, {b}]: the first year is after the second"),
            ));
        }
        let (a, b) = self.ages;
        if !(a.is_finite() && b.is_finite() && a <= b) {
            return Err(OptionError::new(
                "ages",
                format!("[{a}, {b}]: expected two ages, the first not above the second"),
            ));
        }
        self.timezone()?;
        self.extract_date()?;
        for (column, source) in &self.recode {
            if let RecodeSource::Table(t) = source {
                table_recode(column, t)
                    .check()
                    .map_err(|m| OptionError::new("recode", format!("{column}: {m}")))?;
            }
        }
        for (column, how) in &self.recode_unmapped {
            if !self.recode.contains_key(column) {
                return Err(OptionError::new(
                    "recode_unmapped",
                    format!("{column} = \"{how}\": `{column}` has no recoding"),
                ));
            }
            if how != "error" && how != "keep" {
                return Err(OptionError::new(
                    "recode_unmapped",
                    format!("{column} = \"{how}\": expected error or keep"),
                ));
            }
        }
        Ok(())
    }

    /// `timezone`, parsed.
    fn timezone(&self) -> std::result::Result<Option<chrono_tz::Tz>, OptionError> {
        self.timezone
            .as_deref()
            .map(|z| {
                z.parse::<chrono_tz::Tz>().map_err(|_| {
                    OptionError::new(
                        "timezone",
                        format!("\"{z}\": not a time zone name (e.g. Europe/London)"),
                    )
                })
            })
            .transpose()
    }

    /// `extract_date`, parsed.
    fn extract_date(&self) -> std::result::Result<Option<crate::Day>, OptionError> {
        self.extract_date
            .as_deref()
            .map(|s| {
                crate::parse_iso(s).ok_or_else(|| {
                    OptionError::new(
                        "extract_date",
                        format!("\"{s}\": not a date in YYYY-MM-DD form"),
                    )
                })
            })
            .transpose()
    }

    /// Makes the paths of the tables and of the recodings' lookup files, relative to `base`
    /// (the evaluation file's folder), relative to the working folder; absolute paths stay.
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        for paths in [&mut self.cohort, &mut self.offences].into_iter().flatten() {
            *paths = match paths {
                Paths::One(p) => Paths::One(resolve(p)),
                Paths::Many(v) => Paths::Many(v.iter().map(|p| resolve(p)).collect()),
            };
        }
        for source in self.recode.values_mut() {
            if let RecodeSource::File(p) = source {
                *p = resolve(p);
            }
        }
    }

    /// The library's inputs: both tables' files (patterns expanded), their mappings and
    /// recodings, and the reading options; offences no analysis under a follow-up of
    /// `follow_up_days` reads are dropped unless `keep_all_offences`. The options are checked
    /// ([`check`](Self::check)); a table without a file is an error naming it (`cohort`).
    pub fn inputs(&self, follow_up_days: u32) -> Result<crate::Inputs> {
        self.check()?;
        let file = |p: &Option<Paths>, key: &str| {
            p.as_ref()
                .map(Paths::to_vec)
                .ok_or_else(|| Error::option(key, "required: the file to read"))
        };
        let (cohort_recode, offences_recode) =
            recodings(&self.recode, &self.recode_unmapped, &self.offences_columns)?;
        let (cohort, cohort_extract) = table_extract(
            &file(&self.cohort, "cohort")?,
            &self.cohort_columns,
            cohort_recode,
        )?;
        let (offences, offences_extract) = table_extract(
            &file(&self.offences, "offences")?,
            &self.offences_columns,
            offences_recode,
        )?;
        Ok(crate::Inputs {
            cohort,
            offences,
            load: crate::LoadOptions {
                cohort_extract,
                offences_extract,
                date_format: crate::DateFormat::from_option(self.date_format.as_deref()),
                extract_date: self.extract_date()?,
                not_proven: crate::data::NotProven {
                    disposals: self.exclude_disposals.clone(),
                    offence_types: self.exclude_offence_types.clone(),
                },
                timezone: self.timezone()?,
                years: self.years,
                ages: self.ages,
                keep_offences: crate::KeepOffences::for_follow_up(
                    self.keep_all_offences,
                    follow_up_days,
                ),
                ..Default::default()
            },
        })
    }
}

/// One path or several (each may be a pattern).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Paths {
    /// One path.
    One(PathBuf),
    /// Several, read in order as one table.
    Many(Vec<PathBuf>),
}

impl Paths {
    /// The paths as a list.
    pub fn to_vec(&self) -> Vec<PathBuf> {
        match self {
            Paths::One(p) => vec![p.clone()],
            Paths::Many(v) => v.clone(),
        }
    }
}

/// Where a recoding's labels are: in the evaluation file, or in a lookup CSV.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RecodeSource {
    /// The path of a CSV with the columns `value,label` (relative to the evaluation file).
    File(PathBuf),
    /// `value = "label"` pairs.
    Table(BTreeMap<String, String>),
}

/// Offences columns of the contract: a recoding of one of these, or of a column the
/// offences mapping names, applies to the offences table; others to the cohort table.
const OFFENCES_COLUMNS: [&str; 4] = ["offence_date", "disposal_date", "offence_type", "disposal"];

/// The recodings of `[data.recode]` (with the command line's), split by table: a column of
/// the offences contract or of `offences_columns` is recoded in the offences table,
/// `person_id` in both, any other in the cohort table. `unmapped` gives `"error"` or
/// `"keep"` per column; both are checked first ([`DataOptions::check`]).
fn recodings(
    recode: &BTreeMap<String, RecodeSource>,
    unmapped: &BTreeMap<String, String>,
    offences_columns: &BTreeMap<String, String>,
) -> Result<(Vec<crate::data::Recode>, Vec<crate::data::Recode>)> {
    use crate::data::{Recode, Unmapped};
    let (mut cohort, mut offences) = (Vec::new(), Vec::new());
    for (column, source) in recode {
        let how = match unmapped.get(column).map(String::as_str) {
            Some("keep") => Unmapped::Keep,
            _ => Unmapped::Error,
        };
        let r = match source {
            RecodeSource::File(p) => Recode::from_csv(column, p, how)?,
            RecodeSource::Table(t) => {
                let mut r = table_recode(column, t);
                r.unmapped = how;
                r
            }
        };
        let in_offences =
            OFFENCES_COLUMNS.contains(&column.as_str()) || offences_columns.contains_key(column);
        if column == "person_id" {
            cohort.push(r.clone());
            offences.push(r);
        } else if in_offences {
            offences.push(r);
        } else {
            cohort.push(r);
        }
    }
    Ok((cohort, offences))
}

/// A recoding given as a table in the evaluation file (`value = "label"`).
fn table_recode(column: &str, t: &BTreeMap<String, String>) -> crate::data::Recode {
    crate::data::Recode {
        column: column.to_string(),
        labels: t.iter().map(|(v, l)| (v.clone(), l.clone())).collect(),
        source: None,
        unmapped: crate::data::Unmapped::Error,
    }
}

/// One table's files (patterns expanded; the first file and the others) and its mapping.
fn table_extract(
    files: &[PathBuf],
    columns: &BTreeMap<String, String>,
    recode: Vec<crate::data::Recode>,
) -> Result<(PathBuf, crate::data::Extract)> {
    let mut files = crate::data::expand_paths(files)?.into_iter();
    let first = files.next().unwrap_or_default();
    Ok((
        first,
        crate::data::Extract {
            more_files: files.collect(),
            columns: columns
                .iter()
                .map(|(c, o)| (c.clone(), o.clone()))
                .collect(),
            recode,
        },
    ))
}
