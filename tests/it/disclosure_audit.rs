//! The whole-report audit against the intruder routes found on the project. Each test first
//! shows the route (the small count pinned from what would be published), then that the
//! audit closes it with little extra suppression, checked independently by
//! `feasible_interval` (one LP over the whole registry, without the audit's decomposition).

use std::collections::BTreeSet;
use std::time::Instant;

use reoffending::output::audit::{
    AuditOptions, AuditReport, FigureId, Interval, Item, Kind, Reason, Registry, Shown, audit,
    feasible_interval,
};

const M: u64 = 10;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn iv(lo: i64, hi: i64) -> Interval {
    Interval {
        lo: Some(lo),
        hi: Some(hi),
    }
}

fn fig(reg: &Registry, key: &str) -> R<FigureId> {
    Ok(reg
        .figure_id(key)
        .ok_or_else(|| format!("no figure {key}"))?)
}

fn cell(reg: &Registry, key: &str) -> R<Item> {
    Ok(Item::Cell(
        reg.cell_id(key).ok_or_else(|| format!("no cell {key}"))?,
    ))
}

fn hidden(reg: &Registry, keys: &[&str]) -> R<Vec<FigureId>> {
    keys.iter().map(|k| fig(reg, k)).collect()
}

fn suppressed(report: &AuditReport) -> BTreeSet<&str> {
    report.suppressed.iter().map(|s| s.key.as_str()).collect()
}

fn reason<'a>(report: &'a AuditReport, key: &str) -> R<&'a Reason> {
    Ok(&report
        .suppression(key)
        .ok_or_else(|| format!("{key} not suppressed"))?
        .reason)
}

/// What every test checks after the audit: no printed count in 1..M-1 is published, every
/// sensitive item is wide by the rule, and every interval the audit reports (sensitive
/// items and suppressed counts) equals what one LP over the whole registry finds.
fn assert_safe(reg: &Registry, report: &AuditReport) -> R {
    let hidden = report.suppressed_ids();
    for f in reg.figures() {
        let id = fig(reg, &f.key)?;
        if let Kind::Count { value, shown, .. } = &f.kind {
            if !matches!(shown, Shown::Withheld) && (1..M as i64).contains(value) {
                assert!(report.is_suppressed(id), "{} = {value} is published", f.key);
            }
        }
    }
    for p in &report.protected {
        let got = p.interval.ok_or("no interval")?;
        assert!(!got.is_pinned(M), "{} pinned to {got:?}", p.key);
        let check = feasible_interval(reg, &hidden, p.item)?;
        assert_eq!(got, check, "{}", p.key);
    }
    for s in &report.suppressed {
        if let Some(got) = s.interval {
            let check = feasible_interval(reg, &hidden, Item::Figure(s.figure))?;
            assert_eq!(got, check, "{}", s.key);
        }
    }
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    Ok(())
}

/// One breakdown: a cell and a printed count per level (rows only when non-empty), and its
/// printed total.
fn breakdown(reg: &mut Registry, name: &str, levels: &[(&str, u64)]) -> R<Vec<FigureId>> {
    let mut cells = Vec::new();
    let mut figs = Vec::new();
    for &(level, v) in levels {
        let c = reg.cell(format!("{name}={level}"), v, true)?;
        cells.push(c);
        figs.push(reg.sum(
            format!("{name}={level}/people"),
            &[c],
            Shown::Exact(v as i64),
        )?);
    }
    let total: u64 = levels.iter().map(|l| l.1).sum();
    figs.push(reg.sum(format!("{name}/people"), &cells, Shown::Exact(total as i64))?);
    Ok(figs)
}

#[test]
fn total_minus_published_parts() -> R {
    let mut reg = Registry::new();
    let levels = [("A", 40), ("B", 35), ("C", 4), ("D", 30), ("E", 25)];
    breakdown(&mut reg, "divert/sex", &levels)?;
    // The route: the hidden level is the total minus the published others.
    let primary = hidden(&reg, &["divert/sex=C/people"])?;
    let route = feasible_interval(&reg, &primary, cell(&reg, "divert/sex=C")?)?;
    assert_eq!(route, iv(4, 4));
    assert!(route.is_pinned(M));

    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    assert_eq!(
        suppressed(&report),
        BTreeSet::from(["divert/sex=C/people", "divert/sex=E/people"]),
        "the smallest other level, and nothing else (the total stays)"
    );
    assert!(matches!(
        reason(&report, "divert/sex=C/people")?,
        Reason::Primary { .. }
    ));
    assert!(matches!(
        reason(&report, "divert/sex=E/people")?,
        Reason::Secondary { .. }
    ));
    // C + E = 29, each at least 1 (rows exist only when non-empty).
    let c = report.suppression("divert/sex=C/people").ok_or("C")?;
    assert_eq!(c.interval, Some(iv(1, 28)));
    Ok(())
}

