//! People reduced to area x period cells: the sufficient statistics of a
//! difference-in-differences without covariates.

use serde::Serialize;

use super::{DidOptions, Launches};
use crate::data::{People, Values};
use crate::error::{Error, Result};
use crate::measure::Outcomes;
use crate::stats::did::AreaCovariates;

/// One area x period cell of people in the 12-month measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonCell {
    /// The area's label.
    pub area: String,
    /// The period's number ([`PeriodLength::of`](crate::did::PeriodLength::of)).
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
    /// Each person in the cells (index into [`People`], in increasing order) with the
    /// index of their cell in `cells`.
    pub members: Vec<(usize, usize)>,
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
    keep: Option<&[bool]>,
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
    let mut members: Vec<(usize, (u32, i32))> = Vec::new();
    for i in 0..people.len() {
        if !outcomes.eligible[i] || keep.is_some_and(|k| !k[i]) {
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
        members.push((i, (a, p)));
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
    let keys: Vec<(u32, i32)> = cells.keys().copied().collect();
    // Every member's key is in the map it was entered into.
    let members = members
        .into_iter()
        .map(|(i, key)| (i, keys.binary_search(&key).unwrap_or_default()))
        .collect();
    let cells: Vec<PersonCell> = cells.into_values().collect();
    let mut areas: Vec<String> = cells.iter().map(|c| c.area.clone()).collect();
    areas.dedup();
    Ok(Reduced {
        cells,
        mislabelled,
        areas,
        members,
    })
}

/// The covariate sums of a two-way fixed effects regression with person-level covariates:
/// Σx into every cell of `binary` and `frequency` (cells in the order of `reduced.cells`),
/// and each area's Σxx' with Σxy for the binary outcome and for reoffences. `design` holds
/// exactly the people of `reduced` (its rows in increasing order, as `reduced.members`).
pub(crate) fn covariate_sums(
    design: &crate::analysis::design::Design,
    reduced: &Reduced,
    outcomes: &Outcomes,
    areas: usize,
    binary: &mut [crate::stats::did::Cell],
    frequency: &mut [crate::stats::did::Cell],
) -> (Vec<AreaCovariates>, Vec<AreaCovariates>) {
    let k = design.columns.len();
    let blank = || AreaCovariates {
        xx: vec![0.0; k * k],
        xy: vec![0.0; k],
    };
    let (mut bin, mut freq) = (vec![blank(); areas], vec![blank(); areas]);
    for cell in binary.iter_mut().chain(frequency.iter_mut()) {
        cell.sum_x = vec![0.0; k];
    }
    let mut x = vec![0.0; k];
    // Both lists hold the same people in increasing order (the design was built on the
    // members, and the cells were reduced again to its rows when it left anyone out).
    for (r, &(i, c)) in reduced.members.iter().enumerate() {
        debug_assert_eq!(design.rows[r], i);
        for (j, col) in design.columns.iter().enumerate() {
            x[j] = col[r];
        }
        let a = binary[c].area;
        let y_freq = f64::from(outcomes.reoffences[i]);
        let y_bin = f64::from(u8::from(y_freq > 0.0));
        for j in 0..k {
            binary[c].sum_x[j] += x[j];
            frequency[c].sum_x[j] += x[j];
            bin[a].xy[j] += x[j] * y_bin;
            freq[a].xy[j] += x[j] * y_freq;
            for l in 0..k {
                bin[a].xx[j * k + l] += x[j] * x[l];
            }
        }
    }
    for (f, b) in freq.iter_mut().zip(&bin) {
        f.xx.clone_from(&b.xx);
    }
    (bin, freq)
}

/// Keeps the smallest row numbers (people are not in file order).
fn keep_first(rows: &mut Vec<u64>) {
    rows.sort_unstable();
    rows.truncate(crate::data::FIRST_ROWS_KEPT);
}
