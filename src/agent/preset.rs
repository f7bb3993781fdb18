//! The command line each agent preset runs. The prompt and every other
//! value are separate arguments, never shell text; extra arguments (git
//! config `milestone.agentArgs`, then those after `--`) come after the
//! preset's own, so that they win where an option is given twice.

use std::path::Path;

use super::Agent;
use crate::error::{Error, Result};

/// The longest prompt passed as one argument. Linux refuses a single
/// argument over 128 KiB (MAX_ARG_STRLEN).
pub const MAX_PROMPT: usize = 120 * 1024;

/// What one attempt's command needs.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub prompt: &'a str,
    /// `milestone.agentArgs`, then the arguments after `--`.
    pub extra: &'a [String],
    /// A session of the agent's to continue (a retry).
    pub resume: Option<&'a str>,
    /// What is left of the task's cost budget, for agents with a flag of
    /// their own (Claude Code's `--max-budget-usd`).
    pub max_cost: Option<f64>,
    /// A directory outside the work tree for the agent's own files (Aider's
    /// chat history): the attempt's log directory.
    pub scratch: &'a Path,
}

/// A program and its arguments, and the environment it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub program: &'static str,
    pub args: Vec<String>,
    /// Variables set unless the environment already has them: settings
    /// that make the agent give up early on a dead network.
    pub env_defaults: Vec<(&'static str, String)>,
}

impl Command {
    /// The whole argv, for messages and `--dry-run`.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.to_string())
            .chain(self.args.iter().cloned())
            .collect()
    }
}

/// Refuse a prompt longer than one argument may be.
pub fn check_prompt(prompt: &str) -> Result<()> {
    if prompt.len() <= MAX_PROMPT {
        return Ok(());
    }
    Err(Error::bad_input(format!(
        "the prompt is {} KiB, more than the {} KiB an argument may hold",
        prompt.len() / 1024,
        MAX_PROMPT / 1024
    ))
    .hint("shorten the prompt template (`--prompt-file` or git config `milestone.prompt`)"))
}

