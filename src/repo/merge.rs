//! A task that ran in its own worktree brought onto the branch (`run
//! --jobs N`): the attempt ref its work is kept under until it is
//! integrated; the three-way merge of trees (`git merge-tree`, nothing
//! checked out); the user's work tree moved from one tree to another by
//! `git read-tree -m -u`, which refuses to overwrite what it does not know.

use std::path::Path;

use super::Repo;
use crate::error::{Context, Result};

/// How a merge of trees went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// The merged tree.
    Clean(String),
    /// The paths both sides changed differently.
    Conflict(Vec<String>),
}

impl Repo {
    /// Merge the changes from `base` to `theirs` into `ours`, trees only.
    pub fn merge_trees(&self, base: &str, ours: &str, theirs: &str) -> Result<Merged> {
        let out = self
            .git_command()
            .args([
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                "-z",
            ])
            .arg(format!("--merge-base={base}"))
            .args([ours, theirs])
            .output()
            .context("cannot run `git merge-tree`")?;
        let code = out.status.code();
        if !matches!(code, Some(0 | 1)) {
            self.succeeded(out, &format!("merge {theirs} into {ours}"))?;
            unreachable!("git merge-tree failed");
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split('\0').filter(|f| !f.is_empty());
        let tree = fields.next().unwrap_or_default().to_string();
        if code == Some(0) {
            return Ok(Merged::Clean(tree));
        }
        let mut paths: Vec<String> = fields.map(str::to_string).collect();
        paths.dedup();
        Ok(Merged::Conflict(paths))
    }

    /// Move the index and the work tree from tree-ish `from` (which they
    /// match) to `to`. Untracked files are left alone: git refuses rather
    /// than overwrite one, and nothing has changed then.
    pub fn move_work_tree(&self, from: &str, to: &str) -> Result<()> {
        let out = self
            .git_command()
            .args(["read-tree", "-m", "-u", from, to])
            .output()
            .context("cannot run `git read-tree`")?;
        self.succeeded(out, "bring the task's changes into the work tree")
            .map(drop)
    }

    /// Put the index and the tracked files back as `to` has them.
    pub fn reset_work_tree(&self, to: &str) -> Result<()> {
        let out = self
            .git_command()
            .args(["read-tree", "--reset", "-u", to])
            .output()
            .context("cannot run `git read-tree`")?;
        self.succeeded(out, "put the work tree back").map(drop)
    }

    /// Whether the index holds `tree` and the work tree holds the index,
    /// but for `except` (the status file and the plan, which a checkpoint
    /// writes and stages).
    pub fn holds_exactly(&self, tree: &str, except: &[&str]) -> Result<bool> {
        let excluded: Vec<String> = except
            .iter()
            .map(|p| format!(":(exclude,literal){p}"))
            .collect();
        let cached = self
            .git_command()
            .args(["diff-index", "--cached", "--quiet", tree, "--", "."])
            .args(&excluded)
            .status()
            .context("cannot run `git diff-index`")?;
        if !cached.success() {
            return Ok(false);
        }
        let files = self
            .git_command()
            .args(["diff-files", "--quiet", "--", "."])
            .args(&excluded)
            .status()
            .context("cannot run `git diff-files`")?;
        Ok(files.success())
    }

    /// The directory task worktrees of `milestone` are made in.
    pub fn task_worktrees_dir(&self, milestone: &str) -> std::path::PathBuf {
        self.git_dir()
            .join("milestone")
            .join(milestone)
            .join("jobs")
    }

    /// Whether `path` is a linked worktree git knows about.
    pub fn is_worktree(path: &Path) -> bool {
        path.join(".git").is_file()
    }
}
