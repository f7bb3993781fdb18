//! The run's write path: the checks before a run (operation in progress,
//! detached HEAD, dirty tree), and the checkpoint commit after each task
//! (stage, hooks, commit, branch ref, checkpoint ref, tag).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use git2::{DiffOptions, Oid, StatusOptions};

use super::Repo;
use super::ident::{Ident, Role, Unknown, ident_from};
use super::parse_oid;
use super::preflight::{CLEAN_FILTERS, has_clean_filters};
pub use super::refs::checkpoint_ref;
use crate::error::{Context, Error, Kind, Result};
use crate::state::BUNDLES_DIR;

/// What the work tree holds besides HEAD, outside `.milestone_bundles/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkTree {
    /// Tracked files with staged or unstaged changes.
    pub changed: Vec<String>,
    /// Untracked, not ignored files (every file, not just directories).
    pub untracked: Vec<String>,
}

/// How HEAD moved during a task, relative to where it was before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    Stayed,
    /// The task made these commits on top (oldest first).
    Ahead(Vec<String>),
    /// HEAD no longer descends from where the task started.
    Elsewhere(String),
}

/// Everything one checkpoint commit needs.
#[derive(Debug)]
pub struct CheckpointSpec<'a> {
    pub milestone: &'a str,
    pub task: &'a str,
    /// The whole commit message, trailers included.
    pub message: &'a str,
    /// The status file, relative to the root; staged even if ignored.
    pub status_path: &'a str,
    /// Untracked files from before the run: never staged.
    pub keep_untracked: &'a HashSet<String>,
    /// The branch tip the checkpoint goes on (the task's own commits included).
    pub parent: &'a str,
    pub tag: bool,
    pub committer: &'a Committer,
    /// What [`Repo::pending_changes`] read after the attempt ended, so
    /// staging need not read the work tree again; `None` to read it now.
    pub pending: Option<&'a Pending>,
}

/// What differs between the index and the work tree, read once after an
/// attempt that succeeded: its new files are recorded from it, and its
/// checkpoint stages it.
#[derive(Debug)]
pub struct Pending {
    changes: Vec<(PathBuf, git2::Delta)>,
}

impl Pending {
    /// Untracked, not ignored files outside `.milestone_bundles/`.
    pub fn untracked(&self) -> Vec<String> {
        let bundles = Path::new(BUNDLES_DIR);
        self.changes
            .iter()
            .filter(|(p, d)| *d == git2::Delta::Untracked && !p.starts_with(bundles))
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect()
    }
}

/// Who commits checkpoints and which hooks run, worked out once per run.
#[derive(Debug, Clone)]
pub struct Committer {
    author: Ident,
    committer: Ident,
    /// Where git looks for hooks (`core.hooksPath` honoured).
    hooks_dir: PathBuf,
    /// Stage with the git program: clean filters are configured, which
    /// libgit2 would not run (it would commit unfiltered content).
    stage_with_git: bool,
}

impl Committer {
    /// Whether a checkpoint runs a hook (`pre-commit`, `commit-msg` or
    /// `post-commit`): a hook may leave new files in the work tree.
    pub fn has_commit_hooks(&self) -> bool {
        ["pre-commit", "commit-msg", "post-commit"]
            .iter()
            .any(|h| self.hooks_dir.join(h).is_file())
    }
}

/// The checkpoint's commit, and the refs that now point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub commit: String,
}

/// `refs/tags/milestone/<name>/<ID>`.
pub fn tag_ref(milestone: &str, task: &str) -> String {
    format!("refs/tags/milestone/{milestone}/{task}")
}

/// Whether `task` can be used inside the checkpoint ref and tag names.
pub fn task_id_fits_refs(milestone: &str, task: &str) -> bool {
    !task.contains('/') && git2::Reference::is_valid_name(&checkpoint_ref(milestone, task))
}

