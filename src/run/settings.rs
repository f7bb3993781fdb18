//! A run's settings, remembered for its resume: `--plan`, `--runner`,
//! `--tag`, `--timeout`, `--on-failure`, `--jobs` and the agent's and
//! checks' flags, kept in the local run journal as `settings.json`.
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

use crate::agent::prompt::Template;
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
    /// `--agent`'s preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's arguments after `--`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_args: Vec<String>,
    /// `--prompt-file`, absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_file: Option<String>,
    /// `--verify` checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_empty: bool,
    /// As given: `2.50`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<String>,
    /// `--jobs`: a parallel run resumes in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<u32>,
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
    pub agent: Option<&'a str>,
    pub agent_args: &'a [String],
    pub prompt_file: Option<&'a Path>,
    pub verify: &'a [String],
    pub allow_empty: bool,
    pub max_cost: Option<&'a str>,
    pub max_tokens: Option<&'a str>,
    pub jobs: Option<u32>,
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
    /// What an agent preset gets, and the checks and budget of every task.
    pub tasks: TaskSettings,
    /// `--jobs`, given or the earlier run's (git config's is read later).
    pub jobs: Option<u32>,
}

/// Settings for each task's attempt beyond its runner.
#[derive(Debug, Clone, Default)]
pub struct TaskSettings {
    /// `milestone.agentArgs`, then the arguments after `--`.
    pub agent_args: Vec<String>,
    /// The prompt template, when not the default.
    pub prompt: Option<Template>,
    /// Checks after every task: `--verify`, else `milestone.verify`.
    pub verify: Vec<String>,
    /// Accept an agent's task that changes nothing.
    pub allow_empty: bool,
    /// The milestone's budget.
    pub max_cost: Option<f64>,
    pub max_tokens: Option<u64>,
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
    let runner = pick_runner(repo, &given, &saved, &mut reuse)?;
    let flags = RunFlags::resolve(&given, &saved, &mut reuse);
    let (tasks, recorded) = task_settings(repo, &given, &saved, &mut reuse)?;
    let flag = runner.as_ref().filter(|r| r.source.is_flag());
    let settings = Settings {
        version: VERSION,
        plan: saved.plan.filter(|_| given.plan.is_none()),
        runner: flag
            .filter(|r| r.agent.is_none())
            .map(|r| r.command.clone()),
        agent: flag.and_then(|r| r.agent).map(|a| a.name().to_string()),
        tag: flags.tag,
        timeout: flags.timeout.clone(),
        on_failure: flags.on_failure.clone(),
        jobs: flags.jobs,
        ..recorded
    };
    Ok(Resolved {
        plan,
        runner,
        tag: flags.tag,
        timeout: flags
            .timeout
            .as_deref()
            .map(crate::runner::parse_duration)
            .transpose()?,
        policy: config::policy(repo, flags.on_failure.as_deref())?,
        settings,
        reused,
        tasks,
        jobs: flags.jobs,
    })
}

/// `--tag`, `--timeout`, `--on-failure` and `--jobs`: given, else the
/// earlier run's (noted in `reuse`), as typed.
struct RunFlags {
    tag: bool,
    timeout: Option<String>,
    on_failure: Option<String>,
    jobs: Option<u32>,
}

impl RunFlags {
    fn resolve(
        given: &Given<'_>,
        saved: &Settings,
        reuse: &mut impl FnMut(&str, Option<&str>),
    ) -> RunFlags {
        let tag = given.tag || saved.tag;
        if tag && !given.tag {
            reuse("--tag", None);
        }
        let mut given_or_saved = |flag: &str, given: Option<&str>, saved: &Option<String>| {
            given.map(str::to_string).or_else(|| {
                let v = saved.clone()?;
                reuse(flag, Some(&v));
                Some(v)
            })
        };
        let timeout = given_or_saved("--timeout", given.timeout, &saved.timeout);
        let on_failure = given_or_saved("--on-failure", given.on_failure, &saved.on_failure);
        let jobs = given.jobs.or_else(|| {
            let n = saved.jobs?;
            reuse("--jobs", Some(&n.to_string()));
            Some(n)
        });
        RunFlags {
            tag,
            timeout,
            on_failure,
            jobs,
        }
    }
}

/// What runs each task: `--runner` or `--agent`, else the earlier run's,
/// else the environment, else git config (a runner before an agent at
/// each level).
fn pick_runner(
    repo: &Repo,
    given: &Given<'_>,
    saved: &Settings,
    reuse: &mut impl FnMut(&str, Option<&str>),
) -> Result<Option<GlobalRunner>> {
    if let Some(r) = config::given_runner(given.runner, given.cwd) {
        return Ok(Some(r));
    }
    if let Some(a) = config::pick_agent(given.agent, None, None)? {
        return Ok(Some(a));
    }
    if let Some(command) = &saved.runner {
        reuse("--runner", Some(command));
        return Ok(Some(GlobalRunner {
            command: command.clone(),
            source: RunnerSource::Saved,
            agent: None,
        }));
    }
    if let Some(a) = config::pick_agent(saved.agent.as_deref(), None, None)? {
        reuse("--agent", saved.agent.as_deref());
        return Ok(Some(GlobalRunner {
            source: RunnerSource::Saved,
            ..a
        }));
    }
    let env_runner = std::env::var(config::RUNNER_ENV).is_ok_and(|v| !v.trim().is_empty());
    if env_runner {
        return config::configured_runner(repo, given.cwd);
    }
    if let Some(a) =
        config::pick_agent(None, std::env::var(config::AGENT_ENV).ok().as_deref(), None)?
    {
        return Ok(Some(a));
    }
    match config::configured_runner(repo, given.cwd)? {
        Some(r) => Ok(Some(r)),
        None => config::configured_agent(repo),
    }
}

