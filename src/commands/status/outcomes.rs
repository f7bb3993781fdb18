//! What `status` shows of each task's attempts when agents or checks ran:
//! the last attempt's outcome, its checks (the evidence a checkpoint's
//! `Milestone-Verified` trailers carry), and the tokens and cost so far.

use crate::agent::{Kind, Usage};
use crate::state::{Attempt, TaskStatus};
use crate::ui::table::{Cell, Tone};
use crate::ui::text::clean;

/// The columns added after the task table's own.
pub(super) const HEADERS: &[&str] = &["OUTCOME", "CHECKS", "COST"];

/// Whether any attempt says more than an exit code: an agent ran, or checks.
pub(super) fn worth_showing(tasks: &[TaskStatus]) -> bool {
    tasks
        .iter()
        .flat_map(|t| &t.history)
        .any(|a| a.agent.is_some() || !a.checks.is_empty())
}

/// The task's extra cells: its last attempt's outcome and checks, its cost.
pub(super) fn cells(t: &TaskStatus) -> Vec<Cell> {
    let last = t.history.last();
    vec![
        last.map_or_else(|| Cell::plain(""), |a| outcome_cell(&t.history, a)),
        Cell::plain(last.map(checks).unwrap_or_default()),
        Cell::plain(t.usage.as_ref().map(Usage::describe).unwrap_or_default()),
    ]
}

/// Each attempt's outcome in turn (`turn limit, success`), in the tone of
/// the last one.
fn outcome_cell(all: &[Attempt], a: &Attempt) -> Cell {
    let words: Vec<&str> = all.iter().map(|a| a.outcome.kind.short()).collect();
    let mut text = words.join(", ");
    if let Some(at) = a.outcome.resets_at {
        text.push_str(&format!(" (resets {})", crate::agent::reset::show(at)));
    }
    let tone = match a.outcome.kind {
        Kind::Success => Tone::Good,
        Kind::Skipped | Kind::Interrupted | Kind::RateLimit => Tone::Busy,
        _ => Tone::Bad,
    };
    Cell::toned(text, tone)
}

/// `passed: cargo test (exit 0, 41s)`, `failed: make lint (exit 2, 3s)`.
fn checks(a: &Attempt) -> String {
    let parts: Vec<String> = a
        .checks
        .iter()
        .map(|c| {
            let word = if c.passed() { "passed" } else { "failed" };
            format!("{word}: {}", clean(&c.evidence()))
        })
        .collect();
    parts.join("; ")
}

/// `Agents used 12.3k tokens, $0.42 on this milestone.`
pub(super) fn total_line(usage: Option<&Usage>) -> Option<String> {
    usage.map(|u| format!("Agents used {} on this milestone.", u.describe()))
}
