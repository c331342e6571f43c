//! Charts as SVG (plotters), in the Government Analysis Function style: white background,
//! horizontal text, the Analysis Function palette, titles that state the finding.
//!
//! Every chart is a pure function of its data, so the same inputs give byte-identical SVG.
//! The report puts a data table and a CSV beside each one.

use plotters::prelude::*;

use crate::error::{Error, Result};

/// Analysis Function palette: dark blue, orange (the two-series pair), turquoise, dark pink,
/// dark grey, light purple.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0x12, 0x43, 0x6D),
    RGBColor(0xF4, 0x6A, 0x25),
    RGBColor(0x28, 0xA1, 0x97),
    RGBColor(0x80, 0x16, 0x50),
    RGBColor(0x3D, 0x3D, 0x3D),
    RGBColor(0xA2, 0x85, 0xD1),
];
const GREY: RGBColor = RGBColor(0x3D, 0x3D, 0x3D);
const SIZE: (u32, u32) = (760, 440);

/// Draws the series legend in the house style at `$pos`.
macro_rules! legend {
    ($chart:expr, $pos:expr) => {
        $chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(GREY)
            .label_font(font(12))
            .position($pos)
            .draw()
            .map_err(err)?
    };
}

/// The label of category `i` on a numeric axis, empty between categories.
fn index_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

fn err<E: std::fmt::Display>(e: E) -> Error {
    Error::Output(format!("chart: {e}"))
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&GREY)
}

/// A point estimate with its interval, for one labelled group.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Group label.
    pub label: String,
    /// Estimate (a fraction).
    pub value: f64,
    /// Interval.
    pub low: f64,
    /// Interval.
    pub high: f64,
}

