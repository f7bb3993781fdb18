//! The checks before a run, which write nothing: every refusal, what an
//! earlier run left (its record, a stopped attempt's files), each task's
//! runner; and the dry run that prints them.

use std::collections::HashSet;

use super::{Options, Report, message, progress};
use crate::agent::{Agent, preset};
use crate::config::{self, GlobalRunner, RunnerSource};
use crate::error::{Error, Result};
use crate::plan::{Plan, Task};
use crate::repo::Repo;
use crate::repo::ident::Committer;
use crate::repo::refs::{checkpoint_ref, task_id_fits_refs};
use crate::repo::scan::WorkTree;
use crate::runner;
use crate::state::{self, Status, TaskState};
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
    fn describe_source(&self) -> &'static str {
        match self.agent {
            Some(_) => self.source.describe_agent(),
            None => self.source.describe(),
        }
    }
}

/// What the checks found, for the run to start from.
pub(super) struct Prepared {
    pub(super) status: Status,
    /// This continues an earlier run (its status file was read).
    pub(super) resuming: bool,
    pub(super) tree: WorkTree,
    /// Untracked files the stopped attempt created: its task's work.
    pub(super) leftovers: HashSet<String>,
    pub(super) runners: Vec<Option<TaskRunner>>,
    pub(super) committer: Committer,
    /// The plan in the order this run follows, when it is not the one it
    /// was given (a stopped task runs first: `dirty::stopped_first`).
    pub(super) plan: Option<Plan>,
}

/// What the checks before a run lead to.
pub(super) enum Prep {
    Run(Box<Prepared>),
    /// Every task is finished: the record says so.
    AllDone(Box<Status>),
}

/// Every check and refusal before a run, writing nothing. Lines for the
/// user go to `notes`.
pub(super) fn prepare(repo: &Repo, plan: &Plan, opts: &Options, notes: &mut Notes) -> Result<Prep> {
    let name = plan.milestone.as_str();
    state::check_bundle_path(repo.root(), name)?;
    check_task_ids(plan)?;
    let head = repo.check_can_run(opts.detach_ok)?;
    // Before the work tree is read: reading it refreshes the index.
    repo.check_writable()?;
    let (mut status, resuming, dropped) = load_status(repo, plan, opts, &head)?;
    note_the_record(plan, &status, &dropped, opts, notes);
    let stopped_before_checkpoint = resuming && unrecorded_checkpoints(repo, &mut status, notes)?;
    let mut reordered = None;
    if resuming && let Some((moved, skipped)) = progress::reopen_skipped(plan, &mut status) {
        let ids: Vec<_> = skipped.iter().map(|id| text::clean(id)).collect();
        let tasks = if ids.len() == 1 { "task" } else { "tasks" };
        notes.info(&format!(
            "running the skipped {tasks} again: {}",
            text::list(&ids, 5)
        ));
        reordered = Some(moved);
    }
    if progress::all_finished(&status) {
        return Ok(Prep::AllDone(Box::new(status)));
    }
    // A rollback stopped half way left a tree that is neither the
    // attempt's nor the checkpoint's.
    crate::rollback::refuse_unfinished(repo.git_dir(), name)?;
    let tree = repo.work_tree()?;
    if opts.restart {
        check_restart(repo, name, &tree)?;
    }
    let after_attempt = resuming && continues_an_attempt(&status);
    let next = status.tasks.iter().find(|t| !t.state.is_finished());
    let next = next.map_or(name, |t| t.id.as_str());
    super::dirty::check_work_tree(
        repo,
        &tree,
        (name, &opts.continue_with),
        next,
        after_attempt,
    )?;
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
        let how = stopped_attempt(&status);
        notes.info(&format!(
            "continuing on top of the {how} attempt's changes; `git milestone rollback {name}` discards them"
        ));
        let now = reordered.as_ref().unwrap_or(plan);
        if let Some((moved, line)) =
            super::dirty::stopped_first(now, &mut status, how, &opts.continue_with)?
        {
            notes.info(&line);
            reordered = Some(moved);
        }
    }
    let plan = reordered.as_ref().unwrap_or(plan);
    let runners = resolve_runners(plan, &status, opts)?;
    let overridden = overridden_blocks(plan, &runners);
    if !overridden.is_empty() {
        notes.warn(&format!(
            "warning: --runner overrides the plan's own ```sh milestone block for {}",
            text::list(&overridden, 5)
        ));
    }
    check_programs(repo, &runners)?;
    super::prompt::check(repo, plan, opts, &runners)?;
    let committer = repo.committer()?;
    Ok(Prep::Run(Box::new(Prepared {
        status,
        resuming,
        tree,
        leftovers,
        runners,
        committer,
        plan: reordered,
    })))
}

