//! The checks before a run, which write nothing: every refusal, the
//! record to start from (an earlier run's, lined up with the plan), whose
//! untracked files are whose, each task's runner. They make one value,
//! [`Prepared`], which `--dry-run` prints and the run starts from.

use std::borrow::Cow;

use super::runners::{self, TaskRunner};
use super::{Options, Report, progress};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::repo::Repo;
use crate::repo::ident::Committer;
use crate::repo::refs::task_id_fits_refs;
use crate::repo::scan::WorkTree;
use crate::state::{self, Status, TaskState, Untracked};
use crate::ui::text;

/// What the checks found: the plan in the order the run follows, what
/// the run starts from, and what the checks had to say.
pub(super) struct Prepared<'a> {
    /// The plan given, or reordered: a stopped task first
    /// (`dirty::stopped_first`), skipped tasks last.
    pub(super) plan: Cow<'a, Plan>,
    pub(super) start: Start,
    /// Held back until the run goes ahead (a refusal is all it prints).
    pub(super) notes: Notes,
}

/// What the run starts from (`begin.rs`).
pub(super) struct Start {
    pub(super) status: Status,
    /// This continues an earlier run (its status file was read).
    pub(super) resuming: bool,
    pub(super) untracked: Untracked,
    pub(super) runners: Vec<Option<TaskRunner>>,
    pub(super) committer: Committer,
    /// Checkpoints mark their task done in the plan (`milestone.markDone`).
    pub(super) mark_done: bool,
}

/// What the checks before a run lead to.
pub(super) enum Prep<'a> {
    Run(Box<Prepared<'a>>),
    /// Every task is finished: the record says so.
    AllDone(Box<Status>, Notes),
}

/// Every check and refusal before a run, writing nothing.
pub(super) fn prepare<'a>(repo: &Repo, plan: &'a Plan, opts: &Options) -> Result<Prep<'a>> {
    let name = state::validate_name(&plan.milestone)?;
    let mark_done = crate::config::mark_done(repo)?;
    state::check_bundle_path(repo.root(), name)?;
    check_task_ids(plan)?;
    let head = repo.check_can_run(opts.detach_ok)?;
    // Before the work tree is read: reading it refreshes the index.
    repo.check_writable()?;
    let mut notes = Notes::default();
    let mut record = the_record(repo, plan, opts, &head, &mut notes)?;
    if record.status.all_finished() {
        return Ok(Prep::AllDone(Box::new(record.status), notes));
    }
    let untracked = the_work_tree(repo, &mut record, opts, &mut notes)?;
    let Record {
        plan,
        mut status,
        resuming,
        ..
    } = record;
    let runners = runners::resolve(repo, &plan, &status, (opts, &mut notes))?;
    let committer = repo.committer()?;
    if let Some(seq) = &opts.sequence {
        status.follow(seq.clone());
    }
    let start = Start {
        status,
        resuming,
        untracked,
        runners,
        committer,
        mark_done,
    };
    Ok(Prep::Run(Box::new(Prepared { plan, start, notes })))
}

/// The record a run starts from, and the plan in the order it follows.
struct Record<'a> {
    plan: Cow<'a, Plan>,
    status: Status,
    resuming: bool,
    /// An earlier run was stopped after recording a task done but before
    /// its checkpoint commit: that task's attempt's end was never recorded.
    stopped_before_checkpoint: bool,
}

/// The earlier run's record lined up with the plan, or a fresh one; what
/// it says about the plan noted; a task recorded done without its
/// checkpoint commit runs again, and a milestone completed with skips runs
/// its skipped tasks again, last.
fn the_record<'a>(
    repo: &Repo,
    plan: &'a Plan,
    opts: &Options,
    head: &str,
    notes: &mut Notes,
) -> Result<Record<'a>> {
    let (mut status, resuming, dropped) = load_status(repo, plan, opts, head)?;
    note_the_record(plan, &status, &dropped, opts, notes);
    let stopped_before_checkpoint = resuming && unrecorded_checkpoints(repo, &mut status, notes)?;
    let mut plan = Cow::Borrowed(plan);
    if resuming && let Some((moved, skipped)) = progress::reopen_skipped(&plan, &mut status) {
        let ids: Vec<_> = skipped.iter().map(|id| text::clean(id)).collect();
        let tasks = if ids.len() == 1 { "task" } else { "tasks" };
        notes.info(&format!(
            "running the skipped {tasks} again: {}",
            text::list(&ids, 5)
        ));
        plan = Cow::Owned(moved);
    }
    Ok(Record {
        plan,
        status,
        resuming,
        stopped_before_checkpoint,
    })
}

