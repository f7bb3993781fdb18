//! Which checkpoint a rollback goes back to, which commits after it are
//! the run's own, and the status file's tasks once their checkpoints are
//! taken off.

use std::collections::HashSet;

use super::rollback::Request;
use crate::error::{Error, Result};
use crate::repo::rollback::DiscardedCommit;
use crate::repo::{Repo, refs};
use crate::state::{self, RunState, Status, TaskState};

pub(super) fn resolve_target(
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
pub(super) fn run_made(repo: &Repo, status: &Status, target: &str) -> Result<HashSet<String>> {
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

pub(super) fn oids(commits: Vec<DiscardedCommit>) -> HashSet<String> {
    commits.into_iter().map(|c| c.oid).collect()
}

/// The task ID that names the saved attempt's ref: the failed task, or the
/// first task whose checkpoint is taken off, or the first unfinished one.
pub(super) fn attempt_task(
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
pub(super) fn forget_discarded(
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
    if status.state.is_completed() && status.tasks.iter().any(|t| t.state == TaskState::Pending) {
        status.state = RunState::Running;
    }
    Ok(())
}
