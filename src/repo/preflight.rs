//! Faults a run checks for before any task runs (locks left by a crashed
//! git, an index libgit2 cannot read, a git directory it cannot write), the
//! recovery of checkpoints a killed run made but did not record, and the
//! clear errors for faults that can only show at checkpoint time.

use std::io::Write;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::Repo;
use crate::error::{Context, Error, Kind, Result};

impl Repo {
    /// Refuse a lock file git or a killed run left where a checkpoint
    /// writes (index, branch, HEAD, packed refs, the milestone's checkpoint
    /// refs and tags). Call under the run lock, so that a lock held by a
    /// live `git milestone run` is reported as that run, not as stale.
    pub fn check_no_stale_locks(&self, milestone: &str) -> Result<()> {
        let Some(lock) = self.stale_locks(milestone).into_iter().next() else {
            return Ok(());
        };
        let what = lock
            .strip_prefix(self.common_dir())
            .or_else(|_| lock.strip_prefix(self.git_dir()))
            .map(|p| p.with_extension("").display().to_string())
            .unwrap_or_else(|_| lock.display().to_string());
        let what = if what == "index" {
            "the index".to_string()
        } else {
            what
        };
        Err(lock_file_error(&lock, &what, Kind::Refused)
            .hint("nothing was changed; run `git milestone run` again once the lock is gone"))
    }

    /// Refuse, before anything is written, a git directory (or object
    /// store) that cannot be written: no checkpoint could be committed.
    pub fn check_writable(&self) -> Result<()> {
        for dir in [self.git_dir(), &self.common_dir().join("objects")] {
            // One byte: an empty file fits even on a full disk.
            let probe = tempfile::tempfile_in(dir).and_then(|mut f| f.write_all(b"x"));
            if let Err(e) = probe {
                return Err(not_writable(dir, e));
            }
        }
        Ok(())
    }

    /// Lock files present where a checkpoint writes.
    fn stale_locks(&self, milestone: &str) -> Vec<PathBuf> {
        let mut candidates = vec![
            self.git_dir().join("index.lock"),
            self.git_dir().join("HEAD.lock"),
            self.common_dir().join("packed-refs.lock"),
        ];
        if let Some(branch) = self.head_branch() {
            candidates.push(self.common_dir().join(format!("{branch}.lock")));
        }
        for dir in [
            super::refs::checkpoints_prefix(milestone),
            format!("refs/tags/milestone/{milestone}"),
        ] {
            let Ok(entries) = std::fs::read_dir(self.common_dir().join(dir)) else {
                continue;
            };
            candidates.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "lock")),
            );
        }
        candidates.retain(|p| p.exists());
        candidates
    }

    /// The commit on HEAD's first-parent line since `base` that carries
    /// `milestone`'s checkpoint trailers for `task`: a run killed between
    /// committing and recording the checkpoint leaves one.
    pub fn find_checkpoint_commit(
        &self,
        milestone: &str,
        task: &str,
        base: &str,
    ) -> Result<Option<String>> {
        let mut found = None;
        self.walk_checkpoints(milestone, base, |t, oid| {
            if t == task {
                found = Some(oid.to_string());
            }
            found.is_none()
        })?;
        Ok(found)
    }

    /// `milestone`'s checkpoints on HEAD's first-parent line since `base`,
    /// by their trailers, as (task, commit) sorted by task, the newest
    /// for a task seen twice. Unlike the checkpoint refs, which all
    /// worktrees share, this is what this branch holds.
    pub fn checkpoints_on_branch(
        &self,
        milestone: &str,
        base: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut found: Vec<(String, String)> = Vec::new();
        self.walk_checkpoints(milestone, base, |task, oid| {
            if !found.iter().any(|(t, _)| t == task) {
                found.push((task.to_string(), oid.to_string()));
            }
            true
        })?;
        found.sort();
        Ok(found)
    }

    /// Call `each(task, commit)` for the commits on HEAD's first-parent
    /// line since `base`, newest first, that carry `milestone`'s checkpoint
    /// trailers, until it returns false.
    fn walk_checkpoints(
        &self,
        milestone: &str,
        base: &str,
        mut each: impl FnMut(&str, &str) -> bool,
    ) -> Result<()> {
        let head = self.head_commit()?;
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.simplify_first_parent()
            .context("cannot walk history")?;
        walk.push(Oid::from_str(&head).context("cannot walk history")?)
            .context("cannot walk history")?;
        if let Ok(base) = Oid::from_str(base) {
            // A base that is gone (history rewritten) just means a longer walk.
            let _ = walk.hide(base);
        }
        for id in walk {
            let id = id.context("cannot walk history")?;
            let commit = self
                .inner
                .find_commit(id)
                .with_context(|| format!("cannot read commit {id}"))?;
            let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
            // Read as git reads trailers, the same way rollback does.
            if super::rollback::trailer(&message, "Milestone").as_deref() != Some(milestone) {
                continue;
            }
            if let Some(task) = super::rollback::trailer(&message, "Milestone-Task")
                && !each(&task, &id.to_string())
            {
                break;
            }
        }
        Ok(())
    }

    /// Point `milestone`'s checkpoint ref for `task` at `commit`.
    pub fn set_checkpoint_ref(&self, milestone: &str, task: &str, commit: &str) -> Result<()> {
        let name = super::checkpoint::checkpoint_ref(milestone, task);
        let id = Oid::from_str(commit).with_context(|| format!("invalid commit id {commit}"))?;
        self.inner
            .reference(&name, id, true, "milestone: recover checkpoint")
            .map_err(|e| ref_write_error(e, &name, format!("cannot update {name}")))?;
        Ok(())
    }
}

