//! The report folder: which files the tool wrote there (so a rerun replaces exactly them).

use std::path::Path;

use crate::error::{Error, Result};

/// The list of files the tool wrote into a report folder, so a rerun removes exactly those.
pub const MANIFEST: &str = ".reoffending-files";

/// Every file below `dir`, relative to it, with `/` separators.
pub(super) fn files_below(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if e.path().is_dir() {
            files_below(&e.path(), &rel, out);
        } else {
            out.push(rel);
        }
    }
}

/// Before writing into an existing folder: remove the files the tool wrote there last time
/// (its manifest) and nothing else; refuse when the folder holds other files (a README or
/// dotfiles at its top are allowed), so no stale chart survives and nothing else is lost.
pub(super) fn clear_previous(out: &Path) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    let ours: std::collections::BTreeSet<String> = std::fs::read_to_string(out.join(MANIFEST))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(".."))
        .map(str::to_string)
        .collect();
    let mut all = Vec::new();
    files_below(out, "", &mut all);
    let foreign: Vec<&String> = all
        .iter()
        .filter(|f| {
            !ours.contains(*f)
                && f.as_str() != MANIFEST
                && !(!f.contains('/') && (f.starts_with("README") || f.starts_with('.')))
        })
        .collect();
    if let Some(first) = foreign.first() {
        return Err(Error::input(
            out,
            format!(
                "the folder holds {} file(s) this tool did not write (e.g. `{first}`): write the report into an \
                 empty or new folder, or move them",
                foreign.len()
            ),
        ));
    }
    for f in &ours {
        let p = out.join(f);
        if p.is_file() {
            std::fs::remove_file(&p).map_err(|source| Error::Io {
                path: p.clone(),
                action: "cannot remove",
                source,
            })?;
        }
    }
    Ok(())
}
