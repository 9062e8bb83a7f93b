//! Turning a test's node plans into running, ready nodes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::prepare::Prepared;
use crate::config::{AddressBook, NodeAddress, NodePlan, Plan, Readiness, TestPlan};
use crate::events::{Event, EventBus};
use crate::nodes::{Node, NodeSpec, free_port};
use crate::sandbox::NodeInfo;

/// The address every node listens on.
pub const NODE_HOST: &str = "127.0.0.1";

/// Concrete values of one node, before its arguments are rendered.
struct Placed<'a> {
    plan: &'a NodePlan,
    port: u16,
    home: PathBuf,
    event_pipe: PathBuf,
}

/// Specs for every node of `test`: ports picked, homes chosen, placeholders filled.
pub fn specs(plan: &Plan, test: &TestPlan, prepared: &Prepared, scratch: &Path) -> Result<Vec<NodeSpec>> {
    let mut placed = Vec::new();
    for node in &test.nodes {
        let dir = scratch.join(&node.name);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let port = match node.port {
            Some(port) => port,
            None => free_port(NODE_HOST).context("cannot find a free port")?,
        };
        let home = match &node.home {
            Some(home) => prepare_home(home, &node.name, plan.persist_home)?,
            None => dir.join("home"),
        };
        placed.push(Placed { plan: node, port, home, event_pipe: dir.join("events.fifo") });
    }
    // One resolver for arguments, environment and readiness commands alike.
    let book = AddressBook::new(
        placed
            .iter()
            .map(|p| NodeAddress {
                name: p.plan.name.clone(),
                host: NODE_HOST.to_string(),
                port: p.port,
                home: p.home.clone(),
                event_pipe: p.event_pipe.clone(),
                verbosity: Some(p.plan.verbosity),
                password: Some(p.plan.password.clone()),
            })
            .collect(),
    );
    placed
        .iter()
        .map(|node| {
            let this = Some(node.plan.name.as_str());
            let fill = |text: &str| book.render_text(this, text).with_context(|| format!("node {}", node.plan.name));
            Ok(NodeSpec {
                name: node.plan.name.clone(),
                program: prepared.runtime(&node.plan.runtime.program).clone(),
                args: node.plan.args.iter().map(|arg| book.render(this, arg)).collect::<Result<_, _>>()?,
                env: node.plan.env.iter().map(|(k, v)| Ok((k.clone(), fill(v)?))).collect::<Result<_>>()?,
                cwd: plan.base_dir.clone(),
                host: NODE_HOST.to_string(),
                port: node.port,
                home: node.home.clone(),
                event_pipe: node.event_pipe.clone(),
                log_file: node.event_pipe.with_file_name("output.log"),
                ready: match &node.plan.ready {
                    Readiness::Command(args) => Readiness::Command(args.iter().map(|arg| fill(arg)).collect::<Result<_>>()?),
                    other => other.clone(),
                },
                boot_timeout: node.plan.boot_timeout,
                stop_timeout: node.plan.runtime.stop_timeout,
            })
        })
        .collect()
}

/// A configured `home`: a fresh one for every run, as kit does, unless `persist_home`.
/// The host clears and removes only a home it made (see [`scratch`](super::scratch)); an
/// existing directory it did not make is never deleted: it is used as it is with
/// `persist_home`, and refused without.
fn prepare_home(home: &Path, node: &str, persist: bool) -> Result<PathBuf> {
    use super::scratch;
    let exists = std::fs::symlink_metadata(home).is_ok();
    if exists && !home.is_dir() {
        anyhow::bail!("node {node}: home {} exists and is not a directory", home.display());
    }
    if exists && persist {
        return Ok(home.to_path_buf());
    }
    if exists {
        if !scratch::is_host_made(home) {
            anyhow::bail!(
                "node {node}: home {} already exists and was not made by host, which never deletes what it did not create; \
                 remove it yourself, choose another path, or set persist_home = true to reuse it as it is",
                home.display()
            );
        }
        // A home a previous run made and could not remove (it was killed): fresh again.
        scratch::remove_if_host_made(home).with_context(|| format!("cannot clear home {}", home.display()))?;
    }
    scratch::make_dir(home).with_context(|| format!("cannot create home {} of node {node}", home.display()))?;
    Ok(home.to_path_buf())
}

/// Start every node at once, then wait for each to be ready (so boot time is the
/// slowest node's, not the sum). On error the nodes started so far are returned too,
/// for teardown.
pub async fn start_all(test: &str, specs: Vec<NodeSpec>, bus: &EventBus) -> (Vec<Arc<Node>>, Result<()>) {
    let mut nodes = Vec::new();
    for spec in specs {
        let node = match Node::new(spec) {
            Ok(node) => Arc::new(node),
            Err(e) => return (nodes, Err(e)),
        };
        match node.start() {
            Ok(pid) => bus.emit(Event::NodeStarted {
                test: test.to_string(),
                node: node.spec.name.clone(),
                pid,
                address: node.spec.address(),
            }),
            Err(e) => {
                nodes.push(node);
                return (nodes, Err(e));
            }
        }
        nodes.push(node);
    }
    for node in &nodes {
        match node.wait_ready().await {
            Ok(ready) => bus.emit(Event::NodeReady {
                test: test.to_string(),
                node: node.spec.name.clone(),
                after: ready.after,
                signalled_at: ready.signalled_at,
            }),
            Err(e) => return (nodes, Err(e)),
        }
    }
    (nodes, Ok(()))
}

/// The running nodes as one [`AddressBook`], for what is resolved once they are up:
/// script arguments and the sandbox's view (and network allow-list) of the nodes.
/// `{verbosity}` and `{password}` have no value there.
pub fn address_book(nodes: &[Arc<Node>]) -> AddressBook {
    AddressBook::new(
        nodes
            .iter()
            .map(|node| NodeAddress {
                name: node.spec.name.clone(),
                host: node.spec.host.clone(),
                port: node.spec.port,
                home: node.spec.home.clone(),
                event_pipe: node.spec.event_pipe.clone(),
                verbosity: None,
                password: None,
            })
            .collect(),
    )
}

/// What the sandbox may tell a package about the nodes; the sandbox lets packages
/// connect to exactly these addresses.
pub fn node_infos(nodes: &[Arc<Node>]) -> Vec<NodeInfo> {
    address_book(nodes)
        .nodes()
        .iter()
        .map(|node| NodeInfo {
            name: node.name.clone(),
            host: node.host.clone(),
            port: node.port,
            address: node.address(),
            home: node.home.display().to_string(),
        })
        .collect()
}
