//! `git milestone status`: every milestone in `.milestone_bundles/` as one
//! row, or one milestone task by task; as a table or as versioned JSON.
//!
//! It reads the work tree's status files (the local truth: a failure is
//! recorded there before anything is committed) and the checkpoint refs,
//! never the index or the rest of the work tree, so it stays fast anywhere.

mod outcomes;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::cli::StatusArgs;
use crate::error::{EXIT_MILESTONE_FAILED, EXIT_MILESTONE_MID_RUN, Error, Result};
use crate::lock::{Owner, RunLock};
use crate::repo::Repo;
use crate::repo::short_oid as short;
use crate::state::{
    BUNDLES_DIR, Failure, RunState, STATUS_FILE, Status, TaskState, TaskStatus, status_rel_path,
    validate_name,
};
use crate::ui::table::{Cell, Target, Tone, render, render_unbroken};
use crate::ui::text::{clean, command_line};

/// The version of the `--json` output; bumped when a field changes meaning.
pub const JSON_VERSION: u32 = 1;

pub fn run(args: &StatusArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let found = find_milestones(repo.root())?;
    let name = match &args.name {
        Some(name) => Some(crate::state::resolve_key(repo.root(), name)?),
        None => None,
    };
    let live = RunLock::holder(repo.common_dir(), name.as_deref().unwrap_or_default());
    let live = live.as_ref().map(LiveRun::from);
    match &name {
        Some(name) => show_one(&repo, &found, name, args, live.as_ref()),
        None => show_all(&repo, &found, args, live.as_ref()),
    }
}

/// The run holding the run lock now, from another terminal: what it says
/// about itself.
#[derive(Serialize)]
struct LiveRun {
    milestone: String,
    pid: u32,
    started_at: String,
}

impl From<&Owner> for LiveRun {
    fn from(o: &Owner) -> LiveRun {
        LiveRun {
            milestone: o.milestone.clone(),
            pid: o.pid,
            started_at: o.started_at.clone(),
        }
    }
}

impl LiveRun {
    /// `A run of M4 is in progress (pid 123, started …)`.
    fn sentence(&self) -> String {
        format!(
            "A run of {} is in progress (pid {}, started {})",
            clean(&self.milestone),
            self.pid,
            clean(&self.started_at)
        )
    }
}

/// The milestones with a status file, each with its state as `status`
/// shows it (`failed`, `completed`, `unreadable`, ...), in name order.
pub fn milestones_with_status(root: &Path) -> Result<Vec<(String, &'static str)>> {
    Ok(find_milestones(root)?
        .into_iter()
        .map(|f| {
            let state = match &f.status {
                Ok(s) => Shown::from(s.state).as_str(),
                Err(_) => Shown::Unreadable.as_str(),
            };
            (f.name, state)
        })
        .collect())
}

/// One bundle directory that holds a status file.
struct Found {
    name: String,
    /// `.milestone_bundles/<name>/status.json`, relative to the root.
    path: String,
    status: Result<Status>,
}

