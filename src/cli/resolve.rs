//! From flags and the evaluation file to the library's inputs, rules and options: every
//! flag given overrides the file, which overrides the library's defaults.

use std::path::Path;

use super::args::DataArgs;
use reoffending::config::{Paths, RecodeSource};
use reoffending::data::OffenceDetails;
use reoffending::{ColumnSelection, Config, Error, Evaluation, Inputs, Result, Rules};

/// The data options after laying the command line over the evaluation file.
pub struct Resolved {
    pub inputs: Inputs,
    pub rules: Rules,
    pub config: Config,
}

/// The evaluation file (or none) with every data flag given laid over its `[data]` and
/// `[rules]` (already read into the library's options), checked once by the library
/// ([`DataOptions::check`](reoffending::config::DataOptions::check), `Rules::validate`; the
/// error printer names the flag), then made the library's inputs.
pub fn resolve(data: &DataArgs, columns: ColumnSelection) -> Result<Resolved> {
    let mut config = match &data.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    record_file_keys(&config);
    let d = &mut config.data;
    for (paths, flag, file) in [
        (&data.cohort, "--cohort", &mut d.cohort),
        (&data.offences, "--offences", &mut d.offences),
    ] {
        if !paths.is_empty() {
            *file = Some(Paths::Many(paths.clone()));
        } else if file.is_none() {
            return Err(Error::Option {
                option: flag.to_string(),
                message: "required: give the file, or --config with a [data] table naming it"
                    .into(),
            });
        }
    }
    // Names and recodings: the file's, then the flags', name by name.
    d.cohort_columns.extend(data.cohort_columns.iter().cloned());
    d.offences_columns
        .extend(data.offences_columns.iter().cloned());
    d.recode.extend(
        data.recode
            .iter()
            .map(|(c, f)| (c.clone(), RecodeSource::File(f.into()))),
    );
    d.recode_unmapped
        .extend(data.recode_unmapped.iter().cloned());
    if data.extract_date.is_some() {
        d.extract_date.clone_from(&data.extract_date);
    }
    if data.date_format.is_some() {
        d.date_format.clone_from(&data.date_format);
    }
    if data.timezone.is_some() {
        d.timezone.clone_from(&data.timezone);
    }
    if !data.exclude_disposals.is_empty() {
        d.exclude_disposals.clone_from(&data.exclude_disposals);
    }
    if !data.exclude_offence_types.is_empty() {
        d.exclude_offence_types
            .clone_from(&data.exclude_offence_types);
    }
    if let Some(y) = data.years {
        d.years = y;
    }
    if let Some(a) = data.ages {
        d.ages = a;
    }
    if data.keep_all_offences {
        d.keep_all_offences = true;
    }
    if data.only_needed_offences || d.only_needed_offences.is_some() {
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
    let rules = &mut config.rules;
    if let Some(d) = data.follow_up_days {
        rules.follow_up_days = d;
    }
    if let Some(d) = data.waiting_days {
        rules.waiting_days = d;
    }
    if data.count_index_day {
        rules.count_index_day = true;
    }
    let rules = config.rules;
    let mut inputs = config.data.inputs(rules.follow_up_days)?;
    inputs.load.cohort_columns = columns;
    // Rates and validation do not need offence types; later analyses do.
    inputs.load.offence_details = OffenceDetails::Skip;
    Ok(Resolved {
        inputs,
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
    let compare = reoffending::compare::CompareSettings::default();
    if config.compare.treatment != compare.treatment {
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
    if config.compare.period != compare.period {
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
    if config.did.is_some() {
        // The difference-in-differences options whose names no other section uses.
        for key in [
            "area_column",
            "treated_areas",
            "start",
            "starts",
            "comparison_areas",
            "bootstrap",
        ] {
            set_by_file(key, format!("[did] {key}"));
        }
    }
    let data = reoffending::config::DataOptions::default();
    if config.data.timezone.is_some() {
        set_by_file("timezone", "[data] timezone");
    }
    if config.data.extract_date.is_some() {
        set_by_file("extract_date", "[data] extract_date");
    }
    if config.data.years != data.years {
        set_by_file("years", "[data] years");
    }
    if config.data.ages != data.ages {
        set_by_file("ages", "[data] ages");
    }
    if config.data.date_format.is_some() {
        set_by_file("date_format", "[data] date_format");
    }
    if !config.data.recode.is_empty() {
        set_by_file("recode", "[data] recode");
    }
    if !config.data.recode_unmapped.is_empty() {
        set_by_file("recode_unmapped", "[data] recode_unmapped");
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
