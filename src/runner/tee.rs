//! Copy a task's output, stdout and stderr through one pipe in the order
//! they were written, to the terminal as it arrives and to its log.

use std::io::{PipeReader, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use super::log::CappedLog;

/// Which of our own streams the task's output is copied to.
#[derive(Debug, Clone, Copy)]
pub enum Sink {
    Stdout,
    Stderr,
    /// Only the log (tests and `--quiet`-like callers).
    LogOnly,
}

/// How often the copy thread looks whether it was asked to stop.
const LOOK: Duration = Duration::from_millis(50);

/// Reads before a stopped copy gives up on a pipe that keeps filling.
const LAST_READS: usize = 64;

/// A running copy of one pipe.
pub struct Copy {
    thread: JoinHandle<()>,
    done: Receiver<()>,
    stop: Arc<AtomicBool>,
}

impl Copy {
    /// Start a thread that copies `pipe` to `sink` and `log` until every
    /// writer has closed it, or [`finish`](Copy::finish) stops it.
    pub fn start(pipe: PipeReader, sink: Sink, log: CappedLog) -> Copy {
        let (tx, done) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let asked = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            copy(pipe, sink, log, &asked);
            let _ = tx.send(());
        });
        Copy { thread, done, stop }
    }

    /// Wait for the output to end, but no longer than `limit`: a task may
    /// leave a background process (outside its group, say) holding the pipe
    /// open, and the run must not hang on it. Then stop, with what was
    /// already written read, and the log complete.
    pub fn finish(self, limit: Duration) {
        if self.done.recv_timeout(limit).is_err() {
            self.stop.store(true, Ordering::SeqCst);
        }
        let _ = self.thread.join();
    }
}

fn copy(mut pipe: PipeReader, sink: Sink, mut log: CappedLog, stop: &AtomicBool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_reads = 0;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if !readable(&pipe, if stopping { Duration::ZERO } else { LOOK }) {
            if stopping {
                break;
            }
            continue;
        }
        if stopping {
            last_reads += 1;
            if last_reads > LAST_READS {
                break;
            }
        }
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = &buf[..n];
        // A closed terminal must not stop the log, and vice versa.
        let _ = match sink {
            Sink::Stdout => write_flush(&mut std::io::stdout().lock(), chunk),
            Sink::Stderr => write_flush(&mut std::io::stderr().lock(), chunk),
            Sink::LogOnly => Ok(()),
        };
        let _ = log.write(chunk);
    }
    let _ = log.finish();
}

/// Whether `pipe` has data (or its end) within `wait`.
fn readable(pipe: &PipeReader, wait: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: pipe.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    n > 0
}

fn write_flush(w: &mut impl Write, chunk: &[u8]) -> std::io::Result<()> {
    w.write_all(chunk)?;
    w.flush()
}
