//! `report.md`: the sections as Markdown, with no raw HTML and no broken table rows.

use super::table::Section;

pub(super) fn markdown(title: &str, stamp: &str, sections: &[Section]) -> String {
    use crate::present::markdown_cell as cell_md;
    // Text outside tables: one line each, and no raw HTML (Markdown renderers pass it through).
    let line = |s: &str| crate::format::html(&s.replace(['\n', '\r'], " "));
    let mut md = format!("# {}\n\n_{}_\n", line(title), line(stamp));
    for s in sections {
        md.push_str(&format!("\n## {}\n\n", line(&s.title)));
        for p in &s.findings {
            md.push_str(&format!("> {}\n\n", line(p)));
        }
        for p in &s.paragraphs {
            md.push_str(&format!("{}\n\n", line(p)));
        }
        if let Some(c) = &s.chart {
            md.push_str(&format!(
                "![{}](charts/{}.svg)\n\nData: `charts/{}.csv`\n\n",
                line(&c.alt).replace(['[', ']'], ""),
                c.file,
                c.file
            ));
        }
        for t in &s.tables {
            md.push_str(&format!(
                "**{}** (`tables/{}.csv`)\n\n| {} |\n|{}|\n",
                line(&t.title),
                t.file,
                t.columns
                    .iter()
                    .map(|c| line(&cell_md(c)))
                    .collect::<Vec<_>>()
                    .join(" | "),
                t.columns
                    .iter()
                    .map(|_| "---")
                    .collect::<Vec<_>>()
                    .join("|")
            ));
            for r in &t.rows {
                let cells: Vec<String> = r.iter().map(|c| line(&cell_md(c))).collect();
                md.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            md.push('\n');
            for n in &t.notes {
                md.push_str(&format!("_{}_\n\n", line(n)));
            }
        }
    }
    md
}
