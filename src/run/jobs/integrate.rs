//! A task that ended in its own worktree (its checks run there): its work
//! saved under an attempt ref first, then merged onto the branch as its
//! checkpoint (the checks run again on the merged result), or failed,
//! skipped or interrupted with the work kept under that ref. The worktree
//! is removed only once the work is saved.

use std::path::{Path, PathBuf};

use super::{Ended, Job, Next, recover};
use crate::agent::Kind;
use crate::error::{Error, Result};
use crate::failure::{self, Choice, FailedAttempt};
use crate::repo::merge::Merged;
use crate::run::attempt::Attempted;
use crate::run::learn::changes_text;
use crate::run::message::{Skip, Verdict};
use crate::run::session::{Session, seconds};
use crate::run::watch::Watch;
use crate::runner::{EXIT_SKIP, Outcome, signals};
use crate::state::TaskState;
use crate::ui::text;

/// What the run knows of a task's failed attempts: how often the policy
/// retried it, and how the last one ended (the policy does not retry an
/// agent that ended the same way twice).
#[derive(Default)]
pub(super) struct Tries {
    retries: u32,
    last: Option<Attempted>,
}

/// Why a task that ran failed, and what to say about it.
struct Failed {
    cause: String,
    hints: Vec<String>,
}

/// Task `i` ended with `out`: its work is saved; integrate, fail, skip,
/// wait for a rate limit or record it interrupted.
pub(super) fn end(
    s: &mut Session<'_>,
    i: usize,
    job: Job,
    out: Ended,
    tries: &mut Tries,
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
    let (commit, done) = match (out.commit, out.run) {
        (Ok(Some(commit)), Ok(done)) => (commit, done),
        (Err(e), _) => {
            let e = e.hint(format!(
                "{id}'s work is left in its worktree, {}",
                tree.path().display()
            ));
            return not_run(s, &id, e);
        }
        (Ok(_), Err(e)) => return not_run(s, &id, e),
        (Ok(None), Ok(_)) => unreachable!("a task that ran is saved"),
    };
    s.status.record(&id, done.record.clone());
    let outcome = done.run;
    if done.outcome.kind == Kind::Interrupted || signals::pending().is_some() {
        return interrupted(s, &id, outcome);
    }
    let ctx = Ctx {
        i,
        attempt,
        log: &log,
        saved: &saved,
        base: &base,
        commit: &commit,
    };
    match done.outcome.kind {
        Kind::Success => merge(s, &ctx, done, tries),
        Kind::Skipped => skip(s, &ctx, outcome, format!("exit code {EXIT_SKIP}")),
        Kind::RateLimit => rate_limited(s, &ctx, &done),
        kind => {
            let mut cause = done.cause(s.opts.timeout);
            if kind == Kind::ChecksFailed {
                cause.push_str(" in its worktree");
            }
            let failed = Failed {
                cause,
                hints: done.advice().into_iter().collect(),
            };
            fail(s, &ctx, done, failed, tries)
        }
    }
}

/// Task `id` could not run, or its work could not be saved: it failed,
/// and the run stops with `e`.
fn not_run(s: &mut Session<'_>, id: &str, e: Error) -> Result<Next> {
    s.status
        .finish(id, TaskState::Failed, None, Default::default());
    s.status.fail(id, None);
    s.status.save(s.repo.root())?;
    Ok(Next::Stop(e))
}

/// An agent hit a rate or usage limit: as a sequential run does, wait for
/// the reset and run the task again. The run waits with it (the tasks
/// running beside it go on, and are integrated after): a limit is the
/// account's, so they are likely to meet it too.
fn rate_limited(s: &mut Session<'_>, ctx: &Ctx<'_>, done: &Attempted) -> Result<Next> {
    write_feedback(s, ctx, done)?;
    match s.wait_for_reset(ctx.i, done) {
        Ok(()) => Ok(Next::Again),
        Err(_) if signals::pending().is_some() => Ok(Next::Interrupted),
        Err(e) => Ok(Next::Stop(e)),
    }
}

/// What the task's next attempt reads of this one, as in a sequential
/// run; its changes are under its attempt ref, not in the next attempt's
/// worktree, which starts from the latest checkpoint.
fn write_feedback(s: &Session<'_>, ctx: &Ctx<'_>, done: &Attempted) -> Result<()> {
    let stat = s.repo.diff_stat_between(ctx.base, ctx.commit);
    let mut changes = format!(
        "\nIts changes, saved as {saved} (the next attempt starts from the latest checkpoint without them; `git show {saved}` shows them):\n\n",
        saved = ctx.saved
    );
    changes.push_str(&changes_text(&stat, &[]));
    s.write_feedback_with(ctx.i, done, ctx.log, &changes)
}

