//! Placebo in space: randomisation inference over the comparison areas (Abadie, Diamond
//! and Hainmueller's placebo logic; DOMAIN.md).

use serde::Serialize;

use super::engine::Model;
use super::{DidError, Panel, check_design, twfe_model};

/// One placebo: a comparison area treated as if it had launched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceboEstimate {
    /// The comparison area (index into the panel's launches).
    pub area: usize,
    /// Its two-way fixed effects estimate among the comparison areas.
    pub estimate: f64,
}

/// Where the real estimate ranks among the placebos.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceboInSpace {
    /// `(1 + #{|placebo| >= |actual|}) / (1 + placebos)`.
    pub p_value: f64,
    /// `1 + #{|placebo| >= |actual|}`: 1 when the real estimate is the most extreme.
    pub rank: usize,
    /// Placebos estimated (G_c when every comparison area could serve).
    pub areas: usize,
    /// The smallest p-value this many placebos allow, `1 / (1 + placebos)`: state it.
    pub min_p_value: f64,
    /// The real two-way fixed effects estimate.
    pub actual: f64,
    /// The launch period given to every placebo: the (earliest) treated launch.
    pub launch: i64,
    /// Every placebo estimate, by area.
    pub estimates: Vec<PlaceboEstimate>,
    /// Comparison areas that could not serve as a placebo (no people before or after the
    /// launch, or a period in which no other comparison area has people).
    pub skipped: Vec<usize>,
}

/// Placebo in space: drop the treated areas, treat each comparison area in turn as if it
/// had launched in the treated areas' launch period (the earliest, when launches differ),
/// and re-estimate β by two-way fixed effects (with the panel's covariates, if any) among
/// the comparison areas.
///
/// `p = (1 + #{|placebo| >= |actual|}) / (1 + placebos)`; its smallest possible value is
/// `1 / (1 + placebos)`, which a report must state. Matches a statsmodels refit per placebo
/// (tests/reference/did.py).
pub fn placebo_in_space(panel: &Panel) -> Result<PlaceboInSpace, DidError> {
    // Only the estimate is ranked: its standard error may be zero (a saturated design).
    let actual = twfe_model(panel)?.coefficients()?.0[0];
    // The model passed its design checks, so at least one treated area has a launch.
    let launch = panel
        .launches
        .iter()
        .flatten()
        .copied()
        .min()
        .ok_or(DidError::NoTreated)?;
    let comparison: Vec<usize> = (0..panel.cells.len())
        .filter(|&c| panel.launches[panel.cells[c].area].is_none())
        .collect();
    let mut areas: Vec<usize> = comparison.iter().map(|&c| panel.cells[c].area).collect();
    areas.dedup(); // cells are sorted by area
    let mut estimates = Vec::with_capacity(areas.len());
    let mut skipped = Vec::new();
    for &placebo in &areas {
        let as_if = |a: usize| (a == placebo).then_some(launch);
        let estimate = check_design(panel, &comparison, as_if).and_then(|()| {
            let model = Model::new(panel, comparison.clone(), 1, |cell, z| {
                z[0] = if cell.area == placebo && cell.period >= launch {
                    1.0
                } else {
                    0.0
                };
            });
            model.coefficients().map(|(b, _)| b[0])
        });
        match estimate {
            Ok(estimate) => estimates.push(PlaceboEstimate {
                area: placebo,
                estimate,
            }),
            Err(_) => skipped.push(placebo),
        }
    }
    if estimates.is_empty() {
        return Err(DidError::NoPlacebo);
    }
    let beyond = estimates
        .iter()
        .filter(|e| e.estimate.abs() >= actual.abs())
        .count();
    let n = estimates.len();
    Ok(PlaceboInSpace {
        p_value: (1 + beyond) as f64 / (1 + n) as f64,
        rank: 1 + beyond,
        areas: n,
        min_p_value: 1.0 / (1 + n) as f64,
        actual,
        launch,
        estimates,
        skipped,
    })
}
