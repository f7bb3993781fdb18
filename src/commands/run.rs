//! `git milestone run`: resolve the settings, load the plan, call
//! `run::execute`, and print its lines.

use std::path::Path;

use super::confirm::TerminalConfirmer;
use super::prompt::TerminalPrompter;
use crate::cli::RunArgs;
use crate::error::Result;
use crate::failure::Prompter;
use crate::plan;
use crate::repo::Repo;
use crate::repo::scan::{Refresh, Scope};
use crate::run::{self, Finished, Options, Report, settings};
use crate::runner::Sink;
use crate::sequence::confirm::{Confirmer, before_run, edit_command};
use crate::sequence::{self, Sequence};
use crate::state::Status;
use crate::ui::{self, text};

pub fn run(args: &RunArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    // Before the plan is read: the name becomes paths and ref names.
    let key = crate::state::resolve_key(repo.root(), &args.name)?;
    // git walks the work tree while the settings and the plan are read.
    repo.prefetch_scan(Scope::Run(Refresh::ReadOnly));
    let mut resolved = settings::resolve(&repo, &key, given(args, cwd))?;
    let Some((plan, sequence)) = read_plan(&repo, args, (cwd, key), &mut resolved)? else {
        eprintln!("Quit: nothing ran, and nothing was recorded.");
        return Ok(1);
    };
    if plan.tasks.is_empty() {
        println!(
            "Milestone {}: its sequence skips every task; nothing to run.",
            plan.milestone
        );
        return Ok(0);
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
        tasks: resolved.tasks,
        live: ui::live::enabled(),
        sequence,
        jobs: crate::config::jobs(&repo, resolved.jobs)?,
    };
    // With a terminal, a failed task is a question; without one the policy decides.
    let mut terminal = TerminalPrompter;
    let prompter: Option<&mut dyn Prompter> = ui::can_prompt().then_some(&mut terminal as _);
    let result = run::execute(&repo, &plan, &opts, &mut Terminal, prompter);
    if opts.sequence.is_some() {
        // The status file holds it now (if the run got that far).
        settle_journal(&repo, &plan.milestone);
    }
    // Standard output closed (`run | head -1`): the run recorded itself as
    // interrupted; end quietly, as git does (141).
    if result.is_err() && crate::runner::signals::pending() == Some(libc::SIGPIPE) {
        return Ok(crate::runner::signals::exit_code(libc::SIGPIPE));
    }
    say_how_it_ended(result?, &plan);
    Ok(0)
}

/// The plan of milestone `key` (its warnings printed), recorded in the
/// settings when `--plan` named it, and the sequence to run it in; `None`
/// when the user quit at the question.
fn read_plan(
    repo: &Repo,
    args: &RunArgs,
    (cwd, key): (&Path, String),
    resolved: &mut settings::Resolved,
) -> Result<Option<(plan::Plan, Option<Sequence>)>> {
    let mut plan = plan::load(repo, &args.name, resolved.plan.as_deref(), cwd)?;
    let explicit = resolved.plan.is_some();
    let left_out = plan.left_out_line(explicit);
    for line in plan.warning_lines(explicit) {
        eprintln!("{line}");
    }
    plan.milestone = key;
    if explicit {
        resolved.settings.plan = Some(plan.plan.clone());
    }
    confirm_sequence(repo, plan, args, left_out, explicit)
}

/// The flags as `settings::resolve` takes them.
fn given<'a>(args: &'a RunArgs, cwd: &'a Path) -> settings::Given<'a> {
    settings::Given {
        plan: args.plan.as_deref(),
        runner: args.runner.as_deref(),
        tag: args.tag,
        timeout: args.timeout.as_deref(),
        on_failure: args.on_failure.as_deref(),
        restart: args.restart,
        cwd,
        agent: args.agent.as_deref(),
        agent_args: &args.agent_args,
        prompt_file: args.prompt_file.as_deref(),
        verify: &args.verify,
        allow_empty: args.allow_empty,
        max_cost: args.max_cost.as_deref(),
        max_tokens: args.max_tokens.as_deref(),
        jobs: args.jobs,
    }
}

