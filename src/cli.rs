//! The command line, as clap derive types. Each `///` comment is help text.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueHint};

pub mod help;
pub mod usage;

/// Run a milestone plan's tasks one at a time, with a git checkpoint after each.
///
/// git-milestone finds the plan for a milestone in the repository's Markdown,
/// works out which task IDs are the real sequence and in what order they must
/// run, runs each through a runner command, and commits a checkpoint after
/// every task that succeeds.
#[derive(Debug, Parser)]
#[command(
    name = "git-milestone",
    bin_name = "git milestone",
    version,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Each subcommand's arguments are built only when it is the one given
/// (`defer`): building all of them cost every command a tenth of a
/// millisecond, a good part of what `status` costs.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Show the tasks of a milestone in the order they would run.
    Plan(PlanArgs),
    /// Run a milestone's tasks, committing a checkpoint after each success.
    Run(Box<RunArgs>),
    /// Show the state of milestone runs (all of them, or one in detail).
    Status(StatusArgs),
    /// Roll back a milestone to its last checkpoint (or one you name).
    Rollback(RollbackArgs),
    /// Show a milestone's tasks as history: checkpoint, attempts, outcome, log.
    ///
    /// One row per task: its checkpoint, attempts, outcome (done, skipped,
    /// failed, ... as the status file records it), the last attempt's
    /// duration, cost and checks where the status file records them, and the
    /// last attempt's log (kept in the git directory of the worktree that ran
    /// it).
    Log(LogArgs),
    /// Find the task whose checkpoint first fails a check.
    ///
    /// Test only the milestone's checkpoints on this branch, halving, as `git
    /// bisect run` does, and name the first task whose checkpoint fails CMD,
    /// with its commit and its last attempt's log.
    ///
    /// CMD runs as arguments, never through a shell: pass a pipeline as
    /// `-- sh -c 'make && ./test.sh | grep -q ok'`. It runs in a scratch
    /// checkout of each commit (a linked worktree inside the git directory,
    /// removed afterwards, also after Ctrl-C), in the directory matching the
    /// current one, with MILESTONE, MILESTONE_TASK (empty for the base) and
    /// MILESTONE_COMMIT set. Your HEAD, index, work tree and untracked files
    /// are never touched, so uncommitted changes do not matter and are not
    /// tested.
    ///
    /// CMD's exit code, as with `git bisect run`: 0 good; 125 cannot be
    /// tested (skip); 1 to 127 bad; above 127, or killed by a signal, stops
    /// the search. The last checkpoint is tested first and must be bad; then
    /// the base (the commit before the milestone's first checkpoint), which
    /// must be good, unless --base-good.
    ///
    /// Exit status: 0 when a first bad task is named; 1 when none can be (CMD
    /// passes at the last checkpoint, fails at the base, skips hide it, or
    /// stopped the search); 2 when refused; 130 when interrupted.
    Bisect(BisectArgs),
    /// Squash a milestone's checkpoints into one commit for review.
    ///
    /// Make one commit of a milestone's work, ready for review: the last
    /// checkpoint's tree without the milestone's bookkeeping
    /// (`.milestone_bundles/` as it was at the base), on the commit before the
    /// first checkpoint, with a message listing each task, its attempts and
    /// the checks recorded for it.
    ///
    /// By default the commit goes on a new branch, `<branch>-squashed`, and
    /// your branch is left as it is. --in-place moves the current branch to it
    /// instead; only for a completed milestone whose last checkpoint is HEAD,
    /// none of whose commits was pushed (reachable from a remote-tracking
    /// ref). Either way the checkpoints stay under
    /// `refs/milestone/<name>/squashed/<n>`, and --undo puts them back.
    Squash(SquashArgs),
    /// Entry points for git hooks (called by the installed hook shims).
    #[command(subcommand)]
    Hook(HookCommand),
    /// Install the pre-push hook that refuses to push failed or mid-run milestones.
    InstallHook(InstallHookArgs),
    /// Remove what `install-hook` added, leaving any hook of your own as it was.
    UninstallHook(InstallHookArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on standard output, or write every page.
    #[command(hide = true)]
    Man(ManArgs),
    /// Print the milestone names a shell may complete, one a line.
    #[command(hide = true, name = "complete-milestones")]
    CompleteMilestones,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The milestone's name, e.g. `M1`, `Phase 2` or a plan file's stem.
    pub name: String,
    /// Read the plan from this Markdown file instead of searching the repository.
    #[arg(long, value_name = "PATH")]
    pub plan: Option<PathBuf>,
    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show every dependency with the line it came from, what was left out
    /// and why, doubts and warnings (with --json: adds `edges`, `left_out`,
    /// `unsure` and `warnings` to the object).
    #[arg(long)]
    pub explain: bool,
    /// Edit the sequence `run` follows (order, tasks to skip) in your editor,
    /// as a todo list like `git rebase -i`'s, and record it without running.
    ///
    /// The editor is the one git uses (`git var GIT_EDITOR`: $GIT_EDITOR,
    /// core.editor, $VISUAL, $EDITOR).
    #[arg(long, conflicts_with_all = ["json", "explain"])]
    pub edit: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = run_help())]
