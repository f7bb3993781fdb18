//! Milestones with refs in this repository but no status file in this
//! work tree: squashed in place here, or run on another branch or worktree.
//! `status` names them rather than saying that nothing has run.

use crate::history::squash::squashed_in_place;
use crate::repo::Repo;
use crate::ui::text::{clean, command_line};

/// A milestone `status` cannot list, and why it has no status file here.
pub(super) struct Elsewhere {
    name: String,
    /// Its last squash here was in place: the status file left with the
    /// checkpoints, and `squash --undo` brings both back.
    squashed: bool,
}

/// The milestones with refs under `refs/milestone/` and none of `listed`'s
/// names, in name order.
pub(super) fn find(repo: &Repo, listed: &[&str]) -> Vec<Elsewhere> {
    let mut names: Vec<String> = repo
        .refs_under("refs/milestone/")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(rest, _)| rest.split('/').next().map(str::to_string))
        .filter(|n| !listed.contains(&n.as_str()))
        .collect();
    names.dedup();
    names
        .into_iter()
        .map(|name| Elsewhere {
            squashed: squashed_in_place(repo, &name),
            name,
        })
        .collect()
}

impl Elsewhere {
    /// Why it has no status file here, and what brings it back.
    fn why(&self) -> String {
        let name = clean(&self.name);
        if self.squashed {
            format!(
                "{name} was squashed in place: `{}` brings its checkpoints and status file back",
                command_line(&["git", "milestone", "squash", &self.name, "--undo"])
            )
        } else {
            format!(
                "{name} has checkpoints in this repository but no status file in this work tree: \
                 it ran on another branch or in another worktree"
            )
        }
    }
}

/// What `status` prints when no milestone has a status file here.
pub(super) fn lines(elsewhere: &[Elsewhere]) -> Vec<String> {
    if elsewhere.is_empty() {
        return vec!["No milestone has run in this repository yet.".to_string()];
    }
    std::iter::once("No milestone has a status file in this work tree.".to_string())
        .chain(elsewhere.iter().map(|e| format!("{}.", e.why())))
        .collect()
}

/// Why milestone `name` has no status file here, when it has refs.
pub(super) fn why_not_here(name: &str, elsewhere: &[Elsewhere]) -> Option<String> {
    elsewhere
        .iter()
        .find(|x| x.name == name)
        .map(Elsewhere::why)
}
