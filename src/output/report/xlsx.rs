//! The report's tables as an accessible Excel workbook, following the Government Analysis
//! Function's guidance on releasing statistics in spreadsheets: a cover sheet, a contents
//! sheet and a notes sheet first, then one table per sheet, each starting in cell A1 with
//! its title, a single header row, numbers stored as numbers (formatted, not as text),
//! `[c]` and `[x]` as text markers explained on the notes sheet, and no merged cells or
//! blank rows inside a table.
//!
//! The workbook holds the same disclosure-controlled values as every other output: it is
//! written from the report's tables, which are built from the redacted results only.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, Table, TableStyle, Workbook, Worksheet,
};

use super::table::{Cell, SectionTable};
use crate::error::{Error, Result};

fn err(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Output(format!("spreadsheet: {e}"))
}

/// What the cover sheet says.
pub(super) struct Cover<'a> {
    pub title: &'a str,
    /// Source, provenance and disclosure control in one sentence (the report's stamp).
    pub stamp: &'a str,
    /// Stated when disclosure control is off.
    pub not_for_publication: Option<&'a str>,
    /// What the figures cover and who produced them, as (item, detail): the measure's
    /// period, the extract date, the benchmark, producer, contact, date of publication.
    pub details: &'a [(String, String)],
    /// What `[c]` means, the whole rule (the gate's note, at the report's `min_cell`).
    pub suppressed_note: &'a str,
}

/// Text safe for a cell: control characters removed, at most Excel's 32,767 characters.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(32_000)
        .collect()
}

/// A sheet name from a table's file name: at most 31 characters, unique in the workbook.
fn sheet_name(file: &str, taken: &mut Vec<String>) -> String {
    let base: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(28)
        .collect();
    let mut name = base.clone();
    let mut k = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        name = format!("{base}_{k}");
        k += 1;
    }
    taken.push(name.clone());
    name
}

/// An Excel table name from a sheet name: `rates` -> `rates_table` (the suffix keeps it from
/// reading as a cell reference such as `AB12`; a leading digit gets a `t_`).
fn table_name(sheet: &str) -> String {
    let lead = if sheet.starts_with(|c: char| c.is_ascii_digit()) {
        "t_"
    } else {
        ""
    };
    format!("{lead}{sheet}_table")
}

fn text_sheet(
    ws: &mut Worksheet,
    rows: &[(&str, String)],
    bold: &Format,
    wrap: &Format,
) -> Result<()> {
    ws.set_column_width(0, 100).map_err(err)?;
    for (i, (kind, text)) in rows.iter().enumerate() {
        let r = i as u32;
        match *kind {
            "title" => ws
                .write_string_with_format(r, 0, clean(text), bold)
                .map_err(err)?,
            _ => ws
                .write_string_with_format(r, 0, clean(text), wrap)
                .map_err(err)?,
        };
    }
    Ok(())
}

