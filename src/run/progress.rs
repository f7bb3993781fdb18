//! A run's record in the status file: starting one, lining an earlier one up
//! with the plan on resume, and the per-task transitions. Pure: no git.

use std::time::Duration;

use crate::plan::{Plan, Task};
use crate::state::{Failure, RunState, STATUS_VERSION, Status, TaskState, now};

/// A new record: every task pending, or done-in-plan if the plan says so.
pub fn fresh(plan: &Plan, base_commit: &str) -> Status {
    Status {
        version: STATUS_VERSION,
        milestone: plan.milestone.clone(),
        plan: plan.plan.clone(),
        state: RunState::Running,
        started_at: Some(now()),
        updated_at: now(),
        base_commit: Some(base_commit.to_string()),
        tasks: plan.tasks.iter().map(new_task).collect(),
        failure: None,
        usage: None,
        sequence: None,
    }
}

fn new_task(task: &Task) -> crate::state::TaskStatus {
    crate::state::TaskStatus {
        id: task.id.clone(),
        label: task.label.clone(),
        title: task.title.clone(),
        state: if task.done {
            TaskState::DoneInPlan
        } else {
            TaskState::Pending
        },
        attempts: 0,
        started_at: None,
        ended_at: None,
        duration_ms: None,
        exit_code: None,
        checkpoint: None,
        adopted_commits: Vec::new(),
        history: Vec::new(),
        usage: None,
    }
}

/// Line an earlier record up with the plan as it is now: tasks in plan
/// order, earlier records kept (a task with a checkpoint stays done),
/// tasks new to the plan added, tasks gone from it dropped.
///
/// The plan's marks speak only for pending tasks: a box ticked by the
/// runner of an attempt that then stopped (agents tick as they go) does
/// not make that task done; only its checkpoint does.
pub fn reconcile(old: Status, plan: &Plan) -> Status {
    let mut old_tasks = old.tasks;
    let tasks = plan
        .tasks
        .iter()
        .map(
            |task| match old_tasks.iter().position(|t| t.id == task.id) {
                Some(i) => {
                    let mut kept = old_tasks.swap_remove(i);
                    kept.title = task.title.clone();
                    kept.state = match kept.state {
                        TaskState::Pending if task.done => TaskState::DoneInPlan,
                        TaskState::DoneInPlan if !task.done => TaskState::Pending,
                        state => state,
                    };
                    kept
                }
                None => new_task(task),
            },
        )
        .collect();
    Status {
        plan: plan.plan.clone(),
        tasks,
        ..old
    }
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
    let record = status.tasks.remove(from);
    status.tasks.insert(to, record);
}

/// A milestone that completed with skipped tasks runs those again, after
/// every other task (their checkpoints come after the last one): returns
/// the plan in that order and the skipped IDs, the record reopened alike.
pub fn reopen_skipped(plan: &Plan, status: &mut Status) -> Option<(Plan, Vec<String>)> {
    if !all_finished(status) || !status.tasks.iter().any(|t| t.state == TaskState::Skipped) {
        return None;
    }
    let mut plan = plan.clone();
    let mut skipped = Vec::new();
    let last = plan.tasks.len() - 1;
    // From the end, so that moving one does not shift those still to move,
    // and they keep their order among themselves.
    for i in (0..=last).rev() {
        if status.tasks[i].state != TaskState::Skipped {
            continue;
        }
        let t = &mut status.tasks[i];
        skipped.push(t.id.clone());
        t.state = TaskState::Pending;
        t.checkpoint = None;
        t.exit_code = None;
        move_task(&mut plan, status, i, last + 1 - skipped.len());
    }
    skipped.reverse();
    status.state = RunState::Running;
    Some((plan, skipped))
}

/// Every task is finished.
pub fn all_finished(status: &Status) -> bool {
    status.tasks.iter().all(|t| t.state.is_finished())
}

/// Mark `id` running, attempt `attempt`; the run is running again.
pub fn start(status: &mut Status, id: &str, attempt: u32) {
    status.state = RunState::Running;
    status.failure = None;
    status.updated_at = now();
    if let Some(t) = status.task_mut(id) {
        t.state = TaskState::Running;
        t.attempts = attempt;
        t.started_at = Some(now());
        t.ended_at = None;
        t.duration_ms = None;
        t.exit_code = None;
    }
}

/// Record the end of an attempt: its state, exit code and duration.
pub fn finish(status: &mut Status, id: &str, state: TaskState, exit: Option<i32>, took: Duration) {
    status.updated_at = now();
    if let Some(t) = status.task_mut(id) {
        t.state = state;
        t.exit_code = exit;
        t.ended_at = Some(now());
        t.duration_ms = Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
    }
    status.state = match state {
        TaskState::Failed => RunState::Failed,
        TaskState::Interrupted => RunState::Interrupted,
        _ if all_finished(status) => status.finished_state(),
        _ => RunState::Running,
    };
}

