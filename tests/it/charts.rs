//! Every chart, rendered with the bundled font: no text leaves the canvas (long titles wrap,
//! long labels are shortened), axes read as percentages and whole days, every SVG carries
//! a title and description, and the PNG is twice the size and the same on every run.

use reoffending::charts::{self, Estimate};

const LONG: &str = "A very long cohort label that an analyst typed into the extract without thinking of charts, repeated: a very long cohort label";

fn est(label: &str, value: f64) -> Estimate {
    Estimate {
        label: label.into(),
        value,
        low: value * 0.8,
        high: value * 1.2,
    }
}

fn every_chart() -> Vec<(&'static str, String)> {
    let title = "Reoffended within 365 days (Kaplan-Meier): divert 22.1%, comparison 27.4%, and a title long enough to need wrapping onto a second line";
    let curves: Vec<(String, Vec<(f64, f64)>)> = vec![
        (
            "divert".into(),
            vec![(30.0, 0.05), (120.0, 0.12), (300.0, 0.2)],
        ),
        (LONG.into(), vec![(20.0, 0.07), (200.0, 0.25)]),
    ];
    let periods: Vec<String> = (0..16)
        .map(|i| format!("{}-Q{}", 2020 + i / 4, 1 + i % 4))
        .collect();
    let series = vec![
        (
            "comparison".to_string(),
            periods
                .iter()
                .enumerate()
                .map(|(i, p)| (i < 10).then(|| est(p, 0.3)))
                .collect(),
        ),
        (
            LONG.to_string(),
            periods
                .iter()
                .enumerate()
                .map(|(i, p)| (i % 2 == 0).then(|| est(p, 0.22)))
                .collect(),
        ),
    ];
    let rows = vec![
        (LONG.to_string(), -120_000.0, 230_000.0),
        ("Diversion course".to_string(), 96_000.0, 17_000.0),
        (
            "<script>alert(1)</script> & =HYPERLINK(\"x\")".to_string(),
            40_000.0,
            90_000.0,
        ),
    ];
    let smd = vec![
        ("sex=M".to_string(), 0.25, 0.01),
        (LONG.to_string(), -0.3, 0.08),
    ];
    vec![
        (
            "rates",
            charts::rates(
                title,
                "alt",
                0.95,
                &[est("divert", 0.22), est(LONG, 0.29), est("x", 0.6)],
                Some((LONG, 0.2)),
            )
            .unwrap(),
        ),
        (
            "cumulative",
            charts::cumulative(title, "alt", &curves, 365.0).unwrap(),
        ),
        (
            "by_period",
            charts::by_period(title, "alt", 0.95, &periods, &series).unwrap(),
        ),
        (
            "tornado",
            charts::dumbbell(
                title,
                "alt",
                "net value (GBP)",
                &rows,
                ("input low", "input high"),
                &[0.0],
            )
            .unwrap(),
        ),
        (
            "love",
            charts::dumbbell(
                &"T".repeat(900),
                "alt",
                "SMD",
                &smd,
                ("before", "after"),
                &[-0.1, 0.0, 0.1],
            )
            .unwrap(),
        ),
    ]
}

#[test]
fn no_text_leaves_the_canvas() {
    for (name, svg) in every_chart() {
        let (w, h, boxes) = charts::text_boxes(&svg).unwrap();
        assert!(boxes.len() > 5, "{name}: {} text elements", boxes.len());
        for [x, y, bw, bh] in boxes {
            assert!(
                x >= 0.0 && y >= 0.0 && x + bw <= w + 0.5 && y + bh <= h + 0.5,
                "{name}: text at ({x}, {y}) size {bw} x {bh} leaves the {w} x {h} canvas"
            );
        }
    }
}

#[test]
fn axes_titles_and_descriptions_follow_the_guidance() {
    let charts = every_chart();
    let svg = |n: &str| &charts.iter().find(|c| c.0 == n).unwrap().1;
    // Percentages as "10%", never "10.0"; whole days.
    // plotters writes each text on a line of its own.
    let texts = |s: &str| -> Vec<String> {
        s.split("</text>")
            .filter_map(|t| t.rsplit('>').next().map(|x| x.trim().to_string()))
            .collect()
    };
    let rates = texts(svg("rates"));
    assert!(rates.iter().any(|t| t == "20%"), "{rates:?}");
    assert!(
        !rates.iter().any(|t| t.ends_with(".0") || t == "0.2"),
        "{rates:?}"
    );
    let days = texts(svg("cumulative"));
    assert!(
        days.iter().any(|t| t == "100") && !days.iter().any(|t| t == "100.0"),
        "{days:?}"
    );

    assert!(svg("tornado").contains("£100,000"));
    for (name, s) in &charts {
        assert!(s.contains("role=\"img\"><title>"), "{name}");
        assert!(s.contains("<desc>alt</desc>"), "{name}");
        assert!(
            !s.contains("<script>"),
            "{name}: markup in a label is escaped"
        );
    }
}

#[test]
fn png_is_twice_the_size_and_deterministic() {
    for (name, svg) in every_chart() {
        let (w, h, _) = charts::text_boxes(&svg).unwrap();
        let a = charts::png(&svg).unwrap();
        let b = charts::png(&svg).unwrap();
        assert_eq!(a, b, "{name}");
        assert_eq!(&a[1..4], b"PNG");
        // IHDR width and height, big-endian at bytes 16..24.
        let pw = u32::from_be_bytes(a[16..20].try_into().unwrap());
        let ph = u32::from_be_bytes(a[20..24].try_into().unwrap());
        assert_eq!((pw, ph), ((2.0 * w) as u32, (2.0 * h) as u32), "{name}");
    }
}
