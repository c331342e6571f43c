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

/// A fraction as a percentage with one decimal place (`0.2031` -> `20.3%`).
pub fn pct(x: Option<f64>) -> Option<String> {
    x.map(|v| format!("{:.1}%", v * 100.0))
}

/// A number with `d` decimal places.
pub fn num(x: Option<f64>, d: usize) -> Option<String> {
    x.map(|v| format!("{v:.d$}"))
}

/// A p-value: four decimals, `<0.0001` below that.
///
/// ```
/// use reoffending::format::pval;
/// assert_eq!(pval(Some(0.04535)).as_deref(), Some("0.0454"));
/// assert_eq!(pval(Some(0.00001)).as_deref(), Some("<0.0001"));
/// ```
pub fn pval(p: Option<f64>) -> Option<String> {
    p.map(|p| {
        if p < 1e-4 {
            "<0.0001".to_string()
        } else {
            format!("{p:.4}")
        }
    })
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
