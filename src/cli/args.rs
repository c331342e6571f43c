//! Command-line options (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Proven reoffending: measure, compare and report on a diversion scheme.
#[derive(Debug, Parser)]
#[command(name = "reoffending", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data are and the counting rules (every option overrides `--config`).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The cohort table (CSV, CSV.gz, CSV.zst, Parquet, or a spreadsheet .xlsx/.xlsm/.ods,
    /// `file.xlsx#Sheet` for a sheet other than the first): one row per person. Repeat the
    /// option or give a quoted pattern (`'referrals_*.csv'`) for several files read as one.
    #[arg(long, value_name = "PATH")]
    pub cohort: Vec<PathBuf>,
    /// The offences table (formats as --cohort): one row per proven offence. Repeat the
    /// option or give a quoted pattern (`'pnc_*.csv.gz'`) for several files read as one.
    #[arg(long, value_name = "PATH")]
    pub offences: Vec<PathBuf>,
    /// The cohort extract's own column names: CONTRACT=OWN pairs, e.g.
    /// person_id=PersonURN,index_date=DiversionDate (over the evaluation file's
    /// [data.cohort_columns], name by name).
    #[arg(long, value_delimiter = ',', value_name = "NAME=COLUMN", value_parser = parse_pair)]
    pub cohort_columns: Vec<(String, String)>,
    /// The offences extract's own column names: CONTRACT=OWN pairs, e.g.
    /// offence_date=CommittedDate,disposal=OutcomeCode.
    #[arg(long, value_delimiter = ',', value_name = "NAME=COLUMN", value_parser = parse_pair)]
    pub offences_columns: Vec<(String, String)>,
    /// Recode a column's values from a lookup CSV with the columns value,label:
    /// COLUMN=FILE, e.g. disposal=outcome_codes.csv (the column by its contract name).
    #[arg(long, value_delimiter = ',', value_name = "COLUMN=FILE", value_parser = parse_pair)]
    pub recode: Vec<(String, String)>,
    /// What happens to a value the recoding of a column has no label for: COLUMN=error
    /// (the default: the run stops, listing them) or COLUMN=keep (kept, with a warning).
    #[arg(long, value_delimiter = ',', value_name = "COLUMN=error|keep", value_parser = parse_pair)]
    pub recode_unmapped: Vec<(String, String)>,
    /// An evaluation file (TOML) naming the data and options.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Days of follow-up from the index date [default: 365].
    #[arg(long, value_name = "DAYS")]
    pub follow_up_days: Option<u32>,
    /// Days after follow-up in which an offence may still be proven [default: 182].
    #[arg(long, value_name = "DAYS")]
    pub waiting_days: Option<u32>,
    /// Date of the extract, YYYY-MM-DD [default: the latest disposal date].
    #[arg(long, value_name = "DATE")]
    pub extract_date: Option<String>,
    /// strftime layout of dates in the files, e.g. %d/%m/%Y [default: %Y-%m-%d].
    #[arg(long, value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// Count offences committed on the index date itself [default: not counted].
    #[arg(long)]
    pub count_index_day: bool,
    /// Disposals that are not proven outcomes, excluded and counted, e.g.
    /// community_resolution,cannabis_warning [default: none].
    #[arg(long, value_delimiter = ',', value_name = "VALUES")]
    pub exclude_disposals: Vec<String>,
    /// Offence types that are not proven reoffences, e.g. breach [default: none].
    #[arg(long, value_delimiter = ',', value_name = "VALUES")]
    pub exclude_offence_types: Vec<String>,
    /// Time zone in which timestamps carrying a zone become dates, e.g. Europe/London
    /// [default: each column's own zone; timestamps without a zone are local dates].
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Plausible years of every date; a date outside is unparseable_value [default: 1900-2100].
    #[arg(long, value_name = "FROM-TO", value_parser = parse_range::<i32>)]
    pub years: Option<(i32, i32)>,
    /// Plausible age_at_index; outside is implausible_value [default: 10-110].
    #[arg(long, value_name = "FROM-TO", value_parser = parse_range::<f64>)]
    pub ages: Option<(f64, f64)>,
    /// Keep every usable offence row in memory, also those no analysis reads (committed more
    /// than the follow-up before or after the index date). By default those are counted as
    /// used (and for prior_offences when it is counted from the offences) and dropped as
    /// read: the results are the same, memory grows with the people rather than the length
    /// of their histories.
    #[arg(long)]
    pub keep_all_offences: bool,
    /// Deprecated, without effect: only the offences needed are kept by default.
    #[arg(long, hide = true)]
    pub only_needed_offences: bool,
}

