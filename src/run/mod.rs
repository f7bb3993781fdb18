//! Running a milestone: the checks before, the loop over tasks, the
//! checkpoint after each success, and what a failure or a signal does.
//!
//! `execute` takes an opened repository and a loaded plan, so tests and the
//! command share it. It prints nothing itself: lines go to a [`Report`].

pub mod message;
pub mod progress;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{self, GlobalRunner, RunnerSource};
use crate::error::{Error, Result};
use crate::failure::{self, Choice, FailedAttempt, Policy, Prompter};
use crate::lock::RunLock;
use crate::plan::{Plan, Task};
use crate::repo::Repo;
use crate::repo::checkpoint::{
    CheckpointSpec, Committer, Moved, WorkTree, checkpoint_ref, task_id_fits_refs,
};
use crate::repo::short_oid as short;
use crate::runner::{self, EXIT_SKIP, Exit, Invocation, Outcome, Sink, TaskEnv, signals};
use crate::state::{self, Status, TaskState};
use message::Verdict;

/// A run's settings, validated.
#[derive(Debug, Clone)]
pub struct Options {
    pub runner: Option<GlobalRunner>,
    pub tag: bool,
    pub dry_run: bool,
    pub retry: bool,
    pub restart: bool,
    pub detach_ok: bool,
    pub timeout: Option<Duration>,
    pub policy: Policy,
    /// Where the task's output (stdout and stderr, in order) is copied besides the log.
    pub echo: Sink,
}

/// Where a run's own lines go (the task's output goes to `Options::echo`).
pub trait Report {
    /// Progress: starting a task, a checkpoint, the plan of a dry run.
    fn info(&mut self, line: &str);
    /// Something went wrong or needs attention.
    fn warn(&mut self, line: &str);
}

/// How a run that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    /// Every task is finished now; `ran` of them ran in this invocation.
    Completed {
        ran: usize,
    },
    /// As `Completed`, but these tasks were skipped: their changes are
    /// saved under attempt refs, not committed.
    CompletedWithSkips {
        ran: usize,
        skipped: Vec<String>,
    },
    /// Nothing was left to run.
    NothingToDo,
    DryRun,
}

/// How one task's command is run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TaskRunner {
    command: String,
    script: bool,
    source: RunnerSource,
}

/// Run the milestone `plan` in `repo`. Failures, refusals and interruptions
/// are errors whose kind fixes the exit code; the status file records them.
///
/// Everything that can refuse happens before the lock is taken and before
/// anything is written: a refusal changes nothing.
pub fn execute<'a>(
    repo: &'a Repo,
    plan: &'a Plan,
    opts: &'a Options,
    report: &'a mut dyn Report,
    prompter: Option<&'a mut dyn Prompter>,
) -> Result<Finished> {
    let name = state::validate_name(&plan.milestone)?;
    state::check_bundle_path(repo.root(), name)?;
    check_task_ids(plan)?;
    let head = repo.check_can_run(opts.detach_ok)?;
    // Before the work tree is read: reading it refreshes the index.
    repo.check_writable()?;
    let (mut status, resuming, dropped) = load_status(repo, plan, opts, &head)?;
    for id in &dropped {
        report.warn(&format!(
            "warning: {id} is no longer in {}: dropped from the status file (its checkpoint, if any, stays in history)",
            plan.plan
        ));
    }
    let stopped_before_checkpoint = resuming && unrecorded_checkpoints(repo, &mut status, report)?;
    if progress::all_finished(&status) {
        clear_stale_lock(repo, name, report);
        report.info(&format!(
            "Milestone {name}: all {} tasks are done; nothing to run.",
            status.tasks.len()
        ));
        report.info(&format!(
            "To run it again from the start: git milestone run {name} --restart"
        ));
        return Ok(Finished::NothingToDo);
    }
    // A rollback stopped half way left a tree that is neither the
    // attempt's nor the checkpoint's.
    failure::refuse_unfinished_rollback(repo.git_dir(), name)?;
    let tree = repo.work_tree()?;
    let after_attempt = resuming && continues_an_attempt(&status);
    check_work_tree(repo, &tree, name, after_attempt)?;
    // Files the stopped attempt created are its task's work; any other
    // untracked file is not the milestone's.
    let leftovers = if after_attempt {
        attempt_leftovers(repo, name, &status, &tree, stopped_before_checkpoint)?
    } else {
        HashSet::new()
    };
    if after_attempt
        && (!tree.changed.is_empty() || tree.untracked.iter().any(|p| leftovers.contains(p)))
    {
        report.info(&format!(
            "continuing on top of the failed attempt's changes; `git milestone rollback {name}` discards them"
        ));
    }
    let runners = resolve_runners(plan, &status, opts)?;
    check_programs(repo, &runners)?;
    let committer = repo.committer()?;
    if opts.dry_run {
        dry_run(plan, &status, &runners, opts, report);
        return Ok(Finished::DryRun);
    }
    signals::install()
        .map_err(|e| Error::failed("cannot install signal handlers").with_cause(e))?;
    let lock = RunLock::acquire(repo.common_dir(), name).map_err(|e| disk_full_hint(repo, e))?;
    if let Some(old) = &lock.replaced {
        report.warn(&format!(
            "warning: removed a stale run lock left by pid {} (started {})",
            old.pid, old.started_at
        ));
    }
    // Under the run lock: a git lock file now is not a live run's.
    repo.check_no_stale_locks(name)?;
    let keep = begin(repo, &mut status, &tree, resuming, opts.restart)
        .map_err(|e| disk_full_hint(repo, e))?;
    let mut session = Session {
        repo,
        plan,
        opts,
        report,
        prompter,
        status,
        keep,
        leftovers,
        untracked_now: Some(tree.untracked),
        runners,
        committer,
        ran: 0,
    };
    let result = session.all().map_err(|e| disk_full_hint(repo, e));
    drop(lock);
    result
}

