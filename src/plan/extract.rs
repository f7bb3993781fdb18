//! Markdown in, tasks out: which units are the milestone's tasks, their
//! marks, what was left out and why. Pure: no git, no file system.
//!
//! The steps: candidate units (`units`) in the milestone's scope (`scope`),
//! the task family among them (`family`), every definition of each task's
//! ID gathered (the same phase as a checklist item, a details heading and a
//! progress-table row is one task), containers that only group sub-tasks
//! set aside, marks read, then dependencies (`edges`).

use std::collections::{HashMap, HashSet};

use super::family::{self, Choice, Family, Role};
use super::label::{Shape, key, parent_number};
use super::markdown::Doc;
use super::marks::{self, Mark};
use super::scope::{self, Scope};
use super::units::{Kind, Unit};
use super::{DependsOn, Extracted, LeftOut, Task, Warning};
use crate::error::{Error, Result};

/// Read the tasks of `milestone` out of a plan document.
///
/// When the document holds several milestones, only the named one's part
/// counts. A document with nothing that looks like a unit of work is a
/// `BadInput` error.
pub fn extract(text: &str, milestone: &str) -> Result<Extracted> {
    extract_in(text, milestone, "the plan")
}

/// [`extract`], naming the plan file `path` in its errors.
pub fn extract_in(text: &str, milestone: &str, path: &str) -> Result<Extracted> {
    let doc = Doc::parse(text);
    let units = super::units::collect(&doc);
    let scope = scope::select(&doc, &units, milestone)
        .map_err(|n| not_this_milestone(path, milestone, &n.names))?;
    let mut r = Reading::new(&doc, &units, &scope);
    r.candidates();
    let choice = family::choose(&units, &r.candidates, &r.unlabelled);
    let mut tasks = match &choice.tasks {
        Some(f) => r.family_tasks(f, choice.sub.as_ref()),
        None => r.generated_tasks(),
    };
    if tasks.list.is_empty() {
        return Err(nothing_to_run(path, milestone));
    }
    r.report_others(&choice);
    r.report_unplaced(&tasks);
    let mut unsure: Vec<String> = scope.unsure.clone().into_iter().collect();
    unsure.extend(choice.unsure);
    unsure.append(&mut r.disagreements);
    let read = super::edges::read(&doc, &units, &tasks.defs, &tasks);
    r.warnings.extend(read.warnings);
    attach_runners(&doc, &units, &tasks.defs, &mut tasks.list);
    let names = std::sync::Arc::new(read.names);
    for (t, list) in tasks.list.iter_mut().zip(read.depends) {
        t.depends_on = DependsOn::new(names.clone(), list);
    }
    r.warnings.sort_by_key(|w| w.line);
    r.left_out.sort_by_key(|l| l.line);
    Ok(Extracted {
        tasks: tasks.list,
        deps: read.deps,
        warnings: r.warnings,
        left_out: r.left_out,
        unsure,
    })
}

/// The error for a document with nothing that looks like a unit of work.
pub fn nothing_to_run(path: &str, milestone: &str) -> Error {
    Error::bad_input(format!("no tasks found in {path}"))
        .hint(
            "git milestone runs a plan's units of work: checklist items (`- [ ] …`), \
             numbered headings (`## Task 3: …`), table rows with an ID column, \
             or `<task>` elements",
        )
        .hint(format!(
            "if the milestone's tasks are in another file, name it: \
             `git milestone plan {} --plan <path>`",
            crate::ui::text::quote(milestone)
        ))
}

fn not_this_milestone(path: &str, milestone: &str, names: &[String]) -> Error {
    Error::bad_input(format!(
        "{path} does not name milestone {}: it names {}",
        crate::ui::text::quote(milestone),
        crate::ui::text::list(names, 8)
    ))
    .hint(format!(
        "use one of those names, e.g. `git milestone plan {} --plan {}`",
        crate::ui::text::quote(&names[0]),
        crate::ui::text::quote(path)
    ))
}

