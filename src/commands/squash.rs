//! `git milestone squash`: one commit of a milestone's work for review, on
//! a new branch or in place, and `--undo`.

use std::path::Path;

use crate::cli::SquashArgs;
use crate::error::{Error, Result};
use crate::history::squash::{self, Squashed, Target, Undone};
use crate::repo::{Repo, short_oid as short};
use crate::ui::text::{clean, count, is_are, quote};

pub fn run(args: &SquashArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let name = crate::state::resolve_key(repo.root(), &args.name)?;
    if args.undo {
        print_undone(&name, &squash::undo(&repo, &name, args.force)?);
        return Ok(0);
    }
    let target = if args.in_place {
        Target::InPlace
    } else {
        Target::NewBranch(match &args.branch {
            Some(b) => b.clone(),
            None => default_branch(&repo, &name)?,
        })
    };
    print_squashed(&name, &squash::squash(&repo, &name, &target)?);
    Ok(0)
}

/// `<branch>-squashed`; on a detached HEAD there is no branch to name it after.
fn default_branch(repo: &Repo, name: &str) -> Result<String> {
    match repo.current_branch_name() {
        Some(b) => Ok(format!("{b}-squashed")),
        None => Err(
            Error::bad_input("HEAD is detached, so the squashed branch needs a name").hint(
                format!(
                    "name it: git milestone squash {} --branch NAME",
                    quote(name)
                ),
            ),
        ),
    }
}

fn print_squashed(name: &str, done: &Squashed) {
    let n = count(done.line.checkpoints.len(), "checkpoint");
    let commit = short(&done.commit);
    match (&done.branch, done.in_place) {
        (Some(b), false) => println!(
            "Squashed {n} of {} into {commit} on the new branch {}; your branch is as it was.",
            clean(name),
            clean(b)
        ),
        (Some(b), true) => println!(
            "Squashed {n} of {} into {commit}; {} now points at it.",
            clean(name),
            clean(b)
        ),
        (None, _) => println!(
            "Squashed {n} of {} into {commit}; HEAD now points at it.",
            clean(name)
        ),
    }
    if let Some((state, finished, total)) = &done.unfinished {
        println!(
            "{} is {state}: the commit holds the {finished} of its {total} tasks finished so far.",
            clean(name)
        );
    }
    if done.after > 0 {
        println!(
            "{} after the last checkpoint {} not in it.",
            count(done.after, "commit"),
            is_are(done.after)
        );
    }
    println!(
        "The checkpoints ({}..{}) are kept under {}.",
        short(&done.line.base),
        short(done.line.tip()),
        done.saved_ref
    );
    match (&done.branch, done.in_place) {
        (Some(b), false) => println!("Review it with `git show {}`.", quote(b)),
        _ => println!("Review it with `git show`."),
    }
    println!("To undo: git milestone squash {} --undo", quote(name));
}

fn print_undone(name: &str, done: &Undone) {
    if let Some(saved) = &done.before_undo {
        println!("Saved what the undo takes away in {saved}.");
    }
    match (&done.branch, done.in_place) {
        (Some(b), true) => println!(
            "Undid the squash of {}: {} is back at its last checkpoint ({}).",
            clean(name),
            clean(b),
            short(&done.original)
        ),
        (None, true) => println!(
            "Undid the squash of {}: HEAD is back at its last checkpoint ({}).",
            clean(name),
            short(&done.original)
        ),
        (Some(b), false) => println!(
            "Undid the squash of {}: deleted the branch {}; the checkpoints were never moved.",
            clean(name),
            clean(b)
        ),
        (None, false) => println!("Undid the squash of {}.", clean(name)),
    }
    if let Some(r) = &done.dropped_ref {
        println!("Dropped {r}: HEAD holds the checkpoints.");
    }
}
