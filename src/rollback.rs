//! Rolling a milestone back safely: which checkpoint, which commits may be
//! taken off the branch, saving the discarded work first, the status file
//! afterwards; and finishing a rollback that was stopped half way.
//!
//! Only what the attempt made goes: its commits, its edits, and the
//! untracked files it created (the run records them when the attempt
//! stops). Untracked files from before the run, and any the user made
//! since, stay where they are. Each rollback is recorded in the run journal
//! (`journal.rs`) between the save and the first change to the work tree,
//! and marked done once the status file says so: a record still
//! `restoring` is a rollback the next `rollback` finishes.

mod journal;
mod refuse;
mod stopped;
mod submodules;
mod target;
pub mod undo;

pub use journal::{Unfinished, refuse_unfinished};

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::history::checkpoints;
use crate::lock::RunLock;
use crate::repo::Repo;
use crate::repo::rollback::{Changed, Hidden, is_kept};
use crate::repo::scan::Scope;
use crate::repo::short_oid as short;
use crate::repo::submodule::SubmoduleWork;
use crate::runner::signals;
use crate::state::{self, Status, TaskState, Untracked};
use crate::ui::text::quote;
use crate::ui::text::signal_name;
use journal::{Phase, Record};
use refuse::{
    head_or_refuse, no_run, refuse_operation, refuse_pushed, refuse_unowned, refuse_unsavable,
};
use target::{attempt_task, forget_discarded, oids, resolve_target, run_made};

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
    /// This finished an earlier rollback that had been stopped half way;
    /// anything new it found is saved in `also_saved`.
    pub finished_stopped: bool,
    pub also_saved: Vec<String>,
    /// A signal that arrived once the work tree was being put back: the
    /// rollback finished first.
    pub interrupted: Option<i32>,
}

/// The work tree as a rollback found it, read once before anything changes.
struct Found {
    changed: Changed,
    /// Untracked files that are not the attempt's: from before the run, and
    /// any made since by someone else (the user, while the failed task
    /// waited). Never saved, never removed.
    keep: Vec<String>,
    /// Those made since the run started, for the summary.
    users: Vec<String>,
    /// The untracked files the attempt created.
    leftovers: Vec<String>,
    /// Submodules holding work since the checkpoint.
    subs: Vec<SubmoduleWork>,
}

impl Found {
    fn read(repo: &Repo, name: &str, status: &Status) -> Result<Found> {
        let changed = repo.changed_paths()?;
        let owners = Untracked::read(repo, name)?;
        // A run killed during a task never recorded what the attempt
        // created: every new untracked file may be its work, as for a
        // retry (`Untracked::resumed`).
        let killed = status.tasks.iter().any(|t| t.state == TaskState::Running);
        // Untracked until the first checkpoint commits it: the run's, kept
        // by the restore, and no one's file to list.
        let own = state::status_rel_path(name)?;
        let untracked = changed.iter().filter(|p| changed.is_untracked(p));
        let (leftovers, users) = owners.sort_out(untracked, (&own, killed));
        let mut keep = owners.users_listed();
        keep.extend(users.iter().cloned());
        Ok(Found {
            changed,
            keep,
            users,
            leftovers,
            subs: Vec::new(),
        })
    }

    /// Take `paths` (the attempt's files, as the rollback record has them)
    /// for the attempt's.
    fn claim(&mut self, paths: &[String]) {
        let theirs: HashSet<&String> = paths.iter().collect();
        let (ours, users) = self.users.drain(..).partition(|p| theirs.contains(p));
        self.users = users;
        self.keep.retain(|p| !theirs.contains(p));
        self.leftovers.extend::<Vec<String>>(ours);
    }

    /// An untracked file where `target` has a file is the attempt's,
    /// whoever made it (the task replaced a directory with a file, say):
    /// the restore must put the checkpoint's file there.
    fn claim_tracked(&mut self, repo: &Repo, target: &str) -> Result<()> {
        let tracked = repo.paths_in(target, self.users.iter().map(String::as_str))?;
        if tracked.is_empty() {
            return Ok(());
        }
        self.users.retain(|p| !tracked.contains(p));
        self.keep.retain(|p| !tracked.contains(p));
        self.leftovers.extend(tracked);
        Ok(())
    }

