//! The plan and its record in step: a record made from the plan or lined
//! up with it, the tasks the plan marks done that the record says stopped,
//! and moving a task in both. The record's own changes are `Status`'s
//! methods (`state/transition.rs`).

use std::collections::HashMap;

use crate::plan::Plan;
use crate::state::{Planned, Status, TaskState};

/// The plan's tasks as the record sees them.
fn planned(plan: &Plan) -> Vec<Planned<'_>> {
    plan.tasks
        .iter()
        .map(|t| Planned {
            id: &t.id,
            label: t.label.as_deref(),
            title: &t.title,
            done: t.done,
        })
        .collect()
}

/// A new record: every task pending, or done-in-plan if the plan says so.
pub fn fresh(plan: &Plan, base_commit: &str) -> Status {
    Status::new(&plan.milestone, &plan.plan, &planned(plan), base_commit)
}

/// An earlier record lined up with the plan as it is now ([`Status::reconcile`]).
pub fn reconcile(old: Status, plan: &Plan) -> Status {
    old.reconcile(&plan.plan, &planned(plan))
}

/// Tasks the plan marks done whose last attempt stopped without a
/// checkpoint (an agent ticked the box, then failed), with how it stopped:
/// the run's record wins over the mark, and they run again.
pub fn ticked_but_stopped<'a>(plan: &'a Plan, status: &Status) -> Vec<(&'a str, &'static str)> {
    plan.tasks
        .iter()
        .filter(|task| task.done)
        .filter_map(|task| {
            let how = match status.task(&task.id)?.state {
                TaskState::Failed => "failed",
                TaskState::Interrupted => "was interrupted",
                TaskState::Running => "did not finish",
                _ => return None,
            };
            Some((task.id.as_str(), how))
        })
        .collect()
}

/// As [`ticked_but_stopped`], and those tasks are not done in `plan`.
pub fn unmark_stopped(plan: &mut Plan, status: &Status) -> Vec<(String, &'static str)> {
    let stopped: Vec<(String, &'static str)> = ticked_but_stopped(plan, status)
        .into_iter()
        .map(|(id, how)| (id.to_string(), how))
        .collect();
    for task in &mut plan.tasks {
        if stopped.iter().any(|(id, _)| *id == task.id) {
            task.done = false;
        }
    }
    stopped
}

/// Move task `from` to position `to` in both the plan and its record, which
/// stay in step: the run follows their order, and a task's rollback target
/// is the last checkpoint before it.
pub fn move_task(plan: &mut Plan, status: &mut Status, from: usize, to: usize) {
    let task = plan.tasks.remove(from);
    plan.tasks.insert(to, task);
    status.move_task(from, to);
}

/// A milestone that completed with skipped tasks runs those again, after
/// every other task ([`Status::reopen_skipped`]): returns the plan in the
/// record's new order and the skipped IDs.
pub fn reopen_skipped(plan: &Plan, status: &mut Status) -> Option<(Plan, Vec<String>)> {
    let skipped = status.reopen_skipped()?;
    let mut by_id: HashMap<&str, &crate::plan::Task> =
        plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let tasks = status
        .tasks
        .iter()
        .filter_map(|r| by_id.remove(r.id.as_str()).cloned())
        .collect();
    let moved = Plan {
        tasks,
        ..plan.clone()
    };
    Some((moved, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Task;
    use std::time::Duration;

    fn task(id: &str) -> Task {
        Task {
            id: id.into(),
            title: format!("title of {id}"),
            line: 1,
            done: false,
            optional: false,
            parent: None,
            depends_on: Default::default(),
            runner: None,
            verify: Vec::new(),
            allow_empty: false,
            parallel: false,
            label: None,
        }
    }

    #[test]
    fn skipped_tasks_reopen_after_the_others_in_the_plan_too() {
        let p = Plan {
            plan: "plan.md".into(),
            milestone: "M1".into(),
            tasks: ["A", "B", "C", "D"].into_iter().map(task).collect(),
            ..Default::default()
        };
        let mut s = fresh(&p, "abc");
        for (id, state) in [
            ("A", TaskState::Skipped),
            ("B", TaskState::Done),
            ("C", TaskState::Skipped),
            ("D", TaskState::Done),
        ] {
            s.start(id, 1);
            s.finish(id, state, Some(0), Duration::ZERO);
        }
        let (moved, skipped) = reopen_skipped(&p, &mut s).unwrap();
        assert_eq!(skipped, ["A", "C"]);
        let ids: Vec<_> = moved.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["B", "D", "A", "C"]);
        let recorded: Vec<_> = s.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(recorded, ids);
        assert!(reopen_skipped(&moved, &mut s).is_none());
    }
}
