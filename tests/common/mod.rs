//! Sealed test environment: real temporary git repositories that never see
//! the machine's git config, and a way to run the built binary in them.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_fs::TempDir;

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-milestone"))
}

/// A temporary repository with its own HOME, sealed from global and system config.
pub struct TestRepo {
    pub dir: TempDir,
    pub home: TempDir,
}

/// Apply the sealed environment to a command: no inherited `GIT_*`, no
/// global or system config, fixed identity and dates, `TZ=UTC`, `LC_ALL=C`.
pub fn seal(cmd: &mut Command, home: &Path) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if k.starts_with("GIT_") || k == "NO_COLOR" || k == "COLUMNS" || k.starts_with("MILESTONE")
        {
            cmd.env_remove(&k);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
}

impl TestRepo {
    /// `git init -b main` in a fresh temporary directory.
    pub fn new() -> TestRepo {
        let t = TestRepo {
            dir: TempDir::new().unwrap(),
            home: TempDir::new().unwrap(),
        };
        t.git(&["init", "-q", "-b", "main", "."]);
        t
    }

    /// A repository with one commit holding `files` (path, contents).
    pub fn with_files(files: &[(&str, &str)]) -> TestRepo {
        let t = TestRepo::new();
        for (path, text) in files {
            t.write(path, text);
        }
        t.commit_all("initial");
        t
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    }

    /// A sealed `git` command in the repository root.
    pub fn git_cmd(&self) -> Command {
        let mut c = Command::new("git");
        seal(&mut c, self.home.path());
        c.current_dir(self.path());
        c
    }

    /// Run git and return stdout; panics with stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// [`git`](Self::git) with extra environment variables.
    pub fn git_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut cmd = self.git_cmd();
        cmd.args(args).envs(env.iter().copied());
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A sealed command for the binary under test, run from `rel` (a subdirectory or "").
    pub fn cmd_in(&self, rel: &str) -> Command {
        let mut c = Command::new(bin());
        seal(&mut c, self.home.path());
        c.current_dir(self.path().join(rel));
        c
    }

    pub fn cmd(&self) -> Command {
        self.cmd_in("")
    }

    /// Run the binary with `args` from the root.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run::from(self.cmd().args(args).output().unwrap())
    }
}

/// A finished run: exit code, stdout and stderr together.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Assert the exit code, printing everything on mismatch.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code, want,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn success(&self) -> &Run {
        self.code(0)
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Run {
    /// stdout, stderr and the exit status together, with what changes from
    /// run to run filtered (see [`normalize`]): the text a snapshot pins.
    pub fn render(&self, t: &TestRepo) -> String {
        normalize(
            &format!(
                "exit: {}\n--- stdout\n{}--- stderr\n{}",
                self.code, self.stdout, self.stderr
            ),
            t,
        )
    }
}

/// Replace what differs between runs and machines with placeholders: the
/// repository's and HOME's paths (`[REPO]`, `[HOME]`), other temporary paths
/// (`[TMP]`), object ids (`[OID]`), times (`[TIME]`), durations
/// (`[DURATION]`) and process ids (`pid [PID]`).
pub fn normalize(text: &str, t: &TestRepo) -> String {
    use regex::Regex;
    use std::sync::LazyLock;
    static FILTERS: LazyLock<Vec<(Regex, &str)>> = LazyLock::new(|| {
        [
            (r"(/private)?/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
            (r"\b[0-9a-f]{40}([0-9a-f]{24})?\b", "[OID]"),
            (
                r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                "[TIME]",
            ),
            (r"\b\d+(\.\d+)?(ms|µs|s|m|h)\b", "[DURATION]"),
            (r"\bpid \d+", "pid [PID]"),
        ]
        .into_iter()
        .map(|(re, to)| (Regex::new(re).unwrap(), to))
        .collect()
    });
    let mut out = text.to_string();
    for (dir, name) in [(t.path(), "[REPO]"), (t.home.path(), "[HOME]")] {
        if let Ok(real) = dir.canonicalize() {
            out = out.replace(&*real.to_string_lossy(), name);
        }
        out = out.replace(&*dir.to_string_lossy(), name);
    }
    for (re, to) in FILTERS.iter() {
        out = re.replace_all(&out, *to).into_owned();
    }
    // Abbreviated ids: any 7 hex digits (as messages show them), or 8 to
    // 12 that mix digits and letters; words and numbers stay.
    static SHORT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[0-9a-f]{7,12}\b").unwrap());
    SHORT
        .replace_all(&out, |c: &regex::Captures<'_>| {
            let w = &c[0];
            let mixed = w.bytes().any(|b| b.is_ascii_digit()) && w.bytes().any(|b| b > b'9');
            if w.len() == 7 || mixed {
                "[OID]".to_string()
            } else {
                w.to_string()
            }
        })
        .into_owned()
}

