//! A task that ended in its own worktree: its work saved under an attempt
//! ref first, then merged onto the branch as its checkpoint (the checks run
//! on the merged result), or failed, skipped or interrupted with the work
//! kept under that ref. The worktree is removed only once the work is saved.

use std::path::Path;

use super::{Ended, Job, Next, recover};
use crate::agent::{Kind, Outcome as AgentOutcome};
use crate::error::{Error, Result};
use crate::failure::{self, Choice, FailedAttempt};
use crate::repo::merge::Merged;
use crate::run::attempt::{Attempted, record};
use crate::run::message::{Skip, Verdict};
use crate::run::session::{Session, describe, seconds};
use crate::run::watch::Watch;
use crate::runner::{EXIT_SKIP, Exit, Outcome, signals};
use crate::state::TaskState;
use crate::ui::text;

/// Why a task that ran failed, and what to say about it.
struct Failed {
    cause: String,
    hints: Vec<String>,
}

/// Task `i` ended with `out`: save its work, then integrate, fail, skip or
/// record it interrupted. `retries` counts the policy's retries of it.
pub(super) fn end(
    s: &mut Session<'_>,
    i: usize,
    job: Job,
    out: Ended,
    retries: &mut u32,
) -> Result<Next> {
    let id = s.plan.tasks[i].id.clone();
    let Job {
        attempt,
        log,
        tree,
        base,
        saved,
        ..
    } = job;
    let (commit, outcome) = match (out.commit, out.run) {
        (Ok(Some(commit)), Ok(outcome)) => (commit, outcome),
        (commit, run) => {
            let e = match (commit, run) {
                (Err(e), _) => e.hint(format!(
                    "{id}'s work is left in its worktree, {}",
                    tree.path().display()
                )),
                (Ok(_), Err(e)) => e,
                (Ok(_), Ok(_)) => unreachable!("a task that ran is saved"),
            };
            s.status
                .finish(&id, TaskState::Failed, None, Default::default());
            s.status.fail(&id, None);
            s.status.save(s.repo.root())?;
            return Ok(Next::Stop(e));
        }
    };
    let ended = match outcome.exit {
        Exit::Code(0) => AgentOutcome::new(Kind::Success),
        Exit::Code(EXIT_SKIP) => AgentOutcome::with_message(Kind::Skipped, "exit code 125"),
        Exit::Interrupted(_) => AgentOutcome::new(Kind::Interrupted),
        other => AgentOutcome::with_message(Kind::Failed, describe(other, s.opts.timeout)),
    };
    let done = Attempted {
        record: record(attempt, None, &ended, &outcome),
        run: outcome,
        outcome: ended,
        tail: Vec::new(),
    };
    s.status.record(&id, done.record.clone());
    if done.outcome.kind == Kind::Interrupted || signals::pending().is_some() {
        return interrupted(s, &id, outcome);
    }
    let ctx = Ctx {
        i,
        attempt,
        log: &log,
        saved: &saved,
    };
    match done.outcome.kind {
        Kind::Success => merge(s, &ctx, (&base, &commit), done, retries),
        Kind::Skipped => skip(s, &ctx, outcome, format!("exit code {EXIT_SKIP}")),
        _ => {
            let failed = Failed {
                cause: describe(outcome.exit, s.opts.timeout),
                hints: Vec::new(),
            };
            fail(s, &ctx, outcome, failed, retries)
        }
    }
}

/// What the steps after a task's end share.
struct Ctx<'c> {
    i: usize,
    attempt: u32,
    log: &'c Path,
    /// The attempt ref holding the task's work.
    saved: &'c str,
}

/// Merge the task's commit onto HEAD, bring the result into the work tree,
/// run the checks on it, and commit the checkpoint.
fn merge(
    s: &mut Session<'_>,
    ctx: &Ctx<'_>,
    (base, commit): (&str, &str),
    mut done: Attempted,
    retries: &mut u32,
) -> Result<Next> {
    let id = s.plan.tasks[ctx.i].id.clone();
    let outcome = done.run;
    let head = s.repo.head_commit()?;
    let tree = match s.repo.merge_trees(base, &head, commit)? {
        Merged::Clean(tree) => tree,
        Merged::Conflict(paths) => {
            let failed = conflict(&id, &paths, ctx.saved);
            return fail(s, ctx, outcome, failed, retries);
        }
    };
    s.untracked.attempt_start(s.repo)?;
    let watch = Watch::start(s.repo, s.name(), &id)?;
    recover::note(s.repo, s.name(), &id, &head, &tree)?;
    if let Err(e) = s.repo.move_work_tree(&head, &tree) {
        recover::clear(s.repo, s.name())?;
        let failed = Failed {
            cause: format!("its changes could not be brought into the work tree: {e}"),
            hints: vec![format!("its work is saved as {}", ctx.saved)],
        };
        return fail(s, ctx, outcome, failed, retries);
    }
    s.after_success(ctx.i, ctx.attempt, ctx.log, &watch, &mut done)?;
    s.status.record(&id, done.record.clone());
    if !done.outcome.is_success() {
        s.repo.reset_work_tree(&head)?;
        recover::clear(s.repo, s.name())?;
        if done.outcome.kind == Kind::Interrupted {
            return interrupted(s, &id, outcome);
        }
        let failed = Failed {
            cause: format!("{} once merged", done.outcome.describe()),
            hints: vec![format!("its work is saved as {}", ctx.saved)],
        };
        return fail(s, ctx, outcome, failed, retries);
    }
    s.checkpoint(ctx.i, Verdict::Done, &watch, outcome)?;
    recover::clear(s.repo, s.name())?;
    // The branch holds the work now.
    s.repo.delete_ref(ctx.saved)?;
    s.ran += 1;
    Ok(Next::Done)
}

