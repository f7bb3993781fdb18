//! Read-only object access for the pre-push hook: the status blobs inside
//! pushed commits, in any repository git can push from.
//!
//! Nothing here opens the index or walks the work tree; both commands must
//! stay fast in repositories with hundreds of thousands of files.

use std::path::Path;

use crate::error::{Context, Error, Kind, Result};
use crate::milestone::{BUNDLES_DIR, STATUS_FILE};

/// A read-only view of a repository's objects, for the pre-push hook.
///
/// Unlike [`Repo`] it needs no work tree (one may push from a bare mirror)
/// and honours `GIT_DIR`, as git's own hooks do.
pub struct Objects {
    inner: git2::Repository,
}

/// One milestone status file found in a commit's tree, unparsed: what it
/// says is the caller's to read (`state::Status::parse`).
#[derive(Debug)]
pub struct CommittedStatus {
    /// The bundle directory's name (the milestone's name).
    pub name: String,
    /// `.milestone_bundles/<name>/status.json`.
    pub path: String,
    /// The blob's bytes, or why they could not be read.
    pub blob: Result<Vec<u8>>,
}

/// What [`Objects::open`] found.
pub enum Opened {
    Objects(Objects),
    /// A repository libgit2 cannot read (its object format, e.g. sha256),
    /// which the pre-push hook can still ask the git program about.
    Foreign(Foreign),
}

impl Objects {
    /// Open the repository that `dir` is in (or `$GIT_DIR`), bare or not.
    pub fn open(dir: &Path) -> Result<Opened> {
        match Objects::open_git2(dir) {
            Ok(objects) => Ok(Opened::Objects(objects)),
            Err(e) => match object_format(dir) {
                Some(format) if format != "sha1" => Ok(Opened::Foreign(Foreign {
                    dir: dir.to_path_buf(),
                    format,
                })),
                _ => Err(e),
            },
        }
    }

    fn open_git2(dir: &Path) -> Result<Objects> {
        // libgit2 re-hashes every object it reads (with collision detection);
        // on a 100,000-entry tree that was 90% of the hook's time. git itself
        // checks hashes in fsck, not on every read, and so does this.
        git2::opts::strict_hash_verification(false);
        let no_ceilings: [&Path; 0] = [];
        git2::Repository::open_ext(dir, git2::RepositoryOpenFlags::FROM_ENV, no_ceilings)
            .map(|inner| Objects { inner })
            .map_err(|e| {
                Error::new(
                    Kind::NotARepository,
                    format!("not a git repository: {}", dir.display()),
                )
                .with_cause_unless(e.code() == git2::ErrorCode::NotFound, e)
                .hint("git runs this hook inside a repository; run it from one")
            })
    }

    /// The milestone status files in the tree of commit `oid` (hex), in name order.
    ///
    /// Reads the commit, its root tree, `.milestone_bundles` and one small blob
    /// per milestone: nothing else, whatever the size of the tree.
    pub fn statuses_in_commit(&self, oid: &str) -> Result<Vec<CommittedStatus>> {
        let Some(root) = self.commit_tree_id(oid)? else {
            return Ok(Vec::new());
        };
        let Some(bundles_id) = self.subtree_id(root, BUNDLES_DIR)? else {
            return Ok(Vec::new());
        };
        let bundles = self
            .inner
            .find_tree(bundles_id)
            .with_context(|| format!("cannot read {BUNDLES_DIR} in commit {oid}"))?;
        let mut found = Vec::new();
        for entry in bundles.iter() {
            let Ok(name) = entry.name() else { continue };
            // Only directories can hold a status file: a stray file here is
            // not worth reading (to_object would inflate the whole blob).
            if entry.kind() != Some(git2::ObjectType::Tree) {
                continue;
            }
            let Ok(dir) = entry.to_object(&self.inner).and_then(|o| o.peel_to_tree()) else {
                continue;
            };
            let Some(file) = dir.get_name(STATUS_FILE) else {
                continue;
            };
            let path = format!("{BUNDLES_DIR}/{name}/{STATUS_FILE}");
            // A symlink's blob is its target's name: never parse it as a status.
            if file.filemode() != i32::from(git2::FileMode::Blob)
                && file.filemode() != i32::from(git2::FileMode::BlobExecutable)
            {
                found.push(CommittedStatus {
                    name: name.to_string(),
                    blob: Err(Error::refused(format!(
                        "{path} is a symbolic link, not a status file"
                    ))),
                    path,
                });
                continue;
            }
            let blob = self
                .inner
                .find_blob(file.id())
                .with_context(|| format!("cannot read {path} in commit {oid}"))
                .map(|blob| blob.content().to_vec());
            found.push(CommittedStatus {
                name: name.to_string(),
                path,
                blob,
            });
        }
        Ok(found)
    }

