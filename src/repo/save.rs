//! Saving the work tree as a commit under a ref before a rollback, without
//! touching HEAD, the index or the work tree: HEAD's tree with the changed
//! paths written by `git hash-object`, so git's conversions and clean
//! filters apply as they would to `git add`.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use git2::Oid;

use super::ident::Unknown;
use super::ignore::Hidden;
use super::rollback::{Changed, RealDirs, is_kept};
use super::{Repo, parse_oid};
use crate::error::{Context, Result};

impl Repo {
    /// Commit everything in the work tree (tracked changes and untracked,
    /// not ignored files, except `skip` and files new since `checkpoint`
    /// that its ignore rules hide) on top of HEAD, and point `ref_name` at
    /// it. `changed` is what [`changed_paths`](Self::changed_paths) returned
    /// and `hidden` what [`hidden_since`](Self::hidden_since) found.
    /// HEAD, the index and the work tree are not changed.
    ///
    /// `gitlinks` (path, commit) are submodules whose work was saved as a
    /// commit of their own: the tree records those commits.
    pub fn save_work_tree(
        &self,
        ref_name: &str,
        message: &str,
        skip: &[String],
        scan: (&Changed, &Hidden),
        gitlinks: &[(String, String)],
    ) -> Result<String> {
        let head = self
            .inner
            .head()
            .and_then(|h| h.peel_to_commit())
            .context("cannot read the commit HEAD points at")?;
        let (changed, hidden) = scan;
        let mut tree = self.work_tree_as_tree(skip, changed, &hidden.new)?;
        if !gitlinks.is_empty() {
            let mut links = Vec::new();
            for (path, commit) in gitlinks {
                links.push((path.as_str(), parse_oid(commit)?, git2::FileMode::Commit));
            }
            let oid = self.update_tree(&tree, links, Vec::new())?;
            tree = self
                .inner
                .find_tree(oid)
                .with_context(|| format!("cannot read tree {oid}"))?;
        }
        self.commit_on_head(ref_name, message, &tree, &head)
    }

    /// Commit HEAD's tree with `files` (paths relative to the root) as
    /// they are in the work tree (a file that is gone is left out), on top
    /// of HEAD, and point the new ref `ref_name` at it. HEAD, the index and
    /// the work tree are not changed.
    pub fn save_files(&self, ref_name: &str, message: &str, files: &[&str]) -> Result<String> {
        let head = self
            .inner
            .head()
            .and_then(|h| h.peel_to_commit())
            .context("cannot read the commit HEAD points at")?;
        let base = head.tree().context("cannot read the tree HEAD points at")?;
        let tree = self.with_files(&base, files)?;
        self.commit_on_head(ref_name, message, &tree, &head)
    }

    /// Write a commit of `tree` whose parent is `head`, as the user (or a
    /// stand-in when git knows no identity: saving work must not fail for
    /// want of a name), and create `ref_name` at it.
    fn commit_on_head(
        &self,
        ref_name: &str,
        message: &str,
        tree: &git2::Tree<'_>,
        head: &git2::Commit<'_>,
    ) -> Result<String> {
        let [author, committer] = self.signatures(Unknown::StandIn)?;
        let oid = self
            .inner
            .commit(None, &author, &committer, message, tree, &[head])
            .with_context(|| format!("cannot write the commit for {ref_name}"))?;
        self.inner
            .reference(
                ref_name,
                oid,
                false,
                "milestone: save work before replacing it",
            )
            .map_err(|e| {
                super::preflight::ref_write_error(e, ref_name, format!("cannot create {ref_name}"))
            })?;
        Ok(oid.to_string())
    }

    /// The first parent of commit `oid`.
    pub fn first_parent(&self, oid: &str) -> Result<String> {
        self.inner
            .find_commit(parse_oid(oid)?)
            .and_then(|c| c.parent_id(0))
            .map(|p| p.to_string())
            .with_context(|| format!("cannot read the parent of {oid}"))
    }

