//! One run in progress: the loop over tasks, each attempt, its checkpoint,
//! and what a failure, a refused checkpoint or a signal does.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::attempt::Attempted;
use super::message::Verdict;
use super::prepare::TaskRunner;
use super::watch::{Seen, Watch};
use super::{Finished, Options, Report, message, progress, watch};
use crate::agent::Kind;
use crate::error::{Error, Result};
use crate::failure::{self, Choice, FailedAttempt, Prompter};
use crate::plan::Plan;
use crate::repo::Repo;
use crate::repo::checkpoint::CheckpointSpec;
use crate::repo::ident::Committer;
use crate::repo::short_oid as short;
use crate::runner::{EXIT_SKIP, Exit, Outcome, signals};
use crate::state::{self, Status, TaskState};

/// One run in progress: the plan, the record, and where output goes.
pub(super) struct Session<'a> {
    pub(super) repo: &'a Repo,
    pub(super) plan: &'a Plan,
    pub(super) opts: &'a Options,
    pub(super) report: &'a mut dyn Report,
    /// The terminal prompt, when there is a terminal (else the policy decides).
    pub(super) prompter: Option<&'a mut dyn Prompter>,
    pub(super) status: Status,
    pub(super) keep: HashSet<String>,
    /// Untracked files the last stopped attempt created: not in `keep`.
    pub(super) leftovers: HashSet<String>,
    /// The work tree's untracked files, when known without reading it
    /// again: as `execute` read them, or none outside `keep` right after a
    /// checkpoint (it staged every other one) that ran no hook.
    pub(super) untracked_now: Option<Vec<String>>,
    pub(super) runners: Vec<Option<TaskRunner>>,
    pub(super) committer: Committer,
    pub(super) ran: usize,
    /// When the current attempt started, by the file system's clock.
    pub(super) attempt_started: Option<SystemTime>,
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

    pub(super) fn all(&mut self) -> Result<Finished> {
        for i in 0..self.plan.tasks.len() {
            if self.status.tasks[i].state == TaskState::DoneInPlan {
                let task = &self.plan.tasks[i];
                self.report.info(&format!(
                    "{} [{}/{}] is marked done in the plan: not run",
                    task.name(),
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
        let mut retries_used = 0;
        let mut previous: Option<Attempted> = None;
        // Where the task started: commits made by failed attempts count as
        // the task's own when a retry succeeds.
        let watch = Watch::start(self.repo, self.name(), &self.plan.tasks[i].id)?;
        loop {
            self.check_budget(i)?;
            let attempt = self.status.tasks[i].attempts + 1;
            let id = self.plan.tasks[i].id.clone();
            self.keep_untracked()?;
            self.attempt_started =
                Some(state::mark_attempt_start(self.repo.git_dir(), self.name())?);
            progress::start(&mut self.status, &id, attempt);
            self.status.save(self.repo.root())?;
            let task = &self.plan.tasks[i];
            let place = (i + 1, self.plan.tasks.len());
            let line = message::starting(task.name(), place, attempt, &task.title);
            self.report.info(&line);
            let log = self.log_path(&id, attempt)?;
            let done = self.attempt(i, attempt, &log, &watch)?;
            let outcome = done.run;
            self.cause = Some(done.cause(self.opts.timeout));
            self.advice = done.advice();
            progress::record(&mut self.status, &id, done.record.clone());
            // Before the status file says how it ended, a stop from here on
            // must not leave the attempt's new files looking like the user's:
            // a failed or skipped attempt's are recorded now; a successful one's are
            // staged by its checkpoint, and a run stopped before that treats
            // every new untracked file as the attempt's (`attempt_leftovers`).
            if !done.outcome.is_success() {
                self.record_leftovers()?;
            }
            let choice = match (outcome.exit, done.outcome.kind) {
                (Exit::Interrupted(_), _) | (_, Kind::Interrupted) => {
                    let sig = match outcome.exit {
                        Exit::Interrupted(s) => s,
                        _ => libc::SIGINT,
                    };
                    progress::finish(
                        &mut self.status,
                        &id,
                        TaskState::Interrupted,
                        None,
                        outcome.duration,
                    );
                    return Err(self.interrupted(Some(&id), sig)?);
                }
                (_, Kind::Success) => return self.checkpoint(i, Verdict::Done, &watch, outcome),
                (_, Kind::Skipped) => return self.skip(i, &watch, outcome),
                (_, Kind::RateLimit) => {
                    self.write_feedback(i, &done, &log)?;
                    self.wait_for_reset(i, &done)?;
                    continue;
                }
                _ => {
                    let same = previous.as_ref().is_some_and(|p| p.same_ending(&done));
                    self.write_feedback(i, &done, &log)?;
                    // The lines the screen showed: an agent's are readable
                    // text, never the raw JSON events of its log.
                    let tail = done.tail.join("\n");
                    previous = Some(done);
                    let ended = (outcome, log.as_path(), tail.as_str());
                    self.failed(i, (attempt, retries_used, same), ended, &watch)?
                }
            };
            match choice {
                Choice::Retry => retries_used += 1,
                Choice::Skip => return self.skip(i, &watch, outcome),
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
    pub(super) fn keep_untracked(&mut self) -> Result<()> {
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
    pub(super) fn add_to_keep(&mut self, paths: Vec<String>) -> Result<()> {
        let before = self.keep.len();
        self.keep.extend(paths);
        if self.keep.len() == before {
            return Ok(());
        }
        let mut all: Vec<String> = self.keep.iter().cloned().collect();
        all.sort();
        state::write_untracked_snapshot(self.repo.git_dir(), self.name(), &all)
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

    /// Commit task `i`'s work with the status file, on top of any commits
    /// the task made itself.
    pub(super) fn checkpoint(
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
        // After the status file says done: a run killed before the commit
        // then runs the task again on top of its work, ticked plan included.
        let written = self.write_back(i, &verdict, &watch.before)?;
        let progress = self.status.progress();
        let msg = message::checkpoint_message(
            self.name(),
            &id,
            &self.plan.tasks[i].title,
            &verdict,
            progress,
            self.status.tasks[i].attempts,
        );
        let evidence: Vec<String> = match verdict {
            Verdict::Done => self.status.tasks[i]
                .history
                .last()
                .map(|a| a.checks.iter().map(|c| c.evidence()).collect())
                .unwrap_or_default(),
            Verdict::Skipped(_) => Vec::new(),
        };
        let msg = message::with_trailers(msg, "Milestone-Verified", &evidence);
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
            Err(e) => {
                if let Some(w) = written {
                    w.undo(self.repo);
                }
                return Err(self.checkpoint_failed(i, e));
            }
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
        let what = if matches!(verdict, Verdict::Skipped(_)) {
            " (skipped)"
        } else {
            ""
        };
        let spent = self.status.tasks[i]
            .history
            .last()
            .and_then(|a| a.usage)
            .map(|u| format!(", {}", u.describe()))
            .unwrap_or_default();
        // The task's place, as `Starting` said it: how many tasks are
        // finished (the trailer's progress) counts later ones the plan
        // marks done, and would jump ahead.
        self.report.info(&format!(
            "checkpoint {} {} [{}/{}]{what} in {}{spent}",
            short(&cp.commit),
            self.plan.tasks[i].name(),
            i + 1,
            self.plan.tasks.len(),
            crate::ui::text::duration(outcome.duration)
        ));
        Ok(())
    }

    /// Skip task `i` (its runner exited 125, or `--on-failure skip`): its
    /// changes are saved as an attempt and taken away, as a rollback does,
    /// so that the checkpoint recording the skip holds the status file only.
    fn skip(&mut self, i: usize, watch: &Watch, outcome: Outcome) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        // Its end is known: the files it made are those recorded just now.
        progress::finish(
            &mut self.status,
            &id,
            TaskState::Skipped,
            outcome.exit.code(),
            outcome.duration,
        );
        let set_aside = crate::rollback::set_aside(self.repo, &self.status, &id, &watch.before);
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
                progress::failed(&mut self.status, &id, outcome.exit.code(), outcome.duration);
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
            exit => format!("failed: {}", self.cause_of(exit)),
        };
        let skip = message::Skip {
            why,
            saved: saved.map(|s| s.ref_name),
        };
        self.checkpoint(i, Verdict::Skipped(skip), watch, outcome)
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
        progress::failed(&mut self.status, &id, outcome.exit.code(), outcome.duration);
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
        (attempt, retries_used, same): (u32, u32, bool),
        (outcome, log, tail): (Outcome, &std::path::Path, &str),
        watch: &Watch,
    ) -> Result<Choice> {
        let id = self.plan.tasks[i].id.clone();
        let code = outcome.exit.code();
        progress::failed(&mut self.status, &id, code, outcome.duration);
        // Commits up to here are the failed task's own: `rollback` may take
        // them off without --force.
        let own = watch.own_head(self.repo)?;
        if let Some(f) = self.status.failure.as_mut() {
            f.head = Some(own);
        }
        self.status.save(self.repo.root())?;
        let cause = self.cause_of(outcome.exit);
        let plan = self.plan;
        let failed = FailedAttempt {
            milestone: &plan.milestone,
            task: &id,
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
        let mut choice = failure::decide(&failed, self.opts.policy, retries_used, prompter)?;
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
                "{} failed ({cause}){}; log: {}",
                id,
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
    fn cause_of(&self, exit: Exit) -> String {
        self.cause
            .clone()
            .unwrap_or_else(|| describe(exit, self.opts.timeout))
    }

    /// Record the interruption and build the error that exits 130.
    pub(super) fn interrupted(&mut self, task: Option<&str>, sig: i32) -> Result<Error> {
        self.status.state = state::RunState::Interrupted;
        self.status.updated_at = state::now();
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
