//! History: ancestry, the trailer walks (a milestone's checkpoints on the
//! branch, the commits after a checkpoint), and which commits were pushed.

use std::collections::HashSet;

use git2::Oid;

use super::{Repo, parse_oid};
use crate::error::{Context, Result};

/// How many commits of HEAD's first-parent line [`Repo::line_down_to`]
/// reads looking for a run's base before it leaves the walk to a revwalk,
/// which also stops where the line meets the base's history when the base
/// is off the line. A run adds a commit or two a task.
const QUICK_LINE: usize = 1000;

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
    /// `milestone`'s checkpoints on HEAD's first-parent line since `base`,
    /// by their trailers, as (task, commit) sorted by task, the newest
    /// for a task seen twice. Unlike the checkpoint refs, which all
    /// worktrees share, this is what this branch holds.
    pub fn checkpoints_on_branch(
        &self,
        milestone: &str,
        base: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut found: Vec<(String, String)> = Vec::new();
        self.each_since(base, |id, message| {
            // Read as git reads trailers, the same way rollback does.
            if trailer(message, "Milestone").as_deref() != Some(milestone) {
                return;
            }
            if let Some(task) = trailer(message, "Milestone-Task")
                && !found.iter().any(|(t, _)| *t == task)
            {
                found.push((task, id.to_string()));
            }
        })?;
        found.sort();
        Ok(found)
    }

    /// Call `each(commit, message)` for the commits on HEAD's first-parent
    /// line since `base`, newest first.
    fn each_since(&self, base: &str, mut each: impl FnMut(Oid, &str)) -> Result<()> {
        let head = parse_oid(&self.head_commit()?)?;
        // A base that is not an id just means a longer walk.
        let base = Oid::from_str(base).ok();
        if let Some(base) = base
            && let Some(line) = self.line_down_to(head, base, QUICK_LINE)?
        {
            for (id, message) in &line {
                each(*id, message);
            }
            return Ok(());
        }
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.simplify_first_parent()
            .context("cannot walk history")?;
        walk.push(head).context("cannot walk history")?;
        if let Some(base) = base {
            // A base that is gone (history rewritten) just means a longer walk.
            let _ = walk.hide(base);
        }
        for id in walk {
            let id = id.context("cannot walk history")?;
            let commit = self
                .inner
                .find_commit(id)
                .with_context(|| format!("cannot read commit {id}"))?;
            each(id, &String::from_utf8_lossy(commit.message_bytes()));
        }
        Ok(())
    }

    /// HEAD's first-parent line from `head` down to `base` (left out),
    /// newest first, with each commit's message; `None` when `base` is not
    /// on it within `limit` commits.
    ///
    /// Where `base` is on the line (a run's base always is, until history
    /// is rewritten) these are the commits a first-parent revwalk from
    /// `head` hiding `base` yields, without its reads of `base` and of
    /// the commits below it, which cost `status` more than the rest of its
    /// walk.
    fn line_down_to(
        &self,
        head: Oid,
        base: Oid,
        limit: usize,
    ) -> Result<Option<Vec<(Oid, String)>>> {
        let mut line = Vec::new();
        let mut next = Some(head);
        while let Some(id) = next {
            if id == base {
                return Ok(Some(line));
            }
            if line.len() == limit {
                break;
            }
            let commit = self
                .inner
                .find_commit(id)
                .with_context(|| format!("cannot read commit {id}"))?;
            next = commit.parent_ids().next();
            line.push((
                id,
                String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            ));
        }
        Ok(None)
    }

    /// The message of commit `oid`, as text.
    pub fn commit_message(&self, oid: &str) -> Result<String> {
        let c = self
            .inner
            .find_commit(parse_oid(oid)?)
            .with_context(|| format!("cannot read commit {oid}"))?;
        Ok(String::from_utf8_lossy(c.message_bytes()).into_owned())
    }

    /// Whether `oid` names a commit in this repository.
    pub fn commit_exists(&self, oid: &str) -> bool {
        Oid::from_str(oid).is_ok_and(|o| self.inner.find_commit(o).is_ok())
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

    /// A repository whose history is one line of commits `c0`..`c<n-1>`,
    /// and a root commit `off` beside it; (repo, line oldest first, off).
    fn line_of(n: usize) -> (tempfile::TempDir, Repo, Vec<Oid>, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(dir.path()).unwrap();
        let sig = git2::Signature::new("T", "t@example.invalid", &git2::Time::new(0, 0)).unwrap();
        let tree = git
            .find_tree(git.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let commit = |message: &str, parents: &[&git2::Commit]| {
            git.commit(None, &sig, &sig, message, &tree, parents)
                .unwrap()
        };
        let mut line: Vec<Oid> = Vec::new();
        for i in 0..n {
            let parent = line.last().map(|id| git.find_commit(*id).unwrap());
            line.push(commit(&format!("c{i}"), &parent.iter().collect::<Vec<_>>()));
        }
        let off = commit("off", &[]);
        drop(tree);
        (dir, Repo::from_git2(git).unwrap(), line, off)
    }

    #[test]
    fn the_quick_line_stops_at_the_base_and_gives_up_past_its_limit_or_the_root() {
        let (_dir, repo, c, off) = line_of(4);
        let ids = |line: Option<Vec<(Oid, String)>>| {
            line.map(|l| l.into_iter().map(|(id, _)| id).collect::<Vec<_>>())
        };
        let down = |base, limit| ids(repo.line_down_to(c[3], base, limit).unwrap());
        assert_eq!(down(c[0], 3), Some(vec![c[3], c[2], c[1]]));
        assert_eq!(down(c[3], 0), Some(vec![]), "HEAD is the base");
        assert_eq!(down(c[0], 2), None, "the base is further than the limit");
        assert_eq!(down(off, 10), None, "the base is off the line");
    }
}
