//! Whether git is in the middle of a merge, rebase, cherry-pick, revert,
//! bisect or `git am`: runs and rollbacks refuse to start then.

use git2::RepositoryState as S;

use super::Repo;

/// A git operation in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The git command that continues or abandons it: `merge`, `am`.
    pub command: &'static str,
    /// With an article, for a sentence: `a merge`, ``a `git am` ``.
    pub what: &'static str,
    /// How to end it, for a hint.
    pub hint: &'static str,
}

impl Repo {
    /// The operation in progress, if any.
    pub fn operation_in_progress(&self) -> Option<Operation> {
        let op = |command, what, hint| Operation {
            command,
            what,
            hint,
        };
        Some(match self.inner.state() {
            S::Clean if self.git_dir().join("BISECT_LOG").exists() => bisect(),
            S::Clean => return None,
            S::Merge => op(
                "merge",
                "a merge",
                "finish it with `git commit`, or abandon it with `git merge --abort`",
            ),
            S::Revert | S::RevertSequence => op(
                "revert",
                "a revert",
                "finish it with `git revert --continue`, or abandon it with `git revert --abort`",
            ),
            S::CherryPick | S::CherryPickSequence => op(
                "cherry-pick",
                "a cherry-pick",
                "finish it with `git cherry-pick --continue`, or abandon it with `git cherry-pick --abort`",
            ),
            S::Bisect => bisect(),
            S::Rebase | S::RebaseInteractive | S::RebaseMerge => op(
                "rebase",
                "a rebase",
                "finish it with `git rebase --continue`, or abandon it with `git rebase --abort`",
            ),
            S::ApplyMailbox | S::ApplyMailboxOrRebase => op(
                "am",
                "a `git am`",
                "finish it with `git am --continue`, or abandon it with `git am --abort`",
            ),
        })
    }
}

fn bisect() -> Operation {
    Operation {
        command: "bisect",
        what: "a bisect",
        hint: "end it with `git bisect reset`",
    }
}
