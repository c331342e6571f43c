//! `report`: every analysis of the evaluation file, behind the disclosure gate.

use std::path::Path;

use serde_json::json;

use super::args::{DataArgs, OutputArgs, ReportArgs};
use super::output::{Rendered, emit};
use super::resolve::{relative_to, resolve, warn};
use reoffending::data::OffenceDetails;
use reoffending::present::Table;
use reoffending::{ColumnSelection, Error, Result};

/// `report`: the whole evaluation of an evaluation file, written as a publishable report.
// Over 80 lines: lays the flag over the report's options, stamps provenance and writes: the
// command's whole job in order.
pub fn report(a: ReportArgs) -> Result<()> {
    let (config_path, out_dir, format, strict) = (&a.config, &a.out, a.format, a.strict);
    let disclosure_flag = a.disclosure_control.as_deref();
    use reoffending::report::{FileStamp, Provenance};
    let data = DataArgs {
        cohort: Vec::new(),
        offences: Vec::new(),
        cohort_columns: Vec::new(),
        offences_columns: Vec::new(),
        recode: Vec::new(),
        recode_unmapped: Vec::new(),
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
        keep_all_offences: false,
        only_needed_offences: false,
    };
    let mut r = resolve(&data, ColumnSelection::All)?;
    r.inputs.load.offence_details = OffenceDetails::Keep;
    let mut results = reoffending::evaluation::Results::from_config(&r.config, &r.inputs, r.rules)?;
    warn(&results.data_quality.warnings);
    if results.parameters.extract_date_source != reoffending::data::ExtractDateSource::Given {
        eprintln!(
            "warning: no extract date given: the report takes {} ({}) as the day the data were \
             extracted, which decides who has had the full follow-up; set `extract_date` in the \
             evaluation file's [data] table",
            results.parameters.extract_date.as_deref().unwrap_or("none"),
            serde_json::to_value(results.parameters.extract_date_source)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default()
        );
    }
    // Provenance names files relative to the evaluation file, never the analyst's paths or
    // the working folder: the same report from wherever it is run.
    let base = config_path.parent().unwrap_or(Path::new(""));
    for f in &mut results.data_quality.files {
        f.path = relative_to(&f.path, base).into();
    }
    // The file's `[report]` (already read into the report's options), with the flag laid over
    // it, checked once ([`ReportOptions::check`]); `min_cell` has no flag: always the file's key.
    let mut options = r.config.report.clone();
    if let Some(word) = disclosure_flag {
        options.disclosure_control =
            reoffending::config::disclosure_from_word(word).map_err(|message| Error::Option {
                option: "--disclosure-control".into(),
                message,
            })?;
    }
    options.check().map_err(|e| Error::Config {
        path: config_path.to_path_buf(),
        message: format!("[report] {e}"),
    })?;
    let stamp = |p: &Path| -> Result<FileStamp> {
        let mut f = FileStamp::of(p)?;
        f.path = relative_to(p, base);
        Ok(f)
    };
    // Every file of both tables (a sheet by its workbook), then the recodings' lookup files.
    let load = &r.inputs.load;
    let mut inputs = Vec::new();
    for (first, extract) in [
        (&r.inputs.cohort, &load.cohort_extract),
        (&r.inputs.offences, &load.offences_extract),
    ] {
        for p in std::iter::once(first).chain(&extract.more_files) {
            let mut f = stamp(&reoffending::data::sheet_file(p))?;
            f.path = relative_to(p, base);
            inputs.push(f);
        }
    }
    let mut recode = Vec::new();
    for r in load
        .cohort_extract
        .recode
        .iter()
        .chain(&load.offences_extract.recode)
    {
        if recode
            .iter()
            .any(|x: &reoffending::data::Recode| x.column == r.column)
        {
            continue;
        }
        let mut r = r.clone();
        if let Some(p) = r.source.take() {
            inputs.push(stamp(&p)?);
            r.source = Some(relative_to(&p, base).into());
        }
        recode.push(r);
    }
    let provenance = Provenance {
        tool: format!("reoffending {}", env!("CARGO_PKG_VERSION")),
        config: Some(stamp(config_path)?),
        inputs,
        recode,
        disclosure_control: options.disclosure_control,
        min_cell: options.min_cell,
    };
    let written = reoffending::report::write(&results, &provenance, &options, out_dir)?;
    let files = &written.files;
    for na in &results.not_available {
        eprintln!(
            "warning: {}",
            reoffending::printable(&format!(
                "{} not available: {} (the rest of the report is written)",
                na.title, na.reason
            ))
        );
    }
    let mut t = Table::new(
        format!("Report written to {}", out_dir.display()),
        &["file"],
        1,
    );
    for f in files {
        t.push(vec![Some(f.display().to_string())]);
    }
    let printed = emit(
        &OutputArgs {
            format,
            output: None,
        },
        &Rendered {
            json: json!({"files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>()}),
            csv: reoffending::output::records_to_csv(
                &files
                    .iter()
                    .map(|f| json!({"file": f.display().to_string()}))
                    .collect::<Vec<_>>(),
            ),
            tables: vec![t],
            header: None,
        },
    );
    printed?;
    // A person at the terminal reads the finding and where to open it last, below the list.
    if matches!(format, super::args::OutputFormat::Table) {
        if let Some(h) = &written.headline {
            println!("\n{}", reoffending::printable(h));
        }
        println!("\nOpen {}", out_dir.join("report.html").display());
    }
    if strict && !results.not_available.is_empty() {
        // Documented exit code: the report was written, but not every analysis.
        std::process::exit(3);
    }
    Ok(())
}
