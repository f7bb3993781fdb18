//! Git config keys and environment variables, as named constants, and the
//! one place that resolves flag > environment > git config > default.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::failure::Policy;
use crate::repo::Repo;

/// git config key for the runner command.
pub const RUNNER_KEY: &str = "milestone.runner";
/// Environment variable for the runner command.
pub const RUNNER_ENV: &str = "GIT_MILESTONE_RUNNER";
/// git config key for the failure policy without a terminal.
pub const ON_FAILURE_KEY: &str = "milestone.onFailure";

/// Where a runner command came from; shown by `--dry-run` and in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerSource {
    Flag,
    Env,
    GitConfig,
    /// A ```` ```sh milestone ```` block under the task's heading in the plan.
    Plan,
}

impl RunnerSource {
    pub fn describe(self) -> &'static str {
        match self {
            RunnerSource::Flag => "--runner",
            RunnerSource::Env => RUNNER_ENV,
            RunnerSource::GitConfig => RUNNER_KEY,
            RunnerSource::Plan => "the plan's ```sh milestone block",
        }
    }
}

/// The runner every task uses, unless the plan embeds one per task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalRunner {
    pub command: String,
    pub source: RunnerSource,
}

/// The first non-empty of flag, environment and git config.
pub fn pick_runner(
    flag: Option<&str>,
    env: Option<&str>,
    git_config: Option<&str>,
) -> Option<GlobalRunner> {
    [
        (flag, RunnerSource::Flag),
        (env, RunnerSource::Env),
        (git_config, RunnerSource::GitConfig),
    ]
    .into_iter()
    .find_map(|(value, source)| {
        let command = value?.trim();
        (!command.is_empty()).then(|| GlobalRunner {
            command: command.to_string(),
            source,
        })
    })
}

/// The runner `--runner` gives, its program found from `cwd`.
pub fn given_runner(flag: Option<&str>, cwd: &Path) -> Option<GlobalRunner> {
    pick_runner(flag, None, None).map(|r| GlobalRunner {
        command: from_where_typed(&r.command, cwd),
        ..r
    })
}

/// The runner from `$GIT_MILESTONE_RUNNER` (its program found from `cwd`,
/// where it was set) or else `milestone.runner` (found from the root, as
/// git runs its aliases); `None` leaves it to the plan's embedded blocks.
pub fn configured_runner(repo: &Repo, cwd: &Path) -> Result<Option<GlobalRunner>> {
    let env = std::env::var(RUNNER_ENV).ok();
    if let Some(r) = pick_runner(None, env.as_deref(), None) {
        return Ok(Some(GlobalRunner {
            command: from_where_typed(&r.command, cwd),
            ..r
        }));
    }
    let config = repo.config_string(RUNNER_KEY)?;
    Ok(pick_runner(None, None, config.as_deref()))
}

/// `command` with a relative program path (`./run.sh`, `scripts/run`)
/// made absolute from `cwd`, as the shell the user typed it in would find
/// it; the task itself runs in the repository root. A first word the shell
/// would expand or unquote is left to it.
fn from_where_typed(command: &str, cwd: &Path) -> String {
    let trimmed = command.trim_start();
    let word = trimmed.split_whitespace().next().unwrap_or_default();
    let plain = !word.contains(['=', '"', '\'', '$', '`', '(', '{', '\\', '~']);
    if !plain || !word.contains('/') || word.starts_with('/') {
        return command.to_string();
    }
    let abs: PathBuf = cwd.join(word).components().collect();
    let abs = abs.to_string_lossy();
    let quoted = shlex::try_quote(&abs).map_or_else(|_| abs.to_string(), |q| q.into_owned());
    format!("{quoted}{}", &trimmed[word.len()..])
}

/// The error for a task that has no runner from any of the four sources.
pub fn no_runner_error(task: &str) -> Error {
    Error::bad_input(format!("no runner command for task {task}"))
        .hint("pass one with `--runner 'CMD'` (it gets the task ID as its argument)")
        .hint(format!(
            "or set it with `export {RUNNER_ENV}='CMD'` or `git config {RUNNER_KEY} 'CMD'`"
        ))
        .hint("or put a ```sh milestone fenced block under the task's heading in the plan")
}

/// Resolve the failure policy: `--on-failure` > `milestone.onFailure` > stop.
pub fn policy(repo: &Repo, flag: Option<&str>) -> Result<Policy> {
    let configured = match flag {
        Some(f) => Some(f.to_string()),
        None => repo.config_string(ON_FAILURE_KEY)?,
    };
    configured.map_or(Ok(Policy::Stop), |s| Policy::parse(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_git_config() {
        let r = pick_runner(Some("a"), Some("b"), Some("c")).unwrap();
        assert_eq!((r.command.as_str(), r.source), ("a", RunnerSource::Flag));
        let r = pick_runner(None, Some("b"), Some("c")).unwrap();
        assert_eq!((r.command.as_str(), r.source), ("b", RunnerSource::Env));
        let r = pick_runner(None, None, Some(" c ")).unwrap();
        assert_eq!(
            (r.command.as_str(), r.source),
            ("c", RunnerSource::GitConfig)
        );
        assert_eq!(pick_runner(None, None, None), None);
    }

    #[test]
    fn relative_programs_are_found_from_where_they_were_typed() {
        let cwd = Path::new("/repo/sub");
        assert_eq!(from_where_typed("./run.sh -v", cwd), "/repo/sub/run.sh -v");
        assert_eq!(
            from_where_typed("tools/run me", cwd),
            "/repo/sub/tools/run me"
        );
        assert_eq!(from_where_typed("../run.sh", cwd), "/repo/sub/../run.sh");
        for kept in [
            "claude -p",
            "/abs/run.sh",
            "$HOME/run.sh",
            "'./a b.sh'",
            "X=1 ./run.sh",
        ] {
            assert_eq!(from_where_typed(kept, cwd), kept);
        }
        let odd = Path::new("/repo/my dir");
        assert_eq!(from_where_typed("./run.sh", odd), "'/repo/my dir/run.sh'");
    }

    #[test]
    fn empty_values_do_not_count() {
        let r = pick_runner(Some(""), Some("  "), Some("c")).unwrap();
        assert_eq!(r.source, RunnerSource::GitConfig);
    }

    #[test]
    fn missing_runner_hint_names_all_four_sources() {
        let text = no_runner_error("TASK-001").to_string();
        for needle in ["--runner", RUNNER_ENV, RUNNER_KEY, "```sh milestone"] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }
}