    /// The root tree of `oid`, or `None` when it names no commit (a pushed
    /// tree or blob: nothing a milestone could live in).
    fn commit_tree_id(&self, oid: &str) -> Result<Option<git2::Oid>> {
        let id = git2::Oid::from_str(oid)
            .map_err(|e| Error::bad_input(format!("{oid:?} is not an object id")).with_cause(e))?;
        let object = self
            .inner
            .find_object(id, None)
            .with_context(|| format!("cannot find object {oid} in this repository"))?;
        Ok(object.peel_to_commit().ok().map(|c| c.tree_id()))
    }

    /// The id of the subtree `name` in tree `tree`, if there is one.
    ///
    /// Scans the raw tree object instead of parsing it whole, and stops once
    /// past where `name` sorts: a root tree of 100,000 entries costs little
    /// more than a small one, as `.milestone_bundles` sorts near the start.
    fn subtree_id(&self, tree: git2::Oid, name: &str) -> Result<Option<git2::Oid>> {
        let odb = self
            .inner
            .odb()
            .context("cannot open the object database")?;
        let raw = odb
            .read(tree)
            .with_context(|| format!("cannot read tree {tree}"))?;
        Ok(find_subtree(raw.data(), name, tree.as_bytes().len()))
    }
}

/// A repository in an object format libgit2 cannot read.
pub struct Foreign {
    dir: std::path::PathBuf,
    /// The format's name, as git spells it (`sha256`).
    pub format: String,
}

impl Foreign {
    /// Whether commit `oid` holds a `.milestone_bundles` directory, asked of
    /// the git program.
    pub fn has_bundles(&self, oid: &str) -> Result<bool> {
        let out = git_in(&self.dir)
            .args(["cat-file", "-t", &format!("{oid}:{BUNDLES_DIR}")])
            .output()
            .context("cannot run `git cat-file`")?;
        Ok(out.status.success() && out.stdout.starts_with(b"tree"))
    }
}

/// The object format of the repository `dir` is in (`sha1`, `sha256`), as
/// the git program reports it; `None` when git cannot tell.
pub fn object_format(dir: &Path) -> Option<String> {
    let out = git_in(dir)
        .args(["rev-parse", "--show-object-format"])
        .output()
        .ok()?;
    let format = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !format.is_empty()).then_some(format)
}

/// The error for a repository whose object format libgit2 cannot read,
/// when that is why `dir` could not be opened.
pub fn unsupported_format_error(dir: &Path) -> Option<Error> {
    let format = object_format(dir).filter(|f| f != "sha1")?;
    Some(
        Error::refused(format!(
            "this repository uses the {format} object format, which git-milestone cannot read yet"
        ))
        .hint("git-milestone works in repositories of git's default format (sha1)")
        .hint(format!(
            "its pre-push hook lets pushes through from {format} repositories when they carry no milestones"
        )),
    )
}

/// `git` run in `dir`, for the few questions asked where libgit2 cannot
/// open the repository (no [`Repo`] exists to build the command).
fn git_in(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.current_dir(dir).stdin(std::process::Stdio::null());
    cmd
}

/// Find subtree `name` in the bytes of a tree object (entries of `<mode> SP
/// <name> NUL <hash>`, sorted with directory names compared as `name/`).
fn find_subtree(mut data: &[u8], name: &str, hash_len: usize) -> Option<git2::Oid> {
    let want = format!("{name}/");
    while !data.is_empty() {
        let space = data.iter().position(|b| *b == b' ')?;
        let nul = space + data[space..].iter().position(|b| *b == 0)?;
        let hash = data.get(nul + 1..nul + 1 + hash_len)?;
        let (mode, entry) = (&data[..space], &data[space + 1..nul]);
        let is_tree = mode == b"40000";
        let key = [entry, if is_tree { b"/" } else { b"" }].concat();
        match key.as_slice().cmp(want.as_bytes()) {
            std::cmp::Ordering::Equal => return git2::Oid::from_bytes(hash).ok(),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => data = &data[nul + 1 + hash_len..],
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_subtree;

    fn entry(mode: &str, name: &str, fill: u8) -> Vec<u8> {
        [mode.as_bytes(), b" ", name.as_bytes(), b"\0", &[fill; 20]].concat()
    }

    #[test]
    fn finds_a_subtree_in_sorted_entries_and_stops_past_it() {
        let tree = [
            entry("100644", ".gitignore", 1),
            entry("100644", ".milestone_bundles", 2), // a file of that name is not it
            entry("40000", ".milestone_bundles", 3),
            entry("40000", "src", 4),
        ]
        .concat();
        let found = find_subtree(&tree, ".milestone_bundles", 20).unwrap();
        assert_eq!(found.as_bytes(), [3; 20]);
        assert_eq!(find_subtree(&tree, "docs", 20), None);
        assert_eq!(find_subtree(&tree, "zzz", 20), None);
        assert_eq!(find_subtree(&tree[..30], "src", 20), None);
    }
}
