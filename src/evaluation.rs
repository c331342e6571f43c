//! One evaluation file to every result: [`Results::from_config`] loads the data, runs each
//! analysis the file configures with the options the file gives, and records the ones that
//! could not be carried out.
//!
//! This module sits above the analyses and the evaluation file's reader (`config`); the
//! loaded data every analysis takes ([`Evaluation`]) and its inputs live below the analyses
//! and are re-exported here.

pub use crate::loaded::{Evaluation, InputSummary, Inputs, Parameters};

use crate::error::Result;
use crate::measure::Rules;

/// Everything one evaluation file asks for: the report's content.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Results {
    /// Rules and options.
    pub parameters: Parameters,
    /// Rows read, used and excluded.
    pub data_quality: InputSummary,
    /// Rates per cohort and breakdown.
    pub rates: crate::measure::Rates,
    /// The pilot against the comparison group if one is configured, else against the
    /// benchmark (the `compare` object of docs/output.md §2).
    pub compare: Option<crate::compare::Comparison>,
    /// The pilot against the benchmark, when a comparison group is the main comparison.
    pub compare_benchmark: Option<crate::compare::Comparison>,
    /// The matched comparison, if `[match]` is configured.
    #[serde(rename = "match")]
    pub matched: Option<crate::matching::MatchedComparison>,
    /// Every adjusted design on the matched comparison's propensity model, if `[match]` is
    /// configured (CONTRACT §3 `effect`).
    pub effect: Option<crate::effect::Effects>,
    /// Time to first reoffence (null when it could not be carried out: see `not_available`).
    pub survival: Option<crate::survival::SurvivalAnalysis>,
    /// Interim monitoring by quarter (null when it could not be carried out).
    pub monitor: Option<crate::monitor::Monitor>,
    /// Power: what this pilot could detect.
    pub power: PowerSummary,
    /// Cost-benefit, if `[costs]` is configured.
    pub costs: Option<crate::costs::CostBenefit>,
    /// Difference-in-differences against other areas, if `[did]` is configured: the
    /// impact estimate of an area-wide pilot.
    pub did: Option<crate::did::AreaDid>,
    /// Analyses the file asks for that could not be carried out on these data (a method
    /// that does not apply, such as a model on a constant covariate), with the reason; the
    /// rest of the results stand.
    pub not_available: Vec<NotAvailable>,
}

/// An analysis that could not be carried out.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotAvailable {
    /// Which (`compare`, `match`, `effect`, `survival`, `monitor`, `costs`).
    pub section: &'static str,
    /// Its title in the report.
    pub title: String,
    /// Why, in the method's words.
    pub reason: String,
}

