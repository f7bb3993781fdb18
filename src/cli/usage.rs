//! clap's errors about the command line in the program's one form: an
//! `error:` line, then `hint:` lines (clap's tips, the values an option
//! takes, the usage, where the help is), as every other error reads.

/// The lines to print for `e`, which clap rendered as
///
/// ```text
/// error: invalid value 'nosh' for '<SHELL>'
///   [possible values: bash, elvish, fish, powershell, zsh]
///
///   tip: a similar value exists: 'zsh'
///
/// Usage: git milestone completions <SHELL>
///
/// For more information, try '--help'.
/// ```
///
/// `command` is the subcommand the user typed, if any, for the help hint.
pub fn lines(e: &clap::Error, command: Option<&str>) -> Vec<String> {
    let rendered = e.render().to_string();
    let mut error = String::new();
    let mut hints = Vec::new();
    for line in rendered.lines() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(values) = l
            .strip_prefix("[possible values: ")
            .and_then(|v| v.strip_suffix(']'))
        {
            hints.push(format!("hint: possible values: {values}"));
        } else if let Some(tip) = l.strip_prefix("tip: ") {
            hints.push(format!("hint: {tip}"));
        } else if let Some(usage) = l.strip_prefix("Usage: ") {
            hints.push(format!("hint: usage: {usage}"));
        } else if l.starts_with("For more information") {
            let help = match command {
                Some(c) => format!("git milestone {c} --help"),
                None => "git milestone --help".to_string(),
            };
            hints.push(format!("hint: see `{help}`"));
        } else if l.starts_with("hint: ") || l.starts_with("cause: ") {
            // Our own value parsers' errors are already in this form.
            hints.push(l.to_string());
        } else if error.is_empty() {
            error = l.strip_prefix("error: ").unwrap_or(l).to_string();
        } else {
            // The rest of a message clap spreads over lines (the arguments
            // that were not provided).
            error.push(' ');
            error.push_str(l);
        }
    }
    let error = error.trim_end_matches(':').to_string();
    std::iter::once(format!("error: {error}"))
        .chain(hints)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn error_of(args: &[&str]) -> clap::Error {
        crate::cli::Cli::command()
            .try_get_matches_from(std::iter::once("git-milestone").chain(args.iter().copied()))
            .unwrap_err()
    }

    #[test]
    fn a_message_spread_over_lines_is_one_error_line() {
        let lines = lines(&error_of(&["bisect", "M1"]), Some("bisect"));
        assert_eq!(
            lines,
            [
                "error: the following required arguments were not provided: <CMD>...",
                "hint: usage: git milestone bisect <NAME> -- <CMD>...",
                "hint: see `git milestone bisect --help`",
            ]
        );
    }
}
