//! One run in progress: the loop over tasks, each attempt's start and
//! end, and what a failure or a signal does (the checkpoint is
//! `checkpoint.rs`'s).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::attempt::Attempted;
use super::message::Verdict;
use super::runners::TaskRunner;
use super::watch::Watch;
use super::{Finished, Options, Report, message};
use crate::agent::Kind;
use crate::error::{Error, Result};
use crate::failure::{self, Choice, FailedAttempt, Prompter};
use crate::plan::Plan;
use crate::repo::Repo;
use crate::repo::ident::Committer;
use crate::runner::{Exit, Outcome, signals};
use crate::state::{self, Status, TaskState, Untracked};

/// One run in progress: the plan, the record, and where output goes.
pub(super) struct Session<'a> {
    pub(super) repo: &'a Repo,
    pub(super) plan: &'a Plan,
    pub(super) opts: &'a Options,
    pub(super) report: &'a mut dyn Report,
    /// The terminal prompt, when there is a terminal (else the policy decides).
    pub(super) prompter: Option<&'a mut dyn Prompter>,
    pub(super) status: Status,
    /// Which untracked files are the user's, which the task's.
    pub(super) untracked: Untracked,
    pub(super) runners: Vec<Option<TaskRunner>>,
    pub(super) committer: Committer,
    pub(super) ran: usize,
    /// How the last attempt failed, in words, when its exit code does not
    /// say it (an agent's outcome, a check).
    pub(super) cause: Option<String>,
    /// What the user can do about the last attempt's outcome.
    pub(super) advice: Option<String>,
    /// Checkpoints mark their task done in the plan (`milestone.markDone`).
    pub(super) mark_done: bool,
}

