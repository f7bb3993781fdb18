//! A stable topological order of a milestone's tasks. Pure.
//!
//! Among tasks that are ready, the one earliest in the document goes
//! first. Structured and plain dependencies always hold; a cycle that a
//! prose or hedged dependency closes loses its weakest such edge, with a
//! warning; a cycle of structured dependencies (a Depends column, a
//! `**Depends on**:` field) is an error naming every edge with its line.

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

/// One prerequisite of a task: the strongest statement of it wins, the
/// first statement gives its line.
#[derive(Debug, Clone, Copy)]
struct Pre {
    on: u32,
    strength: Strength,
    dep: u32,
}

struct Graph {
    pre: Vec<Vec<Pre>>,
    unblocks: Vec<Vec<u32>>,
    blocking: Vec<usize>,
    done: Vec<bool>,
    dropped: HashSet<(u32, u32)>,
}

/// Order `tasks` (in document order, which `deps` index) by `deps`.
pub fn order(tasks: Vec<Task>, deps: &[Dependency], plan_path: &str) -> Result<Ordered> {
    let n = tasks.len();
    let mut g = graph(n, deps);
    let mut warnings = backward_warnings(&tasks, &g, deps);
    warnings.extend(break_cycles(&tasks, &mut g, deps, plan_path)?);
    let mut ready: BinaryHeap<Reverse<u32>> = (0..n as u32)
        .filter(|&i| g.blocking[i as usize] == 0)
        .map(Reverse)
        .collect();
    let mut sequence = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        sequence.push(i);
        release(&mut g, i, |w| ready.push(Reverse(w)));
    }
    let mut slots: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    // A dependency dropped to break a cycle no longer shows as one.
    for &(w, on) in &g.dropped {
        if let Some(t) = &mut slots[w as usize] {
            t.depends_on.remove(on);
        }
    }
    Ok(Ordered {
        tasks: sequence
            .into_iter()
            .filter_map(|i| slots[i as usize].take())
            .collect(),
        deps: deps.to_vec(),
        warnings,
    })
}

/// Each task's prerequisites, each once, in linear time: a stamp per
/// prerequisite remembers the last task that listed it.
fn graph(n: usize, deps: &[Dependency]) -> Graph {
    let mut by_waiter: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (d, dep) in deps.iter().enumerate() {
        for &w in &dep.waits {
            by_waiter[w as usize].push(d as u32);
        }
    }
    let mut pre: Vec<Vec<Pre>> = vec![Vec::new(); n];
    let mut owner = vec![u32::MAX; n];
    let mut slot = vec![0usize; n];
    for (w, ds) in by_waiter.iter().enumerate() {
        for &d in ds {
            let dep = &deps[d as usize];
            for &o in &dep.on {
                let oi = o as usize;
                if oi == w {
                    continue;
                }
                if owner[oi] == w as u32 {
                    let p = &mut pre[w][slot[oi]];
                    p.strength = p.strength.max(dep.strength);
                } else {
                    owner[oi] = w as u32;
                    slot[oi] = pre[w].len();
                    pre[w].push(Pre {
                        on: o,
                        strength: dep.strength,
                        dep: d,
                    });
                }
            }
        }
    }
    let mut unblocks: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut blocking = vec![0usize; n];
    for (w, ps) in pre.iter().enumerate() {
        blocking[w] = ps.len();
        for p in ps {
            unblocks[p.on as usize].push(w as u32);
        }
    }
    Graph {
        pre,
        unblocks,
        blocking,
        done: vec![false; n],
        dropped: HashSet::new(),
    }
}

/// Task `i` is done: the tasks waiting for it wait for one less.
fn release(g: &mut Graph, i: u32, mut ready: impl FnMut(u32)) {
    g.done[i as usize] = true;
    for k in 0..g.unblocks[i as usize].len() {
        let w = g.unblocks[i as usize][k];
        if !g.dropped.is_empty() && g.dropped.contains(&(w, i)) {
            continue;
        }
        g.blocking[w as usize] -= 1;
        if g.blocking[w as usize] == 0 {
            ready(w);
        }
    }
}

/// Drop the weakest edge of each cycle before ordering, so the order
/// itself is never distorted by a stuck queue: a pass finds the tasks a
/// cycle holds up, one cycle loses an edge, and passes repeat until none.
fn break_cycles(
    tasks: &[Task],
    g: &mut Graph,
    deps: &[Dependency],
    plan_path: &str,
) -> Result<Vec<Warning>> {
    let mut warnings = Vec::new();
    let start = g.blocking.clone();
    loop {
        g.blocking.clone_from(&start);
        for (w, on) in &g.dropped {
            let _ = on;
            g.blocking[*w as usize] -= 1;
        }
        g.done.iter_mut().for_each(|d| *d = false);
        let mut queue: Vec<u32> = (0..tasks.len() as u32)
            .filter(|&i| g.blocking[i as usize] == 0)
            .collect();
        let mut finished = 0;
        while let Some(i) = queue.pop() {
            finished += 1;
            release(g, i, |w| queue.push(w));
        }
        if finished == tasks.len() {
            break;
        }
        warnings.push(break_cycle(tasks, g, deps, plan_path)?);
    }
    g.blocking.clone_from(&start);
    for (w, _) in &g.dropped {
        g.blocking[*w as usize] -= 1;
    }
    g.done.iter_mut().for_each(|d| *d = false);
    Ok(warnings)
}

/// Most "listed before but depends on" warnings given one by one.
const MAX_BACKWARD: usize = 20;

