//! Cost-benefit of the pilot: avoided proven reoffences valued by offence type in one
//! price year, plus savings and costs per diversion, discounted over a horizon, with
//! seeded Monte Carlo uncertainty and a one-way sensitivity (tornado) table.
//!
//! Every figure comes from a table row or a configured item carrying its price year and
//! source; [`CostBenefit::items`] traces each one.

mod tables;

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use statrs::distribution::Triangular;

pub use tables::{Deflator, UnitCost, UnitCosts};

use crate::compare::Comparison;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::format::pounds;
use crate::measure::{Outcomes, Window};

/// How the effect on reoffending is turned into avoided reoffences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EffectBasis {
    /// Difference in proven reoffences per person (comparison minus pilot). Default.
    #[default]
    Frequency,
    /// Difference in the 12-month rate times the comparison group's reoffences per reoffender.
    Rate,
}

/// A saving or cost per person diverted, e.g. police officer time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// What it is.
    pub name: String,
    /// `saving` (a benefit) or `cost`.
    pub kind: ItemKind,
    /// Units per person (e.g. 4 officer hours). Default 1.
    #[serde(default = "one")]
    pub quantity: f64,
    /// Cost of one unit, in `price_year` prices.
    pub unit_cost: f64,
    /// Lowest plausible unit cost (default: `unit_cost`).
    pub low: Option<f64>,
    /// Highest plausible unit cost (default: `unit_cost`).
    pub high: Option<f64>,
    /// Price year of `unit_cost`.
    pub price_year: i32,
    /// Where the figure comes from.
    pub source: String,
    /// What kind of money: `cashable_fiscal` (a budget that can actually be released),
    /// `non_cashable_fiscal` (e.g. officer time freed for other work) or
    /// `economic_and_social`. Default: cashable for a cost (money spent), non-cashable for a
    /// saving (claim cash only where a budget is released). `fiscal` reads as non-cashable.
    #[serde(default)]
    pub category: Option<MoneyKind>,
    /// The figure is an assumption awaiting a source: the headline names it. Also taken as
    /// set when `source` holds the word "placeholder". Default false.
    #[serde(default)]
    pub placeholder: bool,
}

impl Item {
    /// The item's kind of money, with the default for its kind.
    pub fn money_kind(&self) -> MoneyKind {
        self.category.unwrap_or(match self.kind {
            ItemKind::Cost => MoneyKind::CashableFiscal,
            ItemKind::Saving => MoneyKind::NonCashableFiscal,
        })
    }
}

/// What kind of money a figure is (HM Treasury Green Book and GMCA conventions): only
/// cashable fiscal benefits are savings a budget can release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyKind {
    /// Budgets that can actually be released.
    #[serde(alias = "cashable")]
    CashableFiscal,
    /// Public-sector resources freed for other work (e.g. officer time): not cash.
    #[serde(alias = "non_cashable", alias = "fiscal")]
    NonCashableFiscal,
    /// Harm to victims and society, lost output, health costs (the Home Office costs of crime).
    #[serde(alias = "economic", alias = "social", alias = "economic and social")]
    EconomicAndSocial,
}

impl MoneyKind {
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            MoneyKind::CashableFiscal => "cashable fiscal",
            MoneyKind::NonCashableFiscal => "non-cashable fiscal",
            MoneyKind::EconomicAndSocial => "economic and social",
        }
    }
}

/// The money figures of one kind of money.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MoneyFigures {
    /// Discounted gross value.
    pub gross_savings: f64,
    /// Programme cost (with optimism bias).
    pub programme_cost: f64,
    /// Gross value minus programme cost.
    pub net_savings: f64,
}

/// Every money figure split by kind of money.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ByCategory {
    /// Budgets that can be released: the only "savings".
    pub cashable_fiscal: MoneyFigures,
    /// Resources freed for other work (e.g. officer time), not cash.
    pub non_cashable_fiscal: MoneyFigures,
    /// Harm avoided to victims and society (Home Office costs of crime).
    pub economic_and_social: MoneyFigures,
}

impl ByCategory {
    fn get_mut(&mut self, k: MoneyKind) -> &mut MoneyFigures {
        match k {
            MoneyKind::CashableFiscal => &mut self.cashable_fiscal,
            MoneyKind::NonCashableFiscal => &mut self.non_cashable_fiscal,
            MoneyKind::EconomicAndSocial => &mut self.economic_and_social,
        }
    }
}

/// Monte Carlo standard errors of the simulated figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MonteCarloError {
    /// Of the 2.5th percentile of net value.
    pub ci_low: f64,
    /// Of the 97.5th percentile.
    pub ci_high: f64,
    /// Of the probability that net value is positive.
    pub probability_net_positive: f64,
}

fn one() -> f64 {
    1.0
}

/// Saving or cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A benefit per person diverted.
    Saving,
    /// A cost per person diverted (e.g. the course).
    Cost,
}

/// What a cost-benefit analysis needs besides the data.
#[derive(Debug, Clone)]
pub struct CostOptions {
    /// The `[costs]` table of the evaluation file.
    pub config: CostConfig,
    /// Unit costs per offence type.
    pub unit_costs: UnitCosts,
    /// The GDP deflator that uprates every figure to the price year.
    pub deflator: Deflator,
    /// The comparison whose difference in reoffending is valued (pilot against a
    /// comparison group, matched where possible).
    pub effect: Comparison,
}

