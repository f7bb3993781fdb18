//! Labels: the leading token run of a unit (`T012`, `Task 3`, `Phase 7.1`,
//! `2a.3`, `#204`, `Schritt 5`) and its shape, which is what makes units
//! one family. Nothing here knows a format's vocabulary: a unit word is any
//! capitalised word (in any script) followed by a number.

/// What a label looks like once its particular values are set aside. Units
/// whose labels share a shape (and a structural kind) are one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// `TASK-001`, `M1-001`: a capitalised prefix, `-`, a number. The key
    /// folds digits in the prefix to `#`, so `M0-…` and `M1-…` are one family.
    Prefixed(String),
    /// `T001`: one to three capitals glued to three or more digits.
    Glued(String),
    /// `#123`: an issue or pull-request number.
    Issue,
    /// A number, perhaps after a unit word: `2.3`, `Task 3`, `Phase 7.1`,
    /// `Schritt 3b`. Holds the word lower-cased, empty for a bare number.
    Numbered(String),
    /// A slug in a table column headed "ID".
    Slug,
    /// The `id` attribute of a `<task>` element.
    Attribute,
    /// No label at all: the reader numbers such units itself.
    Generated,
}

impl Shape {
    /// How the shape reads in a reason: "`Task` numbers", "`T###` IDs".
    pub fn describe(&self) -> String {
        match self {
            Shape::Prefixed(k) => format!("`{k}###` IDs"),
            Shape::Glued(k) => format!("`{k}###` IDs"),
            Shape::Issue => "issue numbers (`#123`)".into(),
            Shape::Numbered(w) if w.is_empty() => "numbers (`1.2`)".into(),
            Shape::Numbered(w) => format!("`{}` numbers", capitalised(w)),
            Shape::Slug => "slugs in an ID column".into(),
            Shape::Attribute => "`<task id=…>` elements".into(),
            Shape::Generated => "items without IDs".into(),
        }
    }

    /// The unit word of a numbered shape (`task` for `Task 3`).
    pub fn word(&self) -> Option<&str> {
        match self {
            Shape::Numbered(w) if !w.is_empty() => Some(w),
            _ => None,
        }
    }
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A unit's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The ID: `T012`, `3` for `Task 3`, `7.1` for `Phase 7.1`, `#204`.
    pub id: String,
    /// The unit word as written (`Task`, `FASE`), if the label has one.
    pub word: Option<String>,
    pub shape: Shape,
    /// Bytes of the input the label took.
    pub len: usize,
}

impl Label {
    /// The label as a reader writes it: `Task 3`, `T012`.
    pub fn display(&self) -> String {
        match &self.word {
            Some(w) => format!("{w} {}", self.id),
            None => self.id.clone(),
        }
    }
}

