//! Tasks the plan says may run at the same time, in prose: "T021 can run
//! in parallel with T018", "T014–T016 can run in parallel", "T005 is
//! independent of T004", "runs alongside T007", and a denied dependency
//! ("T005 does not depend on T004", "without waiting for T004", read by
//! [`negation::denials`], which `deps` reads as no edge). Not an order: `run --jobs`
//! lifts document order between such tasks, nothing else does.
//!
//! Only task IDs count, on both sides: a phase or story named in words is
//! often qualified ("all Setup tasks marked [P] can run in parallel"), and
//! reading it as every task of the group would run too much together.

use super::deps::{clauses, contains_words, first_words, object_end, without_asides};
use super::ids::{Known, references};
use super::negation;

/// Phrases after which the tasks before them may run beside those after.
const WITH: &[&str] = &[
    "in parallel with",
    "in parallel to",
    "parallel with",
    "parallel to",
    "parallelizable with",
    "parallelisable with",
    "concurrently with",
    "simultaneously with",
    "at the same time as",
    "run alongside",
    "runs alongside",
    "running alongside",
    "proceed alongside",
    "proceeds alongside",
    "be done alongside",
    "be worked on alongside",
    "start alongside",
    "independent of",
    "independently of",
    "independent from",
    // The same in a few other languages.
    "en paralelo con",
    "paralelizable con",
    "en parallèle avec",
    "parallel zu",
    "parallel mit",
    "paralel dengan",
    "bersamaan dengan",
];

/// Phrases after which the tasks named before them may run beside each
/// other ("T002 and T003 can run in parallel").
const EACH_OTHER: &[&str] = &[
    "in parallel",
    "concurrently",
    "simultaneously",
    "at the same time",
    "parallelizable",
    "parallelisable",
    "en paralelo",
    "en parallèle",
    "secara paralel",
];

/// Words that deny the statement: "T003 cannot run in parallel with T002".
const NOT: &[&str] = &["not", "cannot", "never", "nicht", "jamais", "tidak"];

/// Words a list of IDs is joined with ("T001, T002 and T003").
const JOINS: &[&str] = &[
    "and", "or", "&", "+", "/", "through", "to", "thru", "tasks", "task",
];

/// How many words may stand between the tasks a statement is about and
/// its phrase ("T021 and T028 can be worked on in parallel").
const VERB_WORDS: usize = 4;

/// One statement that `tasks` may run at the same time as `with` (for
/// "in parallel" alone, as each other: `with` is `tasks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub tasks: Vec<u32>,
    pub with: Vec<u32>,
    /// Byte offset of the phrase in the text.
    pub offset: usize,
    /// The phrase as written, lower-cased: "in parallel with", "does not
    /// depend on".
    pub phrase: String,
}

/// Words one of whose every phrase holds: a block without any says
/// nothing, and most blocks have none (plans have thousands).
const KEYS: &[&str] = &[
    "parallel",
    "paralel",
    "parallèle",
    "concurrently",
    "simultaneously",
    "same time",
    "alongside",
    "independent",
    "bersamaan",
];

/// The statements in one block of text; `owner` is the task whose text it
/// is (the subject of "Can run in parallel with T004").
pub fn statements(text: &str, owner: Option<u32>, known: &Known) -> Vec<Statement> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let keyed = KEYS.iter().any(|k| lower.contains(k));
    let negated = ["no", "n't", "n’t", "never", "without"]
        .iter()
        .any(|k| lower.contains(k));
    if !keyed && !negated {
        return out;
    }
    for (at, clause) in clauses(text) {
        let low = &lower[at..at + clause.len()];
        if negated {
            for (start, end) in negation::denials(low) {
                let phrase = (start, &low[start..end]);
                if let Some((tasks, with)) = beside(clause, low, phrase, owner, known) {
                    out.push(Statement {
                        tasks,
                        with,
                        offset: at + start,
                        phrase: phrase.1.to_string(),
                    });
                }
            }
        }
        if !keyed || denied(low) {
            continue;
        }
        let mut from = 0;
        while let Some((k, phrase)) = first_words(low, from, &[WITH, EACH_OTHER]) {
            from = k + phrase.len();
            let found = if WITH.contains(&phrase) {
                beside(clause, low, (k, phrase), owner, known)
            } else {
                each_other(clause, k, known)
            };
            if let Some((tasks, with)) = found {
                out.push(Statement {
                    tasks,
                    with,
                    offset: at + k,
                    phrase: phrase.to_string(),
                });
            }
        }
    }
    out
}

/// "not", "cannot", "shouldn't": the clause says they may not.
fn denied(low: &str) -> bool {
    NOT.iter().any(|w| contains_words(low, w))
        || low
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
            .any(|w| w.ends_with("n't") || w.ends_with("n’t"))
}

/// "X can run in parallel with Y": X (or the text's own task) and the IDs
/// after the phrase, up to the next relation or aside.
fn beside(
    clause: &str,
    low: &str,
    (k, phrase): (usize, &str),
    owner: Option<u32>,
    known: &Known,
) -> Option<(Vec<u32>, Vec<u32>)> {
    let from = k + phrase.len();
    let asides = [" once ", " when ", " as soon as ", " if "];
    let end = object_end((clause, low), from, &asides);
    let with = references(&without_asides(&clause[from..end]), known).tasks;
    let tasks = match subject(clause, k, known) {
        t if t.is_empty() => vec![owner?],
        t => t,
    };
    let with: Vec<u32> = with.into_iter().filter(|w| !tasks.contains(w)).collect();
    (!with.is_empty()).then_some((tasks, with))
}

