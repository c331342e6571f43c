//! Synthetic extracts in the contract's format, for demonstrations, tests and benchmarks.
//!
//! A pilot cohort (`divert`) and a larger comparison group with overlapping but different
//! profiles; prior offending; repeat reoffending with a modest true effect of the pilot;
//! many offence types; people indexed close to the extract date (incomplete follow-up);
//! offences of people outside the cohort; and a sprinkling of the data problems real
//! extracts have (exact duplicates, repeat index events, missing dates).
//!
//! Generation is chunked and deterministic: the same seed gives the same files whatever
//! the number of threads. In person order memory stays bounded at any size; date order holds
//! every offence row until the last person is drawn, at 24 bytes a row (for 10 million people
//! with `history` 4, 163.5 million rows: 3.9 GB, and half as much again while sorting).

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};
use rayon::prelude::*;
use serde::Serialize;

use crate::data::dates::{Day, parse_iso};
use crate::data::{TableWriter, WriteColumn};
use crate::error::{Error, Result};

/// Options for [`generate`].
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of people in the cohort table.
    pub persons: u64,
    /// Random seed.
    pub seed: u64,
    /// Share of people in the pilot cohort. Default 0.2.
    pub pilot_share: f64,
    /// The extract date: nothing is disposed of after it. Default 2023-03-31.
    pub extract_date: Day,
    /// Row order of the offences table. Default: by offence date, as police and court
    /// extracts arrive (each person's rows scattered through the file).
    pub order: OffenceOrder,
    /// How much longer criminal histories are than by default: multiplies each person's
    /// expected number of prior offences and the longest career they are spread over
    /// (8 years by default; never before age 10). Default 1; 4 gives about 3.5 times the
    /// offence rows, for testing how loading grows with an extract's history.
    pub history: f64,
    /// An area-wide pilot among police forces (for difference-in-differences and synthetic
    /// designs): `None` (the default) generates the classic sample, a pilot cohort against
    /// comparison people of five neighbouring forces, all indexed from 2020.
    pub forces: Option<ForcePanel>,
}

/// An area-wide pilot: one force (`West Midlands`, holding the pilot share of people) adopts
/// the scheme for everyone from the launch date; people of every force are indexed from
/// `study_start`, so the pilot force has people before launch (cohort `comparison`) and after
/// (cohort `divert`). Everyone has the
/// same covariate profile; each force has its own level of reoffending, every force shares
/// the same shock in the court-backlog year (April 2020 to March 2021), and the scheme
/// changes the log-odds of reoffending by `effect`. The cohort gains a `force` column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForcePanel {
    /// Number of forces, the pilot force included (2 to 43). Default 24.
    pub forces: usize,
    /// The launch date. Default 2020-10-01.
    pub launch: Day,
    /// First index date. Default 2018-10-01.
    pub study_start: Day,
    /// The scheme's effect on the log-odds of reoffending. Default -0.35.
    pub effect: f64,
}

impl Default for ForcePanel {
    fn default() -> Self {
        ForcePanel {
            forces: 24,
            launch: parse_iso("2020-10-01").unwrap_or(18536),
            study_start: parse_iso("2018-10-01").unwrap_or(17805),
            effect: -0.35,
        }
    }
}

/// The pilot force of a [`ForcePanel`].
pub const PILOT_FORCE: &str = "West Midlands";

/// The other police forces of England and Wales, in the order a panel takes them.
const OTHER_FORCES: [&str; 42] = [
    "Staffordshire",
    "West Mercia",
    "Warwickshire",
    "Nottinghamshire",
    "Leicestershire",
    "Derbyshire",
    "Northamptonshire",
    "Greater Manchester",
    "West Yorkshire",
    "Merseyside",
    "Lancashire",
    "South Yorkshire",
    "Northumbria",
    "Avon and Somerset",
    "Kent",
    "Essex",
    "Hampshire",
    "Thames Valley",
    "Sussex",
    "Devon and Cornwall",
    "Surrey",
    "Hertfordshire",
    "Cheshire",
    "Humberside",
    "Cleveland",
    "Durham",
    "Cumbria",
    "North Yorkshire",
    "Lincolnshire",
    "Norfolk",
    "Suffolk",
    "Cambridgeshire",
    "Bedfordshire",
    "Gloucestershire",
    "Wiltshire",
    "Dorset",
    "South Wales",
    "Gwent",
    "Dyfed-Powys",
    "North Wales",
    "City of London",
    "Metropolitan Police",
];

