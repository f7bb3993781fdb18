//! Saving a failed attempt under a ref and putting the branch and work tree
//! back at a checkpoint (and the reverse, for `rollback --undo`).
//!
//! The work tree is read once, by `git status` (which never lists ignored
//! files), and untracked files are removed one by one before git puts the
//! tracked ones back (`restore`, or `reset --hard`): libgit2's hard reset
//! ignores `remove_untracked`, and its checkout with `REMOVE_UNTRACKED`
//! deletes ignored files inside untracked directories. Every read and
//! write of the index and the work tree is git's, so clean and smudge
//! filters (Git LFS) and a split index work as in git; libgit2 writes only
//! objects and refs here.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use super::Repo;
pub use super::ignore::Hidden;
use super::parse_oid;
use super::scan::Scope;
use crate::error::{Context, Result};

pub use super::history::DiscardedCommit;

/// The work tree's differences from HEAD, read once per rollback: tracked
/// changes, staged or not, and untracked (not ignored) files,
/// `/`-separated; submodules are left out. Derefs to the paths.
#[derive(Debug, Default)]
pub struct Changed {
    paths: Vec<String>,
    /// Those not in the index.
    untracked: HashSet<String>,
    /// Tracked ones deleted from the index.
    deleted_from_index: HashSet<String>,
    /// Whether the index records a conflict.
    unmerged: bool,
}

impl std::ops::Deref for Changed {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.paths
    }
}

impl Changed {
    /// Whether `path` is untracked (not in the index).
    pub fn is_untracked(&self, path: &str) -> bool {
        self.untracked.contains(path)
    }
}

/// A file kept byte for byte across a rollback (the status file, and
/// untracked files from before the run that a task's commit may have adopted).
struct KeptFile {
    rel: String,
    bytes: Vec<u8>,
    mode: fs::Permissions,
}

impl Repo {
    /// Paths that differ from HEAD: tracked changes, staged changes and
    /// untracked (not ignored) files, `/`-separated.
    pub fn changed_paths(&self) -> Result<Changed> {
        let mut out = Changed::default();
        let (mut tracked, mut seen) = (HashSet::new(), HashSet::new());
        for change in self.scan(Scope::Rollback)? {
            let path = change.path_lossy().into_owned();
            if change.is_untracked() {
                out.untracked.insert(path.clone());
            } else {
                if change.is_deleted_from_index() {
                    out.deleted_from_index.insert(path.clone());
                }
                tracked.insert(path.clone());
            }
            out.unmerged |= change.is_unmerged();
            // `git rm --cached f` shows as `D  f` and `?? f`: one path.
            if seen.insert(path.clone()) {
                out.paths.push(path);
            }
        }
        // Such a file is tracked at HEAD: restoring it is the rollback's job.
        out.untracked.retain(|p| !tracked.contains(p));
        Ok(out)
    }

    /// Untracked directories that hold a repository of their own (status
    /// lists them as `dir/` and does not look inside); libgit2 cannot add
    /// them to a tree.
    /// `changed` is what [`changed_paths`](Self::changed_paths) returned.
    pub fn nested_repositories(&self, changed: &[String]) -> Vec<String> {
        changed
            .iter()
            .filter(|p| p.ends_with('/') && self.root().join(p).join(".git").exists())
            .cloned()
            .collect()
    }

