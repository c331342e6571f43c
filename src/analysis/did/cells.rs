//! People reduced to area x period cells: the sufficient statistics of a
//! difference-in-differences without covariates.

use serde::Serialize;

use super::{DidOptions, Launches};
use crate::data::{People, Values};
use crate::error::{Error, Result};
use crate::measure::Outcomes;

/// One area x period cell of people in the 12-month measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonCell {
    /// The area's label.
    pub area: String,
    /// The period's number ([`PeriodLength::of`]).
    #[serde(skip)]
    pub period_index: i32,
    /// The period's label.
    pub period: String,
    /// People in the measure.
    pub people: u64,
    /// Of them, people with a proven reoffence.
    pub reoffenders: u64,
    /// Their proven reoffences.
    pub reoffences: u64,
    /// The sum of their squared reoffence counts (the frequency outcome's Σy²).
    #[serde(skip)]
    pub reoffences_squared: u64,
    /// Whether the cell is treated (a treated area on or after its launch).
    pub treated: bool,
}

/// People whose cohort label contradicts the area-and-date definition of treatment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mislabelled {
    /// How many.
    pub rows: u64,
    /// Their first data rows in the cohort file (1-based, at most ten).
    pub first_rows: Vec<u64>,
}

/// The cells of a person-level evaluation, with the people whose label contradicts the
/// definition.
pub(crate) struct Reduced {
    pub cells: Vec<PersonCell>,
    pub mislabelled: Mislabelled,
    pub areas: Vec<String>,
}

/// Reduces the people in the 12-month measure of the areas in the design to area x period
/// cells. A person is treated when in a treated area with index date on or after that area's
/// launch; people labelled with the pilot cohort who are not treated by that definition (or
/// treated people labelled otherwise) are counted in [`Mislabelled`], not re-labelled.
pub(crate) fn reduce(
    people: &People,
    outcomes: &Outcomes,
    options: &DidOptions,
    launches: &Launches,
) -> Result<Reduced> {
    let column = people.column(&options.area_column).ok_or_else(|| {
        Error::option(
            "area_column",
            format!(
                "no column `{}` in the cohort table: name the column that holds each person's area",
                options.area_column
            ),
        )
    })?;
    let Values::Text(area) = &column.values else {
        return Err(Error::option(
            "area_column",
            format!("`{}` holds numbers, not area labels", options.area_column),
        ));
    };
    let in_design: Vec<bool> = area
        .levels
        .iter()
        .map(|a| {
            launches.of(a).is_some()
                || (options.comparison_areas.is_empty()
                    || options.comparison_areas.iter().any(|c| c == a))
        })
        .collect();
    let launch_of: Vec<Option<i32>> = area.levels.iter().map(|a| launches.of(a)).collect();
    let treatment = people.cohort.code_of(&options.treatment);
    let len = options.period;
    let mut cells: std::collections::BTreeMap<(u32, i32), PersonCell> = Default::default();
    let mut mislabelled = Mislabelled::default();
    for i in 0..people.len() {
        if !outcomes.eligible[i] {
            continue;
        }
        let a = area.codes[i];
        if a == crate::data::MISSING || !in_design[a as usize] {
            continue;
        }
        let day = people.index_day[i];
        let treated = launch_of[a as usize].is_some_and(|l| day >= l);
        let labelled = treatment.is_some_and(|t| people.cohort.codes[i] == t);
        if labelled != treated {
            mislabelled.rows += 1;
            mislabelled.first_rows.push(people.source_row[i]);
            if mislabelled.first_rows.len() > 64 * crate::data::FIRST_ROWS_KEPT {
                keep_first(&mut mislabelled.first_rows);
            }
        }
        let p = len.of(day);
        let y = u64::from(outcomes.reoffences[i]);
        let c = cells.entry((a, p)).or_insert_with(|| PersonCell {
            area: area.levels[a as usize].clone(),
            period_index: p,
            period: len.label(p),
            people: 0,
            reoffenders: 0,
            reoffences: 0,
            reoffences_squared: 0,
            treated: false,
        });
        c.people += 1;
        c.reoffenders += u64::from(y > 0);
        c.reoffences += y;
        c.reoffences_squared += y * y;
        // A cell is treated when its area is, from the launch's period on; a launch part-way
        // through a period makes that period's cell mixed, and it counts as treated when
        // anyone in it is (relative period 0).
        c.treated |= treated;
    }
    keep_first(&mut mislabelled.first_rows);
    let cells: Vec<PersonCell> = cells.into_values().collect();
    let mut areas: Vec<String> = cells.iter().map(|c| c.area.clone()).collect();
    areas.dedup();
    Ok(Reduced {
        cells,
        mislabelled,
        areas,
    })
}

/// Keeps the smallest row numbers (people are not in file order).
fn keep_first(rows: &mut Vec<u64>) {
    rows.sort_unstable();
    rows.truncate(crate::data::FIRST_ROWS_KEPT);
}
