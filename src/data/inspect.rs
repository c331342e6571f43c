//! Profiles of files nobody has seen yet (`reoffending inspect`): per column its type,
//! missing share, range, date layout and commonest values, and a suggested mapping to the
//! contract's names, read with the same readers as every other command.
//!
//! No value seen fewer than `min_cell` times is shown: the commonest values list only values
//! at least that frequent, and text columns (identifiers, free text) show no range.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Serialize;

use super::dates::{DateFormat, Day, format_day};
use super::extract::Part;
use super::sniff;
use crate::error::Result;

/// A value and how often it occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopValue {
    /// The value.
    pub value: String,
    /// Rows holding it.
    pub count: u64,
}

/// One column of an inspected file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    /// The column's name in the file.
    pub name: String,
    /// `date`, `integer`, `number`, `text` or `empty`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Share of rows with no value (0 to 1).
    pub missing: f64,
    /// Distinct values.
    pub distinct: u64,
    /// Smallest value (dates, numbers; none for text or identifiers).
    pub min: Option<String>,
    /// Largest value.
    pub max: Option<String>,
    /// The layout of text dates (`%d/%m/%Y`); none for dates typed as dates.
    pub date_format: Option<String>,
    /// The commonest values of a column with few distinct values, each seen at least
    /// `min_cell` times.
    pub top: Vec<TopValue>,
    /// Something to check, e.g. dates that read both day first and month first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// One inspected file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileProfile {
    /// The path as given.
    pub path: PathBuf,
    /// Data rows.
    pub rows: u64,
    /// Its columns, in order.
    pub columns: Vec<ColumnProfile>,
    /// Which table it looks like: `cohort`, `offences`, or none.
    pub table: Option<String>,
}

/// A mapping block for the evaluation file: contract name to the extract's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Suggested {
    /// For `[data.cohort_columns]`.
    pub cohort_columns: BTreeMap<String, String>,
    /// For `[data.offences_columns]`.
    pub offences_columns: BTreeMap<String, String>,
    /// For `[data] date_format`, when text dates are not ISO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
}

/// What `inspect` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// Each file.
    pub files: Vec<FileProfile>,
    /// The mapping suggested.
    pub suggested: Suggested,
}

/// Facts about a column the suggestion reads (not shown).
struct Facts {
    days: Option<Vec<Day>>,
    unique: bool,
    numeric: bool,
    distinct: usize,
}

/// Profiles `paths` (any format the loader reads; patterns are expanded; a workbook named
/// without a sheet is profiled sheet by sheet, `file.xlsx#Sheet`).
pub fn inspect(paths: &[PathBuf], min_cell: u64) -> Result<Inspection> {
    let mut files = Vec::new();
    let mut facts: Vec<Vec<Facts>> = Vec::new();
    let mut all = Vec::new();
    for p in super::extract::expand_paths(paths)? {
        match super::extract::kind_of(&p)? {
            (file, super::extract::Kind::Sheet(None)) => {
                for name in super::sheet::sheet_names(&file)? {
                    all.push(PathBuf::from(format!("{}#{name}", p.display())));
                }
            }
            _ => all.push(p),
        }
    }
    for p in &all {
        let part = Part::open(p, &DateFormat::Iso)?;
        let names: Vec<String> = part.own.iter().filter(|n| !n.is_empty()).cloned().collect();
        let frame = part.read_all(&names)?;
        let mut columns = Vec::new();
        let mut fs = Vec::new();
        let mut rows = 0;
        for name in &names {
            let text: Vec<Option<String>> = frame.map_text(name, |s| {
                s.map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })?;
            rows = text.len();
            let typed_dates = frame.is_date(name);
            let (c, f) = profile(name, &text, typed_dates, min_cell);
            columns.push(c);
            fs.push(f);
        }
        files.push(FileProfile {
            path: p.clone(),
            rows: rows as u64,
            columns,
            table: None,
        });
        facts.push(fs);
    }
    let suggested = suggest(&mut files, &facts);
    Ok(Inspection { files, suggested })
}

