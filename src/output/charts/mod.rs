//! Charts as SVG (plotters) and PNG (resvg), following the Government Analysis Function's
//! charts guidance: a title that states the finding (wrapped, never clipped), the
//! Analysis Function's accessible palette, light major gridlines only, percentages as
//! "10%", whole days as integers, the legend above the plot (never on the data), and a
//! `<title>` and `<desc>` (the alt text) in every SVG.
//!
//! Every chart is a pure function of its data, so the same inputs give byte-identical SVG
//! and PNG. Text is measured with the bundled font (`assets/fonts/`): titles wrap and long
//! labels are shortened with an ellipsis before they can leave the canvas.
//!
//! ```
//! use reoffending::charts::{self, Estimate};
//! let groups = [
//!     Estimate { label: "divert".into(), value: 0.22, low: 0.18, high: 0.27 },
//!     Estimate { label: "comparison".into(), value: 0.27, low: 0.24, high: 0.31 },
//! ];
//! let svg = charts::rates("22% of divert reoffended", "Bar chart of rates.", 0.95, &groups, Some(("Thames Valley", 0.2)))?;
//! assert!(svg.contains("<title>22% of divert reoffended</title>"));
//! let png = charts::png(&svg)?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), reoffending::Error>(())
//! ```

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

mod png;
pub mod text;

pub use png::{png, text_boxes};

/// The Analysis Function's categorical palette, in its order: dark blue, turquoise, dark
/// pink, orange, dark grey, light purple. Two series use dark blue and orange.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0x12, 0x43, 0x6D),
    RGBColor(0x28, 0xA1, 0x97),
    RGBColor(0x80, 0x16, 0x50),
    RGBColor(0xF4, 0x6A, 0x25),
    RGBColor(0x3D, 0x3D, 0x3D),
    RGBColor(0xA2, 0x85, 0xD1),
];
/// Text and axes.
const GREY: RGBColor = RGBColor(0x3D, 0x3D, 0x3D);
/// Major gridlines: light grey, the only gridlines drawn.
const GRID: RGBColor = RGBColor(0xD9, 0xD9, 0xD9);
/// Canvas width, and the height of the plot below the title and legend.
const WIDTH: u32 = 760;
const PLOT_HEIGHT: u32 = 400;
/// Space around everything, in pixels.
const MARGIN: u32 = 16;
const TITLE_SIZE: f64 = 18.0;
const LABEL_SIZE: f64 = 13.0;
const TITLE_LINES: usize = 4;

/// Colour of series `k` of `n`: dark blue and orange for two, the palette in order else.
fn colour(k: usize, n: usize) -> RGBColor {
    if n <= 2 {
        [PALETTE[0], PALETTE[3]][k % 2]
    } else {
        PALETTE[k % PALETTE.len()]
    }
}

/// A chart of percentages (0 to `ymax`) over `n` categories labelled `labels`, with the
/// Analysis Function's axes: light major gridlines on y only, "10%" labels.
fn percent_by_category<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    n: usize,
    labels: &[String],
    ymax: f64,
    y_desc: &str,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .x_label_area_size(36)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(GREY)
        .x_labels(n)
        .x_label_formatter(&|x| index_label(labels, *x))
        .y_labels(6)
        .y_label_formatter(&|y| percent(*y))
        .y_desc(y_desc)
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn err<E: std::fmt::Display>(e: E) -> Error {
    Error::Output(format!("chart: {e}"))
}

/// plotters writes `font-size` as the size given divided by 1.24: scaled here so that
/// the SVG's sizes are the pixel sizes the text was measured at.
const PLOTTERS_SCALE: f64 = 1.24;

fn font(size: f64) -> TextStyle<'static> {
    (text::FAMILY, size * PLOTTERS_SCALE)
        .into_font()
        .color(&GREY)
}

/// A percentage axis label: "10%", or "2.5%" where the step needs a decimal.
fn percent(y: f64) -> String {
    if (y - y.round()).abs() < 1e-6 {
        format!("{:.0}%", y)
    } else {
        format!("{y:.1}%")
    }
}

/// An axis top: the next multiple of a round step above `top`, at least `min`.
fn nice_top(top: f64, min: f64) -> f64 {
    let top = top.max(min);
    let raw = top / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (top / step).ceil() * step
}

