//! Running a milestone: the checks before, the loop over tasks, the
//! checkpoint after each success, and what a failure or a signal does.
//!
//! `execute` takes an opened repository and a loaded plan, so tests and the
//! command share it. It prints nothing itself: lines go to a [`Report`].

mod attempt;
mod dirty;
mod jobs;
mod learn;
pub mod message;
mod place;
mod prepare;
pub mod progress;
mod roll_back;
mod session;
pub mod settings;
pub mod watch;
mod write_back;

use std::collections::HashSet;
use std::time::Duration;

use crate::config::GlobalRunner;
use crate::error::{Error, Result};
use crate::failure::{Policy, Prompter};
use crate::history::Checkpoints;
use crate::lock::RunLock;
use crate::plan::Plan;
use crate::repo::Repo;
use crate::repo::refs::checkpoint_ref;
use crate::repo::scan::WorkTree;
use crate::repo::short_oid as short;
use crate::runner::{Sink, signals};
use crate::state::{self, Status, TaskState};
use prepare::{Notes, Prep, Prepared, dry_run, prepare};
use session::Session;

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
    /// What this run records for its resume.
    pub settings: settings::Settings,
    /// The flags taken from the earlier run, to say so.
    pub reused: Vec<String>,
    /// The command that continues this run, for hints.
    pub continue_with: String,
    /// Agent arguments and prompt, checks, budget.
    pub tasks: settings::TaskSettings,
    /// Show the live status line (standard error is a terminal).
    pub live: bool,
    /// The sequence the status file records, when the user confirmed one
    /// (`plan` is already in its order, its skipped tasks left out).
    pub sequence: Option<crate::sequence::Sequence>,
    /// How many tasks run at the same time (`--jobs`); 1 is the sequential run.
    pub jobs: usize,
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
    /// Every task is finished now; `ran` of the `total` ran in this
    /// invocation.
    Completed {
        ran: usize,
        total: usize,
    },
    /// As `Completed`, but these tasks were skipped: their changes are
    /// saved under attempt refs, not committed.
    CompletedWithSkips {
        ran: usize,
        total: usize,
        skipped: Vec<String>,
    },
    /// Nothing was left to run.
    NothingToDo,
    DryRun,
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
    let mark_done = crate::config::mark_done(repo)?;
    let mut notes = Notes::default();
    let prep = match prepare(repo, plan, opts, &mut notes)? {
        Prep::Run(prep) => prep,
        Prep::AllDone(status) => {
            notes.replay(report);
            return nothing_to_do(repo, *status, report);
        }
    };
    let prep = *prep;
    let plan = prep.plan.as_ref().unwrap_or(plan);
    if opts.dry_run {
        notes.replay(report);
        dry_run(plan, &prep.status, &prep.runners, opts, report);
        if opts.jobs > 1 {
            jobs::print_waves(plan, &prep.status, opts.jobs, report);
        }
        return Ok(Finished::DryRun);
    }
    signals::install()
        .map_err(|e| Error::failed("cannot install signal handlers").with_cause(e))?;
    let lock = RunLock::acquire(repo.git_dir(), repo.common_dir(), name)
        .map_err(|e| disk_full_hint(repo, e))?;
    // Under the run lock: a git lock file now is not a live run's.
    repo.check_no_stale_locks(name)?;
    report_replaced(&lock, report);
    notes.replay(report);
    jobs::recover::after_kill(repo, plan, report)?;
    let Prepared {
        mut status,
        resuming,
        tree,
        leftovers,
        runners,
        committer,
        plan: _,
    } = prep;
    if let Some(seq) = &opts.sequence {
        status.sequence = Some(seq.clone());
    }
    let keep = begin(repo, &mut status, &tree, (resuming, opts.restart), report)
        .and_then(|keep| opts.settings.save(repo.git_dir(), name).map(|()| keep))
        .map_err(|e| disk_full_hint(repo, e))?;
    let mut session = Session {
        repo,
        plan,
        opts,
        report,
        // The plan may be this function's own now: a shorter borrow.
        prompter: prompter.map(|p| p as &mut dyn Prompter),
        status,
        keep,
        leftovers,
        untracked_now: Some(tree.untracked),
        runners,
        committer,
        ran: 0,
        attempt_started: None,
        cause: None,
        advice: None,
        mark_done,
    };
    let result = if opts.jobs > 1 {
        jobs::run_all(&mut session, opts.jobs)
    } else {
        session.all()
    };
    let result = result.map_err(|e| disk_full_hint(repo, e));
    drop(lock);
    result
}

/// Every task is finished. A run killed after its last checkpoint may
/// have left its lock file, and the last checkpoint's ref unwritten: under
/// the lock (unless a live run holds it), tidy up the one and restore the
/// other from its commit's trailers.
fn nothing_to_do(repo: &Repo, mut status: Status, report: &mut dyn Report) -> Result<Finished> {
    let name = status.milestone.clone();
    if let Ok(lock) = RunLock::acquire(repo.git_dir(), repo.common_dir(), &name) {
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

/// Tasks whose checkpoint commit is not in the status file (the last one
/// never is: a commit cannot name itself) get the one this branch holds
/// (by [`Checkpoints::on_branch`]), and its ref is written again when it
/// names another commit or none (reported when it was missing: a killed
/// run committed but did not write it).
fn fill_checkpoints(repo: &Repo, status: &mut Status, report: &mut dyn Report) -> Result<()> {
    let name = status.milestone.clone();
    let index = Checkpoints::read(repo, &name, status)?;
    for t in &mut status.tasks {
        if !matches!(t.state, TaskState::Done | TaskState::Skipped) || t.checkpoint.is_some() {
            continue;
        }
        let Some(commit) = index.on_branch(repo, &t.id)? else {
            continue;
        };
        let current = repo.checkpoint_commit(&name, &t.id)?;
        if current.as_deref() != Some(commit.as_str()) {
            repo.set_checkpoint_ref(&name, &t.id, &commit)?;
        }
        if current.is_none() {
            report.info(&format!(
                "restored {} from the trailers of {} (an earlier run was stopped before writing it)",
                checkpoint_ref(&name, &t.id),
                short(&commit)
            ));
        }
        t.checkpoint = Some(commit);
    }
    Ok(())
}
