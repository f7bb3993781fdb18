//! References to tasks in prose and cells: IDs, ranges (`T003–T010`,
//! `Tasks 35-36`, `Phases 14-16`), lists after a unit word (`Tasks 1a/1b`),
//! and a table's other numbering (`PR 5–8`). Ranges expand only to IDs the
//! document defines, in O(log n + k) each.

use std::collections::{HashMap, HashSet};

use super::label::{self, Shape, key, numeric_key, starts_token};

/// The task IDs a text refers to: tasks of the family by index (a range of
/// thousands costs four bytes each), other IDs as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs {
    pub tasks: Vec<u32>,
    pub external: Vec<String>,
    /// Where the first reference starts, and the task it names, if any.
    pub first: Option<(usize, Option<u32>)>,
}

impl Refs {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.external.is_empty()
    }
}

/// The IDs of the milestone's task family, for resolving references.
#[derive(Debug, Default)]
pub struct Known {
    shape: Option<Shape>,
    /// The family's unit word, lower-cased (`task`, `phase`).
    word: Option<String>,
    ids: Vec<String>,
    by_key: HashMap<String, u32>,
    /// (prefix, numbers, suffix, index), sorted: ranges are slices of it.
    /// Prefixes are interned (`prefixes`), so a range compares integers.
    sorted: Vec<(u32, Vec<u32>, String, u32)>,
    prefixes: Vec<String>,
    /// A table's other numbering: (header word, number key) → index.
    aliases: HashMap<(String, String), u32>,
    /// Names the document gives tasks: "Database migrations (T008)" makes
    /// "migrations" name T008. `None` when a name was given to two tasks.
    names: HashMap<String, Option<u32>>,
    slugs: Vec<(String, u32)>,
}

impl Known {
    pub fn new(shape: Shape) -> Known {
        Known {
            word: shape.word().map(str::to_string),
            shape: Some(shape),
            ..Known::default()
        }
    }

    /// Add a task ID; returns its index.
    pub fn add(&mut self, id: &str) -> u32 {
        let k = key(id);
        if let Some(&i) = self.by_key.get(&k) {
            return i;
        }
        let i = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.push(id.to_string());
        self.by_key.insert(k, i);
        let (p, n, s) = numeric_key(id);
        let p = self.prefix(&p.to_lowercase());
        self.sorted.push((p, n, s, i));
        if self.shape == Some(Shape::Slug) {
            self.slugs.push((id.to_string(), i));
        }
        i
    }

    fn prefix(&mut self, p: &str) -> u32 {
        match self.prefixes.iter().position(|x| x == p) {
            Some(i) => i as u32,
            None => {
                self.prefixes.push(p.to_string());
                self.prefixes.len() as u32 - 1
            }
        }
    }

    /// `PR 5` names the task whose row has 5 in its "PR" column.
    pub fn add_alias(&mut self, word: &str, number: &str, task: u32) {
        self.aliases
            .entry((word.to_lowercase(), key(number)))
            .or_insert(task);
    }

    /// Read the names a text gives tasks: words right before a parenthesis
    /// that holds one task's ID and nothing else.
    pub fn learn_names(&mut self, text: &str) {
        let mut from = 0;
        while let Some(open) = text[from..].find('(').map(|i| from + i) {
            from = open + 1;
            let Some(close) = text[open..].find(')').map(|i| open + i) else {
                break;
            };
            let inner = text[open + 1..close].trim();
            let refs = references(inner, self);
            let Some(l) = super::label::lexical(inner).or_else(|| super::label::at_start(inner))
            else {
                continue;
            };
            if refs.tasks.len() != 1 || !refs.external.is_empty() || l.len != inner.len() {
                continue;
            }
            let words: Vec<String> = text[..open]
                .trim_end()
                .rsplit(|c: char| !c.is_alphanumeric() && c != '-')
                .take_while(|w| !w.is_empty())
                .take(2)
                .map(str::to_lowercase)
                .collect();
            let t = refs.tasks[0];
            if let Some(last) = words.first().filter(|w| w.chars().count() >= 4) {
                self.name(last.clone(), t);
                if let Some(before) = words.get(1).filter(|w| w.chars().count() >= 3) {
                    self.name(format!("{before} {last}"), t);
                }
            }
        }
    }

    fn name(&mut self, name: String, task: u32) {
        let e = self.names.entry(name).or_insert(Some(task));
        if *e != Some(task) {
            *e = None;
        }
    }

