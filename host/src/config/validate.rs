//! Raw tests.toml values → [`Plan`], with errors that point at the value at fault.
//!
//! Over 500 lines: one `Validator` holds the file's text to point every error at its
//! line and column, and each key of tests.toml has its check here; splitting it by table
//! (runtime, tests, nodes, sandbox) is the next step when it grows.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::raw::{RawConfig, RawNode, RawReady, RawRuntime, RawSandbox, RawScript, RawTest};
use super::template::{Key, Template};
use super::{
    ConfigError, NodePlan, PackageKind, PackageRef, Plan, Program, Readiness, RuntimePlan, SandboxPolicy,
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

/// Validates one file's raw configuration.
pub struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
    base_dir: PathBuf,
}

type Result<T> = std::result::Result<T, ConfigError>;

impl<'a> Validator<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Validator<'a> {
        // Relative paths resolve against the file's directory, made absolute so that
        // every path in the plan (and in messages) means one thing wherever it is used.
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let base_dir = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
        Validator { file, text, base_dir }
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.file, self.text, span, message)
    }

    pub fn plan(&self, raw: RawConfig) -> Result<Plan> {
        let runtime = raw
            .runtime
            .as_ref()
            .map(|runtime| self.runtime(runtime, raw.runtime_build_release))
            .transpose()?
            .map(Arc::new);
        if raw.tests.is_empty() {
            return Err(ConfigError::whole_file(self.file, "no [[tests]] entries: nothing to run"));
        }
        // Every test is checked, so one pass shows every entry's first problem.
        let mut tests = Vec::new();
        let mut errors = Vec::new();
        let mut names = HashSet::new();
        for (index, test) in raw.tests.iter().enumerate() {
            match self.test(index, test, runtime.as_ref(), raw.runtime_build_release, raw.sandbox.as_ref()) {
                Ok(plan) if !names.insert(plan.name.clone()) => {
                    let span = test.get_ref().name.as_ref().map_or(test.span(), Spanned::span);
                    errors.push(self.error(span, format!("tests: two tests are named {:?}", plan.name)));
                }
                Ok(plan) => tests.push(plan),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            // A test's own further errors stay with it, in order.
            let flat: Vec<ConfigError> = errors
                .into_iter()
                .flat_map(|mut error| {
                    let others = std::mem::take(&mut error.others);
                    std::iter::once(error).chain(others)
                })
                .collect();
            return Err(first_of(flat));
        }
        Ok(Plan {
            file: self.file.to_path_buf(),
            base_dir: self.base_dir.clone(),
            persist_home: raw.persist_home,
            timeout_scale: 1.0,
            tests,
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
                let path = self.existing_path(file, "runtime.Path")?;
                if !is_executable_file(&path) {
                    return Err(self.error(file.span(), format!("runtime.Path: {} is not an executable file", path.display())));
                }
                Program::Path(path)
            }
            [None, None, Some(command)] => {
                let name = command.get_ref();
                if name.trim().is_empty() || name.contains('\0') {
                    return Err(self.error(command.span(), "runtime.Command: empty program name"));
                }
                if name.contains('/') {
                    return Err(self.error(command.span(), format!("runtime.Command: {name:?} is a path; use runtime.Path for a file, Command for a program on PATH")));
                }
                if which::which(name).is_err() {
                    return Err(self.error(command.span(), format!("runtime.Command: {name:?} is not an executable on PATH")));
                }
                Program::Command(name.clone())
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
            None => DEFAULT_ARGS.iter().map(|arg| Template::parse(arg).expect("default template")).collect(),
        };
        Ok(RuntimePlan {
            program,
            args,
            env: self.env(&raw.env, spanned.span(), "runtime.env")?,
            ready: raw.ready.as_ref().map(|ready| self.ready(ready, "runtime.ready")).transpose()?,
            boot_timeout: self.seconds(raw.boot_timeout_secs.as_ref(), "runtime.boot_timeout_secs", DEFAULT_BOOT_TIMEOUT_SECS)?,
            stop_timeout: self.seconds(raw.stop_timeout_secs.as_ref(), "runtime.stop_timeout_secs", DEFAULT_STOP_TIMEOUT_SECS)?,
        })
    }

    fn test(
        &self,
        index: usize,
        spanned: &Spanned<RawTest>,
        runtime: Option<&Arc<RuntimePlan>>,
        release: bool,
        sandbox: Option<&Spanned<RawSandbox>>,
    ) -> Result<TestPlan> {
        let raw = spanned.get_ref();
        // Each part of a test is checked on its own, so one pass shows each part's problem.
        let mut errors: Vec<ConfigError> = Vec::new();
        let mut keep = |result: Result<()>| {
            if let Err(error) = result {
                errors.push(error);
            }
        };
        let name = match &raw.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                keep(Err(self.error(name.span(), "tests.name: must not be empty")));
                format!("test-{}", index + 1)
            }
            Some(name) => name.get_ref().clone(),
            None => format!("test-{}", index + 1),
        };
        if name.contains('/') {
            let span = raw.name.as_ref().map_or(spanned.span(), Spanned::span);
            keep(Err(self.error(span, format!("tests.name {name:?}: must not contain '/' (it separates test, package and case in ids)"))));
        }
        if let Some(router) = &raw.fakechain_router {
            keep(Err(self.error(
                router.span(),
                "tests.fakechain_router cannot be honoured: host has no fake chain (anvil) support; \
                 remove the key, or run the chain as a node of the test",
            )));
        }
        let own_runtime = match raw.runtime.as_ref().map(|r| self.runtime(r, release).map(Arc::new)).transpose() {
            Ok(own) => own,
            Err(error) => {
                // Without its runtime, the test's nodes cannot be checked: this is its error.
                errors.push(error);
                return Err(first_of(errors));
            }
        };
        let runtime = own_runtime.as_ref().or(runtime);
        let mut collect = |paths: &[Spanned<String>], key: &str, errors: &mut Vec<ConfigError>| -> Vec<PackageRef> {
            paths.iter().filter_map(|path| self.package(path, key).map_err(|e| errors.push(e)).ok()).collect()
        };
        let setup_paths: Vec<Spanned<String>> = raw.setup_packages.iter().map(|s| s.get_ref().path.clone()).collect();
        let setup_packages: Vec<SetupPackage> = collect(&setup_paths, "tests.setup_packages.path", &mut errors)
            .into_iter()
            .zip(&raw.setup_packages)
            .map(|(package, setup)| SetupPackage { package, run: setup.get_ref().run })
            .collect();
        let test_packages = collect(&raw.test_package_paths, "tests.test_package_paths", &mut errors);
        let dependency_packages = collect(&raw.dependency_package_paths, "tests.dependency_package_paths", &mut errors);
        let timeout = self.seconds(raw.timeout_secs.as_ref(), "tests.timeout_secs", DEFAULT_TIMEOUT_SECS).unwrap_or_else(|e| {
            errors.push(e);
            Duration::ZERO
        });
        let nodes = self.nodes(&raw.nodes, runtime, spanned.span(), &mut errors);
        let node_names: Vec<String> = raw
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| n.get_ref().fake_node_name.as_ref().map_or(format!("node-{}", i + 1), |s| s.get_ref().clone()))
            .collect();
        // Case ids are test/package/case: two packages of one name would mix their cases.
        let mut seen: Vec<(&str, &PackageRef)> = Vec::new();
        let all = setup_packages.iter().map(|s| (&s.package, "tests.setup_packages")).chain(test_packages.iter().map(|p| (p, "tests.test_package_paths")));
        for (position, (package, key)) in all.enumerate() {
            if let Some((_, other)) = seen.iter().find(|(name, _)| *name == package.name) {
                let span = raw.test_package_paths.get(position.saturating_sub(setup_packages.len())).map_or(spanned.span(), Spanned::span);
                errors.push(self.error(
                    span,
                    format!(
                        "{key}: two packages of this test are named {:?} ({} and {}); their case ids would collide — rename one directory",
                        package.name,
                        other.path.display(),
                        package.path.display()
                    ),
                ));
                break;
            }
            seen.push((&package.name, package));
        }
        let setup_scripts = self.scripts(&raw.setup_scripts, "tests.setup_scripts", &node_names).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        let test_scripts = self.scripts(&raw.test_scripts, "tests.test_scripts", &node_names).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        let sandbox = self.sandbox(sandbox, raw.sandbox.as_ref()).unwrap_or_else(|e| {
            errors.push(e);
            SandboxPolicy::default()
        });
        if !errors.is_empty() {
            return Err(first_of(errors));
        }
        Ok(TestPlan {
            name,
            tags: raw.tags.clone(),
            dependency_packages,
            setup_packages,
            setup_scripts,
            test_packages,
            test_scripts,
            timeout,
            sandbox,
            nodes,
        })
    }

    /// The test's policy: its own `[tests.sandbox]` keys over the file's `[sandbox]` over defaults.
    fn sandbox(&self, file: Option<&Spanned<RawSandbox>>, test: Option<&Spanned<RawSandbox>>) -> Result<SandboxPolicy> {
        let mut policy = SandboxPolicy::default();
        for spanned_layer in [file, test].into_iter().flatten() {
            let layer = spanned_layer.get_ref();
            // Each limit has a ceiling: what a 32-bit guest can use at all, or what no
            // sane test needs; past it the number is a mistake, not a limit.
            let size = |value: &Option<Spanned<i64>>, key: &str, unit: usize, max: i64| -> Result<Option<usize>> {
                match value {
                    None => Ok(None),
                    Some(v) if (1..=max).contains(v.get_ref()) => Ok(Some(*v.get_ref() as usize * unit)),
                    Some(v) if *v.get_ref() > 0 => Err(self.error(v.span(), format!("sandbox.{key}: {} is over the largest allowed, {max}", v.get_ref()))),
                    Some(v) => Err(self.error(v.span(), format!("sandbox.{key}: must be greater than 0"))),
                }
            };
            policy.memory = size(&layer.memory_mib, "memory_mib", 1 << 20, 4096)?.unwrap_or(policy.memory);
            policy.output = size(&layer.output_kib, "output_kib", 1 << 10, 1 << 20)?.unwrap_or(policy.output);
            policy.instances = size(&layer.instances, "instances", 1, 100_000)?.unwrap_or(policy.instances);
            policy.tables = size(&layer.tables, "tables", 1, 100_000)?.unwrap_or(policy.tables);
            policy.table_elements = size(&layer.table_elements, "table_elements", 1, u32::MAX as i64)?.unwrap_or(policy.table_elements);
            if layer.case_timeout_secs.is_some() {
                policy.case_timeout = Some(self.seconds(layer.case_timeout_secs.as_ref(), "sandbox.case_timeout_secs", 0.0)?);
            }
            if let Some(dir) = &layer.data_dir {
                let path = self.existing_path(dir, "sandbox.data_dir")?;
                if !path.is_dir() {
                    return Err(self.error(dir.span(), format!("sandbox.data_dir: {} is not a directory", path.display())));
                }
                policy.data_dir = Some(path);
            }
            if let Some(env) = &layer.env {
                for (key, value) in env {
                    self.env_entry(key, value, spanned_layer.span(), "sandbox.env")?;
                }
                policy.env = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
            if let Some(names) = &layer.pass_env {
                for name in names {
                    // A listed variable that the host does not have is simply not passed.
                    if let Ok(value) = std::env::var(name.get_ref()) {
                        policy.env.retain(|(k, _)| k != name.get_ref());
                        policy.env.push((name.get_ref().clone(), value));
                    }
                }
            }
        }
        Ok(policy)
    }

    /// Every node of a test; each node's first problem is an error of its own.
    fn nodes(
        &self,
        raw_nodes: &[Spanned<RawNode>],
        runtime: Option<&Arc<RuntimePlan>>,
        test_span: Range<usize>,
        errors: &mut Vec<ConfigError>,
    ) -> Vec<NodePlan> {
        let mut nodes: Vec<NodePlan> = Vec::new();
        let names: Vec<String> = raw_nodes
            .iter()
            .enumerate()
            .map(|(i, n)| n.get_ref().fake_node_name.as_ref().map_or(format!("node-{}", i + 1), |s| s.get_ref().clone()))
            .collect();
        for (spanned, name) in raw_nodes.iter().zip(&names) {
            match self.node(spanned, name, &names, &nodes, runtime, test_span.clone()) {
                Ok(node) => nodes.push(node),
                Err(error) => errors.push(error),
            }
        }
        nodes
    }

    /// One `[[tests.nodes]]` entry; `names` are the test's node names, `nodes` the nodes
    /// before it.
    fn node(
        &self,
        spanned: &Spanned<RawNode>,
        name: &String,
        names: &[String],
        nodes: &[NodePlan],
        runtime: Option<&Arc<RuntimePlan>>,
        test_span: Range<usize>,
    ) -> Result<NodePlan> {
        let names = names.to_vec();
        {
            let raw = spanned.get_ref();
            let Some(runtime) = runtime else {
                return Err(self.error(
                    test_span,
                    "tests.nodes: nodes need a runtime: add `runtime = { RepoPath = \"…\" }` (or Path / Command) \
                     at the top of the file or in this test",
                ));
            };
            if let Some(name_value) = &raw.fake_node_name {
                if name.is_empty() || name.contains(['/', ',', ' ']) {
                    return Err(self.error(name_value.span(), format!("tests.nodes.fake_node_name {name:?}: must be non-empty, without '/', ',' or spaces")));
                }
            }
            if nodes.iter().any(|node| &node.name == name) {
                let span = raw.fake_node_name.as_ref().map_or(spanned.span(), Spanned::span);
                let implicit = if raw.fake_node_name.is_none() { " (the name a node without fake_node_name gets)" } else { "" };
                return Err(self.error(span, format!("tests.nodes: two nodes are named {name:?}{implicit}")));
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
            let verbosity = match &raw.runtime_verbosity {
                None => 0,
                Some(v) if (0..=u32::MAX as i64).contains(v.get_ref()) => *v.get_ref() as u32,
                Some(v) => return Err(self.error(v.span(), "tests.nodes.runtime_verbosity: must be 0 or more")),
            };
            let mut args = match &raw.args {
                Some(args) => self.templates(args, "tests.nodes.args")?,
                None => runtime.args.clone(),
            };
            args.extend(self.templates(&raw.extra_args, "tests.nodes.extra_args")?);
            for template in &args {
                if let Some(missing) = template.referenced_nodes().find(|r| !names.iter().any(|n| n == r)) {
                    return Err(self.error(spanned.span(), format!("tests.nodes: argument {template} names node {missing:?}, which this test does not have (nodes: {})", names.join(", "))));
                }
            }
            let ready = match (&raw.ready, &runtime.ready) {
                (Some(ready), _) => self.ready(ready, "tests.nodes.ready")?,
                (None, Some(ready)) => ready.clone(),
                (None, None) if args.iter().any(|a| a.uses(Key::EventPipe)) => Readiness::Event("ready".into()),
                (None, None) => Readiness::Port,
            };
            if let Readiness::Command(command) = &ready {
                for arg in command {
                    let template = Template::parse(arg).map_err(|e| self.error(spanned.span(), format!("tests.nodes.ready.command: {e}")))?;
                    if let Some(missing) = template.referenced_nodes().find(|r| !names.iter().any(|n| n == r)) {
                        return Err(self.error(spanned.span(), format!("tests.nodes.ready.command: {arg:?} names node {missing:?}, which this test does not have (nodes: {})", names.join(", "))));
                    }
                }
            }
            let mut env = runtime.env.clone();
            env.extend(self.env(&raw.env, spanned.span(), "tests.nodes.env")?);
            for template in env.values() {
                if let Some(missing) = template.referenced_nodes().find(|r| !names.iter().any(|n| n == r)) {
                    return Err(self.error(spanned.span(), format!("tests.nodes.env: {template} names node {missing:?}, which this test does not have (nodes: {})", names.join(", "))));
                }
            }
            Ok(NodePlan {
                name: name.clone(),
                port,
                home: raw.home.as_ref().map(|home| self.home(home)).transpose()?,
                verbosity,
                password: raw.password.clone().unwrap_or_else(|| "secret".into()),
                runtime: Arc::clone(runtime),
                args,
                env,
                ready,
                may_exit: raw.may_exit,
                boot_timeout: match &raw.boot_timeout_secs {
                    Some(_) => self.seconds(raw.boot_timeout_secs.as_ref(), "tests.nodes.boot_timeout_secs", 0.0)?,
                    None => runtime.boot_timeout,
                },
            })
        }
    }

    fn ready(&self, spanned: &Spanned<RawReady>, key: &str) -> Result<Readiness> {
        let raw = spanned.get_ref();
        let choice = match (&raw.event, &raw.stdout, raw.port, &raw.command) {
            (Some(event), None, None, None) => Readiness::Event(event.clone()),
            (None, Some(pattern), None, None) => {
                regex::Regex::new(pattern)
                    .map_err(|e| self.error(spanned.span(), format!("{key}.stdout: bad regular expression: {e}")))?;
                Readiness::Stdout(pattern.clone())
            }
            (None, None, Some(true), None) => Readiness::Port,
            (None, None, None, Some(command)) if !command.is_empty() => {
                for arg in command {
                    Template::parse(arg).map_err(|e| self.error(spanned.span(), format!("{key}.command: {e}")))?;
                }
                Readiness::Command(command.clone())
            }
            _ => {
                return Err(self.error(
                    spanned.span(),
                    format!("{key}: give exactly one of event = \"NAME\", stdout = \"REGEX\", port = true, command = [\"PROGRAM\", …]"),
                ));
            }
        };
        Ok(choice)
    }

    fn scripts(&self, scripts: &[Spanned<RawScript>], key: &str, nodes: &[String]) -> Result<Vec<Script>> {
        scripts
            .iter()
            .map(|spanned| {
                let (path, args) = match spanned.get_ref() {
                    RawScript::Path(path) => (path.clone(), Vec::new()),
                    RawScript::Table(table) => (table.path.clone(), table.args.clone()),
                };
                let resolved = self.resolve(&path);
                if !resolved.is_file() {
                    return Err(self.error(spanned.span(), format!("{key}: no such script: {}", resolved.display())));
                }
                let args: Vec<Template> = args
                    .iter()
                    .map(|arg| Template::parse(arg).map_err(|e| self.error(spanned.span(), format!("{key}.args: {e}"))))
                    .collect::<Result<_>>()?;
                // A script's placeholders speak of the test's nodes (the first one when
                // none is named): each must have something to stand for.
                for template in &args {
                    for (placeholder, node) in template.placeholders() {
                        let problem = match node {
                            Some(node) if !nodes.iter().any(|n| n == node) => {
                                Some(format!("names node {node:?}, which this test does not have (nodes: {})", nodes.join(", ")))
                            }
                            None if nodes.is_empty() => Some("refers to the test's first node, and the test has none".to_string()),
                            _ if matches!(placeholder, Key::Verbosity | Key::Password) => {
                                Some("uses a node setting that scripts are not given".to_string())
                            }
                            _ => None,
                        };
                        if let Some(problem) = problem {
                            return Err(self.error(spanned.span(), format!("{key}.args: {template} {problem}")));
                        }
                    }
                }
                Ok(Script { path: resolved, args })
            })
            .collect()
    }

    fn package(&self, path: &Spanned<String>, key: &str) -> Result<PackageRef> {
        let resolved = self.existing_path(path, key)?;
        let name = resolved
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.get_ref().clone());
        let kind = if resolved.is_dir() {
            let manifest = resolved.join(super::PACKAGE_MANIFEST);
            if manifest.is_file() {
                PackageKind::Declared(package_manifest(&manifest)?)
            } else if resolved.join("Cargo.toml").is_file() {
                PackageKind::Cargo
            } else {
                return Err(self.error(path.span(), format!("{key}: {} is a directory without Cargo.toml or {}; give a package directory or a .wasm component", resolved.display(), super::PACKAGE_MANIFEST)));
            }
        } else if resolved.extension().is_some_and(|ext| ext == "wasm") {
            PackageKind::Component
        } else {
            return Err(self.error(path.span(), format!("{key}: {} is neither a .wasm component nor a cargo package directory", resolved.display())));
        };
        Ok(PackageRef { name, path: resolved, kind })
    }

    fn templates(&self, args: &[Spanned<String>], key: &str) -> Result<Vec<Template>> {
        args.iter()
            .map(|arg| {
                if arg.get_ref().contains('\0') {
                    return Err(self.error(arg.span(), format!("{key}: {:?} contains a NUL byte, which no argument can carry", arg.get_ref())));
                }
                Template::parse(arg.get_ref()).map_err(|e| self.error(arg.span(), format!("{key}: {e}")))
            })
            .collect()
    }

    /// An `env` table: names a process can carry, values as templates.
    fn env(&self, env: &BTreeMap<String, String>, span: Range<usize>, key: &str) -> Result<BTreeMap<String, Template>> {
        env.iter()
            .map(|(name, value)| {
                self.env_entry(name, value, span.clone(), key)?;
                let template = Template::parse(value).map_err(|e| self.error(span.clone(), format!("{key}.{name}: {e}")))?;
                Ok((name.clone(), template))
            })
            .collect()
    }

    /// An environment variable's name must be non-empty, without `=` or NUL; its value
    /// without NUL.
    fn env_entry(&self, name: &str, value: &str, span: Range<usize>, key: &str) -> Result<()> {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(self.error(span, format!("{key}: {name:?} is not an environment variable name (non-empty, no '=' or NUL)")));
        }
        if value.contains('\0') {
            return Err(self.error(span, format!("{key}.{name}: the value contains a NUL byte, which no environment variable can carry")));
        }
        Ok(())
    }

    fn seconds(&self, value: Option<&Spanned<f64>>, key: &str, default: f64) -> Result<Duration> {
        let Some(value) = value else { return Ok(Duration::from_secs_f64(default)) };
        let secs = *value.get_ref();
        if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
            return Err(self.error(value.span(), format!("{key}: {secs:?} is not a number of seconds greater than 0 and under 1e9")));
        }
        Ok(Duration::from_secs_f64(secs))
    }

    fn resolve(&self, path: &str) -> PathBuf {
        let expanded = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
            (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => PathBuf::from(path),
        };
        let joined = if expanded.is_absolute() { expanded } else { self.base_dir.join(expanded) };
        normalize(&joined)
    }

    /// A node's `home`: a directory of its own. The host deletes only homes it made, but
    /// a home that would hold the suite, the user's home directory or the whole file system
    /// is refused outright — a typo there must not even start a node in them.
    fn home(&self, home: &Spanned<String>) -> Result<PathBuf> {
        let value = home.get_ref();
        let refuse = |why: String| Err(self.error(home.span(), format!("tests.nodes.home {value:?}: {why}")));
        if value.trim().is_empty() {
            return refuse("is empty; leave `home` out for a fresh directory in the run's scratch space".into());
        }
        if value.contains('\0') {
            return refuse("contains a NUL byte".into());
        }
        let resolved = self.resolve(value);
        let real = |path: &Path| path.canonicalize().unwrap_or_else(|_| normalize(path));
        let candidate = real(&resolved);
        let mut protected = vec![("the directory holding the configuration file", real(&self.base_dir))];
        if let Some(user_home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            protected.push(("your home directory", real(Path::new(&user_home))));
        }
        if let Ok(cwd) = std::env::current_dir() {
            protected.push(("the current directory", real(&cwd)));
        }
        for (what, dir) in protected {
            if dir.starts_with(&candidate) {
                let relation = if dir == candidate { "is" } else { "contains" };
                return refuse(format!(
                    "{relation} {what} ({}); a node's home must be a directory of its own, such as \"homes/first\" \
                     — or leave `home` out",
                    dir.display()
                ));
            }
        }
        if resolved.is_file() {
            return refuse(format!("{} is a file, not a directory", resolved.display()));
        }
        Ok(resolved)
    }

    fn existing_path(&self, path: &Spanned<String>, key: &str) -> Result<PathBuf> {
        let resolved = self.resolve(path.get_ref());
        if !resolved.exists() {
            return Err(self.error(path.span(), format!("{key}: no such file or directory: {}", resolved.display())));
        }
        Ok(resolved)
    }
}


/// The first of `errors`, carrying the others.
fn first_of(mut errors: Vec<ConfigError>) -> ConfigError {
    let mut first = errors.remove(0);
    first.others.extend(errors);
    first
}

/// A regular file (or a link to one) with an execute bit.
fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `a/b/../c` → `a/c`, without touching the file system (paths may not exist yet).
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

/// Read a package's `host-package.toml`; its errors point into that file.
fn package_manifest(file: &Path) -> Result<super::BuildSpec> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError::whole_file(file, format!("cannot read: {e}")))?;
    let raw: super::raw::RawPackageManifest = toml::from_str(&text).map_err(|e| match e.span() {
        Some(span) => ConfigError::at(file, &text, span, e.message().trim()),
        None => ConfigError::whole_file(file, e.message().trim()),
    })?;
    if raw.build.get_ref().is_empty() {
        return Err(ConfigError::at(file, &text, raw.build.span(), "build: give the program and its arguments"));
    }
    Ok(super::BuildSpec {
        command: raw.build.into_inner(),
        inputs: raw.inputs.unwrap_or_else(|| vec!["**/*".to_string()]),
    })
}
