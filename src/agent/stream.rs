//! Reading an agent's output as it arrives: bytes in, readable lines for
//! the screen, live activity (turns, last tool, tokens, cost), an early stop
//! when waiting longer is pointless, and at the end an [`Outcome`].
//!
//! The agent's stdout and stderr share one pipe (their order kept), so a
//! parser sees the CLI's JSON events and its plain-text complaints mixed;
//! a line that is not an event is shown as it is and read for trouble.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::outcome::{self, Evidence, Kind, Outcome, Signal, Usage, Usd};
use super::{Agent, aider, claude, codex, gemini};
use crate::runner::Exit;

/// What is known about an attempt while it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Model turns (Claude), tool calls (Codex, Gemini) or replies (Aider).
    pub turns: u32,
    /// The last tool used, short: `Edit src/main.rs`, `$ cargo test`.
    pub last_tool: Option<String>,
    pub usage: Usage,
    /// The agent's session (Claude, Gemini) or thread (Codex), for resuming.
    pub session: Option<String>,
}

impl Activity {
    /// `7 turns · Edit src/main.rs · 12.3k tokens, $0.42`: the live line's part.
    pub fn describe(&self) -> String {
        let mut parts = vec![crate::ui::text::count(self.turns as usize, "turn")];
        if let Some(tool) = &self.last_tool {
            parts.push(crate::ui::text::clean(tool).into_owned());
        }
        if !self.usage.is_zero() {
            parts.push(self.usage.describe());
        }
        parts.join(" · ")
    }
}

/// Budgets for one attempt: what is left of the task's and the milestone's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub max_cost: Option<f64>,
    pub max_tokens: Option<u64>,
}

/// The result of reading some output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Feed {
    /// Readable lines for the screen (raw JSON goes only to the log).
    pub show: Vec<String>,
    /// Stop the agent now: continuing cannot help (see the signal).
    pub stop: bool,
}

/// What a stream parser updates as it reads.
#[derive(Debug, Default)]
pub struct Facts {
    pub activity: Activity,
    pub evidence: Evidence,
    /// The time used to read reset times (fixed in tests).
    pub now: Option<Timestamp>,
    pub tz: Option<TimeZone>,
}

impl Facts {
    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }

    pub fn tz(&self) -> TimeZone {
        self.tz.clone().unwrap_or_else(TimeZone::system)
    }

    /// A reset time in `text`, if it gives one.
    pub fn reset_in(&self, text: &str) -> Option<Timestamp> {
        super::reset::find(text, self.now(), &self.tz())
    }

    /// Note `s`; a parser calls this for every sign of trouble.
    pub fn note(&mut self, s: Signal) {
        self.evidence.note(s);
    }

    /// Stop the agent early for `s`.
    pub fn stop(&mut self, s: Signal) {
        if self.evidence.stopped.is_none() {
            self.evidence.stopped = Some(s);
        }
    }
}

/// One CLI's output format.
enum Format {
    Claude(claude::State),
    Codex(codex::State),
    Gemini(gemini::State),
    Aider(aider::State),
}

/// Reads one attempt's output.
pub struct Monitor {
    agent: Agent,
    format: Format,
    facts: Facts,
    limits: Limits,
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
}

impl Monitor {
    pub fn new(agent: Agent, limits: Limits) -> Monitor {
        let format = match agent {
            Agent::Claude => Format::Claude(claude::State::default()),
            Agent::Codex => Format::Codex(codex::State::default()),
            Agent::Gemini => Format::Gemini(gemini::State::default()),
            Agent::Aider => Format::Aider(aider::State::default()),
        };
        Monitor {
            agent,
            format,
            facts: Facts::default(),
            limits,
            partial: Vec::new(),
        }
    }

    /// Read reset times as if it were `now` in `tz` (tests).
    pub fn with_clock(mut self, now: Timestamp, tz: TimeZone) -> Monitor {
        self.facts.now = Some(now);
        self.facts.tz = Some(tz);
        self
    }

    pub fn agent(&self) -> Agent {
        self.agent
    }

    pub fn activity(&self) -> &Activity {
        &self.facts.activity
    }

