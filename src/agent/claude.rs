//! Claude Code's `--output-format stream-json` (with `--verbose`): one JSON
//! object a line, `system` (`init`, `api_retry`), `assistant` and `user`
//! messages, `rate_limit_event`, and a final `result`.

use std::collections::HashMap;

use serde_json::Value;

use super::outcome::{Kind, Signal, Usage, Usd};
use super::reset;
use super::stream::{Facts, event, show_text, str_of, text_signal, tool_summary, u64_of};

/// What the parser keeps between lines.
#[derive(Debug, Default)]
pub struct State {
    /// Usage per model message: several lines (one per content block) share
    /// one `message.id`, so turns and tokens are counted per id.
    messages: HashMap<String, Usage>,
    /// A real (not synthetic) model message was seen.
    model_called: bool,
}

impl State {
    pub fn line(&mut self, line: &str, f: &mut Facts, show: &mut Vec<String>) {
        let Some(v) = event(line) else {
            plain(line, f, show);
            return;
        };
        if let Some(id) = str_of(&v, "session_id") {
            f.activity.session = Some(id.to_string());
        }
        match str_of(&v, "type").unwrap_or_default() {
            "system" => system(&v, f, show),
            "assistant" => self.assistant(&v, f, show),
            "user" => tool_results(&v, show),
            "rate_limit_event" => rate_limit(&v, f, show),
            "result" => self.result(&v, f, show),
            _ => {}
        }
    }

    pub fn finish(&mut self, _f: &mut Facts, _show: &mut [String]) {}

    fn assistant(&mut self, v: &Value, f: &mut Facts, show: &mut Vec<String>) {
        let Some(msg) = v.get("message") else { return };
        let synthetic = str_of(msg, "model") == Some("<synthetic>");
        if let (Some(id), false) = (str_of(msg, "id"), synthetic) {
            self.model_called = true;
            let usage = msg.get("usage").map(usage_of).unwrap_or_default();
            self.messages.insert(id.to_string(), usage);
            f.activity.turns = self.messages.len() as u32;
            let cost = f.activity.usage.cost_usd;
            f.activity.usage = self
                .messages
                .values()
                .fold(Usage::default(), |a, u| a.plus(u));
            f.activity.usage.cost_usd = cost;
        }
        for block in msg
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match str_of(block, "type") {
                Some("text") => show_text(str_of(block, "text").unwrap_or_default(), show),
                Some("tool_use") => {
                    let name = str_of(block, "name").unwrap_or("tool");
                    let summary = tool_summary(name, block.get("input"));
                    show.push(format!("> {summary}"));
                    f.activity.last_tool = Some(summary);
                }
                _ => {}
            }
        }
        if let Some(err) = str_of(v, "error") {
            let text = first_text(msg).unwrap_or(err);
            f.note(error_signal(err, text, f));
        }
    }

    fn result(&mut self, v: &Value, f: &mut Facts, show: &mut Vec<String>) {
        let usage = Usage {
            cost_usd: v
                .get("total_cost_usd")
                .and_then(Value::as_f64)
                .and_then(Usd::checked),
            ..v.get("usage").map(usage_of).unwrap_or_default()
        };
        if !usage.is_zero() || f.activity.usage.is_zero() {
            f.activity.usage = usage;
        }
        let turns = u64_of(v, "num_turns") as u32;
        let api_ms = u64_of(v, "duration_api_ms");
        // A run that never called the model still reports one turn.
        f.evidence.no_work = turns == 0 || (api_ms == 0 && !self.model_called);
        if !f.evidence.no_work {
            f.activity.turns = f.activity.turns.max(turns);
        }
        let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false);
        let text = str_of(v, "result").unwrap_or_default();
        let subtype = str_of(v, "subtype").unwrap_or_default();
        f.evidence.final_ok = Some(subtype == "success" && !is_error);
        match subtype {
            "error_max_turns" => f.note(Signal::new(
                Kind::TurnLimit,
                format!(
                    "stopped after {} (--max-turns)",
                    crate::ui::text::count(turns as usize, "turn")
                ),
            )),
            "error_max_budget_usd" => f.note(Signal::new(
                Kind::Budget,
                format!(
                    "spent {} (--max-budget-usd)",
                    usage.cost_usd.unwrap_or_default()
                ),
            )),
            _ if is_error || subtype != "success" => {
                f.note(result_signal(v, text, subtype, f));
                show_text(&format!("error: {text}"), show);
            }
            _ => {}
        }
    }
}

