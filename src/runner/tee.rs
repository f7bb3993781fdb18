//! Copy a task's output to the terminal as it arrives and to its log file.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which of our own streams a pipe is copied to.
#[derive(Debug, Clone, Copy)]
pub enum Sink {
    Stdout,
    Stderr,
    /// Only the log (tests and `--quiet`-like callers).
    LogOnly,
}

/// Start a thread that copies `pipe` to `sink` and to `log` until the pipe
/// closes; it reports on `done` when it ends.
pub fn spawn(
    mut pipe: impl Read + Send + 'static,
    sink: Sink,
    log: Arc<Mutex<File>>,
    done: Sender<()>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            // A closed terminal must not stop the log, and vice versa.
            let _ = match sink {
                Sink::Stdout => write_flush(&mut std::io::stdout().lock(), chunk),
                Sink::Stderr => write_flush(&mut std::io::stderr().lock(), chunk),
                Sink::LogOnly => Ok(()),
            };
            if let Ok(mut f) = log.lock() {
                let _ = f.write_all(chunk);
            }
        }
        let _ = done.send(());
    });
}

fn write_flush(w: &mut impl Write, chunk: &[u8]) -> std::io::Result<()> {
    w.write_all(chunk)?;
    w.flush()
}

/// Wait for `count` copy threads to finish, but no longer than `limit`: a
/// task may leave a background process holding its output pipe open, and
/// the run must not hang on it.
pub fn wait(done: &Receiver<()>, count: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    for _ in 0..count {
        let left = deadline.saturating_duration_since(Instant::now());
        if done.recv_timeout(left).is_err() {
            return;
        }
    }
}
