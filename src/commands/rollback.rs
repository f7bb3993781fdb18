//! `git milestone rollback`: roll a milestone back to a checkpoint, or
//! (`--undo`) bring back the work the last rollback saved.

use std::path::Path;

use crate::cli::RollbackArgs;
use crate::error::{Error, Result};
use crate::repo::{Repo, short_oid};
use crate::rollback::SavedAttempt;
use crate::rollback::undo::{self, Undone};
use crate::rollback::{self, Request, RolledBack};
use crate::runner::signals;
use crate::ui::text::signal_name;
use crate::ui::text::{clean, count, is_are, list, was_were};

pub fn run(args: &RollbackArgs, cwd: &Path) -> Result<i32> {
    // Ctrl-C and SIGTERM become a flag the rollback checks between steps.
    signals::install()
        .map_err(|e| Error::failed("cannot install signal handlers").with_cause(e))?;
    let repo = Repo::discover(cwd)?;
    let name = &crate::state::resolve_key(repo.root(), &args.name)?;
    if args.undo {
        let done = undo::undo(&repo, name, args.force)?;
        print_undone(&done);
        return finished_first(done.interrupted, &format!("the undo of {name}'s rollback"));
    }
    let done = rollback::roll_back(
        &repo,
        &Request {
            milestone: name,
            to: args.to.as_deref(),
            force: args.force,
        },
    )?;
    print_rolled_back(name, &done);
    finished_first(done.interrupted, &format!("the rollback of {name}"))
}

/// Exit 0, or, when a signal arrived while the work tree was being put
/// back, say that `what` finished first (exit 130).
fn finished_first(interrupted: Option<i32>, what: &str) -> Result<i32> {
    match interrupted {
        None => Ok(0),
        Some(sig) => Err(Error::interrupted(format!(
            "{} arrived during {what}; it finished first, so nothing is left half done",
            signal_name(sig)
        ))),
    }
}

fn print_rolled_back(name: &str, done: &RolledBack) {
    let commits = match done.commits_removed {
        0 => String::new(),
        n => format!(
            "; {} {} taken off the branch",
            count(n, "commit"),
            was_were(n)
        ),
    };
    let what = if done.finished_stopped {
        format!("Finished the rollback of {name} that was stopped half way")
    } else {
        format!("Rolled back {name}")
    };
    println!(
        "{what} to {} ({}){commits}.",
        done.checkpoint_label,
        short_oid(&done.checkpoint)
    );
    print_files(&done.saved);
    println!("The discarded work is saved in {}.", done.saved.ref_name);
    if !done.saved.submodules.is_empty() {
        let subs: Vec<String> = done
            .saved
            .submodules
            .iter()
            .map(|p| clean(p).into_owned())
            .collect();
        println!(
            "The work inside {} {} is saved there under the same ref; --undo brings it back too.",
            if subs.len() == 1 {
                "submodule"
            } else {
                "submodules"
            },
            list(&subs, 5)
        );
    }
    if !done.also_saved.is_empty() {
        println!(
            "What the stopped rollback had not put back yet is saved in {}.",
            list(&done.also_saved, 5)
        );
    }
    println!("To bring it back: {}", done.saved.restore_command);
    println!("  (with git alone: {})", done.saved.plain_git_command);
}

/// The files a rollback removed, and the untracked ones it left alone.
fn print_files(saved: &SavedAttempt) {
    let shown = |paths: &[String]| {
        let cleaned: Vec<String> = paths.iter().map(|p| clean(p).into_owned()).collect();
        list(&cleaned, 10)
    };
    if !saved.removed.is_empty() {
        println!(
            "Removed {} the attempt created: {}.",
            count(saved.removed.len(), "file"),
            shown(&saved.removed)
        );
    }
    if !saved.left_alone.is_empty() {
        let n = saved.left_alone.len();
        println!(
            "Left alone {} that {} not the attempt's: {}.",
            count(n, "untracked file"),
            is_are(n),
            shown(&saved.left_alone)
        );
    }
}

fn print_undone(done: &Undone) {
    let r = &done.replaced;
    if !r.is_empty() {
        let mut what = Vec::new();
        if !r.commits.is_empty() {
            let n = count(r.commits.len(), "commit");
            what.push(format!("{n} ({})", r.commits_listed()));
        }
        if !r.files.is_empty() {
            what.push(format!("your changes to {}", r.files_listed(10)));
        }
        println!(
            "Saved what the undo replaces in {}: {}.",
            done.before_undo.last().map_or("", String::as_str),
            what.join(" and ")
        );
    }
    let restored = format!(
        "the work saved in {}; HEAD is back at {}.",
        done.saved_ref,
        short_oid(&done.head)
    );
    if done.finished_stopped {
        println!("Finished the undo that was stopped half way: restored {restored}");
    } else {
        println!("Restored {restored}");
    }
    println!("Files the attempt created are untracked again and its edits are unstaged.");
    if !done.also_saved.is_empty() {
        println!(
            "Also saved, while finishing a rollback that was stopped (less complete): {}.",
            list(&done.also_saved, 5)
        );
    }
    let earlier = done.before_undo.len() - usize::from(!r.is_empty());
    if earlier > 0 {
        println!(
            "A stopped undo saved what it replaced in {}.",
            list(&done.before_undo[..earlier], 5)
        );
    }
}
