//! Plain tables: how every result prints in a terminal and exports as CSV.
//!
//! Result types build a [`Table`]; the terminal view aligns it, the CSV view quotes it.

use std::fmt;

// The number and text formats the analyses' sentences share live one layer down, in
// `format`; the tables use them from here.
pub use crate::format::{Kind, interval, level, num, pct, pval, terminal_text};

/// Alignment of a column in the terminal view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A titled table of text cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// A title stating what the table shows.
    pub title: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Column alignment (defaults to right for all but the first key columns).
    pub align: Vec<Align>,
    /// Rows of cells (missing values as empty text in CSV, `-` on screen).
    pub rows: Vec<Vec<Option<String>>>,
    /// Notes printed under the table.
    pub notes: Vec<String>,
}

impl Table {
    /// A table with these columns; the first `keys` are left-aligned.
    pub fn new(title: impl Into<String>, columns: &[&str], keys: usize) -> Table {
        Table {
            title: title.into(),
            columns: columns.iter().map(|s| s.to_string()).collect(),
            align: (0..columns.len())
                .map(|i| if i < keys { Align::Left } else { Align::Right })
                .collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<Option<String>>) {
        self.rows.push(row);
    }

    /// The table as CSV (header row, then rows; missing values empty).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(self.columns.iter().map(|c| csv_cell(c).into_owned()));
        for r in &self.rows {
            let _ = w.write_record(
                r.iter()
                    .map(|c| csv_cell(c.as_deref().unwrap_or("")).into_owned()),
            );
        }
        let _ = w.flush();
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// A CSV cell that a spreadsheet will not run as a formula: text beginning with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (the Government Analysis Function's
/// and OWASP's advice); plain numbers, negative ones included, stay numbers.
/// Control characters (but the line break) and bidirectional overrides are removed.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(|c| c != '\n' && crate::unsafe_char(c)) {
        return std::borrow::Cow::Owned(csv_cell(&crate::without_unsafe(s, &['\n'])).into_owned());
    }
    let risky = s
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && s.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A Markdown table cell: `|` escaped and line breaks folded, so a label cannot break the row.
pub fn markdown_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cell = |c: &Option<String>| {
            c.as_deref()
                .map(terminal_text)
                .unwrap_or_else(|| "-".into())
        };
        let columns: Vec<String> = self.columns.iter().map(|c| terminal_text(c)).collect();
        let mut width: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < width.len() {
                    width[i] = width[i].max(cell(c).chars().count());
                }
            }
        }
        if !self.title.is_empty() {
            writeln!(f, "{}", terminal_text(&self.title))?;
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: Vec<String>| -> fmt::Result {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = width[i].saturating_sub(c.chars().count());
                match self.align.get(i).copied().unwrap_or(Align::Right) {
                    Align::Left => {
                        s.push_str(c);
                        s.push_str(&" ".repeat(pad));
                    }
                    Align::Right => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                }
            }
            writeln!(f, "{}", s.trim_end())
        };
        line(f, columns)?;
        let total: usize = width.iter().sum::<usize>() + 2 * width.len().saturating_sub(1);
        writeln!(f, "{}", "-".repeat(total))?;
        for r in &self.rows {
            line(f, r.iter().map(cell).collect())?;
        }
        for n in &self.notes {
            writeln!(f, "{}", terminal_text(n))?;
        }
        Ok(())
    }
}

/// A count: [`Kind::Count`].
pub fn count(x: u64) -> Option<String> {
    Some(Kind::Count.show(x as f64))
}
