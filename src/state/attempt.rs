//! One attempt's record in the status file (schema 2): how it ended (its
//! outcome, not only its exit code), what it used, which checks ran, and
//! the agent session it had or continued.

use serde::{Deserialize, Serialize};

use crate::agent::{Agent, Outcome, Usage};

/// One attempt of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based, as `attempts` counts them.
    pub n: u32,
    /// The agent preset that ran it; absent for a runner command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    pub outcome: Outcome,
    #[serde(default)]
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// Tokens and cost, when the agent reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<u32>,
    /// The agent's session, which a retry may continue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The earlier session this attempt continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<String>,
    /// The checks run after it (`--verify`, `milestone.verify`, the task's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub command: String,
    /// Unset when it was killed (a timeout, a signal).
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
}

impl Check {
    pub fn passed(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `cargo test (exit 0, 41s)`: the checkpoint trailer's value.
    pub fn evidence(&self) -> String {
        let exit = match self.exit_code {
            Some(c) => format!("exit {c}"),
            None => "killed".to_string(),
        };
        let secs = (self.duration_ms + 500) / 1000;
        format!(
            "{} ({exit}, {secs}s)",
            crate::ui::text::one_line(&self.command)
        )
    }
}

/// The sum of some attempts' usage; `None` when none reported any.
pub fn total<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> Option<Usage> {
    attempts
        .into_iter()
        .filter_map(|a| a.usage)
        .reduce(|a, b| a.plus(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_reads_like_a_trailer() {
        let c = Check {
            command: "cargo test\n--all".into(),
            exit_code: Some(0),
            duration_ms: 40_600,
        };
        assert_eq!(c.evidence(), "cargo test --all (exit 0, 41s)");
        let killed = Check {
            exit_code: None,
            ..c
        };
        assert!(!killed.passed());
        assert_eq!(killed.evidence(), "cargo test --all (killed, 41s)");
    }
}
