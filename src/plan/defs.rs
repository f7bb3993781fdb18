//! Where a document defines a task: a list item, heading, table row or
//! (in damaged Markdown) a line that starts with an ID. Everywhere else an
//! ID is only a reference.

use std::ops::Range;

use super::ids::{Scheme, dotted_id, lexical_id};
use super::markdown::{Doc, plain};
use super::marks::{self, Mark};

/// The kind of place that defines a task; it decides how much a definition
/// is trusted when kinds compete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// `- [ ] T001 …`, `- [x]* 2.3 …`
    Checkbox,
    /// `1. **TASK-001:** …`
    ListItem,
    /// `### TASK-002: …`
    Heading,
    /// A table row whose ID column holds the ID.
    Row,
    /// A paragraph line `M1-001: …` where list markup was lost.
    Line,
}

/// One definition of a task ID, before scoping and de-duplication.
#[derive(Debug, Clone)]
pub struct Def {
    pub id: String,
    pub scheme: Scheme,
    pub site: Site,
    /// Start of the defining line.
    pub start: usize,
    /// The task's own text: its item, section, row or lines.
    pub extent: Range<usize>,
    /// End of the title (the first paragraph of an item).
    pub title_end: usize,
    pub title: String,
    /// The checkbox's character: ' ', 'x', 'X', '-', '~', '/'.
    pub check: Option<char>,
    pub optional: bool,
    /// The ID is struck through (`~~T005~~`).
    pub struck: bool,
    /// A table's status cell, or the status written in the row.
    pub status_cell: Option<String>,
    /// Bracketed labels before the title: `P`, `US1`.
    pub tags: Vec<String>,
    /// A mark in the full title (`✅`, `(done)`), read before it is shortened.
    pub title_mark: Option<Mark>,
}

/// Longest title kept; longer ones stop at their first sentence or a word.
const TITLE_MAX: usize = 100;

/// Split a title into its leading `[P] [US1]` labels and a readable title:
/// the first sentence of a long description, or its first words.
fn tidy_title(raw: &str) -> (Vec<String>, String) {
    let mut tags = Vec::new();
    let mut rest = raw.trim();
    while let Some(r) = rest.strip_prefix('[') {
        match r.split_once(']') {
            Some((tag, after)) if tag.len() <= 12 && !tag.contains(' ') => {
                tags.push(tag.to_string());
                rest = after.trim_start();
            }
            _ => break,
        }
    }
    let rest = rest.trim_start_matches([':', '-', '—', '–', ' ']);
    if rest.chars().count() <= TITLE_MAX {
        return (tags, rest.to_string());
    }
    let limit = rest
        .char_indices()
        .nth(TITLE_MAX)
        .map_or(rest.len(), |(i, _)| i);
    let head = &rest[..limit];
    let cut = [". ", " — ", "; "]
        .iter()
        .filter_map(|p| head.find(p))
        .filter(|&i| i >= 20)
        .min()
        .map(|i| head[..i].to_string())
        .unwrap_or_else(|| match head.rfind(' ') {
            Some(i) => format!("{}…", &head[..i]),
            None => format!("{head}…"),
        });
    (tags, cut)
}

impl Def {
    fn new(
        token: super::ids::Token,
        site: Site,
        start: usize,
        extent: Range<usize>,
        title_end: usize,
        title: &str,
    ) -> Def {
        let title_mark = marks::in_title(title);
        let optional = title.to_lowercase().contains("(optional)");
        let (tags, title) = tidy_title(title);
        Def {
            id: token.id,
            scheme: token.scheme,
            site,
            start,
            extent,
            title_end,
            title,
            check: None,
            optional,
            struck: false,
            status_cell: None,
            tags,
            title_mark,
        }
    }
}

/// Words that, right after an ID at the start of a bullet, show the bullet is
/// a sentence about the task ("T002 depends on T001"), not its definition.
const SENTENCE_WORDS: &[&str] = &[
    "and", "&", "+", "or", "depends", "depend", "before", "after", "requires", "blocks", "blocked",
    "feeds", "follows", "follow", "must", "can", "should", "is", "are", "was", "needs", "through",
    "to", "->", "→", "∥", "|", "then", "precedes",
];

pub fn collect(doc: &Doc<'_>) -> Vec<Def> {
    let mut defs = Vec::new();
    for item in &doc.items {
        if !doc.in_code(item.range.start) {
            defs.extend(item_def(doc, item.range.clone()));
        }
    }
    for h in &doc.headings {
        defs.extend(heading_def(doc, h));
    }
    for row in &doc.rows {
        defs.extend(row_def(row));
    }
    defs.extend(line_defs(doc));
    defs.sort_by_key(|d| d.start);
    defs
}

