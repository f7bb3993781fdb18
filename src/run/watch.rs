//! What a task did to HEAD, checked before its checkpoint: whether it
//! switched branches, and which new commits are its own.
//!
//! The task's processes get `GIT_REFLOG_ACTION` set to a marker unique to
//! the task and the run; git writes it into the reflog entry of each ref
//! update it makes for them (`commit`, `merge`, `reset`, `rebase`, `am`,
//! `cherry-pick`). New commits count as the task's only when the branch's
//! reflog since the task started is one chain of such entries from where
//! the task started to HEAD. A commit made from another terminal has git's
//! own reflog message (`commit: …`) and stops the task; so does one made by
//! a tool that ignores `GIT_REFLOG_ACTION` (libgit2-based tools) or writes
//! no reflog entry. A commit carries no trace of the process that made it,
//! so this is the evidence there is; the README says what it cannot see.

use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::repo::head::Moved;
use crate::repo::head::RefUpdate;
use crate::ui::text;

/// The variable git reads the marker from.
pub const MARKER_VAR: &str = "GIT_REFLOG_ACTION";

/// Where HEAD was when a task started, and how to recognise its updates.
#[derive(Debug, Clone)]
pub struct Watch {
    /// HEAD's commit when the task started.
    pub before: String,
    /// The branch HEAD was on (`refs/heads/...`), `None` when detached.
    branch: Option<String>,
    /// The newest entry of the watched reflog when the task started.
    tip: Option<RefUpdate>,
    marker: String,
}

/// What the task did to HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Nothing: HEAD is where the task started.
    Stayed,
    /// The task made these commits on top (oldest first).
    Ahead(Vec<String>),
    /// HEAD is on another branch now (`None`: detached).
    Switched {
        from: Option<String>,
        to: Option<String>,
    },
    /// HEAD no longer descends from where the task started.
    Elsewhere(String),
    /// `commit` reached the branch, but not from the task's processes:
    /// `how` is its reflog message, or why there is none.
    Foreign { commit: String, how: String },
}

impl Watch {
    /// Note where HEAD is as task `task` of `milestone` starts.
    pub fn start(repo: &Repo, milestone: &str, task: &str) -> Result<Watch> {
        let branch = repo.head_branch();
        let tip = repo.reflog_tip(branch.as_deref().unwrap_or("HEAD"))?;
        // Unique to this task in this run: a marker a user's shell does not
        // happen to have.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id();
        Ok(Watch {
            before: repo.head_commit()?,
            branch,
            tip,
            marker: format!("git-milestone {milestone} {task} {nonce:08x}"),
        })
    }

    /// The variable to set in the task's environment.
    pub fn env(&self) -> (&'static str, String) {
        (MARKER_VAR, self.marker.clone())
    }

    /// What the task did to HEAD since it started.
    pub fn check(&self, repo: &Repo) -> Result<Seen> {
        let now = repo.head_branch();
        if now != self.branch {
            return Ok(Seen::Switched {
                from: self.branch.clone(),
                to: now,
            });
        }
        let ids = match repo.head_moved_since(&self.before)? {
            Moved::Stayed => return Ok(Seen::Stayed),
            Moved::Elsewhere(head) => return Ok(Seen::Elsewhere(head)),
            Moved::Ahead(ids) => ids,
        };
        let log = self.branch.as_deref().unwrap_or("HEAD");
        let Some(entries) = repo.reflog_since(log, self.tip.as_ref())? else {
            return Ok(Seen::Foreign {
                commit: ids.last().cloned().unwrap_or_default(),
                how: format!("the reflog of {log} was rewritten while the task ran"),
            });
        };
        let head = ids.last().cloned().unwrap_or_default();
        Ok(match follow(&self.before, &entries, &self.marker) {
            (_, Some(other)) => Seen::Foreign {
                commit: other.new.clone(),
                how: format!("its reflog entry says {:?}", other.message),
            },
            (reached, None) if reached != head => Seen::Foreign {
                commit: first_after(&ids, &reached),
                how: "it has no reflog entry".to_string(),
            },
            _ => Seen::Ahead(ids),
        })
    }

    /// The last commit the task's own updates took the branch to (for
    /// `rollback`: commits up to it are the failed task's own).
    pub fn own_head(&self, repo: &Repo) -> Result<String> {
        if repo.head_branch() != self.branch {
            return Ok(self.before.clone());
        }
        let log = self.branch.as_deref().unwrap_or("HEAD");
        Ok(match repo.reflog_since(log, self.tip.as_ref())? {
            Some(entries) => follow(&self.before, &entries, &self.marker).0,
            None => self.before.clone(),
        })
    }
}