    /// Read a chunk of output; complete lines are parsed, the rest waits.
    pub fn feed(&mut self, bytes: &[u8]) -> Feed {
        self.partial.extend_from_slice(bytes);
        let mut feed = Feed::default();
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            self.line_into(text.trim_end_matches('\r'), &mut feed);
        }
        feed
    }

    /// Read one whole line of output.
    pub fn line(&mut self, line: &str) -> Feed {
        let mut feed = Feed::default();
        self.line_into(line, &mut feed);
        feed
    }

    fn line_into(&mut self, line: &str, feed: &mut Feed) {
        let stopped_before = self.facts.evidence.stopped.is_some();
        let show = &mut feed.show;
        let f = &mut self.facts;
        match &mut self.format {
            Format::Claude(s) => s.line(line, f, show),
            Format::Codex(s) => s.line(line, f, show),
            Format::Gemini(s) => s.line(line, f, show),
            Format::Aider(s) => s.line(line, f, show),
        }
        self.check_budget();
        feed.stop |= !stopped_before && self.facts.evidence.stopped.is_some();
    }

    /// Stop an agent that crossed `--max-cost` or `--max-tokens`.
    fn check_budget(&mut self) {
        let usage = self.facts.activity.usage;
        let cost = usage.cost_usd.unwrap_or_default().0;
        if let Some(max) = self.limits.max_cost.filter(|&m| cost > m) {
            let (cost, max) = (Usd(cost), Usd(max));
            self.facts.stop(Signal::new(
                Kind::Budget,
                format!("cost {cost} crossed the budget of {max}"),
            ));
        }
        if let Some(max) = self.limits.max_tokens.filter(|&m| usage.tokens() > m) {
            self.facts.stop(Signal::new(
                Kind::Budget,
                format!(
                    "{} tokens crossed the budget of {}",
                    outcome::short_count(usage.tokens()),
                    outcome::short_count(max)
                ),
            ));
        }
    }

    /// The attempt is over: read what is left, and classify it.
    pub fn finish(mut self, exit: Exit) -> Finished {
        let mut show = Vec::new();
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            let mut feed = Feed::default();
            self.line_into(&String::from_utf8_lossy(&rest), &mut feed);
            show = feed.show;
        }
        let f = &mut self.facts;
        match &mut self.format {
            Format::Claude(s) => s.finish(f, &mut show),
            Format::Codex(s) => s.finish(f, exit, &mut show),
            Format::Gemini(s) => s.finish(f, exit, &mut show),
            Format::Aider(s) => s.finish(f, &mut show),
        }
        // Usage known only at the end (Codex, Gemini) still counts.
        self.check_budget();
        let final_expected = self.agent != Agent::Aider;
        let outcome = outcome::classify(&self.facts.evidence, exit, final_expected);
        Finished {
            outcome,
            activity: self.facts.activity,
            show,
        }
    }
}

/// An attempt read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub outcome: Outcome,
    pub activity: Activity,
    /// Lines still to show (an unfinished last line, a buffered message).
    pub show: Vec<String>,
}

/// A JSON object's string field.
pub fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

/// A JSON object's count field.
pub fn u64_of(v: &serde_json::Value, key: &str) -> u64 {
    v.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

/// Parse a line as a JSON object with a string `type`, or `None` for text.
pub fn event(line: &str) -> Option<serde_json::Value> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(trimmed).ok()?;
    v.get("type")?.as_str()?;
    Some(v)
}

/// Push `text`'s lines (a message may hold several), skipping blank edges.
pub fn show_text(text: &str, show: &mut Vec<String>) {
    show.extend(text.trim_matches('\n').lines().map(str::to_string));
}

/// A short form of a tool call for the live line and the screen: the tool's
/// name and its main argument (a path, a command, a pattern).
pub fn tool_summary(name: &str, input: Option<&serde_json::Value>) -> String {
    const KEYS: [&str; 8] = [
        "command",
        "file_path",
        "path",
        "absolute_path",
        "pattern",
        "query",
        "url",
        "description",
    ];
    let arg = input.and_then(|i| KEYS.iter().find_map(|k| str_of(i, k)));
    match arg {
        Some(a) => format!("{name} {}", shorten(&outcome::first_line(a), 60)),
        None => name.to_string(),
    }
}

/// `text` cut to `max` characters.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// Trouble a CLI's own plain-text message names, wherever it came from:
/// a final error text, an error event, a line on its stderr.
pub fn text_signal(text: &str, facts: &Facts) -> Option<Signal> {
    let lower = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    let kind = if has(&[
        "rate limit",
        "rate_limit",
        "usage limit",
        "session limit",
        "weekly limit",
        "resource_exhausted",
        "quota exceeded",
        "insufficient credits",
        "credit balance is too low",
        " 429",
    ]) {
        Kind::RateLimit
    } else if has(&[
        "not logged in",
        "invalid api key",
        "please run /login",
        "401",
        "unauthorized",
        "authentication",
        "not able to authenticate",
        "please set an auth method",
        "missing environment variable",
        "api key",
        "token could not be refreshed",
        "oauth token revoked",
    ]) {
        Kind::Auth
    } else if has(&[
        "unable to connect",
        "waiting for network",
        "name or service not known",
        "name does not resolve",
        "temporary failure in name resolution",
        "failed to lookup address",
        "fetch failed",
        "connection refused",
        "connection failed",
        "connection error",
        "apiconnectionerror",
        "network is unreachable",
        "enotfound",
        "econnrefused",
    ]) {
        Kind::Network
    } else {
        return None;
    };
    let s = Signal::new(kind, text);
    Some(if kind == Kind::RateLimit {
        s.resets(facts.reset_in(text))
    } else {
        s
    })
}
