//! The block structure of a plan document, read once with source offsets:
//! the heading tree, list items with their nesting, table rows with their
//! header, paragraphs, code, front matter, and the HTML-ish blocks plans use
//! (`<task …>…</task>`, `<details>`).

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

#[derive(Debug)]
pub struct Heading {
    pub level: usize,
    /// The heading's text without markup.
    pub text: String,
    pub start: usize,
    /// End of the heading's own line(s).
    pub end: usize,
    /// Where its section ends: the next heading of the same or a higher level.
    pub section_end: usize,
    /// The heading whose section holds this one.
    pub parent: Option<usize>,
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
    /// Which table of the document the row belongs to.
    pub table: usize,
}

#[derive(Debug)]
pub struct Code {
    pub range: Range<usize>,
    pub info: String,
    pub body: String,
}

/// A `<task …>…</task>` element: its attributes and its `<name>`.
#[derive(Debug)]
pub struct Block {
    pub range: Range<usize>,
    pub attrs: Vec<(String, String)>,
    /// The text inside `<name>…</name>` and where it starts.
    pub name: Option<(usize, String)>,
}

/// A `<details>` element and its `<summary>` text.
#[derive(Debug)]
pub struct Details {
    pub range: Range<usize>,
    pub summary: String,
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
    /// HTML blocks that are not inside a list item (`<task>` bodies).
    pub html: Vec<Range<usize>>,
    /// Code blocks, in document order.
    pub code: Vec<Code>,
    pub blocks: Vec<Block>,
    pub details: Vec<Details>,
    /// YAML front matter between `---` lines at the top.
    pub front_matter: Option<Range<usize>>,
}

/// The `<task>` and `<details>` elements open at a line.
#[derive(Default)]
struct Open {
    task: Option<(usize, Vec<(String, String)>)>,
    name: Option<(usize, String)>,
    details: Vec<(usize, String)>,
}

/// Collects the state of the block being read while events stream past.
#[derive(Default)]
struct Reader {
    heading: Option<(usize, usize, String)>,
    /// How deep in list items the reader is.
    items: usize,
    header: Vec<String>,
    cells: Vec<String>,
    cell: Option<String>,
    in_head: bool,
    tables: usize,
    code: Option<Code>,
}

