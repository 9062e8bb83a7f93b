//! Before any node boots: build every package and runtime the plan needs, compile and
//! load every package. Problems here are reported before anything starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::build;
use crate::config::{PackageRef, Plan, Program};
use crate::events::{Event, EventBus};
use crate::sandbox::{Package, Sandbox};

/// Everything built and loaded for a plan.
pub struct Prepared {
    packages: HashMap<PackageRef, Package>,
    runtimes: HashMap<Program, PathBuf>,
}

impl Prepared {
    /// The loaded form of `package` (prepared for the same plan).
    pub fn package(&self, package: &PackageRef) -> &Package {
        &self.packages[package]
    }

    /// The docs 0.2 packages gave their cases, by (package, case): only cases that have one.
    pub fn case_docs(&self) -> HashMap<(String, String), String> {
        let mut docs = HashMap::new();
        for package in self.packages.values() {
            for (index, case) in package.cases.iter().enumerate() {
                if let Some(doc) = package.doc(index) {
                    docs.insert((package.name.clone(), case.clone()), doc.to_string());
                }
            }
        }
        docs
    }

    /// Every loaded package's name and cases, for selection.
    pub fn index(&self) -> crate::suite::SuiteIndex {
        let mut index = crate::suite::SuiteIndex::default();
        for (package, loaded) in &self.packages {
            index.insert(package.clone(), loaded.name.clone(), loaded.cases.clone());
        }
        index
    }

    /// The executable of `program`, if it was built (`host list` builds no runtime).
    pub fn runtime_if_built(&self, program: &Program) -> Option<&PathBuf> {
        self.runtimes.get(program)
    }

    /// The executable of `program` (prepared for the same plan).
    pub fn runtime(&self, program: &Program) -> &PathBuf {
        &self.runtimes[program]
    }
}

/// Case names known without asking the packages: component file → its cases (what an
/// archive recorded of `list-cases`).
pub type Listed = HashMap<PathBuf, Arc<[String]>>;

/// Build and load what `plan` needs. With `with_runtimes` false (for `host list`) node
/// runtimes are not built; a package whose component file `listed` names is not asked
/// for its cases. A failure is also told to the reporters
/// (`PreparationFailed`), which take down their live progress before the error is printed.
pub async fn prepare(plan: &Plan, sandbox: &Sandbox, bus: &EventBus, with_runtimes: bool, listed: &Listed) -> Result<Prepared> {
    let prepared = build_and_load(plan, sandbox, bus, with_runtimes, listed).await;
    if let Err(error) = &prepared {
        bus.emit(Event::PreparationFailed { message: format!("{error:#}") });
    }
    prepared
}

async fn build_and_load(plan: &Plan, sandbox: &Sandbox, bus: &EventBus, with_runtimes: bool, listed: &Listed) -> Result<Prepared> {
    let mut prepared = Prepared { packages: HashMap::new(), runtimes: HashMap::new() };
    // Declared builds are cached next to compiled components (or in the temp dir).
    let builds = sandbox.cache_dir().map_or_else(|| std::env::temp_dir().join("host-builds"), Path::to_path_buf);
    // Build every source package (one at a time: cargo serialises on its target dir anyway)…
    let mut built: Vec<(String, &PackageRef, PathBuf)> = Vec::new();
    for test in &plan.tests {
        // Dependencies first, as kit does: they must build, but are never run.
        for dependency in &test.dependency_packages {
            let building = announce(bus, dependency, &builds);
            build::package(dependency, &builds).await.with_context(|| format!("test {}: dependency package {}", test.name, dependency.name))?;
            built_event(bus, dependency, building);
        }
        let runnable = test.setup_packages.iter().map(|setup| &setup.package).chain(&test.test_packages);
        for package in runnable {
            if built.iter().any(|(_, done, _)| *done == package) {
                continue;
            }
            let building = announce(bus, package, &builds);
            let wasm = build::package(package, &builds).await.with_context(|| format!("test {}: package {}", test.name, package.name))?;
            built_event(bus, package, building);
            built.push((test.name.clone(), package, wasm));
        }
    }
    // …then compile and load them all at once.
    let loads = built.iter().map(|(test, package, wasm)| async move {
        sandbox.load(&package.name, wasm, listed.get(wasm).cloned(), bus).await.with_context(|| format!("test {test}: package {}", package.name))
    });
    for ((test, package, _), loaded) in built.iter().zip(futures::future::join_all(loads).await) {
        let loaded = loaded?;
        // Case ids are `test/package/case`: a name listed twice would be counted and
        // reported as one case, or overwrite the other's result.
        let mut seen = std::collections::HashSet::new();
        if let Some(case) = loaded.package.cases.iter().find(|case| !seen.insert(case.as_str())) {
            anyhow::bail!(
                "test {test}: package {} ({}) lists case {case:?} more than once; case names must be unique within a package",
                package.name,
                package.path.display()
            );
        }
        if let Some(message) = loaded.warning {
            bus.emit(Event::Warning { message });
        }
        prepared.packages.insert((*package).clone(), loaded.package);
    }
    if with_runtimes {
        for test in &plan.tests {
            for node in &test.nodes {
                let program = &node.runtime.program;
                if !prepared.runtimes.contains_key(program) {
                    let exe = build::runtime(program, &builds).await.with_context(|| format!("test {}: runtime of node {}", test.name, node.name))?;
                    prepared.runtimes.insert(program.clone(), exe);
                }
            }
        }
    }
    Ok(prepared)
}

/// Say that `package` is being built, and why — only when it is (a warm run is silent);
/// returns when the build started, if it was announced.
fn announce(bus: &EventBus, package: &PackageRef, cache: &Path) -> Option<Instant> {
    let reason = build::stale_reason(package, cache)?;
    bus.emit(Event::PackageBuilding { package: package.name.clone(), path: package.path.display().to_string(), reason });
    Some(Instant::now())
}

/// Say that the build [`announce`] announced is over.
fn built_event(bus: &EventBus, package: &PackageRef, started: Option<Instant>) {
    if let Some(started) = started {
        bus.emit(Event::PackageBuilt { package: package.name.clone(), took: started.elapsed() });
    }
}
