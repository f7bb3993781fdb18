//! `git milestone completions <shell>` and the hidden `man` (used by install.sh).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::error::{Context, Result};

pub fn completions(args: &CompletionsArgs) -> Result<i32> {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "git-milestone", &mut std::io::stdout());
    Ok(0)
}

/// Print the man page. Its name is `git-milestone` so that `git milestone
/// --help`, which git turns into `man git-milestone`, finds it.
pub fn man() -> Result<i32> {
    let cmd = Cli::command().name("git-milestone");
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .context("cannot render the man page")?;
    std::io::stdout()
        .write_all(&out)
        .context("cannot write the man page")?;
    Ok(0)
}
