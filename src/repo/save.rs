//! Saving the work tree as a commit under a ref before a rollback, without
//! touching HEAD, the index or the work tree: HEAD's tree with the changed
//! paths written by `git hash-object`, so git's conversions and clean
//! filters apply as they would to `git add`.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use git2::Oid;

use super::Repo;
use super::ident::{Role, Unknown, ident_from};
use super::ignore::Hidden;
use super::rollback::{Changed, RealDirs, is_kept};
use crate::error::{Context, Result};

impl Repo {
    /// Commit everything in the work tree (tracked changes and untracked,
    /// not ignored files, except `skip` and files new since `checkpoint`
    /// that its ignore rules hide) on top of HEAD, and point `ref_name` at
    /// it. `changed` is what [`changed_paths`](Self::changed_paths) returned
    /// and `hidden` what [`hidden_since`](Self::hidden_since) found.
    /// HEAD, the index and the work tree are not changed.
    pub fn save_work_tree(
        &self,
        ref_name: &str,
        message: &str,
        skip: &[String],
        scan: (&Changed, &Hidden),
    ) -> Result<String> {
        let head = self
            .inner
            .head()
            .and_then(|h| h.peel_to_commit())
            .context("cannot read the commit HEAD points at")?;
        let (changed, hidden) = scan;
        let tree = self.work_tree_as_tree(skip, changed, &hidden.new)?;
        // Both lookups at once: each is a git process.
        let [author, committer]: [std::process::Output; 2] = self
            .git_all(&[
                &["var", Role::Author.var()],
                &["var", Role::Committer.var()],
            ])?
            .try_into()
            .expect("two commands, two outputs");
        let author = ident_from(&author, Role::Author, Unknown::StandIn)?.signature()?;
        let committer = ident_from(&committer, Role::Committer, Unknown::StandIn)?.signature()?;
        let oid = self
            .inner
            .commit(None, &author, &committer, message, &tree, &[&head])
            .with_context(|| format!("cannot write the commit for {ref_name}"))?;
        self.inner
            .reference(ref_name, oid, false, "milestone: save a failed attempt")
            .with_context(|| format!("cannot create {ref_name}"))?;
        Ok(oid.to_string())
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
        let filemode = self
            .inner
            .config()
            .and_then(|c| c.get_bool("core.filemode"))
            .unwrap_or(true);
        let (mut files, mut removals) = (Vec::new(), Vec::new());
        let mut dirs = RealDirs::default();
        for rel in changed.iter() {
            let path = Path::new(rel);
            // Hidden files are not in HEAD, so leaving them out of the
            // updates leaves them out of the tree, staged or not.
            if hidden.contains(rel) || (changed.is_untracked(rel) && is_kept(rel, skip)) {
                continue;
            }
            let abs = self.root().join(rel);
            // Behind a symbolic link a path is not in the work tree, however
            // `abs` resolves: git sees it deleted.
            let meta = fs::symlink_metadata(&abs).ok();
            match meta.filter(|_| dirs.reach(self.root(), rel)) {
                Some(m) if !m.is_dir() => {
                    // Without core.fileMode the disk's executable bits mean
                    // nothing: HEAD's mode stands.
                    let committed = base.get_path(path).ok().map(|e| e.filemode());
                    let mode = match committed {
                        Some(m0) if !filemode && !m.is_symlink() => mode_of(m0),
                        _ => disk_mode(&m),
                    };
                    files.push((rel.as_str(), mode));
                }
                _ if base.get_path(path).is_ok() => removals.push(rel.as_str()),
                _ => {}
            }
        }
        let blobs = self.write_blobs(&files)?;
        let upserts = files
            .into_iter()
            .zip(blobs)
            .map(|((rel, mode), blob)| (rel, blob, mode))
            .collect();
        let oid = self.update_tree(&base, upserts, removals)?;
        self.inner
            .find_tree(oid)
            .with_context(|| format!("cannot read tree {oid}"))
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