/// A run killed after its last checkpoint leaves its lock behind; with
/// nothing left to run, tidy it up if its owner is gone. A live run's lock
/// (or a read-only repository) is simply left alone.
fn clear_stale_lock(repo: &Repo, name: &str, report: &mut dyn Report) {
    if !repo.common_dir().join(crate::lock::LOCK_FILE).exists() {
        return;
    }
    if let Ok(RunLock {
        replaced: Some(old),
        ..
    }) = RunLock::acquire(repo.common_dir(), name).as_ref()
    {
        report.warn(&format!(
            "warning: removed a stale run lock left by pid {} (started {})",
            old.pid, old.started_at
        ));
    }
}

/// A write that failed for lack of space says which disk to free.
fn disk_full_hint(repo: &Repo, e: Error) -> Error {
    let full = e.cause().is_some_and(|c| {
        c.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.raw_os_error() == Some(libc::ENOSPC))
                || c.to_string().contains("No space left on device")
        })
    });
    if !full {
        return e;
    }
    e.hint(format!(
        "the disk holding {} is full: free some space (`df -h {}`), then run `git milestone run` again",
        repo.root().display(),
        crate::ui::text::quote_path(repo.root())
    ))
}

/// The record to continue from (lined up with the plan), or a fresh one;
/// whether this continues an earlier run; and the recorded tasks the plan
/// no longer has (dropped from the record).
fn load_status(
    repo: &Repo,
    plan: &Plan,
    opts: &Options,
    head: &str,
) -> Result<(Status, bool, Vec<String>)> {
    let name = &plan.milestone;
    let previous = if opts.restart {
        None
    } else {
        Status::load(repo.root(), name)?
    };
    match previous {
        Some(old) => {
            let dropped = old
                .tasks
                .iter()
                .filter(|t| !plan.tasks.iter().any(|p| p.id == t.id))
                .map(|t| t.id.clone())
                .collect();
            Ok((progress::reconcile(old, plan), true, dropped))
        }
        None if opts.retry => Err(Error::bad_input(format!(
            "there is no earlier run of {name} to retry"
        ))
        .hint(format!("start one with `git milestone run {name}`"))),
        None => Ok((progress::fresh(plan, head), false, Vec::new())),
    }
}

/// Under the lock: a new run records its untracked files. Returns the files
/// checkpoints must not stage (each attempt adds to them as it starts).
fn begin(
    repo: &Repo,
    status: &mut Status,
    tree: &WorkTree,
    resuming: bool,
    restart: bool,
) -> Result<HashSet<String>> {
    let name = status.milestone.clone();
    state::remove_stale_temp_files(repo.root(), &name)?;
    if !resuming {
        state::write_untracked_snapshot(repo.git_dir(), &name, &tree.untracked)?;
        state::write_attempt_leftovers(repo.git_dir(), &name, &[])?;
        if restart {
            repo.delete_checkpoint_refs(&name)?;
        }
        return Ok(tree.untracked.iter().cloned().collect());
    }
    fill_checkpoints(repo, status)?;
    Ok(state::read_untracked_snapshot(repo.git_dir(), &name)?
        .into_iter()
        .collect())
}

