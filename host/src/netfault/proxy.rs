//! The TCP proxies: one listener per (node, port), one task per connection, two pipes per
//! connection (client → server "upstream", server → client "downstream"). Each pipe reads
//! into a small queue (at most [`QUEUE`] chunks: beyond that the reader stops reading and
//! TCP's own flow control pushes back), and its writer applies what is in force when a
//! chunk is due: a cut holds it, latency delays it from the time it was read, bandwidth
//! paces it, the slicer splits it, close-after-bytes ends the connection.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::fault::{Effective, hits};
use super::{NodeProcesses, State, owner};

/// Chunks a pipe holds between its reader and its writer.
const QUEUE: usize = 32;
/// The largest read.
const CHUNK: usize = 16 * 1024;

/// One open connection, for resets and shutdown.
struct Connection {
    id: u64,
    from: Option<String>,
    to: String,
    reset: Arc<Notify>,
    task: JoinHandle<()>,
}

/// What the proxies of one network share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) nodes: std::sync::OnceLock<NodeProcesses>,
    runtime: tokio::runtime::Handle,
    generation: watch::Sender<u64>,
    listeners: Mutex<Vec<JoinHandle<()>>>,
    connections: Mutex<Vec<Connection>>,
    next_id: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(super) fn new(runtime: tokio::runtime::Handle) -> Shared {
        Shared {
            state: Mutex::default(),
            nodes: std::sync::OnceLock::new(),
            runtime,
            generation: watch::Sender::new(0),
            listeners: Mutex::default(),
            connections: Mutex::default(),
            next_id: AtomicU64::new(1),
        }
    }

    /// Wake every pipe waiting on a cut: the state changed.
    pub(super) fn changed(&self) {
        self.generation.send_modify(|generation| *generation += 1);
    }

    /// Reset every open connection to `to` from `from` (`None`: from anyone).
    pub(super) fn reset(&self, from: Option<&str>, to: &str) {
        for connection in lock(&self.connections).iter() {
            if connection.to == to && (from.is_none() || connection.from.as_deref() == from) {
                connection.reset.notify_one();
            }
        }
    }

    /// Stop accepting and drop every connection, without waiting (for `Drop`).
    pub(super) fn abort_all(&self) {
        for listener in lock(&self.listeners).iter() {
            listener.abort();
        }
        for connection in lock(&self.connections).iter() {
            connection.task.abort();
        }
        self.changed();
    }

    /// Stop accepting, drop every connection, and wait until every socket is closed.
    pub(super) async fn close_all(&self) {
        // Listeners first: once they are gone, no connection can be added.
        let listeners: Vec<JoinHandle<()>> = lock(&self.listeners).drain(..).collect();
        for listener in listeners {
            listener.abort();
            let _ = listener.await;
        }
        let connections: Vec<Connection> = lock(&self.connections).drain(..).collect();
        for connection in connections {
            connection.task.abort();
            let _ = connection.task.await;
        }
        self.changed();
    }

    pub(super) fn open_connections(&self) -> usize {
        lock(&self.connections).len()
    }

    fn blocked(&self, from: Option<&str>, to: Option<&str>) -> bool {
        to.is_some_and(|to| lock(&self.state).blocked(from, to))
    }

    fn effective(&self, from: Option<&str>, to: &str, upstream: bool) -> Effective {
        Effective::of(&lock(&self.state).faults, from, to, upstream)
    }

    /// Wait while bytes from `a` to `b` are held.
    async fn wait_open(&self, a: Option<&str>, b: Option<&str>) {
        if !self.blocked(a, b) {
            return;
        }
        let mut changes = self.generation.subscribe();
        while self.blocked(a, b) {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Listen on a free port of `host` for `node`'s `listen_port`; returns the proxy's port.
pub(super) fn listen(shared: &Arc<Shared>, node: &str, host: &str, listen_port: u16) -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind((host, 0))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let upstream: SocketAddr = (host.parse::<std::net::IpAddr>().map_err(std::io::Error::other)?, listen_port).into();
    let _guard = shared.runtime.enter();
    let listener = TcpListener::from_std(listener)?;
    let task = shared.runtime.spawn(serve(Arc::clone(shared), listener, node.to_string(), upstream));
    lock(&shared.listeners).push(task);
    Ok(port)
}

async fn serve(shared: Arc<Shared>, listener: TcpListener, to: String, upstream: SocketAddr) {
    let Ok(server) = listener.local_addr() else { return };
    loop {
        let Ok((client, peer)) = listener.accept().await else {
            // Out of file descriptors, say: try again in a moment rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let nodes = shared.nodes.get().map(|nodes| nodes()).unwrap_or_default();
        let from = tokio::task::spawn_blocking(move || owner::owner(peer, server, &nodes)).await.ok().flatten();
        let (reset, dropped) = {
            let state = lock(&shared.state);
            (hits(&state.faults, from.as_deref(), &to, "reset"), hits(&state.faults, from.as_deref(), &to, "drop-new-connections"))
        };
        if reset {
            rst(&client);
            continue;
        }
        if dropped {
            continue;
        }
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let notify = Arc::new(Notify::new());
        let mut connections = lock(&shared.connections);
        let task = shared.runtime.spawn(connection(Arc::clone(&shared), id, client, from.clone(), to.clone(), upstream, Arc::clone(&notify)));
        connections.push(Connection { id, from, to: to.clone(), reset: notify, task });
    }
}

/// Make the next close of `stream` a reset (RST), as SO_LINGER with a zero timeout does.
fn rst(stream: &TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt on a socket this stream owns, with a valid, sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

async fn connection(shared: Arc<Shared>, id: u64, mut client: TcpStream, from: Option<String>, to: String, upstream: SocketAddr, reset: Arc<Notify>) {
    let from = from.as_deref();
    let connected = tokio::select! {
        connected = async {
            shared.wait_open(from, Some(&to)).await;
            TcpStream::connect(upstream).await
        } => connected.ok(),
        _ = reset.notified() => None,
    };
    match connected {
        // The node is down (refused), or the link was reset while held: a reset, as a
        // refused connection is.
        None => rst(&client),
        Some(mut server) => {
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let reset_hit = {
                let (client_read, client_write) = client.split();
                let (server_read, server_write) = server.split();
                let up = pipe(&shared, client_read, server_write, from, &to, true, id);
                let down = pipe(&shared, server_read, client_write, from, &to, false, id);
                tokio::pin!(up, down);
                let (mut up_done, mut down_done) = (false, false);
                loop {
                    tokio::select! {
                        end = &mut up, if !up_done => { up_done = true; if end == End::Limit { break false } }
                        end = &mut down, if !down_done => { down_done = true; if end == End::Limit { break false } }
                        _ = reset.notified() => break true,
                    }
                    if up_done && down_done {
                        break false;
                    }
                }
            };
            if reset_hit {
                rst(&client);
                rst(&server);
            }
        }
    }
    lock(&shared.connections).retain(|c| c.id != id);
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The reading side closed (or failed): the writing side was shut down after it.
    Eof,
    /// close-after-bytes: the whole connection ends.
    Limit,
}

/// A small random generator for jitter and slice sizes (no cryptography needed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if bound == 0 { 0 } else { self.0 % bound }
    }
}

/// Copy from `reader` to `writer` with the faults of (`from` → `to`, `upstream`).
async fn pipe<R, W>(shared: &Shared, mut reader: R, mut writer: W, from: Option<&str>, to: &str, upstream: bool, id: u64) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // Bytes flow from `a` to `b`.
    let (a, b) = if upstream { (from, Some(to)) } else { (Some(to), from) };
    let (chunks, mut queue) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let read = async move {
        loop {
            let mut buffer = vec![0u8; CHUNK];
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buffer.truncate(n);
                    if chunks.send((Instant::now(), buffer)).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let write = async {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ id.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ u64::from(upstream));
        let mut sent: u64 = 0;
        let mut paced = Instant::now();
        while let Some((read_at, bytes)) = queue.recv().await {
            let effective = loop {
                shared.wait_open(a, b).await;
                let effective = shared.effective(from, to, upstream);
                if let Some((latency, jitter)) = effective.latency {
                    // latency ± jitter (jitter never exceeds latency): latency - jitter + [0, 2 jitter].
                    let offset = Duration::from_micros(rng.below(jitter.as_micros() as u64 * 2 + 1));
                    let due = read_at + latency.saturating_sub(jitter) + offset;
                    tokio::time::sleep_until(due).await;
                }
                // A cut that came while the chunk waited holds it too.
                if !shared.blocked(a, b) {
                    break shared.effective(from, to, upstream);
                }
            };
            let mut data: &[u8] = &bytes;
            let mut limited = false;
            if let Some(limit) = effective.close_after {
                let room = limit.saturating_sub(sent) as usize;
                if data.len() >= room {
                    data = &data[..room];
                    limited = true;
                }
            }
            while !data.is_empty() {
                let mut piece = data.len();
                if let Some((average, variation, _)) = effective.slicer {
                    piece = (average - variation + rng.below(2 * variation as u64 + 1) as usize).max(1);
                }
                if let Some(rate) = effective.bandwidth {
                    piece = piece.min((rate / 50).max(1) as usize);
                    // The writes of N bytes take at least N / rate, from the first on.
                    let now = Instant::now();
                    paced = paced.max(now) + Duration::from_secs_f64(piece.min(data.len()) as f64 / rate as f64);
                    tokio::time::sleep_until(paced).await;
                }
                let piece = piece.min(data.len());
                if writer.write_all(&data[..piece]).await.is_err() || writer.flush().await.is_err() {
                    return End::Eof;
                }
                sent += piece as u64;
                data = &data[piece..];
                if let Some((_, _, delay)) = effective.slicer.filter(|_| !data.is_empty()) {
                    tokio::time::sleep(delay).await;
                }
            }
            if limited {
                return End::Limit;
            }
        }
        let _ = writer.shutdown().await;
        End::Eof
    };
    tokio::pin!(read, write);
    let mut read_done = false;
    loop {
        tokio::select! {
            _ = &mut read, if !read_done => read_done = true,
            end = &mut write => return end,
        }
    }
}
