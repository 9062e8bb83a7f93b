//! What goes into an archive, and where: tests.toml rewritten so that every path it names
//! points inside the archive, and the files those paths need.
//!
//! The archive's tree: `project/` is the suite's directory (tests.toml and every file of
//! the suite's directory the plan names, at its own relative path), `outside/N/` a file or
//! directory named by a relative path that leads out of it, `packages/N/NAME.wasm` the
//! components, `cache/` their compiled form (a compile cache for this host's engine), and
//! `bin/N/` the node executables built from `RepoPath`. Absolute paths outside the suite's
//! directory (`/bin/sh`, `/usr/bin/redis-server`) and `Command` runtimes are kept as they
//! are: the machine that runs the archive must have them.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use toml::{Table, Value};

use super::{ArchivedPackage, PROJECT_DIR};
use crate::config::{self, PackageRef, Plan, Program};
use crate::runner::Prepared;
use crate::sandbox::Sandbox;

/// Where an archive member's bytes come from.
pub(super) enum Source {
    /// A file on this machine (read when the archive is written).
    File(PathBuf),
    /// Bytes made here (the rewritten tests.toml, compiled components).
    Bytes(Vec<u8>),
    /// An (empty) directory.
    Directory,
}

/// One member of the archive.
pub(super) struct Member {
    pub source: Source,
    pub executable: bool,
}

/// The archive's members by path, and the packages it holds.
pub(super) struct Layout<'a> {
    plan: &'a Plan,
    prepared: &'a Prepared,
    sandbox: &'a Sandbox,
    pub members: BTreeMap<String, Member>,
    pub packages: Vec<ArchivedPackage>,
    /// Component file → its path in the archive.
    components: HashMap<PathBuf, String>,
    /// Built node executable → its path in the archive.
    executables: HashMap<PathBuf, String>,
    outside: usize,
}

