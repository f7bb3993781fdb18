//! Which tasks may run at the same time under `run --jobs N`: each task's
//! predecessors, from the plan's dependencies and its parallel marks, and
//! the waves a dry run prints. Pure: tasks in, indices out.
//!
//! A task that states dependencies of its own waits for those only (the
//! graph shows it independent of the rest). A dependency stated for several
//! tasks at once (a phase's "depends on Phase 2", "T004 and T005 depend on
//! T001") is about them as a group, not a statement that they are
//! independent of each other: such a task waits for what the group waits
//! for and, among the group, keeps document order. A task the plan marks
//! parallel (`[P]`) waits for everything before its run of parallel tasks
//! (among its group: the group's tasks before it). Any other task keeps
//! document order: it waits for every task before it. Either way, a task
//! does not wait for one the plan says it may run beside ("T005 can run in
//! parallel with T004"); a task between the two still holds it up.

use std::collections::HashMap;

use crate::plan::Task;

/// What task `i` waits for: every task before `before` but those in
/// `beside` (sorted), and those in `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Need {
    before: usize,
    beside: Vec<usize>,
    on: Vec<usize>,
}

/// The tasks of a run, in the order it follows, with what each waits for.
#[derive(Debug, Clone)]
pub struct Graph {
    needs: Vec<Need>,
}

/// Per task (in the run's order): whether a statement names it alone, and
/// the other tasks of the statements that name it with others.
struct Groups {
    own: Vec<bool>,
    siblings: Vec<Vec<usize>>,
}

impl Groups {
    fn new(index: &HashMap<&str, usize>, n: usize, waiting: &[Vec<&str>]) -> Groups {
        let mut own = vec![false; n];
        let mut siblings: Vec<Vec<usize>> = vec![Vec::new(); n];
        for ids in waiting {
            let group: Vec<usize> = ids.iter().filter_map(|id| index.get(id).copied()).collect();
            match group.as_slice() {
                [] => {}
                [one] => own[*one] = true,
                _ => {
                    for &i in &group {
                        siblings[i].extend(group.iter().filter(|&&j| j != i));
                    }
                }
            }
        }
        Groups { own, siblings }
    }
}

impl Graph {
    /// The graph of `tasks` (in the run's order); `parallel` are the pairs
    /// of IDs the plan says may run at the same time, `waiting` the tasks
    /// each dependency statement makes wait ([`crate::plan::Plan::waiting`]).
    pub fn new(tasks: &[Task], parallel: &[(&str, &str)], waiting: &[Vec<&str>]) -> Graph {
        let index: HashMap<&str, usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let mut beside: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
        for (a, b) in parallel {
            if let (Some(&a), Some(&b)) = (index.get(a), index.get(b)) {
                beside[a.max(b)].push(a.min(b));
            }
        }
        let groups = Groups::new(&index, tasks.len(), waiting);
        let mut run_start = 0;
        let needs = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if !(t.parallel && i > 0 && tasks[i - 1].parallel) {
                    run_start = i;
                }
                let mut beside = std::mem::take(&mut beside[i]);
                beside.sort_unstable();
                beside.dedup();
                let start = if t.parallel { run_start } else { i };
                if t.depends_on.is_empty() {
                    return Need {
                        before: start,
                        beside,
                        on: Vec::new(),
                    };
                }
                // A dependency on a later task was broken by the order the
                // user confirmed (and said so); an outside ID holds nothing up.
                let mut on: Vec<usize> = t
                    .depends_on
                    .iter()
                    .filter_map(|id| index.get(id).copied())
                    .filter(|&j| j < i)
                    .collect();
                if !groups.own[i] {
                    let kept = groups.siblings[i].iter().copied();
                    on.extend(kept.filter(|&j| j < start && beside.binary_search(&j).is_err()));
                }
                Need {
                    before: 0,
                    beside: Vec::new(),
                    on,
                }
            })
            .collect();
        Graph { needs }
    }

    pub fn len(&self) -> usize {
        self.needs.len()
    }

    /// Task `i` may start: everything it waits for is `finished`.
    pub fn ready(&self, i: usize, finished: &[bool]) -> bool {
        let need = &self.needs[i];
        let waited = |(j, &f): (usize, &bool)| f || need.beside.binary_search(&j).is_ok();
        finished[..need.before].iter().enumerate().all(waited)
            && need.on.iter().all(|&j| finished[j])
    }
}

