//! Done, not-done and left-out marks: checkboxes, status words, symbols.
//! Symbols come first; the word lists are short and general, in a few
//! languages, because status words are written in the plan's language.

/// What one mark says about a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Done,
    NotDone,
    /// Deferred, removed, cancelled: not part of the sequence any more.
    LeftOut,
}

const LEFT_OUT: &[&str] = &[
    "deferred",
    "removed",
    "dropped",
    "cancelled",
    "canceled",
    "obsolete",
    "superseded",
    "postponed",
    "won't do",
    "wont do",
    "wontfix",
    "won't fix",
    "out of scope",
    "skipped",
    "not implemented",
    "n/a",
    "refused",
    "rejected",
    "abandoned",
    "verworfen",
    "abgebrochen",
    "annulé",
    "abandonné",
    "cancelado",
    "descartado",
    "dibatalkan",
    "取消",
    "废弃",
    "中止",
];
const NOT_DONE: &[&str] = &[
    "not started",
    "not done",
    "todo",
    "to do",
    "open",
    "pending",
    "in progress",
    "in-progress",
    "wip",
    "blocked",
    "incomplete",
    "planned",
    "ongoing",
    "in flight",
    "queued",
    "not started yet",
    "offen",
    "en cours",
    "pendiente",
    "未完成",
    "进行中",
    "未着手",
    "🔄",
    "⬜",
    "🔲",
    "❌",
    "🚧",
    "⏳",
];
const DONE: &[&str] = &[
    "done",
    "complete",
    "completed",
    "finished",
    "merged",
    "shipped",
    "resolved",
    "closed",
    "landed",
    "fixed",
    "erledigt",
    "fertig",
    "abgeschlossen",
    "terminé",
    "fait",
    "hecho",
    "completado",
    "concluído",
    "selesai",
    "完成",
    "已完成",
    "完了",
    "済",
    "✅",
    "✔",
    "☑",
    "✓",
];

