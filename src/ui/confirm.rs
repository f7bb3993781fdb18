//! A question with a few answers on the terminal (dialoguer, on stderr),
//! after the text it is about: the sequence before a run, and what to do
//! about an edited list that has problems.

use dialoguer::Select;
use dialoguer::console::Term;

use crate::error::{Context, Error, Result};

/// Write `text`, then ask `question` with `items`; the index chosen, or
/// `None` for Esc or q. Ctrl-C is an interruption. Use only when
/// `ui::can_prompt()`.
pub fn select(text: &str, question: &str, items: &[String]) -> Result<Option<usize>> {
    let term = Term::stderr();
    // As the failure prompt: raw mode for the whole question, or a Ctrl-C
    // between dialoguer's reads would end the process without a word.
    let _raw = super::raw::RawMode::enter().context("cannot set up the terminal")?;
    term.write_str(text)
        .context("cannot write to the terminal")?;
    let theme = super::question_theme();
    let picked = Select::with_theme(&*theme)
        .with_prompt(question)
        .items(items)
        .default(0)
        .interact_on_opt(&term);
    match picked {
        Ok(picked) => Ok(picked),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            let _ = term.show_cursor();
            Err(Error::interrupted(
                "interrupted at the question; nothing ran and nothing was recorded",
            ))
        }
        Err(e) => Err(e).context("cannot ask on the terminal"),
    }
}
