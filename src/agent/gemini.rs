//! Gemini CLI's `--output-format stream-json`: `init`, `message` (assistant
//! text in `delta` chunks), `tool_use`, `tool_result`, `error` and a final
//! `result` with `stats`. Without credentials it writes no JSON at all and
//! exits 41, so exit codes count too.

use serde_json::Value;

use super::outcome::{Kind, Signal, Usage, first_line};
use super::stream::{Facts, event, show_text, str_of, text_signal, tool_summary, u64_of};
use crate::runner::Exit;

/// Gemini CLI's documented exit codes that name an outcome.
const EXIT_AUTH: i32 = 41;
const EXIT_TURN_LIMIT: i32 = 53;

#[derive(Debug, Default)]
pub struct State {
    /// Assistant text not yet ended by a newline (it arrives in chunks).
    text: String,
}

impl State {
    pub fn line(&mut self, line: &str, f: &mut Facts, show: &mut Vec<String>) {
        let Some(v) = event(line) else {
            self.flush(show);
            plain(line, f, show);
            return;
        };
        let kind = str_of(&v, "type").unwrap_or_default();
        if kind != "message" {
            self.flush(show);
        }
        match kind {
            "init" => {
                f.activity.session = str_of(&v, "session_id").map(str::to_string);
                let model = str_of(&v, "model").unwrap_or("?");
                show.push(format!("Gemini CLI started (model {model})"));
            }
            "message" if str_of(&v, "role") == Some("assistant") => {
                self.text
                    .push_str(str_of(&v, "content").unwrap_or_default());
                if let Some(end) = self.text.rfind('\n') {
                    let done: String = self.text.drain(..=end).collect();
                    show_text(&done, show);
                }
            }
            "tool_use" => {
                let name = str_of(&v, "tool_name").unwrap_or("tool");
                let summary = tool_summary(name, v.get("parameters"));
                show.push(format!("> {summary}"));
                f.activity.turns += 1;
                f.activity.last_tool = Some(summary);
            }
            "tool_result" if str_of(&v, "status") == Some("error") => {
                let msg = v.get("error").and_then(|e| str_of(e, "message"));
                show.push(format!(
                    "  tool failed: {}",
                    first_line(msg.unwrap_or_default())
                ));
            }
            "error" => error(&v, f, show),
            "result" => result(&v, f, show),
            _ => {}
        }
    }

    pub fn finish(&mut self, f: &mut Facts, exit: Exit, show: &mut Vec<String>) {
        self.flush(show);
        let s = match exit {
            Exit::Code(EXIT_AUTH) => Signal::new(Kind::Auth, "Gemini CLI could not authenticate"),
            Exit::Code(EXIT_TURN_LIMIT) => {
                Signal::new(Kind::TurnLimit, "maximum session turns reached")
            }
            _ => return,
        };
        // Its own words (on stderr) say more than the exit code.
        if f.evidence
            .signal
            .as_ref()
            .is_none_or(|old| old.kind != s.kind)
        {
            f.note(s);
        }
    }

    fn flush(&mut self, show: &mut Vec<String>) {
        if !self.text.is_empty() {
            show_text(&std::mem::take(&mut self.text), show);
        }
    }
}

fn error(v: &Value, f: &mut Facts, show: &mut Vec<String>) {
    let msg = str_of(v, "message").unwrap_or_default();
    let severity = str_of(v, "severity").unwrap_or("error");
    show.push(format!("{severity}: {msg}"));
    if msg.contains("Maximum session turns") {
        f.note(Signal::new(Kind::TurnLimit, msg));
    } else if severity == "error" {
        f.note(text_signal(msg, f).unwrap_or_else(|| Signal::new(Kind::Failed, msg)));
    }
}

fn result(v: &Value, f: &mut Facts, show: &mut Vec<String>) {
    let stats = v.get("stats");
    if let Some(s) = stats {
        f.activity.usage = Usage {
            input_tokens: u64_of(s, "input_tokens"),
            cached_tokens: u64_of(s, "cached"),
            output_tokens: u64_of(s, "output_tokens"),
            cost_usd: None,
        };
    }
    let calls = stats.map_or(0, |s| u64_of(s, "tool_calls"));
    f.evidence.no_work = calls == 0 && f.activity.turns == 0 && f.activity.usage.is_zero();
    if str_of(v, "status") == Some("success") {
        f.evidence.final_ok = Some(true);
        f.evidence.clear_transient();
        return;
    }
    f.evidence.final_ok = Some(false);
    let err = v.get("error");
    let msg = err.and_then(|e| str_of(e, "message")).unwrap_or("error");
    show.push(format!("error: {msg}"));
    let s = match err.and_then(|e| str_of(e, "type")).unwrap_or_default() {
        "FatalTurnLimitedError" => Signal::new(Kind::TurnLimit, msg),
        "TerminalQuotaError" | "RetryableQuotaError" => {
            Signal::new(Kind::RateLimit, msg).resets(f.reset_in(msg))
        }
        "FatalAuthenticationError" => Signal::new(Kind::Auth, msg),
        _ => text_signal(msg, f).unwrap_or_else(|| Signal::new(Kind::Failed, msg)),
    };
    f.note(s);
}

/// Lines on stderr: the auth complaint, retry notices, stack traces.
fn plain(line: &str, f: &mut Facts, show: &mut Vec<String>) {
    if line.trim().is_empty() {
        return;
    }
    show.push(line.to_string());
    if let Some(s) = text_signal(line, f) {
        f.note(s);
    }
}
