//! `git milestone run`: resolve the settings, load the plan, call
//! `run::execute`, and print its lines.

use std::path::Path;

use crate::cli::RunArgs;
use crate::error::Result;
use crate::failure::Prompter;
use crate::plan;
use crate::repo::Repo;
use crate::repo::scan::{Refresh, Scope};
use crate::run::{self, Finished, Options, Report, settings};
use crate::runner::Sink;
use crate::ui::{self, prompt::TerminalPrompter, text};

pub fn run(args: &RunArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    // Before the plan is read: the name becomes paths and ref names.
    let key = crate::state::resolve_key(repo.root(), &args.name)?;
    // git walks the work tree while the settings and the plan are read.
    repo.prefetch_scan(Scope::Run(Refresh::ReadOnly));
    let given = settings::Given {
        plan: args.plan.as_deref(),
        runner: args.runner.as_deref(),
        tag: args.tag,
        timeout: args.timeout.as_deref(),
        on_failure: args.on_failure.as_deref(),
        restart: args.restart,
        cwd,
    };
    let mut resolved = settings::resolve(&repo, &key, given)?;
    let mut plan = plan::load(&repo, &args.name, resolved.plan.as_deref(), cwd)?;
    if let Some(line) = plan.left_out_line(resolved.plan.is_some()) {
        println!("{line}");
    }
    plan.milestone = key;
    if resolved.plan.is_some() {
        resolved.settings.plan = Some(plan.plan.clone());
    }
    let continue_with =
        resolved
            .settings
            .command(&plan.milestone, repo.root(), cwd, args.detach_ok);
    let opts = Options {
        runner: resolved.runner,
        tag: resolved.tag,
        dry_run: args.dry_run,
        retry: args.retry,
        restart: args.restart,
        detach_ok: args.detach_ok,
        timeout: resolved.timeout,
        policy: resolved.policy,
        echo: Sink::Stdout,
        settings: resolved.settings,
        reused: resolved.reused,
        continue_with,
    };
    // With a terminal, a failed task is a question; without one the policy decides.
    let mut terminal = TerminalPrompter;
    let prompter: Option<&mut dyn Prompter> = ui::can_prompt().then_some(&mut terminal as _);
    match run::execute(&repo, &plan, &opts, &mut Terminal, prompter)? {
        Finished::Completed { ran, total } => println!(
            "Milestone {} is complete ({}).",
            plan.milestone,
            ran_and_before(ran, total)
        ),
        Finished::CompletedWithSkips {
            ran,
            total,
            skipped,
        } => {
            let ids: Vec<String> = skipped
                .iter()
                .map(|id| text::clean(id).into_owned())
                .collect();
            println!(
                "Milestone {} completed with skipped tasks: {} ({}).",
                plan.milestone,
                text::list(&ids, 5),
                ran_and_before(ran, total)
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

/// `3 tasks run`, or `2 tasks run now, 5 done before`.
fn ran_and_before(ran: usize, total: usize) -> String {
    let now = format!("{} run", text::count(ran, "task"));
    match total - ran {
        0 => now,
        before => format!("{now} now, {before} done before"),
    }
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
