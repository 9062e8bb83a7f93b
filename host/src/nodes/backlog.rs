//! How far the host has read a node's output: so that a node called ready has its output
//! journaled up to that moment.
//!
//! A node's stdout, stderr and event pipe are three pipes read by three tasks. A node
//! that prints "listening on …" and then emits its `ready` event has both in the kernel
//! when the event is read, but the stdout task may not have journaled the line yet: a
//! case failing a millisecond later would report a node that said nothing. So once a
//! node is ready, the host takes a [`Mark`] of each output pipe — the bytes its reader
//! has taken from the pipe plus the bytes still waiting in it (`FIONREAD`) — and waits
//! until the reader has journaled up to there ([`Backlog::caught_up`]).
//!
//! Taking from the pipe and counting happen under one lock, so a mark is exact: every
//! byte written before it is counted once. A reader has settled up to a byte when the
//! line holding it is journaled, or when the reader has read everything the pipe had (an
//! unfinished last line is then held, and will be journaled when it ends).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::watch;

/// A stream offset in bytes, as a mark to reach.
pub type Mark = u64;

/// The reading progress of one output stream. See the module documentation.
pub struct Backlog {
    /// Bytes taken from the stream so far; held while reading, so that a mark sees
    /// either all of a read or none of it.
    taken: Mutex<u64>,
    /// A duplicate of the pipe's reading end, to ask how many bytes wait in it; `None`
    /// for a stream that is not a pipe of this machine (then there is nothing to mark),
    /// and once the stream's reading is over (so that the duplicate never keeps the pipe
    /// open for a writer the host no longer reads).
    pipe: Mutex<Option<OwnedFd>>,
    /// Offset up to which every byte is journaled or held as an unfinished line;
    /// `u64::MAX` once the stream ended.
    settled: watch::Sender<u64>,
}

impl Backlog {
    /// The progress of a stream; `pipe` is a duplicate of its reading end when it is a
    /// pipe of this machine.
    pub fn new(pipe: Option<OwnedFd>) -> Arc<Backlog> {
        Arc::new(Backlog { taken: Mutex::new(0), pipe: Mutex::new(pipe), settled: watch::Sender::new(0) })
    }

    /// `stream`, counted into this backlog as it is read.
    pub fn count<R: AsyncRead + Unpin>(self: &Arc<Self>, stream: R) -> Counted<R> {
        Counted { inner: stream, backlog: self.clone() }
    }

    /// Where the stream's writer has got to now: every byte it wrote before this call is
    /// before the mark. `None` when that cannot be known (not a local pipe, or the pipe
    /// cannot be asked).
    pub fn mark(&self) -> Option<Mark> {
        let pipe = self.pipe.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let pipe = pipe.as_ref()?;
        let taken = self.taken.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut waiting: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which points to one; the
        // descriptor is owned by `pipe` and open for the whole call.
        let status = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut waiting) };
        (status == 0).then(|| *taken + u64::try_from(waiting).unwrap_or(0))
    }

    /// The reader has journaled every line ending at or before `offset` (and holds what
    /// follows of an unfinished line).
    pub fn settle(&self, offset: u64) {
        self.settled.send_if_modified(|settled| {
            let moved = offset > *settled;
            *settled = (*settled).max(offset);
            moved
        });
    }

    /// The stream's reading is over (it ended, or the host gave up on it): no mark is left
    /// to reach, and the pipe's duplicate is closed.
    pub fn end(&self) {
        self.settled.send_replace(u64::MAX);
        self.pipe.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    }

    /// Resolves once the reader has settled up to `mark`.
    pub async fn caught_up(&self, mark: Mark) {
        let mut settled = self.settled.subscribe();
        let _ = settled.wait_for(|&settled| settled >= mark).await;
    }
}

