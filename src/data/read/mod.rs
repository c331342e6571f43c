//! Reading CSV, CSV.gz and Parquet files into polars frames, and turning their columns
//! into plain vectors. The only module that talks to polars' readers.
//!
//! - `format`: which format a file is (by its name), and gzip (by its first bytes);
//! - `csv`: CSV's header, the checks that name a row, polars' options, the two batch readers;
//! - `parquet`: Parquet's schema, the checks before pages are decoded, the batch reader;
//! - `polars_internals`: the only module naming polars' internal crates (dictionary pages
//!   decoded to codes, Arrow types); its top comment says how to upgrade polars;
//! - `frame`: a table in memory ([`Frame`]) and its columns as text, codes, dates, numbers;
//! - `parallel`: parallel walks over polars' columns and dictionary encoding.
//!
//! This file: a table's column names ([`header`]), a table read whole ([`read`]) or in
//! batches on a reader thread ([`read_batches`]).

use std::fs::File;
use std::path::Path;

use super::pl;
use crate::error::{Error, Result};

mod csv;
mod format;
mod frame;
mod parallel;
mod parquet;
mod polars_internals;

pub(super) use self::csv::read_csv_bytes;
pub use format::FileFormat;
pub(crate) use frame::{DATE_MISSING, DATE_UNPARSEABLE, DateSpec, Frame, NumCell};
pub(crate) use parallel::{dictionary_codes, encode_categorical, par_str_ranges, par_unzip_str};

use format::is_gzip;
use parquet::damaged;

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

/// The file at `path`, opened for reading.
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
        FileFormat::Csv => csv::header(path, file),
        FileFormat::Parquet => parquet::header(path, file),
    }
}

/// A column name given twice is a structural error: which one is meant cannot be known.
fn unique(path: &Path, names: Vec<String>) -> Result<Vec<String>> {
    check_unique(path, &names)?;
    Ok(names)
}

/// A column name given twice is a structural error (any table's header, whatever its
/// format): the error names the file and the column.
pub(super) fn check_unique(path: &Path, names: &[String]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
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
    Ok(())
}

/// Reads the named columns of a table (all must exist: check with [`header`] first).
///
/// CSV columns are read as text and converted here, so that a value that cannot be read
/// excludes one row instead of failing the file. Columns named in `categorical` are read
/// from CSV as dictionary codes (any text is a valid category), which at 50 million rows
/// saves about a gigabyte over text.
///
/// From Parquet, columns named in `categorical` that are text are decoded from their
/// dictionary pages to codes ([`Frame::codes`]) when every page is dictionary coded (as
/// writers store columns of few values), without making one text value per row; such a
/// frame keeps them beside its polars frame (see [`Frame::into_df`]).
pub(crate) fn read(path: &Path, columns: &[String], categorical: &[&str]) -> Result<Frame> {
    let (df, coded) = match FileFormat::of(path)? {
        FileFormat::Csv => (csv::read(path, columns, categorical)?, Vec::new()),
        FileFormat::Parquet => parquet::read(path, columns, categorical)?,
    };
    Ok(Frame {
        path: path.to_path_buf(),
        df,
        coded,
    })
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
    f: F,
) -> Result<()>
where
    F: FnMut(&Frame, usize, f64) -> Result<()>,
{
    let next: Next = match FileFormat::of(path)? {
        FileFormat::Csv if is_gzip(path)? => csv::gzip_batches(path, columns, categorical, rows)?,
        FileFormat::Csv => csv::mapped_batches(path, columns, categorical, rows)?,
        FileFormat::Parquet => parquet::batches(path, columns, categorical, rows)?,
    };
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(0);
        let reader = scope.spawn(move || read_ahead(path, next, send));
        let outcome = hand_on(receive, f);
        // A panic in the reader thread is polars' own; pass it on as it is.
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        outcome
    })
}

/// One batch of a table and the share of the file read with it (see [`read_batches`]).
type Batch = Result<(Frame, f64)>;

/// The next batch of a table, or `None` after the last.
type Next<'a> = Box<dyn FnMut() -> Option<Batch> + Send + 'a>;

/// `part / whole`, and 1 from the end of the file on.
fn share(part: usize, whole: usize) -> f64 {
    if part >= whole {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// The reader thread of [`read_batches`]: sends each batch `next` makes, until the last, an
/// error, or the receiver stopping.
fn read_ahead(path: &Path, mut next: Next, send: std::sync::mpsc::SyncSender<Batch>) {
    let is_parquet = matches!(FileFormat::of(path), Ok(FileFormat::Parquet));
    // A panic in the readers (polars' decoders meeting a damaged file) is an error
    // naming the file, never a crash.
    let mut next = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut next)).unwrap_or_else(|_| {
            Some(Err(if is_parquet {
                damaged(path)
            } else {
                Error::input(
                    path,
                    "cannot read the file: the CSV reader failed on it (is it damaged?)",
                )
            }))
        })
    };
    // With REOFFENDING_TRACE: this thread's time reading and decoding, beside the main
    // thread's checking and linking (see `hand_on`).
    let mut decode = crate::trace::Total::new("    read and decode (reader thread)");
    while let Some(frame) = decode.add(&mut next) {
        let failed = frame.is_err();
        // The receiver stops early only on an error of its own.
        if send.send(frame).is_err() || failed {
            break;
        }
    }
}

/// Calls `f(frame, first_row, done)` on each batch received, in order, until the last or
/// the first error (its own or the reader's); dropping `receive` on return stops the reader.
fn hand_on<F>(receive: std::sync::mpsc::Receiver<Batch>, mut f: F) -> Result<()>
where
    F: FnMut(&Frame, usize, f64) -> Result<()>,
{
    let mut first = 0;
    let mut wait = crate::trace::Total::new("    waiting for the reader");
    let mut work = crate::trace::Total::new("    check and link (main thread)");
    while let Ok(frame) = wait.add(|| receive.recv()) {
        first += frame.and_then(|(frame, done)| {
            let n = frame.df.height();
            work.add(|| f(&frame, first, done)).map(|()| n)
        })?;
    }
    Ok(())
}
