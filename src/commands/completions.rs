//! `git milestone completions <shell>`: clap_complete's script, with
//! milestone names completed for `plan`, `run`, `status`, `rollback`, `log`,
//! `bisect` and `squash`
//! (bash and fish ask the hidden `complete-milestones` for them).

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Context, Result};

/// The subcommands whose first argument is a milestone's name.
const TAKE_A_NAME: &[&str] = &[
    "plan", "run", "status", "rollback", "log", "bisect", "squash",
];

pub fn completions(args: &CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "git-milestone", &mut script);
    match args.shell {
        Shell::Bash => {
            let text = fix_bash_state_names(&String::from_utf8_lossy(&script));
            let hidden: Vec<&str> = cmd
                .get_subcommands()
                .filter(|s| s.is_hide_set())
                .map(|s| s.get_name())
                .collect();
            script = with_bash_names(&without_words(&text, &hidden)).into_bytes();
            script.extend_from_slice(GIT_SUBCOMMAND_SHIM.as_bytes());
        }
        Shell::Fish => script.extend_from_slice(fish_names().as_bytes()),
        _ => {}
    }
    std::io::stdout()
        .write_all(&script)
        .context("cannot write the completion script")?;
    Ok(0)
}

/// `git milestone complete-milestones`: the names a shell offers, one a
/// line; nothing (and success) outside a repository, so completion stays quiet.
pub fn milestones(cwd: &Path) -> Result<i32> {
    let Ok(found) = super::names::known(cwd) else {
        return Ok(0);
    };
    let mut out = std::io::stdout().lock();
    for k in found {
        // A shell's word list splits on white space: `Phase 2` as `Phase-2`,
        // which names the same milestone.
        let word = k.name.split_whitespace().collect::<Vec<_>>().join("-");
        if !word.chars().any(char::is_control) {
            writeln!(out, "{word}").context("cannot write the milestone names")?;
        }
    }
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
fn fix_bash_state_names(script: &str) -> String {
    script.replace("git__subcmd__milestone", "git__milestone")
}

/// The bash script's word lists (`opts="..."`) without `words`: the hidden
/// subcommands, which clap_complete lists with the others.
fn without_words(script: &str, words: &[&str]) -> String {
    script
        .split_inclusive('\n')
        .map(|line| {
            let Some(list) = line.trim_start().strip_prefix("opts=\"") else {
                return line.to_string();
            };
            let indent = &line[..line.len() - line.trim_start().len()];
            let kept: Vec<&str> = list
                .trim_end()
                .trim_end_matches('"')
                .split(' ')
                .filter(|w| !words.contains(w))
                .collect();
            format!("{indent}opts=\"{}\"\n", kept.join(" "))
        })
        .collect()
}

/// In the arms of the subcommands that take a name, offer the milestone
/// names with the options: clap_complete completes a free positional
/// argument with nothing (bash then falls back to file names).
fn with_bash_names(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 512);
    let mut arm: Option<&str> = None;
    for line in script.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(sub) = trimmed
            .strip_prefix("git__milestone__subcmd__")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            arm = TAKE_A_NAME.iter().copied().find(|s| *s == sub);
        }
        match arm {
            Some(_) if trimmed.starts_with("opts=\"") => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let flags = trimmed.trim_start_matches("opts=\"").trim_end_matches('"');
                out.push_str(&format!(
                    "{indent}opts=\"{flags} $(git-milestone complete-milestones 2>/dev/null)\"\n"
                ));
                arm = None;
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Milestone names for fish, after the generated script.
fn fish_names() -> String {
    format!(
        "\ncomplete -c git-milestone -n \"__fish_seen_subcommand_from {}\" -f -a \"(git-milestone complete-milestones 2>/dev/null)\"\n",
        TAKE_A_NAME.join(" ")
    )
}
