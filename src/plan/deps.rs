//! Dependencies as a careful reader draws them: "T005 depends on T002 +
//! T004", "T004 and T005 must be done before T006", "(blocked by #8824)",
//! a `**Depends on**:` field, and phase-level statements ("US4 (Phase 6):
//! Depends on US1 + US2"). Each statement keeps its strength: a structured
//! field, a plain sentence, a hedged one ("ideally after"), or a mention.

use super::groups::{self, Group};
use super::ids::{Known, Refs, field_references, references};
use super::negation::{Negation, negation};

/// How firmly a statement orders two tasks, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Hedged or pairing language: ordered only where that makes no cycle.
    Soft,
    /// A plain statement in prose.
    Hard,
    /// A structured field: a Depends column, a `**Depends on**:` line,
    /// `depends_on:` front matter. A cycle of these is refused.
    Structured,
}

/// Phrases after which the left side waits for the right side.
pub(super) const WAITS_FOR: &[&str] = &[
    "depends on",
    "depend on",
    "dependent on",
    "depends upon",
    "blocked by",
    "gated by",
    "gated on",
    "waits for",
    "waits on",
    "builds on",
    "requires",
    "after",
    "needs",
    "follows",
    "follow",
    "pairs with",
    "together with",
    // The same in a few other languages.
    "depende de",
    "dependen de",
    "dépend de",
    "abhängig von",
    "bergantung pada",
    "después de",
    "après",
    "setelah",
    // Labels: "**Dependencies**: T001, T002", "Prerequisites: #12".
    "dependencies",
    "dependency",
    "prerequisites",
    "prerequisite",
    "depends",
];
/// Phrases after which the right side waits for the left side.
pub(super) const COMES_BEFORE: &[&str] = &[
    "before",
    "antes de",
    "avant",
    "sebelum",
    "feeds",
    "blocks",
    "block",
    "precedes",
    "unblocks",
    "foundation for",
    "prerequisite for",
    "prerequisite of",
    "required by",
    "needed by",
    "needed for",
];
/// Pairing phrases: they order nothing by themselves, so the later task
/// waits for the earlier one, softly.
const PAIRS: &[&str] = &["pairs with", "together with"];

/// Words that hedge a statement: it orders softly, never as a hard edge.
const HEDGES: &[&str] = &[
    "ideally",
    "preferably",
    "if possible",
    "can land now",
    "may land",
    "optional",
    "optionally",
    "nice to have",
    "not blocking",
    "non-blocking",
    "idealerweise",
    "idéalement",
    "idealmente",
    "idealnya",
    "opsional",
];
/// Words after which an ID is mentioned, not waited for.
const NOT_A_RELATION: &[&str] = &["regardless of", "independent of", "independently of"];

/// Values of a dependency field that list nothing.
const NONE_WORDS: &[&str] = &[
    "none",
    "nothing",
    "n/a",
    "-",
    "—",
    "–",
    "no",
    "keine",
    "aucune",
    "ninguna",
    "tidak ada",
    "无",
    "なし",
];

/// One dependency statement: every task in `waits` waits for every task in
/// `on` (and names the `external` IDs, which hold nothing up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub waits: Vec<u32>,
    pub on: Vec<u32>,
    pub external: Vec<String>,
    /// Byte offset of the relation word in the text.
    pub offset: usize,
    pub phrase: &'static str,
    pub strength: Strength,
    /// "pairs with": the edge runs from the later task to the earlier one.
    pub pair: bool,
}

/// Where the text is, for reading it.
#[derive(Clone, Copy)]
pub struct Context<'g> {
    /// The task whose own text this is.
    pub owner: Option<u32>,
    /// Phase and story names stand for their tasks (dependency sections).
    pub groups: Option<&'g [Group]>,
    /// Every group, for "lands in slice 1" anywhere.
    pub sections: &'g [Group],
    /// The whole text is a dependency field's value (a Depends column).
    pub field: bool,
    /// The text is a section heading's: the tasks of its section wait
    /// when the clause names no one else, and section numbers (`4.x`,
    /// `2–7`) name sections.
    pub section: Option<&'g [u32]>,
}