/// The tasks read so far, in document order, with the units defining each.
pub struct Tasks {
    pub list: Vec<Task>,
    /// Per task: the units that define it (first the one in scope).
    pub defs: Vec<Vec<usize>>,
    /// The task family's shape.
    pub shape: Shape,
}

/// Why a unit in scope is set aside before families are weighed.
enum Aside {
    /// An example, deferred or criteria section: left out.
    Section(String),
    /// A section that only mentions tasks: not a definition.
    Mention,
}

struct Reading<'d> {
    doc: &'d Doc<'d>,
    units: &'d [Unit],
    scope: &'d Scope,
    /// Labelled units and checkbox items in scope, not set aside.
    candidates: Vec<usize>,
    /// The checkbox items among them that have no label.
    unlabelled: Vec<usize>,
    aside: HashMap<usize, Aside>,
    warnings: Vec<Warning>,
    left_out: Vec<LeftOut>,
    disagreements: Vec<String>,
    /// Units reported as left out already.
    reported: HashSet<usize>,
}

impl<'d> Reading<'d> {
    fn new(doc: &'d Doc<'d>, units: &'d [Unit], scope: &'d Scope) -> Reading<'d> {
        Reading {
            doc,
            units,
            scope,
            candidates: Vec::new(),
            unlabelled: Vec::new(),
            aside: HashMap::new(),
            warnings: Vec::new(),
            left_out: Vec::new(),
            disagreements: Vec::new(),
            reported: HashSet::new(),
        }
    }

    fn line(&self, i: usize) -> usize {
        self.doc.line_of(self.units[i].start)
    }

    /// A unit as a left-out report names it.
    fn name(&self, i: usize) -> String {
        let u = &self.units[i];
        match &u.label {
            Some(l) => l.display(),
            None => {
                let t: String = u.title.chars().take(40).collect();
                if t.len() < u.title.len() {
                    format!("\"{t}…\"")
                } else {
                    format!("\"{t}\"")
                }
            }
        }
    }

    fn leave_out(&mut self, i: usize, reason: String) {
        if self.reported.insert(i) {
            self.left_out.push(LeftOut {
                line: self.line(i),
                item: self.name(i),
                reason,
            });
        }
    }

    /// Units that look like work: a label, or a checkbox.
    fn looks_like_work(u: &Unit) -> bool {
        u.label.is_some() || u.kind == Kind::Checkbox
    }

    fn aside_of(&self, u: &Unit) -> Option<Aside> {
        let why = scope::set_aside(self.doc, self.scope, u)?;
        Some(if why.starts_with("the section") {
            Aside::Mention
        } else {
            Aside::Section(why)
        })
    }

    fn candidates(&mut self) {
        for i in 0..self.units.len() {
            let u = &self.units[i];
            if !Self::looks_like_work(u) || !self.scope.contains(self.units, i) {
                continue;
            }
            match self.aside_of(u) {
                Some(Aside::Section(why)) => {
                    self.aside.insert(i, Aside::Section(why.clone()));
                    self.leave_out(i, why);
                }
                Some(Aside::Mention) => {
                    self.aside.insert(i, Aside::Mention);
                }
                None => {
                    self.candidates.push(i);
                    if u.label.is_none() {
                        self.unlabelled.push(i);
                    }
                }
            }
        }
    }
}

/// One task before its marks are read.
struct Draft {
    id: String,
    /// Defining units: the first is where the title and line come from.
    defs: Vec<usize>,
    /// Units that only mention it (a queue, a summary), for its position.
    seen: Vec<usize>,
    /// Which label of the unit defines it (0 the main one, then extras).
    label_of: HashMap<usize, usize>,
}

