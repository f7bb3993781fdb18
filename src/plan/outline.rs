//! A cheap outline of a Markdown document for plan discovery: its title, its
//! headings and heading-like lines, and whether it holds task IDs. Pure.
//!
//! One pass over the lines, no full Markdown parse: discovery reads every
//! tracked Markdown file, and only needs the parts that could name a
//! milestone. Fenced code is skipped so that `# comments` in shell examples
//! are not taken for headings.

use crate::milestone::names::{self, Tokens};

/// Lines that look like task definitions before a document counts as
/// holding task IDs; one stray `T1` in prose is not a plan, but one
/// checkbox item that starts with an ID (`- [ ] T001 Set up`) is: a plan
/// may have a single task.
const MIN_TASK_LINES: usize = 2;

/// Heading-like lines longer than this are prose, not headings.
const MAX_LINE_UNIT: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// The document's title: its first heading when that is level 1, or a
    /// front-matter `title:`.
    Title,
    /// Any other ATX or setext heading.
    Heading,
    /// A line that acts as a heading: all bold, or starting with a word
    /// like "Milestone" or "Phase" (`5. Milestone M1 – Core runtime`).
    Line,
}

/// A piece of the document that could name a milestone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// 1-based line number.
    pub line: usize,
    /// The text without markers (`#`, list numbering, emphasis stays).
    pub text: String,
    pub kind: UnitKind,
    /// `text`, tokenized once for matching.
    pub tokens: Tokens,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outline {
    pub units: Vec<Unit>,
    /// The document has lines that define tasks with IDs (`- [ ] T001`,
    /// `### TASK-003:`, `- [ ] 2.1`, `#123` in a table).
    pub has_task_ids: bool,
    /// How many such lines it has.
    pub task_lines: usize,
}

/// Outline a document's text.
pub fn outline(text: &str) -> Outline {
    let mut scan = Scan::default();
    let mut lines = text.lines().enumerate();
    if text.starts_with("---") {
        scan.front_matter(&mut lines);
    }
    for (i, line) in lines {
        scan.line(i + 1, line);
    }
    if scan.level_one_headings > 1 {
        // Several level-1 headings are sections (`# M1`, `# M2`), and the
        // first of them does not name the whole document.
        for u in &mut scan.units {
            if u.kind == UnitKind::Title && scan.front_matter_title != Some(u.line) {
                u.kind = UnitKind::Heading;
            }
        }
    }
    Outline {
        has_task_ids: scan.task_lines >= MIN_TASK_LINES || scan.checkbox_task_lines > 0,
        task_lines: scan.task_lines,
        units: scan.units,
    }
}

#[derive(Default)]
struct Scan<'a> {
    units: Vec<Unit>,
    task_lines: usize,
    /// Of those, checkbox items that start with a task ID.
    checkbox_task_lines: usize,
    seen_heading: bool,
    level_one_headings: usize,
    /// The line of a front-matter `title:`, which stays the title.
    front_matter_title: Option<usize>,
    /// The open code fence's character and length.
    fence: Option<(char, usize)>,
    /// The last paragraph line, which a setext underline would make a heading.
    paragraph: Option<(usize, &'a str)>,
}

impl<'a> Scan<'a> {
    fn front_matter(&mut self, lines: &mut impl Iterator<Item = (usize, &'a str)>) {
        lines.next();
        for (i, line) in lines {
            if matches!(line.trim_end(), "---" | "...") {
                return;
            }
            if let Some(title) = line.strip_prefix("title:") {
                let title = title.trim().trim_matches(['"', '\'']);
                if !title.is_empty() {
                    self.front_matter_title = Some(i + 1);
                    self.push(i + 1, title, UnitKind::Title);
                }
            }
        }
    }

    fn line(&mut self, n: usize, line: &'a str) {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if let Some((c, len)) = self.fence {
            if indent <= 3 && fence_of(t).is_some_and(|(fc, fl)| fc == c && fl >= len) {
                self.fence = None;
            }
            return;
        }
        if t.is_empty() {
            self.paragraph = None;
            return;
        }
        if indent > 3 {
            // Indented code, or a nested list item: never a heading.
            self.other(n, t);
            self.paragraph = None;
            return;
        }
        if let Some(f) = fence_of(t) {
            self.fence = Some(f);
            self.paragraph = None;
            return;
        }
        if let Some((level, text)) = atx_heading(t) {
            self.heading(n, level, text);
            self.paragraph = None;
            return;
        }
        // A `<details>` summary heads a collapsed part (GSD collapses each
        // shipped milestone so): a heading, as plan reading takes it.
        if let Some(text) = summary_text(t) {
            self.seen_heading = true;
            self.push(n, text, UnitKind::Heading);
            self.paragraph = None;
            return;
        }
        if let Some(level) = setext_level(t)
            && let Some((pn, text)) = self.paragraph.take()
        {
            self.units.retain(|u| u.line != pn);
            self.heading(pn, level, text);
            return;
        }
        self.other(n, t);
    }

