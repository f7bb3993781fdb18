//! Git config keys and environment variables, as named constants, and the
//! one place that resolves flag > environment > git config > default.

use std::path::{Path, PathBuf};

use crate::agent::Agent;
use crate::error::{Error, Result};
use crate::failure::Policy;
use crate::repo::Repo;

/// git config key for the runner command.
pub const RUNNER_KEY: &str = "milestone.runner";
/// Environment variable for the runner command.
pub const RUNNER_ENV: &str = "GIT_MILESTONE_RUNNER";
/// git config key for the failure policy without a terminal.
pub const ON_FAILURE_KEY: &str = "milestone.onFailure";
/// git config key for the agent preset (`claude`, `codex`, `gemini`, `aider`).
pub const AGENT_KEY: &str = "milestone.agent";
/// Environment variable for the agent preset.
pub const AGENT_ENV: &str = "GIT_MILESTONE_AGENT";
/// git config key for extra arguments to the agent's CLI (split as a shell
/// would, never run by one).
pub const AGENT_ARGS_KEY: &str = "milestone.agentArgs";
/// git config key for the prompt template's text.
pub const PROMPT_KEY: &str = "milestone.prompt";
/// git config key for a check run after each task (multi-valued).
pub const VERIFY_KEY: &str = "milestone.verify";
/// git config keys for the milestone's budget.
pub const MAX_COST_KEY: &str = "milestone.maxCost";
pub const MAX_TOKENS_KEY: &str = "milestone.maxTokens";
/// How many tasks `run` runs at the same time (`--jobs`).
pub const JOBS_KEY: &str = "milestone.jobs";
/// Whether a checkpoint marks its task done in the plan (on by default).
pub const MARK_DONE_KEY: &str = "milestone.markDone";

/// Where a runner command came from; shown by `--dry-run` and in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerSource {
    Flag,
    Env,
    GitConfig,
    /// A ```` ```sh milestone ```` block under the task's heading in the plan.
    Plan,
    /// The earlier run's `--runner` or `--agent`, which its resume reuses
    /// (it ranks as the flag).
    Saved,
}

impl RunnerSource {
    /// Given on the command line, now or by the run this one resumes: it
    /// beats a plan's own block.
    pub fn is_flag(self) -> bool {
        matches!(self, RunnerSource::Flag | RunnerSource::Saved)
    }

    pub fn describe(self) -> &'static str {
        match self {
            RunnerSource::Flag => "--runner",
            RunnerSource::Env => RUNNER_ENV,
            RunnerSource::GitConfig => RUNNER_KEY,
            RunnerSource::Plan => "the plan's ```sh milestone block",
            RunnerSource::Saved => "the earlier run's --runner",
        }
    }

    /// As [`describe`](Self::describe), for an agent preset's source.
    pub fn describe_agent(self) -> &'static str {
        match self {
            RunnerSource::Flag => "--agent",
            RunnerSource::Env => AGENT_ENV,
            RunnerSource::GitConfig => AGENT_KEY,
            RunnerSource::Plan => self.describe(),
            RunnerSource::Saved => "the earlier run's --agent",
        }
    }
}

/// The runner every task uses, unless the plan embeds one per task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalRunner {
    pub command: String,
    pub source: RunnerSource,
    /// An agent preset rather than a command (`command` is its name).
    pub agent: Option<Agent>,
}

impl GlobalRunner {
    pub fn agent(agent: Agent, source: RunnerSource) -> GlobalRunner {
        GlobalRunner {
            command: agent.name().to_string(),
            source,
            agent: Some(agent),
        }
    }

    /// `--runner`, `milestone.agent`, ...: where it came from.
    pub fn describe_source(&self) -> &'static str {
        match self.agent {
            Some(_) => self.source.describe_agent(),
            None => self.source.describe(),
        }
    }
}

/// The agent preset from `--agent`, else `$GIT_MILESTONE_AGENT`, else git
/// config `milestone.agent`: the first one set, which must name a preset.
pub fn pick_agent(
    flag: Option<&str>,
    env: Option<&str>,
    git_config: Option<&str>,
) -> Result<Option<GlobalRunner>> {
    let set = [
        (flag, RunnerSource::Flag),
        (env, RunnerSource::Env),
        (git_config, RunnerSource::GitConfig),
    ]
    .into_iter()
    .find_map(|(value, source)| Some((value?.trim(), source)).filter(|(v, _)| !v.is_empty()));
    let Some((name, source)) = set else {
        return Ok(None);
    };
    let agent = Agent::parse(name).map_err(|e| match source {
        RunnerSource::Flag => e,
        _ => e.hint(format!("it comes from {}", source.describe_agent())),
    })?;
    Ok(Some(GlobalRunner::agent(agent, source)))
}

/// The agent preset `$GIT_MILESTONE_AGENT` or `milestone.agent` names.
pub fn configured_agent(repo: &Repo) -> Result<Option<GlobalRunner>> {
    let env = std::env::var(AGENT_ENV).ok();
    if env.as_deref().is_some_and(|e| !e.trim().is_empty()) {
        return pick_agent(None, env.as_deref(), None);
    }
    pick_agent(None, None, repo.config_string(AGENT_KEY)?.as_deref())
}

