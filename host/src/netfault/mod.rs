//! `netfault`: network faults between a test's nodes, injected without root.
//!
//! With `network_faults = true` a test's nodes are reached only through the host: every
//! port of every node gets a TCP proxy ([`proxy`]) on loopback, and the placeholders
//! (`{address.peer:e2}`, `{port}`…), the `nodes` interface and the sandbox's allow-list
//! all name the proxy; the node itself binds `{listen_port}` / `{listen_address}`. Every
//! client of a port uses the same address, so systems that identify peers by address
//! (etcd hashes peer URLs into member ids) see one consistent cluster. The proxy learns
//! which node a connection comes from by the client socket's owner ([`owner`]: its inode
//! in `/proc/net/tcp`, among the node processes' open files), so partitions and faults
//! are per link and per direction: a cut link's bytes are held (as a dropped packet is:
//! nothing arrives, nothing is refused) until it heals.
//!
//! What this does not cover, honestly: traffic that does not go through the proxies
//! (a node that learns a peer's real port some other way, UDP, a node talking to
//! itself), and packet-level faults (loss, reordering). No namespace, no process and no
//! privilege is involved: the proxies are tasks of the host, and [`Network::shutdown`]
//! (at the test's end, whatever happened) heals everything and closes them.

mod fault;
mod owner;
mod proxy;

use std::collections::BTreeSet;
use std::sync::{Arc, MutexGuard};

pub use fault::{Armed, Direction, Fault, Target};

/// The running nodes of a test, by name and process id, read when a connection is
/// accepted.
pub type NodeProcesses = Arc<dyn Fn() -> Vec<(String, u32)> + Send + Sync>;

/// Why a network call did not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// No node of the test has that name (or it has no port behind a proxy).
    #[error("no node named {0:?} in this test's network")]
    UnknownNode(String),
    /// An argument is malformed.
    #[error("{0}")]
    Invalid(String),
}

/// The faults in force.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Directed links whose bytes are held: (from, to).
    cuts: BTreeSet<(String, String)>,
    faults: Vec<Armed>,
    /// Every node behind a proxy.
    nodes: BTreeSet<String>,
}

impl State {
    /// Whether bytes from `from` to `to` are held. Packages and scripts (`None`) are
    /// never cut off.
    pub(crate) fn blocked(&self, from: Option<&str>, to: &str) -> bool {
        from.is_some_and(|from| self.cuts.contains(&(from.to_string(), to.to_string())))
    }
}

/// One test's network: the proxies in front of its nodes and the faults in force.
pub struct Network {
    shared: Arc<proxy::Shared>,
}

impl Network {
    /// A network with no proxy yet. Must be made inside a tokio runtime (its proxies run
    /// there).
    #[allow(clippy::new_without_default, reason = "it needs a tokio runtime: not a value to make by default")]
    pub fn new() -> Network {
        Network { shared: Arc::new(proxy::Shared::new(tokio::runtime::Handle::current())) }
    }

    /// Tell the network which process is which node (read at every accepted connection);
    /// until then every client counts as outside the test's nodes. Set once.
    pub fn identify_with(&self, nodes: NodeProcesses) {
        let _ = self.shared.nodes.set(nodes);
    }

