//! A matched comparison group, as the Justice Data Lab builds one: a propensity model,
//! nearest-neighbour matching on its logit, balance checks, and the comparison on the
//! matched sample.

mod balance;
mod nearest;

use serde::Serialize;

pub use balance::{BalanceRow, balance};
pub use nearest::{MatchSpec, Matches, nearest_neighbour};

use crate::compare::{CompareOptions, Comparison, GroupData};
use crate::data::People;
use crate::design::Design;
use crate::error::{Error, Result};
use crate::measure::{NO_REOFFENCE, Outcomes};
use crate::present::{Table, num};
use crate::stats::{LogisticFit, logistic};

/// The Justice Data Lab's minimum pilot group.
pub const MIN_TREATED: usize = 60;

/// Options for [`MatchedComparison::compute`]. Every field has a documented default.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOptions {
    /// The pilot cohort. Default `divert`.
    pub treatment: String,
    /// The pool of comparison people. Default `comparison`.
    pub control: String,
    /// Covariates of the propensity model (`column`; categorical ones become indicators).
    pub covariates: Vec<String>,
    /// Reference levels, `(column, level)`.
    pub references: Vec<(String, String)>,
    /// Caliper in pooled standard deviations of the logit of the propensity score.
    /// Default 0.2; `None` for no caliper.
    pub caliper: Option<f64>,
    /// Controls per pilot person. Default 1.
    pub ratio: usize,
    /// Whether a control may be matched to several pilot people. Default false.
    pub replace: bool,
    /// Columns matched exactly (e.g. `sex`). Default none.
    pub exact: Vec<String>,
    /// Comparison options on the matched sample.
    pub compare: CompareOptions,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            treatment: "divert".into(),
            control: "comparison".into(),
            covariates: Vec::new(),
            references: Vec::new(),
            caliper: Some(0.2),
            ratio: 1,
            replace: false,
            exact: Vec::new(),
            compare: CompareOptions::default(),
        }
    }
}

/// The propensity model as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropensityModel {
    /// Terms with coefficients and standard errors.
    #[serde(flatten)]
    pub fit: LogisticFit,
    /// Reference levels of categorical covariates.
    pub references: Vec<(String, String)>,
}

/// Sample sizes before and after matching (MatchIt's summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSizes {
    /// Pilot people in the 12-month measure with all covariates.
    pub treated: u64,
    /// Comparison people likewise.
    pub controls: u64,
    /// Pilot people matched.
    pub matched_treated: u64,
    /// Distinct comparison people matched.
    pub matched_controls: u64,
    /// Pilot people with no match within the caliper (discarded).
    pub unmatched_treated: u64,
    /// Comparison people never used.
    pub unmatched_controls: u64,
    /// Kish effective size of the weighted comparison group.
    pub effective_controls: f64,
    /// People left out for a missing covariate.
    pub excluded_missing: u64,
}

/// The three Justice Data Lab headline measures, per 100 people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// "For every 100 people who took part, N reoffended within a year; for every 100
    /// similar people who did not, M did."
    pub rate_per_100: String,
    /// Proven reoffences per 100 people.
    pub frequency_per_100: String,
    /// Days to first reoffence among reoffenders.
    pub days_to_first: String,
}

/// The whole matched analysis (CONTRACT §3 `match`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedComparison {
    /// The propensity model.
    pub propensity_model: PropensityModel,
    /// Balance before and after matching, one row per term.
    pub balance: Vec<BalanceRow>,
    /// Sample sizes.
    pub sample: SampleSizes,
    /// The comparison on the matched sample.
    pub comparison: Comparison,
    /// Headline measures in the Justice Data Lab's words.
    pub headline: Headline,
    /// Caliper width on the logit scale (null without a caliper).
    pub caliper_logit: Option<f64>,
    /// Matching settings.
    pub ratio: usize,
    /// With replacement.
    pub replace: bool,
    /// Exact-matched columns.
    pub exact: Vec<String>,
    /// Terms with |SMD| above 0.1 after matching.
    pub imbalanced_terms: Vec<String>,
    /// Warnings (too few people, imbalance).
    pub warnings: Vec<String>,
}