impl Reading<'_> {
    /// The shape's units outside the scope that may still define a task:
    /// not in another milestone's region, not set aside.
    fn outside(&self, i: usize) -> Option<bool> {
        let u = &self.units[i];
        if self.scope.in_other(u.start) {
            return None;
        }
        match self.aside_of(u) {
            Some(Aside::Section(_)) => None,
            Some(Aside::Mention) => Some(false),
            None => Some(true),
        }
    }

    fn family_tasks(&mut self, f: &Family, sub: Option<&Family>) -> Tasks {
        let mut members: Vec<usize> = f.members.clone();
        members.extend(sub.iter().flat_map(|s| s.members.iter().copied()));
        members.sort_unstable();
        let members = self.without_notes(members);
        let shapes: Vec<Shape> = std::iter::once(f.shape.clone())
            .chain(sub.map(|s| s.shape.clone()))
            .collect();
        let mut drafts: Vec<Draft> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for &i in &members {
            let u = &self.units[i];
            for (n, l) in u.label.iter().chain(&u.extra).enumerate() {
                let at = *by_key.entry(key(&l.id)).or_insert_with(|| {
                    drafts.push(Draft {
                        id: l.id.clone(),
                        defs: Vec::new(),
                        seen: Vec::new(),
                        label_of: HashMap::new(),
                    });
                    drafts.len() - 1
                });
                drafts[at].defs.push(i);
                drafts[at].label_of.insert(i, n);
            }
        }
        let in_scope: HashSet<usize> = members.iter().copied().collect();
        self.fold_in(&shapes, &in_scope, &mut drafts, &mut by_key);
        let drafts = self.split_duplicates(drafts);
        self.finish(drafts, &f.shape, sub.map(|s| &s.shape))
    }

    /// In a checklist, a plain bullet that starts with an ID it does not
    /// otherwise define is a note ("- T010: see below"); in a plan of
    /// numbered items, one stray checkbox changes nothing.
    fn without_notes(&mut self, members: Vec<usize>) -> Vec<usize> {
        let units = self.units;
        let boxed: HashSet<String> = members
            .iter()
            .filter(|&&i| units[i].kind == Kind::Checkbox)
            .filter_map(|&i| units[i].label.as_ref().map(|l| key(&l.id)))
            .collect();
        let plain = members
            .iter()
            .filter(|&&i| matches!(units[i].kind, Kind::Item | Kind::Line))
            .count();
        if boxed.is_empty() || boxed.len() < plain {
            return members;
        }
        let mut kept = Vec::new();
        for i in members {
            let u = &units[i];
            let note = matches!(u.kind, Kind::Item | Kind::Line)
                && u.label
                    .as_ref()
                    .is_some_and(|l| !boxed.contains(&key(&l.id)));
            if note {
                self.leave_out(i, "a note in a checklist of tasks, not a task".into());
            } else {
                kept.push(i);
            }
        }
        kept
    }

    /// Other definitions of the tasks' IDs anywhere in the document (a
    /// details heading, a progress-table row), and phases inserted after a
    /// task (`7.1` after `7`) that no other milestone holds.
    fn fold_in(
        &self,
        shapes: &[Shape],
        in_scope: &HashSet<usize>,
        drafts: &mut Vec<Draft>,
        by_key: &mut HashMap<String, usize>,
    ) {
        let inserted = !self.scope.whole && matches!(shapes[0], Shape::Numbered(_));
        for (i, u) in self.units.iter().enumerate() {
            let Some(main) = &u.label else { continue };
            if in_scope.contains(&i) || !shapes.contains(&main.shape) {
                continue;
            }
            let Some(defines) = self.outside(i) else {
                continue;
            };
            for (n, l) in std::iter::once(main).chain(&u.extra).enumerate() {
                let k = key(&l.id);
                let at = match by_key.get(&k) {
                    Some(&at) => at,
                    None if inserted && defines && self.extends_a_task(&l.id, by_key) => {
                        drafts.push(Draft {
                            id: l.id.clone(),
                            defs: Vec::new(),
                            seen: Vec::new(),
                            label_of: HashMap::new(),
                        });
                        by_key.insert(k, drafts.len() - 1);
                        drafts.len() - 1
                    }
                    None => continue,
                };
                if defines {
                    drafts[at].defs.push(i);
                    drafts[at].label_of.insert(i, n);
                } else {
                    drafts[at].seen.push(i);
                }
            }
        }
    }

    fn extends_a_task(&self, id: &str, by_key: &HashMap<String, usize>) -> bool {
        let mut at = parent_number(id);
        while let Some(p) = at {
            if by_key.contains_key(&key(p)) {
                return true;
            }
            at = parent_number(p);
        }
        false
    }

    /// An ID defined twice by the same kind of unit with different titles
    /// is two tasks: the second is `ID#2`. The same title twice is one task.
    fn split_duplicates(&mut self, drafts: Vec<Draft>) -> Vec<Draft> {
        let mut out = Vec::new();
        for mut d in drafts {
            let mut extra: Vec<Draft> = Vec::new();
            let first = d.defs[0];
            let mut kept = vec![first];
            for &i in &d.defs[1..] {
                let (a, b) = (&self.units[first], &self.units[i]);
                let same_kind = a.kind == b.kind && a.kind != Kind::Row;
                if same_kind && !similar(&a.title, &b.title) {
                    let n = extra.len() + 2;
                    self.warnings.push(Warning {
                        line: Some(self.line(i)),
                        message: format!(
                            "{} is defined twice: \"{}\" (line {}) and \"{}\" (line {}); the second is {}#{n}",
                            d.id,
                            a.title,
                            self.line(first),
                            b.title,
                            self.line(i),
                            d.id
                        ),
                    });
                    extra.push(Draft {
                        id: format!("{}#{n}", d.id),
                        defs: vec![i],
                        seen: Vec::new(),
                        label_of: HashMap::from([(i, d.label_of.get(&i).copied().unwrap_or(0))]),
                    });
                } else {
                    kept.push(i);
                }
            }
            d.defs = kept;
            out.push(d);
            out.extend(extra);
        }
        out
    }
}