#[test]
fn costs_offence_mix_shares_times_total() -> R {
    let mut reg = Registry::new();
    let mix = [
        ("drugs", 150, 0.600),
        ("theft", 60, 0.240),
        ("violence", 3, 0.012),
        ("other", 37, 0.148),
    ];
    let mut counts = Vec::new();
    for (name, v, _) in mix {
        let c = reg.cell(format!("costs/offences/{name}"), v, false)?;
        // The counts are not printed: only the shares are.
        counts.push(reg.sum(format!("costs/offences/{name}"), &[c], Shown::Withheld)?);
    }
    let cells: Vec<_> = reg
        .cells()
        .iter()
        .map(|c| reg.cell_id(&c.key))
        .collect::<Option<_>>()
        .ok_or("cells")?;
    let total = reg.sum("costs/offences/total", &cells, Shown::Exact(250))?;
    for ((name, _, share), &count) in mix.iter().zip(&counts) {
        reg.ratio(format!("costs/share/{name}"), count, total, *share, 0.001)?;
    }
    // The route: the other shares to 1 d.p. times the total give violence within 2.6..3.4.
    let primary = hidden(&reg, &["costs/share/violence"])?;
    let route = feasible_interval(&reg, &primary, cell(&reg, "costs/offences/violence")?)?;
    assert_eq!(route, iv(3, 3));

    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    assert_eq!(
        suppressed(&report),
        BTreeSet::from(["costs/share/other", "costs/share/violence"]),
        "one more share (the smallest), the total stays"
    );
    assert!(
        matches!(reason(&report, "costs/share/violence")?, Reason::Primary { count } if count == "costs/offences/violence")
    );
    // violence + other = 250 - drugs - theft, within 39.75..40.25.
    let p = report
        .protection("costs/offences/violence")
        .ok_or("protected")?;
    assert_eq!(p.interval, Some(iv(0, 40)));
    Ok(())
}

/// People 286 with 63 reoffenders unadjusted; the matched comparison keeps 283 of them with
/// 62 reoffenders: 3 people set aside, 1 of whom reoffended.
fn unadjusted_and_matched(reg: &mut Registry) -> R {
    let m_re = reg.cell("people/matched/reoffended", 62, false)?;
    let m_no = reg.cell("people/matched/not", 221, false)?;
    let s_re = reg.cell("people/set_aside/reoffended", 1, false)?;
    let s_no = reg.cell("people/set_aside/not", 2, false)?;
    let n = reg.sum(
        "compare/unadjusted/people",
        &[m_re, m_no, s_re, s_no],
        Shown::Exact(286),
    )?;
    let x = reg.sum(
        "compare/unadjusted/reoffenders",
        &[m_re, s_re],
        Shown::Exact(63),
    )?;
    reg.ratio("compare/unadjusted/rate", x, n, 0.220, 0.001)?;
    let n = reg.sum("compare/matched/people", &[m_re, m_no], Shown::Exact(283))?;
    let x = reg.sum("compare/matched/reoffenders", &[m_re], Shown::Exact(62))?;
    reg.ratio("compare/matched/rate", x, n, 0.219, 0.001)?;
    Ok(())
}

#[test]
fn unadjusted_minus_matched() -> R {
    let mut reg = Registry::new();
    unadjusted_and_matched(&mut reg)?;
    // The route: every figure is large, yet the difference is 3 people and 1 reoffender.
    assert_eq!(
        feasible_interval(&reg, &[], cell(&reg, "people/set_aside/reoffended")?)?,
        iv(1, 1)
    );
    assert_eq!(
        feasible_interval(&reg, &[], cell(&reg, "people/set_aside/not")?)?,
        iv(2, 2)
    );

    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    // One side's people, reoffenders and rate must go (any two of them leave the third, or
    // the rate, to give the difference back): three figures, all of one side.
    let s = suppressed(&report);
    assert_eq!(s.len(), 3, "{s:?}");
    let sides: BTreeSet<&str> = s.iter().filter_map(|k| k.split('/').nth(1)).collect();
    assert_eq!(sides.len(), 1, "{s:?}");
    assert!(
        report
            .suppressed
            .iter()
            .all(|s| matches!(s.reason, Reason::Secondary { .. }))
    );
    Ok(())
}