/// `[ ]`, `[x]*` and similar at the start of `s`: the mark, whether it is
/// optional, and the rest.
fn checkbox(s: &str) -> Option<(char, bool, &str)> {
    let rest = s.strip_prefix('[')?;
    let mut chars = rest.chars();
    let c = chars.next()?;
    if !" xX-~/".contains(c) {
        return None;
    }
    let rest = chars.as_str().strip_prefix(']')?;
    let (optional, rest) = match rest.strip_prefix('*') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    (rest.is_empty() || rest.starts_with(char::is_whitespace))
        .then(|| (c, optional, rest.trim_start()))
}

fn strip_list_marker(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if let Some(r) = t.strip_prefix(['-', '*', '+']) {
        return (r.is_empty() || r.starts_with(char::is_whitespace)).then(|| r.trim_start());
    }
    let n = t.bytes().take_while(u8::is_ascii_digit).count();
    let r = t[n..].strip_prefix(['.', ')'])?;
    (n > 0 && (r.is_empty() || r.starts_with(char::is_whitespace))).then(|| r.trim_start())
}

/// Opening markup before an ID: `**`, `` ` ``, `[`, `~~`. Returns the rest
/// and whether a strike-through was opened.
fn strip_open_markup(s: &str) -> (&str, bool) {
    let mut s = s;
    let mut struck = false;
    loop {
        if let Some(r) = s.strip_prefix("~~") {
            struck = true;
            s = r;
        } else if let Some(r) = s.strip_prefix(['*', '_', '`', '[']) {
            s = r;
        } else {
            return (s, struck);
        }
    }
}

/// After an ID: closing markup and separators. Returns the rest and whether
/// a `:` (a label: "TASK-001: title") was among them.
fn strip_after_id(s: &str) -> (&str, bool) {
    let mut colon = false;
    let rest = s.trim_start_matches(|c: char| {
        colon |= c == ':';
        "*_`]~:.)—–-| \t".contains(c)
    });
    (rest, colon)
}

fn is_sentence(rest: &str) -> bool {
    let first = rest.split_whitespace().next().unwrap_or("").to_lowercase();
    SENTENCE_WORDS.contains(&first.trim_end_matches(',')) || lexical_id(rest).is_some()
}

/// The lines of an item's first paragraph: up to a blank line or a nested
/// list marker.
pub(super) fn title_end(doc: &Doc<'_>, range: &Range<usize>) -> usize {
    let text = doc.text;
    let mut end = doc.line_range(range.start).end;
    while end + 1 < range.end {
        let next = doc.line_range(end + 1);
        let line = &text[next.clone()];
        if line.trim().is_empty() || strip_list_marker(line).is_some() || next.end > range.end {
            break;
        }
        end = next.end;
    }
    end
}

fn item_def(doc: &Doc<'_>, range: Range<usize>) -> Option<Def> {
    let first = &doc.text[doc.line_range(range.start)];
    let body = strip_list_marker(first)?;
    let (check, optional, body) = match checkbox(body) {
        Some((c, o, rest)) => (Some(c), o, rest),
        None => (None, false, body),
    };
    let (body, struck) = strip_open_markup(body);
    // `- [ ] **Task 1.2**: …` names its number with a word first.
    let body = match check {
        Some(_) => ["Task ", "task ", "Step ", "step "]
            .iter()
            .find_map(|w| body.strip_prefix(w))
            .map_or(body, |b| strip_open_markup(b).0),
        None => body,
    };
    let token = lexical_id(body).or_else(|| check.and_then(|_| dotted_id(body)))?;
    let (rest, colon) = strip_after_id(&body[token.len..]);
    if check.is_none() && !colon && is_sentence(rest) {
        return None;
    }
    let end = title_end(doc, &range);
    let offset = body.as_ptr() as usize - doc.text.as_ptr() as usize + token.len;
    let title_md = &doc.text[offset.min(end)..end];
    let (title_md, _) = strip_after_id(title_md);
    let site = if check.is_some() {
        Site::Checkbox
    } else {
        Site::ListItem
    };
    let start = range.start;
    let mut def = Def::new(token, site, start, range, end, &plain(title_md));
    def.check = check;
    def.optional |= optional;
    def.struck = struck;
    Some(def)
}