/// The `[costs]` table of the evaluation file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// The price year every figure is uprated to.
    pub price_year: i32,
    /// Unit costs per offence type (CSV: offence_type, value, unit, price_year, source, low, high, category).
    pub unit_costs: PathBuf,
    /// GDP deflator (CSV: year, index, source).
    pub deflator: PathBuf,
    /// How avoided reoffences are derived. Default frequency.
    #[serde(default)]
    pub effect: EffectBasis,
    /// Actual offences per proven offence (default 1: proven offences only).
    #[serde(default = "one")]
    pub proven_to_actual: f64,
    /// Years over which benefits accrue (default 1).
    #[serde(default = "one_year")]
    pub horizon_years: u32,
    /// Share of the first year's effect that persists into each later year (default 0).
    #[serde(default)]
    pub persistence: f64,
    /// Optimism bias uplift on costs (e.g. 0.41 for outsourced services; default 0).
    #[serde(default)]
    pub optimism_bias: f64,
    /// People diverted (default: the pilot group's size in the comparison).
    pub people: Option<u64>,
    /// Monte Carlo draws (default 10,000).
    #[serde(default = "draws")]
    pub draws: usize,
    /// Random seed (default 2026).
    #[serde(default = "seed")]
    pub seed: u64,
    /// Savings and costs per person diverted.
    #[serde(default)]
    pub items: Vec<Item>,
}