/// The line (or two) that says how the run ended.
fn say_how_it_ended(finished: Finished, plan: &plan::Plan) {
    let milestone = plan.milestone.as_str();
    match finished {
        Finished::Completed { ran, total } => println!(
            "Milestone {milestone} is complete ({}).",
            ran_and_before(ran, total)
        ),
        Finished::CompletedWithSkips {
            ran,
            total,
            skipped,
        } => {
            let task = |id: &str| plan.tasks.iter().find(|t| t.id == id);
            let names: Vec<String> = skipped
                .iter()
                .map(|id| text::clean(task(id).map_or(id, |t| t.name())).into_owned())
                .collect();
            println!(
                "Milestone {milestone} completed with skipped tasks: {} ({}).",
                text::list(&names, 5),
                ran_and_before(ran, total)
            );
            let refs: Vec<String> = skipped
                .iter()
                .map(|id| {
                    text::clean(&crate::repo::refs::attempts_prefix(milestone, id)).into_owned()
                })
                .collect();
            println!(
                "A skipped task's changes are not committed: they are saved under {}.",
                text::list(&refs, 5)
            );
            println!(
                "To run the skipped tasks again: {}",
                text::command_line(&["git", "milestone", "run", milestone])
            );
        }
        Finished::NothingToDo | Finished::DryRun => {}
    }
}

/// The plan in the order the run follows, and the sequence its status file
/// records: on a terminal (without --yes or --dry-run), the sequence is
/// shown and confirmed first on the milestone's first run (no status file,
/// or --restart) or when the plan changed since the sequence was recorded
/// (see `sequence::confirm::before_run`). `None`: the user quit.
fn confirm_sequence(
    repo: &Repo,
    plan: plan::Plan,
    args: &RunArgs,
    left_out: Option<String>,
    explicit: bool,
) -> Result<Option<(plan::Plan, Option<Sequence>)>> {
    let key = plan.milestone.clone();
    // A status file --restart starts over from is read only for its sequence.
    let status = match Status::load(repo.root(), &key) {
        Ok(status) => status,
        Err(_) if args.restart => None,
        Err(e) => return Err(e),
    };
    let recorded = sequence::store::load(repo, &key, status.as_ref())?;
    let mut terminal = TerminalConfirmer {
        repo,
        key: &key,
        left_out: left_out.clone(),
        edit_command: edit_command(&plan, explicit),
    };
    // A run that continues an earlier one (which recorded no sequence,
    // having had no terminal) follows the plan as that one did: the
    // question is for a milestone's first run, or a plan changed since.
    let continuing = status.is_some() && recorded.is_none() && !args.restart;
    let ask = !args.yes && !args.dry_run && !continuing && ui::can_prompt();
    let confirmer: Option<&mut dyn Confirmer> = ask.then_some(&mut terminal as _);
    let finished = |id: &str| {
        !args.restart
            && status
                .as_ref()
                .and_then(|s| s.task(id))
                .is_some_and(|t| t.state.is_finished())
    };
    // The question shows tasks an earlier run finished as done.
    let mut shown = plan.clone();
    for t in shown.tasks.iter_mut().filter(|t| finished(&t.id)) {
        t.done = true;
    }
    let Some(chosen) = before_run(&shown, recorded.as_ref(), explicit, confirmer)? else {
        return Ok(None);
    };
    if let Some(line) = left_out.filter(|_| !chosen.asked) {
        println!("{line}");
    }
    for line in &chosen.warnings {
        eprintln!("{}", text::clean(line));
    }
    if let Some(line) = &chosen.following {
        println!("{}", text::clean(line));
    }
    let plan = match &chosen.follow {
        Some(seq) => sequence::apply(&plan, seq, &finished),
        None => plan,
    };
    Ok(Some((plan, chosen.record)))
}

/// Forget the journal's copy of a sequence the status file now records.
fn settle_journal(repo: &Repo, key: &str) {
    let recorded = Status::load(repo.root(), key)
        .ok()
        .flatten()
        .is_some_and(|s| s.sequence.is_some());
    if recorded {
        // Harmless if it stays: the status file's sequence comes first.
        let _ = sequence::store::settle(repo, key);
    }
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
    /// A closed standard output (`run | head -1`) stops the run as a
    /// signal does, recorded as interrupted, rather than a panic at this
    /// line that would leave the status file saying `running`.
    fn info(&mut self, line: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for part in line.split('\n') {
            if let Err(e) = writeln!(out, "{}", ui::text::clean(part)) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    crate::runner::signals::note(libc::SIGPIPE);
                }
                return;
            }
        }
    }
    fn warn(&mut self, line: &str) {
        for part in line.split('\n') {
            eprintln!("{}", ui::text::clean(part));
        }
    }
}
