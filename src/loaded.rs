//! One evaluation's data: the inputs, the loaded tables with per-person outcomes under one set
//! of rules ([`Evaluation`], what every analysis takes), and the parameters every output is
//! stamped with. Below the analyses; the pipeline that runs them all is `evaluation`.

use std::path::PathBuf;

use serde::Serialize;

use crate::data::dates::{DateFormat, format_day};
use crate::data::{
    ColumnWarning, DataQuality, Dataset, Exclusion, ExtractDateSource, LoadOptions, SourceFile,
    TableCounts,
};
use crate::error::Result;
use crate::measure::{Outcomes, Rules};

/// Where the data are and how to read them.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The cohort table.
    pub cohort: PathBuf,
    /// The offences table.
    pub offences: PathBuf,
    /// How to read them.
    pub load: LoadOptions,
}

impl Inputs {
    /// The two tables, read with the default [`LoadOptions`].
    pub fn new(cohort: impl Into<PathBuf>, offences: impl Into<PathBuf>) -> Inputs {
        Inputs {
            cohort: cohort.into(),
            offences: offences.into(),
            load: LoadOptions::default(),
        }
    }
}

/// The rules and options used, as printed in every output (`parameters`).
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    /// Follow-up days.
    pub follow_up_days: u32,
    /// Waiting period days.
    pub waiting_days: u32,
    /// Whether offences on the index date count.
    pub count_index_day: bool,
    /// The extract date used (`YYYY-MM-DD`).
    pub extract_date: Option<String>,
    /// Where it came from.
    pub extract_date_source: ExtractDateSource,
    /// The date format (`%Y-%m-%d` for ISO).
    pub date_format: String,
    /// The time zone zoned timestamps were read in (null: each column's own zone).
    pub timezone: Option<String>,
    /// Plausible years of dates, `[from, to]`.
    pub plausible_years: [i32; 2],
    /// Plausible `age_at_index`, `[from, to]`.
    pub plausible_ages: [f64; 2],
    /// The version of this tool.
    pub tool_version: &'static str,
    /// Options of the analysis itself.
    #[serde(flatten)]
    pub analysis: serde_json::Map<String, serde_json::Value>,
}

/// What was read (`input`): rows read and used per table, and every exclusion.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    /// The files.
    pub files: Vec<SourceFile>,
    /// Rows read per table.
    pub rows_read: TableCounts,
    /// Rows used in the 12-month measure per table.
    pub rows_used: TableCounts,
    /// Exclusions: `{table, reason, rows, first_rows}`.
    pub exclusions: Vec<Exclusion>,
    /// Optional values that could not be read and were set missing.
    pub warnings: Vec<ColumnWarning>,
}

/// A loaded dataset with per-person outcomes under one set of rules.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The data.
    pub data: Dataset,
    /// The rules.
    pub rules: Rules,
    /// Per-person outcomes.
    pub outcomes: Outcomes,
    /// The attrition of the 12-month measure.
    pub quality: DataQuality,
    load: LoadOptions,
}

impl Evaluation {
    /// Loads both tables and applies the rules.
    pub fn load(inputs: &Inputs, rules: Rules) -> Result<Evaluation> {
        rules.validate()?;
        if let crate::KeepOffences::Needed { follow_up_days } = inputs.load.keep_offences {
            if follow_up_days < rules.follow_up_days {
                return Err(crate::Error::option(
                    "keep_offences",
                    format!(
                        "keeps offences within {follow_up_days} days of the index date, fewer than the \
                         {} days of follow-up",
                        rules.follow_up_days
                    ),
                ));
            }
        }
        let data = Dataset::load(&inputs.cohort, &inputs.offences, &inputs.load)?;
        let outcomes = Outcomes::compute(&data, &rules)?;
        let quality = {
            let _t = crate::trace::Phase::start("attrition");
            outcomes.attrition(&data)
        };
        Ok(Evaluation {
            data,
            rules,
            outcomes,
            quality,
            load: inputs.load.clone(),
        })
    }

    /// The parameters block, with analysis options added.
    pub fn parameters(&self, analysis: serde_json::Value) -> Parameters {
        Parameters {
            follow_up_days: self.rules.follow_up_days,
            waiting_days: self.rules.waiting_days,
            count_index_day: self.rules.count_index_day,
            extract_date: self.data.extract_date.map(format_day),
            extract_date_source: self.data.extract_date_source,
            date_format: match &self.load.date_format {
                DateFormat::Iso => "%Y-%m-%d".to_string(),
                DateFormat::Strftime(p) => p.clone(),
            },
            timezone: self.load.timezone.map(|z| z.name().to_string()),
            plausible_years: [self.load.years.0, self.load.years.1],
            plausible_ages: [self.load.ages.0, self.load.ages.1],
            tool_version: env!("CARGO_PKG_VERSION"),
            analysis: match analysis {
                serde_json::Value::Object(m) => m,
                _ => Default::default(),
            },
        }
    }

    /// The input block.
    pub fn input_summary(&self) -> InputSummary {
        InputSummary {
            files: self.data.sources.clone(),
            rows_read: self.quality.rows_read,
            rows_used: self.quality.rows_used,
            exclusions: self.quality.exclusions.clone(),
            warnings: self.quality.warnings.clone(),
        }
    }
}