/// Why nothing can be written in `dir`: a full disk, or no permission.
fn not_writable(dir: &Path, e: std::io::Error) -> Error {
    let (message, hint) = if e.raw_os_error() == Some(libc::ENOSPC) {
        (
            format!(
                "the disk holding {} is full, so no checkpoint could be committed",
                dir.display()
            ),
            format!(
                "nothing was changed; free some space (`df -h {}`), then run again",
                crate::ui::text::quote_path(dir)
            ),
        )
    } else {
        (
            format!("cannot write to {}, so no checkpoint could be committed", dir.display()),
            "nothing was changed; make the repository writable (check `mount` and `ls -ld .git`), then run again".to_string(),
        )
    };
    Error::refused(message).with_cause(e).hint(hint)
}

/// `<what> is locked: <path> exists`, with the command that removes it.
pub(crate) fn lock_file_error(path: &Path, what: &str, kind: Kind) -> Error {
    Error::new(
        kind,
        format!(
            "{what} is locked: {} exists (another git command is running, or one crashed)",
            path.display()
        ),
    )
    .hint(format!(
        "if no git command is running, remove the stale lock with `rm {}`",
        crate::ui::text::quote_path(path)
    ))
}

/// A failed write of ref `name` as an error: the clear one for a lock
/// file in the way (a git command, or git-milestone, killed while it
/// wrote the ref leaves it), with the command that removes it.
pub(crate) fn ref_write_error(e: git2::Error, name: &str, what: String) -> Error {
    match locked_path(&e) {
        Some(path) => lock_file_error(&path, name, Kind::Failed),
        None => Error::failed(what).with_cause(e),
    }
}

/// The `<file>.lock` a git2 "locked" error is about, when it names one.
pub(crate) fn locked_path(e: &git2::Error) -> Option<PathBuf> {
    if e.code() != git2::ErrorCode::Locked {
        return None;
    }
    let msg = e.message();
    let start = msg.find('\'')? + 1;
    let end = start + msg[start..].find('\'')?;
    Some(PathBuf::from(&msg[start..end]))
}
