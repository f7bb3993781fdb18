//! A task's work inside submodules, which the superproject's status walk
//! leaves out: saved as a commit in each submodule under the attempt's
//! ref name, recorded in the saved attempt (its tree points at that
//! commit, its message names it), put back at the checkpoint's commit by
//! the restore, and brought back by `--undo`.

use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::repo::rollback::Hidden;
use crate::repo::submodule::SubmoduleWork;
use crate::ui::text::{clean, is_are, list, quote};

const TRAILER: &str = "Milestone-Submodule: ";

/// The submodules holding work since `checkpoint`, or a refusal naming any
/// the rollback could not put back (one the task added).
pub(super) fn with_work(repo: &Repo, name: &str, checkpoint: &str) -> Result<Vec<SubmoduleWork>> {
    let subs = repo.submodules_with_work(checkpoint)?;
    let added: Vec<String> = subs
        .iter()
        .filter(|s| s.target.is_none())
        .map(|s| clean(&s.path).into_owned())
        .collect();
    if added.is_empty() {
        return Ok(subs);
    }
    let paths = list(&added, 5);
    Err(Error::refused(format!(
        "{paths} {} a submodule the task added since the checkpoint, which a rollback cannot put back",
        is_are(added.len())
    ))
    .hint(format!(
        "nothing was changed; save its work, take it out (`git rm -r --cached {}` and move the directory \
         out of the work tree), then `git milestone rollback {}`",
        // `:/`: from the root, wherever the user is.
        quote(&format!(":/{}", subs.iter().find(|s| s.target.is_none()).expect("one").path)),
        quote(name)
    )))
}

/// Save each submodule's work (its commits, edits and untracked files) as
/// a commit on top of its HEAD, under `ref_name` in the submodule. Returns
/// each submodule's path and saved commit.
pub(super) fn save(
    repo: &Repo,
    subs: &[SubmoduleWork],
    ref_name: &str,
    message: &str,
) -> Result<Vec<(String, String)>> {
    let mut saved = Vec::new();
    for s in subs {
        let sub = repo.submodule(&s.path)?;
        if sub.head_if_born()?.is_none() {
            continue;
        }
        let changed = sub.changed_paths()?;
        let commit = sub
            .save_work_tree(ref_name, message, &[], (&changed, &Hidden::none()), &[])
            .map_err(|e| e.hint(format!("in submodule {}", clean(&s.path))))?;
        saved.push((s.path.clone(), commit));
    }
    Ok(saved)
}

/// Put each submodule back at the commit the checkpoint records: HEAD,
/// index and work tree, its untracked files removed (they are saved).
/// Returns the files removed, as superproject paths.
pub(super) fn restore(repo: &Repo, subs: &[SubmoduleWork]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for s in subs {
        let Some(target) = &s.target else { continue };
        let sub = repo.submodule(&s.path)?;
        let changed = sub.changed_paths()?;
        let gone = sub.restore_checkpoint(target, &[], (&changed, Hidden::none()), None)?;
        removed.extend(gone.into_iter().map(|p| format!("{}/{p}", s.path)));
    }
    Ok(removed)
}

/// The saved attempt's message lines naming each submodule's save.
pub(super) fn trailers(saved: &[(String, String)]) -> String {
    saved
        .iter()
        .map(|(path, commit)| format!("{TRAILER}{path} {commit}\n"))
        .collect()
}

/// `--undo`'s part: each submodule the saved attempt `message` names gets
/// its saved work back, as the superproject does.
pub(super) fn undo(repo: &Repo, message: &str) -> Result<()> {
    for line in message.lines() {
        let Some((path, commit)) = line.strip_prefix(TRAILER).and_then(|l| l.rsplit_once(' '))
        else {
            continue;
        };
        repo.submodule(path)?.restore_saved(commit)?;
    }
    Ok(())
}
