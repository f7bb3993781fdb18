//! Stopping a command at a moment chosen by what it does, never by a time:
//! the start of its n-th git command (a `git` first on `PATH` sends the
//! signal), or the entry to its n-th call of a system call that writes
//! (strace's fault injection sends it there). The same seed picks the same
//! moments however loaded the machine is. Afterwards the test waits until
//! every process the command started has ended (each holds a lock it
//! inherited), not for a quiet spell.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::TestRepo;

/// The system calls whose entries are moments to stop at: those that
/// change a file or a directory.
pub const WRITES: &[&str] = &[
    "write",
    "mkdir",
    "link",
    "unlink",
    "rmdir",
    "fsync",
    "rename",
    "renameat",
    "renameat2",
];

/// Where the lock every process of the command holds is inherited; high,
/// out of the way of the descriptors shells and git use.
const HELD_FD: i32 = 219;

/// A moment to stop a command at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At<'a> {
    /// As it starts its n-th git command (from 1). With SIGKILL, that git
    /// runs on with its standard input at its end, as when the kill lands
    /// before git-milestone wrote to it.
    Git(usize),
    /// On entry to its n-th call (from 1) of this system call, before the
    /// call is made.
    Syscall(&'static str, usize),
    /// On entry to its n-th call of this system call on this path, spelled
    /// as the command spells it (strace compares the strings).
    SyscallOn(&'static str, usize, &'a Path),
}

/// How many of each kind of moment a command has, run to its end.
#[derive(Debug, Clone)]
pub struct Events {
    pub git: usize,
    /// The [`WRITES`] it made, by name; those it never made are absent.
    pub syscalls: BTreeMap<&'static str, usize>,
}

impl Events {
    /// A moment drawn with `below` (a seeded generator: a number below its
    /// argument): a git command when `git`, else a system call, its kind
    /// drawn first so that rare kinds get their share.
    pub fn moment(&self, git: bool, mut below: impl FnMut(u64) -> u64) -> At<'static> {
        let mut pick = |n: usize| usize::try_from(below(n as u64)).unwrap();
        if git || self.syscalls.is_empty() {
            assert!(self.git > 0, "the command started no git command");
            return At::Git(1 + pick(self.git));
        }
        let kinds: Vec<(&&str, &usize)> = self.syscalls.iter().collect();
        let (name, count) = kinds[pick(kinds.len())];
        At::Syscall(name, 1 + pick(*count))
    }
}

/// How a stopped command ended.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// Its exit code; -1 when a signal ended it.
    pub code: i32,
    /// Whether the moment came (a command may end before its n-th call).
    pub signalled: bool,
}

/// Whether strace is installed and may trace here. CI installs it
/// (`.ci/run`).
pub fn strace_installed() -> bool {
    Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `true` when the tests that stop commands at system calls can run here;
/// else says they are skipped. A missing strace fails them under CI, where
/// it must be installed; one that is installed but may not trace (a
/// container that forbids ptrace) skips them everywhere, saying so.
pub fn can_trace() -> bool {
    if strace_installed() {
        return true;
    }
    let present = Command::new("strace").arg("-V").output().is_ok();
    if present {
        super::skip(
            "strace may not trace here (ptrace is not permitted), so commands cannot be stopped at a system call",
        );
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "strace is not installed, so commands cannot be stopped at a system call"
    );
    super::skip("strace is not installed, so commands cannot be stopped at a system call");
    false
}

/// The events of `args` run to its end on `t`, which it changes.
pub fn events(t: &TestRepo, args: &[impl AsRef<OsStr>]) -> Events {
    let log = t.home.path().join("stop-trace");
    run_to_end(command(t, args, None, &log, (WRITES, None)));
    let trace = std::fs::read_to_string(&log).unwrap();
    let mut syscalls = BTreeMap::new();
    for name in WRITES {
        let n = calls(&trace, name);
        if n > 0 {
            syscalls.insert(*name, n);
        }
    }
    Events {
        git: git_commands_started(t),
        syscalls,
    }
}

/// How many calls of system call `name` on `path` (spelled as the command
/// spells it) `args` makes, run to its end on `t`: with [`At::SyscallOn`],
/// the last one is a moment a change to the command's code cannot move.
pub fn calls_on(
    t: &TestRepo,
    args: &[impl AsRef<OsStr>],
    name: &'static str,
    path: &Path,
) -> usize {
    let log = t.home.path().join("stop-trace");
    run_to_end(command(t, args, None, &log, (&[name], Some(path))));
    calls(&std::fs::read_to_string(&log).unwrap(), name)
}

fn run_to_end(mut cmd: Command) {
    let status = cmd.status().unwrap();
    assert!(status.success(), "{cmd:?} failed: {status:?}");
}

/// Run `args` on `t`, send `sig` at `at`, and wait until the command and
/// every process it started (git commands it left running finish their
/// job, as they would for a user) have ended.
pub fn stop_at(t: &TestRepo, args: &[impl AsRef<OsStr>], sig: i32, at: At<'_>) -> Stopped {
    let log = t.home.path().join("stop-trace");
    let mut cmd = command(t, args, Some((at, sig)), &log, (&[], None));
    let held = t.home.path().join("stop-held");
    let status = {
        let holder = File::create(&held).unwrap();
        // SAFETY: flock on a descriptor this test owns.
        assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_SH) }, 0);
        let fd = holder.as_raw_fd();
        // SAFETY: dup2 is async-signal-safe; the duplicate, unlike the
        // original, survives exec, so the command and all it starts hold it.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, HELD_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        drop(holder);
        child.wait().unwrap()
    };
    wait_until_released(&held);
    let signalled = match at {
        At::Git(_) => t.home.path().join("stop-sent").exists(),
        At::Syscall(name, n) | At::SyscallOn(name, n, _) => {
            calls(&std::fs::read_to_string(&log).unwrap(), name) >= n
        }
    };
    Stopped {
        code: status.code().unwrap_or(-1),
        signalled,
    }
}