impl<'a> Layout<'a> {
    /// The layout of `plan`'s suite, its packages as `prepared` loaded them.
    pub async fn of(plan: &'a Plan, prepared: &'a Prepared, sandbox: &'a Sandbox) -> Result<Layout<'a>> {
        let mut layout = Layout {
            plan,
            prepared,
            sandbox,
            members: BTreeMap::new(),
            packages: Vec::new(),
            components: HashMap::new(),
            executables: HashMap::new(),
            outside: 0,
        };
        let text = config::read(&plan.file).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut table: Table = text.parse().with_context(|| format!("cannot read {}", plan.file.display()))?;
        layout.rewrite(&mut table).await?;
        let mut toml = format!(
            "# Written by `host archive` from {}: every path points inside the archive.\n",
            std::path::absolute(&plan.file).unwrap_or_else(|_| plan.file.clone()).display().to_string().replace(['\n', '\r'], " ")
        );
        toml.push_str(&toml::to_string(&table).context("cannot write the archive's tests.toml")?);
        layout.add(format!("{PROJECT_DIR}/{}", config::DEFAULT_FILE), Source::Bytes(toml.into_bytes()), false)?;
        Ok(layout)
    }

    async fn rewrite(&mut self, table: &mut Table) -> Result<()> {
        let release = table.remove("runtime_build_release").and_then(|v| v.as_bool()).unwrap_or(false);
        if let Some(Value::Table(runtime)) = table.get_mut("runtime") {
            self.runtime(runtime, release).await?;
        }
        if let Some(Value::Table(sandbox)) = table.get_mut("sandbox") {
            self.sandbox_dirs(sandbox)?;
        }
        // Not archived, only made absolute: a runner's identity file and known hosts (a
        // private key never travels inside an archive), and event handlers with the
        // directories they write (a handler package is built where the archive runs).
        for (array, keys) in [("runners", &["identity_file", "known_hosts"][..]), ("event_handlers", &["path", "dir"][..])] {
            let Some(Value::Array(entries)) = table.get_mut(array) else { continue };
            for entry in entries.iter_mut().filter_map(Value::as_table_mut) {
                for key in keys {
                    if let Some(Value::String(raw)) = entry.get_mut(*key) {
                        *raw = config::resolve(&self.plan.base_dir, raw).display().to_string();
                    }
                }
            }
        }
        let Some(Value::Array(tests)) = table.get_mut("tests") else { return Ok(()) };
        for (index, test) in tests.iter_mut().enumerate() {
            let Value::Table(test) = test else { continue };
            let plan = &self.plan.tests[index];
            // Built before the test's packages, never run: nothing of them is needed.
            test.remove("dependency_package_paths");
            if let Some(Value::Table(runtime)) = test.get_mut("runtime") {
                self.runtime(runtime, release).await?;
            }
            if let Some(Value::Table(sandbox)) = test.get_mut("sandbox") {
                self.sandbox_dirs(sandbox)?;
            }
            if let Some(Value::Array(paths)) = test.get_mut("test_package_paths") {
                for path in paths {
                    self.package_value(path, &plan.test_packages)?;
                }
            }
            if let Some(Value::Array(setups)) = test.get_mut("setup_packages") {
                let packages: Vec<PackageRef> = plan.setup_packages.iter().map(|s| s.package.clone()).collect();
                for setup in setups {
                    if let Value::Table(setup) = setup
                        && let Some(path) = setup.get_mut("path")
                    {
                        self.package_value(path, &packages)?;
                    }
                }
            }
            for key in ["setup_scripts", "test_scripts"] {
                let Some(Value::Array(scripts)) = test.get_mut(key) else { continue };
                for script in scripts {
                    let path = match script {
                        Value::Table(script) => script.get_mut("path"),
                        other => Some(other),
                    };
                    if let Some(path) = path {
                        self.path_value(path, key, false)?;
                    }
                }
            }
            if let Some(Value::Array(nodes)) = test.get_mut("nodes") {
                for node in nodes {
                    if let Value::Table(node) = node
                        && let Some(home) = node.get_mut("home")
                    {
                        self.path_value(home, "tests.nodes.home", true)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `runtime`: a `RepoPath` becomes the `Path` of its built executable; a relative
    /// `Path` is archived; a `Command` stays.
    async fn runtime(&mut self, runtime: &mut Table, release: bool) -> Result<()> {
        if let Some(Value::String(raw)) = runtime.remove("RepoPath") {
            let bin = runtime.remove("bin").and_then(|v| v.as_str().map(String::from));
            let program = Program::Cargo { dir: config::resolve(&self.plan.base_dir, &raw), bin, release };
            let exe = match self.prepared.runtime_if_built(&program) {
                Some(exe) => exe.clone(),
                None => {
                    let builds = self.sandbox.cache_dir().map_or_else(|| std::env::temp_dir().join("host-builds"), Path::to_path_buf);
                    crate::build::runtime(&program, &builds).await.with_context(|| format!("runtime.RepoPath {raw:?}"))?
                }
            };
            let archived = match self.executables.get(&exe) {
                Some(archived) => archived.clone(),
                None => {
                    let name = exe.file_name().context("a built runtime has a file name")?.to_string_lossy().into_owned();
                    let archived = format!("bin/{}/{name}", self.executables.len() + 1);
                    self.add(archived.clone(), Source::File(exe.clone()), true)?;
                    self.executables.insert(exe, archived.clone());
                    archived
                }
            };
            runtime.insert("Path".into(), Value::String(format!("../{archived}")));
        } else if let Some(path) = runtime.get_mut("Path") {
            self.path_value(path, "runtime.Path", false)?;
        }
        Ok(())
    }

    /// `sandbox.data_dir`: the directory and everything in it.
    fn sandbox_dirs(&mut self, sandbox: &mut Table) -> Result<()> {
        if let Some(dir) = sandbox.get_mut("data_dir") {
            self.path_value(dir, "sandbox.data_dir", false)?;
        }
        Ok(())
    }

    /// A package path becomes its component in the archive (compiled form included).
    fn package_value(&mut self, value: &mut Value, packages: &[PackageRef]) -> Result<()> {
        let Value::String(raw) = value else { return Ok(()) };
        let resolved = config::resolve(&self.plan.base_dir, raw);
        let package = packages.iter().find(|p| p.path == resolved).with_context(|| format!("package {raw:?} is not in the plan"))?;
        let loaded = self.prepared.package(package);
        let archived = match self.components.get(&loaded.path) {
            Some(archived) => archived.clone(),
            None => {
                let archived = format!("packages/{}/{}.wasm", self.components.len() + 1, package.name);
                self.add(archived.clone(), Source::File(loaded.path.clone()), false)?;
                let (entry, compiled) = self.sandbox.precompiled(&loaded.path)?;
                self.add(format!("cache/{entry}"), Source::Bytes(compiled), false)?;
                self.packages.push(ArchivedPackage { name: package.name.clone(), path: archived.clone(), cases: loaded.cases.to_vec() });
                self.components.insert(loaded.path.clone(), archived.clone());
                archived
            }
        };
        *value = Value::String(format!("../{archived}"));
        Ok(())
    }

    /// A file or directory path of tests.toml: archived (with what is in it) and pointed
    /// at, unless it is absolute and outside the suite's directory (kept as it is). With
    /// `may_be_missing` (a node home the host creates), a missing path is only pointed at.
    fn path_value(&mut self, value: &mut Value, key: &str, may_be_missing: bool) -> Result<()> {
        let Value::String(raw) = value else { return Ok(()) };
        let resolved = config::resolve(&self.plan.base_dir, raw);
        let (archived, pointed) = match resolved.strip_prefix(&self.plan.base_dir) {
            Ok(relative) if relative.as_os_str().is_empty() => bail!("{key} {raw:?}: the suite's own directory cannot be archived as one of its files"),
            Ok(relative) => (format!("{PROJECT_DIR}/{}", relative.display()), relative.display().to_string()),
            Err(_) if Path::new(raw.as_str()).is_absolute() || raw.starts_with("~/") => return Ok(()),
            Err(_) => {
                self.outside += 1;
                let name = resolved.file_name().with_context(|| format!("{key} {raw:?}: names no file"))?.to_string_lossy().into_owned();
                let archived = format!("outside/{}/{name}", self.outside);
                (archived.clone(), format!("../{archived}"))
            }
        };
        if resolved.is_dir() {
            self.add_tree(&archived, &resolved).with_context(|| format!("{key} {raw:?}"))?;
        } else if resolved.is_file() {
            let executable = std::fs::metadata(&resolved)?.permissions().mode() & 0o111 != 0;
            self.add(archived, Source::File(resolved.clone()), executable)?;
        } else if !may_be_missing {
            bail!("{key} {raw:?}: no such file or directory: {}", resolved.display());
        }
        *value = Value::String(pointed);
        Ok(())
    }

    /// `dir` and everything in it (links followed), at `archived`.
    fn add_tree(&mut self, archived: &str, dir: &Path) -> Result<()> {
        for entry in walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name() {
            let entry = entry?;
            let relative = entry.path().strip_prefix(dir).expect("walkdir stays below its root");
            let name = if relative.as_os_str().is_empty() { archived.to_string() } else { format!("{archived}/{}", relative.display()) };
            if entry.file_type().is_dir() {
                self.add(name, Source::Directory, false)?;
            } else if entry.file_type().is_file() {
                let executable = entry.metadata()?.permissions().mode() & 0o111 != 0;
                self.add(name, Source::File(entry.path().to_path_buf()), executable)?;
            } else {
                bail!("{}: neither a file nor a directory; an archive holds only those", entry.path().display());
            }
        }
        Ok(())
    }

    fn add(&mut self, name: String, source: Source, executable: bool) -> Result<()> {
        if name.contains(['\n', '\r']) || name.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            bail!("{name:?} cannot be a path inside an archive");
        }
        if let Some(existing) = self.members.get(&name) {
            let same = matches!((&existing.source, &source), (Source::File(a), Source::File(b)) if a == b)
                || matches!((&existing.source, &source), (Source::Directory, Source::Directory));
            if !same {
                bail!("two different files would be {name} in the archive");
            }
            return Ok(());
        }
        self.members.insert(name, Member { source, executable });
        Ok(())
    }
}
