//! A cheap check of a Parquet file's page headers before polars decodes its pages.
//!
//! polars trusts each page header (the Thrift-encoded `PageHeader` before every page): a
//! flipped bit in one can make its decoder ask for an allocation of 2^61 bytes, which aborts
//! the process (an allocation failure is not a panic that can be caught). So before polars
//! reads a column, every page header of its column chunks is read here, without reading or
//! decompressing a single page: seek to the chunk's start, read a header, check it against
//! the footer's metadata and the chunk's byte range, skip the page's bytes, and so on to the
//! chunk's last value. A header that does not parse, a page that runs past its chunk, a page
//! said to hold more bytes once decompressed than the whole chunk, or more values than the
//! chunk has left, is an error naming the file and the column.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use polars_parquet::parquet::metadata::ColumnChunkMetadata;
use polars_parquet::read::PhysicalType;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::{PageHeader, PageType};

use crate::error::{Error, Result};

/// Checks the page headers of every column chunk of `columns` (root columns: a nested
/// column's every leaf) in every row group of `metadata`. The chunks' byte ranges must have
/// been checked to lie inside the file first (`check_chunks` in `read/parquet.rs`).
pub(in crate::data) fn check_pages(
    path: &Path,
    file: &File,
    metadata: &polars_parquet::parquet::metadata::FileMetadata,
    columns: &[String],
) -> Result<()> {
    let _t = crate::trace::Phase::start("    check page headers");
    // Page headers are small (tens of bytes, more with statistics): a small buffer keeps each
    // header to one read, however large the pages between them.
    let mut reader = BufReader::with_capacity(1 << 10, file);
    for (g, group) in metadata.row_groups.iter().enumerate() {
        for name in columns {
            let Some(chunks) = group.columns_under_root_iter(name) else {
                continue;
            };
            for chunk in chunks {
                check_chunk(&mut reader, chunk, group.num_rows()).map_err(|what| {
                    let column = column_path(chunk);
                    Error::in_column(
                        path,
                        column.as_str(),
                        format!(
                            "the Parquet file is damaged: column `{}` in row group {}: {what}; write or copy it \
                             again",
                            crate::error::shown(&column),
                            g + 1
                        ),
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// The smallest number of bits one value of `t` takes in a dictionary page (plain encoded).
fn min_bits(t: PhysicalType) -> u64 {
    match t {
        PhysicalType::Boolean => 1,
        PhysicalType::Int32 | PhysicalType::Float => 32,
        PhysicalType::Int64 | PhysicalType::Double => 64,
        PhysicalType::Int96 => 96,
        // A length (4 bytes) before each value's bytes.
        PhysicalType::ByteArray => 32,
        PhysicalType::FixedLenByteArray(n) => 8 * (n as u64).max(1),
    }
}

/// Reads the page headers of one column chunk, skipping each page's bytes; what is wrong in
/// words, on failure.
fn check_chunk(
    reader: &mut BufReader<&File>,
    chunk: &ColumnChunkMetadata,
    rows: usize,
) -> std::result::Result<(), String> {
    let start = chunk
        .dictionary_page_offset()
        .unwrap_or(chunk.data_page_offset());
    let (Ok(start), Ok(size)) = (u64::try_from(start), u64::try_from(chunk.compressed_size()))
    else {
        return Err("its pages are said to start at a negative offset".into());
    };
    let end = start
        .checked_add(size)
        .ok_or("its pages are said to end past any file")?;
    let total = chunk.num_values();
    if total < 0 {
        return Err(format!("it is said to hold {total} values"));
    }
    let descriptor = &chunk.descriptor().descriptor;
    // A column that is not a list holds one value (or null) per row.
    if descriptor.max_rep_level == 0 && usize::try_from(total).ok() != Some(rows) {
        return Err(format!(
            "it is said to hold {total} values in a row group of {rows} rows"
        ));
    }
    // No page holds more bytes once decompressed than the whole chunk (whose size counts
    // the page headers too).
    let most = u64::try_from(chunk.uncompressed_size()).unwrap_or(0);
    let mut pos = start;
    let mut seen: i64 = 0;
    let mut first = true;
    while seen < total {
        if pos >= end {
            return Err(format!(
                "its pages hold {seen} values where {total} are said to be"
            ));
        }
        reader
            .seek(SeekFrom::Start(pos))
            .map_err(|e| format!("cannot read its page at byte {pos}: {e}"))?;
        let mut within = reader.by_ref().take(end - pos);
        let header = {
            // Whatever the header says, the parser allocates no more than the chunk holds.
            let limit = usize::try_from(end - pos).unwrap_or(usize::MAX);
            let mut protocol = TCompactInputProtocol::new(&mut within, limit);
            PageHeader::read_from_in_protocol(&mut protocol)
                .map_err(|_| format!("the header of its page at byte {pos} cannot be read"))?
        };
        let body = end - within.limit();
        let at = pos;
        let (Ok(compressed), Ok(uncompressed)) = (
            u64::try_from(header.compressed_page_size),
            u64::try_from(header.uncompressed_page_size),
        ) else {
            return Err(format!("its page at byte {at} has a negative size"));
        };
        pos = body
            .checked_add(compressed)
            .filter(|&e| e <= end)
            .ok_or_else(|| {
                format!(
                    "its page at byte {at} is said to hold {compressed} bytes, past the chunk's end (byte {end})"
                )
            })?;
        if uncompressed > most {
            return Err(format!(
                "its page at byte {at} is said to hold {uncompressed} bytes uncompressed, more than the whole \
                 chunk's {most}"
            ));
        }
        let left = total - seen;
        let values = |n: i32| -> std::result::Result<i64, String> {
            let n = i64::from(n);
            if (0..=left).contains(&n) {
                Ok(n)
            } else {
                Err(format!(
                    "its page at byte {at} is said to hold {n} values, where {left} are left"
                ))
            }
        };
        match header.type_ {
            PageType::DICTIONARY_PAGE if first => {
                let d = header
                    .dictionary_page_header
                    .as_ref()
                    .ok_or_else(|| format!("its dictionary page at byte {at} has no header"))?;
                let fits = u64::try_from(d.num_values).ok().is_some_and(|n| {
                    n.saturating_mul(min_bits(descriptor.primitive_type.physical_type))
                        <= uncompressed.saturating_mul(8)
                });
                if !fits {
                    return Err(format!(
                        "its dictionary page at byte {at} is said to hold {} values in {uncompressed} bytes",
                        d.num_values
                    ));
                }
            }
            PageType::DATA_PAGE => {
                let d = header
                    .data_page_header
                    .as_ref()
                    .ok_or_else(|| format!("its data page at byte {at} has no header"))?;
                seen += values(d.num_values)?;
            }
            PageType::DATA_PAGE_V2 => {
                let d = header
                    .data_page_header_v2
                    .as_ref()
                    .ok_or_else(|| format!("its data page at byte {at} has no header"))?;
                let n = values(d.num_values)?;
                let levels = i64::from(d.definition_levels_byte_length)
                    + i64::from(d.repetition_levels_byte_length);
                let sane = (0..=n).contains(&i64::from(d.num_nulls))
                    && (0..=n).contains(&i64::from(d.num_rows))
                    && d.definition_levels_byte_length >= 0
                    && d.repetition_levels_byte_length >= 0
                    && u64::try_from(levels).is_ok_and(|l| l <= compressed.min(uncompressed));
                if !sane {
                    return Err(format!(
                        "its data page at byte {at} has counts that do not hold together ({} values, {} nulls, \
                         {} rows, {} bytes of levels in {compressed})",
                        d.num_values, d.num_nulls, d.num_rows, levels
                    ));
                }
                seen += n;
            }
            PageType(t) => {
                return Err(format!(
                    "its page at byte {at} is of type {t}, not a data page{}",
                    if first { " or dictionary" } else { "" }
                ));
            }
        }
        first = false;
    }
    Ok(())
}

/// A column chunk's column as the schema names it (`a.b` for a nested column).
pub(in crate::data) fn column_path(chunk: &ColumnChunkMetadata) -> String {
    chunk
        .descriptor()
        .path_in_schema
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(".")
}
