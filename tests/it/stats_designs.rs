//! The adjusted designs against an independent computation: tests/reference/designs.py
//! computes every design with statsmodels (Logit, WLS with HC1 and cluster covariances, GLM
//! Poisson), numpy and scipy (entropy balancing by BFGS and MINPACK on a standardised dual)
//! on the Rossi recidivism data (tests/fixtures/rossi.csv), a seeded case with a known
//! effect and strong confounding (designs_generated.csv), and a matched sample with tied
//! blocks (designs_matched_*.csv); it writes designs.json. No Python is needed here.

use reoffending::stats::StatsError;
use reoffending::stats::designs::{
    AdjustedDesigns, DesignError, DesignInputs, DesignKind, DesignOptions, DesignRow,
    EntropyOptions, MatchedRows, Terms, adjusted_designs, entropy_balance, fit_propensity,
    matched_difference_clustered,
};
use serde_json::Value;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/designs.json");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/designs.py");
const ROSSI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rossi.csv");
const ROSSI_ROWS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rossi_matched_rows.csv"
);
const GENERATED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/designs_generated.csv"
);
const MATCHED_PEOPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/designs_matched_people.csv"
);
const MATCHED_ROWS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/designs_matched_rows.csv"
);

// ------------------------------------------------------------------------------ helpers

/// A CSV of numbers: header names and columns.
struct Table {
    header: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl Table {
    fn read(path: &str) -> Table {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        let mut columns = vec![Vec::new(); header.len()];
        for line in lines {
            for (c, v) in columns.iter_mut().zip(line.split(',')) {
                c.push(v.trim().parse::<f64>().unwrap());
            }
        }
        Table { header, columns }
    }

    fn col(&self, name: &str) -> &[f64] {
        let j = self.header.iter().position(|h| h == name).unwrap();
        &self.columns[j]
    }

    fn flags(&self, name: &str) -> Vec<bool> {
        self.col(name).iter().map(|v| *v == 1.0).collect()
    }
}

/// Matched rows: person, weight, subclass.
struct Rows {
    person: Vec<usize>,
    weight: Vec<f64>,
    subclass: Vec<u64>,
}

impl Rows {
    fn read(path: &str) -> Rows {
        let t = Table::read(path);
        Rows {
            person: t.col("person").iter().map(|v| *v as usize).collect(),
            weight: t.col("weight").to_vec(),
            subclass: t.col("subclass").iter().map(|v| *v as u64).collect(),
        }
    }

    fn view(&self) -> MatchedRows<'_> {
        MatchedRows {
            person: &self.person,
            weight: &self.weight,
            subclass: &self.subclass,
        }
    }
}

fn reference() -> Value {
    crate::common::reference_json("designs.json")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

/// Relative difference, absolute below 1.
fn diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1.0)
}

fn row(rows: &[DesignRow], kind: DesignKind) -> &DesignRow {
    rows.iter()
        .find(|r| r.design == kind)
        .unwrap_or_else(|| panic!("no {kind} row"))
}

fn kind_of(name: &str) -> DesignKind {
    DesignKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .unwrap()
}

/// Compares every field of our rows with the reference rows; returns the largest relative
/// difference per design, and fails above `tol(design)`.
fn compare_rows(
    ours: &[DesignRow],
    theirs: &Value,
    tol: impl Fn(DesignKind) -> f64,
    what: &str,
) -> Vec<(DesignKind, f64)> {
    let mut worst = Vec::new();
    let rows = theirs.as_array().unwrap();
    assert!(!rows.is_empty(), "{what}: the reference holds no designs");
    for r in rows {
        let kind = kind_of(r["design"].as_str().unwrap());
        let o = row(ours, kind);
        assert_eq!(
            serde_json::to_value(o.estimand).unwrap(),
            r["estimand"],
            "{what} {kind}"
        );
        let pairs = [
            ("estimate", o.estimate),
            ("se", o.se),
            ("ci_low", o.ci_low),
            ("ci_high", o.ci_high),
            ("p_value", o.p_value),
            ("ess_treated", o.ess_treated),
            ("ess_control", o.ess_control),
        ];
        let mut m: f64 = 0.0;
        for (name, ours) in pairs {
            let d = diff(ours, f(&r[name]));
            assert!(
                d <= tol(kind),
                "{what} {kind} {name}: ours {ours}, reference {}, difference {d:e}",
                r[name]
            );
            m = m.max(d);
        }
        let smd = (o.max_abs_smd.unwrap(), f(&r["max_abs_smd"]));
        let d = diff(smd.0, smd.1);
        assert!(d <= tol(kind), "{what} {kind} max_abs_smd: {smd:?}");
        m = m.max(d);
        worst.push((kind, m));
    }
    eprintln!("{what}: largest relative difference per design: {worst:?}");
    worst
}

/// Tolerances of the brief: closed forms 1e-6, iterative designs 1e-5.
fn tolerance(kind: DesignKind) -> f64 {
    match kind {
        DesignKind::EntropyBalancing | DesignKind::DoublyRobust => 1e-5,
        _ => 1e-6,
    }
}

