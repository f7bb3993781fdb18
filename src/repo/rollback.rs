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

use git2::{Oid, Repository};

use super::Repo;
use super::ident::{Role, Unknown, ident_from};
use super::parse_oid;
use super::scan::Scope;
use crate::error::{Context, Result};

/// A commit that a rollback would take off the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardedCommit {
    pub oid: String,
    pub summary: String,
    /// The value of its `Milestone:` trailer, if any.
    pub milestone: Option<String>,
    /// The value of its `Milestone-Task:` trailer, if any.
    pub task: Option<String>,
}

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
    fn is_untracked(&self, path: &str) -> bool {
        self.untracked.contains(path)
    }
}

/// Files new since a checkpoint that its ignore rules hide, found once per
/// rollback and used by both the save and the restore; and, from the same
/// comparison of the checkpoint with HEAD, the paths the restore puts back.
pub struct Hidden {
    /// Not in HEAD: untracked, or staged by the task.
    new: HashSet<String>,
    /// Committed by the task.
    committed: Vec<String>,
    /// Every path that differs between the checkpoint and HEAD (both sides
    /// of a change); `None` when one is not UTF-8.
    since_checkpoint: Option<Vec<String>>,
}

/// A checkpoint's ignore rules: its `.gitignore` files, written to a scratch
/// repository (libgit2 reads them from a work tree only), with this
/// repository's `info/exclude` and `core.excludesFile`.
struct IgnoreRules {
    repo: Repository,
    _dir: tempfile::TempDir,
}

