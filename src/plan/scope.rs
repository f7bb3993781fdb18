//! Which part of a document is the named milestone, and which sections are
//! not the milestone's sequence at all (examples, deferred work, dependency
//! notes that merely mention IDs).

use std::ops::Range;

use super::defs::{Def, Site};
use super::ids::Scheme;
use super::markdown::{Doc, Heading};

/// The part of the document that holds one milestone.
#[derive(Debug)]
pub struct Scope {
    pub range: Range<usize>,
    /// Start of the heading that names the milestone, if one does.
    pub heading: Option<usize>,
    /// `M1` when IDs are namespaced by milestone (`M0-001`, `M1-001`).
    pub prefix: Option<String>,
}

impl Scope {
    pub fn contains(&self, d: &Def) -> bool {
        self.range.contains(&d.start)
            && self
                .prefix
                .as_ref()
                .is_none_or(|p| d.id.rsplit_once('-').is_some_and(|(dp, _)| dp == p))
    }
}

/// Lower-case words; a dot inside a word stays (`5.5`, `tanks-303.1` gives
/// `303.1`), so "Phase 5" does not name "Phase 5.5".
fn tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Words that may come before a milestone's name in its heading ("5.
/// Milestone M1 – …", "Phase 2: …") without making the match weaker.
const LEAD_WORDS: &[&str] = &[
    "milestone",
    "phase",
    "stage",
    "sprint",
    "release",
    "epic",
    "iteration",
    "part",
    "step",
    "plan",
    "tasks",
    "for",
];

/// How well a heading names the milestone: 2 when it starts with the name,
/// 1 when it contains it, 0 when not at all.
fn heading_score(heading: &Heading, name: &[String]) -> u8 {
    let words = tokens(&heading.text);
    let Some(at) = words.windows(name.len()).position(|w| w == name) else {
        return 0;
    };
    let lead_only = words[..at]
        .iter()
        .all(|w| LEAD_WORDS.contains(&w.as_str()) || w.bytes().all(|b| b.is_ascii_digit()));
    if lead_only { 2 } else { 1 }
}

/// Scope the document to `milestone`: the best heading that names it and
/// holds task definitions, and the milestone's ID namespace if IDs have one.
/// A document that does not name the milestone is all one milestone.
pub fn select(doc: &Doc<'_>, defs: &[Def], milestone: &str) -> Scope {
    let name = tokens(milestone);
    let mut scope = Scope {
        range: 0..doc.text.len(),
        heading: None,
        prefix: None,
    };
    if name.is_empty() {
        return scope;
    }
    let best = doc
        .headings
        .iter()
        .filter(|h| {
            // A task's own heading (`### M1-001: …`) names the task, not the
            // milestone, even when the ID carries the milestone's name.
            !defs.iter().any(|d| d.start == h.start)
                && defs
                    .iter()
                    .any(|d| h.start <= d.start && d.start < h.section_end)
        })
        .map(|h| {
            let spelled = spelled_out(&name).map_or(0, |alt| heading_score(h, &alt));
            (heading_score(h, &name).max(spelled), h)
        })
        .filter(|(s, _)| *s > 0)
        .fold(None::<(u8, &Heading)>, |best, (s, h)| match best {
            Some((bs, _)) if bs >= s => best,
            _ => Some((s, h)),
        });
    if let Some((_, h)) = best {
        scope.range = h.start..h.section_end;
        scope.heading = Some(h.start);
    }
    scope.prefix = namespace(defs, &name);
    scope
}

/// The other common spelling of a short milestone or phase name:
/// `M1` ↔ `Milestone 1`, `P2` ↔ `Phase 2`.
fn spelled_out(name: &[String]) -> Option<Vec<String>> {
    const SHORT: &[(&str, &str)] = &[("m", "milestone"), ("p", "phase")];
    match name {
        [one] => SHORT.iter().find_map(|(short, long)| {
            let n = one.strip_prefix(short)?;
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| vec![long.to_string(), n.to_string()])
        }),
        [word, n] if n.bytes().all(|b| b.is_ascii_digit()) => SHORT
            .iter()
            .find(|(_, long)| word == long)
            .map(|(short, _)| vec![format!("{short}{n}")]),
        _ => None,
    }
}

