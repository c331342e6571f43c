//! The commands that analyse the data: each merges its flags over the evaluation file,
//! runs one analysis through [`Analysis::compute`] and prints it through
//! [`Rendered::analysis`] (the same JSON, CSV and tables for every analysis).

use serde_json::json;

use super::args::{
    CompareArgs, CostsArgs, EffectArgs, GenerateArgs, MatchArgs, MatchingArgs, MonitorArgs, Order,
    RatesArgs, SurvivalArgs, ValidateArgs,
};
use super::output::{Rendered, emit};
use super::resolve::{Resolved, columns_for, header_line, load, resolve, warn};
use reoffending::compare::Comparison;
use reoffending::data::OffenceDetails;
use reoffending::effect::{EffectOptions, Effects};
use reoffending::matching::{MatchOptions, MatchedComparison};
use reoffending::monitor::Monitor;
use reoffending::present::Table;
use reoffending::survival::SurvivalAnalysis;
use reoffending::synth::{GenerateOptions, OffenceOrder, generate};
use reoffending::{
    Analysis, CiMethod, ColumnSelection, Error, RateOptions, Rates, Result, Tabular,
};

/// `validate`: the data-quality table and the people per cohort.
pub fn validate(a: ValidateArgs) -> Result<()> {
    let r = resolve(&a.data, ColumnSelection::All)?;
    let eval = load(&r)?;
    let rates = Rates::compute(&eval, &RateOptions::default())?;
    let value = json!({
        "parameters": eval.parameters(json!({})),
        "input": eval.input_summary(),
        "groups": rates.groups,
    });
    let mut tables = eval.quality.tables();
    // Rows read per file, when a table has several or its columns are mapped.
    let sources = &eval.data.sources;
    if sources.len() > 2 || sources.iter().any(|f| !f.mapped.is_empty()) {
        let mut t = Table::new("Files read", &["table", "file", "rows"], 2);
        for f in sources {
            t.push(vec![
                Some(f.table.to_string()),
                Some(f.path.display().to_string()),
                Some(f.rows.to_string()),
            ]);
        }
        tables.push(t);
    }
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
    let people = &eval.data.people;
    for (c, label) in people.cohort.levels.iter().enumerate() {
        let (mut total, mut eligible) = (0u64, 0u64);
        for (i, &code) in people.cohort.codes.iter().enumerate() {
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
        &a.out,
        &Rendered {
            json: value,
            csv: eval.quality.to_csv()?,
            tables,
            header: Some(header_line(&eval)),
        },
    )
}

/// `rates`: 12-month proven reoffending per cohort and breakdown.
pub fn rates(a: RatesArgs) -> Result<()> {
    let mut r = resolve(&a.data, ColumnSelection::All)?;
    let by = if a.by.is_empty() {
        r.config.rates.by.clone()
    } else {
        a.by
    };
    r.inputs.load.cohort_columns = columns_for(&by);
    let mut options = r.config.rate_options()?;
    options.by = by;
    if let Some(m) = a.ci {
        options.ci = m.parse::<CiMethod>()?;
    }
    if let Some(c) = a.confidence {
        options.confidence = c;
    }
    if a.baseline_rate.is_some() {
        options.baseline_rate = a.baseline_rate;
    }
    options.check()?;
    let eval = load(&r)?;
    let rates = Rates::compute(&eval, &options)?;
    let mut shown = Rendered::analysis(
        &eval,
        json!({
            "by": rates.by,
            "ci_method": rates.ci_method,
            "confidence": rates.confidence,
            "baseline_rate": rates.baseline_rate,
        }),
        &rates,
    )?;
    shown.tables.extend(eval.quality.tables());
    emit(&a.out, &shown)
}

/// `compare`: the pilot against a comparison group or a fixed rate.
pub fn compare(a: CompareArgs) -> Result<()> {
    let mut r = resolve(&a.data, columns_for(&a.by))?;
    // The flags laid over the file's `[compare]` (already read into the library's settings),
    // checked once ([`CompareSettings::check`]; the error printer names the flag).
    let settings = &mut r.config.compare;
    if let Some(t) = a.treatment {
        settings.treatment = t;
    }
    // The command line's choice wins: a --control overrides a baseline in the file, and
    // the other way round.
    match (a.control, a.baseline_rate) {
        (Some(c), _) => settings.control = Some(c),
        (None, Some(rate)) => {
            settings.control = None;
            settings.baseline_rate = Some(rate);
        }
        (None, None) => {}
    }
    if a.baseline_name.is_some() {
        settings.baseline_name = a.baseline_name;
    }
    if a.baseline_source.is_some() {
        settings.baseline_source = a.baseline_source;
    }
    if a.confidence.is_some() {
        settings.confidence = a.confidence;
    }
    if let Some(p) = &a.period {
        settings.period = p.parse()?;
    }
    settings.check()?;
    if settings.control.is_none() && settings.baseline_rate.is_none() {
        return Err(Error::Option {
            option: "--control / --baseline-rate".into(),
            message: "give a comparison cohort or a fixed rate to compare with".into(),
        });
    }
    let mut options = r.config.compare_options()?;
    if let Some(m) = a.rd_ci {
        options.rd_method = m.parse()?;
    }
    options.by = a.by;
    if let Some(adj) = a.adjust {
        options.adjust = adj.parse()?;
    }
    let eval = load(&r)?;
    let cmp = Comparison::compute(&eval, &options)?;
    let used = json!({
        "treatment": options.treatment,
        "confidence": options.confidence,
        "rd_ci_method": options.rd_method,
        "by": options.by,
        "adjust": options.adjust,
        "period": options.period,
    });
    emit(&a.out, &Rendered::analysis(&eval, used, &cmp)?)
}

/// `survival`: Kaplan-Meier, log-rank and Cox.
pub fn survival(a: SurvivalArgs) -> Result<()> {
    let mut r = resolve(&a.data, ColumnSelection::All)?;
    let mut options = r.config.survival_options();
    if !a.by.is_empty() {
        options.by = a.by;
    }
    if !a.covariates.is_empty() {
        options.covariates = a.covariates;
    }
    if !a.references.is_empty() {
        options.references = reoffending::design::parse_references(&a.references)?;
    }
    if a.strata.is_some() {
        options.strata = a.strata;
    }
    if !a.times.is_empty() {
        options.times = a.times;
    }
    if let Some(t) = a.ties {
        options.ties = t.parse()?;
    }
    if let Some(k) = a.km_ci {
        options.interval = k.parse()?;
    }
    if let Some(c) = a.confidence {
        options.confidence = c;
    }
    if let Some(k) = a.max_levels {
        options.max_levels = k as usize;
    }
    options.check()?;
    let mut cols = options.by.clone();
    cols.extend(options.covariates.iter().cloned());
    cols.extend(options.strata.iter().cloned());
    r.inputs.load.cohort_columns = columns_for(&cols);
    let eval = load(&r)?;
    let s = SurvivalAnalysis::compute(&eval, &options)?;
    let used = json!({
        "by": options.by, "times": options.times, "covariates": options.covariates,
        "ties": options.ties, "km_interval": options.interval, "confidence": options.confidence,
        "strata": options.strata,
    });
    emit(&a.out, &Rendered::analysis(&eval, used, &s)?)
}

/// The matching options of `match` and `effect`: the evaluation file's `[match]` (already
/// read into the library's options, or their defaults), with every flag given laid over it,
/// checked once by the library ([`MatchOptions::check`]; the error printer names the flag).
fn match_options(a: MatchingArgs, r: &Resolved) -> Result<MatchOptions> {
    let mut options = r.config.match_options()?.unwrap_or_else(|| MatchOptions {
        treatment: r.config.treatment(),
        control: r.config.control(),
        ..Default::default()
    });
    if let Some(t) = a.treatment {
        options.treatment = t;
    }
    if let Some(c) = a.control {
        options.control = c;
    }
    if !a.covariates.is_empty() {
        options.covariates = a.covariates;
    }
    if !a.references.is_empty() {
        options.references = reoffending::design::parse_references(&a.references)?;
    }
    if let Some(c) = a.caliper {
        options.caliper = reoffending::matching::caliper_sd(c);
    }
    if let Some(k) = a.max_levels {
        options.max_levels = k as usize;
    }
    if let Some(k) = a.ratio {
        options.ratio = k as usize;
    }
    if a.replace {
        options.replace = true;
    }
    if !a.exact.is_empty() {
        options.exact = a.exact;
    }
    if let Some(c) = a.confidence {
        options.compare.confidence = c;
    }
    if let Some(p) = &a.period {
        options.compare.period = p.parse()?;
    }
    options.check()?;
    Ok(options)
}

/// The cohort columns matching reads (covariates and exact-matching columns).
fn matching_columns(options: &MatchOptions) -> ColumnSelection {
    let mut cols = options.covariates.clone();
    cols.extend(options.exact.iter().cloned());
    columns_for(&cols)
}

/// The matching options as printed under `parameters`.
fn matching_used(options: &MatchOptions) -> serde_json::Value {
    json!({
        "treatment": options.treatment, "control": options.control, "covariates": options.covariates,
        "caliper": options.caliper, "ratio": options.ratio, "replace": options.replace, "exact": options.exact,
        "confidence": options.compare.confidence, "period": options.compare.period,
    })
}

/// `match`: propensity score matching, then the matched comparison.
pub fn matching(a: MatchArgs) -> Result<()> {
    let mut r = resolve(&a.data, ColumnSelection::All)?;
    let options = match_options(a.matching, &r)?;
    r.inputs.load.cohort_columns = matching_columns(&options);
    let eval = load(&r)?;
    let m = MatchedComparison::compute(&eval, &options)?;
    if let Some(path) = &a.matched_out {
        write_matched(path, &r.inputs, &eval, &m)?;
    }
    emit(
        &a.out,
        &Rendered::analysis(&eval, matching_used(&options), &m)?,
    )
}

/// `effect`: every adjusted design on the same propensity model as `match`.
pub fn effect(a: EffectArgs) -> Result<()> {
    let mut r = resolve(&a.data, ColumnSelection::All)?;
    let matching = match_options(a.matching, &r)?;
    r.inputs.load.cohort_columns = matching_columns(&matching);
    let defaults = EffectOptions::default();
    let options = EffectOptions {
        matching,
        order_runs: a.order_runs.unwrap_or(defaults.order_runs),
        seed: a.seed.unwrap_or(defaults.seed),
    };
    let eval = load(&r)?;
    let e = Effects::compute(&eval, &options)?;
    let mut used = matching_used(&options.matching);
    if let serde_json::Value::Object(m) = &mut used {
        m.insert("order_runs".into(), json!(options.order_runs));
        m.insert("seed".into(), json!(options.seed));
    }
    emit(&a.out, &Rendered::analysis(&eval, used, &e)?)
}

/// Writes the matched sample, one row per person and matched set, in the contract's names
/// (`person_id` holds the extract's own identifier column, `cohort` the labels after recoding).
fn write_matched(
    path: &std::path::Path,
    inputs: &reoffending::Inputs,
    eval: &reoffending::Evaluation,
    m: &MatchedComparison,
) -> Result<()> {
    let people = &eval.data.people;
    let rows: Vec<u64> = m.sets.iter().map(|x| people.source_row[x.person]).collect();
    let ids = reoffending::data::person_ids(&inputs.cohort, &inputs.load, &rows)?;
    let mut out = String::from("person_id,cohort,subclass,weight,propensity_score\n");
    for (x, id) in m.sets.iter().zip(ids) {
        let cohort = people.cohort.get(x.person).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            reoffending::present::csv_cell(&id),
            reoffending::present::csv_cell(cohort),
            x.subclass + 1,
            x.weight,
            x.propensity_score
        ));
    }
    std::fs::write(path, out).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        action: "cannot write",
        source: e,
    })
}