/// Build `agent`'s command for one attempt.
pub fn build(agent: Agent, req: &Request<'_>) -> Result<Command> {
    check_prompt(req.prompt)?;
    let (args, env_defaults) = match agent {
        // 10 retries with back-off take over three minutes offline.
        Agent::Claude => (claude(req), vec![("CLAUDE_CODE_MAX_RETRIES", "3".into())]),
        Agent::Codex => (codex(req), Vec::new()),
        Agent::Gemini => (gemini(req), Vec::new()),
        Agent::Aider => (aider(req), Vec::new()),
    };
    Ok(Command {
        program: agent.program(),
        args,
        env_defaults,
    })
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn claude(req: &Request<'_>) -> Vec<String> {
    let mut args = strings(&CLAUDE);
    if let Some(usd) = req.max_cost {
        args.extend(["--max-budget-usd".into(), dollars(usd)]);
    }
    if let Some(id) = req.resume {
        args.extend(["--resume".into(), id.into()]);
    }
    args.extend(req.extra.iter().cloned());
    args.extend(["--".into(), req.prompt.into()]);
    args
}

fn codex(req: &Request<'_>) -> Vec<String> {
    let mut args = strings(&CODEX);
    args.extend(req.extra.iter().cloned());
    if let Some(id) = req.resume {
        args.extend(["resume".into(), id.into()]);
    }
    args.extend(["--".into(), req.prompt.into()]);
    args
}

fn gemini(req: &Request<'_>) -> Vec<String> {
    let mut args = strings(&GEMINI);
    if let Some(id) = req.resume {
        args.extend(["--resume".into(), id.into()]);
    }
    args.extend(req.extra.iter().cloned());
    // In `=` form a prompt that starts with `-` is not an option.
    args.push(format!("--prompt={}", req.prompt));
    args
}

fn aider(req: &Request<'_>) -> Vec<String> {
    let mut args = vec![format!("--message={}", req.prompt)];
    args.extend(strings(&AIDER));
    let history = req.scratch.join("aider.chat.md");
    args.extend([
        "--chat-history-file".into(),
        history.to_string_lossy().into_owned(),
        "--input-history-file".into(),
        "/dev/null".into(),
    ]);
    args.extend(req.extra.iter().cloned());
    args
}

/// Claude Code: print mode, JSON events (which need `--verbose`), file
/// edits allowed without asking. Other tools stay denied unless the extra
/// arguments allow them (`--permission-mode bypassPermissions`,
/// `--allowedTools`).
const CLAUDE: [&str; 6] = [
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "acceptEdits",
];

/// Codex: `exec` (never asks for approval), JSON events, edits allowed in
/// the work tree, and no refusal in a linked worktree it does not trust.
const CODEX: [&str; 5] = [
    "exec",
    "--json",
    "--sandbox",
    "workspace-write",
    "--skip-git-repo-check",
];

/// Gemini CLI: JSON events, every tool approved, and no trust prompt
/// (which would otherwise turn the approval mode back to `default`).
const GEMINI: [&str; 5] = [
    "--output-format",
    "stream-json",
    "--approval-mode",
    "yolo",
    "--skip-trust",
];

/// Aider: answer every question, make no commits (git-milestone makes the
/// checkpoint), leave `.gitignore` alone, plain whole lines, no update
/// check or analytics.
const AIDER: [&str; 10] = [
    "--yes-always",
    "--no-auto-commits",
    "--no-dirty-commits",
    "--no-gitignore",
    "--no-stream",
    "--no-pretty",
    "--no-fancy-input",
    "--no-check-update",
    "--no-analytics",
    "--no-show-model-warnings",
];

/// Whether a retry can continue the agent's earlier session.
pub fn can_resume(agent: Agent) -> bool {
    agent != Agent::Aider
}

/// Files the agent leaves in the work tree that are its own, never a
/// task's work (kept out of checkpoints): git pathspecs from the root,
/// where `*` matches any run of characters, `/` included (Aider's
/// `.aider.chat.history.md`, `.aider.tags.cache.v4/cache.db`). Both the
/// sequential run ([`is_own_file`]) and `--jobs` (an excluding pathspec)
/// read these.
pub fn own_files(agent: Agent) -> &'static [&'static str] {
    match agent {
        Agent::Aider => &[".aider*"],
        _ => &[],
    }
}

/// Whether `path` (from the work tree's root, `/`-separated) matches one of
/// the agent's [`own_files`] as git matches those pathspecs.
pub fn is_own_file(agent: Agent, path: &str) -> bool {
    own_files(agent).iter().any(|p| wildcard(p, path))
}

/// `pattern`'s `*` matches any run of characters, `/` included; every
/// other character matches itself (git's pathspec without `:(glob)`).
fn wildcard(pattern: &str, text: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(tail) = text.strip_prefix(head) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    tail.char_indices()
        .map(|(i, _)| i)
        .chain([tail.len()])
        .any(|i| wildcard(rest, &tail[i..]))
}

