//! One file per subcommand: load, call the domain, render. Glue only.

pub mod bisect;
pub mod completions;
pub mod confirm;
pub mod hook;
pub mod log;
pub mod man;
pub mod names;
pub mod plan;
pub mod prompt;
pub mod rollback;
pub mod run;
pub mod squash;
pub mod status;

use std::path::Path;

use crate::cli::{Cli, Command, HookCommand};
use crate::error::Result;

/// Run a parsed command line from `cwd`; returns the process exit code.
pub fn dispatch(cli: Cli, cwd: &Path) -> Result<i32> {
    match cli.command {
        Command::Plan(args) => plan::run(&args, cwd),
        Command::Run(args) => run::run(&args, cwd),
        Command::Status(args) => status::run(&args, cwd),
        Command::Rollback(args) => rollback::run(&args, cwd),
        Command::Log(args) => log::run(&args, cwd),
        Command::Bisect(args) => bisect::run(&args, cwd),
        Command::Squash(args) => squash::run(&args, cwd),
        Command::Hook(HookCommand::PrePush(args)) => hook::pre_push(&args, cwd),
        Command::InstallHook(_) => hook::install(cwd),
        Command::UninstallHook(_) => hook::uninstall(cwd),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => man::man(&args),
        Command::CompleteMilestones => completions::milestones(cwd),
    }
}
