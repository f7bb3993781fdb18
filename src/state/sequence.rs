//! The sequence the user confirmed, as the status file records it: the
//! data only; `sequence` reads, compares and applies it.

use serde::{Deserialize, Serialize};

/// Every task of the plan as the user accepted it: in the order they run,
/// each run or skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    /// The tasks in the order they run (skipped ones where the user put them).
    pub tasks: Vec<Step>,
    /// The plan's reading when the sequence was accepted: its task IDs in
    /// the plan's order. A later run compares the plan with this, not with
    /// the user's order, to tell the plan's changes from the user's own.
    pub read: Vec<String>,
}

/// One task in a sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    /// The task's title when the sequence was accepted.
    pub title: String,
    /// The user chose not to run it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A task the recorded sequence skips and the status file has no record
/// of (a run drops such tasks from it), as `status` and `log` name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedStep {
    pub id: String,
    /// Its title when the sequence was accepted.
    pub title: String,
}

impl super::Status {
    /// The tasks the recorded sequence skips that have no record here, in
    /// sequence order.
    pub fn skipped_by_sequence(&self) -> Vec<SkippedStep> {
        let Some(seq) = &self.sequence else {
            return Vec::new();
        };
        seq.tasks
            .iter()
            .filter(|s| s.skip && self.task(&s.id).is_none())
            .map(|s| SkippedStep {
                id: s.id.clone(),
                title: s.title.clone(),
            })
            .collect()
    }
}
