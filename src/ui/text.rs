//! Words for messages: shell quoting for suggested commands, safe display of
//! text that came from a file, a commit or a name, short lists, and plurals.
//! Every user-visible sentence that needs one of these goes through here.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Quote `word` for a POSIX shell, for a command shown in a hint (never for
/// running one: tasks get their words as arguments). A word that needs no
/// quoting comes back as it is; control characters are escaped afterwards
/// (see [`clean`]), so a hint can never carry a terminal escape.
pub fn quote(word: &str) -> String {
    let quoted = match shlex::try_quote(word) {
        Ok(q) => q.into_owned(),
        // Only a NUL byte fails, and no name or path can hold one.
        Err(_) => format!("'{}'", word.replace('\0', "").replace('\'', r"'\''")),
    };
    clean(&quoted).into_owned()
}

/// [`quote`] for a path.
pub fn quote_path(path: &std::path::Path) -> String {
    quote(&path.to_string_lossy())
}

/// `argv` joined into one command line a user could paste.
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text from outside the program (a plan's title, a name, a field of a status
/// file, a commit) made safe to print: every control character, including
/// escape, newline and the C1 range, is shown as `\xNN` or `\u{NNNN}`, so a
/// title cannot set the terminal's title, erase a line or write the clipboard.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the invisible format characters that reorder or
/// hide text (bidirectional overrides and isolates).
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One line, no control characters: plan titles go into commit subjects.
pub fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max` items, then "and N more": `a, b, c and 2 more`.
pub fn list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let more = items.len() - shown.len();
    match (shown.as_slice(), more) {
        ([], _) => String::new(),
        ([one], 0) => (*one).to_string(),
        (all, 0) => {
            let (last, rest) = all.split_last().expect("not empty");
            format!("{} and {last}", rest.join(", "))
        }
        (some, more) => format!("{} and {more} more", some.join(", ")),
    }
}

/// How a message names a task: by its label (`Task 3`, `Phase 6`) when it
/// has one that ends in its ID, as a bare `3` reads as a count; else by
/// its ID (`T012`, `#204`, `2.3`, and `5#2`, the second task a document
/// numbers 5, whose label is the first one's).
pub fn task_name<'a>(id: &'a str, label: Option<&'a str>) -> &'a str {
    match label {
        Some(l) if l.len() > id.len() && l.ends_with(id) => l,
        _ => id,
    }
}

/// `1 task`, `2 tasks`: `noun` is the singular; the plural adds `s`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {}", plural(noun))
    }
}

/// A duration at a glance: `0.4s`, `12.3s`, `4m 05s`, `1h 02m`.
pub fn duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// The plural of one of the nouns the program counts.
fn plural(noun: &str) -> Cow<'_, str> {
    match noun {
        "is" => Cow::Borrowed("are"),
        "was" => Cow::Borrowed("were"),
        n if n.ends_with('y') && !n.ends_with("ey") => {
            Cow::Owned(format!("{}ies", &n[..n.len() - 1]))
        }
        n if n.ends_with('s') || n.ends_with("ch") || n.ends_with("sh") || n.ends_with('x') => {
            Cow::Owned(format!("{n}es"))
        }
        n => Cow::Owned(format!("{n}s")),
    }
}

/// `is` or `are` for `n` things.
pub fn is_are(n: usize) -> &'static str {
    if n == 1 { "is" } else { "are" }
}

/// `SIGINT` or `SIGTERM`, for messages.
pub fn signal_name(sig: i32) -> &'static str {
    if sig == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

/// `was` or `were` for `n` things.
pub fn was_were(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_named_by_its_label_only_when_the_label_ends_in_its_id() {
        assert_eq!(task_name("3", Some("Task 3")), "Task 3");
        assert_eq!(task_name("09.1", Some("Phase 09.1")), "Phase 09.1");
        assert_eq!(task_name("T012", None), "T012");
        // The second task a document numbers 5 keeps the first one's label.
        assert_eq!(task_name("5#2", Some("Task 5")), "5#2");
    }

    #[test]
    fn quoting_leaves_plain_words_and_quotes_the_rest() {
        assert_eq!(quote("TASK-001"), "TASK-001");
        assert_eq!(quote("docs/plan.md"), "docs/plan.md");
        assert_eq!(quote("Phase 2"), "'Phase 2'");
        assert_eq!(quote("it's"), r#""it's""#);
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(touch pwned)"), "'$(touch pwned)'");
        assert_eq!(
            command_line(&["git", "milestone", "run", "a b"]),
            "git milestone run 'a b'"
        );
    }

    #[test]
    fn quoting_never_passes_a_terminal_escape() {
        let q = quote("M1\x1b]0;owned\x07");
        assert!(!q.contains('\x1b') && !q.contains('\x07'), "{q}");
        assert_eq!(q, r"'M1\x1b]0;owned\x07'");
    }

    #[test]
    fn clean_escapes_controls_and_keeps_the_rest() {
        assert_eq!(clean("Add the parser ✅"), "Add the parser ✅");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("a\x1b[2Kb"), r"a\x1b[2Kb");
        assert_eq!(clean("line\nnext\r"), r"line\x0anext\x0d");
        assert_eq!(clean("\u{9b}31m"), r"\x9b31m");
        assert_eq!(clean("abc\u{202e}fed"), r"abc\u{202e}fed");
        assert_eq!(clean("\x1b]52;c;aGk=\x07"), r"\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn lists_name_the_first_few_then_count_the_rest() {
        assert_eq!(list::<&str>(&[], 5), "");
        assert_eq!(list(&["a"], 5), "a");
        assert_eq!(list(&["a", "b"], 5), "a and b");
        assert_eq!(list(&["a", "b", "c"], 5), "a, b and c");
        assert_eq!(list(&["a", "b", "c", "d"], 2), "a, b and 2 more");
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "task"), "1 task");
        assert_eq!(count(0, "task"), "0 tasks");
        assert_eq!(count(2, "milestone"), "2 milestones");
        assert_eq!(count(3, "dependency"), "3 dependencies");
        assert_eq!(count(2, "match"), "2 matches");
        assert_eq!(count(2, "pass"), "2 passes");
        assert_eq!(is_are(1), "is");
        assert_eq!(is_are(4), "are");
        assert_eq!((was_were(1), was_were(2)), ("was", "were"));
    }
}
