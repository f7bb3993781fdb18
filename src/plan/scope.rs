//! Which part of a document is the named milestone: a heading's section, a
//! `<details>` block, a list item, or only the table rows whose
//! Milestone/Phase/Stage column names it; and which sections are not the
//! milestone's sequence at all (examples, deferred work, notes that merely
//! mention IDs).

use std::collections::HashSet;
use std::ops::Range;

use super::label::Shape;
use super::markdown::Doc;
use super::names;
use super::units::{Kind, Unit};

/// The part of the document that holds one milestone.
#[derive(Debug, Default)]
pub struct Scope {
    /// The regions that name the milestone (empty with `whole`).
    pub regions: Vec<Range<usize>>,
    /// Start of the heading or line that names the milestone.
    pub named_at: Option<usize>,
    /// Table rows (unit indices) whose milestone column names it.
    pub rows: HashSet<usize>,
    /// `M1` when IDs are namespaced by milestone (`M0-001`, `M1-001`).
    pub prefix: Option<String>,
    /// Regions that name other milestones.
    pub others: Vec<Range<usize>>,
    /// Nothing in the document names the milestone: all of it is.
    pub whole: bool,
    /// When the name matched two sections equally well.
    pub unsure: Option<String>,
    /// Per heading of the document: it sets its units aside (examples,
    /// deferred work), and it only talks about tasks (dependencies).
    pub headings: Vec<(bool, bool)>,
}

impl Scope {
    /// Whether unit `i` is in the milestone.
    pub fn contains(&self, units: &[Unit], i: usize) -> bool {
        let u = &units[i];
        let placed = self.whole
            || self.rows.contains(&i)
            || self.regions.iter().any(|r| r.contains(&u.start));
        placed && self.in_namespace(u)
    }

    fn in_namespace(&self, u: &Unit) -> bool {
        self.prefix.as_ref().is_none_or(|p| {
            u.label
                .as_ref()
                .is_some_and(|l| l.id.rsplit_once('-').is_some_and(|(dp, _)| dp == p))
        })
    }

    /// Whether `offset` is in another milestone's region (and not in this one's).
    pub fn in_other(&self, offset: usize) -> bool {
        self.others.iter().any(|r| r.contains(&offset))
            && !self.regions.iter().any(|r| r.contains(&offset))
    }
}

/// Why a document is not the named milestone's plan: the milestones it names.
#[derive(Debug)]
pub struct NotHere {
    pub names: Vec<String>,
}

/// Lower-case words; a dot inside a word stays (`5.5`, `v1.1`), so
/// "Phase 5" does not name "Phase 5.5". A version's pre-release suffix
/// stays too (`0.4.0-rc.1`), so "0.4.0" does not name "0.4.0-rc.1".
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = s.chars().flat_map(char::to_lowercase).peekable();
    while let Some(c) = chars.next() {
        let suffix = c == '-'
            && is_version(word.trim_matches('.'))
            && chars.peek().is_some_and(|n| n.is_alphabetic());
        if c.is_alphanumeric() || c == '.' || suffix {
            word.push(c);
            continue;
        }
        push_word(&mut out, &mut word);
    }
    push_word(&mut out, &mut word);
    out
}

fn push_word(out: &mut Vec<String>, word: &mut String) {
    let w = word.trim_matches('.');
    if !w.is_empty() {
        out.push(w.to_string());
    }
    word.clear();
}

