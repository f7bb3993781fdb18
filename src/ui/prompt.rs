//! The question asked on a terminal when a task fails: how it failed and
//! the log's tail first, then retry, roll back or stop (dialoguer, on stderr).
//!
//! The terminal stays in raw mode for the whole question, so a Ctrl-C is a
//! key the prompt reads, never a signal lost between two of its reads; one
//! that came before (after the task ended) stops the run before it asks.

use std::fmt::Write as _;

use dialoguer::Select;
use dialoguer::console::Term;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};

use crate::error::{Context, Error, Result};
use crate::failure::{Choice, FailedAttempt, Prompter};
use crate::runner::signals;
use crate::ui::text::clean;

/// Asks on the terminal (stderr). Use only when `ui::can_prompt()`.
#[derive(Debug, Default)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn choose(&mut self, failed: &FailedAttempt<'_>) -> Result<Choice> {
        let term = Term::stderr();
        // dialoguer puts the terminal in raw mode only while it waits for a
        // key: a Ctrl-C in between is a SIGINT our handler only records, and
        // the prompt would wait on. From here on it is a key.
        let _raw = RawMode::enter().context("cannot set up the terminal")?;
        if signals::pending().is_some() {
            return Err(interrupted(failed));
        }
        term.write_str(&report(failed))
            .context("cannot write to the terminal")?;
        let items = items(failed);
        let labels: Vec<&str> = items.iter().map(|(label, _)| label.as_str()).collect();
        let colorful = ColorfulTheme::default();
        let theme: &dyn Theme = if super::color_allowed() {
            &colorful
        } else {
            &SimpleTheme
        };
        let picked = Select::with_theme(theme)
            .with_prompt(format!("{} failed. What now?", clean(failed.task)))
            .items(&labels)
            .default(0)
            .interact_on_opt(&term);
        match picked {
            Ok(Some(i)) => Ok(items[i].1),
            // Esc or q: the safe answer, which changes nothing.
            Ok(None) => Ok(Choice::Stop),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                let _ = term.show_cursor();
                Err(interrupted(failed))
            }
            Err(e) => Err(e).context("cannot ask on the terminal"),
        }
    }
}

fn interrupted(failed: &FailedAttempt<'_>) -> Error {
    Error::interrupted(format!(
        "interrupted while asking what to do about {}",
        failed.task
    ))
}

/// Standard input (the terminal `ui::can_prompt` found) in raw mode, as
/// dialoguer sets it for each key, output processing kept; the settings
/// before are put back on drop.
struct RawMode(libc::termios);

impl RawMode {
    fn enter() -> std::io::Result<RawMode> {
        let mut original = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios it is given, or fails.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, original.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: tcgetattr succeeded, so it is initialised.
        let original = unsafe { original.assume_init() };
        let mut raw = original;
        // SAFETY: cfmakeraw only changes the flags of the termios it is given.
        unsafe { libc::cfmakeraw(&mut raw) };
        raw.c_oflag = original.c_oflag;
        // SAFETY: a termios read from this terminal, with flags changed.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &raw) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RawMode(original))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: the settings tcgetattr read from this terminal.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, &self.0) };
    }
}

/// The lines shown above the question: what failed, how, and the log's end.
pub fn report(failed: &FailedAttempt<'_>) -> String {
    let mut s = format!(
        "\n{} ({}) failed on attempt {}: {}.\n",
        clean(failed.task),
        clean(failed.title),
        failed.attempt,
        failed.cause
    );
    let tail = failed.log_tail.trim_end_matches('\n');
    if tail.is_empty() {
        let _ = writeln!(s, "Its log is empty: {}", failed.log_path.display());
    } else {
        let shown = tail.lines().count();
        let _ = writeln!(
            s,
            "Last {shown} line{} of {}:",
            if shown == 1 { "" } else { "s" },
            failed.log_path.display()
        );
        for line in tail.lines() {
            let _ = writeln!(s, "  | {line}");
        }
    }
    s.push('\n');
    s
}

fn items(failed: &FailedAttempt<'_>) -> [(String, Choice); 3] {
    [
        (format!("Retry {}", clean(failed.task)), Choice::Retry),
        (
            "Roll back to the last checkpoint (this attempt's work is saved under a ref)"
                .to_string(),
            Choice::Rollback,
        ),
        (
            "Stop here and keep the changes in the work tree for inspection".to_string(),
            Choice::Stop,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn failed<'a>(cause: &'a str, tail: &'a str) -> FailedAttempt<'a> {
        FailedAttempt {
            milestone: "M1",
            task: "TASK-002",
            title: "Parse the config",
            cause,
            attempt: 2,
            log_tail: tail,
            log_path: Path::new("/r/.git/milestone/M1/logs/TASK-002.2.log"),
        }
    }

    #[test]
    fn report_shows_the_cause_and_the_log_tail() {
        assert_eq!(
            report(&failed("exit code 3", "compiling\nerror: no\n")),
            "\nTASK-002 (Parse the config) failed on attempt 2: exit code 3.\n\
             Last 2 lines of /r/.git/milestone/M1/logs/TASK-002.2.log:\n  | compiling\n  | error: no\n\n"
        );
        assert_eq!(
            report(&failed("killed by signal 9", "")),
            "\nTASK-002 (Parse the config) failed on attempt 2: killed by signal 9.\n\
             Its log is empty: /r/.git/milestone/M1/logs/TASK-002.2.log\n\n"
        );
    }

    #[test]
    fn offers_retry_roll_back_and_stop_in_that_order() {
        let choices: Vec<Choice> = items(&failed("exit code 1", ""))
            .iter()
            .map(|i| i.1)
            .collect();
        assert_eq!(choices, [Choice::Retry, Choice::Rollback, Choice::Stop]);
    }
}
