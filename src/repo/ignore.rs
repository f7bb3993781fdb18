//! Files a checkpoint's ignore rules hide but the work tree's do not (a task
//! that edited `.gitignore`): a rollback neither saves nor removes them.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use git2::Repository;

use super::Repo;
use super::rollback::Changed;
use crate::error::{Context, Result};

/// Files new since a checkpoint that its ignore rules hide, found once per
/// rollback and used by both the save and the restore; and, from the same
/// comparison of the checkpoint with HEAD, the paths the restore puts back.
pub struct Hidden {
    /// Not in HEAD: untracked, or staged by the task.
    pub(super) new: HashSet<String>,
    /// Committed by the task.
    pub(super) committed: Vec<String>,
    /// Every path that differs between the checkpoint and HEAD (both sides
    /// of a change); `None` when one is not UTF-8.
    pub(super) since_checkpoint: Option<Vec<String>>,
}

impl Hidden {
    /// Nothing hidden, nothing changed since the checkpoint known: the
    /// whole reset (a submodule's, whose rules are its own).
    pub fn none() -> Hidden {
        Hidden {
            new: HashSet::new(),
            committed: Vec::new(),
            since_checkpoint: None,
        }
    }
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

impl Repo {
    /// Files that `target`'s ignore rules hide but the work tree's do not,
    /// because the task edited a `.gitignore` (ignored secrets and build
    /// output from before the run): a rollback neither saves nor removes
    /// them.
    /// `changed` is what [`changed_paths`](Self::changed_paths) returned.
    pub fn hidden_since(&self, target: &str, changed: &Changed) -> Result<Hidden> {
        let target_tree = self.checkpoint_tree(target)?;
        let head_tree = self
            .inner
            .head()
            .and_then(|h| h.peel_to_tree())
            .context("cannot read the tree HEAD points at")?;
        let diffed = self.diffed(target, &target_tree, &head_tree)?;
        let rules_changed = diffed.rules_changed || changed.iter().any(|p| is_rules(p));
        let (added, since_checkpoint) = (diffed.added, diffed.paths);
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

    /// What differs between `from` (checkpoint `target`'s tree) and `to`.
    fn diffed(&self, target: &str, from: &git2::Tree<'_>, to: &git2::Tree<'_>) -> Result<Diffed> {
        let mut diffed = Diffed {
            paths: Some(Vec::new()),
            added: Vec::new(),
            rules_changed: false,
        };
        // libgit2 walks both trees whole even when they are the same one.
        if from.id() == to.id() {
            return Ok(diffed);
        }
        let diff = self
            .inner
            .diff_tree_to_tree(Some(from), Some(to), None)
            .with_context(|| format!("cannot compare HEAD with checkpoint {target}"))?;
        for d in diff.deltas() {
            for p in [d.old_file().path(), d.new_file().path()]
                .into_iter()
                .flatten()
            {
                match p.to_str() {
                    Some(p) => {
                        diffed.rules_changed |= is_rules(p);
                        if let Some(all) = diffed.paths.as_mut() {
                            all.push(p.to_string());
                        }
                    }
                    None => diffed.paths = None,
                }
            }
            if d.status() == git2::Delta::Added
                && let Some(p) = d.new_file().path().and_then(|p| p.to_str())
            {
                diffed.added.push(p.to_string());
            }
        }
        Ok(diffed)
    }
}

/// What differs between two trees.
struct Diffed {
    /// Every path on either side of a change; `None` when one is not UTF-8.
    paths: Option<Vec<String>>,
    /// The paths the second tree added.
    added: Vec<String>,
    /// Whether a `.gitignore` is among the paths.
    rules_changed: bool,
}

/// Whether `path` is a `.gitignore` file.
fn is_rules(path: &str) -> bool {
    path == ".gitignore" || path.ends_with("/.gitignore")
}
