//! The shapes of task IDs: recognising one where a task is defined, and
//! finding every reference (ranges included) in a sentence.

use std::collections::HashMap;

/// Which family of IDs a token belongs to. A plan's tasks use one family;
/// tokens of the others in the same document are requirements, examples or
/// labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `TASK-001`, `M1-001`: a capitalised prefix, `-`, a number. The key
    /// folds digits in the prefix to `#`, so `M0-…` and `M1-…` are one family.
    Prefixed(String),
    /// `T001`: one to three capitals glued to three or more digits.
    Glued(String),
    /// `#123`: an issue or pull-request number.
    Issue,
    /// Kiro-style numbering: `2.`, `2.3`, `10.2a`.
    Dotted,
    /// A slug in a table column headed "ID".
    Slug,
}

/// An ID found at the start of a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub scheme: Scheme,
    /// Bytes of the input the ID (and a Kiro trailing `.`) took.
    pub len: usize,
}

/// Prefixes of requirement, story and standard identifiers: never task IDs.
pub(super) const NOT_TASK_PREFIXES: &[&str] = &[
    "REQ", "REQS", "NFR", "FR", "SC", "AC", "US", "UC", "BR", "ADR", "RFC", "CVE", "CWE", "ISO",
    "UTF", "GHSA", "SHA", "NR", "DR", "PR",
];

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether an ID may start at byte `i` of `s`: not glued to a word before it.
pub fn starts_token(s: &str, i: usize) -> bool {
    if !s.is_char_boundary(i) {
        return false;
    }
    match s.as_bytes()[..i].last() {
        None => true,
        Some(&p) => {
            let issue = s.as_bytes()[i] == b'#';
            !is_word(p) && p != b'-' && p != b'.' && p != b'\\' && (p != b'/' || issue)
        }
    }
}

fn digits(b: &[u8], from: usize) -> usize {
    b[from..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// After an ID: end of text or a character that cannot continue it.
fn ends_token(b: &[u8], at: usize) -> bool {
    match b.get(at) {
        None => true,
        // `TASK-001-2` would be a longer token, not `TASK-001`.
        Some(&c) => !(is_word(c) || c == b'-' && b.get(at + 1).is_some_and(u8::is_ascii_digit)),
    }
}

fn all_zero(s: &str) -> bool {
    s.bytes().all(|c| c == b'0')
}

/// An ID of a lexically recognisable shape (`TASK-001`, `T001`, `#12`) at
/// the start of `s`. Placeholders (`TASK-000`) and requirement prefixes are refused.
pub fn lexical_id(s: &str) -> Option<Token> {
    let b = s.as_bytes();
    if b.first() == Some(&b'#') {
        let n = digits(b, 1);
        if (1..=7).contains(&n) && ends_token(b, 1 + n) {
            return Some(Token {
                id: s[..1 + n].to_string(),
                scheme: Scheme::Issue,
                len: 1 + n,
            });
        }
        return None;
    }
    if !b.first()?.is_ascii_uppercase() {
        return None;
    }
    prefixed(s).or_else(|| glued(s))
}

fn prefixed(s: &str) -> Option<Token> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        i += b[i..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            .count();
        if b.get(i) != Some(&b'-') {
            return None;
        }
        match b.get(i + 1) {
            Some(c) if c.is_ascii_digit() => break,
            Some(c) if c.is_ascii_uppercase() => i += 1,
            _ => return None,
        }
    }
    let prefix = &s[..i];
    let n = digits(b, i + 1);
    if n == 0 || n > 6 || all_zero(&s[i + 1..i + 1 + n]) {
        return None;
    }
    let mut end = i + 1 + n;
    if b.get(end).is_some_and(u8::is_ascii_lowercase) && ends_token(b, end + 1) {
        end += 1;
    }
    if !ends_token(b, end) {
        return None;
    }
    let first = prefix.split('-').next().unwrap_or(prefix);
    if NOT_TASK_PREFIXES.contains(&first) {
        return None;
    }
    let key: String = prefix
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    Some(Token {
        id: s[..end].to_string(),
        scheme: Scheme::Prefixed(key),
        len: end,
    })
}

fn glued(s: &str) -> Option<Token> {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=3).contains(&letters) {
        return None;
    }
    let n = digits(b, letters);
    if !(3..=6).contains(&n) || all_zero(&s[letters..letters + n]) {
        return None;
    }
    let mut end = letters + n;
    if b.get(end).is_some_and(u8::is_ascii_lowercase) && ends_token(b, end + 1) {
        end += 1;
    }
    if !ends_token(b, end) || NOT_TASK_PREFIXES.contains(&&s[..letters]) {
        return None;
    }
    Some(Token {
        id: s[..end].to_string(),
        scheme: Scheme::Glued(s[..letters].to_string()),
        len: end,
    })
}

