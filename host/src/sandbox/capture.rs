//! Bounded capture of everything a case writes: stdout, stderr, `log` lines and sandbox
//! refusals share one budget (the policy's `output_kib`). Past the budget, bytes are
//! counted but not kept, so a flood costs the host no memory; the verdict then fails the
//! case with "output limit exceeded".

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much a guest may hand over in one stdout/stderr write (a WASI write permit).
const WRITE_PERMIT: usize = 64 << 10;

/// Marks a log line cut short because the budget ran out in the middle of it.
const TRUNCATED: &str = " … [truncated: output limit]";

/// The shared, bounded record of a case's output. Clones share the same record.
#[derive(Clone)]
pub struct Capture {
    inner: Arc<Mutex<Captured>>,
}

struct Captured {
    /// Bytes that may be kept.
    limit: usize,
    /// Bytes the package tried to write, kept or not.
    written: u64,
    /// Bytes kept so far (`stdio` plus `lines`).
    kept: usize,
    stdio: Vec<u8>,
    lines: Vec<String>,
}

/// The package wrote more than the cap allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Bytes the package tried to write.
    pub written: u64,
    /// The cap, in bytes.
    pub limit: usize,
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "output limit exceeded: wrote {} bytes, limit {} bytes (sandbox.output_kib = {}); output past the limit was dropped",
            self.written,
            self.limit,
            self.limit >> 10
        )
    }
}

impl Capture {
    /// An empty record that keeps at most `limit` bytes.
    pub fn new(limit: usize) -> Capture {
        Capture {
            inner: Arc::new(Mutex::new(Captured { limit, written: 0, kept: 0, stdio: Vec::new(), lines: Vec::new() })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record one line, `prefix` then `text` (a `log` call or a sandbox refusal). Past
    /// the budget it is counted only; a line that crosses the budget is kept up to it and
    /// marked as truncated. Only the kept part is copied.
    pub fn line(&self, prefix: &str, text: &str) {
        let mut captured = self.lock();
        let len = prefix.len() + text.len();
        captured.written = captured.written.saturating_add(len as u64 + 1);
        let room = captured.limit.saturating_sub(captured.kept);
        if len < room {
            captured.kept += len + 1;
            captured.lines.push(format!("{prefix}{text}"));
        } else if room > prefix.len() + TRUNCATED.len() {
            let mut cut = room - prefix.len() - TRUNCATED.len();
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            captured.lines.push(format!("{prefix}{}{TRUNCATED}", &text[..cut]));
            captured.kept = captured.limit;
        } else {
            captured.kept = captured.limit;
        }
    }

    /// Record stdout/stderr bytes; `false` when some did not fit.
    fn stdio(&self, bytes: &[u8]) -> bool {
        let mut captured = self.lock();
        captured.written = captured.written.saturating_add(bytes.len() as u64);
        let room = captured.limit.saturating_sub(captured.kept);
        let kept = bytes.len().min(room);
        captured.stdio.extend_from_slice(&bytes[..kept]);
        captured.kept += kept;
        kept == bytes.len()
    }

    /// How far over the cap the package went, if it did.
    pub fn overflow(&self) -> Option<Overflow> {
        let captured = self.lock();
        (captured.written > captured.limit as u64).then_some(Overflow { written: captured.written, limit: captured.limit })
    }

    /// What was kept: log lines, then stdout/stderr, then a note when some was dropped.
    pub fn text(&self) -> String {
        let captured = self.lock();
        let mut output = captured.lines.join("\n");
        if !captured.stdio.is_empty() {
            if !output.is_empty() {
                output.push('\n');
            }
            output.push_str(&String::from_utf8_lossy(&captured.stdio));
        }
        let mut output = output.trim_end().to_string();
        if captured.written > captured.limit as u64 {
            let overflow = Overflow { written: captured.written, limit: captured.limit };
            output.push_str(&format!("\n[SANDBOX] {overflow}"));
        }
        output
    }

    /// A guest stdout/stderr stream that writes into this record.
    pub fn stream(&self) -> CapturedStdio {
        CapturedStdio { capture: self.clone() }
    }
}

/// The guest's stdout or stderr. The write that crosses the cap fails with an error the
/// guest sees (Rust's `println!` panics at its call site), and the stream is closed
/// from then on, so a flood ends at once instead of spinning until the timeout.
#[derive(Clone)]
pub struct CapturedStdio {
    capture: Capture,
}

fn over_the_limit() -> wasmtime::Error {
    wasmtime::format_err!("output limit exceeded (sandbox.output_kib)")
}

impl OutputStream for CapturedStdio {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        match (self.capture.overflow(), self.capture.stdio(&bytes)) {
            (_, true) => Ok(()),
            // Already over: closed, which costs no error value (a backtrace each) per write.
            (Some(_), false) => Err(StreamError::Closed),
            (None, false) => Err(StreamError::LastOperationFailed(over_the_limit())),
        }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always a non-zero permit below the cap: a zero permit would leave a guest
        // waiting for readiness forever. The write that crosses the cap fails.
        match self.capture.overflow() {
            Some(_) => Err(StreamError::Closed),
            None => Ok(WRITE_PERMIT),
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedStdio {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CapturedStdio {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(match self.capture.stdio(buf) {
            true => Ok(buf.len()),
            false => Err(io::Error::other("output limit exceeded (sandbox.output_kib)")),
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CapturedStdio {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedStdio {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_cap_is_counted_not_kept() {
        let capture = Capture::new(100);
        assert!(capture.stdio(&[b'a'; 60]));
        capture.line("", &"b".repeat(1000));
        assert!(!capture.stdio(&[b'c'; 10]));
        for _ in 0..1000 {
            capture.line("[INFO] ", "dropped");
        }
        let overflow = capture.overflow().unwrap();
        assert_eq!(overflow, Overflow { written: 60 + 1001 + 10 + 15000, limit: 100 });
        let text = capture.text();
        assert!(text.len() < 300, "{text}");
        assert!(text.contains(TRUNCATED) && !text.contains("[INFO] dropped"), "{text}");
        assert!(text.ends_with("[SANDBOX] output limit exceeded: wrote 16071 bytes, limit 100 bytes (sandbox.output_kib = 0); output past the limit was dropped"), "{text}");
    }

    #[test]
    fn output_under_the_cap_is_kept_whole() {
        let capture = Capture::new(100);
        capture.line("[INFO] ", "hello");
        assert!(capture.stdio(b"out\n"));
        assert_eq!(capture.overflow(), None);
        assert_eq!(capture.text(), "[INFO] hello\nout");
    }
}