    /// Put a proxy in front of `node`'s port `listen_port` (where the node itself
    /// listens, on `host`); returns the port clients use instead.
    pub fn expose(&self, node: &str, host: &str, listen_port: u16) -> std::io::Result<u16> {
        let port = proxy::listen(&self.shared, node, host, listen_port)?;
        self.state().nodes.insert(node.to_string());
        Ok(port)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn known(&self, state: &State, node: &str) -> Result<(), NetworkError> {
        if state.nodes.contains(node) { Ok(()) } else { Err(NetworkError::UnknownNode(node.to_string())) }
    }

    /// Nodes in different groups cannot reach each other (both ways); a node left out of
    /// every group is a group of its own. Adds to the cuts already in force.
    pub fn partition(&self, groups: &[Vec<String>]) -> Result<(), NetworkError> {
        let mut state = self.state();
        let mut seen = BTreeSet::new();
        for name in groups.iter().flatten() {
            self.known(&state, name)?;
            if !seen.insert(name.clone()) {
                return Err(NetworkError::Invalid(format!("node {name:?} is in more than one group")));
            }
        }
        let group_of = |name: &str| groups.iter().position(|g| g.iter().any(|n| n == name));
        let nodes: Vec<String> = state.nodes.iter().cloned().collect();
        for a in &nodes {
            for b in &nodes {
                let apart = match (group_of(a), group_of(b)) {
                    (Some(x), Some(y)) => x != y,
                    _ => a != b,
                };
                if apart {
                    state.cuts.insert((a.clone(), b.clone()));
                }
            }
        }
        drop(state);
        self.shared.changed();
        Ok(())
    }

    /// `node` can reach no other node and none can reach it.
    pub fn isolate(&self, node: &str) -> Result<(), NetworkError> {
        let mut state = self.state();
        self.known(&state, node)?;
        let others: Vec<String> = state.nodes.iter().filter(|n| *n != node).cloned().collect();
        for other in others {
            state.cuts.insert((node.to_string(), other.clone()));
            state.cuts.insert((other, node.to_string()));
        }
        drop(state);
        self.shared.changed();
        Ok(())
    }

    /// Bytes from `from` to `to` are held (one way: `to` still reaches `from`).
    pub fn cut(&self, from: &str, to: &str) -> Result<(), NetworkError> {
        let mut state = self.state();
        self.known(&state, from)?;
        self.known(&state, to)?;
        if from == to {
            return Err(NetworkError::Invalid(format!("cannot cut {from:?} from itself")));
        }
        state.cuts.insert((from.to_string(), to.to_string()));
        drop(state);
        self.shared.changed();
        Ok(())
    }

    /// Bytes from `from` to `to` flow again, and the faults set on that link are gone.
    pub fn heal_link(&self, from: &str, to: &str) -> Result<(), NetworkError> {
        let mut state = self.state();
        self.known(&state, from)?;
        self.known(&state, to)?;
        state.cuts.remove(&(from.to_string(), to.to_string()));
        state.faults.retain(|a| !(a.target.to == to && a.target.from.as_deref() == Some(from)));
        drop(state);
        self.shared.changed();
        Ok(())
    }

    /// Every cut and every fault is gone; held bytes flow again. Returns whether anything
    /// was in force.
    pub fn heal(&self) -> bool {
        let mut state = self.state();
        let any = !state.cuts.is_empty() || !state.faults.is_empty();
        state.cuts.clear();
        state.faults.clear();
        drop(state);
        self.shared.changed();
        any
    }

    /// Arm `fault` on `target` (replacing a fault of the same kind there).
    pub fn add_fault(&self, target: Target, fault: Fault) -> Result<(), NetworkError> {
        if let Some(problem) = fault.problem() {
            return Err(NetworkError::Invalid(problem));
        }
        let mut state = self.state();
        self.known(&state, &target.to)?;
        if let Some(from) = &target.from {
            self.known(&state, from)?;
        }
        state.faults.retain(|a| !(a.target == target && a.fault.kind() == fault.kind()));
        state.faults.push(Armed { target: target.clone(), fault });
        drop(state);
        if fault == Fault::Reset {
            self.shared.reset(target.from.as_deref(), &target.to);
        }
        self.shared.changed();
        Ok(())
    }

    /// Remove the faults set on connections to `to` from `from` (`None`: those set for
    /// every client); cuts stay.
    pub fn clear_faults(&self, to: &str, from: Option<&str>) -> Result<(), NetworkError> {
        let mut state = self.state();
        self.known(&state, to)?;
        state.faults.retain(|a| !(a.target.to == to && a.target.from.as_deref() == from));
        drop(state);
        self.shared.changed();
        Ok(())
    }

    /// Heal everything, close every proxy and connection, and wait until their sockets
    /// are closed. Returns whether anything was in force. Idempotent; dropping the network
    /// does the same without waiting.
    pub async fn shutdown(&self) -> bool {
        let healed = self.heal();
        self.shared.close_all().await;
        healed
    }

    /// How many connections the proxies hold open now (for tests of the cleanup).
    pub fn open_connections(&self) -> usize {
        self.shared.open_connections()
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.shared.abort_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A network with proxies for `names` (in front of ports nothing listens on).
    fn network(names: &[&str]) -> (tokio::runtime::Runtime, Network) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let network = {
            let _entered = runtime.enter();
            Network::new()
        };
        for name in names {
            network.expose(name, "127.0.0.1", 9).unwrap();
        }
        (runtime, network)
    }

    fn blocked(network: &Network, from: &str, to: &str) -> bool {
        network.state().blocked(Some(from), to)
    }

    #[test]
    fn a_partition_cuts_between_groups_both_ways_and_a_node_left_out_is_alone() {
        let (_runtime, network) = network(&["a", "b", "c", "d"]);
        network.partition(&[vec!["a".into()], vec!["b".into(), "c".into()]]).unwrap();
        assert!(blocked(&network, "a", "b") && blocked(&network, "b", "a"));
        assert!(!blocked(&network, "b", "c") && !blocked(&network, "c", "b"));
        assert!(blocked(&network, "d", "a") && blocked(&network, "c", "d"), "d is in no group: alone");
        // Packages are never cut off.
        assert!(!network.state().blocked(None, "a"));
        network.heal_link("a", "b").unwrap();
        assert!(!blocked(&network, "a", "b") && blocked(&network, "b", "a"), "heal-link is one way, as cut is");
        assert!(network.heal());
        assert!(!network.heal(), "nothing left to heal");
    }

    #[test]
    fn isolate_and_cut_name_known_nodes_only() {
        let (_runtime, network) = network(&["a", "b"]);
        network.cut("a", "b").unwrap();
        assert!(blocked(&network, "a", "b") && !blocked(&network, "b", "a"));
        assert_eq!(network.isolate("z"), Err(NetworkError::UnknownNode("z".into())));
        assert!(matches!(network.cut("a", "a"), Err(NetworkError::Invalid(_))));
        assert!(matches!(network.partition(&[vec!["a".into()], vec!["a".into()]]), Err(NetworkError::Invalid(_))));
        let target = Target { to: "b".into(), from: Some("q".into()), direction: Direction::Both };
        assert_eq!(network.add_fault(target, Fault::Reset), Err(NetworkError::UnknownNode("q".into())));
        network.isolate("b").unwrap();
        assert!(blocked(&network, "b", "a") && blocked(&network, "a", "b"));
    }
}