struct Rossi {
    columns: Vec<Vec<f64>>,
    names: Vec<String>,
    treated: Vec<bool>,
    arrest: Vec<bool>,
}

const ROSSI_TERMS: [&str; 6] = ["age", "race", "wexp", "mar", "paro", "prio"];

fn rossi() -> Rossi {
    let t = Table::read(ROSSI);
    Rossi {
        columns: ROSSI_TERMS.iter().map(|n| t.col(n).to_vec()).collect(),
        names: ROSSI_TERMS.iter().map(|n| n.to_string()).collect(),
        treated: t.flags("fin"),
        arrest: t.flags("arrest"),
    }
}

fn run(
    names: &[String],
    terms: Terms<'_>,
    treated: &[bool],
    reoffended: &[bool],
    reoffences: Option<&[f64]>,
    propensity: &[f64],
    matched: Option<MatchedRows<'_>>,
) -> AdjustedDesigns {
    let inputs = DesignInputs {
        names,
        terms,
        treated,
        reoffended,
        reoffences,
        propensity,
        matched,
    };
    adjusted_designs(&inputs, &DesignOptions::default()).unwrap()
}

fn design_error(e: StatsError) -> DesignError {
    match e {
        StatsError::Design(d) => d,
        other => panic!("expected a design error, got {other}"),
    }
}

// -------------------------------------------------------------------------------- tests

#[test]
fn reference_files_exist_and_are_not_empty() {
    for path in [
        REFERENCE,
        SCRIPT,
        ROSSI,
        ROSSI_ROWS,
        GENERATED,
        MATCHED_PEOPLE,
        MATCHED_ROWS,
    ] {
        let len = std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .len();
        assert!(len > 100, "{path} is empty");
    }
    let r = reference();
    for case in ["rossi", "generated", "matched_case"] {
        assert!(!r[case]["designs"].as_array().unwrap().is_empty(), "{case}");
    }
    assert!(r["versions"]["statsmodels"].is_string());
}

#[test]
fn rossi_propensity_matches_statsmodels_logit() {
    let r = reference();
    let d = rossi();
    let p = fit_propensity(Terms::Columns(&d.columns), &d.names, &d.treated).unwrap();
    let coefs = floats(&r["rossi"]["propensity"]["coefficients"]);
    for (ours, theirs) in p.fit.coefficients.iter().zip(&coefs) {
        assert!(diff(ours.coef, *theirs) < 1e-7, "{} {theirs}", ours.coef);
    }
    let scores = floats(&r["rossi"]["propensity_scores"]);
    let worst = p
        .scores
        .iter()
        .zip(&scores)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!("Rossi propensity scores: largest difference from statsmodels {worst:e}");
    assert!(worst < 1e-9);
}

#[test]
fn rossi_designs_match_the_reference() {
    let r = reference();
    let d = rossi();
    let rows = Rows::read(ROSSI_ROWS);
    // The reference's propensity scores, so the designs' formulas are compared alone.
    let e = floats(&r["rossi"]["propensity_scores"]);
    let out = run(
        &d.names,
        Terms::Columns(&d.columns),
        &d.treated,
        &d.arrest,
        None,
        &e,
        Some(rows.view()),
    );
    assert!(out.unavailable.is_empty(), "{:?}", out.unavailable);
    assert_eq!(out.designs.len(), 6);
    let order: Vec<DesignKind> = out.designs.iter().map(|r| r.design).collect();
    assert_eq!(order, DesignKind::ALL);
    compare_rows(&out.designs, &r["rossi"]["designs"], tolerance, "Rossi");

    // Regression after matching: what was fitted.
    let fit = out.matched_regression.as_ref().unwrap();
    assert_eq!(fit.rows as f64, f(&r["rossi"]["matched"]["rows"]));
    assert_eq!(fit.clusters as f64, f(&r["rossi"]["matched"]["clusters"]));
    assert!(fit.dropped_terms.is_empty());

    // Balance tables of ipw and overlap, term by term.
    for (design, key) in [
        (DesignKind::Ipw, "ipw_balance"),
        (DesignKind::Overlap, "overlap_balance"),
    ] {
        let ours = &out
            .balance
            .iter()
            .find(|b| b.design == design)
            .unwrap()
            .terms;
        let theirs = &r["rossi"][key];
        for (j, t) in ours.iter().enumerate() {
            assert!(diff(t.mean_treated, f(&theirs["mean_treated"][j])) < 1e-9);
            assert!(diff(t.mean_control, f(&theirs["mean_control"][j])) < 1e-9);
            assert!(diff(t.smd.unwrap(), f(&theirs["smd"][j])) < 1e-8);
        }
    }
    // The doubly robust outcome model is statsmodels' Logit among controls.
    let coefs = floats(&r["rossi"]["outcome_model"]["coefficients"]);
    let ours = &out.outcome_models[0].coefficients;
    let worst = ours
        .iter()
        .zip(&coefs)
        .map(|(a, b)| diff(*a, *b))
        .fold(0.0, f64::max);
    eprintln!("Rossi outcome model: largest relative difference from statsmodels {worst:e}");
    assert!(worst < 1e-7);
    // The SMD denominators.
    let den = floats(&r["rossi"]["smd_denominators"]);
    for (t, den) in out.balance_before.iter().zip(den) {
        assert!(diff(t.smd.unwrap() * den, t.mean_treated - t.mean_control) < 1e-12);
    }
}

