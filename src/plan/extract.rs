//! Markdown in, tasks out: IDs, titles, marks, dependencies and source lines.
//! Pure: no git, no file system.
//!
//! The steps: find every place that defines an ID (`defs`), keep those in
//! the milestone's section and ID family (`scope`), fold duplicate
//! definitions and their marks together, drop parents that only group
//! their children, then read dependency statements (`deps`).

use std::collections::{HashMap, HashSet};

use super::defs::{self, Def, Site};
use super::deps::{self, Group};
use super::ids::{self, Known, Scheme};
use super::markdown::Doc;
use super::marks::{self, Mark};
use super::scope::{self, Scope};
use super::{Edge, Extracted, Task, Warning};
use crate::error::{Error, Result};

/// Read the tasks of `milestone` out of a plan document.
///
/// When the document holds several milestones, only the named one's section
/// counts. Returns a `BadInput` error "no task IDs found" when there are none.
pub fn extract(text: &str, milestone: &str) -> Result<Extracted> {
    extract_in(text, milestone, "the plan")
}

/// [`extract`], naming the plan file `path` in its errors.
pub fn extract_in(text: &str, milestone: &str, path: &str) -> Result<Extracted> {
    let doc = Doc::parse(text);
    let all = defs::collect(&doc);
    let mut known = Known::default();
    for d in &all {
        known.add(&d.id, &d.scheme);
    }
    let scope = scope::select(&doc, &all, milestone);
    let mut warnings = Vec::new();
    let chosen = choose(&doc, &scope, &all, &mut warnings);
    let mut tasks = fold(&doc, &chosen, &mut warnings);
    if tasks.is_empty() {
        return Err(no_task_ids(path, milestone));
    }
    attach_runners(&doc, &chosen, &mut tasks);
    let edges = edges(&doc, &chosen, &tasks, &known);
    let mut deps_of: HashMap<&str, Vec<String>> = HashMap::new();
    for e in &edges {
        deps_of
            .entry(&e.task)
            .or_default()
            .push(e.depends_on.clone());
    }
    for t in &mut tasks {
        t.depends_on = deps_of.remove(t.id.as_str()).unwrap_or_default();
    }
    warnings.extend(edge_warnings(&tasks, &edges, &known));
    warnings.sort_by_key(|w| w.line);
    Ok(Extracted {
        tasks,
        edges,
        warnings,
    })
}

/// The error for a document without a single task ID.
pub fn no_task_ids(path: &str, milestone: &str) -> Error {
    Error::bad_input(format!("no task IDs found in {path}"))
        .hint(
            "git milestone runs tasks by ID: write each task as `- [ ] T001 …`, \
             `TASK-001: …` or `- [ ] 1.1 …`",
        )
        .hint(format!(
            "if the milestone's tasks are in another file, name it: \
             `git milestone plan {} --plan <path>`",
            crate::ui::text::quote(milestone)
        ))
}

/// The definitions that make up the milestone: in scope, not in an example
/// or deferred section, of the document's main ID family, from the most
/// trusted kind of site.
fn choose<'d>(
    doc: &Doc<'_>,
    scope: &Scope,
    all: &'d [Def],
    warnings: &mut Vec<Warning>,
) -> Vec<&'d Def> {
    let mut in_scope: Vec<&Def> = Vec::new();
    for d in all.iter().filter(|d| scope.contains(d)) {
        match scope::left_out(doc, scope, d) {
            Some(why) if d.site == Site::Checkbox || d.site == Site::Heading => {
                warnings.push(Warning {
                    line: Some(doc.line_of(d.start)),
                    message: format!("{} is left out: {why}", d.id),
                });
            }
            Some(_) => {}
            None => in_scope.push(d),
        }
    }
    let Some(family) = main_family(&in_scope) else {
        return Vec::new();
    };
    let others: Vec<&Def> = in_scope
        .iter()
        .copied()
        .filter(|d| d.scheme != family)
        .collect();
    if let Some(first) = others.first() {
        let mut names: Vec<&str> = others.iter().map(|d| d.id.as_str()).collect();
        names.dedup();
        let more = names.len().saturating_sub(5);
        names.truncate(5);
        warnings.push(Warning {
            line: Some(doc.line_of(first.start)),
            message: format!(
                "{}{} {} of another ID kind than the plan's tasks; left out",
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                },
                if names.len() + more == 1 { "is" } else { "are" },
            ),
        });
    }
    in_scope.retain(|d| d.scheme == family);
    // In a checklist plan, a plain bullet that starts with an ID it does not
    // otherwise define is a note ("- T010: see below"), not a task; in a
    // plan of numbered items, one stray checkbox changes nothing.
    let boxed: HashSet<&str> = in_scope
        .iter()
        .filter(|d| d.site == Site::Checkbox)
        .map(|d| d.id.as_str())
        .collect();
    let plain = in_scope
        .iter()
        .filter(|d| matches!(d.site, Site::ListItem | Site::Line))
        .count();
    if !boxed.is_empty() && boxed.len() >= plain {
        in_scope.retain(|d| {
            !matches!(d.site, Site::ListItem | Site::Line) || boxed.contains(d.id.as_str())
        });
    }
    in_scope
}

