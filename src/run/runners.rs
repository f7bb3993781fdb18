//! Each task's runner: `--runner`, the plan's own block under the task,
//! the environment, git config or an agent preset, in that order; and
//! the check that each program it names can start, before anything runs.

use std::collections::HashSet;

use super::{Options, Report};
use crate::agent::Agent;
use crate::config::{self, GlobalRunner, RunnerSource};
use crate::error::{Error, Result};
use crate::plan::{Plan, Task};
use crate::repo::Repo;
use crate::runner;
use crate::state::Status;
use crate::ui::text;

/// How one task's command is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TaskRunner {
    pub(super) command: String,
    pub(super) script: bool,
    pub(super) source: RunnerSource,
    /// The runner this one took precedence over: a plan block over the
    /// environment or git config, `--runner` over a plan block.
    pub(super) over: Option<RunnerSource>,
    /// An agent preset, not a command (`command` is its name).
    pub(super) agent: Option<Agent>,
}

impl TaskRunner {
    /// `--runner`, `milestone.agent`...: where it came from.
    pub(super) fn describe_source(&self) -> &'static str {
        match self.agent {
            Some(_) => self.source.describe_agent(),
            None => self.source.describe(),
        }
    }
}

/// The runner of each task left to run (none for a finished one), said
/// when `--runner` overrides a plan's block, each program checked.
pub(super) fn resolve(
    repo: &Repo,
    plan: &Plan,
    status: &Status,
    (opts, notes): (&Options, &mut dyn Report),
) -> Result<Vec<Option<TaskRunner>>> {
    let runners = resolve_runners(plan, status, opts)?;
    let overridden = overridden_blocks(plan, &runners);
    if !overridden.is_empty() {
        notes.warn(&format!(
            "warning: --runner overrides the plan's own ```sh milestone block for {}",
            text::list(&overridden, 5)
        ));
    }
    check_programs(repo, &runners)?;
    super::prompt::check(repo, plan, opts, &runners)?;
    Ok(runners)
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
        agent: None,
    });
    let global = global.map(|g| TaskRunner {
        command: g.command.clone(),
        script: false,
        source: g.source,
        over: block.as_ref().map(|_| RunnerSource::Plan),
        agent: g.agent,
    });
    match (global, block) {
        (Some(g), _) if g.source.is_flag() => Ok(g),
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
        if !seen.insert(r.command.as_str()) {
            continue;
        }
        match r.agent {
            Some(agent) => check_agent(repo, agent)?,
            None => runner::check_program(&r.command, repo.root())?,
        }
    }
    Ok(())
}

/// The agent's CLI must be installed before any task runs.
fn check_agent(repo: &Repo, agent: Agent) -> Result<()> {
    runner::check_program(agent.program(), repo.root()).map_err(|_| {
        Error::refused(format!(
            "{} (`{}`) is not installed, or not on PATH",
            agent.title(),
            agent.program()
        ))
        .hint(format!("install it with `{}`", agent.install_command()))
        .hint("or run the tasks through another program with `--runner 'CMD'`")
    })
}
