//! Notebook display: results render as HTML tables, and their charts as inline SVG, in
//! Jupyter through the evcxr kernel (`notebooks/divert_evaluation.ipynb`).
//!
//! evcxr calls a type's `evcxr_display` method when a cell evaluates to it:
//!
//! ```text
//! :dep reoffending = { path = "." }
//! use reoffending::prelude::*;
//! let eval = Evaluation::load(&inputs, Rules::default())?;
//! let rates = Rates::compute(&eval, &RateOptions::default())?;
//! rates            // an HTML table
//! rates.chart()    // an SVG chart (or, if it could not be drawn, why)
//! ```
//!
//! `chart()` returns a [`Chart`], not a `Result`: a cell's value is then the chart itself,
//! whatever `?` the cell or the earlier ones use, and evcxr shows it through its
//! `evcxr_display`.
//!
//! Charts drawn here are for the analyst inside the secure environment: they show the
//! results as computed. Only `report` applies disclosure control.

use crate::present::Table;

use crate::format::html as esc;

/// A table as an HTML `<table>` with its title as caption and notes below.
pub fn table_html(t: &Table) -> String {
    let mut h = String::from("<table>");
    if !t.title.is_empty() {
        h.push_str(&format!(
            "<caption style=\"text-align:left;font-weight:bold\">{}</caption>",
            esc(&t.title)
        ));
    }
    h.push_str("<thead><tr>");
    for c in &t.columns {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        h.push_str("<tr>");
        for c in r {
            h.push_str(&format!("<td>{}</td>", esc(c.as_deref().unwrap_or("[x]"))));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    for n in &t.notes {
        if !n.is_empty() {
            h.push_str(&format!("<p style=\"font-size:90%\">{}</p>", esc(n)));
        }
    }
    h
}

/// Prints HTML in evcxr's display protocol.
pub fn display_html(body: &str) {
    println!("EVCXR_BEGIN_CONTENT text/html\n{body}\nEVCXR_END_CONTENT");
}

/// A chart: shown inline as SVG in a notebook, saved as SVG or PNG.
///
/// Every result's `chart()` returns one, never an error, so that a notebook cell whose value
/// is `rates.chart()` always shows something, however evcxr wraps the cell: the chart, or
/// (when it could not be drawn) a line saying why. Code that must stop on a chart that was not
/// drawn asks for its SVG: [`Chart::svg`] is a `Result`.
///
/// ```
/// use reoffending::prelude::*;
/// # fn main() -> reoffending::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let cohort = dir.path().join("cohort.csv");
/// # let offences = dir.path().join("offences.csv");
/// # std::fs::write(&cohort, "person_id,cohort,index_date\nA,divert,2021-01-10\n\
/// #     B,divert,2021-02-01\nC,comparison,2021-01-05\nD,comparison,2021-01-09\n").unwrap();
/// # std::fs::write(&offences, "person_id,offence_date,disposal_date\n\
/// #     A,2021-03-01,2021-05-01\nC,2021-12-01,2022-06-01\n").unwrap();
/// let eval = Evaluation::load(&Inputs::new(&cohort, &offences), Rules::default())?;
/// let rates = Rates::compute(&eval, &RateOptions::default())?;
/// let chart = rates.chart(); // in a notebook, the cell's value shows inline
/// assert!(chart.svg()?.starts_with("<svg"));
/// chart.save(dir.path().join("rates.png"))?; // PNG for Word, SVG by any other extension
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct Chart {
    /// The SVG, or why the chart could not be drawn.
    drawn: std::result::Result<String, String>,
}

/// In a notebook cell that uses `?` (`Rates::compute(..)?.chart()`), evcxr shows the cell's
/// value with `Debug` rather than [`Chart::evcxr_display`]; so inside evcxr's runtime (which
/// sets `EVCXR_IS_RUNTIME`) the chart displays itself here and its debug text is one line.
/// Anywhere else the debug text says what the chart is, without its SVG.
impl std::fmt::Debug for Chart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if std::env::var_os("EVCXR_IS_RUNTIME").is_some() {
            self.evcxr_display();
            return f.write_str("(chart shown above)");
        }
        match &self.drawn {
            Ok(svg) => write!(f, "Chart {{ svg: {} bytes }}", svg.len()),
            Err(why) => write!(f, "Chart {{ not drawn: {why:?} }}"),
        }
    }
}