/// The error for a task whose checkpoint cannot follow what it did to HEAD
/// (`seen`: anything but `Stayed` and `Ahead`).
/// `again` is the command that continues the run.
pub fn refusal(repo: &Repo, id: &str, again: &str, watch: &Watch, seen: &Seen) -> Error {
    let short = |c: &str| crate::repo::short_oid(c).to_string();
    let again = format!("`{again}`");
    match seen {
        Seen::Switched { from, to } => {
            let back = match from {
                Some(b) => format!("git switch {}", text::quote(branch_name(b))),
                None => format!("git switch --detach {}", short(&watch.before)),
            };
            Error::failed(format!(
                "{id} switched HEAD from {} to {}; no checkpoint was made",
                describe_head(from.as_deref(), &watch.before),
                describe_head(to.as_deref(), &repo.head_commit().unwrap_or_default()),
            ))
            .hint(format!(
                "its changes are kept in the work tree: switch back with `{back}`, then run {again}"
            ))
        }
        Seen::Foreign { commit, how } => Error::failed(format!(
            "{id}: commit {} ({}) reached {} while the task ran, but not from the task's processes ({how}); no checkpoint was made",
            short(commit),
            text::quote(&repo.commit_subject(commit)),
            describe_head(watch.branch.as_deref(), commit),
        ))
        .hint(format!(
            "the commit stays on the branch, not counted as {id}'s: {again} runs {id} again on top of it, and a rollback takes it off only with --force"
        )),
        Seen::Elsewhere(head) => Error::failed(format!(
            "{id} moved HEAD to {} which does not descend from {}, where the task started; no checkpoint was made",
            short(head),
            short(&watch.before)
        ))
        .hint(format!(
            "inspect with `git log --oneline {0} {1}`, put the branch back with `git reset --keep {0}`, then run {again}",
            short(&watch.before),
            short(head),
        )),
        Seen::Stayed | Seen::Ahead(_) => Error::failed(format!("{id}: no checkpoint was made")),
    }
}

/// `branch main`, or `a detached HEAD (abc1234)`.
fn describe_head(branch: Option<&str>, commit: &str) -> String {
    match branch {
        Some(b) => format!("branch {}", text::clean(branch_name(b))),
        None => format!("a detached HEAD ({})", crate::repo::short_oid(commit)),
    }
}

fn branch_name(refname: &str) -> &str {
    refname.strip_prefix("refs/heads/").unwrap_or(refname)
}

/// Follow the task's own updates from `before`, oldest first: the commit
/// they take the branch to, and the first update that is not the task's.
fn follow<'a>(
    before: &str,
    entries: &'a [RefUpdate],
    marker: &str,
) -> (String, Option<&'a RefUpdate>) {
    let mut at = before.to_string();
    for e in entries {
        if !e.message.starts_with(marker) || e.old != at {
            return (at, Some(e).filter(|e| !e.message.starts_with(marker)));
        }
        at = e.new.clone();
    }
    (at, None)
}

/// The commit after `reached` in `ids` (oldest first), or the first one.
fn first_after(ids: &[String], reached: &str) -> String {
    let next = ids.iter().position(|id| id == reached).map_or(0, |i| i + 1);
    ids.get(next).or(ids.first()).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(old: &str, new: &str, message: &str) -> RefUpdate {
        RefUpdate::new(old, new, message)
    }

    #[test]
    fn the_task_s_own_chain_is_followed_to_its_end() {
        let m = "git-milestone M1 T1 00ab";
        let own = [
            update("a", "b", &format!("{m}: agent: one")),
            update("b", "c", &format!("{m} (pick): agent: two")),
        ];
        assert_eq!(follow("a", &own, m), ("c".to_string(), None));
        assert_eq!(follow("a", &[], m), ("a".to_string(), None));
    }

    #[test]
    fn an_update_without_the_marker_is_named() {
        let m = "git-milestone M1 T1 00ab";
        let entries = [
            update("a", "b", &format!("{m}: agent: one")),
            update("b", "u", "commit: my own fix"),
            update("u", "c", &format!("{m}: agent: two")),
        ];
        let (reached, other) = follow("a", &entries, m);
        assert_eq!(reached, "b");
        assert_eq!(other.unwrap().new, "u");
        // Another task's or another run's marker is not this one.
        let other_run = [update("a", "b", "git-milestone M1 T1 9999: x")];
        assert!(follow("a", &other_run, m).1.is_some());
    }

    #[test]
    fn a_gap_in_the_chain_stops_it_there() {
        let m = "git-milestone M1 T1 00ab";
        // Someone moved the branch from b to u without a reflog entry.
        let entries = [
            update("a", "b", &format!("{m}: one")),
            update("u", "c", &format!("{m}: two")),
        ];
        assert_eq!(follow("a", &entries, m), ("b".to_string(), None));
        let ids = ["b", "u", "c"].map(String::from);
        assert_eq!(first_after(&ids, "b"), "u");
        assert_eq!(first_after(&ids, "a"), "b");
    }
}