/// The milestones with a status file in the work tree, in name order.
fn find_milestones(root: &Path) -> Result<Vec<Found>> {
    let dir = root.join(BUNDLES_DIR);
    if fs::symlink_metadata(&dir).is_ok_and(|m| !m.is_dir()) {
        // Not followed: a committed symlink would list files outside the repository.
        return Err(Error::refused(format!(
            "{BUNDLES_DIR} is not a directory (a symbolic link?); it holds no status files"
        ))
        .hint(format!(
            "remove it with `git rm {BUNDLES_DIR}` (`rm {BUNDLES_DIR}` if it is not committed)"
        )));
    }
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::failed(format!("cannot list {}", dir.display())).with_cause(e));
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // A symlinked bundle or status file is listed, as unreadable.
        let listed = entry.file_type().is_ok_and(|t| t.is_symlink())
            || fs::symlink_metadata(entry.path().join(STATUS_FILE)).is_ok();
        if validate_name(&name).is_err() || !listed {
            continue;
        }
        let path = status_rel_path(&name)?;
        let status = Status::load(root, &name)
            .and_then(|s| s.ok_or_else(|| Error::failed(format!("{path} disappeared"))));
        found.push(Found { name, path, status });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn show_all(
    repo: &Repo,
    found: &[Found],
    args: &StatusArgs,
    live: Option<&LiveRun>,
) -> Result<i32> {
    let mut reports = Vec::new();
    for f in found {
        reports.push(Report::new(repo, f, false)?);
    }
    if args.json {
        print_json(&ListJson {
            version: JSON_VERSION,
            milestones: &reports,
            live_run: live,
        })?;
    } else if reports.is_empty() {
        println!("No milestone has run in this repository yet.");
        println!(
            "Start one with `git milestone run <name>` (preview it with `git milestone plan <name>`)."
        );
    } else {
        print!(
            "{}",
            render_unbroken(
                SUMMARY_HEADERS,
                &summary_rows(&reports),
                Target::stdout(),
                SUMMARY_UNBROKEN,
            )
        );
        if let Some(live) = live {
            println!("{}.", live.sentence());
        }
    }
    warn_unreadable(found);
    if !found.is_empty() && found.iter().all(|f| f.status.is_err()) {
        return Ok(2);
    }
    Ok(exit_code(&reports, args.exit_code))
}

fn show_one(
    repo: &Repo,
    found: &[Found],
    name: &str,
    args: &StatusArgs,
    live: Option<&LiveRun>,
) -> Result<i32> {
    validate_name(name)?;
    let Some(f) = found.iter().find(|f| f.name == name) else {
        return Err(unknown(name, found));
    };
    if f.status.is_err() {
        // Load it again to hand back the full error, cause and hints included.
        Status::load(repo.root(), name)?;
    }
    let report = Report::new(repo, f, true)?;
    if args.json {
        print_json(&OneJson {
            version: JSON_VERSION,
            milestone: &report,
            live_run: live,
        })?;
    } else {
        println!("{}", headline(&report));
        let mut rows = task_rows(report.tasks.as_deref().unwrap_or_default());
        let mut headers = TASK_HEADERS.to_vec();
        if outcomes::worth_showing(&report.records) {
            headers.extend(outcomes::HEADERS);
            for (row, t) in rows.iter_mut().zip(&report.records) {
                row.extend(outcomes::cells(t));
            }
        }
        print!("{}", render(&headers, &rows, Target::stdout()));
        if let Some(total) = outcomes::total_line(report.usage.as_ref()) {
            println!("{total}");
        }
        if let Some(next) = next_step(&report, live) {
            println!("{next}");
        }
    }
    Ok(exit_code(std::slice::from_ref(&report), args.exit_code))
}

fn unknown(name: &str, found: &[Found]) -> Error {
    let e = Error::bad_input(format!(
        "no milestone named {name:?} has a status file in {BUNDLES_DIR}/"
    ));
    if found.is_empty() {
        e.hint(format!(
            "no milestone has run here yet; start this one with `{}`",
            command_line(&["git", "milestone", "run", name])
        ))
    } else {
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        e.hint(format!("milestones with a status: {}", names.join(", ")))
            .hint("list them with `git milestone status`")
    }
}

/// Print each unreadable status file's error on stderr as a warning.
fn warn_unreadable(found: &[Found]) {
    for f in found {
        if let Err(e) = &f.status {
            let text = e.to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            // `cause:` and `hint:` lines follow the warning as they are.
            for (i, line) in text.split('\n').enumerate() {
                let lead = if i == 0 { "warning: " } else { "" };
                eprintln!("{lead}{}", clean(line));
            }
        }
    }
}

/// `--exit-code`: 1 when a listed milestone failed, completed with skipped
/// tasks, or cannot be read (it might hide a failure), else 3 when one is
/// mid-run, else 0.
fn exit_code(reports: &[Report], wanted: bool) -> i32 {
    let any = |states: &[Shown]| reports.iter().any(|r| states.contains(&r.state));
    if !wanted {
        0
    } else if any(&[Shown::Failed, Shown::CompletedWithSkips, Shown::Unreadable]) {
        EXIT_MILESTONE_FAILED
    } else if any(&[Shown::Running, Shown::Interrupted]) {
        EXIT_MILESTONE_MID_RUN
    } else {
        0
    }
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::failed("cannot encode the status as JSON").with_cause(e))?;
    println!("{text}");
    Ok(())
}