impl Chart {
    /// A chart of this SVG.
    pub fn from_svg(svg: impl Into<String>) -> Chart {
        Chart {
            drawn: Ok(svg.into()),
        }
    }

    /// The chart that drawing gave, or the reason it could not be drawn.
    pub(crate) fn from_result(drawn: crate::Result<String>) -> Chart {
        Chart {
            drawn: drawn.map_err(|e| e.to_string()),
        }
    }

    /// The chart as SVG; an error saying why when it could not be drawn.
    pub fn svg(&self) -> crate::Result<&str> {
        self.drawn
            .as_deref()
            .map_err(|why| crate::Error::Output(format!("the chart could not be drawn: {why}")))
    }

    /// Why the chart could not be drawn (`None` when it was).
    pub fn problem(&self) -> Option<&str> {
        self.drawn.as_ref().err().map(String::as_str)
    }

    /// Shows the chart inline in a Jupyter notebook (evcxr kernel); a chart that could not be
    /// drawn shows why instead.
    pub fn evcxr_display(&self) {
        let (mime, body) = self.content();
        println!("EVCXR_BEGIN_CONTENT {mime}\n{body}\nEVCXR_END_CONTENT");
    }

    /// What [`Chart::evcxr_display`] shows: its MIME type and body.
    fn content(&self) -> (&'static str, String) {
        match &self.drawn {
            Ok(svg) => ("image/svg+xml", svg.clone()),
            Err(why) => (
                "text/html",
                format!(
                    "<p><strong>The chart could not be drawn:</strong> {}</p>",
                    esc(why)
                ),
            ),
        }
    }

    /// The chart as PNG at twice its size (for Word and PowerPoint).
    pub fn png(&self) -> crate::Result<Vec<u8>> {
        crate::charts::png(self.svg()?)
    }

    /// Writes the chart to `path`: PNG when the name ends in `.png`, SVG otherwise.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> crate::Result<()> {
        let path = path.as_ref();
        let bytes = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
        {
            self.png()?
        } else {
            self.svg()?.as_bytes().to_vec()
        };
        std::fs::write(path, bytes).map_err(|source| crate::Error::Io {
            path: path.to_path_buf(),
            action: "cannot write",
            source,
        })
    }
}

fn pct(x: f64) -> String {
    crate::format::Kind::Pct.show(x)
}

impl crate::measure::Rates {
    /// Rates with their intervals, one bar per group (breakdown values joined).
    pub fn chart(&self) -> Chart {
        Chart::from_result(self.chart_svg())
    }

    fn chart_svg(&self) -> crate::Result<String> {
        let groups: Vec<crate::charts::Estimate> = self
            .groups
            .iter()
            .filter_map(|g| {
                Some(crate::charts::Estimate {
                    label: g
                        .key
                        .0
                        .iter()
                        .filter_map(|(_, v)| v.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    value: g.rate?,
                    low: g.ci_low?,
                    high: g.ci_high?,
                })
            })
            .collect();
        let title = match groups.iter().max_by(|a, b| a.value.total_cmp(&b.value)) {
            Some(top) => format!(
                "Proven reoffending within 12 months: highest in {} ({})",
                top.label,
                pct(top.value)
            ),
            None => "Proven reoffending within 12 months".to_string(),
        };
        let alt = format!("Bar chart: {title}; bars are groups, whiskers their intervals.");
        let svg = crate::charts::rates(
            &title,
            &alt,
            self.confidence,
            &groups,
            self.baseline_rate.map(|b| ("baseline", b)),
        )?;
        Ok(svg)
    }
}

impl crate::compare::Comparison {
    /// The two rates with their intervals (and the benchmark as a line).
    pub fn chart(&self) -> Chart {
        Chart::from_result(self.chart_svg())
    }

