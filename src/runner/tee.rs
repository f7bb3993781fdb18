//! Copy a task's output, stdout and stderr through one pipe in the order
//! they were written, to the terminal as it arrives and to its log; an
//! agent's output is read on the way (a [`Filter`]) and shown as readable
//! lines, its raw events going to the log only.

use std::io::{PipeReader, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
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

/// Reads a task's output as it arrives.
pub trait Filter: Send {
    /// `chunk` arrived: the text to show for it (whole lines, each ended by
    /// `\n`, safe to print), and whether to stop the task now.
    fn feed(&mut self, chunk: &[u8]) -> (String, bool);
}

/// Where the output is shown when something else shares the terminal (the
/// live status line): it gets whole lines only.
pub trait Screen: Send + Sync {
    fn show(&self, text: &[u8]);
}

impl Screen for crate::ui::live::TaskLine {
    fn show(&self, text: &[u8]) {
        self.above(text);
    }
}

/// Where one attempt's output goes besides the log.
pub struct Output {
    pub sink: Sink,
    pub screen: Option<Arc<dyn Screen>>,
    pub filter: Option<Arc<Mutex<dyn Filter>>>,
    /// Set when the filter asks to stop the task.
    pub stop: Arc<AtomicBool>,
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
    pub fn start(pipe: PipeReader, output: Output, log: CappedLog) -> Copy {
        let (tx, done) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let asked = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            copy(pipe, &output, log, &asked);
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

fn copy(mut pipe: PipeReader, out: &Output, mut log: CappedLog, stop: &AtomicBool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_reads = 0;
    let mut shown = Shown::default();
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
        let _ = log.write(chunk);
        shown.chunk(out, chunk);
    }
    shown.end(out);
    let _ = log.finish();
}

/// What the screen has been given, and the start of a line it has not.
#[derive(Default)]
struct Shown {
    partial: Vec<u8>,
}

impl Shown {
    fn chunk(&mut self, out: &Output, chunk: &[u8]) {
        let filtered;
        let text = match &out.filter {
            Some(f) => {
                let (text, stop_now) = f
                    .lock()
                    .map_or_else(|_| (String::new(), false), |mut f| f.feed(chunk));
                if stop_now {
                    out.stop.store(true, Ordering::SeqCst);
                }
                filtered = text;
                filtered.as_bytes()
            }
            None => chunk,
        };
        let Some(screen) = &out.screen else {
            show(out.sink, text);
            return;
        };
        // Whole lines only: a partial one would be erased with the status line.
        self.partial.extend_from_slice(text);
        if let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') {
            let rest = self.partial.split_off(end + 1);
            screen.show(&self.partial);
            self.partial = rest;
        }
    }

    fn end(&mut self, out: &Output) {
        if let (Some(screen), false) = (&out.screen, self.partial.is_empty()) {
            self.partial.push(b'\n');
            screen.show(&self.partial);
        }
    }
}

/// Copy to our stdout or stderr. A closed terminal must not stop the log.
fn show(sink: Sink, text: &[u8]) {
    let _ = match sink {
        Sink::Stdout => write_flush(&mut std::io::stdout().lock(), text),
        Sink::Stderr => write_flush(&mut std::io::stderr().lock(), text),
        Sink::LogOnly => Ok(()),
    };
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
