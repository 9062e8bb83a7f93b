//! The host side of the `tester` world's imports: `log`, `nodes`, `outcome`.

use super::bindings::host::test::{log, nodes, outcome, protocol, timing};
use super::bindings::{FailResponse, Level, NodeInfo};
use super::state::CaseState;

impl protocol::Host for CaseState {}

impl log::Host for CaseState {
    async fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        };
        self.output.line(&format!("[{level}] "), &message);
    }
}

impl nodes::Host for CaseState {
    async fn all(&mut self) -> Vec<NodeInfo> {
        self.scope.nodes.as_ref().clone()
    }

    async fn get(&mut self, name: String) -> Option<NodeInfo> {
        self.scope.nodes.iter().find(|node| node.name == name).cloned()
    }
}

impl outcome::Host for CaseState {
    async fn report_failure(&mut self, failure: FailResponse) {
        // The first report wins: a panic inside a panic hook must not hide the original.
        self.reported.get_or_insert(failure);
    }
}

impl timing::Host for CaseState {
    async fn timeout_scale(&mut self) -> f64 {
        self.scope.timeout_scale
    }
}