/// Kiro numbering where a checkbox item starts: `1. `, `2.3 `, `10.2a `.
/// A lone number needs its trailing dot, so "- [ ] 2 reviewers" is no ID.
pub fn dotted_id(s: &str) -> Option<Token> {
    let (id, len) = dotted_number(s)?;
    let b = s.as_bytes();
    let multi = id.contains('.');
    let mut end = len;
    if b.get(end) == Some(&b'.') {
        end += 1;
    } else if !multi {
        return None;
    }
    match b.get(end) {
        None => {}
        Some(c) if c.is_ascii_whitespace() || b":)]*_`".contains(c) => {}
        _ => return None,
    }
    Some(Token {
        id,
        scheme: Scheme::Dotted,
        len: end,
    })
}

/// `2`, `2.3`, `10.2a` at the start of `s` (no trailing dot), and its length.
fn dotted_number(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        let n = digits(b, i);
        if n == 0 || n > 3 {
            return None;
        }
        i += n;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    if b.get(i).is_some_and(u8::is_ascii_lowercase)
        && s[..i].contains('.')
        && !b.get(i + 1).is_some_and(|c| is_word(*c))
    {
        i += 1;
    }
    if b.get(i).is_some_and(|c| is_word(*c)) {
        return None;
    }
    Some((s[..i].to_string(), i))
}

/// Sort key for an ID: its numbers, then any letter suffix, so `3.10` follows
/// `3.9` and `10.2a` falls between `10.2` and `10.3`.
pub fn numeric_key(id: &str) -> (String, Vec<u32>, String) {
    let body = id.trim_start_matches('#');
    let cut = body
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c.is_ascii_lowercase()))
        .map_or(0, |i| i + 1);
    let (prefix, rest) = body.split_at(cut);
    let suffix: String = rest.chars().filter(char::is_ascii_lowercase).collect();
    let nums = rest
        .trim_end_matches(|c: char| c.is_ascii_lowercase())
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    (prefix.to_string(), nums, suffix)
}

/// The IDs a document defines, for expanding ranges without inventing IDs.
#[derive(Debug, Default)]
pub struct Known {
    ids: HashMap<String, Scheme>,
    order: Vec<String>,
    dotted: bool,
    slugs: Vec<String>,
}

impl Known {
    pub fn add(&mut self, id: &str, scheme: &Scheme) {
        if !self.ids.contains_key(id) {
            self.dotted |= *scheme == Scheme::Dotted;
            if *scheme == Scheme::Slug {
                self.slugs.push(id.to_string());
            }
            self.ids.insert(id.to_string(), scheme.clone());
            self.order.push(id.to_string());
        }
    }
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }
    /// A slug the document defines (in a table's ID column) starting `s`.
    fn slug_at(&self, s: &str) -> Option<&str> {
        self.slugs
            .iter()
            .filter(|slug| s.starts_with(slug.as_str()))
            .find(|slug| {
                s[slug.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
            })
            .map(String::as_str)
    }

    fn uses_dotted(&self) -> bool {
        self.dotted
    }

    /// Defined IDs from `a` to `b` (same family, same depth). When the
    /// document defines none of them, the two ends as written.
    fn range(&self, a: &str, b: &str) -> Vec<String> {
        // `#12` and Kiro `12` share a numeric key; the `#` tells them apart.
        let issue = a.starts_with('#');
        let (pa, na, _) = numeric_key(a);
        let (pb, nb, _) = numeric_key(b);
        let found: Vec<String> = if pa != pb || na.len() != nb.len() || na.is_empty() {
            Vec::new()
        } else {
            let depth = na.len();
            self.order
                .iter()
                .filter(|id| {
                    let (p, n, _) = numeric_key(id);
                    id.starts_with('#') == issue
                        && p == pa
                        && n.len() == depth
                        && n[..depth - 1] == na[..depth - 1]
                        && n[depth - 1] >= na[depth - 1]
                        && n[depth - 1] <= nb[depth - 1]
                })
                .cloned()
                .collect()
        };
        if found.is_empty() {
            vec![a.to_string(), b.to_string()]
        } else {
            found
        }
    }
}

