//! A stable topological order of a milestone's tasks. Pure.
//!
//! Among tasks that are ready, the one earliest in the document goes
//! first. Structured and plain dependencies always hold; a cycle that a
//! prose or hedged dependency closes loses its weakest such edge, with a
//! warning; a cycle of structured dependencies (a Depends column, a
//! `**Depends on**:` field) is an error naming every edge with its line.
//!
//! The graph is each task's `depends_on` (already one entry per
//! prerequisite); which statement and strength an edge has is looked up
//! only for the few edges a warning or a cycle names, so a plan where every
//! task depends on all earlier ones costs a few bytes per pair.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use super::{Dependency, Strength, Task, Warning};
use crate::error::{Error, Result};

/// The tasks in run order, and what ordering them found.
#[derive(Debug)]
pub struct Ordered {
    pub tasks: Vec<Task>,
    pub deps: Vec<Dependency>,
    pub warnings: Vec<Warning>,
}

struct Graph<'a> {
    tasks: &'a [Task],
    deps: &'a [Dependency],
    /// Per task, the statements in which it waits.
    by_waiter: Vec<Vec<u32>>,
    /// The tasks waiting for task `p`: `waiting[starts[p]..starts[p + 1]]`.
    starts: Vec<usize>,
    waiting: Vec<u32>,
    blocking: Vec<usize>,
    done: Vec<bool>,
    /// Edges (task, prerequisite) dropped to break a cycle.
    dropped: HashSet<(u32, u32)>,
}

impl<'a> Graph<'a> {
    fn new(tasks: &'a [Task], deps: &'a [Dependency]) -> Graph<'a> {
        let n = tasks.len();
        let mut by_waiter: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (d, dep) in deps.iter().enumerate() {
            for &w in &dep.waits {
                by_waiter[w as usize].push(d as u32);
            }
        }
        // One array for every "who waits for p" list: count, then fill.
        let mut blocking = vec![0; n];
        let mut starts = vec![0usize; n + 1];
        let own = |w: usize| {
            tasks[w]
                .depends_on
                .indices()
                .iter()
                .map(|&p| p as usize)
                .filter(move |&p| p < n && p != w)
        };
        for (w, b) in blocking.iter_mut().enumerate() {
            for p in own(w) {
                *b += 1;
                starts[p + 1] += 1;
            }
        }
        for p in 0..n {
            starts[p + 1] += starts[p];
        }
        let mut fill = starts.clone();
        let mut waiting = vec![0u32; starts[n]];
        for w in 0..n {
            for p in own(w) {
                waiting[fill[p]] = w as u32;
                fill[p] += 1;
            }
        }
        Graph {
            tasks,
            deps,
            by_waiter,
            starts,
            waiting,
            blocking,
            done: vec![false; n],
            dropped: HashSet::new(),
        }
    }

    /// The tasks `w` waits for, each once (its `depends_on`, without IDs
    /// outside the milestone).
    fn prerequisites(&self, w: u32) -> impl Iterator<Item = u32> + 'a {
        let n = self.tasks.len() as u32;
        self.tasks[w as usize]
            .depends_on
            .indices()
            .iter()
            .copied()
            .filter(move |&p| p < n && p != w)
    }

    /// The strongest statement of `w` waiting for `on`, and the line of the
    /// first one.
    fn edge(&self, w: u32, on: u32) -> (Strength, usize) {
        let mut strength = Strength::Soft;
        let mut line = None;
        for &d in &self.by_waiter[w as usize] {
            let dep = &self.deps[d as usize];
            if dep.on.contains(&on) {
                strength = strength.max(dep.strength);
                line.get_or_insert(dep.line);
            }
        }
        (strength, line.unwrap_or(0))
    }

    /// Task `i` is done: the tasks waiting for it wait for one less.
    fn release(&mut self, i: u32, mut ready: impl FnMut(u32)) {
        self.done[i as usize] = true;
        for k in self.starts[i as usize]..self.starts[i as usize + 1] {
            let w = self.waiting[k];
            if !self.dropped.is_empty() && self.dropped.contains(&(w, i)) {
                continue;
            }
            self.blocking[w as usize] -= 1;
            if self.blocking[w as usize] == 0 {
                ready(w);
            }
        }
    }

    /// Kahn's algorithm, earliest ready task in the document first.
    fn sequence(&mut self) -> Vec<u32> {
        let n = self.blocking.len();
        let mut ready: BinaryHeap<Reverse<u32>> = (0..n as u32)
            .filter(|&i| self.blocking[i as usize] == 0)
            .map(Reverse)
            .collect();
        let mut out = Vec::with_capacity(n);
        while let Some(Reverse(i)) = ready.pop() {
            out.push(i);
            self.release(i, |w| ready.push(Reverse(w)));
        }
        out
    }
}