/// An error result: its HTTP status and text say what kind.
fn result_signal(v: &Value, text: &str, subtype: &str, f: &Facts) -> Signal {
    let words = if text.is_empty() { subtype } else { text };
    match v.get("api_error_status").and_then(Value::as_u64) {
        Some(429) => Signal::new(Kind::RateLimit, words).resets(f.reset_in(text)),
        Some(401 | 403) => Signal::new(Kind::Auth, words),
        _ => text_signal(text, f).unwrap_or_else(|| Signal::new(Kind::Failed, words)),
    }
}

/// An `assistant` line's `error` field.
fn error_signal(err: &str, text: &str, f: &Facts) -> Signal {
    match err {
        "authentication_failed" | "oauth_org_not_allowed" => Signal::new(Kind::Auth, text),
        "rate_limit" | "billing_error" => {
            Signal::new(Kind::RateLimit, text).resets(f.reset_in(text))
        }
        _ => text_signal(text, f).unwrap_or_else(|| Signal::new(Kind::Failed, text)),
    }
}

fn system(v: &Value, f: &mut Facts, show: &mut Vec<String>) {
    match str_of(v, "subtype") {
        Some("init") => {
            let model = str_of(v, "model").unwrap_or("?");
            show.push(format!("Claude Code started (model {model})"));
        }
        Some("api_retry") => {
            let attempt = u64_of(v, "attempt");
            let max = u64_of(v, "max_retries");
            let error = str_of(v, "error").unwrap_or("unknown");
            let status = v.get("error_status").and_then(Value::as_u64);
            let why = match status {
                Some(s) => format!("HTTP {s}, {error}"),
                None => "no connection".to_string(),
            };
            show.push(format!(
                "API request failed ({why}): retry {attempt} of {max}"
            ));
            let kind = match (status, error) {
                (Some(429), _) | (_, "rate_limit") => Kind::RateLimit,
                (Some(401 | 403), _) | (_, "authentication_failed") => Kind::Auth,
                (None, _) => Kind::Network,
                _ => Kind::Failed,
            };
            f.note(Signal::new(kind, format!("API request failed ({why})")));
        }
        _ => {}
    }
}

fn rate_limit(v: &Value, f: &mut Facts, show: &mut Vec<String>) {
    let Some(info) = v.get("rate_limit_info") else {
        return;
    };
    let at = info
        .get("resetsAt")
        .and_then(Value::as_i64)
        .and_then(reset::from_epoch);
    let kind = str_of(info, "rateLimitType")
        .unwrap_or("usage")
        .replace('_', " ");
    let when = at
        .map(|t| format!(", resets {}", reset::show(t)))
        .unwrap_or_default();
    match str_of(info, "status") {
        Some("rejected") => {
            show.push(format!("{kind} limit reached{when}"));
            f.note(Signal::new(Kind::RateLimit, format!("{kind} limit reached")).resets(at));
        }
        Some("allowed_warning") => show.push(format!("close to the {kind} limit{when}")),
        _ => {}
    }
}

fn tool_results(v: &Value, show: &mut Vec<String>) {
    let blocks = v
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array);
    for block in blocks.into_iter().flatten() {
        let failed = block.get("is_error").and_then(Value::as_bool) == Some(true);
        if str_of(block, "type") == Some("tool_result") && failed {
            let text = match block.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| str_of(p, "text"))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            show.push(format!(
                "  tool failed: {}",
                super::outcome::first_line(&text)
            ));
        }
    }
}

/// A line that is not an event: the CLI's own message on stderr (a bad
/// flag, a refusal to run as root).
fn plain(line: &str, f: &mut Facts, show: &mut Vec<String>) {
    if line.trim().is_empty() {
        return;
    }
    show.push(line.to_string());
    let s = text_signal(line, f).unwrap_or_else(|| Signal::new(Kind::Failed, line));
    f.note(s);
}

fn first_text(msg: &Value) -> Option<&str> {
    msg.get("content")?
        .as_array()?
        .iter()
        .find_map(|b| (str_of(b, "type") == Some("text")).then(|| str_of(b, "text"))?)
}

/// Claude's `usage`: input excludes the cache, so it is added back.
fn usage_of(u: &Value) -> Usage {
    let cache_read = u64_of(u, "cache_read_input_tokens");
    Usage {
        input_tokens: u64_of(u, "input_tokens")
            + u64_of(u, "cache_creation_input_tokens")
            + cache_read,
        cached_tokens: cache_read,
        output_tokens: u64_of(u, "output_tokens"),
        cost_usd: None,
    }
}
