//! An extract as delivered, made to speak the contract at the edge: the files of one table
//! (several files, spreadsheets, compressed CSV) read as one table, their columns renamed
//! from the extract's own names to the contract's, and recoded, before the loader's rules
//! see them. Messages name the extract's own file, column and row.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::dates::DateFormat;
use super::pl;
use super::pl::IntoSeries;
use super::quality::{ColumnWarning, TableKind};
use super::read::{self, Frame};
use super::recode::{self, Recode, Unmapped, UnmappedSeen};
use crate::error::{Error, Result};

/// How one table of an extract is read: further files, the extract's own column names and
/// recodings. The default reads one file in the contract's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extract {
    /// Files read after the first, in order, as one table with it. Every file must have the
    /// same columns once mapped.
    pub more_files: Vec<PathBuf>,
    /// `(contract name, the extract's name)` pairs, e.g. `("person_id", "PersonURN")`;
    /// covariates may be renamed too. Unlisted columns keep their names.
    pub columns: Vec<(String, String)>,
    /// Recodings of columns, named by their contract names.
    pub recode: Vec<Recode>,
}

impl Extract {
    /// True when the table is one file read as it is.
    pub fn is_plain(&self) -> bool {
        self.more_files.is_empty() && self.columns.is_empty() && self.recode.is_empty()
    }
}

/// Expands path patterns into files, in the order given (each pattern's matches sorted by
/// name). A name without `*`, `?` or `[` is kept as given; a pattern that matches no file is
/// an error. A sheet suffix (`file.xlsx#Sheet`) is kept on every match.
pub fn expand_paths(patterns: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in patterns {
        let text = p.to_string_lossy();
        let (file, sheet) = split_sheet(p);
        let file_text = file.to_string_lossy().into_owned();
        if !file_text.contains(['*', '?', '[']) {
            out.push(p.clone());
            continue;
        }
        let matches = glob::glob(&file_text)
            .map_err(|e| Error::input(p, format!("not a file pattern: {e}")))?;
        let mut found: Vec<PathBuf> = matches.filter_map(std::result::Result::ok).collect();
        found.sort();
        if found.is_empty() {
            return Err(Error::input(p, format!("no file matches `{text}`")));
        }
        for f in found {
            out.push(match &sheet {
                Some(s) => PathBuf::from(format!("{}#{s}", f.display())),
                None => f,
            });
        }
    }
    Ok(out)
}

/// A path and its sheet: `book.xlsx#Referrals` is sheet `Referrals` of `book.xlsx`, unless a
/// file of the whole name exists.
pub(super) fn split_sheet(p: &Path) -> (PathBuf, Option<String>) {
    let text = p.to_string_lossy();
    if let Some((file, sheet)) = text.rsplit_once('#') {
        if is_sheet_name(file) && !p.exists() {
            return (PathBuf::from(file), Some(sheet.to_string()));
        }
    }
    (p.to_path_buf(), None)
}

/// The file of a path that may name a sheet (`book.xlsx#Referrals` is in `book.xlsx`).
pub fn sheet_file(path: &Path) -> PathBuf {
    split_sheet(path).0
}

fn is_sheet_name(name: &str) -> bool {
    let n = name.to_lowercase();
    n.ends_with(".xlsx") || n.ends_with(".xlsm") || n.ends_with(".ods")
}

/// How a file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// CSV, CSV.gz or Parquet: the loader's own readers.
    Native,
    /// Zstandard-compressed CSV, decompressed in memory.
    Zstd,
    /// A spreadsheet's sheet (the first when `None`).
    Sheet(Option<String>),
}

pub(super) fn kind_of(path: &Path) -> Result<(PathBuf, Kind)> {
    let (file, sheet) = split_sheet(path);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if is_sheet_name(&name) {
        return Ok((file, Kind::Sheet(sheet)));
    }
    if name.ends_with(".zst") || name.ends_with(".zstd") {
        return Ok((file, Kind::Zstd));
    }
    match read::FileFormat::of(&file) {
        Ok(_) => Ok((file, Kind::Native)),
        Err(_) => Err(Error::input(
            path,
            "cannot tell the format from the file name: expected a name ending in .csv, .csv.gz, \
             .csv.zst, .parquet, .xlsx, .xlsm or .ods",
        )),
    }
}

