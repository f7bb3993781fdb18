//! The run locks: one `git milestone run` (or `rollback`) at a time per
//! milestone, and per work tree.
//!
//! Each lock is a kernel lock (`flock`, through [`File::try_lock`]) on a
//! file. The milestone's file is in the common git directory, shared by all
//! linked worktrees since they share branches and refs: two runs of one
//! milestone are refused wherever they start. The work tree's file is in its
//! own git directory: runs of different milestones may go on at the same
//! time in different worktrees, never in the same one. The kernel releases
//! a lock when its holder exits, however it exits (`kill -9` included), so
//! a lock is never stale and a pid that was reused by another process
//! confuses nothing. The files also hold the owner's pid, milestone and
//! start time, for the message a second run gets. The holder removes them
//! when it is done; a file left by a killed holder is simply locked again.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Context, Error, Result};

/// The work tree's lock file, relative to its git directory (the main
/// worktree's is the one lock file of versions before per-milestone locks).
pub const LOCK_FILE: &str = "milestone/run.lock";

/// The directory of the milestones' lock files in the common git directory.
const MILESTONE_LOCKS: &str = "milestone/locks";

/// How many times a busy lock is tried before a run is refused, and the
/// pause between tries: `status` looks at the lock by taking it shared
/// for a moment, which must not refuse a run that starts just then.
const TRIES: u32 = 5;
const PAUSE: Duration = Duration::from_millis(20);

/// The file that serialises runs of `milestone` in every worktree: named
/// by the milestone, case folded (`m1` and `M1` are one milestone's
/// bundle), with `/` and `%` escaped so that it stays one file name.
fn milestone_lock_path(common_dir: &Path, milestone: &str) -> PathBuf {
    let name: String = milestone
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '/' => "%2F".to_string(),
            '%' => "%25".to_string(),
            c => c.to_string(),
        })
        .collect();
    common_dir
        .join(MILESTONE_LOCKS)
        .join(format!("{name}.lock"))
}

/// Which of the two locks a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    WorkTree,
    Milestone,
}

/// What a lock file says about its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub started_at: String,
    pub milestone: String,
}

impl Owner {
    fn render(&self) -> String {
        format!(
            "pid {}\nstarted {}\nmilestone {}\n",
            self.pid, self.started_at, self.milestone
        )
    }

    fn parse(text: &str) -> Option<Owner> {
        let mut pid = None;
        let mut started_at = String::new();
        let mut milestone = String::new();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("started", v)) => started_at = v.trim().to_string(),
                Some(("milestone", v)) => milestone = v.trim().to_string(),
                _ => {}
            }
        }
        Some(Owner {
            pid: pid?,
            started_at,
            milestone,
        })
    }
}

/// One locked file, removed when it is let go.
#[derive(Debug)]
struct Held {
    /// Holds the kernel lock until it is closed.
    _file: File,
    path: PathBuf,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Removed while still locked, so that the next run makes a new
        // file; closing the file then releases the lock.
        let _ = fs::remove_file(&self.path);
    }
}

/// Held while a run is in progress: the work tree's lock and the
/// milestone's; dropping it removes both files and releases the locks.
#[derive(Debug)]
pub struct RunLock {
    // Let go in this order: the milestone's first.
    milestone: Held,
    work_tree: Held,
    /// The owner a killed run left written in a lock file, for the caller
    /// to report.
    pub replaced: Option<Owner>,
}

impl RunLock {
    /// Take the locks of the work tree whose git directory is `git_dir`
    /// and of `milestone` in `common_dir`, or refuse (naming the run that
    /// holds one).
    pub fn acquire(git_dir: &Path, common_dir: &Path, milestone: &str) -> Result<RunLock> {
        let (work_tree, replaced) = take(&git_dir.join(LOCK_FILE), milestone, Scope::WorkTree)?;
        let (milestone_held, also) = take(
            &milestone_lock_path(common_dir, milestone),
            milestone,
            Scope::Milestone,
        )?;
        Ok(RunLock {
            milestone: milestone_held,
            work_tree,
            replaced: replaced.or(also),
        })
    }

    /// Who holds the lock of `milestone`'s runs now, or else the lock of
    /// the work tree whose git directory is `git_dir` (where a run of
    /// `milestone` would have to wait for either): for `status`. Takes each
    /// lock shared for a moment, which a run starting at that moment waits
    /// out (see [`TRIES`]).
    pub fn holder(git_dir: &Path, common_dir: &Path, milestone: Option<&str>) -> Option<Owner> {
        let ours = milestone.and_then(|m| holder_of(&milestone_lock_path(common_dir, m)));
        ours.or_else(|| holder_of(&git_dir.join(LOCK_FILE)))
    }

    /// The work tree's lock file.
    pub fn path(&self) -> &Path {
        &self.work_tree.path
    }

    /// The milestone's lock file.
    pub fn milestone_path(&self) -> &Path {
        &self.milestone.path
    }
}

fn holder_of(path: &Path) -> Option<Owner> {
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(read_owner(&mut file).unwrap_or_else(unknown)),
        Err(TryLockError::Error(_)) => None,
    }
}

