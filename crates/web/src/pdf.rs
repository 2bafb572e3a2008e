//! Documents (文书) as PDF on A4, set in a Chinese serif font embedded as a subset, laid out like the
//! printable page: issuer, title, number, a table of fields, paragraphs, seal line, date and digest.
//!
//! The font is read once from `GRIDWARD_DOCUMENT_FONT` or the first of the usual places of Noto Serif CJK
//! (Debian's `fonts-noto-cjk`); without one, PDF answers `pdf_font_missing` and the printable page remains.

use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use serde_json::Value;

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 62.0;
const MARGIN_TOP: f32 = 70.0;
const MARGIN_BOTTOM: f32 = 60.0;
const BODY_SIZE: f32 = 12.0;
const LINE: f32 = BODY_SIZE * 1.75;
/// The share of the table's width the labels take.
const LABEL_SHARE: f32 = 0.3;
const CELL_PAD: f32 = 5.0;

/// Where Noto Serif CJK (or Sans) lives on Debian, and the face of each collection that is Simplified Chinese.
const FONT_CANDIDATES: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
];

/// The font documents are set in, loaded on first use.
pub fn document_font() -> Option<Font> {
    static FONT: OnceLock<Option<Font>> = OnceLock::new();
    FONT.get_or_init(|| {
        let configured = std::env::var("GRIDWARD_DOCUMENT_FONT").ok().map(|p| (p, 0u32));
        let candidates = configured.into_iter().chain(FONT_CANDIDATES.iter().map(|(p, i)| (p.to_string(), *i)));
        for (path, index) in candidates {
            if let Some(font) = std::fs::read(&path).ok().and_then(|bytes| Font::new(Arc::new(bytes).into(), index)) {
                tracing::info!(%path, "document font loaded");
                return Some(font);
            }
        }
        tracing::warn!("no Chinese font for PDF documents; install fonts-noto-cjk or set GRIDWARD_DOCUMENT_FONT");
        None
    })
    .clone()
}

/// Roughly how wide `c` is in ems: full width for CJK and full-width forms, about half for the rest.
fn em_width(c: char) -> f32 {
    if c.is_ascii() { if c.is_ascii_uppercase() || c.is_ascii_digit() { 0.6 } else { 0.5 } } else { 1.0 }
}

fn text_width(s: &str, size: f32) -> f32 {
    s.chars().map(em_width).sum::<f32>() * size
}

/// Breaks `text` into lines no wider than `width`; the first line may start `indent` in.
fn wrap(text: &str, size: f32, width: f32, indent: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut used = if lines.is_empty() { indent } else { 0.0 };
        for c in paragraph.chars() {
            let w = em_width(c) * size;
            if used + w > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            line.push(c);
            used += w;
        }
        lines.push(line);
    }
    lines
}

struct Writer {
    font: Font,
    pages: Vec<Vec<Op>>,
    y: f32,
}

enum Op {
    Text { x: f32, y: f32, size: f32, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32 },
}

