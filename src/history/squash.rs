//! `squash`: one commit for review holding a milestone's work (its last
//! checkpoint's tree, with the base's `.milestone_bundles/` less its own), on a new
//! branch or, when nothing was pushed, in place of the checkpoints; and
//! `--undo`. The checkpoints stay under `refs/milestone/<key>/squashed/<n>`
//! and the last squash is recorded in `<git-dir>/milestone/<key>/last-squash.json`.

use serde::{Deserialize, Serialize};

use super::{Line, line, load};
use crate::error::{Error, Result};
use crate::lock::RunLock;
use crate::repo::rollback::DiscardedCommit;
use crate::repo::short_oid as short;
use crate::repo::{Repo, refs};
use crate::state::{self, RunState, Status, TaskState};
use crate::ui::text::{count, list, one_line, quote, was_were};

/// Where the squashed commit goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A new branch of this name; the current one is left as it is.
    NewBranch(String),
    /// The current branch, moved from the last checkpoint to it.
    InPlace,
}

/// What a squash did.
#[derive(Debug, Clone)]
pub struct Squashed {
    pub commit: String,
    /// The branch the commit is on (`None`: in place on a detached HEAD).
    pub branch: Option<String>,
    pub in_place: bool,
    /// Where the checkpoints are kept.
    pub saved_ref: String,
    pub line: Line,
    /// The milestone's state, and its tasks' count, when it is not complete.
    pub unfinished: Option<(String, usize, usize)>,
    /// Commits on HEAD after the last checkpoint, which the squashed
    /// commit does not hold.
    pub after: usize,
}

/// The last squash, for `--undo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    version: u32,
    branch: Option<String>,
    in_place: bool,
    /// The squashed commit.
    squashed: String,
    /// The last checkpoint, which `saved_ref` keeps.
    original: String,
    saved_ref: String,
}

const RECORD: &str = "last-squash.json";

/// Squash milestone `name` (a key) onto `target`.
pub fn squash(repo: &Repo, name: &str, target: &Target) -> Result<Squashed> {
    let status = load(repo, name)?;
    let line = line(repo, name, &status)?;
    let in_place = *target == Target::InPlace;
    let _lock = if in_place {
        Some(RunLock::acquire(repo.git_dir(), repo.common_dir(), name)?)
    } else {
        None
    };
    if in_place {
        refuse_in_place(repo, name, &status, &line)?;
    }
    let branch = match target {
        Target::NewBranch(b) => {
            refuse_existing(repo, b)?;
            Some(b.clone())
        }
        Target::InPlace => repo.current_branch_name(),
    };
    let saved_ref = repo.next_numbered_ref(&refs::squashed_prefix(name))?;
    let tree = repo.tree_without_bookkeeping(line.tip(), &line.base, name)?;
    let message = message(&status, &line, &saved_ref);
    let commit = repo.write_commit(&tree, &line.base, &message)?;
    repo.set_ref(&saved_ref, line.tip(), "milestone: squash")?;
    let moved = match (target, &branch) {
        (Target::NewBranch(b), _) => repo.create_branch(b, &commit),
        (Target::InPlace, _) => repo.reset_keep(&commit),
    };
    if let Err(e) = moved {
        // Nothing moved: the ref would only keep what the branch still has.
        repo.delete_ref(&saved_ref)?;
        return Err(e);
    }
    let record = Record {
        version: 1,
        branch: branch.clone(),
        in_place,
        squashed: commit.clone(),
        original: line.tip().to_string(),
        saved_ref: saved_ref.clone(),
    };
    write_record(repo, name, &record)?;
    let (done, total) = status.progress();
    let unfinished = (!status.state.is_completed()).then(|| (state_word(&status), done, total));
    let head = repo.head_commit()?;
    let after = match in_place || !repo.is_ancestor(line.tip(), &head)? {
        true => 0,
        false => repo.commits_after(line.tip(), &head)?.len(),
    };
    Ok(Squashed {
        commit,
        branch,
        in_place,
        saved_ref,
        line,
        unfinished,
        after,
    })
}

