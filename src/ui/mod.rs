//! Terminal output: the only module (with `commands`) that talks to the terminal.

pub mod confirm;
pub mod editor;
pub mod live;
pub mod prefixed;
pub mod prompt;
pub mod raw;
pub mod table;
pub mod text;

use std::fmt;
use std::io::IsTerminal;

use dialoguer::theme::{ColorfulTheme, Theme};

/// Whether colour may be used on stdout: a terminal and no `NO_COLOR`.
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Whether we may ask the user questions: stdin and stderr are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The theme of a question: dialoguer's colourful one where colour is
/// allowed, else [`Plain`].
pub fn question_theme() -> Box<dyn Theme> {
    if color_allowed() {
        Box::new(ColorfulTheme::default())
    } else {
        Box::new(Plain)
    }
}

/// Questions as written: dialoguer's `SimpleTheme` adds a colon after the
/// prompt, which reads `What now?:` after a question mark.
struct Plain;

impl Theme for Plain {
    fn format_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        write!(f, "{prompt}")
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> fmt::Result {
        write!(f, "{prompt} {sel}")
    }
}
