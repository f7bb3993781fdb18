//! A scratch linked worktree inside the git directory, where `bisect`
//! checks out each checkpoint: the user's HEAD, index, work tree and
//! untracked files are never touched, and removing it leaves nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Repo;
use crate::error::{Context, Result};

/// Settings for every git command in a scratch worktree: no hooks (it is
/// a throwaway checkout; a post-checkout hook is the user's code), no
/// detached-HEAD advice.
const QUIET: [&str; 4] = [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "advice.detachedHead=false",
];

/// A linked worktree on a detached HEAD; removed when dropped.
pub struct Scratch<'a> {
    repo: &'a Repo,
    path: PathBuf,
    removed: bool,
}

impl Repo {
    /// Add a linked worktree at `path` (which must not exist), checked
    /// out at `commit` with HEAD detached. A worktree a killed command
    /// left at `path` is removed first.
    pub fn add_scratch_worktree(&self, path: &Path, commit: &str) -> Result<Scratch<'_>> {
        if path.exists() {
            remove(self, path);
        }
        let shown = path.display().to_string();
        let out = self
            .git_command()
            .args(QUIET)
            .args(["worktree", "add", "-q", "--detach"])
            .arg(path)
            .arg(commit)
            .output()
            .with_context(|| format!("cannot run `git worktree add {shown}`"))?;
        let mut scratch = Scratch {
            repo: self,
            path: path.to_path_buf(),
            removed: false,
        };
        if let Err(e) = self.succeeded(out, &format!("add a worktree at {shown}")) {
            scratch.removed = true;
            remove(self, path);
            return Err(e);
        }
        Ok(scratch)
    }

    /// Remove the worktrees `git worktree add` made under `dir` for
    /// commands that were killed (`keep` says which are still in use).
    pub fn remove_stale_scratch(&self, dir: &Path, keep: impl Fn(&Path) -> bool) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.join(".git").is_file() && !keep(&path) {
                remove(self, &path);
            }
        }
    }
}

impl<'a> Scratch<'a> {
    /// A worktree that is already at `path`, removed when dropped.
    pub(super) fn existing(repo: &'a Repo, path: &Path) -> Scratch<'a> {
        Scratch {
            repo,
            path: path.to_path_buf(),
            removed: false,
        }
    }

    /// The worktree's top directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Check out `commit` (detached), overwriting whatever the last
    /// command changed in tracked files; untracked files stay, as with
    /// `git bisect`.
    pub fn check_out(&self, commit: &str) -> Result<()> {
        let out = self
            .git()
            .args(["checkout", "-q", "--detach", "--force", commit])
            .output()
            .with_context(|| format!("cannot run `git checkout {commit}`"))?;
        self.repo.succeeded(
            out,
            &format!("check out {commit} in {}", self.path.display()),
        )?;
        Ok(())
    }

    /// Commit everything in the worktree (tracked changes and untracked,
    /// not ignored files) on top of its HEAD, with `message`; no ref
    /// points at it yet. Returns the commit.
    pub fn commit_all(&self, message: &str) -> Result<String> {
        let what = format!("commit the work in {}", self.path.display());
        let out = self
            .git()
            .args(["add", "-A"])
            .output()
            .context("cannot run `git add`")?;
        self.repo.succeeded(out, &what)?;
        let out = self
            .git()
            .arg("write-tree")
            .output()
            .context("cannot run `git write-tree`")?;
        let tree = String::from_utf8_lossy(&self.repo.succeeded(out, &what)?.stdout)
            .trim()
            .to_string();
        let out = self
            .git()
            .args(["commit-tree", &tree, "-p", "HEAD", "-m", message])
            .output()
            .context("cannot run `git commit-tree`")?;
        let commit = String::from_utf8_lossy(&self.repo.succeeded(out, &what)?.stdout)
            .trim()
            .to_string();
        Ok(commit)
    }

    /// Remove the worktree and git's record of it.
    pub fn remove(&mut self) {
        if !self.removed {
            self.removed = true;
            remove(self.repo, &self.path);
        }
    }

    fn git(&self) -> Command {
        let mut cmd = self.repo.git_command();
        cmd.arg("-C").arg(&self.path).args(QUIET);
        cmd
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        self.remove();
    }
}

/// `git worktree remove --force --force`; where git cannot (a broken
/// worktree), delete the directory and let `git worktree prune` forget it.
fn remove(repo: &Repo, path: &Path) {
    let removed = repo
        .git_command()
        .args(["worktree", "remove", "--force", "--force"])
        .arg(path)
        .output()
        .is_ok_and(|o| o.status.success());
    if !removed || path.exists() {
        let _ = std::fs::remove_dir_all(path);
        let _ = repo.git_command().args(["worktree", "prune"]).output();
    }
}
