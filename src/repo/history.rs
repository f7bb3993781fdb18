//! History as a rollback reads it: HEAD, refs, ancestry, the commits after
//! a checkpoint with their trailers, and which of them were pushed.

use std::collections::HashSet;

use git2::Oid;

use super::{Repo, parse_oid};
use crate::error::{Context, Result};

/// A commit that a rollback would take off the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardedCommit {
    pub oid: String,
    pub summary: String,
    /// The value of its `Milestone:` trailer, if any.
    pub milestone: Option<String>,
    /// The value of its `Milestone-Task:` trailer, if any.
    pub task: Option<String>,
}

impl Repo {
    /// The message of commit `oid`, as text.
    pub fn commit_message(&self, oid: &str) -> Result<String> {
        let c = self
            .inner
            .find_commit(parse_oid(oid)?)
            .with_context(|| format!("cannot read commit {oid}"))?;
        Ok(String::from_utf8_lossy(c.message_bytes()).into_owned())
    }

    /// HEAD's commit id; `None` on an unborn branch.
    pub fn head_if_born(&self) -> Result<Option<String>> {
        match self.inner.head() {
            Ok(r) => Ok(Some(
                r.peel_to_commit()
                    .context("cannot read the commit HEAD points at")?
                    .id()
                    .to_string(),
            )),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => Ok(None),
            Err(e) => Err(e).context("cannot read HEAD"),
        }
    }

    /// The commit a ref points at, `None` when the ref does not exist.
    pub fn ref_target(&self, name: &str) -> Result<Option<String>> {
        match self.inner.find_reference(name) {
            Ok(r) => Ok(Some(
                r.peel_to_commit()
                    .with_context(|| format!("{name} does not point at a commit"))?
                    .id()
                    .to_string(),
            )),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Refs under `prefix` (e.g. `refs/milestone/M1/checkpoints/`), as
    /// (name without the prefix, commit id), sorted by name.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let glob = format!("{prefix}*");
        let mut out = Vec::new();
        let refs = self
            .inner
            .references_glob(&glob)
            .with_context(|| format!("cannot list {glob}"))?;
        for r in refs {
            let r = r.with_context(|| format!("cannot read a ref under {prefix}"))?;
            let (Ok(name), Ok(commit)) = (r.name(), r.peel_to_commit()) else {
                continue;
            };
            out.push((name[prefix.len()..].to_string(), commit.id().to_string()));
        }
        out.sort();
        Ok(out)
    }

    /// Point `name` at `oid`, creating or moving it.
    pub fn set_ref(&self, name: &str, oid: &str, why: &str) -> Result<()> {
        self.inner
            .reference(name, parse_oid(oid)?, true, why)
            .map_err(|e| {
                super::preflight::ref_write_error(e, name, format!("cannot update {name} to {oid}"))
            })?;
        Ok(())
    }

    pub fn delete_ref(&self, name: &str) -> Result<()> {
        match self.inner.find_reference(name) {
            Ok(mut r) => r.delete().map_err(|e| {
                super::preflight::ref_write_error(e, name, format!("cannot delete {name}"))
            }),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
        }
    }

    /// Whether `oid` names a commit in this repository.
    pub fn commit_exists(&self, oid: &str) -> bool {
        Oid::from_str(oid).is_ok_and(|o| self.inner.find_commit(o).is_ok())
    }

    /// Whether git accepts `name` as a full ref name.
    pub fn is_valid_ref_name(name: &str) -> bool {
        git2::Reference::is_valid_name(name)
    }

    /// Whether `ancestor` is `commit` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, commit: &str) -> Result<bool> {
        let (a, c) = (parse_oid(ancestor)?, parse_oid(commit)?);
        Ok(a == c
            || self
                .inner
                .graph_descendant_of(c, a)
                .with_context(|| format!("cannot compare {ancestor} with {commit}"))?)
    }

    /// The first commit on HEAD's first-parent line that is in `wanted`.
    pub fn first_on_head_line(&self, wanted: &HashSet<String>) -> Result<Option<String>> {
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.push_head().context("cannot walk history from HEAD")?;
        walk.simplify_first_parent()
            .context("cannot walk history")?;
        for oid in walk {
            let oid = oid.context("cannot walk history from HEAD")?.to_string();
            if wanted.contains(&oid) {
                return Ok(Some(oid));
            }
        }
        Ok(None)
    }

    /// Commits reachable from `head` but not from `target`, newest first.
    pub fn commits_after(&self, target: &str, head: &str) -> Result<Vec<DiscardedCommit>> {
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        let (head_oid, target_oid) = (parse_oid(head)?, parse_oid(target)?);
        walk.push(head_oid)
            .and_then(|()| walk.hide(target_oid))
            .with_context(|| format!("cannot walk history from {head} to {target}"))?;
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.with_context(|| format!("cannot walk history from {head}"))?;
            let c = self
                .inner
                .find_commit(oid)
                .with_context(|| format!("cannot read commit {oid}"))?;
            let message = String::from_utf8_lossy(c.message_bytes());
            out.push(DiscardedCommit {
                oid: oid.to_string(),
                summary: message.lines().next().unwrap_or("").to_string(),
                milestone: trailer(&message, "Milestone"),
                task: trailer(&message, "Milestone-Task"),
            });
        }
        Ok(out)
    }

    /// Which of `commits` are reachable from a remote-tracking ref
    /// (`refs/remotes/*`, which includes every branch's upstream).
    pub fn pushed(&self, commits: &[String]) -> Result<Vec<String>> {
        if commits.is_empty() {
            return Ok(Vec::new());
        }
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        for c in commits {
            walk.push(parse_oid(c)?)
                .with_context(|| format!("cannot walk history from {c}"))?;
        }
        walk.hide_glob("refs/remotes/*")
            .context("cannot read the remote-tracking refs")?;
        let unpushed: HashSet<String> =
            walk.filter_map(|o| o.ok()).map(|o| o.to_string()).collect();
        Ok(commits
            .iter()
            .filter(|c| !unpushed.contains(*c))
            .cloned()
            .collect())
    }
}

/// The last value of trailer `key` in a commit message.
pub(super) fn trailer(message: &str, key: &str) -> Option<String> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    trailers
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_trailer_of_a_kind() {
        let msg = "Do it\n\nbody\n\nMilestone: M1\nMilestone-Task: TASK-002\n";
        assert_eq!(trailer(msg, "Milestone").as_deref(), Some("M1"));
        assert_eq!(trailer(msg, "milestone-task").as_deref(), Some("TASK-002"));
        assert_eq!(trailer("no trailers here", "Milestone"), None);
    }
}