/// What the steps after a task's end share.
struct Ctx<'c> {
    i: usize,
    attempt: u32,
    log: &'c Path,
    /// The attempt ref holding the task's work.
    saved: &'c str,
    /// The commit the task started from, and its work saved as a commit.
    base: &'c str,
    commit: &'c str,
}

/// Merge the task's commit onto HEAD, bring the result into the work tree,
/// run the checks on it, and commit the checkpoint.
fn merge(
    s: &mut Session<'_>,
    ctx: &Ctx<'_>,
    mut done: Attempted,
    tries: &mut Tries,
) -> Result<Next> {
    let id = s.plan.tasks[ctx.i].id.clone();
    let outcome = done.run;
    let head = s.repo.head_commit()?;
    let tree = match s.repo.merge_trees(ctx.base, &head, ctx.commit)? {
        Merged::Clean(tree) => tree,
        Merged::Conflict(paths) => {
            let failed = conflict(&id, &paths, ctx.saved);
            return fail(s, ctx, done, failed, tries);
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
        return fail(s, ctx, done, failed, tries);
    }
    // The checkpoint's evidence is the checks on what it commits.
    done.record.checks.clear();
    s.after_success(ctx.i, ctx.attempt, &merged_log(ctx.log), &watch, &mut done)?;
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
        return fail(s, ctx, done, failed, tries);
    }
    s.checkpoint(ctx.i, Verdict::Done, &watch, outcome)?;
    recover::clear(s.repo, s.name())?;
    // The branch holds the work now.
    s.repo.delete_ref(ctx.saved)?;
    s.ran += 1;
    Ok(Next::Done)
}

/// Where the checks on the merged result log, beside (not over) those of
/// the task's worktree: `T002.1.merged.check-1.log`.
fn merged_log(log: &Path) -> PathBuf {
    let name = log.file_name().unwrap_or_default().to_string_lossy();
    let stem = name.strip_suffix(".log").unwrap_or(&name);
    log.with_file_name(format!("{stem}.merged.log"))
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
    done: Attempted,
    failed: Failed,
    tries: &mut Tries,
) -> Result<Next> {
    let task = &s.plan.tasks[ctx.i];
    let id = task.id.clone();
    let outcome = done.run;
    s.status.failed(&id, outcome.exit.code(), outcome.duration);
    s.status.failure_saved(ctx.saved);
    s.status.save(s.repo.root())?;
    write_feedback(s, ctx, &done)?;
    // The lines the task showed: an agent's readable text, not its events.
    let tail = done.tail.join("\n");
    let attempt = FailedAttempt {
        milestone: &s.plan.milestone,
        task: &id,
        title: &task.title,
        cause: &failed.cause,
        attempt: ctx.attempt,
        log_tail: &tail,
        log_path: ctx.log,
    };
    let mut choice = failure::decide(&attempt, s.opts.policy, tries.retries, None)?;
    let words = format!(
        "{id} failed ({}) after {}",
        failed.cause,
        seconds(outcome.duration)
    );
    if choice == Choice::Retry && tries.last.as_ref().is_some_and(|l| l.same_ending(&done)) {
        s.report.warn(&format!(
            "{id} ended the same way twice ({}); not retrying it again",
            failed.cause
        ));
        choice = Choice::Stop;
    }
    tries.last = Some(done);
    match choice {
        Choice::Retry => {
            tries.retries += 1;
            s.report.warn(&format!(
                "{words}; its work is saved as {}; running it again; log: {}",
                ctx.saved,
                ctx.log.display()
            ));
            Ok(Next::Again)
        }
        Choice::Skip => skip(s, ctx, outcome, format!("failed: {}", failed.cause)),
        Choice::Stop | Choice::Rollback => Ok(Next::Stop(stopped(s, ctx, words, failed))),
    }
}

/// The error a failed task stops the run with.
fn stopped(s: &Session<'_>, ctx: &Ctx<'_>, words: String, failed: Failed) -> Error {
    let mut e = Error::failed(format!(
        "{words}; the run stopped once the tasks running beside it had ended"
    ));
    for hint in failed.hints {
        e = e.hint(hint);
    }
    if !e.to_string().contains(ctx.saved) {
        e = e.hint(format!("its work is saved as {}", ctx.saved));
    }
    e.hint(format!("its output: {}", ctx.log.display()))
        .hint(format!("run it again: `{}`", s.opts.continue_with))
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
