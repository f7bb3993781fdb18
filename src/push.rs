//! The pre-push policy: which pushed refs are checked, and why a milestone
//! whose status file a pushed commit carries refuses the push (anything but
//! completed). The check reads only the pushed commits' trees, down to the
//! small status blobs under `.milestone_bundles/`: never the index, the
//! work tree or any task code, so it costs the same in any repository.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::error::Result;
use crate::repo::objects::{CommittedStatus, Foreign, Objects};
use crate::state::{RunState, Status};
use crate::ui::text::{clean, command_line};

/// One line of git's pre-push input: what is pushed where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local_oid: String,
    pub remote_ref: String,
}

/// Why the push of `pushed` is refused, a line each; none when it may go.
pub fn refusals(objects: &Objects, pushed: &[PushedRef]) -> Result<Vec<String>> {
    // Read each pushed commit once: a mirror push can send thousands of
    // refs that point at the same few commits.
    // Only what would refuse is kept: a thousand completed milestones
    // cost nothing per ref.
    let mut read: HashMap<&str, Vec<Committed>> = HashMap::new();
    let mut refusals = Vec::new();
    for p in pushed {
        let found = match read.entry(&p.local_oid) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let mut found: Vec<Committed> = objects
                    .statuses_in_commit(&p.local_oid)?
                    .into_iter()
                    .map(Committed::from)
                    .collect();
                found.retain(|f| {
                    !f.status
                        .as_ref()
                        .is_ok_and(|s| s.state == RunState::Completed)
                });
                e.insert(found)
            }
        };
        refusals.extend(found.iter().filter_map(|f| refusal(p, f)));
    }
    Ok(refusals)
}

/// A status file in a pushed commit, read.
pub struct Committed {
    name: String,
    path: String,
    status: Result<Status>,
}

impl From<CommittedStatus> for Committed {
    fn from(c: CommittedStatus) -> Committed {
        let status = c.blob.and_then(|b| Status::parse(&b, &c.path));
        Committed {
            name: c.name,
            path: c.path,
            status,
        }
    }
}

/// A repository libgit2 cannot read (sha256): pushes that carry no
/// milestones go through; any other is refused, as it cannot be checked.
pub fn foreign_refusals(repo: &Foreign, pushed: &[PushedRef]) -> Result<Vec<String>> {
    let mut refusals = Vec::new();
    for p in pushed {
        if !repo.has_bundles(&p.local_oid)? {
            continue;
        }
        let target = p
            .remote_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&p.remote_ref);
        refusals.push(format!(
            "not pushing {}: its commits carry milestones, which git-milestone cannot read \
             in a repository of the {} object format; skip this check with `git push --no-verify`",
            clean(target),
            clean(&repo.format)
        ));
    }
    Ok(refusals)
}

/// Parse `<local ref> SP <local oid> SP <remote ref> SP <remote oid>` lines.
pub fn parse_lines(input: &str) -> Vec<PushedRef> {
    input
        .lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (local_ref, local_oid, remote_ref) = (f.next()?, f.next()?, f.next()?);
            Some(PushedRef {
                local_ref: local_ref.to_string(),
                local_oid: local_oid.to_string(),
                remote_ref: remote_ref.to_string(),
            })
        })
        .collect()
}

/// The ref pre-commit (and prek) describe in environment variables, having
/// consumed git's standard input themselves.
pub fn from_pre_commit_env(var: impl Fn(&str) -> Option<String>) -> Option<PushedRef> {
    let local_oid = var("PRE_COMMIT_TO_REF").filter(|v| !v.is_empty())?;
    let remote_ref = var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|| "HEAD".into());
    let local_ref = var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| local_oid.clone());
    Some(PushedRef {
        local_ref,
        local_oid,
        remote_ref,
    })
}

