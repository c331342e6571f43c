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

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

mod data;
mod report;
pub use data::{DataOptions, Paths, RecodeSource};
pub use report::{DEFAULT_MIN_CELL, MIN_CELL_FLOOR, ReportOptions, disclosure_from_word};

/// A whole evaluation file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Input tables: `[data]`, read into the library's data options (paths made relative to
    /// the working folder as the file is read).
    #[serde(default)]
    pub data: DataOptions,
    /// Counting rules.
    #[serde(default)]
    pub rules: crate::Rules,
    /// Rates.
    #[serde(default)]
    pub rates: crate::measure::RateOptions,
    /// Comparisons: `[compare]`, read into the library's settings of the comparisons (its
    /// cohorts are also `[match]`'s, its level also `[survival]`'s and `[monitor]`'s).
    #[serde(default)]
    pub compare: crate::compare::CompareSettings,
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
    /// Report: `[report]`, read into the report's options (defaults where the file is
    /// silent; checked by [`ReportOptions::check`] once the command line has had its say).
    #[serde(default)]
    pub report: ReportOptions,
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
        c.data.resolve_paths(&c.base);
        c.check().map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(c)
    }

    /// Checks the values a file can hold but no analysis can use, naming the TOML key.
    fn check(&self) -> std::result::Result<(), String> {
        self.rates.check().map_err(|e| format!("[rates] {e}"))?;
        self.compare.check().map_err(|e| format!("[compare] {e}"))?;
        if let Some(m) = &self.matching {
            m.check().map_err(|e| format!("[match] {e}"))?;
        }
        if let Some(s) = &self.survival {
            s.check().map_err(|e| format!("[survival] {e}"))?;
        }
        self.data.check().map_err(|e| format!("[data] {e}"))?;
        if let Some(c) = &self.costs {
            c.check()
                .map_err(|(key, message)| format!("[costs] {key} = {message}"))?;
        }
        Ok(())
    }

    /// The pilot cohort: `[compare] treatment`, default `divert`.
    pub fn treatment(&self) -> String {
        self.compare.treatment.clone()
    }

    /// The comparison cohort: `[compare] control`, default `comparison`.
    pub fn control(&self) -> String {
        self.compare.control()
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

    /// The options of the comparison `[compare]` names first
    /// ([`CompareSettings::against`](crate::compare::CompareSettings::against)), at
    /// [`Config::confidence`].
    pub fn compare_options(&self) -> Result<crate::compare::CompareOptions> {
        Ok(crate::compare::CompareOptions {
            treatment: self.treatment(),
            against: self.compare.against(),
            confidence: self.confidence(),
            period: self.compare.period,
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
        self.data
            .inputs(self.rules.follow_up_days)
            .map_err(|e| match e {
                Error::Option { option, message } => Error::Config {
                    path: self.base.clone(),
                    message: format!("[data] {option}: {message}"),
                },
                other => other,
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
