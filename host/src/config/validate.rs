//! Raw tests.toml values → [`Plan`], with errors that point at the value at fault.
//!
//! Over 500 lines: one `Validator` holds the file's text to point every error at its
//! line and column, and each key of tests.toml has its check here (pure value checks live
//! in `checks`, disk checks in `disk`); splitting it by table is the next step.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

mod handlers;
mod nodes;
mod packages;
mod runners;

pub(super) use packages::package_manifest;

use super::raw::{RawConfig, RawNode, RawParallel, RawRuntime, RawSandbox, RawScript, RawTest};
use super::template::{Key, Template};
use super::disk::{self, Expect, Obligation};
use super::checks;
use super::{
    ConfigError, ConfigErrors, NodePlan, PackageRef, Plan, Program, RunnerPlan, RuntimePlan,
    Script, SetupPackage, TestPlan,
};

/// Node arguments when neither the runtime nor the node sets `args`: the
/// convention of the example node (and close to kit's runtime flags).
const DEFAULT_ARGS: &[&str] = &[
    "--name", "{name}", "--host", "{host}", "--port", "{port}", "--home", "{home}",
    "--events", "{event_pipe}", "--peers", "{peers}", "--verbosity", "{verbosity}",
];
const DEFAULT_TIMEOUT_SECS: f64 = 60.0;
const DEFAULT_BOOT_TIMEOUT_SECS: f64 = 30.0;
const DEFAULT_STOP_TIMEOUT_SECS: f64 = 5.0;
/// Most cases of one package a test may run at once (`parallel = N`).
const MAX_PARALLEL_CASES: i64 = 1024;

/// Validates one file's raw configuration, collecting every error instead of stopping
/// at the first.
pub struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
    base_dir: PathBuf,
    errors: RefCell<Vec<ConfigError>>,
    /// Disk checks left to planning.
    obligations: RefCell<Vec<Obligation>>,
    /// The valid `[[runners]]`, checked first so that `runner = "…"` can name them.
    runners: RefCell<Vec<Arc<RunnerPlan>>>,
}

type Result<T> = std::result::Result<T, ConfigError>;

