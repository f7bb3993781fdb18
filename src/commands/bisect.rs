//! `git milestone bisect`: find the first task whose checkpoint fails a
//! check, printing each test as it happens and the task it names.

use std::path::{Path, PathBuf};

use crate::cli::BisectArgs;
use crate::error::{Error, Result};
use crate::history::bisect::{self, Base, Bisected, Missing, Outcome, Request, Step, Verdict};
use crate::history::log::last_log;
use crate::history::probe::Check;
use crate::repo::{Repo, short_oid as short};
use crate::runner::signals;
use crate::state::{self, journal_dir};
use crate::ui::text::signal_name;
use crate::ui::text::{clean, command_line, count, list, quote};

pub fn run(args: &BisectArgs, cwd: &Path) -> Result<i32> {
    // Ctrl-C and SIGTERM become a flag: the check is stopped, the scratch
    // checkout removed, and the command exits 130.
    signals::install()
        .map_err(|e| Error::failed("cannot install signal handlers").with_cause(e))?;
    let repo = Repo::discover(cwd)?;
    let name = state::resolve_key(repo.root(), &args.name)?;
    let req = Request {
        milestone: &name,
        check: Check {
            argv: args.command.clone(),
            milestone: name.clone(),
            origin: cwd.to_path_buf(),
        },
        base: if args.base_good {
            Base::AssumeGood
        } else {
            Base::Test
        },
        cache: !args.no_cache,
        dir: relative_dir(&repo, cwd),
    };
    let (status, line) = bisect::prepare(&repo, &name)?;
    println!(
        "Bisecting {}: {} from {}, with {}.",
        clean(&name),
        count(line.checkpoints.len(), "checkpoint"),
        short(&line.base),
        req.check.shown()
    );
    let changed = repo.work_tree()?.changed;
    if !changed.is_empty() {
        let shown: Vec<String> = changed.iter().map(|p| clean(p).into_owned()).collect();
        println!(
            "Your uncommitted changes to {} are left as they are and not tested: each checkpoint is checked out elsewhere.",
            list(&shown, 5)
        );
    }
    let found = bisect::bisect(&repo, &req, (status, line), &mut print_step)?;
    report(&repo, &req, &found)
}

/// Where the check runs in each checkout: the current directory's place
/// in the work tree.
fn relative_dir(repo: &Repo, cwd: &Path) -> PathBuf {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    cwd.strip_prefix(repo.root())
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `TASK-004 (abc1234): bad (exit 1)`.
fn print_step(step: &Step<'_>) {
    let what = match step.task {
        Some(task) => clean(task).into_owned(),
        None => "base".to_string(),
    };
    let (verdict, mut details) = match step.verdict {
        Verdict::Good => ("good", vec![]),
        Verdict::Bad(code) => ("bad", vec![format!("exit {code}")]),
        Verdict::Skip if step.missing == Some(Missing::Dir) => {
            ("skip", vec!["the directory is not in this commit".into()])
        }
        Verdict::Skip if step.missing == Some(Missing::Program) => (
            "skip",
            vec!["the check's program is not in this commit".into()],
        ),
        Verdict::Skip => ("skip", vec!["exit 125".to_string()]),
        Verdict::Abort(code) => ("stop", vec![format!("exit {code}")]),
        Verdict::Interrupted(sig) => ("stopped", vec![format!("by {}", signal_name(sig))]),
    };
    if step.cached {
        details.push("cached".to_string());
    }
    let details = match details.is_empty() {
        true => String::new(),
        false => format!(" ({})", details.join(", ")),
    };
    println!("{what} ({}): {verdict}{details}", short(step.commit));
}

/// The result: the first bad task (exit 0), or why there is none (exit 1).
fn report(repo: &Repo, req: &Request<'_>, found: &Bisected) -> Result<i32> {
    let name = req.milestone;
    let label = |at: usize| match found.at(at) {
        (Some(task), commit) => format!("{} ({})", clean(task), short(commit)),
        (None, commit) => format!("the base ({})", short(commit)),
    };
    let again = format!(
        "{} -- {}",
        command_line(&["git", "milestone", "bisect", name, "--base-good"]),
        req.check.shown()
    );
    match &found.outcome {
        Outcome::FirstBad { at, base_skipped } => {
            print_first_bad(repo, found, *at, *base_skipped)?;
            Ok(0)
        }
        Outcome::Among { from, to, .. } => {
            let labels: Vec<String> = (*from..=*to).map(label).collect();
            Err(Error::failed(format!(
                "the first bad task is one of {}; the check skipped (exit 125) where it would tell",
                list(&labels, 10)
            ))
            .hint("make the check testable at those checkpoints, or read their logs: git milestone log ".to_string() + &quote(name)))
        }
        Outcome::TipGood => Err(Error::failed(format!(
            "the check passes at the last checkpoint, {}: no task of {name} breaks it",
            label(found.line.checkpoints.len())
        ))),
        Outcome::TipSkipped => Err(Error::failed(format!(
            "the check skipped (exit 125) at the last checkpoint, {}, so nothing is known to be bad",
            label(found.line.checkpoints.len())
        ))),
        Outcome::BaseBad(code) => Err(Error::failed(format!(
            "the check fails at the base already ({}, exit {code}): no task of {name} broke it",
            short(&found.line.base)
        ))
        .hint(format!(
            "if it cannot pass before the milestone (a test the milestone adds), take the base as good: {again}"
        ))),
        Outcome::Aborted { at, code } => Err(Error::failed(format!(
            "the check exited {code} at {}; an exit code above 127 stops the search, as with `git bisect run`",
            label(*at)
        ))
        .hint("exit 1 to 127 for bad, 0 for good, 125 for a commit that cannot be tested")),
        Outcome::Interrupted { at, signal } => Err(Error::interrupted(format!(
            "{} arrived while testing {}; the bisect stopped, and HEAD, the index and the work tree are as they were",
            signal_name(*signal),
            label(*at)
        ))),
    }
}

/// `TASK-004 is the first bad task: <title>`, its commit and its log.
fn print_first_bad(repo: &Repo, found: &Bisected, at: usize, base_skipped: bool) -> Result<()> {
    let (Some(task), commit) = found.at(at) else {
        unreachable!("the base is never the first bad")
    };
    let record = found.status.task(task);
    let title = record
        .map(|t| clean(&t.title).into_owned())
        .unwrap_or_default();
    println!("{} is the first bad task: {title}", clean(task));
    println!("  commit {}  {}", commit, clean(&repo.subject(commit)?));
    let logs = journal_dir(repo.git_dir(), &found.status.milestone)?.join("logs");
    match record.and_then(|t| last_log(&logs, &t.id, t.attempts)) {
        Some(log) => println!("  log    {}", log.display()),
        None => println!("  log    (none in this worktree)"),
    }
    if base_skipped {
        println!(
            "The base ({}) could not be tested and was taken as good.",
            short(&found.line.base)
        );
    }
    Ok(())
}
