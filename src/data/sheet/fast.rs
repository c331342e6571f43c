//! An `.xlsx` sheet of the common shape read directly, for speed: calamine's parser spends
//! most of a million-row sheet's time in general XML machinery (about 3 s of CPU), where the
//! cells Excel and other writers produce follow one plain pattern
//! (`<row ...><c r="B2" s="1" t="s"><v>7</v></c>...</row>`). This reader scans that pattern
//! byte by byte while a second thread inflates the sheet from the zip, and gives exactly the
//! cells calamine gives: the same positions, types, shared strings, date styles (calamine's
//! own rules, copied below) and 1904 date system.
//!
//! Anything outside the pattern, however valid (namespace prefixes, rich text, `_x000D_`
//! escapes, error cells, cells out of order, another encoding, a damaged file), and the
//! reader declines (`None`): calamine then reads the sheet, and its messages describe a
//! damaged file. So this reader never decides an error and never reads what calamine
//! would refuse.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};

use calamine::{ExcelDateTime, ExcelDateTimeType};
use quick_xml::events::Event;
use quick_xml::name::QName;
use zip::ZipArchive;

use super::{Grid, MAX_COLUMNS, MAX_ROWS, Val};
use crate::data::dates::DateFormat;

/// Bytes inflated at a time.
const CHUNK: usize = 1 << 20;
/// Bytes read without finding where the cells start, or the end of a row, before declining
/// (a file of another shape is not read whole into memory to find out).
const PATIENCE: usize = 16 << 20;

/// How a number cell is shown (calamine's `CellFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellFormat {
    Other,
    DateTime,
    TimeDelta,
}

/// The sheet `sheet` (the first when `None`) of the workbook `file`, its name and a grid of
/// its cells, or `None` when it is not of the common shape (or not readable): then calamine
/// reads it.
pub(super) fn read<'f>(
    file: &Path,
    sheet: Option<&str>,
    format: &'f DateFormat,
) -> Option<(String, Grid<'f>)> {
    let mut zip = ZipArchive::new(BufReader::new(File::open(file).ok()?)).ok()?;
    let names = ZipNames::new(&zip);
    let rels = relationships(&mut zip, &names)?;
    let (name, path, is_1904) = workbook(&mut zip, &names, &rels, sheet)?;
    let formats = styles(&mut zip, &names)?;
    let entry = names.get(&path).to_string();
    std::thread::scope(|scope| {
        // The sheet is inflated on another thread, a chunk ahead of the scan, while this one
        // reads the shared strings.
        let (tx, rx) = sync_channel::<Vec<u8>>(4);
        let inflate = scope.spawn(move || -> Option<()> {
            let mut zip = ZipArchive::new(BufReader::new(File::open(file).ok()?)).ok()?;
            let mut sheet = zip.by_name(&entry).ok()?;
            loop {
                let mut chunk = Vec::with_capacity(CHUNK);
                let n = (&mut sheet)
                    .take(CHUNK as u64)
                    .read_to_end(&mut chunk)
                    .ok()?;
                // The scan has finished (or declined): it needs no more.
                if n == 0 || tx.send(chunk).is_err() {
                    return Some(());
                }
            }
        });
        let strings = shared_strings(&mut zip, &names);
        let grid = strings.and_then(|strings| {
            let cells = Cells {
                strings: &strings,
                formats: &formats,
                is_1904,
            };
            scan(rx, &cells, format)
        });
        // Read whole, unless the scan stopped first.
        let inflated = inflate.join().ok().flatten();
        grid.filter(|_| inflated.is_some()).map(|g| (name, g))
    })
}

/// A zip's entry names as calamine finds them: `\` read as `/`, case ignored.
struct ZipNames(HashMap<String, String>);

impl ZipNames {
    fn new<R: Read + Seek>(zip: &ZipArchive<R>) -> ZipNames {
        ZipNames(
            zip.file_names()
                .map(|n| (n.replace('\\', "/").to_ascii_lowercase(), n.to_string()))
                .collect(),
        )
    }

    fn get<'a>(&'a self, path: &'a str) -> &'a str {
        self.0
            .get(&path.to_ascii_lowercase())
            .map_or(path, String::as_str)
    }
}