    fn heading(&mut self, n: usize, level: usize, text: &str) {
        let kind = if level == 1 && !self.seen_heading {
            UnitKind::Title
        } else {
            UnitKind::Heading
        };
        self.seen_heading = true;
        if level == 1 {
            self.level_one_headings += 1;
        }
        if starts_with_task_id(text, false) {
            self.task_lines += 1;
        }
        self.push(n, text, kind);
    }

    fn other(&mut self, n: usize, t: &'a str) {
        if t.starts_with('|') {
            if table_row_has_task_id(t) {
                self.task_lines += 1;
            }
            self.paragraph = None;
            return;
        }
        let (is_list, checkbox, rest) = strip_list_marker(t);
        let with_id = is_list && starts_with_task_id(rest, checkbox);
        let defines_task = if is_list {
            with_id || checkbox && checkbox_phase(rest)
        } else {
            starts_with_task_id(rest, false) && id_followed_by_colon(rest)
        };
        if defines_task {
            self.task_lines += 1;
        }
        // A bare number after a checkbox (`- [ ] 2024 ...`) is too weak alone.
        if checkbox && with_id && first_word(rest).starts_with(|c: char| c.is_alphabetic()) {
            self.checkbox_task_lines += 1;
        }
        if rest.len() <= MAX_LINE_UNIT {
            if is_bold_line(rest) {
                self.push(n, rest, UnitKind::Line);
            } else if names::first_word_is_keyword(rest) {
                let tokens = Tokens::of(rest);
                if tokens.start_with_keyword() {
                    self.push_tokens(n, rest, UnitKind::Line, tokens);
                }
            }
        }
        self.paragraph = (!is_list && !t.starts_with('>')).then_some((n, t));
    }

    fn push(&mut self, line: usize, text: &str, kind: UnitKind) {
        self.push_tokens(line, text, kind, Tokens::of(text));
    }

    fn push_tokens(&mut self, line: usize, text: &str, kind: UnitKind, tokens: Tokens) {
        self.units.push(Unit {
            line,
            text: text.to_string(),
            kind,
            tokens,
        });
    }
}

/// A code fence opener or closer: its character and length.
fn fence_of(t: &str) -> Option<(char, usize)> {
    let c = t.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = t.chars().take_while(|&x| x == c).count();
    (len >= 3).then_some((c, len))
}