pub struct RunArgs {
    /// The milestone's name, e.g. `M1`, `Phase 2` or a plan file's stem.
    pub name: String,
    /// Read the plan from this Markdown file instead of searching the repository.
    #[arg(long, value_name = "PATH")]
    pub plan: Option<PathBuf>,
    /// The command that runs one task; it gets the task ID as its argument.
    ///
    /// Beats everything, a task's own ```sh milestone block in the plan
    /// included (said when it does). Without it: the task's block, then
    /// $GIT_MILESTONE_RUNNER, then git config `milestone.runner`. A relative
    /// program path is found from the current directory. A resumed run
    /// reuses the earlier run's --runner, --plan, --tag, --timeout and
    /// --on-failure unless they are given again.
    #[arg(long, value_name = "CMD")]
    pub runner: Option<String>,
    /// Run each task through a coding agent: claude, codex, gemini or aider.
    ///
    /// Its non-interactive command gets the task's prompt (see --prompt-file);
    /// arguments after `--` go to the agent (`-- --model sonnet`), after git
    /// config `milestone.agentArgs`. Default: $GIT_MILESTONE_AGENT, then git
    /// config `milestone.agent` (a runner from the same place wins).
    #[arg(long, value_name = "AGENT", conflicts_with = "runner",
          value_parser = Checked::new(check_agent, AGENTS))]
    pub agent: Option<String>,
    /// The agent's prompt template: {task}, {title}, {section}, {plan},
    /// {line}, {feedback} and more (--help lists them).
    ///
    /// Default: git config `milestone.prompt` (the template's text), then the
    /// built-in prompt (`/task <ID>` for claude when .claude/commands/task.md
    /// exists).
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub prompt_file: Option<PathBuf>,
    /// A check to run after each task, before its checkpoint (repeatable):
    /// a task whose check fails has failed.
    ///
    /// Default: git config `milestone.verify` (multi-valued). A task adds its
    /// own with a ```sh verify block or a `Verify:` line in the plan.
    #[arg(long = "verify", value_name = "CMD")]
    pub verify: Vec<String>,
    /// Accept an agent's task that changes nothing (otherwise it fails with
    /// "no changes"; an `Allow-empty: yes` line allows it for one task).
    #[arg(long)]
    pub allow_empty: bool,
    /// The milestone's budget in US dollars: no task starts once it is spent,
    /// and an agent is stopped when it goes over (default: git config
    /// `milestone.maxCost`).
    #[arg(long, value_name = "USD", value_parser = Checked::new(check_cost, &[]))]
    pub max_cost: Option<String>,
    /// The milestone's budget in tokens, as --max-cost (`200000`, `200k`;
    /// default: git config `milestone.maxTokens`).
    #[arg(long, value_name = "N", value_parser = Checked::new(check_tokens, &[]))]
    pub max_tokens: Option<String>,
    /// Arguments for the agent's CLI (after `--`).
    #[arg(last = true, value_name = "AGENT-ARGS")]
    pub agent_args: Vec<String>,
    /// Also tag each checkpoint as `milestone/<name>/<ID>`.
    #[arg(long)]
    pub tag: bool,
    /// Print what would run (order, commands, checkpoints) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run without showing the sequence and asking first.
    ///
    /// On a terminal, the first run of a milestone, and any run whose plan
    /// changed since, shows the sequence and asks: run, edit or quit.
    /// Without a terminal, or with --yes, the run follows the recorded
    /// sequence (new tasks where the plan puts them), or the plan as read.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Continue at the failed task (the default when a run failed).
    #[arg(long, conflicts_with = "restart")]
    pub retry: bool,
    /// Forget earlier progress and start the milestone from its first task.
    #[arg(long)]
    pub restart: bool,
    /// Allow running on a detached HEAD.
    #[arg(long)]
    pub detach_ok: bool,
    /// Stop a task that runs longer than this (e.g. `90s`, `30m`, `1.5h`,
    /// `1h30m`), with its whole process group.
    #[arg(long, value_name = "DURATION", value_hint = ValueHint::Other,
          value_parser = Checked::new(check_timeout, &[]))]
    pub timeout: Option<String>,
    /// What to do when a task fails and there is no terminal to ask:
    /// stop, retry[:N], rollback or skip (--help says what each does).
    ///
    /// Default: git config `milestone.onFailure`, then `stop`.
    #[arg(long, value_name = "POLICY",
          value_parser = Checked::new(check_policy, POLICIES))]
    pub on_failure: Option<String>,
    /// Run up to N independent tasks at the same time, each in its own
    /// worktree, integrated in plan order (default: git config
    /// `milestone.jobs`, then 1).
    ///
    /// Tasks run together when the plan marks them parallel (`[P]`),
    /// says so ("T003 can run in parallel with T002") or states their
    /// dependencies; others keep document order. A failed task does not
    /// ask: the failure policy decides.
    #[arg(long, short = 'j', value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,
}

