//! PNG from the charts' SVG with resvg, at twice the SVG's size (for print), using only the
//! bundled font so that the image is the same on every machine.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::text;
use crate::error::{Error, Result};

/// The bundled font, loaded once.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(text::REGULAR.to_vec());
        db.load_font_data(text::BOLD.to_vec());
        db.set_sans_serif_family(text::FACE);
        Arc::new(db)
    })
    .clone()
}

/// Parses a chart's SVG with the bundled font (also used by the tests to measure text).
pub fn tree(svg: &str) -> Result<usvg::Tree> {
    let options = usvg::Options {
        font_family: text::FACE.to_string(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| Error::Output(format!("chart: {e}")))
}

/// The SVG rendered to PNG at 2x its size.
pub fn png(svg: &str) -> Result<Vec<u8>> {
    let tree = tree(svg)?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(2.0)
        .ok_or_else(|| Error::Output("chart: the image is too large to render".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| Error::Output("chart: the image has no area".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(2.0, 2.0),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Output(format!("chart: cannot encode PNG: {e}")))
}

/// The canvas size of a chart and the box of every piece of text in it, as laid out with
/// the bundled font: `(width, height, [x, y, width, height] per text)`.
pub fn text_boxes(svg: &str) -> Result<(f32, f32, Vec<[f32; 4]>)> {
    fn walk(g: &usvg::Group, out: &mut Vec<[f32; 4]>) {
        for node in g.children() {
            match node {
                usvg::Node::Group(g) => walk(g, out),
                usvg::Node::Text(t) => {
                    let b = t.abs_bounding_box();
                    out.push([b.x(), b.y(), b.width(), b.height()]);
                }
                _ => {}
            }
        }
    }
    let tree = tree(svg)?;
    let mut out = Vec::new();
    walk(tree.root(), &mut out);
    Ok((tree.size().width(), tree.size().height(), out))
}
