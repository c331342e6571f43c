//! Building a comparison: the pilot against a group (weighted when matched) or a fixed
//! rate, with the verdict in the Justice Data Lab's words.

use std::collections::BTreeMap;

use super::groups::{GroupData, collect};
use super::subgroups::subgroups;
use super::{
    Against, CompareOptions, Comparison, ComparisonKind, DetectableDifference, DifferenceInterval,
    EValueStatement, Frequency, Period, PeriodCheck, PeriodFilter, TimeToFirst, pilot_range,
};
use crate::data::People;
use crate::data::dates::format_day;
use crate::error::{Error, Result};
use crate::format::pval;
use crate::measure::Outcomes;
use crate::stats::{
    CiMethod, DiffMethod, Effect, ExactAgainst, Test, TwoByTwo, WeightedMean, detectable_one,
    detectable_two, exact_against, proportion_ci, weighted_mean_difference, weighted_rates,
    weighted_ratio, welch,
};

pub(crate) fn pp(x: f64) -> String {
    crate::format::Kind::Num(1).show(x * 100.0)
}

impl Comparison {
    /// Compares cohort `options.treatment` with `options.against`, on the 12-month measure,
    /// from people and outcomes at hand ([`Analysis::compute`](crate::Analysis::compute)
    /// runs it on an [`Evaluation`](crate::Evaluation)).
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let (c, o) = (dir.path().join("c.csv"), dir.path().join("o.csv"));
    /// # reoffending::synth::generate(&reoffending::synth::GenerateOptions::new(3000, 1), &c, &o)?;
    /// use reoffending::prelude::*;
    /// let eval = Evaluation::load(&Inputs::new(&c, &o), Rules::default())?;
    /// let tv = Against::Baseline { rate: 0.2, name: Some("Thames Valley".into()), source: None };
    /// let cmp = Comparison::compute(&eval, &CompareOptions { against: tv, ..Default::default() })?;
    /// assert!(cmp.summary.contains("not an estimate of")); // a benchmark is descriptive
    /// # Ok(()) }
    /// ```
    pub fn of(
        people: &People,
        outcomes: &Outcomes,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        let (treatment, against) = (options.treatment.as_str(), &options.against);
        options.check()?;
        let t = collect(people, outcomes, "treatment", treatment, |_| true)?;
        if t.n == 0 {
            return Err(Error::method(
                "comparison",
                format!("no one in `{treatment}` has the full follow-up and waiting period yet"),
            ));
        }
        let mut c = match against {
            Against::Group(control) => {
                let mut c = Self::against_group(people, outcomes, treatment, control, &t, options)?;
                c.period_check =
                    Self::period_check(people, outcomes, treatment, control, options, |o| {
                        Self::against_group(people, outcomes, treatment, control, &t, o)
                    })?;
                c
            }
            Against::Baseline { rate, name, source } => {
                Self::against_baseline(treatment, *rate, name.clone(), source.clone(), &t, options)?
            }
        };
        if !options.by.is_empty() {
            c.subgroups = subgroups(people, outcomes, treatment, against, options)?;
            c.subgroup_adjustment = Some(options.adjust);
        }
        Ok(c)
    }