/// `NAME=VALUE`, both non-empty.
fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// `FROM-TO`, e.g. `1900-2100`, with FROM <= TO.
fn parse_range<T: std::str::FromStr + Copy>(s: &str) -> Result<(T, T), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("`{s}` is not a range FROM-TO"))?;
    let parse = |x: &str| {
        x.trim()
            .parse::<T>()
            .map_err(|_| format!("`{x}` is not a number"))
    };
    // The order is checked once, by the library (`DataOptions::check`).
    Ok((parse(a)?, parse(b)?))
}

/// A number that is finite and at least 0.
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a finite number of at least 0")),
    }
}

/// A fraction strictly between 0 and 1 (a rate, a confidence level, a power).
pub fn fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!(
            "`{s}` is not a fraction strictly between 0 and 1 (e.g. 0.2)"
        )),
    }
}

/// How results are printed.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// table (for people), json (for programs) or csv.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Csv,
    #[value(name = "csv.gz")]
    CsvGz,
    Parquet,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::CsvGz => "csv.gz",
            FileFormat::Parquet => "parquet",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read both tables and print the data-quality summary (rows, exclusions by reason).
    Validate(ValidateArgs),
    /// 12-month proven reoffending per cohort, with intervals and breakdowns.
    Rates(RatesArgs),
    /// Compare the pilot with a comparison group or a fixed external rate.
    Compare(CompareArgs),
    /// Time to first proven reoffence: Kaplan-Meier, log-rank, and a Cox model.
    Survival(SurvivalArgs),
    /// Propensity score matching: model, balance before and after, and the matched comparison.
    Match(MatchArgs),
    /// Every adjusted design side by side on the same propensity model (matched, regression
    /// after matching, IPW, overlap weights, entropy balancing, doubly robust), with the
    /// matching's order sensitivity and overlap diagnostics.
    Effect(EffectArgs),
    /// Cost-benefit of the pilot from the [costs] table of an evaluation file.
    Costs(CostsArgs),
    /// The whole evaluation as HTML, Markdown, JSON, CSV tables and SVG charts.
    Report(ReportArgs),
    /// Interim view: each cohort by quarter of index date, 12-month rate estimated from partial follow-up.
    Monitor(MonitorArgs),
    /// People needed to detect a change in the rate, or the change detectable with n people.
    Power(PowerArgs),
    /// Difference-in-differences for an area-wide pilot against other areas, from person data
    /// (the [did] table of --config, or flags) or from a published area panel (--panel).
    Did(DidArgs),
    /// Write a synthetic cohort and offences table in the contract's format.
    Generate(GenerateArgs),
    /// Profile unfamiliar extracts (types, missing values, ranges, date layouts, commonest
    /// values) and suggest the column mapping for the evaluation file.
    Inspect(InspectArgs),
}

// The options of `reoffending inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The files: CSV, CSV.gz, CSV.zst, Parquet or spreadsheets (every sheet, or
    /// `file.xlsx#Sheet`); quoted patterns are expanded.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Values seen fewer times than this are never shown.
    #[arg(long, default_value_t = reoffending::config::DEFAULT_MIN_CELL, value_name = "N")]
    pub min_cell: u64,
    #[command(flatten)]
    pub out: OutputArgs,
}

