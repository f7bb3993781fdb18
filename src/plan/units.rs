//! Candidate units of work: list items, headings, table rows, `<task>`
//! elements and (in damaged Markdown) lines that start with an ID, each with
//! its label, title, marks and the unit that contains it. Pure.

use std::ops::Range;

use super::label::{self, Label, Shape};
use super::markdown::{Doc, plain};
use super::marks::{self, Mark};

/// The structural kind of a unit; it decides how much a unit counts when
/// families compete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `- [ ] T001 …`, `- [x]* 2.3 …`
    Checkbox,
    /// `1. **TASK-001:** …`, `- T010: …`
    Item,
    /// `### Task 2: …`
    Heading,
    /// A table row whose ID column holds the label.
    Row,
    /// `<task id="…">…</task>`
    Block,
    /// A paragraph line `M1-001: …` where list markup was lost.
    Line,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Checkbox => "checkbox item",
            Kind::Item => "list item",
            Kind::Heading => "heading",
            Kind::Row => "table row",
            Kind::Block => "<task> element",
            Kind::Line => "line",
        }
    }
}

/// One candidate unit.
#[derive(Debug, Clone)]
pub struct Unit {
    pub kind: Kind,
    /// Start of the unit's first line.
    pub start: usize,
    /// The unit's own text: its item, section, row or element.
    pub extent: Range<usize>,
    /// End of the title (an item's first paragraph, a heading's line).
    pub title_end: usize,
    pub label: Option<Label>,
    /// Further labels of the same shape in one unit (`2.1 RED, 2.2 GREEN`).
    pub extra: Vec<Label>,
    pub title: String,
    /// The checkbox's character: ' ', 'x', 'X', '-', '~', '/'.
    pub check: Option<char>,
    pub optional: bool,
    /// The label or the whole title is struck through.
    pub struck: bool,
    /// A status cell, or a `Status:` field.
    pub status: Option<String>,
    /// Bracketed labels before the title: `P`, `US1`.
    pub tags: Vec<String>,
    /// A mark in the full title (`✅`, `(done)`), read before it is shortened.
    pub title_mark: Option<Mark>,
    /// The innermost unit whose extent holds this one.
    pub parent: Option<usize>,
    /// A table row's values in columns that name a milestone ("Milestone",
    /// "Stage"), lower-cased headers with their cells.
    pub scope_cells: Vec<(String, String)>,
    /// A table row's other numbering (`PR` column `5/12`): header word and key.
    pub aliases: Vec<(String, String)>,
    /// A table row's dependency cells.
    pub depends: Vec<(String, String)>,
    /// Field headings of a record (`# Dependencies: 3, 4`): their text.
    pub fields: Vec<(usize, String)>,
    /// A label it would have but for its length (`## Task 99999…`), and
    /// why it is too long: left out with that reason when its shape is the
    /// tasks'.
    pub too_long: Option<(Label, String)>,
}

impl Unit {
    pub(super) fn new(kind: Kind, start: usize, extent: Range<usize>, title_end: usize) -> Unit {
        Unit {
            kind,
            start,
            extent,
            title_end,
            label: None,
            extra: Vec::new(),
            title: String::new(),
            check: None,
            optional: false,
            struck: false,
            status: None,
            tags: Vec::new(),
            title_mark: None,
            parent: None,
            scope_cells: Vec::new(),
            aliases: Vec::new(),
            depends: Vec::new(),
            fields: Vec::new(),
            too_long: None,
        }
    }

    /// Title and the marks written in it.
    pub(super) fn set_title(&mut self, raw: &str) {
        self.title_mark = marks::in_title(raw);
        self.optional |= marks::says_optional(raw);
        let (tags, title) = tidy_title(raw);
        self.tags = tags;
        self.title = title;
    }
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
            // A stray second checkbox (`T037 [ ] Document …`) is no tag.
            Some((" " | "x" | "X", after)) => rest = after.trim_start(),
            Some((tag, after)) if tag.len() <= 12 && !tag.contains(' ') => {
                tags.push(tag.to_string());
                rest = after.trim_start();
            }
            _ => break,
        }
    }
    // Separators and marks between the label and the words: `✅ — Title`.
    let rest = rest.trim_start_matches(|c: char| {
        matches!(c, ':' | '-' | '—' | '–' | ' ' | '：') || !c.is_ascii() && !c.is_alphanumeric()
    });
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