#[test]
fn rate_to_one_decimal_with_its_n() -> R {
    let mut reg = Registry::new();
    let f_re = reg.cell("F/reoffended", 4, false)?;
    let f_no = reg.cell("F/not", 36, false)?;
    let m_re = reg.cell("M/reoffended", 60, false)?;
    let m_no = reg.cell("M/not", 100, false)?;
    let nf = reg.sum("rates/sex=F/eligible", &[f_re, f_no], Shown::Exact(40))?;
    let xf = reg.sum("rates/sex=F/reoffenders", &[f_re], Shown::Exact(4))?;
    reg.ratio("rates/sex=F/rate", xf, nf, 0.100, 0.001)?;
    let nm = reg.sum("rates/sex=M/eligible", &[m_re, m_no], Shown::Exact(160))?;
    let xm = reg.sum("rates/sex=M/reoffenders", &[m_re], Shown::Exact(60))?;
    reg.ratio("rates/sex=M/rate", xm, nm, 0.375, 0.001)?;
    let n = reg.sum(
        "rates/all/eligible",
        &[f_re, f_no, m_re, m_no],
        Shown::Exact(200),
    )?;
    // The overall reoffenders are not printed, only the overall rate.
    let x = reg.sum("rates/all/reoffenders", &[f_re, m_re], Shown::Withheld)?;
    reg.ratio("rates/all/rate", x, n, 0.320, 0.001)?;

    // The direct route: a rate to 1 d.p. times its n (3.98..4.02).
    let r1 = feasible_interval(
        &reg,
        &hidden(&reg, &["rates/sex=F/reoffenders"])?,
        Item::Figure(xf),
    )?;
    assert_eq!(r1, iv(4, 4));
    // The indirect one: F's rate and count hidden, the overall rate times the overall n
    // (63.9..64.1) minus M's reoffenders.
    let primary = hidden(&reg, &["rates/sex=F/reoffenders", "rates/sex=F/rate"])?;
    assert_eq!(
        feasible_interval(&reg, &primary, Item::Figure(xf))?,
        iv(4, 4)
    );

    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    assert_eq!(
        suppressed(&report),
        BTreeSet::from([
            "rates/all/rate",
            "rates/sex=F/rate",
            "rates/sex=F/reoffenders"
        ])
    );
    assert!(
        matches!(reason(&report, "rates/sex=F/rate")?, Reason::Primary { count } if count == "rates/sex=F/reoffenders")
    );
    assert!(matches!(
        reason(&report, "rates/all/rate")?,
        Reason::Secondary { .. }
    ));
    let p = report
        .protection("rates/sex=F/reoffenders")
        .ok_or("protected")?;
    assert_eq!(p.interval, Some(iv(0, 40)));
    Ok(())
}