/// How a series is marked in the legend.
#[derive(Clone, Copy)]
enum Mark {
    Line(RGBColor),
    Dot(RGBColor),
    /// A hollow dot: a projection.
    Ring(RGBColor),
}

/// The title lines and legend rows above the plot.
struct Header {
    title: Vec<String>,
    legend: Vec<Vec<(String, Mark)>>,
}

const TITLE_LINE: u32 = 23;
const LEGEND_ROW: u32 = 22;
const MARK_WIDTH: f64 = 22.0;

impl Header {
    fn new(title: &str, items: Vec<(String, Mark)>) -> Header {
        let max = f64::from(WIDTH - 2 * MARGIN);
        let title = text::wrap(title, TITLE_SIZE, true, max, TITLE_LINES);
        // Legend items flow left to right and wrap; a label wider than a line is shortened.
        let mut legend: Vec<Vec<(String, Mark)>> = Vec::new();
        let mut used = f64::INFINITY;
        for (label, mark) in items {
            let label = text::fit(&label, LABEL_SIZE, false, max - MARK_WIDTH - 8.0);
            let w = MARK_WIDTH + 6.0 + text::width(&label, LABEL_SIZE, false) + 20.0;
            if used + w > max {
                legend.push(Vec::new());
                used = 0.0;
            }
            used += w;
            if let Some(row) = legend.last_mut() {
                row.push((label, mark));
            }
        }
        Header { title, legend }
    }

    fn height(&self) -> u32 {
        let legend = if self.legend.is_empty() {
            0
        } else {
            6 + LEGEND_ROW * self.legend.len() as u32
        };
        MARGIN + TITLE_LINE * self.title.len() as u32 + legend + 8
    }

    fn draw(&self, root: &DrawingArea<SVGBackend, Shift>) -> Result<()> {
        let bold = (text::FAMILY, TITLE_SIZE * PLOTTERS_SCALE)
            .into_font()
            .style(FontStyle::Bold)
            .color(&RGBColor(0x0B, 0x0C, 0x0C))
            .pos(Pos::new(HPos::Left, VPos::Top));
        let mut y = MARGIN as i32;
        for line in &self.title {
            root.draw_text(line, &bold, (MARGIN as i32, y))
                .map_err(err)?;
            y += TITLE_LINE as i32;
        }
        y += 6;
        let label = font(LABEL_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
        for row in &self.legend {
            let mut x = f64::from(MARGIN);
            let cy = y + LEGEND_ROW as i32 / 2;
            for (text_, mark) in row {
                let x0 = x as i32;
                match *mark {
                    Mark::Line(c) => root
                        .draw(&PathElement::new(
                            vec![(x0, cy), (x0 + MARK_WIDTH as i32, cy)],
                            c.stroke_width(3),
                        ))
                        .map_err(err)?,
                    Mark::Dot(c) => root
                        .draw(&Circle::new(
                            (x0 + MARK_WIDTH as i32 / 2, cy),
                            5,
                            c.filled(),
                        ))
                        .map_err(err)?,
                    Mark::Ring(c) => root
                        .draw(&Circle::new(
                            (x0 + MARK_WIDTH as i32 / 2, cy),
                            5,
                            c.stroke_width(2),
                        ))
                        .map_err(err)?,
                }
                root.draw_text(text_, &label, (x0 + MARK_WIDTH as i32 + 6, cy))
                    .map_err(err)?;
                x += MARK_WIDTH + 6.0 + text::width(text_, LABEL_SIZE, false) + 20.0;
            }
            y += LEGEND_ROW as i32;
        }
        Ok(())
    }
}

/// Draws a chart: the header, then `plot` on the area below it; returns the SVG with its
/// `<title>` and `<desc>`.
fn chart<F>(
    title: &str,
    alt: &str,
    legend: Vec<(String, Mark)>,
    plot_height: u32,
    plot: F,
) -> Result<String>
where
    F: FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
{
    let header = Header::new(title, legend);
    let top = header.height();
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, top + plot_height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        header.draw(&root)?;
        let (_, body) = root.split_vertically(top);
        plot(&body)?;
        root.present().map_err(err)?;
    }
    Ok(accessible(&svg, title, alt))
}

