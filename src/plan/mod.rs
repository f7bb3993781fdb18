//! Milestone plans: find the document, read its units of work, order them.
//!
//! `discover` is the only part that looks at the repository; `extract` and
//! `order` are pure functions of the document's text. The reading goes
//! blocks (`markdown`) → candidate units with labels (`units`, `label`) →
//! scope (`scope`) → families (`family`) → tasks, marks and what was left
//! out (`extract`, `marks`) → dependencies with their strength (`edges`,
//! `deps`, `ids`) → a stable topological order (`order`).

mod checks;
mod deps;
pub mod discover;
mod edges;
pub mod extract;
mod family;
mod groups;
mod ids;
mod label;
mod markdown;
mod marks;
mod negation;
pub mod order;
mod outline;
mod parallel;
mod scope;
mod table;
mod tasks;
mod units;
pub mod write_back;

use std::sync::Arc;

use serde::Serialize;

pub use deps::Strength;

/// One task of a milestone, as the plan document states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// The document's own token for the task: `TASK-003`, `T012`, `2.3`,
    /// `#123`; the number of a label with a unit word (`3` for `Task 3`);
    /// `5#2` for the second, different task a document numbers 5.
    pub id: String,
    /// The label as written when it has a unit word: `Task 3`, `Phase 7.1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The task's title, with Markdown markup removed.
    pub title: String,
    /// 1-based line of the task's definition in the plan file.
    pub line: usize,
    /// The document marks the task complete (and nothing contradicts it).
    pub done: bool,
    /// The document marks the task optional (Kiro `- [ ]*`, "(optional)").
    pub optional: bool,
    /// The ID of the task that contains this one (`2` for `2.3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// IDs this task depends on, in the order first stated. May name IDs
    /// outside the milestone (earlier milestones, other plans).
    pub depends_on: DependsOn,
    /// A runner command embedded in the plan under the task's heading
    /// (a ```` ```sh milestone ```` fenced block), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
    /// Checks written in the task's own text (```` ```sh verify ```` blocks,
    /// `Verify:` lines), run after it and before its checkpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<String>,
    /// The task may change nothing (an `Allow-empty: yes` line).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_empty: bool,
    /// The plan marks the task as one that may run beside its neighbours
    /// (spec-kit's `[P]`): `run --jobs N` runs a run of them together.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub parallel: bool,
}

impl Task {
    /// How messages name it: `Task 3` rather than `3` (see
    /// [`crate::ui::text::task_name`]).
    pub fn name(&self) -> &str {
        crate::ui::text::task_name(&self.id, self.label.as_deref())
    }
}

/// The IDs a task depends on: indices into one shared table of names, so a
/// plan where every task depends on all earlier ones stays cheap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DependsOn {
    names: Arc<Vec<String>>,
    list: Vec<u32>,
}

impl DependsOn {
    pub fn new(names: Arc<Vec<String>>, list: Vec<u32>) -> DependsOn {
        DependsOn { names, list }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|&i| self.names[i as usize].as_str())
    }

    /// Indices into the plan's names: tasks first (in document order).
    pub fn indices(&self) -> &[u32] {
        &self.list
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }

    /// Forget the dependency on the task with index `i`.
    pub fn remove(&mut self, i: u32) {
        self.list.retain(|&x| x != i);
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for DependsOn {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for DependsOn {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for DependsOn {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl Serialize for DependsOn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// One dependency statement and where the document states it: every task
/// in `waits` waits for every task in `on` (and for `external` IDs, which
/// hold nothing up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Tasks that wait, as indices into the tasks in document order.
    pub waits: Vec<u32>,
    /// Tasks waited for.
    pub on: Vec<u32>,
    /// IDs outside the milestone that the statement names.
    pub external: Vec<String>,
    /// 1-based line of the sentence, table row or field that states it.
    pub line: usize,
    /// Short description of the evidence, e.g. `"depends on" in prose`.
    pub reason: String,
    pub strength: Strength,
}

/// Tasks the plan says may run at the same time, and where it says so:
/// each of `tasks` beside each of `with` (indices into the tasks in
/// document order). Not an order: only `run --jobs` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parallel {
    pub tasks: Vec<u32>,
    pub with: Vec<u32>,
    /// 1-based line of the sentence that says so.
    pub line: usize,
    /// Short description of the evidence, e.g. `"in parallel with" in prose`.
    pub reason: String,
}

/// One dependency edge, as `plan --json --explain` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The task that waits.
    pub task: String,
    /// The task it waits for.
    pub depends_on: String,
    /// 1-based line of the sentence, table row or section that states it.
    pub line: usize,
    /// Short description of the evidence, e.g. `"depends on" in prose`.
    pub reason: String,
    /// `structured`, `hard` or `soft`.
    pub strength: Strength,
}

/// Something odd about the document that does not stop the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// A unit that looks like work but is not one of the milestone's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    pub line: usize,
    /// Its label, or the start of its title when it has none.
    pub item: String,
    pub reason: String,
}

