//! Every number a report publishes, in every file (issue 29, "every published number
//! registered"): the text of `report.md`, the text of `report.html` (its tables and its
//! sentences), every cell of `report.xlsx`, and every sentence of `report.json` must be a
//! figure of the gated `report.json` as printed (the same value, in per cent, negated or as
//! a complement, at the precision printed), or one of the method's constants listed in
//! [`CONSTANTS`]. The gated JSON's figures are the ones the gate and its audit saw; a renderer
//! or a sentence that quoted anything else (a suppressed count, a figure computed in
//! rendering) would print a number this test cannot trace.
//!
//! The same is checked on a small data set on which the gate suppresses many cells (30
//! people in the pilot at `min_cell = 10`), and there the suppressed counts themselves (read
//! from the same report with control off) are looked for in the sentences: a sentence may not
//! quote one (unless the same number is a published figure of the same sentence's object).
//!
//! What this cannot see: a number that happens to equal a published figure while meaning a
//! suppressed one (the small data set's check narrows this for sentences); the SVG charts'
//! axis ticks (round values of the axis, not figures: each chart's data is its CSV, traced
//! by `disclosure_files`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use reoffending::report::disclosure::LABEL_KEYS;
use serde_json::Value;

/// Numbers of the method that prose states as words of a rule, not as figures of the data:
/// the citation year of the E-value (VanderWeele and Ding, 2017), "for every 100 people" and
/// the Justice Data Lab's minimum of 60 people in a group.
const CONSTANTS: &[f64] = &[2017.0, 100.0, 60.0];

/// Every number of a JSON value (numbers, and numbers written as text in a label's cell).
fn numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Object(m) => {
            // A key that is a number is a published figure too (`rate_at."182"`: the day).
            out.extend(m.keys().filter_map(|k| k.parse::<f64>().ok()));
            m.values().for_each(|x| numbers(x, out))
        }
        Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
        Value::Number(n) => out.extend(n.as_f64()),
        _ => {}
    }
}

/// Whether a text field is a sentence (may quote figures) rather than a label: the gate's
/// own rule, a digit and at least four words, under a key that is not one of the gate's
/// label keys (a source's citation, a cohort's name).
fn is_sentence(key: &str, t: &str) -> bool {
    !LABEL_KEYS.contains(&key)
        && t.chars().any(|c| c.is_ascii_digit())
        && t.split_whitespace().count() >= 4
}

/// Numbers written inside labels of the gated JSON (a source's year, a cohort named
/// `wave 2`): text fields that are not sentences.
fn label_numbers(v: &Value, key: &str, out: &mut Vec<f64>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| label_numbers(x, k, out)),
        Value::Array(a) => a.iter().for_each(|x| label_numbers(x, key, out)),
        Value::String(s) if !is_sentence(key, s) => {
            out.extend(tokens(s).into_iter().map(|t| t.value))
        }
        _ => {}
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// One number as printed in text.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    text: String,
    pub(crate) value: f64,
    /// Half the width of the values that print as `text`.
    pub(crate) half: f64,
}

/// A number as printed (`1,234`, `15.6%`, `£59,000`, `-9.7`) and the half-width of the values
/// that print so (money at two significant figures); `None` when it does not parse.
pub(crate) fn token(text: &str) -> Option<Token> {
    let money = text.contains('£');
    let s: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '£' | '%'))
        .map(|c| if c == '−' { '-' } else { c })
        .collect();
    let value: f64 = s.parse().ok()?;
    let decimals = s.split('.').nth(1).map_or(0, str::len) as i32;
    let mut half = 0.5 * 10f64.powi(-decimals);
    if money && decimals == 0 && value != 0.0 {
        // Money is rounded to two significant figures: £59,000 is 58,500 to 59,500.
        let digits = (value.abs().log10().floor() as i32) + 1;
        half = half.max(0.5 * 10f64.powi(digits - 2));
    }
    Some(Token {
        text: text.to_string(),
        value,
        half: half + 1e-9 * value.abs().max(1.0),
    })
}

