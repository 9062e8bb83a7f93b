//! `--event-handler cmd:COMMAND`: a native command that reads the run's events on its
//! stdin as `--format json` lines. It runs in a process group of its own; a command that
//! falls behind never slows the run (lines past its queue are dropped and counted), and
//! at the end of the run its stdin is closed, and the group killed if it has not exited
//! within its timeout.

use std::io::Write;
use std::os::fd::AsFd as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::{Shared, lock};
use crate::events::{Event, Subscriber};
use crate::nodes::groups::GroupGuard;
use crate::reporters::JsonReporter;

/// A running command handler.
pub struct CommandHandler {
    reporter: Mutex<Option<JsonReporter<Lines>>>,
    child: Mutex<Child>,
    writer: Mutex<Option<JoinHandle<()>>>,
    timeout: Duration,
    /// Registers the command's group as the host's own (the end-of-run sweep leaves it,
    /// the watchdog kills it if the host is killed); kills it when dropped.
    _group: GroupGuard,
}

/// Bytes for the command's stdin, handed to its writer thread without ever waiting.
struct Lines {
    queue: SyncSender<Vec<u8>>,
    shared: Arc<Shared>,
}

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.queue.try_send(bytes.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.shared.dropped.fetch_add(bytes.iter().filter(|b| **b == b'\n').count() as u64, Ordering::Relaxed);
            }
            // The command's stdin is closed (it exited): nothing more to say to it.
            Err(TrySendError::Disconnected(_)) => {}
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CommandHandler {
    /// Start `argv` in a process group of its own, its stdin a pipe, its stdout and stderr the
    /// host's stderr.
    pub fn start(argv: &[String], queue: usize, timeout: Duration, shared: Arc<Shared>) -> Result<CommandHandler> {
        let mut child = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::piped())
            // Its output goes to the host's stderr: stdout is the run's own (`--format json`).
            .stdout(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", argv[0]))?;
        let group = GroupGuard::new(child.id());
        let mut stdin = child.stdin.take().context("no stdin")?;
        let (lines, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(queue);
        let writer = std::thread::spawn(move || {
            for chunk in received {
                if stdin.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        Ok(CommandHandler {
            reporter: Mutex::new(Some(JsonReporter::new(Lines { queue: lines, shared }))),
            child: Mutex::new(child),
            writer: Mutex::new(Some(writer)),
            timeout,
            _group: group,
        })
    }

    /// Hand `event` over (never waits for the command).
    pub fn handle(&self, event: &Event) {
        if let Some(reporter) = lock(&self.reporter).as_mut() {
            reporter.handle(event);
        }
    }

    /// Close the command's stdin once what is queued is written, give it its timeout to
    /// exit, then kill its process group. Returns a problem to report, if any.
    pub fn finish(&self) -> Option<String> {
        if let Some(mut reporter) = lock(&self.reporter).take() {
            let _ = reporter.finish();
        }
        // The reporter (and so the queue's sender) is gone: the writer ends after the
        // last line, closing stdin — unless the command stopped reading.
        let deadline = Instant::now() + self.timeout;
        if let Some(writer) = lock(&self.writer).take() {
            while !writer.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let mut child = lock(&self.child);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return None,
                Ok(Some(status)) => return Some(format!("exited with {status}")),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                _ => break,
            }
        }
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        Some(format!("did not exit within {:.1}s of the run's end: killed", self.timeout.as_secs_f64()))
    }
}