impl CostConfig {
    /// Checks every number of the table: finite, not negative, a horizon of at least one
    /// year, and each item's `low <= unit_cost <= high`. The error names the key as the
    /// table spells it (`optimism_bias`, `items[2].unit_cost`, counting items from 1) with the
    /// value and what is accepted.
    pub fn check(&self) -> std::result::Result<(), (String, String)> {
        let finite_non_negative = |key: String, x: f64| {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else {
                Err((key, format!("{x}: expected a finite number, at least 0")))
            }
        };
        if !(self.proven_to_actual.is_finite() && self.proven_to_actual > 0.0) {
            return Err((
                "proven_to_actual".into(),
                format!(
                    "{}: expected a finite number above 0 (actual offences per proven offence, e.g. 1)",
                    self.proven_to_actual
                ),
            ));
        }
        finite_non_negative("optimism_bias".into(), self.optimism_bias)?;
        if !(self.persistence.is_finite() && (0.0..=1.0).contains(&self.persistence)) {
            return Err((
                "persistence".into(),
                format!("{}: expected a share from 0 to 1", self.persistence),
            ));
        }
        if self.horizon_years == 0 {
            return Err(("horizon_years".into(), "0: expected at least 1 year".into()));
        }
        if self.draws < 100 {
            return Err((
                "draws".into(),
                format!("{}: use at least 100 draws", self.draws),
            ));
        }
        for (k, it) in self.items.iter().enumerate() {
            let key = |field: &str| format!("items[{}].{field}", k + 1);
            finite_non_negative(key("quantity"), it.quantity)?;
            finite_non_negative(key("unit_cost"), it.unit_cost)?;
            if let Some(l) = it.low {
                finite_non_negative(key("low"), l)?;
            }
            if let Some(h) = it.high {
                finite_non_negative(key("high"), h)?;
            }
            let (low, high) = (
                it.low.unwrap_or(it.unit_cost),
                it.high.unwrap_or(it.unit_cost),
            );
            let name = crate::error::shown(&it.name);
            if low > it.unit_cost {
                return Err((
                    key("low"),
                    format!(
                        "{low}: above unit_cost = {} (item `{name}`); expected low <= unit_cost <= high",
                        it.unit_cost
                    ),
                ));
            }
            if high < it.unit_cost {
                return Err((
                    key("high"),
                    format!(
                        "{high}: below unit_cost = {} (item `{name}`); expected low <= unit_cost <= high",
                        it.unit_cost
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn one_year() -> u32 {
    1
}
fn draws() -> usize {
    10_000
}
fn seed() -> u64 {
    2026
}

/// One traced figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracedItem {
    /// What it is.
    pub name: String,
    /// `saving`, `cost` or `avoided_reoffences`.
    pub kind: String,
    /// The figure as given.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Its price year.
    pub price_year: i32,
    /// Its source.
    pub source: String,
    /// Value uprated to the report's price year.
    pub uprated_value: f64,
    /// Quantity per person or share of avoided reoffences.
    pub quantity: f64,
    /// Total in the report's price year (undiscounted, first year).
    pub total: f64,
    /// Kind of money: `cashable_fiscal`, `non_cashable_fiscal` or `economic_and_social`.
    pub category: String,
    /// For an offence type of the mix: the comparison group's proven reoffences of that type
    /// (its share's numerator). Never published: the disclosure gate reads it to withhold
    /// shares that rest on a small count.
    #[serde(skip)]
    pub mix_count: Option<u64>,
}

/// One row of the tornado table: net savings with one input at its low and high value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TornadoRow {
    /// The input.
    pub input: String,
    /// Net savings with the input low.
    pub net_low: f64,
    /// Net savings with the input high.
    pub net_high: f64,
    /// |net_high - net_low|.
    pub swing: f64,
}

/// The cost-benefit result (docs/output.md §2 `costs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostBenefit {
    /// Price year of every money figure.
    pub price_year: i32,
    /// Discount rate for years 1-30 (Green Book; 3.0% from year 31).
    pub discount_rate: f64,
    /// Years over which avoided reoffences are valued (1 to 10).
    pub horizon_years: u32,
    /// Pilot people the benefits are counted for: those in the comparison the effect comes
    /// from (the matched pilot people with full follow-up, when matching is configured), or
    /// `[costs] people` when given.
    pub people: u64,
    /// Who `people` are, in words.
    pub people_basis: String,
    /// Everyone in the pilot cohort (diverted), whatever their follow-up.
    pub people_diverted_total: u64,
    /// Optimism bias uplift on costs (fraction).
    pub optimism_bias: f64,
    /// Share of the first year's effect persisting into each later year.
    pub persistence: f64,
    /// Actual offences per proven offence.
    pub proven_to_actual: f64,
    /// The discounting convention in words (which year is year 0).
    pub discounting: String,
    /// How avoided reoffences were derived.
    pub effect_basis: EffectBasis,
    /// Avoided proven reoffences per person (point estimate).
    pub avoided_per_person: f64,
    /// Avoided offences in all (times proven-to-actual, over the horizon, undiscounted).
    pub avoided_reoffences: f64,
    /// Mean value of a proven reoffence, from the comparison group's offence mix.
    pub value_per_reoffence: f64,
    /// Discounted gross savings.
    pub gross_savings: f64,
    /// Every money figure split into cashable fiscal, non-cashable fiscal and economic and
    /// social value: only the first is money a budget can release.
    pub by_category: ByCategory,
    /// Programme cost (with optimism bias).
    pub programme_cost: f64,
    /// Gross savings minus programme cost.
    pub net_savings: f64,
    /// Monte Carlo 2.5th percentile.
    pub net_savings_ci_low: f64,
    /// Monte Carlo 97.5th percentile.
    pub net_savings_ci_high: f64,
    /// Share of draws with net savings above zero.
    pub probability_net_positive: f64,
    /// Monte Carlo standard errors of the interval and the probability: figures are shown
    /// rounded to what they support.
    pub monte_carlo_se: MonteCarloError,
    /// The headline in words: estimated value by kind of money.
    pub headline: String,
    /// Gross savings over programme cost (null with no cost).
    pub benefit_cost_ratio: Option<f64>,
    /// First year in which cumulative discounted net savings are positive (null if never).
    pub payback_year: Option<u32>,
    /// Reduction in the 12-month rate (a fraction) at which net savings are zero.
    pub break_even_rate_reduction: Option<f64>,
    /// The same counting cashable money only (null when nothing saved is cashable, so no
    /// reduction pays back the cash spent).
    pub break_even_rate_reduction_cashable: Option<f64>,
    /// Monte Carlo draws and seed.
    pub draws: usize,
    /// Seed of the Monte Carlo draws: the same seed gives the same figures.
    pub seed: u64,
    /// Every figure with its source.
    pub items: Vec<TracedItem>,
    /// One-way sensitivity, largest swing first.
    pub tornado: Vec<TornadoRow>,
    /// What the reader must keep in mind.
    pub caveats: Vec<String>,
}

/// Green Book discount factor for year `y` (year 0 undiscounted): 3.5% a year for years
/// 1-30, 3.0% for years 31-75.
pub fn discount_factor(y: u32) -> f64 {
    (1..=y)
        .map(|s| if s <= 30 { 1.0 / 1.035 } else { 1.0 / 1.03 })
        .product()
}

/// The inputs that vary in the simulation, at one set of values.
#[derive(Debug, Clone)]
struct Draw {
    avoided_per_person: f64,
    value_per_reoffence: f64,
    item_unit_costs: Vec<f64>,
}

struct Model<'a> {
    cfg: &'a CostConfig,
    people: f64,
    items: Vec<(Item, f64)>, // with uprating factor
    reoffences_per_reoffender: f64,
}

impl Model<'_> {
    /// (gross savings discounted, programme cost, per-category savings, yearly nets).
    fn evaluate(&self, x: &Draw) -> (f64, f64, ByCategory, Vec<f64>) {
        let h = self.cfg.horizon_years.max(1);
        let mut by_cat = ByCategory::default();
        let mut yearly = vec![0.0; h as usize];
        let mut gross = 0.0;
        for y in 0..h {
            let df = discount_factor(y);
            let persist = self.cfg.persistence.powi(y as i32);
            let crime = self.people
                * x.avoided_per_person
                * self.cfg.proven_to_actual
                * x.value_per_reoffence
                * persist
                * df;
            gross += crime;
            by_cat.economic_and_social.gross_savings += crime;
            yearly[y as usize] += crime;
        }
        let mut cost = 0.0;
        for ((item, factor), unit) in self.items.iter().zip(&x.item_unit_costs) {
            let v = self.people * item.quantity * unit * factor;
            match item.kind {
                ItemKind::Saving => {
                    gross += v;
                    yearly[0] += v;
                    by_cat.get_mut(item.money_kind()).gross_savings += v;
                }
                ItemKind::Cost => {
                    let c = v * (1.0 + self.cfg.optimism_bias);
                    cost += c;
                    by_cat.get_mut(item.money_kind()).programme_cost += c;
                }
            }
        }
        yearly[0] -= cost;
        for f in [
            &mut by_cat.cashable_fiscal,
            &mut by_cat.non_cashable_fiscal,
            &mut by_cat.economic_and_social,
        ] {
            f.net_savings = f.gross_savings - f.programme_cost;
        }
        (gross, cost, by_cat, yearly)
    }

    fn net(&self, x: &Draw) -> f64 {
        let (g, c, _, _) = self.evaluate(x);
        g - c
    }
}

fn triangular(rng: &mut ChaCha8Rng, low: f64, mode: f64, high: f64) -> f64 {
    if high <= low {
        return mode;
    }
    match Triangular::new(low, high, mode.clamp(low, high)) {
        Ok(d) => d.sample(rng),
        Err(_) => mode,
    }
}

/// The level of the Monte Carlo interval of the net value, whatever level the comparison's
/// own intervals use: the labels of that interval are written from it.
pub const MONTE_CARLO_LEVEL: f64 = 0.95;

/// The percentiles of the simulated net values that bound the [`MONTE_CARLO_LEVEL`]
/// interval (written out, not computed, so that they are exactly 0.025 and 0.975).
const MONTE_CARLO_PERCENTILES: (f64, f64) = (0.025, 0.975);
// The percentiles and the level say the same interval.
const _: () = assert!(
    (MONTE_CARLO_PERCENTILES.1 - MONTE_CARLO_PERCENTILES.0 - MONTE_CARLO_LEVEL) < 1e-12
        && (MONTE_CARLO_PERCENTILES.1 - MONTE_CARLO_PERCENTILES.0 - MONTE_CARLO_LEVEL) > -1e-12
);

/// `x` rounded to a power of ten no larger than `se` (a figure shown no finer than its
/// Monte Carlo error supports).
pub fn round_to_se(x: f64, se: f64) -> f64 {
    if !(se > 0.0) || !se.is_finite() {
        return x;
    }
    let step = 10f64.powi(se.log10().floor() as i32);
    (x / step).round() * step
}

/// `x` to two significant figures.
pub(crate) fn two_figures(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let step = 10f64.powi(x.abs().log10().floor() as i32 - 1);
    (x / step).round() * step
}

pub(crate) fn net_ci(x: f64, se: f64) -> f64 {
    round_to_se(x, se)
}

/// The `q`-quantile of the sorted draws (linear interpolation, numpy's default); NaN for
/// no draws, which `CostConfig::check` rules out (at least 100).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    crate::stats::quantile_sorted(sorted, q).unwrap_or(f64::NAN)
}

impl CostBenefit {
    /// The cost-benefit of `options.effect` (the pilot against a comparison group), from
    /// data at hand ([`Analysis::compute`](crate::Analysis::compute) runs it on an
    /// [`Evaluation`](crate::Evaluation)).
    ///
    /// `data` and `outcomes` give the comparison group's proven reoffences by offence type
    /// (their mix values an avoided reoffence); offence types must all be in the unit-cost
    /// table (a missing one is an error naming it).
    // Over 80 lines: the Green Book valuation in its order (mix, value, effect, model, Monte Carlo,
    // tornado, break-even, headline); the steps are functions below, and the rest is filling the
    // traced result.
    pub fn of(data: &Dataset, outcomes: &Outcomes, options: &CostOptions) -> Result<CostBenefit> {
        let control = options.effect.control.as_deref().unwrap_or_default();
        let mix = OffenceMix::of(data, outcomes, control_label(control));
        Self::of_mix(&data.people, &mix, options)
    }

