//! HEAD: its commit, the branch it is on, and the reflog entries that
//! moved it since a point, which tell a task's commits from commits made
//! elsewhere (see `run::watch`).

use super::{Repo, parse_oid};
use crate::error::{Context, Result};

/// One reflog entry: a ref moved from `old` to `new`, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    /// As git wrote it: `commit: <subject>`, or `<GIT_REFLOG_ACTION>: …`.
    pub message: String,
    /// Seconds since the epoch.
    time: i64,
}

impl RefUpdate {
    #[cfg(test)]
    pub(crate) fn new(old: &str, new: &str, message: &str) -> RefUpdate {
        RefUpdate {
            old: old.into(),
            new: new.into(),
            message: message.into(),
            time: 0,
        }
    }
}

/// How HEAD moved during a task, relative to where it was before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    Stayed,
    /// The task made these commits on top (oldest first).
    Ahead(Vec<String>),
    /// HEAD no longer descends from where the task started.
    Elsewhere(String),
}

impl Repo {
    /// How HEAD relates to `before`, the commit it was at when a task started.
    pub fn head_moved_since(&self, before: &str) -> Result<Moved> {
        let before = parse_oid(before)?;
        let head = parse_oid(&self.head_commit()?)?;
        if head == before {
            return Ok(Moved::Stayed);
        }
        let descends = self
            .inner
            .graph_descendant_of(head, before)
            .with_context(|| format!("cannot compare commits {head} and {before}"))?;
        if !descends {
            return Ok(Moved::Elsewhere(head.to_string()));
        }
        let mut walk = self.inner.revwalk().context("cannot walk history")?;
        walk.push(head).context("cannot walk history")?;
        walk.hide(before).context("cannot walk history")?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .context("cannot walk history")?;
        let ids = walk
            .map(|id| id.map(|id| id.to_string()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context("cannot walk history")?;
        Ok(Moved::Ahead(ids))
    }

    /// The current HEAD commit id.
    pub fn head_commit(&self) -> Result<String> {
        let head = self.inner.head().context("cannot read HEAD")?;
        Ok(head
            .peel_to_commit()
            .context("cannot read the commit at HEAD")?
            .id()
            .to_string())
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

    /// The branch HEAD points at (`refs/heads/...`), or `None` when HEAD is
    /// detached.
    pub fn head_branch(&self) -> Option<String> {
        let head = self.inner.find_reference("HEAD").ok()?;
        head.symbolic_target().ok().flatten().map(str::to_string)
    }

    /// The newest entry of `refname`'s reflog (`None` when it has none),
    /// after making sure git keeps one: an empty reflog file is created
    /// when there is none, as git appends to an existing reflog even with
    /// `core.logAllRefUpdates` off.
    pub fn reflog_tip(&self, refname: &str) -> Result<Option<RefUpdate>> {
        let dir = if refname == "HEAD" {
            self.git_dir()
        } else {
            self.common_dir()
        };
        let file = dir.join("logs").join(refname);
        if !file.exists() {
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&file)
                .with_context(|| format!("cannot create {}", file.display()))?;
        }
        Ok(self.reflog(refname)?.pop())
    }

    /// The entries of `refname`'s reflog after `since` (all of them when
    /// `since` is `None`), oldest first; `None` when `since` is no longer
    /// there (the reflog was expired or rewritten meanwhile).
    pub fn reflog_since(
        &self,
        refname: &str,
        since: Option<&RefUpdate>,
    ) -> Result<Option<Vec<RefUpdate>>> {
        let mut all = self.reflog(refname)?;
        let Some(since) = since else {
            return Ok(Some(all));
        };
        Ok(all
            .iter()
            .rposition(|e| e == since)
            .map(|i| all.split_off(i + 1)))
    }

    /// `refname`'s whole reflog, oldest first.
    fn reflog(&self, refname: &str) -> Result<Vec<RefUpdate>> {
        let log = self
            .inner
            .reflog(refname)
            .with_context(|| format!("cannot read the reflog of {refname}"))?;
        let mut entries: Vec<RefUpdate> = log
            .iter()
            .map(|e| RefUpdate {
                old: e.id_old().to_string(),
                new: e.id_new().to_string(),
                message: String::from_utf8_lossy(e.message_bytes().unwrap_or_default())
                    .into_owned(),
                time: e.committer().when().seconds(),
            })
            .collect();
        entries.reverse();
        Ok(entries)
    }

    /// The subject line of `commit`, for messages ("" when unreadable).
    pub fn commit_subject(&self, commit: &str) -> String {
        super::parse_oid(commit)
            .ok()
            .and_then(|id| self.inner.find_commit(id).ok())
            .and_then(|c| {
                c.summary_bytes()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
            })
            .unwrap_or_default()
    }
}
