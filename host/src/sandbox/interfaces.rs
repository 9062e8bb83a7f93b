//! The host side of the `tester` worlds' imports: `log`, `nodes`, `outcome`, `timing`, and
//! 0.2's `timetrap` and `annotate`.

use super::bindings::host::test::nodes::{NamedPort, NodeError};
use super::bindings::host::test::{log, nodes, outcome, protocol, timing};
use crate::nodes::Node;
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
        self.scope.live.snapshot().iter().map(|node| node_info(node)).collect()
    }

    async fn get(&mut self, name: String) -> Option<NodeInfo> {
        self.scope.live.get(&name).map(|node| node_info(&node))
    }

    async fn ports(&mut self, name: String) -> Result<Vec<NamedPort>, NodeError> {
        let node = self.node(&name)?;
        Ok(node
            .spec
            .ports
            .iter()
            .map(|(port_name, port)| NamedPort { name: port_name.clone(), port: *port, address: format!("{}:{port}", node.spec.host) })
            .collect())
    }
}

/// What a package may know of a node: its name and addresses (its home is on the host
/// machine, not in the sandbox).
pub(super) fn node_info(node: &Node) -> NodeInfo {
    NodeInfo {
        name: node.spec.name.clone(),
        host: node.spec.host.clone(),
        port: node.spec.port,
        address: node.spec.address(),
        home: node.spec.home.display().to_string(),
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

/// Longest comment kept from a case, in bytes.
const MAX_COMMENT: usize = 4 << 10;

impl super::bindings::v2::host::test0_2_0::timetrap::Host for CaseState {
    async fn set(&mut self, ms: u64) {
        // Any u64 a package passes: a limit past what a Duration holds is the outer limit's.
        let now = std::time::Instant::now();
        let limit = std::time::Duration::try_from_secs_f64(ms as f64 / 1000.0 * self.scope.timeout_scale.max(0.0)).ok();
        let at = limit.and_then(|limit| now.checked_add(limit)).unwrap_or(self.outer_deadline);
        let limit = limit.unwrap_or_else(|| at.saturating_duration_since(now));
        // The outer limits still bound everything: host calls wait no longer than either.
        self.deadline = at.min(self.outer_deadline);
        self.timetrap.send_replace(Some((at, limit)));
    }

    async fn cancel(&mut self) {
        self.deadline = self.outer_deadline;
        self.timetrap.send_replace(None);
    }

    async fn scale_factor(&mut self) -> f64 {
        self.scope.timeout_scale
    }
}

impl super::bindings::v2::host::test0_2_0::annotate::Host for CaseState {
    async fn comment(&mut self, text: String) {
        self.comment = Some(comment_bounded(&text).to_string());
    }
}

/// A comment from a package (`annotate.comment`, `breaks.break-here`), cut to
/// [`MAX_COMMENT`] bytes at a character boundary.
pub(super) fn comment_bounded(text: &str) -> &str {
    let mut cut = text.len().min(MAX_COMMENT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

impl super::bindings::v2::host::test0_2_0::types::Host for CaseState {}
