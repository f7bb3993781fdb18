//! Reading milestone state from refs and commits: checkpoint refs for
//! `status`, and the status blobs inside pushed commits for the pre-push hook.
//!
//! Nothing here opens the index or walks the work tree; both commands must
//! stay fast in repositories with hundreds of thousands of files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Context, Error, Kind, Result};
use crate::state::{BUNDLES_DIR, STATUS_FILE, Status};

use super::Repo;

/// The namespace of a milestone's checkpoint refs, without the trailing slash.
pub fn checkpoints_prefix(name: &str) -> String {
    format!("refs/milestone/{name}/checkpoints")
}

impl Repo {
    /// The checkpoint refs of milestone `name`, as task ID -> commit id (hex).
    pub fn checkpoint_refs(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let prefix = format!("{}/", checkpoints_prefix(name));
        let refs = self
            .inner
            .references_glob(&format!("{prefix}*"))
            .with_context(|| format!("cannot list the refs under {prefix}"))?;
        let mut found = BTreeMap::new();
        for r in refs {
            let r = r.with_context(|| format!("cannot read a ref under {prefix}"))?;
            let (Ok(full), Some(oid)) = (r.name(), r.target()) else {
                continue;
            };
            if let Some(task) = full.strip_prefix(&prefix) {
                found.insert(task.to_string(), oid.to_string());
            }
        }
        Ok(found)
    }
}

/// A read-only view of a repository's objects, for the pre-push hook.
///
/// Unlike [`Repo`] it needs no work tree (one may push from a bare mirror)
/// and honours `GIT_DIR`, as git's own hooks do.
pub struct Objects {
    inner: git2::Repository,
}

/// One milestone status file found in a commit's tree.
#[derive(Debug)]
pub struct CommittedStatus {
    /// The bundle directory's name (the milestone's name).
    pub name: String,
    /// `.milestone_bundles/<name>/status.json`.
    pub path: String,
    /// The parsed file, or why it could not be read.
    pub status: Result<Status>,
}

impl Objects {
    /// Open the repository that `dir` is in (or `$GIT_DIR`), bare or not.
    pub fn open(dir: &Path) -> Result<Objects> {
        let no_ceilings: [&Path; 0] = [];
        git2::Repository::open_ext(dir, git2::RepositoryOpenFlags::FROM_ENV, no_ceilings)
            .map(|inner| Objects { inner })
            .map_err(|e| {
                Error::new(
                    Kind::NotARepository,
                    format!("not a git repository: {}", dir.display()),
                )
                .with_cause(e)
                .hint("git runs this hook inside a repository; run it from one")
            })
    }

    /// The milestone status files in the tree of commit `oid` (hex), in name order.
    ///
    /// Reads the commit, its root tree, `.milestone_bundles` and one small blob
    /// per milestone: nothing else, whatever the size of the tree.
    pub fn statuses_in_commit(&self, oid: &str) -> Result<Vec<CommittedStatus>> {
        let tree = self.commit_tree(oid)?;
        let Some(tree) = tree else {
            return Ok(Vec::new());
        };
        let Some(bundles) = self.subtree(&tree, BUNDLES_DIR) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in bundles.iter() {
            let Ok(name) = entry.name() else { continue };
            let Ok(dir) = entry.to_object(&self.inner).and_then(|o| o.peel_to_tree()) else {
                continue;
            };
            let Some(file) = dir.get_name(STATUS_FILE) else {
                continue;
            };
            let path = format!("{BUNDLES_DIR}/{name}/{STATUS_FILE}");
            let status = self
                .inner
                .find_blob(file.id())
                .with_context(|| format!("cannot read {path} in commit {oid}"))
                .and_then(|blob| Status::parse(blob.content(), &path));
            found.push(CommittedStatus {
                name: name.to_string(),
                path,
                status,
            });
        }
        Ok(found)
    }

    /// The root tree of `oid`, or `None` when it names no commit (a pushed
    /// tree or blob: nothing a milestone could live in).
    fn commit_tree(&self, oid: &str) -> Result<Option<git2::Tree<'_>>> {
        let id = git2::Oid::from_str(oid)
            .map_err(|e| Error::bad_input(format!("{oid:?} is not an object id")).with_cause(e))?;
        let object = self
            .inner
            .find_object(id, None)
            .with_context(|| format!("cannot find object {oid} in this repository"))?;
        match object.peel_to_commit() {
            Ok(commit) => commit
                .tree()
                .with_context(|| format!("cannot read the tree of commit {oid}"))
                .map(Some),
            Err(_) => Ok(None),
        }
    }

    fn subtree<'r>(&'r self, tree: &git2::Tree<'r>, name: &str) -> Option<git2::Tree<'r>> {
        let entry = tree.get_name(name)?;
        entry.to_object(&self.inner).ok()?.peel_to_tree().ok()
    }
}
