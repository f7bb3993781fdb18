//! A run's settings, remembered for its resume: `--plan`, `--runner`,
//! `--tag`, `--timeout` and `--on-failure`, kept in the local run journal
//! as `settings.json`.
//!
//! Local, not in the committed status file: a runner command names a
//! program on this machine (often by a path in someone's home, sometimes
//! with a token), and how one person ran a milestone is not the
//! milestone's state. Settings that persist by themselves (the
//! environment, git config) are read afresh each run and not recorded.
//!
//! Precedence on a resume: a flag given again, then the recorded setting,
//! then the environment and git config, then the default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{self, GlobalRunner, RunnerSource};
use crate::error::{Context, Result};
use crate::failure::Policy;
use crate::repo::Repo;
use crate::state::{self, Status};
use crate::ui::text;

/// The format version of `settings.json`; a newer file is ignored.
const VERSION: u32 = 1;
const FILE: &str = "settings.json";

/// What a run was given explicitly, as it records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub version: u32,
    /// The plan file, relative to the root, when `--plan` named it.
    #[serde(default)]
    pub plan: Option<String>,
    /// The runner command from `--runner` (a relative program path
    /// already made absolute).
    #[serde(default)]
    pub runner: Option<String>,
    #[serde(default)]
    pub tag: bool,
    /// As given: `30m`, `90s`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// As given: `retry:2`, `rollback`.
    #[serde(default)]
    pub on_failure: Option<String>,
}

/// What the command line gave, and where it was typed.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    pub plan: Option<&'a Path>,
    pub runner: Option<&'a str>,
    pub tag: bool,
    pub timeout: Option<&'a str>,
    pub on_failure: Option<&'a str>,
    pub restart: bool,
    pub cwd: &'a Path,
}

/// The settings a run goes by.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The plan file to read (relative to the current directory, or
    /// absolute), when one is named.
    pub plan: Option<PathBuf>,
    pub runner: Option<GlobalRunner>,
    pub tag: bool,
    pub timeout: Option<Duration>,
    pub policy: Policy,
    /// What the run records for its resume (the plan is filled in once
    /// the plan is read).
    pub settings: Settings,
    /// The flags taken from the earlier run, as a user would type them.
    pub reused: Vec<String>,
}

/// Resolve the settings of a run of milestone `key`: the flags given,
/// else (resuming) the earlier run's, else the environment, git config
/// and the defaults.
pub fn resolve(repo: &Repo, key: &str, given: Given<'_>) -> Result<Resolved> {
    let saved = if given.restart {
        Settings::default()
    } else {
        load(repo, key)?.unwrap_or_default()
    };
    let mut reused = Vec::new();
    let mut reuse = |flag: &str, value: Option<&str>| {
        reused.push(match value {
            Some(v) => format!("{flag} {}", text::quote(v)),
            None => flag.to_string(),
        });
    };
    let plan = match (given.plan, &saved.plan) {
        (Some(p), _) => Some(p.to_path_buf()),
        (None, Some(p)) => {
            reuse("--plan", Some(p));
            Some(repo.root().join(p))
        }
        (None, None) => None,
    };
    let runner = match (config::given_runner(given.runner, given.cwd), &saved.runner) {
        (Some(r), _) => Some(r),
        (None, Some(command)) => {
            reuse("--runner", Some(command));
            Some(GlobalRunner {
                command: command.clone(),
                source: RunnerSource::Flag,
            })
        }
        (None, None) => config::configured_runner(repo, given.cwd)?,
    };
    let tag = given.tag || saved.tag;
    if tag && !given.tag {
        reuse("--tag", None);
    }
    let timeout = given.timeout.map(str::to_string).or_else(|| {
        let t = saved.timeout.clone()?;
        reuse("--timeout", Some(&t));
        Some(t)
    });
    let on_failure = given.on_failure.map(str::to_string).or_else(|| {
        let p = saved.on_failure.clone()?;
        reuse("--on-failure", Some(&p));
        Some(p)
    });
    let settings = Settings {
        version: VERSION,
        plan: None,
        runner: runner
            .as_ref()
            .filter(|r| r.source == RunnerSource::Flag)
            .map(|r| r.command.clone()),
        tag,
        timeout: timeout.clone(),
        on_failure: on_failure.clone(),
    };
    Ok(Resolved {
        plan,
        runner,
        tag,
        timeout: timeout
            .as_deref()
            .map(crate::runner::parse_duration)
            .transpose()?,
        policy: config::policy(repo, on_failure.as_deref())?,
        settings: Settings {
            plan: saved.plan.filter(|_| given.plan.is_none()),
            ..settings
        },
        reused,
    })
}

