//! The record of a milestone's last rollback, in the local run journal
//! (`<git-dir>/milestone/<name>/last-rollback.json`): what `--undo`
//! restores, and how far the rollback got, so that one stopped half way
//! (Ctrl-C, SIGKILL, a full disk) is finished by the next command instead of
//! being mistaken for the user's work.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};
use crate::state;

const JOURNAL_FILE: &str = "last-rollback.json";

/// How far a rollback (or its undo) got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The work is saved and the work tree is being put back: a record
    /// still in this phase belongs to a rollback that was stopped.
    Restoring,
    /// The rollback finished; `--undo` may bring the work back.
    #[default]
    Done,
    /// `--undo` is putting the saved work back.
    Undoing,
}

/// What the last rollback did. Fields after `checkpoint` were added later:
/// an older record reads as a finished rollback with nothing else known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// The most complete save: taken before anything was changed.
    pub saved_ref: String,
    pub saved_commit: String,
    /// The checkpoint HEAD was put at.
    pub checkpoint: String,
    /// HEAD before the rollback.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub phase: Phase,
    /// Files the rollback kept as they were that the saved commit also
    /// holds (a task may commit an ignored or a pre-run file): `--undo`
    /// writes them, so it checks them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
    /// The untracked files the attempt created, given back to the task by
    /// `--undo` (a retry commits them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
    /// Saves made while finishing this rollback after it was stopped: less
    /// complete than `saved_ref`, listed by `--undo`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_saved: Vec<String>,
    /// Where `--undo --force` saved what it replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_undo: Vec<String>,
    /// HEAD when `--undo` started, while it is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_from: Option<String>,
}

impl Record {
    pub fn new(saved_ref: &str, saved_commit: &str, checkpoint: &str, from: &str) -> Record {
        Record {
            version: 1,
            saved_ref: saved_ref.to_string(),
            saved_commit: saved_commit.to_string(),
            checkpoint: checkpoint.to_string(),
            from: Some(from.to_string()),
            phase: Phase::Restoring,
            kept: Vec::new(),
            leftovers: Vec::new(),
            also_saved: Vec::new(),
            before_undo: Vec::new(),
            undo_from: None,
        }
    }
}

/// `<git-dir>/milestone/<name>/last-rollback.json`.
fn path(git_dir: &Path, name: &str) -> Result<PathBuf> {
    Ok(state::journal_dir(git_dir, name)?.join(JOURNAL_FILE))
}

/// The last rollback's record, if there is one.
pub fn read(git_dir: &Path, name: &str) -> Result<Option<Record>> {
    let path = path(git_dir, name)?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("cannot read {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write the record atomically (temp file, fsync, rename).
pub fn write(git_dir: &Path, name: &str, record: &Record) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(record).context("cannot encode the rollback record")?;
    state::write_atomically(&path(git_dir, name)?, &bytes)
}

/// Remove the record, and any kept files still parked.
pub fn remove(git_dir: &Path, name: &str) -> Result<()> {
    unpark_done(git_dir, name)?;
    let path = path(git_dir, name)?;
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Where a rollback parks the kept files its reset may overwrite, until
/// it has put them back (`Repo::restore_checkpoint`).
pub fn park_dir(git_dir: &Path, name: &str) -> Result<PathBuf> {
    Ok(state::journal_dir(git_dir, name)?.join("kept"))
}

/// Drop the parked copies once the rollback no longer needs them.
pub fn unpark_done(git_dir: &Path, name: &str) -> Result<()> {
    let dir = park_dir(git_dir, name)?;
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// A rollback, or an undo, of a milestone that was stopped half way: its
/// journal record still says it is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfinished {
    /// A rollback stopped after it saved the attempt's work in this ref.
    Rollback { saved_ref: String },
    /// `rollback --undo` stopped while it put the work back.
    Undo,
}

impl Unfinished {
    /// The unfinished rollback or undo of `name`, if any.
    pub fn of(git_dir: &Path, name: &str) -> Result<Option<Unfinished>> {
        Ok(read(git_dir, name)?.and_then(|record| match record.phase {
            Phase::Done => None,
            Phase::Restoring => Some(Unfinished::Rollback {
                saved_ref: record.saved_ref,
            }),
            Phase::Undoing => Some(Unfinished::Undo),
        }))
    }

    /// What did not finish.
    pub fn what(&self, name: &str) -> String {
        match self {
            Unfinished::Rollback { .. } => format!(
                "the last rollback of {name} did not finish; the work tree is half restored"
            ),
            Unfinished::Undo => format!("the last `{}` did not finish", undo_command(name)),
        }
    }

    /// What to do about it, with the commands.
    pub fn next(&self, name: &str) -> String {
        let quoted = crate::ui::text::quote(name);
        match self {
            Unfinished::Rollback { saved_ref } => format!(
                "its work is saved in {saved_ref}; finish the rollback with \
                 `git milestone rollback {quoted}`, or bring the work back with `{}`",
                undo_command(name)
            ),
            Unfinished::Undo => format!("finish it with `{}`", undo_command(name)),
        }
    }

    /// The refusal of a command that must not run while it is unfinished.
    pub fn refusal(&self, name: &str) -> Error {
        Error::refused(self.what(name)).hint(self.next(name))
    }
}

/// `git milestone rollback <name> --undo`.
fn undo_command(name: &str) -> String {
    crate::ui::text::command_line(&["git", "milestone", "rollback", name, "--undo"])
}

/// Refuse to start a run while a rollback (or an undo) of `name` is
/// unfinished: its work tree is half restored, and a retry would take it
/// for the task's work.
pub fn refuse_unfinished(git_dir: &Path, name: &str) -> Result<()> {
    match Unfinished::of(git_dir, name)? {
        Some(unfinished) => Err(unfinished.refusal(name)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_record_reads_as_a_finished_rollback() {
        let old = br#"{"version": 1, "saved_ref": "refs/milestone/M1/attempts/T/1",
            "saved_commit": "abc", "checkpoint": "def"}"#;
        let r: Record = serde_json::from_slice(old).unwrap();
        assert_eq!(r.phase, Phase::Done);
        assert_eq!(r.from, None);
        assert!(r.kept.is_empty() && r.also_saved.is_empty());
    }

    #[test]
    fn an_unfinished_undo_is_named_by_a_command_that_works() {
        assert_eq!(
            Unfinished::Undo.what("Phase 2"),
            "the last `git milestone rollback 'Phase 2' --undo` did not finish"
        );
        assert_eq!(
            Unfinished::Undo.next("Phase 2"),
            "finish it with `git milestone rollback 'Phase 2' --undo`"
        );
    }

    #[test]
    fn records_round_trip_and_an_unfinished_one_stops_a_run() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), "M1").unwrap(), None);
        refuse_unfinished(dir.path(), "M1").unwrap();
        let mut r = Record::new("refs/milestone/M1/attempts/T/1", "abc", "def", "123");
        write(dir.path(), "M1", &r).unwrap();
        assert_eq!(read(dir.path(), "M1").unwrap(), Some(r.clone()));
        let e = refuse_unfinished(dir.path(), "M1").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        r.phase = Phase::Done;
        write(dir.path(), "M1", &r).unwrap();
        refuse_unfinished(dir.path(), "M1").unwrap();
        remove(dir.path(), "M1").unwrap();
        remove(dir.path(), "M1").unwrap();
        assert_eq!(read(dir.path(), "M1").unwrap(), None);
    }
}
