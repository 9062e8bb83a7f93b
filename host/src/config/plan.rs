//! The validated plan: what `host run` will do, with every path resolved.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::template::Template;

/// A whole tests.toml, checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The configuration file.
    pub file: PathBuf,
    /// Its directory: relative paths resolve against it.
    pub base_dir: PathBuf,
    /// Keep node homes (and the run directory) after the run.
    pub persist_home: bool,
    /// The factor timeouts were multiplied by (1 unless `scale_timeouts` was applied).
    pub timeout_scale: f64,
    pub tests: Vec<TestPlan>,
    /// `[[event_handlers]]`: handlers and hooks of every run of this file.
    pub event_handlers: Vec<super::HandlerSpec>,
}

/// One `[[tests]]` entry.
#[derive(Debug, Clone)]
pub struct TestPlan {
    /// `name`, or `test-N` (1-based position in the file).
    pub name: String,
    /// `tags`, for `--filter tag:NAME`.
    pub tags: Vec<String>,
    /// Built before anything else of the test; never run.
    pub dependency_packages: Vec<PackageRef>,
    /// Run before the test packages (when `run`); their failure fails the test.
    pub setup_packages: Vec<SetupPackage>,
    /// Started once the nodes are ready; run alongside the test, stopped at teardown.
    pub setup_scripts: Vec<Script>,
    /// Run in order; the first failing package skips the rest.
    pub test_packages: Vec<PackageRef>,
    /// Run after the packages pass; each must exit 0.
    pub test_scripts: Vec<Script>,
    /// Budget for the whole series of packages (`timeout_secs`).
    pub timeout: Duration,
    /// Cases of one test package that may run at once (`parallel`; 1: one after another,
    /// the default). Setup packages always run their cases one after another.
    pub parallel: usize,
    /// Limits and capabilities of the test's packages.
    pub sandbox: SandboxPolicy,
    pub nodes: Vec<NodePlan>,
    /// `network_faults`: every node port sits behind a host proxy that packages can
    /// cut, slow down or reset (see `netfault`).
    pub network_faults: bool,
}

/// What a test package may use. Every key has a default; see the README's "Sandbox".
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxPolicy {
    /// Linear memory per instance, bytes (`memory_mib`, default 512).
    pub memory: usize,
    /// Captured stdout+stderr per case, bytes (`output_kib`, default 1024).
    pub output: usize,
    /// Core instances per store (`instances`, default 100).
    pub instances: usize,
    /// Tables per store (`tables`, default 100).
    pub tables: usize,
    /// Elements per table (`table_elements`, default 1 000 000).
    pub table_elements: usize,
    /// Time per case (`case_timeout_secs`), within the test's budget; none by default.
    pub case_timeout: Option<Duration>,
    /// Mounted read-only at `/data` (`data_dir`).
    pub data_dir: Option<PathBuf>,
    /// Environment variables the package sees (`env`, plus `pass_env` copied from the host).
    pub env: Vec<(String, String)>,
}

impl Plan {
    /// Multiply every timetrap (test and case budgets, boot timeouts) by `factor`, as
    /// test_server's `multiply_timetraps` does; stop grace periods are left alone.
    pub fn scale_timeouts(&mut self, factor: f64) {
        for test in &mut self.tests {
            test.timeout = test.timeout.mul_f64(factor);
            test.sandbox.case_timeout = test.sandbox.case_timeout.map(|t| t.mul_f64(factor));
            for node in &mut test.nodes {
                node.boot_timeout = node.boot_timeout.mul_f64(factor);
            }
        }
        self.timeout_scale *= factor;
    }
}

impl Default for SandboxPolicy {
    fn default() -> SandboxPolicy {
        SandboxPolicy {
            memory: 512 << 20,
            output: 1 << 20,
            instances: 100,
            tables: 100,
            table_elements: 1_000_000,
            case_timeout: None,
            data_dir: None,
            env: Vec::new(),
        }
    }
}

/// A test package: a component file or a cargo package that builds one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageRef {
    /// Name in reports: the file stem or directory name.
    pub name: String,
    pub path: PathBuf,
    pub kind: PackageKind,
}

/// How a package is obtained.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PackageKind {
    /// A `.wasm` component, loaded as is.
    Component,
    /// A cargo package directory, built for `wasm32-wasip2` by the host.
    Cargo,
    /// A directory with a `host-package.toml` that declares its build command.
    Declared(BuildSpec),
}

/// The build a `host-package.toml` declares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BuildSpec {
    /// Program and arguments, with `{out}`, `{wit}`, `{world}`, `{dir}` placeholders.
    pub command: Vec<String>,
    /// Globs (relative to the package directory) of the files that key the build cache.
    pub inputs: Vec<String>,
}