    fn chart_svg(&self) -> crate::Result<String> {
        let mut groups = vec![crate::charts::Estimate {
            label: self.treatment.clone(),
            value: self.treatment_rate.estimate,
            low: self.treatment_rate.limits().0,
            high: self.treatment_rate.limits().1,
        }];
        let mut benchmark = None;
        match &self.control {
            Some(control) => {
                // The comparison group's interval as the analysis computed it; a weighted
                // group's rate has none, and is drawn without whiskers.
                let (low, high) = self
                    .control_rate_ci
                    .map_or((self.control_rate, self.control_rate), |ci| {
                        (ci.low, ci.high)
                    });
                groups.push(crate::charts::Estimate {
                    label: control.clone(),
                    value: self.control_rate,
                    low,
                    high,
                });
            }
            None => {
                benchmark = Some((
                    self.baseline_name
                        .clone()
                        .unwrap_or_else(|| "benchmark".into()),
                    self.control_rate,
                ))
            }
        }
        let title = format!(
            "{} reoffended within 12 months: {} against {}",
            self.treatment,
            pct(self.treatment_rate.estimate),
            pct(self.control_rate)
        );
        let alt = format!("Bar chart: {title}, with intervals.");
        let svg = crate::charts::rates(
            &title,
            &alt,
            self.confidence,
            &groups,
            benchmark.as_ref().map(|(n, r)| (n.as_str(), *r)),
        )?;
        Ok(svg)
    }
}

impl crate::survival::SurvivalAnalysis {
    /// The share reoffended so far (1 - Kaplan-Meier) by day, one line per group, drawn at
    /// every event day.
    pub fn chart(&self) -> Chart {
        Chart::from_result(self.chart_svg())
    }

    fn chart_svg(&self) -> crate::Result<String> {
        let horizon = f64::from(self.follow_up_days);
        let curves: Vec<(String, Vec<(f64, f64)>)> = self
            .groups
            .iter()
            .map(|g| {
                (
                    g.key
                        .0
                        .iter()
                        .filter_map(|(_, v)| v.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    {
                        let mut pts: Vec<(f64, f64)> = g
                            .table
                            .iter()
                            .filter(|r| r.events > 0)
                            .map(|r| (r.time, 1.0 - r.survival))
                            .collect();
                        // Unpublished analysis: the level holds to the last day observed.
                        if let (Some(end), Some(&(_, y))) = (g.table.last(), pts.last()) {
                            pts.push((end.time.min(horizon), y));
                        }
                        pts
                    },
                )
            })
            .collect();
        let ends: Vec<String> = curves
            .iter()
            .map(|(l, c)| format!("{l} {}", pct(c.last().map_or(0.0, |p| p.1))))
            .collect();
        let title = format!(
            "Reoffended within {horizon:.0} days (Kaplan-Meier): {}",
            ends.join(", ")
        );
        let alt = format!("Step chart: {title}.");
        let svg = crate::charts::cumulative(&title, &alt, &curves, horizon)?;
        Ok(svg)
    }
}

impl crate::matching::MatchedComparison {
    /// Balance before and after matching (a love plot of standardised mean differences).
    pub fn chart(&self) -> Chart {
        Chart::from_result(self.chart_svg())
    }

    fn chart_svg(&self) -> crate::Result<String> {
        let rows: Vec<(String, f64, f64)> = self
            .balance
            .iter()
            .filter_map(|b| Some((b.covariate.clone(), b.smd_before?, b.smd_after?)))
            .collect();
        let title = crate::charts::balance_title(&rows);
        let alt = format!("Dot plot: {title}.");
        let svg = crate::charts::dumbbell(
            &title,
            &alt,
            "standardised mean difference",
            &rows,
            ("before matching", "after matching"),
            &[-0.1, 0.0, 0.1],
        )?;
        Ok(svg)
    }
}

impl crate::monitor::Monitor {
    /// Each quarter's estimated 12-month rate with its interval, one series per cohort.
    pub fn chart(&self) -> Chart {
        Chart::from_result(self.chart_svg())
    }

