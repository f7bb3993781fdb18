//! HEAD's first-parent line as `log`, `bisect` and `squash` read it: where
//! a milestone's checkpoints sit on it, and what each commit holds.

use std::collections::HashSet;

use git2::Oid;

use super::{Repo, parse_oid};
use crate::error::{Context, Result};

impl Repo {
    /// Those of `wanted` that are on HEAD's first-parent line, oldest
    /// first. The walk stops at `stop` (not included) when it is on the
    /// line, or once every wanted commit is found.
    pub fn first_parent_order(
        &self,
        wanted: &HashSet<String>,
        stop: Option<&str>,
    ) -> Result<Vec<String>> {
        let mut found = Vec::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.push_head().context("cannot walk history from HEAD")?;
        walk.simplify_first_parent()
            .context("cannot walk history")?;
        let stop = stop.and_then(|s| Oid::from_str(s).ok());
        for oid in walk {
            let oid = oid.context("cannot walk history from HEAD")?;
            if Some(oid) == stop {
                break;
            }
            let hex = oid.to_string();
            if wanted.contains(&hex) {
                found.push(hex);
                if found.len() == wanted.len() {
                    break;
                }
            }
        }
        found.reverse();
        Ok(found)
    }

    /// The id of commit `oid`'s tree.
    pub fn tree_of(&self, oid: &str) -> Result<String> {
        self.inner
            .find_commit(parse_oid(oid)?)
            .map(|c| c.tree_id().to_string())
            .with_context(|| format!("cannot read commit {oid}"))
    }

    /// The first line of commit `oid`'s message.
    pub fn subject(&self, oid: &str) -> Result<String> {
        let message = self.commit_message(oid)?;
        Ok(message.lines().next().unwrap_or("").to_string())
    }

    /// The bytes of the file at `path` (`/`-separated, from the root) in
    /// commit `oid`; `None` when the commit has no regular file there.
    pub fn file_at(&self, oid: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let commit = self
            .inner
            .find_commit(parse_oid(oid)?)
            .with_context(|| format!("cannot read commit {oid}"))?;
        let tree = commit
            .tree()
            .with_context(|| format!("cannot read commit {oid}"))?;
        let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
            return Ok(None);
        };
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self
            .inner
            .find_blob(entry.id())
            .with_context(|| format!("cannot read {path} in commit {oid}"))?;
        Ok(Some(blob.content().to_vec()))
    }
}
