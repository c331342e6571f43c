//! The file formats, told apart by the file's name, and gzip by its first bytes.

use std::io::Read;
use std::path::Path;

use super::open;
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

/// True when the file starts with gzip's magic bytes.
pub(super) fn is_gzip(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = open(path)?;
    Ok(f.read(&mut magic).unwrap_or(0) == 2 && magic == [0x1f, 0x8b])
}