/// Escapes text for an SVG element (control characters, which XML does not allow, left out).
fn esc(s: &str) -> String {
    crate::format::html(&s.chars().filter(|c| !c.is_control()).collect::<String>())
}

/// Adds `role="img"`, a `<title>` and a `<desc>` (the alt text) to an SVG.
fn accessible(svg: &str, title: &str, alt: &str) -> String {
    match svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e))
    {
        Some(end) => format!(
            "{} role=\"img\"><title>{}</title>\n<desc>{}</desc>\n{}",
            &svg[..end],
            esc(title),
            esc(alt),
            &svg[end + 1..]
        ),
        None => svg.to_string(),
    }
}

/// `svg` with `text` written visibly in red in its bottom-left corner (the stamp of charts
/// made with disclosure control off).
pub fn stamp(svg: &str, text: &str) -> String {
    let height = svg
        .find("height=\"")
        .and_then(|i| svg[i + 8..].split('"').next())
        .and_then(|h| h.parse::<f64>().ok())
        .unwrap_or(400.0);
    match svg.rfind("</svg>") {
        Some(end) => format!(
            "{}<text x=\"{MARGIN}\" y=\"{}\" font-family=\"{}\" font-size=\"12\" font-weight=\"bold\" fill=\"#D4351C\">{}</text>\n{}",
            &svg[..end],
            height - 6.0,
            text::FAMILY,
            esc(text),
            &svg[end..]
        ),
        None => svg.to_string(),
    }
}

/// The chart with a source line in a band added below it (the Analysis Function's charts
/// guidance: every chart says where its data come from), shortened to fit the width. A chart
/// that is not this module's SVG is returned as it is.
pub fn with_source(svg: &str, source: &str) -> String {
    const BAND: f64 = 22.0;
    let attr = |name: &str| {
        svg.find(&format!("{name}=\""))
            .and_then(|i| svg[i + name.len() + 2..].split('"').next())
            .and_then(|h| h.parse::<f64>().ok())
    };
    let (Some(w), Some(h), Some(end)) = (attr("width"), attr("height"), svg.rfind("</svg>")) else {
        return svg.to_string();
    };
    let head = format!("width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"");
    if !svg.contains(&head) {
        return svg.to_string();
    }
    let line = text::fit(source, LABEL_SIZE - 2.0, false, w - 2.0 * f64::from(MARGIN));
    format!(
        "{}<rect x=\"0\" y=\"{h}\" width=\"{w}\" height=\"{BAND}\" fill=\"#FFFFFF\"/>\n<text x=\"{MARGIN}\" y=\"{}\" \
         font-family=\"{}\" font-size=\"{}\" fill=\"#505A5F\">{}</text>\n{}",
        &svg[..end].replacen(
            &head,
            &format!(
                "width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\"",
                h + BAND,
                h + BAND
            ),
            1
        ),
        h + BAND - 7.0,
        text::FAMILY,
        LABEL_SIZE - 2.0,
        esc(&line),
        &svg[end..]
    )
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

/// The label of the row at height `y` of a chart whose rows are drawn top down (the first
/// label at the top); empty between rows.
fn row_label(labels: &[String], y: f64) -> String {
    let n = labels.len();
    let i = y.round();
    if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
        labels.get(n - 1 - i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Category labels shortened to the width each category has on the axis.
fn category_labels(labels: &[String], axis_width: f64) -> Vec<String> {
    let each = axis_width / labels.len().max(1) as f64 - 6.0;
    labels
        .iter()
        .map(|l| text::fit(l, LABEL_SIZE, false, each.max(20.0)))
        .collect()
}

/// Width of the y-axis label area (tick labels and the rotated axis title).
const Y_AREA: u32 = 70;
/// Width left for the x axis of a plot with the standard y-axis area.
fn x_axis_width() -> f64 {
    f64::from(WIDTH - 2 * MARGIN - Y_AREA)
}

/// A point estimate with its interval, for one labelled group.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Group label.
    pub label: String,
    /// The estimate, as a fraction.
    pub value: f64,
    /// Lower limit of its interval, as a fraction.
    pub low: f64,
    /// Upper limit of its interval, as a fraction.
    pub high: f64,
}

/// Rates with intervals per group, and an optional benchmark line.
pub fn rates(
    title: &str,
    alt: &str,
    confidence: f64,
    groups: &[Estimate],
    benchmark: Option<(&str, f64)>,
) -> Result<String> {
    let _t = crate::trace::Phase::start("  chart (SVG): rates");
    let mut legend = vec![(
        format!("{} confidence interval", crate::format::level(confidence)),
        Mark::Line(GREY),
    )];
    if let Some((name, b)) = benchmark {
        legend.push((
            format!("{name}: {}", percent(b * 100.0)),
            // Turquoise: orange is the pilot's colour in every other chart.
            Mark::Line(PALETTE[1]),
        ));
    }
    chart(title, alt, legend, PLOT_HEIGHT, |area| {
        let top = groups
            .iter()
            .map(|g| g.high)
            .chain(benchmark.map(|b| b.1))
            .fold(0.0f64, f64::max);
        let ymax = nice_top(top * 100.0, 10.0);
        let n = groups.len().max(1);
        let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
        let labels = category_labels(&labels, x_axis_width());
        let mut chart = percent_by_category(area, n, &labels, ymax, "reoffended within 12 months")?;
        for (i, g) in groups.iter().enumerate() {
            let x = i as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 0.0), (x + 0.3, g.value * 100.0)],
                    PALETTE[0].filled(),
                )))
                .map_err(err)?;
            let whisker =
                |y: f64| PathElement::new(vec![(x - 0.06, y), (x + 0.06, y)], GREY.stroke_width(2));
            chart
                .draw_series([
                    PathElement::new(
                        vec![(x, g.low * 100.0), (x, g.high * 100.0)],
                        GREY.stroke_width(2),
                    ),
                    whisker(g.low * 100.0),
                    whisker(g.high * 100.0),
                ])
                .map_err(err)?;
        }
        if let Some((_, b)) = benchmark {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(-0.5, b * 100.0), (n as f64 - 0.5, b * 100.0)],
                    PALETTE[1].stroke_width(3),
                )))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// Cumulative proportion reoffending (1 - Kaplan-Meier) by day, one step line per group.
