//! The evaluation file (TOML): data, rules and analysis options in one place.
//!
//! Paths are relative to the file's folder. Command-line options override the file.
//!
//! ```toml
//! [data]
//! cohort = "cohort.csv"
//! offences = "offences.csv"
//! # date_format = "%d/%m/%Y"
//! # extract_date = "2023-03-31"
//! # keep_all_offences = true      # keep offences no analysis reads (default: dropped, counted as used)
//!
//! [rules]
//! follow_up_days = 365
//! waiting_days = 182
//! count_index_day = false
//!
//! [rates]
//! by = ["sex", "age_band"]
//! ci = "wilson"
//! baseline_rate = 0.20
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The `[data]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The cohort table: one file, a list, or patterns (`referrals_*.xlsx`), read as one table.
    pub cohort: Option<Paths>,
    /// The offences table: one file, a list, or patterns, read as one table.
    pub offences: Option<Paths>,
    /// `[data.cohort_columns]`: contract name = the extract's own column name.
    #[serde(default)]
    pub cohort_columns: BTreeMap<String, String>,
    /// `[data.offences_columns]`: contract name = the extract's own column name.
    #[serde(default)]
    pub offences_columns: BTreeMap<String, String>,
    /// `[data.recode.COLUMN]`: a table `value = "label"`, or the path of a CSV with the
    /// columns `value,label`; the column by its contract name.
    #[serde(default)]
    pub recode: BTreeMap<String, RecodeSource>,
    /// `[data.recode_unmapped]`: per recoded column, `"error"` (default) or `"keep"`.
    #[serde(default)]
    pub recode_unmapped: BTreeMap<String, String>,
    /// strftime pattern for dates (default ISO).
    pub date_format: Option<String>,
    /// The extract date, `YYYY-MM-DD` (default: latest disposal date).
    pub extract_date: Option<String>,
    /// Disposals that are not proven outcomes (excluded and counted).
    #[serde(default)]
    pub exclude_disposals: Vec<String>,
    /// Offence types that are not proven reoffences (excluded and counted).
    #[serde(default)]
    pub exclude_offence_types: Vec<String>,
    /// Time zone in which zoned timestamps become dates (default: each column's own).
    pub timezone: Option<String>,
    /// Plausible years of every date, `[from, to]` (default `[1900, 2100]`).
    pub years: Option<[i32; 2]>,
    /// Plausible `age_at_index`, `[from, to]` (default `[10, 110]`).
    pub ages: Option<[f64; 2]>,
    /// Keep every usable offence row, also those no analysis of the run reads (default
    /// false: those are counted as used and dropped as they are read, see
    /// [`crate::KeepOffences`]).
    pub keep_all_offences: Option<bool>,
    /// Deprecated and without effect: only the offence rows needed are kept by default
    /// (`keep_all_offences` keeps them all). Accepted so that older evaluation files still
    /// read.
    pub only_needed_offences: Option<bool>,
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

/// The recodings of `[data.recode]` (or the command line's), split by table: a column of
/// the offences contract or of `offences_columns` is recoded in the offences table,
/// `person_id` in both, any other in the cohort table. `unmapped` gives `"error"` or
/// `"keep"` per column; `key` names the setting in messages.
pub fn recodings(
    recode: &BTreeMap<String, RecodeSource>,
    unmapped: &BTreeMap<String, String>,
    offences_columns: &BTreeMap<String, String>,
    base: &Path,
    key: &str,
) -> Result<(Vec<crate::data::Recode>, Vec<crate::data::Recode>)> {
    use crate::data::{Recode, Unmapped};
    for (column, how) in unmapped {
        if !recode.contains_key(column) {
            return Err(Error::option(
                format!("{key}_unmapped {column}"),
                format!("`{column}` has no recoding"),
            ));
        }
        if how != "error" && how != "keep" {
            return Err(Error::option(
                format!("{key}_unmapped {column}"),
                format!("`{how}`: expected error or keep"),
            ));
        }
    }
    let (mut cohort, mut offences) = (Vec::new(), Vec::new());
    for (column, source) in recode {
        let how = match unmapped.get(column).map(String::as_str) {
            Some("keep") => Unmapped::Keep,
            _ => Unmapped::Error,
        };
        let r = match source {
            RecodeSource::File(p) => {
                let p = if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                };
                Recode::from_csv(column, &p, how)?
            }
            RecodeSource::Table(t) => {
                let r = Recode {
                    column: column.clone(),
                    labels: t.iter().map(|(v, l)| (v.clone(), l.clone())).collect(),
                    source: None,
                    unmapped: how,
                };
                r.check()
                    .map_err(|m| Error::option(format!("{key} {column}"), m))?;
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

/// One table's files (patterns expanded; the first file and the others) and its mapping.
pub fn table_extract(
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

/// The `[compare]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    /// The pilot cohort label.
    pub treatment: Option<String>,
    /// The comparison cohort label.
    pub control: Option<String>,
    /// A fixed external rate.
    pub baseline_rate: Option<f64>,
    /// Its name, e.g. "Thames Valley Police diversion scheme".
    pub baseline_name: Option<String>,
    /// Its source.
    pub baseline_source: Option<String>,
    /// Comparison people used: `full` (default) or `pilot` (indexed within the pilot
    /// cohort's first and last index dates).
    pub period: Option<String>,
    /// Confidence level of the comparisons (default: `[rates] confidence`, else 0.95).
    pub confidence: Option<f64>,
}