impl Reader {
    /// Text goes to the code block, table cell or heading being read.
    fn text(&mut self, t: &str) {
        if let Some(code) = &mut self.code {
            code.body.push_str(t);
        } else if let Some(cell) = &mut self.cell {
            cell.push_str(t);
        } else if let Some((_, _, h)) = &mut self.heading {
            h.push_str(t);
        }
    }
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
            html: Vec::new(),
            code: Vec::new(),
            blocks: Vec::new(),
            details: Vec::new(),
            front_matter: None,
        };
        let mut opts = Options::empty();
        opts.insert(Options::ENABLE_TABLES);
        opts.insert(Options::ENABLE_STRIKETHROUGH);
        opts.insert(Options::ENABLE_YAML_STYLE_METADATA_BLOCKS);
        let mut r = Reader::default();
        for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
            doc.take(&mut r, event, range);
        }
        doc.close_sections();
        doc.html_elements();
        doc
    }

    fn take(&mut self, r: &mut Reader, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => self.front_matter = Some(range),
            Event::Start(Tag::Heading { level, .. }) => {
                r.heading = Some((level as usize, range.start, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(r, range.end),
            Event::Start(Tag::Item) => {
                r.items += 1;
                self.start_item(range);
            }
            Event::End(TagEnd::Item) => r.items -= 1,
            Event::Start(Tag::Paragraph) if r.items == 0 => self.paragraphs.push(range),
            Event::Start(Tag::HtmlBlock) if r.items == 0 => self.html.push(range),
            Event::Start(Tag::Table(_) | Tag::TableHead | Tag::TableCell)
            | Event::End(TagEnd::TableHead | TagEnd::TableCell | TagEnd::TableRow) => {
                self.take_table(r, event, range);
            }
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
            Event::Text(t) | Event::Code(t) => r.text(&t),
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, _, h)) = &mut r.heading {
                    h.push(' ');
                }
            }
            _ => {}
        }
    }

    fn end_heading(&mut self, r: &mut Reader, end: usize) {
        if let Some((level, start, text)) = r.heading.take() {
            self.headings.push(Heading {
                level,
                text: text.trim().to_string(),
                start,
                end,
                section_end: self.text.len(),
                parent: None,
            });
        }
    }

    fn start_item(&mut self, range: Range<usize>) {
        // An item indented with a tab can start at the line break before
        // it: its own line starts after the break.
        let lead = self.text[range.clone()]
            .bytes()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = (range.start + lead).min(range.end);
        self.items.push(Item {
            range: start..range.end,
        });
    }

    /// Table events: the header row's cells, then each row with its cells.
    fn take_table(&mut self, r: &mut Reader, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(Tag::Table(_)) => r.tables += 1,
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
                table: r.tables,
            }),
            _ => {}
        }
    }

    /// Each heading's section runs to the next heading of the same or a
    /// higher level: one pass with a stack of open headings.
    fn close_sections(&mut self) {
        let mut open: Vec<usize> = Vec::new();
        for i in 0..self.headings.len() {
            let level = self.headings[i].level;
            let start = self.headings[i].start;
            while let Some(&top) = open.last() {
                if self.headings[top].level < level {
                    break;
                }
                self.headings[top].section_end = start;
                open.pop();
            }
            self.headings[i].parent = open.last().copied();
            open.push(i);
        }
    }

    /// `<task …>` and `<details>` elements, found by their lines outside code.
    fn html_elements(&mut self) {
        let mut open = Open::default();
        let mut comment = false;
        let mut at = 0;
        while at < self.text.len() {
            let line = self.line_range(at);
            at = line.end + 1;
            let t = self.text[line.clone()].trim();
            // Commented-out elements are not the plan's.
            let opens = t.starts_with("<!--");
            if comment || opens {
                comment = !t.contains("-->");
            }
            if !(comment || opens || self.in_code(line.start)) {
                let lead = self.text[line.clone()].len() - t.len();
                self.task_line(&mut open, t, line.start + lead, line.end);
                self.details_line(&mut open, t, line.start, line.end);
            }
        }
        self.details.sort_by_key(|d| d.range.start);
    }

    /// One line of a `<task>` element: its opening tag, `<name>`, end.
    fn task_line(&mut self, open: &mut Open, t: &str, start: usize, end: usize) {
        if let Some(rest) = open_tag(t, "task") {
            open.task = Some((start, attributes(rest)));
            open.name = None;
        }
        if open.task.is_some()
            && open.name.is_none()
            && let Some(i) = t.find("<name>")
        {
            let inner = &t[i + 6..];
            let inner = inner.split("</name>").next().unwrap_or(inner);
            open.name = Some(((start + i + 6).min(end), inner.trim().to_string()));
        }
        if t.contains("</task>")
            && let Some((start, attrs)) = open.task.take()
        {
            self.blocks.push(Block {
                range: start..end,
                attrs,
                name: open.name.take(),
            });
        }
    }

    /// One line of a `<details>` element: its opening tag, `<summary>`, end.
    fn details_line(&mut self, open: &mut Open, t: &str, start: usize, end: usize) {
        if open_tag(t, "details").is_some() {
            open.details.push((start, String::new()));
        }
        if let Some(i) = t.find("<summary>")
            && let Some(d) = open.details.last_mut()
        {
            let inner = &t[i + 9..];
            let summary = inner.split("</summary>").next().unwrap_or(inner);
            d.1 = summary.trim().to_string();
        }
        if t.contains("</details>")
            && let Some((start, summary)) = open.details.pop()
        {
            self.details.push(Details {
                range: start..end,
                summary,
            });
        }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// The byte range of the line holding `offset`, without its newline.
    pub fn line_range(&self, offset: usize) -> Range<usize> {
        let line = self.line_of(offset);
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        start..end
    }

    /// Whether `offset` is inside a code block or the front matter.
    pub fn in_code(&self, offset: usize) -> bool {
        if self
            .front_matter
            .as_ref()
            .is_some_and(|f| f.contains(&offset))
        {
            return true;
        }
        let i = self.code.partition_point(|c| c.range.start <= offset);
        i > 0 && self.code[i - 1].range.contains(&offset)
    }

    /// The headings whose sections contain `offset`, outermost first, as
    /// indices into `headings`.
    pub fn headings_over(&self, offset: usize) -> Vec<usize> {
        // The last heading before `offset` holds it (the next one starts
        // after it); the others are that heading's ancestors.
        let mut out = Vec::new();
        let mut at = self
            .headings
            .partition_point(|h| h.start <= offset)
            .checked_sub(1);
        while let Some(i) = at {
            out.push(i);
            at = self.headings[i].parent;
        }
        out.reverse();
        out
    }
}

