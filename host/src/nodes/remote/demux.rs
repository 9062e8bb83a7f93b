//! The session's stderr taken apart: node stderr (`2 `), event pipe (`e `), and the
//! wrapper's replies (`p`, `s`, `m`, `x`); blank lines are dropped. Anything else (ssh's own messages, a wrapper
//! that could not start) goes to the node's stderr as it is. Lines are routed as they
//! stream, so a long line is never held whole; replies are at most `REPLY_CAP` bytes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

/// Longest reply line the wrapper writes.
const REPLY_CAP: usize = 64;

/// What the wrapper reported, shared with the supervisor's calls.
#[derive(Default)]
pub struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// `STOP` sent and not yet acknowledged.
    stop_pending: bool,
    memory: Option<(u64, u64)>,
    memory_replies: u64,
    exit: Option<i32>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A `STOP` is about to be sent.
    pub fn expect_stop(&self) {
        self.lock().stop_pending = true;
    }

    /// The last `STOP` was acknowledged: every thread of the node is stopped.
    pub fn stopped(&self) -> bool {
        !self.lock().stop_pending
    }

    /// How many memory replies came so far.
    pub fn memory_replies(&self) -> u64 {
        self.lock().memory_replies
    }

    /// The first memory reply after `seen` replies: (peak, current) in kB.
    pub fn wait_memory(&self, seen: u64, timeout: Duration) -> Option<(u64, u64)> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while state.memory_replies == seen && state.exit.is_none() {
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self.changed.wait_timeout(state, left).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
        }
        if state.memory_replies == seen { None } else { state.memory }
    }

    /// The status the wrapper's `wait` gave (128+N: killed by signal N).
    pub fn exit_status(&self) -> Option<i32> {
        self.lock().exit
    }

    fn reply(&self, line: &[u8], made_dir: &AtomicBool) {
        let text = String::from_utf8_lossy(line);
        let mut words = text.split_whitespace();
        let mut state = self.lock();
        match words.next() {
            Some("p") => made_dir.store(true, Ordering::SeqCst),
            Some("s") => state.stop_pending = false,
            Some("m") => {
                let numbers: Vec<u64> = words.filter_map(|w| w.parse().ok()).collect();
                state.memory = (numbers.len() == 2).then(|| (numbers[0], numbers[1]));
                state.memory_replies += 1;
            }
            Some("x") => state.exit = words.next().and_then(|w| w.parse().ok()),
            _ => {}
        }
        drop(state);
        self.changed.notify_all();
    }
}

/// Where the current line goes.
enum Route {
    /// At a line's start: its first bytes decide.
    Start(Vec<u8>),
    Stderr,
    Events,
    Reply(Vec<u8>),
}

/// Route `from` (the session's stderr) until it ends; then, if no exit status came, say
/// so on the node's stderr.
pub async fn run(
    mut from: impl AsyncRead + Unpin,
    mut stderr: DuplexStream,
    mut events: DuplexStream,
    shared: Arc<Shared>,
    made_dir: Arc<AtomicBool>,
    lost: String,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut route = Route::Start(Vec::new());
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            let end = chunk.iter().position(|&b| b == b'\n').map_or(chunk.len(), |i| i + 1);
            let complete = chunk[end - 1] == b'\n';
            match &mut route {
                Route::Start(head) => {
                    head.push(chunk[0]);
                    chunk = &chunk[1..];
                    if head.len() < 2 && head[0] != b'\n' {
                        continue;
                    }
                    route = match head.as_slice() {
                        b"2 " => Route::Stderr,
                        b"e " => Route::Events,
                        // The wrapper's blank line before `x`: nothing to route.
                        b"\n" => Route::Start(Vec::new()),
                        b"s\n" => {
                            shared.reply(b"s", &made_dir);
                            Route::Start(Vec::new())
                        }
                        [b'p' | b'm' | b'x', b' '] => Route::Reply(head.clone()),
                        _ => {
                            let _ = stderr.write_all(head).await;
                            if head.ends_with(b"\n") { Route::Start(Vec::new()) } else { Route::Stderr }
                        }
                    };
                    continue;
                }
                Route::Stderr => {
                    let _ = stderr.write_all(&chunk[..end]).await;
                }
                Route::Events => {
                    let _ = events.write_all(&chunk[..end]).await;
                }
                Route::Reply(line) => {
                    if line.len() < REPLY_CAP {
                        line.extend_from_slice(&chunk[..end.min(REPLY_CAP - line.len())]);
                    }
                    if complete {
                        shared.reply(line, &made_dir);
                    }
                }
            }
            chunk = &chunk[end..];
            if complete {
                route = Route::Start(Vec::new());
            }
        }
    }
    if shared.exit_status().is_none() {
        let _ = stderr.write_all(lost.as_bytes()).await;
    }
    shared.changed.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Route `input` read in chunks of `step` bytes; (stderr, events, shared).
    fn route(input: &[u8], step: usize) -> (String, String, Arc<Shared>) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let (mut feed, from) = tokio::io::duplex(1 << 16);
            let (stderr_tx, mut stderr_rx) = tokio::io::duplex(1 << 16);
            let (events_tx, mut events_rx) = tokio::io::duplex(1 << 16);
            let shared = Arc::new(Shared::default());
            let task = tokio::spawn(run(from, stderr_tx, events_tx, shared.clone(), Arc::default(), "lost\n".into()));
            for chunk in input.chunks(step) {
                feed.write_all(chunk).await.unwrap();
            }
            drop(feed);
            task.await.unwrap();
            let (mut stderr, mut events) = (String::new(), String::new());
            stderr_rx.read_to_string(&mut stderr).await.unwrap();
            events_rx.read_to_string(&mut events).await.unwrap();
            (stderr, events, shared)
        })
    }

    #[test]
    fn lines_go_where_their_tag_says_whatever_the_chunking() {
        let input = b"Could not chdir\np 42\n2 oops\ne {\"a\":1}\nm 10 7\ns\n2 e not an event\n\nx 137\n";
        for step in [1, 2, 3, 7, input.len()] {
            let (stderr, events, shared) = route(input, step);
            assert_eq!(stderr, "Could not chdir\noops\ne not an event\n", "step {step}");
            assert_eq!(events, "{\"a\":1}\n", "step {step}");
            assert_eq!(shared.exit_status(), Some(137));
            assert_eq!(shared.wait_memory(0, Duration::ZERO), Some((10, 7)));
        }
    }

    #[test]
    fn a_session_that_ends_without_a_status_says_so() {
        let (stderr, _, shared) = route(b"2 last words\n", 4);
        assert_eq!(stderr, "last words\nlost\n");
        assert_eq!(shared.exit_status(), None);
    }
}
