//! SIGINT and SIGTERM become a flag the run loop polls, so that a signal
//! stops the task's process group and the run records it, instead of killing
//! git-milestone halfway through writing a file or a commit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The last signal received, or 0. signal-hook's handler stores it: one
/// atomic store, the only work that is async-signal-safe.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Route SIGINT and SIGTERM to the flag for the rest of the process.
///
/// The terminal sends Ctrl-C's SIGINT to its foreground process group only,
/// which is git-milestone (and git, when started as `git milestone`), not
/// the task: tasks run in a group of their own so that they can be stopped
/// as a whole, so the run loop forwards the signal to that group.
/// signal-hook installs with `SA_RESTART`, so reads and waits in progress
/// resume instead of failing with `EINTR`. Only the first call registers:
/// signal-hook adds an action for each registration.
pub fn install() -> std::io::Result<()> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *installed {
        return Ok(());
    }
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let value = usize::try_from(sig).expect("signal numbers are positive");
        signal_hook::flag::register_usize(sig, &PENDING, value)?;
    }
    *installed = true;
    Ok(())
}

/// Act as if `sig` had arrived: `run` notes a closed standard output
/// (SIGPIPE, which it ignores) so, and stops as for Ctrl-C, recording it.
pub fn note(sig: i32) {
    if let Ok(value) = usize::try_from(sig) {
        PENDING.store(value, Ordering::SeqCst);
    }
}

/// The signal received since [`install`], if any.
pub fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        sig => i32::try_from(sig).ok(),
    }
}

/// The conventional exit code for death by `sig` (130 for SIGINT).
pub fn exit_code(sig: i32) -> i32 {
    128 + sig
}

/// Send `sig` to every process in group `pgid`; false when the group is gone.
pub fn signal_group(pgid: u32, sig: i32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe { libc::killpg(pgid, sig) == 0 }
}

/// Whether process `pid` exists (it may belong to another user).
pub fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether a process of group `pgid` is still running. Zombies (exited,
/// waiting for their parent to reap them) do not count, although
/// `killpg(pgid, 0)` finds them: a grandchild orphaned by the task's shell
/// is reaped by init, which some inits do late or never.
pub fn group_alive(pgid: u32) -> bool {
    if !signal_group(pgid, 0) {
        return false;
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return true;
    };
    procs.flatten().any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        running_in_group(&stat, pgid)
    })
}

/// Whether a `/proc/<pid>/stat` line is a live (not zombie) member of
/// group `pgid`: `pid (comm) state ppid pgrp ...`, where `comm` may hold
/// spaces and parentheses, so the fields are read after its last `)`.
fn running_in_group(stat: &str, pgid: u32) -> bool {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let (Some(state), Some(_ppid), Some(pgrp)) = (fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    !matches!(state, "Z" | "X" | "x") && pgrp.parse() == Ok(pgid)
}

#[cfg(test)]
mod tests {
    use super::running_in_group;

    #[test]
    fn zombies_and_other_groups_are_not_running_members() {
        assert!(running_in_group("12 (sleep) S 1 12 12 0 -1", 12));
        assert!(running_in_group("13 (a) b (c)) R 12 12 12 0", 12));
        assert!(!running_in_group("14 (sleep) Z 1 12 12 0 -1", 12));
        assert!(!running_in_group("15 (sleep) S 1 99 99 0 -1", 12));
        assert!(!running_in_group("", 12));
    }
}
