//! Plain, validated columns: what the data layer hands to the rest of the crate.
//!
//! Nothing here knows polars. People are rows of [`People`]; their proven offences are
//! grouped by person in [`Offences`] (a compressed sparse row layout), so the measure can
//! scan each person's offences without a join.

use rayon::prelude::*;
use serde::Serialize;

use super::dates::Day;

/// The code used for a missing categorical value.
pub const MISSING: u32 = u32::MAX;

/// A dictionary-encoded text column: `codes[i]` indexes `levels`, or is [`MISSING`].
///
/// Levels are sorted, so codes do not depend on the order rows arrive in.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Categorical {
    /// The distinct values, sorted.
    pub levels: Vec<String>,
    /// One code a row.
    pub codes: Vec<u32>,
}

impl Categorical {
    /// The value of row `i`, or `None` if missing.
    pub fn get(&self, i: usize) -> Option<&str> {
        match self.codes.get(i) {
            Some(&c) if c != MISSING => self.levels.get(c as usize).map(String::as_str),
            _ => None,
        }
    }

    /// The code of `level`, if present.
    pub fn code_of(&self, level: &str) -> Option<u32> {
        self.levels
            .binary_search_by(|l| l.as_str().cmp(level))
            .ok()
            .map(|i| i as u32)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Builds a column from values, sorting the levels.
    pub fn from_values<'a, I: IntoIterator<Item = Option<&'a str>>>(values: I) -> Self {
        let mut map: std::collections::HashMap<&'a str, u32, foldhash::fast::FixedState> =
            Default::default();
        let mut levels: Vec<&'a str> = Vec::new();
        let codes: Vec<u32> = values
            .into_iter()
            .map(|v| match v {
                None => MISSING,
                Some(s) => *map.entry(s).or_insert_with(|| {
                    levels.push(s);
                    (levels.len() - 1) as u32
                }),
            })
            .collect();
        Self::sorted(levels.into_iter().map(str::to_string).collect(), codes)
    }

    /// Sorts `levels` and remaps `codes` to match.
    pub(crate) fn sorted(levels: Vec<String>, mut codes: Vec<u32>) -> Self {
        let mut order: Vec<usize> = (0..levels.len()).collect();
        order.sort_by(|&a, &b| levels[a].cmp(&levels[b]));
        let mut remap = vec![0u32; levels.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old] = new as u32;
        }
        codes.par_iter_mut().with_min_len(4096).for_each(|c| {
            if *c != MISSING {
                *c = remap[*c as usize];
            }
        });
        let mut levels = levels;
        let sorted_levels = order
            .iter()
            .map(|&i| std::mem::take(&mut levels[i]))
            .collect();
        Categorical {
            levels: sorted_levels,
            codes,
        }
    }

    /// Keeps the rows in `rows`, in that order.
    pub(crate) fn take(&self, rows: &[usize]) -> Self {
        Categorical {
            levels: self.levels.clone(),
            codes: rows.par_iter().map(|&r| self.codes[r]).collect(),
        }
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Values {
    /// Numbers (missing as `None`).
    Numeric(Vec<Option<f64>>),
    /// Text, dictionary encoded.
    Text(Categorical),
}

/// A named column of the cohort table beyond the required ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// The values, one a person.
    pub values: Values,
}

impl Column {
    /// Keeps the rows in `rows`, in that order.
    pub(crate) fn take(&self, rows: &[usize]) -> Self {
        let values = match &self.values {
            Values::Numeric(v) => Values::Numeric(rows.par_iter().map(|&r| v[r]).collect()),
            Values::Text(c) => Values::Text(c.take(rows)),
        };
        Column {
            name: self.name.clone(),
            values,
        }
    }
}

/// The people kept for analysis: one row a person, at their first index event.
///
/// Person identifiers are not kept: `key` is a stable 64-bit hash of the identifier, used
/// only to break ties deterministically (e.g. in matching) whatever order rows arrive in.
#[derive(Debug, Clone, Default)]
pub struct People {
    /// The group label of each person (`divert`, `comparison`, ...).
    pub cohort: Categorical,
    /// The index date (start of follow-up).
    pub index_day: Vec<Day>,
    /// A stable hash of the person identifier.
    pub key: Vec<u64>,
    /// The 1-based data row of the cohort file the person was taken from.
    pub source_row: Vec<u64>,
    /// Other columns of the cohort file (`sex`, `age_at_index`, ... and any extra), plus
    /// `prior_offences` counted from the offences table when the file has no such column
    /// and the load asks for every column or for it ([`crate::ColumnSelection`]).
    pub columns: Vec<Column>,
}

impl People {
    /// Number of people.
    pub fn len(&self) -> usize {
        self.index_day.len()
    }

    /// True when there is no one.
    pub fn is_empty(&self) -> bool {
        self.index_day.is_empty()
    }

    /// The column called `name`, if loaded.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Proven offences of the people kept, grouped by person.
///
/// Person `i`'s offences are rows `start[i]..start[i + 1]`, sorted by offence date, then
/// disposal date, then file row. Exact duplicates have been removed.
#[derive(Debug, Clone, Default)]
pub struct Offences {
    /// Offsets into the other vectors, one more than there are people.
    pub start: Vec<usize>,
    /// Date the offence was committed.
    pub offence_day: Vec<Day>,
    /// Date the offence was proven (conviction or caution).
    pub disposal_day: Vec<Day>,
    /// `offence_type`, if the file has it.
    pub offence_type: Option<Categorical>,
    /// `disposal`, if the file has it.
    pub disposal: Option<Categorical>,
}

impl Offences {
    /// The row range of person `i`.
    #[inline]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.start[i]..self.start[i + 1]
    }

    /// Number of offence rows.
    pub fn len(&self) -> usize {
        self.offence_day.len()
    }

    /// True when there are no offences.
    pub fn is_empty(&self) -> bool {
        self.offence_day.is_empty()
    }
}
