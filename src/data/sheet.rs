//! Spreadsheets (`.xlsx`, `.xlsm`, `.ods`) as tables: the first row names the columns, each
//! column is typed from its cells (dates typed as dates are dates, numbers are numbers), and
//! the table becomes a polars frame for the same checks and rules as CSV and Parquet.
//!
//! Each cell goes straight into its typed column as an `.xlsx` sheet is parsed, rather than
//! into a grid of copied cells read column by column afterwards (for a sheet of a million
//! rows the grid cost more than the parsing). A sheet of the common shape is parsed directly
//! ([`fast`], about twice as fast as calamine's general XML parser); any other, cell by cell
//! by calamine. `.ods` sheets come as calamine's grid, read the same way.

use std::borrow::Cow;
use std::io::{Read, Seek};
use std::path::Path;

use calamine::{Data, DataRef, Reader, Xlsx, XlsxError};

use super::dates::{DateFormat, Day, days_from_civil, format_day, parse_iso};

mod fast;
use super::pl;
use super::pl::IntoSeries;
use crate::error::{Error, Result};

/// A sheet read whole: its header (the extract's own names, blank names kept as `""` so
/// positions match) and a frame of the named columns.
pub(super) struct Sheet {
    pub header: Vec<String>,
    pub df: pl::DataFrame,
}

/// Excel's limits: 1,048,576 rows and 16,384 columns. A cell beyond them is not a
/// spreadsheet's (and would make the columns as long as its row number).
const MAX_ROWS: u32 = 1 << 20;
const MAX_COLUMNS: u32 = 1 << 14;

/// Reads sheet `sheet` (the first when `None`) of the workbook at `file`; `shown` is how
/// messages name it (`file.xlsx#Sheet`). Text cells of a column that also holds dates typed
/// as dates get those dates written in `format`, so that the column reads as one.
pub(super) fn read_sheet(
    file: &Path,
    shown: &Path,
    sheet: Option<&str>,
    format: &DateFormat,
) -> Result<Sheet> {
    let xlsx = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"));
    if xlsx {
        let t = crate::trace::Phase::start("  read the sheet directly");
        let read = fast::read(file, sheet, format);
        drop(t);
        if let Some((name, grid)) = read {
            let _t = crate::trace::Phase::start("  type its columns");
            return grid.finish(shown, &name);
        }
    }
    read_with_calamine(file, shown, sheet, format)
}

/// [`read_sheet`] with calamine's parser: `.xlsx` sheets cell by cell, `.ods` sheets from
/// its grid.
fn read_with_calamine(
    file: &Path,
    shown: &Path,
    sheet: Option<&str>,
    format: &DateFormat,
) -> Result<Sheet> {
    let mut book = calamine::open_workbook_auto(file)
        .map_err(|e| Error::input(shown, format!("cannot read the workbook: {e}")))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| {
                Error::input(
                    shown,
                    format!(
                        "the workbook has no sheet `{s}`; its sheets are: {}",
                        names.join(", ")
                    ),
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| Error::input(shown, "the workbook has no sheets"))?,
    };
    let cannot = |e: &dyn std::fmt::Display| {
        Error::input(shown, format!("cannot read the sheet `{name}`: {e}"))
    };
    let t = crate::trace::Phase::start("  parse the sheet");
    let grid = match &mut book {
        calamine::Sheets::Xlsx(x) => stream_xlsx(x, &name, format).map_err(|e| match e {
            Streamed::Xlsx(e) => cannot(&e),
            Streamed::Limit(row, col) => beyond_limits(shown, &name, row, col),
        })?,
        other => {
            let range = other.worksheet_range(&name).map_err(|e| cannot(&e))?;
            gridded(&range, format).map_err(|(row, col)| beyond_limits(shown, &name, row, col))?
        }
    };
    drop(t);
    let _t = crate::trace::Phase::start("  type its columns");
    grid.finish(shown, &name)
}

/// Why a streamed sheet could not be read.
enum Streamed {
    Xlsx(XlsxError),
    /// A cell beyond Excel's limits, at (row, column) from 0.
    Limit(u32, u32),
}

fn beyond_limits(shown: &Path, name: &str, row: u32, col: u32) -> Error {
    Error::input(
        shown,
        format!(
            "the sheet `{name}` has a cell beyond a spreadsheet's limits (row {}, column {}; at \
             most 1,048,576 rows and 16,384 columns): the file is damaged",
            u64::from(row) + 1,
            u64::from(col) + 1
        ),
    )
}

