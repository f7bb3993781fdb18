//! Which untracked files are the user's and which are a task's: the one
//! owner of that answer, for the run, `--jobs` and rollback. Kept in the
//! run journal: `untracked-at-start` (the user's), `attempt-leftovers` (the
//! files the last stopped attempt created) and `attempt-start` (when the
//! current attempt started, by the file system's clock).
//!
//! An untracked file present when the run starts, or when an attempt
//! starts, is the user's: checkpoints never stage it and rollbacks never
//! remove it. A file an attempt creates is its task's; when the attempt
//! stops, those are recorded, so that its retry (perhaps in another run)
//! commits them. A file the attempt never touched that an ignore rule it
//! changed exposed is the user's.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Context, Result};
use crate::files::{replace_file, write_atomically};
use crate::milestone::journal_dir;
use crate::repo::Repo;
use crate::repo::rollback::is_kept;

const USERS: &str = "untracked-at-start";
const TASKS: &str = "attempt-leftovers";
const STARTED: &str = "attempt-start";

/// The untracked files of a milestone's run: whose each is.
#[derive(Debug, Clone)]
pub struct Untracked {
    git_dir: PathBuf,
    name: String,
    /// Not the milestone's: there before the run, or made between attempts.
    users: HashSet<String>,
    /// The current task's: its last stopped attempt created them.
    task: HashSet<String>,
    /// When the current attempt started.
    started: Option<SystemTime>,
    /// The work tree's untracked files, when known without reading it
    /// again: as the run's checks read them, or none outside the user's
    /// right after a checkpoint that ran no hook (it staged every other).
    now: Option<Vec<String>>,
}

impl Untracked {
    /// As the journal records them; writes nothing.
    pub fn read(repo: &Repo, name: &str) -> Result<Untracked> {
        let git_dir = repo.git_dir();
        Ok(Untracked {
            git_dir: git_dir.to_path_buf(),
            name: name.to_string(),
            users: read_paths(git_dir, name, USERS)?.into_iter().collect(),
            task: read_paths(git_dir, name, TASKS)?.into_iter().collect(),
            started: attempt_start(git_dir, name)?,
            now: None,
        })
    }

    /// A new run's: every untracked file there now (`untracked`) is the
    /// user's. Recorded by [`begin`](Self::begin).
    pub fn new_run(repo: &Repo, name: &str, untracked: Vec<String>) -> Untracked {
        Untracked {
            git_dir: repo.git_dir().to_path_buf(),
            name: name.to_string(),
            users: untracked.iter().cloned().collect(),
            task: HashSet::new(),
            started: None,
            now: Some(untracked),
        }
    }

    /// A resumed run's, the work tree's untracked files being `untracked`.
    /// When it continues a stopped attempt (`continues`), the files that
    /// attempt created are its task's: as recorded when it stopped, or,
    /// when its end was never recorded (`end_unrecorded`: the run was killed
    /// during the task or before its checkpoint was staged, or the disk
    /// filled), every untracked file that is not the user's and that was
    /// touched since the attempt started: nothing else can tell them apart,
    /// and leaving the attempt's files out would make its retry's
    /// checkpoint incomplete.
    pub fn resumed(
        repo: &Repo,
        name: &str,
        untracked: Vec<String>,
        (continues, end_unrecorded): (bool, bool),
    ) -> Result<Untracked> {
        let mut read = Untracked::read(repo, name)?;
        if !continues {
            read.task.clear();
        } else if end_unrecorded {
            let unclaimed: Vec<String> = untracked
                .iter()
                .filter(|p| !read.users.contains(*p) && !read.untouched(repo, p))
                .cloned()
                .collect();
            read.task.extend(unclaimed);
        }
        read.now = Some(untracked);
        Ok(read)
    }

    /// Under the run lock, before any task runs: a new run records its
    /// untracked files as the user's, and that no attempt left any.
    pub fn begin(&self, fresh: bool) -> Result<()> {
        if !fresh {
            return Ok(());
        }
        let mut users: Vec<String> = self.users.iter().cloned().collect();
        users.sort();
        write_paths(&self.git_dir, &self.name, USERS, &users)?;
        write_paths(&self.git_dir, &self.name, TASKS, &[])
    }