    /// `keep` and the status file: what the restore leaves as it is.
    fn kept(&self, name: &str) -> Result<Vec<String>> {
        let mut keep = self.keep.clone();
        keep.push(state::status_rel_path(name)?);
        Ok(keep)
    }

    /// Whether the work tree (and every submodule's) holds nothing of the
    /// attempt's.
    fn clean(&self, name: &str) -> Result<bool> {
        let keep = self.kept(name)?;
        Ok(self.subs.is_empty() && self.changed.iter().all(|p| is_kept(p, &keep)))
    }
}

/// The work of a failed attempt, saved before a rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAttempt {
    /// `refs/milestone/<name>/attempts/<ID>/<n>`.
    pub ref_name: String,
    /// The commit that holds the attempt's tree (and has its commits as ancestors).
    pub commit: String,
    /// The one command that brings the work back.
    pub restore_command: String,
    /// The same with the git program alone.
    pub plain_git_command: String,
    /// The files the rollback removed (the checkpoint has none of them), sorted.
    pub removed: Vec<String>,
    /// Untracked files made since the run started that are not the
    /// attempt's: left where they were, and not saved.
    pub left_alone: Vec<String>,
    /// Submodules whose work was saved in them, under `ref_name` too.
    pub submodules: Vec<String>,
}

impl SavedAttempt {
    fn new(
        name: &str,
        ref_name: String,
        commit: String,
        (removed, left_alone): (Vec<String>, Vec<String>),
    ) -> SavedAttempt {
        let r = crate::ui::text::quote(&ref_name);
        SavedAttempt {
            restore_command: format!(
                "git milestone rollback {} --undo",
                crate::ui::text::quote(name)
            ),
            plain_git_command: format!("git read-tree -u --reset {r} && git reset -q {r}~1"),
            ref_name,
            commit,
            removed,
            left_alone,
            submodules: Vec::new(),
        }
    }
}

/// ` (removed from the work tree: a.txt and b.txt)`, or nothing when the
/// rollback removed no file.
pub fn removed_note(saved: &SavedAttempt) -> String {
    if saved.removed.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = saved
        .removed
        .iter()
        .map(|p| crate::ui::text::clean(p).into_owned())
        .collect();
    format!(
        " (removed from the work tree: {})",
        crate::ui::text::list(&shown, 10)
    )
}

/// The run loop's rollback after task `task` failed: save everything the
/// attempt produced under `refs/milestone/<name>/attempts/<task>/<n>`, then
/// return the branch and work tree exactly to `checkpoint`, keeping
/// ignored files, untracked files that are not the attempt's, and the
/// status file. Only the commits since `started_from` (HEAD when the task
/// started) are the task's own; any other commit after `checkpoint`, or a
/// pushed one, stops it before anything changes. Records the rollback in
/// `status` (and saves it).
pub fn attempt(
    repo: &Repo,
    status: &mut Status,
    task: &str,
    checkpoint: &str,
    started_from: &str,
) -> Result<SavedAttempt> {
    let name = state::validate_name(&status.milestone)?.to_string();
    let _shield = repo.shield_git();
    let (found, head) = checked(repo, status, checkpoint, started_from)?;
    stop_if_signalled(&name)?;
    let saved = save_and_restore(repo, &name, task, (checkpoint, &head), found)?;
    record_rolled_back(repo, status, &saved)?;
    Ok(saved)
}

/// `--on-failure skip` and a runner's exit 125: take task `task`'s work off
/// the branch and out of the work tree exactly as [`attempt`] does, saved
/// under an attempt ref, so that no checkpoint commits it. `None` when the
/// task left nothing. Unlike a rollback, leaves nothing for `--undo`.
pub fn set_aside(
    repo: &Repo,
    status: &Status,
    task: &str,
    started_from: &str,
) -> Result<Option<SavedAttempt>> {
    let name = state::validate_name(&status.milestone)?.to_string();
    let _shield = repo.shield_git();
    let (found, head) = checked(repo, status, started_from, started_from)?;
    if head == started_from && found.clean(&name)? {
        return Ok(None);
    }
    stop_if_signalled(&name)?;
    let saved = save_and_restore(repo, &name, task, (started_from, &head), found)?;
    Untracked::gone(repo.git_dir(), &name)?;
    journal::remove(repo.git_dir(), &name)?;
    Ok(Some(saved))
}