/// The cells of an `.xlsx` sheet into columns as they are parsed. Cells out of row order
/// (which a writer may produce, and calamine's grid allows) are read a second time, gathered
/// and sorted first.
fn stream_xlsx<'f, RS: Read + Seek>(
    book: &mut Xlsx<RS>,
    name: &str,
    format: &'f DateFormat,
) -> std::result::Result<Grid<'f>, Streamed> {
    let mut grid = Grid::new(format);
    let in_order = {
        let mut cells = match book.worksheet_cells_reader(name) {
            Ok(c) => c,
            // A chart sheet holds no cells: an empty sheet, as calamine's grid has it.
            Err(XlsxError::NotAWorksheet(_)) => return Ok(grid),
            Err(e) => return Err(Streamed::Xlsx(e)),
        };
        loop {
            let Some(cell) = cells.next_cell().map_err(Streamed::Xlsx)? else {
                break true;
            };
            let v = cell.get_value();
            if matches!(v, DataRef::Empty) {
                continue;
            }
            let (row, col) = cell.get_position();
            if row >= MAX_ROWS || col >= MAX_COLUMNS {
                return Err(Streamed::Limit(row, col));
            }
            if !grid.follows(row, col) {
                break false;
            }
            grid.push(row, col, Val::of_ref(v));
        }
    };
    if in_order {
        return Ok(grid);
    }
    let mut cells = book.worksheet_cells_reader(name).map_err(Streamed::Xlsx)?;
    let mut all = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(Streamed::Xlsx)? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(Streamed::Limit(row, col));
        }
        all.push(cell);
    }
    // Stable: of two cells at one position, the later one is kept, as in calamine's grid.
    all.sort_by_key(|c| c.get_position());
    let mut grid = Grid::new(format);
    for (k, cell) in all.iter().enumerate() {
        let (row, col) = cell.get_position();
        if all
            .get(k + 1)
            .is_some_and(|n| n.get_position() == (row, col))
        {
            continue;
        }
        grid.push(row, col, Val::of_ref(cell.get_value()));
    }
    Ok(grid)
}

/// The cells of calamine's grid of a sheet into columns; `Err` names a cell beyond Excel's
/// limits (row, column from 0).
fn gridded<'f>(
    range: &calamine::Range<Data>,
    format: &'f DateFormat,
) -> std::result::Result<Grid<'f>, (u32, u32)> {
    let mut grid = Grid::new(format);
    let (r0, c0) = range.start().unwrap_or((0, 0));
    // `used_cells` runs in row order and leaves empty cells out, as the stream does.
    for (i, j, c) in range.used_cells() {
        let (row, col) = (r0 + i as u32, c0 + j as u32);
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err((row, col));
        }
        grid.push(row, col, Val::of_data(c));
    }
    Ok(grid)
}

/// The names of a workbook's sheets, in order.
pub(super) fn sheet_names(file: &Path) -> Result<Vec<String>> {
    let book = calamine::open_workbook_auto(file)
        .map_err(|e| Error::input(file, format!("cannot read the workbook: {e}")))?;
    Ok(book.sheet_names())
}

/// A cell's value as a column needs it.
enum Val<'a> {
    /// Text of spaces only: missing (it still counts as a cell where the sheet's columns and
    /// rows start and end, as in calamine's grid).
    Blank,
    Int(i64),
    Float(f64),
    /// A cell typed as a date, its time of day dropped.
    Day(Day),
    /// Anything else as Excel shows it (booleans, errors such as `#N/A`, durations, dates
    /// out of range as their serial numbers).
    Text(Cow<'a, str>),
}

impl<'a> Val<'a> {
    fn of_ref(c: &DataRef<'a>) -> Val<'a> {
        match c {
            DataRef::Empty => Val::Blank,
            DataRef::String(s) => Val::text(Cow::Owned(s.clone())),
            DataRef::SharedString(s) => Val::text(Cow::Borrowed(s)),
            DataRef::Int(i) => Val::Int(*i),
            DataRef::Float(f) => Val::Float(*f),
            DataRef::Bool(b) => Val::Text(Cow::Owned(b.to_string())),
            DataRef::DateTime(d) => Val::date_time(d),
            DataRef::DateTimeIso(s) => Val::date_iso(s),
            DataRef::DurationIso(s) => Val::Text(Cow::Owned(s.clone())),
            DataRef::Error(e) => Val::Text(Cow::Owned(e.to_string())),
        }
    }

    fn of_data(c: &'a Data) -> Val<'a> {
        match c {
            Data::Empty => Val::Blank,
            Data::String(s) => Val::text(Cow::Borrowed(s)),
            Data::Int(i) => Val::Int(*i),
            Data::Float(f) => Val::Float(*f),
            Data::Bool(b) => Val::Text(Cow::Owned(b.to_string())),
            Data::DateTime(d) => Val::date_time(d),
            Data::DateTimeIso(s) => Val::date_iso(s),
            Data::DurationIso(s) => Val::Text(Cow::Borrowed(s)),
            Data::Error(e) => Val::Text(Cow::Owned(e.to_string())),
        }
    }

    fn text(s: Cow<'a, str>) -> Val<'a> {
        if s.trim().is_empty() {
            Val::Blank
        } else {
            Val::Text(s)
        }
    }

    /// A date cell's calendar day; a duration, or a date that never was, as its number.
    fn date_time(d: &calamine::ExcelDateTime) -> Val<'a> {
        if d.is_datetime() {
            let (y, m, dd, ..) = d.to_ymd_hms_milli();
            // Excel's day 60 is 1900-02-29, which never was.
            if chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(dd)).is_some()
            {
                return Val::Day(days_from_civil(i32::from(y), u32::from(m), u32::from(dd)));
            }
        }
        Val::Text(Cow::Owned(number_text(d.as_f64())))
    }

    fn date_iso(s: &str) -> Val<'a> {
        match parse_iso(s.get(..10).unwrap_or(s)) {
            Some(d) => Val::Day(d),
            None => Val::Text(Cow::Owned(s.to_string())),
        }
    }

