//! The `reoffending` command line: parses options, calls the library, prints.

mod args;
mod output;

use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::json;

use args::{Cli, Command, DataArgs, OutputArgs};
use output::{Rendered, emit};
use reoffending::data::dates::DateFormat;
use reoffending::data::{NotProven, OffenceDetails};
use reoffending::present::Table;
use reoffending::synth::{GenerateOptions, generate};
use reoffending::{
    CiMethod, ColumnSelection, Config, Error, Evaluation, Inputs, LoadOptions, RateOptions, Rates,
    Result, Rules, parse_iso,
};

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match try_main(cli) {
        Ok(()) => 0,
        Err(e) => {
            let e = as_flag(e);
            eprintln!("error: {e}");
            if e.is_input_error() { 2 } else { 1 }
        }
    }
}

/// The library names options as its API does (`caliper`, `baseline_rate`); on the command
/// line they are flags (`--caliper`, `--baseline-rate`). Keys of the evaluation file
/// (`[match] caliper`, `costs.draws`) are left as they are.
fn as_flag(e: Error) -> Error {
    match e {
        Error::Option { option, message }
            if !option.starts_with('-')
                && option
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Error::Option {
                option: format!("--{}", option.replace('_', "-")),
                message,
            }
        }
        other => other,
    }
}

fn try_main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate { data, out } => validate(&data, &out),
        Command::Rates {
            data,
            out,
            by,
            ci,
            confidence,
            baseline_rate,
        } => rates(&data, &out, by, ci, confidence, baseline_rate),
        Command::Compare {
            data,
            out,
            treatment,
            control,
            baseline_rate,
            baseline_name,
            baseline_source,
            by,
            adjust,
            rd_ci,
            confidence,
            period,
        } => compare(
            &data,
            &out,
            CompareArgs {
                treatment,
                control,
                baseline_rate,
                baseline_name,
                baseline_source,
                by,
                adjust,
                rd_ci,
                confidence,
                period,
            },
        ),
        Command::Survival {
            data,
            out,
            by,
            times,
            covariates,
            references,
            ties,
            km_ci,
            strata,
            confidence,
        } => {
            let mut r = resolve(&data, ColumnSelection::All)?;
            // The evaluation file's [survival] first; every flag given overrides it.
            let mut options = r.config.survival_options();
            if !by.is_empty() {
                options.by = by;
            }
            if !covariates.is_empty() {
                options.covariates = covariates;
            }
            if !references.is_empty() {
                options.references = reoffending::design::parse_references(&references)?;
            }
            if strata.is_some() {
                options.strata = strata;
            }
            if !times.is_empty() {
                options.times = times;
            }
            if let Some(t) = ties {
                options.ties = t.parse()?;
            }
            if let Some(k) = km_ci {
                options.interval = k.parse()?;
            }
            if let Some(c) = confidence {
                options.confidence = c;
            }
            let mut cols = options.by.clone();
            cols.extend(options.covariates.iter().cloned());
            cols.extend(options.strata.iter().cloned());
            r.inputs.load.cohort_columns = columns_for(&cols);
            survival(&r, &out, options)
        }
        Command::Match {
            data,
            out,
            treatment,
            control,
            covariates,
            references,
            caliper,
            ratio,
            replace,
            exact,
            confidence,
            period,
        } => {
            let mut r = resolve(&data, ColumnSelection::All)?;
            // The evaluation file's [match] (and [compare] cohorts) first; flags override.
            let mut options =
                r.config
                    .match_options()?
                    .unwrap_or_else(|| reoffending::matching::MatchOptions {
                        treatment: r.config.treatment(),
                        control: r.config.control(),
                        ..Default::default()
                    });
            if let Some(t) = treatment {
                options.treatment = t;
            }
            if let Some(c) = control {
                options.control = c;
            }
            if !covariates.is_empty() {
                options.covariates = covariates;
            }
            if options.covariates.is_empty() {
                return Err(Error::Option {
                    option: "--covariates".into(),
                    message: "name the covariates of the propensity model (or give --config with a [match] table)".into(),
                });
            }
            if !references.is_empty() {
                options.references = reoffending::design::parse_references(&references)?;
            }
            if let Some(c) = caliper {
                options.caliper = (c > 0.0).then_some(c);
            }
            if let Some(k) = ratio {
                options.ratio = k as usize;
            }
            if replace {
                options.replace = true;
            }
            if !exact.is_empty() {
                options.exact = exact;
            }
            if let Some(c) = confidence {
                options.compare.confidence = c;
            }
            if let Some(p) = period {
                options.compare.period = p.parse().map_err(|_| Error::Option {
                    option: "--period".into(),
                    message: format!("`{p}` is not a period (use full or pilot)"),
                })?;
            }
            let mut cols = options.covariates.clone();
            cols.extend(options.exact.iter().cloned());
            r.inputs.load.cohort_columns = columns_for(&cols);
            matching(&r, &out, options)
        }
        Command::Costs { data, out } => costs(&data, &out),
        Command::Report {
            config,
            out,
            format,
            disclosure_control,
            strict,
        } => report(&config, &out, format, disclosure_control.as_deref(), strict),
        Command::Monitor {
            data,
            out,
            confidence,
        } => monitor(&data, &out, confidence.unwrap_or(0.95)),
        Command::Power {
            out,
            baseline_rate,
            target_rate,
            alpha,
            power,
            groups,
            n,
            ratio,
        } => power_cmd(
            &out,
            baseline_rate,
            target_rate,
            alpha,
            power,
            groups,
            n,
            ratio,
        ),
        Command::Generate {
            persons,
            seed,
            out,
            format,
            pilot_share,
            order,
        } => {
            std::fs::create_dir_all(&out).map_err(|source| Error::Io {
                path: out.clone(),
                action: "cannot create folder",
                source,
            })?;
            let ext = format.extension();
            let mut opts = GenerateOptions::new(persons, seed);
            opts.order = match order {
                args::Order::OffenceDate => reoffending::synth::OffenceOrder::OffenceDate,
                args::Order::Person => reoffending::synth::OffenceOrder::Person,
            };
            if let Some(s) = pilot_share {
                opts.pilot_share = s;
            }
            let summary = generate(
                &opts,
                &out.join(format!("cohort.{ext}")),
                &out.join(format!("offences.{ext}")),
            )?;
            println!(
                "wrote {} cohort rows to {} and {} offence rows to {} (seed {})",
                summary.cohort_rows,
                summary.cohort.display(),
                summary.offence_rows,
                summary.offences.display(),
                summary.seed
            );
            Ok(())
        }
    }
}

