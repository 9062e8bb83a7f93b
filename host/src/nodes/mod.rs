//! `nodes`: native daemon supervision, one generic daemon for every kind of node.
//!
//! A [`Node`] owns a daemon's configuration and its journals (structured events from
//! the event pipe, stdout/stderr lines) for its whole life, across restarts. Its processes
//! are started and signalled through a [`Supervisor`] (the seam where a remote runner
//! plugs in; [`Local`] runs them here, each in its own process group with a parent-death
//! signal); capture (`capture`), readiness and control are written once on top. Stopping
//! sends SIGTERM to the group, then SIGKILL after the grace period.

mod backlog;
mod capture;
mod event_format;
mod filter;
pub mod groups;
mod journal;
mod log_events;
pub mod process;
mod roster;
mod ports;
mod readiness;
mod remote;
pub mod supervisor;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::sys::signal::Signal;
use tokio::sync::watch;

pub use capture::{LINE_CAP, LineReader};
use backlog::Backlog;
use capture::{read_events, read_output};
pub use event_format::{NodeEvent, parse_line};
pub use filter::{Comparison, Condition};
pub use journal::{Entry, Journal, WaitEnd};
pub use log_events::LogEventParser;
pub use roster::{AddNode, NodeFactory, Roster};
pub use ports::free_ports;
pub use process::{ExitInfo, signal_group};
pub use remote::Remote;
pub use supervisor::{Local, Supervisor};

use crate::config::{LogEvents, Readiness, RunnerPlan};

/// Output lines kept in memory per node (all lines also go to the node's log file).
const OUTPUT_LINES_KEPT: usize = 10_000;


/// Events kept per node (the oldest go first): with the longest line read as an event
/// (`capture::EVENT_LINE_CAP`), a node flooding its event pipe cannot grow the host
/// without bound.
const EVENTS_KEPT: usize = 100_000;

/// Everything needed to start one node, with placeholders already filled in.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub host: String,
    /// The first (or only) port.
    pub port: u16,
    /// Every named port (`ports = ["client", "peer"]`), in order; empty when the node
    /// declares none.
    pub ports: Vec<(String, u16)>,
    /// Where the node itself listens when a proxy sits in front of it (`network_faults`),
    /// port by port in the order of [`all_ports`](Self::all_ports); empty: no proxy.
    pub listen: Vec<u16>,
    pub home: PathBuf,
    /// FIFO the host creates and reads; the daemon writes JSON events to it.
    pub event_pipe: PathBuf,
    /// Every output line of every start is appended here.
    pub log_file: PathBuf,
    pub ready: Readiness,
    pub boot_timeout: Duration,
    pub stop_timeout: Duration,
    /// Structured log lines on stdout/stderr become events.
    pub log_events: Option<LogEvents>,
    /// The node may exit by itself while the test runs.
    pub may_exit: bool,
    /// The machine it runs on (over SSH); `None`: this one. On a runner, `program`,
    /// `home` and `event_pipe` are paths there.
    pub runner: Option<Arc<RunnerPlan>>,
}

impl NodeSpec {
    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Every port the node listens on: the named ones, or its only one.
    pub fn all_ports(&self) -> Vec<u16> {
        if self.ports.is_empty() { vec![self.port] } else { self.ports.iter().map(|(_, port)| *port).collect() }
    }

    /// The ports the node process itself binds: [`listen`](Self::listen), or
    /// [`all_ports`](Self::all_ports) when no proxy sits in front of it.
    pub fn bound_ports(&self) -> Vec<u16> {
        if self.listen.is_empty() { self.all_ports() } else { self.listen.clone() }
    }
}

/// Which stream an output line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// A line on the event pipe that is not an event.
    EventPipe,
}

/// One line a node wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    pub stream: Stream,
    pub text: String,
}

/// The running process of a node.
struct Running {
    pid: u32,
    exit: watch::Receiver<Option<ExitInfo>>,
    started: Instant,
    events_from: u64,
    output_from: u64,
    /// Stopped with SIGSTOP and not continued since.
    stopped: bool,
    /// How far stdout and stderr are read.
    backlogs: [Arc<Backlog>; 2],
}

