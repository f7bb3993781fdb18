//! What happens when a task fails: the policy without a terminal, the prompt
//! with one, and the choice the run loop acts on.
//!
//! The run loop (`run/session.rs`) calls [`decide`] after every failed
//! attempt and acts on the returned [`Choice`]; on [`Choice::Rollback`] it
//! calls `rollback::attempt`.

use std::fmt;
use std::path::Path;

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

/// How many times `retry` without a number runs a failed task again.
pub const DEFAULT_RETRIES: u32 = 2;

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
    /// Parse `stop`, `retry` (twice), `retry:N`, `rollback` or `skip`.
    pub fn parse(s: &str) -> Result<Policy> {
        let lower = s.trim().to_ascii_lowercase();
        let policy = match lower.as_str() {
            "stop" => Some(Policy::Stop),
            "retry" => Some(Policy::Retry(DEFAULT_RETRIES)),
            "rollback" => Some(Policy::Rollback),
            "skip" => Some(Policy::Skip),
            other => other
                .strip_prefix("retry:")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .map(Policy::Retry),
        };
        policy.ok_or_else(|| {
            Error::bad_input(format!("unknown failure policy {s:?}")).hint(
                "use one of stop, retry, retry:N (N retries, e.g. retry:3), rollback, skip; \
                 e.g. `git milestone run M1 --on-failure retry:2` or \
                 `git config milestone.onFailure rollback`",
            )
        })
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Stop => f.write_str("stop"),
            Policy::Retry(n) => write!(f, "retry:{n}"),
            Policy::Rollback => f.write_str("rollback"),
            Policy::Skip => f.write_str("skip"),
        }
    }
}

/// Everything the prompt shows about a failed attempt.
#[derive(Debug, Clone)]
pub struct FailedAttempt<'a> {
    pub milestone: &'a str,
    pub task: &'a str,
    pub title: &'a str,
    /// How it failed, e.g. `exit code 3`, `killed by signal 9`, `timed out after 30.0s`.
    pub cause: &'a str,
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
    if let Some(prompter) = prompter {
        return prompter.choose(failed);
    }
    Ok(match policy {
        Policy::Stop => Choice::Stop,
        Policy::Retry(n) if retries_used < n => Choice::Retry,
        Policy::Retry(_) => Choice::Stop,
        Policy::Rollback => Choice::Rollback,
        Policy::Skip => Choice::Skip,
    })
}

/// How many lines of the task's log the prompt shows.
pub const LOG_TAIL_LINES: usize = 20;

/// The last `lines` lines of a task's log, for the prompt; empty when the
/// log cannot be read (a missing log must not hide the question).
pub fn read_log_tail(path: &Path, lines: usize) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> FailedAttempt<'static> {
        FailedAttempt {
            milestone: "M1",
            task: "TASK-002",
            title: "Parse",
            cause: "exit code 3",
            attempt: 1,
            log_tail: "",
            log_path: Path::new("/nonexistent"),
        }
    }

    #[test]
    fn parses_every_policy() {
        let cases = [
            ("stop", Policy::Stop),
            ("retry", Policy::Retry(2)),
            ("retry:3", Policy::Retry(3)),
            (" Rollback ", Policy::Rollback),
            ("skip", Policy::Skip),
        ];
        for (text, want) in cases {
            assert_eq!(Policy::parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(Policy::Retry(3).to_string(), "retry:3");
    }

    #[test]
    fn bad_policies_are_bad_input_with_the_valid_ones() {
        for bad in [
            "", "retry:", "retry:0", "retry:-1", "retry:x", "abort", "retry 2",
        ] {
            let e = Policy::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert_eq!(e.message(), format!("unknown failure policy {bad:?}"));
            assert!(
                e.hints()[0].starts_with("use one of stop, retry, retry:N"),
                "{e}"
            );
        }
    }

    #[test]
    fn policies_decide_without_a_terminal() {
        let f = failed();
        let d = |p, used| decide(&f, p, used, None).unwrap();
        assert_eq!(d(Policy::Stop, 0), Choice::Stop);
        assert_eq!(d(Policy::Retry(1), 0), Choice::Retry);
        assert_eq!(d(Policy::Retry(1), 1), Choice::Stop);
        assert_eq!(d(Policy::Retry(3), 2), Choice::Retry);
        assert_eq!(d(Policy::Retry(3), 3), Choice::Stop);
        assert_eq!(d(Policy::Rollback, 0), Choice::Rollback);
        assert_eq!(d(Policy::Skip, 0), Choice::Skip);
    }

    struct Scripted(Vec<Choice>, Vec<String>);

    impl Prompter for Scripted {
        fn choose(&mut self, failed: &FailedAttempt<'_>) -> Result<Choice> {
            self.1.push(failed.task.to_string());
            Ok(self.0.remove(0))
        }
    }

    #[test]
    fn a_terminal_prompt_overrides_the_policy() {
        let mut p = Scripted(vec![Choice::Rollback], vec![]);
        let got = decide(&failed(), Policy::Skip, 0, Some(&mut p)).unwrap();
        assert_eq!(got, Choice::Rollback);
        assert_eq!(p.1, ["TASK-002"]);
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.1.log");
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let tail = read_log_tail(&path, 3);
        assert_eq!(tail, "line 28\nline 29\nline 30");
        assert_eq!(read_log_tail(&dir.path().join("missing"), 3), "");
    }
}
