//! The one placeholder resolver: an [`AddressBook`] knows every node of a test (its
//! name, address, home…) and fills templates for node arguments, node environment,
//! readiness commands and scripts alike. Validation uses the same key table
//! ([`Key`]), so a placeholder that passes `host check` always resolves here.
//!
//! Named ports (`{port.peer}`, `{address.client:e1}`) resolve here too. With
//! `network_faults` every port and address names the host's proxy in front of the node
//! (so every node and package reaches it through the proxy, at one address for all);
//! only `{listen_port}` / `{listen_address}` name where the node itself binds.

use std::path::PathBuf;

use super::template::{Key, Placeholder, Template};

/// One node's concrete values, known once its port and home are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    pub name: String,
    /// The IP address the node listens on.
    pub host: String,
    /// The node's first (or only) port: `{port}`.
    pub port: u16,
    /// Every port the node declares by name (`ports = ["client", "peer"]`), in order;
    /// empty when it declares none.
    pub ports: Vec<(String, u16)>,
    /// Where the node itself listens, port by port in the order of `ports` (or its one
    /// port): `{listen_port}`. Empty: where clients reach it (no proxy in between).
    pub listen: Vec<u16>,
    pub home: PathBuf,
    /// The event pipe the host reads for this node.
    pub event_pipe: PathBuf,
    /// `runtime_verbosity`; `None` where it is not known (scripts).
    pub verbosity: Option<u32>,
    /// `password`; `None` where it is not known (scripts).
    pub password: Option<String>,
}

impl NodeAddress {
    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The port called `name`.
    pub fn named_port(&self, name: &str) -> Option<u16> {
        self.ports.iter().find(|(n, _)| n == name).map(|(_, port)| *port)
    }
}

/// Why a placeholder has no value. Validation rules these out; seeing one at run time
/// means a bug, and it is reported, never rendered as an empty string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The template text is not valid (unknown or unclosed placeholder).
    #[error("{0}")]
    Syntax(String),
    /// `{KEY:NODE}` names a node the test does not have.
    #[error("placeholder {{{key}:{node}}} names node {node:?}, which this test does not have")]
    UnknownNode { key: String, node: String },
    /// A per-node placeholder where the test has no node.
    #[error("placeholder {{{key}}} needs a node, and this test has none")]
    NoNode { key: String },
    /// A value the caller does not know (e.g. `{password}` in a script's arguments).
    #[error("placeholder {{{key}}} has no value here")]
    Unavailable { key: String },
    /// `{port.NAME}` names a port the node does not declare.
    #[error("placeholder {{{key}}}: node {node:?} has no port named {port:?} (its ports: {known})")]
    UnknownPort { key: String, node: String, port: String, known: String },
}

/// Every node of one test, for filling placeholders.
#[derive(Debug, Clone, Default)]
pub struct AddressBook {
    nodes: Vec<NodeAddress>,
}

impl AddressBook {
    /// A book of `nodes`, in the order of the test.
    pub fn new(nodes: Vec<NodeAddress>) -> AddressBook {
        AddressBook { nodes }
    }

    /// Add a node at the end.
    pub fn push(&mut self, node: NodeAddress) {
        self.nodes.push(node);
    }