    /// Those of `rels` whose file in the work tree matches its version in
    /// none of the commits `versions`: work that replacing the file would
    /// lose, as no commit holds it. A path with no file (gone, a directory,
    /// behind a symbolic link) has nothing to lose.
    pub fn unsaved_files(&self, rels: &[&str], versions: &[&str]) -> Result<Vec<String>> {
        let mut trees = Vec::new();
        for v in versions {
            trees.push(self.tree_at(v)?);
        }
        let Some(base) = trees.first() else {
            return Ok(rels.iter().map(|r| r.to_string()).collect());
        };
        let found = self.hash_files(rels, base)?;
        Ok(rels
            .iter()
            .zip(found)
            .filter(|(rel, found)| {
                found.is_some_and(|(blob, _)| {
                    !trees
                        .iter()
                        .any(|t| t.get_path(Path::new(rel)).is_ok_and(|e| e.id() == blob))
                })
            })
            .map(|(rel, _)| rel.to_string())
            .collect())
    }

    /// Which of `paths` commit `commit`'s tree has.
    pub fn paths_in<'p>(
        &self,
        commit: &str,
        paths: impl Iterator<Item = &'p str>,
    ) -> Result<HashSet<String>> {
        let tree = self.tree_at(commit)?;
        Ok(paths
            .filter(|p| tree.get_path(Path::new(p)).is_ok())
            .map(str::to_string)
            .collect())
    }

    /// The paths whose entries differ between the trees of commits `a` and
    /// `b` (both sides of a rename); names that are not UTF-8 are left out.
    pub fn paths_between(&self, a: &str, b: &str) -> Result<Vec<String>> {
        let (ta, tb) = (self.tree_at(a)?, self.tree_at(b)?);
        if ta.id() == tb.id() {
            return Ok(Vec::new());
        }
        let diff = self
            .inner
            .diff_tree_to_tree(Some(&ta), Some(&tb), None)
            .with_context(|| format!("cannot compare {a} with {b}"))?;
        let mut out: Vec<String> = diff
            .deltas()
            .flat_map(|d| [d.old_file().path(), d.new_file().path()])
            .flatten()
            .filter_map(|p| p.to_str().map(str::to_string))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A tree of the work tree as `git add -A` would stage it, without
    /// untracked files in `skip` and without `hidden`: HEAD's tree with
    /// every path in `changed` (whatever differs between HEAD, the index and
    /// the work tree) taken from the work tree. Nothing is written to the
    /// index, and only the changed files are read.
    fn work_tree_as_tree(
        &self,
        skip: &[String],
        changed: &Changed,
        hidden: &HashSet<String>,
    ) -> Result<git2::Tree<'_>> {
        let base = self
            .inner
            .head()
            .and_then(|h| h.peel_to_tree())
            .context("cannot read the tree HEAD points at")?;
        // Hidden files are not in HEAD, so leaving them out of the updates
        // leaves them out of the tree, staged or not.
        let rels: Vec<&str> = changed
            .iter()
            .filter(|rel| {
                !(hidden.contains(*rel) || (changed.is_untracked(rel) && is_kept(rel, skip)))
            })
            .map(String::as_str)
            .collect();
        self.with_files(&base, &rels)
    }

    /// `base` with each of `rels` as the work tree has it: hashed, or taken
    /// out where the work tree has no file.
    fn with_files(&self, base: &git2::Tree<'_>, rels: &[&str]) -> Result<git2::Tree<'_>> {
        let (mut upserts, mut removals) = (Vec::new(), Vec::new());
        for (rel, found) in rels.iter().zip(self.hash_files(rels, base)?) {
            match found {
                Some((blob, mode)) => upserts.push((*rel, blob, mode)),
                None if base.get_path(Path::new(rel)).is_ok() => removals.push(*rel),
                None => {}
            }
        }
        let oid = self.update_tree(base, upserts, removals)?;
        self.inner
            .find_tree(oid)
            .with_context(|| format!("cannot read tree {oid}"))
    }

    /// What `git add` would store for each of `rels`: the blob (written to
    /// the object database) and the tree mode, or `None` where the work
    /// tree has no file: gone, a directory, or behind a symbolic link
    /// (however the path resolves, git sees no file there). `base` gives
    /// the mode when `core.fileMode` is off.
    pub(super) fn hash_files(
        &self,
        rels: &[&str],
        base: &git2::Tree<'_>,
    ) -> Result<Vec<Option<(Oid, git2::FileMode)>>> {
        let filemode = self
            .inner
            .config()
            .and_then(|c| c.get_bool("core.filemode"))
            .unwrap_or(true);
        let mut dirs = RealDirs::default();
        let mut files = Vec::new();
        let mut found = vec![None; rels.len()];
        for (i, rel) in rels.iter().enumerate() {
            let meta = fs::symlink_metadata(self.root().join(rel)).ok();
            let Some(m) = meta.filter(|m| !m.is_dir() && dirs.reach(self.root(), rel)) else {
                continue;
            };
            // Without core.fileMode the disk's executable bits mean
            // nothing: the committed mode stands.
            let committed = base.get_path(Path::new(rel)).ok().map(|e| e.filemode());
            let mode = match committed {
                Some(m0) if !filemode && !m.is_symlink() => mode_of(m0),
                _ => disk_mode(&m),
            };
            files.push((*rel, mode));
            found[i] = Some(mode);
        }
        let mut blobs = self.write_blobs(&files)?.into_iter();
        Ok(found
            .into_iter()
            .map(|mode| mode.map(|m| (blobs.next().expect("one blob a file"), m)))
            .collect())
    }

    /// Write each file (path relative to the root, and its tree mode) as
    /// a blob, as `git add` would store it, and return the ids in order: a
    /// symbolic link's target, not what it points at; a file's content
    /// through git's conversions (`core.autocrlf`, `.gitattributes`), by
    /// `git hash-object`, which also runs clean filters (Git LFS). Not by
    /// libgit2, which runs none and opens (and hashes) the whole index to
    /// find attributes, once per file.
    fn write_blobs(&self, files: &[(&str, git2::FileMode)]) -> Result<Vec<Oid>> {
        use std::os::unix::ffi::OsStrExt;
        let mut ids = vec![Oid::ZERO_SHA1; files.len()];
        let mut by_git = Vec::new();
        for (i, (rel, mode)) in files.iter().enumerate() {
            let abs = self.root().join(rel);
            let read = || format!("cannot read {}", abs.display());
            if *mode == git2::FileMode::Link {
                let target = fs::read_link(&abs).with_context(read)?;
                ids[i] = self
                    .inner
                    .blob(target.as_os_str().as_bytes())
                    .with_context(read)?;
            } else if rel.contains('\n') || rel.starts_with('"') || rel.ends_with('\r') {
                // `--stdin-paths` reads one path a line, unquotes a line
                // that starts with a quote, and drops a final CR: such a
                // name goes as an argument, its content on stdin.
                let content = fs::read(&abs).with_context(read)?;
                let path = format!("--path={rel}");
                let out = self.git_input(&["hash-object", "-w", "--stdin", &path], &content)?;
                let out = self.succeeded(out, &format!("save {rel} with the attempt"))?;
                let text = String::from_utf8_lossy(&out.stdout);
                ids[i] = Oid::from_str(text.trim()).with_context(|| {
                    format!("`git hash-object` printed {:?} for {rel}", text.trim())
                })?;
            } else {
                by_git.push(i);
            }
        }
        if by_git.is_empty() {
            return Ok(ids);
        }
        let input: String = by_git
            .iter()
            .map(|&i| format!("{}\n", files[i].0))
            .collect();
        let out = self.git_input(&["hash-object", "-w", "--stdin-paths"], input.as_bytes())?;
        let out = self.succeeded(out, "save the attempt's files")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        for &i in &by_git {
            let line = lines.next().unwrap_or_default();
            ids[i] = Oid::from_str(line).with_context(|| {
                format!("`git hash-object` printed {line:?} for {}", files[i].0)
            })?;
        }
        Ok(ids)
    }
}

/// The tree entry mode git gives a file with metadata `m`.
fn disk_mode(m: &fs::Metadata) -> git2::FileMode {
    use std::os::unix::fs::PermissionsExt;
    if m.is_symlink() {
        git2::FileMode::Link
    } else if m.permissions().mode() & 0o111 != 0 {
        git2::FileMode::BlobExecutable
    } else {
        git2::FileMode::Blob
    }
}

/// HEAD's mode for a file on disk when `core.fileMode` is off: its
/// executable bit, and a plain file whatever HEAD had there before.
fn mode_of(committed: i32) -> git2::FileMode {
    if committed == i32::from(git2::FileMode::BlobExecutable) {
        git2::FileMode::BlobExecutable
    } else {
        git2::FileMode::Blob
    }
}