/// "T002 and T003 can run in parallel": two tasks or more, each beside
/// the others.
fn each_other(clause: &str, k: usize, known: &Known) -> Option<(Vec<u32>, Vec<u32>)> {
    let tasks = subject(clause, k, known);
    (tasks.len() >= 2).then(|| (tasks.clone(), tasks))
}

/// The tasks a phrase at `k` is about: the list of IDs that ends at most
/// [`VERB_WORDS`] words before it. "Once T001 is done, T002 and T003 can
/// run in parallel" is about T002 and T003.
fn subject(clause: &str, k: usize, known: &Known) -> Vec<u32> {
    let words: Vec<(usize, &str)> = words(&clause[..k]);
    let mut span: Option<(usize, usize)> = None;
    let mut skipped = 0;
    let mut w = words.len();
    while w > 0 {
        w -= 1;
        let (at, word) = words[w];
        let (start, used) = match id_at(clause, &words, w, known) {
            Some(start) => (start, true),
            None => (at, false),
        };
        match (used, span) {
            (true, _) => {
                let end = span.map_or(at + word.len(), |s| s.1);
                span = Some((start, end));
                // A unit word before a number: both are the ID.
                if start < at {
                    w -= 1;
                }
            }
            (false, Some(_)) if is_join(word) => {}
            (false, Some(_)) => break,
            (false, None) => {
                skipped += 1;
                if skipped > VERB_WORDS {
                    break;
                }
            }
        }
    }
    span.map(|(s, e)| references(&clause[s..e], known).tasks)
        .unwrap_or_default()
}

/// Where the ID that word `w` ends starts: the word itself, or with the
/// word before it ("Task 3"); `None` when it names no task.
fn id_at(text: &str, words: &[(usize, &str)], w: usize, known: &Known) -> Option<usize> {
    let (at, word) = words[w];
    if !references(word, known).tasks.is_empty() {
        return Some(at);
    }
    let (before, _) = *words.get(w.checked_sub(1)?)?;
    let two = &text[before..at + word.len()];
    (!references(two, known).tasks.is_empty()).then_some(before)
}

/// A word between the IDs of one list.
fn is_join(word: &str) -> bool {
    let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '&' && c != '+');
    bare.is_empty() || JOINS.contains(&bare.to_lowercase().as_str())
}

/// The whitespace-separated words of `text`, with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
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

    /// Each statement as (tasks, with) IDs.
    fn read(text: &str, owner: Option<u32>) -> Vec<(Vec<String>, Vec<String>)> {
        let k = known(&["T001", "T002", "T003", "T004", "T005", "T006"]);
        let ids = |v: &[u32]| v.iter().map(|&t| k.id(t).to_string()).collect();
        statements(text, owner, &k)
            .iter()
            .map(|s| (ids(&s.tasks), ids(&s.with)))
            .collect()
    }

    fn v(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_side_beside_the_other() {
        assert_eq!(
            read("T003 can run in parallel with T002.", None),
            [(v(&["T003"]), v(&["T002"]))]
        );
        assert_eq!(
            read(
                "Frontend pages (T004, T005) can be implemented in parallel with backend endpoints (T001, T002) once contracts land.",
                None
            ),
            [(v(&["T004", "T005"]), v(&["T001", "T002"]))]
        );
        assert_eq!(
            read("T005 is independent of T004", None),
            [(v(&["T005"]), v(&["T004"]))]
        );
        assert_eq!(
            read("This one can run alongside T001", Some(2)),
            [(v(&["T003"]), v(&["T001"]))]
        );
    }

    #[test]
    fn a_list_beside_each_other() {
        assert_eq!(
            read(
                "T002, T003 and T004 can run in parallel (different files)",
                None
            ),
            [(v(&["T002", "T003", "T004"]), v(&["T002", "T003", "T004"]))]
        );
        assert_eq!(
            read("Once T001 is done, T002 and T003 can run in parallel", None),
            [(v(&["T002", "T003"]), v(&["T002", "T003"]))]
        );
        assert_eq!(
            read("T002–T004 may proceed in parallel after T001", None).len(),
            1
        );
    }

    #[test]
    fn every_phrase_holds_a_key_word() {
        for p in WITH.iter().chain(EACH_OTHER) {
            assert!(KEYS.iter().any(|k| p.contains(k)), "{p}");
        }
    }

    #[test]
    fn what_is_not_a_statement() {
        for text in [
            "T003 cannot run in parallel with T002 (same file)",
            "T003 must not run at the same time as T002",
            "T003 shouldn't run in parallel with T002",
            "[P]: Can run in parallel (different files, no dependencies)",
            "Tasks marked [P] can run in parallel with each other",
            "T004 can run in parallel",
            "Run the downloads in parallel with T002's cache",
            "T001 and T002 build the parallel downloader",
        ] {
            assert_eq!(read(text, None), [], "{text}");
        }
        // In the task's own text, the task is the subject.
        assert_eq!(
            read("Runs the downloads in parallel with T002", Some(0)),
            [(v(&["T001"]), v(&["T002"]))]
        );
    }
}
