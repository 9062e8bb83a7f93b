//! tests.toml as written: serde structures with spans, before any validation.
//!
//! Unknown keys are errors (`deny_unknown_fields`), so a typo never goes unnoticed.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub runtime: Option<Spanned<RawRuntime>>,
    #[serde(default)]
    pub runtime_build_release: bool,
    #[serde(default)]
    pub persist_home: bool,
    /// Sandbox policy for every test; a test's own `[tests.sandbox]` overrides it key by key.
    pub sandbox: Option<Spanned<RawSandbox>>,
    #[serde(default)]
    pub tests: Vec<Spanned<RawTest>>,
    /// Event handlers and hooks of the run.
    #[serde(default)]
    pub event_handlers: Vec<Spanned<RawHandler>>,
    /// Machines nodes may run on, over SSH (`[[runners]]`).
    #[serde(default)]
    pub runners: Vec<Spanned<RawRunner>>,
}

/// `[[event_handlers]]`: a handler component (`path`) or a native command (`command`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHandler {
    pub name: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub sync: bool,
    #[serde(default)]
    pub hooks: bool,
    #[serde(default)]
    pub priority: i64,
    pub dir: Option<Spanned<String>>,
    pub timeout_secs: Option<Spanned<f64>>,
    pub queue: Option<Spanned<i64>>,
}

/// One `[[runners]]` entry: a machine reached over SSH.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRunner {
    pub name: Spanned<String>,
    /// The host name or address ssh connects to.
    pub host: Spanned<String>,
    pub user: Option<Spanned<String>>,
    pub port: Option<Spanned<i64>>,
    pub identity_file: Option<Spanned<String>>,
    pub known_hosts: Option<Spanned<String>>,
    pub work_dir: Option<Spanned<String>>,
    /// The address the nodes are reached at (default: `host`).
    pub address: Option<Spanned<String>>,
}

/// `[sandbox]` / `[tests.sandbox]`: limits and capabilities of the test packages.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSandbox {
    pub memory_mib: Option<Spanned<i64>>,
    pub output_kib: Option<Spanned<i64>>,
    pub instances: Option<Spanned<i64>>,
    pub tables: Option<Spanned<i64>>,
    pub table_elements: Option<Spanned<i64>>,
    pub case_timeout_secs: Option<Spanned<f64>>,
    pub data_dir: Option<Spanned<String>>,
    pub env: Option<BTreeMap<String, String>>,
    pub pass_env: Option<Vec<Spanned<String>>>,
}

/// `runtime = { RepoPath = "…" }` and friends: what the nodes run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    /// A cargo package (or workspace) to build; kit's form.
    #[serde(rename = "RepoPath")]
    pub repo_path: Option<Spanned<String>>,
    /// An executable file, relative to tests.toml or absolute.
    #[serde(rename = "Path")]
    pub path: Option<Spanned<String>>,
    /// A program looked up on `PATH`, e.g. `redis-server`.
    #[serde(rename = "Command")]
    pub command: Option<Spanned<String>>,
    /// kit downloads a released runtime; host does not.
    #[serde(rename = "FetchVersion")]
    pub fetch_version: Option<Spanned<String>>,
    /// Which binary of the cargo package (with `RepoPath`).
    pub bin: Option<String>,
    /// Argument template for every node (placeholders like `{port}`).
    pub args: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub ready: Option<Spanned<RawReady>>,
    pub boot_timeout_secs: Option<Spanned<f64>>,
    pub stop_timeout_secs: Option<Spanned<f64>>,
    /// Names of the ports every node gets (`["client", "peer"]`); the first is `{port}`.
    pub ports: Option<Spanned<Vec<Spanned<String>>>>,
    /// Structured (JSON) log lines on stdout/stderr become events.
    pub log_events: Option<Spanned<RawLogEvents>>,
    /// Its nodes run on this `[[runners]]` machine.
    pub runner: Option<Spanned<String>>,
}

