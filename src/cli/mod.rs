//! The `reoffending` command line: parses options, calls the library, prints.

mod args;
mod output;

use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::json;

use args::{Cli, Command, DataArgs, OutputArgs};
use output::{Rendered, emit};
use reoffending::data::OffenceDetails;
use reoffending::data::dates::DateFormat;
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
            eprintln!("error: {e}");
            if e.is_input_error() { 2 } else { 1 }
        }
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
        Command::Generate {
            persons,
            seed,
            out,
            format,
            pilot_share,
        } => {
            std::fs::create_dir_all(&out).map_err(|source| Error::Io {
                path: out.clone(),
                action: "cannot create folder",
                source,
            })?;
            let ext = format.extension();
            let mut opts = GenerateOptions::new(persons, seed);
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
            },
        },
        rules,
        config,
    })
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
    let eval = Evaluation::load(&r.inputs, r.rules)?;
    let rates = Rates::compute(&eval.data.people, &eval.outcomes, &RateOptions::default())?;
    let input = eval.input_summary();
    let value = json!({
        "parameters": eval.parameters(json!({})),
        "input": input,
        "groups": rates.groups,
    });
    let mut tables = vec![quality_table(&eval)];
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

fn quality_table(eval: &Evaluation) -> Table {
    let q = &eval.quality;
    let mut t = Table::new(
        "Data quality: rows read = rows used + rows excluded",
        &["table", "reason", "rows", "first rows"],
        2,
    );
    for (table, read, used) in [
        ("cohort", q.rows_read.cohort, q.rows_used.cohort),
        ("offences", q.rows_read.offences, q.rows_used.offences),
    ] {
        t.push(vec![
            Some(table.into()),
            Some("rows read".into()),
            Some(read.to_string()),
            None,
        ]);
        t.push(vec![
            Some(table.into()),
            Some("rows used".into()),
            Some(used.to_string()),
            None,
        ]);
        for e in q.exclusions.iter().filter(|e| e.table.to_string() == table) {
            t.push(vec![
                Some(table.into()),
                Some(format!("excluded: {}", e.reason.code())),
                Some(e.rows.to_string()),
                Some(
                    e.first_rows
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            ]);
        }
    }
    for w in &q.warnings {
        t.notes.push(format!(
            "warning: {} {}: {} values could not be read and were treated as missing (first rows {})",
            w.table,
            w.column,
            w.rows,
            w.first_rows.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
        ));
    }
    t.notes.push(
        "People excluded only for insufficient_follow_up still enter survival analysis and monitoring."
            .into(),
    );
    t
}

fn rates(
    data: &DataArgs,
    out: &OutputArgs,
    by: Vec<String>,
    ci: Option<String>,
    confidence: Option<f64>,
    baseline_rate: Option<f64>,
) -> Result<()> {
    let probe = resolve(data, ColumnSelection::All)?;
    let by = if by.is_empty() {
        probe.config.rates.by.clone()
    } else {
        by
    };
    let r = resolve(data, columns_for(&by))?;
    let ci: CiMethod = match ci.or(r.config.rates.ci.clone()) {
        Some(s) => s.parse()?,
        None => CiMethod::Wilson,
    };
    let options = RateOptions {
        by: by.clone(),
        ci,
        confidence: confidence.or(r.config.rates.confidence).unwrap_or(0.95),
        baseline_rate: baseline_rate.or(r.config.rates.baseline_rate),
    };
    let eval = Evaluation::load(&r.inputs, r.rules)?;
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
            tables: vec![rates.table(), quality_table(&eval)],
            header: Some(header_line(&eval)),
        },
    )
}

#[allow(dead_code)]
fn display(p: &Path) -> String {
    p.display().to_string()
}