#[test]
fn entropy_balancing_reaches_balance_and_matches_an_independent_solver() {
    let r = reference();
    let d = rossi();
    let eb = entropy_balance(
        Terms::Columns(&d.columns),
        &d.names,
        &d.treated,
        &EntropyOptions::default(),
    )
    .unwrap();
    assert!(eb.converged);
    eprintln!(
        "Rossi entropy balancing: {} Newton iterations, largest imbalance {:e} (scipy: {:e})",
        eb.iterations,
        eb.max_imbalance,
        f(&r["rossi"]["entropy_balancing"]["max_imbalance"])
    );
    assert!(eb.max_imbalance < 1e-8);
    // Check the balance from the weights themselves, not the solver's report.
    let controls: Vec<usize> = (0..d.treated.len()).filter(|&i| !d.treated[i]).collect();
    let sw: f64 = controls.iter().map(|&i| eb.weights[i]).sum();
    assert!((sw - controls.len() as f64).abs() < 1e-9);
    for (j, col) in d.columns.iter().enumerate() {
        let m_c: f64 = controls
            .iter()
            .map(|&i| eb.weights[i] * col[i])
            .sum::<f64>()
            / sw;
        let pilot: Vec<f64> = (0..col.len())
            .filter(|&i| d.treated[i])
            .map(|i| col[i])
            .collect();
        let m_t = pilot.iter().sum::<f64>() / pilot.len() as f64;
        assert!((m_c - m_t).abs() < 1e-8, "{}: {m_c} vs {m_t}", d.names[j]);
    }
    // The weights agree with scipy's (both average 1 among controls).
    let theirs = floats(&r["rossi"]["entropy_balancing"]["weights_first_controls"]);
    let worst = controls
        .iter()
        .zip(&theirs)
        .map(|(&i, w)| diff(eb.weights[i], *w))
        .fold(0.0, f64::max);
    eprintln!("Rossi entropy balancing weights: largest relative difference from scipy {worst:e}");
    assert!(worst < 1e-6);
}

#[test]
fn overlap_weights_balance_the_propensity_terms_exactly() {
    // A property of a logistic propensity score fitted by maximum likelihood: its score
    // equations are Σ_T (1-e) x = Σ_C e x (and Σ_T (1-e) = Σ_C e for the intercept).
    for (names, columns, treated) in [
        {
            let d = rossi();
            (d.names, d.columns, d.treated)
        },
        {
            let t = Table::read(GENERATED);
            let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
            let columns = names.iter().map(|n| t.col(n).to_vec()).collect();
            (names, columns, t.flags("treated"))
        },
    ] {
        let terms = Terms::Columns(&columns);
        let e = fit_propensity(terms, &names, &treated).unwrap();
        let y = vec![false; treated.len()];
        let mut y2 = y.clone();
        y2[0] = true;
        let out = run(&names, terms, &treated, &y2, None, &e.scores, None);
        let bal = &out
            .balance
            .iter()
            .find(|b| b.design == DesignKind::Overlap)
            .unwrap()
            .terms;
        for t in bal {
            assert!(
                (t.mean_treated - t.mean_control).abs() < 1e-9,
                "{}: {} vs {}",
                t.term,
                t.mean_treated,
                t.mean_control
            );
        }
        let smd = row(&out.designs, DesignKind::Overlap).max_abs_smd.unwrap();
        eprintln!("overlap weights: largest |SMD| {smd:e}");
        assert!(smd < 1e-9);
    }
}

#[test]
fn designs_do_not_depend_on_row_order() {
    let d = rossi();
    let rows = Rows::read(ROSSI_ROWS);
    let n = d.treated.len();
    let counts: Vec<f64> = d.columns[5].iter().map(|p| (p / 3.0).floor()).collect();
    let compute = |perm: &[usize]| {
        // perm[new] = old
        let columns: Vec<Vec<f64>> = d
            .columns
            .iter()
            .map(|c| perm.iter().map(|&o| c[o]).collect())
            .collect();
        let treated: Vec<bool> = perm.iter().map(|&o| d.treated[o]).collect();
        let arrest: Vec<bool> = perm.iter().map(|&o| d.arrest[o]).collect();
        let count: Vec<f64> = perm.iter().map(|&o| counts[o]).collect();
        let mut inverse = vec![0; n];
        for (new, &old) in perm.iter().enumerate() {
            inverse[old] = new;
        }
        // Matched rows in reverse order, persons renumbered.
        let person: Vec<usize> = rows.person.iter().rev().map(|&p| inverse[p]).collect();
        let weight: Vec<f64> = rows.weight.iter().rev().copied().collect();
        let subclass: Vec<u64> = rows.subclass.iter().rev().copied().collect();
        let terms = Terms::Columns(&columns);
        let e = fit_propensity(terms, &d.names, &treated).unwrap();
        run(
            &d.names,
            terms,
            &treated,
            &arrest,
            Some(&count),
            &e.scores,
            Some(MatchedRows {
                person: &person,
                weight: &weight,
                subclass: &subclass,
            }),
        )
    };
    let identity: Vec<usize> = (0..n).collect();
    let shuffled: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
    let (a, b) = (compute(&identity), compute(&shuffled));
    assert!(a.unavailable.is_empty() && b.unavailable.is_empty());
    assert_eq!(a.designs.len(), 6);
    assert_eq!(a.frequency_designs.len(), 6);
    for (x, y) in a
        .designs
        .iter()
        .chain(&a.frequency_designs)
        .zip(b.designs.iter().chain(&b.frequency_designs))
    {
        assert_eq!(x.design, y.design);
        for (p, q) in [
            (x.estimate, y.estimate),
            (x.se, y.se),
            (x.ess_control, y.ess_control),
            (x.max_abs_smd.unwrap(), y.max_abs_smd.unwrap()),
        ] {
            assert!(diff(p, q) < 1e-9, "{}: {p} vs {q}", x.design);
        }
    }
}