/// A small part of the workbook, whole (`None` when it is absent; `Some(None)` when it
/// cannot be read).
fn part<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    names: &ZipNames,
    path: &str,
) -> Option<Option<Vec<u8>>> {
    let mut f = match zip.by_name(names.get(path)) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return None,
        Err(_) => return Some(None),
    };
    let mut out = Vec::new();
    Some(f.read_to_end(&mut out).ok().map(|_| out))
}

/// An XML reader configured as calamine configures its own.
fn xml(bytes: &[u8]) -> quick_xml::Reader<&[u8]> {
    let mut r = quick_xml::Reader::from_reader(bytes);
    let config = r.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    r
}

/// The workbook's relationships: id to target.
fn relationships<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    names: &ZipNames,
) -> Option<HashMap<Vec<u8>, String>> {
    let bytes = part(zip, names, "xl/_rels/workbook.xml.rels")??;
    let mut xml = xml(&bytes);
    let mut out = HashMap::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"Relationship" => {
                let (mut id, mut target) = (Vec::new(), String::new());
                for a in e.attributes() {
                    let a = a.ok()?;
                    match a.key {
                        QName(b"Id") => id.extend_from_slice(&a.value),
                        QName(b"Target") => {
                            target = xml.decoder().decode(&a.value).ok()?.into_owned();
                        }
                        _ => {}
                    }
                }
                out.insert(id, target);
            }
            Event::End(e) if e.local_name().as_ref() == b"Relationships" => return Some(out),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// The name and path of the sheet asked for (a worksheet), and whether the workbook counts
/// dates from 1904.
fn workbook<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    names: &ZipNames,
    rels: &HashMap<Vec<u8>, String>,
    sheet: Option<&str>,
) -> Option<(String, String, bool)> {
    let bytes = part(zip, names, "xl/workbook.xml")??;
    let mut xml = xml(&bytes);
    let mut sheets: Vec<(String, String)> = Vec::new();
    let mut is_1904 = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"sheet" => {
                let (mut name, mut path) = (String::new(), String::new());
                for a in e.attributes() {
                    let a = a.ok()?;
                    match a.key {
                        QName(b"name") => {
                            name = a.decode_and_unescape_value(xml.decoder()).ok()?.to_string();
                        }
                        QName(b"state") => {
                            let v = a.decode_and_unescape_value(xml.decoder()).ok()?;
                            if !matches!(v.as_ref(), "visible" | "hidden" | "veryHidden") {
                                return None;
                            }
                        }
                        key if key.local_name().as_ref() == b"id" => {
                            let r = rels.get(&*a.value)?;
                            path = if let Some(r) =
                                r.strip_prefix('/').filter(|r| r.starts_with("xl/"))
                            {
                                r.to_string()
                            } else if r.starts_with("xl/") {
                                r.clone()
                            } else {
                                format!("xl/{r}")
                            };
                        }
                        _ => {}
                    }
                }
                sheets.push((name, path));
            }
            Event::Start(e) if e.name().as_ref() == b"workbookPr" => {
                is_1904 = match e.try_get_attribute("date1904").ok()? {
                    Some(c) => ["1", "true"]
                        .contains(&c.decode_and_unescape_value(xml.decoder()).ok()?.as_ref()),
                    None => false,
                };
            }
            Event::End(e) if e.local_name().as_ref() == b"workbook" => break,
            Event::Eof => return None,
            _ => {}
        }
    }
    // calamine opens no workbook with a sheet of another kind.
    let kinds = ["worksheets", "chartsheets", "dialogsheets"];
    if !sheets
        .iter()
        .all(|(_, p)| p.split('/').nth(1).is_some_and(|k| kinds.contains(&k)))
    {
        return None;
    }
    let (name, path) = match sheet {
        None => sheets.into_iter().next()?,
        Some(s) => sheets.into_iter().find(|(n, _)| n == s)?,
    };
    (path.split('/').nth(1) == Some("worksheets")).then_some((name, path, is_1904))
}

