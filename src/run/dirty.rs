//! A stopped attempt's changes in the work tree: they go into that task's
//! own checkpoint (it runs first when the plan now puts other tasks before
//! it), and the refusal of a run over uncommitted changes names which
//! task's checkpoint would take them and, when a stopped attempt (of this
//! milestone or another) may have left them, the commands that continue or
//! discard that attempt rather than a commit that would make its work the
//! user's.

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::repo::Repo;
use crate::repo::scan::WorkTree;
use crate::state::{self, Status, TaskState};
use crate::ui::text;

/// A milestone's attempt that stopped (failed, interrupted, or killed
/// while it ran) and was not rolled back: its changes may be in the tree.
pub(super) struct Stopped {
    pub(super) milestone: String,
    pub(super) task: String,
}

/// The stopped attempt `status` records, if its changes were not rolled back.
pub(super) fn stopped_attempt(status: &Status) -> Option<&str> {
    // A rollback discarded the attempt's changes: what is left is the user's.
    if status.failure.as_ref().is_some_and(|f| f.rolled_back) {
        return None;
    }
    // The task's state, not the run's: a run interrupted between tasks left
    // nothing behind.
    status
        .tasks
        .iter()
        .find(|t| {
            matches!(
                t.state,
                TaskState::Running | TaskState::Failed | TaskState::Interrupted
            )
        })
        .map(|t| t.id.as_str())
}

/// The stopped task continues on top of its attempt's changes, so it must
/// run before any other unfinished task, or another task's checkpoint would
/// take them (tasks added before it since, or an order changed). Returns
/// the plan in that order, `status` moved alike, and a line saying so; or
/// refuses when the task now waits for one of those tasks. `how` is how the
/// attempt ended, `again` the command that runs the milestone again.
pub(super) fn stopped_first(
    plan: &Plan,
    status: &mut Status,
    how: &str,
    again: &str,
) -> Result<Option<(Plan, String)>> {
    let Some(j) = status.tasks.iter().position(|t| {
        matches!(
            t.state,
            TaskState::Running | TaskState::Failed | TaskState::Interrupted
        )
    }) else {
        return Ok(None);
    };
    let ahead: Vec<&str> = plan.tasks[..j]
        .iter()
        .zip(&status.tasks[..j])
        .filter(|(_, s)| !s.state.is_finished())
        .map(|(t, _)| t.id.as_str())
        .collect();
    let Some(k) = status.tasks[..j]
        .iter()
        .position(|t| !t.state.is_finished())
    else {
        return Ok(None);
    };
    let id = text::clean(&plan.tasks[j].id);
    if let Some(dep) = plan.tasks[j].depends_on.iter().find(|d| ahead.contains(d)) {
        let dep = text::clean(dep);
        return Err(Error::refused(format!(
            "the {how} attempt of {id} left its changes in the work tree, but {id} now waits for {dep}, \
             which has not run: the checkpoint of {dep} would take them"
        ))
        .hint(format!(
            "discard them (saved under a ref first) with `git milestone rollback {}`, then `{again}`",
            text::quote(&status.milestone)
        )));
    }
    let shown: Vec<String> = ahead.iter().map(|a| text::clean(a).into_owned()).collect();
    let line = format!(
        "{id} runs first, before {}: its checkpoint takes its {how} attempt's changes",
        text::list(&shown, 5)
    );
    let mut plan = plan.clone();
    super::progress::move_task(&mut plan, status, j, k);
    Ok(Some((plan, line)))
}

/// Every milestone whose status file in the work tree records a stopped
/// attempt that was not rolled back (read only when a run is refused).
fn stopped_attempts(repo: &Repo) -> Vec<Stopped> {
    let Ok(entries) = std::fs::read_dir(repo.root().join(state::BUNDLES_DIR)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| state::validate_name(n).is_ok())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let status = Status::load(repo.root(), &name).ok()??;
            let task = stopped_attempt(&status)?.to_string();
            Some(Stopped {
                milestone: name,
                task,
            })
        })
        .collect()
}

/// A run needs a clean tree, so that a checkpoint holds only what its task
/// changed. Continuing after a failed or interrupted attempt starts from
/// what that attempt left, as a retry would. `next` is the task whose
/// checkpoint would take the changes; `again` the command that runs the
/// milestone with the settings given (the hints repeat it whole).
pub(super) fn check_work_tree(
    repo: &Repo,
    tree: &WorkTree,
    (name, again): (&str, &str),
    next: &str,
    after_attempt: bool,
) -> Result<()> {
    if after_attempt || tree.changed.is_empty() {
        return Ok(());
    }
    // A submodule is named with what changed inside it: `git status`
    // lists only its path.
    let mut submodules = Vec::new();
    // Only the paths shown are described; the rest are only counted.
    let shown: Vec<std::borrow::Cow<'_, str>> = tree
        .changed
        .iter()
        .enumerate()
        .map(
            |(i, p)| match (i < 5).then(|| repo.describe_submodule(p, 3)) {
                Some(Some(inside)) => {
                    // Absolute: `git -C` takes a directory, from where the user is.
                    submodules.push(text::quote_path(&repo.root().join(p)));
                    format!("{inside} in submodule {}", text::clean(p)).into()
                }
                Some(None) => text::clean(p),
                None => p.into(),
            },
        )
        .collect();
    let list = text::list(&shown, 5);
    let e = Error::refused(format!(
        "the work tree has uncommitted changes ({list}); the checkpoint of {}, the next task, would take them for its work",
        text::clean(next)
    ));
    let mut e = match stopped_attempts(repo).first() {
        Some(stopped) => stopped_hints(e, stopped, (name, again)),
        None => e.hint(format!(
            "commit them (`git commit -am ...`) or put them aside (`git stash`), then run `{again}` again"
        )),
    };
    if let Some(sub) = submodules.first() {
        e = e.hint(format!(
            "inside a submodule, commit or remove them there first (`git -C {sub} status`)"
        ));
    }
    Err(e)
}

/// The changes may be a stopped attempt's work: never suggest making them
/// the user's own commit; continue the attempt, or discard it (saved first).
/// A stopped task of this very milestone that the run cannot continue is
/// gone from its plan: only discarding is left.
fn stopped_hints(e: Error, stopped: &Stopped, (name, again): (&str, &str)) -> Error {
    let m = text::quote(&stopped.milestone);
    let task = text::clean(&stopped.task);
    let discard = format!(
        "discard them (saved under a ref first) with `git milestone rollback {m}`, then run `{again}` again"
    );
    if stopped.milestone == name {
        return e.hint(format!(
            "they are what the stopped attempt of {task} left, and {task} is no longer in the plan: {discard}"
        ));
    }
    e.hint(format!(
        "they may be what the stopped attempt of {task} of {} left: continue it with `git milestone run {m}`",
        text::clean(&stopped.milestone)
    ))
    .hint(format!("or {discard}"))
}
