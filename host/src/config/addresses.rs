//! The one placeholder resolver: an [`AddressBook`] knows every node of a test (its
//! name, address, home…) and fills templates for node arguments, node environment,
//! readiness commands and scripts alike. Validation uses the same key table
//! ([`Key`]), so a placeholder that passes `host check` always resolves here.
//!
//! Named ports (`{port.peer}`) and per-link fault addresses are meant to plug in here:
//! a new [`Key`] and a new field of [`NodeAddress`], resolved in [`AddressBook::value`].

use std::path::PathBuf;

use super::template::{Key, Template};

/// One node's concrete values, known once its port and home are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    pub name: String,
    /// The IP address the node listens on.
    pub host: String,
    pub port: u16,
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
    pub fn value(&self, this: Option<&str>, key: Key, other: Option<&str>) -> Result<String, ResolveError> {
        let word = || key.word().to_string();
        let own = match this {
            Some(name) => self.node(name).ok_or_else(|| ResolveError::UnknownNode { key: word(), node: name.to_string() })?,
            None => self.nodes.first().ok_or_else(|| ResolveError::NoNode { key: word() })?,
        };
        let target = match other {
            Some(name) => self.node(name).ok_or_else(|| ResolveError::UnknownNode { key: word(), node: name.to_string() })?,
            None => own,
        };
        let unavailable = || ResolveError::Unavailable { key: word() };
        Ok(match key {
            Key::Name => target.name.clone(),
            Key::Host => target.host.clone(),
            Key::Port => target.port.to_string(),
            Key::Address => target.address(),
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
        template.try_render(|key, other| self.value(this, key, other))
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
}
