//! The prompt an agent's attempt gets: the template (the user's, else the
//! agent's default) filled in for one task; and the check, before anything
//! runs, that each task's first prompt fits in the one argument it is
//! passed as.

use std::path::Path;

use super::Options;
use super::runners::TaskRunner;
use crate::agent::prompt::{self, Template, Values};
use crate::agent::{Agent, preset};
use crate::error::Result;
use crate::plan::Plan;
use crate::repo::Repo;

/// What every prompt of a run is made from.
pub(super) struct Prompts<'a> {
    template: Template,
    plan: &'a Plan,
    plan_text: String,
    /// Each task's line, where its section of the plan starts.
    lines: Vec<usize>,
}

impl<'a> Prompts<'a> {
    pub(super) fn new(root: &Path, plan: &'a Plan, opts: &Options, agent: Agent) -> Prompts<'a> {
        let template = opts.tasks.prompt.clone().unwrap_or_else(|| {
            let task_command = root.join(prompt::TASK_COMMAND).is_file();
            Template::default_for(agent, task_command)
        });
        Prompts {
            template,
            plan,
            plan_text: std::fs::read_to_string(root.join(&plan.plan)).unwrap_or_default(),
            lines: plan.tasks.iter().map(|t| t.line).collect(),
        }
    }

    /// The prompt for attempt `attempt` of task `i`, with the previous
    /// attempt's `feedback` file on a retry.
    pub(super) fn render(&self, i: usize, attempt: u32, feedback: Option<&Path>) -> String {
        let task = &self.plan.tasks[i];
        let section = prompt::section(&self.plan_text, task.line, &self.lines);
        let feedback_text = feedback.map(|p| std::fs::read_to_string(p).unwrap_or_default());
        self.template.render(&Values {
            milestone: &self.plan.milestone,
            task: &task.id,
            title: &task.title,
            plan: &self.plan.plan,
            line: task.line,
            section: &section,
            index: i + 1,
            total: self.plan.tasks.len(),
            attempt,
            feedback: feedback.zip(feedback_text.as_deref()),
        })
    }
}

/// Refuse, before any task starts, a prompt too long for the argument the
/// agent gets it in: each agent task's first prompt is rendered and
/// measured. (A retry adds its feedback, which is quoted at most 16 KiB.)
pub(super) fn check(
    repo: &Repo,
    plan: &Plan,
    opts: &Options,
    runners: &[Option<TaskRunner>],
) -> Result<()> {
    let mut prompts: Option<(Agent, Prompts<'_>)> = None;
    for (i, runner) in runners.iter().enumerate() {
        let Some(agent) = runner.as_ref().and_then(|r| r.agent) else {
            continue;
        };
        if prompts.as_ref().is_none_or(|(a, _)| *a != agent) {
            prompts = Some((agent, Prompts::new(repo.root(), plan, opts, agent)));
        }
        if let Some((_, p)) = &prompts {
            preset::check_prompt(&p.render(i, 1, None))?;
        }
    }
    Ok(())
}
