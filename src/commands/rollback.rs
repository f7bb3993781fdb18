//! `git milestone rollback`: roll a milestone back to a checkpoint, or
//! (`--undo`) bring back the work the last rollback saved.

use std::path::Path;

use crate::cli::RollbackArgs;
use crate::error::Result;
use crate::failure::rollback::{self, Request};
use crate::repo::Repo;

pub fn run(args: &RollbackArgs, cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let name = &crate::state::resolve_key(repo.root(), &args.name)?;
    if args.undo {
        let done = rollback::undo(&repo, name, args.force)?;
        println!(
            "Restored the work saved in {}; HEAD is back at {}.",
            done.saved_ref,
            crate::repo::short_oid(&done.head)
        );
        println!("Files the attempt created are untracked again and its edits are unstaged.");
        return Ok(0);
    }
    let done = rollback::roll_back(
        &repo,
        &Request {
            milestone: name,
            to: args.to.as_deref(),
            force: args.force,
        },
    )?;
    let commits = match done.commits_removed {
        0 => String::new(),
        1 => "; 1 commit was taken off the branch".to_string(),
        n => format!("; {n} commits were taken off the branch"),
    };
    println!(
        "Rolled back {name} to {} ({}){commits}.",
        done.checkpoint_label,
        crate::repo::short_oid(&done.checkpoint)
    );
    println!("The discarded work is saved in {}.", done.saved.ref_name);
    println!("To bring it back: {}", done.saved.restore_command);
    println!("  (with git alone: {})", done.saved.plain_git_command);
    Ok(0)
}