    /// The comparison over the other period (`run` with the period switched), when some
    /// comparison people in the 12-month measure were indexed outside the pilot's period.
    pub(crate) fn period_check(
        people: &People,
        outcomes: &Outcomes,
        treatment: &str,
        control: &str,
        options: &CompareOptions,
        run: impl FnOnce(&CompareOptions) -> Result<Comparison>,
    ) -> Result<Option<PeriodCheck>> {
        let (Some((from, to)), Some(code)) = (
            pilot_range(people, treatment),
            people.cohort.code_of(control),
        ) else {
            return Ok(None);
        };
        let outside = (0..people.len())
            .filter(|&i| {
                people.cohort.codes[i] == code
                    && outcomes.eligible[i]
                    && !(from..=to).contains(&people.index_day[i])
            })
            .count() as u64;
        if outside == 0 {
            return Ok(None);
        }
        let other = CompareOptions {
            period: options.period.other(),
            by: Vec::new(),
            ..options.clone()
        };
        let c = match run(&other) {
            Ok(c) => c,
            // With no comparison people inside the pilot's period there is nothing to check.
            Err(Error::Method { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (from, to) = (format_day(from), format_day(to));
        let what = match other.period {
            Period::Pilot => format!(
                "Restricted to comparison people indexed within the pilot's period ({from} to {to})"
            ),
            Period::Full => format!(
                "With every comparison person, including {outside} indexed outside the pilot's period ({from} to {to})"
            ),
        };
        let summary = format!(
            "{what}, the difference is {} percentage points ({:.0}% interval {} to {}){}.",
            pp(c.risk_difference.estimate),
            c.confidence * 100.0,
            pp(c.risk_difference.limits().0),
            pp(c.risk_difference.limits().1),
            if c.significant {
                ", statistically significant"
            } else {
                ", not statistically significant"
            }
        );
        Ok(Some(PeriodCheck {
            period: other.period,
            pilot_from: from,
            pilot_to: to,
            comparison_outside: outside,
            comparison: Box::new(c),
            summary,
        }))
    }

    fn against_group(
        people: &People,
        outcomes: &Outcomes,
        treatment: &str,
        control: &str,
        t: &GroupData,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        let period = PeriodFilter::new(people, treatment, options.period);
        let k = collect(people, outcomes, "control", control, |i| {
            period.keeps(people, i)
        })?;
        let caveat = format!(
            "Unless {control} was chosen to match the pilot people one by one, the groups may differ in who was \
             diverted: a difference is not by itself the effect of the scheme."
        );
        let mut c = Self::from_groups(treatment, control, t, &k, options, caveat)?;
        c.summary = c.descriptive_summary();
        Ok(c)
    }

    /// The comparison of two groups' data (weighted for a matched comparison group).
    // Over 80 lines: one comparison in the Justice Data Lab's order (2x2, Wilson, frequency, time
    // to first, detectable difference, verdict); most lines fill the result's fields.
    pub(crate) fn from_groups(
        treatment: &str,
        control: &str,
        t: &GroupData,
        k: &GroupData,
        options: &CompareOptions,
        caveat: String,
    ) -> Result<Comparison> {
        if k.n == 0 {
            return Err(Error::method(
                "comparison",
                format!("no one in `{control}` has the full follow-up and waiting period yet"),
            ));
        }
        // With weights (several controls per person, or controls reused), the comparison is
        // of weighted means with robust standard errors (MatchIt's guidance); with unit
        // weights the 2x2 table is exact and every test of it applies.
        let weighted = !(t.unit_weights() && k.unit_weights());
        let r = if weighted {
            weighted_rates(
                &t.weighted_means()?.0,
                &k.weighted_means()?.0,
                options.confidence,
            )?
        } else {
            TwoByTwo {
                x1: t.reoffenders,
                n1: t.n,
                x2: k.reoffenders,
                n2: k.n,
            }
            .compare(options.confidence, options.rd_method)?
        };
        let wilson = proportion_ci(t.reoffenders, t.n, options.confidence, CiMethod::Wilson)?
            .ok_or_else(|| Error::method("comparison", "empty group"))?;
        // The comparison group's rate by the same method, where its rate is its people's
        // (unit weights); a weighted rate has no interval from counts.
        let control_wilson = if weighted {
            None
        } else {
            proportion_ci(k.reoffenders, k.n, options.confidence, CiMethod::Wilson)?
        };
        let alpha = 1.0 - options.confidence;
        let (st, sk) = (t.summary(), k.summary());
        let per_person = if weighted {
            t.weighted_means().and_then(|(_, a)| {
                Ok(weighted_mean_difference(
                    &a,
                    &k.weighted_means()?.1,
                    options.confidence,
                )?)
            })
        } else {
            welch(&st, &sk, options.confidence).map_err(Error::from)
        };
        let weighted_rr = || {
            let a = WeightedMean::of(&t.counts, &t.weights)?;
            let b = WeightedMean::of(&k.counts, &k.weights)?;
            weighted_ratio(&a, &b, options.confidence)
        };
        let frequency = per_person.ok().map(|w| {
            let (rr, lo, hi) = if weighted {
                match weighted_rr() {
                    Some((r, lo, hi)) => (Some(r), Some(lo), Some(hi)),
                    None => ((sk.mean > 0.0).then(|| st.mean / sk.mean), None, None),
                }
            } else if sk.mean > 0.0 && st.mean > 0.0 {
                let z = crate::stats::z_upper(alpha / 2.0);
                let se = (st.variance / (st.n as f64 * st.mean * st.mean)
                    + sk.variance / (sk.n as f64 * sk.mean * sk.mean))
                    .sqrt();
                let l = (st.mean / sk.mean).ln();
                (
                    Some(st.mean / sk.mean),
                    Some((l - z * se).exp()),
                    Some((l + z * se).exp()),
                )
            } else {
                ((sk.mean > 0.0).then(|| st.mean / sk.mean), None, None)
            };
            Frequency {
                treatment_mean: st.mean,
                control_mean: sk.mean,
                treatment_per_100: st.mean * 100.0,
                control_per_100: sk.mean * 100.0,
                difference: w.difference,
                ci_low: w.ci_low,
                ci_high: w.ci_high,
                statistic: w.statistic,
                df: w.df,
                p_value: w.p_value,
                rate_ratio: rr,
                rate_ratio_ci_low: lo,
                rate_ratio_ci_high: hi,
            }
        });
        let (dt, dk) = (t.day_summary(), k.day_summary());
        let time_to_first = Some(TimeToFirst {
            treatment_reoffenders: t.reoffenders,
            control_reoffenders: k.reoffenders,
            treatment_mean_days: (dt.n > 0).then_some(dt.mean),
            control_mean_days: (dk.n > 0).then_some(dk.mean),
            treatment_median_days: crate::stats::weighted_median(&t.days),
            control_median_days: crate::stats::weighted_median(&k.days),
            welch_p_value: welch(&dt, &dk, options.confidence).ok().map(|w| w.p_value),
            note: "among people who reoffended only: see the survival analysis for everyone",
        });
        let det = detectable_two(
            t.n as f64,
            k.effective_n(),
            r.p2.clamp(1e-9, 1.0 - 1e-9),
            alpha,
            options.power,
        )?;
        let sensitivity = DetectableDifference {
            power: options.power,
            alpha,
            min_detectable_difference_lower: det.min_detectable_rate_lower.map(|p| p - r.p2),
            min_detectable_difference_upper: det.min_detectable_rate_upper.map(|p| p - r.p2),
            method: crate::stats::TWO_SAMPLE_METHOD,
        };
        let rd = r.risk_difference.estimate;
        let (rd_lo, rd_hi) = r.risk_difference.limits();
        let significant = r.risk_difference.excludes(0.0);
        let summary = verdict(
            treatment,
            control,
            (r.p1, r.p2),
            (rd, rd_lo, rd_hi),
            significant,
            options.confidence,
            sensitivity.min_detectable_difference_lower,
        );
        let mut tests = BTreeMap::new();
        if weighted {
            tests.insert("z_robust", r.z_pooled);
        } else {
            tests.insert("z_pooled", r.z_pooled);
            tests.insert("chi_square", r.chi_square);
            tests.insert("chi_square_yates", r.chi_square_yates);
            tests.insert("fisher_exact", r.fisher_exact);
        }
        let mut caveats = vec![caveat];
        if t.n < 60 {
            caveats.push(format!(
                "Only {} people in {treatment}: the Justice Data Lab needs at least 60.",
                t.n
            ));
        }
        Ok(Comparison {
            treatment: treatment.to_string(),
            control: Some(control.to_string()),
            baseline_rate: None,
            baseline_name: None,
            baseline_source: None,
            kind: ComparisonKind::ComparisonGroup,
            treatment_n: t.n,
            treatment_reoffenders: t.reoffenders,
            control_n: Some(k.n),
            control_reoffenders: Some(k.reoffenders),
            treatment_rate: Effect::new(r.p1, wilson.low, wilson.high),
            control_rate: r.p2,
            control_rate_ci: control_wilson,
            risk_difference: r.risk_difference,
            rd_ci_method: match (weighted, options.rd_method) {
                (true, _) => DifferenceInterval::WeightedRobust,
                (false, DiffMethod::Newcombe) => DifferenceInterval::Newcombe,
                (false, DiffMethod::Wald) => DifferenceInterval::Wald,
            },
            relative_risk: r.relative_risk,
            odds_ratio: r.odds_ratio,
            tests,
            frequency,
            time_to_first,
            sensitivity,
            confidence: options.confidence,
            significant,
            significance_basis: "the interval for the risk difference excludes zero",
            summary,
            caveats,
            subgroups: Vec::new(),
            subgroup_adjustment: None,
            e_value: EValueStatement::new(treatment, r.relative_risk),
            period: options.period,
            period_check: None,
        })
    }

    // Over 80 lines: one benchmark comparison (exact interval and tests, detectable difference,
    // verdict); most lines fill the result's fields.
    fn against_baseline(
        treatment: &str,
        p0: f64,
        name: Option<String>,
        source: Option<String>,
        t: &GroupData,
        options: &CompareOptions,
    ) -> Result<Comparison> {
        if t.n == 0 {
            return Err(Error::method("comparison", "empty group"));
        }
        // The verdict and the interval for the difference rest on one basis: the exact
        // (Clopper-Pearson) interval and the central exact test. The "minimum likelihood"
        // two-sided p of R and scipy is reported beside them, but can disagree with any
        // interval at the margin.
        let ExactAgainst {
            test,
            p_central,
            interval: exact,
            significant,
        } = exact_against(t.reoffenders, t.n, p0, options.confidence)?;
        let p = t.reoffenders as f64 / t.n as f64;
        let alpha = 1.0 - options.confidence;
        let odds = |x: f64| x / (1.0 - x);
        let det = detectable_one(t.n as f64, p0, alpha, options.power)?;
        let sensitivity = DetectableDifference {
            power: options.power,
            alpha,
            min_detectable_difference_lower: det.min_detectable_rate_lower.map(|x| x - p0),
            min_detectable_difference_upper: det.min_detectable_rate_upper.map(|x| x - p0),
            method: crate::stats::ONE_SAMPLE_METHOD,
        };
        let label = name.clone().unwrap_or_else(|| "the benchmark".to_string());
        let level = format!("{:.0}%", options.confidence * 100.0);
        let relation = if !significant {
            "not statistically distinguishable from".to_string()
        } else if p < p0 {
            "lower than".to_string()
        } else {
            "higher than".to_string()
        };
        let summary = format!(
            "Descriptive comparison with an external benchmark, not an estimate of the scheme's impact: \
             {}% of people in {treatment} reoffended within 12 months ({level} exact interval {}% to {}%), {relation} \
             the {}% reported for {label} (exact binomial test, central two-sided {}, the test that agrees with the exact interval). The benchmark has no published \
             denominator, outcome definition or comparison group, so a difference may reflect how the figures \
             were counted, or who was diverted, rather than the schemes themselves.",
            pp(p),
            pp(exact.low),
            pp(exact.high),
            pp(p0),
            crate::format::p_clause(&pval(Some(p_central)).unwrap_or_default())
        );
        let mut tests = BTreeMap::new();
        tests.insert(
            "binomial_exact",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(test.p_two_sided),
            },
        );
        tests.insert(
            "binomial_exact_central",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(p_central),
            },
        );
        tests.insert(
            "binomial_exact_less",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(test.p_less),
            },
        );
        tests.insert(
            "binomial_exact_greater",
            Test {
                statistic: Some(t.reoffenders as f64),
                p_value: Some(test.p_greater),
            },
        );
        let mut caveats = vec![
            "An external benchmark is descriptive: it cannot show what would have happened to these people without the scheme.".to_string(),
            format!(
                "The benchmark{}: a 12-month reoffending rate of {:.1}%, that is {:.1}% did not reoffend{}.",
                name.as_deref().map(|n| format!(", {n},")).unwrap_or_default(),
                p0 * 100.0,
                (1.0 - p0) * 100.0,
                source
                    .as_deref()
                    .map(|s| format!(". Source: {s}"))
                    .unwrap_or_default()
            ),
        ];
        if p0 > 0.5 {
            caveats.push(format!(
                "Check the benchmark: a reoffending rate of {:.1}% is unusually high. Schemes often \
                 publish the share who did *not* reoffend: \"80% did not reoffend\" is a reoffending rate \
                 of 0.2, not 0.8.",
                p0 * 100.0
            ));
        }
        if t.n < 60 {
            caveats.push(format!(
                "Only {} people in {treatment}: the Justice Data Lab needs at least 60.",
                t.n
            ));
        }
        Ok(Comparison {
            treatment: treatment.to_string(),
            control: None,
            baseline_rate: Some(p0),
            baseline_name: name,
            baseline_source: source,
            kind: ComparisonKind::ExternalBenchmark,
            treatment_n: t.n,
            treatment_reoffenders: t.reoffenders,
            control_n: None,
            control_reoffenders: None,
            // One interval for the pilot's rate here: the exact one its sentence and test use.
            treatment_rate: Effect::new(p, exact.low, exact.high),
            control_rate: p0,
            control_rate_ci: None,
            risk_difference: Effect::new(p - p0, exact.low - p0, exact.high - p0),
            rd_ci_method: DifferenceInterval::ClopperPearson,
            relative_risk: Some(Effect::new(p / p0, exact.low / p0, exact.high / p0)),
            odds_ratio: (p < 1.0).then(|| {
                Effect::maybe(
                    odds(p) / odds(p0),
                    (exact.low < 1.0).then(|| odds(exact.low) / odds(p0)),
                    (exact.high < 1.0).then(|| odds(exact.high) / odds(p0)),
                )
            }),
            tests,
            frequency: None,
            time_to_first: None,
            sensitivity,
            confidence: options.confidence,
            significant,
            significance_basis: "the exact (Clopper-Pearson) interval for the rate excludes the fixed rate (the central two-sided exact test, binomial_exact_central, below alpha)",
            summary,
            caveats,
            subgroups: Vec::new(),
            subgroup_adjustment: None,
            e_value: None,
            period: Period::Full,
            period_check: None,
        })
    }