#[test]
fn row_major_terms_give_the_same_designs_as_columns() {
    let d = rossi();
    let rows = Rows::read(ROSSI_ROWS);
    let n = d.treated.len();
    let values: Vec<f64> = (0..n)
        .flat_map(|i| d.columns.iter().map(move |c| c[i]))
        .collect();
    let by_row = Terms::RowMajor {
        values: &values,
        terms: 6,
    };
    let by_col = Terms::Columns(&d.columns);
    let e1 = fit_propensity(by_col, &d.names, &d.treated).unwrap();
    let e2 = fit_propensity(by_row, &d.names, &d.treated).unwrap();
    assert_eq!(e1.scores, e2.scores);
    let a = run(
        &d.names,
        by_col,
        &d.treated,
        &d.arrest,
        None,
        &e1.scores,
        Some(rows.view()),
    );
    let b = run(
        &d.names,
        by_row,
        &d.treated,
        &d.arrest,
        None,
        &e1.scores,
        Some(rows.view()),
    );
    assert_eq!(a, b);
}

#[test]
fn generated_case_adjusted_designs_recover_the_known_effect() {
    let r = reference();
    let g = &r["generated"];
    let t = Table::read(GENERATED);
    let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
    let columns: Vec<Vec<f64>> = names.iter().map(|n| t.col(n).to_vec()).collect();
    let treated = t.flags("treated");
    let reoffended = t.flags("reoffended");
    let counts = t.col("reoffences").to_vec();
    let terms = Terms::Columns(&columns);
    let e = fit_propensity(terms, &names, &treated).unwrap();
    let out = run(
        &names,
        terms,
        &treated,
        &reoffended,
        Some(&counts),
        &e.scores,
        None,
    );
    assert!(out.unavailable.is_empty(), "{:?}", out.unavailable);
    compare_rows(&out.designs, &g["designs"], tolerance, "generated");
    compare_rows(
        &out.frequency_designs,
        &g["frequency_designs"],
        tolerance,
        "generated, reoffences",
    );
    let poisson = floats(&g["frequency_outcome_model"]["coefficients"]);
    let ours = &out.outcome_models[1].coefficients;
    for (a, b) in ours.iter().zip(&poisson) {
        assert!(diff(*a, *b) < 1e-7, "Poisson outcome model {a} vs {b}");
    }

    // The truth: a risk difference of -0.10 for everyone (ATT = ATO).
    let truth = f(&g["true_risk_difference"]);
    for row in &out.designs {
        let z = (row.estimate - truth) / row.se;
        eprintln!(
            "generated {}: {:.4} (se {:.4}), z from truth {z:.2}",
            row.design, row.estimate, row.se
        );
        assert!(z.abs() < 2.5, "{} misses the truth: {row:?}", row.design);
        assert!(row.ci_low < truth && truth < row.ci_high);
    }
    // The unadjusted difference does not recover it.
    let mean = |g: bool| {
        let v: Vec<f64> = (0..treated.len())
            .filter(|&i| treated[i] == g)
            .map(|i| f64::from(u8::from(reoffended[i])))
            .collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (m, m * (1.0 - m) / v.len() as f64)
    };
    let ((m1, v1), (m0, v0)) = (mean(true), mean(false));
    let naive_z = (m1 - m0 - truth) / (v1 + v0).sqrt();
    eprintln!("generated naive: {:.4}, z from truth {naive_z:.2}", m1 - m0);
    assert!((m1 - m0 - f(&g["naive"]["estimate"])).abs() < 1e-12);
    assert!(naive_z > 4.0);
    // Reoffences per person: the ATT designs recover the sample ATT.
    let att = f(&g["sample_att_reoffences"]);
    for row in out
        .frequency_designs
        .iter()
        .filter(|r| r.design != DesignKind::Overlap)
    {
        assert!(
            ((row.estimate - att) / row.se).abs() < 2.5,
            "{row:?} vs {att}"
        );
    }
}