fn check_task_ids(plan: &Plan) -> Result<()> {
    match plan
        .tasks
        .iter()
        .find(|t| !task_id_fits_refs(&plan.milestone, &t.id))
    {
        None => Ok(()),
        Some(t) => Err(Error::bad_input(format!(
            "task ID {:?} (line {} of {}) cannot be used in a git ref name",
            t.id, t.line, plan.plan
        ))
        .hint("rename the task in the plan: letters, digits, '.', '-', '_' and '#' work")),
    }
}

/// Whether the recorded run stopped in the middle of a task (failed,
/// interrupted, or killed while running) and was not rolled back, so the
/// work tree may hold that attempt's changes.
fn continues_an_attempt(status: &Status) -> bool {
    // A rollback discarded the attempt's changes: what is left is the user's.
    if status.failure.as_ref().is_some_and(|f| f.rolled_back) {
        return false;
    }
    // The task's state, not the run's: a run interrupted between tasks left
    // nothing behind.
    status.tasks.iter().any(|t| {
        matches!(
            t.state,
            TaskState::Running | TaskState::Failed | TaskState::Interrupted
        )
    })
}

/// A run needs a clean tree, so that a checkpoint holds only what its task
/// changed. Continuing after a failed or interrupted attempt starts from
/// what that attempt left, as a retry would.
fn check_work_tree(repo: &Repo, tree: &WorkTree, name: &str, after_attempt: bool) -> Result<()> {
    if after_attempt || tree.changed.is_empty() {
        return Ok(());
    }
    // A submodule is named with what changed inside it: `git status`
    // lists only its path.
    let mut submodules = Vec::new();
    let shown: Vec<String> = tree
        .changed
        .iter()
        .take(5)
        .map(|p| match repo.describe_submodule(p, 3) {
            Some(inside) => {
                submodules.push(crate::ui::text::quote(p));
                format!("{inside} in submodule {}", crate::ui::text::clean(p))
            }
            None => crate::ui::text::clean(p).into_owned(),
        })
        .collect();
    let more = tree.changed.len().saturating_sub(shown.len());
    let mut list = shown.join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    let mut e = Error::refused(format!(
        "the work tree has uncommitted changes ({list}); a checkpoint would mix them into the first task"
    ))
    .hint(format!(
        "commit them (`git commit -am ...`) or put them aside (`git stash`), then run `git milestone run {name}` again"
    ));
    if let Some(sub) = submodules.first() {
        e = e.hint(format!(
            "inside a submodule, commit or remove them there first (`git -C {sub} status`)"
        ));
    }
    Err(e)
}

fn resolve_runners(
    plan: &Plan,
    status: &Status,
    opts: &Options,
) -> Result<Vec<Option<TaskRunner>>> {
    plan.tasks
        .iter()
        .zip(&status.tasks)
        .map(|(task, record)| {
            if record.state.is_finished() {
                return Ok(None);
            }
            runner_for(task, opts.runner.as_ref()).map(Some)
        })
        .collect()
}

fn runner_for(task: &Task, global: Option<&GlobalRunner>) -> Result<TaskRunner> {
    if let Some(g) = global {
        return Ok(TaskRunner {
            command: g.command.clone(),
            script: false,
            source: g.source,
        });
    }
    match &task.runner {
        Some(script) => Ok(TaskRunner {
            command: script.clone(),
            script: true,
            source: RunnerSource::Plan,
        }),
        None => Err(config::no_runner_error(&task.id)),
    }
}

fn check_programs(repo: &Repo, runners: &[Option<TaskRunner>]) -> Result<()> {
    let mut seen = HashSet::new();
    for r in runners.iter().flatten().filter(|r| !r.script) {
        if seen.insert(r.command.as_str()) {
            runner::check_program(&r.command, repo.root())?;
        }
    }
    Ok(())
}

/// The untracked files the stopped attempt created: as recorded when it
/// ended, or, when its end was never recorded (the run was killed during the
/// task or before its checkpoint was staged, or the disk filled), every
/// untracked file the milestone does not already leave alone: nothing else
/// can tell them apart, and leaving the attempt's files out would make its
/// retry's checkpoint incomplete.
fn attempt_leftovers(
    repo: &Repo,
    name: &str,
    status: &Status,
    tree: &WorkTree,
    stopped_before_checkpoint: bool,
) -> Result<HashSet<String>> {
    let mut leftovers: HashSet<String> = state::read_attempt_leftovers(repo.git_dir(), name)?
        .into_iter()
        .collect();
    if stopped_before_checkpoint || status.tasks.iter().any(|t| t.state == TaskState::Running) {
        let keep: HashSet<String> = state::read_untracked_snapshot(repo.git_dir(), name)?
            .into_iter()
            .collect();
        leftovers.extend(
            tree.untracked
                .iter()
                .filter(|p| !keep.contains(*p))
                .cloned(),
        );
    }
    Ok(leftovers)
}

