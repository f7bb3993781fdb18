//! Rolling a milestone back safely: which checkpoint, which commits may be
//! taken off the branch, saving the discarded work first, the status file
//! afterwards, and `--undo`.
//!
//! The last rollback of each milestone is recorded in the local run journal
//! (`<git-dir>/milestone/<name>/last-rollback.json`) so `--undo` knows what
//! to restore and can check that nothing moved since.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::SavedAttempt;
use crate::error::{Context, Error, Result};
use crate::lock::RunLock;
use crate::repo::rollback::{Changed, DiscardedCommit, is_kept};
use crate::repo::scan::Scope;
use crate::repo::short_oid as short;
use crate::repo::{Repo, refs};
use crate::state::{self, RunState, Status, TaskState};

const JOURNAL_FILE: &str = "last-rollback.json";

/// What the last rollback did, for `--undo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    version: u32,
    saved_ref: String,
    saved_commit: String,
    /// The checkpoint HEAD was put at.
    checkpoint: String,
}

/// `git milestone rollback <name> [--to <ID>] [--force]`.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub milestone: &'a str,
    /// Roll back to this task's checkpoint instead of the last one.
    pub to: Option<&'a str>,
    /// Take off commits the run did not make, or that were pushed.
    pub force: bool,
}

/// What a rollback did, for the command to report.
#[derive(Debug, Clone)]
pub struct RolledBack {
    pub checkpoint: String,
    /// `the checkpoint of TASK-001` or `the commit the run started from`.
    pub checkpoint_label: String,
    pub commits_removed: usize,
    pub saved: SavedAttempt,
}

/// What `--undo` did.
#[derive(Debug, Clone)]
pub struct Undone {
    pub saved_ref: String,
    pub head: String,
}

/// The run loop's rollback: only the commits since `started_from` (HEAD
/// when the failed task started) are the task's own; any other commit
/// after `checkpoint`, or a pushed one, stops it before anything changes.
pub fn attempt(
    repo: &Repo,
    milestone: &str,
    task: &str,
    checkpoint: &str,
    started_from: &str,
) -> Result<SavedAttempt> {
    state::validate_name(milestone)?;
    // git walks the work tree while the checks below run.
    repo.prefetch_scan(Scope::Rollback);
    refuse_operation(repo, milestone)?;
    // One status walk serves every check, the save and the restore: none
    // of them changes the work tree before the restore's removals.
    let changed = repo.changed_paths()?;
    // The untracked files from before the run, read once: never saved,
    // never removed.
    let snapshot = state::read_untracked_snapshot(repo.git_dir(), milestone)?;
    refuse_unsavable(repo, milestone, &changed, &snapshot)?;
    let head = head_or_refuse(repo, milestone)?;
    let discarded = repo.commits_after(checkpoint, &head)?;
    let own = if repo.is_ancestor(started_from, &head)? {
        oids(repo.commits_after(started_from, &head)?)
    } else {
        HashSet::new()
    };
    let target = (checkpoint, "the last checkpoint");
    refuse_unowned(repo, milestone, target, &head, &discarded, &own)?;
    refuse_pushed(repo, milestone, &discarded)?;
    save_and_restore(repo, milestone, task, checkpoint, (&changed, snapshot))
}