#[test]
fn matched_sample_with_tied_blocks_matches_statsmodels_clustered() {
    let r = reference();
    let m = &r["matched_case"];
    let t = Table::read(MATCHED_PEOPLE);
    let band = t.col("age_band");
    let mut columns: Vec<Vec<f64>> = (1..=4)
        .map(|k| {
            band.iter()
                .map(|b| f64::from(u8::from(*b == k as f64)))
                .collect()
        })
        .collect();
    columns.push(t.col("female").to_vec());
    columns.push(t.col("prior").to_vec());
    let names: Vec<String> = m["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let treated = t.flags("treated");
    let reoffended = t.flags("reoffended");
    let counts = t.col("reoffences").to_vec();
    let rows = Rows::read(MATCHED_ROWS);
    assert!(rows.weight.iter().any(|w| *w < 1.0), "tied blocks expected");
    let terms = Terms::Columns(&columns);
    let e = fit_propensity(terms, &names, &treated).unwrap();
    let out = run(
        &names,
        terms,
        &treated,
        &reoffended,
        Some(&counts),
        &e.scores,
        Some(rows.view()),
    );
    let matched: Vec<DesignRow> = out
        .designs
        .iter()
        .filter(|r| {
            matches!(
                r.design,
                DesignKind::Matched | DesignKind::MatchedRegression
            )
        })
        .cloned()
        .collect();
    compare_rows(&matched, &m["designs"], |_| 1e-6, "matched case");
    let matched_freq: Vec<DesignRow> = out
        .frequency_designs
        .iter()
        .filter(|r| {
            matches!(
                r.design,
                DesignKind::Matched | DesignKind::MatchedRegression
            )
        })
        .cloned()
        .collect();
    compare_rows(
        &matched_freq,
        &m["frequency_designs"],
        |_| 1e-6,
        "matched case, reoffences",
    );
    let fit = out.matched_regression.as_ref().unwrap();
    assert_eq!(fit.rows as f64, f(&m["matched"]["rows"]));
    assert_eq!(fit.clusters as f64, f(&m["matched"]["clusters"]));
    // Balance of the matched sample term by term.
    let bal = &out.balance[0].terms;
    for (j, t) in bal.iter().enumerate() {
        assert!(
            diff(
                t.mean_treated,
                f(&m["matched"]["balance"]["mean_treated"][j])
            ) < 1e-12
        );
        assert!(
            diff(
                t.mean_control,
                f(&m["matched"]["balance"]["mean_control"][j])
            ) < 1e-12
        );
    }
}

#[test]
fn matched_difference_clustered_by_set_matches_statsmodels() {
    // The matched comparison's headline interval: the tied-block matched sample, WLS of the
    // outcome on an intercept and treatment, CR1 clustered by subclass (designs.py).
    let r = reference();
    let m = &r["matched_case"];
    let t = Table::read(MATCHED_PEOPLE);
    let treated = t.flags("treated");
    let reoffended = t.col("reoffended").to_vec();
    let counts = t.col("reoffences").to_vec();
    let rows = Rows::read(MATCHED_ROWS);
    for (y, key) in [
        (&reoffended, "clustered_difference"),
        (&counts, "frequency_clustered_difference"),
    ] {
        let d = matched_difference_clustered(&rows.view(), &treated, |i| y[i], 0.95).unwrap();
        let want = &m[key];
        assert!(diff(d.estimate, f(&want["estimate"])) < 1e-12, "{key}");
        assert!(
            diff(d.se, f(&want["se"])) < 1e-9,
            "{key}: {} vs {}",
            d.se,
            want["se"]
        );
        assert!(diff(d.ci_low, f(&want["ci_low"])) < 1e-9, "{key}");
        assert!(diff(d.ci_high, f(&want["ci_high"])) < 1e-9, "{key}");
        assert!(diff(d.p_value, f(&want["p_value"])) < 1e-9, "{key}");
        assert_eq!(d.clusters as f64, f(&want["clusters"]));
        assert_eq!(d.rows as f64, f(&want["rows"]));
        // The point estimate is the `matched` design's; only the standard error differs.
        let matched = &m[if key == "clustered_difference" {
            "designs"
        } else {
            "frequency_designs"
        }][0];
        assert!(diff(d.estimate, f(&matched["estimate"])) < 1e-12);
    }
}

#[test]
fn a_term_constant_in_the_matched_sample_is_dropped_from_the_regression() {
    // Exact matching on a term makes it constant within the matched rows when every pair has
    // the same level: here all matched people have x2 = 1.
    let x1 = vec![0.1, 0.5, 0.9, 0.2, 0.4, 0.6, 0.8, 0.3, 0.7, 0.5];
    let x2 = vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
    let columns = vec![x1, x2];
    let names = vec!["x1".to_string(), "x2".to_string()];
    let treated = [
        true, true, true, false, false, false, false, false, false, false,
    ];
    let y = [
        true, false, true, false, true, false, false, true, false, true,
    ];
    let e = vec![0.3; 10];
    let person = [0, 3, 1, 4, 2, 5, 9];
    let weight = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5];
    let subclass = [1, 1, 2, 2, 3, 3, 3];
    let out = run(
        &names,
        Terms::Columns(&columns),
        &treated,
        &y,
        None,
        &e,
        Some(MatchedRows {
            person: &person,
            weight: &weight,
            subclass: &subclass,
        }),
    );
    let fit = out.matched_regression.unwrap();
    assert_eq!(fit.dropped_terms, vec!["x2".to_string()]);
    assert_eq!(fit.parameters, 3);
    assert!(
        row(&out.designs, DesignKind::MatchedRegression)
            .se
            .is_finite()
    );
}

