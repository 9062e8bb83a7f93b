//! Nodes on another machine, over the system's OpenSSH client: the [`Remote`] supervisor.
//!
//! Each start is one `ssh` session running a small POSIX shell wrapper (`wrapper.sh`) on
//! the runner. The wrapper makes the node's home and event pipe there, starts the node in
//! a process group of its own (`setsid`), and speaks a line protocol: the node's stdout
//! comes back raw on the session's stdout; its stderr, its event pipe and the wrapper's
//! replies come back on the session's stderr, each line tagged (`demux`); signals and
//! memory requests go down the session's stdin. When that stdin closes — the host let
//! go, died, or the connection dropped — the wrapper kills the node's whole group: the
//! node's life is tied to the connection, as Erlang's `peer` ties a node to its control
//! connection. The local `ssh` runs in its own process group with a parent-death signal
//! and is registered like a local node, so every path that ends the host ends it too.

mod demux;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::process::{self, ExitInfo};
use super::supervisor::{Output, Started, Supervisor};
use super::{Memory, NodeSpec, groups};
use crate::config::RunnerPlan;
use demux::Shared;

/// The shell the node runs in on the runner.
const WRAPPER: &str = include_str!("wrapper.sh");
/// How long `memory` waits for the runner's answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one node's processes on a `[[runners]]` machine. See the module documentation.
pub struct Remote {
    runner: Arc<RunnerPlan>,
    /// This machine's file of the runner's host keys when tests.toml gives none.
    known_hosts: PathBuf,
    /// The node's own directory on the runner (home and event pipe are inside).
    node_dir: String,
    session: Mutex<Option<Session>>,
    /// A session made `node_dir` (so it is the host's to remove).
    made_dir: Arc<AtomicBool>,
}

/// One `ssh` session: one start of the node.
struct Session {
    ssh_pid: u32,
    /// The session's stdin: commands to the wrapper; dropping it ends the node.
    control: Option<std::fs::File>,
    shared: Arc<Shared>,
}