/// Order `tasks` (in document order, which `deps` index) by their
/// `depends_on`, with `deps` saying where each edge was stated.
pub fn order(tasks: Vec<Task>, deps: Vec<Dependency>, plan_path: &str) -> Result<Ordered> {
    let (sequence, dropped, mut warnings) = {
        let mut g = Graph::new(&tasks, &deps);
        let mut warnings = backward_warnings(&g);
        let start = g.blocking.clone();
        let mut sequence = g.sequence();
        if sequence.len() < tasks.len() {
            // A cycle held some tasks up: break it, then order again.
            warnings.extend(break_cycles(&mut g, &start, plan_path)?);
            sequence = g.sequence();
        }
        (sequence, g.dropped, warnings)
    };
    warnings.sort_by_key(|w| w.line);
    let mut slots: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    // A dependency dropped to break a cycle no longer shows as one.
    for &(w, on) in &dropped {
        if let Some(t) = &mut slots[w as usize] {
            t.depends_on.remove(on);
        }
    }
    Ok(Ordered {
        tasks: sequence
            .into_iter()
            .filter_map(|i| slots[i as usize].take())
            .collect(),
        deps,
        warnings,
    })
}

/// Most "listed before but depends on" warnings given one by one.
const MAX_BACKWARD: usize = 20;

/// Dependencies the document's own order contradicts.
fn backward_warnings(g: &Graph<'_>) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut more = 0;
    for w in 0..g.tasks.len() as u32 {
        for p in g.prerequisites(w).filter(|&p| p > w) {
            if out.len() == MAX_BACKWARD {
                more += 1;
                continue;
            }
            let (t, o) = (&g.tasks[w as usize].id, &g.tasks[p as usize].id);
            out.push(Warning {
                line: Some(g.edge(w, p).1),
                message: format!("{t} is listed before {o} but depends on it; {o} runs first"),
            });
        }
    }
    if more > 0 {
        out.push(Warning {
            line: None,
            message: format!(
                "not shown: {} against the document's order",
                crate::ui::text::count(more, "more dependency")
            ),
        });
    }
    out
}

/// Drop the weakest edge of each cycle: a pass finds the tasks a cycle
/// holds up, one cycle loses an edge, and passes repeat until none. A
/// cycle of structured dependencies is an error.
fn break_cycles(g: &mut Graph<'_>, start: &[usize], plan_path: &str) -> Result<Vec<Warning>> {
    let mut warnings = Vec::new();
    loop {
        reset(g, start);
        let mut queue: Vec<u32> = (0..g.tasks.len() as u32)
            .filter(|&i| g.blocking[i as usize] == 0)
            .collect();
        let mut finished = 0;
        while let Some(i) = queue.pop() {
            finished += 1;
            g.release(i, |w| queue.push(w));
        }
        if finished == g.tasks.len() {
            break;
        }
        warnings.push(break_cycle(g, plan_path)?);
    }
    reset(g, start);
    Ok(warnings)
}

/// Back to the counts before ordering, less the dropped edges.
fn reset(g: &mut Graph<'_>, start: &[usize]) {
    g.blocking.copy_from_slice(start);
    for &(w, _) in &g.dropped {
        g.blocking[w as usize] -= 1;
    }
    g.done.iter_mut().for_each(|d| *d = false);
}

/// Find a cycle among the waiting tasks; drop its weakest edge (the latest
/// stated among equals) when that is not a structured one, else refuse.
fn break_cycle(g: &mut Graph<'_>, plan_path: &str) -> Result<Warning> {
    let cycle = find_cycle(g);
    let edges: Vec<(u32, u32, Strength, usize)> = cycle
        .iter()
        .map(|&(w, on)| {
            let (s, line) = g.edge(w, on);
            (w, on, s, line)
        })
        .collect();
    let text = cycle_text(g, &edges, plan_path);
    let &(w, on, strength, line) = edges
        .iter()
        .min_by_key(|e| (e.2, Reverse(e.3)))
        .expect("a cycle has edges");
    if strength == Strength::Structured {
        return Err(Error::bad_input(format!("dependency cycle: {text}"))
            // No pointer to `plan --explain`: it refuses the same cycle, and
            // the error already names every edge with its line.
            .hint(format!(
                "each arrow reads \"waits for\"; remove one of these dependencies from {plan_path}"
            )));
    }
    g.dropped.insert((w, on));
    Ok(Warning {
        line: Some(line),
        message: format!(
            "dependency cycle: {text}; {} waiting for {} ({plan_path}:{line}) is the weakest and is ignored",
            g.tasks[w as usize].id, g.tasks[on as usize].id
        ),
    })
}

