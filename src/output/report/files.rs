//! The report folder: which files the tool wrote there (so a rerun replaces exactly them).
//!
//! The manifest is read as untrusted text: a rerun removes only regular files inside the
//! folder, named by plain relative paths, reached without following a symbolic link. Any
//! other line (absolute, `..`, `.`, a link) means the manifest was edited by hand or by
//! someone else, and the run stops (exit 2) before anything is removed.

use std::path::{Component, Path};

use crate::error::{Error, Result};

/// The list of files the tool wrote into a report folder, so a rerun removes exactly those.
pub const MANIFEST: &str = ".reoffending-files";

/// Every entry below `dir`, relative to it, with `/` separators. Symbolic links are listed
/// as entries and never followed (a link to a folder is not descended into).
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
        // `DirEntry::file_type` does not follow links.
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            files_below(&e.path(), &rel, out);
        } else {
            out.push(rel);
        }
    }
}

/// A manifest line as the tool writes it: one or more plain names joined by `/`.
fn plain_relative(line: &str) -> bool {
    !line.is_empty()
        && !line.contains('\\')
        && line.split('/').all(|part| {
            !part.is_empty()
                && Path::new(part)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
                && part != "."
                && part != ".."
        })
}

/// What is at `rel` inside `out`, looked at without following any link on the way.
enum Entry {
    Missing,
    RegularFile,
    Other(&'static str),
}

fn entry(out: &Path, rel: &str) -> Entry {
    let mut p = out.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        p.push(part);
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            return Entry::Missing;
        };
        let t = m.file_type();
        if t.is_symlink() {
            return Entry::Other("a symbolic link");
        }
        let last = i + 1 == parts.len();
        if last {
            return if t.is_file() {
                Entry::RegularFile
            } else if t.is_dir() {
                Entry::Other("a folder")
            } else {
                Entry::Other("not a regular file")
            };
        }
        if !t.is_dir() {
            return Entry::Missing;
        }
    }
    Entry::Missing
}

fn tampered(out: &Path, what: String) -> Error {
    Error::input(
        out,
        format!(
            "its `{MANIFEST}` {what}; the tool only removes regular files it wrote inside the folder, so it \
             removes nothing: write the report into an empty or new folder, or delete `{MANIFEST}` and the \
             files it lists by hand"
        ),
    )
}

/// Before writing into an existing folder: remove the files the tool wrote there last time
/// (its manifest) and nothing else; refuse when the folder holds other files (a README or
/// dotfiles at its top are allowed), so no stale chart survives and nothing else is lost.
/// A manifest naming anything but a plain relative path to a regular file inside the folder
/// (an absolute path, `..`, a symbolic link) is refused before anything is removed.
pub(super) fn clear_previous(out: &Path) -> Result<()> {
    if std::fs::symlink_metadata(out).is_err() {
        return Ok(());
    }
    let manifest = out.join(MANIFEST);
    if std::fs::symlink_metadata(&manifest).is_ok_and(|m| !m.file_type().is_file()) {
        return Err(tampered(
            out,
            "is not a regular file (a symbolic link or a folder)".into(),
        ));
    }
    let text = match std::fs::read(&manifest) {
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| tampered(out, "is not UTF-8 text".into()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::Io {
                path: manifest,
                action: "cannot read",
                source,
            });
        }
    };
    let mut ours = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        if !plain_relative(line) {
            return Err(tampered(
                out,
                format!(
                    "line {} names `{}`, which is not a plain path inside the folder (absolute, `..` or `.`)",
                    i + 1,
                    crate::error::shown(line)
                ),
            ));
        }
        ours.insert(line.to_string());
    }
    for f in &ours {
        if let Entry::Other(what) = entry(out, f) {
            return Err(tampered(
                out,
                format!("names `{}`, which is {what}", crate::error::shown(f)),
            ));
        }
    }
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
                "the folder holds {} file(s) this tool did not write (e.g. `{}`): write the report into an \
                 empty or new folder, or move them",
                foreign.len(),
                crate::error::shown(first)
            ),
        ));
    }
    for f in &ours {
        // Checked above: a regular file reached through folders only, or missing.
        if let Entry::RegularFile = entry(out, f) {
            let p = out.join(f);
            std::fs::remove_file(&p).map_err(|source| Error::Io {
                path: p.clone(),
                action: "cannot remove",
                source,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plain_relative;

    #[test]
    fn only_plain_relative_paths_pass() {
        for ok in ["report.html", "tables/rates.csv", "charts/a b.svg"] {
            assert!(plain_relative(ok), "{ok}");
        }
        for bad in [
            "/etc/passwd",
            "../x",
            "tables/../../x",
            "./x",
            "a//b",
            "a/",
            "a\\..\\b",
            "",
        ] {
            assert!(!plain_relative(bad), "{bad}");
        }
    }
}