    fn chart_svg(&self) -> crate::Result<String> {
        let mut periods: Vec<String> = self.groups.iter().map(|g| g.period.clone()).collect();
        periods.sort();
        periods.dedup();
        let mut cohorts: Vec<String> = self.groups.iter().map(|g| g.cohort.clone()).collect();
        cohorts.sort();
        cohorts.dedup();
        let series: Vec<(String, Vec<Option<crate::charts::Estimate>>)> = cohorts
            .iter()
            .map(|c| {
                let points = periods
                    .iter()
                    .map(|p| {
                        let g = self
                            .groups
                            .iter()
                            .find(|g| &g.cohort == c && &g.period == p)?;
                        Some(crate::charts::Estimate {
                            label: p.clone(),
                            value: g.estimate_12m?,
                            low: g.ci_low?,
                            high: g.ci_high?,
                        })
                    })
                    .collect();
                (c.clone(), points)
            })
            .collect();
        let title =
            "Estimated 12-month proven reoffending by quarter of the index date".to_string();
        let alt = "Dot chart of each quarter's estimated 12-month rate with intervals, one colour per cohort.".to_string();
        let svg = crate::charts::by_period(&title, &alt, self.confidence, &periods, &series)?;
        Ok(svg)
    }
}

impl crate::costs::CostBenefit {
    /// How the net value moves with each input at its low and high value (a tornado).
    pub fn chart(&self) -> Chart {
        Chart::from_result(self.chart_svg())
    }

    fn chart_svg(&self) -> crate::Result<String> {
        let rows: Vec<(String, f64, f64)> = self
            .tornado
            .iter()
            .map(|t| (t.input.clone(), t.net_low, t.net_high))
            .collect();
        let title = format!(
            "Net value {} ({:.0}% chance it is above zero)",
            crate::format::pounds(self.net_savings),
            self.probability_net_positive * 100.0
        );
        let alt =
            format!("Tornado chart: {title}; each row is an input at its low and high value.");
        let svg = crate::charts::dumbbell(
            &title,
            &alt,
            "net value (GBP)",
            &rows,
            ("input low", "input high"),
            &[0.0],
        )?;
        Ok(svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_marks_missing() {
        let mut t = Table::new("a < b", &["x", "y"], 1);
        t.push(vec![Some("<i>".into()), None]);
        let h = table_html(&t);
        assert!(h.contains("a &lt; b") && h.contains("&lt;i&gt;") && h.contains("<td>[x]</td>"));
    }

    #[test]
    fn a_charts_debug_text_outside_a_notebook_names_it_without_its_svg() {
        // (evcxr's runtime sets EVCXR_IS_RUNTIME; the test process does not.)
        let c = Chart::from_svg("<svg>x</svg>");
        let text = format!("{c:?}");
        assert_eq!(text, "Chart { svg: 12 bytes }");
        assert!(!text.contains("<svg"));
    }

    #[test]
    fn a_chart_that_could_not_be_drawn_shows_why_and_does_not_save() {
        let drawn = Chart::from_svg("<svg/>");
        assert_eq!(drawn.content(), ("image/svg+xml", "<svg/>".to_string()));
        assert_eq!((drawn.svg().ok(), drawn.problem()), (Some("<svg/>"), None));
        let failed = Chart::from_result(Err(crate::Error::Output("no <groups>".into())));
        let (mime, body) = failed.content();
        assert_eq!(mime, "text/html");
        assert!(
            body.contains("could not be drawn") && body.contains("no &lt;groups&gt;"),
            "{body}"
        );
        assert_eq!(failed.problem(), Some("output: no <groups>"));
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("x.svg");
        let e = failed.save(&path).expect_err("nothing to save");
        assert!(
            e.to_string()
                .contains("the chart could not be drawn: output: no <groups>"),
            "{e}"
        );
        assert!(!path.exists());
    }
}
