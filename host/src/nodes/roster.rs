//! The nodes of one test, shared by the runner (boot, teardown, the check for nodes that
//! died) and the sandbox (packages observe, drive and add nodes). A package adds a node
//! from a template of tests.toml through a [`NodeFactory`] the runner provides; the
//! roster makes sure names stay unique, and whoever tears the test down sees every node.

use std::sync::{Arc, RwLock};

use super::{Node, NodeSpec};

/// A package's request for a new node (`control.add-node`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddNode {
    /// The template node of tests.toml (`template = true`).
    pub template: String,
    /// The new node's name, unique in the test.
    pub name: String,
    /// Appended to the template's arguments; placeholders are filled as for any node.
    pub extra_args: Vec<String>,
    /// Set on top of the template's environment; values are templates too.
    pub env: Vec<(String, String)>,
}

/// Makes node specs from the test's templates: ports picked, home made, placeholders
/// filled against the nodes that exist (`existing`) and the new one.
pub trait NodeFactory: Send + Sync {
    /// The spec of the node `request` asks for; the error is the package's to read.
    fn create(&self, request: &AddNode, existing: &[Arc<Node>]) -> Result<NodeSpec, String>;
}

/// The test's nodes, in order: those of tests.toml, then those packages added.
#[derive(Clone, Default)]
pub struct Roster {
    nodes: Arc<RwLock<Vec<Arc<Node>>>>,
    factory: Option<Arc<dyn NodeFactory>>,
}

impl Roster {
    /// An empty roster whose templates `factory` instantiates (`None`: nodes cannot be added).
    pub fn new(factory: Option<Arc<dyn NodeFactory>>) -> Roster {
        Roster { nodes: Arc::default(), factory }
    }

    /// The nodes now, in order.
    pub fn snapshot(&self) -> Vec<Arc<Node>> {
        self.nodes.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The node called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Node>> {
        self.nodes.read().unwrap_or_else(|poisoned| poisoned.into_inner()).iter().find(|n| n.spec.name == name).cloned()
    }

    /// Add a node the runner made.
    pub fn push(&self, node: Arc<Node>) {
        self.nodes.write().unwrap_or_else(|poisoned| poisoned.into_inner()).push(node);
    }

    /// Create (not start) a node from a template; it joins the roster, so it is seen by
    /// every later call and stopped at the test's end.
    pub fn add(&self, request: &AddNode) -> Result<Arc<Node>, String> {
        let factory = self.factory.as_ref().ok_or("nodes cannot be added here")?;
        let mut nodes = self.nodes.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if nodes.iter().any(|n| n.spec.name == request.name) {
            return Err(format!("this test already has a node named {:?}", request.name));
        }
        let spec = factory.create(request, &nodes)?;
        let node = Arc::new(Node::new(spec).map_err(|e| format!("{e:#}"))?);
        nodes.push(node.clone());
        Ok(node)
    }
}