/// Phrases that place a task inside a later group of the plan: "in the
/// first green commit of slice 1", "as part of section 3".
const LANDS_IN: &[&str] = &[
    "commit of",
    "commits of",
    "commit in",
    "pr of",
    "pull request of",
    "as part of",
    "lands in",
    "land in",
    "lands with",
    "land with",
];

/// "…, in the first commit of slice 1": the task cannot land before that
/// group starts, so it waits (softly) for the group's first task.
fn landing(low: &str, cx: Context<'_>) -> Option<Statement> {
    let owner = cx.owner?;
    let mut from = 0;
    while let Some((at, p)) = first_words(low, from, &[LANDS_IN]) {
        from = at + p.len();
        let rest = low[at + p.len()..].trim_start();
        let rest = rest.strip_prefix("the ").unwrap_or(rest);
        let group = cx.sections.iter().find(|g| {
            g.aliases.iter().any(|a| {
                rest.strip_prefix(a.as_str()).is_some_and(|r| {
                    r.chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric() && c != '.')
                })
            })
        });
        let Some((group, &first)) = group.and_then(|g| Some((g, g.tasks.iter().min()?))) else {
            continue;
        };
        if group.tasks.contains(&owner) || first <= owner {
            continue;
        }
        return Some(Statement {
            waits: vec![owner],
            on: vec![first],
            external: Vec::new(),
            offset: at,
            phrase: p,
            strength: Strength::Soft,
            pair: false,
        });
    }
    None
}

fn has_words_at(lower: &str, s: usize, e: usize) -> bool {
    let before_ok = lower[..s]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    let after_ok = lower[e..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric());
    before_ok && after_ok
}

/// Where a relation phrase occurs as whole words, earliest first (the
/// longer phrase wins at one place: "depends on" over "depends").
pub(super) fn find_phrase(lower: &str, from: usize) -> Option<(usize, &'static str, bool)> {
    let (at, p) = first_words(lower, from, &[WAITS_FOR, COMES_BEFORE])?;
    Some((at, p, WAITS_FOR.contains(&p)))
}

/// The first of `lists`' phrases that starts a word of `lower[from..]` and
/// ends one: one pass over word starts with a prefix test each, instead of
/// a substring search per phrase (plans have thousands of clauses).
pub(super) fn first_words(
    lower: &str,
    from: usize,
    lists: &[&[&'static str]],
) -> Option<(usize, &'static str)> {
    let b = lower.as_bytes();
    for i in from..b.len() {
        if !b[i].is_ascii_alphabetic() {
            continue;
        }
        let starts = match i.checked_sub(1).map(|p| b[p]) {
            None => true,
            Some(p) if p.is_ascii() => !p.is_ascii_alphanumeric(),
            Some(_) => lower[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric()),
        };
        if !starts {
            continue;
        }
        let best = lists
            .iter()
            .flat_map(|l| l.iter())
            .filter(|p| {
                p.as_bytes()[0] == b[i]
                    && lower[i..].starts_with(**p)
                    && has_words_at(lower, i, i + p.len())
            })
            .max_by_key(|p| p.len());
        if let Some(p) = best {
            return Some((i, p));
        }
    }
    None
}

pub(super) fn contains_words(lower: &str, phrase: &str) -> bool {
    lower
        .match_indices(phrase)
        .any(|(s, _)| has_words_at(lower, s, s + phrase.len()))
}

/// Clauses of `text`: split at `;` and sentence ends, so "T012 feeds
/// T013–T017; sanitizer logic required before wiring" is two statements.
pub(super) fn clauses(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let end = c == b';'
            || c == b'\n' && (b.get(i + 1) == Some(&b'\n') || starts_field(&text[i + 1..]))
            || (c == b'.' && b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()));
        if end {
            out.push((start, &text[start..i]));
            start = i + 1;
        }
    }
    out.push((start, &text[start..]));
    out
}