/// In place only when the milestone is complete, HEAD is its last
/// checkpoint, no git operation is under way, and none of its commits
/// was pushed.
fn refuse_in_place(repo: &Repo, name: &str, status: &Status, line: &Line) -> Result<()> {
    let q = quote(name);
    let new_branch = format!(
        "squash onto a new branch instead, which rewrites nothing: `git milestone squash {q}`"
    );
    if let Some(op) = repo.operation_in_progress() {
        return Err(Error::refused(format!(
            "{} is in progress; {name} cannot be squashed in place in the middle of it",
            op.what
        ))
        .hint(format!("{}; then squash", op.hint)));
    }
    if !status.state.is_completed() {
        let why = match status.state {
            RunState::Failed => "failed",
            RunState::Interrupted => "was interrupted",
            _ => "is mid-run",
        };
        return Err(Error::refused(format!(
            "{name} {why}, so it is not complete; squashing it in place would leave no status for the run to go on from"
        ))
        .hint(new_branch));
    }
    let head = repo.head_commit()?;
    if head != line.tip() {
        let after = repo.commits_after(line.tip(), &head)?;
        return Err(Error::refused(format!(
            "HEAD is not the last checkpoint of {name} ({}): {}",
            short(line.tip()),
            after_tip(&after)
        ))
        .hint(new_branch));
    }
    let ours: Vec<String> = repo
        .commits_after(&line.base, line.tip())?
        .into_iter()
        .map(|c| c.oid)
        .collect();
    let pushed = repo.pushed(&ours)?;
    if !pushed.is_empty() {
        let shown: Vec<&str> = pushed.iter().map(|o| short(o)).collect();
        return Err(Error::refused(format!(
            "{} of {name} {} already pushed ({}); squashing in place would rewrite published history",
            count(pushed.len(), "commit"),
            was_were(pushed.len()),
            list(&shown, 5)
        ))
        .hint(new_branch));
    }
    Ok(())
}

fn after_tip(after: &[DiscardedCommit]) -> String {
    if after.is_empty() {
        return "the branch has moved elsewhere".to_string();
    }
    let shown: Vec<String> = after
        .iter()
        .map(|c| format!("{} {}", short(&c.oid), crate::ui::text::clean(&c.summary)))
        .collect();
    format!(
        "{} after it would be taken off the branch ({})",
        count(after.len(), "commit"),
        list(&shown, 5)
    )
}

fn refuse_existing(repo: &Repo, branch: &str) -> Result<()> {
    Repo::check_branch_name(branch)?;
    if repo.ref_target(&format!("refs/heads/{branch}"))?.is_none() {
        return Ok(());
    }
    Err(
        Error::refused(format!("branch {branch} already exists")).hint(format!(
            "name another with `--branch NAME`, or delete it first with `git branch -D {}`",
            quote(branch)
        )),
    )
}

/// `completed`, `failed`, ... as the status file has it, in words.
fn state_word(status: &Status) -> String {
    serde_json::to_value(status.state)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

/// The squashed commit's message: a subject naming the milestone, each
/// task with its attempts and evidence, where the checkpoints are kept.
pub fn message(status: &Status, line: &Line, saved_ref: &str) -> String {
    let name = &status.milestone;
    let ids: Vec<&str> = line.checkpoints.iter().map(|(t, _)| t.as_str()).collect();
    let tasks = count(ids.len(), "task");
    let names: Vec<&str> = ids
        .iter()
        .map(|&id| status.task(id).map_or(id, |t| t.name()))
        .collect();
    let range = match names.as_slice() {
        [one] => format!(" ({one})"),
        [first, .., last] => format!(" ({first} to {last})"),
        [] => String::new(),
    };
    let mut subject = one_line(&format!("{name}: {tasks}{range}"));
    if subject.chars().count() > 72 {
        subject = one_line(&format!("{name}: {tasks}"));
    }
    let mut body = String::new();
    for (id, _) in &line.checkpoints {
        if let Some(t) = status.task(id) {
            body.push_str(&task_line(t));
        }
    }
    let left_out: Vec<String> = status
        .tasks
        .iter()
        .filter(|t| !ids.contains(&t.id.as_str()))
        .map(|t| format!("{} ({})", one_line(t.name()), state_text(t.state)))
        .collect();
    if !left_out.is_empty() {
        body.push_str(&format!("\nNot in this commit: {}.\n", list(&left_out, 20)));
    }
    format!(
        "{subject}\n\n{body}\nSquashed from {} of {name} ({}..{}), kept under\n{saved_ref}.\n\nMilestone: {name}\nMilestone-Squashed: {}..{}\n",
        count(line.checkpoints.len(), "checkpoint"),
        short(&line.base),
        short(line.tip()),
        line.base,
        line.tip()
    )
}

/// `- TASK-001 Parse the config (2 attempts; checks: test, lint)`.
fn task_line(t: &crate::state::TaskStatus) -> String {
    let evidence = super::log::Evidence::of(t);
    let mut about = vec![count(t.attempts as usize, "attempt")];
    if t.state == TaskState::Skipped {
        about.insert(0, "skipped: its changes are not in this commit".to_string());
    }
    if !evidence.checks.is_empty() {
        about.push(format!("checks: {}", evidence.checks.join(", ")));
    }
    if let Some(usd) = evidence.cost_usd {
        about.push(format!("cost ${usd:.2}"));
    }
    let title = one_line(&t.title);
    let sep = if title.is_empty() { "" } else { " " };
    format!(
        "- {}{sep}{title} ({})\n",
        one_line(t.name()),
        about.join("; ")
    )
}

fn state_text(state: TaskState) -> &'static str {
    match state {
        TaskState::Pending => "pending",
        TaskState::Running => "running",
        TaskState::Done => "done, no checkpoint on this branch",
        TaskState::DoneInPlan => "done in the plan",
        TaskState::Skipped => "skipped, no checkpoint on this branch",
        TaskState::Failed => "failed",
        TaskState::Interrupted => "interrupted",
    }
}

