//! Starting a task's command: the shell line, its environment, its own
//! process group, the timeout, signals, and its output: stdout and stderr
//! share one pipe, so the terminal and the log show them in the order the
//! task wrote them.
//!
//! Plan text never enters the shell string: the runner command is the
//! user's (flag, environment, git config or the plan's own block) and the
//! task ID reaches it as `$1`, the way git runs aliases.

mod log;
pub mod prefixed;
pub mod signals;
mod tee;

use std::io::PipeWriter;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use log::{CAP_VAR as LOG_CAP_VAR, DEFAULT_CAP as LOG_CAP};
pub use tee::{Filter, Screen, Sink};

use crate::error::{Context, Error, Result};

/// Exit code with which a runner asks to skip its task (as `git bisect run`).
pub const EXIT_SKIP: i32 = 125;

/// How long a stopped task's process group gets between the polite signal
/// and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(3);

/// How often the wait loop looks at the clock and the signal flag. The
/// task's exit wakes it at once (a pidfd); where the kernel has none, it
/// looks at the child this often too, every millisecond at first so that
/// quick tasks cost little latency, then backing off to `POLL`.
const POLL: Duration = Duration::from_millis(20);
const FIRST_POLL: Duration = Duration::from_millis(1);

/// How long the output may stay open after the task's shell is gone (a
/// background process it left behind may hold it).
const OUTPUT_LINGER: Duration = Duration::from_secs(1);

/// The shell program; tasks run under it like git aliases do.
const SHELL: &str = "sh";

/// The variables a task's command sees, besides the inherited environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEnv<'a> {
    pub milestone: &'a str,
    pub task: &'a str,
    pub title: &'a str,
    /// 1-based position in the run order.
    pub index: usize,
    pub total: usize,
    /// The plan file, relative to the repository root.
    pub plan: &'a str,
    /// 1-based attempt number.
    pub attempt: u32,
}

impl TaskEnv<'_> {
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MILESTONE", self.milestone.to_string()),
            ("MILESTONE_TASK", self.task.to_string()),
            ("MILESTONE_TITLE", self.title.to_string()),
            ("MILESTONE_INDEX", self.index.to_string()),
            ("MILESTONE_TOTAL", self.total.to_string()),
            ("MILESTONE_PLAN", self.plan.to_string()),
            ("MILESTONE_ATTEMPT", self.attempt.to_string()),
        ]
    }
}

/// The shell's argv for a runner: a one-line command gets the task ID
/// appended as `"$@"` (git's alias convention); a script from the plan
/// gets it as `$1` and is run as written.
pub fn shell_args(command: &str, script: bool, task: &str) -> Vec<String> {
    if script {
        vec![
            "-c".into(),
            command.into(),
            "milestone-task".into(),
            task.into(),
        ]
    } else {
        vec![
            "-c".into(),
            format!("{command} \"$@\""),
            command.into(),
            task.into(),
        ]
    }
}