fn atx_heading(t: &str) -> Option<(usize, &str)> {
    let level = t.chars().take_while(|&c| c == '#').count();
    let rest = &t[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    let closed = rest.trim_end_matches('#');
    let text = if closed.len() < rest.len() && (closed.is_empty() || closed.ends_with(' ')) {
        closed.trim_end()
    } else {
        rest
    };
    Some((level, text))
}

fn setext_level(t: &str) -> Option<usize> {
    if t.chars().all(|c| c == '=') {
        Some(1)
    } else if t.len() >= 2 && t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

/// The text of a `<summary>` element that starts on this line (after an
/// optional `<details>`), without its tags.
fn summary_text(t: &str) -> Option<&str> {
    let t = t.strip_prefix("<details>").map_or(t, str::trim_start);
    let rest = t.strip_prefix("<summary>")?;
    let text = rest.split("</summary>").next().unwrap_or(rest).trim();
    (!text.is_empty() && text.len() <= MAX_LINE_UNIT).then_some(text)
}

/// `(is a list item, has a checkbox, the text after the markers)`.
fn strip_list_marker(t: &str) -> (bool, bool, &str) {
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let after = if t.starts_with(['-', '*', '+']) {
        Some(&t[1..])
    } else if (1..=3).contains(&digits) && t[digits..].starts_with(['.', ')']) {
        Some(&t[digits + 1..])
    } else {
        None
    };
    let Some(after) = after.filter(|a| a.is_empty() || a.starts_with([' ', '\t'])) else {
        return (false, false, t);
    };
    let after = after.trim_start();
    for mark in ["[ ]", "[x]", "[X]", "[-]", "[~]", "[/]"] {
        if let Some(rest) = after.strip_prefix(mark) {
            let rest = rest.trim_start();
            return (
                true,
                true,
                rest.strip_prefix('*').unwrap_or(rest).trim_start(),
            );
        }
    }
    (true, false, after)
}

/// The first word of `text`, without emphasis or brackets around it.
fn first_word(text: &str) -> &str {
    let t = text.trim_start_matches(['*', '_', '`', '[', '~', ' ']);
    let end = t
        .find(|c: char| c.is_whitespace() || matches!(c, ':' | '*' | '`' | ']' | ')' | ','))
        .unwrap_or(t.len());
    &t[..end]
}

/// A label with a unit word that is not a milestone's (`Task 3`, `Step 2`,
/// `Schritt 5`; not `Phase 2` or `Milestone 1`), or any such label after a
/// checkbox (`- [x] **Phase 7: Search**`, as GSD roadmaps list phases).
fn worded_unit(text: &str) -> bool {
    let t = text.trim_start_matches(['*', '_', '`', '[', '~', ' ']);
    let Some(l) = super::label::at_start(t) else {
        return false;
    };
    match l.shape.word() {
        Some(w) => !names::is_keyword(w),
        None => false,
    }
}

/// Whether `text` starts with something shaped like a task ID. Bare numbers
/// (`1.`, `2.3`) count only after a checkbox, as Kiro and OpenSpec write them.
fn starts_with_task_id(text: &str, checkbox: bool) -> bool {
    if worded_unit(text) {
        return true;
    }
    let word = first_word(text);
    if let Some(num) = word.strip_prefix('#') {
        return !num.is_empty() && num.chars().all(|c| c.is_ascii_digit());
    }
    if word.eq_ignore_ascii_case("task") {
        // `### Task 3: Wire the parser`
        let after =
            text.trim_start_matches(['*', '_', '`', '[', '~', ' '])[word.len()..].trim_start();
        return after.starts_with(|c: char| c.is_ascii_digit());
    }
    let letters = word.chars().take_while(char::is_ascii_alphabetic).count();
    let rest = &word[letters..];
    let rest_ok = |r: &str| {
        r.starts_with(|c: char| c.is_ascii_digit())
            && r.trim_end_matches(|c: char| c.is_ascii_lowercase())
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-'))
    };
    if letters == 0 {
        return checkbox && rest_ok(word.trim_end_matches('.'));
    }
    // Requirement and reference tags (`FR-001`, `US1`) are not tasks, as
    // extraction decides too.
    if letters > 12
        || super::label::NOT_TASK_PREFIXES.contains(&word[..letters].to_ascii_uppercase().as_str())
    {
        return false;
    }
    let (sep, digits) = match rest.strip_prefix(['-', '_']) {
        Some(d) => (true, d),
        None => (false, rest),
    };
    let milestone_name = !sep
        && word[..letters].eq_ignore_ascii_case("m")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.');
    rest_ok(digits) && !milestone_name && (sep || digits.len() >= 2 || checkbox)
}

/// `- [ ] **Phase 6: Configurable categories**`: a roadmap's phase list.
fn checkbox_phase(text: &str) -> bool {
    let t = text.trim_start_matches(['*', '_', '`', '[', '~', ' ']);
    super::label::at_start(t).is_some_and(|l| l.word.is_some())
}

fn id_followed_by_colon(text: &str) -> bool {
    let t = text.trim_start_matches(['*', '_', '`', '[', '~', ' ']);
    let word = first_word(text);
    t[word.len()..]
        .trim_start_matches(['*', '`', ']'])
        .starts_with(':')
}

fn table_row_has_task_id(row: &str) -> bool {
    let mut cells = row.trim_matches('|').split('|').map(str::trim);
    let first = cells.next().unwrap_or("");
    starts_with_task_id(first, false)
        || row
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .any(|w| {
                w.strip_prefix('#')
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            })
}

fn is_bold_line(t: &str) -> bool {
    let t = t.trim_end_matches(':');
    t.len() > 4 && t.starts_with("**") && t.ends_with("**") && !t[2..t.len() - 2].contains("**")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &str) -> Vec<(usize, &'static str, String)> {
        outline(text)
            .units
            .into_iter()
            .map(|u| {
                let kind = match u.kind {
                    UnitKind::Title => "title",
                    UnitKind::Heading => "heading",
                    UnitKind::Line => "line",
                };
                (u.line, kind, u.text)
            })
            .collect()
    }

    #[test]
    fn titles_headings_and_heading_like_lines() {
        let doc = "# Roadmap\n\nIntro M1 prose.\n\n## M1: Setup ##\n\n```sh\n# not a heading\n```\n\
                   Phase 2\n-------\n\n5. Milestone M3 – Core\n**Milestone 4**\n- plain item\n";
        assert_eq!(
            units(doc),
            [
                (1, "title", "Roadmap".to_string()),
                (5, "heading", "M1: Setup".to_string()),
                (10, "heading", "Phase 2".to_string()),
                (13, "line", "Milestone M3 – Core".to_string()),
                (14, "line", "**Milestone 4**".to_string()),
            ]
        );
    }

    #[test]
    fn a_later_level_one_heading_is_not_the_title() {
        let doc = "## Intro\n# M1\n";
        assert_eq!(
            units(doc),
            [(1, "heading", "Intro".into()), (2, "heading", "M1".into())]
        );
    }

    #[test]
    fn several_level_one_headings_are_sections_not_a_title() {
        let doc = "# M1: Setup\n\n- [ ] a\n\n# M2: Core\n";
        assert_eq!(
            units(doc),
            [
                (1, "heading", "M1: Setup".into()),
                (5, "heading", "M2: Core".into())
            ]
        );
    }

    #[test]
    fn a_details_summary_is_a_heading() {
        let doc = "# Roadmap\n\n<details>\n<summary>v1.0 MVP (Phases 1-2) - SHIPPED</summary>\n\n\
                   <details><summary>✅ **v0.9 Beta**</summary>\n<summary></summary>\n";
        assert_eq!(
            units(doc),
            [
                (1, "title", "Roadmap".into()),
                (4, "heading", "v1.0 MVP (Phases 1-2) - SHIPPED".into()),
                (6, "heading", "✅ **v0.9 Beta**".into()),
            ]
        );
    }

    #[test]
    fn front_matter_title_is_the_title() {
        let doc = "---\ntitle: \"M2 plan\"\nowner: me\n---\nText\n";
        assert_eq!(units(doc), [(2, "title", "M2 plan".into())]);
    }

    #[test]
    fn task_ids_are_recognised_in_common_shapes() {
        for doc in [
            "- [ ] T001 Setup\n- [ ] T002 More\n",
            "### TASK-001: a\n### TASK-002: b\n",
            "- [ ] 1. Set up\n  - [x] 1.2 Wire\n",
            " M1-001: Config\n M1-002: Logging\n",
            "1. **TASK-998:** ok\n2. **TASK-999:** fails\n",
            "### Task 1: Set up\n### Task 2: Wire\n",
            "| 1 | poller | [#8824](u) |\n| 2 | logs | [#8825](u) |\n",
            "# M3\n\n- [ ] T001 uno\n",
        ] {
            assert!(outline(doc).has_task_ids, "{doc}");
        }
    }

    #[test]
    fn prose_lists_and_milestone_headings_are_not_task_ids() {
        for doc in [
            "- [ ] write docs\n- [x] ship\n",
            "## M1: Setup\n## M2: Core\n",
            "1. First\n2. Second\n",
            "## 1.2 Background\n## 1.3 Scope\n",
            "- T001 once\n",
            "- Task list\n- Task owners\n",
            "- **FR-001**: Log in\n- **FR-002**: Log out\n",
            "- [ ] US1 story\n- [ ] US2 story\n",
            "- [ ] 2024 review\n",
        ] {
            assert!(!outline(doc).has_task_ids, "{doc}");
        }
    }
}