    /// The verdict of an unadjusted group comparison: descriptive, never worded as an
    /// effect of the scheme (only an adjusted design, such as matching, is).
    fn descriptive_summary(&self) -> String {
        let control = self.control.as_deref().unwrap_or("the comparison group");
        let level = format!("{:.0}%", self.confidence * 100.0);
        let rd = self.risk_difference.estimate;
        let (rd_lo, rd_hi) = self.risk_difference.limits();
        let (lo, hi) = (pp(rd_lo), pp(rd_hi));
        let head = format!(
            "Unadjusted, descriptive comparison: {}% of people in {} and {}% in {control} reoffended within 12 \
             months",
            pp(self.treatment_rate.estimate),
            self.treatment,
            pp(self.control_rate)
        );
        if self.significant {
            let (word, a, b) = if rd < 0.0 {
                ("lower", pp(-rd_hi), pp(-rd_lo))
            } else {
                ("higher", lo, hi)
            };
            format!(
                "{head}: {word} in {} by between {a} and {b} percentage points ({level} interval). The groups \
                 may differ in who was diverted, so this is not by itself an estimate of the scheme's effect.",
                self.treatment
            )
        } else {
            format!(
                "{head}; the difference ({} percentage points, {level} interval {lo} to {hi}) is not statistically \
                 significant. More people would need to be analysed to tell the groups apart; this should not be \
                 taken to mean that the scheme has no effect.",
                pp(rd)
            )
        }
    }
}

