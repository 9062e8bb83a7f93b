//! Argument templates: `--port {port}`, `--replicaof {host:primary} {port:primary}`.
//!
//! A placeholder is `{KEY}` for the node being started or `{KEY:NODE}` for another node
//! of the same test. `{{` and `}}` stand for literal braces.

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
}

impl Key {
    const ALL: [(&'static str, Key); 9] = [
        ("name", Key::Name),
        ("host", Key::Host),
        ("port", Key::Port),
        ("address", Key::Address),
        ("home", Key::Home),
        ("event_pipe", Key::EventPipe),
        ("peers", Key::Peers),
        ("verbosity", Key::Verbosity),
        ("password", Key::Password),
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder { key: Key, node: Option<String> },
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
                    let key = Key::parse(word).ok_or_else(|| {
                        let known: Vec<_> = Key::ALL.iter().map(|(name, _)| *name).collect();
                        format!("unknown placeholder {{{inner}}} (known: {})", known.join(", "))
                    })?;
                    if node.is_some() && !key.per_node() {
                        return Err(format!("placeholder {{{inner}}}: `{word}` cannot name another node"));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder { key, node });
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
        self.parts.iter().any(|part| matches!(part, Part::Placeholder { key: k, node: None } if *k == key))
    }

    /// Names of other nodes the template refers to.
    pub fn referenced_nodes(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Placeholder { node: Some(node), .. } => Some(node.as_str()),
            _ => None,
        })
    }

    /// Every placeholder: its key and the other node it names, if any.
    pub fn placeholders(&self) -> impl Iterator<Item = (Key, Option<&str>)> {
        self.parts.iter().filter_map(|part| match part {
            Part::Placeholder { key, node } => Some((*key, node.as_deref())),
            Part::Literal(_) => None,
        })
    }

    /// Fill the placeholders, stopping at the first that `value` cannot answer.
    pub fn try_render<E>(&self, value: impl Fn(Key, Option<&str>) -> Result<String, E>) -> Result<String, E> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(literal) => text.push_str(literal),
                Part::Placeholder { key, node } => text.push_str(&value(*key, node.as_deref())?),
            }
        }
        Ok(text)
    }

    /// Fill the placeholders; `value(key, node)` answers for this node (`None`) or another.
    pub fn render(&self, value: impl Fn(Key, Option<&str>) -> String) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.clone(),
                Part::Placeholder { key, node } => value(*key, node.as_deref()),
            })
            .collect()
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => write!(f, "{}", text.replace('{', "{{").replace('}', "}}"))?,
                Part::Placeholder { key, node } => {
                    let word = key.word();
                    match node {
                        Some(node) => write!(f, "{{{word}:{node}}}")?,
                        None => write!(f, "{{{word}}}")?,
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
        let text = template.render(|key, node| match (key, node) {
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
        assert_eq!(template.render(|_, _| "/h".into()), "{literal} /h");
        assert_eq!(template.to_string(), "{{literal}} {home}");
    }

    #[test]
    fn unknown_placeholders_are_named() {
        let error = Template::parse("--x {prot}").unwrap_err();
        assert!(error.contains("unknown placeholder {prot}"), "{error}");
        let error = Template::parse("{peers:a}").unwrap_err();
        assert!(error.contains("cannot name another node"), "{error}");
        assert!(Template::parse("a } b").is_err());
    }
}