impl Remote {
    /// The supervisor of the node of `spec`, on `runner`.
    pub fn new(runner: Arc<RunnerPlan>, spec: &NodeSpec) -> Remote {
        let node_dir = spec.home.parent().map_or_else(|| spec.home.display().to_string(), |dir| dir.display().to_string());
        Remote {
            runner,
            known_hosts: spec.log_file.with_file_name("known_hosts"),
            node_dir,
            session: Mutex::new(None),
            made_dir: Arc::new(AtomicBool::new(false)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `ssh` with the runner's options, up to (not including) the remote command.
    fn ssh(&self) -> std::process::Command {
        let runner = &self.runner;
        let mut command = std::process::Command::new("ssh");
        command.args(["-T", "-x", "-a", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]);
        command.args(["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"]);
        let (file, strict) = match &runner.known_hosts {
            Some(file) => (file, "yes"),
            None => (&self.known_hosts, "accept-new"),
        };
        command.arg("-o").arg(format!("UserKnownHostsFile=\"{}\"", file.display()));
        command.args(["-o", "GlobalKnownHostsFile=/dev/null", "-o", &format!("StrictHostKeyChecking={strict}")]);
        if let Some(user) = &runner.user {
            command.args(["-l", user]);
        }
        if let Some(port) = runner.port {
            command.args(["-p", &port.to_string()]);
        }
        if let Some(identity) = &runner.identity_file {
            command.arg("-i").arg(identity).args(["-o", "IdentitiesOnly=yes"]);
        }
        command.arg("--").arg(&runner.host);
        command
    }

    /// The command line the runner's login shell runs for `spec`.
    fn remote_command(&self, spec: &NodeSpec, fresh: bool) -> String {
        let mut words = vec![
            "exec".to_string(),
            "sh".into(),
            "-c".into(),
            quote(&WRAPPER.lines().filter(|line| !line.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")),
            "host-node".into(),
            quote(&self.node_dir),
            if fresh { "1" } else { "0" }.into(),
            quote(&spec.home.display().to_string()),
            quote(&spec.event_pipe.display().to_string()),
            "env".into(),
            "--".into(),
        ];
        words.extend(spec.env.iter().map(|(key, value)| quote(&format!("{key}={value}"))));
        words.push(quote(&spec.program.display().to_string()));
        words.extend(spec.args.iter().map(|arg| quote(arg)));
        words.join(" ")
    }

    /// Write a command line to the wrapper; a session that is gone is not an error.
    fn send(&self, line: &str) {
        if let Some(session) = self.lock().as_mut()
            && let Some(control) = session.control.as_mut()
            && control.write_all(format!("{line}\n").as_bytes()).is_err()
        {
            session.control = None;
        }
    }

    fn shared(&self) -> Option<Arc<Shared>> {
        self.lock().as_ref().map(|session| session.shared.clone())
    }
}

impl Supervisor for Remote {
    fn prepare(&self, _spec: &NodeSpec) -> std::io::Result<()> {
        Ok(())
    }

    fn start(&self, spec: &NodeSpec) -> std::io::Result<Started> {
        let fresh = !self.made_dir.load(Ordering::SeqCst);
        let mut command = tokio::process::Command::from(self.ssh());
        command.arg(self.remote_command(spec, fresh)).stdin(Stdio::piped());
        let mut child = process::spawn_supervised(&mut command)?;
        let ssh_pid = child.id().ok_or_else(|| std::io::Error::other("the ssh client has no pid"))?;
        groups::register(ssh_pid);
        let stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin pipe"))?;
        let control = std::fs::File::from(stdin.into_owned_fd()?);
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
        let stderr = child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr pipe"))?;
        let shared = Arc::new(Shared::default());
        let (stderr_tx, stderr_rx) = tokio::io::duplex(64 * 1024);
        let (events_tx, events_rx) = tokio::io::duplex(64 * 1024);
        let lost = format!("host: the ssh session to runner {} ended before the node's exit status came back\n", self.runner.name);
        let demux = tokio::spawn(demux::run(stderr, stderr_tx, events_tx, shared.clone(), self.made_dir.clone(), lost));
        let status = shared.clone();
        let exit = Box::pin(async move {
            let _ = child.wait().await;
            let _ = demux.await;
            match status.exit_status() {
                Some(code @ 129..=192) => ExitInfo { code: None, signal: Some(code - 128) },
                Some(code) => ExitInfo { code: Some(code), signal: None },
                None => ExitInfo { code: None, signal: None },
            }
        });
        *self.lock() = Some(Session { ssh_pid, control: Some(control), shared });
        // The node's stdout is ssh's stdout pipe, marked like a local one; its stderr comes
        // through the demultiplexer, in order with its events but with nothing to mark.
        Ok(Started { pid: ssh_pid, stdout: Output::pipe(stdout), stderr: Output::stream(stderr_rx), events: Box::pin(events_rx), exit })
    }

    fn signal(&self, _pid: u32, signal: Signal) -> std::io::Result<()> {
        let word = match signal {
            Signal::SIGTERM => "TERM",
            Signal::SIGKILL => "KILL",
            Signal::SIGSTOP => "STOP",
            Signal::SIGCONT => "CONT",
            Signal::SIGINT => "INT",
            Signal::SIGHUP => "HUP",
            other => return Err(std::io::Error::other(format!("{other} cannot be sent to a node on a runner"))),
        };
        if let Some(shared) = self.shared()
            && signal == Signal::SIGSTOP
        {
            shared.expect_stop();
        }
        self.send(word);
        if signal == Signal::SIGKILL {
            // Closing the session's stdin kills the group too, should the line be lost.
            if let Some(session) = self.lock().as_mut() {
                session.control = None;
            }
        }
        Ok(())
    }

    fn release(&self, pid: u32) {
        groups::unregister(pid);
        if let Some(session) = self.lock().as_mut().filter(|session| session.ssh_pid == pid) {
            session.control = None;
        }
    }

    fn is_alive(&self, pid: u32) -> bool {
        process::is_alive(pid) && self.shared().is_some_and(|shared| shared.exit_status().is_none())
    }

    fn all_threads_stopped(&self, pid: u32) -> bool {
        !self.is_alive(pid) || self.shared().is_some_and(|shared| shared.stopped())
    }

    fn memory(&self, pid: u32) -> std::io::Result<Memory> {
        let shared = self.shared().ok_or_else(|| std::io::Error::other("the node is not running"))?;
        let seen = shared.memory_replies();
        self.send("MEM");
        let (hwm, rss) = shared.wait_memory(seen, REPLY_TIMEOUT).ok_or_else(|| {
            std::io::Error::other(format!("runner {} did not report the memory of the node (ssh pid {pid})", self.runner.name))
        })?;
        Ok(Memory { peak_rss: hwm * 1024, rss: rss * 1024 })
    }
}

impl Drop for Remote {
    /// Remove the node's directory on the runner, which the host made.
    fn drop(&mut self) {
        if let Some(session) = self.lock().as_mut() {
            session.control = None;
        }
        if self.made_dir.load(Ordering::SeqCst) {
            let mut command = self.ssh();
            command.arg(format!("rm -rf -- {}", quote(&self.node_dir)));
            let _ = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
    }
}

/// `text` as one word of a POSIX shell command line.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