/// A force's own level of reoffending (log-odds), fixed by its place in the list: spread
/// evenly over -0.3 to 0.3 in a shuffled order, so neighbours in the list differ.
fn force_level(k: usize, forces: usize) -> f64 {
    if forces < 2 {
        return 0.0;
    }
    let spot = (k * 7 + 3) % forces;
    -0.3 + 0.6 * spot as f64 / (forces - 1) as f64
}

/// Row order of a generated offences table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffenceOrder {
    /// By offence date (rows without one first), ties in generation order: like a real
    /// extract.
    #[default]
    OffenceDate,
    /// Grouped by person, in cohort order (as generated): convenient for tests.
    Person,
}

impl GenerateOptions {
    /// Defaults for `persons` people and `seed`.
    pub fn new(persons: u64, seed: u64) -> Self {
        GenerateOptions {
            persons,
            seed,
            pilot_share: 0.2,
            extract_date: parse_iso("2023-03-31").unwrap_or(19447),
            order: OffenceOrder::default(),
            history: 1.0,
            forces: None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    /// The cohort file.
    pub cohort: PathBuf,
    /// The offences file.
    pub offences: PathBuf,
    /// Cohort rows written.
    pub cohort_rows: u64,
    /// Offence rows written.
    pub offence_rows: u64,
    /// The seed.
    pub seed: u64,
}

const CHUNK: u64 = 20_000;

const PILOT_AREAS: [&str; 7] = [
    "Birmingham",
    "Coventry",
    "Dudley",
    "Sandwell",
    "Solihull",
    "Walsall",
    "Wolverhampton",
];
const COMPARISON_AREAS: [&str; 5] = [
    "Staffordshire",
    "West Mercia",
    "Warwickshire",
    "Nottinghamshire",
    "Leicestershire",
];
const ETHNICITY: [&str; 5] = ["Asian", "Black", "Mixed", "Other", "White"];
const ETH_PILOT: [f64; 5] = [0.20, 0.13, 0.07, 0.04, 0.56];
const ETH_COMPARISON: [f64; 5] = [0.12, 0.08, 0.05, 0.03, 0.72];
const INDEX_OFFENCES: [&str; 3] = [
    "possession_cannabis",
    "possession_class_a",
    "possession_other",
];
const OFFENCE_TYPES: [(&str, f64); 15] = [
    ("theft_shoplifting", 0.22),
    ("possession_drugs", 0.18),
    ("violence_without_injury", 0.12),
    ("violence_with_injury", 0.08),
    ("public_order", 0.08),
    ("criminal_damage", 0.07),
    ("burglary", 0.05),
    ("supply_drugs", 0.04),
    ("theft_from_vehicle", 0.04),
    ("fraud", 0.03),
    ("breach", 0.03),
    ("vehicle_theft", 0.03),
    ("robbery", 0.02),
    ("other_sexual_offences", 0.005),
    ("arson", 0.005),
];

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str], weights: &[f64]) -> &'a str {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (item, w) in items.iter().zip(weights) {
        if u < *w {
            return item;
        }
        u -= w;
    }
    items[items.len() - 1]
}

/// `possession_drugs` in [`OFFENCE_TYPES`].
const POSSESSION_DRUGS: u8 = 1;
const _: () = assert!(matches!(
    OFFENCE_TYPES[POSSESSION_DRUGS as usize].0.as_bytes(),
    b"possession_drugs"
));
const DISPOSALS: [&str; 3] = ["custody", "caution", "conviction"];
const CAUTION: u8 = 1;
const CONVICTION: u8 = 2;
const _: () = assert!(
    matches!(DISPOSALS[CAUTION as usize].as_bytes(), b"caution")
        && matches!(DISPOSALS[CONVICTION as usize].as_bytes(), b"conviction")
);