    /// An attempt starts now: untracked files present existed before it,
    /// so they are not its work (the user may have made some between
    /// runs), except the files its task's stopped attempt created, which
    /// the retry continues. Notes the moment it started.
    pub fn attempt_start(&mut self, repo: &Repo) -> Result<()> {
        let untracked = match self.now.take() {
            Some(known) => known,
            None => repo.work_tree()?.untracked,
        };
        let new: Vec<String> = untracked
            .into_iter()
            .filter(|p| !self.task.contains(p))
            .collect();
        self.keep(new)?;
        self.started = Some(mark_attempt_start(&self.git_dir, &self.name)?);
        Ok(())
    }

    /// The attempt stopped without a checkpoint: record the untracked files
    /// it created, so that a retry, perhaps in another run, commits them.
    /// New files it did not touch (an ignore rule it changed no longer
    /// hides them) are the user's instead.
    pub fn attempt_end(&mut self, repo: &Repo) -> Result<()> {
        let untracked = repo.work_tree()?.untracked;
        let (mut created, exposed): (Vec<String>, Vec<String>) = untracked
            .into_iter()
            .filter(|p| !self.users.contains(p))
            .partition(|p| self.task.contains(p) || !self.untouched(repo, p));
        created.sort();
        write_paths(&self.git_dir, &self.name, TASKS, &created)?;
        self.task = created.into_iter().collect();
        self.keep(exposed)
    }

    /// The task's checkpoint holds its files now. `clean`: it staged every
    /// untracked file that is not the user's, and no hook ran that could
    /// have made more.
    pub fn checkpointed(&mut self, clean: bool) -> Result<()> {
        if clean {
            self.now = Some(Vec::new());
        }
        if !self.task.is_empty() {
            self.task.clear();
            write_paths(&self.git_dir, &self.name, TASKS, &[])?;
        }
        Ok(())
    }

    /// The task's files were taken out of the work tree with its work
    /// (set aside, which recorded it: [`Untracked::gone`]).
    pub fn set_aside(&mut self) {
        self.task.clear();
    }

    /// `paths` are the user's from now on: no checkpoint commits them.
    pub fn keep(&mut self, paths: Vec<String>) -> Result<()> {
        let before = self.users.len();
        self.users.extend(paths);
        if self.users.len() == before {
            return Ok(());
        }
        let mut all: Vec<String> = self.users.iter().cloned().collect();
        all.sort();
        write_paths(&self.git_dir, &self.name, USERS, &all)
    }

    /// Whether untracked file `path` is the user's.
    pub fn is_users(&self, path: &str) -> bool {
        self.users.contains(path)
    }

    /// Whether untracked file `path` is one the task's stopped attempt made.
    pub fn is_tasks(&self, path: &str) -> bool {
        self.task.contains(path)
    }

    /// The user's files, which checkpoints never stage.
    pub fn users(&self) -> &HashSet<String> {
        &self.users
    }

    /// The files the task's stopped attempt created, which its checkpoint
    /// commits.
    pub fn tasks(&self) -> &HashSet<String> {
        &self.task
    }

    /// When the current attempt started, by the file system's clock.
    pub fn started(&self) -> Option<SystemTime> {
        self.started
    }

    /// A rollback's sorting of the untracked files it found (`paths`):
    /// those neither the user's from before nor the run's own `status`
    /// file, split into the task's (its attempt recorded them, or, its end
    /// never recorded, any may be its) and the user's, made since the run
    /// started. An entry of the user's that ends in `/` (as an older run
    /// recorded a directory) covers the files inside.
    pub fn sort_out<'p>(
        &self,
        paths: impl Iterator<Item = &'p String>,
        (status, end_unrecorded): (&str, bool),
    ) -> (Vec<String>, Vec<String>) {
        let users = self.users_listed();
        let (mut task, mut made) = (Vec::new(), Vec::new());
        for p in paths {
            if is_kept(p, &users) || *p == status {
                continue;
            }
            if end_unrecorded || self.task.contains(p) {
                task.push(p.clone());
            } else {
                made.push(p.clone());
            }
        }
        (task, made)
    }

    /// The user's files, sorted.
    pub fn users_listed(&self) -> Vec<String> {
        let mut all: Vec<String> = self.users.iter().cloned().collect();
        all.sort();
        all
    }

    /// The task's files went with its attempt's work (rolled back, or set
    /// aside): none are left.
    pub fn gone(git_dir: &Path, name: &str) -> Result<()> {
        write_paths(git_dir, name, TASKS, &[])
    }

    /// `--undo` brought a rolled-back attempt's `files` back: its task's again.
    pub fn restored(git_dir: &Path, name: &str, files: &[String]) -> Result<()> {
        write_paths(git_dir, name, TASKS, files)
    }

    /// Whether the attempt left `path` alone since it started (an ignore
    /// rule it changed exposed it).
    fn untouched(&self, repo: &Repo, path: &str) -> bool {
        self.started
            .is_some_and(|t| repo.untouched_since(Path::new(path), t))
    }
}

