//! CSV (plain or gzip-compressed): the header, the checks that name a row (line ends,
//! quoting, ragged rows, text that is not UTF-8), polars' CSV options, and the two batch
//! readers of [`super::read_batches`] (a gzip file read whole and sliced; a plain file mapped
//! into memory and cut at record ends).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use super::pl;
use super::pl::SerReader;
use super::{Frame, Next, is_gzip, open, polars_err, share};
use crate::error::{Error, Result};

/// The column names in a CSV's header row (`file` is not empty).
pub(super) fn header(path: &Path, file: File) -> Result<Vec<String>> {
    if cr_only_line_ends(path)? {
        return Err(Error::input(
            path,
            "its lines end in a carriage return alone (classic Mac OS line ends), which would be \
             read as one line: save it with Windows (CRLF) or Unix (LF) line ends",
        ));
    }
    let reader: Box<dyn Read> = if is_gzip(path)? {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| Error::input(path, format!("cannot read the header row: {e}")))?;
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(Error::input(
            path,
            "the header row is empty: expected a header row naming the columns",
        ));
    }
    super::unique(path, names)
}

/// A CSV's named columns (see [`super::read`]).
pub(super) fn read(path: &Path, columns: &[String], categorical: &[&str]) -> Result<pl::DataFrame> {
    // The columns by the header as `header` reads it (polars' own header reader
    // keeps a quoted name's doubled quotes: `"a""b"` would not be `a"b`).
    let names = super::header(path)?;
    check_quotes(path, names.len())?;
    csv_options(columns, categorical)
        .with_has_header(false)
        .with_skip_rows(1)
        .with_schema(Some(Arc::new(file_schema(&names, categorical))))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(|e| polars_err(path, e))?
        .finish()
        .map_err(|e| csv_error(path, e))
}

/// The batches of a gzip-compressed CSV: read whole, handed on in slices of `rows` rows.
pub(super) fn gzip_batches<'a>(
    path: &'a Path,
    columns: &[String],
    categorical: &[&str],
    rows: usize,
) -> Result<Next<'a>> {
    let whole = super::read(path, columns, categorical)?;
    let mut first = 0;
    Ok(Box::new(move || {
        let height = whole.df.height();
        (first < height).then(|| {
            let len = rows.min(height - first);
            let df = whole.df.slice(first as i64, len);
            first += len;
            Ok((Frame::from_df(path, df), share(first, height)))
        })
    }))
}

/// The batches of a plain CSV: the file mapped into memory and cut into pieces of about
/// `rows` lines at record ends, each parsed by polars' parallel parser, their pages released
/// once parsed.
pub(super) fn mapped_batches<'a>(
    path: &'a Path,
    columns: &[String],
    categorical: &[&str],
    rows: usize,
) -> Result<Next<'a>> {
    let file = open(path)?;
    // SAFETY: the map is only read; as for any reader, a file changed by another
    // program while it is read gives undefined contents, which the parser then
    // reports or counts like any other bad value.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "cannot read",
        source,
    })?;
    // Pieces are parsed without their header, by the file's columns in order.
    let names = super::header(path)?;
    let options = csv_options(columns, categorical)
        .with_has_header(false)
        .with_schema(Some(Arc::new(file_schema(&names, categorical))));
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    let mut pos = record_end(&map, false).unwrap_or(map.len());
    let columns_in_file = names.len();
    let mut next_row = 1u64;
    #[cfg(unix)]
    let mut released = 0;
    let size = rows.saturating_mul(64).max(1 << 10);
    Ok(Box::new(move || {
        if pos >= map.len() {
            return None;
        }
        let cut = piece_end(&map, pos, size);
        // Pieces end outside quotes, except where a quote never closes.
        let mut quotes = QuoteCheck::new(columns_in_file, next_row);
        if let Err(row) = quotes
            .feed(&map[pos..cut])
            .and_then(|()| quotes.finish())
            .map(|r| next_row = r)
        {
            pos = map.len();
            return Some(Err(QuoteCheck::error(path, row)));
        }
        let parsed = options
            .clone()
            .into_reader_with_file_handle(std::io::Cursor::new(&map[pos..cut]))
            .finish()
            .map(|df| (Frame::from_df(path, df), share(cut, map.len())))
            .map_err(|e| csv_error(path, e));
        pos = cut;
        // The pages parsed are not needed again: out of this process's memory.
        #[cfg(unix)]
        release(&map, &mut released, pos);
        Some(parsed)
    }))
}

/// The end of the piece of the CSV in `map` starting at record start `pos`: the last record
/// end outside quotes within `size` bytes (further when a record is longer), or the end of
/// the file.
fn piece_end(map: &[u8], pos: usize, size: usize) -> usize {
    let mut end = (pos + size).min(map.len());
    loop {
        if end == map.len() {
            return end;
        }
        match record_end(&map[pos..end], true) {
            Some(k) => return pos + k,
            None => end = (end + size).min(map.len()),
        }
    }
}

