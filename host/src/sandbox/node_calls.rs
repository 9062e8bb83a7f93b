//! The host side of the `events` and `control` interfaces: a package observes and
//! drives its test's nodes. Every wait is bounded by the case's deadline; a call about an
//! unknown node is an error value, never a trap.

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use regex::Regex;

use super::bindings::host::test::control::{self, ExitStatus, MemoryUsage, NodeStatus, OutputLine};
use super::bindings::host::test::events::{self, Comparison, Condition, Event, Position};
use super::bindings::host::test::control::NewNode;
use super::bindings::host::test::nodes::{NodeError, NodeInfo};
use crate::events::Event as BusEvent;
use super::state::CaseState;
use crate::nodes::{self, AddNode, Entry, ExitInfo, Node, NodeEvent, Status, Stream, WaitEnd};

/// How far past the case's deadline a host-side wait may run (see `bounded`).
const DEADLINE_SLACK: Duration = Duration::from_millis(250);

impl CaseState {
    pub(super) fn node(&self, name: &str) -> Result<Arc<Node>, NodeError> {
        self.scope.live.get(name).ok_or_else(|| {
            let nodes = self.scope.live.snapshot();
            let names: Vec<&str> = nodes.iter().map(|n| n.spec.name.as_str()).collect();
            NodeError::UnknownNode(format!("no node named {name:?} in this test (nodes: {})", names.join(", ")))
        })
    }

    /// Tell the run a package ended `node`'s process (the timeline shows it).
    fn exited(&self, node: &str, exit: &ExitInfo, how: &str, took: Duration) {
        self.scope.bus.emit(BusEvent::NodeExited {
            test: self.scope.test.clone(),
            node: node.to_string(),
            status: exit.to_string(),
            how: how.to_string(),
            took,
        });
    }

    /// Tell the run a package started `node` (the timeline shows it).
    fn started(&self, node: &Node, pid: u32) {
        self.scope.bus.emit(BusEvent::NodeStarted {
            test: self.scope.test.clone(),
            node: node.spec.name.clone(),
            pid,
            address: node.spec.address(),
        });
    }

    /// `requested`, cut to a little past the case's deadline: the case's own timeout
    /// fires first and names what the package was waiting for.
    fn bounded(&self, requested: Duration) -> Duration {
        requested.min(self.deadline.saturating_duration_since(Instant::now()) + DEADLINE_SLACK)
    }