/// The numbers of a text: runs of digits (with thousands commas and a decimal point), with a
/// sign or a pound sign before them and a per cent sign after, not part of a word (`sha256`,
/// a digest), a date (`2022-07-01`), a quarter (`2022-Q3`) or a name (`F(7, 23)` is two).
fn tokens(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let word = |x: char| x.is_alphanumeric() || x == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() || (i > 0 && (word(c[i - 1]) || c[i - 1] == '.')) {
            i += 1;
            continue;
        }
        let mut start = i;
        let mut j = i;
        while j < c.len()
            && (c[j].is_ascii_digit()
                || (matches!(c[j], ',' | '.') && j + 1 < c.len() && c[j + 1].is_ascii_digit()))
        {
            j += 1;
        }
        // A date or a quarter (`2022-07-01`, `2022-Q3`, `2022-07`) is a label.
        let year = j - i == 4 && c[i..j].iter().all(char::is_ascii_digit);
        if year && j + 1 < c.len() && c[j] == '-' && (c[j + 1].is_ascii_digit() || c[j + 1] == 'Q')
        {
            j += 2;
            while j < c.len() && (c[j].is_ascii_digit() || c[j] == '-') {
                j += 1;
            }
            i = j;
            continue;
        }
        // A date written out (`30 December 2021`) and a note's number (`Note 7`) are labels.
        let rest: String = c[j..c.len().min(j + 10)].iter().collect();
        let before: String = c[i.saturating_sub(10)..i].iter().collect();
        if MONTHS.iter().any(|m| rest.starts_with(&format!(" {m}")))
            || (year && MONTHS.iter().any(|m| before.ends_with(&format!("{m} "))))
            || before.ends_with("Note ")
            // A p-value below its printed precision (`p < 0.001`): the bound is the precision.
            || before.ends_with("p < ")
            || before.ends_with("p &lt; ")
        {
            i = j;
            continue;
        }
        // Part of a word or a code: `2nd`, `12abc`.
        if j < c.len() && (word(c[j]) || c[j] == '_') {
            while j < c.len() && word(c[j]) {
                j += 1;
            }
            i = j;
            continue;
        }
        if start > 0 && matches!(c[start - 1], '-' | '−') && (start < 2 || !word(c[start - 2])) {
            start -= 1;
        }
        if start > 0 && c[start - 1] == '£' {
            start -= 1;
        }
        if start > 0 && matches!(c[start - 1], '-' | '−') && c.get(start) == Some(&'£') {
            start -= 1;
        }
        let mut end = j;
        if end < c.len() && c[end] == '%' {
            end += 1;
        }
        let t: String = c[start..end].iter().collect();
        out.extend(token(&t));
        i = end;
    }
    out
}

/// The published figures as sorted candidates (each value, per cent, complement, negated).
pub(crate) struct Figures(Vec<f64>);

impl Figures {
    fn of(gated: &Value) -> Figures {
        let mut base = Vec::new();
        numbers(gated, &mut base);
        label_numbers(gated, "", &mut base);
        base.extend_from_slice(CONSTANTS);
        Figures::from_values(&base)
    }

    /// The candidates of these published values.
    pub(crate) fn from_values(base: &[f64]) -> Figures {
        let mut c: Vec<f64> = base
            .iter()
            .flat_map(|&x| [x, 100.0 * x, 1.0 - x, 100.0 * (1.0 - x)])
            .flat_map(|x| [x, -x])
            .collect();
        c.sort_by(f64::total_cmp);
        Figures(c)
    }

    fn traced(&self, t: &Token) -> bool {
        self.traced_value(t.value, t.half)
    }

    /// Whether a candidate lies within `half` of `value`.
    pub(crate) fn traced_value(&self, value: f64, half: f64) -> bool {
        let i = self.0.partition_point(|&c| c < value - half);
        i < self.0.len() && self.0[i] <= value + half
    }
}