/// The ID family with the most weight: checkbox items count most.
fn main_family(defs: &[&Def]) -> Option<Scheme> {
    let mut weight: Vec<(Scheme, usize)> = Vec::new();
    for d in defs {
        let w = match d.site {
            Site::Checkbox => 3,
            Site::Heading | Site::Row => 2,
            Site::ListItem | Site::Line => 1,
        };
        match weight.iter_mut().find(|(s, _)| *s == d.scheme) {
            Some((_, n)) => *n += w,
            None => weight.push((d.scheme.clone(), w)),
        }
    }
    // Earliest family wins a tie: `max_by_key` keeps the last maximum.
    weight
        .into_iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s)
}

/// Kiro parent of `2.3` is `2`; of `10.2a`, `10`.
fn parent_id(id: &str) -> Option<&str> {
    id.rsplit_once('.').map(|(p, _)| p)
}

/// The text of a definition that is its own: its extent without the title
/// and without the definitions nested in it.
fn own_body(doc: &Doc<'_>, d: &Def, chosen: &[&Def]) -> String {
    let mut out = String::new();
    let mut at = d.title_end.min(d.extent.end);
    let mut nested: Vec<&Def> = chosen
        .iter()
        .copied()
        .filter(|n| n.start > d.start && n.start < d.extent.end)
        .collect();
    nested.sort_by_key(|n| n.start);
    for n in nested {
        if n.start > at {
            out.push_str(&doc.text[at..n.start]);
        }
        at = at.max(n.extent.end);
    }
    if at < d.extent.end {
        out.push_str(&doc.text[at..d.extent.end]);
    }
    out
}

/// One task per ID, in document order: the first definition gives title and
/// line; every definition's marks count, and conflicting marks mean not done.
fn fold(doc: &Doc<'_>, chosen: &[&Def], warnings: &mut Vec<Warning>) -> Vec<Task> {
    let mut by_id: HashMap<&str, Vec<&Def>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for d in chosen {
        by_id.entry(&d.id).or_insert_with(|| {
            order.push(&d.id);
            Vec::new()
        });
        if let Some(v) = by_id.get_mut(d.id.as_str()) {
            v.push(d)
        }
    }
    let children: Vec<&str> = chosen.iter().filter_map(|d| parent_id(&d.id)).collect();
    let mut tasks = Vec::new();
    for id in order {
        let ds = &by_id[id];
        let first = ds[0];
        let bodies: Vec<String> = ds.iter().map(|d| own_body(doc, d, chosen)).collect();
        if first.scheme == Scheme::Dotted
            && children.contains(&id)
            && bodies.iter().all(|b| b.trim().is_empty())
        {
            continue; // a parent that only groups its sub-tasks
        }
        let votes: Vec<Mark> = ds
            .iter()
            .zip(&bodies)
            .flat_map(|(d, b)| votes(d, b))
            .collect();
        if votes.contains(&Mark::LeftOut) {
            warnings.push(Warning {
                line: Some(doc.line_of(first.start)),
                message: format!(
                    "{id} is left out: it is marked deferred, removed or struck through"
                ),
            });
            continue;
        }
        duplicate_warning(doc, ds, warnings);
        let parent = parent_id(id)
            .filter(|p| by_id.contains_key(p))
            .map(str::to_string);
        tasks.push(Task {
            id: id.to_string(),
            title: first.title.clone(),
            line: doc.line_of(first.start),
            done: votes.contains(&Mark::Done) && !votes.contains(&Mark::NotDone),
            optional: ds.iter().any(|d| d.optional),
            parent,
            depends_on: Vec::new(),
            runner: None,
        });
    }
    tasks
}