/// Deletions, tags and the milestone's own bookkeeping refs (checkpoints are
/// mid-run snapshots by design) are pushed without a check. What counts is
/// the remote ref being updated, never the local name: a tag pushed to a
/// branch (`refs/tags/x:refs/heads/main`) is checked like any branch.
pub fn needs_check(p: &PushedRef) -> bool {
    let deletion = p.local_oid.bytes().all(|b| b == b'0');
    let tag = p.remote_ref.starts_with("refs/tags/");
    let ours = p.remote_ref.starts_with("refs/milestone/");
    !(deletion || tag || ours)
}

/// Why pushing `p` must be refused because of `found`, in one line that says
/// what fixes it; `None` for a completed milestone. Everything in it that
/// came from the pushed commits is cleaned of control characters, and the
/// name is quoted inside the suggested command.
fn refusal(p: &PushedRef, found: &Committed) -> Option<String> {
    let target = clean(
        p.remote_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&p.remote_ref),
    );
    let name = clean(&found.name);
    let skip = "or skip this check with `git push --no-verify`";
    let status = match &found.status {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "not pushing {target}: {}; repair or remove {} and commit, {skip}",
                clean(e.message()),
                clean(&found.path)
            ));
        }
    };
    let (done, total) = status.progress();
    let task = status
        .failure
        .as_ref()
        .map(|f| format!(" at {}", clean(&f.task)))
        .unwrap_or_default();
    let (what, fix) = match status.state {
        RunState::Completed => return None,
        // A skipped task's changes are saved under a ref, not in the branch.
        RunState::CompletedWithSkips => {
            let ids: Vec<String> = status
                .tasks
                .iter()
                .filter(|t| t.state == crate::state::TaskState::Skipped)
                .map(|t| clean(t.name()).into_owned())
                .collect();
            let see = command_line(&["git", "milestone", "status", &found.name]);
            let run = command_line(&["git", "milestone", "run", &found.name]);
            return Some(format!(
                "not pushing {target}: milestone {name} completed with skipped tasks: {} \
                 (their changes are not committed); run them again with `{run}` \
                 (see them with `{see}`), {skip}",
                crate::ui::text::list(&ids, 5)
            ));
        }
        RunState::Failed => (format!("failed{task}"), "retry it with"),
        RunState::Running => ("is mid-run".to_string(), "finish it with"),
        RunState::Interrupted => ("was interrupted".to_string(), "resume it with"),
    };
    let run = command_line(&["git", "milestone", "run", &found.name]);
    Some(format!(
        "not pushing {target}: milestone {name} {what} ({done}/{total} tasks done); \
         {fix} `{run}`, {skip}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_lines_become_refs_and_deletions_and_tags_pass() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let input = format!(
            "refs/heads/main {a} refs/heads/main {z}\n\
             (delete) {z} refs/heads/old {a}\n\
             refs/tags/v1 {a} refs/tags/v1 {z}\n\
             refs/milestone/M1/checkpoints/T1 {a} refs/milestone/M1/checkpoints/T1 {z}\n\
             refs/tags/x {a} refs/heads/release {z}\n"
        );
        let refs = parse_lines(&input);
        assert_eq!(refs.len(), 5);
        let checked: Vec<&str> = refs
            .iter()
            .filter(|r| needs_check(r))
            .map(|r| r.remote_ref.as_str())
            .collect();
        assert_eq!(checked, ["refs/heads/main", "refs/heads/release"]);
    }

    #[test]
    fn pre_commit_variables_describe_one_ref() {
        let env = |k: &str| match k {
            "PRE_COMMIT_TO_REF" => Some("b".repeat(40)),
            "PRE_COMMIT_FROM_REF" => Some("c".repeat(40)),
            "PRE_COMMIT_LOCAL_BRANCH" => Some("refs/heads/topic".into()),
            "PRE_COMMIT_REMOTE_BRANCH" => Some("refs/heads/main".into()),
            _ => None,
        };
        assert_eq!(
            from_pre_commit_env(env),
            Some(PushedRef {
                local_ref: "refs/heads/topic".into(),
                local_oid: "b".repeat(40),
                remote_ref: "refs/heads/main".into(),
            })
        );
        assert_eq!(from_pre_commit_env(|_| None), None);
    }
}