/// `curves` hold (day, proportion) steps; each line stops at its last point (a caller that
/// knows the level holds later adds a point there), and the axis runs to `horizon` days.
pub fn cumulative(
    title: &str,
    alt: &str,
    curves: &[(String, Vec<(f64, f64)>)],
    horizon: f64,
) -> Result<String> {
    let _t = crate::trace::Phase::start("  chart (SVG): cumulative");
    let legend = curves
        .iter()
        .enumerate()
        .map(|(k, c)| (c.0.clone(), Mark::Line(colour(k, curves.len()))))
        .collect();
    chart(title, alt, legend, PLOT_HEIGHT, |area| {
        let top = curves
            .iter()
            .flat_map(|c| c.1.iter().map(|p| p.1))
            .fold(0.0f64, f64::max);
        let ymax = nice_top(top * 100.0, 10.0);
        let mut chart = ChartBuilder::on(area)
            .margin(MARGIN)
            .x_label_area_size(46)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(0.0..horizon.max(1.0), 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .axis_style(GREY)
            .x_labels(10)
            .x_label_formatter(&|x| format!("{:.0}", x))
            .y_labels(6)
            .y_label_formatter(&|y| percent(*y))
            .x_desc("days since the index date")
            .y_desc("reoffended so far")
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()
            .map_err(err)?;
        for (k, (_, pts)) in curves.iter().enumerate() {
            let c = colour(k, curves.len());
            let mut step = vec![(0.0, 0.0)];
            let mut last = 0.0;
            for &(t, y) in pts.iter().filter(|p| p.0 <= horizon) {
                step.push((t, last * 100.0));
                step.push((t, y * 100.0));
                last = y;
            }
            chart
                .draw_series(std::iter::once(PathElement::new(step, c.stroke_width(3))))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// Estimates by period for several series (e.g. cohorts by quarter), with intervals;
/// `None` where a period has no estimate (yet, or not published).
pub fn by_period(
    title: &str,
    alt: &str,
    confidence: f64,
    periods: &[String],
    series: &[(String, Vec<Option<Estimate>>)],
) -> Result<String> {
    by_period_with_projections(title, alt, confidence, periods, series, &[])
}

/// [`by_period`] with projections beside the estimates: `projected` holds, per series in the
/// same order, the projected points, drawn as hollow markers and named in the legend.
// Over 80 lines: one chart's drawing in plotters' order (canvas, header, axes, series, labels).
pub fn by_period_with_projections(
    title: &str,
    alt: &str,
    confidence: f64,
    periods: &[String],
    series: &[(String, Vec<Option<Estimate>>)],
    projected: &[(String, Vec<Option<Estimate>>)],
) -> Result<String> {
    let _t = crate::trace::Phase::start("  chart (SVG): by period");
    let n_series = series.len();
    let has = |s: &(String, Vec<Option<Estimate>>)| s.1.iter().any(Option::is_some);
    let legend = series
        .iter()
        .enumerate()
        .map(|(k, s)| (s.0.clone(), Mark::Dot(colour(k, n_series))))
        .chain(
            projected
                .iter()
                .enumerate()
                .filter(|(_, s)| has(s))
                .map(|(k, s)| {
                    (
                        format!("{}, projected", s.0),
                        Mark::Ring(colour(k, n_series)),
                    )
                }),
        )
        .chain(std::iter::once((
            format!("{} confidence interval", crate::format::level(confidence)),
            Mark::Line(GREY),
        )))
        .collect();
    chart(title, alt, legend, PLOT_HEIGHT, |area| {
        let top = series
            .iter()
            .chain(projected)
            .flat_map(|s| s.1.iter().flatten().map(|e| e.high))
            .fold(0.0f64, f64::max);
        let ymax = nice_top(top * 100.0, 10.0);
        let n = periods.len().max(1);
        // At most twelve period labels, evenly spaced.
        let every = n.div_ceil(12);
        let shown: Vec<String> = periods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i % every == 0 {
                    p.clone()
                } else {
                    String::new()
                }
            })
            .collect();
        let labels = category_labels(&shown, x_axis_width() * every as f64);
        let mut chart = percent_by_category(area, n, &labels, ymax, "estimated 12-month rate")?;
        let k_series = series.len().max(1) as f64;
        // Estimates filled, projections hollow (a white dot under a ring), in the series'
        // colours; each with its interval.
        let layers = [(series, true), (projected, false)];
        for (layer, filled) in layers {
            for (k, (_, points)) in layer.iter().enumerate().take(n_series) {
                let c = colour(k, n_series);
                let offset = (k as f64 - (k_series - 1.0) / 2.0) * 0.12;
                for (i, e) in points.iter().enumerate() {
                    let Some(e) = e else { continue };
                    let (x, y) = (i as f64 + offset, e.value * 100.0);
                    chart
                        .draw_series([PathElement::new(
                            vec![(x, e.low * 100.0), (x, e.high * 100.0)],
                            GREY.stroke_width(1),
                        )])
                        .map_err(err)?;
                    let marks = if filled {
                        vec![Circle::new((x, y), 5, c.filled())]
                    } else {
                        vec![
                            Circle::new((x, y), 5, WHITE.filled()),
                            Circle::new((x, y), 5, c.stroke_width(2)),
                        ]
                    };
                    chart.draw_series(marks).map_err(err)?;
                }
            }
        }
        Ok(())
    })
}

/// Horizontal intervals per labelled row: a love plot (standardised mean differences
/// before and after matching) or a tornado (net savings with each input low and high).
/// `rows` are (label, a, b); `names` name the a and b points; `guides` draw vertical lines.
// Over 80 lines: one chart's drawing in plotters' order (canvas, header, axes, series, labels).
pub fn dumbbell(
    title: &str,
    alt: &str,
    x_desc: &str,
    rows: &[(String, f64, f64)],
    names: (&str, &str),
    guides: &[f64],
) -> Result<String> {
    let _t = crate::trace::Phase::start("  chart (SVG): dumbbell");
    let legend = vec![
        (names.0.to_string(), Mark::Dot(PALETTE[3])),
        (names.1.to_string(), Mark::Dot(PALETTE[0])),
    ];
    let n = rows.len().max(1);
    let plot_height = (70 + 30 * n as u32).max(200);
    chart(title, alt, legend, plot_height, |area| {
        let lo = rows
            .iter()
            .flat_map(|r| [r.1, r.2])
            .chain(guides.iter().copied())
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, f64::min);
        let hi = rows
            .iter()
            .flat_map(|r| [r.1, r.2])
            .chain(guides.iter().copied())
            .filter(|x| x.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        let pad = ((hi - lo) * 0.08).max(1e-9);
        // Row labels get at most two fifths of the width, shortened to fit.
        let max_label = f64::from(WIDTH) * 0.4;
        let labels: Vec<String> = rows
            .iter()
            .map(|r| text::fit(&r.0, LABEL_SIZE, false, max_label))
            .collect();
        let label_width = labels
            .iter()
            .map(|l| text::width(l, LABEL_SIZE, false))
            .fold(40.0, f64::max)
            .ceil() as u32
            + 14;
        let money = (hi - lo) >= 1000.0;
        let mut chart = ChartBuilder::on(area)
            .margin(MARGIN)
            .x_label_area_size(46)
            .y_label_area_size(label_width)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5f64..(n as f64 - 0.5))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .axis_style(GREY)
            .x_labels(7)
            .x_label_formatter(&|x| {
                if money {
                    let s = crate::format::group_thousands(x.abs());
                    if *x < -0.5 {
                        format!("-£{s}")
                    } else {
                        format!("£{s}")
                    }
                } else if x.abs() < 0.005 {
                    // Never "-0.00".
                    "0.00".to_string()
                } else {
                    format!("{x:.2}")
                }
            })
            .y_labels(n)
            .y_label_formatter(&|y| row_label(&labels, *y))
            .x_desc(x_desc)
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()
            .map_err(err)?;
        for &g in guides {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(g, -0.5), (g, n as f64 - 0.5)],
                    GREY.stroke_width(1),
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
            chart
                .draw_series([
                    Circle::new((r.1, y), 6, PALETTE[3].filled()),
                    Circle::new((r.2, y), 6, PALETTE[0].filled()),
                ])
                .map_err(err)?;
        }
        Ok(())
    })
}

/// One labelled estimate with its interval for [`intervals`]; `marked` rows (the headline)
/// are drawn in orange, the others in dark blue.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    /// The row's label.
    pub label: String,
    /// The estimate.
    pub value: f64,
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
    /// Whether this is the marked (headline) row.
    pub marked: bool,
}

