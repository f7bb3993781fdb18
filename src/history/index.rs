//! Which commit is each task's checkpoint: the one rule that `run`,
//! `rollback`, `status`, `log`, `bisect` and `squash` share.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::repo::Repo;
use crate::state::{Status, TaskState};

/// A milestone's checkpoints as this work tree sees them.
///
/// The checkpoint refs are shared by every worktree, and another one may
/// run a milestone of the same name: for a task the status file records as
/// finished (done or skipped), the commit in this branch's history since
/// the run began that carries its trailers comes first, then the status
/// file's own record (it was committed on this branch), and only then the
/// ref. A commit with the trailers of a task this run has not finished is
/// an earlier run's (rebased, say), not a checkpoint of this one.
#[derive(Debug, Default)]
pub struct Checkpoints {
    /// Finished tasks' commits on HEAD's first-parent line since the base.
    on_branch: BTreeMap<String, String>,
    /// Finished tasks' checkpoints as the status file records them.
    recorded: BTreeMap<String, String>,
    /// Every checkpoint ref of the milestone.
    refs: BTreeMap<String, String>,
}

impl Checkpoints {
    /// Read the checkpoints of milestone `name` (a key) with its `status`.
    pub fn read(repo: &Repo, name: &str, status: &Status) -> Result<Checkpoints> {
        let finished = |task: &str| {
            status
                .tasks
                .iter()
                .any(|t| t.id == task && matches!(t.state, TaskState::Done | TaskState::Skipped))
        };
        let on_branch = match &status.base_commit {
            Some(base) => repo
                .checkpoints_on_branch(name, base)?
                .into_iter()
                .filter(|(task, _)| finished(task))
                .collect(),
            None => BTreeMap::new(),
        };
        let recorded = status
            .tasks
            .iter()
            .filter(|t| finished(&t.id))
            .filter_map(|t| Some((t.id.clone(), t.checkpoint.clone()?)))
            .collect();
        Ok(Checkpoints {
            on_branch,
            recorded,
            refs: repo.checkpoint_refs(name)?,
        })
    }

    /// Task `task`'s checkpoint: on this branch, else as recorded, else
    /// its ref.
    pub fn of(&self, task: &str) -> Option<&str> {
        self.on_branch
            .get(task)
            .or_else(|| self.recorded.get(task))
            .or_else(|| self.refs.get(task))
            .map(String::as_str)
    }

    /// Task `task`'s checkpoint when this branch holds it: the commit on
    /// the branch that carries its trailers, else its recorded or ref
    /// commit when HEAD descends from it. A run resumes only from these.
    pub fn on_branch(&self, repo: &Repo, task: &str) -> Result<Option<String>> {
        if let Some(c) = self.on_branch.get(task) {
            return Ok(Some(c.clone()));
        }
        let Some(head) = repo.head_if_born()? else {
            return Ok(None);
        };
        for c in [self.recorded.get(task), self.refs.get(task)]
            .into_iter()
            .flatten()
        {
            if repo.commit_exists(c) && repo.is_ancestor(c, &head)? {
                return Ok(Some(c.clone()));
            }
        }
        Ok(None)
    }

    /// Every task's checkpoint by [`Checkpoints::of`], as (task, commit)
    /// sorted by task: those with a ref and no other record included.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut tasks: Vec<&String> = self
            .on_branch
            .keys()
            .chain(self.recorded.keys())
            .chain(self.refs.keys())
            .collect();
        tasks.sort();
        tasks.dedup();
        tasks
            .into_iter()
            .filter_map(|t| Some((t.clone(), self.of(t)?.to_string())))
            .collect()
    }
}