/// The command for `args`: with the counting `git` first on `PATH`, under
/// strace when stopped at a system call or when `trace` names some (on
/// one path only, when it gives one).
fn command(
    t: &TestRepo,
    args: &[impl AsRef<OsStr>],
    stop: Option<(At<'_>, i32)>,
    log: &Path,
    trace: (&[&str], Option<&Path>),
) -> Command {
    let git_at = match stop {
        Some((At::Git(n), sig)) => Some((n, sig)),
        _ => None,
    };
    let mut path = vec![counting_git(t, git_at)];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let mut strace: Vec<String> = vec!["-qq".into(), "-o".into(), log.display().to_string()];
    let on = match stop {
        Some((At::Syscall(name, n) | At::SyscallOn(name, n, _), sig)) => {
            strace.extend([
                format!("-etrace={name}"),
                format!("-einject={name}:signal={}:when={n}", signal_name(sig)),
            ]);
            match stop {
                Some((At::SyscallOn(_, _, path), _)) => Some(path),
                _ => None,
            }
        }
        _ if !trace.0.is_empty() => {
            strace.push(format!("-etrace={}", trace.0.join(",")));
            trace.1
        }
        _ => {
            strace.clear();
            None
        }
    };
    if let Some(path) = on {
        strace.extend(["-P".into(), path.display().to_string()]);
    }
    let mut cmd = if strace.is_empty() {
        t.cmd()
    } else {
        let mut cmd = Command::new("strace");
        super::seal(&mut cmd, t.home.path());
        cmd.current_dir(t.path())
            .args(strace)
            .arg("--")
            .arg(super::bin());
        cmd
    };
    let printed = |name: &str| Stdio::from(File::create(t.home.path().join(name)).unwrap());
    cmd.args(args)
        .env("PATH", std::env::join_paths(path).unwrap())
        .stdin(Stdio::null())
        .stdout(printed(STDOUT))
        .stderr(printed(STDERR));
    cmd
}

/// Where the command's standard output and error go, in HOME.
const STDOUT: &str = "stop-stdout";
const STDERR: &str = "stop-stderr";

/// What the command [`stop_at`] stopped printed, and its exit code.
pub fn printed(t: &TestRepo, stopped: &Stopped) -> super::Run {
    let read = |name: &str| std::fs::read_to_string(t.home.path().join(name)).unwrap();
    super::Run {
        code: stopped.code,
        stdout: read(STDOUT),
        stderr: read(STDERR),
    }
}

/// Lines of an strace log that are calls of `name`.
fn calls(trace: &str, name: &str) -> usize {
    let call = format!("{name}(");
    trace.lines().filter(|l| l.starts_with(&call)).count()
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => "KILL",
        libc::SIGINT => "INT",
        libc::SIGTERM => "TERM",
        _ => panic!("no name for signal {sig}"),
    }
}

/// Wait until no process holds the lock on `held`: the command and every
/// process it started have ended. The deadline only bounds a hang.
fn wait_until_released(held: &Path) {
    let file = File::open(held).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    // SAFETY: flock on a descriptor this test owns.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        assert!(
            Instant::now() < deadline,
            "a process the stopped command started never ended"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The git program this machine runs.
fn real_git() -> String {
    let out = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A `git` that counts the git commands git-milestone starts (some start
/// together, hence the lock) and, at the `at.0`-th, sends git-milestone
/// signal `at.1`. Returns the directory to put first on `PATH`.
fn counting_git(t: &TestRepo, at: Option<(usize, i32)>) -> PathBuf {
    let dir = t.home.path().join("stop-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let count = t.home.path().join("stop-git-count");
    std::fs::write(&count, "0").unwrap();
    let sent = t.home.path().join("stop-sent");
    let _ = std::fs::remove_file(&sent);
    let (n, sig) = at.unwrap_or((0, libc::SIGKILL));
    // After a SIGKILL git-milestone writes nothing more to git's input.
    let input = if sig == libc::SIGKILL {
        "</dev/null"
    } else {
        ""
    };
    let body = format!(
        "#!/bin/sh\n\
         if [ \"$(cat /proc/$PPID/comm 2>/dev/null)\" = git-milestone ]; then\n\
         exec 8>>'{c}.lock'; flock 8\n\
         n=$(( $(cat '{c}') + 1 )); echo $n > '{c}'\n\
         flock -u 8; exec 8>&-\n\
         if [ $n = {n} ]; then touch '{sent}'; kill -{sig} $PPID; exec '{git}' \"$@\" {input}; fi\n\
         fi\n\
         exec '{git}' \"$@\"\n",
        c = count.display(),
        sent = sent.display(),
        sig = signal_name(sig),
        git = real_git()
    );
    let path = dir.join("git");
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

/// How many git commands git-milestone started since [`counting_git`].
pub fn git_commands_started(t: &TestRepo) -> usize {
    std::fs::read_to_string(t.home.path().join("stop-git-count"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