#[test]
fn hidden_cells_known_non_empty() -> R {
    // Three people over three hidden rows: each row exists, so each holds exactly 1.
    let mut reg = Registry::new();
    let levels = [
        ("18-24", 30),
        ("25-34", 27),
        ("35-44", 1),
        ("45-54", 1),
        ("55+", 1),
    ];
    breakdown(&mut reg, "divert/age", &levels)?;
    let primary = hidden(
        &reg,
        &[
            "divert/age=35-44/people",
            "divert/age=45-54/people",
            "divert/age=55+/people",
        ],
    )?;
    for level in ["35-44", "45-54", "55+"] {
        let route = feasible_interval(&reg, &primary, cell(&reg, &format!("divert/age={level}"))?)?;
        assert_eq!(route, iv(1, 1));
    }
    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    assert_eq!(report.suppressed.len(), 4);
    assert!(matches!(
        reason(&report, "divert/age=25-34/people")?,
        Reason::Secondary { .. }
    ));
    // 30 people over four rows, each at least 1.
    let p = report.protection("divert/age=55+").ok_or("protected")?;
    assert_eq!(p.interval, Some(iv(1, 27)));

    // Where the non-empty rows are what pins: 12 people over four hidden rows is 0..12
    // each (safe), but 1..9 each once every row is known to hold someone.
    let levels = [("A", 30), ("B", 25), ("C", 3), ("D", 3), ("E", 3), ("F", 3)];
    let mut open = Registry::new();
    breakdown(&mut open, "x", &levels)?;
    let mut known = Registry::new();
    for &(l, v) in &levels {
        // Same figures, cells not known to be non-empty.
        let c = known.cell(format!("x={l}"), v, false)?;
        known.sum(format!("x={l}/people"), &[c], Shown::Exact(v as i64))?;
    }
    let cells: Vec<_> = (0..levels.len())
        .filter_map(|i| known.cell_id(&format!("x={}", levels[i].0)))
        .collect();
    known.sum("x/people", &cells, Shown::Exact(67))?;
    let without = audit(&known, &AuditOptions::new(M))?;
    assert_safe(&known, &without)?;
    assert_eq!(without.suppressed.len(), 4, "only the primaries");
    assert_eq!(
        without.protection("x=C").ok_or("C")?.interval,
        Some(iv(0, 12))
    );
    let with = audit(&open, &AuditOptions::new(M))?;
    assert_safe(&open, &with)?;
    assert_eq!(
        with.suppressed.len(),
        5,
        "one more: the smallest other level"
    );
    assert!(with.is_suppressed(fig(&open, "x=B/people")?));
    Ok(())
}

#[test]
fn quarter_from_year_totals() -> R {
    let mut reg = Registry::new();
    let years = [("2021", [20, 4, 25, 30]), ("2022", [22, 18, 26, 28])];
    let mut all = Vec::new();
    for (y, qs) in years {
        let mut cells = Vec::new();
        for (q, v) in qs.iter().enumerate() {
            let c = reg.cell(format!("divert/{y}-Q{}", q + 1), *v, true)?;
            reg.sum(
                format!("monitor/divert/{y}-Q{}/people", q + 1),
                &[c],
                Shown::Exact(*v as i64),
            )?;
            cells.push(c);
        }
        let total: u64 = qs.iter().sum();
        reg.sum(
            format!("monitor/divert/{y}/people"),
            &cells,
            Shown::Exact(total as i64),
        )?;
        all.extend(cells);
    }
    reg.sum("monitor/divert/people", &all, Shown::Exact(173))?;
    let primary = hidden(&reg, &["monitor/divert/2021-Q2/people"])?;
    assert_eq!(
        feasible_interval(&reg, &primary, cell(&reg, "divert/2021-Q2")?)?,
        iv(4, 4)
    );

    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    assert_eq!(
        suppressed(&report),
        BTreeSet::from([
            "monitor/divert/2021-Q1/people",
            "monitor/divert/2021-Q2/people"
        ]),
        "a quarter of the same year (a smaller quarter of another year would not help)"
    );
    let q2 = report
        .suppression("monitor/divert/2021-Q2/people")
        .ok_or("Q2")?;
    assert_eq!(q2.interval, Some(iv(1, 23)));
    Ok(())
}

#[test]
fn nothing_to_do() -> R {
    let mut reg = Registry::new();
    let mut people = Vec::new();
    for (sex, re, no) in [("F", 12, 40), ("M", 50, 130)] {
        let a = reg.cell(format!("{sex}/reoffended"), re, false)?;
        let b = reg.cell(format!("{sex}/not"), no, false)?;
        let n = reg.sum(
            format!("rates/{sex}/eligible"),
            &[a, b],
            Shown::Exact((re + no) as i64),
        )?;
        let x = reg.sum(
            format!("rates/{sex}/reoffenders"),
            &[a],
            Shown::Exact(re as i64),
        )?;
        let r = (re as f64 / (re + no) as f64 * 1000.0).round() / 1000.0;
        reg.ratio(format!("rates/{sex}/rate"), x, n, r, 0.001)?;
        reg.model(format!("cox/{sex}"), &[x], M)?;
        people.extend([a, b]);
    }
    reg.sum("rates/all/eligible", &people, Shown::Exact(232))?;
    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_safe(&reg, &report)?;
    assert!(report.suppressed.is_empty());
    assert!(report.protected.is_empty());
    assert_eq!(report.stats.lps, 0);
    Ok(())
}