// The options of `reoffending validate` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

// The options of `reoffending rates` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct RatesArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Breakdowns, e.g. sex,age_band (derived: age_band, age_group, index_quarter, index_year).
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub by: Vec<String>,
    /// Interval method: wilson, exact, wald, jeffreys, agresti-coull [default: wilson].
    #[arg(long, value_name = "METHOD")]
    pub ci: Option<String>,
    /// Confidence level [default: 0.95].
    #[arg(long, value_name = "LEVEL", value_parser = fraction)]
    pub confidence: Option<f64>,
    /// Add the exact binomial test against this fixed rate (a fraction, e.g. 0.2).
    #[arg(long, value_name = "RATE", value_parser = fraction)]
    pub baseline_rate: Option<f64>,
}

// The options of `reoffending compare` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// The pilot cohort label [default: from --config, else `divert`].
    #[arg(long, value_name = "LABEL")]
    pub treatment: Option<String>,
    /// The comparison cohort label.
    #[arg(long, value_name = "LABEL", conflicts_with = "baseline_rate")]
    pub control: Option<String>,
    /// A fixed external rate to compare with (a fraction, e.g. 0.2 for Thames Valley).
    #[arg(long, value_name = "RATE", value_parser = fraction)]
    pub baseline_rate: Option<f64>,
    /// The benchmark's name, printed in the verdict.
    #[arg(long, value_name = "TEXT")]
    pub baseline_name: Option<String>,
    /// Where the benchmark comes from.
    #[arg(long, value_name = "TEXT")]
    pub baseline_source: Option<String>,
    /// Subgroups to compare within, e.g. sex,age_group.
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub by: Vec<String>,
    /// Adjustment of subgroup p-values: holm, bh or none [default: holm].
    #[arg(long, value_name = "METHOD")]
    pub adjust: Option<String>,
    /// Interval for the risk difference: newcombe or wald [default: newcombe].
    #[arg(long, value_name = "METHOD")]
    pub rd_ci: Option<String>,
    /// Confidence level [default: 0.95].
    #[arg(long, value_name = "LEVEL", value_parser = fraction)]
    pub confidence: Option<f64>,
    /// Comparison people used, by index date: full, or pilot (only those indexed within the
    /// pilot cohort's first and last index dates) [default: from --config, else full].
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
}

// The options of `reoffending survival` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct SurvivalArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Breakdowns beyond cohort.
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub by: Vec<String>,
    /// Days at which to report survival [default: 91,182,273,365].
    #[arg(long, value_delimiter = ',', value_name = "DAYS", value_parser = non_negative)]
    pub times: Vec<f64>,
    /// Covariates for a Cox model (cohort is always included).
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub covariates: Vec<String>,
    /// Reference levels of categorical covariates, e.g. sex=F.
    #[arg(long = "reference", value_name = "COLUMN=LEVEL")]
    pub references: Vec<String>,
    /// Ties in the Cox model: efron or breslow [default: efron].
    #[arg(long, value_name = "METHOD")]
    pub ties: Option<String>,
    /// Kaplan-Meier interval: log-log, log or plain [default: log-log].
    #[arg(long, value_name = "METHOD")]
    pub km_ci: Option<String>,
    /// Stratify the log-rank test by this breakdown.
    #[arg(long, value_name = "COLUMN")]
    pub strata: Option<String>,
    /// The most levels a categorical covariate may have [default: 200].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_levels: Option<u32>,
    /// Confidence level [default: the evaluation file's [compare] confidence, else its [rates]
    /// confidence, else 0.95].
    #[arg(long, value_name = "LEVEL", value_parser = fraction)]
    pub confidence: Option<f64>,
}