/// A dot-and-whisker chart: one row per estimate (e.g. every adjusted design), the dot at
/// the estimate and the whisker over its interval, a vertical line at zero; values in
/// percentage points. `names` name the ordinary and the marked rows in the legend.
// Over 80 lines: one chart's drawing in plotters' order (canvas, header, axes, series, labels).
pub fn intervals(
    title: &str,
    alt: &str,
    x_desc: &str,
    rows: &[IntervalRow],
    names: (&str, &str),
) -> Result<String> {
    let _t = crate::trace::Phase::start("  chart (SVG): intervals");
    let mut legend = vec![(names.0.to_string(), Mark::Dot(PALETTE[0]))];
    if rows.iter().any(|r| r.marked) {
        legend.push((names.1.to_string(), Mark::Dot(PALETTE[3])));
    }
    let n = rows.len().max(1);
    let plot_height = (70 + 34 * n as u32).max(200);
    chart(title, alt, legend, plot_height, |area| {
        let finite = rows
            .iter()
            .flat_map(|r| [r.low, r.high, r.value])
            .chain([0.0])
            .filter(|x| x.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (lo, hi) = (lo * 100.0, hi * 100.0);
        let pad = ((hi - lo) * 0.08).max(0.5);
        let max_label = f64::from(WIDTH) * 0.4;
        let labels: Vec<String> = rows
            .iter()
            .map(|r| text::fit(&r.label, LABEL_SIZE, false, max_label))
            .collect();
        let label_width = labels
            .iter()
            .map(|l| text::width(l, LABEL_SIZE, false))
            .fold(40.0, f64::max)
            .ceil() as u32
            + 14;
        let mut chart = ChartBuilder::on(area)
            .margin(MARGIN)
            .x_label_area_size(46)
            .y_label_area_size(label_width)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5f64..(n as f64 - 0.5))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .axis_style(GREY)
            .x_labels(8)
            .x_label_formatter(&|x| {
                if x.abs() < 0.05 {
                    // Never "-0".
                    "0".to_string()
                } else if (x - x.round()).abs() < 1e-6 {
                    format!("{x:+.0}")
                } else {
                    format!("{x:+.1}")
                }
            })
            .y_labels(n)
            .y_label_formatter(&|y| row_label(&labels, *y))
            .x_desc(x_desc)
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                GREY.stroke_width(1),
            )))
            .map_err(err)?;
        for (i, r) in rows.iter().enumerate() {
            if !(r.value.is_finite() && r.low.is_finite() && r.high.is_finite()) {
                continue;
            }
            let y = (n - 1 - i) as f64;
            let c = if r.marked { PALETTE[3] } else { PALETTE[0] };
            let whisker =
                |x: f64| PathElement::new(vec![(x, y - 0.12), (x, y + 0.12)], c.stroke_width(2));
            chart
                .draw_series([
                    PathElement::new(
                        vec![(r.low * 100.0, y), (r.high * 100.0, y)],
                        c.stroke_width(2),
                    ),
                    whisker(r.low * 100.0),
                    whisker(r.high * 100.0),
                ])
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (r.value * 100.0, y),
                    6,
                    c.filled(),
                )))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// The title of a love plot: whether every term is balanced after matching (|SMD| at most