fn votes(d: &Def, body: &str) -> Vec<Mark> {
    let mut v = Vec::new();
    if d.struck {
        v.push(Mark::LeftOut);
    }
    v.extend(d.check.map(marks::checkbox));
    v.extend(d.status_cell.as_deref().and_then(marks::classify));
    v.extend(d.title_mark);
    if d.site != Site::Checkbox {
        v.extend(body.lines().find_map(marks::status_line));
    }
    v
}

fn duplicate_warning(doc: &Doc<'_>, ds: &[&Def], warnings: &mut Vec<Warning>) {
    let norm = |s: &str| {
        s.to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let first = ds[0];
    for d in &ds[1..] {
        if d.site == first.site && norm(&d.title) != norm(&first.title) {
            warnings.push(Warning {
                line: Some(doc.line_of(d.start)),
                message: format!(
                    "{} is defined twice: \"{}\" (line {}) and \"{}\" (line {}); using the first",
                    first.id,
                    first.title,
                    doc.line_of(first.start),
                    d.title,
                    doc.line_of(d.start)
                ),
            });
        }
    }
}

/// A ```` ```sh milestone ```` block in a task's own text is its runner.
fn attach_runners(doc: &Doc<'_>, chosen: &[&Def], tasks: &mut [Task]) {
    for code in &doc.code {
        let mut words = code.info.split_whitespace();
        let shell = words
            .next()
            .is_some_and(|w| matches!(w, "sh" | "bash" | "shell"));
        if !shell || !words.any(|w| w == "milestone") {
            continue;
        }
        let owner = chosen
            .iter()
            .filter(|d| d.extent.contains(&code.range.start))
            .max_by_key(|d| d.start);
        if let Some(d) = owner
            && let Some(t) = tasks
                .iter_mut()
                .find(|t| t.id == d.id && t.runner.is_none())
        {
            t.runner = Some(code.body.trim_end().to_string());
        }
    }
}

/// The blocks dependency statements are read from: item first paragraphs,
/// paragraphs and table rows, outside code.
fn units(doc: &Doc<'_>) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for item in &doc.items {
        // The item's first paragraph, as its title is read: a continuation
        // line (`  **Depends on:** T001`) belongs to it, a nested item not.
        out.push(item.range.start..super::defs::title_end(doc, &item.range));
    }
    out.extend(doc.paragraphs.iter().cloned());
    out.extend(doc.rows.iter().map(|r| r.range.clone()));
    out.retain(|r| !doc.in_code(r.start));
    out
}

fn groups(doc: &Doc<'_>, chosen: &[&Def], tasks: &[Task]) -> Vec<Group> {
    let task_ids: HashSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    let mut out = Vec::new();
    for h in &doc.headings {
        let inside: Vec<String> = chosen
            .iter()
            .filter(|d| h.start <= d.start && d.start < h.section_end)
            .filter(|d| task_ids.contains(d.id.as_str()))
            .map(|d| d.id.clone())
            .collect();
        if !inside.is_empty() {
            out.push(Group {
                aliases: deps::aliases(&h.text),
                tasks: inside,
            });
        }
    }
    // Story tags on the tasks themselves: `T014 [P] [US1] …`.
    for d in chosen.iter().filter(|d| task_ids.contains(d.id.as_str())) {
        for tag in &d.tags {
            let tag = tag.to_lowercase();
            if tag.len() > 2
                && tag.starts_with("us")
                && tag[2..].bytes().all(|b| b.is_ascii_digit())
            {
                match out.iter_mut().find(|g| g.aliases == [tag.clone()]) {
                    Some(g) => g.tasks.push(d.id.clone()),
                    None => out.push(Group {
                        aliases: vec![tag],
                        tasks: vec![d.id.clone()],
                    }),
                }
            }
        }
    }
    out
}