/// A stream whose bytes are counted into a [`Backlog`] as they are read. When the stream
/// has nothing more for now, everything taken so far is settled: the reader above has
/// journaled it or holds it as an unfinished line (a buffered reader only reads again once
/// its buffer is empty).
pub struct Counted<R> {
    inner: R,
    backlog: Arc<Backlog>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut taken = this.backlog.taken.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        match &poll {
            Poll::Ready(Ok(())) => *taken += (buf.filled().len() - before) as u64,
            Poll::Pending => this.backlog.settle(*taken),
            Poll::Ready(Err(_)) => {}
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::time::Duration;

    use tokio::io::AsyncReadExt as _;

    /// A real pipe: the writer's end, and a reading end as tokio reads it plus a
    /// duplicate for the backlog.
    fn pipe() -> (std::fs::File, tokio::net::unix::pipe::Receiver, OwnedFd) {
        let (read, write) = nix::unistd::pipe().unwrap();
        let duplicate = read.try_clone().unwrap();
        let receiver = tokio::net::unix::pipe::Receiver::from_owned_fd(read).unwrap();
        (std::fs::File::from(write), receiver, duplicate)
    }

    #[tokio::test]
    async fn a_mark_counts_what_waits_in_the_pipe_and_what_was_read() {
        let (mut writer, receiver, duplicate) = pipe();
        let backlog = Backlog::new(Some(duplicate));
        let mut counted = backlog.count(receiver);
        assert_eq!(backlog.mark(), Some(0));
        writer.write_all(b"hello\nworld\n").unwrap();
        assert_eq!(backlog.mark(), Some(12), "12 bytes wait in the pipe");
        let mut first = [0u8; 5];
        counted.read_exact(&mut first).await.unwrap();
        assert_eq!(backlog.mark(), Some(12), "5 taken and 7 waiting are still 12");
        // Not settled: the reader has not journaled (settle) nor drained the pipe.
        let waiting = tokio::time::timeout(Duration::from_millis(50), backlog.caught_up(12)).await;
        assert!(waiting.is_err(), "caught up before the reader settled");
        backlog.settle(6);
        assert!(tokio::time::timeout(Duration::from_millis(50), backlog.caught_up(12)).await.is_err());
        // Reading everything and finding the pipe empty settles all that was taken.
        let mut rest = [0u8; 64];
        let n = counted.read(&mut rest).await.unwrap();
        assert_eq!(n, 7);
        let empty = futures_poll_once(&mut counted).await;
        assert!(empty, "the pipe is empty: the read is pending");
        tokio::time::timeout(Duration::from_secs(30), backlog.caught_up(12)).await.expect("a drained pipe settles what was taken");
        assert_eq!(*backlog.settled.borrow(), 12);
    }

    /// Poll one read of `counted`; true when it is pending (nothing in the pipe).
    async fn futures_poll_once<R: AsyncRead + Unpin>(counted: &mut Counted<R>) -> bool {
        let mut buffer = [0u8; 8];
        std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut buffer);
            Poll::Ready(Pin::new(&mut *counted).poll_read(cx, &mut buf).is_pending())
        })
        .await
    }

    /// `read_output` over a real pipe: whole lines and an unfinished last line are both
    /// caught up with (the unfinished one once the pipe is drained), and the journal holds
    /// the whole lines by then.
    #[tokio::test]
    async fn the_output_reader_settles_whole_lines_and_a_drained_unfinished_line() {
        use super::super::{Journal, OutputLine, Stream, capture::read_output};
        let (mut writer, receiver, duplicate) = pipe();
        let backlog = Backlog::new(Some(duplicate));
        let journal = Arc::new(Journal::<OutputLine>::new(None));
        let log = tempfile::tempfile().unwrap();
        let reader = tokio::spawn(read_output(receiver, Stream::Stdout, journal.clone(), Arc::new(Mutex::new(log)), None, backlog.clone()));
        writer.write_all(b"one\ntwo\nunfinished").unwrap();
        let mark = backlog.mark().unwrap();
        assert_eq!(mark, 18, "nothing read yet: all 18 bytes wait in the pipe");
        // Bounded only so that a bug fails instead of hanging: this resolves in microseconds.
        tokio::time::timeout(Duration::from_secs(30), backlog.caught_up(18)).await.expect("an unfinished line holds the reader back");
        let lines: Vec<String> = journal.last(10).iter().map(|entry| entry.item.text.clone()).collect();
        assert_eq!(lines, ["one", "two"]);
        writer.write_all(b" now\n").unwrap();
        drop(writer);
        reader.await.unwrap();
        let lines: Vec<String> = journal.last(10).iter().map(|entry| entry.item.text.clone()).collect();
        assert_eq!(lines, ["one", "two", "unfinished now"]);
        assert_eq!(*backlog.settled.borrow(), u64::MAX, "an ended stream has nothing left to catch up with");
        assert_eq!(backlog.mark(), None, "and its pipe's duplicate is closed");
    }

    #[tokio::test]
    async fn no_pipe_no_mark_and_an_ended_stream_is_caught_up() {
        let backlog = Backlog::new(None);
        assert_eq!(backlog.mark(), None);
        backlog.end();
        backlog.caught_up(u64::MAX - 1).await;
    }
}