/// 0.1), else the largest |SMD| left. `rows` are (term, SMD before, SMD after).
pub fn balance_title(rows: &[(String, f64, f64)]) -> String {
    let worst = rows.iter().map(|r| r.2.abs()).fold(0.0, f64::max);
    if worst <= 0.1 {
        "After matching every term is balanced (|SMD| at most 0.1)".to_string()
    } else {
        format!("After matching the largest |SMD| is {worst:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_top(27.4, 10.0), 30.0);
        assert_eq!(nice_top(3.0, 10.0), 10.0);
        assert_eq!(nice_top(61.0, 10.0), 80.0);
        assert_eq!(percent(10.0), "10%");
        assert_eq!(percent(2.5), "2.5%");
    }

    #[test]
    fn every_svg_carries_title_and_description() {
        let svg = cumulative(
            "A <b>title</b>",
            "Alt & text",
            &[("x".into(), vec![(10.0, 0.1)])],
            365.0,
        )
        .expect("chart");
        assert!(svg.contains("role=\"img\"><title>A &lt;b&gt;title&lt;/b&gt;</title>"));
        assert!(svg.contains("<desc>Alt &amp; text</desc>"));
    }
}

/// A chart of estimates over periods ([`over_periods`]).
#[derive(Debug, Clone)]
pub struct PeriodChart<'a> {
    /// The title, stating the finding.
    pub title: &'a str,
    /// The text alternative.
    pub alt: &'a str,
    /// Period labels, in order.
    pub periods: &'a [String],
    /// Named series, one point (or none) per period, as fractions (0.05 is 5%).
    pub series: &'a [(String, Vec<Option<Estimate>>)],
    /// Join each series' points with a line.
    pub lines: bool,
    /// Draw intervals, at this confidence level (named in the legend).
    pub intervals: Option<f64>,
    /// The index of the launch period: a dashed vertical line just before it, labelled.
    pub launch: Option<usize>,
    /// The y axis' description.
    pub y_desc: &'a str,
    /// Label the y axis in percentage points (`-5`, `+5`) rather than percentages.
    pub y_points: bool,
}