/// Prefixes of requirement, story and standard identifiers: never task IDs.
pub const NOT_TASK_PREFIXES: &[&str] = &[
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
    b[from.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// After an ID: end of text or a character that cannot continue it.
fn ends_token(b: &[u8], at: usize) -> bool {
    match b.get(at) {
        None => true,
        // `TASK-001-2` would be a longer token, not `TASK-001`.
        Some(&c) => !(is_word(c) || c == b'-' && b.get(at + 1).is_some_and(u8::is_ascii_digit)),
    }
}

/// An ID of a lexically recognisable shape (`TASK-001`, `T001`, `#12`) at
/// the start of `s`. Requirement prefixes are refused.
pub fn lexical(s: &str) -> Option<Label> {
    let b = s.as_bytes();
    if b.first() == Some(&b'#') {
        let n = digits(b, 1);
        if (1..=7).contains(&n) && ends_token(b, 1 + n) {
            return Some(Label {
                id: s[..1 + n].to_string(),
                word: None,
                shape: Shape::Issue,
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

fn prefixed(s: &str) -> Option<Label> {
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
    if n == 0 || n > 6 {
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
    Some(Label {
        id: s[..end].to_string(),
        word: None,
        shape: Shape::Prefixed(key),
        len: end,
    })
}

fn glued(s: &str) -> Option<Label> {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=3).contains(&letters) {
        return None;
    }
    let n = digits(b, letters);
    if !(3..=6).contains(&n) {
        return None;
    }
    let mut end = letters + n;
    if b.get(end).is_some_and(u8::is_ascii_lowercase) && ends_token(b, end + 1) {
        end += 1;
    }
    if !ends_token(b, end) || NOT_TASK_PREFIXES.contains(&&s[..letters]) {
        return None;
    }
    Some(Label {
        id: s[..end].to_string(),
        word: None,
        shape: Shape::Glued(s[..letters].to_string()),
        len: end,
    })
}

/// `2`, `2.3`, `2a.1`, `10.2a`, `09.1.1` at the start of `s` (no trailing
/// dot), and its length. A letter may follow a segment's digits.
pub fn number(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        let n = digits(b, i);
        if n == 0 || n > 4 {
            return None;
        }
        i += n;
        if b.get(i).is_some_and(u8::is_ascii_lowercase)
            && !b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic())
        {
            i += 1;
        }
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    if b.get(i).is_some_and(|c| is_word(*c)) {
        return None;
    }
    Some((s[..i].to_string(), i))
}

/// A bare number where a unit starts: `1. `, `2.3 `, `2a.1 `, `10.2a:`.
/// A lone number needs its trailing dot, so "- [ ] 2 reviewers" is no label.
fn bare(s: &str) -> Option<Label> {
    let (id, len) = number(s)?;
    let b = s.as_bytes();
    let mut end = len;
    if matches!(b.get(end), Some(b'.' | b')')) {
        end += 1;
    } else if !id.contains('.') {
        return None;
    }
    match b.get(end) {
        None => {}
        Some(c) if c.is_ascii_whitespace() || b":)]*_`".contains(c) => {}
        _ => return None,
    }
    Some(Label {
        id,
        word: None,
        shape: Shape::Numbered(String::new()),
        len: end,
    })
}

/// The end of a word label's number: the text must not go on as prose
/// ("Add 2 reviewers"), so what follows is punctuation, a mark, or nothing.
fn label_ends(rest: &str) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        None => true,
        Some(' ' | '\t') => chars
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && !matches!(c, '-' | '–' | '.')),
        Some('-' | '–') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        Some(c) => !c.is_alphanumeric() && c != '/',
    }
}

/// A unit word: a capitalised word of letters (`Task`, `FASE`, `Étape`), or
/// a word in a script without capitals (`阶段`).
fn unit_word(s: &str) -> Option<usize> {
    let end = s.find(|c: char| !c.is_alphabetic()).unwrap_or(s.len());
    let word = &s[..end];
    let first = word.chars().next()?;
    let count = word.chars().count();
    let caseless = !first.is_lowercase() && !first.is_uppercase();
    let ok = (2..=20).contains(&count) && (first.is_uppercase() || caseless);
    ok.then_some(end)
}

/// `Task 3`, `Phase 7.1`, `Schritt 3b`, `Task ID: 4`, `Issue #12`, `阶段1`.
fn worded(s: &str) -> Option<Label> {
    let wend = unit_word(s)?;
    let word = &s[..wend];
    let caseless = word.chars().next().is_some_and(|c| !c.is_uppercase());
    let mut at = wend;
    let after = &s[at..];
    let spaced = after.starts_with(' ');
    if spaced {
        at += 1;
    } else if !(caseless && after.starts_with(|c: char| c.is_ascii_digit())) {
        return None;
    }
    // `Task ID: 4`, `Task #4`
    for lead in ["ID: ", "ID ", "id: ", "No. "] {
        if s[at..].starts_with(lead)
            && s[at + lead.len()..].starts_with(|c: char| c.is_ascii_digit())
        {
            at += lead.len();
            break;
        }
    }
    if let Some(rest) = s[at..].strip_prefix('#')
        && let Some(issue) = lexical(&s[at..])
        && label_ends(&rest[issue.len - 1..])
    {
        return Some(Label {
            len: at + issue.len,
            ..issue
        });
    }
    let (id, len) = number(&s[at..])?;
    let end = at + len;
    // A trailing dot ends the number ("Phase 3." as in "Phase 3. Setup").
    let end = if s[end..].starts_with(". ") || &s[end..] == "." {
        end + 1
    } else {
        end
    };
    if !label_ends(&s[end..]) {
        return None;
    }
    Some(Label {
        id,
        word: Some(word.to_string()),
        shape: Shape::Numbered(word.to_lowercase()),
        len: end,
    })
}

/// The label at the start of a unit's text (markup already stripped), if
/// it has one.
pub fn at_start(s: &str) -> Option<Label> {
    lexical(s).or_else(|| worded(s)).or_else(|| bare(s))
}

/// Prefixes a short ID (`T1`) never has: milestones (`M1`) and priorities
/// (`P1`) are written that way too.
const NOT_SHORT_PREFIXES: &[&str] = &["M", "P", "V"];

/// A short ID where a checklist item starts (`- [ ] **T1. Author …**`,
/// `S2:`): one to three capitals and one or two digits, then a separator.
/// Only at the start of an item: in prose `T1` is too often something else.
pub fn short(s: &str) -> Option<Label> {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let n = digits(b, letters);
    if !(1..=3).contains(&letters) || !(1..=2).contains(&n) {
        return None;
    }
    let mut end = letters + n;
    if b.get(end).is_some_and(u8::is_ascii_lowercase)
        && !b.get(end + 1).is_some_and(|c| is_word(*c))
    {
        end += 1;
    }
    let prefix = &s[..letters];
    if NOT_TASK_PREFIXES.contains(&prefix) || NOT_SHORT_PREFIXES.contains(&prefix) {
        return None;
    }
    let sep = matches!(b.get(end), Some(b'.' | b':' | b')' | b'*'))
        || s[end..].starts_with(" —")
        || s[end..].starts_with(" – ")
        || s[end..].starts_with(" - ");
    sep.then(|| Label {
        id: s[..end].to_string(),
        word: None,
        shape: Shape::Glued(prefix.to_string()),
        len: end,
    })
}

/// The label of a table cell in an ID column headed `header`: an ID, or a
/// number (the header's word, if it is one, is the number's unit word:
/// a "Phase" column of `1`, `2`, `3.1.` gives `Phase 1`, …).
pub fn in_cell(cell: &str, header: &str) -> Option<Label> {
    if let Some(l) = lexical(cell) {
        return Some(l);
    }
    let (id, len) = number(cell)?;
    let rest = cell[len..].trim_start_matches(['.', ')']);
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let word = header_word(header);
    Some(Label {
        id,
        shape: Shape::Numbered(word.map(str::to_lowercase).unwrap_or_default()),
        word: word.map(capitalised),
        len,
    })
}

/// The longest task ID, in characters: a slug in an ID column, or any
/// token there. An ID names a ref and a log file, and is typed by people.
pub const MAX_ID_CHARS: usize = 64;

/// Most digits in one part of a task number (`Task 1234`, `2.1234`).
const MAX_NUMBER_DIGITS: usize = 4;

/// A label at the start of `s` that would be one but for its length, and
/// why it is not: a unit word and a number of more than 4 digits (`Task
/// 99999`). The reader leaves such a unit out and says so, rather than not
/// seeing it.
pub fn too_long(s: &str) -> Option<(Label, String)> {
    let wend = unit_word(s)?;
    let at = wend + usize::from(s[wend..].starts_with(' '));
    let n = digits(s.as_bytes(), at);
    if n <= MAX_NUMBER_DIGITS || !label_ends(&s[at + n..]) {
        return None;
    }
    let word = &s[..wend];
    let label = Label {
        id: s[at..at + n].to_string(),
        word: Some(word.to_string()),
        shape: Shape::Numbered(word.to_lowercase()),
        len: at + n,
    };
    let why = format!(
        "its number has {n} digits, more than the {MAX_NUMBER_DIGITS} a task number may have"
    );
    Some((label, why))
}

/// A token in an ID column too long to be an ID (over [`MAX_ID_CHARS`]),
/// as a label of `shape` (the column's other IDs'), and why it is left out.
pub fn too_long_in_cell(cell: &str, shape: Shape) -> Option<(Label, String)> {
    let token = cell.trim_matches(|c| c == '`' || c == '*').trim();
    let n = token.chars().count();
    if n <= MAX_ID_CHARS || token.contains(char::is_whitespace) {
        return None;
    }
    let label = Label {
        id: token.to_string(),
        word: None,
        shape,
        len: token.len(),
    };
    let why = format!("its ID is {n} characters long, more than the {MAX_ID_CHARS} an ID may have");
    Some((label, why))
}

/// A column header that is a unit word ("Phase", "Fase", "Step").
fn header_word(header: &str) -> Option<&str> {
    let h = header.trim();
    let plain = h.chars().all(char::is_alphabetic) && h.chars().count() >= 2;
    let generic = ["id", "no", "nr", "number", "order", "key"].contains(&h);
    (plain && !generic).then_some(h)
}

/// The comparable form of an ID within its family: lower case, and each
/// number without leading zeros, so `Phase 09.1` and `Phase 9.1` are one.
pub fn key(id: &str) -> String {
    let lower = id.to_lowercase();
    if !lower.starts_with(|c: char| c.is_ascii_digit()) {
        return lower;
    }
    lower
        .split('.')
        .map(|seg| {
            let t = seg.trim_start_matches('0');
            if t.is_empty() || !t.starts_with(|c: char| c.is_ascii_digit()) {
                format!("0{t}")
            } else {
                t.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The ID a number-and-letters ID extends: `2` for `2.3`, `2a` for `2a.1`.
pub fn parent_number(id: &str) -> Option<&str> {
    id.rsplit_once('.').map(|(p, _)| p)
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
        .split('.')
        .map(|p| p.trim_end_matches(|c: char| c.is_ascii_lowercase()))
        .filter_map(|p| p.parse().ok())
        .collect();
    (prefix.to_string(), nums, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(s: &str) -> Option<(String, Option<String>, Shape)> {
        at_start(s).map(|l| (l.id, l.word, l.shape))
    }

    fn id(s: &str) -> Option<String> {
        at_start(s).map(|l| l.display())
    }

    #[test]
    fn lexical_shapes() {
        assert_eq!(id("TASK-001: x"), Some("TASK-001".into()));
        assert_eq!(id("TASK-1000"), Some("TASK-1000".into()));
        assert_eq!(id("TASK-000 placeholder"), Some("TASK-000".into()));
        assert_eq!(id("M2-010a,"), Some("M2-010a".into()));
        assert_eq!(id("T001 [P]"), Some("T001".into()));
        assert_eq!(id("#8824)"), Some("#8824".into()));
        assert_eq!(id("TASK-XXX"), None);
        assert_eq!(id("REQ-001"), None);
        assert_eq!(id("NFR-PERF-004"), None);
        assert_eq!(id("FR-012"), None);
        assert_eq!(id("P1"), None);
        assert_eq!(id("M1-00X"), None);
    }

    #[test]
    fn unit_words_in_any_language() {
        for (text, want) in [
            ("Task 3: Wire the route", "Task 3"),
            ("Task 10a … more", "Task 10a"),
            ("Phase 7.1: Search index", "Phase 7.1"),
            ("Phase 09.1.1: Helm (INSERTED)", "Phase 09.1.1"),
            ("Schritt 5 ✅ — Overlays", "Schritt 5"),
            ("FASE 0 — Critical fixes", "FASE 0"),
            ("Étape 2 : Données", "Étape 2"),
            ("阶段1：准备", "阶段 1"),
            ("Task ID: 4", "Task 4"),
            ("Task 0.5", "Task 0.5"),
        ] {
            assert_eq!(id(text).as_deref(), Some(want), "{text}");
        }
        for text in [
            "Add 2 reviewers",
            "Phase 1-3 recap",
            "Update 3rd party",
            "v1.0 MVP",
            "the 3 tasks",
        ] {
            assert_eq!(id(text), None, "{text}");
        }
        assert_eq!(
            label("Task 3: x"),
            Some((
                "3".into(),
                Some("Task".into()),
                Shape::Numbered("task".into())
            ))
        );
    }

    #[test]
    fn short_ids_where_an_item_starts() {
        let short_id = |s: &str| short(s).map(|l| l.id);
        assert_eq!(short_id("T1. Author the module"), Some("T1".into()));
        assert_eq!(short_id("S12: Wrap the state"), Some("S12".into()));
        assert_eq!(short_id("T2a. Split"), Some("T2a".into()));
        for s in [
            "M1: Setup",
            "P1 Fix the crash",
            "AC1: Login",
            "T1 and T2",
            "T123. x",
        ] {
            assert_eq!(short(s), None, "{s}");
        }
    }

    #[test]
    fn bare_numbers_need_a_dot_when_alone() {
        assert_eq!(id("1. Set up"), Some("1".into()));
        assert_eq!(id("10.2a Do"), Some("10.2a".into()));
        assert_eq!(id("2a.3 Red: x"), Some("2a.3".into()));
        assert_eq!(id("2a. Authorization"), Some("2a".into()));
        assert_eq!(id("3.10 Do"), Some("3.10".into()));
        assert_eq!(id("2 reviewers"), None);
        assert_eq!(id("2024-01-01"), None);
    }

    #[test]
    fn cells_take_their_headers_word() {
        let l = in_cell("3.1. Person contact type", "phase").unwrap();
        assert_eq!(
            (l.display(), l.shape),
            ("Phase 3.1".into(), Shape::Numbered("phase".into()))
        );
        assert_eq!(in_cell("5", "#").unwrap().display(), "5");
        assert_eq!(in_cell("[#204](u)", "issue"), None);
        assert_eq!(in_cell("#204", "issue").unwrap().id, "#204");
        assert_eq!(in_cell("1/12", "pr"), None);
    }

    #[test]
    fn keys_ignore_case_and_leading_zeros() {
        assert_eq!(key("09.1"), key("9.1"));
        assert_eq!(key("06"), "6");
        assert_eq!(key("0.5"), "0.5");
        assert_eq!(key("14a"), "14a");
        assert_ne!(key("1.10"), key("1.1"));
    }

    #[test]
    fn numeric_key_orders_naturally() {
        assert!(numeric_key("3.9") < numeric_key("3.10"));
        assert!(numeric_key("10.2") < numeric_key("10.2a"));
        assert!(numeric_key("10.2a") < numeric_key("10.3"));
    }
}
