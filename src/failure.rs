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