/// A supervised native node.
pub struct Node {
    pub spec: NodeSpec,
    pub events: Arc<Journal<NodeEvent>>,
    pub output: Arc<Journal<OutputLine>>,
    running: Mutex<Option<Running>>,
    /// Starts and controls the node's processes.
    supervisor: Arc<dyn Supervisor>,
    /// The host (teardown, or a package through `control`) ended the current process: its
    /// exit is expected. Cleared at each start.
    ended_by_host: std::sync::atomic::AtomicBool,
}

/// A node became ready.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ready {
    /// From its start to ready.
    pub after: Duration,
    /// The node's own timestamp of its ready event (Unix seconds), when readiness is by an
    /// event that carries one.
    pub signalled_at: Option<f64>,
}

/// The longest wait for a ready node's output readers to catch up. They only have to read
/// what is already in the pipes (at most 64 KiB each), so this is a guard, not a delay
/// anyone should meet: past it, the node is ready with its lines still coming in.
const CATCH_UP: Duration = Duration::from_secs(5);

/// Wait until every line the node wrote to stdout and stderr before now is journaled (see
/// `backlog`), for at most [`CATCH_UP`]: a case that fails right after the node is ready
/// then reports the lines the node wrote before it was ready.
async fn output_read_up_to_now(backlogs: &[Arc<Backlog>]) {
    let marks: Vec<_> = backlogs.iter().filter_map(|backlog| backlog.mark().map(|mark| (backlog, mark))).collect();
    let _ = tokio::time::timeout(CATCH_UP, async {
        for (backlog, mark) in marks {
            backlog.caught_up(mark).await;
        }
    })
    .await;
}

/// The node has no running process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRunning(pub String);

impl std::fmt::Display for NotRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {} is not running", self.0)
    }
}

impl std::error::Error for NotRunning {}

/// Resident memory of a node process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Peak resident set size (VmHWM), bytes.
    pub peak_rss: u64,
    /// Current resident set size (VmRSS), bytes.
    pub rss: u64,
}

/// What a node is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running { pid: u32 },
    /// Frozen by SIGSTOP.
    Stopped { pid: u32 },
    Exited(ExitInfo),
    NotStarted,
}

impl Node {
    /// A node that has not started, on its runner (`Remote`) or this machine (`Local`,
    /// which creates its event pipe now).
    pub fn new(spec: NodeSpec) -> Result<Node> {
        let supervisor: Arc<dyn Supervisor> = match &spec.runner {
            Some(runner) => Arc::new(Remote::new(runner.clone(), &spec)),
            None => Arc::new(Local),
        };
        Node::with_supervisor(spec, supervisor)
    }