/// An offence type, as its place in [`OFFENCE_TYPES`].
fn offence_type(rng: &mut ChaCha8Rng) -> u8 {
    let mut u = rng.random::<f64>();
    for (k, (_, w)) in OFFENCE_TYPES.iter().enumerate() {
        if u < *w {
            return k as u8;
        }
        u -= w;
    }
    0
}

/// A disposal for an offence of type `kind`, as its place in [`DISPOSALS`].
fn disposal(rng: &mut ChaCha8Rng, kind: u8) -> u8 {
    let custody = match OFFENCE_TYPES[kind as usize].0 {
        "robbery" | "burglary" | "violence_with_injury" | "supply_drugs" => 0.3,
        "arson" | "other_sexual_offences" => 0.35,
        _ => 0.08,
    };
    let u = rng.random::<f64>();
    if u < custody {
        0
    } else if u < custody + 0.3 {
        CAUTION
    } else {
        CONVICTION
    }
}

/// One generated offence row. Rows are kept compact (24 bytes) and their text is made only when
/// they are written, so that date order, which holds every row until the last person is drawn,
/// fits in memory at national scale (3.9 GB for 163.5 million rows).
#[derive(Debug, Clone, Copy)]
struct OffenceRow {
    /// The number in the person's identifier.
    number: u64,
    /// `X` identifiers (people outside the cohort) rather than `P`.
    outsider: bool,
    offence: Day,
    disposal: Option<Day>,
    /// Place in [`OFFENCE_TYPES`].
    offence_type: u8,
    /// Place in [`DISPOSALS`].
    disposal_kind: u8,
}

/// The offences table's columns for `rows`.
fn offence_columns(rows: &[OffenceRow]) -> [WriteColumn; 5] {
    let id = |r: &OffenceRow| format!("{}{:09}", if r.outsider { 'X' } else { 'P' }, r.number);
    [
        WriteColumn::Text(rows.iter().map(|r| Some(id(r))).collect()),
        WriteColumn::Date(rows.iter().map(|r| Some(r.offence)).collect()),
        WriteColumn::Date(rows.iter().map(|r| r.disposal).collect()),
        WriteColumn::Text(
            rows.iter()
                .map(|r| Some(OFFENCE_TYPES[r.offence_type as usize].0.to_string()))
                .collect(),
        ),
        WriteColumn::Text(
            rows.iter()
                .map(|r| Some(DISPOSALS[r.disposal_kind as usize].to_string()))
                .collect(),
        ),
    ]
}

#[derive(Default)]
struct Batch {
    c_id: Vec<Option<String>>,
    c_cohort: Vec<Option<String>>,
    c_index: Vec<Option<Day>>,
    c_sex: Vec<Option<String>>,
    c_age: Vec<Option<i64>>,
    c_eth: Vec<Option<String>>,
    c_area: Vec<Option<String>>,
    c_index_offence: Vec<Option<String>>,
    c_force: Vec<Option<String>>,
    offences: Vec<OffenceRow>,
}

impl Batch {
    /// An offence of cohort member number `person` (the `P` identifiers).
    fn offence(&mut self, person: u64, o: Day, d: Option<Day>, t: u8, k: u8) {
        self.offences.push(OffenceRow {
            number: person,
            outsider: false,
            offence: o,
            disposal: d,
            offence_type: t,
            disposal_kind: k,
        });
    }
}

