//! Running a milestone: the checks before, the loop over tasks, the
//! checkpoint after each success, and what a failure or a signal does.
//!
//! `execute` takes an opened repository and a loaded plan, so tests and the
//! command share it. It prints nothing itself: lines go to a [`Report`].

pub mod message;
pub mod progress;
pub mod settings;
pub mod watch;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::config::{self, GlobalRunner, RunnerSource};
use crate::error::{Error, Result};
use crate::failure::{self, Choice, FailedAttempt, Policy, Prompter};
use crate::lock::RunLock;
use crate::plan::{Plan, Task};
use crate::repo::Repo;
use crate::repo::checkpoint::{
    CheckpointSpec, Committer, WorkTree, checkpoint_ref, task_id_fits_refs,
};
use crate::repo::short_oid as short;
use crate::runner::{self, EXIT_SKIP, Exit, Invocation, Outcome, Sink, TaskEnv, signals};
use crate::state::{self, Status, TaskState};
use crate::ui::text;
use message::Verdict;
use watch::{Seen, Watch};

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
    /// Where the task's stdout and stderr are copied besides the log.
    pub echo: (Sink, Sink),
    /// What this run records for its resume.
    pub settings: settings::Settings,
    /// The flags taken from the earlier run, to say so.
    pub reused: Vec<String>,
    /// The command that continues this run, for hints.
    pub continue_with: String,
}

/// Where a run's own lines go (the task's output goes to `Options::echo`).
pub trait Report {
    /// Progress: starting a task, a checkpoint, the plan of a dry run.
    fn info(&mut self, line: &str);
    /// Something went wrong or needs attention.
    fn warn(&mut self, line: &str);
}

/// How a run that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Every task is finished now; `ran` of the `total` ran in this
    /// invocation.
    Completed {
        ran: usize,
        total: usize,
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
    /// The runner this one took precedence over: a plan block over the
    /// environment or git config, `--runner` over a plan block.
    over: Option<RunnerSource>,
}

/// Run the milestone `plan` in `repo`. Failures, refusals and interruptions
/// are errors whose kind fixes the exit code; the status file records them.
///
/// Everything that can refuse happens before the lock is taken and before
/// anything is written: a refusal changes nothing, and is all it prints
/// (what the checks had to say is held back until the lock is taken).
pub fn execute<'a>(
    repo: &'a Repo,
    plan: &'a Plan,
    opts: &'a Options,
    report: &'a mut dyn Report,
    prompter: Option<&'a mut dyn Prompter>,
) -> Result<Finished> {
    let name = state::validate_name(&plan.milestone)?;
    let mut notes = Notes::default();
    let prep = match prepare(repo, plan, opts, &mut notes)? {
        Prep::Run(prep) => prep,
        Prep::AllDone(status) => {
            notes.replay(report);
            return nothing_to_do(repo, *status, report);
        }
    };
    if opts.dry_run {
        notes.replay(report);
        dry_run(plan, &prep.status, &prep.runners, opts, report);
        return Ok(Finished::DryRun);
    }
    signals::install()
        .map_err(|e| Error::failed("cannot install signal handlers").with_cause(e))?;
    let lock = RunLock::acquire(repo.common_dir(), name).map_err(|e| disk_full_hint(repo, e))?;
    // Under the run lock: a git lock file now is not a live run's.
    repo.check_no_stale_locks(name)?;
    report_replaced(&lock, report);
    notes.replay(report);
    let Prepared {
        mut status,
        resuming,
        tree,
        leftovers,
        runners,
        committer,
    } = *prep;
    let keep = begin(repo, &mut status, &tree, (resuming, opts.restart), report)
        .and_then(|keep| opts.settings.save(repo.git_dir(), name).map(|()| keep))
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
        attempt_started: None,
    };
    let result = session.all().map_err(|e| disk_full_hint(repo, e));
    drop(lock);
    result
}

/// What the checks found, for the run to start from.
struct Prepared {
    status: Status,
    /// This continues an earlier run (its status file was read).
    resuming: bool,
    tree: WorkTree,
    /// Untracked files the stopped attempt created: its task's work.
    leftovers: HashSet<String>,
    runners: Vec<Option<TaskRunner>>,
    committer: Committer,
}

/// What the checks before a run lead to.
enum Prep {
    Run(Box<Prepared>),
    /// Every task is finished: the record says so.
    AllDone(Box<Status>),
}