/// The work tree's checks: no rollback stopped half way, nothing a
/// `--restart` would lose, no uncommitted changes unless the run continues
/// the stopped attempt that made them (its task then runs first). Returns
/// whose each untracked file is.
fn the_work_tree(
    repo: &Repo,
    record: &mut Record<'_>,
    opts: &Options,
    notes: &mut Notes,
) -> Result<Untracked> {
    let name = record.plan.milestone.clone();
    // A rollback stopped half way left a tree that is neither the
    // attempt's nor the checkpoint's.
    crate::rollback::refuse_unfinished(repo.git_dir(), &name)?;
    let tree = repo.work_tree()?;
    if opts.restart {
        check_restart(repo, &name, &tree)?;
    }
    let status = &mut record.status;
    let after_attempt = record.resuming && continues_an_attempt(status);
    let next = status.tasks.iter().find(|t| !t.state.is_finished());
    let next = next.map_or(name.as_str(), |t| t.id.as_str());
    let again = (name.as_str(), opts.continue_with.as_str());
    super::dirty::check_work_tree(repo, &tree, again, next, after_attempt)?;
    let untracked = if record.resuming {
        let killed = status.tasks.iter().any(|t| t.state == TaskState::Running);
        let unrecorded = record.stopped_before_checkpoint || killed;
        Untracked::resumed(
            repo,
            &name,
            tree.untracked.clone(),
            (after_attempt, unrecorded),
        )?
    } else {
        Untracked::new_run(repo, &name, tree.untracked.clone())
    };
    let changed = !tree.changed.is_empty() || tree.untracked.iter().any(|p| untracked.is_tasks(p));
    if after_attempt && changed {
        let how = stopped_attempt(status);
        notes.info(&format!(
            "continuing on top of the {how} attempt's changes; `git milestone rollback {name}` discards them"
        ));
        if let Some((moved, line)) =
            super::dirty::stopped_first(&record.plan, status, how, &opts.continue_with)?
        {
            notes.info(&line);
            record.plan = Cow::Owned(moved);
        }
    }
    Ok(untracked)
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
                fresh.reopen_marked(|id| ran.contains_key(id));
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
    let killed = old.tasks.iter().any(|t| t.state == TaskState::Running);
    let untracked = tree.untracked.clone();
    let leftovers = Untracked::resumed(repo, name, untracked, (true, killed))?;
    let mut files: Vec<String> = tree.changed.clone();
    files.extend(
        tree.untracked
            .iter()
            .filter(|p| leftovers.is_tasks(p))
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

/// A run killed after recording a task as done but before its checkpoint
/// commit reached the branch left the task's work uncommitted: such a task
/// runs again, so that every finished task has its own checkpoint. Returns
/// whether there was one.
fn unrecorded_checkpoints(
    repo: &Repo,
    status: &mut Status,
    report: &mut dyn Report,
) -> Result<bool> {
    let index = crate::history::Checkpoints::read(repo, &status.milestone, status)?;
    let mut unrecorded = Vec::new();
    for t in &status.tasks {
        if t.state != TaskState::Done || t.checkpoint.is_some() {
            continue;
        }
        if index.on_branch(repo, &t.id)?.is_none() {
            unrecorded.push(t.id.clone());
        }
    }
    for id in &unrecorded {
        // Stopped between saving the status file and committing: its work is
        // in the tree, uncommitted. As an interrupted task it runs again on
        // top of that work, and its own checkpoint holds it.
        report.warn(&format!(
            "warning: {id} is recorded as done but has no checkpoint commit (an earlier run was stopped): it runs again"
        ));
        status.not_checkpointed(id);
    }
    Ok(!unrecorded.is_empty())
}
