//! The host side of the `network-faults` interface: a package cuts, partitions, slows down and
//! heals the links between its test's nodes (`network_faults = true`). The mechanism is
//! `netfault`; every change that took effect is an event on the run's timeline.

use std::time::Duration;

use super::bindings::host::test::network_faults::{self as network, Direction as WitDirection, Fault as WitFault, LinkFault, NetworkError};
use super::state::CaseState;
use crate::events::Event;
use crate::netfault::{Direction, Fault, Network, NetworkError as Error, Target};

impl CaseState {
    /// The test's network, or why there is none.
    fn network(&self) -> Result<std::sync::Arc<Network>, NetworkError> {
        self.scope.network.clone().ok_or_else(|| {
            NetworkError::Unavailable(format!(
                "test {:?} has no network faults: set network_faults = true in its [[tests]] entry (and bind nodes to {{listen_port}})",
                self.scope.test
            ))
        })
    }

    /// Do `change` on the network; when it took effect, tell the run.
    fn network_change(&self, action: &str, nodes: Vec<String>, detail: String, change: impl FnOnce(&Network) -> Result<(), Error>) -> Result<(), NetworkError> {
        let network = self.network()?;
        change(&network).map_err(|error| match error {
            Error::UnknownNode(_) => NetworkError::UnknownNode(error.to_string()),
            Error::Invalid(message) => NetworkError::Invalid(message),
        })?;
        self.scope.bus.emit(Event::NetworkFault { test: self.scope.test.clone(), action: action.to_string(), nodes, detail });
        Ok(())
    }
}

fn fault(fault: WitFault) -> Fault {
    match fault {
        WitFault::Latency((latency, jitter)) => {
            Fault::Latency { latency: Duration::from_millis(latency.into()), jitter: Duration::from_millis(jitter.into()) }
        }
        WitFault::Bandwidth(bytes_per_sec) => Fault::Bandwidth { bytes_per_sec },
        WitFault::Reset => Fault::Reset,
        WitFault::CloseAfterBytes(bytes) => Fault::CloseAfterBytes { bytes },
        WitFault::Slicer(slicer) => Fault::Slicer {
            average: slicer.average_size as usize,
            variation: slicer.size_variation as usize,
            delay: Duration::from_micros(slicer.delay_us.into()),
        },
        WitFault::DropNewConnections => Fault::DropNewConnections,
    }
}

fn link(from: Option<&str>, to: &str) -> String {
    format!("{} → {to}", from.unwrap_or("anyone"))
}

impl network::Host for CaseState {
    async fn partition(&mut self, groups: Vec<Vec<String>>) -> Result<(), NetworkError> {
        let nodes = groups.iter().flatten().cloned().collect();
        let detail = groups.iter().map(|group| group.join(", ")).collect::<Vec<_>>().join(" | ");
        self.network_change("partition", nodes, detail, |network| network.partition(&groups))
    }

    async fn isolate(&mut self, node: String) -> Result<(), NetworkError> {
        let detail = format!("{node} cut off from every other node");
        self.network_change("isolate", vec![node.clone()], detail, |network| network.isolate(&node))
    }

    async fn cut(&mut self, from: String, to: String) -> Result<(), NetworkError> {
        let detail = format!("{} held", link(Some(&from), &to));
        self.network_change("cut", vec![from.clone(), to.clone()], detail, |network| network.cut(&from, &to))
    }

    async fn heal(&mut self) -> Result<(), NetworkError> {
        // A heal with nothing in force changes nothing, and is no event.
        if self.network()?.heal() {
            let nodes = self.scope.live.snapshot().iter().map(|node| node.spec.name.clone()).collect();
            let test = self.scope.test.clone();
            self.scope.bus.emit(Event::NetworkFault { test, action: "heal".into(), nodes, detail: "every cut and fault healed".into() });
        }
        Ok(())
    }

    async fn heal_link(&mut self, from: String, to: String) -> Result<(), NetworkError> {
        let detail = format!("{} flows again", link(Some(&from), &to));
        self.network_change("heal-link", vec![from.clone(), to.clone()], detail, |network| network.heal_link(&from, &to))
    }

    async fn add_fault(&mut self, request: LinkFault) -> Result<(), NetworkError> {
        let direction = match request.direction {
            WitDirection::Upstream => Direction::Upstream,
            WitDirection::Downstream => Direction::Downstream,
            WitDirection::Both => Direction::Both,
        };
        let fault = fault(request.fault);
        let detail = format!("{} on {} ({direction:?})", fault.describe(), link(request.peer.as_deref(), &request.node)).replace("(Upstream)", "(upstream)");
        let detail = detail.replace("(Downstream)", "(downstream)").replace("(Both)", "(both ways)");
        let nodes = std::iter::once(request.node.clone()).chain(request.peer.clone()).collect();
        let target = Target { to: request.node, from: request.peer, direction };
        self.network_change("add-fault", nodes, detail, |network| network.add_fault(target, fault))
    }

    async fn clear_faults(&mut self, node: String, peer: Option<String>) -> Result<(), NetworkError> {
        let detail = format!("faults on {} cleared", link(peer.as_deref(), &node));
        let nodes = std::iter::once(node.clone()).chain(peer.clone()).collect();
        self.network_change("clear-faults", nodes, detail, |network| network.clear_faults(&node, peer.as_deref()))
    }
}