/// The data options after merging the evaluation file and the command line.
struct Resolved {
    inputs: Inputs,
    rules: Rules,
    config: Config,
}

fn resolve(data: &DataArgs, columns: ColumnSelection) -> Result<Resolved> {
    let config = match &data.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    let path = |cli: &Option<PathBuf>, file: &Option<PathBuf>, flag: &str| -> Result<PathBuf> {
        match (cli, file) {
            (Some(p), _) => Ok(p.clone()),
            (None, Some(p)) => Ok(config.resolve(p)),
            (None, None) => Err(Error::Option {
                option: flag.to_string(),
                message: "required: give the file, or --config with a [data] table naming it"
                    .into(),
            }),
        }
    };
    let cohort = path(&data.cohort, &config.data.cohort, "--cohort")?;
    let offences = path(&data.offences, &config.data.offences, "--offences")?;
    let extract = data
        .extract_date
        .clone()
        .or(config.data.extract_date.clone());
    let extract_date = match extract {
        None => None,
        Some(s) => Some(parse_iso(&s).ok_or_else(|| Error::Option {
            option: "--extract-date".into(),
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
    let load_defaults = LoadOptions::default();
    let defaults = Rules::default();
    let rules = Rules {
        follow_up_days: data
            .follow_up_days
            .or(config.rules.follow_up_days)
            .unwrap_or(defaults.follow_up_days),
        waiting_days: data
            .waiting_days
            .or(config.rules.waiting_days)
            .unwrap_or(defaults.waiting_days),
        count_index_day: data.count_index_day
            || config
                .rules
                .count_index_day
                .unwrap_or(defaults.count_index_day),
    };
    Ok(Resolved {
        inputs: Inputs {
            cohort,
            offences,
            load: LoadOptions {
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

/// `path` relative to `base` where it lies below it, else its file name alone (so no
/// absolute path of the analyst's machine is published).
fn relative_to(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (p, b) = (abs(path), abs(base));
    match p.strip_prefix(&b) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Loads the data and tells stderr about anything suspicious that excluded no row.
fn load(r: &Resolved) -> Result<Evaluation> {
    let eval = Evaluation::load(&r.inputs, r.rules)?;
    warn(&eval.quality.warnings);
    Ok(eval)
}

fn warn(warnings: &[reoffending::data::ColumnWarning]) {
    for w in warnings {
        eprintln!("warning: {}", w.message);
    }
}

/// Cohort columns needed for these breakdowns (derived ones need their source).
fn columns_for(by: &[String]) -> ColumnSelection {
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

fn validate(data: &DataArgs, out: &OutputArgs) -> Result<()> {
    let r = resolve(data, ColumnSelection::All)?;
    let eval = load(&r)?;
    let rates = Rates::compute(&eval.data.people, &eval.outcomes, &RateOptions::default())?;
    let input = eval.input_summary();
    let value = json!({
        "parameters": eval.parameters(json!({})),
        "input": input,
        "groups": rates.groups,
    });
    let mut tables = vec![eval.quality.table()];
    let mut t = Table::new(
        "People per cohort",
        &[
            "cohort",
            "people",
            "in 12-month measure",
            "partial follow-up only",
        ],
        1,
    );
    for (c, label) in eval.data.people.cohort.levels.iter().enumerate() {
        let mut total = 0u64;
        let mut eligible = 0u64;
        for (i, &code) in eval.data.people.cohort.codes.iter().enumerate() {
            if code as usize == c {
                total += 1;
                eligible += u64::from(eval.outcomes.eligible[i]);
            }
        }
        t.push(vec![
            Some(label.clone()),
            Some(total.to_string()),
            Some(eligible.to_string()),
            Some((total - eligible).to_string()),
        ]);
    }
    tables.push(t);
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "exclusions_flat",
            tables,
            header: Some(header_line(&eval)),
        },
    )
}

fn header_line(eval: &Evaluation) -> String {
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

fn rates(
    data: &DataArgs,
    out: &OutputArgs,
    by: Vec<String>,
    ci: Option<String>,
    confidence: Option<f64>,
    baseline_rate: Option<f64>,
) -> Result<()> {
    let mut r = resolve(data, ColumnSelection::All)?;
    let by = if by.is_empty() {
        r.config.rates.by.clone()
    } else {
        by
    };
    r.inputs.load.cohort_columns = columns_for(&by);
    // The evaluation file's [rates] first; every flag given overrides it.
    let mut options = r.config.rate_options()?;
    options.by = by.clone();
    if let Some(m) = ci {
        options.ci = m.parse::<CiMethod>()?;
    }
    if let Some(c) = confidence {
        options.confidence = c;
    }
    if baseline_rate.is_some() {
        options.baseline_rate = baseline_rate;
    }
    let eval = load(&r)?;
    let rates = Rates::compute(&eval.data.people, &eval.outcomes, &options)?;
    let value = json!({
        "parameters": eval.parameters(json!({
            "by": rates.by,
            "ci_method": rates.ci_method,
            "confidence": rates.confidence,
            "baseline_rate": rates.baseline_rate,
        })),
        "input": eval.input_summary(),
        "groups": rates.groups,
    });
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "groups",
            tables: vec![rates.table(), eval.quality.table()],
            header: Some(header_line(&eval)),
        },
    )
}

struct CompareArgs {
    treatment: Option<String>,
    control: Option<String>,
    baseline_rate: Option<f64>,
    baseline_name: Option<String>,
    baseline_source: Option<String>,
    by: Vec<String>,
    adjust: Option<String>,
    rd_ci: Option<String>,
    confidence: Option<f64>,
    period: Option<String>,
}

fn compare(data: &DataArgs, out: &OutputArgs, a: CompareArgs) -> Result<()> {
    use reoffending::compare::{Against, Comparison};
    let r = resolve(data, columns_for(&a.by))?;
    let cfg = r.config.compare.clone();
    let treatment = a
        .treatment
        .or(cfg.treatment)
        .unwrap_or_else(|| "divert".into());
    // The command line's choice wins: a --control overrides a baseline in the file, and
    // the other way round.
    let against = match (a.control, a.baseline_rate) {
        (Some(c), _) => Against::Group(c),
        (None, Some(rate)) => Against::Baseline {
            rate,
            name: a.baseline_name.or(cfg.baseline_name),
            source: a.baseline_source.or(cfg.baseline_source),
        },
        (None, None) => match (cfg.control, cfg.baseline_rate) {
            (Some(c), _) => Against::Group(c),
            (None, Some(rate)) => Against::Baseline {
                rate,
                name: a.baseline_name.or(cfg.baseline_name),
                source: a.baseline_source.or(cfg.baseline_source),
            },
            (None, None) => {
                return Err(Error::Option {
                    option: "--control / --baseline-rate".into(),
                    message: "give a comparison cohort or a fixed rate to compare with".into(),
                });
            }
        },
    };
    if matches!(&against, Against::Group(c) if *c == treatment) {
        return Err(Error::Option {
            option: "--control".into(),
            message: format!(
                "`{treatment}` is the treatment cohort too: compare it with another cohort"
            ),
        });
    }
    // The evaluation file's [compare] first; every flag given overrides it.
    let mut options = r.config.compare_options()?;
    if let Some(c) = a.confidence {
        options.confidence = c;
    }
    if let Some(m) = a.rd_ci {
        options.rd_method = m.parse()?;
    }
    options.by = a.by.clone();
    if let Some(adj) = a.adjust {
        options.adjust = adj.parse()?;
    }
    options.period = period_option(a.period.as_deref(), &r.config)?;
    let eval = load(&r)?;
    let cmp = Comparison::compute(
        &eval.data.people,
        &eval.outcomes,
        &treatment,
        &against,
        &options,
    )?;
    let mut value = serde_json::to_value(&cmp).map_err(|e| Error::Output(e.to_string()))?;
    if let serde_json::Value::Object(m) = &mut value {
        m.insert(
            "parameters".into(),
            json!(eval.parameters(json!({
                "treatment": treatment,
                "confidence": options.confidence,
                "rd_ci_method": options.rd_method,
                "by": options.by,
                "adjust": options.adjust,
                "period": options.period,
            }))),
        );
        m.insert("input".into(), json!(eval.input_summary()));
    }
    let mut tables = vec![cmp.table()];
    tables.extend(cmp.subgroup_table());
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "subgroups",
            tables,
            header: Some(header_line(&eval)),
        },
    )
}

#[allow(clippy::too_many_arguments)]
fn power_cmd(
    out: &OutputArgs,
    baseline: f64,
    target: Option<f64>,
    alpha: f64,
    power: f64,
    groups: u8,
    n: Option<u64>,
    ratio: f64,
) -> Result<()> {
    use reoffending::stats::{
        ONE_SAMPLE_METHOD, TWO_SAMPLE_METHOD, detectable_one, detectable_two, sample_size_one,
        sample_size_two,
    };
    let method = if groups == 1 {
        ONE_SAMPLE_METHOD
    } else {
        TWO_SAMPLE_METHOD
    };
    let mut t = Table::new("Power", &["quantity", "value"], 1);
    let value = match (n, target) {
        (Some(n), _) => {
            let d = if groups == 1 {
                detectable_one(n as f64, baseline, alpha, power)?
            } else {
                detectable_two(n as f64, n as f64 * ratio, baseline, alpha, power)?
            };
            let f = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0));
            t.push(vec![
                Some("people in the pilot group".into()),
                Some(n.to_string()),
            ]);
            t.push(vec![
                Some("lowest rate detectable below the baseline".into()),
                f(d.min_detectable_rate_lower),
            ]);
            t.push(vec![
                Some("highest rate detectable above it".into()),
                f(d.min_detectable_rate_upper),
            ]);
            json!({
                "n": n, "groups": groups, "baseline_rate": baseline, "alpha": alpha, "power": power,
                "ratio": if groups == 2 { Some(ratio) } else { None },
                "min_detectable_rate_lower": d.min_detectable_rate_lower,
                "min_detectable_rate_upper": d.min_detectable_rate_upper,
                "method": method,
            })
        }
        (None, Some(p1)) => {
            let (n_total, n_per_group, exact) = if groups == 1 {
                let x = sample_size_one(baseline, p1, alpha, power)?;
                (x.ceil() as u64, None, x)
            } else {
                let x = sample_size_two(p1, baseline, alpha, power, ratio)?;
                let n1 = x.ceil() as u64;
                let n2 = (x * ratio).ceil() as u64;
                (n1 + n2, Some(n1), x)
            };
            t.push(vec![
                Some("people needed in all".into()),
                Some(n_total.to_string()),
            ]);
            if let Some(g) = n_per_group {
                t.push(vec![Some("in the pilot group".into()), Some(g.to_string())]);
                t.push(vec![
                    Some("in the comparison group".into()),
                    Some((n_total - g).to_string()),
                ]);
            }
            json!({
                "n": n_total, "n_per_group": n_per_group, "n_exact": exact, "groups": groups,
                "baseline_rate": baseline, "target_rate": p1, "alpha": alpha, "power": power,
                "ratio": if groups == 2 { Some(ratio) } else { None },
                "method": method,
            })
        }
        (None, None) => {
            return Err(Error::Option {
                option: "--target-rate".into(),
                message: "give --target-rate, or --n for the minimum detectable rate".into(),
            });
        }
    };
    t.notes.push(format!(
        "method: {method}; two-sided alpha {alpha}, power {power}"
    ));
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "",
            tables: vec![t],
            header: None,
        },
    )
}

fn survival(
    r: &Resolved,
    out: &OutputArgs,
    options: reoffending::survival::SurvivalOptions,
) -> Result<()> {
    let eval = load(r)?;
    let s = reoffending::survival::SurvivalAnalysis::compute(
        &eval.data.people,
        &eval.outcomes,
        &options,
    )?;
    let mut value = serde_json::to_value(&s).map_err(|e| Error::Output(e.to_string()))?;
    if let serde_json::Value::Object(m) = &mut value {
        m.insert(
            "parameters".into(),
            json!(eval.parameters(json!({
            "by": options.by, "times": options.times, "covariates": options.covariates,
            "ties": options.ties, "km_interval": options.interval, "confidence": options.confidence,
            "strata": options.strata,
        }))),
        );
        m.insert("input".into(), json!(eval.input_summary()));
    }
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "groups_flat",
            tables: s.tables(),
            header: Some(header_line(&eval)),
        },
    )
}