/// One mark of a task and where it is written.
struct Vote {
    mark: Mark,
    line: usize,
    /// What says so: `[x]`, `"Complete"`, `its title`.
    what: String,
}

impl Vote {
    fn new(mark: Mark, line: usize, what: String) -> Vote {
        Vote { mark, line, what }
    }
}

/// Two titles say the same thing: most of their words are shared (a path
/// written two ways does not make two tasks).
fn similar(a: &str, b: &str) -> bool {
    let words = |s: &str| -> HashSet<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let shared = a.intersection(&b).count();
    let all = a.union(&b).count();
    all == 0 || shared * 2 >= all
}

impl Reading<'_> {
    /// Containers, marks, positions: the drafts become tasks in order.
    fn finish(&mut self, drafts: Vec<Draft>, shape: &Shape, sub: Option<&Shape>) -> Tasks {
        let def_of: HashMap<usize, usize> = drafts
            .iter()
            .enumerate()
            .flat_map(|(d, dr)| dr.defs.iter().map(move |&u| (u, d)))
            .collect();
        let containers = self.containers(&drafts, &def_of, sub);
        let open_children = self.open_children(&def_of);
        let open = |d: usize| open_children.get(&d).copied();
        let positions = self.positions(&drafts);
        let mut order: Vec<usize> = (0..drafts.len()).collect();
        order.sort_by_key(|&d| positions[d]);
        let mut list = Vec::new();
        let mut defs = Vec::new();
        for d in order {
            let dr = &drafts[d];
            if containers.contains(&d) {
                continue;
            }
            let votes = self.votes(dr, open(d));
            if let Some(v) = votes.iter().find(|v| v.mark == Mark::LeftOut) {
                let why = if v.what == "struck through" {
                    "it is struck through".to_string()
                } else {
                    format!("it is marked {} (line {})", v.what, v.line)
                };
                self.leave_out(dr.defs[0], why);
                continue;
            }
            let parent = self.parent_of(dr, &drafts, &containers);
            list.push(self.task(dr, &votes, parent));
            defs.push(dr.defs.clone());
        }
        Tasks {
            list,
            defs,
            shape: shape.clone(),
        }
    }

    fn task(&mut self, dr: &Draft, votes: &[Vote], parent: Option<String>) -> Task {
        let first = dr.defs[0];
        let u = &self.units[first];
        let n = dr.label_of.get(&first).copied().unwrap_or(0);
        let l = u.label.iter().chain(&u.extra).nth(n);
        let has = |m: Mark| votes.iter().any(|v| v.mark == m);
        let done = has(Mark::Done) && !has(Mark::NotDone);
        if has(Mark::Done) && has(Mark::NotDone) {
            let says = |m: Mark| -> Vec<String> {
                votes
                    .iter()
                    .filter(|v| v.mark == m)
                    .map(|v| format!("{} (line {})", v.what, v.line))
                    .collect()
            };
            self.disagreements.push(format!(
                "{} counts as not done: marked done by {}, not done by {}",
                dr.id,
                crate::ui::text::list(&says(Mark::Done), 3),
                crate::ui::text::list(&says(Mark::NotDone), 3)
            ));
        }
        Task {
            id: dr.id.clone(),
            label: l.and_then(|l| l.word.as_ref().map(|_| l.display())),
            title: u.title.clone(),
            line: self.line(first),
            done,
            optional: dr.defs.iter().any(|&i| self.units[i].optional),
            parent,
            depends_on: DependsOn::default(),
            runner: None,
        }
    }

    /// The container a task sits in: the defined ID its number extends
    /// (`2` for `2.3`), or the task-family heading around it.
    fn parent_of(
        &self,
        dr: &Draft,
        drafts: &[Draft],
        containers: &HashSet<usize>,
    ) -> Option<String> {
        let p = parent_number(&dr.id)?;
        let k = key(p);
        drafts
            .iter()
            .enumerate()
            .find(|(d, o)| key(&o.id) == k && containers.contains(d))
            .map(|(_, o)| o.id.clone())
            .or_else(|| {
                drafts
                    .iter()
                    .find(|o| key(&o.id) == k)
                    .map(|o| o.id.clone())
            })
    }

    /// Drafts that only group others: a heading whose section holds other
    /// tasks; a numbered item with sub-tasks and no text of its own; a task
    /// whose sub-tasks extend its number (`Task 1` with `1.1`, `1.2`).
    fn containers(
        &self,
        drafts: &[Draft],
        def_of: &HashMap<usize, usize>,
        sub: Option<&Shape>,
    ) -> HashSet<usize> {
        let mut holds_others: HashSet<usize> = HashSet::new();
        for (&u, &d) in def_of {
            let mut at = self.units[u].parent;
            while let Some(p) = at {
                if let Some(&o) = def_of.get(&p)
                    && o != d
                {
                    holds_others.insert(o);
                }
                at = self.units[p].parent;
            }
        }
        let keys: HashSet<String> = drafts.iter().map(|d| key(&d.id)).collect();
        let mut has_children: HashSet<String> = HashSet::new();
        for d in drafts {
            let mut at = parent_number(&d.id);
            while let Some(p) = at {
                if keys.contains(&key(p)) {
                    has_children.insert(key(p));
                }
                at = parent_number(p);
            }
        }
        let mut out = HashSet::new();
        for (d, dr) in drafts.iter().enumerate() {
            let heading = dr.defs.iter().any(|&u| self.units[u].kind == Kind::Heading);
            let holds = holds_others.contains(&d);
            let grouped = has_children.contains(&key(&dr.id));
            // A section of sub-tasks (`## 2a.` over `2a.1`), or one with no
            // work of its own, groups; `## Task 1` with steps and a `### Task
            // 1a` inside is still a task.
            let empty = || dr.defs.iter().all(|&u| self.own_text_empty(u, def_of));
            let section = heading && holds && (grouped || empty());
            if section || grouped && empty() || sub.is_some() && holds {
                out.insert(d);
            }
        }
        out
    }

    /// Whether a unit has no text of its own besides its title and the
    /// task units nested in it.
    fn own_text_empty(&self, u: usize, def_of: &HashMap<usize, usize>) -> bool {
        let unit = &self.units[u];
        if unit.kind == Kind::Row {
            return true;
        }
        let mut at = unit.title_end.min(unit.extent.end);
        let mut i = u + 1;
        while i < self.units.len() && self.units[i].start < unit.extent.end {
            let n = &self.units[i];
            if def_of.contains_key(&i) && n.start >= at {
                if !self.doc.text[at..n.start].trim().is_empty() {
                    return false;
                }
                at = n.extent.end.max(at);
            }
            i += 1;
        }
        self.doc.text[at.min(unit.extent.end)..unit.extent.end]
            .trim()
            .is_empty()
    }

    /// Drafts with an open checkbox inside one of their definitions (not a
    /// task itself, not optional, not struck through).
    fn open_children(&self, def_of: &HashMap<usize, usize>) -> HashMap<usize, usize> {
        let mut out = HashMap::new();
        for (i, u) in self.units.iter().enumerate() {
            let open = u.kind == Kind::Checkbox
                && !u.check.is_some_and(|c| c == 'x' || c == 'X')
                && !u.optional
                && !u.struck
                && !def_of.contains_key(&i);
            if !open {
                continue;
            }
            let mut at = u.parent;
            while let Some(p) = at {
                if let Some(&d) = def_of.get(&p) {
                    out.entry(d).or_insert(self.line(i));
                    break;
                }
                at = self.units[p].parent;
            }
        }
        out
    }

    /// Every mark of every definition, with where it is written.
    fn votes(&self, dr: &Draft, open_child: Option<usize>) -> Vec<Vote> {
        let mut v = Vec::new();
        for &i in &dr.defs {
            let u = &self.units[i];
            let line = self.line(i);
            if u.struck {
                v.push(Vote::new(Mark::LeftOut, line, "struck through".into()));
            }
            if let Some(c) = u.check {
                v.push(Vote::new(marks::checkbox(c), line, format!("[{c}]")));
            }
            if let Some((st, m)) = u
                .status
                .as_deref()
                .and_then(|s| Some((s, marks::classify(s)?)))
            {
                v.push(Vote::new(m, line, format!("\"{}\"", st.trim())));
            }
            if let Some(m) = u.title_mark {
                v.push(Vote::new(m, line, "its title".into()));
            }
            if !matches!(u.kind, Kind::Checkbox | Kind::Row) {
                let body = &self.doc.text[u.title_end.min(u.extent.end)..u.extent.end];
                if let Some((l, m)) = body
                    .lines()
                    .take(40)
                    .find_map(|l| Some((l, marks::status_line(l)?)))
                {
                    v.push(Vote::new(m, line, format!("\"{}\"", l.trim())));
                }
            }
        }
        if let Some(line) = open_child.filter(|_| v.iter().any(|v| v.mark == Mark::Done)) {
            v.push(Vote::new(
                Mark::NotDone,
                line,
                "an open item inside it".into(),
            ));
        }
        v
    }

    /// Where each task sits in the sequence: where its ID first appears (a
    /// queue at the top of the document counts), and a sub-task sits where
    /// its parent does (Kiro lists finished parents at the top and their
    /// sub-tasks at the end).
    fn positions(&self, drafts: &[Draft]) -> Vec<(usize, usize)> {
        let first: Vec<usize> = drafts
            .iter()
            .map(|d| {
                let own = d.defs.iter().map(|&i| self.units[i].start).min();
                let seen = d.seen.iter().map(|&i| self.units[i].start).min();
                own.into_iter().chain(seen).min().unwrap_or(usize::MAX)
            })
            .collect();
        let by_key: HashMap<String, usize> = drafts
            .iter()
            .enumerate()
            .map(|(i, d)| (key(&d.id), i))
            .collect();
        drafts
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let anchor = parent_number(&d.id)
                    .and_then(|p| by_key.get(&key(p)))
                    .map_or(first[i], |&p| first[p].min(first[i]));
                (anchor, first[i])
            })
            .collect()
    }

    /// Checkbox items without IDs become the tasks, numbered in document
    /// order: `2.1`, `2.2` under a section numbered 2, else `1`, `2`, `3`.
    fn generated_tasks(&mut self) -> Tasks {
        let units = self.units;
        let boxes: Vec<usize> = self
            .unlabelled
            .iter()
            .copied()
            .filter(|&i| !has_checkbox_above(units, i))
            .filter(|&i| !units[i].struck)
            .collect();
        let section = |i: usize| {
            let mut at = units[i].parent;
            while let Some(p) = at {
                if units[p].kind == Kind::Heading
                    && let Some(l) = &units[p].label
                {
                    return Some(l.id.clone());
                }
                at = units[p].parent;
            }
            None
        };
        let sections: Vec<Option<String>> = boxes.iter().map(|&i| section(i)).collect();
        let numbered = sections.iter().all(Option::is_some);
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut list = Vec::new();
        let mut defs = Vec::new();
        for (n, (&i, s)) in boxes.iter().zip(&sections).enumerate() {
            let id = match s.as_deref().filter(|_| numbered) {
                Some(s) => {
                    let c = counts.entry(s.to_string()).or_default();
                    *c += 1;
                    format!("{s}.{c}")
                }
                None => (n + 1).to_string(),
            };
            let u = &units[i];
            let done = u.check.is_some_and(|c| c == 'x' || c == 'X');
            list.push(Task {
                id,
                label: None,
                title: u.title.clone(),
                line: self.line(i),
                done,
                optional: u.optional,
                parent: None,
                depends_on: DependsOn::default(),
                runner: None,
            });
            defs.push(vec![i]);
        }
        if let (Some(first), Some(last)) = (list.first(), list.last()) {
            self.warnings.push(Warning {
                line: Some(first.line),
                message: format!(
                    "no task has an ID: the {} checklist items are numbered {}–{} in document order, and their numbers change when items are added",
                    list.len(),
                    first.id,
                    last.id
                ),
            });
        }
        Tasks {
            list,
            defs,
            shape: Shape::Generated,
        }
    }

    /// Every other family's units, with the reason they were not taken.
    fn report_others(&mut self, choice: &Choice) {
        for (f, role, reason) in &choice.others {
            if *role == Role::Other {
                for &i in &f.members {
                    self.leave_out(i, reason.clone());
                }
            }
        }
    }

    /// Candidates that are neither tasks, nor inside a task, nor grouping
    /// tasks: checklist items without an ID outside the task list.
    fn report_unplaced(&mut self, tasks: &Tasks) {
        if tasks.shape == Shape::Generated {
            return;
        }
        let defs: HashSet<usize> = tasks.defs.iter().flatten().copied().collect();
        let units = self.units;
        let inside = |i: usize| {
            let mut at = units[i].parent;
            while let Some(p) = at {
                if defs.contains(&p) {
                    return true;
                }
                at = units[p].parent;
            }
            false
        };
        let lonely: Vec<usize> = self
            .unlabelled
            .iter()
            .copied()
            .filter(|&i| !inside(i) && !units[i].struck && !has_checkbox_above(units, i))
            .collect();
        for i in lonely {
            self.leave_out(
                i,
                "a checklist item without an ID, outside the tasks".into(),
            );
        }
    }
}