// Over 80 lines: the generator's model of one chunk of people, drawn in one sequence so that the
// same seed gives the same people; splitting it would spread the draws' order over several
// functions.
#[allow(clippy::too_many_lines)]
fn chunk(opts: &GenerateOptions, c: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    rng.set_stream(c);
    let first = c * CHUNK;
    let last = ((c + 1) * CHUNK).min(opts.persons);
    let extract = opts.extract_date;
    let pilot_start = parse_iso("2020-10-01").unwrap_or(18536);
    let comparison_start = parse_iso("2020-04-01").unwrap_or(18353);
    let index_end = extract - 182;
    // Distribution parameters are constants, so construction cannot fail.
    let lag = LogNormal::new(45f64.ln(), 0.9).expect("valid log-normal");
    let mut b = Batch::default();
    for p in first..last {
        let person = p + 1;
        let id = format!("P{person:09}");
        let mut pilot = rng.random::<f64>() < opts.pilot_share;
        // With a force panel, everyone shares one profile (so that the pilot force's people
        // before and after launch are alike) and belongs to a force.
        // The pilot share is the pilot force's share of people (before and after launch).
        let panel = opts.forces.map(|f| {
            let force = if pilot {
                0
            } else {
                rng.random_range(1..f.forces)
            };
            (f, force)
        });
        let profile_pilot = pilot && panel.is_none();
        let male = rng.random::<f64>() < if profile_pilot { 0.84 } else { 0.87 };
        let age_shape: f64 = if profile_pilot { 2.2 } else { 2.6 };
        // Shape 2.2 or 2.6 and scale 7 are valid constants: construction cannot fail.
        let age: f64 = 12.0
            + Gamma::new(age_shape, 7.0f64)
                .expect("valid gamma")
                .sample(&mut rng)
                .min(70.0);
        let age = age.floor() as i64;
        let eth = if rng.random::<f64>() < 0.01 {
            None
        } else {
            Some(pick(
                &mut rng,
                &ETHNICITY,
                if profile_pilot {
                    &ETH_PILOT
                } else {
                    &ETH_COMPARISON
                },
            ))
        };
        let area = match panel {
            Some((_, 0)) => PILOT_AREAS[rng.random_range(0..PILOT_AREAS.len())],
            Some((_, k)) => OTHER_FORCES[k - 1],
            None if pilot => PILOT_AREAS[rng.random_range(0..PILOT_AREAS.len())],
            None => COMPARISON_AREAS[rng.random_range(0..COMPARISON_AREAS.len())],
        };
        let idx_off = pick(
            &mut rng,
            &INDEX_OFFENCES,
            if profile_pilot {
                &[0.7, 0.14, 0.16]
            } else {
                &[0.6, 0.22, 0.18]
            },
        );
        let index = match panel {
            Some((f, force)) => {
                let index = rng.random_range(f.study_start..=index_end.max(f.study_start));
                // The pilot force: from launch on, everyone is diverted.
                pilot = force == 0 && index >= f.launch;
                index
            }
            None => {
                let start = if pilot { pilot_start } else { comparison_start };
                rng.random_range(start..=index_end)
            }
        };
        b.c_id.push(Some(id.clone()));
        b.c_cohort
            .push(Some(if pilot { "divert" } else { "comparison" }.into()));
        b.c_index.push(Some(index));
        b.c_sex.push(Some(if male { "M" } else { "F" }.into()));
        b.c_age.push(Some(age));
        b.c_eth.push(eth.map(str::to_string));
        b.c_area.push(Some(area.into()));
        b.c_index_offence.push(Some(idx_off.into()));
        let force_name = panel.map(|(_, k)| {
            if k == 0 {
                PILOT_FORCE
            } else {
                OTHER_FORCES[k - 1]
            }
        });
        b.c_force.push(force_name.map(str::to_string));
        // A few repeat index events (a later diversion or caution of the same person).
        if rng.random::<f64>() < 0.003 {
            let later = (index + rng.random_range(30..300)).min(index_end);
            b.c_id.push(Some(id.clone()));
            b.c_cohort
                .push(Some(if pilot { "divert" } else { "comparison" }.into()));
            b.c_index.push(Some(later));
            b.c_sex.push(Some(if male { "M" } else { "F" }.into()));
            b.c_age.push(Some(age));
            b.c_eth.push(eth.map(str::to_string));
            b.c_area.push(Some(area.into()));
            b.c_index_offence.push(Some(idx_off.into()));
            b.c_force.push(force_name.map(str::to_string));
        }

        // Prior offending: over-dispersed counts, more for older people and the comparison group.
        let mean_prior = (2.6f64 + 0.06 * (age as f64 - 18.0)).max(0.3)
            * if profile_pilot { 0.85 } else { 1.2 }
            * opts.history;
        // mean_prior >= 0.3 * 0.85 * 0.1 > 0 (history is checked), so shape 0.8 and this
        // scale are valid.
        let lambda = Gamma::new(0.8, mean_prior / 0.8)
            .expect("valid gamma")
            .sample(&mut rng);
        let priors = if lambda > 0.0 {
            Poisson::new(lambda).map_or(0.0, |d| d.sample(&mut rng)) as i64
        } else {
            0
        };
        let longest = (8.0 * 365.0 * opts.history).round() as i64;
        let career = ((age - 10).max(1) * 365).min(longest.max(1)) as i32;
        for _ in 0..priors {
            let o = index - rng.random_range(1..=career);
            let t = offence_type(&mut rng);
            let d = (o + lag.sample(&mut rng).round() as i32)
                .min(index - 1)
                .max(o);
            b.offence(person, o, Some(d), t, disposal(&mut rng, t));
        }
        // The comparison group's index caution often appears as a proven offence.
        if !pilot && rng.random::<f64>() < 0.5 {
            let o = index - rng.random_range(1..60);
            b.offence(person, o, Some(index), POSSESSION_DRUGS, CAUTION);
        }
        // An offence on the index date itself (not a reoffence by default).
        if rng.random::<f64>() < 0.01 {
            let d = index + lag.sample(&mut rng).round() as i32;
            if d <= extract {
                b.offence(person, index, Some(d), POSSESSION_DRUGS, CONVICTION);
            }
        }

        // Reoffending: a logistic model with a modest effect of the pilot.
        let x = -1.45 + 0.3 * (1.0 + priors as f64).ln() + if male { 0.3 } else { 0.0 }
            - 0.025 * (age as f64 - 25.0)
            + if idx_off == "possession_class_a" {
                0.4
            } else {
                0.0
            }
            + match panel {
                Some((f, force)) => {
                    let backlog = (parse_iso("2020-04-01").unwrap_or(18353)
                        ..parse_iso("2021-04-01").unwrap_or(18718))
                        .contains(&index);
                    force_level(force, f.forces)
                        + if backlog { -0.25 } else { 0.0 }
                        + if pilot { f.effect } else { 0.0 }
                }
                None if pilot => -0.35,
                None => 0.0,
            };
        let p = 1.0 / (1.0 + (-x).exp());
        if rng.random::<f64>() < p {
            let first = (365.0 * rng.random::<f64>().powf(1.4)).ceil().max(1.0) as i32;
            let more = Poisson::new(0.7 + 0.3 * (1.0 + priors as f64).ln())
                .map_or(0.0, |d| d.sample(&mut rng)) as i32;
            let mut day = first;
            for k in 0..=more {
                if k > 0 {
                    day += 1 + (rng.random::<f64>() * 120.0) as i32;
                }
                let o = index + day;
                let t = offence_type(&mut rng);
                let d = o + lag.sample(&mut rng).round() as i32;
                if o <= extract && d <= extract {
                    b.offence(person, o, Some(d), t, disposal(&mut rng, t));
                }
            }
        } else if rng.random::<f64>() < 0.15 {
            // Offending after the follow-up year.
            let o = index + rng.random_range(366..900);
            let t = offence_type(&mut rng);
            let d = o + lag.sample(&mut rng).round() as i32;
            if d <= extract {
                b.offence(person, o, Some(d), t, disposal(&mut rng, t));
            }
        }
    }
    // Data problems: exact duplicates and missing disposal dates.
    let n = b.offences.len();
    for i in 0..n {
        let u = rng.random::<f64>();
        if u < 0.003 {
            b.offences.push(b.offences[i]);
        } else if u < 0.0035 {
            b.offences[i].disposal = None;
        }
    }
    // Offences of people outside the cohort (2% of rows).
    for _ in 0..(n / 50) {
        let number = rng.random_range(1..=opts.persons.max(1) * 10);
        let o = rng.random_range(comparison_start - 2000..extract - 30);
        let t = offence_type(&mut rng);
        let d = (o + lag.sample(&mut rng).round() as i32).min(extract);
        b.offences.push(OffenceRow {
            number,
            outsider: true,
            offence: o,
            disposal: Some(d),
            offence_type: t,
            disposal_kind: disposal(&mut rng, t),
        });
    }
    b
}

