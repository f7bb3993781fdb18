//! A scratch linked worktree inside the git directory, where `bisect`
//! checks out each checkpoint: the user's HEAD, index, work tree and
//! untracked files are never touched, and removing it leaves nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Repo;
use crate::error::{Context, Error, Result};

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

impl Scratch<'_> {
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

/// Held while `git worktree` adds or removes a task worktree: git's own
/// records of worktrees (`.git/worktrees/`) are not safe to change from
/// two commands at once (one reads another's half-written entry).
static ADMIN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A task's linked worktree for `run --jobs`, made, saved and removed by the
/// task's own thread: it holds paths, not the repository handle.
#[derive(Debug, Clone)]
pub struct TaskTree {
    /// The main work tree's root, where `git worktree` runs.
    root: PathBuf,
    path: PathBuf,
}

impl Repo {
    /// The task worktree at `path` (made by [`TaskTree::add`]).
    pub fn task_tree(&self, path: &Path) -> TaskTree {
        TaskTree {
            root: self.root().to_path_buf(),
            path: path.to_path_buf(),
        }
    }
}

impl TaskTree {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Add the worktree, checked out at `commit` with HEAD detached; one a
    /// killed run left at its path is removed first.
    pub fn add(&self, commit: &str) -> Result<()> {
        if self.path.exists() {
            self.remove();
        }
        let what = format!("add a worktree at {}", self.path.display());
        let mut cmd = self.plain();
        cmd.args(QUIET)
            .args(["worktree", "add", "-q", "--no-checkout", "--detach"])
            .arg(&self.path)
            .arg(commit);
        {
            let _one = ADMIN.lock().unwrap_or_else(|e| e.into_inner());
            run(cmd, &what)?;
        }
        // The checkout, the slow part, beside the other tasks'.
        let mut checkout = self.git();
        checkout.args(["reset", "-q", "--hard"]);
        run(checkout, &what).map(drop)
    }

    /// Commit everything in the worktree (tracked changes and untracked,
    /// not ignored files) but paths matching `exclude` (an agent's own
    /// files) on top of its HEAD with `message`, and point `ref_name` at
    /// it. Returns the commit.
    pub fn save(&self, ref_name: &str, message: &str, exclude: &[&str]) -> Result<String> {
        let what = format!("save the work in {}", self.path.display());
        let mut add = self.git();
        add.args(["add", "-A", "--", "."]).args(excluded(exclude));
        run(add, &what)?;
        let mut write = self.git();
        write.arg("write-tree");
        let tree = run(write, &what)?;
        let mut commit = self.git();
        commit.args(["commit-tree", &tree, "-p", "HEAD", "-m", message]);
        let commit = run(commit, &what)?;
        let mut update = self.plain();
        update.args([
            "update-ref",
            "-m",
            "milestone: save a task's worktree",
            ref_name,
            &commit,
        ]);
        run(update, &what)?;
        Ok(commit)
    }

    /// Whether anything changed since `from`: HEAD moved (the task
    /// committed), or a file differs from HEAD, but for paths matching
    /// `exclude`.
    pub fn changed(&self, from: &str, exclude: &[&str]) -> Result<bool> {
        let what = format!("read the work in {}", self.path.display());
        let mut head = self.git();
        head.args(["rev-parse", "HEAD"]);
        if run(head, &what)? != from {
            return Ok(true);
        }
        let mut status = self.git();
        status
            .args(["status", "--porcelain", "--untracked-files=all", "--", "."])
            .args(excluded(exclude));
        Ok(!run(status, &what)?.is_empty())
    }

    /// Remove the worktree and git's record of it.
    pub fn remove(&self) {
        let _one = ADMIN.lock().unwrap_or_else(|e| e.into_inner());
        let mut cmd = self.plain();
        cmd.args(["worktree", "remove", "--force", "--force"])
            .arg(&self.path);
        let removed = cmd.output().is_ok_and(|o| o.status.success());
        if !removed || self.path.exists() {
            let _ = std::fs::remove_dir_all(&self.path);
            let _ = self.plain().args(["worktree", "prune"]).output();
        }
    }

    /// git in the main work tree's root, in a process group of its own:
    /// the terminal's Ctrl-C, which stops the tasks, must not cut a save
    /// short.
    fn plain(&self) -> Command {
        let mut cmd = super::plain_git(&self.root);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd
    }

    fn git(&self) -> Command {
        let mut cmd = self.plain();
        cmd.arg("-C").arg(&self.path).args(QUIET);
        cmd
    }
}

/// Pathspecs that leave out paths matching `patterns` (from the top).
fn excluded(patterns: &[&str]) -> Vec<String> {
    patterns
        .iter()
        .map(|p| format!(":(top,exclude){p}"))
        .collect()
}

/// Run a git command; its standard output, trimmed, or an error saying
/// what could not be done and what git said.
fn run(mut cmd: Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run git to {what}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
        return Err(Error::failed(format!("cannot {what}")).with_cause(anyhow::anyhow!("{said}")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
