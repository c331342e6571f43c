//! Kaplan-Meier, log-rank and Cox against lifelines and statsmodels.
//! Reference values: tests/reference/survival.json, made by tests/reference/survival.py.

use reoffending::stats::{KaplanMeier, KmInterval, Ties, cox, logrank};
use serde_json::Value;

use crate::common::{Tolerance, assert_close};

fn reference() -> Value {
    crate::common::reference_json("survival.json")
}

// Relative, with an absolute floor of 1e-12 for figures at zero.
/// Closed forms: survival, log-rank, log-likelihood.
const STATS: Tolerance = Tolerance::new(1e-9, 1e-12);
/// Iterative fits and beta / normal quantile intervals against statsmodels and lifelines.
const FIT: Tolerance = Tolerance::new(1e-6, 1e-12);
/// Cox p-values against statsmodels.
const COX_P: Tolerance = Tolerance::new(1e-5, 1e-12);
/// lifelines' Cox fit, which stops at a looser tolerance.
const LIFELINES: Tolerance = Tolerance::new(1e-4, 1e-12);
/// lifelines' Cox p-values.
const LIFELINES_P: Tolerance = Tolerance::new(1e-3, 1e-12);

struct Data {
    time: Vec<f64>,
    event: Vec<bool>,
    group: Vec<usize>,
    x1: Vec<f64>,
    x2: Vec<f64>,
    stratum: Vec<usize>,
}