/// Rates with intervals per group, and an optional benchmark line.
pub fn rates(title: &str, groups: &[Estimate], benchmark: Option<(&str, f64)>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let top = groups
            .iter()
            .map(|g| g.high)
            .chain(benchmark.map(|b| b.1))
            .fold(0.0f64, f64::max);
        let ymax = ((top * 10.0).ceil() / 10.0).max(0.1);
        let n = groups.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(17))
            .margin(18)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..ymax * 100.0)
            .map_err(err)?;
        let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| index_label(&labels, *x))
            .y_desc("reoffended within 12 months (%)")
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()
            .map_err(err)?;
        for (i, g) in groups.iter().enumerate() {
            let x = i as f64;
            let c = PALETTE[i % 2];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 0.0), (x + 0.3, g.value * 100.0)],
                    c.mix(0.85).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, g.low * 100.0), (x, g.high * 100.0)],
                    GREY.stroke_width(2),
                )))
                .map_err(err)?;
            for y in [g.low, g.high] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.08, y * 100.0), (x + 0.08, y * 100.0)],
                        GREY.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        if let Some((name, b)) = benchmark {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(-0.5, b * 100.0), (n as f64 - 0.5, b * 100.0)],
                    PALETTE[3].stroke_width(2),
                )))
                .map_err(err)?
                .label(format!("{name}: {:.0}%", b * 100.0))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[3].stroke_width(2))
                });
            legend!(chart, SeriesLabelPosition::UpperRight);
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Cumulative proportion reoffending (1 - Kaplan-Meier) by day, one step line per group.
pub fn cumulative(
    title: &str,
    curves: &[(String, Vec<(f64, f64)>)],
    horizon: f64,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let top = curves
            .iter()
            .flat_map(|c| c.1.iter().map(|p| p.1))
            .fold(0.0f64, f64::max);
        let ymax = ((top * 10.0).ceil() / 10.0).max(0.1) * 100.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(17))
            .margin(18)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..horizon, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("days since the index date")
            .y_desc("reoffended so far (%)")
            .label_style(font(13))
            .axis_desc_style(font(13))
            .draw()
            .map_err(err)?;
        for (k, (label, pts)) in curves.iter().enumerate() {
            let c = PALETTE[k % PALETTE.len()];
            let mut step = vec![(0.0, 0.0)];
            let mut last = 0.0;
            for &(t, y) in pts.iter().filter(|p| p.0 <= horizon) {
                step.push((t, last * 100.0));
                step.push((t, y * 100.0));
                last = y;
            }
            step.push((horizon, last * 100.0));
            chart
                .draw_series(std::iter::once(PathElement::new(step, c.stroke_width(2))))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        legend!(chart, SeriesLabelPosition::UpperLeft);
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Estimates by period for several series (e.g. cohorts by quarter), with intervals.
pub fn by_period(
    title: &str,
    periods: &[String],
    series: &[(String, Vec<Option<Estimate>>)],
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let top = series
            .iter()
            .flat_map(|s| s.1.iter().flatten().map(|e| e.high))
            .fold(0.0f64, f64::max);
        let ymax = ((top * 10.0).ceil() / 10.0).max(0.1) * 100.0;
        let n = periods.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(17))
            .margin(18)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&|x| index_label(periods, *x))
            .y_desc("estimated 12-month rate (%)")
            .label_style(font(12))
            .axis_desc_style(font(13))
            .draw()
            .map_err(err)?;
        let k_series = series.len().max(1) as f64;
        for (k, (label, points)) in series.iter().enumerate() {
            let c = PALETTE[k % 2];
            let offset = (k as f64 - (k_series - 1.0) / 2.0) * 0.12;
            let pts: Vec<(f64, f64)> = points
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.as_ref().map(|e| (i as f64 + offset, e.value * 100.0)))
                .collect();
            for (i, e) in points.iter().enumerate() {
                if let Some(e) = e {
                    let x = i as f64 + offset;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x, e.low * 100.0), (x, e.high * 100.0)],
                            c.stroke_width(1),
                        )))
                        .map_err(err)?;
                }
            }
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
        }
        legend!(chart, SeriesLabelPosition::UpperRight);
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal intervals per labelled row: a love plot (SMD before and after matching) or
/// a tornado (net savings with each input low and high). `points` are (label, a, b).
pub fn dumbbell(
    title: &str,
    x_desc: &str,
    rows: &[(String, f64, f64)],
    names: (&str, &str),
    guides: &[f64],
) -> Result<String> {
    let mut svg = String::new();
    {
        let height = (120 + 28 * rows.len() as u32).max(240);
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let lo = rows
            .iter()
            .flat_map(|r| [r.1, r.2])
            .chain(guides.iter().copied())
            .fold(f64::INFINITY, f64::min);
        let hi = rows
            .iter()
            .flat_map(|r| [r.1, r.2])
            .chain(guides.iter().copied())
            .fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.08).max(1e-9);
        let n = rows.len().max(1);
        let label_width =
            rows.iter().map(|r| r.0.len()).max().unwrap_or(10).min(40) as u32 * 7 + 10;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(17))
            .margin(18)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5f64..(n as f64 - 0.5))
            .map_err(err)?;
        let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_label_formatter(&|x| {
                if (hi - lo) >= 1000.0 {
                    let s = crate::costs::group_thousands(x.abs());
                    if *x < 0.0 { format!("-{s}") } else { s }
                } else {
                    format!("{x:.2}")
                }
            })
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(n - 1 - i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(x_desc)
            .label_style(font(12))
            .axis_desc_style(font(13))
            .draw()
            .map_err(err)?;
        for &g in guides {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(g, -0.5), (g, n as f64 - 0.5)],
                    GREY.mix(0.6).stroke_width(1),
                )))
                .map_err(err)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r.1, y), (r.2, y)],
                    GREY.stroke_width(2),
                )))
                .map_err(err)?;
        }
        let a: Vec<(f64, f64)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.1, (n - 1 - i) as f64))
            .collect();
        let b: Vec<(f64, f64)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.2, (n - 1 - i) as f64))
            .collect();
        chart
            .draw_series(a.iter().map(|&p| Circle::new(p, 5, PALETTE[1].filled())))
            .map_err(err)?
            .label(names.0)
            .legend(|(x, y)| Circle::new((x + 10, y), 5, PALETTE[1].filled()));
        chart
            .draw_series(b.iter().map(|&p| Circle::new(p, 5, PALETTE[0].filled())))
            .map_err(err)?
            .label(names.1)
            .legend(|(x, y)| Circle::new((x + 10, y), 5, PALETTE[0].filled()));
        legend!(chart, SeriesLabelPosition::LowerRight);
        root.present().map_err(err)?;
    }
    Ok(svg)
}
