//! Turning a test's node plans into running, ready nodes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::prepare::Prepared;
use crate::config::{AddressBook, NodeAddress, NodePlan, Plan, Readiness, TestPlan};
use crate::events::{Event, EventBus};
use crate::netfault::Network;
use crate::nodes::{AddNode, Node, NodeFactory, NodeSpec, Roster, free_ports};

/// The address every node listens on.
pub const NODE_HOST: &str = "127.0.0.1";

/// Concrete values of one node, before its arguments are rendered.
struct Placed<'a> {
    plan: &'a NodePlan,
    name: String,
    port: u16,
    ports: Vec<(String, u16)>,
    /// Where the node binds, when a proxy is in front of it (`port` and `ports` are then
    /// the proxy's).
    listen: Vec<u16>,
    home: PathBuf,
    event_pipe: PathBuf,
    /// The node's directory on this machine (its log, the runner's host keys).
    dir: PathBuf,
    /// `{host}`: this machine's loopback, or the runner's address.
    host: String,
}

impl Placed<'_> {
    fn address(&self) -> NodeAddress {
        NodeAddress {
            name: self.name.clone(),
            host: self.host.clone(),
            port: self.port,
            ports: self.ports.clone(),
            listen: self.listen.clone(),
            home: self.home.clone(),
            event_pipe: self.event_pipe.clone(),
            verbosity: Some(self.plan.verbosity),
            password: Some(self.plan.password.clone()),
        }
    }
}

/// A node to boot, and the nodes that must be ready first.
pub struct Boot {
    pub spec: NodeSpec,
    pub after: Vec<String>,
}

/// Pick ports and a home for `node` under the name `name`; with a `network`, a proxy in
/// front of each port, whose port everyone else is given.
fn place<'a>(node: &'a NodePlan, name: &str, scratch: &Path, persist_home: bool, network: Option<&Network>) -> Result<Placed<'a>> {
    let dir = scratch.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let wanted = node.ports.len().max(1);
    let mut numbers = free_ports(NODE_HOST, wanted).context("cannot find free ports")?;
    if let Some(fixed) = node.port {
        numbers[0] = fixed;
    }
    let mut listen = Vec::new();
    if let Some(network) = network {
        listen = numbers.clone();
        for number in &mut numbers {
            *number = network.expose(name, NODE_HOST, *number).with_context(|| format!("node {name}: cannot start the proxy in front of port {number}"))?;
        }
    }
    let ports: Vec<(String, u16)> = node.ports.iter().cloned().zip(numbers.iter().copied()).collect();
    let (host, home, event_pipe) = match &node.runner {
        // On a runner: a directory of its own under the runner's work_dir, which the
        // `Remote` supervisor makes there (and removes at the end).
        Some(runner) => {
            let remote = PathBuf::from(&runner.work_dir).join(remote_dir_name(name));
            (runner.address.clone(), remote.join("home"), remote.join("events.fifo"))
        }
        None => {
            let home = match &node.home {
                Some(home) => prepare_home(home, name, persist_home)?,
                None => dir.join("home"),
            };
            (NODE_HOST.to_string(), home, dir.join("events.fifo"))
        }
    };
    Ok(Placed { plan: node, name: name.to_string(), port: numbers[0], ports, listen, home, event_pipe, dir, host })
}

/// A name for a node's directory on a runner that no other run or node uses:
/// `host-PID-NANOS-N-NAME`.
fn remote_dir_name(node: &str) -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("host-{}-{nanos}-{count}-{node}", std::process::id())
}

/// The spec of `node`, its placeholders filled from `book` (which holds it too).
fn spec(node: &Placed<'_>, book: &AddressBook, program: &Path, base_dir: &Path, extra: (&[String], &[(String, String)])) -> Result<NodeSpec> {
    let this = Some(node.name.as_str());
    let fill = |text: &str| book.render_text(this, text).with_context(|| format!("node {}", node.name));
    let mut args: Vec<String> = node.plan.args.iter().map(|arg| book.render(this, arg)).collect::<Result<_, _>>()?;
    for arg in extra.0 {
        args.push(fill(arg)?);
    }
    let mut env: BTreeMap<String, String> = node.plan.env.iter().map(|(k, v)| Ok((k.clone(), fill(v)?))).collect::<Result<_>>()?;
    for (key, value) in extra.1 {
        env.insert(key.clone(), fill(value)?);
    }
    // A `Command` runtime is looked up on the runner's PATH, not this machine's.
    let program = match (&node.plan.runner, &node.plan.runtime.program) {
        (Some(_), crate::config::Program::Command(name)) => PathBuf::from(name),
        _ => program.to_path_buf(),
    };
    Ok(NodeSpec {
        name: node.name.clone(),
        program,
        args,
        env,
        cwd: base_dir.to_path_buf(),
        host: node.host.clone(),
        port: node.port,
        ports: node.ports.clone(),
        listen: node.listen.clone(),
        home: node.home.clone(),
        event_pipe: node.event_pipe.clone(),
        log_file: node.dir.join("output.log"),
        ready: match &node.plan.ready {
            Readiness::Command(args) => Readiness::Command(args.iter().map(|arg| fill(arg)).collect::<Result<_>>()?),
            other => other.clone(),
        },
        boot_timeout: node.plan.boot_timeout,
        stop_timeout: node.plan.runtime.stop_timeout,
        log_events: node.plan.log_events.clone(),
        may_exit: node.plan.may_exit,
        runner: node.plan.runner.clone(),
    })
}