    /// A node whose processes `supervisor` runs, not started yet.
    pub fn with_supervisor(spec: NodeSpec, supervisor: Arc<dyn Supervisor>) -> Result<Node> {
        supervisor
            .prepare(&spec)
            .with_context(|| format!("cannot prepare node {} (event pipe {})", spec.name, spec.event_pipe.display()))?;
        Ok(Node {
            spec,
            supervisor,
            events: Arc::new(Journal::new(Some(EVENTS_KEPT))),
            output: Arc::new(Journal::new(Some(OUTPUT_LINES_KEPT))),
            running: Mutex::new(None),
            ended_by_host: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Start the daemon (not waiting for readiness). Returns its pid.
    pub fn start(&self) -> Result<u32> {
        let mut running = self.lock();
        if let Some(process) = running.as_ref()
            && process.exit.borrow().is_none()
        {
            bail!("node {} is already running (pid {})", self.spec.name, process.pid);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log_file)
            .with_context(|| format!("cannot open log {}", self.spec.log_file.display()))?;
        let log = Arc::new(Mutex::new(log));
        let generation = (self.events.reopen(), self.output.reopen());
        let events_from = self.events.next_seq();
        let output_from = self.output.next_seq();
        let started = self.supervisor.start(&self.spec).with_context(|| {
            format!("cannot start node {}: {} {}", self.spec.name, self.spec.program.display(), self.spec.args.join(" "))
        })?;
        let pid = started.pid;
        self.ended_by_host.store(false, std::sync::atomic::Ordering::SeqCst);
        let (exit_tx, exit_rx) = watch::channel(None);
        let log_events = match &self.spec.log_events {
            Some(settings) => Some(Arc::new(capture::LogEventSink {
                parser: LogEventParser::new(settings).context("log_events: bad pattern")?,
                events: self.events.clone(),
            })),
            None => None,
        };
        let backlogs = [Backlog::new(started.stdout.pipe), Backlog::new(started.stderr.pipe)];
        let stdout = tokio::spawn(read_output(
            started.stdout.bytes,
            Stream::Stdout,
            self.output.clone(),
            log.clone(),
            log_events.clone(),
            backlogs[0].clone(),
        ));
        let stderr =
            tokio::spawn(read_output(started.stderr.bytes, Stream::Stderr, self.output.clone(), log.clone(), log_events, backlogs[1].clone()));
        let pipe_reader = tokio::spawn(read_events(started.events, self.events.clone(), self.output.clone(), log));
        let (events, output) = (self.events.clone(), self.output.clone());
        let backlogs_at_exit = backlogs.clone();
        let exit = started.exit;
        tokio::spawn(async move {
            let info = exit.await;
            let readers = [pipe_reader, stdout, stderr];
            let aborts: Vec<_> = readers.iter().map(|r| r.abort_handle()).collect();
            // Let the readers drain what the daemon wrote, but do not wait on a
            // grandchild that still holds the pipes.
            if tokio::time::timeout(Duration::from_secs(1), async {
                for reader in readers {
                    let _ = reader.await;
                }
            })
            .await
            .is_err()
            {
                aborts.iter().for_each(|a| a.abort());
            }
            backlogs_at_exit.iter().for_each(|backlog| backlog.end());
            // The status first: whoever sees a journal close must also see the exit.
            let _ = exit_tx.send(Some(info));
            events.close(generation.0, info.to_string());
            output.close(generation.1, info.to_string());
        });
        *running = Some(Running { pid, exit: exit_rx, started: Instant::now(), events_from, output_from, stopped: false, backlogs });
        Ok(pid)
    }

    /// What starts and controls the node's processes.
    pub fn supervisor(&self) -> &dyn Supervisor {
        self.supervisor.as_ref()
    }

    /// What the node is doing now.
    pub fn status(&self) -> Status {
        match self.lock().as_ref() {
            None => Status::NotStarted,
            Some(process) => match *process.exit.borrow() {
                Some(info) => Status::Exited(info),
                None if process.stopped => Status::Stopped { pid: process.pid },
                None => Status::Running { pid: process.pid },
            },
        }
    }

    /// Wait until the node is ready by its configured criterion; the error explains what
    /// was awaited and shows the node's exit status and last output lines.
    pub async fn wait_ready(&self) -> Result<Ready> {
        let (started, events_from, output_from, exit, backlogs) = {
            let running = self.lock();
            let process = running.as_ref().context("node was never started")?;
            (process.started, process.events_from, process.output_from, process.exit.clone(), process.backlogs.clone())
        };
        let outcome = tokio::time::timeout(
            self.spec.boot_timeout,
            readiness::wait(self, events_from, output_from, exit),
        )
        .await;
        let problem = match outcome {
            Ok(Ok(signalled_at)) => {
                let after = started.elapsed();
                output_read_up_to_now(&backlogs).await;
                return Ok(Ready { after, signalled_at });
            }
            Ok(Err(problem)) => problem,
            Err(_) => format!(
                "did not become ready within {:.1}s ({}); {}",
                self.spec.boot_timeout.as_secs_f64(),
                readiness::describe(&self.spec.ready),
                match self.status() {
                    Status::Exited(info) => info.to_string(),
                    _ => "still running".to_string(),
                }
            ),
        };
        let tail = self.tail(20).join("\n    ");
        bail!("node {}: {problem}\n  last output lines:\n    {tail}", self.spec.name)
    }

    /// The pid of the running daemon, or an error naming the node.
    pub fn pid(&self) -> Result<u32, NotRunning> {
        match self.lock().as_ref() {
            Some(process) if process.exit.borrow().is_none() => Ok(process.pid),
            _ => Err(NotRunning(self.spec.name.clone())),
        }
    }

    /// Freeze the node's process group (SIGSTOP); its sockets stay open. Returns once
    /// every thread of the daemon is stopped (the kernel stops them one at a time), so a
    /// request sent afterwards cannot be answered.
    pub async fn stop(&self) -> Result<()> {
        self.send_stop_signal(Signal::SIGSTOP, true)?;
        let pid = self.pid()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.supervisor.all_threads_stopped(pid) {
            if Instant::now() > deadline {
                bail!("node {} did not stop within 5s of SIGSTOP", self.spec.name);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }

    /// Let a stopped node go on (SIGCONT).
    pub fn resume(&self) -> Result<()> {
        self.send_stop_signal(Signal::SIGCONT, false)
    }

    fn send_stop_signal(&self, signal: Signal, stopped: bool) -> Result<()> {
        let mut running = self.lock();
        let process = match running.as_mut() {
            Some(process) if process.exit.borrow().is_none() => process,
            _ => return Err(NotRunning(self.spec.name.clone()).into()),
        };
        self.supervisor.signal(process.pid, signal).with_context(|| format!("cannot send {signal} to node {}", self.spec.name))?;
        process.stopped = stopped;
        Ok(())
    }

    /// Terminate (with the configured grace), start again with the same home, wait until ready.
    pub async fn restart(&self) -> Result<Ready> {
        self.terminate(self.spec.stop_timeout).await;
        self.start()?;
        self.wait_ready().await
    }

    /// Peak and current resident memory of the daemon process, in bytes, from /proc.
    pub fn memory(&self) -> Result<Memory> {
        let pid = self.pid()?;
        self.supervisor.memory(pid).with_context(|| format!("cannot read memory of node {} (pid {pid})", self.spec.name))
    }

    /// Stop the node for good: SIGTERM to its group, SIGKILL after `grace`, then SIGKILL to any
    /// process left in the group. Returns how the daemon ended (`None` if never started).
    pub async fn terminate(&self, grace: Duration) -> Option<ExitInfo> {
        let (pid, mut exit) = {
            let running = self.lock();
            let process = running.as_ref()?;
            (process.pid, process.exit.clone())
        };
        if exit.borrow().is_none() {
            self.ended_by_host.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = self.supervisor.signal(pid, Signal::SIGTERM);
            // A stopped daemon cannot act on SIGTERM until it is continued.
            let _ = self.supervisor.signal(pid, Signal::SIGCONT);
            if tokio::time::timeout(grace, exit.wait_for(Option::is_some)).await.is_err() {
                let _ = self.supervisor.signal(pid, Signal::SIGKILL);
            }
        }
        let info = exit.wait_for(Option::is_some).await.ok().and_then(|info| *info);
        let _ = self.supervisor.signal(pid, Signal::SIGKILL);
        self.supervisor.release(pid);
        if let Some(process) = self.lock().as_mut() {
            process.stopped = false;
        }
        info
    }

    /// SIGKILL the node's process group now and wait for the daemon to be reaped.
    pub async fn kill(&self) -> Option<ExitInfo> {
        if let Ok(pid) = self.pid() {
            self.ended_by_host.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = self.supervisor.signal(pid, Signal::SIGKILL);
        }
        self.terminate(Duration::ZERO).await
    }

    /// How the node's process ended, when it ended by itself — not stopped by the host's
    /// teardown or by a package's `control` call — and nobody started it again.
    pub fn exited_by_itself(&self) -> Option<ExitInfo> {
        match self.status() {
            Status::Exited(info) if !self.ended_by_host.load(std::sync::atomic::Ordering::SeqCst) => Some(info),
            _ => None,
        }
    }

    /// The last `n` output lines, oldest first.
    pub fn tail(&self, n: usize) -> Vec<String> {
        self.output
            .last(n)
            .iter()
            .map(|entry| match entry.item.stream {
                Stream::Stdout => entry.item.text.clone(),
                Stream::Stderr => format!("[stderr] {}", entry.item.text),
                Stream::EventPipe => format!("[event pipe] {}", entry.item.text),
            })
            .collect()
    }

    /// The node's log file.
    pub fn log_file(&self) -> &Path {
        &self.spec.log_file
    }
}

impl Drop for Node {
    /// The last line of defence: never leave a daemon behind, whatever path led here.
    fn drop(&mut self) {
        if let Some(process) = self.lock().as_ref() {
            if process.exit.borrow().is_none() {
                let _ = self.supervisor.signal(process.pid, Signal::SIGKILL);
            }
            self.supervisor.release(process.pid);
        }
    }
}

