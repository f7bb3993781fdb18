//! Which checkpoint a rollback goes back to, which commits after it are
//! the run's own, and the status file's tasks once their checkpoints are
//! taken off.

use std::collections::HashSet;

use super::Request;
use crate::error::{Error, Result};
use crate::repo::rollback::DiscardedCommit;
use crate::repo::{Repo, refs};
use crate::state::{self, RunState, Status, TaskState};
use crate::ui::text::{clean, list, quote};

pub(super) fn resolve_target(
    repo: &Repo,
    req: &Request<'_>,
    status: &Status,
    checkpoints: &[(String, String)],
) -> Result<(String, String)> {
    let name = req.milestone;
    if let Some(typed) = req.to {
        return named_checkpoint(name, typed, checkpoints);
    }
    let mut wanted: HashSet<String> = checkpoints.iter().map(|(_, o)| o.clone()).collect();
    wanted.extend(status.base_commit.clone());
    let Some(target) = repo.first_on_head_line(&wanted)? else {
        return Err(Error::refused(format!(
            "nothing to roll back to: HEAD does not descend from any checkpoint of {name}, \
             nor from the commit its run started from"
        ))
        .hint(format!(
            "see where it stands: git milestone status {}",
            quote(name)
        )));
    };
    let label = checkpoint_label(checkpoints, &target);
    Ok((target, label))
}

/// How messages name commit `target`: the checkpoint of its task, else
/// the commit the run started from.
pub(super) fn checkpoint_label(checkpoints: &[(String, String)], target: &str) -> String {
    match checkpoints.iter().find(|(_, o)| *o == target) {
        Some((id, _)) => format!("the checkpoint of {id}"),
        None => "the commit the run started from".to_string(),
    }
}

/// The checkpoint of the task the user typed (`--to`): its ID as written,
/// or with or without its unit word or `#` (`Task 3` or `3`, `#204` or
/// `204`), as `plan::id_matches` compares them; an exact ID wins.
fn named_checkpoint(
    name: &str,
    typed: &str,
    checkpoints: &[(String, String)],
) -> Result<(String, String)> {
    let found: Vec<&(String, String)> = match checkpoints.iter().find(|(t, _)| t == typed) {
        Some(exact) => vec![exact],
        None => checkpoints
            .iter()
            .filter(|(t, _)| crate::plan::id_matches(t, typed))
            .collect(),
    };
    let ids = |list: &[&(String, String)]| -> Vec<String> {
        list.iter().map(|(t, _)| clean(t).into_owned()).collect()
    };
    match found.as_slice() {
        [(id, oid)] => Ok((oid.clone(), format!("the checkpoint of {}", clean(id)))),
        [] => Err(Error::bad_input(format!(
            "{name} has no checkpoint for task {}",
            clean(typed)
        ))
        .hint(if checkpoints.is_empty() {
            format!(
                "no task of {name} has a checkpoint yet; roll back to the start with `git milestone rollback {}`",
                quote(name)
            )
        } else {
            let all: Vec<&(String, String)> = checkpoints.iter().collect();
            format!("tasks with a checkpoint: {}", ids(&all).join(", "))
        })),
        many => Err(Error::bad_input(format!(
            "task {} could be any of {}",
            clean(typed),
            list(&ids(many), many.len())
        ))
        .hint(format!(
            "name one exactly, e.g. `git milestone rollback {} --to {}`",
            quote(name),
            quote(&many[0].0)
        ))),
    }
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
        status.forget(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cps(ids: &[&str]) -> Vec<(String, String)> {
        ids.iter()
            .map(|id| (id.to_string(), format!("oid-of-{id}")))
            .collect()
    }

    #[test]
    fn a_typed_task_id_finds_its_checkpoint_and_an_exact_id_wins() {
        let found = |typed| named_checkpoint("M1", typed, &cps(&["#3", "3", "T4"])).map(|f| f.0);
        assert_eq!(found("3").unwrap(), "oid-of-3");
        assert_eq!(found("#3").unwrap(), "oid-of-#3");
        assert_eq!(found("t4").unwrap(), "oid-of-T4");
        let e = found("Task 3").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: task Task 3 could be any of #3 and 3\n\
             hint: name one exactly, e.g. `git milestone rollback M1 --to '#3'`"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
