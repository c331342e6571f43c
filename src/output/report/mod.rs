//! The published report: HTML, Markdown, JSON, CSV tables and SVG charts, after
//! statistical disclosure control, stamped with input hashes, parameters and tool version.
//!
//! Everything is built from the disclosure-controlled JSON, so the HTML, Markdown, CSV and
//! JSON always agree. Output is deterministic: no clock time is written.

mod bottom_line;
mod did;
pub mod disclosure;
mod files;
mod ledger;
mod markdown;
mod provenance;
mod sections;
mod table;
mod xlsx;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::charts;
pub use crate::config::{DEFAULT_MIN_CELL, MIN_CELL_FLOOR, ReportOptions};
use crate::error::{Error, Result};
use crate::evaluation::Results;
pub use files::MANIFEST;
use files::clear_previous;
use markdown::markdown;
pub use provenance::{FileStamp, Provenance};
use sections::sections;
use table::SectionTable;

/// The first line of every output written with disclosure control off.
pub const NOT_FOR_PUBLICATION: &str = "NOT FOR PUBLICATION: disclosure control off";

/// What [`write()`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Every file, in the order written.
    pub files: Vec<PathBuf>,
    /// The report's first finding, as published (after disclosure control): what a person
    /// running the report reads first.
    pub headline: Option<String>,
}