/// Writes a synthetic cohort table and offences table.
///
/// The format follows the file names (`.csv`, `.csv.gz`, `.parquet`).
// Over 80 lines: writes the two tables chunk by chunk in the order of the seed.
pub fn generate(opts: &GenerateOptions, cohort: &Path, offences: &Path) -> Result<GenerateSummary> {
    if !(0.0..=1.0).contains(&opts.pilot_share) {
        return Err(Error::option("pilot_share", "must be between 0 and 1"));
    }
    if !(opts.history.is_finite() && (0.1..=100.0).contains(&opts.history)) {
        return Err(Error::option("history", "must be between 0.1 and 100"));
    }
    if let Some(f) = &opts.forces {
        if !(2..=OTHER_FORCES.len() + 1).contains(&f.forces) {
            return Err(Error::option(
                "forces",
                format!("must be between 2 and {}", OTHER_FORCES.len() + 1),
            ));
        }
        if !f.effect.is_finite() || f.launch <= f.study_start {
            return Err(Error::option(
                "forces",
                "the effect must be a number and the launch after the study's start",
            ));
        }
    }
    let mut names = vec![
        "person_id",
        "cohort",
        "index_date",
        "sex",
        "age_at_index",
        "ethnicity",
        "area",
        "index_offence",
    ];
    if opts.forces.is_some() {
        names.push("force");
    }
    let mut cw = TableWriter::create(cohort, &names)?;
    let mut ow = TableWriter::create(
        offences,
        &[
            "person_id",
            "offence_date",
            "disposal_date",
            "offence_type",
            "disposal",
        ],
    )?;
    let chunks = opts.persons.div_ceil(CHUNK);
    let window = (rayon::current_num_threads() as u64 * 2).max(2);
    let by_date = opts.order == OffenceOrder::OffenceDate;
    // Date order needs every offence row before the first is written.
    let mut all: Vec<OffenceRow> = Vec::new();
    let mut c = 0;
    while c < chunks {
        let upto = (c + window).min(chunks);
        let batches: Vec<Batch> = (c..upto).into_par_iter().map(|k| chunk(opts, k)).collect();
        for b in batches {
            let mut columns = vec![
                WriteColumn::Text(b.c_id),
                WriteColumn::Text(b.c_cohort),
                WriteColumn::Date(b.c_index),
                WriteColumn::Text(b.c_sex),
                WriteColumn::Int(b.c_age),
                WriteColumn::Text(b.c_eth),
                WriteColumn::Text(b.c_area),
                WriteColumn::Text(b.c_index_offence),
            ];
            if opts.forces.is_some() {
                columns.push(WriteColumn::Text(b.c_force));
            }
            cw.write(&columns)?;
            if by_date {
                all.extend(b.offences);
            } else {
                ow.write(&offence_columns(&b.offences))?;
            }
        }
        c = upto;
    }
    if by_date {
        // A stable sort on the offence date keeps the output deterministic.
        all.sort_by_key(|r| r.offence);
        for rows in all.chunks(CHUNK as usize * 4) {
            ow.write(&offence_columns(rows))?;
        }
    }
    let cohort_rows = cw.finish()?;
    let offence_rows = ow.finish()?;
    Ok(GenerateSummary {
        cohort: cohort.to_path_buf(),
        offences: offences.to_path_buf(),
        cohort_rows,
        offence_rows,
        seed: opts.seed,
    })
}