    /// As text: whole numbers without a decimal point, dates in `format`; `None` when blank.
    fn as_text(&self, format: &DateFormat) -> Option<Cow<'a, str>> {
        match self {
            Val::Blank => None,
            Val::Int(i) => Some(Cow::Owned(i.to_string())),
            Val::Float(f) => Some(Cow::Owned(number_text(*f))),
            Val::Day(d) => Some(Cow::Owned(day_text(*d, format))),
            Val::Text(s) => Some(s.clone()),
        }
    }
}

/// A day in `format` (ISO when chrono cannot write the pattern: then unparseable, counted).
fn day_text(d: Day, format: &DateFormat) -> String {
    match format {
        DateFormat::Iso => format_day(d),
        DateFormat::Strftime(p) => {
            use std::fmt::Write as _;
            let mut out = String::new();
            match write!(out, "{}", super::dates::to_naive(d).format(p)) {
                Ok(()) => out,
                Err(_) => format_day(d),
            }
        }
    }
}

/// A number as text: whole numbers without `.0` (an identifier stored as a number reads as
/// the identifier).
fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// A number cell of a column that has held only numbers so far.
#[derive(Clone, Copy)]
enum Num {
    Missing,
    Int(i64),
    Float(f64),
}

impl Num {
    fn value(self) -> Option<f64> {
        match self {
            Num::Missing => None,
            Num::Int(i) => Some(i as f64),
            Num::Float(f) => Some(f),
        }
    }
}

/// One column's cells so far, typed by what it has held: dates while every value is a date
/// cell, numbers while every value is a number, else text (the cells before turned to text
/// at the first that is neither).
enum Cells {
    Blank,
    Dates(Vec<Option<Day>>),
    Numbers(Vec<Num>),
    Text(pl::StringChunkedBuilder),
}

struct Column {
    name: String,
    /// Rows filled so far.
    len: usize,
    cells: Cells,
}

impl Column {
    /// Value `v` at data row `i` (rows before it that had no cell are missing).
    fn push(&mut self, i: usize, v: Val<'_>, format: &DateFormat) {
        if matches!(v, Val::Blank) {
            return;
        }
        self.fill(i);
        let fits = matches!(
            (&self.cells, &v),
            (Cells::Dates(_), Val::Day(_))
                | (Cells::Numbers(_), Val::Int(_) | Val::Float(_))
                | (Cells::Text(_), _)
        );
        if !fits {
            match (&self.cells, &v) {
                (Cells::Blank, Val::Day(_)) => self.cells = Cells::Dates(vec![None; i]),
                (Cells::Blank, Val::Int(_) | Val::Float(_)) => {
                    self.cells = Cells::Numbers(vec![Num::Missing; i]);
                }
                _ => self.make_text(format),
            }
        }
        match (&mut self.cells, v) {
            (Cells::Dates(d), Val::Day(x)) => d.push(Some(x)),
            (Cells::Numbers(n), Val::Int(x)) => n.push(Num::Int(x)),
            (Cells::Numbers(n), Val::Float(x)) => n.push(Num::Float(x)),
            (Cells::Text(b), v) => b.append_option(v.as_text(format)),
            // Made to fit above.
            _ => {}
        }
        self.len = i + 1;
    }

    /// Missing values up to row `i` (not included).
    fn fill(&mut self, i: usize) {
        let gap = i.saturating_sub(self.len);
        if gap == 0 {
            return;
        }
        match &mut self.cells {
            Cells::Blank => {}
            Cells::Dates(d) => d.resize(i, None),
            Cells::Numbers(n) => n.resize(i, Num::Missing),
            Cells::Text(b) => (0..gap).for_each(|_| b.append_null()),
        }
        self.len = i;
    }

    /// The cells so far as text.
    fn make_text(&mut self, format: &DateFormat) {
        let name: pl::PlSmallStr = self.name.as_str().into();
        let mut b = pl::StringChunkedBuilder::new(name, self.len);
        match std::mem::replace(&mut self.cells, Cells::Blank) {
            Cells::Blank => (0..self.len).for_each(|_| b.append_null()),
            Cells::Dates(d) => d
                .into_iter()
                .for_each(|x| b.append_option(x.map(|x| day_text(x, format)))),
            Cells::Numbers(n) => n.into_iter().for_each(|x| {
                b.append_option(match x {
                    Num::Missing => None,
                    Num::Int(i) => Some(i.to_string()),
                    Num::Float(f) => Some(number_text(f)),
                })
            }),
            Cells::Text(t) => b = t,
        }
        self.cells = Cells::Text(b);
    }

