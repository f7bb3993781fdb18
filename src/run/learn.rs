//! What a run does with how an attempt ended: the feedback file a retry
//! reads (`MILESTONE_FEEDBACK`), waiting out a rate limit, and the
//! milestone's budget (spent before a task starts, left for an attempt).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use super::attempt::Attempted;
use super::session::Session;
use crate::agent::{Limits, Usage, Usd};
use crate::error::{Error, Result};
use crate::runner::signals;
use crate::state;
use crate::ui::live::TaskLine;
use crate::ui::text;

/// How long a run waits for a rate limit to reset without `--timeout`.
pub const MAX_WAIT: Duration = Duration::from_secs(30 * 60);

impl Session<'_> {
    /// The feedback file of task `i`'s previous attempt, for attempt
    /// `attempt` (none for a first attempt, or when there is none).
    pub(super) fn feedback_for(&self, i: usize, attempt: u32) -> Result<Option<PathBuf>> {
        let path = self.feedback_path(i)?;
        Ok((attempt > 1 && path.is_file()).then_some(path))
    }

    fn feedback_path(&self, i: usize) -> Result<PathBuf> {
        let id = &self.plan.tasks[i].id;
        let safe: String = id
            .chars()
            .map(|c| if c == '/' || c.is_control() { '_' } else { c })
            .collect();
        Ok(state::journal_dir(self.repo.git_dir(), self.name())?
            .join("feedback")
            .join(format!("{safe}.md")))
    }

    /// Write what the next attempt of task `i` should know about `done`:
    /// its outcome, the end of its output, its checks, its changes (still
    /// in the work tree).
    pub(super) fn write_feedback(
        &self,
        i: usize,
        done: &Attempted,
        log: &std::path::Path,
    ) -> Result<()> {
        let untracked: Vec<String> = self
            .repo
            .work_tree()
            .map(|t| {
                t.untracked
                    .into_iter()
                    .filter(|p| !self.untracked.is_users(p))
                    .collect()
            })
            .unwrap_or_default();
        let mut changes = String::from("\nIts changes, still in the work tree:\n\n");
        changes.push_str(&changes_text(&self.repo.diff_stat(), &untracked));
        self.write_feedback_with(i, done, log, &changes)
    }

    /// [`Session::write_feedback`] with what is said of its changes.
    pub(super) fn write_feedback_with(
        &self,
        i: usize,
        done: &Attempted,
        log: &std::path::Path,
        changes: &str,
    ) -> Result<()> {
        let id = &self.plan.tasks[i].id;
        let mut text = format!(
            "# Attempt {} of {id} did not succeed\n\nOutcome: {}\n",
            done.record.n,
            done.cause(self.opts.timeout)
        );
        if !done.record.checks.is_empty() {
            text.push_str("\nChecks:\n");
            for c in &done.record.checks {
                let _ = writeln!(text, "- {}", c.evidence());
            }
        }
        let _ = write!(
            text,
            "\nThe last lines of its output (all of it: {}):\n\n",
            log.display()
        );
        for line in &done.tail {
            let _ = writeln!(text, "    {}", text::clean(line));
        }
        text.push_str(changes);
        let path = self.feedback_path(i)?;
        std::fs::create_dir_all(path.parent().unwrap_or(&path))
            .map_err(|e| Error::failed("cannot create the feedback directory").with_cause(e))?;
        state::replace_file(&path, text.as_bytes())
    }

    /// What is left of the milestone's budget, for one attempt.
    pub(super) fn remaining_budget(&self) -> Limits {
        let spent = self.status.usage.unwrap_or_default();
        let cost = spent.cost_usd.unwrap_or_default().0;
        Limits {
            max_cost: self.opts.tasks.max_cost.map(|m| (m - cost).max(0.0)),
            max_tokens: self
                .opts
                .tasks
                .max_tokens
                .map(|m| m.saturating_sub(spent.tokens())),
        }
    }

    /// How much of the milestone's budget is spent, once all of it is.
    pub(super) fn over_budget(&self) -> Option<String> {
        let spent: Usage = self.status.usage.unwrap_or_default();
        let cost = spent.cost_usd.unwrap_or_default();
        match (self.opts.tasks.max_cost, self.opts.tasks.max_tokens) {
            (Some(max), _) if cost.0 >= max => Some(format!("{cost} of its {} budget", Usd(max))),
            (_, Some(max)) if spent.tokens() >= max => Some(format!(
                "{} of its {} token budget",
                crate::agent::outcome::short_count(spent.tokens()),
                crate::agent::outcome::short_count(max)
            )),
            _ => None,
        }
    }

    /// Refuse to start task `i` once the milestone's budget is spent.
    pub(super) fn check_budget(&mut self, i: usize) -> Result<()> {
        let Some(over) = self.over_budget() else {
            return Ok(());
        };
        let id = self.plan.tasks[i].id.clone();
        self.status.fail(&id, None);
        self.status.save(self.repo.root())?;
        Err(Error::failed(format!(
            "the milestone {} has spent {over}; {id} was not started",
            self.name()
        ))
        .hint("raise the budget with `--max-cost USD` or `--max-tokens N` (git config milestone.maxCost, milestone.maxTokens), then run again"))
    }

    /// Task `i` hit a rate or usage limit: wait for its reset and try again
    /// (`Ok`), or stop when it gives no time or the wait is too long.
    pub(super) fn wait_for_reset(&mut self, i: usize, done: &Attempted) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        let limit = self.opts.timeout.unwrap_or(MAX_WAIT);
        let now = jiff::Timestamp::now();
        let wait = done
            .outcome
            .resets_at
            .map(|at| Duration::try_from(at.duration_since(now)).unwrap_or_default());
        match wait {
            Some(w) if w <= limit => {
                let at = crate::agent::reset::show(done.outcome.resets_at.unwrap_or(now));
                self.report.warn(&format!(
                    "{id} hit a rate or usage limit ({}); waiting until {at} to run it again (this is not a failure of the task)",
                    done.outcome.message.as_deref().unwrap_or("no details")
                ));
                self.sleep(&id, i, w)
            }
            _ => Err(self.too_long(i, done, limit)),
        }
    }

    /// Wait `how_long`, with the live line counting; Ctrl-C stops the run.
    fn sleep(&mut self, id: &str, i: usize, how_long: Duration) -> Result<()> {
        // The live line is the sequential run's: under --jobs other tasks
        // write to the terminal meanwhile.
        let line = if self.opts.live && self.opts.jobs == 1 {
            TaskLine::start(id, i + 1, self.plan.tasks.len())
        } else {
            None
        };
        if let Some(l) = &line {
            l.set("waiting for the rate limit to reset");
        }
        let end = std::time::Instant::now() + how_long;
        while std::time::Instant::now() < end {
            if let Some(sig) = signals::pending() {
                self.status.interrupt_task(id);
                return Err(self.interrupted(Some(id), sig)?);
            }
            std::thread::sleep(Duration::from_millis(200).min(end - std::time::Instant::now()));
        }
        Ok(())
    }

    fn too_long(&mut self, i: usize, done: &Attempted, limit: Duration) -> Error {
        let id = self.plan.tasks[i].id.clone();
        self.status.fail_task(&id, done.run.exit.code());
        let _ = self.status.save(self.repo.root());
        let why = match done.outcome.resets_at {
            Some(at) => format!(
                "it resets at {}, later than the {} a run waits{}",
                crate::agent::reset::show(at),
                super::session::seconds(limit),
                if self.opts.timeout.is_some() {
                    " (--timeout)"
                } else {
                    ""
                }
            ),
            None => "it did not say when it resets".to_string(),
        };
        Error::failed(format!(
            "{id} stopped at a rate or usage limit ({}): {why}. This is not a failure of the task",
            done.outcome.message.as_deref().unwrap_or("no details")
        ))
        .hint(format!(
            "run it again once the limit has reset: `{}`",
            self.opts.continue_with
        ))
    }
}

/// A diff stat and new files as the feedback file lists them.
pub(super) fn changes_text(stat: &str, untracked: &[String]) -> String {
    let mut text = String::new();
    if stat.trim().is_empty() && untracked.is_empty() {
        text.push_str("    none\n");
    }
    for line in stat.lines() {
        let _ = writeln!(text, "    {line}");
    }
    for path in untracked {
        let _ = writeln!(text, "    {} (new file)", text::clean(path));
    }
    text
}