/// The waves a run with `jobs` at a time goes through when every task takes
/// as long: each wave the first `jobs` ready tasks, in the run's order.
/// `finished` tasks are in none.
pub fn waves(graph: &Graph, finished: &[bool], jobs: usize) -> Vec<Vec<usize>> {
    let mut done = finished.to_vec();
    let mut out = Vec::new();
    loop {
        let wave: Vec<usize> = (0..graph.len())
            .filter(|&i| !done[i] && graph.ready(i, &done))
            .take(jobs.max(1))
            .collect();
        if wave.is_empty() {
            // Every task waits only for earlier ones, so nothing is left.
            return out;
        }
        for &i in &wave {
            done[i] = true;
        }
        out.push(wave);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::DependsOn;

    /// Tasks named by `spec`: `(id, parallel, depends_on)`.
    fn tasks(spec: &[(&str, bool, &[&str])]) -> Vec<Task> {
        let names: Arc<Vec<String>> = Arc::new(spec.iter().map(|s| s.0.to_string()).collect());
        spec.iter()
            .map(|&(id, parallel, on)| {
                let on = on
                    .iter()
                    .map(|d| names.iter().position(|n| n == d).unwrap() as u32)
                    .collect();
                Task {
                    id: id.into(),
                    label: None,
                    title: String::new(),
                    line: 1,
                    done: false,
                    optional: false,
                    parent: None,
                    depends_on: DependsOn::new(Arc::clone(&names), on),
                    runner: None,
                    verify: Vec::new(),
                    allow_empty: false,
                    parallel,
                }
            })
            .collect()
    }

    fn ids(tasks: &[Task], waves: Vec<Vec<usize>>) -> Vec<Vec<&str>> {
        waves
            .into_iter()
            .map(|w| w.into_iter().map(|i| tasks[i].id.as_str()).collect())
            .collect()
    }

    fn plan_waves(tasks: &[Task], jobs: usize) -> Vec<Vec<&str>> {
        let g = Graph::new(tasks, &[], &[]);
        ids(tasks, waves(&g, &vec![false; tasks.len()], jobs))
    }

    #[test]
    fn tasks_with_no_stated_relation_keep_document_order() {
        let t = tasks(&[("A", false, &[]), ("B", false, &[]), ("C", false, &[])]);
        assert_eq!(plan_waves(&t, 4), [["A"], ["B"], ["C"]]);
    }

    #[test]
    fn a_run_of_parallel_tasks_waits_for_what_comes_before_it() {
        let t = tasks(&[
            ("setup", false, &[]),
            ("A", true, &[]),
            ("B", true, &[]),
            ("C", true, &[]),
            ("join", false, &[]),
            ("D", true, &[]),
        ]);
        assert_eq!(
            plan_waves(&t, 4),
            vec![vec!["setup"], vec!["A", "B", "C"], vec!["join"], vec!["D"]]
        );
    }

    #[test]
    fn stated_dependencies_alone_hold_a_task_back() {
        // 12 tasks, 4 wide, a critical path of 4: the benchmark's plan.
        let t = tasks(&[
            ("A1", true, &[]),
            ("A2", true, &[]),
            ("A3", true, &[]),
            ("A4", true, &[]),
            ("B1", false, &["A1"]),
            ("B2", false, &["A2"]),
            ("B3", false, &["A3"]),
            ("B4", false, &["A4"]),
            ("C1", false, &["B1", "B2"]),
            ("C2", false, &["B3", "B4"]),
            ("D1", false, &["C1"]),
            ("D2", false, &["C2"]),
        ]);
        assert_eq!(
            plan_waves(&t, 4),
            vec![
                vec!["A1", "A2", "A3", "A4"],
                vec!["B1", "B2", "B3", "B4"],
                vec!["C1", "C2"],
                vec!["D1", "D2"],
            ]
        );
        assert_eq!(plan_waves(&t, 3).len(), 5);
        assert_eq!(plan_waves(&t, 1).len(), 12);
    }

    #[test]
    fn tasks_the_plan_says_may_run_together_are_not_held_by_document_order() {
        let t = tasks(&[
            ("setup", false, &[]),
            ("api", false, &[]),
            ("ui", false, &[]),
            ("api2", false, &[]),
            ("ui2", false, &[]),
            ("docs", false, &[]),
        ]);
        let pairs = [
            ("ui", "api"),
            ("ui", "api2"),
            ("ui2", "api"),
            ("api2", "ui2"),
        ];
        let g = Graph::new(&t, &pairs, &[]);
        assert_eq!(
            ids(&t, waves(&g, &[false; 6], 4)),
            vec![
                vec!["setup"],
                vec!["api", "ui"],
                vec!["api2", "ui2"],
                vec!["docs"]
            ]
        );
        // A task between the two holds the later one up still.
        let g = Graph::new(&t, &[("api2", "api")], &[]);
        assert_eq!(ids(&t, waves(&g, &[false; 6], 4)).len(), 6);
    }

    #[test]
    fn a_dependency_stated_for_a_group_keeps_its_tasks_in_document_order() {
        let t = tasks(&[
            ("setup", false, &[]),
            ("A", true, &["setup"]),
            ("B", true, &["setup"]),
            ("C", false, &["setup"]),
            ("D", false, &["setup"]),
        ]);
        let group = vec![vec!["A", "B", "C", "D"]];
        let g = Graph::new(&t, &[], &group);
        assert_eq!(
            ids(&t, waves(&g, &[false; 5], 4)),
            vec![vec!["setup"], vec!["A", "B"], vec!["C"], vec!["D"]]
        );
        // Each stated on its own, the same dependencies make them independent.
        let own: Vec<Vec<&str>> = ["A", "B", "C", "D"].iter().map(|i| vec![*i]).collect();
        let g = Graph::new(&t, &[], &own);
        assert_eq!(ids(&t, waves(&g, &[false; 5], 4)).len(), 2);
    }

    #[test]
    fn finished_tasks_are_in_no_wave_and_hold_nothing_up() {
        let t = tasks(&[
            ("A", false, &[]),
            ("B", false, &["A"]),
            ("C", false, &["A"]),
        ]);
        let g = Graph::new(&t, &[], &[]);
        assert_eq!(ids(&t, waves(&g, &[true, false, false], 2)), [["B", "C"]]);
        assert!(!g.ready(1, &[false, false, false]));
        assert!(g.ready(2, &[true, false, false]));
    }

    #[test]
    fn a_dependency_on_a_later_or_outside_task_holds_nothing_up() {
        let mut t = tasks(&[("A", false, &[]), ("B", false, &["C"]), ("C", false, &[])]);
        let names = Arc::new(vec!["A".into(), "B".into(), "C".into(), "M0-9".into()]);
        t[0].depends_on = DependsOn::new(names, vec![3]);
        assert_eq!(plan_waves(&t, 2), vec![vec!["A", "B"], vec!["C"]]);
    }
}