impl<'a> Validator<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Validator<'a> {
        // Relative paths resolve against the file's directory, made absolute so that
        // every path in the plan (and in messages) means one thing wherever it is used.
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let base_dir = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
        Validator { file, text, base_dir, errors: RefCell::new(Vec::new()), obligations: RefCell::new(Vec::new()), runners: RefCell::new(Vec::new()) }
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.file, self.text, span, message)
    }

    /// Leave a disk check to planning.
    fn expect(&self, span: Range<usize>, key: &str, path: &Path, expect: Expect) {
        self.obligations.borrow_mut().push(Obligation { span, key: key.to_string(), path: path.to_path_buf(), expect });
    }

    /// Record `error` and go on validating.
    fn report(&self, error: ConfigError) {
        self.errors.borrow_mut().push(error);
    }

    /// The value, or `None` with its error recorded.
    fn keep<T>(&self, result: Result<T>) -> Option<T> {
        result.map_err(|error| self.report(error)).ok()
    }

    pub fn plan(&self, raw: RawConfig) -> std::result::Result<Plan, ConfigErrors> {
        self.runners(&raw.runners);
        let runtime = raw.runtime.as_ref().map(|runtime| self.keep(self.runtime(runtime, raw.runtime_build_release)).map(Arc::new));
        if raw.tests.is_empty() {
            self.report(ConfigError::whole_file(self.file, "no [[tests]] entries: nothing to run"));
        }
        // The file's `[sandbox]` is checked once; a wrong one is reported once, not per test.
        let sandbox = raw.sandbox.as_ref().filter(|sandbox| self.keep(self.sandbox(Some(sandbox), None)).is_some());
        let mut tests = Vec::new();
        let mut names = HashSet::new();
        for (index, test) in raw.tests.iter().enumerate() {
            let Some(plan) = self.test(index, test, runtime.as_ref(), raw.runtime_build_release, sandbox) else {
                continue;
            };
            if !names.insert(plan.name.clone()) {
                let span = test.get_ref().name.as_ref().map_or(test.span(), Spanned::span);
                self.report(self.error(span, format!("tests: two tests are named {:?}", plan.name)));
            }
            tests.push(plan);
        }
        let event_handlers = self.handlers(&raw.event_handlers);
        // Planning: look at the disk for everything validation left to it.
        let user_home = std::env::var_os("HOME").map(PathBuf::from);
        for (span, message) in disk::check(&self.obligations.take(), &self.base_dir, user_home.as_deref()) {
            self.report(self.error(span, message));
        }
        let mut errors = self.errors.take();
        // In the order of the file (a stable sort keeps same-place errors in order).
        errors.sort_by_key(|error| error.position.unwrap_or((0, 0)));
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Plan {
            file: self.file.to_path_buf(),
            base_dir: self.base_dir.clone(),
            persist_home: raw.persist_home,
            timeout_scale: 1.0,
            tests,
            event_handlers,
        })
    }

    fn runtime(&self, spanned: &Spanned<RawRuntime>, release: bool) -> Result<RuntimePlan> {
        let raw = spanned.get_ref();
        if let Some(version) = &raw.fetch_version {
            return Err(self.error(
                version.span(),
                format!(
                    "runtime: FetchVersion = {:?} cannot be honoured: host does not download runtimes; \
                     use RepoPath (a cargo package to build), Path (an executable) or Command (a program on PATH)",
                    version.get_ref()
                ),
            ));
        }
        let sources = [&raw.repo_path, &raw.path, &raw.command];
        let program = match sources {
            [Some(dir), None, None] => {
                let path = self.existing_path(dir, "runtime.RepoPath")?;
                if !path.join("Cargo.toml").is_file() {
                    return Err(self.error(dir.span(), format!("runtime.RepoPath: no Cargo.toml in {}", path.display())));
                }
                Program::Cargo { dir: path, bin: raw.bin.clone(), release }
            }
            [None, Some(file), None] => {
                let path = self.resolve(file.get_ref());
                self.expect(file.span(), "runtime.Path", &path, Expect::Executable);
                Program::Path(path)
            }
            [None, None, Some(command)] => {
                if command.get_ref().trim().is_empty() {
                    return Err(self.error(command.span(), "runtime.Command: empty program name"));
                }
                self.expect(command.span(), "runtime.Command", Path::new(command.get_ref()), Expect::OnPath);
                Program::Command(command.get_ref().clone())
            }
            _ => {
                return Err(self.error(
                    spanned.span(),
                    "runtime: give exactly one of RepoPath, Path or Command",
                ));
            }
        };
        let args = match &raw.args {
            Some(args) => self.templates(args, "runtime.args")?,
            None => DEFAULT_ARGS.iter().filter_map(|arg| Template::parse(arg).ok()).collect(),
        };
        self.env(&raw.env, spanned.span(), "runtime.env", true)?;
        let ports = raw.ports.as_ref().map(|ports| self.ports(ports, "runtime.ports")).transpose()?.unwrap_or_default();
        let log_events = raw.log_events.as_ref().map(|raw| self.log_events(raw, "runtime.log_events")).transpose()?;
        let runner = raw.runner.as_ref().map(|name| self.runner_named(name, "runtime.runner")).transpose()?;
        Ok(RuntimePlan {
            runner,
            ports,
            log_events,
            program,
            args,
            env: raw.env.clone(),
            ready: raw.ready.as_ref().map(|ready| self.ready(ready, "runtime.ready")).transpose()?,
            boot_timeout: self.seconds(raw.boot_timeout_secs.as_ref(), "runtime.boot_timeout_secs", DEFAULT_BOOT_TIMEOUT_SECS)?,
            stop_timeout: self.seconds(raw.stop_timeout_secs.as_ref(), "runtime.stop_timeout_secs", DEFAULT_STOP_TIMEOUT_SECS)?,
        })
    }

    /// Environment variables: keys non-empty, without `=` or NUL; values without NUL
    /// (neither can reach a process intact). A node's values are templates, like its
    /// arguments (`templated`).
    fn env<'v>(&self, env: impl IntoIterator<Item = (&'v String, &'v String)>, span: Range<usize>, key: &str, templated: bool) -> Result<()> {
        for (name, value) in env {
            if let Some(problem) = checks::env_problem(name, value) {
                return Err(self.error(span, format!("{key}: {problem}")));
            }
            if templated {
                Template::parse(value).map_err(|e| self.error(span.clone(), format!("{key}.{name}: {e}")))?;
            }
        }
        Ok(())
    }

    /// One test, or `None` with its errors recorded.
    fn test(
        &self,
        index: usize,
        spanned: &Spanned<RawTest>,
        runtime: Option<&Option<Arc<RuntimePlan>>>,
        release: bool,
        sandbox: Option<&Spanned<RawSandbox>>,
    ) -> Option<TestPlan> {
        let raw = spanned.get_ref();
        let before = self.errors.borrow().len();
        let name = match &raw.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                self.report(self.error(name.span(), "tests.name: must not be empty"));
                format!("test-{}", index + 1)
            }
            Some(name) if name.get_ref().contains('/') => {
                self.report(self.error(name.span(), format!("tests.name {:?}: must not contain '/' (it separates test, package and case in ids)", name.get_ref())));
                format!("test-{}", index + 1)
            }
            Some(name) => name.get_ref().clone(),
            None => format!("test-{}", index + 1),
        };
        if let Some(router) = &raw.fakechain_router {
            self.report(self.error(
                router.span(),
                "tests.fakechain_router cannot be honoured: host has no fake chain (anvil) support; \
                 remove the key, or run the chain as a node of the test",
            ));
        }
        let own_runtime = raw.runtime.as_ref().map(|r| self.keep(self.runtime(r, release)).map(Arc::new));
        // `Some(None)`: a runtime was given but is wrong (its error is already recorded).
        let runtime = own_runtime.as_ref().or(runtime);
        let packages = |paths: &[Spanned<String>], key: &str| -> Vec<PackageRef> {
            paths.iter().filter_map(|path| self.keep(self.package(path, key))).collect()
        };
        let setup_packages: Vec<SetupPackage> = raw
            .setup_packages
            .iter()
            .filter_map(|setup| {
                let setup = setup.get_ref();
                let package = self.keep(self.package(&setup.path, "tests.setup_packages.path"))?;
                Some(SetupPackage { package, run: setup.run })
            })
            .collect();
        let timeout = self.keep(self.seconds(raw.timeout_secs.as_ref(), "tests.timeout_secs", DEFAULT_TIMEOUT_SECS));
        let nodes = self.nodes(&raw.nodes, runtime, spanned.span());
        let test_packages = packages(&raw.test_package_paths, "tests.test_package_paths");
        let setup_paths = raw.setup_packages.iter().map(|setup| &setup.get_ref().path);
        let found: Vec<_> = setup_paths
            .filter(|path| setup_packages.iter().any(|s| s.package.path == self.resolve(path.get_ref())))
            .zip(setup_packages.iter().map(|s| &s.package))
            .chain(raw.test_package_paths.iter().filter(|path| test_packages.iter().any(|p| p.path == self.resolve(path.get_ref()))).zip(&test_packages))
            .collect();
        self.package_names_unique(&found);
        let plan = TestPlan {
            name,
            tags: raw.tags.clone(),
            dependency_packages: packages(&raw.dependency_package_paths, "tests.dependency_package_paths"),
            setup_packages,
            setup_scripts: self.scripts(&raw.setup_scripts, "tests.setup_scripts", &node_names(&raw.nodes), &nodes),
            test_packages,
            test_scripts: self.scripts(&raw.test_scripts, "tests.test_scripts", &node_names(&raw.nodes), &nodes),
            timeout: timeout.unwrap_or_default(),
            parallel: raw.parallel.as_ref().and_then(|parallel| self.keep(self.parallel(parallel))).unwrap_or(1),
            sandbox: self.keep(self.sandbox(sandbox, raw.sandbox.as_ref())).unwrap_or_default(),
            nodes,
            network_faults: raw.network_faults.as_ref().is_some_and(|on| *on.get_ref()),
        };
        if let Some(on) = raw.network_faults.as_ref().filter(|on| *on.get_ref()) {
            self.nodes_bind_behind_proxies(on.span(), &plan.nodes);
        }
        (self.errors.borrow().len() == before).then_some(plan)
    }

    /// With `network_faults`, `{port}` is the proxy's: a node must bind `{listen_port}`
    /// (or `{listen_address}`), or it would take the proxy's port.
    fn nodes_bind_behind_proxies(&self, span: Range<usize>, nodes: &[NodePlan]) {
        for node in nodes {
            // The proxies find which node opened a connection among this machine's
            // processes; a node on a runner is out of their sight.
            if let Some(runner) = &node.runner {
                self.report(self.error(
                    span.clone(),
                    format!(
                        "tests.network_faults: node {:?} runs on runner {:?}: network faults work between nodes on this \
                         machine only",
                        node.name, runner.name
                    ),
                ));
                continue;
            }
            if !node.args.iter().any(|arg| arg.uses(Key::ListenPort) || arg.uses(Key::ListenAddress)) {
                self.report(self.error(
                    span.clone(),
                    format!(
                        "tests.network_faults: node {:?} never binds {{listen_port}} or {{listen_address}}: with network faults \
                         {{port}} and {{address}} are the host's proxy in front of the node, and the node must listen on its own port",
                        node.name
                    ),
                ));
            }
        }
    }

    fn scripts(&self, scripts: &[Spanned<RawScript>], key: &str, names: &[String], nodes: &[NodePlan]) -> Vec<Script> {
        scripts
            .iter()
            .filter_map(|spanned| {
                let (path, args) = match spanned.get_ref() {
                    RawScript::Path(path) => (path.clone(), Vec::new()),
                    RawScript::Table(table) => (table.path.clone(), table.args.clone()),
                };
                let resolved = self.resolve(&path);
                self.expect(spanned.span(), key, &resolved, Expect::File);
                let args = args
                    .iter()
                    .map(|arg| Template::parse(arg).map_err(|e| self.error(spanned.span(), format!("{key}.args: {e}"))))
                    .collect::<Result<_>>();
                let args: Vec<Template> = self.keep(args)?;
                if let Some(problem) = args.iter().find_map(|arg| script_template_problem(arg, names, nodes)) {
                    self.report(self.error(spanned.span(), format!("{key}.args: {problem}")));
                    return None;
                }
                Some(Script { path: resolved, args })
            })
            .collect()
    }

    fn templates(&self, args: &[Spanned<String>], key: &str) -> Result<Vec<Template>> {
        args.iter()
            .map(|arg| Template::parse(arg.get_ref()).map_err(|e| self.error(arg.span(), format!("{key}: {e}"))))
            .collect()
    }

    fn seconds(&self, value: Option<&Spanned<f64>>, key: &str, default: f64) -> Result<Duration> {
        let Some(value) = value else { return Ok(Duration::from_secs_f64(default)) };
        let secs = *value.get_ref();
        if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
            return Err(self.error(value.span(), format!("{key}: {secs} is not a number of seconds greater than 0")));
        }
        Ok(Duration::from_secs_f64(secs))
    }

    /// `parallel`: `true` is one case per core of this machine, `false` one at a time.
    fn parallel(&self, value: &Spanned<RawParallel>) -> Result<usize> {
        match *value.get_ref() {
            RawParallel::Switch(false) => Ok(1),
            RawParallel::Switch(true) => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
            RawParallel::Count(count @ 1..=MAX_PARALLEL_CASES) => Ok(count as usize),
            RawParallel::Count(count) => Err(self.error(
                value.span(),
                format!("tests.parallel: {count} is not a number of cases at once from 1 to {MAX_PARALLEL_CASES} (or true, false)"),
            )),
        }
    }

    fn resolve(&self, path: &str) -> PathBuf {
        resolve(&self.base_dir, path)
    }

    fn existing_path(&self, path: &Spanned<String>, key: &str) -> Result<PathBuf> {
        let resolved = self.resolve(path.get_ref());
        if !resolved.exists() {
            return Err(self.error(path.span(), format!("{key}: no such file or directory: {}", resolved.display())));
        }
        Ok(resolved)
    }
}