impl MatchedComparison {
    /// Fits the propensity model, matches, checks balance and compares.
    ///
    /// ```
    /// # fn main() -> reoffending::Result<()> {
    /// let inputs = reoffending::Inputs {
    ///     cohort: "data-samples/cohort.csv".into(),
    ///     offences: "data-samples/offences.csv".into(),
    ///     load: Default::default(),
    /// };
    /// let eval = reoffending::Evaluation::load(&inputs, reoffending::Rules::default())?;
    /// use reoffending::matching::{MatchOptions, MatchedComparison};
    /// let options = MatchOptions {
    ///     covariates: vec!["sex".into(), "age_at_index".into(), "prior_offences".into()],
    ///     ..Default::default()
    /// };
    /// let m = MatchedComparison::compute(&eval.data.people, &eval.outcomes, &options)?;
    /// let prior = m.balance.iter().find(|b| b.covariate == "prior_offences").unwrap();
    /// assert!(prior.smd_after.unwrap().abs() < prior.smd_before.unwrap().abs());
    /// println!("{}", m.headline.rate_per_100);
    /// # Ok(()) }
    /// ```
    pub fn compute(
        people: &People,
        outcomes: &Outcomes,
        options: &MatchOptions,
    ) -> Result<MatchedComparison> {
        if options.covariates.is_empty() {
            return Err(Error::option(
                "--covariates",
                "name the covariates of the propensity model",
            ));
        }
        if options.ratio == 0 {
            return Err(Error::option("--ratio", "must be at least 1"));
        }
        if options.caliper.is_some_and(|c| !(c > 0.0)) {
            return Err(Error::option("--caliper", "must be positive"));
        }
        let code = |label: &str| {
            people.cohort.code_of(label).ok_or_else(|| {
                Error::option(
                    "--treatment/--control",
                    format!(
                        "no cohort `{label}` in the data (cohorts: {})",
                        people.cohort.levels.join(", ")
                    ),
                )
            })
        };
        let (tc, cc) = (code(&options.treatment)?, code(&options.control)?);
        let candidates: Vec<usize> = (0..people.len())
            .filter(|&i| {
                outcomes.eligible[i]
                    && (people.cohort.codes[i] == tc || people.cohort.codes[i] == cc)
            })
            .collect();
        let design = Design::build(
            people,
            &options.covariates,
            &options.references,
            &candidates,
        )?;
        let treated: Vec<bool> = design
            .rows
            .iter()
            .map(|&i| people.cohort.codes[i] == tc)
            .collect();
        let n_t = treated.iter().filter(|t| **t).count();
        let n_c = treated.len() - n_t;
        if n_t == 0 || n_c == 0 {
            return Err(Error::method(
                "matching",
                "needs people with full follow-up and all covariates in both the pilot and the comparison pool",
            ));
        }
        let mut warnings = Vec::new();
        if n_t < MIN_TREATED {
            warnings.push(format!(
                "Only {n_t} pilot people can be matched: the Justice Data Lab needs at least {MIN_TREATED}."
            ));
        }
        let fit = logistic(&treated, &design.columns, &design.names)?;
        let logit: Vec<f64> = (0..design.rows.len())
            .map(|k| fit.linear_predictor(&design.columns, k))
            .collect();
        let caliper_logit = options.caliper.map(|c| c * pooled_sd(&logit, &treated));
        let exact_key = exact_keys(people, &options.exact, &design.rows)?;
        let spec = MatchSpec {
            ratio: options.ratio,
            replace: options.replace,
            caliper: caliper_logit,
        };
        let keys: Vec<u64> = design.rows.iter().map(|&i| people.key[i]).collect();
        let m = nearest_neighbour(&logit, &treated, &exact_key, &keys, &spec);
        let balance = balance(&design, &treated, &m.weights);
        let imbalanced_terms: Vec<String> = balance
            .iter()
            .filter(|b| b.smd_after.is_some_and(|s| s.abs() > 0.1))
            .map(|b| b.covariate.clone())
            .collect();
        if !imbalanced_terms.is_empty() {
            warnings.push(format!(
                "After matching, |SMD| is above 0.1 for: {} (0.25 is the lenient threshold).",
                imbalanced_terms.join(", ")
            ));
        }
        // Outcomes of the matched sample.
        let (mut tc_, mut td, mut tw) = (Vec::new(), Vec::new(), Vec::new());
        let (mut cc_, mut cd, mut cw) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in design.rows.iter().enumerate() {
            let w = m.weights[k];
            if w <= 0.0 {
                continue;
            }
            let count = outcomes.reoffences[i] as f64;
            let day = (outcomes.reoffences[i] > 0 && outcomes.days_to_first[i] != NO_REOFFENCE)
                .then(|| outcomes.days_to_first[i] as f64);
            if treated[k] {
                tc_.push(count);
                td.push(day);
                tw.push(w);
            } else {
                cc_.push(count);
                cd.push(day);
                cw.push(w);
            }
        }
        let matched_treated = tw.len() as u64;
        if matched_treated == 0 {
            return Err(Error::method(
                "matching",
                "no pilot person has a match within the caliper: widen --caliper or use fewer covariates",
            ));
        }
        let t = GroupData::weighted(tc_, td, tw);
        let c = GroupData::weighted(cc_, cd, cw);
        let effective_controls = {
            let sw: f64 = c.weights.iter().sum();
            let sw2: f64 = c.weights.iter().map(|w| w * w).sum();
            sw * sw / sw2
        };
        let comparison = Comparison::from_groups(
            &options.treatment,
            &format!("matched {}", options.control),
            &t,
            &c,
            &options.compare,
            "The comparison group is matched on the covariates listed only: people may still differ in \
             ways the data do not record."
                .to_string(),
        )?;
        let headline = headline(&comparison, &options.treatment);
        let sample = SampleSizes {
            treated: n_t as u64,
            controls: n_c as u64,
            matched_treated,
            matched_controls: c.counts.len() as u64,
            unmatched_treated: n_t as u64 - matched_treated,
            unmatched_controls: (n_c - c.counts.len()) as u64,
            effective_controls,
            excluded_missing: design.excluded_missing,
        };
        Ok(MatchedComparison {
            propensity_model: PropensityModel {
                fit,
                references: design.references.clone(),
            },
            balance,
            sample,
            comparison,
            headline,
            caliper_logit,
            ratio: options.ratio,
            replace: options.replace,
            exact: options.exact.clone(),
            imbalanced_terms,
            warnings,
        })
    }

