//! What a killed `run --jobs` left behind: a task's merge brought into the
//! work tree but never committed (the `integrating` note in the journal),
//! and task worktrees. Their work is under attempt refs, or is saved there
//! now; then they go, so the next run starts from the last checkpoint.

use std::path::Path;

use crate::error::{Context, Result};
use crate::plan::Plan;
use crate::repo::Repo;
use crate::run::Report;
use crate::state;

/// The note's file in the milestone's journal.
const NOTE: &str = "integrating";

/// Note, before the work tree moves, which task's merge it is about to
/// hold: HEAD before, and the merged tree.
pub(super) fn note(repo: &Repo, name: &str, task: &str, head: &str, tree: &str) -> Result<()> {
    let path = state::journal_dir(repo.git_dir(), name)?.join(NOTE);
    state::replace_file(&path, format!("{task}\n{head}\n{tree}\n").as_bytes())
}

/// The work tree holds no merge of a task that is not committed.
pub(super) fn clear(repo: &Repo, name: &str) -> Result<()> {
    let path = state::journal_dir(repo.git_dir(), name)?.join(NOTE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Under the run lock, before anything runs: put back a merge a killed run
/// left uncommitted in the work tree (when the work tree holds exactly
/// that merge; its work is saved under an attempt ref), and save and
/// remove the task worktrees it left.
pub(crate) fn after_kill(repo: &Repo, plan: &Plan, report: &mut dyn Report) -> Result<()> {
    let name = &plan.milestone;
    let path = state::journal_dir(repo.git_dir(), name)?.join(NOTE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let mut lines = text.lines();
        let (task, head, tree) = (lines.next(), lines.next(), lines.next());
        if let (Some(task), Some(head), Some(tree)) = (task, head, tree) {
            put_back(repo, plan, (task, head, tree), report)?;
        }
        clear(repo, name)?;
    }
    let dir = repo.task_worktrees_dir(name);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let dir_name = entry.file_name().to_string_lossy().into_owned();
        let task = plan
            .tasks
            .iter()
            .find(|t| super::safe(&t.id) == dir_name)
            .map_or(dir_name.as_str(), |t| t.id.as_str());
        save_worktree(repo, name, task, &path, report)?;
    }
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

/// The work tree holds `task`'s merge onto `head`, uncommitted: put it back.
fn put_back(
    repo: &Repo,
    plan: &Plan,
    (task, head, tree): (&str, &str, &str),
    report: &mut dyn Report,
) -> Result<()> {
    let name = &plan.milestone;
    if repo.head_commit()? != head {
        // Its checkpoint was committed.
        return Ok(());
    }
    let status = state::status_rel_path(name)?;
    // The checkpoint writes both (the plan: its task's mark).
    if !repo.holds_exactly(tree, &[&status, &plan.plan])? {
        report.warn(&format!(
            "warning: a run stopped while bringing {task}'s changes into the work tree, which has changed since; left as it is"
        ));
        return Ok(());
    }
    repo.reset_work_tree(head)?;
    report.info(&format!(
        "{task}'s changes, brought into the work tree by a run that was stopped before its checkpoint, were taken out again (they are saved under refs/milestone/{name}/attempts/)"
    ));
    Ok(())
}

/// Save what the worktree at `path` holds under an attempt ref of `task`,
/// then remove it (a directory git does not know as a worktree is only
/// removed).
fn save_worktree(
    repo: &Repo,
    name: &str,
    task: &str,
    path: &Path,
    report: &mut dyn Report,
) -> Result<()> {
    let tree = repo.task_tree(path);
    if Repo::is_worktree(path) {
        let saved = repo.next_attempt_ref(name, task).and_then(|(saved, n)| {
            let message = format!(
                "Attempt at {task} ({name}) in its own worktree, left by a run that was stopped\n\n\
                 Milestone-Attempt: {name} {task} {n}\n"
            );
            tree.save(&saved, &message, &[]).map(|_| saved)
        });
        match saved {
            Ok(saved) => report.info(&format!(
                "{task}'s worktree, left by a run that was stopped, is saved as {saved} and removed"
            )),
            Err(e) => {
                report.warn(&format!(
                    "warning: {task}'s worktree at {} could not be saved ({e}); left as it is",
                    path.display()
                ));
                return Ok(());
            }
        }
    }
    tree.remove();
    Ok(())
}
