//! Every change to a run's record, as a method on [`Status`]: a new record,
//! lining an earlier one up with the plan, each task's start and end, the
//! run's failure, interruption, checkpoints and rollback. Run, `--jobs`,
//! rollback and resume all go through these; nothing else writes a field.
//! Pure: no git, no files.

use std::time::Duration;

use super::{Attempt, Failure, RunState, STATUS_VERSION, Sequence, Status, TaskState, TaskStatus};
use crate::files::now;

/// A task as the plan has it, for a record to line up with (the record
/// does not read plans).
#[derive(Debug, Clone, Copy)]
pub struct Planned<'a> {
    pub id: &'a str,
    /// Its label with a unit word (`Task 3`), for messages.
    pub label: Option<&'a str>,
    pub title: &'a str,
    /// The plan marks it done.
    pub done: bool,
}

fn new_task(task: &Planned<'_>) -> TaskStatus {
    TaskStatus {
        id: task.id.to_string(),
        label: task.label.map(str::to_string),
        title: task.title.to_string(),
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

impl Status {
    /// A new record of `milestone` from plan file `plan`: every task
    /// pending, or done-in-plan if the plan says so; `base_commit` is the
    /// checkpoint before the first task.
    pub fn new(milestone: &str, plan: &str, tasks: &[Planned<'_>], base_commit: &str) -> Status {
        Status {
            version: STATUS_VERSION,
            milestone: milestone.to_string(),
            plan: plan.to_string(),
            state: RunState::Running,
            started_at: Some(now()),
            updated_at: now(),
            base_commit: Some(base_commit.to_string()),
            tasks: tasks.iter().map(new_task).collect(),
            failure: None,
            usage: None,
            sequence: None,
        }
    }

    /// Line this record up with the plan as it is now (`plan` its file):
    /// tasks in plan order, earlier records kept (a task with a checkpoint
    /// stays done), tasks new to the plan added, tasks gone from it dropped.
    ///
    /// The plan's marks speak only for pending tasks: a box ticked by the
    /// runner of an attempt that then stopped (agents tick as they go) does
    /// not make that task done; only its checkpoint does.
    pub fn reconcile(self, plan: &str, tasks: &[Planned<'_>]) -> Status {
        let mut old_tasks = self.tasks;
        let tasks = tasks
            .iter()
            .map(
                |task| match old_tasks.iter().position(|t| t.id == task.id) {
                    Some(i) => {
                        let mut kept = old_tasks.swap_remove(i);
                        kept.title = task.title.to_string();
                        kept.label = task.label.map(str::to_string);
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
            plan: plan.to_string(),
            tasks,
            ..self
        }
    }

    /// Follow the sequence the user confirmed.
    pub fn follow(&mut self, sequence: Sequence) {
        self.sequence = Some(sequence);
    }

    /// Move task `from` to position `to` (the plan moves alike: the run
    /// follows their order, and a task's rollback target is the last
    /// checkpoint before it).
    pub fn move_task(&mut self, from: usize, to: usize) {
        let record = self.tasks.remove(from);
        self.tasks.insert(to, record);
    }

    /// On `--restart`: the tasks an earlier run checkpointed (`ran`: they
    /// have a checkpoint ref) run again, though their checkpoints marked
    /// them done in the plan. Tasks the plan marked done before any run
    /// stay done in the plan.
    pub fn reopen_marked(&mut self, ran: impl Fn(&str) -> bool) {
        for t in &mut self.tasks {
            if t.state == TaskState::DoneInPlan && ran(&t.id) {
                t.state = TaskState::Pending;
            }
        }
    }

    /// A milestone that completed with skipped tasks runs those again,
    /// after every other task (their checkpoints come after the last one),
    /// in their order: returns their IDs, or none when it did not complete
    /// with skips.
    pub fn reopen_skipped(&mut self) -> Option<Vec<String>> {
        if !self.all_finished() || !self.tasks.iter().any(|t| t.state == TaskState::Skipped) {
            return None;
        }
        let (skipped, others): (Vec<TaskStatus>, Vec<TaskStatus>) = std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|t| t.state == TaskState::Skipped);
        let ids = skipped.iter().map(|t| t.id.clone()).collect();
        self.tasks = others;
        self.tasks.extend(skipped.into_iter().map(|mut t| {
            t.state = TaskState::Pending;
            t.checkpoint = None;
            t.exit_code = None;
            t
        }));
        self.state = RunState::Running;
        Some(ids)
    }

    /// Every task is finished.
    pub fn all_finished(&self) -> bool {
        self.tasks.iter().all(|t| t.state.is_finished())
    }

    /// Mark `id` running, attempt `attempt`; the run is running again.
    pub fn start(&mut self, id: &str, attempt: u32) {
        self.state = RunState::Running;
        self.failure = None;
        self.updated_at = now();
        if let Some(t) = self.task_mut(id) {
            t.state = TaskState::Running;
            t.attempts = attempt;
            t.started_at = Some(now());
            t.ended_at = None;
            t.duration_ms = None;
            t.exit_code = None;
        }
    }

    /// Record the end of an attempt: its state, exit code and duration.
    pub fn finish(&mut self, id: &str, state: TaskState, exit: Option<i32>, took: Duration) {
        self.updated_at = now();
        if let Some(t) = self.task_mut(id) {
            t.state = state;
            t.exit_code = exit;
            t.ended_at = Some(now());
            t.duration_ms = Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
        }
        self.state = match state {
            TaskState::Failed => RunState::Failed,
            TaskState::Interrupted => RunState::Interrupted,
            _ if self.all_finished() => self.finished_state(),
            _ => RunState::Running,
        };
    }

    /// Record one attempt of `id` (its outcome, usage and checks; a record
    /// of the same attempt replaces it), and add up the task's and the
    /// milestone's usage again.
    pub fn record(&mut self, id: &str, attempt: Attempt) {
        if let Some(t) = self.task_mut(id) {
            t.history.retain(|a| a.n != attempt.n);
            t.history.push(attempt);
            t.usage = super::total_usage(&t.history);
        }
        self.usage = self
            .tasks
            .iter()
            .filter_map(|t| t.usage)
            .reduce(|a, b| a.plus(&b));
    }

    /// The task's attempt ended failed: the task's end and the run's
    /// failure, recorded together.
    pub fn failed(&mut self, id: &str, exit: Option<i32>, took: Duration) {
        self.finish(id, TaskState::Failed, exit, took);
        self.fail(id, exit);
    }

    /// The run stops failed at task `id` (`exit` its runner's exit code),
    /// whatever the task's own state (a budget spent before it started).
    pub fn fail(&mut self, id: &str, exit: Option<i32>) {
        let attempts = self.task(id).map_or(0, |t| t.attempts);
        self.failure = Some(Failure {
            task: id.to_string(),
            at: now(),
            exit_code: exit,
            attempts,
            rolled_back: false,
            saved_ref: None,
            head: None,
        });
        self.state = RunState::Failed;
    }

    /// Task `id` failed after its attempt's end was recorded (its checkpoint
    /// was refused, or a rate limit's wait is too long): the task and the
    /// run are failed, its end as recorded.
    pub fn fail_task(&mut self, id: &str, exit: Option<i32>) {
        if let Some(t) = self.task_mut(id) {
            t.state = TaskState::Failed;
        }
        self.fail(id, exit);
    }

    /// HEAD right after the failed attempt: commits up to it are the
    /// failed task's own, which `rollback` may take off without --force.
    pub fn failed_at(&mut self, head: String) {
        if let Some(f) = self.failure.as_mut() {
            f.head = Some(head);
        }
    }

    /// The failed attempt's work is kept under `saved_ref`, and not rolled
    /// back (a `--jobs` task's worktree, saved before it was removed).
    pub fn failure_saved(&mut self, saved_ref: &str) {
        if let Some(f) = self.failure.as_mut() {
            f.saved_ref = Some(saved_ref.to_string());
        }
    }

    /// The run's failure was rolled back, its work saved under `saved_ref`.
    pub fn rolled_back(&mut self, saved_ref: &str) {
        if let Some(f) = self.failure.as_mut() {
            f.rolled_back = true;
            f.saved_ref = Some(saved_ref.to_string());
        }
        self.updated_at = now();
    }

    /// The failure recorded is not one: its task was skipped, and the
    /// task's record says how it ended.
    pub fn not_failed(&mut self) {
        self.failure = None;
    }

    /// The commits task `id`'s runner made itself, kept below its checkpoint.
    pub fn adopt(&mut self, id: &str, commits: Vec<String>) {
        if let Some(t) = self.task_mut(id) {
            t.adopted_commits = commits;
        }
    }

    /// Task `id`'s checkpoint is `commit`.
    pub fn checkpointed(&mut self, id: &str, commit: String) {
        if let Some(t) = self.task_mut(id) {
            t.checkpoint = Some(commit);
        }
    }

    /// Task `id`, recorded as done, has no checkpoint commit (a run was
    /// stopped between saving the status file and committing): its work is
    /// in the tree, uncommitted, and as an interrupted task it runs again
    /// on top of that work.
    pub fn not_checkpointed(&mut self, id: &str) {
        self.interrupt_task(id);
    }

    /// Task `id` was stopped by a signal (its attempt's end, if recorded,
    /// stays as it was).
    pub fn interrupt_task(&mut self, id: &str) {
        if let Some(t) = self.task_mut(id) {
            t.state = TaskState::Interrupted;
        }
    }

    /// The run was stopped by a signal.
    pub fn interrupt(&mut self) {
        self.state = RunState::Interrupted;
        self.updated_at = now();
    }

    /// Task `id`'s checkpoint was taken off the branch (a rollback): it is
    /// pending again, as if it never ran, and so is a completed run.
    pub fn forget(&mut self, id: &str) {
        if let Some(t) = self.task_mut(id) {
            t.state = TaskState::Pending;
            t.checkpoint = None;
            t.exit_code = None;
            t.started_at = None;
            t.ended_at = None;
            t.duration_ms = None;
            t.adopted_commits.clear();
        }
        if self.state.is_completed() && self.tasks.iter().any(|t| t.state == TaskState::Pending) {
            self.state = RunState::Running;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &'static str, done: bool) -> Planned<'static> {
        Planned {
            id,
            label: None,
            title: "a title",
            done,
        }
    }

    fn fresh(tasks: &[Planned<'_>]) -> Status {
        Status::new("M1", "plan.md", tasks, "abc")
    }

    #[test]
    fn a_new_record_marks_plan_done_tasks() {
        let s = fresh(&[task("A", true), task("B", false)]);
        let states: Vec<_> = s.tasks.iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::DoneInPlan, TaskState::Pending]);
        assert_eq!(s.base_commit.as_deref(), Some("abc"));
    }

    #[test]
    fn reconcile_keeps_progress_and_follows_the_plan() {
        let mut old = fresh(&[task("A", false), task("B", false), task("X", false)]);
        old.start("A", 1);
        old.finish("A", TaskState::Done, Some(0), Duration::from_millis(5));
        old.start("B", 1);
        old.failed("B", Some(3), Duration::ZERO);
        let new = old.reconcile(
            "plan.md",
            &[task("A", false), task("C", true), task("B", false)],
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
        let mut old = fresh(&[task("A", true), task("B", false)]);
        old.start("B", 1);
        old.finish("B", TaskState::Failed, Some(1), Duration::ZERO);
        let new = old.reconcile("plan.md", &[task("A", false), task("B", true)]);
        let states: Vec<_> = new.tasks.iter().map(|t| t.state).collect();
        assert_eq!(states, [TaskState::Pending, TaskState::Failed]);
    }

    #[test]
    fn skipped_tasks_reopen_after_the_others_in_their_order() {
        let mut s = fresh(&[
            task("A", false),
            task("B", false),
            task("C", false),
            task("D", false),
        ]);
        for (id, state) in [
            ("A", TaskState::Skipped),
            ("B", TaskState::Done),
            ("C", TaskState::Skipped),
            ("D", TaskState::Done),
        ] {
            s.start(id, 1);
            s.finish(id, state, Some(0), Duration::ZERO);
        }
        assert_eq!(s.state, RunState::CompletedWithSkips);
        assert_eq!(s.reopen_skipped().unwrap(), ["A", "C"]);
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
        assert!(s.reopen_skipped().is_none());
    }

    #[test]
    fn last_finish_completes_the_run() {
        let mut s = fresh(&[task("A", false), task("B", true)]);
        s.start("A", 1);
        assert_eq!(s.state, RunState::Running);
        s.finish("A", TaskState::Skipped, Some(125), Duration::ZERO);
        assert_eq!(s.state, RunState::CompletedWithSkips);
        assert_eq!(s.progress(), (2, 2));
    }

    #[test]
    fn a_failure_rolled_back_and_a_forgotten_checkpoint_reopen_the_task() {
        let mut s = fresh(&[task("A", false), task("B", false)]);
        s.start("A", 1);
        s.finish("A", TaskState::Done, Some(0), Duration::ZERO);
        s.checkpointed("A", "c1".into());
        s.start("B", 1);
        s.failed("B", Some(2), Duration::ZERO);
        s.failed_at("h".into());
        s.rolled_back("refs/milestone/M1/attempts/B/1");
        let f = s.failure.clone().unwrap();
        assert!(f.rolled_back);
        assert_eq!(f.head.as_deref(), Some("h"));
        s.forget("A");
        let a = s.task("A").unwrap();
        assert_eq!(
            (a.state, a.checkpoint.as_deref()),
            (TaskState::Pending, None)
        );
        assert_eq!(s.state, RunState::Failed, "a failed run stays failed");
    }
}