fn write_record(repo: &Repo, name: &str, record: &Record) -> Result<()> {
    let path = state::journal_dir(repo.git_dir(), name)?.join(RECORD);
    let bytes = serde_json::to_vec_pretty(record)
        .map_err(|e| Error::failed("cannot encode the squash record").with_cause(e))?;
    state::write_atomically(&path, &bytes)
}

mod undo;
pub use undo::{Undone, squashed_in_place, undo};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{RunState, STATUS_VERSION, TaskStatus};

    fn task(id: &str, state: TaskState, attempts: u32) -> TaskStatus {
        TaskStatus {
            id: id.into(),
            label: None,
            title: format!("Title of {id}"),
            state,
            attempts,
            started_at: None,
            ended_at: None,
            duration_ms: None,
            exit_code: None,
            checkpoint: None,
            adopted_commits: vec![],
            history: Vec::new(),
            usage: None,
        }
    }

    #[test]
    fn the_message_lists_each_task_and_what_it_left_out() {
        let status = Status {
            version: STATUS_VERSION,
            milestone: "M1".into(),
            plan: "plan.md".into(),
            state: RunState::Running,
            started_at: None,
            updated_at: String::new(),
            base_commit: None,
            tasks: vec![
                task("T1", TaskState::Done, 1),
                task("T2", TaskState::Done, 2),
                task("T3", TaskState::Skipped, 1),
                task("T4", TaskState::DoneInPlan, 0),
                task("T5", TaskState::Pending, 0),
            ],
            failure: None,
            sequence: None,
            usage: None,
        };
        let oid = |c: char| c.to_string().repeat(40);
        let line = Line {
            base: oid('a'),
            checkpoints: ["T1", "T2", "T3"]
                .iter()
                .zip(['b', 'c', 'd'])
                .map(|(t, c)| (t.to_string(), oid(c)))
                .collect(),
        };
        assert_eq!(
            message(&status, &line, "refs/milestone/M1/squashed/2"),
            format!(
                "M1: 3 tasks (T1 to T3)\n\n\
                 - T1 Title of T1 (1 attempt)\n\
                 - T2 Title of T2 (2 attempts)\n\
                 - T3 Title of T3 (skipped: its changes are not in this commit; 1 attempt)\n\
                 \nNot in this commit: T4 (done in the plan) and T5 (pending).\n\
                 \nSquashed from 3 checkpoints of M1 (aaaaaaa..ddddddd), kept under\n\
                 refs/milestone/M1/squashed/2.\n\n\
                 Milestone: M1\nMilestone-Squashed: {}..{}\n",
                oid('a'),
                oid('d')
            )
        );
        let long = Line {
            checkpoints: vec![("A".repeat(40), oid('b')), ("B".repeat(40), oid('c'))],
            ..line
        };
        let subject = message(&status, &long, "r")
            .lines()
            .next()
            .unwrap()
            .to_string();
        assert_eq!(subject, "M1: 2 tasks");
    }
}