/// The agent's arguments and prompt, the checks and the budget: given,
/// else the earlier run's, else git config. Also what to record of them.
fn task_settings(
    repo: &Repo,
    given: &Given<'_>,
    saved: &Settings,
    reuse: &mut impl FnMut(&str, Option<&str>),
) -> Result<(TaskSettings, Settings)> {
    let rec = task_flags(given, saved);
    if given.agent_args.is_empty() && !rec.agent_args.is_empty() {
        reuse("--", Some(&rec.agent_args.join(" ")));
    }
    if let (None, Some(p)) = (given.prompt_file, &rec.prompt_file) {
        reuse("--prompt-file", Some(p));
    }
    let cost = rec
        .max_cost
        .as_deref()
        .map(config::parse_cost)
        .transpose()?;
    let tokens = rec
        .max_tokens
        .as_deref()
        .map(config::parse_tokens)
        .transpose()?;
    let (max_cost, max_tokens) = config::budget(repo, cost, tokens)?;
    let mut agent_args = config::agent_args(repo)?;
    agent_args.extend(rec.agent_args.iter().cloned());
    let verify = match rec.verify.is_empty() {
        true => repo.config_all(config::VERIFY_KEY)?,
        false => rec.verify.clone(),
    };
    let tasks = TaskSettings {
        agent_args,
        prompt: prompt_template(repo, rec.prompt_file.as_deref())?,
        verify,
        allow_empty: rec.allow_empty,
        max_cost,
        max_tokens,
    };
    Ok((tasks, rec))
}

/// The agent's arguments, the prompt file, the checks and the budget as
/// the run records them: given, else the earlier run's.
fn task_flags(given: &Given<'_>, saved: &Settings) -> Settings {
    let given_or_saved = |given: &[String], saved: &[String]| match given.is_empty() {
        true => saved.to_vec(),
        false => given.to_vec(),
    };
    Settings {
        agent_args: given_or_saved(given.agent_args, &saved.agent_args),
        prompt_file: match (given.prompt_file, &saved.prompt_file) {
            (Some(p), _) => Some(given.cwd.join(p).to_string_lossy().into_owned()),
            (None, saved) => saved.clone(),
        },
        verify: given_or_saved(given.verify, &saved.verify),
        allow_empty: given.allow_empty || saved.allow_empty,
        max_cost: given
            .max_cost
            .map(str::to_string)
            .or(saved.max_cost.clone()),
        max_tokens: given
            .max_tokens
            .map(str::to_string)
            .or(saved.max_tokens.clone()),
        ..Settings::default()
    }
}

/// `--prompt-file`'s template, else `milestone.prompt`'s, else none (the
/// default), parsed now so that a mistake stops the run before it starts.
fn prompt_template(repo: &Repo, file: Option<&str>) -> Result<Option<Template>> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the prompt file {path}"))?;
        return Template::parse(&text, &format!("the prompt file {path}")).map(Some);
    }
    match repo.config_string(config::PROMPT_KEY)? {
        Some(text) => {
            Template::parse(&text, &format!("git config {}", config::PROMPT_KEY)).map(Some)
        }
        None => Ok(None),
    }
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
        self.task_flags(&mut argv);
        text::command_line(&argv)
    }

    fn task_flags(&self, argv: &mut Vec<String>) {
        if let Some(a) = &self.agent {
            argv.extend(["--agent".into(), a.clone()]);
        }
        if let Some(p) = &self.prompt_file {
            argv.extend(["--prompt-file".into(), p.clone()]);
        }
        for v in &self.verify {
            argv.extend(["--verify".into(), v.clone()]);
        }
        if self.allow_empty {
            argv.push("--allow-empty".into());
        }
        if let Some(c) = &self.max_cost {
            argv.extend(["--max-cost".into(), c.clone()]);
        }
        if let Some(t) = &self.max_tokens {
            argv.extend(["--max-tokens".into(), t.clone()]);
        }
        if let Some(n) = self.jobs {
            argv.extend(["--jobs".into(), n.to_string()]);
        }
        if !self.agent_args.is_empty() {
            argv.push("--".into());
            argv.extend(self.agent_args.iter().cloned());
        }
    }
}

/// `rel` (from the root) as `--plan` takes it from `cwd`: as it is inside
/// the work tree (`--plan` falls back to the root, so a hint works from any
/// directory of it), absolute from outside.
fn from_cwd(root: &Path, cwd: &Path, rel: &str) -> String {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    match cwd.strip_prefix(root) {
        Ok(_) => rel.to_string(),
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
            jobs: Some(3),
            ..Settings::default()
        };
        let root = Path::new("/nonexistent/repo");
        assert_eq!(
            s.command("M1", root, &root.join("sub/dir"), false),
            "git milestone run M1 --plan docs/plan.md --runner 'claude -p' --tag --timeout 30m --on-failure retry:2 --jobs 3"
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