/// The matched verdict in the Justice Data Lab's words: `rates` are (pilot, comparison),
/// `rd` the difference with its interval, `mdd` the smallest detectable reduction.
fn verdict(
    treatment: &str,
    control: &str,
    (p1, p2): (f64, f64),
    (rd, rd_lo, rd_hi): (f64, f64, f64),
    significant: bool,
    confidence: f64,
    mdd: Option<f64>,
) -> String {
    let level = format!("{:.0}%", confidence * 100.0);
    if significant {
        let (word, lo, hi) = if rd < 0.0 {
            ("less", -rd_hi, -rd_lo)
        } else {
            ("more", rd_lo, rd_hi)
        };
        format!(
            "People in {treatment} were {word} likely to reoffend within 12 months than people in {control}: \
             {}% against {}%, a difference of between {} and {} percentage points ({level} interval).",
            pp(p1),
            pp(p2),
            pp(lo),
            pp(hi)
        )
    } else {
        let mdd = mdd
            .map(|d| format!(" With these numbers only a reduction of about {} percentage points or more could reliably be detected.", pp(-d)))
            .unwrap_or_default();
        format!(
            "The 12-month proven reoffending rate was {}% in {treatment} and {}% in {control}; the difference \
             ({} percentage points, {level} interval {} to {}) is not statistically significant. More people would \
             need to be analysed to determine the effect; this should not be taken to mean that the scheme has \
             no effect.{mdd}",
            pp(p1),
            pp(p2),
            pp(rd),
            pp(rd_lo),
            pp(rd_hi)
        )
    }
}

