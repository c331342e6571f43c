//! Notebook display: results render as HTML tables in Jupyter through the evcxr kernel.
//!
//! evcxr calls a type's `evcxr_display` method when a cell evaluates to it:
//!
//! ```text
//! :dep reoffending = { path = "." }
//! let eval = reoffending::Evaluation::load(&inputs, reoffending::Rules::default())?;
//! reoffending::Rates::compute(&eval.data.people, &eval.outcomes, &Default::default())?
//! ```

use crate::present::Table;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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

/// Prints tables in evcxr's HTML display protocol.
pub fn display(tables: &[Table]) {
    let body: String = tables.iter().map(table_html).collect();
    println!("EVCXR_BEGIN_CONTENT text/html\n{body}\nEVCXR_END_CONTENT");
}

macro_rules! displayable {
    ($ty:ty, $tables:expr) => {
        impl $ty {
            /// Shows the result as HTML in a Jupyter notebook (evcxr kernel).
            pub fn evcxr_display(&self) {
                let f: fn(&$ty) -> Vec<Table> = $tables;
                display(&f(self));
            }
        }
    };
}

displayable!(crate::measure::Rates, |r| vec![r.table()]);
displayable!(crate::compare::Comparison, |c| {
    let mut v = vec![c.table()];
    v.extend(c.subgroup_table());
    v
});
displayable!(crate::survival::SurvivalAnalysis, |s| s.tables());
displayable!(crate::matching::MatchedComparison, |m| m.tables());
displayable!(crate::monitor::Monitor, |m| vec![m.table()]);
displayable!(crate::costs::CostBenefit, |c| c.tables());

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
}
