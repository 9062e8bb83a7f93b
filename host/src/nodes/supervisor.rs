//! The seam between a node and the processes that run it.
//!
//! A [`Supervisor`] starts a node's program and controls it: its output streams, its
//! structured event stream, its exit, signals to its process group, its memory. Everything
//! above — capture into journals, readiness, the `control` calls, teardown — is written
//! once against this trait in [`Node`](super::Node). [`Local`] runs nodes as processes of
//! this machine; [`Remote`](super::Remote) runs them on a `[[runners]]` machine over SSH.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;

use nix::sys::signal::Signal;
use tokio::io::AsyncRead;
use tokio::net::unix::pipe;

use super::process::{self, ExitInfo};
use super::{Memory, NodeSpec, groups};

/// Bytes a started process writes (stdout, stderr, its event stream).
pub type ByteStream = Pin<Box<dyn AsyncRead + Send>>;

/// One output stream of a started process.
pub struct Output {
    pub bytes: ByteStream,
    /// When `bytes` come from a pipe of this machine, a duplicate of its reading end: the
    /// host asks it how many bytes wait unread (see `backlog`), never reads it.
    pub pipe: Option<OwnedFd>,
}

impl Output {
    /// The reading end of a local pipe, with a duplicate kept to ask what waits in it (if
    /// the duplicate cannot be made, the stream is still read, only never marked).
    pub fn pipe(reader: impl AsyncRead + AsFd + Send + 'static) -> Output {
        let pipe = reader.as_fd().try_clone_to_owned().ok();
        Output { bytes: Box::pin(reader), pipe }
    }

    /// A stream that is not a local pipe.
    pub fn stream(reader: impl AsyncRead + Send + 'static) -> Output {
        Output { bytes: Box::pin(reader), pipe: None }
    }
}

/// A process that was just started.
pub struct Started {
    /// Its id, which names it (and its process group) in the other calls.
    pub pid: u32,
    pub stdout: Output,
    pub stderr: Output,
    /// Its structured events (JSON lines), e.g. the event pipe.
    pub events: ByteStream,
    /// Resolves with how the process ended. The event stream ends once this has resolved
    /// and the process and its children let go of it.
    pub exit: Pin<Box<dyn Future<Output = ExitInfo> + Send>>,
}

/// Starts and controls the processes of nodes. See the module documentation.
pub trait Supervisor: Send + Sync {
    /// Get ready to start the node of `spec` (once per node, before its first start).
    fn prepare(&self, spec: &NodeSpec) -> io::Result<()>;
    /// Start the node's program.
    fn start(&self, spec: &NodeSpec) -> io::Result<Started>;
    /// Send `signal` to the process group of `pid`; a group that is gone is not an error.
    fn signal(&self, pid: u32, signal: Signal) -> io::Result<()>;
    /// The process `pid` (ended and seen to end) is no longer the supervisor's concern.
    fn release(&self, pid: u32);
    /// Whether process `pid` exists and has not exited.
    fn is_alive(&self, pid: u32) -> bool;
    /// Whether every thread of `pid` is stopped (SIGSTOP took effect), or it is gone.
    fn all_threads_stopped(&self, pid: u32) -> bool;
    /// Peak and current resident memory of `pid`.
    fn memory(&self, pid: u32) -> io::Result<Memory>;
}

/// Nodes as processes of this machine: each in its own process group with a parent-death
/// signal, registered with the host's lifetime machinery (second Ctrl-C, watchdog), events
/// on a FIFO the host creates and reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl Supervisor for Local {
    fn prepare(&self, spec: &NodeSpec) -> io::Result<()> {
        if !spec.event_pipe.exists() {
            nix::unistd::mkfifo(&spec.event_pipe, nix::sys::stat::Mode::from_bits_truncate(0o600)).map_err(io::Error::from)?;
        }
        Ok(())
    }

    fn start(&self, spec: &NodeSpec) -> io::Result<Started> {
        std::fs::create_dir_all(&spec.home)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create home {}: {e}", spec.home.display())))?;
        // Open the event pipe before the spawn: reading end non-blocking, plus a write end
        // of our own so the reader sees EOF only after we let go, once the daemon is gone.
        let events = pipe::OpenOptions::new().open_receiver(&spec.event_pipe)?;
        let keepalive = pipe::OpenOptions::new().open_sender(&spec.event_pipe)?;
        let mut child = process::spawn(spec)?;
        let pid = child.id().ok_or_else(|| io::Error::other("the spawned node has no pid"))?;
        groups::register(pid);
        let stdout = child.stdout.take().ok_or_else(|| io::Error::other("no stdout pipe"))?;
        let stderr = child.stderr.take().ok_or_else(|| io::Error::other("no stderr pipe"))?;
        let exit = Box::pin(async move {
            let status = child.wait().await;
            drop(keepalive);
            match status {
                Ok(status) => ExitInfo::from(status),
                Err(_) => ExitInfo { code: None, signal: None },
            }
        });
        Ok(Started { pid, stdout: Output::pipe(stdout), stderr: Output::pipe(stderr), events: Box::pin(events), exit })
    }

    fn signal(&self, pid: u32, signal: Signal) -> io::Result<()> {
        process::signal_group(pid, signal).map_err(io::Error::from)
    }

    fn release(&self, pid: u32) {
        groups::unregister(pid);
    }

    fn is_alive(&self, pid: u32) -> bool {
        process::is_alive(pid)
    }

    fn all_threads_stopped(&self, pid: u32) -> bool {
        process::all_threads_stopped(pid)
    }

    fn memory(&self, pid: u32) -> io::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kib| kib * 1024)
        };
        Ok(Memory { peak_rss: field("VmHWM:"), rss: field("VmRSS:") })
    }
}