    /// Put the branch, index and work tree back at `target`, exactly:
    /// files tracked now but not at `target` and untracked (not ignored)
    /// files are removed, except `keep`; ignored files are not touched;
    /// files in `keep` end up as they are now, byte for byte. `scan` is as
    /// for [`save_work_tree`](Self::save_work_tree). Returns the files it
    /// removed (those `target` does not have), sorted.
    ///
    /// Kept files the reset may overwrite (tracked now, or where `target`
    /// has a file) are copied to `park` first, for [`unpark`](Self::unpark)
    /// to put back should the rollback be stopped before it does.
    pub fn restore_checkpoint(
        &self,
        target: &str,
        keep: &[String],
        scan: (&Changed, Hidden),
        park: Option<&Path>,
    ) -> Result<Vec<String>> {
        let commit = self
            .inner
            .find_commit(parse_oid(target)?)
            .with_context(|| format!("cannot read checkpoint {target}"))?;
        let tree = commit
            .tree()
            .with_context(|| format!("cannot read the tree of checkpoint {target}"))?;
        let (changed, hidden) = scan;
        let keep = with_hidden(keep, changed, &hidden);
        let kept = self.read_kept(&keep)?;
        let at_risk: Vec<&KeptFile> = kept
            .iter()
            .filter(|k| !changed.is_untracked(&k.rel) || tree.get_path(Path::new(&k.rel)).is_ok())
            .collect();
        if let Some(park) = park {
            park_files(park, &at_risk)?;
        }
        let goes =
            |p: &str| !is_kept(p, &keep) && !hidden.new.contains(p) && self.no_file_at(&tree, p);
        let doomed: Vec<&String> = changed.iter().filter(|p| goes(p)).collect();
        let since_checkpoint = hidden.since_checkpoint.iter().flatten();
        let removed = self.removed_of(doomed.iter().copied().chain(since_checkpoint), goes);
        // The reset would leave untracked files behind (see the module
        // comment). Removing them first also clears the way for a tracked
        // file where the task put an untracked directory.
        for rel in doomed {
            self.remove_file_and_empty_dirs(rel)?;
        }
        self.reset_to(&commit, changed, hidden.since_checkpoint.as_deref())?;
        self.write_kept(&kept)?;
        Ok(removed)
    }

    /// Whether `tree` (a checkpoint's) has no file at `rel`: nothing there,
    /// or a directory where the work tree has a file or a symbolic link.
    fn no_file_at(&self, tree: &git2::Tree<'_>, rel: &str) -> bool {
        match tree.get_path(Path::new(rel)) {
            Err(_) => true,
            Ok(e) => {
                e.kind() == Some(git2::ObjectType::Tree)
                    && fs::symlink_metadata(self.root().join(rel)).is_ok_and(|m| !m.is_dir())
            }
        }
    }

