//! The run lock: one `git milestone run` at a time per repository.
//!
//! The lock is a file in the common git directory (shared by all linked
//! worktrees, since they share branches and refs), created with O_EXCL and
//! holding the owner's pid and start time. It is removed when the guard is
//! dropped, which every exit path does: errors return through the caller,
//! and signals only set a flag (see `runner::signals`). A lock whose pid no
//! longer exists is stale: it is reported and replaced.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use crate::runner::signals;

/// The lock file's path relative to the common git directory.
pub const LOCK_FILE: &str = "milestone/run.lock";

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

/// Held while a run is in progress; dropping it removes the lock file.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    /// The stale lock this one replaced, for the caller to report.
    pub replaced: Option<Owner>,
}

impl RunLock {
    /// Take the lock in `common_dir` for a run of `milestone`.
    pub fn acquire(common_dir: &Path, milestone: &str) -> Result<RunLock> {
        let path = common_dir.join(LOCK_FILE);
        let me = Owner {
            pid: std::process::id(),
            started_at: crate::state::now(),
            milestone: milestone.to_string(),
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        match create(&path, &me) {
            Ok(()) => {
                return Ok(RunLock {
                    path,
                    replaced: None,
                });
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
        let holder = read_owner(&path);
        match holder {
            Some(owner) if signals::process_exists(owner.pid) => Err(held(&path, &owner)),
            // A lock just created by O_EXCL may not hold its pid yet.
            None if just_created(&path) => Err(held(
                &path,
                &Owner {
                    pid: 0,
                    started_at: "just now".into(),
                    milestone: "unknown".into(),
                },
            )),
            stale => {
                // Remove, then create with O_EXCL again: if another run
                // replaces the stale lock at the same moment, one of us loses.
                let _ = fs::remove_file(&path);
                create(&path, &me).map_err(|e| {
                    Error::refused("another `git milestone run` took the run lock just now")
                        .with_cause(e)
                        .hint("wait for it to finish, or look with `git milestone status`")
                })?;
                Ok(RunLock {
                    path,
                    replaced: Some(stale.unwrap_or(Owner {
                        pid: 0,
                        started_at: "an unknown time".into(),
                        milestone: String::new(),
                    })),
                })
            }
        }
    }

    /// Who holds the lock of `milestone`'s runs now, if anyone: for
    /// `status`. (The lock is the repository's: `milestone` is not used.)
    pub fn holder(common_dir: &Path, milestone: &str) -> Option<Owner> {
        let _ = milestone;
        let owner = read_owner(&common_dir.join(LOCK_FILE))?;
        signals::process_exists(owner.pid).then_some(owner)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn create(path: &Path, owner: &Owner) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    // No fsync: after a crash the lock is stale anyway (its pid is gone).
    // A lock without its owner (a full disk) would block runs for a while.
    f.write_all(owner.render().as_bytes()).inspect_err(|_| {
        let _ = fs::remove_file(path);
    })
}

fn just_created(path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < std::time::Duration::from_secs(2))
}

fn read_owner(path: &Path) -> Option<Owner> {
    Owner::parse(&fs::read_to_string(path).ok()?)
}

fn held(path: &Path, owner: &Owner) -> Error {
    Error::refused(format!(
        "another `git milestone run` is in progress in this repository (pid {}, milestone {}, started {})",
        owner.pid, owner.milestone, owner.started_at
    ))
    .hint("wait for it to finish, or stop it with Ctrl-C in its terminal")
    .hint(format!(
        "if no such run exists, remove the lock with `rm {}`",
        crate::ui::text::quote_path(path)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn second_acquire_is_refused_and_drop_releases() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(dir.path(), "M1").unwrap();
        let text = fs::read_to_string(lock.path()).unwrap();
        assert!(
            text.starts_with(&format!("pid {}\n", std::process::id())),
            "{text}"
        );
        let e = RunLock::acquire(dir.path(), "M2").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("milestone M1"), "{e}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        RunLock::acquire(dir.path(), "M2").unwrap();
    }

    #[test]
    fn stale_lock_is_detected_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let old = Owner {
            pid: dead_pid(),
            started_at: "2026-01-01T00:00:00Z".into(),
            milestone: "M0".into(),
        };
        fs::write(&path, old.render()).unwrap();
        let lock = RunLock::acquire(dir.path(), "M1").unwrap();
        assert_eq!(lock.replaced, Some(old));
        let now = read_owner(&path).unwrap();
        assert_eq!(
            (now.pid, now.milestone.as_str()),
            (std::process::id(), "M1")
        );
    }

    #[test]
    fn unreadable_lock_counts_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "garbage").unwrap();
        let e = RunLock::acquire(dir.path(), "M1").unwrap_err();
        assert!(e.message().contains("in progress"), "{e}");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let lock = RunLock::acquire(dir.path(), "M1").unwrap();
        assert_eq!(lock.replaced.as_ref().unwrap().pid, 0);
    }
}
