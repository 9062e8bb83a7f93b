//! The node parts of tests.toml: `[[tests.nodes]]` entries, their names, ports, homes,
//! readiness, structured log events and boot order.

use std::path::PathBuf;
use std::sync::Arc;

use toml::Spanned;

use super::super::raw::{RawLogEvents, RawNode, RawReady};
use super::{Result, Validator, node_names};
use crate::config::checks;
use crate::config::disk::Expect;
use crate::config::template::{Key, Placeholder, Template, port_name_problem};
use crate::config::{LogEvents, NodePlan, Readiness, RuntimePlan};

impl Validator<'_> {
    /// The test's nodes; a node with an error is left out, its error recorded.
    pub(super) fn nodes(
        &self,
        raw_nodes: &[Spanned<RawNode>],
        runtime: Option<&Option<Arc<RuntimePlan>>>,
        test_span: std::ops::Range<usize>,
    ) -> Vec<NodePlan> {
        let names = node_names(raw_nodes);
        let runtime = match runtime {
            Some(Some(runtime)) => runtime,
            // The runtime is wrong: its error is recorded; the nodes cannot be checked further.
            Some(None) => return Vec::new(),
            None if raw_nodes.is_empty() => return Vec::new(),
            None => {
                self.report(self.error(
                    test_span,
                    "tests.nodes: nodes need a runtime: add `runtime = { RepoPath = \"…\" }` (or Path / Command) \
                     at the top of the file or in this test",
                ));
                return Vec::new();
            }
        };
        let templates: Vec<&str> = raw_nodes
            .iter()
            .zip(&names)
            .filter(|(raw, _)| raw.get_ref().template)
            .map(|(_, name)| name.as_str())
            .collect();
        let mut nodes = Vec::new();
        let mut spans = Vec::new();
        for (index, spanned) in raw_nodes.iter().enumerate() {
            // Implicit names (`node-N`) count: `fake_node_name = "node-2"` beside an unnamed
            // second node is a duplicate.
            if let Some(first) = names[..index].iter().position(|n| *n == names[index]) {
                let span = spanned.get_ref().fake_node_name.as_ref().map_or(spanned.span(), Spanned::span);
                let how = |i: usize| if raw_nodes[i].get_ref().fake_node_name.is_some() { "named" } else { "unnamed, so implicitly" };
                self.report(self.error(
                    span,
                    format!(
                        "tests.nodes: two nodes are named {:?} (node {} is {} {:?}, node {} is {} {:?})",
                        names[index], first + 1, how(first), names[first], index + 1, how(index), names[index]
                    ),
                ));
                continue;
            }
            if let Some(node) = self.keep(self.node(spanned, &names[index], &names, &templates, runtime, &nodes)) {
                nodes.push(node);
                spans.push(spanned.span());
            }
        }
        // Checks that need every node: named ports of other nodes, boot order.
        for (node, span) in nodes.iter().zip(&spans) {
            if let Some(problem) = templates_of(node).find_map(|(template, place)| {
                template.placeholders().find_map(|p| port_problem(p, Some(p.node.unwrap_or(&node.name)), &nodes)).map(|problem| format!("{place}: {problem}"))
            }) {
                self.report(self.error(span.clone(), format!("tests.nodes {:?}: {problem}", node.name)));
            }
        }
        if let Some(cycle) = boot_cycle(&nodes) {
            let at = nodes.iter().position(|n| n.name == cycle[0]).map_or(test_span, |i| spans[i].clone());
            self.report(self.error(at, format!("tests.nodes.after: the boot order has a cycle: {}", cycle.join(" → "))));
        }
        nodes
    }

    fn node(
        &self,
        spanned: &Spanned<RawNode>,
        name: &str,
        names: &[String],
        templates: &[&str],
        runtime: &Arc<RuntimePlan>,
        nodes: &[NodePlan],
    ) -> Result<NodePlan> {
        let raw = spanned.get_ref();
        if let Some(name_value) = &raw.fake_node_name
            && let Some(problem) = checks::node_name_problem(name)
        {
            return Err(self.error(name_value.span(), format!("tests.nodes.fake_node_name {name:?}: {problem}")));
        }
        if let Some(rpc) = &raw.rpc {
            return Err(self.error(rpc.span(), "tests.nodes.rpc cannot be honoured: host does not connect nodes to an Ethereum RPC; remove the key"));
        }
        let port = match &raw.port {
            None => None,
            Some(port) => match *port.get_ref() {
                0 => None,
                p @ 1..=65535 => Some(p as u16),
                p => return Err(self.error(port.span(), format!("tests.nodes.port: {p} is not a TCP port (1-65535, or 0 for a free one)"))),
            },
        };
        if let (Some(port), Some(other)) = (port, nodes.iter().find(|n| n.port == port)) {
            let span = raw.port.as_ref().map_or(spanned.span(), Spanned::span);
            return Err(self.error(span, format!("tests.nodes.port: {port} is also the port of node {:?}", other.name)));
        }
        if raw.template {
            if let Some(port) = &raw.port {
                return Err(self.error(port.span(), "tests.nodes.port: a template cannot fix a port: every node added from it would bind the same one"));
            }
            if let Some(home) = &raw.home {
                return Err(self.error(home.span(), "tests.nodes.home: a template cannot fix a home: every node added from it gets its own"));
            }
            if let Some(after) = raw.after.first() {
                return Err(self.error(after.span(), "tests.nodes.after: a template is started by a package (`add-node`, then `start`), not at boot; remove `after`"));
            }
        }
        let verbosity = match &raw.runtime_verbosity {
            None => 0,
            Some(v) if (0..=u32::MAX as i64).contains(v.get_ref()) => *v.get_ref() as u32,
            Some(v) => return Err(self.error(v.span(), "tests.nodes.runtime_verbosity: must be 0 or more")),
        };
        let ports = match &raw.ports {
            Some(ports) => self.ports(ports, "tests.nodes.ports")?,
            None => runtime.ports.clone(),
        };
        let mut args = match &raw.args {
            Some(args) => self.templates(args, "tests.nodes.args")?,
            None => runtime.args.clone(),
        };
        args.extend(self.templates(&raw.extra_args, "tests.nodes.extra_args")?);
        let ready = match (&raw.ready, &runtime.ready) {
            (Some(ready), _) => self.ready(ready, "tests.nodes.ready")?,
            (None, Some(ready)) => ready.clone(),
            (None, None) if args.iter().any(|a| a.uses(Key::EventPipe)) => Readiness::Event("ready".into()),
            (None, None) => Readiness::Port,
        };
        self.env(&raw.env, spanned.span(), "tests.nodes.env", true)?;
        let mut env = runtime.env.clone();
        env.extend(raw.env.clone());
        let mut after = Vec::new();
        for other in &raw.after {
            let other_name = other.get_ref();
            let problem = if other_name == name {
                Some("a node cannot wait for itself".to_string())
            } else if !names.iter().any(|n| n == other_name) {
                Some(format!("this test has no node {other_name:?} (nodes: {})", names.join(", ")))
            } else if templates.contains(&other_name.as_str()) {
                Some(format!("{other_name:?} is a template, which does not boot with the test"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(self.error(other.span(), format!("tests.nodes.after: {problem}")));
            }
            after.push(other_name.clone());
        }
        let log_events = match &raw.log_events {
            Some(raw) => Some(self.log_events(raw, "tests.nodes.log_events")?),
            None => runtime.log_events.clone(),
        };
        let runner = match &raw.runner {
            Some(name) => Some(self.runner_named(name, "tests.nodes.runner")?),
            None => runtime.runner.clone(),
        };
        let home = match (&raw.home, &runner) {
            (None, _) => None,
            (Some(home), Some(runner)) => {
                return Err(self.error(
                    home.span(),
                    format!("tests.nodes.home: a node on runner {:?} gets a fresh home under its work_dir on that machine; remove `home`", runner.name),
                ));
            }
            (Some(home), None) => Some(self.home(home)?),
        };
        let plan = NodePlan {
            name: name.to_string(),
            port,
            ports,
            after,
            template: raw.template,
            log_events,
            home,
            verbosity,
            password: raw.password.clone().unwrap_or_else(|| "secret".into()),
            runtime: Arc::clone(runtime),
            args,
            env,
            ready,
            boot_timeout: match &raw.boot_timeout_secs {
                Some(_) => self.seconds(raw.boot_timeout_secs.as_ref(), "tests.nodes.boot_timeout_secs", 0.0)?,
                None => runtime.boot_timeout,
            },
            may_exit: raw.may_exit,
            runner,
        };
        for (template, place) in templates_of(&plan) {
            for other in template.referenced_nodes() {
                let problem = if !names.iter().any(|n| n == other) {
                    format!("names node {other:?}, which this test does not have (nodes: {})", names.join(", "))
                } else if templates.contains(&other) && !raw.template {
                    format!("names node {other:?}, a template, which has no address until a package adds a node from it")
                } else {
                    continue;
                };
                return Err(self.error(spanned.span(), format!("tests.nodes: {template} (in {place}) {problem}")));
            }
        }
        Ok(plan)
    }

    /// A node's `home`: a directory of its own, never the suite's directory, the user's
    /// home or one of their ancestors (the host clears a home before each run), never a file.
    fn home(&self, home: &Spanned<String>) -> Result<PathBuf> {
        let resolved = self.resolve(home.get_ref());
        let user_home = std::env::var_os("HOME").map(PathBuf::from);
        if let Some(problem) = checks::home_problem(home.get_ref(), &resolved, &self.base_dir, user_home.as_deref()) {
            return Err(self.error(home.span(), format!("tests.nodes.home {:?}: {problem}", home.get_ref())));
        }
        self.expect(home.span(), &format!("tests.nodes.home {:?}", home.get_ref()), &resolved, Expect::Home);
        Ok(resolved)
    }

    /// `ports = ["client", "peer"]`: at least one, each a valid name, no two alike.
    pub(super) fn ports(&self, ports: &Spanned<Vec<Spanned<String>>>, key: &str) -> Result<Vec<String>> {
        if ports.get_ref().is_empty() {
            return Err(self.error(ports.span(), format!("{key}: give at least one port name, or leave `ports` out for one unnamed port")));
        }
        let mut names: Vec<String> = Vec::new();
        for port in ports.get_ref() {
            if let Some(problem) = port_name_problem(port.get_ref()) {
                return Err(self.error(port.span(), format!("{key}: {problem}")));
            }
            if names.contains(port.get_ref()) {
                return Err(self.error(port.span(), format!("{key}: port {:?} is listed twice", port.get_ref())));
            }
            names.push(port.get_ref().clone());
        }
        Ok(names)
    }

    /// `log_events = { key = "msg", names = [{ pattern = "…", name = "…" }] }`.
    pub(super) fn log_events(&self, spanned: &Spanned<RawLogEvents>, key: &str) -> Result<LogEvents> {
        let raw = spanned.get_ref();
        let name_key = raw.key.clone().unwrap_or_else(|| "msg".to_string());
        if name_key.is_empty() {
            return Err(self.error(spanned.span(), format!("{key}.key: must name a key of the log's JSON objects (msg, message, event…)")));
        }
        let mut names = Vec::new();
        for entry in &raw.names {
            let rename = entry.get_ref();
            if let Err(error) = regex::Regex::new(&rename.pattern) {
                return Err(self.error(entry.span(), format!("{key}.names.pattern {:?}: {}", rename.pattern, regex_problem(&error))));
            }
            if rename.name.trim().is_empty() {
                return Err(self.error(entry.span(), format!("{key}.names.name: must not be empty")));
            }
            names.push((rename.pattern.clone(), rename.name.clone()));
        }
        Ok(LogEvents { key: name_key, names })
    }

    pub(super) fn ready(&self, spanned: &Spanned<RawReady>, key: &str) -> Result<Readiness> {
        let raw = spanned.get_ref();
        let regex = |pattern: &String, stream: &str| {
            regex::Regex::new(pattern)
                .map(|_| pattern.clone())
                .map_err(|e| self.error(spanned.span(), format!("{key}.{stream} {pattern:?}: {}", regex_problem(&e))))
        };
        let choice = match (&raw.event, &raw.stdout, &raw.stderr, raw.port, &raw.command) {
            (Some(event), None, None, None, None) => Readiness::Event(event.clone()),
            (None, Some(pattern), None, None, None) => Readiness::Stdout(regex(pattern, "stdout")?),
            (None, None, Some(pattern), None, None) => Readiness::Stderr(regex(pattern, "stderr")?),
            (None, None, None, Some(true), None) => Readiness::Port,
            (None, None, None, None, Some(command)) if !command.is_empty() => {
                for arg in command {
                    Template::parse(arg).map_err(|e| self.error(spanned.span(), format!("{key}.command: {e}")))?;
                }
                Readiness::Command(command.clone())
            }
            _ => {
                return Err(self.error(
                    spanned.span(),
                    format!(
                        "{key}: give exactly one of event = \"NAME\", stdout = \"REGEX\", stderr = \"REGEX\", port = true, \
                         command = [\"PROGRAM\", …]"
                    ),
                ));
            }
        };
        Ok(choice)
    }
}

/// Every template of a node that is filled for it (arguments, environment values, the
/// readiness command), each with where it comes from.
fn templates_of(node: &NodePlan) -> impl Iterator<Item = (Template, &'static str)> + '_ {
    let ready_command = match &node.ready {
        Readiness::Command(command) => command.as_slice(),
        _ => &[],
    };
    node.args
        .iter()
        .map(|arg| (arg.clone(), "args"))
        .chain(node.env.values().filter_map(|value| Template::parse(value).ok()).map(|t| (t, "env")))
        .chain(ready_command.iter().filter_map(|arg| Template::parse(arg).ok()).map(|t| (t, "ready.command")))
}

/// Why `placeholder`, filled for node `target`, names a port that node does not declare.
pub(super) fn port_problem(placeholder: Placeholder<'_>, target: Option<&str>, nodes: &[NodePlan]) -> Option<String> {
    let port = placeholder.port?;
    let node = nodes.iter().find(|n| Some(n.name.as_str()) == target)?;
    if node.ports.iter().any(|p| p == port) {
        return None;
    }
    let known = if node.ports.is_empty() {
        "none: add ports = [\"…\"] to the node or its runtime".to_string()
    } else {
        node.ports.join(", ")
    };
    Some(format!("{{{}}}: node {:?} has no port named {port:?} (its ports: {known})", placeholder.text(), node.name))
}

/// A cycle in the nodes' `after` lists, as the names along it (first repeated last).
fn boot_cycle(nodes: &[NodePlan]) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(at: usize, nodes: &[NodePlan], marks: &mut [Mark], path: &mut Vec<usize>) -> Option<Vec<String>> {
        marks[at] = Mark::Open;
        path.push(at);
        for dependency in &nodes[at].after {
            let Some(next) = nodes.iter().position(|n| &n.name == dependency) else { continue };
            match marks[next] {
                Mark::Open => {
                    let from = path.iter().position(|&i| i == next).unwrap_or(0);
                    let mut cycle: Vec<String> = path[from..].iter().map(|&i| nodes[i].name.clone()).collect();
                    cycle.push(nodes[next].name.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, nodes, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[at] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; nodes.len()];
    (0..nodes.len()).find_map(|start| {
        if marks[start] == Mark::New { visit(start, nodes, &mut marks, &mut Vec::new()) } else { None }
    })
}

/// A regular expression's error on one line: the regex crate's own message spans three
/// (the pattern, a caret, the problem).
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    let problem = text.lines().last().unwrap_or_default().trim_start_matches("error: ");
    format!("not a valid regular expression ({problem})")
}