/// The rest of `<tag …>` when `t` opens element `tag`.
fn open_tag<'t>(t: &'t str, tag: &str) -> Option<&'t str> {
    let rest = t.strip_prefix('<')?.strip_prefix(tag)?;
    (rest.starts_with([' ', '>', '\t']) || rest.is_empty()).then_some(rest)
}

/// `id="111-05-T1" type="execute"` as name–value pairs.
fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .rsplit(|c: char| c.is_whitespace() || c == '<')
            .next()
            .unwrap_or("")
            .trim()
            .to_lowercase();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push((name, after[1..1 + close].to_string()));
        rest = &after[1 + close + 1..];
    }
    out
}

/// Markdown inline markup removed: `**TASK-001:** Create `x`` → `TASK-001: Create x`.
pub fn plain(markdown: &str) -> String {
    // Most titles hold no markup at all: no parser needed.
    let markup = |c: char| matches!(c, '*' | '`' | '~' | '<' | '>' | '\\' | '&' | '#');
    let link = markdown.contains("](") || markdown.contains("][");
    // `_` emphasises only at a word's edge (`_x_`), not in `src/a_b.rs`.
    let b = markdown.as_bytes();
    let underscore = b.iter().enumerate().any(|(i, &c)| {
        c == b'_'
            && (i == 0
                || i + 1 == b.len()
                || !b[i - 1].is_ascii_alphanumeric()
                || !b[i + 1].is_ascii_alphanumeric())
    });
    if !link && !underscore && !markdown.contains(markup) {
        return markdown.split_whitespace().collect::<Vec<_>>().join(" ");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_blocks_details_and_front_matter() {
        let text = "---\ndepends_on:\n  - 01-02\n---\n\n<details>\n<summary>v1.0 (done)</summary>\n\n\
                    - [x] Phase 1: Base\n\n</details>\n\n<task id=\"05-T1\" type=\"auto\">\n  \
                    <name>Task 1a: Wire it</name>\n\n1. step\n</task>\n";
        let doc = Doc::parse(text);
        assert!(doc.front_matter.is_some());
        assert_eq!(doc.details.len(), 1);
        assert_eq!(doc.details[0].summary, "v1.0 (done)");
        assert_eq!(doc.blocks.len(), 1);
        assert_eq!(doc.blocks[0].attrs[0], ("id".into(), "05-T1".into()));
        assert_eq!(doc.blocks[0].name.as_ref().unwrap().1, "Task 1a: Wire it");
        assert!(doc.in_code(5));
    }

    #[test]
    fn sections_and_the_headings_over_an_offset() {
        let text = "# A\n## B\ntext\n### C\n## D\n";
        let doc = Doc::parse(text);
        let ends: Vec<usize> = doc.headings.iter().map(|h| h.section_end).collect();
        assert_eq!(ends, [text.len(), 20, 20, text.len()]);
        let over: Vec<&str> = doc
            .headings_over(text.find("text").unwrap())
            .into_iter()
            .map(|h| doc.headings[h].text.as_str())
            .collect();
        assert_eq!(over, ["A", "B"]);
    }
}
