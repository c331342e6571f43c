//! Reading CSV, CSV.gz and Parquet files into polars frames, and turning their columns
//! into plain vectors. The only file that talks to polars' readers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::pl;
use super::pl::SerReader;
use foldhash::fast::FixedState;
use rayon::prelude::*;

use super::dates::{DateFormat, Day};
use super::table::{Categorical, MISSING};
use crate::error::{Error, Result};

/// File formats, chosen by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values, optionally gzip-compressed (`.csv.gz`).
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The format of `path`, from its name: `.csv`, `.csv.gz` (or `.gz`), `.parquet` / `.pq`.
    pub fn of(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".gz") {
            Ok(FileFormat::Csv)
        } else if name.ends_with(".parquet") || name.ends_with(".pq") {
            Ok(FileFormat::Parquet)
        } else {
            Err(Error::input(
                path,
                "cannot tell the format from the file name: expected a name ending in .csv, .csv.gz or .parquet",
            ))
        }
    }
}

/// polars' message, cut to a few hundred characters with control characters escaped: its
/// messages can quote the data (a whole file read as one field).
fn polars_err(path: &Path, e: pl::PolarsError) -> Error {
    let text = e.to_string();
    // polars' advice names its own options, which a user of this tool cannot set.
    let text = text
        .split("Consider setting")
        .next()
        .unwrap_or(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Error::input(
        path,
        format!(
            "cannot read the file: {}",
            crate::error::shown_max(&text, 300)
        ),
    )
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

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "cannot open",
        source,
    })
}

/// The column names of a table, read from its header (CSV) or schema (Parquet).
pub(crate) fn header(path: &Path) -> Result<Vec<String>> {
    let format = FileFormat::of(path)?;
    let file = open(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(Error::input(
            path,
            "the file is empty: expected a header row naming the columns",
        ));
    }
    match format {
        FileFormat::Csv => {
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
            unique(path, names)
        }
        FileFormat::Parquet => {
            let mut reader = pl::ParquetReader::new(file);
            let schema = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                reader.schema()
            }))
            .map_err(|_| damaged(path))?
            .map_err(|e| match &e {
                // polars refuses a schema naming a column twice: say which, as for CSV.
                pl::PolarsError::Duplicate(msg) => {
                    let name = msg.split('\'').nth(1).unwrap_or(msg);
                    Error::in_column(
                        path,
                        name,
                        format!("the column `{name}` appears more than once in the schema: rename or remove one of them"),
                    )
                }
                _ => polars_err(path, e),
            })?;
            unique(path, schema.iter_names().map(|n| n.to_string()).collect())
        }
    }
}

/// A column name given twice is a structural error: which one is meant cannot be known.
fn unique(path: &Path, names: Vec<String>) -> Result<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    for n in &names {
        if !n.is_empty() && !seen.insert(n.as_str()) {
            return Err(Error::in_column(
                path,
                n.as_str(),
                format!(
                    "the column `{n}` appears more than once in the header: rename or remove one of them"
                ),
            ));
        }
    }
    Ok(names)
}

/// Finds the first value that is not UTF-8 text in a CSV file: (1-based data row, column).
fn first_invalid_utf8(path: &Path) -> Option<(u64, String)> {
    let file = open(path).ok()?;
    let reader: Box<dyn Read> = if is_gzip(path).ok()? {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
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

fn is_gzip(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = open(path)?;
    Ok(f.read(&mut magic).unwrap_or(0) == 2 && magic == [0x1f, 0x8b])
}

/// A table read into memory: only the requested columns.
pub(crate) struct Frame {
    pub path: PathBuf,
    df: pl::DataFrame,
    /// Columns read straight to dictionary codes and their labels (see [`Frame::codes`]).
    coded: Vec<(String, Coded)>,
}

/// A column as codes (`MISSING` for none) and the labels they stand for.
type Coded = (Vec<u32>, Vec<String>);

/// [`Coded`], borrowed from a frame that holds it or made for the caller.
pub(crate) type CodedRef<'a> = (Cow<'a, [u32]>, Cow<'a, [String]>);

/// Reads the named columns of a table (all must exist: check with [`header`] first).
///
/// CSV columns are read as text and converted here, so that a value that cannot be read
/// excludes one row instead of failing the file. Columns named in `categorical` are read
/// from CSV as dictionary codes (any text is a valid category), which at 50 million rows
/// saves about a gigabyte over text.
pub(crate) fn read(path: &Path, columns: &[String], categorical: &[&str]) -> Result<Frame> {
    let df = match FileFormat::of(path)? {
        FileFormat::Csv => {
            // The columns by the header as `header` reads it (polars' own header reader
            // keeps a quoted name's doubled quotes: `"a""b"` would not be `a"b`).
            let names = header(path)?;
            check_quotes(path, names.len())?;
            csv_options(columns, categorical)
                .with_has_header(false)
                .with_skip_rows(1)
                .with_schema(Some(Arc::new(file_schema(&names, categorical))))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .map_err(|e| polars_err(path, e))?
                .finish()
                .map_err(|e| csv_error(path, e))?
        }
        FileFormat::Parquet => {
            let mut reader = pl::ParquetReader::new(open(path)?);
            check_parquet(path, &mut reader, columns)?;
            // Not rechunked: every conversion here walks the chunks, and concatenating
            // them would briefly double the memory of each column.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                reader.with_columns(Some(columns.to_vec())).finish()
            }));
            match read {
                Ok(df) => {
                    let df = df.map_err(|e| polars_err(path, e))?;
                    let rows = df.height();
                    same_height(path, df, rows)?
                }
                Err(_) => return Err(damaged(path)),
            }
        }
    };
    Ok(Frame {
        path: path.to_path_buf(),
        df,
        coded: Vec::new(),
    })
}

