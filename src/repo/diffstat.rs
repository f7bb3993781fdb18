//! A short summary of what the work tree holds since HEAD, or what a saved
//! attempt changed, for the feedback a retry gets: `git diff --stat`.

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

    /// `git diff --stat from to` between two commits (a `--jobs` task's
    /// start and its saved attempt); empty when git cannot say.
    pub fn diff_stat_between(&self, from: &str, to: &str) -> String {
        match self.git(&["diff", "--stat", "--no-color", from, to]) {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            _ => String::new(),
        }
    }
}