/// The failure policies, as help and completion show them (`retry:N`,
/// which takes any N, is described under `retry`: listed as a value of
/// its own, one N read as the only one).
const POLICIES: &[(&str, &str)] = &[
    ("stop", "stop, keeping the failed attempt's changes"),
    (
        "retry",
        "run the task again up to 2 times (retry:N: up to N times), then stop",
    ),
    (
        "rollback",
        "save the attempt's work, go back to the last checkpoint, stop",
    ),
    (
        "skip",
        "save the task's changes aside and go on with the next task",
    ),
];

/// The agent presets, as help and completion show them.
const AGENTS: &[(&str, &str)] = &[
    (
        "claude",
        "Claude Code: claude -p --output-format stream-json",
    ),
    ("codex", "Codex: codex exec --json"),
    ("gemini", "Gemini CLI: gemini --output-format stream-json"),
    ("aider", "Aider: aider --message"),
];

fn check_agent(text: &str) -> crate::Result<()> {
    crate::agent::Agent::parse(text).map(drop)
}

fn check_cost(text: &str) -> crate::Result<()> {
    crate::config::parse_cost(text).map(drop)
}

fn check_tokens(text: &str) -> crate::Result<()> {
    crate::config::parse_tokens(text).map(drop)
}

fn check_timeout(text: &str) -> crate::Result<()> {
    crate::runner::parse_duration(text).map(drop)
}

fn check_policy(text: &str) -> crate::Result<()> {
    crate::failure::Policy::parse(text).map(drop)
}

/// A flag's value, checked when the command line is parsed (so a bad one
/// is refused before anything runs, with the program's own error and
/// hint), kept as written for the settings a run records; `values` are what
/// shell completion offers.
#[derive(Clone)]
pub struct Checked {
    check: fn(&str) -> crate::Result<()>,
    values: &'static [(&'static str, &'static str)],
}

impl Checked {
    const fn new(
        check: fn(&str) -> crate::Result<()>,
        values: &'static [(&'static str, &'static str)],
    ) -> Self {
        Checked { check, values }
    }
}

impl TypedValueParser for Checked {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        let text = value.to_string_lossy();
        (self.check)(&text).map_err(|e| {
            let report = e.to_string();
            let report = report.strip_prefix("error: ").unwrap_or(&report);
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{report}\n"))
        })?;
        Ok(text.into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        if self.values.is_empty() {
            return None;
        }
        Some(Box::new(
            self.values
                .iter()
                .map(|(v, help)| PossibleValue::new(*v).help(*help)),
        ))
    }
}

