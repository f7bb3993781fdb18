//! Terminal output: the only module (with `commands`) that talks to the terminal.

pub mod confirm;
pub mod editor;
pub mod live;
pub mod prefixed;
pub mod prompt;
pub mod table;
pub mod text;

use std::io::IsTerminal;

/// Whether colour may be used on stdout: a terminal and no `NO_COLOR`.
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Whether we may ask the user questions: stdin and stderr are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}
