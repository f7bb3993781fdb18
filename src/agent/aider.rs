//! Aider's plain-text output with `--no-pretty --no-stream`: a banner,
//! `Applied edit to <path>` per edit, `Tokens: … Cost: $x message, $y
//! session.` per reply, and `litellm.<Error>:` lines with a description
//! when the provider refuses. Aider exits 0 after `--message` whatever
//! happened, so these lines are all there is to go by.
//!
//! Only lines in Aider's own shapes are judged: the model's reply is plain
//! text too, and may well talk about rate limits.

use super::outcome::{Kind, Signal, Usd};
use super::stream::{Facts, text_signal};

#[derive(Debug, Default)]
pub struct State {
    /// A `Tokens:` line was seen: the model replied at least once.
    replied: bool,
    edits: u32,
    /// The last `Tokens:` line ended without the `Cost:` part, which may
    /// follow on the next line.
    cost_next: bool,
}

impl State {
    pub fn line(&mut self, line: &str, f: &mut Facts, show: &mut Vec<String>) {
        if line.trim().is_empty() {
            return;
        }
        show.push(line.to_string());
        let line = line.trim();
        if let Some(path) = line.strip_prefix("Applied edit to ") {
            self.edits += 1;
            f.activity.last_tool = Some(format!("edit {path}"));
        } else if let Some(rest) = line.strip_prefix("Tokens: ") {
            self.tokens(rest, f);
        } else if let Some(rest) = line.strip_prefix("Cost: ").filter(|_| self.cost_next) {
            self.cost(rest, f);
        } else if line.starts_with("litellm.") {
            let s = litellm(line, f);
            f.note(s);
        } else if let Some(s) = description(line, f) {
            if s.kind == Kind::Auth && line.starts_with("No LLM model") {
                // Aider would now wait five minutes for a browser login.
                f.stop(s.clone());
            }
            f.note(s);
        }
    }

    pub fn finish(&mut self, f: &mut Facts, _show: &mut [String]) {
        f.evidence.no_work = self.replied && self.edits == 0;
        if f.evidence.signal.is_some() {
            return;
        }
        if !self.replied {
            f.note(Signal::new(
                Kind::Failed,
                "Aider ended without a reply from the model",
            ));
        } else {
            f.evidence.final_ok = Some(true);
        }
    }

    /// `2.3k sent, 150 received. Cost: $0.01 message, $0.02 session.`
    fn tokens(&mut self, rest: &str, f: &mut Facts) {
        self.replied = true;
        f.activity.turns += 1;
        // A reply came after the trouble: it was retried away.
        f.evidence.clear_transient();
        let (counts, cost) = match rest.split_once("Cost: ") {
            Some((c, cost)) => (c, Some(cost)),
            None => (rest, None),
        };
        let u = &mut f.activity.usage;
        for part in counts.split(',').map(|p| p.trim().trim_end_matches('.')) {
            let Some((n, what)) = part.split_once(' ') else {
                continue;
            };
            let Some(n) = count(n) else { continue };
            match what {
                "sent" => u.input_tokens += n,
                "received" => u.output_tokens += n,
                "cache hit" => u.cached_tokens += n,
                _ => {}
            }
        }
        self.cost_next = cost.is_none();
        if let Some(c) = cost {
            self.cost(c, f);
        }
    }

    /// `$0.01 message, $0.02 session.`: the session's total so far.
    fn cost(&mut self, text: &str, f: &mut Facts) {
        self.cost_next = false;
        let session = text
            .split(',')
            .find(|p| p.trim_end_matches('.').trim().ends_with("session"))
            .and_then(|p| p.trim().strip_prefix('$'))
            .and_then(|p| p.split_whitespace().next())
            .and_then(|n| n.replace(',', "").parse::<f64>().ok())
            .and_then(Usd::checked);
        if session.is_some() {
            f.activity.usage.cost_usd = session;
        }
    }
}

/// `2.3k`, `150`, `12k`, `1.2M`.
fn count(text: &str) -> Option<u64> {
    let (num, factor) = match text.chars().last()? {
        'k' => (&text[..text.len() - 1], 1e3),
        'M' => (&text[..text.len() - 1], 1e6),
        _ => (text, 1.0),
    };
    let n: f64 = num.parse().ok()?;
    Some((n * factor).round() as u64)
}

/// `litellm.RateLimitError: …` and its kin.
fn litellm(line: &str, f: &Facts) -> Signal {
    let class = line["litellm.".len()..]
        .split(':')
        .next()
        .unwrap_or_default();
    match class {
        "AuthenticationError" | "PermissionDeniedError" => Signal::new(Kind::Auth, line),
        "RateLimitError" => Signal::new(Kind::RateLimit, line).resets(f.reset_in(line)),
        "APIConnectionError" | "Timeout" => Signal::new(Kind::Network, line),
        _ => text_signal(line, f)
            .filter(|s| s.kind == Kind::Network)
            .unwrap_or_else(|| Signal::new(Kind::Failed, line)),
    }
}

/// Aider's own sentences about a refusal or about giving up.
fn description(line: &str, f: &Facts) -> Option<Signal> {
    const AUTH: [&str; 3] = [
        "The API provider is not able to authenticate you",
        "Permission was denied. Check your API key",
        "No LLM model was specified and no API keys were provided",
    ];
    const RATE: [&str; 2] = [
        "The API provider has rate limited you",
        "Insufficient credits with the API provider",
    ];
    const FAILED: [&str; 3] = [
        "The LLM did not conform to the edit format",
        "SEARCH/REPLACE block failed to match",
        "SEARCH/REPLACE blocks failed to match",
    ];
    let starts = |list: &[&str]| list.iter().any(|p| line.contains(p));
    if starts(&AUTH) {
        Some(Signal::new(Kind::Auth, line))
    } else if starts(&RATE) {
        Some(Signal::new(Kind::RateLimit, line).resets(f.reset_in(line)))
    } else if line.starts_with("Only ") && line.ends_with("reflections allowed, stopping.") {
        Some(Signal::new(Kind::TurnLimit, line))
    } else if starts(&FAILED) {
        Some(Signal::new(Kind::Failed, line))
    } else {
        None
    }
}
