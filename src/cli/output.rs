//! Printing results as a table, JSON or CSV, to standard output or a file.

use std::io::Write;

use serde_json::Value;

use super::args::{OutputArgs, OutputFormat};
use reoffending::present::Table;
use reoffending::{Error, Evaluation, Result, Tabular};

/// What a command prints, in all its forms.
pub struct Rendered {
    /// The JSON document (CONTRACT §3).
    pub json: Value,
    /// The CSV form: a result's main table as its one description gives it
    /// ([`Tabular::to_csv`]), or, for what has no described table (`power`, `inspect`,
    /// `report`'s list of files), JSON records flattened.
    pub csv: String,
    /// The tables of the terminal form.
    pub tables: Vec<Table>,
    /// A line printed above the tables.
    pub header: Option<String>,
}

impl Rendered {
    /// A result of an analysis of `eval`: its JSON with the parameters (the rules and
    /// `analysis`, the options used) and the input summary added; its CSV and tables.
    pub fn analysis<T: Tabular>(eval: &Evaluation, analysis: Value, result: &T) -> Result<Self> {
        let mut json = result.to_json()?;
        if let Value::Object(m) = &mut json {
            m.insert(
                "parameters".into(),
                serde_json::to_value(eval.parameters(analysis))
                    .map_err(|e| Error::Output(e.to_string()))?,
            );
            m.insert(
                "input".into(),
                serde_json::to_value(eval.input_summary())
                    .map_err(|e| Error::Output(e.to_string()))?,
            );
        }
        Ok(Rendered {
            json,
            csv: result.to_csv()?,
            tables: result.tables(),
            header: Some(super::resolve::header_line(eval)),
        })
    }
}

pub fn emit(out: &OutputArgs, r: &Rendered) -> Result<()> {
    let text = match out.format {
        OutputFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(&r.json).map_err(|e| Error::Output(e.to_string()))?;
            s.push('\n');
            s
        }
        OutputFormat::Csv => r.csv.clone(),
        OutputFormat::Table => {
            let mut s = String::new();
            if let Some(h) = &r.header {
                s.push_str(h);
                s.push_str("\n\n");
            }
            for t in &r.tables {
                s.push_str(&t.to_string());
                s.push('\n');
            }
            s
        }
    };
    match &out.output {
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = stdout.write_all(text.as_bytes());
            Ok(())
        }
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    path: dir.to_path_buf(),
                    action: "cannot create folder",
                    source,
                })?;
            }
            std::fs::write(p, text).map_err(|source| Error::Io {
                path: p.clone(),
                action: "cannot write",
                source,
            })
        }
    }
}