/// `did`: difference-in-differences for an area-wide pilot.
pub fn did(a: super::args::DidArgs) -> Result<()> {
    use reoffending::did::{AreaDid, DidOptions, PeriodLength};
    let config = match &a.data.config {
        Some(p) => Some(reoffending::Config::from_file(p)?),
        None => None,
    };
    let mut options: DidOptions =
        config
            .as_ref()
            .and_then(|c| c.did.clone())
            .unwrap_or_else(|| DidOptions {
                treatment: config.as_ref().map_or_else(
                    || reoffending::Config::default().treatment(),
                    |c| c.treatment(),
                ),
                ..Default::default()
            });
    if !a.treated_areas.is_empty() {
        options.treated_areas = a.treated_areas.clone();
    }
    if let Some(s) = &a.start {
        options.start = Some(s.clone());
    }
    if let Some(p) = &a.period {
        options.period = match p.as_str() {
            "month" => PeriodLength::Month,
            "quarter" => PeriodLength::Quarter,
            "year" => PeriodLength::Year,
            other => {
                return Err(Error::Option {
                    option: "--period".into(),
                    message: format!("`{other}`: expected month, quarter or year"),
                });
            }
        };
    }
    if let Some(c) = &a.area_column {
        options.area_column = c.clone();
    }
    if !a.comparison_areas.is_empty() {
        options.comparison_areas = a.comparison_areas.clone();
    }
    if !a.covariates.is_empty() {
        options.covariates = a.covariates.clone();
    }
    if let Some(b) = a.bootstrap {
        options.bootstrap = b;
    }
    if let Some(s) = a.seed {
        options.seed = s;
    }
    if let Some(c) = a.confidence {
        options.confidence = c;
    }
    let used = serde_json::json!({
        "treated_areas": options.treated_areas, "start": options.start, "starts": options.starts,
        "period": options.period, "area_column": options.area_column,
        "comparison_areas": options.comparison_areas, "bootstrap": options.bootstrap,
        "seed": options.seed, "confidence": options.confidence, "covariates": options.covariates,
    });
    if let Some(panel) = &a.panel {
        let rows = reoffending::data::read_panel(panel)?;
        let did = AreaDid::from_panel(&rows, &options).map_err(|e| match e {
            Error::Option { option, message } if option == "panel" => Error::Input {
                path: panel.clone(),
                column: None,
                row: None,
                message,
            },
            other => other,
        })?;
        let mut json = did.to_json()?;
        if let serde_json::Value::Object(m) = &mut json {
            m.insert("parameters".into(), used);
            m.insert(
                "input".into(),
                json!({ "panel": panel.display().to_string(), "rows": rows.len() }),
            );
        }
        let rendered = super::output::Rendered {
            json,
            csv: did.to_csv()?,
            tables: did.tables(),
            header: None,
        };
        return emit(&a.out, &rendered);
    }
    let mut r = resolve(&a.data, ColumnSelection::All)?;
    let needed: Vec<String> = std::iter::once(options.area_column.clone())
        .chain(options.covariates.iter().cloned())
        .collect();
    r.inputs.load.cohort_columns = columns_for(&needed);
    let eval = load(&r)?;
    let did = AreaDid::compute(&eval, &options)?;
    emit(&a.out, &Rendered::analysis(&eval, used, &did)?)
}