/// A Parquet file the reader gave up on (its metadata or pages do not hold together).
fn damaged(path: &Path) -> Error {
    Error::input(
        path,
        "the Parquet file is damaged: its metadata or pages do not hold together (a truncated copy or \
         a corrupted footer); write or copy it again",
    )
}

/// `df` when it and each of its columns hold `rows` rows. polars sets a Parquet frame's
/// height from the metadata without checking its columns against it, and a damaged page can
/// decode to fewer or more values than its row group holds.
fn same_height(path: &Path, df: pl::DataFrame, rows: usize) -> Result<pl::DataFrame> {
    if let Some(col) = df.columns().iter().find(|c| c.len() != rows) {
        let name = col.name().as_str();
        return Err(Error::in_column(
            path,
            name,
            format!(
                "the Parquet file is damaged: column `{}` decodes to {} values where its row groups hold {rows}; \
                 write or copy it again",
                crate::error::shown(name),
                col.len()
            ),
        ));
    }
    if df.height() != rows {
        return Err(damaged(path));
    }
    Ok(df)
}

/// Checks a Parquet file before its columns are read: every column chunk's pages lie inside
/// the file (a corrupted footer can point past its end, which the decoder does not check),
/// and each of `columns` has a type this tool reads (a struct, map or union, or a decimal of
/// more than 38 digits, does not: named with the column).
fn check_parquet(
    path: &Path,
    reader: &mut pl::ParquetReader<File>,
    columns: &[String],
) -> Result<()> {
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let metadata = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.get_metadata().cloned()
    }))
    .map_err(|_| damaged(path))?
    .map_err(|e| polars_err(path, e))?;
    check_chunks(path, &metadata, file_len)?;
    super::pages::check_pages(path, &open(path)?, &metadata, columns)?;
    let schema = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.schema()))
        .map_err(|_| damaged(path))?
        .map_err(|e| polars_err(path, e))?;
    for name in columns {
        if let Some(field) = schema.get(name.as_str()) {
            if let Some(what) = unreadable_type(&field.dtype) {
                return Err(Error::in_column(
                    path,
                    name.as_str(),
                    format!(
                        "column `{}` holds {what}, which this tool cannot read: write it as text or numbers \
                         (a decimal of at most 38 digits, or a float)",
                        crate::error::shown(name)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every row group's column chunks lie inside the file, their offsets and sizes not negative.
fn check_chunks(path: &Path, metadata: &pl::FileMetadataRef, file_len: u64) -> Result<()> {
    for group in &metadata.row_groups {
        for chunk in group.parquet_columns() {
            let data = chunk.data_page_offset();
            let dict = chunk.dictionary_page_offset();
            let size = chunk.compressed_size();
            let start = dict.unwrap_or(data);
            let inside = data >= 0
                && dict.is_none_or(|d| d >= 0 && d <= data)
                && size >= 0
                && start
                    .checked_add(size)
                    .is_some_and(|end| u64::try_from(end).is_ok_and(|end| end <= file_len))
                && u64::try_from(data).is_ok_and(|d| d < file_len.max(1));
            if !inside {
                let column = chunk
                    .descriptor()
                    .path_in_schema
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                return Err(Error::in_column(
                    path,
                    column.as_str(),
                    format!(
                        "the Parquet file is damaged: column `{}`'s pages are said to lie outside the file \
                         (offset {start}, {size} bytes, in a file of {file_len}); write or copy it again",
                        crate::error::shown(&column)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What makes an Arrow type unreadable here, or `None`.
fn unreadable_type(t: &polars_arrow::datatypes::ArrowDataType) -> Option<String> {
    use polars_arrow::datatypes::ArrowDataType as T;
    match t {
        T::Struct(_) => Some("a struct (nested fields)".into()),
        T::Map(..) => Some("a map".into()),
        T::Union(_) => Some("a union".into()),
        T::Decimal(p, s) | T::Decimal256(p, s) if *p > 38 || *p == 0 => {
            Some(format!("a decimal of {p} digits ({s} after the point)"))
        }
        T::List(f) | T::LargeList(f) | T::FixedSizeList(f, _) => {
            unreadable_type(&f.dtype).map(|inner| format!("a list of {inner}"))
        }
        T::Extension(e) => unreadable_type(&e.inner),
        _ => None,
    }
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

/// Reads a table in batches of about `rows` rows and calls `f(frame, first_row, done)` on
/// each, in file order (`first_row` counts data rows from 0; `done` is the share of the file
/// read with this batch, by rows or bytes, from above 0 to 1 at the last batch).
///
/// A reader thread reads and parses the next batch while `f` works on the current one (and
/// hands it over only when `f` is done, so at most two batches are held at a time), and
/// no column is ever held whole: Parquet is read a few whole row groups at a time, only the
/// named columns; CSV is cut into pieces of about `rows` lines at record boundaries (a line
/// end outside quotes), each parsed with the header by polars' parallel parser. Compressed
/// CSV is read whole and handed on in slices.
pub(crate) fn read_batches<F>(
    path: &Path,
    columns: &[String],
    categorical: &[&str],
    rows: usize,
    mut f: F,
) -> Result<()>
where
    F: FnMut(&Frame, usize, f64) -> Result<()>,
{
    let frame = |df, coded| Frame {
        path: path.to_path_buf(),
        df,
        coded,
    };
    let share = |part: usize, whole: usize| {
        if part >= whole {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    type Next<'a> = Box<dyn FnMut() -> Option<Result<(Frame, f64)>> + Send + 'a>;
    let mut next: Next = match FileFormat::of(path)? {
        FileFormat::Csv if is_gzip(path)? => {
            let whole = read(path, columns, categorical)?;
            let mut first = 0;
            Box::new(move || {
                let height = whole.df.height();
                (first < height).then(|| {
                    let len = rows.min(height - first);
                    let df = whole.df.slice(first as i64, len);
                    first += len;
                    Ok((frame(df, Vec::new()), share(first, height)))
                })
            })
        }
        FileFormat::Csv => {
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
            let names = header(path)?;
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
            Box::new(move || {
                if pos >= map.len() {
                    return None;
                }
                // The last record end outside quotes within `size` bytes (further when a
                // record is longer), or the end of the file.
                let mut end = (pos + size).min(map.len());
                let cut = loop {
                    if end == map.len() {
                        break end;
                    }
                    match record_end(&map[pos..end], true) {
                        Some(k) => break pos + k,
                        None => end = (end + size).min(map.len()),
                    }
                };
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
                    .map(|df| (frame(df, Vec::new()), share(cut, map.len())))
                    .map_err(|e| csv_error(path, e));
                pos = cut;
                // The pages parsed are not needed again: out of this process's memory.
                #[cfg(unix)]
                {
                    const PAGE: usize = 4096;
                    let upto = pos / PAGE * PAGE;
                    if upto > released {
                        // SAFETY: nothing borrows the map's bytes before `pos` any more (the
                        // frames own their values), and the map is read-only, so the pages
                        // read back from the file if ever touched again.
                        let _ = unsafe {
                            map.unchecked_advise_range(
                                memmap2::UncheckedAdvice::DontNeed,
                                released,
                                upto - released,
                            )
                        };
                        released = upto;
                    }
                }
                Some(parsed)
            })
        }
        FileFormat::Parquet => {
            let mut reader = pl::ParquetReader::new(open(path)?);
            check_parquet(path, &mut reader, columns)?;
            let metadata = reader
                .get_metadata()
                .map_err(|e| polars_err(path, e))?
                .clone();
            // Consecutive row groups of about `rows` rows together: first row, rows, and
            // the row groups' range.
            let mut slices: Vec<(usize, usize, std::ops::Range<usize>)> = Vec::new();
            let mut first = 0;
            for (g, group) in metadata.row_groups.iter().enumerate() {
                let n = group.num_rows();
                match slices.last_mut() {
                    Some(last) if last.1 < rows => {
                        last.1 += n;
                        last.2.end = g + 1;
                    }
                    _ => slices.push((first, n, g..g + 1)),
                }
                first += n;
            }
            let mut slices = slices.into_iter();
            let total = metadata.num_rows;
            // Label columns are decoded from their dictionary pages, as long as every page
            // is dictionary coded (as writers store columns of few values); otherwise, from
            // the first row groups where one is not, polars reads them as text.
            let mut coded: Vec<String> = columns
                .iter()
                .filter(|c| categorical.contains(&c.as_str()) && is_text_chunk(&metadata, c))
                .cloned()
                .collect();
            let mut file = open(path)?;
            let columns = columns.to_vec();
            Box::new(move || {
                let (first, len, groups) = slices.next()?;
                let mut decoded = Vec::new();
                for name in &coded {
                    match dictionary_column(&mut file, &metadata.row_groups[groups.clone()], name) {
                        Some(codes) if codes.0.len() == len => decoded.push((name.clone(), codes)),
                        _ => {
                            decoded.clear();
                            break;
                        }
                    }
                }
                if decoded.len() < coded.len() {
                    coded.clear();
                }
                let read: Vec<String> = columns
                    .iter()
                    .filter(|c| !coded.contains(c))
                    .cloned()
                    .collect();
                Some(open(path).and_then(|file| {
                    let mut reader = pl::ParquetReader::new(file)
                        .with_columns(Some(read))
                        .with_slice(Some((first, len)));
                    reader.set_metadata(metadata.clone());
                    // The chunks were checked to lie inside the file; a page that still
                    // does not decode is the file's damage, not a crash.
                    let df =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.finish()))
                            .map_err(|_| damaged(path))?
                            .map_err(|e| polars_err(path, e))?;
                    let df = same_height(path, df, len)?;
                    Ok((frame(df, decoded), share(first + len, total)))
                }))
            })
        }
    };
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Result<(Frame, f64)>>(0);
        let is_parquet = matches!(FileFormat::of(path), Ok(FileFormat::Parquet));
        let reader = scope.spawn(move || {
            // A panic in the readers (polars' decoders meeting a damaged file) is an error
            // naming the file, never a crash.
            let mut next = move || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut next)).unwrap_or_else(
                    |_| {
                        Some(Err(if is_parquet {
                            damaged(path)
                        } else {
                            Error::input(
                                path,
                                "cannot read the file: the CSV reader failed on it (is it damaged?)",
                            )
                        }))
                    },
                )
            };
            while let Some(frame) = next() {
                let failed = frame.is_err();
                // The receiver stops early only on an error of its own.
                if send.send(frame).is_err() || failed {
                    break;
                }
            }
        });
        let mut first = 0;
        let mut outcome = Ok(());
        for frame in receive.iter() {
            match frame.and_then(|(frame, done)| {
                let n = frame.df.height();
                f(&frame, first, done).map(|()| n)
            }) {
                Ok(n) => first += n,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        drop(receive);
        // A panic in the reader thread is polars' own; pass it on as it is.
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// True when `name` is one plain (not nested) column of byte strings in every row group.
fn is_text_chunk(metadata: &pl::FileMetadataRef, name: &str) -> bool {
    metadata.row_groups.iter().all(|g| {
        g.columns_under_root_iter(name).is_some_and(|mut chunks| {
            chunks.len() == 1
                && chunks.all(|c| {
                    c.descriptor().descriptor.primitive_type.physical_type
                        == polars_parquet::read::PhysicalType::ByteArray
                })
        })
    })
}

/// The codes and labels of text column `name` in row groups `groups`, decoded from its
/// dictionary pages without making its text (one value per row) first; `None` when a page
/// is not dictionary coded, or on any error (the caller then reads the column as text, and
/// reports an error from there).
fn dictionary_column(
    file: &mut File,
    groups: &[polars_parquet::read::RowGroupMetadata],
    name: &str,
) -> Option<Coded> {
    use polars_arrow::array::{DictionaryArray, Utf8ViewArray};
    use std::io::{Seek, SeekFrom};
    let field = pl::Field::new(
        name.into(),
        pl::DataType::from_categories(pl::Categories::global()),
    )
    .to_arrow(pl::CompatLevel::newest());
    let mut codes: Vec<u32> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut seen: HashMap<String, u32, FixedState> = HashMap::default();
    let file_len = file.metadata().ok()?.len();
    for group in groups {
        let chunk = group.columns_under_root_iter(name)?.next()?;
        let range = chunk.byte_range();
        // A chunk said to lie outside the file is the text path's to report.
        if range.end > file_len {
            return None;
        }
        let mut bytes = vec![0u8; usize::try_from(range.end.checked_sub(range.start)?).ok()?];
        file.seek(SeekFrom::Start(range.start)).ok()?;
        file.read_exact(&mut bytes).ok()?;
        let pages = polars_parquet::read::PageReader::new(
            std::io::Cursor::new(polars_buffer::Buffer::from(bytes)),
            chunk,
            Vec::new(),
            usize::MAX,
        );
        let (arrays, _) = polars_parquet::read::column_iter_to_arrays(
            vec![polars_parquet::read::BasicDecompressor::new(
                pages,
                Vec::new(),
            )],
            vec![&chunk.descriptor().descriptor.primitive_type],
            field.clone(),
            None,
        )
        .ok()?;
        for array in arrays {
            let dict = array.as_any().downcast_ref::<DictionaryArray<u32>>()?;
            let values = dict.values().as_any().downcast_ref::<Utf8ViewArray>()?;
            // The row group's dictionary, in this batch's codes.
            let remap: Vec<u32> = (0..values.len())
                .map(|k| match values.get(k) {
                    None => MISSING,
                    Some(text) => *seen.entry(text.to_string()).or_insert_with(|| {
                        labels.push(text.to_string());
                        (labels.len() - 1) as u32
                    }),
                })
                .collect();
            let keys = dict.keys();
            let lookup = |k: u32| remap.get(k as usize).copied().unwrap_or(MISSING);
            match keys.validity() {
                None => codes.extend(keys.values().iter().map(|&k| lookup(k))),
                Some(valid) => codes.extend(
                    keys.values()
                        .iter()
                        .zip(valid.iter())
                        .map(|(&k, v)| if v { lookup(k) } else { MISSING }),
                ),
            }
        }
    }
    Some((codes, labels))
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

/// How a date column becomes days: the text format, the time zone for zoned timestamps,
/// and the plausible range (a date outside it is unparseable).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateSpec<'a> {
    pub format: &'a DateFormat,
    pub timezone: Option<chrono_tz::Tz>,
    /// First and last plausible day, inclusive.
    pub range: (Day, Day),
}

impl DateSpec<'_> {
    #[inline]
    fn check(&self, day: i64) -> Day {
        if day < i64::from(self.range.0) || day > i64::from(self.range.1) {
            DATE_UNPARSEABLE
        } else {
            day as Day
        }
    }
}

/// The offset from UTC of a time zone, in seconds, at a given UTC second.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Named(chrono_tz::Tz),
    Fixed(i64),
}

impl Zone {
    /// An IANA name (`Europe/London`) or a fixed offset (`+01:00`, `-0530`, `UTC`).
    fn parse(name: &str) -> Option<Zone> {
        if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        let b = name.trim();
        let (sign, rest) = match b.as_bytes().first()? {
            b'+' => (1, &b[1..]),
            b'-' => (-1, &b[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (h, m): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
        (h < 24 && m < 60).then_some(Zone::Fixed(sign * (h * 3600 + m * 60)))
    }

    /// The local time of UTC second `secs`, as seconds; `None` out of chrono's range.
    fn local(self, secs: i64) -> Option<i64> {
        use chrono::{Offset, TimeZone};
        match self {
            Zone::Fixed(off) => secs.checked_add(off),
            Zone::Named(tz) => {
                let utc = chrono::DateTime::from_timestamp(secs, 0)?.naive_utc();
                let off = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
                secs.checked_add(i64::from(off))
            }
        }
    }
}

/// A date cell: a day, or one of two sentinels.
pub(crate) const DATE_MISSING: Day = i32::MIN;
/// A date cell whose text could not be read.
pub(crate) const DATE_UNPARSEABLE: Day = i32::MIN + 1;

/// A numeric cell read from text: value, missing, or unreadable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumCell {
    Value(f64),
    Missing,
    Unparseable,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Frame {
    fn column(&self, name: &str) -> Result<&pl::Column> {
        self.df
            .column(name)
            .map_err(|_| Error::in_column(&self.path, name, format!("missing column `{name}`")))
    }

    /// True when the column holds numbers in the file itself (Parquet), or when every
    /// non-empty text value reads as a number (CSV).
    pub fn looks_numeric(&self, name: &str) -> Result<bool> {
        let col = self.column(name)?;
        if is_number(col.dtype()) {
            return Ok(true);
        }
        if !matches!(col.dtype(), pl::DataType::String) {
            return Ok(false);
        }
        let cells = self.map_text(name, |s| match non_empty(s) {
            None => 0u8,
            Some(t) => {
                if t.parse::<f64>().is_ok() {
                    1
                } else {
                    2
                }
            }
        })?;
        Ok(cells.contains(&1) && !cells.contains(&2))
    }

    /// Applies `f` to each value as text (numbers and dates are formatted), in parallel,
    /// keeping row order. Missing values arrive as `None`.
    pub fn map_text<T, F>(&self, name: &str, f: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(Option<&str>) -> T + Sync + Send,
    {
        let col = self.column(name)?;
        let owned;
        let temporal;
        let ca: &pl::StringChunked = match col.dtype() {
            pl::DataType::String => col.str().map_err(|e| polars_err(&self.path, e))?,
            pl::DataType::Date | pl::DataType::Datetime(..) => {
                temporal = self.temporal_text(col)?;
                &temporal
            }
            _ => {
                owned = col
                    .cast(&pl::DataType::String)
                    .map_err(|_| self.not_text(name, col.dtype()))?;
                owned.str().map_err(|e| polars_err(&self.path, e))?
            }
        };
        Ok(par_map_str(ca, f))
    }

    /// Dictionary codes and labels of a column read as categorical or decoded from
    /// dictionary pages (`None` otherwise). Missing values get [`MISSING`]; `labels[code]`
    /// is the text.
    pub fn codes(&self, name: &str) -> Result<Option<CodedRef<'_>>> {
        if let Some((_, (codes, labels))) = self.coded.iter().find(|(n, _)| n == name) {
            return Ok(Some((Cow::Borrowed(codes), Cow::Borrowed(labels))));
        }
        let col = self.column(name)?;
        if !matches!(col.dtype(), pl::DataType::Categorical(_, _)) {
            return Ok(None);
        }
        let ca = col.cat32().map_err(|e| polars_err(&self.path, e))?;
        let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
        for arr in ca.physical().downcast_iter() {
            let values = arr.values().as_slice();
            let valid = arr.validity();
            let mut part = Vec::with_capacity(arr.len());
            (0..arr.len())
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| match valid {
                    Some(v) if !v.get_bit(i) => MISSING,
                    _ => values[i],
                })
                .collect_into_vec(&mut part);
            codes.append(&mut part);
        }
        let max = codes.par_iter().filter(|&&c| c != MISSING).max().copied();
        let mapping = ca.get_mapping();
        let labels = match max {
            None => Vec::new(),
            Some(m) => (0..=m)
                .map(|c| mapping.cat_to_str(c).unwrap_or("").to_string())
                .collect(),
        };
        Ok(Some((Cow::Owned(codes), Cow::Owned(labels))))
    }

    /// The column as text, for borrowing values (person identifiers).
    pub fn text(&self, name: &str) -> Result<pl::StringChunked> {
        let col = self.column(name)?;
        if matches!(col.dtype(), pl::DataType::Date | pl::DataType::Datetime(..)) {
            return self.temporal_text(col);
        }
        let s = match col.dtype() {
            pl::DataType::String => col.clone(),
            _ => col
                .cast(&pl::DataType::String)
                .map_err(|_| self.not_text(name, col.dtype()))?,
        };
        Ok(s.str().map_err(|e| polars_err(&self.path, e))?.clone())
    }

    /// The column as identifiers: text as it is, and a float column's whole numbers as
    /// integers (`123`, never `123.0` or `1.23e2`), so the same person links whatever the two
    /// tables' column types. A float that is not a whole number (or beyond 2^53, where floats
    /// skip integers) is an error naming its row (`first_row` data rows precede this frame).
    pub fn ids(&self, name: &str, first_row: usize) -> Result<pl::StringChunked> {
        let col = self.column(name)?;
        if !matches!(col.dtype(), pl::DataType::Float32 | pl::DataType::Float64) {
            return self.text(name);
        }
        let s = col
            .cast(&pl::DataType::Float64)
            .map_err(|e| polars_err(&self.path, e))?;
        let ca = s.f64().map_err(|e| polars_err(&self.path, e))?;
        let mut out: Vec<Option<String>> = Vec::with_capacity(ca.len());
        for (i, v) in ca.iter().enumerate() {
            match v {
                None => out.push(None),
                Some(x)
                    if x.is_finite() && x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 =>
                {
                    // Whole and within ±2^53: the cast is exact.
                    out.push(Some((x as i64).to_string()))
                }
                Some(x) => {
                    let row = (first_row + i) as u64 + 1;
                    return Err(Error::in_column(
                        &self.path,
                        name,
                        format!(
                            "row {row}, column `{name}`: the identifier {x} is a number that is not a whole \
                             number below 2^53, so it cannot be matched with the other table's identifiers; \
                             write identifiers as text or whole numbers"
                        ),
                    )
                    .at_row(row));
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Dates and timestamps as ISO text, formatted here: polars' own cast panics on values
    /// outside chrono's range (a date32 of 2^31 - 1 days), which an extract can hold.
    fn temporal_text(&self, col: &pl::Column) -> Result<pl::StringChunked> {
        let text: Vec<Option<String>> = match col.dtype() {
            pl::DataType::Date => {
                let ca = col.date().map_err(|e| polars_err(&self.path, e))?;
                par_map_prim(ca.physical(), |v| {
                    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?
                        .checked_add_signed(chrono::TimeDelta::try_days(i64::from(v?))?)?;
                    Some(d.format("%Y-%m-%d").to_string())
                })
            }
            pl::DataType::Datetime(unit, _) => {
                let per_second: i64 = match unit {
                    pl::TimeUnit::Milliseconds => 1_000,
                    pl::TimeUnit::Microseconds => 1_000_000,
                    pl::TimeUnit::Nanoseconds => 1_000_000_000,
                };
                let ca = col.datetime().map_err(|e| polars_err(&self.path, e))?;
                par_map_prim(ca.physical(), |v| {
                    let v = v?;
                    let nanos = v.rem_euclid(per_second) * (1_000_000_000 / per_second);
                    let t =
                        chrono::DateTime::from_timestamp(v.div_euclid(per_second), nanos as u32)?;
                    Some(t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                })
            }
            other => return Err(self.not_text(col.name(), other)),
        };
        Ok(text.into_iter().collect())
    }

    fn not_text(&self, name: &str, dtype: &pl::DataType) -> Error {
        Error::in_column(
            &self.path,
            name,
            format!("column `{name}` holds {dtype}, which cannot be used as text or numbers"),
        )
    }

    /// The column as dates, with [`DATE_MISSING`] and [`DATE_UNPARSEABLE`] sentinels.
    ///
    /// A timestamp with a time zone is the calendar date in that zone (or in
    /// `spec.timezone` when given); a timestamp without one is taken as a local date.
    /// A date outside `spec.range` is unparseable, so no day arithmetic can overflow.
    pub fn dates(&self, name: &str, spec: &DateSpec) -> Result<Vec<Day>> {
        let col = self.column(name)?;
        match col.dtype() {
            pl::DataType::Date => {
                let ca = col.date().map_err(|e| polars_err(&self.path, e))?;
                Ok(par_map_prim(ca.physical(), |v| {
                    v.map_or(DATE_MISSING, |d| spec.check(i64::from(d)))
                }))
            }
            pl::DataType::Datetime(unit, tz) => {
                let per_second: i64 = match unit {
                    pl::TimeUnit::Milliseconds => 1_000,
                    pl::TimeUnit::Microseconds => 1_000_000,
                    pl::TimeUnit::Nanoseconds => 1_000_000_000,
                };
                let zone = match (tz, spec.timezone) {
                    (None, _) => None,
                    (Some(_), Some(given)) => Some(Zone::Named(given)),
                    (Some(tz), None) => Some(Zone::parse(tz.as_str()).ok_or_else(|| {
                        Error::in_column(
                            &self.path,
                            name,
                            format!(
                                "column `{name}`: the time zone `{}` is not one this tool knows; give the zone \
                                 its dates are in (an IANA name such as Europe/London)",
                                tz.as_str()
                            ),
                        )
                    })?),
                };
                let ca = col.datetime().map_err(|e| polars_err(&self.path, e))?;
                Ok(par_map_prim(ca.physical(), |v| match v {
                    None => DATE_MISSING,
                    Some(t) => {
                        let secs = t.div_euclid(per_second);
                        match zone.map_or(Some(secs), |z| z.local(secs)) {
                            Some(local) => spec.check(local.div_euclid(86_400)),
                            None => DATE_UNPARSEABLE,
                        }
                    }
                }))
            }
            // Text: an ISO timestamp with a zone is the date in that zone, or in
            // `spec.timezone` when given (as for typed timestamps above).
            pl::DataType::String => self.map_text(name, |s| match non_empty(s) {
                None => DATE_MISSING,
                Some(t) => match spec.format {
                    DateFormat::Iso => match super::dates::parse_iso_timestamp(t) {
                        None => DATE_UNPARSEABLE,
                        Some(ts) => match (ts.utc_seconds(), spec.timezone) {
                            (Some(utc), Some(tz)) => Zone::Named(tz)
                                .local(utc)
                                .map_or(DATE_UNPARSEABLE, |l| spec.check(l.div_euclid(86_400))),
                            _ => spec.check(i64::from(ts.day)),
                        },
                    },
                    DateFormat::Strftime(_) => spec
                        .format
                        .parse(t)
                        .map_or(DATE_UNPARSEABLE, |d| spec.check(i64::from(d))),
                },
            }),
            other => Err(Error::in_column(
                &self.path,
                name,
                format!("column `{name}` holds {other}, expected dates"),
            )),
        }
    }

    /// The column as numbers.
    pub fn numbers(&self, name: &str) -> Result<Vec<NumCell>> {
        let col = self.column(name)?;
        if !(is_number(col.dtype()) || matches!(col.dtype(), pl::DataType::String)) {
            return Err(Error::in_column(
                &self.path,
                name,
                format!("column `{name}` holds {}, expected numbers", col.dtype()),
            ));
        }
        if is_number(col.dtype()) {
            let s = col
                .cast(&pl::DataType::Float64)
                .map_err(|e| polars_err(&self.path, e))?;
            let ca = s.f64().map_err(|e| polars_err(&self.path, e))?;
            return Ok(ca
                .iter()
                .map(|v| match v {
                    Some(x) if x.is_finite() => NumCell::Value(x),
                    Some(_) => NumCell::Unparseable,
                    None => NumCell::Missing,
                })
                .collect());
        }
        self.map_text(name, |s| match non_empty(s) {
            None => NumCell::Missing,
            Some(t) => match t.parse::<f64>() {
                Ok(x) if x.is_finite() => NumCell::Value(x),
                _ => NumCell::Unparseable,
            },
        })
    }
}

/// Maps each value of a string column in parallel, keeping order.
pub(crate) fn par_map_str<T, F>(ca: &pl::StringChunked, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Option<&str>) -> T + Sync + Send,
{
    let mut out: Vec<T> = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let mut part: Vec<T> = Vec::with_capacity(arr.len());
        (0..arr.len())
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| f(arr.get(i)))
            .collect_into_vec(&mut part);
        out.append(&mut part);
    }
    out
}

/// Numbers of any width, integers or decimals (read as `f64`).
fn is_number(dtype: &pl::DataType) -> bool {
    dtype.is_primitive_numeric() || matches!(dtype, pl::DataType::Decimal(..))
}

/// Maps each value of a numeric column in parallel, keeping order.
pub(crate) fn par_map_prim<N, T, F>(ca: &pl::ChunkedArray<N>, f: F) -> Vec<T>
where
    N: pl::PolarsNumericType,
    T: Send,
    F: Fn(Option<N::Native>) -> T + Sync + Send,
{
    let mut out: Vec<T> = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        let values = arr.values().as_slice();
        let mut part: Vec<T> = Vec::with_capacity(arr.len());
        match arr.validity() {
            None => values
                .par_iter()
                .with_min_len(4096)
                .map(|&v| f(Some(v)))
                .collect_into_vec(&mut part),
            Some(valid) => (0..arr.len())
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| f(valid.get_bit(i).then_some(values[i])))
                .collect_into_vec(&mut part),
        }
        out.append(&mut part);
    }
    out
}

/// Runs `f(first, values)` on consecutive ranges of at most `chunk` values of a string
/// column, in parallel, where `first` is the position of the range's first value in the
/// column; results come back in order.
pub(crate) fn par_str_ranges<'a, T, F>(ca: &'a pl::StringChunked, chunk: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &mut dyn Iterator<Item = Option<&'a str>>) -> T + Sync + Send,
{
    let jobs = str_ranges(ca, chunk);
    jobs.into_par_iter()
        .map(|(arr, first, start, end)| f(first, &mut (start..end).map(|i| arr.get(i))))
        .collect()
}

/// Maps each value of a string column in parallel to a pair, written straight into two
/// vectors (no per-range parts to join: at 10 million identifiers those would be another
/// 240 MB written and copied).
pub(crate) fn par_unzip_str<A, B, F>(ca: &pl::StringChunked, f: F) -> (Vec<A>, Vec<B>)
where
    A: Send + Copy + Default,
    B: Send + Copy + Default,
    F: Fn(Option<&str>) -> (A, B) + Sync + Send,
{
    let mut a = vec![A::default(); ca.len()];
    let mut b = vec![B::default(); ca.len()];
    // Each range of the column gets its own parts of both vectors, in order.
    let mut jobs = Vec::new();
    let (mut rest_a, mut rest_b) = (a.as_mut_slice(), b.as_mut_slice());
    for (arr, _, start, end) in str_ranges(ca, 1 << 16) {
        let (part_a, tail_a) = std::mem::take(&mut rest_a).split_at_mut(end - start);
        let (part_b, tail_b) = std::mem::take(&mut rest_b).split_at_mut(end - start);
        (rest_a, rest_b) = (tail_a, tail_b);
        jobs.push((arr, start, part_a, part_b));
    }
    jobs.into_par_iter()
        .for_each(|(arr, start, part_a, part_b)| {
            for (k, (x, y)) in part_a.iter_mut().zip(part_b.iter_mut()).enumerate() {
                (*x, *y) = f(arr.get(start + k));
            }
        });
    (a, b)
}

/// The array type of a string column's chunks.
type StrArray = <pl::StringType as pl::PolarsDataType>::Array;

/// Consecutive ranges of at most `chunk` values of a string column: each range's array,
/// the position of its first value in the column, and its start and end in the array.
fn str_ranges(ca: &pl::StringChunked, chunk: usize) -> Vec<(&StrArray, usize, usize, usize)> {
    let mut ranges = Vec::new();
    let mut offset = 0;
    for arr in ca.downcast_iter() {
        let mut start = 0;
        while start < arr.len() {
            let end = (start + chunk).min(arr.len());
            ranges.push((arr, offset + start, start, end));
            start = end;
        }
        offset += arr.len();
    }
    ranges
}

/// Dictionary-encodes a text column in parallel: the code of each value (`MISSING` for a
/// missing or blank one) and the label of each code (trimmed), in order of first appearance.
///
/// Each range of values gets its own dictionary, merged at the end. Parquet's dictionary
/// pages decode into identical 16-byte views (the value itself when short, or the same
/// place in a shared buffer), so a small cache keyed by the view codes most values without
/// reading or hashing their text.
pub(crate) fn dictionary_codes(ca: &pl::StringChunked) -> (Vec<u32>, Vec<String>) {
    const RANGE: usize = 1 << 16;
    const VIEWS_CACHED: usize = 1 << 12;
    let parts: Vec<(Vec<&str>, Vec<u32>)> = str_ranges(ca, RANGE)
        .into_par_iter()
        .map(|(arr, _, start, end)| {
            let views = arr.views();
            let mut by_view: HashMap<u128, u32, FixedState> = HashMap::default();
            let mut by_text: HashMap<&str, u32, FixedState> = HashMap::default();
            let mut levels: Vec<&str> = Vec::new();
            let codes = (start..end)
                .map(|i| {
                    let Some(text) = arr.get(i) else {
                        return MISSING;
                    };
                    let view = views[i].as_u128();
                    if let Some(&code) = by_view.get(&view) {
                        return code;
                    }
                    let text = text.trim();
                    let code = if text.is_empty() {
                        MISSING
                    } else {
                        *by_text.entry(text).or_insert_with(|| {
                            levels.push(text);
                            (levels.len() - 1) as u32
                        })
                    };
                    if by_view.len() < VIEWS_CACHED {
                        by_view.insert(view, code);
                    }
                    code
                })
                .collect();
            (levels, codes)
        })
        .collect();
    let mut global: HashMap<&str, u32, FixedState> = HashMap::default();
    let mut levels: Vec<String> = Vec::new();
    let remaps: Vec<Vec<u32>> = parts
        .iter()
        .map(|(local_levels, _)| {
            local_levels
                .iter()
                .map(|s| {
                    *global.entry(s).or_insert_with(|| {
                        levels.push(s.to_string());
                        (levels.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let mut codes: Vec<u32> = Vec::with_capacity(ca.len());
    for ((_, local), remap) in parts.iter().zip(&remaps) {
        let mut part: Vec<u32> = Vec::with_capacity(local.len());
        local
            .par_iter()
            .with_min_len(4096)
            .map(|&c| {
                if c == MISSING {
                    MISSING
                } else {
                    remap[c as usize]
                }
            })
            .collect_into_vec(&mut part);
        codes.append(&mut part);
    }
    (codes, levels)
}

/// [`dictionary_codes`] as a [`Categorical`] with sorted levels.
pub(crate) fn encode_categorical(ca: &pl::StringChunked) -> Categorical {
    let (codes, levels) = dictionary_codes(ca);
    Categorical::sorted(levels, codes)
}

/// What the extract layer (src/data/extract.rs) needs of a frame: frames made from tables it
/// read itself (spreadsheets, zstd-compressed CSV), columns renamed to the contract's names,
/// columns replaced by their recoded text, and slices.
impl Frame {
    /// A frame of `df`, read from `path`.
    pub(super) fn from_df(path: &Path, df: pl::DataFrame) -> Frame {
        Frame {
            path: path.to_path_buf(),
            df,
            coded: Vec::new(),
        }
    }

    /// True when column `name` holds dates or timestamps (not text).
    pub(super) fn is_date(&self, name: &str) -> bool {
        self.df
            .column(name)
            .is_ok_and(|c| matches!(c.dtype(), pl::DataType::Date | pl::DataType::Datetime(..)))
    }

    /// Data rows.
    pub(super) fn height(&self) -> usize {
        self.df.height()
    }

    /// The frame as polars holds it (only for frames read whole, without decoded columns).
    pub(super) fn into_df(self) -> pl::DataFrame {
        self.df
    }

    /// Rows `first..first + len`.
    pub(super) fn slice(&self, first: usize, len: usize) -> Frame {
        Frame {
            path: self.path.clone(),
            df: self.df.slice(first as i64, len),
            coded: Vec::new(),
        }
    }

    /// A copy with columns renamed (`(from, to)` pairs; the columns' values are shared).
    pub(super) fn renamed(&self, pairs: &[(String, String)]) -> Result<Frame> {
        let mut df = self.df.clone();
        let mut coded = self.coded.clone();
        // Through temporary names, so that swapping two names cannot collide.
        for (k, (from, _)) in pairs.iter().enumerate() {
            if df.get_column_index(from).is_some() {
                df.rename(from, format!("\u{1}{k}").into())
                    .map_err(|e| polars_err(&self.path, e))?;
            }
        }
        for (k, (_, to)) in pairs.iter().enumerate() {
            let tmp = format!("\u{1}{k}");
            if df.get_column_index(&tmp).is_some() {
                df.rename(&tmp, to.as_str().into())
                    .map_err(|e| polars_err(&self.path, e))?;
            }
        }
        for (name, _) in coded.iter_mut() {
            if let Some((_, to)) = pairs.iter().find(|(from, _)| from == name) {
                name.clone_from(to);
            }
        }
        Ok(Frame {
            path: self.path.clone(),
            df,
            coded,
        })
    }

    /// Replaces column `name` by text (`None` for a missing value).
    pub(super) fn set_text<'a>(
        &mut self,
        name: &str,
        values: impl Iterator<Item = Option<&'a str>>,
    ) -> Result<()> {
        self.coded.retain(|(n, _)| n != name);
        let ca: pl::StringChunked = values.collect();
        let column = pl::Column::from(pl::IntoSeries::into_series(ca.with_name(name.into())));
        self.df
            .with_column(column)
            .map_err(|e| polars_err(&self.path, e))?;
        Ok(())
    }
}

/// Reads a CSV table held in memory (decompressed by the caller) as [`read`] reads a file:
/// the named columns, those in `categorical` as dictionary codes.
pub(super) fn read_csv_bytes(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Label columns whose pages are all dictionary coded are decoded to codes, row group by
    /// row group, into the labels as written (trimming is grouping's work); a column with a
    /// plain page anywhere is left to the text path. (That both paths load the same data is
    /// `tests/it/parquet_writers.rs`.)
    #[test]
    fn dictionary_pages_decode_to_codes_and_plain_pages_do_not() {
        let decode = |name: &str, column: &str| {
            let path = fixture(name);
            let metadata = pl::ParquetReader::new(open(&path).unwrap())
                .get_metadata()
                .unwrap()
                .clone();
            assert!(is_text_chunk(&metadata, column));
            dictionary_column(&mut open(&path).unwrap(), &metadata.row_groups, column)
        };
        let (codes, labels) = decode("labels_dictionary.parquet", "offence_type").unwrap();
        let text = |i: usize| (codes[i] != MISSING).then(|| labels[codes[i] as usize].as_str());
        assert_eq!(codes.len(), 53);
        let first: Vec<_> = (0..6).map(text).collect();
        let expected = ["theft", " theft ", "theft", "breach", "", "missing"];
        for (got, want) in first.iter().zip(expected) {
            assert_eq!(*got, (want != "missing").then_some(want));
        }
        assert_eq!(text(6), None, "a missing label");
        assert_eq!(text(52), Some("type 039"));
        // Each label once, though each of the 14 row groups has its own dictionary.
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), labels.len());
        assert!(decode("labels_plain.parquet", "offence_type").is_none());
        assert!(decode("labels_fallback.parquet", "disposal").is_none());
    }
}
