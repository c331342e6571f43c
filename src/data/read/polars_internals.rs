//! The only module of the crate that names polars' internal crates (`polars_arrow`,
//! `polars_parquet`, `polars_buffer`, and in its child [`pages`] `polars_parquet_format`): their APIs are not polars' public surface and change
//! between releases without notice. Three uses: Arrow types a column cannot be read as
//! ([`unreadable_type`]), which columns are plain byte strings ([`is_text_chunk`]), and
//! label columns decoded straight from their Parquet dictionary pages to codes
//! ([`dictionary_column`]), which at 50 million rows saves making a string per row.
//!
//! Upgrading polars: every polars crate in `Cargo.toml` is pinned to one exact version
//! (`=0.x.y`); move them all together, with `polars-parquet-format` to the version the new
//! `polars-parquet` depends on (`cargo tree -p polars-parquet`). Then build, fix what no
//! longer compiles here (and in [`pages`], which reads Parquet page headers through
//! `polars_parquet` and `polars_parquet_format` before polars decodes a page), and run
//!
//! ```text
//! cargo test --release --lib read::polars_internals
//! cargo test --release --test it hostile_inputs2 parquet_writers
//! ```
//!
//! If the dictionary path breaks at run time, loading falls back to reading the labels as
//! text and gives the same results, only slower, so the integration tests alone would not
//! notice: `tests::dictionary_pages_decode_to_codes_and_plain_pages_do_not` below calls
//! [`dictionary_column`] itself and fails when it no longer decodes, and
//! `tests::batches_take_the_dictionary_path` fails when [`super::read_batches`] no longer
//! takes it. A change to the types a column cannot be read as fails
//! `hostile_inputs2::structural_csv_and_parquet_problems_name_the_row_or_column`.

pub(in crate::data) mod pages;

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;

use foldhash::fast::FixedState;

use super::frame::Coded;
use super::pl;
use crate::data::table::MISSING;

/// What makes an Arrow type unreadable here, or `None`.
pub(super) fn unreadable_type(t: &polars_arrow::datatypes::ArrowDataType) -> Option<String> {
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

/// True when `name` is one plain (not nested) column of byte strings in every row group.
pub(super) fn is_text_chunk(metadata: &pl::FileMetadataRef, name: &str) -> bool {
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
pub(super) fn dictionary_column(
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::{open, pl::SerReader, read_batches};
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

    /// Loading takes the dictionary path, not the text fallback: every batch of a label
    /// column whose pages are all dictionary coded holds it as codes decoded here (a frame
    /// read as text holds none), and its labels are those the file holds.
    #[test]
    fn batches_take_the_dictionary_path() {
        let path = fixture("labels_dictionary.parquet");
        let columns = super::super::header(&path).unwrap();
        assert!(columns.iter().any(|c| c == "offence_type"));
        let mut rows = 0;
        let mut batches = 0;
        let mut seen = std::collections::BTreeSet::new();
        read_batches(&path, &columns, &["offence_type"], 8, |frame, first, _| {
            assert_eq!(first, rows);
            assert!(
                frame.coded.iter().any(|(name, _)| name == "offence_type"),
                "batch {batches} (rows from {first}): offence_type was read as text, not from its \
                 dictionary pages (see this module's top comment)"
            );
            let (codes, labels) = frame.codes("offence_type")?.unwrap();
            assert_eq!(codes.len(), frame.height());
            seen.extend(labels.iter().cloned());
            rows += frame.height();
            batches += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(rows, 53);
        assert!(batches > 1, "several batches, each decoded on its own");
        assert!(seen.contains("theft") && seen.contains(" theft ") && seen.contains("type 039"));
    }
}
