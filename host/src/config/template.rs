//! Argument templates: `--port {port}`, `--replicaof {host:primary} {port:primary}`.
//!
//! A placeholder is `{KEY}` for the node being started or `{KEY:NODE}` for another node
//! of the same test. `{port}` and `{address}` may name one of a node's ports
//! (`ports = ["client", "peer"]`): `{port.peer}`, `{address.client:e1}`. `{{` and `}}`
//! stand for literal braces.

use std::fmt;

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The node's name.
    Name,
    /// The IP address the node listens on.
    Host,
    /// The node's TCP port.
    Port,
    /// `host:port`.
    Address,
    /// The node's home directory.
    Home,
    /// Path of the event pipe the host reads.
    EventPipe,
    /// Comma-separated addresses of the test's other nodes.
    Peers,
    /// `runtime_verbosity`.
    Verbosity,
    /// `password` (default `secret`, as in kit).
    Password,
    /// The port the node itself binds: its `{port}` unless the test has
    /// `network_faults`, where `{port}` is the host's proxy in front of it.
    ListenPort,
    /// `host:listen_port`.
    ListenAddress,
}

impl Key {
    const ALL: [(&'static str, Key); 11] = [
        ("name", Key::Name),
        ("host", Key::Host),
        ("port", Key::Port),
        ("address", Key::Address),
        ("home", Key::Home),
        ("event_pipe", Key::EventPipe),
        ("peers", Key::Peers),
        ("verbosity", Key::Verbosity),
        ("password", Key::Password),
        ("listen_port", Key::ListenPort),
        ("listen_address", Key::ListenAddress),
    ];

    /// The placeholder's word, as written in templates.
    pub fn word(self) -> &'static str {
        Key::ALL.iter().find(|(_, key)| *key == self).map_or("?", |(word, _)| *word)
    }

    fn parse(word: &str) -> Option<Key> {
        Key::ALL.iter().find(|(name, _)| *name == word).map(|(_, key)| *key)
    }

    /// Keys that may name another node (`{port:other}`).
    fn per_node(self) -> bool {
        matches!(self, Key::Name | Key::Host | Key::Port | Key::Address | Key::Home)
    }

    /// Keys that may name one of a node's ports (`{port.peer}`).
    fn per_port(self) -> bool {
        matches!(self, Key::Port | Key::Address | Key::ListenPort | Key::ListenAddress)
    }
}

/// One placeholder of a template: `{KEY[.PORT][:NODE]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder<'a> {
    pub key: Key,
    /// The named port (`{port.peer}`); `None`: the node's first port.
    pub port: Option<&'a str>,
    /// Another node of the test (`{port:e2}`); `None`: the node itself.
    pub node: Option<&'a str>,
}

impl Placeholder<'_> {
    /// The placeholder as written, without braces: `port.peer:e2`.
    pub fn text(&self) -> String {
        let mut text = self.key.word().to_string();
        if let Some(port) = self.port {
            text.push('.');
            text.push_str(port);
        }
        if let Some(node) = self.node {
            text.push(':');
            text.push_str(node);
        }
        text
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder { key: Key, port: Option<String>, node: Option<String> },
}

impl Part {
    fn placeholder(&self) -> Option<Placeholder<'_>> {
        match self {
            Part::Placeholder { key, port, node } => Some(Placeholder { key: *key, port: port.as_deref(), node: node.as_deref() }),
            Part::Literal(_) => None,
        }
    }
}