/// The failure of a task whose changes conflict with the branch's.
fn conflict(id: &str, paths: &[String], saved: &str) -> Failed {
    let quoted: Vec<String> = paths.iter().map(|p| text::quote(p)).collect();
    Failed {
        cause: format!(
            "its changes conflict with the branch's in {}",
            text::list(&quoted, 10)
        ),
        hints: vec![format!(
            "both versions are kept: the branch's at HEAD, {id}'s as {saved} (its change: `git show {saved}`)"
        )],
    }
}

/// Record task `i` failed and follow the failure policy.
fn fail(
    s: &mut Session<'_>,
    ctx: &Ctx<'_>,
    outcome: Outcome,
    failed: Failed,
    retries: &mut u32,
) -> Result<Next> {
    let task = &s.plan.tasks[ctx.i];
    let id = task.id.clone();
    let code = outcome.exit.code();
    s.status.failed(&id, code, outcome.duration);
    s.status.failure_saved(ctx.saved);
    s.status.save(s.repo.root())?;
    let tail = failure::read_log_tail(ctx.log, failure::LOG_TAIL_LINES);
    let attempt = FailedAttempt {
        milestone: &s.plan.milestone,
        task: &id,
        title: &task.title,
        cause: &failed.cause,
        attempt: ctx.attempt,
        log_tail: &tail,
        log_path: ctx.log,
    };
    let words = format!(
        "{id} failed ({}) after {}",
        failed.cause,
        seconds(outcome.duration)
    );
    match failure::decide(&attempt, s.opts.policy, *retries, None)? {
        Choice::Retry => {
            *retries += 1;
            s.report.warn(&format!(
                "{words}; its work is saved as {}; running it again; log: {}",
                ctx.saved,
                ctx.log.display()
            ));
            Ok(Next::Again)
        }
        Choice::Skip => skip(s, ctx, outcome, format!("failed: {}", failed.cause)),
        Choice::Stop | Choice::Rollback => {
            let mut e = Error::failed(format!(
                "{words}; the run stopped once the tasks running beside it had ended"
            ));
            for hint in failed.hints {
                e = e.hint(hint);
            }
            if !e.to_string().contains(ctx.saved) {
                e = e.hint(format!("its work is saved as {}", ctx.saved));
            }
            Ok(Next::Stop(
                e.hint(format!("its output: {}", ctx.log.display()))
                    .hint(format!("run it again: `{}`", s.opts.continue_with)),
            ))
        }
    }
}

/// Record task `i` skipped: a checkpoint of the status file alone, naming
/// the attempt ref that holds its work.
fn skip(s: &mut Session<'_>, ctx: &Ctx<'_>, outcome: Outcome, why: String) -> Result<Next> {
    let id = s.plan.tasks[ctx.i].id.clone();
    s.status.finish(
        &id,
        TaskState::Skipped,
        outcome.exit.code(),
        outcome.duration,
    );
    s.status.not_failed();
    s.untracked.attempt_start(s.repo)?;
    let watch = Watch::start(s.repo, s.name(), &id)?;
    let skip = Skip {
        why,
        saved: Some(ctx.saved.to_string()),
    };
    s.checkpoint(ctx.i, Verdict::Skipped(skip), &watch, outcome)?;
    s.ran += 1;
    Ok(Next::Done)
}

/// Record task `id` interrupted; its work is saved.
fn interrupted(s: &mut Session<'_>, id: &str, outcome: Outcome) -> Result<Next> {
    s.status
        .finish(id, TaskState::Interrupted, None, outcome.duration);
    s.status.save(s.repo.root())?;
    Ok(Next::Interrupted)
}