/// Lock the file at `path` for a run of `milestone`, or refuse; returns
/// it held, and the owner a killed holder left in it.
fn take(path: &Path, milestone: &str, scope: Scope) -> Result<(Held, Option<Owner>)> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for tried in 1.. {
        let mut file = open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) if tried < TRIES => {
                std::thread::sleep(PAUSE);
                continue;
            }
            Err(TryLockError::WouldBlock) => return Err(held(read_owner(&mut file), scope)),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        // A holder that just finished removed the file we opened: lock
        // the one at `path` now, or two runs would hold different files.
        if !still_at(&file, path) {
            continue;
        }
        let replaced = read_owner(&mut file);
        write_owner(&mut file, milestone)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let path = path.to_path_buf();
        return Ok((Held { _file: file, path }, replaced));
    }
    unreachable!("the loop returns")
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Whether `path` still names the file `file` has open.
fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn write_owner(file: &mut File, milestone: &str) -> std::io::Result<()> {
    let me = Owner {
        pid: std::process::id(),
        started_at: crate::files::now(),
        milestone: milestone.to_string(),
    };
    file.set_len(0)?;
    file.rewind()?;
    // No fsync: the lock itself is the kernel's; the text is for messages.
    file.write_all(me.render().as_bytes())
}

fn read_owner(file: &mut File) -> Option<Owner> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    Owner::parse(&text)
}

/// A holder that has not written its details yet (it just took the lock).
fn unknown() -> Owner {
    Owner {
        pid: 0,
        started_at: "just now".into(),
        milestone: "unknown".into(),
    }
}

fn held(owner: Option<Owner>, scope: Scope) -> Error {
    let owner = owner.unwrap_or_else(unknown);
    let stop = match owner.pid {
        0 => "wait for it to finish, or stop it with Ctrl-C in its terminal".to_string(),
        pid => {
            format!("wait for it to finish, or stop it: Ctrl-C in its terminal, or `kill {pid}`")
        }
    };
    let (pid, started) = (owner.pid, crate::ui::text::clean(&owner.started_at));
    let milestone = crate::ui::text::clean(&owner.milestone);
    let what = match scope {
        Scope::WorkTree => format!(
            "another `git milestone run` is in progress in this work tree (pid {pid}, milestone {milestone}, started {started})"
        ),
        Scope::Milestone => format!(
            "another `git milestone run` of milestone {milestone} is in progress (pid {pid}, started {started}); one milestone runs in one place at a time"
        ),
    };
    Error::refused(what).hint(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_is_refused_and_drop_releases() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(dir.path(), dir.path(), "M1").unwrap();
        let text = fs::read_to_string(lock.path()).unwrap();
        assert!(
            text.starts_with(&format!("pid {}\n", std::process::id())),
            "{text}"
        );
        assert_eq!(
            RunLock::holder(dir.path(), dir.path(), None)
                .unwrap()
                .milestone,
            "M1"
        );
        let e = RunLock::acquire(dir.path(), dir.path(), "M2").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("milestone M1"), "{e}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        assert_eq!(RunLock::holder(dir.path(), dir.path(), None), None);
        RunLock::acquire(dir.path(), dir.path(), "M2").unwrap();
    }

    #[test]
    fn milestones_lock_apart_and_work_trees_apart() {
        let common = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let (main, linked) = (common.path(), other.path());
        let m1 = RunLock::acquire(main, main, "M1").unwrap();
        // Another milestone in another worktree runs at the same time.
        let m2 = RunLock::acquire(linked, main, "M2").unwrap();
        assert_eq!(
            RunLock::holder(main, main, Some("m1")).unwrap().milestone,
            "M1"
        );
        assert_eq!(RunLock::holder(linked, main, None).unwrap().milestone, "M2");
        drop(m2);
        // The same milestone, wherever it starts, is refused.
        let e = RunLock::acquire(linked, main, "m1").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.message().contains("of milestone M1 is in progress"),
            "{e}"
        );
        // The work tree's own lock was let go with the refusal.
        assert_eq!(RunLock::holder(linked, main, None), None);
        let path = m1.milestone_path().to_path_buf();
        drop(m1);
        assert!(!path.exists());
        RunLock::acquire(linked, main, "M1").unwrap();
    }

    #[test]
    fn a_file_nobody_holds_is_taken_whatever_pid_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        // This very process: alive, as a reused pid would be.
        let old = Owner {
            pid: std::process::id(),
            started_at: "2026-01-01T00:00:00Z".into(),
            milestone: "M0".into(),
        };
        fs::write(&path, old.render()).unwrap();
        assert_eq!(RunLock::holder(dir.path(), dir.path(), None), None);
        let lock = RunLock::acquire(dir.path(), dir.path(), "M1").unwrap();
        assert_eq!(lock.replaced, Some(old));
        let now = Owner::parse(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(now.milestone, "M1");
        drop(lock);
        fs::write(&path, "garbage").unwrap();
        let lock = RunLock::acquire(dir.path(), dir.path(), "M1").unwrap();
        assert_eq!(lock.replaced, None);
    }

    #[test]
    fn racing_runs_never_both_hold_the_lock() {
        use std::sync::{Arc, Barrier, Mutex};
        const RACERS: usize = 6;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        for round in 0..40 {
            // Left by a run that was killed: every racer finds it.
            fs::write(&path, "pid 999999999\nstarted x\nmilestone M0\n").unwrap();
            let start = Arc::new(Barrier::new(RACERS));
            let held = Arc::new(Barrier::new(RACERS));
            let winners = Arc::new(Mutex::new(0));
            let threads: Vec<_> = (0..RACERS)
                .map(|_| {
                    let (dir, start, held, winners) = (
                        dir.path().to_path_buf(),
                        start.clone(),
                        held.clone(),
                        winners.clone(),
                    );
                    std::thread::spawn(move || {
                        start.wait();
                        let lock = RunLock::acquire(&dir, &dir, "M1");
                        if lock.is_ok() {
                            *winners.lock().unwrap() += 1;
                        }
                        // Everyone has tried before the winner lets go.
                        held.wait();
                        drop(lock);
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(*winners.lock().unwrap(), 1, "round {round}");
        }
    }
}