/// `{ path, run }`.
#[derive(Debug, Clone)]
pub struct SetupPackage {
    pub package: PackageRef,
    /// `false`: build and load only, as kit loads without starting.
    pub run: bool,
}

/// An executable and its argument templates.
#[derive(Debug, Clone)]
pub struct Script {
    pub path: PathBuf,
    pub args: Vec<Template>,
}

/// What nodes run and how they are watched (top-level `runtime`, or a test's own).
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimePlan {
    pub program: Program,
    pub args: Vec<Template>,
    pub env: BTreeMap<String, String>,
    pub ready: Option<Readiness>,
    pub boot_timeout: Duration,
    pub stop_timeout: Duration,
    /// Port names every node of this runtime gets (empty: one unnamed port).
    pub ports: Vec<String>,
    pub log_events: Option<LogEvents>,
    /// The machine its nodes run on (`runner`); `None`: this one.
    pub runner: Option<Arc<RunnerPlan>>,
}

/// A `[[runners]]` entry: a machine nodes run on, reached with the system's `ssh`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunnerPlan {
    pub name: String,
    /// The host ssh connects to (a name, an address, or an alias of `~/.ssh/config`).
    pub host: String,
    /// `-l USER`; `None`: ssh's default.
    pub user: Option<String>,
    /// `-p PORT`; `None`: ssh's default.
    pub port: Option<u16>,
    /// `-i FILE`; `None`: ssh's default keys or agent.
    pub identity_file: Option<PathBuf>,
    /// Host keys to check against (`StrictHostKeyChecking=yes`); `None`: the key the
    /// runner shows first is accepted and pinned for the rest of the node's life.
    pub known_hosts: Option<PathBuf>,
    /// Absolute directory on the runner under which node homes and event pipes are made.
    pub work_dir: String,
    /// The address the nodes listen on and are reached at (`{host}`).
    pub address: String,
}

/// Structured log lines (one JSON object per line, on stdout or stderr) read as events,
/// as zap, slog and tracing-subscriber's JSON format write them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogEvents {
    /// The key whose string value names the event (`msg`, `message`, `event`…); the
    /// rest of the object is the event's value.
    pub key: String,
    /// `(pattern, name)`: a message matching the regular expression becomes an event
    /// called `name`, with the pattern's named groups added to its value (numbers as
    /// numbers). The first match wins; other messages keep their own text as the name.
    pub names: Vec<(String, String)>,
}

/// Where the node executable comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Program {
    /// Built with `cargo build [--release]` from this directory.
    Cargo { dir: PathBuf, bin: Option<String>, release: bool },
    /// This executable file.
    Path(PathBuf),
    /// Looked up on `PATH` at start.
    Command(String),
}

/// When a node counts as ready.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    /// An event with this name arrives on the event pipe.
    Event(String),
    /// A stdout line matches this regular expression.
    Stdout(String),
    /// A stderr line matches this regular expression.
    Stderr(String),
    /// The node's port accepts a TCP connection.
    Port,
    /// This command exits 0 (retried until the boot timeout). Its arguments are templates,
    /// with the node's placeholders (`{port}`, `{home}`…).
    Command(Vec<String>),
}

/// One `[[tests.nodes]]` entry.
#[derive(Debug, Clone)]
pub struct NodePlan {
    /// `fake_node_name`, or `node-N`.
    pub name: String,
    /// `None`: a free port picked at boot. Fixes the first port.
    pub port: Option<u16>,
    /// The node's port names (its own `ports`, or the runtime's); empty: one unnamed port.
    /// Each gets its own free port per test.
    pub ports: Vec<String>,
    /// Nodes that must be ready before this one boots (`after`).
    pub after: Vec<String>,
    /// `template = true`: not started with the test; packages add nodes from it.
    pub template: bool,
    /// Structured log lines read as events (the node's own `log_events`, or the runtime's).
    pub log_events: Option<LogEvents>,
    /// `None`: a fresh directory in the run's scratch space.
    pub home: Option<PathBuf>,
    pub verbosity: u32,
    pub password: String,
    pub runtime: Arc<RuntimePlan>,
    /// The node's argument templates (its own `args`, or the runtime's).
    pub args: Vec<Template>,
    /// The runtime's environment with the node's `env` on top.
    pub env: BTreeMap<String, String>,
    pub ready: Readiness,
    pub boot_timeout: Duration,
    /// `may_exit`: the node may exit by itself while the test runs. Otherwise a node that
    /// does (not stopped by the host or by a package's `control` call) fails its test.
    pub may_exit: bool,
    /// The machine the node runs on (its own `runner`, or the runtime's); `None`: this one.
    pub runner: Option<Arc<RunnerPlan>>,
}
