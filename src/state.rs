//! The status file `.milestone_bundles/<name>/status.json`: its versioned
//! schema, where it lives, and how it is read and written (atomically).
//!
//! The file is committed with every checkpoint, so the pre-push hook and
//! `status` can read a milestone's state from refs alone.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};

mod attempt;
pub mod glance;
mod layout;
mod sequence;
mod transition;
mod untracked;
pub use crate::files::{now, replace_file, write_atomically};
pub use crate::milestone::{
    BUNDLES_DIR, MAX_NAME_BYTES, STATUS_FILE, bundle_dir, journal_dir, milestone_key, resolve_key,
    status_rel_path, validate_name,
};
pub use attempt::{Attempt, Check, total as total_usage};
pub use sequence::{Sequence, SkippedStep, Step};
pub use transition::Planned;
pub use untracked::Untracked;

/// The schema version this build writes. A file with a larger version is
/// refused rather than misread. Version 2 added each attempt's record
/// (`history`) and the usage totals. Version 3 writes each task on one
/// line and leaves out what changes with every write (`updated_at`, the
/// milestone's usage, each task's checkpoint), so that a checkpoint's diff
/// of the file is a line or two. Files of versions 1 and 2 read as before,
/// and are written as version 3 (`layout::migrate`).
pub const STATUS_VERSION: u32 = 3;

/// The whole state of one milestone's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub version: u32,
    pub milestone: String,
    /// The plan file, relative to the repository root.
    pub plan: String,
    pub state: RunState,
    /// When the first task of this run started (RFC 3339).
    pub started_at: Option<String>,
    /// When the run last changed (RFC 3339). Not written since version 3:
    /// read, it is the latest time the file records.
    #[serde(default, skip_serializing)]
    pub updated_at: String,
    /// HEAD when the run started: the checkpoint before the first task.
    pub base_commit: Option<String>,
    /// The tasks in execution order.
    pub tasks: Vec<TaskStatus>,
    /// The last failure, while the milestone is failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Tokens and cost of every attempt so far, when agents reported them.
    /// Not written since version 3: read, it is the tasks' added up.
    #[serde(default, skip_serializing)]
    pub usage: Option<crate::agent::Usage>,
    /// The sequence the user confirmed (order and skipped tasks), which
    /// later runs follow. Added within version 1: older files have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Sequence>,
}

/// Where a milestone's run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Some tasks have checkpoints, others are still to run.
    Running,
    /// A task failed and the run stopped.
    Failed,
    /// The run was stopped by a signal during a task.
    Interrupted,
    /// Every task is done (or done in the plan).
    Completed,
    /// Every task is finished, and at least one was skipped (its runner
    /// exited 125, or `--on-failure skip`): its changes are saved under an
    /// attempt ref, not in the branch. Older files record this as
    /// `completed`.
    CompletedWithSkips,
}

impl RunState {
    /// Completed, with or without skipped tasks.
    pub fn is_completed(self) -> bool {
        matches!(self, RunState::Completed | RunState::CompletedWithSkips)
    }
}

/// One task's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub id: String,
    /// The plan's label when it has a unit word (`Task 3`, `Phase 6`), for
    /// messages that read the status file alone (the pre-push check,
    /// squash). Files written before it was recorded have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub title: String,
    pub state: TaskState,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The checkpoint commit, while a run holds it. Not written since
    /// version 3: the copy a checkpoint commits cannot name that very
    /// checkpoint, so writing it would change the line of the task before
    /// in every checkpoint. Its trailers and `refs/milestone/<name>/checkpoints/<ID>`
    /// name it (`history::checkpoints`).
    #[serde(default, skip_serializing)]
    pub checkpoint: Option<String>,
    /// Commits the runner made itself, kept below the checkpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted_commits: Vec<String>,
    /// Each attempt, oldest first: outcome, usage, checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Attempt>,
    /// The task's tokens and cost, all attempts together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<crate::agent::Usage>,
}

impl TaskStatus {
    /// How messages name it: `Task 3` rather than `3` (see
    /// [`crate::ui::text::task_name`]).
    pub fn name(&self) -> &str {
        crate::ui::text::task_name(&self.id, self.label.as_deref())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Pending,
    Running,
    Done,
    /// The plan document already marks it done; it was not run.
    DoneInPlan,
    /// The runner exited 125, or the failure policy skipped it.
    Skipped,
    Failed,
    Interrupted,
}

impl TaskState {
    /// Done, done in the plan, or skipped: never run again, and counted as
    /// progress.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskState::Done | TaskState::DoneInPlan | TaskState::Skipped
        )
    }
}