/// How each cell style shows numbers, in calamine's words (`xl/styles.xml`: `cellXfs`).
fn styles<R: Read + Seek>(zip: &mut ZipArchive<R>, names: &ZipNames) -> Option<Vec<CellFormat>> {
    let Some(bytes) = part(zip, names, "xl/styles.xml") else {
        return Some(Vec::new());
    };
    let bytes = bytes?;
    let mut xml = xml(&bytes);
    let mut number_formats: HashMap<Vec<u8>, String> = HashMap::new();
    let mut formats = Vec::new();
    let (mut buf, mut inner) = (Vec::new(), Vec::new());
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"numFmts" => loop {
                inner.clear();
                match xml.read_event_into(&mut inner).ok()? {
                    Event::Start(e) if e.local_name().as_ref() == b"numFmt" => {
                        let (mut id, mut code) = (Vec::new(), String::new());
                        for a in e.attributes() {
                            let a = a.ok()?;
                            match a.key {
                                QName(b"numFmtId") => id.extend_from_slice(&a.value),
                                QName(b"formatCode") => {
                                    code = xml.decoder().decode(&a.value).ok()?.into_owned();
                                }
                                _ => {}
                            }
                        }
                        if !code.is_empty() {
                            number_formats.insert(id, code);
                        }
                    }
                    Event::End(e) if e.local_name().as_ref() == b"numFmts" => break,
                    Event::Eof => return None,
                    _ => {}
                }
            },
            Event::Start(e) if e.local_name().as_ref() == b"cellXfs" => loop {
                inner.clear();
                match xml.read_event_into(&mut inner).ok()? {
                    Event::Start(e) if e.local_name().as_ref() == b"xf" => {
                        formats.push(
                            e.attributes()
                                .filter_map(|a| a.ok())
                                .find(|a| a.key == QName(b"numFmtId"))
                                .map_or(CellFormat::Other, |a| {
                                    match number_formats.get(&*a.value) {
                                        Some(code) => custom_format(code),
                                        None => builtin_format(&a.value),
                                    }
                                }),
                        );
                    }
                    Event::End(e) if e.local_name().as_ref() == b"cellXfs" => break,
                    Event::Eof => return None,
                    _ => {}
                }
            },
            Event::End(e) if e.local_name().as_ref() == b"styleSheet" => return Some(formats),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Whether a number format shows dates, durations or numbers: calamine's
/// `detect_custom_number_format` (calamine 0.35, MIT), copied so the two readers agree.
fn custom_format(format: &str) -> CellFormat {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            ('_' | '\\', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return CellFormat::Other,
            ('[', ..) => brackets += 1,
            (']', .., 1) if hms => return CellFormat::TimeDelta,
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => return CellFormat::DateTime,
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => {
                return CellFormat::DateTime;
            }
            _ => {
                if !(hms && s.eq_ignore_ascii_case(&prev)) {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    CellFormat::Other
}

/// Excel's built-in number formats that show dates (calamine's `builtin_format_by_id`).
fn builtin_format(id: &[u8]) -> CellFormat {
    match id {
        b"14" | b"15" | b"16" | b"17" | b"18" | b"19" | b"20" | b"21" | b"22" | b"45" | b"47" => {
            CellFormat::DateTime
        }
        b"46" => CellFormat::TimeDelta,
        _ => CellFormat::Other,
    }
}

/// The shared strings, one text with each string's end.
struct Strings {
    text: String,
    ends: Vec<usize>,
}

impl Strings {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }
}

/// The shared strings (`xl/sharedStrings.xml`) when each is plain text (`<si><t>...</t></si>`);
/// `None` otherwise (rich text, phonetic runs, `_x000D_` escapes).
fn shared_strings<R: Read + Seek>(zip: &mut ZipArchive<R>, names: &ZipNames) -> Option<Strings> {
    let mut out = Strings {
        text: String::new(),
        ends: Vec::new(),
    };
    let Some(bytes) = part(zip, names, "xl/sharedStrings.xml") else {
        return Some(out);
    };
    let bytes = bytes?;
    let b = prolog(&bytes)?;
    let mut i = find(b, 0, b"<sst")?;
    if !name_ends(b, i + 4) {
        return None;
    }
    // The root must open a tag of its own: in `<<sst` calamine's XML reader reads another
    // element's name, so such a part is left to it.
    if b[..i]
        .iter()
        .rev()
        .find(|c| !c.is_ascii_whitespace())
        .is_some_and(|&c| c != b'>')
    {
        return None;
    }
    i = tag_end(b, i)?.0;
    // What comes before the strings, as calamine's XML reader reads it.
    if !reads_as_xml(&bytes[..bytes.len() - b.len() + i], false) {
        return None;
    }
    out.text.reserve(b.len() / 2);
    loop {
        i = skip_space(b, i);
        let rest = b.get(i..)?;
        if rest.starts_with(b"</sst>") {
            return Some(out);
        }
        if !(rest.starts_with(b"<si") && name_ends(b, i + 3)) {
            return None;
        }
        let (after, empty) = tag_end(b, i)?;
        i = after;
        if !empty {
            i = skip_space(b, i);
            if !b.get(i..)?.starts_with(b"</si>") {
                // One `<t>`, of any attributes (`xml:space="preserve"`).
                if !(b.get(i..)?.starts_with(b"<t") && name_ends(b, i + 2)) {
                    return None;
                }
                let (after, empty) = tag_end(b, i)?;
                i = after;
                if !empty {
                    let end = i + memchr::memchr(b'<', b.get(i..)?)?;
                    let text = std::str::from_utf8(&b[i..end]).ok()?;
                    if text.contains("_x00") || text.contains('\r') {
                        return None;
                    }
                    unescape_into(text, &mut out.text)?;
                    if !b.get(end..)?.starts_with(b"</t>") {
                        return None;
                    }
                    i = end + 4;
                }
                i = skip_space(b, i);
                if !b.get(i..)?.starts_with(b"</si>") {
                    return None;
                }
            }
            i += 5;
        }
        out.ends.push(out.text.len());
    }
}

/// The document after its XML declaration, when it is UTF-8.
fn prolog(b: &[u8]) -> Option<&[u8]> {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    if !b.starts_with(b"<?xml") {
        return Some(b);
    }
    let end = find(b, 0, b"?>")?;
    let decl = std::str::from_utf8(&b[..end]).ok()?.to_ascii_lowercase();
    match decl.find("encoding") {
        None => Some(&b[end + 2..]),
        Some(k) => {
            let v = decl[k + 8..].trim_start().strip_prefix('=')?.trim_start();
            (v.starts_with("\"utf-8\"") || v.starts_with("'utf-8'")).then_some(&b[end + 2..])
        }
    }
}

/// `text` with the XML entities (`&amp;`, `&#233;`) written out, appended to `out`; `None`
/// for an entity XML does not define.
fn unescape_into(text: &str, out: &mut String) -> Option<()> {
    let mut rest = text;
    while let Some(k) = rest.find('&') {
        out.push_str(&rest[..k]);
        let end = rest[k..].find(';')? + k;
        let name = &rest[k + 1..end];
        match name {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "apos" => out.push('\''),
            "quot" => out.push('"'),
            _ => {
                let code = match name.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => name.strip_prefix('#')?.parse().ok()?,
                };
                out.push(char::from_u32(code).filter(|&c| c != '\0')?);
            }
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(())
}

fn unescape(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('&') {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    unescape_into(text, &mut out)?;
    Some(Cow::Owned(out))
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|k| from + k)
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Whether a tag's name ends at `i` (a space, `>` or `/>` follows: XML readers take a `/`
/// before anything else as part of the name).
fn name_ends(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(b' ' | b'\t' | b'\n' | b'\r' | b'>') => true,
        Some(b'/') => b.get(i + 1) == Some(&b'>'),
        _ => false,
    }
}

/// The position after the tag opened at `i`, and whether it closes itself (`<c .../>`).
fn tag_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            b'>' => return Some((j + 1, b[j - 1] == b'/')),
            q @ (b'"' | b'\'') => j += 1 + memchr::memchr(q, b.get(j + 1..)?)?,
            b'<' => return None,
            _ => {}
        }
        j += 1;
    }
}

/// What the cells of one sheet need: its workbook's shared strings, styles and date system.
struct Cells<'s> {
    strings: &'s Strings,
    formats: &'s [CellFormat],
    is_1904: bool,
}

