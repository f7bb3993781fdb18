//! Trees: a commit's read, and trees written from a base tree and a list
//! of changed paths, without an index: a checkpoint from what `git
//! diff-index --cached` lists after staging, and a failed attempt saved
//! before a rollback.

use git2::{FileMode, Oid};

use super::{Repo, parse_oid};
use crate::error::{Context, Result};

impl Repo {
    /// The tree of commit `oid`.
    pub(super) fn tree_at(&self, oid: &str) -> Result<git2::Tree<'_>> {
        self.tree_named(oid, || oid.to_string())
    }

    /// The tree of checkpoint `oid` (so its errors say).
    pub(super) fn checkpoint_tree(&self, oid: &str) -> Result<git2::Tree<'_>> {
        self.tree_named(oid, || format!("checkpoint {oid}"))
    }

    fn tree_named(&self, oid: &str, named: impl FnOnce() -> String) -> Result<git2::Tree<'_>> {
        self.inner
            .find_commit(parse_oid(oid)?)
            .and_then(|c| c.tree())
            .with_context(|| format!("cannot read the tree of {}", named()))
    }

    /// `base` with each of `upserts` (path, blob, mode) written in and each
    /// of `removals` taken out; directories left empty go too.
    pub(super) fn update_tree(
        &self,
        base: &git2::Tree<'_>,
        upserts: Vec<(&str, Oid, FileMode)>,
        removals: Vec<&str>,
    ) -> Result<Oid> {
        // A file where `base` has a directory: the directory goes first, in
        // a pass of its own (libgit2 will not turn a tree into a blob).
        let dirs: Vec<&str> = upserts
            .iter()
            .map(|u| u.0)
            .filter(|rel| {
                base.get_path(std::path::Path::new(rel))
                    .is_ok_and(|e| e.kind() == Some(git2::ObjectType::Tree))
            })
            .collect();
        let mut first = git2::build::TreeUpdateBuilder::new();
        for rel in dirs.iter().chain(
            removals
                .iter()
                .filter(|r| !dirs.iter().any(|d| r.starts_with(&format!("{d}/")))),
        ) {
            first.remove(*rel);
        }
        let write = "cannot write a tree";
        let cleared = first.create_updated(&self.inner, base).context(write)?;
        let cleared = self.inner.find_tree(cleared).context(write)?;
        let mut second = git2::build::TreeUpdateBuilder::new();
        for (rel, blob, mode) in upserts {
            second.upsert(rel, blob, mode);
        }
        second.create_updated(&self.inner, &cleared).context(write)
    }
}

/// The tree entry mode for a mode as git prints it (`100644`, ...).
pub(super) fn file_mode(octal: &str) -> Option<FileMode> {
    Some(match octal {
        "100644" => FileMode::Blob,
        "100755" => FileMode::BlobExecutable,
        "120000" => FileMode::Link,
        "160000" => FileMode::Commit,
        _ => return None,
    })
}