/// `monitor`: each cohort by quarter of index date.
pub fn monitor(a: MonitorArgs) -> Result<()> {
    let r = resolve(&a.data, ColumnSelection::Only(Vec::new()))?;
    // The evaluation file's options (at the level the report's monitoring uses), the flags
    // laid over them.
    let mut options = r.config.monitor_options();
    if let Some(c) = a.confidence {
        options.confidence = c;
    }
    if a.projection_reference.is_some() {
        options.reference = a.projection_reference.clone();
    }
    let confidence = options.confidence;
    let eval = load(&r)?;
    let m = Monitor::compute(&eval, &options)?;
    let used = json!({"confidence": confidence});
    emit(&a.out, &Rendered::analysis(&eval, used, &m)?)
}

/// `costs`: the cost-benefit analysis of the evaluation file's `[costs]`.
pub fn costs(a: CostsArgs) -> Result<()> {
    let mut r = resolve(&a.data, ColumnSelection::All)?;
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
    let mut json = cb.to_json()?;
    if let serde_json::Value::Object(m) = &mut json {
        m.insert("parameters".into(), json!(results.parameters));
        m.insert("input".into(), json!(results.data_quality));
    }
    emit(
        &a.out,
        &Rendered {
            json,
            csv: cb.to_csv()?,
            tables: cb.tables(),
            header: None,
        },
    )
}

