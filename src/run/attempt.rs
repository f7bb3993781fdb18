//! One attempt of a task: its runner command or agent preset (prompt,
//! command, reading its output), the live status line, then the no-change
//! rule and the checks; how it ended, as an outcome and a record for the
//! status file.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::session::Session;
use super::watch::{Seen, Watch};
use crate::agent::prompt::{self, Template, Values};
use crate::agent::{Agent, Kind, Limits, Monitor, Outcome, preset};
use crate::config;
use crate::error::Result;
use crate::runner::{self, EXIT_SKIP, Exit, Filter, Invocation, TaskEnv};
use crate::state::{Attempt, Check};
use crate::ui::live::TaskLine;
use crate::ui::text;

/// The variable that names the previous attempt's feedback file.
pub const FEEDBACK_VAR: &str = "MILESTONE_FEEDBACK";

/// How many of its last lines an attempt keeps for the feedback file and
/// for telling two endings apart.
const TAIL: usize = crate::failure::LOG_TAIL_LINES;

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
            Some(agent) => self.run_agent(agent, &base, feedback.as_deref())?,
            None => self.run_command(&r.command, r.script, &base)?,
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

    fn run_command(&mut self, command: &str, script: bool, base: &Base<'_>) -> Result<Attempted> {
        let mut inv = self.invocation(base);
        inv.command = command;
        inv.script = script;
        inv.screen = base.line.clone().map(|l| l as Arc<dyn runner::Screen>);
        let run = runner::run(&inv)?;
        let outcome = match run.exit {
            Exit::Code(0) => Outcome::new(Kind::Success),
            Exit::Code(EXIT_SKIP) => Outcome::with_message(Kind::Skipped, "exit code 125"),
            Exit::Interrupted(_) => Outcome::new(Kind::Interrupted),
            other => Outcome::with_message(
                Kind::Failed,
                super::session::describe(other, self.opts.timeout),
            ),
        };
        let tail = crate::failure::read_log_tail(base.log, TAIL)
            .lines()
            .map(str::to_string)
            .collect();
        Ok(Attempted {
            record: record(base.attempt, None, &outcome, &run),
            run,
            outcome,
            tail,
        })
    }

    fn run_agent(
        &mut self,
        agent: Agent,
        base: &Base<'_>,
        feedback: Option<&Path>,
    ) -> Result<Attempted> {
        let prompt = self.prompt(agent, base, feedback);
        let limits = self.remaining_budget();
        let resume = self.resume_session(base.i, agent);
        let scratch = base.log.parent().unwrap_or(self.repo.git_dir());
        let cmd = preset::build(
            agent,
            &preset::Request {
                prompt: &prompt,
                extra: &self.opts.tasks.agent_args,
                resume: resume.as_deref(),
                max_cost: limits.max_cost,
                scratch,
            },
        )?;
        let note = resume.as_ref().map(|id| {
            format!(
                "resuming {} session {} from the previous attempt",
                agent.title(),
                text::clean(id)
            )
        });
        if let Some(note) = &note {
            self.report.info(note);
        }
        let argv = cmd.argv();
        let monitor = Monitor::new(agent, limits);
        let filter = Arc::new(Mutex::new(AgentFilter::new(monitor, base.line.clone())));
        let mut inv = self.invocation(base);
        inv.argv = Some(&argv);
        inv.env_defaults = cmd.env_defaults.clone();
        inv.filter = Some(filter.clone());
        inv.screen = base.line.clone().map(|l| l as Arc<dyn runner::Screen>);
        inv.log_note = note;
        let run = runner::run(&inv)?;
        let (finished, mut tail) = match filter.lock() {
            Ok(mut f) => f.finish(run.exit),
            Err(_) => {
                return Err(crate::error::Error::failed(
                    "the agent's output reader failed",
                ));
            }
        };
        for line in &finished.show {
            self.report.info(line);
        }
        tail.extend(finished.show.iter().cloned());
        let mut record = record(base.attempt, Some(agent), &finished.outcome, &run);
        let activity = &finished.activity;
        record.usage = Some(activity.usage).filter(|u| !u.is_zero());
        record.turns = Some(activity.turns);
        record.session = activity.session.clone();
        record.resumed = resume;
        if agent == Agent::Aider {
            self.keep_agent_files(agent)?;
        }
        Ok(Attempted {
            run,
            outcome: finished.outcome,
            record,
            tail: tail.into_iter().collect(),
        })
    }

    /// The attempt's invocation, before the runner or agent fills it in.
    fn invocation<'b>(&'b self, base: &'b Base<'b>) -> Invocation<'b> {
        let task = &self.plan.tasks[base.i];
        Invocation {
            command: "",
            script: false,
            env: TaskEnv {
                milestone: &self.plan.milestone,
                task: &task.id,
                title: &task.title,
                index: base.i + 1,
                total: self.plan.tasks.len(),
                plan: &self.plan.plan,
                attempt: base.attempt,
            },
            cwd: self.repo.root(),
            log: base.log.to_path_buf(),
            timeout: self.opts.timeout,
            echo: self.opts.echo,
            extra_env: base.extra_env.clone(),
            argv: None,
            env_defaults: Vec::new(),
            filter: None,
            screen: None,
            log_note: None,
        }
    }

    /// The prompt for this attempt of task `base.i`.
    fn prompt(&self, agent: Agent, base: &Base<'_>, feedback: Option<&Path>) -> String {
        let template = self.opts.tasks.prompt.clone().unwrap_or_else(|| {
            let task_command = self.repo.root().join(prompt::TASK_COMMAND).is_file();
            Template::default_for(agent, task_command)
        });
        let task = &self.plan.tasks[base.i];
        let plan_text =
            std::fs::read_to_string(self.repo.root().join(&self.plan.plan)).unwrap_or_default();
        let lines: Vec<usize> = self.plan.tasks.iter().map(|t| t.line).collect();
        let section = prompt::section(&plan_text, task.line, &lines);
        let feedback_text = feedback.map(|p| std::fs::read_to_string(p).unwrap_or_default());
        template.render(&Values {
            milestone: &self.plan.milestone,
            task: &task.id,
            title: &task.title,
            plan: &self.plan.plan,
            line: task.line,
            section: &section,
            index: base.i + 1,
            total: self.plan.tasks.len(),
            attempt: base.attempt,
            feedback: feedback.zip(feedback_text.as_deref()),
        })
    }

    /// The session a retry continues: the previous attempt's, when the
    /// agent can resume one and that attempt got somewhere.
    fn resume_session(&self, i: usize, agent: Agent) -> Option<String> {
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
        let prefixes = preset::own_files(agent);
        let own: Vec<String> = self
            .repo
            .work_tree()?
            .untracked
            .into_iter()
            .filter(|p| prefixes.iter().any(|pre| p.starts_with(pre)))
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
        let task = &self.plan.tasks[i];
        let may_be_empty = self.opts.tasks.allow_empty || task.allow_empty;
        if done.record.agent.is_some() && !may_be_empty && !self.changed_anything(watch)? {
            done.outcome = Outcome::with_message(Kind::NoOp, "no changes");
            done.record.outcome = done.outcome.clone();
            return Ok(());
        }
        let mut checks: Vec<String> = self.opts.tasks.verify.clone();
        checks.extend(task.verify.iter().cloned());
        for (k, command) in checks.iter().enumerate() {
            let (check, exit) = self.check(i, attempt, (k + 1, command), log)?;
            let passed = check.passed();
            done.record.checks.push(check);
            if let Exit::Interrupted(_) = exit {
                done.run.exit = exit;
                done.outcome = Outcome::new(Kind::Interrupted);
                break;
            }
            if !passed {
                let how = super::session::describe(exit, self.opts.timeout);
                done.outcome = Outcome::with_message(
                    Kind::ChecksFailed,
                    format!("`{}` ({how})", super::message::one_line(command)),
                );
                break;
            }
        }
        done.record.outcome = done.outcome.clone();
        Ok(())
    }

    /// Run check `command` (the `k`th) after attempt `attempt` of task `i`,
    /// shown like the task's output and logged beside its log.
    fn check(
        &mut self,
        i: usize,
        attempt: u32,
        (k, command): (usize, &str),
        log: &Path,
    ) -> Result<(Check, Exit)> {
        let id = &self.plan.tasks[i].id;
        self.report.info(&format!(
            "Checking {id}: {}",
            super::message::one_line(command)
        ));
        let check_log = check_log_path(log, k);
        let base = Base {
            i,
            attempt,
            log: &check_log,
            extra_env: Vec::new(),
            line: None,
        };
        let mut inv = self.invocation(&base);
        inv.command = command;
        // A script, so the task ID is `$1` and is not appended to the check.
        inv.script = true;
        let run = runner::run(&inv)?;
        let check = Check {
            command: command.to_string(),
            exit_code: run.exit.code(),
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        };
        Ok((check, run.exit))
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

/// What every kind of attempt shares.
struct Base<'a> {
    i: usize,
    attempt: u32,
    log: &'a Path,
    extra_env: Vec<(&'static str, String)>,
    line: Option<Arc<TaskLine>>,
}

/// A check's log: `TASK-1.2.log` → `TASK-1.2.check-1.log`.
fn check_log_path(log: &Path, k: usize) -> PathBuf {
    let stem = log
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".log").to_string())
        .unwrap_or_default();
    log.with_file_name(format!("{stem}.check-{k}.log"))
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