/// The failure that stopped the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub task: String,
    pub at: String,
    /// The runner's exit code; unset when it was killed by a signal or timed out.
    pub exit_code: Option<i32>,
    pub attempts: u32,
    pub rolled_back: bool,
    /// The ref that keeps the failed attempt's work, once rolled back.
    #[serde(default)]
    pub saved_ref: Option<String>,
    /// HEAD right after the failed attempt. Commits up to it that follow the
    /// last checkpoint are the task's own, which a rollback may take off the
    /// branch without `--force`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

/// Refuse to read or write a bundle through a symbolic link: a committed
/// `.milestone_bundles` (or `<name>`, or `status.json`) symlink would send
/// the status file outside the repository. `.milestone_bundles` and
/// `<name>` must each be a real directory and `status.json` a regular file,
/// or not exist yet.
pub fn check_bundle_path(root: &Path, name: &str) -> Result<()> {
    let dir = bundle_dir(root, name)?;
    let rel = status_rel_path(name)?;
    let parts = [
        (root.join(BUNDLES_DIR), BUNDLES_DIR.to_string(), true),
        (dir.clone(), format!("{BUNDLES_DIR}/{name}"), true),
        (dir.join(STATUS_FILE), rel, false),
    ];
    for (path, shown, want_dir) in parts {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let kind = meta.file_type();
        let fits = if want_dir {
            kind.is_dir()
        } else {
            kind.is_file()
        };
        if !fits {
            let what = if kind.is_symlink() {
                "a symbolic link"
            } else if want_dir {
                "not a directory"
            } else {
                "not a regular file"
            };
            return Err(Error::refused(format!(
                "{shown} is {what}; git-milestone reads and writes only real files there"
            ))
            .hint(format!(
                "{}, then run the command again",
                removal_hint(&path)
            )));
        }
    }
    Ok(())
}

/// How to remove what stands where a bundle should be: `rm -r` takes a
/// file, a link (not what it points at) or a directory, and an absolute
/// path works from any directory.
pub fn removal_hint(path: &Path) -> String {
    format!(
        "remove it with `rm -r {}` (and commit the removal if it was committed)",
        crate::ui::text::quote_path(path)
    )
}

