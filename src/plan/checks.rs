//! A task's own checks and marks, from its text in the plan: ```` ```sh
//! verify ```` blocks and `Verify: <command>` lines (each a check run after
//! the task, before its checkpoint), and an `Allow-empty: yes` line (the
//! task may change nothing).

use std::collections::HashMap;

use super::Task;
use super::markdown::Doc;
use super::units::Unit;

/// Give each task the checks and marks written in its own text (not in a
/// sub-task's: the nearest task around the line or block owns it).
pub(super) fn attach(doc: &Doc<'_>, units: &[Unit], defs: &[Vec<usize>], tasks: &mut [Task]) {
    let task_of: HashMap<usize, usize> = defs
        .iter()
        .enumerate()
        .flat_map(|(t, ds)| ds.iter().map(move |&u| (u, t)))
        .collect();
    let owner = |offset: usize| {
        let mut at = super::edges::unit_at(units, offset)?;
        loop {
            if let Some(&t) = task_of.get(&at) {
                return Some(t);
            }
            at = units[at].parent?;
        }
    };
    let mut found: Vec<(usize, usize, Field)> = Vec::new();
    for code in &doc.code {
        let mut words = code.info.split_whitespace();
        let shell = words
            .next()
            .is_some_and(|w| matches!(w, "sh" | "bash" | "shell"));
        if shell && words.any(|w| w == "verify") && !code.body.trim().is_empty() {
            let check = Field::Verify(code.body.trim_end().to_string());
            found.extend(owner(code.range.start).map(|t| (code.range.start, t, check)));
        }
    }
    let mut offset = 0;
    for line in doc.text.split_inclusive('\n') {
        let in_code = doc.code.iter().any(|c| c.range.contains(&offset));
        if let Some(field) = (!in_code).then(|| field(line)).flatten() {
            found.extend(owner(offset).map(|t| (offset, t, field)));
        }
        offset += line.len();
    }
    found.sort_by_key(|(at, _, _)| *at);
    for (_, t, field) in found {
        match field {
            Field::Verify(check) => tasks[t].verify.push(check),
            Field::AllowEmpty => tasks[t].allow_empty = true,
        }
    }
}

enum Field {
    Verify(String),
    AllowEmpty,
}

/// `Verify: cargo test`, `- **Verify**: `make check``, `Allow-empty: yes`.
fn field(line: &str) -> Option<Field> {
    let t = line.trim();
    let t = ["- ", "* ", "+ "]
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .unwrap_or(t)
        .trim_start();
    let (key, value) = t.split_once(':')?;
    let key = key.trim_matches(['*', '_', ' ']).to_ascii_lowercase();
    let value = value.trim_start_matches(['*', '_']).trim();
    match key.as_str() {
        "verify" => {
            let unquoted = value
                .strip_prefix('`')
                .and_then(|v| v.strip_suffix('`'))
                .filter(|v| !v.contains('`'))
                .unwrap_or(value);
            (!unquoted.is_empty()).then(|| Field::Verify(unquoted.to_string()))
        }
        "allow-empty" | "allow empty" => {
            matches!(value.to_ascii_lowercase().as_str(), "yes" | "true" | "1")
                .then_some(Field::AllowEmpty)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(line: &str) -> Option<String> {
        match field(line)? {
            Field::Verify(c) => Some(c),
            Field::AllowEmpty => None,
        }
    }

    #[test]
    fn verify_lines_in_their_usual_shapes() {
        assert_eq!(verify("Verify: cargo test").as_deref(), Some("cargo test"));
        assert_eq!(
            verify("- **Verify**: `make check`\n").as_deref(),
            Some("make check")
        );
        assert_eq!(
            verify("**Verify:** `a` and `b`").as_deref(),
            Some("`a` and `b`")
        );
        assert_eq!(verify("Verify:"), None);
        assert_eq!(verify("We verify: nothing"), None);
        assert!(matches!(field("Allow-empty: yes"), Some(Field::AllowEmpty)));
        assert!(field("Allow-empty: no").is_none());
    }
}
