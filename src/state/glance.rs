//! What a status file says at a glance, for `status`: the task a milestone
//! is at, and the exit code `status --exit-code` gives.

use super::{RunState, Status, TaskState};
use crate::error::{EXIT_MILESTONE_FAILED, EXIT_MILESTONE_MID_RUN};

impl Status {
    /// The task the milestone is at: the failed one, the one running or
    /// interrupted (all of them, when `run --jobs` runs several), else the
    /// next to run; none once completed.
    pub fn current_task(&self) -> Option<String> {
        let busy: Vec<&str> = self
            .tasks
            .iter()
            .filter(|t| matches!(t.state, TaskState::Running | TaskState::Interrupted))
            .map(|t| t.id.as_str())
            .collect();
        if busy.len() > 1 && matches!(self.state, RunState::Running | RunState::Interrupted) {
            return Some(crate::ui::text::list(&busy, 5));
        }
        let first = |states: &[TaskState]| {
            self.tasks
                .iter()
                .find(|t| states.contains(&t.state))
                .map(|t| t.id.clone())
        };
        match self.state {
            RunState::Completed | RunState::CompletedWithSkips => None,
            RunState::Failed => self
                .failure
                .as_ref()
                .map(|f| f.task.clone())
                .or_else(|| first(&[TaskState::Failed])),
            RunState::Running | RunState::Interrupted => first(&[
                TaskState::Failed,
                TaskState::Interrupted,
                TaskState::Running,
            ])
            .or_else(|| first(&[TaskState::Pending])),
        }
    }
}

/// `status --exit-code` for milestones in `states` (`None`: a status file
/// that cannot be read, which might hide a failure): 1 when one failed,
/// completed with skipped tasks, or cannot be read, else 3 when one is
/// mid-run, else 0.
pub fn exit_code(states: impl IntoIterator<Item = Option<RunState>>) -> i32 {
    let mut code = 0;
    for state in states {
        match state {
            None | Some(RunState::Failed | RunState::CompletedWithSkips) => {
                return EXIT_MILESTONE_FAILED;
            }
            Some(RunState::Running | RunState::Interrupted) => code = EXIT_MILESTONE_MID_RUN,
            Some(RunState::Completed) => {}
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outranks_a_run_in_progress() {
        use RunState::*;
        assert_eq!(exit_code([]), 0);
        assert_eq!(exit_code([Some(Completed)]), 0);
        assert_eq!(exit_code([Some(Completed), Some(Interrupted)]), 3);
        assert_eq!(exit_code([Some(Running), Some(CompletedWithSkips)]), 1);
        assert_eq!(exit_code([Some(Running), None]), 1);
    }
}
