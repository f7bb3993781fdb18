//! `status`'s tables and sentences: the summary row of each milestone, a
//! milestone's task rows, the headline above them and the next step.

use super::{LiveRun, Report, Shown, TaskJson};
use crate::repo::short_oid as short;
use crate::state::TaskState;
use crate::ui::table::{Cell, Tone};
use crate::ui::text::{clean, command_line};

/// STATE, PROGRESS and UPDATED never wrap: a time split over two lines
/// reads as two values.
pub(super) const SUMMARY_UNBROKEN: &[usize] = &[1, 2, 5];

pub(super) const SUMMARY_HEADERS: &[&str] = &[
    "MILESTONE",
    "STATE",
    "PROGRESS",
    "TASK",
    "LAST CHECKPOINT",
    "UPDATED",
];

pub(super) fn summary_rows(reports: &[Report]) -> Vec<Vec<Cell>> {
    reports
        .iter()
        .map(|r| {
            let progress = match (r.done, r.total) {
                (Some(d), Some(t)) => format!("{d}/{t}"),
                _ => String::new(),
            };
            let checkpoint = r
                .last_checkpoint
                .as_ref()
                .map(|c| format!("{} {}", short(&c.commit), c.task));
            vec![
                Cell::plain(&r.name),
                Cell::toned(r.state.as_str(), r.state.tone()),
                Cell::plain(progress),
                Cell::plain(r.current_task.clone().unwrap_or_default()),
                Cell::plain(checkpoint.unwrap_or_default()),
                Cell::plain(r.updated_at.clone().unwrap_or_else(|| r.path.clone())),
            ]
        })
        .collect()
}

pub(super) const TASK_HEADERS: &[&str] =
    &["ID", "TITLE", "STATE", "ATTEMPTS", "DURATION", "CHECKPOINT"];

pub(super) fn task_rows(tasks: &[TaskJson]) -> Vec<Vec<Cell>> {
    tasks
        .iter()
        .map(|t| {
            vec![
                Cell::plain(&t.id),
                Cell::plain(&t.title),
                task_state_cell(t.state),
                Cell::plain(t.attempts.to_string()),
                Cell::plain(t.duration_ms.map(duration).unwrap_or_default()),
                Cell::plain(t.checkpoint.as_deref().map(short).unwrap_or_default()),
            ]
        })
        .collect()
}

/// The line above a milestone's task table; the plan's path and the task
/// come from its status file, so they are cleaned.
pub(super) fn headline(r: &Report) -> String {
    let (done, total) = (r.done.unwrap_or(0), r.total.unwrap_or(0));
    let plan = clean(r.plan.as_deref().unwrap_or("?"));
    let state = r.state.as_str();
    let name = &r.name;
    match (r.state, &r.current_task) {
        (Shown::Completed, _) => {
            format!("{name}: completed, {done}/{total} tasks (plan {plan})")
        }
        (Shown::CompletedWithSkips, _) => {
            let skipped: Vec<String> = r
                .tasks
                .iter()
                .flatten()
                .filter(|t| t.state == TaskState::Skipped)
                .map(|t| clean(&t.id).into_owned())
                .collect();
            format!(
                "{name}: completed with skipped tasks ({}), {done}/{total} tasks (plan {plan})",
                crate::ui::text::list(&skipped, 5)
            )
        }
        (_, Some(task)) => format!(
            "{name}: {state} at {}, {done}/{total} tasks done (plan {plan})",
            clean(task)
        ),
        (_, None) => format!("{name}: {state}, {done}/{total} tasks done (plan {plan})"),
    }
}

/// The tasks the recorded sequence skips, which the table cannot list
/// (they have no record), and how to change that.
pub(super) fn not_run(r: &Report) -> Option<String> {
    if r.skipped_by_sequence.is_empty() {
        return None;
    }
    let ids: Vec<String> = r
        .skipped_by_sequence
        .iter()
        .map(|s| clean(&s.id).into_owned())
        .collect();
    let plan = r.plan.as_deref().unwrap_or_default();
    let edit = command_line(&[
        "git",
        "milestone",
        "plan",
        &r.name,
        "--plan",
        plan,
        "--edit",
    ]);
    Some(format!(
        "Not run: the recorded sequence skips {} (`{edit}` changes it).",
        crate::ui::text::list(&ids, 10)
    ))
}

/// What to do next. While a run holds the lock, a `run` or `rollback`
/// would be refused: say so instead of suggesting one.
pub(super) fn next_step(r: &Report, live: Option<&LiveRun>) -> Option<String> {
    let run = command_line(&["git", "milestone", "run", &r.name]);
    let rollback = command_line(&["git", "milestone", "rollback", &r.name]);
    let advice = match r.state {
        Shown::Failed => format!("retry with `{run}`, or roll back with `{rollback}`"),
        Shown::Running | Shown::Interrupted => format!("continue with `{run}`"),
        Shown::CompletedWithSkips => {
            let refs: Vec<String> = r
                .records
                .iter()
                .filter(|t| t.state == TaskState::Skipped)
                .map(|t| clean(&crate::repo::refs::attempts_prefix(&r.name, &t.id)).into_owned())
                .collect();
            let note = format!(
                "A skipped task's changes are not committed: they are saved under {}.",
                crate::ui::text::list(&refs, 5)
            );
            return Some(match live {
                None => note,
                Some(l) => format!("{note}\n{}.", l.sentence()),
            });
        }
        _ => return live.map(|l| format!("{}.", l.sentence())),
    };
    Some(match live {
        None => format!("{}.", capitalized(&advice)),
        Some(l) if l.milestone == r.name => format!(
            "{}: wait for it to finish, or stop it with Ctrl-C in its terminal.",
            l.sentence()
        ),
        Some(l) => format!("{}; once it has finished, {advice}.", l.sentence()),
    })
}

pub(super) fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A task's state as the JSON spells it, toned for the table.
pub(crate) fn task_state_cell(state: TaskState) -> Cell {
    let (text, tone) = match state {
        TaskState::Pending => ("pending", Tone::Dim),
        TaskState::Running => ("running", Tone::Busy),
        TaskState::Done => ("done", Tone::Good),
        TaskState::DoneInPlan => ("done_in_plan", Tone::Good),
        TaskState::Skipped => ("skipped", Tone::Dim),
        TaskState::Failed => ("failed", Tone::Bad),
        TaskState::Interrupted => ("interrupted", Tone::Busy),
    };
    Cell::toned(text, tone)
}

/// `850ms`, `4.2s`, `3m05s`, `1h02m`.
pub(crate) fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0 => format!("{ms}ms"),
        1..60 => format!("{:.1}s", ms as f64 / 1000.0),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(4_250), "4.2s");
        assert_eq!(duration(185_000), "3m05s");
        assert_eq!(duration(3_720_000), "1h02m");
    }

    #[test]
    fn task_states_in_the_table_match_the_json() {
        use TaskState::*;
        for state in [
            Pending,
            Running,
            Done,
            DoneInPlan,
            Skipped,
            Failed,
            Interrupted,
        ] {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json.as_str(), Some(task_state_cell(state).text.as_str()));
        }
    }
}