/// The agent's extra arguments from `milestone.agentArgs`, split into
/// words as a shell would (quotes kept together), never run by one.
pub fn agent_args(repo: &Repo) -> Result<Vec<String>> {
    let Some(text) = repo.config_string(AGENT_ARGS_KEY)? else {
        return Ok(Vec::new());
    };
    shlex::split(&text).ok_or_else(|| {
        Error::bad_input(format!(
            "git config {AGENT_ARGS_KEY} has an unclosed quote: {}",
            crate::ui::text::quote(&text)
        ))
        .hint(format!("fix it with `git config {AGENT_ARGS_KEY} '...'`"))
    })
}

/// The milestone's budget: `--max-cost` / `--max-tokens`, else git config.
pub fn budget(
    repo: &Repo,
    max_cost: Option<f64>,
    max_tokens: Option<u64>,
) -> Result<(Option<f64>, Option<u64>)> {
    let cost = match max_cost {
        Some(c) => Some(c),
        None => repo
            .config_string(MAX_COST_KEY)?
            .map(|v| {
                parse_cost(&v)
                    .map_err(|e| e.hint(format!("it comes from git config {MAX_COST_KEY}")))
            })
            .transpose()?,
    };
    let tokens = match max_tokens {
        Some(t) => Some(t),
        None => repo
            .config_string(MAX_TOKENS_KEY)?
            .map(|v| {
                parse_tokens(&v)
                    .map_err(|e| e.hint(format!("it comes from git config {MAX_TOKENS_KEY}")))
            })
            .transpose()?,
    };
    Ok((cost, tokens))
}

/// `2.50`, `$2.50`: a positive amount of US dollars.
pub fn parse_cost(text: &str) -> Result<f64> {
    let t = text.trim().trim_start_matches('$');
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            Error::bad_input(format!("invalid cost {text:?}"))
                .hint("give US dollars as a positive number, e.g. `--max-cost 2.50`")
        })
}

/// `200000`, `200k`, `1.5M`: a positive number of tokens.
pub fn parse_tokens(text: &str) -> Result<u64> {
    let t = text.trim().replace('_', "");
    let (num, factor) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('m' | 'M') => (&t[..t.len() - 1], 1e6),
        _ => (t.as_str(), 1.0),
    };
    num.parse::<f64>()
        .ok()
        .map(|n| n * factor)
        .filter(|n| n.is_finite() && *n >= 1.0 && *n < 1e15)
        .map(|n| n.round() as u64)
        .ok_or_else(|| {
            Error::bad_input(format!("invalid token count {text:?}"))
                .hint("give a positive number, e.g. `--max-tokens 200000` or `200k`")
        })
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
            agent: None,
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

/// Whether checkpoints mark their task done in the plan document:
/// `milestone.markDone`, a git boolean, on when unset.
pub fn mark_done(repo: &Repo) -> Result<bool> {
    let Some(value) = repo.config_string(MARK_DONE_KEY)? else {
        return Ok(true);
    };
    parse_bool(&value).ok_or_else(|| {
        Error::bad_input(format!(
            "{MARK_DONE_KEY} is \"{}\", which git does not read as true or false",
            crate::ui::text::clean(&value)
        ))
        .hint(format!(
            "set it with `git config {MARK_DONE_KEY} false` (or `true`, the default)"
        ))
    })
}

/// A git config boolean as git reads one.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

/// Resolve the failure policy: `--on-failure` > `milestone.onFailure` > stop.
pub fn policy(repo: &Repo, flag: Option<&str>) -> Result<Policy> {
    let configured = match flag {
        Some(f) => Some(f.to_string()),
        None => repo.config_string(ON_FAILURE_KEY)?,
    };
    configured.map_or(Ok(Policy::Stop), |s| Policy::parse(&s))
}

/// Resolve how many tasks run at once: `--jobs` > `milestone.jobs` > 1.
pub fn jobs(repo: &Repo, flag: Option<u32>) -> Result<usize> {
    if let Some(n) = flag {
        return Ok(n as usize);
    }
    let Some(text) = repo.config_string(JOBS_KEY)? else {
        return Ok(1);
    };
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        _ => Err(Error::bad_input(format!(
            "git config {JOBS_KEY} is {}: not a number of tasks from 1 to 256",
            crate::ui::text::quote(&text)
        ))
        .hint(format!(
            "set it with `git config {JOBS_KEY} 4`, or pass `--jobs N`"
        ))),
    }
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
    fn agent_flag_beats_env_beats_git_config() {
        let a = pick_agent(Some("codex"), Some("claude"), Some("aider"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.agent, a.source),
            (Some(Agent::Codex), RunnerSource::Flag)
        );
        let a = pick_agent(None, Some("Claude"), Some("aider"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.agent, a.source),
            (Some(Agent::Claude), RunnerSource::Env)
        );
        let a = pick_agent(None, Some(" "), Some("aider")).unwrap().unwrap();
        assert_eq!(a.describe_source(), AGENT_KEY);
        assert_eq!(pick_agent(None, None, None).unwrap(), None);
        let e = pick_agent(None, None, Some("cursor")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("it comes from milestone.agent"),
            "{e}"
        );
    }

    #[test]
    fn budgets_parse() {
        assert_eq!(parse_cost("$2.50").unwrap(), 2.5);
        assert_eq!(parse_tokens("200k").unwrap(), 200_000);
        assert_eq!(parse_tokens("1.5M").unwrap(), 1_500_000);
        for bad in ["0", "-1", "x", "nan", "inf"] {
            assert_eq!(parse_cost(bad).unwrap_err().exit_code(), 2, "{bad}");
            assert_eq!(parse_tokens(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
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
