//! Negations before a dependency phrase: "does not depend on T002" denies
//! the relation (the tasks are independent), "must not start before T002"
//! forbids it (the reverse order).

use super::deps::{COMES_BEFORE, WAITS_FOR, first_words};

/// Words that deny the relation phrase right after them: "does not depend
/// on T002", "no dependency on T002", "never after T002", "without waiting
/// for T002". Such a task is independent of the other, not waiting for it.
const DENIALS: &[&str] = &[
    "not", "no", "never", "nor", "without", "nicht", "kein", "sans", "sin",
];
/// Negations that forbid rather than deny: "must not start before T002"
/// orders T002 first, as "after T002" does.
const PROHIBITIONS: &[&str] = &["cannot", "can't", "mustn't", "shouldn't", "don't"];
/// Words that turn a following "not" into a prohibition ("must not").
const MODALS: &[&str] = &["must", "should", "can", "may", "do"];
/// Words a denial leans on: "does not", "is not", "has no".
const AUXILIARIES: &[&str] = &["does", "do", "did", "is", "are", "was", "has", "have"];
/// How many words before a relation phrase a negation reaches ("does not
/// have to come after T002").
const NEGATION_WORDS: usize = 4;
/// Phrases read only after a denial, as the independence they state:
/// "doesn't need T002", "without waiting for T002". Never an edge.
const DENIED_ONLY: &[&str] = &[
    "need",
    "require",
    "wait for",
    "waiting for",
    "wait on",
    "waiting on",
];

/// How a negation before a relation phrase changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Negation {
    /// "does not depend on T002": no order between the two.
    Denies,
    /// "must not start before T002": the reverse order.
    Forbids,
}

/// The negation among the few words before the relation phrase at `k` of
/// the clause `low` (back to the last comma, colon or parenthesis), and
/// where it starts.
pub(super) fn negation(low: &str, k: usize) -> Option<(usize, Negation)> {
    let start = low[..k]
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, ',' | ':' | '(' | ')' | '—' | '–'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let words: Vec<(usize, &str)> = low[start..k]
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - low.as_ptr() as usize, w))
        .collect();
    let window = &words[words.len().saturating_sub(NEGATION_WORDS)..];
    let bare = |w: &str| -> String {
        w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
            .replace('’', "'")
    };
    window.iter().enumerate().find_map(|(i, &(at, w))| {
        let w = bare(w);
        let modal = i
            .checked_sub(1)
            .map(|j| bare(window[j].1))
            .or_else(|| {
                let n = words.len() - window.len();
                n.checked_sub(1).map(|j| bare(words[j].1))
            })
            .is_some_and(|m| MODALS.contains(&m.as_str()));
        if PROHIBITIONS.contains(&w.as_str()) || w == "not" && modal {
            Some((at, Negation::Forbids))
        } else if DENIALS.contains(&w.as_str()) || w.ends_with("n't") {
            Some((at, Negation::Denies))
        } else {
            None
        }
    })
}

/// Where a dependency phrase is denied: the independence it states (from
/// where the denial starts to the phrase's end), as
/// `(start, phrase end)` in `low`. "T003 does not depend on T002".
pub(super) fn denials(low: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some((k, p)) = first_words(low, from, &[WAITS_FOR, COMES_BEFORE, DENIED_ONLY]) {
        from = k + p.len();
        if let Some((at, Negation::Denies)) = negation(low, k) {
            // "does not depend on": the auxiliary is part of the phrase.
            let before = low[..at].trim_end();
            let aux = before.rsplit(char::is_whitespace).next().unwrap_or("");
            let at = if AUXILIARIES.contains(&aux) {
                before.len() - aux.len()
            } else {
                at
            };
            // "no need to wait for": one statement, the longest.
            if out.last().is_some_and(|&(s, _)| s == at) {
                out.pop();
            }
            out.push((at, from));
        }
    }
    out
}
