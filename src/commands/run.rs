//! `git milestone run`: resolve the settings, load the plan, call
//! `run::execute`, and print its lines.

use std::path::Path;

use crate::cli::RunArgs;
use crate::config;
use crate::error::Result;
use crate::failure::Prompter;
use crate::plan;
use crate::repo::Repo;
use crate::repo::scan::{Refresh, Scope};
use crate::run::{self, Finished, Options, Report};
use crate::runner::{self, Sink};
use crate::ui::{self, prompt::TerminalPrompter};

pub fn run(args: &RunArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    // Before the plan is read: the name becomes paths and ref names.
    let key = crate::state::resolve_key(repo.root(), &args.name)?;
    // git walks the work tree while the settings and the plan are read.
    repo.prefetch_scan(Scope::Run(Refresh::ReadOnly));
    let timeout = args
        .timeout
        .as_deref()
        .map(runner::parse_duration)
        .transpose()?;
    let policy = config::policy(&repo, args.on_failure.as_deref())?;
    let runner = config::global_runner(&repo, args.runner.as_deref())?;
    let mut plan = plan::load(&repo, &args.name, args.plan.as_deref(), cwd)?;
    plan.milestone = key;
    let opts = Options {
        runner,
        tag: args.tag,
        dry_run: args.dry_run,
        retry: args.retry,
        restart: args.restart,
        detach_ok: args.detach_ok,
        timeout,
        policy,
        echo: Sink::Stdout,
    };
    // With a terminal, a failed task is a question; without one the policy decides.
    let mut terminal = TerminalPrompter;
    let prompter: Option<&mut dyn Prompter> = ui::can_prompt().then_some(&mut terminal as _);
    match run::execute(&repo, &plan, &opts, &mut Terminal, prompter)? {
        Finished::Completed { ran } => {
            let tasks = if ran == 1 { "task" } else { "tasks" };
            println!(
                "Milestone {} is complete ({ran} {tasks} run).",
                plan.milestone
            );
        }
        Finished::CompletedWithSkips { ran, skipped } => {
            let ids: Vec<String> = skipped
                .iter()
                .map(|id| crate::ui::text::clean(id).into_owned())
                .collect();
            println!(
                "Milestone {} completed with skipped tasks: {} ({} run).",
                plan.milestone,
                crate::ui::text::list(&ids, 5),
                crate::ui::text::count(ran, "task")
            );
            println!(
                "A skipped task's changes are not committed: they are saved under refs/milestone/{}/attempts/<ID>/.",
                plan.milestone
            );
        }
        Finished::NothingToDo | Finished::DryRun => {}
    }
    Ok(0)
}

/// Progress on stdout, trouble on stderr; the lines name tasks and titles
/// from the plan, so no control character gets through.
struct Terminal;

impl Report for Terminal {
    fn info(&mut self, line: &str) {
        for part in line.split('\n') {
            println!("{}", ui::text::clean(part));
        }
    }
    fn warn(&mut self, line: &str) {
        for part in line.split('\n') {
            eprintln!("{}", ui::text::clean(part));
        }
    }
}