/// Every check and refusal before a run, writing nothing. Lines for the
/// user go to `notes`.
fn prepare(repo: &Repo, plan: &Plan, opts: &Options, notes: &mut Notes) -> Result<Prep> {
    let name = plan.milestone.as_str();
    state::check_bundle_path(repo.root(), name)?;
    check_task_ids(plan)?;
    let head = repo.check_can_run(opts.detach_ok)?;
    // Before the work tree is read: reading it refreshes the index.
    repo.check_writable()?;
    let (mut status, resuming, dropped) = load_status(repo, plan, opts, &head)?;
    for id in &dropped {
        notes.warn(&format!(
            "warning: {id} is no longer in {}: dropped from the status file (its checkpoint, if any, stays in history)",
            plan.plan
        ));
    }
    if !opts.reused.is_empty() {
        notes.info(&format!(
            "reusing the earlier run's {}",
            text::list(&opts.reused, opts.reused.len())
        ));
    }
    let stopped_before_checkpoint = resuming && unrecorded_checkpoints(repo, &mut status, notes)?;
    if progress::all_finished(&status) {
        return Ok(Prep::AllDone(Box::new(status)));
    }
    let tree = repo.work_tree()?;
    if opts.restart {
        check_restart(repo, name, &tree)?;
    }
    let after_attempt = resuming && continues_an_attempt(&status);
    check_work_tree(&tree, name, after_attempt)?;
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
        notes.info(&format!(
            "continuing on top of the {} attempt's changes; `git milestone rollback {name}` discards them",
            stopped_attempt(&status)
        ));
    }
    let runners = resolve_runners(plan, &status, opts)?;
    let overridden = overridden_blocks(plan, &runners);
    if !overridden.is_empty() {
        notes.warn(&format!(
            "warning: --runner overrides the plan's own ```sh milestone block for {}",
            text::list(&overridden, 5)
        ));
    }
    check_programs(repo, &runners)?;
    let committer = repo.committer()?;
    Ok(Prep::Run(Box::new(Prepared {
        status,
        resuming,
        tree,
        leftovers,
        runners,
        committer,
    })))
}

/// How the attempt a resumed run continues ended: `failed`, `interrupted`
/// (Ctrl-C, or stopped before its checkpoint), or `unfinished` (the run
/// was killed while it ran).
fn stopped_attempt(status: &Status) -> &'static str {
    let stopped = status.tasks.iter().find_map(|t| match t.state {
        TaskState::Failed => Some("failed"),
        TaskState::Interrupted => Some("interrupted"),
        TaskState::Running => Some("unfinished"),
        _ => None,
    });
    stopped.unwrap_or("stopped")
}

/// Lines held back until the run knows it will go ahead.
#[derive(Default)]
struct Notes(Vec<(bool, String)>);

impl Report for Notes {
    fn info(&mut self, line: &str) {
        self.0.push((false, line.to_string()));
    }
    fn warn(&mut self, line: &str) {
        self.0.push((true, line.to_string()));
    }
}

impl Notes {
    fn replay(self, report: &mut dyn Report) {
        for (warn, line) in self.0 {
            if warn {
                report.warn(&line);
            } else {
                report.info(&line);
            }
        }
    }
}

/// Every task is finished. A run killed after its last checkpoint may
/// have left its lock file, and the last checkpoint's ref unwritten: under
/// the lock (unless a live run holds it), tidy up the one and restore the
/// other from its commit's trailers.
fn nothing_to_do(repo: &Repo, mut status: Status, report: &mut dyn Report) -> Result<Finished> {
    let name = status.milestone.clone();
    if let Ok(lock) = RunLock::acquire(repo.common_dir(), &name) {
        report_replaced(&lock, report);
        fill_checkpoints(repo, &mut status, report)?;
    }
    let all = match status.tasks.len() {
        1 => "its only task is done".to_string(),
        n => format!("all {n} tasks are done"),
    };
    report.info(&format!("Milestone {name}: {all}; nothing to run."));
    report.info(&format!(
        "To run it again from the start: git milestone run {name} --restart"
    ));
    Ok(Finished::NothingToDo)
}