/// A parsed argument template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parse `text`; the error names the bad placeholder.
    pub fn parse(text: &str) -> Result<Template, String> {
        if text.contains('\0') {
            return Err(format!("{text:?} contains NUL, which no argument can carry"));
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err(format!("unclosed placeholder {{{inner} in {text:?} (write `{{{{` for a brace)"));
                    }
                    if inner.ends_with(':') {
                        return Err(format!("placeholder {{{inner}}}: empty node name"));
                    }
                    let (word, node) = match inner.split_once(':') {
                        Some((word, node)) => (word, Some(node.to_string())),
                        None => (inner.as_str(), None),
                    };
                    let (word, port) = match word.split_once('.') {
                        Some((word, port)) => (word, Some(port.to_string())),
                        None => (word, None),
                    };
                    let key = Key::parse(word).ok_or_else(|| {
                        let known: Vec<_> = Key::ALL.iter().map(|(name, _)| *name).collect();
                        format!("unknown placeholder {{{inner}}} (known: {}, and port.NAME, address.NAME, listen_port.NAME, listen_address.NAME)", known.join(", "))
                    })?;
                    if node.is_some() && !key.per_node() {
                        return Err(format!("placeholder {{{inner}}}: `{word}` cannot name another node"));
                    }
                    if let Some(port) = &port {
                        if !key.per_port() {
                            return Err(format!("placeholder {{{inner}}}: only `port`, `address`, `listen_port` and `listen_address` take a port name"));
                        }
                        if let Some(problem) = port_name_problem(port) {
                            return Err(format!("placeholder {{{inner}}}: {problem}"));
                        }
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder { key, port, node });
                }
                '}' => return Err(format!("unmatched `}}` in {text:?} (write `}}}}` for a brace)")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Whether the template uses `key` for the node itself.
    pub fn uses(&self, key: Key) -> bool {
        self.placeholders().any(|p| p.key == key && p.node.is_none())
    }

    /// Names of other nodes the template refers to.
    pub fn referenced_nodes(&self) -> impl Iterator<Item = &str> {
        self.placeholders().filter_map(|p| p.node)
    }

    /// Every placeholder, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder<'_>> {
        self.parts.iter().filter_map(Part::placeholder)
    }

    /// Fill the placeholders, stopping at the first that `value` cannot answer.
    pub fn try_render<E>(&self, value: impl Fn(Placeholder<'_>) -> Result<String, E>) -> Result<String, E> {
        let mut text = String::new();
        for part in &self.parts {
            match part.placeholder() {
                None => {
                    if let Part::Literal(literal) = part {
                        text.push_str(literal);
                    }
                }
                Some(placeholder) => text.push_str(&value(placeholder)?),
            }
        }
        Ok(text)
    }

    /// Fill the placeholders; `value` answers for this node (`node: None`) or another.
    pub fn render(&self, value: impl Fn(Placeholder<'_>) -> String) -> String {
        self.try_render(|placeholder| Ok::<_, std::convert::Infallible>(value(placeholder))).unwrap_or_else(|never| match never {})
    }
}

/// Why `name` cannot name a port, if it cannot: port names are short words of letters,
/// digits, `-` and `_`, starting with a letter (they appear in placeholders and SDK calls).
pub fn port_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !starts_with_letter || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || name.len() > 64 {
        return Some(format!("port name {name:?} must start with a letter and hold only letters, digits, '-' and '_' (64 at most)"));
    }
    None
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => write!(f, "{}", text.replace('{', "{{").replace('}', "}}"))?,
                Part::Placeholder { .. } => {
                    if let Some(placeholder) = part.placeholder() {
                        write!(f, "{{{}}}", placeholder.text())?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_own_and_other_nodes_values() {
        let template = Template::parse("--replicaof={host:primary}:{port:primary},me={port}").unwrap();
        let text = template.render(|p| match (p.key, p.node) {
            (Key::Host, Some("primary")) => "127.0.0.1".into(),
            (Key::Port, Some("primary")) => "7000".into(),
            (Key::Port, None) => "7001".into(),
            other => panic!("unexpected {other:?}"),
        });
        assert_eq!(text, "--replicaof=127.0.0.1:7000,me=7001");
        assert_eq!(template.referenced_nodes().collect::<Vec<_>>(), ["primary", "primary"]);
        assert!(template.uses(Key::Port));
        assert!(!template.uses(Key::Home));
    }

    #[test]
    fn braces_escape_and_round_trip() {
        let template = Template::parse("{{literal}} {home}").unwrap();
        assert_eq!(template.render(|_| "/h".into()), "{literal} /h");
        assert_eq!(template.to_string(), "{{literal}} {home}");
    }

    #[test]
    fn unknown_placeholders_are_named() {
        let error = Template::parse("--x {prot}").unwrap_err();
        assert!(error.contains("unknown placeholder {prot}"), "{error}");
        let error = Template::parse("{peers:a}").unwrap_err();
        assert!(error.contains("cannot name another node"), "{error}");
        assert!(Template::parse("a } b").is_err());
        let error = Template::parse("{home.peer}").unwrap_err();
        assert!(error.contains("only `port`, `address`, `listen_port` and `listen_address` take a port name"), "{error}");
        let error = Template::parse("{port.9x}").unwrap_err();
        assert!(error.contains("must start with a letter"), "{error}");
    }

    #[test]
    fn named_ports_parse_render_and_round_trip() {
        let template = Template::parse("--peer={address.peer:e2} --client={port.client}").unwrap();
        let seen: Vec<_> = template.placeholders().map(|p| p.text()).collect();
        assert_eq!(seen, ["address.peer:e2", "port.client"]);
        assert_eq!(template.to_string(), "--peer={address.peer:e2} --client={port.client}");
        let text = template.render(|p| format!("<{}>", p.text()));
        assert_eq!(text, "--peer=<address.peer:e2> --client=<port.client>");
    }
}
