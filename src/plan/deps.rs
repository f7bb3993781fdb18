//! Dependencies stated in prose and tables: "T005 depends on T002 + T004",
//! "T004 and T005 must be done before T006", "(blocked by #8824/#8825)",
//! and phase-level statements ("US4 (Phase 6): Depends on US1 + US2").

use super::ids::{Known, references};

/// Phrases after which the left side waits for the right side.
const WAITS_FOR: &[&str] = &[
    "depends on",
    "depend on",
    "dependent on",
    "depends upon",
    "blocked by",
    "waits for",
    "requires",
    "after",
    "needs",
    "follows",
    "follow",
    // Labels: "**Dependencies**: T001, T002", "Prerequisites: #12".
    "dependencies",
    "dependency",
    "prerequisites",
    "prerequisite",
];
/// Phrases after which the right side waits for the left side.
const COMES_BEFORE: &[&str] = &["before", "feeds", "blocks", "precedes", "unblocks"];

/// One dependency statement: every task in `waits` waits for every task in `on`.
#[derive(Debug, PartialEq, Eq)]
pub struct Statement {
    pub waits: Vec<String>,
    pub on: Vec<String>,
    /// Byte offset of the relation word in the unit.
    pub offset: usize,
    pub phrase: &'static str,
}

/// A phase or user story: the names it goes by and the tasks it holds.
#[derive(Debug, Default)]
pub struct Group {
    pub aliases: Vec<String>,
    pub tasks: Vec<String>,
}

/// Where a relation phrase occurs as whole words, earliest first.
fn find_phrase(lower: &str, from: usize) -> Option<(usize, &'static str, bool)> {
    let mut best: Option<(usize, &'static str, bool)> = None;
    for (list, waits) in [(WAITS_FOR, true), (COMES_BEFORE, false)] {
        for &p in list {
            let mut at = from;
            while let Some(i) = lower[at..].find(p) {
                let s = at + i;
                let e = s + p.len();
                let before_ok = lower[..s]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                let after_ok = lower[e..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                if before_ok && after_ok {
                    if best.is_none_or(|b| s < b.0) {
                        best = Some((s, p, waits));
                    }
                    break;
                }
                at = e;
            }
        }
    }
    best
}

/// Clauses of `text`: split at `;` and sentence ends, so "T012 feeds
/// T013–T017; sanitizer logic required before wiring" is two statements.
fn clauses(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let end = c == b';' || (c == b'.' && b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()));
        if end {
            out.push((start, &text[start..i]));
            start = i + 1;
        }
    }
    out.push((start, &text[start..]));
    out
}

