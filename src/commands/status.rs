//! `git milestone status`: every milestone in `.milestone_bundles/` as one
//! row, or one milestone task by task; as a table or as versioned JSON.
//!
//! It reads the work tree's status files (the local truth: a failure is
//! recorded there before anything is committed) and the checkpoint refs,
//! never the index or the rest of the work tree, so it stays fast anywhere.

mod elsewhere;
mod outcomes;
mod table;

use table::{
    SUMMARY_HEADERS, SUMMARY_UNBROKEN, TASK_HEADERS, capitalized, headline, next_step,
    summary_rows, task_rows,
};
pub(crate) use table::{duration, task_state_cell};

use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::history::Checkpoints;
use crate::lock::{Owner, RunLock};
use crate::repo::Repo;
use crate::rollback::Unfinished;
use crate::state::glance;
use crate::state::{
    BUNDLES_DIR, Failure, RunState, STATUS_FILE, Status, TaskState, TaskStatus, status_rel_path,
    validate_name,
};
use crate::ui::table::{Target, Tone, render, render_unbroken};
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
    let live = RunLock::holder(repo.git_dir(), repo.common_dir(), name.as_deref());
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
        .hint(crate::state::removal_hint(&dir)));
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
        for line in elsewhere::lines(&elsewhere::find(repo, &[])) {
            println!("{line}");
        }
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
        return Err(unknown(repo, name, found));
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
        if let Some(line) = table::not_run(&report) {
            println!("{line}");
        }
        if let Some(next) = stopped_step(repo, name, live).or_else(|| next_step(&report, live)) {
            println!("{next}");
        }
    }
    Ok(exit_code(std::slice::from_ref(&report), args.exit_code))
}

/// What to do about a rollback or an undo of `name` that was stopped half
/// way, which a run or a rollback would refuse to go past; not while a run
/// or a rollback of it holds the lock (it may be that one, under way). A
/// record that cannot be read is for those commands to report.
fn stopped_step(repo: &Repo, name: &str, live: Option<&LiveRun>) -> Option<String> {
    if live.is_some_and(|l| l.milestone == name) {
        return None;
    }
    let unfinished = Unfinished::of(repo.git_dir(), name).ok()??;
    Some(format!(
        "{}.\n{}.",
        capitalized(&unfinished.what(name)),
        capitalized(&unfinished.next(name))
    ))
}

fn unknown(repo: &Repo, name: &str, found: &[Found]) -> Error {
    let e = Error::bad_input(format!(
        "no milestone named {name:?} has a status file in {BUNDLES_DIR}/"
    ));
    let listed: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    if let Some(why) = elsewhere::why_not_here(name, &elsewhere::find(repo, &listed)) {
        e.hint(why)
    } else if found.is_empty() {
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

/// `--exit-code`: [`glance::exit_code`] of the listed milestones; else 0.
fn exit_code(reports: &[Report], wanted: bool) -> i32 {
    if !wanted {
        return 0;
    }
    glance::exit_code(reports.iter().map(|r| r.state.run_state()))
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
    /// Tasks the recorded sequence skips, which have no record in `tasks`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_by_sequence: Vec<crate::state::SkippedStep>,
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
    /// The run's state; `None` for a file that cannot be read.
    fn run_state(self) -> Option<RunState> {
        match self {
            Shown::Running => Some(RunState::Running),
            Shown::Failed => Some(RunState::Failed),
            Shown::Interrupted => Some(RunState::Interrupted),
            Shown::Completed => Some(RunState::Completed),
            Shown::CompletedWithSkips => Some(RunState::CompletedWithSkips),
            Shown::Unreadable => None,
        }
    }

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
        let checkpoints = Checkpoints::read(repo, &found.name, status)?;
        let tasks: Vec<TaskJson> = status
            .tasks
            .iter()
            .map(|t| task_json(t, &checkpoints))
            .collect();
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
            current_task: status.current_task(),
            last_checkpoint,
            started_at: status.started_at.clone(),
            updated_at: Some(status.updated_at.clone()),
            failure: status.failure.clone(),
            usage: status.usage,
            tasks: with_tasks.then_some(tasks),
            skipped_by_sequence: status.skipped_by_sequence(),
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
            skipped_by_sequence: Vec::new(),
            records: Vec::new(),
        }
    }
}

/// A task's record, with its checkpoint as [`Checkpoints`] finds it for
/// any task that finished by running, done or skipped (the copy of the
/// file a checkpoint commits cannot name that checkpoint).
fn task_json(t: &TaskStatus, checkpoints: &Checkpoints) -> TaskJson {
    let checkpoint = matches!(t.state, TaskState::Done | TaskState::Skipped)
        .then(|| checkpoints.of(&t.id).map(str::to_string))
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
        checkpoint,
        usage: t.usage,
        history: t.history.clone(),
    }
}
