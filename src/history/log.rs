//! `log`: a milestone's tasks as history, one row each: checkpoint,
//! attempts, outcome, duration, the evidence recorded for it, and the last
//! attempt's log.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{checkpoints, load};
use crate::error::Result;
use crate::repo::Repo;
use crate::state::{self, RunState, TaskState, TaskStatus};

/// One task's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    /// As the status file records it: done, skipped, failed, ...
    pub outcome: TaskState,
    pub attempts: u32,
    /// The last attempt's.
    pub duration_ms: Option<u64>,
    pub checkpoint: Option<String>,
    #[serde(flatten)]
    pub evidence: Evidence,
    /// The last attempt's log, where this worktree has it.
    pub log: Option<PathBuf>,
}

/// What a task's record proves beyond its exit code. Each field is shown
/// (and put in the JSON) only where the status file records it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// What the agent reported the task cost, in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// The checks that passed before the checkpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
}

impl Evidence {
    /// The evidence the status file records for `task`. It records none
    /// yet: per-attempt cost and checks are filled in here once it does.
    pub fn of(_task: &TaskStatus) -> Evidence {
        Evidence::default()
    }
}

/// A milestone's history.
#[derive(Debug, Clone, Serialize)]
pub struct Log {
    pub milestone: String,
    pub plan: String,
    pub state: RunState,
    /// Where the run started.
    pub base: Option<String>,
    pub tasks: Vec<Row>,
    /// Tasks the recorded sequence skips, which have no row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_by_sequence: Vec<state::SkippedStep>,
}

impl Log {
    /// Whether any row records a cost, or checks: the table shows those
    /// columns only then.
    pub fn has_cost(&self) -> bool {
        self.tasks.iter().any(|r| r.evidence.cost_usd.is_some())
    }

    pub fn has_checks(&self) -> bool {
        self.tasks.iter().any(|r| !r.evidence.checks.is_empty())
    }
}

/// Read milestone `name`'s (a key) history: its status file, and each
/// task's checkpoint as [`checkpoints`] finds it.
pub fn read(repo: &Repo, name: &str) -> Result<Log> {
    let status = load(repo, name)?;
    let found = checkpoints(repo, name, &status)?;
    let logs = state::journal_dir(repo.git_dir(), name)?.join("logs");
    let tasks = status
        .tasks
        .iter()
        .map(|t| Row {
            id: t.id.clone(),
            title: t.title.clone(),
            outcome: t.state,
            attempts: t.attempts,
            duration_ms: t.duration_ms,
            checkpoint: found
                .iter()
                .find(|(id, _)| *id == t.id)
                .map(|(_, c)| c.clone()),
            evidence: Evidence::of(t),
            log: last_log(&logs, &t.id, t.attempts),
        })
        .collect();
    Ok(Log {
        milestone: status.milestone.clone(),
        plan: status.plan.clone(),
        state: status.state,
        base: status.base_commit.clone(),
        tasks,
        skipped_by_sequence: status.skipped_by_sequence(),
    })
}

/// Attempt `attempt`'s log of task `id` in `dir`: `<ID>.<n>.log`, or the
/// newest `<ID>.<n>.<k>.log` (a restarted run counts attempts from 1 again
/// and does not overwrite the earlier run's logs). `/` and control
/// characters in the ID are `_` in the name.
pub fn last_log(dir: &Path, id: &str, attempt: u32) -> Option<PathBuf> {
    if attempt == 0 {
        return None;
    }
    let safe: String = id
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    let first = dir.join(format!("{safe}.{attempt}.log"));
    if !first.is_file() {
        return None;
    }
    let later = (2..)
        .map(|k| dir.join(format!("{safe}.{attempt}.{k}.log")))
        .take_while(|p| p.is_file())
        .last();
    Some(later.unwrap_or(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_log_of_the_last_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(last_log(d, "T1", 0), None);
        assert_eq!(last_log(d, "T1", 1), None);
        std::fs::write(d.join("T1.1.log"), "").unwrap();
        assert_eq!(last_log(d, "T1", 1), Some(d.join("T1.1.log")));
        std::fs::write(d.join("T1.1.2.log"), "").unwrap();
        std::fs::write(d.join("T1.1.3.log"), "").unwrap();
        assert_eq!(last_log(d, "T1", 1), Some(d.join("T1.1.3.log")));
        std::fs::write(d.join("a_b.2.log"), "").unwrap();
        assert_eq!(last_log(d, "a/b", 2), Some(d.join("a_b.2.log")));
    }
}