/// The statements in one block of text (a bullet, paragraph or table row).
///
/// `subject` is the task whose own text this is: a clause with no ID before
/// its relation word is about that task. `groups`, when given, lets phase
/// and story names stand for their tasks (in dependency sections only).
pub fn statements(
    text: &str,
    subject: Option<&str>,
    known: &Known,
    groups: Option<&[Group]>,
) -> Vec<Statement> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower`
    // index `text` too.
    let lower = text.to_ascii_lowercase();
    clauses(text)
        .into_iter()
        .filter_map(|(at, clause)| {
            let low = &lower[at..at + clause.len()];
            let mut s = statement(clause, low, subject, known, groups)?;
            s.offset += at;
            Some(s)
        })
        .collect()
}

/// The first relation in a clause that names tasks on both sides: in
/// "**Dependencies**: depends on T001" the label names nothing, so the
/// phrase after it counts.
fn statement(
    clause: &str,
    low: &str,
    subject: Option<&str>,
    known: &Known,
    groups: Option<&[Group]>,
) -> Option<Statement> {
    let mut from = 0;
    while let Some((k, phrase, waits)) = find_phrase(low, from) {
        from = k + phrase.len();
        // The right side ends at the next relation or an aside ("after
        // Foundational - integrates with US1" waits for Foundational only).
        let mut right_end = find_phrase(low, from).map_or(clause.len(), |n| n.0);
        for aside in [" - ", " — ", " – ", " but "] {
            if let Some(i) = low[from..right_end].find(aside) {
                right_end = from + i;
            }
        }
        let right = side(&clause[from..right_end], known, groups);
        if right.is_empty() {
            continue;
        }
        let mut left = side(&clause[..k], known, groups);
        if left.is_empty() {
            left.extend(subject.map(str::to_string));
        }
        if left.is_empty() {
            return None;
        }
        let (waits, on) = if waits { (left, right) } else { (right, left) };
        return Some(Statement {
            waits,
            on,
            offset: k,
            phrase,
        });
    }
    None
}

/// The tasks one side of a statement names: its IDs if it has any, else the
/// groups it names.
fn side(text: &str, known: &Known, groups: Option<&[Group]>) -> Vec<String> {
    let ids = references(text, known);
    if !ids.is_empty() {
        return ids;
    }
    let Some(groups) = groups else {
        return Vec::new();
    };
    let lower = text.to_lowercase();
    let every_story = names_every_story(&lower);
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        let story = g.aliases.iter().any(|a| is_story(a));
        if (every_story && story) || g.aliases.iter().any(|a| mentions(&lower, a)) {
            for t in &g.tasks {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
    }
    out
}

fn is_story(alias: &str) -> bool {
    alias
        .strip_prefix("us")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// "all user stories", "any user story phases", "every story": each story.
fn names_every_story(lower: &str) -> bool {
    let quantified = ["all ", "any ", "every ", "each "]
        .iter()
        .any(|q| has_words(lower, q.trim()));
    quantified && (lower.contains("user stor") || lower.contains("stories"))
}

/// Whether `lower` names the group alias `alias` ("phase 2", "us3", "setup"),
/// including story numbers written out and phase ranges ("Phase 3-8").
fn mentions(lower: &str, alias: &str) -> bool {
    if let Some(n) = alias.strip_prefix("us") {
        return has_words(lower, alias)
            || has_words(lower, &format!("user story {n}"))
            || has_words(lower, &format!("story {n}"));
    }
    if let Some(n) = alias.strip_prefix("phase ") {
        if has_words(lower, alias) {
            return true;
        }
        return phase_ranges(lower).iter().any(|(a, b)| {
            n.split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .is_some_and(|m| *a <= m && m <= *b)
        });
    }
    has_words(lower, alias)
}

fn has_words(hay: &str, needle: &str) -> bool {
    let mut at = 0;
    while let Some(i) = hay[at..].find(needle) {
        let s = at + i;
        let e = s + needle.len();
        let before = hay[..s].chars().next_back();
        let after = hay[e..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '.');
        if edge(before)
            && (edge(after)
                || after == Some('.') && !hay[e + 1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            return true;
        }
        at = e;
    }
    false
}

/// `phase 3-8`, `phases 3–8`: inclusive ranges of phase numbers.
fn phase_ranges(lower: &str) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for (i, _) in lower.match_indices("phase") {
        let rest = lower[i + 5..].trim_start_matches('s').trim_start();
        let a: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let rest = rest[a.len()..].trim_start();
        let Some(rest) = rest
            .strip_prefix('-')
            .or_else(|| rest.strip_prefix('–'))
            .or_else(|| rest.strip_prefix("to "))
        else {
            continue;
        };
        let b: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
            out.push((a, b));
        }
    }
    out
}

/// Words that do not name a phase on their own.
const NOT_NAMES: &[&str] = &[
    "user",
    "story",
    "stories",
    "phase",
    "task",
    "tasks",
    "the",
    "and",
    "implementation",
    "milestone",
    "week",
    "part",
    "step",
    "stage",
    "core",
    "final",
    "other",
];

/// The names a phase heading goes by: `phase 3`, `us1`, its first word.
pub fn aliases(heading: &str) -> Vec<String> {
    let lower = heading.to_lowercase();
    let mut out = Vec::new();
    if let Some(i) = lower.find("phase ") {
        let n: String = lower[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let n = n.trim_end_matches('.');
        if !n.is_empty() {
            out.push(format!("phase {n}"));
        }
    }
    for marker in ["user story ", "story "] {
        if let Some(i) = lower.find(marker) {
            let n: String = lower[i + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !n.is_empty() {
                out.push(format!("us{n}"));
            }
        }
    }
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.len() > 2 && word.starts_with("us") && word[2..].bytes().all(|b| b.is_ascii_digit())
        {
            out.push(word.to_string());
        }
    }
    let name = lower
        .split_once(':')
        .map_or(lower.as_str(), |(_, n)| n)
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty() && !w.bytes().all(|b| b.is_ascii_digit()));
    // Only a phase goes by its name alone ("Setup", "Polish"); a sub-section
    // such as "Setup for User Story 5" does not.
    if let Some(w) = name.filter(|_| lower.contains("phase "))
        && w.len() >= 4
        && !NOT_NAMES.contains(&w)
        && !w.starts_with("us")
    {
        out.push(w.to_string());
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::super::ids::Scheme;
    use super::*;

    fn known(ids: &[&str]) -> Known {
        let mut k = Known::default();
        for id in ids {
            k.add(id, &Scheme::Glued("T".into()));
        }
        k
    }

    fn pairs(s: &[Statement]) -> Vec<(Vec<String>, Vec<String>)> {
        s.iter().map(|s| (s.waits.clone(), s.on.clone())).collect()
    }

    #[test]
    fn before_and_after_point_the_right_way() {
        let k = known(&["T004", "T005", "T006", "T007"]);
        let s = statements(
            "T004 and T005 must be done before T006, T007.",
            None,
            &k,
            None,
        );
        assert_eq!(
            pairs(&s),
            [(
                vec!["T006".into(), "T007".into()],
                vec!["T004".into(), "T005".into()]
            )]
        );
        let s = statements("No (depends on T004, T005)", Some("T006"), &k, None);
        assert_eq!(
            pairs(&s),
            [(vec!["T006".into()], vec!["T004".into(), "T005".into()])]
        );
    }

    #[test]
    fn labels_and_a_label_before_a_phrase() {
        let k = known(&["T001", "T002", "T003"]);
        let s = statements("**Dependencies**: T001, T002", Some("T003"), &k, None);
        assert_eq!(
            pairs(&s),
            [(vec!["T003".into()], vec!["T001".into(), "T002".into()])]
        );
        let s = statements("Dependencies: depends on T002", Some("T003"), &k, None);
        assert_eq!(pairs(&s), [(vec!["T003".into()], vec!["T002".into()])]);
        let s = statements(
            "No dependencies - can start immediately",
            Some("T001"),
            &k,
            None,
        );
        assert_eq!(pairs(&s), []);
    }

    #[test]
    fn all_user_stories_means_each_story_group() {
        let groups = vec![
            Group {
                aliases: aliases("Phase 3: User Story 1 - Login"),
                tasks: vec!["T001".into()],
            },
            Group {
                aliases: aliases("Phase 4: User Story 2 - Logout"),
                tasks: vec!["T002".into()],
            },
            Group {
                aliases: aliases("Phase 5: Polish"),
                tasks: vec!["T003".into()],
            },
        ];
        let k = known(&[]);
        let s = statements(
            "**Polish (Phase 5)**: Depends on all desired user stories being complete",
            None,
            &k,
            Some(&groups),
        );
        assert_eq!(
            pairs(&s),
            [(vec!["T003".into()], vec!["T001".into(), "T002".into()])]
        );
    }

    #[test]
    fn clauses_split_at_semicolons() {
        let k = known(&["T012", "T013", "T014"]);
        let s = statements(
            "T012 feeds T013–T014; logic required before wiring",
            None,
            &k,
            None,
        );
        assert_eq!(
            pairs(&s),
            [(vec!["T013".into(), "T014".into()], vec!["T012".into()])]
        );
    }

    #[test]
    fn groups_resolve_by_phase_story_and_name() {
        let groups = vec![
            Group {
                aliases: aliases("Phase 1: Setup (Shared)"),
                tasks: vec!["T001".into()],
            },
            Group {
                aliases: aliases("Phase 3: User Story 1 - Login (Priority: P1)"),
                tasks: vec!["T002".into()],
            },
        ];
        assert_eq!(groups[0].aliases, ["phase 1", "setup"]);
        assert_eq!(groups[1].aliases, ["phase 3", "us1"]);
        let k = known(&[]);
        let s = statements(
            "**US1 (Phase 3)**: Depends on Setup completion",
            None,
            &k,
            Some(&groups),
        );
        assert_eq!(pairs(&s), [(vec!["T002".into()], vec!["T001".into()])]);
    }
}