/// `1.5` as `1.50`, `0.125` as `0.125`: enough digits, none wasted.
fn dollars(usd: f64) -> String {
    let text = format!("{usd:.4}");
    let text = text.trim_end_matches('0');
    match text.split_once('.') {
        Some((_, cents)) if cents.len() < 2 => format!("{usd:.2}"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aiders_own_files_are_its_caches_and_histories() {
        for path in [
            ".aider.chat.history.md",
            ".aider.input.history",
            ".aider.tags.cache.v4/cache.db",
        ] {
            assert!(is_own_file(Agent::Aider, path), "{path}");
        }
        for path in ["src/.aider.chat.history.md", "aider.md", "notes/.aider"] {
            assert!(!is_own_file(Agent::Aider, path), "{path}");
        }
        assert!(!is_own_file(Agent::Claude, ".aider.input.history"));
        assert!(wildcard("a*b*c", "a/x/b/c") && !wildcard("a*b", "a/c"));
    }

    fn request<'a>(extra: &'a [String], resume: Option<&'a str>) -> Request<'a> {
        Request {
            prompt: "-do TASK-1; $(rm -rf /)",
            extra,
            resume,
            max_cost: None,
            scratch: Path::new("/repo/.git/milestone/M1/logs"),
        }
    }

    fn line(agent: Agent, req: &Request<'_>) -> String {
        crate::ui::text::command_line(&build(agent, req).unwrap().argv())
    }

    #[test]
    fn each_preset_builds_its_documented_command() {
        let extra = vec!["--model".to_string(), "sonnet".to_string()];
        let req = request(&extra, None);
        insta::assert_snapshot!(line(Agent::Claude, &req), @"claude -p --output-format stream-json --verbose --permission-mode acceptEdits --model sonnet -- '-do TASK-1; $(rm -rf /)'");
        insta::assert_snapshot!(line(Agent::Codex, &req), @"codex exec --json --sandbox workspace-write --skip-git-repo-check --model sonnet -- '-do TASK-1; $(rm -rf /)'");
        insta::assert_snapshot!(line(Agent::Gemini, &req), @"gemini --output-format stream-json --approval-mode yolo --skip-trust --model sonnet '--prompt=-do TASK-1; $(rm -rf /)'");
        insta::assert_snapshot!(line(Agent::Aider, &req), @"aider '--message=-do TASK-1; $(rm -rf /)' --yes-always --no-auto-commits --no-dirty-commits --no-gitignore --no-stream --no-pretty --no-fancy-input --no-check-update --no-analytics --no-show-model-warnings --chat-history-file /repo/.git/milestone/M1/logs/aider.chat.md --input-history-file /dev/null --model sonnet");
    }

    #[test]
    fn the_prompt_is_one_argument_after_the_options() {
        for agent in Agent::ALL {
            let cmd = build(agent, &request(&[], None)).unwrap();
            let holding: Vec<&String> = cmd
                .args
                .iter()
                .filter(|a| a.contains("$(rm -rf /)"))
                .collect();
            assert_eq!(holding.len(), 1, "{agent}: {:?}", cmd.args);
        }
    }

    #[test]
    fn retries_resume_and_budgets_use_the_agents_flags() {
        let mut req = request(&[], Some("abc-123"));
        req.max_cost = Some(1.5);
        insta::assert_snapshot!(line(Agent::Claude, &req), @"claude -p --output-format stream-json --verbose --permission-mode acceptEdits --max-budget-usd 1.50 --resume abc-123 -- '-do TASK-1; $(rm -rf /)'");
        insta::assert_snapshot!(line(Agent::Codex, &req), @"codex exec --json --sandbox workspace-write --skip-git-repo-check resume abc-123 -- '-do TASK-1; $(rm -rf /)'");
        insta::assert_snapshot!(line(Agent::Gemini, &req), @"gemini --output-format stream-json --approval-mode yolo --skip-trust --resume abc-123 '--prompt=-do TASK-1; $(rm -rf /)'");
        assert!(!can_resume(Agent::Aider));
        assert_eq!(dollars(0.125), "0.125");
        assert_eq!(dollars(2.0), "2.00");
    }

    #[test]
    fn claude_gives_up_early_on_a_dead_network() {
        let cmd = build(Agent::Claude, &request(&[], None)).unwrap();
        assert_eq!(
            cmd.env_defaults,
            [("CLAUDE_CODE_MAX_RETRIES", "3".to_string())]
        );
    }

    #[test]
    fn a_prompt_too_long_for_an_argument_is_refused() {
        let long = "x".repeat(MAX_PROMPT + 1);
        let mut req = request(&[], None);
        req.prompt = &long;
        let e = build(Agent::Codex, &req).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("120 KiB"), "{e}");
    }
}
