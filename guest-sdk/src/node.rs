//! Drive and observe the test's nodes from inside a package: event waits, process
//! control (stop, resume, terminate, kill, start, restart), status, memory and output.

use std::time::Duration;

use crate::bindings::host::test::{control, events, nodes};
pub use crate::bindings::host::test::nodes::{NamedPort, NodeInfo};
pub use crate::bindings::host::test::control::{ExitStatus, MemoryUsage, NodeStatus, OutputLine, OutputSource};
pub use crate::bindings::host::test::events::{Comparison, Condition, Event, Position};
pub use crate::bindings::host::test::nodes::NodeError;

/// How long a wait lasts unless told otherwise (the case's deadline still bounds it).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

// wit-bindgen gives `NodeError` `Display` and `std::error::Error`, so `?` on a node call
// fails the case at that line with the error's text.

/// A node of the test, by name. Calls on a node the test does not have return
/// [`NodeError::UnknownNode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    name: String,
}

impl Node {
    /// The node called `name`.
    pub fn named(name: impl Into<String>) -> Node {
        Node { name: name.into() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's name and address (its first port).
    pub fn info(&self) -> Result<NodeInfo, NodeError> {
        nodes::get(&self.name).ok_or_else(|| NodeError::UnknownNode(format!("no node named {:?} in this test", self.name)))
    }

    /// The port the host picked for the node's port called `port` (`ports = ["client",
    /// "peer"]` in tests.toml).
    pub fn port(&self, port: &str) -> Result<u16, NodeError> {
        self.named_port(port).map(|p| p.port)
    }

    /// `host:port` of the node's port called `port`.
    pub fn address(&self, port: &str) -> Result<String, NodeError> {
        self.named_port(port).map(|p| p.address)
    }

    /// Every named port of the node, in tests.toml order.
    pub fn ports(&self) -> Result<Vec<NamedPort>, NodeError> {
        nodes::ports(&self.name)
    }

    fn named_port(&self, port: &str) -> Result<NamedPort, NodeError> {
        let ports = self.ports()?;
        let known: Vec<String> = ports.iter().map(|p| p.name.clone()).collect();
        ports.into_iter().find(|p| p.name == port).ok_or_else(|| {
            NodeError::Invalid(format!("node {} has no port named {port:?} (its ports: {})", self.name, known.join(", ")))
        })
    }

    /// Create a node from the template `template` of tests.toml, not started yet: its
    /// ports are known (announce them first if the system needs it), then
    /// [`Node::start`] boots it and waits until it is ready. The host stops it at the
    /// test's end. `extra_args` and `env` values may use placeholders (`{port.peer}`).
    pub fn add_from_template(
        template: &str,
        name: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Node, NodeError> {
        let new = control::NewNode {
            name: name.to_string(),
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let info = control::add_node(template, &new)?;
        Ok(Node::named(info.name))
    }

    /// Start building a wait for the next event called `event` (see [`Wait`]).
    pub fn wait_for(&self, event: &str) -> Wait {
        Wait {
            node: self.name.clone(),
            event: event.to_string(),
            conditions: Vec::new(),
            start: Position::Beginning,
            timeout: DEFAULT_WAIT,
            error: None,
        }
    }

    /// The sequence number of the node's next event: pass it to [`Wait::since`] to wait
    /// only for what happens after this point.
    pub fn cursor(&self) -> Result<u64, NodeError> {
        events::cursor(&self.name)
    }

    /// Recorded events from `start`, up to `max`, without waiting.
    pub fn events(&self, start: Position, max: u32) -> Result<Vec<Event>, NodeError> {
        events::read(&self.name, start, max)
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn terminate(&self, grace: Duration) -> Result<ExitStatus, NodeError> {
        control::terminate(&self.name, grace.as_millis() as u64)
    }

    /// SIGKILL now.
    pub fn kill(&self) -> Result<ExitStatus, NodeError> {
        control::kill(&self.name)
    }

    /// SIGSTOP: freeze the node.
    pub fn stop(&self) -> Result<(), NodeError> {
        control::stop(&self.name)
    }

    /// SIGCONT: a stopped node goes on.
    pub fn resume(&self) -> Result<(), NodeError> {
        control::resume(&self.name)
    }

    /// Start a node that is not running (an exited one again, same home, or one made by
    /// [`Node::add_from_template`]); returns once it is ready.
    pub fn start(&self) -> Result<(), NodeError> {
        control::start(&self.name)
    }

    /// Terminate, start, wait until ready.
    pub fn restart(&self) -> Result<(), NodeError> {
        control::restart(&self.name)
    }

    /// Running, stopped or exited.
    pub fn status(&self) -> Result<NodeStatus, NodeError> {
        control::status(&self.name)
    }

    /// Peak and current resident memory.
    pub fn memory(&self) -> Result<MemoryUsage, NodeError> {
        control::memory(&self.name)
    }

    /// Output lines with a sequence number of `from` or more, up to `max`.
    pub fn output(&self, from: u64, max: u32) -> Result<Vec<OutputLine>, NodeError> {
        control::output(&self.name, from, max)
    }

    /// The first output line at or after `from` matching the regular expression `pattern`.
    pub fn wait_for_line(&self, pattern: &str, from: u64, timeout: Duration) -> Result<OutputLine, NodeError> {
        control::wait_for_line(&self.name, pattern, from, timeout.as_millis() as u64)
    }
}

/// A wait for an event, built step by step:
/// `node.wait_for("set").filter("writes >= 3").from_now().timeout(secs(2)).run()`.
#[derive(Debug, Clone)]
pub struct Wait {
    node: String,
    event: String,
    conditions: Vec<Condition>,
    start: Position,
    timeout: Duration,
    error: Option<String>,
}

impl Wait {
    /// Add a condition written as `PATH OP VALUE`, with OP one of `==`, `!=`, `<`, `<=`,
    /// `>`, `>=` and VALUE JSON (a bare word is taken as a string): `level >= 10`,
    /// `peer.id == "a"`, `key == greeting`.
    pub fn filter(mut self, expression: &str) -> Wait {
        match parse_condition(expression) {
            Ok(condition) => self.conditions.push(condition),
            Err(error) => self.error = Some(error),
        }
        self
    }

    /// Add a condition from its parts.
    pub fn condition(mut self, condition: Condition) -> Wait {
        self.conditions.push(condition);
        self
    }

    /// Only events emitted from now on (the default is the node's whole life).
    pub fn from_now(mut self) -> Wait {
        self.start = Position::Now;
        self
    }

    /// Only events with a sequence number of `seq` or more (from [`Node::cursor`] or an event).
    pub fn since(mut self, seq: u64) -> Wait {
        self.start = Position::Seq(seq);
        self
    }

    /// Wait at most this long (the case's deadline still bounds it).
    pub fn timeout(mut self, timeout: Duration) -> Wait {
        self.timeout = timeout;
        self
    }

    /// Wait for the event.
    pub fn run(self) -> Result<Event, NodeError> {
        if let Some(error) = self.error {
            return Err(NodeError::Invalid(error));
        }
        events::wait_for(&self.node, &self.event, &self.conditions, self.start, self.timeout.as_millis() as u64)
    }
}

/// `level >= 10` → a condition.
pub fn parse_condition(expression: &str) -> Result<Condition, String> {
    const OPERATORS: [(&str, Comparison); 6] = [
        ("==", Comparison::Eq),
        ("!=", Comparison::Ne),
        ("<=", Comparison::Le),
        (">=", Comparison::Ge),
        ("<", Comparison::Lt),
        (">", Comparison::Gt),
    ];
    let (index, text, op) = OPERATORS
        .iter()
        .filter_map(|(text, op)| expression.find(text).map(|index| (index, *text, *op)))
        .min_by_key(|(index, text, _)| (*index, usize::MAX - text.len()))
        .ok_or_else(|| format!("filter {expression:?}: no comparison (==, !=, <, <=, >, >=)"))?;
    let path = expression[..index].trim().to_string();
    let raw = expression[index + text.len()..].trim();
    let looks_like_json = raw.starts_with(['"', '{', '[', '-']) || raw.starts_with(|c: char| c.is_ascii_digit()) || ["true", "false", "null"].contains(&raw);
    let value = if looks_like_json { raw.to_string() } else { format!("\"{}\"", raw.replace('\\', "\\\\").replace('"', "\\\"")) };
    Ok(Condition { path, op, value })
}