/// Every dependency edge whose waiting task is one of `tasks`.
/// Edges in the order found, each (task, prerequisite) pair once: the
/// first statement of it gives the line. Pairs are remembered by number so
/// that a phase-level statement (thousands of pairs) allocates little.
#[derive(Default)]
struct Edges {
    list: Vec<Edge>,
    numbers: HashMap<String, u32>,
    seen: HashSet<(u32, u32)>,
}

impl Edges {
    fn number(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.numbers.get(id) {
            return n;
        }
        let n = u32::try_from(self.numbers.len()).unwrap_or(u32::MAX);
        self.numbers.insert(id.to_string(), n);
        n
    }

    fn add(&mut self, task: &str, on: &str, line: usize, reason: &str) {
        let key = (self.number(task), self.number(on));
        if task != on && self.seen.insert(key) {
            self.list.push(Edge {
                task: task.to_string(),
                depends_on: on.to_string(),
                line,
                reason: reason.to_string(),
            });
        }
    }
}

fn edges(doc: &Doc<'_>, chosen: &[&Def], tasks: &[Task], known: &Known) -> Vec<Edge> {
    let groups = groups(doc, chosen, tasks);
    let task_ids: HashSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    let is_task = |id: &str| task_ids.contains(id);
    let dep_sections = scope::dependency_sections(doc);
    let mut out = Edges::default();
    for unit in units(doc) {
        let subject = chosen
            .iter()
            .filter(|d| d.extent.contains(&unit.start))
            .max_by_key(|d| d.start)
            .map(|d| d.id.as_str());
        let dep_section = dep_sections.iter().any(|r| r.contains(&unit.start));
        let text = &doc.text[unit.clone()];
        let found = deps::statements(text, subject, known, dep_section.then_some(&groups[..]));
        for s in found {
            let line = doc.line_of(unit.start + s.offset);
            let reason = match (dep_section, subject) {
                (true, _) => format!("\"{}\" in a dependency section", s.phrase),
                (false, Some(_)) => format!("\"{}\" in the task's text", s.phrase),
                (false, None) => format!("\"{}\" in prose", s.phrase),
            };
            for w in s.waits.iter().filter(|w| is_task(w)) {
                for o in &s.on {
                    out.add(w, o, line, &reason);
                }
            }
        }
    }
    table_edges(doc, chosen, known, &is_task, &mut out);
    out.list
}

/// A table column headed "Depends on" (or "Blocked by", "After") lists
/// what its row's task waits for.
fn table_edges(
    doc: &Doc<'_>,
    chosen: &[&Def],
    known: &Known,
    is_task: &dyn Fn(&str) -> bool,
    out: &mut Edges,
) {
    for row in &doc.rows {
        let Some(d) = chosen
            .iter()
            .find(|d| d.site == Site::Row && d.start == row.range.start)
        else {
            continue;
        };
        if !is_task(&d.id) {
            continue;
        }
        for (cell, header) in row.cells.iter().zip(&row.header) {
            if !defs::is_dependency_header(header) {
                continue;
            }
            let reason = format!("the \"{header}\" column");
            for o in ids::references(cell, known) {
                out.add(&d.id, &o, doc.line_of(row.range.start), &reason);
            }
        }
    }
}

/// Dependencies on IDs the document never defines, and dependencies that
/// the document's own order contradicts.
fn edge_warnings(tasks: &[Task], edges: &[Edge], known: &Known) -> Vec<Warning> {
    let pos: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut out = Vec::new();
    for e in edges {
        if !known.contains(&e.depends_on) {
            out.push(Warning {
                line: Some(e.line),
                message: format!(
                    "{} depends on {}, which this plan does not define; it does not hold up {}",
                    e.task, e.depends_on, e.task
                ),
            });
        } else if let (Some(&a), Some(&b)) =
            (pos.get(e.task.as_str()), pos.get(e.depends_on.as_str()))
            && b > a
        {
            out.push(Warning {
                line: Some(e.line),
                message: format!(
                    "{} is listed before {} but depends on it; {} runs first",
                    e.task, e.depends_on, e.depends_on
                ),
            });
        }
    }
    out
}
