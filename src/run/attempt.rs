//! One attempt of a task: its runner command or agent preset (prompt,
//! command, reading its output), the live status line, then the no-change
//! rule and the checks; how it ended, as an outcome and a record for the
//! status file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::place::{Base, Learned, Place};
use super::session::Session;
use super::watch::{Seen, Watch};
use crate::agent::{Agent, Kind, Outcome, preset};
use crate::config;
use crate::error::Result;
use crate::runner;
use crate::state::Attempt;
use crate::ui::live::TaskLine;

/// The variable that names the previous attempt's feedback file.
pub const FEEDBACK_VAR: &str = "MILESTONE_FEEDBACK";

/// How many of its last lines an attempt keeps for the feedback file and
/// for telling two endings apart.
pub(super) const TAIL: usize = crate::failure::LOG_TAIL_LINES;

/// How an attempt ended.
pub(super) struct Attempted {
    /// The process's end and duration.
    pub(super) run: runner::Outcome,
    pub(super) outcome: Outcome,
    pub(super) record: Attempt,
    /// Its last lines as shown (an agent's messages, not its raw events).
    pub(super) tail: Vec<String>,
}

impl Attempted {
    /// An agent's attempt that said it succeeded but changed nothing.
    pub(super) fn no_change(&mut self) {
        self.outcome = Outcome::with_message(Kind::NoOp, "no changes");
        self.record.outcome = self.outcome.clone();
    }

    /// What messages say about a failure: a runner's exit as before (`exit
    /// code 3`), or the outcome (`turn limit reached: ...`).
    pub(super) fn cause(&self, timeout: Option<Duration>) -> String {
        match (self.record.agent, self.outcome.kind) {
            (None, Kind::Failed | Kind::Skipped | Kind::Interrupted) => {
                super::session::describe(self.run.exit, timeout)
            }
            _ => self.outcome.describe(),
        }
    }

    /// What the user can do about how it ended, when the outcome says.
    pub(super) fn advice(&self) -> Option<String> {
        let agent = self.record.agent?;
        Some(match self.outcome.kind {
            Kind::Auth => format!("{} could not log in: {}", agent.title(), agent.login_hint()),
            Kind::Network => format!(
                "{} could not reach its provider: check the network connection (and any proxy), then run again",
                agent.title()
            ),
            Kind::TurnLimit => turn_limit_advice(agent).to_string(),
            Kind::Budget => "raise the budget with `--max-cost USD` or `--max-tokens N`".to_string(),
            Kind::NoOp => "if the task needs no change, pass --allow-empty or add an `Allow-empty: yes` line to its section of the plan".to_string(),
            _ => return None,
        })
    }

    /// Two agent attempts ended the same way: same outcome, same last lines.
    /// (A runner command is retried as often as the policy says, as always.)
    pub(super) fn same_ending(&self, other: &Attempted) -> bool {
        let last = |a: &Attempted| a.tail.iter().rev().take(5).cloned().collect::<Vec<_>>();
        self.record.agent.is_some()
            && self.outcome.kind == other.outcome.kind
            && self.outcome.message == other.outcome.message
            && last(self) == last(other)
    }
}

/// How to allow `agent` more turns: each CLI has its own way.
fn turn_limit_advice(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude => {
            "allow more turns with `-- --max-turns 50` after the run's flags, or split the task"
        }
        Agent::Gemini => {
            "allow more turns with `maxSessionTurns` in Gemini CLI's settings.json, or split the task"
        }
        Agent::Codex | Agent::Aider => {
            "allow more turns with the agent's own option after `--`, or split the task"
        }
    }
}