/// The text a reader sees in an HTML page: no tags, no scripts or styles, no inline SVG
/// (each chart's data is its CSV), entities decoded.
fn html_text(html: &str) -> String {
    let mut s = html.to_string();
    for tag in ["svg", "script", "style"] {
        while let Some(a) = s.find(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let b = s[a..].find(&close).map_or(s.len(), |b| a + b + close.len());
            s.replace_range(a..b, " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Markdown as text: image targets and file links (`charts/rates.svg`, `tables/x.csv`) are
/// paths, not figures.
fn markdown_text(md: &str) -> String {
    md.lines()
        .map(|l| {
            let mut l = l.to_string();
            while let Some(a) = l.find("](") {
                let b = l[a..].find(')').map_or(l.len(), |b| a + b + 1);
                l.replace_range(a + 1..b, " ");
            }
            while let Some(a) = l.find('`') {
                let Some(b) = l[a + 1..].find('`') else {
                    break;
                };
                l.replace_range(a..a + b + 2, " ");
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every sentence of a JSON value, with the path to it.
fn sentences(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                sentences(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                sentences(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) if is_sentence(key_of(path), s) => out.push((path.to_string(), s.clone())),
        _ => {}
    }
}

/// The last key of a path (`a.b[3]` is `b`).
fn key_of(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or("");
    last.split('[').next().unwrap_or("")
}

/// A spreadsheet's number: money is written rounded to two significant figures (59000),
/// every other figure at full precision.
fn cell_token(f: f64) -> Token {
    let mut half = 1e-9 * f.abs().max(1.0);
    if f.fract() == 0.0 && f.abs() >= 1000.0 {
        let zeros = (f.abs() as u64).trailing_zeros_decimal();
        half = half.max(0.5 * 10f64.powi(zeros as i32));
    }
    Token {
        text: f.to_string(),
        value: f,
        half,
    }
}

trait DecimalZeros {
    fn trailing_zeros_decimal(self) -> u32;
}

impl DecimalZeros for u64 {
    fn trailing_zeros_decimal(mut self) -> u32 {
        let mut n = 0;
        while self != 0 && self % 10 == 0 {
            self /= 10;
            n += 1;
        }
        n
    }
}

/// Every number the report's files publish, as `(where, token)`.
fn published(out: &Path) -> Vec<(String, Token)> {
    let mut all = Vec::new();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for (n, line) in markdown_text(&md).lines().enumerate() {
        for t in tokens(line) {
            all.push((format!("report.md line {}", n + 1), t));
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for t in tokens(&html_text(&html)) {
        all.push(("report.html".to_string(), t));
    }
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(out.join("report.xlsx")).unwrap();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        for (r, c, cell) in range.cells() {
            let at = format!("report.xlsx {name}!R{}C{}", r + 1, c + 1);
            match cell {
                Data::Float(f) => all.push((at, cell_token(*f))),
                Data::Int(i) => all.push((at, cell_token(*i as f64))),
                Data::String(s) => {
                    for t in tokens(s) {
                        all.push((at.clone(), t));
                    }
                }
                _ => {}
            }
        }
    }
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let mut said = Vec::new();
    sentences(&j, "report.json", &mut said);
    for (path, s) in said {
        for t in tokens(&s) {
            all.push((path.clone(), t));
        }
    }
    all
}

fn report(config: &Path, out: &Path) {
    crate::common::run_report(config, out);
}

fn untraced(out: &Path) -> (usize, Vec<String>) {
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let figures = Figures::of(&j);
    let all = published(out);
    let bad: BTreeSet<String> = all
        .iter()
        .filter(|(_, t)| !figures.traced(t))
        .map(|(at, t)| format!("{at}: {}", t.text))
        .collect();
    (all.len(), bad.into_iter().collect())
}

/// Fails when any file of the report in `out` publishes a number that is not a figure of its
/// gated `report.json` (used on every small data set of `disclosure_routes`).
pub(crate) fn assert_every_number_traced(out: &Path) {
    let (n, bad) = untraced(out);
    assert!(n > 100, "{n} numbers read");
    assert!(
        bad.is_empty(),
        "numbers no published figure gives: {bad:#?}"
    );
}

#[test]
fn tokens_read_numbers_as_a_reader_does() {
    let t: Vec<String> = tokens(
        "15.6% of 1,234 people (£59,000 to -£3,000; -9.7 points) on 2022-07-01 in 2022-Q3, \
         sha256 e0c7e41c03c4, F(7, 23), a 12-month measure, 2nd, on 30 December 2021, Note 7, p < 0.001",
    )
    .into_iter()
    .map(|t| t.text)
    .collect();
    assert_eq!(
        t,
        [
            "15.6%", "1,234", "£59,000", "-£3,000", "-9.7", "7", "23", "12"
        ]
    );
    let v: Vec<f64> = tokens("£59,000 and 0.0381")
        .iter()
        .map(|t| t.half)
        .collect();
    assert!((v[0] - 500.0).abs() < 1e-3 && (v[1] - 0.00005).abs() < 1e-6);
}

#[test]
fn every_number_the_sample_report_publishes_in_any_file_is_a_gated_figure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    report(&root.join("data-samples/evaluation.toml"), &out);
    // The workbook's notes state the whole rule of `[c]`, as every table's note does.
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(out.join("report.xlsx")).unwrap();
    let notes = book.worksheet_range("Notes").unwrap();
    let rule = reoffending::report::disclosure::suppressed_note(10);
    assert!(
        notes
            .cells()
            .any(|(_, _, c)| *c == Data::String(rule.clone())),
        "{rule}"
    );
    let (n, bad) = untraced(&out);
    assert!(n > 2000, "{n} numbers read");
    assert!(
        bad.is_empty(),
        "numbers no published figure gives: {bad:#?}"
    );
}

/// A small evaluation: the sample's data cut to 30 pilot people (and their offences), at
/// `min_cell = 10`, so that many cells are suppressed.
fn small(dir: &Path, on: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cohort = std::fs::read_to_string(root.join("data-samples/cohort.csv")).unwrap();
    let mut lines = cohort.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let ci = cols.iter().position(|c| *c == "cohort").unwrap();
    let pi = cols.iter().position(|c| *c == "person_id").unwrap();
    let mut kept = vec![header.to_string()];
    let mut people = BTreeSet::new();
    let (mut pilot, mut other) = (0, 0);
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let take = if f[ci] == "divert" {
            pilot += 1;
            pilot <= 30
        } else {
            other += 1;
            other % 7 == 0
        };
        if take {
            people.insert(f[pi].to_string());
            kept.push(l.to_string());
        }
    }
    std::fs::write(dir.join("cohort.csv"), kept.join("\n") + "\n").unwrap();
    let offences = std::fs::read_to_string(root.join("data-samples/offences.csv")).unwrap();
    let mut lines = offences.lines();
    let header = lines.next().unwrap();
    let pi = header.split(',').position(|c| c == "person_id").unwrap();
    let mut kept = vec![header.to_string()];
    kept.extend(
        lines
            .filter(|l| people.contains(l.split(',').nth(pi).unwrap()))
            .map(str::to_string),
    );
    std::fs::write(dir.join("offences.csv"), kept.join("\n") + "\n").unwrap();
    for f in ["unit_costs.csv", "gdp_deflator.csv"] {
        std::fs::copy(root.join("data-samples").join(f), dir.join(f)).unwrap();
    }
    let eval = std::fs::read_to_string(root.join("data-samples/evaluation.toml")).unwrap();
    let switch = if on { "" } else { "disclosure = \"off\"\n" };
    let eval = eval.replacen("[report]\n", &format!("[report]\n{switch}"), 1);
    let path = dir.join(if on { "on.toml" } else { "off.toml" });
    std::fs::write(&path, eval).unwrap();
    path
}

/// Every `(path, value)` the gate suppressed: `[c]` in the published report where the same
/// report with control off has a number.
fn suppressed(published: &Value, truth: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match (published, truth) {
        (Value::Object(p), Value::Object(t)) => {
            for (k, x) in p {
                if let Some(y) = t.get(k) {
                    suppressed(x, y, &format!("{path}.{k}"), out);
                }
            }
        }
        (Value::Array(p), Value::Array(t)) => {
            for (i, (x, y)) in p.iter().zip(t).enumerate() {
                suppressed(x, y, &format!("{path}[{i}]"), out);
            }
        }
        (Value::String(s), Value::Number(n)) if s == "[c]" => {
            out.push((path.to_string(), n.as_f64().unwrap()));
        }
        _ => {}
    }
}

#[test]
fn on_a_small_data_set_no_file_publishes_a_number_the_gate_did_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let on = small(dir.path(), true);
    let off = small(dir.path(), false);
    let (out_on, out_off) = (dir.path().join("on"), dir.path().join("off"));
    report(&on, &out_on);
    report(&off, &out_off);
    let read = |p: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p.join("report.json")).unwrap()).unwrap()
    };
    let (published, truth) = (read(&out_on), read(&out_off));
    let mut hidden = Vec::new();
    suppressed(&published, &truth, "", &mut hidden);
    // The data set does what it is for: the gate withholds counts of a few people.
    let small_counts: Vec<_> = hidden
        .iter()
        .filter(|(_, v)| v.fract() == 0.0 && (1.0..10.0).contains(v))
        .collect();
    assert!(
        small_counts.len() >= 5,
        "only {} small counts suppressed: {hidden:?}",
        small_counts.len()
    );
    let (n, bad) = untraced(&out_on);
    assert!(n > 500, "{n} numbers read");
    assert!(
        bad.is_empty(),
        "numbers no published figure gives: {bad:#?}"
    );
    // No sentence quotes a suppressed count unless the same number is published beside it
    // (a figure of the sentence's own object).
    let mut said = Vec::new();
    sentences(&published, "", &mut said);
    let hidden_values: BTreeSet<i64> = small_counts.iter().map(|(_, v)| *v as i64).collect();
    for (path, s) in &said {
        let object = path.rsplit_once('.').map_or("", |(a, _)| a);
        let mut near = Vec::new();
        let mut v = &published;
        for part in object.split('.').filter(|p| !p.is_empty()) {
            let (key, index) = match part.split_once('[') {
                Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            v = &v[key];
            if let Some(i) = index {
                v = &v[i];
            }
        }
        numbers(v, &mut near);
        for t in tokens(s) {
            let quoted = t.value.fract() == 0.0 && hidden_values.contains(&(t.value as i64));
            assert!(
                !quoted || near.contains(&t.value) || CONSTANTS.contains(&t.value),
                "{path} quotes {} ({s}), the value of a suppressed count",
                t.text
            );
        }
    }
}