impl IgnoreRules {
    fn of(repo: &Repo, tree: &git2::Tree<'_>) -> Result<IgnoreRules> {
        let dir = tempfile::tempdir().context("cannot create a scratch directory")?;
        let scratch = Repository::init(dir.path()).with_context(|| {
            format!(
                "cannot create a scratch repository in {}",
                dir.path().display()
            )
        })?;
        let mut files = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            if entry.name() == Ok(".gitignore") && entry.kind() == Some(git2::ObjectType::Blob) {
                files.push((format!("{parent}.gitignore"), entry.id()));
            }
            git2::TreeWalkResult::Ok
        })
        .context("cannot list the checkpoint's .gitignore files")?;
        for (rel, id) in files {
            let blob = repo
                .inner
                .find_blob(id)
                .with_context(|| format!("cannot read {rel} ({id})"))?;
            write_file(&dir.path().join(&rel), blob.content())?;
        }
        let exclude = repo.common_dir().join("info/exclude");
        if let Ok(bytes) = fs::read(&exclude) {
            write_file(&scratch.path().join("info/exclude"), &bytes)?;
        }
        let config = repo.inner.config().context("cannot read the git config")?;
        if let Ok(path) = config.get_path("core.excludesFile") {
            scratch
                .config()
                .and_then(|mut c| c.set_str("core.excludesFile", &path.to_string_lossy()))
                .context("cannot set up the scratch repository's config")?;
        }
        Ok(IgnoreRules {
            repo: scratch,
            _dir: dir,
        })
    }

    /// Whether the rules ignore `rel` or a directory it is in. When unsure,
    /// yes: an ignored file is one a rollback leaves alone.
    fn ignores(&self, rel: &str) -> bool {
        self.repo.is_path_ignored(rel).unwrap_or(true)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A file kept byte for byte across a rollback (the status file, and
/// untracked files from before the run that a task's commit may have adopted).
struct KeptFile {
    rel: String,
    bytes: Vec<u8>,
    mode: fs::Permissions,
}

impl Repo {
    /// HEAD's commit id; `None` on an unborn branch.
    pub fn head_if_born(&self) -> Result<Option<String>> {
        match self.inner.head() {
            Ok(r) => Ok(Some(
                r.peel_to_commit()
                    .context("cannot read the commit HEAD points at")?
                    .id()
                    .to_string(),
            )),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => Ok(None),
            Err(e) => Err(e).context("cannot read HEAD"),
        }
    }

    /// The commit a ref points at, `None` when the ref does not exist.
    pub fn ref_target(&self, name: &str) -> Result<Option<String>> {
        match self.inner.find_reference(name) {
            Ok(r) => Ok(Some(
                r.peel_to_commit()
                    .with_context(|| format!("{name} does not point at a commit"))?
                    .id()
                    .to_string(),
            )),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Refs under `prefix` (e.g. `refs/milestone/M1/checkpoints/`), as
    /// (name without the prefix, commit id), sorted by name.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let glob = format!("{prefix}*");
        let mut out = Vec::new();
        let refs = self
            .inner
            .references_glob(&glob)
            .with_context(|| format!("cannot list {glob}"))?;
        for r in refs {
            let r = r.with_context(|| format!("cannot read a ref under {prefix}"))?;
            let (Ok(name), Ok(commit)) = (r.name(), r.peel_to_commit()) else {
                continue;
            };
            out.push((name[prefix.len()..].to_string(), commit.id().to_string()));
        }
        out.sort();
        Ok(out)
    }

    /// Point `name` at `oid`, creating or moving it.
    pub fn set_ref(&self, name: &str, oid: &str, why: &str) -> Result<()> {
        self.inner
            .reference(name, parse_oid(oid)?, true, why)
            .with_context(|| format!("cannot update {name} to {oid}"))?;
        Ok(())
    }

    pub fn delete_ref(&self, name: &str) -> Result<()> {
        match self.inner.find_reference(name) {
            Ok(mut r) => r.delete().with_context(|| format!("cannot delete {name}")),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Whether `oid` names a commit in this repository.
    pub fn commit_exists(&self, oid: &str) -> bool {
        Oid::from_str(oid).is_ok_and(|o| self.inner.find_commit(o).is_ok())
    }

    /// Whether git accepts `name` as a full ref name.
    pub fn is_valid_ref_name(name: &str) -> bool {
        git2::Reference::is_valid_name(name)
    }

    /// Whether `ancestor` is `commit` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, commit: &str) -> Result<bool> {
        let (a, c) = (parse_oid(ancestor)?, parse_oid(commit)?);
        Ok(a == c
            || self
                .inner
                .graph_descendant_of(c, a)
                .with_context(|| format!("cannot compare {ancestor} with {commit}"))?)
    }

    /// The first commit on HEAD's first-parent line that is in `wanted`.
    pub fn first_on_head_line(&self, wanted: &HashSet<String>) -> Result<Option<String>> {
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.push_head().context("cannot walk history from HEAD")?;
        walk.simplify_first_parent()
            .context("cannot walk history")?;
        for oid in walk {
            let oid = oid.context("cannot walk history from HEAD")?.to_string();
            if wanted.contains(&oid) {
                return Ok(Some(oid));
            }
        }
        Ok(None)
    }

    /// Commits reachable from `head` but not from `target`, newest first.
    pub fn commits_after(&self, target: &str, head: &str) -> Result<Vec<DiscardedCommit>> {
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        let (head_oid, target_oid) = (parse_oid(head)?, parse_oid(target)?);
        walk.push(head_oid)
            .and_then(|()| walk.hide(target_oid))
            .with_context(|| format!("cannot walk history from {head} to {target}"))?;
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.with_context(|| format!("cannot walk history from {head}"))?;
            let c = self
                .inner
                .find_commit(oid)
                .with_context(|| format!("cannot read commit {oid}"))?;
            let message = String::from_utf8_lossy(c.message_bytes());
            out.push(DiscardedCommit {
                oid: oid.to_string(),
                summary: message.lines().next().unwrap_or("").to_string(),
                milestone: trailer(&message, "Milestone"),
                task: trailer(&message, "Milestone-Task"),
            });
        }
        Ok(out)
    }

    /// Which of `commits` are reachable from a remote-tracking ref
    /// (`refs/remotes/*`, which includes every branch's upstream).
    pub fn pushed(&self, commits: &[String]) -> Result<Vec<String>> {
        if commits.is_empty() {
            return Ok(Vec::new());
        }
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        for c in commits {
            walk.push(parse_oid(c)?)
                .with_context(|| format!("cannot walk history from {c}"))?;
        }
        walk.hide_glob("refs/remotes/*")
            .context("cannot read the remote-tracking refs")?;
        let unpushed: HashSet<String> =
            walk.filter_map(|o| o.ok()).map(|o| o.to_string()).collect();
        Ok(commits
            .iter()
            .filter(|c| !unpushed.contains(*c))
            .cloned()
            .collect())
    }

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
        for rel in changed.iter() {
            let path = Path::new(rel);
            // Hidden files are not in HEAD, so leaving them out of the
            // updates leaves them out of the tree, staged or not.
            if hidden.contains(rel) || (changed.is_untracked(rel) && is_kept(rel, skip)) {
                continue;
            }
            let abs = self.root().join(rel);
            match fs::symlink_metadata(&abs) {
                Ok(m) if !m.is_dir() => {
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

    /// Files that `target`'s ignore rules hide but the work tree's do not,
    /// because the task edited a `.gitignore` (ignored secrets and build
    /// output from before the run): a rollback neither saves nor removes
    /// them.
    /// `changed` is what [`changed_paths`](Self::changed_paths) returned.
    pub fn hidden_since(&self, target: &str, changed: &Changed) -> Result<Hidden> {
        let target_tree = self
            .inner
            .find_commit(parse_oid(target)?)
            .and_then(|c| c.tree())
            .with_context(|| format!("cannot read the tree of checkpoint {target}"))?;
        let head_tree = self
            .inner
            .head()
            .and_then(|h| h.peel_to_tree())
            .context("cannot read the tree HEAD points at")?;
        let is_rules = |p: &str| p == ".gitignore" || p.ends_with("/.gitignore");
        let (mut added, mut rules_changed) = (Vec::new(), changed.iter().any(|p| is_rules(p)));
        let mut since_checkpoint = Some(Vec::new());
        // libgit2 walks both trees whole even when they are the same one.
        if head_tree.id() != target_tree.id() {
            let diff = self
                .inner
                .diff_tree_to_tree(Some(&target_tree), Some(&head_tree), None)
                .with_context(|| format!("cannot compare HEAD with checkpoint {target}"))?;
            for d in diff.deltas() {
                for p in [d.old_file().path(), d.new_file().path()]
                    .into_iter()
                    .flatten()
                {
                    match p.to_str() {
                        Some(p) => {
                            rules_changed |= is_rules(p);
                            if let Some(all) = since_checkpoint.as_mut() {
                                all.push(p.to_string());
                            }
                        }
                        None => since_checkpoint = None,
                    }
                }
                if d.status() == git2::Delta::Added
                    && let Some(p) = d.new_file().path().and_then(|p| p.to_str())
                {
                    added.push(p.to_string());
                }
            }
        }
        // The same `.gitignore` files as the work tree's: `git status`
        // applied the checkpoint's rules already, so nothing it listed is
        // hidden, and only a committed file can be.
        if !rules_changed && added.is_empty() {
            return Ok(Hidden {
                new: HashSet::new(),
                committed: Vec::new(),
                since_checkpoint,
            });
        }
        let rules = IgnoreRules::of(self, &target_tree)?;
        let not_in = |tree: &git2::Tree<'_>, p: &str| tree.get_path(Path::new(p)).is_err();
        let new = if rules_changed {
            changed
                .iter()
                .filter(|p| not_in(&head_tree, p) && not_in(&target_tree, p) && rules.ignores(p))
                .cloned()
                .collect()
        } else {
            HashSet::new()
        };
        let committed = added.into_iter().filter(|p| rules.ignores(p)).collect();
        Ok(Hidden {
            new,
            committed,
            since_checkpoint,
        })
    }

    /// Put the branch, index and work tree back at `target`, exactly:
    /// files tracked now but not at `target` and untracked (not ignored)
    /// files are removed, except `keep`; ignored files are not touched;
    /// files in `keep` end up as they are now, byte for byte. `scan` is as
    /// for [`save_work_tree`](Self::save_work_tree).
    pub fn restore_checkpoint(
        &self,
        target: &str,
        keep: &[String],
        scan: (&Changed, Hidden),
    ) -> Result<()> {
        let commit = self
            .inner
            .find_commit(parse_oid(target)?)
            .with_context(|| format!("cannot read checkpoint {target}"))?;
        let tree = commit
            .tree()
            .with_context(|| format!("cannot read the tree of checkpoint {target}"))?;
        let (changed, hidden) = scan;
        // Hidden files the reset would delete (staged or committed by the
        // task) are put back afterwards; untracked ones are left alone.
        let mut keep = keep.to_vec();
        keep.extend(hidden.committed);
        keep.extend(
            hidden
                .new
                .iter()
                .filter(|p| !changed.is_untracked(p))
                .cloned(),
        );
        let kept = self.read_kept(&keep)?;
        let doomed: Vec<&String> = changed
            .iter()
            .filter(|p| !is_kept(p, &keep) && !hidden.new.contains(*p))
            .filter(|p| tree.get_path(Path::new(p)).is_err())
            .collect();
        // The reset would leave untracked files behind (see the module
        // comment). Removing them first also clears the way for a tracked
        // file where the task put an untracked directory.
        for rel in doomed {
            self.remove_file_and_empty_dirs(rel)?;
        }
        self.reset_to(&commit, changed, hidden.since_checkpoint.as_deref())?;
        self.write_kept(&kept)
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
        let reset = |args: &[&str]| -> Result<()> {
            let out = self.git(args)?;
            self.succeeded(out, &format!("reset to checkpoint {id}"))?;
            Ok(())
        };
        let hard = || reset(&["reset", "-q", "--hard", &id]);
        let Some(since_checkpoint) = since_checkpoint else {
            return hard();
        };
        let paths = self.paths_to_restore(target, changed, since_checkpoint)?;
        // The scan leaves submodules out, so it cannot list a gitlink the
        // task changed: where there are submodules, the whole reset.
        if changed.unmerged || paths.len() > MAX_PATHS || self.root().join(".gitmodules").exists() {
            return hard();
        }
        // The branch first, with the reflog entry a hard reset writes.
        reset(&["reset", "-q", "--soft", &id])?;
        if paths.is_empty() {
            return Ok(());
        }
        let mut input = Vec::new();
        for p in &paths {
            input.extend_from_slice(p.as_bytes());
            input.push(0);
        }
        let source = format!("--source={id}");
        let out = self.git_input(
            &[
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
        if out.status.success() {
            return Ok(());
        }
        // Sparse checkouts and the like: the whole reset does what restore
        // would not.
        hard()
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
            &["read-tree", "-u", "--reset", &id][..],
            &["reset", "-q", &parent.id().to_string()],
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

    fn read_kept(&self, keep: &[String]) -> Result<Vec<KeptFile>> {
        let mut out = Vec::new();
        for rel in keep {
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
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root() || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
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

/// Whether `path` is one of `keep`, or inside one of its directories (an
/// entry ending in `/`, as `git status` reports an untracked directory).
pub fn is_kept(path: &str, keep: &[String]) -> bool {
    keep.iter()
        .any(|k| k == path || (k.ends_with('/') && path.starts_with(k.as_str())))
}

/// The last value of trailer `key` in a commit message.
pub(super) fn trailer(message: &str, key: &str) -> Option<String> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    trailers
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
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

    #[test]
    fn reads_the_last_trailer_of_a_kind() {
        let msg = "Do it\n\nbody\n\nMilestone: M1\nMilestone-Task: TASK-002\n";
        assert_eq!(trailer(msg, "Milestone").as_deref(), Some("M1"));
        assert_eq!(trailer(msg, "milestone-task").as_deref(), Some("TASK-002"));
        assert_eq!(trailer("no trailers here", "Milestone"), None);
    }
}