/// The workbook as bytes; the same tables give the same bytes.
// Over 80 lines: the workbook's sheets in the order the Analysis Function's guidance lays out
// (cover, contents, notes, tables).
pub(super) fn workbook(cover: &Cover, tables: &[&SectionTable]) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    // A fixed creation time keeps the file byte-identical between runs.
    let created = ExcelDateTime::from_ymd(2000, 1, 1).map_err(err)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(clean(cover.title))
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold().set_font_size(14);
    let heading = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let mut taken = vec![
        "Cover".to_string(),
        "Contents".to_string(),
        "Notes".to_string(),
    ];
    let names: Vec<String> = tables
        .iter()
        .map(|t| sheet_name(&t.file, &mut taken))
        .collect();

    // Cover.
    // Without disclosure control the stamp is the workbook's first cell.
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(n) = cover.not_for_publication {
        rows.push(("title", n.to_string()));
    }
    rows.push(("title", cover.title.to_string()));
    rows.extend(
        cover
            .details
            .iter()
            .map(|(k, v)| ("text", format!("{k}: {v}"))),
    );
    rows.extend([
        ("text", "Source and provenance: ".to_string() + cover.stamp),
        ("text", "Definitions: the Ministry of Justice's 12-month proven reoffending measure; the methods are described in the report (report.html) beside this workbook.".into()),
        ("text", "Statistical disclosure control: cells resting on small counts are shown as [c]; see the Notes sheet.".into()),
        ("text", "This workbook has a contents sheet, a notes sheet and one table per sheet.".into()),
    ]);
    let ws = wb.add_worksheet().set_name("Cover").map_err(err)?;
    text_sheet(ws, &rows, &bold, &wrap)?;

    // Contents: sheet name (a link) and table title.
    let ws = wb.add_worksheet().set_name("Contents").map_err(err)?;
    ws.write_string_with_format(0, 0, "Contents", &bold)
        .map_err(err)?;
    ws.write_string(1, 0, "This worksheet contains one table.")
        .map_err(err)?;
    ws.write_string_with_format(2, 0, "Sheet name", &heading)
        .map_err(err)?;
    ws.write_string_with_format(2, 1, "Table title", &heading)
        .map_err(err)?;
    for (i, (t, name)) in tables.iter().zip(&names).enumerate() {
        let r = 3 + i as u32;
        ws.write_url_with_text(r, 0, format!("internal:'{name}'!A1").as_str(), name)
            .map_err(err)?;
        ws.write_string(r, 1, clean(&t.title)).map_err(err)?;
    }
    ws.set_column_width(0, 30).map_err(err)?;
    ws.set_column_width(1, 100).map_err(err)?;

    // Notes: the markers, then every table's notes.
    let ws = wb.add_worksheet().set_name("Notes").map_err(err)?;
    ws.write_string_with_format(0, 0, "Notes", &bold)
        .map_err(err)?;
    ws.write_string(1, 0, "This worksheet contains one table.")
        .map_err(err)?;
    for (j, h) in ["Note", "Applies to", "Note text"].iter().enumerate() {
        ws.write_string_with_format(2, j as u16, *h, &heading)
            .map_err(err)?;
    }
    let mut notes: Vec<(String, String)> = vec![
        ("all tables".into(), cover.suppressed_note.to_string()),
        (
            "all tables".into(),
            "[x] marks a figure that is not available (not applicable, or could not be estimated)."
                .into(),
        ),
    ];
    for (t, name) in tables.iter().zip(&names) {
        for n in t.notes.iter().filter(|n| !n.is_empty()) {
            notes.push((name.clone(), n.clone()));
        }
    }
    for (i, (to, text)) in notes.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_string(r, 0, format!("Note {}", i + 1))
            .map_err(err)?;
        ws.write_string(r, 1, clean(to)).map_err(err)?;
        ws.write_string_with_format(r, 2, clean(text), &wrap)
            .map_err(err)?;
    }
    ws.set_column_width(0, 10).map_err(err)?;
    ws.set_column_width(1, 24).map_err(err)?;
    ws.set_column_width(2, 100).map_err(err)?;

    // One table per sheet: title in A1, a line on the table, then header row and data.
    for (t, name) in tables.iter().zip(&names) {
        let ws = wb.add_worksheet().set_name(name).map_err(err)?;
        ws.write_string_with_format(0, 0, clean(&t.title), &bold)
            .map_err(err)?;
        ws.write_string(
            1,
            0,
            "This worksheet contains one table. Some cells are marked [c] or [x]: see the Notes sheet.",
        )
        .map_err(err)?;
        let first = 2u32;
        let mut formats: Vec<(&'static str, Format)> = Vec::new();
        for (i, row) in t.cells.iter().enumerate() {
            let r = first + 1 + i as u32;
            for (j, c) in row.iter().enumerate() {
                match c {
                    Cell::Number(x, fmt) => {
                        let f = match formats.iter().find(|f| f.0 == *fmt) {
                            Some(f) => f.1.clone(),
                            None => {
                                let f = Format::new().set_num_format(*fmt);
                                formats.push((fmt, f.clone()));
                                f
                            }
                        };
                        ws.write_number_with_format(r, j as u16, *x, &f)
                            .map_err(err)?;
                    }
                    Cell::Text(s) => {
                        ws.write_string(r, j as u16, clean(s)).map_err(err)?;
                    }
                }
            }
        }
        if !t.columns.is_empty() {
            let last_row = first + t.cells.len().max(1) as u32;
            let headers: Vec<rust_xlsxwriter::TableColumn> = t
                .columns
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    // Excel needs unique, non-empty header names in a table.
                    let mut h = clean(c).replace('\n', " ");
                    if h.trim().is_empty() || t.columns[..j].contains(c) {
                        h = format!("{h} ({})", j + 1);
                    }
                    rust_xlsxwriter::TableColumn::new().set_header(h)
                })
                .collect();
            // A name that says what the table holds (the sheet's, which is unique, letters,
            // digits and underscores), never a cell reference.
            let table = Table::new()
                .set_name(table_name(name))
                .set_style(TableStyle::Light1)
                .set_autofilter(false)
                .set_columns(&headers);
            ws.add_table(first, 0, last_row, t.columns.len() as u16 - 1, &table)
                .map_err(err)?;
        }
        // The title, the line on the table and the header row stay in view.
        ws.set_freeze_panes(first + 1, 0).map_err(err)?;
        ws.set_autofit_max_width(400);
        ws.autofit();
    }
    wb.save_to_buffer().map_err(err)
}
