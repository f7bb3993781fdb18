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
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "git-milestone", &mut script);
    if matches!(shell, S::Bash) {
        script = fix_bash_state_names(&script);
        script.extend_from_slice(GIT_SUBCOMMAND_SHIM.as_bytes());
    }
    std::io::stdout()
        .write_all(&script)
        .context("cannot write the completion script")?;
    Ok(0)
}

/// git's own bash completion completes `git milestone ...` by calling
/// `_git_milestone` with its `words` and `cword`: hand the words from
/// `milestone` on to the generated function as if `git-milestone` was typed.
const GIT_SUBCOMMAND_SHIM: &str = r#"
# `git milestone <TAB>`: git's completion calls _git_<subcommand>.
_git_milestone() {
    local i=0
    while [ "$i" -lt "$cword" ] && [ "${words[i]}" != milestone ]; do i=$((i + 1)); done
    local COMP_WORDS=(git-milestone "${words[@]:i+1}")
    local COMP_CWORD=$((cword - i))
    _git__milestone git-milestone "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// clap_complete's bash script tracks the subcommand typed so far as
/// `git__milestone__subcmd__run` but matches it against
/// `git__subcmd__milestone__subcmd__run` when the program's name has a
/// hyphen (clap-rs/clap#6421), so options after a subcommand never
/// completed. Spell the arms the way the loop does.
fn fix_bash_state_names(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("git__subcmd__milestone", "git__milestone")
        .into_bytes()
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
