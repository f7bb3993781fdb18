//! Running `bisect`'s check: the user's command as arguments (never a
//! shell string), in its own process group so that Ctrl-C or SIGTERM stop
//! all of it, and its results cached by tree id, as git-branchless's
//! `test` does.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};
use crate::runner::signals;
use crate::state;
use crate::ui::text::{command_line, quote};

/// How a run of the check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// It exited with this code.
    Code(i32),
    /// A signal git-milestone did not send killed it.
    Killed(i32),
    /// git-milestone received this signal and stopped it.
    Interrupted(i32),
    /// Its program is a relative path (`./check.sh`) this checkout lacks.
    Missing,
}

const POLL: Duration = Duration::from_millis(20);

/// Variables that would point the check's git commands at the user's
/// repository instead of the checkout it runs in.
const GIT_LOCATION: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_OBJECT_DIRECTORY",
];

/// The check: its arguments, and what it is told about the commit.
#[derive(Debug, Clone)]
pub struct Check {
    pub argv: Vec<OsString>,
    pub milestone: String,
    /// The user's current directory, where a relative program path that
    /// is missing from a checkout may be.
    pub origin: PathBuf,
}

impl Check {
    /// The command line as a user could paste it.
    pub fn shown(&self) -> String {
        let words: Vec<String> = self
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        command_line(&words)
    }

    /// Run the check in `dir` for `commit` (the checkpoint of `task`, or
    /// the base when `None`) and wait for it, or for a signal.
    pub fn run(&self, dir: &Path, commit: &str, task: Option<&str>) -> Result<Ran> {
        let mut child = match self.spawn(dir, commit, task) {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.is_relative() => {
                return Ok(Ran::Missing);
            }
            Err(e) => return Err(self.not_started(e)),
        };
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = try_wait(&mut child)? {
                return Ok(ran(status));
            }
            if let Some(sig) = signals::pending() {
                // Its whole group, SIGKILL after a grace period, as for a task.
                crate::runner::stop_group(&mut child, sig)?;
                return Ok(Ran::Interrupted(sig));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(POLL);
        }
    }

    fn program(&self) -> &std::ffi::OsStr {
        self.argv.first().expect("clap requires a command")
    }

    /// `./check.sh`, `tools/check`: a path the checkout may or may not have.
    fn is_relative(&self) -> bool {
        let path = Path::new(self.program());
        path.is_relative() && path.components().count() > 1
    }

    fn spawn(&self, dir: &Path, commit: &str, task: Option<&str>) -> std::io::Result<Child> {
        let (program, args) = self.argv.split_first().expect("clap requires a command");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .env("MILESTONE", &self.milestone)
            .env("MILESTONE_COMMIT", commit)
            .env("MILESTONE_TASK", task.unwrap_or(""))
            // Unattended, as tasks are: a background group reading the
            // terminal would be stopped by SIGTTIN.
            .stdin(Stdio::null())
            // Its own group, so that a signal stops everything it started.
            .process_group(0);
        for var in GIT_LOCATION {
            cmd.env_remove(var);
        }
        cmd.spawn()
    }

    fn not_started(&self, e: std::io::Error) -> Error {
        let shown = quote(&self.program().to_string_lossy());
        if e.kind() != std::io::ErrorKind::NotFound {
            return Error::failed(format!("cannot run {shown}")).with_cause(e);
        }
        Error::bad_input(format!("cannot run {shown}: no such program")).hint(
            "the command after `--` is run as arguments, not by a shell; for a pipeline use `-- sh -c '…'`",
        )
    }

    /// The refusal when the last checkpoint lacks the check's program
    /// (a relative path): nothing can be tested.
    pub fn missing_at_tip(&self, commit: &str) -> Error {
        let shown = quote(&self.program().to_string_lossy());
        let relative: PathBuf = Path::new(self.program())
            .components()
            .filter(|c| *c != std::path::Component::CurDir)
            .collect();
        let yours = self.origin.join(relative);
        let e = Error::bad_input(format!(
            "cannot run {shown}: the last checkpoint ({}) does not have it",
            crate::repo::short_oid(commit)
        ));
        if !yours.is_file() {
            return e.hint("a relative path is looked up in the checkout of each commit");
        }
        // `./check.sh` of the user's, untracked or added since.
        e.hint(format!(
            "the check runs in a checkout of each commit; to run your copy at every commit, give its full path: {}",
            crate::ui::text::quote_path(&yours)
        ))
    }
}

fn try_wait(child: &mut Child) -> Result<Option<ExitStatus>> {
    child.try_wait().context("cannot wait for the check")
}

fn ran(status: ExitStatus) -> Ran {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ran::Code(code),
        (None, Some(sig)) => Ran::Killed(sig),
        (None, None) => Ran::Code(1),
    }
}

/// Results of earlier checks: per command (and directory it ran in), the
/// exit code (0 to 127) each tree gave. `<git-dir>/milestone/<key>/bisect-cache.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cache {
    version: u32,
    results: BTreeMap<String, BTreeMap<String, i32>>,
    #[serde(skip)]
    path: PathBuf,
}

const CACHE_VERSION: u32 = 1;

impl Cache {
    /// The milestone's cache; empty when there is none or it cannot be read.
    pub fn load(git_dir: &Path, name: &str) -> Result<Cache> {
        let path = state::journal_dir(git_dir, name)?.join("bisect-cache.json");
        let mut cache: Cache = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Cache>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .unwrap_or_default();
        cache.version = CACHE_VERSION;
        cache.path = path;
        Ok(cache)
    }

    pub fn get(&self, key: &str, tree: &str) -> Option<i32> {
        self.results.get(key)?.get(tree).copied()
    }

    /// Record `code` and write the file; a cache that cannot be written
    /// only costs a later run time.
    pub fn put(&mut self, key: &str, tree: &str, code: i32) {
        self.results
            .entry(key.to_string())
            .or_default()
            .insert(tree.to_string(), code);
        if let Ok(bytes) = serde_json::to_vec(self) {
            // Scratch: a power cut may lose it, a kill never leaves half of it.
            let _ = state::replace_file(&self.path, &bytes);
        }
    }
}