fn has_checkbox_above(units: &[Unit], i: usize) -> bool {
    let mut at = units[i].parent;
    while let Some(p) = at {
        if units[p].kind == Kind::Checkbox {
            return true;
        }
        at = units[p].parent;
    }
    false
}

/// A ```` ```sh milestone ```` block in a task's own text is its runner.
fn attach_runners(doc: &Doc<'_>, units: &[Unit], defs: &[Vec<usize>], tasks: &mut [Task]) {
    let task_of: HashMap<usize, usize> = defs
        .iter()
        .enumerate()
        .flat_map(|(t, ds)| ds.iter().map(move |&u| (u, t)))
        .collect();
    for code in &doc.code {
        let mut words = code.info.split_whitespace();
        let shell = words
            .next()
            .is_some_and(|w| matches!(w, "sh" | "bash" | "shell"));
        if !shell || !words.any(|w| w == "milestone") {
            continue;
        }
        let Some(mut at) = super::edges::unit_at(units, code.range.start) else {
            continue;
        };
        loop {
            if let Some(&t) = task_of.get(&at) {
                if tasks[t].runner.is_none() {
                    tasks[t].runner = Some(code.body.trim_end().to_string());
                }
                break;
            }
            match units[at].parent {
                Some(p) => at = p,
                None => break,
            }
        }
    }
}
