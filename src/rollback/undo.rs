//! `rollback --undo`: bring back the work the last rollback saved, without
//! losing anything done since. What the restore would replace and no
//! commit holds (an edit made after the rollback, commits made on top of
//! it) stops it; `--force` first saves exactly that under
//! `refs/milestone/<name>/before-undo/<n>`, and says so.

use super::journal::{self, Phase, Record};
use super::refuse::{head_or_refuse, refuse_operation};
use crate::error::{Error, Result};
use crate::lock::RunLock;
use crate::repo::rollback::DiscardedCommit;
use crate::repo::short_oid as short;
use crate::repo::{Repo, refs};
use crate::runner::signals;
use crate::state;
use crate::ui::text::signal_name;
use crate::ui::text::{clean, command_line, count, list, quote};

/// What `--undo` did.
#[derive(Debug, Clone)]
pub struct Undone {
    pub saved_ref: String,
    pub head: String,
    /// Less complete saves, made while finishing a rollback that had been
    /// stopped; the restore used `saved_ref`.
    pub also_saved: Vec<String>,
    /// Where `--force` saved what the restore replaced (this undo's, and a
    /// stopped earlier one's), if anything.
    pub before_undo: Vec<String>,
    /// What this undo saved there before replacing it.
    pub replaced: Replaced,
    /// This finished an undo that had been stopped half way.
    pub finished_stopped: bool,
    /// A signal that arrived once the work was being put back: the undo
    /// finished first.
    pub interrupted: Option<i32>,
}

/// What an undo takes away that no other commit holds.
#[derive(Debug, Clone, Default)]
pub struct Replaced {
    /// Commits on the branch after the rollback, taken off it.
    pub commits: Vec<DiscardedCommit>,
    /// Files changed since the rollback that the restore writes over.
    pub files: Vec<String>,
}

impl Replaced {
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty() && self.files.is_empty()
    }

    /// `take 1 commit off the branch (abc1234 fix) and overwrite notes.txt`.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.commits.is_empty() {
            parts.push(format!(
                "take {} off the branch ({})",
                count(self.commits.len(), "commit"),
                self.commits_listed()
            ));
        }
        if !self.files.is_empty() {
            parts.push(format!("overwrite {}", self.files_listed(5)));
        }
        parts.join(" and ")
    }

    /// The commits, as `abc1234 fix`, five at most.
    pub fn commits_listed(&self) -> String {
        let shown: Vec<String> = self
            .commits
            .iter()
            .map(|c| format!("{} {}", short(&c.oid), clean(&c.summary)))
            .collect();
        list(&shown, 5)
    }

    /// The files, `max` at most.
    pub fn files_listed(&self, max: usize) -> String {
        let shown: Vec<String> = self.files.iter().map(|f| clean(f).into_owned()).collect();
        list(&shown, max)
    }
}

/// `rollback --undo`: bring back the work the last rollback saved.
pub fn undo(repo: &Repo, milestone: &str, force: bool) -> Result<Undone> {
    let name = state::validate_name(milestone)?;
    let _lock = RunLock::acquire(repo.git_dir(), repo.common_dir(), name)?;
    let _shield = repo.shield_git();
    let mut record = read_record(repo, name)?;
    refuse_operation(repo, name)?;
    if record.phase == Phase::Restoring {
        // A rollback stopped after its reset: its kept files first.
        repo.unpark(
            &journal::park_dir(repo.git_dir(), name)?,
            &record.checkpoint,
        )?;
    }
    let head = head_or_refuse(repo, name)?;
    let saved = repo.ref_target(&record.saved_ref)?.ok_or_else(|| {
        Error::refused(format!("{} no longer exists", record.saved_ref)).hint(format!(
            "list what is left: git for-each-ref refs/milestone/{name}/"
        ))
    })?;
    let parent = repo.first_parent(&saved)?;
    // Where the branch may stand without anything being taken off it: the
    // checkpoint, the attempt itself (a rollback stopped before it moved
    // the branch), or where a stopped undo found it.
    let resuming = record.phase == Phase::Undoing;
    let expected = [
        Some(&record.checkpoint),
        Some(&parent),
        record.undo_from.as_ref(),
    ];
    let moved = !expected.contains(&Some(&head));
    let mut replaced = replaced_by(repo, name, &record, (&saved, &parent), &head)?;
    if resuming && !record.before_undo.is_empty() {
        // The stopped undo saved the commits already.
        replaced.commits.clear();
    }
    if !force {
        refuse_to_replace(repo, name, &record, (&head, moved), &replaced)?;
    }
    stop_if_signalled(name, force)?;
    if !replaced.is_empty() {
        record
            .before_undo
            .push(save_replaced(repo, name, &head, &replaced)?);
    }
    record.phase = Phase::Undoing;
    record.undo_from.get_or_insert(head);
    journal::write(repo.git_dir(), name, &record)?;
    repo.restore_saved(&saved)?;
    super::submodules::undo(repo, &repo.commit_message(&saved)?)?;
    let mut done = finish(repo, name, record, replaced)?;
    done.finished_stopped = resuming;
    Ok(done)
}

/// Ctrl-C or SIGTERM before the undo changed anything: stop, and give
/// the command again (`--force` kept).
fn stop_if_signalled(name: &str, force: bool) -> Result<()> {
    let Some(sig) = signals::pending() else {
        return Ok(());
    };
    let mut again = vec!["git", "milestone", "rollback", name, "--undo"];
    again.extend(force.then_some("--force"));
    Err(Error::interrupted(format!(
        "the undo of {name}'s rollback was stopped by {} before it changed anything",
        signal_name(sig)
    ))
    .hint(format!(
        "bring the work back with `{}`",
        command_line(&again)
    )))
}