/// `log_events = { key = "msg", names = [{ pattern = "…", name = "…" }] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogEvents {
    /// The key whose (string) value names the event; `msg` by default.
    pub key: Option<String>,
    /// Stable names for messages that carry values: the first pattern that matches the
    /// message renames the event, and its named groups join the event's value.
    #[serde(default)]
    pub names: Vec<Spanned<RawLogName>>,
}

/// One `{ pattern = "REGEX", name = "NAME" }` of `log_events.names`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogName {
    pub pattern: String,
    pub name: String,
}

/// How to know a node is ready: exactly one key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReady {
    /// Name of an event on the node's event pipe.
    pub event: Option<String>,
    /// Regular expression matched against each stdout line.
    pub stdout: Option<String>,
    /// Regular expression matched against each stderr line.
    pub stderr: Option<String>,
    /// `true`: the node's port accepts TCP connections.
    pub port: Option<bool>,
    /// A command (program and arguments) that exits 0 once the node is ready.
    pub command: Option<Vec<String>>,
}

/// One `[[tests]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub runtime: Option<Spanned<RawRuntime>>,
    #[serde(default)]
    pub dependency_package_paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub setup_packages: Vec<Spanned<RawSetupPackage>>,
    #[serde(default)]
    pub setup_scripts: Vec<Spanned<RawScript>>,
    #[serde(default)]
    pub test_package_paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub test_scripts: Vec<Spanned<RawScript>>,
    pub timeout_secs: Option<Spanned<f64>>,
    /// Run each test package's cases concurrently: `true` (one per core) or a count.
    pub parallel: Option<Spanned<RawParallel>>,
    pub fakechain_router: Option<Spanned<i64>>,
    pub sandbox: Option<Spanned<RawSandbox>>,
    /// Put the host's TCP proxies in front of every node port, so packages can inject
    /// network faults (the `network` interface).
    pub network_faults: Option<Spanned<bool>>,
    #[serde(default)]
    pub nodes: Vec<Spanned<RawNode>>,
}

/// `{ path = "…", run = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSetupPackage {
    pub path: Spanned<String>,
    #[serde(default = "yes")]
    pub run: bool,
}

fn yes() -> bool {
    true
}

/// `parallel = true | false | N`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "true, false, or a number of cases at once")]
pub enum RawParallel {
    Switch(bool),
    Count(i64),
}

/// A script: a path, or `{ path = "…", args = […] }`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a script path, or a table { path = \"…\", args = [\"…\"] }")]
pub enum RawScript {
    Path(String),
    Table(RawScriptTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScriptTable {
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
}

/// One `[[tests.nodes]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    #[serde(alias = "name")]
    pub fake_node_name: Option<Spanned<String>>,
    pub port: Option<Spanned<i64>>,
    pub home: Option<Spanned<String>>,
    pub password: Option<String>,
    pub rpc: Option<Spanned<String>>,
    pub runtime_verbosity: Option<Spanned<i64>>,
    pub args: Option<Vec<Spanned<String>>>,
    /// Appended to the node's arguments (its own `args` or the runtime's).
    #[serde(default)]
    pub extra_args: Vec<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub ready: Option<Spanned<RawReady>>,
    pub boot_timeout_secs: Option<Spanned<f64>>,
    /// The node may exit by itself during the test without failing it.
    #[serde(default)]
    pub may_exit: bool,
    /// The node's named ports (overrides the runtime's `ports`).
    pub ports: Option<Spanned<Vec<Spanned<String>>>>,
    /// Boot this node only once these nodes are ready.
    #[serde(default)]
    pub after: Vec<Spanned<String>>,
    /// Not started with the test: a template packages instantiate with `add-node`.
    #[serde(default)]
    pub template: bool,
    /// Overrides the runtime's `log_events`.
    pub log_events: Option<Spanned<RawLogEvents>>,
    /// Run on this `[[runners]]` machine (overrides the runtime's `runner`).
    pub runner: Option<Spanned<String>>,
}

/// `host-package.toml`: how a package in any language is built.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPackageManifest {
    pub build: Spanned<Vec<String>>,
    pub inputs: Option<Vec<String>>,
}