/// A percentage-point axis label: "+5", "-2.5", "0".
fn points_label(y: f64) -> String {
    let s = percent(y);
    let s = s.trim_end_matches('%');
    if y > 1e-9 {
        format!("+{s}")
    } else {
        s.to_string()
    }
}

/// Estimates over periods that may be negative (an event study's changes) or not (rates),
/// with the launch marked and a line at zero when the axis crosses it.
// Over 80 lines: one chart's drawing in plotters' order (canvas, header, axes, series, labels).
pub fn over_periods(c: &PeriodChart<'_>) -> Result<String> {
    let _t = crate::trace::Phase::start("  chart (SVG): over periods");
    let n_series = c.series.len();
    let mut legend: Vec<(String, Mark)> = c
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| (s.0.clone(), Mark::Dot(colour(k, n_series))))
        .collect();
    if let Some(level) = c.intervals {
        legend.push((
            format!("{} confidence interval", crate::format::level(level)),
            Mark::Line(GREY),
        ));
    }
    if c.launch.is_some() {
        legend.push(("launch".into(), Mark::Line(PALETTE[2])));
    }
    chart(c.title, c.alt, legend, PLOT_HEIGHT, |area| {
        let values = c.series.iter().flat_map(|s| s.1.iter().flatten());
        let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), e| {
            let (a, b) = if c.intervals.is_some() {
                (e.low, e.high)
            } else {
                (e.value, e.value)
            };
            (lo.min(a), hi.max(b))
        });
        let top = if hi > 0.0 {
            nice_top(hi * 100.0, 1.0)
        } else {
            0.0
        };
        let bottom = if lo < 0.0 {
            -nice_top(-lo * 100.0, 1.0)
        } else {
            0.0
        };
        let (bottom, top) = if top == bottom {
            (0.0, 1.0)
        } else {
            (bottom, top)
        };
        let n = c.periods.len().max(1);
        // Every `every`-th label, the smallest step at which the widest label fits whole.
        let widest = c
            .periods
            .iter()
            .map(|p| text::width(p, LABEL_SIZE, false))
            .fold(0.0f64, f64::max);
        let every = (1..=n)
            .find(|&e| x_axis_width() * e as f64 / n as f64 - 6.0 >= widest)
            .unwrap_or(n);
        let shown: Vec<String> = c
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i % every == 0 {
                    p.clone()
                } else {
                    String::new()
                }
            })
            .collect();
        let labels = category_labels(&shown, x_axis_width() * every as f64);
        let mut chart = ChartBuilder::on(area)
            .margin(MARGIN)
            .x_label_area_size(36)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), bottom..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .axis_style(GREY)
            .x_labels(n)
            .x_label_formatter(&|x| index_label(&labels, *x))
            .y_labels(6)
            .y_label_formatter(&|y| {
                if c.y_points {
                    points_label(*y)
                } else {
                    percent(*y)
                }
            })
            .y_desc(c.y_desc)
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(LABEL_SIZE))
            .draw()
            .map_err(err)?;
        if bottom < 0.0 && top > 0.0 {
            chart
                .draw_series([PathElement::new(
                    vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                    GREY.stroke_width(1),
                )])
                .map_err(err)?;
        }
        if let Some(l) = c.launch {
            let x = l as f64 - 0.5;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x, bottom), (x, top)],
                    6,
                    4,
                    PALETTE[2].stroke_width(2),
                ))
                .map_err(err)?;
        }
        let k_series = n_series.max(1) as f64;
        for (k, (_, points)) in c.series.iter().enumerate() {
            let col = colour(k, n_series);
            let offset = if c.intervals.is_some() {
                (k as f64 - (k_series - 1.0) / 2.0) * 0.12
            } else {
                0.0
            };
            if c.lines {
                // Lines only between consecutive published points: a gap stays a gap.
                for (i, pair) in points.windows(2).enumerate() {
                    if let [Some(a), Some(b)] = pair {
                        chart
                            .draw_series([PathElement::new(
                                vec![
                                    (i as f64 + offset, a.value * 100.0),
                                    (i as f64 + 1.0 + offset, b.value * 100.0),
                                ],
                                col.stroke_width(2),
                            )])
                            .map_err(err)?;
                    }
                }
            }
            for (i, e) in points.iter().enumerate() {
                let Some(e) = e else { continue };
                let x = i as f64 + offset;
                if c.intervals.is_some() {
                    chart
                        .draw_series([PathElement::new(
                            vec![(x, e.low * 100.0), (x, e.high * 100.0)],
                            GREY.stroke_width(1),
                        )])
                        .map_err(err)?;
                }
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (x, e.value * 100.0),
                        4,
                        col.filled(),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    })
}