/// Every node's name: `fake_node_name`, or `node-N` (1-based).
fn node_names(raw_nodes: &[Spanned<RawNode>]) -> Vec<String> {
    raw_nodes
        .iter()
        .enumerate()
        .map(|(i, n)| n.get_ref().fake_node_name.as_ref().map_or(format!("node-{}", i + 1), |s| s.get_ref().clone()))
        .collect()
}

/// Why a script argument cannot be filled in a test with nodes `names`, if it cannot.
fn script_template_problem(template: &Template, names: &[String], nodes: &[NodePlan]) -> Option<String> {
    for placeholder in template.placeholders() {
        if matches!(placeholder.key, Key::Verbosity | Key::Password) {
            return Some(format!("{{{}}} has no value in a script's arguments (it is a node's own setting)", placeholder.key.word()));
        }
        if names.is_empty() {
            return Some(format!("{{{}}} needs a node, and this test has none", placeholder.text()));
        }
        if let Some(node) = placeholder.node.filter(|node| !names.iter().any(|n| n == node)) {
            return Some(format!("{template} names node {node:?}, which this test does not have (nodes: {})", names.join(", ")));
        }
        if let Some(problem) = nodes::port_problem(placeholder, placeholder.node.or(names.first().map(String::as_str)), nodes) {
            return Some(problem);
        }
    }
    None
}

/// `a/b/../c` → `a/c`, without touching the file system (paths may not exist yet).
/// A path as tests.toml means it: `~/` is the home directory, a relative path is relative
/// to `base_dir` (the file's directory); `.` and `..` are folded away.
pub fn resolve(base_dir: &Path, path: &str) -> PathBuf {
    let expanded = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    };
    let joined = if expanded.is_absolute() { expanded } else { base_dir.join(expanded) };
    normalize(&joined)
}

pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other),
        }
    }
    normal
}
