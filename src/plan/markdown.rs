//! The block structure of a plan document, from pulldown-cmark's events and
//! their source offsets: headings, list items, table rows, paragraphs, code.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

#[derive(Debug)]
pub struct Heading {
    pub level: usize,
    /// The heading's text without markup.
    pub text: String,
    pub start: usize,
    /// Where its section ends: the next heading of the same or a higher level.
    pub section_end: usize,
}

#[derive(Debug)]
pub struct Item {
    pub range: Range<usize>,
}

#[derive(Debug)]
pub struct Row {
    pub range: Range<usize>,
    pub cells: Vec<String>,
    /// The header cells of the row's table, lower-cased.
    pub header: Vec<String>,
}

#[derive(Debug)]
pub struct Code {
    pub range: Range<usize>,
    pub info: String,
    pub body: String,
}

/// A parsed plan document.
#[derive(Debug)]
pub struct Doc<'a> {
    pub text: &'a str,
    line_starts: Vec<usize>,
    pub headings: Vec<Heading>,
    pub items: Vec<Item>,
    pub rows: Vec<Row>,
    /// Paragraphs that are not inside a list item.
    pub paragraphs: Vec<Range<usize>>,
    pub code: Vec<Code>,
}

/// Collects the state of the block being read while events stream past.
#[derive(Default)]
struct Reader {
    heading: Option<(usize, usize, String)>,
    item_depth: usize,
    header: Vec<String>,
    cells: Vec<String>,
    cell: Option<String>,
    in_head: bool,
    code: Option<Code>,
}

impl<'a> Doc<'a> {
    pub fn parse(text: &'a str) -> Doc<'a> {
        let mut doc = Doc {
            text,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            headings: Vec::new(),
            items: Vec::new(),
            rows: Vec::new(),
            paragraphs: Vec::new(),
            code: Vec::new(),
        };
        let mut opts = Options::empty();
        opts.insert(Options::ENABLE_TABLES);
        opts.insert(Options::ENABLE_STRIKETHROUGH);
        let mut r = Reader::default();
        for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
            doc.take(&mut r, event, range);
        }
        doc.close_sections();
        doc
    }

    fn take(&mut self, r: &mut Reader, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                r.heading = Some((level as usize, range.start, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, start, text)) = r.heading.take() {
                    self.headings.push(Heading {
                        level,
                        text: text.trim().to_string(),
                        start,
                        section_end: self.text.len(),
                    });
                }
            }
            Event::Start(Tag::Item) => {
                r.item_depth += 1;
                self.items.push(Item { range });
            }
            Event::End(TagEnd::Item) => r.item_depth -= 1,
            Event::Start(Tag::Paragraph) if r.item_depth == 0 => self.paragraphs.push(range),
            Event::Start(Tag::TableHead) => r.in_head = true,
            Event::End(TagEnd::TableHead) => {
                r.in_head = false;
                r.header = r.cells.drain(..).map(|c| c.to_lowercase()).collect();
            }
            Event::Start(Tag::TableCell) => r.cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let cell = r.cell.take().unwrap_or_default();
                r.cells.push(cell.trim().to_string());
            }
            Event::End(TagEnd::TableRow) => self.rows.push(Row {
                range,
                cells: std::mem::take(&mut r.cells),
                header: r.header.clone(),
            }),
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                r.code = Some(Code {
                    range,
                    info,
                    body: String::new(),
                });
            }
            Event::End(TagEnd::CodeBlock) => self.code.extend(r.code.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(code) = &mut r.code {
                    code.body.push_str(&t);
                } else if let Some(cell) = &mut r.cell {
                    cell.push_str(&t);
                } else if let Some((_, _, h)) = &mut r.heading {
                    h.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, _, h)) = &mut r.heading {
                    h.push(' ');
                }
            }
            _ => {}
        }
    }

    fn close_sections(&mut self) {
        for i in 0..self.headings.len() {
            let level = self.headings[i].level;
            self.headings[i].section_end = self.headings[i + 1..]
                .iter()
                .find(|h| h.level <= level)
                .map_or(self.text.len(), |h| h.start);
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// The byte range of the line holding `offset`, without its newline.
    pub fn line_range(&self, offset: usize) -> Range<usize> {
        let start = self.line_starts[self.line_of(offset) - 1];
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        start..end
    }

    pub fn in_code(&self, offset: usize) -> bool {
        self.code.iter().any(|c| c.range.contains(&offset))
    }

    /// The headings whose sections contain `offset`, outermost first.
    pub fn headings_over(&self, offset: usize) -> impl Iterator<Item = &Heading> {
        self.headings
            .iter()
            .filter(move |h| h.start <= offset && offset < h.section_end)
    }
}

/// Markdown inline markup removed: `**TASK-001:** Create `x`` → `TASK-001: Create x`.
pub fn plain(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
