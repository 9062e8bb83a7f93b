//! Network faults between the test's nodes (tests.toml: `network_faults = true`):
//! partitions, one-way cuts, and per-link byte faults (latency, bandwidth, reset,
//! close-after-bytes, slicer, drop-new-connections). The host heals everything at the
//! test's end; each call is an event on the run's timeline.
//!
//! ```ignore
//! use guest_sdk::network::{self, Fault};
//!
//! network::isolate("e1")?;                      // e1 reaches no node, no node reaches e1
//! network::partition(&[&["e1"], &["e2", "e3"]])?;
//! network::cut("e1", "e2")?;                    // one way: e2 still reaches e1
//! network::heal()?;
//! network::node("e2").fault(Fault::Latency { ms: 50, jitter_ms: 10 })?;      // every client of e2
//! network::link("e1", "e2").upstream().fault(Fault::Bandwidth(64 * 1024))?; // e1 → e2 only
//! ```

use crate::bindings::host::test::network_faults as wit;
pub use crate::bindings::host::test::network_faults::{Direction, NetworkError};

/// A byte-level fault (Toxiproxy's toxics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every chunk arrives `ms` (± up to `jitter_ms`, at most `ms`) after the proxy read it.
    Latency { ms: u32, jitter_ms: u32 },
    /// At most this many bytes per second.
    Bandwidth(u64),
    /// Reset (RST) every connection now, and every new one as soon as it is accepted.
    Reset,
    /// Close a connection once this many bytes went through.
    CloseAfterBytes(u64),
    /// Deliver in writes of `average` ± `variation` bytes, `delay_us` microseconds apart.
    Slicer { average: u32, variation: u32, delay_us: u32 },
    /// Close new connections as soon as they are accepted.
    DropNewConnections,
}

impl From<Fault> for wit::Fault {
    fn from(fault: Fault) -> wit::Fault {
        match fault {
            Fault::Latency { ms, jitter_ms } => wit::Fault::Latency((ms, jitter_ms)),
            Fault::Bandwidth(rate) => wit::Fault::Bandwidth(rate),
            Fault::Reset => wit::Fault::Reset,
            Fault::CloseAfterBytes(bytes) => wit::Fault::CloseAfterBytes(bytes),
            Fault::Slicer { average, variation, delay_us } => {
                wit::Fault::Slicer(wit::Slicer { average_size: average, size_variation: variation, delay_us })
            }
            Fault::DropNewConnections => wit::Fault::DropNewConnections,
        }
    }
}

/// Nodes in different groups cannot reach each other; a node in no group is a group of
/// its own.
pub fn partition(groups: &[&[&str]]) -> Result<(), NetworkError> {
    wit::partition(&groups.iter().map(|group| group.iter().map(|name| name.to_string()).collect()).collect::<Vec<_>>())
}

/// `node` reaches no other node, and no node reaches it.
pub fn isolate(node: &str) -> Result<(), NetworkError> {
    wit::isolate(node)
}

/// Bytes from `from` to `to` are held (one way).
pub fn cut(from: &str, to: &str) -> Result<(), NetworkError> {
    wit::cut(from, to)
}

/// Every cut and every fault is gone.
pub fn heal() -> Result<(), NetworkError> {
    wit::heal()
}

/// Bytes from `from` to `to` flow again, and that link's faults are gone.
pub fn heal_link(from: &str, to: &str) -> Result<(), NetworkError> {
    wit::heal_link(from, to)
}

/// Faults on the connections to `node`'s ports from anyone (packages included).
pub fn node(node: &str) -> Faults {
    Faults { node: node.to_string(), peer: None, direction: Direction::Both }
}

/// Faults on the connections from node `from` to node `to`'s ports.
pub fn link(from: &str, to: &str) -> Faults {
    Faults { node: to.to_string(), peer: Some(from.to_string()), direction: Direction::Both }
}

/// Where faults go: built by [`node`] or [`link`], both directions unless narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults {
    node: String,
    peer: Option<String>,
    direction: Direction,
}

impl Faults {
    /// Only the bytes the client sends.
    pub fn upstream(mut self) -> Faults {
        self.direction = Direction::Upstream;
        self
    }

    /// Only the bytes the server answers.
    pub fn downstream(mut self) -> Faults {
        self.direction = Direction::Downstream;
        self
    }

    /// Arm `fault` here (replacing one of its kind).
    pub fn fault(&self, fault: Fault) -> Result<(), NetworkError> {
        wit::add_fault(&wit::LinkFault { node: self.node.clone(), peer: self.peer.clone(), direction: self.direction, fault: fault.into() })
    }

    /// Remove the faults armed here (in every direction).
    pub fn clear(&self) -> Result<(), NetworkError> {
        wit::clear_faults(&self.node, self.peer.as_deref())
    }
}