/// Specs for every node of `test` that boots with it (not templates): ports picked,
/// homes chosen, placeholders filled, each with the nodes it boots after.
pub fn specs(plan: &Plan, test: &TestPlan, prepared: &Prepared, scratch: &Path, network: Option<&Network>) -> Result<Vec<Boot>> {
    let placed: Vec<Placed<'_>> = test
        .nodes
        .iter()
        .filter(|node| !node.template)
        .map(|node| place(node, &node.name, scratch, plan.persist_home, network))
        .collect::<Result<_>>()?;
    // One resolver for arguments, environment and readiness commands alike.
    let book = AddressBook::new(placed.iter().map(Placed::address).collect());
    placed
        .iter()
        .map(|node| {
            let program = prepared.runtime(&node.plan.runtime.program);
            Ok(Boot { spec: spec(node, &book, program, &plan.base_dir, (&[], &[]))?, after: node.plan.after.clone() })
        })
        .collect()
}

/// The test's templates, for packages that add nodes mid-test (`control.add-node`).
pub struct Templates {
    templates: Vec<(NodePlan, PathBuf)>,
    scratch: PathBuf,
    base_dir: PathBuf,
    network: Option<Arc<Network>>,
}

impl Templates {
    /// The templates of `test`, or `None` when it has none.
    pub fn of(plan: &Plan, test: &TestPlan, prepared: &Prepared, scratch: &Path, network: Option<Arc<Network>>) -> Option<Templates> {
        let templates: Vec<(NodePlan, PathBuf)> = test
            .nodes
            .iter()
            .filter(|node| node.template)
            .map(|node| (node.clone(), prepared.runtime(&node.runtime.program).clone()))
            .collect();
        (!templates.is_empty()).then(|| Templates { templates, scratch: scratch.to_path_buf(), base_dir: plan.base_dir.clone(), network })
    }
}

impl NodeFactory for Templates {
    fn create(&self, request: &AddNode, existing: &[Arc<Node>]) -> std::result::Result<NodeSpec, String> {
        let Some((template, program)) = self.templates.iter().find(|(t, _)| t.name == request.template) else {
            let names: Vec<&str> = self.templates.iter().map(|(t, _)| t.name.as_str()).collect();
            return Err(format!("no template named {:?} in this test (templates: {})", request.template, names.join(", ")));
        };
        if let Some(problem) = crate::config::node_name_problem(&request.name) {
            return Err(format!("node name {:?}: {problem}", request.name));
        }
        if let Some((key, problem)) = request.env.iter().find_map(|(k, v)| crate::config::env_problem(k, v).map(|p| (k, p))) {
            return Err(format!("env {key:?}: {problem}"));
        }
        let placed = place(template, &request.name, &self.scratch, false, self.network.as_deref()).map_err(|e| format!("{e:#}"))?;
        let mut book = address_book(existing);
        book.push(placed.address());
        spec(&placed, &book, program, &self.base_dir, (&request.extra_args, &request.env)).map_err(|e| format!("{e:#}"))
    }
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

/// Boot the nodes: every node whose `after` nodes are ready starts at once, then the
/// host waits for each to be ready (so boot time is the slowest node's per wave, not the
/// sum); then the next wave. Each node joins `roster` as it starts, for teardown.
pub async fn start_all(test: &str, boots: Vec<Boot>, roster: &Roster, bus: &EventBus) -> Result<()> {
    let mut pending = boots;
    let mut ready: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let (wave, rest): (Vec<Boot>, Vec<Boot>) =
            pending.into_iter().partition(|boot| boot.after.iter().all(|name| ready.contains(name)));
        pending = rest;
        if wave.is_empty() {
            let names: Vec<&str> = pending.iter().map(|b| b.spec.name.as_str()).collect();
            anyhow::bail!("nodes {} wait for each other (`after`): none can boot", names.join(", "));
        }
        let mut started = Vec::new();
        for boot in wave {
            let node = Arc::new(Node::new(boot.spec)?);
            roster.push(node.clone());
            let pid = node.start()?;
            bus.emit(Event::NodeStarted { test: test.to_string(), node: node.spec.name.clone(), pid, address: node.spec.address() });
            started.push(node);
        }
        for node in started {
            let ready_at = node.wait_ready().await?;
            bus.emit(Event::NodeReady {
                test: test.to_string(),
                node: node.spec.name.clone(),
                after: ready_at.after,
                signalled_at: ready_at.signalled_at,
            });
            ready.push(node.spec.name.clone());
        }
    }
    Ok(())
}

/// The running nodes as one [`AddressBook`], for what is resolved once they are up:
/// script arguments and nodes added from templates. `{verbosity}` and `{password}` have
/// no value there.
pub fn address_book(nodes: &[Arc<Node>]) -> AddressBook {
    AddressBook::new(
        nodes
            .iter()
            .map(|node| NodeAddress {
                name: node.spec.name.clone(),
                host: node.spec.host.clone(),
                port: node.spec.port,
                ports: node.spec.ports.clone(),
                listen: node.spec.listen.clone(),
                home: node.spec.home.clone(),
                event_pipe: node.spec.event_pipe.clone(),
                verbosity: None,
                password: None,
            })
            .collect(),
    )
}