/// `generate`: a synthetic cohort and offences table.
pub fn generate_files(a: GenerateArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Io {
        path: a.out.clone(),
        action: "cannot create folder",
        source,
    })?;
    let ext = a.format.extension();
    let mut opts = GenerateOptions::new(a.persons, a.seed);
    opts.order = match a.order {
        Order::OffenceDate => OffenceOrder::OffenceDate,
        Order::Person => OffenceOrder::Person,
    };
    if let Some(s) = a.pilot_share {
        opts.pilot_share = s;
    }
    if let Some(h) = a.history {
        opts.history = h;
    }
    if let Some(n) = a.forces {
        let mut f = reoffending::synth::ForcePanel {
            forces: n,
            ..Default::default()
        };
        if let Some(d) = &a.launch {
            f.launch = reoffending::parse_iso(d).ok_or_else(|| Error::Option {
                option: "--launch".into(),
                message: format!("`{d}` is not a date (YYYY-MM-DD)"),
            })?;
            f.study_start = f.launch - 731;
        }
        if let Some(e) = a.effect {
            f.effect = e;
        }
        opts.forces = Some(f);
    }
    let summary = generate(
        &opts,
        &a.out.join(format!("cohort.{ext}")),
        &a.out.join(format!("offences.{ext}")),
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
