//! Markdown in, tasks out: which units are the milestone's tasks, their
//! marks, what was left out and why. Pure: no git, no file system.
//!
//! The steps: candidate units (`units`) in the milestone's scope (`scope`),
//! the task family among them (`family`), the family's units made tasks
//! (`tasks`), or checklist items numbered when nothing has a label, then
//! dependencies (`edges`).

use std::collections::{HashMap, HashSet};

use super::family::{self, Choice, Role};
use super::label::Shape;
use super::markdown::Doc;
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
        let table = table_without_separator(&doc).map(|line| {
            format!(
                "line {line} looks like a table row, but its table has no `|---|` line \
                 under the header, so Markdown reads it as text: add one"
            )
        });
        return Err(nothing_to_run(path, milestone, table));
    }
    r.report_others(&choice);
    r.report_too_long(&choice);
    r.report_unplaced(&tasks);
    let mut unsure: Vec<String> = scope.unsure.clone().into_iter().collect();
    unsure.extend(choice.unsure);
    unsure.append(&mut r.disagreements);
    let read = super::edges::read(&doc, &units, &tasks.defs, &tasks);
    r.warnings.extend(read.warnings);
    attach_runners(&doc, &units, &tasks.defs, &mut tasks.list);
    super::checks::attach(&doc, &units, &tasks.defs, &mut tasks.list);
    let names = std::sync::Arc::new(read.names);
    for (t, list) in tasks.list.iter_mut().zip(read.depends) {
        t.depends_on = DependsOn::new(names.clone(), list);
    }
    r.warnings.sort_by_key(|w| w.line);
    r.left_out.sort_by_key(|l| l.line);
    Ok(Extracted {
        tasks: tasks.list,
        deps: read.deps,
        parallel: read.parallel,
        warnings: r.warnings,
        left_out: r.left_out,
        unsure,
    })
}

/// The document read as far as its tasks, each with the units that define
/// it: for writing a task's mark back (`write_back`). `None` when the
/// document does not name the milestone.
pub(super) fn with_tasks<R>(
    text: &str,
    milestone: &str,
    f: impl FnOnce(&Doc<'_>, &[Unit], &Tasks) -> R,
) -> Option<R> {
    let doc = Doc::parse(text);
    let units = super::units::collect(&doc);
    let scope = scope::select(&doc, &units, milestone).ok()?;
    let mut r = Reading::new(&doc, &units, &scope);
    r.candidates();
    let choice = family::choose(&units, &r.candidates, &r.unlabelled);
    let tasks = match &choice.tasks {
        Some(f) => r.family_tasks(f, choice.sub.as_ref()),
        None => r.generated_tasks(),
    };
    Some(f(&doc, &units, &tasks))
}

/// The error for a document with nothing that looks like a unit of work,
/// with what went wrong first when the reader can tell.
pub fn nothing_to_run(path: &str, milestone: &str, first: Option<String>) -> Error {
    let e = Error::bad_input(format!("no tasks found in {path}"));
    match first {
        Some(h) => e.hint(h),
        None => e,
    }
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

/// The first line of a paragraph that is written like a table row (`| T001
/// | … |`): a table whose separator line is missing is only text.
fn table_without_separator(doc: &Doc<'_>) -> Option<usize> {
    doc.paragraphs.iter().find_map(|p| {
        doc.text[p.clone()]
            .lines()
            .position(|l| {
                let t = l.trim();
                t.starts_with('|') && t.matches('|').count() >= 3
            })
            .map(|n| doc.line_of(p.start) + n)
    })
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
pub(super) enum Aside {
    /// An example, deferred or criteria section: left out.
    Section(String),
    /// A section that only mentions tasks: not a definition.
    Mention,
}

pub(super) struct Reading<'d> {
    pub(super) doc: &'d Doc<'d>,
    pub(super) units: &'d [Unit],
    pub(super) scope: &'d Scope,
    /// Labelled units and checkbox items in scope, not set aside.
    pub(super) candidates: Vec<usize>,
    /// The checkbox items among them that have no label.
    pub(super) unlabelled: Vec<usize>,
    pub(super) aside: HashMap<usize, Aside>,
    pub(super) warnings: Vec<Warning>,
    pub(super) left_out: Vec<LeftOut>,
    pub(super) disagreements: Vec<String>,
    /// Units reported as left out already.
    pub(super) reported: HashSet<usize>,
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

    pub(super) fn line(&self, i: usize) -> usize {
        self.doc.line_of(self.units[i].start)
    }

    /// A unit as a left-out report names it.
    fn name(&self, i: usize) -> String {
        let u = &self.units[i];
        match (&u.label, &u.too_long) {
            (Some(l), _) => l.display(),
            (None, Some((l, _))) => {
                let full = l.display();
                let shown: String = full.chars().take(24).collect();
                if shown.len() < full.len() {
                    format!("{shown}…")
                } else {
                    full
                }
            }
            (None, None) => {
                let t: String = u.title.chars().take(40).collect();
                if t.len() < u.title.len() {
                    format!("\"{t}…\"")
                } else {
                    format!("\"{t}\"")
                }
            }
        }
    }

    pub(super) fn leave_out(&mut self, i: usize, reason: String) {
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

    pub(super) fn aside_of(&self, u: &Unit) -> Option<Aside> {
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

impl Reading<'_> {
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
        let ids = generated_ids(units, &boxes);
        let mut list = Vec::new();
        let mut defs = Vec::new();
        for (&i, id) in boxes.iter().zip(ids) {
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
                verify: Vec::new(),
                allow_empty: false,
                parallel: u.tags.iter().any(|g| g == "P"),
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

    /// Units of the tasks' shape whose ID is too long to be one.
    fn report_too_long(&mut self, choice: &Choice) {
        let shapes: Vec<&Shape> = choice
            .tasks
            .iter()
            .chain(&choice.sub)
            .map(|f| &f.shape)
            .collect();
        for i in 0..self.units.len() {
            let u = &self.units[i];
            let Some((label, why)) = &u.too_long else {
                continue;
            };
            if shapes.contains(&&label.shape)
                && self.scope.contains(self.units, i)
                && self.aside_of(u).is_none()
            {
                let why = why.clone();
                self.leave_out(i, why);
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

/// `2.1`, `2.2` for items under a section labelled 2, when every item is
/// under a labelled section; else `1`, `2`, `3` in document order.
fn generated_ids(units: &[Unit], boxes: &[usize]) -> Vec<String> {
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
    if !sections.iter().all(Option::is_some) {
        return (1..=boxes.len()).map(|n| n.to_string()).collect();
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    sections
        .into_iter()
        .flatten()
        .map(|s| {
            let c = counts.entry(s.clone()).or_default();
            *c += 1;
            format!("{s}.{c}")
        })
        .collect()
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
