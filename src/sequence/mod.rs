//! The sequence a user confirmed for a milestone: which tasks run, in which
//! order. Recorded with the milestone's status, compared with the plan's
//! reading at each run (`decide`), and applied to the run (`apply`).
//!
//! Pure: plans and sequences in, values out. `todo` is the list the user
//! edits, `confirm` the question asked before a run, `store` where the
//! sequence is kept.

pub mod confirm;
pub mod store;
pub mod todo;

use std::collections::{HashMap, HashSet};

use crate::plan::{Plan, Strength, Task};
use crate::ui::text::{clean, one_line};

pub use crate::state::{Sequence, Step};

impl Step {
    fn of(task: &Task, skip: bool) -> Step {
        Step {
            id: task.id.clone(),
            title: task.title.clone(),
            skip,
        }
    }
}

impl Sequence {
    /// The plan's reading as a sequence: every task in the plan's order.
    pub fn of(plan: &Plan) -> Sequence {
        Sequence {
            tasks: plan.tasks.iter().map(|t| Step::of(t, false)).collect(),
            read: plan.tasks.iter().map(|t| t.id.clone()).collect(),
        }
    }

    /// Whether this is just the reading it was made from: the same order,
    /// nothing skipped.
    pub fn is_reading(&self) -> bool {
        self.tasks.len() == self.read.len()
            && self
                .tasks
                .iter()
                .zip(&self.read)
                .all(|(s, id)| !s.skip && s.id == *id)
    }

    /// The tasks the user chose not to run, in sequence order.
    pub fn skipped(&self) -> impl Iterator<Item = &Step> {
        self.tasks.iter().filter(|s| s.skip)
    }

    /// Whether the sequence skips task `id`.
    pub fn skips(&self, id: &str) -> bool {
        self.tasks.iter().any(|s| s.skip && s.id == id)
    }
}

/// How the plan's reading differs from a recorded sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Tasks new to the plan, each with the task it now follows in the
    /// sequence (none: it comes first).
    pub added: Vec<(String, Option<String>)>,
    /// Recorded tasks the plan no longer has.
    pub removed: Vec<String>,
    /// (ID, recorded title, title now).
    pub retitled: Vec<(String, String, String)>,
    /// Tasks the plan now orders differently, each with the task it now
    /// comes before in the plan (none: last).
    pub moved: Vec<(String, Option<String>)>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.retitled.is_empty()
            && self.moved.is_empty()
    }

    /// One line a change, for the report before the question.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (id, after) in &self.added {
            out.push(match after {
                Some(a) => format!("{} is new: it runs after {}", clean(id), clean(a)),
                None => format!("{} is new: it runs first", clean(id)),
            });
        }
        for id in &self.removed {
            out.push(format!("{} is no longer in the plan", clean(id)));
        }
        for (id, old, new) in &self.retitled {
            out.push(format!(
                "{} was retitled: \"{}\" is now \"{}\"",
                clean(id),
                clean(&one_line(old)),
                clean(&one_line(new))
            ));
        }
        for (id, before) in &self.moved {
            out.push(match before {
                Some(b) => format!("the plan now puts {} before {}", clean(id), clean(b)),
                None => format!("the plan now puts {} last", clean(id)),
            });
        }
        out
    }
}

/// What a run does about the sequence, decided in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No sequence is recorded: the plan's reading, to confirm on a terminal.
    First(Sequence),
    /// The plan reads as it did when the sequence was recorded: follow it.
    Follow(Sequence),
    /// The plan changed since: the recorded sequence with the changes
    /// merged in (see [`merge`]), and what changed.
    Changed(Sequence, Diff),
}

/// Compare the recorded sequence (if any) with the plan's reading.
pub fn decide(recorded: Option<&Sequence>, plan: &Plan) -> Decision {
    let Some(recorded) = recorded else {
        return Decision::First(Sequence::of(plan));
    };
    let d = diff(recorded, plan);
    if d.is_empty() {
        Decision::Follow(recorded.clone())
    } else {
        Decision::Changed(merge(recorded, plan), d)
    }
}