/// One file of a table.
pub(super) struct Part {
    /// As given (with its sheet), for messages.
    pub shown: PathBuf,
    /// The file itself.
    pub file: PathBuf,
    pub kind: Kind,
    /// The file's own column names.
    pub own: Vec<String>,
    /// A sheet or a decompressed file, read whole when its header was read.
    held: Mutex<Held>,
    /// Data rows read.
    rows: Mutex<u64>,
}

/// What a part keeps between reading its header and its rows.
enum Held {
    None,
    Bytes(Vec<u8>),
    Frame(Frame),
}

impl Part {
    pub(super) fn open(path: &Path, format: &DateFormat) -> Result<Part> {
        let (file, kind) = kind_of(path)?;
        let (own, held) = match &kind {
            Kind::Native => (read::header(&file)?, Held::None),
            Kind::Zstd => {
                let bytes = zstd_bytes(&file, path)?;
                (csv_header(path, &bytes)?, Held::Bytes(bytes))
            }
            Kind::Sheet(sheet) => {
                let s = super::sheet::read_sheet(&file, path, sheet.as_deref(), format)?;
                super::read::check_unique(path, &s.header)?;
                (s.header, Held::Frame(Frame::from_df(path, s.df)))
            }
        };
        Ok(Part {
            shown: path.to_path_buf(),
            file,
            kind,
            own,
            held: Mutex::new(held),
            rows: Mutex::new(0),
        })
    }

    /// Reads the named columns (own names) whole. A sheet or compressed file is held from
    /// its header until this read, and read again if read twice.
    fn read(&self, columns: &[String], categorical: &[&str], format: &DateFormat) -> Result<Frame> {
        let held = std::mem::replace(
            &mut *self.held.lock().map_err(|_| poisoned(&self.shown))?,
            Held::None,
        );
        match (&self.kind, held) {
            (Kind::Native, _) => read::read(&self.file, columns, categorical),
            (Kind::Zstd, Held::Bytes(bytes)) => {
                read::read_csv_bytes(&self.shown, bytes, columns, categorical)
            }
            (Kind::Zstd, _) => read::read_csv_bytes(
                &self.shown,
                zstd_bytes(&self.file, &self.shown)?,
                columns,
                categorical,
            ),
            (Kind::Sheet(_), Held::Frame(f)) => select(f, columns),
            (Kind::Sheet(sheet), _) => {
                let s =
                    super::sheet::read_sheet(&self.file, &self.shown, sheet.as_deref(), format)?;
                select(Frame::from_df(&self.shown, s.df), columns)
            }
        }
    }
}

impl Part {
    /// Every named column (own names), as text where the file holds text.
    pub(super) fn read_all(&self, columns: &[String]) -> Result<Frame> {
        self.read(columns, &[], &DateFormat::Iso)
    }

    /// One column (own name) read again, for a message about it.
    pub(super) fn read_again(&self, column: &str, format: &DateFormat) -> Result<Frame> {
        self.read(&[column.to_string()], &[], format)
    }
}

fn poisoned(path: &Path) -> Error {
    Error::input(path, "an earlier read of the file failed")
}

/// The columns of a frame read whole, by name.
fn select(frame: Frame, columns: &[String]) -> Result<Frame> {
    let path = frame.path.clone();
    let df = frame.into_df();
    let df = df
        .select(columns.iter().map(|c| pl::PlSmallStr::from(c.as_str())))
        .map_err(|e| Error::input(&path, format!("cannot read the columns: {e}")))?;
    Ok(Frame::from_df(&path, df))
}

fn zstd_bytes(file: &Path, shown: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(file).map_err(|source| Error::Io {
        path: shown.to_path_buf(),
        action: "cannot open",
        source,
    })?;
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(BufReader::new(f))
        .and_then(|mut d| d.read_to_end(&mut out))
        .map_err(|e| Error::input(shown, format!("cannot decompress the file (zstd): {e}")))?;
    if out.is_empty() {
        return Err(Error::input(
            shown,
            "the file is empty: expected a header row naming the columns",
        ));
    }
    Ok(out)
}