/// The `[report]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Title of the report.
    pub title: Option<String>,
    /// Counts below this are suppressed (`[c]`). Default 10.
    pub min_cell: Option<u64>,
    /// Turn disclosure control off (never for publication). Default false.
    #[serde(default)]
    pub disclosure_control_off: bool,
    /// `on` (default) or `off`: the same as `disclosure_control_off`.
    pub disclosure: Option<String>,
    /// Who produced the report, for its bottom line.
    pub producer: Option<String>,
    /// How to reach the producer.
    pub contact: Option<String>,
    /// The date of publication as it should read.
    pub date: Option<String>,
}

/// A whole evaluation file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Input tables.
    #[serde(default)]
    pub data: DataConfig,
    /// Counting rules.
    #[serde(default)]
    pub rules: crate::Rules,
    /// Rates.
    #[serde(default)]
    pub rates: crate::measure::RateOptions,
    /// Comparison.
    #[serde(default)]
    pub compare: CompareConfig,
    /// Matched comparison: `[match]`, read into the library's options (its cohorts and
    /// comparison options are `[compare]`'s, set by [`Config::match_options`]).
    #[serde(default, rename = "match")]
    pub matching: Option<crate::matching::MatchOptions>,
    /// Survival analysis.
    #[serde(default)]
    pub survival: Option<crate::survival::SurvivalOptions>,
    /// Cost-benefit.
    #[serde(default)]
    pub costs: Option<crate::costs::CostConfig>,
    /// Report.
    #[serde(default)]
    pub report: Option<ReportConfig>,
    /// Difference-in-differences for an area-wide pilot.
    #[serde(default)]
    pub did: Option<crate::did::DidOptions>,
    /// Monitoring by quarter.
    #[serde(default)]
    pub monitor: Option<crate::monitor::MonitorOptions>,
    /// The folder paths are relative to.
    #[serde(skip)]
    pub base: PathBuf,
}