// The options of `reoffending match` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct MatchArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub matching: MatchingArgs,
    /// Write the matched sample to this CSV (`person_id, cohort, subclass, weight,
    /// propensity_score`, as MatchIt's `match.data()`): person-level, for use inside the
    /// secure environment only.
    #[arg(long, value_name = "FILE")]
    pub matched_out: Option<PathBuf>,
}

/// The propensity model and matching, shared by `match` and `effect`.
#[derive(Debug, Args)]
pub struct MatchingArgs {
    /// The pilot cohort [default: divert].
    #[arg(long, value_name = "LABEL")]
    pub treatment: Option<String>,
    /// The pool to match from [default: comparison].
    #[arg(long, value_name = "LABEL")]
    pub control: Option<String>,
    /// Covariates of the propensity model, e.g. sex,age_at_index,prior_offences
    /// [default: `[match] covariates` of --config].
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub covariates: Vec<String>,
    /// Reference levels of categorical covariates, e.g. sex=F.
    #[arg(long = "reference", value_name = "COLUMN=LEVEL")]
    pub references: Vec<String>,
    /// Caliper in pooled SDs of the logit of the propensity score [default: 0.2]; 0 for none.
    // Checked once, by the library's `MatchOptions::check`.
    #[arg(long, value_name = "SD")]
    pub caliper: Option<f64>,
    /// Controls per pilot person [default: `[match] ratio`, else 1].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub ratio: Option<u32>,
    /// The most levels a categorical covariate may have [default: 200].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_levels: Option<u32>,
    /// Match with replacement.
    #[arg(long)]
    pub replace: bool,
    /// Columns to match exactly, e.g. sex.
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub exact: Vec<String>,
    /// Confidence level [default: 0.95].
    #[arg(long, value_name = "LEVEL", value_parser = fraction)]
    pub confidence: Option<f64>,
    /// Comparison people used, by index date: full, or pilot (only those indexed within the
    /// pilot cohort's first and last index dates) [default: from --config, else full].
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
}

// The options of `reoffending effect` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct EffectArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub matching: MatchingArgs,
    /// Random orders of the greedy matching for the order sensitivity; 0 for none
    /// [default: 20].
    #[arg(long, value_name = "N")]
    pub order_runs: Option<usize>,
    /// Seed of the random orders [default: 20240601].
    #[arg(long, value_name = "SEED")]
    pub seed: Option<u64>,
}

// The options of `reoffending did` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct DidArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// An area-level panel instead of person data: CSV or Parquet with columns area, period,
    /// outcome and optionally weight (people in the cell).
    #[arg(long, value_name = "FILE")]
    pub panel: Option<PathBuf>,
    /// The areas that launched the scheme, e.g. "West Midlands" [default: `[did]
    /// treated_areas` of --config].
    #[arg(long, value_delimiter = ',', value_name = "AREAS")]
    pub treated_areas: Vec<String>,
    /// Launch date (YYYY-MM-DD; with --panel, a period label such as 2020-Q4 or 1989).
    #[arg(long, value_name = "DATE")]
    pub start: Option<String>,
    /// Length of a period: month, quarter or year [default: quarter; with --panel, the
    /// labels' own].
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
    /// The cohort column holding each person's area [default: area].
    #[arg(long, value_name = "COLUMN")]
    pub area_column: Option<String>,
    /// Comparison areas [default: every area that never launches].
    #[arg(long, value_delimiter = ',', value_name = "AREAS")]
    pub comparison_areas: Vec<String>,
    /// Person-level covariates of the two-way fixed effects regressions, e.g.
    /// sex,age_at_index [default: `[did] covariates` of --config, or none].
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub covariates: Vec<String>,
    /// Wild cluster bootstrap replications, 0 to skip [default: 9999].
    #[arg(long, value_name = "N")]
    pub bootstrap: Option<usize>,
    /// Seed of the wild bootstrap and random placebo draws [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Confidence level [default: 0.95].
    #[arg(long, value_name = "LEVEL", value_parser = fraction)]
    pub confidence: Option<f64>,
}

