//! How an agent's attempt ended, from its own structured output and its exit
//! status rather than the exit status alone; and what it used (tokens, cost).

use serde::{Deserialize, Serialize};

use crate::runner::Exit;

/// The outcomes an attempt is classified into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Success,
    /// The agent reported an error but exited 0.
    ErrorExit0,
    /// The agent stopped at its turn limit.
    TurnLimit,
    /// The agent's own budget, or `--max-cost` / `--max-tokens`, was crossed.
    Budget,
    /// A rate or usage limit of the provider; `resets_at` when it said.
    RateLimit,
    /// The agent could not log in (no credentials, bad key).
    Auth,
    /// The provider could not be reached. A plain failure, named apart
    /// because what the user should do differs.
    Network,
    /// Nothing was done: zero turns, or no change at all.
    NoOp,
    /// Any other failure.
    Failed,
    /// The agent or runner said done, but a check (`--verify`) failed.
    ChecksFailed,
    /// The runner asked to skip the task (exit code 125).
    Skipped,
    /// Ctrl-C or SIGTERM stopped it.
    Interrupted,
}

impl Kind {
    /// Words for a sentence: "TASK-002 failed: turn limit reached".
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::ErrorExit0 => "error reported despite exit code 0",
            Kind::TurnLimit => "turn limit reached",
            Kind::Budget => "budget exceeded",
            Kind::RateLimit => "rate or usage limit",
            Kind::Auth => "authentication failed",
            Kind::Network => "network failure",
            Kind::NoOp => "no-op",
            Kind::Failed => "failed",
            Kind::ChecksFailed => "check failed",
            Kind::Skipped => "skipped",
            Kind::Interrupted => "interrupted",
        }
    }

    /// A word or two for a table cell.
    pub fn short(self) -> &'static str {
        match self {
            Kind::ErrorExit0 => "error (exit 0)",
            Kind::TurnLimit => "turn limit",
            Kind::Budget => "over budget",
            Kind::RateLimit => "rate limit",
            Kind::Auth => "not logged in",
            _ => self.describe(),
        }
    }

    /// The name the status file and `status --json` use.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::ErrorExit0 => "error_exit0",
            Kind::TurnLimit => "turn_limit",
            Kind::Budget => "budget",
            Kind::RateLimit => "rate_limit",
            Kind::Auth => "auth",
            Kind::Network => "network",
            Kind::NoOp => "no_op",
            Kind::Failed => "failed",
            Kind::ChecksFailed => "checks_failed",
            Kind::Skipped => "skipped",
            Kind::Interrupted => "interrupted",
        }
    }

    /// The agent stopped short of its task, however cleanly it reported.
    fn ends_the_work(self) -> bool {
        matches!(self, Kind::TurnLimit | Kind::Budget)
    }

    /// Which evidence wins when an attempt shows several: a rate limit
    /// explains an authentication-looking refusal after it, not the reverse.
    fn weight(self) -> u8 {
        match self {
            Kind::RateLimit => 7,
            Kind::Auth => 6,
            Kind::Budget => 5,
            Kind::TurnLimit => 4,
            Kind::Network => 3,
            Kind::ErrorExit0 | Kind::Failed | Kind::ChecksFailed => 2,
            Kind::NoOp => 1,
            Kind::Success | Kind::Skipped | Kind::Interrupted => 0,
        }
    }
}

/// Money in US dollars, as the agents report it. Never NaN (parsers drop
/// anything that is not a finite, non-negative number), hence `Eq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Usd(pub f64);

impl Eq for Usd {}

impl Usd {
    /// A reported amount, if it is one.
    pub fn checked(v: f64) -> Option<Usd> {
        (v.is_finite() && v >= 0.0).then_some(Usd(v))
    }
}

impl std::fmt::Display for Usd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 < 0.01 && self.0 > 0.0 {
            write!(f, "${:.4}", self.0)
        } else {
            write!(f, "${:.2}", self.0)
        }
    }
}

/// Tokens and cost of an attempt (or a task, or a milestone: they add up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens, cached ones included.
    #[serde(default)]
    pub input_tokens: u64,
    /// Of `input_tokens`, those read from the provider's cache.
    #[serde(default)]
    pub cached_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    /// Absent when the agent reports no cost (Codex, Gemini).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<Usd>,
}

impl Usage {
    pub fn tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    pub fn is_zero(&self) -> bool {
        self.tokens() == 0 && self.cost_usd.is_none_or(|c| c.0 == 0.0)
    }