/// A line that starts a field of its own (`**Goal**: …`, `Depends on: …`),
/// so the line before it ends a clause even without a full stop.
fn starts_field(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("**") || t.starts_with("- ") || t.starts_with("* ") {
        return true;
    }
    let head: String = t.chars().take(32).collect();
    head.find(':')
        .is_some_and(|c| c > 0 && head[..c].chars().all(|ch| ch.is_alphabetic() || ch == ' '))
}

/// `**Depends on**: …`, `Dependencies: …`: a field label at the start of a
/// clause, and where its value starts.
fn field_value(low: &str) -> Option<usize> {
    let t = low.trim_start_matches(['*', '_', '-', ' ', '#', '`', '>']);
    let lead = low.len() - t.len();
    let colon = t.find([':', '：'])?;
    let label = t[..colon].trim_end_matches(['*', '_', ' ']);
    let is_label = WAITS_FOR.contains(&label) || ["blocked by", "requires"].contains(&label);
    if !is_label {
        return None;
    }
    let after = lead + colon + t[colon..].chars().next()?.len_utf8();
    let value = low[after..].trim_start_matches(['*', '_', ' ']);
    Some(low.len() - value.len())
}

/// The statements in one block of text (a bullet, paragraph, row or field).
pub fn statements(text: &str, cx: Context<'_>, known: &Known) -> Vec<Statement> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower`
    // index `text` too.
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for (at, clause) in clauses(text) {
        let low = &lower[at..at + clause.len()];
        if let Some(v) = field_value(low).or(cx.field.then_some(0)) {
            out.extend(field_statement(clause, low, v, cx, known).map(|mut s| {
                s.offset += at;
                s
            }));
            continue;
        }
        if let Some(mut s) = statement(clause, low, cx, known).or_else(|| landing(low, cx)) {
            s.offset += at;
            out.push(s);
        }
    }
    out
}

/// A field's value: the IDs it lists wait as structured dependencies of the
/// owner; "None (… prose …)" lists nothing, and its prose is read as prose.
fn field_statement(
    clause: &str,
    low: &str,
    value: usize,
    cx: Context<'_>,
    known: &Known,
) -> Option<Statement> {
    let v = &low[value..];
    let none = NONE_WORDS.iter().any(|w| {
        v.strip_prefix(w)
            .is_some_and(|r| r.is_empty() || r.starts_with([' ', '(', ',', '.', ';']))
    });
    let prose = Context { field: false, ..cx };
    let Some(owner) = cx.owner.filter(|_| !none) else {
        // "None (ideally after T001)", or a field outside any task: prose.
        let mut s = statement(&clause[value..], v, prose, known)?;
        s.offset += value;
        return Some(s);
    };
    let mut on = field_references(&without_asides(&clause[value..]), known);
    if on.is_empty() {
        on = side(&clause[value..], known, cx);
    }
    if on.is_empty() {
        return statement(&clause[value..], v, prose, known).map(|mut s| {
            s.offset += value;
            s
        });
    }
    Some(Statement {
        waits: vec![owner],
        on: on.tasks,
        external: on.external,
        offset: value,
        phrase: "depends on",
        strength: Strength::Structured,
        pair: false,
    })
}

