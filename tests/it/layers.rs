//! The library's layers (the README's "How the code is built"): a module of `src/` may use
//! only the modules below it. This test reads every `crate::...` path in `src/**/*.rs`
//! (comments left out, so a documentation link to a higher layer is allowed) and fails when
//! a lower layer names a higher one, or names something this list does not place.
//!
//! The binary (`src/main.rs`, `src/cli/`) sits above all of them and uses the library only
//! through `reoffending::`; `src/lib.rs` is the public surface that re-exports them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first: each module may use those before it. Written once; the README's
/// paragraph and `src/lib.rs`'s module map say the same.
const LAYERS: &[&str] = &[
    "trace",      // timing of phases (REOFFENDING_TRACE)
    "stats",      // plain numbers in, results out; its own error types
    "error",      // the crate's error, with the conversions from `stats`' errors
    "format",     // levels, p-values, money, terminal-safe text: shared by sentences and tables
    "data",       // reading, validation, linking (the only module that knows polars)
    "synth",      // synthetic extracts for tests and benchmarks
    "measure",    // the Ministry of Justice rules, per-person outcomes, rates
    "loaded",     // `Evaluation`: loaded data with outcomes, what every analysis takes
    "analysis",   // each analysis: options in, result out
    "config",     // the evaluation file
    "evaluation", // the pipeline: one evaluation file to every result
    "output",     // tables, charts, notebook display, the report behind its disclosure gate
];

/// Upward uses allowed on purpose: (file, the higher module, why). None today; a new entry
/// needs its reason.
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments (line, doc and block comments), so that only code is read.
/// Strings, raw strings and character literals are copied as they are (a `"` or `//` inside
/// one is not a delimiter).
fn without_comments(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let word_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        match (c[i], at(i + 1)) {
            ('/', '/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            ('/', '*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            ('r', '#' | '"') if !word_before => {
                // A raw string: r"..." or r#"..."#, ended by `"` and as many `#`.
                let mut j = i + 1;
                while at(j) == '#' {
                    j += 1;
                }
                if at(j) != '"' {
                    out.push(c[i]);
                    i += 1;
                    continue;
                }
                let hashes = j - i - 1;
                let mut k = j + 1;
                while k < c.len() && !(c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#')) {
                    k += 1;
                }
                let end = (k + 1 + hashes).min(c.len());
                out.extend(&c[i..end]);
                i = end;
            }
            ('"', _) => {
                let mut k = i + 1;
                while k < c.len() && c[k] != '"' {
                    k += if c[k] == '\\' { 2 } else { 1 };
                }
                let end = (k + 1).min(c.len());
                out.extend(&c[i..end]);
                i = end;
            }
            ('\'', '\\') => {
                // An escaped character literal: '\n', '\'', '\u{1b}'.
                let mut k = i + 2;
                while k < c.len() && c[k] != '\'' {
                    k += 1;
                }
                let k = if at(i + 2) == '\'' { i + 3 } else { k };
                let end = (k + 1).min(c.len());
                out.extend(&c[i..end]);
                i = end;
            }
            ('\'', x) if at(i + 2) == '\'' && x != '\'' => {
                out.extend(&c[i..i + 3]);
                i += 3;
            }
            (x, _) => {
                out.push(x);
                i += 1;
            }
        }
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first name of every path after `crate::` in `code`: `crate::stats::x` gives `stats`,
/// `crate::{data::People, error::Result}` gives `data` and `error`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in a macro is the same crate; any other identifier before it is not a path
        // from the root (`my_crate::`).
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item_start) = (0usize, true);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        names.push(ident(&group[i..]).to_string());
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident(rest).to_string());
        }
    }
    names
}

/// The names `src/lib.rs` re-exports at the root, with the module each comes from
/// (`pub use analysis::{compare, Analysis}` places `compare` and `Analysis` in `analysis`).
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let code = without_comments(lib);
    let mut rest = code.as_str();
    while let Some(at) = rest.find("\npub use ") {
        let stmt_start = at + "\npub use ".len();
        let end = rest[stmt_start..]
            .find(';')
            .map_or(rest.len(), |e| stmt_start + e);
        let stmt = &rest[stmt_start..end];
        let module = ident(stmt).to_string();
        let mut word = String::new();
        for c in stmt[module.len()..].chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
            } else if !word.is_empty() {
                map.entry(std::mem::take(&mut word))
                    .or_insert_with(|| module.clone());
            }
        }
        rest = &rest[end..];
    }
    map
}

#[test]
fn no_module_uses_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let reexports = root_reexports(&lib);
    assert!(
        reexports.get("Evaluation").map(String::as_str) == Some("loaded")
            && reexports.get("compare").map(String::as_str) == Some("analysis"),
        "lib.rs's re-exports were not read: {reexports:?}"
    );
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let (mut upward, mut unplaced, mut read) = (Vec::new(), Vec::new(), 0);
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .expect("under src/")
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        if matches!(top, "lib" | "main" | "cli") {
            continue;
        }
        let Some(mine) = rank(top) else {
            unplaced.push(format!("{rel}: module `{top}` is not in LAYERS"));
            continue;
        };
        let code = without_comments(&std::fs::read_to_string(file).expect("a source file"));
        for name in crate_paths(&code) {
            read += 1;
            let module = if rank(&name).is_some() {
                name.clone()
            } else if let Some(m) = reexports.get(&name) {
                m.clone()
            } else {
                unplaced.push(format!(
                    "{rel}: `crate::{name}` is neither a layer nor a root re-export"
                ));
                continue;
            };
            let theirs = rank(&module).expect("re-exports come from modules in LAYERS");
            let allowed = EXCEPTIONS.iter().any(|(f, m, _)| *f == rel && *m == module);
            if theirs > mine && !allowed {
                upward.push(format!("{rel} ({top}) uses `crate::{name}` ({module})"));
            }
        }
    }
    // The scan read something: the library uses its lower layers through `crate::` paths.
    assert!(read > 200, "only {read} crate:: paths read");
    assert!(
        unplaced.is_empty(),
        "not placed in a layer:\n{}",
        unplaced.join("\n")
    );
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "a lower layer uses a higher one (LAYERS, lowest first: {}):\n{}",
        LAYERS.join(" < "),
        upward.join("\n")
    );
}

#[test]
fn the_scanner_finds_upward_paths_and_skips_comments() {
    let code = without_comments(
        "use crate::{data::People, error::{Error, Result}};\n\
         /// [`Tabular`](crate::output::Tabular)\n\
         let x = crate::stats::z(1.0); /* crate::config */ let s = \"// not a comment\";\n\
         let q = '\"'; let r = r#\"a \" // b\"#; crate::Evaluation::load(); // crate::output\n",
    );
    assert_eq!(
        crate_paths(&code),
        ["data", "error", "stats", "Evaluation"],
        "{code}"
    );
    let map = root_reexports(
        "//! docs\n\npub use analysis::{compare, Analysis};\npub use output::Tabular;\n",
    );
    assert_eq!(map.get("compare").map(String::as_str), Some("analysis"));
    assert_eq!(map.get("Tabular").map(String::as_str), Some("output"));
    assert_eq!(LAYERS.iter().filter(|l| **l == "output").count(), 1);
}
