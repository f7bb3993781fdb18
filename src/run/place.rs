//! Where an attempt runs and what it runs there: a runner command or an
//! agent preset (its prompt, command and output read as it comes), then
//! the checks. The sequential run's session and a `--jobs` task's thread
//! both go through a [`Place`]: the work tree, or the task's worktree.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::Options;
use super::attempt::{Attempted, TAIL, record};
use crate::agent::{Agent, Kind, Limits, Monitor, Outcome, preset};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::runner::{self, EXIT_SKIP, Exit, Filter, Invocation, TaskEnv};
use crate::state::Check;
use crate::ui::live::TaskLine;
use crate::ui::text;

/// Where an attempt's commands run and where their output goes: the
/// sequential run's work tree, or a `--jobs` task's own worktree (whose
/// thread has no session).
pub(super) struct Place<'a> {
    pub(super) plan: &'a Plan,
    pub(super) opts: &'a Options,
    /// The user's work tree: the plan as the run last wrote it, and the
    /// repository's task command.
    pub(super) root: &'a Path,
    /// The directory the task and its checks run in.
    pub(super) cwd: &'a Path,
    /// Shows the output instead of `opts.echo` (`[ID]` prefixes), unless
    /// the attempt has a live line.
    pub(super) screen: Option<Arc<dyn runner::Screen>>,
}

/// What an agent's attempt takes from the run: the previous attempt's
/// feedback and session, and what is left of the budget.
#[derive(Debug, Clone)]
pub(super) struct Learned {
    pub(super) feedback: Option<PathBuf>,
    pub(super) resume: Option<String>,
    pub(super) limits: Limits,
}

impl<'a> Place<'a> {
    /// The attempt's invocation, before the runner or agent fills it in.
    fn invocation<'b>(&self, base: &Base<'_>) -> Invocation<'b>
    where
        'a: 'b,
    {
        let (plan, task) = (self.plan, &self.plan.tasks[base.i]);
        Invocation {
            command: "",
            script: false,
            env: TaskEnv {
                milestone: &plan.milestone,
                task: &task.id,
                title: &task.title,
                index: base.i + 1,
                total: plan.tasks.len(),
                plan: &plan.plan,
                attempt: base.attempt,
            },
            cwd: self.cwd,
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

    /// Run attempt `base.attempt` of a runner command: how it ended.
    pub(super) fn run_command(
        &self,
        command: &str,
        script: bool,
        base: &Base<'_>,
    ) -> Result<Attempted> {
        let mut inv = self.invocation(base);
        inv.command = command;
        inv.script = script;
        inv.screen = self.screen_for(base);
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

    /// Run attempt `base.attempt` of task `base.i` through `agent`, with
    /// what the run `learned`; `say` shows the run's own lines (a resumed
    /// session, the agent's last words).
    pub(super) fn run_agent(
        &self,
        agent: Agent,
        base: &Base<'_>,
        learned: &Learned,
        say: &mut dyn FnMut(&str),
    ) -> Result<Attempted> {
        let prompt = self.prompt(agent, base, learned.feedback.as_deref());
        let resume = learned.resume.clone();
        let cmd = preset::build(
            agent,
            &preset::Request {
                prompt: &prompt,
                extra: &self.opts.tasks.agent_args,
                resume: resume.as_deref(),
                max_cost: learned.limits.max_cost,
                scratch: base.log.parent().unwrap_or(self.root),
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
            say(note);
        }
        let argv = cmd.argv();
        let monitor = Monitor::new(agent, learned.limits);
        let filter = Arc::new(Mutex::new(AgentFilter::new(monitor, base.line.clone())));
        let mut inv = self.invocation(base);
        inv.argv = Some(&argv);
        inv.env_defaults = cmd.env_defaults.clone();
        inv.filter = Some(filter.clone());
        inv.screen = self.screen_for(base);
        inv.log_note = note;
        let run = runner::run(&inv)?;
        let Ok((finished, mut tail)) = filter.lock().map(|mut f| f.finish(run.exit)) else {
            return Err(Error::failed("the agent's output reader failed"));
        };
        for line in &finished.show {
            say(line);
        }
        tail.extend(finished.show.iter().cloned());
        let mut record = record(base.attempt, Some(agent), &finished.outcome, &run);
        let activity = &finished.activity;
        record.usage = Some(activity.usage).filter(|u| !u.is_zero());
        record.turns = Some(activity.turns);
        record.session = activity.session.clone();
        record.resumed = resume;
        Ok(Attempted {
            run,
            outcome: finished.outcome,
            record,
            tail: tail.into_iter().collect(),
        })
    }

    /// The attempt's output goes to its live line, else to the place's screen.
    fn screen_for(&self, base: &Base<'_>) -> Option<Arc<dyn runner::Screen>> {
        match &base.line {
            Some(l) => Some(l.clone() as Arc<dyn runner::Screen>),
            None => self.screen.clone(),
        }
    }

    /// The prompt for this attempt of task `base.i`.
    fn prompt(&self, agent: Agent, base: &Base<'_>, feedback: Option<&Path>) -> String {
        super::prompt::Prompts::new(self.root, self.plan, self.opts, agent).render(
            base.i,
            base.attempt,
            feedback,
        )
    }

    /// Whether task `i` may change nothing (`--allow-empty`, or the plan
    /// says so): an agent's attempt that changed nothing is a no-op otherwise.
    pub(super) fn may_be_empty(&self, i: usize) -> bool {
        self.opts.tasks.allow_empty || self.plan.tasks[i].allow_empty
    }

    /// Run task `i`'s checks (the run's, then the plan's) after attempt
    /// `attempt` succeeded, in order, until one fails or is interrupted:
    /// recorded in `done`, whose outcome they change. `say` shows a line.
    pub(super) fn checks(
        &self,
        i: usize,
        attempt: u32,
        log: &Path,
        done: &mut Attempted,
        say: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let task = &self.plan.tasks[i];
        let mut checks: Vec<String> = self.opts.tasks.verify.clone();
        checks.extend(task.verify.iter().cloned());
        for (k, command) in checks.iter().enumerate() {
            say(&format!(
                "Checking {}: {}",
                task.id,
                super::message::one_line(command)
            ));
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
        &self,
        i: usize,
        attempt: u32,
        (k, command): (usize, &str),
        log: &Path,
    ) -> Result<(Check, Exit)> {
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
        inv.screen = self.screen.clone();
        let run = runner::run(&inv)?;
        let check = Check {
            command: command.to_string(),
            exit_code: run.exit.code(),
            duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        };
        Ok((check, run.exit))
    }
}

/// What every kind of attempt shares.
pub(super) struct Base<'a> {
    pub(super) i: usize,
    pub(super) attempt: u32,
    pub(super) log: &'a Path,
    pub(super) extra_env: Vec<(&'static str, String)>,
    /// The live status line (the sequential run on a terminal).
    pub(super) line: Option<Arc<TaskLine>>,
}

/// A check's log: `TASK-1.2.log` → `TASK-1.2.check-1.log`.
fn check_log_path(log: &Path, k: usize) -> PathBuf {
    let stem = log
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".log").to_string())
        .unwrap_or_default();
    log.with_file_name(format!("{stem}.check-{k}.log"))
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