fn profile(
    name: &str,
    text: &[Option<String>],
    typed: bool,
    min_cell: u64,
) -> (ColumnProfile, Facts) {
    let n = text.len();
    let present: Vec<(u64, &str)> = text
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_deref().map(|v| (i as u64 + 1, v)))
        .collect();
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for (_, v) in &present {
        *counts.entry(v).or_default() += 1;
    }
    let distinct = counts.len();
    let missing = if n == 0 {
        0.0
    } else {
        (n - present.len()) as f64 / n as f64
    };
    let numbers: Vec<f64> = present
        .iter()
        .filter_map(|(_, v)| match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => None,
        })
        .collect();
    let numeric = !present.is_empty() && numbers.len() == present.len();
    // Unique per row, but for a few repeats (a person indexed twice): an identifier.
    let unique = !present.is_empty() && present.len() == n && distinct * 100 >= present.len() * 99;
    let guess = if typed {
        sniff::guess(present.iter().copied())
    } else if numeric && !present.iter().any(|(_, v)| v.len() == 8) {
        sniff::DateGuess::default()
    } else {
        sniff::guess(present.iter().copied())
    };
    let mut c = ColumnProfile {
        name: name.to_string(),
        kind: "text".into(),
        missing,
        distinct: distinct as u64,
        min: None,
        max: None,
        date_format: None,
        top: Vec::new(),
        warning: None,
    };
    let mut days = None;
    if present.is_empty() {
        c.kind = "empty".into();
    } else if let (Some(f), Some((lo, hi))) = (guess.format, guess.range) {
        c.kind = "date".into();
        c.min = Some(format_day(lo));
        c.max = Some(format_day(hi));
        if !typed && f != "%Y-%m-%d" {
            c.date_format = Some(f.to_string());
        }
        if let Some((v, row)) = &guess.ambiguous {
            c.warning = Some(format!(
                "the dates read both day first ({f}) and month first (%m/%d/%Y), e.g. `{v}` in row {row}: \
                 check which the extract uses"
            ));
        }
        days = Some(
            text.iter()
                .map(|v| {
                    v.as_deref()
                        .and_then(|v| parse_with(f, v))
                        .unwrap_or(super::read::DATE_MISSING)
                })
                .collect(),
        );
    } else if numeric {
        let whole = numbers.iter().all(|x| x.fract() == 0.0);
        c.kind = if whole { "integer" } else { "number" }.into();
        // A column of distinct whole numbers may be identifiers: no range shown.
        if !(unique && whole) {
            let lo = numbers.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            c.min = Some(num_text(lo));
            c.max = Some(num_text(hi));
        }
    }
    if distinct <= 20 && c.kind != "date" {
        let mut top: Vec<(&str, u64)> = counts
            .iter()
            .filter(|(_, n)| **n >= min_cell)
            .map(|(v, n)| (*v, *n))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        c.top = top
            .into_iter()
            .take(10)
            .map(|(v, n)| TopValue {
                value: v.to_string(),
                count: n,
            })
            .collect();
    }
    (
        c,
        Facts {
            days,
            unique,
            numeric,
            distinct,
        },
    )
}

fn parse_with(layout: &str, v: &str) -> Option<Day> {
    if layout == "%Y-%m-%d" {
        DateFormat::Iso.parse(v)
    } else {
        DateFormat::Strftime(layout.to_string()).parse(v)
    }
}

fn num_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

fn named(name: &str, words: &[&str]) -> bool {
    let n = name.to_lowercase().replace([' ', '_', '-'], "");
    words.iter().any(|w| n.contains(w))
}

/// The column the suggestion picks: the first whose facts pass `ok`, preferring names
/// with one of `words`.
fn pick(
    cols: &[ColumnProfile],
    facts: &[Facts],
    taken: &[usize],
    words: &[&str],
    ok: impl Fn(&ColumnProfile, &Facts) -> bool,
) -> Option<usize> {
    let free = |i: &usize| !taken.contains(i) && ok(&cols[*i], &facts[*i]);
    let by_name = (0..cols.len())
        .filter(free)
        .find(|&i| named(&cols[i].name, words));
    by_name.or_else(|| (0..cols.len()).find(|i| free(i) && words.is_empty()))
}