/// What `extract` reads out of one document for one milestone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Tasks in document order, each ID once.
    pub tasks: Vec<Task>,
    /// Every dependency statement found, with its evidence.
    pub deps: Vec<Dependency>,
    /// Every statement that tasks may run at the same time.
    pub parallel: Vec<Parallel>,
    pub warnings: Vec<Warning>,
    /// Units of work that were not taken, with the reason.
    pub left_out: Vec<LeftOut>,
    /// What the reading was unsure about.
    pub unsure: Vec<String>,
}

impl Extracted {
    /// Every dependency as one edge per pair of tasks, `external` included.
    pub fn edges(&self) -> Vec<Edge> {
        let ids: Vec<&str> = self.tasks.iter().map(|t| t.id.as_str()).collect();
        edges_of(&ids, &self.deps)
    }
}

/// One edge per pair: `ids` are the tasks' IDs in document order.
fn edges_of<S: AsRef<str>>(ids: &[S], deps: &[Dependency]) -> Vec<Edge> {
    let id = |i: u32| ids[i as usize].as_ref().to_string();
    let mut out = Vec::new();
    for d in deps {
        for &w in &d.waits {
            let ons =
                d.on.iter()
                    .map(|&o| id(o))
                    .chain(d.external.iter().cloned());
            for on in ons {
                out.push(Edge {
                    task: id(w),
                    depends_on: on,
                    line: d.line,
                    reason: d.reason.clone(),
                    strength: d.strength,
                });
            }
        }
    }
    out
}

/// A milestone's plan, ready to run: tasks in execution order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The plan file's path relative to the repository root, `/`-separated.
    pub plan: String,
    /// The milestone's name as the user gave it.
    pub milestone: String,
    /// Tasks in the order they run: a stable topological order.
    pub tasks: Vec<Task>,
    /// The tasks' IDs in document order: `Dependency` indices point here.
    #[serde(skip)]
    pub ids: Vec<String>,
    #[serde(skip)]
    pub deps: Vec<Dependency>,
    /// What the plan says may run at the same time (`Dependency` indices).
    #[serde(skip)]
    pub parallel: Vec<Parallel>,
    #[serde(skip)]
    pub warnings: Vec<Warning>,
    #[serde(skip)]
    pub left_out: Vec<LeftOut>,
    #[serde(skip)]
    pub unsure: Vec<String>,
}

impl Plan {
    /// Every dependency as one edge per pair of tasks.
    pub fn edges(&self) -> Vec<Edge> {
        edges_of(&self.ids, &self.deps)
    }

    /// The tasks each dependency statement makes wait, by ID: one task for
    /// a task's own statement, several for a phase's or a list's.
    pub fn waiting(&self) -> Vec<Vec<&str>> {
        self.deps
            .iter()
            .map(|d| {
                d.waits
                    .iter()
                    .map(|&w| self.ids[w as usize].as_str())
                    .collect()
            })
            .collect()
    }

    /// The pairs of task IDs the plan says may run at the same time.
    pub fn parallel_pairs(&self) -> Vec<(&str, &str)> {
        let id = |i: &u32| self.ids[*i as usize].as_str();
        self.parallel
            .iter()
            .flat_map(|p| {
                p.tasks
                    .iter()
                    .flat_map(move |a| p.with.iter().map(move |b| (id(a), id(b))))
            })
            .filter(|(a, b)| a != b)
            .collect()
    }

    /// The one line `plan` and `run` print when units were left out;
    /// `explicit` when the user named the plan file with --plan.
    pub fn left_out_line(&self, explicit: bool) -> Option<String> {
        let n = self.left_out.len();
        let plan = if explicit {
            format!(" --plan {}", crate::ui::text::quote(&self.plan))
        } else {
            String::new()
        };
        (n > 0).then(|| {
            format!(
                "{} left out (see `git milestone plan {}{plan} --explain`)",
                crate::ui::text::count(n, "item"),
                crate::ui::text::quote(&self.milestone)
            )
        })
    }

    /// The `warning:` lines `plan` and `run` print on standard error (a
    /// dependency cycle broken, an ID defined twice...): at most five, then
    /// how many more `--explain` lists; `explicit` as for
    /// [`Plan::left_out_line`].
    pub fn warning_lines(&self, explicit: bool) -> Vec<String> {
        const SHOWN: usize = 5;
        let clean = crate::ui::text::clean;
        let mut lines: Vec<String> = self
            .warnings
            .iter()
            .take(SHOWN)
            .map(|w| match w.line {
                Some(l) => format!("warning: {}:{l}: {}", clean(&self.plan), clean(&w.message)),
                None => format!("warning: {}", clean(&w.message)),
            })
            .collect();
        let more = self.warnings.len().saturating_sub(SHOWN);
        if more > 0 {
            let plan = if explicit {
                format!(" --plan {}", crate::ui::text::quote(&self.plan))
            } else {
                String::new()
            };
            lines.push(format!(
                "warning: {} more (see `git milestone plan {}{plan} --explain`)",
                more,
                crate::ui::text::quote(&self.milestone)
            ));
        }
        lines
    }
}

pub use crate::milestone::same_milestone;