impl Repo {
    /// Refuse to start while git is in the middle of something, or on a
    /// detached HEAD (unless allowed), or before the first commit.
    /// Returns HEAD's commit id.
    pub fn check_can_run(&self, detach_ok: bool) -> Result<String> {
        if let Some(op) = self.operation_in_progress() {
            return Err(Error::refused(format!("{} is in progress", op.what)).hint(op.hint));
        }
        let head = match self.inner.head() {
            Ok(h) => h,
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                return Err(Error::refused("this branch has no commits yet").hint(
                    "make a first commit, e.g. `git commit --allow-empty -m 'Initial commit'`",
                ));
            }
            Err(e) => return Err(e).context("cannot read HEAD"),
        };
        if !detach_ok && self.inner.head_detached().unwrap_or(false) {
            return Err(
                Error::refused("HEAD is detached: checkpoints would belong to no branch").hint(
                    "switch to a branch with `git switch -c <branch>`, or pass `--detach-ok`",
                ),
            );
        }
        let commit = head
            .peel_to_commit()
            .context("cannot read the commit at HEAD")?;
        Ok(commit.id().to_string())
    }

    /// The current HEAD commit id.
    pub fn head_commit(&self) -> Result<String> {
        let head = self.inner.head().context("cannot read HEAD")?;
        Ok(head
            .peel_to_commit()
            .context("cannot read the commit at HEAD")?
            .id()
            .to_string())
    }

    /// Changed tracked files and untracked files, outside `.milestone_bundles/`.
    ///
    /// Read-only: a dry run or a refusal must leave `.git/index` as it was;
    /// staging refreshes the stat data when a checkpoint is made.
    pub fn work_tree(&self) -> Result<WorkTree> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .update_index(false);
        let statuses = self
            .inner
            .statuses(Some(&mut opts))
            .context("cannot read the work tree's status")?;
        let mut out = WorkTree::default();
        let bundles = format!("{BUNDLES_DIR}/");
        for entry in statuses.iter() {
            let Ok(path) = entry.path() else { continue };
            if path.starts_with(&bundles) {
                continue;
            }
            if entry.status() == git2::Status::WT_NEW {
                out.untracked.push(path.to_string());
            } else if !entry.status().is_ignored() {
                out.changed.push(path.to_string());
            }
        }
        Ok(out)
    }

    /// How HEAD relates to `before`, the commit it was at when a task started.
    pub fn head_moved_since(&self, before: &str) -> Result<Moved> {
        let before = parse_oid(before)?;
        let head = parse_oid(&self.head_commit()?)?;
        if head == before {
            return Ok(Moved::Stayed);
        }
        let descends = self
            .inner
            .graph_descendant_of(head, before)
            .with_context(|| format!("cannot compare commits {head} and {before}"))?;
        if !descends {
            return Ok(Moved::Elsewhere(head.to_string()));
        }
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.push(head).context("cannot walk history")?;
        walk.hide(before).context("cannot walk history")?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .context("cannot walk history")?;
        let ids = walk
            .map(|id| id.map(|id| id.to_string()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context("cannot walk history")?;
        Ok(Moved::Ahead(ids))
    }

    /// Stage what the task changed, run the commit hooks, commit on top of
    /// `spec.parent`, move the branch, and point the checkpoint ref (and the
    /// tag, if asked) at the new commit.
    pub fn checkpoint(&self, spec: &CheckpointSpec<'_>) -> Result<Checkpoint> {
        self.stage_all(spec)?;
        let hooks = &spec.committer.hooks_dir;
        self.run_hook(hooks, &["pre-commit"])?;
        let tree = {
            let mut index = self.inner.index().context("cannot read the index")?;
            // A pre-commit hook may have staged more (formatters do).
            index.read(false).context("cannot read the index")?;
            index
                .write_tree()
                .context("cannot write the checkpoint's tree")?
        };
        let message = self.commit_msg_hook(hooks, spec.message)?;
        let commit = self.commit_tree(tree, spec.parent, &message, spec.committer)?;
        self.advance_head(spec, commit)?;
        // Like git: post-commit cannot undo the commit; its failure is ignored.
        let _ = self.run_hook(hooks, &["post-commit"]);
        let checkpoint_ref = checkpoint_ref(spec.milestone, spec.task);
        let reflog = format!("milestone: checkpoint {}", spec.task);
        self.inner
            .reference(&checkpoint_ref, commit, true, &reflog)
            .map_err(|e| match super::preflight::locked_path(&e) {
                Some(path) => {
                    super::preflight::lock_file_error(&path, &checkpoint_ref, Kind::Failed)
                }
                None => Error::failed(format!("cannot update {checkpoint_ref}")).with_cause(e),
            })?;
        if spec.tag {
            let name = tag_ref(spec.milestone, spec.task);
            self.inner
                .reference(&name, commit, true, &reflog)
                .with_context(|| format!("cannot create tag {name}"))?;
        }
        Ok(Checkpoint {
            commit: commit.to_string(),
        })
    }

    /// Remove every checkpoint ref of `milestone` (on `--restart`); the
    /// commits stay in the branch's history.
    pub fn delete_checkpoint_refs(&self, milestone: &str) -> Result<()> {
        let glob = format!("{}/*", super::refs::checkpoints_prefix(milestone));
        let refs = self
            .inner
            .references_glob(&glob)
            .with_context(|| format!("cannot list {glob}"))?;
        for r in refs {
            let mut r = r.with_context(|| format!("cannot list {glob}"))?;
            let name = r.name().unwrap_or_default().to_string();
            r.delete()
                .with_context(|| format!("cannot delete {name}"))?;
        }
        Ok(())
    }

    /// The commit a checkpoint ref points at, if it exists.
    pub fn checkpoint_commit(&self, milestone: &str, task: &str) -> Result<Option<String>> {
        let name = checkpoint_ref(milestone, task);
        match self.inner.refname_to_id(&name) {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Work out who commits (user.name and user.email, or the
    /// GIT_AUTHOR_*/GIT_COMMITTER_* variables) and where hooks live, before
    /// any task runs: a run must not fail at its first checkpoint for that.
    pub fn committer(&self) -> Result<Committer> {
        // Four lookups, started together: each is a git process.
        let [hooks, author, committer, filters]: [std::process::Output; 4] = self
            .git_all(&[
                &["rev-parse", "--git-path", "hooks"],
                &["var", Role::Author.var()],
                &["var", Role::Committer.var()],
                CLEAN_FILTERS,
            ])?
            .try_into()
            .expect("four commands, four outputs");
        let hooks = String::from_utf8_lossy(&hooks.stdout)
            .trim_end()
            .to_string();
        Ok(Committer {
            author: ident_from(&author, Role::Author, Unknown::Refuse)?,
            committer: ident_from(&committer, Role::Committer, Unknown::Refuse)?,
            hooks_dir: self.root().join(hooks),
            stage_with_git: has_clean_filters(&filters),
        })
    }

    fn stage_all(&self, spec: &CheckpointSpec<'_>) -> Result<()> {
        if spec.committer.stage_with_git {
            let keep: Vec<&str> = spec.keep_untracked.iter().map(String::as_str).collect();
            return self.stage_with_git(&keep, spec.status_path);
        }
        let read_now;
        let pending = match spec.pending {
            Some(p) => p,
            None => {
                read_now = self.pending_changes()?;
                &read_now
            }
        };
        let mut index = self.inner.index().context("cannot read the index")?;
        // Reloaded only if changed on disk, which would drop the stat data
        // `pending_changes` refreshed (a cost, not a fault).
        index.read(false).context("cannot read the index")?;
        for (path, delta) in &pending.changes {
            let rel = path.to_string_lossy();
            let result = match delta {
                git2::Delta::Untracked if spec.keep_untracked.contains(rel.as_ref()) => continue,
                git2::Delta::Deleted => index.remove_path(path),
                _ => index.add_path(path),
            };
            result.with_context(|| format!("cannot stage {rel}"))?;
        }
        index
            .add_path(Path::new(spec.status_path))
            .with_context(|| format!("cannot stage {}", spec.status_path))?;
        index
            .write()
            .map_err(|e| self.locked_or(e, "cannot write the index"))
    }

    /// One pass over the work tree: what changed (ignore rules applied),
    /// and — the reason this is not `add_all` — refreshed stat data (in the
    /// repository's index, written when staging) for files that were only
    /// touched, so they are not hashed every time.
    pub fn pending_changes(&self) -> Result<Pending> {
        let mut index = self.inner.index().context("cannot read the index")?;
        index.read(false).context("cannot read the index")?;
        let mut opts = DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true)
            .update_index(true);
        let diff = self
            .inner
            .diff_index_to_workdir(Some(&index), Some(&mut opts))
            .context("cannot compare the work tree with the index")?;
        let changes = diff
            .deltas()
            .filter_map(|d| {
                let path = d.new_file().path().or(d.old_file().path())?;
                Some((path.to_path_buf(), d.status()))
            })
            .collect();
        Ok(Pending { changes })
    }

    /// A clear error for an `index.lock` left in the way, else `message`.
    fn locked_or(&self, e: git2::Error, message: &str) -> Error {
        if e.code() != git2::ErrorCode::Locked {
            return Error::failed(message).with_cause(e);
        }
        let path =
            super::preflight::locked_path(&e).unwrap_or_else(|| self.git_dir().join("index.lock"));
        super::preflight::lock_file_error(&path, "the index", Kind::Failed)
    }

    fn commit_tree(&self, tree: Oid, parent: &str, message: &str, who: &Committer) -> Result<Oid> {
        let tree = self
            .inner
            .find_tree(tree)
            .with_context(|| format!("cannot read tree {tree}"))?;
        let parent = self
            .inner
            .find_commit(parse_oid(parent)?)
            .with_context(|| format!("cannot read commit {parent}"))?;
        let author = who.author.signature()?;
        let committer = who.committer.signature()?;
        self.inner
            .commit(None, &author, &committer, message, &tree, &[&parent])
            .context("cannot write the checkpoint commit")
    }

    /// Move the branch (or a detached HEAD) from `spec.parent` to `commit`,
    /// refusing if something else moved it meanwhile.
    fn advance_head(&self, spec: &CheckpointSpec<'_>, commit: Oid) -> Result<()> {
        let reflog = format!("milestone {}: checkpoint {}", spec.milestone, spec.task);
        let parent = parse_oid(spec.parent)?;
        let head = self
            .inner
            .find_reference("HEAD")
            .context("cannot read HEAD")?;
        let target = match head.symbolic_target() {
            Ok(Some(branch)) => branch.to_string(),
            _ => "HEAD".to_string(),
        };
        self.inner
            .reference_matching(&target, commit, true, parent, &reflog)
            .map_err(|e| match super::preflight::locked_path(&e) {
                Some(path) => super::preflight::lock_file_error(&path, &target, Kind::Failed),
                None => Error::failed(format!("cannot move {target} to the checkpoint {commit}"))
                    .with_cause(e),
            })?;
        Ok(())
    }

    /// `git hook run --ignore-missing <args>`, when the hook exists:
    /// libgit2 runs no hooks, and git's runner sets hooks up as git does.
    /// Checking for the file first saves a process per hook per checkpoint.
    fn run_hook(&self, hooks: &Path, args: &[&str]) -> Result<()> {
        if !hooks.join(args[0]).is_file() {
            return Ok(());
        }
        let mut argv = vec!["hook", "run", "--ignore-missing"];
        argv.extend_from_slice(&args[..1]);
        if args.len() > 1 {
            argv.push("--");
            argv.extend_from_slice(&args[1..]);
        }
        let out = self.git(&argv)?;
        if out.status.success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        Err(
            Error::failed(format!("the {} hook refused the checkpoint", args[0]))
                .with_cause(anyhow::anyhow!("{}", text.trim_end()))
                .hint("fix what the hook reports, then run the same `git milestone run` again"),
        )
    }

    /// Run the commit-msg hook on `message` and return it as the hook left it.
    fn commit_msg_hook(&self, hooks: &Path, message: &str) -> Result<String> {
        if !hooks.join("commit-msg").is_file() {
            return Ok(message.to_string());
        }
        let path = self.git_dir().join("COMMIT_EDITMSG");
        std::fs::write(&path, message)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let arg = path.to_string_lossy().into_owned();
        self.run_hook(hooks, &["commit-msg", &arg])?;
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_must_fit_in_ref_names() {
        for ok in ["TASK-001", "T012", "2.3", "#123"] {
            assert!(task_id_fits_refs("M1", ok), "{ok}");
        }
        for bad in ["a/b", "x..y", "a b", "t~1", "x.lock"] {
            assert!(!task_id_fits_refs("M1", bad), "{bad}");
        }
    }
}