/// Say, where it cannot be missed, that a test did not run and why. The
/// harness captures what `eprintln!` prints from a passing test; this writes
/// to the process's standard error directly, so `cargo test` shows it.
pub fn skip(why: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// `PATH` with the binary under test's directory first, so that git (and
/// hooks it runs) find `git-milestone` as `git milestone` would.
pub fn path_with_bin() -> std::ffi::OsString {
    let mut dirs = vec![bin().parent().unwrap().to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap()
}

/// Run `cmd` with `input` on its standard input.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

/// A status file for milestone `name` with `tasks` (ID, state), titled
/// `Task <ID>`, as the run loop writes it.
pub fn milestone_status(
    name: &str,
    state: git_milestone::state::RunState,
    tasks: &[(&str, git_milestone::state::TaskState)],
) -> git_milestone::state::Status {
    use git_milestone::state::{STATUS_VERSION, Status, TaskState, TaskStatus};
    let tasks = tasks
        .iter()
        .map(|(id, st)| {
            let ran = !matches!(st, TaskState::Pending | TaskState::DoneInPlan);
            TaskStatus {
                id: id.to_string(),
                label: None,
                title: format!("Task {id}"),
                state: *st,
                attempts: u32::from(ran),
                started_at: ran.then(|| "2026-01-01T00:00:00Z".to_string()),
                ended_at: ran.then(|| "2026-01-01T00:00:04Z".to_string()),
                duration_ms: ran.then_some(4_200),
                exit_code: ran.then_some(i32::from(*st == TaskState::Failed)),
                checkpoint: None,
                adopted_commits: vec![],
                history: Vec::new(),
                usage: None,
            }
        })
        .collect();
    Status {
        version: STATUS_VERSION,
        milestone: name.to_string(),
        plan: "docs/plan.md".to_string(),
        state,
        started_at: Some("2026-01-01T00:00:00Z".to_string()),
        updated_at: "2026-01-01T00:10:00Z".to_string(),
        base_commit: None,
        tasks,
        failure: None,
        usage: None,
        sequence: None,
    }
}

impl TestRepo {
    /// Write `status` to the work tree's `.milestone_bundles/<name>/status.json`.
    pub fn write_status(&self, status: &git_milestone::state::Status) {
        status.save(self.path()).unwrap();
    }

    /// Commit everything as the checkpoint of `task` (k of n done), the way
    /// the run loop does: status file included, trailers, checkpoint ref.
    /// Returns the commit id.
    pub fn checkpoint(&self, status: &git_milestone::state::Status, task: &str) -> String {
        let (k, n) = status.progress();
        self.write_status(status);
        self.git(&["add", "-A"]);
        let msg = format!(
            "{task}: Task {task}\n\nMilestone: {name}\nMilestone-Task: {task}\nMilestone-Progress: {k}/{n}\n",
            name = status.milestone
        );
        self.git(&["commit", "-q", "-m", &msg]);
        let oid = self.git(&["rev-parse", "HEAD"]).trim().to_string();
        let r = format!("refs/milestone/{}/checkpoints/{task}", status.milestone);
        self.git(&["update-ref", &r, &oid]);
        oid
    }
}

pub mod history;
pub mod inspect;
pub mod runner;
pub mod stop;
pub mod tmux;

impl TestRepo {
    /// `git worktree add -q -b <branch> <path>`: a linked worktree on a new branch.
    pub fn add_worktree(&self, branch: &str, path: &Path) {
        self.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            branch,
            path.to_str().unwrap(),
        ]);
    }
    /// Commit `path` as `side_text` on a new branch `side` and as `main_text`
    /// on `main`, ending on `main`: two branches whose merge conflicts.
    pub fn diverge(&self, side: &str, path: &str, side_text: &str, main_text: &str) {
        self.git(&["switch", "-q", "-c", side]);
        self.write(path, side_text);
        self.commit_all(side);
        self.git(&["switch", "-q", "main"]);
        self.write(path, main_text);
        self.commit_all("main");
    }
}