/// What the record the run starts from says about the plan: tasks dropped
/// from it, ticked tasks whose attempt stopped, and the settings reused.
fn note_the_record(
    plan: &Plan,
    status: &Status,
    dropped: &[String],
    opts: &Options,
    notes: &mut Notes,
) {
    for id in dropped {
        let gone = if opts.sequence.as_ref().is_some_and(|s| s.skips(id)) {
            "is skipped by the recorded sequence".to_string()
        } else {
            format!("is no longer in {}", plan.plan)
        };
        notes.warn(&format!(
            "warning: {id} {gone}: dropped from the status file (its checkpoint, if any, stays in history)"
        ));
    }
    for (task, how) in progress::ticked_but_stopped(plan, status) {
        notes.warn(&format!(
            "warning: {} is marked done in {}, but its last attempt {how} and it has no checkpoint: it runs again",
            text::clean(task),
            text::clean(&plan.plan)
        ));
    }
    if !opts.reused.is_empty() {
        notes.info(&format!(
            "reusing the earlier run's {}",
            text::list(&opts.reused, opts.reused.len())
        ));
    }
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
pub(super) struct Notes(Vec<(bool, String)>);

impl Report for Notes {
    fn info(&mut self, line: &str) {
        self.0.push((false, line.to_string()));
    }
    fn warn(&mut self, line: &str) {
        self.0.push((true, line.to_string()));
    }
}

impl Notes {
    pub(super) fn replay(self, report: &mut dyn Report) {
        for (warn, line) in self.0 {
            if warn {
                report.warn(&line);
            } else {
                report.info(&line);
            }
        }
    }
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
        None => {
            let mut fresh = progress::fresh(plan, head);
            if opts.restart {
                let ran = repo.checkpoint_refs(name)?;
                super::write_back::reopen_marked(&mut fresh, |id| ran.contains_key(id));
            }
            Ok((fresh, false, Vec::new()))
        }
    }
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
        .hint(
            "rename the task in the plan: letters, digits, '-', '_', '#' and single dots inside the ID work",
        )),
    }
}

/// Whether the recorded run stopped in the middle of a task (failed,
/// interrupted, or killed while running) and was not rolled back, so the
/// work tree may hold that attempt's changes.
fn continues_an_attempt(status: &Status) -> bool {
    super::dirty::stopped_attempt(status).is_some()
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
    let index = crate::history::Checkpoints::read(repo, &status.milestone, status)?;
    for t in &mut status.tasks {
        if !matches!(t.state, TaskState::Done | TaskState::Skipped) || t.checkpoint.is_some() {
            continue;
        }
        if index.on_branch(repo, &t.id)?.is_some() {
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

pub(super) fn dry_run(
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
    dry_run_limits(opts, report);
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
        let argv = match r.agent {
            Some(agent) => agent_argv(agent, opts),
            None => {
                let mut argv = vec!["sh".to_string()];
                argv.extend(runner::shell_args(&r.command, r.script, &task.id));
                argv
            }
        };
        let over = match r.over {
            Some(RunnerSource::Plan) => {
                format!(", which overrides {}", RunnerSource::Plan.describe())
            }
            Some(other) => format!(", which takes precedence over {}", other.describe()),
            None => String::new(),
        };
        let what = if r.agent.is_some() { "agent" } else { "runner" };
        report.info(&format!(
            "    run: {}   ({what} from {}{over})",
            crate::ui::text::command_line(&argv),
            r.describe_source()
        ));
        let mut checks = opts.tasks.verify.clone();
        checks.extend(task.verify.iter().cloned());
        if !checks.is_empty() {
            let shown: Vec<String> = checks
                .iter()
                .map(|c| text::quote(&message::one_line(c)))
                .collect();
            report.info(&format!("    check: {}", shown.join(", ")));
        }
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

/// The dry run's lines for a time limit and a failure policy other than
/// the default, which change what a run does and so belong in its plan.
fn dry_run_limits(opts: &Options, report: &mut dyn Report) {
    if let Some(limit) = opts.timeout {
        report.info(&format!(
            "each task is stopped after {}",
            text::duration(limit)
        ));
    }
    if opts.policy != crate::failure::Policy::Stop {
        report.info(&format!(
            "a task that fails with no terminal to ask: --on-failure {}",
            opts.policy
        ));
    }
}

/// An agent's command line for the dry run, `<prompt>` for its prompt.
fn agent_argv(agent: Agent, opts: &Options) -> Vec<String> {
    let req = preset::Request {
        prompt: "<prompt>",
        extra: &opts.tasks.agent_args,
        resume: None,
        max_cost: opts.tasks.max_cost,
        scratch: std::path::Path::new("<log dir>"),
    };
    preset::build(agent, &req).map_or_else(|_| vec![agent.program().to_string()], |c| c.argv())
}
