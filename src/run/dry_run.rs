//! `run --dry-run`: what the checks prepared, printed. Each task as it
//! would run (its command line, where the runner came from, its checks,
//! the checkpoint it makes) or why it would not; the limits that change
//! what a run does; and, with `--jobs`, the waves.

use super::prepare::Prepared;
use super::runners::TaskRunner;
use super::{Options, Report, jobs, message};
use crate::agent::{Agent, preset};
use crate::config::RunnerSource;
use crate::plan::Task;
use crate::repo::refs::checkpoint_ref;
use crate::runner;
use crate::state::{TaskState, TaskStatus};
use crate::ui::text;

impl Prepared<'_> {
    /// Print what a run would do, after what the checks had to say.
    pub(super) fn render(self, opts: &Options, report: &mut dyn Report) {
        self.notes.replay(report);
        let plan = &*self.plan;
        let n = plan.tasks.len();
        report.info(&format!(
            "Milestone {} from {}: {} (dry run: nothing will be changed)",
            plan.milestone,
            plan.plan,
            text::count(n, "task")
        ));
        limits(opts, report);
        let start = &self.start;
        let tasks = plan.tasks.iter().zip(&start.status.tasks);
        for (i, ((task, record), runner)) in tasks.zip(&start.runners).enumerate() {
            let title = message::one_line(&task.title);
            report.info(&format!("{}/{n} {} {title}", i + 1, task.id));
            match runner {
                Some(r) => would_run(&plan.milestone, task, r, opts, report),
                None => not_run(record, report),
            }
        }
        if opts.jobs > 1 {
            jobs::print_waves(plan, &start.status, opts.jobs, report);
        }
    }
}

/// Why a finished task would not run.
fn not_run(record: &TaskStatus, report: &mut dyn Report) {
    let why = match record.state {
        TaskState::DoneInPlan => "marked done in the plan",
        TaskState::Skipped => "skipped earlier",
        _ => "done: it has a checkpoint",
    };
    report.info(&format!("    not run: {why}"));
}

/// How `task` of milestone `name` would run through `r`: its command line
/// and where it came from, its checks, and its checkpoint.
fn would_run(name: &str, task: &Task, r: &TaskRunner, opts: &Options, report: &mut dyn Report) {
    let argv = match r.agent {
        Some(agent) => agent_argv(agent, opts),
        None => {
            let mut argv = vec!["sh".to_string()];
            argv.extend(runner::shell_args(&r.command, r.script, &task.id));
            argv
        }
    };
    let over = match r.over {
        Some(RunnerSource::Plan) => {
            format!(", which overrides {}", RunnerSource::Plan.describe())
        }
        Some(other) => format!(", which takes precedence over {}", other.describe()),
        None => String::new(),
    };
    let what = if r.agent.is_some() { "agent" } else { "runner" };
    report.info(&format!(
        "    run: {}   ({what} from {}{over})",
        text::command_line(&argv),
        r.describe_source()
    ));
    let mut checks = opts.tasks.verify.clone();
    checks.extend(task.verify.iter().cloned());
    if !checks.is_empty() {
        let shown: Vec<String> = checks
            .iter()
            .map(|c| text::quote(&message::one_line(c)))
            .collect();
        report.info(&format!("    check: {}", shown.join(", ")));
    }
    let mut then = format!(
        "    then: checkpoint commit, {}",
        checkpoint_ref(name, &task.id)
    );
    if opts.tag {
        then.push_str(&format!(", tag milestone/{name}/{}", task.id));
    }
    report.info(&then);
}

/// The lines for a time limit and a failure policy other than the
/// default, which change what a run does and so belong in its plan.
fn limits(opts: &Options, report: &mut dyn Report) {
    if let Some(limit) = opts.timeout {
        report.info(&format!(
            "each task is stopped after {}",
            text::duration(limit)
        ));
    }
    if opts.policy != crate::failure::Policy::Stop {
        report.info(&format!(
            "a task that fails with no terminal to ask: --on-failure {}",
            opts.policy
        ));
    }
}

/// An agent's command line for the dry run, `<prompt>` for its prompt.
fn agent_argv(agent: Agent, opts: &Options) -> Vec<String> {
    let req = preset::Request {
        prompt: "<prompt>",
        extra: &opts.tasks.agent_args,
        resume: None,
        max_cost: opts.tasks.max_cost,
        scratch: std::path::Path::new("<log dir>"),
    };
    preset::build(agent, &req).map_or_else(|_| vec![agent.program().to_string()], |c| c.argv())
}