/// `{"version": 1, "milestones": [...], "live_run": ...}`.
#[derive(Serialize)]
struct ListJson<'a> {
    version: u32,
    milestones: &'a [Report],
    live_run: Option<&'a LiveRun>,
}

/// `{"version": 1, "milestone": {...}, "live_run": ...}`.
#[derive(Serialize)]
struct OneJson<'a> {
    version: u32,
    milestone: &'a Report,
    live_run: Option<&'a LiveRun>,
}

/// One milestone as reported, in the table and in JSON (fields documented
/// in the README's "status --json" section).
#[derive(Serialize)]
struct Report {
    name: String,
    state: Shown,
    path: String,
    error: Option<String>,
    plan: Option<String>,
    done: Option<usize>,
    total: Option<usize>,
    current_task: Option<String>,
    last_checkpoint: Option<CheckpointJson>,
    started_at: Option<String>,
    updated_at: Option<String>,
    failure: Option<Failure>,
    /// Tokens and cost of every attempt, when agents reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<crate::agent::Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<Vec<TaskJson>>,
    /// The records behind `tasks`, for the table's outcome columns.
    #[serde(skip)]
    records: Vec<TaskStatus>,
}

/// A milestone's state as shown: the run's state, or that its file is unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Shown {
    Running,
    Failed,
    Interrupted,
    Completed,
    CompletedWithSkips,
    Unreadable,
}

impl Shown {
    fn as_str(self) -> &'static str {
        match self {
            Shown::Running => "running",
            Shown::Failed => "failed",
            Shown::Interrupted => "interrupted",
            Shown::Completed => "completed",
            Shown::CompletedWithSkips => "completed with skips",
            Shown::Unreadable => "unreadable",
        }
    }

    fn tone(self) -> Tone {
        match self {
            Shown::Completed => Tone::Good,
            Shown::Failed | Shown::Unreadable => Tone::Bad,
            Shown::Running | Shown::Interrupted | Shown::CompletedWithSkips => Tone::Busy,
        }
    }
}

impl From<RunState> for Shown {
    fn from(state: RunState) -> Shown {
        match state {
            RunState::Running => Shown::Running,
            RunState::Failed => Shown::Failed,
            RunState::Interrupted => Shown::Interrupted,
            RunState::Completed => Shown::Completed,
            RunState::CompletedWithSkips => Shown::CompletedWithSkips,
        }
    }
}

#[derive(Serialize, Clone)]
struct CheckpointJson {
    task: String,
    commit: String,
}

#[derive(Serialize)]
struct TaskJson {
    id: String,
    title: String,
    state: TaskState,
    attempts: u32,
    started_at: Option<String>,
    ended_at: Option<String>,
    duration_ms: Option<u64>,
    exit_code: Option<i32>,
    checkpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<crate::agent::Usage>,
    /// Each attempt: its outcome, usage and checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<crate::state::Attempt>,
}

impl Report {
    fn new(repo: &Repo, found: &Found, with_tasks: bool) -> Result<Report> {
        let status = match &found.status {
            Ok(s) => s,
            Err(e) => return Ok(Report::unreadable(found, e)),
        };
        // This branch's checkpoints first (the file names none of them
        // since version 3; the refs are shared by every worktree).
        let refs: BTreeMap<String, String> =
            crate::history::checkpoints(repo, &found.name, status)?
                .into_iter()
                .collect();
        let tasks: Vec<TaskJson> = status.tasks.iter().map(|t| task_json(t, &refs)).collect();
        let last_checkpoint = tasks.iter().rev().find_map(|t| {
            let commit = t.checkpoint.clone()?;
            Some(CheckpointJson {
                task: t.id.clone(),
                commit,
            })
        });
        let (done, total) = status.progress();
        Ok(Report {
            name: found.name.clone(),
            state: status.state.into(),
            path: found.path.clone(),
            error: None,
            plan: Some(status.plan.clone()),
            done: Some(done),
            total: Some(total),
            current_task: current_task(status),
            last_checkpoint,
            started_at: status.started_at.clone(),
            updated_at: Some(status.updated_at.clone()),
            failure: status.failure.clone(),
            usage: status.usage,
            tasks: with_tasks.then_some(tasks),
            records: status.tasks.clone(),
        })
    }