/// Whether `typed` names the task with ID `id`: with or without the unit
/// word or `#`, ignoring case and leading zeros (`Task 3` or `3` for `3`,
/// `#204` or `204` for `#204`, `Phase 9.1` or `09.1` for `09.1`).
/// Where a user types a task ID (`rollback --to`), this is the comparison.
pub fn id_matches(id: &str, typed: &str) -> bool {
    let bare = |s: &str| -> String {
        let s = s.trim();
        let s = match s.split_once(' ') {
            Some((w, rest)) if w.chars().all(char::is_alphabetic) => rest.trim(),
            _ => s,
        };
        label::key(s.trim_start_matches('#'))
    };
    label::key(typed.trim()) == label::key(id) || bare(typed) == bare(id)
}

/// Whether `typed` names `task`, by its ID or by its label as written.
pub fn task_matches(task: &Task, typed: &str) -> bool {
    id_matches(&task.id, typed)
        || task
            .label
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(typed.trim()))
}

/// Refuse plans larger than this: no plan is this big, and reading one
/// should never be the slow part of a run.
pub const MAX_PLAN_BYTES: u64 = 8 * 1024 * 1024;

/// Read a plan file's text: exit 2 naming the file when it is too large or
/// is not UTF-8 (with the line of the first bad byte).
pub fn read_text(path: &std::path::Path, shown: &str) -> crate::error::Result<String> {
    use crate::error::{Context, Error};
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read plan file {shown}"))?;
    if meta.len() > MAX_PLAN_BYTES {
        return Err(Error::bad_input(format!(
            "plan file {shown} is too large to be a plan ({:.1} MB; the limit is {} MB)",
            meta.len() as f64 / (1024.0 * 1024.0),
            MAX_PLAN_BYTES / (1024 * 1024)
        ))
        .hint("split the plan, or pass the milestone's own file with --plan PATH"));
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read plan file {shown}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::bad_input(format!(
            "plan file {shown} is not UTF-8 text (line {line} has an invalid byte)"
        ))
        .hint("save the plan as UTF-8, e.g. `iconv -f latin1 -t utf-8`")
    })
}

/// Find (unless `plan_path` is given), read, extract and order the plan of
/// milestone `name`. `plan_path` is relative to `cwd` as the user typed it.
pub fn load(
    repo: &crate::repo::Repo,
    name: &str,
    plan_path: Option<&std::path::Path>,
    cwd: &std::path::Path,
) -> crate::error::Result<Plan> {
    use crate::error::Error;
    crate::milestone::refuse_path(name)?;
    let rel = match plan_path {
        Some(p) => {
            // Relative to where the user is, else to the root: the hints
            // that repeat a run's command name it from the root, so they
            // work from any directory of the work tree.
            let mut abs = cwd.join(p);
            if p.is_relative() && !abs.exists() && repo.root().join(p).exists() {
                abs = repo.root().join(p);
            }
            let abs = abs.canonicalize().map_err(|e| {
                Error::bad_input(format!("cannot read plan file {}", p.display()))
                    .with_cause(e)
                    .hint("check the path given to --plan")
            })?;
            let rel = abs.strip_prefix(repo.root()).map_err(|_| {
                Error::bad_input(format!(
                    "plan file {} is outside the repository",
                    p.display()
                ))
                .hint("pass a Markdown file inside this repository to --plan")
            })?;
            rel.to_string_lossy().replace('\\', "/")
        }
        None => discover::discover(repo, name)?,
    };
    let text = read_text(&repo.root().join(&rel), &rel)?;
    let extracted = extract::extract_in(&text, name, &rel)?;
    plan_of(rel, name, extracted)
}

/// Order what `extract` read into a plan.
pub fn plan_of(rel: String, name: &str, extracted: Extracted) -> crate::error::Result<Plan> {
    let ids: Vec<String> = extracted.tasks.iter().map(|t| t.id.clone()).collect();
    let ordered = order::order(extracted.tasks, extracted.deps, &rel)?;
    let mut warnings = extracted.warnings;
    warnings.extend(ordered.warnings);
    warnings.sort_by_key(|w| w.line);
    Ok(Plan {
        plan: rel,
        milestone: name.to_string(),
        tasks: ordered.tasks,
        ids,
        deps: ordered.deps,
        parallel: extracted.parallel,
        warnings,
        left_out: extracted.left_out,
        unsure: extracted.unsure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_id_typed_with_or_without_its_unit_word() {
        for (id, typed) in [
            ("3", "Task 3"),
            ("3", "3"),
            ("7.1", "Phase 7.1"),
            ("09.1", "9.1"),
            ("09.1", "Phase 9.1"),
            ("#204", "204"),
            ("#204", "#204"),
            ("T012", "t012"),
            ("1a", "Task 1a"),
        ] {
            assert!(id_matches(id, typed), "{id} {typed}");
        }
        for (id, typed) in [
            ("3", "Task 30"),
            ("7.1", "7"),
            ("T012", "T0120"),
            ("#204", "#20"),
        ] {
            assert!(!id_matches(id, typed), "{id} {typed}");
        }
    }
}
