//! Numbers and text as sentences and tables print them: a confidence level, a p-value, a
//! percentage, money, a label made safe for a terminal.
//!
//! One layer below the analyses (whose summaries are sentences) and the outputs (whose tables
//! print the same figures), so both use one format and neither depends on the other.

/// A confidence level as a percentage, as headers and sentences print it: `0.95` -> `95%`,
/// `0.9` -> `90%`, `0.975` -> `97.5%`.
///
/// ```
/// use reoffending::format::level;
/// assert_eq!((level(0.95), level(0.9), level(0.975)), ("95%".into(), "90%".into(), "97.5%".into()));
/// ```
pub fn level(confidence: f64) -> String {
    let s = format!("{:.2}", confidence * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// What a table cell holds, which decides how a number in it is written: the one format of
/// each kind, for the terminal and notebook tables, the report's pages and CSV files, and
/// (with its number format) the report's spreadsheet.
///
/// ```
/// use reoffending::format::Kind;
/// assert_eq!(Kind::Count.show(1234.0), "1234");
/// assert_eq!(Kind::Pct.show(0.2031), "20.3%");
/// assert_eq!(Kind::Pts.show(-0.0316), "-3.2");
/// assert_eq!(Kind::Num(3).show(0.81234), "0.812");
/// assert_eq!(Kind::P.show(0.00001), "<0.0001");
/// assert_eq!(Kind::Money.show(-1234.6), "-£1,235");
/// assert_eq!(Kind::Pct.interval(0.2, 0.25), "20.0% to 25.0%");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// A count of people or events, to the unit; also a label column's kind (text is shown
    /// as it is, whatever the kind).
    Count,
    /// A rate or share, as a percentage with one decimal place.
    Pct,
    /// A difference of rates in percentage points, signed, one decimal place.
    Pts,
    /// A number (a ratio, a mean, a statistic) with this many decimal places.
    Num(usize),
    /// A p-value: four decimal places, `<0.0001` below that.
    P,
    /// Pounds, to the pound, grouped by thousands.
    Money,
}

impl Kind {
    /// A number of this kind as text.
    pub fn show(self, x: f64) -> String {
        match self {
            Kind::Count => format!("{}", x.round() as i64),
            Kind::Pct => format!("{:.1}%", x * 100.0),
            Kind::Pts => format!("{:+.1}", x * 100.0),
            Kind::Num(d) => format!("{x:.d$}"),
            Kind::P => {
                if x < 1e-4 {
                    "<0.0001".to_string()
                } else {
                    format!("{x:.4}")
                }
            }
            Kind::Money => pounds(x),
        }
    }

    /// A number of this kind as a spreadsheet stores it: the value and the Excel number
    /// format that shows it as [`show`](Kind::show) does (points are stored as points).
    pub fn spreadsheet(self, x: f64) -> (f64, &'static str) {
        match self {
            Kind::Count => (x, "#,##0"),
            Kind::Pct => (x, "0.0%"),
            Kind::Pts => (x * 100.0, "+0.0;-0.0;0.0"),
            Kind::Num(0) => (x, "0"),
            Kind::Num(1) => (x, "0.0"),
            Kind::Num(2) => (x, "0.00"),
            Kind::Num(_) => (x, "0.000"),
            Kind::P => (x, "0.0000"),
            Kind::Money => (x, "£#,##0;-£#,##0"),
        }
    }

    /// An interval of this kind in one cell: `20.0% to 25.0%`.
    pub fn interval(self, low: f64, high: f64) -> String {
        format!("{} to {}", self.show(low), self.show(high))
    }
}

/// A fraction as a percentage with one decimal place (`0.2031` -> `20.3%`): [`Kind::Pct`].
pub fn pct(x: Option<f64>) -> Option<String> {
    x.map(|v| Kind::Pct.show(v))
}

/// A number with `d` decimal places: [`Kind::Num`].
pub fn num(x: Option<f64>, d: usize) -> Option<String> {
    x.map(|v| Kind::Num(d).show(v))
}

/// A p-value, four decimals, `<0.0001` below that: [`Kind::P`].
///
/// ```
/// use reoffending::format::pval;
/// assert_eq!(pval(Some(0.04535)).as_deref(), Some("0.0454"));
/// assert_eq!(pval(Some(0.00001)).as_deref(), Some("<0.0001"));
/// ```
pub fn pval(p: Option<f64>) -> Option<String> {
    p.map(|p| Kind::P.show(p))
}

/// A p-value's clause in a sentence, from the p-value as printed: `p = 0.0454`, or
/// `p < 0.0001` where it prints below its precision (`<0.0001`, or `0.000` at three places).
///
/// ```
/// use reoffending::format::p_clause;
/// assert_eq!(p_clause("0.0454"), "p = 0.0454");
/// assert_eq!(p_clause("<0.0001"), "p < 0.0001");
/// assert_eq!(p_clause("0.000"), "p < 0.001");
/// assert_eq!(p_clause("[c]"), "p = [c]");
/// ```
pub fn p_clause(printed: &str) -> String {
    if let Some(bound) = printed.strip_prefix('<') {
        return format!("p < {bound}");
    }
    match printed.split_once('.') {
        Some((whole, places))
            if whole == "0" && !places.is_empty() && places.chars().all(|c| c == '0') =>
        {
            format!("p < 0.{}1", &places[1..])
        }
        _ => format!("p = {printed}"),
    }
}

/// [`p_clause`] of `p` printed with `decimals` places: `p = 0.083`, or `p < 0.001`.
///
/// ```
/// use reoffending::format::p_clause_at;
/// assert_eq!(p_clause_at(0.0833, 3), "p = 0.083");
/// assert_eq!(p_clause_at(0.0002, 3), "p < 0.001");
/// ```
pub fn p_clause_at(p: f64, decimals: usize) -> String {
    p_clause(&format!("{p:.decimals$}"))
}

/// An interval of `kind` when both limits are known: [`Kind::interval`].
pub fn interval(kind: Kind, low: Option<f64>, high: Option<f64>) -> Option<String> {
    Some(kind.interval(low?, high?))
}

/// Text for a terminal: control characters (escape sequences, carriage returns, bells) and
/// bidirectional overrides are shown as `?`, so a label cannot move the cursor, rewrite
/// what is on screen or reorder it.
pub fn terminal_text(s: &str) -> String {
    s.chars()
        .map(|c| if crate::error::unsafe_char(c) { '?' } else { c })
        .collect()
}

/// Text escaped for HTML and SVG (XML) text and attribute values: `&`, `<`, `>` and `"`
/// as entities. The one escaper of the notebook's tables, the charts' titles and the
/// report's Markdown; the report's HTML page is escaped by its template engine.
///
/// ```
/// use reoffending::format::html;
/// assert_eq!(html(r#"a < b & "c""#), "a &lt; b &amp; &quot;c&quot;");
/// ```
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Pounds, to the pound (a half rounds to even) and grouped by thousands.
///
/// ```
/// use reoffending::format::pounds;
/// assert_eq!(pounds(-1234.6), "-£1,235");
/// assert_eq!(pounds(2_500_000.0), "£2,500,000");
/// ```
pub fn pounds(x: f64) -> String {
    if x < 0.0 {
        format!("-£{}", group_thousands(-x))
    } else {
        format!("£{}", group_thousands(x))
    }
}

/// A number to the unit, grouped by thousands: `1234567.8` -> `1,234,568`.
pub fn group_thousands(x: f64) -> String {
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if neg { format!("-{out}") } else { out }
}