impl Writer {
    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page is open")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN_BOTTOM {
            self.new_page();
        }
    }

    fn centered(&mut self, text: &str, size: f32, gap: f32) {
        self.ensure(size + gap);
        let x = (PAGE_W - text_width(text, size)) / 2.0;
        let y = self.y + size;
        self.ops().push(Op::Text { x: x.max(MARGIN_X), y, size, text: text.to_string() });
        self.y += size + gap;
    }

    fn right(&mut self, text: &str, size: f32) {
        self.ensure(LINE);
        let x = PAGE_W - MARGIN_X - text_width(text, size);
        let y = self.y + size;
        self.ops().push(Op::Text { x, y, size, text: text.to_string() });
        self.y += LINE;
    }

    fn paragraph(&mut self, text: &str, size: f32, indent_ems: f32) {
        let width = PAGE_W - 2.0 * MARGIN_X;
        let indent = indent_ems * size;
        for (i, line) in wrap(text, size, width, indent).into_iter().enumerate() {
            self.ensure(LINE);
            let x = MARGIN_X + if i == 0 { indent } else { 0.0 };
            let y = self.y + size;
            self.ops().push(Op::Text { x, y, size, text: line });
            self.y += size * 1.75;
        }
        self.y += size * 0.4;
    }

    fn table(&mut self, rows: &[(String, String)]) {
        let width = PAGE_W - 2.0 * MARGIN_X;
        let label_w = width * LABEL_SHARE;
        let value_w = width - label_w;
        for (label, value) in rows {
            let labels = wrap(label, BODY_SIZE, label_w - 2.0 * CELL_PAD, 0.0);
            let values = wrap(value, BODY_SIZE, value_w - 2.0 * CELL_PAD, 0.0);
            let lines = labels.len().max(values.len()).max(1) as f32;
            let height = lines * LINE + CELL_PAD;
            self.ensure(height);
            let top = self.y;
            self.ops().push(Op::Rect { x: MARGIN_X, y: top, w: label_w, h: height });
            self.ops().push(Op::Rect { x: MARGIN_X + label_w, y: top, w: value_w, h: height });
            for (i, l) in labels.into_iter().enumerate() {
                let y = top + CELL_PAD + BODY_SIZE + i as f32 * LINE;
                self.ops().push(Op::Text { x: MARGIN_X + CELL_PAD, y, size: BODY_SIZE, text: l });
            }
            for (i, v) in values.into_iter().enumerate() {
                let y = top + CELL_PAD + BODY_SIZE + i as f32 * LINE;
                self.ops().push(Op::Text { x: MARGIN_X + label_w + CELL_PAD, y, size: BODY_SIZE, text: v });
            }
            self.y += height;
        }
        self.y += LINE;
    }

    fn finish(self) -> Result<Vec<u8>, String> {
        let mut document = Document::new();
        for ops in self.pages {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("bad page size")?;
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Text { x, y, size, text } => {
                        surface.set_fill(Some(Fill { paint: rgb::Color::black().into(), ..Default::default() }));
                        surface.set_stroke(None);
                        surface.draw_text(Point::from_xy(x, y), self.font.clone(), size, &text, false, TextDirection::Auto);
                    }
                    Op::Rect { x, y, w, h } => {
                        let mut path = PathBuilder::new();
                        path.push_rect(Rect::from_xywh(x, y, w, h).ok_or("bad cell")?);
                        let path = path.finish().ok_or("bad cell")?;
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke { paint: rgb::Color::black().into(), width: 0.6, ..Default::default() }));
                        surface.draw_path(&path);
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

/// The `(label, value)` rows of a document's content.
pub fn document_fields(content: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    content["fields"].as_array().map(|rows| rows.iter().map(|r| (text(&r[0]), text(&r[1]))).collect()).unwrap_or_default()
}

/// A document's content (as the app stores it) as PDF bytes.
pub fn render(font: Font, number: &str, content: &Value, footer: &str) -> Result<Vec<u8>, String> {
    let text = |key: &str| content[key].as_str().unwrap_or_default().to_string();
    let mut w = Writer { font, pages: Vec::new(), y: MARGIN_TOP };
    w.new_page();
    w.centered(&text("issuer"), 16.0, 10.0);
    w.centered(&text("title"), 22.0, 10.0);
    w.centered(number, BODY_SIZE, 18.0);
    w.table(&document_fields(content));
    for p in content["paragraphs"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        w.paragraph(p, BODY_SIZE, 2.0);
    }
    w.y += LINE;
    w.right(&text("seal"), BODY_SIZE);
    w.right(&text("date"), BODY_SIZE);
    w.y += LINE;
    w.paragraph(footer, 7.0, 0.0);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_the_width() {
        let lines = wrap("一二三四五六七八九十", 10.0, 45.0, 0.0);
        assert_eq!(lines, ["一二三四", "五六七八", "九十"]);
        let indented = wrap("一二三四五六", 10.0, 45.0, 20.0);
        assert_eq!(indented, ["一二", "三四五六"]);
        assert_eq!(wrap("", 10.0, 45.0, 0.0), [""]);
        assert_eq!(wrap("甲\n乙", 10.0, 45.0, 0.0), ["甲", "乙"]);
    }
}