/// After the restore: the attempt's files are its task's again, the
/// checkpoint refs of the commits back on the branch point at them, and
/// the record is gone.
fn finish(repo: &Repo, name: &str, record: Record, replaced: Replaced) -> Result<Undone> {
    if !record.leftovers.is_empty() {
        state::Untracked::restored(repo.git_dir(), name, &record.leftovers)?;
    }
    let head = head_or_refuse(repo, name)?;
    for c in repo.commits_after(&record.checkpoint, &head)? {
        if let (Some(m), Some(task)) = (&c.milestone, &c.task)
            && m == name
        {
            let r = refs::checkpoint_ref(name, task);
            repo.set_ref(&r, &c.oid, "milestone: rollback --undo")?;
        }
    }
    journal::remove(repo.git_dir(), name)?;
    Ok(Undone {
        saved_ref: record.saved_ref,
        head,
        also_saved: record.also_saved,
        before_undo: record.before_undo,
        replaced,
        finished_stopped: false,
        interrupted: signals::pending(),
    })
}

/// What restoring `saved` (whose parent is `parent`) over `head` and the
/// work tree takes away that no commit holds: the commits on the branch
/// that the attempt's do not include, and every file the restore writes
/// or deletes whose content is neither the saved attempt's, the
/// checkpoint's nor HEAD's (an edit since the rollback, say of a file it
/// kept). The status file is the program's own, and is put back.
fn replaced_by(
    repo: &Repo,
    name: &str,
    record: &Record,
    (saved, parent): (&str, &str),
    head: &str,
) -> Result<Replaced> {
    let commits = repo.commits_after(parent, head)?;
    let changed = repo.changed_paths()?;
    let status = state::status_rel_path(name)?;
    let written = repo.paths_between(head, saved)?;
    let in_saved = repo.paths_in(saved, changed.iter().map(String::as_str))?;
    // An untracked file the saved attempt does not have is left alone.
    let mut candidates: Vec<&str> = changed
        .iter()
        .filter(|p| !changed.is_untracked(p) || in_saved.contains(*p))
        .map(String::as_str)
        .chain(written.iter().map(String::as_str))
        .filter(|p| *p != status)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let files = repo.unsaved_files(&candidates, &[saved, &record.checkpoint, head])?;
    Ok(Replaced { commits, files })
}

/// Refuse an undo that would take something away, saying what `--force`
/// would save and replace.
fn refuse_to_replace(
    repo: &Repo,
    name: &str,
    record: &Record,
    (head, moved): (&str, bool),
    replaced: &Replaced,
) -> Result<()> {
    let q = quote(name);
    let force = |what: &str| -> Result<String> {
        Ok(format!(
            "`git milestone rollback {q} --undo --force` would {what}; it saves what it replaces in {} first",
            repo.next_before_undo_ref(name)?
        ))
    };
    if moved {
        let what = if replaced.is_empty() {
            format!(
                "move the branch from {} to the attempt's commit, and nothing else",
                short(head)
            )
        } else {
            replaced.describe()
        };
        let hint = if replaced.is_empty() {
            format!("`git milestone rollback {q} --undo --force` would {what}")
        } else {
            force(&what)?
        };
        return Err(Error::refused(format!(
            "HEAD moved since the rollback of {name} (it was {}, it is {})",
            short(&record.checkpoint),
            short(head)
        ))
        .hint(hint));
    }
    if replaced.files.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = replaced
        .files
        .iter()
        .map(|f| clean(f).into_owned())
        .collect();
    Err(Error::refused(format!(
        "restoring the saved work of {name} would overwrite changes made since the rollback: {}",
        list(&shown, 5)
    ))
    .hint(format!(
        "commit or stash them (`git stash push --include-untracked`), then `git milestone rollback {q} --undo`"
    ))
    .hint(force(&replaced.describe())?))
}

/// Save what the undo replaces: HEAD's commits (the ref points at HEAD),
/// and the files as they are now (a commit on top of HEAD).
fn save_replaced(repo: &Repo, name: &str, head: &str, replaced: &Replaced) -> Result<String> {
    let ref_name = repo.next_before_undo_ref(name)?;
    if replaced.files.is_empty() {
        repo.set_ref(
            &ref_name,
            head,
            "milestone: save commits before rollback --undo",
        )?;
        return Ok(ref_name);
    }
    let message = format!(
        "Work replaced by `git milestone rollback {name} --undo --force`\n\n\
         Milestone-Before-Undo: {name}\n"
    );
    let files: Vec<&str> = replaced.files.iter().map(String::as_str).collect();
    repo.save_files(&ref_name, &message, &files)?;
    Ok(ref_name)
}

/// The last rollback's record, or a refusal when there is none.
fn read_record(repo: &Repo, name: &str) -> Result<Record> {
    journal::read(repo.git_dir(), name)?.ok_or_else(|| {
        Error::refused(format!(
            "nothing to undo: no rollback of {name} is recorded in this work tree"
        ))
        .hint(format!(
            "saved attempts are kept under refs/milestone/{name}/attempts/; list them with \
             `git for-each-ref refs/milestone/{name}/attempts/`"
        ))
    })
}
