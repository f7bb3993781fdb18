//! `squash --undo`: put the checkpoints back where the last squash took
//! them from. In place, the branch moves back (`git reset --keep`); on a
//! new branch, that branch is deleted. Commits made on the squashed commit
//! since stop it, unless `--force`, which first saves them under
//! `refs/milestone/<key>/before-undo/<n>` as `rollback --undo --force` does.

use super::{RECORD, Record};
use crate::error::{Context, Error, Result};
use crate::lock::RunLock;
use crate::repo::short_oid as short;
use crate::repo::{Repo, refs};
use crate::state;
use crate::ui::text::{clean, count, list, quote};

/// What `squash --undo` did.
#[derive(Debug, Clone)]
pub struct Undone {
    pub in_place: bool,
    pub branch: Option<String>,
    /// The last checkpoint, which HEAD (in place) is back at.
    pub original: String,
    /// Where `--force` saved the commits it took away.
    pub before_undo: Option<String>,
    /// The squash's ref was dropped: the branch holds the checkpoints again.
    pub dropped_ref: Option<String>,
}

/// Undo the last squash of milestone `name` (a key) recorded here.
pub fn undo(repo: &Repo, name: &str, force: bool) -> Result<Undone> {
    let _lock = RunLock::acquire(repo.git_dir(), repo.common_dir(), name)?;
    let record = read_record(repo, name)?;
    if repo.ref_target(&record.saved_ref)?.as_deref() != Some(record.original.as_str()) {
        return Err(Error::refused(format!(
            "{} no longer points at the checkpoints the squash of {name} kept ({})",
            record.saved_ref,
            short(&record.original)
        ))
        .hint(format!(
            "list what is left: git for-each-ref {}",
            refs::squashed_prefix(name)
        )));
    }
    let mut done = Undone {
        in_place: record.in_place,
        branch: record.branch.clone(),
        original: record.original.clone(),
        before_undo: None,
        dropped_ref: None,
    };
    if record.in_place {
        undo_in_place(repo, name, &record, force, &mut done)?;
    } else {
        undo_new_branch(repo, name, &record, force, &mut done)?;
    }
    if repo
        .head_if_born()?
        .is_some_and(|h| repo.is_ancestor(&record.original, &h).unwrap_or(false))
    {
        repo.delete_ref(&record.saved_ref)?;
        done.dropped_ref = Some(record.saved_ref.clone());
    }
    let path = state::journal_dir(repo.git_dir(), name)?.join(RECORD);
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(done)
}

/// Move HEAD's branch from the squashed commit back to the last checkpoint.
fn undo_in_place(
    repo: &Repo,
    name: &str,
    record: &Record,
    force: bool,
    done: &mut Undone,
) -> Result<()> {
    let branch = repo.current_branch_name();
    if branch != record.branch {
        let want = record.branch.as_deref().unwrap_or("a detached HEAD");
        return Err(Error::refused(format!(
            "the squash of {name} was made on {want}, and HEAD is on {}",
            branch.as_deref().unwrap_or("a detached HEAD")
        ))
        .hint(match &record.branch {
            Some(b) => format!("switch back with `git switch {}`, then undo", quote(b)),
            None => format!(
                "check it out with `git switch --detach {}`, then undo",
                short(&record.squashed)
            ),
        }));
    }
    let head = repo.head_commit()?;
    if head != record.squashed {
        let what = format!("HEAD ({})", short(&head));
        done.before_undo = Some(refuse_or_save(repo, name, record, (&head, &what), force)?);
    }
    repo.reset_keep(&record.original)
}

/// Delete the branch the squash made, unless it is checked out.
fn undo_new_branch(
    repo: &Repo,
    name: &str,
    record: &Record,
    force: bool,
    done: &mut Undone,
) -> Result<()> {
    let branch = record.branch.clone().expect("a new branch has a name");
    let Some(tip) = repo.ref_target(&format!("refs/heads/{branch}"))? else {
        // Deleted already: the checkpoints were never moved.
        return Ok(());
    };
    if let Some(at) = repo.worktrees_on_branch(&branch)?.first() {
        return Err(Error::refused(format!(
            "branch {branch} is checked out in {}; it cannot be deleted",
            at.display()
        ))
        .hint(format!(
            "switch that worktree to another branch (`git switch -`), then `git milestone squash {} --undo`",
            quote(name)
        )));
    }
    if tip != record.squashed {
        let what = format!("branch {branch} ({})", short(&tip));
        done.before_undo = Some(refuse_or_save(repo, name, record, (&tip, &what), force)?);
    }
    repo.delete_branch_at(&branch, &tip)
}

/// `tip` (named `what`) moved from the squashed commit: refuse, naming the
/// commits, or with `force` save it under the next before-undo ref.
fn refuse_or_save(
    repo: &Repo,
    name: &str,
    record: &Record,
    (tip, what): (&str, &str),
    force: bool,
) -> Result<String> {
    let saved = repo.next_before_undo_ref(name)?;
    if force {
        repo.set_ref(&saved, tip, "milestone: save commits before squash --undo")?;
        return Ok(saved);
    }
    let reason = if repo.is_ancestor(&record.squashed, tip)? {
        let commits = repo.commits_after(&record.squashed, tip)?;
        let shown: Vec<String> = commits
            .iter()
            .map(|c| format!("{} {}", short(&c.oid), clean(&c.summary)))
            .collect();
        format!(
            "{} made on the squashed commit since ({}) would be taken off {what}",
            count(commits.len(), "commit"),
            list(&shown, 5)
        )
    } else {
        format!("{what} no longer contains the squashed commit; its commits would be taken off it")
    };
    Err(Error::refused(format!(
        "cannot undo the squash of {name}: {reason}"
    ))
    .hint(format!(
        "to undo anyway, saving {what} under {saved} first: git milestone squash {} --undo --force",
        quote(name)
    )))
}

/// Whether the last squash of `name` recorded in this work tree was in
/// place, so that the milestone's status file left with its checkpoints.
pub fn squashed_in_place(repo: &Repo, name: &str) -> bool {
    read_record(repo, name).is_ok_and(|r| r.in_place)
}

fn read_record(repo: &Repo, name: &str) -> Result<Record> {
    let path = state::journal_dir(repo.git_dir(), name)?.join(RECORD);
    let nothing = || {
        Error::refused(format!(
            "nothing to undo: no squash of {name} is recorded in this work tree"
        ))
        .hint(format!(
            "squashed checkpoints are kept under {}; list them with `git for-each-ref {}`",
            refs::squashed_prefix(name),
            refs::squashed_prefix(name)
        ))
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(nothing()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::refused(format!("{} is not a squash record", path.display()))
            .with_cause(e)
            .hint(format!(
                "nothing was changed; the squashed checkpoints are kept under {prefix} \
                 (list them with `git for-each-ref {prefix}`); remove the record with `rm {}`",
                crate::ui::text::quote_path(&path),
                prefix = refs::squashed_prefix(name),
            ))
    })
}