    /// The sum of two, e.g. a task's attempts.
    pub fn plus(&self, other: &Usage) -> Usage {
        let cost = match (self.cost_usd, other.cost_usd) {
            (None, None) => None,
            (a, b) => Some(Usd(a.unwrap_or_default().0 + b.unwrap_or_default().0)),
        };
        Usage {
            input_tokens: self.input_tokens + other.input_tokens,
            cached_tokens: self.cached_tokens + other.cached_tokens,
            output_tokens: self.output_tokens + other.output_tokens,
            cost_usd: cost,
        }
    }

    /// `12.3k tokens, $0.42`: for lines and tables.
    pub fn describe(&self) -> String {
        let tokens = match self.tokens() {
            1 => "1 token".to_string(),
            n => format!("{} tokens", short_count(n)),
        };
        match self.cost_usd {
            Some(c) => format!("{tokens}, {c}"),
            None => tokens,
        }
    }
}

/// `950`, `12.3k`, `20k`, `4.1M`.
pub fn short_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 if n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ if n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// Evidence about how an attempt is going, noted while its output is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub kind: Kind,
    /// The agent's own words, one line.
    pub message: Option<String>,
    pub resets_at: Option<jiff::Timestamp>,
}

impl Signal {
    pub fn new(kind: Kind, message: impl Into<String>) -> Signal {
        Signal {
            kind,
            message: Some(first_line(&message.into())),
            resets_at: None,
        }
    }

    pub fn resets(mut self, at: Option<jiff::Timestamp>) -> Signal {
        self.resets_at = at;
        self
    }
}

/// How an attempt ended, with the agent's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When a rate or usage limit resets, if the agent said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<jiff::Timestamp>,
}

impl Outcome {
    pub fn new(kind: Kind) -> Outcome {
        Outcome {
            kind,
            message: None,
            resets_at: None,
        }
    }

    pub fn is_success(&self) -> bool {
        self.kind == Kind::Success
    }

    pub fn with_message(kind: Kind, message: impl Into<String>) -> Outcome {
        Outcome {
            kind,
            message: Some(message.into()),
            resets_at: None,
        }
    }

    /// `rate or usage limit: You've hit your limit (resets 2026-12-03 15:00 UTC)`.
    pub fn describe(&self) -> String {
        let mut text = self.kind.describe().to_string();
        if let Some(m) = &self.message {
            text.push_str(": ");
            text.push_str(m);
        }
        if let Some(at) = self.resets_at {
            text.push_str(&format!(" (resets {})", crate::agent::reset::show(at)));
        }
        text
    }
}

impl From<Signal> for Outcome {
    fn from(s: Signal) -> Outcome {
        Outcome {
            kind: s.kind,
            message: s.message,
            resets_at: s.resets_at,
        }
    }
}

/// What the stream parsers learnt about an attempt, for [`classify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The strongest trouble seen (see `Kind::weight`).
    pub signal: Option<Signal>,
    /// The agent's final word: `Some(true)` for a clean success report,
    /// `Some(false)` for a final error, `None` when it never gave one.
    pub final_ok: Option<bool>,
    /// The agent did no work at all: zero turns, no model call.
    pub no_work: bool,
    /// git-milestone stopped the agent early for this reason.
    pub stopped: Option<Signal>,
}

impl Evidence {
    /// Keep `s` if it says more than what was noted before.
    pub fn note(&mut self, s: Signal) {
        let stronger = self
            .signal
            .as_ref()
            .is_none_or(|old| s.kind.weight() >= old.kind.weight());
        if !stronger {
            return;
        }
        // "Rate limited" said twice, the reset time only once.
        let reset = match &self.signal {
            Some(old) if old.kind == s.kind => old.resets_at,
            _ => None,
        };
        self.signal = Some(Signal {
            resets_at: s.resets_at.or(reset),
            ..s
        });
    }

    /// Forget trouble that a later success outlived (a retried request, a
    /// limit that was waited out); a turn limit or a budget stays.
    pub fn clear_transient(&mut self) {
        if self
            .signal
            .as_ref()
            .is_some_and(|s| !s.kind.ends_the_work())
        {
            self.signal = None;
        }
    }
}