    /// The nodes, in order.
    pub fn nodes(&self) -> &[NodeAddress] {
        &self.nodes
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeAddress> {
        self.nodes.iter().find(|node| node.name == name)
    }

    /// The value of `{key}` (`other` = `None`) or `{key:other}`, seen from node `this`
    /// (`None`: the test's first node, as scripts see them).
    pub fn value(&self, this: Option<&str>, placeholder: Placeholder<'_>) -> Result<String, ResolveError> {
        let Placeholder { key, port, node: other } = placeholder;
        let word = || placeholder.text();
        let own = match this {
            Some(name) => self.node(name).ok_or_else(|| ResolveError::UnknownNode { key: word(), node: name.to_string() })?,
            None => self.nodes.first().ok_or_else(|| ResolveError::NoNode { key: word() })?,
        };
        let target = match other {
            Some(name) => self.node(name).ok_or_else(|| ResolveError::UnknownNode { key: word(), node: name.to_string() })?,
            None => own,
        };
        let unavailable = || ResolveError::Unavailable { key: word() };
        let index = match port {
            None => Some(0),
            Some(name) => target.ports.iter().position(|(n, _)| n == name),
        };
        let listen = index.and_then(|i| target.listen.get(i).copied());
        let port = match port {
            None => target.port,
            Some(name) => target.named_port(name).ok_or_else(|| ResolveError::UnknownPort {
                key: word(),
                node: target.name.clone(),
                port: name.to_string(),
                known: if target.ports.is_empty() {
                    "none declared: add ports = [\"…\"] to the node or its runtime".to_string()
                } else {
                    target.ports.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                },
            })?,
        };
        Ok(match key {
            Key::Name => target.name.clone(),
            Key::Host => target.host.clone(),
            Key::Port => port.to_string(),
            Key::Address => format!("{}:{port}", target.host),
            Key::ListenPort => listen.unwrap_or(port).to_string(),
            Key::ListenAddress => format!("{}:{}", target.host, listen.unwrap_or(port)),
            Key::Home => target.home.display().to_string(),
            Key::EventPipe => own.event_pipe.display().to_string(),
            Key::Peers => self
                .nodes
                .iter()
                .filter(|node| this.is_none() || node.name != own.name)
                .map(NodeAddress::address)
                .collect::<Vec<_>>()
                .join(","),
            Key::Verbosity => own.verbosity.ok_or_else(unavailable)?.to_string(),
            Key::Password => own.password.clone().ok_or_else(unavailable)?,
        })
    }

    /// Fill `template` as node `this` sees it (`None`: as a script sees the test).
    pub fn render(&self, this: Option<&str>, template: &Template) -> Result<String, ResolveError> {
        template.try_render(|placeholder| self.value(this, placeholder))
    }

    /// Parse and fill `text`.
    pub fn render_text(&self, this: Option<&str>, text: &str) -> Result<String, ResolveError> {
        let template = Template::parse(text).map_err(ResolveError::Syntax)?;
        self.render(this, &template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> AddressBook {
        let node = |name: &str, port| NodeAddress {
            name: name.into(),
            host: "127.0.0.1".into(),
            port,
            ports: vec![("client".into(), port), ("peer".into(), port + 100)],
            listen: if name == "b" { vec![port + 1000, port + 1100] } else { Vec::new() },
            home: PathBuf::from(format!("/h/{name}")),
            event_pipe: PathBuf::from(format!("/e/{name}")),
            verbosity: Some(1),
            password: None,
        };
        AddressBook::new(vec![node("a", 7000), node("b", 7001)])
    }

    #[test]
    fn resolves_own_and_other_nodes_and_refuses_what_it_does_not_know() {
        let book = book();
        assert_eq!(book.render_text(Some("b"), "{port} {address:a} {peers} {verbosity}").unwrap(), "7001 127.0.0.1:7000 127.0.0.1:7000 1");
        assert_eq!(book.render_text(None, "{port} {peers}").unwrap(), "7000 127.0.0.1:7000,127.0.0.1:7001");
        assert!(matches!(book.render_text(None, "{port:c}"), Err(ResolveError::UnknownNode { .. })));
        assert!(matches!(book.render_text(None, "{password}"), Err(ResolveError::Unavailable { .. })));
        assert!(matches!(book.render_text(None, "{prot}"), Err(ResolveError::Syntax(_))));
        assert!(matches!(AddressBook::default().render_text(None, "{port}"), Err(ResolveError::NoNode { .. })));
        assert_eq!(AddressBook::default().render_text(None, "plain {{x}}").unwrap(), "plain {x}");
    }

    #[test]
    fn named_ports_resolve_for_the_node_and_others() {
        let book = book();
        assert_eq!(book.render_text(Some("a"), "{port.peer} {address.client:b} {port}").unwrap(), "7100 127.0.0.1:7001 7000");
        // Behind a proxy (b), a node binds its listen ports; everyone names the proxy's.
        assert_eq!(book.render_text(Some("b"), "{listen_port} {listen_address.peer} {port.peer}").unwrap(), "8001 127.0.0.1:8101 7101");
        assert_eq!(book.render_text(Some("a"), "{listen_port.peer} {address.peer:b}").unwrap(), "7100 127.0.0.1:7101");
        assert!(matches!(book.render_text(Some("a"), "{listen_port:b}"), Err(ResolveError::Syntax(_))));
        let error = book.render_text(Some("a"), "{port.admin:b}").unwrap_err();
        assert_eq!(error.to_string(), "placeholder {port.admin:b}: node \"b\" has no port named \"admin\" (its ports: client, peer)");
    }
}