/// Classifies each file as the cohort or the offences table and suggests the mapping: two
/// date columns, one never after the other, make an offences file (the earlier is the
/// offence date, the later the disposal date); a column unique per row next to one date
/// makes a cohort file, that column being the identifier.
fn suggest(files: &mut [FileProfile], facts: &[Vec<Facts>]) -> Suggested {
    let mut s = Suggested::default();
    for (file, facts) in files.iter_mut().zip(facts) {
        let cols = &file.columns;
        let dates: Vec<usize> = (0..cols.len())
            .filter(|&i| facts[i].days.is_some())
            .collect();
        if s.date_format.is_none() {
            s.date_format = cols.iter().find_map(|c| c.date_format.clone());
        }
        // Offences: a pair of dates, the first never after the second where both are known.
        let mut pair = None;
        for &a in &dates {
            for &b in &dates {
                if a == b || pair.is_some() {
                    continue;
                }
                let (da, db) = (facts[a].days.as_deref(), facts[b].days.as_deref());
                let (Some(da), Some(db)) = (da, db) else {
                    continue;
                };
                let known = da.iter().zip(db).filter(|(x, y)| {
                    **x > super::read::DATE_UNPARSEABLE && **y > super::read::DATE_UNPARSEABLE
                });
                let (mut n, mut before) = (0usize, 0usize);
                for (x, y) in known {
                    n += 1;
                    before += usize::from(x <= y);
                }
                if n > 0 && before * 100 >= n * 99 && da != db {
                    pair = Some((a, b));
                }
            }
        }
        let id_words = ["personid", "urn", "pnc", "nominal", "subject", "id", "ref"];
        if let Some((a, b)) = pair {
            if !s.offences_columns.is_empty() {
                file.table = Some("offences".into());
                continue;
            }
            file.table = Some("offences".into());
            let mut taken = vec![a, b];
            let m = &mut s.offences_columns;
            m.insert("offence_date".into(), cols[a].name.clone());
            m.insert("disposal_date".into(), cols[b].name.clone());
            let text = |c: &ColumnProfile, _: &Facts| c.kind == "text" || c.kind == "integer";
            if let Some(i) = pick(cols, facts, &taken, &id_words, text) {
                m.insert("person_id".into(), cols[i].name.clone());
                taken.push(i);
            }
            if let Some(i) = pick(
                cols,
                facts,
                &taken,
                &["outcome", "disposal", "result"],
                text,
            ) {
                m.insert("disposal".into(), cols[i].name.clone());
                taken.push(i);
            }
            if let Some(i) = pick(
                cols,
                facts,
                &taken,
                &["offence", "category", "type", "crime", "ho"],
                text,
            ) {
                m.insert("offence_type".into(), cols[i].name.clone());
            }
        } else if dates.len() == 1 {
            if !s.cohort_columns.is_empty() {
                file.table = Some("cohort".into());
                continue;
            }
            let unique = |_: &ColumnProfile, f: &Facts| f.unique && f.days.is_none();
            let id = pick(cols, facts, &[], &id_words, unique)
                .or_else(|| pick(cols, facts, &[], &[], unique));
            let Some(id) = id else { continue };
            file.table = Some("cohort".into());
            let mut taken = vec![id, dates[0]];
            let m = &mut s.cohort_columns;
            m.insert("person_id".into(), cols[id].name.clone());
            m.insert("index_date".into(), cols[dates[0]].name.clone());
            let few =
                |c: &ColumnProfile, f: &Facts| c.kind == "text" && (2..=10).contains(&f.distinct);
            let group = pick(
                cols,
                facts,
                &taken,
                &["cohort", "scheme", "group", "arm", "programme", "pathway"],
                few,
            )
            .or_else(|| pick(cols, facts, &taken, &[], few));
            if let Some(i) = group {
                m.insert("cohort".into(), cols[i].name.clone());
                taken.push(i);
            }
            let text = |c: &ColumnProfile, _: &Facts| c.kind == "text";
            let number = |_: &ColumnProfile, f: &Facts| f.numeric;
            for (contract, words, numeric) in [
                ("sex", &["sex", "gender"][..], false),
                ("age_at_index", &["age"][..], true),
                ("ethnicity", &["ethnic"][..], false),
                (
                    "area",
                    &["area", "force", "district", "region", "lpa"][..],
                    false,
                ),
                ("index_offence", &["offence", "crime"][..], false),
                ("prior_offences", &["prior", "previous"][..], true),
            ] {
                let i = if numeric {
                    pick(cols, facts, &taken, words, number)
                } else {
                    pick(cols, facts, &taken, words, text)
                };
                if let Some(i) = i {
                    m.insert(contract.into(), cols[i].name.clone());
                    taken.push(i);
                }
            }
        }
    }
    // A name already the contract's needs no mapping.
    s.cohort_columns.retain(|k, v| k != v);
    s.offences_columns.retain(|k, v| k != v);
    s
}

impl Inspection {
    /// The suggestion as a block of the evaluation file, ready to paste.
    pub fn toml(&self) -> String {
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let key = |s: &str| {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                s.to_string()
            } else {
                quote(s)
            }
        };
        let mut out = String::from("[data]\n");
        for table in ["cohort", "offences"] {
            let files: Vec<String> = self
                .files
                .iter()
                .filter(|f| f.table.as_deref() == Some(table))
                .map(|f| quote(&f.path.display().to_string()))
                .collect();
            match files.len() {
                0 => {}
                1 => out.push_str(&format!("{table} = {}\n", files[0])),
                _ => out.push_str(&format!("{table} = [{}]\n", files.join(", "))),
            }
        }
        if let Some(f) = &self.suggested.date_format {
            out.push_str(&format!("date_format = {}\n", quote(f)));
        }
        for (name, map) in [
            ("cohort_columns", &self.suggested.cohort_columns),
            ("offences_columns", &self.suggested.offences_columns),
        ] {
            if map.is_empty() {
                continue;
            }
            out.push_str(&format!("\n[data.{name}]\n"));
            for (k, v) in map {
                out.push_str(&format!("{} = {}\n", key(k), quote(v)));
            }
        }
        out
    }
}