/// Releases the whole pages of `map` from `released` up to `pos` from this process's memory
/// (they read back from the file if ever touched again), and moves `released` on.
#[cfg(unix)]
fn release(map: &memmap2::Mmap, released: &mut usize, pos: usize) {
    const PAGE: usize = 4096;
    let upto = pos / PAGE * PAGE;
    if upto > *released {
        // SAFETY: nothing borrows the map's bytes before `pos` any more (the
        // frames own their values), and the map is read-only, so the pages
        // read back from the file if ever touched again.
        let _ = unsafe {
            map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                *released,
                upto - *released,
            )
        };
        *released = upto;
    }
}

/// The first CSV record whose number of values differs from the header's: (1-based data row,
/// values, columns).
fn first_ragged_row(path: &Path) -> Option<(u64, usize, usize)> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(csv_bytes(path).ok()?);
    let columns = csv.byte_headers().ok()?.len();
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    while csv.read_byte_record(&mut record).ok()? {
        row += 1;
        // A blank line is a row of missing values, not a ragged one.
        let blank = record.len() == 1 && record[0].is_empty();
        if record.len() != columns && !blank {
            return Some((row, record.len(), columns));
        }
    }
    None
}

/// The bytes of a CSV (decompressed when gzip), read in pieces.
fn csv_bytes(path: &Path) -> Result<Box<dyn Read>> {
    let file = open(path)?;
    Ok(if is_gzip(path)? {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// True when the first line of a CSV ends in a carriage return alone (classic Mac OS line
/// ends), which the readers would take for one long line.
fn cr_only_line_ends(path: &Path) -> Result<bool> {
    let mut head = Vec::with_capacity(1 << 16);
    csv_bytes(path)?
        .take(1 << 16)
        .read_to_end(&mut head)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "cannot read",
            source,
        })?;
    let mut quoted = false;
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return Ok(false),
            b'\r' if !quoted => return Ok(head.get(i + 1).is_some_and(|&n| n != b'\n')),
            _ => {}
        }
    }
    Ok(false)
}

/// A CSV's quoting, checked as its bytes stream past: a quoted value that runs on over lines
/// that look like whole records (two or more lines holding at least as many commas as a
/// record has), or one that never closes, would swallow rows into one value; this names the
/// row where the quote opened instead.
pub(crate) struct QuoteCheck {
    /// Commas in a record: columns - 1.
    separators: usize,
    /// The data row being read (the header is row 0).
    row: u64,
    quoted: bool,
    opened: u64,
    inner_lines: bool,
    commas: usize,
    record_like: u32,
}

impl QuoteCheck {
    /// A check of a table of `columns` columns whose first byte starts data row `row` (0: the
    /// header).
    pub fn new(columns: usize, row: u64) -> QuoteCheck {
        QuoteCheck {
            separators: columns.saturating_sub(1),
            row,
            quoted: false,
            opened: 0,
            inner_lines: false,
            commas: 0,
            record_like: 0,
        }
    }

    /// Reads more bytes; `Err(row)` names the row where a run-on quote opened.
    pub fn feed(&mut self, bytes: &[u8]) -> std::result::Result<(), u64> {
        for &b in bytes {
            if self.quoted {
                match b {
                    b'"' => self.quoted = false,
                    b'\n' => {
                        if self.inner_lines
                            && self.separators >= 2
                            && self.commas >= self.separators
                        {
                            self.record_like += 1;
                            if self.record_like >= 2 {
                                return Err(self.opened);
                            }
                        }
                        self.inner_lines = true;
                        self.commas = 0;
                    }
                    b',' => self.commas += 1,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => {
                        self.quoted = true;
                        self.opened = self.row;
                        self.inner_lines = false;
                        self.commas = 0;
                        self.record_like = 0;
                    }
                    b'\n' => self.row += 1,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// At the end of the bytes: `Err(row)` when a quote is still open.
    pub fn finish(&self) -> std::result::Result<u64, u64> {
        if self.quoted {
            Err(self.opened)
        } else {
            Ok(self.row)
        }
    }

    /// The error for a run-on quote opened at `row`.
    pub fn error(path: &Path, row: u64) -> Error {
        let at = if row == 0 {
            "the header row".to_string()
        } else {
            format!("row {row}")
        };
        let e = Error::input(
            path,
            format!(
                "{at}: a quote (\") opened there runs on over the rows after it (or never closes), so they \
                 would be read as one value: check that row's quotes (a value holding a quote is written \
                 with it doubled, \"\", inside quotes)"
            ),
        );
        if row == 0 { e } else { e.at_row(row) }
    }
}

/// Checks a whole CSV's quoting (see [`QuoteCheck`]).
fn check_quotes(path: &Path, columns: usize) -> Result<()> {
    let mut r = csv_bytes(path)?;
    let mut check = QuoteCheck::new(columns, 0);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "cannot read",
            source,
        })?;
        if n == 0 {
            break;
        }
        check
            .feed(&buf[..n])
            .map_err(|row| QuoteCheck::error(path, row))?;
    }
    check
        .finish()
        .map(|_| ())
        .map_err(|row| QuoteCheck::error(path, row))
}

/// Finds the first value that is not UTF-8 text in a CSV file: (1-based data row, column).
fn first_invalid_utf8(path: &Path) -> Option<(u64, String)> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(csv_bytes(path).ok()?);
    let header: Vec<String> = csv
        .byte_headers()
        .ok()?
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    while csv.read_byte_record(&mut record).ok()? {
        row += 1;
        if let Some(j) = record.iter().position(|f| std::str::from_utf8(f).is_err()) {
            return Some((
                row,
                header
                    .get(j)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", j + 1)),
            ));
        }
    }
    None
}