/// The `rollback` command: checks, save, restore, then the status file.
pub fn roll_back(repo: &Repo, req: &Request<'_>) -> Result<RolledBack> {
    let name = state::validate_name(req.milestone)?;
    // Never under a run's feet: the run lock is held until we return.
    let _lock = RunLock::acquire(repo.common_dir(), name)?;
    // git walks the work tree while the checks below run.
    repo.prefetch_scan(Scope::Rollback);
    let Some(mut status) = Status::load(repo.root(), name)? else {
        return Err(no_run(name));
    };
    refuse_operation(repo, name)?;
    let changed = repo.changed_paths()?;
    let snapshot = state::read_untracked_snapshot(repo.git_dir(), name)?;
    refuse_unsavable(repo, name, &changed, &snapshot)?;
    let head = head_or_refuse(repo, name)?;
    let checkpoints = checkpoints(repo, name, &status)?;
    let (target, label) = resolve_target(repo, req, &status, &checkpoints)?;
    let discarded = repo.commits_after(&target, &head)?;
    if !req.force {
        let own = run_made(repo, &status, &target)?;
        refuse_unowned(repo, name, (&target, &label), &head, &discarded, &own)?;
        refuse_pushed(repo, name, &discarded)?;
    }
    if discarded.is_empty() && work_tree_matches(name, &changed, &snapshot)? {
        return Err(Error::refused(format!(
            "nothing to roll back: {name} is already at {label} ({}) with no changes",
            short(&target)
        ))
        .hint(format!("see where it stands: git milestone status {name}")));
    }
    let discarded_oids: HashSet<&str> = discarded.iter().map(|c| c.oid.as_str()).collect();
    let task = attempt_task(&status, &checkpoints, &discarded_oids);
    let saved = save_and_restore(repo, name, &task, &target, (&changed, snapshot))?;
    forget_discarded(repo, name, &mut status, &checkpoints, &discarded_oids)?;
    if let Some(f) = status.failure.as_mut() {
        f.rolled_back = true;
        f.saved_ref = Some(saved.ref_name.clone());
    }
    status.updated_at = state::now();
    status.save(repo.root())?;
    Ok(RolledBack {
        checkpoint: target,
        checkpoint_label: label,
        commits_removed: discarded.len(),
        saved,
    })
}

/// `rollback --undo`: bring back the work the last rollback saved.
pub fn undo(repo: &Repo, milestone: &str, force: bool) -> Result<Undone> {
    let name = state::validate_name(milestone)?;
    let _lock = RunLock::acquire(repo.common_dir(), name)?;
    let journal = state::journal_dir(repo.git_dir(), name)?.join(JOURNAL_FILE);
    let record = read_record(&journal, name)?;
    refuse_operation(repo, name)?;
    let head = head_or_refuse(repo, name)?;
    if head != record.checkpoint && !force {
        return Err(Error::refused(format!(
            "HEAD moved since the rollback of {name} (it was {}, it is {})",
            short(&record.checkpoint),
            short(&head)
        ))
        .hint(format!(
            "to restore the saved work over it anyway: git milestone rollback {name} --undo --force"
        )));
    }
    let mut keep = state::read_untracked_snapshot(repo.git_dir(), name)?;
    keep.push(state::status_rel_path(name)?);
    let dirty: Vec<String> = repo
        .changed_paths()?
        .iter()
        .filter(|p| !is_kept(p, &keep))
        .cloned()
        .collect();
    if !dirty.is_empty() {
        return Err(Error::refused(format!(
            "the work tree has changes that restoring the saved work would overwrite: {}",
            list(&dirty)
        ))
        .hint("commit or stash them first: git stash push --include-untracked"));
    }
    let saved = repo.ref_target(&record.saved_ref)?.ok_or_else(|| {
        Error::refused(format!("{} no longer exists", record.saved_ref)).hint(format!(
            "list what is left: git for-each-ref refs/milestone/{name}/"
        ))
    })?;
    repo.restore_saved(&saved)?;
    let head = head_or_refuse(repo, name)?;
    for c in repo.commits_after(&record.checkpoint, &head)? {
        if let (Some(m), Some(task)) = (&c.milestone, &c.task)
            && m == name
        {
            let r = refs::checkpoint_ref(name, task);
            repo.set_ref(&r, &c.oid, "milestone: rollback --undo")?;
        }
    }
    std::fs::remove_file(&journal)
        .with_context(|| format!("cannot remove {}", journal.display()))?;
    Ok(Undone {
        saved_ref: record.saved_ref,
        head,
    })
}

/// The last rollback's record, or a refusal when there is none.
fn read_record(journal: &std::path::Path, name: &str) -> Result<Record> {
    match std::fs::read(journal) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("cannot read {}", journal.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::refused(format!(
            "nothing to undo: no rollback of {name} is recorded in this work tree"
        ))
        .hint(format!(
            "saved attempts are kept under refs/milestone/{name}/attempts/; list them with \
             `git for-each-ref refs/milestone/{name}/attempts/`"
        ))),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", journal.display())),
    }
}

