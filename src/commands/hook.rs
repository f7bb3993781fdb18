//! `git milestone hook pre-push` (the check git runs before a push),
//! `install-hook` and `uninstall-hook`.
//!
//! Glue: git's input read, the policy (`push`) asked, its refusals printed.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::cli::PrePushArgs;
use crate::error::{Context, Result};
use crate::hook_install::{self, Installed, Removed};
use crate::push::{self, PushedRef};
use crate::repo::Repo;
use crate::repo::objects::{Objects, Opened};

pub fn pre_push(args: &PrePushArgs, cwd: &Path) -> Result<i32> {
    let _ = args;
    let mut input = String::new();
    if !std::io::stdin().is_terminal() {
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the refs to push from standard input")?;
    }
    let mut pushed = push::parse_lines(&input);
    if input.trim().is_empty() {
        pushed.extend(push::from_pre_commit_env(|k| std::env::var(k).ok()));
    }
    let pushed: Vec<PushedRef> = pushed.into_iter().filter(push::needs_check).collect();
    if pushed.is_empty() {
        return Ok(0);
    }
    // A push that cannot be checked (a format libgit2 cannot read) is
    // refused as bad input, one that was checked as a failure.
    let (refusals, code) = match Objects::open(cwd)? {
        Opened::Objects(objects) => (push::refusals(&objects, &pushed)?, 1),
        Opened::Foreign(repo) => (push::foreign_refusals(&repo, &pushed)?, 2),
    };
    for line in &refusals {
        eprintln!("error: {line}");
    }
    Ok(if refusals.is_empty() { 0 } else { code })
}

pub fn install(cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let dir = repo.hooks_dir()?;
    match hook_install::install(&dir)? {
        Installed::Already(path) => {
            println!("The pre-push hook is already installed: {}", path.display());
        }
        Installed::Fresh(path) => println!("Installed the pre-push hook: {}", path.display()),
        Installed::Chained { hook, user } => {
            println!("Installed the pre-push hook: {}", hook.display());
            println!(
                "Your own pre-push hook is now {} and still runs first on every push.",
                user.display()
            );
        }
    }
    Ok(0)
}

pub fn uninstall(cwd: &Path) -> Result<i32> {
    let repo = Repo::discover(cwd)?;
    let dir = repo.hooks_dir()?;
    match hook_install::uninstall(&dir)? {
        Removed::Nothing(path) => {
            println!(
                "No git-milestone pre-push hook in {}: nothing to remove.",
                path.display()
            );
        }
        Removed::Hook(path) => println!("Removed the pre-push hook: {}", path.display()),
        Removed::Restored(path) => {
            println!(
                "Removed the git-milestone hook and put your own back: {}",
                path.display()
            );
        }
    }
    Ok(0)
}