    /// The task a phrase names ("migrations until decided" names the task
    /// the document called "migrations"), by its first word or two.
    pub fn named(&self, phrase: &str) -> Option<u32> {
        if self.names.is_empty() {
            return None;
        }
        let words: Vec<String> = phrase
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .skip_while(|w| ["the", "a", "an", "all", "any"].contains(&w.as_str()))
            .take(2)
            .collect();
        let two = (words.len() == 2).then(|| words.join(" "));
        two.and_then(|t| self.names.get(&t).copied().flatten())
            .or_else(|| {
                words
                    .first()
                    .and_then(|w| self.names.get(w).copied().flatten())
            })
    }

    /// Sort once after adding every ID.
    pub fn seal(&mut self) {
        self.sorted.sort();
        self.slugs.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    }

    pub fn index(&self, id: &str) -> Option<u32> {
        self.by_key.get(&key(id)).copied()
    }

    pub fn id(&self, i: u32) -> &str {
        &self.ids[i as usize]
    }

    /// Whether bare numbers can name the family's tasks: numbered labels,
    /// or `<task>` elements named `Task 1a`.
    fn numbered(&self) -> bool {
        matches!(self.shape, Some(Shape::Numbered(_)))
            || self
                .ids
                .iter()
                .any(|i| i.starts_with(|c: char| c.is_ascii_digit()))
    }

    /// Family IDs from `a` to `b` (same prefix, same depth), by number.
    fn range(&self, a: &str, b: &str) -> Vec<u32> {
        let (pa, na, sa) = numeric_key(a);
        let (pb, nb, _) = numeric_key(b);
        let (pa, pb) = (pa.to_lowercase(), pb.to_lowercase());
        if pa != pb || na.len() != nb.len() || na.is_empty() || na > nb {
            return Vec::new();
        }
        let Some(pa) = self
            .prefixes
            .iter()
            .position(|x| *x == pa)
            .map(|i| i as u32)
        else {
            return Vec::new();
        };
        let depth = na.len();
        let from = self
            .sorted
            .partition_point(|(p, n, s, _)| (*p, n, s) < (pa, &na, &sa));
        // Sorted entries up to `b`, then those that extend `b` (`2.7.1`
        // after `2.7`), then the rest: the span ends at the rest.
        let to = self.sorted.partition_point(|(p, n, _, _)| {
            *p < pa || *p == pa && (n[..] <= nb[..] || n.starts_with(&nb))
        });
        let span = &self.sorted[from..to.max(from)];
        if depth == 1 {
            return span
                .iter()
                .filter(|e| e.1.len() == 1)
                .map(|e| e.3)
                .collect();
        }
        span.iter()
            .filter(|(_, n, _, _)| n.len() == depth && n[..depth - 1] == na[..depth - 1])
            .map(|e| e.3)
            .collect()
    }