    /// The polars column of `height` rows.
    fn finish(mut self, height: usize, format: &DateFormat) -> pl::Column {
        self.fill(height);
        let name: pl::PlSmallStr = self.name.as_str().into();
        let series = match self.cells {
            Cells::Blank => {
                let ca: pl::StringChunked = (0..height).map(|_| None::<&str>).collect();
                ca.into_series()
            }
            Cells::Numbers(n) => {
                let whole = n
                    .iter()
                    .filter_map(|x| x.value())
                    .all(|f| f.fract() == 0.0 && f.abs() < 9.0e15);
                if whole {
                    let ca: pl::Int64Chunked =
                        n.into_iter().map(|x| x.value().map(|f| f as i64)).collect();
                    ca.into_series()
                } else {
                    let ca: pl::Float64Chunked = n.into_iter().map(Num::value).collect();
                    ca.into_series()
                }
            }
            Cells::Text(b) => b.finish().into_series(),
            Cells::Dates(d) => {
                let days: pl::Int32Chunked = d.iter().copied().collect();
                match days.into_series().cast(&pl::DataType::Date) {
                    Ok(dates) => dates,
                    // Not expected (days are a date's storage); then the column is text.
                    Err(_) => {
                        let mut text = Column {
                            name: self.name,
                            len: height,
                            cells: Cells::Dates(d),
                        };
                        text.make_text(format);
                        return text.finish(height, format);
                    }
                }
            }
        };
        pl::Column::from(series.with_name(name))
    }
}

/// A sheet's cells gathered into columns, in row order. The sheet starts, as calamine's grid
/// does, at the first row and the first column holding a cell (the first such row is the
/// header) and ends at the last row and column holding one.
struct Grid<'f> {
    format: &'f DateFormat,
    /// The header row, once a cell is seen.
    header_row: Option<u32>,
    /// The header's cells: (column, name).
    names: Vec<(u32, String)>,
    /// For each sheet column from 0, its table column (blank and repeated names are not read,
    /// as in CSV), known once the first data row starts.
    slots: Option<Vec<Option<usize>>>,
    columns: Vec<Column>,
    last: Option<(u32, u32)>,
    first_col: u32,
    last_col: u32,
    last_row: u32,
}