    fn unreadable(found: &Found, e: &Error) -> Report {
        Report {
            name: found.name.clone(),
            state: Shown::Unreadable,
            path: found.path.clone(),
            error: Some(e.message().to_string()),
            plan: None,
            done: None,
            total: None,
            current_task: None,
            last_checkpoint: None,
            started_at: None,
            updated_at: None,
            failure: None,
            usage: None,
            tasks: None,
            records: Vec::new(),
        }
    }
}

/// A task's record, with its checkpoint from `history::checkpoints` when the
/// file has none (version 3 files name none): for any task that finished
/// by running, done or skipped.
fn task_json(t: &TaskStatus, refs: &BTreeMap<String, String>) -> TaskJson {
    let from_ref = matches!(t.state, TaskState::Done | TaskState::Skipped)
        .then(|| refs.get(&t.id).cloned())
        .flatten();
    TaskJson {
        id: t.id.clone(),
        title: t.title.clone(),
        state: t.state,
        attempts: t.attempts,
        started_at: t.started_at.clone(),
        ended_at: t.ended_at.clone(),
        duration_ms: t.duration_ms,
        exit_code: t.exit_code,
        // The file's own record first: the refs are shared by every
        // worktree, and another one may have run a milestone of this name.
        checkpoint: t.checkpoint.clone().or(from_ref),
        usage: t.usage,
        history: t.history.clone(),
    }
}

/// The task the milestone is at: the failed one, the one running or
/// interrupted, else the next to run; none once completed.
fn current_task(status: &Status) -> Option<String> {
    let first = |states: &[TaskState]| {
        status
            .tasks
            .iter()
            .find(|t| states.contains(&t.state))
            .map(|t| t.id.clone())
    };
    match status.state {
        RunState::Completed | RunState::CompletedWithSkips => None,
        RunState::Failed => status
            .failure
            .as_ref()
            .map(|f| f.task.clone())
            .or_else(|| first(&[TaskState::Failed])),
        RunState::Running | RunState::Interrupted => first(&[
            TaskState::Failed,
            TaskState::Interrupted,
            TaskState::Running,
        ])
        .or_else(|| first(&[TaskState::Pending])),
    }
}

/// STATE, PROGRESS and UPDATED never wrap: a time split over two lines
/// reads as two values.
const SUMMARY_UNBROKEN: &[usize] = &[1, 2, 5];

const SUMMARY_HEADERS: &[&str] = &[
    "MILESTONE",
    "STATE",
    "PROGRESS",
    "TASK",
    "LAST CHECKPOINT",
    "UPDATED",
];

fn summary_rows(reports: &[Report]) -> Vec<Vec<Cell>> {
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

const TASK_HEADERS: &[&str] = &["ID", "TITLE", "STATE", "ATTEMPTS", "DURATION", "CHECKPOINT"];

fn task_rows(tasks: &[TaskJson]) -> Vec<Vec<Cell>> {
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
fn headline(r: &Report) -> String {
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

/// What to do next. While a run holds the lock, a `run` or `rollback`
/// would be refused: say so instead of suggesting one.
fn next_step(r: &Report, live: Option<&LiveRun>) -> Option<String> {
    let run = command_line(&["git", "milestone", "run", &r.name]);
    let rollback = command_line(&["git", "milestone", "rollback", &r.name]);
    let advice = match r.state {
        Shown::Failed => format!("retry with `{run}`, or roll back with `{rollback}`"),
        Shown::Running | Shown::Interrupted => format!("continue with `{run}`"),
        Shown::CompletedWithSkips => {
            let note = format!(
                "Skipped tasks' changes are not committed: each is saved under refs/milestone/{}/attempts/<ID>/.",
                r.name
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

fn capitalized(s: &str) -> String {
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
