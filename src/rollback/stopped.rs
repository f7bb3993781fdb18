//! Finishing a rollback that was stopped half way (its journal record
//! still `restoring`): the work tree goes back to the checkpoint it was
//! going to, and the user's edits since are saved first.

use std::collections::HashSet;

use super::journal::{self, Record};
use super::refuse::{head_or_refuse, refuse_unsavable};
use super::target::{checkpoint_label, forget_discarded};
use super::{
    Found, Request, RolledBack, SavedAttempt, record_rolled_back, restore, save, stop_if_signalled,
    submodules,
};
use crate::error::{Error, Result};
use crate::history::checkpoints;
use crate::repo::rollback::{Hidden, is_kept};
use crate::repo::short_oid as short;
use crate::repo::{Repo, refs};
use crate::runner::signals;
use crate::state::Status;
use crate::ui::text::quote;

/// The refusal to finish a stopped rollback after HEAD moved elsewhere.
fn moved_since_stopped(name: &str, record: &Record, from: &str, head: &str) -> Error {
    Error::refused(format!(
        "the last rollback of {name} was stopped half way, and HEAD moved since \
         (it was {}, going back to {}; it is {})",
        short(from),
        short(&record.checkpoint),
        short(head)
    ))
    .hint(format!(
        "its work is saved in {}; bring it back over HEAD with `git milestone rollback {} --undo --force`",
        record.saved_ref,
        quote(name)
    ))
}

/// Finish a rollback that was stopped after its save: put the work tree
/// back at the checkpoint it was going to, without taking the half-restored
/// tree for the attempt's work. Anything in it that is neither the saved
/// attempt's nor the checkpoint's (the user's edits since) is saved first.
pub(super) fn finish(
    repo: &Repo,
    req: &Request<'_>,
    status: Status,
    mut record: Record,
) -> Result<RolledBack> {
    let name = req.milestone;
    // Kept files (the status file first) the stopped reset overwrote.
    repo.unpark(
        &journal::park_dir(repo.git_dir(), name)?,
        &record.checkpoint,
    )?;
    let mut status = Status::load(repo.root(), name)?.unwrap_or(status);
    let head = head_or_refuse(repo, name)?;
    let from = record.from.clone().unwrap_or_else(|| head.clone());
    if head != record.checkpoint && head != from {
        return Err(moved_since_stopped(name, &record, &from, &head));
    }
    let found = found_since_stopped(repo, name, &status, &record)?;
    let hidden = save_edits_since_stopped(repo, name, &found, &mut record, &head)?;
    let removed = restore(repo, name, &record.checkpoint, &found, hidden)?;
    repo.remove_emptied_dirs(&record.leftovers);
    let checkpoints = checkpoints(repo, name, &status)?;
    let discarded = repo.commits_after(&record.checkpoint, &from)?;
    let discarded_oids: HashSet<&str> = discarded.iter().map(|c| c.oid.as_str()).collect();
    forget_discarded(repo, name, &mut status, &checkpoints, &discarded_oids)?;
    let saved = SavedAttempt::new(
        name,
        record.saved_ref.clone(),
        record.saved_commit.clone(),
        (removed, found.users),
    );
    record_rolled_back(repo, &mut status, &saved)?;
    Ok(RolledBack {
        checkpoint_label: checkpoint_label(&checkpoints, &record.checkpoint),
        checkpoint: record.checkpoint,
        commits_removed: discarded.len(),
        saved,
        finished_stopped: true,
        also_saved: record.also_saved,
        interrupted: signals::pending(),
    })
}

/// The work tree of a stopped rollback, read again: the attempt's files
/// (as the record names them) and what the checkpoint tracks are not the
/// user's.
fn found_since_stopped(repo: &Repo, name: &str, status: &Status, record: &Record) -> Result<Found> {
    let mut found = Found::read(repo, name, status)?;
    found.claim(&record.leftovers);
    found.claim_tracked(repo, &record.checkpoint)?;
    refuse_unsavable(
        repo,
        (name, &record.checkpoint),
        &found.changed,
        &found.keep,
    )?;
    found.subs = submodules::with_work(repo, name, &record.checkpoint)?;
    Ok(found)
}

/// Save what is in the work tree of a stopped rollback that is neither
/// the saved attempt's, the checkpoint's nor HEAD's (the user's edits
/// since), and the submodules' work, noting the ref in `record`; the files
/// the checkpoint's ignore rules hide, for the restore.
fn save_edits_since_stopped(
    repo: &Repo,
    name: &str,
    found: &Found,
    record: &mut Record,
    head: &str,
) -> Result<Hidden> {
    let keep = found.kept(name)?;
    let left: Vec<&str> = found
        .changed
        .iter()
        .filter(|p| !is_kept(p, &keep))
        .map(String::as_str)
        .collect();
    let unsaved = repo.unsaved_files(&left, &[&record.saved_commit, &record.checkpoint, head])?;
    stop_if_signalled(name)?;
    let hidden = repo.hidden_since(&record.checkpoint, &found.changed)?;
    // Submodules are compared with nothing: what they hold is saved again.
    if !unsaved.is_empty() || !found.subs.is_empty() {
        let (ref_name, _, _) = save(repo, name, &task_of(record, name), found, &hidden)?;
        record.also_saved.push(ref_name);
        journal::write(repo.git_dir(), name, record)?;
    }
    Ok(hidden)
}

/// The task whose attempt `record` saved (from its ref's name).
fn task_of(record: &Record, name: &str) -> String {
    let prefix = refs::all_attempts_prefix(name);
    record
        .saved_ref
        .strip_prefix(&prefix)
        .and_then(|rest| rest.rsplit_once('/'))
        .map_or_else(|| "manual".to_string(), |(task, _)| task.to_string())
}
