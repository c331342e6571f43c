//! From flags and the evaluation file to the library's inputs, rules and options: every
//! flag given overrides the file, which overrides the library's defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::args::DataArgs;
use reoffending::config::{Paths, RecodeSource, recodings, table_extract};
use reoffending::data::dates::DateFormat;
use reoffending::data::{NotProven, OffenceDetails};
use reoffending::{
    ColumnSelection, Config, Error, Evaluation, Inputs, KeepOffences, LoadOptions, Result, Rules,
    parse_iso,
};

/// The data options after merging the evaluation file and the command line.
pub struct Resolved {
    pub inputs: Inputs,
    pub rules: Rules,
    pub config: Config,
}

// Over 80 lines: one merge rule (flag over file over default) applied to every data option in turn.
pub fn resolve(data: &DataArgs, columns: ColumnSelection) -> Result<Resolved> {
    let config = match &data.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    record_file_keys(&config);
    let path = |cli: &[PathBuf], file: &Option<Paths>, flag: &str| -> Result<Vec<PathBuf>> {
        match (cli, file) {
            ([_, ..], _) => Ok(cli.to_vec()),
            ([], Some(p)) => Ok(p.to_vec().iter().map(|p| config.resolve(p)).collect()),
            ([], None) => Err(Error::Option {
                option: flag.to_string(),
                message: "required: give the file, or --config with a [data] table naming it"
                    .into(),
            }),
        }
    };
    // Names and recodings: the file's, then the flags', name by name.
    let merged = |file: &BTreeMap<String, String>, flags: &[(String, String)]| {
        let mut m = file.clone();
        m.extend(flags.iter().cloned());
        m
    };
    let cohort_columns = merged(&config.data.cohort_columns, &data.cohort_columns);
    let offences_columns = merged(&config.data.offences_columns, &data.offences_columns);
    let mut recode = config.data.recode.clone();
    recode.extend(data.recode.iter().map(|(c, f)| {
        (
            c.clone(),
            RecodeSource::File(std::env::current_dir().unwrap_or_default().join(f)),
        )
    }));
    let unmapped = merged(&config.data.recode_unmapped, &data.recode_unmapped);
    let (cohort_recode, offences_recode) = recodings(
        &recode,
        &unmapped,
        &offences_columns,
        &config.base,
        "--recode",
    )?;
    let (cohort, cohort_extract) = table_extract(
        &path(&data.cohort, &config.data.cohort, "--cohort")?,
        &cohort_columns,
        cohort_recode,
    )?;
    let (offences, offences_extract) = table_extract(
        &path(&data.offences, &config.data.offences, "--offences")?,
        &offences_columns,
        offences_recode,
    )?;
    let extract = data
        .extract_date
        .clone()
        .or(config.data.extract_date.clone());
    let extract_date = match extract {
        None => None,
        Some(s) => Some(parse_iso(&s).ok_or_else(|| Error::Option {
            option: if data.extract_date.is_some() {
                "--extract-date".into()
            } else {
                "[data] extract_date".into()
            },
            message: format!("`{s}` is not a date in YYYY-MM-DD form"),
        })?),
    };
    let date_format = data.date_format.clone().or(config.data.date_format.clone());
    let timezone = match (&data.timezone, &config.data.timezone) {
        (Some(z), _) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| Error::Option {
            option: "--timezone".into(),
            message: format!("`{z}` is not a time zone name (e.g. Europe/London)"),
        })?),
        // Checked when the evaluation file was read.
        (None, Some(z)) => z.parse().ok(),
        (None, None) => None,
    };
    if data.only_needed_offences || config.data.only_needed_offences.is_some() {
        eprintln!(
            "warning: {} is no longer needed and has no effect: offences no analysis reads are \
             dropped by default (and counted as used); --keep-all-offences (`keep_all_offences = \
             true` in [data]) keeps them",
            if data.only_needed_offences {
                "--only-needed-offences"
            } else {
                "`only_needed_offences` in [data]"
            }
        );
    }
    let load_defaults = LoadOptions::default();
    let mut rules = config.rules;
    if let Some(d) = data.follow_up_days {
        rules.follow_up_days = d;
    }
    if let Some(d) = data.waiting_days {
        rules.waiting_days = d;
    }
    if data.count_index_day {
        rules.count_index_day = true;
    }
    Ok(Resolved {
        inputs: Inputs {
            cohort,
            offences,
            load: LoadOptions {
                cohort_extract,
                offences_extract,
                date_format: DateFormat::from_option(date_format.as_deref()),
                extract_date,
                cohort_columns: columns,
                // Rates and validation do not need offence types; later analyses do.
                offence_details: OffenceDetails::Skip,
                not_proven: NotProven {
                    disposals: if data.exclude_disposals.is_empty() {
                        config.data.exclude_disposals.clone()
                    } else {
                        data.exclude_disposals.clone()
                    },
                    offence_types: if data.exclude_offence_types.is_empty() {
                        config.data.exclude_offence_types.clone()
                    } else {
                        data.exclude_offence_types.clone()
                    },
                },
                keep_offences: KeepOffences::for_follow_up(
                    data.keep_all_offences || config.data.keep_all_offences.unwrap_or(false),
                    rules.follow_up_days,
                ),
                timezone,
                years: data
                    .years
                    .or(config.data.years.map(|[a, b]| (a, b)))
                    .unwrap_or(load_defaults.years),
                ages: data
                    .ages
                    .or(config.data.ages.map(|[a, b]| (a, b)))
                    .unwrap_or(load_defaults.ages),
            },
        },
        rules,
        config,
    })
}