/// `Ok(Some)` on success; an analysis that cannot be carried out on these data (a method
/// that does not apply, or a data problem only it meets, such as an extreme covariate)
/// becomes a recorded `None`; a wrong option, evaluation file or file still stops the run.
fn attempt<T>(
    section: &'static str,
    title: &str,
    failures: &mut Vec<NotAvailable>,
    run: impl FnOnce() -> Result<T>,
) -> Result<Option<T>> {
    match run() {
        Ok(v) => Ok(Some(v)),
        Err(e)
            if !matches!(
                e,
                crate::Error::Option { .. } | crate::Error::Config { .. } | crate::Error::Io { .. }
            ) =>
        {
            failures.push(NotAvailable {
                section,
                title: title.to_string(),
                reason: e.to_string(),
            });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The matched comparison and every adjusted design, on one design and propensity model
/// prepared once and shared by both (if it cannot be prepared, each analysis is run on its
/// own, so that each records the same reason), with what could not be done.
type Designs = (
    Option<crate::matching::MatchedComparison>,
    Option<crate::effect::Effects>,
    Vec<NotAvailable>,
);

fn matched_designs(
    eval: &Evaluation,
    mopts: Option<crate::matching::MatchOptions>,
) -> Result<Designs> {
    use crate::Analysis;
    use crate::trace::timed;
    let mut na = Vec::new();
    let Some(mopts) = mopts else {
        return Ok((None, None, na));
    };
    let stage = timed("match and effect: design and propensity model", || {
        crate::matching::MatchingStage::prepare(&eval.data.people, &eval.outcomes, &mopts)
    })
    .ok();
    // The matched comparison and the adjusted designs only read the stage: on two threads
    // they run at the same time, each computed as when run alone.
    let (matched, effect) = rayon::join(
        || {
            attempt_alone(
                "match",
                "Matched comparison (propensity score matching)",
                || {
                    timed("match", || match &stage {
                        Some(stage) => crate::matching::MatchedComparison::of_stage(
                            &eval.data.people,
                            &eval.outcomes,
                            &mopts,
                            stage,
                        ),
                        None => crate::matching::MatchedComparison::compute(eval, &mopts),
                    })
                },
            )
        },
        || {
            crate::trace::grouped(|| {
                attempt_alone(
                    "effect",
                    "Every design on the same propensity model",
                    || {
                        let options = crate::effect::EffectOptions {
                            matching: mopts.clone(),
                            ..Default::default()
                        };
                        timed("effect", || match &stage {
                            Some(stage) => {
                                crate::effect::Effects::of_stage(&eval.outcomes, &options, stage)
                            }
                            None => crate::effect::Effects::compute(eval, &options),
                        })
                    },
                )
            })
        },
    );
    let (matched, na_matched) = matched?;
    let (effect, na_effect) = effect?;
    na.extend(na_matched);
    na.extend(na_effect);
    Ok((matched, effect, na))
}

/// An analysis's result (if it could be done) and what could not be done.
type Attempted<T> = Result<(Option<T>, Vec<NotAvailable>)>;

/// The rates, their options, the comparison options and the unadjusted comparisons (with the
/// comparison group, then with the benchmark), with what could not be done.
type Unadjusted = (
    crate::measure::Rates,
    crate::measure::RateOptions,
    crate::compare::CompareOptions,
    Vec<crate::compare::Comparison>,
    Vec<NotAvailable>,
);

/// The analyses run beside matching: each not run once one before it met a hard error (as
/// when they ran one after another).
struct Beside {
    unadjusted: Result<Unadjusted>,
    survival: Attempted<crate::survival::SurvivalAnalysis>,
    monitor: Attempted<crate::monitor::Monitor>,
    did: Attempted<crate::did::AreaDid>,
}

impl Beside {
    fn compute(eval: &Evaluation, config: &crate::Config) -> Beside {
        use crate::Analysis;
        use crate::trace::timed;
        let unadjusted = unadjusted(eval, config);
        let survival = match &unadjusted {
            Ok(_) => attempt_alone("survival", "Time to first proven reoffence", || {
                timed("survival", || {
                    crate::survival::SurvivalAnalysis::compute(eval, &config.survival_options())
                })
            }),
            Err(_) => stopped(),
        };
        let monitor = match &survival {
            Ok(_) => attempt_alone("monitor", "Monitoring: cohorts by quarter", || {
                timed("monitor", || {
                    crate::monitor::Monitor::compute(eval, &config.monitor_options())
                })
            }),
            Err(_) => stopped(),
        };
        let did = match (&monitor, &config.did) {
            (Ok(_), Some(dopts)) => {
                attempt_alone("did", "Area-wide impact: difference-in-differences", || {
                    timed("did", || crate::did::AreaDid::compute(eval, dopts))
                })
            }
            (Ok(_), None) => Ok((None, Vec::new())),
            (Err(_), _) => stopped(),
        };
        Beside {
            unadjusted,
            survival,
            monitor,
            did,
        }
    }
}

/// An analysis not run because one before it met a hard error: that error is the one
/// returned, so this one is never seen.
fn stopped<T>() -> Attempted<T> {
    Err(crate::Error::method(
        "evaluation",
        "an earlier analysis failed",
    ))
}

/// [`attempt`] with its own list of what could not be done.
fn attempt_alone<T>(
    section: &'static str,
    title: &str,
    run: impl FnOnce() -> Result<T>,
) -> Attempted<T> {
    let mut na = Vec::new();
    let v = attempt(section, title, &mut na, run)?;
    Ok((v, na))
}

/// The rates and the unadjusted comparisons (with the comparison group, with the benchmark).
fn unadjusted(eval: &Evaluation, config: &crate::Config) -> Result<Unadjusted> {
    use crate::Analysis;
    use crate::compare::{Against, CompareOptions, Comparison};
    use crate::trace::timed;
    let rate_opts = config.rate_options()?;
    let rates = crate::measure::Rates::compute(eval, &rate_opts)?;
    let copts = config.compare_options()?;
    let mut na = Vec::new();
    let mut compare = Vec::new();
    if let Some(control) = &config.compare.control {
        let o = CompareOptions {
            against: Against::Group(control.clone()),
            ..copts.clone()
        };
        compare.extend(attempt(
            "compare",
            "Compared with the comparison group",
            &mut na,
            || {
                timed("compare: comparison group", || {
                    Comparison::compute(eval, &o)
                })
            },
        )?);
    }
    if let Some(against) = config.compare.benchmark() {
        let o = CompareOptions {
            against,
            ..copts.clone()
        };
        compare.extend(attempt(
            "compare",
            "Compared with the external benchmark",
            &mut na,
            || timed("compare: benchmark", || Comparison::compute(eval, &o)),
        )?);
    }
    Ok((rates, rate_opts, copts, compare, na))
}

/// What the pilot's size allows one to detect.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PowerSummary {
    /// Pilot people in the 12-month measure.
    pub n: u64,
    /// The benchmark rate used.
    pub baseline_rate: Option<f64>,
    /// Lowest rate distinguishable from the benchmark (power 0.8, two-sided 5%).
    pub min_detectable_rate_lower: Option<f64>,
    /// Highest rate distinguishable from the benchmark above it.
    pub min_detectable_rate_upper: Option<f64>,
    /// The smallest reduction detectable against the comparison group (fraction).
    pub min_detectable_difference_vs_comparison: Option<f64>,
    /// How the figure was computed (the method's name, for the reader).
    pub method: &'static str,
}

impl Results {
    /// Every comparison made: with the comparison group and with the benchmark.
    pub fn comparisons(&self) -> impl Iterator<Item = &crate::compare::Comparison> {
        self.compare.iter().chain(&self.compare_benchmark)
    }

    /// Runs every analysis the evaluation file configures.
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// use reoffending::{Config, Inputs, Rules};
    /// let config = Config::from_file("data-samples/evaluation.toml".as_ref())?;
    /// let inputs = Inputs {
    ///     cohort: "data-samples/cohort.csv".into(),
    ///     offences: "data-samples/offences.csv".into(),
    ///     load: Default::default(),
    /// };
    /// let results = reoffending::evaluation::Results::from_config(&config, &inputs, Rules::default())?;
    /// assert!(results.costs.is_some() && results.matched.is_some());
    /// # Ok(()) }
    /// ```
    // Over 80 lines: runs each configured analysis in turn, each through `attempt` so a failure is
    // reported in place; it is a list of calls.
    pub fn from_config(config: &crate::Config, inputs: &Inputs, rules: Rules) -> Result<Results> {
        use crate::Analysis;
        use crate::trace::timed;
        let mut eval = Evaluation::load(inputs, rules)?;
        let treatment = config.treatment();
        // The valuation's offence mix is the last reader of the offence rows: counted now,
        // the rows (hundreds of megabytes at national scale) are freed before the analyses.
        let offence_mix = match (&config.costs, &config.compare.control) {
            (Some(_), Some(control)) => {
                let mix = crate::costs::OffenceMix::of(&eval.data, &eval.outcomes, control);
                eval.data.offences = crate::data::Offences::default();
                Some(mix)
            }
            _ => None,
        };
        let eval = eval;
        // Matching and the adjusted designs on one side; the rates, the unadjusted
        // comparisons, survival, monitoring and the area designs on the other: they read the
        // same loaded data and nothing of each other's, so on two or more threads they run
        // at the same time. Each is computed exactly as when run alone (one thread gives the
        // same figures); what each could not do is listed, and a hard error is returned, in
        // the order the analyses are listed here, as when they ran one after another.
        let (designs, beside) = timed("(both sides, at the same time)", || {
            rayon::join(
                || {
                    config
                        .match_options()
                        .and_then(|m| matched_designs(&eval, m))
                },
                || crate::trace::grouped(|| Beside::compute(&eval, config)),
            )
        });
        let Beside {
            unadjusted,
            survival,
            monitor,
            did,
        } = beside;
        let (rates, rate_opts, copts, compare, mut na) = unadjusted?;
        let (matched, effect, na_designs) = designs?;
        na.extend(na_designs);
        let (survival, monitor) = (survival?, monitor?);
        na.extend(survival.1);
        na.extend(monitor.1);
        let (survival, monitor) = (survival.0, monitor.0);
        let pilot = compare.first().map(|c| c.treatment_n).unwrap_or(0);
        let baseline = config.compare.baseline_rate;
        let det = match baseline {
            Some(b) if pilot > 0 => Some(crate::stats::detectable_one(pilot as f64, b, 0.05, 0.8)?),
            _ => None,
        };
        let power = PowerSummary {
            n: pilot,
            baseline_rate: baseline,
            min_detectable_rate_lower: det.and_then(|d| d.min_detectable_rate_lower),
            min_detectable_rate_upper: det.and_then(|d| d.min_detectable_rate_upper),
            min_detectable_difference_vs_comparison: compare
                .iter()
                .find(|c| c.kind == crate::compare::ComparisonKind::ComparisonGroup)
                .and_then(|c| c.sensitivity.min_detectable_difference_lower),
            method: crate::stats::ONE_SAMPLE_METHOD,
        };
        let costs = match &config.costs {
            Some(cc) => {
                let effect = matched.as_ref().map(|m| &m.comparison).or_else(|| {
                    compare
                        .iter()
                        .find(|c| c.kind == crate::compare::ComparisonKind::ComparisonGroup)
                });
                match effect {
                    Some(cmp) => {
                        let options = crate::costs::CostOptions {
                            config: cc.clone(),
                            unit_costs: crate::costs::UnitCosts::from_csv(
                                &config.resolve(&cc.unit_costs),
                            )?,
                            deflator: crate::costs::Deflator::from_csv(
                                &config.resolve(&cc.deflator),
                            )?,
                            effect: cmp.clone(),
                        };
                        attempt("costs", "Costs and value", &mut na, || {
                            timed("costs", || match &offence_mix {
                                Some(mix) => crate::costs::CostBenefit::of_mix(
                                    &eval.data.people,
                                    mix,
                                    &options,
                                ),
                                None => crate::costs::CostBenefit::compute(&eval, &options),
                            })
                        })?
                    }
                    None if config.compare.control.is_some() => {
                        na.push(NotAvailable {
                            section: "costs",
                            title: "Costs and value".into(),
                            reason: "the comparison with the comparison group it rests on is not available".into(),
                        });
                        None
                    }
                    None => {
                        return Err(crate::Error::Config {
                            path: config.base.clone(),
                            message: "[costs] needs a comparison group: set compare.control".into(),
                        });
                    }
                }
            }
            None => None,
        };
        let did = did?;
        na.extend(did.1);
        let did = did.0;
        let parameters = eval.parameters(serde_json::json!({
            "treatment": treatment,
            "control": config.compare.control,
            "baseline_rate": config.compare.baseline_rate,
            "by": config.rates.by,
            "ci_method": rate_opts.ci,
            "confidence": rate_opts.confidence,
            "period": copts.period,
        }));
        let mut compare = compare.into_iter();
        Ok(Results {
            parameters,
            data_quality: eval.input_summary(),
            rates,
            compare: compare.next(),
            compare_benchmark: compare.next(),
            matched,
            effect,
            survival,
            monitor,
            power,
            costs,
            did,
            not_available: na,
        })
    }
}
