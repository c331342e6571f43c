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

/// The `[data]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The cohort table.
    pub cohort: Option<PathBuf>,
    /// The offences table.
    pub offences: Option<PathBuf>,
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
}

/// The `[rules]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Follow-up days (365).
    pub follow_up_days: Option<u32>,
    /// Waiting period days (182).
    pub waiting_days: Option<u32>,
    /// Count an offence on the index date (false).
    pub count_index_day: Option<bool>,
}

/// The `[rates]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatesConfig {
    /// Breakdowns.
    #[serde(default)]
    pub by: Vec<String>,
    /// Interval method name.
    pub ci: Option<String>,
    /// Confidence level (0.95).
    pub confidence: Option<f64>,
    /// Baseline rate to test against.
    pub baseline_rate: Option<f64>,
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
}

/// The `[match]` table: the matched comparison.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// Covariates of the propensity model.
    pub covariates: Vec<String>,
    /// Reference levels, `column=level`.
    #[serde(default)]
    pub references: Vec<String>,
    /// Caliper in pooled SDs of the logit (0.2; 0 for none).
    pub caliper: Option<f64>,
    /// Controls per pilot person (1).
    pub ratio: Option<usize>,
    /// With replacement (false).
    #[serde(default)]
    pub replace: bool,
    /// Exact-matched columns.
    #[serde(default)]
    pub exact: Vec<String>,
}

/// The `[survival]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurvivalConfig {
    /// Breakdowns beyond cohort.
    #[serde(default)]
    pub by: Vec<String>,
    /// Days at which to report survival.
    #[serde(default)]
    pub times: Vec<f64>,
    /// Cox covariates.
    #[serde(default)]
    pub covariates: Vec<String>,
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
    pub rules: RulesConfig,
    /// Rates.
    #[serde(default)]
    pub rates: RatesConfig,
    /// Comparison.
    #[serde(default)]
    pub compare: CompareConfig,
    /// Matched comparison.
    #[serde(default, rename = "match")]
    pub matching: Option<MatchConfig>,
    /// Survival analysis.
    #[serde(default)]
    pub survival: Option<SurvivalConfig>,
    /// Cost-benefit.
    #[serde(default)]
    pub costs: Option<crate::costs::CostConfig>,
    /// Report.
    #[serde(default)]
    pub report: Option<ReportConfig>,
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
        Ok(c)
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