/// Scans the sheet's chunks as they arrive into a grid; `None` to decline.
fn scan<'f>(rx: Receiver<Vec<u8>>, cells: &Cells<'_>, format: &'f DateFormat) -> Option<Grid<'f>> {
    let mut grid = Grid::new(format);
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    let mut started = false;
    let mut at_end = false;
    loop {
        match rx.recv() {
            Ok(chunk) => buf.extend_from_slice(&chunk),
            Err(_) => at_end = true,
        }
        if !started {
            let Some(k) = find(&buf, 0, b"<sheetData") else {
                if at_end || buf.len() > PATIENCE {
                    return None;
                }
                continue;
            };
            let (after, empty) = tag_end(&buf, k)?;
            if !name_ends(&buf, k + 10)
                || prolog(&buf).is_none()
                || !reads_as_xml(&buf[..after], true)
            {
                return None;
            }
            if empty {
                return Some(grid);
            }
            buf.drain(..after);
            started = true;
        }
        // Complete rows only, but for the last piece.
        let cut = if at_end {
            buf.len()
        } else {
            match memchr::memmem::rfind(&buf, b"</row>") {
                Some(k) => k + 6,
                None if buf.len() > PATIENCE => return None,
                None => continue,
            }
        };
        if rows(&buf[..cut], cells, &mut grid)? {
            return Some(grid);
        }
        if at_end {
            // No `</sheetData>`.
            return None;
        }
        buf.drain(..cut);
    }
}