    /// Record what the package is waiting for, for the timeout message.
    fn doing(&self, what: String) {
        *self.doing.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    fn done(&self) {
        *self.doing.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn to_event(node: &str, entry: &Entry<NodeEvent>) -> Event {
    Event {
        node: node.to_string(),
        seq: entry.seq,
        name: entry.item.name.clone(),
        value: entry.item.value.to_string(),
        section: entry.item.section.clone(),
        time_ms: entry.at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
    }
}

fn to_exit(info: ExitInfo) -> ExitStatus {
    ExitStatus { code: info.code, signal: info.signal, description: info.to_string() }
}

fn to_line(entry: &Entry<nodes::OutputLine>) -> Option<OutputLine> {
    let stream = match entry.item.stream {
        Stream::Stdout => control::OutputSource::Stdout,
        Stream::Stderr => control::OutputSource::Stderr,
        Stream::EventPipe => return None,
    };
    Some(OutputLine { seq: entry.seq, source: stream, text: entry.item.text.clone() })
}

fn start_seq(node: &Node, start: Position) -> u64 {
    match start {
        Position::Beginning => 0,
        Position::Now => node.events.next_seq(),
        Position::Seq(seq) => seq,
    }
}

fn failed(error: anyhow::Error) -> NodeError {
    match error.downcast_ref::<nodes::NotRunning>() {
        Some(not_running) => NodeError::NotRunning(not_running.to_string()),
        None => NodeError::Failed(format!("{error:#}")),
    }
}

fn compile(conditions: Vec<Condition>) -> Result<Vec<nodes::Condition>, NodeError> {
    conditions
        .into_iter()
        .map(|condition| {
            let op = match condition.op {
                Comparison::Eq => nodes::Comparison::Eq,
                Comparison::Ne => nodes::Comparison::Ne,
                Comparison::Lt => nodes::Comparison::Lt,
                Comparison::Le => nodes::Comparison::Le,
                Comparison::Gt => nodes::Comparison::Gt,
                Comparison::Ge => nodes::Comparison::Ge,
            };
            nodes::Condition::new(&condition.path, op, &condition.value).map_err(NodeError::Invalid)
        })
        .collect()
}

impl events::Host for CaseState {
    async fn wait_for(
        &mut self,
        node: String,
        name: String,
        conditions: Vec<Condition>,
        start: Position,
        timeout_ms: u64,
    ) -> Result<Event, NodeError> {
        let target = self.node(&node)?;
        let conditions = compile(conditions)?;
        let from = start_seq(&target, start);
        let timeout = self.bounded(Duration::from_millis(timeout_ms));
        self.doing(format!("waiting for event `{name}` on node {node}"));
        let wait = target.events.wait_for(from, |event| {
            event.name == name && conditions.iter().all(|condition| condition.matches(&event.value))
        });
        let result = tokio::time::timeout(timeout, wait).await;
        self.done();
        match result {
            Ok(Ok(entry)) => Ok(to_event(&node, &entry)),
            Ok(Err(WaitEnd::Closed(status))) => {
                Err(NodeError::Terminated(format!("node {node} {status} before event `{name}`")))
            }
            Err(_) => Err(NodeError::Timeout(format!(
                "no event `{name}` on node {node} within {}ms",
                timeout.as_millis()
            ))),
        }
    }

    async fn cursor(&mut self, node: String) -> Result<u64, NodeError> {
        Ok(self.node(&node)?.events.next_seq())
    }

    async fn read(&mut self, node: String, start: Position, max: u32) -> Result<Vec<Event>, NodeError> {
        let target = self.node(&node)?;
        let from = start_seq(&target, start);
        Ok(target.events.since(from).iter().take(max as usize).map(|entry| to_event(&node, entry)).collect())
    }
}

impl control::Host for CaseState {
    async fn terminate(&mut self, node: String, grace_ms: u64) -> Result<ExitStatus, NodeError> {
        let target = self.node(&node)?;
        target.pid().map_err(|e| NodeError::NotRunning(e.to_string()))?;
        self.doing(format!("terminating node {node}"));
        let started = Instant::now();
        let exit = target.terminate(Duration::from_millis(grace_ms)).await;
        self.done();
        let exit = exit.ok_or_else(|| NodeError::NotRunning(format!("node {node} was never started")))?;
        self.exited(&node, &exit, "terminate", started.elapsed());
        Ok(to_exit(exit))
    }

    async fn kill(&mut self, node: String) -> Result<ExitStatus, NodeError> {
        let target = self.node(&node)?;
        target.pid().map_err(|e| NodeError::NotRunning(e.to_string()))?;
        let started = Instant::now();
        let exit = target.kill().await.ok_or_else(|| NodeError::NotRunning(format!("node {node} was never started")))?;
        self.exited(&node, &exit, "kill", started.elapsed());
        Ok(to_exit(exit))
    }

    async fn stop(&mut self, node: String) -> Result<(), NodeError> {
        self.node(&node)?.stop().await.map_err(failed)
    }

    async fn resume(&mut self, node: String) -> Result<(), NodeError> {
        self.node(&node)?.resume().map_err(failed)
    }

    async fn start(&mut self, node: String) -> Result<(), NodeError> {
        let target = self.node(&node)?;
        let pid = target.start().map_err(failed)?;
        self.started(&target, pid);
        self.doing(format!("waiting for node {node} to be ready"));
        let ready = tokio::time::timeout(self.bounded(Duration::MAX), target.wait_ready()).await;
        self.done();
        match ready {
            Ok(Ok(ready)) => {
                self.scope.bus.emit(BusEvent::NodeReady {
                    test: self.scope.test.clone(),
                    node: node.clone(),
                    after: ready.after,
                    signalled_at: ready.signalled_at,
                });
                Ok(())
            }
            Ok(Err(error)) => Err(NodeError::Failed(format!("{error:#}"))),
            Err(_) => Err(NodeError::Timeout(format!("node {node} was not ready before the case's deadline"))),
        }
    }

    async fn restart(&mut self, node: String) -> Result<(), NodeError> {
        let target = self.node(&node)?;
        self.doing(format!("restarting node {node}"));
        let started = Instant::now();
        let restarted = tokio::time::timeout(self.bounded(Duration::MAX), target.restart()).await;
        self.done();
        match restarted {
            Ok(Ok(ready)) => {
                let exit = format!("restarted (new pid {})", target.pid().map_or(0, |pid| pid));
                self.scope.bus.emit(BusEvent::NodeExited {
                    test: self.scope.test.clone(),
                    node: node.clone(),
                    status: exit,
                    how: "restart".into(),
                    took: started.elapsed().saturating_sub(ready.after),
                });
                if let Ok(pid) = target.pid() {
                    self.started(&target, pid);
                }
                Ok(())
            }
            Ok(Err(error)) => Err(failed(error)),
            Err(_) => Err(NodeError::Timeout(format!("node {node} did not restart before the case's deadline"))),
        }
    }

    async fn status(&mut self, node: String) -> Result<NodeStatus, NodeError> {
        Ok(match self.node(&node)?.status() {
            Status::Running { pid } => NodeStatus::Running(pid),
            Status::Stopped { pid } => NodeStatus::Stopped(pid),
            Status::Exited(info) => NodeStatus::Exited(to_exit(info)),
            Status::NotStarted => NodeStatus::Exited(ExitStatus {
                code: None,
                signal: None,
                description: "never started".into(),
            }),
        })
    }

    async fn memory(&mut self, node: String) -> Result<MemoryUsage, NodeError> {
        let memory = self.node(&node)?.memory().map_err(failed)?;
        Ok(MemoryUsage { peak_rss_bytes: memory.peak_rss, rss_bytes: memory.rss })
    }

    async fn output(&mut self, node: String, from: u64, max: u32) -> Result<Vec<OutputLine>, NodeError> {
        let target = self.node(&node)?;
        Ok(target.output.since(from).iter().filter_map(|entry| to_line(entry)).take(max as usize).collect())
    }

    async fn wait_for_line(
        &mut self,
        node: String,
        pattern: String,
        from: u64,
        timeout_ms: u64,
    ) -> Result<OutputLine, NodeError> {
        let target = self.node(&node)?;
        let regex = Regex::new(&pattern).map_err(|e| NodeError::Invalid(format!("pattern /{pattern}/: {e}")))?;
        let timeout = self.bounded(Duration::from_millis(timeout_ms));
        self.doing(format!("waiting for a line matching /{pattern}/ from node {node}"));
        let wait = target.output.wait_for(from, |line| line.stream != Stream::EventPipe && regex.is_match(&line.text));
        let result = tokio::time::timeout(timeout, wait).await;
        self.done();
        match result {
            Ok(Ok(entry)) => Ok(to_line(&entry).expect("event pipe lines are filtered out")),
            Ok(Err(WaitEnd::Closed(status))) => {
                Err(NodeError::Terminated(format!("node {node} {status} before a line matching /{pattern}/")))
            }
            Err(_) => Err(NodeError::Timeout(format!(
                "no line matching /{pattern}/ from node {node} within {}ms",
                timeout.as_millis()
            ))),
        }
    }

    async fn add_node(&mut self, template: String, node: NewNode) -> Result<NodeInfo, NodeError> {
        let request = AddNode { template, name: node.name, extra_args: node.extra_args, env: node.env };
        let added = self.scope.live.add(&request).map_err(NodeError::Invalid)?;
        Ok(super::interfaces::node_info(&added))
    }
}