/// The settings the last run of `key` recorded, when it can be resumed
/// (its status file is there); `None` otherwise, or when the file cannot
/// be read (a resume then goes by what it is given).
fn load(repo: &Repo, key: &str) -> Result<Option<Settings>> {
    if !matches!(Status::load(repo.root(), key), Ok(Some(_))) {
        return Ok(None);
    }
    let path = state::journal_dir(repo.git_dir(), key)?.join(FILE);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    Ok(serde_json::from_slice::<Settings>(&bytes)
        .ok()
        .filter(|s| s.version <= VERSION))
}

impl Settings {
    /// Record these settings for the next run of `key` (under the lock).
    pub fn save(&self, git_dir: &Path, key: &str) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).context("cannot encode the settings")?;
        bytes.push(b'\n');
        state::replace_file(&state::journal_dir(git_dir, key)?.join(FILE), &bytes)
    }

    /// `git milestone run <name>` with these settings, typed from `cwd`:
    /// what continues this run anywhere, journal or not.
    pub fn command(&self, name: &str, root: &Path, cwd: &Path, detach_ok: bool) -> String {
        let mut argv = vec![
            "git".to_string(),
            "milestone".into(),
            "run".into(),
            name.into(),
        ];
        if let Some(p) = &self.plan {
            argv.extend(["--plan".into(), from_cwd(root, cwd, p)]);
        }
        if let Some(r) = &self.runner {
            argv.extend(["--runner".into(), r.clone()]);
        }
        if self.tag {
            argv.push("--tag".into());
        }
        if let Some(t) = &self.timeout {
            argv.extend(["--timeout".into(), t.clone()]);
        }
        if let Some(p) = &self.on_failure {
            argv.extend(["--on-failure".into(), p.clone()]);
        }
        if detach_ok {
            argv.push("--detach-ok".into());
        }
        text::command_line(&argv)
    }
}

/// `rel` (from the root) as a path from `cwd`: `../../plan.md` from two
/// levels down, absolute from outside the work tree.
fn from_cwd(root: &Path, cwd: &Path, rel: &str) -> String {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    match cwd.strip_prefix(root) {
        Ok(below) => {
            let up = "../".repeat(below.components().count());
            format!("{up}{rel}")
        }
        Err(_) => root.join(rel).display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_repeats_each_setting_from_where_it_is_typed() {
        let s = Settings {
            version: VERSION,
            plan: Some("docs/plan.md".into()),
            runner: Some("claude -p".into()),
            tag: true,
            timeout: Some("30m".into()),
            on_failure: Some("retry:2".into()),
        };
        let root = Path::new("/nonexistent/repo");
        assert_eq!(
            s.command("M1", root, &root.join("sub/dir"), false),
            "git milestone run M1 --plan ../../docs/plan.md --runner 'claude -p' --tag --timeout 30m --on-failure retry:2"
        );
        assert_eq!(
            Settings::default().command("Phase-2", root, root, true),
            "git milestone run Phase-2 --detach-ok"
        );
        assert_eq!(
            from_cwd(root, Path::new("/elsewhere"), "plan.md"),
            "/nonexistent/repo/plan.md"
        );
    }
}
