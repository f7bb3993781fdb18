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
use crate::run::message::{Skip, Verdict};
use crate::run::progress;
use crate::run::session::{Session, seconds};
use crate::run::watch::Watch;
use crate::runner::{EXIT_SKIP, Outcome, signals};
use crate::state::{self, TaskState};
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
    let (commit, done) = match (out.commit, out.run) {
        (Ok(Some(commit)), Ok(done)) => (commit, done),
        (commit, run) => {
            let e = match (commit, run) {
                (Err(e), _) => e.hint(format!(
                    "{id}'s work is left in its worktree, {}",
                    tree.path().display()
                )),
                (Ok(_), Err(e)) => e,
                (Ok(_), Ok(_)) => unreachable!("a task that ran is saved"),
            };
            progress::finish(
                &mut s.status,
                &id,
                TaskState::Failed,
                None,
                Default::default(),
            );
            progress::fail(&mut s.status, &id, None);
            s.status.save(s.repo.root())?;
            return Ok(Next::Stop(e));
        }
    };
    progress::record(&mut s.status, &id, done.record.clone());
    let outcome = done.run;
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
        kind => {
            let mut cause = done.cause(s.opts.timeout);
            if kind == Kind::ChecksFailed {
                cause.push_str(" in its worktree");
            }
            let failed = Failed {
                cause,
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
    s.keep_untracked()?;
    s.attempt_started = Some(state::mark_attempt_start(s.repo.git_dir(), s.name())?);
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
    // The checkpoint's evidence is the checks on what it commits.
    done.record.checks.clear();
    s.after_success(ctx.i, ctx.attempt, &merged_log(ctx.log), &watch, &mut done)?;
    progress::record(&mut s.status, &id, done.record.clone());
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
    outcome: Outcome,
    failed: Failed,
    retries: &mut u32,
) -> Result<Next> {
    let task = &s.plan.tasks[ctx.i];
    let id = task.id.clone();
    let code = outcome.exit.code();
    progress::failed(&mut s.status, &id, code, outcome.duration);
    if let Some(f) = s.status.failure.as_mut() {
        f.saved_ref = Some(ctx.saved.to_string());
    }
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
    progress::finish(
        &mut s.status,
        &id,
        TaskState::Skipped,
        outcome.exit.code(),
        outcome.duration,
    );
    // Skipping is not a failure: the task's record says how it ended.
    s.status.failure = None;
    s.keep_untracked()?;
    s.attempt_started = Some(state::mark_attempt_start(s.repo.git_dir(), s.name())?);
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
    progress::finish(
        &mut s.status,
        id,
        TaskState::Interrupted,
        None,
        outcome.duration,
    );
    s.status.save(s.repo.root())?;
    Ok(Next::Interrupted)
}