/// The first relation in a clause that names tasks on both sides: in
/// "**Dependencies**: depends on T001" the label names nothing, so the
/// phrase after it counts.
fn statement(clause: &str, low: &str, cx: Context<'_>, known: &Known) -> Option<Statement> {
    let mut from = 0;
    while let Some((k, phrase, mut waits)) = find_phrase(low, from) {
        from = k + phrase.len();
        let Some((right, named)) = object(clause, low, from, waits, cx, known) else {
            continue;
        };
        match negation(low, k) {
            // Denied, the phrase states the tasks are independent (read as
            // such by `parallel`); a later phrase may still state an order.
            Some((_, Negation::Denies)) => continue,
            Some((_, Negation::Forbids)) if !waits => waits = true,
            _ => {}
        }
        let left = subject(&clause[..k], cx, known);
        if left.is_empty() || NOT_A_RELATION.iter().any(|h| contains_words(&low[..k], h)) {
            return None;
        }
        let pair = PAIRS.contains(&phrase);
        let hedged = pair || named || HEDGES.iter().any(|h| contains_words(low, h));
        let (waits, on, external) = if waits {
            (left, right.tasks, right.external)
        } else {
            (right.tasks, left, Vec::new())
        };
        if waits.is_empty() {
            return None;
        }
        return Some(Statement {
            waits,
            on,
            external,
            offset: k,
            phrase,
            strength: if hedged {
                Strength::Soft
            } else {
                Strength::Hard
            },
            pair,
        });
    }
    None
}

/// What a relation phrase ending at `from` points at: the IDs up to the
/// next relation or an aside ("after Foundational - integrates with US1"
/// waits for Foundational only); else "it" or "this" (the text's own
/// task: "T001 feeds it"); else a task the document named in words
/// ("block migrations until decided"), which makes the statement soft.
fn object(
    clause: &str,
    low: &str,
    from: usize,
    waits: bool,
    cx: Context<'_>,
    known: &Known,
) -> Option<(Refs, bool)> {
    let asides = [" regardless of ", " independent of "];
    let end = object_end((clause, low), from, &asides);
    let mut right = side(&without_asides(&clause[from..end]), known, cx);
    if !right.is_empty() {
        return Some((right, false));
    }
    let words = &low[from..end];
    let pronoun = !waits && points_back(words);
    let t = cx
        .owner
        .filter(|_| pronoun)
        .or_else(|| known.named(words))?;
    right.tasks.push(t);
    right.first = Some((from, Some(t)));
    Some((right, !pronoun))
}

/// "it", "this", "this task": the object is the text's own task.
fn points_back(object: &str) -> bool {
    let words: Vec<&str> = object
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .collect();
    matches!(
        words.as_slice(),
        ["it"] | ["this"] | ["this", "task" | "one"] | ["it", _]
    )
}

/// Who the clause is about: the IDs it opens with, else the task whose text
/// it is. An ID further into the sentence ("using the T003 output, depends
/// on T004") is not its subject.
fn subject(left: &str, cx: Context<'_>, known: &Known) -> Vec<u32> {
    let refs = side(
        left,
        known,
        Context {
            section: None,
            ..cx
        },
    );
    let tasks = refs.tasks;
    if let Some(section) = cx.section.filter(|_| tasks.is_empty()) {
        return section.to_vec();
    }
    let opens = refs.first.is_some_and(|(at, _)| {
        left[..at.min(left.len())]
            .chars()
            .all(|c| !c.is_alphanumeric() || c.is_whitespace())
    });
    match cx.owner {
        Some(owner) if !opens || tasks.is_empty() || tasks[0] == owner => vec![owner],
        _ => tasks,
    }
}

/// Where what a relation phrase ending at `from` relates to ends in
/// `clause` (`low` its lower case): at the next relation phrase, or at a
/// dash, "but" or "and then" before it, or at one of `more` asides.
pub(super) fn object_end((clause, low): (&str, &str), from: usize, more: &[&str]) -> usize {
    let mut end = find_phrase(low, from).map_or(clause.len(), |n| n.0);
    let common = [" - ", " — ", " – ", " but ", " and then "];
    for aside in common.iter().chain(more) {
        if let Some(i) = low[from..end].find(aside) {
            end = from + i;
        }
    }
    end
}