/// Reads an agent's output on its way to the screen: readable lines out,
/// the live line kept up to date, a stop when the monitor wants one.
struct AgentFilter {
    monitor: Option<Monitor>,
    line: Option<Arc<TaskLine>>,
    tail: VecDeque<String>,
}

impl AgentFilter {
    fn new(monitor: Monitor, line: Option<Arc<TaskLine>>) -> AgentFilter {
        AgentFilter {
            monitor: Some(monitor),
            line,
            tail: VecDeque::new(),
        }
    }

    /// The attempt is over: its outcome and activity, and its last lines.
    fn finish(&mut self, exit: Exit) -> (crate::agent::stream::Finished, VecDeque<String>) {
        let monitor = self
            .monitor
            .take()
            .unwrap_or_else(|| Monitor::new(Agent::Claude, Limits::default()));
        (monitor.finish(exit), std::mem::take(&mut self.tail))
    }
}

impl Filter for AgentFilter {
    fn feed(&mut self, chunk: &[u8]) -> (String, bool) {
        let Some(monitor) = self.monitor.as_mut() else {
            return (String::new(), false);
        };
        let feed = monitor.feed(chunk);
        if let Some(line) = &self.line {
            line.set(&monitor.activity().describe());
        }
        let mut text = String::new();
        for l in feed.show {
            text.push_str(&text::clean(&l));
            text.push('\n');
            if self.tail.len() == TAIL {
                self.tail.pop_front();
            }
            self.tail.push_back(l);
        }
        (text, feed.stop)
    }
}