    fn slug_at(&self, s: &str) -> Option<(&str, u32)> {
        self.slugs
            .iter()
            .filter(|(slug, _)| s.starts_with(slug.as_str()))
            .find(|(slug, _)| {
                s[slug.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'))
            })
            .map(|(s, i)| (s.as_str(), *i))
    }
}

/// Every task a text refers to, in order, each once.
pub fn references(text: &str, known: &Known) -> Refs {
    read_refs(text, known, false)
}

/// [`references`] in a dependency field's value (`Dependencies: 6, 7`),
/// where bare numbers are IDs without a unit word before them.
pub fn field_references(text: &str, known: &Known) -> Refs {
    read_refs(text, known, true)
}

fn read_refs(text: &str, known: &Known, bare: bool) -> Refs {
    let mut r = Reader {
        text,
        known,
        bare,
        out: Refs::default(),
        seen: Vec::new(),
        seen_ids: HashSet::new(),
        run_end: None,
    };
    r.read();
    r.out
}

struct Reader<'t, 'k> {
    text: &'t str,
    known: &'k Known,
    /// Bare numbers are references without a unit word.
    bare: bool,
    out: Refs,
    /// A bit per family task: a range of thousands is checked in place.
    seen: Vec<u64>,
    seen_ids: HashSet<String>,
    /// Where the last bare number after a unit word ended: `Tasks 35, 36`.
    run_end: Option<usize>,
}

impl Reader<'_, '_> {
    fn read(&mut self) {
        let text = self.text;
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // `14a/14b` after a unit word: the number after the slash
            // continues the run.
            let continues = self.run_end == Some(i.wrapping_sub(1))
                && b[i].is_ascii_digit()
                && i > 0
                && b[i - 1] == b'/';
            if !starts_token(text, i) && !continues {
                i += 1;
                continue;
            }
            if let Some(used) = self.at(i) {
                i += used.max(1);
            } else {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }

    /// A reference starting at byte `i`: the bytes it took.
    fn at(&mut self, i: usize) -> Option<usize> {
        let text = self.text;
        if let Some(l) = label::lexical(&text[i..]) {
            return Some(self.with_range(i, &l.id, l.len, false));
        }
        // `T1` when the family's IDs are short (`- [ ] **T1. …**`).
        if let Some(l) = self.short_id(i) {
            return Some(self.with_range(i, &l.id, l.len, false));
        }
        if let Some((slug, idx)) = self.known.slug_at(&text[i..]) {
            self.push(Some(idx), slug, i);
            return Some(slug.len());
        }
        if let Some(used) = self.alias(i) {
            return Some(used);
        }
        let b = text.as_bytes();
        if b[i].is_ascii_digit() && self.known.numbered() {
            let allowed = self.bare
                || self.run_end.is_some_and(|e| only_separators(&text[e..i]))
                || after_unit_word(&text[..i], self.known.word.as_deref());
            if let Some((id, len)) = label::number(&text[i..])
                && (allowed || (id.contains('.') && self.known.index(&id).is_some()))
            {
                let used = self.with_range(i, &id, len, true);
                self.run_end = Some(i + used);
                return Some(used);
            }
        }
        None
    }

    /// A short ID (`T1`, `S12`) that names one of the family's tasks.
    fn short_id(&self, i: usize) -> Option<super::label::Label> {
        if !matches!(self.known.shape, Some(Shape::Glued(_))) {
            return None;
        }
        let b = self.text.as_bytes();
        let letters = b[i..].iter().take_while(|c| c.is_ascii_uppercase()).count();
        let n = b[i + letters..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let end = i + letters + n;
        let bounded = !b.get(end).is_some_and(|c| c.is_ascii_alphanumeric());
        let id = &self.text[i..end];
        (letters > 0 && (1..=2).contains(&n) && bounded && self.known.index(id).is_some()).then(
            || super::label::Label {
                id: id.to_string(),
                word: None,
                shape: Shape::Glued(id[..letters].to_string()),
                len: letters + n,
            },
        )
    }

    fn push(&mut self, task: Option<u32>, id: &str, at: usize) {
        if self.out.first.is_none() {
            self.out.first = Some((at, task));
        }
        match task {
            Some(t) => {
                let (word, bit) = (t as usize / 64, 1u64 << (t % 64));
                if self.seen.len() <= word {
                    self.seen
                        .resize(self.known.ids.len().div_ceil(64).max(word + 1), 0);
                }
                if self.seen[word] & bit == 0 {
                    self.seen[word] |= bit;
                    self.out.tasks.push(t);
                }
            }
            None => {
                if self.seen_ids.insert(id.to_string()) {
                    self.out.external.push(id.to_string());
                }
            }
        }
    }

    fn push_id(&mut self, id: &str, at: usize) {
        let task = self.known.index(id);
        self.push(task, id, at);
    }

    /// `id` found at `at`; if a range follows (`–T010`, ` to T010`, `-36`),
    /// the family IDs it spans. Returns the bytes consumed.
    fn with_range(&mut self, at: usize, id: &str, len: usize, numbered: bool) -> usize {
        let text = self.text;
        let after = &text[at + len..];
        let trimmed = after.trim_start();
        let rest = ["–", "—", "-", "..", "to ", "through ", "bis "]
            .iter()
            .find_map(|sep| trimmed.strip_prefix(sep))
            .map(str::trim_start);
        let Some(rest) = rest else {
            self.push_id(id, at);
            return len;
        };
        let offset = text.len() - rest.len();
        let end = if numbered {
            label::number(rest)
        } else {
            label::lexical(rest)
                .filter(|e| numeric_key(&e.id).0 == numeric_key(id).0)
                .map(|e| (e.id, e.len))
                .or_else(|| {
                    // `T003–010`: the end written as a bare number.
                    let (n, l) = label::number(rest)?;
                    let (prefix, _, _) = numeric_key(id);
                    (!prefix.is_empty() && !n.contains('.')).then(|| (format!("{prefix}{n}"), l))
                })
        };
        match end {
            Some((end_id, l)) if key(&end_id) != key(id) => {
                let span = self.known.range(id, &end_id);
                if span.is_empty() {
                    self.push_id(id, at);
                    self.push_id(&end_id, offset);
                } else {
                    for t in span {
                        self.push(Some(t), "", at);
                    }
                }
                offset + l - at
            }
            _ => {
                self.push_id(id, at);
                len
            }
        }
    }

    /// `PR 5`, `PR 5–8`, `PR 2, PR 4`: a table's other numbering.
    fn alias(&mut self, i: usize) -> Option<usize> {
        if self.known.aliases.is_empty() {
            return None;
        }
        let text = self.text;
        let word_len = text[i..]
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(text.len() - i);
        if word_len == 0 {
            return None;
        }
        let word = text[i..i + word_len].to_lowercase();
        let rest = text[i + word_len..].strip_prefix(' ')?;
        let (a, la) = label::number(rest)?;
        let task = |n: &str| self.known.aliases.get(&(word.clone(), key(n))).copied();
        task(&a)?;
        let mut used = word_len + 1 + la;
        let mut found = vec![a.clone()];
        let after = &rest[la..];
        if let Some(r) = ["–", "—", "-"].iter().find_map(|s| after.strip_prefix(s))
            && let Some((b, lb)) = label::number(r)
            && let (Ok(x), Ok(y)) = (a.parse::<u32>(), b.parse::<u32>())
            && x < y
            && y - x < 1000
        {
            found = (x..=y).map(|n| n.to_string()).collect();
            used += after.len() - r.len() + lb;
        }
        for n in found {
            if let Some(t) = task(&n) {
                self.push(Some(t), "", i);
            }
        }
        Some(used)
    }
}

fn only_separators(s: &str) -> bool {
    s.split_whitespace().all(|w| {
        matches!(
            w.trim_matches(','),
            "" | "&" | "and" | "or" | "/" | "+" | "und" | "et" | "y"
        )
    }) && s.len() < 12
}

/// Whether `before` ends with the family's unit word or "task(s)", so a bare
/// number after it is a reference: "after Tasks 35-36", "Phase 12".
fn after_unit_word(before: &str, word: Option<&str>) -> bool {
    let t = before.trim_end().trim_end_matches(['#', '/']).trim_end();
    let lower = t.to_lowercase();
    let last = lower
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    let is = |w: &str| {
        last == w || last.strip_suffix('s') == Some(w) || last.strip_suffix("es") == Some(w)
    };
    !last.is_empty() && (is("task") || word.is_some_and(is))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(shape: Shape, ids: &[&str]) -> Known {
        let mut k = Known::new(shape);
        for id in ids {
            k.add(id);
        }
        k.seal();
        k
    }

    fn refs(text: &str, k: &Known) -> Vec<String> {
        let r = references(text, k);
        r.tasks
            .iter()
            .map(|&t| k.id(t).to_string())
            .chain(r.external)
            .collect()
    }

    #[test]
    fn ranges_expand_to_defined_ids_only() {
        let k = known(Shape::Glued("T".into()), &["T003", "T004", "T005", "T007"]);
        assert_eq!(
            refs("Tests (T003–T010) before T012", &k),
            ["T003", "T004", "T005", "T007", "T012"]
        );
        assert_eq!(
            refs("T021 depends on T017 & T019", &k),
            ["T021", "T017", "T019"]
        );
    }

    #[test]
    fn bare_numbers_need_a_unit_word() {
        let k = known(Shape::Numbered(String::new()), &["35", "36", "2.1"]);
        assert_eq!(refs("after Tasks 35-36", &k), ["35", "36"]);
        assert_eq!(refs("after 35 minutes", &k), Vec::<String>::new());
        assert_eq!(refs("requires 2.1 and task 36", &k), ["2.1", "36"]);
        let k = known(
            Shape::Numbered("phase".into()),
            &["12", "13", "14a", "14b", "09.1"],
        );
        assert_eq!(refs("foundation for Phase 14a/14b", &k), ["14a", "14b"]);
        assert_eq!(refs("Depends on: Phase 9.1", &k), ["09.1"]);
        assert_eq!(refs("Phases 12-13", &k), ["12", "13"]);
    }

    #[test]
    fn another_columns_numbering() {
        let mut k = Known::new(Shape::Issue);
        for (n, id) in ["#201", "#202", "#212", "#204"].iter().enumerate() {
            let t = k.add(id);
            k.add_alias("pr", &(n + 1).to_string(), t);
        }
        k.seal();
        assert_eq!(refs("PR 2, PR 4", &k), ["#202", "#204"]);
        assert_eq!(refs("PR 1–3", &k), ["#201", "#202", "#212"]);
    }
}