/// Whether the beginning of a part, up to where this reader takes over, is read by
/// calamine's XML reader without an error (a damaged tag, an entity without its `;`, a
/// comment around the tag found); with `dimension`, also that a `<dimension>` there has a
/// range within the limits.
fn reads_as_xml(b: &[u8], dimension: bool) -> bool {
    let mut xml = xml(b);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Err(_) => return false,
            Ok(Event::Eof) => return true,
            Ok(Event::Start(e)) if dimension && e.local_name().as_ref() == b"dimension" => {
                let mut range = None;
                for a in e.attributes() {
                    let Ok(a) = a else {
                        return false;
                    };
                    if a.key == QName(b"ref") {
                        range = Some(a.value.into_owned());
                        break;
                    }
                }
                let within =
                    |p: &[u8]| position(p).is_some_and(|(r, c)| r < MAX_ROWS && c < MAX_COLUMNS);
                if !range.is_some_and(|v| !v.is_empty() && v.split(|&c| c == b':').all(within)) {
                    return false;
                }
            }
            Ok(_) => {}
        }
    }
}

/// A cell reference (`B12`) as (row, column) from 0, as calamine reads it; `None` beyond
/// three letters and seven digits.
fn position(r: &[u8]) -> Option<(u32, u32)> {
    let letters = r.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let digits = &r[letters..];
    if !(1..=3).contains(&letters) || !(1..=7).contains(&digits.len()) {
        return None;
    }
    let col = r[..letters].iter().fold(0u32, |c, &x| {
        c * 26 + u32::from(x.to_ascii_uppercase() - b'A') + 1
    });
    let mut row = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        row = row * 10 + u32::from(d - b'0');
    }
    Some((row.checked_sub(1)?, col - 1))
}

/// A start tag's attributes, each `name="value"` (or `'value'`), read strictly: anything
/// else (no space between them, a name twice, an entity or `<` in a value, more than eight)
/// and the reader declines, as calamine's XML reader may refuse it.
struct Tag<'b> {
    attributes: [(&'b [u8], &'b [u8]); 8],
    n: usize,
    /// The position after the tag.
    end: usize,
    /// Whether it closes itself (`<c .../>`).
    closed: bool,
}

