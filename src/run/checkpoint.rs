//! A task's checkpoint: the status file says how it ended, the plan's
//! mark is written back, then one commit holds both and the task's work
//! (the user's untracked files left out); a skipped task's holds the
//! status file only, its work set aside under an attempt ref. And what a
//! checkpoint that cannot be made leaves.

use super::message::{self, Verdict};
use super::session::Session;
use super::watch::{self, Seen, Watch};
use crate::error::{Error, Result};
use crate::repo::checkpoint::{Checkpoint, CheckpointSpec};
use crate::repo::short_oid as short;
use crate::runner::{EXIT_SKIP, Exit, Outcome, signals};
use crate::state::{self, TaskState};
use crate::ui::text;

impl Session<'_> {
    /// Commit task `i`'s work with the status file, on top of any commits
    /// the task made itself.
    pub(super) fn checkpoint(
        &mut self,
        i: usize,
        verdict: Verdict,
        watch: &Watch,
        outcome: Outcome,
    ) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        let adopted = match watch.check(self.repo)? {
            Seen::Stayed => Vec::new(),
            Seen::Ahead(ids) => ids,
            seen => return Err(self.no_checkpoint(i, watch, &seen, outcome)),
        };
        let state = match verdict {
            Verdict::Done => TaskState::Done,
            Verdict::Skipped(_) => TaskState::Skipped,
        };
        self.status
            .finish(&id, state, outcome.exit.code(), outcome.duration);
        self.status.adopt(&id, adopted);
        self.status.save(self.repo.root())?;
        // After the status file says done: a run killed before the commit
        // then runs the task again on top of its work, ticked plan included.
        let written = self.write_back(i, &verdict, &watch.before)?;
        let msg = self.message(i, &verdict);
        let cp = match self.commit(&id, &msg) {
            Ok(cp) => cp,
            Err(e) => {
                if let Some(w) = written {
                    w.undo(self.repo);
                }
                return Err(self.checkpoint_failed(i, e));
            }
        };
        self.status.checkpointed(&id, cp.commit.clone());
        self.keep_left_out(&id, &cp.left_out)?;
        self.untracked
            .checkpointed(!self.committer.has_commit_hooks())?;
        self.say_checkpoint(i, &cp.commit, &verdict, outcome);
        Ok(())
    }

    /// Task `i`'s checkpoint message: subject, body, trailers, and the
    /// evidence of its checks.
    fn message(&self, i: usize, verdict: &Verdict) -> String {
        let record = &self.status.tasks[i];
        let msg = message::checkpoint_message(
            self.name(),
            &record.id,
            &self.plan.tasks[i].title,
            verdict,
            self.status.progress(),
            record.attempts,
        );
        let evidence: Vec<String> = match verdict {
            Verdict::Done => record
                .history
                .last()
                .map(|a| a.checks.iter().map(|c| c.evidence()).collect())
                .unwrap_or_default(),
            Verdict::Skipped(_) => Vec::new(),
        };
        message::with_trailers(msg, "Milestone-Verified", &evidence)
    }

    /// Commit task `id`'s checkpoint on HEAD: the status file, and the
    /// work tree's changes but the user's untracked files.
    fn commit(&self, id: &str, msg: &str) -> Result<Checkpoint> {
        let status_path = state::status_rel_path(self.name())?;
        let parent = self.repo.head_commit()?;
        self.repo.checkpoint(&CheckpointSpec {
            milestone: self.name(),
            task: id,
            message: msg,
            status_path: &status_path,
            keep_untracked: self.untracked.users(),
            parent: &parent,
            attempt_started: self.untracked.started(),
            task_files: self.untracked.tasks(),
            tag: self.opts.tag,
            committer: &self.committer,
        })
    }

    /// The line that says task `i` has its checkpoint `commit`.
    fn say_checkpoint(&mut self, i: usize, commit: &str, verdict: &Verdict, outcome: Outcome) {
        let name = self.plan.tasks[i].name();
        let what = if matches!(verdict, Verdict::Skipped(_)) {
            " (skipped)"
        } else {
            ""
        };
        let spent = self.status.tasks[i]
            .history
            .last()
            .and_then(|a| a.usage)
            .map(|u| format!(", {}", u.describe()))
            .unwrap_or_default();
        // The task's place, as `Starting` said it: how many tasks are
        // finished (the trailer's progress) counts later ones the plan
        // marks done, and would jump ahead.
        self.report.info(&format!(
            "checkpoint {} {name} [{}/{}]{what} in {}{spent}",
            short(commit),
            i + 1,
            self.plan.tasks.len(),
            text::duration(outcome.duration)
        ));
    }

    /// Skip task `i` (its runner exited 125, or `--on-failure skip`): its
    /// changes are saved as an attempt and taken away, as a rollback does,
    /// so that the checkpoint recording the skip holds the status file only.
    pub(super) fn skip(&mut self, i: usize, watch: &Watch, outcome: Outcome) -> Result<()> {
        let id = self.plan.tasks[i].id.clone();
        // Its end is known: the files it made are those recorded just now.
        self.status.finish(
            &id,
            TaskState::Skipped,
            outcome.exit.code(),
            outcome.duration,
        );
        let set_aside = crate::rollback::set_aside(self.repo, &self.status, &id, &watch.before);
        if let Some(sig) = signals::pending() {
            // Nothing is left half done; the task runs again next time.
            self.status.interrupt_task(&id);
            return Err(self.interrupted(Some(&id), sig)?);
        }
        let saved = match set_aside {
            Ok(saved) => saved,
            Err(e) => {
                // It cannot be set aside (a commit of the user's, say): it
                // stops the run as a failure, its changes where they are.
                self.status
                    .failed(&id, outcome.exit.code(), outcome.duration);
                self.status.save(self.repo.root())?;
                return Err(e.hint(format!(
                    "{id} was to be skipped; its changes are still in the work tree"
                )));
            }
        };
        self.untracked.set_aside();
        self.status.not_failed();
        let why = match outcome.exit {
            Exit::Code(EXIT_SKIP) => format!("exit code {EXIT_SKIP}"),
            exit => format!("failed: {}", self.cause_of(exit)),
        };
        let skip = message::Skip {
            why,
            saved: saved.map(|s| s.ref_name),
        };
        self.checkpoint(i, Verdict::Skipped(skip), watch, outcome)
    }

    fn checkpoint_failed(&mut self, i: usize, e: Error) -> Error {
        let id = self.plan.tasks[i].id.clone();
        // The attempt's new files that staging did not reach are its own,
        // for the retry (best effort: the failure may be a full disk).
        let _ = self.untracked.attempt_end(self.repo);
        // Ctrl-C reaches the hooks (they share our process group) and makes
        // them fail: that is an interruption, not a refusal.
        if let Some(sig) = signals::pending() {
            self.status.interrupt_task(&id);
            return self.interrupted(Some(&id), sig).unwrap_or(e);
        }
        let code = self.status.tasks[i].exit_code;
        self.status.fail_task(&id, code);
        let _ = self.status.save(self.repo.root());
        e.hint(format!(
            "no checkpoint was made; {id}'s changes are kept in the work tree (see `git status`)"
        ))
        .hint(format!(
            "{id} will run again with `{}`",
            self.opts.continue_with
        ))
    }

    /// The task moved HEAD in a way its checkpoint cannot follow: record
    /// it as failed, its changes kept, and say what happened.
    fn no_checkpoint(&mut self, i: usize, watch: &Watch, seen: &Seen, outcome: Outcome) -> Error {
        let id = self.plan.tasks[i].id.clone();
        let _ = self.untracked.attempt_end(self.repo);
        self.status
            .failed(&id, outcome.exit.code(), outcome.duration);
        // Only the task's own commits may go in a rollback without --force.
        if let Ok(own) = watch.own_head(self.repo) {
            self.status.failed_at(own);
        }
        let _ = self.status.save(self.repo.root());
        watch::refusal(self.repo, &id, &self.opts.continue_with, watch, seen)
    }

    /// Files a checkpoint left out as not the task's: kept out of every
    /// later checkpoint too, and said.
    fn keep_left_out(&mut self, id: &str, left_out: &[String]) -> Result<()> {
        if left_out.is_empty() {
            return Ok(());
        }
        let quoted: Vec<String> = left_out.iter().map(|p| text::quote(p)).collect();
        self.report.warn(&format!(
            "warning: {} left out of {id}'s checkpoint: {} there, unchanged, before {id} started (an ignore rule hid {} until the task changed the rules)",
            text::list(&quoted, 5),
            if left_out.len() == 1 { "it was" } else { "they were" },
            if left_out.len() == 1 { "it" } else { "them" },
        ));
        self.untracked.keep(left_out.to_vec())
    }
}