/// The run loop's checks before it takes an attempt's work away: the work
/// tree as found and HEAD.
fn checked(
    repo: &Repo,
    status: &Status,
    checkpoint: &str,
    started_from: &str,
) -> Result<(Found, String)> {
    let name = status.milestone.as_str();
    // git walks the work tree while the checks below run.
    repo.prefetch_scan(Scope::Rollback);
    refuse_operation(repo, name)?;
    // One status walk serves every check, the save and the restore: none
    // of them changes the work tree before the restore's removals.
    let mut found = Found::read(repo, name, status)?;
    found.claim_tracked(repo, checkpoint)?;
    refuse_unsavable(repo, (name, checkpoint), &found.changed, &found.keep)?;
    found.subs = submodules::with_work(repo, name, checkpoint)?;
    let head = head_or_refuse(repo, name)?;
    let discarded = repo.commits_after(checkpoint, &head)?;
    let own = if repo.is_ancestor(started_from, &head)? {
        oids(repo.commits_after(started_from, &head)?)
    } else {
        HashSet::new()
    };
    let target = (checkpoint, "the last checkpoint");
    refuse_unowned(repo, (name, None), target, &head, &discarded, &own)?;
    refuse_pushed(repo, (name, None), &discarded)?;
    Ok((found, head))
}

/// The `rollback` command: checks, save, restore, then the status file.
pub fn roll_back(repo: &Repo, req: &Request<'_>) -> Result<RolledBack> {
    let name = state::validate_name(req.milestone)?;
    // Never under a run's feet: the run lock is held until we return.
    let _lock = RunLock::acquire(repo.git_dir(), repo.common_dir(), name)?;
    let _shield = repo.shield_git();
    // git walks the work tree while the checks below run.
    repo.prefetch_scan(Scope::Rollback);
    let Some(mut status) = Status::load(repo.root(), name)? else {
        return Err(no_run(name));
    };
    refuse_operation(repo, name)?;
    match journal::read(repo.git_dir(), name)? {
        Some(r) if r.phase == Phase::Restoring => {
            return stopped::finish(repo, req, status, r);
        }
        Some(r) if r.phase == Phase::Undoing => return Err(Unfinished::Undo.refusal(name)),
        _ => {}
    }
    let mut found = Found::read(repo, name, &status)?;
    let head = head_or_refuse(repo, name)?;
    let checkpoints = checkpoints(repo, name, &status)?;
    let (target, label) = resolve_target(repo, req, &status, &checkpoints)?;
    found.claim_tracked(repo, &target)?;
    refuse_unsavable(repo, (name, &target), &found.changed, &found.keep)?;
    found.subs = submodules::with_work(repo, name, &target)?;
    let discarded = repo.commits_after(&target, &head)?;
    if !req.force {
        let own = run_made(repo, &status, &target)?;
        let asked = (name, req.to);
        refuse_unowned(repo, asked, (&target, &label), &head, &discarded, &own)?;
        refuse_pushed(repo, asked, &discarded)?;
    }
    if discarded.is_empty() && found.clean(name)? {
        return Err(Error::refused(format!(
            "nothing to roll back: {name} is already at {label} ({}) with no changes",
            short(&target)
        ))
        .hint(format!(
            "see where it stands: git milestone status {}",
            quote(name)
        )));
    }
    let discarded_oids: HashSet<&str> = discarded.iter().map(|c| c.oid.as_str()).collect();
    let task = attempt_task(&status, &checkpoints, &discarded_oids);
    stop_if_signalled(name)?;
    let saved = save_and_restore(repo, name, &task, (&target, &head), found)?;
    forget_discarded(repo, name, &mut status, &checkpoints, &discarded_oids)?;
    record_rolled_back(repo, &mut status, &saved)?;
    Ok(RolledBack {
        checkpoint: target,
        checkpoint_label: label,
        commits_removed: discarded.len(),
        saved,
        finished_stopped: false,
        also_saved: Vec::new(),
        interrupted: signals::pending(),
    })
}

