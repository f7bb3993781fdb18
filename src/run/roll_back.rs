//! A failed attempt rolled back by the run (`--on-failure rollback`, or the
//! prompt's choice): the rollback, a signal that arrives during it, and the
//! error the run ends with.

use super::session::Session;
use crate::error::{Error, Result};
use crate::repo::short_oid as short;
use crate::rollback;
use crate::runner::{Outcome, signals};

impl Session<'_> {
    pub(super) fn roll_back(
        &mut self,
        i: usize,
        before: &str,
        (outcome, log): (Outcome, &std::path::Path),
    ) -> Result<Error> {
        let id = self.plan.tasks[i].id.clone();
        let last = self.last_checkpoint(i)?;
        let result = rollback::attempt(self.repo, &mut self.status, &id, &last, before);
        if let Some(sig) = signals::pending() {
            return self.rollback_interrupted(&id, sig, result, (&last, outcome, log));
        }
        let saved = result?;
        let e = Error::failed(format!(
            "{}; its work is saved in {}{} and the branch is back at {}",
            self.failure_words(&id, outcome),
            saved.ref_name,
            rollback::removed_note(&saved),
            short(&last)
        ));
        Ok(self
            .log_hint(e, log)
            .hint(format!(
                "bring the work back with `{}` (with git alone: `{}`)",
                saved.restore_command, saved.plain_git_command
            ))
            .hint(format!(
                "run the task again with `{}`",
                self.opts.continue_with
            )))
    }

    /// Ctrl-C or SIGTERM during the rollback after a failure: the run is
    /// recorded as interrupted (exit 130), whether the rollback stopped
    /// before it changed anything or finished first.
    fn rollback_interrupted(
        &mut self,
        id: &str,
        sig: i32,
        result: Result<rollback::SavedAttempt>,
        (last, outcome, log): (&str, Outcome, &std::path::Path),
    ) -> Result<Error> {
        self.interrupted(Some(id), sig)?;
        let run = format!("`{}`", self.opts.continue_with);
        let failed = self.failure_words(id, outcome);
        Ok(match result {
            Ok(saved) => self.log_hint(Error::interrupted(format!(
                "{failed}, and {} arrived while it was rolled back; the rollback finished first: \
                 its work is saved in {}{} and the branch is back at {}",
                crate::ui::text::signal_name(sig),
                saved.ref_name,
                rollback::removed_note(&saved),
                short(last)
            )), log)
            .hint(format!(
                "bring the work back with `{}`, or run the task again with {run}",
                saved.restore_command
            )),
            Err(e) if e.kind() == crate::error::Kind::Interrupted => {
                e.hint(format!("or continue {id} on top of its changes with {run}"))
            }
            Err(e) => return Err(e),
        })
    }

    /// The checkpoint before task `i`, or the run's base commit.
    fn last_checkpoint(&self, i: usize) -> Result<String> {
        self.status.tasks[..i]
            .iter()
            .rev()
            .find_map(|t| t.checkpoint.clone())
            .or_else(|| self.status.base_commit.clone())
            .ok_or_else(|| Error::failed("the status file records no base commit to roll back to"))
    }
}
