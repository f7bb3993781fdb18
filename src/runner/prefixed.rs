//! The output of tasks that run at the same time (`run --jobs N`): each
//! whole line prefixed with its task's ID, so that lines of different tasks
//! interleave but never mix. (In runner, with the `Screen` it implements:
//! ui imports nothing above it.)

use std::io::Write;

use super::{Screen, Sink};

/// Shows one task's lines as `[ID] line`.
pub struct Prefixed {
    prefix: Vec<u8>,
    sink: Sink,
}

impl Prefixed {
    pub fn new(id: &str, sink: Sink) -> Prefixed {
        Prefixed {
            prefix: format!("[{}] ", crate::ui::text::clean(id)).into_bytes(),
            sink,
        }
    }

    fn render(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + self.prefix.len());
        for line in text.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(&self.prefix);
            out.extend_from_slice(line);
        }
        out
    }
}

impl Screen for Prefixed {
    fn show(&self, text: &[u8]) {
        let out = self.render(text);
        // One write under the stream's lock: a line is never cut by another's.
        let _ = match self.sink {
            Sink::Stdout => write_flush(&mut std::io::stdout().lock(), &out),
            Sink::Stderr => write_flush(&mut std::io::stderr().lock(), &out),
            Sink::LogOnly => Ok(()),
        };
    }
}

fn write_flush(w: &mut impl Write, text: &[u8]) -> std::io::Result<()> {
    w.write_all(text)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_gets_the_prefix() {
        let p = Prefixed::new("T001", Sink::LogOnly);
        assert_eq!(p.render(b"one\ntwo\n"), b"[T001] one\n[T001] two\n");
    }
}