fn heading_def(doc: &Doc<'_>, h: &super::markdown::Heading) -> Option<Def> {
    let text = h.text.trim();
    let text = ["Task ", "Issue ", "Ticket "]
        .iter()
        .find_map(|w| text.strip_prefix(w))
        .unwrap_or(text);
    let (text, struck) = strip_open_markup(text);
    let token = lexical_id(text)?;
    let (rest, _) = strip_after_id(&text[token.len..]);
    let line = doc.line_range(h.start);
    let mut def = Def::new(
        token,
        Site::Heading,
        h.start,
        h.start..h.section_end,
        line.end,
        rest,
    );
    // The heading's text has lost its markup; the source line still has it.
    let raw = doc.text[line].trim_start_matches(['#', ' ']);
    def.struck = struck || raw.starts_with("~~");
    Some(def)
}

const ID_HEADERS: &[&str] = &[
    "id", "task", "task id", "issue", "issues", "ticket", "key", "#",
];
const TITLE_HEADERS: &[&str] = &[
    "title",
    "task",
    "description",
    "summary",
    "name",
    "delivers",
    "what",
    "goal",
    "work",
];

pub fn is_dependency_header(h: &str) -> bool {
    ["depend", "block", "after", "require", "prereq"]
        .iter()
        .any(|w| h.contains(w))
}

fn row_def(row: &super::markdown::Row) -> Option<Def> {
    let header = |i: usize| row.header.get(i).map_or("", String::as_str);
    let id_col = (0..row.cells.len())
        .filter(|&i| !is_dependency_header(header(i)))
        .find(|&i| {
            (i == 0 || ID_HEADERS.contains(&header(i)))
                && lexical_id(strip_open_markup(&row.cells[i]).0).is_some()
        });
    let (col, token) = match id_col {
        Some(i) => (i, lexical_id(strip_open_markup(&row.cells[i]).0)?),
        None => slug_cell(row)?,
    };
    let title = (0..row.cells.len())
        .filter(|&i| i != col && !header(i).contains("status"))
        .find(|&i| TITLE_HEADERS.contains(&header(i)))
        .or_else(|| {
            (0..row.cells.len())
                .filter(|&i| {
                    i != col && !header(i).contains("status") && !is_dependency_header(header(i))
                })
                .max_by_key(|&i| row.cells[i].len())
        })
        .map(|i| row.cells[i].clone())
        .unwrap_or_default();
    let status = (0..row.cells.len())
        .find(|&i| ["status", "state", "done"].contains(&header(i)))
        .map(|i| row.cells[i].clone());
    let r = row.range.clone();
    let mut def = Def::new(token, Site::Row, r.start, r.clone(), r.end, &title);
    def.struck = row.cells[col].starts_with("~~");
    def.status_cell = status;
    Some(def)
}

/// A slug (`auth-login`) in a column headed "ID" (not "Key": config tables use that).
fn slug_cell(row: &super::markdown::Row) -> Option<(usize, super::ids::Token)> {
    let col = row
        .header
        .iter()
        .position(|h| ["id", "task id", "slug"].contains(&h.as_str()))?;
    let cell = row.cells.get(col)?.trim_matches(|c| c == '`' || c == '*');
    // Lower-case only: `REQ-001` in an ID column is a requirement, not a slug.
    let ok = !cell.is_empty()
        && cell.len() <= 64
        && cell.chars().next()?.is_ascii_alphanumeric()
        && cell.chars().any(|c| c.is_ascii_lowercase())
        && cell
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c));
    ok.then(|| {
        (
            col,
            super::ids::Token {
                id: cell.to_string(),
                scheme: Scheme::Slug,
                len: cell.len(),
            },
        )
    })
}

/// Lines `M1-001: title` inside paragraphs: list markup that was lost, e.g.
/// after an unterminated fence.
fn line_defs(doc: &Doc<'_>) -> Vec<Def> {
    let mut found: Vec<Def> = Vec::new();
    for para in &doc.paragraphs {
        let mut at = para.start;
        while at < para.end {
            let line = doc.line_range(at);
            let (body, struck) = strip_open_markup(doc.text[line.clone()].trim_start());
            if let Some(token) = lexical_id(body) {
                let (rest, colon) = strip_after_id(&body[token.len..]);
                if colon && !rest.is_empty() && token.scheme != Scheme::Issue {
                    let extent = line.start..doc.text.len();
                    let mut def = Def::new(
                        token,
                        Site::Line,
                        line.start,
                        extent,
                        line.end,
                        &plain(rest),
                    );
                    def.struck = struck;
                    found.push(def);
                }
            }
            at = line.end + 1;
        }
    }
    // A line definition's text runs to the next one or the end of its section.
    for i in 0..found.len() {
        let next = found.get(i + 1).map_or(doc.text.len(), |d| d.start);
        let section = doc
            .headings_over(found[i].start)
            .map(|h| h.section_end)
            .min()
            .unwrap_or(doc.text.len());
        found[i].extent.end = next.min(section);
    }
    found
}
