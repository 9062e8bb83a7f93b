//! `--break-on-failure` (test_server's `break/1` and `continue/0`): the first test that
//! fails keeps its nodes running after its packages and scripts ran, until the user says
//! to go on — a line on stdin (Enter), or a file created at a path the host names — or
//! the run is interrupted; then the test tears down as usual. Only the run's first
//! failing test breaks.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

use crate::events::{Event, EventBus, NodeAccess};
use crate::nodes::Node;

/// How often the continue file is looked for.
const POLL: Duration = Duration::from_millis(100);

/// How a break ends (`--break-on-failure`).
#[derive(Debug, Clone, Default)]
pub struct BreakOnFailure {
    /// Go on when this file exists (`--continue-file`); the host never removes it.
    pub continue_file: Option<PathBuf>,
    /// Go on at a line on stdin (when stdin is a terminal).
    pub stdin: bool,
}

impl BreakOnFailure {
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
    settings: &BreakOnFailure,
    broke: &AtomicBool,
    test: &str,
    nodes: &[std::sync::Arc<Node>],
    bus: &EventBus,
    cancel: tokio::sync::watch::Receiver<bool>,
) {
    if broke.swap(true, Ordering::SeqCst) {
        return;
    }
    let nodes = nodes
        .iter()
        .map(|node| NodeAccess {
            node: node.spec.name.clone(),
            pid: node.pid().ok(),
            addresses: node.spec.all_ports().iter().map(|port| format!("{}:{port}", node.spec.host)).collect(),
            home: node.spec.home.display().to_string(),
            log_file: node.log_file().display().to_string(),
        })
        .collect();
    bus.emit(Event::BreakStarted { test: test.to_string(), nodes, how_to_continue: settings.how_to_continue() });
    let why = settings.wait(cancel).await;
    bus.emit(Event::BreakEnded { test: test.to_string(), why: why.to_string() });
}
