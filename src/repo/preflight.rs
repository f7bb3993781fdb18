//! Faults a run checks for before any task runs (locks left by a crashed
//! git, an index libgit2 cannot read, a git directory it cannot write), and
//! the clear errors for faults that can only show at checkpoint time.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Repo;
use crate::error::{Context, Error, Kind, Result};

impl Repo {
    /// Refuse to start while git is in the middle of something, or on a
    /// detached HEAD (unless allowed), or before the first commit.
    /// Returns HEAD's commit id.
    pub fn check_can_run(&self, detach_ok: bool) -> Result<String> {
        if let Some(op) = self.operation_in_progress() {
            return Err(Error::refused(format!("{} is in progress", op.what)).hint(op.hint));
        }
        let head = match self.inner.head() {
            Ok(h) => h,
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                return Err(Error::refused("this branch has no commits yet").hint(
                    "make a first commit, e.g. `git commit --allow-empty -m 'Initial commit'`",
                ));
            }
            Err(e) => return Err(e).context("cannot read HEAD"),
        };
        if !detach_ok && self.inner.head_detached().unwrap_or(false) {
            return Err(
                Error::refused("HEAD is detached: checkpoints would belong to no branch").hint(
                    "switch to a branch with `git switch -c <branch>`, or pass `--detach-ok`",
                ),
            );
        }
        let commit = head
            .peel_to_commit()
            .context("cannot read the commit at HEAD")?;
        Ok(commit.id().to_string())
    }

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
            format!(
                "cannot write to {}, so no checkpoint could be committed",
                dir.display()
            ),
            // The directory itself: `.git` is a file in a linked worktree,
            // and relative to the root only.
            format!(
                "nothing was changed; make the repository writable (check `mount` and `ls -ld {}`), then run again",
                crate::ui::text::quote_path(dir)
            ),
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
