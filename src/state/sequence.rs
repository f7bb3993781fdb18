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