    /// [`CostBenefit::of`] with the comparison group's offence mix already counted (the
    /// people's cohort labels are still read: the number of people diverted).
    pub(crate) fn of_mix(
        data_people: &crate::data::People,
        offence_mix: &OffenceMix,
        options: &CostOptions,
    ) -> Result<CostBenefit> {
        let CostOptions {
            config: cfg,
            unit_costs: costs,
            deflator,
            effect: cmp,
        } = options;
        let freq = options.check()?;
        let control = cmp.control.clone().unwrap_or_default();
        if control_label(&control) != offence_mix.control {
            return Err(Error::method(
                "cost-benefit",
                format!(
                    "the offence mix was counted for `{}`, not for the comparison's `{}`",
                    offence_mix.control,
                    control_label(&control)
                ),
            ));
        }
        let (mix, reoffenders, reoffences) = match &offence_mix.counts {
            Ok(c) => c,
            Err(message) => return Err(Error::method("cost-benefit", message.clone())),
        };
        let (reoffenders, reoffences) = (*reoffenders, *reoffences);
        let missing: Vec<&String> = mix.keys().filter(|t| costs.get(t).is_none()).collect();
        if !missing.is_empty() {
            return Err(Error::Config {
                path: costs.path.clone(),
                message: format!(
                    "no unit cost for offence type(s) {}: add a row (value 0 with a source saying why, if not costed)",
                    missing
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let UnitValue {
            mut items,
            value_per,
            low: vp_low,
            high: vp_high,
            type_rows,
            converted,
        } = value_per_reoffence(mix, costs, deflator, cfg.price_year)?;
        let rpr = if reoffenders > 0 {
            reoffences as f64 / reoffenders as f64
        } else {
            0.0
        };
        let z = crate::stats::z_upper((1.0 - cmp.confidence) / 2.0);
        let (avoided, avoided_se) = match cfg.effect {
            EffectBasis::Frequency => (-freq.difference, (freq.ci_high - freq.ci_low) / (2.0 * z)),
            EffectBasis::Rate => (-cmp.risk_difference.estimate * rpr, {
                let (low, high) = cmp.risk_difference.limits();
                (high - low) / (2.0 * z) * rpr
            }),
        };
        let people = cfg.people.unwrap_or(cmp.treatment_n);
        let mut model_items = Vec::new();
        for it in &cfg.items {
            let f = deflator.factor(
                it.price_year,
                cfg.price_year,
                &format!("item `{}`", it.name),
            )?;
            model_items.push((it.clone(), f));
        }
        let model = Model {
            cfg,
            people: people as f64,
            items: model_items,
            reoffences_per_reoffender: rpr,
        };
        let point = Draw {
            avoided_per_person: avoided,
            value_per_reoffence: value_per,
            item_unit_costs: cfg.items.iter().map(|i| i.unit_cost).collect(),
        };
        let (gross, cost, by_cat, yearly) = model.evaluate(&point);
        let crime_total = by_cat.economic_and_social.gross_savings;
        for it in items.iter_mut() {
            it.total =
                crime_total * it.quantity * it.uprated_value / value_per.max(f64::MIN_POSITIVE);
        }
        for (it, f) in &model.items {
            items.push(TracedItem {
                name: it.name.clone(),
                kind: match it.kind {
                    ItemKind::Saving => "saving".into(),
                    ItemKind::Cost => "cost".into(),
                },
                value: it.unit_cost,
                unit: format!("GBP per unit ({} per person)", it.quantity),
                price_year: it.price_year,
                source: it.source.clone(),
                uprated_value: it.unit_cost * f,
                quantity: it.quantity,
                total: people as f64 * it.quantity * it.unit_cost * f,
                category: it.money_kind().label().to_string(),
                mix_count: None,
            });
        }
        let (nets, positive, monte_carlo_se) = crate::trace::timed("  costs: Monte Carlo", || {
            simulate(&model, avoided, avoided_se, &type_rows)
        })?;
        let tornado = tornado(
            &model,
            &point,
            (avoided, avoided_se, z),
            (vp_low, vp_high),
            cmp.confidence,
        );
        // Break-even reduction in the rate: net is linear in the avoided reoffences.
        let slope_per_rate = {
            let base = model.net(&Draw {
                avoided_per_person: 0.0,
                ..point.clone()
            });
            let one = model.net(&Draw {
                avoided_per_person: model.reoffences_per_reoffender,
                ..point.clone()
            });
            (one - base, base)
        };
        let break_even = (slope_per_rate.0 > 0.0).then(|| -slope_per_rate.1 / slope_per_rate.0);
        // The same on cash alone: only cashable money (officer time freed is not cash).
        let cash = |a: f64| {
            model
                .evaluate(&Draw {
                    avoided_per_person: a,
                    ..point.clone()
                })
                .2
                .cashable_fiscal
                .net_savings
        };
        let cash_slope = cash(model.reoffences_per_reoffender) - cash(0.0);
        let break_even_cashable = (cash_slope > 0.0).then(|| -cash(0.0) / cash_slope);
        let mut cumulative = 0.0;
        let mut payback = None;
        for (y, v) in yearly.iter().enumerate() {
            cumulative += v;
            if cumulative > 0.0 && payback.is_none() {
                payback = Some(y as u32);
            }
        }
        let mut caveats = caveats(cmp, &control, mix, costs);
        // Prices of one kind of year uprated with an index of the other, said and how.
        let basis = if deflator.financial_years {
            "financial"
        } else {
            "calendar"
        };
        if converted {
            caveats.push(format!(
                "Some unit costs are in {} prices while the deflator is by {basis} year: their index is \
                 taken by quarters (a financial year is three quarters of its first calendar year and one of \
                 its second). Values are in prices of the {}.",
                if deflator.financial_years {
                    "calendar-year"
                } else {
                    "financial-year"
                },
                if deflator.financial_years {
                    format!("financial year {}/{:02}", cfg.price_year, (cfg.price_year + 1) % 100)
                } else {
                    format!("calendar year {}", cfg.price_year)
                }
            ));
        }
        // Inputs whose own source says they are placeholders, named.
        let placeholders: Vec<&str> = cfg
            .items
            .iter()
            .filter(|i| i.placeholder || i.source.to_lowercase().contains("placeholder"))
            .map(|i| i.name.as_str())
            .collect();
        if !placeholders.is_empty() {
            caveats.push(format!(
                "Placeholder figures, not sourced: {}. Replace them before relying on the value.",
                placeholders.join("; ")
            ));
        }
        let horizon = cfg.horizon_years.max(1);
        let discounting = if horizon == 1 {
            "One year: the effect falls in year 0, undiscounted.".to_string()
        } else {
            format!(
                "Year 0 is the year after diversion, undiscounted; years 1 to {} are discounted at 3.5% a year \
                 (HM Treasury Green Book).",
                horizon - 1
            )
        };
        let people_diverted_total = data_people.cohort.code_of(&cmp.treatment).map_or(0, |c| {
            data_people.cohort.codes.iter().filter(|k| **k == c).count() as u64
        });
        let ci_low = net_ci(
            percentile(&nets, MONTE_CARLO_PERCENTILES.0),
            monte_carlo_se.ci_low,
        );
        let ci_high = net_ci(
            percentile(&nets, MONTE_CARLO_PERCENTILES.1),
            monte_carlo_se.ci_high,
        );
        let people_basis = if cfg.people.is_some() {
            "as given in the evaluation file ([costs] people)".to_string()
        } else if control.starts_with("matched ") {
            "matched pilot people with the full 12-month follow-up".to_string()
        } else {
            "pilot people with the full 12-month follow-up".to_string()
        };
        let net = gross - cost;
        let headline = format!(
            "Estimated value ({} prices, {}): about {} net, about {} per person, for the {people} {people_basis} \
             ({} interval {} to {}; {:.0}% of simulations above zero){}. Of this, cashable fiscal value is {}, \
             non-cashable fiscal {} (resources such as officer time freed for other work, not cash) and economic \
             and social {} (harm to victims and society avoided); only cashable fiscal value is a saving a budget \
             can release.{}",
            cfg.price_year,
            if horizon == 1 {
                "one year, undiscounted".to_string()
            } else {
                format!("{horizon} years, discounted")
            },
            pounds(about(net)),
            pounds(about(net / (people.max(1) as f64))),
            crate::format::level(MONTE_CARLO_LEVEL),
            pounds(ci_low),
            pounds(ci_high),
            positive * 100.0,
            if cmp.significant {
                ""
            } else {
                "; the effect on reoffending it rests on is not statistically significant, so the value may be \
                 zero or negative"
            },
            about_part(by_cat.cashable_fiscal.net_savings),
            about_part(by_cat.non_cashable_fiscal.net_savings),
            about_part(by_cat.economic_and_social.net_savings),
            if placeholders.is_empty() {
                String::new()
            } else {
                format!(
                    " It rests on placeholder figures: {}.",
                    placeholders.join("; ")
                )
            },
        );
        Ok(CostBenefit {
            price_year: cfg.price_year,
            discount_rate: 0.035,
            horizon_years: horizon,
            people,
            people_basis,
            people_diverted_total,
            optimism_bias: cfg.optimism_bias,
            persistence: cfg.persistence,
            proven_to_actual: cfg.proven_to_actual,
            discounting,
            effect_basis: cfg.effect,
            avoided_per_person: avoided,
            avoided_reoffences: people as f64
                * avoided
                * cfg.proven_to_actual
                * (0..cfg.horizon_years.max(1))
                    .map(|y| cfg.persistence.powi(y as i32))
                    .sum::<f64>(),
            value_per_reoffence: value_per,
            gross_savings: gross,
            by_category: by_cat,
            programme_cost: cost,
            net_savings: gross - cost,
            net_savings_ci_low: percentile(&nets, MONTE_CARLO_PERCENTILES.0),
            net_savings_ci_high: percentile(&nets, MONTE_CARLO_PERCENTILES.1),
            probability_net_positive: positive,
            monte_carlo_se,
            headline,
            benefit_cost_ratio: (cost > 0.0).then(|| gross / cost),
            payback_year: payback,
            break_even_rate_reduction: break_even,
            break_even_rate_reduction_cashable: break_even_cashable,
            draws: cfg.draws,
            seed: cfg.seed,
            items,
            tornado,
            caveats,
        })
    }
}

/// A money figure rounded to two significant figures, for sentences (a model's value is not
/// known to the pound).
///
/// ```
/// use reoffending::costs::about;
/// assert_eq!(about(210_101.0), 210_000.0);
/// assert_eq!(about(-102_555.0), -100_000.0);
/// assert_eq!(about(65_005.0), 65_000.0);
/// assert_eq!(about(575.6), 580.0);
/// ```
pub fn about(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let step = 10f64.powi(x.abs().log10().floor() as i32 - 1);
    (x / step).round() * step
}

/// A part of the value in words: "about £58,000", or "a net cost of about £100,000" below zero.
fn about_part(x: f64) -> String {
    if x < 0.0 {
        format!("a net cost of about {}", pounds(about(-x)))
    } else {
        format!("about {}", pounds(about(x)))
    }
}

impl CostOptions {
    /// Checks the options; returns the comparison's frequency of reoffending, on which
    /// the model rests.
    fn check(&self) -> Result<&crate::compare::Frequency> {
        self.config
            .check()
            .map_err(|(key, message)| Error::option(format!("costs.{key}"), message))?;
        self.effect.frequency.as_ref().ok_or_else(|| {
            Error::method(
                "cost-benefit",
                "needs a comparison with a comparison group (not only a benchmark)",
            )
        })
    }
}

/// The comparison group's label in a comparison's `control` (a matched comparison's is
/// `matched <label>`).
fn control_label(control: &str) -> &str {
    control.strip_prefix("matched ").unwrap_or(control)
}

/// The comparison group's proven reoffences in the 12-month window, by offence type (what
/// an avoided reoffence is valued by), with its reoffenders and reoffences: the only part of
/// the valuation that reads the offence rows, so it can be counted before the other
/// analyses and the rows then freed.
#[derive(Debug, Clone)]
pub(crate) struct OffenceMix {
    /// The comparison group it was counted for.
    control: String,
    /// The counts, or why they could not be counted (no such group, no offence types).
    counts: std::result::Result<(BTreeMap<String, u64>, u64, u64), String>,
}

impl OffenceMix {
    /// Counts the mix of the group labelled `control` (people in the 12-month measure).
    pub(crate) fn of(data: &Dataset, outcomes: &Outcomes, control: &str) -> OffenceMix {
        let _t = crate::trace::Phase::start("  costs: offence mix");
        let counts = match data.people.cohort.code_of(control) {
            None => Err(format!(
                "no cohort `{control}` to take the offence mix from"
            )),
            Some(ccode) => offence_mix(data, outcomes, ccode),
        };
        OffenceMix {
            control: control.to_string(),
            counts,
        }
    }
}

/// [`OffenceMix::of`] for the group with code `ccode`: people in parallel blocks, each
/// block's counts by offence-type code, added up (whole numbers: the same in any order).
fn offence_mix(
    data: &Dataset,
    outcomes: &Outcomes,
    ccode: u32,
) -> std::result::Result<(BTreeMap<String, u64>, u64, u64), String> {
    use rayon::prelude::*;
    let Some(types) = data.offences.offence_type.as_ref() else {
        return Err("the offences table has no `offence_type` column to value offences by".into());
    };
    // One slot a level, and the last for a missing type.
    let slots = types.levels.len() + 1;
    let count_block = |people: std::ops::Range<usize>| {
        let mut by_type = vec![0u64; slots];
        let mut reoffenders = 0u64;
        for i in people {
            if data.people.cohort.codes[i] != ccode || !outcomes.eligible[i] {
                continue;
            }
            let w = Window::new(
                &outcomes.rules,
                outcomes.extract_date,
                data.people.index_day[i],
            );
            let mut any = false;
            for k in w.reoffences(&data.offences, i) {
                let code = types.codes[k] as usize;
                by_type[code.min(slots - 1)] += 1;
                any = true;
            }
            reoffenders += u64::from(any);
        }
        (by_type, reoffenders)
    };
    const BLOCK: usize = 1 << 16;
    let n = data.people.len();
    let (by_type, reoffenders) = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| count_block(b * BLOCK..((b + 1) * BLOCK).min(n)))
        .reduce(
            || (vec![0u64; slots], 0),
            |(mut a, ra), (b, rb)| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                (a, ra + rb)
            },
        );
    let reoffences = by_type.iter().sum();
    let mut mix: BTreeMap<String, u64> = BTreeMap::new();
    for (code, &count) in by_type.iter().enumerate().filter(|(_, c)| **c > 0) {
        let name = types.levels.get(code).map_or("(missing)", String::as_str);
        *mix.entry(name.to_string()).or_default() += count;
    }
    Ok((mix, reoffenders, reoffences))
}

/// The Monte Carlo draws of net value (sorted), the share above zero, and the Monte Carlo
/// standard errors of the interval's limits and of that share.
fn simulate(
    model: &Model<'_>,
    avoided: f64,
    avoided_se: f64,
    type_rows: &[(f64, f64, f64, f64)],
) -> Result<(Vec<f64>, f64, MonteCarloError)> {
    let cfg = model.cfg;
    // Monte Carlo.
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let effect_dist = Normal::new(avoided, avoided_se.max(0.0))
        .map_err(|e| Error::method("cost-benefit", e.to_string()))?;
    let mut nets = Vec::with_capacity(cfg.draws);
    for _ in 0..cfg.draws {
        let a = effect_dist.sample(&mut rng);
        let v: f64 = type_rows
            .iter()
            .map(|(s, m, l, h)| s * triangular(&mut rng, *l, *m, *h))
            .sum();
        let units: Vec<f64> = cfg
            .items
            .iter()
            .map(|i| {
                triangular(
                    &mut rng,
                    i.low.unwrap_or(i.unit_cost),
                    i.unit_cost,
                    i.high.unwrap_or(i.unit_cost),
                )
            })
            .collect();
        nets.push(model.net(&Draw {
            avoided_per_person: a,
            value_per_reoffence: v,
            item_unit_costs: units,
        }));
    }
    let positive = nets.iter().filter(|n| **n > 0.0).count() as f64 / nets.len() as f64;
    nets.sort_by(f64::total_cmp);
    // Standard error of a sample quantile: sqrt(p(1-p)/N) / density, the density taken
    // from the spread of the neighbouring percentiles.
    let n_draws = nets.len() as f64;
    let quantile_se = |p: f64| {
        let h = 0.01;
        let slope =
            (percentile(&nets, (p + h).min(1.0)) - percentile(&nets, (p - h).max(0.0))) / (2.0 * h);
        (p * (1.0 - p) / n_draws).sqrt() * slope
    };
    let monte_carlo_se = MonteCarloError {
        ci_low: quantile_se(MONTE_CARLO_PERCENTILES.0),
        ci_high: quantile_se(MONTE_CARLO_PERCENTILES.1),
        probability_net_positive: (positive * (1.0 - positive) / n_draws).sqrt(),
    };
    Ok((nets, positive, monte_carlo_se))
}

/// The tornado: net value with each input at its low and high, largest swing first.
fn tornado(
    model: &Model<'_>,
    point: &Draw,
    (avoided, avoided_se, z): (f64, f64, f64),
    (vp_low, vp_high): (f64, f64),
    confidence: f64,
) -> Vec<TornadoRow> {
    let cfg = model.cfg;
    // Tornado: each input at its low and high.
    let mut tornado = Vec::new();
    let mut push = |name: String, lo: Draw, hi: Draw| {
        let (a, b) = (model.net(&lo), model.net(&hi));
        tornado.push(TornadoRow {
            input: name,
            net_low: a,
            net_high: b,
            swing: (b - a).abs(),
        });
    };
    push(
        format!(
            "avoided reoffences per person ({:.0}% interval)",
            confidence * 100.0
        ),
        Draw {
            avoided_per_person: avoided - z * avoided_se,
            ..point.clone()
        },
        Draw {
            avoided_per_person: avoided + z * avoided_se,
            ..point.clone()
        },
    );
    push(
        "value of a proven reoffence (low/high unit costs)".into(),
        Draw {
            value_per_reoffence: vp_low,
            ..point.clone()
        },
        Draw {
            value_per_reoffence: vp_high,
            ..point.clone()
        },
    );
    for (k, it) in cfg.items.iter().enumerate() {
        let mut lo = point.clone();
        let mut hi = point.clone();
        lo.item_unit_costs[k] = it.low.unwrap_or(it.unit_cost);
        hi.item_unit_costs[k] = it.high.unwrap_or(it.unit_cost);
        push(it.name.clone(), lo, hi);
    }
    tornado.sort_by(|a, b| b.swing.total_cmp(&a.swing));
    tornado
}

/// The value of one proven reoffence at the comparison group's offence mix, uprated to
/// `price_year`, with its low and high values, each type's (share, value, low, high) for the
/// simulation, and the traced items.
struct UnitValue {
    items: Vec<TracedItem>,
    value_per: f64,
    low: f64,
    high: f64,
    type_rows: Vec<(f64, f64, f64, f64)>,
    /// Whether a unit cost's price year was converted between financial and calendar years.
    converted: bool,
}

fn value_per_reoffence(
    mix: &BTreeMap<String, u64>,
    costs: &UnitCosts,
    deflator: &Deflator,
    price_year: i32,
) -> Result<UnitValue> {
    let total: u64 = mix.values().sum();
    let mut items = Vec::new();
    let mut value_per = 0.0;
    let (mut vp_low, mut vp_high) = (0.0, 0.0);
    let mut type_rows: Vec<(f64, f64, f64, f64)> = Vec::new(); // share, uprated value, low, high
    let mut converted = false;
    for (t, n) in mix {
        // Presence checked above.
        let Some(u) = costs.get(t) else { continue };
        let (f, conv) = deflator.factor_for(
            u.price_year,
            u.financial_year,
            price_year,
            &format!("unit cost of `{t}`"),
        )?;
        converted |= conv;
        let share = *n as f64 / total as f64;
        value_per += share * u.value * f;
        vp_low += share * u.low.unwrap_or(u.value) * f;
        vp_high += share * u.high.unwrap_or(u.value) * f;
        type_rows.push((
            share,
            u.value * f,
            u.low.unwrap_or(u.value) * f,
            u.high.unwrap_or(u.value) * f,
        ));
        items.push(TracedItem {
            name: format!("proven reoffence: {t}"),
            kind: "avoided_reoffences".into(),
            value: u.value,
            unit: u.unit.clone(),
            price_year: u.price_year,
            source: u.source.clone(),
            uprated_value: u.value * f,
            quantity: share,
            total: 0.0,
            category: MoneyKind::EconomicAndSocial.label().to_string(),
            mix_count: Some(*n),
        });
    }
    Ok(UnitValue {
        items,
        value_per,
        low: vp_low,
        high: vp_high,
        type_rows,
        converted,
    })
}

/// What the reader must keep in mind about the valuation.
fn caveats(
    cmp: &Comparison,
    control: &str,
    mix: &BTreeMap<String, u64>,
    costs: &UnitCosts,
) -> Vec<String> {
    let mut caveats = vec![
        "Value from avoided reoffending counts proven reoffences only, valued at the comparison group's offence mix; victimless offences are not costed.".to_string(),
    ];
    if cmp.kind == crate::compare::ComparisonKind::ComparisonGroup
        && !control.starts_with("matched ")
    {
        caveats.push("The effect comes from an unmatched comparison: it may reflect who was diverted rather than the scheme.".into());
    }
    if !cmp.significant {
        caveats.push("The effect on reoffending is not statistically significant: the interval of net value reflects that.".into());
    }
    let zero_valued: Vec<String> = mix
        .keys()
        .filter(|t| costs.get(t).is_some_and(|u| u.value == 0.0))
        .cloned()
        .collect();
    if !zero_valued.is_empty() {
        caveats.push(format!(
            "Valued at zero (no figure): {}.",
            zero_valued.join(", ")
        ));
    }
    caveats
}
