//! A stable topological order of a milestone's tasks. Pure.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::{Edge, Task};
use crate::error::{Error, Result};

/// Order tasks so every in-milestone prerequisite comes first; among tasks
/// that are ready, the one earliest in the document goes first. A cycle is a
/// `BadInput` error that names every edge of the cycle with its file and line.
pub fn order(tasks: Vec<Task>, edges: &[Edge], plan_path: &str) -> Result<Vec<Task>> {
    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    // waits_on[i]: prerequisites of task i inside the milestone, with the edge.
    let mut waits_on: Vec<Vec<(usize, &Edge)>> = vec![Vec::new(); tasks.len()];
    for e in edges {
        if let (Some(&t), Some(&d)) = (index.get(e.task.as_str()), index.get(e.depends_on.as_str()))
            && t != d
            && !waits_on[t].iter().any(|(x, _)| *x == d)
        {
            waits_on[t].push((d, e));
        }
    }
    let mut blocking = vec![0usize; tasks.len()];
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (t, deps) in waits_on.iter().enumerate() {
        blocking[t] = deps.len();
        for (d, _) in deps {
            unblocks[*d].push(t);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..tasks.len())
        .filter(|&i| blocking[i] == 0)
        .map(Reverse)
        .collect();
    let mut sequence = Vec::with_capacity(tasks.len());
    while let Some(Reverse(i)) = ready.pop() {
        sequence.push(i);
        for &n in &unblocks[i] {
            blocking[n] -= 1;
            if blocking[n] == 0 {
                ready.push(Reverse(n));
            }
        }
    }
    if sequence.len() < tasks.len() {
        let stuck = (0..tasks.len()).find(|&i| blocking[i] > 0).unwrap_or(0);
        return Err(cycle_error(&tasks, &waits_on, &blocking, stuck, plan_path));
    }
    let mut slots: Vec<Option<Task>> = tasks.into_iter().map(Some).collect();
    Ok(sequence
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect())
}

/// Walk prerequisites from a task that never became ready until a task
/// repeats; the repeated stretch is a cycle.
fn cycle_error(
    tasks: &[Task],
    waits_on: &[Vec<(usize, &Edge)>],
    blocking: &[usize],
    start: usize,
    plan_path: &str,
) -> Error {
    let mut path: Vec<(usize, Option<&Edge>)> = vec![(start, None)];
    let mut seen = HashMap::from([(start, 0usize)]);
    let mut at = start;
    let begin = loop {
        let Some(&(next, edge)) = waits_on[at].iter().find(|(d, _)| blocking[*d] > 0) else {
            break 0; // cannot happen: a blocked task waits on a blocked task
        };
        if let Some(&pos) = seen.get(&next) {
            path.push((next, Some(edge)));
            break pos;
        }
        seen.insert(next, path.len());
        path.push((next, Some(edge)));
        at = next;
    };
    let cycle = &path[begin..];
    let mut text = tasks[cycle[0].0].id.clone();
    for (i, edge) in &cycle[1..] {
        let line = edge.map_or(0, |e| e.line);
        text.push_str(&format!(" -> {} ({plan_path}:{line})", tasks[*i].id));
    }
    Error::bad_input(format!("dependency cycle: {text}"))
        .hint(format!(
            "each arrow reads \"waits for\"; remove one of these dependencies from {plan_path}"
        ))
        .hint("`git milestone plan <milestone> --explain` lists every dependency with its line")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> Task {
        Task {
            id: id.into(),
            title: String::new(),
            line: 1,
            done: false,
            optional: false,
            parent: None,
            depends_on: Vec::new(),
            runner: None,
        }
    }

    fn edge(task: &str, on: &str, line: usize) -> Edge {
        Edge {
            task: task.into(),
            depends_on: on.into(),
            line,
            reason: String::new(),
        }
    }

    fn ids(t: &[Task]) -> Vec<&str> {
        t.iter().map(|t| t.id.as_str()).collect()
    }

    #[test]
    fn document_order_among_ready_tasks() {
        let tasks = ["A", "B", "C", "D"].map(task).to_vec();
        let edges = [edge("A", "C", 9), edge("B", "OUTSIDE", 3)];
        let out = order(tasks, &edges, "plan.md").unwrap();
        assert_eq!(ids(&out), ["B", "C", "A", "D"]);
    }

    #[test]
    fn a_cycle_names_every_edge() {
        let tasks = ["T001", "T002", "T005"].map(task).to_vec();
        let edges = [edge("T002", "T005", 14), edge("T005", "T002", 31)];
        let err = order(tasks, &edges, "plan.md").unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::BadInput);
        assert_eq!(
            err.message(),
            "dependency cycle: T002 -> T005 (plan.md:14) -> T002 (plan.md:31)"
        );
    }
}