    /// Which of `paths` the rollback removes (those `goes` says the
    /// checkpoint has no file for, that are a file or a link in the work
    /// tree through real directories), sorted, each once.
    fn removed_of<'p>(
        &self,
        paths: impl Iterator<Item = &'p String>,
        goes: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut dirs = RealDirs::default();
        let mut removed: Vec<String> = paths
            .filter(|p| goes(p))
            .filter(|p| {
                fs::symlink_metadata(self.root().join(p)).is_ok_and(|m| !m.is_dir())
                    && dirs.reach(self.root(), p)
            })
            .cloned()
            .collect();
        removed.sort();
        removed.dedup();
        removed
    }

    /// `git reset --hard <target>` for tracked files, done by git (libgit2's
    /// checkout took several times as long, needed a second pass where a
    /// directory turns back into a file, and runs no smudge filters). Only
    /// the paths that can differ are checked out: those `changed` lists as
    /// tracked, and those that differ between HEAD and `target`. Every
    /// other index entry already matches `target` and its file, so a reset
    /// of the whole tree would read 100,000 files to write 15. A conflict,
    /// many paths, or a path git will not restore gets the whole reset.
    fn reset_to(
        &self,
        target: &git2::Commit<'_>,
        changed: &Changed,
        since_checkpoint: Option<&[String]>,
    ) -> Result<()> {
        const MAX_PATHS: usize = 1000;
        let id = target.id().to_string();
        let Some(since_checkpoint) = since_checkpoint else {
            return self.reset_branch("--hard", &id);
        };
        let paths = self.paths_to_restore(target, changed, since_checkpoint)?;
        // The scan leaves submodules out, so it cannot list a gitlink the
        // task changed: where there are submodules, the whole reset.
        if changed.unmerged || paths.len() > MAX_PATHS || self.root().join(".gitmodules").exists() {
            return self.reset_branch("--hard", &id);
        }
        // The branch first, with the reflog entry a hard reset writes.
        self.reset_branch("--soft", &id)?;
        if paths.is_empty() || self.restore_from(&id, &paths)? {
            return Ok(());
        }
        // Sparse checkouts and the like: the whole reset does what restore
        // would not.
        self.reset_branch("--hard", &id)
    }

    /// `git reset -q <mode> <id>`. Submodules are the caller's
    /// (`submodule.rs`): their work trees are put back from what was
    /// saved, never by a recursive reset.
    fn reset_branch(&self, mode: &str, id: &str) -> Result<()> {
        let args = [
            NO_RECURSE,
            "submodule.recurse=false",
            "reset",
            "-q",
            mode,
            id,
        ];
        let out = self.git(&args)?;
        self.succeeded(out, &format!("reset to checkpoint {id}"))?;
        Ok(())
    }

    /// `git restore` of `paths` in the index and the work tree from commit
    /// `id`; whether git did it.
    fn restore_from(&self, id: &str, paths: &[String]) -> Result<bool> {
        let mut input = Vec::new();
        for p in paths {
            input.extend_from_slice(p.as_bytes());
            input.push(0);
        }
        let source = format!("--source={id}");
        let out = self.git_input(
            &[
                NO_RECURSE,
                "submodule.recurse=false",
                "--literal-pathspecs",
                "restore",
                "-q",
                &source,
                "--staged",
                "--worktree",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ],
            &input,
        )?;
        Ok(out.status.success())
    }

    /// The tracked paths that may differ from `target` in the index or the
    /// work tree, and that git knows (in `target` or in the index, as
    /// `restore` requires): `changed`'s tracked ones, and
    /// `since_checkpoint`, what differs between `target` and HEAD.
    fn paths_to_restore(
        &self,
        target: &git2::Commit<'_>,
        changed: &Changed,
        since_checkpoint: &[String],
    ) -> Result<Vec<String>> {
        let head = self
            .inner
            .head()
            .and_then(|h| h.peel_to_tree())
            .context("cannot read the tree HEAD points at")?;
        let goal = target
            .tree()
            .with_context(|| format!("cannot read the tree of checkpoint {}", target.id()))?;
        let in_changed: HashSet<&str> = changed
            .iter()
            .filter(|p| !changed.is_untracked(p))
            .map(String::as_str)
            .collect();
        let in_index = |p: &str| {
            if in_changed.contains(p) {
                !changed.deleted_from_index.contains(p)
            } else {
                head.get_path(Path::new(p)).is_ok()
            }
        };
        let all: std::collections::BTreeSet<&str> = in_changed
            .iter()
            .copied()
            .chain(since_checkpoint.iter().map(String::as_str))
            .collect();
        Ok(all
            .into_iter()
            .filter(|p| goal.get_path(Path::new(p)).is_ok() || in_index(p))
            .map(str::to_string)
            .collect())
    }

    /// Undo [`restore_checkpoint`](Self::restore_checkpoint): put the branch
    /// at the saved commit's parent and the work tree at the saved commit's
    /// tree, with the index at the parent, so the attempt's new files are
    /// untracked again and its edits unstaged. By git, the very commands a
    /// rollback prints for doing it without git-milestone: its checkout
    /// runs smudge filters and reads any index format.
    pub fn restore_saved(&self, saved: &str) -> Result<()> {
        let commit = self
            .inner
            .find_commit(parse_oid(saved)?)
            .with_context(|| format!("cannot read saved attempt {saved}"))?;
        let parent = commit
            .parent(0)
            .with_context(|| format!("saved attempt {saved} has no parent"))?;
        let id = commit.id().to_string();
        for args in [
            &[
                NO_RECURSE,
                "submodule.recurse=false",
                "read-tree",
                "-u",
                "--reset",
                &id,
            ][..],
            &[
                NO_RECURSE,
                "submodule.recurse=false",
                "reset",
                "-q",
                &parent.id().to_string(),
            ],
        ] {
            let out = self.git(args)?;
            self.succeeded(
                out,
                &format!(
                    "restore the saved attempt {saved} (`git {}`)",
                    args.join(" ")
                ),
            )?;
        }
        Ok(())
    }

    /// Put back the files [`restore_checkpoint`](Self::restore_checkpoint)
    /// parked in `park`, where the restore to `target` was stopped after
    /// overwriting them: a file that is gone, or holds `target`'s version.
    /// A file changed since in any other way is left as it is.
    pub fn unpark(&self, park: &Path, target: &str) -> Result<()> {
        let Ok(index) = fs::read(park.join(PARK_INDEX)) else {
            return Ok(());
        };
        let tree = self.checkpoint_tree(target)?;
        let fields: Vec<&[u8]> = index.split(|b| *b == 0).collect();
        let mut parked = Vec::new();
        for (i, pair) in fields.chunks_exact(2).enumerate() {
            let mode = String::from_utf8_lossy(pair[0])
                .parse::<u32>()
                .unwrap_or(0o644);
            let rel = String::from_utf8_lossy(pair[1]).into_owned();
            let bytes = fs::read(park.join(i.to_string()))
                .with_context(|| format!("cannot read the parked copy of {rel}"))?;
            parked.push(KeptFile {
                rel,
                bytes,
                mode: std::os::unix::fs::PermissionsExt::from_mode(mode),
            });
        }
        let rels: Vec<&str> = parked.iter().map(|k| k.rel.as_str()).collect();
        let now = self.hash_files(&rels, &tree)?;
        let overwritten: Vec<KeptFile> = parked
            .into_iter()
            .zip(now)
            .filter(|(k, now)| match now {
                None => true,
                Some((blob, _)) => tree
                    .get_path(Path::new(&k.rel))
                    .is_ok_and(|e| e.id() == *blob),
            })
            .map(|(k, _)| k)
            .collect();
        self.write_kept(&overwritten)
    }

    fn read_kept(&self, keep: &[String]) -> Result<Vec<KeptFile>> {
        let mut out = Vec::new();
        let mut dirs = RealDirs::default();
        for rel in keep {
            if !dirs.reach(self.root(), rel) {
                continue;
            }
            let path = self.root().join(rel);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => out.push(KeptFile {
                    rel: rel.clone(),
                    bytes: fs::read(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                    mode: m.permissions(),
                }),
                _ => {}
            }
        }
        Ok(out)
    }

    fn write_kept(&self, kept: &[KeptFile]) -> Result<()> {
        for k in kept {
            if !RealDirs::default().reach(self.root(), &k.rel) {
                continue;
            }
            let path = self.root().join(&k.rel);
            if fs::read(&path).is_ok_and(|b| b == k.bytes) {
                continue;
            }
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            fs::write(&path, &k.bytes)
                .and_then(|()| fs::set_permissions(&path, k.mode.clone()))
                .with_context(|| format!("cannot restore {}", path.display()))?;
        }
        Ok(())
    }

    /// Remove one file, then each parent directory it leaves empty (a
    /// directory that still holds an ignored file stays).
    fn remove_file_and_empty_dirs(&self, rel: &str) -> Result<()> {
        // Never through a symbolic link: the file it reaches is not ours.
        if !RealDirs::default().reach(self.root(), rel) {
            return Ok(());
        }
        let path = self.root().join(rel);
        match fs::remove_file(&path) {
            Ok(()) => {}
            // Already gone, or a parent is now a file: nothing to remove.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
        self.remove_empty_parents(&path);
        Ok(())
    }

    /// Remove the directories that held `files` (the attempt's, all
    /// removed by now) and are left empty: a rollback stopped between
    /// removing a directory's last file and the directory itself leaves
    /// it, and git does not list an empty directory for the rollback that
    /// finishes the job to find.
    pub fn remove_emptied_dirs(&self, files: &[String]) {
        let mut dirs = RealDirs::default();
        for rel in files {
            let path = self.root().join(rel);
            if dirs.reach(self.root(), rel) && fs::symlink_metadata(&path).is_err() {
                self.remove_empty_parents(&path);
            }
        }
    }

    /// Remove each directory above `path` that is empty, up to the root (a
    /// directory that still holds an ignored file stays).
    fn remove_empty_parents(&self, path: &Path) {
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root() || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

const PARK_INDEX: &str = "index";

/// `-c`, before `submodule.recurse=false`.
const NO_RECURSE: &str = "-c";

/// Copy `files` into the directory `park` (emptied first): each file's
/// bytes as `<n>`, and `index` listing each one's mode and path, written
/// last, so that a parked set is whole or absent.
fn park_files(park: &Path, files: &[&KeptFile]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match fs::remove_dir_all(park) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot remove {}", park.display()));
        }
        _ => {}
    }
    if files.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(park).with_context(|| format!("cannot create {}", park.display()))?;
    let mut index = Vec::new();
    for (i, k) in files.iter().enumerate() {
        let path = park.join(i.to_string());
        fs::write(&path, &k.bytes).with_context(|| format!("cannot write {}", path.display()))?;
        index.extend_from_slice(format!("{}\0{}\0", k.mode.mode(), k.rel).as_bytes());
    }
    crate::files::write_atomically(&park.join(PARK_INDEX), &index)
}