#[test]
fn matched_wald_with_one_to_one_pairs_is_the_textbook_formula() {
    let (columns, names, treated, y, e) = small();
    // Pairs (0, 3), (1, 4), (2, 5): pilot 1/3 reoffended, comparison 2/3.
    let person = [0, 3, 1, 4, 2, 5];
    let weight = [1.0; 6];
    let subclass = [1, 1, 2, 2, 3, 3];
    let m = MatchedRows {
        person: &person,
        weight: &weight,
        subclass: &subclass,
    };
    let out = try_run(&columns, &names, &treated, &y, None, &e, Some(m)).unwrap();
    let r = row(&out.designs, DesignKind::Matched);
    let (p1, p0, n) = (1.0 / 3.0, 2.0 / 3.0, 3.0);
    assert!((r.estimate - (p1 - p0)).abs() < 1e-15);
    let se = (p1 * (1.0 - p1) / n + p0 * (1.0 - p0) / n).sqrt();
    assert!((r.se - se).abs() < 1e-15);
    assert_eq!((r.ess_treated, r.ess_control), (3.0, 3.0));
}

#[test]
fn no_terms_at_all_is_not_a_panic() {
    let (_, _, treated, y, e) = small();
    let columns: Vec<Vec<f64>> = Vec::new();
    let out = try_run(&columns, &[], &treated, &y, None, &e, None).unwrap();
    let eb = row(&out.designs, DesignKind::EntropyBalancing);
    let naive = eb.estimate; // uniform weights without terms: the unadjusted difference
    assert_eq!(eb.max_abs_smd, None);
    assert!((naive - (1.0 / 3.0 - 3.0 / 5.0)).abs() < 1e-12);
}

// ------------------------------------------------------------------- degenerate inputs

/// Terms, names, treated, reoffended, propensity scores.
type Small = (Vec<Vec<f64>>, Vec<String>, Vec<bool>, Vec<bool>, Vec<f64>);

fn small() -> Small {
    let columns = vec![
        vec![20.0, 25.0, 30.0, 22.0, 28.0, 35.0, 19.0, 40.0],
        vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
    ];
    let names = vec!["age".to_string(), "male".to_string()];
    let treated = vec![true, true, true, false, false, false, false, false];
    let y = vec![true, false, false, true, true, false, false, true];
    let e = vec![0.4, 0.35, 0.45, 0.3, 0.4, 0.35, 0.3, 0.25];
    (columns, names, treated, y, e)
}

fn try_run(
    columns: &[Vec<f64>],
    names: &[String],
    treated: &[bool],
    y: &[bool],
    counts: Option<&[f64]>,
    e: &[f64],
    matched: Option<MatchedRows<'_>>,
) -> Result<AdjustedDesigns, StatsError> {
    adjusted_designs(
        &DesignInputs {
            names,
            terms: Terms::Columns(columns),
            treated,
            reoffended: y,
            reoffences: counts,
            propensity: e,
            matched,
        },
        &DesignOptions::default(),
    )
}