/// Dependencies the document's own order contradicts.
fn backward_warnings(tasks: &[Task], g: &Graph, deps: &[Dependency]) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut more = 0;
    for (w, ps) in g.pre.iter().enumerate() {
        for p in ps
            .iter()
            .filter(|p| p.on as usize > w && p.strength > Strength::Soft)
        {
            if out.len() == MAX_BACKWARD {
                more += 1;
                continue;
            }
            let (t, o) = (&tasks[w].id, &tasks[p.on as usize].id);
            out.push(Warning {
                line: Some(deps[p.dep as usize].line),
                message: format!("{t} is listed before {o} but depends on it; {o} runs first"),
            });
        }
    }
    if more > 0 {
        out.push(Warning {
            line: None,
            message: format!(
                "{} more dependencies run against the document's order",
                more
            ),
        });
    }
    out
}

/// With no task ready, find a cycle among the waiting tasks. Drop its
/// weakest edge when that is not a structured one; else refuse.
fn break_cycle(
    tasks: &[Task],
    g: &mut Graph,
    deps: &[Dependency],
    plan_path: &str,
) -> Result<Warning> {
    let cycle = find_cycle(g);
    let weakest = cycle
        .iter()
        .copied()
        .min_by_key(|&(w, k)| {
            let p = g.pre[w as usize][k];
            (p.strength, Reverse(deps[p.dep as usize].line))
        })
        .expect("a cycle has edges");
    let p = g.pre[weakest.0 as usize][weakest.1];
    if p.strength == Strength::Structured {
        return Err(cycle_error(tasks, g, deps, &cycle, plan_path));
    }
    let (w, on) = (weakest.0, p.on);
    g.dropped.insert((w, on));
    let line = deps[p.dep as usize].line;
    let message = format!(
        "dependency cycle: {}; {} waiting for {} ({plan_path}:{line}) is the weakest and is ignored",
        cycle_text(tasks, g, deps, &cycle, plan_path),
        tasks[w as usize].id,
        tasks[on as usize].id
    );
    Ok(Warning {
        line: Some(line),
        message,
    })
}

/// Walk prerequisites from a waiting task until a task repeats; the
/// repeated stretch is a cycle, as (task, index into its prerequisites).
fn find_cycle(g: &Graph) -> Vec<(u32, usize)> {
    let start = (0..g.blocking.len())
        .find(|&i| !g.done[i] && g.blocking[i] > 0)
        .unwrap_or(0) as u32;
    let mut path: Vec<(u32, usize)> = Vec::new();
    let mut seen = std::collections::HashMap::from([(start, 0usize)]);
    let mut at = start;
    loop {
        let Some(k) = g.pre[at as usize]
            .iter()
            .position(|p| !g.done[p.on as usize] && !g.dropped.contains(&(at, p.on)))
        else {
            return path; // cannot happen: a waiting task waits on a waiting task
        };
        path.push((at, k));
        let next = g.pre[at as usize][k].on;
        if let Some(&pos) = seen.get(&next) {
            return path.split_off(pos);
        }
        seen.insert(next, path.len());
        at = next;
    }
}

fn cycle_text(
    tasks: &[Task],
    g: &Graph,
    deps: &[Dependency],
    cycle: &[(u32, usize)],
    plan_path: &str,
) -> String {
    let mut text = tasks[cycle[0].0 as usize].id.clone();
    for &(w, k) in cycle {
        let p = g.pre[w as usize][k];
        let line = deps[p.dep as usize].line;
        text.push_str(&format!(
            " -> {} ({plan_path}:{line})",
            tasks[p.on as usize].id
        ));
    }
    text
}

fn cycle_error(
    tasks: &[Task],
    g: &Graph,
    deps: &[Dependency],
    cycle: &[(u32, usize)],
    plan_path: &str,
) -> Error {
    Error::bad_input(format!(
        "dependency cycle: {}",
        cycle_text(tasks, g, deps, cycle, plan_path)
    ))
    .hint(format!(
        "each arrow reads \"waits for\"; remove one of these dependencies from {plan_path}"
    ))
    .hint("`git milestone plan <milestone> --explain` lists every dependency with its line")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::DependsOn;

    fn task(id: &str) -> Task {
        Task {
            id: id.into(),
            label: None,
            title: String::new(),
            line: 1,
            done: false,
            optional: false,
            parent: None,
            depends_on: DependsOn::default(),
            runner: None,
        }
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
        let tasks = ["A", "B", "C", "D"].map(task).to_vec();
        let deps = [dep(0, 2, 9, Strength::Hard)];
        let out = order(tasks, &deps, "plan.md").unwrap();
        assert_eq!(ids(&out.tasks), ["B", "C", "A", "D"]);
    }

    #[test]
    fn a_structured_cycle_names_every_edge() {
        let tasks = ["T001", "T002", "T005"].map(task).to_vec();
        let deps = [
            dep(1, 2, 14, Strength::Structured),
            dep(2, 1, 31, Strength::Structured),
        ];
        let err = order(tasks, &deps, "plan.md").unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::BadInput);
        assert_eq!(
            err.message(),
            "dependency cycle: T002 -> T005 (plan.md:14) -> T002 (plan.md:31)"
        );
    }

    #[test]
    fn a_prose_cycle_loses_its_weakest_edge() {
        let tasks = ["A", "B", "C"].map(task).to_vec();
        let deps = [
            dep(0, 1, 3, Strength::Structured),
            dep(1, 0, 7, Strength::Soft),
        ];
        let out = order(tasks, &deps, "plan.md").unwrap();
        assert_eq!(ids(&out.tasks), ["B", "A", "C"]);
        assert_eq!(
            out.warnings.last().unwrap().message,
            "dependency cycle: A -> B (plan.md:3) -> A (plan.md:7); B waiting for A (plan.md:7) is the weakest and is ignored"
        );
    }
}
