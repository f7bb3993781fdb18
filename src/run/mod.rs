//! Running a milestone: prepare (every check, one value), then execute
//! (the lock, the first writes, the loop over tasks, the checkpoint after
//! each success, and what a failure or a signal does).
//!
//! `execute` takes an opened repository and a loaded plan, so tests and the
//! command share it. It prints nothing itself: lines go to a [`Report`].

mod attempt;
mod begin;
mod checkpoint;
mod dirty;
mod dry_run;
mod jobs;
mod learn;
pub mod message;
mod place;
mod prepare;
pub mod progress;
mod prompt;
mod roll_back;
mod runners;
mod session;
pub mod settings;
pub mod watch;
mod write_back;

use std::time::Duration;

use crate::config::GlobalRunner;
use crate::error::{Error, Result};
use crate::failure::{Policy, Prompter};
use crate::plan::Plan;
use crate::repo::Repo;
use crate::runner::Sink;
use prepare::{Prep, Prepared, prepare};

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
/// Prepare, then execute: everything that can refuse happens before the
/// lock is taken and before anything is written, so a refusal changes
/// nothing and is all it prints (what the checks had to say is held back
/// until the lock is taken). `--dry-run` prints what was prepared.
pub fn execute<'a>(
    repo: &'a Repo,
    plan: &'a Plan,
    opts: &'a Options,
    report: &'a mut dyn Report,
    prompter: Option<&'a mut dyn Prompter>,
) -> Result<Finished> {
    let prepared = match prepare(repo, plan, opts)? {
        Prep::Run(prepared) => *prepared,
        Prep::AllDone(status, notes) => {
            notes.replay(report);
            return begin::nothing_to_do(repo, *status, report);
        }
    };
    if opts.dry_run {
        prepared.render(opts, report);
        return Ok(Finished::DryRun);
    }
    let Prepared { plan, start, notes } = prepared;
    let lock = begin::lock(repo, &plan, notes, report)?;
    // The plan may be this function's own now: a shorter borrow.
    let prompter = prompter.map(|p| p as &mut dyn Prompter);
    let result = start
        .begin(repo, (&plan, opts), report, prompter)
        .and_then(|mut session| session.run());
    drop(lock);
    result.map_err(|e| disk_full_hint(repo, e))
}

/// A write that failed for lack of space says which disk to free.
pub(super) fn disk_full_hint(repo: &Repo, e: Error) -> Error {
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