fn has_phrase(lower: &str, phrase: &str) -> bool {
    if !phrase.is_ascii() {
        return lower.contains(phrase);
    }
    lower.match_indices(phrase).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + phrase.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// What a status value ("Completed", "Not Started", "✅ Done") says.
pub fn classify(status: &str) -> Option<Mark> {
    let lower = status.to_lowercase();
    if LEFT_OUT.iter().any(|p| has_phrase(&lower, p)) {
        Some(Mark::LeftOut)
    } else if NOT_DONE.iter().any(|p| has_phrase(&lower, p)) {
        Some(Mark::NotDone)
    } else if DONE.iter().any(|p| has_phrase(&lower, p)) {
        Some(Mark::Done)
    } else {
        None
    }
}

/// Words that make a task optional in a trailing parenthesis: `(optional)`,
/// `(opsional, bonus)`.
const OPTIONAL: &[&str] = &[
    "optional",
    "opsional",
    "optionnel",
    "opcional",
    "opzionale",
    "facoltativo",
    "optioneel",
    "可选",
    "任意",
];

/// Whether a title marks its task optional: "(optional)", "(optional, …)".
pub fn says_optional(title: &str) -> bool {
    let lower = title.to_lowercase();
    lower.match_indices('(').any(|(i, _)| {
        let inner = &lower[i + 1..];
        OPTIONAL.iter().any(|w| {
            inner
                .strip_prefix(w)
                .is_some_and(|r| r.starts_with([')', ',', ';', '，', '）']))
        })
    })
}

/// The mark of a checkbox character.
pub fn checkbox(c: char) -> Mark {
    if c == 'x' || c == 'X' {
        Mark::Done
    } else {
        Mark::NotDone
    }
}

/// A left-out word written in capitals as a label anywhere in a title:
/// "DEFERRED: needs live credentials", "OBSOLETE — merged into T004",
/// "SKIPPED (no device)". Capitals and the colon, dash or parenthesis after
/// the word make it a status, not a word of the task's description.
fn capitalised_left_out(title: &str) -> bool {
    LEFT_OUT.iter().filter(|p| p.is_ascii()).any(|p| {
        let upper = p.to_ascii_uppercase();
        title.match_indices(upper.as_str()).any(|(i, _)| {
            let before = title[..i].chars().next_back();
            let after = title[i + upper.len()..].trim_start_matches(' ');
            before.is_none_or(|c| !c.is_alphanumeric())
                && (after.is_empty() || after.starts_with([':', '(', '—', '–', '-']))
        })
    })
}

/// Marks in a title: a left-out word in capitals, check-mark emoji
/// anywhere, or a status word in a trailing `(…)` / `[…]` or after a final
/// dash ("— Done").
pub fn in_title(title: &str) -> Option<Mark> {
    if capitalised_left_out(title) {
        return Some(Mark::LeftOut);
    }
    if ["✅", "✔", "☑"].iter().any(|e| title.contains(e)) {
        return Some(Mark::Done);
    }
    let t = title.trim_end();
    let tail = if t.ends_with(')') || t.ends_with(']') {
        t.rfind(['(', '[']).map(|i| &t[i..])
    } else {
        [" — ", " – ", " - ", " -- "]
            .iter()
            .filter_map(|d| t.rfind(d).map(|i| &t[i + d.len()..]))
            .min_by_key(|tail| tail.len())
    };
    let tail = tail?;
    let lower = tail.to_lowercase();
    // A trailing word is a status only when it is the whole tail ("— Done").
    // Dates and counts do not make a tail prose: "(erledigt 2026-05-24)".
    // A hyphenated word is one word: "— deferred to follow-up".
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .map(|w| w.trim_matches('-'))
        .filter(|w| !w.is_empty() && !w.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        .collect();
    if words.len() > 3 {
        return None;
    }
    classify(tail)
}

/// A `Status: …` line in a task's own text.
pub fn status_line(line: &str) -> Option<Mark> {
    let t = line
        .trim()
        .trim_start_matches(['-', '*', '_', ' '])
        .trim_start();
    let lower = t.to_ascii_lowercase();
    if !lower.starts_with("status") {
        return None;
    }
    let rest = t["status".len()..].trim_start_matches(['*', '_', ' ', ':']);
    classify(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words() {
        assert_eq!(classify("Completed"), Some(Mark::Done));
        assert_eq!(classify("Not Started"), Some(Mark::NotDone));
        assert_eq!(classify("incomplete"), Some(Mark::NotDone));
        assert_eq!(classify("Open"), Some(Mark::NotDone));
        assert_eq!(classify("This doc"), None);
        assert_eq!(classify("Deferred to M3"), Some(Mark::LeftOut));
        assert_eq!(status_line("**Status**: Completed"), Some(Mark::Done));
        assert_eq!(status_line("**Parallelizable**: No"), None);
    }

    #[test]
    fn title_marks() {
        assert_eq!(in_title("Set up CI ✅"), Some(Mark::Done));
        assert_eq!(in_title("Set up CI (done)"), Some(Mark::Done));
        assert_eq!(in_title("Set up CI — deferred"), Some(Mark::LeftOut));
        assert_eq!(
            in_title("Run the manual checks — DEFERRED: needs a browser (see notes)"),
            Some(Mark::LeftOut)
        );
        assert_eq!(in_title("OBSOLETE - folded into T004"), Some(Mark::LeftOut));
        assert_eq!(
            in_title("Unit tests for the importer — deferred to follow-up"),
            Some(Mark::LeftOut)
        );
        assert_eq!(in_title("Unit tests — see the follow-up notes below"), None);
        assert_eq!(in_title("Handle REMOVED events from the feed"), None);
        assert_eq!(in_title("Log deferred: work in the queue"), None);
        assert_eq!(in_title("Display completed tasks in the list"), None);
        assert_eq!(in_title("Mark a task complete"), None);
        assert_eq!(
            in_title("Add tests (unit, integration, done criteria)"),
            None
        );
    }
}
