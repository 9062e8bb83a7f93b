//! Reading a node's streams as lines, whatever the node writes.
//!
//! A node's stdout, stderr and event pipe are untrusted bytes. Bytes that are not UTF-8
//! are replaced (U+FFFD), a NUL stays a character (reporters escape it), a last line
//! without a newline still counts, and a line longer than [`LINE_CAP`] is cut with a
//! marker while the rest of it is read and dropped, never buffered. Reading goes on to the
//! end of the stream whatever arrives, so a node never gets SIGPIPE for what it wrote.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};

use super::backlog::Backlog;
use super::log_events::LogEventParser;
use super::{Journal, NodeEvent, OutputLine, Stream, parse_line};

/// The longest line kept, in bytes; the rest of a longer line is counted, not kept.
pub const LINE_CAP: usize = 1 << 20;

/// The longest output line kept in memory (the log file has it up to [`LINE_CAP`]): with
/// the journal's 10,000 lines, a node's output costs the host at most about 40 MiB.
const OUTPUT_LINE_KEPT: usize = 4 << 10;

/// The longest line read as an event; a longer one is kept as a warning line.
const EVENT_LINE_CAP: usize = 64 << 10;

/// Lines from a byte stream, each at most [`LINE_CAP`] bytes plus a cut marker.
pub struct LineReader<R> {
    reader: R,
    line: Vec<u8>,
    /// Bytes of the current line dropped past the cap.
    dropped: u64,
    cap: usize,
    /// Bytes consumed from `reader` so far: the stream offset just past the last line.
    consumed: u64,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// Lines of `reader`, cut at [`LINE_CAP`].
    pub fn new(reader: R) -> LineReader<R> {
        LineReader::with_cap(reader, LINE_CAP)
    }

    /// Lines of `reader`, cut at `cap` bytes.
    pub fn with_cap(reader: R, cap: usize) -> LineReader<R> {
        LineReader { reader, line: Vec::new(), dropped: 0, cap, consumed: 0 }
    }

    /// The next line without its line ending, or `None` at the end of the stream (a read
    /// error ends the stream too: there is nothing more to read from it).
    pub async fn next_line(&mut self) -> Option<String> {
        loop {
            let available = match self.reader.fill_buf().await {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return self.finish(),
            };
            if available.is_empty() {
                return self.finish();
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            let room = self.cap.saturating_sub(self.line.len());
            let kept = chunk.len().min(room);
            self.line.extend_from_slice(&chunk[..kept]);
            self.dropped += (chunk.len() - kept) as u64;
            let consumed = newline.map_or(available.len(), |at| at + 1);
            self.reader.consume(consumed);
            self.consumed += consumed as u64;
            if newline.is_some() {
                return Some(self.take());
            }
        }
    }

    /// Bytes of the stream consumed so far: after [`next_line`](Self::next_line) returned
    /// a line, the offset just past it.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Whether bytes are already buffered (the next line may come without waiting).
    pub fn has_buffered(&self) -> bool
    where
        R: HasBuffer,
    {
        self.reader.has_buffer()
    }

    /// At the end of the stream: a last line without a newline, if any.
    fn finish(&mut self) -> Option<String> {
        (!self.line.is_empty() || self.dropped > 0).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let mut bytes = std::mem::take(&mut self.line);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!(" [line cut: {} more bytes not kept]", self.dropped));
            self.dropped = 0;
        }
        text
    }
}

/// A buffered reader that can say whether it holds unread bytes.
pub trait HasBuffer {
    fn has_buffer(&self) -> bool;
}

impl<R: tokio::io::AsyncRead> HasBuffer for tokio::io::BufReader<R> {
    fn has_buffer(&self) -> bool {
        !self.buffer().is_empty()
    }
}

/// Where a node's structured log lines go as events.
pub(super) struct LogEventSink {
    pub parser: LogEventParser,
    pub events: Arc<Journal<NodeEvent>>,
}

