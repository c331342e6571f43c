//! Text measured with the bundled font (Liberation Sans, metric-compatible with Arial), so
//! that titles wrap and labels are shortened before they can leave the canvas.

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

/// Liberation Sans Regular (SIL Open Font License 1.1, `assets/fonts/`).
pub(crate) const REGULAR: &[u8] =
    include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
/// Liberation Sans Bold.
pub(crate) const BOLD: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Bold.ttf");
/// The CSS font family written into every SVG: the bundled font, then its metric twins.
pub(crate) const FAMILY: &str = "Liberation Sans, Arial, Helvetica, sans-serif";
/// The family name the bundled font declares.
pub(crate) const FACE: &str = "Liberation Sans";

/// Width in pixels of `text` set at `size` pixels, bold or regular.
pub fn width(text: &str, size: f64, bold: bool) -> f64 {
    let data = if bold { BOLD } else { REGULAR };
    // The bundled files are valid TrueType fonts (checked by the tests); were one not, every
    // width would be estimated from the size alone.
    let Ok(font) = FontRef::new(data) else {
        return text.chars().count() as f64 * size * 0.6;
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size as f32), LocationRef::default());
    text.chars()
        .map(|c| {
            let gid = charmap.map(c).unwrap_or_default();
            f64::from(metrics.advance_width(gid).unwrap_or(size as f32 * 0.6))
        })
        .sum()
}

/// `text` shortened with an ellipsis to fit in `max` pixels.
pub fn fit(text: &str, size: f64, bold: bool, max: f64) -> String {
    // Control characters never reach a chart.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if width(&text, size, bold) <= max {
        return text;
    }
    let mut out = String::new();
    let budget = max - width("…", size, bold);
    let mut used = 0.0;
    for c in text.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]), size, bold);
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// `text` broken into lines of at most `max` pixels at word boundaries (a word longer than
/// a line is cut), at most `max_lines` of them; the last line ends with an ellipsis when
/// text is left over.
pub fn wrap(text: &str, size: f64, bold: bool, max: f64, max_lines: usize) -> Vec<String> {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in clean.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, size, bold) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than a line: cut it where it overflows.
        let mut rest = word.to_string();
        while width(&rest, size, bold) > max {
            let mut head = String::new();
            for c in rest.chars() {
                let mut next = head.clone();
                next.push(c);
                if width(&next, size, bold) > max {
                    break;
                }
                head = next;
            }
            if head.is_empty() {
                // Not even one character fits: give up on this word.
                rest.clear();
                break;
            }
            rest = rest[head.len()..].to_string();
            lines.push(head);
        }
        line = rest;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines {
        let last = lines[max_lines - 1].clone() + " " + &lines[max_lines..].join(" ");
        lines.truncate(max_lines - 1);
        lines.push(fit(&last, size, bold, max));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_come_from_the_font() {
        // Arial's (and Liberation Sans') advance of "i" is far narrower than of "W".
        assert!(width("WWWW", 12.0, false) > 2.5 * width("iiii", 12.0, false));
        assert!(width("Title", 12.0, true) > width("Title", 12.0, false));
        assert_eq!(width("", 12.0, false), 0.0);
    }

    #[test]
    fn wrapping_keeps_every_line_inside() {
        let t = "Reoffended within 365 days (Kaplan-Meier): divert 22.1%, comparison 27.4% and a very long cohort label";
        let lines = wrap(t, 18.0, true, 300.0, 5);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 18.0, true) <= 300.0));
        assert_eq!(lines.join(" "), t);
        let long = "x".repeat(1000);
        let lines = wrap(&long, 18.0, true, 300.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'));
        assert!(lines.iter().all(|l| width(l, 18.0, true) <= 300.0));
        assert!(fit(&long, 12.0, false, 100.0).ends_with('…'));
        assert!(width(&fit(&long, 12.0, false, 100.0), 12.0, false) <= 100.0);
    }
}