/// The directories found real (not a symbolic link, not a file) on the way
/// from the root to a path, remembered across the paths of one rollback.
#[derive(Default)]
pub(super) struct RealDirs(HashSet<String>);

impl RealDirs {
    /// Whether no directory above `rel` is a symbolic link (or a file), so
    /// that reading, writing or removing `rel` cannot follow a link, perhaps
    /// out of the work tree (a task may replace a tracked directory with
    /// one). A missing directory is no link: it can be created.
    pub(super) fn reach(&mut self, root: &Path, rel: &str) -> bool {
        let rel = rel.trim_end_matches('/');
        let mut end = 0;
        while let Some(i) = rel[end..].find('/') {
            end += i;
            let dir = &rel[..end];
            if !self.0.contains(dir) {
                match fs::symlink_metadata(root.join(dir)) {
                    Ok(m) if !m.is_dir() => return false,
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return false,
                    _ => {}
                }
                self.0.insert(dir.to_string());
            }
            end += 1;
        }
        true
    }
}

/// `keep`, and the hidden files the reset would delete (staged or
/// committed by the task), which are put back afterwards; untracked ones
/// are left alone.
fn with_hidden(keep: &[String], changed: &Changed, hidden: &Hidden) -> Vec<String> {
    let mut keep = keep.to_vec();
    keep.extend(hidden.committed.iter().cloned());
    keep.extend(
        hidden
            .new
            .iter()
            .filter(|p| !changed.is_untracked(p))
            .cloned(),
    );
    keep
}

/// Whether `path` is one of `keep`, or inside one of its directories (an
/// entry ending in `/`, as `git status` reports an untracked directory).
pub fn is_kept(path: &str, keep: &[String]) -> bool {
    keep.iter()
        .any(|k| k == path || (k.ends_with('/') && path.starts_with(k.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_paths_include_whole_directories() {
        let keep = ["notes.txt".to_string(), "scratch/".to_string()];
        assert!(is_kept("notes.txt", &keep));
        assert!(is_kept("scratch/a/b.txt", &keep));
        assert!(!is_kept("notes.txt.bak", &keep));
        assert!(!is_kept("scratchpad.txt", &keep));
    }
}