#[test]
fn degenerate_inputs_are_errors_not_panics() {
    let (columns, names, treated, y, e) = small();
    // The baseline works.
    let ok = try_run(&columns, &names, &treated, &y, None, &e, None).unwrap();
    assert!(!ok.designs.is_empty());

    // No comparison people, no pilot people.
    let all = vec![true; 8];
    let err = design_error(try_run(&columns, &names, &all, &y, None, &e, None).unwrap_err());
    assert!(matches!(err, DesignError::Groups { .. }), "{err}");
    let none = vec![false; 8];
    let err = design_error(try_run(&columns, &names, &none, &y, None, &e, None).unwrap_err());
    assert!(matches!(err, DesignError::Groups { .. }), "{err}");

    // A propensity score of 1 (infinite odds weight), and a NaN score.
    let mut e1 = e.clone();
    e1[4] = 1.0;
    let err = design_error(try_run(&columns, &names, &treated, &y, None, &e1, None).unwrap_err());
    assert!(
        matches!(err, DesignError::Propensity { row: 4, .. }),
        "{err}"
    );
    e1[4] = f64::NAN;
    let err = design_error(try_run(&columns, &names, &treated, &y, None, &e1, None).unwrap_err());
    assert!(
        matches!(err, DesignError::NonFinite { row: 4, .. }),
        "{err}"
    );

    // A non-finite term.
    let mut c2 = columns.clone();
    c2[0][6] = f64::INFINITY;
    let err = design_error(try_run(&c2, &names, &treated, &y, None, &e, None).unwrap_err());
    assert!(
        matches!(err, DesignError::NonFinite { row: 6, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`age`"));

    // Lengths.
    let err =
        design_error(try_run(&columns, &names, &treated, &y[..7], None, &e, None).unwrap_err());
    assert!(matches!(err, DesignError::Shape { .. }), "{err}");
    let err =
        design_error(try_run(&columns, &names[..1], &treated, &y, None, &e, None).unwrap_err());
    assert!(matches!(err, DesignError::Shape { .. }), "{err}");

    // A negative count.
    let counts = [0.0, 1.0, -1.0, 0.0, 2.0, 0.0, 0.0, 1.0];
    let err =
        design_error(try_run(&columns, &names, &treated, &y, Some(&counts), &e, None).unwrap_err());
    assert!(matches!(err, DesignError::Count { row: 2, .. }), "{err}");

    // Matched rows: a zero weight, an unknown person, no comparison rows.
    let person = [0, 3, 1, 4];
    let subclass = [1, 1, 2, 2];
    let zero = [1.0, 0.0, 1.0, 1.0];
    let m = MatchedRows {
        person: &person,
        weight: &zero,
        subclass: &subclass,
    };
    let err = design_error(try_run(&columns, &names, &treated, &y, None, &e, Some(m)).unwrap_err());
    assert!(
        matches!(err, DesignError::MatchedRow { row: 1, .. }),
        "{err}"
    );
    let unknown = [0, 3, 1, 40];
    let ones = [1.0; 4];
    let m = MatchedRows {
        person: &unknown,
        weight: &ones,
        subclass: &subclass,
    };
    let err = design_error(try_run(&columns, &names, &treated, &y, None, &e, Some(m)).unwrap_err());
    assert!(
        matches!(err, DesignError::MatchedRow { row: 3, .. }),
        "{err}"
    );
    let pilots = [0, 1, 2, 0];
    let m = MatchedRows {
        person: &pilots,
        weight: &ones,
        subclass: &subclass,
    };
    let err = design_error(try_run(&columns, &names, &treated, &y, None, &e, Some(m)).unwrap_err());
    assert!(matches!(err, DesignError::Groups { .. }), "{err}");

    // One subclass: the clustered design is unavailable, the others are computed.
    let person = [0, 3, 1, 4];
    let one = [7, 7, 7, 7];
    let m = MatchedRows {
        person: &person,
        weight: &ones,
        subclass: &one,
    };
    let out = try_run(&columns, &names, &treated, &y, None, &e, Some(m)).unwrap();
    assert!(
        out.unavailable
            .iter()
            .any(|u| u.design == DesignKind::MatchedRegression
                && matches!(u.error, DesignError::TooFewClusters { clusters: 1 }))
    );
    assert!(out.designs.iter().any(|r| r.design == DesignKind::Matched));

    // A confidence level outside (0, 1).
    let bad = adjusted_designs(
        &DesignInputs {
            names: &names,
            terms: Terms::Columns(&columns),
            treated: &treated,
            reoffended: &y,
            reoffences: None,
            propensity: &e,
            matched: None,
        },
        &DesignOptions {
            confidence: 1.5,
            ..DesignOptions::default()
        },
    );
    assert!(bad.is_err());
}

#[test]
fn infeasible_entropy_balance_is_a_clear_error() {
    let (mut columns, names, treated, y, e) = small();
    // Every pilot person is male, every comparison person too but one: the pilot mean (1)
    // is at the edge of the comparison range [0, 1].
    columns[1] = vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let err = entropy_balance(
        Terms::Columns(&columns),
        &names,
        &treated,
        &EntropyOptions::default(),
    )
    .unwrap_err();
    let err = design_error(err);
    assert!(
        matches!(&err, DesignError::Infeasible { term, .. } if term == "male"),
        "{err}"
    );
    eprintln!("infeasible: {err}");
    assert!(err.to_string().contains("infeasible"));
    // In the side-by-side table it is listed as unavailable; the other designs stand.
    let out = try_run(&columns, &names, &treated, &y, None, &e, None).unwrap();
    let u = out
        .unavailable
        .iter()
        .find(|u| u.design == DesignKind::EntropyBalancing)
        .unwrap();
    assert!(matches!(u.error, DesignError::Infeasible { .. }));
    assert!(out.entropy.is_none());
    assert!(out.designs.iter().any(|r| r.design == DesignKind::Ipw));
    assert!(
        !out.designs
            .iter()
            .any(|r| r.design == DesignKind::EntropyBalancing)
    );

    // Jointly infeasible: each pilot mean inside its term's range, but outside the convex
    // hull of the comparison people (x1 + x2 <= 1 for all of them, 1.6 on average for pilots).
    let columns = vec![
        vec![0.8, 0.9, 0.7, 0.0, 1.0, 0.0, 0.5, 0.2],
        vec![0.8, 0.7, 0.9, 0.0, 0.0, 1.0, 0.5, 0.3],
    ];
    let err = entropy_balance(
        Terms::Columns(&columns),
        &names,
        &treated,
        &EntropyOptions::default(),
    )
    .unwrap_err();
    let err = design_error(err);
    eprintln!("jointly infeasible: {err}");
    assert!(matches!(err, DesignError::NoOverlap { .. }), "{err}");
}

#[test]
fn no_variation_gives_no_nan() {
    let (columns, names, treated, _, e) = small();
    // Nobody reoffends: every difference is 0 with standard error 0 (p = 1); the outcome
    // model cannot be fitted, so the doubly robust design is unavailable.
    let y = vec![false; 8];
    let out = try_run(&columns, &names, &treated, &y, None, &e, None).unwrap();
    for r in &out.designs {
        assert_eq!((r.estimate, r.se, r.p_value), (0.0, 0.0, 1.0), "{r:?}");
    }
    assert!(
        out.unavailable
            .iter()
            .any(|u| u.design == DesignKind::DoublyRobust)
    );
    // Everyone in the pilot reoffends, nobody else: no standard error for a difference of 1.
    let y: Vec<bool> = treated.clone();
    let out = try_run(&columns, &names, &treated, &y, None, &e, None).unwrap();
    assert!(out.designs.is_empty(), "{:?}", out.designs);
    assert!(
        out.unavailable
            .iter()
            .any(|u| matches!(u.error, DesignError::NoVariation { .. }))
    );
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("NaN"));
}

#[test]
fn contract_names_in_json() {
    let (columns, names, treated, y, e) = small();
    let out = try_run(&columns, &names, &treated, &y, None, &e, None).unwrap();
    let v = serde_json::to_value(&out).unwrap();
    let first = &v["designs"][0];
    for key in [
        "design",
        "estimand",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "ess_treated",
        "ess_control",
        "max_abs_smd",
    ] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let names: Vec<&str> = v["designs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["design"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ipw", "overlap", "entropy_balancing", "doubly_robust"]
    );
    assert_eq!(v["designs"][1]["estimand"], "ATO");
}

/// Timing at scale (not run by default): `cargo test --release --test it -- --ignored scale`
/// with `DESIGNS_N` people (default 2,000,000), 20 terms and a 5% pilot.
#[test]
#[ignore]
fn scale() {
    let n: usize = std::env::var("DESIGNS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let k = 20;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut unif = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let columns: Vec<Vec<f64>> = (0..k)
        .map(|j| {
            (0..n)
                .map(|_| {
                    if j % 2 == 0 {
                        unif() * 2.0 - 1.0
                    } else {
                        f64::from(u8::from(unif() < 0.3))
                    }
                })
                .collect()
        })
        .collect();
    let names: Vec<String> = (0..k).map(|j| format!("x{j}")).collect();
    let lin: Vec<f64> = (0..n)
        .map(|i| -3.2 + 0.3 * columns[0][i] + 0.4 * columns[1][i] - 0.2 * columns[2][i])
        .collect();
    let treated: Vec<bool> = lin
        .iter()
        .map(|l| unif() < 1.0 / (1.0 + (-l).exp()))
        .collect();
    let reoffended: Vec<bool> = (0..n)
        .map(|i| unif() < 0.25 + 0.1 * columns[1][i])
        .collect();
    let counts: Vec<f64> = reoffended
        .iter()
        .map(|r| {
            if *r {
                1.0 + (unif() * 3.0).floor()
            } else {
                0.0
            }
        })
        .collect();
    let terms = Terms::Columns(&columns);
    // CPU seconds of this process (Linux), as the machine may be shared.
    let cpu = || {
        std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| {
            let f: Vec<&str> = s
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let ticks = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            (ticks(11) + ticks(12)) / 100.0
        })
    };
    let c0 = cpu();
    let t0 = std::time::Instant::now();
    let e = fit_propensity(terms, &names, &treated).unwrap();
    let (t1, c1) = (std::time::Instant::now(), cpu());
    let out = run(
        &names,
        terms,
        &treated,
        &reoffended,
        Some(&counts),
        &e.scores,
        None,
    );
    let (t2, c2) = (std::time::Instant::now(), cpu());
    let eb = entropy_balance(terms, &names, &treated, &EntropyOptions::default()).unwrap();
    eprintln!(
        "entropy balancing alone: {:.2?} wall, {:.2} s CPU ({} iterations)",
        t2.elapsed(),
        cpu() - c2,
        eb.iterations
    );
    eprintln!(
        "CPU seconds: propensity fit {:.2}, all weighting designs {:.2}",
        c1 - c0,
        c2 - c1
    );
    eprintln!(
        "n = {n}, k = {k}, pilot {}: propensity fit {:.2?}, all weighting designs (both outcomes) {:.2?}; entropy balancing {} iterations, outcome models {:?} iterations",
        out.treated,
        t1 - t0,
        t2 - t1,
        out.entropy.as_ref().map_or(0, |e| e.iterations),
        out.outcome_models
            .iter()
            .map(|m| m.iterations)
            .collect::<Vec<_>>()
    );
    assert!(out.unavailable.is_empty());
}
