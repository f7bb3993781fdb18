//! `git milestone hook pre-push` (the check git runs before a push),
//! `install-hook` and `uninstall-hook`.
//!
//! The check reads only the pushed commits' trees, down to the small status
//! blobs under `.milestone_bundles/`: never the index, the work tree or any
//! task code, so it costs the same in any repository.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::cli::PrePushArgs;
use crate::error::{Context, Result};
use crate::hook_install::{self, Installed, Removed};
use crate::repo::Repo;
use crate::repo::refs::{CommittedStatus, Foreign, Objects, Opened};
use crate::state::RunState;
use crate::ui::text::{clean, command_line};

/// One line of git's pre-push input: what is pushed where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local_oid: String,
    pub remote_ref: String,
}

pub fn pre_push(args: &PrePushArgs, cwd: &Path) -> Result<i32> {
    let _ = args;
    let mut input = String::new();
    if !std::io::stdin().is_terminal() {
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the refs to push from standard input")?;
    }
    let mut pushed = parse_lines(&input);
    if input.trim().is_empty() {
        pushed.extend(from_pre_commit_env(|k| std::env::var(k).ok()));
    }
    let pushed: Vec<PushedRef> = pushed.into_iter().filter(needs_check).collect();
    if pushed.is_empty() {
        return Ok(0);
    }
    let objects = match Objects::open(cwd)? {
        Opened::Objects(objects) => objects,
        Opened::Foreign(repo) => return check_foreign(&repo, &pushed),
    };
    // Read each pushed commit once: a mirror push can send thousands of
    // refs that point at the same few commits.
    // Only what would refuse is kept: a thousand completed milestones
    // cost nothing per ref.
    let mut read: HashMap<&str, Vec<CommittedStatus>> = HashMap::new();
    let mut refusals = Vec::new();
    for p in &pushed {
        let found = match read.entry(&p.local_oid) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let mut found = objects.statuses_in_commit(&p.local_oid)?;
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
    for line in &refusals {
        eprintln!("error: {line}");
    }
    Ok(if refusals.is_empty() { 0 } else { 1 })
}

/// A repository libgit2 cannot read (sha256): pushes that carry no
/// milestones go through; any other is refused, as it cannot be checked.
fn check_foreign(repo: &Foreign, pushed: &[PushedRef]) -> Result<i32> {
    let mut carrying = Vec::new();
    for p in pushed {
        if repo.has_bundles(&p.local_oid)? {
            carrying.push(p);
        }
    }
    for p in &carrying {
        let target = p
            .remote_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&p.remote_ref);
        eprintln!(
            "error: not pushing {}: its commits carry milestones, which git-milestone cannot read \
             in a repository of the {} object format; skip this check with `git push --no-verify`",
            clean(target),
            clean(&repo.format)
        );
    }
    Ok(if carrying.is_empty() { 0 } else { 2 })
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
fn needs_check(p: &PushedRef) -> bool {
    let deletion = p.local_oid.bytes().all(|b| b == b'0');
    let tag = p.remote_ref.starts_with("refs/tags/");
    let ours = p.remote_ref.starts_with("refs/milestone/");
    !(deletion || tag || ours)
}

/// Why pushing `p` must be refused because of `found`, in one line that says
/// what fixes it; `None` for a completed milestone. Everything in it that
/// came from the pushed commits is cleaned of control characters, and the
/// name is quoted inside the suggested command.
fn refusal(p: &PushedRef, found: &CommittedStatus) -> Option<String> {
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
                .skipped()
                .iter()
                .map(|id| clean(id).into_owned())
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

pub fn install(cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let dir = hook_install::hooks_dir(&repo)?;
    match hook_install::install(&dir)? {
        Installed::Already(path) => {
            println!("The pre-push hook is already installed: {}", path.display());
        }
        Installed::Fresh(path) => println!("Installed the pre-push hook: {}", path.display()),
        Installed::Chained { hook, user } => {
            println!("Installed the pre-push hook: {}", hook.display());
            println!(
                "Your own pre-push hook is now {} and still runs first on every push.",
                user.display()
            );
        }
    }
    Ok(0)
}

pub fn uninstall(cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let dir = hook_install::hooks_dir(&repo)?;
    match hook_install::uninstall(&dir)? {
        Removed::Nothing(path) => {
            println!(
                "No git-milestone pre-push hook in {}: nothing to remove.",
                path.display()
            );
        }
        Removed::Hook(path) => println!("Removed the pre-push hook: {}", path.display()),
        Removed::Restored(path) => {
            println!(
                "Removed the git-milestone hook and put your own back: {}",
                path.display()
            );
        }
    }
    Ok(0)
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
