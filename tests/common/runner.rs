//! Runner scripts for `git milestone run` and the ways tests start the binary.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Run, TestRepo, bin, seal};

/// Write an executable script outside the repository; returns its path.
pub fn script(t: &TestRepo, name: &str, body: &str) -> PathBuf {
    let path = t.home.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// [`script`] as a `--runner` command line: `sh <path>`.
pub fn sh_runner(t: &TestRepo, name: &str, body: &str) -> String {
    format!("sh {}", script(t, name, body).display())
}

/// A runner that writes `<ID>.txt` and appends the ID to `ran.log` in HOME.
pub fn writing_runner(t: &TestRepo) -> PathBuf {
    let log = t.home.path().join("ran.log");
    script(
        t,
        "runner.sh",
        &format!(
            "echo \"$1\" >> '{}'\necho \"did $1\"\necho \"$1\" > \"$1.txt\"",
            log.display()
        ),
    )
}

/// What the runners wrote to `ran.log` in HOME ("" before any ran).
pub fn ran_log(t: &TestRepo) -> String {
    std::fs::read_to_string(t.home.path().join("ran.log")).unwrap_or_default()
}

/// `git milestone run M1 --plan plan.md --runner <runner> <extra>` from `dir`.
pub fn run_cmd_in(t: &TestRepo, dir: &Path, runner: impl AsRef<OsStr>, extra: &[&str]) -> Command {
    let mut c = t.cmd_at(dir);
    c.args(["run", "M1", "--plan", "plan.md", "--runner"])
        .arg(runner)
        .args(extra);
    c
}

/// [`run_cmd_in`] from the repository root.
pub fn run_cmd(t: &TestRepo, runner: impl AsRef<OsStr>, extra: &[&str]) -> Command {
    run_cmd_in(t, t.path(), runner, extra)
}

/// Run milestone M1 of `plan.md` from the root with `runner` (a script's
/// path or a command line).
pub fn run_m1(t: &TestRepo, runner: impl AsRef<OsStr>, extra: &[&str]) -> Run {
    run_cmd(t, runner, extra).output().unwrap().into()
}

impl TestRepo {
    /// A sealed command for the binary under test, run in `dir` (a linked
    /// worktree or any directory outside the repository root).
    pub fn cmd_at(&self, dir: &Path) -> Command {
        let mut c = Command::new(bin());
        seal(&mut c, self.home.path());
        c.current_dir(dir);
        c
    }
}

/// Hold the run lock as a live run would: `text` written in the lock file
/// (`pid …\nstarted …\nmilestone …\n`) and the kernel lock taken, until
/// the returned file is dropped.
pub fn hold_run_lock(t: &TestRepo, text: &str) -> std::fs::File {
    hold_lock(&t.path().join(".git/milestone/run.lock"), text)
}

/// Hold milestone `key`'s run lock (lower case) as a live run in another
/// worktree would, as [`hold_run_lock`].
pub fn hold_milestone_lock(t: &TestRepo, key: &str, text: &str) -> std::fs::File {
    hold_lock(
        &t.path().join(format!(".git/milestone/locks/{key}.lock")),
        text,
    )
}

fn hold_lock(path: &Path, text: &str) -> std::fs::File {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    let file = std::fs::File::open(path).unwrap();
    file.try_lock().unwrap();
    file
}