fn monitor(data: &DataArgs, out: &OutputArgs, confidence: f64) -> Result<()> {
    let r = resolve(data, ColumnSelection::Only(Vec::new()))?;
    let eval = load(&r)?;
    let m = reoffending::monitor::Monitor::compute(
        &eval.data.people,
        &eval.outcomes,
        &reoffending::monitor::MonitorOptions {
            confidence,
            reference: Some(r.config.control()),
        },
    )?;
    let mut value = serde_json::to_value(&m).map_err(|e| Error::Output(e.to_string()))?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert(
            "parameters".into(),
            json!(eval.parameters(json!({"confidence": confidence}))),
        );
        map.insert("input".into(), json!(eval.input_summary()));
    }
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "groups",
            tables: vec![m.table()],
            header: Some(header_line(&eval)),
        },
    )
}

/// `--period`, else `[compare] period` from the evaluation file, else the full period.
fn period_option(flag: Option<&str>, config: &Config) -> Result<reoffending::compare::Period> {
    match flag {
        Some(p) => p.parse().map_err(|_| Error::Option {
            option: "--period".into(),
            message: format!("`{p}` is not a period (use full or pilot)"),
        }),
        None => Ok(config.period()?.unwrap_or_default()),
    }
}

fn matching(
    r: &Resolved,
    out: &OutputArgs,
    options: reoffending::matching::MatchOptions,
) -> Result<()> {
    if options.treatment == options.control {
        return Err(Error::Option {
            option: "--control".into(),
            message: format!(
                "`{}` is the treatment cohort too: match with another cohort",
                options.treatment
            ),
        });
    }
    let eval = load(r)?;
    let m = reoffending::matching::MatchedComparison::compute(
        &eval.data.people,
        &eval.outcomes,
        &options,
    )?;
    let mut value = serde_json::to_value(&m).map_err(|e| Error::Output(e.to_string()))?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("parameters".into(), json!(eval.parameters(json!({
            "treatment": options.treatment, "control": options.control, "covariates": options.covariates,
            "caliper": options.caliper, "ratio": options.ratio, "replace": options.replace, "exact": options.exact,
            "confidence": options.compare.confidence, "period": options.compare.period,
        }))));
        map.insert("input".into(), json!(eval.input_summary()));
    }
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "balance",
            tables: m.tables(),
            header: Some(header_line(&eval)),
        },
    )
}