    /// Tables: model, balance, sample sizes, and the comparison.
    pub fn tables(&self) -> Vec<Table> {
        let mut model = Table::new(
            "Propensity model (logistic regression of pilot membership)",
            &["term", "coef", "se"],
            1,
        );
        for t in &self.propensity_model.fit.coefficients {
            model.push(vec![
                Some(t.name.clone()),
                num(Some(t.coef), 4),
                num(Some(t.se), 4),
            ]);
        }
        model.notes.push(format!(
            "log-likelihood {:.3}, {} iterations, n = {}",
            self.propensity_model.fit.log_likelihood,
            self.propensity_model.fit.iterations,
            self.propensity_model.fit.n
        ));
        let mut bal = Table::new(
            "Balance: standardised mean differences before and after matching",
            &[
                "term",
                "mean pilot",
                "mean comparison",
                "SMD before",
                "mean pilot (matched)",
                "mean comparison (matched)",
                "SMD after",
                "variance ratio",
            ],
            1,
        );
        for b in &self.balance {
            bal.push(vec![
                Some(format!(
                    "{}{}",
                    b.covariate,
                    if b.smd_after.is_some_and(|s| s.abs() > 0.1) {
                        " *"
                    } else {
                        ""
                    }
                )),
                num(Some(b.mean_treated_before), 3),
                num(Some(b.mean_control_before), 3),
                num(b.smd_before, 3),
                num(Some(b.mean_treated_after), 3),
                num(Some(b.mean_control_after), 3),
                num(b.smd_after, 3),
                num(b.variance_ratio_after, 2),
            ]);
        }
        bal.notes
            .push("* |SMD| above 0.1 after matching (the strict threshold).".into());
        let s = &self.sample;
        let mut sizes = Table::new("Sample sizes", &["", "pilot", "comparison"], 1);
        sizes.push(vec![
            Some("all (full follow-up, all covariates)".into()),
            Some(s.treated.to_string()),
            Some(s.controls.to_string()),
        ]);
        sizes.push(vec![
            Some("matched".into()),
            Some(s.matched_treated.to_string()),
            Some(format!(
                "{} (effective {:.1})",
                s.matched_controls, s.effective_controls
            )),
        ]);
        sizes.push(vec![
            Some("unmatched / discarded".into()),
            Some(s.unmatched_treated.to_string()),
            Some(s.unmatched_controls.to_string()),
        ]);
        for w in &self.warnings {
            sizes.notes.push(format!("Warning: {w}"));
        }
        let mut head = Table::new(
            "Headline measures (Justice Data Lab form)",
            &["measure", "finding"],
            1,
        );
        head.push(vec![
            Some("one-year proven reoffending".into()),
            Some(self.headline.rate_per_100.clone()),
        ]);
        head.push(vec![
            Some("frequency".into()),
            Some(self.headline.frequency_per_100.clone()),
        ]);
        head.push(vec![
            Some("time to first reoffence".into()),
            Some(self.headline.days_to_first.clone()),
        ]);
        vec![model, bal, sizes, head, self.comparison.table()]
    }
}

