//! Where a milestone's sequence is kept: in its status file (committed with
//! every checkpoint, so a teammate or another worktree continuing the run
//! follows the same order), or, before its first run, when there is no
//! status file yet, in the local journal, which that first run moves into
//! the status file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Sequence;
use crate::error::{Context, Error, Result};
use crate::repo::Repo;
use crate::state::{self, Status};

/// The journal file's format version.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct JournalFile {
    version: u32,
    sequence: Sequence,
}

/// Where [`save`] kept a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// In `.milestone_bundles/<key>/status.json`.
    StatusFile,
    /// In `<git-dir>/milestone/<key>/sequence.json`, until the first run.
    Journal,
}

fn journal_path(repo: &Repo, key: &str) -> Result<PathBuf> {
    Ok(state::journal_dir(repo.git_dir(), key)?.join("sequence.json"))
}

/// The recorded sequence of milestone `key`: `status`'s (the status file,
/// as read), or with no status file the journal's.
pub fn load(repo: &Repo, key: &str, status: Option<&Status>) -> Result<Option<Sequence>> {
    if let Some(seq) = status.and_then(|s| s.sequence.as_ref()) {
        return Ok(Some(seq.clone()));
    }
    let path = journal_path(repo, key)?;
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let bad = |cause: anyhow::Error| {
        Error::refused(format!(
            "{} is not a sequence this git-milestone can read",
            path.display()
        ))
        .with_cause(cause)
        .hint(format!(
            "remove it (`rm {}`) and confirm the sequence again",
            crate::ui::text::quote_path(&path)
        ))
    };
    let file: JournalFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.into()))?;
    if file.version > VERSION {
        return Err(bad(anyhow::anyhow!("format version {}", file.version)));
    }
    Ok(Some(file.sequence))
}

/// Record `seq` for milestone `key`: in its status file when it has one,
/// else in the journal. Call under the run lock.
pub fn save(repo: &Repo, key: &str, seq: &Sequence) -> Result<Kept> {
    if let Some(mut status) = Status::load(repo.root(), key)? {
        status.follow(seq.clone());
        status.save(repo.root())?;
        settle(repo, key)?;
        return Ok(Kept::StatusFile);
    }
    let file = JournalFile {
        version: VERSION,
        sequence: seq.clone(),
    };
    let mut bytes = serde_json::to_vec_pretty(&file).context("cannot encode the sequence")?;
    bytes.push(b'\n');
    state::write_atomically(&journal_path(repo, key)?, &bytes)?;
    Ok(Kept::Journal)
}

/// Forget the journal's copy once the status file holds the sequence.
pub fn settle(repo: &Repo, key: &str) -> Result<()> {
    let path = journal_path(repo, key)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}