/// The status file and the journal once the work tree is back: the failure
/// is rolled back, its files are gone (the record keeps their names for
/// `--undo`), and the rollback is done.
fn record_rolled_back(repo: &Repo, status: &mut Status, saved: &SavedAttempt) -> Result<()> {
    let name = status.milestone.clone();
    status.rolled_back(&saved.ref_name);
    status.save(repo.root())?;
    Untracked::gone(repo.git_dir(), &name)?;
    if let Some(mut record) = journal::read(repo.git_dir(), &name)? {
        record.phase = Phase::Done;
        journal::write(repo.git_dir(), &name, &record)?;
    }
    journal::unpark_done(repo.git_dir(), &name)
}

/// Save the work tree under the next attempt ref, record the rollback as
/// under way, then put everything back at `checkpoint` (`from` is HEAD
/// now), keeping the status file and the files that are not the attempt's.
fn save_and_restore(
    repo: &Repo,
    name: &str,
    task: &str,
    (checkpoint, from): (&str, &str),
    found: Found,
) -> Result<SavedAttempt> {
    let hidden = repo.hidden_since(checkpoint, &found.changed)?;
    let (ref_name, commit, subs) = save(repo, name, task, &found, &hidden)?;
    let mut record = Record::new(&ref_name, &commit, checkpoint, from);
    record.leftovers = found.leftovers.clone();
    journal::write(repo.git_dir(), name, &record)?;
    let removed = restore(repo, name, checkpoint, &found, hidden)?;
    let mut saved = SavedAttempt::new(name, ref_name, commit, (removed, found.users));
    saved.submodules = subs;
    Ok(saved)
}

/// Save the work tree, less `found.keep`, under the next attempt ref of
/// `task`; HEAD, the index and the work tree stay as they are. Returns the
/// ref, the commit, and the submodules whose work was saved in them.
fn save(
    repo: &Repo,
    name: &str,
    task: &str,
    found: &Found,
    hidden: &Hidden,
) -> Result<(String, String, Vec<String>)> {
    let (ref_name, n) = repo.next_attempt_ref(name, task)?;
    let message = format!(
        "Failed attempt at {task} ({name}), saved before a rollback\n\n\
         Milestone-Attempt: {name} {task} {n}\n"
    );
    // Each submodule's work first, in the submodule: the saved tree
    // records those commits, its message names them.
    let links = submodules::save(repo, &found.subs, &ref_name, &message)?;
    let message = format!("{message}{}", submodules::trailers(&links));
    let commit = repo.save_work_tree(
        &ref_name,
        &message,
        &found.keep,
        (&found.changed, hidden),
        &links,
    )?;
    Ok((
        ref_name,
        commit,
        links.into_iter().map(|(p, _)| p).collect(),
    ))
}

/// Put the branch, index and work tree back at `checkpoint`, leaving the
/// status file and `found.keep` as they are. Returns the files removed.
fn restore(
    repo: &Repo,
    name: &str,
    checkpoint: &str,
    found: &Found,
    hidden: Hidden,
) -> Result<Vec<String>> {
    let park = journal::park_dir(repo.git_dir(), name)?;
    let mut removed = repo.restore_checkpoint(
        checkpoint,
        &found.kept(name)?,
        (&found.changed, hidden),
        Some(&park),
    )?;
    removed.extend(submodules::restore(repo, &found.subs)?);
    removed.sort();
    Ok(removed)
}

/// Before anything changes, a Ctrl-C or SIGTERM stops the rollback.
fn stop_if_signalled(name: &str) -> Result<()> {
    match signals::pending() {
        None => Ok(()),
        Some(sig) => Err(Error::interrupted(format!(
            "the rollback of {name} was stopped by {} before it changed anything",
            signal_name(sig)
        ))
        .hint(format!(
            "roll back with `git milestone rollback {}`",
            quote(name)
        ))),
    }
}