impl<'b> Tag<'b> {
    /// The attributes from `j`, just after the tag's name.
    fn read(b: &'b [u8], mut j: usize) -> Option<Tag<'b>> {
        let mut tag = Tag {
            attributes: [(b"", b""); 8],
            n: 0,
            end: 0,
            closed: false,
        };
        loop {
            let k = skip_space(b, j);
            match *b.get(k)? {
                b'>' => {
                    tag.end = k + 1;
                    return Some(tag);
                }
                b'/' if b.get(k + 1) == Some(&b'>') => {
                    (tag.end, tag.closed) = (k + 2, true);
                    return Some(tag);
                }
                _ if k == j => return None,
                _ => {}
            }
            let len = b.get(k..)?.iter().position(|c| {
                !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.'))
            })?;
            let name = &b[k..k + len];
            let q = *b.get(k + len + 1)?;
            if name.is_empty()
                || b.get(k + len) != Some(&b'=')
                || !matches!(q, b'"' | b'\'')
                || tag.n == tag.attributes.len()
                || tag.attributes[..tag.n].iter().any(|(m, _)| *m == name)
            {
                return None;
            }
            let start = k + len + 2;
            let end = start + memchr::memchr(q, b.get(start..)?)?;
            let value = &b[start..end];
            if value.contains(&b'&') || value.contains(&b'<') {
                return None;
            }
            tag.attributes[tag.n] = (name, value);
            tag.n += 1;
            j = end + 1;
        }
    }

    fn get(&self, name: &[u8]) -> Option<&'b [u8]> {
        self.attributes[..self.n]
            .iter()
            .find(|(m, _)| *m == name)
            .map(|(_, v)| *v)
    }
}

/// Whether a row's `r` is a row number (`12`) as calamine reads one.
fn row_number(r: &[u8]) -> bool {
    (1..=7).contains(&r.len()) && r.iter().all(u8::is_ascii_digit) && r.iter().any(|&d| d != b'0')
}

/// The rows in `b` (whole rows, or the sheet's end), their cells pushed; `Some(true)` at the
/// end of the cells (`</sheetData>`), `None` to decline.
fn rows(b: &[u8], cells: &Cells<'_>, grid: &mut Grid<'_>) -> Option<bool> {
    let mut i = 0;
    loop {
        i = skip_space(b, i);
        let Some(rest) = b.get(i..).filter(|r| !r.is_empty()) else {
            return Some(false);
        };
        if rest.starts_with(b"<c") && name_ends(b, i + 2) {
            i = cell(b, i, cells, grid)?;
        } else if rest.starts_with(b"<row") && name_ends(b, i + 4) {
            let tag = Tag::read(b, i + 4)?;
            // calamine reads the row's number (its cells here name theirs).
            if tag.get(b"r").is_some_and(|r| !row_number(r)) {
                return None;
            }
            i = tag.end;
        } else if rest.starts_with(b"</row>") {
            i += 6;
        } else if rest.starts_with(b"</sheetData>") {
            return Some(true);
        } else {
            return None;
        }
    }
}

/// The cell whose tag opens at `i`, pushed unless empty; the position after it.
fn cell(b: &[u8], i: usize, cells: &Cells<'_>, grid: &mut Grid<'_>) -> Option<usize> {
    // Attributes: `r` (required here), `s` and `t`; others are skipped, as calamine does.
    let tag = Tag::read(b, i + 2)?;
    let (mut j, closed) = (tag.end, tag.closed);
    let (r, s, t) = (tag.get(b"r"), tag.get(b"s"), tag.get(b"t"));
    let (row, col) = position(r?)?;
    // Children: the last of `<v>`, `<f>` and `<is>` gives the value, as in calamine.
    let mut value = Val::Blank;
    let mut empty = true;
    if !closed {
        loop {
            j = skip_space(b, j);
            let rest = b.get(j..)?;
            if rest.starts_with(b"</c>") {
                j += 4;
                break;
            }
            (value, empty, j) = if rest.starts_with(b"<v>") {
                let start = j + 3;
                let end = start + memchr::memchr(b'<', b.get(start..)?)?;
                if !b.get(end..)?.starts_with(b"</v>") {
                    return None;
                }
                let (v, e) = typed(&b[start..end], s, t, cells)?;
                (v, e, end + 4)
            } else if rest.starts_with(b"<v/>") {
                let (v, e) = typed(b"", s, t, cells)?;
                (v, e, j + 4)
            } else if rest.starts_with(b"<f") && name_ends(b, j + 2) {
                let (after, self_closed) = tag_end(b, j)?;
                let after = if self_closed {
                    after
                } else {
                    let end = after + memchr::memchr(b'<', b.get(after..)?)?;
                    // Its entities are read (not used): they must be whole.
                    let formula = std::str::from_utf8(&b[after..end]).ok()?;
                    if !b.get(end..)?.starts_with(b"</f>") || unescape(formula).is_none() {
                        return None;
                    }
                    end + 4
                };
                (Val::Blank, true, after)
            } else if rest.starts_with(b"<is>") {
                let (v, after) = inline_string(b, j + 4)?;
                (v, false, after)
            } else {
                return None;
            };
        }
    }
    if empty {
        return Some(j);
    }
    if row >= MAX_ROWS || col >= MAX_COLUMNS || !grid.follows(row, col) {
        return None;
    }
    grid.push(row, col, value);
    Some(j)
}

