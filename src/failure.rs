//! What happens when a task fails: the policy without a terminal, the prompt
//! with one, and the choice the run loop acts on.
//!
//! The run loop (`commands/run.rs`) calls [`decide`] after every failed
//! attempt and acts on the returned [`Choice`]; rollback itself is
//! `Repo::rollback_to_checkpoint` (in `repo/rollback.rs`).

use crate::error::{Error, Result};

/// What to do about a failed task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Run the same task again.
    Retry,
    /// Save the attempt's work under a ref, then restore the last checkpoint.
    Rollback,
    /// Stop here, leaving the failed attempt's changes in the tree.
    Stop,
    /// Record the task as skipped and go on with the next one.
    Skip,
}

/// `--on-failure` / `milestone.onFailure`: what to do without a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Stop,
    /// Retry up to N more times, then stop.
    Retry(u32),
    Rollback,
    Skip,
}

impl Policy {
    /// Parse `stop`, `retry`, `retry:N`, `rollback` or `skip`.
    pub fn parse(s: &str) -> Result<Policy> {
        let _ = s;
        Err(Error::failed("failure policies are not built yet"))
    }
}

/// Everything the prompt shows about a failed attempt.
#[derive(Debug, Clone)]
pub struct FailedAttempt<'a> {
    pub milestone: &'a str,
    pub task: &'a str,
    pub title: &'a str,
    /// The runner's exit code, `None` when killed by a signal or a timeout.
    pub exit_code: Option<i32>,
    /// 1-based attempt number of the attempt that just failed.
    pub attempt: u32,
    /// The end of the task's log, for the prompt to show.
    pub log_tail: &'a str,
    pub log_path: &'a std::path::Path,
}

/// Something that can ask the user; tests script it, the real one uses dialoguer.
pub trait Prompter {
    fn choose(&mut self, failed: &FailedAttempt<'_>) -> Result<Choice>;
}

/// Decide what to do about a failed attempt: ask through `prompter` when
/// there is a terminal (`Some`), otherwise follow `policy`. `retries_used`
/// counts the automatic retries already spent on this task.
pub fn decide(
    failed: &FailedAttempt<'_>,
    policy: Policy,
    retries_used: u32,
    prompter: Option<&mut dyn Prompter>,
) -> Result<Choice> {
    let _ = (failed, policy, retries_used, prompter);
    Ok(Choice::Stop)
}

/// The work of a failed attempt, saved before a rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAttempt {
    /// `refs/milestone/<name>/attempts/<ID>/<n>`.
    pub ref_name: String,
    /// The commit that holds the attempt's tree (and has its commits as ancestors).
    pub commit: String,
    /// The one command that brings the work back.
    pub restore_command: String,
}

/// Save everything the failed attempt produced under
/// `refs/milestone/<milestone>/attempts/<task>/<n>`, then return the branch
/// and work tree exactly to `checkpoint` (an oid), keeping ignored files,
/// untracked files listed in the run's untracked snapshot, and the status file.
pub fn roll_back_attempt(
    repo: &crate::repo::Repo,
    milestone: &str,
    task: &str,
    checkpoint: &str,
) -> Result<SavedAttempt> {
    let _ = (repo, milestone, task, checkpoint);
    Err(Error::failed("rollback is not built yet"))
}