/// Tasks whose checkpoint commit is not in the status file (the last one
/// never is: a commit cannot name itself) get it from their checkpoint ref,
/// or, when a killed run committed but did not write the ref, from the
/// commit on the branch that carries their trailers.
fn fill_checkpoints(repo: &Repo, status: &mut Status) -> Result<()> {
    let base = status.base_commit.clone().unwrap_or_default();
    for t in &mut status.tasks {
        if matches!(t.state, TaskState::Done | TaskState::Skipped) && t.checkpoint.is_none() {
            t.checkpoint = checkpoint_on_branch(repo, &status.milestone, &t.id)?;
            if t.checkpoint.is_none() {
                t.checkpoint = repo.find_checkpoint_commit(&status.milestone, &t.id, &base)?;
                if let Some(commit) = &t.checkpoint {
                    repo.set_checkpoint_ref(&status.milestone, &t.id, commit)?;
                }
            }
        }
    }
    Ok(())
}

/// The commit `task`'s checkpoint ref points at, if it is in this branch's
/// history: every worktree shares the refs, and another one may have run
/// a milestone of the same name.
fn checkpoint_on_branch(repo: &Repo, milestone: &str, task: &str) -> Result<Option<String>> {
    let Some(commit) = repo.checkpoint_commit(milestone, task)? else {
        return Ok(None);
    };
    let head = repo.head_commit()?;
    Ok(repo.is_ancestor(&commit, &head)?.then_some(commit))
}

/// A run killed after recording a task as done but before its checkpoint
/// commit reached the branch left the task's work uncommitted: such a task
/// runs again, so that every finished task has its own checkpoint. Returns
/// whether there was one.
fn unrecorded_checkpoints(
    repo: &Repo,
    status: &mut Status,
    report: &mut dyn Report,
) -> Result<bool> {
    let mut found = false;
    let base = status.base_commit.clone().unwrap_or_default();
    for t in &mut status.tasks {
        if !matches!(t.state, TaskState::Done | TaskState::Skipped) || t.checkpoint.is_some() {
            continue;
        }
        if checkpoint_on_branch(repo, &status.milestone, &t.id)?.is_some()
            || repo
                .find_checkpoint_commit(&status.milestone, &t.id, &base)?
                .is_some()
        {
            continue;
        }
        if t.state != TaskState::Done {
            continue;
        }
        // Stopped between saving the status file and committing: its work is
        // in the tree, uncommitted. As an interrupted task it runs again on
        // top of that work, and its own checkpoint holds it.
        report.warn(&format!(
            "warning: {} is recorded as done but has no checkpoint commit (an earlier run was stopped): it runs again",
            t.id
        ));
        t.state = TaskState::Interrupted;
        found = true;
    }
    Ok(found)
}

fn dry_run(
    plan: &Plan,
    status: &Status,
    runners: &[Option<TaskRunner>],
    opts: &Options,
    report: &mut dyn Report,
) {
    let n = plan.tasks.len();
    report.info(&format!(
        "Milestone {} from {}: {n} tasks (dry run: nothing will be changed)",
        plan.milestone, plan.plan
    ));
    for (i, ((task, record), runner)) in plan
        .tasks
        .iter()
        .zip(&status.tasks)
        .zip(runners)
        .enumerate()
    {
        let title = message::one_line(&task.title);
        report.info(&format!("{}/{n} {} {title}", i + 1, task.id));
        let Some(r) = runner else {
            let why = match record.state {
                TaskState::DoneInPlan => "marked done in the plan",
                TaskState::Skipped => "skipped earlier",
                _ => "done: it has a checkpoint",
            };
            report.info(&format!("    not run: {why}"));
            continue;
        };
        let argv = runner::shell_args(&r.command, r.script, &task.id);
        report.info(&format!(
            "    run: sh {}   (runner from {})",
            crate::ui::text::command_line(&argv),
            r.source.describe()
        ));
        let mut then = format!(
            "    then: checkpoint commit, {}",
            checkpoint_ref(&plan.milestone, &task.id)
        );
        if opts.tag {
            then.push_str(&format!(", tag milestone/{}/{}", plan.milestone, task.id));
        }
        report.info(&then);
    }
}