impl Comparison {
    /// Makes a matched comparison's interval, test and verdict those of the difference with
    /// its standard error clustered by matched set (`d`, CR1), so that they account for the
    /// pairing: `rd_ci_method` becomes `cluster_robust_cr1` and `tests` gains `z_cluster`.
    /// The point estimate is the same weighted difference; the other tests stay beside it.
    pub(crate) fn use_clustered_interval(
        &mut self,
        d: &crate::stats::designs::ClusteredDifference,
    ) {
        self.risk_difference = Effect::new(self.risk_difference.estimate, d.ci_low, d.ci_high);
        self.rd_ci_method = DifferenceInterval::ClusterRobust;
        self.tests.insert(
            "z_cluster",
            Test {
                statistic: Some(d.statistic),
                p_value: Some(d.p_value),
            },
        );
        self.significant = self.risk_difference.excludes(0.0);
        self.significance_basis = "the interval for the risk difference, its standard error \
             clustered by matched set (CR1), excludes zero";
        let control = self.control.clone().unwrap_or_default();
        let (lo, hi) = self.risk_difference.limits();
        self.summary = verdict(
            &self.treatment,
            &control,
            (self.treatment_rate.estimate, self.control_rate),
            (self.risk_difference.estimate, lo, hi),
            self.significant,
            self.confidence,
            self.sensitivity.min_detectable_difference_lower,
        );
    }
}