/// Journal (and log) every line of a node's stdout or stderr; with `log_events`, a line
/// that is a structured log record is journaled as an event too (and stays a line). The
/// stream is counted into `backlog`, which learns how far the lines are journaled each time
/// the read buffer is used up (not at every line: a flood costs one update per buffer).
pub(super) async fn read_output(
    stream: impl AsyncRead + Unpin,
    kind: Stream,
    output: Arc<Journal<OutputLine>>,
    log: Arc<Mutex<std::fs::File>>,
    log_events: Option<Arc<LogEventSink>>,
    backlog: Arc<Backlog>,
) {
    let mut lines = LineReader::new(BufReader::new(backlog.count(stream)));
    while let Some(text) = lines.next_line().await {
        append_log(&log, kind, &text);
        let event = log_events.as_ref().and_then(|sink| sink.parser.parse(&text).map(|event| (sink, event)));
        output.push(OutputLine { stream: kind, text: kept_in_memory(text) });
        if let Some((sink, event)) = event {
            sink.events.push(event);
        }
        if !lines.has_buffered() {
            backlog.settle(lines.consumed());
        }
    }
    backlog.end();
}

/// Journal every event of a node's event stream; other lines are kept as warnings.
pub(super) async fn read_events(
    reader: impl AsyncRead + Unpin,
    events: Arc<Journal<NodeEvent>>,
    output: Arc<Journal<OutputLine>>,
    log: Arc<Mutex<std::fs::File>>,
) {
    // A pipe holds 64 KiB: read it whole rather than in 8 KiB bites, and journal what is
    // already buffered as one batch (one lock, one wake-up).
    let mut lines = LineReader::with_cap(BufReader::with_capacity(64 << 10, reader), EVENT_LINE_CAP);
    let mut batch = Vec::new();
    while let Some(text) = lines.next_line().await {
        match parse_line(&text) {
            Ok(event) => batch.push(event),
            Err(why) => {
                events.push_all(batch.drain(..));
                // Kept, and marked: a line on the event pipe that is not an event.
                let text = format!("warning: not an event ({why}): {text}");
                append_log(&log, Stream::EventPipe, &text);
                output.push(OutputLine { stream: Stream::EventPipe, text: kept_in_memory(text) });
            }
        }
        if !lines.has_buffered() || batch.len() >= 1024 {
            events.push_all(batch.drain(..));
        }
    }
    events.push_all(batch);
}

/// A line as the in-memory journal keeps it: at most [`OUTPUT_LINE_KEPT`] bytes, cut at a
/// character boundary with a marker.
fn kept_in_memory(mut text: String) -> String {
    if text.len() > OUTPUT_LINE_KEPT {
        let mut end = OUTPUT_LINE_KEPT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let dropped = text.len() - end;
        text.truncate(end);
        text.push_str(&format!(" [{dropped} more bytes in the node's log file]"));
    }
    text
}

fn append_log(log: &Mutex<std::fs::File>, kind: Stream, text: &str) {
    let prefix = match kind {
        Stream::Stdout => "",
        Stream::Stderr => "[stderr] ",
        Stream::EventPipe => "[event pipe] ",
    };
    let mut file = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = writeln!(file, "{prefix}{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], cap: usize) -> Vec<String> {
        let mut reader = LineReader::with_cap(tokio::io::BufReader::with_capacity(4, input), cap);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().await {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn invalid_utf8_nul_and_a_missing_final_newline_keep_every_line() {
        let got = lines(b"one\xff\xfe\ntwo\0three\r\nlast", 100).await;
        assert_eq!(got, vec!["one\u{fffd}\u{fffd}", "two\0three", "last"]);
    }

    #[tokio::test]
    async fn a_line_over_the_cap_is_cut_with_a_marker_and_the_next_line_is_whole() {
        let got = lines(b"0123456789abcdef\nnext\n", 10).await;
        assert_eq!(got, vec!["0123456789 [line cut: 6 more bytes not kept]", "next"]);
    }

    #[tokio::test]
    async fn an_empty_stream_has_no_lines_and_an_empty_line_is_a_line() {
        assert!(lines(b"", 10).await.is_empty());
        assert_eq!(lines(b"\n\n", 10).await, vec!["", ""]);
    }
}