/// Save the work tree under the next attempt ref, then put everything back
/// at `checkpoint`, keeping the status file and the run's untracked files.
/// `changed` is the work tree's status, read once by the caller.
fn save_and_restore(
    repo: &Repo,
    name: &str,
    task: &str,
    checkpoint: &str,
    (changed, snapshot): (&Changed, Vec<String>),
) -> Result<SavedAttempt> {
    let n = repo
        .refs_under(&refs::attempts_prefix(name, task))?
        .iter()
        .filter_map(|(n, _)| n.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let ref_name = refs::attempt_ref(name, task, n);
    if !Repo::is_valid_ref_name(&ref_name) {
        return Err(Error::bad_input(format!(
            "task ID {task:?} cannot be used in a ref name ({ref_name})"
        )));
    }
    let message = format!(
        "Failed attempt at {task} ({name}), saved before a rollback\n\n\
         Milestone-Attempt: {name} {task} {n}\n"
    );
    let hidden = repo.hidden_since(checkpoint, changed)?;
    let commit = repo.save_work_tree(&ref_name, &message, &snapshot, (changed, &hidden))?;
    let record = Record {
        version: 1,
        saved_ref: ref_name.clone(),
        saved_commit: commit.clone(),
        checkpoint: checkpoint.to_string(),
    };
    let journal = state::journal_dir(repo.git_dir(), name)?.join(JOURNAL_FILE);
    let bytes = serde_json::to_vec_pretty(&record).context("cannot encode the rollback record")?;
    state::write_atomically(&journal, &bytes)?;
    let mut keep = snapshot;
    keep.push(state::status_rel_path(name)?);
    repo.restore_checkpoint(checkpoint, &keep, (changed, hidden))?;
    Ok(SavedAttempt {
        restore_command: format!("git milestone rollback {name} --undo"),
        plain_git_command: format!(
            "git read-tree -u --reset {ref_name} && git reset -q {ref_name}~1"
        ),
        ref_name,
        commit,
    })
}

/// The checkpoint to go back to, and how to name it to the user.
/// Each task's checkpoint: for a task the status file records as done or
/// skipped, the one in this branch's history since the run began, where
/// there is one; else its checkpoint ref. The refs are shared by every
/// worktree, and another one may run a milestone of the same name; and a
/// commit with the trailers of a task this run has not finished is an
/// earlier run's (rebased, say), not a checkpoint of this one.
fn checkpoints(repo: &Repo, name: &str, status: &Status) -> Result<Vec<(String, String)>> {
    let finished = |task: &str| {
        status
            .tasks
            .iter()
            .any(|t| t.id == task && matches!(t.state, TaskState::Done | TaskState::Skipped))
    };
    let mut found: Vec<(String, String)> = match &status.base_commit {
        Some(base) => repo
            .checkpoints_on_branch(name, base)?
            .into_iter()
            .filter(|(task, _)| finished(task))
            .collect(),
        None => Vec::new(),
    };
    for (task, oid) in repo.refs_under(&format!("{}/", refs::checkpoints_prefix(name)))? {
        if !found.iter().any(|(t, _)| *t == task) {
            found.push((task, oid));
        }
    }
    found.sort();
    Ok(found)
}

fn resolve_target(
    repo: &Repo,
    req: &Request<'_>,
    status: &Status,
    checkpoints: &[(String, String)],
) -> Result<(String, String)> {
    let name = req.milestone;
    if let Some(id) = req.to {
        return match checkpoints.iter().find(|(t, _)| t == id) {
            Some((_, oid)) => Ok((oid.clone(), format!("the checkpoint of {id}"))),
            None => Err(Error::bad_input(format!("{name} has no checkpoint for task {id}"))
                .hint(if checkpoints.is_empty() {
                    format!("no task of {name} has a checkpoint yet; roll back to the start with `git milestone rollback {name}`")
                } else {
                    let ids: Vec<&str> = checkpoints.iter().map(|(t, _)| t.as_str()).collect();
                    format!("tasks with a checkpoint: {}", ids.join(", "))
                })),
        };
    }
    let mut wanted: HashSet<String> = checkpoints.iter().map(|(_, o)| o.clone()).collect();
    wanted.extend(status.base_commit.clone());
    let Some(target) = repo.first_on_head_line(&wanted)? else {
        return Err(Error::refused(format!(
            "nothing to roll back to: HEAD does not descend from any checkpoint of {name}, \
             nor from the commit its run started from"
        ))
        .hint(format!("see where it stands: git milestone status {name}")));
    };
    let label = match checkpoints.iter().find(|(_, o)| *o == target) {
        Some((id, _)) => format!("the checkpoint of {id}"),
        None => "the commit the run started from".to_string(),
    };
    Ok((target, label))
}

/// The commits after `target` that the run made or adopted, or that its
/// failed task made (up to the HEAD recorded when it failed).
fn run_made(repo: &Repo, status: &Status, target: &str) -> Result<HashSet<String>> {
    let mut own: HashSet<String> = status
        .tasks
        .iter()
        .flat_map(|t| t.adopted_commits.iter().cloned())
        .collect();
    if let Some(h) = status.failure.as_ref().and_then(|f| f.head.as_ref())
        && status.state == RunState::Failed
        && repo.commit_exists(h)
    {
        own.extend(oids(repo.commits_after(target, h)?));
    }
    Ok(own)
}

fn oids(commits: Vec<DiscardedCommit>) -> HashSet<String> {
    commits.into_iter().map(|c| c.oid).collect()
}

/// Refuse to move the branch sideways, or to take off commits that are
/// neither the run's checkpoints (by their trailer) nor in `own`.
/// `target` is the checkpoint's oid and how to name it.
fn refuse_unowned(
    repo: &Repo,
    name: &str,
    target: (&str, &str),
    head: &str,
    discarded: &[DiscardedCommit],
    own: &HashSet<String>,
) -> Result<()> {
    let (oid, label) = target;
    if !repo.is_ancestor(oid, head)? {
        return Err(Error::refused(format!(
            "HEAD does not descend from {label} ({}); rolling back would move the branch sideways",
            short(oid)
        ))
        .hint(format!(
            "to do it anyway: git milestone rollback {name} --force"
        )));
    }
    let foreign: Vec<String> = discarded
        .iter()
        .filter(|c| c.milestone.as_deref() != Some(name) && !own.contains(&c.oid))
        .map(|c| format!("{} {}", short(&c.oid), c.summary))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "HEAD has {} commit(s) after the checkpoint that the run of {name} did not make: {}",
        foreign.len(),
        list(&foreign)
    ))
    .hint(
        "nothing was changed; move those commits to another branch first (`git branch keep-work`)",
    )
    .hint(format!(
        "or take them off too (they are saved under a ref): git milestone rollback {name} --force"
    )))
}