impl Session<'_> {
    pub(super) fn name(&self) -> &str {
        &self.plan.milestone
    }

    /// The loop: every task left, in order, or `--jobs` at a time.
    pub(super) fn run(&mut self) -> Result<Finished> {
        match self.opts.jobs {
            n if n > 1 => super::jobs::run_all(self, n),
            _ => self.all(),
        }
    }

    fn all(&mut self) -> Result<Finished> {
        for i in 0..self.plan.tasks.len() {
            if self.status.tasks[i].state == TaskState::DoneInPlan {
                let task = &self.plan.tasks[i];
                let place = (i + 1, self.plan.tasks.len());
                self.report.info(&message::done_in_plan(task.name(), place));
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
        Ok(self.completed())
    }

    /// Every task ended: how the run finished, with what agents used.
    pub(super) fn completed(&mut self) -> Finished {
        if let Some(usage) = self.status.usage {
            self.report.info(&format!(
                "Agents used {} on milestone {} so far.",
                usage.describe(),
                self.name()
            ));
        }
        let (ran, total) = (self.ran, self.plan.tasks.len());
        let skipped: Vec<String> = self
            .status
            .skipped()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !skipped.is_empty() {
            return Finished::CompletedWithSkips {
                ran,
                total,
                skipped,
            };
        }
        Finished::Completed { ran, total }
    }

    /// Run task `i` until it is checkpointed, skipped, or the run stops.
    fn task(&mut self, i: usize) -> Result<()> {
        let mut tries = Tries::default();
        // Where the task started: commits made by failed attempts count as
        // the task's own when a retry succeeds.
        let watch = Watch::start(self.repo, self.name(), &self.plan.tasks[i].id)?;
        loop {
            self.check_budget(i)?;
            let (attempt, log) = self.start_attempt(i)?;
            let done = self.attempt(i, attempt, &log, &watch)?;
            self.end_attempt(i, &done)?;
            let outcome = done.run;
            let choice = match (outcome.exit, done.outcome.kind) {
                (Exit::Interrupted(_), _) | (_, Kind::Interrupted) => {
                    return Err(self.attempt_interrupted(i, outcome)?);
                }
                (_, Kind::Success) => return self.checkpoint(i, Verdict::Done, &watch, outcome),
                (_, Kind::Skipped) => return self.skip(i, &watch, outcome),
                (_, Kind::RateLimit) => {
                    self.write_feedback(i, &done, &log)?;
                    self.wait_for_reset(i, &done)?;
                    continue;
                }
                _ => self.failed(i, (attempt, &log), done, &mut tries, &watch)?,
            };
            let id = &self.plan.tasks[i].id;
            match choice {
                Choice::Retry => tries.retries += 1,
                Choice::Skip => return self.skip(i, &watch, outcome),
                Choice::Stop => return Err(self.stopped(id, outcome, &log)),
                Choice::Rollback => {
                    return Err(self.roll_back(i, &watch.before, (outcome, &log))?);
                }
            }
        }
    }

    /// Record that the next attempt of task `i` starts, and say so: its
    /// number and its log.
    fn start_attempt(&mut self, i: usize) -> Result<(u32, PathBuf)> {
        let attempt = self.status.tasks[i].attempts + 1;
        let task = &self.plan.tasks[i];
        self.untracked.attempt_start(self.repo)?;
        self.status.start(&task.id, attempt);
        self.status.save(self.repo.root())?;
        let place = (i + 1, self.plan.tasks.len());
        let line = message::starting(task.name(), place, attempt, &task.title);
        self.report.info(&line);
        Ok((attempt, self.log_path(&task.id, attempt)?))
    }

    /// Record how the attempt `done` of task `i` ended, before the status
    /// file says so: a stop from here on must not leave the attempt's new
    /// files looking like the user's. A failed or skipped attempt's are
    /// recorded now; a successful one's are staged by its checkpoint, and a
    /// run stopped before that treats every new untracked file as the
    /// attempt's (`Untracked::resumed`).
    fn end_attempt(&mut self, i: usize, done: &Attempted) -> Result<()> {
        self.cause = Some(done.cause(self.opts.timeout));
        self.advice = done.advice();
        self.status
            .record(&self.plan.tasks[i].id, done.record.clone());
        if !done.outcome.is_success() {
            self.untracked.attempt_end(self.repo)?;
        }
        Ok(())
    }

    /// Task `i`'s attempt was stopped by a signal: record it, and build the
    /// error that exits 130.
    fn attempt_interrupted(&mut self, i: usize, outcome: Outcome) -> Result<Error> {
        let id = self.plan.tasks[i].id.clone();
        let sig = match outcome.exit {
            Exit::Interrupted(s) => s,
            _ => libc::SIGINT,
        };
        self.status
            .finish(&id, TaskState::Interrupted, None, outcome.duration);
        self.interrupted(Some(&id), sig)
    }

    pub(super) fn log_path(&self, id: &str, attempt: u32) -> Result<PathBuf> {
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

    /// Record the failed attempt `done` of task `i` (its feedback for the
    /// next) and ask what to do about it.
    fn failed(
        &mut self,
        i: usize,
        (attempt, log): (u32, &Path),
        done: Attempted,
        tries: &mut Tries,
        watch: &Watch,
    ) -> Result<Choice> {
        let same = tries.last.as_ref().is_some_and(|p| p.same_ending(&done));
        self.write_feedback(i, &done, log)?;
        // The lines the screen showed: an agent's are readable text, never
        // the raw JSON events of its log.
        let tail = done.tail.join("\n");
        let outcome = done.run;
        tries.last = Some(done);
        let id = &self.plan.tasks[i].id;
        self.status
            .failed(id, outcome.exit.code(), outcome.duration);
        // Commits up to here are the failed task's own: `rollback` may take
        // them off without --force.
        let own = watch.own_head(self.repo)?;
        self.status.failed_at(own);
        self.status.save(self.repo.root())?;
        let ended = (outcome, log, tail.as_str());
        self.ask(i, attempt, ended, (tries.retries, same))
    }

    /// What to do about task `i`'s failed attempt `attempt`: the prompt's
    /// answer, or the policy's (`retries` spent already), which does not
    /// retry an attempt that ended the `same` way as the one before.
    fn ask(
        &mut self,
        i: usize,
        attempt: u32,
        (outcome, log, tail): (Outcome, &Path, &str),
        (retries, same): (u32, bool),
    ) -> Result<Choice> {
        let cause = self.cause_of(outcome.exit);
        let (plan, id) = (self.plan, &self.plan.tasks[i].id);
        let failed = FailedAttempt {
            milestone: &plan.milestone,
            task: id,
            title: &plan.tasks[i].title,
            cause: &cause,
            attempt,
            log_tail: tail,
            log_path: log,
        };
        let prompter = self
            .prompter
            .as_mut()
            .map(|p| &mut **p as &mut dyn Prompter);
        let mut choice = failure::decide(&failed, self.opts.policy, retries, prompter)?;
        // A policy's retry is not worth it when the last two attempts ended
        // alike: the same outcome, the same last lines.
        if same && self.prompter.is_none() && choice == Choice::Retry {
            self.report.warn(&format!(
                "{id} ended the same way twice ({cause}); not retrying it again"
            ));
            choice = Choice::Stop;
        }
        // Said once: on a terminal the prompt showed it; a run that stops
        // or rolls back says it in its error.
        if self.prompter.is_none() && matches!(choice, Choice::Retry | Choice::Skip) {
            self.report.warn(&format!(
                "{id} failed ({cause}){}; log: {}",
                took(outcome),
                log.display()
            ));
        }
        Ok(choice)
    }

    /// How task `id` failed, for the error a run ends with: the cause
    /// unless the prompt already showed it.
    pub(super) fn failure_words(&self, id: &str, outcome: Outcome) -> String {
        if self.prompter.is_some() {
            return format!("{id} failed");
        }
        format!(
            "{id} failed ({}){}",
            self.cause_of(outcome.exit),
            took(outcome)
        )
    }

    /// The hint that says where the failed attempt's output is, unless the
    /// prompt showed it.
    pub(super) fn log_hint(&self, e: Error, log: &std::path::Path) -> Error {
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
        let e = match &self.advice {
            Some(advice) => e.hint(advice.clone()),
            None => e,
        };
        self.log_hint(e, log)
            .hint(format!("run it again: `{}`", self.opts.continue_with))
        .hint(format!(
            "or discard its changes and go back to the last checkpoint: `git milestone rollback {name}`"
        ))
    }

    /// How the last attempt failed: its outcome's words, or its exit's.
    pub(super) fn cause_of(&self, exit: Exit) -> String {
        self.cause
            .clone()
            .unwrap_or_else(|| describe(exit, self.opts.timeout))
    }

    /// Record the interruption and build the error that exits 130.
    pub(super) fn interrupted(&mut self, task: Option<&str>, sig: i32) -> Result<Error> {
        self.status.interrupt();
        self.status.save(self.repo.root())?;
        let signal = match sig {
            libc::SIGTERM => "SIGTERM",
            libc::SIGPIPE => "a closed standard output (SIGPIPE)",
            _ => "SIGINT",
        };
        let what = match task {
            Some(id) => format!("{id} was stopped by {signal} and is recorded as interrupted"),
            None => format!("the run was stopped by {signal} between tasks"),
        };
        Ok(Error::interrupted(what).hint(format!("continue with `{}`", self.opts.continue_with)))
    }
}

/// A task's attempts so far, for the next failure's decision.
#[derive(Default)]
struct Tries {
    /// The failure policy's retries spent.
    retries: u32,
    /// How the last failed attempt ended.
    last: Option<Attempted>,
}

pub(super) fn describe(exit: Exit, timeout: Option<Duration>) -> String {
    match exit {
        Exit::Code(c) => format!("exit code {c}"),
        Exit::Signal(s) => format!("killed by signal {s}"),
        Exit::TimedOut => format!("timed out after {}", seconds(timeout.unwrap_or_default())),
        Exit::Interrupted(s) => format!("interrupted by signal {s}"),
        Exit::Stopped => "stopped by git-milestone".to_string(),
    }
}

/// ` after 2.0s`: how long a failed attempt took, unless its cause (a
/// timeout) says it already.
fn took(outcome: Outcome) -> String {
    match outcome.exit {
        Exit::TimedOut => String::new(),
        _ => format!(" after {}", seconds(outcome.duration)),
    }
}

pub(super) fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
