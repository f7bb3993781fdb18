//! What `squash` does in git: the squashed commit (a tip's tree with the
//! base's bookkeeping), creating, moving and deleting branches safely, and
//! numbered safety refs.

use std::path::PathBuf;

use super::ident::Unknown;
use super::{Repo, parse_oid};
use crate::error::{Context, Error, Result};
use crate::milestone::BUNDLES_DIR;

impl Repo {
    /// The tree of commit `tip` with `.milestone_bundles` as commit `base`
    /// has it, less milestone `name`'s own bundle (a base can hold an earlier
    /// run's, after `--restart`, which would misstate the work), or without
    /// it when nothing is left: the milestone's work without the
    /// milestone's bookkeeping. Writes tree objects only.
    pub fn tree_without_bookkeeping(&self, tip: &str, base: &str, name: &str) -> Result<String> {
        let (tip_tree, base_tree) = (self.tree_at(tip)?, self.tree_at(base)?);
        let mut builder = self
            .inner
            .treebuilder(Some(&tip_tree))
            .context("cannot build a tree")?;
        match self.bundles_without(&base_tree, name)? {
            Some((id, mode)) => {
                builder
                    .insert(BUNDLES_DIR, id, mode)
                    .context("cannot build a tree")?;
            }
            None if tip_tree.get_name(BUNDLES_DIR).is_some() => {
                builder.remove(BUNDLES_DIR).context("cannot build a tree")?;
            }
            None => return Ok(tip_tree.id().to_string()),
        }
        let oid = builder.write().context("cannot write a tree")?;
        Ok(oid.to_string())
    }

    /// `tree`'s `.milestone_bundles` entry without `name`'s bundle; `None`
    /// when there is none or nothing else is in it.
    fn bundles_without(
        &self,
        tree: &git2::Tree<'_>,
        name: &str,
    ) -> Result<Option<(git2::Oid, i32)>> {
        let Some(entry) = tree.get_name(BUNDLES_DIR) else {
            return Ok(None);
        };
        let mode = entry.filemode();
        let Ok(bundles) = self.inner.find_tree(entry.id()) else {
            // Not a directory: kept as it is.
            return Ok(Some((entry.id(), mode)));
        };
        if bundles.get_name(name).is_none() {
            return Ok(Some((entry.id(), mode)));
        }
        let mut builder = self
            .inner
            .treebuilder(Some(&bundles))
            .context("cannot build a tree")?;
        builder.remove(name).context("cannot build a tree")?;
        if builder.is_empty() {
            return Ok(None);
        }
        let oid = builder.write().context("cannot write a tree")?;
        Ok(Some((oid, mode)))
    }

    /// Write a commit of `tree` on `parent` with `message`, authored and
    /// committed by the user as git works them out. No ref moves.
    pub fn write_commit(&self, tree: &str, parent: &str, message: &str) -> Result<String> {
        let [author, committer] = self.signatures(Unknown::Refuse)?;
        let tree = self
            .inner
            .find_tree(parse_oid(tree)?)
            .with_context(|| format!("cannot read tree {tree}"))?;
        let parent = self
            .inner
            .find_commit(parse_oid(parent)?)
            .with_context(|| format!("cannot read commit {parent}"))?;
        let oid = self
            .inner
            .commit(None, &author, &committer, message, &tree, &[&parent])
            .context("cannot write the squashed commit")?;
        Ok(oid.to_string())
    }

    /// The short name of the branch HEAD is on (`main`); `None` when
    /// detached.
    pub fn current_branch_name(&self) -> Option<String> {
        self.head_branch()?
            .strip_prefix("refs/heads/")
            .map(str::to_string)
    }

    /// Refuse a branch name git would refuse, before anything reads or writes it.
    pub fn check_branch_name(name: &str) -> Result<()> {
        if git2::Branch::name_is_valid(name).unwrap_or(false) {
            return Ok(());
        }
        Err(
            Error::bad_input(format!("{name:?} is not a valid branch name"))
                .hint("name another with `--branch NAME` (see `git check-ref-format --branch`)"),
        )
    }

    /// Create branch `name` at `oid`; refuses a name git would refuse, and
    /// one that exists.
    pub fn create_branch(&self, name: &str, oid: &str) -> Result<()> {
        let full = format!("refs/heads/{name}");
        Self::check_branch_name(name)?;
        // Compare and swap from nothing: git refuses if it appeared since.
        let out = self.git(&["update-ref", "-m", "milestone: squash", &full, oid, ""])?;
        self.succeeded(out, &format!("create branch {name}"))?;
        Ok(())
    }

    /// Delete branch `name` if it still points at `expected`.
    pub fn delete_branch_at(&self, name: &str, expected: &str) -> Result<()> {
        let full = format!("refs/heads/{name}");
        let out = self.git(&["update-ref", "-d", &full, expected])?;
        self.succeeded(out, &format!("delete branch {name}"))?;
        Ok(())
    }

    /// Move HEAD (and its branch) to `oid` as `git reset --keep` does:
    /// files that differ between the two commits are updated, and git
    /// refuses, changing nothing, where that would lose a local change.
    pub fn reset_keep(&self, oid: &str) -> Result<()> {
        let out = self.git(&["reset", "-q", "--keep", oid])?;
        self.succeeded(
            out,
            &format!("move the branch to {oid} (`git reset --keep`)"),
        )?;
        Ok(())
    }

    /// The worktrees (this one included) that have branch `name` checked out.
    pub fn worktrees_on_branch(&self, name: &str) -> Result<Vec<PathBuf>> {
        let out = self.git(&["worktree", "list", "--porcelain", "-z"])?;
        let out = self.succeeded(out, "list the worktrees")?;
        let want = format!("branch refs/heads/{name}");
        let mut found = Vec::new();
        let mut path = None;
        for field in out.stdout.split(|b| *b == 0) {
            let field = String::from_utf8_lossy(field);
            if let Some(p) = field.strip_prefix("worktree ") {
                path = Some(PathBuf::from(p));
            } else if field == want {
                found.extend(path.take());
            }
        }
        Ok(found)
    }
}