// The options of `reoffending costs` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct CostsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

// The options of `reoffending report` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The evaluation file (TOML), e.g. data-samples/evaluation.toml.
    pub config: PathBuf,
    /// Folder to write the report into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print the list of files written as table, json or csv.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Disclosure control: on (default) or off. Off stamps every file "NOT FOR
    /// PUBLICATION" and allows min_cell below 3: for work inside the secure environment.
    #[arg(long, value_name = "on|off")]
    pub disclosure_control: Option<String>,
    /// Exit with code 3 when an analysis could not be carried out (its section then
    /// says why; by default the report is written and a warning printed, exit 0).
    #[arg(long)]
    pub strict: bool,
}

// The options of `reoffending monitor` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Confidence level [default: the evaluation file's [compare] confidence, else its [rates]
    /// confidence, else 0.95].
    #[arg(long, value_name = "LEVEL", value_parser = fraction)]
    pub confidence: Option<f64>,
    /// The group whose later reoffending completes a quarter's projection, e.g. comparison
    /// [default: the earlier quarters of the quarter's own group]
    #[arg(long, value_name = "GROUP")]
    pub projection_reference: Option<String>,
}

// The options of `reoffending power` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct PowerArgs {
    #[command(flatten)]
    pub out: OutputArgs,
    /// The rate without the scheme (a fixed benchmark, or the comparison group's rate).
    #[arg(long, value_name = "RATE", value_parser = fraction)]
    pub baseline_rate: f64,
    /// The rate to be able to detect (omit with --n).
    #[arg(long, value_name = "RATE", required_unless_present = "n", value_parser = fraction)]
    pub target_rate: Option<f64>,
    /// Two-sided significance level.
    #[arg(long, default_value_t = 0.05, value_parser = fraction)]
    pub alpha: f64,
    /// Power.
    #[arg(long, default_value_t = 0.8, value_parser = fraction)]
    pub power: f64,
    /// 1 (against a fixed rate) or 2 (against a comparison group).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub groups: u8,
    /// People in the pilot group: gives the minimum detectable rate instead.
    #[arg(long, value_name = "N")]
    pub n: Option<u64>,
    /// Comparison group size as a multiple of the pilot group's [default: 1].
    #[arg(long, default_value_t = 1.0)]
    pub ratio: f64,
}

// The options of `reoffending generate` (its help text is the variant's doc comment).
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of people.
    #[arg(long)]
    pub persons: u64,
    /// Random seed (the same seed gives the same files).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write cohort.* and offences.* into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
    pub format: FileFormat,
    /// Share of people in the pilot cohort [default: 0.2].
    #[arg(long)]
    pub pilot_share: Option<f64>,
    /// Row order of the offences table: by offence date, as real extracts arrive, or
    /// grouped by person (as generated).
    #[arg(long, value_enum, default_value_t = Order::OffenceDate)]
    pub order: Order,
    /// How much longer criminal histories are than by default (more prior offences, spread
    /// over longer careers) [default: 1].
    #[arg(long)]
    pub history: Option<f64>,
    /// An area-wide pilot among this many police forces (2 to 43): West Midlands adopts the
    /// scheme for everyone from --launch, and people of every force are indexed from two
    /// years before; the cohort gains a `force` column (for `did`).
    #[arg(long, value_name = "N")]
    pub forces: Option<usize>,
    /// Launch date of the area-wide pilot, with --forces [default: 2020-10-01].
    #[arg(long, value_name = "DATE", requires = "forces")]
    pub launch: Option<String>,
    /// The scheme's true effect on the log-odds of reoffending, with --forces
    /// [default: -0.35].
    #[arg(
        long,
        value_name = "LOG_ODDS",
        requires = "forces",
        allow_hyphen_values = true
    )]
    pub effect: Option<f64>,
}

/// Row order of a generated offences table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// By offence date.
    OffenceDate,
    /// Grouped by person.
    Person,
}
