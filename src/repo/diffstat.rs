//! A short summary of what the work tree holds since HEAD, for the feedback
//! a retry gets: `git diff --stat` and the untracked files.

use super::Repo;

impl Repo {
    /// `git diff --stat HEAD` (staged and unstaged changes to tracked
    /// files); empty when there are none or git cannot say.
    pub fn diff_stat(&self) -> String {
        match self.git(&["diff", "--stat", "--no-color", "HEAD"]) {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            _ => String::new(),
        }
    }
}