/// Everything needed to start one attempt of one task.
#[derive(Clone)]
pub struct Invocation<'a> {
    /// The runner line (`sh -c`), unless `argv` is given.
    pub command: &'a str,
    /// The command is a script from the plan, not a one-line runner.
    pub script: bool,
    pub env: TaskEnv<'a>,
    pub cwd: &'a Path,
    pub log: PathBuf,
    pub timeout: Option<Duration>,
    /// Where the task's output (stdout and stderr, in the order written)
    /// is shown besides the log.
    pub echo: Sink,
    /// More variables for the task: `GIT_REFLOG_ACTION`, which marks the
    /// commits it makes (see `run::watch`).
    pub extra_env: Vec<(&'static str, String)>,
    /// A program and its arguments to run instead of the shell line (an
    /// agent preset: the prompt is one of the arguments, never shell text).
    pub argv: Option<&'a [String]>,
    /// Variables set unless the environment already has them.
    pub env_defaults: Vec<(&'static str, String)>,
    /// Reads the output as it comes: decides what the screen shows instead
    /// of the raw bytes (the log keeps those) and may stop the task.
    pub filter: Option<Arc<Mutex<dyn Filter>>>,
    /// Shows the output instead of `echo` (the live status line's terminal,
    /// which gets whole lines only).
    pub screen: Option<Arc<dyn Screen>>,
    /// A line the log starts with, before the task's output (what this
    /// attempt continues, say).
    pub log_note: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Killed by a signal that git-milestone did not send.
    Signal(i32),
    TimedOut,
    /// git-milestone received this signal and stopped the task.
    Interrupted(i32),
    /// The output's filter asked to stop the task (an agent that crossed
    /// its budget, or waits for a network that is gone).
    Stopped,
}

impl Exit {
    /// The exit code to record; none when there was no normal exit.
    pub fn code(self) -> Option<i32> {
        match self {
            Exit::Code(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub exit: Exit,
    pub duration: Duration,
}

/// Run one attempt: start the shell in a new process group, copy its output
/// to the terminal and the log, and wait for it, a timeout or a signal.
pub fn run(inv: &Invocation<'_>) -> Result<Outcome> {
    let mut log = log::CappedLog::create(&inv.log, log::cap())?;
    if let Some(note) = &inv.log_note {
        log.write(format!("git-milestone: {note}\n").as_bytes())
            .with_context(|| format!("cannot write {}", inv.log.display()))?;
    }
    // A signal before the task starts (a closed standard output noticed on
    // the `Starting` line) stops it before it runs: a quick task could
    // otherwise end before the first look at the signal, and be committed.
    if let Some(sig) = signals::pending() {
        return Ok(Outcome {
            exit: Exit::Interrupted(sig),
            duration: Duration::ZERO,
        });
    }
    let (reader, writer) = std::io::pipe().context("cannot create a pipe for the task's output")?;
    let started = Instant::now();
    let mut child = spawn(inv, writer)?;
    let stop = Arc::new(AtomicBool::new(false));
    let output = tee::Output {
        sink: inv.echo,
        screen: inv.screen.clone(),
        filter: inv.filter.clone(),
        stop: Arc::clone(&stop),
    };
    let copy = tee::Copy::start(reader, output, log);
    let exit = wait(&mut child, started, inv.timeout, &stop);
    copy.finish(OUTPUT_LINGER);
    Ok(Outcome {
        exit: exit?,
        duration: started.elapsed(),
    })
}

/// Start the shell with `output` as both its stdout and its stderr: one
/// pipe keeps the order in which the task wrote to them.
fn spawn(inv: &Invocation<'_>, output: PipeWriter) -> Result<Child> {
    let stderr = output
        .try_clone()
        .context("cannot create a pipe for the task's output")?;
    let mut cmd = match inv.argv {
        Some([program, args @ ..]) => {
            let mut cmd = Command::new(program);
            cmd.args(args);
            cmd
        }
        _ => {
            let mut cmd = Command::new(SHELL);
            cmd.args(shell_args(inv.command, inv.script, inv.env.task));
            cmd
        }
    };
    for (key, value) in &inv.env_defaults {
        if std::env::var_os(key).is_none() {
            cmd.env(key, value);
        }
    }
    cmd.current_dir(inv.cwd)
        .envs(inv.env.vars())
        .envs(inv.extra_env.iter().map(|(k, v)| (*k, v)))
        // Tasks run unattended: a runner in a background process group that
        // read the terminal would be stopped by SIGTTIN and hang the run.
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(stderr)
        // Its own group, so a timeout or Ctrl-C stops everything it started.
        .process_group(0);
    // `cmd` (and with it our copies of the pipe's writing end) is dropped
    // on return, so the pipe ends when the task's processes close it.
    let program = inv
        .argv
        .and_then(|a| a.first())
        .map_or(SHELL, |p| p.as_str());
    cmd.spawn()
        .with_context(|| format!("cannot start `{program}` for task {}", inv.env.task))
}

fn wait(
    child: &mut Child,
    started: Instant,
    timeout: Option<Duration>,
    stop: &AtomicBool,
) -> Result<Exit> {
    let exited = ExitWatch::open(child.id());
    let mut pause = FIRST_POLL;
    loop {
        if let Some(status) = try_wait(child)? {
            return Ok(exit_of(status));
        }
        if let Some(sig) = signals::pending() {
            // A closed output is git-milestone's: the task gets a SIGTERM.
            let forward = if sig == libc::SIGPIPE {
                libc::SIGTERM
            } else {
                sig
            };
            stop_group(child, forward)?;
            return Ok(Exit::Interrupted(sig));
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            stop_group(child, libc::SIGTERM)?;
            return Ok(Exit::TimedOut);
        }
        if stop.load(Ordering::SeqCst) {
            stop_group(child, libc::SIGTERM)?;
            return Ok(Exit::Stopped);
        }
        let left = timeout.map_or(POLL, |t| t.saturating_sub(started.elapsed()));
        match &exited {
            Some(watch) => watch.wait(POLL.min(left)),
            None => {
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(POLL);
            }
        }
    }
}

/// A pidfd for the task's shell: readable once it exits, so the wait loop
/// wakes the moment it does rather than at its next look.
struct ExitWatch(std::os::fd::OwnedFd);

impl ExitWatch {
    /// `None` on kernels without `pidfd_open` (before Linux 5.3).
    fn open(pid: u32) -> Option<ExitWatch> {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open takes a pid and flags and returns a new file
        // descriptor or -1; nothing else is touched.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
        // SAFETY: `fd` was just returned by the kernel and is owned here alone.
        Some(ExitWatch(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// Block until the process exits, a signal arrives, or `limit` passes.
    fn wait(&self, limit: Duration) {
        use std::os::fd::AsRawFd;
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(limit.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, for the duration of the call. An error
        // (EINTR from a signal) just means: look again.
        unsafe { libc::poll(&mut pfd, 1, ms) };
    }
}

fn try_wait(child: &mut Child) -> Result<Option<ExitStatus>> {
    child
        .try_wait()
        .context("cannot wait for the task's command")
}

fn exit_of(status: ExitStatus) -> Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(1),
    }
}

/// Send `sig` to the task's whole group, give it [`GRACE`] to exit, then
/// SIGKILL whatever is left, and reap the shell.
pub(crate) fn stop_group(child: &mut Child, sig: i32) -> Result<()> {
    let pgid = child.id();
    signals::signal_group(pgid, sig);
    let deadline = Instant::now() + GRACE;
    let mut reaped = false;
    while Instant::now() < deadline {
        reaped = reaped || try_wait(child)?.is_some();
        // Once the shell is reaped, is anyone left? Processes that exited
        // but wait to be reaped by init do not count: some inits (a
        // container's) reap late, and they can do no more harm.
        if reaped && !signals::group_alive(pgid) {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
    signals::signal_group(pgid, libc::SIGKILL);
    if !reaped {
        child.wait().context("cannot wait for the task's command")?;
    }
    Ok(())
}

/// Parse `90s`, `30m`, `1.5h`, `1h30m`, `500ms` (jiff's friendly format,
/// ISO 8601 `PT1H` too); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || {
        Error::bad_input(format!("invalid duration {text:?}"))
            .hint("write it like `90s`, `30m`, `1.5h` or `1h30m`")
    };
    let s = text.trim();
    let duration = match s.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let signed: jiff::SignedDuration = s.parse().map_err(|_| bad())?;
            Duration::try_from(signed).map_err(|_| bad())?
        }
    };
    if duration.is_zero() {
        return Err(bad());
    }
    Ok(duration)
}

/// Check that a one-line runner's program exists, as the shell would look
/// it up from `cwd` (PATH, builtins, relative paths), before any task runs.
/// Lines that start with an assignment or a quote are left to the shell.
pub fn check_program(command: &str, cwd: &Path) -> Result<()> {
    let Some(word) = command.split_whitespace().next() else {
        return Ok(());
    };
    if word.contains(['=', '"', '\'', '$', '`', '(', '{']) {
        return Ok(());
    }
    // Most runners are programs on PATH: finding the file here saves
    // starting a shell; anything else (builtins, functions) asks `sh`.
    if executable_on_path(word, cwd) {
        return Ok(());
    }
    let found = Command::new(SHELL)
        .args(["-c", "command -v -- \"$1\" >/dev/null 2>&1", SHELL, word])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot start `{SHELL}` to look for `{word}`"))?;
    if found.success() {
        return Ok(());
    }
    Err(
        Error::refused(format!("runner program `{word}` was not found"))
            .hint("install it or put it on PATH; a relative path is found from where you typed `--runner` (from the repository root in `milestone.runner`)")
            .hint("or pick another runner with `--runner 'CMD'`"),
    )
}

/// Whether `word` names an executable file: on `PATH` when it has no `/`,
/// else relative to `cwd`. `false` means "ask the shell", not "missing".
fn executable_on_path(word: &str, cwd: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let is_exe = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if word.contains('/') {
        return is_exe(&cwd.join(word));
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .any(|dir| is_exe(&dir.join(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration("90s").unwrap(), s(90));
        assert_eq!(parse_duration("30m").unwrap(), s(1800));
        assert_eq!(parse_duration("2h").unwrap(), s(7200));
        assert_eq!(parse_duration("1h30m").unwrap(), s(5400));
        assert_eq!(parse_duration("45").unwrap(), s(45));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5h").unwrap(), s(5400));
        assert_eq!(parse_duration("1h 30m").unwrap(), s(5400));
        for bad in [
            "",
            "s",
            "10x",
            "-5s",
            "0s",
            "0",
            "m10",
            "1d",
            "99999999999999999999h",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn env_names_every_variable() {
        let env = TaskEnv {
            milestone: "M1",
            task: "TASK-002",
            title: "Parse $(x)",
            index: 2,
            total: 7,
            plan: "docs/plan.md",
            attempt: 3,
        };
        let vars: Vec<(String, String)> = env
            .vars()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let want = [
            ("MILESTONE", "M1"),
            ("MILESTONE_TASK", "TASK-002"),
            ("MILESTONE_TITLE", "Parse $(x)"),
            ("MILESTONE_INDEX", "2"),
            ("MILESTONE_TOTAL", "7"),
            ("MILESTONE_PLAN", "docs/plan.md"),
            ("MILESTONE_ATTEMPT", "3"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(vars, want);
    }

    #[test]
    fn task_id_is_an_argument_not_shell_text() {
        assert_eq!(
            shell_args("agent run", false, "T'1"),
            ["-c", "agent run \"$@\"", "agent run", "T'1"]
        );
        assert_eq!(
            shell_args("echo hi", true, "T1"),
            ["-c", "echo hi", "milestone-task", "T1"]
        );
    }

    fn invocation<'a>(dir: &'a Path, command: &'a str, env: TaskEnv<'a>) -> Invocation<'a> {
        Invocation {
            command,
            script: false,
            env,
            cwd: dir,
            log: dir.join("logs/t.log"),
            timeout: None,
            echo: Sink::LogOnly,
            extra_env: Vec::new(),
            argv: None,
            env_defaults: Vec::new(),
            filter: None,
            screen: None,
            log_note: None,
        }
    }

    fn env_for(task: &str) -> TaskEnv<'_> {
        TaskEnv {
            milestone: "M1",
            task,
            title: "$(touch pwned-title)",
            index: 1,
            total: 1,
            plan: "plan.md",
            attempt: 1,
        }
    }

    #[test]
    fn hostile_ids_and_titles_stay_data() {
        let dir = tempfile::tempdir().unwrap();
        let id = "T1'; touch pwned-id; echo '\"$(touch pwned-sub)\"";
        let inv = invocation(
            dir.path(),
            "printf '%s|%s\\n' \"$MILESTONE_TITLE\"",
            env_for(id),
        );
        let out = run(&inv).unwrap();
        assert_eq!(out.exit, Exit::Code(0));
        let log = std::fs::read_to_string(dir.path().join("logs/t.log")).unwrap();
        assert_eq!(log, format!("$(touch pwned-title)|{id}\n"));
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["logs"]);
    }

    #[test]
    fn exit_codes_and_output_reach_the_log_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let inv = invocation(
            dir.path(),
            "echo 1 out; echo 2 err >&2; echo 3 out; echo 4 err >&2; exit 125 #",
            env_for("T1"),
        );
        let out = run(&inv).unwrap();
        assert_eq!(out.exit, Exit::Code(EXIT_SKIP));
        let log = std::fs::read_to_string(&inv.log).unwrap();
        assert_eq!(log, "1 out\n2 err\n3 out\n4 err\n");
    }

    /// Makes this test process a child subreaper: orphans of a task's group
    /// become its children, and it never reaps them, like an init that
    /// reaps late (as in some containers).
    fn adopt_orphans_and_never_reap() {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes integers only.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    }

    #[test]
    fn a_timeout_does_not_wait_for_zombies_nobody_reaps() {
        adopt_orphans_and_never_reap();
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pgid");
        let cmd = format!(
            "echo $$ > '{}'; echo start; sleep 100; echo after #",
            pid_file.display()
        );
        let mut inv = invocation(dir.path(), &cmd, env_for("T1"));
        let timeout = Duration::from_millis(300);
        inv.timeout = Some(timeout);
        let out = run(&inv).unwrap();
        assert_eq!(out.exit, Exit::TimedOut);
        // The sleep, orphaned when the shell died, stays a zombie: it is
        // gone all the same, and the run moves on without the SIGKILL grace.
        assert!(out.duration < timeout + GRACE, "{:?}", out.duration);
        let pgid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            !signals::group_alive(pgid),
            "a process of the group is left"
        );
        let log = std::fs::read_to_string(&inv.log).unwrap();
        assert_eq!(log, "start\n");
    }

    #[test]
    fn timeout_stops_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        let cmd = format!("(sleep 1; touch '{}') & sleep 30 #", marker.display());
        let mut inv = invocation(dir.path(), &cmd, env_for("T1"));
        inv.timeout = Some(Duration::from_millis(200));
        let out = run(&inv).unwrap();
        assert_eq!(out.exit, Exit::TimedOut);
        // Well below the 30 s the task wanted; the group (zombies included,
        // until init reaps them) may take up to GRACE to disappear.
        assert!(out.duration < Duration::from_secs(10), "{:?}", out.duration);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            !marker.exists(),
            "a process of the task's group outlived the timeout"
        );
    }

    #[test]
    fn missing_programs_are_refused_before_running() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_program("no-such-program-xyz --flag", dir.path()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("`no-such-program-xyz`"), "{e}");
        check_program("sh -c true", dir.path()).unwrap();
        check_program("echo", dir.path()).unwrap();
        check_program("FOO=1 whatever", dir.path()).unwrap();
    }
}