/// How the plan's reading now differs from `recorded`.
pub fn diff(recorded: &Sequence, plan: &Plan) -> Diff {
    let now: HashMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let was: HashSet<&str> = recorded.tasks.iter().map(|s| s.id.as_str()).collect();
    let merged = merge(recorded, plan);
    let added = plan
        .tasks
        .iter()
        .filter(|t| !was.contains(t.id.as_str()))
        .map(|t| {
            let at = merged.tasks.iter().position(|s| s.id == t.id);
            let after = at
                .and_then(|i| i.checked_sub(1))
                .map(|i| merged.tasks[i].id.clone());
            (t.id.clone(), after)
        })
        .collect();
    let removed = recorded
        .tasks
        .iter()
        .filter(|s| !now.contains_key(s.id.as_str()))
        .map(|s| s.id.clone())
        .collect();
    let retitled = recorded
        .tasks
        .iter()
        .filter_map(|s| {
            let t = now.get(s.id.as_str())?;
            (t.title != s.title).then(|| (s.id.clone(), s.title.clone(), t.title.clone()))
        })
        .collect();
    Diff {
        added,
        removed,
        retitled,
        moved: moved(&recorded.read, plan),
    }
}

/// The tasks the plan now orders differently from `read`: those outside
/// the longest run of tasks that kept their relative order.
fn moved(read: &[String], plan: &Plan) -> Vec<(String, Option<String>)> {
    let old: HashMap<&str, usize> = read
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let common: Vec<(&str, usize)> = plan
        .tasks
        .iter()
        .filter_map(|t| old.get(t.id.as_str()).map(|&o| (t.id.as_str(), o)))
        .collect();
    let keep = longest_increasing(&common.iter().map(|c| c.1).collect::<Vec<_>>());
    common
        .iter()
        .enumerate()
        .filter(|(i, _)| !keep.contains(i))
        .map(|(i, (id, _))| {
            let before = common.get(i + 1).map(|c| c.0.to_string());
            (id.to_string(), before)
        })
        .collect()
}

/// The indices of one longest strictly increasing subsequence of `xs`
/// (patience sorting, n log n).
fn longest_increasing(xs: &[usize]) -> HashSet<usize> {
    let mut tails: Vec<usize> = Vec::new(); // index into xs of each pile's top
    let mut prev: Vec<Option<usize>> = vec![None; xs.len()];
    for (i, &x) in xs.iter().enumerate() {
        let pile = tails.partition_point(|&t| xs[t] < x);
        prev[i] = pile.checked_sub(1).map(|p| tails[p]);
        if pile == tails.len() {
            tails.push(i);
        } else {
            tails[pile] = i;
        }
    }
    let mut out = HashSet::new();
    let mut at = tails.last().copied();
    while let Some(i) = at {
        out.insert(i);
        at = prev[i];
    }
    out
}

/// The recorded sequence brought up to date with the plan, as a run
/// without a question follows it. Tasks gone from the plan are dropped and
/// titles are the plan's. If the user kept the plan's order, the plan's
/// order now is followed, with the user's skips. If the user reordered,
/// their order is kept, and each new task goes right after the task that
/// comes before it in the plan (first, when none does): a new task is
/// never dropped.
pub fn merge(recorded: &Sequence, plan: &Plan) -> Sequence {
    let skipped: HashSet<&str> = recorded.skipped().map(|s| s.id.as_str()).collect();
    let kept_order = recorded
        .tasks
        .iter()
        .map(|s| s.id.as_str())
        .eq(recorded.read.iter().map(String::as_str));
    let read = plan.tasks.iter().map(|t| t.id.clone()).collect();
    if kept_order {
        let tasks = plan
            .tasks
            .iter()
            .map(|t| Step::of(t, skipped.contains(t.id.as_str())))
            .collect();
        return Sequence { tasks, read };
    }
    let by_id: HashMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut tasks: Vec<Step> = recorded
        .tasks
        .iter()
        .filter_map(|s| by_id.get(s.id.as_str()).map(|t| Step::of(t, s.skip)))
        .collect();
    let mut placed: HashSet<String> = tasks.iter().map(|s| s.id.clone()).collect();
    let mut previous: Option<&str> = None;
    for t in &plan.tasks {
        if !placed.contains(&t.id) {
            let at = previous
                .and_then(|p| tasks.iter().position(|s| s.id == p))
                .map_or(0, |i| i + 1);
            tasks.insert(at, Step::of(t, false));
            placed.insert(t.id.clone());
        }
        previous = Some(&t.id);
    }
    Sequence { tasks, read }
}