/// `1.2`, `v0.4.0`: digits with a dot, after an optional `v`.
fn is_version(w: &str) -> bool {
    let n = w.strip_prefix('v').unwrap_or(w);
    n.starts_with(|c: char| c.is_ascii_digit())
        && n.contains('.')
        && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
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

/// How well a text names the milestone: 2 when it starts with the name,
/// 1 when it contains it, 0 when not at all.
fn name_score(text: &str, name: &[String]) -> u8 {
    let words = tokens(text);
    let Some(at) = words.windows(name.len()).position(|w| w == name) else {
        return 0;
    };
    let lead_only = words[..at]
        .iter()
        .all(|w| LEAD_WORDS.contains(&w.as_str()) || w.bytes().all(|b| b.is_ascii_digit()));
    if lead_only { 2 } else { 1 }
}

/// The other common spelling of a short milestone or phase name:
/// `M1` ↔ `Milestone 1`, `P2` ↔ `Phase 2`.
fn spelled_out(name: &[String]) -> Option<Vec<String>> {
    const SHORT: &[(&str, &str)] = &[("m", "milestone"), ("p", "phase")];
    match name {
        [one] => SHORT.iter().find_map(|(short, long)| {
            let n = one.strip_prefix(short)?;
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                .then(|| vec![long.to_string(), n.to_string()])
        }),
        [word, n] if n.bytes().all(|b| b.is_ascii_digit()) => SHORT
            .iter()
            .find(|(_, long)| word == long)
            .map(|(short, _)| vec![format!("{short}{n}")]),
        _ => None,
    }
}

/// A place that may name a milestone: its text, where it starts, the
/// region it stands for.
struct Place {
    text: String,
    start: usize,
    region: Range<usize>,
}

/// Headings, `<details>` summaries and list items that stand for a region
/// holding units of work.
fn places(doc: &Doc<'_>, units: &[Unit]) -> Vec<Place> {
    // Units of work by start, to test "holds a unit" with a binary search.
    let work: Vec<usize> = units
        .iter()
        .filter(|u| u.label.is_some() || u.kind == Kind::Checkbox)
        .map(|u| u.start)
        .collect();
    let holds = |r: &Range<usize>, own: usize| {
        let i = work.partition_point(|&s| s <= own);
        work.get(i).is_some_and(|&s| s < r.end)
    };
    let mut out = Vec::new();
    for u in units {
        let lexical = u.label.as_ref().is_some_and(|l| {
            matches!(l.shape, Shape::Prefixed(_) | Shape::Glued(_) | Shape::Issue)
        });
        let named = matches!(u.kind, Kind::Heading) || u.kind == Kind::Item && u.label.is_none();
        if named && !lexical && holds(&u.extent, u.start) {
            let text = match u.kind {
                Kind::Heading => doc.text[doc.line_range(u.start)]
                    .trim_start_matches(['#', ' '])
                    .to_string(),
                _ => u.title.clone(),
            };
            out.push(Place {
                text: super::markdown::plain(&text),
                start: u.start,
                region: u.extent.clone(),
            });
        }
    }
    for d in &doc.details {
        out.push(Place {
            text: d.summary.clone(),
            start: d.range.start,
            region: d.range.clone(),
        });
    }
    // A plain list item over nested units: `- **M2 — Sync**` and its items.
    for item in &doc.items {
        let own = doc.line_range(item.range.start);
        if doc.in_code(item.range.start) || !holds(&item.range, own.end) {
            continue;
        }
        let line = &doc.text[own];
        let Some((body, _)) = super::units::strip_list_marker(line) else {
            continue;
        };
        if body.starts_with('[') {
            continue;
        }
        out.push(Place {
            text: super::markdown::plain(body),
            start: item.range.start,
            region: item.range.clone(),
        });
    }
    out.sort_by_key(|p| p.start);
    out
}

/// Scope the document to `milestone`. A document that names no milestone
/// like it is all one milestone; one that names others of the same kind
/// but not this one is not its plan.
pub fn select(doc: &Doc<'_>, units: &[Unit], milestone: &str) -> Result<Scope, NotHere> {
    let name = tokens(milestone);
    let mut scope = Scope {
        headings: doc
            .headings
            .iter()
            .map(|h| (names_a_set_aside(&h.text), names_any(&h.text, ABOUT_TASKS)))
            .collect(),
        ..Scope::default()
    };
    if name.is_empty() {
        scope.whole = true;
        return Ok(scope);
    }
    let alt = spelled_out(&name);
    let score = |text: &str| {
        let s = name_score(text, &name);
        alt.as_ref().map_or(s, |a| s.max(name_score(text, a)))
    };
    let places = places(doc, units);
    let best = best_place(doc, &places, &score, &mut scope);
    for (i, u) in units.iter().enumerate() {
        if u.scope_cells.iter().any(|(_, cell)| score(cell) == 2) {
            scope.rows.insert(i);
        }
    }
    // Other milestones are the places named like this one: for `v1.1`
    // the `v1.0` block, not the `Phase 6` details that belong to it.
    let kind = best
        .and_then(|p| names::milestone_named(&p.text))
        .or_else(|| names::milestone_named(milestone))
        .or_else(|| names::milestone_named(&alt.as_ref()?.join(" ")))
        .map(|n| kind_of(&n));
    let other_names = other_milestones(&places, kind.as_deref(), &mut scope);
    if scope.regions.is_empty() && scope.rows.is_empty() {
        if !other_names.is_empty() {
            return Err(NotHere { names: other_names });
        }
        scope.whole = true;
    }
    scope.prefix = namespace(units, &name);
    Ok(scope)
}

/// The place that names the milestone best (the first of equals, which
/// makes the reading unsure), made the scope's region.
fn best_place<'p>(
    doc: &Doc<'_>,
    places: &'p [Place],
    score: &dyn Fn(&str) -> u8,
    scope: &mut Scope,
) -> Option<&'p Place> {
    let (bs, p) = places
        .iter()
        .map(|p| (score(&p.text), p))
        .filter(|(s, _)| *s > 0)
        .fold(None::<(u8, &Place)>, |best, (s, p)| match best {
            Some((bs, _)) if bs >= s => best,
            _ => Some((s, p)),
        })?;
    scope.regions.push(p.region.clone());
    scope.named_at = Some(p.start);
    let rival = places.iter().find(|o| {
        o.start != p.start
            && !p.region.contains(&o.start)
            && !o.region.contains(&p.start)
            && score(&o.text) == bs
    });
    if let Some(o) = rival {
        scope.unsure = Some(format!(
            "the name matches two sections, line {} and line {}; the first was taken",
            doc.line_of(p.start),
            doc.line_of(o.start)
        ));
    }
    Some(p)
}

