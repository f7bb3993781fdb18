//! The live status line at the bottom of the terminal while a task runs:
//! `⠋ TASK-002 [2/5] 1m 12s · 7 turns · Edit src/main.rs · $0.42`. It is
//! drawn on standard error only when that is a terminal, and cleared when
//! the task ends; the task's output goes above it, whole lines at a time.
//! Off a terminal there is no line and no control code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often the spinner and the elapsed time are redrawn.
const TICK: Duration = Duration::from_millis(200);

/// One task's status line.
pub struct TaskLine {
    bar: ProgressBar,
}

impl TaskLine {
    /// Start the line for `task`, `k` of `n`; `None` off a terminal.
    pub fn start(task: &str, k: usize, n: usize) -> Option<Arc<TaskLine>> {
        if !enabled() {
            return None;
        }
        let style = ProgressStyle::with_template("{spinner} {prefix} {since} {wide_msg}")
            .ok()?
            .with_key(
                "since",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&since(state.elapsed()));
                },
            )
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(format!("{} [{k}/{n}]", super::text::clean(task)));
        bar.enable_steady_tick(TICK);
        Some(Arc::new(TaskLine { bar }))
    }

    /// What the task is doing, after its ID and elapsed time.
    pub fn set(&self, activity: &str) {
        let text = if activity.is_empty() {
            String::new()
        } else {
            format!("· {}", super::text::clean(activity))
        };
        self.bar.set_message(text);
    }

    /// Remove the line: the task has ended.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for TaskLine {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl TaskLine {
    /// Write `text` to standard output above the line (the runner's
    /// `Screen` for the task's output).
    pub fn above(&self, text: &[u8]) {
        self.bar.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text).and_then(|()| out.flush());
        });
    }
}

/// `7s`, `4m 05s`, `1h 02m`: the elapsed time, whole seconds.
fn since(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// A terminal that can redraw a line: standard error is one, and not `dumb`.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb" && !t.is_empty())
}