/// Say that the lock file a killed run left was taken over.
fn report_replaced(lock: &RunLock, report: &mut dyn Report) {
    if let Some(old) = &lock.replaced {
        report.warn(&format!(
            "warning: taking over the run lock left by pid {} (started {}), which ended without removing it",
            old.pid,
            crate::ui::text::clean(&old.started_at)
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
    (resuming, restart): (bool, bool),
    report: &mut dyn Report,
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
    fill_checkpoints(repo, status, report)?;
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

/// `--restart` starts a new run, which takes every untracked file for the
/// user's and commits none: a stopped attempt's files still in the tree
/// would be lost to the milestone. Refuse while they are there.
fn check_restart(repo: &Repo, name: &str, tree: &WorkTree) -> Result<()> {
    // A status file that cannot be read is what --restart starts over from.
    let Ok(Some(old)) = Status::load(repo.root(), name) else {
        return Ok(());
    };
    let Some(task) = old.tasks.iter().find(|t| {
        matches!(
            t.state,
            TaskState::Failed | TaskState::Interrupted | TaskState::Running
        )
    }) else {
        return Ok(());
    };
    if !continues_an_attempt(&old) {
        return Ok(());
    }
    let leftovers = attempt_leftovers(repo, name, &old, tree, false)?;
    let mut files: Vec<String> = tree.changed.clone();
    files.extend(
        tree.untracked
            .iter()
            .filter(|p| leftovers.contains(*p))
            .cloned(),
    );
    if files.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = files.iter().map(|p| text::quote(p)).collect();
    let cmd = |extra: &str| format!("git milestone run {}{extra}", text::quote(name));
    Err(Error::refused(format!(
        "the {} attempt of {} left its changes in the work tree ({}); a restart would take them for yours and never commit them",
        stopped_attempt(&old),
        task.id,
        text::list(&quoted, 5)
    ))
    .hint(format!(
        "discard them (saved under a ref first) with `git milestone rollback {}`, then `{}`",
        text::quote(name),
        cmd(" --restart")
    ))
    .hint(format!("or continue {} on top of them: `{}`", task.id, cmd(""))))
}

/// A run needs a clean tree, so that a checkpoint holds only what its task
/// changed. Continuing after a failed or interrupted attempt starts from
/// what that attempt left, as a retry would.
fn check_work_tree(tree: &WorkTree, name: &str, after_attempt: bool) -> Result<()> {
    if after_attempt || tree.changed.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = tree.changed.iter().take(5).map(String::as_str).collect();
    let more = tree.changed.len().saturating_sub(shown.len());
    let mut list = shown.join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    Err(Error::refused(format!(
        "the work tree has uncommitted changes ({list}); a checkpoint would mix them into the first task"
    ))
    .hint(format!(
        "commit them (`git commit -am ...`) or put them aside (`git stash`), then run `git milestone run {name}` again"
    )))
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

/// The runner of `task`: `--runner` first, then the plan's own block
/// under the task (more specific than the environment and git config,
/// which name one command for every task), then those.
fn runner_for(task: &Task, global: Option<&GlobalRunner>) -> Result<TaskRunner> {
    let block = task.runner.as_ref().map(|script| TaskRunner {
        command: script.clone(),
        script: true,
        source: RunnerSource::Plan,
        over: global.map(|g| g.source),
    });
    let global = global.map(|g| TaskRunner {
        command: g.command.clone(),
        script: false,
        source: g.source,
        over: block.as_ref().map(|_| RunnerSource::Plan),
    });
    match (global, block) {
        (Some(g), _) if g.source == RunnerSource::Flag => Ok(g),
        (_, Some(b)) => Ok(b),
        (Some(g), None) => Ok(g),
        (None, None) => Err(config::no_runner_error(&task.id)),
    }
}

/// The tasks whose own plan block `--runner` overrides, to say so.
fn overridden_blocks(plan: &Plan, runners: &[Option<TaskRunner>]) -> Vec<String> {
    plan.tasks
        .iter()
        .zip(runners)
        .filter(|(_, r)| {
            r.as_ref()
                .is_some_and(|r| r.over == Some(RunnerSource::Plan))
        })
        .map(|(t, _)| t.id.clone())
        .collect()
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
        // Not files the attempt left untouched: an ignore rule it changed
        // exposed them.
        let started = state::attempt_start(repo.git_dir(), name)?;
        let untouched =
            |p: &str| started.is_some_and(|t| repo.untouched_since(std::path::Path::new(p), t));
        leftovers.extend(
            tree.untracked
                .iter()
                .filter(|p| !keep.contains(*p) && !untouched(p))
                .cloned(),
        );
    }
    Ok(leftovers)
}

/// Tasks whose checkpoint commit is not in the status file (the last one
/// never is: a commit cannot name itself) get it from their checkpoint ref,
/// or, when a killed run committed but did not write the ref, from the
/// commit on the branch that carries their trailers, and the ref is
/// written again (and reported, when it was missing).
fn fill_checkpoints(repo: &Repo, status: &mut Status, report: &mut dyn Report) -> Result<()> {
    let base = status.base_commit.clone().unwrap_or_default();
    let name = status.milestone.clone();
    for t in &mut status.tasks {
        if !matches!(t.state, TaskState::Done | TaskState::Skipped) || t.checkpoint.is_some() {
            continue;
        }
        t.checkpoint = checkpoint_on_branch(repo, &name, &t.id)?;
        if t.checkpoint.is_some() {
            continue;
        }
        t.checkpoint = repo.find_checkpoint_commit(&name, &t.id, &base)?;
        let Some(commit) = &t.checkpoint else {
            continue;
        };
        let missing = repo.checkpoint_commit(&name, &t.id)?.is_none();
        repo.set_checkpoint_ref(&name, &t.id, commit)?;
        if missing {
            report.info(&format!(
                "restored {} from the trailers of {} (an earlier run was stopped before writing it)",
                checkpoint_ref(&name, &t.id),
                short(commit)
            ));
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
        "Milestone {} from {}: {} (dry run: nothing will be changed)",
        plan.milestone,
        plan.plan,
        text::count(n, "task")
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
        let over = match r.over {
            Some(RunnerSource::Plan) => {
                format!(", which overrides {}", RunnerSource::Plan.describe())
            }
            Some(other) => format!(", which takes precedence over {}", other.describe()),
            None => String::new(),
        };
        report.info(&format!(
            "    run: sh {}   (runner from {}{over})",
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
    /// When the current attempt started, by the file system's clock.
    attempt_started: Option<SystemTime>,
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
        Ok(Finished::Completed {
            ran: self.ran,
            total: self.plan.tasks.len(),
        })
    }

    /// Run task `i` until it is checkpointed, skipped, or the run stops.
    fn task(&mut self, i: usize) -> Result<()> {
        let mut retries_used = 0;
        // Where the task started: commits made by failed attempts count as
        // the task's own when a retry succeeds.
        let watch = Watch::start(self.repo, self.name(), &self.plan.tasks[i].id)?;
        loop {
            let attempt = self.status.tasks[i].attempts + 1;
            let id = self.plan.tasks[i].id.clone();
            self.keep_untracked()?;
            self.attempt_started =
                Some(state::mark_attempt_start(self.repo.git_dir(), self.name())?);
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
            let outcome = self.run_attempt(i, attempt, &log, &watch)?;
            // Before the status file says how it ended, a stop from here on
            // must not leave the attempt's new files looking like the user's:
            // a failed attempt's are recorded now; a successful one's are
            // staged by its checkpoint, and a run stopped before that treats
            // every new untracked file as the attempt's (`attempt_leftovers`).
            if !matches!(outcome.exit, Exit::Code(0) | Exit::Code(EXIT_SKIP)) {
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
                Exit::Code(0) => return self.checkpoint(i, Verdict::Done, &watch, outcome),
                Exit::Code(EXIT_SKIP) => {
                    return self.checkpoint(i, Verdict::Skipped, &watch, outcome);
                }
                _ => self.failed(i, (attempt, retries_used), outcome, &log, &watch)?,
            };
            match choice {
                Choice::Retry => retries_used += 1,
                Choice::Skip => return self.checkpoint(i, Verdict::Skipped, &watch, outcome),
                Choice::Stop => return Err(self.stopped(&id, outcome, &log)),
                Choice::Rollback => {
                    return Err(self.roll_back(i, &watch.before, (outcome, &log))?);
                }
            }
        }
    }

    /// Untracked files present as an attempt starts existed before it, so
    /// they are not its work: add them to the files checkpoints leave alone
    /// (the user may have made some between runs). A stopped attempt's own
    /// new files are the exception: the retry continues them.
    fn keep_untracked(&mut self) -> Result<()> {
        let untracked = match self.untracked_now.take() {
            Some(known) => known,
            None => self.repo.work_tree()?.untracked,
        };
        let new: Vec<String> = untracked
            .into_iter()
            .filter(|p| !self.leftovers.contains(p))
            .collect();
        self.add_to_keep(new)
    }

    /// Remember the untracked files the attempt that just stopped created,
    /// so that a retry, perhaps in another run, commits them. New files it
    /// did not touch (an ignore rule it changed no longer hides them) are
    /// kept out of the milestone instead.
    fn record_leftovers(&mut self) -> Result<()> {
        let untracked = self.repo.work_tree()?.untracked;
        let (mut created, exposed): (Vec<String>, Vec<String>) = untracked
            .into_iter()
            .filter(|p| !self.keep.contains(p))
            .partition(|p| {
                self.leftovers.contains(p)
                    || !self
                        .attempt_started
                        .is_some_and(|t| self.repo.untouched_since(std::path::Path::new(p), t))
            });
        created.sort();
        state::write_attempt_leftovers(self.repo.git_dir(), self.name(), &created)?;
        self.leftovers = created.into_iter().collect();
        self.add_to_keep(exposed)
    }

    /// Files a checkpoint left out as not the task's: kept out of every
    /// later checkpoint too, and said.
    fn keep_left_out(&mut self, id: &str, left_out: &[String]) -> Result<()> {
        if left_out.is_empty() {
            return Ok(());
        }
        let quoted: Vec<String> = left_out.iter().map(|p| crate::ui::text::quote(p)).collect();
        self.report.warn(&format!(
            "warning: {} left out of {id}'s checkpoint: {} there, unchanged, before {id} started (an ignore rule hid {} until the task changed the rules)",
            crate::ui::text::list(&quoted, 5),
            if left_out.len() == 1 { "it was" } else { "they were" },
            if left_out.len() == 1 { "it" } else { "them" },
        ));
        self.add_to_keep(left_out.to_vec())
    }

    /// Add `paths` to the untracked files no checkpoint commits.
    fn add_to_keep(&mut self, paths: Vec<String>) -> Result<()> {
        let before = self.keep.len();
        self.keep.extend(paths);
        if self.keep.len() == before {
            return Ok(());
        }
        let mut all: Vec<String> = self.keep.iter().cloned().collect();
        all.sort();
        state::write_untracked_snapshot(self.repo.git_dir(), self.name(), &all)
    }

    fn log_path(&self, id: &str, attempt: u32) -> Result<PathBuf> {
        let safe: String = id
            .chars()
            .map(|c| if c == '/' || c.is_control() { '_' } else { c })
            .collect();
        let dir = state::journal_dir(self.repo.git_dir(), self.name())?.join("logs");
        // A restart counts attempts from 1 again: its logs get a suffix
        // rather than overwrite the earlier run's.
        let mut path = dir.join(format!("{safe}.{attempt}.log"));
        for k in 2.. {
            if !path.exists() {
                break;
            }
            path = dir.join(format!("{safe}.{attempt}.{k}.log"));
        }
        Ok(path)
    }

    fn run_attempt(
        &self,
        i: usize,
        attempt: u32,
        log: &std::path::Path,
        watch: &Watch,
    ) -> Result<Outcome> {
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
            stdout: self.opts.echo.0,
            stderr: self.opts.echo.1,
            extra_env: vec![watch.env()],
        })
    }

    /// Commit task `i`'s work with the status file, on top of any commits
    /// the task made itself.
    fn checkpoint(
        &mut self,
        i: usize,
        verdict: Verdict,
        watch: &Watch,
        outcome: Outcome,
    ) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        let adopted = match watch.check(self.repo)? {
            Seen::Stayed => Vec::new(),
            Seen::Ahead(ids) => ids,
            seen => return Err(self.no_checkpoint(i, watch, &seen, outcome)),
        };
        let state = match verdict {
            Verdict::Done => TaskState::Done,
            Verdict::Skipped => TaskState::Skipped,
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
            verdict,
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
            attempt_started: self.attempt_started,
            task_files: &self.leftovers,
            tag: self.opts.tag,
            committer: &self.committer,
        };
        let cp = match self.repo.checkpoint(&spec) {
            Ok(cp) => cp,
            Err(e) => return Err(self.checkpoint_failed(i, e)),
        };
        self.status.tasks[i].checkpoint = Some(cp.commit.clone());
        self.keep_left_out(&id, &cp.left_out)?;
        if !self.committer.has_commit_hooks() {
            self.untracked_now = Some(Vec::new());
        }
        // The checkpoint holds them now.
        if !self.leftovers.is_empty() {
            self.leftovers.clear();
            state::write_attempt_leftovers(self.repo.git_dir(), self.name(), &[])?;
        }
        let what = if verdict == Verdict::Skipped {
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
            "{id} will run again with `{}`",
            self.opts.continue_with
        ))
    }

    /// The task moved HEAD in a way its checkpoint cannot follow: record
    /// it as failed, its changes kept, and say what happened.
    fn no_checkpoint(&mut self, i: usize, watch: &Watch, seen: &Seen, outcome: Outcome) -> Error {
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
        // Only the task's own commits may go in a rollback without --force.
        if let (Some(f), Ok(own)) = (self.status.failure.as_mut(), watch.own_head(self.repo)) {
            f.head = Some(own);
        }
        let _ = self.status.save(self.repo.root());
        watch::refusal(self.repo, &id, &self.opts.continue_with, watch, seen)
    }

    /// Record a failed attempt and ask what to do about it.
    fn failed(
        &mut self,
        i: usize,
        (attempt, retries_used): (u32, u32),
        outcome: Outcome,
        log: &std::path::Path,
        watch: &Watch,
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
        let own = watch.own_head(self.repo)?;
        if let Some(f) = self.status.failure.as_mut() {
            f.head = Some(own);
        }
        self.status.save(self.repo.root())?;
        let cause = describe(outcome.exit, self.opts.timeout);
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
        let choice = failure::decide(&failed, self.opts.policy, retries_used, prompter)?;
        // Said once: on a terminal the prompt showed it; a run that stops
        // or rolls back says it in its error.
        if self.prompter.is_none() && matches!(choice, Choice::Retry | Choice::Skip) {
            self.report.warn(&format!(
                "{} failed ({cause}) after {}; log: {}",
                id,
                seconds(outcome.duration),
                log.display()
            ));
        }
        Ok(choice)
    }

    /// How task `id` failed, for the error a run ends with: the cause
    /// unless the prompt already showed it.
    fn failure_words(&self, id: &str, outcome: Outcome) -> String {
        if self.prompter.is_some() {
            return format!("{id} failed");
        }
        format!(
            "{id} failed ({}) after {}",
            describe(outcome.exit, self.opts.timeout),
            seconds(outcome.duration)
        )
    }

    /// The hint that says where the failed attempt's output is, unless the
    /// prompt showed it.
    fn log_hint(&self, e: Error, log: &std::path::Path) -> Error {
        match self.prompter {
            Some(_) => e,
            None => e.hint(format!("its output: {}", log.display())),
        }
    }

    fn stopped(&self, id: &str, outcome: Outcome, log: &std::path::Path) -> Error {
        let name = self.name();
        let e = Error::failed(format!(
            "{}; the run stopped, leaving its changes in the work tree",
            self.failure_words(id, outcome)
        ));
        self.log_hint(e, log)
            .hint(format!("run it again: `{}`", self.opts.continue_with))
        .hint(format!(
            "or discard its changes and go back to the last checkpoint: `git milestone rollback {name}`"
        ))
    }

    fn roll_back(
        &mut self,
        i: usize,
        before: &str,
        (outcome, log): (Outcome, &std::path::Path),
    ) -> Result<Error> {
        let id = self.plan.tasks[i].id.clone();
        let last = self.last_checkpoint(i)?;
        let saved = failure::roll_back_attempt(self.repo, self.name(), &id, &last, before)?;
        if let Some(f) = &mut self.status.failure {
            f.rolled_back = true;
            f.saved_ref = Some(saved.ref_name.clone());
        }
        self.status.save(self.repo.root())?;
        let e = Error::failed(format!(
            "{}; its work is saved in {} and the branch is back at {}",
            self.failure_words(&id, outcome),
            saved.ref_name,
            short(&last)
        ));
        Ok(self
            .log_hint(e, log)
            .hint(format!(
                "bring the work back with `{}` (with git alone: `{}`)",
                saved.restore_command, saved.plain_git_command
            ))
            .hint(format!(
                "run the task again with `{}`",
                self.opts.continue_with
            )))
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
        Ok(Error::interrupted(what).hint(format!("continue with `{}`", self.opts.continue_with)))
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