impl<'f> Grid<'f> {
    fn new(format: &'f DateFormat) -> Grid<'f> {
        Grid {
            format,
            header_row: None,
            names: Vec::new(),
            slots: None,
            columns: Vec::new(),
            last: None,
            first_col: u32::MAX,
            last_col: 0,
            last_row: 0,
        }
    }

    /// Whether a cell at (`row`, `col`) comes after every cell pushed so far.
    fn follows(&self, row: u32, col: u32) -> bool {
        self.last.is_none_or(|last| (row, col) > last)
    }

    /// A cell, after every cell pushed so far ([`Grid::follows`]; callers check, and sort
    /// cells that are not).
    fn push(&mut self, row: u32, col: u32, v: Val<'_>) {
        self.last = Some((row, col));
        self.first_col = self.first_col.min(col);
        self.last_col = self.last_col.max(col);
        self.last_row = row;
        let header_row = *self.header_row.get_or_insert(row);
        if row == header_row {
            let name = v
                .as_text(&DateFormat::Iso)
                .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
                .unwrap_or_default();
            self.names.push((col, name));
            return;
        }
        let slots = self.slots.get_or_insert_with(|| {
            let width = self.names.last().map_or(0, |(c, _)| *c as usize + 1);
            let mut slots = vec![None; width];
            for (c, name) in &self.names {
                if name.is_empty() || self.columns.iter().any(|x| &x.name == name) {
                    continue;
                }
                slots[*c as usize] = Some(self.columns.len());
                self.columns.push(Column {
                    name: name.clone(),
                    len: 0,
                    cells: Cells::Blank,
                });
            }
            slots
        });
        if let Some(&Some(k)) = slots.get(col as usize) {
            let i = (row - header_row - 1) as usize;
            self.columns[k].push(i, v, self.format);
        }
    }

    /// The header (from the first column holding a cell to the last) and the frame.
    fn finish(self, shown: &Path, name: &str) -> Result<Sheet> {
        let Some(header_row) = self.header_row else {
            return Err(Error::input(
                shown,
                format!("the sheet `{name}` is empty: expected a header row naming the columns"),
            ));
        };
        let mut header = vec![String::new(); (self.last_col - self.first_col) as usize + 1];
        for (c, n) in self.names {
            header[(c - self.first_col) as usize] = n;
        }
        if header.iter().all(String::is_empty) {
            return Err(Error::input(
                shown,
                format!(
                    "the header row of the sheet `{name}` is empty: expected a header row naming the columns"
                ),
            ));
        }
        let height = (self.last_row - header_row) as usize;
        let mut columns = self.columns;
        // Named columns with no cell below the header (or no data row at all).
        if self.slots.is_none() {
            for n in header.iter().filter(|n| !n.is_empty()) {
                if !columns.iter().any(|x| &x.name == n) {
                    columns.push(Column {
                        name: n.clone(),
                        len: 0,
                        cells: Cells::Blank,
                    });
                }
            }
        }
        let format = self.format;
        let columns: Vec<pl::Column> = columns
            .into_iter()
            .map(|c| c.finish(height, format))
            .collect();
        let df = pl::DataFrame::new(height, columns)
            .map_err(|e| Error::input(shown, format!("cannot read the sheet `{name}`: {e}")))?;
        Ok(Sheet { header, df })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A zip of stored (uncompressed) files: a workbook written by hand.
    fn zip_stored(files: &[(&str, String)]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, body) in files {
            let mut crc = flate2::Crc::new();
            crc.update(body.as_bytes());
            let (crc, size, n) = (crc.sum(), body.len() as u32, name.len() as u16);
            let offset = out.len() as u32;
            // Local header: signature, version, flags, method (stored), time, date.
            out.extend(0x0403_4b50u32.to_le_bytes());
            for v in [20u16, 0, 0, 0, 0x21] {
                out.extend(v.to_le_bytes());
            }
            for v in [crc, size, size] {
                out.extend(v.to_le_bytes());
            }
            for v in [n, 0] {
                out.extend(v.to_le_bytes());
            }
            out.extend(name.as_bytes());
            out.extend(body.as_bytes());
            central.extend(0x0201_4b50u32.to_le_bytes());
            for v in [20u16, 20, 0, 0, 0, 0x21] {
                central.extend(v.to_le_bytes());
            }
            for v in [crc, size, size] {
                central.extend(v.to_le_bytes());
            }
            for v in [n, 0, 0, 0, 0] {
                central.extend(v.to_le_bytes());
            }
            for v in [0u32, offset] {
                central.extend(v.to_le_bytes());
            }
            central.extend(name.as_bytes());
        }
        let (at, len, k) = (out.len() as u32, central.len() as u32, files.len() as u16);
        out.extend(central);
        out.extend(0x0605_4b50u32.to_le_bytes());
        for v in [0u16, 0, k, k] {
            out.extend(v.to_le_bytes());
        }
        for v in [len, at] {
            out.extend(v.to_le_bytes());
        }
        out.extend(0u16.to_le_bytes());
        out
    }

    /// A workbook of one sheet `S` whose `<sheetData>` is `rows`.
    fn handmade(path: &Path, rows: &str) {
        handmade_with(path, rows, &[]);
    }

    /// The same with further parts (`xl/sharedStrings.xml`, `xl/styles.xml`).
    fn handmade_with(path: &Path, rows: &str, more: &[(&str, String)]) {
        let main = "http://schemas.openxmlformats.org";
        let files = [
            (
                "[Content_Types].xml",
                format!(
                    r#"<?xml version="1.0"?><Types xmlns="{main}/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
                ),
            ),
            (
                "_rels/.rels",
                format!(
                    r#"<?xml version="1.0"?><Relationships xmlns="{main}/package/2006/relationships"><Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    r#"<?xml version="1.0"?><workbook xmlns="{main}/spreadsheetml/2006/main" xmlns:r="{main}/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    r#"<?xml version="1.0"?><Relationships xmlns="{main}/package/2006/relationships"><Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<?xml version="1.0"?><worksheet xmlns="{main}/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
                ),
            ),
        ];
        let mut files = files.to_vec();
        files.extend(more.iter().cloned());
        std::fs::write(path, zip_stored(&files)).unwrap();
    }

    fn text(r: &str, s: &str) -> String {
        format!(r#"<c r="{r}" t="inlineStr"><is><t>{s}</t></is></c>"#)
    }

    fn number(r: &str, x: f64) -> String {
        format!(r#"<c r="{r}"><v>{x}</v></c>"#)
    }

    /// The sheet as calamine's grid has it (the way `.ods` sheets are read).
    fn through_the_grid(path: &Path) -> Sheet {
        let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
        let name = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&name).unwrap();
        let format = DateFormat::Iso;
        let grid = gridded(&range, &format).unwrap();
        grid.finish(path, &name).unwrap()
    }

    /// A frame's cells as text, for messages.
    fn shown(df: &pl::DataFrame) -> Vec<(String, Vec<Option<String>>)> {
        df.columns()
            .iter()
            .map(|c| {
                let text = c.cast(&pl::DataType::String).unwrap();
                let v = text
                    .str()
                    .unwrap()
                    .iter()
                    .map(|x| x.map(String::from))
                    .collect();
                (format!("{}: {}", c.name(), c.dtype()), v)
            })
            .collect()
    }

    fn same(a: &Sheet, b: &Sheet) {
        assert_eq!(a.header, b.header);
        assert!(
            a.df.equals_missing(&b.df),
            "{:?}\n{:?}",
            shown(&a.df),
            shown(&b.df)
        );
    }

    /// Rows out of order, cells of a row out of order and a cell written twice (the later
    /// kept): read as calamine's grid reads them.
    #[test]
    fn cells_out_of_order_read_as_the_grid_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.xlsx");
        let rows = [
            format!(
                r#"<row r="1">{}{}</row>"#,
                text("A1", "URN"),
                text("B1", "Age")
            ),
            format!(
                r#"<row r="3">{}{}</row>"#,
                text("A3", "p3"),
                number("B3", 30.0)
            ),
            format!(
                r#"<row r="2">{}{}</row>"#,
                text("A2", "p2"),
                number("B2", 20.0)
            ),
            format!(r#"<row r="3">{}</row>"#, number("B3", 31.0)),
            format!(
                r#"<row r="4">{}{}</row>"#,
                number("B4", 40.0),
                text("A4", "p4")
            ),
        ]
        .concat();
        handmade(&path, &rows);
        assert!(fast::read(&path, None, &DateFormat::Iso).is_none());
        let s = read_sheet(&path, &path, None, &DateFormat::Iso).unwrap();
        same(&s, &through_the_grid(&path));
        assert_eq!(s.header, ["URN", "Age"]);
        let ids: Vec<Option<&str>> = s.df.column("URN").unwrap().str().unwrap().iter().collect();
        assert_eq!(ids, [Some("p2"), Some("p3"), Some("p4")]);
        let ages: Vec<Option<i64>> = s.df.column("Age").unwrap().i64().unwrap().iter().collect();
        assert_eq!(ages, [Some(20), Some(31), Some(40)]);
    }

    /// A cell beyond Excel's last row is a damaged file, not a column of a billion rows.
    #[test]
    fn a_cell_beyond_the_limits_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.xlsx");
        let rows = format!(
            r#"<row r="1">{}</row><row r="4000000000">{}</row>"#,
            text("A1", "URN"),
            text("A4000000000", "p")
        );
        handmade(&path, &rows);
        let e = read_sheet(&path, &path, None, &DateFormat::Iso)
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(
            e.contains("beyond a spreadsheet's limits (row 4000000000"),
            "{e}"
        );
    }

    #[derive(Debug, Clone)]
    enum Cell {
        Blank,
        Spaces,
        Text(String),
        Number(f64),
        Bool(bool),
        Date(u16, u8, u8),
        /// A date and time, in a time-of-day style.
        Time(u16, u8, u8, u8),
        /// A number in a duration style (`[h]:mm`).
        Duration(f64),
        /// A formula and its result.
        Formula(f64),
    }

    fn cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            3 => Just(Cell::Blank),
            1 => Just(Cell::Spaces),
            2 => "[a-c]{0,3}".prop_map(Cell::Text),
            1 => "[a&<>'\" é_x0D]{0,8}".prop_map(Cell::Text),
            2 => (-3i32..3).prop_map(|x| Cell::Number(f64::from(x) / 2.0)),
            1 => any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Cell::Number),
            1 => any::<bool>().prop_map(Cell::Bool),
            2 => (1900u16..2101, 1u8..13, 1u8..29).prop_map(|(y, m, d)| Cell::Date(y, m, d)),
            1 => (1900u16..2100, 1u8..13, 1u8..29, 0u8..24).prop_map(|(y, m, d, h)| Cell::Time(y, m, d, h)),
            1 => (0.0f64..100.0).prop_map(Cell::Duration),
            1 => (-3i32..3).prop_map(|x| Cell::Formula(f64::from(x))),
        ]
    }

    fn write(path: &Path, rows: &[Vec<Cell>], at: (u32, u16)) {
        use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let time = Format::new().set_num_format("dd/mm/yyyy hh:mm");
        let duration = Format::new().set_num_format("[h]:mm");
        for (i, r) in rows.iter().enumerate() {
            for (j, c) in r.iter().enumerate() {
                let (i, j) = (at.0 + i as u32, at.1 + j as u16);
                match c {
                    Cell::Blank => {}
                    Cell::Spaces => {
                        s.write_string(i, j, "  ").unwrap();
                    }
                    Cell::Text(t) => {
                        s.write_string(i, j, t).unwrap();
                    }
                    Cell::Number(x) => {
                        s.write_number(i, j, *x).unwrap();
                    }
                    Cell::Bool(b) => {
                        s.write_boolean(i, j, *b).unwrap();
                    }
                    Cell::Date(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        s.write_datetime_with_format(i, j, &dt, &date).unwrap();
                    }
                    Cell::Time(y, m, d, h) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d)
                            .unwrap()
                            .and_hms(u16::from(*h), 30, 0)
                            .unwrap();
                        s.write_datetime_with_format(i, j, &dt, &time).unwrap();
                    }
                    Cell::Duration(x) => {
                        s.write_number_with_format(i, j, *x, &duration).unwrap();
                    }
                    Cell::Formula(x) => {
                        let f = Formula::new(format!("={x}+0")).set_result(x.to_string());
                        s.write_formula(i, j, f).unwrap();
                    }
                }
            }
        }
        book.save(path).unwrap();
    }

    /// The three ways of reading a sheet give the same table (or the same error).
    fn agree(path: &Path) -> std::result::Result<(), TestCaseError> {
        let format = DateFormat::Iso;
        let direct = fast::read(path, None, &format).map(|(name, g)| g.finish(path, &name));
        let streamed = read_with_calamine(path, path, None, &format);
        let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
        let name = book.sheet_names()[0].clone();
        // calamine's own message when its grid cannot be made.
        let gridded = match book.worksheet_range(&name) {
            Ok(range) => gridded(&range, &format).unwrap().finish(path, &name),
            Err(e) => Err(Error::input(
                path,
                format!("cannot read the sheet `{name}`: {e}"),
            )),
        };
        let direct = direct.unwrap_or_else(|| read_with_calamine(path, path, None, &format));
        for (what, other) in [("streamed", streamed), ("gridded", gridded)] {
            match (&direct, other) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(&a.header, &b.header, "{}", what);
                    prop_assert!(
                        a.df.equals_missing(&b.df),
                        "{what}: {:?}\n{:?}",
                        shown(&a.df),
                        shown(&b.df)
                    );
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(
                    false,
                    "{what}: {:?} / {:?}",
                    a.as_ref().map(|s| &s.header),
                    b.map(|s| s.header)
                ),
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Read directly, streamed cell by cell by calamine, or from calamine's grid, a sheet
        /// reads the same: where the header and the columns start and end (blank rows and
        /// columns before, gaps, cells beyond the header), each column's type and values
        /// (shared strings with XML's special characters, dates, times, durations, formulas'
        /// results). What a writer such as rust_xlsxwriter writes is of the common shape,
        /// unless a text holds an `_x00..` escape.
        #[test]
        fn the_three_readers_agree(
            rows in prop::collection::vec(prop::collection::vec(cell(), 0..5), 0..8),
            at in (0u32..3, 0u16..3),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("book.xlsx");
            write(&path, &rows, at);
            agree(&path)?;
            let escaped = rows.iter().flatten().any(|c| matches!(c, Cell::Text(t) if t.contains("_x")));
            let direct = fast::read(&path, None, &DateFormat::Iso).is_some();
            prop_assert!(direct || escaped, "not read directly: {rows:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// A sheet's XML with random bytes changed, removed or added: no panic, and what the
        /// direct reader reads, calamine reads the same (it never reads what calamine refuses
        /// or reads otherwise).
        #[test]
        fn damaged_sheets_are_read_directly_only_as_calamine_reads_them(
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(b"<>/\"'= &;#x0123456789AaBcrstv\n".to_vec())), 1..6),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("book.xlsx");
            let mut xml = [
                format!(r#"<row r="1" spans="1:3">{}{}{}</row>"#, text("A1", "URN"), text("B1", "Age"), text("C1", "When")),
                format!(r#"<row r="2">{}{}<c r="C2" t="str"><f>B2</f><v>x &amp; y</v></c></row>"#, text("A2", "p2"), number("B2", 20.0)),
                format!(r#"<row r="3">{}<c r="B3" t="b"><v>1</v></c><c r="C3"><v/></c></row>"#, text("A3", "p3")),
            ]
            .concat()
            .into_bytes();
            for (at, how, byte) in edits {
                let k = at.index(xml.len() + 1);
                match how {
                    0 if k < xml.len() => xml[k] = byte,
                    1 if k < xml.len() => {
                        xml.remove(k);
                    }
                    _ => xml.insert(k, byte),
                }
            }
            handmade(&path, &String::from_utf8_lossy(&xml));
            let format = DateFormat::Iso;
            if let Some((name, grid)) = fast::read(&path, None, &format) {
                let direct = grid.finish(&path, &name);
                let calamine = read_with_calamine(&path, &path, None, &format);
                match (direct, calamine) {
                    (Ok(a), Ok(b)) => {
                        prop_assert_eq!(&a.header, &b.header);
                        prop_assert!(a.df.equals_missing(&b.df), "{:?}\n{:?}", shown(&a.df), shown(&b.df));
                    }
                    (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => prop_assert!(
                        false,
                        "{}: {:?} / {:?}",
                        String::from_utf8_lossy(&xml),
                        a.map(|s| s.header),
                        b.map(|s| s.header)
                    ),
                }
            } else {
                let _ = read_sheet(&path, &path, None, &format);
            }
        }
    }

    /// A shared strings part whose root is written `<<sst` (found by the property below):
    /// calamine cannot read it, and the direct reader leaves it to calamine.
    #[test]
    fn a_doubled_bracket_before_the_shared_strings_root_is_read_as_calamine_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.xlsx");
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        let sst = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><<sst xmlns="{main}" count="2" uniqueCount="2"><si><t>URN</t></si><si><t>When</t></si></sst>"#
        );
        let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>"#;
        handmade_with(&path, rows, &[("xl/sharedStrings.xml", sst)]);
        let format = DateFormat::Iso;
        assert!(fast::read(&path, None, &format).is_none());
        let calamine = read_with_calamine(&path, &path, None, &format);
        assert!(calamine.is_err());
        let ours = read_sheet(&path, &path, None, &format);
        assert_eq!(
            ours.map(|s| s.header).map_err(|e| e.to_string()),
            calamine.map(|s| s.header).map_err(|e| e.to_string())
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// The same for the shared strings and the styles the cells refer to.
        #[test]
        fn damaged_strings_and_styles_are_read_directly_only_as_calamine_reads_them(
            part in 0usize..2,
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(b"<>/\"'= &;#x0123456789dmyhs[]tir_\n".to_vec())), 1..6),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("book.xlsx");
            let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
            let mut parts = [
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="4" uniqueCount="4"><si><t>URN</t></si><si><t xml:space="preserve"> a &amp; b&#233; </t></si><si><t>When</t></si><si><t/></si></sst>"#),
                format!(r#"<styleSheet xmlns="{main}"><numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="[h]:mm"/></numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/><xf numFmtId="165"/></cellXfs></styleSheet>"#),
            ]
            .map(String::into_bytes);
            for (at, how, byte) in edits {
                let xml = &mut parts[part];
                let k = at.index(xml.len() + 1);
                match how {
                    0 if k < xml.len() => xml[k] = byte,
                    1 if k < xml.len() => {
                        xml.remove(k);
                    }
                    _ => xml.insert(k, byte),
                }
            }
            let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" s="1"><v>44000.5</v></c></row><row r="3"><c r="A3" t="s"><v>3</v></c><c r="B3" s="2"><v>44001</v></c></row><row r="4"><c r="B4" s="3"><v>1.25</v></c></row>"#;
            let more = [
                ("xl/sharedStrings.xml", String::from_utf8_lossy(&parts[0]).into_owned()),
                ("xl/styles.xml", String::from_utf8_lossy(&parts[1]).into_owned()),
            ];
            handmade_with(&path, rows, &more);
            let format = DateFormat::Iso;
            if let Some((name, grid)) = fast::read(&path, None, &format) {
                let direct = grid.finish(&path, &name);
                let calamine = read_with_calamine(&path, &path, None, &format);
                match (direct, calamine) {
                    (Ok(a), Ok(b)) => {
                        prop_assert_eq!(&a.header, &b.header);
                        prop_assert!(a.df.equals_missing(&b.df), "{}: {:?}\n{:?}", String::from_utf8_lossy(&parts[part]), shown(&a.df), shown(&b.df));
                    }
                    (a, b) => prop_assert!(
                        false,
                        "{}: {:?} / {:?}",
                        String::from_utf8_lossy(&parts[part]),
                        a.map(|s| s.header),
                        b.map(|s| s.header)
                    ),
                }
            } else {
                let _ = read_sheet(&path, &path, None, &format);
            }
        }
    }

    /// Hand-made sheets of shapes rust_xlsxwriter does not write: inline strings with
    /// entities, formula text results, empty values, booleans, and what the direct reader
    /// leaves to calamine (an error cell, namespace prefixes, a cell without a reference).
    #[test]
    fn hand_made_sheets_read_as_calamine_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.xlsx");
        let header = format!(
            r#"<row r="1">{}{}</row>"#,
            text("A1", "URN"),
            text("B1", "Value")
        );
        let cases: [(&str, bool); 8] = [
            (
                r#"<row r="2"><c r="A2" t="inlineStr"><is><t xml:space="preserve"> a &amp; b&#233; </t></is></c><c r="B2" t="str"><f>A2</f><v>x &lt; y</v></c></row>"#,
                true,
            ),
            (
                r#"<row r="2"><c r="A2" t="b"><v>1</v></c><c r="B2" t="b"><v>0</v></c></row><row r="3"><c r="A3"><v/></c><c r="B3" s="0"><v></v></c></row>"#,
                true,
            ),
            (
                r#"<row r="2"><c r="A2" t="n"><v>2.5</v></c><c r="B2"><v>abc</v></c></row><row r="4"><c r="B4" t="str"><v></v></c></row>"#,
                true,
            ),
            (
                r#"<row r="2">
                 <c r="A2" t="inlineStr"><is><t>p</t></is></c>
                 <c r="B2"><f>1+1</f><v>2</v></c>
               </row>"#,
                true,
            ),
            (r#"<row r="2"><c r="A2" t="e"><v>#N/A</v></c></row>"#, false),
            (
                r#"<row r="2"><c t="inlineStr"><is><t>p</t></is></c></row>"#,
                false,
            ),
            (
                r#"<row r="2"><c r="A2" t="inlineStr"><is><r><t>p</t></r><r><t>q</t></r></is></c></row>"#,
                false,
            ),
            (r#"<row r="2"><c r="A2" t="s"><v>0</v></c></row>"#, false),
        ];
        for (k, (rows, direct)) in cases.iter().enumerate() {
            handmade(&path, &format!("{header}{rows}"));
            let read = fast::read(&path, None, &DateFormat::Iso).is_some();
            assert_eq!(read, *direct, "case {k}");
            if let Err(e) = agree(&path) {
                panic!("case {k}: {e}");
            }
        }
        // Namespace prefixes (as some writers use): left to calamine.
        let prefixed = format!("{header}<row r=\"2\">{}</row>", number("B2", 1.0))
            .replace("<row", "<x:row")
            .replace("</row", "</x:row")
            .replace("<c ", "<x:c ")
            .replace("</c>", "</x:c>")
            .replace("<is>", "<x:is>")
            .replace("</is>", "</x:is>")
            .replace("<t>", "<x:t>")
            .replace("</t>", "</x:t>")
            .replace("<v>", "<x:v>")
            .replace("</v>", "</x:v>");
        handmade(&path, &prefixed);
        assert!(fast::read(&path, None, &DateFormat::Iso).is_none());
        agree(&path).unwrap();
    }
}