impl Session<'_> {
    /// Run attempt `attempt` of task `i`, logging to `log`.
    pub(super) fn attempt(
        &mut self,
        i: usize,
        attempt: u32,
        log: &Path,
        watch: &Watch,
    ) -> Result<Attempted> {
        let task = &self.plan.tasks[i];
        let r = self.runners[i]
            .clone()
            .ok_or_else(|| config::no_runner_error(&task.id))?;
        let line = if self.opts.live {
            TaskLine::start(&task.id, i + 1, self.plan.tasks.len())
        } else {
            None
        };
        let feedback = self.feedback_for(i, attempt)?;
        let mut extra_env = vec![watch.env()];
        if let Some(f) = &feedback {
            extra_env.push((FEEDBACK_VAR, f.display().to_string()));
        }
        let base = Base {
            i,
            attempt,
            log,
            extra_env,
            line: line.clone(),
        };
        let mut done = match r.agent {
            Some(agent) => self.run_agent(agent, &base, feedback)?,
            None => self.place().run_command(&r.command, r.script, &base)?,
        };
        // The line goes before the checks, whose output is not routed
        // through it.
        if let Some(l) = &line {
            l.finish();
        }
        if done.outcome.is_success() {
            self.after_success(i, attempt, log, watch, &mut done)?;
        }
        Ok(done)
    }

    /// Run the attempt through `agent`, with the previous attempt's
    /// feedback and session and what is left of the budget.
    fn run_agent(
        &mut self,
        agent: Agent,
        base: &Base<'_>,
        feedback: Option<PathBuf>,
    ) -> Result<Attempted> {
        let learned = Learned {
            feedback,
            resume: self.resume_session(base.i, agent),
            limits: self.remaining_budget(),
        };
        let place = self.place();
        let report = &mut *self.report;
        let done = place.run_agent(agent, base, &learned, &mut |line| report.info(line))?;
        if agent == Agent::Aider {
            self.keep_agent_files(agent)?;
        }
        Ok(done)
    }

    /// The session a retry continues: the previous attempt's, when the
    /// agent can resume one and that attempt got somewhere.
    pub(super) fn resume_session(&self, i: usize, agent: Agent) -> Option<String> {
        let last = self.status.tasks[i].history.last()?;
        let worked = last.turns.is_some_and(|t| t > 0);
        let resumable = !matches!(last.outcome.kind, Kind::Auth | Kind::Network);
        (preset::can_resume(agent) && last.agent == Some(agent) && worked && resumable)
            .then(|| last.session.clone())
            .flatten()
    }

    /// Files the agent leaves in the work tree for itself (Aider's caches
    /// and histories): never a task's work, never in a checkpoint.
    fn keep_agent_files(&mut self, agent: Agent) -> Result<()> {
        let own: Vec<String> = self
            .repo
            .work_tree()?
            .untracked
            .into_iter()
            .filter(|p| preset::is_own_file(agent, p))
            .collect();
        self.untracked.keep(own)
    }

    /// An attempt that says it succeeded: the no-change rule, then the checks.
    pub(super) fn after_success(
        &mut self,
        i: usize,
        attempt: u32,
        log: &Path,
        watch: &Watch,
        done: &mut Attempted,
    ) -> Result<()> {
        let place = self.place();
        if done.record.agent.is_some() && !place.may_be_empty(i) && !self.changed_anything(watch)? {
            done.no_change();
            return Ok(());
        }
        let report = &mut *self.report;
        place.checks(i, attempt, log, done, &mut |line| report.info(line))
    }

    /// Whether the task changed anything: commits of its own, edited or
    /// new files (not the status file, not files it must leave alone).
    fn changed_anything(&self, watch: &Watch) -> Result<bool> {
        if !matches!(watch.check(self.repo)?, Seen::Stayed) {
            return Ok(true);
        }
        let tree = self.repo.work_tree()?;
        Ok(!tree.changed.is_empty()
            || tree
                .untracked
                .iter()
                .any(|p| !self.untracked.is_users(p) || self.untracked.is_tasks(p)))
    }
}

/// The attempt's record, before usage and checks are known.
pub(super) fn record(
    n: u32,
    agent: Option<Agent>,
    outcome: &Outcome,
    run: &runner::Outcome,
) -> Attempt {
    Attempt {
        n,
        agent,
        outcome: outcome.clone(),
        exit_code: run.exit.code(),
        duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        usage: None,
        turns: None,
        session: None,
        resumed: None,
        checks: Vec::new(),
    }
}

impl<'a> Session<'a> {
    /// Where this session's attempts run: the work tree (borrowing what
    /// the session borrows, not the session).
    pub(super) fn place(&self) -> Place<'a> {
        Place {
            plan: self.plan,
            opts: self.opts,
            root: self.repo.root(),
            cwd: self.repo.root(),
            screen: None,
        }
    }
}
