//! Where a report's numbers came from: the input files' names and SHA-256.

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Where a report's numbers came from.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// Tool name and version.
    pub tool: String,
    /// The evaluation file and its SHA-256.
    pub config: Option<FileStamp>,
    /// The input tables' files and their SHA-256 (every file of a table of several, a
    /// spreadsheet by its workbook), then the recodings' lookup files.
    pub inputs: Vec<FileStamp>,
    /// The recodings applied (empty when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recode: Vec<crate::data::Recode>,
    /// Disclosure control applied.
    pub disclosure_control: bool,
    /// Smallest count published.
    pub min_cell: u64,
}

/// A file and its content hash.
#[derive(Debug, Clone, Serialize)]
pub struct FileStamp {
    /// The path as given.
    pub path: String,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl FileStamp {
    /// Hashes a file.
    pub fn of(path: &Path) -> Result<FileStamp> {
        let mut f = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "cannot open",
            source,
        })?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                action: "cannot read",
                source,
            })?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            h.update(&buf[..n]);
        }
        let digest = h.finalize();
        Ok(FileStamp {
            path: path.display().to_string(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            bytes,
        })
    }
}
