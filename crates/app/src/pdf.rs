//! Printable records as PDF (A4, the system's Chinese font embedded and
//! subset): a title, headings, paragraphs and ruled tables whose cells wrap
//! and whose rows carry over to the next page. What the records say is
//! built elsewhere; this only lays it out.

use crate::{AppError, Result};
use ggzy_core::error::ErrorCode;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

/// Where Debian-family systems (and UOS, Kylin) keep a Chinese font, with
/// its index in the collection: Noto Sans CJK SC (Debian `fonts-noto-cjk`,
/// a dependency of the package), then WenQuanYi.
const FONTS: [(&str, u32); 3] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
];

/// One piece of a record, top to bottom.
pub enum Block {
    Title(String),
    Heading(String),
    Text(String),
    /// Column widths as shares of the line; the first row is a header when
    /// `header` is set (repeated on each page the table runs onto).
    Table {
        widths: Vec<f32>,
        header: Option<Vec<String>>,
        rows: Vec<Vec<String>>,
    },
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const TEXT: f32 = 10.0;
const PAD: f32 = 4.0;
const LEADING: f32 = 1.45;

/// How wide `s` sets at `size`: a full-width character one em, others a
/// little over half (Noto Sans CJK's Latin), so lines break short rather
/// than run over.
fn width(s: &str, size: f32) -> f32 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.58 } else { 1.0 })
        .sum::<f32>()
        * size
}

/// `text` broken into lines no wider than `max` (newlines kept).
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for c in para.chars() {
            let mut next = line.clone();
            next.push(c);
            if width(&next, size) > max && !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
        out.push(line);
    }
    out
}

/// The pages being written: where the next line goes.
struct Pages {
    document: Document,
    font: Font,
    /// Each page's drawing, kept until the page is done.
    ops: Vec<Vec<Op>>,
    y: f32,
}

enum Op {
    Text(f32, f32, f32, String),
    Line(f32, f32, f32, f32),
}

impl Pages {
    fn new_page(&mut self) {
        self.ops.push(Vec::new());
        self.y = MARGIN;
    }

    /// Make room for `h` points, on a new page if this one is full.
    fn room(&mut self, h: f32) -> bool {
        if self.y + h > PAGE_H - MARGIN {
            self.new_page();
            return true;
        }
        false
    }

    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        let op = Op::Text(x, y, size, s.to_owned());
        self.ops.last_mut().expect("a page").push(op);
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        self.ops
            .last_mut()
            .expect("a page")
            .push(Op::Line(x1, y1, x2, y2));
    }

    fn paragraph(&mut self, s: &str, size: f32, centered: bool) {
        let full = PAGE_W - 2.0 * MARGIN;
        for line in wrap(s, size, full) {
            self.room(size * LEADING);
            let x = if centered {
                MARGIN + (full - width(&line, size)).max(0.0) / 2.0
            } else {
                MARGIN
            };
            let y = self.y + size;
            self.text(x, y, size, &line);
            self.y += size * LEADING;
        }
    }

    fn row(&mut self, cells: &[String], xs: &[f32]) {
        let lines: Vec<Vec<String>> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| wrap(c, TEXT, xs[i + 1] - xs[i] - 2.0 * PAD))
            .collect();
        let n = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = n as f32 * TEXT * LEADING + 2.0 * PAD;
        let top = self.y;
        for (i, cell) in lines.iter().enumerate() {
            for (k, l) in cell.iter().enumerate() {
                let y = top + PAD + TEXT + k as f32 * TEXT * LEADING;
                self.text(xs[i] + PAD, y, TEXT, l);
            }
        }
        let (left, right) = (xs[0], *xs.last().expect("columns"));
        self.line(left, top, right, top);
        self.line(left, top + h, right, top + h);
        for x in xs {
            self.line(*x, top, *x, top + h);
        }
        self.y += h;
    }

    fn table(&mut self, widths: &[f32], header: Option<&Vec<String>>, rows: &[Vec<String>]) {
        let full = PAGE_W - 2.0 * MARGIN;
        let total: f32 = widths.iter().sum();
        let mut xs = vec![MARGIN];
        for w in widths {
            xs.push(xs.last().expect("a start") + full * w / total);
        }
        let tall = |cells: &[String]| {
            let n = cells
                .iter()
                .enumerate()
                .map(|(i, c)| wrap(c, TEXT, xs[i + 1] - xs[i] - 2.0 * PAD).len())
                .max()
                .unwrap_or(1);
            n as f32 * TEXT * LEADING + 2.0 * PAD
        };
        if let Some(h) = header {
            self.room(tall(h) + rows.first().map_or(0.0, |r| tall(r)));
            self.row(h, &xs);
        }
        for r in rows {
            if self.room(tall(r)) {
                if let Some(h) = header {
                    self.row(h, &xs);
                }
            }
            self.row(r, &xs);
        }
        self.y += TEXT * 0.6;
    }

    fn finish(mut self) -> Result<Vec<u8>> {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4");
        let count = self.ops.len();
        for (n, ops) in self.ops.into_iter().enumerate() {
            let mut page = self.document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for op in ops {
                draw(&mut surface, &self.font, op);
            }
            let foot = format!("第 {} 页，共 {count} 页", n + 1);
            let x = (PAGE_W - width(&foot, 8.0)) / 2.0;
            draw(
                &mut surface,
                &self.font,
                Op::Text(x, PAGE_H - 28.0, 8.0, foot),
            );
            surface.finish();
            page.finish();
        }
        self.document
            .finish()
            .map_err(|e| AppError::new(ErrorCode::WriteFailed, format!("PDF 未能生成：{e:?}")))
    }
}