/// `run --help`'s (and its man page's) sections after the options.
fn run_help() -> String {
    help::RUN_SECTIONS
        .iter()
        .map(|s| s.plain())
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Show one milestone task by task.
    pub name: Option<String>,
    /// Print JSON for scripts (a versioned schema: --help lists its fields).
    ///
    /// `{"version": 1, "milestones": [M, ...], "live_run": L}`; with a NAME,
    /// `{"version": 1, "milestone": M, "live_run": L}`, where M also has
    /// `tasks`. L is the run in progress, `{"milestone", "pid",
    /// "started_at"}`, or null. Each M has `name`; `state` (running, failed,
    /// interrupted, completed, completed_with_skips or unreadable); `path`,
    /// its status file; `error`, why it is unreadable; `plan`; `done` and
    /// `total`; `current_task`; `last_checkpoint`, `{"task", "commit"}`;
    /// `started_at` and `updated_at`; `failure`, `{"task", "at",
    /// "exit_code", "attempts", "rolled_back", "saved_ref", "head"}`; `usage`;
    /// `skipped_by_sequence`, `[{"id", "title"}]`, the tasks the recorded
    /// sequence skips; and each task `{"id", "title", "state", "attempts", "started_at",
    /// "ended_at", "duration_ms", "exit_code", "checkpoint", "usage"?,
    /// "history"?}`. `version` changes only when a field changes meaning.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 if a listed milestone failed, completed with skipped tasks or
    /// cannot be read, else 3 if one is running or interrupted, else 0.
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The milestone to roll back.
    pub name: String,
    /// Roll back to the checkpoint of this task instead of the last one
    /// (its ID with or without its unit word or `#`: `Task 3` or `3`).
    #[arg(long, value_name = "ID", conflicts_with = "undo")]
    pub to: Option<String>,
    /// Bring back the work that the last rollback saved.
    #[arg(long)]
    pub undo: bool,
    /// Roll back even over commits the run did not make, or that were pushed.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// The milestone whose history to show.
    pub name: String,
    /// Print JSON for scripts (a versioned schema: --help lists its fields).
    ///
    /// `{"version": 1, "milestone", "plan", "state", "base", "tasks": [...]}`,
    /// each task `{"id", "title", "outcome", "attempts", "duration_ms",
    /// "checkpoint", "log"}` (full commit ids, an absolute log path, null
    /// where there is none), with `cost_usd` and `checks` where recorded,
    /// and `skipped_by_sequence` as `status --json` has it.
    /// `version` changes only when a field changes meaning.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BisectArgs {
    /// The milestone whose checkpoints to search.
    pub name: String,
    /// Take the base as good without testing it (for a check that cannot
    /// work before the milestone, such as a test the milestone adds).
    #[arg(long)]
    pub base_good: bool,
    /// Run CMD at every commit, ignoring results cached from earlier runs.
    ///
    /// Default: a result is reused for a commit whose tree was tested with
    /// the same CMD, from the same directory, before.
    #[arg(long)]
    pub no_cache: bool,
    /// The check to run at each commit, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct SquashArgs {
    /// The milestone to squash.
    pub name: String,
    /// The new branch's name. Default: `<branch>-squashed`.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["in_place", "undo"])]
    pub branch: Option<String>,
    /// Replace the checkpoints on the current branch instead.
    #[arg(long, conflicts_with = "undo")]
    pub in_place: bool,
    /// Undo the last squash: move the branch back to the checkpoints (in
    /// place) or delete the new branch.
    #[arg(long)]
    pub undo: bool,
    /// With --undo: go ahead even over commits made on the squashed commit
    /// since, saving them under `refs/milestone/<name>/before-undo/<n>` first.
    #[arg(long, requires = "undo")]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Check the refs git is about to push (read from standard input).
    PrePush(PrePushArgs),
}

#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// The remote's name, as git passes it.
    pub remote: Option<String>,
    /// The remote's URL, as git passes it.
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (`git-milestone.1` and one per subcommand) into
    /// this directory instead of printing the main page.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
