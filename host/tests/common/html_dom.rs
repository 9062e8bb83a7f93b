//! The HTML report read as a browser reads it: parsed by html5ever (the HTML parser of
//! the Servo engine, per the WHATWG specification) into a tree, queried with simple CSS
//! selectors, so tests assert on elements, attributes and text rather than on strings.
//!
//! Shared by the integration tests (`common::html_dom`) and the reporter's unit tests
//! (included by path). Not `scraper`: its `selectors` dependency changes the features of
//! `syn`, `semver` and `stable_deref_trait` under `cargo test`, so wasmtime would be built
//! twice (once for `cargo build`, once for `cargo test`).
#![allow(dead_code)]

use std::rc::Rc;

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// A parsed page: its tree and what the parser found wrong.
pub struct Page {
    dom: RcDom,
}

impl Page {
    /// Parse `html` as a browser would (never fails: HTML parsing recovers from anything).
    pub fn parse(html: &str) -> Page {
        let dom = html5ever::parse_document(RcDom::default(), Default::default()).one(html);
        Page { dom }
    }

    /// The parse errors html5ever reported (a well-formed page has none).
    pub fn errors(&self) -> Vec<String> {
        self.dom.errors.borrow().iter().map(|e| e.to_string()).collect()
    }

    /// The document node.
    pub fn root(&self) -> Element {
        Element(self.dom.document.clone())
    }

    /// Every element matching `selector` (see [`Element::select`]).
    pub fn select(&self, selector: &str) -> Vec<Element> {
        self.root().select(selector)
    }

    /// The one element matching `selector`; panics (failing the test) if there is not
    /// exactly one.
    pub fn one(&self, selector: &str) -> Element {
        self.root().one(selector)
    }
}

/// A node of the tree (an element, or the document).
#[derive(Clone)]
pub struct Element(Handle);

/// One compound selector: `tag`, `.class`, `#id`, `[attr]`, `[attr=value]`, combined.
#[derive(Default, Debug)]
struct Compound {
    tag: Option<String>,
    id: Option<String>,
    classes: Vec<String>,
    attrs: Vec<(String, Option<String>)>,
}

impl Compound {
    fn parse(text: &str) -> Compound {
        let mut compound = Compound::default();
        let mut rest = text;
        let take = |rest: &mut &str| {
            let end = rest.find(['.', '#', '[']).unwrap_or(rest.len());
            let (word, tail) = rest.split_at(end);
            *rest = tail;
            word.to_string()
        };
        let tag = take(&mut rest);
        if !tag.is_empty() && tag != "*" {
            compound.tag = Some(tag);
        }
        while let Some(c) = rest.chars().next() {
            rest = &rest[1..];
            match c {
                '.' => compound.classes.push(take(&mut rest)),
                '#' => compound.id = Some(take(&mut rest)),
                _ => {
                    let end = rest.find(']').unwrap_or_else(|| panic!("unclosed [ in selector {text:?}"));
                    let inner = &rest[..end];
                    rest = &rest[end + 1..];
                    let (name, value) = match inner.split_once('=') {
                        Some((name, value)) => (name, Some(value.trim_matches('"').to_string())),
                        None => (inner, None),
                    };
                    compound.attrs.push((name.to_string(), value));
                }
            }
        }
        compound
    }

    fn matches(&self, element: &Element) -> bool {
        let Some(name) = element.name() else { return false };
        self.tag.as_ref().is_none_or(|tag| tag.eq_ignore_ascii_case(&name))
            && self.id.as_ref().is_none_or(|id| element.attr("id").as_ref() == Some(id))
            && self.classes.iter().all(|class| element.has_class(class))
            && self.attrs.iter().all(|(name, value)| match (element.attr(name), value) {
                (Some(found), Some(value)) => &found == value,
                (found, None) => found.is_some(),
                (None, Some(_)) => false,
            })
    }
}

impl Element {
    /// The element's local name (`div`, `clipPath`), or `None` for other nodes.
    pub fn name(&self) -> Option<String> {
        match &self.0.data {
            NodeData::Element { name, .. } => Some(name.local.to_string()),
            _ => None,
        }
    }

    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<String> {
        match &self.0.data {
            NodeData::Element { attrs, .. } => {
                attrs.borrow().iter().find(|a| &*a.name.local == name).map(|a| a.value.to_string())
            }
            _ => None,
        }
    }

    /// Whether the element's `class` attribute lists `class`.
    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class").is_some_and(|classes| classes.split_ascii_whitespace().any(|c| c == class))
    }

    /// All the text inside, as a browser's `textContent`.
    pub fn text(&self) -> String {
        let mut text = String::new();
        collect_text(&self.0, &mut text);
        text
    }

    /// The element children, in order.
    pub fn children(&self) -> Vec<Element> {
        self.0.children.borrow().iter().map(|c| Element(c.clone())).filter(|e| e.name().is_some()).collect()
    }

    /// Every element below this one, in document order.
    pub fn descendants(&self) -> Vec<Element> {
        let mut found = Vec::new();
        for child in self.0.children.borrow().iter() {
            let child = Element(child.clone());
            if child.name().is_some() {
                found.push(child.clone());
            }
            found.extend(child.descendants());
        }
        found
    }

    /// Every element below this one matching `selector`: compound selectors (`tag`,
    /// `.class`, `#id`, `[attr]`, `[attr=value]`) joined by spaces (descendant
    /// combinator), in document order.
    pub fn select(&self, selector: &str) -> Vec<Element> {
        let mut scopes = vec![self.clone()];
        for part in selector.split_whitespace() {
            let compound = Compound::parse(part);
            let mut next: Vec<Element> = Vec::new();
            for scope in &scopes {
                for element in scope.descendants() {
                    if compound.matches(&element) && !next.iter().any(|e| Rc::ptr_eq(&e.0, &element.0)) {
                        next.push(element);
                    }
                }
            }
            scopes = next;
        }
        scopes
    }

    /// The one element below matching `selector`; panics (failing the test) otherwise.
    pub fn one(&self, selector: &str) -> Element {
        let mut found = self.select(selector);
        assert_eq!(found.len(), 1, "{selector:?} matches {} elements, not one", found.len());
        found.remove(0)
    }

    /// Whether `other` is this very node (not an equal one).
    pub fn is(&self, other: &Element) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Whether `other` is this element or inside it.
    pub fn contains(&self, other: &Element) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || self.descendants().iter().any(|e| Rc::ptr_eq(&e.0, &other.0))
    }
}

fn collect_text(node: &Handle, text: &mut String) {
    if let NodeData::Text { contents } = &node.data {
        text.push_str(&contents.borrow());
    }
    for child in node.children.borrow().iter() {
        collect_text(child, text);
    }
}