fn refuse_pushed(repo: &Repo, name: &str, discarded: &[DiscardedCommit]) -> Result<()> {
    let oids: Vec<String> = discarded.iter().map(|c| c.oid.clone()).collect();
    let pushed = repo.pushed(&oids)?;
    if pushed.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = pushed.iter().map(|o| short(o).to_string()).collect();
    Err(Error::refused(format!(
        "{} commit(s) that a rollback would take off the branch were already pushed: {}",
        pushed.len(),
        list(&shown)
    ))
    .hint("nothing was changed; to undo published work, add a commit with `git revert`")
    .hint(format!("or roll back anyway (others keep the pushed commits): git milestone rollback {name} --force")))
}

fn refuse_operation(repo: &Repo, name: &str) -> Result<()> {
    match repo.operation_in_progress() {
        None => Ok(()),
        Some(op) => Err(Error::refused(format!(
            "{} is in progress; {name} cannot be rolled back in the middle of it",
            op.what
        ))
        .hint(format!("{}; then roll back", op.hint))),
    }
}

/// Refuse changes a rollback could not save (files from before the run,
/// in `snapshot`, are never saved, so never in the way).
fn refuse_unsavable(
    repo: &Repo,
    name: &str,
    changed: &[String],
    snapshot: &[String],
) -> Result<()> {
    refuse_nested(repo, name, changed, snapshot)?;
    refuse_unreadable_names(name, changed, snapshot)
}

/// Refuse a repository the task made inside the work tree: it can be
/// neither saved in the attempt's tree nor safely deleted.
fn refuse_nested(repo: &Repo, name: &str, changed: &[String], snapshot: &[String]) -> Result<()> {
    let nested: Vec<String> = repo
        .nested_repositories(changed)
        .into_iter()
        .filter(|p| !is_kept(p, snapshot))
        .collect();
    if nested.is_empty() {
        return Ok(());
    }
    let (what, it) = if nested.len() == 1 {
        ("is a git repository", "it")
    } else {
        ("are git repositories", "them")
    };
    let paths = list(&nested);
    Err(Error::refused(format!(
        "{paths} {what} inside the work tree, which a rollback cannot save"
    ))
    .hint(format!(
        "nothing was changed; move {paths} out of the work tree (or add {it} as a submodule), \
         then `git milestone rollback {name}`"
    )))
}