/// A parenthesis that starts with a word is an aside: "(see T004)",
/// "(relates to #176)". One that starts with an ID is a list.
pub(super) fn without_asides(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let inner = &rest[open + 1..];
        let close = inner.find(')').map_or(inner.len(), |c| c + 1);
        let starts_with_word = inner
            .trim_start()
            .chars()
            .next()
            .is_some_and(char::is_alphabetic)
            && super::label::lexical(inner.trim_start()).is_none()
            && !starts_with_unit_word(inner.trim_start());
        if starts_with_word {
            // Keep the offsets: blank the aside out.
            out.push_str(&" ".repeat(1 + close));
        } else {
            out.push('(');
            out.push_str(&inner[..close]);
        }
        rest = &inner[close..];
    }
    out.push_str(rest);
    out
}

/// "Phase 3", "Tasks 1a/1b": a word the reader treats as a unit word.
fn starts_with_unit_word(s: &str) -> bool {
    let lower = s.to_lowercase();
    ["task", "phase", "step", "us", "user story", "story"]
        .iter()
        .any(|w| lower.starts_with(w))
}

/// The tasks one side of a statement names: its IDs if it has any, else the
/// groups it names (in a heading, also the sections it numbers).
fn side(text: &str, known: &Known, cx: Context<'_>) -> Refs {
    let ids = references(text, known);
    if !ids.is_empty() {
        return ids;
    }
    let Some(groups) = cx.groups else {
        return Refs::default();
    };
    let mut tasks = groups::named(text, groups);
    if tasks.is_empty() && cx.section.is_some() {
        tasks = groups::numbered(text, groups);
    }
    let mut out = Refs {
        tasks,
        ..Refs::default()
    };
    if let Some(&t) = out.tasks.first() {
        out.first = Some((0, Some(t)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::groups::aliases;
    use super::super::label::Shape;
    use super::*;

    fn known(ids: &[&str]) -> Known {
        let mut k = Known::new(Shape::Glued("T".into()));
        for id in ids {
            k.add(id);
        }
        k.seal();
        k
    }

    fn cx(owner: Option<u32>) -> Context<'static> {
        Context {
            owner,
            groups: None,
            sections: &[],
            field: false,
            section: None,
        }
    }

    fn pairs(s: &[Statement], k: &Known) -> Vec<(Vec<String>, Vec<String>, Strength)> {
        s.iter()
            .map(|s| {
                (
                    s.waits.iter().map(|&t| k.id(t).to_string()).collect(),
                    s.on.iter()
                        .map(|&t| k.id(t).to_string())
                        .chain(s.external.iter().cloned())
                        .collect(),
                    s.strength,
                )
            })
            .collect()
    }

    fn v(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn before_and_after_point_the_right_way() {
        let k = known(&["T004", "T005", "T006", "T007"]);
        let s = statements(
            "T004 and T005 must be done before T006, T007.",
            cx(None),
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T006", "T007"]), v(&["T004", "T005"]), Strength::Hard)]
        );
        let s = statements("No (depends on T004, T005)", cx(Some(2)), &k);
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T006"]), v(&["T004", "T005"]), Strength::Hard)]
        );
    }

    #[test]
    fn the_phrase_belongs_to_the_item_not_the_last_id() {
        let k = known(&["T003", "T004", "T005"]);
        let s = statements(
            "Build it from the T003 output, depends on T004",
            cx(Some(2)),
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T005"]), v(&["T004"]), Strength::Hard)]
        );
    }

    #[test]
    fn fields_hedges_and_mentions() {
        let k = known(&["T001", "T002", "T003"]);
        let s = statements("**Dependencies**: T001, T002", cx(Some(2)), &k);
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T003"]), v(&["T001", "T002"]), Strength::Structured)]
        );
        let s = statements("**Depends on**: None (ideally after T001)", cx(Some(2)), &k);
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T003"]), v(&["T001"]), Strength::Soft)]
        );
        let s = statements("No dependencies - can start immediately", cx(Some(0)), &k);
        assert_eq!(pairs(&s, &k), []);
        let s = statements(
            "Works regardless of T001; after T002 (see T001)",
            cx(Some(2)),
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T003"]), v(&["T002"]), Strength::Hard)]
        );
        let s = statements("T003 pairs with T001", cx(None), &k);
        assert!(s[0].pair && s[0].strength == Strength::Soft);
    }

    #[test]
    fn dependency_words_in_other_languages() {
        let k = known(&["T001", "T002", "T003"]);
        let s = statements("Depende de: T001. Paralelizable con T002.", cx(Some(2)), &k);
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T003"]), v(&["T001"]), Strength::Structured)]
        );
        let s = statements("À faire après T002", cx(Some(2)), &k);
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T003"]), v(&["T002"]), Strength::Hard)]
        );
    }

    #[test]
    fn a_task_the_document_names_in_words() {
        let mut k = known(&["T004", "T005"]);
        k.learn_names("- The schema migrations (T004) land before the API.");
        let s = statements(
            "T005 Pick the database (block migrations until decided)",
            cx(Some(1)),
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T004"]), v(&["T005"]), Strength::Soft)]
        );
        let s = statements("Write the migrations guide after review", cx(Some(1)), &k);
        assert_eq!(pairs(&s, &k), []);
    }

    #[test]
    fn a_task_that_lands_in_a_later_section_waits_for_its_start() {
        let k = known(&["T001", "T002", "T003"]);
        let sections = [Group {
            aliases: vec!["slice 1".into()],
            tasks: vec![1, 2],
        }];
        let cx = Context {
            owner: Some(0),
            groups: None,
            sections: &sections,
            field: false,
            section: None,
        };
        let s = statements(
            "Rename the glossary, in the first commit of slice 1.",
            cx,
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T001"]), v(&["T002"]), Strength::Soft)]
        );
        let s = statements("As described in slice 1 of the design.", cx, &k);
        assert_eq!(pairs(&s, &k), []);
    }

    #[test]
    fn all_user_stories_means_each_story_group() {
        let groups = vec![
            Group {
                aliases: aliases("Phase 3: User Story 1 - Login"),
                tasks: vec![0],
            },
            Group {
                aliases: aliases("Phase 4: User Story 2 - Logout"),
                tasks: vec![1],
            },
            Group {
                aliases: aliases("Phase 5: Polish"),
                tasks: vec![2],
            },
        ];
        let k = known(&["T001", "T002", "T003"]);
        let s = statements(
            "**Polish (Phase 5)**: Depends on all desired user stories being complete",
            Context {
                owner: None,
                groups: Some(&groups),
                sections: &[],
                field: false,
                section: None,
            },
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T003"]), v(&["T001", "T002"]), Strength::Hard)]
        );
    }

    #[test]
    fn clauses_split_at_semicolons() {
        let k = known(&["T012", "T013", "T014"]);
        let s = statements(
            "T012 feeds T013–T014; logic required before wiring",
            cx(None),
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T013", "T014"]), v(&["T012"]), Strength::Hard)]
        );
    }

    #[test]
    fn groups_resolve_by_phase_story_and_name() {
        let groups = vec![
            Group {
                aliases: aliases("Phase 1: Setup (Shared)"),
                tasks: vec![0],
            },
            Group {
                aliases: aliases("Phase 3: User Story 1 - Login (Priority: P1)"),
                tasks: vec![1],
            },
        ];
        assert_eq!(groups[0].aliases, ["phase 1", "setup"]);
        assert_eq!(groups[1].aliases, ["phase 3", "us1"]);
        let k = known(&["T001", "T002"]);
        let s = statements(
            "**US1 (Phase 3)**: Depends on Setup completion",
            Context {
                owner: None,
                groups: Some(&groups),
                sections: &[],
                field: false,
                section: None,
            },
            &k,
        );
        assert_eq!(
            pairs(&s, &k),
            [(v(&["T002"]), v(&["T001"]), Strength::Hard)]
        );
    }
}