/// The outcome of an attempt from what its output showed and how it exited.
/// `final_expected`: the format ends with a final event (all but Aider's).
pub fn classify(ev: &Evidence, exit: Exit, final_expected: bool) -> Outcome {
    if let Some(stop) = &ev.stopped {
        return stop.clone().into();
    }
    let trouble = ev.signal.clone();
    // A clean final report wins over trouble that was retried away or waited
    // out, but not over a limit that cut the work short.
    let serious = trouble.as_ref().is_some_and(|s| s.kind.ends_the_work());
    match exit {
        Exit::Code(0) if ev.final_ok == Some(true) && !serious => {
            if ev.no_work {
                Outcome {
                    kind: Kind::NoOp,
                    message: Some("the agent took no turns".into()),
                    resets_at: None,
                }
            } else {
                Outcome::new(Kind::Success)
            }
        }
        Exit::Code(0) => match trouble {
            Some(s) if !matches!(s.kind, Kind::Failed | Kind::ErrorExit0 | Kind::NoOp) => s.into(),
            Some(s) => Outcome {
                kind: Kind::ErrorExit0,
                ..s.into()
            },
            None if ev.final_ok.is_none() && final_expected => Outcome {
                kind: Kind::ErrorExit0,
                message: Some("the agent's output ended without its final result".into()),
                resets_at: None,
            },
            None if ev.no_work => Outcome {
                kind: Kind::NoOp,
                message: Some("the agent took no turns".into()),
                resets_at: None,
            },
            None => Outcome::new(Kind::ErrorExit0),
        },
        _ => match trouble {
            Some(s) if s.kind == Kind::ErrorExit0 => Outcome {
                kind: Kind::Failed,
                ..s.into()
            },
            Some(s) => s.into(),
            None => Outcome::new(Kind::Failed),
        },
    }
}

/// The first line of `text`, trimmed, at most 300 characters.
pub fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.chars().count() <= 300 {
        return line.to_string();
    }
    let cut: String = line.chars().take(299).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(signal: Option<Signal>, final_ok: Option<bool>) -> Evidence {
        Evidence {
            signal,
            final_ok,
            ..Evidence::default()
        }
    }

    #[test]
    fn exit_zero_is_not_enough() {
        let ok = classify(&ev(None, Some(true)), Exit::Code(0), true);
        assert_eq!(ok.kind, Kind::Success);
        let silent = classify(&ev(None, None), Exit::Code(0), true);
        assert_eq!(silent.kind, Kind::ErrorExit0);
        let said = classify(
            &ev(Some(Signal::new(Kind::Failed, "API Error")), Some(false)),
            Exit::Code(0),
            true,
        );
        assert_eq!(
            (said.kind, said.message.as_deref()),
            (Kind::ErrorExit0, Some("API Error"))
        );
    }

    #[test]
    fn a_limit_beats_a_clean_report_but_a_retried_error_does_not() {
        let limit = Signal::new(Kind::TurnLimit, "max turns");
        assert_eq!(
            classify(&ev(Some(limit), Some(true)), Exit::Code(0), true).kind,
            Kind::TurnLimit
        );
        let blip = Signal::new(Kind::Network, "Reconnecting... 2/5");
        assert_eq!(
            classify(&ev(Some(blip), Some(true)), Exit::Code(0), true).kind,
            Kind::Success
        );
    }

    #[test]
    fn stronger_evidence_is_kept() {
        let mut e = Evidence::default();
        e.note(Signal::new(Kind::RateLimit, "429"));
        e.note(Signal::new(Kind::Auth, "then 401"));
        e.note(Signal::new(Kind::Failed, "then this"));
        assert_eq!(e.signal.unwrap().kind, Kind::RateLimit);
    }

    #[test]
    fn a_stop_of_ours_says_why() {
        let mut e = ev(Some(Signal::new(Kind::Failed, "x")), None);
        e.stopped = Some(Signal::new(Kind::Budget, "over $1.00"));
        let o = classify(&e, Exit::Interrupted(15), true);
        assert_eq!(o.kind, Kind::Budget);
    }

    #[test]
    fn usage_adds_up_and_reads_short() {
        let a = Usage {
            input_tokens: 12_000,
            cached_tokens: 1_000,
            output_tokens: 345,
            cost_usd: Some(Usd(0.25)),
        };
        let b = Usage {
            input_tokens: 1,
            ..Usage::default()
        };
        let sum = a.plus(&b);
        assert_eq!(sum.tokens(), 12_346);
        assert_eq!(sum.describe(), "12.3k tokens, $0.25");
        assert_eq!(b.describe(), "1 token");
        assert_eq!(Usd(0.0042).to_string(), "$0.0042");
        assert_eq!(Usd::checked(f64::NAN), None);
    }
}