/// Words that, right after an ID at the start of a bullet, show the bullet is
/// a sentence about the task ("T002 depends on T001"), not its definition.
const SENTENCE_WORDS: &[&str] = &[
    "and", "&", "+", "or", "depends", "depend", "before", "after", "requires", "blocks", "blocked",
    "feeds", "follows", "follow", "must", "can", "should", "is", "are", "was", "needs", "through",
    "to", "->", "→", "∥", "|", "then", "precedes",
];

/// Every candidate unit of the document, in document order, each with the
/// unit that contains it.
pub fn collect(doc: &Doc<'_>) -> Vec<Unit> {
    let mut units = Vec::new();
    for item in &doc.items {
        if !doc.in_code(item.range.start) {
            units.extend(item_unit(doc, item.range.clone()));
        }
    }
    headings(doc, &mut units);
    super::table::rows(doc, &mut units);
    let mut blocks: Vec<Unit> = doc
        .blocks
        .iter()
        .filter_map(|b| block_unit(doc, b))
        .collect();
    number_unnamed(&mut blocks);
    units.extend(blocks);
    units.extend(line_units(doc));
    units.sort_by_key(|u| (u.start, std::cmp::Reverse(u.extent.end), u.kind));
    nest(&mut units);
    units
}

/// Each unit's innermost container: one sweep with a stack of open extents.
fn nest(units: &mut [Unit]) {
    let mut open: Vec<usize> = Vec::new();
    for i in 0..units.len() {
        let start = units[i].start;
        while let Some(&top) = open.last() {
            if units[top].extent.end > start && top != i {
                break;
            }
            open.pop();
        }
        units[i].parent = open.last().copied();
        open.push(i);
    }
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

/// The text after a list marker (`-`, `*`, `+`, `1.`, `1)`), and whether
/// the marker was a number.
pub(super) fn strip_list_marker(line: &str) -> Option<(&str, bool)> {
    let t = line.trim_start();
    if let Some(r) = t.strip_prefix(['-', '*', '+']) {
        return (r.is_empty() || r.starts_with(char::is_whitespace))
            .then(|| (r.trim_start(), false));
    }
    let n = t.bytes().take_while(u8::is_ascii_digit).count();
    let r = t[n..].strip_prefix(['.', ')'])?;
    (n > 0 && (r.is_empty() || r.starts_with(char::is_whitespace))).then(|| (r.trim_start(), true))
}

/// Opening markup before a label: `**`, `` ` ``, `[`, `~~`, and symbols
/// such as `✅` or `🚧`. Returns the rest and whether a strike-through was
/// opened.
pub(super) fn strip_open_markup(s: &str) -> (&str, bool) {
    let mut s = s;
    let mut struck = false;
    loop {
        if let Some(r) = s.strip_prefix("~~") {
            struck = true;
            s = r;
        } else if let Some(r) = s.strip_prefix(['*', '_', '`', '[']) {
            s = r;
        } else if let Some(c) = s.chars().next()
            && !c.is_alphanumeric()
            && !c.is_ascii()
        {
            s = s[c.len_utf8()..].trim_start();
        } else {
            return (s, struck);
        }
    }
}

/// After a label: closing markup and separators. Returns the rest and
/// whether a `:` (a label: "TASK-001: title") was among them.
fn strip_after_label(s: &str) -> (&str, bool) {
    let mut colon = false;
    let rest = s.trim_start_matches(|c: char| {
        colon |= c == ':' || c == '：';
        "*_`]~:.)—–-| \t：".contains(c)
    });
    (rest, colon)
}

fn is_sentence(rest: &str) -> bool {
    let first = rest.split_whitespace().next().unwrap_or("").to_lowercase();
    SENTENCE_WORDS.contains(&first.trim_end_matches(',')) || label::lexical(rest).is_some()
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
    end.min(range.end.max(doc.line_range(range.start).end))
}

fn item_unit(doc: &Doc<'_>, range: Range<usize>) -> Option<Unit> {
    let first = &doc.text[doc.line_range(range.start)];
    let (body, _numbered) = strip_list_marker(first)?;
    let (check, optional, body) = match checkbox(body) {
        Some((c, o, rest)) => (Some(c), o, rest),
        None => (None, false, body),
    };
    let marked = body;
    let (body, struck) = strip_open_markup(body);
    let found = match check {
        Some(_) => label::at_start(body).or_else(|| label::short(body)),
        None => label::lexical(body)
            .or_else(|| label::at_start(body).filter(|l| l.word.is_some()))
            .or_else(|| label::short(body)),
    };
    let mut extra = Vec::new();
    match &found {
        Some(l) => {
            let (rest, colon) = strip_after_label(&body[l.len..]);
            if check.is_none() && !colon && is_sentence(rest) {
                return None;
            }
            extra = more_labels(rest, &l.shape);
        }
        None if check.is_some() => {}
        None => return None,
    }
    let title_start = offset_in(doc, marked);
    let end = title_end(doc, &range);
    let mut unit = Unit::new(
        if check.is_some() {
            Kind::Checkbox
        } else {
            Kind::Item
        },
        range.start,
        range.clone(),
        end,
    );
    let title = plain(&doc.text[title_start.min(end)..end]);
    unit.set_title(&after_label(&title, found.as_ref()));
    if found.is_none() {
        unit.too_long = label::too_long(body);
    }
    unit.label = found;
    unit.extra = extra;
    unit.check = check;
    unit.optional |= optional;
    unit.struck = struck || whole_line_struck(&doc.text[doc.line_range(range.start)]);
    Some(unit)
}

/// A title without its label: the markup around a label (`**Phase 5:
/// Model**`) is gone once the text is plain, so the label is cut there.
fn after_label(plain: &str, label: Option<&Label>) -> String {
    let Some(l) = label else {
        return plain.to_string();
    };
    let head: String = plain.chars().take(80).collect();
    match head.find(l.id.as_str()) {
        Some(i) => strip_after_label(&plain[i + l.id.len()..]).0.to_string(),
        None => plain.to_string(),
    }
}

fn offset_in(doc: &Doc<'_>, s: &str) -> usize {
    s.as_ptr() as usize - doc.text.as_ptr() as usize
}

/// `RED, 2.2 GREEN`: a second label of the same shape after a comma.
fn more_labels(rest: &str, shape: &Shape) -> Vec<Label> {
    let mut out = Vec::new();
    let head: String = rest.chars().take(60).collect();
    for (i, _) in head.match_indices([',', '&', '+']) {
        let after = head[i + 1..].trim_start();
        if let Some(l) = label::at_start(after).filter(|l| l.shape == *shape) {
            out.push(l);
        }
    }
    out
}

/// `- [ ] ~~Whole item~~`: a title struck through from start to end.
fn whole_line_struck(line: &str) -> bool {
    let t = line.trim_end();
    let body = strip_list_marker(t).map_or(t, |(b, _)| b);
    let body = checkbox(body).map_or(body, |(_, _, r)| r);
    body.starts_with("~~") && (body.ends_with("~~") || body[2..].contains("~~ "))
}

fn headings(doc: &Doc<'_>, units: &mut Vec<Unit>) {
    let mut i = 0;
    while i < doc.headings.len() {
        let h = &doc.headings[i];
        if doc.in_code(h.start) {
            i += 1;
            continue;
        }
        let (text, struck) = strip_open_markup(h.text.trim());
        let mut unit = Unit::new(Kind::Heading, h.start, h.start..h.section_end, h.end);
        if let Some(l) = label::at_start(text).filter(|l| !release_heading(l, &text[l.len..])) {
            let (rest, _) = strip_after_label(&text[l.len..]);
            unit.set_title(rest);
            unit.label = Some(l);
        } else {
            unit.set_title(text);
            unit.too_long = label::too_long(text);
        }
        // The heading's text has lost its markup; the source line still has it.
        let raw = doc.text[doc.line_range(h.start)].trim_start_matches(['#', ' ']);
        unit.struck = struck || raw.starts_with("~~");
        i += 1;
        if unit.label.is_some() {
            i = take_fields(doc, i, &mut unit);
        }
        units.push(unit);
    }
}

/// `## [1.4.0] - 2024-01-05`, `## 2.1`: a bare number with no title, or
/// only a date, names a release or a version, not a unit of work.
fn release_heading(l: &Label, rest: &str) -> bool {
    let bare = l.word.is_none() && l.shape == Shape::Numbered(String::new());
    let rest = rest.trim_matches(|c: char| !c.is_alphanumeric());
    bare && rest
        .bytes()
        .all(|b| b.is_ascii_digit() || b" -./".contains(&b))
}

/// A record written as headings (`# Task ID: 4`, `# Title: …`, `# Status:
/// done`, `# Dependencies: 2`): the field headings after a labelled heading
/// of the same level belong to it. Returns the next heading to read.
fn take_fields(doc: &Doc<'_>, mut i: usize, unit: &mut Unit) -> usize {
    let level = doc.headings[i - 1].level;
    while let Some(h) = doc.headings.get(i) {
        if h.level != level || doc.in_code(h.start) {
            break;
        }
        if label::at_start(strip_open_markup(h.text.trim()).0).is_some() {
            break;
        }
        let Some((key, value)) = field(&h.text) else {
            break;
        };
        match key.as_str() {
            "title" if unit.title.is_empty() => unit.set_title(value),
            "status" | "state" => unit.status = Some(value.to_string()),
            _ => {}
        }
        unit.fields.push((h.start, h.text.clone()));
        unit.extent.end = h.section_end;
        i += 1;
    }
    i
}

/// `Status: done` as a field: a short key of one or two words, a colon, a value.
fn field(text: &str) -> Option<(String, &str)> {
    let (key, value) = text.split_once(':')?;
    let words = key.split_whitespace().count();
    let ok = (1..=2).contains(&words) && key.chars().all(|c| c.is_alphabetic() || c == ' ');
    ok.then(|| (key.trim().to_lowercase(), value.trim()))
}

fn block_unit(doc: &Doc<'_>, b: &super::markdown::Block) -> Option<Unit> {
    let end = b
        .name
        .as_ref()
        .map_or(b.range.start, |(at, _)| doc.line_range(*at).end);
    let mut unit = Unit::new(Kind::Block, b.range.start, b.range.clone(), end);
    let text = first_text(doc, b);
    let name = b.name.as_ref().map_or(text.as_str(), |(_, n)| n.as_str());
    let (name, _) = strip_open_markup(name);
    let from_name = label::at_start(name);
    let title = match &from_name {
        Some(l) => strip_after_label(&name[l.len..]).0,
        None => name,
    };
    unit.set_title(&plain(title));
    // Every `<task>` element is one family, labelled by its `id` attribute
    // or, without one, by its name (`Task 1a: …`).
    let id = b
        .attrs
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    unit.label = match (id, from_name) {
        (Some(id), _) => Some(Label {
            id,
            word: None,
            shape: Shape::Attribute,
            len: 0,
        }),
        (None, Some(l)) => Some(Label {
            shape: Shape::Attribute,
            ..l
        }),
        (None, None) => None,
    };
    Some(unit)
}

/// A `<task>` element without an `id` or a name (a checkpoint that only has
/// `<what-built>`) is still a unit: it takes its position among the
/// elements, with the unit word of named ones numbered by position
/// (`Task 3` after `Task 1`, `Task 2`).
fn number_unnamed(blocks: &mut [Unit]) {
    let mut word: Option<Option<String>> = None;
    for (n, b) in blocks.iter().enumerate() {
        if let Some(l) = &b.label {
            let by_position = l.id == (n + 1).to_string() && l.word.is_some();
            let same = word.as_ref().is_none_or(|w| *w == l.word);
            word = Some(l.word.clone().filter(|_| by_position && same));
        }
    }
    let word = word.flatten();
    for (n, b) in blocks.iter_mut().enumerate() {
        if b.label.is_none() {
            b.label = Some(Label {
                id: (n + 1).to_string(),
                word: word.clone(),
                shape: Shape::Attribute,
                len: 0,
            });
        }
    }
}

/// The first line of text inside a `<task>` element, without its tags: the
/// title of a task that has no `<name>`.
fn first_text(doc: &Doc<'_>, b: &super::markdown::Block) -> String {
    let inner = &doc.text[doc.line_range(b.range.start).end.min(b.range.end)..b.range.end];
    for line in inner.lines() {
        let mut out = String::new();
        let mut in_tag = false;
        for c in line.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        let t = out.trim();
        if !t.is_empty() {
            return t.to_string();
        }
    }
    String::new()
}

/// Lines `M1-001: title` inside paragraphs: list markup that was lost, e.g.
/// after an unterminated fence.
fn line_units(doc: &Doc<'_>) -> Vec<Unit> {
    let mut found: Vec<Unit> = Vec::new();
    for para in &doc.paragraphs {
        let mut at = para.start;
        while at < para.end {
            let line = doc.line_range(at);
            let (body, struck) = strip_open_markup(doc.text[line.clone()].trim_start());
            if let Some(l) = label::lexical(body) {
                let (rest, colon) = strip_after_label(&body[l.len..]);
                if colon && !rest.is_empty() && l.shape != Shape::Issue {
                    let mut unit =
                        Unit::new(Kind::Line, line.start, line.start..doc.text.len(), line.end);
                    unit.set_title(&plain(rest));
                    unit.label = Some(l);
                    unit.struck = struck;
                    found.push(unit);
                }
            }
            at = line.end + 1;
        }
    }
    // A line's text runs to the next one or the end of its section.
    for i in 0..found.len() {
        let next = found.get(i + 1).map_or(doc.text.len(), |d| d.start);
        let section = doc
            .headings_over(found[i].start)
            .last()
            .map_or(doc.text.len(), |&h| doc.headings[h].section_end);
        found[i].extent.end = next.min(section);
    }
    found
}