fn pooled_sd(x: &[f64], treated: &[bool]) -> f64 {
    let var = |sel: bool| {
        let v: Vec<f64> = x
            .iter()
            .zip(treated)
            .filter(|(_, t)| **t == sel)
            .map(|(x, _)| *x)
            .collect();
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        if n > 1.0 {
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        }
    };
    ((var(true) + var(false)) / 2.0).sqrt()
}

fn exact_keys(people: &People, exact: &[String], rows: &[usize]) -> Result<Vec<u64>> {
    if exact.is_empty() {
        return Ok(vec![0; rows.len()]);
    }
    let g = crate::measure::Grouping::new(people, exact)?;
    // Group keys include the cohort first: drop it so pilot and comparison share keys.
    let mut labels: Vec<Vec<Option<String>>> = g.keys.iter().map(|k| k[1..].to_vec()).collect();
    labels.sort();
    labels.dedup();
    Ok(rows
        .iter()
        .map(|&i| {
            let k = &g.keys[g.group_of[i] as usize][1..];
            labels
                .binary_search_by(|l| l.as_slice().cmp(k))
                .map_or(u64::MAX, |p| p as u64)
        })
        .collect())
}

fn headline(c: &Comparison, treatment: &str) -> Headline {
    let rate = format!(
        "For every 100 people in {treatment}, {:.0} reoffended within a year; for every 100 similar people who did not take part, {:.0} did.",
        c.treatment_rate * 100.0,
        c.control_rate * 100.0
    );
    let freq = match &c.frequency {
        Some(f) => format!(
            "For every 100 people in {treatment}, {:.0} proven reoffences were committed within a year; for every 100 similar people, {:.0}{}.",
            f.treatment_per_100,
            f.control_per_100,
            if f.p_value < 1.0 - c.confidence {
                ""
            } else {
                " (the difference is not statistically significant)"
            }
        ),
        None => "Not available.".into(),
    };
    let days = match &c.time_to_first {
        Some(d) => match (d.treatment_mean_days, d.control_mean_days) {
            (Some(a), Some(b)) => format!(
                "Among those who reoffended, the first proven reoffence came after {a:.0} days on average in {treatment}, and {b:.0} days among similar people ({}).",
                d.note
            ),
            _ => "Too few reoffenders to compare.".into(),
        },
        None => "Not available.".into(),
    };
    Headline {
        rate_per_100: rate,
        frequency_per_100: freq,
        days_to_first: days,
    }
}
