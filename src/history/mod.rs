//! A milestone's history read back from git: which commit is each task's
//! checkpoint (the one place that answers it), the checkpoints in branch
//! order with the commit before them, and on that the `log`, `bisect` and
//! `squash` commands' domain.

pub mod bisect;
mod index;
pub mod log;
pub mod probe;
pub mod squash;

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::state::Status;
use crate::ui::text::quote;
pub use index::Checkpoints;

/// Each task's checkpoint as (task, commit), sorted by task, by the one
/// rule of [`Checkpoints`].
pub fn checkpoints(repo: &Repo, name: &str, status: &Status) -> Result<Vec<(String, String)>> {
    Ok(Checkpoints::read(repo, name, status)?.all())
}

/// A milestone's checkpoints on HEAD's first-parent line, oldest first,
/// and the commit before the first of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The milestone's base: where its run started, when that is below the
    /// first checkpoint on the line (commits a task made itself sit between
    /// the two); else the first checkpoint's parent.
    pub base: String,
    /// (task, commit), oldest first.
    pub checkpoints: Vec<(String, String)>,
}

impl Line {
    /// The last checkpoint: the milestone's tip on this branch.
    pub fn tip(&self) -> &str {
        &self.checkpoints.last().expect("a line has a checkpoint").1
    }
}

/// The checkpoints of [`checkpoints`] that are on HEAD's first-parent
/// line, in branch order, with the base; a refusal when there is none.
pub fn line(repo: &Repo, name: &str, status: &Status) -> Result<Line> {
    let all = checkpoints(repo, name, status)?;
    let wanted: HashSet<String> = all.iter().map(|(_, c)| c.clone()).collect();
    let order = repo.first_parent_order(&wanted, status.base_commit.as_deref())?;
    let checkpoints: Vec<(String, String)> = order
        .iter()
        .filter_map(|c| all.iter().find(|(_, o)| o == c).cloned())
        .collect();
    let Some((_, first)) = checkpoints.first() else {
        return Err(Error::refused(format!(
            "{name} has no checkpoint on this branch's first-parent line"
        ))
        .hint(format!(
            "see where it stands: git milestone status {}",
            quote(name)
        )));
    };
    let base = match &status.base_commit {
        Some(b) if repo.commit_exists(b) && repo.is_ancestor(b, first)? && b != first => b.clone(),
        // The failure says no more than the refusal: libgit2 finds no parent.
        _ => repo.first_parent(first).map_err(|_| {
            Error::refused(format!(
                "the first checkpoint of {name} has no parent, so the milestone has no base"
            ))
        })?,
    };
    Ok(Line { base, checkpoints })
}

/// The refusal when a milestone has no status file in this work tree.
pub fn no_run(name: &str) -> Error {
    Error::refused(format!(
        "milestone {name} has no run in this work tree ({} is missing)",
        crate::state::status_rel_path(name).unwrap_or_default()
    ))
    .hint("list the milestones that have run: git milestone status")
}

/// The status file of milestone `name` (a key), or [`no_run`].
pub fn load(repo: &Repo, name: &str) -> Result<Status> {
    Status::load(repo.root(), name)?.ok_or_else(|| no_run(name))
}
