//! `reoffending inspect FILE...`: profiles of unfamiliar extracts and a suggested mapping.

use serde_json::json;

use super::args::InspectArgs;
use super::output::{Rendered, emit};
use reoffending::present::Table;
use reoffending::{Error, Result};

pub fn inspect(a: InspectArgs) -> Result<()> {
    let found = reoffending::data::inspect(&a.files, a.min_cell)?;
    let mut tables = Vec::new();
    let mut records = Vec::new();
    for f in &found.files {
        let title = format!(
            "{}: {} rows{}",
            f.path.display(),
            f.rows,
            f.table
                .as_deref()
                .map(|t| format!(", looks like the {t} table"))
                .unwrap_or_default()
        );
        let mut t = Table::new(
            title,
            &[
                "column",
                "type",
                "missing",
                "distinct",
                "min",
                "max",
                "date format",
                "commonest values",
            ],
            1,
        );
        for c in &f.columns {
            let top = c
                .top
                .iter()
                .map(|v| format!("{} ({})", v.value, v.count))
                .collect::<Vec<_>>()
                .join(", ");
            t.push(vec![
                Some(c.name.clone()),
                Some(c.kind.clone()),
                Some(format!("{:.1}%", c.missing * 100.0)),
                Some(c.distinct.to_string()),
                c.min.clone(),
                c.max.clone(),
                c.date_format.clone(),
                Some(top),
            ]);
            records.push(json!({
                "path": f.path.display().to_string(),
                "column": c.name,
                "type": c.kind,
                "missing": c.missing,
                "distinct": c.distinct,
                "min": c.min,
                "max": c.max,
                "date_format": c.date_format,
            }));
        }
        tables.push(t);
    }
    let mut notes = Table::new("Check", &["file", "column", "warning"], 2);
    for f in &found.files {
        for c in &f.columns {
            if let Some(w) = &c.warning {
                notes.push(vec![
                    Some(f.path.display().to_string()),
                    Some(c.name.clone()),
                    Some(w.clone()),
                ]);
            }
        }
    }
    if found
        .files
        .iter()
        .any(|f| f.columns.iter().any(|c| c.warning.is_some()))
    {
        tables.push(notes);
    }
    let json = serde_json::to_value(&found).map_err(|e| Error::Output(e.to_string()))?;
    let header = format!(
        "Suggested mapping for the evaluation file (check it before use):\n\n{}",
        found.toml()
    );
    emit(
        &a.out,
        &Rendered {
            json,
            csv: reoffending::output::records_to_csv(&records),
            tables,
            header: None,
        },
    )?;
    if a.out.format == super::args::OutputFormat::Table {
        print!("{header}");
    }
    Ok(())
}