fn draw(surface: &mut Surface<'_>, font: &Font, op: Op) {
    match op {
        Op::Text(x, y, size, s) => surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            size,
            &s,
            false,
            TextDirection::Auto,
        ),
        Op::Line(x1, y1, x2, y2) => {
            let mut p = PathBuilder::new();
            p.move_to(x1, y1);
            p.line_to(x2, y2);
            if let Some(path) = p.finish() {
                surface.set_stroke(Some(Stroke {
                    width: 0.6,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}

/// The system's Chinese font, or what to install.
fn font() -> Result<Font> {
    for (path, index) in FONTS {
        if let Ok(data) = std::fs::read(path) {
            if let Some(font) = Font::new(data.into(), index) {
                return Ok(font);
            }
        }
    }
    Err(AppError::new(
        ErrorCode::WriteFailed,
        format!(
            "找不到中文字体（{}）：请安装 fonts-noto-cjk 后再导出 PDF",
            FONTS[0].0
        ),
    ))
}

/// Lay `blocks` out as an A4 PDF.
pub fn render(blocks: &[Block]) -> Result<Vec<u8>> {
    let mut pages = Pages {
        document: Document::new(),
        font: font()?,
        ops: Vec::new(),
        y: MARGIN,
    };
    pages.new_page();
    for b in blocks {
        match b {
            Block::Title(s) => {
                pages.paragraph(s, 18.0, true);
                pages.y += 6.0;
            }
            Block::Heading(s) => {
                pages.room(13.0 * LEADING + 40.0);
                pages.y += 6.0;
                pages.paragraph(s, 13.0, false);
            }
            Block::Text(s) => pages.paragraph(s, TEXT, false),
            Block::Table {
                widths,
                header,
                rows,
            } => pages.table(widths, header.as_ref(), rows),
        }
    }
    pages.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_before_the_width_and_keep_every_character() {
        let s = "评标专家抽取记录 abcdef 0123456789 评标专家抽取记录";
        let lines = wrap(s, 10.0, 60.0);
        assert!(lines.len() > 3, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 10.0) <= 60.0), "{lines:?}");
        assert_eq!(lines.concat(), s);
    }
}