/// The plan a run follows: its tasks in the sequence's order, the skipped
/// ones left out, except those `finished` says an earlier run finished
/// (they stay in the record, and are not run again). Tasks the sequence
/// does not name (it should name them all: see [`merge`]) keep their
/// place at the end.
pub fn apply(plan: &Plan, seq: &Sequence, finished: &dyn Fn(&str) -> bool) -> Plan {
    let mut by_id: HashMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut tasks: Vec<Task> = Vec::with_capacity(plan.tasks.len());
    for s in &seq.tasks {
        if let Some(t) = by_id.remove(s.id.as_str())
            && (!s.skip || finished(&s.id))
        {
            tasks.push(t.clone());
        }
    }
    tasks.extend(
        plan.tasks
            .iter()
            .filter(|t| by_id.contains_key(t.id.as_str()))
            .cloned(),
    );
    Plan {
        tasks,
        ..plan.clone()
    }
}

/// A task the sequence runs before one it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub task: String,
    pub on: String,
    /// Where the plan states the dependency, and how.
    pub line: usize,
    pub reason: String,
}

impl Broken {
    /// The sentence that says so.
    pub fn message(&self, plan: &Plan) -> String {
        format!(
            "{} would run before {}, which it depends on ({}:{}: {})",
            clean(&self.task),
            clean(&self.on),
            clean(&plan.plan),
            self.line,
            clean(&self.reason)
        )
    }
}

/// Most broken dependencies reported at once.
const MAX_BROKEN: usize = 10;

/// The dependencies `seq` breaks: a task that runs before a task it
/// depends on, where the plan states that dependency firmly (a structured
/// field or a plain sentence; a soft one, hedged or pairing, may be
/// broken). A skipped task breaks nothing: the user may have done it
/// another way.
pub fn broken(plan: &Plan, seq: &Sequence) -> Vec<Broken> {
    let doc: HashMap<&str, u32> = plan
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32))
        .collect();
    // Where each task (by document index) runs; none when skipped.
    let mut at: Vec<Option<usize>> = vec![None; plan.ids.len()];
    for (pos, s) in seq.tasks.iter().enumerate().filter(|(_, s)| !s.skip) {
        if let Some(&i) = doc.get(s.id.as_str()) {
            at[i as usize] = Some(pos);
        }
    }
    let mut out = Vec::new();
    for task in &plan.tasks {
        let Some(&w) = doc.get(task.id.as_str()) else {
            continue;
        };
        let Some(pos) = at[w as usize] else { continue };
        for &on in task.depends_on.indices() {
            // Indices past the tasks name IDs outside the milestone.
            if at
                .get(on as usize)
                .copied()
                .flatten()
                .is_none_or(|p| p < pos)
            {
                continue;
            }
            if let Some((line, reason)) = firm_statement(plan, w, on) {
                out.push(Broken {
                    task: task.id.clone(),
                    on: plan.ids[on as usize].clone(),
                    line,
                    reason,
                });
                if out.len() == MAX_BROKEN {
                    return out;
                }
            }
        }
    }
    out
}

/// The first statement that `w` waits for `on` that is not soft.
fn firm_statement(plan: &Plan, w: u32, on: u32) -> Option<(usize, String)> {
    plan.deps
        .iter()
        .filter(|d| d.strength != Strength::Soft)
        .find(|d| d.waits.contains(&w) && d.on.contains(&on))
        .map(|d| (d.line, d.reason.clone()))
}

#[cfg(test)]
mod tests;
