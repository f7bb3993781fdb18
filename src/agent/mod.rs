//! Coding agents as runners: which agents there are, the command each
//! preset builds (`preset`), the prompt it is given (`prompt`), and how its
//! output is read (`stream`, one parser per CLI's format) into readable
//! lines, live activity and an [`Outcome`](outcome::Outcome).
//!
//! Everything here is pure: text and values in, values out. Starting the
//! process, the terminal and the status file belong to `runner`, `ui` and
//! `run`.

mod aider;
mod claude;
mod codex;
mod gemini;
pub mod outcome;
pub mod preset;
pub mod prompt;
pub mod reset;
pub mod stream;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use outcome::{Kind, Outcome, Usage, Usd};
pub use stream::{Activity, Feed, Limits, Monitor};

/// An agent CLI git-milestone knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Agent {
    Claude,
    Codex,
    Gemini,
    Aider,
}

impl Agent {
    pub const ALL: [Agent; 4] = [Agent::Claude, Agent::Codex, Agent::Gemini, Agent::Aider];

    /// The name `--agent` and `milestone.agent` take.
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Aider => "aider",
        }
    }

    /// The program the preset runs (looked up on `PATH`).
    pub fn program(self) -> &'static str {
        self.name()
    }

    /// The product's name, for sentences.
    pub fn title(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Codex => "Codex",
            Agent::Gemini => "Gemini CLI",
            Agent::Aider => "Aider",
        }
    }

    /// How a user installs the CLI (the README gives the same commands).
    pub fn install_command(self) -> &'static str {
        match self {
            Agent::Claude => "npm install -g @anthropic-ai/claude-code",
            Agent::Codex => "npm install -g @openai/codex",
            Agent::Gemini => "npm install -g @google/gemini-cli",
            Agent::Aider => "python3 -m pip install aider-chat",
        }
    }

    /// What to do when the agent cannot authenticate.
    pub fn login_hint(self) -> &'static str {
        match self {
            Agent::Claude => {
                "log in with `claude` (then /login), or set ANTHROPIC_API_KEY in the environment"
            }
            Agent::Codex => "log in with `codex login`, or set CODEX_API_KEY in the environment",
            Agent::Gemini => {
                "run `gemini` once to choose how to log in, or set GEMINI_API_KEY in the environment"
            }
            Agent::Aider => {
                "name a model (`-- --model sonnet`) and set its provider's key, e.g. ANTHROPIC_API_KEY or OPENAI_API_KEY"
            }
        }
    }

    /// Parse `--agent`'s or `milestone.agent`'s value.
    pub fn parse(text: &str) -> Result<Agent> {
        let wanted = text.trim();
        Agent::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                let names: Vec<&str> = Agent::ALL.iter().map(|a| a.name()).collect();
                Error::bad_input(format!("unknown agent {}", crate::ui::text::quote(wanted))).hint(
                    format!(
                        "choose one of {}, or run any other program with `--runner 'CMD'`",
                        names.join(", ")
                    ),
                )
            })
    }
}

impl std::fmt::Display for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