impl Config {
    /// Reads an evaluation file.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "cannot read",
            source,
        })?;
        let mut c: Config = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        c.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        c.check().map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(c)
    }

    /// Checks the values a file can hold but no analysis can use, naming the TOML key.
    fn check(&self) -> std::result::Result<(), String> {
        let fraction = |key: &str, v: Option<f64>| match v {
            Some(x) if !(x > 0.0 && x < 1.0) => Err(format!(
                "{key} = {x}: expected a fraction strictly between 0 and 1 (e.g. 0.2)"
            )),
            _ => Ok(()),
        };
        self.rates.check().map_err(|e| format!("[rates] {e}"))?;
        fraction("[compare] baseline_rate", self.compare.baseline_rate)?;
        fraction("[compare] confidence", self.compare.confidence)?;
        if let (Some(t), Some(c)) = (&self.compare.treatment, &self.compare.control) {
            if t == c {
                return Err(format!(
                    "[compare] control = \"{c}\" is the treatment cohort too: compare it with another cohort"
                ));
            }
        }
        if let Some(m) = &self.matching {
            m.check().map_err(|e| format!("[match] {e}"))?;
        }
        if let Some(s) = &self.survival {
            s.check().map_err(|e| format!("[survival] {e}"))?;
        }
        if let Some([a, b]) = self.data.years {
            if a > b {
                return Err(format!(
                    "[data] years = [{a}, {b}]: the first year is after the second"
                ));
            }
        }
        if let Some([a, b]) = self.data.ages {
            if !(a.is_finite() && b.is_finite() && a <= b) {
                return Err(format!(
                    "[data] ages = [{a}, {b}]: expected two ages, the first not above the second"
                ));
            }
        }
        if let Some(c) = &self.costs {
            c.check()
                .map_err(|(key, message)| format!("[costs] {key} = {message}"))?;
        }
        if let Some(z) = &self.data.timezone {
            z.parse::<chrono_tz::Tz>().map_err(|_| {
                format!("[data] timezone = \"{z}\": not a time zone name (e.g. Europe/London)")
            })?;
        }
        Ok(())
    }

    /// `[compare] period`, checked; `None` when the file does not set it.
    pub fn period(&self) -> Result<Option<crate::compare::Period>> {
        self.compare
            .period
            .as_deref()
            .map(|p| {
                p.parse().map_err(|_| Error::Config {
                    path: self.base.clone(),
                    message: format!("[compare] period: `{p}` is not a period (use full or pilot)"),
                })
            })
            .transpose()
    }

    /// The pilot cohort: `[compare] treatment`, default `divert`.
    pub fn treatment(&self) -> String {
        self.compare
            .treatment
            .clone()
            .unwrap_or_else(|| crate::compare::DEFAULT_TREATMENT.into())
    }

    /// The comparison cohort: `[compare] control`, default `comparison`.
    pub fn control(&self) -> String {
        self.compare
            .control
            .clone()
            .unwrap_or_else(|| crate::compare::DEFAULT_CONTROL.into())
    }

    /// The options of `[rates]` (the one place a file becomes rate options; front ends
    /// override fields after), the baseline rate `[compare]`'s when `[rates]` has none.
    pub fn rate_options(&self) -> Result<crate::measure::RateOptions> {
        Ok(crate::measure::RateOptions {
            baseline_rate: self.rates.baseline_rate.or(self.compare.baseline_rate),
            ..self.rates.clone()
        })
    }

    /// The confidence level of the comparisons, the survival analysis and the monitoring:
    /// `[compare] confidence`, else `[rates] confidence` (whose default is 0.95). (`[rates]`
    /// keeps its own; `[did]` has its own key.)
    pub fn confidence(&self) -> f64 {
        self.compare.confidence.unwrap_or(self.rates.confidence)
    }

    /// The options of `[compare]`: confidence ([`Config::confidence`]) and period.
    pub fn compare_options(&self) -> Result<crate::compare::CompareOptions> {
        use crate::compare::Against;
        let c = &self.compare;
        let against = match (&c.control, c.baseline_rate) {
            (None, Some(rate)) => Against::Baseline {
                rate,
                name: c.baseline_name.clone(),
                source: c.baseline_source.clone(),
            },
            _ => Against::Group(self.control()),
        };
        Ok(crate::compare::CompareOptions {
            treatment: self.treatment(),
            against,
            confidence: self.confidence(),
            period: self.period()?.unwrap_or_default(),
            ..Default::default()
        })
    }

    /// The options of `[match]` (with the cohorts of `[compare]` and its comparison
    /// options); `None` when the file has no `[match]` table.
    pub fn match_options(&self) -> Result<Option<crate::matching::MatchOptions>> {
        let Some(m) = &self.matching else {
            return Ok(None);
        };
        Ok(Some(crate::matching::MatchOptions {
            treatment: self.treatment(),
            control: self.control(),
            compare: self.compare_options()?,
            ..m.clone()
        }))
    }

    /// The options of `[monitor]` (defaults where the file is silent), at the level of the
    /// comparisons ([`Config::confidence`]).
    pub fn monitor_options(&self) -> crate::monitor::MonitorOptions {
        crate::monitor::MonitorOptions {
            confidence: self.confidence(),
            ..self.monitor.clone().unwrap_or_default()
        }
    }

    /// The options of `[survival]` (defaults where the file is silent), at the level of the
    /// comparisons ([`Config::confidence`]).
    pub fn survival_options(&self) -> crate::survival::SurvivalOptions {
        crate::survival::SurvivalOptions {
            confidence: self.confidence(),
            ..self.survival.clone().unwrap_or_default()
        }
    }

    /// The Ministry of Justice rules as the file sets them (defaults where it is silent).
    pub fn rules(&self) -> crate::Rules {
        self.rules
    }

    /// The input tables and how to read them, as the file's `[data]` table says (paths
    /// relative to the file). Offence details are kept, so every analysis can run.
    ///
    /// ```
    /// let config = reoffending::Config::from_file("data-samples/evaluation.toml".as_ref())?;
    /// let inputs = config.inputs()?;
    /// assert!(inputs.cohort.ends_with("data-samples/cohort.csv"));
    /// assert_eq!(inputs.load.not_proven.offence_types, ["breach"]);
    /// # Ok::<(), reoffending::Error>(())
    /// ```
    pub fn inputs(&self) -> Result<crate::Inputs> {
        let file = |p: &Option<Paths>, key: &str| {
            p.as_ref()
                .map(|p| {
                    p.to_vec()
                        .iter()
                        .map(|p| self.resolve(p))
                        .collect::<Vec<_>>()
                })
                .ok_or_else(|| Error::Config {
                    path: self.base.clone(),
                    message: format!("`[data] {key}` is required: the file to read"),
                })
        };
        let (cohort_recode, offences_recode) = recodings(
            &self.data.recode,
            &self.data.recode_unmapped,
            &self.data.offences_columns,
            &self.base,
            "[data] recode",
        )?;
        let (cohort, cohort_extract) = table_extract(
            &file(&self.data.cohort, "cohort")?,
            &self.data.cohort_columns,
            cohort_recode,
        )?;
        let (offences, offences_extract) = table_extract(
            &file(&self.data.offences, "offences")?,
            &self.data.offences_columns,
            offences_recode,
        )?;
        let d = crate::LoadOptions::default();
        let bad = |key: &str, message: String| Error::Config {
            path: self.base.clone(),
            message: format!("`[data] {key}`: {message}"),
        };
        let extract_date = match &self.data.extract_date {
            None => None,
            Some(s) => Some(crate::parse_iso(s).ok_or_else(|| {
                bad(
                    "extract_date",
                    format!("`{s}` is not a date in YYYY-MM-DD form"),
                )
            })?),
        };
        let timezone = match &self.data.timezone {
            None => None,
            Some(z) => Some(
                z.parse::<chrono_tz::Tz>()
                    .map_err(|_| bad("timezone", format!("`{z}` is not a time zone name")))?,
            ),
        };
        Ok(crate::Inputs {
            cohort,
            offences,
            load: crate::LoadOptions {
                cohort_extract,
                offences_extract,
                date_format: crate::DateFormat::from_option(self.data.date_format.as_deref()),
                extract_date,
                not_proven: crate::data::NotProven {
                    disposals: self.data.exclude_disposals.clone(),
                    offence_types: self.data.exclude_offence_types.clone(),
                },
                timezone,
                years: self.data.years.map_or(d.years, |[a, b]| (a, b)),
                ages: self.data.ages.map_or(d.ages, |[a, b]| (a, b)),
                keep_offences: crate::KeepOffences::for_follow_up(
                    self.data.keep_all_offences.unwrap_or(false),
                    self.rules.follow_up_days,
                ),
                ..d
            },
        })
    }

    /// A path from the file, made relative to its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }
}