/// Record one attempt of `id` (its outcome, usage and checks; a record of
/// the same attempt replaces it), and add up the task's and the milestone's
/// usage again.
pub fn record(status: &mut Status, id: &str, attempt: crate::state::Attempt) {
    if let Some(t) = status.task_mut(id) {
        t.history.retain(|a| a.n != attempt.n);
        t.history.push(attempt);
        t.usage = crate::state::total_usage(&t.history);
    }
    status.usage = status
        .tasks
        .iter()
        .filter_map(|t| t.usage)
        .reduce(|a, b| a.plus(&b));
}

/// The task's attempt ended failed: the task's end and the run's failure,
/// recorded together.
pub fn failed(status: &mut Status, id: &str, exit: Option<i32>, took: Duration) {
    finish(status, id, TaskState::Failed, exit, took);
    fail(status, id, exit);
}

/// Record `id`'s failure as the run's failure.
pub fn fail(status: &mut Status, id: &str, exit: Option<i32>) {
    let attempts = status.task(id).map_or(0, |t| t.attempts);
    status.failure = Some(Failure {
        task: id.to_string(),
        at: now(),
        exit_code: exit,
        attempts,
        rolled_back: false,
        saved_ref: None,
        head: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, done: bool) -> Task {
        Task {
            id: id.into(),
            title: format!("title of {id}"),
            line: 1,
            done,
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

    fn plan(tasks: Vec<Task>) -> Plan {
        Plan {
            plan: "plan.md".into(),
            milestone: "M1".into(),
            tasks,
            ..Default::default()
        }
    }

    #[test]
    fn fresh_marks_plan_done_tasks() {
        let s = fresh(&plan(vec![task("A", true), task("B", false)]), "abc");
        let states: Vec<_> = s.tasks.iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::DoneInPlan, TaskState::Pending]);
        assert_eq!(s.base_commit.as_deref(), Some("abc"));
    }

    #[test]
    fn reconcile_keeps_progress_and_follows_the_plan() {
        let mut old = fresh(
            &plan(vec![task("A", false), task("B", false), task("X", false)]),
            "abc",
        );
        start(&mut old, "A", 1);
        finish(
            &mut old,
            "A",
            TaskState::Done,
            Some(0),
            Duration::from_millis(5),
        );
        start(&mut old, "B", 1);
        finish(&mut old, "B", TaskState::Failed, Some(3), Duration::ZERO);
        fail(&mut old, "B", Some(3));
        let new = reconcile(
            old,
            &plan(vec![task("A", false), task("C", true), task("B", false)]),
        );
        let rows: Vec<_> = new
            .tasks
            .iter()
            .map(|t| (t.id.as_str(), t.state, t.attempts))
            .collect();
        assert_eq!(
            rows,
            [
                ("A", TaskState::Done, 1),
                ("C", TaskState::DoneInPlan, 0),
                ("B", TaskState::Failed, 1)
            ]
        );
        assert_eq!(new.state, RunState::Failed);
        assert_eq!(new.failure.unwrap().exit_code, Some(3));
    }

    #[test]
    fn a_tick_does_not_finish_a_stopped_task_and_an_untick_reopens_a_plan_done_one() {
        let mut old = fresh(&plan(vec![task("A", true), task("B", false)]), "abc");
        start(&mut old, "B", 1);
        finish(&mut old, "B", TaskState::Failed, Some(1), Duration::ZERO);
        let new = reconcile(old, &plan(vec![task("A", false), task("B", true)]));
        let states: Vec<_> = new.tasks.iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::Pending, TaskState::Failed]);
    }

    #[test]
    fn skipped_tasks_reopen_after_the_others_in_their_order() {
        let p = plan(vec![
            task("A", false),
            task("B", false),
            task("C", false),
            task("D", false),
        ]);
        let mut s = fresh(&p, "abc");
        for (id, state) in [
            ("A", TaskState::Skipped),
            ("B", TaskState::Done),
            ("C", TaskState::Skipped),
            ("D", TaskState::Done),
        ] {
            start(&mut s, id, 1);
            finish(&mut s, id, state, Some(0), Duration::ZERO);
        }
        assert_eq!(s.state, RunState::CompletedWithSkips);
        let (moved, skipped) = reopen_skipped(&p, &mut s).unwrap();
        assert_eq!(skipped, ["A", "C"]);
        let ids: Vec<_> = moved.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["B", "D", "A", "C"]);
        let rows: Vec<_> = s.tasks.iter().map(|t| (t.id.as_str(), t.state)).collect();
        assert_eq!(
            rows,
            [
                ("B", TaskState::Done),
                ("D", TaskState::Done),
                ("A", TaskState::Pending),
                ("C", TaskState::Pending)
            ]
        );
        assert_eq!(s.state, RunState::Running);
        assert!(reopen_skipped(&moved, &mut s).is_none());
    }

    #[test]
    fn last_finish_completes_the_run() {
        let mut s = fresh(&plan(vec![task("A", false), task("B", true)]), "abc");
        start(&mut s, "A", 1);
        assert_eq!(s.state, RunState::Running);
        finish(&mut s, "A", TaskState::Skipped, Some(125), Duration::ZERO);
        assert_eq!(s.state, RunState::CompletedWithSkips);
        assert_eq!(s.progress(), (2, 2));
    }
}