/// Every task ID `text` refers to, in order, with ranges (`T003–T010`,
/// `Tasks 35-36`, `#12/#13`) expanded to the IDs the document defines.
/// Bare numbers count only after the word "task" or in a list that follows it.
pub fn references(text: &str, known: &Known) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    let mut numeric_run_end: Option<usize> = None;
    while i < b.len() {
        if !starts_token(text, i) {
            i += 1;
            continue;
        }
        if let Some(t) = lexical_id(&text[i..]) {
            let (ids, used) = with_range(text, i, &t, known);
            push_all(&mut out, ids);
            i += used;
            continue;
        }
        if let Some(slug) = known.slug_at(&text[i..]) {
            push_all(&mut out, vec![slug.to_string()]);
            i += slug.len();
            continue;
        }
        if b[i].is_ascii_digit() && known.uses_dotted() {
            let allowed = numeric_run_end.is_some_and(|e| only_separators(&text[e..i]))
                || after_task_word(&text[..i]);
            if let Some((id, len)) = dotted_number(&text[i..])
                && (allowed || (id.contains('.') && known.contains(&id)))
            {
                let t = Token {
                    id,
                    scheme: Scheme::Dotted,
                    len,
                };
                let (ids, used) = with_range(text, i, &t, known);
                push_all(&mut out, ids);
                i += used;
                numeric_run_end = Some(i);
                continue;
            }
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

fn push_all(out: &mut Vec<String>, ids: Vec<String>) {
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
}

fn only_separators(s: &str) -> bool {
    s.split_whitespace()
        .all(|w| matches!(w.trim_matches(','), "" | "&" | "and" | "or" | "/" | "+"))
}

fn after_task_word(before: &str) -> bool {
    let t = before.trim_end().trim_end_matches('#').trim_end();
    let lower = t.to_ascii_lowercase();
    (lower.ends_with("task") || lower.ends_with("tasks"))
        && !lower
            .trim_end_matches('s')
            .trim_end_matches("task")
            .ends_with(|c: char| c.is_alphanumeric())
}

/// `t` found at `at`; if a range follows (`–T010`, ` to T010`, `-36`), the
/// IDs it spans. Returns the IDs and the bytes consumed.
fn with_range(text: &str, at: usize, t: &Token, known: &Known) -> (Vec<String>, usize) {
    let after = &text[at + t.len..];
    let trimmed = after.trim_start();
    let mut rest = None;
    for sep in ["–", "—", "-", "..", "to ", "through "] {
        if let Some(r) = trimmed.strip_prefix(sep) {
            rest = Some(r.trim_start());
            break;
        }
    }
    let Some(rest) = rest else {
        return (vec![t.id.clone()], t.len);
    };
    let offset = text.len() - rest.len();
    let end = match &t.scheme {
        Scheme::Dotted => dotted_number(rest),
        _ => lexical_id(rest)
            .filter(|e| e.scheme == t.scheme)
            .map(|e| (e.id, e.len))
            .or_else(|| {
                // `T003–010`: the end written as a bare number.
                let n = digits(rest.as_bytes(), 0);
                let (prefix, _, _) = numeric_key(&t.id);
                (n > 0 && ends_token(rest.as_bytes(), n) && !prefix.is_empty())
                    .then(|| (format!("{prefix}{}", &rest[..n]), n))
            }),
    };
    match end {
        Some((end_id, len)) if end_id != t.id => (known.range(&t.id, &end_id), offset + len - at),
        _ => (vec![t.id.clone()], t.len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Option<String> {
        lexical_id(s).map(|t| t.id)
    }

    #[test]
    fn lexical_shapes() {
        assert_eq!(id("TASK-001: x"), Some("TASK-001".into()));
        assert_eq!(id("TASK-1000"), Some("TASK-1000".into()));
        assert_eq!(id("M2-010a,"), Some("M2-010a".into()));
        assert_eq!(id("T001 [P]"), Some("T001".into()));
        assert_eq!(id("#8824)"), Some("#8824".into()));
        assert_eq!(id("TASK-XXX"), None);
        assert_eq!(id("TASK-000"), None);
        assert_eq!(id("REQ-001"), None);
        assert_eq!(id("NFR-PERF-004"), None);
        assert_eq!(id("FR-012"), None);
        assert_eq!(id("P1"), None);
        assert_eq!(id("S01"), None);
        assert_eq!(id("M1-00X"), None);
    }

    #[test]
    fn dotted_needs_a_dot_when_alone() {
        assert_eq!(dotted_id("1. Set up").map(|t| t.id), Some("1".into()));
        assert_eq!(dotted_id("10.2a Do").map(|t| t.id), Some("10.2a".into()));
        assert_eq!(dotted_id("3.10 Do").map(|t| t.id), Some("3.10".into()));
        assert_eq!(dotted_id("2 reviewers"), None);
        assert_eq!(dotted_id("2024-01-01"), None);
    }

    #[test]
    fn ranges_expand_to_defined_ids_only() {
        let mut k = Known::default();
        for i in [3, 4, 5, 7] {
            k.add(&format!("T{i:03}"), &Scheme::Glued("T".into()));
        }
        assert_eq!(
            references("Tests (T003–T010) before T012", &k),
            ["T003", "T004", "T005", "T007", "T012"]
        );
        assert_eq!(
            references("T021 depends on T017 & T019", &k),
            ["T021", "T017", "T019"]
        );
    }

    #[test]
    fn bare_numbers_need_the_word_task() {
        let mut k = Known::default();
        for i in ["35", "36", "2.1"] {
            k.add(i, &Scheme::Dotted);
        }
        assert_eq!(references("after Tasks 35-36", &k), ["35", "36"]);
        assert_eq!(references("after 35 minutes", &k), Vec::<String>::new());
        assert_eq!(references("requires 2.1 and task 36", &k), ["2.1", "36"]);
    }

    #[test]
    fn numeric_key_orders_naturally() {
        assert!(numeric_key("3.9") < numeric_key("3.10"));
        assert!(numeric_key("10.2") < numeric_key("10.2a"));
        assert!(numeric_key("10.2a") < numeric_key("10.3"));
    }
}