/// Refuse a changed file whose name is not UTF-8 (other than one of the
/// user's from before the run): a rollback could neither save it nor
/// remove it exactly.
fn refuse_unreadable_names(name: &str, changed: &[String], snapshot: &[String]) -> Result<()> {
    let odd: Vec<String> = changed
        .iter()
        .filter(|p| p.contains('\u{FFFD}') && !is_kept(p, snapshot))
        .cloned()
        .collect();
    if odd.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "{} changed, and a rollback cannot save a file whose name is not UTF-8",
        list(&odd)
    ))
    .hint(format!(
        "nothing was changed; keep the work with `git stash push --include-untracked`, then go back with `git reset --keep <checkpoint>` (see `git milestone status {name}`)"
    )))
}

fn head_or_refuse(repo: &Repo, name: &str) -> Result<String> {
    repo.head_if_born()?.ok_or_else(|| {
        Error::refused(format!(
            "nothing to roll back to: the branch has no commits, so {name} has no checkpoint"
        ))
        .hint(format!(
            "start the milestone with `git milestone run {name}`"
        ))
    })
}

fn no_run(name: &str) -> Error {
    Error::refused(format!(
        "nothing to roll back: milestone {name} has no run in this work tree ({} is missing)",
        state::status_rel_path(name).unwrap_or_default()
    ))
    .hint("list the milestones that have run: git milestone status")
}

/// Whether the work tree has no changes outside the status file and the
/// run's own untracked files.
fn work_tree_matches(name: &str, changed: &[String], snapshot: &[String]) -> Result<bool> {
    let mut keep = snapshot.to_vec();
    keep.push(state::status_rel_path(name)?);
    Ok(changed.iter().all(|p| is_kept(p, &keep)))
}

/// The task ID that names the saved attempt's ref: the failed task, or the
/// first task whose checkpoint is taken off, or the first unfinished one.
fn attempt_task(
    status: &Status,
    checkpoints: &[(String, String)],
    discarded: &HashSet<&str>,
) -> String {
    if status.state == RunState::Failed
        && let Some(f) = &status.failure
    {
        return f.task.clone();
    }
    let discarded_task = |t: &&state::TaskStatus| {
        checkpoints
            .iter()
            .any(|(id, oid)| *id == t.id && discarded.contains(oid.as_str()))
    };
    status
        .tasks
        .iter()
        .find(discarded_task)
        .or_else(|| status.tasks.iter().find(|t| t.state != TaskState::Done))
        .map_or_else(|| "manual".to_string(), |t| t.id.clone())
}

/// Mark the tasks whose checkpoints were taken off as pending again and drop
/// their checkpoint refs (`--undo` recreates them from the commits' trailers).
fn forget_discarded(
    repo: &Repo,
    name: &str,
    status: &mut Status,
    checkpoints: &[(String, String)],
    discarded: &HashSet<&str>,
) -> Result<()> {
    for (id, oid) in checkpoints {
        if !discarded.contains(oid.as_str()) {
            continue;
        }
        // Unless another worktree's run of the same name moved it since.
        let r = refs::checkpoint_ref(name, id);
        if repo.ref_target(&r)?.as_deref() == Some(oid.as_str()) {
            repo.delete_ref(&r)?;
        }
        if let Some(t) = status.task_mut(id) {
            t.state = TaskState::Pending;
            t.checkpoint = None;
            t.exit_code = None;
            t.started_at = None;
            t.ended_at = None;
            t.duration_ms = None;
            t.adopted_commits.clear();
        }
    }
    if status.state == RunState::Completed
        && status.tasks.iter().any(|t| t.state == TaskState::Pending)
    {
        status.state = RunState::Running;
    }
    Ok(())
}

/// At most five items, then how many more.
fn list(items: &[String]) -> String {
    let mut s = items.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 5 {
        s.push_str(&format!(" and {} more", items.len() - 5));
    }
    s
}
