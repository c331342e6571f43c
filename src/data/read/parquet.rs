//! Parquet: the schema's names, the checks of a file before its pages are decoded (chunks
//! inside the file, page headers, readable types, columns of the height the metadata says),
//! and the batch reader of [`super::read_batches`] (a few whole row groups at a time, label
//! columns decoded from their dictionary pages where they can be).

use std::fs::File;
use std::path::Path;

use super::frame::Coded;
use super::pl;
use super::pl::SerReader;
use super::polars_internals::{dictionary_column, is_text_chunk, unreadable_type};
use super::{Frame, Next, open, polars_err, share};
use crate::error::{Error, Result};

/// The column names in a Parquet file's schema (`file` is not empty).
pub(super) fn header(path: &Path, file: File) -> Result<Vec<String>> {
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
    super::unique(path, schema.iter_names().map(|n| n.to_string()).collect())
}

/// A Parquet file's named columns (see [`super::read`]): a polars frame, and the columns
/// of `categorical` decoded from their dictionary pages (those the frame does not hold).
pub(super) fn read(
    path: &Path,
    columns: &[String],
    categorical: &[&str],
) -> Result<(pl::DataFrame, Vec<(String, Coded)>)> {
    let mut reader = pl::ParquetReader::new(open(path)?);
    check_parquet(path, &mut reader, columns)?;
    let mut decoded = Vec::new();
    if !categorical.is_empty() {
        let metadata = reader
            .get_metadata()
            .map_err(|e| polars_err(path, e))?
            .clone();
        let mut coded: Vec<String> = columns
            .iter()
            .filter(|c| categorical.contains(&c.as_str()) && is_text_chunk(&metadata, c))
            .cloned()
            .collect();
        if !coded.is_empty() {
            let groups = 0..metadata.row_groups.len();
            let mut file = open(path)?;
            // A page that does not decode is the file's damage, not a crash.
            decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                decode_labels(&mut file, &metadata, groups, &mut coded, metadata.num_rows)
            }))
            .map_err(|_| damaged(path))?;
        }
    }
    let read: Vec<String> = columns
        .iter()
        .filter(|c| !decoded.iter().any(|(n, _)| n == *c))
        .cloned()
        .collect();
    // Not rechunked: every conversion here walks the chunks, and concatenating
    // them would briefly double the memory of each column.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.with_columns(Some(read)).finish()
    }));
    match read {
        Ok(df) => {
            let df = df.map_err(|e| polars_err(path, e))?;
            let rows = df.height();
            Ok((same_height(path, df, rows)?, decoded))
        }
        Err(_) => Err(damaged(path)),
    }
}

/// The batches of a Parquet file: consecutive row groups of about `rows` rows, only the
/// named columns; those in `categorical` decoded from their dictionary pages as long as every
/// page is dictionary coded.
pub(super) fn batches<'a>(
    path: &'a Path,
    columns: &[String],
    categorical: &[&str],
    rows: usize,
) -> Result<Next<'a>> {
    let mut reader = pl::ParquetReader::new(open(path)?);
    check_parquet(path, &mut reader, columns)?;
    let metadata = reader
        .get_metadata()
        .map_err(|e| polars_err(path, e))?
        .clone();
    let mut slices = row_group_slices(&metadata, rows).into_iter();
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
    Ok(Box::new(move || {
        let (first, len, groups) = slices.next()?;
        let decoded = decode_labels(&mut file, &metadata, groups, &mut coded, len);
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
            let df = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.finish()))
                .map_err(|_| damaged(path))?
                .map_err(|e| polars_err(path, e))?;
            let df = same_height(path, df, len)?;
            Ok((
                Frame {
                    path: path.to_path_buf(),
                    df,
                    coded: decoded,
                },
                share(first + len, total),
            ))
        }))
    }))
}

/// Consecutive row groups of about `rows` rows together: first row, rows, and the row
/// groups' range.
fn row_group_slices(
    metadata: &pl::FileMetadataRef,
    rows: usize,
) -> Vec<(usize, usize, std::ops::Range<usize>)> {
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
    slices
}

/// The label columns `coded` of one batch (row groups `groups`, `len` rows) decoded from
/// their dictionary pages; when one does not decode, none of them, and `coded` is emptied so
/// that this batch and every later one read them as text.
fn decode_labels(
    file: &mut File,
    metadata: &pl::FileMetadataRef,
    groups: std::ops::Range<usize>,
    coded: &mut Vec<String>,
    len: usize,
) -> Vec<(String, Coded)> {
    let mut decoded = Vec::new();
    for name in coded.iter() {
        match dictionary_column(file, &metadata.row_groups[groups.clone()], name) {
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
    decoded
}

/// A Parquet file the reader gave up on (its metadata or pages do not hold together).
pub(super) fn damaged(path: &Path) -> Error {
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
    super::polars_internals::pages::check_pages(path, &open(path)?, &metadata, columns)?;
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
                let column = super::polars_internals::pages::column_path(chunk);
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