impl Status {
    /// Parse a status file's bytes; `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Status> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| corrupted(origin, e))?;
        if probe.version > STATUS_VERSION {
            return Err(Error::refused(format!(
                "{origin} has format version {}, newer than this git-milestone understands ({STATUS_VERSION})",
                probe.version
            ))
            .hint("upgrade git-milestone, or run with `--restart` to start the milestone over"));
        }
        let mut status: Status = serde_json::from_slice(bytes).map_err(|e| corrupted(origin, e))?;
        layout::migrate(&mut status);
        Ok(status)
    }

    /// Read the status file under `root` for `name`; `None` when there is none.
    pub fn load(root: &Path, name: &str) -> Result<Option<Status>> {
        check_bundle_path(root, name)?;
        let path = bundle_dir(root, name)?.join(STATUS_FILE);
        match fs::read(&path) {
            Ok(bytes) => Status::parse(&bytes, &status_rel_path(name)?).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Write the status file under `root` atomically: temp file, fsync, rename.
    pub fn save(&self, root: &Path) -> Result<()> {
        check_bundle_path(root, &self.milestone)?;
        let dir = bundle_dir(root, &self.milestone)?;
        let bytes = layout::encode(self).context("cannot encode the status file")?;
        write_atomically(&dir.join(STATUS_FILE), &bytes)
    }

    pub fn task(&self, id: &str) -> Option<&TaskStatus> {
        self.tasks.iter().find(|t| t.id == id)
    }

    pub fn task_mut(&mut self, id: &str) -> Option<&mut TaskStatus> {
        self.tasks.iter_mut().find(|t| t.id == id)
    }

    /// How a run whose every task is finished ends: completed, or
    /// completed with skipped tasks.
    pub fn finished_state(&self) -> RunState {
        if self.tasks.iter().any(|t| t.state == TaskState::Skipped) {
            RunState::CompletedWithSkips
        } else {
            RunState::Completed
        }
    }

    /// The tasks that were skipped, in order.
    pub fn skipped(&self) -> Vec<&str> {
        self.tasks
            .iter()
            .filter(|t| t.state == TaskState::Skipped)
            .map(|t| t.id.as_str())
            .collect()
    }

    /// (tasks done, done in plan or skipped; all tasks)
    pub fn progress(&self) -> (usize, usize) {
        let finished = self.tasks.iter().filter(|t| t.state.is_finished()).count();
        (finished, self.tasks.len())
    }
}

fn corrupted(origin: &str, e: serde_json::Error) -> Error {
    // `:/` makes the path the root's, so the command works from any subdirectory.
    let path = crate::ui::text::quote(&format!(":/{origin}"));
    Error::refused(format!("{origin} is not a valid status file"))
        .with_cause(e)
        .hint(format!(
            "nothing was changed; restore the last checkpoint's with `git checkout HEAD -- {path}`, \
             or run with `--restart` to start over"
        ))
}

/// Remove temp files a killed run left in the milestone's bundle
/// directory (see [`write_atomically`]), so no checkpoint commits them.
/// Call only while holding the run lock: then no writer is alive.
pub fn remove_stale_temp_files(root: &Path, name: &str) -> Result<()> {
    let dir = bundle_dir(root, name)?;
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(".tmp-") {
            fs::remove_file(e.path())
                .with_context(|| format!("cannot remove {}", e.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Status {
        Status {
            version: STATUS_VERSION,
            milestone: "M1".into(),
            plan: "docs/plan.md".into(),
            state: RunState::Running,
            started_at: Some("2026-01-01T00:00:00Z".into()),
            updated_at: "2026-01-01T00:00:00Z".into(),
            base_commit: None,
            tasks: vec![TaskStatus {
                id: "TASK-001".into(),
                label: None,
                title: "First".into(),
                state: TaskState::Done,
                attempts: 1,
                started_at: None,
                ended_at: None,
                duration_ms: Some(5),
                exit_code: Some(0),
                checkpoint: None,
                adopted_commits: vec![],
                history: Vec::new(),
                usage: None,
            }],
            failure: None,
            usage: None,
            sequence: None,
        }
    }

    #[test]
    fn round_trips_through_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample();
        s.save(dir.path()).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &fs::metadata(dir.path().join(".milestone_bundles/M1/status.json"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o644);
        assert_eq!(Status::load(dir.path(), "M1").unwrap(), Some(s));
        assert_eq!(Status::load(dir.path(), "M2").unwrap(), None);
    }

    #[test]
    fn each_task_is_one_line_and_nothing_changes_with_every_write() {
        let mut s = sample();
        s.tasks.push(TaskStatus {
            id: "TASK-002".into(),
            label: None,
            title: "Second".into(),
            state: TaskState::Pending,
            attempts: 0,
            duration_ms: None,
            exit_code: None,
            ..s.tasks[0].clone()
        });
        s.tasks[0].checkpoint = Some("abc".into());
        let text = String::from_utf8(layout::encode(&s).unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{
  "version": 3,
  "milestone": "M1",
  "plan": "docs/plan.md",
  "state": "running",
  "started_at": "2026-01-01T00:00:00Z",
  "base_commit": null,
  "tasks": [
    {"id": "TASK-001", "title": "First", "state": "done", "attempts": 1, "duration_ms": 5, "exit_code": 0},
    {"id": "TASK-002", "title": "Second", "state": "pending", "attempts": 0}
  ]
}
"#
        );
        s.tasks[0].checkpoint = None;
        assert_eq!(Status::parse(text.as_bytes(), "x").unwrap(), s);
    }

    /// A version-1 file as version 1 wrote it: pretty, with `updated_at`,
    /// checkpoints, and no attempt records.
    const VERSION_1: &str = r#"{
  "version": 1,
  "milestone": "M1",
  "plan": "plan.md",
  "state": "failed",
  "started_at": "2026-01-01T00:00:00Z",
  "updated_at": "2026-01-01T00:09:00Z",
  "base_commit": "1111111111111111111111111111111111111111",
  "tasks": [
    {
      "id": "T1",
      "title": "One",
      "state": "done",
      "attempts": 1,
      "started_at": "2026-01-01T00:00:01Z",
      "ended_at": "2026-01-01T00:00:02Z",
      "duration_ms": 1000,
      "exit_code": 0,
      "checkpoint": "2222222222222222222222222222222222222222"
    },
    {
      "id": "T2",
      "title": "Two",
      "state": "failed",
      "attempts": 2,
      "started_at": "2026-01-01T00:00:03Z",
      "ended_at": "2026-01-01T00:00:04Z",
      "duration_ms": 1000,
      "exit_code": 3,
      "checkpoint": null
    }
  ],
  "failure": {
    "task": "T2",
    "at": "2026-01-01T00:00:04Z",
    "exit_code": 3,
    "attempts": 2,
    "rolled_back": false,
    "saved_ref": null
  }
}
"#;

    #[test]
    fn a_version_1_file_migrates_to_the_current_version() {
        let s = Status::parse(VERSION_1.as_bytes(), "x").unwrap();
        assert_eq!(s.version, STATUS_VERSION);
        assert_eq!(s.updated_at, "2026-01-01T00:09:00Z", "its own time is kept");
        assert_eq!(
            s.tasks[0].checkpoint.as_deref(),
            Some("2222222222222222222222222222222222222222")
        );
        assert_eq!(s.tasks[1].exit_code, Some(3));
        assert!(s.tasks.iter().all(|t| t.history.is_empty()));
        assert_eq!(s.failure.as_ref().unwrap().attempts, 2);
        // Written back, it is a version-3 file, and reads as the same record
        // but for what version 3 no longer writes.
        let dir = tempfile::tempdir().unwrap();
        s.save(dir.path()).unwrap();
        let text =
            fs::read_to_string(dir.path().join(".milestone_bundles/M1/status.json")).unwrap();
        assert!(text.starts_with("{\n  \"version\": 3,\n"), "{text}");
        assert!(
            !text.contains("updated_at") && !text.contains("checkpoint"),
            "{text}"
        );
        let again = Status::load(dir.path(), "M1").unwrap().unwrap();
        assert_eq!(again.tasks[0].checkpoint, None);
        assert_eq!(
            again.updated_at, "2026-01-01T00:00:04Z",
            "the latest time recorded"
        );
        let mut expected = s.clone();
        expected.tasks[0].checkpoint = None;
        expected.updated_at = again.updated_at.clone();
        assert_eq!(again, expected);
    }

    #[test]
    fn a_version_2_file_keeps_its_usage_and_a_version_3_one_adds_it_up() {
        let v2 = r#"{"version": 2, "milestone": "M1", "plan": "p.md", "state": "running",
            "started_at": null, "updated_at": "2026-01-01T00:00:00Z", "base_commit": null,
            "tasks": [{"id": "A", "title": "a", "state": "done", "attempts": 1,
                "usage": {"input_tokens": 10, "output_tokens": 5}},
              {"id": "B", "title": "b", "state": "done", "attempts": 1,
                "usage": {"input_tokens": 1, "output_tokens": 1}}],
            "usage": {"input_tokens": 11, "output_tokens": 6}}"#;
        let s = Status::parse(v2.as_bytes(), "x").unwrap();
        assert_eq!(s.version, 3);
        let total = s.usage.unwrap();
        assert_eq!((total.input_tokens, total.output_tokens), (11, 6));
        let v3 = layout::encode(&s).unwrap();
        assert!(!String::from_utf8_lossy(&v3).contains("\"usage\": {\"input_tokens\": 11"));
        assert_eq!(Status::parse(&v3, "x").unwrap().usage, s.usage);
    }

    #[test]
    fn refuses_newer_and_corrupted_files() {
        let newer = br#"{"version": 99}"#;
        let e = Status::parse(newer, "x").unwrap_err();
        assert!(e.message().contains("newer"), "{e}");
        let e = Status::parse(b"{\"version\": 1, \"milest", "x").unwrap_err();
        assert!(
            e.to_string()
                .contains("restore the last checkpoint's with `git checkout HEAD -- :/x`"),
            "{e}"
        );
        assert!(e.message().contains("not a valid status file"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn names_that_escape_the_bundle_dir_are_refused() {
        for bad in [
            "", "..", "../x", "a/b", ".hidden", "a\\b", "x.lock", "-rf", "a b", "a\0b",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["M1", "phase-2", "v1.5", "auth_v2", "Milestone-10"] {
            assert!(validate_name(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn resolve_key_finds_the_bundle_whatever_the_case() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(resolve_key(root, "Phase 2").unwrap(), "Phase-2");
        fs::create_dir_all(root.join(BUNDLES_DIR).join("M1")).unwrap();
        assert_eq!(resolve_key(root, "m1").unwrap(), "M1");
        assert_eq!(resolve_key(root, "M1").unwrap(), "M1");
        assert_eq!(resolve_key(root, "m2").unwrap(), "m2");
        fs::create_dir_all(root.join(BUNDLES_DIR).join("AB")).unwrap();
        fs::create_dir_all(root.join(BUNDLES_DIR).join("ab")).unwrap();
        assert_eq!(resolve_key(root, "ab").unwrap(), "ab");
        let e = resolve_key(root, "Ab").unwrap_err();
        assert!(e.message().contains("AB, ab"), "{e}");
        fs::create_dir_all(root.join(BUNDLES_DIR).join("Milestone-2")).unwrap();
        assert_eq!(resolve_key(root, "M2").unwrap(), "Milestone-2");
        assert_eq!(resolve_key(root, "milestone 2").unwrap(), "Milestone-2");
        assert_eq!(resolve_key(root, "M1 Core").unwrap(), "M1-Core");
    }

    #[test]
    fn keys_turn_white_space_into_dashes_and_still_refuse_traversal() {
        assert_eq!(milestone_key("Phase 2").unwrap(), "Phase-2");
        assert_eq!(milestone_key("  M1 \t Core ").unwrap(), "M1-Core");
        assert_eq!(milestone_key("M1").unwrap(), "M1");
        for bad in ["", "   ", "../x", "a/b", ". x", "x.lock"] {
            assert!(milestone_key(bad).is_err(), "{bad:?} accepted");
        }
    }
}
