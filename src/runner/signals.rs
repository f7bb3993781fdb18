//! SIGINT and SIGTERM become a flag the run loop polls, so that a signal
//! stops the task's process group and the run records it, instead of killing
//! git-milestone halfway through writing a file or a commit.

use std::sync::atomic::{AtomicI32, Ordering};

/// The last signal received, or 0. Only async-signal-safe work happens in
/// the handler: one atomic store.
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    PENDING.store(sig, Ordering::SeqCst);
}

/// Route SIGINT and SIGTERM to the flag for the rest of the process.
///
/// The terminal sends Ctrl-C's SIGINT to its foreground process group only,
/// which is git-milestone (and git, when started as `git milestone`), not
/// the task: tasks run in a group of their own so that they can be stopped
/// as a whole, so the run loop forwards the signal to that group.
pub fn install() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a handler that only stores an
        // atomic is valid; sigemptyset initialises the mask it points at.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The signal received since [`install`], if any.
pub fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
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
