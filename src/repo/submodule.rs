//! Submodules as a rollback sees them. The superproject's status walk
//! leaves them out; a task may still have committed, edited or created
//! files inside one. That work is saved as a commit in the submodule
//! (under the same attempt ref name), the saved attempt's tree records
//! that commit for the submodule, and the restore and `--undo` run in the
//! submodule as they do in the superproject.

use std::path::Path;

use super::Repo;
use super::scan::Scope;
use crate::error::{Context, Error, Result};

/// A checked-out submodule with work a rollback must not lose.
#[derive(Debug, Clone)]
pub struct SubmoduleWork {
    /// Its path in the superproject, `/`-separated.
    pub path: String,
    /// The commit the checkpoint records for it; `None` when the
    /// checkpoint has no submodule there (the task added it).
    pub target: Option<String>,
}

impl Repo {
    /// The checked-out submodules whose HEAD is not the commit `checkpoint`
    /// records for them, or whose work tree has changes (untracked files
    /// included, ignored ones not).
    pub fn submodules_with_work(&self, checkpoint: &str) -> Result<Vec<SubmoduleWork>> {
        // Reading the submodule list opens the index: only where there are any.
        if !self.root().join(".gitmodules").exists() {
            return Ok(Vec::new());
        }
        let tree = self.checkpoint_tree(checkpoint)?;
        let subs = self
            .inner
            .submodules()
            .context("cannot list the submodules")?;
        let mut out = Vec::new();
        for sm in subs {
            let Some(path) = sm.path().to_str().map(str::to_string) else {
                continue;
            };
            let Ok(sub) = self.submodule(&path) else {
                continue;
            };
            let target = tree
                .get_path(Path::new(&path))
                .ok()
                .filter(|e| e.kind() == Some(git2::ObjectType::Commit))
                .map(|e| e.id().to_string());
            let head = sub.head_if_born()?;
            let moved = head.is_some() && head != target;
            if moved || !sub.changed_paths()?.is_empty() {
                out.push(SubmoduleWork { path, target });
            }
        }
        Ok(out)
    }

    /// The checked-out submodule at `rel`, opened as a repository.
    pub fn submodule(&self, rel: &str) -> Result<Repo> {
        let dir = self.root().join(rel);
        if !dir.join(".git").exists() {
            return Err(Error::failed(format!("submodule {rel} is not checked out")));
        }
        let inner =
            git2::Repository::open(&dir).with_context(|| format!("cannot open submodule {rel}"))?;
        Repo::from_git2(inner)
    }

    /// What changed inside the submodule at `rel`, for a message: `new.txt
    /// untracked, f.txt modified` (at most `max` files), or `None` when it
    /// is no checked-out submodule or nothing in its work tree changed.
    pub fn describe_submodule(&self, rel: &str, max: usize) -> Option<String> {
        let sub = self.submodule(rel).ok()?;
        let changes = sub.scan(Scope::Rollback).ok()?;
        if changes.is_empty() {
            return None;
        }
        let shown: Vec<String> = changes
            .iter()
            .map(|c| {
                let what = if c.is_untracked() {
                    "untracked"
                } else {
                    "modified"
                };
                format!("{} {what}", crate::ui::text::clean(&c.path_lossy()))
            })
            .collect();
        Some(crate::ui::text::list(&shown, max))
    }
}
