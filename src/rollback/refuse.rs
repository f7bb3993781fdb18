//! The refusals a rollback makes before it changes anything: each says
//! what is in the way and the command that deals with it.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::repo::rollback::{DiscardedCommit, is_kept};
use crate::repo::short_oid as short;
use crate::state;
use crate::ui::text::{count, list as list_of, quote, was_were};

/// At most five items, then how many more.
fn list(items: &[String]) -> String {
    list_of(items, 5)
}

/// The rollback the user asked for (`--to` kept, so the same checkpoint
/// is the target), with `--force`.
fn force_command(name: &str, to: Option<&str>) -> String {
    match to {
        Some(to) => format!(
            "git milestone rollback {} --to {} --force",
            quote(name),
            quote(to)
        ),
        None => format!("git milestone rollback {} --force", quote(name)),
    }
}

/// Refuse to move the branch sideways, or to take off commits that are
/// neither the run's checkpoints (by their trailer) nor in `own`.
/// `target` is the checkpoint's oid and how to name it; `to` is the
/// `--to` the user gave.
pub(super) fn refuse_unowned(
    repo: &Repo,
    (name, to): (&str, Option<&str>),
    target: (&str, &str),
    head: &str,
    discarded: &[DiscardedCommit],
    own: &HashSet<String>,
) -> Result<()> {
    let (oid, label) = target;
    let force = force_command(name, to);
    if !repo.is_ancestor(oid, head)? {
        return Err(Error::refused(format!(
            "HEAD does not descend from {label} ({}); rolling back would move the branch sideways",
            short(oid)
        ))
        .hint(format!("to do it anyway: `{force}`")));
    }
    let foreign: Vec<String> = discarded
        .iter()
        .filter(|c| c.milestone.as_deref() != Some(name) && !own.contains(&c.oid))
        .map(|c| format!("{} {}", short(&c.oid), c.summary))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    // A branch alone leaves the commits on HEAD: the rollback must still
    // take them off, so the hint names both steps.
    Err(Error::refused(format!(
        "HEAD has {} after the checkpoint that the run of {name} did not make: {}",
        count(foreign.len(), "commit"),
        list(&foreign)
    ))
    .hint(format!(
        "nothing was changed; to keep those commits on a branch and take them off this one: \
         `git branch keep-work && {force}`"
    ))
    .hint(format!(
        "or take them off without a branch (they are saved under a ref): `{force}`"
    )))
}

pub(super) fn refuse_pushed(
    repo: &Repo,
    (name, to): (&str, Option<&str>),
    discarded: &[DiscardedCommit],
) -> Result<()> {
    let oids: Vec<String> = discarded.iter().map(|c| c.oid.clone()).collect();
    let pushed = repo.pushed(&oids)?;
    if pushed.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = pushed.iter().map(|o| short(o).to_string()).collect();
    Err(Error::refused(format!(
        "{} that a rollback would take off the branch {} already pushed: {}",
        count(pushed.len(), "commit"),
        was_were(pushed.len()),
        list(&shown)
    ))
    .hint("nothing was changed; to undo published work, add a commit with `git revert`")
    .hint(format!(
        "or roll back anyway (others keep the pushed commits): `{}`",
        force_command(name, to)
    )))
}

pub(super) fn refuse_operation(repo: &Repo, name: &str) -> Result<()> {
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
/// in `snapshot`, are never saved, so never in the way); `checkpoint` is
/// where the rollback goes.
pub(super) fn refuse_unsavable(
    repo: &Repo,
    (name, checkpoint): (&str, &str),
    changed: &[String],
    snapshot: &[String],
) -> Result<()> {
    refuse_nested(repo, name, changed, snapshot)?;
    refuse_unreadable_names(checkpoint, changed, snapshot)
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
fn refuse_unreadable_names(
    checkpoint: &str,
    changed: &[String],
    snapshot: &[String],
) -> Result<()> {
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
        "nothing was changed; keep the work with `git stash push --include-untracked`, \
         then go back to the checkpoint with `git reset --keep {}`",
        short(checkpoint)
    )))
}

pub(super) fn head_or_refuse(repo: &Repo, name: &str) -> Result<String> {
    repo.head_if_born()?.ok_or_else(|| {
        Error::refused(format!(
            "nothing to roll back to: the branch has no commits, so {name} has no checkpoint"
        ))
        .hint(format!(
            "start the milestone with `git milestone run {name}`"
        ))
    })
}

pub(super) fn no_run(name: &str) -> Error {
    Error::refused(format!(
        "nothing to roll back: milestone {name} has no run in this work tree ({} is missing)",
        state::status_rel_path(name).unwrap_or_default()
    ))
    .hint("list the milestones that have run: git milestone status")
}
