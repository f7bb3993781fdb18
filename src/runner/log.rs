//! A task's log file, capped: the first half of the cap is written as the
//! output comes, the last half is kept in memory and written when the
//! output ends, with one line between them saying how much was left out.
//!
//! A task that prints a gigabyte must not fill the disk with its log; its
//! beginning (what it set out to do) and its end (how it failed, which the
//! failure prompt shows) are what a reader needs.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::error::{Context, Result};

/// The most a log keeps of one attempt's output: its first and last 8 MiB.
pub const DEFAULT_CAP: u64 = 16 << 20;

/// Hidden, for tests: the cap in bytes (see ARCHITECTURE.md).
pub const CAP_VAR: &str = "GIT_MILESTONE_LOG_CAP";

/// The cap: [`CAP_VAR`] when it holds a number of bytes, else [`DEFAULT_CAP`].
pub fn cap() -> u64 {
    std::env::var(CAP_VAR)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &u64| n >= 2)
        .unwrap_or(DEFAULT_CAP)
}

pub struct CappedLog {
    file: File,
    /// Bytes the head may still take before output goes to `tail`.
    head_left: u64,
    tail: VecDeque<u8>,
    tail_cap: usize,
    /// Bytes pushed out of `tail`: left out of the log.
    left_out: u64,
    /// Whether the last byte written to the file ended a line.
    at_line_start: bool,
}

impl CappedLog {
    /// Create (or truncate) the log at `path`, its directory too.
    pub fn create(path: &Path, cap: u64) -> Result<CappedLog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let tail_cap = usize::try_from(cap / 2).unwrap_or(usize::MAX);
        Ok(CappedLog {
            file,
            head_left: cap - cap / 2,
            tail: VecDeque::new(),
            tail_cap,
            left_out: 0,
            at_line_start: true,
        })
    }

    /// Add output; the head goes to the file at once, the rest waits in the tail.
    pub fn write(&mut self, mut chunk: &[u8]) -> std::io::Result<()> {
        if self.head_left > 0 {
            let n = chunk
                .len()
                .min(usize::try_from(self.head_left).unwrap_or(usize::MAX));
            self.write_file(&chunk[..n])?;
            self.head_left -= n as u64;
            chunk = &chunk[n..];
        }
        if chunk.len() > self.tail_cap {
            let skip = chunk.len() - self.tail_cap;
            self.left_out += (self.tail.len() + skip) as u64;
            self.tail.clear();
            chunk = &chunk[skip..];
        }
        self.tail.extend(chunk);
        let over = self.tail.len().saturating_sub(self.tail_cap);
        if over > 0 {
            self.tail.drain(..over);
            self.left_out += over as u64;
        }
        Ok(())
    }

    /// Write the tail, after a line saying what was left out if anything was.
    pub fn finish(mut self) -> std::io::Result<()> {
        let mut tail: Vec<u8> = self.tail.drain(..).collect();
        if self.left_out > 0 {
            // Start the tail at a line's start, as a reader expects.
            if let Some(nl) = tail.iter().position(|&b| b == b'\n') {
                self.left_out += nl as u64 + 1;
                tail.drain(..=nl);
            }
            let mut marker = String::new();
            if !self.at_line_start {
                marker.push('\n');
            }
            marker.push_str(&format!(
                "[git-milestone: {} of output left out here; a log keeps the first and the last {} of a task's output]\n",
                size(self.left_out),
                size(self.tail_cap as u64),
            ));
            self.write_file(marker.as_bytes())?;
        }
        self.write_file(&tail)?;
        self.file.flush()
    }

    fn write_file(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(&last) = bytes.last() {
            self.at_line_start = last == b'\n';
        }
        self.file.write_all(bytes)
    }
}

/// `512 bytes`, `4.0 KiB`, `1.2 GiB`.
fn size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return crate::ui::text::count(n as usize, "byte");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(cap: u64, chunks: &[&[u8]]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        let mut log = CappedLog::create(&path, cap).unwrap();
        for c in chunks {
            log.write(c).unwrap();
        }
        log.finish().unwrap();
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn output_within_the_cap_is_kept_whole() {
        assert_eq!(
            logged(20, &[b"0123456789", b"abcdefghij"]),
            "0123456789abcdefghij"
        );
        assert_eq!(logged(1000, &[b"a\n", b"b\n"]), "a\nb\n");
    }

    #[test]
    fn longer_output_keeps_head_and_tail_with_a_marker() {
        let lines: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let log = logged(100, &[lines.as_bytes()]);
        let (head, rest) = log.split_at(50);
        assert_eq!(head, &lines[..50]);
        let (marker, tail) = rest.split_once("]\n").unwrap();
        assert_eq!(
            marker,
            "\n[git-milestone: 693 bytes of output left out here; \
             a log keeps the first and the last 50 bytes of a task's output"
        );
        assert!(lines.ends_with(tail), "{tail:?}");
        assert!(tail.starts_with("line "), "{tail:?}");
        assert_eq!(50 + 693 + tail.len(), lines.len());
    }

    #[test]
    fn sizes_read_at_a_glance() {
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(1023), "1023 bytes");
        assert_eq!(size(8 << 20), "8.0 MiB");
        assert_eq!(size(1_500_000_000), "1.4 GiB");
    }
}
