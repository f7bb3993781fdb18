//! Between the checks and the loop: the run lock, what a killed run left
//! tidied up under it, then the first writes (the untracked files recorded,
//! checkpoint refs restored, the settings for the resume) and the session
//! the loop runs in. Also the run that finds nothing left to do.

use super::prepare::{Notes, Start};
use super::session::Session;
use super::{Finished, Options, Report, jobs};
use crate::error::{Error, Result};
use crate::failure::Prompter;
use crate::history::Checkpoints;
use crate::lock::RunLock;
use crate::plan::Plan;
use crate::repo::Repo;
use crate::repo::refs::checkpoint_ref;
use crate::repo::short_oid as short;
use crate::runner::signals;
use crate::state::{self, Status, TaskState};

/// Take the run lock, then say what the checks had to say, and put back
/// what a killed `--jobs` run left in the work tree. Refusals here (a
/// live run, a git lock file) still come before anything is written.
pub(super) fn lock(
    repo: &Repo,
    plan: &Plan,
    notes: Notes,
    report: &mut dyn Report,
) -> Result<RunLock> {
    signals::install()
        .map_err(|e| Error::failed("cannot install signal handlers").with_cause(e))?;
    let name = plan.milestone.as_str();
    let lock = RunLock::acquire(repo.git_dir(), repo.common_dir(), name)
        .map_err(|e| super::disk_full_hint(repo, e))?;
    // Under the run lock: a git lock file now is not a live run's.
    repo.check_no_stale_locks(name)?;
    report_replaced(&lock, report);
    notes.replay(report);
    jobs::recover::after_kill(repo, plan, report)?;
    Ok(lock)
}

impl Start {
    /// Under the lock: the run's first writes, then its session.
    pub(super) fn begin<'a>(
        mut self,
        repo: &'a Repo,
        (plan, opts): (&'a Plan, &'a Options),
        report: &'a mut dyn Report,
        prompter: Option<&'a mut dyn Prompter>,
    ) -> Result<Session<'a>> {
        let name = plan.milestone.as_str();
        state::remove_stale_temp_files(repo.root(), name)?;
        self.untracked.begin(!self.resuming)?;
        if !self.resuming && opts.restart {
            repo.delete_checkpoint_refs(name)?;
        }
        if self.resuming {
            fill_checkpoints(repo, &mut self.status, report)?;
        }
        opts.settings.save(repo.git_dir(), name)?;
        Ok(Session {
            repo,
            plan,
            opts,
            report,
            prompter,
            status: self.status,
            untracked: self.untracked,
            runners: self.runners,
            committer: self.committer,
            ran: 0,
            cause: None,
            advice: None,
            mark_done: self.mark_done,
        })
    }
}

/// Every task is finished. A run killed after its last checkpoint may
/// have left its lock file, and the last checkpoint's ref unwritten: under
/// the lock (unless a live run holds it), tidy up the one and restore the
/// other from its commit's trailers.
pub(super) fn nothing_to_do(
    repo: &Repo,
    mut status: Status,
    report: &mut dyn Report,
) -> Result<Finished> {
    let name = status.milestone.clone();
    if let Ok(lock) = RunLock::acquire(repo.git_dir(), repo.common_dir(), &name) {
        report_replaced(&lock, report);
        fill_checkpoints(repo, &mut status, report)?;
    }
    let all = match status.tasks.len() {
        1 => "its only task is done".to_string(),
        n => format!("all {n} tasks are done"),
    };
    report.info(&format!("Milestone {name}: {all}; nothing to run."));
    report.info(&format!(
        "To run it again from the start: git milestone run {name} --restart"
    ));
    Ok(Finished::NothingToDo)
}

/// Say that the lock file a killed run left was taken over.
fn report_replaced(lock: &RunLock, report: &mut dyn Report) {
    if let Some(old) = &lock.replaced {
        report.warn(&format!(
            "warning: taking over the run lock left by pid {} (started {}), which ended without removing it",
            old.pid,
            crate::ui::text::clean(&old.started_at)
        ));
    }
}

/// Tasks whose checkpoint commit is not in the status file (the last one
/// never is: a commit cannot name itself) get the one this branch holds
/// (by [`Checkpoints::on_branch`]), and its ref is written again when it
/// names another commit or none (reported when it was missing: a killed
/// run committed but did not write it).
fn fill_checkpoints(repo: &Repo, status: &mut Status, report: &mut dyn Report) -> Result<()> {
    let name = status.milestone.clone();
    let index = Checkpoints::read(repo, &name, status)?;
    let unrecorded: Vec<String> = status
        .tasks
        .iter()
        .filter(|t| matches!(t.state, TaskState::Done | TaskState::Skipped))
        .filter(|t| t.checkpoint.is_none())
        .map(|t| t.id.clone())
        .collect();
    for id in unrecorded {
        let Some(commit) = index.on_branch(repo, &id)? else {
            continue;
        };
        let current = repo.checkpoint_commit(&name, &id)?;
        if current.as_deref() != Some(commit.as_str()) {
            repo.set_checkpoint_ref(&name, &id, &commit)?;
        }
        if current.is_none() {
            report.info(&format!(
                "restored {} from the trailers of {} (an earlier run was stopped before writing it)",
                checkpoint_ref(&name, &id),
                short(&commit)
            ));
        }
        status.checkpointed(&id, commit);
    }
    Ok(())
}