fn costs(data: &DataArgs, out: &OutputArgs) -> Result<()> {
    let mut r = resolve(data, ColumnSelection::All)?;
    if r.config.costs.is_none() {
        return Err(Error::Option {
            option: "--config".into(),
            message: "costs needs an evaluation file with a [costs] table (see data-samples/evaluation.toml)".into(),
        });
    }
    r.inputs.load.offence_details = OffenceDetails::Keep;
    let results = reoffending::evaluation::Results::from_config(&r.config, &r.inputs, r.rules)?;
    warn(&results.data_quality.warnings);
    // Results::from_config only fails to produce costs when [costs] is absent, checked above.
    let Some(cb) = &results.costs else {
        return Err(Error::Output("no cost-benefit result".into()));
    };
    let mut value = serde_json::to_value(cb).map_err(|e| Error::Output(e.to_string()))?;
    if let serde_json::Value::Object(m) = &mut value {
        m.insert("parameters".into(), json!(results.parameters));
        m.insert("input".into(), json!(results.data_quality));
    }
    emit(
        out,
        &Rendered {
            json: value,
            records_key: "items",
            tables: cb.tables(),
            header: None,
        },
    )
}

fn report(
    config_path: &Path,
    out_dir: &Path,
    format: args::OutputFormat,
    disclosure_flag: Option<&str>,
    strict: bool,
) -> Result<()> {
    use reoffending::report::{FileStamp, Provenance, ReportOptions};
    let data = DataArgs {
        cohort: None,
        offences: None,
        config: Some(config_path.to_path_buf()),
        follow_up_days: None,
        waiting_days: None,
        extract_date: None,
        date_format: None,
        count_index_day: false,
        exclude_disposals: Vec::new(),
        exclude_offence_types: Vec::new(),
        timezone: None,
        years: None,
        ages: None,
    };
    let mut r = resolve(&data, ColumnSelection::All)?;
    r.inputs.load.offence_details = OffenceDetails::Keep;
    let results = reoffending::evaluation::Results::from_config(&r.config, &r.inputs, r.rules)?;
    warn(&results.data_quality.warnings);
    let rc = r.config.report.clone().unwrap_or_default();
    let disclosure_control = match (disclosure_flag, rc.disclosure.as_deref()) {
        (Some("on"), _) => true,
        (Some("off"), _) => false,
        (Some(other), _) => {
            return Err(Error::Option {
                option: "--disclosure-control".into(),
                message: format!("`{other}`: use on or off"),
            });
        }
        (None, Some("off")) => false,
        (None, Some("on")) => !rc.disclosure_control_off,
        (None, Some(other)) => {
            return Err(Error::Config {
                path: config_path.to_path_buf(),
                message: format!("[report] disclosure = \"{other}\": use \"on\" or \"off\""),
            });
        }
        (None, None) => !rc.disclosure_control_off,
    };
    let options = ReportOptions {
        title: rc.title.unwrap_or_else(|| ReportOptions::default().title),
        min_cell: rc.min_cell.unwrap_or(10),
        disclosure_control,
    };
    options.validate().map_err(|e| match e {
        Error::Option { message, .. } if disclosure_flag.is_none() => Error::Config {
            path: config_path.to_path_buf(),
            message: format!("[report] min_cell = {}: {message}", options.min_cell),
        },
        Error::Option { message, .. } => Error::Option {
            option: "min_cell".into(),
            message,
        },
        other => other,
    })?;
    // Provenance names files relative to the evaluation file, never the analyst's paths.
    let base = config_path.parent().unwrap_or(Path::new(""));
    let stamp = |p: &Path| -> Result<FileStamp> {
        let mut f = FileStamp::of(p)?;
        f.path = relative_to(p, base);
        Ok(f)
    };
    let provenance = Provenance {
        tool: format!("reoffending {}", env!("CARGO_PKG_VERSION")),
        config: Some(stamp(config_path)?),
        inputs: vec![stamp(&r.inputs.cohort)?, stamp(&r.inputs.offences)?],
        disclosure_control: options.disclosure_control,
        min_cell: options.min_cell,
    };
    let files = reoffending::report::write(&results, &provenance, &options, out_dir)?;
    for na in &results.not_available {
        eprintln!(
            "warning: {} not available: {} (the rest of the report is written)",
            na.title, na.reason
        );
    }
    let mut t = Table::new(
        format!("Report written to {}", out_dir.display()),
        &["file"],
        1,
    );
    for f in &files {
        t.push(vec![Some(f.display().to_string())]);
    }
    let printed = emit(
        &OutputArgs {
            format,
            output: None,
        },
        &Rendered {
            json: json!({"files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>()}),
            records_key: "",
            tables: vec![t],
            header: None,
        },
    );
    printed?;
    if strict && !results.not_available.is_empty() {
        // Documented exit code: the report was written, but not every analysis.
        std::process::exit(3);
    }
    Ok(())
}