/// Tells the error printer which of the library's options the evaluation file set, so an
/// error about one names the file's key rather than a flag the user did not give.
fn record_file_keys(config: &Config) {
    use super::set_by_file;
    // A value that can be wrong differs from the default, which is always right.
    let defaults = Rules::default();
    if config.rules.follow_up_days != defaults.follow_up_days {
        set_by_file("follow_up_days", "[rules] follow_up_days");
    }
    if config.rules.waiting_days != defaults.waiting_days {
        set_by_file("waiting_days", "[rules] waiting_days");
    }
    if config.compare.treatment.is_some() {
        set_by_file("treatment", "[compare] treatment");
    }
    if config.compare.control.is_some() {
        set_by_file("control", "[compare] control");
    }
    if config.compare.baseline_rate.is_some() {
        set_by_file("baseline_rate", "[compare] baseline_rate");
    } else if config.rates.baseline_rate.is_some() {
        set_by_file("baseline_rate", "[rates] baseline_rate");
    }
    if config.compare.period.is_some() {
        set_by_file("period", "[compare] period");
    }
    if config.rates.ci != reoffending::CiMethod::default() {
        set_by_file("ci", "[rates] ci");
    }
    if config.matching.is_some() {
        set_by_file("covariates", "[match] covariates");
        set_by_file("reference", "[match] references");
        set_by_file("caliper", "[match] caliper");
        set_by_file("ratio", "[match] ratio");
        set_by_file("exact", "[match] exact");
        set_by_file("max_levels", "[match] max_levels");
    }
    if config.survival.is_some() {
        set_by_file("times", "[survival] times");
        set_by_file("covariates", "[survival] covariates");
    }
    if config.data.timezone.is_some() {
        set_by_file("timezone", "[data] timezone");
    }
    if config.data.years.is_some() {
        set_by_file("years", "[data] years");
    }
    if config.data.ages.is_some() {
        set_by_file("ages", "[data] ages");
    }
    if config.data.date_format.is_some() {
        set_by_file("date_format", "[data] date_format");
    }
}

/// `path` relative to `base` where it lies below it, else its file name alone (so no
/// absolute path of the analyst's machine is published).
pub fn relative_to(path: &Path, base: &Path) -> String {
    // A bare file name's folder is the working folder: `""`, which names nothing.
    let dot = |p: &Path| {
        if p.as_os_str().is_empty() {
            Path::new(".").to_path_buf()
        } else {
            p.to_path_buf()
        }
    };
    let abs = |p: &Path| std::fs::canonicalize(dot(p)).unwrap_or_else(|_| dot(p));
    let (p, b) = (abs(path), abs(base));
    if !(p.is_absolute() && b.is_absolute()) {
        return path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    // The path from the base's folder: `..` for each of its folders not shared.
    let (pc, bc): (Vec<_>, Vec<_>) = (p.components().collect(), b.components().collect());
    let shared = pc.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); bc.len() - shared];
    parts.extend(
        pc[shared..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Loads the data and tells stderr about anything suspicious that excluded no row.
pub fn load(r: &Resolved) -> Result<Evaluation> {
    let eval = Evaluation::load(&r.inputs, r.rules)?;
    warn(&eval.quality.warnings);
    Ok(eval)
}

pub fn warn(warnings: &[reoffending::data::ColumnWarning]) {
    for w in warnings {
        eprintln!("warning: {}", reoffending::printable(&w.message));
    }
}

/// Cohort columns needed for these breakdowns (derived ones need their source).
pub fn columns_for(by: &[String]) -> ColumnSelection {
    let mut cols = Vec::new();
    for b in by {
        let c = match reoffending::measure::source_column(b) {
            Some(src) => src.to_string(),
            None if reoffending::measure::DERIVED.contains(&b.as_str()) || b == "cohort" => {
                continue;
            }
            None => b.clone(),
        };
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    ColumnSelection::Only(cols)
}

/// The line above every table: the extract date and the rules.
pub fn header_line(eval: &Evaluation) -> String {
    format!(
        "extract date {} ({}); follow-up {} days, waiting period {} days; offences on the index date {}",
        eval.data
            .extract_date_text()
            .unwrap_or_else(|| "none".into()),
        match eval.data.extract_date_source {
            reoffending::data::ExtractDateSource::Given => "given",
            reoffending::data::ExtractDateSource::LatestDisposalDate => "latest disposal date",
            reoffending::data::ExtractDateSource::LatestIndexDate =>
                "latest index date: no usable offences",
            reoffending::data::ExtractDateSource::None => "no usable rows",
        },
        eval.rules.follow_up_days,
        eval.rules.waiting_days,
        if eval.rules.count_index_day {
            "count"
        } else {
            "do not count"
        }
    )
}

/// `--period`, else `[compare] period` from the evaluation file, else the full period.
pub fn period_option(flag: Option<&str>, config: &Config) -> Result<reoffending::compare::Period> {
    match flag {
        Some(p) => p.parse().map_err(|_| Error::Option {
            option: "--period".into(),
            message: format!("`{p}` is not a period (use full or pilot)"),
        }),
        None => Ok(config.period()?.unwrap_or_default()),
    }
}
