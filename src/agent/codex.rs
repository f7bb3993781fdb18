//! Codex's `codex exec --json` events: `thread.started`, `turn.started`,
//! `item.started` / `item.updated` / `item.completed` (commands, file
//! changes, tool calls, messages), `turn.completed` with the usage,
//! `turn.failed`, and `error` (also sent for every reconnection).

use serde_json::Value;

use super::outcome::{Kind, Signal, Usage, first_line};
use super::stream::{Facts, event, shorten, show_text, str_of, text_signal, u64_of};
use crate::runner::Exit;

/// Reconnection attempts after which a lost network is not a blip.
const RECONNECTS: u32 = 5;

#[derive(Debug, Default)]
pub struct State {
    reconnects: u32,
}

impl State {
    pub fn line(&mut self, line: &str, f: &mut Facts, show: &mut Vec<String>) {
        let Some(v) = event(line) else {
            // stderr: warnings and tracing lines; shown, not judged (Codex
            // logs recoverable trouble there too).
            if !line.trim().is_empty() {
                show.push(line.to_string());
            }
            return;
        };
        match str_of(&v, "type").unwrap_or_default() {
            "thread.started" => {
                f.activity.session = str_of(&v, "thread_id").map(str::to_string);
            }
            "item.started" => started(v.get("item"), f, show),
            "item.completed" => completed(v.get("item"), f, show),
            "turn.completed" => {
                let usage = v.get("usage").map(usage_of).unwrap_or_default();
                f.activity.usage = f.activity.usage.plus(&usage);
                f.evidence.final_ok = Some(true);
                f.evidence.clear_transient();
                f.evidence.no_work = f.activity.turns == 0 && f.activity.usage.is_zero();
            }
            "turn.failed" => {
                let msg = v
                    .get("error")
                    .and_then(|e| str_of(e, "message"))
                    .unwrap_or("turn failed");
                f.evidence.final_ok = Some(false);
                show.push(format!("error: {msg}"));
                note_text(msg, f);
            }
            "error" => self.error(str_of(&v, "message").unwrap_or_default(), f, show),
            _ => {}
        }
    }

    fn error(&mut self, msg: &str, f: &mut Facts, show: &mut Vec<String>) {
        show.push(format!("error: {msg}"));
        if msg.starts_with("Reconnecting...") {
            self.reconnects += 1;
            let s = Signal::new(Kind::Network, msg);
            // Codex waits for the network forever: past its own retries,
            // waiting longer only burns the timeout.
            if msg.contains("waiting for network") || self.reconnects > RECONNECTS {
                f.stop(s.clone());
            }
            f.note(s);
            return;
        }
        note_text(msg, f);
    }

    pub fn finish(&mut self, _f: &mut Facts, _exit: Exit, _show: &mut [String]) {}
}

fn note_text(msg: &str, f: &mut Facts) {
    let s = text_signal(msg, f).unwrap_or_else(|| Signal::new(Kind::Failed, msg));
    f.note(s);
}

/// The item's type: `type` now, `item_type` in early builds.
fn kind_of(item: &Value) -> &str {
    str_of(item, "type")
        .or_else(|| str_of(item, "item_type"))
        .unwrap_or_default()
}

fn started(item: Option<&Value>, f: &mut Facts, show: &mut Vec<String>) {
    let Some(item) = item else { return };
    if kind_of(item) == "command_execution" {
        let cmd = first_line(str_of(item, "command").unwrap_or_default());
        show.push(format!("> $ {cmd}"));
        f.activity.last_tool = Some(format!("$ {}", shorten(&cmd, 60)));
    }
}

fn completed(item: Option<&Value>, f: &mut Facts, show: &mut Vec<String>) {
    let Some(item) = item else { return };
    let tool = match kind_of(item) {
        "agent_message" | "assistant_message" => {
            show_text(str_of(item, "text").unwrap_or_default(), show);
            None
        }
        "command_execution" => {
            let code = item.get("exit_code").and_then(Value::as_i64);
            if let Some(c) = code.filter(|&c| c != 0) {
                show.push(format!("  command exited {c}"));
            }
            let cmd = first_line(str_of(item, "command").unwrap_or_default());
            Some(format!("$ {}", shorten(&cmd, 60)))
        }
        "file_change" => Some(file_change(item, show)),
        "mcp_tool_call" => Some(format!(
            "{}.{}",
            str_of(item, "server").unwrap_or("mcp"),
            str_of(item, "tool").unwrap_or("tool")
        )),
        "web_search" => Some(format!(
            "search {}",
            shorten(str_of(item, "query").unwrap_or_default(), 50)
        )),
        "error" => {
            show.push(format!(
                "warning: {}",
                str_of(item, "message").unwrap_or_default()
            ));
            None
        }
        _ => None,
    };
    if let Some(t) = tool {
        f.activity.turns += 1;
        f.activity.last_tool = Some(t);
    }
}

fn file_change(item: &Value, show: &mut Vec<String>) -> String {
    let paths: Vec<&str> = item
        .get("changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| str_of(c, "path"))
        .collect();
    let text = format!("edit {}", shorten(&paths.join(", "), 60));
    show.push(format!("> {text}"));
    text
}

/// Codex's `usage`: input includes the cached part.
fn usage_of(u: &Value) -> Usage {
    Usage {
        input_tokens: u64_of(u, "input_tokens"),
        cached_tokens: u64_of(u, "cached_input_tokens"),
        output_tokens: u64_of(u, "output_tokens"),
        cost_usd: None,
    }
}
