//! `run --jobs N`: independent tasks at the same time, each in its own
//! linked worktree under the git directory, integrated onto the branch in
//! plan order as ordinary checkpoints. `--jobs 1` never comes here.

mod waves;

use super::Report;
use crate::plan::Plan;
use crate::state::Status;
use crate::ui::text;

/// The dry run's waves: which tasks would run together with `jobs` at a
/// time, if every task took as long.
pub(super) fn print_waves(plan: &Plan, status: &Status, jobs: usize, report: &mut dyn Report) {
    let graph = waves::Graph::new(&plan.tasks);
    let finished: Vec<bool> = status.tasks.iter().map(|t| t.state.is_finished()).collect();
    let waves = waves::waves(&graph, &finished, jobs);
    let left: usize = waves.iter().map(Vec::len).sum();
    report.info(&format!(
        "With --jobs {jobs}: {} in {} (the tasks of a wave run at the same time):",
        text::count(left, "task"),
        text::count(waves.len(), "wave")
    ));
    for (k, wave) in waves.iter().enumerate() {
        let ids: Vec<&str> = wave.iter().map(|&i| plan.tasks[i].id.as_str()).collect();
        report.info(&format!(
            "  wave {}: {}",
            k + 1,
            text::list(&ids, usize::MAX)
        ));
    }
}
