//! The checkpoint commit after each task: stage, hooks, commit, branch
//! ref, checkpoint ref, tag. Only the write path: what it reads first is in
//! `head`, `scan`, `ident` and `preflight`.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::SystemTime;

use git2::Oid;

use super::Repo;
use super::ident::Committer;
use super::parse_oid;
use super::refs::{checkpoint_ref, tag_ref};
use super::scan::{Change, Refresh, Scope};
use crate::error::{Context, Error, Kind, Result};
use crate::milestone::BUNDLES_DIR;

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
    /// When the attempt started: a new file untouched since (see
    /// [`Repo::untouched_since`]) is not its work, but one an ignore rule
    /// hid until the task changed the rules, and is left out.
    pub attempt_started: Option<SystemTime>,
    /// Untracked files earlier attempts of the task created: its work,
    /// however old.
    pub task_files: &'a HashSet<String>,
    pub tag: bool,
    pub committer: &'a Committer,
}

/// The checkpoint's commit, and the refs that now point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub commit: String,
    /// New files staging found but left out: there, untouched, before the
    /// attempt started (an ignore rule hid them until the task changed it).
    pub left_out: Vec<String>,
}

impl Repo {
    /// Stage what the task changed, run the commit hooks, commit on top of
    /// `spec.parent`, move the branch, and point the checkpoint ref (and the
    /// tag, if asked) at the new commit.
    pub fn checkpoint(&self, spec: &CheckpointSpec<'_>) -> Result<Checkpoint> {
        let hooks = &spec.committer.hooks_dir;
        self.stage_all(spec, hooks.join("pre-commit").is_file())?;
        let mut raw = self.staged_changes(spec.parent)?;
        let left_out = self.leave_out_untouched(spec, &raw)?;
        if !left_out.is_empty() {
            raw = self.staged_changes(spec.parent)?;
        }
        // A pre-commit hook may stage more (formatters do): then the tree
        // is the whole index as the hook left it.
        let tree = if self.run_hook(hooks, &["pre-commit"])? {
            self.write_tree()?
        } else {
            self.staged_tree(spec.parent, spec.status_path, raw)?
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
            left_out,
        })
    }

    /// Stage the file at `rel` as the work tree has it, after a checkpoint
    /// that failed once it had staged everything: the plan whose mark was
    /// put back then matches its index entry again.
    pub fn stage_path(&self, rel: &str) -> Result<()> {
        let spec = format!(":(literal){rel}");
        let out = self.git(&["add", "--", &spec])?;
        if !out.status.success() {
            return Err(Error::failed(format!(
                "`git add {rel}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Stage everything the task changed as `git add -A` does, in one walk
    /// that also refreshes the stat data of files that were only touched,
    /// leaving out the untracked files from before the run; and the status
    /// file, which `git add` skips where an ignore rule covers it, when a
    /// pre-commit hook is to see it.
    fn stage_all(&self, spec: &CheckpointSpec<'_>, before_hook: bool) -> Result<()> {
        // git matches every path against every exclusion: past this many,
        // stage from a list instead.
        const MAX_EXCLUDED: usize = 200;
        // A name that is not UTF-8 is kept in its lossy form, which no
        // pathspec would match: the listed path compares like with like.
        if spec.keep_untracked.len() > MAX_EXCLUDED
            || spec.keep_untracked.iter().any(|p| p.contains('\u{FFFD}'))
        {
            return self.stage_listed(spec);
        }
        // A pathspec names a directory's files too: a kept file the task
        // replaced with a directory must not hide the directory, and a
        // kept file that is gone needs no exclusion. (`dir/` is an
        // untracked repository, kept whole.)
        let excluded = spec.keep_untracked.iter().filter(|p| {
            p.ends_with('/')
                || std::fs::symlink_metadata(self.root().join(p)).is_ok_and(|m| !m.is_dir())
        });
        let mut input = b".\0".to_vec();
        for path in excluded.chain(&self.other_bundles(spec.milestone)) {
            input.extend_from_slice(format!(":(exclude,literal){path}").as_bytes());
            input.push(0);
        }
        // From a file written whole before git starts, never a pipe: a
        // kill before we wrote to the pipe would leave git an empty list,
        // and `git add -A` with no pathspec stages everything. (No fsync:
        // git reads it right away; after a power cut it is written again.)
        let list = crate::milestone::journal_dir(self.git_dir(), spec.milestone)?.join("pathspecs");
        crate::files::replace_file(&list, &input)?;
        let from = format!("--pathspec-from-file={}", list.display());
        // `--sparse`: in a sparse checkout the status file may lie outside the
        // sparse set, and git refuses to stage it without; entries marked
        // skip-worktree still count as unchanged.
        let out = self.git(&["add", "-A", "--sparse", &from, "--pathspec-file-nul"])?;
        self.succeeded(out, "stage the checkpoint")?;
        if before_hook {
            self.stage_paths(&[spec.status_path.as_bytes()])?;
        }
        Ok(())
    }

    /// The bundles of milestones other than `milestone` (a key), as
    /// `.milestone_bundles/<key>`: their status files are their runs'
    /// state (a failure, a sequence `plan --edit` wrote), which their own
    /// next checkpoint commits, never this milestone's.
    fn other_bundles(&self, milestone: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root().join(BUNDLES_DIR)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n != milestone)
            .map(|n| format!("{BUNDLES_DIR}/{n}"))
            .collect()
    }

    /// [`stage_all`](Self::stage_all) for many untracked files to leave
    /// out: one scan, then exactly the paths it listed.
    fn stage_listed(&self, spec: &CheckpointSpec<'_>) -> Result<()> {
        let changes = self.scan(Scope::Run(Refresh::Write))?;
        let others = self.other_bundles(spec.milestone);
        let mut staged: Vec<&[u8]> = changes
            .iter()
            .filter(|c| {
                !(c.is_untracked() && spec.keep_untracked.contains(c.path_lossy().as_ref()))
            })
            .filter(|c| !others.iter().any(|o| c.path().starts_with(o)))
            .map(Change::index_path)
            .collect();
        let status = spec.status_path.as_bytes();
        if !staged.contains(&status) {
            staged.push(status);
        }
        self.stage_paths(&staged)
    }

    /// Unstage the new files that were there, untouched, before the
    /// attempt started: not the task's work. Untracked files that were not
    /// ignored then are never staged (`keep_untracked`), so these are files
    /// an ignore rule hid until the task changed it (an `.env` the task's
    /// `.gitignore` edit exposed). Returns them.
    fn leave_out_untouched(&self, spec: &CheckpointSpec<'_>, raw: &[u8]) -> Result<Vec<String>> {
        let Some(started) = spec.attempt_started else {
            return Ok(Vec::new());
        };
        // Milestones' status files are the runs' state, not anyone's secret.
        let bundles = format!("{BUNDLES_DIR}/");
        let untouched: Vec<&[u8]> = added_paths(raw)
            .into_iter()
            .filter(|p| !p.starts_with(bundles.as_bytes()))
            .filter(|p| {
                !spec
                    .task_files
                    .contains(String::from_utf8_lossy(p).as_ref())
            })
            .filter(|p| self.untouched_since(Path::new(std::ffi::OsStr::from_bytes(p)), started))
            .collect();
        if untouched.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for path in &untouched {
            input.extend_from_slice(path);
            input.push(0);
        }
        let out = self.git_input(&["update-index", "--force-remove", "-z", "--stdin"], &input)?;
        self.succeeded(
            out,
            "leave files that are not the task's out of the checkpoint",
        )?;
        Ok(untouched
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect())
    }

    /// `git update-index --add --remove` of `paths`: only they are read,
    /// through the clean filters, and ignore rules do not apply.
    fn stage_paths(&self, paths: &[&[u8]]) -> Result<()> {
        let mut input = Vec::new();
        for path in paths {
            input.extend_from_slice(path);
            input.push(0);
        }
        let out = self.git_input(
            &["update-index", "--add", "--remove", "-z", "--stdin"],
            &input,
        )?;
        self.succeeded(out, "stage the checkpoint")?;
        Ok(())
    }

    /// The index as a tree, built from `parent`'s tree and what
    /// `git diff-index --cached` lists (`raw`): the same tree as `git write-tree`,
    /// which rewrites the whole index to save its cache of trees. A
    /// conflict, or a path that is not UTF-8, goes to `git write-tree`.
    ///
    /// The status file always differs from `parent`'s: missing from the
    /// list, an ignore rule kept `git add` from staging it, and it is
    /// staged now.
    fn staged_tree(&self, parent: &str, status_path: &str, mut raw: Vec<u8>) -> Result<Oid> {
        let listed = |raw: &[u8]| {
            parse_raw_diff(raw).is_some_and(|c| c.iter().any(|(p, _)| *p == status_path))
        };
        if !listed(&raw) {
            self.stage_paths(&[status_path.as_bytes()])?;
            raw = self.staged_changes(parent)?;
        }
        let Some(changes) = parse_raw_diff(&raw) else {
            return self.write_tree();
        };
        let base = self.tree_at(parent)?;
        let (mut upserts, mut removals) = (Vec::new(), Vec::new());
        for (path, entry) in changes {
            match entry {
                Some((oid, mode)) => upserts.push((path, oid, mode)),
                None => removals.push(path),
            }
        }
        self.update_tree(&base, upserts, removals)
    }

    /// `git diff-index --cached` against `parent`, raw.
    fn staged_changes(&self, parent: &str) -> Result<Vec<u8>> {
        // Every gitlink too: `submodule.<name>.ignore` must not hide one
        // that `git add` staged.
        let out = self.git(&[
            "diff-index",
            "--cached",
            "-z",
            "--no-renames",
            "--ignore-submodules=none",
            parent,
        ])?;
        Ok(self
            .succeeded(out, "compare the index with the branch")?
            .stdout)
    }

    /// The index as a tree: `git write-tree`.
    fn write_tree(&self) -> Result<Oid> {
        let out = self.git(&["write-tree"])?;
        let out = self.succeeded(out, "write the checkpoint's tree")?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Oid::from_str(&text).with_context(|| format!("`git write-tree` printed {text:?}"))
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
    /// Returns whether the hook ran (and passed).
    fn run_hook(&self, hooks: &Path, args: &[&str]) -> Result<bool> {
        if !hooks.join(args[0]).is_file() {
            return Ok(false);
        }
        let mut argv = vec!["hook", "run", "--ignore-missing"];
        argv.extend_from_slice(&args[..1]);
        if args.len() > 1 {
            argv.push("--");
            argv.extend_from_slice(&args[1..]);
        }
        let out = self.git(&argv)?;
        if out.status.success() {
            return Ok(true);
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

/// The paths `git diff-index -z` raw output lists as added.
fn added_paths(raw: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut fields = raw.split(|&b| b == 0);
    while let (Some(head), Some(path)) = (fields.next(), fields.next()) {
        if head.ends_with(b" A") {
            out.push(path);
        }
    }
    out
}

/// One path of `git diff-index -z` raw output: the index's blob and mode,
/// or `None` where the index no longer has the path.
type RawChange<'a> = (&'a str, Option<(Oid, git2::FileMode)>);

/// Parse `git diff-index -z --no-renames` raw output:
/// `:<old mode> <new mode> <old id> <new id> <status>` NUL `<path>` NUL.
/// `None` for anything but additions, modifications, type changes and
/// deletions of UTF-8 paths (a conflict, say).
fn parse_raw_diff(raw: &[u8]) -> Option<Vec<RawChange<'_>>> {
    let mut out = Vec::new();
    let mut fields = raw.split(|&b| b == 0);
    while let Some(head) = fields.next().filter(|h| !h.is_empty()) {
        let head = std::str::from_utf8(head.strip_prefix(b":")?).ok()?;
        let path = std::str::from_utf8(fields.next()?).ok()?;
        let f: Vec<&str> = head.split(' ').collect();
        let [_, mode, _, oid, status] = f[..] else {
            return None;
        };
        let entry = match status {
            "D" => None,
            "A" | "M" | "T" => Some((Oid::from_str(oid).ok()?, super::tree::file_mode(mode)?)),
            _ => return None,
        };
        out.push((path, entry));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_raw_diff_output() {
        let a = "1".repeat(40);
        let z = "0".repeat(40);
        let raw = format!(
            ":100644 100755 {a} {a} M\0bin/run me\0:000000 120000 {z} {a} A\0link\0:100644 000000 {a} {z} D\0gone\n\0"
        );
        let oid = Oid::from_str(&a).unwrap();
        assert_eq!(
            parse_raw_diff(raw.as_bytes()).unwrap(),
            vec![
                ("bin/run me", Some((oid, git2::FileMode::BlobExecutable))),
                ("link", Some((oid, git2::FileMode::Link))),
                ("gone\n", None),
            ]
        );
        assert_eq!(parse_raw_diff(b"").unwrap(), vec![]);
        let conflict = format!(":000000 000000 {z} {z} U\0f\0");
        assert_eq!(parse_raw_diff(conflict.as_bytes()), None);
        assert_eq!(parse_raw_diff(b":100644 100644 x y M\0\xff\0"), None);
    }

    #[test]
    fn lists_added_paths() {
        let a = "1".repeat(40);
        let z = "0".repeat(40);
        let raw = format!(
            ":100644 100644 {a} {a} M\0kept\0:000000 100644 {z} {a} A\0.env\0:000000 100644 {z} {a} A\0a b/c\0"
        );
        assert_eq!(added_paths(raw.as_bytes()), [&b".env"[..], b"a b/c"]);
        assert!(added_paths(b"").is_empty());
    }
}