/// Walk prerequisites from a waiting task until a task repeats; the
/// repeated stretch is a cycle, as (task, prerequisite) pairs.
fn find_cycle(g: &Graph<'_>) -> Vec<(u32, u32)> {
    let start = (0..g.tasks.len())
        .find(|&i| !g.done[i] && g.blocking[i] > 0)
        .unwrap_or(0) as u32;
    let mut path: Vec<(u32, u32)> = Vec::new();
    let mut seen = std::collections::HashMap::from([(start, 0usize)]);
    let mut at = start;
    loop {
        let Some(next) = g
            .prerequisites(at)
            .find(|&p| !g.done[p as usize] && !g.dropped.contains(&(at, p)))
        else {
            return path; // cannot happen: a waiting task waits on a waiting task
        };
        path.push((at, next));
        if let Some(&pos) = seen.get(&next) {
            return path.split_off(pos);
        }
        seen.insert(next, path.len());
        at = next;
    }
}

fn cycle_text(g: &Graph<'_>, edges: &[(u32, u32, Strength, usize)], plan_path: &str) -> String {
    let mut text = g.tasks[edges[0].0 as usize].id.clone();
    for &(_, on, _, line) in edges {
        text.push_str(&format!(
            " -> {} ({plan_path}:{line})",
            g.tasks[on as usize].id
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::DependsOn;

    /// Tasks A, B, C, … where each waits for the tasks `deps` lists.
    fn tasks(deps: &[(&str, &[u32])]) -> Vec<Task> {
        let names = Arc::new(deps.iter().map(|(id, _)| id.to_string()).collect());
        deps.iter()
            .map(|(id, on)| Task {
                id: id.to_string(),
                label: None,
                title: String::new(),
                line: 1,
                done: false,
                optional: false,
                parent: None,
                depends_on: DependsOn::new(Arc::clone(&names), on.to_vec()),
                runner: None,
                verify: Vec::new(),
                allow_empty: false,
                parallel: false,
            })
            .collect()
    }

    fn dep(w: u32, on: u32, line: usize, strength: Strength) -> Dependency {
        Dependency {
            waits: vec![w],
            on: vec![on],
            external: Vec::new(),
            line,
            reason: String::new(),
            strength,
        }
    }

    fn ids(t: &[Task]) -> Vec<&str> {
        t.iter().map(|t| t.id.as_str()).collect()
    }

    #[test]
    fn document_order_among_ready_tasks() {
        let t = tasks(&[("A", &[2]), ("B", &[]), ("C", &[]), ("D", &[])]);
        let out = order(t, vec![dep(0, 2, 9, Strength::Hard)], "plan.md").unwrap();
        assert_eq!(ids(&out.tasks), ["B", "C", "A", "D"]);
    }

    #[test]
    fn a_structured_cycle_names_every_edge() {
        let t = tasks(&[("T001", &[]), ("T002", &[2]), ("T005", &[1])]);
        let deps = vec![
            dep(1, 2, 14, Strength::Structured),
            dep(2, 1, 31, Strength::Structured),
        ];
        let err = order(t, deps, "plan.md").unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::BadInput);
        assert_eq!(
            err.message(),
            "dependency cycle: T002 -> T005 (plan.md:14) -> T002 (plan.md:31)"
        );
    }

    #[test]
    fn a_prose_cycle_loses_its_weakest_edge() {
        let t = tasks(&[("A", &[1]), ("B", &[0]), ("C", &[])]);
        let deps = vec![
            dep(0, 1, 3, Strength::Structured),
            dep(1, 0, 7, Strength::Soft),
        ];
        let out = order(t, deps, "plan.md").unwrap();
        assert_eq!(ids(&out.tasks), ["B", "A", "C"]);
        assert!(out.tasks[0].depends_on.is_empty());
        assert_eq!(
            out.warnings.last().unwrap().message,
            "dependency cycle: A -> B (plan.md:3) -> A (plan.md:7); B waiting for A (plan.md:7) is the weakest and is ignored"
        );
    }
}
