//! What a case knows about the test it runs in.

use std::time::Duration;

use crate::bindings::host::test::nodes;
use crate::{Failure, NodeInfo};

/// The running request: the test's nodes and the time the host gives the package.
#[derive(Debug, Clone)]
pub struct Context {
    pub(crate) node_names: Vec<String>,
    pub(crate) timeout: Duration,
}

impl Context {
    /// Names of the test's nodes, in tests.toml order (the request's `input-node-names`).
    pub fn node_names(&self) -> &[String] {
        &self.node_names
    }

    /// Every node of the test, in tests.toml order.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        nodes::all()
    }

    /// The node called `name`; a failure at the caller's location if there is none.
    #[track_caller]
    pub fn node(&self, name: &str) -> Result<NodeInfo, Failure> {
        nodes::get(name).ok_or_else(|| {
            Failure::here(format!(
                "no node named {name:?} in this test (nodes: {})",
                self.node_names.join(", ")
            ))
        })
    }

    /// A handle to drive and observe the node called `name` (see [`Node`](crate::Node)).
    pub fn control(&self, name: &str) -> crate::Node {
        crate::Node::named(name)
    }

    /// The factor the host multiplied every timeout by (`--timeout-scale`, 1.0 by default).
    pub fn timeout_scale(&self) -> f64 {
        crate::bindings::host::test::timing::timeout_scale()
    }

    /// `duration` multiplied by the run's timeout scale: use it for the package's own waits.
    pub fn scaled(&self, duration: Duration) -> Duration {
        duration.mul_f64(self.timeout_scale())
    }

    /// Sleep for `duration` times the run's timeout scale.
    pub fn sleep(&self, duration: Duration) {
        std::thread::sleep(self.scaled(duration));
    }

    /// The time budget of this request (the host has already applied its timeout scale).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}