/// A CSV's columns by their names in the header, as text (dictionary codes for those in
/// `categorical`).
fn file_schema(names: &[String], categorical: &[&str]) -> pl::Schema {
    names
        .iter()
        .map(|n| {
            let dtype = if categorical.contains(&n.as_str()) {
                pl::DataType::from_categories(pl::Categories::global())
            } else {
                pl::DataType::String
            };
            pl::Field::new(n.as_str().into(), dtype)
        })
        .collect()
}

/// How CSV is read: a header row, every column as text (no type guessing), the columns
/// named in `categorical` as dictionary codes.
fn csv_options(columns: &[String], categorical: &[&str]) -> pl::CsvReadOptions {
    let names: Arc<[pl::PlSmallStr]> = columns.iter().map(|c| c.as_str().into()).collect();
    pl::CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_columns(Some(names))
        .with_rechunk(false)
        .with_raise_if_empty(false)
        .with_schema_overwrite(Some(Arc::new(
            columns
                .iter()
                .filter(|c| categorical.contains(&c.as_str()))
                .map(|c| {
                    pl::Field::new(
                        c.as_str().into(),
                        pl::DataType::from_categories(pl::Categories::global()),
                    )
                })
                .collect(),
        )))
}

/// A CSV reading error, naming the row and column of text that is not UTF-8 when that is
/// the cause.
fn csv_error(path: &Path, e: pl::PolarsError) -> Error {
    let text = e.to_string().to_lowercase();
    match first_invalid_utf8(path).filter(|_| text.contains("utf")) {
        Some((row, column)) => Error::in_column(
            path,
            column.as_str(),
            format!(
                "row {row}, column `{column}`: the text is not UTF-8; save the file as UTF-8 (in Excel: CSV UTF-8)"
            ),
        )
        .at_row(row),
        None => match first_ragged_row(path) {
            Some((row, values, columns)) => Error::input(
                path,
                format!(
                    "row {row} has {values} values where the header names {columns} columns: check that \
                     row's commas and quotes (a value holding a comma is written in quotes)"
                ),
            )
            .at_row(row),
            None => polars_err(path, e),
        },
    }
}

/// The end (just past the line break) of the first (`last` false) or last (`last` true)
/// line break in `bytes` that is outside quotes; `bytes` starts at a record's start. Quotes
/// toggle quoting and a doubled quote toggles it twice, so a line break is outside quotes
/// exactly when an even number of quotes comes before it.
fn record_end(bytes: &[u8], last: bool) -> Option<usize> {
    if last {
        // Quotes before position i, counted down from all of them.
        let mut before = bytes.iter().filter(|&&b| b == b'"').count();
        for i in (0..bytes.len()).rev() {
            match bytes[i] {
                b'"' => before -= 1,
                b'\n' if before % 2 == 0 => return Some(i + 1),
                _ => {}
            }
        }
        None
    } else {
        let mut before = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'"' => before += 1,
                b'\n' if before % 2 == 0 => return Some(i + 1),
                _ => {}
            }
        }
        None
    }
}

/// Reads a CSV table held in memory (decompressed by the caller) as [`super::read`] reads a file:
/// the named columns, those in `categorical` as dictionary codes.
pub(in crate::data) fn read_csv_bytes(
    path: &Path,
    bytes: Vec<u8>,
    columns: &[String],
    categorical: &[&str],
) -> Result<Frame> {
    let df = csv_options(columns, categorical)
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| polars_err(path, e))?;
    Ok(Frame::from_df(path, df))
}
