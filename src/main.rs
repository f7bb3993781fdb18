//! Parse the command line, call the library, turn the result into an exit code.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use clap::Parser;
use git_milestone::cli::{Cli, Command};

/// The exit status of a process killed by SIGPIPE, as a shell reports it.
const EXIT_BROKEN_PIPE: u8 = 141;

fn main() -> ExitCode {
    let cwd = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &cwd),
    };
    if !writes_the_repository(&cli.command) {
        default_sigpipe();
    }
    quiet_broken_pipe_panics();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        git_milestone::commands::dispatch(cli, &cwd)
    }));
    let code = match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => report(&e),
        Err(payload) if is_broken_pipe(payload.as_ref()) => i32::from(EXIT_BROKEN_PIPE),
        Err(payload) => panic::resume_unwind(payload),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Print `e` on stderr; its exit code.
fn report(e: &git_milestone::Error) -> i32 {
    // Messages echo names, titles and paths from outside: no line may
    // carry a terminal escape (a name's newline stays one).
    for line in e.to_string().split('\n') {
        eprintln!("{}", git_milestone::ui::text::clean(line));
    }
    e.exit_code()
}

/// clap's help and version as clap prints them; its errors in the
/// program's one form (`cli::usage`), except a milestone command given no
/// name: that lists the milestones it could be given (exit 2, as any usage
/// error).
fn usage_error(e: clap::Error, cwd: &std::path::Path) -> ExitCode {
    use clap::error::ErrorKind;
    let subcommand = std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'));
    let subcommand = subcommand.as_deref().and_then(|s| s.to_str());
    match (subcommand, e.kind()) {
        (_, ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        | (_, ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) => e.exit(),
        (
            Some(command @ ("plan" | "run" | "rollback" | "log" | "squash")),
            ErrorKind::MissingRequiredArgument,
        ) => {
            let code = report(&git_milestone::commands::names::missing(command, cwd));
            ExitCode::from(u8::try_from(code).unwrap_or(2))
        }
        _ => {
            use clap::CommandFactory;
            let known = subcommand.filter(|s| Cli::command().find_subcommand(s).is_some());
            for line in git_milestone::cli::usage::lines(&e, known) {
                eprintln!("{}", git_milestone::ui::text::clean(&line));
            }
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}

/// `run`, `rollback`, `squash` and `bisect` (its scratch worktree) write
/// commits, refs and files, and feed git through pipes, and `plan --edit`
/// writes the sequence: a closed pipe must be an error they handle, not a
/// signal that kills them half-way. Every other command only reads.
fn writes_the_repository(command: &Command) -> bool {
    match command {
        Command::Run(_) | Command::Rollback(_) | Command::Squash(_) | Command::Bisect(_) => true,
        Command::Plan(args) => args.edit,
        _ => false,
    }
}

/// Let SIGPIPE end the process, as it ends git: `git milestone status |
/// head -1` exits quietly (141) once `head` has what it wants. Rust
/// ignores SIGPIPE, which turns such a write into a panic.
fn default_sigpipe() {
    // SAFETY: setting a signal's disposition to the default has no
    // memory-safety preconditions; no handler of ours is replaced.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `println!` panics when stdout is a closed pipe (in `run` and
/// `rollback`, which keep SIGPIPE ignored): say nothing, and let `main`
/// exit 141 once the stack has unwound (the run lock released).
fn quiet_broken_pipe_panics() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default(info);
        }
    }));
}

fn is_broken_pipe(payload: &(dyn Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.starts_with("failed printing to stdout") && text.contains("Broken pipe")
}