/// Builds and writes the report into `out`; returns the files written and the headline.
// Over 80 lines: writes every file of the report in turn from the gated JSON; a list of writes.
pub fn write(
    results: &Results,
    provenance: &Provenance,
    options: &ReportOptions,
    out: &Path,
) -> Result<Written> {
    // Everything below reads the gated value only.
    let mut j = crate::trace::timed("report: disclosure gate", || {
        disclosure::gate(results, options)
    })?;
    let audit = j.as_object_mut().and_then(|m| m.remove("disclosure_audit"));
    j["provenance"] = json!(provenance);
    if let Some(a) = audit {
        j["provenance"]["disclosure_audit"] = a;
    }
    // Labels, file names and configuration text come from the user: no control character
    // (ESC, BEL, ...) or bidirectional override reaches any file (line breaks and tabs of
    // the tool's own sentences stay).
    remove_unsafe(&mut j);
    let options = &ReportOptions {
        title: crate::without_unsafe(&options.title, &[]),
        ..options.clone()
    };
    if !options.disclosure_control {
        let mut stamped = serde_json::Map::new();
        stamped.insert("not_for_publication".into(), json!(NOT_FOR_PUBLICATION));
        if let Value::Object(m) = j {
            stamped.extend(m);
        }
        j = Value::Object(stamped);
    }
    let mut sections = crate::trace::timed("report: sections and charts (SVG)", || {
        sections(&j, options)
    })?;
    let headline = sections.first().and_then(|s| s.findings.first().cloned());
    // Every chart says where its data come from, on the page and in its files.
    let source = format!(
        "Source: police records extracted {}; {}, {}.",
        j["parameters"]["extract_date"].as_str().unwrap_or("[x]"),
        crate::without_unsafe(options.producer.as_deref().unwrap_or("analysis"), &[]),
        provenance.tool
    );
    for c in sections.iter_mut().filter_map(|s| s.chart.as_mut()) {
        c.svg = charts::with_source(&c.svg, &source);
    }

    let mk = |p: &Path| {
        std::fs::create_dir_all(p).map_err(|source| Error::Io {
            path: p.to_path_buf(),
            action: "cannot create folder",
            source,
        })
    };
    clear_previous(out)?;
    mk(out)?;
    mk(&out.join("tables"))?;
    mk(&out.join("charts"))?;
    let mut written = Vec::new();
    let off = !options.disclosure_control;
    // Writes one output file.
    let mut put = |rel: &str, bytes: &[u8]| -> Result<()> {
        let p = out.join(rel);
        std::fs::write(&p, bytes).map_err(|source| Error::Io {
            path: p.clone(),
            action: "cannot write",
            source,
        })?;
        written.push(p);
        Ok(())
    };
    // Text files are stamped on their first line when disclosure control is off.
    let text = |rel: &str, text: &str| -> Vec<u8> {
        if !off || rel.ends_with(".json") {
            // JSON stays valid: its stamp is its first key (above).
            text.as_bytes().to_vec()
        } else if rel.ends_with(".html") || rel.ends_with(".svg") {
            format!("<!-- {NOT_FOR_PUBLICATION} -->\n{text}").into_bytes()
        } else {
            format!("{NOT_FOR_PUBLICATION}\n{text}").into_bytes()
        }
    };
    let t = crate::trace::Phase::start("report: JSON");
    let mut json_text =
        serde_json::to_string_pretty(&j).map_err(|e| Error::Output(e.to_string()))?;
    json_text.push('\n');
    put("report.json", &text("report.json", &json_text))?;
    drop(t);
    let mut png_time = crate::trace::Total::new("report: charts PNG");
    let mut files_time = crate::trace::Total::new("report: chart and table files");
    for s in &sections {
        if let Some(c) = &s.chart {
            let rel = format!("charts/{}.svg", c.file);
            // Without disclosure control the chart itself says so, in the PNG too.
            let svg = if off {
                charts::stamp(&c.svg, NOT_FOR_PUBLICATION)
            } else {
                c.svg.clone()
            };
            files_time.add(|| put(&rel, &text(&rel, &svg)))?;
            let png = png_time.add(|| charts::png(&svg))?;
            put(&format!("charts/{}.png", c.file), &png)?;
            let rel = format!("charts/{}.csv", c.file);
            files_time.add(|| put(&rel, &text(&rel, &c.data.to_csv())))?;
        }
        for t in &s.tables {
            let rel = format!("tables/{}.csv", t.file);
            files_time.add(|| put(&rel, &text(&rel, &t.csv)))?;
        }
    }
    drop((png_time, files_time));
    let t = crate::trace::Phase::start("report: HTML");
    let stamp = crate::without_unsafe(&stamp_line(provenance), &[]);
    let mut env = minijinja::Environment::new();
    // Every value is HTML-escaped (labels, titles, notes, configuration strings); only the
    // tool's own SVG is inserted as trusted (`| safe` in the template).
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    // No line break between a sign and the pound sign of an amount ("-£102,000"): a word
    // joiner after the sign (a hyphen before a digit already does not break).
    env.add_filter("nb", |s: String| {
        s.replace("-£", "-\u{2060}£").replace("+£", "+\u{2060}£")
    });
    env.add_template("report", include_str!("template.html"))
        .map_err(|e| Error::Output(e.to_string()))?;
    let html = env
        .get_template("report")
        .and_then(|t| t.render(minijinja::context! { title => options.title, stamp => stamp, sections => sections }))
        .map_err(|e| Error::Output(e.to_string()))?;
    put("report.html", &text("report.html", &html))?;
    drop(t);
    let t = crate::trace::Phase::start("report: xlsx");
    let tables: Vec<&SectionTable> = sections.iter().flat_map(|s| &s.tables).collect();
    // The cover states what the figures cover and who produced them: the bottom line's facts.
    let details: Vec<(String, String)> = bottom_line::facts(&sections::Ctx::new(&j, options))
        .into_iter()
        .filter(|f| f.on_cover)
        .map(|f| (f.item.to_string(), f.detail))
        .collect();
    let suppressed = disclosure::suppressed_note(options.min_cell);
    let cover = xlsx::Cover {
        title: &options.title,
        stamp: &stamp,
        not_for_publication: off.then_some(NOT_FOR_PUBLICATION),
        details: &details,
        suppressed_note: &suppressed,
    };
    put("report.xlsx", &xlsx::workbook(&cover, &tables)?)?;
    drop(t);
    let t = crate::trace::Phase::start("report: Markdown");
    put(
        "report.md",
        &text("report.md", &markdown(&options.title, &stamp, &sections)),
    )?;
    drop(t);
    let mut list: Vec<String> = written
        .iter()
        .filter_map(|p| p.strip_prefix(out).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    list.sort();
    let manifest = out.join(MANIFEST);
    std::fs::write(&manifest, list.join("\n") + "\n").map_err(|source| Error::Io {
        path: manifest,
        action: "cannot write",
        source,
    })?;
    Ok(Written {
        files: written,
        headline,
    })
}

/// Every string of `v` (keys too) without control characters other than line breaks and tabs,
/// and without bidirectional overrides.
fn remove_unsafe(v: &mut Value) {
    match v {
        Value::String(s)
            if s.chars()
                .any(|c| !matches!(c, '\n' | '\t') && crate::unsafe_char(c)) =>
        {
            *s = crate::without_unsafe(s, &['\n', '\t']);
        }
        Value::Array(a) => a.iter_mut().for_each(remove_unsafe),
        Value::Object(m) => {
            if m.keys().any(|k| k.chars().any(crate::unsafe_char)) {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    remove_unsafe(&mut x);
                    m.insert(crate::without_unsafe(&k, &[]), x);
                }
            } else {
                m.values_mut().for_each(remove_unsafe);
            }
        }
        _ => {}
    }
}

fn stamp_line(p: &Provenance) -> String {
    let inputs: Vec<String> = p
        .inputs
        .iter()
        .map(|i| format!("{} (sha256 {}…)", i.path, &i.sha256[..12]))
        .collect();
    format!(
        "Produced by {} from {}. Disclosure control: {}. Synthetic or real, the figures are only as good as the extract: see Data quality.",
        p.tool,
        inputs.join(" and "),
        if p.disclosure_control {
            format!("counts below {} suppressed ([c])", p.min_cell)
        } else {
            "OFF (not for publication)".into()
        }
    )
}
