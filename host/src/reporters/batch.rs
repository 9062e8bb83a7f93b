//! Output written in batches: a reporter's lines are kept in memory and written out at
//! meaningful points, not one write (one system call) per line — 100,000 passing cases
//! would otherwise be 100,000 writes.
//!
//! The rule, for every reporter that writes a stream: [`Batched::flush`] on every event
//! worth seeing at once (a failure, a warning, a test starting or ending, a node, the end
//! of the run); [`Batched::flush_if_due`] on a passing case, which writes only when
//! [`FLUSH_EVERY`] has passed since the last write. A timer thread then writes what is
//! left once it is that old: without it, the last passing lines would stay in memory for
//! as long as the case after them runs — minutes, or until its timeout when it hangs,
//! which is exactly when someone watching a CI log needs to see how far the run got. The
//! thread wakes ten times a second, writes only when something waits, and ends with its
//! writer.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use crate::events::{Event, Outcome};

/// The longest a written line waits in memory (give or take the timer's period).
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// More than this waiting is written at once, whatever the time.
const CAPACITY: usize = 64 << 10;

/// A line writer over `W` that writes in batches (see the module's documentation).
/// Dropping it writes what is left.
pub struct Batched<W: Write + Send + 'static> {
    shared: Arc<Mutex<Pending<W>>>,
}

struct Pending<W: Write> {
    out: W,
    buffer: Vec<u8>,
    last_write: Instant,
    /// A live progress bar drawn on the same terminal: lines are written while it is
    /// hidden, so they never mix with it.
    bar: Option<ProgressBar>,
}

impl<W: Write> Pending<W> {
    fn write_out(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let (out, buffer) = (&mut self.out, &self.buffer);
        // Output errors (a closed pipe) must not stop the run: what cannot be written is lost.
        let mut write = || {
            let _ = out.write_all(buffer);
            let _ = out.flush();
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
        self.buffer.clear();
        self.last_write = Instant::now();
    }
}

impl<W: Write> Drop for Pending<W> {
    fn drop(&mut self) {
        self.write_out();
    }
}

impl<W: Write + Send + 'static> Batched<W> {
    /// Lines for `out`, with a timer thread that writes them once they are
    /// [`FLUSH_EVERY`] old.
    pub fn new(out: W) -> Self {
        let pending = Pending { out, buffer: Vec::new(), last_write: Instant::now().checked_sub(FLUSH_EVERY).unwrap_or_else(Instant::now), bar: None };
        let shared = Arc::new(Mutex::new(pending));
        start_timer(Arc::downgrade(&shared));
        Batched { shared }
    }

    fn lock(&self) -> MutexGuard<'_, Pending<W>> {
        lock(&self.shared)
    }

    /// Keep `text` and a newline for the next write.
    pub fn line(&self, text: &str) {
        let mut pending = self.lock();
        pending.buffer.extend_from_slice(text.as_bytes());
        pending.buffer.push(b'\n');
        if pending.buffer.len() >= CAPACITY {
            pending.write_out();
        }
    }

    /// Write everything kept, now.
    pub fn flush(&self) {
        self.lock().write_out();
    }

    /// Write everything kept if the last write is [`FLUSH_EVERY`] old.
    pub fn flush_if_due(&self) {
        let mut pending = self.lock();
        if pending.last_write.elapsed() >= FLUSH_EVERY {
            pending.write_out();
        }
    }

    /// Write while `bar` (drawn on the same terminal) is hidden; `None`: no bar any more.
    pub fn draw_around(&self, bar: Option<ProgressBar>) {
        self.lock().bar = bar;
    }
}

impl<W: Write + Send + 'static> Drop for Batched<W> {
    fn drop(&mut self) {
        // Here, not in the timer thread that may hold the last reference a moment longer:
        // the process may be about to exit.
        self.flush();
    }
}

fn lock<W: Write>(shared: &Mutex<Pending<W>>) -> MutexGuard<'_, Pending<W>> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Write what waits in `shared` once it is [`FLUSH_EVERY`] old, until `shared` is gone. A
/// thread that cannot start leaves the writes to the next event.
fn start_timer<W: Write + Send + 'static>(shared: Weak<Mutex<Pending<W>>>) {
    let _ = std::thread::Builder::new().name("output-flush".into()).spawn(move || {
        loop {
            std::thread::sleep(FLUSH_EVERY);
            let Some(shared) = shared.upgrade() else { return };
            let mut pending = lock(&shared);
            if pending.last_write.elapsed() >= FLUSH_EVERY {
                pending.write_out();
            }
        }
    });
}

/// Whether `event` is a routine result that may wait for the next write: a case or script
/// that passed (first time), was skipped or did not run. Those come by the thousand (a
/// large suite, a package skipped after a failure, everything after Ctrl-C); anything
/// else — a failure, a flaky pass, a warning, a test or package starting or ending, a
/// node, a build, the end of the run — is written at once. A case's annotation waits
/// for its case.
pub fn is_routine(event: &Event) -> bool {
    let routine = |outcome: &Outcome| matches!(outcome, Outcome::Passed | Outcome::Skipped { .. } | Outcome::NotRun { .. });
    match event {
        Event::CaseFinished { outcome, attempts, .. } => routine(outcome) && *attempts <= 1,
        Event::ScriptFinished { outcome, .. } => routine(outcome),
        // Written with the case's own line, which follows it.
        Event::CaseAnnotated { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A writer that counts its writes and flushes (each a system call on stdout).
    #[derive(Clone, Default)]
    pub struct Counting {
        pub text: Arc<Mutex<Vec<u8>>>,
        pub writes: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Counting {
        pub fn writes(&self) -> usize {
            self.writes.load(std::sync::atomic::Ordering::SeqCst)
        }

        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.text.lock().unwrap()).into_owned()
        }
    }

    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.text.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_left_behind_is_written_by_the_timer_and_by_drop() {
        let out = Counting::default();
        let batched = Batched::new(out.clone());
        batched.line("first");
        batched.flush_if_due();
        assert_eq!(out.text(), "first\n", "the first line after a quiet spell goes out at once");
        batched.line("second");
        batched.flush_if_due();
        let waited = Instant::now();
        while !out.text().contains("second") && waited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(out.text().contains("second"), "the timer wrote the waiting line");
        batched.line("third");
        drop(batched);
        assert_eq!(out.text(), "first\nsecond\nthird\n");
    }
}