fn data(r: &Value) -> Data {
    let col = |k: &str| {
        r["data"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect::<Vec<f64>>()
    };
    Data {
        time: col("time"),
        event: col("event").iter().map(|v| *v == 1.0).collect(),
        group: col("group").iter().map(|v| *v as usize).collect(),
        x1: col("x1"),
        x2: col("x2"),
        stratum: col("stratum").iter().map(|v| *v as usize).collect(),
    }
}

#[test]
fn kaplan_meier_matches_lifelines() {
    let r = reference();
    let d = data(&r);
    for km_ref in crate::common::cases(&r, "km") {
        let keep: Vec<usize> = (0..d.time.len())
            .filter(|&i| {
                km_ref["group"]
                    .as_u64()
                    .is_none_or(|g| d.group[i] == g as usize)
            })
            .collect();
        let t: Vec<f64> = keep.iter().map(|&i| d.time[i]).collect();
        let e: Vec<bool> = keep.iter().map(|&i| d.event[i]).collect();
        let km = KaplanMeier::fit(&t, &e, 0.95, KmInterval::LogLog).unwrap();
        let rows = crate::common::cases(km_ref, "table");
        assert_eq!(km.table.len(), rows.len());
        for (got, want) in km.table.iter().zip(rows) {
            assert_eq!(got.time, want["time"].as_f64().unwrap());
            assert_eq!(got.at_risk, want["at_risk"].as_u64().unwrap());
            assert_eq!(got.events, want["events"].as_u64().unwrap());
            assert_eq!(got.censored, want["censored"].as_u64().unwrap());
            assert_close(
                got.survival,
                want["survival"].as_f64().unwrap(),
                STATS,
                &format!("S at {}", got.time),
            );
            assert_close(
                got.ci_low,
                want["ci_low"].as_f64().unwrap(),
                FIT,
                &format!("low at {}", got.time),
            );
            assert_close(
                got.ci_high,
                want["ci_high"].as_f64().unwrap(),
                FIT,
                &format!("high at {}", got.time),
            );
        }
        assert_eq!(km.median(), km_ref["median"].as_f64());
        let (lo, hi) = km.median_ci();
        assert_eq!(lo, km_ref["median_ci"][0].as_f64());
        assert_eq!(hi, km_ref["median_ci"][1].as_f64());
        assert_close(
            km.rmst(30.0),
            km_ref["rmst_30"].as_f64().unwrap(),
            STATS,
            "restricted mean to 30",
        );
        for a in crate::common::cases(km_ref, "at") {
            let s = km.survival_at(a["time"].as_f64().unwrap()).survival;
            assert_close(
                s,
                a["survival"].as_f64().unwrap(),
                STATS,
                &format!("S at {}", a["time"]),
            );
        }
    }
}

#[test]
fn logrank_matches_lifelines_and_statsmodels() {
    let r = reference();
    let d = data(&r);
    let two: Vec<usize> = (0..d.time.len()).filter(|&i| d.group[i] != 1).collect();
    let sub = |v: &Vec<f64>| two.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let e: Vec<bool> = two.iter().map(|&i| d.event[i]).collect();
    let g: Vec<usize> = two.iter().map(|&i| usize::from(d.group[i] == 2)).collect();
    let lr = logrank(&sub(&d.time), &e, &g, None).unwrap();
    assert_close(
        lr.statistic,
        r["logrank_two"]["statistic"].as_f64().unwrap(),
        STATS,
        "log-rank (two groups)",
    );
    assert_close(
        lr.p_value,
        r["logrank_two"]["p_value"].as_f64().unwrap(),
        STATS,
        "log-rank (two groups) p",
    );
    let lr = logrank(&d.time, &d.event, &d.group, None).unwrap();
    assert_eq!(lr.df, 2);
    assert_close(
        lr.statistic,
        r["logrank_three"]["statistic"].as_f64().unwrap(),
        STATS,
        "log-rank (three groups)",
    );
    assert_close(
        lr.p_value,
        r["logrank_three"]["p_value"].as_f64().unwrap(),
        STATS,
        "log-rank (three groups) p",
    );
    let lr = logrank(&d.time, &d.event, &d.group, Some(&d.stratum)).unwrap();
    assert_close(
        lr.statistic,
        r["logrank_stratified"]["statistic"].as_f64().unwrap(),
        STATS,
        "stratified log-rank",
    );
    assert_close(
        lr.p_value,
        r["logrank_stratified"]["p_value"].as_f64().unwrap(),
        STATS,
        "stratified log-rank p",
    );
    assert!(
        logrank(&d.time, &d.event, &vec![0; d.time.len()], None).is_err(),
        "one group"
    );
}

fn design(d: &Data) -> (Vec<Vec<f64>>, Vec<String>) {
    let g1 = d.group.iter().map(|&g| f64::from(g == 1)).collect();
    let g2 = d.group.iter().map(|&g| f64::from(g == 2)).collect();
    (
        vec![d.x1.clone(), d.x2.clone(), g1, g2],
        ["x1", "x2", "group=1", "group=2"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    )
}

#[test]
fn kaplan_meier_at_other_levels_and_transforms() {
    let r = reference();
    let d = data(&r);
    // lifelines' log(-log) intervals at 90% and 99%.
    for lv in crate::common::cases(&r, "km_levels") {
        let conf = lv["confidence"].as_f64().unwrap();
        let km = KaplanMeier::fit(&d.time, &d.event, conf, KmInterval::LogLog).unwrap();
        let (lo, hi) = (
            lv["ci_low"].as_array().unwrap(),
            lv["ci_high"].as_array().unwrap(),
        );
        assert_eq!(km.table.len(), lo.len(), "a row per time at {conf}");
        for ((row, l), h) in km.table.iter().zip(lo).zip(hi) {
            assert_close(
                row.ci_low,
                l.as_f64().unwrap(),
                FIT,
                &format!("{conf} low at {}", row.time),
            );
            assert_close(
                row.ci_high,
                h.as_f64().unwrap(),
                FIT,
                &format!("{conf} high at {}", row.time),
            );
        }
    }
    // "log" and "plain" intervals from statsmodels' Greenwood standard error, at 95% and 90%.
    let tr = r["km_transforms"].as_array().unwrap();
    assert_eq!(tr.len(), 2);
    for t in tr {
        let conf = t["confidence"].as_f64().unwrap();
        let times = t["time"].as_array().unwrap();
        assert!(times.len() > 10);
        for (interval, key) in [(KmInterval::Log, "log"), (KmInterval::Plain, "plain")] {
            let km = KaplanMeier::fit(&d.time, &d.event, conf, interval).unwrap();
            for (k, time) in times.iter().enumerate() {
                let time = time.as_f64().unwrap();
                let row = km.table.iter().find(|row| row.time == time).unwrap();
                let s = t["survival"][k].as_f64().unwrap();
                assert_close(row.survival, s, STATS, &format!("S at {time}"));
                let (l, h) = (
                    t[key][0][k].as_f64().unwrap(),
                    t[key][1][k].as_f64().unwrap(),
                );
                assert_close(row.ci_low, l, STATS, &format!("{key} {conf} low at {time}"));
                assert_close(
                    row.ci_high,
                    h,
                    STATS,
                    &format!("{key} {conf} high at {time}"),
                );
            }
        }
    }
}

#[test]
fn cox_p_values_and_hazard_ratio_intervals_match_statsmodels() {
    let r = reference();
    let d = data(&r);
    let (x, names) = design(&d);
    let inf = &r["cox_inference"];
    for (conf, key) in [(0.95, "hr_ci_95"), (0.90, "hr_ci_90")] {
        let fit = cox(&d.time, &d.event, &x, &names, Ties::Efron, conf).unwrap();
        let want = inf[key].as_array().unwrap();
        assert_eq!(fit.coefficients.len(), want.len());
        for (term, w) in fit.coefficients.iter().zip(want) {
            assert_close(
                term.ci_low,
                w[0].as_f64().unwrap(),
                FIT,
                &format!("{} {key} low", term.name),
            );
            assert_close(
                term.ci_high,
                w[1].as_f64().unwrap(),
                FIT,
                &format!("{} {key} high", term.name),
            );
        }
        let p = crate::common::cases(inf, "p");
        for (term, w) in fit.coefficients.iter().zip(p) {
            let w = w.as_f64().unwrap();
            assert_close(term.p_value, w, COX_P, &format!("{} p", term.name));
        }
        if conf == 0.95 {
            // lifelines converges to a looser tolerance: agree to 1e-4.
            for (term, w) in fit
                .coefficients
                .iter()
                .zip(crate::common::cases(inf, "lifelines_hr_ci_95"))
            {
                assert_close(
                    term.ci_low,
                    w[0].as_f64().unwrap(),
                    LIFELINES,
                    &format!("{} lifelines", term.name),
                );
                assert_close(
                    term.ci_high,
                    w[1].as_f64().unwrap(),
                    LIFELINES,
                    &format!("{} lifelines", term.name),
                );
            }
            for (term, w) in fit
                .coefficients
                .iter()
                .zip(crate::common::cases(&r["cox_efron"], "p"))
            {
                assert_close(
                    term.p_value,
                    w.as_f64().unwrap(),
                    LIFELINES_P,
                    &format!("{} lifelines p", term.name),
                );
            }
        }
    }
}

#[test]
fn cox_matches_statsmodels_and_lifelines() {
    let r = reference();
    let d = data(&r);
    let (x, names) = design(&d);
    let fit = cox(&d.time, &d.event, &x, &names, Ties::Efron, 0.95).unwrap();
    let sm = &r["cox_efron_statsmodels"];
    let want_names: Vec<&str> = r["cox_efron"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let got_names: Vec<&str> = fit.coefficients.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(got_names, want_names, "every term, in order");
    assert_eq!(sm["coef"].as_array().unwrap().len(), want_names.len());
    for (j, term) in fit.coefficients.iter().enumerate() {
        assert_close(
            term.coef,
            sm["coef"][j].as_f64().unwrap(),
            FIT,
            &format!("{} coef", term.name),
        );
        assert_close(
            term.se,
            sm["se"][j].as_f64().unwrap(),
            FIT,
            &format!("{} se", term.name),
        );
        // lifelines stops at a looser tolerance: agree to 1e-4.
        assert_close(
            term.coef,
            r["cox_efron"]["coef"][j].as_f64().unwrap(),
            LIFELINES,
            &format!("{} lifelines coef", term.name),
        );
    }
    assert_close(
        fit.log_likelihood,
        sm["log_likelihood"].as_f64().unwrap(),
        STATS,
        "Efron log-likelihood",
    );
    assert_close(
        fit.concordance,
        r["cox_efron"]["concordance"].as_f64().unwrap(),
        FIT,
        "concordance",
    );
    assert!(fit.converged);
    let br = cox(&d.time, &d.event, &x, &names, Ties::Breslow, 0.95).unwrap();
    let sm = &r["cox_breslow"];
    assert_eq!(br.coefficients.len(), sm["coef"].as_array().unwrap().len());
    for (j, term) in br.coefficients.iter().enumerate() {
        assert_close(
            term.coef,
            sm["coef"][j].as_f64().unwrap(),
            FIT,
            &format!("{} breslow", term.name),
        );
        assert_close(
            term.se,
            sm["se"][j].as_f64().unwrap(),
            FIT,
            &format!("{} breslow se", term.name),
        );
    }
    assert_close(
        br.log_likelihood,
        sm["log_likelihood"].as_f64().unwrap(),
        STATS,
        "Breslow log-likelihood",
    );
}

#[test]
fn cox_errors_are_clear() {
    let r = reference();
    let d = data(&r);
    let (mut x, mut names) = design(&d);
    x.push(vec![1.0; d.time.len()]);
    names.push("constant".into());
    let e = cox(&d.time, &d.event, &x, &names, Ties::Efron, 0.95)
        .unwrap_err()
        .to_string();
    assert!(e.contains("constant"), "{e}");
    let (mut x, mut names) = design(&d);
    x.push(x[0].iter().map(|v| 2.0 * v).collect());
    names.push("x1 twice".into());
    let e = cox(&d.time, &d.event, &x, &names, Ties::Efron, 0.95)
        .unwrap_err()
        .to_string();
    assert!(e.contains("collinear"), "{e}");
    // Separation: everyone with sep=1 has the event first.
    let n = 40;
    let time: Vec<f64> = (0..n)
        .map(|i| {
            if i < 20 {
                1.0 + i as f64
            } else {
                100.0 + i as f64
            }
        })
        .collect();
    let event = vec![true; n];
    let sep: Vec<f64> = (0..n).map(|i| f64::from(i < 20)).collect();
    let e = cox(&time, &event, &[sep], &["sep".into()], Ties::Efron, 0.95)
        .unwrap_err()
        .to_string();
    assert!(e.contains("separation") || e.contains("converge"), "{e}");
    let e = cox(
        &d.time,
        &vec![false; d.time.len()],
        &design(&d).0,
        &design(&d).1,
        Ties::Efron,
        0.95,
    );
    assert!(e.unwrap_err().to_string().contains("no events"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn survival_never_increases_and_intervals_contain_it(
            obs in prop::collection::vec((0u32..50, any::<bool>()), 1..200),
            m in 0usize..3,
        ) {
            let t: Vec<f64> = obs.iter().map(|o| o.0 as f64).collect();
            let e: Vec<bool> = obs.iter().map(|o| o.1).collect();
            let method = [KmInterval::LogLog, KmInterval::Log, KmInterval::Plain][m];
            let km = KaplanMeier::fit(&t, &e, 0.95, method).unwrap();
            let mut last = 1.0;
            for r in &km.table {
                prop_assert!(r.survival <= last + 1e-15);
                prop_assert!((0.0..=1.0).contains(&r.survival));
                prop_assert!(r.ci_low <= r.survival + 1e-12 && r.survival <= r.ci_high + 1e-12);
                last = r.survival;
            }
        }
    }
}