/// The places that name other milestones of the same kind: their regions
/// go to `scope.others`, their names are returned.
fn other_milestones(places: &[Place], kind: Option<&str>, scope: &mut Scope) -> Vec<String> {
    let mut names = Vec::new();
    for p in places {
        let Some(n) = names::milestone_named(&p.text) else {
            continue;
        };
        let inside = scope
            .regions
            .iter()
            .any(|r| r.contains(&p.start) || p.region.contains(&r.start));
        if Some(p.start) != scope.named_at && !inside && kind == Some(kind_of(&n).as_str()) {
            scope.others.push(p.region.clone());
            names.push(n);
        }
    }
    names
}

/// What kind of milestone name: its word (`milestone`, `phase`) or `v`.
fn kind_of(name: &str) -> String {
    let lower = name.to_lowercase();
    let word: String = lower.chars().take_while(|c| c.is_alphabetic()).collect();
    match word.as_str() {
        "m" => "milestone".into(),
        _ => word,
    }
}

/// `M1` when the document's IDs are namespaced by milestone (`M0-001`,
/// `M1-001`, `M2-001`) and the name mentions one of the namespaces.
fn namespace(units: &[Unit], name: &[String]) -> Option<String> {
    let mut prefixes: Vec<&str> = Vec::new();
    for u in units {
        if let Some(l) = &u.label
            && let Shape::Prefixed(key) = &l.shape
            && key.contains('#')
            && let Some((p, _)) = l.id.rsplit_once('-')
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

/// Nouns that make a section a specimen of the format rather than work
/// ("Examples", "Task template"); a numbered section ("## 9. Docs +
/// Templates") that produces them is still a step of the list.
const SPECIMENS: &[&str] = &[
    "example",
    "examples",
    "sample",
    "samples",
    "template",
    "templates",
    "placeholder",
    "placeholders",
];

/// Section names whose tasks are not part of the sequence.
const NOT_THE_SEQUENCE: &[&str] = &[
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
    "follow-up",
    "follow-ups",
    "followups",
    "wishlist",
    "someday",
];
const NOT_THE_SEQUENCE_PHRASES: &[&str] = &[
    "out of scope",
    "won't do",
    "not planned",
    "follow up",
    "definition of done",
    "acceptance criteria",
    "success criteria",
    "done when",
    "exit criteria",
    "parking lot",
    "nice to have",
];

/// Words that make a heading part of the sequence whatever else it says
/// ("Phase 4: Template engine").
const SEQUENCE_WORDS: &[&str] = &["phase", "milestone", "sprint", "slice", "story", "stage"];

/// "Examples", "Tasks deferred to v2", "Out of scope": a set-aside word
/// anywhere in a heading that is not itself a phase of the sequence (a
/// specimen noun only in a heading that is not numbered).
pub fn names_a_set_aside(heading: &str) -> bool {
    let lower = heading.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if words.iter().any(|w| SEQUENCE_WORDS.contains(&w.as_str())) {
        return false;
    }
    let numbered = super::label::number(heading.trim_start())
        .is_some_and(|(_, n)| heading.trim_start()[n..].starts_with(['.', ')', ':']));
    words.iter().any(|w| {
        NOT_THE_SEQUENCE.contains(&w.as_str()) || !numbered && SPECIMENS.contains(&w.as_str())
    }) || NOT_THE_SEQUENCE_PHRASES.iter().any(|p| lower.contains(p))
}

/// Section names that talk about tasks defined elsewhere.
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

/// Why a unit is not one of the milestone's units of work, if it is not:
/// it sits in an example, deferred or criteria section, or it is a bullet
/// or row in a section that only talks about tasks.
pub fn set_aside(doc: &Doc<'_>, scope: &Scope, u: &Unit) -> Option<String> {
    for i in doc.headings_over(u.start) {
        let h = &doc.headings[i];
        let (aside, about) = scope.headings[i];
        if !aside && !about {
            continue;
        }
        let own = h.start == u.start;
        if own || h.level == 1 || Some(h.start) == scope.named_at {
            continue;
        }
        // A heading above the milestone's own (the document's title, a
        // "Roadmap" section) says nothing about its units.
        if scope
            .regions
            .iter()
            .any(|r| h.start < r.start && r.start < h.section_end)
        {
            continue;
        }
        if aside {
            return Some(format!("it is under the heading \"{}\"", h.text));
        }
        let bullet = matches!(u.kind, Kind::Item | Kind::Line | Kind::Row);
        if bullet && about {
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