/// `M1` when the document's IDs are namespaced by milestone (`M0-001`,
/// `M1-001`, `M2-001`) and the name mentions one of the namespaces.
fn namespace(defs: &[Def], name: &[String]) -> Option<String> {
    let mut prefixes: Vec<&str> = Vec::new();
    for d in defs {
        if let Scheme::Prefixed(key) = &d.scheme
            && key.contains('#')
            && let Some((p, _)) = d.id.rsplit_once('-')
            && !prefixes.contains(&p)
        {
            prefixes.push(p);
        }
    }
    if prefixes.len() < 2 {
        return None;
    }
    prefixes
        .into_iter()
        .find(|p| name.iter().any(|w| w.eq_ignore_ascii_case(p)))
        .map(str::to_string)
}

/// Section names whose tasks are not part of the sequence.
const NOT_THE_SEQUENCE: &[&str] = &[
    "example",
    "examples",
    "sample",
    "samples",
    "template",
    "templates",
    "placeholder",
    "placeholders",
    "deferred",
    "removed",
    "backlog",
    "future",
    "icebox",
    "cancelled",
    "canceled",
    "dropped",
    "obsolete",
    "superseded",
    "wontfix",
];
const NOT_THE_SEQUENCE_PHRASES: &[&str] = &["out of scope", "won't do", "not planned"];

/// Words that make a heading part of the sequence whatever else it says
/// ("Phase 4: Template engine").
const SEQUENCE_WORDS: &[&str] = &["phase", "milestone", "sprint", "slice", "story", "stage"];

/// "Examples", "Tasks deferred to v2", "Out of scope": a set-aside word
/// anywhere in a heading that is not itself a phase of the sequence.
fn names_a_set_aside(heading: &str) -> bool {
    let words = tokens(heading);
    if words.iter().any(|w| SEQUENCE_WORDS.contains(&w.as_str())) {
        return false;
    }
    let lower = heading.to_lowercase();
    words.iter().any(|w| NOT_THE_SEQUENCE.contains(&w.as_str()))
        || NOT_THE_SEQUENCE_PHRASES.iter().any(|p| lower.contains(p))
}

/// Section names that talk about tasks already defined elsewhere.
const ABOUT_TASKS: &[&str] = &[
    "dependency",
    "dependencies",
    "depends",
    "execution order",
    "parallel",
    "summary",
    "statistics",
    "progress log",
    "blockers",
];

fn names_any(heading: &str, phrases: &[&str]) -> bool {
    let words = tokens(heading).join(" ");
    phrases.iter().any(|p| {
        words == *p
            || words.starts_with(&format!("{p} "))
            || words.ends_with(&format!(" {p}"))
            || words.contains(&format!(" {p} "))
    })
}

/// Why a definition is not one of the milestone's tasks, if it is not:
/// it sits in an example or deferred section, or it is a bullet in a
/// dependency section that only talks about a task.
pub fn left_out(doc: &Doc<'_>, scope: &Scope, d: &Def) -> Option<String> {
    for h in doc.headings_over(d.start) {
        let own = h.start == d.start;
        if own || h.level == 1 || Some(h.start) == scope.heading || h.start < scope.range.start {
            continue;
        }
        if names_a_set_aside(&h.text) {
            return Some(format!("it is under the heading \"{}\"", h.text));
        }
        let bullet = matches!(d.site, Site::ListItem | Site::Line | Site::Row);
        if bullet && names_any(&h.text, ABOUT_TASKS) {
            return Some(format!("the section \"{}\" only mentions it", h.text));
        }
    }
    None
}

/// The sections about dependencies or order, as byte ranges.
pub fn dependency_sections(doc: &Doc<'_>) -> Vec<Range<usize>> {
    doc.headings
        .iter()
        .filter(|h| {
            names_any(
                &h.text,
                &[
                    "dependency",
                    "dependencies",
                    "depends",
                    "execution order",
                    "blockers",
                    "sequencing",
                ],
            )
        })
        .map(|h| h.start..h.section_end)
        .collect()
}