#[test]
fn model_statistic_gated_by_its_counts() -> R {
    let mut reg = Registry::new();
    let a = reg.cell("divert/events", 8, false)?;
    let b = reg.cell("comparison/events", 40, false)?;
    let ea = reg.sum("survival/divert/events", &[a], Shown::Withheld)?;
    let eb = reg.sum("survival/comparison/events", &[b], Shown::Withheld)?;
    reg.model("survival/cox/coefficient", &[ea, eb], M)?;
    let report = audit(&reg, &AuditOptions::new(M))?;
    assert!(
        matches!(reason(&report, "survival/cox/coefficient")?, Reason::Model { count } if count == "survival/divert/events")
    );
    // The withheld count is protected: nothing published pins it.
    let p = report
        .protection("survival/divert/events")
        .ok_or("protected")?;
    assert_eq!(
        p.interval,
        Some(Interval {
            lo: Some(0),
            hi: None
        })
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// A registry described by keys, registered in any order (determinism and timing).

#[derive(Clone, Default)]
struct Spec {
    cells: Vec<(String, u64, bool)>,
    counts: Vec<(String, Vec<String>)>,
    ratios: Vec<(String, String, String)>,
    labels: Vec<(String, Vec<String>)>,
}

/// A deterministic shuffle (xorshift), so that registration order varies with `seed`.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

fn build(spec: &Spec, seed: Option<u64>) -> R<Registry> {
    let mut s = spec.clone();
    if let Some(seed) = seed {
        shuffle(&mut s.cells, seed);
        shuffle(&mut s.counts, seed + 1);
        shuffle(&mut s.ratios, seed + 2);
        shuffle(&mut s.labels, seed + 3);
    }
    let mut reg = Registry::new();
    for (k, v, ne) in &s.cells {
        reg.cell(k.clone(), *v, *ne)?;
    }
    let ids = |reg: &Registry, ks: &[String]| -> R<Vec<_>> {
        ks.iter()
            .map(|k| reg.cell_id(k).ok_or_else(|| format!("no cell {k}").into()))
            .collect()
    };
    for (k, cs) in &s.counts {
        let cells = ids(&reg, cs)?;
        let v: u64 = cells
            .iter()
            .filter_map(|&c| reg.cell_info(c))
            .map(|c| c.value)
            .sum();
        reg.sum(k.clone(), &cells, Shown::Exact(v as i64))?;
    }
    for (k, num, den) in &s.ratios {
        let (n, d) = (fig(&reg, num)?, fig(&reg, den)?);
        let (x, y) = (
            reg.count_value(n).ok_or("n")?,
            reg.count_value(d).ok_or("d")?,
        );
        if y > 0 {
            let r = (x as f64 / y as f64 * 1000.0).round() / 1000.0;
            reg.ratio(k.clone(), n, d, r, 0.001)?;
        }
    }
    for (k, cs) in &s.labels {
        let cells = ids(&reg, cs)?;
        reg.label(k.clone(), &cells)?;
    }
    Ok(reg)
}

/// A report's shape: cohorts x quarters, people by sex (5) x age band (5) in each; printed:
/// each quarter's total, sex and age margins (rows shown only when non-empty, as labels),
/// each cohort's totals by sex, by age, by year and overall, by year x sex, and each
/// quarter's share of its year to 1 d.p.
fn synthetic(cohorts: usize, quarters: usize, seed: u64, pilot_cells: Option<u64>) -> Spec {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut spec = Spec::default();
    let key = |c: usize, q: usize, x: usize, a: usize| format!("c{c}/q{q:02}/s{x}/a{a}");
    for c in 0..cohorts {
        for q in 0..quarters {
            for x in 0..5 {
                for a in 0..5 {
                    // Mostly 0..24 people a cell, a few larger; a smaller pilot
                    // (cohort 0) has 0..k-1, and so some small margins.
                    let v = match pilot_cells {
                        Some(k) if c == 0 => next() % k,
                        _ => next() % 25 + if next() % 10 == 0 { 40 } else { 0 },
                    };
                    spec.cells.push((key(c, q, x, a), v, false));
                }
            }
        }
    }
    let value: std::collections::HashMap<String, u64> =
        spec.cells.iter().map(|(k, v, _)| (k.clone(), *v)).collect();
    let add = |spec: &mut Spec, name: String, cells: Vec<String>, label: bool| {
        if label && cells.iter().map(|k| value[k]).sum::<u64>() > 0 {
            spec.labels.push((format!("{name}/row"), cells.clone()));
        }
        spec.counts.push((name, cells));
    };
    for c in 0..cohorts {
        for q in 0..quarters {
            let all = (0..25).map(|i| key(c, q, i / 5, i % 5)).collect();
            add(&mut spec, format!("m/c{c}/q{q:02}/people"), all, false);
            for x in 0..5 {
                let cells = (0..5).map(|a| key(c, q, x, a)).collect();
                add(&mut spec, format!("m/c{c}/q{q:02}/sex{x}"), cells, true);
                let cells = (0..5).map(|a| key(c, q, a, x)).collect();
                add(&mut spec, format!("m/c{c}/q{q:02}/age{x}"), cells, true);
            }
        }
        for x in 0..5 {
            let cells = (0..quarters)
                .flat_map(|q| (0..5).map(move |a| (q, a)))
                .map(|(q, a)| key(c, q, x, a))
                .collect();
            add(&mut spec, format!("t/c{c}/sex{x}"), cells, false);
            let cells = (0..quarters)
                .flat_map(|q| (0..5).map(move |a| (q, a)))
                .map(|(q, a)| key(c, q, a, x))
                .collect();
            add(&mut spec, format!("t/c{c}/age{x}"), cells, false);
        }
        for y in 0..quarters.div_ceil(4) {
            let qs: Vec<usize> = (4 * y..(4 * y + 4).min(quarters)).collect();
            let cells = qs
                .iter()
                .flat_map(|&q| (0..25).map(move |i| (q, i)))
                .map(|(q, i)| key(c, q, i / 5, i % 5))
                .collect();
            add(&mut spec, format!("y/c{c}/y{y:02}/people"), cells, false);
            for x in 0..5 {
                let cells = qs
                    .iter()
                    .flat_map(|&q| (0..5).map(move |a| (q, a)))
                    .map(|(q, a)| key(c, q, x, a))
                    .collect();
                add(&mut spec, format!("y/c{c}/y{y:02}/sex{x}"), cells, false);
            }
            for &q in &qs {
                spec.ratios.push((
                    format!("share/c{c}/q{q:02}"),
                    format!("m/c{c}/q{q:02}/people"),
                    format!("y/c{c}/y{y:02}/people"),
                ));
            }
        }
        let cells = (0..quarters * 25)
            .map(|i| key(c, i / 25, i % 25 / 5, i % 5))
            .collect();
        add(&mut spec, format!("t/c{c}/people"), cells, false);
    }
    spec
}

fn outcome(r: &AuditReport) -> Vec<String> {
    let mut v: Vec<String> = r
        .suppressed
        .iter()
        .map(|s| format!("{} {:?} {:?}", s.key, s.reason, s.interval))
        .collect();
    v.extend(
        r.protected
            .iter()
            .map(|p| format!("{} {:?}", p.key, p.interval)),
    );
    v.push(format!("{:?} {:?}", r.failures, r.stats));
    v
}

#[test]
fn determinism_registration_order() -> R {
    let mut spec = synthetic(1, 4, 7, Some(7));
    // Plus the matched/unadjusted route, in a component of its own.
    let v = |s: &str| s.to_string();
    let cells = |ks: &[&str]| ks.iter().map(|k| format!("people/{k}")).collect::<Vec<_>>();
    for (k, n) in [
        ("matched/reoffended", 62),
        ("matched/not", 221),
        ("set_aside/reoffended", 1),
        ("set_aside/not", 2),
    ] {
        spec.cells.push((format!("people/{k}"), n, false));
    }
    let all = [
        "matched/reoffended",
        "matched/not",
        "set_aside/reoffended",
        "set_aside/not",
    ];
    spec.counts
        .push((v("compare/unadjusted/people"), cells(&all)));
    spec.counts.push((
        v("compare/unadjusted/reoffenders"),
        cells(&[all[0], all[2]]),
    ));
    spec.counts
        .push((v("compare/matched/people"), cells(&all[..2])));
    spec.counts
        .push((v("compare/matched/reoffenders"), cells(&all[..1])));
    for side in ["unadjusted", "matched"] {
        spec.ratios.push((
            format!("compare/{side}/rate"),
            format!("compare/{side}/reoffenders"),
            format!("compare/{side}/people"),
        ));
    }
    // And a breakdown with small rows (rows exist only when non-empty).
    for (l, n) in [
        ("A", 40),
        ("B", 35),
        ("C", 4),
        ("D", 30),
        ("E", 25),
        ("F", 2),
    ] {
        spec.cells.push((format!("divert/sex={l}"), n, true));
        spec.counts.push((
            format!("divert/sex={l}/people"),
            vec![format!("divert/sex={l}")],
        ));
    }
    spec.counts.push((
        v("divert/people"),
        ["A", "B", "C", "D", "E", "F"]
            .iter()
            .map(|l| format!("divert/sex={l}"))
            .collect(),
    ));
    let base = audit(&build(&spec, None)?, &AuditOptions::new(M))?;
    assert!(!base.suppressed.is_empty());
    let reg0 = build(&spec, None)?;
    assert_safe(&reg0, &base)?;
    let total = reg0
        .figures()
        .iter()
        .filter(|f| !matches!(f.kind, Kind::Label { .. }))
        .count();
    assert!(
        base.suppressed.len() < total / 2,
        "{} of {total}",
        base.suppressed.len()
    );
    for seed in 1..6 {
        let reg = build(&spec, Some(seed))?;
        let report = audit(&reg, &AuditOptions::new(M))?;
        assert_eq!(outcome(&report), outcome(&base), "seed {seed}");
    }
    Ok(())
}

#[test]
fn fail_closed_on_inconsistent_figures() -> R {
    let mut reg = Registry::new();
    // Cohort A: the total is printed as 135, its cells hold 134.
    let mut cells = Vec::new();
    for (l, v) in [("F", 60), ("M", 74)] {
        let c = reg.cell(format!("a/{l}"), v, false)?;
        reg.sum(format!("a/{l}/people"), &[c], Shown::Exact(v as i64))?;
        cells.push(c);
    }
    reg.sum("a/people", &cells, Shown::Exact(135))?;
    // Cohort B: a rate printed as 30.0% where its counts give 20.0%.
    let x = reg.cell("b/reoffended", 20, false)?;
    let y = reg.cell("b/not", 80, false)?;
    let n = reg.sum("b/people", &[x, y], Shown::Exact(100))?;
    let r = reg.sum("b/reoffenders", &[x], Shown::Exact(20))?;
    reg.ratio("b/rate", r, n, 0.300, 0.001)?;
    // Cohort C: consistent, untouched.
    let z = reg.cell("c/all", 50, false)?;
    reg.sum("c/people", &[z], Shown::Exact(50))?;

    // An LP over the inconsistent figures has no solution at all.
    assert!(feasible_interval(&reg, &[], Item::Figure(r)).is_err());
    let report = audit(&reg, &AuditOptions::new(M))?;
    assert_eq!(
        suppressed(&report),
        BTreeSet::from([
            "a/F/people",
            "a/M/people",
            "a/people",
            "b/people",
            "b/rate",
            "b/reoffenders"
        ])
    );
    assert!(
        report
            .suppressed
            .iter()
            .all(|s| matches!(s.reason, Reason::FailClosed { .. }))
    );
    assert_eq!(report.failures.len(), 2, "{:?}", report.failures);
    assert!(report.failures[0].contains("a/people is printed as 135 but its cells hold 134"));
    assert!(!report.is_suppressed(fig(&reg, "c/people")?));
    Ok(())
}

#[test]
fn pinned_rule() {
    let m = 10;
    assert!(iv(4, 4).is_pinned(m));
    assert!(iv(0, 3).is_pinned(m), "0..3: small or none");
    assert!(iv(1, 9).is_pinned(m), "nine values");
    assert!(!iv(1, 10).is_pinned(m), "ten values");
    assert!(!iv(0, 9).is_pinned(m), "ten values");
    assert!(!iv(0, 10).is_pinned(m), "0 and min_cell");
    assert!(!iv(12, 14).is_pinned(m), "known to be at least min_cell");
    assert!(!iv(0, 0).is_pinned(m), "known to be zero");
    assert!(iv(5, 4).is_pinned(m), "empty: fail closed");
    assert!(
        !Interval {
            lo: Some(3),
            hi: None
        }
        .is_pinned(m)
    );
}

fn timed(name: &str, spec: &Spec, protect_cells: bool) -> R<f64> {
    let reg = build(spec, None)?;
    let figures = reg
        .figures()
        .iter()
        .filter(|f| !matches!(f.kind, Kind::Label { .. }))
        .count();
    let t = Instant::now();
    let options = AuditOptions {
        protect_cells,
        ..AuditOptions::new(M)
    };
    let report = audit(&reg, &options)?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{name} (protect_cells {protect_cells}): {} cells, {figures} figures, {} labels: {secs:.3} s, {} suppressed ({} primary), {} protected, {:?}",
        reg.cells().len(),
        reg.figures().len() - figures,
        report.suppressed.len(),
        report
            .suppressed
            .iter()
            .filter(|s| matches!(s.reason, Reason::Primary { .. }))
            .count(),
        report.protected.len(),
        report.stats
    );
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(
        report
            .protected
            .iter()
            .all(|p| p.interval.is_some_and(|i| !i.is_pinned(M)))
    );
    Ok(secs)
}

/// A report-shaped registry (2 cohorts x 40 quarters, people by sex x age band: 2,000
/// cells, about 1,100 figures and 800 labels), every small cell protected, with no small
/// margin (so no secondary suppression: the cost of auditing alone). `cargo test --release
/// -- --nocapture` prints the time; speed is the benchmark's business, not an assertion's.
#[test]
fn synthetic_report_audits_without_secondary_suppression() -> R {
    let secs = timed("synthetic", &synthetic(2, 40, 42, None), true)?;
    println!("audit of a report-shaped registry: {secs:.2} s");
    Ok(())
}

/// The same shape with a smaller pilot (0..11 or 0..6 people a cell, so 8 or 38 small
/// margins and long chains of secondary suppression through the linked quarterly, yearly
/// and cohort tables): timed, not bounded. These do NOT meet the 2 s target yet (DESIGN.md,
/// "Limits").
#[test]
#[ignore = "stress cases over the 2 s target: run with --ignored in release"]
fn synthetic_stress_timing() -> R {
    for k in [12, 7] {
        timed("pilot", &synthetic(2, 40, 42, Some(k)), false)?;
        timed("pilot", &synthetic(2, 40, 42, Some(k)), true)?;
    }
    Ok(())
}

/// The large-component path (probes of a feasibility model, neighbourhood restriction and
/// relaxation) on the routes above: every sensitive item ends wide by an independent LP,
/// and every reported interval lies within the exact one (equal when marked exact).
#[test]
fn large_component_path_closes_the_routes() -> R {
    let mut regs = Vec::new();
    let mut reg = Registry::new();
    unadjusted_and_matched(&mut reg)?;
    regs.push(reg);
    let mut reg = Registry::new();
    breakdown(
        &mut reg,
        "divert/sex",
        &[("A", 40), ("B", 35), ("C", 4), ("D", 30), ("E", 25)],
    )?;
    breakdown(
        &mut reg,
        "divert/age",
        &[
            ("18-24", 30),
            ("25-34", 27),
            ("35-44", 1),
            ("45-54", 1),
            ("55+", 1),
        ],
    )?;
    regs.push(reg);
    regs.push(build(&synthetic(1, 4, 7, Some(7)), None)?);
    for reg in &regs {
        let options = AuditOptions {
            exact_up_to: 0,
            ..AuditOptions::new(M)
        };
        let report = audit(reg, &options)?;
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let hidden = report.suppressed_ids();
        for p in &report.protected {
            let got = p.interval.ok_or("no interval")?;
            let exact = feasible_interval(reg, &hidden, p.item)?;
            assert!(!exact.is_pinned(M), "{} pinned to {exact:?}", p.key);
            assert!(!got.is_pinned(M), "{}", p.key);
            assert!(
                exact.contains(&got),
                "{}: {got:?} not within {exact:?}",
                p.key
            );
            if p.exact {
                assert_eq!(got, exact, "{}", p.key);
            }
        }
        for s in &report.suppressed {
            if let Some(got) = s.interval {
                let exact = feasible_interval(reg, &hidden, Item::Figure(s.figure))?;
                assert!(
                    exact.contains(&got),
                    "{}: {got:?} not within {exact:?}",
                    s.key
                );
            }
        }
    }
    Ok(())
}