/// One run in progress: the plan, the record, and where output goes.
struct Session<'a> {
    repo: &'a Repo,
    plan: &'a Plan,
    opts: &'a Options,
    report: &'a mut dyn Report,
    /// The terminal prompt, when there is a terminal (else the policy decides).
    prompter: Option<&'a mut dyn Prompter>,
    status: Status,
    keep: HashSet<String>,
    /// Untracked files the last stopped attempt created: not in `keep`.
    leftovers: HashSet<String>,
    /// The work tree's untracked files, when known without reading it
    /// again: as `execute` read them, or none outside `keep` right after a
    /// checkpoint (it staged every other one) that ran no hook.
    untracked_now: Option<Vec<String>>,
    runners: Vec<Option<TaskRunner>>,
    committer: Committer,
    ran: usize,
}

impl Session<'_> {
    fn name(&self) -> &str {
        &self.plan.milestone
    }

    fn all(&mut self) -> Result<Finished> {
        for i in 0..self.plan.tasks.len() {
            if self.status.tasks[i].state == TaskState::DoneInPlan {
                let task = &self.plan.tasks[i];
                self.report.info(&format!(
                    "{} [{}/{}] is marked done in the plan: not run",
                    task.id,
                    i + 1,
                    self.plan.tasks.len()
                ));
            }
            if self.status.tasks[i].state.is_finished() {
                continue;
            }
            if let Some(sig) = signals::pending() {
                return Err(self.interrupted(None, sig)?);
            }
            self.task(i)?;
            self.ran += 1;
        }
        if let Some(sig) = signals::pending() {
            return Err(self.interrupted(None, sig)?);
        }
        let skipped: Vec<String> = self
            .status
            .skipped()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !skipped.is_empty() {
            return Ok(Finished::CompletedWithSkips {
                ran: self.ran,
                skipped,
            });
        }
        Ok(Finished::Completed { ran: self.ran })
    }

    /// Run task `i` until it is checkpointed, skipped, or the run stops.
    fn task(&mut self, i: usize) -> Result<()> {
        let mut retries_used = 0;
        // Where the task started: commits made by failed attempts count as
        // the task's own when a retry succeeds.
        let before = self.repo.head_commit()?;
        loop {
            let attempt = self.status.tasks[i].attempts + 1;
            let id = self.plan.tasks[i].id.clone();
            self.keep_untracked()?;
            progress::start(&mut self.status, &id, attempt);
            self.status.save(self.repo.root())?;
            let task = &self.plan.tasks[i];
            self.report.info(&format!(
                "Starting {id} [{}/{}] {}",
                i + 1,
                self.plan.tasks.len(),
                message::one_line(&task.title)
            ));
            let log = self.log_path(&id, attempt)?;
            let outcome = self.run_attempt(i, attempt, &log)?;
            // Before the status file says how it ended, a stop from here on
            // must not leave the attempt's new files looking like the user's:
            // a failed or skipped attempt's are recorded now; a successful one's are
            // staged by its checkpoint, and a run stopped before that treats
            // every new untracked file as the attempt's (`attempt_leftovers`).
            if outcome.exit != Exit::Code(0) {
                self.record_leftovers()?;
            }
            let choice = match outcome.exit {
                Exit::Interrupted(sig) => {
                    progress::finish(
                        &mut self.status,
                        &id,
                        TaskState::Interrupted,
                        None,
                        outcome.duration,
                    );
                    return Err(self.interrupted(Some(&id), sig)?);
                }
                Exit::Code(0) => return self.checkpoint(i, Verdict::Done, &before, outcome),
                Exit::Code(EXIT_SKIP) => return self.skip(i, &before, outcome),
                _ => self.failed(i, attempt, outcome, &log, retries_used)?,
            };
            match choice {
                Choice::Retry => retries_used += 1,
                Choice::Skip => return self.skip(i, &before, outcome),
                Choice::Stop => return Err(self.stopped(&id, outcome)),
                Choice::Rollback => return Err(self.roll_back(i, &before)?),
            }
        }
    }

    /// Untracked files present as an attempt starts existed before it, so
    /// they are not its work: add them to the files checkpoints leave alone
    /// (the user may have made some between runs). A stopped attempt's own
    /// new files are the exception: the retry continues them.
    fn keep_untracked(&mut self) -> Result<()> {
        let mut added = false;
        let untracked = match self.untracked_now.take() {
            Some(known) => known,
            None => self.repo.work_tree()?.untracked,
        };
        for path in untracked {
            if !self.leftovers.contains(&path) && !self.keep.contains(&path) {
                self.keep.insert(path);
                added = true;
            }
        }
        if added {
            let mut all: Vec<String> = self.keep.iter().cloned().collect();
            all.sort();
            state::write_untracked_snapshot(self.repo.git_dir(), self.name(), &all)?;
        }
        Ok(())
    }

    /// Remember the untracked files the attempt that just stopped created,
    /// so that a retry, perhaps in another run, commits them.
    fn record_leftovers(&mut self) -> Result<()> {
        let untracked = self.repo.work_tree()?.untracked;
        let mut created: Vec<String> = untracked
            .into_iter()
            .filter(|p| !self.keep.contains(p))
            .collect();
        created.sort();
        state::write_attempt_leftovers(self.repo.git_dir(), self.name(), &created)?;
        self.leftovers = created.into_iter().collect();
        Ok(())
    }

    fn log_path(&self, id: &str, attempt: u32) -> Result<PathBuf> {
        let safe: String = id
            .chars()
            .map(|c| if c == '/' || c.is_control() { '_' } else { c })
            .collect();
        Ok(state::journal_dir(self.repo.git_dir(), self.name())?
            .join("logs")
            .join(format!("{safe}.{attempt}.log")))
    }

    fn run_attempt(&self, i: usize, attempt: u32, log: &std::path::Path) -> Result<Outcome> {
        let task = &self.plan.tasks[i];
        let r = self.runners[i]
            .as_ref()
            .ok_or_else(|| config::no_runner_error(&task.id))?;
        runner::run(&Invocation {
            command: &r.command,
            script: r.script,
            env: TaskEnv {
                milestone: &self.plan.milestone,
                task: &task.id,
                title: &task.title,
                index: i + 1,
                total: self.plan.tasks.len(),
                plan: &self.plan.plan,
                attempt,
            },
            cwd: self.repo.root(),
            log: log.to_path_buf(),
            timeout: self.opts.timeout,
            echo: self.opts.echo,
        })
    }

    /// Commit task `i`'s work with the status file, on top of any commits
    /// the task made itself.
    fn checkpoint(
        &mut self,
        i: usize,
        verdict: Verdict,
        before: &str,
        outcome: Outcome,
    ) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        let adopted = match self.repo.head_moved_since(before)? {
            Moved::Stayed => Vec::new(),
            Moved::Ahead(ids) => ids,
            Moved::Elsewhere(head) => return Err(self.moved_elsewhere(i, before, &head, outcome)),
        };
        let state = match verdict {
            Verdict::Done => TaskState::Done,
            Verdict::Skipped(_) => TaskState::Skipped,
        };
        progress::finish(
            &mut self.status,
            &id,
            state,
            outcome.exit.code(),
            outcome.duration,
        );
        self.status.tasks[i].adopted_commits = adopted;
        self.status.save(self.repo.root())?;
        let progress = self.status.progress();
        let msg = message::checkpoint_message(
            self.name(),
            &id,
            &self.plan.tasks[i].title,
            &verdict,
            progress,
        );
        let status_path = state::status_rel_path(self.name())?;
        let parent = self.repo.head_commit()?;
        let spec = CheckpointSpec {
            milestone: self.name(),
            task: &id,
            message: &msg,
            status_path: &status_path,
            keep_untracked: &self.keep,
            parent: &parent,
            tag: self.opts.tag,
            committer: &self.committer,
        };
        let cp = match self.repo.checkpoint(&spec) {
            Ok(cp) => cp,
            Err(e) => return Err(self.checkpoint_failed(i, e)),
        };
        self.status.tasks[i].checkpoint = Some(cp.commit.clone());
        if !self.committer.has_commit_hooks() {
            self.untracked_now = Some(Vec::new());
        }
        // The checkpoint holds them now.
        if !self.leftovers.is_empty() {
            self.leftovers.clear();
            state::write_attempt_leftovers(self.repo.git_dir(), self.name(), &[])?;
        }
        let what = if matches!(verdict, Verdict::Skipped(_)) {
            " (skipped)"
        } else {
            ""
        };
        self.report.info(&format!(
            "checkpoint {} {id} [{}/{}]{what}",
            short(&cp.commit),
            progress.0,
            progress.1
        ));
        Ok(())
    }

    /// Skip task `i` (its runner exited 125, or `--on-failure skip`): its
    /// changes are saved as an attempt and taken away, as a rollback does,
    /// so that the checkpoint recording the skip holds the status file only.
    fn skip(&mut self, i: usize, before: &str, outcome: Outcome) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        // Its end is known: the files it made are those recorded just now.
        progress::finish(
            &mut self.status,
            &id,
            TaskState::Skipped,
            outcome.exit.code(),
            outcome.duration,
        );
        let set_aside = failure::set_aside_skipped(self.repo, &self.status, &id, before);
        if let Some(sig) = signals::pending() {
            // Nothing is left half done; the task runs again next time.
            self.status.tasks[i].state = TaskState::Interrupted;
            return Err(self.interrupted(Some(&id), sig)?);
        }
        let saved = match set_aside {
            Ok(saved) => saved,
            Err(e) => {
                // It cannot be set aside (a commit of the user's, say): it
                // stops the run as a failure, its changes where they are.
                progress::finish(
                    &mut self.status,
                    &id,
                    TaskState::Failed,
                    outcome.exit.code(),
                    outcome.duration,
                );
                progress::fail(&mut self.status, &id, outcome.exit.code());
                self.status.save(self.repo.root())?;
                return Err(e.hint(format!(
                    "{id} was to be skipped; its changes are still in the work tree"
                )));
            }
        };
        self.leftovers.clear();
        // Skipping is not a failure: the task's record says how it ended.
        self.status.failure = None;
        let why = match outcome.exit {
            Exit::Code(EXIT_SKIP) => format!("exit code {EXIT_SKIP}"),
            exit => format!("failed: {}", describe(exit, self.opts.timeout)),
        };
        let skip = message::Skip {
            why,
            saved: saved.map(|s| s.ref_name),
        };
        self.checkpoint(i, Verdict::Skipped(skip), before, outcome)
    }

    fn checkpoint_failed(&mut self, i: usize, e: Error) -> Error {
        let id = self.plan.tasks[i].id.clone();
        // The attempt's new files that staging did not reach are its own,
        // for the retry (best effort: the failure may be a full disk).
        let _ = self.record_leftovers();
        // Ctrl-C reaches the hooks (they share our process group) and makes
        // them fail: that is an interruption, not a refusal.
        if let Some(sig) = signals::pending() {
            self.status.tasks[i].state = TaskState::Interrupted;
            return self.interrupted(Some(&id), sig).unwrap_or(e);
        }
        self.status.tasks[i].state = TaskState::Failed;
        self.status.state = state::RunState::Failed;
        let code = self.status.tasks[i].exit_code;
        progress::fail(&mut self.status, &id, code);
        let _ = self.status.save(self.repo.root());
        e.hint(format!(
            "no checkpoint was made; {id}'s changes are kept in the work tree (see `git status`)"
        ))
        .hint(format!(
            "{id} will run again with `git milestone run {}`",
            self.name()
        ))
    }

    fn moved_elsewhere(&mut self, i: usize, before: &str, head: &str, outcome: Outcome) -> Error {
        let id = self.plan.tasks[i].id.clone();
        let _ = self.record_leftovers();
        progress::finish(
            &mut self.status,
            &id,
            TaskState::Failed,
            outcome.exit.code(),
            outcome.duration,
        );
        progress::fail(&mut self.status, &id, outcome.exit.code());
        let _ = self.status.save(self.repo.root());
        Error::failed(format!(
            "{id} moved HEAD to {} which does not descend from {}, where the task started; no checkpoint was made",
            short(head),
            short(before)
        ))
        .hint(format!(
            "inspect with `git log --oneline {} {}`, put the branch back with `git reset --keep {}`, then `git milestone run {}`",
            short(before),
            short(head),
            short(before),
            self.name()
        ))
    }

    /// Record a failed attempt and ask what to do about it.
    fn failed(
        &mut self,
        i: usize,
        attempt: u32,
        outcome: Outcome,
        log: &std::path::Path,
        retries_used: u32,
    ) -> Result<Choice> {
        let id = self.plan.tasks[i].id.clone();
        let code = outcome.exit.code();
        progress::finish(
            &mut self.status,
            &id,
            TaskState::Failed,
            code,
            outcome.duration,
        );
        progress::fail(&mut self.status, &id, code);
        // Commits up to here are the failed task's own: `rollback` may take
        // them off without --force.
        if let Some(f) = self.status.failure.as_mut() {
            f.head = Some(self.repo.head_commit()?);
        }
        self.status.save(self.repo.root())?;
        let cause = describe(outcome.exit, self.opts.timeout);
        self.report.warn(&format!(
            "{id} failed ({cause}) after {}; log: {}",
            seconds(outcome.duration),
            log.display()
        ));
        let tail = failure::read_log_tail(log, failure::LOG_TAIL_LINES);
        let plan = self.plan;
        let failed = FailedAttempt {
            milestone: &plan.milestone,
            task: &id,
            title: &plan.tasks[i].title,
            cause: &cause,
            attempt,
            log_tail: &tail,
            log_path: log,
        };
        let prompter = self
            .prompter
            .as_mut()
            .map(|p| &mut **p as &mut dyn Prompter);
        failure::decide(&failed, self.opts.policy, retries_used, prompter)
    }

    fn stopped(&self, id: &str, outcome: Outcome) -> Error {
        let name = self.name();
        Error::failed(format!(
            "{id} failed ({}); the run stopped, leaving its changes in the work tree",
            describe(outcome.exit, self.opts.timeout)
        ))
        .hint(format!("run it again: `git milestone run {name}`"))
        .hint(format!(
            "or discard its changes and go back to the last checkpoint: `git milestone rollback {name}`"
        ))
    }

    fn roll_back(&mut self, i: usize, before: &str) -> Result<Error> {
        let id = self.plan.tasks[i].id.clone();
        let last = self.last_checkpoint(i)?;
        let result = failure::roll_back_attempt(self.repo, &mut self.status, &id, &last, before);
        if let Some(sig) = signals::pending() {
            return self.rollback_interrupted(&id, sig, result, &last);
        }
        let saved = result?;
        Ok(Error::failed(format!(
            "{id} failed; its work is saved in {}{} and the branch is back at {}",
            saved.ref_name,
            failure::removed_note(&saved),
            short(&last)
        ))
        .hint(format!(
            "bring the work back with `{}` (with git alone: `{}`)",
            saved.restore_command, saved.plain_git_command
        ))
        .hint(format!(
            "run the task again with `git milestone run {}`",
            self.name()
        )))
    }

    /// Ctrl-C or SIGTERM during the rollback after a failure: the run is
    /// recorded as interrupted (exit 130), whether the rollback stopped
    /// before it changed anything or finished first.
    fn rollback_interrupted(
        &mut self,
        id: &str,
        sig: i32,
        result: Result<failure::SavedAttempt>,
        last: &str,
    ) -> Result<Error> {
        self.interrupted(Some(id), sig)?;
        let run = format!("`git milestone run {}`", self.name());
        Ok(match result {
            Ok(saved) => Error::interrupted(format!(
                "{id} failed, and {} arrived while it was rolled back; the rollback finished first: \
                 its work is saved in {}{} and the branch is back at {}",
                failure::signal_name(sig),
                saved.ref_name,
                failure::removed_note(&saved),
                short(last)
            ))
            .hint(format!(
                "bring the work back with `{}`, or run the task again with {run}",
                saved.restore_command
            )),
            Err(e) if e.kind() == crate::error::Kind::Interrupted => {
                e.hint(format!("or continue {id} on top of its changes with {run}"))
            }
            Err(e) => return Err(e),
        })
    }

    /// The checkpoint before task `i`, or the run's base commit.
    fn last_checkpoint(&self, i: usize) -> Result<String> {
        self.status.tasks[..i]
            .iter()
            .rev()
            .find_map(|t| t.checkpoint.clone())
            .or_else(|| self.status.base_commit.clone())
            .ok_or_else(|| Error::failed("the status file records no base commit to roll back to"))
    }

    /// Record the interruption and build the error that exits 130.
    fn interrupted(&mut self, task: Option<&str>, sig: i32) -> Result<Error> {
        self.status.state = state::RunState::Interrupted;
        self.status.updated_at = state::now();
        self.status.save(self.repo.root())?;
        let signal = if sig == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        let what = match task {
            Some(id) => format!("{id} was stopped by {signal} and is recorded as interrupted"),
            None => format!("the run was stopped by {signal} between tasks"),
        };
        Ok(Error::interrupted(what)
            .hint(format!("continue with `git milestone run {}`", self.name())))
    }
}

fn describe(exit: Exit, timeout: Option<Duration>) -> String {
    match exit {
        Exit::Code(c) => format!("exit code {c}"),
        Exit::Signal(s) => format!("killed by signal {s}"),
        Exit::TimedOut => format!("timed out after {}", seconds(timeout.unwrap_or_default())),
        Exit::Interrupted(s) => format!("interrupted by signal {s}"),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
