//! Breaks (test_server's `break/1` and `continue/0`): the run pauses with a test's nodes
//! up until the user says to go on — a line on stdin (Enter), or a file created at a path
//! the host names — or the run is interrupted.
//!
//! - `--break-on-failure`: the first test that fails keeps its nodes running after its
//!   packages and scripts ran; then the test tears down as usual. Only the run's first
//!   failing test breaks.
//! - A case that calls `breaks.break-here(comment)` pauses where it is ([`CaseBreaker`],
//!   the runner's side of [`CaseBreaks`]): its time and the test's stop meanwhile. One
//!   break at a time: a case of another lane waits for the first to end.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt as _;

use super::deadline::TestDeadline;
use crate::events::{Event, EventBus, NodeAccess};
use crate::nodes::{Node, Roster};
use crate::sandbox::CaseBreaks;

/// How often the continue file is looked for.
const POLL: Duration = Duration::from_millis(100);

/// How a break ends (`--break-on-failure`, a case's `break-here`).
#[derive(Debug, Clone, Default)]
pub struct BreakSettings {
    /// Go on when this file exists (`--continue-file`); the host never removes it.
    pub continue_file: Option<PathBuf>,
    /// Go on at a line on stdin (when stdin is a terminal).
    pub stdin: bool,
}

impl BreakSettings {
    /// What the user is told to do to go on.
    fn how_to_continue(&self) -> String {
        let mut ways = Vec::new();
        if self.stdin {
            ways.push("press Enter".to_string());
        }
        if let Some(file) = &self.continue_file {
            ways.push(format!("create the file {}", file.display()));
        }
        ways.push("Ctrl-C stops the run".to_string());
        ways.join(", or ")
    }

    /// Wait until the user says to go on; returns why it ended. `cancel` (Ctrl-C,
    /// SIGTERM) ends it too.
    async fn wait(&self, mut cancel: tokio::sync::watch::Receiver<bool>) -> &'static str {
        let file = async {
            match &self.continue_file {
                Some(path) => {
                    while !path.exists() {
                        tokio::time::sleep(POLL).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let line = async {
            if self.stdin {
                let mut line = String::new();
                // End of input is a way to go on too: nothing more can come.
                let _ = tokio::io::BufReader::new(tokio::io::stdin()).read_line(&mut line).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = file => "continue file created",
            _ = line => "a line on stdin",
            _ = cancel.wait_for(|cancelled| *cancelled) => "interrupted",
        }
    }
}

/// Break in `test` with its `nodes` up, if `--break-on-failure` asks and no test broke
/// before (`broke`): announce how to reach the nodes and how to go on, and wait.
pub(super) async fn break_here(
    settings: &BreakSettings,
    broke: &AtomicBool,
    test: &str,
    nodes: &[Arc<Node>],
    bus: &EventBus,
    cancel: tokio::sync::watch::Receiver<bool>,
) {
    if broke.swap(true, Ordering::SeqCst) {
        return;
    }
    let started = Event::BreakStarted {
        test: test.to_string(),
        case: None,
        comment: None,
        nodes: access(nodes),
        how_to_continue: settings.how_to_continue(),
    };
    bus.emit(started);
    let why = settings.wait(cancel).await;
    bus.emit(Event::BreakEnded { test: test.to_string(), why: why.to_string() });
}

/// How to reach each of `nodes`.
fn access(nodes: &[Arc<Node>]) -> Vec<NodeAccess> {
    nodes
        .iter()
        .map(|node| NodeAccess {
            node: node.spec.name.clone(),
            pid: node.pid().ok(),
            addresses: node.spec.all_ports().iter().map(|port| format!("{}:{port}", node.spec.host)).collect(),
            home: node.spec.home.display().to_string(),
            log_file: node.log_file().display().to_string(),
        })
        .collect()
}

/// The breaks the cases of one test ask for (`breaks.break-here`).
pub(super) struct CaseBreaker {
    pub settings: BreakSettings,
    pub test: String,
    /// The test's nodes, as they are when a case breaks.
    pub nodes: Roster,
    pub bus: EventBus,
    pub cancel: tokio::sync::watch::Receiver<bool>,
    /// Moved later by each break's length.
    pub deadline: TestDeadline,
    /// One break at a time in the whole run (cases of parallel lanes, tests of `--jobs`).
    pub one_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

impl CaseBreaks for CaseBreaker {
    fn pause<'a>(&'a self, call: &'a str, comment: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let asked = Instant::now();
            let turn = self.one_at_a_time.lock().await;
            self.bus.emit(Event::BreakStarted {
                test: self.test.clone(),
                case: Some(call.to_string()),
                comment: Some(comment.to_string()),
                nodes: access(&self.nodes.snapshot()),
                how_to_continue: self.settings.how_to_continue(),
            });
            // Should the case be dropped while it waits (the run going down), the break
            // still ends in the reports.
            let mut ending = Ending { bus: &self.bus, test: &self.test, why: None, cancel: &self.cancel };
            ending.why = Some(self.settings.wait(self.cancel.clone()).await);
            drop(ending);
            drop(turn);
            self.deadline.extend(asked.elapsed());
        })
    }
}

/// Emits a break's `BreakEnded` when dropped, however the break ends: with why it ended,
/// or, when the wait was dropped before it knew, with what stopped it.
struct Ending<'a> {
    bus: &'a EventBus,
    test: &'a str,
    why: Option<&'static str>,
    cancel: &'a tokio::sync::watch::Receiver<bool>,
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let why = self.why.unwrap_or(if *self.cancel.borrow() { "interrupted" } else { "the case was stopped" });
        self.bus.emit(Event::BreakEnded { test: self.test.to_string(), why: why.to_string() });
    }
}