fn csv_header(shown: &Path, bytes: &[u8]) -> Result<Vec<String>> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let names: Vec<String> = csv
        .headers()
        .map_err(|e| Error::input(shown, format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if names.iter().all(String::is_empty) {
        return Err(Error::input(
            shown,
            "the header row is empty: expected a header row naming the columns",
        ));
    }
    super::read::check_unique(shown, &names)?;
    Ok(names)
}

/// A file of a table as the outputs describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnName {
    /// The contract's name.
    pub contract: String,
    /// The extract's own name.
    pub extract: String,
}

/// One table of an extract: its files, mapping and recodings, ready to be read by the
/// loader in the contract's names.
pub(super) struct Table {
    pub kind: TableKind,
    pub parts: Vec<Part>,
    /// Contract name to own name, for mapped columns.
    to_own: HashMap<String, String>,
    pairs: Vec<(String, String)>,
    /// The table's columns in the contract's names (the first file's order).
    header: Vec<String>,
    recode: Vec<Recode>,
    unmapped: Mutex<Vec<UnmappedSeen>>,
    warnings: Mutex<Vec<ColumnWarning>>,
    format: DateFormat,
}

impl Table {
    /// Opens every file of the table and checks the mapping against each header.
    pub(super) fn open(
        kind: TableKind,
        first: &Path,
        extract: &Extract,
        format: &DateFormat,
    ) -> Result<Table> {
        let mut paths = vec![first.to_path_buf()];
        paths.extend(extract.more_files.iter().cloned());
        let parts = paths
            .iter()
            .map(|p| Part::open(p, format))
            .collect::<Result<Vec<_>>>()?;
        let shown = &parts[0].shown; // `paths` has at least `first`.
        let mut to_own: HashMap<String, String> = HashMap::new();
        let mut to_contract: HashMap<String, String> = HashMap::new();
        for (contract, own) in &extract.columns {
            if let Some(prev) = to_own.insert(contract.clone(), own.clone()) {
                return Err(Error::in_column(
                    shown,
                    own.as_str(),
                    format!(
                        "`{contract}` is mapped twice, to `{prev}` and to `{own}`: map it to one column"
                    ),
                ));
            }
            if let Some(prev) = to_contract.insert(own.clone(), contract.clone()) {
                return Err(Error::in_column(
                    shown,
                    own.as_str(),
                    format!(
                        "the column `{own}` is mapped to two names, `{prev}` and `{contract}`: a column \
                         can be one of them only"
                    ),
                ));
            }
        }
        // A contract name as the extract writes it.
        let own_name = |n: &str| to_own.get(n).cloned().unwrap_or_else(|| n.to_string());
        let mut header: Vec<String> = Vec::new();
        let mut first_set: Vec<String> = Vec::new();
        for (k, part) in parts.iter().enumerate() {
            for (contract, own) in &extract.columns {
                if !part.own.contains(own) {
                    return Err(Error::in_column(
                        &part.shown,
                        own.as_str(),
                        format!(
                            "no column `{own}` (mapped to {contract}) in the file; it has: {}",
                            part.own.join(", ")
                        ),
                    ));
                }
            }
            let names: Vec<String> = part
                .own
                .iter()
                .map(|o| to_contract.get(o).cloned().unwrap_or_else(|| o.clone()))
                .collect();
            for (o, n) in part.own.iter().zip(&names) {
                if o == n && to_own.get(n).is_some_and(|mapped| mapped != o) {
                    return Err(Error::in_column(
                        &part.shown,
                        o.as_str(),
                        format!(
                            "the file has a column `{o}` and the column `{}` is mapped to {o}: rename \
                             one, or map {o} to `{o}`",
                            to_own[n]
                        ),
                    ));
                }
            }
            let mut set: Vec<String> = names.iter().filter(|n| !n.is_empty()).cloned().collect();
            set.sort();
            if k == 0 {
                header = names;
                first_set = set;
            } else if set != first_set {
                let missing: Vec<&str> = first_set
                    .iter()
                    .filter(|n| !set.contains(n))
                    .map(String::as_str)
                    .collect();
                let extra: Vec<&str> = set
                    .iter()
                    .filter(|n| !first_set.contains(n))
                    .map(String::as_str)
                    .collect();
                let column = missing.first().or(extra.first()).copied().unwrap_or("");
                let first = parts[0].shown.display();
                let quoted = |v: &[&str]| {
                    v.iter()
                        .map(|n| format!("`{}`", own_name(n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut what = Vec::new();
                if !missing.is_empty() {
                    what.push(format!("lacks {}, which {first} has", quoted(&missing)));
                }
                if !extra.is_empty() {
                    what.push(format!("has {}, which {first} has not", quoted(&extra)));
                }
                return Err(Error::in_column(
                    &part.shown,
                    own_name(column),
                    format!(
                        "the files of one table must have the same columns (once mapped): this file {}",
                        what.join(", and ")
                    ),
                ));
            }
        }
        for r in &extract.recode {
            if !header.contains(&r.column) {
                return Err(Error::in_column(
                    shown,
                    r.column.as_str(),
                    format!(
                        "no column `{}` to recode; the table has: {}",
                        r.column,
                        header.join(", ")
                    ),
                ));
            }
        }
        Ok(Table {
            kind,
            parts,
            to_own,
            pairs: extract.columns.clone(),
            header,
            recode: extract.recode.clone(),
            unmapped: Mutex::new(
                extract
                    .recode
                    .iter()
                    .map(|_| UnmappedSeen::default())
                    .collect(),
            ),
            warnings: Mutex::new(Vec::new()),
            format: format.clone(),
        })
    }

    /// The table's columns in the contract's names.
    pub(super) fn header(&self) -> Vec<String> {
        self.header.clone()
    }

    /// How messages about the whole table name it: its first file.
    pub(super) fn path(&self) -> &Path {
        &self.parts[0].shown
    }

    fn own(&self, contract: &str) -> String {
        self.to_own
            .get(contract)
            .cloned()
            .unwrap_or_else(|| contract.to_string())
    }

    /// Renames `frame` (own names) to the contract's, and recodes it.
    fn speak(&self, frame: &Frame, row0: u64, shown: &Path) -> Result<Frame> {
        let renames: Vec<(String, String)> = self
            .pairs
            .iter()
            .map(|(c, o)| (o.clone(), c.clone()))
            .collect();
        let mut out = frame.renamed(&renames)?;
        let mut seen = self.unmapped.lock().map_err(|_| poisoned(shown))?;
        for (r, s) in self.recode.iter().zip(seen.iter_mut()) {
            recode::apply(r, &mut out, row0, shown, s)?;
        }
        Ok(out)
    }

    fn own_columns(&self, columns: &[String], categorical: &[&str]) -> (Vec<String>, Vec<String>) {
        (
            columns.iter().map(|c| self.own(c)).collect(),
            categorical
                .iter()
                .filter(|c| !self.recode.iter().any(|r| r.column == **c))
                .map(|c| self.own(c))
                .collect(),
        )
    }

    /// Reads the named columns (contract names) of every file, as one frame.
    ///
    /// Columns named in `categorical` may come as dictionary codes ([`Frame::codes`]) from a
    /// table of one file; a table of several files reads them as text.
    pub(super) fn read(&self, columns: &[String], categorical: &[&str]) -> Result<Frame> {
        let (own, own_cat) = self.own_columns(columns, categorical);
        let own_cat: Vec<&str> = own_cat.iter().map(String::as_str).collect();
        if let [part] = self.parts.as_slice() {
            let frame = part.read(&own, &own_cat, &self.format)?;
            *part.rows.lock().map_err(|_| poisoned(&part.shown))? = frame.height() as u64;
            let mut frame = self.speak(&frame, 0, &part.shown)?;
            self.finish()?;
            frame.path = self.path().to_path_buf();
            return Ok(frame);
        }
        let mut stacked: Option<pl::DataFrame> = None;
        for part in &self.parts {
            let frame = part.read(&own, &[], &self.format)?;
            *part.rows.lock().map_err(|_| poisoned(&part.shown))? = frame.height() as u64;
            let frame = self.speak(&frame, 0, &part.shown)?;
            let df = frame.into_df();
            stacked = Some(match stacked {
                None => df,
                Some(mut all) => {
                    let df = same_types(&all, df, &part.shown)?;
                    all = same_types(&df, all, &part.shown)?;
                    all.vstack_mut(&df.select(all.get_column_names_owned()).map_err(|e| {
                        Error::input(&part.shown, format!("cannot join the files: {e}"))
                    })?)
                    .map_err(|e| {
                        Error::input(&part.shown, format!("cannot join the files: {e}"))
                    })?;
                    all
                }
            });
        }
        self.finish()?;
        let df = stacked.unwrap_or_default();
        Ok(Frame::from_df(self.path(), df))
    }

    /// Reads the table in batches of about `rows` rows, file after file, calling
    /// `f(frame, first_row, done)` as [`read::read_batches`] does (`first_row` counts rows
    /// across the files).
    pub(super) fn read_batches<F>(
        &self,
        columns: &[String],
        categorical: &[&str],
        rows: usize,
        mut f: F,
    ) -> Result<()>
    where
        F: FnMut(&Frame, usize, f64) -> Result<()>,
    {
        let (own, own_cat) = self.own_columns(columns, categorical);
        let own_cat: Vec<&str> = own_cat.iter().map(String::as_str).collect();
        let n = self.parts.len() as f64;
        let mut offset = 0usize;
        for (k, part) in self.parts.iter().enumerate() {
            let mut height = 0usize;
            let done_of = |d: f64| ((k as f64 + d) / n).clamp(f64::MIN_POSITIVE, 1.0);
            match part.kind {
                Kind::Native => {
                    read::read_batches(&part.file, &own, &own_cat, rows, |frame, first, done| {
                        height = first + frame.height();
                        if self.pairs.is_empty() && self.recode.is_empty() {
                            return f(frame, offset + first, done_of(done))
                                .map_err(|e| in_file(e, offset as u64, &part.shown));
                        }
                        let frame = self.speak(frame, first as u64, &part.shown)?;
                        f(&frame, offset + first, done_of(done))
                            .map_err(|e| in_file(e, offset as u64, &part.shown))
                    })?
                }
                _ => {
                    let whole = part.read(&own, &own_cat, &self.format)?;
                    height = whole.height();
                    let mut first = 0;
                    while first < height {
                        let len = rows.max(1).min(height - first);
                        let frame =
                            self.speak(&whole.slice(first, len), first as u64, &part.shown)?;
                        f(
                            &frame,
                            offset + first,
                            done_of((first + len) as f64 / height as f64),
                        )
                        .map_err(|e| in_file(e, offset as u64, &part.shown))?;
                        first += len;
                    }
                }
            }
            *part.rows.lock().map_err(|_| poisoned(&part.shown))? = height as u64;
            offset += height;
        }
        self.finish()
    }

    /// After every file is read: values without a label are an error, or a warning.
    fn finish(&self) -> Result<()> {
        let seen = self.unmapped.lock().map_err(|_| poisoned(self.path()))?;
        for (r, s) in self.recode.iter().zip(seen.iter()) {
            let Some((_, (_, file, row))) = s
                .values
                .iter()
                .min_by(|a, b| (&a.1.1, a.1.2).cmp(&(&b.1.1, b.1.2)))
            else {
                continue;
            };
            let own = self.own(&r.column);
            let rows: u64 = s.values.values().map(|v| v.0).sum();
            let named = if own == r.column {
                format!("`{own}`")
            } else {
                format!("`{own}` ({})", r.column)
            };
            let list = recode::describe(s, 10);
            match r.unmapped {
                Unmapped::Error => {
                    return Err(Error::in_column(
                        file,
                        own.as_str(),
                        format!(
                            "column {named}: {} values in {rows} rows have no label in its recoding: {list}; \
                             add them to the recoding, or keep values without a label",
                            s.values.len()
                        ),
                    )
                    .at_row(*row));
                }
                Unmapped::Keep => {
                    let mut w = self.warnings.lock().map_err(|_| poisoned(self.path()))?;
                    w.push(ColumnWarning {
                        table: self.kind,
                        column: own.clone(),
                        issue: "value_without_label_kept".into(),
                        rows,
                        first_rows: Vec::new(),
                        first_files: Vec::new(),
                        message: format!(
                            "{} {named}: {} values in {rows} rows have no label in its recoding and were kept \
                             as they are: {list}",
                            self.kind,
                            s.values.len()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Warnings of the reading itself (values kept without a label).
    pub(super) fn warnings(&self) -> Vec<ColumnWarning> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Rows read from each file, in order.
    pub(super) fn rows_per_file(&self) -> Vec<u64> {
        self.parts
            .iter()
            .map(|p| p.rows.lock().map(|r| *r).unwrap_or(0))
            .collect()
    }

    /// The mapped columns of the table.
    pub(super) fn mapped(&self) -> Vec<ColumnName> {
        self.pairs
            .iter()
            .map(|(c, o)| ColumnName {
                contract: c.clone(),
                extract: o.clone(),
            })
            .collect()
    }

    /// The table's error in the extract's words: a mapped column by its own name beside the
    /// contract's.
    pub(super) fn translate(&self, e: Error) -> Error {
        let e = self.in_its_file(e);
        match e {
            Error::Input {
                path,
                column: Some(column),
                row,
                message,
            } if self.to_own.contains_key(&column) => {
                let own = self.own(&column);
                Error::Input {
                    path,
                    message: in_own_words(&message, &column, &own, self.kind),
                    column: Some(own),
                    row,
                }
            }
            other => other,
        }
    }

    /// An error about the table read whole ([`Table::read`], named by its first file, rows
    /// numbered across its files) at the file and row it is in.
    fn in_its_file(&self, e: Error) -> Error {
        let rows = self.rows_per_file();
        let total: u64 = rows.iter().sum();
        let at = match e.location() {
            Some((path, _, Some(r))) if self.parts.len() > 1 && path == self.path() => r,
            _ => return e,
        };
        // Rows are counted once every file is read; before, the row is the first file's.
        if at <= rows[0] || at > total {
            return e;
        }
        let mut before = 0;
        for (p, n) in self.parts.iter().zip(&rows) {
            if at <= before + n {
                return in_file(e, before, &p.shown);
            }
            before += n;
        }
        e
    }

    /// A warning in the extract's words, as [`Table::translate`].
    pub(super) fn translate_warning(&self, mut w: ColumnWarning) -> ColumnWarning {
        if w.table == self.kind && self.to_own.contains_key(&w.column) {
            let own = self.own(&w.column);
            w.message = in_own_words(&w.message, &w.column, &own, self.kind);
            w.column = own;
        }
        w
    }

    /// Whether `path` is one of this table's files (as given).
    pub(super) fn has_file(&self, path: &Path) -> bool {
        self.parts.iter().any(|p| p.shown == path || p.file == path)
    }
}

/// An error about a frame whose rows are numbered across the table's files, `before` rows
/// in the files before `file` (whose rows the frame holds): numbered within `file`.
fn in_file(e: Error, before: u64, file: &Path) -> Error {
    match e {
        Error::Input {
            column,
            row: Some(r),
            message,
            ..
        } if before > 0 && r > before => Error::Input {
            path: file.to_path_buf(),
            column,
            row: Some(r - before),
            message: message.replace(&format!("row {r}"), &format!("row {}", r - before)),
        },
        other => other,
    }
}

fn in_own_words(message: &str, contract: &str, own: &str, kind: TableKind) -> String {
    message
        .replace(&format!("`{contract}`"), &format!("`{own}` ({contract})"))
        .replace(
            &format!("{kind} {contract}:"),
            &format!("{kind} {own} ({contract}):"),
        )
}

/// `df` with each column whose type differs from the same column in `like` made text (the
/// caller makes `like`'s text too), so files of one table stack.
fn same_types(like: &pl::DataFrame, df: pl::DataFrame, shown: &Path) -> Result<pl::DataFrame> {
    let mut df = df;
    for col in like.columns() {
        let Ok(mine) = df.column(col.name().as_str()) else {
            continue;
        };
        if mine.dtype() == col.dtype() {
            continue;
        }
        let text = Frame::from_df(
            shown,
            df.select([col.name().clone()])
                .map_err(|e| Error::input(shown, format!("cannot join the files: {e}")))?,
        )
        .text(col.name())?;
        let name = col.name().clone();
        df.with_column(pl::Column::from(text.with_name(name).into_series()))
            .map_err(|e| Error::input(shown, format!("cannot join the files: {e}")))?;
    }
    Ok(df)
}