/// Note that an attempt starts now, and return the moment as the file
/// system's clock has it: the modification time of `attempt-start`, which
/// files' change times are compared with (see `Repo::untouched_since`).
fn mark_attempt_start(git_dir: &Path, name: &str) -> Result<SystemTime> {
    let path = journal_dir(git_dir, name)?.join(STARTED);
    // A new file each time: its modification time is the moment it was made.
    replace_file(&path, b"")?;
    fs::metadata(&path)
        .and_then(|m| m.modified())
        .with_context(|| format!("cannot read {}", path.display()))
}

/// When the last attempt started ([`mark_attempt_start`]), if recorded.
fn attempt_start(git_dir: &Path, name: &str) -> Result<Option<SystemTime>> {
    let path = journal_dir(git_dir, name)?.join(STARTED);
    Ok(fs::metadata(path).and_then(|m| m.modified()).ok())
}

/// A journal file's paths (NUL-separated); none when it is missing.
fn read_paths(git_dir: &Path, name: &str, file: &str) -> Result<Vec<String>> {
    let path = journal_dir(git_dir, name)?.join(file);
    match fs::read(&path) {
        Ok(bytes) => Ok(bytes
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_paths(git_dir: &Path, name: &str, file: &str, paths: &[String]) -> Result<()> {
    let mut bytes = Vec::new();
    for p in paths {
        bytes.extend_from_slice(p.as_bytes());
        bytes.push(0);
    }
    write_atomically(&journal_dir(git_dir, name)?.join(file), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners(users: &[&str], task: &[&str]) -> Untracked {
        Untracked {
            git_dir: PathBuf::from("/nonexistent"),
            name: "M1".into(),
            users: users.iter().map(|p| p.to_string()).collect(),
            task: task.iter().map(|p| p.to_string()).collect(),
            started: None,
            now: None,
        }
    }

    #[test]
    fn a_rollback_sorts_the_task_s_files_from_those_made_since() {
        let o = owners(&["notes.txt", "scratch/"], &["new.rs"]);
        let found: Vec<String> = [
            "notes.txt",
            "scratch/a.txt",
            "new.rs",
            "draft.txt",
            ".milestone_bundles/M1/status.json",
        ]
        .map(String::from)
        .to_vec();
        let status = ".milestone_bundles/M1/status.json";
        let (task, made) = o.sort_out(found.iter(), (status, false));
        assert_eq!(
            (task, made),
            (vec!["new.rs".into()], vec!["draft.txt".into()])
        );
        // An attempt whose end was never recorded may have made any of them.
        let (task, made) = o.sort_out(found.iter(), (status, true));
        assert_eq!(task, ["new.rs", "draft.txt"]);
        assert!(made.is_empty());
    }

    #[test]
    fn journal_files_round_trip_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path();
        assert!(read_paths(git_dir, "M1", TASKS).unwrap().is_empty());
        let paths = vec!["a b.txt".to_string(), "dir/c".to_string()];
        write_paths(git_dir, "M1", TASKS, &paths).unwrap();
        assert_eq!(read_paths(git_dir, "M1", TASKS).unwrap(), paths);
        Untracked::gone(git_dir, "M1").unwrap();
        assert!(read_paths(git_dir, "M1", TASKS).unwrap().is_empty());
    }
}