/// The text of `<is><t>...</t></is>` from after `<is>`: the value and the position after.
fn inline_string(b: &[u8], i: usize) -> Option<(Val<'static>, usize)> {
    let mut i = skip_space(b, i);
    let mut text = String::new();
    if !b.get(i..)?.starts_with(b"</is>") {
        if !(b.get(i..)?.starts_with(b"<t") && name_ends(b, i + 2)) {
            return None;
        }
        let (after, empty) = tag_end(b, i)?;
        i = after;
        if !empty {
            let end = i + memchr::memchr(b'<', b.get(i..)?)?;
            let raw = std::str::from_utf8(&b[i..end]).ok()?;
            if raw.contains("_x00") || raw.contains('\r') {
                return None;
            }
            unescape_into(raw, &mut text)?;
            if !b.get(end..)?.starts_with(b"</t>") {
                return None;
            }
            i = end + 4;
        }
        i = skip_space(b, i);
        if !b.get(i..)?.starts_with(b"</is>") {
            return None;
        }
    }
    Some((Val::text(Cow::Owned(text)), i + 5))
}

/// A `<v>` value of a cell of style `s` and type `t`, as calamine types it; the flag says
/// the cell is empty.
fn typed<'s>(
    v: &[u8],
    s: Option<&[u8]>,
    t: Option<&[u8]>,
    cells: &Cells<'s>,
) -> Option<(Val<'s>, bool)> {
    let plain = matches!(t, None | Some(b"n" | b"s" | b"b" | b"e"));
    // calamine reads a plain value up to an entity, and a text value with its line ends
    // made `\n`: both left to it.
    if v.contains(&b'\r') || (plain && v.contains(&b'&')) {
        return None;
    }
    // An empty `<v>` of a plain type is no value (of `str` or `d`, an empty one).
    if v.is_empty() && plain {
        return Some((Val::Blank, true));
    }
    Some(match t {
        Some(b"inlineStr" | b"is") => (Val::Blank, true),
        Some(b"s") => {
            let k = atoi_simd::parse::<usize>(v).unwrap_or(0);
            (Val::text(Cow::Borrowed(cells.strings.get(k)?)), false)
        }
        Some(b"b") => (
            Val::Text(Cow::Borrowed(if v == b"0" { "false" } else { "true" })),
            false,
        ),
        Some(b"str") => {
            let text = std::str::from_utf8(v).ok()?;
            (Val::text(Cow::Owned(unescape(text)?.into_owned())), false)
        }
        Some(b"d") => (
            Val::date_iso(&unescape(std::str::from_utf8(v).ok()?)?),
            false,
        ),
        Some(b"n") | None => match fast_float2::parse::<f64, _>(v) {
            Ok(x) => (number(x, s, cells), false),
            Err(_) if t.is_none() => {
                let text = std::str::from_utf8(v).ok()?;
                (Val::text(Cow::Owned(text.to_string())), false)
            }
            Err(_) => return None,
        },
        // Error cells (`#N/A`) and types calamine refuses: calamine reads them.
        _ => return None,
    })
}

/// A number in its cell style: a date, a duration or a number.
fn number<'s>(x: f64, s: Option<&[u8]>, cells: &Cells<'s>) -> Val<'s> {
    let format = match s {
        Some(style) => cells
            .formats
            .get(atoi_simd::parse::<usize>(style).unwrap_or(0)),
        None => Some(&CellFormat::Other),
    };
    match format {
        Some(CellFormat::DateTime) => Val::date_time(&ExcelDateTime::new(
            x,
            ExcelDateTimeType::DateTime,
            cells.is_1904,
        )),
        Some(CellFormat::TimeDelta) => Val::date_time(&ExcelDateTime::new(
            x,
            ExcelDateTimeType::TimeDelta,
            cells.is_1904,
        )),
        _ => Val::Float(x),
    }
}
